//! The commands other than `show`/`list` ([`super::posts`]) and `watch`
//! ([`super::watch`]): each calls the library, renders what it returns
//! ([`super::render`]) and picks the exit code ([`super::exit`]).

use super::args::LogCommand;
use super::exit;
use super::render::{self, Initialised, Line, emit, print_json, print_lines, say};
use super::settings::{
    Settings, check_urls, evidence_ctx, load_config, read_url_list, writable_archive,
};
use samizdat::capture::{self, CaptureOptions, Fetcher, Writer};
use samizdat::error::{Error, Result};
use samizdat::log::merkle::Hash;
use samizdat::store::archive::{self, Archive, layout};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn init(s: &Settings, origin: Option<String>) -> Result<u8> {
    if let Some(o) = &origin {
        samizdat::config::check_origin(o).map_err(|m| Error::Usage(format!("--origin {m}")))?;
    }
    writable_archive(s, "init")?;
    let existed = archive::exists(&s.archive);
    let mut config = load_config(s)?;
    if let Some(o) = origin {
        if config.log.origin.as_ref().is_some_and(|c| *c != o) {
            return Err(Error::Usage(format!(
                "--origin {o:?} differs from [log] origin {:?} in the config: give one name",
                config.log.origin.as_deref().unwrap_or("")
            )));
        }
        // An archive's log keeps its name for life: say so in the words of the flag.
        if let Ok(v) = std::fs::read_to_string(s.archive.join(layout::VERIFIER_KEY))
            && let Some(name) = v.trim().split('+').next()
            && name != o
        {
            return Err(Error::Usage(format!(
                "--origin {o:?}: this archive's log is named {name:?}, and a log keeps its origin for life (start a new archive for a new name)"
            )));
        }
        config.log.origin = Some(o);
    }
    let a = Archive::open(&s.archive, config)?.with_clock(s.clock);
    emit(s, &Initialised::of(&a, &s.archive, existed));
    Ok(exit::OK)
}

pub fn capture(
    s: &mut Settings,
    mut urls: Vec<String>,
    from: Option<PathBuf>,
    no_media: bool,
    comments: Option<usize>,
    render: bool,
) -> Result<u8> {
    check_urls(&urls)?;
    if let Some(f) = &from {
        urls.extend(read_url_list(f)?);
    }
    if urls.is_empty() {
        return Err(Error::Usage(
            "nothing to capture: give URLs or --from FILE".into(),
        ));
    }
    writable_archive(s, "capture")?;
    let config = load_config(s)?;
    let fetcher = Arc::new(Fetcher::new(&config, &s.config_path)?.with_clock(s.clock));
    let concurrency = config.http.concurrency;
    let comments = comments.unwrap_or(config.capture.comments);
    let run = Arc::new(samizdat::capture::provenance::RunFacts::of(&config, "cli"));
    let renderer = samizdat::capture::render::Renderer::new(&config.browser, render)
        .map_err(|e| Error::Usage(format!("cannot render: {e}")))?
        .map(Arc::new);
    let existed = archive::exists(&s.archive);
    let archive = Archive::open(&s.archive, config)?.with_clock(s.clock);
    if !existed {
        // A first capture made the archive: say once what `init` would have said.
        let made = Initialised::of(&archive, &s.archive, false);
        say(s, format!("created archive at {}", s.archive.display()));
        for l in made.explain() {
            say(s, l);
        }
        say(s, &made.vkey);
    }
    let (writer, handle) = Writer::start(archive);
    let progress = Progress::start(s, urls.len() as u64, "capturing");
    let opts = CaptureOptions {
        no_media,
        clock: s.clock,
        comments,
        run,
        renderer,
    };
    let pace = fetcher.clone();
    let results = s.runtime()?.block_on(capture::capture_all(
        urls,
        &opts,
        fetcher,
        writer,
        concurrency,
        |r| {
            progress.done(pace.pacing().as_ref());
            progress.bar.suspend(|| emit(s, r));
        },
    ));
    progress.bar.finish_and_clear();
    s.end_runtime();
    let mut failed = results.iter().filter(|r| !r.ok()).count();
    // The writer's own failure (an append that could not be made) is reported even when
    // every item already said so: the archive may need `samizdat verify`.
    if let Err(e) = handle.join() {
        render::err(&format!("samizdat: {e}"));
        failed = failed.max(1);
    }
    if !s.json && results.len() > 1 {
        say(
            s,
            format!(
                "{} captured, {failed} not, {}",
                results.len() - failed,
                progress.summary()
            ),
        );
        if let Some(p) = pace.pacing() {
            say(s, format!("paced: {}", p.words()));
        }
    }
    failed_list(s, &results);
    Ok(exit::for_failures(failed))
}

/// The end of a run: every URL not captured, with its reason, one line each on stderr,
/// and the same in `<archive>/failed/<time>.txt`, a list `capture --from` re-reads
/// (docs/cli.md, "Long runs").
fn failed_list(s: &Settings, results: &[capture::CaptureResult]) {
    let not: Vec<&capture::CaptureResult> = results.iter().filter(|r| !r.ok()).collect();
    if not.is_empty() {
        return;
    }
    let reason = |r: &capture::CaptureResult| {
        let why = match &r.error {
            Some(e) => format!("{}: {e}", r.status),
            None => r.status.to_string(),
        };
        render::printable(&why)
    };
    if !s.json {
        say(s, format!("not captured ({}):", not.len()));
        for r in &not {
            say(s, format!("  {}  {}", render::printable(&r.url), reason(r)));
        }
    }
    let now = s.clock.now();
    let dir = s.archive.join("failed");
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut path = dir.join(format!("{stamp}.txt"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = dir.join(format!("{stamp}-{n}.txt"));
    }
    let mut text = format!(
        "# samizdat capture at {now}: {} URLs not captured.\n# Re-run them: samizdat capture --from {}\n",
        not.len(),
        path.display()
    );
    for r in &not {
        text.push_str(&format!("# {}\n{}\n", reason(r), r.url));
    }
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, text)) {
        Ok(()) => say(
            s,
            format!(
                "the URLs not captured are listed in {} (re-run: samizdat capture --from {})",
                path.display(),
                path.display()
            ),
        ),
        Err(e) => render::err(&format!(
            "samizdat: could not write the list of URLs not captured to {}: {e}",
            path.display()
        )),
    }
}

/// `capture --timestamp`: after the capture (exit `code`), timestamp the latest checkpoint.
/// A TSA failure makes the exit 1; the capture itself is kept either way.
pub fn timestamp_after_capture(s: &Settings, code: u8) -> Result<u8> {
    let config = load_config(s)?;
    let asked = Fetcher::new(&config, &s.config_path).and_then(|fetcher| {
        let fetcher = fetcher.with_clock(s.clock);
        s.runtime()?.block_on(samizdat::evidence::timestamp_latest(
            &s.archive,
            &config,
            &s.config_path,
            &fetcher,
        ))
    });
    match asked {
        Ok((checkpoint, outcomes)) => {
            let t = samizdat::evidence::Timestamped {
                checkpoint,
                outcomes,
            };
            emit(s, &t);
            Ok(if t.all_ok() {
                code
            } else {
                exit::and_failed(code)
            })
        }
        Err(e) => {
            render::err(&format!("samizdat: timestamp: {e}"));
            Ok(exit::and_failed(code))
        }
    }
}

/// `samizdat timestamp`.
pub fn timestamp(s: &Settings) -> Result<u8> {
    writable_archive(s, "timestamp")?;
    let config = load_config(s)?;
    let fetcher = Fetcher::new(&config, &s.config_path)?.with_clock(s.clock);
    let t = s
        .runtime()?
        .block_on(samizdat::evidence::timestamp_archive(
            &s.archive,
            &s.config_path,
            &fetcher,
        ))?;
    emit(s, &t);
    Ok(exit::for_failures(usize::from(!t.all_ok())))
}

/// `export --csv FILE` / `--jsonl FILE` (docs/exports.md).
pub fn export_dataset(
    s: &Settings,
    out: &Path,
    opts: samizdat::evidence::dataset::Options,
) -> Result<u8> {
    let ix = crate::cli::settings::open_index(s)?;
    let done = samizdat::evidence::dataset::export_dataset(&s.archive, &ix, &opts, out)?;
    if s.json {
        print_json(&serde_json::to_value(&done).map_err(|e| Error::Log(e.to_string()))?);
    } else {
        say(
            s,
            format!(
                "wrote {} ({} posts), {} ({} checks) and {}{}",
                done.posts_file.display(),
                done.posts,
                done.checks_file.display(),
                done.checks,
                done.meta_file.display(),
                match (done.ids_only, done.pseudonymised) {
                    (true, _) => "; ids only, authors pseudonymised",
                    (false, true) => "; authors pseudonymised",
                    _ => "",
                }
            ),
        );
    }
    Ok(exit::OK)
}

pub fn export(
    s: &Settings,
    posts: &[String],
    bundle: Option<&Path>,
    wacz: Option<&Path>,
    query: Option<&str>,
    all: bool,
    pdf: bool,
) -> Result<u8> {
    use samizdat::evidence::{Exported, bundle::Pdf, custody};
    let pdf = if pdf {
        Pdf::Required
    } else {
        Pdf::IfConfigured
    };
    let mut done = samizdat::evidence::export(
        &evidence_ctx(s),
        posts,
        bundle,
        wacz,
        query,
        all,
        pdf,
        &s.clock,
    )?;
    if let Exported::Bundle(b) = &done {
        for w in &b.warnings {
            eprintln!("samizdat: warning: {w}");
        }
    }
    // The chain of custody: the archive says where this copy went (docs/provenance.md).
    let ev = match &done {
        Exported::Bundle(b) => custody::Event {
            action: "export_bundle",
            artifact: Some(&b.bundle),
            posts: vec![b.post_id.clone()],
            all: false,
            result: None,
        },
        Exported::Wacz(w) => custody::Event {
            action: "export_wacz",
            artifact: Some(&w.wacz),
            posts: if all { vec![] } else { w.post_ids.clone() },
            all,
            result: None,
        },
    };
    // A read-only archive (a court's copy, a mounted snapshot) is exported as it is: it
    // cannot hold the record, and says so.
    if let Err(e) = writable_archive(s, "export") {
        say(
            s,
            format!("note: this export's custody record was not written: {e}"),
        );
        emit(s, &done);
        return Ok(exit::OK);
    }
    let recorded = custody::record(&s.archive, &s.config_path, ev, &s.clock);
    let code = match recorded {
        Ok(id) => {
            match &mut done {
                Exported::Bundle(b) => b.custody = Some(id),
                Exported::Wacz(w) => w.custody = Some(id),
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("samizdat: the export was written, but its custody record was not: {e}");
            exit::FAILED
        }
    };
    emit(s, &done);
    Ok(code)
}

pub fn verify_bundle(
    s: &Settings,
    file: &Path,
    vkey: Option<&Path>,
    tsa_ca: Option<&Path>,
    policy: Option<&Path>,
) -> Result<u8> {
    let report = samizdat::evidence::bundle::verify_bundle_file(file, vkey, tsa_ca, policy)?;
    emit(s, &report);
    Ok(exit::for_verdict(report.verdict()))
}

/// How far back the rate of a long run is measured: the ETA follows the recent pace
/// (a politeness delay, a slow host), not the average since the start.
const RATE_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// The progress display of a long run on stderr: done/total, the rate over the last
/// [`RATE_WINDOW`], the ETA at that rate and, when a host's politeness delay sets the
/// pace, which (docs/cli.md, "Long runs"). It draws only on a terminal (and never with
/// `--quiet` or `--json`); [`Progress::summary`] is the plain words for the end.
struct Progress {
    bar: indicatif::ProgressBar,
    total: u64,
    started: std::time::Instant,
    /// When each of the items of the window was done.
    recent: std::sync::Mutex<std::collections::VecDeque<std::time::Instant>>,
}

impl Progress {
    fn start(s: &Settings, total: u64, what: &str) -> Progress {
        let bar = if s.quiet || s.json || !std::io::stderr().is_terminal() {
            indicatif::ProgressBar::hidden()
        } else {
            let b = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_prefix(what.to_string());
            b.enable_steady_tick(std::time::Duration::from_millis(500));
            b
        };
        Progress {
            bar,
            total,
            started: std::time::Instant::now(),
            recent: std::sync::Mutex::default(),
        }
    }

    /// One item done; `pacing` is what sets the pace so far, if a host's delay does.
    fn done(&self, pacing: Option<&capture::Pacing>) {
        let now = std::time::Instant::now();
        if let Ok(mut r) = self.recent.lock() {
            r.push_back(now);
        }
        self.bar.inc(1);
        let mut msg = self.rate_words(now);
        if let Some(p) = pacing {
            msg += &format!(" · paced: {}", p.words());
        }
        self.bar.set_message(msg);
    }

    /// Items per second over the last [`RATE_WINDOW`] (or since the start, when the run
    /// is younger), and how many are done.
    fn rate(&self, now: std::time::Instant) -> (f64, u64) {
        let done = self.bar.position();
        let Ok(mut r) = self.recent.lock() else {
            return (0.0, done);
        };
        while r
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > RATE_WINDOW)
        {
            r.pop_front();
        }
        let span = now
            .saturating_duration_since(self.started)
            .min(RATE_WINDOW)
            .as_secs_f64()
            .max(0.001);
        (r.len() as f64 / span, done)
    }

    fn rate_words(&self, now: std::time::Instant) -> String {
        let (rate, done) = self.rate(now);
        let left = self.total.saturating_sub(done);
        let eta = if left == 0 {
            "done".to_string()
        } else if rate > 0.0 {
            format!("eta {}", human_secs(left as f64 / rate))
        } else {
            "eta ?".to_string()
        };
        format!(
            "{} ({} s window) · {eta}",
            per_sec(rate),
            RATE_WINDOW.as_secs()
        )
    }

    /// The plain words for the end of a run: how long it took and its recent rate.
    fn summary(&self) -> String {
        let now = std::time::Instant::now();
        let (rate, _) = self.rate(now);
        format!(
            "in {}, {} over the last {} s",
            human_secs(now.saturating_duration_since(self.started).as_secs_f64()),
            per_sec(rate),
            RATE_WINDOW.as_secs()
        )
    }
}

/// A rate in words: "2.5/s", or "1 every 4 s" when it is slower than one a second.
fn per_sec(rate: f64) -> String {
    if rate >= 1.0 {
        format!("{rate:.1}/s")
    } else if rate > 0.0 {
        format!("1 every {}", human_secs(1.0 / rate))
    } else {
        "0/s".to_string()
    }
}

/// Seconds as a person reads them: "45 s", "3 min 20 s", "2 h 05 min".
fn human_secs(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

pub fn verify(s: &Settings, record: bool) -> Result<u8> {
    let bar = if s.quiet || s.json || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new_spinner();
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("verifying {bytes} {bytes_per_sec}")
        {
            b.set_style(style);
        }
        b
    };
    let mut report = samizdat::verify::verify(&s.archive, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    // Every stored cosignature of a configured witness (docs/evidence.md "Witnesses").
    let config = super::settings::load_config(s)?;
    if !config.log.witnesses.is_empty() {
        let (checked, problems) = samizdat::evidence::witness::verify_stored(&s.archive, &config)?;
        report.notes.push(format!(
            "{checked} witness cosignatures checked{}",
            if problems.is_empty() {
                ", all verify"
            } else {
                ""
            }
        ));
        report
            .problems
            .extend(problems.into_iter().map(|what| samizdat::verify::Problem {
                what,
                file: None,
                offset: None,
                record_id: None,
                target_uri: None,
                leaf: None,
            }));
    }
    emit(s, &report);
    let code = exit::for_damage(!report.ok());
    if record {
        let result = if report.ok() {
            "no damage found".to_string()
        } else {
            "damage found (see the verify report)".to_string()
        };
        let ev = samizdat::evidence::custody::Event {
            action: "verify",
            artifact: None,
            posts: vec![],
            all: true,
            result: Some(result),
        };
        match samizdat::evidence::custody::record(&s.archive, &s.config_path, ev, &s.clock) {
            Ok(id) => say(s, format!("recorded in the log as custody record {id}")),
            Err(e) => {
                eprintln!("samizdat: verify --record: the custody record was not written: {e}");
                return Ok(code.max(exit::FAILED));
            }
        }
    }
    Ok(code)
}

pub fn log(s: &Settings, cmd: LogCommand) -> Result<u8> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here".into(),
        });
    }
    let verifier = archive::read_verifier(&s.archive)?;
    let latest = archive::latest_checkpoint(&s.archive, &verifier)?;
    let hashes = samizdat::log::hashes::HashStore::open_read_only(&s.archive.join(layout::HASHES))?;
    let b64 = |h: &[Hash]| h.iter().map(|x| x.to_base64()).collect::<Vec<_>>();
    match cmd {
        LogCommand::Checkpoint => {
            // The stored note, with every witness's cosignature line after the log's.
            let text =
                samizdat::evidence::witness::cosigned_latest(&s.archive)?.ok_or_else(|| {
                    Error::NotFound("no checkpoint yet: capture something first".into())
                })?;
            if s.json {
                // A stored checkpoint that did not verify failed `latest_checkpoint` above.
                let cp = latest.ok_or_else(|| {
                    Error::NotFound("no checkpoint yet: capture something first".into())
                })?;
                print_json(
                    &json!({"origin": cp.origin, "size": cp.size, "root": cp.root.to_base64(), "note": text, "vkey": verifier.to_vkey()}),
                );
            } else {
                print_lines(s, &[Line::OutRaw(text)]);
            }
        }
        LogCommand::Witness { now } => {
            let config = super::settings::load_config(s)?;
            if config.log.witnesses.is_empty() {
                return Err(Error::Usage(
                    "no [[log.witnesses]] in samizdat.toml: see docs/evidence.md \"Witnesses\""
                        .into(),
                ));
            }
            let mut failed = 0;
            if now {
                super::settings::writable_archive(s, "log witness --now")?;
                let fetcher =
                    samizdat::capture::Fetcher::new(&config, &s.config_path)?.with_clock(s.clock);
                let subs = s
                    .runtime()?
                    .block_on(samizdat::evidence::witness::submit_latest(
                        &s.archive, &config, &fetcher,
                    ))?;
                for sub in &subs {
                    failed += (sub.status == "failed") as usize;
                    if s.json {
                        print_json(&super::render::to_json(sub));
                    } else {
                        print_lines(
                            s,
                            &[Line::Out(match (&sub.status, &sub.error) {
                                (&"failed", e) => format!(
                                    "witness {} ({}) FAILED to cosign size {}: {}",
                                    sub.witness,
                                    sub.host,
                                    sub.size,
                                    e.as_deref().unwrap_or("?")
                                ),
                                (st, _) => format!(
                                    "witness {} ({}) {} size {} at {}",
                                    sub.witness,
                                    sub.host,
                                    if *st == "already" {
                                        "had already cosigned"
                                    } else {
                                        "cosigned"
                                    },
                                    sub.size,
                                    unix_time(sub.timestamp)
                                ),
                            })],
                        );
                    }
                }
            }
            let states = samizdat::evidence::witness::states(&s.archive, &config)?;
            let quorum = samizdat::evidence::witness::quorum(&config);
            let size = latest.as_ref().map(|c| c.size).unwrap_or(0);
            let have = states
                .iter()
                .filter(|w| w.size == Some(size) && size > 0)
                .count();
            if s.json {
                print_json(
                    &json!({"witnesses": states, "quorum": quorum, "size": size, "cosigned": have}),
                );
            } else {
                let mut lines: Vec<Line> = states
                    .iter()
                    .map(|w| {
                        Line::Out(match w.size {
                            Some(n) => format!(
                                "witness {} ({}): cosigned size {n} at {}",
                                w.witness,
                                w.host,
                                unix_time(w.timestamp)
                            ),
                            None => format!(
                                "witness {} ({}): has cosigned nothing yet",
                                w.witness, w.host
                            ),
                        })
                    })
                    .collect();
                lines.push(Line::Out(format!(
                    "the latest checkpoint (size {size}) has {have} of the {quorum} cosignatures the quorum needs{}",
                    if have >= quorum { "" } else { ": not witnessed yet" }
                )));
                print_lines(s, &lines);
            }
            return Ok(exit::for_failures(failed));
        }
        LogCommand::Proof { leaf, size } => {
            let cp = latest
                .as_ref()
                .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
            let size = size.unwrap_or(cp.size);
            if leaf >= size || size > cp.size {
                return Err(Error::Usage(format!(
                    "leaf {leaf} is not in a tree of size {size} (the latest signed checkpoint \
                     covers {} leaves)",
                    cp.size
                )));
            }
            // Checked against the signed checkpoint: a damaged cache is refused (exit 3).
            let c = hashes.checked_inclusion(leaf, size, cp)?;
            let (proof, lh, root) = (c.proof, c.leaf_hash, c.root);
            if s.json {
                print_json(
                    &json!({"leaf_index": leaf, "tree_size": size, "leaf_hash": lh.to_base64(), "root": root.to_base64(), "proof": b64(&proof)}),
                );
            } else {
                let mut lines = vec![Line::Out(format!(
                    "leaf {leaf} of {size}\nleaf hash {}\nroot {}",
                    lh.to_base64(),
                    root.to_base64()
                ))];
                lines.extend(b64(&proof).into_iter().map(Line::Out));
                print_lines(s, &lines);
            }
        }
        LogCommand::Consistency { old_size, new_size } => {
            let cp = latest
                .as_ref()
                .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
            if old_size == 0 || old_size > new_size || new_size > cp.size {
                return Err(Error::Usage(format!(
                    "need 0 < OLD_SIZE <= NEW_SIZE <= {} (the latest signed checkpoint)",
                    cp.size
                )));
            }
            let (r1, r2, proof) = hashes.checked_consistency(old_size, new_size, cp)?;
            if s.json {
                print_json(
                    &json!({"old_size": old_size, "new_size": new_size, "old_root": r1.to_base64(), "new_root": r2.to_base64(), "proof": b64(&proof)}),
                );
            } else {
                let mut lines = vec![Line::Out(format!(
                    "{old_size} -> {new_size}\nold root {}\nnew root {}",
                    r1.to_base64(),
                    r2.to_base64()
                ))];
                lines.extend(b64(&proof).into_iter().map(Line::Out));
                print_lines(s, &lines);
            }
        }
    }
    Ok(exit::OK)
}

pub fn reindex(s: &Settings) -> Result<u8> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here".into(),
        });
    }
    // The index is not opened: it may be the damaged thing reindex is here to replace.
    writable_archive(s, "reindex")?;
    let r = archive::reindex(&s.archive, |_| {})?;
    emit(s, &r);
    Ok(exit::for_damage(r.damage_found()))
}

/// `samizdat serve`: the web UI and API on the process's one runtime, until SIGINT or
/// SIGTERM.
pub fn serve(s: &Settings, listen: Option<String>) -> Result<u8> {
    let mut config = load_config(s)?;
    // An archive this process cannot write is served read-only, and the line says why.
    if config.serve.token_file.is_some()
        && let Err(e) = writable_archive(s, "POST /api/captures")
    {
        render::err(&format!("samizdat: {e}; serving without captures"));
        config.serve.token_file = None;
    }
    let addr = listen.unwrap_or_else(|| config.serve.listen.clone());
    s.runtime()?.block_on(async {
        let listener = samizdat::web::bind(&addr).await?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io(&s.archive, e))?;
        render::err(&format!(
            "samizdat: serving {} on http://{local}/ ({})",
            s.archive.display(),
            samizdat::web::mode(&config)
        ));
        samizdat::web::serve(
            s.archive.clone(),
            config,
            s.config_path.clone(),
            listener,
            super::watch::shutdown_signal(),
        )
        .await
    })?;
    Ok(0)
}

/// `samizdat witness init --name NAME`: the witness's key, and its verifier key on stdout.
pub fn witness_init(s: &Settings, name: &str) -> Result<u8> {
    if !samizdat::log::note::is_valid_key_name(name) {
        return Err(Error::Usage(format!(
            "--name {name:?}: a witness name must be non-empty, without spaces or '+'"
        )));
    }
    writable_archive(s, "witness init")?;
    let (key, made) = samizdat::witness::init(&s.archive, name)?;
    if key.name() != name {
        return Err(Error::Usage(format!(
            "this folder's witness is named {:?} (keys/witness.key); a witness keeps its name",
            key.name()
        )));
    }
    if !s.quiet {
        render::err(&format!(
            "samizdat: witness {name} {} in {}",
            if made { "made" } else { "already there" },
            s.archive.join(samizdat::witness::KEY).display()
        ));
    }
    println!("{}", key.verifier().to_vkey());
    Ok(exit::OK)
}

/// `samizdat witness serve`: the witness endpoint on the process's one runtime, until
/// SIGINT or SIGTERM.
pub fn witness_serve(s: &Settings, listen: Option<String>) -> Result<u8> {
    let config = load_config(s)?;
    let w = std::sync::Arc::new(samizdat::witness::open(&s.archive, &config)?);
    let addr = listen.unwrap_or_else(|| config.witness.listen.clone());
    let limits = samizdat::web::server::Limits::of(&config.serve);
    s.runtime()?.block_on(async {
        let listener = samizdat::web::bind(&addr).await?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io(&s.archive, e))?;
        let origins: Vec<&str> = w.logs().iter().map(|l| l.origin.as_str()).collect();
        render::err(&format!(
            "samizdat: witness {} listening on http://{local}/ for {}",
            w.name(),
            origins.join(", ")
        ));
        samizdat::witness::server::serve(
            w.clone(),
            listener,
            limits,
            super::watch::shutdown_signal(),
        )
        .await;
        Ok::<_, Error>(())
    })?;
    Ok(exit::OK)
}

/// `samizdat search QUERY`: hits as words on stdout and a count on stderr (a note,
/// silenced by `--quiet`, with the `--offset` of the next page when there is one), or
/// one JSON line per hit.
pub fn search(
    s: &Settings,
    query: &str,
    filter: &samizdat::store::search::SearchFilter,
    offset: usize,
    limit: usize,
) -> Result<u8> {
    // 0 = all, as `list --limit 0`: every ranked hit.
    let limit = match limit {
        0 => samizdat::store::search::RANK_CAP,
        n => n,
    };
    let r = samizdat::web::search_archive(&s.archive, query, filter, offset, limit)?;
    for v in &r.results {
        if s.json {
            print_json(&super::render::to_json(v));
        } else {
            let author = v
                .author
                .as_ref()
                .and_then(|a| a.name.as_deref().or(a.id.as_deref()))
                .unwrap_or("");
            let head = format!(
                "{}  {}  {}  ",
                render::short_id(&v.id),
                v.state.as_str(),
                render::fit(author, 24)
            );
            let room = render::COLUMNS.saturating_sub(render::cols(&head)).max(10);
            let text = render::fit(v.text.as_deref().unwrap_or(""), room);
            render::out(&format!("{head}{}\n", text.trim_end()));
        }
    }
    if r.unstemmed {
        say(
            s,
            "note: this index predates stemmed search, so English words match only as written \
             (\"cards\" does not find \"card\"): the next command that writes to the archive \
             (capture, watch run) or `samizdat reindex` brings it up to date",
        );
    }
    if !s.json {
        say(
            s,
            format!(
                "{} of {}{} hits{}",
                r.results.len(),
                r.total,
                if r.capped { "+" } else { "" },
                match (r.results.len(), r.more) {
                    (0, _) if offset > 0 => format!(" (none from --offset {offset})"),
                    (n, _) if offset > 0 || r.more => format!(
                        " ({}-{}{})",
                        offset + 1,
                        offset + n,
                        if r.more {
                            format!("; next page: --offset {}", offset + n)
                        } else {
                            String::new()
                        }
                    ),
                    _ => String::new(),
                }
            ),
        );
    }
    Ok(0)
}

/// A cosignature's Unix time as RFC 3339 (or `?`).
fn unix_time(t: Option<u64>) -> String {
    t.and_then(|t| jiff::Timestamp::from_second(t as i64).ok())
        .map(|t| t.to_string())
        .unwrap_or_else(|| "?".into())
}
