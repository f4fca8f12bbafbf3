//! Witnessing (C2SP tlog-witness v1.0.0, tlog-cosignature v1): independent witnesses
//! cosign the log's checkpoints after checking that each extends the last one they saw,
//! so the log cannot show two histories (docs/evidence.md "Witnesses").
//!
//! - A submission is `POST <url>/add-checkpoint` with `old <size>\n`, the consistency
//!   proof from that size (base64 lines), a blank line and the signed checkpoint. A 200
//!   answers with cosignature lines, each verified here before it is kept; a 409 says
//!   (`text/x.tlog.size`) which size the witness has: the submission is made again from
//!   it; 404 (the witness does not know the log), 403 (the log's signature was refused)
//!   and 422 (the proof was refused) are reported in words.
//! - Cosignatures are stored beside their checkpoint, `log/checkpoints/<size>.cosignatures`
//!   (one line per witness), and `log/witnesses` remembers the size each witness last
//!   cosigned (a cache: a 409 corrects it).
//! - Every exchange goes through the process's [`Fetcher`] (its proxy, CA settings and
//!   timeouts), never recorded: witnessing is about the log, not a capture.

use crate::capture::Fetcher;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::log::cosignature::{CosignatureVerifier, signature_lines};
use crate::log::hashes::HashStore;
use crate::log::note::{Checkpoint, NoteSignature};
use crate::store::archive::{self, layout};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The content type of a 409's body (the witness's size).
pub const TLOG_SIZE: &str = "text/x.tlog.size";

/// One configured witness.
#[derive(Debug, Clone)]
pub struct Witness {
    pub verifier: CosignatureVerifier,
    /// The submission prefix (`<url>/add-checkpoint`).
    pub url: url::Url,
}

/// The configured witnesses (the config was validated at load).
pub fn witnesses(config: &Config) -> Result<Vec<Witness>> {
    config
        .log
        .witnesses
        .iter()
        .map(|w| {
            Ok(Witness {
                verifier: CosignatureVerifier::from_vkey(&w.vkey)?,
                url: url::Url::parse(&w.url)
                    .map_err(|e| Error::Log(format!("witness url {:?}: {e}", w.url)))?,
            })
        })
        .collect()
}

/// Cosignatures a checkpoint needs (`[log] witness_quorum`, default every witness).
pub fn quorum(config: &Config) -> usize {
    config
        .log
        .witness_quorum
        .unwrap_or(config.log.witnesses.len())
}

/// The archive's tlog-policy: its log key, the configured witnesses and the quorum.
pub fn policy(root: &Path, config: &Config) -> Result<crate::log::policy::Policy> {
    let log = archive::read_verifier(root)?;
    let ws: Vec<CosignatureVerifier> = witnesses(config)?.into_iter().map(|w| w.verifier).collect();
    Ok(crate::log::policy::Policy::for_log(
        &log,
        &ws,
        quorum(config),
    ))
}

/// Writes `keys/policy` when it is not what the config says (atomically); the policy.
/// A read-only archive keeps the file it has, and the policy is still returned.
pub fn ensure_policy(root: &Path, config: &Config) -> Result<crate::log::policy::Policy> {
    let p = policy(root, config)?;
    let text = p.render();
    let path = root.join(layout::POLICY);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str())
        && let Err(e) = archive::write_atomic(&path, text.as_bytes())
    {
        tracing::warn!("{}: not updated: {e}", path.display());
    }
    Ok(p)
}

/// Where a checkpoint's cosignatures are kept.
pub fn cosignatures_path(root: &Path, size: u64) -> PathBuf {
    root.join(layout::CHECKPOINTS_DIR)
        .join(format!("{size:020}.cosignatures"))
}

/// The stored cosignature lines of the checkpoint of `size` (each with its newline).
pub fn stored_lines(root: &Path, size: u64) -> Vec<String> {
    std::fs::read_to_string(cosignatures_path(root, size))
        .map(|t| t.lines().map(|l| format!("{l}\n")).collect())
        .unwrap_or_default()
}

/// The latest checkpoint as a note with every stored cosignature line after the log's
/// signature (what `log checkpoint` prints and `/log/checkpoint` serves).
pub fn cosigned_latest(root: &Path) -> Result<Option<String>> {
    let p = root.join(layout::CHECKPOINT);
    let text = match archive::read_checkpoint_text(&p) {
        Ok(t) => t,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let verifier = archive::read_verifier(root)?;
    let note = crate::log::note::open_note(&text, std::slice::from_ref(&verifier))
        .map_err(|e| Error::Damage(format!("{}: {e}", p.display())))?;
    let cp = Checkpoint::parse(&note.text)?;
    let mut out = text;
    for l in stored_lines(root, cp.size) {
        if !out.contains(&l) {
            out += &l;
        }
    }
    Ok(Some(out))
}

/// What one witness has cosigned, as this archive knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WitnessState {
    pub witness: String,
    /// The witness's host (its URL may carry a token).
    pub host: String,
    /// The largest size it cosigned, and its cosignature's time (Unix seconds).
    pub size: Option<u64>,
    pub timestamp: Option<u64>,
}

const STATE: &str = "log/witnesses";

/// `log/witnesses`: a line `<name> <size> <timestamp>` per witness.
fn read_state(root: &Path) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    if let Ok(t) = std::fs::read_to_string(root.join(STATE)) {
        for l in t.lines() {
            let f: Vec<&str> = l.split(' ').collect();
            if let [name, size, ts] = f[..]
                && let (Ok(s), Ok(t)) = (size.parse(), ts.parse())
            {
                out.insert(name.to_string(), (s, t));
            }
        }
    }
    out
}

fn write_state(root: &Path, state: &BTreeMap<String, (u64, u64)>) -> Result<()> {
    let text: String = state
        .iter()
        .map(|(n, (s, t))| format!("{n} {s} {t}\n"))
        .collect();
    archive::write_atomic(&root.join(STATE), text.as_bytes())
}

/// Each configured witness's state.
pub fn states(root: &Path, config: &Config) -> Result<Vec<WitnessState>> {
    let st = read_state(root);
    Ok(witnesses(config)?
        .into_iter()
        .map(|w| {
            let name = w.verifier.name().to_string();
            let got = st.get(&name);
            WitnessState {
                host: w.url.host_str().unwrap_or("?").to_string(),
                size: got.map(|g| g.0),
                timestamp: got.map(|g| g.1),
                witness: name,
            }
        })
        .collect())
}

/// What one submission did.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub witness: String,
    pub host: String,
    /// `cosigned`, `already` (it had cosigned this size), or `failed`.
    pub status: &'static str,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Submits the latest checkpoint to every witness that has not cosigned it.
pub async fn submit_latest(
    root: &Path,
    config: &Config,
    fetcher: &Fetcher,
) -> Result<Vec<Submitted>> {
    let verifier = archive::read_verifier(root)?;
    ensure_policy(root, config)?;
    let Some(cp) = archive::latest_checkpoint(root, &verifier)? else {
        return Ok(vec![]);
    };
    let note = archive::read_checkpoint_text(
        &root
            .join(layout::CHECKPOINTS_DIR)
            .join(format!("{:020}", cp.size)),
    )?;
    let mut out = vec![];
    for w in witnesses(config)? {
        out.push(submit(root, &w, &cp, &note, fetcher).await);
    }
    Ok(out)
}

/// Submits the checkpoint `cp` (its signed `note`) to `w`, and keeps the cosignature.
pub async fn submit(
    root: &Path,
    w: &Witness,
    cp: &Checkpoint,
    note: &str,
    fetcher: &Fetcher,
) -> Submitted {
    let name = w.verifier.name().to_string();
    let mut sub = Submitted {
        witness: name.clone(),
        host: w.url.host_str().unwrap_or("?").to_string(),
        status: "failed",
        size: cp.size,
        timestamp: None,
        error: None,
    };
    let mut state = read_state(root);
    if let Some((s, t)) = state.get(&name)
        && *s == cp.size
        && stored_lines(root, cp.size)
            .iter()
            .any(|l| l.starts_with(&format!("\u{2014} {name} ")))
    {
        sub.status = "already";
        sub.timestamp = Some(*t);
        return sub;
    }
    let mut old = state
        .get(&name)
        .map(|s| s.0)
        .filter(|s| *s <= cp.size)
        .unwrap_or(0);
    // At most two tries: the second from the size a 409 names.
    for _ in 0..2 {
        match add_checkpoint(root, w, cp, note, old, fetcher).await {
            Ok(Answer::Cosigned(line, ts)) => {
                if let Err(e) = keep(root, cp.size, &line) {
                    sub.error = Some(format!("cosigned, but it could not be kept: {e}"));
                    return sub;
                }
                state.insert(name.clone(), (cp.size, ts));
                if let Err(e) = write_state(root, &state) {
                    tracing::warn!("{STATE}: {e}");
                }
                sub.status = "cosigned";
                sub.timestamp = Some(ts);
                return sub;
            }
            Ok(Answer::Conflict(theirs)) if theirs > cp.size => {
                sub.error = Some(format!(
                    "the witness has cosigned a larger tree ({theirs} leaves) than this log's \
                     latest ({}): another log under this origin, or a fork: run `samizdat verify`",
                    cp.size
                ));
                return sub;
            }
            Ok(Answer::Conflict(theirs)) if theirs != old => old = theirs,
            Ok(Answer::Conflict(theirs)) => {
                sub.error = Some(format!(
                    "the witness answered 409 for its own size {theirs}"
                ));
                return sub;
            }
            Err(e) => {
                sub.error = Some(e);
                return sub;
            }
        }
    }
    sub.error = Some("the witness's size kept changing".into());
    sub
}

enum Answer {
    /// The cosignature line (verified) and its timestamp.
    Cosigned(String, u64),
    /// 409: the witness's size.
    Conflict(u64),
}

/// One `add-checkpoint` exchange.
async fn add_checkpoint(
    root: &Path,
    w: &Witness,
    cp: &Checkpoint,
    note: &str,
    old: u64,
    fetcher: &Fetcher,
) -> std::result::Result<Answer, String> {
    let mut body = format!("old {old}\n");
    if old > 0 && old < cp.size {
        let hashes =
            HashStore::open_read_only(&root.join(layout::HASHES)).map_err(|e| e.to_string())?;
        for h in hashes
            .consistency_proof(old, cp.size)
            .map_err(|e| e.to_string())?
        {
            body += &h.to_base64();
            body.push('\n');
        }
    }
    body.push('\n');
    body += note;
    let mut url = w.url.clone();
    url.path_segments_mut()
        .map_err(|_| "the witness URL cannot take a path".to_string())?
        .pop_if_empty()
        .push("add-checkpoint");
    let r = fetcher
        .post(
            &url,
            "text/plain; charset=utf-8",
            body.into_bytes(),
            "tlog-witness add-checkpoint",
        )
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let text = String::from_utf8_lossy(&r.body).into_owned();
    let words = || text.trim().chars().take(200).collect::<String>();
    match r.status {
        200 => {
            let checkpoint_text = cp.body();
            let lines: Vec<NoteSignature> = signature_lines(&format!("x\n\n{}", text));
            for (sig, line) in lines.iter().zip(text.lines()) {
                if w.verifier.is_mine(sig) {
                    let ts = w
                        .verifier
                        .verify(&checkpoint_text, sig)
                        .map_err(|e| format!("its cosignature does not verify: {e}"))?;
                    return Ok(Answer::Cosigned(format!("{line}\n"), ts));
                }
            }
            Err(format!(
                "200 without a cosignature by {}: {:?}",
                w.verifier.name(),
                words()
            ))
        }
        409 => {
            if !r.mime().eq_ignore_ascii_case(TLOG_SIZE) {
                return Err(format!("409 without a {TLOG_SIZE} body: {}", words()));
            }
            text.trim()
                .parse::<u64>()
                .map(Answer::Conflict)
                .map_err(|_| format!("409 with a size that is not a number: {:?}", words()))
        }
        404 => Err(format!(
            "404: the witness does not know this log ({}): ask its operator to add the origin and the log's vkey",
            cp.origin
        )),
        403 => Err(format!(
            "403: the witness refused the log's signature: {}",
            words()
        )),
        422 => Err(format!(
            "422: the witness refused the consistency proof from {old}: {}",
            words()
        )),
        s => Err(format!("HTTP {s}: {}", words())),
    }
}

/// Adds a cosignature line to the checkpoint's file (replacing that witness's older one).
fn keep(root: &Path, size: u64, line: &str) -> Result<()> {
    let name = line.split(' ').nth(1).unwrap_or("");
    let mut lines: Vec<String> = stored_lines(root, size)
        .into_iter()
        .filter(|l| l.split(' ').nth(1) != Some(name))
        .collect();
    lines.push(line.to_string());
    archive::write_atomic(&cosignatures_path(root, size), lines.concat().as_bytes())
}

/// `verify`'s part: every stored cosignature of a configured witness must verify over its
/// checkpoint. Returns (cosignatures checked, problems).
pub fn verify_stored(root: &Path, config: &Config) -> Result<(usize, Vec<String>)> {
    let ws = witnesses(config)?;
    let verifier = archive::read_verifier(root)?;
    let mut checked = 0;
    let mut problems = vec![];
    for p in archive::checkpoint_files(root)? {
        let Some(size) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let lines = stored_lines(root, size);
        if lines.is_empty() {
            continue;
        }
        let text = archive::read_checkpoint_text(&p)?;
        let Ok(note) = crate::log::note::open_note(&text, std::slice::from_ref(&verifier)) else {
            continue; // the checkpoint itself is checked (and named) by verify
        };
        for sig in signature_lines(&format!("x\n\n{}", lines.concat())) {
            match ws.iter().find(|w| w.verifier.is_mine(&sig)) {
                None => {}
                Some(w) => {
                    checked += 1;
                    if let Err(e) = w.verifier.verify(&note.text, &sig) {
                        problems.push(format!(
                            "{}: the cosignature of {}: {e}",
                            cosignatures_path(root, size).display(),
                            w.verifier.name()
                        ));
                    }
                }
            }
        }
    }
    Ok((checked, problems))
}

/// `watch run`'s witnessing, beside the monitor: the latest checkpoint goes to every
/// witness at most once per `[log] witness_interval`, and at once when `wake` is notified
/// (a post was found gone), until `stop` resolves. A witness that has the latest size
/// costs no request.
pub async fn run(
    root: &Path,
    config: &Config,
    fetcher: &Fetcher,
    wake: &tokio::sync::Notify,
    stop: impl std::future::Future<Output = ()>,
    mut on: impl FnMut(&Submitted),
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        match submit_latest(root, config, fetcher).await {
            Ok(subs) => subs
                .iter()
                .filter(|s| s.status != "already")
                .for_each(&mut on),
            Err(e) => tracing::warn!("witnessing: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(config.log.witness_interval) => {}
            _ = wake.notified() => {}
            _ = &mut stop => return,
        }
    }
}
