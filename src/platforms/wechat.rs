//! WeChat official-account articles (`mp.weixin.qq.com`).
//!
//! # URL forms and ids
//!
//! | form | post id |
//! | --- | --- |
//! | `mp.weixin.qq.com/s?__biz=<b64>&mid=<n>&idx=<n>&sn=<hex>[&chksm=…&scene=…#wechat_redirect]` (aliases `appmsgid`, `itemidx`, `sign`; also `/mp/appmsg/show?…`) | `wechat:<__biz>/<mid>/<idx>` |
//! | `mp.weixin.qq.com/s/<code>` (query and hash dropped) | `wechat:s/<code>` |
//! | `mp.weixin.qq.com/s?src=11&timestamp=…&signature=…` (temporary Sogou links) | `wechat:<__biz>/<mid>/<idx>` read from the page, else `wechat:tmp/<sha256 of the URL, 16 hex>` |
//!
//! `(__biz, mid, idx)` is the stable identity of an article; `sn` is a signature the
//! server wants, kept in the URL. A short link is its own id (`s/<code>`): the server
//! maps it to one article, and the long form is only known after a fetch, so the short
//! id never changes between a capture and its re-checks; the long URL the page names
//! (`var msg_link`, or `biz`/`mid`/`idx`/`sn` vars) goes into `alt_urls` and `extra`.
//! `&amp;` and `\x26amp;` inside URLs are repaired, `http:` becomes `https:`.
//!
//! # Endpoint
//!
//! One `GET` of the article URL (redirects followed), no cookies. The page is read for
//! the title (`og:title`, `#activity-name`, `var msg_title`), the account (`#js_name`,
//! `var nickname`, `#post-user`; id `var user_name` = `gh_…`), the byline
//! (`meta[name=author]`, `#js_author_name`), the time (`var ct` / `ct = "…"` unix
//! seconds, else `publish_time`), the body `#js_content`, images (`img[data-src]` on
//! mmbiz, fetched with `Referer: https://mp.weixin.qq.com/`), audio (`<mpvoice
//! voice_encode_fileid>` → `res.wx.qq.com/voice/getvoice?mediaid=…`), video players
//! (`iframe.video_iframe[data-src]`, `mpvideo`, kept as references in `extra.videos`:
//! they are player pages, not files) and a reshare's source (`#js_share_source[data-url]`
//! → `quote_of`).
//!
//! # Shares
//!
//! An image share (`item_show_type` 8, `window.item_show_type = '8'` or the data script's
//! `item_show_type: '8' * 1`) has no `#js_content`: its text is `content_noencode:
//! JsDecode('…')` (HTML with `\x0a` line breaks) and its pictures are the `cdn_url` of each
//! item of `picture_page_info_list` (never the `cdn_url` of objects nested in an item:
//! `watermark_info`, `share_cover`). A text share (10) has a `#js_content` holding only
//! its account and title: its text is `content_noencode` alone. Their time is
//! `window.ct = '…'` (single quotes), else the data script's `create_time`. A share page
//! without that data is read as an article when it has a `#js_content`, else it is broken,
//! naming what is missing.
//!
//! # Error pages (HTTP 200, no `#js_content`), see [`classify_error`]
//!
//! Deleted by the publisher (cause author); violation, complaint, infringement (cause
//! platform); account closed / banned / migrated (account gone); the author's privacy
//! setting (restricted); an expired temporary link, `环境异常` captcha, `参数错误`, and
//! `该内容暂时无法查看` (temporarily unavailable) (unreachable: not a verdict on the
//! article, with WeChat's words as the message). WeChat's English pages say
//! "The content has been deleted by the author." (deleted, cause author), "Unable to view
//! this content because it violates regulation" (deleted, cause platform), "… link has
//! expired" and "temporarily unavailable" (unreachable). An unknown error page is
//! deleted, cause unknown.
//!
//! A marker counts only where WeChat speaks to the reader: the message area
//! (`.weui-msg__title`, `.global_error_msg`, `.weui-msg__desc`, and on an error page its
//! `.mesg-block`, `.text_area` and `<title>`). WeChat's own scripts carry "店铺已被封禁" and
//! "商品因违规已下架" on live pages, and a live page's title is its author's words: a
//! marker there concludes nothing. Only the anti-bot and link markers (unreachable, never
//! a deletion) are also looked for in the whole page.
//!
//! # Not possible without login
//!
//! Read / like counts and comments (need a WeChat client `key`/`pass_ticket`), an
//! account's article list (`profile_ext` needs a client session), and v.qq.com video files.

use super::kit::{escape_html, gone, unescape_html, unreachable};
use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target};
use crate::extract::{decode_text, html_to_text, sanitize_html};
use crate::model::{Author, Cause, Media, MediaKind, Outcome, Post};
use scraper::{ElementRef, Html, Selector};
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

pub struct Wechat;

const HOST: &str = "mp.weixin.qq.com";
const REFERER: &str = "https://mp.weixin.qq.com/";
const HTML_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

// ---------------------------------------------------------------------------------------
// URLs

fn repair(s: &str) -> String {
    s.replace("\\x26amp;", "&")
        .replace("\\x26", "&")
        .replace("&amp;", "&")
}

fn query(url: &Url, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        url.query_pairs()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.into_owned())
    })
}

/// `https://mp.weixin.qq.com/s?__biz=…&mid=…&idx=…[&sn=…]` (the `==` of `__biz` kept as is).
pub fn long_url(biz: &str, mid: &str, idx: &str, sn: Option<&str>) -> String {
    let mut u = format!("https://{HOST}/s?__biz={biz}&mid={mid}&idx={idx}");
    if let Some(sn) = sn.filter(|s| !s.is_empty()) {
        u.push_str(&format!("&sn={sn}"));
    }
    u
}

fn valid_biz(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'+' | b'/' | b'-' | b'_'))
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    if url.host_str()?.to_ascii_lowercase() != HOST {
        return None;
    }
    // `&amp;` pasted from HTML sources.
    let url = if url.as_str().contains("&amp;") || url.as_str().contains("\\x26") {
        Url::parse(&repair(url.as_str())).ok()?
    } else {
        url.clone()
    };
    let segs = crate::platforms::kit::segments(&url);
    match segs.as_slice() {
        ["s", code] => {
            if code.len() > 64
                || !code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return None;
            }
            Some(Target::Post {
                platform_id: format!("s/{code}"),
                url: format!("https://{HOST}/s/{code}"),
            })
        }
        ["s"] | ["mp", "appmsg", "show"] => {
            let biz = query(&url, &["__biz"]);
            let mid = query(&url, &["mid", "appmsgid"]);
            let idx = query(&url, &["idx", "itemidx"]);
            let sn = query(&url, &["sn", "sign"]);
            match (biz, mid, idx) {
                (Some(b), Some(m), Some(i)) if valid_biz(&b) && digits(&m) && digits(&i) => {
                    Some(Target::Post {
                        platform_id: format!("{b}/{m}/{i}"),
                        url: long_url(&b, &m, &i, sn.as_deref()),
                    })
                }
                _ if query(&url, &["signature"]).is_some() || query(&url, &["src"]).is_some() => {
                    let mut u = url.clone();
                    u.set_fragment(None);
                    u.set_scheme("https").ok()?;
                    let h = hex::encode(Sha256::digest(u.as_str().as_bytes()));
                    Some(Target::Post {
                        platform_id: format!("tmp/{}", &h[..16]),
                        url: u.to_string(),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Error pages

/// What a WeChat error page says. `None` when the text holds no known marker.
pub fn classify_error(text: &str) -> Option<(Outcome, Option<Cause>)> {
    let has = |s: &str| text.contains(s);
    // WeChat's English pages (`window.LANG = "en"`) say the same in English.
    let lower = text.to_ascii_lowercase().replace('\u{2019}', "'");
    let en = |s: &str| lower.contains(s);
    // Anti-bot and link problems first: they say nothing about the article.
    if has("环境异常")
        || has("完成验证后即可继续访问")
        || has("js_verify")
        || has("去验证")
        || has("wappoc_appmsgcaptcha")
    {
        return Some((Outcome::Unreachable, None));
    }
    if has("链接已过期") || en("link has expired") || en("link expired") {
        return Some((Outcome::Unreachable, None));
    }
    if has("参数错误") {
        return Some((Outcome::Unreachable, None));
    }
    // "Temporarily" is no verdict: the article may be back tomorrow.
    if has("暂时无法查看") || (en("temporarily") && (en("unavailable") || en("view"))) {
        return Some((Outcome::Unreachable, None));
    }
    // Account level: a banned account's page also says "无法查看".
    if has("帐号已注销") || has("账号已注销") || has("公众号已注销") || has("已迁移")
    {
        return Some((Outcome::AccountGone, Some(Cause::Author)));
    }
    if has("已被封禁")
        || has("已被屏蔽")
        || has("帐号已被封")
        || has("账号已被封")
        || (has("帐号") && has("涉嫌侵犯他人合法权益"))
        || (has("账号") && has("涉嫌侵犯他人合法权益"))
        || has("该公众号已被冻结")
    {
        return Some((Outcome::AccountGone, Some(Cause::Platform)));
    }
    if has("已被发布者删除")
        || has("已被作者删除")
        || en("deleted by the author")
        || en("deleted by the publisher")
    {
        return Some((Outcome::Deleted, Some(Cause::Author)));
    }
    if has("因违规无法查看")
        || has("涉嫌违反相关法律法规和政策")
        || has("由用户投诉并经平台审核")
        || has("被投诉且经审核")
        || has("涉嫌侵权")
        || has("发送失败无法查看")
        || has("违规")
        || en("violates regulation")
        || en("violated regulation")
    {
        return Some((Outcome::Deleted, Some(Cause::Platform)));
    }
    if has("隐私设置") {
        return Some((Outcome::Restricted, Some(Cause::Author)));
    }
    None
}

/// The reason text of an error page (`.weui-msg__title`, `.global_error_msg`), verbatim:
/// the part of the page where WeChat speaks to the reader. The `<title>` counts only on a
/// page that is an error page (`error_page`): a live page's title is its author's words.
fn error_message(doc: &Html, error_page: bool) -> Option<String> {
    let areas: &[&str] = if error_page {
        &[
            ".weui-msg__title",
            ".global_error_msg",
            ".weui-msg__desc",
            ".mesg-block",
            ".text_area",
            "title",
        ]
    } else {
        &[".weui-msg__title", ".global_error_msg", ".weui-msg__desc"]
    };
    for s in areas {
        if let Some(e) = doc.select(&sel(s)).next() {
            let t = collapse(&text_of(e));
            if !t.is_empty() {
                return Some(t);
            }
        }
    }
    None
}

/// Whether the page is laid out as an error page (its message elements). Read from the
/// elements only: a string in a script (`wappoc_appmsgcaptcha`, a captcha, is an
/// anti-bot marker of [`classify_error`]) makes no page an error page.
fn is_error_page(doc: &Html) -> bool {
    doc.select(&sel(
        ".weui-msg, .global_error_msg, .mesg-block, i.weui-icon-warn, i.weui-icon-warn-gray, .icon_msg.warn",
    ))
    .next()
    .is_some()
}

// ---------------------------------------------------------------------------------------
// Article

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

fn text_of(e: ElementRef) -> String {
    e.text().collect::<String>().trim().to_string()
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first non-empty quoted string assigned to `var <name>` (`var biz = "" || "Mz…"`,
/// `var ct = "1521515999"`, `var msg_source_url = ''`), JS escapes decoded.
pub fn js_var(html: &str, name: &str) -> Option<String> {
    for pat in [
        format!("var {name} = "),
        format!("var {name}="),
        format!("window.{name} = "),
        format!("window.{name}="),
        format!("{name} = "),
    ] {
        let mut from = 0;
        while let Some(i) = html[from..].find(&pat) {
            let start = from + i;
            from = start + pat.len();
            // Whole identifier only.
            if start > 0 {
                let prev = html.as_bytes()[start - 1];
                if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'.' {
                    continue;
                }
            }
            let rest = &html[from..];
            let mut line_end = rest.find('\n').unwrap_or(rest.len()).min(4000);
            while !rest.is_char_boundary(line_end) {
                line_end -= 1;
            }
            let line = &rest[..line_end];
            if let Some(v) = quoted_strings(line).into_iter().find(|s| !s.is_empty()) {
                return Some(v);
            }
        }
    }
    None
}

fn quoted_strings(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(['"', '\'', ';']) {
        // The statement ends at a `;` outside quotes.
        if rest[i..].starts_with(';') {
            break;
        }
        let q = rest[i..].chars().next().unwrap_or('"');
        let (s, after) = js_string(&rest[i + 1..], q);
        out.push(s);
        rest = after;
    }
    out
}

/// One JavaScript string literal whose opening quote `q` was just read: its value with
/// the escapes decoded (`\xHH`, `\uHHHH`, `\n`, `\t`, `\r`, `\'`, ...), and what follows
/// its closing quote (the empty rest when it is not closed).
fn js_string(s: &str, q: char) -> (String, &str) {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return (out, &s[i + c.len_utf8()..]);
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'x')) => {
                let h: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                if let Some(ch) = u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some((_, 'u')) => {
                let h: String = chars.by_ref().take(4).map(|(_, c)| c).collect();
                if let Some(ch) = u32::from_str_radix(&h, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some((_, 'n')) => out.push('\n'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 't')) => out.push('\t'),
            Some((_, o)) => out.push(o),
            None => break,
        }
    }
    (out, "")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The value written after `key` in `key: JsDecode('…')`, `key: '…'` (a field of an
/// inline object such as `window.cgiDataNew`) or `key = '…' || '…'`: the first
/// non-empty string, escapes decoded. `key` is matched as a whole identifier
/// (`create_time` is not `ori_create_time`).
pub fn js_field(html: &str, key: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = html[from..].find(key) {
        let start = from + i;
        from = start + key.len();
        if start > 0 && is_ident_byte(html.as_bytes()[start - 1]) {
            continue;
        }
        if let Some(v) = js_value_after(&html[from..]).filter(|v| !v.is_empty()) {
            return Some(v);
        }
    }
    None
}

/// What `: <string>` or `= <string> [|| <string>]` right after a key says, if it is a
/// string (optionally wrapped in `JsDecode(…)` or `htmlDecode(…)`).
fn js_value_after(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = match rest.as_bytes().first()? {
        b':' => &rest[1..],
        b'=' if !rest.starts_with("==") => &rest[1..],
        _ => return None,
    };
    let mut rest = rest.trim_start();
    loop {
        for f in ["JsDecode(", "htmlDecode("] {
            if let Some(r) = rest.strip_prefix(f) {
                rest = r.trim_start();
            }
        }
        let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let (v, after) = js_string(&rest[1..], q);
        if !v.is_empty() {
            return Some(v);
        }
        let after = after.trim_start_matches([')', ' ']);
        rest = after.strip_prefix("||")?.trim_start();
    }
}

/// The text of the JavaScript array literal assigned to `key` (`key: [...]` or
/// `key = [...]`), brackets included: the first one found, strings skipped over.
fn js_array<'a>(html: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = html[from..].find(key) {
        let start = from + i;
        from = start + key.len();
        if start > 0 && is_ident_byte(html.as_bytes()[start - 1]) {
            continue;
        }
        let rest = html[from..].trim_start();
        let Some(rest) = rest.strip_prefix([':', '=']) else {
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with('[') {
            continue;
        }
        let open = html.len() - rest.len();
        if let Some(len) = balanced_len(rest) {
            return Some(&html[open..open + len]);
        }
    }
    None
}

/// The length of the bracketed literal `s` starts with, up to its matching close.
fn balanced_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The `cdn_url` of every item of a `picture_page_info_list` array: only the item's own
/// field, never those of objects nested in it (`watermark_info`, `share_cover`).
fn item_cdn_urls(array: &str) -> Vec<String> {
    let b = array.as_bytes();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ if depth == 2
                && b[i..].starts_with(b"cdn_url")
                && (i == 0 || !is_ident_byte(b[i - 1])) =>
            {
                let after = i + "cdn_url".len();
                if let Some(v) = js_value_after(&array[after..]) {
                    out.push(v);
                }
                i = after;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn https(u: &str) -> String {
    let u = repair(u.trim());
    if let Some(r) = u.strip_prefix("http://") {
        format!("https://{r}")
    } else if u.starts_with("//") {
        format!("https:{u}")
    } else {
        u
    }
}

fn shanghai_time(secs: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    let z = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)));
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// Reads an article page. `target_id`/`target_url` are the recognised identity (kept for
/// short links); a temporary link takes the page's `(biz, mid, idx)`.
pub fn parse_article(html: &str, target_id: &str, target_url: &str) -> Result<Post, &'static str> {
    let doc = Html::parse_document(html);
    let show_type = js_var(html, "item_show_type")
        .or_else(|| js_field(html, "item_show_type"))
        .filter(|t| digits(t));
    // An image share (item type 8) has no `#js_content`: its text and pictures live in
    // the page's data script. A text share (10) has a `#js_content` that holds its
    // account and title but not its text, which lives only in `content_noencode`.
    // A page that says it is a share but holds no share data is read as an article
    // when it has a body.
    let content = doc.select(&sel("#js_content")).next();
    let share = match show_type.as_deref() {
        Some("8") => Some(share_body(html, true)),
        Some("10") => Some(share_body(html, false)),
        _ => None,
    };
    let is_share = matches!(share, Some(Ok(_)));
    // The data script's fields (`title:`, `nick_name:`, `create_time:`) are read for a
    // share only: an article's page scripts hold other objects with such fields.
    let field = |key: &str| if is_share { js_field(html, key) } else { None };
    let body = match (share, content) {
        (Some(Ok(s)), _) => Body::Share(s),
        (_, Some(c)) => Body::Content(c),
        (Some(Err(missing)), None) => return Err(missing),
        (None, None) => return Err("#js_content"),
    };
    let biz = js_var(html, "biz").or_else(|| js_var(html, "__biz"));
    let mid = js_var(html, "mid").or_else(|| js_var(html, "appmsgid"));
    let idx = js_var(html, "idx").or_else(|| js_var(html, "itemidx"));
    let sn = js_var(html, "sn");
    let page_long = match (&biz, &mid, &idx) {
        (Some(b), Some(m), Some(i)) if valid_biz(b) && digits(m) && digits(i) => {
            Some((format!("{b}/{m}/{i}"), long_url(b, m, i, sn.as_deref())))
        }
        _ => None,
    };
    let (id, url) = match (&page_long, target_id.starts_with("tmp/")) {
        (Some((pid, purl)), true) => (pid.clone(), purl.clone()),
        _ => (target_id.to_string(), target_url.to_string()),
    };
    let mut post = Post::new("wechat", &id, &url);
    if let Some(link) = js_var(html, "msg_link")
        .map(|l| https(&l))
        .filter(|l| !l.is_empty())
        && link != url
    {
        post.alt_urls.push(link);
    }
    if let Some((_, purl)) = &page_long
        && *purl != url
        && !post.alt_urls.contains(purl)
    {
        post.alt_urls.push(purl.clone());
    }
    if target_id.starts_with("tmp/") && target_url != url {
        post.alt_urls.push(target_url.to_string());
    }

    let meta = |name: &str| {
        doc.select(&sel(&format!(
            "meta[property=\"{name}\"], meta[name=\"{name}\"]"
        )))
        .next()
        .and_then(|m| m.value().attr("content"))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    };
    let first_text = |s: &str| {
        doc.select(&sel(s))
            .next()
            .map(|e| collapse(&text_of(e)))
            .filter(|s| !s.is_empty())
    };

    post.title = meta("og:title")
        .or_else(|| first_text("#activity-name"))
        .or_else(|| js_var(html, "msg_title").map(|t| unescape_html(&t)))
        .or_else(|| field("title").map(|t| unescape_html(&t)));
    let account = first_text("#js_name")
        .or_else(|| first_text(".wx_follow_nickname"))
        .or_else(|| js_var(html, "nickname").map(|t| unescape_html(&t)))
        .or_else(|| first_text("#post-user"))
        .or_else(|| first_text(".profile_nickname"))
        .or_else(|| field("nick_name").map(|t| unescape_html(&t)));
    let user_name = js_var(html, "user_name");
    post.author = Some(Author {
        id: user_name.clone().or_else(|| biz.clone()),
        name: account,
        handle: user_name,
        url: biz.as_deref().map(|b| {
            format!("https://{HOST}/mp/profile_ext?action=home&__biz={b}#wechat_redirect")
        }),
    });
    if let Some(b) = meta("author").or_else(|| first_text("#js_author_name")) {
        post.extra.insert("byline".into(), json!(b));
    }
    if let Some(b) = &biz {
        post.extra.insert("biz".into(), json!(b));
    }
    for (k, v) in [("mid", &mid), ("idx", &idx), ("sn", &sn)] {
        if let Some(v) = v {
            post.extra.insert(k.into(), json!(v));
        }
    }

    let ct = js_var(html, "ct")
        .filter(|c| digits(c))
        .or_else(|| js_var(html, "create_time").filter(|c| digits(c)))
        .or_else(|| field("create_time").filter(|c| digits(c)));
    if let Some(ct) = ct {
        post.created_at = ct.parse().ok().and_then(shanghai_time);
        post.created_at_raw = Some(ct);
    } else if let Some(pt) = js_var(html, "publish_time").or_else(|| first_text("#publish_time")) {
        post.created_at = crate::extract::to_rfc3339(&pt);
        post.created_at_raw = Some(pt);
    }

    let base = Url::parse(&url)
        .or_else(|_| Url::parse(REFERER))
        .map_err(|_| "a URL")?;
    let content = match body {
        Body::Share(share) => {
            let mut html_out = share.html.clone();
            for u in &share.pictures {
                html_out.push_str(&format!("<p><img src=\"{}\"></p>", escape_html(u)));
            }
            post.html = Some(sanitize_html(&html_out, &base));
            post.text = Some(html_to_text(&share.html));
            for u in share.pictures {
                post.media.push(picture(u, None));
            }
            None
        }
        Body::Content(c) => Some(c),
    };
    if let Some(content) = content {
        // Body: lazy images carry their picture in data-src.
        let inner = content.inner_html();
        let for_html = inner
            .replace(" src=\"", " data-placeholder-src=\"")
            .replace(" data-src=\"", " src=\"");
        post.html = Some(sanitize_html(&for_html, &base));
        post.text = Some(html_to_text(&inner));
        read_content_media(content, &mut post);
    }
    if let Some(share) = doc.select(&sel("#js_share_source")).next()
        && let Some(src) = share
            .value()
            .attr("data-url")
            .map(https)
            .filter(|s| !s.is_empty())
    {
        let (qid, qurl) = match Url::parse(&src).ok().as_ref().and_then(recognise_url) {
            Some(Target::Post { platform_id, url }) => (platform_id, url),
            _ => (String::new(), src.clone()),
        };
        let mut q = Post::new("wechat", &qid, &qurl);
        q.title = Some(collapse(&text_of(share))).filter(|t| !t.is_empty());
        post.quote_of = Some(Box::new(q));
    }
    for (key, var) in [
        ("summary", "msg_desc"),
        ("cover", "msg_cdn_url"),
        ("source_url", "msg_source_url"),
        ("copyright_stat", "copyright_stat"),
        ("item_show_type", "item_show_type"),
    ] {
        if let Some(v) = js_var(html, var) {
            let v = if key == "cover" || key == "source_url" {
                https(&v)
            } else {
                unescape_html(&v)
            };
            post.extra.insert(key.into(), json!(v));
        }
    }
    Ok(post)
}

/// What a share's data script holds: its text (as HTML) and, for an image share, its
/// pictures in order.
struct Share {
    html: String,
    pictures: Vec<String>,
}

/// Where a page keeps its post: the article body, or a share's data script.
enum Body<'a> {
    Content(ElementRef<'a>),
    Share(Share),
}

/// An image share's (`pictures`) or a text share's body from the page's data script:
/// `content_noencode` (`JsDecode('…')`, HTML with `\n` line breaks) and, for an image
/// share, the `cdn_url` of every `picture_page_info_list` item. `Err` names what is
/// missing.
fn share_body(html: &str, pictures: bool) -> Result<Share, &'static str> {
    let text = js_field(html, "content_noencode");
    let pics: Vec<String> = if pictures {
        js_array(html, "picture_page_info_list")
            .map(item_cdn_urls)
            .unwrap_or_default()
            .into_iter()
            .map(|u| https(&u))
            .filter(|u| u.starts_with("https://"))
            .collect()
    } else {
        Vec::new()
    };
    if pictures && pics.is_empty() {
        return Err("picture_page_info_list");
    }
    if !pictures && text.is_none() {
        return Err("content_noencode");
    }
    let text = text.unwrap_or_default().replace("\r\n", "\n");
    Ok(Share {
        html: text.replace('\n', "<br>"),
        pictures: pics,
    })
}

/// A picture on mmbiz, fetched with WeChat's Referer.
fn picture(src: String, alt: Option<String>) -> Media {
    let gif = src.contains("wx_fmt=gif") || src.contains("mmbiz_gif");
    let mut m = Media::new(
        if gif {
            MediaKind::Gif
        } else {
            MediaKind::Image
        },
        src,
    );
    m.referer = Some(REFERER.into());
    m.alt = alt;
    m
}

/// The pictures, audio and video players of an article body.
fn read_content_media(content: ElementRef, post: &mut Post) {
    let mut seen = std::collections::HashSet::new();
    for img in content.select(&sel("img")) {
        let src = img
            .value()
            .attr("data-src")
            .or_else(|| img.value().attr("src"))
            .unwrap_or("");
        let src = https(src);
        if !src.starts_with("https://") || !seen.insert(src.clone()) {
            continue;
        }
        let alt = img
            .value()
            .attr("alt")
            .map(str::to_string)
            .filter(|a| !a.is_empty());
        post.media.push(picture(src, alt));
    }
    for v in content.select(&sel(
        "mpvoice[voice_encode_fileid], mp-common-mpaudio[voice_encode_fileid]",
    )) {
        let fid = v.value().attr("voice_encode_fileid").unwrap_or("");
        if fid.is_empty() {
            continue;
        }
        let mut m = Media::new(
            MediaKind::Audio,
            format!("https://res.wx.qq.com/voice/getvoice?mediaid={fid}"),
        );
        m.referer = Some(REFERER.into());
        m.alt = v.value().attr("name").map(unescape_html);
        post.media.push(m);
    }
    let mut videos = Vec::new();
    for f in content.select(&sel(
        "iframe.video_iframe, iframe[data-src*=\"v.qq.com\"], mpvideo, .js_mpvideo",
    )) {
        let src = f
            .value()
            .attr("data-src")
            .or_else(|| f.value().attr("src"))
            .map(https);
        let vid = src
            .as_deref()
            .and_then(|s| Url::parse(s).ok())
            .and_then(|u| query(&u, &["vid"]))
            .or_else(|| f.value().attr("data-mpvid").map(str::to_string));
        if src.is_some() || vid.is_some() {
            videos.push(json!({"url": src, "vid": vid}));
        }
    }
    if !videos.is_empty() {
        post.extra.insert("videos".into(), json!(videos));
    }
}

// ---------------------------------------------------------------------------------------
// Plan

/// Reads the answer to an article GET.
pub fn read_article(answer: &Fetched, target_id: &str, target_url: &str) -> Finding {
    let r = match answer {
        Fetched::Failed(e) => return unreachable(e.clone()),
        Fetched::Response(r) => r,
    };
    let path = r.url.path();
    if path.contains("captcha") {
        return unreachable(format!("redirected to a captcha ({path})"));
    }
    if (300..400).contains(&r.status) {
        let loc = r.header("location").unwrap_or("?");
        return unreachable(format!("HTTP {} redirect to {loc}", r.status));
    }
    if r.status != 200 {
        return unreachable(format!("HTTP {}", r.status));
    }
    if r.truncated {
        return unreachable("answer cut at the size limit");
    }
    let html = decode_text(&r.body, r.header("content-type")).text;
    let missing = match parse_article(&html, target_id, target_url) {
        Ok(p) => return Finding::Post(Box::new(p)),
        Err(missing) => missing,
    };
    let doc = Html::parse_document(&html);
    let error_page = is_error_page(&doc);
    let message = error_message(&doc, error_page);
    // A marker counts only where WeChat speaks to the reader (the message area): WeChat's
    // own scripts carry "店铺已被封禁", "商品因违规已下架" and the like on live pages. Only
    // the anti-bot and link markers, which never conclude that a post is gone, are also
    // looked for in the whole page.
    let verdict = message
        .as_deref()
        .and_then(classify_error)
        .or_else(|| classify_error(&html).filter(|(o, _)| *o == Outcome::Unreachable));
    match verdict {
        Some((o, c)) => gone(o, c, message.unwrap_or_else(|| "error page".into())),
        None if error_page => gone(
            Outcome::Deleted,
            Some(Cause::Unknown),
            message.unwrap_or_else(|| "error page without a known reason".into()),
        ),
        None => Finding::Broken {
            endpoint: "article page".into(),
            missing: missing.into(),
        },
    }
}

/// Reads the article page of one target.
struct ArticlePlan {
    id: String,
    url: String,
}

impl Plan for ArticlePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(read_article(&answer, &self.id, &self.url))
    }
}

impl Platform for Wechat {
    fn name(&self) -> &'static str {
        "wechat"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[HOST]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        let (id, url) = match target {
            Target::Post { platform_id, url } => (platform_id.clone(), url.clone()),
            Target::Account { account_id, url } => (account_id.clone(), url.clone()),
            Target::Follow { url } => (String::new(), url.clone()),
        };
        let Some(page) = Url::parse(&url).or_else(|_| Url::parse(REFERER)).ok() else {
            return Step::Done(super::kit::broken("article", "a URL"));
        };
        let req = Request::get(page, "article")
            .header("Accept", HTML_ACCEPT)
            .header("Accept-Language", "zh-CN,zh;q=0.9")
            .page();
        Step::fetch(req, ArticlePlan { id, url })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string `classify_error` reads as gone, restricted or account gone (Chinese
    /// and English), and the two WeChat's own script was seen carrying on a live 2025
    /// image share.
    const GONE_MARKERS: &[&str] = &[
        "帐号已注销",
        "账号已注销",
        "公众号已注销",
        "已迁移",
        "已被封禁",
        "已被屏蔽",
        "帐号已被封",
        "账号已被封",
        "帐号涉嫌侵犯他人合法权益",
        "账号涉嫌侵犯他人合法权益",
        "该公众号已被冻结",
        "已被发布者删除",
        "已被作者删除",
        "因违规无法查看",
        "涉嫌违反相关法律法规和政策",
        "由用户投诉并经平台审核",
        "被投诉且经审核",
        "涉嫌侵权",
        "发送失败无法查看",
        "违规",
        "隐私设置",
        "The content has been deleted by the author.",
        "This content has been deleted by the publisher.",
        "Unable to view this content because it violates regulation",
        "店铺已被封禁",
        "商品因违规已下架",
    ];

    fn page(html: &str) -> Fetched {
        Fetched::Response(crate::platforms::Response {
            url: Url::parse("https://mp.weixin.qq.com/s/AbCdEf").unwrap(),
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: html.as_bytes().to_vec(),
            truncated: false,
        })
    }

    /// A live page that carries every marker in its scripts, a style, an attribute and
    /// its title is never read as gone: markers count only in the message area.
    #[test]
    fn markers_outside_the_message_area_never_make_a_live_page_gone() {
        let all = GONE_MARKERS.join(" ");
        let script = format!("<script>var msgs = \"{all}\"; window.item_show_type = '8';</script>");
        let style = format!("<style>/* {all} */</style>");
        // An image share (item type 8) has no #js_content: not read yet, but not gone.
        let share = format!(
            "<html><head><title>{all}</title>{style}{script}</head>\
             <body><div id=\"img_list\" data-note=\"{all}\"></div></body></html>"
        );
        match read_article(&page(&share), "x", "https://mp.weixin.qq.com/s/AbCdEf") {
            Finding::Gone(g) => panic!("a live page read as {g:?}"),
            Finding::Broken { .. } | Finding::Post(_) => {}
            other => panic!("unexpected {other:?}"),
        }
        // A live article with a body is a post whatever its scripts say.
        let article = format!(
            "<html><head><title>t</title>{script}</head><body>\
             <h1 id=\"activity-name\">t</h1><div id=\"js_content\"><p>text</p></div></body></html>"
        );
        assert!(
            matches!(
                read_article(&page(&article), "x", "https://mp.weixin.qq.com/s/AbCdEf"),
                Finding::Post(_)
            ),
            "a live article is a post"
        );
        // The same words in the message area are read: the rule is where, not what.
        for m in GONE_MARKERS
            .iter()
            .filter(|m| !m.starts_with("店铺") && !m.starts_with("商品"))
        {
            let err = format!(
                "<html><head>{script}</head><body><div class=\"weui-msg\">\
                 <h2 class=\"weui-msg__title\">{m}</h2></div></body></html>"
            );
            assert!(
                matches!(
                    read_article(&page(&err), "x", "https://mp.weixin.qq.com/s/AbCdEf"),
                    Finding::Gone(g) if g.outcome != Outcome::Unreachable
                ),
                "{m} in the message area is read"
            );
        }
    }

    fn target(s: &str) -> Option<(String, String)> {
        match recognise_url(&Url::parse(s).unwrap()) {
            Some(Target::Post { platform_id, url }) => Some((platform_id, url)),
            _ => None,
        }
    }

    #[test]
    fn url_forms() {
        let long = Some((
            "MzA4ODUzNjAxOA==/2671068104/7".to_string(),
            "https://mp.weixin.qq.com/s?__biz=MzA4ODUzNjAxOA==&mid=2671068104&idx=7&sn=abc123"
                .to_string(),
        ));
        assert_eq!(
            target(
                "https://mp.weixin.qq.com/s?__biz=MzA4ODUzNjAxOA==&mid=2671068104&idx=7&sn=abc123&chksm=8c&scene=21#wechat_redirect"
            ),
            long
        );
        assert_eq!(
            target(
                "http://mp.weixin.qq.com/s?__biz=MzA4ODUzNjAxOA==&amp;mid=2671068104&amp;idx=7&amp;sn=abc123"
            ),
            long
        );
        assert_eq!(
            target(
                "https://mp.weixin.qq.com/mp/appmsg/show?__biz=MzA4ODUzNjAxOA==&appmsgid=2671068104&itemidx=7&sign=abc123"
            ),
            long
        );
        assert_eq!(
            target("https://mp.weixin.qq.com/s/AbC-d_E12?scene=1#rd"),
            Some((
                "s/AbC-d_E12".to_string(),
                "https://mp.weixin.qq.com/s/AbC-d_E12".to_string()
            ))
        );
        let tmp =
            target("https://mp.weixin.qq.com/s?src=11&timestamp=1521&ver=1&signature=x*y").unwrap();
        assert!(tmp.0.starts_with("tmp/") && tmp.0.len() == 20, "{tmp:?}");
        assert_eq!(target("https://mp.weixin.qq.com/s?__biz=Mz"), None);
        assert_eq!(target("https://weixin.qq.com/s/abc"), None);
    }

    #[test]
    fn js_vars() {
        let h = "var biz = \"\" || \"MjM5ODAyNTcwMA==\";\nvar ct = \"1521408600\";\nvar publish_time = \"2018-03-19\" || \"\";\nvar msg_link = \"http://mp.weixin.qq.com/s?__biz=Mz\\x26amp;mid=1\";\nvar msg_source_url = '';";
        assert_eq!(js_var(h, "biz").as_deref(), Some("MjM5ODAyNTcwMA=="));
        assert_eq!(js_var(h, "ct").as_deref(), Some("1521408600"));
        assert_eq!(js_var(h, "publish_time").as_deref(), Some("2018-03-19"));
        assert_eq!(
            js_var(h, "msg_link").map(|l| https(&l)).as_deref(),
            Some("https://mp.weixin.qq.com/s?__biz=Mz&mid=1")
        );
        assert_eq!(js_var(h, "msg_source_url"), None);
        assert_eq!(js_var(h, "iz"), None);
        assert_eq!(
            shanghai_time(1521515999).as_deref(),
            Some("2018-03-20T11:19:59+08:00")
        );
    }

    /// A page that is no article and no error page, whose script names the captcha
    /// page, concludes nothing (it used to be taken for an error page: deleted, cause
    /// unknown).
    #[test]
    fn a_captcha_name_in_a_script_is_no_error_page() {
        let h = "<html><head><script>var u = '/mp/wappoc_appmsgcaptcha?poc_token=';</script>\
                 </head><body><div id=\"js_article\"></div></body></html>";
        match read_article(&page(h), "x", "https://mp.weixin.qq.com/s/AbCdEf") {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable, "{g:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn share_data_is_read_from_the_page_script() {
        let h = "window.ct = '1735693200' || '';\nvar x = { ori_create_time: '1' * 1, create_time: JsDecode('1709280000'), \
                 content_noencode: JsDecode('a\\x0ab \\x26amp; \\u4e2d'), empty: JsDecode('') };";
        assert_eq!(js_var(h, "ct").as_deref(), Some("1735693200"));
        assert_eq!(js_field(h, "create_time").as_deref(), Some("1709280000"));
        assert_eq!(
            js_field(h, "content_noencode").as_deref(),
            Some("a\nb &amp; 中")
        );
        assert_eq!(js_field(h, "empty"), None);
        assert_eq!(js_field(h, "reate_time"), None);
        let list = "picture_page_info_list: [{ cdn_url: JsDecode('https://a/1'), w: '1' * 1, \
                    watermark_info: { cdn_url: 'https://a/wm' }, s: \"]}\" }, \
                    { share_cover: { cdn_url: 'https://a/sc' }, cdn_url: 'https://a/2' }], next: 1";
        let arr = js_array(list, "picture_page_info_list").unwrap();
        assert!(arr.starts_with('[') && arr.ends_with(']'), "{arr}");
        assert_eq!(item_cdn_urls(arr), vec!["https://a/1", "https://a/2"]);
        // A reference to the list is not the list.
        assert_eq!(
            js_array(
                "f(window.picture_page_info_list, 1)",
                "picture_page_info_list"
            ),
            None
        );
    }

    #[test]
    fn entities_in_titles_are_decoded_once() {
        // A title about markup: the page escapes it once, and once more inside the JS var.
        let h = "var msg_title = \"&amp;lt;b&amp;gt; tags &amp;amp; &quot;quotes&quot;\";\nvar nickname = \"A &amp; B\";";
        let t = js_var(h, "msg_title").map(|t| unescape_html(&t));
        assert_eq!(t.as_deref(), Some("&lt;b&gt; tags &amp; \"quotes\""));
        assert_eq!(
            js_var(h, "nickname").map(|t| unescape_html(&t)).as_deref(),
            Some("A & B")
        );
    }
}
