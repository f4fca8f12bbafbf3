//! The evidence layer: RFC 3161 timestamps over checkpoints, evidence bundles,
//! `verify-bundle`, and WACZ export (docs/evidence.md, issue 6).
//!
//! - [`der`]: the little DER reader/writer the rest needs.
//! - [`tsp`]: RFC 3161 requests and the native check of a reply (what it checks is listed there).
//! - this file: `timestamp` (ask every configured TSA, check each reply on receipt, store it
//!   beside the checkpoint as `log/checkpoints/<size:020>.tsr`, `.2.tsr`, …) and the re-check
//!   of stored replies that `verify` runs.
//! - [`bundle`]: `export POST --bundle` and its renderings; the `verify-bundle` command.
//! - [`check`]: what `verify-bundle` checks (bundle or WACZ), pure, bounded; over
//!   [`zipread`] (bounded zip reading) and [`warcstream`] (records checked as they stream).
//! - [`wacz`]: `export --wacz`.

pub mod bundle;
pub mod check;
pub mod der;
pub mod tsp;
pub mod wacz;
pub mod warcstream;
pub mod zipread;

use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::log::note::{Checkpoint, open_note};
use crate::store::archive::{self, layout};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What the command line hands to the evidence commands.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub archive: PathBuf,
    pub config_path: PathBuf,
    pub json: bool,
    pub quiet: bool,
}

impl Ctx {
    fn say(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }
}

pub(crate) fn print_json(v: &serde_json::Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(v).expect("JSON"));
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
}

/// `watch run`'s automatic timestamps (docs/evidence.md): when TSAs are configured and the
/// latest checkpoint has no token yet, ask for one at once after a post was found gone,
/// otherwise at most every `[timestamp] interval` (counted from the newest stored token).
/// `None` when nothing was due.
pub fn auto_timestamp(
    root: &Path,
    config: &Config,
    config_path: &Path,
    gone_found: bool,
) -> Option<Result<(Checkpoint, Vec<TsaOutcome>)>> {
    if config.timestamp.tsa.is_empty() {
        return None;
    }
    let verifier = archive::read_verifier(root).ok()?;
    let cp = archive::latest_checkpoint(root, &verifier).ok()??;
    let dir = root.join(layout::CHECKPOINTS_DIR);
    if dir.join(format!("{:020}.tsr", cp.size)).exists() {
        return None;
    }
    if !gone_found {
        let interval = crate::config::parse_duration(&config.timestamp.interval).ok()?;
        let newest = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tsr"))
            .filter_map(|e| e.metadata().ok()?.modified().ok())
            .max();
        if let Some(t) = newest
            && t.elapsed().unwrap_or_default() < interval
        {
            return None;
        }
    }
    Some(timestamp_latest(root, config, config_path))
}

/// Asks every configured TSA for a token over the latest checkpoint's exact bytes, checks
/// each reply, and stores the good ones beside the checkpoint. Returns the checkpoint and
/// one outcome per TSA. One TSA failing does not stop the others.
pub fn timestamp_latest(
    root: &Path,
    config: &Config,
    config_path: &Path,
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .at("tokio runtime")?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(config.http.timeout_ms))
        .connect_timeout(std::time::Duration::from_millis(
            config.http.connect_timeout_ms,
        ))
        .user_agent(config.http.user_agent.clone())
        .build()
        .map_err(|e| Error::Fetch {
            url: "TSA".into(),
            message: e.to_string(),
        })?;
    let mut out = vec![];
    for url in &config.timestamp.tsa {
        let nonce = tsp::new_nonce();
        let req = tsp::request(&digest, &nonce);
        let got: std::result::Result<Vec<u8>, String> = rt.block_on(async {
            let r = client
                .post(url)
                .header("Content-Type", "application/timestamp-query")
                .body(req)
                .send()
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            if !r.status().is_success() {
                return Err(format!("HTTP {}", r.status()));
            }
            r.bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| format!("reading the reply: {e}"))
        });
        let res = got.and_then(|resp| {
            tsp::check_response(&resp, &digest, Some(&nonce), &anchors, &[])
                .map(|info| (resp, info))
        });
        match res {
            Ok((resp, info)) => {
                let _lock = archive::lock(root)?;
                let slot = stored_tsrs(root, cp.size).len() + 1;
                let p = tsr_path(root, cp.size, slot);
                archive::write_atomic(&p, &resp)?;
                out.push(TsaOutcome {
                    tsa: url.clone(),
                    ok: true,
                    file: Some(p.strip_prefix(root).unwrap_or(&p).display().to_string()),
                    token: Some(info),
                    error: None,
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
                });
            }
        }
    }
    Ok((cp, out))
}

/// `samizdat timestamp`.
pub fn timestamp_cmd(ctx: &Ctx) -> Result<u8> {
    if !archive::exists(&ctx.archive) {
        return Err(Error::Archive {
            path: ctx.archive.clone(),
            message: "no archive here".into(),
        });
    }
    let config = Config::load(&ctx.config_path)?;
    let (cp, outcomes) = timestamp_latest(&ctx.archive, &config, &ctx.config_path)?;
    report_outcomes(ctx, &cp, &outcomes);
    Ok(if outcomes.iter().all(|o| o.ok) { 0 } else { 1 })
}

/// Prints what `timestamp_latest` did (also used by `capture --timestamp`).
pub fn report_outcomes(ctx: &Ctx, cp: &Checkpoint, outcomes: &[TsaOutcome]) {
    if ctx.json {
        print_json(&serde_json::json!({"checkpoint_size": cp.size, "tokens": outcomes}));
        return;
    }
    for o in outcomes {
        match (&o.token, &o.error) {
            (Some(t), _) => ctx.say(format!(
                "timestamped checkpoint {} by {}: {} (signer {}{}) -> {}",
                cp.size,
                o.tsa,
                t.gen_time,
                t.signer,
                if t.chain_checked {
                    ", chain checked against tsa_ca"
                } else {
                    ", chain NOT checked: no tsa_ca configured"
                },
                o.file.as_deref().unwrap_or("")
            )),
            (_, Some(e)) => eprintln!("FAILED {}: {e}", o.tsa),
            _ => {}
        }
    }
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

/// `samizdat export`: `--bundle FILE` for one post, or `--wacz FILE`.
pub fn export_cmd(
    ctx: &Ctx,
    posts: &[String],
    bundle: Option<&Path>,
    wacz: Option<&Path>,
    query: Option<&str>,
    all: bool,
) -> Result<u8> {
    match (bundle, wacz) {
        (Some(out), None) => {
            if posts.len() != 1 || query.is_some() || all {
                return Err(Error::Usage(
                    "export --bundle takes exactly one POST".into(),
                ));
            }
            bundle::export_bundle(ctx, &posts[0], out)
        }
        (None, Some(out)) => wacz::export_wacz(ctx, posts, query, all, out),
        _ => Err(Error::Usage(
            "export: give --bundle FILE.zip or --wacz FILE.wacz".into(),
        )),
    }
}

/// `capture --timestamp`: after the capture (exit `code`), timestamp the latest checkpoint.
/// A TSA failure makes the exit 1; the capture itself is kept either way.
pub fn timestamp_after_capture(ctx: &Ctx, code: u8) -> Result<u8> {
    let config = Config::load(&ctx.config_path)?;
    match timestamp_latest(&ctx.archive, &config, &ctx.config_path) {
        Ok((cp, outcomes)) => {
            report_outcomes(ctx, &cp, &outcomes);
            Ok(if outcomes.iter().all(|o| o.ok) {
                code
            } else {
                code.max(1)
            })
        }
        Err(e) => {
            eprintln!("samizdat: timestamp: {e}");
            Ok(code.max(1))
        }
    }
}
