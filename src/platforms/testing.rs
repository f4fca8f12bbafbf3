//! The conformance harness: drives any plan offline, by hand ([`run`]) or over a fixture
//! folder described by its `manifest.toml` ([`check_folder`]).
//!
//! # Manifest
//!
//! ```toml
//! platform = "mastodon"            # the platform every case's URL must be recognised as
//!
//! [[case]]
//! name = "a post with its edits"
//! url = "https://mastodon.example/@ada/112233445566778899"
//! job = "capture"                  # capture (the default), check, timeline or comments
//! # cursor = "…"                   # timeline, comments: the page to read
//! # now = "2024-04-04T16:02:11+08:00[Asia/Shanghai]"   # the plan's clock (default: now)
//! # has_user_cookies = true        # as if `[platforms.NAME] cookies` were set
//! asks = ["/api/v1/statuses/112233445566778899", "…/history"]   # optional: every request's
//!                                  # path?query, in order (a leading `…` matches any start)
//!
//! [[case.answer]]                  # answers, by request: the first whose `match` is
//! match = "/history"               # part of the request URL (no `match`: any request)
//! file = "status_photo_history.json"   # relative to the folder (or `body = "…"`)
//! status = 200                     # the default
//! content_type = "application/json"    # the default: by the file's extension
//! headers = { location = "https://…" }
//! # fail = "connection refused"    # no HTTP answer at all
//! # once = true                    # used for one request only, then the next match
//!
//! [case.expect]
//! finding = "post"                 # post, gone, timeline, comments, broken or redirected
//! # outcome = "deleted"  cause = "author"  message_contains = "…"   (gone)
//! # posts = 3  next_cursor = "…"   (timeline, "" for none; fields are of the first post)
//! # missing_contains = "…"         (broken)   url = "…" (redirected)
//! # posts = 20  more = ["…"]  closed_contains = "…"  gone = 1   (comments: how many
//! #   comments, the cursors of further pages, the closed words, the comments listed gone;
//! #   fields below are read from the first comment, or from `comment = N`, 0-based)
//! fields = { "/id" = "mastodon:mastodon.example/112233445566778899" }  # JSON pointer → value
//! contains = { "/text" = "heron" } # JSON pointer → part of a string
//! absent = ["/html"]               # JSON pointers that must be null or missing
//! ```
//!
//! Pointers are read from the post as it is serialised in the post record.

use super::{Fetched, Finding, Job, MAX_REQUESTS, PlanContext, Request, Response, Step};
use crate::error::{Error, Result};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs a plan from its first step, answering each request with `answer`: the finding
/// and every request made, in order. A plan still asking after [`MAX_REQUESTS`] (the
/// bound a capture has) ends as [`Finding::Broken`] with endpoint `platforms::testing`.
pub fn run(first: Step, mut answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    let mut asked = Vec::new();
    let mut step = first;
    loop {
        match step {
            Step::Done(f) => return (f, asked),
            Step::Fetch(..) if asked.len() >= MAX_REQUESTS => {
                let missing = format!("an end within {MAX_REQUESTS} requests");
                return (super::kit::broken("platforms::testing", missing), asked);
            }
            Step::Fetch(req, plan) => {
                let a = answer(&req);
                asked.push(req);
                step = plan.next(a);
            }
        }
    }
}

/// A fixture folder's `manifest.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The platform the cases are of (its [`super::Platform::name`]).
    pub platform: String,
    #[serde(default)]
    pub case: Vec<Case>,
}

/// One URL, its answers, and what the plan must find.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub job: CaseJob,
    pub cursor: Option<String>,
    pub now: Option<String>,
    #[serde(default)]
    pub has_user_cookies: bool,
    pub asks: Option<Vec<String>>,
    #[serde(default)]
    pub answer: Vec<Answer>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseJob {
    #[default]
    Capture,
    Check,
    Timeline,
    Comments,
}

/// An answer to the requests it matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(rename = "match")]
    pub matches: Option<String>,
    pub file: Option<String>,
    pub body: Option<String>,
    #[serde(default = "ok")]
    pub status: u16,
    pub content_type: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub fail: Option<String>,
    #[serde(default)]
    pub once: bool,
    #[serde(default)]
    pub truncated: bool,
}

fn ok() -> u16 {
    200
}

/// What the plan must find.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub finding: String,
    pub outcome: Option<String>,
    pub cause: Option<String>,
    pub message_contains: Option<String>,
    pub missing_contains: Option<String>,
    pub url: Option<String>,
    pub posts: Option<usize>,
    pub next_cursor: Option<String>,
    pub more: Option<Vec<String>>,
    pub closed_contains: Option<String>,
    pub gone: Option<usize>,
    pub comment: Option<usize>,
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub contains: BTreeMap<String, String>,
    #[serde(default)]
    pub absent: Vec<String>,
}

/// What became of one case: its name and every way it failed (none: it passed).
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub name: String,
    pub problems: Vec<String>,
}

/// Reads `dir/manifest.toml`.
pub fn load(dir: &Path) -> Result<Manifest> {
    let path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| Error::Config {
        path,
        message: e.to_string(),
    })
}

/// Runs every case of `dir/manifest.toml`.
pub fn check_folder(dir: &Path) -> Result<(Manifest, Vec<CaseReport>)> {
    let manifest = load(dir)?;
    let reports = manifest
        .case
        .iter()
        .map(|c| CaseReport {
            name: c.name.clone(),
            problems: check_case(dir, &manifest.platform, c),
        })
        .collect();
    Ok((manifest, reports))
}

/// Runs one case: every way it fails what it expects.
pub fn check_case(dir: &Path, platform_name: &str, case: &Case) -> Vec<String> {
    let mut problems = vec![];
    let url = match super::read_url(&case.url) {
        Ok(u) => u,
        Err(e) => return vec![format!("the URL does not read: {e}")],
    };
    let Some((platform, target)) = super::recognise(&url) else {
        return vec![format!("no platform recognises {url}")];
    };
    if platform.name() != platform_name {
        return vec![format!(
            "{url} is recognised as {}, not {platform_name}",
            platform.name()
        )];
    }
    let mut ctx = PlanContext::default();
    if let Some(now) = &case.now {
        match now.parse::<jiff::ZonedDateTime>() {
            Ok(n) => ctx.now = n,
            Err(e) => return vec![format!("now {now:?}: {e}")],
        }
    }
    ctx.settings.has_user_cookies = case.has_user_cookies;
    let first = match case.job {
        CaseJob::Capture => platform.post_plan(&target, Job::Capture, &ctx),
        CaseJob::Check => platform.post_plan(&target, Job::Check, &ctx),
        CaseJob::Timeline => match platform.timeline_plan(&target, case.cursor.as_deref(), &ctx) {
            Some(s) => s,
            None => return vec![format!("{} has no timeline for {url}", platform.name())],
        },
        CaseJob::Comments => match platform.comments_plan(&target, case.cursor.as_deref(), &ctx) {
            Some(s) => s,
            None => return vec![format!("{} has no comments for {url}", platform.name())],
        },
    };
    let mut used = vec![false; case.answer.len()];
    let (finding, asked) = run(first, |req| match pick(&case.answer, &mut used, req) {
        Some(a) => answer_with(dir, a, req),
        None => {
            problems.push(format!("no answer matches {}", req.url));
            Fetched::Failed("no answer in the manifest".into())
        }
    });
    if let Some(asks) = &case.asks {
        let got: Vec<String> = asked.iter().map(path_query).collect();
        let fits = got.len() == asks.len()
            && got
                .iter()
                .zip(asks)
                .all(|(g, w)| match w.strip_prefix('…') {
                    Some(end) => g.ends_with(end),
                    None => g == w,
                });
        if !fits {
            problems.push(format!("asked {got:?}, expected {asks:?}"));
        }
    }
    problems.extend(check_finding(&case.expect, &finding));
    problems
}

/// The first answer that matches `req` and is not used up.
fn pick<'a>(answers: &'a [Answer], used: &mut [bool], req: &Request) -> Option<&'a Answer> {
    let i = answers.iter().enumerate().position(|(i, a)| {
        !(a.once && used[i])
            && a.matches
                .as_deref()
                .is_none_or(|m| req.url.as_str().contains(m))
    })?;
    used[i] = true;
    answers.get(i)
}

fn answer_with(dir: &Path, a: &Answer, req: &Request) -> Fetched {
    if let Some(e) = &a.fail {
        return Fetched::Failed(e.clone());
    }
    let body = match (&a.file, &a.body) {
        (Some(f), _) => match std::fs::read(dir.join(f)) {
            Ok(b) => b,
            Err(e) => return Fetched::Failed(format!("fixture {f}: {e}")),
        },
        (None, Some(b)) => b.clone().into_bytes(),
        (None, None) => vec![],
    };
    let content_type = a.content_type.clone().unwrap_or_else(|| {
        let ext = a.file.as_deref().map(PathBuf::from);
        match ext.as_ref().and_then(|p| p.extension()?.to_str()) {
            Some("json") => "application/json; charset=utf-8",
            Some("html" | "htm") => "text/html; charset=utf-8",
            Some("xml" | "rss" | "atom") => "application/xml",
            _ => "text/plain",
        }
        .to_string()
    });
    let mut headers = vec![("content-type".to_string(), content_type)];
    headers.extend(
        a.headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone())),
    );
    // A redirect answered with `location` ends where it points when followed.
    let url = match (a.headers.get("location"), req.follow_redirects) {
        (Some(l), true) => req.url.join(l).unwrap_or_else(|_| req.url.clone()),
        _ => req.url.clone(),
    };
    Fetched::Response(Response {
        url,
        status: a.status,
        headers,
        body,
        truncated: a.truncated,
    })
}

/// A request's path and query (`/api/v1/statuses/1?x=y`).
pub fn path_query(req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_string(),
    }
}

fn check_finding(want: &Expect, got: &Finding) -> Vec<String> {
    let mut problems = vec![];
    let kind = match got {
        Finding::Post(_) => "post",
        Finding::Gone(_) => "gone",
        Finding::Timeline { .. } => "timeline",
        Finding::Broken { .. } => "broken",
        Finding::Redirected { .. } => "redirected",
        Finding::Comments(_) => "comments",
    };
    if kind != want.finding {
        return vec![format!("found {kind}, expected {}: {got:?}", want.finding)];
    }
    let mut post = None;
    match got {
        Finding::Post(p) => post = Some(p.as_ref()),
        Finding::Gone(g) => {
            if let Some(o) = &want.outcome
                && g.outcome.as_str() != o
            {
                problems.push(format!("outcome {}, expected {o}", g.outcome.as_str()));
            }
            let cause = g.cause.map(|c| c.as_str()).unwrap_or("none");
            if let Some(c) = &want.cause
                && cause != c
            {
                problems.push(format!("cause {cause}, expected {c}"));
            }
            if let Some(m) = &want.message_contains
                && !g.message.as_deref().unwrap_or("").contains(m.as_str())
            {
                problems.push(format!("message {:?} does not contain {m:?}", g.message));
            }
        }
        Finding::Timeline { posts, next_cursor } => {
            if let Some(n) = want.posts
                && posts.len() != n
            {
                problems.push(format!("{} posts, expected {n}", posts.len()));
            }
            // `next_cursor = ""`: the last page, no cursor.
            if let Some(c) = &want.next_cursor
                && next_cursor.as_deref() != Some(c.as_str()).filter(|c| !c.is_empty())
            {
                problems.push(format!("next cursor {next_cursor:?}, expected {c:?}"));
            }
            post = posts.first();
        }
        Finding::Comments(page) => {
            if let Some(n) = want.posts
                && page.comments.len() != n
            {
                problems.push(format!("{} comments, expected {n}", page.comments.len()));
            }
            if let Some(m) = &want.more
                && &page.more != m
            {
                problems.push(format!("more {:?}, expected {m:?}", page.more));
            }
            if let Some(c) = &want.closed_contains
                && !page.closed.as_deref().unwrap_or("").contains(c.as_str())
            {
                problems.push(format!("closed {:?} does not contain {c:?}", page.closed));
            }
            if let Some(n) = want.gone
                && page.gone.len() != n
            {
                problems.push(format!(
                    "{} comments gone, expected {n}: {:?}",
                    page.gone.len(),
                    page.gone
                ));
            }
            post = page.comments.get(want.comment.unwrap_or(0));
        }
        Finding::Broken { missing, .. } => {
            if let Some(m) = &want.missing_contains
                && !missing.contains(m.as_str())
            {
                problems.push(format!("missing {missing:?} does not contain {m:?}"));
            }
        }
        Finding::Redirected { url } => {
            if let Some(u) = &want.url
                && url != u
            {
                problems.push(format!("redirected to {url}, expected {u}"));
            }
        }
    }
    let wants_fields =
        !(want.fields.is_empty() && want.contains.is_empty() && want.absent.is_empty());
    match post.map(serde_json::to_value) {
        Some(Ok(v)) => {
            for (ptr, expected) in &want.fields {
                let at = v.pointer(ptr).unwrap_or(&Value::Null);
                if at != expected {
                    problems.push(format!("{ptr} is {at}, expected {expected}"));
                }
            }
            for (ptr, part) in &want.contains {
                match v.pointer(ptr).and_then(Value::as_str) {
                    Some(s) if s.contains(part.as_str()) => {}
                    other => {
                        problems.push(format!("{ptr} is {other:?}, expected to contain {part:?}"))
                    }
                }
            }
            for ptr in &want.absent {
                if v.pointer(ptr).is_some_and(|x| !x.is_null()) {
                    problems.push(format!("{ptr} is present, expected absent"));
                }
            }
        }
        Some(Err(e)) => problems.push(format!("the post does not serialise: {e}")),
        None if wants_fields => problems.push("fields are expected, but no post was found".into()),
        None => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::PLATFORMS;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
    }

    /// Every case of every fixture folder's manifest, and a manifest for every platform.
    #[test]
    fn every_manifest_case_passes() {
        let mut failures = vec![];
        let mut covered = std::collections::BTreeMap::<String, usize>::new();
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("manifest.toml").exists())
            .collect();
        dirs.sort();
        for dir in &dirs {
            let (manifest, reports) =
                check_folder(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            *covered.entry(manifest.platform.clone()).or_default() += reports.len();
            for r in reports {
                for p in r.problems {
                    failures.push(format!("{}: {}: {p}", dir.display(), r.name));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        for p in PLATFORMS {
            let n = covered.get(p.name()).copied().unwrap_or(0);
            assert!(
                n >= 2,
                "platform {} has {n} manifest cases (a fixture folder with a manifest.toml of at least two is part of adding a platform)",
                p.name()
            );
        }
    }

    fn case(toml_text: &str) -> (Manifest, Vec<String>) {
        let m: Manifest = toml::from_str(toml_text).unwrap();
        let problems = m
            .case
            .iter()
            .flat_map(|c| check_case(&fixtures().join("x"), &m.platform, c))
            .collect();
        (m, problems)
    }

    /// The harness can fail: a wrong expectation, a wrong platform, a missing answer and
    /// a wrong request list each give a problem.
    #[test]
    fn wrong_expectations_are_reported() {
        let base = r#"
            platform = "x"
            [[case]]
            name = "t"
            url = "https://x.com/a/status/1849203756112233445"
            answer = [{ file = "tombstone_deleted_by_author.json" }]
        "#;
        let (_, p) = case(&format!(
            "{base}\nexpect = {{ finding = \"gone\", outcome = \"deleted\", cause = \"author\" }}"
        ));
        assert!(p.is_empty(), "{p:?}");
        let (_, p) = case(&format!(
            "{base}\nexpect = {{ finding = \"gone\", outcome = \"restricted\" }}"
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains("outcome deleted, expected restricted"),
            "{p:?}"
        );
        let (_, p) = case(&format!("{base}\nexpect = {{ finding = \"post\" }}"));
        assert!(p[0].starts_with("found gone, expected post"), "{p:?}");
        let (_, p) = case(&format!(
            "{base}\nasks = [\"/elsewhere\"]\nexpect = {{ finding = \"gone\" }}"
        ));
        assert!(p[0].starts_with("asked [\"/tweet-result?id="), "{p:?}");
        let (_, p) = case(
            &base
                .replace("platform = \"x\"", "platform = \"reddit\"")
                .replace(
                    "answer = [{ file = \"tombstone_deleted_by_author.json\" }]",
                    "expect = { finding = \"gone\" }",
                ),
        );
        assert!(p[0].contains("recognised as x, not reddit"), "{p:?}");
        let (_, p) = case(&base.replace("answer = [{ file = \"tombstone_deleted_by_author.json\" }]", "answer = [{ match = \"nowhere\", file = \"x.json\" }]\nexpect = { finding = \"gone\" }"));
        assert!(
            p[0].starts_with("no answer matches https://cdn.syndication.twimg.com/"),
            "{p:?}"
        );
    }

    /// A plan that never finishes ends as broken within the capture bound.
    #[test]
    fn endless_plans_end() {
        struct Again;
        impl crate::platforms::Plan for Again {
            fn next(self: Box<Self>, _: Fetched) -> Step {
                Step::fetch(req(), Again)
            }
        }
        fn req() -> Request {
            Request::get(url::Url::parse("https://a.example/").unwrap(), "again")
        }
        let (f, asked) = run(Step::fetch(req(), Again), |_| Fetched::Failed("x".into()));
        assert_eq!(asked.len(), MAX_REQUESTS);
        assert!(matches!(f, Finding::Broken { endpoint, .. } if endpoint == "platforms::testing"));
    }
}
