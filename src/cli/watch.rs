//! `samizdat watch ...`: the watchlist commands, and `watch run` over
//! [`samizdat::watch::Monitor`] with SIGINT/SIGTERM as its shutdown.

use super::args::{AlertsCommand, WatchCommand};
use super::exit;
use super::render::{self, emit, print_json, print_lines};
use super::settings::{
    Settings, check_urls, load_config, open_index, read_url_list, writable_archive,
};
use samizdat::alerts::Alerter;
use samizdat::capture::{Fetcher, Writer};
use samizdat::error::{Error, Result};
use samizdat::store::archive::{Archive, layout};
use samizdat::watch::{Event, Every, Monitor, Watcher};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

/// How often `watch run` on a terminal says what is due next: `SAMIZDAT_WATCH_NEXT_SECS`
/// (seconds), 300 when unset.
const NEXT_EVERY_VAR: &str = "SAMIZDAT_WATCH_NEXT_SECS";

fn next_every() -> Result<Duration> {
    match std::env::var(NEXT_EVERY_VAR) {
        Err(_) => Ok(Duration::from_secs(300)),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| {
                Error::Usage(format!(
                    "{NEXT_EVERY_VAR}={v:?}: give a whole number of seconds (e.g. 300)"
                ))
            }),
    }
}

/// Whether `watch run` says what is due next after a batch: on a terminal once
/// `interval` has passed since it last did; elsewhere (a log) after each batch that ran
/// something, so an idle monitor does not fill the log.
fn tell_next(tty: bool, since_last: Duration, interval: Duration, ran: usize) -> bool {
    if tty { since_last >= interval } else { ran > 0 }
}

/// "next: 3 checks due in 4m12s: weibo:1, weibo:2, weibo:3", on stderr.
fn say_next(s: &Settings) {
    let line = open_index(s)
        .and_then(|ix| samizdat::watch::next_due(&ix, s.clock.now(), 3))
        .map(|n| next_line(n.as_ref()));
    match line {
        Ok(l) => render::say(s, l),
        Err(e) => render::say(s, format!("next: unknown ({e})")),
    }
}

fn next_line(n: Option<&samizdat::watch::NextDue>) -> String {
    let Some(n) = n else {
        return "next: nothing is watched (`samizdat watch add URL`)".into();
    };
    let what = if n.count == 1 { "check" } else { "checks" };
    let when = if n.in_secs == 0 {
        "now".to_string()
    } else {
        format!("in {}", short_duration(n.in_secs))
    };
    let mut names = n.names.join(", ");
    if n.count > n.names.len() {
        names += &format!(" and {} more", n.count - n.names.len());
    }
    format!("next: {} {what} due {when}: {names}", n.count)
}

/// 4m12s, 2h5m, 3d4h, 45s.
fn short_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m"),
        _ => format!("{d}d{h}h"),
    }
}

pub fn run(s: &mut Settings, mut cmd: WatchCommand) -> Result<u8> {
    match cmd {
        WatchCommand::List => return list(s),
        WatchCommand::Status => return status(s),
        _ => {}
    }
    // The URLs given, and a `--from` list (each of its lines), are checked before
    // anything is opened.
    if let WatchCommand::Add { urls, from, .. } = &mut cmd {
        check_urls(urls)?;
        if let Some(f) = from.take() {
            urls.extend(read_url_list(&f)?);
        }
    }
    // Validated before anything is opened: a bad value is a usage error (exit 2).
    if let WatchCommand::Add { tags, .. } = &cmd {
        for t in tags {
            if t.is_empty()
                || t.len() > 64
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(Error::Usage(format!(
                    "--tag {t:?}: want 1 to 64 letters, digits, '-', '_' or '.'"
                )));
            }
        }
    }
    let every = match &cmd {
        WatchCommand::Add { every: Some(e), .. } => Some(Every::parse(e)?),
        _ => None,
    };
    let next_every = next_every()?;
    writable_archive(
        s,
        match &cmd {
            WatchCommand::Add { .. } => "watch add",
            WatchCommand::Remove { .. } => "watch remove",
            WatchCommand::Check { .. } => "watch check",
            _ => "watch run",
        },
    )?;
    let config = load_config(s)?;
    let fetcher = Arc::new(Fetcher::new(&config, &s.config_path)?.with_clock(s.clock));
    let archive = Archive::open(&s.archive, config.clone())?.with_clock(s.clock);
    let (writer, handle) = Writer::start(archive);
    // Checks and polls tell the alerter nothing: it reads what they recorded.
    let alerter = match &cmd {
        WatchCommand::Run { .. } | WatchCommand::Check { .. } => {
            Alerter::new(&config, &s.archive, Some(writer.clone()), s.clock)?
        }
        _ => None,
    };
    let mut w =
        Watcher::new(&config, fetcher, writer, s.archive.join(layout::INDEX)).with_clock(s.clock);
    if let WatchCommand::Add { tags, .. } = &mut cmd {
        w.tags = std::mem::take(tags);
    }
    let mut failed = 0usize;
    let sr: &Settings = s;
    let res: Result<()> = sr.runtime()?.block_on(async {
        let mut report = |r: &samizdat::watch::Report| {
            if r.action == "failed" {
                failed += 1;
            }
            emit(sr, r);
        };
        // A target begins before the work, so what this run finds is sent to it.
        if let Some(a) = &alerter {
            a.start().await?;
        }
        match cmd {
            WatchCommand::Add {
                urls,
                from: _,
                every: _,
                backfill,
                tags: _,
            } => {
                if urls.is_empty() {
                    return Err(Error::Usage("watch add: give URLs (or --from FILE)".into()));
                }
                if let Some(b) = backfill.filter(|b| *b > 0) {
                    render::say(
                        sr,
                        format!("--backfill {b}: each account or feed is polled now and its {b} latest posts captured"),
                    );
                }
                w.add_many(&urls, every, backfill, report).await;
            }
            WatchCommand::Remove { urls } => {
                for u in urls {
                    let r = w.remove(&u).await;
                    report(&r);
                }
            }
            WatchCommand::Check { urls, all } => {
                if urls.is_empty() && !all {
                    return Err(Error::Usage("watch check: give URLs or --all".into()));
                }
                w.check_now(&urls, all, report).await?;
                if let Some(a) = &alerter {
                    a.pass(|x| emit(sr, x)).await?;
                }
            }
            WatchCommand::Run { once } => {
                let m = Monitor {
                    watcher: &w,
                    archive: sr.archive.clone(),
                    config: config.clone(),
                    config_path: sr.config_path.clone(),
                };
                // What is due next: at start; then, on a terminal, every `next_every`;
                // on anything else with each batch that did something.
                let tty = std::io::stderr().is_terminal();
                let mut last = std::time::Instant::now();
                // A post found gone sends the checkpoint to the witnesses at once.
                let witness_wake = tokio::sync::Notify::new();
                let mut on = |e: Event<'_>| {
                    if let Event::Report(r) = &e
                        && r.outcome.is_some_and(|o| o.is_gone())
                    {
                        witness_wake.notify_one();
                    }
                    let tell = match &e {
                        Event::Batch(sum) => tell_next(tty, last.elapsed(), next_every, sum.ran),
                        _ => false,
                    };
                    render::event(sr, &e, &mut failed);
                    if tell {
                        say_next(sr);
                        last = std::time::Instant::now();
                    }
                };
                say_next(sr);
                if once {
                    m.run_batch(&mut on).await?;
                    if let Some(a) = &alerter {
                        a.pass(|x| emit(sr, x)).await?;
                    }
                    if !config.log.witnesses.is_empty() {
                        for sub in samizdat::evidence::witness::submit_latest(
                            &sr.archive,
                            &config,
                            &w.fetcher,
                        )
                        .await?
                        {
                            if sub.status != "already" {
                                render::witnessed(sr, &sub);
                            }
                        }
                    }
                } else {
                    // The alerter beside the monitor, on its own timers: a slow or
                    // failing target never holds up a check. It stops with the monitor.
                    // So is witnessing (docs/evidence.md "Witnesses").
                    let done = tokio::sync::Notify::new();
                    let done_w = tokio::sync::Notify::new();
                    let monitor = async {
                        let r = m.run(shutdown_signal(), on).await;
                        done.notify_one();
                        done_w.notify_one();
                        r
                    };
                    let alerts = async {
                        if let Some(a) = &alerter {
                            a.run(ALERT_PASS_EVERY, done.notified(), |x| emit(sr, x)).await;
                        }
                    };
                    let witnessing = async {
                        if !config.log.witnesses.is_empty() {
                            samizdat::evidence::witness::run(
                                &sr.archive,
                                &config,
                                &w.fetcher,
                                &witness_wake,
                                done_w.notified(),
                                |x| render::witnessed(sr, x),
                            )
                            .await;
                        }
                    };
                    let (r, (), ()) = tokio::join!(monitor, alerts, witnessing);
                    r?;
                }
            }
            WatchCommand::List | WatchCommand::Status => {}
        }
        Ok(())
    });
    drop(w);
    drop(alerter);
    s.end_runtime();
    // The writer's own failure is reported even when the run already failed for it.
    if let Err(e) = handle.join() {
        render::err(&format!("samizdat: {e}"));
        failed = failed.max(1);
    }
    res?;
    Ok(exit::for_failures(failed))
}

/// How often `watch run` looks for alerts to send (each check's record is in the index
/// by then; a failing target waits out its own backoff).
const ALERT_PASS_EVERY: Duration = Duration::from_secs(1);

/// `samizdat alerts ...`.
pub fn alerts(s: &mut Settings, cmd: AlertsCommand) -> Result<u8> {
    let config = load_config(s)?;
    if config.alerts.is_empty() {
        return Err(Error::Usage(
            "no [[alerts]] in samizdat.toml: see docs/alerts.md".into(),
        ));
    }
    match cmd {
        AlertsCommand::Status => {
            let ix = open_index(s)?;
            let v = samizdat::alerts::status(&ix, &s.archive, &config, s.clock.now())?;
            if s.json {
                for t in &v {
                    print_json(&render::to_json(t));
                }
            } else {
                print_lines(s, &render::alert_targets(&v));
            }
            Ok(exit::OK)
        }
        AlertsCommand::Test => {
            let Some(a) = Alerter::new(&config, &s.archive, None, s.clock)? else {
                return Ok(exit::OK);
            };
            let sr: &Settings = s;
            let failed = sr
                .runtime()?
                .block_on(async { a.test(|x| emit(sr, x)).await });
            drop(a);
            s.end_runtime();
            Ok(exit::for_failures(failed))
        }
        AlertsCommand::Send => {
            writable_archive(s, "alerts send")?;
            let archive = Archive::open(&s.archive, config.clone())?.with_clock(s.clock);
            let (writer, handle) = Writer::start(archive);
            let a = Alerter::new(&config, &s.archive, Some(writer), s.clock)?;
            let sr: &Settings = s;
            let res = sr.runtime()?.block_on(async {
                match &a {
                    Some(a) => a.pass(|x| emit(sr, x)).await,
                    None => Ok(Default::default()),
                }
            });
            drop(a);
            s.end_runtime();
            if let Err(e) = handle.join() {
                render::err(&format!("samizdat: {e}"));
                return Ok(exit::for_failures(1));
            }
            let p = res?;
            if p.waiting > 0 {
                render::say(
                    s,
                    format!("{} alerts wait for a target that failed", p.waiting),
                );
            }
            Ok(exit::for_failures(p.failed))
        }
    }
}

/// Resolves on SIGINT or SIGTERM. Should the SIGTERM handler not install, Ctrl-C still
/// works (and the failure is logged).
pub(super) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!("no SIGTERM handler ({e}): stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn list(s: &Settings) -> Result<u8> {
    let ix = open_index(s)?;
    for r in ix.watchlist(None)? {
        emit(s, &r);
    }
    Ok(exit::OK)
}

fn status(s: &Settings) -> Result<u8> {
    let ix = open_index(s)?;
    let config = load_config(s)?;
    let v = samizdat::watch::watch_status(&ix, &s.archive, &config, &s.clock)?;
    if s.json {
        print_json(&render::to_json(&v));
    } else {
        print_lines(s, &render::watch_status(&v));
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use samizdat::watch::NextDue;

    #[test]
    fn durations_read_short() {
        assert_eq!(short_duration(45), "45s");
        assert_eq!(short_duration(252), "4m12s");
        assert_eq!(short_duration(7500), "2h05m");
        assert_eq!(short_duration(3 * 86400 + 4 * 3600 + 5), "3d4h");
    }

    #[test]
    fn next_line_names_what_is_due() {
        let n = NextDue {
            in_secs: 252,
            count: 5,
            names: vec!["weibo:1".into(), "weibo:2".into(), "weibo:3".into()],
        };
        assert_eq!(
            next_line(Some(&n)),
            "next: 5 checks due in 4m12s: weibo:1, weibo:2, weibo:3 and 2 more"
        );
        let now = NextDue {
            in_secs: 0,
            count: 1,
            names: vec!["feed:x".into()],
        };
        assert_eq!(next_line(Some(&now)), "next: 1 check due now: feed:x");
        assert!(next_line(None).contains("nothing is watched"));
    }

    #[test]
    fn terminal_hears_on_the_interval_and_a_log_after_work() {
        let five = Duration::from_secs(300);
        assert!(!tell_next(true, Duration::from_secs(10), five, 3));
        assert!(tell_next(true, Duration::from_secs(300), five, 0));
        assert!(tell_next(false, Duration::from_secs(1), five, 1));
        assert!(!tell_next(false, Duration::from_secs(900), five, 0));
    }
}
