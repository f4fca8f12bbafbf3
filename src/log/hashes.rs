//! The file of stored tree hashes (`archive/log/hashes`): a rebuildable cache.
//!
//! One append-only file of raw 32-byte SHA-256 hashes in the stored-hash layout of Go's
//! `golang.org/x/mod/sumdb/tlog` (see [`crate::log::merkle::stored_hash_index`]): after
//! leaf `n` come its RFC 6962 leaf hash and the hashes of every complete subtree it closes.
//! The leaf count is derived from the hash count, so the file needs no header.
//!
//! Everything here can be rebuilt from the WARC files, so crash handling is simple:
//! on open, a torn trailing entry (fewer than 32 bytes) and any hashes of a half-written
//! record are cut off. Writes are buffered in memory (reads see the buffer too) and reach
//! the file on [`HashStore::sync`], when the buffer grows large, or on drop.
//!
//! Tiles follow C2SP tlog-tiles v0.1.0 (`C2SP/C2SP@07f7c94`): hash `i` of tile `n` at
//! level `l` is `MTH(D[(n·256+i)·256^l : (n·256+i+1)·256^l])`, i.e. stored hash
//! `(level 8·l, index n·256+i)`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::log::merkle::{
    self, Hash, HashReader, node_hash, stored_hash_count, stored_hash_index,
    stored_hashes_for_record, verify_consistency, verify_inclusion,
};
use crate::log::note::Checkpoint;

const HASH_LEN: u64 = 32;
/// Flush the write buffer to the file once it holds this many hashes (512 KiB).
const FLUSH_AT: usize = 1 << 14;
/// Hashes per full tile (tlog-tiles height 8).
pub const TILE_WIDTH: u16 = 256;

/// Append-only store of tree hashes. See the module docs.
pub struct HashStore {
    path: PathBuf,
    file: File,
    /// Hashes already written to the file.
    flushed: u64,
    /// Hashes appended but not yet written; they follow the `flushed` ones.
    pending: Vec<Hash>,
    /// Leaves in the tree.
    leaves: u64,
}

impl std::fmt::Debug for HashStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashStore")
            .field("path", &self.path)
            .field("leaves", &self.leaves)
            .field("flushed", &self.flushed)
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// Largest leaf count whose stored-hash count is at most `count`.
fn leaves_for_count(count: u64) -> u64 {
    // stored_hash_count(n) >= n, so the answer is in [0, count].
    let (mut lo, mut hi) = (0u64, count);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if stored_hash_count(mid) <= count {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

impl HashStore {
    /// Open (creating if missing) the hashes file at `path`. A torn trailing entry and
    /// the hashes of a partly written last record are cut off.
    pub fn open(path: &Path) -> Result<HashStore> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .at(path)?;
        let len = file.metadata().at(path)?.len();
        let count = len / HASH_LEN;
        let leaves = leaves_for_count(count);
        let keep = stored_hash_count(leaves);
        if keep * HASH_LEN != len {
            file.set_len(keep * HASH_LEN).at(path)?;
            file.sync_all().at(path)?;
        }
        Ok(HashStore {
            path: path.to_path_buf(),
            file,
            flushed: keep,
            pending: Vec::new(),
            leaves,
        })
    }

    /// Open an existing hashes file without changing it (for readers such as `verify`
    /// and `log proof`). A torn trailing entry is ignored rather than cut.
    pub fn open_read_only(path: &Path) -> Result<HashStore> {
        let file = OpenOptions::new().read(true).open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        let leaves = leaves_for_count(len / HASH_LEN);
        Ok(HashStore {
            path: path.to_path_buf(),
            file,
            flushed: stored_hash_count(leaves),
            pending: Vec::new(),
            leaves,
        })
    }

    /// Path of the hashes file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of leaves in the tree.
    pub fn tree_size(&self) -> u64 {
        self.leaves
    }

    /// Append leaf hashes (in order) as leaves `tree_size()..`.
    pub fn append(&mut self, leaves: &[Hash]) -> Result<()> {
        for leaf in leaves {
            let new = stored_hashes_for_record(self.leaves, *leaf, &*self)?;
            self.pending.extend_from_slice(&new);
            self.leaves += 1;
            if self.pending.len() >= FLUSH_AT {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Write the buffer to the file (no fsync).
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(self.pending.len() * HASH_LEN as usize);
        for h in &self.pending {
            buf.extend_from_slice(&h.0);
        }
        self.file
            .write_all_at(&buf, self.flushed * HASH_LEN)
            .at(&self.path)?;
        self.flushed += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    /// Write buffered hashes and fsync the file.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        self.file.sync_data().at(&self.path)
    }

    /// Drop every leaf from index `leaves` on (and the hashes they produced).
    pub fn truncate(&mut self, leaves: u64) -> Result<()> {
        if leaves > self.leaves {
            return Err(Error::Log(format!(
                "cannot truncate hashes to {leaves} leaves: the store has only {}",
                self.leaves
            )));
        }
        let keep = stored_hash_count(leaves);
        if keep >= self.flushed {
            self.pending.truncate((keep - self.flushed) as usize);
        } else {
            self.pending.clear();
            self.file.set_len(keep * HASH_LEN).at(&self.path)?;
            self.flushed = keep;
        }
        self.leaves = leaves;
        Ok(())
    }

    fn read_one(&self, index: u64) -> Result<Hash> {
        if index < self.flushed {
            let mut b = [0u8; 32];
            self.file
                .read_exact_at(&mut b, index * HASH_LEN)
                .at(&self.path)?;
            Ok(Hash(b))
        } else {
            self.pending
                .get((index - self.flushed) as usize)
                .copied()
                .ok_or_else(|| {
                    Error::Log(format!(
                        "{}: stored hash {index} does not exist (tree size {})",
                        self.path.display(),
                        self.leaves
                    ))
                })
        }
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.leaves {
            return Err(Error::Log(format!(
                "tree size {size} is beyond the {} leaves in {}",
                self.leaves,
                self.path.display()
            )));
        }
        Ok(())
    }

    /// RFC 6962 root of the first `size` leaves (`size <= tree_size()`).
    pub fn root(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        merkle::tree_hash(size, self)
    }

    /// The leaf hash at `index`.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash> {
        if index >= self.leaves {
            return Err(Error::Log(format!(
                "leaf {index} is beyond the {} leaves in {}",
                self.leaves,
                self.path.display()
            )));
        }
        self.read_one(stored_hash_index(0, index))
    }

    /// Inclusion proof for leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        merkle::prove_inclusion(size, index, self)
    }

    /// Consistency proof from tree size `old` to tree size `new` (`1 <= old <= new`).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        merkle::prove_consistency(old, new, self)
    }

    /// The bytes of tlog-tiles tile `n` at `level`, `width` hashes (1..=256) wide.
    /// Every hash in it must cover leaves already in the store.
    pub fn tile(&self, level: u8, n: u64, width: u16) -> Result<Vec<u8>> {
        if !(1..=TILE_WIDTH).contains(&width) {
            return Err(Error::Log(format!("tile width {width} is not in 1..=256")));
        }
        if level >= 8 {
            return Err(Error::Log(format!("tile level {level} is too large")));
        }
        let first = n.checked_mul(TILE_WIDTH as u64);
        let end_leaf = first
            .and_then(|f| f.checked_add(width as u64))
            .and_then(|e| e.checked_mul(1u64 << (8 * level as u32)));
        match end_leaf {
            Some(end) if end <= self.leaves => {}
            _ => {
                return Err(Error::Log(format!(
                    "tile {level}/{n} of width {width} is beyond tree size {}",
                    self.leaves
                )));
            }
        }
        let first = first.unwrap_or(0);
        let idx: Vec<u64> = (0..width as u64)
            .map(|i| stored_hash_index(8 * level, first + i))
            .collect();
        let hashes = self.read_hashes(&idx)?;
        let mut out = Vec::with_capacity(hashes.len() * HASH_LEN as usize);
        for h in hashes {
            out.extend_from_slice(&h.0);
        }
        Ok(out)
    }
}

/// An inclusion proof read from the store and checked against a signed checkpoint.
#[derive(Debug, Clone)]
pub struct CheckedInclusion {
    pub leaf_hash: Hash,
    /// The root of the tree the proof is for (checked against the signed root).
    pub root: Hash,
    pub proof: Vec<Hash>,
}

/// The store is a cache: every proof or tile served from it is first checked against the
/// latest signed checkpoint, so a damaged cache is refused, never served.
impl HashStore {
    fn damaged(&self, signed: &Checkpoint, what: impl std::fmt::Display) -> Error {
        Error::Damage(format!(
            "{} (the stored tree hashes) disagree with the signed checkpoint of size {}: {what}; \
             nothing was served: run `samizdat verify`, then `samizdat reindex` to rebuild them",
            self.path.display(),
            signed.size
        ))
    }

    fn check_signed(&self, size: u64, signed: &Checkpoint) -> Result<()> {
        if size > signed.size {
            return Err(Error::Usage(format!(
                "tree size {size} is beyond the latest signed checkpoint ({} leaves)",
                signed.size
            )));
        }
        self.check_size(signed.size)
    }

    /// The root of the first `size` leaves, checked against `signed` (directly, or through
    /// a consistency proof when `size` is smaller).
    pub fn checked_root(&self, size: u64, signed: &Checkpoint) -> Result<Hash> {
        self.check_signed(size, signed)?;
        let root = self.root(size)?;
        if size == signed.size {
            if root != signed.root {
                return Err(self.damaged(signed, "the root differs"));
            }
        } else if size > 0 {
            let p = self.consistency_proof(size, signed.size)?;
            verify_consistency(size, signed.size, &p, &root, &signed.root)
                .map_err(|e| self.damaged(signed, format!("root of size {size}: {e}")))?;
        }
        Ok(root)
    }

    /// Inclusion proof for leaf `index` in the tree of `size` leaves (`size <=
    /// signed.size`), checked before it is returned.
    pub fn checked_inclusion(
        &self,
        index: u64,
        size: u64,
        signed: &Checkpoint,
    ) -> Result<CheckedInclusion> {
        if index >= size {
            return Err(Error::Usage(format!(
                "leaf {index} is not in a tree of size {size}"
            )));
        }
        let root = self.checked_root(size, signed)?;
        let leaf_hash = self.leaf_hash(index)?;
        let proof = self.inclusion_proof(index, size)?;
        verify_inclusion(&leaf_hash, index, size, &proof, &root)
            .map_err(|e| self.damaged(signed, format!("proof for leaf {index}: {e}")))?;
        Ok(CheckedInclusion {
            leaf_hash,
            root,
            proof,
        })
    }

    /// Consistency proof from `old` to `new` (`new <= signed.size`) with both roots,
    /// checked before they are returned.
    pub fn checked_consistency(
        &self,
        old: u64,
        new: u64,
        signed: &Checkpoint,
    ) -> Result<(Hash, Hash, Vec<Hash>)> {
        let new_root = self.checked_root(new, signed)?;
        let old_root = self.checked_root(old, signed)?;
        let p = self.consistency_proof(old, new)?;
        verify_consistency(old, new, &p, &old_root, &new_root)
            .map_err(|e| self.damaged(signed, format!("proof {old} -> {new}: {e}")))?;
        Ok((old_root, new_root, p))
    }

    /// [`HashStore::tile`], with every hash in it checked against `signed`: the tile is
    /// cut into at most 8 aligned perfect subtrees, and each subtree's root is proven to
    /// be a node of the signed tree (an inclusion proof from that node's height up).
    pub fn checked_tile(
        &self,
        level: u8,
        n: u64,
        width: u16,
        signed: &Checkpoint,
    ) -> Result<Vec<u8>> {
        self.check_size(signed.size)?;
        let bytes = self.tile(level, n, width)?;
        let base = 8 * level as u32;
        let first = n * TILE_WIDTH as u64; // checked by tile()
        let end_leaf = (first + width as u64)
            .checked_shl(base)
            .filter(|e| e >> base == first + width as u64);
        if end_leaf.is_none_or(|e| e > signed.size) {
            return Err(Error::NotFound(format!(
                "tile {level}/{n} of width {width} is beyond the signed tree of size {}",
                signed.size
            )));
        }
        let hashes: Vec<Hash> = bytes
            .chunks_exact(HASH_LEN as usize)
            .map(|c| Hash(c.try_into().expect("32-byte chunks")))
            .collect();
        let mut offset = 0usize;
        while offset < hashes.len() {
            let rest = hashes.len() - offset;
            let j = usize::BITS - 1 - rest.leading_zeros(); // largest 2^j <= rest
            let chunk = &hashes[offset..offset + (1usize << j)];
            let mut level_hashes = chunk.to_vec();
            while level_hashes.len() > 1 {
                level_hashes = level_hashes
                    .chunks_exact(2)
                    .map(|p| node_hash(&p[0], &p[1]))
                    .collect();
            }
            let node = level_hashes[0];
            let height = base + j;
            let pos = first + offset as u64; // index at the tile's level
            let leaf = pos << base;
            let proof = self.inclusion_proof(leaf, signed.size)?;
            let above = proof.get(height as usize..).unwrap_or(&[]);
            let size_at = ((signed.size - 1) >> height) + 1;
            verify_inclusion(&node, pos >> j, size_at, above, &signed.root).map_err(|e| {
                self.damaged(
                    signed,
                    format!("tile {level}/{n}, hashes from {offset}: {e}"),
                )
            })?;
            offset += 1 << j;
        }
        Ok(bytes)
    }
}

/// Checks a stored-hashes file, entry by entry, against the leaf hashes of the records
/// (pushed in leaf order): every hash the file holds is recomputed from the leaves, in
/// one pass with O(log n) memory.
pub struct StoredHashCheck {
    file: std::io::BufReader<File>,
    /// Hashes in the file.
    entries: u64,
    read: u64,
    /// Left siblings by level (the compact range of the leaves pushed so far).
    left: Vec<Option<Hash>>,
    leaves: u64,
    /// Stored hashes that differ from the recomputed ones.
    pub bad: u64,
    /// The first of them: (leaf, level).
    pub first_bad: Option<(u64, u8)>,
    pub io_error: Option<String>,
}

impl StoredHashCheck {
    pub fn open(path: &Path) -> Result<StoredHashCheck> {
        let file = File::open(path).at(path)?;
        let len = file.metadata().at(path)?.len();
        Ok(StoredHashCheck {
            file: std::io::BufReader::with_capacity(256 * 1024, file),
            entries: len / HASH_LEN,
            read: 0,
            left: Vec::new(),
            leaves: 0,
            bad: 0,
            first_bad: None,
            io_error: None,
        })
    }

    /// Leaves whose every stored hash is in the file.
    pub fn file_leaves(&self) -> u64 {
        leaves_for_count(self.entries)
    }

    /// The next leaf's hash, in leaf order.
    pub fn push(&mut self, leaf: Hash) {
        use std::io::Read;
        let n = self.leaves;
        self.leaves += 1;
        let mut h = leaf;
        let mut out = vec![(0u8, h)];
        let closes = (n + 1).trailing_zeros() as usize;
        if self.left.len() <= closes {
            self.left.resize(closes + 1, None);
        }
        for level in 0..closes {
            let l = self.left[level].take().unwrap_or(Hash([0; 32]));
            h = node_hash(&l, &h);
            out.push((level as u8 + 1, h));
        }
        self.left[closes] = Some(h);
        for (level, want) in out {
            if self.read >= self.entries || self.io_error.is_some() {
                return;
            }
            let mut b = [0u8; 32];
            if let Err(e) = self.file.read_exact(&mut b) {
                self.io_error = Some(e.to_string());
                return;
            }
            self.read += 1;
            if b != want.0 {
                self.bad += 1;
                self.first_bad.get_or_insert((n, level));
            }
        }
    }
}

impl HashReader for HashStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>> {
        indexes.iter().map(|&i| self.read_one(i)).collect()
    }
}

impl Drop for HashStore {
    fn drop(&mut self) {
        // Best effort: a lost buffer is rebuilt from the WARC files anyway.
        let _ = self.flush();
    }
}

/// tlog-tiles path of tile `n` at `level`: `tile/<L>/<N>` with `N` split into 3-digit
/// groups, all but the last prefixed `x` (`1234067` → `x001/x234/067`), plus `.p/<W>`
/// for a partial tile. `width` `None` or `Some(256)` means a full tile.
pub fn tile_path(level: u8, n: u64, width: Option<u16>) -> String {
    let mut groups = Vec::new();
    let mut rest = n;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut path = format!("tile/{level}/");
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            path.push_str(&format!("x{g:03}/"));
        } else {
            path.push_str(&format!("{g:03}"));
        }
    }
    if let Some(w) = width
        && w < TILE_WIDTH
    {
        path.push_str(&format!(".p/{w}"));
    }
    path
}

/// The tiles of a tree of `size` leaves, per level from 0 up:
/// `(level, full tiles, width of the trailing partial tile or 0 if none)`.
pub fn tile_counts(size: u64) -> Vec<(u8, u64, u16)> {
    let mut out = Vec::new();
    let mut hashes = size; // hashes at this level = floor(size / 256^level)
    let mut level = 0u8;
    while hashes > 0 {
        out.push((level, hashes / 256, (hashes % 256) as u16));
        hashes /= 256;
        level += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::{CompactRange, leaf_hash, verify_consistency, verify_inclusion};

    fn leaf(i: u64) -> Hash {
        leaf_hash(&i.to_be_bytes())
    }

    #[test]
    fn leaves_for_count_inverts_count() {
        for n in 0..2000 {
            assert_eq!(leaves_for_count(stored_hash_count(n)), n);
        }
        // A half-written record rounds down.
        assert_eq!(leaves_for_count(stored_hash_count(4) - 1), 3);
    }

    #[test]
    fn append_reopen_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hashes");
        let mut cr = CompactRange::new();
        let mut roots = vec![cr.root()];
        {
            let mut s = HashStore::open(&path).unwrap();
            assert_eq!(s.tree_size(), 0);
            for i in 0..40_000u64 {
                s.append(&[leaf(i)]).unwrap();
                cr.push(leaf(i));
                if i % 997 == 0 {
                    assert_eq!(s.root(i + 1).unwrap(), cr.root());
                }
                roots.push(cr.root());
            }
            s.sync().unwrap();
        }
        let mut s = HashStore::open(&path).unwrap();
        assert_eq!(s.tree_size(), 40_000);
        assert_eq!(s.root(40_000).unwrap(), roots[40_000]);
        assert_eq!(s.root(12_345).unwrap(), roots[12_345]);
        let p = s.inclusion_proof(12_000, 40_000).unwrap();
        verify_inclusion(&leaf(12_000), 12_000, 40_000, &p, &roots[40_000]).unwrap();
        let p = s.consistency_proof(17, 40_000).unwrap();
        verify_consistency(17, 40_000, &p, &roots[17], &roots[40_000]).unwrap();
        assert!(s.root(40_001).is_err());
        assert!(s.leaf_hash(40_000).is_err());
        assert_eq!(s.leaf_hash(39_999).unwrap(), leaf(39_999));

        // Truncate into the flushed part, then re-append different leaves.
        s.truncate(1000).unwrap();
        assert_eq!(s.tree_size(), 1000);
        assert_eq!(s.root(1000).unwrap(), roots[1000]);
        s.append(&[leaf(77_777)]).unwrap();
        assert_ne!(s.root(1001).unwrap(), roots[1001]);
        s.truncate(1000).unwrap();
        s.append(&[leaf(1000)]).unwrap();
        assert_eq!(s.root(1001).unwrap(), roots[1001]);
        assert!(s.truncate(5000).is_err());
    }

    #[test]
    fn checked_proofs_and_tiles_refuse_a_flipped_interior_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hashes");
        let mut s = HashStore::open(&path).unwrap();
        let leaves: Vec<Hash> = (0..600).map(leaf).collect();
        s.append(&leaves).unwrap();
        s.sync().unwrap();
        let cp = Checkpoint {
            origin: "x".into(),
            size: 600,
            root: s.root(600).unwrap(),
            extensions: vec![],
        };
        for i in [0, 1, 255, 256, 599] {
            s.checked_inclusion(i, 600, &cp).unwrap();
            if i < 599 {
                s.checked_inclusion(i, 599, &cp).unwrap();
            }
        }
        s.checked_tile(0, 0, 256, &cp).unwrap();
        s.checked_tile(0, 2, 88, &cp).unwrap();
        s.checked_tile(1, 0, 2, &cp).unwrap();
        let mut check = StoredHashCheck::open(&path).unwrap();
        leaves.iter().for_each(|l| check.push(*l));
        assert_eq!(check.bad, 0);
        drop(s);
        // Leaf 1's hash is not on the path of the root: the root still matches.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[(stored_hash_index(0, 1) * HASH_LEN) as usize] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let s = HashStore::open_read_only(&path).unwrap();
        assert_eq!(s.root(600).unwrap(), cp.root);
        let e = s.checked_inclusion(0, 600, &cp).unwrap_err();
        assert!(matches!(e, Error::Damage(_)), "{e}");
        assert!(s.checked_inclusion(1, 600, &cp).is_err());
        assert!(s.checked_inclusion(300, 600, &cp).is_ok());
        assert!(s.checked_tile(0, 0, 256, &cp).is_err());
        assert!(s.checked_tile(0, 0, 5, &cp).is_err());
        assert!(s.checked_tile(0, 1, 256, &cp).is_ok());
        let mut check = StoredHashCheck::open(&path).unwrap();
        leaves.iter().for_each(|l| check.push(*l));
        assert_eq!((check.bad, check.first_bad), (1, Some((1, 0))));
    }

    #[test]
    fn tile_paths() {
        assert_eq!(tile_path(0, 1234067, None), "tile/0/x001/x234/067");
        assert_eq!(tile_path(0, 273, Some(112)), "tile/0/273.p/112");
        assert_eq!(tile_path(1, 1, Some(17)), "tile/1/001.p/17");
        assert_eq!(tile_path(2, 0, Some(256)), "tile/2/000");
    }
}
