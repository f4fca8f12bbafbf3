//! Where the WARC files live, behind one interface.
//!
//! Everything that touches WARC bytes (the writer, `verify`, `reindex`, exports) goes
//! through [`WarcFiles`], so that closed files can later move to S3-compatible object
//! storage (append-only, content never rewritten) by adding an implementation, without
//! touching the rest. Today there is one: [`LocalWarcDir`], the `warc/` folder.

use crate::error::{Error, IoContext, Result};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub trait WarcFiles: Send + Sync {
    /// The file names, in write order (name order).
    fn list(&self) -> Result<Vec<String>>;
    /// The length of a file in bytes.
    fn len(&self, name: &str) -> Result<u64>;
    /// A reader positioned at `offset`.
    fn open(&self, name: &str, offset: u64) -> Result<Box<dyn BufRead + Send>>;
    /// `len` bytes from `offset` (one record's gzip member, for exports).
    fn read_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>>;
    /// Appends `bytes` at `offset`, which must be the file's current end, durably. On
    /// failure the file is cut back to `offset` where possible.
    fn append(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<()>;
    /// Like [`WarcFiles::append`] for bytes too big to hold: `fill` writes them (one
    /// streamed record's gzip member). Returns how many bytes were appended.
    fn append_with(
        &self,
        name: &str,
        offset: u64,
        fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<u64>;
    /// Removes the bytes from `from` to the end and returns them (crash debris).
    fn cut(&self, name: &str, from: u64) -> Result<Vec<u8>>;
    /// A human-readable location of a file, for messages.
    fn describe(&self, name: &str) -> String;
}

/// The local `warc/` folder.
pub struct LocalWarcDir {
    dir: PathBuf,
}

impl LocalWarcDir {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalWarcDir { dir: dir.into() }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// `samizdat-00000001.warc.gz`: name order is write order.
pub fn file_name(serial: u64) -> String {
    format!("samizdat-{serial:08}.warc.gz")
}

/// The serial number of a WARC file name of ours.
pub fn serial(name: &str) -> Option<u64> {
    name.strip_prefix("samizdat-")?
        .strip_suffix(".warc.gz")?
        .parse()
        .ok()
}

impl WarcFiles for LocalWarcDir {
    fn list(&self) -> Result<Vec<String>> {
        let mut out = vec![];
        let rd = match fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        for e in rd {
            let name = e.at(&self.dir)?.file_name().to_string_lossy().into_owned();
            if serial(&name).is_some() {
                out.push(name);
            }
        }
        out.sort();
        Ok(out)
    }

    fn len(&self, name: &str) -> Result<u64> {
        let p = self.path(name);
        Ok(fs::metadata(&p).at(&p)?.len())
    }

    fn open(&self, name: &str, offset: u64) -> Result<Box<dyn BufRead + Send>> {
        let p = self.path(name);
        let mut f = File::open(&p).at(&p)?;
        f.seek(SeekFrom::Start(offset)).at(&p)?;
        Ok(Box::new(BufReader::with_capacity(256 * 1024, f)))
    }

    fn read_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        // The range comes from the index: check it against the file before allocating.
        let size = self.len(name)?;
        let buf_len = offset
            .checked_add(len)
            .filter(|end| *end <= size)
            .and_then(|_| usize::try_from(len).ok())
            .ok_or_else(|| {
                Error::Damage(format!(
                    "{}: the index places a record at bytes {offset}+{len}, past the file's \
                     end ({size}): run `samizdat verify`",
                    self.path(name).display()
                ))
            })?;
        let mut r = self.open(name, offset)?;
        let mut buf = vec![0u8; buf_len];
        r.read_exact(&mut buf).at(self.path(name))?;
        Ok(buf)
    }

    fn append(&self, name: &str, offset: u64, bytes: &[u8]) -> Result<()> {
        self.append_with(name, offset, &mut |w| w.write_all(bytes))
            .map(|_| ())
    }

    fn append_with(
        &self,
        name: &str,
        offset: u64,
        fill: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<u64> {
        let path = self.path(name);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .at(&path)?;
        let len = f.metadata().at(&path)?.len();
        if len != offset {
            return Err(Error::Archive {
                path,
                message: format!("expected the file to end at {offset}, it ends at {len}"),
            });
        }
        let written = {
            let mut w = std::io::BufWriter::with_capacity(256 * 1024, &mut f);
            fill(&mut w).and_then(|_| w.flush())
        };
        if let Err(e) = written.and_then(|_| f.sync_data()) {
            // Full disk, I/O error: take back what got written, so the file ends where
            // the index says it does. If even that fails, the next writer's recovery
            // moves the bytes to quarantine/.
            if f.set_len(offset).and_then(|_| f.sync_all()).is_ok() && offset == 0 {
                let _ = fs::remove_file(&path);
            }
            return Err(Error::io(path, e));
        }
        if offset == 0 {
            sync_dir(&self.dir)?;
        }
        let end = f.metadata().at(&path)?.len();
        Ok(end.saturating_sub(offset))
    }

    fn cut(&self, name: &str, from: u64) -> Result<Vec<u8>> {
        let path = self.path(name);
        let mut bytes = vec![];
        self.open(name, from)?.read_to_end(&mut bytes).at(&path)?;
        let f = OpenOptions::new().write(true).open(&path).at(&path)?;
        f.set_len(from).at(&path)?;
        f.sync_all().at(&path)?;
        if from == 0 {
            fs::remove_file(&path).at(&path)?;
            sync_dir(&self.dir)?;
        }
        Ok(bytes)
    }

    fn describe(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}
