//! What every platform shares: verdicts ([`gone`]), reading a JSON answer with its
//! endpoint named in every error ([`json_answer`], [`Json`]), one HTML escape and one
//! unescape, and [`str_of`]. One copy each, so a fix reaches every platform.

use super::{Fetched, Finding, Plan, Response, Step};
use crate::model::{Cause, Gone, Outcome, Post};
use serde_json::Value;

/// The post is not there, or not reachable, in the platform's own words.
pub fn gone(outcome: Outcome, cause: Option<Cause>, message: impl Into<String>) -> Finding {
    gone_quietly(outcome, cause, Some(message.into()))
}

/// [`gone`] where the platform may have said nothing.
pub fn gone_quietly(outcome: Outcome, cause: Option<Cause>, message: Option<String>) -> Finding {
    Finding::Gone(Gone {
        outcome,
        cause,
        message,
    })
}

/// The answer did not come (DNS, connect, TLS, timeout, a 5xx): nothing is concluded.
pub fn unreachable(message: impl Into<String>) -> Finding {
    gone(Outcome::Unreachable, None, message)
}

/// A JSON string, or a number written out; `None` for empty strings and anything else.
/// Platforms send ids both ways (`"id": 123` and `"id": "123"`).
pub fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Text made safe for HTML text and double-quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// HTML character references decoded once, in one pass: `&amp;lt;` is `&lt;`, never
/// `<` (decoding twice turns escaped markup into markup). Named references cover what
/// platforms send in text (`amp lt gt quot apos nbsp`); numeric ones are decimal or hex.
/// A no-break space reads as a plain space. Anything else is left as written.
pub fn unescape_html(s: &str) -> String {
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
                "apos" => Some('\''),
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

/// An answer that came, with its JSON when the body is whole JSON. No answer at all is
/// the `Err`: unreachable, `"<endpoint>: <why>"`.
pub fn json_answer<'a>(
    answer: &'a Fetched,
    endpoint: &str,
) -> Result<(&'a Response, Option<Value>), Finding> {
    match answer {
        Fetched::Failed(e) => Err(unreachable(format!("{endpoint}: {e}"))),
        Fetched::Response(r) => {
            let json = if r.truncated {
                None
            } else {
                serde_json::from_slice::<Value>(&r.body).ok()
            };
            Ok((r, json))
        }
    }
}

/// A JSON value read from one endpoint: paths are read with accessors, and a missing
/// one becomes a [`Finding::Broken`] that names the endpoint and the whole path
/// (`data.cards`), so platform code does not index `v["..."]` by hand.
#[derive(Debug, Clone, Copy)]
pub struct Json<'a> {
    endpoint: &'a str,
    value: &'a Value,
}

impl<'a> Json<'a> {
    pub fn new(endpoint: &'a str, value: &'a Value) -> Self {
        Json { endpoint, value }
    }

    pub fn value(&self) -> &'a Value {
        self.value
    }

    /// The value at a dotted path (`data.children.0`; array items by index), if any.
    pub fn at(&self, path: &str) -> Option<&'a Value> {
        if path.is_empty() {
            return Some(self.value);
        }
        path.split('.').try_fold(self.value, |v, key| match v {
            Value::Array(a) => a.get(key.parse::<usize>().ok()?),
            _ => v.get(key),
        })
    }

    /// [`str_of`] of the value at `path`.
    pub fn str(&self, path: &str) -> Option<String> {
        str_of(self.at(path))
    }

    /// The value at `path`, or the finding that says which path is missing where.
    pub fn need(&self, path: &str) -> Result<&'a Value, Finding> {
        self.at(path).ok_or_else(|| self.broken(path))
    }

    /// The value at `path` as a reader of its own, or the finding that says it is missing.
    pub fn need_json(&self, path: &str) -> Result<Json<'a>, Finding> {
        Ok(Json::new(self.endpoint, self.need(path)?))
    }

    /// The answer is not in a shape samizdat knows: `missing` names what was looked for.
    pub fn broken(&self, missing: impl Into<String>) -> Finding {
        broken(self.endpoint, missing)
    }
}

/// A URL a plan built from its target, or the finding that says the target makes none
/// (so a strange target ends the plan instead of a thread).
/// A URL's path segments, empty ones (a doubled or trailing slash) left out: what every
/// reader's `recognise` matches on.
pub fn segments(u: &url::Url) -> Vec<&str> {
    u.path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default()
}

pub fn url(s: &str, endpoint: &str) -> Result<url::Url, Finding> {
    url::Url::parse(s).map_err(|e| broken(endpoint, format!("a URL ({e}: {s:?})")))
}

/// Seconds since the epoch written in Beijing time (`2020-01-30T17:40:55+08:00`), as the
/// Chinese platforms show their times; `None` out of range.
pub fn beijing(secs: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    let z = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// A media URL asked over https: `http://` upgraded, a scheme-relative `//host/…` given
/// one; anything else as written.
pub fn https(u: &str) -> String {
    match u.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None if u.starts_with("//") => format!("https:{u}"),
        None => u.to_string(),
    }
}

/// Plain text as sanitised HTML: escaped, one paragraph, line breaks kept.
pub fn text_html(text: &str, base: &url::Url) -> String {
    let paras = escape_html(text).replace('\n', "<br>");
    crate::extract::sanitize_html(&format!("<p>{paras}</p>"), base)
}

/// Reads where a short link (b23.tv, v.douyin.com) redirected: the URL its hops ended
/// at, or unreachable when it did not move or did not answer. `what` names the link in
/// the messages ("b23.tv short link").
pub struct FollowPlan {
    pub url: url::Url,
    pub what: &'static str,
}

impl Plan for FollowPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Response(r) if r.url != self.url => Finding::Redirected {
                url: r.url.to_string(),
            },
            Fetched::Response(r) => unreachable(format!(
                "{} did not redirect (HTTP {})",
                self.what, r.status
            )),
            Fetched::Failed(e) => unreachable(format!("{}: {e}", self.what)),
        })
    }
}

/// The first step of following a short link: asks it, redirects followed and recorded.
pub fn follow_step(link: &str, what: &'static str) -> Step {
    match url::Url::parse(link) {
        Ok(u) => Step::fetch(
            super::Request::get(u.clone(), what),
            FollowPlan { url: u, what },
        ),
        Err(e) => Step::Done(broken(what, format!("a URL ({e})"))),
    }
}

/// The post an API answer gave: a check ends with it; a capture first asks the page a
/// person sees (`what`, with `referer`), for the archive only: whatever that page
/// answers, the post is what the API said.
pub fn post_then_page(post: Post, job: super::Job, what: &'static str, referer: &str) -> Step {
    if job == super::Job::Check {
        return Step::Done(Finding::Post(Box::new(post)));
    }
    match url::Url::parse(&post.url) {
        Ok(u) => Step::fetch(
            super::Request::get(u, what)
                .header("Referer", referer)
                .page(),
            ArchivePagePlan { post },
        ),
        Err(_) => Step::Done(Finding::Post(Box::new(post))),
    }
}

/// Waits for the page [`post_then_page`] asked for, then gives the post.
struct ArchivePagePlan {
    post: Post,
}

impl Plan for ArchivePagePlan {
    fn next(self: Box<Self>, _answer: Fetched) -> Step {
        Step::Done(Finding::Post(Box::new(self.post)))
    }
}

/// The platform answered, but not in a shape samizdat knows.
pub fn broken(endpoint: &str, missing: impl Into<String>) -> Finding {
    Finding::Broken {
        endpoint: endpoint.to_string(),
        missing: missing.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unescape_decodes_once() {
        assert_eq!(unescape_html("&amp;lt;b&amp;gt;"), "&lt;b&gt;");
        assert_eq!(
            unescape_html("&lt;b&gt; &quot;x&quot; &#39;y&apos;"),
            "<b> \"x\" 'y'"
        );
        assert_eq!(unescape_html("&#x4e2d;&#25991;&nbsp;!"), "中文 !");
        // Unknown or unterminated references stay as written.
        assert_eq!(unescape_html("a & b &copy; &bogus"), "a & b &copy; &bogus");
        assert_eq!(unescape_html("&#xZZ; &#99999999;"), "&#xZZ; &#99999999;");
        assert_eq!(unescape_html("no refs"), "no refs");
    }

    #[test]
    fn escape_then_unescape_is_identity() {
        for s in ["<a href=\"x\">&amp;</a>", "&lt;", "plain", "'\"&<>"] {
            assert_eq!(unescape_html(&escape_html(s)), s);
        }
        assert_eq!(
            escape_html("a<b & \"c\">"),
            "a&lt;b &amp; &quot;c&quot;&gt;"
        );
    }

    #[test]
    fn times_urls_and_text_of_the_chinese_platforms() {
        assert_eq!(
            beijing(1580377255).as_deref(),
            Some("2020-01-30T17:40:55+08:00")
        );
        assert_eq!(beijing(i64::MAX), None);
        assert_eq!(https("http://a.example/x"), "https://a.example/x");
        assert_eq!(https("//a.example/x"), "https://a.example/x");
        assert_eq!(https("https://a.example/x"), "https://a.example/x");
        let base = url::Url::parse("https://a.example/").unwrap();
        let h = text_html("a <b>\nc", &base);
        assert!(h.contains("a &lt;b&gt;<br"), "{h}");
        assert!(!h.contains("<b>"), "{h}");
    }

    #[test]
    fn str_of_reads_strings_and_numbers() {
        assert_eq!(str_of(Some(&json!("a"))), Some("a".into()));
        assert_eq!(str_of(Some(&json!(12))), Some("12".into()));
        assert_eq!(str_of(Some(&json!(""))), None);
        assert_eq!(str_of(Some(&json!(null))), None);
        assert_eq!(str_of(None), None);
    }

    #[test]
    fn json_paths_name_the_endpoint() {
        let v = json!({"data": {"children": [{"kind": "t3", "id": 7}]}});
        let j = Json::new("comments.json", &v);
        assert_eq!(j.at("data.children.0.kind"), Some(&json!("t3")));
        assert_eq!(j.str("data.children.0.id").as_deref(), Some("7"));
        assert!(j.at("data.children.1").is_none());
        assert!(j.at("data.children.x").is_none());
        match j.need("data.after") {
            Err(Finding::Broken { endpoint, missing }) => {
                assert_eq!(
                    (endpoint.as_str(), missing.as_str()),
                    ("comments.json", "data.after")
                )
            }
            other => panic!("{other:?}"),
        }
        let child = j.need_json("data.children.0").unwrap();
        assert_eq!(child.str("kind").as_deref(), Some("t3"));
    }

    #[test]
    fn failed_answers_are_unreachable_and_cut_bodies_are_not_json() {
        match json_answer(&Fetched::Failed("reset".into()), "x") {
            Err(Finding::Gone(g)) => {
                assert_eq!(g.outcome, Outcome::Unreachable);
                assert_eq!(g.message.as_deref(), Some("x: reset"));
            }
            other => panic!("{other:?}"),
        }
        let r = Response {
            url: url::Url::parse("https://a.example/").unwrap(),
            status: 200,
            headers: vec![],
            body: b"{}".to_vec(),
            truncated: true,
        };
        let f = Fetched::Response(r);
        let (_, json) = json_answer(&f, "x").unwrap();
        assert!(json.is_none());
    }
}
