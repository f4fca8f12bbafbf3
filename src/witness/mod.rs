//! samizdat as a witness (C2SP tlog-witness v1.0.0): `witness serve` cosigns the
//! checkpoints of the logs in `[[witness.logs]]` after checking that each extends the
//! last one it cosigned (docs/evidence.md "Being a witness").
//!
//! # Layout
//! - here: the request ([`parse`]), the decision ([`Witness::add_checkpoint`]) and the
//!   durable state (one file per log under `witness/`, replaced atomically and fsynced
//!   before a cosignature leaves, so a crash can never let the witness cosign two
//!   checkpoints that are not consistent).
//! - `server`: the HTTP endpoint `POST /add-checkpoint` over it.

pub mod server;

use crate::error::{Error, Result};
use crate::log::cosignature::CosignerKey;
use crate::log::merkle::{self, Hash};
use crate::log::note::{Checkpoint, NoteVerifier, open_note};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the witness's key is kept in its folder.
pub const KEY: &str = "keys/witness.key";
pub const VKEY: &str = "keys/witness.vkey";
/// The witness's state, one file per log.
pub const STATE_DIR: &str = "witness";
/// Most proof lines a request may carry (the spec's bound).
const MAX_PROOF: usize = 63;
/// Largest request body read.
pub const MAX_BODY: usize = 64 * 1024;

/// What an `add-checkpoint` request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub old: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as sent.
    pub note: String,
}

/// The answer to a request, as the spec names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// 200: the cosignature line.
    Cosigned(String),
    /// 409: the size this witness has for the log.
    Conflict(u64),
    /// 404: an origin this witness does not witness.
    UnknownLog,
    /// 403: the log's signature does not verify.
    BadSignature(String),
    /// 422: the consistency proof does not verify.
    BadProof(String),
    /// 400: the request is malformed.
    Malformed(String),
}

/// Parses a request body: `old <size>`, base64 proof lines, a blank line, the note.
pub fn parse(body: &str) -> std::result::Result<Request, String> {
    let (first, rest) = body.split_once('\n').ok_or("no `old` line")?;
    let old = first
        .strip_prefix("old ")
        .and_then(|n| (!n.starts_with('0') || n == "0").then_some(n))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| format!("bad first line {first:?}: want `old <size>`"))?;
    // No proof lines: the blank line follows `old` at once.
    let (proof_part, note) = match rest.strip_prefix('\n') {
        Some(note) => ("", note),
        None => rest
            .split_once("\n\n")
            .ok_or("no blank line before the checkpoint")?,
    };
    let mut proof = vec![];
    for l in proof_part.lines().filter(|l| !l.is_empty()) {
        if proof.len() == MAX_PROOF {
            return Err(format!("more than {MAX_PROOF} proof lines"));
        }
        proof.push(
            Hash::from_base64(l).ok_or_else(|| format!("proof line {l:?} is not a base64 hash"))?,
        );
    }
    Ok(Request {
        old,
        proof,
        note: note.to_string(),
    })
}

/// One witnessed log.
#[derive(Debug, Clone)]
pub struct Log {
    pub origin: String,
    pub verifier: NoteVerifier,
}

/// A witness: its key, the logs it witnesses, and its state folder.
pub struct Witness {
    key: CosignerKey,
    logs: Vec<Log>,
    dir: PathBuf,
    /// One decision at a time: read the state, check, store, sign.
    lock: Mutex<()>,
}

impl Witness {
    pub fn new(key: CosignerKey, logs: Vec<Log>, dir: &Path) -> Witness {
        Witness {
            key,
            logs,
            dir: dir.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    pub fn name(&self) -> &str {
        self.key.name()
    }

    pub fn logs(&self) -> &[Log] {
        &self.logs
    }

    fn state_path(&self, origin: &str) -> PathBuf {
        let h = Sha256::digest(origin.as_bytes());
        self.dir.join(STATE_DIR).join(hex::encode(&h[..16]))
    }

    /// The size and root this witness last cosigned for `origin` (0 and the empty root).
    pub fn state(&self, origin: &str) -> Result<(u64, Hash)> {
        let p = self.state_path(origin);
        match std::fs::read_to_string(&p) {
            Ok(t) => {
                let mut f = t.split_whitespace();
                let bad =
                    || Error::Damage(format!("{}: not `<origin> <size> <root>`", p.display()));
                let (o, s, r) = (f.next(), f.next(), f.next());
                if o != Some(origin) {
                    return Err(bad());
                }
                let size = s.and_then(|s| s.parse().ok()).ok_or_else(bad)?;
                let root = r.and_then(Hash::from_base64).ok_or_else(bad)?;
                Ok((size, root))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, merkle::empty_root())),
            Err(e) => Err(Error::io(p, e)),
        }
    }

    /// Replaces the state durably: a temporary file, fsynced, renamed, the folder fsynced.
    fn store(&self, origin: &str, size: u64, root: &Hash) -> Result<()> {
        let p = self.state_path(origin);
        let dir = p
            .parent()
            .expect("state files are in a folder")
            .to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let tmp = dir.join(".state.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
            f.write_all(format!("{origin} {size} {}\n", root.to_base64()).as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(&dir, e))
    }

    /// Decides a request (tlog-witness v1.0.0 "add-checkpoint"), cosigning at `now`.
    pub fn add_checkpoint(&self, req: &Request, now: u64) -> Result<Verdict> {
        let Some(origin) = req.note.lines().next() else {
            return Ok(Verdict::Malformed("no checkpoint".into()));
        };
        let Some(log) = self.logs.iter().find(|l| l.origin == origin) else {
            return Ok(Verdict::UnknownLog);
        };
        let note = match open_note(&req.note, std::slice::from_ref(&log.verifier)) {
            Ok(n) => n,
            Err(e) => return Ok(Verdict::BadSignature(e.to_string())),
        };
        let cp = match Checkpoint::parse(&note.text) {
            Ok(c) => c,
            Err(e) => return Ok(Verdict::Malformed(e.to_string())),
        };
        if req.old > cp.size {
            return Ok(Verdict::Malformed(format!(
                "old {} is larger than the checkpoint's size {}",
                req.old, cp.size
            )));
        }
        let _one = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (size, root) = self.state(origin)?;
        if req.old != size {
            return Ok(Verdict::Conflict(size));
        }
        let consistent = if size == 0 {
            req.proof.is_empty()
        } else if size == cp.size {
            req.proof.is_empty() && root == cp.root
        } else {
            merkle::verify_consistency(size, cp.size, &req.proof, &root, &cp.root).is_ok()
        };
        if !consistent {
            return Ok(Verdict::BadProof(format!(
                "the proof does not show that the tree of {} leaves extends the {size} this witness cosigned",
                cp.size
            )));
        }
        // Durable before the cosignature leaves: a crash after this point at worst
        // cosigns this same checkpoint again.
        self.store(origin, cp.size, &cp.root)?;
        Ok(Verdict::Cosigned(self.key.cosign(&note.text, now)))
    }
}

/// `witness init`: the witness's key in `dir` (made when missing, 0600), and its vkey.
pub fn init(dir: &Path, name: &str) -> Result<(CosignerKey, bool)> {
    let kp = dir.join(KEY);
    if kp.exists() {
        let k =
            CosignerKey::from_skey(&std::fs::read_to_string(&kp).map_err(|e| Error::io(&kp, e))?)?;
        return Ok((k, false));
    }
    let k = CosignerKey::generate(name)?;
    let keys = kp.parent().expect("keys/").to_path_buf();
    std::fs::create_dir_all(&keys).map_err(|e| Error::io(&keys, e))?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&kp)
            .map_err(|e| Error::io(&kp, e))?;
        f.write_all(format!("{}\n", k.to_skey()).as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(&kp, e))?;
    }
    let vp = dir.join(VKEY);
    crate::store::archive::write_atomic(&vp, format!("{}\n", k.verifier().to_vkey()).as_bytes())?;
    Ok((k, true))
}

/// The witness of `dir` with `[[witness.logs]]`.
pub fn open(dir: &Path, config: &crate::config::Config) -> Result<Witness> {
    let kp = dir.join(KEY);
    let text = std::fs::read_to_string(&kp).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!(
            "{} is missing: run `samizdat witness init --name NAME` first",
            kp.display()
        )),
        _ => Error::io(&kp, e),
    })?;
    let key = CosignerKey::from_skey(&text)?;
    let mut logs = vec![];
    for l in &config.witness.logs {
        let verifier = NoteVerifier::from_vkey(&l.vkey)?;
        logs.push(Log {
            origin: l
                .origin
                .clone()
                .unwrap_or_else(|| verifier.name().to_string()),
            verifier,
        });
    }
    if logs.is_empty() {
        return Err(Error::Usage(
            "no [[witness.logs]] in samizdat.toml: name each log's vkey (docs/evidence.md \"Being a witness\")".into(),
        ));
    }
    Ok(Witness::new(key, logs, dir))
}

/// Base64 of a hash, for tests and messages.
pub fn b64(h: &Hash) -> String {
    B64.encode(h.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note::NoteSigner;

    #[test]
    fn requests_parse_as_the_spec_writes_them() {
        let r = parse("old 0\n\norigin\n1\nAAAA\n\n— origin sig\n").unwrap();
        assert_eq!(r.old, 0);
        assert!(r.proof.is_empty());
        assert!(r.note.starts_with("origin\n1\n"));
        let h = merkle::empty_root();
        let r = parse(&format!(
            "old 5\n{}\n{}\n\nnote\n",
            h.to_base64(),
            h.to_base64()
        ))
        .unwrap();
        assert_eq!((r.old, r.proof.len()), (5, 2));
        assert!(parse("old 05\n\nx\n").is_err());
        assert!(parse("new 5\n\nx\n").is_err());
        assert!(parse("old 5\nnot-base64\n\nx\n").is_err());
    }

    #[test]
    fn a_witness_cosigns_only_what_extends_its_state_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = NoteSigner::generate("example.org/log").unwrap();
        let w = Witness::new(
            CosignerKey::generate("w.example/1").unwrap(),
            vec![Log {
                origin: "example.org/log".into(),
                verifier: log.verifier(),
            }],
            dir.path(),
        );
        // A one-leaf tree and a two-leaf tree over known leaves.
        let l0 = merkle::leaf_hash(b"a");
        let l1 = merkle::leaf_hash(b"b");
        let root2 = merkle::node_hash(&l0, &l1);
        let cp = |size: u64, root: &Hash| {
            log.sign(&format!("example.org/log\n{size}\n{}\n", root.to_base64()))
                .unwrap()
        };
        let req = |old, proof: Vec<Hash>, note: String| Request { old, proof, note };
        assert!(matches!(
            w.add_checkpoint(&req(0, vec![], cp(1, &l0)), 7).unwrap(),
            Verdict::Cosigned(_)
        ));
        assert_eq!(w.state("example.org/log").unwrap(), (1, l0));
        // Stale old size: 409 with the witness's size.
        assert_eq!(
            w.add_checkpoint(&req(0, vec![], cp(2, &root2)), 8).unwrap(),
            Verdict::Conflict(1)
        );
        // A bad proof: 422, state unchanged.
        assert!(matches!(
            w.add_checkpoint(&req(1, vec![l0], cp(2, &root2)), 8)
                .unwrap(),
            Verdict::BadProof(_)
        ));
        assert_eq!(w.state("example.org/log").unwrap().0, 1);
        // The right proof (the sibling l1): cosigned, state moved.
        assert!(matches!(
            w.add_checkpoint(&req(1, vec![l1], cp(2, &root2)), 9)
                .unwrap(),
            Verdict::Cosigned(_)
        ));
        assert_eq!(w.state("example.org/log").unwrap(), (2, root2));
        // A fork at the same size: refused.
        let other = merkle::node_hash(&l0, &merkle::leaf_hash(b"c"));
        assert!(matches!(
            w.add_checkpoint(&req(2, vec![], cp(2, &other)), 9).unwrap(),
            Verdict::BadProof(_)
        ));
        // Unknown log, foreign key.
        let stranger = NoteSigner::generate("example.org/log").unwrap();
        let forged = stranger
            .sign(&format!("example.org/log\n3\n{}\n", root2.to_base64()))
            .unwrap();
        assert!(matches!(
            w.add_checkpoint(&req(2, vec![], forged), 9).unwrap(),
            Verdict::BadSignature(_)
        ));
        let unknown = NoteSigner::generate("example.org/other").unwrap();
        let note = unknown
            .sign(&format!("example.org/other\n1\n{}\n", l0.to_base64()))
            .unwrap();
        assert_eq!(
            w.add_checkpoint(&req(0, vec![], note), 9).unwrap(),
            Verdict::UnknownLog
        );
    }
}
