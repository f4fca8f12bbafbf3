//! Sina Weibo: `m.weibo.cn` JSON first, the `/detail/` page as the page a person sees.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `weibo.com/<uid>/<bid>`, `weibo.com/<uid>/<mid>` (also `www.`, `m.weibo.cn/<uid>/<…>`) | post |
//! | `weibo.com/detail/<mid>`, `m.weibo.cn/detail/<mid>`, `weibo.cn/detail/<mid>` | post |
//! | `m.weibo.cn/status/<bid or mid>` | post |
//! | `weibo.com/tv/show/1034:<oid>?mid=<mid>` | post (the `mid=` parameter) |
//! | `weibo.com/u/<uid>`, `weibo.com/<uid>`, `m.weibo.cn/u/<uid>`, `m.weibo.cn/profile/<uid>` | account |
//! | `t.cn/<code>`, `share.api.weibo.cn/share/…`, `mapp.api.weibo.cn/fx/…`, `weibo.com/n/<name>`, `video.weibo.com/show?fid=…` | follow (resolved by redirect) |
//!
//! `http:` is accepted everywhere. A post's id is always the numeric **mid**; the base62
//! **bid** (`KktFEsjrO`) converts both ways with [`mid_to_bid`] and [`bid_to_mid`]
//! (7-digit decimal groups ↔ 4-char base62 groups, from the right). A post's `url` is
//! `https://weibo.com/<uid>/<bid>` when the author is known, with
//! `https://m.weibo.cn/detail/<mid>` in `alt_urls` (that one is the `url` otherwise).
//!
//! # Endpoints (all anonymous first)
//!
//! - `GET https://m.weibo.cn/statuses/show?id=<mid>`: the post (`{"ok":1,"data":<mblog>}`),
//!   no redirects followed, sent with `Accept: application/json, text/plain, */*`,
//!   `X-Requested-With: XMLHttpRequest`, `MWeibo-Pwa: 1`, `Referer: https://m.weibo.cn/detail/<mid>`.
//! - `GET https://m.weibo.cn/statuses/extend?id=<mid>`: long text (`data.longTextContent`),
//!   asked when `isLongText` or more than nine pictures.
//! - `GET https://m.weibo.cn/detail/<mid>`: the HTML page a person sees; its
//!   `var $render_data = [{"status": <mblog>, …}][0] || {};` is the fallback source, and its
//!   "微博不存在或暂无查看权限" confirms an `ok:0`.
//! - `GET https://m.weibo.cn/api/container/getIndex?containerid=107603<uid>[&since_id=<cursor>]`:
//!   an account's timeline (cards with `card_type == 9`).
//! - Walls (`ok:-100`, HTTP 432/418/403, redirects to passport/login hosts, captchas,
//!   non-JSON answers): `POST https://visitor.passport.weibo.cn/visitor/genvisitor2`
//!   (visitor cookies `SUB`/`SUBP`, sent back as a `Cookie` header), then the user's
//!   configured cookies, then `unreachable`.
//!
//! A capture asks statuses/show, statuses/extend when needed, and the `/detail/` page; a
//! check asks statuses/show only, and the `/detail/` page to confirm an `ok:0`.
//! Deletion and visibility markers (a repost's `retweeted_status.text`) are read by
//! [`classify_marker`].

use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Response, Step, Target};
use crate::model::{Author, Cause, Counts, Gone, Media, MediaKind, Outcome, Post};
use serde_json::{Value, json};
use url::Url;

pub struct Weibo;

const API: &str = "https://m.weibo.cn";
const VISITOR_URL: &str = "https://visitor.passport.weibo.cn/visitor/genvisitor2";
const JSON_ACCEPT: &str = "application/json, text/plain, */*";
const HTML_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const PIC_REFERER: &str = "https://weibo.com/";
const VIDEO_REFERER: &str = "https://m.weibo.cn/";
/// Hosts a login or visitor wall redirects to.
const WALL_HOSTS: &[&str] = &[
    "passport.weibo.com",
    "passport.weibo.cn",
    "login.sina.com.cn",
    "visitor.passport.weibo.cn",
];

// ---------------------------------------------------------------------------------------
// mid <-> bid

const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn b62_encode(mut n: u64) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

fn b62_decode(s: &str) -> Option<u64> {
    let mut n: u64 = 0;
    for c in s.bytes() {
        let d = ALPHABET.iter().position(|&a| a == c)? as u64;
        n = n.checked_mul(62)?.checked_add(d)?;
    }
    Some(n)
}

/// The base62 bid (`KktFEsjrO`) of a numeric mid (`4648806186747944`).
pub fn mid_to_bid(mid: &str) -> Option<String> {
    if mid.is_empty() || mid.len() > 40 || !mid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = mid.as_bytes();
    let mut groups = Vec::new();
    let mut end = bytes.len();
    while end > 0 {
        let start = end.saturating_sub(7);
        groups.push(&mid[start..end]);
        end = start;
    }
    groups.reverse();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        let enc = b62_encode(g.parse().ok()?);
        if i > 0 {
            out.push_str(&"0".repeat(4usize.saturating_sub(enc.len())));
        }
        out.push_str(&enc);
    }
    Some(out)
}

/// The numeric mid of a base62 bid.
pub fn bid_to_mid(bid: &str) -> Option<String> {
    if bid.is_empty() || bid.len() > 24 || !bid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut groups = Vec::new();
    let mut end = bid.len();
    while end > 0 {
        let start = end.saturating_sub(4);
        groups.push(&bid[start..end]);
        end = start;
    }
    groups.reverse();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        let n = b62_decode(g)?;
        if i > 0 {
            if n > 9_999_999 {
                return None;
            }
            out.push_str(&format!("{n:07}"));
        } else {
            out.push_str(&n.to_string());
        }
    }
    Some(out)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A mid from either a mid or a bid.
fn to_mid(id: &str) -> Option<String> {
    if is_digits(id) {
        Some(id.to_string())
    } else {
        bid_to_mid(id)
    }
}

pub fn detail_url(mid: &str) -> String {
    format!("{API}/detail/{mid}")
}

fn account_url(uid: &str) -> String {
    format!("https://weibo.com/u/{uid}")
}

// ---------------------------------------------------------------------------------------
// URL recognition

fn post_target(mid: String) -> Target {
    Target::Post {
        url: detail_url(&mid),
        platform_id: mid,
    }
}

fn account_target(uid: &str) -> Target {
    Target::Account {
        account_id: uid.to_string(),
        url: account_url(uid),
    }
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let query = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    let follow = || {
        Some(Target::Follow {
            url: url.to_string(),
        })
    };
    match host {
        "t.cn" | "share.api.weibo.cn" | "mapp.api.weibo.cn" => {
            if segs.is_empty() {
                None
            } else {
                follow()
            }
        }
        "video.weibo.com" => match query("mid").and_then(|m| to_mid(&m)) {
            Some(mid) => Some(post_target(mid)),
            None if segs.first() == Some(&"show") => follow(),
            None => None,
        },
        "weibo.com" | "m.weibo.cn" | "weibo.cn" => match segs.as_slice() {
            ["detail", id] | ["status", id] => to_mid(id).map(post_target),
            ["u", uid] | ["profile", uid] if is_digits(uid) => Some(account_target(uid)),
            ["n", _] => follow(),
            ["tv", "show", _] => match query("mid").and_then(|m| to_mid(&m)) {
                Some(mid) => Some(post_target(mid)),
                None => follow(),
            },
            [uid, id] if is_digits(uid) => to_mid(id).map(post_target),
            [uid] if is_digits(uid) => Some(account_target(uid)),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Markers

/// What a Weibo message says about a post: `此微博已被作者删除` → deleted by the author,
/// `因被多人举报…已被删除` → removed by the platform, `由于作者设置…` → restricted, account
/// texts → account gone. `None` when the text is no known marker.
pub fn classify_marker(text: &str) -> Option<(Outcome, Option<Cause>)> {
    let has = |s: &str| text.contains(s);
    // Account level first: a banned account's message also says "无法查看".
    if has("该账号因用户自行申请关闭") || has("该账号已关闭") {
        return Some((Outcome::AccountGone, Some(Cause::Author)));
    }
    if (has("该账号因被投诉") && has("无法查看")) || has("该账号行为异常") || has("该账号已被封")
    {
        return Some((Outcome::AccountGone, Some(Cause::Platform)));
    }
    if has("此微博已被作者删除")
        || has("此微博已被原作者删除")
        || has("此微博已被原作者刪除")
        || has("此微博已被作者刪除")
    {
        return Some((Outcome::Deleted, Some(Cause::Author)));
    }
    if ((has("因被多人举报") || has("因被多人投诉")) && (has("删除") || has("刪除")))
        || (has("根据") && has("社区公约") && has("已被删除"))
        || (has("根据") && has("社区管理规定") && has("已被删除"))
        || has("此微博已被删除")
        || has("该微博已被删除")
        || has("該微博已被刪除")
        || has("此微博已被刪除")
    {
        return Some((Outcome::Deleted, Some(Cause::Platform)));
    }
    if has("由于作者设置")
        || has("仅展示半年内微博")
        || has("微博可见时间范围")
        || has("根据博主设置")
        || has("由于博主设置")
        || has("此微博已不可见")
    {
        return Some((Outcome::Restricted, Some(Cause::Author)));
    }
    if has("营销推广") && (has("未备案") || has("审核中")) {
        return Some((Outcome::Restricted, Some(Cause::Platform)));
    }
    if has("微博不存在或暂无查看权限") || has("不存在的微博") || has("Target weibo does not exist")
    {
        return Some((Outcome::Deleted, Some(Cause::Unknown)));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Text

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 12);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Attributes of a tag's inside (`a href='x' data-hide=""`), values entity-decoded.
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = b[vs..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(b.len(), |p| vs + p);
                value = s[vs..ve].to_string();
                i = ve + 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = s[vs..i].to_string();
            }
        }
        out.push((name, decode_entities(&value)));
    }
    out
}

/// The real target of a link: `weibo.cn/sinaurl?u=<x>` unwrapped, `/n/NAME` made absolute.
fn unwrap_link(href: &str) -> Option<String> {
    let href = href.trim();
    let abs = if href.starts_with("//") {
        format!("https:{href}")
    } else if href.starts_with('/') {
        format!("{API}{href}")
    } else {
        href.to_string()
    };
    let u = Url::parse(&abs).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    if u.path().contains("sinaurl")
        && let Some((_, target)) = u.query_pairs().find(|(k, _)| k == "u" || k == "toasturl")
    {
        let t = Url::parse(target.trim()).ok()?;
        return matches!(t.scheme(), "http" | "https").then(|| t.to_string());
    }
    Some(u.to_string())
}

/// Weibo's HTML-ish `text` as plain text and as sanitised HTML. The HTML goes through the
/// shared [`crate::extract::sanitize_html`] (no script, style or event handlers, safe
/// schemes only, relative links made absolute against m.weibo.cn), then every link is
/// unwrapped from `weibo.cn/sinaurl`. The text is [`crate::extract::html_to_text`] of that,
/// with each emoji `<img>` read as its alt text (`[心]`).
fn text_and_html(raw: &str) -> (String, String) {
    let base = Url::parse(API).expect("static URL");
    let clean = crate::extract::sanitize_html(raw, &base);
    let html = unwrap_hrefs(&clean);
    let text = crate::extract::html_to_text(&imgs_as_alt(&html));
    (text.trim().to_string(), html.trim().to_string())
}

/// The end (index after `>`) of the tag starting at `s[0] == '<'`, quotes respected.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// Rewrites each `<a href="…">` of sanitised HTML to the link's real target
/// ([`unwrap_link`]); a target that is not http(s) leaves the link as it was.
fn unwrap_hrefs(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<a ") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = tag_end(rest) else { break };
        let tag = &rest[..end];
        rest = &rest[end..];
        let inner = tag[2..tag.len() - 1].trim_end_matches('/');
        let attrs = parse_attrs(inner);
        let href = attrs
            .iter()
            .find(|(k, _)| k == "href")
            .map(|(_, v)| v.as_str());
        let Some(target) = href
            .and_then(unwrap_link)
            .filter(|t| Some(t.as_str()) != href)
        else {
            out.push_str(tag);
            continue;
        };
        out.push_str("<a");
        for (k, v) in &attrs {
            let v = if k == "href" { &target } else { v };
            out.push_str(&format!(" {k}=\"{}\"", escape_html(v)));
        }
        out.push('>');
    }
    out.push_str(rest);
    out
}

/// Sanitised HTML with each `<img>` replaced by its alt text (emoji read as `[心]`).
fn imgs_as_alt(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<img") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = tag_end(rest) else { break };
        let alt = parse_attrs(rest[4..end - 1].trim_end_matches('/'))
            .into_iter()
            .find(|(k, _)| k == "alt")
            .map(|(_, v)| v)
            .unwrap_or_default();
        out.push_str(&escape_html(&alt));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------
// Times and counts

fn shanghai() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8))
}

fn rfc3339(z: &jiff::ZonedDateTime) -> String {
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<String> {
    let dt = jiff::civil::DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(mo).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(h).ok()?,
        i8::try_from(mi).ok()?,
        i8::try_from(s).ok()?,
        0,
    )
    .ok()?;
    Some(rfc3339(&dt.to_zoned_datetime(shanghai()).ok()?))
}

fn hh_mm(s: &str) -> Option<(i64, i64)> {
    let (h, m) = s.trim().split_once(':')?;
    Some((h.trim().parse().ok()?, m.trim().parse().ok()?))
}

/// Weibo's `created_at` as RFC 3339: `Tue Jun 08 09:35:04 +0800 2021`, and the relative
/// forms older lists give (`刚刚`, `N分钟前`, `N小时前`, `昨天 HH:MM`, `今天 HH:MM`, `MM-DD`,
/// `YYYY-MM-DD`), resolved against `now` in Asia/Shanghai (+08:00).
pub fn parse_created_at(raw: &str, now: &jiff::ZonedDateTime) -> Option<String> {
    let raw = raw.trim();
    if let Ok(bdt) = jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %z %Y", raw) {
        let ts = bdt.to_timestamp().ok()?;
        let off = bdt.offset().unwrap_or(jiff::tz::Offset::constant(8));
        return Some(rfc3339(
            &ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(off)),
        ));
    }
    let now_ts = jiff::Timestamp::from_second(now.timestamp().as_second()).ok()?;
    let local = now_ts.to_zoned_datetime(shanghai());
    let ago = |span: jiff::Span| -> Option<String> {
        Some(rfc3339(
            &now_ts.checked_sub(span).ok()?.to_zoned_datetime(shanghai()),
        ))
    };
    if raw == "刚刚" {
        return Some(rfc3339(&local));
    }
    for (suffix, unit) in [("秒前", 's'), ("分钟前", 'm'), ("小时前", 'h')] {
        if let Some(n) = raw.strip_suffix(suffix) {
            let n: i64 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (0..1_000_000).contains(n))?;
            return match unit {
                's' => ago(jiff::Span::new().seconds(n)),
                'm' => ago(jiff::Span::new().minutes(n)),
                _ => ago(jiff::Span::new().hours(n)),
            };
        }
    }
    let today = local.date();
    if let Some(t) = raw.strip_prefix("今天") {
        let (h, m) = hh_mm(t)?;
        return civil(
            today.year().into(),
            today.month().into(),
            today.day().into(),
            h,
            m,
            0,
        );
    }
    if let Some(t) = raw.strip_prefix("昨天") {
        let y = today.yesterday().ok()?;
        let (h, m) = hh_mm(t)?;
        return civil(y.year().into(), y.month().into(), y.day().into(), h, m, 0);
    }
    let (date, time) = match raw.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (raw, None),
    };
    let (h, mi) = match time {
        Some(t) => hh_mm(t)?,
        None => (0, 0),
    };
    let parts: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    match parts.as_slice() {
        [mo, d] => {
            let year: i64 = today.year().into();
            let this_year = civil(year, *mo, *d, h, mi, 0)?;
            // "MM-DD" never lies in the future: a later date is last year's.
            if this_year > rfc3339(&local) {
                civil(year - 1, *mo, *d, h, mi, 0)
            } else {
                Some(this_year)
            }
        }
        [y, mo, d] => civil(*y, *mo, *d, h, mi, 0),
        _ => None,
    }
}

/// A Weibo count: a number, or a string such as `"1.2万"`, `"100万+"`, `"3亿"`, `"1,234"`.
pub fn parse_count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => {
            let s = s.trim().trim_end_matches('+').replace(',', "");
            let (num, mult) = if let Some(n) = s.strip_suffix('万') {
                (n, 10_000f64)
            } else if let Some(n) = s.strip_suffix('亿') {
                (n, 100_000_000f64)
            } else {
                (s.as_str(), 1f64)
            };
            let f: f64 = num.trim().parse().ok()?;
            Some((f * mult).round() as u64)
        }
        _ => None,
    }
}

fn counts(m: &Value) -> Option<Counts> {
    let mut c = Counts::default();
    let mut any = false;
    for (field, key) in [
        ("reposts_count", "reposts"),
        ("comments_count", "comments"),
        ("attitudes_count", "likes"),
    ] {
        let Some(v) = m.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        any = true;
        let n = parse_count(v);
        match key {
            "reposts" => c.reposts = n,
            "comments" => c.comments = n,
            _ => c.likes = n,
        }
        if !v.is_u64() {
            c.raw.insert(key.to_string(), v.clone());
        }
    }
    any.then_some(c)
}

// ---------------------------------------------------------------------------------------
// mblog -> Post

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The picture list, whether `pics` is an array or an object `{"0": …, "1": …}`.
fn pics_of(m: &Value) -> Vec<Value> {
    match m.get("pics") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(o)) => {
            let mut items: Vec<(u64, Value)> = o
                .iter()
                .map(|(k, v)| (k.parse().unwrap_or(u64::MAX), v.clone()))
                .collect();
            items.sort_by_key(|(k, _)| *k);
            items.into_iter().map(|(_, v)| v).collect()
        }
        _ => vec![],
    }
}

/// A sinaimg URL at original size: `/orj360/`, `/mw690/`, `/bmiddle/`, `/thumb150/`,
/// `/woriginal/` become `/large/`.
fn large_url(url: &str) -> String {
    let Ok(mut u) = Url::parse(url) else {
        return url.to_string();
    };
    let segs: Vec<String> = u
        .path_segments()
        .map(|s| s.map(str::to_string).collect())
        .unwrap_or_default();
    if segs.len() >= 2 {
        let size = &segs[0];
        let is_size = size == "bmiddle"
            || size == "woriginal"
            || size == "large"
            || ["mw", "orj", "thumb", "wap"]
                .iter()
                .any(|p| size.strip_prefix(p).is_some_and(is_digits));
        if is_size {
            let mut new = segs.clone();
            new[0] = "large".into();
            u.set_path(&format!("/{}", new.join("/")));
        }
    }
    u.to_string()
}

fn pic_media(p: &Value) -> Vec<Media> {
    let mut out = Vec::new();
    let url = p
        .pointer("/large/url")
        .and_then(Value::as_str)
        .or_else(|| p.get("url").and_then(Value::as_str));
    if let Some(url) = url {
        let url = large_url(url);
        let gif = p.get("type").and_then(Value::as_str) == Some("gif")
            || url.to_ascii_lowercase().ends_with(".gif");
        let mut m = Media::new(
            if gif {
                MediaKind::Gif
            } else {
                MediaKind::Image
            },
            url,
        );
        m.referer = Some(PIC_REFERER.into());
        out.push(m);
    }
    if let Some(v) = p
        .get("videoSrc")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        let mut m = Media::new(MediaKind::Video, v);
        m.referer = Some(VIDEO_REFERER.into());
        out.push(m);
    }
    out
}

/// The best video stream of a `page_info`: 720p, then HD, then SD/LD, HEVC last.
fn best_video(pi: &Value) -> Option<String> {
    const ORDER: &[&str] = &[
        "/urls/mp4_720p_mp4",
        "/media_info/mp4_720p_mp4",
        "/urls/mp4_hd_mp4",
        "/media_info/mp4_hd_url",
        "/media_info/stream_url_hd",
        "/urls/mp4_ld_mp4",
        "/media_info/mp4_sd_url",
        "/media_info/stream_url",
        "/urls/hevc_mp4_hd",
        "/media_info/h265_mp4_hd",
    ];
    ORDER.iter().find_map(|p| {
        pi.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    })
}

/// Reads one `mblog`/`status` object. `Err(field)` names the first missing essential field.
pub fn parse_mblog(m: &Value, now: &jiff::ZonedDateTime) -> Result<Post, String> {
    parse_mblog_with(m, now, None)
}

fn parse_mblog_with(
    m: &Value,
    now: &jiff::ZonedDateTime,
    long_text: Option<&str>,
) -> Result<Post, String> {
    if !m.is_object() {
        return Err("data".into());
    }
    let mid = str_of(m.get("id"))
        .or_else(|| str_of(m.get("mid")))
        .filter(|s| is_digits(s))
        .ok_or("id")?;
    let bid = str_of(m.get("bid"))
        .or_else(|| str_of(m.get("mblogid")))
        .or_else(|| mid_to_bid(&mid));
    let user = m.get("user").filter(|u| u.is_object());
    let uid = user.and_then(|u| str_of(u.get("id")));
    let detail = detail_url(&mid);
    let mut post = match (&uid, &bid) {
        (Some(uid), Some(bid)) => {
            let mut p = Post::new("weibo", &mid, &format!("https://weibo.com/{uid}/{bid}"));
            p.alt_urls.push(detail.clone());
            p
        }
        _ => Post::new("weibo", &mid, &detail),
    };
    if let Some(u) = user {
        post.author = Some(Author {
            id: uid.clone(),
            name: str_of(u.get("screen_name")),
            handle: None,
            url: uid.as_deref().map(account_url),
        });
    }
    let raw_text = long_text
        .map(str::to_string)
        .or_else(|| str_of(m.pointer("/longText/longTextContent")))
        .or_else(|| str_of(m.get("text")));
    if let Some(raw) = &raw_text {
        let (t, h) = text_and_html(raw);
        post.text = Some(t);
        post.html = Some(h);
        // A timeline card (or a failed extend) gives the cut text ending in "全文".
        if long_text.is_none()
            && m.pointer("/longText/longTextContent").is_none()
            && looks_truncated(m)
        {
            post.extra.insert("text_truncated".into(), json!(true));
        }
    }
    if let Some(raw) = str_of(m.get("created_at")) {
        post.created_at = parse_created_at(&raw, now);
        post.created_at_raw = Some(raw);
    }
    for p in pics_of(m) {
        post.media.extend(pic_media(&p));
    }
    if let Some(pi) = m.get("page_info").filter(|p| p.is_object())
        && pi.get("type").and_then(Value::as_str) == Some("video")
    {
        if let Some(v) = best_video(pi) {
            let mut media = Media::new(MediaKind::Video, v);
            media.referer = Some(VIDEO_REFERER.into());
            media.alt = str_of(pi.get("title")).or_else(|| str_of(pi.get("content2")));
            post.media.push(media);
        }
        if let Some(cover) = str_of(pi.pointer("/page_pic/url")) {
            post.extra.insert("video_cover".into(), json!(cover));
        }
    }
    post.counts = counts(m);
    if let Some(b) = &bid {
        post.extra.insert("bid".into(), json!(b));
    }
    for key in ["edit_count", "edit_at", "region_name", "source", "pic_num"] {
        if let Some(v) = m.get(key).filter(|v| !v.is_null() && *v != "") {
            post.extra.insert(key.into(), v.clone());
        }
    }
    if m.get("isLongText").and_then(Value::as_bool) == Some(true) {
        post.extra.insert("is_long_text".into(), json!(true));
    }
    if let Some(rt) = m.get("retweeted_status").filter(|v| v.is_object()) {
        let rt_raw = str_of(rt.get("text")).unwrap_or_default();
        let gone_marks = rt.get("user").is_none_or(Value::is_null)
            || rt
                .get("deleted")
                .is_some_and(|d| d == "1" || d == 1 || d == true);
        if gone_marks && let Some((outcome, cause)) = classify_marker(&rt_raw) {
            post.extra.insert(
                "original_state".into(),
                json!({
                    "outcome": outcome.as_str(),
                    "cause": cause.map(Cause::as_str),
                    "message": rt_raw,
                }),
            );
        }
        match parse_mblog_with(rt, now, None) {
            Ok(orig) => post.repost_of = Some(Box::new(orig)),
            Err(_) => {
                // An original without an id: keep what is readable.
                let mut orig = Post::new("weibo", "", "");
                let (t, h) = text_and_html(&rt_raw);
                orig.text = Some(t);
                orig.html = Some(h);
                post.repost_of = Some(Box::new(orig));
            }
        }
    }
    Ok(post)
}

fn needs_long_text(m: &Value) -> bool {
    m.get("isLongText").and_then(Value::as_bool) == Some(true)
        || m.get("pic_num").and_then(Value::as_u64).unwrap_or(0) > 9
}

fn looks_truncated(m: &Value) -> bool {
    m.get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| t.contains(">全文<"))
}

/// The `status` object of a `/detail/` page's `var $render_data = [...][0] || {};`.
pub fn render_data_status(html: &str) -> Option<Value> {
    let start = html.find("$render_data")?;
    let after = &html[start..];
    let eq = after.find('=')?;
    let body = &after[eq + 1..];
    // `[0]` may also appear inside the JSON's strings: try each until the array parses.
    let arr: Value = body
        .match_indices("[0]")
        .find_map(|(end, _)| serde_json::from_str(body[..end].trim()).ok())?;
    let first = arr.get(0)?;
    first.get("status").filter(|s| s.is_object()).cloned()
}

// ---------------------------------------------------------------------------------------
// Reading responses

/// How an m.weibo.cn API call answered.
enum Api {
    /// `ok:1`, the JSON body.
    Ok(Value),
    /// `ok:0` or another refusal, with the platform's words.
    No { message: String, json: Value },
    /// A wall: login, visitor, risk control, captcha, non-JSON.
    Walled(String),
    /// No usable answer (network, 5xx, 429, cut body).
    Failed(String),
    /// JSON, but not in a shape we know: the named field is missing.
    Shape(&'static str),
}

fn wall_redirect(r: &Response) -> Option<String> {
    if !(300..400).contains(&r.status) {
        return None;
    }
    let loc = r.header("location").unwrap_or("");
    let host = Url::parse(loc)
        .or_else(|_| r.url.join(loc))
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if WALL_HOSTS.contains(&host.as_str()) || host.ends_with("passport.weibo.com") {
        Some(format!("redirect to {host}"))
    } else {
        Some(format!("HTTP {} redirect to {loc}", r.status))
    }
}

fn read_api(last: Option<&Fetched>) -> Api {
    let r = match last {
        None => return Api::Failed("no answer".into()),
        Some(Fetched::Failed(e)) => return Api::Failed(e.clone()),
        Some(Fetched::Response(r)) => r,
    };
    if let Some(w) = wall_redirect(r) {
        return Api::Walled(w);
    }
    match r.status {
        432 | 418 | 403 | 401 => return Api::Walled(format!("HTTP {}", r.status)),
        s if s >= 400 => return Api::Failed(format!("HTTP {s}")),
        _ => {}
    }
    if r.truncated {
        return Api::Failed("answer cut at the size limit".into());
    }
    let Ok(v) = serde_json::from_slice::<Value>(&r.body) else {
        let body = String::from_utf8_lossy(&r.body);
        if body.contains("captcha") || body.contains("验证码") {
            return Api::Walled("captcha page".into());
        }
        return Api::Walled(format!("non-JSON answer ({})", r.mime()));
    };
    let ok = v
        .get("ok")
        .and_then(|o| o.as_i64().or_else(|| o.as_str()?.parse().ok()));
    match ok {
        Some(1) => Api::Ok(v),
        Some(-100) => Api::Walled(format!(
            "ok:-100 login wall{}",
            str_of(v.get("url"))
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )),
        _ => {
            let url = str_of(v.get("url")).unwrap_or_default();
            if v.get("data").is_none()
                && (url.contains("captcha") || url.contains("verify") || url.contains("passport"))
            {
                return Api::Walled(format!("captcha or verification ({url})"));
            }
            if ok.is_none() {
                return Api::Shape("ok");
            }
            let message = str_of(v.get("msg"))
                .or_else(|| str_of(v.get("message")))
                .or_else(|| str_of(v.get("errmsg")))
                .or_else(|| str_of(v.get("errno")).map(|e| format!("errno {e}")))
                .or_else(|| str_of(v.get("error_code")).map(|e| format!("error_code {e}")))
                .unwrap_or_else(|| String::from_utf8_lossy(&r.body).into_owned());
            Api::No { message, json: v }
        }
    }
}

/// `SUB=…; SUBP=…` from a visitor answer's Set-Cookie headers, or from its JSONP body
/// (`visitor_gray_callback({"data":{"sub":…,"subp":…}})`).
fn visitor_cookie(last: Option<&Fetched>) -> Option<String> {
    let Some(Fetched::Response(r)) = last else {
        return None;
    };
    let mut sub = None;
    let mut subp = None;
    for (name, value) in &r.headers {
        if !name.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let pair = value.split(';').next().unwrap_or("").trim();
        if let Some((k, v)) = pair.split_once('=') {
            let v = v.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("deleted") {
                continue;
            }
            match k.trim() {
                "SUB" => sub = Some(v.to_string()),
                "SUBP" => subp = Some(v.to_string()),
                _ => {}
            }
        }
    }
    if sub.is_none() {
        let body = String::from_utf8_lossy(&r.body);
        let json = body
            .find('(')
            .zip(body.rfind(')'))
            .filter(|(a, b)| a < b)
            .map(|(a, b)| &body[a + 1..b])
            .unwrap_or(&body);
        if let Ok(v) = serde_json::from_str::<Value>(json) {
            sub = str_of(v.pointer("/data/sub"));
            subp = subp.or_else(|| str_of(v.pointer("/data/subp")));
        }
    }
    let sub = sub?;
    Some(match subp {
        Some(p) => format!("SUB={sub}; SUBP={p}"),
        None => format!("SUB={sub}"),
    })
}

// ---------------------------------------------------------------------------------------
// Access escalation, shared by post and timeline plans

#[derive(Debug, Clone, PartialEq)]
enum Access {
    Anonymous,
    Visitor(String),
    User,
}

impl Access {
    fn name(&self) -> &'static str {
        match self {
            Access::Anonymous => "anonymous",
            Access::Visitor(_) => "visitor cookies",
            Access::User => "user cookies",
        }
    }
    fn apply(&self, mut req: Request) -> Request {
        match self {
            Access::Anonymous => {}
            Access::Visitor(c) => req = req.header("Cookie", c),
            Access::User => req.with_user_cookies = true,
        }
        req
    }
}

/// Walls met so far, for the final message.
#[derive(Default)]
struct Walls(Vec<String>);

impl Walls {
    fn push(&mut self, access: &Access, wall: &str) {
        self.0.push(format!("{} ({wall})", access.name()));
    }
    fn gone(&self, endpoint: &str) -> Finding {
        Finding::Gone(Gone {
            outcome: Outcome::Unreachable,
            cause: None,
            message: Some(format!("{endpoint} walled: {}", self.0.join("; then "))),
        })
    }
}

fn visitor_request() -> Request {
    let mut req = Request {
        method: "POST",
        body: Some(b"cb=visitor_gray_callback&tid=&from=weibo".to_vec()),
        ..Request::get(Url::parse(VISITOR_URL).expect("static URL"), "visitor")
    };
    req = req
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Referer",
            "https://visitor.passport.weibo.cn/visitor/visitor",
        )
        .header("Accept", "*/*")
        .no_redirects();
    req
}

fn api_request(url: Url, purpose: &'static str, referer: &str, access: &Access) -> Request {
    access.apply(
        Request::get(url, purpose)
            .header("Accept", JSON_ACCEPT)
            .header("X-Requested-With", "XMLHttpRequest")
            .header("MWeibo-Pwa", "1")
            .header("Referer", referer)
            .no_redirects(),
    )
}

fn gone(outcome: Outcome, cause: Option<Cause>, message: Option<String>) -> Finding {
    Finding::Gone(Gone {
        outcome,
        cause,
        message,
    })
}

// ---------------------------------------------------------------------------------------
// Post plan

#[derive(Debug, Clone, Copy, PartialEq)]
enum PostState {
    Start,
    Show,
    Visitor,
    Extend,
    Page,
    Confirm,
    Fallback,
    Done,
}

struct PostPlan {
    mid: String,
    job: Job,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
    access: Access,
    walls: Walls,
    state: PostState,
    /// The mblog read from statuses/show (or the page).
    mblog: Option<Value>,
    long_text: Option<String>,
    /// The ok:0 answer awaiting confirmation.
    refusal: Option<(String, Value)>,
    fallback_tried: bool,
    /// Why statuses/show gave nothing, while the page fallback is asked.
    pending: Option<Pending>,
}

enum Pending {
    Wall(String),
    Failure(String),
}

impl PostPlan {
    fn show_request(&self) -> Request {
        let url = Url::parse(&format!("{API}/statuses/show?id={}", self.mid)).expect("url");
        api_request(url, "statuses/show", &detail_url(&self.mid), &self.access)
    }
    fn extend_request(&self) -> Request {
        let url = Url::parse(&format!("{API}/statuses/extend?id={}", self.mid)).expect("url");
        api_request(url, "statuses/extend", &detail_url(&self.mid), &self.access)
    }
    fn page_request(&self) -> Request {
        let url = Url::parse(&detail_url(&self.mid)).expect("url");
        self.access.apply(
            Request::get(url, "detail page")
                .header("Accept", HTML_ACCEPT)
                .page(),
        )
    }
    fn fetch(&mut self, state: PostState, req: Request) -> Step {
        self.state = state;
        Step::Fetch(req)
    }
    fn done(&mut self, f: Finding) -> Step {
        self.state = PostState::Done;
        Step::Done(f)
    }

    /// After a wall: the next access level, or the end.
    fn escalate(&mut self, wall: String) -> Step {
        self.walls.push(&self.access, &wall);
        match self.access {
            Access::Anonymous => {
                let req = visitor_request();
                self.fetch(PostState::Visitor, req)
            }
            Access::Visitor(_) if self.has_user_cookies => {
                self.access = Access::User;
                let req = self.show_request();
                self.fetch(PostState::Show, req)
            }
            _ => {
                let f = self.walls.gone("statuses/show");
                self.done(f)
            }
        }
    }

    /// A capture falls back once on the `/detail/` page before climbing the walls.
    fn walled_or_failed(&mut self, pending: Pending) -> Step {
        if self.job == Job::Capture && !self.fallback_tried {
            self.fallback_tried = true;
            self.pending = Some(pending);
            let req = self.page_request();
            return self.fetch(PostState::Fallback, req);
        }
        self.after_fallback(pending)
    }

    fn after_fallback(&mut self, pending: Pending) -> Step {
        match pending {
            Pending::Wall(w) => self.escalate(w),
            Pending::Failure(e) => {
                let f = gone(Outcome::Unreachable, None, Some(e));
                self.done(f)
            }
        }
    }

    fn finish_post(&mut self) -> Step {
        let m = self.mblog.take().expect("mblog read");
        match parse_mblog_with(&m, &self.now, self.long_text.as_deref()) {
            Ok(p) => self.done(Finding::Post(Box::new(p))),
            Err(field) => self.done(Finding::Broken {
                endpoint: "statuses/show".into(),
                missing: format!("data.{field}"),
            }),
        }
    }
}

impl Plan for PostPlan {
    fn next(&mut self, last: Option<&Fetched>) -> Step {
        match self.state {
            PostState::Start => {
                let req = self.show_request();
                self.fetch(PostState::Show, req)
            }
            PostState::Show => match read_api(last) {
                Api::Ok(v) => {
                    let data = v.get("data").cloned().unwrap_or(Value::Null);
                    if !data.is_object() {
                        return self.done(Finding::Broken {
                            endpoint: "statuses/show".into(),
                            missing: "data".into(),
                        });
                    }
                    if str_of(data.get("id")).is_none() && str_of(data.get("mid")).is_none() {
                        return self.done(Finding::Broken {
                            endpoint: "statuses/show".into(),
                            missing: "data.id".into(),
                        });
                    }
                    let long = needs_long_text(&data)
                        && (self.job == Job::Capture || looks_truncated(&data));
                    self.mblog = Some(data);
                    if long {
                        let req = self.extend_request();
                        self.fetch(PostState::Extend, req)
                    } else if self.job == Job::Capture {
                        let req = self.page_request();
                        self.fetch(PostState::Page, req)
                    } else {
                        self.finish_post()
                    }
                }
                Api::No { message, json } => {
                    self.refusal = Some((message, json));
                    let req = self.page_request();
                    self.fetch(PostState::Confirm, req)
                }
                Api::Shape(field) => self.done(Finding::Broken {
                    endpoint: "statuses/show".into(),
                    missing: field.into(),
                }),
                Api::Walled(w) => self.walled_or_failed(Pending::Wall(w)),
                Api::Failed(e) => {
                    self.walled_or_failed(Pending::Failure(format!("statuses/show: {e}")))
                }
            },
            PostState::Visitor => match visitor_cookie(last) {
                Some(cookie) => {
                    self.access = Access::Visitor(cookie);
                    let req = self.show_request();
                    self.fetch(PostState::Show, req)
                }
                None => {
                    self.walls
                        .0
                        .push("visitor cookies (no SUB cookie issued)".into());
                    if self.has_user_cookies {
                        self.access = Access::User;
                        let req = self.show_request();
                        self.fetch(PostState::Show, req)
                    } else {
                        let f = self.walls.gone("statuses/show");
                        self.done(f)
                    }
                }
            },
            PostState::Extend => {
                if let Api::Ok(v) = read_api(last) {
                    let lt = str_of(v.pointer("/data/longTextContent"))
                        .or_else(|| str_of(v.pointer("/data/data/longTextContent")));
                    match lt {
                        Some(t) => self.long_text = Some(t),
                        None => {
                            if let Some(m) = self.mblog.as_mut().and_then(Value::as_object_mut) {
                                m.insert("long_text_missing".into(), json!(true));
                            }
                        }
                    }
                }
                if self.job == Job::Capture {
                    let req = self.page_request();
                    self.fetch(PostState::Page, req)
                } else {
                    self.finish_post()
                }
            }
            PostState::Page => {
                // The page is recorded for a person; it may also list pictures statuses/show cut.
                if let Some(Fetched::Response(r)) = last
                    && r.status == 200
                    && let Some(status) = render_data_status(&String::from_utf8_lossy(&r.body))
                    && let Some(m) = self.mblog.as_mut()
                {
                    let have = pics_of(m).len();
                    if pics_of(&status).len() > have
                        && let Some(obj) = m.as_object_mut()
                    {
                        obj.insert(
                            "pics".into(),
                            status.get("pics").cloned().unwrap_or_default(),
                        );
                    }
                    if self.long_text.is_none()
                        && let Some(lt) = str_of(status.pointer("/longText/longTextContent"))
                    {
                        self.long_text = Some(lt);
                    }
                }
                self.finish_post()
            }
            PostState::Fallback => {
                let page = match last {
                    Some(Fetched::Response(r)) if r.status == 200 && !r.truncated => {
                        Some(String::from_utf8_lossy(&r.body).into_owned())
                    }
                    _ => None,
                };
                if let Some(status) = page.as_deref().and_then(render_data_status) {
                    self.mblog = Some(status);
                    return self.finish_post();
                }
                let pending = self
                    .pending
                    .take()
                    .unwrap_or(Pending::Failure("statuses/show: no answer".into()));
                if let Some(p) = &page
                    && let Some((outcome, cause)) = classify_marker(p)
                    && outcome != Outcome::Deleted
                {
                    // The page names an account-level or visibility verdict.
                    let msg = page_message(p);
                    return self.done(gone(outcome, cause, msg));
                }
                self.after_fallback(pending)
            }
            PostState::Confirm => {
                let (message, json) = self.refusal.take().unwrap_or_default();
                let page = match last {
                    Some(Fetched::Response(r)) if r.status == 200 && !r.truncated => {
                        Some(String::from_utf8_lossy(&r.body).into_owned())
                    }
                    _ => None,
                };
                // The page shows the post after all: statuses/show was wrong.
                if let Some(status) = page.as_deref().and_then(render_data_status) {
                    self.mblog = Some(status);
                    return self.finish_post();
                }
                let errno = str_of(json.get("errno")).or_else(|| str_of(json.get("error_code")));
                let from_msg = classify_marker(&message);
                let from_page = page.as_deref().and_then(classify_marker);
                let specific = [from_msg, from_page]
                    .into_iter()
                    .flatten()
                    .find(|(_, c)| *c != Some(Cause::Unknown));
                let (outcome, cause) = match (specific, errno.as_deref()) {
                    (Some(v), _) => v,
                    (None, Some("20112")) => (Outcome::Restricted, Some(Cause::Author)),
                    _ => (Outcome::Deleted, Some(Cause::Unknown)),
                };
                self.done(gone(outcome, cause, Some(message)))
            }
            PostState::Done => panic!("weibo post plan asked again after it was done"),
        }
    }
}

/// The visible error text of a `/detail/` error page, or its title.
fn page_message(html: &str) -> Option<String> {
    for needle in ["该账号", "抱歉", "微博不存在", "根据", "由于"] {
        if let Some(i) = html.find(needle) {
            let rest = &html[i..];
            let end = rest.find(['<', '"', '\n']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Follow plan (short and share links)

struct FollowPlan {
    url: Url,
    asked: bool,
}

impl Plan for FollowPlan {
    fn next(&mut self, last: Option<&Fetched>) -> Step {
        if !self.asked {
            self.asked = true;
            return Step::Fetch(
                Request::get(self.url.clone(), "follow link").header("Accept", HTML_ACCEPT),
            );
        }
        Step::Done(match last {
            Some(Fetched::Response(r)) if r.url != self.url => Finding::Redirected {
                url: r.url.to_string(),
            },
            Some(Fetched::Response(r)) => gone(
                Outcome::Unreachable,
                None,
                Some(format!("link did not redirect (HTTP {})", r.status)),
            ),
            Some(Fetched::Failed(e)) => gone(Outcome::Unreachable, None, Some(e.clone())),
            None => gone(Outcome::Unreachable, None, Some("no answer".into())),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Timeline plan

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimelineState {
    Start,
    Index,
    Visitor,
    Done,
}

struct TimelinePlan {
    uid: String,
    cursor: Option<String>,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
    access: Access,
    walls: Walls,
    state: TimelineState,
}

const END_OF_TIMELINE: &str = "这里还没有内容";

impl TimelinePlan {
    fn request(&mut self) -> Step {
        let mut url = Url::parse(&format!("{API}/api/container/getIndex")).expect("url");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("containerid", &format!("107603{}", self.uid));
            match self.cursor.as_deref() {
                Some(c) if c.starts_with("page:") => {
                    q.append_pair("page", &c["page:".len()..]);
                }
                Some(c) => {
                    q.append_pair("since_id", c);
                }
                None => {}
            }
        }
        self.state = TimelineState::Index;
        let referer = format!("{API}/u/{}", self.uid);
        Step::Fetch(api_request(url, "getIndex", &referer, &self.access))
    }
    fn done(&mut self, f: Finding) -> Step {
        self.state = TimelineState::Done;
        Step::Done(f)
    }
    fn escalate(&mut self, wall: String) -> Step {
        self.walls.push(&self.access, &wall);
        match self.access {
            Access::Anonymous => {
                self.state = TimelineState::Visitor;
                Step::Fetch(visitor_request())
            }
            Access::Visitor(_) if self.has_user_cookies => {
                self.access = Access::User;
                self.request()
            }
            _ => {
                let f = self.walls.gone("getIndex");
                self.done(f)
            }
        }
    }
}

/// Reads a timeline page: its posts (`card_type == 9`, also inside `card_group`) and the
/// next cursor (`since_id`, or `page:<n+1>` for page-numbered lists).
pub fn read_timeline(
    v: &Value,
    now: &jiff::ZonedDateTime,
) -> Result<(Vec<Post>, Option<String>), String> {
    let cards = v
        .pointer("/data/cards")
        .and_then(Value::as_array)
        .ok_or("data.cards")?;
    let mut mblogs = Vec::new();
    for c in cards {
        if c.get("card_type").and_then(Value::as_i64) == Some(9) {
            mblogs.push(c.get("mblog").ok_or("data.cards[].mblog")?);
        }
        if let Some(group) = c.get("card_group").and_then(Value::as_array) {
            for g in group {
                if g.get("card_type").and_then(Value::as_i64) == Some(9)
                    && let Some(m) = g.get("mblog")
                {
                    mblogs.push(m);
                }
            }
        }
    }
    let mut posts = Vec::new();
    for m in mblogs {
        posts.push(parse_mblog(m, now).map_err(|f| format!("data.cards[].mblog.{f}"))?);
    }
    let info = v.pointer("/data/cardlistInfo");
    let since = info
        .and_then(|i| str_of(i.get("since_id")))
        .filter(|s| s != "0");
    let page = info
        .and_then(|i| i.get("page"))
        .and_then(|p| p.as_u64().or_else(|| p.as_str()?.parse().ok()));
    let next = match (since, page) {
        (Some(s), _) => Some(s),
        (None, Some(p)) if !posts.is_empty() => Some(format!("page:{p}")),
        _ => None,
    };
    let next = if posts.is_empty() { None } else { next };
    Ok((posts, next))
}

impl Plan for TimelinePlan {
    fn next(&mut self, last: Option<&Fetched>) -> Step {
        match self.state {
            TimelineState::Start => self.request(),
            TimelineState::Index => match read_api(last) {
                Api::Ok(v) => match read_timeline(&v, &self.now) {
                    Ok((posts, next_cursor)) => self.done(Finding::Timeline { posts, next_cursor }),
                    Err(missing) => self.done(Finding::Broken {
                        endpoint: "getIndex".into(),
                        missing,
                    }),
                },
                Api::No { message, .. } => {
                    if message.contains(END_OF_TIMELINE) {
                        return self.done(Finding::Timeline {
                            posts: vec![],
                            next_cursor: None,
                        });
                    }
                    let f = match classify_marker(&message) {
                        Some((Outcome::AccountGone, cause)) => {
                            gone(Outcome::AccountGone, cause, Some(message))
                        }
                        _ => gone(Outcome::Unreachable, None, Some(message)),
                    };
                    self.done(f)
                }
                Api::Shape(field) => self.done(Finding::Broken {
                    endpoint: "getIndex".into(),
                    missing: field.into(),
                }),
                Api::Walled(w) => self.escalate(w),
                Api::Failed(e) => {
                    let f = gone(Outcome::Unreachable, None, Some(format!("getIndex: {e}")));
                    self.done(f)
                }
            },
            TimelineState::Visitor => match visitor_cookie(last) {
                Some(c) => {
                    self.access = Access::Visitor(c);
                    self.request()
                }
                None => {
                    self.walls
                        .0
                        .push("visitor cookies (no SUB cookie issued)".into());
                    if self.has_user_cookies {
                        self.access = Access::User;
                        self.request()
                    } else {
                        let f = self.walls.gone("getIndex");
                        self.done(f)
                    }
                }
            },
            TimelineState::Done => panic!("weibo timeline plan asked again after it was done"),
        }
    }
}

// ---------------------------------------------------------------------------------------

impl Platform for Weibo {
    fn name(&self) -> &'static str {
        "weibo"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["m.weibo.cn", "weibo.com"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Box<dyn Plan> {
        let mid = match target {
            Target::Post { platform_id, url } => to_mid(platform_id).or_else(|| {
                Url::parse(url).ok().and_then(|u| match recognise_url(&u) {
                    Some(Target::Post { platform_id, .. }) => Some(platform_id),
                    _ => None,
                })
            }),
            Target::Follow { url } | Target::Account { url, .. } => {
                if let Ok(u) = Url::parse(url) {
                    return Box::new(FollowPlan {
                        url: u,
                        asked: false,
                    });
                }
                None
            }
        };
        Box::new(PostPlan {
            mid: mid.unwrap_or_default(),
            job,
            now: ctx.now.clone(),
            has_user_cookies: ctx.has_user_cookies,
            access: Access::Anonymous,
            walls: Walls::default(),
            state: PostState::Start,
            mblog: None,
            long_text: None,
            refusal: None,
            fallback_tried: false,
            pending: None,
        })
    }
    fn timeline_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        ctx: &PlanContext,
    ) -> Option<Box<dyn Plan>> {
        let Target::Account { account_id, .. } = target else {
            return None;
        };
        if !is_digits(account_id) {
            return None;
        }
        Some(Box::new(TimelinePlan {
            uid: account_id.clone(),
            cursor: cursor.map(str::to_string),
            now: ctx.now.clone(),
            has_user_cookies: ctx.has_user_cookies,
            access: Access::Anonymous,
            walls: Walls::default(),
            state: TimelineState::Start,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIRS: &[(&str, &str)] = &[
        ("4645748019299849", "Kjc77D1jz"),
        ("4649031014551911", "Kkzwhj69V"),
        ("4648806186747944", "KktFEsjrO"),
        ("3439466943518422", "ygyImeLiK"),
        ("4607741009594608", "K3fnuEfZK"),
        ("4387933362623405", "HATy0b0sZ"),
        ("5224958596222067", "QathNq6DV"),
        ("5232630992732508", "QdGSDbsQI"),
    ];

    #[test]
    fn mid_bid_pairs_both_ways() {
        for (mid, bid) in PAIRS {
            assert_eq!(mid_to_bid(mid).as_deref(), Some(*bid), "mid {mid}");
            assert_eq!(bid_to_mid(bid).as_deref(), Some(*mid), "bid {bid}");
        }
    }

    #[test]
    fn mid_bid_rejects_garbage() {
        assert_eq!(mid_to_bid(""), None);
        assert_eq!(mid_to_bid("12a"), None);
        assert_eq!(bid_to_mid("Kk-zw"), None);
        assert_eq!(bid_to_mid(""), None);
        // A 4-char group above 9999999 is no bid.
        assert_eq!(bid_to_mid("KZZZZ"), None);
        // Groups of zeros keep their padding.
        assert_eq!(mid_to_bid("10000000").as_deref(), Some("10000"));
        assert_eq!(bid_to_mid("10000").as_deref(), Some("10000000"));
    }

    fn now() -> jiff::ZonedDateTime {
        // 2024-04-04 16:02:11 in Shanghai (08:02:11 UTC).
        "2024-04-04T16:02:11+08:00[Asia/Shanghai]"
            .parse::<jiff::ZonedDateTime>()
            .unwrap_or_else(|_| {
                jiff::Timestamp::from_second(1_712_217_731)
                    .unwrap()
                    .to_zoned_datetime(shanghai())
            })
    }

    #[test]
    fn absolute_created_at() {
        assert_eq!(
            parse_created_at("Tue Jun 08 09:35:04 +0800 2021", &now()).as_deref(),
            Some("2021-06-08T09:35:04+08:00")
        );
    }

    #[test]
    fn relative_created_at() {
        let n = now();
        let p = |s| parse_created_at(s, &n);
        assert_eq!(p("刚刚").as_deref(), Some("2024-04-04T16:02:11+08:00"));
        assert_eq!(p("5分钟前").as_deref(), Some("2024-04-04T15:57:11+08:00"));
        assert_eq!(p("3小时前").as_deref(), Some("2024-04-04T13:02:11+08:00"));
        assert_eq!(
            p("昨天 23:15").as_deref(),
            Some("2024-04-03T23:15:00+08:00")
        );
        assert_eq!(
            p("今天 08:01").as_deref(),
            Some("2024-04-04T08:01:00+08:00")
        );
        assert_eq!(p("03-27").as_deref(), Some("2024-03-27T00:00:00+08:00"));
        // A month-day after today is last year's.
        assert_eq!(p("06-27").as_deref(), Some("2023-06-27T00:00:00+08:00"));
        assert_eq!(
            p("2012-05-01").as_deref(),
            Some("2012-05-01T00:00:00+08:00")
        );
        assert_eq!(p("whenever"), None);
    }

    #[test]
    fn relative_dates_use_shanghai_even_from_utc_now() {
        // 2024-04-04 23:30 UTC is already the 5th in Shanghai.
        let n = jiff::Timestamp::from_second(1_712_273_400)
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC);
        assert_eq!(
            parse_created_at("昨天 10:00", &n).as_deref(),
            Some("2024-04-04T10:00:00+08:00")
        );
    }

    #[test]
    fn counts_with_units() {
        assert_eq!(parse_count(&json!("100万+")), Some(1_000_000));
        assert_eq!(parse_count(&json!("1.2万")), Some(12_000));
        assert_eq!(parse_count(&json!("3亿")), Some(300_000_000));
        assert_eq!(parse_count(&json!("1,234")), Some(1234));
        assert_eq!(parse_count(&json!(37053)), Some(37053));
        assert_eq!(parse_count(&json!("转发")), None);
        let c = counts(
            &json!({"reposts_count": 312, "comments_count": "1.2万", "attitudes_count": "100万+"}),
        )
        .unwrap();
        assert_eq!(
            (c.reposts, c.comments, c.likes),
            (Some(312), Some(12_000), Some(1_000_000))
        );
        assert_eq!(c.raw.get("likes"), Some(&json!("100万+")));
        assert_eq!(c.raw.get("comments"), Some(&json!("1.2万")));
        assert!(c.raw.get("reposts").is_none());
    }

    #[test]
    fn text_and_html_unwraps_and_strips() {
        let raw = "看<a href='/n/黄防护服黄'>@黄防护服黄</a> 链接<a href=\"https://weibo.cn/sinaurl?u=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1\">网页</a><br />第二行<span class=\"url-icon\"><img alt=[作揖] src=\"https://h5.sinaimg.cn/m/emoticon/icon/zuoyi.png\" style=\"width:1em\" /></span><script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">x</a> &amp; &lt;b&gt;";
        let (text, html) = text_and_html(raw);
        assert_eq!(text, "看@黄防护服黄 链接网页\n第二行[作揖]x & <b>");
        assert!(
            html.contains("href=\"https://example.org/a?b=1\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://m.weibo.cn/n/%E9%BB%84"),
            "{html}"
        );
        assert!(html.contains("alt=\"[作揖]\""), "{html}");
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("style"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        // A sinaurl wrapping a javascript: target is left wrapped, never unwrapped.
        let (_, html) =
            text_and_html("<a href=\"https://weibo.cn/sinaurl?u=javascript%3Aalert(1)\">y</a>");
        assert!(
            html.contains("href=\"https://weibo.cn/sinaurl?u="),
            "{html}"
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        // Paragraph breaks and emoji in a real text.
        let (text, _) = text_and_html(
            "晚安啦！<span class=\"url-icon\"><img alt=[心] src=\"https://h5.sinaimg.cn/x.png\" /></span><br /><br />📷：",
        );
        assert_eq!(text, "晚安啦！[心]\n\n📷：");
    }

    #[test]
    fn large_picture_urls() {
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/orj360/006QZngZgy1grl2q3n98jj30rs2084qp.jpg"),
            "https://wx1.sinaimg.cn/large/006QZngZgy1grl2q3n98jj30rs2084qp.jpg"
        );
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/mw690/abc.jpg"),
            "https://wx1.sinaimg.cn/large/abc.jpg"
        );
        assert_eq!(
            large_url("https://wx1.sinaimg.cn/crop.0.0/abc.jpg"),
            "https://wx1.sinaimg.cn/crop.0.0/abc.jpg"
        );
    }

    #[test]
    fn render_data_is_read() {
        let html = "<script>var $render_data = [{\"status\": {\"id\": \"1\", \"text\": \"a] [0] || b\"}, \"call\": 1}][0] || {};</script>";
        assert_eq!(render_data_status(html).unwrap()["id"], "1");
        let html = "var $render_data = [{\"status\": {\"id\": \"42\"}, \"call\": 1}][0] || {};";
        assert_eq!(render_data_status(html).unwrap()["id"], "42");
        assert!(render_data_status("<title>微博-出错了</title>").is_none());
    }
}
