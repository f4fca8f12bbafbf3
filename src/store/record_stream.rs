//! One stored record read in bounded chunks, for exports and raw bodies.
//!
//! The record's gzip member is read from its WARC file [`CHUNK`] bytes at a time: the
//! compressed bytes are copied out as they are read (into a bundle or a WACZ), the
//! inflated record is hashed against the index's leaf hash, and the record's head (WARC
//! fields, the HTTP header block of `application/http` records) and then its payload are
//! handed to a [`RecordSink`] piece by piece. Memory stays at a few buffers whatever the
//! size of the record; a record that does not match its leaf hash is an error at the end
//! (whatever was written out by then must be thrown away by the caller).

use crate::error::{Error, IoContext, Result};
use crate::store::files::WarcFiles;
use crate::store::index::RecordRow;
use crate::store::warc::{Record, find_header_end, kind, parse_head};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// Bytes read (and inflated) at a time.
pub const CHUNK: usize = 64 * 1024;

/// Longest WARC header, and longest HTTP header block, read before a payload.
pub const MAX_HEAD: usize = 1 << 20;

/// Where the parts of a streamed record go.
pub trait RecordSink {
    /// The record's WARC fields, with `block` holding only the HTTP header block for
    /// `application/http` records (empty for others). Called once, before any payload.
    fn head(&mut self, _head: &Record) -> Result<()> {
        Ok(())
    }
    /// The next piece of the payload (what [`Record::payload`] would return).
    fn payload(&mut self, _chunk: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// A sink that wants nothing but the checks.
pub struct NoSink;
impl RecordSink for NoSink {}

/// Copies what is read through it to `out`.
struct Tee<'a, R> {
    inner: R,
    out: &'a mut dyn Write,
    n: u64,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        self.n += n as u64;
        Ok(n)
    }
}

/// The record parser's position.
enum Phase {
    /// Gathering the WARC header (up to CRLF CRLF).
    WarcHead,
    /// Gathering the HTTP header block at the start of the block.
    HttpHead,
    /// In the payload.
    Payload,
    /// Past the block: the closing CRLF CRLF.
    Trailer,
}

struct Parser<'a> {
    sink: &'a mut dyn RecordSink,
    phase: Phase,
    buf: Vec<u8>,
    head: Record,
    block_len: u64,
    /// Block bytes seen so far.
    block_seen: u64,
    trailer: Vec<u8>,
    what: String,
    /// SHA-256 of the block, for its `WARC-Block-Digest`.
    block_hash: Sha256,
}

impl Parser<'_> {
    fn bad(&self, m: impl std::fmt::Display) -> Error {
        Error::Archive {
            path: self.what.clone().into(),
            message: m.to_string(),
        }
    }

    fn feed(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            match self.phase {
                Phase::WarcHead => {
                    let from = self.buf.len().saturating_sub(3);
                    self.buf.extend_from_slice(data);
                    data = &[];
                    let Some(end) = find_header_end(&self.buf[from..]).map(|e| e + from) else {
                        if self.buf.len() > MAX_HEAD {
                            return Err(self.bad(format!(
                                "no end of the WARC header in its first {MAX_HEAD} bytes"
                            )));
                        }
                        continue;
                    };
                    let rest = self.buf.split_off(end);
                    self.head.fields = parse_head(&self.buf[..end - 4]).map_err(|m| self.bad(m))?;
                    self.buf.clear();
                    self.block_len = self
                        .head
                        .field("Content-Length")
                        .ok_or_else(|| self.bad("no Content-Length"))?
                        .parse()
                        .map_err(|_| self.bad("bad Content-Length"))?;
                    let http = self
                        .head
                        .field("Content-Type")
                        .is_some_and(|c| c.starts_with("application/http"))
                        && !matches!(
                            self.head.warc_type(),
                            kind::WARCINFO | kind::METADATA | kind::REVISIT
                        );
                    if http {
                        self.phase = Phase::HttpHead;
                    } else {
                        self.sink.head(&self.head)?;
                        self.phase = Phase::Payload;
                    }
                    self.feed(&rest)?;
                }
                Phase::HttpHead | Phase::Payload => {
                    let left = self.block_len - self.block_seen;
                    let take = (data.len() as u64).min(left) as usize;
                    let (mine, rest) = data.split_at(take);
                    data = rest;
                    self.block_seen += take as u64;
                    self.block_hash.update(mine);
                    if matches!(self.phase, Phase::Payload) {
                        self.sink.payload(mine)?;
                    } else {
                        let from = self.buf.len().saturating_sub(3);
                        self.buf.extend_from_slice(mine);
                        if let Some(end) = find_header_end(&self.buf[from..]).map(|e| e + from) {
                            let body = self.buf.split_off(end);
                            self.head.block = std::mem::take(&mut self.buf);
                            self.sink.head(&self.head)?;
                            self.phase = Phase::Payload;
                            self.sink.payload(&body)?;
                        } else if self.buf.len() > MAX_HEAD {
                            return Err(self.bad(format!(
                                "no end of the HTTP header in the first {MAX_HEAD} bytes of the block"
                            )));
                        }
                    }
                    if self.block_seen == self.block_len {
                        self.end_block()?;
                        self.phase = Phase::Trailer;
                    }
                }
                Phase::Trailer => {
                    if self.trailer.len() + data.len() > 4 {
                        return Err(self.bad("stray bytes after the record in its gzip member"));
                    }
                    self.trailer.extend_from_slice(data);
                    data = &[];
                }
            }
        }
        Ok(())
    }

    /// The block is complete: an HTTP block without a header end is all payload (as
    /// [`Record::payload`] has it).
    fn end_block(&mut self) -> Result<()> {
        if matches!(self.phase, Phase::HttpHead) {
            let body = std::mem::take(&mut self.buf);
            self.sink.head(&self.head)?;
            self.sink.payload(&body)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        match self.phase {
            Phase::WarcHead => Err(self.bad("no end of the WARC header")),
            Phase::HttpHead | Phase::Payload if self.block_len > self.block_seen => {
                Err(self.bad(format!(
                    "block shorter than Content-Length ({} < {})",
                    self.block_seen, self.block_len
                )))
            }
            Phase::HttpHead | Phase::Payload => {
                // An empty block: the head was never passed on.
                self.end_block()?;
                Err(self.bad("record does not end with CRLF CRLF after its block"))
            }
            Phase::Trailer if self.trailer != b"\r\n\r\n" => {
                Err(self.bad("record does not end with CRLF CRLF after its block"))
            }
            Phase::Trailer => Ok(()),
        }
    }
}

/// Streams the record `row` of the archive at `root` ([`stream_record_from`] over its
/// `warc/` folder).
pub fn stream_record(
    root: &Path,
    row: &RecordRow,
    raw_out: &mut dyn Write,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    stream_record_from(&crate::store::archive::warc_store(root), row, raw_out, sink)
}

/// Reads the record `row` from `files`, the one way a stored record is read by id: its
/// compressed member goes to `raw_out` byte for byte, its head and payload to `sink`;
/// the block must match the record's `WARC-Block-Digest` and the inflated record the
/// index's leaf hash, or the read fails at the end (whatever was written out by then is
/// to be thrown away by the caller).
pub fn stream_record_from(
    files: &dyn WarcFiles,
    row: &RecordRow,
    raw_out: &mut dyn Write,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    let damaged = |m: String| Error::Warc {
        file: row.file.clone(),
        offset: row.offset,
        message: format!("{m}; run `samizdat verify`"),
    };
    let described = files.describe(&row.file);
    let f = files.open(&row.file, row.offset)?;
    let mut tee = Tee {
        inner: f.take(row.length),
        out: raw_out,
        n: 0,
    };
    let mut hash = crate::log::entry::LeafHasher::new();
    let mut parser = Parser {
        sink,
        phase: Phase::WarcHead,
        buf: vec![],
        head: Record {
            fields: vec![],
            block: vec![],
            spooled: None,
        },
        block_len: 0,
        block_seen: 0,
        trailer: vec![],
        what: format!("{described} at {}", row.offset),
        block_hash: Sha256::new(),
    };
    {
        let mut gz = flate2::bufread::GzDecoder::new(BufReader::with_capacity(CHUNK, &mut tee));
        let mut chunk = vec![0u8; CHUNK];
        loop {
            let n = match gz.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(damaged(format!("bad gzip member: {e}"))),
            };
            hash.update(&chunk[..n]);
            parser.feed(&chunk[..n])?;
        }
    }
    // Whatever of the member the decoder did not need is copied too.
    std::io::copy(&mut tee, &mut std::io::sink()).at(&described)?;
    if tee.n != row.length {
        return Err(damaged(format!(
            "the file ends {} bytes into a member of {} bytes",
            tee.n, row.length
        )));
    }
    let block_digest = crate::store::warc::sha256_hex_label(parser.block_hash.clone().finalize());
    let declared = parser.head.field("WARC-Block-Digest").map(str::to_string);
    parser.finish().map_err(|e| damaged(e.to_string()))?;
    if hash.finalize().0 != row.leaf_hash {
        return Err(damaged(format!(
            "record {} does not match its leaf hash: the archive is damaged",
            row.id
        )));
    }
    // Only SHA-256 digests are ours to check (a record from elsewhere may carry another).
    if let Some(d) = declared.filter(|d| d.starts_with("sha256:"))
        && !d.eq_ignore_ascii_case(&block_digest)
    {
        return Err(damaged(format!(
            "record {}: its block does not match its WARC-Block-Digest",
            row.id
        )));
    }
    Ok(())
}

/// Hashes the payload (SHA-256).
#[derive(Default)]
pub struct PayloadSha256(pub Sha256);

impl RecordSink for PayloadSha256 {
    fn payload(&mut self, chunk: &[u8]) -> Result<()> {
        self.0.update(chunk);
        Ok(())
    }
}

/// Writes the payload to a writer.
pub struct PayloadTo<'a, W: Write>(pub &'a mut W, pub &'a Path);

impl<W: Write> RecordSink for PayloadTo<'_, W> {
    fn payload(&mut self, chunk: &[u8]) -> Result<()> {
        self.0.write_all(chunk).at(self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::archive::{Archive, layout};
    use crate::store::index::Index;

    fn stored(rec: Record) -> (tempfile::TempDir, std::path::PathBuf, RecordRow) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ar");
        let mut a = Archive::open(&root, Config::default()).unwrap();
        let id = rec.id().to_string();
        a.append(vec![rec]).unwrap();
        drop(a);
        let row = Index::open(&root.join(layout::INDEX), false)
            .unwrap()
            .record_by_id(&id)
            .unwrap()
            .unwrap();
        (dir, root, row)
    }

    fn resource(body: &[u8]) -> Record {
        Record::build(
            kind::RESOURCE,
            "2026-01-01T00:00:00Z",
            Some("urn:test:1"),
            "text/plain",
            vec![],
            body.to_vec(),
        )
    }

    #[derive(Default)]
    struct Collect(Vec<u8>, Option<String>);
    impl RecordSink for Collect {
        fn head(&mut self, head: &Record) -> Result<()> {
            self.1 = Some(head.id().to_string());
            Ok(())
        }
        fn payload(&mut self, chunk: &[u8]) -> Result<()> {
            self.0.extend_from_slice(chunk);
            Ok(())
        }
    }

    #[test]
    fn a_record_is_read_whole_with_its_member_copied() {
        let (_d, root, row) = stored(resource(b"hello, record"));
        let mut raw = vec![];
        let mut got = Collect::default();
        stream_record(&root, &row, &mut raw, &mut got).unwrap();
        assert_eq!(got.0, b"hello, record");
        assert_eq!(got.1.as_deref(), Some(row.id.as_str()));
        assert_eq!(
            raw.len() as u64,
            row.length,
            "the gzip member, byte for byte"
        );
    }

    #[test]
    fn a_block_that_does_not_match_its_digest_is_refused() {
        let mut rec = resource(b"the real words");
        // A digest of other words: the leaf hash (over the bytes as written) still
        // matches, only the block digest can tell.
        for (n, v) in rec.fields.iter_mut() {
            if n == "WARC-Block-Digest" {
                *v = crate::store::warc::sha256_label(b"other words");
            }
        }
        let (_d, root, row) = stored(rec);
        let e = stream_record(&root, &row, &mut std::io::sink(), &mut NoSink).unwrap_err();
        assert!(e.to_string().contains("WARC-Block-Digest"), "{e}");
    }

    #[test]
    fn a_record_that_does_not_match_its_leaf_hash_is_refused() {
        let (_d, root, mut row) = stored(resource(b"words"));
        row.leaf_hash[0] ^= 1;
        let e = stream_record(&root, &row, &mut std::io::sink(), &mut NoSink).unwrap_err();
        assert!(e.to_string().contains("leaf hash"), "{e}");
    }
}
