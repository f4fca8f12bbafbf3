//! The archive folder a test drives: its config file and its WARC files.

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
