//! RFC 6962 / RFC 9162 Merkle tree maths. Pure functions, no I/O.
//!
//! - Hashing (RFC 6962 §2.1 = RFC 9162 §2.1.1): `MTH({}) = SHA-256("")`,
//!   leaf = `SHA-256(0x00 || input)`, node = `SHA-256(0x01 || left || right)`.
//! - Proof verification follows RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency),
//!   with the edge policy encoded by the transparency-dev/merkle test vectors:
//!   `size1 == 0` is always an error, `size1 == size2` needs an empty proof and equal roots,
//!   `size1 > size2` is an error, and a real size change with an empty proof is an error.
//! - Stored-hash layout, tree hashes and proof generation are a port of Go's
//!   `golang.org/x/mod/sumdb/tlog` (`tlog.go`: `StoredHashIndex`, `StoredHashCount`,
//!   `StoredHashesForRecordHash`, `TreeHash`, `ProveRecord`, `ProveTree`; BSD-3-Clause,
//!   The Go Authors). In that layout the hashes of a log are one dense sequence: after leaf
//!   `n` come its leaf hash and then the hashes of every complete subtree that leaf closes.
//!
//! Conventions for the plain `u64` arguments: an *index* is a 0-based leaf position;
//! a *size* is a number of leaves (a tree of size `s` holds leaves `0..s`); a *stored
//! index* is a position in the stored-hash sequence (see [`stored_hash_index`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Standard base64 with padding (RFC 4648 §4), as used in checkpoints and CT APIs.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Strict inverse of [`Hash::to_base64`]: exactly 32 bytes, canonical padding.
    pub fn from_base64(s: &str) -> Option<Hash> {
        let bytes = B64.decode(s).ok()?;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        // Reject non-canonical encodings (e.g. set trailing bits) by round-tripping.
        let h = Hash(arr);
        (h.to_base64() == s).then_some(h)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Hash> {
        let mut arr = [0u8; 32];
        hex::decode_to_slice(s, &mut arr).ok()?;
        Some(Hash(arr))
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || input)`.
pub fn leaf_hash(input: &[u8]) -> Hash {
    sha256(&[&[0x00], input])
}

/// RFC 6962 interior node hash: `SHA-256(0x01 || l || r)`.
pub fn node_hash(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[0x01], &l.0, &r.0])
}

/// Root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    sha256(&[])
}

// ---------------------------------------------------------------------------
// Proof verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
// ---------------------------------------------------------------------------

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("proof has too many hashes for this index and tree size")]
    ProofTooLong,
    #[error("proof has too few hashes for this index and tree size")]
    ProofTooShort,
    #[error("consistency proof from size 0 is meaningless (rejected by policy)")]
    EmptyOldTree,
    #[error("old tree size {size1} is larger than new tree size {size2}")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    #[error("sizes are equal, so the consistency proof must be empty, but it has {len} hashes")]
    NonEmptyProofForEqualSizes { len: usize },
    #[error("sizes are equal but the roots differ")]
    EqualSizesDifferentRoots,
    #[error("consistency proof is empty but the tree grew from {size1} to {size2}")]
    EmptyProof { size1: u64, size2: u64 },
    #[error("computed root {computed} does not match expected root {expected}")]
    RootMismatch { computed: Hash, expected: Hash },
    #[error("computed old root {computed} does not match old root {expected}")]
    OldRootMismatch { computed: Hash, expected: Hash },
}

/// Verify that `leaf` (a leaf *hash*) is at `index` in the tree of `size` leaves whose
/// root is `root`, following RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if r != *root {
        return Err(ProofError::RootMismatch {
            computed: r,
            expected: *root,
        });
    }
    Ok(())
}

/// Verify that the tree of `size2` leaves with root `root2` extends the tree of `size1`
/// leaves with root `root1`, following RFC 9162 §2.1.4.2 and the transparency-dev edge
/// policy (see the module docs).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), ProofError> {
    if size1 == 0 {
        return Err(ProofError::EmptyOldTree);
    }
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes { len: proof.len() });
        }
        if root1 != root2 {
            return Err(ProofError::EqualSizesDifferentRoots);
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(ProofError::EmptyProof { size1, size2 });
    }
    // Step 2: if size1 is a power of two, root1 is the first node of the path.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);

    let mut fn_ = size1 - 1;
    let mut sn = size2 - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if fr != *root1 {
        return Err(ProofError::OldRootMismatch {
            computed: fr,
            expected: *root1,
        });
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch {
            computed: sr,
            expected: *root2,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Compact range: streaming root computation
// ---------------------------------------------------------------------------

/// A streaming builder over leaf hashes pushed in order. Keeps one hash per set bit of
/// the size (the roots of the perfect subtrees that make up the tree), so memory is
/// O(log n) and [`CompactRange::root`] costs at most log2(n) node hashes.
#[derive(Clone, Debug, Default)]
pub struct CompactRange {
    size: u64,
    /// Roots of the perfect subtrees, left to right (largest first).
    /// `stack[i]` covers `1 << levels[i]` leaves.
    stack: Vec<(u8, Hash)>,
}

impl CompactRange {
    pub fn new() -> CompactRange {
        CompactRange::default()
    }

    /// Append the next leaf hash (leaf index = the current [`CompactRange::size`]).
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut level = 0u8;
        while let Some(&(l, left)) = self.stack.last() {
            if l != level {
                break;
            }
            self.stack.pop();
            h = node_hash(&left, &h);
            level += 1;
        }
        self.stack.push((level, h));
        self.size += 1;
    }

    /// Number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// RFC 6962 root of all leaves pushed so far ([`empty_root`] when none).
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(_, mut h)) = it.next() else {
            return empty_root();
        };
        for (_, left) in it {
            h = node_hash(left, &h);
        }
        h
    }
}

// ---------------------------------------------------------------------------
// Stored-hash layout (port of golang.org/x/mod/sumdb/tlog)
// ---------------------------------------------------------------------------

/// Reads hashes by stored index (see [`stored_hash_index`]).
pub trait HashReader {
    /// Return the hashes at the given stored indexes, in the same order.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>>;
}

/// Stored index of the hash at `level` (0 = leaves), position `n` within that level
/// (the hash of leaves `n << level .. (n + 1) << level`). Go: `tlog.StoredHashIndex`.
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    // Level L's n'th hash is written right after level L+1's 2n+1'th hash.
    // Work down to the level-0 ordering, then add back the level count.
    let mut n = n;
    for _ in 0..level {
        n = 2 * n + 1;
    }
    // Level 0's n'th hash is written at n + n/2 + n/4 + ...
    let mut i = 0u64;
    while n > 0 {
        i += n;
        n >>= 1;
    }
    i + level as u64
}

/// Inverse of [`stored_hash_index`]: `(level, n)`. Go: `tlog.SplitStoredHashIndex`.
pub fn split_stored_hash_index(index: u64) -> (u8, u64) {
    // stored_hash_index(0, n) <= 2n, so the record we want is in [index/2, index/2 + log2 index].
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    debug_assert!(index_n <= index);
    loop {
        // Record n + 1 starts after record n's 1 + trailing_zeros(n + 1) hashes.
        let x = index_n + 1 + (n + 1).trailing_zeros() as u64;
        if x > index {
            break;
        }
        n += 1;
        index_n = x;
    }
    let level = (index - index_n) as u8;
    (level, n >> level)
}

/// Number of stored hashes for a tree of `leaves` leaves. Go: `tlog.StoredHashCount`.
pub fn stored_hash_count(leaves: u64) -> u64 {
    if leaves == 0 {
        return 0;
    }
    // Hashes up to the last leaf hash, plus the subtrees that leaf completes.
    let mut num = stored_hash_index(0, leaves - 1) + 1;
    let mut i = leaves - 1;
    while i & 1 != 0 {
        num += 1;
        i >>= 1;
    }
    num
}

/// The hashes to append (starting at stored index `stored_hash_index(0, n)`) when adding
/// leaf `n` (an index; the tree grows from size `n` to `n + 1`) with leaf hash `leaf`.
/// Reads at most log2(n) earlier hashes. Go: `tlog.StoredHashesForRecordHash`.
pub fn stored_hashes_for_record(n: u64, leaf: Hash, r: &dyn HashReader) -> Result<Vec<Hash>> {
    let m = (n.wrapping_add(1)).trailing_zeros() as usize;
    let mut hashes = Vec::with_capacity(m + 1);
    hashes.push(leaf);
    if m == 0 {
        return Ok(hashes);
    }
    // Each trailing 1 bit of n completes a subtree, consuming a left sibling (sorted order).
    let mut indexes = vec![0u64; m];
    for i in 0..m {
        indexes[m - 1 - i] = stored_hash_index(i as u8, (n >> i) - 1);
    }
    let old = read_checked(r, &indexes)?;
    let mut h = leaf;
    for i in 0..m {
        h = node_hash(&old[m - 1 - i], &h);
        hashes.push(h);
    }
    Ok(hashes)
}

fn read_checked(r: &dyn HashReader, indexes: &[u64]) -> Result<Vec<Hash>> {
    let got = r.read_hashes(indexes)?;
    if got.len() != indexes.len() {
        return Err(Error::Log(format!(
            "hash reader returned {} hashes for {} indexes",
            got.len(),
            indexes.len()
        )));
    }
    Ok(got)
}

/// Largest power of two strictly smaller than `n` (n >= 2), and its log2.
fn maxpow2(n: u64) -> (u64, u8) {
    debug_assert!(n >= 2);
    let l = 63 - (n - 1).leading_zeros();
    (1u64 << l, l as u8)
}

/// Stored indexes needed to compute the hash of leaves `[lo, hi)`.
fn sub_tree_index(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        let (k, level) = maxpow2(hi - lo + 1);
        debug_assert_eq!(lo & (k - 1), 0);
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// Consume the hashes read for [`sub_tree_index`]`(lo, hi)` and combine them.
fn sub_tree_hash(mut lo: u64, hi: u64, hashes: &[Hash]) -> Result<(Hash, &[Hash])> {
    let mut num = 0usize;
    while lo < hi {
        let (k, _) = maxpow2(hi - lo + 1);
        num += 1;
        lo += k;
    }
    if num == 0 || hashes.len() < num {
        return Err(Error::Log("bad index math in sub_tree_hash".into()));
    }
    let mut h = hashes[num - 1];
    for i in (0..num - 1).rev() {
        h = node_hash(&hashes[i], &h);
    }
    Ok((h, &hashes[num..]))
}

/// RFC 6962 root of the first `size` leaves, from stored hashes (at most 1 + log2 size
/// reads in a single call). Go: `tlog.TreeHash`.
pub fn tree_hash(size: u64, r: &dyn HashReader) -> Result<Hash> {
    if size == 0 {
        return Ok(empty_root());
    }
    let mut idx = Vec::new();
    sub_tree_index(0, size, &mut idx);
    let hashes = read_checked(r, &idx)?;
    let (h, rest) = sub_tree_hash(0, size, &hashes)?;
    debug_assert!(rest.is_empty());
    Ok(h)
}

fn leaf_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 == hi {
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n < lo + k {
        leaf_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        leaf_proof_index(lo + k, hi, n, need);
    }
}

fn leaf_proof<'a>(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &'a [Hash],
    out: &mut Vec<Hash>,
) -> Result<&'a [Hash]> {
    if lo + 1 == hi {
        return Ok(hashes);
    }
    let (k, _) = maxpow2(hi - lo);
    let (th, rest) = if n < lo + k {
        let rest = leaf_proof(lo, lo + k, n, hashes, out)?;
        sub_tree_hash(lo + k, hi, rest)?
    } else {
        let (th, rest) = sub_tree_hash(lo, lo + k, hashes)?;
        (th, leaf_proof(lo + k, hi, n, rest, out)?)
    };
    out.push(th);
    Ok(rest)
}

/// Inclusion proof (audit path, leaf's sibling first) for leaf `index` in the tree of
/// `size` leaves. Go: `tlog.ProveRecord`.
pub fn prove_inclusion(size: u64, index: u64, r: &dyn HashReader) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(Error::Log(format!(
            "inclusion proof: leaf index {index} is not below tree size {size}"
        )));
    }
    let mut idx = Vec::new();
    leaf_proof_index(0, size, index, &mut idx);
    if idx.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read_checked(r, &idx)?;
    let mut out = Vec::new();
    let rest = leaf_proof(0, size, index, &hashes, &mut out)?;
    if !rest.is_empty() {
        return Err(Error::Log("bad index math in prove_inclusion".into()));
    }
    Ok(out)
}

fn tree_proof_index(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        if lo != 0 {
            sub_tree_index(lo, hi, need);
        }
        return;
    }
    let (k, _) = maxpow2(hi - lo);
    if n <= lo + k {
        tree_proof_index(lo, lo + k, n, need);
        sub_tree_index(lo + k, hi, need);
    } else {
        sub_tree_index(lo, lo + k, need);
        tree_proof_index(lo + k, hi, n, need);
    }
}

fn tree_proof<'a>(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &'a [Hash],
    out: &mut Vec<Hash>,
) -> Result<&'a [Hash]> {
    if n == hi {
        if lo == 0 {
            return Ok(hashes);
        }
        let (th, rest) = sub_tree_hash(lo, hi, hashes)?;
        out.push(th);
        return Ok(rest);
    }
    let (k, _) = maxpow2(hi - lo);
    let (th, rest) = if n <= lo + k {
        let rest = tree_proof(lo, lo + k, n, hashes, out)?;
        sub_tree_hash(lo + k, hi, rest)?
    } else {
        let (th, rest) = sub_tree_hash(lo, lo + k, hashes)?;
        (th, tree_proof(lo + k, hi, n, rest, out)?)
    };
    out.push(th);
    Ok(rest)
}

/// Consistency proof from the tree of `old` leaves to the tree of `new` leaves
/// (`1 <= old <= new`; empty when `old == new`). Go: `tlog.ProveTree`.
pub fn prove_consistency(old: u64, new: u64, r: &dyn HashReader) -> Result<Vec<Hash>> {
    if old == 0 || old > new {
        return Err(Error::Log(format!(
            "consistency proof: need 1 <= old size <= new size, got {old} and {new}"
        )));
    }
    let mut idx = Vec::new();
    tree_proof_index(0, new, old, &mut idx);
    if idx.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = read_checked(r, &idx)?;
    let mut out = Vec::new();
    let rest = tree_proof(0, new, old, &hashes, &mut out)?;
    if !rest.is_empty() {
        return Err(Error::Log("bad index math in prove_consistency".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In-memory stored hashes, appended with `stored_hashes_for_record`.
    struct Mem(Vec<Hash>);
    impl HashReader for Mem {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>> {
            indexes
                .iter()
                .map(|&i| {
                    self.0
                        .get(i as usize)
                        .copied()
                        .ok_or_else(|| Error::Log(format!("no hash {i}")))
                })
                .collect()
        }
    }

    fn leaf(i: u64) -> Hash {
        leaf_hash(&i.to_le_bytes())
    }

    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = maxpow2(n as u64).0 as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    fn build(n: u64) -> (Mem, Vec<Hash>) {
        let mut m = Mem(Vec::new());
        let mut leaves = Vec::new();
        for i in 0..n {
            let l = leaf(i);
            leaves.push(l);
            assert_eq!(m.0.len() as u64, stored_hash_index(0, i));
            let new = stored_hashes_for_record(i, l, &m).unwrap();
            m.0.extend(new);
            assert_eq!(m.0.len() as u64, stored_hash_count(i + 1));
        }
        (m, leaves)
    }

    #[test]
    fn stored_index_layout_matches_go() {
        // From the layout comment in Go's tlog.go: level-0 hashes at 0,1,3,4,7,8,10,11,...
        let l0: Vec<u64> = (0..8).map(|n| stored_hash_index(0, n)).collect();
        assert_eq!(l0, vec![0, 1, 3, 4, 7, 8, 10, 11]);
        assert_eq!(stored_hash_index(1, 0), 2);
        assert_eq!(stored_hash_index(2, 0), 6);
        assert_eq!(stored_hash_index(1, 1), 5);
        assert_eq!(stored_hash_index(3, 0), 14);
        for i in 0..5000 {
            let (l, n) = split_stored_hash_index(i);
            assert_eq!(stored_hash_index(l, n), i);
        }
        assert_eq!(stored_hash_count(0), 0);
        assert_eq!(stored_hash_count(1), 1);
        assert_eq!(stored_hash_count(2), 3);
        assert_eq!(stored_hash_count(4), 7);
        assert_eq!(stored_hash_count(5), 8);
    }

    #[test]
    fn roots_and_proofs_match_naive() {
        let (m, leaves) = build(70);
        let mut cr = CompactRange::new();
        assert_eq!(cr.root(), empty_root());
        for size in 1..=70u64 {
            cr.push(leaves[size as usize - 1]);
            let want = naive_root(&leaves[..size as usize]);
            assert_eq!(tree_hash(size, &m).unwrap(), want, "size {size}");
            assert_eq!(cr.root(), want);
            assert_eq!(cr.size(), size);
            for idx in 0..size {
                let p = prove_inclusion(size, idx, &m).unwrap();
                verify_inclusion(&leaves[idx as usize], idx, size, &p, &want).unwrap();
                // Wrong index must fail (when there is another leaf).
                if size > 1 {
                    let other = (idx + 1) % size;
                    assert!(
                        verify_inclusion(&leaves[idx as usize], other, size, &p, &want).is_err()
                    );
                }
            }
            for old in 1..=size {
                let p = prove_consistency(old, size, &m).unwrap();
                let r1 = naive_root(&leaves[..old as usize]);
                verify_consistency(old, size, &p, &r1, &want).unwrap();
                if old < size {
                    let bad = leaf(9999);
                    assert!(verify_consistency(old, size, &p, &bad, &want).is_err());
                }
            }
        }
        assert!(prove_inclusion(5, 5, &m).is_err());
        assert!(prove_consistency(0, 5, &m).is_err());
        assert!(prove_consistency(6, 5, &m).is_err());
    }

    #[test]
    fn hash_codecs() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_base64("AAAA"), None);
        assert_eq!(Hash::from_hex("00"), None);
        // Non-canonical trailing bits are rejected ("...uFU=" is SHA-256(""); "U" -> "V").
        assert!(Hash::from_base64("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_some());
        assert_eq!(
            Hash::from_base64("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV="),
            None
        );
        assert_eq!(
            Hash::from_base64("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"),
            None
        );
    }
}
