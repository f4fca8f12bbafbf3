//! The SQLite index: records (where each one is, its digests and leaf), posts, captures.
//!
//! A cache: everything here is derived from the WARC records by [`Index::add`] (in
//! `derive`), which both the append path and `reindex` use, so a rebuilt index answers
//! exactly as before. The tables are in `schema`, the numbered steps that bring an older
//! index up to them in `migrations`, the reads (answered as `store::views` types) in
//! `queries`.

mod alerts;
mod codec;
mod derive;
mod migrations;
mod queries;
mod schema;

pub use super::bodies::{CheckRecord, ORIGIN_API, ORIGIN_CLI, PostRecord, WatchRecord};
pub use alerts::{EventRow, Failing, Subject};
pub use schema::VERSION as SCHEMA_VERSION;

use super::warc::Record;
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// Where a record lives and what the log knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    pub leaf: u64,
    pub id: String,
    pub file: String,
    pub offset: u64,
    pub length: u64,
    pub warc_type: String,
    pub target: Option<String>,
    pub date: String,
    pub content_type: Option<String>,
    pub block_digest: Option<String>,
    pub payload_digest: Option<String>,
    pub leaf_hash: [u8; 32],
}

impl RecordRow {
    pub fn new(
        rec: &Record,
        leaf: u64,
        file: &str,
        offset: u64,
        length: u64,
        leaf_hash: [u8; 32],
    ) -> Self {
        RecordRow {
            leaf,
            id: rec.id().to_string(),
            file: file.to_string(),
            offset,
            length,
            warc_type: rec.warc_type().to_string(),
            target: rec.target_uri().map(str::to_string),
            date: rec.date().to_string(),
            content_type: rec.field("Content-Type").map(str::to_string),
            block_digest: rec.field("WARC-Block-Digest").map(str::to_string),
            payload_digest: rec.field("WARC-Payload-Digest").map(str::to_string),
            leaf_hash,
        }
    }
}

/// One watchlist row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WatchRow {
    pub url: String,
    pub kind: String,
    pub every: Option<String>,
    pub backfill: Option<u32>,
    pub post_id: Option<String>,
    pub via: Option<String>,
    pub added_at: String,
    pub next_due: String,
    pub last_polled: Option<String>,
    pub last_error: Option<String>,
    /// For posts: state and when first captured.
    pub state: Option<String>,
    pub first_captured: Option<String>,
    /// For posts: the canonical URL the archive holds (what a check asks for).
    pub post_url: Option<String>,
    /// For accounts: the first post id the last poll listed.
    pub newest: Option<String>,
    /// Who added the entry: [`ORIGIN_CLI`] or [`ORIGIN_API`].
    pub origin: String,
}

/// How a host answered the watcher lately (derived from check and poll records).
#[derive(Debug, Clone, serde::Serialize)]
pub struct HostRow {
    pub host: String,
    /// Unreachable answers in a row (0 after any definite answer).
    pub failures: u32,
    pub last_failure: Option<String>,
    pub last_error: Option<String>,
    pub last_ok: Option<String>,
}

/// What the last check of a post saw (for revisits and scheduling).
#[derive(Debug, Clone)]
pub struct LastCheck {
    pub at: String,
    pub payload_digest: Option<String>,
    pub response_id: Option<String>,
    pub response_uri: Option<String>,
    pub response_date: Option<String>,
    pub fingerprint_json: Option<String>,
}

/// Filters of `list`.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub platform: Option<String>,
    pub state: Option<String>,
    /// RFC 3339; posts first captured at or after it.
    pub since: Option<String>,
    pub author: Option<String>,
    /// 0 = all.
    pub limit: usize,
}

/// A SQLite error on the index; a file that is not (or no longer) a database is damage
/// (exit 3) that `reindex` repairs.
pub fn index_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Error::Damage(format!(
            "{} is damaged ({e}): run `samizdat reindex` to rebuild it (the damaged file is \
             moved to quarantine/)",
            path.display()
        )),
        _ => Error::Index {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

pub struct Index {
    conn: Connection,
    path: PathBuf,
}

impl Index {
    /// Opens (creating if asked) the index at `path`.
    ///
    /// Read-only (`writable` false: every reader) never writes: SQLite is opened with
    /// `SQLITE_OPEN_READ_ONLY` and `query_only`, so no schema step, no journal mode and
    /// no search table is ever made by a reader. Where even SQLite's own shared-memory
    /// file cannot be made (a WAL index on a read-only mount, read-only media, another
    /// user's folder), the file is read as `immutable`: as it stands on disk.
    pub fn open(path: &Path, writable: bool) -> Result<Index> {
        let flags = if writable {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let mut conn =
            Connection::open_with_flags(path, flags).map_err(|e| index_error(path, e))?;
        if !writable
            && conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                .is_err()
        {
            // A WAL database on a read-only file system (a mounted backup, a write-protected
            // disk) cannot be opened normally: read it as immutable instead. What a writer
            // left in the write-ahead log (it stopped without closing the index) is then not
            // read: say so, since the index may lack the latest records.
            let wal = PathBuf::from(format!("{}-wal", path.display()));
            if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                tracing::warn!(
                    "{} cannot be read on this read-only archive: the index may lack the \
                     latest records (`samizdat verify` reads the WARC files themselves)",
                    wal.display()
                );
            }
            // A URI's path may not carry `%`, `?` or `#` as they are.
            let escaped = path
                .display()
                .to_string()
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23");
            let uri = format!("file:{escaped}?immutable=1");
            conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(|e| index_error(path, e))?;
        }
        let idx = Index {
            conn,
            path: path.to_path_buf(),
        };
        idx.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| idx.err(e))?;
        // Every statement the append path runs is prepared once and kept (derive.rs and
        // search.rs use `prepare_cached`): room for all of them, so none is evicted and
        // parsed again per record (rusqlite keeps 16 by default).
        idx.conn.set_prepared_statement_cache_capacity(128);
        if !writable {
            idx.conn
                .execute_batch("PRAGMA query_only = 1;")
                .map_err(|e| idx.err(e))?;
        }
        if writable {
            idx.conn
                .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
                .map_err(|e| idx.err(e))?;
            idx.migrate()?;
            idx.conn
                .execute_batch(super::search::SCHEMA)
                .map_err(|e| idx.err(e))?;
        }
        Ok(idx)
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        index_error(&self.path, e)
    }

    /// One page of full-text hits (`store::search`), on this connection: a reader's,
    /// read-only like every other query. An index made before search had its tables is
    /// an error that says how to add them (readers never do).
    pub fn search(
        &self,
        q: &str,
        filter: &super::search::SearchFilter,
        offset: usize,
        limit: usize,
    ) -> Result<super::search::Hits> {
        match super::search::search(&self.conn, q, filter, offset, limit) {
            Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => {
                Err(Error::Archive {
                    path: self.path.clone(),
                    message: "this index predates search: run `samizdat reindex` once".into(),
                })
            }
            r => r.map_err(|e| self.err(e)),
        }
    }
}

fn row_to_record(r: &rusqlite::Row) -> rusqlite::Result<RecordRow> {
    let h: Vec<u8> = r.get(11)?;
    let mut leaf_hash = [0u8; 32];
    if h.len() == 32 {
        leaf_hash.copy_from_slice(&h);
    }
    Ok(RecordRow {
        leaf: r.get::<_, i64>(0)? as u64,
        id: decode(r, 1, codec::id_text)?,
        file: decode(r, 2, codec::file_text)?,
        offset: r.get::<_, i64>(3)? as u64,
        length: r.get::<_, i64>(4)? as u64,
        warc_type: decode(r, 5, codec::warc_type_text)?,
        target: r.get(6)?,
        date: decode(r, 7, codec::date_text)?,
        content_type: decode(r, 8, codec::content_type_text)?,
        block_digest: decode(r, 9, codec::digest_text)?,
        payload_digest: decode(r, 10, codec::digest_text)?,
        leaf_hash,
    })
}

/// Column `i` of a row, decoded by one of `codec`'s readers.
pub(super) fn decode<T>(
    r: &rusqlite::Row,
    i: usize,
    f: fn(rusqlite::types::ValueRef) -> std::result::Result<T, rusqlite::types::FromSqlError>,
) -> rusqlite::Result<T> {
    f(r.get_ref(i)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Blob, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader's connection refuses every write, whatever the file's permissions.
    #[test]
    fn a_read_only_index_never_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("index.sqlite");
        drop(Index::open(&p, true).unwrap());
        let ix = Index::open(&p, false).unwrap();
        for sql in [
            "DELETE FROM search_docs",
            "CREATE TABLE t (x)",
            "PRAGMA user_version = 99",
        ] {
            assert!(ix.conn.execute_batch(sql).is_err(), "{sql} was allowed");
        }
        assert!(
            ix.search("anything", &Default::default(), 0, 10)
                .unwrap()
                .ids
                .is_empty()
        );
    }
}
