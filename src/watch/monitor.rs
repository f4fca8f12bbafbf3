//! The monitor of `watch run`: batches of due work, each followed by the automatic
//! timestamp (see `evidence::auto_timestamp`), until a shutdown future resolves.
//!
//! The monitor prints nothing: it hands every [`Event`] to its caller, which renders it.
//! Signals are the caller's too: [`Monitor::run`] takes any future as its shutdown, so
//! the command line wires SIGINT and SIGTERM and tests can pass a timer.

use super::{Report, RunSummary, Watcher};
use crate::config::Config;
use crate::error::Result;
use crate::evidence::TsaOutcome;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Something the monitor did, for its caller to render.
#[derive(Debug)]
pub enum Event<'a> {
    /// The daemon loop started.
    Watching,
    /// One check, poll, capture or failure.
    Report(&'a Report),
    /// A batch ended (with what it left for later).
    Batch(&'a RunSummary),
    /// The automatic timestamp of the checkpoint of this size: one outcome per TSA.
    Timestamped {
        checkpoint_size: u64,
        outcomes: &'a [TsaOutcome],
    },
    /// The automatic timestamp could not be attempted.
    TimestampFailed(String),
    /// The daemon loop stopped after a shutdown, with nothing cut in half.
    Stopped,
}

/// `watch run` over one archive.
pub struct Monitor<'a> {
    pub watcher: &'a Watcher,
    /// The archive folder (for the automatic timestamps).
    pub archive: PathBuf,
    pub config: Config,
    pub config_path: PathBuf,
}

impl Monitor<'_> {
    /// One batch of due work (see [`Watcher::run_once`]), then the automatic timestamp
    /// when it is due. `watch run --once`.
    pub async fn run_batch(&self, on: &mut impl FnMut(Event<'_>)) -> Result<RunSummary> {
        let mut gone = false;
        let sum = self
            .watcher
            .run_once(|r| {
                gone |= r.outcome.is_some_and(|o| o.is_gone());
                on(Event::Report(r))
            })
            .await?;
        on(Event::Batch(&sum));
        self.auto_timestamp(gone, on).await;
        Ok(sum)
    }

    /// Batches until `shutdown` resolves. Then no new check or poll starts; those in
    /// flight finish and are written whole, so nothing is cut in half, and what was not
    /// started stays due for the next start.
    pub async fn run(
        &self,
        shutdown: impl Future<Output = ()>,
        mut on: impl FnMut(Event<'_>),
    ) -> Result<()> {
        let stop = self.watcher.stop.clone();
        let wake = tokio::sync::Notify::new();
        let work = async {
            on(Event::Watching);
            while !stop.load(Ordering::SeqCst) {
                let sum = self.run_batch(&mut on).await?;
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                // Work left that a batch could do now: go on at once (politeness paces
                // it); otherwise wait a little for the next due item.
                let pause = if sum.more_due() {
                    Duration::from_millis(10)
                } else {
                    Duration::from_secs(5)
                };
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = wake.notified() => {}
                }
            }
            on(Event::Stopped);
            Ok(())
        };
        let mut work = std::pin::pin!(work);
        let mut shutdown = std::pin::pin!(shutdown);
        let mut signalled = false;
        loop {
            tokio::select! {
                r = &mut work => return r,
                _ = &mut shutdown, if !signalled => {
                    signalled = true;
                    stop.store(true, Ordering::SeqCst);
                    // A stored permit: wakes the pause even if it has not begun yet.
                    wake.notify_one();
                }
            }
        }
    }

    /// Timestamps the latest checkpoint when it is due (see `evidence::auto_timestamp`),
    /// asking the TSAs through the watcher's own fetcher (its proxy and CA settings).
    async fn auto_timestamp(&self, gone: bool, on: &mut impl FnMut(Event<'_>)) {
        let res = crate::evidence::auto_timestamp(
            &self.archive,
            &self.config,
            &self.config_path,
            gone,
            &self.watcher.fetcher,
        )
        .await;
        match res {
            None => {}
            Some(Ok((cp, outcomes))) => on(Event::Timestamped {
                checkpoint_size: cp.size,
                outcomes: &outcomes,
            }),
            Some(Err(e)) => on(Event::TimestampFailed(e.to_string())),
        }
    }
}
