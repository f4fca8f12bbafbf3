//! Reading a bundle or a WACZ with bounds, for `verify-bundle` (issue 11).
//!
//! Whatever the input, memory stays bounded: the central directory is sized from the end
//! record before it is parsed; a member is read whole only when it is one of the small
//! kinds and its declared size fits the bound for its name, and the bytes actually
//! inflated are counted against the same bound (a member that inflates past what it
//! declared, or past the bound, is a failure); big members (WARC files, media) are only
//! ever streamed. The layout is strict: no duplicate names, no directories, no encrypted
//! members, no bytes before the first member, between members, or after the end record.

use std::io::{Read, Seek, SeekFrom};
use zip::ZipArchive;

/// At most this many members (a bundle has a dozen, plus its media).
pub const MAX_MEMBERS: u64 = 10_000;
/// The central directory is at most this big.
pub const MAX_CENTRAL_DIRECTORY: u64 = 4 << 20;
/// At most this many bytes are inflated from one zip, all members together.
pub const MAX_TOTAL: u64 = 16 << 30;

/// One member as the central directory describes it.
#[derive(Debug, Clone)]
pub struct Member {
    pub index: usize,
    pub name: String,
    /// Declared uncompressed size.
    pub size: u64,
}

/// A zip opened for checking.
pub struct Zip<R: Read + Seek> {
    z: ZipArchive<R>,
    pub members: Vec<Member>,
    inflated: u64,
}

/// Opens `r` as a zip and checks its layout. `Err` when it cannot be read at all; the
/// list holds every layout problem found (each one a failure).
pub fn open<R: Read + Seek>(mut r: R) -> Result<(Zip<R>, Vec<String>), String> {
    let mut problems = vec![];
    let len = r
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    let (cd_start, cd_size, entries) = end_record(&mut r, len)?;
    if entries > MAX_MEMBERS {
        return Err(format!(
            "declares {entries} members, more than the {MAX_MEMBERS} verify-bundle reads"
        ));
    }
    if cd_size > MAX_CENTRAL_DIRECTORY {
        return Err(format!(
            "its central directory is {cd_size} bytes, more than the {MAX_CENTRAL_DIRECTORY} verify-bundle reads"
        ));
    }
    r.seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    let mut z = ZipArchive::new(r).map_err(|e| format!("not a readable zip: {e}"))?;
    if z.has_duplicate_names() {
        problems
            .push("two members have the same name (a duplicate member hides one of them)".into());
    }
    if z.offset() != 0 {
        problems.push(format!("{} bytes come before the first member", z.offset()));
    }
    if !z.comment().is_empty() {
        problems.push(format!("has a {}-byte zip comment", z.comment().len()));
    }
    if z.central_directory_start() != cd_start {
        problems.push("the central directory is not where the end record says".into());
    }
    if !z.has_duplicate_names()
        && let Err(e) = z.validate_header_consistency()
    {
        problems.push(e.to_string());
    }
    let mut members = vec![];
    let mut ranges: Vec<(u64, u64, String)> = vec![];
    for i in 0..z.len() {
        let e = match z.by_index_raw(i) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("member {i}: {e}"));
                continue;
            }
        };
        let name = match e.name() {
            Ok(n) => n.to_string(),
            Err(err) => {
                problems.push(format!("member {i}: unreadable name: {err}"));
                continue;
            }
        };
        if e.is_dir() {
            problems.push(format!("{name}: a directory entry (a bundle has none)"));
        }
        if e.encrypted() {
            problems.push(format!("{name}: encrypted"));
        }
        if !matches!(
            e.compression(),
            zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
        ) {
            problems.push(format!(
                "{name}: compression method {} (samizdat writes stored or deflated members)",
                e.compression()
            ));
        }
        match e.data_start() {
            Some(ds) => match ds.checked_add(e.compressed_size()) {
                Some(end) => ranges.push((e.header_start(), end, name.clone())),
                None => problems.push(format!("{name}: its size overflows")),
            },
            None => problems.push(format!("{name}: its data cannot be located")),
        }
        members.push(Member {
            index: i,
            name,
            size: e.size(),
        });
    }
    ranges.sort();
    let mut at = 0u64;
    for (start, end, name) in &ranges {
        if *start > at {
            problems.push(format!(
                "{} unaccounted bytes before member {name} (padding or a hidden member)",
                start - at
            ));
        }
        at = at.max(*end);
    }
    if at < cd_start {
        problems.push(format!(
            "{} unaccounted bytes after the last member (padding or a hidden member)",
            cd_start - at
        ));
    }
    Ok((
        Zip {
            z,
            members,
            inflated: 0,
        },
        problems,
    ))
}

/// Reads the end-of-central-directory record (and its ZIP64 form), which must end the
/// file exactly and say the central directory runs up to it: (start, size, entries).
fn end_record<R: Read + Seek>(r: &mut R, len: u64) -> Result<(u64, u64, u64), String> {
    let read_at = |r: &mut R, at: u64, n: usize| -> Result<Vec<u8>, String> {
        let mut b = vec![0u8; n];
        r.seek(SeekFrom::Start(at))
            .and_then(|_| r.read_exact(&mut b))
            .map_err(|e| format!("cannot read: {e}"))?;
        Ok(b)
    };
    let not_zip = || {
        "not a readable zip: no end of central directory record at its end (extra bytes after it, a comment, or not a zip)".to_string()
    };
    let eocd_at = len.checked_sub(22).ok_or_else(not_zip)?;
    let e = read_at(r, eocd_at, 22)?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as u64;
    let u32_at =
        |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as u64;
    let u64_at = |b: &[u8], i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    if e[..4] != [0x50, 0x4b, 0x05, 0x06] || u16_at(&e, 20) != 0 {
        return Err(not_zip());
    }
    let (entries, cd_size, cd_start) = (u16_at(&e, 10), u32_at(&e, 12), u32_at(&e, 16));
    if entries != 0xFFFF && cd_size != 0xFFFF_FFFF && cd_start != 0xFFFF_FFFF {
        if cd_start.checked_add(cd_size) != Some(eocd_at) {
            return Err(
                "not a readable zip: the central directory does not run up to the end record"
                    .into(),
            );
        }
        return Ok((cd_start, cd_size, entries));
    }
    // ZIP64: a locator just before the end record points at the ZIP64 end record.
    let loc_at = eocd_at.checked_sub(20).ok_or_else(not_zip)?;
    let l = read_at(r, loc_at, 20)?;
    if l[..4] != [0x50, 0x4b, 0x06, 0x07] {
        return Err(not_zip());
    }
    let z64_at = u64_at(&l, 8);
    if z64_at.checked_add(56) != Some(loc_at) {
        return Err(
            "not a readable zip: the ZIP64 end record is not just before its locator".into(),
        );
    }
    let z = read_at(r, z64_at, 56)?;
    if z[..4] != [0x50, 0x4b, 0x06, 0x06] || u64_at(&z, 4) != 44 {
        return Err(not_zip());
    }
    let (entries, cd_size, cd_start) = (u64_at(&z, 32), u64_at(&z, 40), u64_at(&z, 48));
    if cd_start.checked_add(cd_size) != Some(z64_at) {
        return Err(
            "not a readable zip: the central directory does not run up to the end record".into(),
        );
    }
    Ok((cd_start, cd_size, entries))
}

/// A reader that fails once more than `left` bytes come out of `inner`.
pub struct Capped<'a, R: Read> {
    inner: R,
    left: u64,
    what: String,
    total: &'a mut u64,
}

impl<R: Read> Read for Capped<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = buf
            .len()
            .min(usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        let n64 = n as u64;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(std::io::Error::other(format!(
                "inflates to {} bytes fewer than it declares",
                self.left
            )));
        }
        if n64 > self.left {
            return Err(std::io::Error::other(self.what.clone()));
        }
        self.left -= n64;
        *self.total = self.total.saturating_add(n64);
        if *self.total > MAX_TOTAL {
            return Err(std::io::Error::other(format!(
                "the zip inflates past {MAX_TOTAL} bytes in all"
            )));
        }
        Ok(n)
    }
}

impl<R: Read + Seek> Zip<R> {
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// A reader over `name`'s inflated bytes that fails past `cap` bytes or past the
    /// member's declared size (checked first), or when its CRC does not match.
    pub fn stream(&mut self, name: &str, cap: u64) -> Result<Capped<'_, impl Read + '_>, String> {
        let m = self
            .member(name)
            .cloned()
            .ok_or_else(|| "missing from the zip".to_string())?;
        if m.size > cap {
            return Err(format!(
                "declares {} bytes, more than the {cap} a {name} may hold",
                m.size
            ));
        }
        let e = self
            .z
            .by_index(m.index)
            .map_err(|e| format!("unreadable member: {e}"))?;
        Ok(Capped {
            inner: e,
            left: m.size,
            what: format!("inflates past the {} bytes it declares", m.size),
            total: &mut self.inflated,
        })
    }

    /// `name`'s inflated bytes, at most `cap` of them.
    pub fn read(&mut self, name: &str, cap: u64) -> Result<Vec<u8>, String> {
        let mut s = self.stream(name, cap)?;
        let mut out = vec![];
        s.read_to_end(&mut out)
            .map_err(|e| format!("cannot be read: {e}"))?;
        Ok(out)
    }
}
