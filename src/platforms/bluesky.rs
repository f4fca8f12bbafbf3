//! Bluesky (AT Protocol) through the public AppView `https://public.api.bsky.app/xrpc/…`.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://bsky.app/profile/<handle or did>/post/<rkey>` | post |
//! | `at://<did or handle>/app.bsky.feed.post/<rkey>` (see [`at_uri_to_url`]) | post |
//! | `https://bsky.app/profile/<handle or did>` | account |
//!
//! A post's id is `bluesky:<did>/<rkey>` (handles change, DIDs do not) and its `url`
//! `https://bsky.app/profile/<did>/post/<rkey>`; the handle URL and the at-uri are kept in
//! `alt_urls`. A URL with a handle is recognised as `<handle>/<rkey>` until the handle is
//! resolved.
//!
//! # Endpoints (anonymous)
//!
//! - `com.atproto.identity.resolveHandle?handle=<h>` → `{"did"}` (only for handle URLs);
//! - `app.bsky.feed.getPostThread?uri=<at-uri>&depth=0&parentHeight=1`: the post, and the
//!   post it answers (capture and check);
//! - `app.bsky.feed.getAuthorFeed?actor=<actor>&limit=50[&cursor=<c>]`: an account's posts
//!   and reposts (timelines).
//!
//! Images are the embed's `fullsize` CDN URLs; a video is its HLS playlist; external link
//! cards are kept in `extra.external`; a quote (`app.bsky.embed.record#view`, also inside
//! `recordWithMedia`) becomes `quote_of`; a reply's parent becomes `reply_to`.
//!
//! # Verdicts
//!
//! `NotFound` (HTTP 400 `{"error":"NotFound"}`, or a `#notFoundPost` thread) → deleted,
//! cause unknown; a `!takedown` label on the post → deleted by the platform, on its author
//! → account gone (platform), counted only when Bluesky's moderation service
//! (`did:plc:ar7c4by46qjdydhdevvrndac`) gave it and did not negate it (`"neg": true`): an
//! author's self-label or another labeller's is not the platform speaking; `#blockedPost` or a `Blocked…` error → restricted; a handle
//! that no longer resolves, or `AccountTakedown` / `AccountDeactivated` → account gone.
//! 429, 5xx, non-JSON answers and network failures → unreachable. Error names are read
//! only from an error answer's `error` and `message` fields, and thread states only from
//! the thread's own `$type`: never from a post's text, embeds or quoted posts.
//!
//! # Replies
//!
//! `app.bsky.feed.getPostThread?uri=<at-uri>&depth=10&parentHeight=0` (`comments_plan`; a
//! handle URL is resolved first, as for the post): the post's `replies` tree, flattened in
//! pre-order (a reply before its own replies), each a full post `bluesky:<did>/<rkey>` read
//! like any post view. `thread.reply_to` is the reply's parent in the tree unless that is
//! the post itself (`kind` comment, else reply), `order` is `tree`. getPostThread has no
//! cursor: the thread is one page (`more` is empty). `depth=10` ([`REPLY_DEPTH`]) is how
//! many levels are asked for: replies deeper than ten levels are not read.
//!
//! The AppView names the replies it cannot show: a `#notFoundPost` in `replies` is listed as
//! gone (deleted, cause unknown), a `#blockedPost` as restricted, each under the id of its
//! uri; so is a reply carrying the moderation service's `!takedown` label (deleted by the
//! platform). Any other failure (an error answer, the post itself not found or blocked, a
//! handle that does not resolve, 429, 5xx, non-JSON, no answer) is `unreachable` with the
//! words: whether the post is gone is the post check's verdict, not the conversation's.
//! A 200 without `thread.post`, or a reply node without a readable post, is `broken`.
//!
//! Without login the AppView serves every public reply; replies hidden by the author's
//! threadgate, and replies of accounts that ask not to be shown to logged-out readers
//! (`!no-unauthenticated`), are listed as the AppView lists them (the label is kept).
//!
//! # Without login
//!
//! The AppView answers everything public; it cannot tell an author's deletion from an
//! AppView takedown that left no label (that needs the author's PDS, not asked here).
//! Posts of accounts labelled `!no-unauthenticated` are served, but clients hide them: the
//! label is kept in `extra.labels`.

use super::kit::{Json, broken, escape_html, gone, json_answer, str_of, unreachable};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::{sanitize_html, to_rfc3339};
use crate::model::{
    Author, Cause, Counts, Gone, Media, MediaKind, Outcome, Post, PostId, Thread, ThreadKind,
};
use serde_json::{Value, json};
use url::Url;

pub struct Bluesky;

const APPVIEW: &str = "https://public.api.bsky.app/xrpc";
const WEB: &str = "https://bsky.app";
const POST_COLLECTION: &str = "app.bsky.feed.post";

fn valid_actor(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        && (s.starts_with("did:") || s.contains('.'))
}

fn valid_rkey(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '~' | ':'))
}

fn post_url(actor: &str, rkey: &str) -> String {
    format!("{WEB}/profile/{actor}/post/{rkey}")
}

fn at_uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/{POST_COLLECTION}/{rkey}")
}

/// `(actor, rkey)` of `at://<actor>/app.bsky.feed.post/<rkey>`. DIDs hold colons, which
/// the `url` crate reads as a port, so at-uris are split by hand.
pub fn parse_at_uri(s: &str) -> Option<(String, String)> {
    let rest = s.trim().strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let actor = parts.next()?;
    let collection = parts.next()?;
    let rkey = parts.next()?;
    if parts.next().is_some_and(|p| !p.is_empty()) || collection != POST_COLLECTION {
        return None;
    }
    (valid_actor(actor) && valid_rkey(rkey)).then(|| (actor.to_string(), rkey.to_string()))
}

/// The bsky.app URL of an at-uri of a post, for inputs the CLI cannot parse as a URL.
pub fn at_uri_to_url(s: &str) -> Option<String> {
    parse_at_uri(s).map(|(a, r)| post_url(&a, &r))
}

fn recognise_url(url: &Url) -> Option<Target> {
    if url.scheme() == "at" {
        let (actor, rkey) = parse_at_uri(url.as_str())?;
        return Some(Target::Post {
            platform_id: format!("{actor}/{rkey}"),
            url: post_url(&actor, &rkey),
        });
    }
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    if !matches!(
        host.as_str(),
        "bsky.app" | "www.bsky.app" | "staging.bsky.app"
    ) {
        return None;
    }
    let segs = crate::platforms::kit::segments(url);
    match segs.as_slice() {
        ["profile", actor, "post", rkey] if valid_actor(actor) && valid_rkey(rkey) => {
            let actor = actor.to_ascii_lowercase();
            Some(Target::Post {
                platform_id: format!("{actor}/{rkey}"),
                url: post_url(&actor, rkey),
            })
        }
        ["profile", actor] if valid_actor(actor) => Some(Target::Account {
            account_id: actor.to_ascii_lowercase(),
            url: format!("{WEB}/profile/{}", actor.to_ascii_lowercase()),
        }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Text with facets

fn escape_text(s: &str) -> String {
    escape_html(s).replace('\n', "<br>")
}

/// The post text as HTML: facet byte ranges become links (`#link` to its URI, `#mention`
/// to the profile, `#tag` to the hashtag page), newlines `<br>`. Facets that overlap, run
/// past the text or cut a UTF-8 character are skipped.
pub fn facets_to_html(text: &str, facets: Option<&Value>) -> String {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for f in facets.and_then(Value::as_array).into_iter().flatten() {
        let (Some(start), Some(end)) = (
            f.pointer("/index/byteStart").and_then(Value::as_u64),
            f.pointer("/index/byteEnd").and_then(Value::as_u64),
        ) else {
            continue;
        };
        let (start, end) = (start as usize, end as usize);
        if start >= end
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            continue;
        }
        let href = f
            .get("features")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|feat| {
                let t = feat.get("$type").and_then(Value::as_str).unwrap_or("");
                match t {
                    "app.bsky.richtext.facet#link" => feat.get("uri")?.as_str().map(str::to_string),
                    "app.bsky.richtext.facet#mention" => feat
                        .get("did")?
                        .as_str()
                        .map(|d| format!("{WEB}/profile/{d}")),
                    "app.bsky.richtext.facet#tag" => {
                        let tag = feat.get("tag")?.as_str()?;
                        let mut u = Url::parse(&format!("{WEB}/hashtag/")).ok()?;
                        u.path_segments_mut().ok()?.pop_if_empty().push(tag);
                        Some(u.to_string())
                    }
                    _ => None,
                }
            });
        if let Some(h) = href {
            spans.push((start, end, h));
        }
    }
    spans.sort_by_key(|s| s.0);
    let mut out = String::new();
    let mut pos = 0;
    for (start, end, href) in spans {
        if start < pos {
            continue;
        }
        out.push_str(&escape_text(&text[pos..start]));
        out.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape_html(&href),
            escape_text(&text[start..end])
        ));
        pos = end;
    }
    out.push_str(&escape_text(&text[pos..]));
    out
}

// ---------------------------------------------------------------------------------------
// postView -> Post

fn author_of(a: &Value) -> Author {
    let did = str_of(a.get("did"));
    Author {
        id: did.clone(),
        name: str_of(a.get("displayName")).or_else(|| str_of(a.get("handle"))),
        handle: str_of(a.get("handle")),
        url: did.map(|d| format!("{WEB}/profile/{d}")),
    }
}

/// `(did, rkey)` of an at-uri whose authority is a DID.
fn did_rkey(uri: &str) -> Option<(String, String)> {
    parse_at_uri(uri).filter(|(a, _)| a.starts_with("did:"))
}

fn label_values(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| str_of(l.get("val")))
        .collect()
}

/// Bluesky's own moderation service: the labeller whose `!takedown` the app honours.
const MODERATION_DID: &str = "did:plc:ar7c4by46qjdydhdevvrndac";

/// Whether `labels` hold a `!takedown` Bluesky's moderation service stands by: not
/// negated (`"neg": true` withdraws a label) and not from anyone else (an author's self
/// label or another labeller is not the platform speaking). A label without `src` says
/// nothing: the AppView always names the labeller, and an unnamed one cannot be vouched for.
fn takedown_label(labels: Option<&Value>) -> bool {
    labels
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|l| {
            str_of(l.get("val")).as_deref() == Some("!takedown")
                && l.get("neg").and_then(Value::as_bool) != Some(true)
                && str_of(l.get("src")).as_deref() == Some(MODERATION_DID)
        })
}

/// A stub post for an at-uri (a reply parent, a missing quote).
fn stub(uri: &str) -> Post {
    match did_rkey(uri) {
        Some((did, rkey)) => {
            let mut p = Post::new("bluesky", &format!("{did}/{rkey}"), &post_url(&did, &rkey));
            p.alt_urls.push(uri.to_string());
            p
        }
        None => Post::new("bluesky", uri, uri),
    }
}

/// Media of a hydrated embed view (`images#view`, `video#view`, the media half of
/// `recordWithMedia#view`).
fn embed_media(embed: &Value, post: &mut Post) {
    let t = embed.get("$type").and_then(Value::as_str).unwrap_or("");
    match t {
        "app.bsky.embed.images#view" => {
            for img in embed
                .get("images")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(u) = str_of(img.get("fullsize")).or_else(|| str_of(img.get("thumb"))) {
                    let mut m = Media::new(MediaKind::Image, u);
                    m.alt = str_of(img.get("alt"));
                    post.media.push(m);
                }
            }
        }
        "app.bsky.embed.video#view" => {
            if let Some(u) = str_of(embed.get("playlist")) {
                let mut m = Media::new(MediaKind::Video, u);
                m.alt = str_of(embed.get("alt"));
                post.media.push(m);
            }
            if let Some(t) = str_of(embed.get("thumbnail")) {
                post.extra.insert("video_thumbnail".into(), json!(t));
            }
        }
        "app.bsky.embed.external#view" => {
            if let Some(ext) = embed.get("external") {
                post.extra.insert(
                    "external".into(),
                    json!({"uri": ext.get("uri"), "title": ext.get("title"),
                           "description": ext.get("description"), "thumb": ext.get("thumb")}),
                );
            }
        }
        _ => {}
    }
}

/// The quoted record of a `record#view`'s `record` (`#viewRecord`, `#viewNotFound`, …).
fn quoted(rec: &Value, post: &mut Post) {
    let t = rec.get("$type").and_then(Value::as_str).unwrap_or("");
    let uri = str_of(rec.get("uri")).unwrap_or_default();
    match t {
        "app.bsky.embed.record#viewRecord" => {
            if let Ok(q) = parse_view(rec, "value", "embeds") {
                post.quote_of = Some(Box::new(q));
            }
        }
        "app.bsky.embed.record#viewNotFound"
        | "app.bsky.embed.record#viewBlocked"
        | "app.bsky.embed.record#viewDetached" => {
            let state = t.rsplit('#').next().unwrap_or(t);
            post.extra.insert("quote_state".into(), json!(state));
            if uri.contains(POST_COLLECTION) {
                post.quote_of = Some(Box::new(stub(&uri)));
            }
        }
        // Feeds, lists, starter packs: kept as they are.
        _ if !rec.is_null() => {
            post.extra.insert("embedded_record".into(), rec.clone());
        }
        _ => {}
    }
}

/// Reads a post view: a `postView` (`record`, `embed`) or a quote's `#viewRecord`
/// (`value`, `embeds[]`). `Err(field)` names the first missing essential field.
fn parse_view(v: &Value, record_key: &str, embeds_key: &str) -> Result<Post, String> {
    let uri = str_of(v.get("uri")).ok_or("uri")?;
    let (did, rkey) = did_rkey(&uri).ok_or("uri")?;
    let author = v.get("author").filter(|a| a.is_object()).ok_or("author")?;
    let record = v
        .get(record_key)
        .filter(|r| r.is_object())
        .ok_or(record_key)?;
    let mut post = Post::new("bluesky", &format!("{did}/{rkey}"), &post_url(&did, &rkey));
    post.alt_urls.push(uri.clone());
    let a = author_of(author);
    if let Some(h) = &a.handle {
        post.alt_urls.push(post_url(h, &rkey));
    }
    post.author = Some(a);
    let text = record.get("text").and_then(Value::as_str).unwrap_or("");
    post.text = Some(text.to_string());
    let base = Url::parse(WEB).map_err(|e| e.to_string())?;
    post.html = Some(sanitize_html(
        &facets_to_html(text, record.get("facets")),
        &base,
    ));
    if let Some(raw) = str_of(record.get("createdAt")) {
        post.created_at = to_rfc3339(&raw);
        post.created_at_raw = Some(raw);
    }
    if let Some(c) = str_of(v.get("cid")) {
        post.extra.insert("cid".into(), json!(c));
    }
    if let Some(i) = str_of(v.get("indexedAt")) {
        post.extra.insert("indexed_at".into(), json!(i));
    }
    if let Some(l) = record.get("langs").filter(|l| l.is_array()) {
        post.extra.insert("langs".into(), l.clone());
    }
    let mut labels = label_values(v.get("labels"));
    labels.extend(label_values(author.get("labels")));
    if !labels.is_empty() {
        post.extra.insert("labels".into(), json!(labels));
    }
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    if v.get("likeCount").is_some() || v.get("repostCount").is_some() {
        let mut c = Counts {
            reposts: n("repostCount"),
            comments: n("replyCount"),
            likes: n("likeCount"),
            ..Counts::default()
        };
        if let Some(q) = v.get("quoteCount") {
            c.raw.insert("quotes".into(), q.clone());
        }
        post.counts = Some(c);
    }
    let embeds: Vec<&Value> = match v.get(embeds_key) {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(e) if e.is_object() => vec![e],
        _ => vec![],
    };
    for e in embeds {
        let t = e.get("$type").and_then(Value::as_str).unwrap_or("");
        match t {
            "app.bsky.embed.record#view" => {
                quoted(e.get("record").unwrap_or(&Value::Null), &mut post)
            }
            "app.bsky.embed.recordWithMedia#view" => {
                if let Some(m) = e.get("media") {
                    embed_media(m, &mut post);
                }
                quoted(
                    e.pointer("/record/record").unwrap_or(&Value::Null),
                    &mut post,
                );
            }
            _ => embed_media(e, &mut post),
        }
    }
    if let Some(parent) = str_of(record.pointer("/reply/parent/uri")) {
        post.reply_to = Some(Box::new(stub(&parent)));
        if let Some(root) = str_of(record.pointer("/reply/root/uri"))
            && root != parent
        {
            post.extra.insert("reply_root".into(), json!(root));
        }
    }
    Ok(post)
}

/// Reads one `postView` (getPostThread's `thread.post`, getPosts' `posts[]`, a feed item's
/// `post`).
pub fn parse_post_view(v: &Value) -> Result<Post, String> {
    parse_view(v, "record", "embed")
}

// ---------------------------------------------------------------------------------------
// Answers

enum Api {
    Json(Value),
    Verdict(Finding),
}

/// An XRPC answer: the JSON of a 200, or the verdict of an error.
fn read_xrpc(answer: &Fetched, endpoint: &str) -> Api {
    let (r, json) = match json_answer(answer, endpoint) {
        Ok(read) => read,
        Err(f) => return Api::Verdict(f),
    };
    if r.status == 200 {
        return match json {
            Some(v) => Api::Json(v),
            None => Api::Verdict(unreachable(format!(
                "{endpoint}: not an XRPC answer ({})",
                r.mime()
            ))),
        };
    }
    let error = json.as_ref().and_then(|v| str_of(v.get("error")));
    let message = json.as_ref().and_then(|v| str_of(v.get("message")));
    let words = format!(
        "HTTP {}: {}{}",
        r.status,
        error.as_deref().unwrap_or("(no XRPC error)"),
        message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    let msg_has = |s: &str| message.as_deref().is_some_and(|m| m.contains(s));
    Api::Verdict(match (r.status, error.as_deref()) {
        (400, Some("NotFound")) => gone(Outcome::Deleted, Some(Cause::Unknown), words),
        (400, Some("AccountTakedown")) => gone(Outcome::AccountGone, Some(Cause::Platform), words),
        (400, Some("AccountDeactivated")) => gone(Outcome::AccountGone, Some(Cause::Author), words),
        (400, Some("BlockedActor" | "BlockedByActor")) => gone(Outcome::Restricted, None, words),
        (400, Some("InvalidRequest"))
            if msg_has("Unable to resolve handle") || msg_has("Profile not found") =>
        {
            gone(Outcome::AccountGone, Some(Cause::Unknown), words)
        }
        _ => unreachable(words),
    })
}

/// Asks the AppView's `method`; `plan` reads the answer.
fn xrpc(
    method: &str,
    params: &[(&str, &str)],
    purpose: &'static str,
    plan: impl Plan + 'static,
) -> Step {
    let mut u = match Url::parse(&format!("{APPVIEW}/{method}")) {
        Ok(u) => u,
        Err(e) => return Step::Done(broken(method, format!("a URL ({e})"))),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Step::fetch(
        Request::get(u, purpose).header("Accept", "application/json"),
        plan,
    )
}

/// The verdict of a `getPostThread` answer's `thread`.
pub fn read_thread(v: &Value) -> Finding {
    let Some(thread) = v.get("thread").filter(|t| t.is_object()) else {
        return Finding::Broken {
            endpoint: "app.bsky.feed.getPostThread".into(),
            missing: "thread".into(),
        };
    };
    let t = thread.get("$type").and_then(Value::as_str).unwrap_or("");
    match t {
        "app.bsky.feed.defs#notFoundPost" => {
            return gone(Outcome::Deleted, Some(Cause::Unknown), "#notFoundPost");
        }
        "app.bsky.feed.defs#blockedPost" => {
            return gone(Outcome::Restricted, None, "#blockedPost");
        }
        _ => {}
    }
    let Some(pv) = thread.get("post") else {
        return Finding::Broken {
            endpoint: "app.bsky.feed.getPostThread".into(),
            missing: "thread.post".into(),
        };
    };
    if takedown_label(pv.get("labels")) {
        return gone(Outcome::Deleted, Some(Cause::Platform), "label !takedown");
    }
    if takedown_label(pv.pointer("/author/labels")) {
        return gone(
            Outcome::AccountGone,
            Some(Cause::Platform),
            "author label !takedown",
        );
    }
    match parse_post_view(pv) {
        Ok(mut p) => {
            if let Some(parent) = thread.get("parent").filter(|p| p.is_object()) {
                let pt = parent.get("$type").and_then(Value::as_str).unwrap_or("");
                if let Some(ppv) = parent.get("post")
                    && let Ok(pp) = parse_post_view(ppv)
                {
                    p.reply_to = Some(Box::new(pp));
                } else if pt.ends_with("#notFoundPost") || pt.ends_with("#blockedPost") {
                    p.extra.insert(
                        "reply_to_state".into(),
                        json!(pt.rsplit('#').next().unwrap_or(pt)),
                    );
                }
            }
            Finding::Post(Box::new(p))
        }
        Err(missing) => Finding::Broken {
            endpoint: "app.bsky.feed.getPostThread".into(),
            missing: format!("thread.post.{missing}"),
        },
    }
}

// ---------------------------------------------------------------------------------------
// Post plan

/// A post of `actor` (a DID, or a handle resolved first).
fn post_plan(actor: String, rkey: String) -> Step {
    if actor.starts_with("did:") {
        return thread_step(&actor, &rkey);
    }
    xrpc(
        "com.atproto.identity.resolveHandle",
        &[("handle", &actor)],
        "resolveHandle",
        ResolvePlan { rkey },
    )
}

fn thread_step(did: &str, rkey: &str) -> Step {
    xrpc(
        "app.bsky.feed.getPostThread",
        &[
            ("uri", &at_uri(did, rkey)),
            ("depth", "0"),
            ("parentHeight", "1"),
        ],
        "getPostThread",
        ThreadPlan,
    )
}

/// Reads `resolveHandle`.
struct ResolvePlan {
    rkey: String,
}

impl Plan for ResolvePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        match read_xrpc(&answer, "resolveHandle") {
            Api::Json(v) => {
                let v = Json::new("com.atproto.identity.resolveHandle", &v);
                match str_of(v.at("did")).filter(|d| d.starts_with("did:")) {
                    Some(did) => thread_step(&did, &self.rkey),
                    None => Step::Done(v.broken("did")),
                }
            }
            // A handle that does not resolve is an account question, not the post's.
            Api::Verdict(Finding::Gone(g)) if g.outcome != Outcome::Unreachable => {
                Step::Done(Finding::Gone(Gone {
                    outcome: Outcome::AccountGone,
                    cause: g
                        .cause
                        .filter(|c| *c != Cause::Unknown)
                        .or(Some(Cause::Unknown)),
                    message: g.message,
                }))
            }
            Api::Verdict(f) => Step::Done(f),
        }
    }
}

/// Reads `getPostThread`.
struct ThreadPlan;

impl Plan for ThreadPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match read_xrpc(&answer, "getPostThread") {
            Api::Json(v) => read_thread(&v),
            Api::Verdict(f) => f,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Comments plan (replies)

/// How many levels of replies `comments_plan` asks getPostThread for.
pub const REPLY_DEPTH: &str = "10";
/// Most reply nodes one thread is read for: a bound on the work of a hostile answer (the
/// AppView itself sends far fewer).
const MAX_REPLY_NODES: usize = 10_000;
const THREAD: &str = "app.bsky.feed.getPostThread";

/// The id an at-uri of a post names (`bluesky:<did>/<rkey>`), if it names one.
fn id_of_uri(uri: &str) -> Option<PostId> {
    did_rkey(uri).map(|(did, rkey)| PostId::new("bluesky", &format!("{did}/{rkey}")))
}

/// Puts a node's `replies` on `stack`, last first, each with `parent`.
fn push_replies<'a>(
    stack: &mut Vec<(&'a Value, Option<PostId>)>,
    node: &'a Value,
    parent: Option<PostId>,
) {
    if let Some(rs) = node.get("replies").and_then(Value::as_array) {
        for r in rs.iter().rev() {
            stack.push((r, parent.clone()));
        }
    }
}

/// Reads a getPostThread answer's `thread.replies` as the replies to `thread.post`:
/// pre-order, each with its place in the thread; `#notFoundPost` and `#blockedPost` nodes
/// (and replies the moderation service took down) are listed gone. Unknown node types are
/// passed over: what the AppView does not show is not concluded about. `Err(field)` names
/// the first missing essential field.
pub fn read_replies(v: &Value) -> Result<CommentPage, String> {
    let thread = v.get("thread").filter(|t| t.is_object()).ok_or("thread")?;
    let pv = thread
        .get("post")
        .filter(|p| p.is_object())
        .ok_or("thread.post")?;
    let uri = str_of(pv.get("uri")).ok_or("thread.post.uri")?;
    let thread_of = id_of_uri(&uri).ok_or("thread.post.uri")?;
    let mut page = CommentPage::default();
    // (node, its parent's id or None for the post itself); a stack, reversed so that the
    // first reply is read first and a reply's own replies right after it.
    let mut stack: Vec<(&Value, Option<PostId>)> = Vec::new();
    push_replies(&mut stack, thread, None);
    let mut seen = 0;
    while let Some((node, parent)) = stack.pop() {
        seen += 1;
        if seen > MAX_REPLY_NODES {
            return Err(format!(
                "at most {MAX_REPLY_NODES} replies in thread.replies"
            ));
        }
        let t = node.get("$type").and_then(Value::as_str).unwrap_or("");
        let node_uri = str_of(node.get("uri"));
        match t {
            "app.bsky.feed.defs#notFoundPost" | "app.bsky.feed.defs#blockedPost" => {
                let id = node_uri
                    .as_deref()
                    .and_then(id_of_uri)
                    .ok_or("thread.replies[].uri")?;
                let gone = if t.ends_with("#notFoundPost") {
                    Gone {
                        outcome: Outcome::Deleted,
                        cause: Some(Cause::Unknown),
                        message: Some("#notFoundPost".into()),
                    }
                } else {
                    Gone {
                        outcome: Outcome::Restricted,
                        cause: None,
                        message: Some("#blockedPost".into()),
                    }
                };
                page.gone.push((id, gone));
            }
            "app.bsky.feed.defs#threadViewPost" => {
                let rpv = node.get("post").ok_or("thread.replies[].post")?;
                let mut p =
                    parse_post_view(rpv).map_err(|f| format!("thread.replies[].post.{f}"))?;
                if takedown_label(rpv.get("labels")) {
                    page.gone.push((
                        p.id.clone(),
                        Gone {
                            outcome: Outcome::Deleted,
                            cause: Some(Cause::Platform),
                            message: Some("label !takedown".into()),
                        },
                    ));
                    continue;
                }
                let kind = if parent.is_some() {
                    ThreadKind::Reply
                } else {
                    ThreadKind::Comment
                };
                p.thread = Some(Thread {
                    thread_of: thread_of.clone(),
                    reply_to: parent,
                    kind,
                    order: "tree".into(),
                });
                let id = p.id.clone();
                page.comments.push(p);
                push_replies(&mut stack, node, Some(id));
            }
            _ => {}
        }
    }
    Ok(page)
}

/// Reads the getPostThread answer of a comments plan.
struct RepliesPlan;

/// A verdict of an answer about the post (or its handle) as the conversation sees it: it
/// did not come, in the platform's words.
fn replies_unreachable(f: Finding) -> Finding {
    match f {
        Finding::Gone(g) => {
            let words = g.message.unwrap_or_else(|| format!("{:?}", g.outcome));
            unreachable(format!("{THREAD}: {words}"))
        }
        other => other,
    }
}

impl Plan for RepliesPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match read_xrpc(&answer, "getPostThread") {
            Api::Json(v) => {
                let t = v
                    .pointer("/thread/$type")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if t.ends_with("#notFoundPost") || t.ends_with("#blockedPost") {
                    let state = t.rsplit('#').next().unwrap_or(t);
                    unreachable(format!("{THREAD}: the post itself is #{state}"))
                } else {
                    match read_replies(&v) {
                        Ok(page) => Finding::Comments(page),
                        Err(missing) => broken(THREAD, missing),
                    }
                }
            }
            Api::Verdict(f) => replies_unreachable(f),
        })
    }
}

fn replies_step(did: &str, rkey: &str) -> Step {
    xrpc(
        THREAD,
        &[
            ("uri", &at_uri(did, rkey)),
            ("depth", REPLY_DEPTH),
            ("parentHeight", "0"),
        ],
        "getPostThread",
        RepliesPlan,
    )
}

/// Reads `resolveHandle` before the replies of a post named by handle.
struct ResolveRepliesPlan {
    rkey: String,
}

impl Plan for ResolveRepliesPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        match read_xrpc(&answer, "resolveHandle") {
            Api::Json(v) => {
                let v = Json::new("com.atproto.identity.resolveHandle", &v);
                match str_of(v.at("did")).filter(|d| d.starts_with("did:")) {
                    Some(did) => replies_step(&did, &self.rkey),
                    None => Step::Done(v.broken("did")),
                }
            }
            Api::Verdict(f) => Step::Done(replies_unreachable(f)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Timeline plan

/// Reads a `getAuthorFeed` page: posts (a repost becomes a post by the reposter whose
/// `repost_of` is the original) and the next cursor.
pub fn read_author_feed(v: &Value) -> Result<(Vec<Post>, Option<String>), String> {
    let feed = v.get("feed").and_then(Value::as_array).ok_or("feed")?;
    let mut posts = Vec::new();
    for item in feed {
        let pv = item.get("post").ok_or("feed[].post")?;
        let mut p = parse_post_view(pv).map_err(|f| format!("feed[].post.{f}"))?;
        if let Some(parent) = item
            .pointer("/reply/parent")
            .filter(|x| x.get("uri").is_some())
            && let Ok(pp) = parse_post_view(parent)
        {
            p.reply_to = Some(Box::new(pp));
        }
        let reason = item.get("reason");
        let is_repost = reason.and_then(|r| r.get("$type")).and_then(Value::as_str)
            == Some("app.bsky.feed.defs#reasonRepost");
        if is_repost && let Some(by) = reason.and_then(|r| r.get("by")) {
            let by_author = author_of(by);
            let did = by_author.id.clone().unwrap_or_default();
            let (pid, url) = match reason.and_then(|r| str_of(r.get("uri"))) {
                Some(u) => {
                    let rkey = u.rsplit('/').next().unwrap_or("").to_string();
                    (format!("{did}/repost/{rkey}"), u)
                }
                None => (
                    format!("{did}/repost/{}", p.platform_id.replace('/', ":")),
                    format!("{WEB}/profile/{did}"),
                ),
            };
            let mut w = Post::new("bluesky", &pid, &url);
            w.author = Some(by_author);
            if let Some(at) = reason.and_then(|r| str_of(r.get("indexedAt"))) {
                w.created_at = to_rfc3339(&at);
                w.created_at_raw = Some(at);
            }
            w.repost_of = Some(Box::new(p));
            posts.push(w);
        } else {
            posts.push(p);
        }
    }
    let cursor = str_of(v.get("cursor")).filter(|_| !posts.is_empty());
    Ok((posts, cursor))
}

/// Reads one `getAuthorFeed` page.
struct TimelinePlan;

impl Plan for TimelinePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match read_xrpc(&answer, "getAuthorFeed") {
            Api::Json(v) => match read_author_feed(&v) {
                Ok((posts, next_cursor)) => Finding::Timeline { posts, next_cursor },
                Err(missing) => broken("app.bsky.feed.getAuthorFeed", missing),
            },
            // A missing profile is the account's verdict, not a post's.
            Api::Verdict(Finding::Gone(g)) if g.outcome == Outcome::Deleted => {
                Finding::Gone(Gone {
                    outcome: Outcome::AccountGone,
                    ..g
                })
            }
            Api::Verdict(f) => f,
        })
    }
}

// ---------------------------------------------------------------------------------------

/// `(actor, rkey)` of a post target (`<actor>/<rkey>`, or its URL).
fn actor_rkey(target: &Target) -> Option<(String, String)> {
    let Target::Post { platform_id, url } = target else {
        return None;
    };
    platform_id
        .rsplit_once('/')
        .map(|(a, r)| (a.to_string(), r.to_string()))
        .or_else(|| {
            Url::parse(url).ok().and_then(|u| match recognise_url(&u) {
                Some(Target::Post { platform_id, .. }) => platform_id
                    .rsplit_once('/')
                    .map(|(a, r)| (a.to_string(), r.to_string())),
                _ => None,
            })
        })
}

impl Platform for Bluesky {
    fn name(&self) -> &'static str {
        "bluesky"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["public.api.bsky.app", "bsky.app"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    /// AT Protocol URIs (`at://did:plc:…/app.bsky.feed.post/…`) are not URLs the url
    /// crate can read (the DID's colons look like a port): they name their bsky.app form.
    fn normalise(&self, input: &str) -> Option<Result<Url, String>> {
        if !input.starts_with("at://") {
            return None;
        }
        Some(match at_uri_to_url(input) {
            Some(u) => super::read_url(&u),
            None => Err("not an at:// URI of a Bluesky post (at://<did or handle>/app.bsky.feed.post/<rkey>)".into()),
        })
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        let (actor, rkey) = actor_rkey(target).unwrap_or_default();
        post_plan(actor, rkey)
    }
    /// The replies to a post: the whole tree getPostThread gives, one page, so no cursor
    /// is ever handed out.
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        if let Some(c) = cursor {
            let missing = format!("a cursor Bluesky hands out (it hands out none, not {c:?})");
            return Some(Step::Done(broken(THREAD, missing)));
        }
        let (actor, rkey) = actor_rkey(target)?;
        if actor.starts_with("did:") {
            return Some(replies_step(&actor, &rkey));
        }
        Some(xrpc(
            "com.atproto.identity.resolveHandle",
            &[("handle", &actor)],
            "resolveHandle",
            ResolveRepliesPlan { rkey },
        ))
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
        let mut params = vec![("actor", account_id.as_str()), ("limit", "50")];
        if let Some(c) = cursor {
            params.push(("cursor", c));
        }
        Some(xrpc(
            "app.bsky.feed.getAuthorFeed",
            &params,
            "getAuthorFeed",
            TimelinePlan,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facets_use_byte_offsets() {
        // "🔥 " is 5 bytes: the link starts at byte 5.
        let text = "🔥 see x.com <now>";
        let facets = json!([{"index": {"byteStart": 9, "byteEnd": 14},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://x.com/"}]}]);
        assert_eq!(
            facets_to_html(text, Some(&facets)),
            "🔥 see <a href=\"https://x.com/\">x.com</a> &lt;now&gt;"
        );
        // Out of range or inside a character: ignored.
        let bad = json!([{"index": {"byteStart": 1, "byteEnd": 3}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://a/"}]},
                         {"index": {"byteStart": 2, "byteEnd": 99}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://b/"}]}]);
        assert_eq!(facets_to_html("🔥a\nb", Some(&bad)), "🔥a<br>b");
    }

    /// A live thread that carries every marker in the post's text, a quoted post that is
    /// gone, and `!takedown` labels Bluesky's moderation service does not stand by (a
    /// self-label, another labeller's, a negated one) is read as the post.
    #[test]
    fn markers_bluesky_does_not_stand_by_never_make_a_live_post_gone() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/bluesky/xrpc_app.bsky.feed.getPostThread_3k7qmjev5lr2s.json"
        );
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let did = "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns";
        let uri = format!("at://{did}/app.bsky.feed.post/3k7qmjev5lr2s");
        let all = "NotFound AccountTakedown AccountDeactivated BlockedActor BlockedByActor \
                   Unable to resolve handle Profile not found !takedown \
                   app.bsky.feed.defs#notFoundPost app.bsky.feed.defs#blockedPost";
        let labels = json!([
            {"src": did, "uri": uri, "val": "!takedown", "cts": "2024-01-01T00:00:00Z"},
            {"src": "did:plc:someotherlabeller", "uri": uri, "val": "!takedown", "cts": "2024-01-01T00:00:00Z"},
            {"src": MODERATION_DID, "uri": uri, "val": "!takedown", "neg": true, "cts": "2024-01-02T00:00:00Z"},
            {"src": MODERATION_DID, "uri": uri, "val": all, "cts": "2024-01-01T00:00:00Z"},
        ]);
        let post = &mut v["thread"]["post"];
        post["labels"] = labels.clone();
        post["author"]["labels"] = labels;
        post["author"]["displayName"] = json!(all);
        post["record"]["text"] = json!(all);
        post["embed"] = json!({
            "$type": "app.bsky.embed.record#view",
            "record": {"$type": "app.bsky.embed.record#viewNotFound", "uri": uri, "notFound": true}
        });
        v["thread"]["parent"] =
            json!({"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": true});
        match read_thread(&v) {
            Finding::Post(p) => {
                assert_eq!(p.platform_id, format!("{did}/3k7qmjev5lr2s"));
                assert_eq!(p.text.as_deref(), Some(all));
            }
            other => panic!("a live post read as {other:?}"),
        }
        // The moderation service's own label is read: the rule is who speaks.
        for (at, outcome) in [
            ("labels", Outcome::Deleted),
            ("author", Outcome::AccountGone),
        ] {
            let mut down = v.clone();
            let label = json!([{"src": MODERATION_DID, "uri": uri, "val": "!takedown", "cts": "2024-01-01T00:00:00Z"}]);
            if at == "labels" {
                down["thread"]["post"]["labels"] = label;
            } else {
                down["thread"]["post"]["author"]["labels"] = label;
            }
            match read_thread(&down) {
                Finding::Gone(g) => assert_eq!(g.outcome, outcome, "{at}"),
                other => panic!("{at}: {other:?}"),
            }
        }
    }

    /// A reply whose words are the AppView's error names is a reply; only a node's own
    /// `$type` lists a reply gone, and then under its uri's id with the AppView's outcome.
    #[test]
    fn a_reply_saying_not_found_is_a_normal_reply() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bluesky/");
        let read = |f: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}{f}")).unwrap()).unwrap()
        };
        let mut v = read("xrpc_app.bsky.feed.getPostThread_3k7rmyigapw2y_replies.json");
        let words = "NotFound: Record not found app.bsky.feed.defs#notFoundPost #blockedPost";
        let nested = &mut v["thread"]["replies"][0]["replies"][0]["post"];
        nested["record"]["text"] = json!(words);
        nested["author"]["displayName"] = json!(words);
        let page = read_replies(&v).unwrap();
        assert_eq!(page.comments.len(), 5);
        assert!(page.gone.is_empty());
        let reply = &page.comments[1];
        assert_eq!(reply.text.as_deref(), Some(words));
        let thread = reply.thread.as_ref().unwrap();
        assert_eq!(thread.kind, ThreadKind::Reply);
        assert_eq!(
            thread.reply_to.as_ref().map(|r| r.0.as_str()),
            Some("bluesky:did:plc:3vqyk736eakmlwkmfraauemo/3k7rob7ugc72d")
        );

        let page = read_replies(&read("constructed_getPostThread_gone_replies.json")).unwrap();
        let gone: Vec<(&str, Outcome)> = page
            .gone
            .iter()
            .map(|(id, g)| (id.0.as_str(), g.outcome))
            .collect();
        assert_eq!(
            gone,
            [
                (
                    "bluesky:did:plc:3vqyk736eakmlwkmfraauemo/3k7rocw2w6u2t",
                    Outcome::Deleted
                ),
                (
                    "bluesky:did:plc:w2gsbanugiw67kud7sieilh7/3k7rn6uemfg2c",
                    Outcome::Restricted
                ),
            ]
        );
        // The post itself not found says nothing about its replies.
        let url = "https://bsky.app/profile/did:plc:uy7ehrx332p6dow5sk32hxzq/post/3k7rmyigapw2y";
        let target = recognise_url(&Url::parse(url).unwrap()).unwrap();
        let first = Bluesky
            .comments_plan(&target, None, &PlanContext::default())
            .unwrap();
        let body = json!({"thread": {"$type": "app.bsky.feed.defs#notFoundPost",
            "uri": "at://did:plc:uy7ehrx332p6dow5sk32hxzq/app.bsky.feed.post/3k7rmyigapw2y",
            "notFound": true}})
        .to_string();
        let (f, _) = crate::platforms::testing::run(first, |req| {
            Fetched::Response(crate::platforms::Response {
                url: req.url.clone(),
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.clone().into_bytes(),
                truncated: false,
            })
        });
        match f {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn at_uris_are_split_by_hand() {
        assert_eq!(
            parse_at_uri("at://did:plc:abc/app.bsky.feed.post/3k7"),
            Some(("did:plc:abc".into(), "3k7".into()))
        );
        assert_eq!(parse_at_uri("at://did:plc:abc/app.bsky.feed.post"), None);
        assert_eq!(parse_at_uri("https://bsky.app/x"), None);
    }
}
