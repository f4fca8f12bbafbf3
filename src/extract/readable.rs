//! A small readability heuristic: find the page's main content and read it without
//! navigation, headers, footers, asides, share bars and related-links boxes.
//!
//! Every pass is a single walk over the tree (no per-node ancestor scans), so work stays
//! linear in the page size.

use super::html::{TextSink, serialize_filtered, walk_text};
use scraper::{ElementRef, Html, Node};
use std::collections::HashMap;

/// Shortest text (bytes) for an `<article>`/`<main>` to be trusted as the main content.
const MIN_MAIN_TEXT: usize = 140;
/// Shortest paragraph that counts towards a container's score.
const MIN_PARAGRAPH: usize = 25;

/// Class/id tokens of page furniture, dropped wherever they appear.
const BOILER_TOKENS: &[&str] = &[
    "share",
    "sharing",
    "social",
    "related",
    "recommended",
    "recommendations",
    "comments",
    "comment",
    "sidebar",
    "nav",
    "navbar",
    "navigation",
    "menu",
    "breadcrumb",
    "breadcrumbs",
    "ad",
    "ads",
    "advert",
    "advertisement",
    "adsense",
    "banner",
    "bannersticky",
    "promo",
    "newsletter",
    "popup",
    "modal",
    "cookie",
    "cookies",
    "subscribe",
    "subscription",
    "signup",
    "paywall",
    "hidden",
    "hide",
    "sponsored",
    "outbrain",
    "taboola",
    "toolbar",
    "pagination",
    "footer",
    "masthead",
    "header",
    "skip",
    "print",
];
/// Tokens of small furniture (bylines, dates, tag lists), dropped only when short.
const SOFT_TOKENS: &[&str] = &[
    "author",
    "byline",
    "meta",
    "dateline",
    "tags",
    "timestamp",
    "errata",
];
const SOFT_MAX: usize = 300;

fn has_token(e: &scraper::node::Element, list: &[&str]) -> bool {
    [e.attr("class"), e.attr("id")]
        .into_iter()
        .flatten()
        .any(|v| {
            v.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
                .any(|t| list.iter().any(|b| b.eq_ignore_ascii_case(t)))
        })
}

/// Whether an element is page furniture rather than content.
pub(crate) fn is_boilerplate(e: ElementRef<'_>) -> bool {
    let el = e.value();
    if matches!(
        el.name(),
        "nav" | "header" | "footer" | "aside" | "form" | "dialog" | "menu"
    ) {
        return true;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let s: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    if let Some(role) = el.attr("role")
        && matches!(
            role.trim(),
            "navigation" | "banner" | "contentinfo" | "complementary" | "dialog" | "menu"
        )
    {
        return true;
    }
    // Never drop the big containers themselves by their class names.
    if matches!(el.name(), "body" | "html" | "main" | "article") {
        return false;
    }
    if has_token(el, BOILER_TOKENS) {
        return true;
    }
    if has_token(el, SOFT_TOKENS) {
        let mut n = 0;
        for t in e.text() {
            n += t.trim().len();
            if n > SOFT_MAX {
                return false;
            }
        }
        return true;
    }
    false
}

/// The element holding the page's main content, if the page has a body at all.
pub fn find_main(doc: &Html) -> Option<ElementRef<'_>> {
    let root = doc.root_element();
    let mut article_body = None;
    let mut landmarks = Vec::new();
    let mut body = None;
    // (node, inside furniture)
    let mut scores: HashMap<_, usize> = HashMap::new();
    let mut stack = vec![(*root, false)];
    while let Some((n, boiler)) = stack.pop() {
        let Some(e) = ElementRef::wrap(n) else {
            continue;
        };
        let name = e.value().name();
        if super::html::is_invisible(name) {
            continue;
        }
        let boiler = boiler || is_boilerplate(e);
        match name {
            "body" => body = Some(e),
            "article" | "main" if !boiler => landmarks.push(e),
            _ if !boiler && e.value().attr("role") == Some("main") => landmarks.push(e),
            _ => {}
        }
        if article_body.is_none() && !boiler && e.value().attr("itemprop") == Some("articleBody") {
            article_body = Some(e);
        }
        if !boiler && matches!(name, "p" | "pre" | "blockquote") {
            let len: usize = e.text().map(|t| t.trim().len()).sum();
            if len >= MIN_PARAGRAPH
                && let Some(p) = n.parent()
            {
                *scores.entry(p.id()).or_default() += len;
                if let Some(g) = p.parent() {
                    *scores.entry(g.id()).or_default() += len / 2;
                }
            }
            continue;
        }
        for c in n.children().rev() {
            if matches!(c.value(), Node::Element(_)) {
                stack.push((c, boiler));
            }
        }
    }
    if let Some(a) = article_body
        && text_len(a) >= MIN_MAIN_TEXT / 2
    {
        return Some(a);
    }
    // The landmark with most readable text; prefer <article> over <main> on ties.
    // Landmarks nest (20,000 nested <article> are a page of 200 KB): their lengths come
    // from one walk over the page, not one walk each.
    let lens = landmark_text_lens(root, &landmarks);
    let best_landmark = landmarks
        .iter()
        .zip(lens)
        .map(|(&e, len)| (len + usize::from(e.value().name() == "article"), e))
        .max_by_key(|(l, _)| *l);
    if let Some((len, e)) = best_landmark
        && len >= MIN_MAIN_TEXT
    {
        return Some(e);
    }
    let best_block = scores
        .into_iter()
        .max_by_key(|(id, s)| (*s, std::cmp::Reverse(*id)))
        .and_then(|(id, _)| doc.tree.get(id))
        .and_then(ElementRef::wrap);
    best_block.or(body).or(Some(root))
}

/// [`text_len`] of each landmark, from one walk over the whole page: a landmark's text
/// is what the walk wrote between entering and leaving it, less the separator a walk of
/// the landmark alone would not have written in front. Landmarks are never furniture and
/// never inside it, so both walks leave out the same elements.
fn landmark_text_lens(root: ElementRef<'_>, landmarks: &[ElementRef<'_>]) -> Vec<usize> {
    let mut lens = vec![0; landmarks.len()];
    if landmarks.is_empty() {
        return lens;
    }
    let index: HashMap<_, usize> = landmarks
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id(), i))
        .collect();
    let mut starts = vec![0; landmarks.len()];
    let mut sink = TextSink::default();
    super::html::walk_text_marked(
        root,
        &mut sink,
        &|x| x.id() != root.id() && is_boilerplate(x),
        &mut |e, entering, sink| {
            if let Some(&i) = index.get(&e.id()) {
                if entering {
                    starts[i] = sink.len();
                } else {
                    lens[i] = sink.since(starts[i]).trim_start_matches([' ', '\n']).len();
                }
            }
        },
    );
    lens
}

fn text_len(e: ElementRef<'_>) -> usize {
    let mut sink = TextSink::default();
    walk_text(e, &mut sink, &|x| x.id() != e.id() && is_boilerplate(x));
    sink.len()
}

/// Readable text of `main`: paragraphs separated by blank lines.
pub fn text(main: ElementRef<'_>) -> String {
    let mut sink = TextSink::default();
    walk_text(main, &mut sink, &|x| {
        x.id() != main.id() && is_boilerplate(x)
    });
    sink.finish()
}

/// The HTML of `main` without furniture (not yet sanitised), stopping once past
/// `limit` bytes.
pub fn html(main: ElementRef<'_>, limit: usize) -> String {
    serialize_filtered(main, &|x| x.id() != main.id() && is_boilerplate(x), limit)
}

/// The `<img>` of `main` worth keeping, largest first (by declared size), at most `max`.
/// Lazy-loading attributes win over `src` placeholders; icons (declared under 80 px)
/// and `data:` URLs are left out.
pub fn images(main: ElementRef<'_>, max: usize) -> Vec<(String, Option<String>)> {
    let mut found: Vec<(u64, usize, String, Option<String>)> = Vec::new();
    let mut stack = vec![*main];
    while let Some(n) = stack.pop() {
        let Some(e) = ElementRef::wrap(n) else {
            continue;
        };
        if e.id() != main.id() && (is_boilerplate(e) || super::html::is_invisible(e.value().name()))
        {
            continue;
        }
        if e.value().name() == "img" {
            let el = e.value();
            let dim = |k: &str| {
                el.attr(k)
                    .and_then(|v| v.trim().trim_end_matches("px").parse::<u64>().ok())
            };
            let (w, h) = (dim("width"), dim("height"));
            if w.is_some_and(|w| w < 80) || h.is_some_and(|h| h < 80) {
                continue;
            }
            let src = [
                "data-src",
                "data-original",
                "data-lazy-src",
                "data-actualsrc",
                "data-url",
            ]
            .iter()
            .filter_map(|k| el.attr(k))
            .find(|v| !v.trim().is_empty())
            .map(str::to_string)
            .or_else(|| el.attr("srcset").and_then(largest_srcset))
            .or_else(|| el.attr("src").map(str::to_string))
            .filter(|s| !s.trim().is_empty() && !s.trim_start().starts_with("data:"));
            if let Some(src) = src {
                let area = w.unwrap_or(0) * h.unwrap_or(0);
                let order = found.len();
                found.push((area, order, src, el.attr("alt").map(str::to_string)));
            }
            continue;
        }
        for c in n.children().rev() {
            if matches!(c.value(), Node::Element(_)) {
                stack.push(c);
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found
        .into_iter()
        .take(max)
        .map(|(_, _, s, a)| (s, a))
        .collect()
}

/// The widest candidate of a `srcset` (`a.jpg 480w, b.jpg 1080w`).
fn largest_srcset(srcset: &str) -> Option<String> {
    srcset
        .split(',')
        .filter_map(|c| {
            let mut parts = c.split_whitespace();
            let url = parts.next()?;
            let w = parts
                .next()
                .and_then(|d| d.trim_end_matches(['w', 'x']).parse::<f64>().ok())
                .unwrap_or(1.0);
            Some((w, url.to_string()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, u)| u)
}
