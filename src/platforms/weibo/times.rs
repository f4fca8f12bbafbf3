//! Times (absolute and the relative forms lists give, in Asia/Shanghai) and counts
//! (`"1.2万"`).

use crate::model::Counts;
use serde_json::Value;

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

pub(super) fn counts(m: &Value) -> Option<Counts> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
