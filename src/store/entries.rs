//! The log's entries as C2SP tlog-tiles entry bundles (`/log/tile/entries/<N>[.p/<W>]`):
//! each leaf's entry ([`crate::log::entry`]) read from its record, uint16 length-prefixed,
//! every one checked against the level-0 tile (itself checked against the signed
//! checkpoint) before the bundle is handed out.

use crate::error::{Error, Result};
use crate::log::entry::{self, LeafHasher};
use crate::log::merkle::leaf_hash;
use crate::store::files::WarcFiles;
use crate::store::index::RecordRow;
use std::io::Read;

/// Why a bundle cannot be served.
#[derive(Debug)]
pub enum Refused {
    /// A leaf is a record written before entries, too large to be an entry.
    TooLarge {
        leaf: u64,
        id: String,
    },
    Other(Error),
}

impl From<Error> for Refused {
    fn from(e: Error) -> Self {
        Refused::Other(e)
    }
}

/// The entry of one record: from its head and the index's block digest when that
/// reproduces the leaf (a large marked record is then not read past its head), else from
/// the whole record, streamed.
fn entry_of_row(files: &dyn WarcFiles, row: &RecordRow) -> std::result::Result<Vec<u8>, Refused> {
    let damaged = |m: String| {
        Refused::Other(Error::Warc {
            file: row.file.clone(),
            offset: row.offset,
            message: format!("{m}; run `samizdat verify`"),
        })
    };
    let open =
        || -> Result<flate2::read::GzDecoder<std::io::Take<Box<dyn std::io::BufRead + Send>>>> {
            Ok(flate2::read::GzDecoder::new(
                files.open(&row.file, row.offset)?.take(row.length),
            ))
        };
    let mut buf = vec![0u8; 64 << 10];
    // The head alone, for a large record with a SHA-256 block digest.
    if row.length > entry::ENTRY_MAX as u64
        && let Some(hex) = row
            .block_digest
            .as_deref()
            .and_then(|d| d.strip_prefix("sha256:"))
        && let Ok(Ok(digest)) = hex::decode(hex).map(<[u8; 32]>::try_from)
    {
        let mut gz = open()?;
        let mut head = vec![];
        while head.len() < (1 << 20) {
            let n = gz
                .read(&mut buf)
                .map_err(|e| damaged(format!("bad gzip member: {e}")))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                head.truncate(i + 4);
                let e = entry::entry_v1(&head, &digest);
                if leaf_hash(&e).0 == row.leaf_hash && entry::fits(&e) {
                    return Ok(e);
                }
                break;
            }
        }
    }
    let mut gz = open()?;
    let mut h = LeafHasher::new();
    loop {
        let n = gz
            .read(&mut buf)
            .map_err(|e| damaged(format!("bad gzip member: {e}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    h.entry().ok_or(Refused::TooLarge {
        leaf: row.leaf,
        id: row.id.clone(),
    })
}

/// The entry bundle of leaves `[start, start + tile.len() / 32)`: `rows` are their
/// records (leaf order), `tile` their checked level-0 hashes.
pub fn bundle(
    files: &dyn WarcFiles,
    rows: &[RecordRow],
    start: u64,
    tile: &[u8],
) -> std::result::Result<Vec<u8>, Refused> {
    let want = tile.len() / 32;
    if rows.len() != want
        || rows
            .iter()
            .enumerate()
            .any(|(i, r)| r.leaf != start + i as u64)
    {
        return Err(Refused::Other(Error::Damage(format!(
            "the index does not hold the records of leaves {start}..{}: run `samizdat reindex`",
            start + want as u64
        ))));
    }
    let mut out = vec![];
    for (i, row) in rows.iter().enumerate() {
        let e = entry_of_row(files, row)?;
        if leaf_hash(&e).0 != tile[i * 32..i * 32 + 32] {
            return Err(Refused::Other(Error::Damage(format!(
                "the record of leaf {} ({}) does not hash to the log's leaf: run `samizdat verify`",
                row.leaf, row.id
            ))));
        }
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(&e);
    }
    Ok(out)
}
