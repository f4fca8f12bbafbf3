//! C2SP `tlog-cosignature` v1 (Ed25519 `cosignature/v1`, signature type `0x04`): a
//! witness's statement that, as of a time, the checkpoint is the largest consistent tree
//! head it has seen for the log.
//!
//! A cosignature is a signed-note signature line, `— <witness name> base64(key ID[4] ||
//! timestamp[8, big-endian seconds] || Ed25519 signature[64])`, over the message
//! `"cosignature/v1\n" || "time <timestamp>\n" || <the checkpoint's note text>`. The key
//! ID is `SHA-256(name || "\n" || 0x04 || pubkey)[:4]`; keys are vkeys of type `0x04`
//! (`<name>+<hex id>+base64(0x04 || pubkey)`), signer keys Go's
//! `PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed)`. Hand-written beside `note`: no
//! Rust crate of the field implements the witness side with this key format.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::note::{NoteSignature, SIG_PREFIX, is_valid_key_name, key_id_of, parse_key_parts_alg};
use crate::error::{Error, Result};

/// Signature type byte of an Ed25519 cosignature.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The message a cosignature signs.
pub fn signed_message(note_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{note_text}").into_bytes()
}

/// A witness's signing key.
#[derive(Clone)]
pub struct CosignerKey {
    name: String,
    key: SigningKey,
    id: u32,
}

impl std::fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosignerKey")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

impl CosignerKey {
    fn from_seed(name: &str, seed: [u8; 32]) -> Result<CosignerKey> {
        if !is_valid_key_name(name) {
            return Err(Error::Log(format!(
                "invalid witness name {name:?}: it must be non-empty, without whitespace or '+'"
            )));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id_of(name, ALG_COSIGNATURE_V1, key.verifying_key().as_bytes());
        Ok(CosignerKey {
            name: name.to_string(),
            key,
            id,
        })
    }

    /// A new random key for the witness `name` (a schema-less URL, e.g.
    /// `witness.example.org/samizdat`).
    pub fn generate(name: &str) -> Result<CosignerKey> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| Error::Log(format!("no randomness for a new key: {e}")))?;
        CosignerKey::from_seed(name, seed)
    }

    /// `PRIVATE+KEY+<name>+<hex id>+base64(0x04 || seed)`.
    pub fn from_skey(s: &str) -> Result<CosignerKey> {
        const WHAT: &str = "witness signer key";
        let s = s.trim_end_matches(['\n', '\r']);
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::Log(format!("{WHAT}: does not start with PRIVATE+KEY+")))?;
        let (name, id, key) = parse_key_parts_alg(rest, WHAT, ALG_COSIGNATURE_V1)?;
        let seed: [u8; 32] = key[1..].try_into().expect("checked length");
        let k = CosignerKey::from_seed(name, seed)?;
        if k.id != id {
            return Err(Error::Log(format!(
                "{WHAT}: key id {id:08x} does not match the key ({:08x})",
                k.id
            )));
        }
        Ok(k)
    }

    /// The signer key (secret!).
    pub fn to_skey(&self) -> String {
        let mut k = vec![ALG_COSIGNATURE_V1];
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

    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    /// The cosignature line (with its newline) over `note_text` at `timestamp`.
    pub fn cosign(&self, note_text: &str, timestamp: u64) -> String {
        let sig = self.key.sign(&signed_message(note_text, timestamp));
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&self.id.to_be_bytes());
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(blob))
    }
}

/// A witness's public key, as a log's client is configured with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key: VerifyingKey,
    id: u32,
}

/// Why a cosignature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("the signature line is not this witness's (name or key id differ)")]
    NotThisWitness,
    #[error("malformed cosignature: {0}")]
    Malformed(String),
    #[error("the cosignature by {0} does not verify over this checkpoint")]
    Invalid(String),
}

impl CosignatureVerifier {
    /// `<name>+<hex id>+base64(0x04 || pubkey)`.
    pub fn from_vkey(s: &str) -> Result<CosignatureVerifier> {
        const WHAT: &str = "witness verifier key";
        let s = s.trim_end_matches(['\n', '\r']);
        let (name, id, key) = parse_key_parts_alg(s, WHAT, ALG_COSIGNATURE_V1)?;
        let pk: [u8; 32] = key[1..].try_into().expect("checked length");
        if key_id_of(name, ALG_COSIGNATURE_V1, &pk) != id {
            return Err(Error::Log(format!(
                "{WHAT}: key id {id:08x} does not match the name and key"
            )));
        }
        let key = VerifyingKey::from_bytes(&pk)
            .map_err(|e| Error::Log(format!("{WHAT}: bad Ed25519 public key: {e}")))?;
        Ok(CosignatureVerifier {
            name: name.to_string(),
            key,
            id,
        })
    }

    pub fn to_vkey(&self) -> String {
        let mut k = vec![ALG_COSIGNATURE_V1];
        k.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(k))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether a signature line names this witness (its name and key ID).
    pub fn is_mine(&self, sig: &NoteSignature) -> bool {
        sig.name == self.name && sig.key_id == self.id
    }

    /// Verifies a signature line over `note_text`; returns the cosignature's timestamp.
    pub fn verify(&self, note_text: &str, sig: &NoteSignature) -> Result<u64, CosignatureError> {
        if !self.is_mine(sig) {
            return Err(CosignatureError::NotThisWitness);
        }
        let blob = B64
            .decode(&sig.base64)
            .map_err(|_| CosignatureError::Malformed("not base64".into()))?;
        if blob.len() != 4 + 8 + 64 {
            return Err(CosignatureError::Malformed(format!(
                "{} bytes, want 76 (key id, timestamp, signature)",
                blob.len()
            )));
        }
        let ts = u64::from_be_bytes(blob[4..12].try_into().expect("8 bytes"));
        if ts > i64::MAX as u64 {
            return Err(CosignatureError::Malformed("timestamp past 2^63-1".into()));
        }
        let s: [u8; 64] = blob[12..].try_into().expect("64 bytes");
        self.key
            .verify_strict(&signed_message(note_text, ts), &Signature::from_bytes(&s))
            .map_err(|_| CosignatureError::Invalid(self.name.clone()))?;
        Ok(ts)
    }
}

/// The signature lines of a signed note (text, blank line, lines), without checking any:
/// what a cosignature is looked for among.
pub fn signature_lines(note: &str) -> Vec<NoteSignature> {
    let Some(split) = note.rfind("\n\n") else {
        return vec![];
    };
    note[split + 2..]
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(SIG_PREFIX)?;
            let (name, b64) = rest.split_once(' ')?;
            let blob = B64.decode(b64).ok()?;
            (blob.len() >= 4).then(|| NoteSignature {
                name: name.to_string(),
                key_id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
                base64: b64.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note::{NoteSigner, open_note};

    const TEXT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn a_cosignature_verifies_and_carries_its_time() {
        let w = CosignerKey::from_seed("witness.example.com/w1", [7; 32]).unwrap();
        let line = w.cosign(TEXT, 1679315147);
        let sigs = signature_lines(&format!("{TEXT}\n{line}"));
        assert_eq!(sigs.len(), 1);
        assert_eq!(w.verifier().verify(TEXT, &sigs[0]), Ok(1679315147));
        // Over another text, or with another time, it fails.
        let other = TEXT.replace("20852163", "20852164");
        assert!(matches!(
            w.verifier().verify(&other, &sigs[0]),
            Err(CosignatureError::Invalid(_))
        ));
        let mut blob = B64.decode(&sigs[0].base64).unwrap();
        blob[11] ^= 1;
        let forged = NoteSignature {
            base64: B64.encode(&blob),
            ..sigs[0].clone()
        };
        assert!(w.verifier().verify(TEXT, &forged).is_err());
    }

    #[test]
    fn the_signed_message_is_the_specs() {
        assert_eq!(
            String::from_utf8(signed_message(TEXT, 1679315147)).unwrap(),
            format!("cosignature/v1\ntime 1679315147\n{TEXT}")
        );
    }

    #[test]
    fn keys_round_trip_and_their_id_is_of_type_0x04() {
        let w = CosignerKey::from_seed("witness.example.com/w1", [9; 32]).unwrap();
        let v = w.verifier();
        assert_eq!(CosignatureVerifier::from_vkey(&v.to_vkey()).unwrap(), v);
        assert_eq!(CosignerKey::from_skey(&w.to_skey()).unwrap().verifier(), v);
        // The same key as a note signer has another id: the types do not mix.
        let n = NoteSigner::from_skey(&w.to_skey().replace("+BA", "+AQ"));
        assert!(n.is_err() || n.unwrap().key_id() != v.key_id());
        assert!(
            CosignatureVerifier::from_vkey(
                &NoteSigner::generate("example.org/log")
                    .unwrap()
                    .verifier()
                    .to_vkey()
            )
            .is_err()
        );
    }

    #[test]
    fn a_log_reader_ignores_cosignatures_it_does_not_know() {
        let log = NoteSigner::generate("example.com/log").unwrap();
        let w = CosignerKey::generate("witness.example.com/w1").unwrap();
        let text = "example.com/log\n3\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let note = log.sign(text).unwrap() + &w.cosign(text, 5);
        let opened = open_note(&note, &[log.verifier()]).unwrap();
        assert_eq!(opened.signatures.len(), 1);
        assert_eq!(opened.unverified.len(), 1);
        assert_eq!(w.verifier().verify(text, &opened.unverified[0]), Ok(5));
    }
}
