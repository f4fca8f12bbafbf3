//! RFC 6962 Merkle maths (to be written).
