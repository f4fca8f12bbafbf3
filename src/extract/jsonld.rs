//! Lenient JSON-LD reading: real pages wrap their JSON-LD in CDATA or HTML comments, add
//! JavaScript comments, raw control characters inside strings, trailing junk or missing
//! closing braces. Keep whatever parses; never panic.

use serde_json::Value;

/// Parses one `<script type="application/ld+json">` body. Returns the values found
/// (a top-level array is flattened) and whether anything had to be repaired or dropped.
pub fn parse_lenient(src: &str) -> (Vec<Value>, bool) {
    let s = strip_wrappers(src);
    if s.is_empty() {
        return (vec![], false);
    }
    if let Ok(v) = serde_json::from_str::<Value>(s) {
        return (flatten(v), false);
    }
    let cleaned = clean(s);
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(&cleaned).into_iter::<Value>();
    loop {
        match stream.next() {
            Some(Ok(v)) => out.extend(flatten(v)),
            Some(Err(e)) => {
                if out.is_empty() && e.is_eof() {
                    // Unclosed braces: close them and try once more.
                    if let Ok(v) = serde_json::from_str::<Value>(&close_open(&cleaned)) {
                        out.extend(flatten(v));
                    }
                }
                break;
            }
            None => break,
        }
    }
    (out, true)
}

fn flatten(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.into_iter().filter(|x| x.is_object()).collect(),
        Value::Object(_) => vec![v],
        _ => vec![],
    }
}

fn strip_wrappers(s: &str) -> &str {
    let mut s = s.trim();
    loop {
        let before = s.len();
        for p in ["<!--", "<![CDATA[", "//<![CDATA[", "/*<![CDATA[*/"] {
            if let Some(r) = s.strip_prefix(p) {
                s = r.trim_start();
            }
        }
        for p in ["-->", "]]>", "//]]>", "/*]]>*/"] {
            if let Some(r) = s.strip_suffix(p) {
                s = r.trim_end();
            }
        }
        if s.ends_with(';') {
            s = s[..s.len() - 1].trim_end();
        }
        if s.len() == before {
            return s;
        }
    }
}

/// Removes JS comments outside strings and escapes raw control characters inside
/// strings. One linear pass.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => match chars.next() {
                    // A backslash before a raw control character: escape the character.
                    Some(n) if (n as u32) < 0x20 => out.push_str(control_escape(n)),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => {}
                },
                '"' => {
                    in_str = false;
                    out.push(c);
                }
                c if (c as u32) < 0x20 => out.push_str(control_escape(c)),
                _ => out.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
                out.push(' ');
            }
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn control_escape(c: char) -> &'static str {
    match c {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        _ => " ",
    }
}

/// Appends the closers of any brackets left open (outside strings).
fn close_open(s: &str) -> String {
    let mut stack = Vec::new();
    let mut in_str = false;
    let mut esc = false;
    for c in s.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut out = s.trim_end().trim_end_matches(',').to_string();
    if in_str {
        out.push('"');
    }
    while let Some(c) = stack.pop() {
        out.push(c);
    }
    out
}

/// Every object of the parsed values, with `@graph` members expanded (one level).
pub fn objects(values: &[Value]) -> Vec<&serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    for v in values {
        if let Some(o) = v.as_object() {
            out.push(o);
            if let Some(Value::Array(g)) = o.get("@graph") {
                out.extend(g.iter().filter_map(Value::as_object));
            } else if let Some(Value::Object(g)) = o.get("@graph") {
                out.push(g);
            }
        }
    }
    out
}

/// The `@type` values of an object.
pub fn types(o: &serde_json::Map<String, Value>) -> Vec<&str> {
    match o.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_array_is_flattened() {
        let (v, repaired) = parse_lenient(r#"[{"@type":"A"},{"@type":"B"}]"#);
        assert_eq!(v.len(), 2);
        assert!(!repaired);
    }

    #[test]
    fn cdata_comments_controls_and_junk() {
        let src = "//<![CDATA[\n{\"@type\": \"NewsArticle\", // a comment\n \"headline\": \"line1\nline2\", /* more */ \"x\": 1}}\n//]]>";
        let (v, repaired) = parse_lenient(src);
        assert!(repaired);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0]["headline"], "line1\nline2");
        assert_eq!(v[0]["x"], 1);
    }

    #[test]
    fn unclosed_and_garbage() {
        let (v, _) = parse_lenient(r#"{"@type":"Article","headline":"H","author":{"name":"N""#);
        assert_eq!(v[0]["author"]["name"], "N");
        let (v, _) = parse_lenient("not json at all {");
        assert!(v.is_empty());
        let (v, _) = parse_lenient("");
        assert!(v.is_empty());
    }

    #[test]
    fn url_with_double_slash_is_not_a_comment() {
        let (v, _) = parse_lenient("{\"url\": \"https://a.b/c\", \"t\": \"x\ty\"}");
        assert_eq!(v[0]["url"], "https://a.b/c");
    }
}
