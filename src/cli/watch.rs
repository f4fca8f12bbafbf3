//! `samizdat watch ...`: the watchlist commands, and `watch run` over
//! [`samizdat::watch::Monitor`] with SIGINT/SIGTERM as its shutdown.

use super::args::WatchCommand;
use super::exit;
use super::render::{self, emit, print_json, print_lines};
use super::settings::{
    Settings, check_urls, load_config, open_index, read_url_list, writable_archive,
};
use samizdat::capture::{Fetcher, Writer};
use samizdat::error::{Error, Result};
use samizdat::store::archive::{Archive, layout};
use samizdat::watch::{Event, Every, Monitor, Watcher};
use std::sync::Arc;

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
    let every = match &cmd {
        WatchCommand::Add { every: Some(e), .. } => Some(Every::parse(e)?),
        _ => None,
    };
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
    let w =
        Watcher::new(&config, fetcher, writer, s.archive.join(layout::INDEX)).with_clock(s.clock);
    let mut failed = 0usize;
    let sr: &Settings = s;
    let res: Result<()> = sr.runtime()?.block_on(async {
        let mut report = |r: &samizdat::watch::Report| {
            if r.action == "failed" {
                failed += 1;
            }
            emit(sr, r);
        };
        match cmd {
            WatchCommand::Add {
                urls,
                from: _,
                every: _,
                backfill,
            } => {
                if urls.is_empty() {
                    return Err(Error::Usage("watch add: give URLs (or --from FILE)".into()));
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
            }
            WatchCommand::Run { once } => {
                let m = Monitor {
                    watcher: &w,
                    archive: sr.archive.clone(),
                    config: config.clone(),
                    config_path: sr.config_path.clone(),
                };
                let mut on = |e: Event<'_>| render::event(sr, &e, &mut failed);
                if once {
                    m.run_batch(&mut on).await?;
                } else {
                    m.run(shutdown_signal(), on).await?;
                }
            }
            WatchCommand::List | WatchCommand::Status => {}
        }
        Ok(())
    });
    drop(w);
    s.end_runtime();
    // The writer's own failure is reported even when the run already failed for it.
    if let Err(e) = handle.join() {
        render::err(&format!("samizdat: {e}"));
        failed = failed.max(1);
    }
    res?;
    Ok(exit::for_failures(failed))
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
    let v = samizdat::watch::watch_status(&ix, &config, &s.clock)?;
    if s.json {
        print_json(&render::to_json(&v));
    } else {
        print_lines(s, &render::watch_status(&v));
    }
    Ok(exit::OK)
}
