//! Xiaohongshu (小红书, RED) notes (笔记), pictures and videos, from the server-rendered
//! note page a person sees, without login and without any signature.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://{www.,}xiaohongshu.com/explore/<note_id>[?xsec_token=…&xsec_source=…]` | post `xiaohongshu:<note_id>` |
//! | `https://{www.,}xiaohongshu.com/discovery/item/<note_id>[?…]` | the same post |
//! | `https://{www.,}xiaohongshu.com/user/profile/<user_id>/<note_id>[?…]` | the same post |
//! | `https://{www.,}xiaohongshu.com/404?noteId=<note_id>…`, `/404/sec_…?redirectPath=…/explore/<note_id>…` (where a short link of a gone note ends) | the same post, asked at that address |
//! | `http(s)://xhslink.com/<code>`, `http(s)://xhslink.com/<letter>/<code>` (`/a/…`, `/o/…`) | follow: resolved by redirect, every hop recorded |
//! | share text (`… 😆 AbCdEf12 😆 http://xhslink.com/a/AbCdEf12，复制本条信息，打开【小红书】App查看精彩内容！`) | the URL inside it ([`Platform::normalise`]) |
//!
//! A note id is 24 lowercase hex digits; anything else is not recognised. The post's id
//! is `xiaohongshu:<note_id>` and its `url` the canonical
//! `https://www.xiaohongshu.com/explore/<note_id>`, whatever form was given. The
//! `xsec_token` query is kept in the target's URL and in the request (the page shows a
//! note to anonymous readers only with the token of a share or search link, and not
//! always then: a login wall is unreachable), and that
//! URL is kept in the post's `alt_urls`; every other query (`xsec_source`,
//! `app_platform`, `share_id`…) is dropped. A re-check (`watch`) asks the link the note was
//! watched by when it names the same note, so a note watched by its share link is
//! re-checked with that link's token; one watched by its bare URL is asked without a
//! token, and Xiaohongshu then typically answers 300031 (below): unreachable, never a
//! deletion. A token can expire: the checks then become unreachable, never gone.
//!
//! Profiles (`/user/profile/<user_id>` without a note id) are **not** recognised (the
//! `web` reader keeps them as pages): their state's `user.notes` is known only from
//! other projects' type declarations, not from a recorded page, so no timeline is read
//! and accounts cannot be watched.
//!
//! # Endpoint
//!
//! One request, capture and check alike: `GET` the target's URL (the canonical note
//! page, with its `xsec_token` when one was given), as a page. The web API
//! (`edith.xiaohongshu.com/api/sns/web/v1/feed`) is **not** asked: it wants the `x-s` /
//! `x-t` signature of Xiaohongshu's obfuscated scripts, of which no code is copied.
//!
//! The page embeds its state as `<script>window.__INITIAL_STATE__={…}</script>`, a
//! JavaScript object literal: `undefined` (and `NaN`, `Infinity`, `new Map([…])`,
//! `new Set([…])`) outside strings are read as JSON (`null`, the array inside) before
//! parsing; strings are copied as they are. The note is
//! `note.noteDetailMap[<note_id>].note`, read only when its `noteId` is the one asked
//! for: `type` (`normal` | `video`), `title`, `desc` (the text, `#话题[话题]#` tags as
//! written), `time` and `lastUpdateTime` (milliseconds; written in Beijing time,
//! +08:00; the update in `extra.updated_at`), `ipLocation` (`extra.ip_location`),
//! `user {userId, nickname, avatar}`, `interactInfo {likedCount, collectedCount,
//! commentCount, shareCount}` (strings such as `"1.2万"` or `"10+"`: likes and comments
//! are read as numbers, every one kept as written in `counts.raw`), `tagList` (names in
//! `extra.tags`).
//!
//! Media, fetched with `Referer: https://www.xiaohongshu.com/` (the xhscdn.com hosts
//! check hotlinking), `http://` upgraded to `https://`:
//!
//! - every picture of `imageList`: `urlDefault`, else `urlPre`, else the first
//!   `infoList[].url` (a video note's one picture is its cover);
//! - a video note's video: of `video.media.stream`, the `h264` stream with the greatest
//!   `height` (then `videoBitrate`), its `masterUrl` (`backupUrls` are other hosts of the
//!   same file); only when there is no h264 stream, the best `h265` one. H.264 plays
//!   everywhere, which is why it is preferred over a sharper H.265. The choice is kept
//!   in `extra.video_stream` (codec, height, width, bitrate, quality). The
//!   `video.consumer.originVideoKey` address some downloaders build is not used.
//!
//! A note found in the state is live, whatever its title, its text or the page's
//! scripts say.
//!
//! # Verdicts
//!
//! | answer | outcome |
//! | --- | --- |
//! | HTTP 200 whose state holds the note | the post |
//! | no answer, HTTP 403, 418, 429, 461, 471 (the captcha statuses), 5xx | unreachable |
//! | a last hop on `/login`, `/website-login/…`, `/web-login/…` (login wall, `…/captcha`, `…/error?error_code=300012`) | unreachable |
//! | anywhere in the page: `website-login/captcha`, `verifyType=`, `verifyUuid=` | unreachable (captcha) |
//! | error code 300011 当前账号存在异常, 300012 网络连接异常 / IP存在风险, 300013 访问频次异常, 300015 浏览器异常, 300017 访问链接异常; or those words | unreachable (risk control) |
//! | error code 300031 当前笔记暂时无法浏览, -510001 笔记状态异常，请稍后查看 / 当前内容无法展示, without words below | unreachable |
//! | message: 已被作者删除 / 作者已删除 | deleted by the author |
//! | message: 违规 / 根据相关法律法规 / 违反社区规范 / 平台删除 | deleted by the platform |
//! | message: 审核中 | restricted (under review) |
//! | message: 仅自己可见 / 仅作者可见 / 私密笔记 | restricted |
//! | message: 账号已被封禁 / 该用户已被封禁 / 账号违规 | account gone, by the platform |
//! | message: 已注销 | account gone, by the author |
//! | message: 已被删除 / 已删除 / 笔记不存在 / 内容不存在; or error code -510000 | deleted, cause unknown |
//! | anything else (`你访问的页面不见了` alone, a page in no known shape) | unreachable |
//!
//! The message and the error code are read only where the platform speaks to the
//! reader, and only when the note is not in the state: the query of a `/404` last hop
//! (`error_code` / `errorCode`, `error_msg`), that 404 page's `<title>`, and the state's
//! `note.serverRequestInfo {state, errorCode, errMsg}`. Never the page's scripts at
//! large, never a note page's `<title>` (it is the note's own title), never a note's
//! own text. Risk-control codes and words win over deletion words;
//! deletion words win over 300031 and -510001.
//!
//! Why 300031 and -510001 conclude nothing: Xiaohongshu gives 300031 (a redirect to
//! `/404?…error_code=300031`) to live notes asked without a valid `xsec_token` (a
//! logged-out bare `/explore/<id>` redirected to `/404` with `error_code=300031` while
//! the same note with its token was readable: the rednote-gate project's friction log,
//! entry of 2026-10-06;
//! "如果没有token会被重定向…如果token不符，页面会提示访问异常", ShilongLee/Crawler#38;
//! "你手动访问都看不到内容", JoeanAmier/XHS-Downloader#243), and `暂时` says as much.
//! -510001 is 笔记状态异常，请稍后查看 / 当前内容无法展示 in ReaJason/xhs
//! (`xhs/exception.py`) and is given to logged-out readers and at times to desktop
//! browsers of live notes. -510000 is the note-not-found code (NanmiCoder/MediaCrawler,
//! `NOTE_NOT_FOUND_CODE`); 300011–300017 are risk control in the same projects.
//! The deletion words above are the issue's (issue 19) and the app's usual wording;
//! no recorded page of a deleted note was found, so they are not verified.
//!
//! # Comments
//!
//! Not read. The web comment API (`edith.xiaohongshu.com/api/sns/web/v2/comment/page`)
//! wants the `x-s` signature and there is no public endpoint without one; no recorded
//! note page showing comments in its initial state was found. `counts.comments` is the
//! note's own count.
//!
//! # Without login
//!
//! Public notes are read from a share or search link carrying its `xsec_token`. Notes
//! asked without a token, notes for logged-in readers only, private (仅自己可见) notes
//! and anything behind the captcha or the login wall are unreachable (or restricted
//! where the page says so). Cookies in `[platforms.xiaohongshu]` are sent by the
//! fetcher; this reader asks nothing more with them. Accounts cannot be watched.

use super::kit::{broken, gone, str_of, unreachable};
use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Response, Step, Target};
use crate::extract::sanitize_html;
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post};
use serde_json::{Value, json};
use url::Url;

pub struct Xiaohongshu;

const WWW: &str = "https://www.xiaohongshu.com";
const REFERER: &str = "https://www.xiaohongshu.com/";
const ENDPOINT: &str = "xiaohongshu note page";

// ---------------------------------------------------------------------------------------
// URLs

/// 24 lowercase hex digits.
fn is_note_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn canonical(id: &str) -> String {
    format!("{WWW}/explore/{id}")
}

/// The page to ask: the canonical URL, with the `xsec_token` of the link when it has one.
fn request_url(id: &str, token: Option<&str>) -> String {
    let mut u = Url::parse(&canonical(id)).expect("a URL of hex digits");
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        u.query_pairs_mut().append_pair("xsec_token", t);
    }
    u.to_string()
}

fn query(u: &Url, key: &str) -> Option<String> {
    u.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn post_target(id: &str, u: &Url) -> Target {
    Target::Post {
        platform_id: id.to_string(),
        url: request_url(id, query(u, "xsec_token").as_deref()),
    }
}

fn is_www(host: &str) -> bool {
    matches!(host, "www.xiaohongshu.com" | "xiaohongshu.com")
}

fn is_short_host(host: &str) -> bool {
    matches!(host, "xhslink.com" | "www.xhslink.com")
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The note a `/404` page of a note names: `?noteId=<id>`, or the `/explore/<id>` of its
/// `redirectPath`.
fn note_of_404(u: &Url) -> Option<String> {
    if let Some(id) = query(u, "noteId").filter(|id| is_note_id(id)) {
        return Some(id);
    }
    let path = query(u, "redirectPath")?;
    let inner = Url::parse(&path)
        .or_else(|_| Url::parse(WWW).and_then(|b| b.join(&path)))
        .ok()?;
    match crate::platforms::kit::segments(&inner).as_slice() {
        ["explore", id] | ["discovery", "item", id] if is_note_id(id) => Some(id.to_string()),
        _ => None,
    }
}

fn recognise_url(u: &Url) -> Option<Target> {
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let segs = crate::platforms::kit::segments(u);
    if is_short_host(&host) {
        let short = match segs.as_slice() {
            [code] => is_code(code),
            [letter, code] => letter.len() == 1 && is_code(letter) && is_code(code),
            _ => false,
        };
        return short.then(|| Target::Follow { url: u.to_string() });
    }
    if !is_www(&host) {
        return None;
    }
    match segs.as_slice() {
        ["explore", id] | ["discovery", "item", id] | ["user", "profile", _, id]
            if is_note_id(id) =>
        {
            Some(post_target(id, u))
        }
        // Where a short link of a gone note ends: asked again at that address, so the
        // platform's words are read from its own answer.
        ["404", ..] => note_of_404(u).map(|id| Target::Post {
            platform_id: id,
            url: u.to_string(),
        }),
        _ => None,
    }
}

/// The http(s) URL inside share text, when it is one of Xiaohongshu's and the input is
/// more than the URL. A URL ends at white space, at the first non-ASCII character (the
/// share text goes on with `，复制本条信息…`) and at quotes or angle brackets.
fn url_in_share_text(input: &str) -> Option<&str> {
    let start = ["https://", "http://"]
        .iter()
        .filter_map(|p| input.find(p))
        .min()?;
    let rest = &input[start..];
    let end = rest
        .char_indices()
        .find(|(_, c)| !c.is_ascii() || c.is_ascii_whitespace() || "\"'<>".contains(*c))
        .map_or(rest.len(), |(i, _)| i);
    let found = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
    if found.len() == input.len() {
        return None;
    }
    let host = Url::parse(found).ok()?.host_str()?.to_ascii_lowercase();
    (is_www(&host) || is_short_host(&host)).then_some(found)
}

// ---------------------------------------------------------------------------------------
// The page's state

/// The text of `window.__INITIAL_STATE__=…` up to its `</script>`.
fn state_text(page: &str) -> Option<&str> {
    const NAME: &str = "window.__INITIAL_STATE__";
    let mut from = 0;
    while let Some(i) = page[from..].find(NAME) {
        let after = &page[from + i + NAME.len()..];
        let trimmed = after.trim_start();
        if let Some(value) = trimmed.strip_prefix('=') {
            let end = value.find("</script>").unwrap_or(value.len());
            return Some(value[..end].trim().trim_end_matches(';').trim_end());
        }
        from += i + NAME.len();
    }
    None
}

/// A JavaScript object literal as JSON: outside strings, `undefined`, `NaN` and
/// `Infinity` become `null`, and `new Map(…)` / `new Set(…)` the array inside them.
/// Strings (and every `undefined` inside one) are copied as they are.
fn js_to_json(js: &str) -> String {
    let b = js.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    // One entry per open parenthesis: whether it is a `new Map(` / `new Set(` to drop.
    let mut parens: Vec<bool> = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            // A string, to its closing quote (escapes skipped whole).
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            out.extend_from_slice(&b[start..i]);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            match &js[start..i] {
                "undefined" | "NaN" => out.extend_from_slice(b"null"),
                "Infinity" => {
                    if out.last() == Some(&b'-') {
                        out.pop();
                    }
                    out.extend_from_slice(b"null");
                }
                "new" => {
                    // `new Map(` / `new Set(`: drop the constructor, keep its argument.
                    let rest = js[i..].trim_start();
                    let ctor = ["Map(", "Set("].iter().find(|p| rest.starts_with(**p));
                    match ctor {
                        Some(p) => {
                            i = js.len() - rest.len() + p.len();
                            parens.push(true);
                        }
                        None => out.extend_from_slice(b"new"),
                    }
                }
                word => out.extend_from_slice(word.as_bytes()),
            }
            continue;
        }
        match c {
            b'(' => {
                parens.push(false);
                out.push(c);
            }
            b')' => {
                if !parens.pop().unwrap_or(false) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    // Only ASCII was replaced or dropped between whole characters: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// The page's state as JSON: `None` without one, `Err` when it does not read.
fn read_state(page: &str) -> Option<Result<Value, String>> {
    let text = state_text(page)?;
    Some(serde_json::from_str(&js_to_json(text)).map_err(|e| e.to_string()))
}

/// The note of the state, when it is the one asked for.
fn note_in<'a>(state: &'a Value, id: &str) -> Option<&'a Value> {
    let note = state
        .get("note")?
        .get("noteDetailMap")?
        .get(id)?
        .get("note")?;
    (note.get("noteId").and_then(Value::as_str) == Some(id)).then_some(note)
}

// ---------------------------------------------------------------------------------------
// Verdicts

/// Risk-control codes: unreachable whatever else the answer says.
const RISK_CODES: &[(&str, &str)] = &[
    ("300011", "当前账号存在异常"),
    ("300012", "网络连接异常"),
    ("300013", "访问频次异常"),
    ("300015", "浏览器异常"),
    ("300017", "访问链接异常"),
];

/// Codes that say the note is not shown without saying why: unreachable, unless the
/// platform's words say more.
const INCONCLUSIVE_CODES: &[(&str, &str)] = &[
    ("300031", "当前笔记暂时无法浏览"),
    ("-510001", "笔记状态异常"),
];

/// Risk control and login in the platform's message: unreachable.
const WALL_WORDS: &[&str] = &[
    "当前账号存在异常",
    "网络连接异常",
    "访问频次异常",
    "浏览器异常",
    "访问链接异常",
    "IP存在风险",
    "安全验证",
    "安全限制",
    "请先登录",
    "登录后查看",
];

/// Anti-bot markers, looked for anywhere in a page without the note.
const CAPTCHA_MARKERS: &[&str] = &["website-login/captcha", "verifyType=", "verifyUuid="];

/// The words of the message area, most specific first.
const MARKERS: &[(&str, Outcome, Option<Cause>)] = &[
    ("账号已被封禁", Outcome::AccountGone, Some(Cause::Platform)),
    (
        "该用户已被封禁",
        Outcome::AccountGone,
        Some(Cause::Platform),
    ),
    ("账号违规", Outcome::AccountGone, Some(Cause::Platform)),
    ("已注销", Outcome::AccountGone, Some(Cause::Author)),
    ("审核中", Outcome::Restricted, None),
    ("仅自己可见", Outcome::Restricted, None),
    ("仅作者可见", Outcome::Restricted, None),
    ("私密笔记", Outcome::Restricted, None),
    ("已被作者删除", Outcome::Deleted, Some(Cause::Author)),
    ("作者已删除", Outcome::Deleted, Some(Cause::Author)),
    ("根据相关法律法规", Outcome::Deleted, Some(Cause::Platform)),
    ("违反社区规范", Outcome::Deleted, Some(Cause::Platform)),
    ("违规", Outcome::Deleted, Some(Cause::Platform)),
    ("平台删除", Outcome::Deleted, Some(Cause::Platform)),
    ("已被删除", Outcome::Deleted, None),
    ("已删除", Outcome::Deleted, None),
    ("笔记不存在", Outcome::Deleted, None),
    ("内容不存在", Outcome::Deleted, None),
];

/// What the platform says to the reader about a note it does not show: its error code
/// and its messages, each read only where it speaks.
#[derive(Debug, Default)]
struct Said {
    code: Option<String>,
    messages: Vec<String>,
}

fn said(r: &Response, raw: &str, state: Option<&Value>) -> Said {
    let mut s = Said::default();
    if r.url.path().starts_with("/404") {
        s.code = query(&r.url, "error_code").or_else(|| query(&r.url, "errorCode"));
        s.messages.extend(query(&r.url, "error_msg"));
    }
    if let Some(info) = state.and_then(|st| st.get("note")?.get("serverRequestInfo")) {
        if s.code.is_none() {
            s.code = str_of(info.get("errorCode")).filter(|c| c != "0");
        }
        s.messages.extend(str_of(info.get("errMsg")));
    }
    // The title is the platform's only on its own error page: a note page's title is
    // the note's own title.
    if r.url.path().starts_with("/404") {
        let doc = scraper::Html::parse_document(raw);
        let title = scraper::Selector::parse("title").expect("a constant selector");
        s.messages.extend(
            doc.select(&title)
                .map(|t| t.text().collect::<String>().trim().to_string())
                .filter(|t| !t.is_empty()),
        );
    }
    s
}

/// The verdict of an answer without the note.
fn verdict(r: &Response, raw: &str, state: Option<&Value>) -> Finding {
    let status = r.status;
    if let Some(m) = CAPTCHA_MARKERS.iter().find(|m| raw.contains(**m)) {
        return unreachable(format!(
            "xiaohongshu: captcha ({m} in the page), HTTP {status}"
        ));
    }
    let s = said(r, raw, state);
    let code = s.code.as_deref().unwrap_or("");
    let words = s.messages.join(" / ");
    if let Some((c, w)) = RISK_CODES.iter().find(|(c, _)| *c == code) {
        return unreachable(format!(
            "xiaohongshu: risk control, error code {c} ({w}): {words}"
        ));
    }
    if let Some(w) = WALL_WORDS
        .iter()
        .find(|w| s.messages.iter().any(|m| m.contains(**w)))
    {
        return unreachable(format!(
            "xiaohongshu: risk control or login wall ({w}): {words}"
        ));
    }
    for m in &s.messages {
        if let Some((_, outcome, cause)) = MARKERS.iter().find(|(w, ..)| m.contains(w)) {
            return gone(*outcome, *cause, m.clone());
        }
    }
    if let Some((c, w)) = INCONCLUSIVE_CODES.iter().find(|(c, _)| *c == code) {
        return unreachable(format!(
            "xiaohongshu: error code {c} ({w}): {words}; Xiaohongshu says this of live notes asked without a valid xsec_token too, so nothing is concluded"
        ));
    }
    if code == "-510000" {
        let message = if words.is_empty() {
            "error code -510000 (the note does not exist)".to_string()
        } else {
            format!("{words} (error code -510000)")
        };
        return gone(Outcome::Deleted, None, message);
    }
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(", error code {code}")
    };
    unreachable(format!(
        "xiaohongshu: HTTP {status}{code}, no note and no words of the platform that conclude anything ({words})"
    ))
}

fn read_page(id: &str, answer: &Fetched) -> Finding {
    let r = match answer {
        Fetched::Failed(e) => return unreachable(format!("{ENDPOINT}: {e}")),
        Fetched::Response(r) => r,
    };
    let host = r.url.host_str().unwrap_or("").to_ascii_lowercase();
    if !is_www(&host) {
        return unreachable(format!(
            "xiaohongshu: the note page led to {} (not a note page)",
            r.url
        ));
    }
    let path = r.url.path();
    if path.starts_with("/login")
        || path.starts_with("/website-login")
        || path.starts_with("/web-login")
    {
        let what = if path.contains("captcha") || query(&r.url, "verifyType").is_some() {
            "captcha"
        } else if path.contains("error") {
            "risk control"
        } else {
            "login wall"
        };
        let code = query(&r.url, "error_code")
            .map(|c| format!(", error code {c}"))
            .unwrap_or_default();
        return unreachable(format!(
            "xiaohongshu: redirected to {path} ({what}{code}), HTTP {}",
            r.status
        ));
    }
    if matches!(r.status, 403 | 418 | 429 | 461 | 471) || r.status >= 500 {
        let what = if matches!(r.status, 461 | 471) || r.header("verifytype").is_some() {
            " (captcha)"
        } else {
            ""
        };
        return unreachable(format!("{ENDPOINT}: HTTP {}{what}", r.status));
    }
    if r.truncated {
        return unreachable(format!(
            "{ENDPOINT}: the page was cut at the size limit (nothing concluded)"
        ));
    }
    let raw = String::from_utf8_lossy(&r.body);
    let state = match read_state(&raw) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) if r.status == 200 && !path.starts_with("/404") => {
            return broken(
                ENDPOINT,
                format!("window.__INITIAL_STATE__ as JSON once undefined is null ({e})"),
            );
        }
        _ => None,
    };
    if r.status == 200
        && let Some(note) = state.as_ref().and_then(|s| note_in(s, id))
    {
        return match read_note(id, note, &r.url) {
            Some(p) => Finding::Post(Box::new(p)),
            None => broken(ENDPOINT, "note.noteDetailMap.<id>.note in a known shape"),
        };
    }
    verdict(r, &raw, state.as_ref())
}

// ---------------------------------------------------------------------------------------
// Reading the note

fn https(u: &str) -> String {
    let u = u.trim();
    match u.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None if u.starts_with("//") => format!("https:{u}"),
        None => u.to_string(),
    }
}

/// Milliseconds as RFC 3339 in Beijing time.
fn beijing_ms(ms: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_millisecond(ms).ok()?;
    let z = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// Plain text as HTML: escaped, line breaks kept.
fn text_html(text: &str) -> String {
    let base = Url::parse(REFERER).expect("a constant URL");
    let paras = super::kit::escape_html(text).replace('\n', "<br>");
    sanitize_html(&format!("<p>{paras}</p>"), &base)
}

fn media(kind: MediaKind, url: &str) -> Media {
    let mut m = Media::new(kind, https(url));
    m.referer = Some(REFERER.into());
    m
}

fn picture_url(img: &Value) -> Option<String> {
    str_of(img.get("urlDefault"))
        .or_else(|| str_of(img.get("urlPre")))
        .or_else(|| {
            img.get("infoList")?
                .as_array()?
                .iter()
                .find_map(|i| str_of(i.get("url")))
        })
        .filter(|u| u.starts_with("http://") || u.starts_with("https://") || u.starts_with("//"))
}

/// The stream to fetch: the best h264 one by height, then bitrate; only without any, the
/// best h265 one.
fn best_stream(video: &Value) -> Option<(&'static str, &Value)> {
    let stream = video.get("media")?.get("stream")?;
    for codec in ["h264", "h265"] {
        let best = stream
            .get(codec)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|s| str_of(s.get("masterUrl")).is_some())
            .max_by_key(|s| {
                let n = |k: &str| s.get(k).and_then(Value::as_u64).unwrap_or(0);
                (n("height"), n("videoBitrate"))
            });
        if let Some(s) = best {
            return Some((codec, s));
        }
    }
    None
}

fn read_note(id: &str, n: &Value, asked: &Url) -> Option<Post> {
    if !n.is_object() {
        return None;
    }
    let mut post = Post::new("xiaohongshu", id, &canonical(id));
    let asked = asked.to_string();
    if asked != post.url {
        post.alt_urls.push(asked);
    }
    post.title = str_of(n.get("title"))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(desc) = str_of(n.get("desc")) {
        post.html = Some(text_html(&desc));
        post.text = Some(desc);
    }
    if let Some(t) = n.get("time").and_then(Value::as_i64) {
        post.created_at_raw = Some(t.to_string());
        post.created_at = beijing_ms(t);
    }
    if let Some(u) = n.get("user").filter(|u| u.is_object()) {
        let uid = str_of(u.get("userId"));
        let name = str_of(u.get("nickname"));
        if uid.is_some() || name.is_some() {
            post.author = Some(Author {
                url: uid.as_ref().map(|id| format!("{WWW}/user/profile/{id}")),
                id: uid,
                name,
                handle: None,
            });
        }
        if let Some(a) = str_of(u.get("avatar")) {
            post.extra.insert("author_avatar".into(), json!(https(&a)));
        }
    }
    if let Some(info) = n.get("interactInfo").filter(|i| i.is_object()) {
        let mut c = Counts::default();
        let count = |k: &str| info.get(k).and_then(crate::platforms::weibo::parse_count);
        c.likes = count("likedCount");
        c.comments = count("commentCount");
        for (field, key) in [
            ("likedCount", "likes"),
            ("collectedCount", "collects"),
            ("commentCount", "comments"),
            ("shareCount", "shares"),
        ] {
            if let Some(v) = info.get(field).filter(|v| !v.is_null()) {
                c.raw.insert(key.into(), v.clone());
            }
        }
        post.counts = Some(c);
    }
    if let Some(t) = n
        .get("lastUpdateTime")
        .and_then(Value::as_i64)
        .and_then(beijing_ms)
    {
        post.extra.insert("updated_at".into(), json!(t));
    }
    if let Some(ip) = str_of(n.get("ipLocation")) {
        post.extra.insert("ip_location".into(), json!(ip));
    }
    if let Some(kind) = str_of(n.get("type")) {
        post.extra.insert("type".into(), json!(kind));
    }
    let tags: Vec<String> = n
        .get("tagList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| str_of(t.get("name")))
        .collect();
    if !tags.is_empty() {
        post.extra.insert("tags".into(), json!(tags));
    }
    for img in n
        .get("imageList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(u) = picture_url(img) {
            let m = media(MediaKind::Image, &u);
            if !post.media.iter().any(|x| x.url == m.url) {
                post.media.push(m);
            }
        }
    }
    if let Some((codec, s)) = n.get("video").and_then(best_stream)
        && let Some(u) = str_of(s.get("masterUrl"))
    {
        post.media.push(media(MediaKind::Video, &u));
        post.extra.insert(
            "video_stream".into(),
            json!({
                "codec": codec,
                "height": s.get("height"),
                "width": s.get("width"),
                "bitrate": s.get("videoBitrate"),
                "quality": s.get("qualityType"),
            }),
        );
    }
    Some(post)
}

// ---------------------------------------------------------------------------------------

struct PagePlan {
    id: String,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(read_page(&self.id, &answer))
    }
}

/// The page a target asks for: its own URL when it is one of the note's pages on
/// www.xiaohongshu.com, else the canonical one.
fn page_url(id: &str, target_url: &str) -> Url {
    Url::parse(target_url)
        .ok()
        .filter(|u| {
            u.scheme() == "https"
                && u.host_str().is_some_and(is_www)
                && matches!(recognise_url(u), Some(Target::Post { platform_id, .. }) if platform_id == id)
        })
        .unwrap_or_else(|| Url::parse(&canonical(id)).expect("a URL of hex digits"))
}

impl Platform for Xiaohongshu {
    fn name(&self) -> &'static str {
        "xiaohongshu"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.xiaohongshu.com", "xiaohongshu.com", "xhslink.com"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    /// Share text copied from the app (`… http://xhslink.com/a/…，复制本条信息…`): the
    /// Xiaohongshu URL inside it.
    fn normalise(&self, input: &str) -> Option<Result<Url, String>> {
        url_in_share_text(input).map(super::read_url)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        match target {
            Target::Post { platform_id, url } if is_note_id(platform_id) => {
                let req = Request::get(page_url(platform_id, url), ENDPOINT).page();
                Step::fetch(
                    req,
                    PagePlan {
                        id: platform_id.clone(),
                    },
                )
            }
            Target::Post { platform_id, .. } => Step::Done(broken(
                ENDPOINT,
                format!("a note id of 24 hex digits, not {platform_id:?}"),
            )),
            Target::Follow { url } => super::kit::follow_step(url, "xhslink.com short link"),
            Target::Account { account_id, .. } => Step::Done(broken(
                "xiaohongshu",
                format!("a note, not the account {account_id:?} (accounts cannot be watched)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "65f1a2b3c4d5e6f708192a3b";

    fn page_at(url: &str, status: u16, body: &str) -> Fetched {
        Fetched::Response(Response {
            url: Url::parse(url).unwrap(),
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn page(status: u16, body: &str) -> Fetched {
        page_at(&canonical(ID), status, body)
    }

    fn target_of(u: &str) -> Option<Target> {
        recognise_url(&Url::parse(u).unwrap())
    }

    fn post_of(u: &str) -> Option<(String, String)> {
        match target_of(u)? {
            Target::Post { platform_id, url } => Some((platform_id, url)),
            _ => None,
        }
    }

    #[test]
    fn url_forms_are_recognised() {
        let plain = Some((
            ID.to_string(),
            format!("https://www.xiaohongshu.com/explore/{ID}"),
        ));
        assert_eq!(
            post_of(&format!("https://www.xiaohongshu.com/explore/{ID}")),
            plain
        );
        assert_eq!(
            post_of(&format!("https://xiaohongshu.com/discovery/item/{ID}/")),
            plain
        );
        assert_eq!(
            post_of(&format!(
                "https://www.xiaohongshu.com/user/profile/5e38cac70000000001003649/{ID}"
            )),
            plain
        );
        // The token stays in the request URL; xsec_source and the rest are dropped.
        assert_eq!(
            post_of(&format!(
                "https://www.xiaohongshu.com/discovery/item/{ID}?app_platform=android&xsec_source=app_share&xsec_token=AB3rO-Qo%3D"
            )),
            Some((
                ID.to_string(),
                format!("https://www.xiaohongshu.com/explore/{ID}?xsec_token=AB3rO-Qo%3D")
            ))
        );
        for short in [
            "https://xhslink.com/AbCdEf12",
            "http://xhslink.com/a/AbCdEf12",
            "http://xhslink.com/o/7RVbLuOxlIq",
        ] {
            assert_eq!(
                target_of(short),
                Some(Target::Follow { url: short.into() }),
                "{short}"
            );
        }
        for not in [
            "https://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3",
            "https://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3bc",
            "https://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3g",
            "https://www.xiaohongshu.com/explore/65F1A2B3C4D5E6F708192A3B",
            "https://www.xiaohongshu.com/user/profile/5e38cac70000000001003649",
            "https://www.xiaohongshu.com/explore",
            "https://www.xiaohongshu.com/404?source=/publish/publish",
            "https://xhslink.com/a/b/c",
            "https://xhslink.com/ab/cd",
            "https://example.com/explore/65f1a2b3c4d5e6f708192a3b",
            "ftp://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3b",
        ] {
            assert_eq!(target_of(not), None, "{not}");
        }
        // Where a short link of a gone note ends.
        let gone_at = format!("https://www.xiaohongshu.com/404?noteId={ID}&errorCode=-510000");
        assert_eq!(post_of(&gone_at), Some((ID.to_string(), gone_at.clone())));
        let sec = format!(
            "https://www.xiaohongshu.com/404/sec_x?redirectPath=%2Fexplore%2F{ID}&error_code=300031"
        );
        assert_eq!(post_of(&sec).map(|p| p.0), Some(ID.to_string()));
    }

    #[test]
    fn share_text_names_its_url() {
        let text = "64 某某发布了一篇小红书笔记，快来看吧！ 😆 AbCdEf12 😆 http://xhslink.com/a/AbCdEf12，复制本条信息，打开【小红书】App查看精彩内容！";
        assert_eq!(
            Xiaohongshu.normalise(text).unwrap().unwrap().as_str(),
            "http://xhslink.com/a/AbCdEf12"
        );
        assert_eq!(
            super::super::read_url(text).unwrap().as_str(),
            "http://xhslink.com/a/AbCdEf12"
        );
        let explore =
            format!("看看这个 https://www.xiaohongshu.com/explore/{ID}?xsec_token=AB%3D 好看");
        assert_eq!(
            Xiaohongshu.normalise(&explore).unwrap().unwrap().as_str(),
            format!("https://www.xiaohongshu.com/explore/{ID}?xsec_token=AB%3D")
        );
        // A bare URL, another site's URL in text, or text without a URL is not ours.
        assert!(
            Xiaohongshu
                .normalise("http://xhslink.com/a/AbCdEf12")
                .is_none()
        );
        assert!(
            Xiaohongshu
                .normalise("see https://example.com/x now")
                .is_none()
        );
        assert!(Xiaohongshu.normalise("小红书笔记 AbCdEf12").is_none());
    }

    #[test]
    fn undefined_outside_strings_is_null_and_inside_strings_stays() {
        let js = r#"{"a":undefined,"b":"undefined 和 \"undefined\"","c":[undefined,NaN,-Infinity],"m":new Map([["k",1]]),"s":new  Set([]),"undefinedKey":1,"d":undefinedish}"#;
        let json = js_to_json(js);
        assert_eq!(
            json,
            r#"{"a":null,"b":"undefined 和 \"undefined\"","c":[null,null,null],"m":[["k",1]],"s":[],"undefinedKey":1,"d":undefinedish}"#
        );
        let page = format!(
            "<html><script>window.__INITIAL_STATE__ = {js};</script><script>var x=1</script></html>"
        )
        .replace(",\"d\":undefinedish", "");
        let v = read_state(&page).unwrap().unwrap();
        assert_eq!(v["b"], "undefined 和 \"undefined\"");
        assert!(v["a"].is_null());
        assert!(
            read_state("<script>window.__INITIAL_STATE__={oops}</script>")
                .unwrap()
                .is_err()
        );
        assert!(read_state("<html>no state</html>").is_none());
    }

    #[test]
    fn broken_state_text_never_panics() {
        for js in [
            "",
            "\"",
            "\"abc\\",
            "new",
            "new Map(",
            "new Map([1,2]",
            ")))",
            "{\"a\":undefined",
            "-Infinity",
            "undefined",
            "{\"键\":\"值\",\"b\":new Set([\"é\"])}",
        ] {
            let _ = js_to_json(js);
            let body = format!("<script>window.__INITIAL_STATE__={js}</script>");
            let f = read_page(ID, &page(200, &body));
            assert!(!matches!(f, Finding::Post(_)), "{js}: {f:?}");
        }
        assert_eq!(js_to_json("{\"键\":new Set([\"é\"])}"), "{\"键\":[\"é\"]}");
    }

    fn live_page(extra_script: &str, desc: &str) -> String {
        format!(
            r#"<html><head><title>当前笔记暂时无法浏览 已被作者删除</title>
<script>var msg="该笔记已被删除 违规 仅自己可见 审核中 账号已被封禁 error_code=300031";{extra_script}</script></head><body>
<script>window.__INITIAL_STATE__={{"user":{{"loggedIn":false}},"note":{{"firstNoteId":"{ID}","noteDetailMap":{{"{ID}":{{"comments":{{"list":[]}},"note":{{"noteId":"{ID}","type":"normal","title":"笔记已删除？","desc":"{desc}","time":1710307200000,"lastUpdateTime":1710310800000,"ipLocation":"上海","user":{{"userId":"5e38cac70000000001003649","nickname":"某某","avatar":"http://sns-avatar-qc.xhscdn.com/avatar/a.jpg"}},"interactInfo":{{"likedCount":"1.2万","collectedCount":"10+","commentCount":"35","shareCount":"7"}},"imageList":[{{"urlDefault":"http://sns-webpic-qc.xhscdn.com/202403131200/abc/1040g2sg!nd_dft_wlteh_webp_3","urlPre":"http://sns-webpic-qc.xhscdn.com/p!nd_prv","width":1080,"height":1440}}],"tagList":[{{"id":"1","name":"旅行","type":"topic"}}],"extra":undefined}}}}}},"serverRequestInfo":{{"state":"fail","errorCode":-510000,"errMsg":"笔记不存在"}}}}}}</script></body></html>"#
        )
    }

    #[test]
    fn deletion_words_in_a_live_note_its_scripts_or_its_title_never_make_it_gone() {
        let body = live_page(
            "var u='https://www.xiaohongshu.com/404?error_msg=笔记已被删除';",
            "朋友说 该笔记已被删除 根据相关法律法规 仅自己可见 是个梗\\n第二行",
        );
        match read_page(ID, &page(200, &body)) {
            Finding::Post(p) => {
                assert_eq!(p.id.0, format!("xiaohongshu:{ID}"));
                assert_eq!(p.url, format!("https://www.xiaohongshu.com/explore/{ID}"));
                assert_eq!(p.title.as_deref(), Some("笔记已删除？"));
                assert!(p.text.as_deref().unwrap().contains("是个梗\n第二行"));
                assert!(p.html.as_deref().unwrap().contains("<br>"));
                assert_eq!(p.created_at.as_deref(), Some("2024-03-13T13:20:00+08:00"));
                assert_eq!(p.extra["updated_at"], "2024-03-13T14:20:00+08:00");
                let a = p.author.unwrap();
                assert_eq!(a.id.as_deref(), Some("5e38cac70000000001003649"));
                assert_eq!(a.name.as_deref(), Some("某某"));
                let c = p.counts.unwrap();
                assert_eq!(c.likes, Some(12_000));
                assert_eq!(c.comments, Some(35));
                assert_eq!(c.raw["collects"], "10+");
                assert_eq!(p.media.len(), 1);
                assert_eq!(
                    p.media[0].url,
                    "https://sns-webpic-qc.xhscdn.com/202403131200/abc/1040g2sg!nd_dft_wlteh_webp_3"
                );
                assert_eq!(p.media[0].referer.as_deref(), Some(REFERER));
                assert_eq!(p.extra["tags"], json!(["旅行"]));
                assert_eq!(p.extra["ip_location"], "上海");
            }
            other => panic!("a live note read as {other:?}"),
        }
    }

    #[test]
    fn another_note_in_the_state_is_not_this_one() {
        let body = live_page("", "x").replace(
            &format!("\"noteId\":\"{ID}\""),
            "\"noteId\":\"65f1a2b3c4d5e6f708192a3c\"",
        );
        match read_page(ID, &page(200, &body)) {
            // The state's own error (-510000 笔记不存在) is then what the platform says.
            Finding::Gone(g) => {
                assert_eq!((g.outcome, g.cause), (Outcome::Deleted, None));
                assert!(g.message.unwrap().contains("笔记不存在"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn words_in_scripts_of_a_page_without_the_note_are_not_read() {
        let body = r#"<html><head><title>小红书 - 你访问的页面不见了</title><script>var a="该笔记已被删除 违规 账号已被封禁";</script></head>
<body><div data-m="已被作者删除">笔记已被作者删除</div><script>window.__INITIAL_STATE__={"note":{"noteDetailMap":{}}}</script></body></html>"#;
        match read_page(
            ID,
            &page_at("https://www.xiaohongshu.com/404?source=note", 200, body),
        ) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{g:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_note_page_title_is_the_notes_own_words() {
        // The state holds no note (a placeholder keyed "undefined"), and the title is a
        // note's title that quotes deletion words: nothing the platform said.
        let body = r#"<html><head><title>我的笔记已被作者删除了？ - 小红书</title></head><body>
<script>window.__INITIAL_STATE__={"note":{"noteDetailMap":{"undefined":{"note":{}}}}}</script></body></html>"#;
        match read_page(ID, &page(200, body)) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{g:?}"),
            other => panic!("{other:?}"),
        }
        // The same title on the 404 page is the platform's.
        match read_page(ID, &page_at("https://www.xiaohongshu.com/404", 200, body)) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Deleted, "{g:?}"),
            other => panic!("{other:?}"),
        }
    }

    fn at_404(query: &str) -> Finding {
        let body = "<html><head><title>小红书 - 你访问的页面不见了</title></head><body>页面不见了</body></html>";
        read_page(
            ID,
            &page_at(
                &format!("https://www.xiaohongshu.com/404?{query}"),
                200,
                body,
            ),
        )
    }

    #[test]
    fn the_message_area_is_read_when_the_note_is_absent() {
        let cases = [
            (
                "error_code=-510000&error_msg=笔记已被作者删除",
                Outcome::Deleted,
                Some(Cause::Author),
                "笔记已被作者删除",
            ),
            ("error_code=-510000", Outcome::Deleted, None, "-510000"),
            (
                "error_msg=该笔记因违规已被删除",
                Outcome::Deleted,
                Some(Cause::Platform),
                "违规",
            ),
            ("error_msg=笔记审核中", Outcome::Restricted, None, "审核中"),
            (
                "error_msg=该笔记仅自己可见",
                Outcome::Restricted,
                None,
                "仅自己可见",
            ),
            (
                "error_msg=该账号已被封禁",
                Outcome::AccountGone,
                Some(Cause::Platform),
                "账号已被封禁",
            ),
            // Deletion words win over the inconclusive 300031.
            (
                "error_code=300031&error_msg=笔记已删除",
                Outcome::Deleted,
                None,
                "笔记已删除",
            ),
        ];
        for (q, outcome, cause, words) in cases {
            match at_404(q) {
                Finding::Gone(g) => {
                    assert_eq!((g.outcome, g.cause), (outcome, cause), "{q}");
                    assert!(g.message.as_deref().unwrap().contains(words), "{q}: {g:?}");
                }
                other => panic!("{q}: {other:?}"),
            }
        }
    }

    #[test]
    fn inconclusive_codes_walls_and_risk_control_are_unreachable() {
        for q in [
            "source=note&error_code=300031&error_msg=当前笔记暂时无法浏览",
            "error_code=-510001&error_msg=笔记状态异常，请稍后查看",
            "error_code=300013&error_msg=笔记已被删除",
            "error_code=300012&error_msg=访问频次异常 已被作者删除",
            "source=note",
        ] {
            match at_404(q) {
                Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{q}: {g:?}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        for (url, status) in [
            (
                "https://www.xiaohongshu.com/website-login/captcha?redirectPath=x&verifyUuid=u&verifyType=102&verifyBiz=461",
                200,
            ),
            ("https://www.xiaohongshu.com/login?redirectPath=x", 200),
            (
                "https://www.xiaohongshu.com/website-login/error?error_code=300012",
                200,
            ),
            (
                "https://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3b",
                461,
            ),
            (
                "https://www.xiaohongshu.com/explore/65f1a2b3c4d5e6f708192a3b",
                503,
            ),
        ] {
            let body = "<html><head><title>笔记已被作者删除</title></head></html>";
            match read_page(ID, &page_at(url, status, body)) {
                Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{url}: {g:?}"),
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(matches!(
            read_page(ID, &Fetched::Failed("reset".into())),
            Finding::Gone(g) if g.outcome == Outcome::Unreachable
        ));
    }

    #[test]
    fn the_best_h264_stream_is_chosen() {
        let video = json!({"media": {"stream": {
            "h264": [
                {"masterUrl": "http://sns-video-bd.xhscdn.com/720.mp4", "height": 720, "videoBitrate": 900},
                {"masterUrl": "http://sns-video-bd.xhscdn.com/1080.mp4", "height": 1080, "videoBitrate": 1500},
                {"height": 2160}
            ],
            "h265": [{"masterUrl": "http://sns-video-bd.xhscdn.com/h265.mp4", "height": 2160}]
        }}});
        let (codec, s) = best_stream(&video).unwrap();
        assert_eq!(codec, "h264");
        assert_eq!(s["masterUrl"], "http://sns-video-bd.xhscdn.com/1080.mp4");
        let only_h265 = json!({"media": {"stream": {"h264": [], "h265": [{"masterUrl": "http://a/h265.mp4", "height": 1080}]}}});
        assert_eq!(best_stream(&only_h265).unwrap().0, "h265");
        assert!(best_stream(&json!({"media": null})).is_none());
    }
}
