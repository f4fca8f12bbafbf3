//! The evidence layer: RFC 3161 timestamps over checkpoints, evidence bundles,
//! `verify-bundle`, and WACZ export (docs/evidence.md, issue 6).
//!
//! - [`tsp`]: RFC 3161 requests and the native check of a reply (what it checks is listed
//!   there), on RustCrypto's strict DER types.
//! - this file: `timestamp` (ask every configured TSA, check each reply on receipt, store it
//!   beside the checkpoint as `log/checkpoints/<size:020>.tsr`, `.2.tsr`, …) and the re-check
//!   of stored replies that `verify` runs.
//! - [`bundle`]: `export POST --bundle` and its renderings; the `verify-bundle` command.
//! - [`check`]: what `verify-bundle` checks (bundle or WACZ), pure, bounded; over
//!   [`zipread`] (bounded zip reading) and [`warcstream`] (records checked as they stream).
//! - [`wacz`]: `export --wacz`, and the WACZ half of `verify-bundle`.
//! - this file also holds what bundle and WACZ export share (`open_index`, `zip_time`);
//!   [`check::Finding`] is the report line both checks produce, so `wacz` and `bundle`
//!   never import each other.
//!
//! Nothing here prints: each command returns what it did ([`Timestamped`], [`Exported`],
//! [`check::Report`]) and the command line renders it and picks the exit code.

pub mod bundle;
pub mod check;
pub mod check_witness;
pub mod custody;
pub mod dataset;
pub mod report;
pub mod stamp;
pub mod tsp;
pub mod wacz;
pub mod warcstream;
pub mod witness;
pub mod zipread;

use crate::capture::http::Fetcher;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::log::note::{Checkpoint, open_note};
use crate::store::archive::{self, layout};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where the evidence commands find the archive and its config.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub archive: PathBuf,
    pub config_path: PathBuf,
    /// Unused by the library (which prints nothing); kept so callers that build a `Ctx`
    /// need not change. Output is the caller's business.
    pub json: bool,
    /// Unused by the library, as `json`.
    pub quiet: bool,
}

/// The archive's index, or the error that says there is no archive at `root` (export's
/// first step, for bundles and WACZ alike).
pub(crate) fn open_index(root: &Path) -> Result<crate::store::index::Index> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here: run `samizdat init` or pass --archive DIR".into(),
        });
    }
    crate::store::index::Index::open(&root.join(layout::INDEX), false)
}

/// The modification time of every member samizdat writes into a zip (bundle or WACZ): a
/// fixed one, so the same archive exports to the same bytes.
pub(crate) fn zip_time() -> zip::DateTime {
    zip::DateTime::default()
}

/// `log/checkpoints/<size:020>.tsr` for slot 1, `.<n>.tsr` for slot n > 1.
pub fn tsr_path(root: &Path, size: u64, slot: usize) -> PathBuf {
    let dir = root.join(layout::CHECKPOINTS_DIR);
    if slot <= 1 {
        dir.join(format!("{size:020}.tsr"))
    } else {
        dir.join(format!("{size:020}.{slot}.tsr"))
    }
}

/// The stored timestamp replies of the checkpoint of `size`, in slot order.
pub fn stored_tsrs(root: &Path, size: u64) -> Vec<PathBuf> {
    let mut out = vec![];
    for slot in 1.. {
        let p = tsr_path(root, size, slot);
        if !p.exists() {
            break;
        }
        out.push(p);
    }
    out
}

/// The `tsa_ca` file, relative paths taken from the config file's folder.
pub fn tsa_ca_path(config: &Config, config_path: &Path) -> Option<PathBuf> {
    config.timestamp.tsa_ca.as_ref().map(|p| {
        if p.is_absolute() {
            p.clone()
        } else {
            config_path.parent().unwrap_or(Path::new(".")).join(p)
        }
    })
}

/// Trust anchors from a PEM file.
pub fn read_anchors(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).at(path)?;
    let certs = tsp::pem_certs(&text);
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no PEM certificate found",
            path.display()
        )));
    }
    Ok(certs)
}

/// One TSA's answer for one checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct TsaOutcome {
    pub tsa: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<tsp::TokenInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The local clock against the TSA's (docs/provenance.md): the middle of the request,
    /// by the local clock, minus the token's genTime, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<i64>,
    /// Set when that offset is past `[collector] max_clock_offset_ms` (plus the one second
    /// a genTime may be rounded to).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_warning: Option<String>,
}

/// The local clock at `sent` and `back` against a token's `gen_time`, and the warning when
/// it is off by more than `bound_ms` (a genTime may be whole seconds: one more is allowed).
pub fn tsa_clock_offset(
    sent: jiff::Timestamp,
    back: jiff::Timestamp,
    gen_time: &str,
    bound_ms: u64,
) -> (Option<i64>, Option<String>) {
    let Ok(g) = gen_time.parse::<jiff::Timestamp>() else {
        return (None, None);
    };
    let mid = (sent.as_millisecond() + back.as_millisecond()) / 2;
    let off = mid - g.as_millisecond();
    let limit = bound_ms as i64 + 1000 + (back.as_millisecond() - sent.as_millisecond()) / 2;
    let warning = (off.abs() > limit).then(|| {
        format!(
            "the local clock is {} ms {} the time-stamp authority's (more than [collector] max_clock_offset_ms = {bound_ms})",
            off.abs(),
            if off > 0 { "ahead of" } else { "behind" }
        )
    });
    (Some(off), warning)
}

/// `watch run`'s automatic timestamps (docs/evidence.md): when TSAs are configured and the
/// latest checkpoint has no token yet, ask for one at once after a post was found gone,
/// otherwise at most every `[timestamp] interval` (counted from the newest stored token).
/// `None` when nothing was due. The TSAs are asked through `fetcher`, the watcher's own.
pub async fn auto_timestamp(
    root: &Path,
    config: &Config,
    config_path: &Path,
    gone_found: bool,
    fetcher: &Fetcher,
) -> Option<Result<(Checkpoint, Vec<TsaOutcome>)>> {
    if !timestamp_due(root, config, gone_found) {
        return None;
    }
    Some(timestamp_latest(root, config, config_path, fetcher).await)
}

/// Whether [`auto_timestamp`] should ask now (a few small file reads).
fn timestamp_due(root: &Path, config: &Config, gone_found: bool) -> bool {
    if config.timestamp.tsa.is_empty() {
        return false;
    }
    let Some(cp) = archive::read_verifier(root)
        .ok()
        .and_then(|v| archive::latest_checkpoint(root, &v).ok().flatten())
    else {
        return false;
    };
    let dir = root.join(layout::CHECKPOINTS_DIR);
    if dir.join(format!("{:020}.tsr", cp.size)).exists() {
        return false;
    }
    if gone_found {
        return true;
    }
    let interval = config.timestamp.interval;
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return false;
    };
    let newest = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tsr"))
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max();
    newest.is_none_or(|t| t.elapsed().unwrap_or_default() >= interval)
}

/// Asks every configured TSA for a token over the latest checkpoint's exact bytes, checks
/// each reply, and stores the good ones beside the checkpoint. Returns the checkpoint and
/// one outcome per TSA. One TSA failing does not stop the others.
///
/// The queries go through `fetcher`, like every other request of the process: `[http]
/// proxy`, `extra_ca_file`, the user agent, timeouts and host overrides apply (a TSA
/// asked directly would learn the address of a user who configured a proxy).
pub async fn timestamp_latest(
    root: &Path,
    config: &Config,
    config_path: &Path,
    fetcher: &Fetcher,
) -> Result<(Checkpoint, Vec<TsaOutcome>)> {
    if config.timestamp.tsa.is_empty() {
        return Err(Error::Config {
            path: config_path.to_path_buf(),
            message: "no time-stamp authority configured: add [timestamp] tsa = [\"https://…\"]"
                .into(),
        });
    }
    let verifier = archive::read_verifier(root)?;
    let cp = archive::latest_checkpoint(root, &verifier)?
        .ok_or_else(|| Error::NotFound("no checkpoint yet: capture something first".into()))?;
    let cp_path = root
        .join(layout::CHECKPOINTS_DIR)
        .join(format!("{:020}", cp.size));
    let bytes = std::fs::read(&cp_path).at(&cp_path)?;
    open_note(
        &String::from_utf8_lossy(&bytes),
        std::slice::from_ref(&verifier),
    )
    .map_err(|e| Error::Log(format!("{}: {e}", cp_path.display())))?;
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    let anchors = match tsa_ca_path(config, config_path) {
        Some(p) => read_anchors(&p)?,
        None => vec![],
    };
    let mut out = vec![];
    for url in &config.timestamp.tsa {
        let nonce = tsp::new_nonce();
        let sent = fetcher.clock().now();
        let asked = ask_tsa(fetcher, url, &digest, &nonce).await;
        let back = fetcher.clock().now();
        let res = match asked {
            Ok(resp) => tsp::check_response(&resp, &digest, Some(&nonce), &anchors, &[])
                .map(|info| (resp, info)),
            Err(e) => Err(e),
        };
        match res {
            Ok((resp, info)) => {
                let (r, size) = (root.to_path_buf(), cp.size);
                let p = tokio::task::spawn_blocking(move || store_reply(&r, size, &resp))
                    .await
                    .map_err(|e| Error::Archive {
                        path: root.to_path_buf(),
                        message: format!("storing a timestamp reply: {e}"),
                    })??;
                let (clock_offset_ms, clock_warning) = tsa_clock_offset(
                    sent,
                    back,
                    &info.gen_time,
                    config.collector.max_clock_offset_ms,
                );
                if let Some(w) = &clock_warning {
                    tracing::warn!("timestamp from {url}: {w}");
                }
                out.push(TsaOutcome {
                    tsa: url.clone(),
                    ok: true,
                    file: Some(p.strip_prefix(root).unwrap_or(&p).display().to_string()),
                    token: Some(info),
                    error: None,
                    clock_offset_ms,
                    clock_warning,
                });
            }
            Err(e) => {
                tracing::warn!("timestamp from {url}: {e}");
                out.push(TsaOutcome {
                    tsa: url.clone(),
                    ok: false,
                    file: None,
                    token: None,
                    error: Some(e),
                    clock_offset_ms: None,
                    clock_warning: None,
                });
            }
        }
    }
    Ok((cp, out))
}

/// One RFC 3161 query over HTTP (RFC 3161 section 3.4): the DER TimeStampReq POSTed as
/// `application/timestamp-query`; the reply's bytes, not yet checked.
async fn ask_tsa(
    fetcher: &Fetcher,
    url: &str,
    digest: &[u8; 32],
    nonce: &[u8],
) -> std::result::Result<Vec<u8>, String> {
    let url = url::Url::parse(url).map_err(|e| format!("bad TSA URL {url:?}: {e}"))?;
    let req = tsp::request(digest, nonce)?;
    let r = fetcher
        .post(&url, "application/timestamp-query", req, "RFC 3161 query")
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if !(200..300).contains(&r.status) {
        return Err(match reqwest::StatusCode::from_u16(r.status) {
            Ok(s) => format!("HTTP {s}"),
            Err(_) => format!("HTTP {}", r.status),
        });
    }
    if r.truncated {
        return Err("reading the reply: it is larger than [http] max_body_bytes".into());
    }
    Ok(r.body)
}

/// Stores a checked reply in the checkpoint's next free slot, under the archive lock.
fn store_reply(root: &Path, size: u64, resp: &[u8]) -> Result<PathBuf> {
    let _lock = archive::lock(root)?;
    let slot = stored_tsrs(root, size).len() + 1;
    let p = tsr_path(root, size, slot);
    archive::write_atomic(&p, resp)?;
    Ok(p)
}

/// What one round of timestamps did: the checkpoint and one outcome per TSA.
#[derive(Debug, Clone)]
pub struct Timestamped {
    pub checkpoint: Checkpoint,
    pub outcomes: Vec<TsaOutcome>,
}

impl Timestamped {
    /// Every TSA answered with a token that checks.
    pub fn all_ok(&self) -> bool {
        self.outcomes.iter().all(|o| o.ok)
    }
}

/// `samizdat timestamp` (and `capture --timestamp`): tokens for the latest checkpoint of
/// the archive at `root` from every TSA its config names.
///
/// The TSAs are asked through `fetcher` (built from the same config), like every other
/// request of the process.
pub async fn timestamp_archive(
    root: &Path,
    config_path: &Path,
    fetcher: &Fetcher,
) -> Result<Timestamped> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here".into(),
        });
    }
    let config = Config::load(config_path)?;
    let (checkpoint, outcomes) = timestamp_latest(root, &config, config_path, fetcher).await?;
    Ok(Timestamped {
        checkpoint,
        outcomes,
    })
}

/// One stored reply that did not check out.
#[derive(Debug, Clone)]
pub struct TimestampProblem {
    pub file: String,
    pub what: String,
}

/// Re-checks every stored timestamp reply against its checkpoint's bytes (and against
/// `[timestamp] tsa_ca` of `root/samizdat.toml`, when set). Returns (replies checked, problems).
pub fn check_stored_timestamps(root: &Path) -> Result<(usize, Vec<TimestampProblem>)> {
    let cfg_path = root.join(layout::CONFIG);
    let anchors = Config::load(&cfg_path)
        .ok()
        .and_then(|c| tsa_ca_path(&c, &cfg_path))
        .and_then(|p| read_anchors(&p).ok())
        .unwrap_or_default();
    let dir = root.join(layout::CHECKPOINTS_DIR);
    let mut checked = 0;
    let mut problems = vec![];
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(_) => return Ok((0, problems)),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names.iter().filter(|n| n.ends_with(".tsr")) {
        let rel = format!("{}/{name}", layout::CHECKPOINTS_DIR);
        let size_part = name.split('.').next().unwrap_or("");
        let cp_path = dir.join(size_part);
        let cp = match std::fs::read(&cp_path) {
            Ok(b) => b,
            Err(_) => {
                problems.push(TimestampProblem {
                    file: rel,
                    what: format!("timestamp reply without its checkpoint {size_part}"),
                });
                continue;
            }
        };
        let resp = std::fs::read(dir.join(name)).at(dir.join(name))?;
        let digest: [u8; 32] = Sha256::digest(&cp).into();
        checked += 1;
        if let Err(e) = tsp::check_response(&resp, &digest, None, &anchors, &[]) {
            problems.push(TimestampProblem {
                file: rel,
                what: format!("timestamp reply does not check: {e}"),
            });
        }
    }
    Ok((checked, problems))
}

/// What `samizdat export` wrote.
#[derive(Debug, Clone)]
pub enum Exported {
    Bundle(bundle::BundleSummary),
    Wacz(wacz::WaczSummary),
}

#[allow(clippy::too_many_arguments)] // the command's flags, one each
/// `samizdat export`: `--bundle FILE` for one post, or `--wacz FILE` (dated by `clock`).
pub fn export(
    ctx: &Ctx,
    posts: &[String],
    bundle: Option<&Path>,
    wacz: Option<&Path>,
    query: Option<&str>,
    all: bool,
    pdf: bundle::Pdf,
    clock: &crate::clock::Clock,
) -> Result<Exported> {
    match (bundle, wacz) {
        (Some(out), None) => {
            if posts.len() != 1 || query.is_some() || all {
                return Err(Error::Usage(
                    "export --bundle takes exactly one POST".into(),
                ));
            }
            bundle::write_bundle(ctx, &posts[0], out, pdf).map(Exported::Bundle)
        }
        (None, Some(out)) => {
            wacz::export_wacz_at(ctx, posts, query, all, out, clock).map(Exported::Wacz)
        }
        _ => Err(Error::Usage(
            "export: give --bundle FILE.zip or --wacz FILE.wacz".into(),
        )),
    }
}

#[cfg(test)]
mod tsa_clock_tests {
    use super::*;

    #[test]
    fn the_local_clock_is_compared_with_the_tsa_time() {
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let (off, w) = tsa_clock_offset(
            t("2026-12-03T10:00:00.200Z"),
            t("2026-12-03T10:00:00.400Z"),
            "2026-12-03T10:00:00Z",
            2000,
        );
        assert_eq!(off, Some(300));
        assert!(w.is_none());
        let (off, w) = tsa_clock_offset(
            t("2026-12-03T10:00:10Z"),
            t("2026-12-03T10:00:10Z"),
            "2026-12-03T10:00:00Z",
            2000,
        );
        assert_eq!(off, Some(10_000));
        assert!(w.unwrap().contains("ahead of"));
        let (_, w) = tsa_clock_offset(
            t("2026-12-03T09:59:50Z"),
            t("2026-12-03T09:59:50Z"),
            "2026-12-03T10:00:00Z",
            2000,
        );
        assert!(w.unwrap().contains("behind"));
        assert_eq!(
            tsa_clock_offset(
                t("2026-12-03T10:00:00Z"),
                t("2026-12-03T10:00:00Z"),
                "junk",
                1
            ),
            (None, None)
        );
    }
}
