//! Page dates to RFC 3339.

use jiff::fmt::temporal::Pieces;

/// An RFC 3339 timestamp for a page's date string, keeping the page's UTC offset:
/// ISO 8601 / RFC 3339 (`2019-05-27T14:09:58-03:00`, `...-0400`, `...Z`) and RFC 2822
/// (`Thu, 20 Jun 2019 12:55:10 GMT`). A date or time without an offset says nothing
/// about the instant, so it gives `None` (the raw string is kept by the caller).
pub fn to_rfc3339(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    if let Ok(p) = Pieces::parse(s)
        && let (Some(time), Some(off)) = (p.time(), p.to_numeric_offset())
    {
        let dt = p.date().to_datetime(time);
        let ts = off.to_timestamp(dt).ok()?;
        return Some(ts.display_with_offset(off).to_string());
    }
    // `2019-05-27 14:09:58+08:00`: a space instead of `T`.
    if s.len() > 10 && s.as_bytes()[10] == b' ' && s.as_bytes()[4] == b'-' {
        let t = format!("{}T{}", &s[..10], &s[11..]);
        if let Some(r) = to_rfc3339(&t) {
            return Some(r);
        }
    }
    if let Ok(z) = jiff::fmt::rfc2822::parse(s) {
        return Some(z.timestamp().display_with_offset(z.offset()).to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            to_rfc3339("2019-05-27T14:09:58-03:00").as_deref(),
            Some("2019-05-27T14:09:58-03:00")
        );
        assert_eq!(
            to_rfc3339("2017-06-10T19:30:00-0400").as_deref(),
            Some("2017-06-10T19:30:00-04:00")
        );
        assert_eq!(
            to_rfc3339("2020-01-02T03:04:05Z").as_deref(),
            Some("2020-01-02T03:04:05+00:00")
        );
        assert_eq!(
            to_rfc3339("Thu, 20 Jun 2019 12:55:10 GMT").as_deref(),
            Some("2019-06-20T12:55:10+00:00")
        );
        assert_eq!(
            to_rfc3339("2019-05-27 14:09:58+08:00").as_deref(),
            Some("2019-05-27T14:09:58+08:00")
        );
        assert_eq!(to_rfc3339("2019-05-27"), None);
        assert_eq!(to_rfc3339("yesterday"), None);
    }
}
