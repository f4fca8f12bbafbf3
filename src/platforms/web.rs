//! Any other web page: one GET, then title, OpenGraph, JSON-LD, readable text and the
//! main images (see [`crate::extract`]).
//!
//! The post id is `web:<sha256 of the canonical URL>`.

use super::{Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target};
use crate::model::{Cause, Gone, Outcome};
use sha2::{Digest, Sha256};
use url::Url;

pub struct Web;

/// The canonical form of a page URL: fragment dropped, host lower-cased (the url crate
/// already normalises scheme, host case, default ports and percent-encoding).
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}

/// `web:<sha256 hex of the canonical URL>`.
pub fn platform_id(url: &Url) -> String {
    hex::encode(Sha256::digest(canonical(url).as_str().as_bytes()))
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
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Box<dyn Plan> {
        let url = match target {
            Target::Post { url, .. } | Target::Account { url, .. } | Target::Follow { url } => {
                url.clone()
            }
        };
        Box::new(PagePlan {
            url: Url::parse(&url).expect("recognised URLs parse"),
            asked: false,
        })
    }
}

struct PagePlan {
    url: Url,
    asked: bool,
}

impl Plan for PagePlan {
    fn next(&mut self, last: Option<&Fetched>) -> Step {
        if !self.asked {
            self.asked = true;
            return Step::Fetch(
                Request::get(self.url.clone(), "page")
                    .header(
                        "Accept",
                        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                    )
                    .page(),
            );
        }
        Step::Done(match last {
            None => unreachable!("the page plan always fetches first"),
            Some(Fetched::Failed(e)) => Finding::Gone(Gone {
                outcome: Outcome::Unreachable,
                cause: None,
                message: Some(e.clone()),
            }),
            Some(Fetched::Response(r)) => match r.status {
                404 | 410 => Finding::Gone(Gone {
                    outcome: Outcome::Deleted,
                    cause: Some(Cause::Unknown),
                    message: Some(format!("HTTP {}", r.status)),
                }),
                401 | 403 => Finding::Gone(Gone {
                    outcome: Outcome::Unreachable,
                    cause: None,
                    message: Some(format!("HTTP {}", r.status)),
                }),
                s if s >= 400 => Finding::Gone(Gone {
                    outcome: Outcome::Unreachable,
                    cause: None,
                    message: Some(format!("HTTP {s}")),
                }),
                _ => Finding::Post(Box::new(crate::extract::page_post(&self.url, r))),
            },
        })
    }
}
