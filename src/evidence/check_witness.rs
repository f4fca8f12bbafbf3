//! `verify-bundle`, the witnesses' part (issue 18): the bundle's `policy`, the
//! cosignatures in `checkpoint.cosignatures`, the quorum (of the bundle's policy, or of
//! the reader's `--policy`), and each record's `proofs/<record>.tlog-proof` checked on
//! its own: its index and inclusion proof against its own checkpoint, that checkpoint's
//! log signature and cosignatures, and that it is exactly the bundle's.

use super::bundle::tlog_proof_name;
use super::check::{Facts, Finding, WitnessFacts, fail, pass};
use super::zipread::Zip;
use crate::log::cosignature::signature_lines;
use crate::log::merkle::{Hash, verify_inclusion};
use crate::log::note::{Checkpoint, NoteSignature, NoteVerifier, open_note};
use crate::log::policy::Policy;
use crate::log::proof::TlogProof;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};

/// Each tlog-proof is read whole, at most this big.
const PROOF_MAX: u64 = 128 << 10;

/// One record as the bundle's stream found it: its id, its leaf, and the hash of its
/// bytes.
pub struct Seen {
    pub id: String,
    pub leaf: u64,
    pub leaf_hash: Hash,
}

/// What the witness checks read.
pub struct Inputs<'a> {
    pub names: &'a BTreeSet<String>,
    pub files: &'a BTreeMap<String, Vec<u8>>,
    /// The log key the checkpoint was checked with (given or the bundle's).
    pub key: Option<&'a NoteVerifier>,
    pub given_policy: Option<&'a Policy>,
    /// The bundle's checkpoint, as verified (None: it did not verify).
    pub cp: Option<&'a Checkpoint>,
    pub cp_bytes: &'a [u8],
    pub records: &'a [Seen],
}

/// The signature lines of `checkpoint.cosignatures` (its whole text must be lines of
/// that shape), or why not.
fn cosignature_lines(text: &str) -> Result<Vec<NoteSignature>, String> {
    if text.is_empty() {
        return Ok(vec![]);
    }
    if !text.ends_with('\n') {
        return Err("does not end with a newline".into());
    }
    let sigs = signature_lines(&format!("x\n\n{text}"));
    if sigs.len() != text.lines().count() {
        return Err("holds a line that is not a signature line (`— <name> <base64>`)".into());
    }
    Ok(sigs)
}

/// The checks; failures and passes go to `out` and `oks`.
pub fn check<R: Read + Seek>(
    zip: &mut Zip<R>,
    i: &Inputs,
    facts: &mut Facts,
    out: &mut Vec<Finding>,
    oks: &mut Vec<Finding>,
) {
    let bundle_policy = match i.files.get("policy") {
        None => None,
        Some(b) => match std::str::from_utf8(b)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(Policy::parse)
        {
            Ok(p) => Some(p),
            Err(e) => {
                out.push(fail("policy", format!("is not a C2SP tlog-policy: {e}")));
                None
            }
        },
    };
    if let (Some(p), Some(k)) = (&bundle_policy, i.key)
        && !p.logs.iter().any(|l| l == k)
    {
        out.push(fail(
            "policy",
            format!(
                "does not name the log key that signed the checkpoint ({})",
                k.fingerprint()
            ),
        ));
    }
    if let (Some(p), Some(k)) = (i.given_policy, i.key)
        && !p.logs.is_empty()
        && !p.logs.iter().any(|l| l == k)
    {
        out.push(fail(
            "checkpoint",
            format!(
                "is signed by {} ({}), a log key your --policy does not name",
                k.name(),
                k.fingerprint()
            ),
        ));
    }
    let witnessed = i.names.contains("policy");
    let cosig_text = match i.files.get("checkpoint.cosignatures") {
        None => String::new(),
        Some(b) => String::from_utf8_lossy(b).into_owned(),
    };
    if !witnessed && i.names.contains("checkpoint.cosignatures") {
        out.push(fail(
            "checkpoint.cosignatures",
            "is here without the policy that says whose they are",
        ));
    }
    let sigs = match cosignature_lines(&cosig_text) {
        Ok(s) => s,
        Err(e) => {
            out.push(fail("checkpoint.cosignatures", e));
            vec![]
        }
    };
    let text = i.key.and_then(|k| {
        open_note(
            &String::from_utf8_lossy(i.cp_bytes),
            std::slice::from_ref(k),
        )
        .ok()
        .map(|n| n.text)
    });

    // Each witness of the policy in force: its cosignature, and the quorum.
    let policy = i.given_policy.or(bundle_policy.as_ref());
    if let (Some(p), Some(text)) = (policy, &text) {
        let checks = p.check(text, &sigs);
        for c in &checks {
            match (&c.cosigned_at, &c.error) {
                (Some(t), _) => oks.push(pass(
                    "checkpoint.cosignatures",
                    format!("witness {} cosigned the checkpoint at {}", c.name, utc(*t)),
                )),
                (None, Some(e)) => out.push(fail(
                    "checkpoint.cosignatures",
                    format!("the cosignature of witness {}: {e}", c.name),
                )),
                (None, None) => oks.push(pass(
                    "checkpoint.cosignatures",
                    format!("witness {} has not cosigned this checkpoint", c.name),
                )),
            }
        }
        for s in &sigs {
            if !p.witnesses.iter().any(|(_, w)| w.is_mine(s)) {
                oks.push(pass(
                    "checkpoint.cosignatures",
                    format!(
                        "a cosignature by {}, a key the policy does not name: not counted",
                        s.name
                    ),
                ));
            }
        }
        let holds = p.quorum_holds(&checks);
        let cosigned = checks.iter().filter(|c| c.cosigned_at.is_some()).count();
        let what = format!(
            "{} (quorum {}): {cosigned} of its {} witnesses cosigned",
            if i.given_policy.is_some() {
                "your --policy"
            } else {
                "the bundle's policy"
            },
            p.describe_quorum(),
            p.witnesses.len()
        );
        if holds {
            oks.push(pass(
                "checkpoint.cosignatures",
                format!("the quorum holds under {what}"),
            ));
        } else if i.given_policy.is_some() {
            out.push(fail(
                "checkpoint.cosignatures",
                format!("the quorum does not hold under {what}: nothing independent shows that the log showed this checkpoint to anyone but this bundle's readers"),
            ));
        } else {
            oks.push(pass(
                "checkpoint.cosignatures",
                format!("the quorum does NOT hold under {what}"),
            ));
        }
        facts.witnesses = Some(WitnessFacts {
            checks,
            holds,
            quorum: p.describe_quorum(),
            required: p.requires_witnesses(),
            policy_given: i.given_policy.is_some(),
        });
    }

    // The tlog-proofs: one per record in a bundle that has a policy, none otherwise.
    let by_name: BTreeMap<String, &Seen> = i
        .records
        .iter()
        .map(|r| (tlog_proof_name(&r.id), r))
        .collect();
    for n in i.names.iter().filter(|n| n.starts_with("proofs/")) {
        if !witnessed {
            out.push(fail(
                n,
                "unexpected file: a tlog-proof in a bundle without a policy",
            ));
        } else if !by_name.contains_key(n) {
            out.push(fail(
                n,
                "unexpected file: no record of the bundle has this id",
            ));
        }
    }
    if !witnessed {
        return;
    }
    let want_note = format!("{}{cosig_text}", String::from_utf8_lossy(i.cp_bytes));
    let mut good = 0usize;
    for (name, r) in &by_name {
        if !i.names.contains(name) {
            out.push(fail(
                name,
                format!("is missing: record {} has no tlog-proof", r.id),
            ));
            continue;
        }
        let bytes = match zip.read(name, PROOF_MAX) {
            Ok(b) => b,
            Err(e) => {
                out.push(fail(name, e));
                continue;
            }
        };
        let problems = check_one(&bytes, r, i.key, policy, i.cp, &want_note);
        if problems.is_empty() {
            good += 1;
        }
        for p in problems {
            out.push(fail(name, p));
        }
    }
    facts.tlog_proofs = good;
    if good == by_name.len() && good > 0 {
        oks.push(pass(
            "proofs/",
            format!("{good} tlog-proofs, each checked on its own: index, inclusion proof, the log's signature and the cosignatures"),
        ));
    }
}

/// One tlog-proof, checked as a reader holding only it, its record and the policy would.
fn check_one(
    bytes: &[u8],
    r: &Seen,
    key: Option<&NoteVerifier>,
    policy: Option<&Policy>,
    bundle_cp: Option<&Checkpoint>,
    want_note: &str,
) -> Vec<String> {
    let mut problems = vec![];
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec!["is not UTF-8".into()];
    };
    let p = match TlogProof::parse(text) {
        Ok(p) => p,
        Err(e) => return vec![format!("is not a C2SP tlog-proof: {e}")],
    };
    if p.render() != text {
        problems
            .push("is not exactly the tlog-proof samizdat writes (bytes added or changed)".into());
    }
    if p.extra.as_deref() != Some(r.id.as_bytes()) {
        problems.push(format!("its `extra` line does not name record {}", r.id));
    }
    if p.index != r.leaf {
        problems.push(format!(
            "index {} is not record {}'s leaf {}",
            p.index, r.id, r.leaf
        ));
    }
    let Some(key) = key else {
        return problems;
    };
    let note = match open_note(&p.checkpoint, std::slice::from_ref(key)) {
        Ok(n) => n,
        Err(e) => {
            problems.push(format!(
                "its checkpoint does not verify with the log key {}: {e}",
                key.fingerprint()
            ));
            return problems;
        }
    };
    match Checkpoint::parse(&note.text) {
        Ok(cp) => {
            if let Err(e) = verify_inclusion(&r.leaf_hash, p.index, cp.size, &p.path, &cp.root) {
                problems.push(format!(
                    "its inclusion proof of record {} does not verify against its checkpoint: {e}",
                    r.id
                ));
            }
            if bundle_cp.is_some_and(|b| b.size != cp.size || b.root != cp.root) {
                problems.push(format!(
                    "its checkpoint (size {}) is not the bundle's",
                    cp.size
                ));
            }
        }
        Err(e) => problems.push(format!("its checkpoint: {e}")),
    }
    if let Some(pol) = policy {
        for c in pol.check(&note.text, &signature_lines(&p.checkpoint)) {
            if let Some(e) = c.error {
                problems.push(format!("the cosignature of witness {} in it: {e}", c.name));
            }
        }
    }
    if p.checkpoint != want_note && problems.is_empty() {
        problems.push("its checkpoint is not `checkpoint` with `checkpoint.cosignatures` (a cosignature added, dropped or changed)".into());
    }
    problems
}

/// A Unix time as RFC 3339 UTC.
fn utc(t: u64) -> String {
    jiff::Timestamp::from_second(t as i64)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| t.to_string())
}
