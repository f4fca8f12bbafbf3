//! The archive folder and its one write path.
//!
//! Appends go through [`Archive::append`]: under an archive-wide lock held for one batch
//! (never for a process's life) it cuts crash debris, writes the records to the active
//! WARC file, fsyncs, adds their leaves to the stored tree, indexes them, and only then
//! signs a checkpoint over them. Several processes (`capture`, `watch run`, `serve`) can
//! therefore share one archive: each batch sees what the others wrote.
//!
//! Crash safety rests on one order: WARC bytes durable → tree hashes durable → index
//! committed → checkpoint signed. Whatever lies after the index's last record is debris
//! of a batch that never finished (and was never reported done); the next writer moves it
//! to `quarantine/` before writing. Anything else missing is damage for `verify` to name.

use super::files::{LocalWarcDir, WarcFiles, serial as warc_serial, sync_dir};
use super::index::{Index, RecordRow};
use super::warc::{self, Record, gzip_member, kind, mime};
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::log::entry::leaf_of;
use crate::log::hashes::HashStore;
use crate::log::merkle::Hash;
use crate::log::note::{Checkpoint, NoteSigner, NoteVerifier};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// File names under the archive root.
pub mod layout {
    pub const WARC_DIR: &str = "warc";
    pub const INDEX: &str = "index.sqlite";
    pub const LOG_DIR: &str = "log";
    pub const HASHES: &str = "log/hashes";
    pub const CHECKPOINT: &str = "log/checkpoint";
    pub const CHECKPOINTS_DIR: &str = "log/checkpoints";
    pub const KEYS_DIR: &str = "keys";
    pub const SIGNING_KEY: &str = "keys/log.key";
    pub const VERIFIER_KEY: &str = "keys/log.vkey";
    /// The log's C2SP tlog-policy (its key, its witnesses, the quorum), kept in step with
    /// the config by `log witness`, `watch run` and every bundle export.
    pub const POLICY: &str = "keys/policy";
    pub const QUARANTINE: &str = "quarantine";
    pub const LOCK: &str = "lock";
    pub const CONFIG: &str = "samizdat.toml";
}

pub use super::files::file_name as warc_file_name;

/// The WARC storage of the archive at `root`.
pub fn warc_store(root: &Path) -> LocalWarcDir {
    LocalWarcDir::new(root.join(layout::WARC_DIR))
}

/// The WARC files of an archive in write order.
pub fn warc_files(root: &Path) -> Result<Vec<String>> {
    warc_store(root).list()
}

/// The stored checkpoint files (`log/checkpoints/<size>`), oldest first.
pub fn checkpoint_files(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join(layout::CHECKPOINTS_DIR);
    let mut out = vec![];
    match fs::read_dir(&dir) {
        Ok(rd) => {
            for e in rd {
                let e = e.at(&dir)?;
                // Only `<size:020>`: timestamp responses (`<size>.tsr`) live beside them.
                if e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                {
                    out.push(e.path());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(dir, e)),
    }
    out.sort();
    Ok(out)
}

/// Whether `root` holds an archive (made by `init` or a first capture).
pub fn exists(root: &Path) -> bool {
    root.join(layout::SIGNING_KEY).exists() || root.join(layout::VERIFIER_KEY).exists()
}

/// Reads the archive's verifier key.
pub fn read_verifier(root: &Path) -> Result<NoteVerifier> {
    let p = root.join(layout::VERIFIER_KEY);
    let s = fs::read_to_string(&p).at(&p)?;
    NoteVerifier::from_vkey(s.trim()).map_err(|e| Error::Key {
        path: p,
        message: e.to_string(),
    })
}

/// An archive opened for writing.
pub struct Archive {
    root: PathBuf,
    config: Config,
    signer: NoteSigner,
    index: Index,
    hashes: HashStore,
    /// The WARC files (the only place their bytes are written).
    files: Box<dyn WarcFiles>,
    /// The active file's name and warcinfo record id, from the last append: finding it
    /// in the index means a scan, and watch appends small batches all day.
    warcinfo: Option<(String, String)>,
    /// Which file `index` has open (device, inode): `reindex` swaps in a new file.
    index_file: Option<(u64, u64)>,
    /// What dates the warcinfo records (see [`Archive::with_clock`]).
    clock: crate::clock::Clock,
    /// The record id the next new file's warcinfo will have, chosen before that file is
    /// (so records can be encoded for it before they reach the writer).
    next_warcinfo: String,
    /// The latest checkpoint as this process last read (and verified) or wrote it, with
    /// the stamp of the file it was in: every batch asks for it twice, and reading and
    /// verifying it from disk was a tenth of a small page's capture (bench a, callgrind).
    /// A file with another stamp (another process signed since) is read again.
    checkpoint_seen: std::sync::Mutex<Option<(FileStamp, Checkpoint)>>,
}

/// What tells one version of a file from the next: device, inode, length and change
/// time (a checkpoint is replaced by rename, so a new one is a new inode).
type FileStamp = (u64, u64, u64, i64, i64);

fn file_stamp(p: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.len(), m.ctime(), m.ctime_nsec()))
}

fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// What one append did.
#[derive(Debug, Clone)]
pub struct Appended {
    pub rows: Vec<RecordRow>,
    /// The checkpoint signed over the batch.
    pub checkpoint: Checkpoint,
}

/// A record ready for the WARC file: its gzip member (WARC Annex D) and its leaf hash
/// (RFC 6962 over the uncompressed record's entry, [`leaf_of`]), made where the record was
/// made (a capture task) so that the single writer only appends bytes, fsyncs and
/// indexes. Encoded for one file: the record carries `WARC-Warcinfo-ID` of that file's
/// warcinfo, and the writer encodes it again if it lands in another.
#[derive(Debug)]
pub struct Encoded {
    record: Record,
    member: Option<Member>,
}

/// A gzip member and the leaf hash of what it inflates to.
type GzAndLeaf = (Vec<u8>, [u8; 32]);

#[derive(Debug)]
struct Member {
    warcinfo_id: String,
    level: u32,
    gz: Vec<u8>,
    leaf: [u8; 32],
}

impl Encoded {
    /// Encodes `record` for the file whose warcinfo is `warcinfo_id`, at gzip `level`. A
    /// record whose body was spooled to disk is not: the writer streams it from there.
    pub fn new(mut record: Record, warcinfo_id: &str, level: u32) -> Encoded {
        record.set_field("WARC-Warcinfo-ID", warcinfo_id);
        // A record too large to be its own tlog-tiles entry is logged by its entry/1.
        if crate::log::entry::needs_entry(record.written_len()) {
            record.set_field(crate::log::entry::FIELD, crate::log::entry::FIELD_VALUE);
        }
        let member = record.in_memory().then(|| {
            let bytes = record.to_bytes();
            Member {
                warcinfo_id: warcinfo_id.to_string(),
                level,
                gz: gzip_member(&bytes, level),
                leaf: leaf_of(&bytes).0,
            }
        });
        Encoded { record, member }
    }

    /// A record left for the writer to encode.
    pub fn raw(record: Record) -> Encoded {
        Encoded {
            record,
            member: None,
        }
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The gzip member and the leaf hash, when encoded.
    pub fn member(&self) -> Option<(&[u8], [u8; 32])> {
        self.member.as_ref().map(|m| (&m.gz[..], m.leaf))
    }

    /// About how many bytes this record adds to a batch.
    pub fn queued_len(&self) -> usize {
        match &self.member {
            Some(m) => m.gz.len(),
            None => usize::try_from(self.record.block_len()).unwrap_or(usize::MAX),
        }
    }

    /// The record as it goes into the file whose warcinfo is `warcinfo_id`, with its gzip
    /// member and leaf hash, encoded again here if it was encoded for another file or
    /// level; no member for a body on disk (to be streamed).
    fn for_file(self, warcinfo_id: &str, level: u32) -> (Record, Option<GzAndLeaf>) {
        match self.member {
            Some(m) if m.warcinfo_id == warcinfo_id && m.level == level => {
                (self.record, Some((m.gz, m.leaf)))
            }
            _ => {
                let again = Encoded::new(self.record, warcinfo_id, level);
                let member = again.member.map(|m| (m.gz, m.leaf));
                (again.record, member)
            }
        }
    }
}

impl Archive {
    /// This archive dates its warcinfo records by `clock` (the system clock unless told).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Archive {
        self.clock = clock;
        self
    }

    /// Opens the archive at `root` for writing, creating it (folders, signing key, index)
    /// if it does not exist yet. Idempotent.
    pub fn open(root: &Path, config: Config) -> Result<Archive> {
        for d in [
            "",
            layout::WARC_DIR,
            layout::LOG_DIR,
            layout::CHECKPOINTS_DIR,
            layout::KEYS_DIR,
            layout::QUARANTINE,
        ] {
            let p = root.join(d);
            fs::create_dir_all(&p).at(&p)?;
        }
        let signer = {
            let _lock = lock(root)?;
            load_or_create_key(root, &config)?
        };
        let index = Index::open(&root.join(layout::INDEX), true)?;
        let index_file = file_id(&root.join(layout::INDEX));
        let hashes = HashStore::open(&root.join(layout::HASHES))?;
        Ok(Archive {
            index_file,
            root: root.to_path_buf(),
            config,
            signer,
            index,
            hashes,
            files: Box::new(warc_store(root)),
            warcinfo: None,
            clock: crate::clock::Clock::System,
            next_warcinfo: warc::new_record_id(),
            checkpoint_seen: Default::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The log's verifier key (C2SP vkey).
    pub fn vkey(&self) -> String {
        self.signer.verifier().to_vkey()
    }

    /// The log's verifier (its name is the log's origin; its fingerprint is what people
    /// compare).
    pub fn log_verifier(&self) -> crate::log::note::NoteVerifier {
        self.signer.verifier()
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    pub fn hashes(&self) -> &HashStore {
        &self.hashes
    }

    /// Writes one batch of records, durably, and signs a checkpoint over it.
    /// Returns once the records are fsynced, indexed and covered by the checkpoint.
    pub fn append(&mut self, records: Vec<Record>) -> Result<Appended> {
        self.append_encoded(records.into_iter().map(Encoded::raw).collect())
    }

    /// The `WARC-Warcinfo-ID` the next records will most likely carry: the active file's
    /// warcinfo while that file has room, else the id already chosen for the next file's.
    /// A guess for [`Encoded::new`]: [`Archive::append_encoded`] checks it per record.
    pub fn expected_warcinfo(&mut self) -> String {
        let max = self.config.storage.warc_max_bytes;
        if self.warcinfo.is_none()
            && let Ok((name, size)) = self.active_file()
            && size > 0
            && let Ok(Some(id)) = self.index.warcinfo_of(&name)
        {
            self.warcinfo = Some((name, id));
        }
        match &self.warcinfo {
            Some((file, id)) if self.files.len(file).is_ok_and(|len| len < max) => id.clone(),
            _ => self.next_warcinfo.clone(),
        }
    }

    /// Like [`Archive::append`] for records encoded before they got here (in the capture
    /// tasks, [`Encoded::new`]): a record encoded for the file it lands in is appended as
    /// it is, its leaf hash taken as computed; any other (the file rotated in between,
    /// another process started a file, another gzip level) is encoded again here.
    pub fn append_encoded(&mut self, records: Vec<Encoded>) -> Result<Appended> {
        let _lock = lock(&self.root)?;
        self.recover()?;
        let mut n = self.index.leaf_count()?;
        let (mut name, mut size) = self.active_file()?;
        // Trusted only while the index still places that record in that file (another
        // process may have rotated the file, a recovery may have cut it away).
        let mut warcinfo_id = match self.warcinfo.take() {
            Some((file, id))
                if file == name && self.index.record_file(&id)?.as_deref() == Some(&name) =>
            {
                Some(id)
            }
            _ => self.index.warcinfo_of(&name)?,
        };
        let mut pending: Vec<u8> =
            Vec::with_capacity(records.iter().map(Encoded::queued_len).sum::<usize>() + 4096);
        let mut rows = Vec::with_capacity(records.len() + 1);
        let mut written = Vec::with_capacity(records.len() + 1);
        let level = self.config.storage.gzip_level;
        let max = self.config.storage.warc_max_bytes;

        for item in records {
            if warcinfo_id.is_none() || size + pending.len() as u64 >= max {
                if warcinfo_id.is_some() {
                    // Rotate: finish the full file, start the next one.
                    self.write_out(&name, size, &pending)?;
                    pending.clear();
                    name = warc_file_name(warc_serial(&name).unwrap_or(0) + 1);
                    size = 0;
                }
                // The id chosen in advance, and a new one for the file after.
                let id = std::mem::replace(&mut self.next_warcinfo, warc::new_record_id());
                let info = self.warcinfo(&name, &id);
                let bytes = info.to_bytes();
                let gz = gzip_member(&bytes, level);
                rows.push(RecordRow::new(
                    &info,
                    n,
                    &name,
                    size + pending.len() as u64,
                    gz.len() as u64,
                    leaf_of(&bytes).0,
                ));
                pending.extend_from_slice(&gz);
                written.push(info);
                warcinfo_id = Some(id);
                n += 1;
            }
            let (rec, member) = item.for_file(warcinfo_id.as_deref().unwrap_or(""), level);
            let Some((gz, leaf)) = member else {
                // A body on disk: written straight from its spool into the file, its leaf
                // hash computed on the way, never held in memory whole.
                if !pending.is_empty() {
                    self.write_out(&name, size, &pending)?;
                    size += pending.len() as u64;
                    pending.clear();
                }
                let mut leaf = crate::log::entry::LeafHasher::new();
                let len = self.files.append_with(&name, size, &mut |w| {
                    warc::write_gzip_member(&rec, level, w, &mut |b| leaf.update(b)).map(|_| ())
                })?;
                rows.push(RecordRow::new(&rec, n, &name, size, len, leaf.finalize().0));
                size += len;
                written.push(rec);
                n += 1;
                continue;
            };
            rows.push(RecordRow::new(
                &rec,
                n,
                &name,
                size + pending.len() as u64,
                gz.len() as u64,
                leaf,
            ));
            pending.extend_from_slice(&gz);
            written.push(rec);
            n += 1;
        }
        if !pending.is_empty() {
            self.write_out(&name, size, &pending)?;
        }

        let leaves: Vec<Hash> = rows.iter().map(|r| Hash(r.leaf_hash)).collect();
        // The tree hashes are a cache: no fsync. `recover()` checks them against the
        // index and the last checkpoint before every batch and rebuilds them if a crash
        // left them short or wrong.
        self.hashes.append(&leaves)?;
        self.hashes.flush()?;
        self.index.add(&rows, &written)?;
        self.warcinfo = warcinfo_id.map(|id| (name, id));
        let checkpoint = self.sign_checkpoint()?;
        Ok(Appended { rows, checkpoint })
    }

    /// Appends `bytes` at `offset` of WARC file `name` and makes them durable.
    fn write_out(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<()> {
        self.files.append(name, offset, bytes)
    }

    /// The file new records go to, and its current length.
    fn active_file(&self) -> Result<(String, u64)> {
        match self.files.list()?.pop() {
            None => Ok((warc_file_name(1), 0)),
            Some(name) => {
                let len = self.files.len(&name)?;
                Ok((name, len))
            }
        }
    }

    /// The warcinfo record of `file`, with record id `id`.
    fn warcinfo(&self, file: &str, id: &str) -> Record {
        let w = &self.config.warcinfo;
        let mut body = format!(
            "software: samizdat/{}\r\n\
             format: WARC File Format 1.1\r\n\
             conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n\
             log-origin: {}\r\n\
             http-header-block: rebuilt from the parsed response (reqwest gives no raw bytes): \
             header order and case may differ from the wire; HTTP/2 exchanges are written as \
             HTTP/1.1 with WARC-Protocol: h2; bodies are de-chunked and Transfer-Encoding is \
             removed; Content-Encoding is kept as sent\r\n\
             secrets: values of Cookie, Authorization, Proxy-Authorization and Set-Cookie \
             headers are stored as <redacted sha256:...>\r\n",
            env!("CARGO_PKG_VERSION"),
            self.signer.name(),
        );
        if self.config.http.insecure_tls {
            body.push_str("tls: certificate verification was OFF (insecure_tls)\r\n");
        }
        for (k, v) in [
            ("operator", &w.operator),
            ("hostname", &w.hostname),
            ("ip", &w.ip),
        ] {
            if let Some(v) = v {
                body.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        let mut info = Record::build(
            kind::WARCINFO,
            &self.clock.warc_date(),
            None,
            mime::WARC_FIELDS,
            vec![("WARC-Filename".into(), file.into())],
            body.into_bytes(),
        );
        info.set_field("WARC-Record-ID", id);
        info
    }

    /// Signs a checkpoint over the whole tree, if it grew, after making sure the new
    /// tree is consistent with the last checkpoint (a log must never sign two
    /// inconsistent checkpoints).
    fn sign_checkpoint(&mut self) -> Result<Checkpoint> {
        let size = self.hashes.tree_size();
        let root = self.hashes.root(size)?;
        let cp = Checkpoint {
            origin: self.signer.name().to_string(),
            size,
            root,
            extensions: vec![],
        };
        if let Some(prev) = self.latest_checkpoint()? {
            if prev.size > size || self.hashes.root(prev.size)? != prev.root {
                return Err(Error::Log(format!(
                    "the tree of {size} leaves is not consistent with the signed checkpoint of size {}: \
                     refusing to sign; run `samizdat verify`",
                    prev.size
                )));
            }
            if prev.size == size {
                return Ok(prev);
            }
        }
        let note = self.signer.sign(&cp.body())?;
        let dir = self.root.join(layout::CHECKPOINTS_DIR);
        // Checkpoints are written atomically but not fsynced: a checkpoint lost in a
        // power cut is derived again from the durable records by the next batch, and a
        // re-signed one is consistent with it by construction (same tree).
        replace_file(&dir.join(format!("{size:020}")), note.as_bytes())?;
        let latest = self.root.join(layout::CHECKPOINT);
        replace_file(&latest, note.as_bytes())?;
        // Written under the lock: the file holds what was just signed.
        *self.seen_lock() = file_stamp(&latest).map(|s| (s, cp.clone()));
        Ok(cp)
    }

    fn seen_lock(&self) -> std::sync::MutexGuard<'_, Option<(FileStamp, Checkpoint)>> {
        // A poisoned lock only means a reader panicked; the cache is a hint either way.
        self.checkpoint_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The newest signed checkpoint (verified with the archive's own key), read again
    /// only when its file changed since this process last read or wrote it.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let p = self.root.join(layout::CHECKPOINT);
        // The stamp is taken before the read: a file replaced in between is cached under
        // the older stamp, so the next call reads it again.
        let stamp = file_stamp(&p);
        if let (Some(s), Some((seen, cp))) = (stamp, self.seen_lock().as_ref())
            && s == *seen
        {
            return Ok(Some(cp.clone()));
        }
        let cp = latest_checkpoint(&self.root, &self.signer.verifier())?;
        *self.seen_lock() = stamp.zip(cp.clone());
        Ok(cp)
    }

    /// Cuts crash debris and brings the tree-hash cache in line with the index.
    /// Runs under the lock, before every batch.
    fn recover(&mut self) -> Result<()> {
        // Another process may have appended since our last batch: re-read the cache.
        self.hashes = HashStore::open(&self.root.join(layout::HASHES))?;
        // ... or rebuilt the index into a new file (`reindex`): follow it.
        let index_path = self.root.join(layout::INDEX);
        let now = file_id(&index_path);
        if now != self.index_file {
            self.index = Index::open(&index_path, true)?;
            self.index_file = file_id(&index_path);
            self.warcinfo = None;
        }
        let known = self.index.leaf_count()?;
        if let Some(cp) = self.latest_checkpoint()?
            && cp.size > known
        {
            return Err(Error::Archive {
                path: self.root.clone(),
                message: format!(
                    "the index knows {known} records but a signed checkpoint covers {}: \
                     run `samizdat reindex` (nothing was written)",
                    cp.size
                ),
            });
        }
        let files = self.files.list()?;
        let last = self.index.last_record()?;
        let (keep_file, keep_len) = match &last {
            Some(r) => (Some(r.file.clone()), r.offset + r.length),
            None => (None, 0),
        };
        for name in &files {
            let path = self.root.join(layout::WARC_DIR).join(name);
            let len = self.files.len(name)?;
            let cut_from = match &keep_file {
                Some(k) if name < k => continue,
                Some(k) if name == k => keep_len,
                _ => 0,
            };
            if len <= cut_from {
                if len < cut_from {
                    return Err(Error::Archive {
                        path,
                        message: format!(
                            "the index has records up to byte {cut_from} but the file ends at {len}: \
                             the archive is damaged; run `samizdat verify`"
                        ),
                    });
                }
                continue;
            }
            if keep_file.is_none() && known == 0 && len > 0 && !self.all_torn(name, len)? {
                return Err(Error::Archive {
                    path,
                    message: "the index is empty but this WARC file holds complete records: \
                              run `samizdat reindex` (nothing was written)"
                        .into(),
                });
            }
            self.quarantine(name, cut_from, len)?;
        }
        let mut stored = self.hashes.tree_size();
        if stored > known {
            self.hashes.truncate(known)?;
            stored = known;
        }
        // After a power cut the unsynced cache may hold garbage: check its root against
        // the last checkpoint, and rebuild it from the index's leaf hashes if it is wrong.
        if let Some(cp) = self.latest_checkpoint()?
            && cp.size <= stored
            && cp.size > 0
            && self.hashes.root(cp.size)? != cp.root
        {
            tracing::warn!(
                "log/hashes disagrees with the signed checkpoint: rebuilding it from the index"
            );
            self.hashes.truncate(0)?;
            stored = 0;
        }
        if stored < known {
            let mut from = stored;
            while from < known {
                let rows = self.index.records_range(from, (from + 65_536).min(known))?;
                if rows.first().map(|r| r.leaf) != Some(from) || rows.is_empty() {
                    return Err(Error::Archive {
                        path: self.root.join(layout::INDEX),
                        message: format!(
                            "leaf {from} is missing from the index: run `samizdat reindex`"
                        ),
                    });
                }
                from += rows.len() as u64;
                let leaves: Vec<Hash> = rows.iter().map(|r| Hash(r.leaf_hash)).collect();
                self.hashes.append(&leaves)?;
            }
            self.hashes.flush()?;
        }
        Ok(())
    }

    /// Moves bytes `[from, len)` of a WARC file into quarantine/ and cuts them off.
    /// The copy is made durable before the cut, so the bytes are never only in memory.
    fn quarantine(&self, name: &str, from: u64, len: u64) -> Result<()> {
        let qdir = self.root.join(layout::QUARANTINE);
        let qpath = qdir.join(format!(
            "{name}.{from}.{}.tail",
            jiff::Timestamp::now().as_second()
        ));
        let mut bytes = Vec::with_capacity((len - from) as usize);
        self.files
            .open(name, from)?
            .read_to_end(&mut bytes)
            .at(&qpath)?;
        write_atomic(&qpath, &bytes)?;
        self.files.cut(name, from)?;
        tracing::warn!(
            "moved {} bytes of crash debris from {name} (offset {from}) to {}",
            len - from,
            qpath.display()
        );
        Ok(())
    }

    /// True when nothing in the file decodes to a complete record (a file whose only
    /// content is a torn first member).
    fn all_torn(&self, name: &str, len: u64) -> Result<bool> {
        let mut r = warc::MemberReader::new(self.files.open(name, 0)?, 0, len);
        Ok(!matches!(r.next(), Some(Ok(_))))
    }
}

/// A byte range of a WARC file that holds no readable record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DamagedRange {
    pub file: String,
    pub offset: u64,
    pub end: u64,
    /// Leaves of the log the range held, kept as damaged leaves (their leaf hashes come
    /// from the old index or the checked stored tree hashes).
    pub leaves: Vec<u64>,
    pub message: String,
}

impl std::fmt::Display for DamagedRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} bytes {}..{}: {}",
            self.file, self.offset, self.end, self.message
        )?;
        match (self.leaves.first(), self.leaves.last()) {
            (Some(a), Some(b)) if a == b => write!(f, " (leaf {a} kept as a damaged leaf)"),
            (Some(a), Some(b)) => write!(f, " (leaves {a}..={b} kept as damaged leaves)"),
            _ => write!(
                f,
                " (crash debris after everything the log knows: the next capture moves it to quarantine/)"
            ),
        }
    }
}

/// What `reindex` did.
#[derive(Debug, Default, serde::Serialize)]
pub struct Reindexed {
    /// Leaves in the rebuilt index (damaged ones included).
    pub records: u64,
    pub damaged: Vec<DamagedRange>,
    /// Readable records whose derived rows (post, check, watch) could not be applied.
    pub unapplied: Vec<String>,
    /// Damaged leaves whose leaf hash nothing gave: the log cannot grow past them.
    pub unknown_leaf_hashes: Vec<u64>,
    /// Where a damaged old index or tree-hash file was moved (never deleted).
    pub moved: Vec<PathBuf>,
    /// Not damage: a torn tail after everything the log knows (crash debris).
    pub notes: Vec<String>,
}

impl Reindexed {
    pub fn damage_found(&self) -> bool {
        !self.damaged.is_empty() || !self.unapplied.is_empty() || !self.moved.is_empty()
    }
}

/// Where a leaf hash of a damaged leaf can come from.
struct OldKnowledge {
    index: Option<Index>,
    hashes: Option<HashStore>,
    checkpoint: Option<Checkpoint>,
    /// Leaves the old index or the latest checkpoint vouch for.
    known: u64,
}

impl OldKnowledge {
    fn rows_in(&self, file: &str, from: u64, to: u64) -> Vec<RecordRow> {
        match &self.index {
            Some(ix) => ix.records_in(file, from, to).unwrap_or_default(),
            None => vec![],
        }
    }

    /// The leaf hash of `leaf` from the stored tree hashes, only if its inclusion in the
    /// signed checkpoint verifies.
    fn stored_leaf_hash(&self, leaf: u64) -> Option<Hash> {
        let (h, cp) = (self.hashes.as_ref()?, self.checkpoint.as_ref()?);
        if leaf >= cp.size {
            return None;
        }
        h.checked_inclusion(leaf, cp.size, cp)
            .ok()
            .map(|c| c.leaf_hash)
    }
}

/// Rebuilds the index and the tree hashes from the WARC files alone, into new files that
/// replace the old ones only once complete (an interrupted reindex changes nothing).
///
/// An unreadable byte range is skipped to the next readable record and reported; the
/// leaves it held stay leaves (a row of type `damaged` each, with the leaf hash the old
/// index or the checked stored tree hashes give), so leaf numbers, the tree and the signed
/// checkpoints stay consistent and captures go on. A damaged old `index.sqlite` (or a
/// stored-hash file that differs from the rebuilt one) is moved to `quarantine/`.
pub fn reindex(root: &Path, mut progress: impl FnMut(u64)) -> Result<Reindexed> {
    let _lock = lock(root)?;
    let index_path = root.join(layout::INDEX);
    let hashes_path = root.join(layout::HASHES);
    let mut out = Reindexed::default();

    // What the old files know, for the leaves of damaged ranges.
    let mut old_index_damaged = None;
    let old_index = if index_path.exists() {
        match Index::open(&index_path, false).and_then(|i| i.check_readable().map(|_| i)) {
            Ok(i) => Some(i),
            Err(e) => {
                old_index_damaged = Some(e.to_string());
                None
            }
        }
    } else {
        None
    };
    let checkpoint = read_verifier(root)
        .ok()
        .and_then(|v| latest_checkpoint(root, &v).ok().flatten());
    let old = OldKnowledge {
        known: old_index
            .as_ref()
            .and_then(|i| i.leaf_count().ok())
            .unwrap_or(0)
            .max(checkpoint.as_ref().map_or(0, |c| c.size)),
        index: old_index,
        hashes: HashStore::open_read_only(&hashes_path).ok(),
        checkpoint,
    };

    // The new files, beside the old ones.
    let new_index_path = root.join(format!("{}.new", layout::INDEX));
    let new_hashes_path = root.join(format!("{}.new", layout::HASHES));
    for p in [
        new_index_path.clone(),
        root.join(format!("{}.new-wal", layout::INDEX)),
        root.join(format!("{}.new-shm", layout::INDEX)),
        root.join(format!("{}.new-journal", layout::INDEX)),
        new_hashes_path.clone(),
    ] {
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
    }
    let mut index = Index::open(&new_index_path, true)?;
    let mut hashes = HashStore::open(&new_hashes_path)?;

    let store = warc_store(root);
    let files = store.list()?;
    let mut n = 0u64;
    let mut rows: Vec<RecordRow> = vec![];
    let mut recs: Vec<Record> = vec![];
    for (fi, name) in files.iter().enumerate() {
        let last_file = fi + 1 == files.len();
        for item in warc::scan_file(&store, name)? {
            let item = item.map_err(|e| Error::Warc {
                file: name.clone(),
                offset: 0,
                message: format!("cannot read: {e}"),
            })?;
            match item {
                warc::Scanned::Member(m) => match warc::parse_record(&m.bytes) {
                    Ok(rec) => {
                        rows.push(RecordRow::new(
                            &rec,
                            n,
                            name,
                            m.offset,
                            m.length,
                            leaf_of(&m.bytes).0,
                        ));
                        recs.push(rec);
                        n += 1;
                    }
                    Err(msg) => {
                        // It inflates, so it is a leaf with a known hash, but not a record.
                        let id = old
                            .rows_in(name, m.offset, m.offset + 1)
                            .into_iter()
                            .next()
                            .map(|r| r.id);
                        rows.push(damaged_row(
                            id,
                            n,
                            name,
                            m.offset,
                            m.length,
                            leaf_of(&m.bytes).0,
                        ));
                        out.damaged.push(DamagedRange {
                            file: name.clone(),
                            offset: m.offset,
                            end: m.offset + m.length,
                            leaves: vec![n],
                            message: format!("not a valid WARC record: {msg}"),
                        });
                        n += 1;
                    }
                },
                warc::Scanned::Damaged {
                    offset,
                    end,
                    message,
                } => {
                    let known_rows = old.rows_in(name, offset, end);
                    let count = if !known_rows.is_empty() {
                        known_rows.len() as u64
                    } else if last_file && end == store.len(name)? {
                        // A tail: leaves only as far as the old index or a checkpoint
                        // vouch for; beyond that it is crash debris for quarantine/.
                        old.known.saturating_sub(n)
                    } else {
                        1
                    };
                    let mut leaves = vec![];
                    for i in 0..count {
                        let known = known_rows.get(i as usize);
                        let hash = old
                            .stored_leaf_hash(n)
                            .map(|h| h.0)
                            .or_else(|| known.map(|r| r.leaf_hash));
                        let hash = match hash {
                            Some(h) => h,
                            None => {
                                out.unknown_leaf_hashes.push(n);
                                [0u8; 32]
                            }
                        };
                        let (o, l) = known.map_or((offset, end - offset), |r| (r.offset, r.length));
                        rows.push(damaged_row(
                            known.map(|r| r.id.clone()),
                            n,
                            name,
                            o,
                            l,
                            hash,
                        ));
                        leaves.push(n);
                        n += 1;
                    }
                    let range = DamagedRange {
                        file: name.clone(),
                        offset,
                        end,
                        leaves,
                        message,
                    };
                    if range.leaves.is_empty() {
                        // After everything the log knows: crash debris, which the next
                        // writer moves to quarantine/.
                        out.notes.push(range.to_string());
                    } else {
                        out.damaged.push(range);
                    }
                }
            }
            if rows.len() >= 2000 {
                flush_reindex(&mut index, &mut hashes, &mut rows, &mut recs, &mut out)?;
                progress(n);
            }
        }
        flush_reindex(&mut index, &mut hashes, &mut rows, &mut recs, &mut out)?;
    }
    hashes.sync()?;
    drop(hashes);
    index.finish_for_swap()?;
    out.records = n;

    // Swap: the old files go aside (damaged ones to quarantine/), the new ones in.
    let stamp = jiff::Timestamp::now().as_second();
    let qdir = root.join(layout::QUARANTINE);
    fs::create_dir_all(&qdir).at(&qdir)?;
    drop(old);
    if let Some(why) = &old_index_damaged {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let from = root.join(format!("{}{suffix}", layout::INDEX));
            if from.exists() {
                let to = qdir.join(format!("{}.{stamp}.damaged{suffix}", layout::INDEX));
                fs::rename(&from, &to).at(&from)?;
                out.moved.push(to);
            }
        }
        tracing::warn!("index.sqlite was damaged ({why}): moved to quarantine/");
    } else {
        // A healthy old index: its WAL must not be replayed into the new file.
        for suffix in ["-wal", "-shm"] {
            let p = root.join(format!("{}{suffix}", layout::INDEX));
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(p, e)),
            }
        }
    }
    fs::rename(&new_index_path, &index_path).at(&index_path)?;
    if hashes_path.exists() && !is_prefix_of(&hashes_path, &new_hashes_path)? {
        let to = qdir.join(format!("hashes.{stamp}.replaced"));
        fs::rename(&hashes_path, &to).at(&hashes_path)?;
        out.moved.push(to);
    }
    fs::rename(&new_hashes_path, &hashes_path).at(&hashes_path)?;
    sync_dir(root)?;
    sync_dir(&root.join(layout::LOG_DIR))?;
    progress(n);
    Ok(out)
}

/// The index row of a damaged leaf: where its bytes are, and its leaf hash.
fn damaged_row(
    id: Option<String>,
    leaf: u64,
    file: &str,
    offset: u64,
    length: u64,
    leaf_hash: [u8; 32],
) -> RecordRow {
    RecordRow {
        leaf,
        id: id.unwrap_or_else(|| format!("<urn:samizdat:damaged:{file}:{offset}:{leaf}>")),
        file: file.to_string(),
        offset,
        length,
        warc_type: DAMAGED.to_string(),
        target: None,
        date: String::new(),
        content_type: None,
        block_digest: None,
        payload_digest: None,
        leaf_hash,
    }
}

/// The `records.type` of a leaf whose bytes are unreadable.
pub const DAMAGED: &str = "damaged";

/// Adds a batch; a record whose derived rows cannot be applied (or whose id another
/// record already has) is still indexed as a leaf, and reported.
fn flush_reindex(
    index: &mut Index,
    hashes: &mut HashStore,
    rows: &mut Vec<RecordRow>,
    recs: &mut Vec<Record>,
    out: &mut Reindexed,
) -> Result<()> {
    let leaves: Vec<Hash> = rows.iter().map(|r| Hash(r.leaf_hash)).collect();
    hashes.append(&leaves)?;
    if index.add(rows, recs).is_err() {
        // One at a time, to find the records at fault.
        let by_id: std::collections::HashMap<String, &Record> =
            recs.iter().map(|r| (r.id().to_string(), r)).collect();
        for row in rows.iter() {
            let rec = by_id.get(&row.id).filter(|_| row.warc_type != DAMAGED);
            let one: Vec<Record> = rec.map(|r| (*r).clone()).into_iter().collect();
            if index.add(std::slice::from_ref(row), &one).is_ok() {
                continue;
            }
            if index.add(std::slice::from_ref(row), &[]).is_ok() {
                out.unapplied
                    .push(format!("{} [leaf {}]", row.id, row.leaf));
                continue;
            }
            let mut r = damaged_row(
                None,
                row.leaf,
                &row.file,
                row.offset,
                row.length,
                row.leaf_hash,
            );
            r.id = format!(
                "<urn:samizdat:duplicate:{}:{}:{}>",
                row.file, row.offset, row.leaf
            );
            index.add(std::slice::from_ref(&r), &[])?;
            out.unapplied.push(format!(
                "{} [leaf {}]: its record id is already taken by an earlier record",
                row.id, row.leaf
            ));
        }
    }
    rows.clear();
    recs.clear();
    Ok(())
}

/// Whether file `a` is byte-for-byte a prefix of file `b`.
fn is_prefix_of(a: &Path, b: &Path) -> Result<bool> {
    use std::io::BufReader;
    let (fa, fb) = (File::open(a).at(a)?, File::open(b).at(b)?);
    if fa.metadata().at(a)?.len() > fb.metadata().at(b)?.len() {
        return Ok(false);
    }
    let (mut ra, mut rb) = (BufReader::new(fa), BufReader::new(fb));
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let k = ra.read(&mut ba).at(a)?;
        if k == 0 {
            return Ok(true);
        }
        rb.read_exact(&mut bb[..k]).at(b)?;
        if ba[..k] != bb[..k] {
            return Ok(false);
        }
    }
}

/// The newest stored checkpoint that verifies under `verifier`.
pub fn latest_checkpoint(root: &Path, verifier: &NoteVerifier) -> Result<Option<Checkpoint>> {
    let p = root.join(layout::CHECKPOINT);
    let text = match read_checkpoint_text(&p) {
        Ok(t) => t,
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    // A checkpoint of this archive that does not verify with its own key is damage.
    let note = crate::log::note::open_note(&text, std::slice::from_ref(verifier))
        .map_err(|e| Error::Damage(format!("{}: {e}: run `samizdat verify`", p.display())))?;
    Ok(Some(Checkpoint::parse(&note.text).map_err(|e| {
        Error::Damage(format!("{}: {e}: run `samizdat verify`", p.display()))
    })?))
}

/// A stored checkpoint's text, read with a bound (a note is at most 1 MiB); bytes that
/// are not UTF-8 are damage.
pub fn read_checkpoint_text(p: &Path) -> Result<String> {
    const MAX: u64 = 1 << 20;
    let mut bytes = Vec::new();
    File::open(p)
        .at(p)?
        .take(MAX + 1)
        .read_to_end(&mut bytes)
        .at(p)?;
    if bytes.len() as u64 > MAX {
        return Err(Error::Damage(format!(
            "{}: larger than a signed note can be (1 MiB)",
            p.display()
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::Damage(format!(
            "{}: not UTF-8 text: the checkpoint is damaged",
            p.display()
        ))
    })
}

/// The archive-wide append lock, released when dropped.
pub struct Lock(File);

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Takes the archive-wide lock, waiting for another writer's batch to finish.
pub fn lock(root: &Path) -> Result<Lock> {
    let p = root.join(layout::LOCK);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .at(&p)?;
    f.lock().at(&p)?;
    Ok(Lock(f))
}

fn load_or_create_key(root: &Path, config: &Config) -> Result<NoteSigner> {
    let kp = root.join(layout::SIGNING_KEY);
    let vp = root.join(layout::VERIFIER_KEY);
    let signer = match fs::read_to_string(&kp) {
        Ok(s) => NoteSigner::from_skey(s.trim()).map_err(|e| Error::Key {
            path: kp.clone(),
            message: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let origin = match &config.log.origin {
                Some(o) => o.clone(),
                None => {
                    let mut b = [0u8; 6];
                    getrandom::fill(&mut b)
                        .map_err(|e| Error::Log(format!("no randomness: {e}")))?;
                    format!("samizdat.local/{}", hex::encode(b))
                }
            };
            let s = NoteSigner::generate(&origin)?;
            write_private(&kp, s.to_skey().as_bytes())?;
            s
        }
        Err(e) => return Err(Error::io(kp, e)),
    };
    if let Some(o) = &config.log.origin
        && o != signer.name()
    {
        return Err(Error::Config {
            path: root.join(layout::CONFIG),
            message: format!(
                "log.origin is {o:?} but this archive's key is named {:?}: a log keeps its origin for life",
                signer.name()
            ),
        });
    }
    let vkey = signer.verifier().to_vkey();
    if fs::read_to_string(&vp)
        .map(|s| s.trim() != vkey)
        .unwrap_or(true)
    {
        write_atomic(&vp, format!("{vkey}\n").as_bytes())?;
    }
    Ok(signer)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .at(path)?;
    f.write_all(bytes).at(path)?;
    f.sync_all().at(path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Writes a file so that readers see the old or the new bytes, never a mix (no fsync:
/// for derived files that can be made again).
fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    fs::write(&tmp, bytes).at(&tmp)?;
    fs::rename(&tmp, path).at(path)
}

/// Writes a file so that readers see the old or the new bytes, never a mix, durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut f = File::create(&tmp).at(&tmp)?;
    f.write_all(bytes).at(&tmp)?;
    f.sync_all().at(&tmp)?;
    fs::rename(&tmp, path).at(path)?;
    sync_dir(dir)
}
