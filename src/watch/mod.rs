//! `watch`: the watchlist and the monitor (SPEC section 4).
//!
//! Everything the watcher decides is written as records: watchlist changes and account
//! polls as `application/vnd.samizdat.watch+json`, every post check as
//! `application/vnd.samizdat.check+json` next to the exchanges it made. States and the
//! schedule (the next due time, carried in the records) are derived in
//! `store::index::apply`, so `reindex` resumes exactly where the watcher was.
//!
//! The clock: `SAMIZDAT_NOW=<RFC 3339>` overrides "now" (and the WARC-Date of the records
//! written here), and turns jitter off, so tests move time instead of sleeping.

mod account;
mod check;
pub mod schedule;

pub use schedule::{next_check, now};

use crate::capture::{self, CaptureOptions, Fetcher, Writer};
use crate::config::Watch as WatchConfig;
use crate::error::{Error, Result};
use crate::model::Outcome;
use crate::platforms::{self, Target};
use crate::store::index::{CheckRecord, Index, WatchRecord, WatchRow};
use crate::store::warc::{self, Record, kind, mime};
use schedule::{fixed_now, ts};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// What one watch action did, for the command line.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    /// `added`, `removed`, `checked`, `polled`, `captured`, `failed`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::model::Cause>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    fn new(url: &str, action: &'static str) -> Self {
        Report {
            url: url.to_string(),
            action,
            post_id: None,
            outcome: None,
            cause: None,
            message: None,
            next_check: None,
            error: None,
        }
    }
    fn failed(url: &str, e: impl ToString) -> Self {
        let mut r = Report::new(url, "failed");
        r.error = Some(e.to_string());
        r
    }
}

/// The watcher of one archive: a fetcher, the archive's writer, and read access to the index.
pub struct Watcher {
    pub cfg: WatchConfig,
    pub fetcher: Arc<Fetcher>,
    pub writer: Writer,
    pub index_path: PathBuf,
    pub concurrency: usize,
}

fn date_now() -> String {
    warc::warc_date(now())
}

/// Under a fixed clock, every record of a batch carries the clock's time.
fn stamp(records: &mut [Record]) {
    if fixed_now().is_none() {
        return;
    }
    let d = date_now();
    for r in records {
        for (n, v) in r.fields.iter_mut() {
            if n == "WARC-Date" {
                *v = d.clone();
            }
        }
    }
}

fn watch_record(w: &WatchRecord) -> Record {
    Record::build(
        kind::RESOURCE,
        &date_now(),
        Some(&format!("urn:samizdat:watch:{}", w.url)),
        mime::WATCH,
        vec![],
        serde_json::to_vec(w).expect("watch records serialise"),
    )
}

impl Watcher {
    fn index(&self) -> Result<Index> {
        Index::open(&self.index_path, false)
    }

    async fn append(&self, mut records: Vec<Record>) -> Result<()> {
        stamp(&mut records);
        self.writer.append(records).await.map(|_| ())
    }

    /// `watch add`: an account is due at once; a post is captured now (unless the archive
    /// has it) and then checked on the schedule.
    pub async fn add(&self, input: &str, every: Option<String>, backfill: Option<u32>) -> Report {
        let url = match capture::parse_url(input) {
            Ok(u) => u,
            Err(e) => return Report::failed(input, e),
        };
        if let Some(e) = &every
            && let Err(m) = crate::config::parse_duration(e)
        {
            return Report::failed(input, format!("--every {m}"));
        }
        let Some((_, target)) = platforms::recognise(&url) else {
            return Report::failed(input, format!("no platform recognises {url}"));
        };
        let n = now();
        if let Target::Account { url: acct, .. } = &target {
            let w = WatchRecord {
                samizdat: "watch/1".into(),
                action: "add".into(),
                url: acct.clone(),
                kind: "account".into(),
                every,
                backfill,
                post_id: None,
                via: None,
                at: Some(warc::warc_date(n)),
                next_check: Some(warc::warc_date(n)),
                error: None,
                record_ids: vec![],
            };
            return match self.append(vec![watch_record(&w)]).await {
                Ok(()) => Report::new(acct, "added"),
                Err(e) => Report::failed(input, e),
            };
        }
        self.add_post(input, every, None).await
    }

    /// Captures a post if the archive lacks it, then puts it on the watchlist.
    async fn add_post(&self, input: &str, every: Option<String>, via: Option<String>) -> Report {
        let known = self.index().ok().and_then(|ix| resolve(&ix, input));
        let mut report = Report::new(input, "added");
        let post_id = match known {
            Some(id) => id,
            None => {
                let r = capture::capture_one(
                    input,
                    &CaptureOptions::default(),
                    &self.fetcher,
                    &self.writer,
                )
                .await;
                match r.post_id {
                    Some(id) if r.status != "failed" && r.status != "gone" => {
                        report.action = "captured";
                        id
                    }
                    _ => {
                        return Report::failed(
                            input,
                            r.error.unwrap_or_else(|| "capture failed".into()),
                        );
                    }
                }
            }
        };
        let n = now();
        let first = self
            .index()
            .ok()
            .and_then(|ix| ix.post_state(&post_id).ok().flatten())
            .and_then(|(_, f)| ts(&f))
            .unwrap_or(n);
        let every_d = every.as_deref().map(WatchConfig::dur);
        let next = next_check(&self.cfg, first, n, every_d);
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "add".into(),
            url: input.to_string(),
            kind: "post".into(),
            every,
            backfill: None,
            post_id: Some(post_id.clone()),
            via,
            at: Some(warc::warc_date(n)),
            next_check: Some(warc::warc_date(next)),
            error: None,
            record_ids: vec![],
        };
        match self.append(vec![watch_record(&w)]).await {
            Ok(()) => {
                report.post_id = Some(post_id);
                report.next_check = w.next_check;
                report
            }
            Err(e) => Report::failed(input, e),
        }
    }

    /// `watch remove`.
    pub async fn remove(&self, input: &str) -> Report {
        let ix = match self.index() {
            Ok(ix) => ix,
            Err(e) => return Report::failed(input, e),
        };
        let rows = ix.watchlist(None).unwrap_or_default();
        let id = resolve(&ix, input);
        let acct = capture::parse_url(input)
            .ok()
            .and_then(|u| platforms::recognise(&u))
            .and_then(|(_, t)| match t {
                Target::Account { url, .. } => Some(url),
                _ => None,
            });
        let Some(row) = rows.iter().find(|r| {
            r.url == input || (id.is_some() && r.post_id == id) || Some(&r.url) == acct.as_ref()
        }) else {
            return Report::failed(input, "not on the watchlist (see `samizdat watch list`)");
        };
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "remove".into(),
            url: row.url.clone(),
            kind: row.kind.clone(),
            every: None,
            backfill: None,
            post_id: row.post_id.clone(),
            via: None,
            at: Some(date_now()),
            next_check: None,
            error: None,
            record_ids: vec![],
        };
        match self.append(vec![watch_record(&w)]).await {
            Ok(()) => Report::new(&row.url, "removed"),
            Err(e) => Report::failed(input, e),
        }
    }

    /// Does what is due at `now()`: account polls and young posts first, at most
    /// `[watch] batch` items, `http.concurrency` at once.
    pub async fn run_once(&self, mut on_report: impl FnMut(&Report)) -> Result<usize> {
        use futures_util::StreamExt;
        let n = now();
        let due = self.index()?.watchlist(Some(&warc::warc_date(n)))?;
        let young = |r: &WatchRow| {
            r.first_captured
                .as_deref()
                .and_then(ts)
                .is_some_and(|f| n.duration_since(f) < jiff::SignedDuration::from_hours(24))
        };
        let mut due: Vec<(u8, WatchRow)> = due
            .into_iter()
            .map(|r| {
                let prio = if r.kind == "account" {
                    0
                } else if young(&r) {
                    1
                } else {
                    2
                };
                (prio, r)
            })
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.next_due.cmp(&b.1.next_due)));
        due.truncate(self.cfg.batch);
        let count = due.len();
        // Accounts first (their new posts are captured before the re-checks run).
        let (accounts, posts): (Vec<_>, Vec<_>) = due.into_iter().partition(|(p, _)| *p == 0);
        let conc = self.concurrency.max(1);
        let mut s = futures_util::stream::iter(accounts)
            .map(|(_, r)| async move { self.poll_account(&r).await })
            .buffer_unordered(conc);
        while let Some(reps) = s.next().await {
            reps.iter().for_each(&mut on_report);
        }
        drop(s);
        let mut s = futures_util::stream::iter(posts)
            .map(|(_, r)| async move {
                match &r.post_id {
                    Some(id) => self.check_post(&r.url, id, r.every.as_deref()).await,
                    None => Report::failed(&r.url, "watched post without a post id"),
                }
            })
            .buffer_unordered(conc);
        while let Some(rep) = s.next().await {
            on_report(&rep);
        }
        Ok(count)
    }
}

fn check_record(c: &CheckRecord) -> Record {
    Record::build(
        kind::RESOURCE,
        &c.at,
        Some(&format!("urn:samizdat:check:{}", c.post_id)),
        mime::CHECK,
        vec![],
        serde_json::to_vec(c).expect("check records serialise"),
    )
}

/// The post id a URL or id names, if the archive has the post.
pub fn resolve(ix: &Index, key: &str) -> Option<String> {
    if let Ok(Some(id)) = ix.resolve(key) {
        return Some(id);
    }
    let u = url::Url::parse(key).ok()?;
    if let Some((p, Target::Post { platform_id, url })) = platforms::recognise(&u) {
        let id = format!("{}:{platform_id}", p.name());
        return ix
            .resolve(&id)
            .ok()
            .flatten()
            .or_else(|| ix.resolve(&url).ok().flatten());
    }
    None
}

/// Whether an error means "stop": the archive refused a write.
pub fn is_fatal(e: &Error) -> bool {
    matches!(e, Error::Archive { .. } | Error::Index { .. })
}
