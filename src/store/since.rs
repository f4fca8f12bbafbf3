//! The time bounds of `list --since`, `search --since/--until` and the web UI's `since=`
//! and `until=`: one parser, so the command line and the web accept and refuse the same
//! forms, in the same words.

use crate::clock::Clock;

/// The forms a time bound takes, as the refusal lists them.
pub const FORMS: &str = "an RFC 3339 time (2026-01-02T15:04:05Z), a date (2026-01-02), today, \
     yesterday, or a duration back from now (90s, 10m, 24h, 7d, 2w)";

/// A time bound, as a WARC-Date: an RFC 3339 time; a date (`2026-01-02`, midnight UTC);
/// `today` or `yesterday` (midnight UTC, by `clock`); or a duration back from now (`24h`,
/// `7d`). Anything else is refused in one sentence that starts with `name` (`--since`,
/// `since`) and lists these forms.
pub fn parse(name: &str, v: &str, clock: &Clock) -> Result<String, String> {
    let v = v.trim();
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(crate::store::warc::warc_date(t));
    }
    let midnight = |d: jiff::civil::Date| {
        jiff::tz::Offset::UTC
            .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
            .map(crate::store::warc::warc_date)
            .map_err(|e| format!("{name} {v:?}: {e}"))
    };
    let today = || jiff::tz::Offset::UTC.to_datetime(clock.now()).date();
    match v.to_ascii_lowercase().as_str() {
        "today" => return midnight(today()),
        "yesterday" => {
            let d = today()
                .yesterday()
                .map_err(|e| format!("{name} {v:?}: {e}"))?;
            return midnight(d);
        }
        _ => {}
    }
    if let Ok(d) = v.parse::<jiff::civil::Date>() {
        return midnight(d);
    }
    let d = crate::config::parse_duration(v)
        .map_err(|_| format!("{name} {v:?} is not a time: give {FORMS}"))?;
    let t = jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| clock.now().checked_sub(d).ok())
        .ok_or_else(|| format!("{name} {v:?}: too far back"))?;
    Ok(crate::store::warc::warc_date(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_dates_days_and_durations() {
        let clock = Clock::parse("2026-03-10T15:30:00Z").unwrap();
        let at = |v: &str| parse("since", v, &clock);
        assert_eq!(
            at("2026-03-01T12:00:00Z").unwrap(),
            "2026-03-01T12:00:00.000000Z"
        );
        assert_eq!(at("2026-03-01").unwrap(), "2026-03-01T00:00:00.000000Z");
        assert_eq!(at(" today ").unwrap(), "2026-03-10T00:00:00.000000Z");
        assert_eq!(at("Yesterday").unwrap(), "2026-03-09T00:00:00.000000Z");
        assert_eq!(at("3d").unwrap(), "2026-03-07T15:30:00.000000Z");
        for bad in ["last week", "soon", "2026-13-01", "7 parsecs", ""] {
            let e = at(bad).unwrap_err();
            assert!(e.starts_with(&format!("since {bad:?}")), "{e}");
            assert!(
                e.contains("RFC 3339") || e.contains("too far"),
                "{bad}: {e}"
            );
        }
    }
}
