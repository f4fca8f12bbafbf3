//! Sina Weibo: `m.weibo.cn` JSON first, the `/detail/` page as the page a person sees.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `weibo.com/<uid>/<bid>`, `weibo.com/<uid>/<mid>` (also `www.`, `m.weibo.cn/<uid>/<…>`) | post |
//! | `weibo.com/detail/<mid>`, `m.weibo.cn/detail/<mid>`, `weibo.cn/detail/<mid>` | post |
//! | `m.weibo.cn/status/<bid or mid>` | post |
//! | `weibo.com/tv/show/1034:<oid>?mid=<mid>` | post (the `mid=` parameter) |
//! | `weibo.com/u/<uid>`, `weibo.com/<uid>`, `m.weibo.cn/u/<uid>`, `m.weibo.cn/profile/<uid>` | account |
//! | `t.cn/<code>`, `share.api.weibo.cn/share/…`, `mapp.api.weibo.cn/fx/…`, `weibo.com/n/<name>`, `video.weibo.com/show?fid=…` | follow (resolved by redirect) |
//!
//! `http:` is accepted everywhere. A post's id is always the numeric **mid**; the base62
//! **bid** (`KktFEsjrO`) converts both ways with [`mid_to_bid`] and [`bid_to_mid`]
//! (7-digit decimal groups ↔ 4-char base62 groups, from the right). A post's `url` is
//! `https://weibo.com/<uid>/<bid>` when the author is known, with
//! `https://m.weibo.cn/detail/<mid>` in `alt_urls` (that one is the `url` otherwise).
//!
//! # Endpoints (all anonymous first)
//!
//! - `GET https://m.weibo.cn/statuses/show?id=<mid>`: the post (`{"ok":1,"data":<mblog>}`),
//!   no redirects followed, sent with `Accept: application/json, text/plain, */*`,
//!   `X-Requested-With: XMLHttpRequest`, `MWeibo-Pwa: 1`, `Referer: https://m.weibo.cn/detail/<mid>`.
//! - `GET https://m.weibo.cn/statuses/extend?id=<mid>`: long text (`data.longTextContent`),
//!   asked when `isLongText` or more than nine pictures.
//! - `GET https://m.weibo.cn/detail/<mid>`: the HTML page a person sees; its
//!   `var $render_data = [{"status": <mblog>, …}][0] || {};` is the fallback source, and its
//!   "微博不存在或暂无查看权限" confirms an `ok:0`.
//! - `GET https://m.weibo.cn/api/container/getIndex?containerid=107603<uid>[&since_id=<cursor>]`:
//!   an account's timeline (cards with `card_type == 9`).
//! - Walls (`ok:-100`, HTTP 432/418/403, redirects to passport/login hosts, captchas,
//!   non-JSON answers): `POST https://visitor.passport.weibo.cn/visitor/genvisitor2`
//!   (visitor cookies `SUB`/`SUBP`, sent back as a `Cookie` header), then the user's
//!   configured cookies, then `unreachable`.
//!
//! - The conversation (`comments`, see its header for cursors and outcomes):
//!   `GET https://m.weibo.cn/comments/hotflow?id=<mid>&mid=<mid>&max_id_type=0[&max_id=…]`
//!   (comments in hot order, with a few replies inline), `GET …/comments/hotFlowChild?cid=<id>&max_id=…&max_id_type=…`
//!   (a comment's replies, oldest first), `GET …/api/statuses/repostTimeline?id=<mid>&page=N`
//!   (reposts, newest first). Anonymous only: a wall there is `unreachable` (the post stays
//!   captured); no visitor-cookie climb, no `weibo.com/ajax/statuses/buildComments`.
//!
//! A capture asks statuses/show, statuses/extend when needed, and the `/detail/` page; a
//! check asks statuses/show only, and the `/detail/` page to confirm an `ok:0`.
//! Deletion and visibility markers (a repost's `retweeted_status.text`) are read by
//! [`classify_marker`].

//!
//! # Rooms
//!
//! `ids` (mid ↔ bid, post and account URLs), `markers` (what Weibo's words say),
//! `text` (the HTML-ish text), `times` (dates and counts), `mblog` (a post object read
//! into a post), `access` (reading answers, walls and the access levels), `plans`,
//! `comments` (the conversation around a post).

mod access;
mod comments;
mod ids;
mod markers;
mod mblog;
mod plans;
mod text;
mod times;

pub use ids::{bid_to_mid, detail_url, mid_to_bid};
pub use markers::classify_marker;
pub use mblog::{parse_mblog, read_timeline, render_data_status};
pub use times::{parse_count, parse_created_at};

use super::{Job, PlanContext, Platform, Step, Target};
use ids::{account_url, is_digits, to_mid};
use url::Url;

pub struct Weibo;

const API: &str = "https://m.weibo.cn";
const VISITOR_URL: &str = "https://visitor.passport.weibo.cn/visitor/genvisitor2";
const JSON_ACCEPT: &str = "application/json, text/plain, */*";
const HTML_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
/// Hosts a login or visitor wall redirects to.
const WALL_HOSTS: &[&str] = &[
    "passport.weibo.com",
    "passport.weibo.cn",
    "login.sina.com.cn",
    "visitor.passport.weibo.cn",
];

// URL recognition

fn post_target(mid: String) -> Target {
    Target::Post {
        url: detail_url(&mid),
        platform_id: mid,
    }
}

fn account_target(uid: &str) -> Target {
    Target::Account {
        account_id: uid.to_string(),
        url: account_url(uid),
    }
}

fn recognise_url(url: &Url) -> Option<Target> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let segs = crate::platforms::kit::segments(url);
    let query = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    let follow = || {
        Some(Target::Follow {
            url: url.to_string(),
        })
    };
    match host {
        "t.cn" | "share.api.weibo.cn" | "mapp.api.weibo.cn" => {
            if segs.is_empty() {
                None
            } else {
                follow()
            }
        }
        "video.weibo.com" => match query("mid").and_then(|m| to_mid(&m)) {
            Some(mid) => Some(post_target(mid)),
            None if segs.first() == Some(&"show") => follow(),
            None => None,
        },
        "weibo.com" | "m.weibo.cn" | "weibo.cn" => match segs.as_slice() {
            ["detail", id] | ["status", id] => to_mid(id).map(post_target),
            ["u", uid] | ["profile", uid] if is_digits(uid) => Some(account_target(uid)),
            ["n", _] => follow(),
            ["tv", "show", _] => match query("mid").and_then(|m| to_mid(&m)) {
                Some(mid) => Some(post_target(mid)),
                None => follow(),
            },
            [uid, id] if is_digits(uid) => to_mid(id).map(post_target),
            [uid] if is_digits(uid) => Some(account_target(uid)),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------

impl Platform for Weibo {
    fn name(&self) -> &'static str {
        "weibo"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["m.weibo.cn", "weibo.com"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Step {
        let mid = match target {
            Target::Post { platform_id, url } => to_mid(platform_id).or_else(|| {
                Url::parse(url).ok().and_then(|u| match recognise_url(&u) {
                    Some(Target::Post { platform_id, .. }) => Some(platform_id),
                    _ => None,
                })
            }),
            Target::Follow { url } | Target::Account { url, .. } => {
                if let Ok(u) = Url::parse(url) {
                    return plans::follow_plan(u);
                }
                None
            }
        };
        plans::post_plan(
            mid.unwrap_or_default(),
            job,
            ctx.now.clone(),
            ctx.settings.has_user_cookies,
        )
    }
    fn timeline_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Account { account_id, .. } = target else {
            return None;
        };
        plans::timeline_plan(
            account_id.clone(),
            cursor.map(str::to_string),
            ctx.now.clone(),
            ctx.settings.has_user_cookies,
        )
    }
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Post { platform_id, .. } = target else {
            return None;
        };
        let mid = to_mid(platform_id).unwrap_or_else(|| platform_id.clone());
        Some(comments::comments_plan(mid, cursor, ctx.now.clone()))
    }
}
