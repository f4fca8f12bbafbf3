//! The archive folder.
