//! The shared vocabulary: a post, its media, and the outcome of looking at it.
//!
//! These are the shapes of docs/post.md (`show --json`, the API's post object) and
//! docs/states.md (check outcomes). Platform code produces them; `store` keeps them as
//! `resource` records; the CLI and web layer print them. Fields a platform lacks are `None`.

use serde::{Deserialize, Serialize};

/// A platform's name as it appears in post ids (`weibo:123`) and on the command line.
pub type PlatformName = &'static str;

/// samizdat's id for a post: `<platform>:<platform id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PostId(pub String);

impl PostId {
    pub fn new(platform: &str, platform_id: &str) -> Self {
        PostId(format!("{platform}:{platform_id}"))
    }
    /// The platform part (`weibo` of `weibo:123`).
    pub fn platform(&self) -> &str {
        self.0.split_once(':').map(|(p, _)| p).unwrap_or("")
    }
    /// The platform's own id (`123` of `weibo:123`).
    pub fn platform_id(&self) -> &str {
        self.0.split_once(':').map(|(_, id)| id).unwrap_or("")
    }
}

impl std::fmt::Display for PostId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub id: Option<String>,
    pub name: Option<String>,
    pub handle: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Gif,
    File,
}

/// One picture, video or file of a post. `url` is where the platform serves it; the
/// capture fills `sha256`, `bytes`, `mime` and `record_id` once it has fetched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub kind: MediaKind,
    pub url: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub mime: Option<String>,
    #[serde(default)]
    pub record_id: Option<String>,
    /// Alternative text or caption the platform gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    /// Referer the platform's media host wants (sinaimg, mmbiz check hotlinking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referer: Option<String>,
}

impl Media {
    pub fn new(kind: MediaKind, url: impl Into<String>) -> Self {
        Media {
            kind,
            url: url.into(),
            sha256: None,
            bytes: None,
            mime: None,
            record_id: None,
            alt: None,
            referer: None,
        }
    }
}

/// Interaction counts. Numbers where the platform gave something countable; `raw` keeps
/// the platform's own strings when they were not plain integers (Weibo's "100万+").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub reposts: Option<u64>,
    pub comments: Option<u64>,
    pub likes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub raw: serde_json::Map<String, serde_json::Value>,
}

/// A normalised post, as a platform reader returns it (docs/post.md, without history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub id: PostId,
    pub platform: String,
    pub platform_id: String,
    /// The canonical human URL.
    pub url: String,
    #[serde(default)]
    pub alt_urls: Vec<String>,
    pub author: Option<Author>,
    pub title: Option<String>,
    /// Plain text, as a person reads it.
    pub text: Option<String>,
    /// Sanitised HTML (no script, no event handlers, links unwrapped).
    pub html: Option<String>,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// The platform's own time string, kept verbatim.
    pub created_at_raw: Option<String>,
    #[serde(default)]
    pub media: Vec<Media>,
    pub repost_of: Option<Box<Post>>,
    pub quote_of: Option<Box<Post>>,
    pub reply_to: Option<Box<Post>>,
    pub counts: Option<Counts>,
    /// For a comment, reply or repost captured as part of another post's conversation:
    /// where it sits in it (docs/comments.md). `None` for a post captured on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Thread>,
    /// Anything else worth keeping that has no common field (Weibo `region_name`,
    /// `edit_count`, OpenGraph, JSON-LD ...).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Post {
    /// Who wrote it, as shown to a reader: the author's name, else the handle.
    pub fn author_label(&self) -> &str {
        self.author
            .as_ref()
            .and_then(|a| a.name.as_deref().or(a.handle.as_deref()))
            .unwrap_or("(unknown author)")
    }

    /// An empty post with only its identity set.
    pub fn new(platform: &str, platform_id: &str, url: &str) -> Self {
        Post {
            id: PostId::new(platform, platform_id),
            platform: platform.to_string(),
            platform_id: platform_id.to_string(),
            url: url.to_string(),
            alt_urls: vec![],
            author: None,
            title: None,
            text: None,
            html: None,
            created_at: None,
            created_at_raw: None,
            media: vec![],
            repost_of: None,
            quote_of: None,
            reply_to: None,
            counts: None,
            thread: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The content that decides `live` versus `edited`: text, html and media URLs, not counts.
    pub fn content_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.text.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(self.title.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        for m in &self.media {
            // Only the path: CDNs rotate hosts (wx1..wx4.sinaimg.cn) and sign URLs with
            // expiring query strings, which is not an edit.
            let path = url::Url::parse(&m.url)
                .map(|u| u.path().to_string())
                .unwrap_or_else(|_| m.url.clone());
            h.update(path.as_bytes());
            h.update([0]);
        }
        if let Some(r) = &self.repost_of {
            h.update(r.content_fingerprint().as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where a comment, reply or repost sits in the conversation around a post
/// (docs/comments.md). A comment is a post in its own right (its own id, state and
/// leaf); this says whose conversation it belongs to and what it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// The post whose conversation this is.
    pub thread_of: PostId,
    /// The comment this one answers; `None` when it answers the post itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<PostId>,
    pub kind: ThreadKind,
    /// The order the platform listed it in, in the platform's terms: `hot` (Weibo's
    /// hotflow, Reddit's `confidence`), `time`, `tree` (Mastodon's context, Bluesky's
    /// thread).
    pub order: String,
}

impl Thread {
    /// A comment on `thread_of`, or with `reply_to` a reply to that comment, listed in
    /// the platform's `order`.
    pub fn answering(thread_of: &PostId, reply_to: Option<PostId>, order: &str) -> Thread {
        Thread {
            thread_of: thread_of.clone(),
            kind: if reply_to.is_some() {
                ThreadKind::Reply
            } else {
                ThreadKind::Comment
            },
            reply_to,
            order: order.to_string(),
        }
    }
}

/// What a post in a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    /// An answer to the post itself.
    Comment,
    /// An answer to a comment.
    Reply,
    /// A repost of the post (Weibo 转发), with what the reposter wrote.
    Repost,
}

impl ThreadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadKind::Comment => "comment",
            ThreadKind::Reply => "reply",
            ThreadKind::Repost => "repost",
        }
    }
}

/// What a look at a post found (docs/states.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Live,
    Edited,
    Deleted,
    Restricted,
    AccountGone,
    /// Nothing at the address, and nothing says a post ever was there: a web page's
    /// 404 or 410 at its first capture (docs/states.md). Never a deletion by itself.
    NotFound,
    /// A comment its post's listing no longer showed, in a complete reading of it
    /// (docs/comments.md): an observation, never a deletion (listings change for many
    /// reasons).
    NotListed,
    Unreachable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Live => "live",
            Outcome::Edited => "edited",
            Outcome::Deleted => "deleted",
            Outcome::Restricted => "restricted",
            Outcome::AccountGone => "account_gone",
            Outcome::NotFound => "not_found",
            Outcome::NotListed => "not_listed",
            Outcome::Unreachable => "unreachable",
        }
    }
    /// The outcome named by [`Outcome::as_str`].
    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Live,
            Outcome::Edited,
            Outcome::Deleted,
            Outcome::Restricted,
            Outcome::AccountGone,
            Outcome::NotFound,
            Outcome::NotListed,
            Outcome::Unreachable,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
    /// Gone outcomes need two consecutive definite checks to become a state.
    pub fn is_gone(self) -> bool {
        matches!(
            self,
            Outcome::Deleted | Outcome::Restricted | Outcome::AccountGone
        )
    }
}

/// Who removed a post, when the platform says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Author,
    Platform,
    Unknown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Author => "author",
            Cause::Platform => "platform",
            Cause::Unknown => "unknown",
        }
    }
    /// The cause named by [`Cause::as_str`].
    pub fn parse(s: &str) -> Option<Cause> {
        [Cause::Author, Cause::Platform, Cause::Unknown]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A post that is not (publicly) there: the platform's verdict, in its own words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gone {
    /// `Deleted`, `Restricted`, `AccountGone` or `Unreachable`.
    pub outcome: Outcome,
    pub cause: Option<Cause>,
    /// The platform's own message or code, verbatim.
    pub message: Option<String>,
}
