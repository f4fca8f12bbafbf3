//! `verify-bundle`: what kind of file this is, and whether it says only what its records
//! support (issue 11).
//!
//! - The kind is decided by the whole layout, never by one member: a zip whose members
//!   are exactly a samizdat WACZ's (`datapackage.json`, `datapackage-digest.json`,
//!   `pages/pages.jsonl`, `indexes/index.cdx.gz` + `index.idx` (or an older export's
//!   `indexes/index.cdxj`), `archive/*.warc.gz`) is checked as a WACZ
//!   ([`super::wacz::check_wacz`]); anything else is checked as an evidence bundle, where
//!   every member that is not one of the bundle's is a failure.
//! - A bundle asserts nothing of its own: `post.json` is derived again from the post and
//!   check records it carries, with the state function the archive uses
//!   ([`crate::store::state`]), and must equal that derivation field by field; `view.html`
//!   and `README.txt` must be exactly their renderings of the derived post; `proofs.json`,
//!   `log.vkey` and `tsa-chain.pem` must be exactly as samizdat writes them (no padding);
//!   every record must be one the post rests on, and every record the post names must be
//!   there.
//! - Memory is bounded for any input ([`super::zipread`], [`super::warcstream`]).
//!
//! [`verify_bundle_bytes`] is the pure entry point (no I/O beyond the given bytes).

use super::bundle::{
    Comments, Extras, LeafProof, Proofs, RecMeta, comment_order, conversation_of, media_names,
    render_readme, render_view,
};
use super::warcstream::{self, Checked};
use super::zipread::{self, Zip};
use super::{report, stamp, tsp};
use crate::log::merkle::{Hash, verify_inclusion};
use crate::log::note::{Checkpoint, NoteVerifier, open_note};
use crate::model::Outcome;
use crate::store::bodies::{CustodyRecord, ThreadRecord};
use crate::store::index::{CheckRecord, PostRecord};
use crate::store::state::{self, CheckIn};
use crate::store::views::{CaptureView, CheckView, CustodyView, PostView};
use crate::store::warc::{self, kind};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufReader, Read, Seek};

/// What `verify-bundle` found the file to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An evidence bundle (`export --bundle`).
    Bundle,
    /// A WACZ (`export --wacz`): a package of WARC records, which carries no log proofs.
    Wacz,
    /// Not a zip that can be read.
    Unreadable,
}

/// Everything `verify-bundle` concludes.
#[derive(Debug)]
pub struct Report {
    pub kind: Kind,
    pub findings: Vec<Finding>,
    pub facts: Facts,
}

impl Report {
    /// No finding failed.
    pub fn consistent(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }

    /// What the whole report comes to (the command line maps it to an exit code).
    pub fn verdict(&self) -> Verdict {
        match (self.consistent(), self.kind) {
            (false, _) | (_, Kind::Unreadable) => Verdict::Damaged,
            (true, Kind::Wacz) => Verdict::NotEvidence,
            (true, Kind::Bundle) => Verdict::Evidence,
        }
    }
}

/// What a `verify-bundle` report comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A bundle, every check passed.
    Evidence,
    /// A sound WACZ: a package, not evidence (it carries no proofs).
    NotEvidence,
    /// Tampering or damage.
    Damaged,
}

/// What was checked, for the conclusions.
#[derive(Debug, Default)]
pub struct Facts {
    pub fingerprint: Option<String>,
    pub key_given: bool,
    pub tsa_given: bool,
    pub tokens: usize,
    pub records: usize,
    pub times: Vec<String>,
    pub cp_size: u64,
    pub checks: usize,
    /// Comments in a `comments.json` that checks.
    pub comments: usize,
    /// The witnesses, under the policy in force (None: no policy to judge by).
    pub witnesses: Option<WitnessFacts>,
    /// Records whose tlog-proof checked on its own.
    pub tlog_proofs: usize,
}

/// What the witnesses of a bundle's checkpoint come to.
#[derive(Debug)]
pub struct WitnessFacts {
    pub checks: Vec<crate::log::policy::WitnessCheck>,
    pub holds: bool,
    /// The quorum in words.
    pub quorum: String,
    /// The policy requires any cosignature at all.
    pub required: bool,
    /// The reader's `--policy`, not the bundle's own.
    pub policy_given: bool,
}

/// Bounds on a bundle's members: the small ones are read whole, at most this big.
const SMALL: &[(&str, u64)] = &[
    ("README.txt", 64 << 10),
    ("view.html", 64 << 20),
    ("report.html", 64 << 20),
    ("provenance.json", 64 << 20),
    ("post.json", 32 << 20),
    ("comments.json", 256 << 20),
    ("custody.json", 16 << 20),
    ("proofs.json", 16 << 20),
    ("checkpoint", 64 << 10),
    ("tsa-chain.pem", 1 << 20),
    ("log.vkey", 4 << 10),
    ("policy", 64 << 10),
    ("checkpoint.cosignatures", 64 << 10),
];
const TSR_MAX: u64 = 1 << 20;
/// All kept blocks (post, check and thread JSON) of one bundle together.
const KEPT_TOTAL: u64 = 1 << 30;
/// `records.warc.gz` and each media file are streamed, never held: at most this big.
const RECORDS_MAX: u64 = 8 << 30;
const MEDIA_MAX: u64 = 4 << 30;
/// `screenshot.png` is read whole (its pixels are compared): at most this big.
const SCREENSHOT_MAX: u64 = 512 << 20;
/// `report.pdf` is read whole (its shape is checked): at most this big.
const PDF_MAX: u64 = 512 << 20;
/// `rendered.html` is streamed and hashed: at most this big.
const DOM_MAX: u64 = 1 << 30;
/// Members a bundle may hold beyond the required ones, media and timestamps.
const OPTIONAL: &[&str] = &[
    "report.html",
    "comments.json",
    "custody.json",
    "provenance.json",
    "screenshot.png",
    "rendered.html",
    "report.pdf",
    "policy",
    "checkpoint.cosignatures",
];
const REQUIRED: &[&str] = &[
    "README.txt",
    "view.html",
    "post.json",
    "records.warc.gz",
    "proofs.json",
    "checkpoint",
    "tsa-chain.pem",
    "log.vkey",
];

/// Checks the zip in `zip` (a bundle or a WACZ) against the log key and TSA anchors the
/// user gave. Pure: no I/O beyond the given bytes; bounded memory for any input.
pub fn verify_bundle_bytes(
    zip: &[u8],
    given_key: Option<&NoteVerifier>,
    anchors: Option<&[Vec<u8>]>,
) -> Report {
    verify_zip(std::io::Cursor::new(zip), given_key, anchors, None)
}

/// [`verify_bundle_bytes`] over any seekable reader (the CLI passes the file).
pub fn verify_zip<R: Read + Seek>(
    r: R,
    given_key: Option<&NoteVerifier>,
    anchors: Option<&[Vec<u8>]>,
    given_policy: Option<&crate::log::policy::Policy>,
) -> Report {
    let mut facts = Facts {
        key_given: given_key.is_some(),
        tsa_given: anchors.is_some(),
        ..Facts::default()
    };
    let (mut zip, layout) = match zipread::open(r) {
        Ok(z) => z,
        Err(e) => {
            return Report {
                kind: Kind::Unreadable,
                findings: vec![fail("(zip)", e)],
                facts,
            };
        }
    };
    let mut findings: Vec<Finding> = layout.into_iter().map(|p| fail("(zip)", p)).collect();
    let names: Vec<String> = zip.members.iter().map(|m| m.name.clone()).collect();
    let kind = match super::wacz::wacz_layout(&names) {
        Ok(()) => Kind::Wacz,
        Err(why) => {
            if names.iter().any(|n| n == "datapackage.json") {
                findings.push(fail(
                    "datapackage.json",
                    format!(
                        "this zip is not a complete WACZ ({why}), so it is checked as an evidence bundle"
                    ),
                ));
            }
            Kind::Bundle
        }
    };
    match kind {
        Kind::Wacz => findings.extend(super::wacz::check_wacz(&mut zip, &mut facts)),
        _ => findings.extend(check_bundle(
            &mut zip,
            given_key,
            anchors,
            given_policy,
            &mut facts,
        )),
    }
    // Failures first, each kind in the order found.
    findings.sort_by_key(|f| f.ok);
    Report {
        kind,
        findings,
        facts,
    }
}

/// One line of the verify-bundle report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub file: String,
    pub ok: bool,
    pub what: String,
}

pub(super) fn fail(file: &str, what: impl Into<String>) -> Finding {
    Finding {
        file: file.into(),
        ok: false,
        what: what.into(),
    }
}

pub(super) fn pass(file: &str, what: impl Into<String>) -> Finding {
    Finding {
        file: file.into(),
        ok: true,
        what: what.into(),
    }
}

/// A value, shortened for a message.
fn short(v: Option<&Value>) -> String {
    let s = v.map(Value::to_string).unwrap_or_else(|| "absent".into());
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// A text as a JSON string (how messages quote what a file says).
fn quoted(s: &str) -> String {
    Value::from(s).to_string()
}

/// One record of the bundle, as checked.
struct Held {
    leaf: Option<u64>,
    c: Checked,
}

fn check_bundle<R: Read + Seek>(
    zip: &mut Zip<R>,
    given_key: Option<&NoteVerifier>,
    anchors: Option<&[Vec<u8>]>,
    given_policy: Option<&crate::log::policy::Policy>,
    facts: &mut Facts,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = vec![];
    let mut oks: Vec<Finding> = vec![];

    // The members: which are there, which may be, and the small ones read, bounded.
    let names: BTreeSet<String> = zip.members.iter().map(|m| m.name.clone()).collect();
    for req in REQUIRED {
        if !names.contains(*req) {
            out.push(fail(req, "missing from the bundle"));
        }
    }
    let tsr_names: Vec<String> = (1..)
        .map(|i: usize| {
            if i == 1 {
                "checkpoint.tsr".to_string()
            } else {
                format!("checkpoint.{i}.tsr")
            }
        })
        .take_while(|n| names.contains(n))
        .collect();
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let small = SMALL
        .iter()
        .map(|(n, c)| (n.to_string(), *c))
        .chain(tsr_names.iter().map(|n| (n.clone(), TSR_MAX)));
    for (name, cap) in small {
        if !names.contains(&name) {
            continue;
        }
        match zip.read(&name, cap) {
            Ok(b) => {
                files.insert(name, b);
            }
            Err(e) => out.push(fail(&name, e)),
        }
    }
    let text = |n: &str| {
        files
            .get(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    // post.json twice over: as the JSON it is (compared field by field and byte for byte
    // with the derivation) and as the post object it must be (what the checks read).
    let (post_json, post): (Option<Value>, Option<PostView>) = match files
        .get("post.json")
        .map(|b| serde_json::from_slice::<Value>(b))
    {
        Some(Ok(v @ Value::Object(_))) => match PostView::deserialize(&v) {
            Ok(p) => (Some(v), Some(p)),
            Err(e) => {
                out.push(fail(
                    "post.json",
                    format!("is not a samizdat post object (docs/post.md): {e}"),
                ));
                (None, None)
            }
        },
        Some(_) => {
            out.push(fail("post.json", "not a JSON object"));
            (None, None)
        }
        None => (None, None),
    };
    let media = post.as_ref().map(media_names).unwrap_or_default();
    for name in &names {
        let known = REQUIRED.contains(&name.as_str())
            || OPTIONAL.contains(&name.as_str())
            || tsr_names.contains(name)
            || media.iter().any(|m| &m.0 == name)
            // Each tlog-proof is matched with its record by check_witness.
            || name.starts_with("proofs/");
        if !known {
            out.push(fail(name, "unexpected file: not part of what samizdat writes (added, or a media file that post.json does not name)"));
        }
    }

    // The log key.
    let bundle_key = text("log.vkey").and_then(|t| NoteVerifier::from_vkey(t.trim()).ok());
    if files.contains_key("log.vkey") {
        match &bundle_key {
            None => out.push(fail("log.vkey", "not a readable verifier key")),
            Some(k)
                if files.get("log.vkey").map(Vec::as_slice)
                    != Some(format!("{}\n", k.to_vkey()).as_bytes()) =>
            {
                out.push(fail(
                    "log.vkey",
                    "is not exactly the key line samizdat writes (bytes added or changed)",
                ))
            }
            _ => {}
        }
    }
    if let (Some(g), Some(b)) = (given_key, &bundle_key)
        && g != b
    {
        out.push(fail(
            "log.vkey",
            format!(
                "is not the key you gave with --vkey or as the one log of --policy (bundle's fingerprint {}, yours {})",
                b.fingerprint(),
                g.fingerprint()
            ),
        ));
    }
    let key = given_key.cloned().or(bundle_key.clone());
    facts.fingerprint = key.as_ref().map(|k| k.fingerprint());

    // The checkpoint.
    let cp_bytes = files.get("checkpoint").cloned().unwrap_or_default();
    let cp: Option<Checkpoint> = key.as_ref().and_then(|k| {
        match open_note(&String::from_utf8_lossy(&cp_bytes), std::slice::from_ref(k)) {
            Ok(n) => match Checkpoint::parse(&n.text) {
                Ok(c) => {
                    oks.push(pass(
                        "checkpoint",
                        format!(
                            "signed by {} (key {:08x}), size {}",
                            k.name(),
                            k.key_id(),
                            c.size
                        ),
                    ));
                    Some(c)
                }
                Err(e) => {
                    out.push(fail("checkpoint", format!("{e}")));
                    None
                }
            },
            Err(e) => {
                out.push(fail(
                    "checkpoint",
                    format!(
                        "the signature does not verify with the log key {}: {e}",
                        k.fingerprint()
                    ),
                ));
                None
            }
        }
    });
    facts.cp_size = cp.as_ref().map(|c| c.size).unwrap_or(0);

    // Proofs: one leaf per record, each once.
    let proofs: Option<Proofs> = match files.get("proofs.json").map(|b| {
        serde_json::from_slice::<Value>(b).map(|v| (Proofs::deserialize(&v), v.is_object()))
    }) {
        None => None,
        Some(Ok((Ok(p), _))) => Some(p),
        Some(Ok((Err(e), true))) => {
            out.push(fail(
                "proofs.json",
                format!("is not the proofs object samizdat writes: {e}"),
            ));
            None
        }
        Some(Ok((Err(_), false)) | Err(_)) => {
            out.push(fail("proofs.json", "not valid JSON"));
            None
        }
    };
    if let (Some(c), Some(p)) = (&cp, &proofs)
        && p.checkpoint_size != c.size
    {
        out.push(fail(
            "proofs.json",
            format!(
                "checkpoint_size {} is not the checkpoint's {}",
                p.checkpoint_size, c.size
            ),
        ));
    }
    let mut by_id: BTreeMap<&str, &LeafProof> = BTreeMap::new();
    let mut leaf_seen = BTreeSet::new();
    for l in proofs.iter().flat_map(|p| &p.leaves) {
        let id = l.record_id.as_str();
        if by_id.insert(id, l).is_some() {
            out.push(fail("proofs.json", format!("lists record {id} twice")));
        }
        if !leaf_seen.insert(l.leaf_index) {
            out.push(fail(
                "proofs.json",
                format!("lists leaf {} twice", l.leaf_index),
            ));
        }
    }

    // Records, streamed: each hashed, digests checked, its proof checked.
    let mut held: Vec<Held> = vec![];
    let mut seen_recs: Vec<super::check_witness::Seen> = vec![];
    let mut seen = BTreeSet::new();
    let mut rec_problems = 0usize;
    let mut metas = vec![];
    let mut payload_sha: BTreeMap<String, String> = BTreeMap::new();
    let mut kept_total = 0u64;
    if names.contains("records.warc.gz") {
        match zip.stream("records.warc.gz", RECORDS_MAX) {
            Err(e) => {
                out.push(fail("records.warc.gz", e));
                rec_problems += 1;
            }
            Ok(s) => {
                let mut src = BufReader::with_capacity(64 << 10, s);
                let mut n = 0usize;
                loop {
                    let c =
                        match warcstream::next_record(&mut src, warcstream::kept_by_bundle_check) {
                            Ok(Some(c)) => c,
                            Ok(None) => break,
                            Err(e) => {
                                out.push(fail(
                                    "records.warc.gz",
                                    format!("record #{}: {e}", n + 1),
                                ));
                                rec_problems += 1;
                                break;
                            }
                        };
                    n += 1;
                    let id = c.rec.id().to_string();
                    for p in &c.problems {
                        out.push(fail(
                            "records.warc.gz",
                            format!("record {id} ({}): {p}", c.rec.target_uri().unwrap_or("")),
                        ));
                        rec_problems += 1;
                    }
                    if !seen.insert(id.clone()) {
                        out.push(fail("records.warc.gz", format!("holds record {id} twice")));
                        rec_problems += 1;
                    }
                    let mut leaf = None;
                    if let Some(l) = by_id.get(id.as_str()) {
                        seen_recs.push(super::check_witness::Seen {
                            id: id.clone(),
                            leaf: l.leaf_index,
                            leaf_hash: c.leaf_hash,
                        });
                    }
                    match by_id.get(id.as_str()) {
                        None => {
                            out.push(fail("proofs.json", format!("has no proof for record {id}")));
                            rec_problems += 1;
                        }
                        Some(l) => {
                            let idx = l.leaf_index;
                            leaf = Some(idx);
                            if l.leaf_hash != c.leaf_hash.to_base64() {
                                out.push(fail(
                                    "records.warc.gz",
                                    format!("record {id} does not hash to the leaf hash in proofs.json (leaf {idx})"),
                                ));
                                rec_problems += 1;
                            }
                            let proof: Option<Vec<Hash>> =
                                l.proof.iter().map(|h| Hash::from_base64(h)).collect();
                            if let Some(cp) = &cp {
                                match proof {
                                    None => {
                                        out.push(fail(
                                            "proofs.json",
                                            format!("leaf {idx}: proof hashes unreadable"),
                                        ));
                                        rec_problems += 1;
                                    }
                                    Some(p) => {
                                        if let Err(e) = verify_inclusion(
                                            &c.leaf_hash,
                                            idx,
                                            cp.size,
                                            &p,
                                            &cp.root,
                                        ) {
                                            out.push(fail(
                                                "proofs.json",
                                                format!("leaf {idx} (record {id}): inclusion proof does not verify against the checkpoint: {e}"),
                                            ));
                                            rec_problems += 1;
                                        }
                                    }
                                }
                            }
                            metas.push(RecMeta {
                                id: id.clone(),
                                leaf: idx,
                                warc_type: c.rec.warc_type().to_string(),
                                target: c.rec.target_uri().map(str::to_string),
                                date: c.rec.date().to_string(),
                                block_digest: c.rec.field("WARC-Block-Digest").map(str::to_string),
                            });
                        }
                    }
                    payload_sha.insert(id, c.payload_sha256.clone());
                    // Only samizdat's own records are kept whole (bounded, each and all
                    // together); of the rest, the type is enough.
                    let c = if c.kept {
                        kept_total += c.rec.block.len() as u64;
                        if kept_total > KEPT_TOTAL {
                            out.push(fail("records.warc.gz", format!("its post, check and thread records add up to more than the {KEPT_TOTAL} bytes a bundle may hold; not read further")));
                            rec_problems += 1;
                            break;
                        }
                        c
                    } else {
                        Checked {
                            rec: warc::Record {
                                fields: c.rec.fields,
                                block: vec![],
                                spooled: None,
                            },
                            ..c
                        }
                    };
                    held.push(Held { leaf, c });
                }
            }
        }
    }
    for id in by_id.keys().filter(|k| !seen.contains(**k)) {
        out.push(fail(
            "records.warc.gz",
            format!("record {id} (listed in proofs.json) is missing"),
        ));
        rec_problems += 1;
    }
    facts.records = seen.len();
    if rec_problems == 0 && cp.is_some() {
        oks.push(pass(
            "records.warc.gz",
            format!(
                "{} records: digests match, each is in the checkpoint by its inclusion proof",
                seen.len()
            ),
        ));
    }
    metas.sort_by_key(|m| m.leaf);
    // Re-serialised through the type it was read with: a key samizdat does not write, at
    // any depth, or any byte of padding makes it differ.
    if let Some(p) = &proofs
        && files.get("proofs.json").map(Vec::as_slice)
            != Some(
                serde_json::to_string_pretty(p)
                    .unwrap_or_default()
                    .as_bytes(),
            )
    {
        out.push(fail(
            "proofs.json",
            "is not exactly what samizdat writes (keys or bytes added: padding)",
        ));
    }

    // Witnesses and the tlog-proofs.
    super::check_witness::check(
        zip,
        &super::check_witness::Inputs {
            names: &names,
            files: &files,
            key: key.as_ref(),
            given_policy,
            cp: cp.as_ref(),
            cp_bytes: &cp_bytes,
            records: &seen_recs,
        },
        facts,
        &mut out,
        &mut oks,
    );

    // Timestamps.
    let digest: [u8; 32] = Sha256::digest(&cp_bytes).into();
    let chain = tsp::pem_certs(&text("tsa-chain.pem").unwrap_or_default());
    if files
        .get("tsa-chain.pem")
        .is_some_and(|b| *b != tsp::to_pem(&chain).into_bytes())
    {
        out.push(fail(
            "tsa-chain.pem",
            "is not exactly the certificates samizdat writes (bytes added or changed)",
        ));
    }
    let internal_anchors = tsp::self_signed(&chain);
    let use_anchors: Vec<Vec<u8>> = anchors.map(|a| a.to_vec()).unwrap_or(internal_anchors);
    let mut tokens = vec![];
    for n in &tsr_names {
        let Some(resp) = files.get(n) else { continue };
        facts.tokens += 1;
        match tsp::check_response(resp, &digest, None, &use_anchors, &chain) {
            Ok(t) => {
                oks.push(pass(
                    n,
                    format!(
                        "RFC 3161 token over the checkpoint's SHA-256, {} by {}; chain {}",
                        t.gen_time,
                        t.signer,
                        if anchors.is_some() {
                            "checked against --tsa-ca"
                        } else {
                            "checked against tsa-chain.pem only (identity NOT checked)"
                        }
                    ),
                ));
                facts.times.push(t.gen_time.clone());
            }
            Err(e) => {
                let hint = if anchors.is_none() && e.contains("chain") {
                    " (tsa-chain.pem may have been altered)"
                } else {
                    ""
                };
                out.push(fail(n, format!("{e}{hint}")));
            }
        }
        tokens.push((
            n.clone(),
            tsp::check_response(resp, &digest, None, &[], &[]),
        ));
    }

    // post.json: derived again from the records, field by field.
    let leaf_of: BTreeMap<String, u64> = held
        .iter()
        .filter_map(|h| Some((h.c.rec.id().to_string(), h.leaf?)))
        .collect();
    let mut derived: Option<PostView> = None;
    let mut derived_comments: Option<Comments> = None;
    let mut derived_custody: Vec<CustodyView> = vec![];
    let mut rested_on: BTreeSet<String> = BTreeSet::new();
    let (items, unreadable) = read_bodies(&held);
    let look = Lookup {
        held: held.iter().map(|h| (h.c.rec.id(), &h.c.rec)).collect(),
        leaf_of: &leaf_of,
        present: &seen,
        payload_sha: &payload_sha,
    };
    if let (Some(post), Some(post_json)) = (&post, &post_json) {
        let mut problems = unreadable.clone();
        // The bundle's own claims about records, named precisely.
        for (i, c) in post.checks.iter().enumerate() {
            let rid = c.record_id.as_str();
            let is_check = held.iter().any(|h| {
                h.c.rec.id() == rid && h.c.rec.field("Content-Type") == Some(warc::mime::CHECK)
            });
            if !is_check {
                problems.push(format!(
                    "checks[{i}] ({} at {}) names record {rid}, which is not a check record in records.warc.gz",
                    quoted(c.outcome.as_str()),
                    quoted(&c.at)
                ));
            }
        }
        for (i, c) in post.captures.iter().enumerate() {
            for r in &c.record_ids {
                if !seen.contains(r) {
                    problems.push(format!(
                        "captures[{i}] names record {}, which is not in records.warc.gz",
                        quoted(r)
                    ));
                }
            }
        }
        match derive(&post.post.id.0, &items, &look) {
            Err(ps) => problems.extend(ps),
            Ok(Derived {
                post: d,
                comments,
                custody,
                rests,
            }) => {
                rested_on = rests;
                derived_comments = comments;
                derived_custody = custody;
                // Compared as JSON, so a field is named even when post.json carries one
                // samizdat never writes.
                match serde_json::to_value(&d) {
                    Err(e) => problems.push(format!("the derived post: {e}")),
                    Ok(dv) => {
                        for k in differing_fields(post_json, &dv) {
                            problems.push(format!(
                                "field {k:?} is {}, but the records in the bundle say {}",
                                short(post_json.get(&k)),
                                short(dv.get(&k))
                            ));
                        }
                    }
                }
                facts.checks = d.checks.len();
                derived = Some(d);
            }
        }
        if files.get("post.json").map(Vec::as_slice)
            != Some(
                serde_json::to_string_pretty(post_json)
                    .unwrap_or_default()
                    .as_bytes(),
            )
        {
            problems.push("is not exactly what samizdat writes (bytes added: padding)".into());
        }
        if problems.is_empty() {
            oks.push(pass(
                "post.json",
                "every field is what the post and check records in records.warc.gz derive (state recomputed)",
            ));
        }
        for p in problems {
            out.push(fail("post.json", p));
        }
        // custody.json: exactly the custody records, or absent when there are none.
        if derived.is_some() {
            let want = (!derived_custody.is_empty())
                .then(|| serde_json::to_string_pretty(&derived_custody).unwrap_or_default());
            match (want, files.get("custody.json")) {
                (None, None) => {}
                (None, Some(_)) => out.push(fail(
                    "custody.json",
                    "names custody events, but records.warc.gz holds no custody record of this post",
                )),
                (Some(_), None) => out.push(fail(
                    "custody.json",
                    "missing: records.warc.gz holds custody records of this post",
                )),
                (Some(w), Some(bytes)) if *bytes == w.as_bytes() => oks.push(pass(
                    "custody.json",
                    format!(
                        "its {} events are the custody records in records.warc.gz",
                        derived_custody.len()
                    ),
                )),
                (Some(_), Some(_)) => out.push(fail(
                    "custody.json",
                    "differs from the custody records in records.warc.gz: it was edited",
                )),
            }
        }
        // comments.json: exactly the conversation the records derive, or absent when they
        // hold none.
        if derived.is_some() {
            match (&derived_comments, files.get("comments.json")) {
                (None, None) => {}
                (None, Some(_)) => out.push(fail(
                    "comments.json",
                    "names comments, but records.warc.gz holds no comment or reading of this post's conversation",
                )),
                (Some(_), None) => out.push(fail(
                    "comments.json",
                    "missing: records.warc.gz holds this post's comments or a reading of its conversation",
                )),
                (Some(d), Some(bytes)) => {
                    let want = serde_json::to_string_pretty(d).unwrap_or_default();
                    if *bytes == want.as_bytes() {
                        facts.comments = d.comments.len();
                        oks.push(pass(
                            "comments.json",
                            format!(
                                "its {} comments are what the post, check and thread records in records.warc.gz derive (states recomputed)",
                                d.comments.len()
                            ),
                        ));
                    } else {
                        out.push(fail("comments.json", comments_differ(bytes, d)));
                    }
                }
            }
        }
    }
    // Every record is one the post rests on (or a warcinfo of its files).
    for h in &held {
        let id = h.c.rec.id();
        if h.c.rec.warc_type() != kind::WARCINFO && derived.is_some() && !rested_on.contains(id) {
            out.push(fail(
                "records.warc.gz",
                format!("record {id} is not one the post, its captures or its checks rest on"),
            ));
        }
    }

    // media/: each file's bytes hash to the post's digest and to its record's payload.
    let subject_post = derived.as_ref().or(post.as_ref());
    for (name, sha, rid) in &subject_post.map(media_names).unwrap_or_default() {
        let want = rid.as_deref().and_then(|r| payload_sha.get(r));
        if !names.contains(name) {
            if want.is_some() {
                out.push(fail(name, "missing from the bundle"));
            }
            continue;
        }
        let got = zip.stream(name, MEDIA_MAX).and_then(|mut s| {
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let n = s
                    .read(&mut buf)
                    .map_err(|e| format!("cannot be read: {e}"))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok(hex::encode(h.finalize()))
        });
        match (got, want) {
            (Err(e), _) => out.push(fail(name, e)),
            (Ok(g), Some(w)) if g == *sha && *w == format!("sha256:{g}") => {
                oks.push(pass(name, "same bytes as the record's payload"))
            }
            (Ok(_), _) => out.push(fail(
                name,
                "differs from the media record's payload in records.warc.gz",
            )),
        }
    }

    // Renderings of the derived post.
    let cp_text = String::from_utf8_lossy(&cp_bytes).into_owned();
    if let (Some(d), Some(v)) = (&derived, files.get("view.html")) {
        if *v != render_view(d, derived_comments.as_ref(), &metas, &cp_text, &tokens).into_bytes() {
            out.push(fail(
                "view.html",
                "differs from the rendering of what the bundle's records prove: it was edited",
            ));
        } else {
            oks.push(pass(
                "view.html",
                "is exactly the rendering of what the records prove",
            ));
        }
    } else if files.contains_key("view.html") {
        out.push(fail(
            "view.html",
            "cannot be checked: the post could not be derived from the records",
        ));
    }
    let extras = check_report_files(
        zip,
        &names,
        &files,
        &held,
        &payload_sha,
        Reported {
            derived: derived.as_ref(),
            comments: derived_comments.as_ref(),
            custody: &derived_custody,
            metas: &metas,
            checkpoint: &cp_text,
            tokens: &tokens,
        },
        &mut out,
        &mut oks,
    );
    if let (Some(p), Some(vk), Some(c)) = (&post, text("log.vkey"), &cp)
        && let Some(r) = files.get("README.txt")
    {
        if *r
            != render_readme(
                &p.post.id.0,
                &vk,
                c.size,
                &tsr_names,
                derived_comments.as_ref(),
                derived_custody.len(),
                &extras,
            )
            .into_bytes()
        {
            out.push(fail(
                "README.txt",
                "differs from what samizdat writes: it was edited",
            ));
        } else {
            oks.push(pass("README.txt", "unchanged"));
        }
    }
    out.extend(oks);
    out
}

/// What the report is rendered again from: all derived from the bundle's records.
struct Reported<'a> {
    derived: Option<&'a PostView>,
    comments: Option<&'a Comments>,
    custody: &'a [CustodyView],
    metas: &'a [RecMeta],
    checkpoint: &'a str,
    tokens: &'a [(String, std::result::Result<tsp::TokenInfo, String>)],
}

/// The technical report's files (docs/evidence.md): `provenance.json` is the provenance
/// records, `rendered.html` the newest render's DOM record, `screenshot.png` its screenshot
/// record stamped (pixel for pixel), `report.html` the report rendered again, and
/// `report.pdf` a PDF. Returns which of them README.txt must name.
///
/// A bundle without `report.html` was exported before samizdat wrote reports: it is checked
/// as it was written (its README names none of these files), so those that are missing are
/// not failures; each one that is there is checked all the same.
#[allow(clippy::too_many_arguments)]
fn check_report_files<R: Read + Seek>(
    zip: &mut Zip<R>,
    names: &BTreeSet<String>,
    files: &BTreeMap<String, Vec<u8>>,
    held: &[Held],
    payload_sha: &BTreeMap<String, String>,
    r: Reported,
    out: &mut Vec<Finding>,
    oks: &mut Vec<Finding>,
) -> Extras {
    let mut extras = Extras {
        pdf: names.contains("report.pdf"),
        witnessed: names.contains("policy").then(|| {
            files
                .get("checkpoint.cosignatures")
                .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
        }),
        ..Extras::default()
    };
    let reported = names.contains("report.html");
    extras.report = reported;
    // README.txt names these files only in a bundle with the report (see above).
    let named = |n: usize| if reported { n } else { 0 };
    let Some(d) = r.derived else {
        for n in [
            "report.html",
            "provenance.json",
            "screenshot.png",
            "rendered.html",
        ] {
            if names.contains(n) {
                out.push(fail(
                    n,
                    "cannot be checked: the post could not be derived from the records",
                ));
            }
        }
        return extras;
    };
    // provenance.json.
    let mut order: Vec<&Held> = held
        .iter()
        .filter(|h| {
            h.c.kept
                && h.leaf.is_some()
                && h.c.rec.field("Content-Type") == Some(warc::mime::PROVENANCE)
        })
        .collect();
    order.sort_by_key(|h| h.leaf);
    let mut provenance = vec![];
    for h in order {
        match serde_json::from_slice(&h.c.rec.block) {
            Ok(v) => provenance.push(report::ProvenanceEntry {
                record_id: h.c.rec.id().to_string(),
                leaf: h.leaf.unwrap_or_default(),
                provenance: v,
            }),
            Err(e) => out.push(fail(
                "provenance.json",
                format!("provenance record {} is not JSON: {e}", h.c.rec.id()),
            )),
        }
    }
    extras.provenance = named(provenance.len());
    match (provenance.is_empty(), files.get("provenance.json")) {
        (true, None) => {}
        (true, Some(_)) => out.push(fail(
            "provenance.json",
            "names provenance, but records.warc.gz holds no provenance record",
        )),
        (false, None) if reported => out.push(fail(
            "provenance.json",
            "missing: records.warc.gz holds provenance records",
        )),
        (false, None) => {}
        (false, Some(b)) if *b == report::provenance_json(&provenance).into_bytes() => {
            oks.push(pass(
                "provenance.json",
                format!(
                    "its {} entries are the provenance records in records.warc.gz",
                    provenance.len()
                ),
            ))
        }
        (false, Some(_)) => out.push(fail(
            "provenance.json",
            "differs from the provenance records in records.warc.gz: it was edited",
        )),
    }
    // The newest render's files.
    let render = report::newest_render(d);
    match render {
        None => {
            for n in ["screenshot.png", "rendered.html"] {
                if names.contains(n) {
                    out.push(fail(n, "the post's records hold no render"));
                }
            }
        }
        Some(rf) => {
            extras.rendered = reported;
            // rendered.html: the DOM record's payload, byte for byte.
            let want = payload_sha.get(rf.dom.record_id.as_str());
            if !names.contains("rendered.html") {
                if reported {
                    out.push(fail(
                        "rendered.html",
                        "missing: the post's newest capture was rendered",
                    ));
                }
            } else {
                match zip.stream("rendered.html", DOM_MAX).and_then(|mut s| {
                    let mut h = Sha256::new();
                    std::io::copy(&mut s, &mut HashWriter(&mut h))
                        .map_err(|e| format!("cannot be read: {e}"))?;
                    Ok(hex::encode(h.finalize()))
                }) {
                    Err(e) => out.push(fail("rendered.html", e)),
                    Ok(g) if g == rf.dom.sha256 && want == Some(&format!("sha256:{g}")) => oks
                        .push(pass(
                            "rendered.html",
                            "same bytes as the DOM record's payload",
                        )),
                    Ok(_) => out.push(fail(
                        "rendered.html",
                        "differs from the DOM record's payload in records.warc.gz",
                    )),
                }
            }
            // screenshot.png: the screenshot record stamped with what the records say.
            let record_png = held
                .iter()
                .find(|h| h.c.kept && h.c.rec.id() == rf.screenshot.record_id)
                .map(|h| &h.c.rec.block);
            let prov = report::provenance_of(d, rf, &provenance);
            let lines = report::stamp_lines(&d.post.id.0, rf, prov);
            match (names.contains("screenshot.png"), record_png) {
                (false, _) if reported => out.push(fail(
                    "screenshot.png",
                    "missing: the post's newest capture was rendered",
                )),
                (false, _) => {}
                (true, None) => out.push(fail(
                    "screenshot.png",
                    format!("cannot be checked: its record {} is not in records.warc.gz", rf.screenshot.record_id),
                )),
                (true, Some(rec)) => match zip.read("screenshot.png", SCREENSHOT_MAX) {
                    Err(e) => out.push(fail("screenshot.png", e)),
                    Ok(b) => match stamp::check(&b, rec, &lines) {
                        Ok(()) => oks.push(pass(
                            "screenshot.png",
                            "the screenshot record's pixels, untouched, below the strip its records say (every pixel compared)",
                        )),
                        Err(e) => out.push(fail("screenshot.png", e)),
                    },
                },
            }
        }
    }
    // report.html, rendered again.
    let inputs = report::Inputs {
        view: d,
        comments: r.comments,
        recs: r.metas,
        checkpoint: r.checkpoint,
        tokens: r.tokens,
        provenance: &provenance,
        custody: r.custody,
    };
    if let Some(b) = files.get("report.html") {
        if *b == report::render_report(&inputs, "screenshot.png").into_bytes() {
            oks.push(pass(
                "report.html",
                "is exactly the report of what the records prove",
            ));
        } else {
            out.push(fail(
                "report.html",
                "differs from the report of what the bundle's records prove: it was edited",
            ));
        }
    }
    // report.pdf: its shape only (module head of `report`).
    if extras.pdf {
        match zip.read("report.pdf", PDF_MAX).and_then(|b| report::pdf_shape(&b)) {
            Ok(()) => oks.push(pass(
                "report.pdf",
                "is a whole PDF; its content is NOT compared (a printed PDF is not reproducible byte for byte: report.html is the checked report)",
            )),
            Err(e) => out.push(fail("report.pdf", e)),
        }
    }
    extras
}

/// Feeds what is written into a hash.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The fields of two JSON objects whose values differ (present in either), in order.
fn differing_fields(a: &Value, b: &Value) -> Vec<String> {
    let keys: BTreeSet<&String> = a
        .as_object()
        .into_iter()
        .flatten()
        .chain(b.as_object().into_iter().flatten())
        .map(|(k, _)| k)
        .collect();
    keys.into_iter()
        .filter(|k| a.get(k.as_str()) != b.get(k.as_str()))
        .cloned()
        .collect()
}

/// What differs between a bundle's `comments.json` and the derivation, named: the first
/// comment that differs and its field, else the conversation, else the bytes.
fn comments_differ(bytes: &[u8], d: &Comments) -> String {
    let Ok(claimed) = serde_json::from_slice::<Value>(bytes) else {
        return "not valid JSON".into();
    };
    let Ok(dv) = serde_json::to_value(d) else {
        return "the derivation cannot be written".into();
    };
    if claimed.get("conversation") != dv.get("conversation") {
        return format!(
            "the conversation is {}, but the thread records in the bundle say {}",
            short(claimed.get("conversation")),
            short(dv.get("conversation"))
        );
    }
    let none = vec![];
    let a = claimed
        .get("comments")
        .and_then(Value::as_array)
        .unwrap_or(&none);
    let b = dv
        .get("comments")
        .and_then(Value::as_array)
        .unwrap_or(&none);
    if a.len() != b.len() {
        return format!(
            "lists {} comments, but the records in the bundle derive {}",
            a.len(),
            b.len()
        );
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            let id = y.get("id").and_then(Value::as_str).unwrap_or("?");
            if let Some(k) = differing_fields(x, y).first() {
                return format!(
                    "comments[{i}] ({id}): field {k:?} is {}, but the records in the bundle say {}",
                    short(x.get(k)),
                    short(y.get(k))
                );
            }
        }
    }
    "is not exactly what samizdat writes (bytes added: padding)".into()
}

/// A kept record's body, read once.
enum Body {
    Post(Box<PostRecord>),
    Check(Box<CheckRecord>),
    Thread(ThreadRecord),
    Custody(Box<CustodyRecord>),
}

/// One of samizdat's own records in leaf order, with its body read.
struct Item<'a> {
    h: &'a Held,
    leaf: u64,
    body: Body,
}

impl Item<'_> {
    /// The post a post or check record is about (a thread record: the post read).
    fn post_id(&self) -> &str {
        match &self.body {
            Body::Post(p) => &p.post.id.0,
            Body::Check(c) => &c.post_id,
            Body::Thread(t) => &t.post_id,
            // Not about one post: see `derive`.
            Body::Custody(_) => "",
        }
    }
}

/// Reads every kept record's body once, in leaf order; an unreadable one is a problem.
fn read_bodies(held: &[Held]) -> (Vec<Item<'_>>, Vec<String>) {
    let mut problems = vec![];
    let mut items = vec![];
    let mut order: Vec<&Held> = held
        .iter()
        .filter(|h| h.c.kept && h.leaf.is_some())
        .collect();
    order.sort_by_key(|h| h.leaf);
    for h in order {
        let rec = &h.c.rec;
        let body = match rec.field("Content-Type") {
            Some(warc::mime::POST) => serde_json::from_slice(&rec.block)
                .map(Body::Post)
                .map_err(|e| format!("post record {}: unreadable: {e}", rec.id())),
            Some(warc::mime::CHECK) => serde_json::from_slice(&rec.block)
                .map(Body::Check)
                .map_err(|e| format!("check record {}: unreadable: {e}", rec.id())),
            Some(warc::mime::THREAD) => serde_json::from_slice(&rec.block)
                .map(Body::Thread)
                .map_err(|e| format!("thread record {}: unreadable: {e}", rec.id())),
            Some(warc::mime::CUSTODY) => serde_json::from_slice(&rec.block)
                .map(Body::Custody)
                .map_err(|e| format!("custody record {}: unreadable: {e}", rec.id())),
            _ => continue,
        };
        match body {
            Ok(body) => items.push(Item {
                h,
                leaf: h.leaf.unwrap_or(u64::MAX),
                body,
            }),
            Err(e) => problems.push(e),
        }
    }
    (items, problems)
}

/// The records a derivation looks things up in.
struct Lookup<'a> {
    held: BTreeMap<&'a str, &'a warc::Record>,
    leaf_of: &'a BTreeMap<String, u64>,
    present: &'a BTreeSet<String>,
    /// Each record's payload digest (`sha256:<hex>`), as streamed.
    payload_sha: &'a BTreeMap<String, String>,
}

impl Lookup<'_> {
    /// Marks `id` as rested on, and names it when the bundle does not hold it.
    fn need(&self, rests: &mut BTreeSet<String>, id: &str, what: &str, problems: &mut Vec<String>) {
        rests.insert(id.to_string());
        if !self.present.contains(id) {
            problems.push(format!(
                "{what} rests on record {id}, which records.warc.gz does not hold"
            ));
        }
    }
}

/// What the bundle's records derive: the post, its conversation, and every record
/// they rest on.
struct Derived {
    post: PostView,
    comments: Option<Comments>,
    /// The custody records, in leaf order.
    custody: Vec<CustodyView>,
    rests: BTreeSet<String>,
}

/// `post.json` and `comments.json` as the index would derive them from these records
/// ([`derive_post`] for the post and for each of its comments), and every record they
/// rest on. Every check record must be about the post or one of its comments, and every
/// thread record a reading of the post's conversation.
fn derive(subject: &str, items: &[Item], look: &Lookup) -> Result<Derived, Vec<String>> {
    let mut problems = vec![];
    let mut of: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for it in items {
        of.entry(it.post_id()).or_default().push(it);
    }
    // The comments: posts whose post record says they belong to this conversation.
    let mut comment_ids: Vec<&str> = vec![];
    let mut is_comment: BTreeSet<&str> = BTreeSet::new();
    for it in items {
        if let Body::Post(p) = &it.body
            && p.post
                .thread
                .as_ref()
                .is_some_and(|t| t.thread_of.0 == subject)
            && is_comment.insert(&p.post.id.0)
        {
            comment_ids.push(&p.post.id.0);
        }
    }
    let mut rests = BTreeSet::new();
    let mut conversation = None;
    let mut custody = vec![];
    for it in items {
        let id = it.h.c.rec.id();
        match &it.body {
            Body::Custody(c) if !c.all && !c.posts.iter().any(|p| p == subject) => problems.push(
                format!("custody record {id} is about other posts, not {subject}"),
            ),
            Body::Custody(c) => {
                rests.insert(id.to_string());
                custody.push(CustodyView {
                    record_id: id.to_string(),
                    body: (**c).clone(),
                });
            }
            Body::Check(c) if c.post_id != subject && !is_comment.contains(c.post_id.as_str()) => {
                problems.push(format!(
                    "check record {id} is about post {}, not {subject} or one of its comments",
                    c.post_id
                ))
            }
            Body::Thread(t) if t.post_id != subject => problems.push(format!(
                "thread record {id} is a reading of the conversation of post {}, not {subject}",
                t.post_id
            )),
            Body::Thread(t) => {
                rests.insert(id.to_string());
                for r in &t.record_ids {
                    look.need(&mut rests, r, &format!("thread record {id}"), &mut problems);
                }
                conversation = Some(conversation_of(t, id));
            }
            _ => {}
        }
    }
    let mine = |id: &str| of.get(id).map(Vec::as_slice).unwrap_or_default();
    let post = match derive_post(subject, mine(subject), look) {
        Ok((v, r)) => {
            rests.extend(r);
            Some(v)
        }
        Err(ps) => {
            problems.extend(ps);
            None
        }
    };
    let mut comments = vec![];
    for cid in comment_ids {
        match derive_post(cid, mine(cid), look) {
            Ok((v, r)) => {
                rests.extend(r);
                comments.push(v);
            }
            Err(ps) => problems.extend(ps),
        }
    }
    comment_order(&mut comments);
    match post {
        Some(post) if problems.is_empty() => Ok(Derived {
            post,
            comments: (conversation.is_some() || !comments.is_empty()).then_some(Comments {
                conversation,
                comments,
            }),
            custody,
            rests,
        }),
        _ => Err(problems),
    }
}

/// The post object (docs/post.md) that the index would derive from `items`, the post and
/// check records about `subject`, in leaf order: the newest post record's post, with
/// state, cause, message, `last_seen_live` and `first_seen_gone` from [`state`], and the
/// captures and checks the records make. Also the ids of every record the post rests on.
fn derive_post(
    subject: &str,
    items: &[&Item],
    look: &Lookup,
) -> Result<(PostView, BTreeSet<String>), Vec<String>> {
    let mut problems = vec![];
    let mut facts: Option<state::Facts> = None;
    let mut last_definite: Option<(Outcome, String)> = None;
    let mut newest = None;
    let mut captures: Vec<(String, u64, CaptureView)> = vec![];
    let mut renders: Vec<(String, u64, crate::store::bodies::RenderFacts)> = vec![];
    let mut checks = vec![];
    let mut rests: BTreeSet<String> = BTreeSet::new();
    for it in items {
        let rec = &it.h.c.rec;
        let leaf = it.leaf;
        match &it.body {
            Body::Thread(_) | Body::Custody(_) => {}
            Body::Post(pr) => {
                facts = Some(state::after_capture(facts.as_ref(), rec.date()));
                let mut ids = pr.record_ids.clone();
                ids.push(rec.id().to_string());
                let what = format!("the capture of {}", rec.date());
                for id in &ids {
                    look.need(&mut rests, id, &what, &mut problems);
                }
                let leaves: Vec<u64> = ids
                    .iter()
                    .filter_map(|i| look.leaf_of.get(i).copied())
                    .collect();
                captures.push((
                    rec.date().to_string(),
                    leaf,
                    CaptureView {
                        at: rec.date().to_string(),
                        record_ids: ids,
                        leaf_indexes: leaves,
                    },
                ));
                newest = Some(pr.post.clone());
                if let Some(r) = &pr.render {
                    // The screenshot and the DOM it names are records of the bundle, and
                    // what the post record says of them is what they hold.
                    for (what, f) in [("screenshot", &r.screenshot), ("DOM", &r.dom)] {
                        let whose = format!("the {what} of the render of {}", rec.date());
                        look.need(&mut rests, &f.record_id, &whose, &mut problems);
                        if let Some(sha) = look.payload_sha.get(f.record_id.as_str())
                            && *sha
                                != warc::sha256_hex_label(
                                    hex::decode(&f.sha256).unwrap_or_default(),
                                )
                        {
                            problems.push(format!(
                                "{whose} names record {} with SHA-256 {}, but that record holds {sha}",
                                f.record_id, f.sha256
                            ));
                        }
                    }
                    renders.push((rec.date().to_string(), leaf, r.clone()));
                }
            }
            Body::Check(c) => {
                let c = c.clone();
                rests.insert(rec.id().to_string());
                let what = format!("check record {}", rec.id());
                for id in c.record_ids.iter().chain(c.post_record.iter()) {
                    look.need(&mut rests, id, &what, &mut problems);
                }
                // An identical check carries its exchange and rests on the earlier
                // response whose payload the answer repeated: that record must be one,
                // of the same URL, with that payload digest.
                if let Some(ex) = &c.exchange {
                    let earlier = c.response_id.as_deref().unwrap_or("");
                    if !c.record_ids.iter().any(|r| r == earlier) {
                        look.need(&mut rests, earlier, &what, &mut problems);
                    }
                    if let Some(e) = look.held.get(earlier) {
                        let why = if e.warc_type() != kind::RESPONSE {
                            Some(format!("is a {} record, not a response", e.warc_type()))
                        } else if e.target_uri() != Some(ex.uri.as_str()) {
                            Some(format!(
                                "is the answer from {}, not from {}",
                                quoted(e.target_uri().unwrap_or("")),
                                quoted(&ex.uri)
                            ))
                        } else if c.payload_digest.is_none()
                            || e.field("WARC-Payload-Digest") != c.payload_digest.as_deref()
                        {
                            Some(format!(
                                "has payload digest {}, not the {} the check says it repeated",
                                quoted(e.field("WARC-Payload-Digest").unwrap_or("")),
                                quoted(c.payload_digest.as_deref().unwrap_or(""))
                            ))
                        } else {
                            None
                        };
                        if let Some(why) = why {
                            problems.push(format!(
                                "check record {} rests on record {earlier}, which {why}",
                                rec.id()
                            ));
                        }
                    }
                }
                let check_in = CheckIn {
                    outcome: c.outcome,
                    cause: c.cause,
                    message: c.message.as_deref(),
                    at: &c.at,
                };
                let (next, event) = state::after_check(
                    facts.as_ref(),
                    last_definite.as_ref().map(|(o, at)| (*o, at.as_str())),
                    &check_in,
                );
                // As the index does: a check naming its post's URL makes the post when no
                // post record came before it (a post gone at its first capture).
                let made = match (&facts, &c.url) {
                    (None, Some(url)) => state::gone_at_capture(&check_in).map(|f| {
                        let id = crate::model::PostId(c.post_id.clone());
                        (
                            f,
                            crate::model::Post::new(id.platform(), id.platform_id(), url),
                        )
                    }),
                    _ => None,
                };
                facts = next;
                if let Some((f, p)) = made {
                    facts = Some(f);
                    newest = Some(p);
                }
                if c.outcome != Outcome::Unreachable {
                    last_definite = Some((c.outcome, c.at.clone()));
                }
                checks.push(CheckView {
                    at: c.at,
                    outcome: c.outcome,
                    event,
                    cause: c.cause,
                    message: c.message,
                    http_status: c.http_status,
                    record_id: rec.id().to_string(),
                    record_ids: c.record_ids,
                    post_record: c.post_record,
                });
            }
        }
    }
    let (Some(post), Some(f)) = (newest, facts) else {
        problems.push(format!(
            "records.warc.gz holds no post record of {subject}, so nothing in post.json is supported"
        ));
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    captures.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    renders.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let view = PostView {
        post,
        state: f.state,
        cause: f.cause,
        message: f.message,
        last_seen_live: f.last_seen_live,
        first_seen_gone: f.first_seen_gone,
        captures: captures.into_iter().map(|c| c.2).collect(),
        renders: renders.into_iter().map(|r| r.2).collect(),
        checks,
        url_conflicts: vec![],
    };
    Ok((view, rests))
}

/// What the report proves and does not prove.
pub fn conclusions(r: &Report) -> (Vec<String>, Vec<String>) {
    let f = &r.facts;
    let mut proven = vec![];
    let mut not = vec![];
    if !r.consistent() || r.kind == Kind::Unreadable {
        not.push("nothing: some file of this bundle was altered or damaged, so none of it can be relied on as it stands".into());
        return (proven, not);
    }
    if r.kind == Kind::Wacz {
        proven.push(format!("the WACZ package is consistent: every file matches datapackage.json, and its {} WARC records are well formed with matching digests", f.records));
        not.push("anything as evidence: a WACZ carries no log proofs, signed checkpoint or timestamp, so its records may have been made by anyone; use `samizdat export POST --bundle` for evidence".into());
        if f.key_given || f.tsa_given {
            not.push(
                "--vkey and --tsa-ca were given, but there is nothing in a WACZ they can check"
                    .into(),
            );
        }
        return (proven, not);
    }
    proven.push(format!("the {} records are byte for byte those the log committed to: their digests match and each has a valid inclusion proof in the checkpoint of size {}", f.records, f.cp_size));
    proven.push(format!("post.json says only what those records say: its text and media are the newest post record's, and its state, cause, words, dates and {} checks are derived from the check records", f.checks));
    if f.comments > 0 {
        proven.push(format!("comments.json says only what those records say: its {} comments, replies and reposts are each the newest post record of that comment, with the state its own check records derive, and its conversation is the newest thread record's reading", f.comments));
        not.push("that the comments are every comment the platform showed: only those captured are here, at most `[capture] comments` per reading, in the platform's order; a comment `not_listed` was missing from a listing, which is not a deletion".into());
    }
    if f.key_given {
        proven.push("the checkpoint was signed by the log key you supplied (--vkey, or the one log of --policy)".into());
    } else {
        proven.push("the checkpoint is signed by log.vkey from inside the bundle (internal consistency only)".into());
        not.push("who signed the checkpoint: the key came from the bundle itself; compare its fingerprint with the key the archive published, or pass --vkey".into());
    }
    if f.tokens > 0 {
        let when = f.times.join(", ");
        if f.tsa_given {
            proven.push(format!("the checkpoint, and so every record in it, existed no later than {when} (RFC 3161, TSA chain checked against --tsa-ca)"));
        } else {
            proven.push(format!("a time-stamp token dated {when} covers this exact checkpoint, signed by a certificate in tsa-chain.pem (internal consistency only)"));
            not.push("that a real, trusted time-stamp authority made the timestamp: pass --tsa-ca with the authority's CA certificate".into());
        }
    } else {
        not.push("when: the checkpoint has no RFC 3161 timestamp, so the capture time rests only on the archive's own word".into());
    }
    match &f.witnesses {
        Some(w) if w.required && w.holds => {
            let by: Vec<String> = w
                .checks
                .iter()
                .filter(|c| c.cosigned_at.is_some())
                .map(|c| c.name.clone())
                .collect();
            if w.policy_given {
                proven.push(format!("independent witnesses of your --policy saw this same checkpoint and checked that it extends every one they saw before: {} (quorum {}), so the log could not show you a history other than the one they saw", by.join(", "), w.quorum));
            } else {
                proven.push(format!("the witnesses named in the bundle's own policy cosigned this checkpoint: {} (quorum {}; internal consistency only)", by.join(", "), w.quorum));
                not.push("who the witnesses are: their keys came from the bundle's own policy; pass --policy with the log and witness keys you trust".into());
            }
        }
        Some(w) if w.required => {
            not.push(format!("that anyone else saw this checkpoint: the quorum of the bundle's policy ({}) is not met, so nothing independent shows that the log did not show this history to this bundle's readers alone", w.quorum));
        }
        _ => not.push("that anyone else saw this checkpoint: no witness cosigned it under the policy in force, so the log could show different histories to different readers".into()),
    }
    if f.tlog_proofs > 0 {
        proven.push(format!("each of the {} records can be checked on its own with its proofs/<record>.tlog-proof (C2SP tlog-proof) and a policy", f.tlog_proofs));
    }
    not.push("that the bundle holds every check of the post: checks made after the export, or left out of it, are not here (the state shown is the one these checks derive)".into());
    not.push("that the server that answered told the truth, or who wrote the post: only what was served to samizdat".into());
    not.push("the capture times inside the records (WARC-Date): they are the archive's own statement, bounded only by the timestamp".into());
    (proven, not)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small zip with the given (name, bytes) members, deflated.
    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
        for (n, b) in members {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn what_is_not_a_zip_is_damage() {
        for input in [&b""[..], b"PK", b"not a zip at all", &[0u8; 22]] {
            let r = verify_bundle_bytes(input, None, None);
            assert_eq!((r.kind, r.verdict()), (Kind::Unreadable, Verdict::Damaged));
        }
    }

    #[test]
    fn an_empty_or_partial_bundle_names_what_is_missing() {
        let r = verify_bundle_bytes(&zip_of(&[("post.json", b"{}")]), None, None);
        assert_eq!((r.kind, r.verdict()), (Kind::Bundle, Verdict::Damaged));
        for want in ["records.warc.gz", "proofs.json", "checkpoint", "log.vkey"] {
            assert!(
                r.findings.iter().any(|f| !f.ok && f.file == want),
                "{want}: {:?}",
                r.findings
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random bytes, and zips of random members, never panic and never pass.
        #[test]
        fn random_input_never_panics_and_never_passes(
            raw in proptest::collection::vec(any::<u8>(), 0..2048),
            names in proptest::collection::vec("[a-z./]{1,12}", 0..6),
        ) {
            let r = verify_bundle_bytes(&raw, None, None);
            prop_assert_eq!(r.verdict(), Verdict::Damaged);
            let unique: BTreeSet<&String> = names.iter().collect();
            let members: Vec<(&str, &[u8])> = unique.iter().map(|n| (n.as_str(), &raw[..])).collect();
            let r = verify_bundle_bytes(&zip_of(&members), None, None);
            prop_assert!(r.verdict() != Verdict::Evidence);
        }
    }
}
