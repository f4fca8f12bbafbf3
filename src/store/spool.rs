//! Bodies too big to hold: a response body is written here as it arrives (memory up to
//! [`SPILL_AT`], an unnamed temporary file after that) with its digests computed on the
//! way, and the WARC writer streams it from here into its gzip member. So a 256 MB body
//! costs a temp file, not 256 MB of memory several times over.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;

/// Bodies up to this size stay in memory.
pub const SPILL_AT: usize = 1 << 20;

/// The bytes of one body, in memory or in an unnamed temporary file (removed by the OS
/// when the last handle closes, even after a crash).
pub struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    len: u64,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Spool({} bytes{})",
            self.len,
            if self.file.is_some() { ", on disk" } else { "" }
        )
    }
}

/// Two spools are equal only if they are the same spool (their bytes are not compared).
impl PartialEq for Spool {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Default for Spool {
    fn default() -> Self {
        Spool::new()
    }
}

impl Spool {
    pub fn new() -> Spool {
        Spool {
            mem: Vec::new(),
            file: None,
            len: 0,
        }
    }

    /// Appends bytes; past [`SPILL_AT`] everything moves to a temporary file.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data)?,
            None if self.mem.len() + data.len() > SPILL_AT => {
                let mut f = tempfile::tempfile()?;
                f.write_all(&self.mem)?;
                f.write_all(data)?;
                self.mem = Vec::new();
                self.file = Some(f);
            }
            None => self.mem.extend_from_slice(data),
        }
        self.len = self
            .len
            .checked_add(data.len() as u64)
            .ok_or_else(|| io::Error::other("body length overflows u64"))?;
        Ok(())
    }

    /// Makes room in memory for `n` more bytes (a hint: nothing past [`SPILL_AT`]).
    pub fn reserve(&mut self, n: usize) {
        if self.file.is_none() {
            self.mem
                .reserve(n.min(SPILL_AT.saturating_sub(self.mem.len())));
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the bytes are on disk (past [`SPILL_AT`]).
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// A reader from the first byte. Readers are independent of each other.
    pub fn reader(&self) -> SpoolReader<'_> {
        SpoolReader {
            spool: self,
            pos: 0,
        }
    }

    /// The bytes in memory, when they are all there.
    pub fn in_memory(&self) -> Option<&[u8]> {
        self.file.is_none().then_some(&self.mem[..])
    }
}

/// Reads a [`Spool`] from its start (positional reads: no shared file offset).
pub struct SpoolReader<'a> {
    spool: &'a Spool,
    pos: u64,
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.spool.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = match &self.spool.file {
            Some(f) => f.read_at(&mut buf[..want], self.pos)?,
            None => {
                // pos < len = mem.len() here, so the conversion cannot fail.
                let at = usize::try_from(self.pos).map_err(io::Error::other)?;
                buf[..want].copy_from_slice(&self.spool.mem[at..at + want]);
                want
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

/// A block written as it arrives: the head (the HTTP header block) in memory, the
/// payload to a [`Spool`], the block and payload digests computed on the way.
pub struct StreamedBlock {
    pub head: Vec<u8>,
    pub body: Spool,
    block: Sha256,
    payload: Sha256,
}

impl StreamedBlock {
    pub fn new(head: Vec<u8>) -> StreamedBlock {
        let mut block = Sha256::new();
        block.update(&head);
        StreamedBlock {
            head,
            body: Spool::new(),
            block,
            payload: Sha256::new(),
        }
    }

    /// Appends payload bytes.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.body.write(data)?;
        self.block.update(data);
        self.payload.update(data);
        Ok(())
    }

    /// Payload bytes so far.
    pub fn payload_len(&self) -> u64 {
        self.body.len()
    }

    /// The head, the payload, and the `sha256:` labels of the block and of the payload.
    pub fn finish(self) -> (Vec<u8>, Spool, String, String) {
        let label = |h: Sha256| format!("sha256:{}", hex::encode(h.finalize()));
        (self.head, self.body, label(self.block), label(self.payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_to_disk_and_reads_back_whole() {
        let mut s = Spool::new();
        let chunk = vec![7u8; 300_000];
        for _ in 0..5 {
            s.write(&chunk).unwrap();
        }
        assert!(s.on_disk());
        assert_eq!(s.len(), 1_500_000);
        let mut back = Vec::new();
        s.reader().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), 1_500_000);
        assert!(back.iter().all(|&b| b == 7));
        // A second reader starts again from the first byte.
        let mut first = [0u8; 4];
        s.reader().read_exact(&mut first).unwrap();
        assert_eq!(first, [7; 4]);
    }

    #[test]
    fn digests_are_those_of_the_whole_block_and_payload() {
        let mut b = StreamedBlock::new(b"HTTP/1.1 200 OK\r\n\r\n".to_vec());
        b.write(b"hel").unwrap();
        b.write(b"lo").unwrap();
        let (head, body, block, payload) = b.finish();
        assert_eq!(body.in_memory(), Some(&b"hello"[..]));
        let mut whole = head.clone();
        whole.extend_from_slice(b"hello");
        assert_eq!(block, crate::store::warc::sha256_label(&whole));
        assert_eq!(payload, crate::store::warc::sha256_label(b"hello"));
    }
}
