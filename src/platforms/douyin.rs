//! Douyin (抖音) videos and picture posts (图文) from the server-rendered share page,
//! without login and without any signature.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://www.douyin.com/video/<aweme_id>` (also `douyin.com`) | post `douyin:<aweme_id>` |
//! | `https://www.douyin.com/note/<aweme_id>` (a picture post) | the same kind of post |
//! | `https://www.iesdouyin.com/share/video/<id>/`, `…/share/note/<id>/` (also `iesdouyin.com`) | post |
//! | `https://m.douyin.com/share/video/<id>`, `…/share/note/<id>` | post |
//! | `https://www.douyin.com/<any page>?modal_id=<id>` (`/user/<sec_uid>`, `/discover`, `/jingxuan`, `/search/…`: the post opened over the page) | post |
//! | `https://v.douyin.com/<code>/` (short link) | follow: resolved by redirect, every hop recorded |
//! | share text (`7.43 复制打开抖音，看看【某某的作品】… https://v.douyin.com/iRNBho5m/ Mdl:/ …`) | the first Douyin link in it ([`Platform::normalise`]) |
//!
//! A post's id is `douyin:<aweme_id>`, digits only (any other id is no Douyin URL). The
//! canonical URL is `https://www.douyin.com/video/<id>` (`…/note/<id>` for a picture
//! post); queries (`?previous_page=…`, share parameters) are dropped. An account
//! (`www.douyin.com/user/<sec_uid>` without `modal_id`) is not recognised: the `web`
//! reader keeps it as a page (see *Accounts* below).
//!
//! # Endpoint
//!
//! One request, capture and check alike: `GET https://www.iesdouyin.com/share/video/<id>/`
//! (`/share/note/<id>/` for a URL that named a picture post), as a page, redirects
//! followed and recorded, with `Referer: https://www.douyin.com/` and a mobile browser's
//! `User-Agent` (the share page is the mobile page: it embeds the post only for phones;
//! `[platforms.douyin] headers` may set another). The page embeds its state as JSON in
//! `<script>window._ROUTER_DATA = {…}</script>`; the post is
//! `loaderData["video_(id)/page"].videoInfoRes` (or `note_(id)/page`):
//!
//! - `item_list[]`, the item whose `aweme_id` is the post's: `desc` (the text),
//!   `create_time` (seconds; written in Beijing time, +08:00), `author {uid, sec_uid,
//!   unique_id, short_id, nickname}` (the author's URL is `www.douyin.com/user/<sec_uid>`),
//!   `statistics {digg_count, comment_count, share_count, collect_count, play_count}`,
//!   `video {play_addr {uri, url_list}, cover {url_list}, duration}` and, for a picture
//!   post, `images [{url_list}]`;
//! - `filter_list[]`, `{aweme_id, filter_reason, detail_msg, notice}`, when the post is
//!   not shown.
//!
//! `www.douyin.com/aweme/v1/web/aweme/detail/` is **not** asked: it wants `a_bogus` /
//! `X-Bogus` signatures made by obfuscated JavaScript, which samizdat does not copy.
//!
//! Media, each fetched with `Referer: https://www.douyin.com/` (the CDN checks it):
//!
//! - a video: its stream, the first URL of `video.play_addr.url_list` with the
//!   watermarking path `/aweme/v1/playwm/` replaced by `/aweme/v1/play/` (the same
//!   stream without the watermark Douyin draws on shared copies: the upload as its author
//!   made it); the URL as given is kept in `extra.play_addr`. Then its cover
//!   (`video.cover.url_list[0]`).
//! - a picture post (`images` not empty): each picture (`url_list[0]`), in order. The
//!   slideshow `video` such posts also carry is not fetched.
//!
//! # Verdicts
//!
//! Read only from the page's state (`_ROUTER_DATA`) and the address the answer came
//! from, never from the page's other scripts, its title or the post's own text:
//!
//! | answer | outcome |
//! | --- | --- |
//! | the item whose `aweme_id` is the post's, HTTP 200 | the post, whatever its text, the page or its scripts say |
//! | the item with `status.is_delete: true` | deleted, cause unknown |
//! | no answer, HTTP 403, 429, 5xx | unreachable |
//! | a last hop on a `verify.*` host or a captcha or login path, `sso.douyin.com` | unreachable (risk control, login wall) |
//! | anywhere in a page without the post: 验证码中间页, 请完成下列验证后继续, `verify.snssdk.com`, `verify.zijieapi.com` | unreachable (risk control: the captcha page) |
//! | `filter_list`: `filter_reason` `status_deleted` | deleted, cause unknown (the words do not say by whom) |
//! | … `status_deleted` with `detail_msg`/`notice` saying 已被作者删除 or 作者已删除 | deleted by the author |
//! | … `status_audit_not_pass` | deleted by the platform (failed its review) |
//! | … `status_self_see` | restricted, cause author (visible to the author only) |
//! | … `status_part_see`, `status_friend_see` | restricted, cause author (visible to some only) |
//! | … `status_reviewing`, `status_audit` | restricted (under review) |
//! | … `detail_msg`/`notice` saying 账号已封禁, 账号已被封禁, 该账号已被封禁, 用户已被封禁 | account gone, by the platform |
//! | … `detail_msg`/`notice` saying 账号已注销, 用户已注销, 该账号已注销 | account gone, by the author |
//! | … any other `filter_reason` (story filters, unknown words) | unreachable, the platform's words kept |
//! | a page without `_ROUTER_DATA` (a login or app-download page), an empty `_ROUTER_DATA` or one without `videoInfoRes` (a shell that loads the post by script) | unreachable |
//! | `videoInfoRes` with neither the post nor a filter entry | unreachable; items for other ids only: broken |
//!
//! The generic `detail_msg` 因作品权限或已被删除，无法观看，去看看其他作品吧 ("for the work's
//! permissions or because it was deleted") comes with several reasons, so the outcome is
//! read from `filter_reason`; the words are kept as the verdict's message
//! (`<filter_reason>: <detail_msg> (<notice>)`). The risk-control words win over a
//! filter entry.
//!
//! # Comments
//!
//! Not read: Douyin has no public comment listing without a signature (the web list,
//! `aweme/v1/web/comment/list/`, needs `a_bogus`). `counts.comments` says how many
//! there were.
//!
//! # Without login; accounts
//!
//! Public videos and picture posts are read. Posts for friends or the author only, and
//! posts under review, are restricted in Douyin's words. An account's posts are listed
//! only by `aweme/v1/web/aweme/post/`, which needs signatures: accounts are not
//! recognised and cannot be watched. Cookies in `[platforms.douyin]` are sent by the
//! fetcher but this reader asks nothing more with them.

use super::kit::{Json, beijing, broken, follow_step, gone, https, str_of, text_html, unreachable};
use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target};
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post};
use serde_json::{Value, json};
use url::Url;

pub struct Douyin;

const WWW: &str = "https://www.douyin.com";
const SHARE: &str = "https://www.iesdouyin.com/share";
const REFERER: &str = "https://www.douyin.com/";
const ENDPOINT: &str = "douyin share page";
/// A phone's browser: the share page embeds the post (`videoInfoRes`) only for phones.
const MOBILE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Video,
    Note,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Video => "video",
            Kind::Note => "note",
        }
    }
    fn page(self, id: &str) -> String {
        format!("{WWW}/{}/{id}", self.path())
    }
    fn share(self, id: &str) -> String {
        format!("{SHARE}/{}/{id}/", self.path())
    }
}

/// An aweme id: digits only (they are 19 long today; older ones are shorter).
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 24 && s.bytes().all(|b| b.is_ascii_digit())
}

fn target(kind: Kind, id: &str) -> Option<Target> {
    is_id(id).then(|| Target::Post {
        platform_id: id.to_string(),
        url: kind.page(id),
    })
}

/// A v.douyin.com code: letters, digits, `-` and `_`, as the app writes them.
fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn recognise_url(u: &Url) -> Option<Target> {
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let segs = super::kit::segments(u);
    match host.as_str() {
        "v.douyin.com" => match segs.as_slice() {
            [code] if is_code(code) => Some(Target::Follow { url: u.to_string() }),
            _ => None,
        },
        "www.iesdouyin.com" | "iesdouyin.com" | "m.douyin.com" => match segs.as_slice() {
            ["share", "video", id] => target(Kind::Video, id),
            ["share", "note", id] => target(Kind::Note, id),
            _ => None,
        },
        "www.douyin.com" | "douyin.com" => {
            // The post opened over another page (a profile, discover, search): the page
            // is only its background.
            if let Some((_, id)) = u.query_pairs().find(|(k, _)| k == "modal_id") {
                return target(Kind::Video, &id);
            }
            match segs.as_slice() {
                ["video", id] => target(Kind::Video, id),
                ["note", id] => target(Kind::Note, id),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The share text people copy from the app: the first Douyin link in it. `None` for an
/// input that is one plain URL (it is read as such) or that names no Douyin host.
fn read_share_text(input: &str) -> Option<Result<Url, String>> {
    let s = input.trim();
    if s.is_ascii() && !s.contains(char::is_whitespace) {
        return None;
    }
    // Tokens end at blanks, at any non-ASCII character (【】，。 and the text around the
    // link) and at quotes and brackets.
    let tokens = s.split(|c: char| {
        c.is_whitespace() || !c.is_ascii() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')')
    });
    let mut named_douyin = false;
    for t in tokens {
        let t = t.trim_end_matches(['.', ',', ';', '!', '?']);
        let lower = t.to_ascii_lowercase();
        let candidate = if lower.starts_with("https://") || lower.starts_with("http://") {
            t.to_string()
        } else if [
            "v.douyin.com/",
            "www.douyin.com/",
            "www.iesdouyin.com/",
            "m.douyin.com/",
        ]
        .iter()
        .any(|h| lower.starts_with(h))
        {
            format!("https://{t}")
        } else {
            continue;
        };
        let Ok(u) = Url::parse(&candidate) else {
            continue;
        };
        let host = u.host_str().unwrap_or("").to_ascii_lowercase();
        if !(host == "douyin.com"
            || host.ends_with(".douyin.com")
            || host == "iesdouyin.com"
            || host.ends_with(".iesdouyin.com"))
        {
            continue;
        }
        named_douyin = true;
        if recognise_url(&u).is_some() {
            return Some(Ok(u));
        }
    }
    named_douyin.then(|| {
        Err("the text names Douyin but no post link samizdat reads (https://v.douyin.com/<code>/, https://www.douyin.com/video/<id>, …)".to_string())
    })
}

// ---------------------------------------------------------------------------------------
// The page's state

/// The JSON of `window._ROUTER_DATA = {…}` in one of the page's scripts, if any.
fn router_data(html: &str) -> Option<Value> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("script").expect("a constant selector");
    doc.select(&sel).find_map(|s| {
        let text: String = s.text().collect();
        let at = text.find("window._ROUTER_DATA")?;
        let rest = &text[at + "window._ROUTER_DATA".len()..];
        let rest = rest.trim_start().strip_prefix('=')?;
        // The first JSON value; whatever script follows it (`;`, more statements) is not
        // read.
        serde_json::Deserializer::from_str(rest)
            .into_iter::<Value>()
            .next()?
            .ok()
    })
}

/// `loaderData[<the page>].videoInfoRes`: the video page's or the note page's, else any
/// page's that has one.
fn video_info_res(state: &Value) -> Option<&Value> {
    let loader = state.get("loaderData")?.as_object()?;
    ["video_(id)/page", "note_(id)/page"]
        .iter()
        .filter_map(|k| loader.get(*k))
        .chain(loader.values())
        .find_map(|page| page.get("videoInfoRes").filter(|v| v.is_object()))
}

fn same_id(v: &Value, id: &str) -> bool {
    str_of(v.get("aweme_id")).as_deref() == Some(id)
}

/// Risk control: the captcha page's words and hosts. Looked for anywhere in a page that
/// does not carry the post; they only ever mean unreachable.
const RISK: &[&str] = &[
    "验证码中间页",
    "请完成下列验证后继续",
    "verify.snssdk.com",
    "verify.zijieapi.com",
];

/// A login page: read only in a page without `_ROUTER_DATA` (a share page's own login
/// prompt carries them too).
const LOGIN: &[&str] = &["扫码登录", "登录后即可观看", "请先登录"];

/// Where an answer that ended on a captcha or login address came from.
fn walled_hop(u: &Url) -> Option<&'static str> {
    let host = u.host_str().unwrap_or("").to_ascii_lowercase();
    let path = u.path().to_ascii_lowercase();
    if host.starts_with("verify.") || path.contains("captcha") || path.contains("/verify") {
        return Some("risk control (a captcha page)");
    }
    if host == "sso.douyin.com" || host.starts_with("passport.") || path.starts_with("/login") {
        return Some("a login wall");
    }
    None
}

/// Account words of a filter entry, most specific first.
const ACCOUNT_WORDS: &[(&str, Cause)] = &[
    ("该账号已被封禁", Cause::Platform),
    ("账号已被封禁", Cause::Platform),
    ("账号已封禁", Cause::Platform),
    ("用户已被封禁", Cause::Platform),
    ("该账号已注销", Cause::Author),
    ("账号已注销", Cause::Author),
    ("用户已注销", Cause::Author),
];

/// The verdict of a filter entry: the outcome from `filter_reason`, the words kept.
fn filter_verdict(entry: &Value) -> Finding {
    let reason = str_of(entry.get("filter_reason")).unwrap_or_default();
    let detail = str_of(entry.get("detail_msg")).unwrap_or_default();
    let notice = str_of(entry.get("notice")).unwrap_or_default();
    let mut words = if reason.is_empty() {
        "(no filter_reason)".to_string()
    } else {
        reason.clone()
    };
    if !detail.is_empty() {
        words.push_str(&format!(": {detail}"));
    }
    if !notice.is_empty() {
        words.push_str(&format!(" ({notice})"));
    }
    let said = format!("{detail} {notice}");
    if let Some((_, cause)) = ACCOUNT_WORDS.iter().find(|(w, _)| said.contains(w)) {
        return gone(Outcome::AccountGone, Some(*cause), words);
    }
    match reason.as_str() {
        "status_deleted" => {
            let by_author = ["已被作者删除", "作者已删除"]
                .iter()
                .any(|w| said.contains(w));
            let cause = if by_author {
                Cause::Author
            } else {
                Cause::Unknown
            };
            gone(Outcome::Deleted, Some(cause), words)
        }
        "status_audit_not_pass" => gone(Outcome::Deleted, Some(Cause::Platform), words),
        "status_self_see" | "status_part_see" | "status_friend_see" => {
            gone(Outcome::Restricted, Some(Cause::Author), words)
        }
        "status_reviewing" | "status_audit" => gone(Outcome::Restricted, None, words),
        // Story filters (`story_ttl_expired`, `story_25_filter`…) and reasons samizdat
        // does not know: the post is not shown, but not said why.
        _ => unreachable(format!("douyin: the post is not shown: {words}")),
    }
}

fn read_share_page(id: &str, answer: &Fetched) -> Finding {
    let r = match answer {
        Fetched::Failed(e) => return unreachable(format!("{ENDPOINT}: {e}")),
        Fetched::Response(r) => r,
    };
    if let Some(why) = walled_hop(&r.url) {
        return unreachable(format!("douyin: redirected to {} ({why})", r.url));
    }
    if matches!(r.status, 403 | 429) || r.status >= 500 {
        return unreachable(format!("{ENDPOINT}: HTTP {}", r.status));
    }
    let raw = String::from_utf8_lossy(&r.body);
    let state = router_data(&raw);
    let res = state.as_ref().and_then(video_info_res);
    let items = res
        .and_then(|v| v.get("item_list"))
        .and_then(Value::as_array);
    if r.status == 200
        && let Some(item) = items.into_iter().flatten().find(|i| same_id(i, id))
    {
        return read_item(id, &Json::new(ENDPOINT, item));
    }
    if let Some(w) = RISK.iter().find(|w| raw.contains(**w)) {
        return unreachable(format!(
            "douyin: risk control ({w}), HTTP {}: nothing concluded",
            r.status
        ));
    }
    let filters = res
        .and_then(|v| v.get("filter_list"))
        .and_then(Value::as_array);
    let filters: Vec<&Value> = filters.into_iter().flatten().collect();
    // The entry for this post; a lone entry without an id is the page's only subject.
    let entry = filters.iter().find(|f| same_id(f, id)).or_else(|| {
        (filters.len() == 1 && filters[0].get("aweme_id").is_none()).then(|| &filters[0])
    });
    if let Some(entry) = entry {
        return filter_verdict(entry);
    }
    let Some(state) = &state else {
        if let Some(w) = LOGIN.iter().find(|w| raw.contains(**w)) {
            return unreachable(format!("douyin: a login wall ({w}), HTTP {}", r.status));
        }
        return unreachable(format!(
            "{ENDPOINT}: HTTP {}, no _ROUTER_DATA (not the share page: a wall, an app-download page or a new shape)",
            r.status
        ));
    };
    let Some(res) = res else {
        let empty = state.as_object().is_none_or(|o| o.is_empty());
        return unreachable(format!(
            "{ENDPOINT}: HTTP {}, {} (the post is not in the page: risk control or a page that loads it by script)",
            r.status,
            if empty {
                "an empty _ROUTER_DATA"
            } else {
                "_ROUTER_DATA without videoInfoRes"
            }
        ));
    };
    if r.status == 200 && items.is_some_and(|i| !i.is_empty()) {
        return broken(ENDPOINT, format!("videoInfoRes.item_list: an item {id}"));
    }
    let code = str_of(res.get("status_code")).unwrap_or_else(|| "none".into());
    unreachable(format!(
        "{ENDPOINT}: HTTP {}, videoInfoRes lists neither the post nor a filter entry (status_code {code})",
        r.status
    ))
}

// ---------------------------------------------------------------------------------------
// The item → Post

fn first_url(v: &Json, path: &str) -> Option<String> {
    v.at(path)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(https)
}

fn media(kind: MediaKind, url: String, alt: Option<&str>) -> Media {
    let mut m = Media::new(kind, url);
    m.alt = alt.map(str::to_string);
    m.referer = Some(REFERER.into());
    m
}

/// The stream without the watermark: `/aweme/v1/playwm/` → `/aweme/v1/play/` on the
/// same host and query. Other URLs as given.
fn without_watermark(u: &str) -> String {
    match Url::parse(u) {
        Ok(mut p) if p.path().contains("/playwm/") => {
            let path = p.path().replace("/playwm/", "/play/");
            p.set_path(&path);
            p.to_string()
        }
        _ => u.to_string(),
    }
}

fn read_item(id: &str, item: &Json) -> Finding {
    if item.at("status.is_delete").and_then(Value::as_bool) == Some(true) {
        return gone(
            Outcome::Deleted,
            Some(Cause::Unknown),
            "item status.is_delete: true",
        );
    }
    let pictures: Vec<String> = item
        .at("images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| first_url(&Json::new(ENDPOINT, i), "url_list"))
        .collect();
    let kind = if pictures.is_empty() {
        Kind::Video
    } else {
        Kind::Note
    };
    let mut post = Post::new("douyin", id, &kind.page(id));
    // The share page read, and for a picture post the video URL that also leads to it
    // (the app shares both forms).
    post.alt_urls = vec![kind.share(id)];
    if kind == Kind::Note {
        post.alt_urls.push(Kind::Video.page(id));
    }
    let base = Url::parse(REFERER).expect("a constant URL");
    if let Some(desc) = item.str("desc") {
        post.html = Some(text_html(&desc, &base));
        post.text = Some(desc);
    }
    if let Some(t) = item.at("create_time").and_then(Value::as_i64) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    let sec_uid = item.str("author.sec_uid");
    let name = item.str("author.nickname");
    let uid = item.str("author.uid").filter(|u| u != "0");
    let handle = item
        .str("author.unique_id")
        .or_else(|| item.str("author.short_id").filter(|s| s != "0"));
    if uid.is_some() || sec_uid.is_some() || name.is_some() {
        post.author = Some(Author {
            url: sec_uid.as_ref().map(|s| format!("{WWW}/user/{s}")),
            id: uid.or_else(|| sec_uid.clone()),
            name,
            handle,
        });
    }
    if let Some(s) = &sec_uid {
        post.extra.insert("author_sec_uid".into(), json!(s));
    }
    let n = |k: &str| {
        item.at(&format!("statistics.{k}"))
            .and_then(Value::as_i64)
            .map(|v| v.max(0) as u64)
    };
    if item.at("statistics").is_some_and(Value::is_object) {
        let mut counts = Counts {
            likes: n("digg_count"),
            comments: n("comment_count"),
            reposts: n("share_count"),
            // The share page says 0 plays where Douyin hides the number.
            views: n("play_count").filter(|v| *v > 0),
            ..Counts::default()
        };
        for k in ["collect_count", "play_count"] {
            if let Some(v) = item
                .at(&format!("statistics.{k}"))
                .filter(|v| v.is_number())
            {
                counts.raw.insert(k.into(), v.clone());
            }
        }
        post.counts = Some(counts);
    }
    for key in ["aweme_type", "video.duration", "video.play_addr.uri"] {
        if let Some(v) = item.at(key).filter(|v| !v.is_null() && **v != "") {
            post.extra
                .insert(key.replace("video.", "video_").replace('.', "_"), v.clone());
        }
    }
    match kind {
        Kind::Note => {
            for (i, p) in pictures.into_iter().enumerate() {
                let alt = format!("picture {}", i + 1);
                post.media.push(media(MediaKind::Image, p, Some(&alt)));
            }
        }
        Kind::Video => {
            if let Some(play) = first_url(item, "video.play_addr.url_list") {
                post.media.push(media(
                    MediaKind::Video,
                    without_watermark(&play),
                    Some("video"),
                ));
                post.extra.insert("play_addr".into(), json!(play));
            }
            if let Some(cover) = first_url(item, "video.cover.url_list") {
                post.media
                    .push(media(MediaKind::Image, cover, Some("cover")));
            }
        }
    }
    Finding::Post(Box::new(post))
}

// ---------------------------------------------------------------------------------------
// Plans

struct SharePlan {
    id: String,
}

impl Plan for SharePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(read_share_page(&self.id, &answer))
    }
}

fn share_step(kind: Kind, id: &str) -> Step {
    let u = match super::kit::url(&kind.share(id), ENDPOINT) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    let req = Request::get(u, ENDPOINT)
        .header("User-Agent", MOBILE_UA)
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .header("Referer", REFERER)
        .page();
    Step::fetch(req, SharePlan { id: id.to_string() })
}

impl Platform for Douyin {
    fn name(&self) -> &'static str {
        "douyin"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[
            "www.iesdouyin.com",
            "iesdouyin.com",
            "www.douyin.com",
            "douyin.com",
            "m.douyin.com",
            "v.douyin.com",
        ]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    /// The share text copied from the app (`… 复制打开抖音 … https://v.douyin.com/…/ …`).
    fn normalise(&self, input: &str) -> Option<Result<Url, String>> {
        read_share_text(input)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        match target {
            Target::Post { platform_id, url } => {
                if !is_id(platform_id) {
                    return Step::Done(broken(
                        ENDPOINT,
                        format!("an aweme id (digits), not {platform_id:?}"),
                    ));
                }
                let kind = if url.starts_with(&format!("{WWW}/note/")) {
                    Kind::Note
                } else {
                    Kind::Video
                };
                share_step(kind, platform_id)
            }
            Target::Follow { url } => follow_step(url, "v.douyin.com short link"),
            Target::Account { account_id, .. } => Step::Done(broken(
                "douyin",
                format!("a post, not the account {account_id:?} (accounts cannot be watched)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Response;

    const ID: &str = "7301234567890123456";

    fn target_of(u: &str) -> Option<Target> {
        recognise_url(&Url::parse(u).unwrap())
    }

    fn post(kind: &str) -> Option<Target> {
        Some(Target::Post {
            platform_id: ID.into(),
            url: format!("https://www.douyin.com/{kind}/{ID}"),
        })
    }

    #[test]
    fn every_post_url_form_is_one_post() {
        for u in [
            format!("https://www.douyin.com/video/{ID}"),
            format!("https://www.douyin.com/video/{ID}/?previous_page=app_code_link"),
            format!("https://douyin.com/video/{ID}"),
            format!("https://www.iesdouyin.com/share/video/{ID}/"),
            format!("https://www.iesdouyin.com/share/video/{ID}/?region=CN&mid=1"),
            format!("https://iesdouyin.com/share/video/{ID}"),
            format!("https://m.douyin.com/share/video/{ID}"),
            format!("https://www.douyin.com/user/MS4wLjABAAAAabc?modal_id={ID}"),
            format!("https://www.douyin.com/discover?modal_id={ID}"),
            format!("https://www.douyin.com/jingxuan?modal_id={ID}&from=1"),
        ] {
            assert_eq!(target_of(&u), post("video"), "{u}");
        }
        for u in [
            format!("https://www.douyin.com/note/{ID}"),
            format!("https://www.iesdouyin.com/share/note/{ID}/"),
            format!("https://m.douyin.com/share/note/{ID}"),
        ] {
            assert_eq!(target_of(&u), post("note"), "{u}");
        }
        assert_eq!(
            target_of("https://v.douyin.com/iRNBho5m/"),
            Some(Target::Follow {
                url: "https://v.douyin.com/iRNBho5m/".into()
            })
        );
        for u in [
            "https://www.douyin.com/user/MS4wLjABAAAAabc",
            "https://www.douyin.com/video/73012345678x",
            "https://www.douyin.com/video/",
            "https://www.douyin.com/discover?modal_id=abc",
            "https://www.douyin.com/",
            "https://www.iesdouyin.com/share/user/59583160290",
            "https://v.douyin.com/a/b",
            "https://v.douyin.com/",
            "https://example.com/video/7301234567890123456",
            "https://www.tiktok.com/@a/video/7301234567890123456",
        ] {
            assert_eq!(target_of(u), None, "{u}");
        }
    }

    #[test]
    fn share_text_names_its_link() {
        let text = "7.43 复制打开抖音，看看【某某的作品】今天的晚霞 https://v.douyin.com/iRNBho5m/ Mdl:/ 06/25 S@l.Ca";
        assert_eq!(
            Douyin.normalise(text).unwrap().unwrap().as_str(),
            "https://v.douyin.com/iRNBho5m/"
        );
        // The link right against Chinese text, and without its scheme.
        assert_eq!(
            Douyin
                .normalise("看看https://v.douyin.com/iRNBho5m/复制此链接")
                .unwrap()
                .unwrap()
                .as_str(),
            "https://v.douyin.com/iRNBho5m/"
        );
        assert_eq!(
            Douyin
                .normalise("复制打开抖音 v.douyin.com/AbC-d_9/ 看看")
                .unwrap()
                .unwrap()
                .as_str(),
            "https://v.douyin.com/AbC-d_9/"
        );
        // Another platform's link in the text is not Douyin's to read.
        assert!(Douyin.normalise("看看 https://b23.tv/pigt3PQ 哈").is_none());
        assert!(Douyin.normalise("just words").is_none());
        // One plain URL is read as a URL by the table.
        assert!(Douyin.normalise("https://v.douyin.com/iRNBho5m/").is_none());
        // Douyin named, but no post in it: a clear error.
        let e = Douyin
            .normalise("看 https://www.douyin.com/user/MS4wLjABAAAAabc 的主页")
            .unwrap()
            .unwrap_err();
        assert!(e.contains("no post link"), "{e}");
        assert_eq!(
            crate::platforms::read_url(text).unwrap().as_str(),
            "https://v.douyin.com/iRNBho5m/"
        );
    }

    fn page(url: &str, status: u16, body: &str) -> Fetched {
        Fetched::Response(Response {
            url: Url::parse(url).unwrap(),
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn share(status: u16, body: &str) -> Finding {
        read_share_page(
            ID,
            &page(
                &format!("https://www.iesdouyin.com/share/video/{ID}/"),
                status,
                body,
            ),
        )
    }

    fn state_page(res: Value, extra_head: &str) -> String {
        let state =
            json!({"loaderData": {"video_layout": null, "video_(id)/page": {"videoInfoRes": res}}});
        format!(
            "<!doctype html><html><head><title>{extra_head}</title><script>var msg = \"{extra_head}\";</script></head><body data-m=\"{extra_head}\"><div>{extra_head}</div>\
             <script>window._ROUTER_DATA = {state};window.x = 1;</script></body></html>"
        )
    }

    fn outcome(f: &Finding) -> (Outcome, Option<Cause>) {
        match f {
            Finding::Gone(g) => (g.outcome, g.cause),
            other => panic!("not gone: {other:?}"),
        }
    }

    /// Every marker, in the page's title, scripts, attributes and text and in the live
    /// item's own text, leaves the post live; the same words in the filter entry are read.
    #[test]
    fn markers_outside_the_filter_entry_never_make_a_live_post_gone() {
        let all = "status_deleted status_self_see status_reviewing 因作品权限或已被删除，无法观看，去看看其他作品吧 抱歉，作品不见了 账号已被封禁 账号已注销 已被作者删除 验证码中间页 verify.snssdk.com 扫码登录";
        let live = json!({
            "status_code": 0,
            "item_list": [{"aweme_id": ID, "desc": format!("晚霞 {all}"), "create_time": 1700000000,
                "author": {"uid": "1", "sec_uid": "MS4wLjABAAAAx", "nickname": all},
                "statistics": {"digg_count": 3},
                "video": {"play_addr": {"url_list": ["https://aweme.snssdk.com/aweme/v1/playwm/?video_id=v0200&ratio=720p"]}}}],
            "filter_list": [{"aweme_id": "7000000000000000001", "filter_reason": "status_deleted", "detail_msg": all}]
        });
        match share(200, &state_page(live, all)) {
            Finding::Post(p) => {
                assert_eq!(p.id.0, format!("douyin:{ID}"));
                assert!(p.text.unwrap().contains("晚霞"));
                assert_eq!(p.created_at.as_deref(), Some("2023-11-15T06:13:20+08:00"));
                assert_eq!(
                    p.media[0].url,
                    "https://aweme.snssdk.com/aweme/v1/play/?video_id=v0200&ratio=720p"
                );
            }
            other => panic!("a live post read as {other:?}"),
        }
        // The words everywhere but the filter entry, and no item: nothing concluded
        // (the risk-control words in the page make it unreachable).
        let none = json!({"status_code": 0, "item_list": [], "filter_list": []});
        assert_eq!(
            outcome(&share(200, &state_page(none.clone(), all))).0,
            Outcome::Unreachable
        );
        let calm = "status_deleted 因作品权限或已被删除 账号已被封禁 已被作者删除";
        assert_eq!(
            outcome(&share(200, &state_page(none, calm))).0,
            Outcome::Unreachable
        );
        // Where Douyin speaks: the filter entry for this post.
        let cases = [
            (
                "status_deleted",
                "因作品权限或已被删除，无法观看，去看看其他作品吧",
                Outcome::Deleted,
                Some(Cause::Unknown),
            ),
            (
                "status_deleted",
                "该作品已被作者删除",
                Outcome::Deleted,
                Some(Cause::Author),
            ),
            (
                "status_audit_not_pass",
                "",
                Outcome::Deleted,
                Some(Cause::Platform),
            ),
            (
                "status_self_see",
                "因作品权限或已被删除，无法观看",
                Outcome::Restricted,
                Some(Cause::Author),
            ),
            (
                "status_part_see",
                "",
                Outcome::Restricted,
                Some(Cause::Author),
            ),
            ("status_reviewing", "作品审核中", Outcome::Restricted, None),
            ("status_audit", "", Outcome::Restricted, None),
            (
                "status_deleted",
                "该账号已被封禁",
                Outcome::AccountGone,
                Some(Cause::Platform),
            ),
            (
                "status_deleted",
                "用户已注销",
                Outcome::AccountGone,
                Some(Cause::Author),
            ),
            ("story_ttl_expired", "", Outcome::Unreachable, None),
        ];
        for (reason, detail, o, c) in cases {
            let res = json!({"status_code": 0, "item_list": [],
                "filter_list": [{"aweme_id": ID, "filter_reason": reason, "detail_msg": detail, "notice": "抱歉，作品不见了"}]});
            let f = share(200, &state_page(res, "抖音"));
            assert_eq!(outcome(&f), (o, c), "{reason} {detail}");
            let Finding::Gone(g) = f else { unreachable!() };
            assert!(g.message.unwrap().contains(reason), "{reason}");
        }
        // Another post's filter entry says nothing about this one.
        let res = json!({"item_list": [], "filter_list": [{"aweme_id": "1", "filter_reason": "status_deleted"}]});
        assert_eq!(
            outcome(&share(200, &state_page(res, "抖音"))).0,
            Outcome::Unreachable
        );
    }

    #[test]
    fn an_item_marked_deleted_in_its_status_is_deleted_by_whom_unknown() {
        let item = |deleted: bool| json!({"item_list": [{"aweme_id": ID, "desc": "x", "status": {"is_delete": deleted}}]});
        let f = share(200, &state_page(item(true), "抖音"));
        assert_eq!(outcome(&f), (Outcome::Deleted, Some(Cause::Unknown)));
        assert!(matches!(
            share(200, &state_page(item(false), "抖音")),
            Finding::Post(_)
        ));
        // The item in a page that did not answer 200 is not read as the post.
        assert_eq!(
            outcome(&share(404, &state_page(item(false), "抖音"))).0,
            Outcome::Unreachable
        );
    }

    #[test]
    fn a_captcha_or_an_empty_state_is_never_gone() {
        let deleted = json!({"item_list": [], "filter_list": [{"aweme_id": ID, "filter_reason": "status_deleted"}]});
        // The captcha page's words beat a filter entry.
        let f = share(200, &state_page(deleted.clone(), "验证码中间页"));
        assert_eq!(outcome(&f).0, Outcome::Unreachable);
        // Redirected to a verify host: whatever the body says.
        let f = read_share_page(
            ID,
            &page(
                "https://verify.snssdk.com/captcha/verify?from=iesdouyin",
                200,
                &state_page(deleted, "x"),
            ),
        );
        assert_eq!(outcome(&f).0, Outcome::Unreachable);
        for body in [
            "<html><script>window._ROUTER_DATA = {}</script></html>".to_string(),
            format!(
                "<html><script>window._ROUTER_DATA = {{\"loaderData\":{{\"video_(id)/page\":{{\"ua\":\"iphone\",\"itemId\":\"{ID}\"}}}}}}</script></html>"
            ),
            "<html><body>请在抖音 App 内打开 status_deleted 已被作者删除</body></html>".to_string(),
            "<html><body><div>扫码登录</div></body></html>".to_string(),
        ] {
            assert_eq!(
                outcome(&share(200, &body)).0,
                Outcome::Unreachable,
                "{body}"
            );
        }
        assert_eq!(outcome(&share(503, "")).0, Outcome::Unreachable);
        assert_eq!(
            outcome(&read_share_page(ID, &Fetched::Failed("reset".into()))).0,
            Outcome::Unreachable
        );
    }

    #[test]
    fn a_check_asks_the_share_page_as_a_phone_with_the_referer() {
        let t = target_of(&format!("https://www.douyin.com/note/{ID}")).unwrap();
        let Step::Fetch(req, _) = Douyin.post_plan(&t, Job::Check, &PlanContext::default()) else {
            panic!()
        };
        assert_eq!(
            req.url.as_str(),
            format!("https://www.iesdouyin.com/share/note/{ID}/")
        );
        let h = |n: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(h("Referer"), Some("https://www.douyin.com/"));
        assert!(h("User-Agent").unwrap().contains("iPhone"));
        assert!(req.is_page && req.follow_redirects);
        let bad = Target::Post {
            platform_id: "abc".into(),
            url: "https://www.douyin.com/video/abc".into(),
        };
        assert!(matches!(
            Douyin.post_plan(&bad, Job::Check, &PlanContext::default()),
            Step::Done(Finding::Broken { .. })
        ));
    }

    #[test]
    fn the_watermark_path_is_dropped_and_nothing_else() {
        assert_eq!(
            without_watermark("https://aweme.snssdk.com/aweme/v1/playwm/?video_id=v1&line=0"),
            "https://aweme.snssdk.com/aweme/v1/play/?video_id=v1&line=0"
        );
        let cdn = "https://v26-dy.douyinvod.com/abc/video/tos/cn/x/?a=1128&br=1200";
        assert_eq!(without_watermark(cdn), cdn);
    }
}
