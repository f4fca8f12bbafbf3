//! RSS 0.9x/1.0/2.0, Atom and JSON Feed: a feed is an account whose posts are its
//! entries. Parsing is `feed-rs`'s; this file only decides what a feed URL is and what
//! an entry becomes.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `feed:https://…`, `feed:http://…` (the de-facto feed URI scheme), `feed://host/…` (its older form, meaning http) | feed, whatever the path |
//! | an http(s) URL whose last path segment ends `.rss`, `.atom` or `.rdf`, or is `feed`, `rss`, `atom`, `feed.xml`, `rss.xml`, `atom.xml`, `index.xml` or `feed.json` | feed |
//! | an http(s) URL with `?format=rss\|atom\|feed` or `?feed=rss\|rss2\|atom\|rdf` (WordPress) | feed |
//!
//! The row sits after the platforms with URLs of their own (`t.me/rss` stays a Telegram
//! channel, Reddit keeps what it recognises) and just before Mastodon: Mastodon's
//! `/@user.rss` is the account's public RSS and is read as such (Mastodon would take it
//! for an account named `user.rss`), while `/@user` stays Mastodon's. A path named `rss`
//! or `feed` that turns out to be an HTML page is reported as not a feed.
//!
//! The target is `Account { account_id: <canonical http(s) URL>, url }`. The watchlist
//! keeps `url` and recognises it again at every poll, so `url` is the plain http(s) URL
//! where its path already says "feed", and `feed:<http(s) URL>` otherwise.
//!
//! # Timeline
//!
//! One GET with an Accept header for feeds. Each entry with an http(s) link becomes a
//! post whose id is the one samizdat gives that link when it captures it (a Mastodon
//! status link → `mastodon:<host>/<id>`, a Weibo link → `weibo:<mid>`, any other page →
//! `web:<sha256>`), so a poll finds entries already in the archive and hands the rest to
//! the platform that owns the link. Entries are newest first when every entry is dated;
//! otherwise the feed's own order is kept. RFC 5005 paging (`rel="next"` archive pages)
//! is not followed: a poll reads the current document only.
//!
//! # Verdicts
//!
//! 404 and 410 → deleted, cause unknown. 401, 403, 429, 5xx, other errors and network
//! failures → unreachable (never a deletion). Only the status is read: no word of a feed
//! (its title, an entry saying "deleted" or "404") concludes anything. A 200 that `feed-rs` cannot read as a feed
//! → broken, naming what came instead.
//!
//! # Capture
//!
//! `samizdat capture <feed URL>` keeps the feed document as the web platform keeps a
//! page, under the same `web:<sha256>` id it had before feeds were a platform, so earlier
//! captures and checks of feed documents go on unchanged.

use super::kit::{gone, unreachable};
use super::{
    Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Response, Step, Target, web,
};
use crate::extract::html_to_text;
use crate::model::{Author, Cause, Media, MediaKind, Outcome, Post};
use serde_json::json;
use url::Url;

pub struct Feed;

/// Feed formats first; XML and JSON in general next (many feeds are served as
/// `text/xml`); anything last, so a server that negotiates badly still answers.
const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, \
     application/json;q=0.7, */*;q=0.5";

/// At most this many entries per poll, the newest: podcast feeds list their whole
/// history, and a poll only needs what is new.
const MAX_ENTRIES: usize = 500;

/// The http(s) URL a feed URI names: `feed:https://a/b` → `https://a/b`,
/// `feed://a/b` → `http://a/b`. `None` when `s` does not start with `feed:`.
pub fn strip_feed_scheme(s: &str) -> Option<String> {
    let rest = s
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("feed:"))
        .map(|_| &s[5..])?;
    Some(if rest.starts_with("//") {
        format!("http:{rest}")
    } else {
        rest.to_string()
    })
}

fn is_http(u: &Url) -> bool {
    matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
}

/// Whether an http(s) URL's path or query says it is a feed (see the module docs).
pub fn looks_like_feed(url: &Url) -> bool {
    let last = url
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .unwrap_or("")
        .to_ascii_lowercase();
    let by_name = [".rss", ".atom", ".rdf"].iter().any(|e| last.ends_with(e))
        || matches!(
            last.as_str(),
            "feed"
                | "rss"
                | "atom"
                | "feed.xml"
                | "rss.xml"
                | "atom.xml"
                | "index.xml"
                | "feed.json"
        );
    by_name
        || url.query_pairs().any(|(k, v)| {
            let v = v.to_ascii_lowercase();
            (k == "format" && matches!(v.as_str(), "rss" | "atom" | "feed"))
                || (k == "feed" && matches!(v.as_str(), "rss" | "rss2" | "atom" | "rdf"))
        })
}

/// Whether a platform ahead of `feed` in [`super::PLATFORMS`] takes this URL (then only
/// the `feed:` form reaches us).
fn claimed_before_feed(url: &Url) -> bool {
    super::PLATFORMS
        .iter()
        .take_while(|p| p.name() != "feed")
        .any(|p| p.recognise(url).is_some())
}

/// The http(s) URL of a feed target (its `url`, `feed:` prefix removed).
fn target_url(target: &Target) -> Option<Url> {
    let s = match target {
        Target::Account { url, .. } | Target::Post { url, .. } | Target::Follow { url } => url,
    };
    let s = strip_feed_scheme(s).unwrap_or_else(|| s.clone());
    Url::parse(&s).ok().filter(is_http)
}

impl Platform for Feed {
    fn name(&self) -> &'static str {
        "feed"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        let http = if url.scheme() == "feed" {
            Url::parse(&strip_feed_scheme(url.as_str())?)
                .ok()
                .filter(is_http)?
        } else if is_http(url) && looks_like_feed(url) {
            url.clone()
        } else {
            return None;
        };
        let http = web::canonical(&http);
        let url = if looks_like_feed(&http) && !claimed_before_feed(&http) {
            http.to_string()
        } else {
            format!("feed:{http}")
        };
        Some(Target::Account {
            account_id: http.to_string(),
            url,
        })
    }
    fn captures_accounts(&self) -> bool {
        true
    }
    /// `feed:https://…` (and the older `feed://host/…`) name a feed to watch; the prefix
    /// is kept (this platform reads it) once the URL inside is known to be good.
    fn normalise(&self, input: &str) -> Option<Result<Url, String>> {
        let inner = strip_feed_scheme(input)?;
        Some(
            super::read_url(&inner)
                .map_err(|message| format!("after feed:, {message}"))
                .and_then(|u| {
                    if !matches!(u.scheme(), "http" | "https") {
                        return Err("feed: must be followed by an http or https URL".into());
                    }
                    Url::parse(&format!("feed:{u}")).map_err(|e| e.to_string())
                }),
        )
    }
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Step {
        let Some(url) = target_url(target) else {
            return Step::Done(super::kit::broken(
                "feed",
                "an http(s) feed URL in the target",
            ));
        };
        let page = Target::Post {
            platform_id: web::platform_id(&url),
            url: web::canonical(&url).to_string(),
        };
        web::Web.post_plan(&page, job, ctx)
    }
    fn timeline_plan(
        &self,
        target: &Target,
        // No paging (see the module docs): every poll reads the document as it is.
        _cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let url = target_url(target)?;
        let req = Request::get(url, "feed").header("Accept", ACCEPT);
        Some(Step::fetch(req, TimelinePlan))
    }
}

/// Reads the feed document of a poll.
struct TimelinePlan;

impl Plan for TimelinePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Failed(e) => unreachable(e),
            Fetched::Response(r) => read_answer(&r),
        })
    }
}

/// What a feed's HTTP answer says: a page of posts, gone, unreachable or not a feed.
pub fn read_answer(r: &Response) -> Finding {
    match r.status {
        404 | 410 => {
            return gone(
                Outcome::Deleted,
                Some(Cause::Unknown),
                format!("HTTP {}", r.status),
            );
        }
        200..=299 => {}
        // 401/403 (a wall), 429, 5xx and anything else say nothing about the feed.
        s => return unreachable(format!("HTTP {s}")),
    }
    match parse(&r.url, &r.body) {
        Ok(posts) => Finding::Timeline {
            posts,
            next_cursor: None,
        },
        Err(e) => {
            let mime = r.mime();
            let got = if mime.is_empty() {
                "no Content-Type".to_string()
            } else {
                mime.clone()
            };
            let mut missing = format!("an RSS, Atom or JSON Feed document (got {got}: {e})");
            if r.truncated {
                missing.push_str("; the body was cut at the size limit (http.max_body_bytes)");
            }
            if mime == "text/html" || mime == "application/xhtml+xml" {
                missing.push_str("; this is a web page: watch the feed's own URL instead");
            }
            Finding::Broken {
                endpoint: "feed".into(),
                missing,
            }
        }
    }
}

/// The posts of a feed document, newest first. `base` is the feed's URL (relative links
/// are resolved against it). The error is `feed-rs`'s.
pub fn parse(base: &Url, body: &[u8]) -> Result<Vec<Post>, String> {
    // Raw bytes: feed-rs decodes by the XML declaration's encoding itself.
    let feed = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build()
        .parse(body)
        .map_err(|e| e.to_string())?;
    let mut dated: Vec<(Option<jiff::Timestamp>, Post)> = feed
        .entries
        .iter()
        .filter_map(|e| entry_post(&feed, e, base))
        .collect();
    if dated.iter().all(|(t, _)| t.is_some()) {
        // Stable: entries of the same instant keep the feed's order.
        dated.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(dated
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| seen.insert(p.id.clone()))
        .take(MAX_ENTRIES)
        .collect())
}

/// The entry's link: its first alternate (or rel-less) link that is an http(s) URL,
/// else its id when that is an absolute http(s) URL (an RSS `guid` permalink).
fn entry_link(e: &feed_rs::model::Entry, base: &Url) -> Option<Url> {
    e.links
        .iter()
        .filter(|l| {
            l.rel
                .as_deref()
                .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
        })
        .find_map(|l| base.join(l.href.trim()).ok().filter(is_http))
        .or_else(|| Url::parse(e.id.trim()).ok().filter(is_http))
}

fn entry_post(
    feed: &feed_rs::model::Feed,
    e: &feed_rs::model::Entry,
    base: &Url,
) -> Option<(Option<jiff::Timestamp>, Post)> {
    let link = entry_link(e, base)?;
    let (platform, platform_id) = match super::recognise(&link) {
        Some((p, Target::Post { platform_id, .. })) => (p.name(), platform_id),
        // A share link or an account page: captured (or refused) by URL, so the page's
        // own id is the best guess; a later poll finds it by URL if it was captured.
        _ => ("web", web::platform_id(&link)),
    };
    // No `html`: these posts tell the watcher what to capture and when it was posted;
    // what the entry says is captured from its own page, and the feed document itself
    // is kept in the archive by the poll.
    let mut post = Post::new(platform, &platform_id, link.as_str());
    post.title = e
        .title
        .as_ref()
        .map(|t| text_of(&t.content, t.content_type.as_ref()))
        .filter(|t| !t.is_empty());
    let body = e
        .content
        .as_ref()
        .and_then(|c| {
            c.body
                .as_deref()
                .map(|b| text_of(b, c.content_type.as_ref()))
        })
        .filter(|t| !t.is_empty())
        .or_else(|| {
            e.summary
                .as_ref()
                .map(|s| text_of(&s.content, s.content_type.as_ref()))
                .filter(|t| !t.is_empty())
        });
    post.text = body.or_else(|| post.title.clone());
    let when = e
        .published
        .or(e.updated)
        .and_then(|t| jiff::Timestamp::new(t.timestamp(), t.timestamp_subsec_nanos() as i32).ok());
    post.created_at = when.map(|t| t.to_string());
    post.author = e
        .authors
        .first()
        .or(feed.authors.first())
        .map(|a| Author {
            id: None,
            name: a.name.as_deref().map(person_name).filter(|n| !n.is_empty()),
            handle: None,
            url: a
                .uri
                .as_deref()
                .and_then(|u| base.join(u).ok())
                .filter(is_http)
                .map(|u| u.to_string()),
        })
        .filter(|a| a.name.is_some() || a.url.is_some());
    for m in &e.media {
        // feed-rs merges an item's `media:content` elements into one object with one
        // description (the last one read): it is only an item's alt text when alone.
        let alt = m
            .description
            .as_ref()
            .filter(|_| m.content.len() == 1)
            .map(|d| d.content.trim().to_string())
            .filter(|d| !d.is_empty());
        for c in &m.content {
            let Some(u) = c.url.as_ref().filter(|u| is_http(u)) else {
                continue;
            };
            let mime = c
                .content_type
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default();
            let kind = match mime.split('/').next().unwrap_or("") {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                "audio" => MediaKind::Audio,
                _ => MediaKind::File,
            };
            let mut media = Media::new(kind, u.as_str());
            media.alt = alt.clone();
            post.media.push(media);
        }
    }
    post.extra.insert("feed".into(), json!(base.as_str()));
    if !e.id.is_empty() {
        post.extra.insert("feed_entry_id".into(), json!(e.id));
    }
    Some((when, post))
}

/// RSS 2.0 `<author>` is `email (Name)`; feed-rs keeps `(Name)`.
fn person_name(n: &str) -> String {
    let n = n.trim();
    n.strip_prefix('(')
        .and_then(|m| m.strip_suffix(')'))
        .unwrap_or(n)
        .trim()
        .to_string()
}

/// Plain text of a feed text construct: HTML (and XHTML) made readable, plain text
/// trimmed.
fn text_of(content: &str, content_type: &str) -> String {
    if content_type.starts_with("text/plain") {
        content.trim().to_string()
    } else {
        html_to_text(content).trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What pages say about gone things, in many platforms' words: `web` and `feed` read
    /// only the HTTP status (404 and 410), never a word of the answer.
    const GONE_WORDS: &[&str] = &[
        "404 Not Found",
        "410 Gone",
        "Page not found",
        "This page has been deleted",
        "This account has been suspended",
        "Post not found",
        "The content has been deleted by the author.",
        "该内容已被发布者删除",
        "此内容因违规无法查看",
        "已被封禁",
        "[removed]",
        "[deleted]",
        "This Post is unavailable.",
        "Record not found",
    ];

    /// A live feed (HTTP 200) whose title, entries and links say every gone word is read
    /// as its entries: only a 404 or 410 status concludes anything.
    #[test]
    fn words_in_a_live_feed_never_make_it_gone() {
        let all = GONE_WORDS.join(" | ").replace('&', "&amp;");
        let feed = format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>{all}</title>\
             <link>https://blog.example/</link><description>{all}</description>\
             <item><title>{all}</title><link>https://blog.example/gone-404.html</link>\
             <description>{all}</description><pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate></item>\
             <item><title>[deleted]</title><link>https://blog.example/removed.html</link>\
             <pubDate>Tue, 02 Jan 2024 00:00:00 +0000</pubDate></item></channel></rss>"
        );
        let r = Response {
            url: Url::parse("https://blog.example/feed.xml").unwrap(),
            status: 200,
            headers: vec![("content-type".into(), "application/rss+xml".into())],
            body: feed.into_bytes(),
            truncated: false,
        };
        match read_answer(&r) {
            Finding::Timeline { posts, .. } => assert_eq!(posts.len(), 2),
            other => panic!("a live feed read as {other:?}"),
        }
        let gone = Response { status: 404, ..r };
        assert!(matches!(read_answer(&gone), Finding::Gone(g) if g.outcome == Outcome::Deleted));
    }

    fn acct(url: &str) -> Option<(String, String)> {
        match Feed.recognise(&Url::parse(url).unwrap()) {
            Some(Target::Account { account_id, url }) => Some((account_id, url)),
            None => None,
            Some(t) => panic!("not an account: {t:?}"),
        }
    }

    /// Which platform the shared table gives `url` to.
    fn owner(url: &str) -> &'static str {
        super::super::recognise(&Url::parse(url).unwrap())
            .map(|(p, _)| p.name())
            .unwrap_or("none")
    }

    #[test]
    fn feed_paths_are_feeds_and_pages_are_not() {
        for u in [
            "https://example.org/blog/feed.xml",
            "https://example.org/feed",
            "https://example.org/blog/feed/",
            "https://example.org/rss",
            "https://example.org/index.xml",
            "https://example.org/feed.json",
            "https://example.org/atom.xml",
            "https://github.com/feed-rs/feed-rs/releases.atom",
            "https://www.debian.org/News/news.rdf",
            "https://example.org/news.RSS",
            "https://example.org/?feed=rss2",
            "https://example.org/blog?format=atom",
        ] {
            let (id, url) = acct(u).unwrap_or_else(|| panic!("{u} is a feed"));
            assert_eq!(id, u, "{u}");
            assert_eq!(url, u, "the plain form names the feed: {u}");
        }
        for u in [
            "https://example.org/blog",
            "https://example.org/feeding",
            "https://example.org/rss-guide.html",
            "https://example.org/?format=html",
            "https://example.org/feed.xml.bak",
        ] {
            assert_eq!(acct(u), None, "{u}");
        }
    }

    #[test]
    fn the_feed_scheme_is_stripped_and_kept_where_the_path_says_nothing() {
        assert_eq!(
            strip_feed_scheme("feed:https://a.example/x").as_deref(),
            Some("https://a.example/x")
        );
        assert_eq!(
            strip_feed_scheme("FEED://a.example/x").as_deref(),
            Some("http://a.example/x")
        );
        assert_eq!(strip_feed_scheme("https://a.example/feed"), None);
        assert_eq!(strip_feed_scheme("fé"), None);
        assert_eq!(
            acct("feed:https://example.org/blog#top"),
            Some((
                "https://example.org/blog".into(),
                "feed:https://example.org/blog".into()
            ))
        );
        assert_eq!(
            acct("feed:https://example.org/feed.xml"),
            Some((
                "https://example.org/feed.xml".into(),
                "https://example.org/feed.xml".into()
            ))
        );
        assert_eq!(
            acct("feed://example.org/rss.xml"),
            Some((
                "http://example.org/rss.xml".into(),
                "http://example.org/rss.xml".into()
            ))
        );
        assert_eq!(acct("feed:ftp://example.org/rss.xml"), None);
        assert_eq!(acct("feed:mailto:a@example.org"), None);
    }

    #[test]
    fn platforms_with_their_own_urls_keep_them() {
        // Mastodon's per-account RSS is a feed; the account page stays Mastodon's.
        assert_eq!(owner("https://mastodon.social/@Gargron.rss"), "feed");
        assert_eq!(owner("https://mastodon.social/@Gargron"), "mastodon");
        assert_eq!(owner("https://mastodon.social/@Gargron/1234"), "mastodon");
        // A Telegram channel may be called "rss".
        assert_eq!(owner("https://t.me/rss"), "telegram");
        assert_eq!(owner("feed:https://t.me/rss"), "feed");
        assert_eq!(
            acct("feed:https://t.me/rss").unwrap().1,
            "feed:https://t.me/rss",
            "the plain form would be Telegram's"
        );
        // Reddit's listing feeds are feeds; its posts stay Reddit's.
        assert_eq!(owner("https://www.reddit.com/r/rust/.rss"), "feed");
        assert_eq!(
            owner("https://www.reddit.com/r/rust/comments/glvkc5/"),
            "reddit"
        );
        assert_eq!(owner("https://weibo.com/u/1195230310"), "weibo");
        assert_eq!(owner("https://example.org/blog"), "web");
    }

    #[test]
    fn an_account_url_recognises_back_to_the_same_feed() {
        for u in [
            "https://example.org/feed.xml",
            "feed:https://example.org/blog",
            "feed://example.org/blog?x=1",
            "feed:https://t.me/rss",
            "https://mastodon.social/@Gargron.rss",
        ] {
            let (p, t) = super::super::recognise(&Url::parse(u).unwrap()).unwrap();
            assert_eq!(p.name(), "feed", "{u}");
            let Target::Account { url, .. } = &t else {
                panic!("{u}: {t:?}")
            };
            let (p2, t2) = super::super::recognise(&Url::parse(url).unwrap()).unwrap();
            assert_eq!((p2.name(), t2), ("feed", t.clone()), "{u} → {url}");
        }
    }

    #[test]
    fn rss_author_names_lose_their_parentheses() {
        assert_eq!(person_name(" (Evan Ovadia) "), "Evan Ovadia");
        assert_eq!(person_name("Ada"), "Ada");
    }
}
