//! The archive folder a test drives: its config file and its WARC files.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Writes `archive/samizdat.toml` (creating the folder).
pub fn write_config(archive: &Path, toml: &str) {
    std::fs::create_dir_all(archive).unwrap();
    std::fs::write(archive.join("samizdat.toml"), toml).unwrap();
}

/// `archive/warc/*.warc.gz`, sorted by name.
pub fn warc_files(archive: &Path) -> Vec<PathBuf> {
    let dir = archive.join("warc");
    let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// An archive folder (not yet made) whose config has no politeness delay and a 5 s
/// timeout, plus `extra` TOML: what most CLI tests start from.
pub fn quick_archive(extra: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = super::tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!("[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n{extra}"),
    );
    (dir, ar)
}

/// Every member of a zip: name, bytes, compression.
pub fn zip_members(bytes: &[u8]) -> Vec<(String, Vec<u8>, zip::CompressionMethod)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut e = z.by_index(i).unwrap();
            let mut b = vec![];
            e.read_to_end(&mut b).unwrap();
            (e.name().unwrap().to_string(), b, e.compression())
        })
        .collect()
}

/// Every member of the zip at `p`.
pub fn read_zip(p: &Path) -> Vec<(String, Vec<u8>, zip::CompressionMethod)> {
    zip_members(&std::fs::read(p).unwrap())
}

/// A copy of the zip at `src` with `name`'s bytes changed by `f` (or the entry added).
pub fn rewrite_zip(src: &Path, dst: &Path, name: &str, f: impl Fn(&mut Vec<u8>)) {
    let entries = read_zip(src);
    let mut z = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let mut found = false;
    for (n, mut b, m) in entries {
        if n == name {
            f(&mut b);
            found = true;
        }
        z.start_file(
            n.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(m),
        )
        .unwrap();
        z.write_all(&b).unwrap();
    }
    if !found {
        let mut b = vec![];
        f(&mut b);
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(&b).unwrap();
    }
    z.finish().unwrap();
}

/// Every record of every WARC file of the archive, in file order.
pub fn records(archive: &Path) -> Vec<samizdat::store::warc::Record> {
    use samizdat::store::warc;
    let mut out = vec![];
    for f in warc_files(archive) {
        for m in warc::MemberReader::open(&f, 0).unwrap() {
            out.push(warc::parse_record(&m.unwrap().bytes).unwrap());
        }
    }
    out
}
