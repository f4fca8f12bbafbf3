//! Chain of custody (issue 16, docs/provenance.md): every export, and every `verify` a
//! user asks to record, writes a custody record into the log, so the archive itself says
//! where copies of its evidence went, who made them and when, and what each file's
//! SHA-256 was.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::store::archive::Archive;
use crate::store::bodies::{Artifact, CUSTODY_FORMAT, CustodyRecord};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// What happened, for [`record`].
pub struct Event<'a> {
    /// `export_bundle`, `export_wacz` or `verify`.
    pub action: &'a str,
    /// The file an export made.
    pub artifact: Option<&'a Path>,
    /// The posts it holds (empty with `all`).
    pub posts: Vec<String>,
    pub all: bool,
    /// For `verify`: what it found.
    pub result: Option<String>,
}

/// The SHA-256 and length of the file at `p`, read in bounded chunks.
pub fn file_digest(p: &Path) -> Result<(String, u64)> {
    let mut f = std::fs::File::open(p).at(p)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).at(p)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Appends the custody record of `ev` to the archive at `root` (under its lock, with a
/// signed checkpoint, as every append); returns its record id.
pub fn record(root: &Path, config_path: &Path, ev: Event, clock: &Clock) -> Result<String> {
    let config = Config::load(config_path)?;
    let artifact = match ev.artifact {
        Some(p) => {
            let (sha256, bytes) = file_digest(p)?;
            Some(Artifact {
                name: p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                sha256,
                bytes,
            })
        }
        None => None,
    };
    let body =
        CustodyRecord {
            samizdat: CUSTODY_FORMAT.into(),
            at: clock.warc_date(),
            action: ev.action.into(),
            collector: config.collector.name.as_ref().map(|n| {
                crate::capture::provenance::Collector {
                    name: n.clone(),
                    organisation: config.collector.organisation.clone(),
                }
            }),
            artifact,
            posts: ev.posts,
            all: ev.all,
            result: ev.result,
            tool_version: env!("CARGO_PKG_VERSION").into(),
        };
    let mut a = Archive::open(root, config)?.with_clock(*clock);
    let done = a.append(vec![body.to_record()])?;
    done.rows
        .first()
        .map(|r| r.id.clone())
        .ok_or_else(|| Error::Log("the custody record was not appended".into()))
}
