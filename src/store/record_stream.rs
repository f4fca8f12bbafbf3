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
use crate::store::archive::layout;
use crate::store::index::RecordRow;
use crate::store::warc::{Record, find_header_end, kind};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
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
                    self.head.fields =
                        parse_fields(&self.buf[..end - 4]).map_err(|m| self.bad(m))?;
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

/// `Name: value` lines after the `WARC/1.x` version line.
fn parse_fields(head: &[u8]) -> std::result::Result<Vec<(String, String)>, String> {
    let head = std::str::from_utf8(head).map_err(|_| "WARC header is not UTF-8".to_string())?;
    let mut lines = head.split("\r\n");
    let version = lines.next().unwrap_or("");
    if !version.starts_with("WARC/1.") {
        return Err("not a WARC record (no WARC/1.x version line)".into());
    }
    lines
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| "bad WARC field line".to_string())
        })
        .collect()
}

/// Streams the record `row` of the archive at `root`: its compressed member goes to
/// `raw_out` byte for byte, its head and payload to `sink`; the inflated record must
/// match the index's leaf hash.
pub fn stream_record(
    root: &Path,
    row: &RecordRow,
    raw_out: &mut dyn Write,
    sink: &mut dyn RecordSink,
) -> Result<()> {
    let p = root.join(layout::WARC_DIR).join(&row.file);
    let damaged = |m: String| Error::Warc {
        file: row.file.clone(),
        offset: row.offset,
        message: format!("{m}; run `samizdat verify`"),
    };
    let mut f = std::fs::File::open(&p).at(&p)?;
    f.seek(SeekFrom::Start(row.offset)).at(&p)?;
    let mut tee = Tee {
        inner: f.take(row.length),
        out: raw_out,
        n: 0,
    };
    let mut hash = Sha256::new();
    hash.update([0u8]);
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
        what: format!("{} at {}", p.display(), row.offset),
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
    std::io::copy(&mut tee, &mut std::io::sink()).at(&p)?;
    if tee.n != row.length {
        return Err(damaged(format!(
            "the file ends {} bytes into a member of {} bytes",
            tee.n, row.length
        )));
    }
    parser.finish().map_err(|e| damaged(e.to_string()))?;
    if <[u8; 32]>::from(hash.finalize()) != row.leaf_hash {
        return Err(damaged(format!(
            "record {} does not match its leaf hash: the archive is damaged",
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
