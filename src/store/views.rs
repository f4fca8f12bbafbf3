//! The read model: what the archive answers about its posts, as types.
//!
//! Every reader (the CLI's `show`, `list` and `search`, the web pages and JSON API,
//! evidence bundles and WACZ exports, `watch status`) gets these from
//! [`Index`](super::index::Index) instead of indexing `serde_json::Value`s, so a field
//! has one name and one type everywhere. Serialised, they are the JSON of `--json` and of
//! the API (docs/post.md): field order here is the order in that JSON, which tests
//! compare byte for byte.

use super::state::{Event, State};
use crate::model::{Author, Cause, Outcome, Post};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The last reading of the conversation around a post (its newest thread record,
/// docs/comments.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub status: crate::store::bodies::ThreadStatus,
    pub at: String,
    /// Comments that reading listed.
    pub count: usize,
    /// The platform's words, for `closed`, `unreachable` or `broken`.
    pub message: Option<String>,
    /// The thread record.
    pub record_id: String,
}

/// A comment, reply or repost with its own state, and the replies to it
/// (docs/comments.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentView {
    #[serde(flatten)]
    pub post: Post,
    pub state: State,
    pub cause: Option<Cause>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<CommentView>,
}

impl CommentView {
    /// This comment and every reply under it.
    pub fn count(&self) -> usize {
        1 + self.replies.iter().map(CommentView::count).sum::<usize>()
    }
}

/// Deepest nesting of [`CommentView::replies`]: a reply deeper than this is listed
/// under its ancestor at this level (its `thread.reply_to` still names whom it answers),
/// so a hostile thread cannot nest the JSON past what readers parse (serde_json stops at
/// 128).
pub const MAX_COMMENT_DEPTH: usize = 32;

/// Nests comments (in listing order) by `thread.reply_to`. A comment answers one listed
/// before it, or it is placed at the top: so the nesting has no cycles, whatever the
/// answers said.
pub fn nest_comments(flat: Vec<CommentView>) -> Vec<CommentView> {
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    let mut parent: Vec<Option<usize>> = Vec::with_capacity(flat.len());
    let mut depth: Vec<usize> = Vec::with_capacity(flat.len());
    for (i, c) in flat.iter().enumerate() {
        let mut p = c
            .post
            .thread
            .as_ref()
            .and_then(|t| t.reply_to.as_ref())
            .and_then(|r| at.get(&r.0).copied());
        // Too deep: hang it under the ancestor at the deepest level allowed.
        while let Some(q) = p
            && depth[q] + 1 > MAX_COMMENT_DEPTH
        {
            p = parent[q];
        }
        depth.push(p.map_or(0, |q| depth[q] + 1));
        parent.push(p);
        at.entry(c.post.id.0.clone()).or_insert(i);
    }
    let mut children: Vec<Vec<usize>> = vec![vec![]; flat.len()];
    let mut roots = vec![];
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(q) => children[*q].push(i),
            None => roots.push(i),
        }
    }
    let mut slots: Vec<Option<CommentView>> = flat.into_iter().map(Some).collect();
    // Children come after their parents, so building from the last up fills every
    // comment's replies before the comment itself is taken.
    for i in (0..slots.len()).rev() {
        let replies: Vec<CommentView> = children[i]
            .iter()
            .filter_map(|&c| slots[c].take())
            .collect();
        if let Some(c) = slots[i].as_mut() {
            c.replies = replies;
        }
    }
    roots.into_iter().filter_map(|r| slots[r].take()).collect()
}

/// One post with its whole history: the docs/post.md object (`show --json`,
/// `GET /api/posts/{id}`, a bundle's `post.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    /// The newest version of the post the archive holds.
    #[serde(flatten)]
    pub post: Post,
    pub state: State,
    pub cause: Option<Cause>,
    /// The platform's own words, from the check that confirmed (or kept) a gone state.
    pub message: Option<String>,
    pub last_seen_live: Option<String>,
    pub first_seen_gone: Option<String>,
    /// Oldest first.
    pub captures: Vec<CaptureView>,
    /// In write order.
    pub checks: Vec<CheckView>,
    /// The browser renders of its captures, oldest first (docs/render.md); left out of the
    /// JSON when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renders: Vec<crate::store::bodies::RenderFacts>,
    /// URLs this post shares with another post (only `show` gathers them: see
    /// [`PostView::with_conflicts`]); left out of the JSON when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url_conflicts: Vec<UrlConflict>,
}

impl PostView {
    /// The view with the post's URL conflicts (what `show` adds).
    pub fn with_conflicts(mut self, conflicts: Vec<UrlConflict>) -> Self {
        self.url_conflicts = conflicts;
        self
    }

    /// The outcome of the gone answer a `gone_unconfirmed` post rests on: its newest
    /// definite check's (`None` in any other state).
    pub fn unconfirmed_outcome(&self) -> Option<Outcome> {
        if self.state != State::GoneUnconfirmed {
            return None;
        }
        self.checks
            .iter()
            .rev()
            .map(|c| c.outcome)
            .find(|o| *o != Outcome::Unreachable)
    }

    /// What the state means, in words, for the states a post known only from gone
    /// answers has (`show`, the web post page); `None` for the others.
    pub fn state_in_words(&self) -> Option<String> {
        match self.state {
            State::GoneUnconfirmed => Some(format!(
                "already gone at its first capture: the platform answered {} once; a second agreeing check confirms it. Nothing of the post itself was captured.",
                self.unconfirmed_outcome().map_or("gone", Outcome::as_str)
            )),
            State::NotFound => Some(
                "not found: the address answered that nothing is there, and nothing says a post was ever there. Nothing was captured."
                    .into(),
            ),
            _ => None,
        }
    }

    /// The newest capture.
    pub fn last_capture(&self) -> Option<&CaptureView> {
        self.captures.last()
    }

    /// The leaf of the newest post record (the last record of the newest capture): what
    /// an inclusion proof of the post is about.
    pub fn post_leaf(&self) -> Option<u64> {
        self.last_capture()?.leaf_indexes.last().copied()
    }

    /// Every record id the captures and checks rest on, in history order, duplicates
    /// kept: the post's evidence.
    pub fn evidence_ids(&self) -> impl Iterator<Item = &str> {
        let caps = self
            .captures
            .iter()
            .flat_map(|c| c.record_ids.iter().map(String::as_str));
        let checks = self.checks.iter().flat_map(|c| {
            std::iter::once(c.record_id.as_str())
                .chain(c.record_ids.iter().map(String::as_str))
                .chain(c.post_record.as_deref())
        });
        caps.chain(checks)
    }
}

/// One capture of a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureView {
    pub at: String,
    /// Every record the capture wrote, the post record last.
    pub record_ids: Vec<String>,
    /// Their leaves in the log, in the same order (records the index no longer knows are
    /// left out).
    pub leaf_indexes: Vec<u64>,
}

/// One check of a post (docs/states.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    pub at: String,
    pub outcome: Outcome,
    /// `restored` or `confirmed`: when the check changed the post's state that way.
    pub event: Option<Event>,
    pub cause: Option<Cause>,
    pub message: Option<String>,
    pub http_status: Option<u16>,
    /// The check record.
    pub record_id: String,
    /// The records it rests on.
    pub record_ids: Vec<String>,
    /// The new post record of an `edited` check.
    pub post_record: Option<String>,
}

/// A URL two posts name as their own: it resolves to the first that claimed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlConflict {
    pub url: String,
    /// The post the URL resolves to (the first claim).
    pub belongs_to: String,
    /// The later post that named it too.
    pub also_claimed_by: String,
}

/// One line of `list` (`list --json`, `GET /api/posts`, the web's post lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostSummary {
    pub id: String,
    pub platform: String,
    pub url: String,
    /// The author's name, as captured.
    pub author: Option<String>,
    pub created_at: Option<String>,
    /// A [`State`] name (kept as text: the web lists filter by any word).
    pub state: String,
    pub first_captured: String,
    pub last_captured: String,
    /// The first 200 characters of the text (empty when there is none).
    pub text: String,
}

/// One search hit (`search --json`, `GET /api/search`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub platform: String,
    pub url: String,
    pub author: Option<Author>,
    pub created_at: Option<String>,
    pub state: State,
    pub text: Option<String>,
    pub last_captured: Option<String>,
}

impl SearchHit {
    /// The hit for a post view.
    pub fn of(v: &PostView) -> SearchHit {
        SearchHit {
            id: v.post.id.0.clone(),
            platform: v.post.platform.clone(),
            url: v.post.url.clone(),
            author: v.post.author.clone(),
            created_at: v.post.created_at.clone(),
            state: v.state,
            text: v.post.text.clone(),
            last_captured: v.last_capture().map(|c| c.at.clone()),
        }
    }
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub query: String,
    /// From 1 (`offset / per_page + 1`).
    pub page: usize,
    pub per_page: usize,
    /// Hits skipped before this page.
    #[serde(default)]
    pub offset: usize,
    /// Hits counted, at most `store::search::RANK_CAP`.
    pub total: usize,
    /// Whether there are more hits than were counted.
    pub capped: bool,
    /// Whether a page after this one has hits (`offset` + this page < `total`).
    #[serde(default)]
    pub more: bool,
    pub results: Vec<SearchHit>,
    /// Whether the index is older than stemmed search (schema 3) and not yet migrated (a
    /// reader never migrates): English words match only as written. For the command
    /// line's note; not part of the API.
    #[serde(skip)]
    pub unstemmed: bool,
}

impl SearchResults {
    /// No hits (an archive not created yet).
    pub fn none(query: &str, per_page: usize) -> SearchResults {
        SearchResults {
            query: query.to_string(),
            page: 1,
            per_page,
            offset: 0,
            total: 0,
            capped: false,
            more: false,
            results: vec![],
            unstemmed: false,
        }
    }
}

/// The counts `watch status` starts from (what the index alone knows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchCounts {
    pub now: String,
    /// State name to number of posts.
    pub posts_by_state: BTreeMap<String, i64>,
    /// `post` / `account` to number of watchlist entries.
    pub watched: BTreeMap<String, i64>,
    pub due: Due,
    /// The newest unreachable check per host.
    pub last_error_per_host: BTreeMap<String, HostError>,
}

/// Watchlist entries due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub posts: i64,
    pub accounts: i64,
    pub total: i64,
}

/// When a host last failed a check, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    pub at: String,
    pub message: Option<String>,
}

/// `watch status --json`: the index's counts, how each host answered lately, and what a
/// batch started now would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchStatus {
    #[serde(flatten)]
    pub counts: WatchCounts,
    pub hosts: Vec<HostStatus>,
    pub next_batch: NextBatch,
    /// Each `[[alerts]]` target (docs/alerts.md); left out when none is configured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<AlertTargetStatus>,
}

/// One alert target: since when it is told, what it was told, what waits for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertTargetStatus {
    /// Its name (`[[alerts]] name`, or `alert-` and a digest).
    pub target: String,
    /// The target in words, without secrets.
    pub to: String,
    pub on: Vec<String>,
    /// Its `start` record's time (None: it has not begun: no `watch run` since it was
    /// configured).
    pub since: Option<String>,
    pub delivered: usize,
    /// Alerts not delivered yet.
    pub waiting: usize,
    /// Its failed attempts, when alerts wait after failing.
    pub failing: Option<crate::store::index::Failing>,
}

/// How one host answered the watcher lately.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStatus {
    pub host: String,
    pub failures_in_a_row: u32,
    pub last_error: Option<String>,
    pub last_failure: Option<String>,
    pub last_ok: Option<String>,
    /// Until when the watcher leaves the host alone (backoff), if it does now.
    pub backing_off_until: Option<String>,
}

/// What a batch started now would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextBatch {
    pub would_run: usize,
    pub backing_off: usize,
    pub over_host_budget: usize,
    pub over_batch: usize,
    pub host_budget: usize,
    pub batch: usize,
}

/// One record of a post, as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub id: String,
    #[serde(rename = "type")]
    pub warc_type: String,
    pub target: Option<String>,
    pub date: String,
    pub content_type: Option<String>,
    pub block_digest: Option<String>,
    pub payload_digest: Option<String>,
    pub leaf_index: u64,
    pub file: String,
}

impl From<super::index::RecordRow> for RecordView {
    fn from(r: super::index::RecordRow) -> Self {
        RecordView {
            id: r.id,
            warc_type: r.warc_type,
            target: r.target,
            date: r.date,
            content_type: r.content_type,
            block_digest: r.block_digest,
            payload_digest: r.payload_digest,
            leaf_index: r.leaf,
            file: r.file,
        }
    }
}

/// An inclusion proof of a post's newest post record in the latest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionView {
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Base64.
    pub leaf_hash: String,
    /// Base64.
    pub root: String,
    /// Base64 hashes, leaf to root.
    pub proof: Vec<String>,
    /// The checkpoint's signed note, as served at `/log/checkpoint`.
    pub checkpoint: String,
}

/// A post with its conversation: `show --json` and `GET /api/posts/{id}` (docs/post.md,
/// docs/comments.md). Without comments it is the [`PostView`] alone, byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostWithThread {
    #[serde(flatten)]
    pub view: PostView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationView>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentView>,
    /// Where copies of it went, and recorded checks (docs/provenance.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custody: Vec<CustodyView>,
}

/// One custody event of a post: its record, and what the record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustodyView {
    pub record_id: String,
    #[serde(flatten)]
    pub body: crate::store::bodies::CustodyRecord,
}

/// Everything a post's page shows: the post, its records, the proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostPage {
    #[serde(flatten)]
    pub view: PostView,
    pub records: Vec<RecordView>,
    pub inclusion: Option<InclusionView>,
    /// The last reading of the post's conversation (docs/comments.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationView>,
    /// The post's comments, nested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<CommentView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> PostView {
        let mut post = Post::new("x", "1", "https://x.com/a/status/1");
        post.text = Some("hello".into());
        PostView {
            post,
            state: State::Deleted,
            cause: Some(Cause::Author),
            message: Some("gone".into()),
            last_seen_live: Some("2026-01-01T00:00:00Z".into()),
            first_seen_gone: Some("2026-01-02T00:00:00Z".into()),
            captures: vec![CaptureView {
                at: "2026-01-01T00:00:00Z".into(),
                record_ids: vec!["<urn:uuid:a>".into(), "<urn:uuid:p>".into()],
                leaf_indexes: vec![1, 2],
            }],
            renders: vec![],
            checks: vec![CheckView {
                at: "2026-01-02T00:00:00Z".into(),
                outcome: Outcome::Deleted,
                event: Some(Event::Confirmed),
                cause: Some(Cause::Author),
                message: Some("gone".into()),
                http_status: Some(404),
                record_id: "<urn:uuid:c>".into(),
                record_ids: vec!["<urn:uuid:r>".into()],
                post_record: None,
            }],
            url_conflicts: vec![],
        }
    }

    #[test]
    fn a_post_view_serialises_as_the_post_then_its_history() {
        let s = serde_json::to_string(&view()).unwrap();
        // The post's own fields first, in the post record's order, then the history.
        let keys = [
            "\"id\"",
            "\"platform\"",
            "\"text\"",
            "\"counts\"",
            "\"state\":\"deleted\"",
            "\"cause\":\"author\"",
            "\"message\"",
            "\"last_seen_live\"",
            "\"first_seen_gone\"",
            "\"captures\"",
            "\"checks\"",
        ];
        let mut at = 0;
        for k in keys {
            let i = s[at..]
                .find(k)
                .unwrap_or_else(|| panic!("{k} after {at} in {s}"));
            at += i + k.len();
        }
        assert!(s.contains(r#""event":"confirmed""#), "{s}");
        assert!(s.contains(r#""leaf_indexes":[1,2]"#), "{s}");
        assert!(!s.contains("url_conflicts"), "no conflicts, no key: {s}");
        let back: PostView = serde_json::from_str(&s).unwrap();
        assert_eq!(back, view());
    }

    #[test]
    fn conflicts_are_shown_only_when_there_are_some() {
        let v = view().with_conflicts(vec![UrlConflict {
            url: "https://x.com/a".into(),
            belongs_to: "x:0".into(),
            also_claimed_by: "x:1".into(),
        }]);
        let s = serde_json::to_string(&v).unwrap();
        assert!(
            s.ends_with(
                r#""url_conflicts":[{"url":"https://x.com/a","belongs_to":"x:0","also_claimed_by":"x:1"}]}"#
            ),
            "{s}"
        );
    }

    #[test]
    fn evidence_ids_cover_captures_and_checks() {
        let mut v = view();
        v.checks[0].post_record = Some("<urn:uuid:q>".into());
        let ids: Vec<&str> = v.evidence_ids().collect();
        assert_eq!(
            ids,
            [
                "<urn:uuid:a>",
                "<urn:uuid:p>",
                "<urn:uuid:c>",
                "<urn:uuid:r>",
                "<urn:uuid:q>"
            ]
        );
        assert_eq!(v.post_leaf(), Some(2));
    }
}
