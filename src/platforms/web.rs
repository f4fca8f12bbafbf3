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

use super::kit::{gone, unreachable};
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
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        let url = match target {
            Target::Post { url, .. } | Target::Account { url, .. } | Target::Follow { url } => url,
        };
        match Url::parse(url) {
            Ok(url) => page_plan(url),
            Err(e) => Step::Done(super::kit::broken("page", format!("a URL ({url:?}: {e})"))),
        }
    }
}

/// Asks for the page at `url`; its answer is the finding.
pub(crate) fn page_plan(url: Url) -> Step {
    let req = Request::get(url.clone(), "page")
        .header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .page();
    Step::fetch(req, PagePlan { url })
}

struct PagePlan {
    url: Url,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Failed(e) => unreachable(e),
            Fetched::Response(r) => match r.status {
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
