//! The archive folder: WARC files, the index, the append lock.

pub mod archive;
pub mod bodies;
pub mod entries;
pub mod files;
pub mod index;
pub mod record_stream;
pub mod search;
pub mod since;
pub mod spool;
pub mod state;
pub mod views;
pub mod warc;
pub mod writer;
