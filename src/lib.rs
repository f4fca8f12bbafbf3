//! samizdat: capture public posts into WARC files, prove them with a signed Merkle log,
//! watch them, and serve the archive.
//!
//! # Layout
//!
//! - [`model`]: the vocabulary: post, media, outcome, cause (docs/states.md, docs/post.md).
//! - [`platforms`]: one file per platform (and `feed` for RSS, Atom and JSON Feed);
//!   recognise URLs, plan requests, read responses. No I/O.
//! - [`capture`]: runs platform plans over HTTP, records every exchange, fetches media.
//!   Per-host politeness and the process-wide cap on exchanges in flight live in
//!   `capture::http::Fetcher`; concurrent captures with group commit in `capture_all`.
//! - [`store`]: the archive folder: WARC files (`store::warc`), the SQLite index
//!   (`store::index`), the archive-wide append lock and crash recovery (`store::archive`).
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
//! - [`verify`]: re-hash everything and name what is damaged.
//! - [`web`]: `samizdat serve` (pages, JSON API, the public log, API captures behind a
//!   bearer token and the SSRF guard) and `samizdat search` (`store::search`: FTS5 with
//!   CJK unigrams and bigrams).
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

pub use error::{Error, Result};
