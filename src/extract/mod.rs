//! Reading web pages into a post: charset, JSON-LD, OpenGraph, Twitter cards, meta tags,
//! readable main text, sanitised main HTML and the main images.
//!
//! Extraction order (summarised in docs/platforms.md): JSON-LD (arrays and `@graph`
//! included) first, then OpenGraph, then Twitter cards, then `<meta>`, `<title>`,
//! `<link rel=canonical>`, `<time>` and `<html lang>`. Pages are often broken (unescaped
//! quotes in `og:title`, invalid JSON-LD): every reader here is lenient and never panics.

mod charset;
mod dates;
mod html;
mod jsonld;
mod readable;

pub use charset::{Decoded, decode_text};
pub use dates::to_rfc3339;
pub use html::{html_to_text, sanitize_html};
pub use jsonld::parse_lenient as parse_jsonld;

use crate::model::{Author, Media, MediaKind, Post};
use scraper::Html;
use serde_json::{Map, Value, json};
use url::Url;

/// At most this many media items per page.
const MAX_MEDIA: usize = 20;
/// At most this many bytes of main-content HTML are sanitised and kept.
pub const MAX_HTML: usize = 512 * 1024;
/// At most this many bytes of a post's plain text are kept (and indexed).
pub const MAX_TEXT: usize = 512 * 1024;
/// At most this many bytes of any other string of a post (title, names, descriptions).
pub const MAX_FIELD: usize = 16 * 1024;
/// At most this many bytes of a post's `extra` (OpenGraph, JSON-LD ...), as JSON.
pub const MAX_EXTRA: usize = 256 * 1024;
/// Tags nested deeper than this are left out before a page is parsed ...
pub const MAX_PARSE_DEPTH: usize = 512;
/// ... or where it has more elements and attributes (nodes) than this.
pub const MAX_PARSE_ELEMENTS: usize = 200_000;
/// At most this many `<img>` of the main content (the largest ones).
const MAX_CONTENT_IMAGES: usize = 6;

/// JSON-LD types that describe "the post" of a page.
const ARTICLE_TYPES: &[&str] = &[
    "Article",
    "NewsArticle",
    "BlogPosting",
    "SocialMediaPosting",
    "DiscussionForumPosting",
    "LiveBlogPosting",
    "Report",
    "ScholarlyArticle",
    "TechArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "ReportageNewsArticle",
    "ReviewNewsArticle",
    "BackgroundNewsArticle",
    "Posting",
    "Review",
    "VideoObject",
    "Recipe",
];

/// A fetched page, as extraction reads it.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The URL asked for, canonical (fragment dropped).
    pub requested: &'a Url,
    /// The URL the page came from (after redirects): the base of its links.
    pub fetched: &'a Url,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The body was cut at the size limit.
    pub truncated: bool,
}

/// Fills `post` from an HTML page: URL, title, author, date, text, HTML, media, extra.
pub fn read_html(post: &mut Post, page: &Page<'_>) {
    let requested = page.requested;
    let decoded = decode_text(page.body, page.content_type);
    let bounded = html::bound_markup(&decoded.text, MAX_PARSE_DEPTH, MAX_PARSE_ELEMENTS);
    if !bounded.notes.is_empty() {
        note_limit(post, "parse_truncated", json!(bounded.notes.join("; ")));
    }
    let doc = Html::parse_document(&bounded.html);
    let base = document_base(&doc, page.fetched);
    let meta = collect_meta(&doc);

    // JSON-LD
    let mut jsonld_values = Vec::new();
    let mut jsonld_repaired = 0usize;
    for script in doc.root_element().descendent_elements().filter(|e| {
        e.value().name() == "script"
            && e.value()
                .attr("type")
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
    }) {
        let src: String = script.text().collect();
        let (vals, repaired) = jsonld::parse_lenient(&src);
        if repaired {
            jsonld_repaired += 1;
        }
        jsonld_values.extend(vals);
    }

    let canonical_raw = first_link(&doc, "canonical");
    let canonical = canonical_raw
        .as_deref()
        .and_then(|c| base.join(c.trim()).ok())
        .or_else(|| meta.og("og:url").and_then(|u| base.join(u.trim()).ok()))
        .filter(|c| matches!(c.scheme(), "http" | "https"))
        .map(|c| without_fragment(&c));
    // A canonical pointing at the site's front page (soft 404, or sloppy templates) is
    // not this page's address; one on another site is not the page's to claim.
    let canonical = canonical
        .filter(|c| !(c.path() == "/" && requested.path() != "/"))
        .filter(|c| same_site(page.fetched, c));

    let objs = jsonld::objects(&jsonld_values);
    let main_obj = main_jsonld(&objs, canonical.as_ref().unwrap_or(requested), page.fetched);

    // URL
    if let Some(c) = &canonical {
        post.url = c.to_string();
    }
    for alt in [
        requested.to_string(),
        without_fragment(page.fetched).to_string(),
    ] {
        if alt != post.url && !post.alt_urls.contains(&alt) {
            post.alt_urls.push(alt);
        }
    }

    // Title
    let title_el = doc
        .root_element()
        .descendent_elements()
        .find(|e| e.value().name() == "title")
        .map(|e| e.text().collect::<String>());
    post.title = main_obj
        .and_then(|o| str_field(o, "headline").or_else(|| str_field(o, "name")))
        .or_else(|| meta.good("og:title"))
        .or_else(|| meta.good("twitter:title"))
        .or_else(|| title_el.clone())
        .map(|t| collapse_ws(&t))
        .filter(|t| !t.is_empty());

    // Author
    post.author = main_obj
        .and_then(|o| o.get("author").or_else(|| o.get("creator")))
        .and_then(jsonld_author)
        .or_else(|| {
            meta.good("article:author").map(|a| {
                let a = a.trim().to_string();
                if a.starts_with("http://") || a.starts_with("https://") {
                    Author {
                        url: Some(a),
                        ..Default::default()
                    }
                } else {
                    Author {
                        name: Some(a),
                        ..Default::default()
                    }
                }
            })
        })
        .or_else(|| {
            meta.good("author").map(|a| Author {
                name: Some(collapse_ws(&a)),
                ..Default::default()
            })
        })
        .filter(|a| a.name.as_deref().is_some_and(|n| !n.is_empty()) || a.url.is_some());

    // Date
    let raw_date = main_obj
        .and_then(|o| str_field(o, "datePublished").or_else(|| str_field(o, "dateCreated")))
        .or_else(|| meta.good("article:published_time"))
        .or_else(|| meta.good("og:published_time"))
        .or_else(|| {
            [
                "datePublished",
                "date",
                "pubdate",
                "publishdate",
                "dc.date",
                "dcterms.created",
            ]
            .iter()
            .find_map(|k| meta.good(k))
        })
        .or_else(|| {
            // Only a `<time>` marked as the publication date: other times on a page
            // (events, comments, related links) are not the page's date.
            doc.root_element()
                .descendent_elements()
                .find(|e| {
                    let v = e.value();
                    v.name() == "time"
                        && v.attr("datetime").is_some()
                        && (v.attr("pubdate").is_some()
                            || v.attr("itemprop") == Some("datePublished"))
                })
                .and_then(|e| e.value().attr("datetime").map(str::to_string))
        });
    if let Some(raw) = raw_date {
        post.created_at = dates::to_rfc3339(&raw);
        post.created_at_raw = Some(raw);
    }

    // Main content
    let main = readable::find_main(&doc);
    let main_text = main.map(readable::text).unwrap_or_default();
    let body_text = main_obj
        .and_then(|o| str_field(o, "articleBody"))
        .filter(|s| !s.trim().is_empty());
    post.text = body_text.or(if main_text.is_empty() {
        None
    } else {
        Some(main_text)
    });
    if let Some(m) = main {
        // Sanitising re-parses the markup: keep that bounded on huge pages (the text
        // above is complete; the cut HTML is closed again by the sanitiser's parser).
        let mut raw = readable::html(m, MAX_HTML);
        if raw.len() > MAX_HTML {
            let mut cut = MAX_HTML;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw.truncate(cut);
            post.extra.insert("html_truncated".into(), json!(true));
            note_limit(post, "html_truncated", json!(true));
            note_limit(post, "max_html_bytes", json!(MAX_HTML));
        }
        let h = sanitize_html(&raw, &base);
        if !h.trim().is_empty() {
            post.html = Some(h);
        }
    }

    // Media
    let mut media: Vec<Media> = Vec::new();
    let mut push = |u: &str, alt: Option<String>| {
        if media.len() >= MAX_MEDIA {
            return;
        }
        let u = u.trim();
        if u.is_empty() || u.starts_with("data:") {
            return;
        }
        let Ok(abs) = base.join(u) else { return };
        if !matches!(abs.scheme(), "http" | "https") {
            return;
        }
        let s = abs.to_string();
        if media.iter().any(|m| m.url == s) {
            return;
        }
        let mut m = Media::new(MediaKind::Image, s);
        m.alt = alt.filter(|a| !a.trim().is_empty());
        media.push(m);
    };
    for k in ["og:image", "og:image:secure_url", "og:image:url"] {
        for v in meta.all(k) {
            push(&v, meta.good("og:image:alt"));
        }
    }
    if let Some(o) = main_obj {
        for u in jsonld_images(o.get("image")) {
            push(&u, None);
        }
    }
    for k in ["twitter:image", "twitter:image:src"] {
        for v in meta.all(k) {
            push(&v, meta.good("twitter:image:alt"));
        }
    }
    if let Some(m) = main {
        for (u, alt) in readable::images(m, MAX_CONTENT_IMAGES) {
            push(&u, alt);
        }
    }
    post.media = media;

    // Extra
    let mut extra = Map::new();
    extra.insert("opengraph".into(), Value::Object(meta.map_with(is_og_key)));
    extra.insert(
        "twitter".into(),
        Value::Object(meta.map_with(|k| k.starts_with("twitter:"))),
    );
    extra.insert("jsonld".into(), Value::Array(jsonld_values.clone()));
    if jsonld_repaired > 0 {
        extra.insert("jsonld_repaired".into(), json!(jsonld_repaired));
    }
    let description = main_obj
        .and_then(|o| str_field(o, "description"))
        .or_else(|| meta.good("og:description"))
        .or_else(|| meta.good("twitter:description"))
        .or_else(|| meta.good("description"))
        .map(|d| collapse_ws(&d));
    if let Some(d) = description {
        extra.insert("description".into(), json!(d));
    }
    if let Some(c) = &canonical_raw {
        extra.insert(
            "canonical".into(),
            json!(
                base.join(c.trim())
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| c.clone())
            ),
        );
    }
    let lang = doc
        .root_element()
        .value()
        .attr("lang")
        .or_else(|| doc.root_element().value().attr("xml:lang"))
        .map(str::to_string)
        .or_else(|| meta.http_equiv("content-language"))
        .or_else(|| meta.good("og:locale"))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty());
    if let Some(l) = lang {
        extra.insert("lang".into(), json!(l));
    }
    extra.insert(
        "charset".into(),
        json!({"name": decoded.encoding.name(), "source": decoded.source, "had_errors": decoded.had_errors}),
    );
    let site_name = meta
        .good("og:site_name")
        .or_else(|| {
            main_obj
                .and_then(|o| o.get("publisher"))
                .and_then(|p| match p {
                    Value::Object(p) => str_field(p, "name"),
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
        })
        .or_else(|| meta.good("application-name"));
    if let Some(s) = site_name {
        extra.insert("site_name".into(), json!(collapse_ws(&s)));
    }
    if let Some(t) = title_el.map(|t| collapse_ws(&t)).filter(|t| !t.is_empty()) {
        extra.insert("html_title".into(), json!(t));
    }
    if let Some(o) = main_obj {
        if let Some(m) = str_field(o, "dateModified") {
            extra.insert("modified_at_raw".into(), json!(m));
        }
    } else if let Some(m) = meta.good("article:modified_time") {
        extra.insert("modified_at_raw".into(), json!(m));
    }
    if !meta.broken.is_empty() {
        extra.insert("broken_meta".into(), json!(meta.broken));
    }
    if page.truncated {
        extra.insert("truncated".into(), json!(true));
    }
    post.extra.extend(extra);
}

/// A URL with its fragment dropped: the part of a URL that names a document.
pub fn without_fragment(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}

/// Records in `extra.limits` that a bound cut something (the post record says so).
pub fn note_limit(post: &mut Post, key: &str, value: Value) {
    let limits = post
        .extra
        .entry("limits")
        .or_insert_with(|| Value::Object(Map::new()));
    if !limits.is_object() {
        *limits = Value::Object(Map::new());
    }
    if let Value::Object(m) = limits {
        m.insert(key.to_string(), value);
    }
}

/// Cuts `s` to at most `max` bytes, on a char boundary. Whether it cut.
fn cut_string(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    s.truncate(at);
    true
}

/// Bounds what of a post is kept, indexed and shown, whatever a platform or page gave:
/// text to [`MAX_TEXT`] bytes, HTML to [`MAX_HTML`] (cut, then sanitised again, so it is
/// still well-formed), other strings to [`MAX_FIELD`], `extra` to [`MAX_EXTRA`] as JSON
/// (its largest entries dropped first). Nested posts (reposts, quotes, replies) too.
/// What was cut is listed in `extra.limits`; the archive keeps the answers whole.
pub fn bound_post(post: &mut Post) {
    let mut notes: Vec<(&str, Value)> = vec![];
    if let Some(t) = &mut post.text {
        let len = t.len();
        if cut_string(t, MAX_TEXT) {
            notes.push(("text_truncated", json!(true)));
            notes.push(("text_bytes", json!(len)));
            notes.push(("max_text_bytes", json!(MAX_TEXT)));
        }
    }
    if let Some(h) = &mut post.html
        && h.len() > MAX_HTML
    {
        let base = Url::parse(&post.url)
            .unwrap_or_else(|_| Url::parse("https://invalid.invalid/").expect("a valid URL"));
        // Cut, then sanitise again: the parser closes what the cut left open. Twice at
        // most: sanitising may add a little (rel attributes, end tags).
        let mut kept = None;
        for max in [MAX_HTML, MAX_HTML / 2] {
            let mut cut = h.clone();
            cut_string(&mut cut, max);
            let clean = sanitize_html(&cut, &base);
            if clean.len() <= MAX_HTML {
                kept = Some(clean);
                break;
            }
        }
        *h = kept.unwrap_or_default();
        notes.push(("html_truncated", json!(true)));
        notes.push(("max_html_bytes", json!(MAX_HTML)));
    }
    let mut fields = vec![];
    for (name, v) in [
        ("title", &mut post.title),
        ("created_at_raw", &mut post.created_at_raw),
    ] {
        if let Some(s) = v
            && cut_string(s, MAX_FIELD)
        {
            fields.push(name);
        }
    }
    if let Some(a) = &mut post.author {
        for (name, v) in [
            ("author.name", &mut a.name),
            ("author.id", &mut a.id),
            ("author.url", &mut a.url),
        ] {
            if let Some(s) = v
                && cut_string(s, MAX_FIELD)
            {
                fields.push(name);
            }
        }
    }
    if post.alt_urls.len() > 16 {
        post.alt_urls.truncate(16);
        fields.push("alt_urls");
    }
    for m in &mut post.media {
        if let Some(a) = &mut m.alt
            && cut_string(a, MAX_FIELD)
        {
            fields.push("media.alt");
        }
    }
    if !fields.is_empty() {
        fields.dedup();
        notes.push(("fields_truncated", json!(fields)));
        notes.push(("max_field_bytes", json!(MAX_FIELD)));
    }
    // extra: long strings cut, then the largest entries dropped until it fits.
    let mut cut_strings = false;
    for v in post.extra.values_mut() {
        cut_strings |= cut_json_strings(v, MAX_FIELD);
    }
    if cut_strings {
        notes.push(("extra_strings_truncated", json!(true)));
    }
    let size = |v: &Value| serde_json::to_vec(v).map_or(0, |b| b.len());
    let mut total: usize = post.extra.values().map(size).sum();
    let mut dropped = vec![];
    while total > MAX_EXTRA {
        let Some((k, n)) = post
            .extra
            .iter()
            .filter(|(k, _)| k.as_str() != "limits")
            .map(|(k, v)| (k.clone(), size(v)))
            .max_by_key(|(_, n)| *n)
        else {
            break;
        };
        post.extra.remove(&k);
        total = total.saturating_sub(n);
        dropped.push(k);
    }
    if !dropped.is_empty() {
        notes.push(("extra_dropped", json!(dropped)));
        notes.push(("max_extra_bytes", json!(MAX_EXTRA)));
    }
    for (k, v) in notes {
        note_limit(post, k, v);
    }
    for nested in [&mut post.repost_of, &mut post.quote_of, &mut post.reply_to]
        .into_iter()
        .flatten()
    {
        bound_post(nested);
    }
}

/// Cuts every string in `v` to `max` bytes (object keys left alone). Whether it cut.
fn cut_json_strings(v: &mut Value, max: usize) -> bool {
    // Iterative: JSON-LD from a page may nest deeply.
    let mut cut = false;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => cut |= cut_string(s, max),
            Value::Array(a) => stack.extend(a.iter_mut()),
            Value::Object(o) => stack.extend(o.values_mut()),
            _ => {}
        }
    }
    cut
}

/// Whether a response is an HTML page (by MIME type, or by sniffing when there is none).
pub fn looks_like_html(mime: &str, body: &[u8]) -> bool {
    match mime {
        "text/html" | "application/xhtml+xml" => return true,
        "" | "application/octet-stream" | "text/xml" | "application/xml" => {}
        _ => return false,
    }
    if sniff_image(body).is_some() || body.starts_with(b"%PDF-") {
        return false;
    }
    let head = &body[..body.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let t = head.trim_start_matches('\u{feff}').trim_start();
    t.starts_with("<!doctype html")
        || t.contains("<html")
        || t.contains("<head")
        || t.contains("<body")
        || (mime.is_empty() && t.starts_with('<') && !t.starts_with("<?xml"))
}

/// The image type of a body by its magic bytes.
pub fn sniff_image(body: &[u8]) -> Option<&'static str> {
    if body.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if body.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if body.starts_with(b"GIF87a") || body.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if body.len() >= 12 && &body[..4] == b"RIFF" && &body[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `%XX` escapes decoded (a file name in a URL path, for a title).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && s.is_char_boundary(i + 3)
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a page fetched from `page` may name `claimed` as its address (`<link
/// rel=canonical>`, `og:url`), and whether a feed at `page` speaks for an entry at
/// `claimed`: the same site, which here means the same host, ignoring case and a leading
/// `www.`, on the same port (`http` on 80 and `https` on 443 count as the same, the
/// usual upgrade). Without a public-suffix list the registrable domain cannot be told
/// safely (`a.github.io` and `b.github.io` are different sites), so sibling hosts
/// (`m.example.com` → `www.example.com`) are refused too; a page refused here keeps the
/// address it was fetched from.
pub fn same_site(page: &Url, claimed: &Url) -> bool {
    let host = |u: &Url| {
        let h = u.host_str().unwrap_or("").to_ascii_lowercase();
        match h.strip_prefix("www.") {
            Some(rest) => rest.to_string(),
            None => h,
        }
    };
    let port = |u: &Url| match (u.scheme(), u.port_or_known_default()) {
        ("http", Some(80)) | ("https", Some(443)) => None,
        (_, p) => Some((u.scheme().to_string(), p)),
    };
    !host(page).is_empty() && host(page) == host(claimed) && port(page) == port(claimed)
}

/// `<base href>` resolved against the response URL, or the response URL.
fn document_base(doc: &Html, url: &Url) -> Url {
    doc.root_element()
        .descendent_elements()
        .find(|e| e.value().name() == "base" && e.value().attr("href").is_some())
        .and_then(|e| url.join(e.value().attr("href")?.trim()).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| url.clone())
}

fn first_link(doc: &Html, rel: &str) -> Option<String> {
    doc.root_element()
        .descendent_elements()
        .filter(|e| e.value().name() == "link")
        .find(|e| {
            e.value().attr("rel").is_some_and(|r| {
                r.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case(rel))
            })
        })
        .and_then(|e| e.value().attr("href").map(str::to_string))
}

/// The page's `<meta>` tags, in document order.
struct Meta {
    /// (key, content, broken): key is `property`, `name` or `itemprop`, lower-cased for
    /// names, as written for OpenGraph properties.
    entries: Vec<(String, String, bool)>,
    http_equiv: Vec<(String, String)>,
    /// Keys whose tag was broken by unescaped quotes.
    broken: Vec<String>,
}

impl Meta {
    /// The first content of `key` from a tag that is not broken.
    fn good(&self, key: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|(k, v, broken)| !broken && k.eq_ignore_ascii_case(key) && !v.trim().is_empty())
            .map(|(_, v, _)| v.clone())
    }
    /// Only the OpenGraph `og:` keys, any tag.
    fn og(&self, key: &str) -> Option<String> {
        self.good(key)
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(k, v, _)| k.eq_ignore_ascii_case(key) && !v.trim().is_empty())
            .map(|(_, v, _)| v.clone())
            .collect()
    }
    fn http_equiv(&self, key: &str) -> Option<String> {
        self.http_equiv
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    }
    /// A map of the keys `pick` accepts; a key met twice becomes an array.
    fn map_with(&self, pick: impl Fn(&str) -> bool) -> Map<String, Value> {
        let mut m = Map::new();
        for (k, v, _) in &self.entries {
            if !pick(k) {
                continue;
            }
            match m.get_mut(k) {
                None => {
                    m.insert(k.clone(), Value::String(v.clone()));
                }
                Some(Value::Array(a)) => {
                    if !a.iter().any(|x| x == v) {
                        a.push(Value::String(v.clone()));
                    }
                }
                Some(old) => {
                    if old != v {
                        let prev = old.take();
                        *old = Value::Array(vec![prev, Value::String(v.clone())]);
                    }
                }
            }
        }
        m
    }
}

fn is_og_key(k: &str) -> bool {
    [
        "og:", "article:", "fb:", "book:", "profile:", "music:", "video:", "product:",
    ]
    .iter()
    .any(|p| k.starts_with(p))
}

fn collect_meta(doc: &Html) -> Meta {
    let mut meta = Meta {
        entries: vec![],
        http_equiv: vec![],
        broken: vec![],
    };
    for e in doc
        .root_element()
        .descendent_elements()
        .filter(|e| e.value().name() == "meta")
    {
        let el = e.value();
        let Some(content) = el.attr("content") else {
            continue;
        };
        if let Some(h) = el.attr("http-equiv") {
            meta.http_equiv
                .push((h.trim().to_ascii_lowercase(), content.to_string()));
            continue;
        }
        let Some(key) = el
            .attr("property")
            .or_else(|| el.attr("name"))
            .or_else(|| el.attr("itemprop"))
        else {
            continue;
        };
        let key = key.trim();
        let key = if key.contains(':') {
            key.to_ascii_lowercase()
        } else {
            key.to_string()
        };
        // `content="a "b" c"` leaves attributes named like `b"`: the value is cut.
        let broken = el.attrs().any(|(n, _)| n.contains('"') || n.contains('\''));
        if broken && !meta.broken.contains(&key) {
            meta.broken.push(key.clone());
        }
        meta.entries.push((key, content.to_string(), broken));
    }
    meta
}

/// The JSON-LD object that describes this page: an article-like type first, then an
/// object whose `url`/`@id`/`mainEntityOfPage` is this page.
fn main_jsonld<'a>(
    objs: &[&'a Map<String, Value>],
    page: &Url,
    resp_url: &Url,
) -> Option<&'a Map<String, Value>> {
    if let Some(o) = objs
        .iter()
        .find(|o| jsonld::types(o).iter().any(|t| ARTICLE_TYPES.contains(t)))
    {
        return Some(o);
    }
    let same = |v: Option<&Value>| -> bool {
        let s = match v {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Object(o)) => match o.get("@id").or_else(|| o.get("url")) {
                Some(Value::String(s)) => s.as_str(),
                _ => return false,
            },
            _ => return false,
        };
        same_page(s, page) || same_page(s, resp_url)
    };
    objs.iter()
        .find(|o| {
            !jsonld::types(o).iter().any(|t| {
                matches!(
                    *t,
                    "WebSite" | "Organization" | "BreadcrumbList" | "WebPage"
                )
            }) && (same(o.get("url")) || same(o.get("@id")) || same(o.get("mainEntityOfPage")))
        })
        .copied()
}

/// Whether `s` names `page`, ignoring query, fragment, scheme and a trailing slash.
fn same_page(s: &str, page: &Url) -> bool {
    let Ok(u) = page.join(s) else { return false };
    u.host_str() == page.host_str()
        && u.path().trim_end_matches('/') == page.path().trim_end_matches('/')
}

fn str_field(o: &Map<String, Value>, k: &str) -> Option<String> {
    match o.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|v| v.as_str().map(str::to_string)),
        Value::Object(o) => o.get("@value").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// JSON-LD `author`: a string, a Person/Organization, or a list of them.
fn jsonld_author(v: &Value) -> Option<Author> {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut names = Vec::new();
    let mut url = None;
    for a in list {
        match a {
            Value::String(s) if !s.trim().is_empty() => {
                if s.starts_with("http://") || s.starts_with("https://") {
                    url.get_or_insert_with(|| s.clone());
                } else {
                    names.push(collapse_ws(s));
                }
            }
            Value::Object(o) => {
                if let Some(n) = str_field(o, "name") {
                    names.push(collapse_ws(&n));
                }
                if let Some(u) = str_field(o, "url").or_else(|| str_field(o, "@id")) {
                    url.get_or_insert(u);
                }
            }
            _ => {}
        }
    }
    if names.is_empty() && url.is_none() {
        return None;
    }
    Some(Author {
        name: (!names.is_empty()).then(|| names.join(", ")),
        url: if names.len() <= 1 { url } else { None },
        ..Default::default()
    })
}

/// JSON-LD `image`: a URL, an ImageObject, or a list of them.
fn jsonld_images(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().flat_map(|x| jsonld_images(Some(x))).collect(),
        Some(Value::Object(o)) => str_field(o, "url")
            .or_else(|| str_field(o, "contentUrl"))
            .into_iter()
            .collect(),
        _ => vec![],
    }
}

/// Trims and collapses whitespace runs to one space.
fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_is_bounded_and_says_what_was_cut() {
        let mut p = Post::new("web", "x", "https://example.org/a");
        p.text = Some("é".repeat(MAX_TEXT)); // twice the bound in bytes
        p.title = Some("t".repeat(MAX_FIELD + 1));
        p.html = Some("<p>para</p>".repeat(MAX_HTML / 10));
        p.extra
            .insert("jsonld".into(), json!(vec!["x".repeat(1000); 1000]));
        p.extra.insert("lang".into(), json!("en"));
        let mut q = Post::new("web", "y", "https://example.org/b");
        q.text = Some("z".repeat(MAX_TEXT + 1));
        p.quote_of = Some(Box::new(q));
        bound_post(&mut p);
        let text = p.text.as_deref().unwrap();
        assert!(text.len() <= MAX_TEXT && text.len() > MAX_TEXT - 2);
        assert!(p.html.as_deref().unwrap().len() <= MAX_HTML);
        assert!(p.html.as_deref().unwrap().ends_with("</p>"));
        assert_eq!(p.title.as_deref().map(str::len), Some(MAX_FIELD));
        assert!(!p.extra.contains_key("jsonld"));
        assert_eq!(p.extra["lang"], "en");
        let l = &p.extra["limits"];
        assert_eq!(l["text_truncated"], true);
        assert_eq!(l["text_bytes"], 2 * MAX_TEXT);
        assert_eq!(l["html_truncated"], true);
        assert_eq!(l["fields_truncated"], json!(["title"]));
        assert_eq!(l["extra_dropped"], json!(["jsonld"]));
        assert_eq!(
            p.quote_of.as_ref().unwrap().extra["limits"]["text_truncated"],
            true
        );
        // A post within every bound is left alone.
        let mut small = Post::new("web", "s", "https://example.org/s");
        small.text = Some("short".into());
        bound_post(&mut small);
        assert!(small.extra.is_empty());
    }

    #[test]
    fn same_site_is_one_host_and_port() {
        let u = |s: &str| Url::parse(s).unwrap();
        for (a, b) in [
            ("https://example.com/a", "https://example.com/b"),
            ("https://example.com/a", "https://www.example.com/b"),
            ("http://Example.com/a", "https://example.com/a"),
            ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/b"),
        ] {
            assert!(same_site(&u(a), &u(b)), "{a} {b}");
        }
        for (a, b) in [
            ("https://example.com/a", "https://example.org/a"),
            ("https://m.example.com/a", "https://example.com/a"),
            ("https://a.github.io/x", "https://b.github.io/x"),
            ("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a"),
            ("http://127.0.0.1:8080/a", "https://127.0.0.1:8080/a"),
            ("https://example.com/a", "https://example.com.evil.net/a"),
        ] {
            assert!(!same_site(&u(a), &u(b)), "{a} {b}");
        }
    }
}
