//! Numbered steps from an older index to the current schema (`PRAGMA user_version`).

use super::{Index, codec, decode, row_to_record};
use super::schema::{SCHEMA, VERSION};
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
];

impl Index {
    /// Creates the tables a fresh index lacks, then runs the steps above the index's
    /// `user_version`, each in its own transaction with the version it reaches. What the
    /// index holds is derived, so rows of an older index just start with new columns
    /// empty (`reindex` fills them). An index from a newer samizdat (a higher version) is
    /// left as it is: steps only ever add, so what this version reads is there.
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

    fn has_column(&self, table: &str, column: &str) -> Result<bool> {
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
            "DROP INDEX IF EXISTS checks_post; \
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
        let mut write = ix
            .conn
            .prepare(super::derive::INSERT_RECORD)
            .map_err(e)?;
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
                decode(r, 11, codec::id_text_opt)?
                    .as_deref()
                    .map(codec::id),
                decode(r, 12, codec::id_text_opt)?
                    .as_deref()
                    .map(codec::id),
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
