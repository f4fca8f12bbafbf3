//! Reads of the index.

use super::{
    HostRow, Index, LastCheck, ListFilter, ORIGIN_API, RecordRow, WatchRow, codec, decode,
    index_error, row_to_record,
};
use crate::error::{Error, Result};
use crate::model::{Cause, Outcome, Post};
use crate::platforms::{self, Target};
use crate::store::state::{Event, State};
use crate::store::views::{
    CaptureView, CheckView, Due, HostError, PostSummary, PostView, UrlConflict, WatchCounts,
};
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;

impl Index {
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
        self.record_where("id = ?1", [codec::id(id)])
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
        st.query_map(
            params![codec::file(file), clamp(from), clamp(to)],
            row_to_record,
        )
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

    /// The post a key names, the one way every reader finds a post: a post id, any URL
    /// the post was captured under (canonical, as asked for, alternates), or any other
    /// URL form of it a platform recognises (another host, tracking parameters, an
    /// `at://` URI). `None` when the archive does not hold it.
    pub fn find_post(&self, key: &str) -> Result<Option<String>> {
        if let Some(id) = self.resolve(key)? {
            return Ok(Some(id));
        }
        if let Some(u) = input_url(key)
            && let Some((p, Target::Post { platform_id, url })) = platforms::recognise(&u)
        {
            let id = format!("{}:{platform_id}", p.name());
            if let Some(found) = self.resolve(&id)? {
                return Ok(Some(found));
            }
            return self.resolve(&url);
        }
        Ok(None)
    }

    /// [`Index::find_post`], or the error the command line and exports give.
    pub fn resolve_post(&self, key: &str) -> Result<String> {
        self.find_post(key)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no post {key:?} in this archive (try `samizdat list`)"
            ))
        })
    }

    /// One post with its whole history (the docs/post.md object), without its URL
    /// conflicts (see [`Index::url_conflicts`]).
    pub fn post_view(&self, id: &str) -> Result<Option<PostView>> {
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
        let Some((json, state, cause, message, last_seen_live, first_seen_gone)) = row else {
            return Ok(None);
        };
        let bad = |what: String| Error::Archive {
            path: self.path.clone(),
            message: format!("post {id}: {what} (run `samizdat reindex`)"),
        };
        let post: Post =
            serde_json::from_str(&json).map_err(|e| bad(format!("stored JSON unreadable: {e}")))?;
        let state = State::parse(&state).ok_or_else(|| bad(format!("unknown state {state:?}")))?;
        let cause = cause
            .map(|c| Cause::parse(&c).ok_or_else(|| bad(format!("unknown cause {c:?}"))))
            .transpose()?;
        let mut captures = vec![];
        // A reader never migrates: an index from before renders (schema 5) has no
        // `render` column, and its captures have no render.
        let sql = if self.has_column("captures", "render")? {
            "SELECT at, record_ids, render FROM captures WHERE post_id = ?1 ORDER BY at, id"
        } else {
            "SELECT at, record_ids, NULL FROM captures WHERE post_id = ?1 ORDER BY at, id"
        };
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut renders = vec![];
        for r in rows {
            let (at, ids, render) = r.map_err(|e| self.err(e))?;
            if let Some(j) = render {
                renders.push(
                    serde_json::from_str(&j)
                        .map_err(|e| bad(format!("capture render unreadable: {e}")))?,
                );
            }
            let record_ids: Vec<String> = serde_json::from_str(&ids)
                .map_err(|e| bad(format!("capture record list unreadable: {e}")))?;
            let mut leaf_indexes = vec![];
            for rid in &record_ids {
                if let Some(row) = self.record_by_id(rid)? {
                    leaf_indexes.push(row.leaf);
                }
            }
            captures.push(CaptureView {
                at,
                record_ids,
                leaf_indexes,
            });
        }
        type CheckRow = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
            String,
            Vec<String>,
            Option<String>,
        );
        let mut st = self
            .conn
            .prepare(
                "SELECT at, outcome, event, cause, message, http_status, record_id, record_ids, post_record \
                 FROM checks WHERE post_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    decode(r, 0, codec::date_text)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    decode(r, 6, codec::id_text)?,
                    decode(r, 7, codec::ids_text)?,
                    decode(r, 8, codec::id_text_opt)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut checks = vec![];
        for r in rows {
            let (
                at,
                outcome,
                event,
                cause,
                message,
                http_status,
                record_id,
                record_ids,
                post_record,
            ): CheckRow = r.map_err(|e| self.err(e))?;
            checks.push(CheckView {
                outcome: Outcome::parse(&outcome)
                    .ok_or_else(|| bad(format!("check at {at}: unknown outcome {outcome:?}")))?,
                event: event
                    .map(|e| {
                        Event::parse(&e)
                            .ok_or_else(|| bad(format!("check at {at}: unknown event {e:?}")))
                    })
                    .transpose()?,
                cause: cause
                    .map(|c| {
                        Cause::parse(&c)
                            .ok_or_else(|| bad(format!("check at {at}: unknown cause {c:?}")))
                    })
                    .transpose()?,
                message,
                http_status: http_status.and_then(|n| u16::try_from(n).ok()),
                record_id,
                record_ids,
                post_record,
                at,
            });
        }
        Ok(Some(PostView {
            post,
            state,
            cause,
            message,
            last_seen_live,
            first_seen_gone,
            captures,
            renders,
            checks,
            url_conflicts: vec![],
        }))
    }

    /// The conversation around a post (docs/comments.md): its newest reading, and the
    /// comments the archive holds, nested by `reply_to`, in the order they were first
    /// listed, each with its own state.
    pub fn thread(
        &self,
        id: &str,
    ) -> Result<(
        Option<crate::store::views::ConversationView>,
        Vec<crate::store::views::CommentView>,
    )> {
        use crate::store::bodies::ThreadStatus;
        use crate::store::views::{CommentView, ConversationView, nest_comments};
        let bad = |what: String| Error::Archive {
            path: self.path.clone(),
            message: format!("the comments of {id}: {what} (run `samizdat reindex`)"),
        };
        let last: Option<(String, String, Option<String>, String, String)> = self
            .conn
            .query_row(
                "SELECT at, status, message, listed, record_id FROM threads WHERE post_id = ?1 \
                 ORDER BY id DESC LIMIT 1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let conversation = match last {
            None => None,
            Some((at, status, message, listed, record_id)) => {
                let listed: Vec<String> = serde_json::from_str(&listed)
                    .map_err(|e| bad(format!("listed ids unreadable: {e}")))?;
                Some(ConversationView {
                    status: ThreadStatus::parse(&status)
                        .ok_or_else(|| bad(format!("unknown status {status:?}")))?,
                    at,
                    count: listed.len(),
                    message,
                    record_id,
                })
            }
        };
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT json, state, cause FROM posts WHERE thread_of = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut flat = vec![];
        for r in rows {
            let (json, state, cause) = r.map_err(|e| self.err(e))?;
            let post: Post = serde_json::from_str(&json)
                .map_err(|e| bad(format!("stored JSON unreadable: {e}")))?;
            flat.push(CommentView {
                post,
                state: State::parse(&state)
                    .ok_or_else(|| bad(format!("unknown state {state:?}")))?,
                cause: cause
                    .map(|c| Cause::parse(&c).ok_or_else(|| bad(format!("unknown cause {c:?}"))))
                    .transpose()?,
                replies: vec![],
            });
        }
        Ok((conversation, nest_comments(flat)))
    }

    /// The custody events of a post (docs/provenance.md): exports that held it and
    /// recorded checks of the whole archive, oldest first.
    pub fn custody_of(&self, id: &str) -> Result<Vec<crate::store::views::CustodyView>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT record_id, json FROM custody WHERE post_id = ?1 OR post_id IS NULL \
                 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = vec![];
        for r in rows {
            let (record_id, json) = r.map_err(|e| self.err(e))?;
            let body: crate::store::bodies::CustodyRecord =
                serde_json::from_str(&json).map_err(|e| Error::Archive {
                    path: self.path.clone(),
                    message: format!("custody row {record_id}: {e} (run `samizdat reindex`)"),
                })?;
            out.push(crate::store::views::CustodyView { record_id, body });
        }
        Ok(out)
    }

    /// The ids of a post's comments, in the order the index first held them, and the
    /// thread record of every reading of its conversation, oldest first: what an evidence
    /// bundle of the post carries beside it (docs/evidence.md).
    pub fn thread_evidence(&self, id: &str) -> Result<(Vec<String>, Vec<String>)> {
        let ids = |sql: &str| -> Result<Vec<String>> {
            let mut st = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
            let rows = st
                .query_map([id], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(|e| self.err(e))
        };
        Ok((
            ids("SELECT id FROM posts WHERE thread_of = ?1 ORDER BY rowid")?,
            ids("SELECT record_id FROM threads WHERE post_id = ?1 ORDER BY id")?,
        ))
    }

    /// Post summaries for `list`, newest capture first.
    /// The ids of the posts `f` selects (and whose text, author or URL contains `query`),
    /// newest capture first, handed to `each` one at a time as SQLite steps through them:
    /// memory stays flat however many there are (the research exports).
    pub fn for_each_post_id(
        &self,
        f: &ListFilter,
        query: Option<&str>,
        each: &mut dyn FnMut(String) -> Result<()>,
    ) -> Result<()> {
        let (sql, args) = selected("SELECT id FROM posts", f, query);
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = st
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            each(r.get(0).map_err(|e| self.err(e))?)?;
        }
        Ok(())
    }

    pub fn list(&self, f: &ListFilter) -> Result<Vec<PostSummary>> {
        let (sql, args) = selected(
            "SELECT id, platform, url, author_name, created_at, state, first_captured, last_captured, \
             substr(coalesce(text, ''), 1, 200) FROM posts",
            f,
            None,
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(PostSummary {
                    id: r.get(0)?,
                    platform: r.get(1)?,
                    url: r.get(2)?,
                    author: r.get(3)?,
                    created_at: r.get(4)?,
                    state: r.get(5)?,
                    first_captured: r.get(6)?,
                    last_captured: r.get(7)?,
                    text: r.get(8)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))
    }
}

/// `select` over the posts `f` selects (and, given `query`, whose text, author or URL
/// contains it), newest capture first: the SQL and its arguments, for `list` and the research
/// exports alike.
fn selected(select: &str, f: &ListFilter, query: Option<&str>) -> (String, Vec<String>) {
    let mut sql = format!("{select} WHERE thread_of IS NULL");
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
    if let Some(q) = query {
        // LIKE with its wildcards escaped: the words are matched as they are.
        let esc = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(format!("%{esc}%"));
        sql += &format!(
            " AND (coalesce(text, '') LIKE ?{n} ESCAPE '\\' OR coalesce(author_name, '') LIKE ?{n} ESCAPE '\\' OR url LIKE ?{n} ESCAPE '\\')",
            n = args.len()
        );
    }
    sql += " ORDER BY last_captured DESC, id";
    if f.limit > 0 {
        sql += &format!(" LIMIT {}", f.limit);
    }
    (sql, args)
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
                && r.warc_type == crate::store::warc::kind::RESPONSE
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The file a record is in (by the `id` index: cheap).
    pub fn record_file(&self, id: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT file FROM records WHERE id = ?1",
                [codec::id(id)],
                |r| decode(r, 0, codec::file_text),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The warcinfo record of a WARC file (by the partial index `records_warcinfo`: cheap
    /// however many records the file holds).
    pub fn warcinfo_of(&self, file: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                // `type = 1` as a literal, so the partial index `records_warcinfo` answers
                // (one row per file) instead of a scan of every record.
                "SELECT id FROM records WHERE file = ?1 AND type = 1 ORDER BY leaf LIMIT 1",
                [codec::file(file)],
                |r| decode(r, 0, codec::id_text),
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
    /// history `post_json` gathers). `None` too for a post known only from gone answers
    /// (`gone_unconfirmed`, `not_found`): no post record holds anything of it.
    pub fn post(&self, id: &str) -> Result<Option<crate::model::Post>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT json FROM posts WHERE id = ?1 AND state NOT IN ('gone_unconfirmed', 'not_found')",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// The URLs this post names that another post claimed first, and those it holds that
    /// later posts named too.
    pub fn url_conflicts(&self, post_id: &str) -> Result<Vec<UrlConflict>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT url, holder, post_id FROM url_conflicts \
                 WHERE post_id = ?1 OR holder = ?1 ORDER BY url, post_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([post_id], |r| {
                Ok(UrlConflict {
                    url: r.get(0)?,
                    belongs_to: r.get(1)?,
                    also_claimed_by: r.get(2)?,
                })
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
                "SELECT c.at, r.payload_digest, r.id, r.target, r.date FROM checks c \
                 LEFT JOIN records r ON r.id = c.response \
                 WHERE c.post_id = ?1 ORDER BY c.id DESC LIMIT 1",
                [post_id],
                |r| {
                    Ok(LastCheck {
                        at: decode(r, 0, codec::date_text)?,
                        payload_digest: decode(r, 1, codec::digest_text)?,
                        response_id: decode(r, 2, codec::id_text_opt)?,
                        response_uri: r.get(3)?,
                        response_date: match r.get_ref(4)? {
                            rusqlite::types::ValueRef::Null => None,
                            _ => Some(decode(r, 4, codec::date_text)?),
                        },
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

    /// What `watch status` starts from: posts per state, entries due by `now`, the last
    /// error per host.
    pub fn watch_counts(&self, now: &str) -> Result<WatchCounts> {
        let q = |sql: &str| -> Result<BTreeMap<String, i64>> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(|e| self.err(e))
        };
        let posts_by_state = q("SELECT state, count(*) FROM posts GROUP BY state ORDER BY state")?;
        let count = |sql: &str| -> Result<i64> {
            self.conn
                .query_row(sql, [now], |r| r.get(0))
                .map_err(|e| self.err(e))
        };
        let posts = count("SELECT count(*) FROM watchlist WHERE kind = 'post' AND next_due <= ?1")?;
        let accounts =
            count("SELECT count(*) FROM watchlist WHERE kind = 'account' AND next_due <= ?1")?;
        let watched = q("SELECT kind, count(*) FROM watchlist GROUP BY kind")?;
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
                    HostError {
                        at: decode(r, 1, codec::date_text)?,
                        message: r.get(2)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        let last_error_per_host = rows
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        Ok(WatchCounts {
            now: now.to_string(),
            posts_by_state,
            watched,
            due: Due {
                posts,
                accounts,
                total: posts + accounts,
            },
            last_error_per_host,
        })
    }
}

impl Index {
    /// Posts in the archive that repost `post_id` (id and URL), newest capture first.
    /// Weibo shows why a post is gone only inside its reposts (see `platforms/weibo`).
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

/// A key as a URL a platform may recognise: trimmed, an AT Protocol URI in its bsky.app
/// form (the url crate cannot read a DID's colons). The same reading as
/// `capture::parse_url` gives, without its error messages.
fn input_url(key: &str) -> Option<url::Url> {
    let s = key.trim();
    if s.starts_with("at://") {
        return url::Url::parse(&platforms::bluesky::at_uri_to_url(s)?).ok();
    }
    url::Url::parse(s).ok()
}

impl Index {
    /// Every table's rows (and the schema version), each row as text, in a stable order:
    /// what two indexes are compared by (a rebuilt index must equal the one it replaces,
    /// a migrated one a freshly built one). The search index's own storage tables are
    /// left out (their pages depend on merge history); its rows are in.
    pub fn dump(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 AND name NOT LIKE 'post_search_%' ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let tables = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let mut out = vec![(
            "PRAGMA user_version".to_string(),
            vec![self.user_version()?.to_string()],
        )];
        for t in tables {
            let mut st = self
                .conn
                .prepare(&format!("SELECT rowid, * FROM \"{t}\""))
                .map_err(|e| self.err(e))?;
            let n = st.column_count();
            let mut rows = st
                .query_map([], |r| {
                    let mut cells = Vec::with_capacity(n);
                    for i in 0..n {
                        cells.push(format!("{:?}", r.get_ref(i)?));
                    }
                    Ok(cells.join(" | "))
                })
                .map_err(|e| self.err(e))?
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))?;
            rows.sort();
            out.push((t, rows));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::bodies::PostRecord;

    #[test]
    fn find_post_takes_an_id_any_captured_url_or_a_recognised_form() {
        let dir = tempfile::tempdir().unwrap();
        let mut ix = Index::open(&dir.path().join("index.sqlite"), true).unwrap();
        let u = url::Url::parse("https://bsky.app/profile/alice.bsky.social/post/3kabc").unwrap();
        let Some((p, Target::Post { platform_id, .. })) = platforms::recognise(&u) else {
            panic!("a Bluesky post URL is recognised");
        };
        // Captured under other URLs than the one recognised below.
        let mut post = Post::new(p.name(), &platform_id, "https://canonical.example/a");
        post.alt_urls = vec!["https://alt.example/a".into()];
        let rec = PostRecord::new(&post, "https://asked.example/a", &[])
            .to_record(&[], "2026-01-01T00:00:00Z");
        ix.add(&[], &[rec]).unwrap();
        let id = post.id.0.clone();
        for key in [
            id.as_str(),
            "https://canonical.example/a",
            "https://asked.example/a",
            "https://alt.example/a",
            "https://bsky.app/profile/alice.bsky.social/post/3kabc",
            "  https://bsky.app/profile/alice.bsky.social/post/3kabc\n",
            "at://alice.bsky.social/app.bsky.feed.post/3kabc",
        ] {
            assert_eq!(
                ix.find_post(key).unwrap().as_deref(),
                Some(id.as_str()),
                "{key:?}"
            );
            assert_eq!(ix.resolve_post(key).unwrap(), id, "{key:?}");
        }
        for key in [
            "https://bsky.app/profile/alice.bsky.social/post/other",
            "https://unknown.example/a",
            "not a URL",
            "at://nonsense",
        ] {
            assert_eq!(ix.find_post(key).unwrap(), None, "{key:?}");
            let e = ix.resolve_post(key).unwrap_err();
            assert!(e.to_string().contains("try `samizdat list`"), "{e}");
        }
        // The view of it, and its summary.
        let v = ix.post_view(&id).unwrap().unwrap();
        assert_eq!(v.state, State::Live);
        assert_eq!(v.last_seen_live.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(v.captures.len(), 1);
        let l = ix.list(&ListFilter::default()).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].id, id);
        assert_eq!(l[0].state, "live");
    }
}
