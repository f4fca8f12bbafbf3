//! `watch`: the watchlist and the monitor (docs/states.md).
//!
//! Everything the watcher decides is written as records: watchlist changes and account
//! polls as `application/vnd.samizdat.watch+json`, every post check as
//! `application/vnd.samizdat.check+json` next to the exchanges it made. States and the
//! schedule (the next due time, carried in the records) are derived in
//! `store::index::apply`, so `reindex` resumes exactly where the watcher was.
//!
//! The clock: every watcher reads time from its [`Clock`]; a fixed clock (the command
//! line's `SAMIZDAT_NOW`) also dates the records written here and turns jitter off, so
//! tests move time instead of sleeping.
//!
//! Index reads run on tokio's blocking pool ([`Watcher::read`]): SQLite calls block, and
//! the async workers must stay free to drive fetches.
//!
//! # Layout
//! - `mod.rs`: the [`Watcher`], the watchlist (`add`, `remove`), and [`Watcher::run_once`],
//!   the one place where due work is chosen and run concurrently.
//! - `schedule`: the clock, the decaying schedule, priorities, fairness, host budgets and
//!   backoff (pure functions).
//! - `check`: one check of one post.
//! - `account`: one poll of an account, channel or feed (with pagination).
//! - `monitor`: the daemon loop of `watch run` ([`Monitor::run`] until a shutdown future
//!   resolves) and the automatic timestamps after each batch.

mod account;
mod check;
pub mod comments;
mod monitor;
pub mod schedule;

pub use monitor::{Event, Monitor};

pub use schedule::next_check;

use crate::capture::{self, CaptureOptions, Fetcher, Writer};
use crate::clock::Clock;
use crate::config::{Config, Watch as WatchConfig};
use crate::error::{Error, Result};
use crate::model::{Cause, Outcome};
use crate::platforms::{self, Target};
use crate::store::index::{CheckRecord, Index, ORIGIN_API, ORIGIN_CLI, WatchRecord, WatchRow};
use crate::store::views::{HostStatus, NextBatch, WatchStatus};
use crate::store::warc::{self, Record};
use schedule::{add, backoff_until, plan_batch, ts};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

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
    /// A check's re-read of the post's conversation, when one was due.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<crate::capture::comments::ThreadSummary>,
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
            comments: None,
        }
    }
    fn failed(url: &str, e: impl ToString) -> Self {
        let mut r = Report::new(url, "failed");
        r.error = Some(e.to_string());
        r
    }
}

/// The watcher of one archive: a fetcher, the archive's writer, and read access to the index.
///
/// # Where entries come from
///
/// Every add records its origin ([`ORIGIN_CLI`] or [`ORIGIN_API`]), and so does every post
/// a poll finds (the origin of the account or feed it was found through). Whatever an
/// entry from the API leads to is fetched with [`Watcher::api_fetcher`], under the SSRF
/// guard: its polls, the captures of what they find (and their redirects and media), the
/// checks of its posts (`watch run`, `watch check`). An origin other than `cli` counts as
/// `api`.
pub struct Watcher {
    pub cfg: WatchConfig,
    /// For entries the operator added on the command line.
    pub fetcher: Arc<Fetcher>,
    /// For entries that came from the API: [`Fetcher::guarded`] of `fetcher` (the same
    /// pacing per host).
    pub api_fetcher: Arc<Fetcher>,
    /// The origin this watcher records for what it adds.
    pub adds_as: &'static str,
    /// The tags this watcher gives what it adds (`watch add --tag`; `[[alerts]] tag`).
    pub tags: Vec<String>,
    pub writer: Writer,
    pub index_path: PathBuf,
    /// Checks and polls in flight at once (`[http] concurrency`).
    pub concurrency: usize,
    /// Most comments a re-read of a post's conversation reads (`[capture] comments`).
    pub comments_limit: usize,
    /// Who watches, with what: each capture's provenance record (docs/provenance.md).
    pub run: Arc<crate::capture::provenance::RunFacts>,
    /// Renders the watcher's captures when `[browser] render` asks (docs/render.md).
    pub renderer: Option<Arc<crate::capture::render::Renderer>>,
    /// Most items of one host per batch (0 = no limit); see `[watch] host_budget`.
    pub host_budget: usize,
    /// Set on SIGINT/SIGTERM: items not yet started are left due; those in flight finish
    /// and are written whole.
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    /// What "now" is (see [`Watcher::with_clock`]).
    pub clock: Clock,
    /// Read connections to the index, reused: a fresh connection starts with a cold page
    /// cache, which made checks three times slower on a large archive.
    readers: Arc<Mutex<Vec<Index>>>,
}

/// The pool of read connections (a poisoned lock only means a reader panicked: the
/// connections in it are still sound).
fn take_reader(pool: &Mutex<Vec<Index>>, path: &Path) -> Result<Index> {
    let pooled = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
    match pooled {
        Some(ix) => Ok(ix),
        None => Index::open(path, false),
    }
}

fn give_back(pool: &Mutex<Vec<Index>>, ix: Index) {
    let mut pool = pool.lock().unwrap_or_else(|p| p.into_inner());
    // As many as run at once; more would only hold memory.
    if pool.len() < 64 {
        pool.push(ix);
    }
}

/// What one [`Watcher::run_once`] did and left for later.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RunSummary {
    /// Checks and polls run.
    pub ran: usize,
    /// Due, left for later: their host is backing off after failures (or failed during
    /// this batch).
    pub backing_off: usize,
    /// Due, left for later: their host had its share of this batch.
    pub over_host_budget: usize,
    /// Due, left for later: the batch was full.
    pub over_batch: usize,
    /// Not started because a stop was asked for.
    pub stopped: usize,
}

impl RunSummary {
    /// Whether due work was left that a next batch could do now.
    pub fn more_due(&self) -> bool {
        self.over_host_budget + self.over_batch > 0
    }
}

fn watch_record(w: &WatchRecord, date: &str) -> Record {
    w.to_record(date)
}

fn watch_add(
    url: &str,
    kind: &str,
    at: jiff::Timestamp,
    next: jiff::Timestamp,
    origin: &str,
) -> WatchRecord {
    WatchRecord {
        samizdat: "watch/1".into(),
        action: "add".into(),
        url: url.to_string(),
        kind: kind.into(),
        at: Some(warc::warc_date(at)),
        next_check: Some(warc::warc_date(next)),
        origin: Some(origin.to_string()),
        ..Default::default()
    }
}

/// The host the first request for a watched URL goes to (plans are pure, so this asks
/// the platform without any I/O). Backoff and host budgets are kept per this host.
pub fn request_host(url: &str, account: bool) -> String {
    let fallback = || {
        url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default()
    };
    let Ok(u) = capture::parse_url(url) else {
        return fallback();
    };
    let Some((platform, target)) = platforms::recognise(&u) else {
        return fallback();
    };
    let ctx = platforms::PlanContext::default();
    let plan = if account {
        platform.timeline_plan(&target, None, &ctx)
    } else {
        Some(platform.post_plan(&target, platforms::Job::Check, &ctx))
    };
    match plan {
        Some(platforms::Step::Fetch(req, _)) => req.url.host_str().map(str::to_string),
        _ => None,
    }
    .unwrap_or_else(fallback)
}

fn row_host(r: &WatchRow) -> String {
    if r.kind == "account" {
        request_host(&r.url, true)
    } else {
        request_host(r.post_url.as_deref().unwrap_or(&r.url), false)
    }
}

impl Watcher {
    /// A watcher over the archive whose index is at `index_path`, with the settings of
    /// `config` (`[watch]`, and `[http]` for concurrency and politeness).
    pub fn new(
        config: &Config,
        fetcher: Arc<Fetcher>,
        writer: Writer,
        index_path: PathBuf,
    ) -> Self {
        Watcher {
            cfg: config.watch.clone(),
            api_fetcher: Arc::new(fetcher.guarded()),
            fetcher,
            adds_as: ORIGIN_CLI,
            tags: vec![],
            writer,
            index_path,
            concurrency: config.http.concurrency.max(1),
            comments_limit: config.capture.comments,
            run: Arc::new(crate::capture::provenance::RunFacts::of(config, "watch")),
            renderer: crate::capture::render::Renderer::new(&config.browser, false)
                .unwrap_or_else(|e| {
                    tracing::warn!("[browser] render is set, but: {e}; captures are not rendered");
                    None
                })
                .map(Arc::new),
            host_budget: host_budget(config),
            stop: Arc::default(),
            clock: Clock::System,
            readers: Arc::default(),
        }
        // Callers that do not say (`serve`) keep the clock they always had.
        .with_clock(Clock::from_env_or_system())
    }

    /// This watcher reads time from `clock`. A fixed clock also dates every record the
    /// watcher writes and turns the schedule's jitter off, so runs are reproducible.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        if clock.is_fixed() {
            self.cfg.jitter = 0.0;
        }
        self
    }

    /// Now, by this watcher's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    fn date_now(&self) -> String {
        self.clock.warc_date()
    }

    /// Under a fixed clock, every record of a batch carries the clock's time.
    fn stamp(&self, records: &mut [Record]) {
        if !self.clock.is_fixed() {
            return;
        }
        let d = self.date_now();
        for r in records {
            for (n, v) in r.fields.iter_mut() {
                if n == "WARC-Date" {
                    *v = d.clone();
                }
            }
        }
    }

    fn watch_record(&self, w: &WatchRecord) -> Record {
        watch_record(w, &self.date_now())
    }

    /// This watcher records what it adds as coming from the API (`serve`'s captures).
    pub fn adding_for_api(mut self) -> Self {
        self.adds_as = ORIGIN_API;
        self
    }

    /// The fetcher for what an entry of this origin leads to.
    pub fn fetcher_for(&self, origin: &str) -> &Arc<Fetcher> {
        if origin == ORIGIN_CLI {
            &self.fetcher
        } else {
            &self.api_fetcher
        }
    }

    /// Runs `f` over a pooled read connection on tokio's blocking pool (SQLite calls
    /// block; the async workers drive fetches). A panic in `f` is resumed here.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Index) -> T + Send + 'static,
    ) -> Result<T> {
        let (pool, path) = (self.readers.clone(), self.index_path.clone());
        let job = move || -> Result<T> {
            let ix = take_reader(&pool, &path)?;
            let out = f(&ix);
            give_back(&pool, ix);
            Ok(out)
        };
        match tokio::task::spawn_blocking(job).await {
            Ok(r) => r,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(Error::Archive {
                path: self.index_path.clone(),
                message: format!("index read cancelled: {e}"),
            }),
        }
    }

    async fn append(&self, mut records: Vec<Record>) -> Result<()> {
        self.stamp(&mut records);
        self.writer.append(records).await.map(|_| ())
    }

    /// `watch add` of one URL (see [`Watcher::add_many`]).
    pub async fn add(&self, input: &str, every: Option<Every>, backfill: Option<u32>) -> Report {
        let mut out = None;
        self.add_many(&[input.to_string()], every, backfill, |r| {
            out = Some(r.clone())
        })
        .await;
        out.unwrap_or_else(|| Report::failed(input, "nothing was added"))
    }

    /// `watch add`: an account is due at once; a post is captured now (unless the archive
    /// has it) and then checked on the schedule. Many URLs are captured concurrently and
    /// their watchlist records written together.
    pub async fn add_many(
        &self,
        inputs: &[String],
        every: Option<Every>,
        backfill: Option<u32>,
        mut on_report: impl FnMut(&Report),
    ) {
        let n = self.now();
        let mut accounts = vec![];
        let mut posts = vec![];
        for input in inputs {
            let url = match capture::parse_url(input) {
                Ok(u) => u,
                Err(e) => {
                    on_report(&Report::failed(input, e));
                    continue;
                }
            };
            match platforms::recognise(&url) {
                None => on_report(&Report::failed(
                    input,
                    format!("no platform recognises {url}"),
                )),
                Some((p, t @ Target::Account { .. }))
                    if p.timeline_plan(&t, None, &platforms::PlanContext::default())
                        .is_none() =>
                {
                    on_report(&Report::failed(
                        input,
                        format!(
                            "samizdat cannot list the posts of {} accounts yet: watch their posts instead",
                            p.name()
                        ),
                    ))
                }
                Some((_, Target::Account { url: acct, .. })) => {
                    let mut w = watch_add(&acct, "account", n, n, self.adds_as);
                    w.every = every.as_ref().map(|e| e.text.clone());
                    w.backfill = backfill;
                    w.tags = self.tags.clone();
                    accounts.push(w);
                }
                Some(_) => posts.push((input.clone(), None, false)),
            }
        }
        if !accounts.is_empty() {
            let reports: Vec<Report> = accounts
                .iter()
                .map(|w| Report::new(&w.url, "added"))
                .collect();
            let records = accounts.iter().map(|w| self.watch_record(w)).collect();
            match self.append(records).await {
                Ok(()) => {
                    for (w, mut r) in accounts.iter().zip(reports) {
                        self.added_account(w, &mut r, &mut on_report).await;
                    }
                }
                Err(e) => reports
                    .iter()
                    .for_each(|r| on_report(&Report::failed(&r.url, &e))),
            }
        }
        for r in self.add_posts(posts, every, self.adds_as).await {
            on_report(&r);
        }
    }

    /// After an account or feed is on the watchlist: with `--backfill N` it is polled at
    /// once (its N latest posts are captured now, each reported); otherwise its listing
    /// is read to tell how many entries it has (new ones are captured from now on).
    async fn added_account(
        &self,
        w: &WatchRecord,
        rep: &mut Report,
        on_report: &mut impl FnMut(&Report),
    ) {
        let Some(backfill) = w.backfill.filter(|b| *b > 0) else {
            rep.message = Some(match self.listing_count(&w.url, self.adds_as).await {
                Ok(0) => "it lists no entries now; new ones are captured from now on".into(),
                Ok(k) => format!(
                    "it has {k} entries; new ones are captured from now on; --backfill {k} captures these too"
                ),
                Err(e) => format!(
                    "its listing could not be read now ({e}); it is polled at the next `watch run`"
                ),
            });
            on_report(rep);
            return;
        };
        rep.message = Some(format!("capturing its {backfill} latest posts now"));
        on_report(rep);
        let url = w.url.clone();
        let row = self
            .read(move |ix| {
                ix.watchlist(None).ok().and_then(|rows| {
                    rows.into_iter()
                        .find(|r| r.url == url && r.kind == "account")
                })
            })
            .await;
        match row {
            Ok(Some(row)) => self.poll_account(&row).await.iter().for_each(on_report),
            Ok(None) => on_report(&Report::failed(
                &w.url,
                "added, but not found on the watchlist",
            )),
            Err(e) => on_report(&Report::failed(&w.url, e)),
        }
    }

    /// Puts posts on the watchlist, capturing at once (concurrently, sharing fsyncs) those
    /// the archive lacks. Each item is a URL and the account it was found through; all
    /// come from `origin` (which decides the fetcher).
    async fn add_posts(
        &self,
        items: Vec<(String, Option<String>, bool)>,
        every: Option<Every>,
        origin: &str,
    ) -> Vec<Report> {
        if items.is_empty() {
            return vec![];
        }
        let mut out: Vec<Report> = Vec::with_capacity(items.len());
        // (input, via, post id, captured now)
        let mut known: Vec<(String, Option<String>, String, bool)> = vec![];
        // The inputs a poll found posted after their account was added.
        let fresh: HashSet<String> = items
            .iter()
            .filter(|(_, _, f)| *f)
            .map(|(u, _, _)| u.clone())
            .collect();
        let mut missing = vec![];
        // What the captures of posts already gone found (post id to outcome and cause).
        let mut gone: std::collections::HashMap<String, (Option<Outcome>, Option<Cause>)> =
            Default::default();
        let found = self
            .read(move |ix| {
                items
                    .into_iter()
                    .map(|(input, via, _)| {
                        // A post known only from gone answers has nothing captured yet:
                        // it is captured again (a second answer, or its first sighting).
                        let id =
                            resolve(ix, &input).filter(|id| ix.post(id).ok().flatten().is_some());
                        (input, via, id)
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("{e}");
                return vec![];
            }
        };
        for (input, via, id) in found {
            match id {
                Some(id) => known.push((input, via, id, false)),
                None => missing.push((input, via)),
            }
        }
        if !missing.is_empty() {
            let urls = missing.iter().map(|(u, _)| u.clone()).collect();
            let results = capture::capture_all(
                urls,
                &CaptureOptions {
                    clock: self.clock,
                    comments: self.comments_limit,
                    run: self.run.clone(),
                    renderer: self.renderer.clone(),
                    ..CaptureOptions::default()
                },
                self.fetcher_for(origin).clone(),
                self.writer.clone(),
                self.concurrency,
                |_| {},
            )
            .await;
            for ((input, via), r) in missing.into_iter().zip(results) {
                match r.post_id {
                    // A post gone at its first capture is held from its check record, and
                    // watched like any other: its next check follows up the first answer.
                    Some(id) if r.status == "gone" || r.status == "not_found" => {
                        gone.insert(id.clone(), (r.outcome, r.cause));
                        known.push((input, via, id, true))
                    }
                    Some(id) if r.status != "failed" => known.push((input, via, id, true)),
                    _ => {
                        let why = match (r.status, r.outcome) {
                            ("gone", Some(o)) => format!(
                                "the platform says the post is {}{}",
                                o.as_str(),
                                r.error.map(|m| format!(": {m}")).unwrap_or_default()
                            ),
                            _ => r.error.unwrap_or_else(|| "capture failed".into()),
                        };
                        out.push(Report::failed(&input, why))
                    }
                }
            }
        }
        let n = self.now();
        let every_d = every.as_ref().map(|e| e.value);
        let ids: Vec<String> = known.iter().map(|k| k.2.clone()).collect();
        let firsts = self
            .read(move |ix| {
                ids.iter()
                    .map(|id| ix.post_state(id).ok().flatten().and_then(|(_, f)| ts(&f)))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
        let mut pending = vec![];
        for (i, (input, via, id, captured)) in known.into_iter().enumerate() {
            let first = firsts.get(i).copied().flatten().unwrap_or(n);
            let found_gone = gone.get(&id).copied();
            let next = match found_gone {
                Some((Some(o), _)) if o.is_gone() => add(n, self.cfg.follow_up),
                _ => next_check(&self.cfg, first, n, every_d),
            };
            let mut w = watch_add(&input, "post", n, next, origin);
            w.every = every.as_ref().map(|e| e.text.clone());
            w.tags = self.tags.clone();
            w.new = fresh.contains(&input).then_some(true);
            w.post_id = Some(id.clone());
            w.via = via;
            let mut rep = Report::new(&input, if captured { "captured" } else { "added" });
            if let Some((outcome, cause)) = found_gone {
                rep.outcome = outcome;
                rep.cause = cause;
            }
            rep.post_id = Some(id);
            rep.next_check = w.next_check.clone();
            pending.push((w, rep));
        }
        // Big lists go in parts, so one batch never holds everything in memory twice.
        for chunk in pending.chunks(10_000) {
            let records = chunk.iter().map(|(w, _)| self.watch_record(w)).collect();
            match self.append(records).await {
                Ok(()) => out.extend(chunk.iter().map(|(_, r)| r.clone())),
                Err(e) => out.extend(chunk.iter().map(|(_, r)| Report::failed(&r.url, &e))),
            }
        }
        out
    }

    /// `watch remove`.
    pub async fn remove(&self, input: &str) -> Report {
        let key = input.to_string();
        let (rows, id) = match self
            .read(move |ix| (ix.watchlist(None).unwrap_or_default(), resolve(ix, &key)))
            .await
        {
            Ok(found) => found,
            Err(e) => return Report::failed(input, e),
        };
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
            post_id: row.post_id.clone(),
            at: Some(self.date_now()),
            ..Default::default()
        };
        match self.append(vec![self.watch_record(&w)]).await {
            Ok(()) => Report::new(&row.url, "removed"),
            Err(e) => Report::failed(input, e),
        }
    }

    /// Does what is due now, at most `[watch] batch` items and `host_budget` per
    /// host, `concurrency` at once: account polls first (their new posts are captured
    /// before the re-checks run), then posts, young ones first, sources taking turns
    /// (see [`schedule::plan_batch`]). Hosts that failed lately are left alone; a host that
    /// fails during the batch gets nothing more in it. What is left stays due: nothing is
    /// skipped for good, and an overdue post is checked once, not once per missed slot.
    pub async fn run_once(&self, mut on_report: impl FnMut(&Report)) -> Result<RunSummary> {
        use futures_util::StreamExt;
        let (cfg, budget, n) = (self.cfg.clone(), self.host_budget, self.now());
        let batch = self.read(move |ix| plan_due(ix, &cfg, budget, n)).await??;
        let mut summary = RunSummary {
            ran: 0,
            backing_off: batch.backing_off,
            over_host_budget: batch.over_host_budget,
            over_batch: batch.over_batch,
            stopped: 0,
        };
        let stopping = || self.stop.load(std::sync::atomic::Ordering::SeqCst);
        // Hosts that failed during this batch: their remaining items wait for a later one.
        let failed: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
        let skip = |host: &str| {
            failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(host)
        };
        let fail = |host: String| {
            failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(host);
        };
        let (skip, fail) = (&skip, &fail);
        let (accounts, posts): (Vec<_>, Vec<_>) = batch
            .take
            .into_iter()
            .partition(|(r, _)| r.kind == "account");
        let conc = self.concurrency;
        let mut s = futures_util::stream::iter(accounts)
            .map(|(r, host)| async move {
                if stopping() {
                    return Err(true);
                }
                if skip(&host) {
                    return Err(false);
                }
                let reps = self.poll_account(&r).await;
                if reps
                    .first()
                    .is_some_and(|p| p.outcome == Some(Outcome::Unreachable))
                {
                    fail(host);
                }
                Ok(reps)
            })
            .buffer_unordered(conc);
        while let Some(reps) = s.next().await {
            match reps {
                Ok(reps) => {
                    summary.ran += 1;
                    reps.iter().for_each(&mut on_report)
                }
                Err(true) => summary.stopped += 1,
                Err(false) => summary.backing_off += 1,
            }
        }
        drop(s);
        // A post seen unchanged in a fresh timeline page just now counts as its check
        // (its next check moved on): drop it from this batch, which saves a request.
        let mut posts = posts;
        if summary.ran > 0 {
            let at = self.date_now();
            let still_due: HashSet<String> = self
                .read(move |ix| ix.watchlist(Some(&at)))
                .await??
                .into_iter()
                .map(|r| r.url)
                .collect();
            posts.retain(|(r, _)| still_due.contains(&r.url));
        }
        // `conc` checks use the network at once; each gives its slot back when its
        // records are handed to the writer, and up to 8 times as many wait for the disk
        // together (group commit: one fsync for many checks).
        let slots = Arc::new(tokio::sync::Semaphore::new(conc));
        let mut s = futures_util::stream::iter(posts)
            .map(|(r, host)| {
                let slots = slots.clone();
                async move {
                    // The semaphore is never closed, so this always holds a slot.
                    let slot = slots.acquire_owned().await.ok();
                    if stopping() {
                        return Err(true);
                    }
                    if skip(&host) {
                        return Err(false);
                    }
                    let rep = match &r.post_id {
                        Some(id) => {
                            let seen = |o| {
                                if o == Outcome::Unreachable {
                                    fail(host)
                                }
                            };
                            self.check_post_in_slot(&r.url, id, r.every.as_deref(), slot, seen)
                                .await
                        }
                        None => Report::failed(&r.url, "watched post without a post id"),
                    };
                    Ok(rep)
                }
            })
            .buffer_unordered(conc * 8);
        while let Some(rep) = s.next().await {
            match rep {
                Ok(rep) => {
                    summary.ran += 1;
                    on_report(&rep)
                }
                Err(true) => summary.stopped += 1,
                Err(false) => summary.backing_off += 1,
            }
        }
        Ok(summary)
    }
}

/// Most items of one host per batch for these settings (see `[watch] host_budget`).
pub fn host_budget(config: &Config) -> usize {
    match (config.watch.host_budget, config.http.per_host_delay_ms) {
        (0, 0) => 0,
        // About a minute of polite requests per host, so a batch stays short.
        (0, delay) => (60_000 / delay).max(1) as usize,
        (n, _) => n,
    }
}

/// Until when, after `n`, a host is left alone because it failed lately (see
/// `[watch] backoff`); `None` when it may be asked now.
fn left_alone_until(
    cfg: &WatchConfig,
    h: &crate::store::index::HostRow,
    n: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    h.last_failure
        .as_deref()
        .and_then(ts)
        .and_then(|t| backoff_until(cfg, h.failures, t))
        .filter(|until| *until > n)
}

/// Hosts left alone at `n` because they failed lately.
fn hosts_backing_off(ix: &Index, cfg: &WatchConfig, n: jiff::Timestamp) -> Result<HashSet<String>> {
    Ok(ix
        .hosts()?
        .into_iter()
        .filter(|h| left_alone_until(cfg, h, n).is_some())
        .map(|h| h.host)
        .collect())
}

/// What a batch started at `n` would do.
pub fn plan_due(
    ix: &Index,
    cfg: &WatchConfig,
    host_budget: usize,
    n: jiff::Timestamp,
) -> Result<schedule::Batch> {
    let due = ix.watchlist(Some(&warc::warc_date(n)))?;
    let off = hosts_backing_off(ix, cfg, n)?;
    let due = due
        .into_iter()
        .map(|r| {
            let h = row_host(&r);
            (r, h)
        })
        .collect();
    Ok(plan_batch(due, n, cfg.batch, host_budget, &off))
}

/// `watch status`: posts per state, what is due, the backlog a batch started now would
/// leave, and how each host answered lately. Reads the index only.
pub fn watch_status(
    ix: &Index,
    root: &Path,
    config: &Config,
    clock: &Clock,
) -> Result<WatchStatus> {
    let n = clock.now();
    let cfg = &config.watch;
    let budget = host_budget(config);
    let counts = ix.watch_counts(&warc::warc_date(n))?;
    let hosts = ix
        .hosts()?
        .into_iter()
        .map(|h| HostStatus {
            backing_off_until: left_alone_until(cfg, &h, n).map(warc::warc_date),
            host: h.host,
            failures_in_a_row: h.failures,
            last_error: h.last_error,
            last_failure: h.last_failure,
            last_ok: h.last_ok,
        })
        .collect();
    let b = plan_due(ix, cfg, budget, n)?;
    let alerts = crate::alerts::status(ix, root, config, n)?;
    Ok(WatchStatus {
        alerts,
        counts,
        hosts,
        next_batch: NextBatch {
            would_run: b.take.len(),
            backing_off: b.backing_off,
            over_host_budget: b.over_host_budget,
            over_batch: b.over_batch,
            host_budget: budget,
            batch: cfg.batch,
        },
    })
}

/// What `watch run` does next: the earliest due entries (those due within a minute of the
/// first), and how long until then (zero when overdue: then all that is due now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextDue {
    /// Seconds from now until the first of them is due (0: due now).
    pub in_secs: u64,
    /// How many entries are due then.
    pub count: usize,
    /// Up to `names` of them: a post's id, an account's or feed's URL.
    pub names: Vec<String>,
}

/// [`NextDue`] for the watchlist at `n` (`None`: nothing is watched), naming at most
/// `names` entries, posts and accounts as the scheduler would take them (oldest due first).
pub fn next_due(ix: &Index, n: jiff::Timestamp, names: usize) -> Result<Option<NextDue>> {
    let mut rows: Vec<(jiff::Timestamp, WatchRow)> = ix
        .watchlist(None)?
        .into_iter()
        .filter_map(|r| ts(&r.next_due).map(|t| (t, r)))
        .collect();
    rows.sort_by_key(|r| r.0);
    let Some(first) = rows.first().map(|r| r.0) else {
        return Ok(None);
    };
    let until = if first <= n {
        n
    } else {
        add(first, Duration::from_secs(60))
    };
    let due: Vec<&WatchRow> = rows
        .iter()
        .take_while(|(t, _)| *t <= until)
        .map(|(_, r)| r)
        .collect();
    let in_secs = if first <= n {
        0
    } else {
        u64::try_from(first.duration_since(n).as_secs()).unwrap_or(0)
    };
    Ok(Some(NextDue {
        in_secs,
        count: due.len(),
        names: due
            .iter()
            .take(names)
            .map(|r| r.post_id.clone().unwrap_or_else(|| r.url.clone()))
            .collect(),
    }))
}

fn check_record(c: &CheckRecord) -> Record {
    c.to_record()
}

/// The post id a URL or id names, if the archive has the post ([`Index::find_post`];
/// a failing index reads as "not held").
pub fn resolve(ix: &Index, key: &str) -> Option<String> {
    ix.find_post(key).ok().flatten()
}

/// A per-entry interval (`watch add --every`), validated once: its text, as written into
/// the watch records, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Every {
    pub text: String,
    pub value: Duration,
}

impl Every {
    /// Parses `--every`; a bad value is a usage error naming the option. (0 keeps the
    /// decaying schedule for a post, as it always did.)
    pub fn parse(text: &str) -> Result<Every> {
        let value = crate::config::parse_duration(text)
            .map_err(|e| Error::Usage(format!("--every {e}")))?;
        Ok(Every {
            text: text.to_string(),
            value,
        })
    }
}

/// Whether an error means "stop": the archive refused a write.
pub fn is_fatal(e: &Error) -> bool {
    matches!(e, Error::Archive { .. } | Error::Index { .. })
}
