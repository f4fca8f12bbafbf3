//! Writes of the index: every row is derived from a record here, on append and on
//! `reindex` alike.

use super::{Index, RecordRow, codec, decode, index_error};
use crate::error::{Error, Result};
use crate::model::{Cause, Outcome};
use crate::store::bodies::{CheckRecord, ORIGIN_CLI, PostRecord, WatchRecord};
use crate::store::state;
use crate::store::warc::{Record, kind, mime};
use rusqlite::{OptionalExtension, params};

impl Index {
    /// Adds records (already durable in their WARC files) and everything derived from them,
    /// in one transaction.
    pub fn add(&mut self, rows: &[RecordRow], records: &[Record]) -> Result<()> {
        let path = self.path.clone();
        let e = |e| index_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut ins = tx.prepare_cached(INSERT_RECORD).map_err(e)?;
            for r in rows {
                insert_record(&mut ins, r).map_err(e)?;
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

    /// Removes everything (for `reindex`).
    pub fn clear(&mut self) -> Result<()> {
        self.conn
            .execute_batch(
                "DELETE FROM records; DELETE FROM posts; DELETE FROM post_urls; DELETE FROM url_conflicts; DELETE FROM captures; \
                 DELETE FROM checks; DELETE FROM watchlist; DELETE FROM hosts; DELETE FROM threads; DELETE FROM custody; \
                 DELETE FROM alert_targets; DELETE FROM alert_deliveries; DELETE FROM alert_attempts;",
            )
            .map_err(|e| self.err(e))?;
        crate::store::search::clear(&self.conn).map_err(|e| self.err(e))
    }
}

/// The one way a records row is written (here and by migration 2), its values as
/// `codec` stores them.
pub(super) const INSERT_RECORD: &str = "INSERT INTO records (leaf, id, file, offset, length, type, \
     target, date, content_type, block_digest, payload_digest, leaf_hash) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

pub(super) fn insert_record(ins: &mut rusqlite::Statement, r: &RecordRow) -> rusqlite::Result<()> {
    ins.execute(params![
        r.leaf as i64,
        codec::id(&r.id),
        codec::file(&r.file),
        r.offset as i64,
        r.length as i64,
        codec::warc_type(&r.warc_type),
        r.target,
        codec::date(&r.date),
        codec::content_type(r.content_type.as_deref()),
        codec::digest(r.block_digest.as_deref()),
        codec::digest(r.payload_digest.as_deref()),
        &r.leaf_hash[..],
    ])
    .map(|_| ())
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
    if rec.warc_type() != kind::RESOURCE {
        return Ok(());
    }
    match ct {
        mime::POST => apply_post(tx, rec),
        mime::CHECK => apply_check(tx, rec),
        mime::WATCH => apply_watch(tx, rec),
        mime::THREAD => apply_thread(tx, rec),
        mime::CUSTODY => apply_custody(tx, rec),
        mime::ALERT => apply_alert(tx, rec),
        _ => Ok(()),
    }
}

/// A custody record: a row in `custody` per post it names, or one for the whole archive.
fn apply_custody(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let c: crate::store::bodies::CustodyRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("custody record is not valid JSON: {e}")))?;
    let json = std::str::from_utf8(&rec.block)
        .map_err(|e| Applied::Bad(format!("custody record is not UTF-8: {e}")))?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO custody (record_id, post_id, at, action, json) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    if c.all || c.posts.is_empty() {
        ins.execute(params![rec.id(), None::<String>, c.at, c.action, json])?;
    }
    for p in &c.posts {
        ins.execute(params![rec.id(), p, c.at, c.action, json])?;
    }
    Ok(())
}

/// An alert record: a target began, or an alert was delivered (docs/alerts.md).
fn apply_alert(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let a: crate::store::bodies::AlertRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("alert record is not valid JSON: {e}")))?;
    match (a.action.as_str(), &a.key) {
        ("start", _) => {
            tx.prepare_cached(
                "INSERT INTO alert_targets (target, since) VALUES (?1, ?2) ON CONFLICT(target) DO NOTHING",
            )?
            .execute(params![a.target, a.at])?;
        }
        ("delivered", Some(key)) => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO alert_deliveries (target, key, at, record_id) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![a.target, key, a.at, rec.id()])?;
            tx.prepare_cached("DELETE FROM alert_attempts WHERE target = ?1 AND key = ?2")?
                .execute(params![a.target, key])?;
        }
        (other, _) => return Err(Applied::Bad(format!("unknown alert action {other:?}"))),
    }
    Ok(())
}

/// A thread record: one row in `threads` (docs/comments.md).
fn apply_thread(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let t: crate::store::bodies::ThreadRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("thread record is not valid JSON: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO threads (post_id, at, status, message, listed, record_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        t.post_id,
        t.at,
        t.status.as_str(),
        t.message,
        ids_json(&t.listed)?,
        rec.id()
    ])?;
    Ok(())
}

/// A check: one row in `checks`, and the post's state per docs/states.md, as
/// [`state::after_check`] derives it (the same function `verify-bundle` replays).
fn apply_check(tx: &rusqlite::Transaction, rec: &Record) -> std::result::Result<(), Applied> {
    let c: CheckRecord = serde_json::from_slice(&rec.block)
        .map_err(|e| Applied::Bad(format!("check record is not valid JSON: {e}")))?;
    let at = c.at.as_str();
    let prev = facts_of(tx, &c.post_id)?;
    let last_definite: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT outcome, at FROM checks WHERE post_id = ?1 AND outcome != 'unreachable' \
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row([&c.post_id], |r| {
            Ok((r.get(0)?, decode(r, 1, codec::date_text)?))
        })
        .optional()?;
    let last_definite = last_definite
        .as_ref()
        .and_then(|(o, at)| Some((Outcome::parse(o)?, at.as_str())));
    let check_in = state::CheckIn {
        outcome: c.outcome,
        cause: c.cause,
        message: c.message.as_deref(),
        at,
    };
    let (next, event) = state::after_check(prev.as_ref(), last_definite, &check_in);
    // A check that names its post's URL (a capture found the post already gone) makes
    // the post when no post record came before it: what is known, nothing more.
    if prev.is_none()
        && let Some(url) = &c.url
        && let Some(f) = state::gone_at_capture(&check_in)
    {
        insert_gone_post(tx, &c, url, &f)?;
    }
    if let Some(n) = next.filter(|n| Some(n) != prev.as_ref()) {
        tx.prepare_cached(
            "UPDATE posts SET state = ?2, cause = ?3, message = ?4, last_seen_live = ?5, \
             first_seen_gone = ?6 WHERE id = ?1",
        )?
        .execute(params![
            c.post_id,
            n.state.as_str(),
            n.cause.map(Cause::as_str),
            n.message,
            n.last_seen_live,
            n.first_seen_gone
        ])?;
    }
    let event = event.map(state::Event::as_str);
    // The response's URI, date and payload digest are its records row's (a join), not
    // copies here.
    tx.prepare_cached("INSERT INTO checks (post_id, at, outcome, event, cause, message, http_status, host, record_id, \
         record_ids, post_record, response) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?.execute(params![
            c.post_id,
            codec::date(at),
            c.outcome.as_str(),
            event,
            c.cause.map(Cause::as_str),
            c.message,
            c.http_status.map(i64::from),
            c.host,
            codec::id(rec.id()),
            codec::ids(&c.record_ids),
            c.post_record.as_deref().map(codec::id),
            c.response_id.as_deref().map(codec::id),
        ],
    )?;
    if let Some(next) = &c.next_check {
        tx.prepare_cached(
            "UPDATE watchlist SET next_due = ?2 WHERE post_id = ?1 AND kind = 'post'",
        )?
        .execute(params![c.post_id, next])?;
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

/// The post row of a post known only from a gone answer at its first capture: its id,
/// platform and URL (the post JSON has nothing else), the state [`state::gone_at_capture`]
/// gives, dated at the check; its URLs resolve to it unless another post claimed them
/// first.
fn insert_gone_post(
    tx: &rusqlite::Transaction,
    c: &CheckRecord,
    url: &str,
    f: &state::Facts,
) -> std::result::Result<(), Applied> {
    let id = crate::model::PostId(c.post_id.clone());
    let (platform, platform_id) = (id.platform(), id.platform_id());
    if platform.is_empty() || platform_id.is_empty() {
        return Err(Applied::Bad(format!(
            "check record names post {:?}, not platform:id",
            c.post_id
        )));
    }
    let post = crate::model::Post::new(platform, platform_id, url);
    let json = serde_json::to_string(&post)
        .map_err(|e| Applied::Bad(format!("check record: the post does not serialise: {e}")))?;
    tx.prepare_cached("INSERT INTO posts (id, platform, platform_id, url, json, state, cause, message,          last_seen_live, first_seen_gone, first_captured, last_captured)          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)")?.execute(params![
            c.post_id,
            platform,
            platform_id,
            url,
            json,
            f.state.as_str(),
            f.cause.map(Cause::as_str),
            f.message,
            f.last_seen_live,
            f.first_seen_gone,
            c.at,
        ],
    )?;
    for u in std::iter::once(url).chain(c.requested_url.as_deref()) {
        tx.prepare_cached(
            "INSERT INTO post_urls (url, post_id) VALUES (?1, ?2) ON CONFLICT(url) DO NOTHING",
        )?
        .execute(params![u, c.post_id])?;
    }
    Ok(())
}

/// What the index holds about a post's state (`None`: no post record yet).
fn facts_of(
    tx: &rusqlite::Transaction,
    post_id: &str,
) -> std::result::Result<Option<state::Facts>, Applied> {
    type PostRow = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let cur: Option<PostRow> = tx.prepare_cached("SELECT state, cause, message, last_seen_live, first_seen_gone FROM posts WHERE id = ?1")?.query_row([post_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((st, cause, message, last_seen_live, first_seen_gone)) = cur else {
        return Ok(None);
    };
    Ok(Some(state::Facts {
        state: state::State::parse(&st)
            .ok_or_else(|| Applied::Bad(format!("post {post_id} has unknown state {st:?}")))?,
        cause: cause.as_deref().and_then(Cause::parse),
        message,
        last_seen_live,
        first_seen_gone,
    }))
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
        tx.prepare_cached(
            "INSERT INTO hosts (host, failures, last_ok) VALUES (?1, 0, ?2) \
             ON CONFLICT(host) DO UPDATE SET failures = 0, last_ok = ?2, failing_since = NULL",
        )?
        .execute(params![host, at])?;
    } else {
        tx.prepare_cached("INSERT INTO hosts (host, failures, last_failure, last_error, failing_since) VALUES (?1, 1, ?2, ?3, ?2) \
             ON CONFLICT(host) DO UPDATE SET failures = failures + 1, last_failure = ?2, last_error = ?3, \
             failing_since = CASE WHEN failures = 0 OR failing_since IS NULL THEN ?2 ELSE failing_since END")?.execute(params![host, at, error],
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
            tx.prepare_cached("INSERT INTO watchlist (url, kind, every, backfill, post_id, via, added_at, next_due, origin, tags, new_post) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT(url) DO UPDATE SET kind = ?2, every = ?3, backfill = ?4, \
                 post_id = coalesce(?5, post_id), via = coalesce(via, ?6), origin = ?9, \
                 tags = coalesce(?10, tags), new_post = coalesce(new_post, ?11)")?.execute(params![
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
                    w.origin.as_deref().unwrap_or(ORIGIN_CLI),
                    (!w.tags.is_empty()).then(|| ids_json(&w.tags)).transpose()?,
                    w.new.map(i64::from),
                ],
            )?;
        }
        "remove" => {
            tx.prepare_cached("DELETE FROM watchlist WHERE url = ?1")?
                .execute([&w.url])?;
        }
        "polled" => {
            tx.prepare_cached("UPDATE watchlist SET last_polled = ?2, last_error = ?3, next_due = coalesce(?4, next_due), \
                 newest = coalesce(?5, newest) WHERE url = ?1")?.execute(params![w.url, at, w.error, w.next_check, w.newest],
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
    // What a capture makes of the post (state::after_capture): every state column comes
    // from the state machine, none is set here.
    let prev = facts_of(tx, &p.id.0)?;
    let facts = state::after_capture(prev.as_ref(), at);
    let json = serde_json::to_string(p)
        .map_err(|e| Applied::Bad(format!("post record: the post does not serialise: {e}")))?;
    let author_id = p.author.as_ref().and_then(|a| a.id.clone());
    let author_name = p.author.as_ref().and_then(|a| a.name.clone());
    tx.prepare_cached("INSERT INTO posts (id, platform, platform_id, url, author_id, author_name, created_at, text, json, \
         state, cause, message, last_seen_live, first_seen_gone, first_captured, last_captured) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13, ?14, ?15, ?11, ?11) \
         ON CONFLICT(id) DO UPDATE SET url = ?4, author_id = ?5, author_name = ?6, created_at = ?7, \
         text = ?8, json = ?9, state = ?10, cause = ?12, message = ?13, last_seen_live = ?14, \
         first_seen_gone = ?15, last_captured = ?11")?.execute(params![
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
            facts.cause.map(Cause::as_str),
            facts.message,
            facts.last_seen_live,
            facts.first_seen_gone,
        ],
    )?;
    crate::store::search::index_post(
        tx,
        &p.id.0,
        p.text.as_deref(),
        &[author_name.as_deref(), author_id.as_deref()],
    )?;
    if let Some(t) = &p.thread {
        tx.prepare_cached("UPDATE posts SET thread_of = ?2, reply_to = ?3 WHERE id = ?1")?
            .execute(params![
                p.id.0,
                t.thread_of.0,
                t.reply_to.as_ref().map(|r| &r.0)
            ])?;
    }
    // A comment was asked for through its post's URL, and many platforms give comments
    // no address of their own (a Weibo comment's is its post's): it claims only an
    // address no one holds, and is never a conflict of the post it belongs to.
    let mut urls: Vec<&str> = vec![p.url.as_str()];
    if p.thread.is_none() {
        urls.push(pr.requested_url.as_str());
    }
    urls.extend(p.alt_urls.iter().map(String::as_str));
    // The first post to claim a URL keeps it: a later post naming it (a canonical URL, a
    // platform answer naming another post's address) cannot re-point it. The later claim
    // stays in its post record and is noted as a conflict (`show` says so). The first
    // claim is the first in the log, so a rebuilt index decides the same.
    for (n, u) in urls.iter().enumerate() {
        // A URL named twice (the requested URL is most often the post's own) is one claim.
        if urls[..n].contains(u) {
            continue;
        }
        let inserted = tx
            .prepare_cached(
                "INSERT INTO post_urls (url, post_id) VALUES (?1, ?2) ON CONFLICT(url) DO NOTHING",
            )?
            .execute(params![u, p.id.0])?;
        if inserted == 1 {
            // The claim is this post's: no one held the URL.
            continue;
        }
        let holder: String = tx
            .prepare_cached("SELECT post_id FROM post_urls WHERE url = ?1")?
            .query_row([u], |r| r.get(0))?;
        if holder != p.id.0 && p.thread.is_none() {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO url_conflicts (url, holder, post_id, record_id) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![u, holder, p.id.0, rec.id()])?;
        }
    }
    let mut ids = pr.record_ids.clone();
    ids.push(rec.id().to_string());
    tx.prepare_cached(
        "INSERT INTO captures (post_id, at, post_record, record_ids, render) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        p.id.0,
        at,
        rec.id(),
        ids_json(&ids)?,
        pr.render
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Applied::Bad(format!("post record: render: {e}")))?
    ])?;
    Ok(())
}

/// A list of record ids as the index stores it (JSON).
fn ids_json(ids: &[String]) -> std::result::Result<String, Applied> {
    serde_json::to_string(ids).map_err(|e| Applied::Bad(format!("record ids: {e}")))
}
