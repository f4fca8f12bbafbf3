//! Reddit posts and comments through the public `.json` endpoints.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://{www,old,new,np,m}.reddit.com/r/<sub>/comments/<id>[/<slug>]` | post `t3_<id>` |
//! | `https://{…}.reddit.com/r/<sub>/comments/<id>/<slug>/<comment id>` | comment `t1_<comment id>` |
//! | `https://www.reddit.com/comments/<id>[/…]`, `https://redd.it/<id>` | post |
//! | `https://www.reddit.com/r/<sub>/s/<code>` (share link) | follow (resolved by redirect) |
//!
//! A post's id is `reddit:t3_<id>`, a comment's `reddit:t1_<id>`.
//!
//! # Endpoints (anonymous)
//!
//! - `GET https://www.reddit.com/comments/<id>.json?raw_json=1` → `[Listing(t3),
//!   Listing(t1…)]` (a post);
//! - `GET https://www.reddit.com/comments/<id>/_/<comment>.json?raw_json=1` (a comment);
//!   when the comment is missing from that answer,
//!   `GET https://www.reddit.com/api/info.json?id=t1_<comment>&raw_json=1` tells deleted
//!   from removed.
//!
//! Media: a gallery's `media_metadata[…].s.u`, a Reddit-hosted video's
//! `media.reddit_video.fallback_url`, an image post's URL, else `preview.images[].source.url`.
//! A crosspost's parent becomes `repost_of`, a comment's parent `reply_to`.
//!
//! # Verdicts
//!
//! `author` and body both `[deleted]`, or `removed_by_category` `deleted`/`author` → deleted
//! by the author; a body that is `[removed]`, or is Reddit's whole one-line notice
//! `[ Removed by Reddit … ]`, or any other `removed_by_category`
//! (`moderator`, `reddit`, `automod_filtered`, `anti_evil_ops`, `copyright_takedown`, …) →
//! deleted by the platform; a comment missing from its permalink and from `/api/info` →
//! deleted, cause unknown; `{"reason":"private"|"quarantined"|"gated"}` (403) → restricted;
//! `{"reason":"banned"}` (404) → deleted by the platform; a JSON 404 → deleted, cause unknown.
//! The "whoa there, pardner!" block page, other non-JSON answers, 429 and 5xx →
//! unreachable: never a deletion.
//!
//! Markers are read only where Reddit speaks: `removed_by_category`, the error JSON's
//! `reason`, and a body or `selftext` Reddit replaced whole. A title (never replaced: the
//! author's words), flair, links, and a text that merely contains or starts with a
//! marker say nothing.
//!
//! # Comments
//!
//! Available without login ([`Platform::comments_plan`] of a post, `t3`):
//!
//! - `GET https://www.reddit.com/comments/<id>.json?raw_json=1&sort=confidence&limit=200`:
//!   the second Listing's `t1` tree, flattened in pre-order (a comment, then its replies),
//!   each a post `reddit:t1_<id>` read like a comment capture. `thread`: `thread_of`
//!   `reddit:t3_<id>`, `reply_to` the `parent_id` when it is a `t1`, `kind` `comment` or
//!   `reply`, `order` `hot` (Reddit's `confidence`, "best", is reported as `hot`). `limit`
//!   is the default `[capture] comments`; the capture stops at its own bound.
//! - `kind: "more"` stubs: their ids become cursors `more:<id1>,<id2>,…` (at most 100
//!   each, in the order listed), read with `GET https://www.reddit.com/api/morechildren.json
//!   ?api_type=json&link_id=t3_<id>&children=<ids>&raw_json=1`, whose `json.data.things`
//!   is a flat page in tree order (`parent_id` says where each sits).
//! - A comment whose body Reddit replaced (`[removed]`, `[deleted]` by a `[deleted]`
//!   author, the `[ Removed by Reddit ]` notice, or `removed_by_category`) is listed in
//!   `CommentPage::gone` with the verdict a capture of it would give (see Verdicts), not
//!   read as a comment; its replies still are comments. A comment merely absent is nothing.
//! - Any verdict on the post itself (private, quarantined, banned, 404) only says the
//!   comments cannot be read: unreachable, in Reddit's words; the post plan decides
//!   about the post. The block page, 429, 5xx and non-JSON answers are unreachable too;
//!   Reddit's `json.errors` on `morechildren` (a rate limit) as well.
//!
//! Not available: "continue this thread" stubs (`more` with no ids, past depth 10) are
//! not followed (they need the parent comment's permalink); comments of a comment
//! target are read with its post's conversation; other orders (`new`, `top`) are not
//! asked; a logged-out reader sees `[removed]` where a moderator sees the text.
//!
//! # Without login
//!
//! Reddit often blocks anonymous `.json` requests from shared or cloud addresses (403 HTML
//! "whoa there, pardner!", 429); an OAuth app token (`oauth.reddit.com`) avoids that but is
//! not used here. Quarantined and private subreddits cannot be read; a logged-out reader
//! sees `[removed]` where the author still sees the text.

use super::kit::{Json, broken, gone, json_answer, str_of, unescape_html, unreachable};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::{html_to_text, sanitize_html};
use crate::model::{Author, Cause, Counts, Gone, Media, MediaKind, Outcome, Post, PostId, Thread};
use serde_json::{Value, json};
use url::Url;

pub struct Reddit;

const WWW: &str = "https://www.reddit.com";

fn is_id36(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 13
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn reddit_host(h: &str) -> bool {
    matches!(
        h,
        "reddit.com"
            | "www.reddit.com"
            | "old.reddit.com"
            | "new.reddit.com"
            | "np.reddit.com"
            | "m.reddit.com"
            | "i.reddit.com"
    )
}

fn post_target(sub: Option<&str>, id: &str, comment: Option<&str>) -> Target {
    let base = match sub {
        Some(s) => format!("{WWW}/r/{s}/comments/{id}/"),
        None => format!("{WWW}/comments/{id}/"),
    };
    match comment {
        Some(c) => Target::Post {
            platform_id: format!("t1_{c}"),
            url: format!("{base}_/{c}/"),
        },
        None => Target::Post {
            platform_id: format!("t3_{id}"),
            url: base,
        },
    }
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let segs: Vec<String> = url
        .path_segments()
        .map(|s| {
            s.filter(|p| !p.is_empty())
                .map(|p| p.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if host == "redd.it" {
        return match segs.as_slice() {
            [id] if is_id36(id) => Some(post_target(None, id, None)),
            _ => None,
        };
    }
    if !reddit_host(&host) {
        return None;
    }
    // `.json` or `.compact` suffixes on the last segment.
    let strip = |s: &str| -> String {
        s.strip_suffix(".json")
            .or_else(|| s.strip_suffix(".compact"))
            .unwrap_or(s)
            .to_string()
    };
    let segs: Vec<String> = segs.iter().map(|s| strip(s)).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (sub, rest) = match segs.as_slice() {
        ["r", sub, rest @ ..] => (Some(*sub), rest),
        rest => (None, rest),
    };
    match rest {
        ["comments", id] | ["comments", id, _] if is_id36(id) => Some(post_target(sub, id, None)),
        ["comments", id, _, c, ..] if is_id36(id) && is_id36(c) => {
            Some(post_target(sub, id, Some(c)))
        }
        ["s", code] if sub.is_some() && !code.is_empty() => Some(Target::Follow {
            url: url.to_string(),
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Markers

/// What a thing (`t3` or `t1` data) says about itself: `None` when it is visible.
pub fn classify_thing(d: &Value) -> Option<(Outcome, Cause, String)> {
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
    let author = s("author");
    let body = if d.get("body").is_some() {
        s("body")
    } else {
        s("selftext")
    };
    if let Some(cat) = d.get("removed_by_category").and_then(Value::as_str) {
        let cause = match cat {
            "deleted" | "author" => Cause::Author,
            _ => Cause::Platform,
        };
        return Some((
            Outcome::Deleted,
            cause,
            format!("removed_by_category: {cat}"),
        ));
    }
    if author == "[deleted]" && body == "[deleted]" {
        return Some((
            Outcome::Deleted,
            Cause::Author,
            "author and text [deleted]".into(),
        ));
    }
    if body == "[removed]" {
        return Some((Outcome::Deleted, Cause::Platform, "text [removed]".into()));
    }
    // Reddit's notice replaces the whole text ("[ Removed by Reddit ]", "[ Removed by
    // Reddit on account of violating the content policy. ]"); a text that only starts so,
    // and a title (never replaced: the author's words), say nothing.
    if is_removal_notice(body) {
        return Some((Outcome::Deleted, Cause::Platform, body.trim().to_string()));
    }
    // A post whose author deleted it keeps its title: `[deleted]` author with an empty
    // `selftext` and a deleted marker in `selftext` is covered above; a self post whose
    // author is `[deleted]` and whose text is `[deleted]` too is the same.
    None
}

/// Whether a whole text is Reddit's removal notice: one bracketed line that begins
/// `[ Removed by Reddit`.
fn is_removal_notice(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("[ Removed by Reddit") || t.starts_with("[ Removed by reddit"))
        && t.ends_with(']')
        && !t.contains('\n')
        && t.len() <= 200
}

// ---------------------------------------------------------------------------------------
// Thing -> Post

fn unix_to_rfc3339(v: &Value) -> Option<String> {
    let f = v.as_f64()?;
    let ts = jiff::Timestamp::from_second(f.trunc() as i64).ok()?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

fn author_of(d: &Value) -> Option<Author> {
    let name = str_of(d.get("author"))?;
    if name == "[deleted]" {
        return Some(Author {
            name: Some(name),
            ..Author::default()
        });
    }
    Some(Author {
        id: str_of(d.get("author_fullname")),
        handle: Some(format!("u/{name}")),
        url: Some(format!("{WWW}/user/{name}/")),
        name: Some(name),
    })
}

fn media_of(d: &Value) -> Vec<Media> {
    let mut out = Vec::new();
    // Galleries, in their order.
    if let Some(items) = d.pointer("/gallery_data/items").and_then(Value::as_array) {
        for it in items {
            let Some(id) = it.get("media_id").and_then(Value::as_str) else {
                continue;
            };
            let Some(meta) = d.pointer(&format!("/media_metadata/{id}")) else {
                continue;
            };
            let animated = meta.get("e").and_then(Value::as_str) == Some("AnimatedImage");
            let url = str_of(meta.pointer("/s/u"))
                .or_else(|| str_of(meta.pointer("/s/gif")))
                .or_else(|| str_of(meta.pointer("/s/mp4")));
            if let Some(u) = url {
                let mut m = Media::new(
                    if animated {
                        MediaKind::Gif
                    } else {
                        MediaKind::Image
                    },
                    u,
                );
                m.alt = str_of(it.get("caption"));
                out.push(m);
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    for key in [
        "/secure_media/reddit_video/fallback_url",
        "/media/reddit_video/fallback_url",
    ] {
        if let Some(u) = str_of(d.pointer(key)) {
            out.push(Media::new(MediaKind::Video, u));
            return out;
        }
    }
    let link = str_of(d.get("url_overridden_by_dest")).or_else(|| str_of(d.get("url")));
    if d.get("post_hint").and_then(Value::as_str) == Some("image")
        && let Some(u) = &link
    {
        let gif = u.to_ascii_lowercase().ends_with(".gif");
        out.push(Media::new(
            if gif {
                MediaKind::Gif
            } else {
                MediaKind::Image
            },
            u.clone(),
        ));
        return out;
    }
    for img in d
        .pointer("/preview/images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(u) = str_of(img.pointer("/source/url")) {
            // Without raw_json=1 Reddit escapes `&` in these URLs.
            out.push(Media::new(MediaKind::Image, unescape_html(&u)));
        }
    }
    out
}

fn permalink_url(d: &Value) -> Option<String> {
    str_of(d.get("permalink")).map(|p| {
        if p.starts_with("http") {
            p
        } else {
            format!("{WWW}{p}")
        }
    })
}

/// Reads one `t3` (post) or `t1` (comment) data object.
pub fn parse_thing(kind: &str, d: &Value) -> Result<Post, String> {
    if !d.is_object() {
        return Err("data".into());
    }
    let id = str_of(d.get("id")).ok_or("id")?;
    let fullname = str_of(d.get("name")).unwrap_or_else(|| format!("{kind}_{id}"));
    let url = permalink_url(d).unwrap_or_else(|| match kind {
        "t3" => format!("{WWW}/comments/{id}/"),
        _ => format!("{WWW}/api/info.json?id={fullname}"),
    });
    let mut post = Post::new("reddit", &fullname, &url);
    if kind == "t3" {
        post.alt_urls.push(format!("https://redd.it/{id}"));
    }
    post.author = author_of(d);
    if str_of(d.get("author")).as_deref() == Some("[deleted]") {
        post.extra.insert("author_deleted".into(), json!(true));
    }
    let base = Url::parse(WWW).map_err(|e| e.to_string())?;
    let (md, html) = if kind == "t3" {
        post.title = str_of(d.get("title"));
        (str_of(d.get("selftext")), str_of(d.get("selftext_html")))
    } else {
        (str_of(d.get("body")), str_of(d.get("body_html")))
    };
    // Without raw_json=1 the HTML comes entity-escaped once more.
    let html = html.map(|h| {
        if h.starts_with("&lt;") {
            unescape_html(&h)
        } else {
            h
        }
    });
    match (&html, &md) {
        (Some(h), _) => {
            post.html = Some(sanitize_html(h, &base));
            post.text = Some(html_to_text(h));
        }
        (None, Some(m)) => post.text = Some(m.clone()),
        _ => {}
    }
    if let Some(m) = md {
        post.extra.insert("markdown".into(), json!(m));
    }
    if let Some(c) = d.get("created_utc").filter(|v| v.is_number()) {
        post.created_at = unix_to_rfc3339(c);
        post.created_at_raw = Some(c.to_string());
    }
    if kind == "t3" {
        post.media = media_of(d);
    }
    let n = |k: &str| d.get(k).and_then(|v| v.as_i64()).map(|v| v.max(0) as u64);
    let mut c = Counts {
        likes: n("score"),
        comments: n("num_comments"),
        reposts: n("num_crossposts"),
        ..Counts::default()
    };
    if let Some(s) = d.get("score").filter(|v| v.as_i64().is_some_and(|x| x < 0)) {
        c.raw.insert("score".into(), s.clone());
    }
    if let Some(r) = d.get("upvote_ratio").filter(|v| !v.is_null()) {
        c.raw.insert("upvote_ratio".into(), r.clone());
    }
    post.counts = Some(c);
    for key in [
        "subreddit",
        "edited",
        "over_18",
        "spoiler",
        "locked",
        "stickied",
        "archived",
        "distinguished",
        "link_flair_text",
        "domain",
    ] {
        if let Some(v) = d
            .get(key)
            .filter(|v| !v.is_null() && **v != false && **v != "")
        {
            post.extra.insert(key.into(), v.clone());
        }
    }
    if kind == "t3"
        && d.get("is_self").and_then(Value::as_bool) != Some(true)
        && let Some(link) = str_of(d.get("url_overridden_by_dest")).or_else(|| str_of(d.get("url")))
        && link != url
    {
        post.extra.insert("link_url".into(), json!(link));
    }
    if let Some(parent) = d
        .get("crosspost_parent_list")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        && let Ok(orig) = parse_thing("t3", parent)
    {
        post.repost_of = Some(Box::new(orig));
    } else if let Some(fullname) = str_of(d.get("crosspost_parent")) {
        let id = fullname.trim_start_matches("t3_");
        post.repost_of = Some(Box::new(Post::new(
            "reddit",
            &fullname,
            &format!("{WWW}/comments/{id}/"),
        )));
    }
    if kind == "t1"
        && let Some(parent) = str_of(d.get("parent_id"))
    {
        let (pk, pid) = parent.split_once('_').unwrap_or(("", &parent));
        let link = str_of(d.get("link_id")).unwrap_or_default();
        let link_id = link.trim_start_matches("t3_");
        let purl = match pk {
            "t3" => format!("{WWW}/comments/{pid}/"),
            _ => format!("{WWW}/comments/{link_id}/_/{pid}/"),
        };
        post.reply_to = Some(Box::new(Post::new("reddit", &parent, &purl)));
    }
    Ok(post)
}

/// Finds comment `id` in a comment listing, replies included.
fn find_comment<'a>(listing: &'a Value, id: &str) -> Option<&'a Value> {
    for c in listing
        .pointer("/data/children")
        .and_then(Value::as_array)?
    {
        if c.get("kind").and_then(Value::as_str) != Some("t1") {
            continue;
        }
        let d = c.get("data")?;
        if d.get("id").and_then(Value::as_str) == Some(id) {
            return Some(d);
        }
        if let Some(r) = d.get("replies").filter(|r| r.is_object())
            && let Some(found) = find_comment(r, id)
        {
            return Some(found);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Answers

enum Api {
    Json(Value),
    Verdict(Finding),
}

fn read_api(answer: &Fetched, endpoint: &str) -> Api {
    let (r, json) = match json_answer(answer, endpoint) {
        Ok(read) => read,
        Err(f) => return Api::Verdict(f),
    };
    let body = String::from_utf8_lossy(&r.body);
    let Some(v) = json else {
        let lower = body.to_ascii_lowercase();
        let why =
            if lower.contains("whoa there, pardner") || lower.contains("<title>blocked</title>") {
                "blocked by Reddit's network policy (\"whoa there, pardner!\")".to_string()
            } else {
                format!("not a Reddit JSON answer ({})", r.mime())
            };
        return Api::Verdict(unreachable(format!("{endpoint}: HTTP {}: {why}", r.status)));
    };
    if r.status == 200 {
        return Api::Json(v);
    }
    let reason = str_of(v.get("reason"));
    let message = str_of(v.get("message")).unwrap_or_default();
    let words = format!(
        "HTTP {}: {}{}",
        r.status,
        message,
        reason
            .as_deref()
            .map(|x| format!(" (reason {x})"))
            .unwrap_or_default()
    );
    Api::Verdict(match (r.status, reason.as_deref()) {
        (403, Some("quarantined")) => gone(Outcome::Restricted, Some(Cause::Platform), words),
        (403, Some("private" | "gated" | "gold_only")) => gone(Outcome::Restricted, None, words),
        (404 | 403, Some("banned")) => gone(Outcome::Deleted, Some(Cause::Platform), words),
        (404, None) => gone(Outcome::Deleted, Some(Cause::Unknown), words),
        _ => unreachable(words),
    })
}

/// Asks a Reddit JSON URL; `plan` reads the answer.
fn ask_json(url: &str, purpose: &'static str, plan: impl Plan + 'static) -> Step {
    match Url::parse(url) {
        Ok(u) => Step::fetch(
            Request::get(u, purpose).header("Accept", "application/json"),
            plan,
        ),
        Err(e) => Step::Done(broken(purpose, format!("a URL ({e})"))),
    }
}

// ---------------------------------------------------------------------------------------
// Post plan

/// The verdict on one thing: gone, or the post.
fn thing_finding(kind: &str, d: &Value, endpoint: &str) -> Finding {
    if let Some((o, c, m)) = classify_thing(d) {
        return gone(o, Some(c), m);
    }
    match parse_thing(kind, d) {
        Ok(p) => Finding::Post(Box::new(p)),
        Err(missing) => broken(endpoint, missing),
    }
}

/// A post's or a comment's permalink JSON (`comments/<post>[/_/<comment>].json`).
fn post_plan(post_id: String, comment_id: Option<String>) -> Step {
    let url = match &comment_id {
        Some(c) => format!("{WWW}/comments/{post_id}/_/{c}.json?raw_json=1"),
        None => format!("{WWW}/comments/{post_id}.json?raw_json=1"),
    };
    ask_json(&url, "comments.json", CommentsPlan { comment_id })
}

/// Reads the permalink answer.
struct CommentsPlan {
    comment_id: Option<String>,
}

impl Plan for CommentsPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, "comments.json") {
            Api::Json(v) => v,
            Api::Verdict(f) => return Step::Done(f),
        };
        let v = Json::new("comments.json", &v);
        let Some(t3) = v
            .at("0.data.children.0")
            .filter(|c| c.get("kind").and_then(Value::as_str) == Some("t3"))
        else {
            return Step::Done(v.broken("[0].data.children[0] (t3)"));
        };
        let t3 = t3.get("data").unwrap_or(&Value::Null);
        let Some(cid) = self.comment_id else {
            return Step::Done(thing_finding("t3", t3, "comments.json"));
        };
        let parent_post = parse_thing("t3", t3).ok();
        match v.at("1").and_then(|l| find_comment(l, &cid)) {
            Some(d) => {
                let mut f = thing_finding("t1", d, "comments.json");
                attach_parent(&mut f, parent_post.as_ref());
                Step::Done(f)
            }
            // A deleted comment drops out of its permalink: ask /api/info why.
            None => ask_json(
                &format!("{WWW}/api/info.json?id=t1_{cid}&raw_json=1"),
                "api/info.json",
                InfoPlan {
                    comment_id: cid,
                    parent_post,
                },
            ),
        }
    }
}

/// Reads `/api/info` about a comment missing from its permalink.
struct InfoPlan {
    comment_id: String,
    /// The post the comment belongs to, read from the permalink answer.
    parent_post: Option<Post>,
}

impl Plan for InfoPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, "api/info.json") {
            Api::Json(v) => v,
            // The permalink answered without the comment: that is a first verdict.
            Api::Verdict(_) => {
                return Step::Done(gone(
                    Outcome::Deleted,
                    Some(Cause::Unknown),
                    "comment missing from its permalink",
                ));
            }
        };
        let found = Json::new("api/info.json", &v)
            .at("data.children")
            .and_then(Value::as_array)
            .and_then(|a| {
                a.iter().find(|c| {
                    c.pointer("/data/id").and_then(Value::as_str) == Some(&self.comment_id)
                })
            });
        Step::Done(match found {
            Some(c) => {
                let mut f =
                    thing_finding("t1", c.get("data").unwrap_or(&Value::Null), "api/info.json");
                attach_parent(&mut f, self.parent_post.as_ref());
                f
            }
            None => gone(
                Outcome::Deleted,
                Some(Cause::Unknown),
                "comment missing from its permalink and from /api/info",
            ),
        })
    }
}

/// A comment answering the post itself gets the whole post as `reply_to`.
fn attach_parent(f: &mut Finding, parent: Option<&Post>) {
    if let Finding::Post(p) = f
        && let Some(parent) = parent
        && p.reply_to.as_ref().is_some_and(|r| r.id == parent.id)
    {
        p.reply_to = Some(Box::new(parent.clone()));
    }
}

// ---------------------------------------------------------------------------------------
// Comments

/// `limit` of the first comments request: the default `[capture] comments` (the capture
/// stops at its own bound; Reddit hands out at most 500 at once).
const COMMENTS_LIMIT: usize = 200;
/// Reddit's bound on the ids of one `api/morechildren` request.
const MORE_IDS: usize = 100;
/// Most things one comments answer is walked for, and how deep: a bound on the work a
/// hostile answer can cause (Reddit nests 10 levels, then links "continue this thread",
/// and lists at most 500 per answer).
const MAX_THINGS: usize = 5000;
const MAX_DEPTH: usize = 16;
/// Reddit's `confidence` ("best") order, in the contract's terms.
const ORDER: &str = "hot";

/// The first page of a post's conversation, or the `more` page a cursor names.
fn comments_step(post_id: &str, cursor: Option<&str>) -> Step {
    let Some(cursor) = cursor else {
        let url = format!(
            "{WWW}/comments/{post_id}.json?raw_json=1&sort=confidence&limit={COMMENTS_LIMIT}"
        );
        return ask_json(
            &url,
            "comments.json",
            TreePlan {
                post_id: post_id.to_string(),
            },
        );
    };
    let ids: Vec<&str> = cursor
        .strip_prefix("more:")
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    if ids.is_empty() || ids.len() > MORE_IDS || !ids.iter().all(|i| is_id36(i)) {
        return Step::Done(broken(
            "comments cursor",
            format!("a cursor more:<id>,… of 1 to {MORE_IDS} comment ids, not {cursor:?}"),
        ));
    }
    let url = format!(
        "{WWW}/api/morechildren.json?api_type=json&link_id=t3_{post_id}&children={}&raw_json=1",
        ids.join(",")
    );
    ask_json(
        &url,
        "api/morechildren.json",
        MorePlan {
            post_id: post_id.to_string(),
        },
    )
}

/// A verdict on a comments request: whatever the post plan would conclude about the
/// post (private, banned, a 404), here it only means the comments cannot be read, so it
/// is unreachable in the platform's words; the post plan decides about the post.
fn comments_verdict(f: Finding) -> Finding {
    match f {
        Finding::Gone(g) if g.outcome != Outcome::Unreachable => {
            let words = g.message.unwrap_or_default();
            unreachable(format!("the comments cannot be read: {words}"))
        }
        other => other,
    }
}

/// Reads `comments/<post>.json`: the second Listing's tree.
struct TreePlan {
    post_id: String,
}

impl Plan for TreePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        const EP: &str = "comments.json";
        let v = match read_api(&answer, EP) {
            Api::Json(v) => v,
            Api::Verdict(f) => return Step::Done(comments_verdict(f)),
        };
        let v = Json::new(EP, &v);
        if v.str("0.data.children.0.kind").as_deref() != Some("t3") {
            return Step::Done(v.broken("[0].data.children[0] (t3)"));
        }
        let Some(children) = v.at("1.data.children").and_then(Value::as_array) else {
            return Step::Done(v.broken("[1].data.children (the comment listing)"));
        };
        Step::Done(read_page(&self.post_id, children, EP))
    }
}

/// Reads `api/morechildren.json`: `json.data.things`, a flat list in tree order.
struct MorePlan {
    post_id: String,
}

impl Plan for MorePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        const EP: &str = "api/morechildren.json";
        let v = match read_api(&answer, EP) {
            Api::Json(v) => v,
            Api::Verdict(f) => return Step::Done(comments_verdict(f)),
        };
        let v = Json::new(EP, &v);
        // Reddit's own error list (`[["RATELIMIT", "…", …]]`): it answered, but not with
        // comments; nothing is concluded about them.
        if let Some(errors) = v.at("json.errors").and_then(Value::as_array)
            && !errors.is_empty()
        {
            return Step::Done(unreachable(format!(
                "{EP}: {}",
                Value::Array(errors.clone())
            )));
        }
        let Some(things) = v.at("json.data.things").and_then(Value::as_array) else {
            return Step::Done(v.broken("json.data.things"));
        };
        Step::Done(read_page(&self.post_id, things, EP))
    }
}

/// One page: every `t1` in pre-order (replies after their comment), the ones Reddit
/// replaced as gone with its verdict, and `more` stubs as cursors.
fn read_page(post_id: &str, things: &[Value], endpoint: &str) -> Finding {
    let mut walk = Walk {
        thread_of: PostId::new("reddit", &format!("t3_{post_id}")),
        page: CommentPage::default(),
        more: vec![],
        seen: 0,
    };
    if let Err(missing) = walk.things(things, 0) {
        return broken(endpoint, missing);
    }
    let Walk { mut page, more, .. } = walk;
    page.more = more
        .chunks(MORE_IDS)
        .map(|ids| format!("more:{}", ids.join(",")))
        .collect();
    Finding::Comments(page)
}

struct Walk {
    thread_of: PostId,
    page: CommentPage,
    /// Ids listed in `more` stubs, in order.
    more: Vec<String>,
    seen: usize,
}

impl Walk {
    fn things(&mut self, things: &[Value], depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("a comment tree at most {MAX_DEPTH} levels deep"));
        }
        for (i, t) in things.iter().enumerate() {
            self.seen += 1;
            if self.seen > MAX_THINGS {
                return Err(format!("at most {MAX_THINGS} things in one answer"));
            }
            let d = t.get("data").filter(|d| d.is_object());
            match (t.get("kind").and_then(Value::as_str), d) {
                (Some("t1"), Some(d)) => {
                    self.comment(d).map_err(|m| format!("comment {i}: {m}"))?;
                    if let Some(r) = d.get("replies").filter(|r| r.is_object()) {
                        let Some(children) = r.pointer("/data/children").and_then(Value::as_array)
                        else {
                            return Err(format!("comment {i}: replies.data.children"));
                        };
                        self.things(children, depth + 1)?;
                    }
                }
                (Some("more"), Some(d)) => {
                    // `children` empty (`id` "_", "continue this thread"): the rest is
                    // only on the parent comment's permalink, which is not followed.
                    for id in d
                        .get("children")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .filter(|id| is_id36(id))
                    {
                        self.more.push(id.to_string());
                    }
                }
                (Some("t1" | "more"), None) => return Err(format!("thing {i}: data")),
                // Anything else Reddit may list here says nothing about the comments.
                _ => {}
            }
        }
        Ok(())
    }

    /// One comment: a post with its place in the thread, or gone in Reddit's words.
    fn comment(&mut self, d: &Value) -> Result<(), String> {
        let id = str_of(d.get("id")).ok_or("id")?;
        let fullname = format!("t1_{id}");
        if let Some((outcome, cause, message)) = classify_thing(d) {
            self.page.gone.push((
                PostId::new("reddit", &fullname),
                Gone {
                    outcome,
                    cause: Some(cause),
                    message: Some(message),
                },
            ));
            return Ok(());
        }
        let mut post = parse_thing("t1", d)?;
        let reply_to = str_of(d.get("parent_id"))
            .filter(|p| p.starts_with("t1_"))
            .map(|p| PostId::new("reddit", &p));
        post.thread = Some(Thread::answering(&self.thread_of, reply_to, ORDER));
        self.page.comments.push(post);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Share links

/// Reads where a share link redirected.
struct FollowPlan {
    url: Url,
}

impl Plan for FollowPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Response(r) if r.url != self.url => Finding::Redirected {
                url: r.url.to_string(),
            },
            Fetched::Response(r) => {
                unreachable(format!("share link did not redirect (HTTP {})", r.status))
            }
            Fetched::Failed(e) => unreachable(e),
        })
    }
}

// ---------------------------------------------------------------------------------------

impl Platform for Reddit {
    fn name(&self) -> &'static str {
        "reddit"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.reddit.com", "reddit.com", "old.reddit.com", "redd.it"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        let url = match target {
            Target::Follow { url } => {
                if let Ok(u) = Url::parse(url) {
                    return Step::fetch(
                        Request::get(u.clone(), "share link"),
                        FollowPlan { url: u },
                    );
                }
                url.clone()
            }
            Target::Post { url, .. } | Target::Account { url, .. } => url.clone(),
        };
        // The canonical URL holds both ids: `…/comments/<post>/_/<comment>/`.
        let segs: Vec<String> = Url::parse(&url)
            .ok()
            .and_then(|u| {
                u.path_segments()
                    .map(|s| s.filter(|p| !p.is_empty()).map(str::to_string).collect())
            })
            .unwrap_or_default();
        let i = segs.iter().position(|s| s == "comments");
        let post_id = i.and_then(|i| segs.get(i + 1)).cloned().unwrap_or_default();
        let comment_id = i.and_then(|i| segs.get(i + 3)).cloned();
        let (post_id, comment_id) = match (target, post_id.is_empty()) {
            // A bare fullname target (`t3_<id>`) without a usable URL.
            (Target::Post { platform_id, .. }, true) => {
                (platform_id.trim_start_matches("t3_").to_string(), None)
            }
            _ => (post_id, comment_id),
        };
        post_plan(post_id, comment_id)
    }
    /// The conversation of a post (`t3`); a comment's own replies are read with its
    /// post's.
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Post { platform_id, .. } = target else {
            return None;
        };
        let post_id = platform_id.strip_prefix("t3_").filter(|i| is_id36(i))?;
        Some(comments_step(post_id, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ThreadKind;

    #[test]
    fn created_utc_is_utc() {
        assert_eq!(
            unix_to_rfc3339(&json!(1473815523.0)).as_deref(),
            Some("2016-09-14T01:12:03+00:00")
        );
        assert_eq!(unix_to_rfc3339(&json!("x")), None);
    }

    #[test]
    fn plan_takes_both_ids_from_the_url() {
        let t = recognise_url(
            &Url::parse("https://old.reddit.com/r/a/comments/abc12/slug/def34/").unwrap(),
        )
        .unwrap();
        let Step::Fetch(req, _) = Reddit.post_plan(&t, Job::Check, &PlanContext::default()) else {
            panic!()
        };
        assert_eq!(
            req.url.as_str(),
            "https://www.reddit.com/comments/abc12/_/def34.json?raw_json=1"
        );
    }

    /// Every string `classify_thing` reads (whole fields only) and the block page's words.
    const MARKERS: &[&str] = &[
        "[deleted]",
        "[removed]",
        "[ Removed by Reddit ]",
        "[ Removed by Reddit on account of violating the content policy. ]",
        "removed_by_category",
        "whoa there, pardner!",
    ];

    /// A live post and a live comment that carry every marker in their title, flair,
    /// link, and as part of their text are read as posts: the markers count only as the
    /// whole text Reddit replaced, and in `removed_by_category`.
    #[test]
    fn markers_in_a_live_things_own_words_never_make_it_gone() {
        let all = MARKERS.join(" ");
        let post = json!({
            "kind": "t3",
            "data": {
                "id": "abc12", "name": "t3_abc12", "subreddit": "rust", "author": "ada",
                "title": "[ Removed by Reddit ] is what I saw on my last post",
                "selftext": format!("{all}\n[ Removed by Reddit ]"),
                "link_flair_text": "[removed]", "author_flair_text": "[deleted]",
                "url": "https://www.reddit.com/r/rust/comments/abc12/removed_by_category/",
                "permalink": "/r/rust/comments/abc12/removed/", "created_utc": 1700000000.0,
                "removed_by_category": null, "banned_by": null,
            }
        });
        let comment = json!({
            "kind": "t1",
            "data": {
                "id": "def34", "name": "t1_def34", "author": "bob",
                "body": format!("quoting: {all}"), "author_flair_text": "[ Removed by Reddit ]",
                "parent_id": "t3_abc12", "link_id": "t3_abc12", "created_utc": 1700000100.0,
                "permalink": "/r/rust/comments/abc12/removed/def34/", "replies": "",
            }
        });
        for (url, comment_id) in [
            (
                "https://www.reddit.com/r/rust/comments/abc12/removed/",
                None,
            ),
            (
                "https://www.reddit.com/r/rust/comments/abc12/removed/def34/",
                Some("t1_def34"),
            ),
        ] {
            let body = json!([
                {"kind": "Listing", "data": {"children": [post.clone()]}},
                {"kind": "Listing", "data": {"children": [comment.clone()]}},
            ])
            .to_string();
            let t = recognise_url(&Url::parse(url).unwrap()).unwrap();
            let first = Reddit.post_plan(&t, Job::Check, &PlanContext::default());
            let (f, _) = crate::platforms::testing::run(first, |r| {
                Fetched::Response(crate::platforms::Response {
                    url: r.url.clone(),
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: body.as_bytes().to_vec(),
                    truncated: false,
                })
            });
            match f {
                Finding::Post(p) => {
                    assert_eq!(p.platform_id, comment_id.unwrap_or("t3_abc12"), "{url}")
                }
                other => panic!("{url}: a live thing read as {other:?}"),
            }
        }
        // The same markers as the whole replaced text are read: the rule is where.
        for (d, cause) in [
            (
                json!({"author": "a", "selftext": "[ Removed by Reddit ]"}),
                Cause::Platform,
            ),
            (json!({"author": "a", "body": "[removed]"}), Cause::Platform),
            (
                json!({"author": "[deleted]", "body": "[deleted]"}),
                Cause::Author,
            ),
            (
                json!({"author": "a", "removed_by_category": "moderator"}),
                Cause::Platform,
            ),
        ] {
            assert_eq!(classify_thing(&d).map(|(_, c, _)| c), Some(cause), "{d}");
        }
    }

    fn comments_of(body: &str, cursor: Option<&str>) -> (Finding, Vec<Request>) {
        let t =
            recognise_url(&Url::parse("https://www.reddit.com/comments/abc12/").unwrap()).unwrap();
        let first = Reddit
            .comments_plan(&t, cursor, &PlanContext::default())
            .expect("posts have comments");
        crate::platforms::testing::run(first, |r| {
            Fetched::Response(crate::platforms::Response {
                url: r.url.clone(),
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.as_bytes().to_vec(),
                truncated: false,
            })
        })
    }

    fn listing(children: Value) -> String {
        json!([
            {"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "abc12"}}]}},
            {"kind": "Listing", "data": {"children": children}},
        ])
        .to_string()
    }

    /// "[removed]" inside a sentence is the commenter's words: a comment. Only the whole
    /// body Reddit replaced makes one gone, and its replies are still comments.
    #[test]
    fn a_marker_inside_a_comment_is_its_authors_words() {
        let body = listing(json!([
            {"kind": "t1", "data": {"id": "c1", "author": "ada", "parent_id": "t3_abc12",
             "body": "My post said [removed] for an hour, then it was back.", "replies": ""}},
            {"kind": "t1", "data": {"id": "c2", "author": "[deleted]", "parent_id": "t3_abc12",
             "body": "[removed]", "replies": {"kind": "Listing", "data": {"children": [
                {"kind": "t1", "data": {"id": "c3", "author": "bob", "parent_id": "t1_c2",
                 "body": "[deleted]", "replies": ""}}]}}}},
        ]));
        let (f, _) = comments_of(&body, None);
        let Finding::Comments(page) = f else {
            panic!("{f:?}")
        };
        let ids: Vec<&str> = page.comments.iter().map(|p| p.id.0.as_str()).collect();
        // c3's author is not deleted: a body of `[deleted]` alone is the author's text.
        assert_eq!(ids, ["reddit:t1_c1", "reddit:t1_c3"]);
        assert_eq!(page.gone.len(), 1);
        assert_eq!(page.gone[0].0.0, "reddit:t1_c2");
        assert_eq!(page.gone[0].1.cause, Some(Cause::Platform));
        let t = page.comments[1].thread.as_ref().unwrap();
        assert_eq!(t.reply_to.as_ref().unwrap().0, "reddit:t1_c2");
        assert_eq!(t.kind, ThreadKind::Reply);
    }

    /// More than 100 ids become several cursors; a cursor asks for exactly its ids, and a
    /// cursor that is not one is broken, not a request.
    #[test]
    fn more_ids_are_cut_into_cursors_of_a_hundred() {
        let ids: Vec<String> = (0..250).map(|i| format!("m{i}")).collect();
        let body = listing(json!([{"kind": "more", "data": {"count": 250, "children": ids}}]));
        let (f, _) = comments_of(&body, None);
        let Finding::Comments(page) = f else {
            panic!("{f:?}")
        };
        let sizes: Vec<usize> = page
            .more
            .iter()
            .map(|c| c.trim_start_matches("more:").split(',').count())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(page.more[2].ends_with(",m249"), "{:?}", page.more[2]);
        let things = json!({"json": {"errors": [], "data": {"things": []}}}).to_string();
        let (f, asked) = comments_of(&things, Some(&page.more[2]));
        assert!(matches!(f, Finding::Comments(_)), "{f:?}");
        assert!(
            asked[0].url.as_str().contains("&children=m200,m201,")
                && asked[0].url.as_str().ends_with(",m249&raw_json=1"),
            "{}",
            asked[0].url
        );
        for bad in ["m1,m2", "more:", "more:a/b", "more:a,,b"] {
            let (f, asked) = comments_of(&things, Some(bad));
            assert!(asked.is_empty(), "{bad}");
            assert!(matches!(f, Finding::Broken { .. }), "{bad}: {f:?}");
        }
    }

    /// A hostile tree deeper than any Reddit serves ends as broken, without overflowing.
    #[test]
    fn a_bottomless_tree_is_broken() {
        let mut node = json!({"kind": "t1", "data": {"id": "z", "body": "x", "replies": ""}});
        for _ in 0..20 {
            node = json!({"kind": "t1", "data": {"id": "y", "body": "x",
                "replies": {"kind": "Listing", "data": {"children": [node]}}}});
        }
        let (f, _) = comments_of(&listing(json!([node])), None);
        assert!(
            matches!(&f, Finding::Broken { missing, .. } if missing.contains("levels deep")),
            "{f:?}"
        );
    }

    #[test]
    fn visible_things_have_no_marker() {
        assert!(
            classify_thing(
                &json!({"author": "a", "selftext": "hello", "removed_by_category": null})
            )
            .is_none()
        );
        assert!(classify_thing(&json!({"author": "[deleted]", "selftext": ""})).is_none());
    }
}
