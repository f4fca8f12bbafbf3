//! Any other web page: one GET, then title, OpenGraph, JSON-LD, readable text and the
//! main images (read by [`crate::extract`]; what a page post is, is said here).
//!
//! The post id is `web:<sha256 of the canonical URL>` of where the page was answered: the
//! URL its redirects ended at (fragment dropped), whatever URL was asked for. A page asked
//! for directly and through a redirect is one post; every hop stays in the WARC, and the
//! URL asked for is kept among the post's `alt_urls`, so `show` finds it by either.
//!
//! A `<link rel=canonical>` (or `og:url`) on the page's own site names the post's `url`
//! (see [`crate::extract::same_site`]), and its id only where it is the same origin and
//! path as where the page was answered, differing in the query alone (`?utm_source=…`):
//! a redirect is the server's answer for a URL, a canonical link only what one page says
//! of itself, and a page may not make itself another page's post by naming it (a URL
//! stays with the post that claimed it first, and the conflict is shown, see
//! docs/post.md).
//!
//! Markers: an HTTP 404 or 410 is `not_found` at a first capture (nothing says a post
//! was ever there) and `deleted`, cause unknown, at a check of a page captured before;
//! any other 4xx or 5xx is `unreachable`.
//! The verdict comes from the HTTP status alone: no word of a page (its title, a "Page not
//! found" or "This page has been deleted" in its text or scripts) concludes anything.

use super::kit::{gone, gone_quietly, unreachable};
use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Response, Step, Target};
use crate::extract;
use crate::model::{Cause, Media, MediaKind, Outcome, Post};
use serde_json::{Map, json};
use sha2::{Digest, Sha256};
use url::Url;

pub struct Web;

/// The canonical form of a page URL: fragment dropped (the url crate already normalises
/// scheme, host case, default ports and percent-encoding).
pub fn canonical(url: &Url) -> Url {
    extract::without_fragment(url)
}

/// `web:<sha256 hex of the canonical URL>`.
pub fn platform_id(url: &Url) -> String {
    hex::encode(Sha256::digest(canonical(url).as_str().as_bytes()))
}

/// A normalised post for any web page: an HTML page read by [`extract::read_html`], any
/// other answer by its name (and, for an image, the image itself). Its id is that of the
/// URL it was answered at (see the module's head), not of the URL asked for.
pub fn page_post(url: &Url, resp: &Response) -> Post {
    let requested = canonical(url);
    let mut post = Post::new(
        "web",
        &platform_id(&resp.url),
        canonical(&resp.url).as_str(),
    );
    let mime = resp.mime();
    if !extract::looks_like_html(&mime, &resp.body) {
        non_html_post(&mut post, url, resp, &mime);
        if post.url != requested.as_str() {
            post.alt_urls.push(requested.to_string());
        }
        return post;
    }
    extract::read_html(
        &mut post,
        &extract::Page {
            requested: &requested,
            fetched: &resp.url,
            content_type: resp.header("content-type"),
            body: &resp.body,
            truncated: resp.truncated,
        },
    );
    // The page's own address differs from where it was answered only in its query (a
    // tracking parameter, a session id): the same page of the same origin, so its id.
    if let Ok(own) = Url::parse(&post.url)
        && own.origin() == resp.url.origin()
        && own.path() == resp.url.path()
    {
        let id = platform_id(&own);
        post.id = crate::model::PostId::new("web", &id);
        post.platform_id = id;
    }
    post
}

/// A post for an image, PDF, JSON or text response: its name and, for images, itself.
fn non_html_post(post: &mut Post, url: &Url, resp: &Response, mime: &str) {
    let seg = resp
        .url
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .or_else(|| {
            url.path_segments()
                .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        })
        .map(extract::percent_decode)
        .or_else(|| resp.url.host_str().map(str::to_string));
    post.title = seg;
    let is_image = mime.starts_with("image/")
        || (mime.is_empty() || mime == "application/octet-stream")
            && extract::sniff_image(&resp.body).is_some();
    if is_image {
        let mut m = Media::new(MediaKind::Image, canonical(&resp.url).to_string());
        m.mime = Some(if mime.starts_with("image/") {
            mime.to_string()
        } else {
            extract::sniff_image(&resp.body).unwrap_or("").to_string()
        });
        post.media.push(m);
    }
    let mut extra = Map::new();
    extra.insert("mime".into(), json!(mime));
    post.extra = extra;
}

impl Platform for Web {
    fn name(&self) -> &'static str {
        "web"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        Some(Target::Post {
            platform_id: platform_id(url),
            url: canonical(url).to_string(),
        })
    }
    fn post_plan(&self, target: &Target, job: Job, _ctx: &PlanContext) -> Step {
        let url = match target {
            Target::Post { url, .. } | Target::Account { url, .. } | Target::Follow { url } => url,
        };
        match Url::parse(url) {
            Ok(url) => page_plan(url, job),
            Err(e) => Step::Done(super::kit::broken("page", format!("a URL ({url:?}: {e})"))),
        }
    }
}

/// Asks for the page at `url`; its answer is the finding. A 404 or 410 says nothing was
/// there: at a first capture that is `not_found` (nothing says a page ever was there),
/// at a check of a page captured before it is `deleted`, cause unknown.
pub(crate) fn page_plan(url: Url, job: Job) -> Step {
    let req = Request::get(url.clone(), "page")
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .page();
    Step::fetch(req, PagePlan { url, job })
}

struct PagePlan {
    url: Url,
    job: Job,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Failed(e) => unreachable(e),
            Fetched::Response(r) => match r.status {
                404 | 410 if self.job == Job::Capture => {
                    gone_quietly(Outcome::NotFound, None, Some(format!("HTTP {}", r.status)))
                }
                404 | 410 => gone(
                    Outcome::Deleted,
                    Some(Cause::Unknown),
                    format!("HTTP {}", r.status),
                ),
                s if s >= 400 => unreachable(format!("HTTP {s}")),
                _ => Finding::Post(Box::new(page_post(&self.url, &r))),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What pages say about gone things, in many platforms' words: `web` and `feed` read
    /// only the HTTP status (404 and 410), never a word of the answer.
    const GONE_WORDS: &[&str] = &[
        "404 Not Found",
        "410 Gone",
        "Page not found",
        "This page has been deleted",
        "This account has been suspended",
        "Post not found",
        "The content has been deleted by the author.",
        "该内容已被发布者删除",
        "此内容因违规无法查看",
        "已被封禁",
        "[removed]",
        "[deleted]",
        "This Post is unavailable.",
        "Record not found",
    ];

    /// A live page (HTTP 200) whose title, text, scripts, styles and attributes say every
    /// gone word is read as the page: only a 404 or 410 status concludes anything.
    #[test]
    fn words_in_a_live_page_never_make_it_gone() {
        let all = GONE_WORDS.join(" | ");
        let page = format!(
            "<html><head><title>{all}</title><meta property=\"og:title\" content=\"{all}\">\
             <style>/* {all} */</style><script>var e = \"{all}\";</script></head>\
             <body data-state=\"{all}\"><h1>{all}</h1><p>{all}</p></body></html>"
        );
        let url = Url::parse("https://blog.example/2024/gone.html").unwrap();
        for status in [200, 203] {
            let (f, _) =
                crate::platforms::testing::run(page_plan(url.clone(), Job::Capture), |r| {
                    Fetched::Response(Response {
                        url: r.url.clone(),
                        status,
                        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                        body: page.as_bytes().to_vec(),
                        truncated: false,
                    })
                });
            match f {
                Finding::Post(p) => assert_eq!(p.platform, "web"),
                other => panic!("HTTP {status}: a live page read as {other:?}"),
            }
        }
        // The status is what is read (at a check of a page captured before, 410 is deleted).
        let (f, _) = crate::platforms::testing::run(page_plan(url, Job::Check), |r| {
            Fetched::Response(Response {
                url: r.url.clone(),
                status: 410,
                headers: vec![],
                body: Vec::new(),
                truncated: false,
            })
        });
        assert!(matches!(f, Finding::Gone(g) if g.outcome == Outcome::Deleted));
    }
}
