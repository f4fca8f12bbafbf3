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

use crate::capture::{self, CaptureOptions, Fetcher, Writer};
use crate::config::Watch as WatchConfig;
use crate::error::{Error, Result};
use crate::model::{Outcome, Post};
use crate::platforms::{self, Finding, Job, PlanContext, Target};
use crate::store::index::{CheckRecord, Index, WatchRecord, WatchRow};
use crate::store::warc::{self, Record, kind, mime};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// "Now", or `SAMIZDAT_NOW` when set.
pub fn now() -> jiff::Timestamp {
    fixed_now().unwrap_or_else(jiff::Timestamp::now)
}

fn fixed_now() -> Option<jiff::Timestamp> {
    std::env::var("SAMIZDAT_NOW")
        .ok()
        .and_then(|v| v.parse().ok())
}

fn ts(s: &str) -> Option<jiff::Timestamp> {
    s.parse().ok()
}

fn add(t: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
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

fn jitter(cfg: &WatchConfig, at: jiff::Timestamp, next: jiff::Timestamp) -> jiff::Timestamp {
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

    /// Checks one watched post now: writes its exchanges and a check record (and, for
    /// `edited`, a new post record; for an unchanged answer, a revisit record).
    pub async fn check_post(&self, url: &str, post_id: &str, every: Option<&str>) -> Report {
        let mut report = Report::new(url, "checked");
        report.post_id = Some(post_id.to_string());
        let ix = match self.index() {
            Ok(ix) => ix,
            Err(e) => return Report::failed(url, e),
        };
        let stored: Option<Post> = ix
            .post_json(post_id)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok());
        let last = ix.last_check(post_id).ok().flatten();
        let (state, first) = ix
            .post_state(post_id)
            .ok()
            .flatten()
            .unwrap_or_else(|| ("live".into(), date_now()));
        drop(ix);
        let check_url = stored.as_ref().map(|p| p.url.clone()).unwrap_or(url.into());
        let parsed = match capture::parse_url(&check_url) {
            Ok(u) => u,
            Err(e) => return Report::failed(url, e),
        };
        let Some((platform, target)) = platforms::recognise(&parsed) else {
            return Report::failed(url, format!("no platform recognises {check_url}"));
        };
        let ctx = PlanContext {
            now: now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            has_user_cookies: parsed
                .host_str()
                .is_some_and(|h| self.fetcher.has_cookies_for(h)),
        };
        let plan = platform.post_plan(&target, Job::Check, &ctx);
        let mut records = vec![];
        let mut responses = vec![];
        let run = capture::run_plan(
            platform.name(),
            plan,
            &self.fetcher,
            &mut records,
            &mut responses,
        )
        .await;
        stamp(&mut records);
        // The main response, and a revisit when its payload equals the last check's.
        let mut payload_digest = None;
        let mut response_id = run.last_response.clone();
        let mut response_uri = None;
        let mut response_date = None;
        if let Some(rid) = &run.last_response
            && let Some(pos) = records.iter().position(|r| r.id() == rid)
        {
            let r = &records[pos];
            payload_digest = r.field("WARC-Payload-Digest").map(str::to_string);
            response_uri = r.target_uri().map(str::to_string);
            response_date = Some(r.date().to_string());
            if let Some(l) = &last
                && l.payload_digest.is_some()
                && l.payload_digest == payload_digest
                && r.field("WARC-Truncated").is_none()
                && let (Some(to), Some(to_uri), Some(to_date)) =
                    (&l.response_id, &l.response_uri, &l.response_date)
            {
                let rv = warc::to_revisit(r, to, to_uri, to_date);
                records[pos] = rv;
                response_id = Some(to.clone());
                response_uri = Some(to_uri.clone());
                response_date = Some(to_date.clone());
            }
        }
        let (mut outcome, mut cause, mut message, new_post) = match run.finding {
            Finding::Post(p) => {
                let same = stored
                    .as_ref()
                    .is_some_and(|s| s.content_fingerprint() == p.content_fingerprint());
                if same {
                    (Outcome::Live, None, None, None)
                } else {
                    (Outcome::Edited, None, None, Some(p))
                }
            }
            Finding::Gone(g) => (g.outcome, g.cause, g.message, None),
            Finding::Broken { endpoint, missing } => (
                Outcome::Unreachable,
                None,
                Some(format!("{endpoint}: unexpected answer, missing {missing}")),
                None,
            ),
            Finding::Timeline { .. } | Finding::Redirected { .. } => (
                Outcome::Unreachable,
                None,
                Some("the post URL no longer names one post".into()),
                None,
            ),
        };
        // Gone without a reason: a repost we hold may carry the platform's words about
        // its original ("此微博已被作者删除" …). Re-read it, and keep that exchange too.
        let mut via = None;
        if outcome == Outcome::Deleted
            && matches!(cause, None | Some(crate::model::Cause::Unknown))
            && let Some((why, repost_id)) = self
                .cause_from_reposts(post_id, &mut records, &mut responses)
                .await
        {
            outcome = why.outcome;
            cause = why.cause;
            message = Some(match (message, why.message) {
                (Some(own), Some(theirs)) => {
                    format!("{own}; a repost ({repost_id}) says: {theirs}")
                }
                (None, Some(theirs)) => format!("a repost ({repost_id}) says: {theirs}"),
                (own, None) => own.unwrap_or_default(),
            });
            via = Some(format!("repost:{repost_id}"));
            stamp(&mut records);
        }
        let mut record_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
        let mut post_record = None;
        if let Some(mut p) = new_post {
            let mut warnings = vec![];
            capture::fetch_media(&mut p, &self.fetcher, &mut records, &mut warnings).await;
            stamp(&mut records);
            let rec = capture::post_record(&p, url, &records, &responses, &date_now());
            record_ids = records.iter().map(|r| r.id().to_string()).collect();
            post_record = Some(rec.id().to_string());
            record_ids.push(rec.id().to_string());
            records.push(rec);
        }
        let n = now();
        let first_ts = ts(&first).unwrap_or(n);
        // A first gone answer is confirmed soon; otherwise the decaying schedule.
        let next = if outcome.is_gone() && state != outcome.as_str() {
            add(n, WatchConfig::dur(&self.cfg.follow_up))
        } else {
            next_check(&self.cfg, first_ts, n, every.map(WatchConfig::dur))
        };
        let c = CheckRecord {
            samizdat: "check/1".into(),
            post_id: post_id.to_string(),
            at: warc::warc_date(n),
            outcome,
            cause,
            message: message.clone(),
            http_status: run.last_status,
            record_ids,
            post_record,
            via,
            host: parsed.host_str().map(str::to_string),
            payload_digest,
            response_id,
            response_uri,
            response_date,
            next_check: Some(warc::warc_date(next)),
        };
        records.push(check_record(&c));
        match self.append(records).await {
            Ok(()) => {
                report.outcome = Some(outcome);
                report.cause = cause;
                report.message = message;
                report.next_check = c.next_check;
                report
            }
            Err(e) => Report::failed(url, e),
        }
    }

    /// Re-checks the reposts of `post_id` held in the archive and returns the state their
    /// embedded original now shows (`extra.original_state`, set by the platform reader),
    /// with the repost's id. The exchanges are added to `records`.
    async fn cause_from_reposts(
        &self,
        post_id: &str,
        records: &mut Vec<Record>,
        responses: &mut Vec<String>,
    ) -> Option<(crate::model::Gone, String)> {
        let reposts = self.index().ok()?.reposts_of(post_id).ok()?;
        for (repost_id, repost_url) in reposts {
            let Ok(u) = capture::parse_url(&repost_url) else {
                continue;
            };
            let Some((platform, target)) = platforms::recognise(&u) else {
                continue;
            };
            let ctx = PlanContext {
                now: now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
                has_user_cookies: u
                    .host_str()
                    .is_some_and(|h| self.fetcher.has_cookies_for(h)),
            };
            let plan = platform.post_plan(&target, Job::Check, &ctx);
            let run =
                capture::run_plan(platform.name(), plan, &self.fetcher, records, responses).await;
            let Finding::Post(p) = run.finding else {
                continue;
            };
            let Some(st) = p.extra.get("original_state") else {
                continue;
            };
            let outcome = match st["outcome"].as_str() {
                Some("deleted") => Outcome::Deleted,
                Some("restricted") => Outcome::Restricted,
                Some("account_gone") => Outcome::AccountGone,
                _ => continue,
            };
            let cause = match st["cause"].as_str() {
                Some("author") => Some(crate::model::Cause::Author),
                Some("platform") => Some(crate::model::Cause::Platform),
                Some("unknown") => Some(crate::model::Cause::Unknown),
                _ => None,
            };
            let message = st["message"].as_str().map(str::to_string);
            return Some((
                crate::model::Gone {
                    outcome,
                    cause,
                    message,
                },
                repost_id,
            ));
        }
        None
    }

    /// Polls a watched account: new posts are captured and watched at once; known posts
    /// in the fresh page count as `live` checks.
    pub async fn poll_account(&self, row: &WatchRow) -> Vec<Report> {
        let mut out = vec![];
        let parsed = match capture::parse_url(&row.url) {
            Ok(u) => u,
            Err(e) => return vec![Report::failed(&row.url, e)],
        };
        let Some((platform, target)) = platforms::recognise(&parsed) else {
            return vec![Report::failed(&row.url, "no platform recognises it")];
        };
        let ctx = PlanContext {
            now: now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            has_user_cookies: parsed
                .host_str()
                .is_some_and(|h| self.fetcher.has_cookies_for(h)),
        };
        let Some(plan) = platform.timeline_plan(&target, None, &ctx) else {
            return vec![Report::failed(
                &row.url,
                format!("{} has no timelines samizdat can read", platform.name()),
            )];
        };
        let mut records = vec![];
        let mut responses = vec![];
        let run = capture::run_plan(
            platform.name(),
            plan,
            &self.fetcher,
            &mut records,
            &mut responses,
        )
        .await;
        stamp(&mut records);
        let page_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
        let n = now();
        let mut error = None;
        let mut to_capture: Vec<String> = vec![];
        match run.finding {
            Finding::Timeline { posts, .. } => {
                let ix = self.index().ok();
                let added = ts(&row.added_at).unwrap_or(n);
                let backfill = row.backfill.unwrap_or(0) as usize;
                let first_poll = row.last_polled.is_none();
                for (rank, p) in posts.iter().enumerate() {
                    let known = ix
                        .as_ref()
                        .and_then(|ix| ix.post_json(&p.id.0).ok().flatten())
                        .and_then(|v| serde_json::from_value::<Post>(v).ok());
                    match known {
                        Some(k) => {
                            if k.content_fingerprint() == p.content_fingerprint() {
                                let c = CheckRecord {
                                    samizdat: "check/1".into(),
                                    post_id: p.id.0.clone(),
                                    at: warc::warc_date(n),
                                    outcome: Outcome::Live,
                                    cause: None,
                                    message: None,
                                    http_status: run.last_status,
                                    record_ids: page_ids.clone(),
                                    post_record: None,
                                    via: Some("timeline".into()),
                                    host: parsed.host_str().map(str::to_string),
                                    payload_digest: None,
                                    response_id: None,
                                    response_uri: None,
                                    response_date: None,
                                    next_check: None,
                                };
                                records.push(check_record(&c));
                            }
                        }
                        None => {
                            let fresh = p
                                .created_at
                                .as_deref()
                                .and_then(ts)
                                .is_none_or(|c| c >= added);
                            if (fresh && !first_poll) || (fresh && first_poll) || rank < backfill {
                                to_capture.push(p.url.clone());
                            }
                        }
                    }
                }
            }
            Finding::Gone(g) => {
                error = Some(format!(
                    "{}: {}",
                    g.outcome.as_str(),
                    g.message.unwrap_or_default()
                ))
            }
            Finding::Broken { endpoint, missing } => {
                error = Some(format!("{endpoint}: unexpected answer, missing {missing}"))
            }
            _ => error = Some("not a timeline".into()),
        }
        let every = row
            .every
            .as_deref()
            .unwrap_or(&self.cfg.account_interval)
            .to_string();
        let next = jitter(&self.cfg, n, add(n, WatchConfig::dur(&every)));
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "polled".into(),
            url: row.url.clone(),
            kind: "account".into(),
            every: row.every.clone(),
            backfill: row.backfill,
            post_id: None,
            via: None,
            at: Some(warc::warc_date(n)),
            next_check: Some(warc::warc_date(next)),
            error: error.clone(),
            record_ids: page_ids,
        };
        // New posts first, so a crash between them and the poll record repeats the poll
        // (and finds them known) rather than missing them.
        for u in to_capture {
            out.push(self.add_post(&u, None, Some(row.url.clone())).await);
        }
        records.push(watch_record(&w));
        let mut rep = Report::new(&row.url, "polled");
        rep.error = error;
        rep.next_check = w.next_check.clone();
        if let Err(e) = self.append(records).await {
            rep = Report::failed(&row.url, e);
        }
        out.insert(0, rep);
        out
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

    /// `watch check URL...` / `--all`: check now, whatever the schedule says.
    pub async fn check_now(
        &self,
        inputs: &[String],
        all: bool,
        mut on_report: impl FnMut(&Report),
    ) -> Result<()> {
        let ix = self.index()?;
        let rows = ix.watchlist(None)?;
        let mut jobs: Vec<(String, String, Option<String>)> = vec![];
        if all {
            for r in rows.iter().filter(|r| r.kind == "post") {
                if let Some(id) = &r.post_id {
                    jobs.push((r.url.clone(), id.clone(), r.every.clone()));
                }
            }
        }
        for i in inputs {
            match resolve(&ix, i) {
                Some(id) => {
                    let every = rows
                        .iter()
                        .find(|r| r.post_id.as_deref() == Some(&id))
                        .and_then(|r| r.every.clone());
                    jobs.push((i.clone(), id, every));
                }
                None => on_report(&Report::failed(
                    i,
                    "not in this archive: `samizdat watch add URL` first",
                )),
            }
        }
        drop(ix);
        for (u, id, every) in jobs {
            let r = self.check_post(&u, &id, every.as_deref()).await;
            on_report(&r);
        }
        Ok(())
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
