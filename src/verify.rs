//! `verify`: re-hash every record, rebuild the tree, check every checkpoint, and check
//! that the index agrees with the files. Read-only: it never changes the archive.
//!
//! Each problem names the file, offset, record id and target URI, so an investigator can
//! go straight to the damaged bytes.

use crate::error::{Error, Result};
use crate::log::merkle::{CompactRange, Hash};
use crate::log::note::{Checkpoint, open_note};
use crate::store::archive::{self, layout};
use crate::store::files::WarcFiles;
use crate::store::index::{Index, RecordRow};
use crate::store::warc;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One thing wrong, located as precisely as possible.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<u64>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            if let Some(o) = self.offset {
                write!(f, " @{o}")?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.what)?;
        if let Some(l) = self.leaf {
            write!(f, " [leaf {l}]")?;
        }
        if let Some(id) = &self.record_id {
            write!(f, " [{id}]")?;
        }
        if let Some(t) = &self.target_uri {
            write!(f, " [{t}]")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub files: usize,
    pub records: u64,
    /// Uncompressed record bytes hashed.
    pub bytes: u64,
    pub checkpoints: usize,
    /// The root of the rebuilt tree (base64) and its size.
    pub tree_size: u64,
    pub root: String,
    /// The log's name and its key's fingerprint (hex SHA-256 of the public key, the form
    /// `init`, `verify-bundle` and the web `/verify` page print), so the reader can
    /// compare it with the published one.
    pub origin: String,
    pub vkey_fingerprint: String,
    pub problems: Vec<Problem>,
    /// Not damage: crash debris that the next writer will move to quarantine/.
    pub notes: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Most problems listed one by one (the count of the rest is still given).
const MAX_PROBLEMS: usize = 1000;

struct Problems {
    list: Vec<Problem>,
    more: u64,
}

impl Problems {
    fn push(&mut self, p: Problem) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.more += 1;
        }
    }
}

fn at(file: &str, offset: u64, what: String) -> Problem {
    Problem {
        what,
        file: Some(file.to_string()),
        offset: Some(offset),
        record_id: None,
        target_uri: None,
        leaf: None,
    }
}

fn general(what: String) -> Problem {
    Problem {
        what,
        file: None,
        offset: None,
        record_id: None,
        target_uri: None,
        leaf: None,
    }
}

/// Checks the archive at `root`. `progress` gets the uncompressed bytes done so far.
pub fn verify(root: &Path, mut progress: impl FnMut(u64)) -> Result<Report> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here (no keys/log.vkey); run `samizdat init` or pass --archive"
                .into(),
        });
    }
    let mut report = Report::default();
    let mut probs = Problems {
        list: vec![],
        more: 0,
    };
    let verifier = archive::read_verifier(root)?;
    report.origin = verifier.name().to_string();
    report.vkey_fingerprint = verifier.fingerprint();

    // Checkpoints: each must be signed by the archive key; remember size → root.
    let mut wanted: BTreeMap<u64, Vec<(String, Hash)>> = BTreeMap::new();
    let mut cp_files = archive::checkpoint_files(root)?;
    let latest = root.join(layout::CHECKPOINT);
    if latest.exists() {
        cp_files.push(latest);
    }
    for p in &cp_files {
        let name = p.strip_prefix(root).unwrap_or(p).display().to_string();
        let text = match archive::read_checkpoint_text(p) {
            Ok(t) => t,
            Err(Error::Damage(e)) => {
                probs.push(Problem {
                    file: Some(name),
                    ..general(format!("checkpoint unreadable: {e}"))
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        match open_note(&text, std::slice::from_ref(&verifier)) {
            Err(e) => probs.push(Problem {
                file: Some(name),
                ..general(format!(
                    "checkpoint signature does not verify with the archive key: {e}"
                ))
            }),
            Ok(note) => match Checkpoint::parse(&note.text) {
                Err(e) => probs.push(Problem {
                    file: Some(name),
                    ..general(format!("checkpoint unreadable: {e}"))
                }),
                Ok(cp) => {
                    if cp.origin != verifier.name() {
                        probs.push(Problem {
                            file: Some(name.clone()),
                            ..general(format!(
                                "checkpoint origin {:?} is not this log's {:?}",
                                cp.origin,
                                verifier.name()
                            ))
                        });
                    }
                    report.checkpoints += 1;
                    wanted.entry(cp.size).or_default().push((name, cp.root));
                }
            },
        }
    }

    let index_path = root.join(layout::INDEX);
    let index = if index_path.exists() {
        match Index::open(&index_path, false).and_then(|i| i.check_readable().map(|_| i)) {
            Ok(i) => Some(i),
            Err(e) => {
                probs.push(Problem {
                    file: Some(layout::INDEX.into()),
                    ..general(format!(
                        "the index is damaged ({e}); run `samizdat reindex` to rebuild it \
                         (the damaged file is moved to quarantine/)"
                    ))
                });
                None
            }
        }
    } else {
        probs.push(general(
            "index.sqlite is missing: run `samizdat reindex`".into(),
        ));
        None
    };
    let mut index = index;
    let index_count = match &index {
        Some(i) => i.leaf_count()?,
        None => 0,
    };
    // The stored tree hashes, re-derived entry by entry from the leaves as they are read.
    let hp = root.join(layout::HASHES);
    let mut stored_check = if hp.exists() {
        match crate::log::hashes::StoredHashCheck::open(&hp) {
            Ok(c) => Some(c),
            Err(e) => {
                probs.push(general(format!("log/hashes unreadable: {e}")));
                None
            }
        }
    } else {
        None
    };
    // For the leaf hash of an unreadable record the index does not give.
    let stored = crate::log::hashes::HashStore::open_read_only(&hp).ok();
    let signed = archive::latest_checkpoint(root, &verifier).ok().flatten();
    let stored_leaf_hash = |leaf: u64| -> Option<Hash> {
        let (h, cp) = (stored.as_ref()?, signed.as_ref()?);
        (leaf < cp.size)
            .then(|| {
                h.checked_inclusion(leaf, cp.size, cp)
                    .ok()
                    .map(|c| c.leaf_hash)
            })
            .flatten()
    };
    // Set when a damaged leaf's hash is unknown: the tree cannot be rebuilt past it.
    let mut tree_lost_at: Option<u64> = None;

    let mut tree = CompactRange::new();
    let check_root = |tree: &CompactRange,
                      wanted: &BTreeMap<u64, Vec<(String, Hash)>>,
                      probs: &mut Problems| {
        if let Some(cps) = wanted.get(&tree.size()) {
            let root = tree.root();
            for (name, want) in cps {
                if *want != root {
                    probs.push(Problem { file: Some(name.clone()), ..general(format!(
                        "checkpoint root for size {} does not match the tree rebuilt from warc/ ({} vs {})",
                        tree.size(), want.to_base64(), root.to_base64()))});
                }
            }
        }
    };
    check_root(&tree, &wanted, &mut probs);

    let files = archive::warc_files(root)?;
    report.files = files.len();
    let mut rows: Vec<RecordRow> = vec![];
    let mut row_at = 0usize;
    let mut next_leaf = 0u64;
    // Two stages on two threads: one inflates members and hashes leaves, this one checks
    // digests and the index. (Inflate is the slow part.)
    enum Item {
        Member(warc::Member, Hash),
        Damaged {
            offset: u64,
            end: u64,
            message: String,
        },
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, std::io::Result<Item>)>(256);
    let reader_files = files.clone();
    let store = archive::warc_store(root);
    let mut lens = Vec::with_capacity(files.len());
    for name in &files {
        lens.push(store.len(name)?);
    }
    let reader = std::thread::spawn(move || -> Result<()> {
        for (fi, name) in reader_files.iter().enumerate() {
            for item in warc::scan_file(&store, name)? {
                let item = item.map(|i| match i {
                    warc::Scanned::Member(m) => {
                        let lh = crate::log::entry::leaf_of(&m.bytes);
                        Item::Member(m, lh)
                    }
                    warc::Scanned::Damaged {
                        offset,
                        end,
                        message,
                    } => Item::Damaged {
                        offset,
                        end,
                        message,
                    },
                });
                let stop = item.is_err();
                if tx.send((fi, item)).is_err() {
                    return Ok(());
                }
                if stop {
                    break;
                }
            }
        }
        Ok(())
    });
    for (fi, item) in rx {
        let name = &files[fi];
        {
            let (m, lh) = match item {
                Err(e) => {
                    probs.push(at(name, 0, format!("cannot read the file: {e}")));
                    continue;
                }
                Ok(Item::Member(m, lh)) => (m, lh),
                Ok(Item::Damaged {
                    offset,
                    end,
                    message,
                }) => {
                    let last_file = fi + 1 == files.len();
                    let at_end = end == lens[fi];
                    let known_end =
                        index_count <= next_leaf && wanted.keys().all(|s| *s <= next_leaf);
                    let known_rows = match &index {
                        Some(ix) => ix.records_in(name, offset, end).unwrap_or_default(),
                        None => vec![],
                    };
                    if last_file && at_end && known_end && known_rows.is_empty() {
                        report.notes.push(format!(
                            "{name} @{offset}: a torn record after everything the index and checkpoints know: \
                             crash debris, moved to quarantine/ by the next capture ({message})"));
                        continue;
                    }
                    let vouched = index_count.max(wanted.keys().next_back().copied().unwrap_or(0));
                    let count = if !known_rows.is_empty() {
                        known_rows.len() as u64
                    } else if last_file && at_end {
                        vouched.saturating_sub(next_leaf).max(1)
                    } else {
                        1
                    };
                    let first = next_leaf;
                    for i in 0..count {
                        let leaf = next_leaf;
                        next_leaf += 1;
                        report.records += 1;
                        let lh = known_rows
                            .get(i as usize)
                            .map(|r| Hash(r.leaf_hash))
                            .or_else(|| stored_leaf_hash(leaf));
                        match (lh, tree_lost_at) {
                            (Some(lh), None) => {
                                tree.push(lh);
                                if let Some(c) = &mut stored_check {
                                    c.push(lh);
                                }
                                check_root(&tree, &wanted, &mut probs);
                            }
                            (None, None) => tree_lost_at = Some(leaf),
                            _ => {}
                        }
                    }
                    let leaves = if count == 1 {
                        format!("leaf {first}")
                    } else {
                        format!("leaves {first}..={}", next_leaf - 1)
                    };
                    let ids: Vec<&str> = known_rows.iter().map(|r| r.id.as_str()).collect();
                    probs.push(Problem {
                        record_id: (!ids.is_empty()).then(|| ids.join(" ")),
                        ..at(
                            name,
                            offset,
                            format!(
                                "bytes {offset}..{end} cannot be read ({message}); skipped to the next \
                                 readable record ({leaves})"
                            ),
                        )
                    });
                    // The index rows are fetched again from the next leaf on.
                    rows.clear();
                    row_at = 0;
                    continue;
                }
            };
            let leaf = next_leaf;
            next_leaf += 1;
            report.records += 1;
            report.bytes += m.bytes.len() as u64;
            if tree_lost_at.is_none() {
                tree.push(lh);
                if let Some(c) = &mut stored_check {
                    c.push(lh);
                }
                check_root(&tree, &wanted, &mut probs);
            }
            let rec = match warc::parse_record(&m.bytes) {
                Ok(r) => Some(r),
                Err(e) => {
                    probs.push(Problem {
                        leaf: Some(leaf),
                        ..at(name, m.offset, format!("not a valid WARC record: {e}"))
                    });
                    None
                }
            };
            if let Some(rec) = &rec {
                for what in warc::digest_problems(rec) {
                    probs.push(Problem {
                        what,
                        file: Some(name.clone()),
                        offset: Some(m.offset),
                        record_id: Some(rec.id().to_string()),
                        target_uri: rec.target_uri().map(str::to_string),
                        leaf: Some(leaf),
                    });
                }
            }
            // The index row for this leaf, fetched in chunks.
            if let Some(ix) = &index {
                if row_at >= rows.len() {
                    rows = match ix.records_range(leaf, leaf + 4096) {
                        Ok(r) => r,
                        Err(e) => {
                            probs.push(Problem {
                                file: Some(layout::INDEX.into()),
                                ..general(format!(
                                    "the index is damaged ({e}): run `samizdat reindex`"
                                ))
                            });
                            index = None;
                            continue;
                        }
                    };
                    row_at = 0;
                }
                let row = rows.get(row_at).filter(|r| r.leaf == leaf);
                if row.is_some() {
                    row_at += 1;
                }
                let id = rec.as_ref().map(|r| r.id().to_string());
                let target = rec
                    .as_ref()
                    .and_then(|r| r.target_uri().map(str::to_string));
                let debris = leaf >= index_count
                    && wanted.keys().all(|s| *s <= leaf)
                    && fi + 1 == files.len();
                let mismatch = match row {
                    None if leaf < index_count => Some("the index has no row for this leaf".to_string()),
                    None if debris => {
                        report.notes.push(format!(
                            "{name} @{}: a complete record of a batch that never finished (not indexed, \
                             not in any checkpoint): crash debris, moved to quarantine/ by the next capture",
                            m.offset
                        ));
                        None
                    }
                    None => Some("this record is not in the index (run `samizdat reindex` if the index is stale)".to_string()),
                    Some(r) if Some(&r.id) != id.as_ref() => Some(format!("the index says leaf {leaf} is {} at {} @{}", r.id, r.file, r.offset)),
                    Some(r) if r.file != *name || r.offset != m.offset || r.length != m.length => Some(format!("the index places this record at {} @{} (+{})", r.file, r.offset, r.length)),
                    Some(r) if r.leaf_hash != lh.0 => Some("the index's leaf hash differs from the record's bytes".to_string()),
                    Some(r) if r.block_digest.as_deref() != rec.as_ref().and_then(|x| x.field("WARC-Block-Digest")) => Some("the index's block digest differs from the record's".to_string()),
                    _ => None,
                };
                if let Some(what) = mismatch {
                    probs.push(Problem {
                        what,
                        file: Some(name.clone()),
                        offset: Some(m.offset),
                        record_id: id,
                        target_uri: target,
                        leaf: Some(leaf),
                    });
                }
            }
            if report.records % 1024 == 0 {
                progress(report.bytes);
            }
        }
    }
    reader
        .join()
        .map_err(|_| Error::Log("the verify reader thread panicked".into()))??;
    progress(report.bytes);
    report.tree_size = tree.size();
    report.root = tree.root().to_base64();

    if index_count > next_leaf {
        if let Some(ix) = &index {
            for leaf in next_leaf..index_count.min(next_leaf + 20) {
                if let Some(r) = ix.record_by_leaf(leaf)? {
                    probs.push(Problem {
                        what: "the index lists this record but it is missing from the WARC files"
                            .into(),
                        file: Some(r.file),
                        offset: Some(r.offset),
                        record_id: Some(r.id),
                        target_uri: r.target,
                        leaf: Some(leaf),
                    });
                }
            }
        }
        probs.push(general(format!(
            "the index knows {index_count} records, the WARC files hold {next_leaf}"
        )));
    }
    for (size, cps) in wanted.range(next_leaf + 1..) {
        for (name, _) in cps {
            probs.push(Problem {
                file: Some(name.clone()),
                ..general(format!(
                    "checkpoint covers {size} records but the WARC files hold only {next_leaf}"
                ))
            });
        }
    }
    if let Some(max) = wanted.keys().next_back()
        && *max > index_count
    {
        probs.push(general(format!("a signed checkpoint covers {max} records but the index knows only {index_count}: the index lost rows (run `samizdat reindex`)")));
    }
    if let Some(leaf) = tree_lost_at {
        probs.push(general(format!(
            "the log tree cannot be rebuilt past leaf {leaf}: its record is unreadable and neither \
             the index nor the checked stored tree hashes give its leaf hash, so checkpoints \
             above size {leaf} were not checked"
        )));
    }
    // The stored tree hashes are a cache, but a proof served from a wrong cache would be
    // wrong: every hash in the file was re-derived from the leaves above.
    if let Some(c) = &stored_check {
        let n = index_count.min(next_leaf);
        if let Some(e) = &c.io_error {
            probs.push(general(format!("log/hashes unreadable: {e}")));
        } else if c.bad > 0 {
            let (leaf, level) = c.first_bad.unwrap_or((0, 0));
            probs.push(Problem {
                file: Some(layout::HASHES.into()),
                ..general(format!(
                    "{} stored tree hashes disagree with the records' leaf hashes (the first at \
                     leaf {leaf}, level {level}): proofs served from them would be wrong; run \
                     `samizdat reindex` to rebuild them",
                    c.bad
                ))
            });
        } else if c.file_leaves() < n {
            probs.push(general(format!(
                "log/hashes holds {} leaves, the index {index_count}: run `samizdat reindex`",
                c.file_leaves()
            )));
        }
    }
    // Stored RFC 3161 replies, each against its checkpoint's bytes.
    for p in crate::evidence::check_stored_timestamps(root)?.1 {
        probs.push(Problem {
            file: Some(p.file),
            ..general(p.what)
        });
    }
    if probs.more > 0 {
        probs
            .list
            .push(general(format!("… and {} more problems", probs.more)));
    }
    report.problems = probs.list;
    Ok(report)
}
