//! The one error type. Every variant names what was wrong and, where it helps, what to do.
//!
//! A deleted post is not an error: it is a [`crate::model::Outcome`]. Errors are for
//! things samizdat could not do.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("bad URL {url:?}: {message}")]
    BadUrl { url: String, message: String },

    #[error("fetching {url}: {message}")]
    Fetch { url: String, message: String },

    #[error("{endpoint}: unexpected answer: {missing}")]
    Extraction { endpoint: String, missing: String },

    #[error("index {path}: {source}")]
    Index {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("WARC {file} at offset {offset}: {message}")]
    Warc {
        file: String,
        offset: u64,
        message: String,
    },

    #[error("log: {0}")]
    Log(String),

    #[error("key {path}: {message}")]
    Key { path: PathBuf, message: String },

    #[error("archive {path}: {message}")]
    Archive { path: PathBuf, message: String },

    #[error("not found: {0}")]
    NotFound(String),

    #[error("{0}")]
    Usage(String),

    /// Damage or tampering found in the archive (exit 3): what is damaged and what to do.
    #[error("damage: {0}")]
    Damage(String),
}

impl Error {
    /// An I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Attach a path to `std::io::Result`s.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
