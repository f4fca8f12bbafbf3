//! The transparency log: every record is a leaf, in write order.
//!
//! - [`merkle`]: RFC 6962 / 9162 maths: leaf and node hashes, the stored-hash layout,
//!   inclusion and consistency proofs and their verification. No I/O.
//! - [`hashes`]: the file of stored node hashes under `log/` (a rebuildable cache).
//! - [`note`]: C2SP signed notes, Ed25519 keys, tlog checkpoints.

pub mod cosignature;
pub mod hashes;
pub mod merkle;
pub mod note;
