//! The tables of the index, as a fresh index is created with them.

/// The schema version a fresh index is created at and every older one is migrated to
/// (`PRAGMA user_version`; see `migrations`).
pub const VERSION: i64 = 6;

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records ( -- ids, digests, dates, files and types as `codec` stores them
    leaf INTEGER PRIMARY KEY,          -- leaf index in the log = write order
    id BLOB NOT NULL UNIQUE,           -- WARC-Record-ID (16 UUID bytes)
    file BLOB NOT NULL,                -- file under warc/ (its serial)
    offset INTEGER NOT NULL,           -- gzip member offset
    length INTEGER NOT NULL,           -- gzip member length
    type BLOB NOT NULL,                -- WARC-Type (a number)
    target TEXT,
    date BLOB NOT NULL,                -- WARC-Date (microseconds)
    content_type BLOB,                 -- (a number for samizdat's own)
    block_digest BLOB,                 -- (32 bytes)
    payload_digest BLOB,               -- (32 bytes)
    leaf_hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_warcinfo ON records(file) WHERE type = 1; -- a file's warcinfo (type 1)
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
    last_captured TEXT NOT NULL,
    thread_of TEXT,                    -- a comment's post (docs/comments.md); NULL for a post
    reply_to TEXT                      -- the comment it answers (NULL: the post itself)
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
    record_ids TEXT NOT NULL,          -- JSON list, the post record last
    render TEXT                        -- the post record's render (JSON), if it was rendered
);
CREATE INDEX IF NOT EXISTS captures_post ON captures(post_id, at);
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,            -- write order
    post_id TEXT NOT NULL,
    at BLOB NOT NULL,                  -- (microseconds, as records.date)
    outcome TEXT NOT NULL,
    event TEXT,                        -- 'restored', 'confirmed' (a gone state began)
    cause TEXT,
    message TEXT,
    http_status INTEGER,
    host TEXT,
    record_id BLOB NOT NULL,           -- the check record (as records.id)
    record_ids BLOB NOT NULL,          -- the records it rests on (16 bytes each)
    post_record BLOB,
    response BLOB                      -- the main response, or the earlier one it repeated:
                                       -- its records row has the URI, date and payload digest
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
    origin TEXT,                       -- who added it: 'cli' or 'api' (NULL: before origins, the CLI)
    tags TEXT,                         -- JSON list of the operator's tags (`watch add --tag`), or NULL
    new_post INTEGER                   -- 1: a post a poll found, posted after its account was added
);
CREATE INDEX IF NOT EXISTS watchlist_due ON watchlist(next_due);
CREATE TABLE IF NOT EXISTS hosts (       -- how each host answered the watcher lately (backoff)
    host TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,         -- unreachable answers in a row
    last_failure TEXT,
    last_error TEXT,
    last_ok TEXT,
    failing_since TEXT                 -- the first of the failures in a row (NULL: none)
);
CREATE INDEX IF NOT EXISTS watchlist_post ON watchlist(post_id);
CREATE TABLE IF NOT EXISTS threads (     -- each reading of a post's conversation (thread records)
    id INTEGER PRIMARY KEY,            -- write order
    post_id TEXT NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    listed TEXT NOT NULL,              -- JSON list of the comment ids listed
    record_id TEXT NOT NULL            -- the thread record
);
CREATE INDEX IF NOT EXISTS threads_post ON threads(post_id, id);
CREATE TABLE IF NOT EXISTS custody (     -- exports and recorded verifies (custody records)
    id INTEGER PRIMARY KEY,            -- write order
    record_id TEXT NOT NULL,           -- the custody record
    post_id TEXT,                      -- a post the artifact holds; NULL: the whole archive
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    json TEXT NOT NULL                 -- the record's body
);
CREATE INDEX IF NOT EXISTS custody_post ON custody(post_id, id);
CREATE TABLE IF NOT EXISTS alert_targets ( -- when each alert target began (alert records, `start`)
    target TEXT PRIMARY KEY,
    since TEXT NOT NULL                -- events before it are not sent to it
);
CREATE TABLE IF NOT EXISTS alert_deliveries ( -- alerts delivered (alert records, `delivered`)
    target TEXT NOT NULL,
    key TEXT NOT NULL,                 -- the event's idempotency key
    at TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (target, key)
);
CREATE TABLE IF NOT EXISTS alert_attempts ( -- failed attempts of alerts not delivered yet; not
    target TEXT NOT NULL,              -- from records (a rebuilt index just tries again), and
    key TEXT NOT NULL,                 -- dated by the system clock, as the target's failures are
    attempts INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL,
    last_error TEXT,
    PRIMARY KEY (target, key)
);
"#;
