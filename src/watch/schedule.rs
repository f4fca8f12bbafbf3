//! The decaying schedule (pure: no I/O, no clock: every function is given "now").

use crate::config::Watch as WatchConfig;
use crate::store::index::WatchRow;
use std::time::Duration;

pub(crate) fn ts(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

/// `t + d`, saturating at the end of time (a duration too long for the calendar means
/// "not again", never "now"; config durations are capped well below that).
pub(crate) fn add(t: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(jiff::Timestamp::MAX)
}

/// A per-entry interval (`--every`) as stored in a watch record: `None` (the decaying
/// schedule) when absent or unreadable. The command line refuses bad values before
/// they are written, so an unreadable one means a damaged or foreign record.
pub(crate) fn every(v: Option<&str>) -> Option<Duration> {
    let v = v?;
    match crate::config::parse_duration(v) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!("watch record interval {e}: using the schedule");
            None
        }
    }
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
            let t = add(first_seen, *s);
            if t > at {
                found = Some(t);
                break;
            }
        }
        found.unwrap_or_else(|| {
            let age = at.duration_since(first_seen);
            let daily_until = jiff::SignedDuration::try_from(cfg.daily_until)
                .unwrap_or(jiff::SignedDuration::MAX);
            let step = if age < daily_until {
                Duration::from_secs(86400)
            } else {
                cfg.then_every
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
    // A watcher on a fixed clock sets `jitter` to 0 (see `Watcher::with_clock`).
    if cfg.jitter <= 0.0 {
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

/// Priority of due work, lower first: account polls (new posts are what censors reach
/// first), then posts younger than 24 hours (most deletions come in their first day),
/// then the rest.
pub fn priority(row: &WatchRow, now: jiff::Timestamp) -> u8 {
    if row.kind == "account" {
        return 0;
    }
    let young = row
        .first_captured
        .as_deref()
        .and_then(ts)
        .is_some_and(|f| now.duration_since(f) < jiff::SignedDuration::from_hours(24));
    if young { 1 } else { 2 }
}

/// Until when a host that failed `failures` times in a row, last at `last_failure`, is
/// left alone: `backoff` doubled per failure after the first, at most `backoff_max`.
pub fn backoff_until(
    cfg: &WatchConfig,
    failures: u32,
    last_failure: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    if failures == 0 {
        return None;
    }
    let (base, max) = (cfg.backoff, cfg.backoff_max);
    let d = base
        .checked_mul(1u32 << (failures - 1).min(20))
        .unwrap_or(max)
        .min(max);
    Some(add(last_failure, d))
}

/// One batch of due work, and what was left for later and why.
#[derive(Debug, Default)]
pub struct Batch {
    /// In the order they should start, each with the host its first request goes to.
    pub take: Vec<(WatchRow, String)>,
    /// Due, but their host is backing off after failures.
    pub backing_off: usize,
    /// Due, but their host had its budget for this batch.
    pub over_host_budget: usize,
    /// Due, but the batch was full.
    pub over_batch: usize,
}

/// Chooses what runs now from the due entries (each with the host its first request
/// goes to). Order: [`priority`] classes; inside a class, round robin over sources (an
/// account and the posts found through it are one source; posts added by hand are one
/// source per host), each source oldest due first, so one busy account cannot starve
/// the rest. Hosts in `backing_off` are skipped; each host gets at most `host_budget`
/// items (0 = no limit); at most `batch` items in all.
pub fn plan_batch(
    due: Vec<(WatchRow, String)>,
    now: jiff::Timestamp,
    batch: usize,
    host_budget: usize,
    backing_off: &std::collections::HashSet<String>,
) -> Batch {
    use std::collections::{BTreeMap, HashMap, VecDeque};
    // (priority, source) -> rows, oldest due first.
    let mut sources: BTreeMap<(u8, String), VecDeque<(WatchRow, String)>> = BTreeMap::new();
    for (row, host) in due {
        let source = if row.kind == "account" {
            row.url.clone()
        } else {
            row.via.clone().unwrap_or_else(|| format!("host:{host}"))
        };
        sources
            .entry((priority(&row, now), source))
            .or_default()
            .push_back((row, host));
    }
    for q in sources.values_mut() {
        q.make_contiguous()
            .sort_by(|a, b| a.0.next_due.cmp(&b.0.next_due).then(a.0.url.cmp(&b.0.url)));
    }
    let mut ordered = Vec::with_capacity(sources.values().map(VecDeque::len).sum());
    let mut by_class: [Vec<VecDeque<(WatchRow, String)>>; 3] = Default::default();
    for ((class, _), q) in sources {
        by_class[usize::from(class.min(2))].push(q);
    }
    for mut queues in by_class {
        // The source waiting longest starts each round.
        queues.sort_by(|a, b| a[0].0.next_due.cmp(&b[0].0.next_due));
        while !queues.is_empty() {
            queues.retain_mut(|q| match q.pop_front() {
                Some(item) => {
                    ordered.push(item);
                    true
                }
                None => false,
            });
        }
    }
    let mut out = Batch::default();
    let mut per_host: HashMap<String, usize> = HashMap::new();
    for (row, host) in ordered {
        if backing_off.contains(&host) {
            out.backing_off += 1;
            continue;
        }
        let n = per_host.entry(host.clone()).or_default();
        if host_budget > 0 && *n >= host_budget {
            out.over_host_budget += 1;
            continue;
        }
        if out.take.len() >= batch {
            out.over_batch += 1;
            continue;
        }
        *n += 1;
        out.take.push((row, host));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A duration past the calendar means "not again", never "now" (it used to add 0).
    #[test]
    fn adding_saturates_instead_of_falling_back_to_now() {
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            add(t, Duration::from_secs(60)).as_second(),
            t.as_second() + 60
        );
        assert_eq!(add(t, Duration::MAX), jiff::Timestamp::MAX);
        assert_eq!(
            add(t, Duration::from_secs(u64::MAX / 4)),
            jiff::Timestamp::MAX
        );
    }

    /// An entry's stored interval is read as written; an unreadable one (a damaged or
    /// foreign record) falls back to the schedule, not to zero.
    #[test]
    fn a_stored_interval_is_read_or_ignored() {
        assert_eq!(every(Some("30m")), Some(Duration::from_secs(1800)));
        assert_eq!(every(Some("soon")), None);
        assert_eq!(every(None), None);
    }

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

    fn row(url: &str, kind: &str, via: Option<&str>, due: &str, first: &str) -> WatchRow {
        WatchRow {
            url: url.into(),
            kind: kind.into(),
            every: None,
            backfill: None,
            post_id: None,
            via: via.map(str::to_string),
            added_at: first.into(),
            next_due: due.into(),
            last_polled: None,
            last_error: None,
            state: None,
            first_captured: Some(first.into()),
            post_url: None,
            newest: None,
            origin: "cli".into(),
        }
    }

    #[test]
    fn a_batch_puts_accounts_then_young_posts_first_and_shares_between_sources() {
        let now: jiff::Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        let old = "2026-01-01T00:00:00Z";
        let young = "2026-01-09T12:00:00Z";
        let mut due = vec![];
        // A busy account: 50 young posts due since long ago.
        for i in 0..50 {
            let u = format!("https://h/busy/{i:02}");
            due.push((
                row(&u, "post", Some("acct:busy"), "2026-01-09T12:05:00Z", young),
                "h".to_string(),
            ));
        }
        // A quiet account: one young post, due later than all of the busy ones.
        due.push((
            row(
                "https://h/quiet/1",
                "post",
                Some("acct:quiet"),
                "2026-01-09T23:00:00Z",
                young,
            ),
            "h".into(),
        ));
        // An old post and an account poll.
        due.push((
            row("https://h/old", "post", None, "2026-01-02T00:00:00Z", old),
            "h".into(),
        ));
        due.push((
            row("acct:quiet", "account", None, "2026-01-09T23:59:00Z", old),
            "h".into(),
        ));
        let b = plan_batch(due, now, 5, 0, &Default::default());
        let urls: Vec<&str> = b.take.iter().map(|(r, _)| r.url.as_str()).collect();
        assert_eq!(urls[0], "acct:quiet", "account polls first");
        assert!(
            urls[1..3].contains(&"https://h/quiet/1"),
            "the quiet account is not starved: {urls:?}"
        );
        assert!(
            !urls.contains(&"https://h/old"),
            "old posts after young ones: {urls:?}"
        );
        assert_eq!(b.over_batch, 48);
    }

    #[test]
    fn a_batch_skips_hosts_backing_off_and_keeps_host_budgets() {
        let now: jiff::Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        let f = "2026-01-01T00:00:00Z";
        let mut due = vec![];
        for i in 0..10 {
            due.push((
                row(&format!("https://a/{i}"), "post", None, f, f),
                "a".to_string(),
            ));
            due.push((
                row(&format!("https://b/{i}"), "post", None, f, f),
                "b".to_string(),
            ));
            due.push((
                row(&format!("https://c/{i}"), "post", None, f, f),
                "c".to_string(),
            ));
        }
        let off = ["c".to_string()].into_iter().collect();
        let b = plan_batch(due, now, 100, 3, &off);
        assert_eq!(b.take.len(), 6);
        assert_eq!(b.backing_off, 10);
        assert_eq!(b.over_host_budget, 14);
        assert!(b.take.iter().all(|(r, _)| !r.url.starts_with("https://c/")));
    }

    #[test]
    fn backoff_doubles_per_failure_up_to_the_cap() {
        let cfg = WatchConfig::default();
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
        assert_eq!(backoff_until(&cfg, 0, t), None);
        assert_eq!(backoff_until(&cfg, 1, t), Some(at("2026-01-01T00:01:00Z")));
        assert_eq!(backoff_until(&cfg, 3, t), Some(at("2026-01-01T00:04:00Z")));
        assert_eq!(backoff_until(&cfg, 40, t), Some(at("2026-01-01T01:00:00Z")));
    }
}
