//! Stored tree hashes (to be written).
