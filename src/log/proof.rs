//! C2SP tlog-proof@v1: an offline-verifiable proof that one entry is in the log, with
//! the (cosigned) checkpoint it is proven against. No I/O. Written by hand: the format is
//! a handful of lines and no Rust crate of the field writes it.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>          (optional; samizdat: the record's WARC-Record-ID)
//! index <N>
//! <base64 hash>...        (the inclusion proof, leaf's sibling first)
//!
//! <the checkpoint note, with its cosignature lines>
//! ```

use super::merkle::Hash;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most proof lines read (a tree of 2^63 leaves has 63).
const MAX_PATH: usize = 63;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub path: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl TlogProof {
    pub fn render(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(e) = &self.extra {
            s += &format!("extra {}\n", B64.encode(e));
        }
        s += &format!("index {}\n", self.index);
        for h in &self.path {
            s += &format!("{}\n", h.to_base64());
        }
        s.push('\n');
        s += &self.checkpoint;
        s
    }

    /// Parses a proof; the error says which line is wrong.
    pub fn parse(text: &str) -> Result<TlogProof, String> {
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or("no blank line before the checkpoint")?;
        let mut lines = head.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(format!("the first line is not {HEADER:?}"));
        }
        let mut line = lines.next().ok_or("no `index` line")?;
        let extra = match line.strip_prefix("extra ") {
            Some(e) => {
                let bytes = B64
                    .decode(e)
                    .map_err(|_| "the `extra` line is not base64".to_string())?;
                line = lines.next().ok_or("no `index` line")?;
                Some(bytes)
            }
            None => None,
        };
        let index = line
            .strip_prefix("index ")
            .filter(|n| !n.starts_with('0') || *n == "0")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| format!("bad index line {line:?}: want `index <N>`"))?;
        let mut path = vec![];
        for l in lines {
            if path.len() == MAX_PATH {
                return Err(format!("more than {MAX_PATH} proof hashes"));
            }
            path.push(
                Hash::from_base64(l)
                    .ok_or_else(|| format!("proof line {l:?} is not a base64 SHA-256 hash"))?,
            );
        }
        Ok(TlogProof {
            extra,
            index,
            path,
            checkpoint: checkpoint.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle;

    #[test]
    fn proofs_read_back_as_written_and_bad_lines_are_named() {
        let h = merkle::leaf_hash(b"x");
        let p = TlogProof {
            extra: Some(b"urn:uuid:1".to_vec()),
            index: 7,
            path: vec![h, merkle::empty_root()],
            checkpoint: "example.org\n8\nAAAA\n\n\u{2014} example.org abc\n".into(),
        };
        let text = p.render();
        assert!(
            text.starts_with("c2sp.org/tlog-proof@v1\nextra dXJuOnV1aWQ6MQ==\nindex 7\n"),
            "{text}"
        );
        assert_eq!(TlogProof::parse(&text).unwrap(), p);
        let bare = TlogProof {
            extra: None,
            index: 0,
            path: vec![],
            ..p.clone()
        };
        assert_eq!(TlogProof::parse(&bare.render()).unwrap(), bare);
        for (bad, why) in [
            (text.replace("index 7", "index 07"), "index"),
            (text.replace("index 7", "leaf 7"), "index"),
            (
                text.replacen("tlog-proof@v1", "tlog-proof@v2", 1),
                "first line",
            ),
            (text.replacen(&h.to_base64(), "zz", 1), "proof line"),
            (text.replace("\n\n", "\n"), "blank line"),
        ] {
            let e = TlogProof::parse(&bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
