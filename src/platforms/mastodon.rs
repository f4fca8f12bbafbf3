//! Mastodon and servers speaking its client API (Hometown, glitch-soc, GoToSocial, …), on
//! any host.
//!
//! # URL forms
//!
//! Because any host may run Mastodon, only path shapes that are unambiguous are taken;
//! everything else is left to `web`:
//!
//! | form | target |
//! | --- | --- |
//! | `https://<host>/@<user>/<digits>`, `/@<user>@<remote>/<digits>` (id local to `<host>`) | post |
//! | `https://<host>/users/<user>/statuses/<digits>` (the ActivityPub `uri`) | post |
//! | `https://<host>/api/v1/statuses/<digits>` | post |
//! | `https://<host>/@<user>` on the well-known hosts of [`Mastodon::hosts`] only | account |
//!
//! A post's id is `mastodon:<host>/<id>`, the id being the one `<host>` gives the status.
//!
//! # Endpoints (anonymous)
//!
//! - `GET https://<host>/api/v1/statuses/<id>`: the Status entity (capture and check).
//! - `GET https://<host>/api/v1/statuses/<id>/history`: the edit history, asked at capture
//!   when `edited_at` is set.
//! - `GET https://<host>/api/v1/accounts/lookup?acct=<user>` then
//!   `GET https://<host>/api/v1/accounts/<id>/statuses?limit=40[&max_id=<id>]`: an account's
//!   timeline; the cursor is `<account id>:<max_id>`.
//!
//! # Verdicts
//!
//! Only JSON answers in Mastodon's own shape conclude anything: 404 and 410
//! (`{"error":"Record not found"}`) → deleted, cause unknown (deleted and private look the
//! same); 401 (`This API requires an authenticated user`, authorized-fetch or whitelist
//! mode) and 403 → restricted; an account with `"suspended": true`, or an error naming a
//! suspension → account gone (platform). 429, 5xx, HTML pages (a host that is not
//! Mastodon, a proxy, a WAF) and network failures → unreachable. Words count only in an
//! error answer's `error` (and `error_description`); a live status is a post whatever its
//! content, content warning, author or card say.
//!
//! # Replies
//!
//! `GET https://<host>/api/v1/statuses/<id>/context` (`comments_plan`): its `descendants`
//! are the replies, each a full Status read like a post (`mastodon:<host>/<reply id>`), in
//! the order the server lists them (`tree`: depth first, a reply before its own replies).
//! `thread.reply_to` is the reply's `in_reply_to_id` (as `mastodon:<host>/<id>`) unless it
//! is the post itself (`kind` comment, else reply). The context is one answer: there is no
//! further page (`more` is empty), and Mastodon names no reply as gone (a deleted reply is
//! simply not listed, which concludes nothing).
//!
//! Any answer but a 200 with the context's JSON is `unreachable`, with Mastodon's words when
//! it gave some: a 404/410 says the post itself is gone, which is the post check's verdict,
//! not the conversation's; 401/403 say the replies are not public (authorized-fetch or
//! whitelist mode); 429, 5xx, HTML and network failures say nothing. A 200 without a
//! `descendants` list, or with a descendant that is not a Status, is `broken`.
//!
//! Without login, only public and unlisted replies the server knows are listed: replies
//! on other servers that never reached this one are missing, and current Mastodon versions
//! cap what an anonymous reader gets (the deepest or latest replies of a long thread may be
//! left out). Followers-only and direct replies are never listed.
//!
//! # Without login
//!
//! Followers-only and direct posts, and every post on a server in authorized-fetch /
//! whitelist mode (401), cannot be read. Remote copies may outlive a deletion on the
//! origin: re-check the origin server's URL.

use super::kit::{Json, broken, gone, json_answer, str_of, unreachable};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::{html_to_text, sanitize_html, to_rfc3339};
use crate::model::{
    Author, Cause, Counts, Gone, Media, MediaKind, Outcome, Post, PostId, Thread, ThreadKind,
};
use serde_json::{Value, json};
use url::Url;

pub struct Mastodon;

const JSON_ACCEPT: &str = "application/json";
/// Hosts where `/@user` is taken as a Mastodon account.
const KNOWN_HOSTS: &[&str] = &[
    "mastodon.social",
    "mastodon.online",
    "mstdn.social",
    "fosstodon.org",
    "hachyderm.io",
    "infosec.exchange",
    "mas.to",
    "chaos.social",
];

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 30 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_user(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
}

/// The host part of a URL, lower-cased, with a port when it is not the default one.
fn host_of(url: &Url) -> Option<String> {
    let h = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{h}:{p}"),
        None => h,
    })
}

fn scheme_for(_host: &str) -> &'static str {
    "https"
}

/// `https://<host>/api/v1/statuses/<id>`.
pub fn status_api_url(host: &str, id: &str) -> String {
    format!("{}://{host}/api/v1/statuses/{id}", scheme_for(host))
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = host_of(url)?;
    let segs = crate::platforms::kit::segments(url);
    let post = |id: &str| {
        Some(Target::Post {
            platform_id: format!("{host}/{id}"),
            url: url_without_fragment(url),
        })
    };
    match segs.as_slice() {
        [user, id] if user.starts_with('@') && is_user(&user[1..]) && is_digits(id) => post(id),
        ["users", user, "statuses", id] if is_user(user) && is_digits(id) => post(id),
        ["api", "v1", "statuses", id] if is_digits(id) => post(id),
        [user]
            if user.starts_with('@')
                && is_user(&user[1..])
                && !user[1..].contains('@')
                && KNOWN_HOSTS.contains(&host.as_str()) =>
        {
            Some(Target::Account {
                account_id: format!("{host}/{}", &user[1..]),
                url: format!("https://{host}/{user}"),
            })
        }
        _ => None,
    }
}

fn url_without_fragment(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.to_string()
}

// ---------------------------------------------------------------------------------------
// Status -> Post

fn author_of(a: &Value, host: &str) -> Author {
    let username = str_of(a.get("username"));
    let acct = str_of(a.get("acct")).or_else(|| username.clone());
    Author {
        id: str_of(a.get("id")),
        name: str_of(a.get("display_name")).or(username),
        handle: acct.map(|acct| {
            if acct.contains('@') {
                acct
            } else {
                format!("{acct}@{}", host.split(':').next().unwrap_or(host))
            }
        }),
        url: str_of(a.get("url")),
    }
}

fn media_of(m: &Value) -> Option<Media> {
    let url = str_of(m.get("url")).or_else(|| str_of(m.get("remote_url")))?;
    let kind = match m.get("type").and_then(Value::as_str).unwrap_or("") {
        "image" => MediaKind::Image,
        "video" => MediaKind::Video,
        "gifv" => MediaKind::Gif,
        "audio" => MediaKind::Audio,
        _ => MediaKind::File,
    };
    let mut media = Media::new(kind, url);
    media.alt = str_of(m.get("description"));
    Some(media)
}

fn counts_of(s: &Value) -> Option<Counts> {
    let n = |k: &str| s.get(k).and_then(Value::as_u64);
    if s.get("replies_count").is_none() && s.get("reblogs_count").is_none() {
        return None;
    }
    let mut c = Counts {
        reposts: n("reblogs_count"),
        comments: n("replies_count"),
        likes: n("favourites_count"),
        ..Counts::default()
    };
    if let Some(q) = s.get("quotes_count").filter(|v| !v.is_null()) {
        c.raw.insert("quotes".into(), q.clone());
    }
    Some(c)
}

/// The parent of a reply, as far as the status tells: its id, and its author when the
/// status mentions them.
fn reply_stub(s: &Value, host: &str) -> Option<Post> {
    let parent = str_of(s.get("in_reply_to_id"))?;
    let parent_account = str_of(s.get("in_reply_to_account_id"));
    let mention = s.get("mentions").and_then(Value::as_array).and_then(|ms| {
        ms.iter()
            .find(|m| str_of(m.get("id")).is_some() && str_of(m.get("id")) == parent_account)
    });
    let own = s
        .get("account")
        .filter(|_| parent_account.is_some() && str_of(s.pointer("/account/id")) == parent_account);
    let who = mention.or(own);
    let url = match who.and_then(|m| str_of(m.get("acct"))) {
        Some(acct) => format!("https://{host}/@{acct}/{parent}"),
        None => status_api_url(host, &parent),
    };
    let mut p = Post::new("mastodon", &format!("{host}/{parent}"), &url);
    p.author = Some(match who {
        Some(m) => {
            let mut a = author_of(m, host);
            a.id = parent_account.clone();
            a
        }
        None => Author {
            id: parent_account,
            ..Author::default()
        },
    });
    Some(p)
}

/// Reads one Status entity. `host` is the server it was asked from (ids are local to it).
/// `Err(field)` names the first missing essential field.
pub fn parse_status(s: &Value, host: &str) -> Result<Post, String> {
    if !s.is_object() {
        return Err("status".into());
    }
    let id = str_of(s.get("id")).ok_or("id")?;
    let Some(account) = s.get("account").filter(|a| a.is_object()) else {
        return Err("account".into());
    };
    let uri = str_of(s.get("uri"));
    let url = str_of(s.get("url"))
        .or_else(|| uri.clone())
        .unwrap_or_else(|| status_api_url(host, &id));
    let mut post = Post::new("mastodon", &format!("{host}/{id}"), &url);
    if let Some(u) = uri.filter(|u| *u != url) {
        post.alt_urls.push(u);
    }
    post.author = Some(author_of(account, host));
    let base = Url::parse(&format!("https://{host}/")).map_err(|_| String::from("host"))?;
    if let Some(content) = s.get("content").and_then(Value::as_str) {
        post.html = Some(sanitize_html(content, &base));
        post.text = Some(html_to_text(content));
    }
    if let Some(raw) = str_of(s.get("created_at")) {
        post.created_at = to_rfc3339(&raw);
        post.created_at_raw = Some(raw);
    }
    post.media = s
        .get("media_attachments")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(media_of).collect())
        .unwrap_or_default();
    post.counts = counts_of(s);
    for key in [
        "edited_at",
        "spoiler_text",
        "visibility",
        "language",
        "sensitive",
        "poll",
        "in_reply_to_account_id",
    ] {
        if let Some(v) = s
            .get(key)
            .filter(|v| !v.is_null() && **v != "" && **v != false)
        {
            post.extra.insert(key.into(), v.clone());
        }
    }
    if let Some(card) = s.get("card").filter(|c| c.is_object()) {
        post.extra.insert(
            "card".into(),
            json!({"url": card.get("url"), "title": card.get("title"), "description": card.get("description")}),
        );
    }
    if let Some(tags) = s
        .get("tags")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
    {
        let names: Vec<Value> = tags.iter().filter_map(|t| t.get("name").cloned()).collect();
        post.extra.insert("tags".into(), Value::Array(names));
    }
    if let Some(r) = s.get("reblog").filter(|r| r.is_object()) {
        post.repost_of = Some(Box::new(
            parse_status(r, host).map_err(|f| format!("reblog.{f}"))?,
        ));
    }
    match s.get("quote") {
        Some(q) if q.get("state").is_some() => {
            let state = q.get("state").and_then(Value::as_str).unwrap_or("");
            if state != "accepted" {
                post.extra.insert("quote_state".into(), json!(state));
            }
            if let Some(qs) = q.get("quoted_status").filter(|v| v.is_object()) {
                post.quote_of = Some(Box::new(
                    parse_status(qs, host).map_err(|f| format!("quote.quoted_status.{f}"))?,
                ));
            } else if let Some(qid) = str_of(q.get("quoted_status_id")) {
                post.quote_of = Some(Box::new(Post::new(
                    "mastodon",
                    &format!("{host}/{qid}"),
                    &status_api_url(host, &qid),
                )));
            }
        }
        // Older forks (Fedibird, glitch) put the quoted Status itself in `quote`.
        Some(q) if q.get("content").is_some() => {
            post.quote_of = Some(Box::new(
                parse_status(q, host).map_err(|f| format!("quote.{f}"))?,
            ));
        }
        _ => {}
    }
    post.reply_to = reply_stub(s, host).map(Box::new);
    Ok(post)
}

// ---------------------------------------------------------------------------------------
// Answers

/// How the API answered.
enum Api {
    Json(Value),
    Verdict(Finding),
}

/// The JSON `error` of a Mastodon error answer.
fn error_text(v: &Value) -> Option<String> {
    str_of(v.get("error")).map(|e| match str_of(v.get("error_description")) {
        Some(d) => format!("{e}: {d}"),
        None => e,
    })
}

fn mentions_suspension(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("suspended") || s.contains("account is gone")
}

/// Reads one API answer: the JSON of a 2xx, or the verdict of anything else.
fn read_api(answer: &Fetched, endpoint: &str) -> Api {
    let (r, json) = match json_answer(answer, endpoint) {
        Ok(read) => read,
        Err(f) => return Api::Verdict(f),
    };
    let err = json.as_ref().and_then(error_text);
    let status = r.status;
    if (200..300).contains(&status) {
        return match json {
            Some(v) => Api::Json(v),
            None => Api::Verdict(unreachable(format!(
                "{endpoint}: not a Mastodon API answer (HTTP {status}, {})",
                r.mime()
            ))),
        };
    }
    // Only Mastodon's own error shape is a verdict: an HTML 404 may be any other site.
    let Some(err) = err else {
        return Api::Verdict(unreachable(format!(
            "{endpoint}: HTTP {status} without a Mastodon error ({})",
            r.mime()
        )));
    };
    let msg = format!("HTTP {status}: {err}");
    Api::Verdict(match status {
        404 | 410 | 401 | 403 if mentions_suspension(&err) => {
            gone(Outcome::AccountGone, Some(Cause::Platform), msg)
        }
        404 | 410 => gone(Outcome::Deleted, Some(Cause::Unknown), msg),
        401 | 403 => gone(Outcome::Restricted, None, msg),
        _ => unreachable(msg),
    })
}

/// A GET of an API URL, or the finding that says the target makes no URL.
fn api_request(url: &str, purpose: &'static str) -> Result<Request, Finding> {
    let u = Url::parse(url).map_err(|e| broken(purpose, format!("a URL ({e})")))?;
    Ok(Request::get(u, purpose).header("Accept", JSON_ACCEPT))
}

/// Asks `url`; `plan` reads the answer.
fn ask(url: &str, purpose: &'static str, plan: impl Plan + 'static) -> Step {
    match api_request(url, purpose) {
        Ok(req) => Step::fetch(req, plan),
        Err(f) => Step::Done(f),
    }
}

fn suspended(account: Option<&Value>) -> bool {
    account
        .and_then(|a| a.get("suspended"))
        .and_then(Value::as_bool)
        == Some(true)
}

// ---------------------------------------------------------------------------------------
// Post plan

/// Reads `statuses/:id`.
struct StatusPlan {
    host: String,
    id: String,
    job: Job,
}

fn post_plan(host: String, id: String, job: Job) -> Step {
    let url = status_api_url(&host, &id);
    ask(&url, "statuses/:id", StatusPlan { host, id, job })
}

/// The edit history (`[StatusEdit]`, oldest first) as `{created_at, text}` items.
fn history_items(v: &Value) -> Option<Vec<Value>> {
    let a = v.as_array()?;
    Some(
        a.iter()
            .map(|e| {
                json!({
                    "created_at": e.get("created_at"),
                    "text": e.get("content").and_then(Value::as_str).map(html_to_text),
                    "spoiler_text": e.get("spoiler_text"),
                })
            })
            .collect(),
    )
}

impl Plan for StatusPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, "statuses/:id") {
            Api::Json(v) => v,
            Api::Verdict(f) => return Step::Done(f),
        };
        if suspended(v.get("account")) {
            return Step::Done(gone(
                Outcome::AccountGone,
                Some(Cause::Platform),
                "account suspended (\"suspended\": true)",
            ));
        }
        match parse_status(&v, &self.host) {
            Ok(p) => {
                if self.job == Job::Capture && p.extra.contains_key("edited_at") {
                    let url = format!("{}/history", status_api_url(&self.host, &self.id));
                    return match api_request(&url, "statuses/:id/history") {
                        Ok(req) => Step::fetch(req, HistoryPlan { post: Box::new(p) }),
                        // The history is a bonus: without it the post is as it is.
                        Err(_) => Step::Done(Finding::Post(Box::new(p))),
                    };
                }
                Step::Done(Finding::Post(Box::new(p)))
            }
            Err(field) => Step::Done(broken("statuses/:id", field)),
        }
    }
}

/// Reads the edit history of a post already read.
struct HistoryPlan {
    post: Box<Post>,
}

impl Plan for HistoryPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let mut p = self.post;
        // The history is a bonus: a failed answer leaves the post as it is.
        if let Api::Json(v) = read_api(&answer, "statuses/:id/history")
            && let Some(items) = history_items(&v)
        {
            p.extra.insert("edit_history".into(), Value::Array(items));
        }
        Step::Done(Finding::Post(p))
    }
}

// ---------------------------------------------------------------------------------------
// Timeline plan

/// An account's statuses: its id looked up first unless the cursor carries it.
fn timeline_plan(
    host: String,
    acct: String,
    account_id: Option<String>,
    max_id: Option<String>,
) -> Step {
    if let Some(id) = account_id {
        return statuses_step(host, id, max_id);
    }
    let mut url = match Url::parse(&format!(
        "{}://{}/api/v1/accounts/lookup",
        scheme_for(&host),
        host
    )) {
        Ok(u) => u,
        Err(e) => return Step::Done(broken("accounts/lookup", format!("a URL ({e})"))),
    };
    url.query_pairs_mut().append_pair("acct", &acct);
    let req = Request::get(url, "accounts/lookup").header("Accept", JSON_ACCEPT);
    Step::fetch(req, LookupPlan { host, max_id })
}

fn statuses_step(host: String, account_id: String, max_id: Option<String>) -> Step {
    let mut url = format!(
        "{}://{}/api/v1/accounts/{account_id}/statuses?limit=40",
        scheme_for(&host),
        host
    );
    if let Some(m) = &max_id {
        url.push_str(&format!("&max_id={m}"));
    }
    ask(
        &url,
        "accounts/:id/statuses",
        StatusesPlan { host, account_id },
    )
}

/// Reads `accounts/lookup`.
struct LookupPlan {
    host: String,
    max_id: Option<String>,
}

impl Plan for LookupPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        match read_api(&answer, "accounts/lookup") {
            Api::Json(v) => {
                if suspended(Some(&v)) {
                    return Step::Done(gone(
                        Outcome::AccountGone,
                        Some(Cause::Platform),
                        "account suspended (\"suspended\": true)",
                    ));
                }
                let v = Json::new("accounts/lookup", &v);
                match v.str("id") {
                    Some(id) => statuses_step(self.host, id, self.max_id),
                    None => Step::Done(v.broken("id")),
                }
            }
            Api::Verdict(Finding::Gone(g)) if g.outcome == Outcome::Deleted => {
                Step::Done(Finding::Gone(Gone {
                    outcome: Outcome::AccountGone,
                    ..g
                }))
            }
            Api::Verdict(f) => Step::Done(f),
        }
    }
}

/// The `max_id` of a `Link: <…?max_id=N>; rel="next"` header.
fn link_next_max_id(link: &str) -> Option<String> {
    for part in link.split(',') {
        let (target, params) = part.split_once(';')?;
        if !params.contains("rel=\"next\"") && !params.contains("rel=next") {
            continue;
        }
        let u = target.trim().trim_start_matches('<').trim_end_matches('>');
        let u = Url::parse(u).ok()?;
        return u
            .query_pairs()
            .find(|(k, _)| k == "max_id")
            .map(|(_, v)| v.into_owned());
    }
    None
}

/// Reads one page of `accounts/:id/statuses`: the posts, and the `max_id` of the next page.
pub fn read_timeline(
    v: &Value,
    host: &str,
    link: Option<&str>,
) -> Result<(Vec<Post>, Option<String>), String> {
    let arr = v.as_array().ok_or("[]")?;
    let mut posts = Vec::new();
    for s in arr {
        posts.push(parse_status(s, host).map_err(|f| format!("[].{f}"))?);
    }
    let next = if posts.is_empty() {
        None
    } else {
        link.and_then(link_next_max_id)
            .or_else(|| arr.last().and_then(|s| str_of(s.get("id"))))
    };
    Ok((posts, next))
}

/// Reads one page of an account's statuses.
struct StatusesPlan {
    host: String,
    account_id: String,
}

impl Plan for StatusesPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let link = match &answer {
            Fetched::Response(r) => r.header("link").map(str::to_string),
            Fetched::Failed(_) => None,
        };
        Step::Done(match read_api(&answer, "accounts/:id/statuses") {
            Api::Json(v) => match read_timeline(&v, &self.host, link.as_deref()) {
                Ok((posts, next)) => Finding::Timeline {
                    posts,
                    next_cursor: next.map(|m| format!("{}:{m}", self.account_id)),
                },
                Err(missing) => broken("accounts/:id/statuses", missing),
            },
            Api::Verdict(f) => f,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Comments plan (replies)

const CONTEXT: &str = "statuses/:id/context";

/// Reads `statuses/:id/context` of the post `id` on `host`.
struct ContextPlan {
    host: String,
    id: String,
}

/// Reads a context's `descendants` as the replies to the post `id` on `host`, each with its
/// place in the thread. `Err(field)` names the first missing essential field.
pub fn read_context(v: &Value, host: &str, id: &str) -> Result<CommentPage, String> {
    let descendants = v
        .get("descendants")
        .and_then(Value::as_array)
        .ok_or("descendants")?;
    let thread_of = PostId::new("mastodon", &format!("{host}/{id}"));
    let mut page = CommentPage::default();
    for s in descendants {
        let mut p = parse_status(s, host).map_err(|f| format!("descendants[].{f}"))?;
        // Every descendant answers something: without a parent it has no place here.
        let parent = str_of(s.get("in_reply_to_id")).ok_or("descendants[].in_reply_to_id")?;
        let (reply_to, kind) = if parent == id {
            (None, ThreadKind::Comment)
        } else {
            let to = PostId::new("mastodon", &format!("{host}/{parent}"));
            (Some(to), ThreadKind::Reply)
        };
        p.thread = Some(Thread {
            thread_of: thread_of.clone(),
            reply_to,
            kind,
            order: "tree".into(),
        });
        page.comments.push(p);
    }
    Ok(page)
}

impl Plan for ContextPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let (r, json) = match json_answer(&answer, CONTEXT) {
            Ok(read) => read,
            Err(f) => return Step::Done(f),
        };
        let status = r.status;
        let Some(v) = json.as_ref().filter(|_| status == 200) else {
            // Whatever the post's own state, a failed context read says nothing about the
            // replies: the words are kept, the verdict is the post check's business.
            let words = match json.as_ref().and_then(error_text) {
                Some(err) if matches!(status, 401 | 403) => {
                    format!("{CONTEXT}: HTTP {status}: {err} (replies not public)")
                }
                Some(err) => format!("{CONTEXT}: HTTP {status}: {err}"),
                None => format!(
                    "{CONTEXT}: HTTP {status}, not a Mastodon API answer ({})",
                    r.mime()
                ),
            };
            return Step::Done(unreachable(words));
        };
        Step::Done(match read_context(v, &self.host, &self.id) {
            Ok(page) => Finding::Comments(page),
            Err(missing) => broken(CONTEXT, missing),
        })
    }
}

// ---------------------------------------------------------------------------------------

/// `(host, id)` of a post target (`<host>/<id>`, or its URL).
fn split_target(target: &Target) -> Option<(String, String)> {
    if let Target::Post { platform_id, url } = target {
        if let Some((h, id)) = platform_id.rsplit_once('/')
            && is_digits(id)
            && !h.is_empty()
        {
            return Some((h.to_string(), id.to_string()));
        }
        if let Ok(u) = Url::parse(url)
            && let Some(Target::Post { platform_id, .. }) = recognise_url(&u)
            && let Some((h, id)) = platform_id.rsplit_once('/')
        {
            return Some((h.to_string(), id.to_string()));
        }
    }
    None
}

impl Platform for Mastodon {
    fn name(&self) -> &'static str {
        "mastodon"
    }
    fn hosts(&self) -> &'static [&'static str] {
        KNOWN_HOSTS
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, job: Job, _ctx: &PlanContext) -> Step {
        let (host, id) = split_target(target).unwrap_or_default();
        post_plan(host, id, job)
    }
    fn timeline_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Account { account_id, .. } = target else {
            return None;
        };
        let (host, acct) = account_id.split_once('/')?;
        let (account_id, max_id) = match cursor.and_then(|c| c.split_once(':')) {
            Some((id, max)) if is_digits(id) && is_digits(max) => {
                (Some(id.to_string()), Some(max.to_string()))
            }
            _ => (None, None),
        };
        Some(timeline_plan(
            host.to_string(),
            acct.trim_start_matches('@').to_string(),
            account_id,
            max_id,
        ))
    }
    /// The replies to a post: one page, so no cursor is ever handed out.
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let (host, id) = split_target(target)?;
        if let Some(c) = cursor {
            let missing = format!("a cursor Mastodon hands out (it hands out none, not {c:?})");
            return Some(Step::Done(broken(CONTEXT, missing)));
        }
        let url = format!("{}/context", status_api_url(&host, &id));
        Some(ask(&url, CONTEXT, ContextPlan { host, id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_answer_of(status: u16, body: &str) -> Fetched {
        Fetched::Response(crate::platforms::Response {
            url: Url::parse("https://mastodon.example/api/v1/statuses/112233445566778899").unwrap(),
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    /// A live status that carries every marker in its content, content warning, its
    /// author's name and bio, its card, and even an `error` field of its own is read as the
    /// post: markers count only in an error answer's `error` and in `account.suspended`.
    #[test]
    fn markers_outside_an_error_answer_never_make_a_live_status_gone() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/mastodon/status_photo.json"
        );
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let all = "Record not found. This account is suspended; the account is gone. \
                   This API requires an authenticated user. suspended: true";
        v["content"] = json!(format!("<p>{all}</p>"));
        v["spoiler_text"] = json!(all);
        v["error"] = json!(all);
        v["account"]["display_name"] = json!(all);
        v["account"]["note"] = json!(format!("<p>{all}</p>"));
        v["account"]["suspended"] = json!(false);
        v["card"] = json!({"url": "https://a.example/", "title": all, "description": all});
        let target =
            recognise_url(&Url::parse("https://mastodon.example/@ada/112233445566778899").unwrap())
                .unwrap();
        let first = Mastodon.post_plan(&target, Job::Check, &PlanContext::default());
        let body = v.to_string();
        let (f, _) = crate::platforms::testing::run(first, |_| json_answer_of(200, &body));
        match f {
            Finding::Post(p) => assert!(p.text.unwrap_or_default().contains("Record not found")),
            other => panic!("a live status read as {other:?}"),
        }
        // The same words in an error answer are read: the rule is where.
        for (status, err, outcome) in [
            (404, "Record not found", Outcome::Deleted),
            (410, "This account is suspended", Outcome::AccountGone),
            (
                401,
                "This API requires an authenticated user",
                Outcome::Restricted,
            ),
        ] {
            let body = json!({ "error": err }).to_string();
            let first = Mastodon.post_plan(&target, Job::Check, &PlanContext::default());
            let (f, _) = crate::platforms::testing::run(first, |_| json_answer_of(status, &body));
            match f {
                Finding::Gone(g) => assert_eq!(g.outcome, outcome, "{err}"),
                other => panic!("{err}: {other:?}"),
            }
        }
    }

    /// A reply whose words are an error message is a reply: words count only in an error
    /// answer, and a context read never makes a reply gone.
    #[test]
    fn a_reply_saying_record_not_found_is_a_normal_reply() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/mastodon/constructed_context_nested.json"
        );
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let words = "Record not found. This API requires an authenticated user. suspended";
        v["descendants"][1]["content"] = json!(format!("<p>{words}</p>"));
        v["descendants"][1]["spoiler_text"] = json!(words);
        v["descendants"][1]["error"] = json!(words);
        let target =
            recognise_url(&Url::parse("https://mastodon.example/@ada/112233445566778899").unwrap())
                .unwrap();
        let first = Mastodon
            .comments_plan(&target, None, &PlanContext::default())
            .unwrap();
        let body = v.to_string();
        let (f, asked) = crate::platforms::testing::run(first, |_| json_answer_of(200, &body));
        assert_eq!(
            asked[0].url.as_str(),
            "https://mastodon.example/api/v1/statuses/112233445566778899/context"
        );
        let Finding::Comments(page) = f else {
            panic!("a context read as {f:?}")
        };
        assert_eq!(page.comments.len(), 3);
        assert!(page.gone.is_empty());
        let reply = &page.comments[1];
        assert!(
            reply
                .text
                .as_deref()
                .unwrap_or("")
                .contains("Record not found")
        );
        let thread = reply.thread.as_ref().unwrap();
        assert_eq!(thread.kind, ThreadKind::Reply);
        assert_eq!(
            thread.reply_to.as_ref().map(|r| r.0.as_str()),
            Some("mastodon:mastodon.example/112233445566778950")
        );
        // A cursor Mastodon never handed out is not quietly read as the first page.
        match Mastodon.comments_plan(&target, Some("x"), &PlanContext::default()) {
            Some(Step::Done(Finding::Broken { .. })) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn link_header_next_page() {
        let link = r#"<https://m.example/api/v1/accounts/1/statuses?max_id=105>; rel="next", <https://m.example/api/v1/accounts/1/statuses?min_id=120>; rel="prev""#;
        assert_eq!(link_next_max_id(link).as_deref(), Some("105"));
        assert_eq!(
            link_next_max_id(r#"<https://m.example/x?min_id=1>; rel="prev""#),
            None
        );
    }

    #[test]
    fn status_without_account_is_broken() {
        assert_eq!(
            parse_status(&json!({"id": "1"}), "h").unwrap_err(),
            "account"
        );
        assert_eq!(parse_status(&json!([]), "h").unwrap_err(), "status");
    }

    #[test]
    fn targets_split_into_host_and_id() {
        let t = recognise_url(&Url::parse("https://a.example:8443/@x/77").unwrap()).unwrap();
        assert_eq!(
            split_target(&t),
            Some(("a.example:8443".into(), "77".into()))
        );
    }
}
