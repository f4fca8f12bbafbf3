//! The `samizdat` command line (docs/cli.md): parses arguments ([`args`]) into typed
//! settings ([`settings`]), calls the library, renders what it returns ([`render`]:
//! the result on stdout, as JSON with `--json` or as words; notes, progress and errors on
//! stderr; a closed stdout ends quietly) and maps outcomes and errors to exit codes
//! ([`exit`]: 0 done, 1 some failed, 2 usage, 3 damage).
//!
//! - [`commands`]: init, capture, verify, log, reindex, timestamp, export, verify-bundle.
//! - [`posts`]: show, list.
//! - [`watch`]: the watchlist, and `watch run` with its signals.
//!
//! The library prints nothing; this module is the only place that writes to stdout or
//! stderr (besides tracing, and `serve`/`search`, which are the web room's).

mod args;
mod commands;
mod exit;
mod posts;
mod render;
mod settings;
mod watch;

use args::{Cli, Command, WatchCommand, WitnessCommand};
use clap::Parser;
use samizdat::error::{Error, Result};
use samizdat::store::index::ListFilter;
use serde_json::json;
use settings::Settings;
use std::process::ExitCode;

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    init_tracing(cli.quiet, cli.verbose);
    let mut s = match Settings::new(&cli) {
        Ok(s) => s,
        Err(e) => return failed(cli.json, &e),
    };
    match run(cli.command, &mut s) {
        Ok(code) => ExitCode::from(code),
        Err(e) => failed(s.json, &e),
    }
}

fn failed(json: bool, e: &samizdat::Error) -> ExitCode {
    report_error(json, e);
    ExitCode::from(exit::for_error(e))
}

/// An error that stopped the command: as JSON on stdout with `--json`, and always in
/// words on stderr.
fn report_error(json: bool, e: &samizdat::Error) {
    if json {
        render::print_json(&json!({"error": e.to_string()}));
    }
    render::err(&format!("samizdat: error: {e}"));
}

fn init_tracing(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAMIZDAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("samizdat={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn run(cmd: Command, s: &mut Settings) -> Result<u8> {
    match cmd {
        Command::Init { origin } => commands::init(s, origin),
        Command::Capture {
            urls,
            from,
            no_media,
            comments,
            timestamp,
            watch,
            render,
        } => {
            if render && watch {
                return Err(Error::Usage(
                    "--render does not go with --watch: set `[browser] render` for the watcher's captures (docs/render.md)".into(),
                ));
            }
            let code = if watch {
                settings::check_urls(&urls)?;
                settings::writable_archive(s, "capture")?;
                let mut urls = urls;
                if let Some(f) = &from {
                    urls.extend(settings::read_url_list(f)?);
                }
                watch::run(
                    s,
                    WatchCommand::Add {
                        urls,
                        from: None,
                        every: None,
                        backfill: None,
                        tags: vec![],
                    },
                )?
            } else {
                commands::capture(s, urls, from, no_media, comments, render)?
            };
            if timestamp {
                commands::timestamp_after_capture(s, code)
            } else {
                Ok(code)
            }
        }
        Command::Show { post } => posts::show(s, &post),
        Command::List {
            platform,
            state,
            since,
            author,
            limit,
        } => {
            let since = since
                .map(|v| settings::parse_since(&v, &s.clock))
                .transpose()?;
            posts::list(
                s,
                ListFilter {
                    platform,
                    state,
                    since,
                    author,
                    limit,
                },
            )
        }
        Command::Verify { record } => commands::verify(s, record),
        Command::Log(l) => commands::log(s, l),
        Command::Watch(w) => watch::run(s, w),
        Command::Alerts(a) => watch::alerts(s, a),
        Command::Witness(WitnessCommand::Init { name }) => commands::witness_init(s, &name),
        Command::Witness(WitnessCommand::Serve { listen }) => commands::witness_serve(s, listen),
        Command::Reindex => commands::reindex(s),
        Command::Timestamp => commands::timestamp(s),
        Command::Export {
            csv,
            jsonl,
            platform,
            state,
            since,
            author,
            pseudonymise,
            ids_only,
            query,
            ..
        } if csv.is_some() || jsonl.is_some() => {
            use samizdat::evidence::dataset::{Format, Options};
            let (format, out) = match (csv, jsonl) {
                (Some(p), _) => (Format::Csv, p),
                (None, Some(p)) => (Format::Jsonl, p),
                (None, None) => unreachable!("matched on one of them"),
            };
            let since = since
                .map(|v| settings::parse_since(&v, &s.clock))
                .transpose()?;
            commands::export_dataset(
                s,
                &out,
                Options {
                    format,
                    filter: ListFilter {
                        platform,
                        state,
                        since,
                        author,
                        limit: 0,
                    },
                    query,
                    pseudonymise,
                    ids_only,
                },
            )
        }
        Command::Export {
            posts,
            bundle,
            wacz,
            query,
            all,
            pdf,
            platform,
            state,
            since,
            author,
            pseudonymise,
            ids_only,
            ..
        } => {
            if platform.is_some()
                || state.is_some()
                || since.is_some()
                || author.is_some()
                || pseudonymise
                || ids_only
            {
                return Err(samizdat::error::Error::Usage(
                    "--platform, --state, --since, --author, --pseudonymise and --ids-only go with --csv FILE or --jsonl FILE".into(),
                ));
            }
            commands::export(
                s,
                &posts,
                bundle.as_deref(),
                wacz.as_deref(),
                query.as_deref(),
                all,
                pdf,
            )
        }
        Command::Serve { listen } => commands::serve(s, listen),
        Command::Search {
            query,
            platform,
            state,
            since,
            until,
            offset,
            limit,
        } => {
            let filter = samizdat::store::search::SearchFilter {
                platform,
                state,
                since: since
                    .map(|v| settings::parse_since(&v, &s.clock))
                    .transpose()?,
                until: until
                    .map(|v| settings::parse_time_bound("--until", &v, &s.clock))
                    .transpose()?,
            };
            commands::search(s, &query, &filter, offset, limit)
        }
        Command::VerifyBundle {
            file,
            vkey,
            tsa_ca,
            policy,
        } => commands::verify_bundle(
            s,
            &file,
            vkey.as_deref(),
            tsa_ca.as_deref(),
            policy.as_deref(),
        ),
    }
}
