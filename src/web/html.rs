//! Server-rendered pages: escaping, the page frame, and the pieces pages share.
//! Everything from the archive is untrusted: text is escaped, post HTML is sanitised
//! again here (whatever the capture stored), and pages carry a strict CSP.

use crate::model::{Media, MediaKind, Post};
use crate::store::search;
use crate::store::views::{PostSummary, SearchHit};

/// HTML-escapes text (also safe in double-quoted attributes).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `lang` a piece of text most likely is in, for CJK font selection.
pub fn lang_of(text: &str) -> Option<&'static str> {
    let mut han = false;
    for c in text.chars() {
        match c as u32 {
            0x3040..=0x30FF => return Some("ja"),
            0xAC00..=0xD7AF => return Some("ko"),
            _ if search::is_cjk(c) => han = true,
            _ => {}
        }
    }
    han.then_some("zh")
}

fn lang_attr(text: &str) -> String {
    match lang_of(text) {
        Some(l) => format!(" lang=\"{l}\""),
        None => String::new(),
    }
}

/// Post HTML as the platform showed it, made safe: no script, no event handlers, no
/// `javascript:` links, no styles, links open nothing in our origin.
///
/// Pictures are shown from the archive: an `<img>` whose source is one of `archived`
/// (platform URL → record id) points at `/raw/{record id}`; any other source is dropped,
/// so a reader's browser never contacts the platform or anyone else.
pub fn sanitize(html: &str, archived: &std::collections::HashMap<String, String>) -> String {
    let archived = archived.clone();
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow ugc"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .attribute_filter(move |el, attr, value| match (el, attr) {
            ("img", "src") => archived
                .get(value)
                .map(|rid| format!("/raw/{}", enc(rid)).into()),
            ("img", "srcset") | (_, "style") => None,
            _ => Some(value.into()),
        })
        .clean(html)
        .to_string()
}

/// Text with the query's terms marked, escaped; cut to a window around the first hit
/// when `window` is set.
pub fn highlight(text: &str, q: &str, window: Option<usize>) -> String {
    let terms = search::highlight_terms(q);
    let ranges = search::match_ranges(text, &terms);
    let (from, to) = match (window, ranges.first()) {
        (Some(w), first) => {
            let at = first.map(|r| r.0).unwrap_or(0);
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(w / 3)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let end = text[start..]
                .char_indices()
                .nth(w)
                .map(|(i, _)| start + i)
                .unwrap_or(text.len());
            (start, end)
        }
        (None, _) => (0, text.len()),
    };
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut pos = from;
    for (s, e) in ranges {
        if e <= from || s >= to {
            continue;
        }
        let (s, e) = (s.max(from), e.min(to));
        out.push_str(&esc(&text[pos..s]));
        out.push_str("<mark>");
        out.push_str(&esc(&text[s..e]));
        out.push_str("</mark>");
        pos = e;
    }
    out.push_str(&esc(&text[pos..to]));
    if to < text.len() {
        out.push('…');
    }
    out
}

pub const CSS: &str = r#"
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fdfdfb;--muted:#666;--line:#ddd;--accent:#8a1c1c}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--bg:#161616;--muted:#aaa;--line:#333;--accent:#f08080}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Noto Sans CJK JP",sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:46rem;margin:0 auto;padding:.75rem 1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;border-bottom:1px solid var(--line)}
header a.home{font-weight:700;color:var(--accent);text-decoration:none}
header form{flex:1 1 14rem;display:flex;gap:.25rem}
header nav{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
input[type=search]{flex:1;min-width:0;padding:.4rem;font:inherit}
button,.button{padding:.4rem .8rem;font:inherit;border:1px solid var(--line);background:transparent;color:inherit;border-radius:.3rem;text-decoration:none;display:inline-block}
a{color:var(--accent)}
article.post{border:1px solid var(--line);border-radius:.4rem;padding:.75rem;margin:.75rem 0;overflow-wrap:anywhere}
article.post .meta{color:var(--muted);font-size:.9rem}
.text{white-space:pre-wrap}
.badge{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.8rem;border:1px solid currentColor}
.badge.live{color:#2a7d2a}.badge.edited{color:#8a6d00}.badge.deleted,.badge.restricted,.badge.account_gone{color:#b00020}.badge.unreachable{color:var(--muted)}.badge.gone_unconfirmed{color:#b35c00}.badge.not_found{color:var(--muted)}
mark{background:#ffe36e;color:#000}
img{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.85rem;table-layout:fixed}td{overflow-wrap:anywhere}td,th{border-bottom:1px solid var(--line);padding:.25rem;text-align:left;vertical-align:top}
code,pre{font:12px/1.4 ui-monospace,monospace;overflow-wrap:anywhere;white-space:pre-wrap}
nav.pages{display:flex;gap:1rem;margin:1rem 0}
footer{color:var(--muted);font-size:.85rem;border-top:1px solid var(--line)}
.digest{overflow-wrap:anywhere;font-size:.85rem}abbr[title]{text-decoration:underline dotted;cursor:help}
td time{display:block}
@media (max-width:40rem){table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:auto}table.stack colgroup,table.stack tr:first-child{display:none}table.stack tr{border-bottom:1px solid var(--line);padding:.35rem 0}table.stack td{border:0;padding:.1rem 0}}
.result.failed,.bad{color:#b00020}
textarea{width:100%;font:inherit}
form.add p{margin:.5rem 0}
blockquote{margin:.5rem 0;padding-left:.75rem;border-left:3px solid var(--line)}
form#filters label{display:inline-block;white-space:nowrap;margin:.15rem .6rem .15rem 0}
"#;

/// The one script our pages run (allowed by its hash in the pages' CSP): each `<time>`
/// the server rendered in UTC is rewritten in the reader's own zone, the "ago" kept; the
/// hover title keeps the UTC time. It reads only the `datetime` attributes we wrote.
pub const LOCAL_TIME_JS: &str = "for(const t of document.querySelectorAll('time[datetime]')){const d=new Date(t.dateTime);if(isNaN(d))continue;const s=t.textContent,i=s.indexOf(' \\u00b7 ');t.textContent=d.toLocaleString([],{year:'numeric',month:'2-digit',day:'2-digit',hour:'2-digit',minute:'2-digit',hourCycle:'h23',timeZoneName:'short'})+(i<0?'':s.slice(i));}";

/// The page frame.
pub fn page(title: &str, q: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\">\
<title>{t} · samizdat</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
<body><header><a class=\"home\" href=\"/\">samizdat</a>\
<form action=\"/search\" method=\"get\" role=\"search\"><input type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"Search posts and authors\" aria-label=\"Search\"><button type=\"submit\">Search</button></form>\
<nav><a href=\"/posts\">All posts</a><a href=\"/log\">Log</a><a href=\"/add\">Add</a><a href=\"/verify\">Verify</a></nav></header>\n<main>{body}</main>\
<footer>An archive of public posts, each capture recorded in WARC files and proven by a signed Merkle log. <a href=\"/verify\">How to check anything here</a>.</footer><script>{js}</script></body></html>\n",
        js = LOCAL_TIME_JS,
        t = esc(title),
        q = esc(q),
    )
}

/// A state badge.
pub fn badge(state: &str) -> String {
    if state.is_empty() {
        return String::new();
    }
    format!(
        "<span class=\"badge {c}\">{t}</span>",
        c = esc(state),
        t = esc(&state.replace('_', " "))
    )
}

/// What one line of a post list shows: a `list` summary or a search hit.
pub struct Line<'a> {
    pub id: &'a str,
    pub platform: &'a str,
    pub author: &'a str,
    pub state: &'a str,
    pub last_captured: &'a str,
    pub text: &'a str,
    /// Shown instead of the text when there is none (a post gone at its first capture).
    pub url: &'a str,
}

impl<'a> From<&'a PostSummary> for Line<'a> {
    fn from(v: &'a PostSummary) -> Self {
        Line {
            id: &v.id,
            platform: &v.platform,
            author: v.author.as_deref().unwrap_or(""),
            state: &v.state,
            last_captured: &v.last_captured,
            text: &v.text,
            url: &v.url,
        }
    }
}

impl<'a> From<&'a SearchHit> for Line<'a> {
    fn from(v: &'a SearchHit) -> Self {
        // The name only: a hit's author object always has its `name` key (null when
        // unknown), and the list line has always shown just that.
        let author = v
            .author
            .as_ref()
            .and_then(|a| a.name.as_deref())
            .unwrap_or("");
        Line {
            id: &v.id,
            platform: &v.platform,
            author,
            state: v.state.as_str(),
            last_captured: v.last_captured.as_deref().unwrap_or(""),
            text: v.text.as_deref().unwrap_or(""),
            url: &v.url,
        }
    }
}

/// One line of a post list (from `Index::list` or a search hit).
pub fn summary<'a>(v: impl Into<Line<'a>>, q: Option<&str>) -> String {
    let v = v.into();
    let text = v.text;
    let author = v.author;
    let body = match q {
        // Nothing of the post was captured (it was gone at its first capture): its address.
        _ if text.is_empty() && !v.url.is_empty() => {
            format!("<span class=\"meta\">{}</span>", esc(v.url))
        }
        Some(q) => highlight(text, q, Some(160)),
        None => {
            let cut: String = text.chars().take(200).collect();
            let more = if cut.len() < text.len() { "…" } else { "" };
            format!("{}{more}", esc(&cut))
        }
    };
    let author_html = match q {
        Some(q) => highlight(author, q, None),
        None => esc(author),
    };
    // Only the parts a post has, so no empty ` · ` separators.
    let mut meta = vec![esc(v.platform)];
    if !author.is_empty() {
        meta.push(format!("<b{}>{author_html}</b>", lang_attr(author)));
    }
    if !v.state.is_empty() {
        meta.push(badge(v.state));
    }
    if !v.last_captured.is_empty() {
        meta.push(format!("captured {}", utc(v.last_captured)));
    }
    format!(
        "<article class=\"post\"><div class=\"meta\">{meta}</div>\
<div class=\"text\"{l}>{body}</div><a href=\"/posts/{href}\">Open this post</a></article>\n",
        meta = meta.join(" · "),
        l = lang_attr(text),
        href = enc(v.id),
    )
}

/// The text of the first `<h1>`–`<h3>` of post HTML, tags left out, whitespace
/// collapsed (still HTML-escaped as it stands in the HTML), when the HTML starts with it
/// (only other tags before it).
fn first_heading(html: &str) -> Option<String> {
    let clean = sanitize(html, &Default::default());
    let lower = clean.to_ascii_lowercase();
    let start = ["<h1", "<h2", "<h3"]
        .iter()
        .filter_map(|t| lower.find(t))
        .min()?;
    // Only markup before the heading: no text of the post precedes it.
    if !strip_tags(&clean[..start]).trim().is_empty() {
        return None;
    }
    let level = &lower[start + 1..start + 3];
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find(&format!("</{level}"))?;
    let text = strip_tags(&clean[open_end..close]);
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// HTML with its tags left out (entities kept).
fn strip_tags(html: &str) -> String {
    let mut o = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => o.push(c),
            _ => {}
        }
    }
    o
}

/// `text` without its first line when that line is the title already shown above it.
pub fn without_title<'a>(text: &'a str, title: &str) -> &'a str {
    let t = text.trim_start();
    let (first, rest) = t.split_once('\n').unwrap_or((t, ""));
    if !title.is_empty() && first.trim() == title.trim() {
        rest.trim_start_matches(['\r', '\n'])
    } else {
        text
    }
}

/// The name of a media kind, as the post JSON spells it.
fn kind_name(k: MediaKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A post's content: author, text (or sanitised HTML), media, repost and quote.
pub fn post_body(p: &Post, depth: usize) -> String {
    let mut o = String::new();
    let author = p.author.clone().unwrap_or_default();
    let name = author.name.as_deref().unwrap_or("");
    let handle = author.handle.as_deref().unwrap_or("");
    let aid = author.id.as_deref().unwrap_or("");
    let platform = p.platform.as_str();
    // Only the parts the post has: no empty ` · ` separators.
    let mut meta: Vec<String> = vec![];
    if !name.is_empty() || !handle.is_empty() || !aid.is_empty() {
        let label = if name.is_empty() { handle } else { name };
        let label = if label.is_empty() { aid } else { label };
        let mut a = if aid.is_empty() {
            format!("<b{}>{}</b>", lang_attr(label), esc(label))
        } else {
            format!(
                "<a href=\"/accounts/{}/{}\"><b{}>{}</b></a>",
                enc(platform),
                enc(aid),
                lang_attr(label),
                esc(label)
            )
        };
        if !handle.is_empty() && handle != label {
            a += &format!(" <span>@{}</span>", esc(handle));
        }
        meta.push(a);
    }
    meta.push(esc(platform));
    let created = p
        .created_at
        .as_deref()
        .filter(|c| !c.is_empty())
        .or(p.created_at_raw.as_deref())
        .unwrap_or("");
    if !created.is_empty() {
        meta.push(format!("posted {}", utc(created)));
    }
    meta.push(format!(
        "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">original URL</a>",
        esc(&p.url)
    ));
    o += &format!("<div class=\"meta\">{}</div>", meta.join(" · "));
    let title = p.title.as_deref().unwrap_or("").trim();
    // The title once: not above a body whose own first heading already is it.
    let heading_is_title = p
        .html
        .as_deref()
        .and_then(first_heading)
        .is_some_and(|h| h == esc(title));
    if !title.is_empty() && !heading_is_title {
        o += &format!("<h2{}>{}</h2>", lang_attr(title), esc(title));
    }
    let text = p.text.as_deref().unwrap_or("");
    let html = p.html.as_deref().unwrap_or("");
    fn rid_of(m: &Media) -> &str {
        m.record_id.as_deref().unwrap_or("")
    }
    let archived: std::collections::HashMap<String, String> = p
        .media
        .iter()
        .filter(|m| !rid_of(m).is_empty())
        .map(|m| (m.url.clone(), rid_of(m).to_string()))
        .collect();
    if !html.is_empty() {
        o += &format!(
            "<div class=\"html\"{}>{}</div>",
            lang_attr(text),
            sanitize(html, &archived)
        );
    } else if !text.is_empty() {
        let text = without_title(text, title);
        o += &format!("<div class=\"text\"{}>{}</div>", lang_attr(text), esc(text));
    }
    for m in &p.media {
        let rid = rid_of(m);
        if !html.is_empty() && !rid.is_empty() && html.contains(m.url.as_str()) {
            continue; // shown in place, in the post's HTML
        }
        let alt = m.alt.as_deref().unwrap_or("");
        let kind = kind_name(m.kind);
        let mime = m.mime.as_deref().unwrap_or("");
        if rid.is_empty() {
            o += &format!(
                "<p class=\"meta\">{} not captured: {}</p>",
                esc(&kind),
                esc(&m.url)
            );
        } else if kind == "image" || mime.starts_with("image/") {
            o += &format!(
                "<p><a href=\"/raw/{r}\"><img src=\"/raw/{r}\" alt=\"{a}\" loading=\"lazy\"></a></p>",
                r = enc(rid),
                a = esc(alt)
            );
        } else {
            o += &format!(
                "<p><a href=\"/raw/{}\">{} ({})</a></p>",
                enc(rid),
                esc(&kind),
                esc(mime)
            );
        }
    }
    if depth < 3 {
        for (inner, label) in [
            (&p.repost_of, "Repost of"),
            (&p.quote_of, "Quoting"),
            (&p.reply_to, "In reply to"),
        ] {
            if let Some(inner) = inner {
                o += &format!(
                    "<blockquote><div class=\"meta\">{label}</div>{}</blockquote>",
                    post_body(inner, depth + 1)
                );
            }
        }
    }
    o
}

/// A moment in the reader's terms, rendered on the server (our one script, where it runs,
/// rewrites it in the reader's zone):
/// `2026-03-01 13:02 UTC · 3 hours ago`, in a `<time>` whose `datetime` is the stored
/// RFC 3339 value and whose hover title is the full UTC time. Text that is not a time is
/// shown as it is.
pub fn when(at: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = at.trim().parse::<jiff::Timestamp>() else {
        return esc(at);
    };
    let utc = t;
    format!(
        "<time datetime=\"{}\" title=\"UTC {}\">{} UTC · {}</time>",
        esc(at.trim()),
        utc.strftime("%Y-%m-%d %H:%M:%S"),
        utc.strftime("%Y-%m-%d %H:%M"),
        ago(t, now)
    )
}

/// A moment as `2026-03-01 13:02 UTC`, in a `<time>` with the full UTC time on hover
/// (for lists, which say no "ago"). Text that is not a time is shown as it is.
pub fn utc(at: &str) -> String {
    let Ok(t) = at.trim().parse::<jiff::Timestamp>() else {
        return esc(at);
    };
    format!(
        "<time datetime=\"{}\" title=\"UTC {}\">{} UTC</time>",
        esc(at.trim()),
        t.strftime("%Y-%m-%d %H:%M:%S"),
        t.strftime("%Y-%m-%d %H:%M"),
    )
}

/// How long before `now` a moment was, in words: `just now`, `5 minutes ago`,
/// `3 hours ago`, `2 days ago`, `4 months ago`, `1 year ago`; `in 5 minutes` for a
/// moment after `now`.
pub fn ago(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs = now.as_second() - t.as_second();
    let future = secs < 0;
    let s = secs.unsigned_abs();
    if s < 60 {
        return "just now".into();
    }
    let (n, unit) = match s {
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s if s < 86_400 * 60 => (s / 86_400, "day"),
        s if s < 86_400 * 730 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{plural}")
    } else {
        format!("{n} {unit}{plural} ago")
    }
}

/// A WARC digest (`sha256:<hex>`) labelled for a reader: what it is a digest of, the
/// algorithm spelled out, the hex in full.
pub fn digest(label: &str, explain: &str, d: &str) -> String {
    let (alg, value) = d.split_once(':').unwrap_or(("", d));
    let alg = match alg.to_ascii_lowercase().as_str() {
        "sha256" => "SHA-256".to_string(),
        "sha1" => "SHA-1".to_string(),
        "" => String::new(),
        a => a.to_ascii_uppercase(),
    };
    format!(
        "<div class=\"digest\"><abbr title=\"{}\">{}</abbr> ({}): <code>{}</code></div>",
        esc(explain),
        esc(label),
        esc(&alg),
        esc(value)
    )
}

/// A base64 hash (a checkpoint's or a proof's) as lowercase hex, or as given when it
/// is not base64.
pub fn b64_hex(b64: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map(hex::encode)
        .unwrap_or_else(|_| b64.to_string())
}
