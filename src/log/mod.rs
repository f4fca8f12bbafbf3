//! The transparency log: every record is a leaf, in write order.
//!
//! - [`merkle`]: RFC 6962 / 9162 maths: leaf and node hashes, the stored-hash layout,
//!   inclusion and consistency proofs and their verification. No I/O.
//! - [`hashes`]: the file of stored node hashes under `log/` (a rebuildable cache).
//! - [`note`]: C2SP signed notes, Ed25519 keys, tlog checkpoints.
//! - [`entry`]: what a leaf hashes: a record, or the small entry that commits to a large one.
//! - [`cosignature`]: C2SP tlog-cosignature v1: witness keys, cosigning, verifying.
//! - [`policy`]: C2SP tlog-policy: trusted logs and witnesses, and the quorum.
//! - [`proof`]: C2SP tlog-proof: one record's index, inclusion proof and checkpoint.

pub mod cosignature;
pub mod entry;
pub mod hashes;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
