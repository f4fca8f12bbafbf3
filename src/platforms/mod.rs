//! The platform layer: one file per platform, no I/O.
//!
//! A platform recognises URLs ([`Platform::recognise`]), and for a capture, a check or a
//! timeline page it hands out the first [`Step`] of a [`Plan`]: a small state machine
//! that asks for one HTTP request at a time ([`Step::Fetch`] carries the request and the
//! plan that reads its answer), and finally returns a [`Finding`] (a post, a gone
//! verdict, a timeline page, or a broken-shape error). Helpers every platform shares live
//! in [`kit`]; [`testing`] drives plans offline over fixture folders.
//! `capture/` runs plans over HTTP, records every exchange, applies politeness, retries
//! and host overrides, and fetches the media a post lists. This keeps every parser pure
//! and testable on fixtures.
//!
//! Adding a platform: one file here, one row in [`PLATFORMS`], one fixture folder with its
//! `manifest.toml` (see CONTRIBUTING.md).

use crate::model::{Gone, Post};
use url::Url;

pub mod bilibili;
pub mod bluesky;
pub mod douban;
pub mod douyin;
pub mod feed;
pub mod kit;
pub mod mastodon;
pub mod reddit;
pub mod telegram;
pub mod testing;
pub mod web;
pub mod wechat;
pub mod weibo;
pub mod x;
pub mod xiaohongshu;
pub mod zhihu;

/// Every platform samizdat knows, most specific first; `web` takes whatever is left.
pub static PLATFORMS: &[&dyn Platform] = &[
    &weibo::Weibo,
    &wechat::Wechat,
    &telegram::Telegram,
    &x::X,
    &bluesky::Bluesky,
    &reddit::Reddit,
    &bilibili::Bilibili,
    &zhihu::Zhihu,
    &douban::Douban,
    &xiaohongshu::Xiaohongshu,
    &douyin::Douyin,
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
    /// The platform's own `[platforms.NAME]` settings.
    pub settings: PlatformSettings,
}

impl Default for PlanContext {
    fn default() -> Self {
        PlanContext {
            now: jiff::ZonedDateTime::now(),
            settings: PlatformSettings::default(),
        }
    }
}

/// A platform's own `[platforms.NAME]` section as its plans see it. The fetcher applies
/// the section (host override, cookies, headers, delay); a plan reads it to decide what
/// to ask. Secret values stay with the fetcher: a plan learns that cookies are set, never
/// what they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformSettings {
    /// Whether the user configured cookies (`cookies`). A plan sets
    /// [`Request::with_user_cookies`] only after anonymous access was walled.
    pub has_user_cookies: bool,
    /// `base_url`: where the platform's main API host is reached instead.
    pub base_url: Option<String>,
    /// The names of the extra headers sent (`headers`; their values may be secret).
    pub header_names: Vec<String>,
    /// `per_host_delay_ms`.
    pub per_host_delay_ms: Option<u64>,
}

impl PlatformSettings {
    /// The settings of one `[platforms.NAME]` section.
    pub fn from_config(c: &crate::config::PlatformConfig) -> Self {
        PlatformSettings {
            has_user_cookies: c.cookies.is_some(),
            base_url: c.base_url.clone(),
            header_names: c.headers.keys().cloned().collect(),
            per_host_delay_ms: c.per_host_delay_ms,
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
    /// Waits for its host's turn (`per_host_delay_ms`). Off only for what a browser asks
    /// for while it renders one page (its pictures, styles and scripts come at once, as
    /// they do for a person; the page itself waited its turn).
    pub paced: bool,
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
            paced: true,
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

/// What a plan wants next: one request and the plan that reads its answer, or its
/// finding. A plan is consumed by each step, so once it is done there is nothing left to
/// ask, and every plan that is handed an answer has asked for it.
pub enum Step {
    Fetch(Request, Box<dyn Plan>),
    Done(Finding),
}

impl Step {
    /// Asks for `req`; `plan` reads the answer.
    pub fn fetch(req: Request, plan: impl Plan + 'static) -> Step {
        Step::Fetch(req, Box::new(plan))
    }
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Fetch(req, _) => f.debug_tuple("Fetch").field(req).finish(),
            Step::Done(finding) => f.debug_tuple("Done").field(finding).finish(),
        }
    }
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
    /// One page of the conversation around a post ([`Platform::comments_plan`]).
    Comments(CommentPage),
}

/// One page of the conversation around a post: comments, replies under them, reposts.
/// A wall, a captcha or a failed fetch is not a page: the plan finds
/// [`Finding::Gone`] with [`crate::model::Outcome::Unreachable`] (and the platform's
/// words), and the post itself stays captured.
#[derive(Debug, Clone, Default)]
pub struct CommentPage {
    /// The comments read, in the platform's order, each with [`Post::thread`] set. A
    /// comment's replies the page carries inline come after it.
    pub comments: Vec<Post>,
    /// Further pages to ask for, each a cursor for [`Platform::comments_plan`]: the next
    /// page of comments, the rest of one comment's replies, the reposts. The capture
    /// reads them breadth first until `[capture] comments` are read.
    pub more: Vec<String>,
    /// The platform says the conversation is closed (Weibo 评论已关闭): its words.
    pub closed: Option<String>,
    /// Comments the platform lists as gone, in its own words (Reddit's `[removed]`, a
    /// Bluesky `notFoundPost`): what became of them, never guessed from absence.
    pub gone: Vec<(crate::model::PostId, Gone)>,
}

/// A state machine for one capture, check or timeline page, waiting for the answer to
/// the request it was handed out with (see [`Step`]). A platform's `*_plan` methods give
/// the first step; [`Plan::next`] reads each answer and gives the next.
pub trait Plan: Send {
    fn next(self: Box<Self>, answer: Fetched) -> Step;
}

/// Most requests one plan may make: a guard against a plan that never finishes, the same
/// for captures, checks, polls and the offline runs of [`testing`].
pub const MAX_REQUESTS: usize = 32;

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
    /// Reads an input only this platform knows how to write (`at://…`, `feed:…`, share
    /// text), before it is read as an http(s) URL: `None` when the input is not of this
    /// platform's forms, else the URL it names or why it names none.
    fn normalise(&self, _input: &str) -> Option<Result<Url, String>> {
        None
    }
    /// A plan to capture or check one post: its first step.
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Step;
    /// A plan to read one page of an account's posts (its first step); `None` where the
    /// platform has no timelines samizdat can read.
    fn timeline_plan(
        &self,
        _target: &Target,
        _cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        None
    }
    /// A plan to read one page of the conversation around a post (its first step):
    /// `cursor` is `None` for the first page, else one of a [`CommentPage::more`].
    /// `None` where the platform shows no conversation without login (the platform
    /// file's header says what is available).
    fn comments_plan(
        &self,
        _target: &Target,
        _cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        None
    }
}

/// Reads a URL a person typed: each platform's own forms first ([`Platform::normalise`]),
/// then an http(s) URL. The error says what is wrong with the input.
pub fn read_url(input: &str) -> Result<Url, String> {
    let s = input.trim();
    if let Some(read) = PLATFORMS.iter().find_map(|p| p.normalise(s)) {
        return read;
    }
    let u = Url::parse(s).map_err(|e| {
        if !s.contains("://") {
            format!("{e}; give a full URL such as https://{s}")
        } else {
            e.to_string()
        }
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "unsupported scheme {:?}: samizdat captures http and https URLs",
            u.scheme()
        ));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    Ok(u)
}

/// Runs a plan without a network from its first step: `answer` answers each request.
/// `None` when the plan has not finished after `max_fetches` answers. For tests, fuzzing
/// and replaying fixtures (see [`testing`] for the harness).
pub fn run_offline(
    first: Step,
    mut answer: impl FnMut(&Request) -> Fetched,
    max_fetches: usize,
) -> Option<Finding> {
    let mut step = first;
    for _ in 0..max_fetches {
        match step {
            Step::Done(f) => return Some(f),
            Step::Fetch(req, plan) => step = plan.next(answer(&req)),
        }
    }
    match step {
        Step::Done(f) => Some(f),
        Step::Fetch(..) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_say_what_is_configured_but_not_the_secrets() {
        let config: crate::config::Config = toml::from_str(
            "[platforms.weibo]\ncookies = \"SUB=secret-value\"\nheaders = { Authorization = \"Bearer t0ken\" }\nper_host_delay_ms = 2500\n",
        )
        .unwrap();
        let s = PlatformSettings::from_config(&config.platforms["weibo"]);
        assert_eq!(
            s,
            PlatformSettings {
                has_user_cookies: true,
                base_url: None,
                header_names: vec!["Authorization".into()],
                per_host_delay_ms: Some(2500),
            }
        );
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("secret-value") && !shown.contains("t0ken"),
            "{shown}"
        );
        assert_eq!(
            PlatformSettings::from_config(&Default::default()),
            PlatformSettings::default()
        );
    }

    #[test]
    fn platform_forms_are_read_by_their_platform() {
        assert_eq!(
            read_url(" at://did:plc:abc/app.bsky.feed.post/3k7 ")
                .unwrap()
                .as_str(),
            "https://bsky.app/profile/did:plc:abc/post/3k7"
        );
        assert!(
            read_url("at://did:plc:abc/app.bsky.feed.like/3k7")
                .unwrap_err()
                .starts_with("not an at:// URI of a Bluesky post")
        );
        assert_eq!(
            read_url("feed://example.org/rss").unwrap().as_str(),
            "feed:http://example.org/rss"
        );
        assert!(
            read_url("feed:ftp://example.org/rss")
                .unwrap_err()
                .contains("after feed:, unsupported scheme \"ftp\"")
        );
        assert_eq!(
            read_url("https://a.example/x").unwrap().as_str(),
            "https://a.example/x"
        );
        assert!(
            read_url("example.org")
                .unwrap_err()
                .contains("give a full URL")
        );
    }

    #[test]
    fn offline_runs_stop_at_their_bound() {
        struct Again;
        impl Plan for Again {
            fn next(self: Box<Self>, _: Fetched) -> Step {
                Step::fetch(
                    Request::get(Url::parse("https://a.example/").unwrap(), "a"),
                    Again,
                )
            }
        }
        let first = Step::fetch(
            Request::get(Url::parse("https://a.example/").unwrap(), "a"),
            Again,
        );
        let mut n = 0;
        let f = run_offline(
            first,
            |_| {
                n += 1;
                Fetched::Failed("x".into())
            },
            5,
        );
        assert!(f.is_none());
        assert_eq!(n, 5);
        assert!(matches!(
            run_offline(Step::Done(kit::unreachable("x")), |_| unreachable!(), 0),
            Some(Finding::Gone(_))
        ));
    }
}
