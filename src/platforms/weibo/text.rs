//! Weibo's HTML-ish `text`: sanitised, links unwrapped from `weibo.cn/sinaurl`, emoji
//! read as their alt text.

use super::API;
use crate::platforms::kit::{escape_html, unescape_html};
use url::Url;

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
        out.push((name, unescape_html(&value)));
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
pub(super) fn text_and_html(raw: &str) -> (String, String) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
