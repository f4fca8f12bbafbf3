//! WARC 1.1 records: building, serialising as one gzip member each, and reading back.
//!
//! Written by hand on flate2 rather than with the `warc` crate: that crate keeps fields
//! in a HashMap (order lost), wraps a whole file in one gzip stream (no per-record
//! offsets) and writes WARC/1.0. What we need is small: ordered
//! fields, `sha256:` digests, one member per record, and a reader that reports each
//! member's compressed offset and length.

use super::spool::{Spool, StreamedBlock};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Read, Write};

/// The `WARC-Type`s samizdat writes.
pub mod kind {
    pub const WARCINFO: &str = "warcinfo";
    pub const REQUEST: &str = "request";
    pub const RESPONSE: &str = "response";
    pub const RESOURCE: &str = "resource";
    pub const METADATA: &str = "metadata";
    pub const REVISIT: &str = "revisit";
}

/// Our own record types, carried as `resource` records.
pub mod mime {
    pub const POST: &str = "application/vnd.samizdat.post+json";
    pub const CHECK: &str = "application/vnd.samizdat.check+json";
    pub const WATCH: &str = "application/vnd.samizdat.watch+json";
    pub const THREAD: &str = "application/vnd.samizdat.thread+json";
    pub const PROVENANCE: &str = "application/vnd.samizdat.provenance+json";
    pub const CUSTODY: &str = "application/vnd.samizdat.custody+json";
    pub const ALERT: &str = "application/vnd.samizdat.alert+json";
    pub const HTTP_REQUEST: &str = "application/http; msgtype=request";
    pub const HTTP_RESPONSE: &str = "application/http; msgtype=response";
    pub const WARC_FIELDS: &str = "application/warc-fields";
}

/// `sha256:<64 lowercase hex>`, the label form warcio and the IIPC recommend.
pub fn sha256_label(bytes: &[u8]) -> String {
    sha256_hex_label(Sha256::digest(bytes))
}

/// `sha256:<hex>` of a finished SHA-256 (what [`sha256_label`] writes).
pub fn sha256_hex_label(digest: impl AsRef<[u8]>) -> String {
    format!("sha256:{}", hex::encode(digest))
}

/// A new `<urn:uuid:…>` record id.
pub fn new_record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

/// WARC-Date form: UTC with microseconds, e.g. `2026-11-25T20:03:55.772434Z`.
pub fn warc_date(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

/// One WARC record: named fields in order (without the version line) and the block.
///
/// A record built from a streamed body ([`Record::build_streamed`]) keeps only the HTTP
/// header block in `block`; the payload that follows it is in `spooled` (a temporary
/// file past a megabyte), and is written out by [`Record::write_to`] without ever being
/// held in memory whole. Records read back from a file are always in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub fields: Vec<(String, String)>,
    pub block: Vec<u8>,
    /// The rest of the block, after `block`, when it was streamed to a spool.
    pub spooled: Option<std::sync::Arc<Spool>>,
}

/// The fields every record written here starts with, in this order: type, a new id, date,
/// target URI, the caller's fields, Content-Type (digests and length follow).
fn head_fields(
    warc_type: &str,
    date: &str,
    target_uri: Option<&str>,
    content_type: &str,
    fields: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = Vec::with_capacity(fields.len() + 8);
    f.push(("WARC-Type".into(), warc_type.into()));
    f.push(("WARC-Record-ID".into(), new_record_id()));
    f.push(("WARC-Date".into(), date.into()));
    if let Some(t) = target_uri {
        f.push(("WARC-Target-URI".into(), t.into()));
    }
    f.extend(fields);
    f.push(("Content-Type".into(), content_type.into()));
    f
}

impl Record {
    /// A record of `warc_type` with id, date and digests filled in. The payload digest is
    /// written for record types that have a payload (see [`Record::payload_offset`]):
    /// the entity body of `application/http` blocks, the whole block otherwise. `fields`
    /// go between WARC-Target-URI and Content-Type.
    pub fn build(
        warc_type: &str,
        date: &str,
        target_uri: Option<&str>,
        content_type: &str,
        fields: Vec<(String, String)>,
        block: Vec<u8>,
    ) -> Record {
        let mut f = head_fields(warc_type, date, target_uri, content_type, fields);
        f.push(("WARC-Block-Digest".into(), sha256_label(&block)));
        let mut rec = Record {
            fields: f,
            block,
            spooled: None,
        };
        if let Some(at) = rec.payload_offset() {
            let d = sha256_label(&rec.block[at..]);
            rec.fields.push(("WARC-Payload-Digest".into(), d));
        }
        let len = rec.block.len().to_string();
        rec.fields.push(("Content-Length".into(), len));
        rec
    }

    /// Like [`Record::build`] for an `application/http` block whose body was streamed:
    /// the digests were computed on the way in, the body stays where it was spooled.
    pub fn build_streamed(
        warc_type: &str,
        date: &str,
        target_uri: Option<&str>,
        content_type: &str,
        fields: Vec<(String, String)>,
        block: StreamedBlock,
    ) -> Record {
        let (head, body, block_digest, payload_digest) = block.finish();
        let mut f = head_fields(warc_type, date, target_uri, content_type, fields);
        f.push(("WARC-Block-Digest".into(), block_digest));
        f.push(("WARC-Payload-Digest".into(), payload_digest));
        let len = (head.len() as u64).saturating_add(body.len());
        f.push(("Content-Length".into(), len.to_string()));
        Record {
            fields: f,
            block: head,
            spooled: Some(std::sync::Arc::new(body)),
        }
    }

    /// The block's length, spooled part included.
    pub fn block_len(&self) -> u64 {
        (self.block.len() as u64).saturating_add(self.spooled.as_ref().map_or(0, |s| s.len()))
    }

    /// The payload's length, spooled part included.
    pub fn payload_len(&self) -> u64 {
        (self.payload().len() as u64).saturating_add(self.spooled.as_ref().map_or(0, |s| s.len()))
    }

    /// A reader over the payload, spooled part included.
    pub fn payload_reader(&self) -> Box<dyn Read + '_> {
        let head = std::io::Cursor::new(self.payload());
        match &self.spooled {
            Some(s) => Box::new(head.chain(s.reader())),
            None => Box::new(head),
        }
    }

    /// First value of a field (names are case-insensitive).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a field (WARC-Concurrent-To may repeat).
    pub fn fields_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn id(&self) -> &str {
        self.field("WARC-Record-ID").unwrap_or("")
    }
    pub fn warc_type(&self) -> &str {
        self.field("WARC-Type").unwrap_or("")
    }
    pub fn target_uri(&self) -> Option<&str> {
        self.field("WARC-Target-URI")
    }
    pub fn date(&self) -> &str {
        self.field("WARC-Date").unwrap_or("")
    }

    /// Adds a field just before Content-Type.
    pub fn insert_field(&mut self, name: &str, value: &str) {
        let at = self
            .fields
            .iter()
            .position(|(n, _)| n == "Content-Type")
            .unwrap_or(self.fields.len());
        self.fields.insert(at, (name.into(), value.into()));
    }

    /// Sets the first field of that name (exact spelling) to `value`, or adds it just
    /// before Content-Type when there is none (used for WARC-Warcinfo-ID, which names
    /// the warcinfo of the file the record goes into).
    pub fn set_field(&mut self, name: &str, value: &str) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.into(),
            None => self.insert_field(name, value),
        }
    }

    /// Whether the whole block is in memory (a streamed body that stayed under
    /// [`super::spool::SPILL_AT`] is): such a record can be encoded in one piece.
    pub fn in_memory(&self) -> bool {
        self.spooled.as_ref().is_none_or(|s| !s.on_disk())
    }

    /// The record's bytes from `WARC/1.1` through the final CRLF CRLF: the log's leaf input.
    /// Holds the whole record in memory: streamed records go through [`Record::write_to`].
    pub fn to_bytes(&self) -> Vec<u8> {
        // One allocation of the right size: the head is rarely over a kilobyte.
        let block = usize::try_from(self.block_len()).unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(block.saturating_add(1024));
        self.head_into(&mut out);
        out.extend_from_slice(&self.block);
        if let Some(s) = &self.spooled {
            match s.in_memory() {
                Some(b) => out.extend_from_slice(b),
                None => {
                    std::io::copy(&mut s.reader(), &mut out)
                        .expect("writing to a Vec fails only if a spool cannot be read");
                }
            }
        }
        out.extend_from_slice(b"\r\n\r\n");
        out
    }

    /// Writes the record's bytes (see [`Record::to_bytes`]), streaming a spooled block.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut head = Vec::with_capacity(1024);
        self.head_into(&mut head);
        out.write_all(&head)?;
        out.write_all(&self.block)?;
        if let Some(s) = &self.spooled {
            std::io::copy(&mut s.reader(), out)?;
        }
        out.write_all(b"\r\n\r\n")
    }

    /// The length of the record as written (head, block, the closing CRLF CRLF).
    pub fn written_len(&self) -> u64 {
        let mut head = Vec::with_capacity(1024);
        self.head_into(&mut head);
        (head.len() as u64 + 4).saturating_add(self.block_len())
    }

    /// `WARC/1.1`, the fields and the empty line: everything before the block.
    fn head_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"WARC/1.1\r\n");
        for (n, v) in &self.fields {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            // A CR or LF in a value would end the field early: never write one.
            let at = out.len();
            out.extend_from_slice(v.as_bytes());
            for b in &mut out[at..] {
                if *b == b'\r' || *b == b'\n' {
                    *b = b' ';
                }
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Where the payload starts in the block: after the HTTP header block for
    /// `application/http` records, 0 for other records that have a payload.
    pub fn payload_offset(&self) -> Option<usize> {
        match self.warc_type() {
            kind::WARCINFO | kind::METADATA | kind::REVISIT => None,
            _ => {
                let ct = self.field("Content-Type").unwrap_or("");
                if self.spooled.is_some() {
                    // A streamed block holds the HTTP header block only.
                    Some(self.block.len())
                } else if ct.starts_with("application/http") {
                    find_header_end(&self.block)
                } else {
                    Some(0)
                }
            }
        }
    }

    /// The payload bytes (the HTTP entity body for HTTP records) held in memory: none of
    /// a streamed record's (see [`Record::payload_reader`]).
    pub fn payload(&self) -> &[u8] {
        match self.payload_offset() {
            Some(at) => &self.block[at..],
            None => &self.block,
        }
    }
}

/// The WARC 1.1 profile of a revisit whose payload equals an earlier response's.
pub const REVISIT_IDENTICAL: &str =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// A `revisit` record in place of a response whose payload equals an earlier one's: same
/// record id, date, target and payload digest; the block keeps the HTTP headers only.
pub fn to_revisit(resp: &Record, refers_to: &str, refers_uri: &str, refers_date: &str) -> Record {
    let head_end = find_header_end(&resp.block).unwrap_or(resp.block.len());
    let block = resp.block[..head_end].to_vec();
    let mut fields: Vec<(String, String)> = vec![];
    for (n, v) in &resp.fields {
        match n.as_str() {
            "WARC-Type" => fields.push((n.clone(), kind::REVISIT.into())),
            "Content-Type" => {
                fields.push(("WARC-Profile".into(), REVISIT_IDENTICAL.into()));
                fields.push(("WARC-Refers-To".into(), refers_to.into()));
                fields.push(("WARC-Refers-To-Target-URI".into(), refers_uri.into()));
                fields.push(("WARC-Refers-To-Date".into(), refers_date.into()));
                fields.push((n.clone(), v.clone()));
            }
            "WARC-Block-Digest" => fields.push((n.clone(), sha256_label(&block))),
            "Content-Length" => fields.push((n.clone(), block.len().to_string())),
            "WARC-Truncated" => {}
            _ => fields.push((n.clone(), v.clone())),
        }
    }
    Record {
        fields,
        block,
        spooled: None,
    }
}

/// The index just past the first CRLF CRLF (end of an HTTP header block).
pub fn find_header_end(block: &[u8]) -> Option<usize> {
    block
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// Compresses one record as its own gzip member (WARC Annex D).
///
/// Written on flate2's raw `Compress` rather than `GzEncoder` so one compressor per
/// thread is reset and reused: a fresh encoder allocates and zeroes its window for every
/// record, which was a fifth of the writer's time on small records.
pub fn gzip_member(bytes: &[u8], level: u32) -> Vec<u8> {
    use std::cell::RefCell;
    thread_local! {
        static DEFLATE: RefCell<Option<(u32, flate2::Compress)>> = const { RefCell::new(None) };
    }
    // Room for the header, the trailer and the 1 KiB of slack the loop below keeps: a
    // small record's member needs no second allocation.
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1024 + 64);
    // RFC 1952 header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match &mut *slot {
            Some((l, c)) if *l == level => {
                c.reset();
                c
            }
            _ => {
                *slot = Some((
                    level,
                    flate2::Compress::new(flate2::Compression::new(level), false),
                ));
                &mut slot.as_mut().expect("just set").1
            }
        };
        let mut input = bytes;
        loop {
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity().max(4096));
            }
            let before_in = c.total_in();
            let status = c
                .compress_vec(input, &mut out, flate2::FlushCompress::Finish)
                .expect("deflate of an in-memory buffer cannot fail");
            input = &input[(c.total_in() - before_in) as usize..];
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
    });
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

/// Writes one record as its own gzip member to `out`, streaming (a spooled block is
/// never held whole), and shows every uncompressed byte to `seen` on the way (the
/// leaf hash). Returns the member's compressed length. The bytes are those of
/// [`gzip_member`] for the same record and level, give or take the deflate blocks.
pub fn write_gzip_member(
    rec: &Record,
    level: u32,
    out: &mut dyn Write,
    seen: &mut dyn FnMut(&[u8]),
) -> std::io::Result<u64> {
    struct Counting<'a> {
        inner: &'a mut dyn Write,
        n: u64,
    }
    impl Write for Counting<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let k = self.inner.write(buf)?;
            self.n += k as u64;
            Ok(k)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    struct Tee<'a, W: Write> {
        enc: flate2::write::DeflateEncoder<W>,
        crc: flate2::Crc,
        seen: &'a mut dyn FnMut(&[u8]),
    }
    impl<W: Write> Write for Tee<'_, W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let k = self.enc.write(buf)?;
            self.crc.update(&buf[..k]);
            (self.seen)(&buf[..k]);
            Ok(k)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.enc.flush()
        }
    }
    let mut counted = Counting { inner: out, n: 0 };
    // RFC 1952 header, as in `gzip_member`.
    counted.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
    let mut tee = Tee {
        enc: flate2::write::DeflateEncoder::new(&mut counted, flate2::Compression::new(level)),
        crc: flate2::Crc::new(),
        seen,
    };
    rec.write_to(&mut tee)?;
    let Tee { enc, crc, .. } = tee;
    let counted = enc.finish()?;
    counted.write_all(&crc.sum().to_le_bytes())?;
    // ISIZE is the length modulo 2^32 (RFC 1952).
    counted.write_all(&crc.amount().to_le_bytes())?;
    Ok(counted.n)
}

/// The fields of a WARC header: the `WARC/1.x` version line, then `Name: value` lines
/// (`head` without the CRLF CRLF that ends it). The one reading of a WARC header: whole
/// records ([`parse_record`]) and streamed ones (`store::record_stream`) both use it.
pub fn parse_head(head: &[u8]) -> Result<Vec<(String, String)>, String> {
    let head = std::str::from_utf8(head).map_err(|_| "WARC header is not UTF-8".to_string())?;
    let mut lines = head.split("\r\n");
    let version = lines.next().unwrap_or("");
    if !version.starts_with("WARC/1.") {
        return Err(format!(
            "not a WARC record (starts {:?})",
            truncate(version, 20)
        ));
    }
    let mut fields = vec![];
    for line in lines {
        let (n, v) = line
            .split_once(':')
            .ok_or_else(|| format!("bad WARC field line {:?}", truncate(line, 60)))?;
        fields.push((n.trim().to_string(), v.trim().to_string()));
    }
    Ok(fields)
}

/// Parses one uncompressed record (`WARC/1.x` … block … CRLF CRLF).
pub fn parse_record(bytes: &[u8]) -> Result<Record, String> {
    let head_end = find_header_end(bytes).ok_or("no end of WARC header (CRLF CRLF)")?;
    let fields = parse_head(&bytes[..head_end - 4])?;
    let rec = Record {
        fields,
        block: vec![],
        spooled: None,
    };
    let declared = rec.field("Content-Length").ok_or("no Content-Length")?;
    let len: u64 = declared
        .parse()
        .map_err(|_| format!("bad Content-Length {:?}", truncate(declared, 30)))?;
    let rest = &bytes[head_end..];
    // Checked: the length is the record's own claim (up to u64::MAX), never trusted.
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| l.checked_add(4))
        .filter(|e| *e <= rest.len())
        .ok_or_else(|| {
            format!(
                "block shorter than Content-Length ({} < {len})",
                rest.len().saturating_sub(4)
            )
        })?;
    let len = end - 4;
    if &rest[len..end] != b"\r\n\r\n" {
        return Err("record does not end with CRLF CRLF after its block".into());
    }
    if rest.len() != end {
        return Err(format!(
            "{} stray bytes after the record in one gzip member",
            rest.len() - end
        ));
    }
    Ok(Record {
        fields: rec.fields,
        block: rest[..len].to_vec(),
        spooled: None,
    })
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// What a stored record's digests say about its bytes.
pub fn digest_problems(rec: &Record) -> Vec<String> {
    let mut out = vec![];
    match rec.field("WARC-Block-Digest") {
        None => out.push("no WARC-Block-Digest".into()),
        Some(d) => {
            if !d.eq_ignore_ascii_case(&sha256_label(&rec.block)) {
                out.push("block digest does not match the block".into());
            }
        }
    }
    if let Some(d) = rec.field("WARC-Payload-Digest")
        && rec.warc_type() != kind::REVISIT
        && !d.eq_ignore_ascii_case(&sha256_label(rec.payload()))
    {
        out.push("payload digest does not match the payload".into());
    }
    match rec.field("Content-Length").map(str::parse::<usize>) {
        Some(Ok(n)) if n == rec.block.len() => {}
        _ => out.push("Content-Length does not match the block".into()),
    }
    out
}

/// One gzip member as found in a file.
#[derive(Debug)]
pub struct Member {
    /// Byte offset of the member in the file.
    pub offset: u64,
    /// Compressed length.
    pub length: u64,
    /// The inflated bytes: one record.
    pub bytes: Vec<u8>,
}

/// Why reading stopped early.
#[derive(Debug)]
pub struct ReadError {
    pub offset: u64,
    pub message: String,
    /// The bad bytes run to the end of the file (a torn tail, if nothing knows of them).
    pub at_end: bool,
}

/// Counts bytes consumed from an inner BufRead, so member boundaries are known.
struct Counting<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt)
    }
}

/// Reads a `.warc.gz` file member by member, starting at `start`.
pub struct MemberReader<R: BufRead> {
    src: Counting<R>,
    len: u64,
    /// Largest inflated record accepted (guards against a bomb planted in the archive).
    max_record: u64,
    done: bool,
}

impl<R: BufRead> MemberReader<R> {
    /// Reads members from `src`, which is positioned at byte `start` of a file of `len`
    /// bytes.
    pub fn new(src: R, start: u64, len: u64) -> Self {
        MemberReader {
            src: Counting {
                inner: src,
                pos: start,
            },
            len,
            max_record: 8 << 30,
            done: false,
        }
    }
}

impl<R: BufRead> MemberReader<R> {
    /// Lowers the largest inflated record accepted (the default is 8 GiB).
    pub fn with_max_record(mut self, max: u64) -> Self {
        self.max_record = max;
        self
    }
}

impl MemberReader<std::io::BufReader<std::fs::File>> {
    pub fn open(path: &std::path::Path, start: u64) -> std::io::Result<Self> {
        use std::io::Seek;
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        f.seek(std::io::SeekFrom::Start(start))?;
        Ok(MemberReader {
            src: Counting {
                inner: std::io::BufReader::with_capacity(256 * 1024, f),
                pos: start,
            },
            len,
            max_record: 8 << 30,
            done: false,
        })
    }
}

impl<R: BufRead> Iterator for MemberReader<R> {
    type Item = Result<Member, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let offset = self.src.pos;
        match self.src.fill_buf() {
            Ok([]) => {
                self.done = true;
                return None;
            }
            Ok(_) => {}
            Err(e) => {
                self.done = true;
                return Some(Err(ReadError {
                    offset,
                    message: e.to_string(),
                    at_end: false,
                }));
            }
        }
        let mut bytes = Vec::new();
        let res = {
            let mut dec = flate2::bufread::GzDecoder::new(&mut self.src);
            (&mut dec).take(self.max_record + 1).read_to_end(&mut bytes)
        };
        match res {
            Ok(_) if bytes.len() as u64 > self.max_record => {
                self.done = true;
                Some(Err(ReadError {
                    offset,
                    message: "record inflates beyond the size limit".into(),
                    at_end: false,
                }))
            }
            Ok(_) => Some(Ok(Member {
                offset,
                length: self.src.pos - offset,
                bytes,
            })),
            Err(e) => {
                self.done = true;
                let at_end =
                    e.kind() == std::io::ErrorKind::UnexpectedEof || self.src.pos >= self.len;
                Some(Err(ReadError {
                    offset,
                    message: format!("bad gzip member: {e}"),
                    at_end,
                }))
            }
        }
    }
}

/// One step of a [`Scanner`].
#[derive(Debug)]
pub enum Scanned {
    /// A gzip member that inflated (its bytes may still fail to parse as a record).
    Member(Member),
    /// Bytes `[offset, end)` hold no readable member. `end` is the file's length when no
    /// readable record follows (a torn tail, if nothing knows of those bytes).
    Damaged {
        offset: u64,
        end: u64,
        message: String,
    },
}

/// Reads a `.warc.gz` file member by member like [`MemberReader`], but does not stop at
/// an unreadable member: it resynchronises at the next offset where a gzip member
/// (`1f 8b 08`) inflates completely, CRC and length checked, to bytes that begin
/// `WARC/1.`, and reports the bytes in between once as one damaged range.
///
/// `open(offset)` gives a reader positioned at `offset` of the same file of `len` bytes.
pub struct Scanner<R: BufRead, F: FnMut(u64) -> std::io::Result<R>> {
    open: F,
    len: u64,
    max_record: u64,
    reader: Option<MemberReader<R>>,
    /// The member found by a resynchronisation, yielded after the damaged range.
    queued: Option<Member>,
}

impl<R: BufRead, F: FnMut(u64) -> std::io::Result<R>> Scanner<R, F> {
    pub fn new(mut open: F, start: u64, len: u64) -> std::io::Result<Self> {
        let first = open(start)?;
        Ok(Scanner {
            open,
            len,
            max_record: 8 << 30,
            reader: Some(MemberReader::new(first, start, len)),
            queued: None,
        })
    }

    /// Lowers the largest inflated record accepted (the default is 8 GiB).
    pub fn with_max_record(mut self, max: u64) -> Self {
        self.max_record = max;
        self.reader = self.reader.take().map(|r| r.with_max_record(max));
        self
    }

    /// The first readable record member at or after `from`, if any.
    fn resync(&mut self, from: u64) -> std::io::Result<Option<Member>> {
        const MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
        if from >= self.len {
            return Ok(None);
        }
        let mut r = (self.open)(from)?;
        let mut pos = from; // file offset just past what `window` holds
        let mut window: Vec<u8> = Vec::new();
        loop {
            let n = {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    return Ok(None);
                }
                window.extend_from_slice(buf);
                buf.len()
            };
            r.consume(n);
            pos = pos.saturating_add(n as u64);
            let wstart = pos - window.len() as u64;
            let mut i = 0;
            while i + MAGIC.len() <= window.len() {
                if window[i..i + MAGIC.len()] == MAGIC {
                    let at = wstart + i as u64;
                    if let Some(m) = self.try_member(at)? {
                        return Ok(Some(m));
                    }
                }
                i += 1;
            }
            // Keep the bytes that could still start a magic number.
            let keep = window.len().min(MAGIC.len() - 1);
            window.drain(..window.len() - keep);
        }
    }

    fn try_member(&mut self, at: u64) -> std::io::Result<Option<Member>> {
        let r = (self.open)(at)?;
        let mut mr = MemberReader::new(r, at, self.len).with_max_record(self.max_record);
        Ok(match mr.next() {
            Some(Ok(m)) if m.bytes.starts_with(b"WARC/1.") => Some(m),
            _ => None,
        })
    }
}

impl<R: BufRead, F: FnMut(u64) -> std::io::Result<R>> Iterator for Scanner<R, F> {
    type Item = std::io::Result<Scanned>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(m) = self.queued.take() {
            return Some(Ok(Scanned::Member(m)));
        }
        let e = match self.reader.as_mut()?.next() {
            None => {
                self.reader = None;
                return None;
            }
            Some(Ok(m)) => return Some(Ok(Scanned::Member(m))),
            Some(Err(e)) => e,
        };
        self.reader = None;
        let found = match self.resync(e.offset.saturating_add(1)) {
            Ok(f) => f,
            Err(io) => return Some(Err(io)),
        };
        let end = match found {
            None => self.len,
            Some(m) => {
                let at = m.offset;
                let next = m.offset.saturating_add(m.length);
                match (self.open)(next) {
                    Ok(r) => {
                        self.reader = Some(
                            MemberReader::new(r, next, self.len).with_max_record(self.max_record),
                        )
                    }
                    Err(io) => return Some(Err(io)),
                }
                self.queued = Some(m);
                at
            }
        };
        Some(Ok(Scanned::Damaged {
            offset: e.offset,
            end: end.max(e.offset),
            message: e.message,
        }))
    }
}

/// A [`Scanner`] over a file of a [`super::files::WarcFiles`] store.
pub fn scan_file<'a>(
    files: &'a dyn super::files::WarcFiles,
    name: &'a str,
) -> crate::error::Result<impl Iterator<Item = std::io::Result<Scanned>> + 'a> {
    let len = files.len(name)?;
    let open = move |off: u64| {
        files
            .open(name, off)
            .map_err(|e| std::io::Error::other(e.to_string()))
    };
    Scanner::new(open, 0, len).map_err(|e| crate::error::Error::Warc {
        file: name.to_string(),
        offset: 0,
        message: e.to_string(),
    })
}

/// A [`Scanner`] over bytes in memory (for bundles, tests and fuzzing).
pub fn scan_bytes(
    bytes: &[u8],
    max_record: u64,
) -> impl Iterator<Item = std::io::Result<Scanned>> + '_ {
    let len = bytes.len() as u64;
    let open = move |off: u64| -> std::io::Result<&[u8]> {
        Ok(usize::try_from(off)
            .ok()
            .and_then(|o| bytes.get(o..))
            .unwrap_or(&[]))
    };
    Scanner::new(open, 0, len)
        .expect("opening a slice cannot fail")
        .with_max_record(max_record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Record {
        let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello".to_vec();
        Record::build(
            kind::RESPONSE,
            "2026-11-25T20:03:55.000000Z",
            Some("http://example.com/"),
            mime::HTTP_RESPONSE,
            vec![("WARC-IP-Address".into(), "127.0.0.1".into())],
            block,
        )
    }

    #[test]
    fn round_trip_through_gzip_members() {
        let a = sample();
        let b = sample();
        let mut file = gzip_member(&a.to_bytes(), 6);
        let first_len = file.len() as u64;
        file.extend(gzip_member(&b.to_bytes(), 1));
        let mut r = MemberReader {
            src: Counting {
                inner: std::io::BufReader::new(&file[..]),
                pos: 0,
            },
            len: file.len() as u64,
            max_record: 1 << 20,
            done: false,
        };
        let m1 = r.next().unwrap().unwrap();
        assert_eq!((m1.offset, m1.length), (0, first_len));
        assert_eq!(parse_record(&m1.bytes).unwrap(), a);
        let m2 = r.next().unwrap().unwrap();
        assert_eq!(m2.offset, first_len);
        assert_eq!(parse_record(&m2.bytes).unwrap(), b);
        assert!(r.next().is_none());
    }

    #[test]
    fn digests_cover_block_and_payload() {
        let r = sample();
        assert!(digest_problems(&r).is_empty());
        assert_eq!(r.payload(), b"hello");
        assert_eq!(
            r.field("WARC-Payload-Digest").unwrap(),
            sha256_label(b"hello")
        );
        let mut bad = r.clone();
        bad.block[45] ^= 1;
        let p = digest_problems(&bad);
        assert!(p.iter().any(|m| m.contains("block digest")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("payload digest")), "{p:?}");
    }

    #[test]
    fn torn_member_is_reported_at_its_offset() {
        let a = sample();
        let mut file = gzip_member(&a.to_bytes(), 6);
        let first = file.len() as u64;
        let second = gzip_member(&a.to_bytes(), 6);
        file.extend_from_slice(&second[..second.len() / 2]);
        let mut r = MemberReader {
            src: Counting {
                inner: std::io::BufReader::new(&file[..]),
                pos: 0,
            },
            len: file.len() as u64,
            max_record: 1 << 20,
            done: false,
        };
        assert!(r.next().unwrap().is_ok());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.offset, first);
        assert!(e.at_end);
    }

    #[test]
    fn a_scan_skips_a_damaged_member_and_reports_its_range_once() {
        let recs: Vec<Vec<u8>> = (0..4)
            .map(|_| gzip_member(&sample().to_bytes(), 6))
            .collect();
        let mut file = vec![];
        let mut starts = vec![];
        for r in &recs {
            starts.push(file.len() as u64);
            file.extend_from_slice(r);
        }
        let mid = starts[1] as usize + recs[1].len() / 2;
        file[mid] ^= 0x55;
        let items: Vec<Scanned> = scan_bytes(&file, 1 << 20).map(|i| i.unwrap()).collect();
        let offsets: Vec<String> = items
            .iter()
            .map(|i| match i {
                Scanned::Member(m) => format!("m{}", m.offset),
                Scanned::Damaged { offset, end, .. } => format!("d{offset}-{end}"),
            })
            .collect();
        assert_eq!(
            offsets,
            vec![
                format!("m{}", starts[0]),
                format!("d{}-{}", starts[1], starts[2]),
                format!("m{}", starts[2]),
                format!("m{}", starts[3]),
            ]
        );
    }

    #[test]
    fn a_huge_content_length_is_an_error_not_a_panic() {
        let raw = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 18446744073709551612\r\n\r\nabc\r\n\r\n";
        let e = parse_record(raw).unwrap_err();
        assert!(e.contains("shorter than Content-Length"), "{e}");
    }

    #[test]
    fn a_streamed_record_is_written_like_an_in_memory_one() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        let mut sb = StreamedBlock::new(head.clone());
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        for c in body.chunks(70_000) {
            sb.write(c).unwrap();
        }
        let rec = Record::build_streamed(
            kind::RESPONSE,
            "2026-11-25T20:03:55.000000Z",
            Some("http://example.com/"),
            mime::HTTP_RESPONSE,
            vec![],
            sb,
        );
        assert_eq!(rec.payload_len(), body.len() as u64);
        let mut member = Vec::new();
        let mut seen = 0usize;
        let n = write_gzip_member(&rec, 6, &mut member, &mut |b| seen += b.len()).unwrap();
        assert_eq!(n, member.len() as u64);
        let mut r = MemberReader::new(std::io::BufReader::new(&member[..]), 0, n);
        let m = r.next().unwrap().unwrap();
        assert_eq!(m.bytes.len(), seen);
        let back = parse_record(&m.bytes).unwrap();
        assert!(
            digest_problems(&back).is_empty(),
            "{:?}",
            digest_problems(&back)
        );
        assert_eq!(back.payload(), &body[..]);
        assert_eq!(back.fields, rec.fields);
    }

    #[test]
    fn field_values_never_break_lines() {
        let r = Record::build(
            kind::RESOURCE,
            "2026-11-25T20:03:55.000000Z",
            Some("urn:x"),
            "text/plain",
            vec![("X-Evil".into(), "a\r\nWARC-Type: response".into())],
            b"x".to_vec(),
        );
        let parsed = parse_record(&r.to_bytes()).unwrap();
        assert_eq!(parsed.warc_type(), "resource");
        assert_eq!(parsed.fields_named("WARC-Type").count(), 1);
    }
}
