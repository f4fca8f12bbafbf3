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
    let bar = progress_bar(s, urls.len() as u64, "capturing");
    let opts = CaptureOptions {
        no_media,
        clock: s.clock,
    };
    let results = s.runtime()?.block_on(capture::capture_all(
        urls,
        &opts,
        fetcher,
        writer,
        concurrency,
        |r| {
            bar.inc(1);
            bar.suspend(|| emit(s, r));
        },
    ));
    bar.finish_and_clear();
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
            format!("{} captured, {failed} not", results.len() - failed),
        );
    }
    Ok(exit::for_failures(failed))
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

pub fn export(
    s: &Settings,
    posts: &[String],
    bundle: Option<&Path>,
    wacz: Option<&Path>,
    query: Option<&str>,
    all: bool,
) -> Result<u8> {
    let done =
        samizdat::evidence::export(&evidence_ctx(s), posts, bundle, wacz, query, all, &s.clock)?;
    emit(s, &done);
    Ok(exit::OK)
}

pub fn verify_bundle(
    s: &Settings,
    file: &Path,
    vkey: Option<&Path>,
    tsa_ca: Option<&Path>,
) -> Result<u8> {
    let report = samizdat::evidence::bundle::verify_bundle_file(file, vkey, tsa_ca)?;
    emit(s, &report);
    Ok(exit::for_verdict(report.verdict()))
}

fn progress_bar(s: &Settings, len: u64, what: &str) -> indicatif::ProgressBar {
    if s.quiet || s.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

pub fn verify(s: &Settings) -> Result<u8> {
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
    let report = samizdat::verify::verify(&s.archive, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    emit(s, &report);
    Ok(exit::for_damage(!report.ok()))
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
            let p = s.archive.join(layout::CHECKPOINT);
            let text = std::fs::read_to_string(&p).map_err(|_| {
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
            let text: String = v
                .text
                .as_deref()
                .unwrap_or("")
                .chars()
                .take(100)
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            render::out(&format!(
                "{}  {}  {}  {}\n",
                v.id,
                v.state.as_str(),
                author,
                text
            ));
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
