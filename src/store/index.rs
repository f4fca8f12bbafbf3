//! The SQLite index: records (where each one is, its digests and leaf), posts, captures.
//!
//! A cache: everything here is derived from the WARC records by [`Index::apply`], which
//! both the append path and `reindex` use, so a rebuilt index answers exactly as before.

use super::state;
use super::warc::{Record, mime};
use crate::error::{Error, Result};
use crate::model::{Cause, Outcome, Post};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    leaf INTEGER PRIMARY KEY,          -- leaf index in the log = write order
    id TEXT NOT NULL UNIQUE,           -- WARC-Record-ID
    file TEXT NOT NULL,                -- file name under warc/
    offset INTEGER NOT NULL,           -- gzip member offset
    length INTEGER NOT NULL,           -- gzip member length
    type TEXT NOT NULL,
    target TEXT,
    date TEXT NOT NULL,
    content_type TEXT,
    block_digest TEXT,
    payload_digest TEXT,
    leaf_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    url TEXT NOT NULL,
    author_id TEXT,
    author_name TEXT,
    created_at TEXT,
    text TEXT,
    json TEXT NOT NULL,                -- the newest post version
    state TEXT NOT NULL,
    cause TEXT,
    message TEXT,
    last_seen_live TEXT,
    first_seen_gone TEXT,
    first_captured TEXT NOT NULL,
    last_captured TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_platform ON posts(platform, first_captured);
CREATE INDEX IF NOT EXISTS posts_captured ON posts(first_captured);
CREATE TABLE IF NOT EXISTS post_urls (url TEXT PRIMARY KEY, post_id TEXT NOT NULL); -- the first post to claim a URL keeps it
CREATE TABLE IF NOT EXISTS url_conflicts ( -- a URL a later post named as its own too
    url TEXT NOT NULL,
    holder TEXT NOT NULL,              -- the post the URL resolves to (the first claim)
    post_id TEXT NOT NULL,             -- the later post that named it
    record_id TEXT NOT NULL,           -- that post's record
    PRIMARY KEY (url, post_id)
);
CREATE INDEX IF NOT EXISTS url_conflicts_holder ON url_conflicts(holder);
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    post_id TEXT NOT NULL,
    at TEXT NOT NULL,
    post_record TEXT NOT NULL,
    record_ids TEXT NOT NULL           -- JSON list, the post record last
);
CREATE INDEX IF NOT EXISTS captures_post ON captures(post_id, at);
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,            -- write order
    post_id TEXT NOT NULL,
    at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    event TEXT,                        -- 'restored', 'confirmed' (a gone state began)
    cause TEXT,
    message TEXT,
    http_status INTEGER,
    host TEXT,
    record_id TEXT NOT NULL,           -- the check record
    record_ids TEXT NOT NULL,          -- JSON list of the records it rests on
    post_record TEXT,
    payload_digest TEXT,               -- of the main response, for revisit records
    response_id TEXT,
    response_uri TEXT,
    response_date TEXT
);
CREATE INDEX IF NOT EXISTS checks_post ON checks(post_id, id);
CREATE TABLE IF NOT EXISTS watchlist (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                -- 'post' or 'account'
    every TEXT,
    backfill INTEGER,
    post_id TEXT,
    via TEXT,                          -- the account a post was found through
    added_at TEXT NOT NULL,
    next_due TEXT NOT NULL,
    last_polled TEXT,
    last_error TEXT,
    newest TEXT,                       -- for accounts: the first post id the last poll listed
    origin TEXT                        -- who added it: 'cli' or 'api' (NULL: before origins, the CLI)
);
CREATE INDEX IF NOT EXISTS watchlist_due ON watchlist(next_due);
CREATE TABLE IF NOT EXISTS hosts (       -- how each host answered the watcher lately (backoff)
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,         -- unreachable answers in a row
    last_failure TEXT,
    last_error TEXT,
    last_ok TEXT
);
CREATE INDEX IF NOT EXISTS watchlist_post ON watchlist(post_id);
"#;

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

/// The body of a post record (`application/vnd.samizdat.post+json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PostRecord {
    /// Format marker, `post/1`.
    pub samizdat: String,
    pub post: Post,
    /// The URL the user asked for, in the form they gave it.
    pub requested_url: String,
    /// Every record this capture wrote before the post record, in write order.
    pub record_ids: Vec<String>,
}

/// The body of a check record (`application/vnd.samizdat.check+json`, docs/states.md).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckRecord {
    /// Format marker, `check/1`.
    pub samizdat: String,
    pub post_id: String,
    pub at: String,
    pub outcome: Outcome,
    pub cause: Option<Cause>,
    /// The platform's own words or code.
    pub message: Option<String>,
    pub http_status: Option<u16>,
    /// The records this check rests on (its exchanges; for `edited`, the new post record).
    pub record_ids: Vec<String>,
    /// The new post record of an `edited` check.
    pub post_record: Option<String>,
    /// `timeline` when the post was seen in a fresh page of its account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The main response's payload digest, record id, URI and date (for revisits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_date: Option<String>,
    /// When the watcher that wrote this planned the next check (its schedule, stored so a
    /// rebuilt index resumes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check: Option<String>,
}

/// The body of a watchlist record (`application/vnd.samizdat.watch+json`).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WatchRecord {
    /// Format marker, `watch/1`.
    pub samizdat: String,
    /// `add`, `remove`, or `polled` (an account poll happened).
    pub action: String,
    pub url: String,
    /// `post` or `account`.
    pub kind: String,
    pub every: Option<String>,
    pub backfill: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record_ids: Vec<String>,
    /// For a poll: the host asked, and whether it answered (`false`: unreachable, a wall,
    /// an unknown shape), which feeds the per-host backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<bool>,
    /// For a poll: the first post id it listed (what is above it next time is new, even
    /// in a feed without dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
    /// For an add: who asked, [`ORIGIN_CLI`] (the default, and what records written before
    /// origins were recorded mean) or [`ORIGIN_API`]. Entries from the API, and the posts
    /// found through them, are fetched under the SSRF guard ever after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A watch entry added on the command line (by the operator).
pub const ORIGIN_CLI: &str = "cli";
/// A watch entry added over the web API (`POST /api/captures` with `"watch": true`), or
/// found through one (a post of an account or feed the API added).
pub const ORIGIN_API: &str = "api";

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
            // disk) cannot be opened normally: read it as immutable instead.
            let uri = format!("file:{}?immutable=1", path.display());
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
        if writable {
            idx.conn
                .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
                .map_err(|e| idx.err(e))?;
            idx.conn.execute_batch(SCHEMA).map_err(|e| idx.err(e))?;
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

    /// Number of records (= leaves) the index knows.
    pub fn leaf_count(&self) -> Result<u64> {
        let n: Option<i64> = self
            .conn
            .query_row("SELECT MAX(leaf) FROM records", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.map(|n| n as u64 + 1).unwrap_or(0))
    }

    /// The last record the index knows: where the archive's known bytes end.
    pub fn last_record(&self) -> Result<Option<RecordRow>> {
        self.record_where("leaf = (SELECT MAX(leaf) FROM records)", [])
    }

    /// The last record known in one file.
    pub fn last_in_file(&self, file: &str) -> Result<Option<RecordRow>> {
        self.record_where(
            "leaf = (SELECT MAX(leaf) FROM records WHERE file = ?1)",
            [file],
        )
    }

    pub fn record_by_id(&self, id: &str) -> Result<Option<RecordRow>> {
        self.record_where("id = ?1", [id])
    }

    pub fn record_by_leaf(&self, leaf: u64) -> Result<Option<RecordRow>> {
        self.record_where("leaf = ?1", [leaf as i64])
    }

    fn record_where<P: rusqlite::Params>(&self, cond: &str, p: P) -> Result<Option<RecordRow>> {
        let sql = format!(
            "SELECT leaf, id, file, offset, length, type, target, date, content_type, \
             block_digest, payload_digest, leaf_hash FROM records WHERE {cond}"
        );
        self.conn
            .query_row(&sql, p, row_to_record)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The rows of file `file` whose member starts in `[from, to)`, in leaf order: the
    /// records an unreadable byte range held, as far as this index knows.
    pub fn records_in(&self, file: &str, from: u64, to: u64) -> Result<Vec<RecordRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT leaf, id, file, offset, length, type, target, date, content_type, \
                 block_digest, payload_digest, leaf_hash FROM records \
                 WHERE file = ?1 AND offset >= ?2 AND offset < ?3 ORDER BY leaf LIMIT 100000",
            )
            .map_err(|e| self.err(e))?;
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        st.query_map(params![file, clamp(from), clamp(to)], row_to_record)
            .map_err(|e| self.err(e))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Checks that the file is a readable SQLite database with the records table (a
    /// damaged header or page makes this fail).
    pub fn check_readable(&self) -> Result<()> {
        let ok: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if ok != "ok" {
            return Err(Error::Damage(format!(
                "{}: SQLite integrity check failed: {ok}",
                self.path.display()
            )));
        }
        self.leaf_count().map(|_| ())
    }

    /// Leaves the database in rollback-journal mode with no `-wal` file beside it, so it
    /// can be renamed into place as one file (the next writable open turns WAL back on).
    pub fn finish_for_swap(self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;")
            .map_err(|e| self.err(e))?;
        let Index { conn, path } = self;
        conn.close().map_err(|(_, e)| index_error(&path, e))
    }

    /// Every record row in leaf order, for `verify`.
    pub fn for_each_record(&self, mut f: impl FnMut(RecordRow) -> Result<()>) -> Result<()> {
        let mut st = self
            .conn
            .prepare(
                "SELECT leaf, id, file, offset, length, type, target, date, content_type, \
                 block_digest, payload_digest, leaf_hash FROM records ORDER BY leaf",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], row_to_record).map_err(|e| self.err(e))?;
        for r in rows {
            f(r.map_err(|e| self.err(e))?)?;
        }
        Ok(())
    }

    /// Adds records (already durable in their WARC files) and everything derived from them,
    /// in one transaction.
    pub fn add(&mut self, rows: &[RecordRow], records: &[Record]) -> Result<()> {
        let path = self.path.clone();
        let e = |e| index_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO records (leaf, id, file, offset, length, type, target, date, \
                     content_type, block_digest, payload_digest, leaf_hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(e)?;
            for r in rows {
                ins.execute(params![
                    r.leaf as i64,
                    r.id,
                    r.file,
                    r.offset as i64,
                    r.length as i64,
                    r.warc_type,
                    r.target,
                    r.date,
                    r.content_type,
                    r.block_digest,
                    r.payload_digest,
                    &r.leaf_hash[..],
                ])
                .map_err(e)?;
            }
        }
        for rec in records {
            apply(&tx, rec).map_err(|m| match m {
                Applied::Sql(s) => e(s),
                Applied::Bad(msg) => Error::Archive {
                    path: path.clone(),
                    message: format!("record {}: {msg}", rec.id()),
                },
            })?;
        }
        tx.commit().map_err(e)?;
        Ok(())
    }

    /// Columns added since an index was created (`CREATE TABLE IF NOT EXISTS` keeps old
    /// tables as they were). What they hold is derived, so old rows just start empty
    /// (`reindex` fills them).
    fn migrate(&self) -> Result<()> {
        let has = |table: &str, column: &str| -> Result<bool> {
            let mut st = self
                .conn
                .prepare(&format!("PRAGMA table_info({table})"))
                .map_err(|e| self.err(e))?;
            let names = st
                .query_map([], |r| r.get::<_, String>(1))
                .map_err(|e| self.err(e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))?;
            Ok(names.iter().any(|n| n == column))
        };
        // Never used by a query; it cost 70 bytes per record.
        self.conn
            .execute_batch("DROP INDEX IF EXISTS records_target")
            .map_err(|e| self.err(e))?;
        if !has("watchlist", "newest")? {
            self.conn
                .execute_batch("ALTER TABLE watchlist ADD COLUMN newest TEXT")
                .map_err(|e| self.err(e))?;
        }
        if !has("watchlist", "origin")? {
            self.conn
                .execute_batch("ALTER TABLE watchlist ADD COLUMN origin TEXT")
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Removes everything (for `reindex`).
    pub fn clear(&mut self) -> Result<()> {
        self.conn
            .execute_batch(
                "DELETE FROM records; DELETE FROM posts; DELETE FROM post_urls; DELETE FROM url_conflicts; DELETE FROM captures; \
                 DELETE FROM checks; DELETE FROM watchlist; DELETE FROM hosts;",
            )
            .map_err(|e| self.err(e))?;
        super::search::clear(&self.conn).map_err(|e| self.err(e))
    }

    /// The post id a URL (any form the post was captured under) or id names.
    pub fn resolve(&self, key: &str) -> Result<Option<String>> {
        let direct: Option<String> = self
            .conn
            .query_row("SELECT id FROM posts WHERE id = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        if direct.is_some() {
            return Ok(direct);
        }
        self.conn
            .query_row("SELECT post_id FROM post_urls WHERE url = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The post object of docs/post.md for one post, with its whole history.
    pub fn post_json(&self, id: &str) -> Result<Option<Value>> {
        // json, state, cause, message, last_seen_live, first_seen_gone
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = self
            .conn
            .query_row(
                "SELECT json, state, cause, message, last_seen_live, first_seen_gone FROM posts WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let Some((json, state, cause, message, live, gone)) = row else {
            return Ok(None);
        };
        let mut v: Value = serde_json::from_str(&json).map_err(|e| Error::Archive {
            path: self.path.clone(),
            message: format!("post {id}: stored JSON unreadable: {e}"),
        })?;
        let o = v.as_object_mut().expect("posts are objects");
        o.insert("state".into(), json!(state));
        o.insert("cause".into(), json!(cause));
        o.insert("message".into(), json!(message));
        o.insert("last_seen_live".into(), json!(live));
        o.insert("first_seen_gone".into(), json!(gone));
        let mut captures = vec![];
        let mut st = self
            .conn
            .prepare("SELECT at, record_ids FROM captures WHERE post_id = ?1 ORDER BY at, id")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        for r in rows {
            let (at, ids) = r.map_err(|e| self.err(e))?;
            let ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
            let mut leaves = vec![];
            for rid in &ids {
                if let Some(row) = self.record_by_id(rid)? {
                    leaves.push(row.leaf);
                }
            }
            captures.push(json!({"at": at, "record_ids": ids, "leaf_indexes": leaves}));
        }
        o.insert("captures".into(), Value::Array(captures));
        let mut checks = vec![];
        let mut st = self
            .conn
            .prepare(
                "SELECT at, outcome, event, cause, message, http_status, record_id, record_ids, post_record \
                 FROM checks WHERE post_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                let ids: String = r.get(7)?;
                Ok(json!({
                    "at": r.get::<_, String>(0)?,
                    "outcome": r.get::<_, String>(1)?,
                    "event": r.get::<_, Option<String>>(2)?,
                    "cause": r.get::<_, Option<String>>(3)?,
                    "message": r.get::<_, Option<String>>(4)?,
                    "http_status": r.get::<_, Option<i64>>(5)?,
                    "record_id": r.get::<_, String>(6)?,
                    "record_ids": serde_json::from_str::<Value>(&ids).unwrap_or(Value::Null),
                    "post_record": r.get::<_, Option<String>>(8)?,
                }))
            })
            .map_err(|e| self.err(e))?;
        for r in rows {
            checks.push(r.map_err(|e| self.err(e))?);
        }
        o.insert("checks".into(), Value::Array(checks));
        Ok(Some(v))
    }

    /// Post summaries for `list`, newest capture first.
    pub fn list(&self, f: &ListFilter) -> Result<Vec<Value>> {
        let mut sql = String::from(
            "SELECT id, platform, url, author_name, created_at, state, first_captured, last_captured, \
             substr(coalesce(text, ''), 1, 200) FROM posts WHERE 1=1",
        );
        let mut args: Vec<String> = vec![];
        if let Some(p) = &f.platform {
            args.push(p.clone());
            sql += &format!(" AND platform = ?{}", args.len());
        }
        if let Some(s) = &f.state {
            args.push(s.clone());
            sql += &format!(" AND state = ?{}", args.len());
        }
        if let Some(s) = &f.since {
            args.push(s.clone());
            sql += &format!(" AND last_captured >= ?{}", args.len());
        }
        if let Some(a) = &f.author {
            args.push(a.clone());
            sql += &format!(
                " AND (author_name = ?{n} OR author_id = ?{n})",
                n = args.len()
            );
        }
        sql += " ORDER BY last_captured DESC, id";
        if f.limit > 0 {
            sql += &format!(" LIMIT {}", f.limit);
        }
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "platform": r.get::<_, String>(1)?,
                    "url": r.get::<_, String>(2)?,
                    "author": r.get::<_, Option<String>>(3)?,
                    "created_at": r.get::<_, Option<String>>(4)?,
                    "state": r.get::<_, String>(5)?,
                    "first_captured": r.get::<_, String>(6)?,
                    "last_captured": r.get::<_, String>(7)?,
                    "text": r.get::<_, String>(8)?,
                }))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
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
        id: r.get(1)?,
        file: r.get(2)?,
        offset: r.get::<_, i64>(3)? as u64,
        length: r.get::<_, i64>(4)? as u64,
        warc_type: r.get(5)?,
        target: r.get(6)?,
        date: r.get(7)?,
        content_type: r.get(8)?,
        block_digest: r.get(9)?,
        payload_digest: r.get(10)?,
        leaf_hash,
    })
}

enum Applied {
    Sql(rusqlite::Error),
    Bad(String),
}

impl From<rusqlite::Error> for Applied {
    fn from(e: rusqlite::Error) -> Self {
        Applied::Sql(e)
    }
}

/// Derives index rows from one record. The only place posts and captures are written.
fn apply(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let ct = rec.field("Content-Type").unwrap_or("");
    if rec.warc_type() != super::warc::kind::RESOURCE {
        return Ok(());
    }
    match ct {
        mime::POST => apply_post(tx, rec),
        mime::CHECK => apply_check(tx, rec),
        mime::WATCH => apply_watch(tx, rec),
        _ => Ok(()),
    }
}

/// A check: one row in `checks`, and the post's state per docs/states.md, as
/// [`state::after_check`] derives it (the same function `verify-bundle` replays).
fn apply_check(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let c: CheckRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("check record is not valid JSON: {e}")))?;
    let at = c.at.as_str();
    type PostRow = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let cur: Option<PostRow> = tx
        .query_row(
            "SELECT state, cause, message, last_seen_live, first_seen_gone FROM posts WHERE id = ?1",
            [&c.post_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let prev = match cur {
        None => None,
        Some((st, cause, message, last_seen_live, first_seen_gone)) => Some(state::Facts {
            state: state::State::parse(&st).ok_or_else(|| {
                Applied::Bad(format!("post {} has unknown state {st:?}", c.post_id))
            })?,
            cause: cause.as_deref().and_then(Cause::parse),
            message,
            last_seen_live,
            first_seen_gone,
        }),
    };
    let last_definite: Option<(String, String)> = tx
        .query_row(
            "SELECT outcome, at FROM checks WHERE post_id = ?1 AND outcome != 'unreachable' \
             ORDER BY id DESC LIMIT 1",
            [&c.post_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let last_definite = last_definite
        .as_ref()
        .and_then(|(o, at)| Some((Outcome::parse(o)?, at.as_str())));
    let (next, event) = state::after_check(
        prev.as_ref(),
        last_definite,
        &state::CheckIn {
            outcome: c.outcome,
            cause: c.cause,
            message: c.message.as_deref(),
            at,
        },
    );
    if let Some(n) = next.filter(|n| Some(n) != prev.as_ref()) {
        tx.execute(
            "UPDATE posts SET state = ?2, cause = ?3, message = ?4, last_seen_live = ?5, \
             first_seen_gone = ?6 WHERE id = ?1",
            params![
                c.post_id,
                n.state.as_str(),
                n.cause.map(Cause::as_str),
                n.message,
                n.last_seen_live,
                n.first_seen_gone
            ],
        )?;
    }
    let event = event.map(state::Event::as_str);
    let digest = c.payload_digest.clone();
    tx.execute(
        "INSERT INTO checks (post_id, at, outcome, event, cause, message, http_status, host, record_id, \
         record_ids, post_record, payload_digest, response_id, response_uri, response_date) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            c.post_id,
            at,
            c.outcome.as_str(),
            event,
            c.cause.map(Cause::as_str),
            c.message,
            c.http_status.map(i64::from),
            c.host,
            rec.id(),
            serde_json::to_string(&c.record_ids).expect("ids serialise"),
            c.post_record,
            digest,
            c.response_id,
            c.response_uri,
            c.response_date,
        ],
    )?;
    if let Some(next) = &c.next_check {
        tx.execute(
            "UPDATE watchlist SET next_due = ?2 WHERE post_id = ?1 AND kind = 'post'",
            params![c.post_id, next],
        )?;
    }
    if let Some(host) = &c.host {
        note_host(
            tx,
            host,
            at,
            c.outcome != Outcome::Unreachable,
            c.message.as_deref(),
        )?;
    }
    Ok(())
}

/// One more answer (or failure) of `host`, for the watcher's per-host backoff.
fn note_host(
    tx: &rusqlite::Transaction,
    host: &str,
    at: &str,
    answered: bool,
    error: Option<&str>,
) -> rusqlite::Result<()> {
    if answered {
        tx.execute(
            "INSERT INTO hosts (host, failures, last_ok) VALUES (?1, 0, ?2) \
             ON CONFLICT(host) DO UPDATE SET failures = 0, last_ok = ?2",
            params![host, at],
        )?;
    } else {
        tx.execute(
            "INSERT INTO hosts (host, failures, last_failure, last_error) VALUES (?1, 1, ?2, ?3) \
             ON CONFLICT(host) DO UPDATE SET failures = failures + 1, last_failure = ?2, last_error = ?3",
            params![host, at, error],
        )?;
    }
    Ok(())
}

/// A watchlist change or an account poll.
fn apply_watch(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let w: WatchRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("watch record is not valid JSON: {e}")))?;
    let at = w.at.clone().unwrap_or_else(|| rec.date().to_string());
    match w.action.as_str() {
        "add" => {
            tx.execute(
                "INSERT INTO watchlist (url, kind, every, backfill, post_id, via, added_at, next_due, origin) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT(url) DO UPDATE SET kind = ?2, every = ?3, backfill = ?4, \
                 post_id = coalesce(?5, post_id), via = coalesce(via, ?6), origin = ?9",
                params![
                    w.url,
                    w.kind,
                    w.every,
                    w.backfill,
                    w.post_id,
                    w.via,
                    at,
                    w.next_check.clone().unwrap_or_else(|| at.clone()),
                    // The latest add decides: the operator adding an entry again on the
                    // command line vouches for it; the API adding it again guards it.
                    w.origin.as_deref().unwrap_or(ORIGIN_CLI)
                ],
            )?;
        }
        "remove" => {
            tx.execute("DELETE FROM watchlist WHERE url = ?1", [&w.url])?;
        }
        "polled" => {
            tx.execute(
                "UPDATE watchlist SET last_polled = ?2, last_error = ?3, next_due = coalesce(?4, next_due), \
                 newest = coalesce(?5, newest) WHERE url = ?1",
                params![w.url, at, w.error, w.next_check, w.newest],
            )?;
            if let (Some(host), Some(answered)) = (&w.host, w.answered) {
                note_host(tx, host, &at, answered, w.error.as_deref())?;
            }
        }
        a => return Err(Applied::Bad(format!("unknown watch action {a:?}"))),
    }
    Ok(())
}

fn apply_post(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let pr: PostRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("post record is not valid JSON: {e}")))?;
    let p = &pr.post;
    let at = rec.date();
    // What a capture makes of the post (state::after_capture).
    let facts = state::after_capture(None, at);
    let json = serde_json::to_string(p).expect("posts serialise");
    let author_id = p.author.as_ref().and_then(|a| a.id.clone());
    let author_name = p.author.as_ref().and_then(|a| a.name.clone());
    tx.execute(
        "INSERT INTO posts (id, platform, platform_id, url, author_id, author_name, created_at, text, json, \
         state, last_seen_live, first_captured, last_captured) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?11) \
         ON CONFLICT(id) DO UPDATE SET url = ?4, author_id = ?5, author_name = ?6, created_at = ?7, \
         text = ?8, json = ?9, state = ?10, cause = NULL, message = NULL, last_seen_live = ?11, \
         first_seen_gone = NULL, last_captured = ?11",
        params![
            p.id.0,
            p.platform,
            p.platform_id,
            p.url,
            author_id,
            author_name,
            p.created_at,
            p.text,
            json,
            facts.state.as_str(),
            at,
        ],
    )?;
    super::search::index_post(
        tx,
        &p.id.0,
        p.text.as_deref(),
        &[author_name.as_deref(), author_id.as_deref()],
    )?;
    let mut urls: Vec<&str> = vec![p.url.as_str(), pr.requested_url.as_str()];
    urls.extend(p.alt_urls.iter().map(String::as_str));
    // The first post to claim a URL keeps it: a later post naming it (a canonical URL, a
    // platform answer naming another post's address) cannot re-point it. The later claim
    // stays in its post record and is noted as a conflict (`show` says so). The first
    // claim is the first in the log, so a rebuilt index decides the same.
    for u in urls {
        tx.execute(
            "INSERT INTO post_urls (url, post_id) VALUES (?1, ?2) ON CONFLICT(url) DO NOTHING",
            params![u, p.id.0],
        )?;
        let holder: String =
            tx.query_row("SELECT post_id FROM post_urls WHERE url = ?1", [u], |r| {
                r.get(0)
            })?;
        if holder != p.id.0 {
            tx.execute(
                "INSERT OR IGNORE INTO url_conflicts (url, holder, post_id, record_id) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![u, holder, p.id.0, rec.id()],
            )?;
        }
    }
    let mut ids = pr.record_ids.clone();
    ids.push(rec.id().to_string());
    tx.execute(
        "INSERT INTO captures (post_id, at, post_record, record_ids) VALUES (?1, ?2, ?3, ?4)",
        params![
            p.id.0,
            at,
            rec.id(),
            serde_json::to_string(&ids).expect("ids serialise")
        ],
    )?;
    Ok(())
}

impl Index {
    /// The warcinfo record that opens a file, if the index knows the file.
    /// The response records of a post's latest capture (what its first check can be a
    /// revisit of).
    pub fn capture_responses(&self, post_id: &str) -> Result<Vec<RecordRow>> {
        let ids: Option<String> = self
            .conn
            .query_row(
                "SELECT record_ids FROM captures WHERE post_id = ?1 ORDER BY at DESC, id DESC LIMIT 1",
                [post_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let ids: Vec<String> = ids
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        let mut out = vec![];
        for id in ids {
            if let Some(r) = self.record_by_id(&id)?
                && r.warc_type == super::warc::kind::RESPONSE
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The file a record is in (by the `id` index: cheap).
    pub fn record_file(&self, id: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT file FROM records WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The warcinfo record of a WARC file. Scans the records in leaf order: an append
    /// asks [`Index::record_file`] about the one it remembers first.
    pub fn warcinfo_of(&self, file: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT id FROM records WHERE file = ?1 AND type = 'warcinfo' ORDER BY leaf LIMIT 1",
                [file],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

impl Index {
    /// Record rows with `from <= leaf < to`, in leaf order.
    pub fn records_range(&self, from: u64, to: u64) -> Result<Vec<RecordRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT leaf, id, file, offset, length, type, target, date, content_type, \
                 block_digest, payload_digest, leaf_hash FROM records WHERE leaf >= ?1 AND leaf < ?2 ORDER BY leaf",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([from as i64, to as i64], row_to_record)
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }
}

impl Index {
    /// The watchlist, or the entries due at or before `due_by`, oldest due first.
    pub fn watchlist(&self, due_by: Option<&str>) -> Result<Vec<WatchRow>> {
        let mut sql = String::from(
            "SELECT w.url, w.kind, w.every, w.backfill, w.post_id, w.via, w.added_at, w.next_due, \
             w.last_polled, w.last_error, p.state, p.first_captured, p.url, w.newest, \
             coalesce(w.origin, 'cli') \
             FROM watchlist w LEFT JOIN posts p ON p.id = w.post_id",
        );
        if due_by.is_some() {
            sql += " WHERE w.next_due <= ?1";
        }
        sql += " ORDER BY w.next_due, w.url";
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let map = |r: &rusqlite::Row| {
            Ok(WatchRow {
                url: r.get(0)?,
                kind: r.get(1)?,
                every: r.get(2)?,
                backfill: r.get::<_, Option<i64>>(3)?.map(|n| n as u32),
                post_id: r.get(4)?,
                via: r.get(5)?,
                added_at: r.get(6)?,
                next_due: r.get(7)?,
                last_polled: r.get(8)?,
                last_error: r.get(9)?,
                state: r.get(10)?,
                first_captured: r.get(11)?,
                post_url: r.get(12)?,
                newest: r.get(13)?,
                origin: r.get(14)?,
            })
        };
        let rows = match due_by {
            Some(d) => st.query_map([d], map),
            None => st.query_map([], map),
        }
        .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The newest version of a post the archive holds (the post record alone, without the
    /// history `post_json` gathers).
    pub fn post(&self, id: &str) -> Result<Option<crate::model::Post>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM posts WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// The URLs this post names that another post claimed first, and those it holds that
    /// later posts named too: `{url, belongs_to, also_claimed_by}` each.
    pub fn url_conflicts(&self, post_id: &str) -> Result<Vec<Value>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT url, holder, post_id FROM url_conflicts \
                 WHERE post_id = ?1 OR holder = ?1 ORDER BY url, post_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([post_id], |r| {
                Ok(json!({
                    "url": r.get::<_, String>(0)?,
                    "belongs_to": r.get::<_, String>(1)?,
                    "also_claimed_by": r.get::<_, String>(2)?,
                }))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// Whether any watch entry of this post came from the API (then it is checked under
    /// the SSRF guard, whoever asks for the check).
    pub fn watched_from_api(&self, post_id: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM watchlist WHERE post_id = ?1 AND origin = ?2",
                params![post_id, ORIGIN_API],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// For a post on the watchlist: when it was first captured, and its own interval.
    pub fn watched_post(&self, post_id: &str) -> Result<Option<(String, Option<String>)>> {
        self.conn
            .query_row(
                "SELECT p.first_captured, w.every FROM watchlist w JOIN posts p ON p.id = w.post_id \
                 WHERE w.post_id = ?1 AND w.kind = 'post' LIMIT 1",
                [post_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// How each host answered the watcher lately.
    pub fn hosts(&self) -> Result<Vec<HostRow>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT host, failures, last_failure, last_error, last_ok FROM hosts ORDER BY host",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok(HostRow {
                    host: r.get(0)?,
                    failures: r.get::<_, i64>(1)? as u32,
                    last_failure: r.get(2)?,
                    last_error: r.get(3)?,
                    last_ok: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }

    /// The newest check of a post, with the post's stored fingerprint source.
    pub fn last_check(&self, post_id: &str) -> Result<Option<LastCheck>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM posts WHERE id = ?1", [post_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        let c = self
            .conn
            .query_row(
                "SELECT at, payload_digest, response_id, response_uri, response_date FROM checks \
                 WHERE post_id = ?1 ORDER BY id DESC LIMIT 1",
                [post_id],
                |r| {
                    Ok(LastCheck {
                        at: r.get(0)?,
                        payload_digest: r.get(1)?,
                        response_id: r.get(2)?,
                        response_uri: r.get(3)?,
                        response_date: r.get(4)?,
                        fingerprint_json: None,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match (c, json) {
            (Some(mut c), j) => {
                c.fingerprint_json = j;
                Some(c)
            }
            (None, Some(j)) => Some(LastCheck {
                at: String::new(),
                payload_digest: None,
                response_id: None,
                response_uri: None,
                response_date: None,
                fingerprint_json: Some(j),
            }),
            (None, None) => None,
        })
    }

    /// Number of checks of a post that are not `unreachable` plus first capture time.
    pub fn post_state(&self, post_id: &str) -> Result<Option<(String, String)>> {
        self.conn
            .query_row(
                "SELECT state, first_captured FROM posts WHERE id = ?1",
                [post_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// `watch status`: posts per state, entries due by `now`, last error per host.
    pub fn watch_status(&self, now: &str) -> Result<Value> {
        let q = |sql: &str| -> Result<Vec<(String, i64)>> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(|e| self.err(e))
        };
        let states = q("SELECT state, count(*) FROM posts GROUP BY state ORDER BY state")?;
        let mut by_state = serde_json::Map::new();
        for (s, n) in states {
            by_state.insert(s, json!(n));
        }
        let count = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [now], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let due_posts =
            count("SELECT count(*) FROM watchlist WHERE kind = 'post' AND next_due <= ?1")?;
        let due_accounts =
            count("SELECT count(*) FROM watchlist WHERE kind = 'account' AND next_due <= ?1")?;
        let watched = q("SELECT kind, count(*) FROM watchlist GROUP BY kind")?;
        let mut errors = serde_json::Map::new();
        let mut st = self
            .conn
            .prepare(
                "SELECT host, at, message FROM checks WHERE id IN \
                 (SELECT max(id) FROM checks WHERE outcome = 'unreachable' AND host IS NOT NULL GROUP BY host) \
                 ORDER BY host",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for r in rows {
            let (h, at, m) = r.map_err(|e| self.err(e))?;
            errors.insert(h, json!({"at": at, "message": m}));
        }
        let mut w = serde_json::Map::new();
        for (k, n) in watched {
            w.insert(k, json!(n));
        }
        Ok(json!({
            "now": now,
            "posts_by_state": by_state,
            "watched": w,
            "due": {"posts": due_posts, "accounts": due_accounts, "total": due_posts + due_accounts},
            "last_error_per_host": errors,
        }))
    }
}

impl Index {
    /// Posts in the archive that repost `post_id` (id and URL), newest capture first.
    /// Weibo shows why a post is gone only inside its reposts (see `platforms/weibo.rs`).
    pub fn reposts_of(&self, post_id: &str) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, url FROM posts WHERE json_extract(json, '$.repost_of.id') = ?1 \
                 ORDER BY last_captured DESC LIMIT 5",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([post_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_from_before_a_new_column_gains_it_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        {
            // The watchlist as the first release created it.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE watchlist (url TEXT PRIMARY KEY, kind TEXT NOT NULL, every TEXT, \
                 backfill INTEGER, post_id TEXT, via TEXT, added_at TEXT NOT NULL, \
                 next_due TEXT NOT NULL, last_polled TEXT, last_error TEXT); \
                 INSERT INTO watchlist (url, kind, added_at, next_due) \
                 VALUES ('https://t.me/s/x', 'account', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');",
            )
            .unwrap();
        }
        let ix = Index::open(&path, true).unwrap();
        let rows = ix.watchlist(None).unwrap();
        assert_eq!(rows.len(), 1, "the old row is kept");
        assert_eq!(rows[0].newest, None);
        // Opening again does not try to add it twice.
        drop(ix);
        Index::open(&path, true).unwrap();
    }
}
