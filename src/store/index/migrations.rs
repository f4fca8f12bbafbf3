//! Numbered steps from an older index to the current schema (`PRAGMA user_version`).

use super::Index;
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

const STEPS: &[Step] = &[Step {
    to: 1,
    run: to_1_watchlist_columns,
}];

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
