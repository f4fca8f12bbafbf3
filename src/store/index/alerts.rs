//! The reads and writes of alerting (docs/alerts.md): the events alerts are made of, as
//! the index derived them from the records (checks, watch adds, hosts), and each
//! target's delivery state.

use super::{Index, codec, decode};
use crate::error::Result;
use rusqlite::{OptionalExtension, params};
use std::collections::HashSet;

/// Something that happened that an alert can be about, with the idempotency key every
/// delivery of it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Unique per event: `<kind>:<check record id>` for what a check found,
    /// `new_post:<post id>`, `watch_failing:<host>:<first failure>`.
    pub key: String,
    /// One of `alerts::config::EVENTS` except `censored` (a `deleted` with cause
    /// `platform`).
    pub kind: String,
    /// When it happened (WARC-Date form).
    pub at: String,
    pub post_id: Option<String>,
    /// The check record it rests on, and its leaf in the log.
    pub check_record: Option<String>,
    pub leaf: Option<u64>,
    pub outcome: Option<String>,
    pub cause: Option<String>,
    pub message: Option<String>,
    /// An `edited` check's new post record.
    pub post_record: Option<String>,
    /// For `watch_failing`: the host, and what it last answered.
    pub host: Option<String>,
}

/// A target's undelivered alerts that failed at least once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failing {
    pub target: String,
    /// Alerts waiting for it that failed.
    pub waiting: u32,
    pub attempts: u32,
    /// System-clock times (RFC 3339).
    pub first_failed: String,
    pub last_failed: String,
    pub last_error: Option<String>,
}

impl Index {
    /// When each target began (its first `start` record), if it did.
    pub fn alert_start(&self, target: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT since FROM alert_targets WHERE target = ?1",
                [target],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The events from `since` on, oldest first: confirmed gone states, restorations and
    /// edits of posts (never of comments), the new posts polls found, and hosts failing
    /// for `failing_after` by `now`. Only what the states table calls an event: a first
    /// gone answer, an unreachable check, a wall never is one.
    pub fn alert_events(
        &self,
        since: &str,
        now: jiff::Timestamp,
        failing_after: std::time::Duration,
    ) -> Result<Vec<EventRow>> {
        let mut out = vec![];
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT c.at, c.post_id, c.outcome, c.event, c.cause, c.message, c.record_id, \
                 c.post_record, r.leaf, c.host \
                 FROM checks c JOIN posts p ON p.id = c.post_id JOIN records r ON r.id = c.record_id \
                 WHERE (c.event IS NOT NULL OR c.outcome = 'edited') AND c.at >= ?1 \
                 AND p.thread_of IS NULL ORDER BY c.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([codec::date(since)], |r| {
                let outcome: String = r.get(2)?;
                let event: Option<String> = r.get(3)?;
                let record: String = decode(r, 6, codec::id_text)?;
                let kind = match (event.as_deref(), outcome.as_str()) {
                    (Some("restored"), _) => "restored",
                    (Some("confirmed"), "deleted" | "not_found") => "deleted",
                    (Some("confirmed"), "restricted") => "restricted",
                    (Some("confirmed"), "account_gone") => "account_gone",
                    (_, "edited") => "edited",
                    _ => "",
                };
                Ok(EventRow {
                    key: format!(
                        "{kind}:{}",
                        record.trim_start_matches('<').trim_end_matches('>')
                    ),
                    kind: kind.to_string(),
                    at: decode(r, 0, codec::date_text)?,
                    post_id: Some(r.get(1)?),
                    check_record: Some(record),
                    leaf: Some(r.get::<_, i64>(8)? as u64),
                    outcome: Some(outcome),
                    cause: r.get(4)?,
                    message: r.get(5)?,
                    post_record: decode(r, 7, codec::id_text_opt)?,
                    host: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let row = row.map_err(|e| self.err(e))?;
            if !row.kind.is_empty() {
                out.push(row);
            }
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT post_id, added_at FROM watchlist WHERE kind = 'post' AND new_post = 1 \
                 AND post_id IS NOT NULL AND added_at >= ?1 ORDER BY added_at, url",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            // Dates are text here: the seconds are a safe lower bound, the exact
            // comparison is below (a fraction sorts before `Z`).
            .query_map([since.get(..19).unwrap_or(since)], |r| {
                let post: String = r.get(0)?;
                Ok(EventRow {
                    key: format!("new_post:{post}"),
                    kind: "new_post".into(),
                    at: r.get(1)?,
                    post_id: Some(post),
                    check_record: None,
                    leaf: None,
                    outcome: None,
                    cause: None,
                    message: None,
                    post_record: None,
                    host: None,
                })
            })
            .map_err(|e| self.err(e))?;
        let since_t = since.parse::<jiff::Timestamp>().ok();
        for row in rows {
            let row = row.map_err(|e| self.err(e))?;
            if since_t.is_some_and(|s| row.at.parse::<jiff::Timestamp>().is_ok_and(|t| t < s)) {
                continue;
            }
            out.push(row);
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT host, failing_since, last_error FROM hosts \
                 WHERE failures > 0 AND failing_since IS NOT NULL ORDER BY host",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (host, from, error) = row.map_err(|e| self.err(e))?;
            let Ok(t) = from.parse::<jiff::Timestamp>() else {
                continue;
            };
            let Ok(due) =
                t.checked_add(jiff::SignedDuration::try_from(failing_after).unwrap_or_default())
            else {
                continue;
            };
            if due > now || since_t.is_some_and(|s| due < s) {
                continue;
            }
            out.push(EventRow {
                key: format!("watch_failing:{host}:{from}"),
                kind: "watch_failing".into(),
                at: crate::store::warc::warc_date(due),
                post_id: None,
                check_record: None,
                leaf: None,
                outcome: Some("unreachable".into()),
                cause: None,
                message: error,
                post_record: None,
                host: Some(host),
            });
        }
        Ok(out)
    }

    /// The keys delivered to `target`.
    pub fn alerts_delivered(&self, target: &str) -> Result<HashSet<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT key FROM alert_deliveries WHERE target = ?1")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([target], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Notes a failed attempt (the error in words, without the target's URL).
    pub fn note_alert_failure(&self, target: &str, key: &str, at: &str, error: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO alert_attempts (target, key, attempts, first_failed, last_failed, last_error) \
                 VALUES (?1, ?2, 1, ?3, ?3, ?4) ON CONFLICT(target, key) DO UPDATE SET \
                 attempts = attempts + 1, last_failed = ?3, last_error = ?4",
                params![target, key, at, error],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The attempts made of one alert so far.
    pub fn alert_attempts(&self, target: &str, key: &str) -> Result<u32> {
        self.conn
            .query_row(
                "SELECT attempts FROM alert_attempts WHERE target = ?1 AND key = ?2",
                params![target, key],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|n| n.unwrap_or(0) as u32)
            .map_err(|e| self.err(e))
    }

    /// Targets with alerts that failed and are not delivered yet.
    pub fn failing_alert_targets(&self) -> Result<Vec<Failing>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT a.target, count(*), sum(a.attempts), min(a.first_failed), max(a.last_failed), \
                 (SELECT last_error FROM alert_attempts b WHERE b.target = a.target ORDER BY b.last_failed DESC LIMIT 1) \
                 FROM alert_attempts a WHERE NOT EXISTS (SELECT 1 FROM alert_deliveries d \
                 WHERE d.target = a.target AND d.key = a.key) GROUP BY a.target ORDER BY a.target",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(Failing {
                    target: r.get(0)?,
                    waiting: r.get::<_, i64>(1)? as u32,
                    attempts: r.get::<_, i64>(2)? as u32,
                    first_failed: r.get(3)?,
                    last_failed: r.get(4)?,
                    last_error: r.get(5)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// What alert filters match a post on: its platform, author id and name, the watch
    /// tags of its entries and of the accounts it was found through, and those accounts'
    /// URLs.
    pub fn alert_subject(&self, post_id: &str) -> Result<Subject> {
        let (platform, author_id, author_name): (Option<String>, Option<String>, Option<String>) =
            self.conn
                .query_row(
                    "SELECT platform, author_id, author_name FROM posts WHERE id = ?1",
                    [post_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(|e| self.err(e))?
                .unwrap_or((None, None, None));
        let mut s = Subject {
            platform: platform
                .unwrap_or_else(|| post_id.split(':').next().unwrap_or("").to_string()),
            accounts: [author_id, author_name].into_iter().flatten().collect(),
            tags: vec![],
        };
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT w.tags, w.via, a.tags FROM watchlist w LEFT JOIN watchlist a ON a.url = w.via \
                 WHERE w.post_id = ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([post_id], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (tags, via, via_tags) = row.map_err(|e| self.err(e))?;
            for t in [tags, via_tags].into_iter().flatten() {
                s.tags
                    .extend(serde_json::from_str::<Vec<String>>(&t).unwrap_or_default());
            }
            s.accounts.extend(via);
        }
        // An author's handle is in the post JSON only.
        if let Some(p) = self.post(post_id)?
            && let Some(h) = p.author.and_then(|a| a.handle)
        {
            s.accounts.push(h);
        }
        Ok(s)
    }
}

/// What `[[alerts]]` filters test (see [`Index::alert_subject`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub platform: String,
    pub accounts: Vec<String>,
    pub tags: Vec<String>,
}
