//! HTML helpers shared by every extractor: sanitising, HTML to text, and walking a
//! parsed tree into readable text or cleaned markup.

use scraper::{ElementRef, Html, Node};
use std::borrow::Cow;
use url::Url;

/// Cleans HTML for storage and display: no script/style/iframe/object, no `on*`
/// attributes, only safe URL schemes (`data:` only for `<img src>`), relative URLs made
/// absolute against `base`, and `rel="noopener noreferrer nofollow"` on links.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    let mut b = ammonia::Builder::default();
    b.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_url_schemes(["data"])
        .add_tags([
            "figure",
            "figcaption",
            "picture",
            "time",
            "mark",
            "section",
            "article",
        ])
        .add_tag_attributes("img", ["srcset", "loading"])
        .add_tag_attributes("time", ["datetime"])
        .add_clean_content_tags([
            "iframe", "noscript", "template", "object", "embed", "svg", "math", "select",
            "textarea", "button",
        ])
        .rm_tags(
            [
                "iframe", "noscript", "template", "object", "embed", "svg", "math", "select",
                "textarea", "button",
            ]
            .to_vec(),
        )
        .attribute_filter(|element, attribute, value| {
            let is_data = value
                .trim_start()
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("data:"));
            if is_data && !(element == "img" && attribute == "src") {
                return None;
            }
            if element == "img" && attribute == "srcset" {
                // srcset is not checked by ammonia's URL rules: keep only http(s) entries.
                let ok = value.split(',').all(|part| {
                    let u = part.split_whitespace().next().unwrap_or("");
                    u.starts_with("https://")
                        || u.starts_with("http://")
                        || u.starts_with('/')
                        || !u.contains(':')
                });
                return ok.then_some(Cow::Borrowed(value));
            }
            Some(Cow::Borrowed(value))
        });
    b.clean(html).to_string()
}

/// Plain text of an HTML fragment: block elements and `<br>` become line breaks
/// (paragraph-like blocks a blank line), runs of whitespace collapse to one space,
/// entities are decoded; script, style and similar contents are dropped.
pub fn html_to_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    let mut sink = TextSink::default();
    walk_text(doc.root_element(), &mut sink, &|_| false);
    sink.finish()
}

/// Elements whose content is never text a reader sees.
pub(crate) fn is_invisible(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "math"
            | "select"
            | "textarea"
            | "button"
            | "input"
            | "canvas"
            | "audio"
            | "video"
            | "map"
            | "datalist"
    )
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Brk {
    Line,
    Para,
}

fn block_kind(name: &str) -> Option<Brk> {
    match name {
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "ul" | "ol"
        | "dl" | "table" | "figure" | "hr" | "section" | "article" | "header" | "footer"
        | "main" | "aside" | "nav" | "form" | "fieldset" | "address" | "details" | "body" => {
            Some(Brk::Para)
        }
        "div" | "li" | "dt" | "dd" | "tr" | "figcaption" | "summary" | "caption" | "option"
        | "center" | "legend" | "picture" => Some(Brk::Line),
        _ => None,
    }
}

/// Accumulates text with whitespace collapsing and pending line/paragraph breaks.
#[derive(Default)]
pub(crate) struct TextSink {
    out: String,
    pending: Option<Brk>,
    space: bool,
    pre: usize,
}

impl TextSink {
    fn brk(&mut self, b: Brk) {
        self.space = false;
        self.pending = Some(self.pending.map_or(b, |p| p.max(b)));
    }
    fn br(&mut self) {
        self.space = false;
        self.pending = Some(match self.pending {
            None => Brk::Line,
            Some(_) => Brk::Para,
        });
        if self.out.is_empty() {
            self.pending = None;
        }
    }
    fn flush_pending(&mut self) {
        if let Some(b) = self.pending.take()
            && !self.out.is_empty()
        {
            self.out
                .push_str(if b == Brk::Para { "\n\n" } else { "\n" });
        }
    }
    fn text(&mut self, s: &str) {
        if self.pre > 0 {
            if !s.is_empty() {
                self.flush_pending();
                if self.space {
                    self.out.push(' ');
                    self.space = false;
                }
                self.out.push_str(s);
            }
            return;
        }
        // Run by run rather than char by char: a whitespace run sets `space` (its chars
        // all see the same state), a word is copied whole after the space or break before it.
        let blank = |c: char| c.is_whitespace() || c == '\u{200b}';
        let mut rest = s;
        while !rest.is_empty() {
            let word_at = rest.find(|c: char| !blank(c)).unwrap_or(rest.len());
            if word_at > 0 {
                if !self.out.is_empty() && self.pending.is_none() {
                    self.space = true;
                }
                rest = &rest[word_at..];
                if rest.is_empty() {
                    break;
                }
            }
            let word_end = rest.find(blank).unwrap_or(rest.len());
            if self.pending.is_some() {
                self.flush_pending();
            } else if self.space {
                self.out.push(' ');
            }
            self.space = false;
            self.out.push_str(&rest[..word_end]);
            rest = &rest[word_end..];
        }
    }
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }
    /// What was written from byte `from` on.
    pub(crate) fn since(&self, from: usize) -> &str {
        self.out.get(from..).unwrap_or("")
    }
    pub(crate) fn finish(self) -> String {
        let mut s = self.out;
        s.truncate(s.trim_end().len());
        s
    }
}

/// Walks `node` emitting text into `sink`; elements for which `skip` returns true are
/// left out with their content. Iterative, so deep trees cannot overflow the stack.
pub(crate) fn walk_text(
    root: ElementRef<'_>,
    sink: &mut TextSink,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
) {
    walk_text_marked(root, sink, skip, &mut |_, _, _| {})
}

/// [`walk_text`], telling `mark` the sink's length as each element that is walked is
/// entered (`true`) and left (`false`): what one walk over a page needs to know every
/// element's share of the text.
pub(crate) fn walk_text_marked(
    root: ElementRef<'_>,
    sink: &mut TextSink,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
    mark: &mut dyn FnMut(ElementRef<'_>, bool, &TextSink),
) {
    // (node, entering)
    let mut stack = vec![(*root, true)];
    while let Some((n, entering)) = stack.pop() {
        match n.value() {
            Node::Text(t) if entering => sink.text(t),
            Node::Element(e) => {
                let name = e.name();
                if entering {
                    if is_invisible(name) || ElementRef::wrap(n).is_some_and(skip) {
                        continue;
                    }
                    if name == "br" {
                        sink.br();
                        continue;
                    }
                    if let Some(el) = ElementRef::wrap(n) {
                        mark(el, true, sink);
                    }
                    if let Some(b) = block_kind(name) {
                        sink.brk(b);
                    }
                    if name == "pre" {
                        sink.pre += 1;
                    }
                    if matches!(name, "td" | "th") {
                        sink.text(" ");
                    }
                    stack.push((n, false));
                    let start = stack.len();
                    stack.extend(n.children().map(|c| (c, true)));
                    stack[start..].reverse();
                } else {
                    if name == "pre" {
                        sink.pre -= 1;
                    }
                    if let Some(b) = block_kind(name) {
                        sink.brk(b);
                    }
                    if let Some(el) = ElementRef::wrap(n) {
                        mark(el, false, sink);
                    }
                }
            }
            _ => {}
        }
    }
}

/// What a page given to the parser is, once bounded by [`bound_markup`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bounded<'a> {
    pub html: std::borrow::Cow<'a, str>,
    /// What was left out, in words (empty if nothing was).
    pub notes: Vec<String>,
}

/// Elements whose end tag may be left out, closed by the next sibling of their kind.
fn closes_sibling(open: &str, new: &str) -> bool {
    match new {
        "li" => open == "li",
        "dt" | "dd" => matches!(open, "dt" | "dd"),
        "td" | "th" => matches!(open, "td" | "th"),
        "tr" => matches!(open, "tr" | "td" | "th"),
        "option" | "optgroup" => open == "option",
        "p" => open == "p",
        _ => false,
    }
}

/// Bounds the markup given to the parser, measuring tag nesting the way the HTML
/// tokenizer sees tags (comments, raw-text elements and quoted attribute values skipped;
/// void elements and elements closed by a sibling counted as html5ever counts them,
/// other misnesting over-counted, never under-counted). Tags nested deeper than
/// `max_depth` are left out with their end tags (their text stays), and the page is cut
/// before the tag that takes the count of elements and attributes past `max_elements`
/// (a tag of 100,000 distinct attributes costs what 100,000 elements do), or before a
/// tag of more than [`MAX_TAG_ATTRIBUTES`]. html5ever's work grows with the square of
/// the nesting depth (100,000 nested `<div>` took 40 s) and of the attributes of one tag
/// (it looks for duplicates one by one), its tree with the count of elements and
/// attributes: this bounds all three, in one linear pass whose memory is bounded by
/// `max_depth` (and the copy of the page, when tags are left out).
pub const MAX_TAG_ATTRIBUTES: usize = 256;

pub fn bound_markup(html: &str, max_depth: usize, max_elements: usize) -> Bounded<'_> {
    let b = html.as_bytes();
    let find = |from: usize, pat: &[u8]| -> Option<usize> {
        b.get(from..)?
            .windows(pat.len())
            .position(|w| w.eq_ignore_ascii_case(pat))
            .map(|p| from + p)
    };
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0usize;
    let mut attributes = 0usize;
    let mut i = 0usize;
    // Tags left out: the kept copy, how far the page is copied into it, how many deep
    // elements are open (their end tags are left out too) and were left out in all.
    let mut kept = String::new();
    let mut copied = 0usize;
    let mut excess = 0usize;
    let mut dropped = 0usize;
    let mut end = b.len();
    let mut notes = vec![];
    while let Some(p) = b.get(i..).and_then(|r| r.iter().position(|&c| c == b'<')) {
        let lt = i + p;
        i = lt + 1;
        if b[i..].starts_with(b"!--") {
            i = find(i + 3, b"-->").map_or(b.len(), |e| e + 3);
            continue;
        }
        if b[i..].starts_with(b"![CDATA[") {
            i = find(i, b"]]>").map_or(b.len(), |e| e + 3);
            continue;
        }
        if matches!(b.get(i), Some(b'!' | b'?')) {
            i = find(i, b">").map_or(b.len(), |e| e + 1);
            continue;
        }
        let closing = b.get(i) == Some(&b'/');
        let name_at = i + usize::from(closing);
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let mut j = name_at;
        while j < b.len() && !matches!(b[j], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>') {
            j += 1;
        }
        let name = String::from_utf8_lossy(&b[name_at..j]).to_ascii_lowercase();
        // The rest of the tag: attributes, quoted values skipped whole.
        let mut k = j;
        let mut tag_attributes = 0usize;
        // Whether the next other byte starts an attribute name (after whitespace, `/` or a
        // quoted value; a quote inside a name is part of the name).
        let mut boundary = false;
        loop {
            match b.get(k) {
                None => break,
                Some(b'>') => {
                    k += 1;
                    break;
                }
                Some(b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/') => {
                    boundary = true;
                    k += 1;
                }
                Some(b'=') => {
                    k += 1;
                    boundary = false;
                    while b.get(k).is_some_and(u8::is_ascii_whitespace) {
                        k += 1;
                    }
                    if let Some(&q) = b.get(k).filter(|&&q| q == b'"' || q == b'\'') {
                        k = b[k + 1..]
                            .iter()
                            .position(|&c| c == q)
                            .map_or(b.len(), |e| k + 1 + e + 1);
                        boundary = true;
                    }
                }
                Some(_) => {
                    if boundary {
                        tag_attributes += 1;
                        boundary = false;
                    }
                    k += 1;
                }
            }
        }
        i = k;
        attributes = attributes.saturating_add(tag_attributes);
        if tag_attributes > MAX_TAG_ATTRIBUTES {
            end = lt;
            notes.push(format!(
                "read up to byte {lt} of {}: a tag of more than {MAX_TAG_ATTRIBUTES} attributes",
                b.len()
            ));
            break;
        }
        let drop_tag = |kept: &mut String, copied: &mut usize| {
            kept.push_str(&html[*copied..lt]);
            *copied = k;
        };
        if closing && excess > 0 {
            excess -= 1;
            drop_tag(&mut kept, &mut copied);
            continue;
        }
        if closing {
            // Pops to the nearest open element of that name among the innermost few;
            // a stray end tag is ignored (the tokenizer mostly does the same).
            let top = stack.len().saturating_sub(32);
            if let Some(at) = stack[top..].iter().rposition(|n| *n == name) {
                stack.truncate(top + at);
            }
            continue;
        }
        elements += 1;
        if elements.saturating_add(attributes) > max_elements {
            end = lt;
            notes.push(format!(
                "read up to byte {lt} of {}: more than {max_elements} elements and attributes",
                b.len()
            ));
            break;
        }
        if name == "plaintext" {
            break;
        }
        if VOID.contains(&name.as_str()) || matches!(name.as_str(), "param" | "keygen" | "command")
        {
            continue;
        }
        if stack.last().is_some_and(|open| closes_sibling(open, &name)) {
            stack.pop();
        }
        if matches!(
            name.as_str(),
            "script" | "style" | "textarea" | "title" | "xmp" | "iframe" | "noembed" | "noframes"
        ) {
            // Raw text up to the matching end tag.
            let end = format!("</{name}");
            i = find(i, end.as_bytes()).unwrap_or(b.len());
            continue;
        }
        if stack.len() >= max_depth {
            excess += 1;
            dropped += 1;
            drop_tag(&mut kept, &mut copied);
            continue;
        }
        stack.push(name);
    }
    if dropped > 0 {
        notes.insert(
            0,
            format!("{dropped} elements over the nesting depth bound of {max_depth} left out (their text kept)"),
        );
    }
    if copied == 0 && end == b.len() {
        return Bounded {
            html: std::borrow::Cow::Borrowed(html),
            notes,
        };
    }
    if copied < end {
        kept.push_str(&html[copied..end]);
    }
    Bounded {
        html: std::borrow::Cow::Owned(kept),
        notes,
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Serialises `node` back to HTML, leaving out elements for which `skip` returns true
/// and invisible ones. The result still goes through [`sanitize_html`].
pub(crate) fn serialize_filtered(
    root: ElementRef<'_>,
    skip: &dyn Fn(ElementRef<'_>) -> bool,
    limit: usize,
) -> String {
    let mut out = String::new();
    let mut stack = vec![(*root, true)];
    while let Some((n, entering)) = stack.pop() {
        if out.len() > limit {
            break;
        }
        match n.value() {
            Node::Text(t) if entering => escape_into(&mut out, t, false),
            Node::Element(e) => {
                let name = e.name();
                if entering {
                    if (is_invisible(name) && name != "input")
                        || ElementRef::wrap(n).is_some_and(skip)
                    {
                        continue;
                    }
                    out.push('<');
                    out.push_str(name);
                    // Lazy-loaded images keep the real address in data-src.
                    let lazy = (name == "img")
                        .then(|| {
                            [
                                "data-src",
                                "data-original",
                                "data-lazy-src",
                                "data-actualsrc",
                            ]
                            .iter()
                            .find_map(|k| e.attr(k).filter(|v| !v.trim().is_empty()))
                        })
                        .flatten();
                    for (k, v) in e.attrs() {
                        let v = if k == "src" { lazy.unwrap_or(v) } else { v };
                        out.push(' ');
                        out.push_str(k);
                        out.push_str("=\"");
                        escape_into(&mut out, v, true);
                        out.push('"');
                    }
                    out.push('>');
                    if VOID.contains(&name) {
                        continue;
                    }
                    stack.push((n, false));
                    let start = stack.len();
                    stack.extend(n.children().map(|c| (c, true)));
                    stack[start..].reverse();
                } else {
                    out.push_str("</");
                    out.push_str(name);
                    out.push('>');
                }
            }
            _ => {}
        }
    }
    out
}

fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_bounded_as_the_tokenizer_sees_tags() {
        let deep = format!("<body>{}x{}", "<div>".repeat(600), "</div>".repeat(600));
        let b = bound_markup(&deep, 512, 100_000);
        let kept = format!("<body>{}x{}", "<div>".repeat(511), "</div>".repeat(511));
        assert_eq!(b.html, kept);
        assert!(
            b.notes[0].contains("89 elements over the nesting depth bound of 512"),
            "{:?}",
            b.notes
        );
        // Closed elements, void elements, siblings closing each other, comments, raw
        // text and quoted attribute values do not nest.
        let flat = format!(
            "<body>{}{}{}<!-- {} --><script>{}</script><p title='<div><div>'>{}",
            "<div></div>".repeat(2000),
            "<br><img src=x>".repeat(2000),
            "<li>a".repeat(2000),
            "<div>".repeat(2000),
            "<div>".repeat(2000),
            "<p>para".repeat(2000),
        );
        let b = bound_markup(&flat, 512, 100_000);
        assert!(
            b.notes.is_empty() && matches!(b.html, Cow::Borrowed(_)),
            "{:?}",
            b.notes
        );
        let many = "<p>x</p>".repeat(1000);
        let b = bound_markup(&many, 512, 999);
        assert_eq!(b.html.len(), 999 * 8);
        assert!(
            b.notes[0].contains("more than 999 elements"),
            "{:?}",
            b.notes
        );
        // Attributes count like elements (quoted, unquoted and bare ones).
        let tag = "<p a=\"1\"b='2' c=3 d>x</p>";
        let page = tag.repeat(300);
        let b = bound_markup(&page, 512, 1000);
        assert_eq!(b.html.len(), 200 * tag.len());
        // One tag of too many attributes ends what is read.
        let wide = format!("<p>x</p><p{}>y</p>", " a".repeat(MAX_TAG_ATTRIBUTES + 1));
        let b = bound_markup(&wide, 512, 100_000);
        assert_eq!(b.html, "<p>x</p>");
        assert!(b.notes[0].contains("attributes"), "{:?}", b.notes);
        // A quote in an attribute name does not hide the tags after it.
        let sneaky = format!("<div a'=1>{}", "<b>".repeat(600));
        assert!(!bound_markup(&sneaky, 512, 100_000).notes.is_empty());
    }

    #[test]
    fn text_blocks_and_breaks() {
        let t = html_to_text(
            "<p>One  &amp;\n two</p><p>three<br>four</p><ul><li>a</li><li>b</li></ul><script>x()</script>",
        );
        assert_eq!(t, "One & two\n\nthree\nfour\n\na\nb");
    }

    #[test]
    fn inline_elements_keep_spacing() {
        assert_eq!(html_to_text("a <b>bold</b> word<i>s</i>"), "a bold words");
        assert_eq!(html_to_text("<div>x</div><div>y</div>"), "x\ny");
    }

    #[test]
    fn sanitize_basics() {
        let base = Url::parse("https://example.org/a/b.html").unwrap();
        let s = sanitize_html(
            r#"<p onclick="x()">hi <a href="/c">c</a> <a href="javascript:alert(1)">j</a>
               <img src="i.png" onerror="alert(1)"><img src="data:image/png;base64,AAAA">
               <a href="data:text/html,hi">d</a></p><script>alert(1)</script><iframe src="https://e.vil"></iframe>"#,
            &base,
        );
        assert!(!s.contains("script") && !s.contains("alert"), "{s}");
        assert!(!s.contains("onclick") && !s.contains("onerror"), "{s}");
        assert!(!s.contains("iframe") && !s.contains("e.vil"), "{s}");
        assert!(s.contains(r#"href="https://example.org/c""#), "{s}");
        assert!(s.contains(r#"src="https://example.org/a/i.png""#), "{s}");
        assert!(s.contains("data:image/png;base64,AAAA"), "{s}");
        assert!(!s.contains("data:text/html"), "{s}");
        assert!(s.contains(r#"rel="noopener noreferrer nofollow""#), "{s}");
    }
}
