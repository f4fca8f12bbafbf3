//! C2SP signed notes (`signed-note` v1.0.0, Ed25519 signature type `0x01`) and
//! C2SP `tlog-checkpoint` v1.0.0 bodies (both at `C2SP/C2SP@99fd482`).
//!
//! A signed note is `<text ending in "\n">` `"\n"` then one or more lines
//! `"— <key name> <base64(key ID[4] || signature[64])>\n"` (U+2014 em dash). The key ID
//! is `SHA-256(name || "\n" || 0x01 || pubkey)[:4]`, big-endian. Key encodings follow
//! Go's `golang.org/x/mod/sumdb/note`: verifier key `<name>+<8 hex>+base64(0x01||pub32)`,
//! signer key `PRIVATE+KEY+<name>+<8 hex>+base64(0x01||seed32)`.
//!
//! Verification follows the spec's verifier rules: the text and signatures are split at
//! the last blank line, signatures by unknown keys are ignored, a failing signature by a
//! known key rejects the note, and a note with no verified signature is rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::log::merkle::Hash;

/// Signature type byte for Ed25519 in C2SP signed-note.
const ALG_ED25519: u8 = 0x01;
/// Prefix of every signature line.
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";
/// Reject notes with more signature lines than this (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 100;
/// Reject notes larger than this (Go's limit).
const MAX_NOTE_BYTES: usize = 1 << 20;

/// A key name is valid when non-empty, with no Unicode whitespace and no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

fn key_id(name: &str, pubkey: &[u8; 32]) -> u32 {
    key_id_of(name, ALG_ED25519, pubkey)
}

/// `SHA-256(name || "\n" || alg || pubkey)[:4]`, big-endian: the key ID of signed-note
/// (alg 0x01) and of tlog-cosignature (alg 0x04).
pub(crate) fn key_id_of(name: &str, alg: u8, pubkey: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(pubkey);
    let d: [u8; 32] = h.finalize().into();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn key_err(what: &str, msg: impl std::fmt::Display) -> Error {
    Error::Log(format!("{what}: {msg}"))
}

/// Split `<name>+<hex id>+<base64 key>` (the name cannot contain '+').
fn parse_key_parts<'a>(s: &'a str, what: &str) -> Result<(&'a str, u32, Vec<u8>)> {
    parse_key_parts_alg(s, what, ALG_ED25519)
}

/// [`parse_key_parts`] for a key of signature type `alg`.
pub(crate) fn parse_key_parts_alg<'a>(
    s: &'a str,
    what: &str,
    alg: u8,
) -> Result<(&'a str, u32, Vec<u8>)> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(key_err(what, "expected <name>+<key id>+<key>"));
    };
    if !is_valid_key_name(name) {
        return Err(key_err(what, format!("invalid key name {name:?}")));
    }
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(key_err(what, format!("key id {id:?} is not 8 hex digits")));
    }
    let id = u32::from_str_radix(id, 16).map_err(|e| key_err(what, e))?;
    let key = B64
        .decode(key)
        .map_err(|e| key_err(what, format!("key is not base64: {e}")))?;
    if key.len() != 33 || key[0] != alg {
        return Err(key_err(
            what,
            format!("key is not of type {alg:#04x} followed by 32 bytes of Ed25519 key"),
        ));
    }
    Ok((name, id, key))
}

/// A named Ed25519 note signer.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    id: u32,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the seed.
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    fn from_seed(name: &str, seed: [u8; 32]) -> Result<NoteSigner> {
        if !is_valid_key_name(name) {
            return Err(Error::Log(format!(
                "invalid key name {name:?}: it must be non-empty, without whitespace or '+'"
            )));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(NoteSigner {
            name: name.to_string(),
            key,
            id,
        })
    }

    /// A new random key for `name` (a schema-less URL is recommended, e.g. the log origin).
    pub fn generate(name: &str) -> Result<NoteSigner> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| Error::Log(format!("no randomness for a new key: {e}")))?;
        NoteSigner::from_seed(name, seed)
    }

    /// Parse a Go-format signer key `PRIVATE+KEY+<name>+<hex id>+base64(0x01||seed)`.
    pub fn from_skey(s: &str) -> Result<NoteSigner> {
        const WHAT: &str = "signer key";
        let s = s.trim_end_matches(['\n', '\r']);
        let Some(rest) = s.strip_prefix("PRIVATE+KEY+") else {
            return Err(key_err(WHAT, "does not start with PRIVATE+KEY+"));
        };
        let (name, id, key) = parse_key_parts(rest, WHAT)?;
        let seed: [u8; 32] = key[1..].try_into().expect("checked length");
        let signer = NoteSigner::from_seed(name, seed)?;
        if signer.id != id {
            return Err(key_err(
                WHAT,
                format!("key id {id:08x} does not match the key ({:08x})", signer.id),
            ));
        }
        Ok(signer)
    }

    /// The Go-format signer key (secret!).
    pub fn to_skey(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(k)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// Sign `text` and return the whole signed note: text, a blank line, one signature line.
    /// `text` must end in `"\n"`, be free of control characters other than `"\n"`, and
    /// contain no blank line at its end (it must not end in `"\n\n"`).
    pub fn sign(&self, text: &str) -> Result<String> {
        check_text(text).map_err(|e| Error::Log(format!("cannot sign: {e}")))?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

/// A named Ed25519 note verifier key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

impl NoteVerifier {
    /// Parse a verifier key `<name>+<hex id>+base64(0x01||pubkey)`.
    pub fn from_vkey(s: &str) -> Result<NoteVerifier> {
        const WHAT: &str = "verifier key";
        let s = s.trim_end_matches(['\n', '\r']);
        let (name, id, key) = parse_key_parts(s, WHAT)?;
        let pk: [u8; 32] = key[1..].try_into().expect("checked length");
        if key_id(name, &pk) != id {
            return Err(key_err(
                WHAT,
                format!("key id {id:08x} does not match the name and key"),
            ));
        }
        let key = VerifyingKey::from_bytes(&pk)
            .map_err(|e| key_err(WHAT, format!("bad Ed25519 public key: {e}")))?;
        Ok(NoteVerifier {
            name: name.to_string(),
            key,
            id,
        })
    }

    /// `<name>+<8 hex key id>+base64(0x01||pubkey)`.
    pub fn to_vkey(&self) -> String {
        let mut k = vec![ALG_ED25519];
        k.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(k))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Lowercase hex SHA-256 of the 32 raw public-key bytes, for humans to compare.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.key.as_bytes()))
    }

    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(sig) else {
            return false;
        };
        self.key
            .verify_strict(text, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// base64(key ID || signature), as on the line.
    pub base64: String,
}

/// A note whose signatures were checked by [`open_note`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    /// Signatures by known keys that verified (at least one).
    pub signatures: Vec<NoteSignature>,
    /// Signatures by keys not among the verifiers (not checked).
    pub unverified: Vec<NoteSignature>,
}

/// Why a signed note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(String),
    #[error("invalid signature by {name} (key id {key_id:08x})")]
    InvalidSignature { name: String, key_id: u32 },
    #[error("note has no signature by a known key")]
    NoKnownSignature,
}

fn malformed(msg: impl Into<String>) -> NoteError {
    NoteError::Malformed(msg.into())
}

/// Text rules of signed-note: valid UTF-8 (given by `&str`), no control characters
/// other than `\n`, non-empty, ends in `\n`, and no blank line at the end.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > MAX_NOTE_BYTES {
        return Err(malformed("note is too large"));
    }
    if let Some(c) = text.chars().find(|&c| c.is_ascii_control() && c != '\n') {
        return Err(malformed(format!("control character {c:?} in text")));
    }
    if !text.ends_with('\n') {
        return Err(malformed("text does not end with a newline"));
    }
    if text.ends_with("\n\n") || text == "\n" {
        return Err(malformed("text ends with a blank line"));
    }
    Ok(())
}

/// Parse a signed note and verify it against `verifiers` with the C2SP rules.
pub fn open_note(note: &str, verifiers: &[NoteVerifier]) -> Result<Note, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(malformed("note is too large"));
    }
    if let Some(c) = note.chars().find(|&c| c.is_ascii_control() && c != '\n') {
        return Err(malformed(format!("control character {c:?}")));
    }
    let Some(split) = note.rfind("\n\n") else {
        return Err(malformed("no blank line before the signatures"));
    };
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(malformed(
            "signature block is empty or lacks a final newline",
        ));
    }
    let mut out = Note {
        text: text.to_string(),
        signatures: Vec::new(),
        unverified: Vec::new(),
    };
    let mut count = 0usize;
    for line in sigs[..sigs.len() - 1].split('\n') {
        count += 1;
        if count > MAX_SIGNATURES {
            return Err(malformed("too many signatures"));
        }
        let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
            return Err(malformed(format!("bad signature line {line:?}")));
        };
        let Some((name, b64)) = rest.split_once(' ') else {
            return Err(malformed(format!("bad signature line {line:?}")));
        };
        let blob = B64
            .decode(b64)
            .map_err(|_| malformed(format!("signature of {name} is not base64")))?;
        if !is_valid_key_name(name) || blob.len() < 5 {
            return Err(malformed(format!("bad signature line {line:?}")));
        }
        let key_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);
        let sig = NoteSignature {
            name: name.to_string(),
            key_id,
            base64: b64.to_string(),
        };
        match verifiers.iter().find(|v| v.name == name && v.id == key_id) {
            None => {
                if !out.unverified.contains(&sig) {
                    out.unverified.push(sig);
                }
            }
            Some(v) => {
                if out
                    .signatures
                    .iter()
                    .any(|s| s.name == name && s.key_id == key_id)
                {
                    continue; // repeated signature by one key: ignored, as Go does
                }
                if !v.verify(text.as_bytes(), &blob[4..]) {
                    return Err(NoteError::InvalidSignature {
                        name: name.to_string(),
                        key_id,
                    });
                }
                out.signatures.push(sig);
            }
        }
    }
    if out.signatures.is_empty() {
        return Err(NoteError::NoKnownSignature);
    }
    Ok(out)
}

/// A C2SP tlog-checkpoint v1.0.0 body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (e.g. `example.com/evidence-test-log`).
    pub origin: String,
    /// Tree size (number of leaves).
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Optional extension lines (without their newlines).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text: origin, size, base64 root, extension lines, each ending in `\n`.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parse a checkpoint body (the text of a note, without the signatures). Strict:
    /// non-empty origin, decimal size without sign or leading zeros, canonical base64 root
    /// of exactly 32 bytes, non-empty extension lines, final newline.
    pub fn parse(text: &str) -> Result<Checkpoint> {
        let bad = |m: String| Error::Log(format!("bad checkpoint: {m}"));
        let Some(body) = text.strip_suffix('\n') else {
            return Err(bad("does not end with a newline".into()));
        };
        if let Some(c) = body.chars().find(|&c| c.is_ascii_control() && c != '\n') {
            return Err(bad(format!("control character {c:?}")));
        }
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad("empty origin line".into()));
        }
        if origin.trim() != origin {
            return Err(bad(format!("origin {origin:?} has surrounding whitespace")));
        }
        let Some(size_s) = lines.next() else {
            return Err(bad("missing tree size line".into()));
        };
        let size_ok = !size_s.is_empty()
            && size_s.bytes().all(|b| b.is_ascii_digit())
            && (size_s == "0" || !size_s.starts_with('0'));
        if !size_ok {
            return Err(bad(format!(
                "tree size {size_s:?} is not a canonical decimal"
            )));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| bad(format!("tree size {size_s:?} is too large")))?;
        let Some(root_s) = lines.next() else {
            return Err(bad("missing root hash line".into()));
        };
        let root = Hash::from_base64(root_s)
            .ok_or_else(|| bad(format!("root {root_s:?} is not base64 of 32 bytes")))?;
        let mut extensions = Vec::new();
        for e in lines {
            if e.is_empty() {
                return Err(bad("empty extension line".into()));
            }
            extensions.push(e.to_string());
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}

/// Open a signed checkpoint: verify the note, then parse its body.
pub fn open_checkpoint(note: &str, verifiers: &[NoteVerifier]) -> Result<(Checkpoint, Note)> {
    let n = open_note(note, verifiers).map_err(|e| Error::Log(format!("checkpoint: {e}")))?;
    let c = Checkpoint::parse(&n.text)?;
    Ok((c, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_open_roundtrip() {
        let s = NoteSigner::generate("example.com/test-log").unwrap();
        let v = NoteVerifier::from_vkey(&s.verifier().to_vkey()).unwrap();
        assert_eq!(v, s.verifier());
        let s2 = NoteSigner::from_skey(&s.to_skey()).unwrap();
        assert_eq!(s2.verifier(), v);
        let note = s.sign("hello\nworld\n").unwrap();
        let n = open_note(&note, std::slice::from_ref(&v)).unwrap();
        assert_eq!(n.text, "hello\nworld\n");
        assert_eq!(n.signatures.len(), 1);
        assert_eq!(n.signatures[0].key_id, v.key_id());
        // Another key with the same name is unknown -> no known signature.
        let other = NoteSigner::generate("example.com/test-log")
            .unwrap()
            .verifier();
        assert_eq!(open_note(&note, &[other]), Err(NoteError::NoKnownSignature));
        // Tampering.
        let bad = note.replacen("hello", "hellO", 1);
        assert!(matches!(
            open_note(&bad, std::slice::from_ref(&v)),
            Err(NoteError::InvalidSignature { .. })
        ));
        assert_eq!(v.fingerprint().len(), 64);
    }

    #[test]
    fn names_and_texts() {
        for bad in ["", "a b", "a+b", "a\tb"] {
            assert!(NoteSigner::generate(bad).is_err(), "{bad:?}");
        }
        let s = NoteSigner::generate("n").unwrap();
        for bad in [
            "no newline",
            "blank at end\n\n",
            "ctl\u{7}\n",
            "del\u{7f}\n",
            "\n",
            "",
        ] {
            assert!(s.sign(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn checkpoint_parse_strict() {
        let root = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
        let ok = format!("example.com/log\n8\n{root}\n");
        let c = Checkpoint::parse(&ok).unwrap();
        assert_eq!(c.size, 8);
        assert_eq!(c.body(), ok);
        let ext = format!("example.com/log\n0\n{root}\nextra line\n");
        let c = Checkpoint::parse(&ext).unwrap();
        assert_eq!(c.extensions, vec!["extra line".to_string()]);
        assert_eq!(c.body(), ext);
        for bad in [
            format!("example.com/log\n08\n{root}\n"),
            format!("example.com/log\n+8\n{root}\n"),
            format!("example.com/log\n-8\n{root}\n"),
            format!("example.com/log\n\n{root}\n"),
            format!("example.com/log\n18446744073709551616\n{root}\n"),
            format!("example.com/log\n8\n{root}"),
            format!("\n8\n{root}\n"),
            format!("example.com/log\n8\n{root}\n\n"),
            "example.com/log\n8\nAAAA\n".to_string(),
            "example.com/log\n8\n".to_string(),
        ] {
            assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
        }
    }
}
