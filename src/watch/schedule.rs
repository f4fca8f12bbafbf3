//! The clock and the decaying schedule (pure: no I/O).

use crate::config::Watch as WatchConfig;
use std::time::Duration;

/// "Now", or `SAMIZDAT_NOW` when set.
pub fn now() -> jiff::Timestamp {
    fixed_now().unwrap_or_else(jiff::Timestamp::now)
}

pub(crate) fn fixed_now() -> Option<jiff::Timestamp> {
    std::env::var("SAMIZDAT_NOW")
        .ok()
        .and_then(|v| v.parse().ok())
}

pub(crate) fn ts(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

pub(crate) fn add(t: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
    t.checked_add(jiff::SignedDuration::try_from(d).unwrap_or_default())
        .unwrap_or(t)
}

/// The decaying schedule: the first offset from `first_seen` that lies after `at`
/// (`[watch] schedule`, then daily until `daily_until`, then every `then_every`).
pub fn next_check(
    cfg: &WatchConfig,
    first_seen: jiff::Timestamp,
    at: jiff::Timestamp,
    every: Option<Duration>,
) -> jiff::Timestamp {
    let next = if let Some(e) = every.filter(|e| !e.is_zero()) {
        add(at, e)
    } else {
        let mut found = None;
        for s in &cfg.schedule {
            let t = add(first_seen, WatchConfig::dur(s));
            if t > at {
                found = Some(t);
                break;
            }
        }
        found.unwrap_or_else(|| {
            let age = at.duration_since(first_seen);
            let daily_until = WatchConfig::dur(&cfg.daily_until);
            let step = if age < jiff::SignedDuration::try_from(daily_until).unwrap_or_default() {
                Duration::from_secs(86400)
            } else {
                WatchConfig::dur(&cfg.then_every)
            };
            add(at, step)
        })
    };
    jitter(cfg, at, next)
}

pub(crate) fn jitter(
    cfg: &WatchConfig,
    at: jiff::Timestamp,
    next: jiff::Timestamp,
) -> jiff::Timestamp {
    if fixed_now().is_some() || cfg.jitter <= 0.0 {
        return next;
    }
    let span = next.duration_since(at).as_secs_f64().max(0.0);
    let rnd = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_i64(at.as_nanosecond() as i64);
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    };
    let r: f64 = rnd * cfg.jitter * span;
    add(next, Duration::from_secs_f64(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_decays_from_first_seen() {
        let cfg = WatchConfig {
            jitter: 0.0,
            ..WatchConfig::default()
        };
        let f: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
        assert_eq!(next_check(&cfg, f, f, None), at("2026-01-01T00:05:00Z"));
        assert_eq!(
            next_check(&cfg, f, at("2026-01-01T00:05:00Z"), None),
            at("2026-01-01T00:15:00Z")
        );
        assert_eq!(
            next_check(&cfg, f, at("2026-01-01T02:00:00Z"), None),
            at("2026-01-01T03:00:00Z")
        );
        assert_eq!(
            next_check(&cfg, f, at("2026-01-03T00:00:00Z"), None),
            at("2026-01-04T00:00:00Z")
        );
        assert_eq!(
            next_check(&cfg, f, at("2026-03-01T00:00:00Z"), None),
            at("2026-03-08T00:00:00Z")
        );
        assert_eq!(
            next_check(&cfg, f, f, Some(Duration::from_secs(60))),
            at("2026-01-01T00:01:00Z")
        );
    }
}
