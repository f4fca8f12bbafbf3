//! Numbered steps from an older index to the current schema (`PRAGMA user_version`).

use super::schema::{SCHEMA, VERSION};
use super::{Index, codec, decode, row_to_record};
use crate::error::Result;

/// One step: the version it brings an index to, and what it does. Steps are kept
/// forever, in order; a step must be safe on an index that already has what it adds (an
/// index created fresh at an older version runs the steps after its version only, but
/// indexes from before numbering, version 0, may have any of the older steps' changes).
struct Step {
    to: i64,
    run: fn(&Index) -> Result<()>,
}

const STEPS: &[Step] = &[
    Step {
        to: 1,
        run: to_1_watchlist_columns,
    },
    Step {
        to: 2,
        run: to_2_dense_records_and_checks,
    },
    Step {
        to: 3,
        run: to_3_stemmed_search,
    },
    Step {
        to: 4,
        run: to_4_threads,
    },
    Step {
        to: 5,
        run: to_5_renders,
    },
    Step {
        to: 6,
        run: to_6_alerts,
    },
];

impl Index {
    /// Creates the tables a fresh index lacks, then runs the steps above the index's
    /// `user_version`, each in its own transaction with the version it reaches. What the
    /// index holds is derived, so rows of an older index just start with new columns
    /// empty (`reindex` fills them), or are converted (step 2). An index from a newer
    /// samizdat (a higher version) is left as it is. A samizdat from before step 2 cannot
    /// read an index converted by it (record ids are bytes there): its `reindex` rebuilds
    /// one it can read from the records.
    pub(super) fn migrate(&self) -> Result<()> {
        self.conn.execute_batch(SCHEMA).map_err(|e| self.err(e))?;
        let from = self.user_version()?;
        let mut at = from;
        for step in STEPS.iter().filter(|s| s.to > from) {
            let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
            (step.run)(self)?;
            tx.pragma_update(None, "user_version", step.to)
                .map_err(|e| self.err(e))?;
            tx.commit().map_err(|e| self.err(e))?;
            at = step.to;
        }
        debug_assert!(at >= VERSION, "a step for every version up to VERSION");
        Ok(())
    }

    /// The schema version the index is at (`PRAGMA user_version`: 0 before numbering).
    pub fn user_version(&self) -> Result<i64> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    pub(super) fn has_column(&self, table: &str, column: &str) -> Result<bool> {
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
    }
}

/// 1: the watchlist's `newest` (an account poll's first post) and `origin` (who added
/// the entry) columns, and no `records_target` index (never used by a query; it cost 70
/// bytes per record). What indexes from before numbering may lack.
fn to_1_watchlist_columns(ix: &Index) -> Result<()> {
    ix.conn
        .execute_batch("DROP INDEX IF EXISTS records_target")
        .map_err(|e| ix.err(e))?;
    for column in ["newest", "origin"] {
        if !ix.has_column("watchlist", column)? {
            ix.conn
                .execute_batch(&format!("ALTER TABLE watchlist ADD COLUMN {column} TEXT"))
                .map_err(|e| ix.err(e))?;
        }
    }
    Ok(())
}

/// 2: the records and checks tables as `codec` stores them (record ids as 16 bytes,
/// digests as 32, dates as microseconds, files, types and content types as numbers), and
/// the checks table without its copies of the response's URI, date and digest (its
/// `response` names the record: a join). About 450 bytes a record and 550 a check became
/// about 200 and 100. Every row is converted in place of the old table; the pages freed
/// are reused as the index grows (`reindex` builds a compact file). Safe on any older
/// layout: every value is read through `codec`, which takes text and encoded values
/// alike, and a column an old index lacks is read as empty.
fn to_2_dense_records_and_checks(ix: &Index) -> Result<()> {
    let e = |e| ix.err(e);
    let col = |table: &str, c: &str| -> Result<String> {
        Ok(if ix.has_column(table, c)? {
            c.to_string()
        } else {
            "NULL".to_string()
        })
    };
    ix.conn
        .execute_batch(
            "DROP INDEX IF EXISTS checks_post; DROP INDEX IF EXISTS records_warcinfo; \
             ALTER TABLE records RENAME TO records_v1; ALTER TABLE checks RENAME TO checks_v1;",
        )
        .map_err(e)?;
    ix.conn.execute_batch(SCHEMA).map_err(e)?;
    {
        let mut read = ix
            .conn
            .prepare(
                "SELECT leaf, id, file, offset, length, type, target, date, content_type, \
                 block_digest, payload_digest, leaf_hash FROM records_v1 ORDER BY leaf",
            )
            .map_err(e)?;
        let mut write = ix.conn.prepare(super::derive::INSERT_RECORD).map_err(e)?;
        let rows = read.query_map([], row_to_record).map_err(e)?;
        for r in rows {
            super::derive::insert_record(&mut write, &r.map_err(e)?).map_err(e)?;
        }
    }
    {
        // `response` in a table already of this layout (a fresh index runs every step).
        let response = match col("checks_v1", "response")?.as_str() {
            "NULL" => col("checks_v1", "response_id")?,
            c => c.to_string(),
        };
        let host = col("checks_v1", "host")?;
        let mut read = ix
            .conn
            .prepare(&format!(
                "SELECT id, post_id, at, outcome, event, cause, message, http_status, {host}, \
                 record_id, record_ids, post_record, {response} FROM checks_v1 ORDER BY id"
            ))
            .map_err(e)?;
        let mut write = ix
            .conn
            .prepare(
                "INSERT INTO checks (id, post_id, at, outcome, event, cause, message, http_status, \
                 host, record_id, record_ids, post_record, response) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(e)?;
        let mut rows = read.query([]).map_err(e)?;
        let mut convert = |r: &rusqlite::Row| -> rusqlite::Result<usize> {
            let text = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
            write.execute(rusqlite::params![
                r.get::<_, i64>(0)?,
                text(1)?,
                codec::date(&decode(r, 2, codec::date_text)?),
                text(3)?,
                text(4)?,
                text(5)?,
                text(6)?,
                r.get::<_, Option<i64>>(7)?,
                text(8)?,
                codec::id(&decode(r, 9, codec::id_text)?),
                codec::ids(&decode(r, 10, codec::ids_text)?),
                decode(r, 11, codec::id_text_opt)?.as_deref().map(codec::id),
                decode(r, 12, codec::id_text_opt)?.as_deref().map(codec::id),
            ])
        };
        while let Some(r) = rows.next().map_err(e)? {
            convert(r).map_err(e)?;
        }
    }
    ix.conn
        .execute_batch("DROP TABLE records_v1; DROP TABLE checks_v1;")
        .map_err(e)?;
    Ok(())
}

/// 3: full-text search stems English words (the `porter` tokenizer over `unicode61`:
/// "bank card" finds "bank cards"). The FTS table is made again with the new tokenizer
/// and filled from the posts table (`store::search::rebuild`), which holds every post's
/// text and author: no WARC file is read. Posts keep their order (the `search_docs` row
/// ids); an index from before search had its tables gains them here.
fn to_3_stemmed_search(ix: &Index) -> Result<()> {
    crate::store::search::rebuild(&ix.conn).map_err(|e| ix.err(e))?;
    Ok(())
}

/// 4: comments (docs/comments.md): the posts' `thread_of` and `reply_to`, and the index
/// of a post's comments (the `threads` table is in the schema). Older archives hold no
/// comments, so there is nothing to fill in.
fn to_4_threads(ix: &Index) -> Result<()> {
    for column in ["thread_of", "reply_to"] {
        if !ix.has_column("posts", column)? {
            ix.conn
                .execute_batch(&format!("ALTER TABLE posts ADD COLUMN {column} TEXT"))
                .map_err(|e| ix.err(e))?;
        }
    }
    ix.conn
        .execute_batch(
            "CREATE INDEX IF NOT EXISTS posts_thread ON posts(thread_of) WHERE thread_of IS NOT NULL",
        )
        .map_err(|e| ix.err(e))
}

/// 5: browser renders (docs/render.md): each capture's render, from its post record.
/// Older archives hold no renders, so there is nothing to fill in.
fn to_5_renders(ix: &Index) -> Result<()> {
    if !ix.has_column("captures", "render")? {
        ix.conn
            .execute_batch("ALTER TABLE captures ADD COLUMN render TEXT")
            .map_err(|e| ix.err(e))?;
    }
    Ok(())
}

/// 6: alerts (docs/alerts.md): the watchlist's tags and new-post mark, when a host began
/// failing (the alert tables are in the schema). Older archives hold no tags and no
/// new-post marks; a failing host's first failure is its first unreachable check since
/// its last definite answer (a failed poll before it is not in a table: `reindex` counts
/// it), else its last failure.
fn to_6_alerts(ix: &Index) -> Result<()> {
    for (table, column, ty) in [
        ("watchlist", "tags", "TEXT"),
        ("watchlist", "new_post", "INTEGER"),
        ("hosts", "failing_since", "TEXT"),
    ] {
        if !ix.has_column(table, column)? {
            ix.conn
                .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
                .map_err(|e| ix.err(e))?;
        }
    }
    let failing: Vec<(String, Option<String>, Option<String>)> = {
        let mut st = ix
            .conn
            .prepare(
                "SELECT host, last_ok, last_failure FROM hosts WHERE failures > 0 AND failing_since IS NULL",
            )
            .map_err(|e| ix.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(|e| ix.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| ix.err(e))?
    };
    for (host, last_ok, last_failure) in failing {
        let after = last_ok
            .as_deref()
            .map(codec::date)
            .unwrap_or(rusqlite::types::Value::Integer(i64::MIN));
        let first: Option<String> = ix
            .conn
            .query_row(
                "SELECT min(at) FROM checks WHERE host = ?1 AND outcome = 'unreachable' AND at > ?2",
                rusqlite::params![host, after],
                |r| decode(r, 0, codec::date_text_opt),
            )
            .map_err(|e| ix.err(e))?;
        ix.conn
            .execute(
                "UPDATE hosts SET failing_since = ?2 WHERE host = ?1",
                rusqlite::params![host, first.or(last_failure)],
            )
            .map_err(|e| ix.err(e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

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

    #[test]
    fn a_fresh_index_is_at_the_current_version_and_an_unnumbered_one_is_brought_up() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.sqlite");
        let ix = Index::open(&fresh, true).unwrap();
        assert_eq!(ix.user_version().unwrap(), VERSION);
        drop(ix);
        // Read-only opens do not migrate (nor fail).
        assert_eq!(
            Index::open(&fresh, false).unwrap().user_version().unwrap(),
            VERSION
        );

        let old = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&old).unwrap();
            c.execute_batch(
                "CREATE TABLE records (leaf INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
                 file TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, \
                 type TEXT NOT NULL, target TEXT, date TEXT NOT NULL, content_type TEXT, \
                 block_digest TEXT, payload_digest TEXT, leaf_hash BLOB NOT NULL); \
                 CREATE INDEX records_target ON records(target);",
            )
            .unwrap();
        }
        let ix = Index::open(&old, true).unwrap();
        assert_eq!(ix.user_version().unwrap(), VERSION);
        assert!(ix.has_column("watchlist", "origin").unwrap());
        let left: i64 = ix
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'records_target'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0, "step 1 drops the unused index");
    }

    #[test]
    fn schema_1_rows_are_converted_and_read_back_as_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        let id = "<urn:uuid:0f8e9a6c-1b2d-4e3f-8a9b-0c1d2e3f4a5b>";
        let check_id = "<urn:uuid:1f8e9a6c-1b2d-4e3f-8a9b-0c1d2e3f4a5b>";
        let digest = format!("sha256:{}", "ab".repeat(32));
        {
            // The records and checks tables as schema 1 created them.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE records (leaf INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, \
                 file TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, \
                 type TEXT NOT NULL, target TEXT, date TEXT NOT NULL, content_type TEXT, \
                 block_digest TEXT, payload_digest TEXT, leaf_hash BLOB NOT NULL); \
                 CREATE TABLE checks (id INTEGER PRIMARY KEY, post_id TEXT NOT NULL, \
                 at TEXT NOT NULL, outcome TEXT NOT NULL, event TEXT, cause TEXT, message TEXT, \
                 http_status INTEGER, host TEXT, record_id TEXT NOT NULL, record_ids TEXT NOT NULL, \
                 post_record TEXT, payload_digest TEXT, response_id TEXT, response_uri TEXT, \
                 response_date TEXT); \
                 CREATE INDEX checks_post ON checks(post_id, id);",
            )
            .unwrap();
            c.execute(
                "INSERT INTO records VALUES (0, ?1, 'samizdat-00000001.warc.gz', 10, 20, 'response', \
                 'https://example.com/a', '2026-01-01T00:00:00.123456Z', \
                 'application/http; msgtype=response', ?2, ?2, x'0101')",
                rusqlite::params![id, digest],
            )
            .unwrap();
            // Values not in samizdat's forms stay as they are.
            c.execute(
                "INSERT INTO records VALUES (1, '<urn:uuid:odd>', 'other.warc.gz', 30, 40, 'damaged', \
                 NULL, '2026-01-01T00:00:00Z', 'text/html', 'sha1:XYZ', NULL, x'02')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO checks VALUES (7, 'web:a', '2026-01-02T00:00:00.000000Z', 'live', NULL, \
                 NULL, NULL, 200, 'example.com', ?1, ?2, NULL, ?3, ?4, 'https://example.com/a', \
                 '2026-01-01T00:00:00.123456Z')",
                rusqlite::params![check_id, format!("[\"{id}\"]"), digest, id],
            )
            .unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
        }
        let ix = Index::open(&path, true).unwrap();
        assert_eq!(ix.user_version().unwrap(), VERSION);
        let r = ix.record_by_id(id).unwrap().expect("found by its id");
        assert_eq!(
            (
                r.leaf,
                r.file.as_str(),
                r.offset,
                r.length,
                r.warc_type.as_str()
            ),
            (0, "samizdat-00000001.warc.gz", 10, 20, "response")
        );
        assert_eq!(r.date, "2026-01-01T00:00:00.123456Z");
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/http; msgtype=response")
        );
        assert_eq!(r.block_digest.as_deref(), Some(digest.as_str()));
        assert_eq!(r.payload_digest.as_deref(), Some(digest.as_str()));
        let odd = ix.record_by_id("<urn:uuid:odd>").unwrap().unwrap();
        assert_eq!(
            (odd.file.as_str(), odd.warc_type.as_str(), odd.date.as_str()),
            ("other.warc.gz", "damaged", "2026-01-01T00:00:00Z")
        );
        assert_eq!(odd.content_type.as_deref(), Some("text/html"));
        assert_eq!(odd.block_digest.as_deref(), Some("sha1:XYZ"));
        assert_eq!(
            ix.record_file(id).unwrap().as_deref(),
            Some("samizdat-00000001.warc.gz")
        );
        // The check: its response by the join, its ids and date back as text.
        let l = ix.last_check("web:a").unwrap().unwrap();
        assert_eq!(l.at, "2026-01-02T00:00:00.000000Z");
        assert_eq!(l.payload_digest.as_deref(), Some(digest.as_str()));
        assert_eq!(l.response_id.as_deref(), Some(id));
        assert_eq!(l.response_uri.as_deref(), Some("https://example.com/a"));
        assert_eq!(
            l.response_date.as_deref(),
            Some("2026-01-01T00:00:00.123456Z")
        );
        let (types, n): (String, i64) = ix
            .conn
            .query_row(
                "SELECT typeof(id) || typeof(date) || typeof(type) || typeof(block_digest), \
                 (SELECT count(*) FROM records) FROM records WHERE leaf = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((types.as_str(), n), ("blobintegerintegerblob", 2));
        let types: String = ix
            .conn
            .query_row(
                "SELECT typeof(at) || typeof(record_id) || typeof(record_ids) || typeof(response) \
                 FROM checks WHERE id = 7",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(types, "integerblobblobblob");
        // The old tables are gone, the index on checks is back.
        let left: i64 = ix
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v1' \
                 OR (name = 'checks_post' AND tbl_name = 'checks')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 1);
        // A file's warcinfo is found by the partial index, not by a scan of every record.
        let plan: String = ix
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT id FROM records WHERE file = 1 AND type = 1 \
                 ORDER BY leaf LIMIT 1",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("records_warcinfo"), "{plan}");
        drop(ix);
        // Opening again changes nothing.
        let ix = Index::open(&path, true).unwrap();
        assert_eq!(ix.record_by_id(id).unwrap().unwrap(), r);
    }

    #[test]
    fn an_index_from_a_newer_version_is_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        drop(Index::open(&path, true).unwrap());
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", VERSION + 5).unwrap();
        }
        let ix = Index::open(&path, true).unwrap();
        assert_eq!(ix.user_version().unwrap(), VERSION + 5);
        assert_eq!(ix.watchlist(None).unwrap().len(), 0);
    }
}
