//! The bodies of the records samizdat writes itself (docs/archive.md): the post
//! `resource` record a capture ends with, the check records and watchlist records the
//! watcher writes. Writers build them here ([`PostRecord::to_record`] and friends), the
//! index derives its rows from them (`store::index`), `verify-bundle` replays them: one
//! definition of each format.

use super::warc::{Record, kind, mime};
use crate::model::{Cause, Outcome, Post};

/// Format marker of post records.
pub const POST_FORMAT: &str = "post/1";
/// Format marker of check records.
pub const CHECK_FORMAT: &str = "check/1";
/// Format marker of watchlist records.
pub const WATCH_FORMAT: &str = "watch/1";
/// Format marker of thread records.
pub const THREAD_FORMAT: &str = "thread/1";

/// The body of a thread record (`application/vnd.samizdat.thread+json`,
/// docs/comments.md): one reading of the conversation around a post, the evidence of
/// what its listing held at that time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThreadRecord {
    /// Format marker, `thread/1`.
    pub samizdat: String,
    /// The post whose conversation was read.
    pub post_id: String,
    /// When (WARC-Date form).
    pub at: String,
    pub status: ThreadStatus,
    /// The platform's own words for `closed`, `unreachable` or `broken`.
    pub message: Option<String>,
    /// The `[capture] comments` bound in force.
    pub limit: usize,
    /// Every comment the pages listed, in order (new and already archived).
    pub listed: Vec<String>,
    /// Comments the pages list as gone, in the platform's words.
    #[serde(default)]
    pub gone: Vec<GoneComment>,
    /// Every record of this reading before the thread record.
    pub record_ids: Vec<String>,
}

/// A comment a listing names as gone.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GoneComment {
    pub id: String,
    pub outcome: Outcome,
    pub cause: Option<Cause>,
    pub message: Option<String>,
}

/// How a reading of a conversation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadStatus {
    /// Nothing was left to read.
    Complete,
    /// Stopped at the `comments` bound.
    Limit,
    /// The platform says comments are closed.
    Closed,
    /// A wall, a captcha, risk control or a failed fetch: concludes nothing.
    Unreachable,
    /// An answer in a shape samizdat does not know.
    Broken,
}

impl ThreadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadStatus::Complete => "complete",
            ThreadStatus::Limit => "limit",
            ThreadStatus::Closed => "closed",
            ThreadStatus::Unreachable => "unreachable",
            ThreadStatus::Broken => "broken",
        }
    }
    pub fn parse(s: &str) -> Option<ThreadStatus> {
        [
            ThreadStatus::Complete,
            ThreadStatus::Limit,
            ThreadStatus::Closed,
            ThreadStatus::Unreachable,
            ThreadStatus::Broken,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

impl ThreadRecord {
    /// The thread's `resource` record, dated at the reading.
    pub fn to_record(&self) -> Record {
        Record::build(
            kind::RESOURCE,
            &self.at,
            Some(&format!("urn:samizdat:thread:{}", self.post_id)),
            mime::THREAD,
            vec![],
            to_json(self),
        )
    }
}

/// Format marker of an alert record.
pub const ALERT_FORMAT: &str = "alert/1";

/// The body of an alert record (`application/vnd.samizdat.alert+json`, docs/alerts.md):
/// a target began (`since`: events before it are not sent to it), or an alert was
/// delivered to it. The index's delivery state is derived from these, so `reindex` never
/// sends an alert again. No URL, address or token of the target: only its name.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertRecord {
    /// Format marker, `alert/1`.
    pub samizdat: String,
    /// `start` or `delivered`.
    pub action: String,
    /// The target's name (`[[alerts]] name`, or its `alert-…` digest).
    pub target: String,
    /// When (WARC-Date form).
    pub at: String,
    /// For `delivered`: the event's idempotency key, its kind and post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    /// For `delivered`: how many attempts it took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

impl AlertRecord {
    pub fn to_record(&self) -> Record {
        Record::build(
            kind::RESOURCE,
            &self.at,
            Some(&format!("urn:samizdat:alert:{}", self.target)),
            mime::ALERT,
            vec![],
            to_json(self),
        )
    }
}

/// Format marker of a custody record.
pub const CUSTODY_FORMAT: &str = "custody/1";

/// The body of a custody record (`application/vnd.samizdat.custody+json`,
/// docs/provenance.md "Chain of custody"): a copy of the archive's evidence left it (an
/// export), or the archive was checked (`verify --record`), by whom and when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CustodyRecord {
    /// Format marker, `custody/1`.
    pub samizdat: String,
    /// When (WARC-Date form).
    pub at: String,
    /// `export_bundle`, `export_wacz` or `verify`.
    pub action: String,
    /// `[collector]` when set: who did it.
    pub collector: Option<crate::capture::provenance::Collector>,
    /// The file made (its name, not the folder it went to), for an export.
    pub artifact: Option<Artifact>,
    /// The posts it holds; empty with `all` for the whole archive.
    pub posts: Vec<String>,
    pub all: bool,
    /// For `verify`: what it found, in words.
    pub result: Option<String>,
    /// The samizdat version that did it.
    pub tool_version: String,
}

/// A file an export made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Artifact {
    pub name: String,
    /// Hex SHA-256 of the whole file.
    pub sha256: String,
    pub bytes: u64,
}

impl CustodyRecord {
    /// The custody `resource` record, dated at the event.
    pub fn to_record(&self) -> Record {
        let what = self
            .artifact
            .as_ref()
            .map(|a| a.sha256.clone())
            .unwrap_or_else(|| self.action.clone());
        Record::build(
            kind::RESOURCE,
            &self.at,
            Some(&format!("urn:samizdat:custody:{what}")),
            mime::CUSTODY,
            vec![],
            to_json(self),
        )
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
    /// The page as the browser showed it, when the capture was rendered (docs/render.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderFacts>,
}

/// What a render of a capture made (docs/render.md): its screenshot and DOM records, named
/// in the post record of the capture and listed by `show --json` under `renders`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenderFacts {
    /// When the browser took the screenshot (WARC-Date form).
    pub at: String,
    /// The address the browser was sent to.
    pub url: String,
    /// The full-page PNG (`urn:samizdat:screenshot:<post id>`).
    pub screenshot: RenderedFile,
    /// The DOM after scripts ran (`urn:samizdat:dom:<post id>`).
    pub dom: RenderedFile,
    /// Requests the browser made that samizdat answered and recorded.
    pub exchanges: usize,
    /// Whether the page reached its `load` event in time (if not, it was rendered as it
    /// stood, and `warnings` says so).
    pub loaded: bool,
    /// The page was taller than `[browser] max_height` and the screenshot stops there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One file a render made, as its record holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenderedFile {
    pub record_id: String,
    /// Hex SHA-256 of the record's payload (the file itself).
    pub sha256: String,
    pub mime: String,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
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
    /// The post's URL, on the check a capture writes when it finds the post already gone
    /// (`via: capture`): with `post_id` it is what is known of a post that has no post
    /// record, and the index holds the post from it (docs/states.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The URL the user asked for, in the form they gave it (on a capture's check, when
    /// it differs from `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_url: Option<String>,
    /// The main exchange, when its answer repeated the payload of the earlier response
    /// `response_id` names: carried here in place of a request record and a revisit
    /// record (docs/states.md "A check").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

/// The main exchange of an identical check, as a check record carries it: what the
/// request record and the revisit record of that exchange would have held, less their
/// record ids and digests (the check record's own block digest covers all of it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exchange {
    /// The URL fetched (the records' `WARC-Target-URI`).
    pub uri: String,
    /// When it was fetched (their `WARC-Date`).
    pub date: String,
    /// The request as sent: the request record's block, verbatim (request line, headers
    /// with secrets redacted, body).
    pub request: String,
    /// The answer's HTTP header block, verbatim (status line, headers, blank line): what
    /// a revisit record keeps. Its payload is the earlier response's.
    pub response: String,
    /// The response record's other fields, in order: `WARC-IP-Address` (the peer),
    /// `WARC-Protocol`, `Samizdat-Fetch-Time-Ms`, `Samizdat-Platform-URL`,
    /// `Samizdat-TLS-Certificate`.
    pub fields: Vec<(String, String)>,
}

/// The fields every record has of its own (its identity, its block's digests and length,
/// its links to other records): what an [`Exchange`] does not carry.
const OWN_FIELDS: &[&str] = &[
    "WARC-Type",
    "WARC-Record-ID",
    "WARC-Date",
    "WARC-Target-URI",
    "Content-Type",
    "WARC-Block-Digest",
    "WARC-Payload-Digest",
    "Content-Length",
    "WARC-Concurrent-To",
    "WARC-Warcinfo-ID",
];

impl Exchange {
    /// The exchange of `request` and `response` (a pair as `capture::http` writes them,
    /// the response not truncated), when a check record can carry it whole: both blocks
    /// in memory and UTF-8 (JSON strings), the request's fields all among the
    /// response's. `None` otherwise: the records are then written as they are.
    pub fn of(request: &Record, response: &Record) -> Option<Exchange> {
        use super::warc::{find_header_end, kind};
        if request.warc_type() != kind::REQUEST
            || response.warc_type() != kind::RESPONSE
            || request.spooled.is_some()
            || response.field("WARC-Truncated").is_some()
            || request.target_uri() != response.target_uri()
            || request.date() != response.date()
            || request.field("WARC-Concurrent-To") != Some(response.id())
        {
            return None;
        }
        let own = |n: &str| OWN_FIELDS.iter().any(|o| o.eq_ignore_ascii_case(n));
        let fields: Vec<(String, String)> = response
            .fields
            .iter()
            .filter(|(n, _)| !own(n))
            .cloned()
            .collect();
        if request
            .fields
            .iter()
            .any(|(n, v)| !own(n) && !fields.iter().any(|(m, w)| m == n && w == v))
        {
            return None;
        }
        let head_end = find_header_end(&response.block)?;
        Some(Exchange {
            uri: response.target_uri()?.to_string(),
            date: response.date().to_string(),
            request: String::from_utf8(request.block.clone()).ok()?,
            response: String::from_utf8(response.block[..head_end].to_vec()).ok()?,
            fields,
        })
    }
}

/// The `via` of the check a capture writes when the post is already gone.
pub const VIA_CAPTURE: &str = "capture";

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
    /// For an add: the operator's tags (`watch add --tag`), which `[[alerts]] tag` filters
    /// on; a post found through an account has the account's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// For the add of a post a poll found: `true` when it was posted after its account was
    /// added (a `new_post` alert), not one of the older posts `--backfill` asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<bool>,
}

/// A watch entry added on the command line (by the operator).
pub const ORIGIN_CLI: &str = "cli";
/// A watch entry added over the web API (`POST /api/captures` with `"watch": true`), or
/// found through one (a post of an account or feed the API added).
pub const ORIGIN_API: &str = "api";

impl PostRecord {
    /// The body of a capture's post record: `before` are the records the capture wrote
    /// before it, in write order.
    pub fn new(post: &Post, requested_url: &str, before: &[Record]) -> PostRecord {
        PostRecord {
            samizdat: POST_FORMAT.into(),
            post: post.clone(),
            requested_url: requested_url.to_string(),
            record_ids: before.iter().map(|r| r.id().to_string()).collect(),
            render: None,
        }
    }

    /// The `resource` record (docs/archive.md), `WARC-Concurrent-To` each response the
    /// post was read from.
    pub fn to_record(&self, responses: &[String], date: &str) -> Record {
        let fields = responses
            .iter()
            .map(|id| ("WARC-Concurrent-To".to_string(), id.clone()))
            .collect();
        Record::build(
            kind::RESOURCE,
            date,
            Some(&format!("urn:samizdat:post:{}", self.post.id)),
            mime::POST,
            fields,
            to_json(self),
        )
    }
}

impl CheckRecord {
    /// A check of `post_id` at `at` (WARC-Date form) with `outcome`, made by `via`, resting on
    /// `record_ids`; every other field empty, for the caller to fill.
    pub fn new(
        post_id: &str,
        at: &str,
        outcome: Outcome,
        via: &str,
        record_ids: Vec<String>,
    ) -> Self {
        CheckRecord {
            samizdat: CHECK_FORMAT.into(),
            post_id: post_id.to_string(),
            at: at.to_string(),
            outcome,
            cause: None,
            message: None,
            http_status: None,
            record_ids,
            post_record: None,
            via: Some(via.to_string()),
            host: None,
            payload_digest: None,
            response_id: None,
            response_uri: None,
            response_date: None,
            next_check: None,
            url: None,
            requested_url: None,
            exchange: None,
        }
    }

    /// The check's `resource` record, dated at the check.
    pub fn to_record(&self) -> Record {
        Record::build(
            kind::RESOURCE,
            &self.at,
            Some(&format!("urn:samizdat:check:{}", self.post_id)),
            mime::CHECK,
            vec![],
            to_json(self),
        )
    }
}

impl WatchRecord {
    /// The watchlist change's `resource` record, dated `date`.
    pub fn to_record(&self, date: &str) -> Record {
        Record::build(
            kind::RESOURCE,
            date,
            Some(&format!("urn:samizdat:watch:{}", self.url)),
            mime::WATCH,
            vec![],
            to_json(self),
        )
    }
}

/// A body's JSON. These types hold strings, numbers and a [`Post`] (whose `extra` is a
/// JSON map already): serialising them cannot fail, and an empty body would be caught by
/// the reader as "not valid JSON" rather than written silently.
fn to_json<T: serde::Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_read_back_from_their_records() {
        let post = Post::new("web", "abc", "https://example.com/a");
        let before = Record::build(
            kind::RESOURCE,
            "2026-01-01T00:00:00Z",
            None,
            "text/plain",
            vec![],
            b"x".to_vec(),
        );
        let pr = PostRecord::new(
            &post,
            "https://example.com/a?x",
            std::slice::from_ref(&before),
        );
        let rec = pr.to_record(&["<urn:uuid:r>".into()], "2026-01-01T00:00:01Z");
        assert_eq!(rec.field("Content-Type"), Some(mime::POST));
        assert_eq!(rec.field("WARC-Concurrent-To"), Some("<urn:uuid:r>"));
        assert_eq!(rec.target_uri(), Some("urn:samizdat:post:web:abc"));
        let back: PostRecord = serde_json::from_slice(&rec.block).unwrap();
        assert_eq!(back.samizdat, POST_FORMAT);
        assert_eq!(back.record_ids, vec![before.id().to_string()]);
        assert_eq!(back.post, post);

        let c = CheckRecord {
            samizdat: CHECK_FORMAT.into(),
            post_id: "web:abc".into(),
            at: "2026-01-02T00:00:00Z".into(),
            outcome: Outcome::Deleted,
            cause: Some(Cause::Author),
            message: None,
            http_status: Some(404),
            record_ids: vec![],
            post_record: None,
            via: None,
            host: None,
            payload_digest: None,
            response_id: None,
            response_uri: None,
            response_date: None,
            next_check: None,
            url: None,
            requested_url: None,
            exchange: None,
        };
        let rec = c.to_record();
        assert_eq!(rec.date(), "2026-01-02T00:00:00Z");
        assert_eq!(rec.field("Content-Type"), Some(mime::CHECK));
        let s = String::from_utf8(rec.block.clone()).unwrap();
        assert!(
            !s.contains("\"via\"") && !s.contains("\"url\""),
            "absent optional fields stay out: {s}"
        );
        let back: CheckRecord = serde_json::from_slice(&rec.block).unwrap();
        assert_eq!(back.outcome, Outcome::Deleted);

        let w = WatchRecord {
            samizdat: WATCH_FORMAT.into(),
            action: "add".into(),
            url: "https://t.me/s/x".into(),
            kind: "account".into(),
            ..Default::default()
        };
        let rec = w.to_record("2026-01-03T00:00:00Z");
        assert_eq!(
            rec.target_uri(),
            Some("urn:samizdat:watch:https://t.me/s/x")
        );
        assert_eq!(rec.field("Content-Type"), Some(mime::WATCH));
    }
}
