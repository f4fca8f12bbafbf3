//! Alerts (docs/alerts.md): telling people when a post they watch is deleted, censored,
//! restricted, edited or back, when a watched account posts, and when watching a host
//! keeps failing.
//!
//! # How an alert is made and delivered
//!
//! - Events are not kept anywhere of their own: the index derives them from the records
//!   (a check's `confirmed` or `restored` event, an `edited` check, a poll's new post, a
//!   host failing past `[watch] failing_after`; `store::index::alerts`). Only confirmed
//!   states are events: an `unreachable` check, a wall or a first gone answer never is.
//! - Each event has an idempotency key. A target begins with a `start` alert record
//!   (events before it are not sent to it, so adding a target does not replay history);
//!   every delivery is an alert record with the key. Both are in the log, so a rebuilt
//!   index knows what was sent and never sends it again.
//! - Delivery is at least once: a check's record is durable before any alert about it is
//!   tried, so `kill -9` between the two delivers it at the next start. A delivery that
//!   succeeded but whose record was cut off by a crash is sent again with the same key
//!   (`Idempotency-Key`, the Matrix transaction id, the mail's Message-ID).
//! - [`Alerter::run`] is its own task beside the checks: sends have their own client and
//!   timeouts, a failing target backs off (doubling from `[watch] alert_retry` up to
//!   `alert_retry_max`) and only its own alerts wait; failed attempts are noted in the
//!   index for `watch status`, `alerts status` and the web UI.
//!
//! # Layout
//! - `config`: `[[alerts]]` and `[smtp]`, validated at load.
//! - `format`: what an alert says and each target's body (pure).
//! - `send`: webhooks and mail (the one place alerts leave the process).
//! - here: events to alerts, and the delivery loop.

pub mod config;
pub mod format;
pub mod send;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::bodies::{ALERT_FORMAT, AlertRecord, PostRecord};
use crate::store::index::{EventRow, Index};
use crate::store::warc;
use config::AlertConfig;
use format::{Alert, CheckpointRef};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most alerts one pass sends to one target (the rest wait for the next pass).
const PER_PASS: usize = 100;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    pub delivered: usize,
    pub failed: usize,
    /// Alerts left for later (a target backing off, or past [`PER_PASS`]).
    pub waiting: usize,
}

/// One target's outcome in words, for the caller to print.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sent {
    pub target: String,
    /// The target without secrets (`slack webhook https://hooks.slack.com/…`).
    pub to: String,
    pub event: String,
    pub post_id: Option<String>,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The delivery of alerts of one archive.
pub struct Alerter {
    targets: Vec<AlertConfig>,
    sender: send::Sender,
    root: PathBuf,
    /// Where `start` and `delivered` records go (None: `alerts test`, which records
    /// nothing).
    writer: Option<crate::store::writer::Writer>,
    clock: Clock,
    public_url: Option<String>,
    failing_after: Duration,
    retry: Duration,
    retry_max: Duration,
    /// Per target: not before this instant (after a failure), and the failures in a row.
    backoff: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Alerter {
    /// `None` when no alert is configured.
    pub fn new(
        config: &crate::config::Config,
        root: &Path,
        writer: Option<crate::store::writer::Writer>,
        clock: Clock,
    ) -> Result<Option<Alerter>> {
        if config.alerts.is_empty() {
            return Ok(None);
        }
        let sender = send::Sender::new(config).map_err(|m| Error::Config {
            path: root.join(crate::store::archive::layout::CONFIG),
            message: m,
        })?;
        Ok(Some(Alerter {
            targets: config.alerts.clone(),
            sender,
            root: root.to_path_buf(),
            writer,
            clock,
            public_url: config.serve.public_url.clone(),
            failing_after: config.watch.failing_after,
            retry: config.watch.alert_retry,
            retry_max: config.watch.alert_retry_max,
            backoff: Mutex::new(HashMap::new()),
        }))
    }

    fn index_path(&self) -> PathBuf {
        self.root.join(crate::store::archive::layout::INDEX)
    }

    /// Writes a `start` record for each target that has none: from now on, its events
    /// are sent to it.
    pub async fn start(&self) -> Result<()> {
        let path = self.index_path();
        let ids: Vec<String> = self.targets.iter().map(AlertConfig::id).collect();
        let new: Vec<String> = blocking(move || {
            let ix = Index::open(&path, false)?;
            let mut out = vec![];
            for id in ids {
                if ix.alert_start(&id)?.is_none() {
                    out.push(id);
                }
            }
            Ok(out)
        })
        .await?;
        if new.is_empty() {
            return Ok(());
        }
        let at = self.clock.warc_date();
        let records = new
            .into_iter()
            .map(|target| {
                AlertRecord {
                    samizdat: ALERT_FORMAT.into(),
                    action: "start".into(),
                    target,
                    at: at.clone(),
                    key: None,
                    event: None,
                    post_id: None,
                    attempts: None,
                }
                .to_record()
            })
            .collect();
        self.writer()?.append(records).await.map(|_| ())
    }

    fn writer(&self) -> Result<&crate::store::writer::Writer> {
        self.writer
            .as_ref()
            .ok_or_else(|| Error::Usage("alerts: no archive writer (a test sends only)".into()))
    }

    /// One pass: every target's undelivered alerts, targets side by side (a hanging one
    /// holds up only itself), each target's in order, stopping at its first failure.
    pub async fn pass(&self, mut on: impl FnMut(&Sent)) -> Result<Pass> {
        self.start().await?;
        let path = self.index_path();
        let root = self.root.clone();
        let targets = self.targets.clone();
        let public_url = self.public_url.clone();
        let (now, failing_after) = (self.clock.now(), self.failing_after);
        let pending: Vec<Vec<Alert>> = blocking(move || {
            let ix = Index::open(&path, false)?;
            let mut out = vec![];
            for t in &targets {
                out.push(pending_for(
                    &ix,
                    &root,
                    t,
                    now,
                    failing_after,
                    public_url.as_deref(),
                )?);
            }
            Ok(out)
        })
        .await?;
        let mut sum = Pass::default();
        let sends = self
            .targets
            .iter()
            .zip(pending)
            .map(|(t, alerts)| self.deliver(t, alerts));
        for (target, results, waiting) in futures_util::future::join_all(sends).await {
            sum.waiting += waiting;
            for r in results {
                if r.ok {
                    sum.delivered += 1;
                } else {
                    sum.failed += 1;
                }
                on(&Sent {
                    target: target.id(),
                    to: target.target_words(),
                    ..r
                });
            }
        }
        Ok(sum)
    }

    /// One target's alerts, in order, until the first failure.
    async fn deliver<'t>(
        &self,
        target: &'t AlertConfig,
        alerts: Vec<Alert>,
    ) -> (&'t AlertConfig, Vec<Sent>, usize) {
        let id = target.id();
        let mut out = vec![];
        let total = alerts.len();
        if let Some((until, _)) = self.backoff.lock().unwrap().get(&id)
            && Instant::now() < *until
        {
            return (target, out, total);
        }
        for (n, a) in alerts.into_iter().enumerate() {
            if n >= PER_PASS {
                return (target, out, total - n);
            }
            let sent = |ok: bool, error: Option<String>| Sent {
                target: String::new(),
                to: String::new(),
                event: a.event.clone(),
                post_id: a.post_id.clone(),
                ok,
                error,
            };
            match self.sender.send(target, &a).await {
                Ok(()) => {
                    self.backoff.lock().unwrap().remove(&id);
                    let attempts = self.attempts(&id, &a.id).await + 1;
                    let rec = AlertRecord {
                        samizdat: ALERT_FORMAT.into(),
                        action: "delivered".into(),
                        target: id.clone(),
                        at: self.clock.warc_date(),
                        key: Some(a.id.clone()),
                        event: Some(a.event.clone()),
                        post_id: a.post_id.clone(),
                        attempts: Some(attempts),
                    };
                    let appended = match self.writer() {
                        Ok(w) => w.append(vec![rec.to_record()]).await,
                        Err(e) => Err(e),
                    };
                    match appended {
                        Ok(_) => out.push(sent(true, None)),
                        Err(e) => {
                            // Sent, but not recorded: it will be sent again (same key).
                            out.push(sent(true, Some(format!("delivered, not recorded: {e}"))));
                            return (target, out, total - n - 1);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        "alert {id}: {} {}: {e}",
                        a.event,
                        a.post_id.as_deref().unwrap_or("")
                    );
                    let fails = {
                        let mut b = self.backoff.lock().unwrap();
                        let fails = b.get(&id).map(|(_, f)| f + 1).unwrap_or(1);
                        let wait = self
                            .retry
                            .saturating_mul(1u32 << (fails - 1).min(20))
                            .min(self.retry_max);
                        b.insert(id.clone(), (Instant::now() + wait, fails));
                        fails
                    };
                    let _ = fails;
                    let (path, tid, key, err) =
                        (self.index_path(), id.clone(), a.id.clone(), e.clone());
                    let at = warc::warc_date(jiff::Timestamp::now());
                    if let Err(e2) = blocking(move || {
                        Index::open(&path, true)?.note_alert_failure(&tid, &key, &at, &err)
                    })
                    .await
                    {
                        tracing::warn!("alert {id}: the failure could not be noted: {e2}");
                    }
                    out.push(sent(false, Some(e)));
                    return (target, out, total - n);
                }
            }
        }
        (target, out, 0)
    }

    async fn attempts(&self, target: &str, key: &str) -> u32 {
        let (path, t, k) = (self.index_path(), target.to_string(), key.to_string());
        blocking(move || Index::open(&path, false)?.alert_attempts(&t, &k))
            .await
            .unwrap_or(0)
    }

    /// Passes until `stop` resolves: one at once, then every `every` (sooner after a
    /// failure's backoff ends). A pass that fails (the index busy) is logged and retried.
    pub async fn run(
        &self,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
        mut on: impl FnMut(&Sent),
    ) {
        let mut stop = std::pin::pin!(stop);
        loop {
            let pass = self.pass(&mut on);
            tokio::select! {
                r = pass => {
                    if let Err(e) = r {
                        tracing::warn!("alerts: {e}");
                    }
                }
                _ = &mut stop => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = &mut stop => return,
            }
        }
    }

    /// `alerts test`: a sample alert to every target, each outcome in `on`. Not recorded.
    pub async fn test(&self, mut on: impl FnMut(&Sent)) -> usize {
        let a = sample(self.clock.warc_date(), self.public_url.as_deref());
        let mut failed = 0;
        for t in &self.targets {
            let r = self.sender.send(t, &a).await;
            failed += r.is_err() as usize;
            on(&Sent {
                target: t.id(),
                to: t.target_words(),
                event: a.event.clone(),
                post_id: None,
                ok: r.is_ok(),
                error: r.err(),
            });
        }
        failed
    }

    pub fn targets(&self) -> &[AlertConfig] {
        &self.targets
    }
}

/// The sample of `alerts test`.
pub fn sample(at: String, public_url: Option<&str>) -> Alert {
    Alert {
        id: format!("test:{at}"),
        event: "test".into(),
        summary: format::summary("test", None, None, None, None),
        at,
        post_id: Some("web:example".into()),
        url: Some("https://example.org/a-post".into()),
        platform: Some("web".into()),
        author: Some("An Example".into()),
        text: Some("This is what an alert about a post looks like.".into()),
        old_text: None,
        state: Some("live".into()),
        cause: None,
        platform_words: None,
        last_seen_live: None,
        first_seen_gone: None,
        archived_url: public_url.map(|u| format!("{}/", u.trim_end_matches('/'))),
        check_record: None,
        leaf: None,
        checkpoint: None,
        host: None,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Log(format!("an index read failed: {e}")))?
}

/// The alerts `target` has not had yet, oldest first: its events since its start that
/// its filters let through and that were not delivered.
fn pending_for(
    ix: &Index,
    root: &Path,
    target: &AlertConfig,
    now: jiff::Timestamp,
    failing_after: Duration,
    public_url: Option<&str>,
) -> Result<Vec<Alert>> {
    let id = target.id();
    let Some(since) = ix.alert_start(&id)? else {
        return Ok(vec![]);
    };
    let delivered = ix.alerts_delivered(&id)?;
    let mut out = vec![];
    for ev in ix.alert_events(&since, now, failing_after)? {
        if delivered.contains(&ev.key) || !target.wants(&ev.kind, ev.cause.as_deref()) {
            continue;
        }
        if let Some(p) = &ev.post_id
            && !passes_filters(ix, target, p)?
        {
            continue;
        }
        out.push(alert_of(ix, root, &ev, public_url)?);
        if out.len() > PER_PASS {
            break;
        }
    }
    Ok(out)
}

fn passes_filters(ix: &Index, t: &AlertConfig, post_id: &str) -> Result<bool> {
    if t.platform.is_empty() && t.account.is_empty() && t.tag.is_empty() {
        return Ok(true);
    }
    let s = ix.alert_subject(post_id)?;
    let platform = t.platform.is_empty() || t.platform.contains(&s.platform);
    let account = t.account.is_empty()
        || t.account.iter().any(|a| {
            let a = a.trim_start_matches('@');
            s.accounts
                .iter()
                .any(|x| x.trim_start_matches('@').eq_ignore_ascii_case(a))
        });
    let tag = t.tag.is_empty() || t.tag.iter().any(|x| s.tags.contains(x));
    Ok(platform && account && tag)
}

/// The alert of one event, with what the archive knows of its post.
pub fn alert_of(ix: &Index, root: &Path, ev: &EventRow, public_url: Option<&str>) -> Result<Alert> {
    let event = if ev.kind == "deleted" && ev.cause.as_deref() == Some("platform") {
        "censored".to_string()
    } else {
        ev.kind.clone()
    };
    let view = match &ev.post_id {
        Some(p) => ix.post_view(p)?,
        None => None,
    };
    let author = view.as_ref().and_then(|v| {
        v.post.author.as_ref().and_then(|a| {
            a.name
                .clone()
                .or_else(|| a.handle.clone())
                .or_else(|| a.id.clone())
        })
    });
    let old_text = match (&view, ev.kind.as_str()) {
        (Some(v), "edited") => {
            let i = v
                .captures
                .iter()
                .position(|c| c.record_ids.last() == ev.post_record.as_ref())
                .unwrap_or(v.captures.len().saturating_sub(1));
            match i.checked_sub(1).and_then(|j| v.captures.get(j)) {
                Some(c) => c
                    .record_ids
                    .last()
                    .map(|r| post_text(ix, root, r))
                    .transpose()?
                    .flatten(),
                None => None,
            }
        }
        _ => None,
    };
    let checkpoint = ev
        .leaf
        .map(|l| covering_checkpoint(root, l))
        .transpose()?
        .flatten();
    let since = ev.at.clone();
    Ok(Alert {
        id: ev.key.clone(),
        summary: format::summary(
            &event,
            ev.post_id.as_deref(),
            author.as_deref(),
            ev.host.as_deref(),
            // `watch_failing:<host>:<first failure>`
            ev.host
                .as_deref()
                .and_then(|h| ev.key.strip_prefix(&format!("watch_failing:{h}:")))
                .filter(|_| ev.kind == "watch_failing"),
        ),
        event,
        at: since,
        url: view.as_ref().map(|v| v.post.url.clone()),
        platform: view.as_ref().map(|v| v.post.platform.clone()).or_else(|| {
            ev.post_id
                .as_ref()
                .and_then(|p| p.split(':').next().map(str::to_string))
        }),
        author,
        text: view.as_ref().and_then(|v| v.post.text.clone()),
        old_text,
        state: view.as_ref().map(|v| v.state.as_str().to_string()),
        cause: ev.cause.clone(),
        platform_words: ev
            .message
            .clone()
            .or_else(|| view.as_ref().and_then(|v| v.message.clone())),
        last_seen_live: view.as_ref().and_then(|v| v.last_seen_live.clone()),
        first_seen_gone: view.as_ref().and_then(|v| v.first_seen_gone.clone()),
        archived_url: match (public_url, &ev.post_id) {
            (Some(u), Some(p)) => Some(format!(
                "{}/posts/{}",
                u.trim_end_matches('/'),
                url::form_urlencoded::byte_serialize(p.as_bytes()).collect::<String>()
            )),
            _ => None,
        },
        check_record: ev.check_record.clone(),
        leaf: ev.leaf,
        checkpoint,
        host: ev.host.clone().filter(|_| ev.kind == "watch_failing"),
        post_id: ev.post_id.clone(),
    })
}

/// The text of the post in post record `id`.
fn post_text(ix: &Index, root: &Path, id: &str) -> Result<Option<String>> {
    let Some(row) = ix.record_by_id(id)? else {
        return Ok(None);
    };
    let mut body = vec![];
    crate::store::record_stream::stream_record(
        root,
        &row,
        &mut std::io::sink(),
        &mut crate::store::record_stream::PayloadTo(&mut body, root),
    )?;
    Ok(serde_json::from_slice::<PostRecord>(&body)
        .ok()
        .and_then(|p| p.post.text))
}

/// The first stored checkpoint whose tree holds `leaf` (the one signed by the append
/// that wrote it, unless a crash cut it off), as `log/checkpoints/<size>` names it.
fn covering_checkpoint(root: &Path, leaf: u64) -> Result<Option<CheckpointRef>> {
    let files = crate::store::archive::checkpoint_files(root)?;
    let Some(p) = files.iter().find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|size| size > leaf)
    }) else {
        return Ok(None);
    };
    let verifier = crate::store::archive::read_verifier(root)?;
    let text = crate::store::archive::read_checkpoint_text(p)?;
    let Ok(note) = crate::log::note::open_note(&text, std::slice::from_ref(&verifier)) else {
        return Ok(None);
    };
    let cp = crate::log::note::Checkpoint::parse(&note.text)?;
    Ok(Some(CheckpointRef {
        origin: cp.origin,
        size: cp.size,
        root: cp.root.to_base64(),
    }))
}

/// Each target's state, for `alerts status`, `watch status` and the web UI.
pub fn status(
    ix: &Index,
    root: &Path,
    config: &crate::config::Config,
    now: jiff::Timestamp,
) -> Result<Vec<crate::store::views::AlertTargetStatus>> {
    let failing = ix.failing_alert_targets()?;
    let mut out = vec![];
    for t in &config.alerts {
        let id = t.id();
        let waiting = pending_for(ix, root, t, now, config.watch.failing_after, None)?.len();
        out.push(crate::store::views::AlertTargetStatus {
            to: t.target_words(),
            on: t.on.clone(),
            since: ix.alert_start(&id)?,
            delivered: ix.alerts_delivered(&id)?.len(),
            waiting,
            failing: failing.iter().find(|f| f.target == id).cloned(),
            target: id,
        });
    }
    Ok(out)
}
