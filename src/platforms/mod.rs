//! The platform layer: one file per platform, no I/O.
//!
//! A platform recognises URLs ([`Platform::recognise`]), and for a capture, a check or a
//! timeline page it hands out a [`Plan`]: a small state machine that asks for one HTTP
//! request at a time ([`Step::Fetch`]), reads each answer, and finally returns a
//! [`Finding`] (a post, a gone verdict, a timeline page, or a broken-shape error).
//! `capture/` runs plans over HTTP, records every exchange, applies politeness, retries
//! and host overrides, and fetches the media a post lists. This keeps every parser pure
//! and testable on fixtures.
//!
//! Adding a platform: one file here, one row in [`PLATFORMS`], one fixture folder.

use crate::model::{Gone, Post};
use url::Url;

pub mod bluesky;
pub mod feed;
pub mod mastodon;
pub mod reddit;
pub mod telegram;
pub mod web;
pub mod wechat;
pub mod weibo;
pub mod x;

/// Every platform samizdat knows, most specific first; `web` takes whatever is left.
pub static PLATFORMS: &[&dyn Platform] = &[
    &weibo::Weibo,
    &wechat::Wechat,
    &telegram::Telegram,
    &x::X,
    &bluesky::Bluesky,
    &reddit::Reddit,
    // After the platforms with URLs of their own, before Mastodon (its `/@user.rss` is a
    // feed) and `web` (see `feed`'s module docs).
    &feed::Feed,
    &mastodon::Mastodon,
    &web::Web,
];

/// Finds the platform and target for a URL. `web` accepts any http(s) URL, so this only
/// fails for URLs samizdat cannot fetch at all.
pub fn recognise(url: &Url) -> Option<(&'static dyn Platform, Target)> {
    PLATFORMS
        .iter()
        .find_map(|p| p.recognise(url).map(|t| (*p, t)))
}

/// The platform named `name` (`weibo`, `web`, ...).
pub fn by_name(name: &str) -> Option<&'static dyn Platform> {
    PLATFORMS.iter().copied().find(|p| p.name() == name)
}

/// What a URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One post. `platform_id` is the platform's stable id; `url` the canonical URL.
    Post { platform_id: String, url: String },
    /// An account, channel or feed whose posts can be listed.
    Account { account_id: String, url: String },
    /// A short or share link that must be followed (t.cn, share.api.weibo.cn) before
    /// the platform can say what it is.
    Follow { url: String },
}

/// Facts a plan may need that are not in the responses.
#[derive(Debug, Clone)]
pub struct PlanContext {
    /// Capture time, to resolve relative dates ("3分钟前").
    pub now: jiff::ZonedDateTime,
    /// Whether the user configured cookies for this platform (`[platforms.NAME] cookies`).
    /// A plan sets [`Request::with_user_cookies`] only after anonymous access was walled.
    pub has_user_cookies: bool,
}

impl Default for PlanContext {
    fn default() -> Self {
        PlanContext {
            now: jiff::ZonedDateTime::now(),
            has_user_cookies: false,
        }
    }
}

/// An HTTP request a plan wants made. The capture layer applies host overrides,
/// politeness and the size limit, records the exchange, and answers with [`Fetched`].
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: &'static str,
    pub url: Url,
    /// Extra request headers (Referer, X-Requested-With, Cookie from a visitor flow ...).
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Follow redirects (each hop is recorded). Weibo API calls say no: a redirect there
    /// means a login wall.
    pub follow_redirects: bool,
    /// Attach the user's configured cookies for this platform.
    pub with_user_cookies: bool,
    /// What this request is for, in error messages ("statuses/show").
    pub purpose: &'static str,
    /// A page a person would see (listed in WACZ pages.jsonl).
    pub is_page: bool,
}

impl Request {
    pub fn get(url: Url, purpose: &'static str) -> Self {
        Request {
            method: "GET",
            url,
            headers: vec![],
            body: None,
            follow_redirects: true,
            with_user_cookies: false,
            purpose,
            is_page: false,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn no_redirects(mut self) -> Self {
        self.follow_redirects = false;
        self
    }
    pub fn page(mut self) -> Self {
        self.is_page = true;
        self
    }
}

/// An answer as a plan sees it: the last hop's status and headers, and the body with
/// its Content-Encoding removed (the archive keeps the bytes as sent).
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL of the last hop, in the platform's own terms (host overrides undone).
    pub url: Url,
    pub status: u16,
    /// Header names lower-cased, in received order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body hit the size limit and was cut.
    pub truncated: bool,
}

impl Response {
    /// First value of a header (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The MIME type without parameters, lower-cased.
    pub fn mime(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }
}

/// The answer to a [`Step::Fetch`].
#[derive(Debug, Clone)]
pub enum Fetched {
    Response(Response),
    /// No HTTP answer at all: DNS, connect, TLS, timeout, redirect loop. Never a deletion.
    Failed(String),
}

/// What a plan wants next.
#[derive(Debug)]
pub enum Step {
    Fetch(Request),
    Done(Finding),
}

/// What a plan found.
#[derive(Debug, Clone)]
pub enum Finding {
    /// The post is there.
    Post(Box<Post>),
    /// Not there, or not reachable: outcome, cause and the platform's own words.
    Gone(Gone),
    /// A page of an account's posts, newest first, and how to ask for the next page.
    Timeline {
        posts: Vec<Post>,
        next_cursor: Option<String>,
    },
    /// The platform answered, but not in a shape samizdat knows: the records are kept and
    /// nothing is concluded about the post.
    Broken { endpoint: String, missing: String },
    /// The URL turned out to be another target (a share link resolved by redirect).
    Redirected { url: String },
}

/// A state machine for one capture, check or timeline page. `next(None)` starts it;
/// each later call carries the answer to the previous [`Step::Fetch`].
pub trait Plan: Send {
    fn next(&mut self, last: Option<&Fetched>) -> Step;
}

/// What a plan is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// First capture: everything a reader needs (long text, the page a person sees).
    Capture,
    /// A re-check: the cheapest requests that tell present from gone.
    Check,
}

pub trait Platform: Sync {
    /// `weibo`, `web`, ... (docs/platforms.md).
    fn name(&self) -> &'static str;
    /// The platform's main hosts (for `[platforms.NAME] base_url`).
    fn hosts(&self) -> &'static [&'static str];
    /// Recognise a URL of this platform.
    fn recognise(&self, url: &Url) -> Option<Target>;
    /// Whether [`Platform::post_plan`] can capture this platform's [`Target::Account`]s as
    /// one document (a feed is also a page); other accounts are only watched.
    fn captures_accounts(&self) -> bool {
        false
    }
    /// A plan to capture or check one post.
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Box<dyn Plan>;
    /// A plan to read one page of an account's posts; `None` where the platform has no
    /// timelines samizdat can read.
    fn timeline_plan(
        &self,
        _target: &Target,
        _cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Box<dyn Plan>> {
        None
    }
}

/// Runs a plan without a network: `answer` answers each request. `None` when the plan has
/// not finished after `max_fetches` answers. For tests, fuzzing and replaying fixtures.
pub fn run_offline(
    mut plan: Box<dyn Plan>,
    mut answer: impl FnMut(&Request) -> Fetched,
    max_fetches: usize,
) -> Option<Finding> {
    let mut last: Option<Fetched> = None;
    for _ in 0..=max_fetches {
        match plan.next(last.as_ref()) {
            Step::Done(f) => return Some(f),
            Step::Fetch(req) => last = Some(answer(&req)),
        }
    }
    None
}
