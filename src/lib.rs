//! samizdat: capture public posts into WARC files, prove them with a signed Merkle log,
//! watch them, and serve the archive.
//!
//! # Layout
//!
//! - [`model`]: the vocabulary: post, media, outcome, cause (docs/states.md, docs/post.md).
//! - [`platforms`]: one file per platform (and `feed` for RSS, Atom and JSON Feed);
//!   recognise URLs, plan requests, read responses. No I/O. Shared helpers in
//!   `platforms::kit`; `platforms::testing` drives any plan over a fixture folder's
//!   manifest (see CONTRIBUTING.md). `extract` reads generic pages and never imports
//!   `platforms`.
//! - [`capture`]: runs platform plans over HTTP, records every exchange, fetches media.
//!   `capture::http::Fetcher` is the one HTTP client of the process (captures, checks,
//!   polls and the RFC 3161 queries): per-host politeness, the cap on exchanges in
//!   flight, proxy and CA settings; concurrent captures in `capture_all`.
//! - [`store`]: the archive folder: WARC files (`store::warc`, read by id through
//!   `store::files::WarcFiles` and `store::record_stream` with digest and leaf checks), the
//!   SQLite index (`store::index`: schema, numbered migrations, queries, derivation), the
//!   typed read model (`store::views`: what `show`, `list`, the API and bundles present),
//!   the bodies of samizdat's own records (`store::bodies`), the one writer thread with
//!   group commit (`store::writer`), the archive-wide append lock and crash recovery
//!   (`store::archive`).
//! - [`log`]: RFC 6962 Merkle maths (`log::merkle`, no I/O), the stored tree hashes
//!   (`log::hashes`), C2SP signed notes and checkpoints (`log::note`).
//! - [`evidence`]: RFC 3161 timestamps over checkpoints, evidence bundles and
//!   `verify-bundle`, WACZ export.
//! - [`watch`]: the watchlist and the monitor: account polls, re-checks on a decaying
//!   schedule, check records; priorities, fairness, host budgets and backoff in
//!   `watch::schedule` (pure), chosen and run in `Watcher::run_once`; the daemon loop in
//!   `watch::Monitor::run` (until a shutdown future resolves); index reads on the
//!   blocking pool; states are derived by `store::state` (pure; the index and
//!   `verify-bundle` both use it).
//! - [`alerts`]: telling people: events derived from the index (a confirmed deletion, an
//!   edit, a new post, a failing host), their payloads per target (`alerts::format`, pure),
//!   and delivery with retries (`alerts::send`, the one place alerts leave the process);
//!   what was delivered is recorded, so a rebuilt index never sends again.
//! - [`verify`]: re-hash everything and name what is damaged.
//! - [`web`]: `samizdat serve` (`web::state`, `pages`, `api`, `log`, `raw`: pages, JSON
//!   API, the public log, raw records, API captures behind a bearer token and the SSRF
//!   guard; the server takes its listener and a shutdown future) and search
//!   (`store::search`: FTS5 with CJK unigrams and bigrams).
//! - [`witness`]: samizdat as a C2SP tlog-witness (`witness serve`): the decision and its
//!   durable state per log, and the `add-checkpoint` endpoint.
//! - [`config`]: `samizdat.toml`, validated once into settings (durations as `Duration`).
//! - [`clock`]: the one [`clock::Clock`] (system, or fixed by `SAMIZDAT_NOW`) handed to
//!   everything that reads the time.
//! - [`error`]: the one error enum.
//!
//! The command line is the binary's `cli` module (`src/cli/`): it parses arguments into
//! typed settings, calls these rooms, renders what they return (words or `--json`) and
//! maps it to an exit code. The library prints nothing.
//!
//! No unsafe code, here or in the binary (`forbid`, so no module can allow it again). The
//! fuzz crate's library (`fuzz/src/lib.rs`) forbids it too; its one-line target binaries
//! cannot, because libfuzzer-sys's `fuzz_target!` expands to a `no_mangle` `extern "C"`
//! entry point, which the lint counts as unsafe.

#![forbid(unsafe_code)]

pub mod alerts;
pub mod capture;
pub mod clock;
pub mod config;
pub mod error;
pub mod evidence;
pub mod extract;
pub mod log;
pub mod model;
pub mod platforms;
pub mod store;
pub mod verify;
pub mod watch;
pub mod web;
pub mod witness;

pub use error::{Error, Result};
