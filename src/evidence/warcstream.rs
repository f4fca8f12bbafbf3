//! Checks a `.warc.gz` stream record by record without holding it: each record's leaf
//! hash, block digest and payload digest are computed as its bytes go by, and only the
//! blocks asked for (samizdat's own post and check records, which are small JSON) are
//! kept, up to a bound. For `verify-bundle`, over a member streamed out of a zip.

use crate::log::merkle::Hash;
use crate::store::warc::{self, Record, kind};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Read};

/// A WARC header is at most this long.
pub const MAX_HEADER: usize = 64 << 10;
/// A kept block (post or check JSON) is at most this long.
pub const MAX_KEPT_BLOCK: u64 = 16 << 20;
/// A kept screenshot (a bundle's `screenshot.png` is checked against it) at most this long.
pub const MAX_KEPT_SCREENSHOT: u64 = 256 << 20;

/// What one record is, as checked.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The record with its fields; `block` is filled only for kept records.
    pub rec: Record,
    pub kept: bool,
    pub leaf_hash: Hash,
    /// `sha256:<hex>` of the payload (the HTTP entity body of HTTP records).
    pub payload_sha256: String,
    /// What its digests say about its bytes (empty when they match).
    pub problems: Vec<String>,
}

/// Reads the next gzip member of `src` as one record. `Ok(None)` at the end of the stream.
/// `keep` decides from the fields whether the block is kept. An `Err` means the stream
/// cannot be read on from here.
pub fn next_record<R: BufRead>(
    src: &mut R,
    keep: impl Fn(&Record) -> bool,
) -> Result<Option<Checked>, String> {
    if src
        .fill_buf()
        .map_err(|e| format!("cannot be read: {e}"))?
        .is_empty()
    {
        return Ok(None);
    }
    let mut gz = std::io::BufReader::new(flate2::bufread::GzDecoder::new(&mut *src));
    let ioerr = |e: std::io::Error| format!("unreadable gzip member: {e}");
    // The header, up to CRLF CRLF.
    let mut head = vec![];
    loop {
        let before = head.len();
        (&mut gz)
            .take((MAX_HEADER + 1 - head.len()) as u64)
            .read_until(b'\n', &mut head)
            .map_err(ioerr)?;
        if before == 0 && !head.starts_with(b"WARC/1.") {
            return Err(format!(
                "not a WARC record (starts {:?})",
                String::from_utf8_lossy(&head[..head.len().min(20)])
            ));
        }
        if head.len() == before {
            return Err("record ends inside its WARC header".into());
        }
        if head.len() > MAX_HEADER {
            return Err(format!("WARC header longer than {MAX_HEADER} bytes"));
        }
        if head.ends_with(b"\r\n\r\n") {
            break;
        }
    }
    let text = std::str::from_utf8(&head[..head.len().saturating_sub(4)])
        .map_err(|_| "WARC header is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let version = lines.next().unwrap_or("");
    if !version.starts_with("WARC/1.") {
        return Err(format!(
            "not a WARC record (starts {:?})",
            version.chars().take(20).collect::<String>()
        ));
    }
    let mut fields = vec![];
    for line in lines {
        let (n, v) = line.split_once(':').ok_or_else(|| {
            format!(
                "bad WARC field line {:?}",
                line.chars().take(60).collect::<String>()
            )
        })?;
        fields.push((n.trim().to_string(), v.trim().to_string()));
    }
    let mut rec = Record {
        fields,
        block: vec![],
        spooled: None,
    };
    let len: u64 = rec
        .field("Content-Length")
        .ok_or("no Content-Length")?
        .parse()
        .map_err(|_| "bad Content-Length".to_string())?;
    let kept = keep(&rec);
    let max = if is_screenshot(&rec) {
        MAX_KEPT_SCREENSHOT
    } else {
        MAX_KEPT_BLOCK
    };
    if kept && len > max {
        return Err(format!(
            "record {}: a {} record of {len} bytes, more than the {max} allowed",
            rec.id(),
            rec.field("Content-Type").unwrap_or("")
        ));
    }
    let http = !matches!(
        rec.warc_type(),
        kind::WARCINFO | kind::METADATA | kind::REVISIT
    ) && rec
        .field("Content-Type")
        .unwrap_or("")
        .starts_with("application/http");
    let mut leaf = crate::log::entry::LeafHasher::new();
    leaf.update(&head);
    let mut block_h = Sha256::new();
    // For HTTP records, the payload starts after the first CRLF CRLF of the block; while
    // that is not found, `window` holds the block's last bytes.
    let mut payload_h: Option<Sha256> = if http { None } else { Some(Sha256::new()) };
    let mut window: u32 = 0;
    let mut left = len;
    let mut buf = vec![0u8; 64 << 10];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = gz.read(&mut buf[..want]).map_err(ioerr)?;
        if n == 0 {
            return Err(format!(
                "record {}: block shorter than its Content-Length {len}",
                rec.id()
            ));
        }
        let chunk = &buf[..n];
        left -= n as u64;
        leaf.update(chunk);
        block_h.update(chunk);
        if kept {
            rec.block.extend_from_slice(chunk);
        }
        match &mut payload_h {
            Some(p) => p.update(chunk),
            None => {
                for (i, b) in chunk.iter().enumerate() {
                    window = (window << 8) | u32::from(*b);
                    if window == 0x0d0a_0d0a {
                        let mut p = Sha256::new();
                        p.update(&chunk[i + 1..]);
                        payload_h = Some(p);
                        break;
                    }
                }
            }
        }
    }
    let mut tail = [0u8; 4];
    gz.read_exact(&mut tail).map_err(|_| {
        format!(
            "record {}: does not end with CRLF CRLF after its block",
            rec.id()
        )
    })?;
    if &tail != b"\r\n\r\n" {
        return Err(format!(
            "record {}: does not end with CRLF CRLF after its block",
            rec.id()
        ));
    }
    leaf.update(&tail);
    let mut extra = [0u8; 1];
    if gz.read(&mut extra).map_err(ioerr)? != 0 {
        return Err(format!(
            "record {}: stray bytes after the record in its gzip member",
            rec.id()
        ));
    }
    let block_sha = format!("sha256:{}", hex::encode(block_h.finalize()));
    let payload_sha = match payload_h {
        Some(p) => format!("sha256:{}", hex::encode(p.finalize())),
        // No end of HTTP headers: the payload is the whole block (as `Record::payload`).
        None => block_sha.clone(),
    };
    let mut problems = vec![];
    match rec.field("WARC-Block-Digest") {
        None => problems.push("no WARC-Block-Digest".into()),
        Some(d) if !d.eq_ignore_ascii_case(&block_sha) => {
            problems.push("block digest does not match the block".into())
        }
        _ => {}
    }
    if let Some(d) = rec.field("WARC-Payload-Digest")
        && rec.warc_type() != kind::REVISIT
        && !d.eq_ignore_ascii_case(&payload_sha)
    {
        problems.push("payload digest does not match the payload".into());
    }
    let leaf_hash = leaf.finalize();
    Ok(Some(Checked {
        rec,
        kept,
        leaf_hash,
        payload_sha256: payload_sha,
        problems,
    }))
}

/// Whether a record is one of samizdat's own (post, check, thread or custody), whose block is
/// kept.
pub fn is_samizdat_record(rec: &Record) -> bool {
    rec.warc_type() == kind::RESOURCE
        && matches!(
            rec.field("Content-Type"),
            Some(warc::mime::POST)
                | Some(warc::mime::CHECK)
                | Some(warc::mime::THREAD)
                | Some(warc::mime::CUSTODY)
                | Some(warc::mime::PROVENANCE)
        )
}

/// A render's screenshot record (`urn:samizdat:screenshot:<post id>`, docs/render.md).
pub fn is_screenshot(rec: &Record) -> bool {
    rec.warc_type() == kind::RESOURCE
        && rec
            .target_uri()
            .is_some_and(|t| t.starts_with("urn:samizdat:screenshot:"))
}

/// What `verify-bundle` keeps whole: samizdat's own records, and the screenshots the
/// bundle's stamped screenshot is checked against.
pub fn kept_by_bundle_check(rec: &Record) -> bool {
    is_samizdat_record(rec) || is_screenshot(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(rec: &Record) -> Vec<u8> {
        warc::gzip_member(&rec.to_bytes(), 6)
    }

    #[test]
    fn digests_and_leaf_hash_agree_with_the_in_memory_reader() {
        let resp = Record::build(
            kind::RESPONSE,
            "2026-01-01T00:00:00.000000Z",
            Some("https://example.org/"),
            "application/http; msgtype=response",
            vec![],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello".to_vec(),
        );
        let mut bytes = gz(&resp);
        bytes.extend(gz(&resp));
        let mut src = &bytes[..];
        for _ in 0..2 {
            let c = next_record(&mut src, is_samizdat_record).unwrap().unwrap();
            assert!(c.problems.is_empty(), "{:?}", c.problems);
            assert_eq!(c.leaf_hash, crate::log::entry::leaf_of(&resp.to_bytes()));
            assert_eq!(c.payload_sha256, warc::sha256_label(b"hello"));
        }
        assert!(next_record(&mut src, is_samizdat_record).unwrap().is_none());
    }

    #[test]
    fn a_huge_content_length_is_an_error_not_a_panic() {
        let raw = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 18446744073709551612\r\n\r\nabc\r\n\r\n";
        let bytes = warc::gzip_member(raw, 6);
        let mut src = &bytes[..];
        assert!(next_record(&mut src, is_samizdat_record).is_err());
    }
}
