//! What a leaf of the log is the hash of: its *entry* (C2SP tlog-tiles serves entries
//! in bundles of uint16 length-prefixed entries, so an entry is at most 65,535 bytes).
//! No I/O.
//!
//! - A record of at most [`ENTRY_MAX`] bytes is its own entry: the leaf is RFC 6962's
//!   `SHA-256(0x00 || record)` over the uncompressed WARC record, and a monitor reading
//!   the entry bundles reads the record itself.
//! - A larger record is written with the field `Samizdat-Leaf: entry/1`, and its entry
//!   is a small text that commits to it ([`entry_v1`]): `samizdat-entry/1`, a newline,
//!   the record's head byte for byte (`WARC/1.1`, its fields, the blank line), and
//!   `Block-SHA256: <hex>` with a newline, the SHA-256 of its block. The leaf is
//!   `SHA-256(0x00 || entry)`. A record is its head, its block and CRLF CRLF, so the
//!   entry fixes every byte of it; a marked record that does not end in CRLF CRLF is a
//!   leaf of its whole bytes, like any other.
//!
//! The field is in the record, so every reader decides the same way from the record's
//! bytes alone ([`leaf_of`], [`LeafHasher`]); no table says which leaf is which. Records
//! written before entries existed carry no field and stay leaves of the whole record,
//! however large: rewriting them would change the tree, which every witness must refuse
//! as a fork, so an archive is carried over as it is, and `/log/tile/entries/<N>` says
//! plainly when a bundle holds such a record (docs/evidence.md "Entries").
//!
//! Both forms bind the record: a record that is not the one logged would need a
//! SHA-256 preimage or collision to match a leaf either way, and an entry is never a
//! WARC record (it starts with [`ENTRY_V1`], a record with `WARC/`).

use super::merkle::{Hash, leaf_hash};
use sha2::{Digest, Sha256};

/// Largest entry a tlog-tiles entry bundle can hold.
pub const ENTRY_MAX: usize = 65_535;
/// The field that marks a record whose leaf is the hash of its [`entry_v1`].
pub const FIELD: &str = "Samizdat-Leaf";
pub const FIELD_VALUE: &str = "entry/1";
/// The first line of an entry/1.
pub const ENTRY_V1: &str = "samizdat-entry/1";
/// Whether a record of `len` bytes (before the field is added) is written as entry/1.
pub fn needs_entry(len: u64) -> bool {
    // The field adds 24 bytes; a margin keeps the decision away from the edge.
    len > (ENTRY_MAX - 256) as u64
}

/// The header fields of a record's head (up to the blank line), as (name, value).
fn head_fields(head: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(head)
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn marked(fields: &[(String, String)]) -> bool {
    fields
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(FIELD) && v == FIELD_VALUE)
}

/// The entry/1 of a record with this head (through its blank line) and block SHA-256.
pub fn entry_v1(head: &[u8], block_sha256: &[u8; 32]) -> Vec<u8> {
    let mut e = Vec::with_capacity(head.len() + 100);
    e.extend_from_slice(ENTRY_V1.as_bytes());
    e.push(b'\n');
    e.extend_from_slice(head);
    e.extend_from_slice(format!("Block-SHA256: {}\n", hex::encode(block_sha256)).as_bytes());
    e
}

/// The end of a record's head (the index after its CRLF CRLF), if it has one.
fn head_end(record: &[u8]) -> Option<usize> {
    record
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// The entry of a record (uncompressed, as stored): the record itself, or its entry/1.
pub fn entry_of(record: &[u8]) -> Vec<u8> {
    if let Some(h) = head_end(record)
        && record.len() >= h + 4
        && record.ends_with(b"\r\n\r\n")
        && marked(&head_fields(&record[..h]))
    {
        return entry_v1(
            &record[..h],
            &Sha256::digest(&record[h..record.len() - 4]).into(),
        );
    }
    record.to_vec()
}

/// The leaf hash of a record (uncompressed, as stored).
pub fn leaf_of(record: &[u8]) -> Hash {
    leaf_hash(&entry_of(record))
}

/// [`leaf_of`] over a record given in pieces (a body streamed from disk), in bounded
/// memory: the head is kept until its end, the block only hashed (the last four bytes
/// held back, for they are the record's end, not its block).
pub struct LeafHasher {
    whole: Sha256,
    block: Sha256,
    head: Vec<u8>,
    /// Some once the head's end was seen (None: still in the head, or no head).
    head_len: Option<usize>,
    gave_up: bool,
    /// The last bytes seen after the head, at most 4, not yet in `block`.
    tail: Vec<u8>,
    /// The first bytes of the record, while they fit an entry.
    small: Vec<u8>,
    total: u64,
}

/// Heads longer than this are not parsed for the field (no record samizdat writes has
/// one; such a record is a leaf of its whole bytes).
const HEAD_MAX: usize = 1 << 20;

impl Default for LeafHasher {
    fn default() -> Self {
        LeafHasher::new()
    }
}

impl LeafHasher {
    pub fn new() -> LeafHasher {
        let mut whole = Sha256::new();
        whole.update([0u8]);
        LeafHasher {
            whole,
            block: Sha256::new(),
            head: vec![],
            head_len: None,
            gave_up: false,
            tail: vec![],
            small: vec![],
            total: 0,
        }
    }

    pub fn update(&mut self, b: &[u8]) {
        self.whole.update(b);
        self.total += b.len() as u64;
        if self.small.len() + b.len() <= ENTRY_MAX {
            self.small.extend_from_slice(b);
        } else {
            self.small = vec![];
        }
        if self.gave_up {
            return;
        }
        if self.head_len.is_none() {
            let from = self.head.len().saturating_sub(3);
            self.head.extend_from_slice(b);
            match self.head[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                Some(i) => {
                    let end = from + i + 4;
                    let rest = self.head.split_off(end);
                    self.head_len = Some(end);
                    self.feed_block(&rest);
                }
                None if self.head.len() > HEAD_MAX => {
                    self.gave_up = true;
                    self.head = vec![];
                }
                None => {}
            }
            return;
        }
        self.feed_block(b);
    }

    fn feed_block(&mut self, b: &[u8]) {
        self.tail.extend_from_slice(b);
        if self.tail.len() > 4 {
            let keep = self.tail.split_off(self.tail.len() - 4);
            self.block.update(&self.tail);
            self.tail = keep;
        }
    }

    /// The record's entry, when it has one an entry bundle can hold (a record of at most
    /// [`ENTRY_MAX`] bytes, or a marked one); None for a large unmarked record.
    pub fn entry(self) -> Option<Vec<u8>> {
        match self.marked_entry() {
            Some(e) => Some(e),
            None => (self.total <= ENTRY_MAX as u64).then_some(self.small),
        }
    }

    fn marked_entry(&self) -> Option<Vec<u8>> {
        if self.head_len.is_some() && self.tail == b"\r\n\r\n" && marked(&head_fields(&self.head)) {
            Some(entry_v1(&self.head, &self.block.clone().finalize().into()))
        } else {
            None
        }
    }

    pub fn finalize(self) -> Hash {
        match self.marked_entry() {
            Some(e) => leaf_hash(&e),
            None => Hash(self.whole.finalize().into()),
        }
    }
}

/// Whether a record's entry fits an entry bundle (a record written before entries, over
/// 65,535 bytes, does not).
pub fn fits(entry: &[u8]) -> bool {
    entry.len() <= ENTRY_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: &str, body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Date: 2026-01-01T00:00:00Z\r\n\
             WARC-Target-URI: https://example.org/a\r\n{extra}Content-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    #[test]
    fn small_records_are_their_own_entry_and_marked_ones_commit_by_digest() {
        let small = record("", b"hello");
        assert_eq!(entry_of(&small), small);
        assert_eq!(leaf_of(&small), leaf_hash(&small));

        let big_body = vec![b'x'; 100_000];
        let big = record("Samizdat-Leaf: entry/1\r\n", &big_body);
        let e = entry_of(&big);
        let text = String::from_utf8(e.clone()).unwrap();
        assert!(
            text.starts_with("samizdat-entry/1\nWARC/1.1\r\nWARC-Type: resource\r\n"),
            "{text}"
        );
        assert!(
            text.ends_with(&format!(
                "\r\n\r\nBlock-SHA256: {}\n",
                hex::encode(Sha256::digest(&big_body))
            )),
            "{text}"
        );
        assert!(fits(&e));
        assert_eq!(leaf_of(&big), leaf_hash(&e));
        assert_ne!(leaf_of(&big), leaf_hash(&big));
        // One byte of the body changed: another leaf.
        let mut other = big.clone();
        other[big.len() - 10] = b'y';
        assert_ne!(leaf_of(&other), leaf_of(&big));
        // The same large record without the field (written before entries): its whole
        // bytes, which no bundle can hold.
        let legacy = record("", &big_body);
        assert_eq!(leaf_of(&legacy), leaf_hash(&legacy));
        assert!(!fits(&entry_of(&legacy)));
        // Marked, but not ending in CRLF CRLF: a leaf of its whole bytes.
        let mut cut = big.clone();
        cut.truncate(big.len() - 1);
        assert_eq!(leaf_of(&cut), leaf_hash(&cut));
    }

    #[test]
    fn the_streaming_hasher_agrees_in_any_pieces() {
        for r in [
            record("", b"hello"),
            record("Samizdat-Leaf: entry/1\r\n", &vec![7u8; 70_000]),
            record("", &vec![7u8; 70_000]),
            b"not a record at all".to_vec(),
        ] {
            for piece in [1, 3, 4, 5, 1000, 1 << 20] {
                let mut h = LeafHasher::new();
                for c in r.chunks(piece) {
                    h.update(c);
                }
                let mut h2 = LeafHasher::new();
                for c in r.chunks(piece) {
                    h2.update(c);
                }
                assert_eq!(h.finalize(), leaf_of(&r), "pieces of {piece}");
                let e = entry_of(&r);
                assert_eq!(h2.entry(), fits(&e).then_some(e), "pieces of {piece}");
            }
        }
    }

    #[test]
    fn the_writer_marks_only_what_would_not_fit() {
        assert!(!needs_entry(1000));
        assert!(!needs_entry((ENTRY_MAX - 256) as u64));
        assert!(needs_entry((ENTRY_MAX - 255) as u64));
    }
}
