//! Bilibili videos (稿件) through the public web JSON API, without login.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://{www.,m.,}bilibili.com/video/BV1…[/][?p=N…]` | post `bilibili:BV1…` |
//! | `https://{www.,m.,}bilibili.com/video/av<aid>[/][?p=N…]` | the same post: the aid is converted to its BV id |
//! | `https://www.bilibili.com/s/video/BV1…` (mobile share form) | post |
//! | `https://b23.tv/BV1…`, `https://b23.tv/av<aid>` (video short links) | post, directly |
//! | `https://b23.tv/<code>` (any other short link) | follow: resolved by redirect, every hop recorded |
//! | `https://t.bilibili.com/<id>`, `https://{www.,m.}bilibili.com/opus/<id>`, `https://m.bilibili.com/dynamic/<id>` | post `bilibili:dynamic/<id>` (a dynamic, 动态, or opus post) |
//! | `https://space.bilibili.com/<mid>[/video…][?…]`, `https://m.bilibili.com/space/<mid>` | account `<mid>`: an uploader, watched by its videos |
//!
//! A video's id is `bilibili:<BV id>`. Both id forms name one post: an `av` number is
//! converted with the documented algorithm (bilibili-API-collect `docs/misc/bvid_desc.md`,
//! the current one: `(2^51 | aid) ^ 23442827791579` in base 58 over the alphabet
//! `FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf`, nine digits after `BV1`,
//! characters 3↔9 and 4↔7 swapped), and a BV id counts only when it converts back to
//! itself. Parts (`?p=2`) are pages of one video: one post, every part listed in
//! `extra.pages`. The `BV` prefix is read case-blind; the rest is case-sensitive.
//!
//! Not recognised (the `web` reader keeps them as pages): articles (`/read/cv…`),
//! bangumi (`/bangumi/play/…`) and live rooms. An uploader's dynamics
//! (`x/polymer/web-dynamic/v1/feed/space`) are not listed: only their videos.
//!
//! # Dynamics (动态) and opus posts
//!
//! Capture and check alike ask two answers, then (a capture) the page
//! `https://t.bilibili.com/<id>` for the archive:
//!
//! 1. `GET https://api.bilibili.com/x/frontend/finger/spi`: `data.b_3`, a device id
//!    (`buvid3`); without it the detail answers `4101131` whatever the dynamic;
//! 2. `GET https://api.bilibili.com/x/polymer/web-dynamic/v1/detail?id=<id>&features=itemOpusStyle`
//!    with `Cookie: buvid3=<b_3>` and `Referer: https://t.bilibili.com/<id>`:
//!    `data.item` (bilibili-API-collect `docs/dynamic/detail.md`) with `id_str`,
//!    `modules.module_author {mid, name, pub_ts}`, the text in
//!    `modules.module_dynamic.desc.text` or, in the opus style, `major.opus.summary.text`
//!    (and `major.opus.title`), pictures in `major.draw.items[].src` or
//!    `major.opus.pics[].url` (fetched with the Referer above), and
//!    `modules.module_stat.{like,comment,forward}.count`.
//!
//! No code of the detail answer is documented to mean a deleted dynamic (`4101131`
//! also answers a missing device id, `-352` is risk control), so every non-zero code is
//! unreachable: a dynamic is captured and kept, and its disappearance is not concluded
//! from this API. Comments of dynamics are not read (their `comment_id_str` and
//! `comment_type` are kept in `extra`).
//!
//! # Endpoints (anonymous)
//!
//! - `GET https://api.bilibili.com/x/web-interface/view?bvid=<BV>` with
//!   `Referer: https://www.bilibili.com/`: `{code, message, data}`; `data` has `bvid`,
//!   `aid`, `title`, `desc`, `owner {mid, name, face}`, `pubdate` (seconds; written in
//!   Beijing time, +08:00), `stat {view, danmaku, reply, favorite, coin, share, like}`,
//!   `pic` (the cover) and `pages [{cid, page, part, duration}]`. A check asks only this.
//! - A capture then asks the video page a person sees, `https://www.bilibili.com/video/<BV>/`,
//!   for the archive only: its answer is recorded and never read for a verdict (the
//!   page's scripts carry every marker; a wall there does not undo the API's answer).
//!
//! - A capture then asks the WBI keys (`x/web-interface/nav`, see Uploaders below) and the
//!   first part's stream, `GET https://api.bilibili.com/x/player/wbi/playurl?bvid=<BV>&cid=<cid>&fnval=1&fnver=0&fourk=0&qn=80&wts=…&w_rid=…`
//!   (WBI-signed, `Referer` the video page): `data.durl[0].url` is one MP4 with picture
//!   and sound (`fnval=1`), the best quality an anonymous reader is offered as one file
//!   (480P or less; `qn=80` asks for 1080P, which needs login); `data.quality`, `format`,
//!   `timelength` and `accept_description` are kept in `extra.video_streams`. The stream
//!   URL expires within hours, so it is fetched at once, with `Referer:
//!   https://www.bilibili.com/` (the CDN refuses others). A failed, walled or refused
//!   stream answer (`-352`, `-404`, no keys) leaves the post as the view said, without
//!   its video, and says why in `extra.video_streams`: never a verdict.
//!
//! Media: the cover picture (`pic`, asked over https, with the Referer above) and the
//! first part's stream. Other parts' streams, DASH tracks (`fnval=16`: separate picture
//! and sound at higher qualities) and logged-in qualities are not fetched; every part's
//! `cid` is kept in `extra.pages`.
//!
//! # Verdicts
//!
//! Read only from the JSON answer's `code` (and, for a code samizdat does not know, a
//! `message` that is exactly one of the words below), never from the page, scripts or
//! a video's own title or description:
//!
//! | answer | outcome |
//! | --- | --- |
//! | `code 0` with `data` | the post |
//! | `-404` "啥都木有" | deleted, cause unknown (no such video, or removed; the API does not say by whom) |
//! | `62002` "稿件不可见" | restricted (the video exists but is not visible: locked, or hidden from the reader's region) |
//! | `62004` "稿件审核中" | restricted (under review) |
//! | `62012` "仅UP主自己可见" | restricted, cause author (the uploader made it private) |
//! | `-352` 风控校验失败, `-412` 请求被拦截, `-403`, `-401`, `-101`, `-400`, `-509`, `-799`, any other code | unreachable (risk control, login, rate limit: nothing concluded) |
//! | HTTP 412 (the risk-control page, whatever its body says), any non-JSON answer, 429, 5xx, no answer | unreachable |
//!
//! The codes' meanings are those of bilibili-API-collect `docs/video/info.md` and
//! `docs/misc/errcode.md`. A video whose API answer carries `code 0` is live whatever
//! its title, description or parts say.
//!
//! # Comments
//!
//! Available without login ([`Platform::comments_plan`]):
//! `GET https://api.bilibili.com/x/v2/reply?type=1&oid=<aid>&sort=2&ps=20&pn=<n>` (the
//! aid from the BV id). Each of `data.replies` is a comment `bilibili:reply/<rpid>`,
//! followed by the replies the answer carries inline under it (`replies`, a few),
//! each a reply to its `parent`. `order` is `hot` (Bilibili's `sort=2`). Further pages are
//! cursors `pn:<n>` while `page.num × page.size < page.count`. Code `12002`
//! "评论区已关闭" is a closed conversation; any other code, a wall or a failed fetch is
//! unreachable. Not read: replies beyond the inline ones (`x/v2/reply/reply`), the
//! pinned comment (`upper.top`), hot comments listed apart (`hots`), folded comments.
//!
//! # Uploaders (accounts)
//!
//! An uploader's videos are listed by `x/space/wbi/arc/search`, which wants a WBI
//! signature: a documented computation (bilibili-API-collect `docs/misc/sign/wbi.md`),
//! done here ([`WbiKeys`]), never a copy of Bilibili's scripts. One page is two requests:
//!
//! 1. `GET https://api.bilibili.com/x/web-interface/nav`: anonymous readers get
//!    `code -101` 账号未登录 with `data.wbi_img.{img_url,sub_url}`, whose file stems are
//!    the day's keys (only the keys are read; a non-JSON or non-200 answer is
//!    unreachable, JSON without both keys a broken shape);
//! 2. `GET https://api.bilibili.com/x/space/wbi/arc/search?mid=<mid>&order=pubdate&pn=<n>&ps=30&wts=<now>&w_rid=<md5>`
//!    with `Referer: https://space.bilibili.com/<mid>/video`: `data.list.vlist` (newest
//!    first: `bvid`, `title`, `description`, `created`, `author`, `mid`, `play`,
//!    `comment`, `pic`, `length`) and `data.page {pn, ps, count}`; the next page is the
//!    cursor `pn:<n+1>` while `pn × ps < count`. Each new video is then captured as a post.
//!
//! No answer of the listing says an account is gone: a code-0 answer carrying
//! `data.v_voucher` instead of the list (the risk control's answer to a refused
//! signature), `-352`, `-412`, HTTP 412, `-400`, `-403`, `-404` and any other code are
//! unreachable, and the watch reports the account failing rather than empty. Anonymous
//! listings are often answered with `-352` from shared or foreign addresses.
//!
//! # Without login
//!
//! Videos limited to logged-in readers, paid or members-only parts, and region-locked
//! videos answer with a code above (restricted or unreachable). Bilibili's risk control
//! often answers shared or foreign addresses with `-352`/`-412`: recorded as unreachable.

use super::kit::{
    Json, broken, escape_html, follow_step, gone, json_answer, post_then_page, str_of, unreachable,
    url,
};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::sanitize_html;
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post, PostId, Thread};
use serde_json::{Value, json};
use url::Url;

pub struct Bilibili;

const API: &str = "https://api.bilibili.com";
const WWW: &str = "https://www.bilibili.com";
const REFERER: &str = "https://www.bilibili.com/";
const VIEW: &str = "x/web-interface/view";
const REPLY: &str = "x/v2/reply";
const SPACE: &str = "https://space.bilibili.com";
const NAV: &str = "x/web-interface/nav";
const ARC_SEARCH: &str = "x/space/wbi/arc/search";
const PLAYURL: &str = "x/player/wbi/playurl";
const SPI: &str = "x/frontend/finger/spi";
const DETAIL: &str = "x/polymer/web-dynamic/v1/detail";

// ---------------------------------------------------------------------------------------
// av ↔ BV

const XOR_CODE: u64 = 23_442_827_791_579;
const MAX_AID: u64 = 1 << 51;
const MASK_CODE: u64 = MAX_AID - 1;
const ALPHABET: &[u8; 58] = b"FcwAPNKTMug3GV5Lj7EJnHpWsx4tb8haYeviqBz6rkCy12mUSDQX9RdoZf";

/// The BV id of an av number (`170001` → `BV17x411w7KC`); `None` outside `1..2^51`.
pub fn av_to_bv(aid: u64) -> Option<String> {
    if aid == 0 || aid >= MAX_AID {
        return None;
    }
    let mut b = *b"BV1000000000";
    let mut t = (MAX_AID | aid) ^ XOR_CODE;
    for i in (3..12).rev() {
        b[i] = ALPHABET[(t % 58) as usize];
        t /= 58;
    }
    b.swap(3, 9);
    b.swap(4, 7);
    String::from_utf8(b.to_vec()).ok()
}

/// The av number of a BV id (`BV17x411w7KC` → `170001`); `None` unless it is one that
/// [`av_to_bv`] writes (so every video has exactly one id).
pub fn bv_to_av(bv: &str) -> Option<u64> {
    let b = bv.as_bytes();
    if b.len() != 12 || !b[..2].eq_ignore_ascii_case(b"BV") || b[2] != b'1' {
        return None;
    }
    let mut b = b.to_vec();
    b.swap(3, 9);
    b.swap(4, 7);
    let mut t: u64 = 0;
    for c in &b[3..] {
        let d = ALPHABET.iter().position(|a| a == c)? as u64;
        t = t.checked_mul(58)?.checked_add(d)?;
    }
    let aid = (t & MASK_CODE) ^ XOR_CODE;
    let canonical = av_to_bv(aid)?;
    (canonical[2..] == bv[2..]).then_some(aid)
}

/// A video id as written in a URL (`BV1…`, `bv1…`, `av123`, `AV123`): its BV id.
fn video_id(s: &str) -> Option<String> {
    if s.len() > 2 && s[..2].eq_ignore_ascii_case("av") {
        let digits = &s[2..];
        if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return av_to_bv(digits.parse().ok()?);
    }
    bv_to_av(s)?;
    Some(format!("BV{}", &s[2..]))
}

fn video_url(bv: &str) -> String {
    format!("{WWW}/video/{bv}/")
}

fn post_target(bv: String) -> Target {
    Target::Post {
        url: video_url(&bv),
        platform_id: bv,
    }
}

fn is_mid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) && s != "0"
}

/// An uploader's space, `space.bilibili.com/<mid>`: the account `<mid>`.
fn space_target(mid: &str) -> Option<Target> {
    is_mid(mid).then(|| Target::Account {
        account_id: mid.to_string(),
        url: format!("{SPACE}/{mid}"),
    })
}

/// A dynamic (动态) or opus post, `t.bilibili.com/<id>`: the post `dynamic/<id>`.
fn dynamic_target(id: &str) -> Option<Target> {
    is_dynamic_id(id).then(|| Target::Post {
        platform_id: format!("dynamic/{id}"),
        url: dynamic_url(id),
    })
}

fn is_dynamic_id(id: &str) -> bool {
    (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

fn dynamic_url(id: &str) -> String {
    format!("https://t.bilibili.com/{id}")
}

fn recognise_url(u: &Url) -> Option<Target> {
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let segs = crate::platforms::kit::segments(u);
    match host.as_str() {
        "b23.tv" | "www.b23.tv" => match segs.as_slice() {
            [code] => match video_id(code) {
                Some(bv) => Some(post_target(bv)),
                None if code.len() <= 16 && code.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    Some(Target::Follow { url: u.to_string() })
                }
                None => None,
            },
            _ => None,
        },
        "bilibili.com" | "www.bilibili.com" | "m.bilibili.com" => match segs.as_slice() {
            ["video", id, ..] | ["s", "video", id, ..] => video_id(id).map(post_target),
            ["space", mid, ..] if host == "m.bilibili.com" => space_target(mid),
            ["opus", id] => dynamic_target(id),
            ["dynamic", id] if host == "m.bilibili.com" => dynamic_target(id),
            _ => None,
        },
        "t.bilibili.com" => match segs.as_slice() {
            [id] => dynamic_target(id),
            _ => None,
        },
        "space.bilibili.com" => match segs.as_slice() {
            [mid, ..] => space_target(mid),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Answers

/// Words that mean something only in a JSON answer's `code`/`message`.
const MARKERS: &[(i64, &str)] = &[
    (-404, "啥都木有"),
    (62002, "稿件不可见"),
    (62004, "稿件审核中"),
    (62012, "仅UP主自己可见"),
];

/// The verdict on a view answer's non-zero `code`.
fn view_verdict(code: i64, message: &str) -> Finding {
    let words = format!("{VIEW}: code {code}: {message}");
    // A code samizdat does not know counts only with exactly the words of a known one.
    let code = MARKERS
        .iter()
        .find(|(c, m)| *c == code || (*m == message.trim() && code > 0))
        .map_or(code, |(c, _)| *c);
    match code {
        -404 => gone(Outcome::Deleted, Some(Cause::Unknown), words),
        62002 | 62004 => gone(Outcome::Restricted, None, words),
        62012 => gone(Outcome::Restricted, Some(Cause::Author), words),
        // -352 risk control, -412 blocked, -403/-401/-101 login or permission, -400,
        // -509/-799 rate limits, 5xx-style codes, anything else: nothing is learnt.
        _ => unreachable(words),
    }
}

/// An answer of Bilibili's JSON API: its root object when `code` is 0, else the
/// finding (`verdict` reads a non-zero code).
fn read_api(
    answer: &Fetched,
    endpoint: &str,
    verdict: impl FnOnce(i64, &str) -> Finding,
) -> Result<Value, Finding> {
    let (r, json) = json_answer(answer, endpoint)?;
    if r.status >= 500 || r.status == 429 {
        return Err(unreachable(format!("{endpoint}: HTTP {}", r.status)));
    }
    // HTTP 412 is Bilibili's risk control whatever the body says: a JSON `-404` under it
    // is not the API's verdict.
    if r.status == 412 {
        return Err(unreachable(format!(
            "{endpoint}: HTTP 412: blocked by Bilibili's risk control"
        )));
    }
    let Some(v) = json.filter(Value::is_object) else {
        // The 412 risk-control page, a captcha, a proxy's page: never a verdict.
        let body = String::from_utf8_lossy(&r.body);
        let why = if r.status == 412 || body.contains("安全风控") {
            "blocked by Bilibili's risk control".to_string()
        } else {
            format!("not a Bilibili JSON answer ({})", r.mime())
        };
        return Err(unreachable(format!("{endpoint}: HTTP {}: {why}", r.status)));
    };
    let Some(code) = v.get("code").and_then(Value::as_i64) else {
        return Err(broken(endpoint, "code"));
    };
    let message = str_of(v.get("message")).unwrap_or_default();
    match code {
        0 if r.status == 200 => Ok(v),
        0 => Err(unreachable(format!("{endpoint}: HTTP {}", r.status))),
        c => Err(verdict(c, &message)),
    }
}

/// A request to the JSON API, with the page it is asked from as its Referer.
fn api_request(u: Url, purpose: &'static str, referer: &str) -> Request {
    Request::get(u, purpose)
        .header("Accept", "application/json, text/plain, */*")
        .header("Referer", referer)
}

// ---------------------------------------------------------------------------------------
// view → Post

fn beijing(secs: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    let z = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn https(u: &str) -> String {
    match u.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None if u.starts_with("//") => format!("https:{u}"),
        None => u.to_string(),
    }
}

fn space_author(mid: Option<String>, name: Option<String>) -> Option<Author> {
    if mid.is_none() && name.is_none() {
        return None;
    }
    Some(Author {
        url: mid
            .as_ref()
            .map(|m| format!("https://space.bilibili.com/{m}")),
        id: mid,
        name,
        handle: None,
    })
}

/// Plain text as HTML: escaped, line breaks kept.
fn text_html(text: &str) -> String {
    let base = Url::parse(WWW).expect("a constant URL");
    let paras = escape_html(text).replace('\n', "<br>");
    sanitize_html(&format!("<p>{paras}</p>"), &base)
}

/// Reads `data` of a view answer.
pub fn parse_view(d: &Json) -> Result<Post, Finding> {
    let bvid = d.str("bvid").ok_or_else(|| d.broken("data.bvid"))?;
    let aid = d.str("aid").ok_or_else(|| d.broken("data.aid"))?;
    let mut post = Post::new("bilibili", &bvid, &video_url(&bvid));
    post.alt_urls = vec![
        format!("{WWW}/video/av{aid}/"),
        format!("https://m.bilibili.com/video/{bvid}"),
        format!("https://b23.tv/{bvid}"),
    ];
    post.author = space_author(d.str("owner.mid"), d.str("owner.name"));
    post.title = d.str("title");
    if let Some(desc) = d.str("desc").filter(|s| s != "-") {
        post.html = Some(text_html(&desc));
        post.text = Some(desc);
    }
    if let Some(p) = d.at("pubdate").and_then(Value::as_i64) {
        post.created_at = beijing(p);
        post.created_at_raw = Some(p.to_string());
    }
    if let Some(pic) = d.str("pic") {
        let mut m = Media::new(MediaKind::Image, https(&pic));
        m.alt = Some("cover".into());
        m.referer = Some(REFERER.into());
        post.media.push(m);
    }
    let n = |k: &str| d.at(k).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    let mut counts = Counts {
        views: n("stat.view"),
        likes: n("stat.like"),
        comments: n("stat.reply"),
        reposts: n("stat.share"),
        ..Counts::default()
    };
    for k in ["danmaku", "favorite", "coin"] {
        if let Some(v) = d.at(&format!("stat.{k}")).filter(|v| v.is_number()) {
            counts.raw.insert(k.into(), v.clone());
        }
    }
    post.counts = Some(counts);
    post.extra.insert("aid".into(), json!(aid));
    for key in [
        "cid",
        "videos",
        "duration",
        "tname",
        "copyright",
        "state",
        "dynamic",
        "redirect_url",
    ] {
        if let Some(v) = d.at(key).filter(|v| !v.is_null() && **v != "") {
            post.extra.insert(key.into(), v.clone());
        }
    }
    if let Some(msg) = d.str("argue_info.argue_msg") {
        post.extra.insert("argue_msg".into(), json!(msg));
    }
    let pages: Vec<Value> = d
        .at("pages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            json!({
                "page": p.get("page"),
                "cid": p.get("cid"),
                "part": p.get("part"),
                "duration": p.get("duration"),
            })
        })
        .collect();
    if !pages.is_empty() {
        post.extra.insert("pages".into(), Value::Array(pages));
    }
    Ok(post)
}

// ---------------------------------------------------------------------------------------
// Post plan

fn view_step(bvid: &str, job: Job, ctx: &PlanContext) -> Step {
    let u = match url(&format!("{API}/{VIEW}?bvid={bvid}"), VIEW) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    Step::fetch(
        api_request(u, VIEW, REFERER),
        ViewPlan {
            job,
            wts: ctx.now.timestamp().as_second(),
        },
    )
}

struct ViewPlan {
    job: Job,
    /// The time of the stream request's WBI signature (the plan's clock).
    wts: i64,
}

impl Plan for ViewPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, VIEW, view_verdict) {
            Ok(v) => v,
            Err(f) => return Step::Done(f),
        };
        let root = Json::new(VIEW, &v);
        let data = match root.need_json("data") {
            Ok(d) if d.value().is_object() => d,
            Ok(_) => return Step::Done(root.broken("data")),
            Err(f) => return Step::Done(f),
        };
        let post = match parse_view(&data) {
            Ok(p) => p,
            Err(f) => return Step::Done(f),
        };
        if self.job == Job::Check {
            return Step::Done(Finding::Post(Box::new(post)));
        }
        match Url::parse(&post.url) {
            Ok(u) => Step::fetch(
                Request::get(u, "video page")
                    .header("Referer", REFERER)
                    .page(),
                PagePlan {
                    post,
                    wts: self.wts,
                },
            ),
            Err(_) => Step::Done(Finding::Post(Box::new(post))),
        }
    }
}

/// The video page, asked for the archive: the post is what the API said. Then the WBI
/// keys, for the stream.
struct PagePlan {
    post: Post,
    wts: i64,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, _answer: Fetched) -> Step {
        let cid = self.post.extra.get("cid").and_then(str_of_value);
        match (cid, nav_request()) {
            (Some(cid), Ok(req)) => Step::fetch(
                req,
                StreamKeysPlan {
                    post: self.post,
                    cid,
                    wts: self.wts,
                },
            ),
            (None, _) => without_stream(self.post, "no cid in the view answer"),
            (_, Err(_)) => without_stream(self.post, "no nav URL"),
        }
    }
}

fn str_of_value(v: &Value) -> Option<String> {
    str_of(Some(v)).filter(|s| s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty())
}

/// The post, its video stream not fetched, and why: a stream is never a verdict.
fn without_stream(mut post: Post, why: impl std::fmt::Display) -> Step {
    post.extra
        .insert("video_streams".into(), json!(format!("not fetched: {why}")));
    Step::Done(Finding::Post(Box::new(post)))
}

/// Reads the WBI keys, then asks for the first part's stream, WBI-signed.
struct StreamKeysPlan {
    post: Post,
    cid: String,
    wts: i64,
}

impl Plan for StreamKeysPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let keys = match read_nav(&answer) {
            Ok(k) => k,
            Err(f) => return without_stream(self.post, describe(&f)),
        };
        // fnval=1: one MP4 file with picture and sound (`durl`), the best an anonymous
        // reader is offered as one file; DASH (fnval=16) splits them in two tracks.
        let params = [
            ("bvid", self.post.platform_id.clone()),
            ("cid", self.cid.clone()),
            ("qn", "80".to_string()),
            ("fnval", "1".to_string()),
            ("fnver", "0".to_string()),
            ("fourk", "0".to_string()),
        ];
        let query = keys.sign(&params, self.wts);
        let u = match url(&format!("{API}/{PLAYURL}?{query}"), PLAYURL) {
            Ok(u) => u,
            Err(f) => return without_stream(self.post, describe(&f)),
        };
        let req = api_request(u, PLAYURL, &self.post.url);
        Step::fetch(req, StreamPlan { post: self.post })
    }
}

fn describe(f: &Finding) -> String {
    match f {
        Finding::Gone(g) => g.message.clone().unwrap_or_default(),
        Finding::Broken { endpoint, missing } => format!("{endpoint}: no {missing}"),
        _ => "an unexpected answer".into(),
    }
}

/// Reads the stream answer: `data.durl[0].url` becomes the post's video, fetched with
/// the Referer the CDN checks. Whatever this answer says, the post stays what the view
/// answer said.
struct StreamPlan {
    post: Post,
}

impl Plan for StreamPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, PLAYURL, |code, message| {
            unreachable(format!("{PLAYURL}: code {code}: {message}"))
        }) {
            Ok(v) => v,
            Err(f) => return without_stream(self.post, describe(&f)),
        };
        let root = Json::new(PLAYURL, &v);
        let Some(first) = root
            .str("data.durl.0.url")
            .filter(|u| u.starts_with("http"))
        else {
            return without_stream(self.post, format!("{PLAYURL}: no data.durl.0.url"));
        };
        let mut post = self.post;
        let mut m = Media::new(MediaKind::Video, https(&first));
        m.referer = Some(REFERER.into());
        m.alt = root
            .str("data.quality")
            .map(|q| format!("stream, quality {q} (first part)"));
        post.media.push(m);
        let mut streams = serde_json::Map::new();
        for k in ["quality", "format", "timelength", "accept_description"] {
            if let Some(v) = root.at(&format!("data.{k}")) {
                streams.insert(k.into(), v.clone());
            }
        }
        post.extra
            .insert("video_streams".into(), Value::Object(streams));
        Step::Done(Finding::Post(Box::new(post)))
    }
}

// ---------------------------------------------------------------------------------------
// Dynamics (动态) and opus posts

/// First the device id (`buvid3`) the dynamic API wants as a cookie: without it the
/// detail answers `4101131`, whatever the dynamic.
fn spi_step(id: &str, job: Job) -> Step {
    let u = match url(&format!("{API}/{SPI}"), SPI) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    Step::fetch(
        api_request(u, SPI, REFERER),
        SpiPlan {
            id: id.to_string(),
            job,
        },
    )
}

struct SpiPlan {
    id: String,
    job: Job,
}

impl Plan for SpiPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let v = match read_api(&answer, SPI, |code, message| {
            unreachable(format!("{SPI}: no device id: code {code}: {message}"))
        }) {
            Ok(v) => v,
            Err(f) => return Step::Done(f),
        };
        let Some(b3) = Json::new(SPI, &v)
            .str("data.b_3")
            .filter(|b| !b.is_empty() && b.bytes().all(|c| c.is_ascii_graphic() && c != b';'))
        else {
            return Step::Done(broken(SPI, "data.b_3"));
        };
        let u = match url(
            &format!("{API}/{DETAIL}?id={}&features=itemOpusStyle", self.id),
            DETAIL,
        ) {
            Ok(u) => u,
            Err(f) => return Step::Done(f),
        };
        let req = api_request(u, DETAIL, &dynamic_url(&self.id))
            .header("Cookie", &format!("buvid3={b3}"));
        Step::fetch(
            req,
            DetailPlan {
                id: self.id,
                job: self.job,
            },
        )
    }
}

struct DetailPlan {
    id: String,
    job: Job,
}

impl Plan for DetailPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        // No code of this answer is documented to mean a deleted dynamic (`4101131` also
        // answers a missing device id, `-352` is risk control): every one is unreachable.
        let v = match read_api(&answer, DETAIL, |code, message| {
            unreachable(format!("{DETAIL}: code {code}: {message}"))
        }) {
            Ok(v) => v,
            Err(f) => return Step::Done(f),
        };
        let root = Json::new(DETAIL, &v);
        let item = match root.need_json("data.item") {
            Ok(i) if i.value().is_object() => i,
            Ok(_) => return Step::Done(root.broken("data.item")),
            Err(f) => return Step::Done(f),
        };
        let post = match parse_dynamic(&self.id, &item) {
            Ok(p) => p,
            Err(f) => return Step::Done(f),
        };
        post_then_page(post, self.job, "dynamic page", REFERER)
    }
}

/// Reads `data.item` of a detail answer: a dynamic in the documented shape
/// (bilibili-API-collect `docs/dynamic/detail.md`, `all.md`), its text in
/// `module_dynamic.desc` or, in the opus style, `major.opus.summary`.
pub fn parse_dynamic(id: &str, item: &Json) -> Result<Post, Finding> {
    if item.str("id_str").as_deref() != Some(id) {
        return Err(item.broken(format!("data.item.id_str {id}")));
    }
    let mut post = Post::new("bilibili", &format!("dynamic/{id}"), &dynamic_url(id));
    post.alt_urls = vec![
        format!("{WWW}/opus/{id}"),
        format!("https://m.bilibili.com/dynamic/{id}"),
    ];
    let a = "modules.module_author";
    post.author = space_author(
        item.str(&format!("{a}.mid")),
        item.str(&format!("{a}.name")),
    );
    if let Some(t) = item.at(&format!("{a}.pub_ts")).and_then(|t| match t {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    let d = "modules.module_dynamic";
    let text = item
        .str(&format!("{d}.desc.text"))
        .or_else(|| item.str(&format!("{d}.major.opus.summary.text")))
        .filter(|t| !t.is_empty());
    if let Some(text) = text {
        post.html = Some(text_html(&text));
        post.text = Some(text);
    }
    post.title = item
        .str(&format!("{d}.major.opus.title"))
        .filter(|t| !t.is_empty());
    let pictures = [
        (format!("{d}.major.draw.items"), "src"),
        (format!("{d}.major.opus.pics"), "url"),
    ];
    for (list, key) in pictures {
        for pic in item
            .at(&list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(src) = str_of(pic.get(key)).filter(|s| !s.is_empty()) {
                let mut m = Media::new(MediaKind::Image, https(&src));
                m.referer = Some(REFERER.into());
                post.media.push(m);
            }
        }
    }
    let n = |k: &str| {
        item.at(&format!("modules.module_stat.{k}.count"))
            .and_then(Value::as_i64)
            .map(|v| v.max(0) as u64)
    };
    post.counts = Some(Counts {
        likes: n("like"),
        comments: n("comment"),
        reposts: n("forward"),
        ..Counts::default()
    });
    for (key, path) in [
        ("type", "type"),
        ("comment_id_str", "basic.comment_id_str"),
        ("comment_type", "basic.comment_type"),
        ("visible", "visible"),
        ("video", &format!("{d}.major.archive.bvid")),
    ] {
        if let Some(v) = item.at(path).filter(|v| !v.is_null()) {
            post.extra.insert(key.into(), v.clone());
        }
    }
    Ok(post)
}

// ---------------------------------------------------------------------------------------
// Comments

const COMMENTS_PER_PAGE: u64 = 20;
/// Bilibili's `sort=2`, in the contract's terms.
const ORDER: &str = "hot";

fn comments_step(bvid: String, aid: u64, cursor: Option<&str>) -> Step {
    let pn = match cursor {
        None => 1,
        Some(c) => match c
            .strip_prefix("pn:")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| (1..=100_000).contains(n))
        {
            Some(n) => n,
            None => {
                return Step::Done(broken(
                    "comments cursor",
                    format!("a cursor pn:<page number>, not {c:?}"),
                ));
            }
        },
    };
    let u = match url(
        &format!("{API}/{REPLY}?type=1&oid={aid}&sort=2&ps={COMMENTS_PER_PAGE}&pn={pn}"),
        REPLY,
    ) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    let req = api_request(u, REPLY, &video_url(&bvid));
    Step::fetch(req, ReplyPlan { bvid })
}

struct ReplyPlan {
    bvid: String,
}

impl Plan for ReplyPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let mut closed = None;
        let v = match read_api(&answer, REPLY, |code, message| {
            if code == 12002 {
                closed = Some(format!("code {code}: {message}"));
            }
            // Whatever the view would say about the video, here it only means the
            // comments cannot be read.
            unreachable(format!(
                "{REPLY}: the comments cannot be read: code {code}: {message}"
            ))
        }) {
            Ok(v) => v,
            Err(f) => {
                return Step::Done(match closed {
                    Some(words) => Finding::Comments(CommentPage {
                        closed: Some(words),
                        ..CommentPage::default()
                    }),
                    None => f,
                });
            }
        };
        let root = Json::new(REPLY, &v);
        let Some(data) = root.at("data").filter(|d| d.is_object()) else {
            return Step::Done(root.broken("data"));
        };
        let data = Json::new(REPLY, data);
        let mut page = CommentPage::default();
        let thread_of = PostId::new("bilibili", &self.bvid);
        let replies = data.at("replies").and_then(Value::as_array);
        for (i, r) in replies.into_iter().flatten().enumerate() {
            match comment(&self.bvid, &thread_of, r) {
                Some(p) => page.comments.push(p),
                None => return Step::Done(data.broken(format!("replies.{i}.rpid"))),
            }
            for (j, sub) in r
                .get("replies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                match comment(&self.bvid, &thread_of, sub) {
                    Some(p) => page.comments.push(p),
                    None => {
                        return Step::Done(data.broken(format!("replies.{i}.replies.{j}.rpid")));
                    }
                }
            }
        }
        let num = data.at("page.num").and_then(Value::as_u64).unwrap_or(1);
        let size = data.at("page.size").and_then(Value::as_u64).unwrap_or(0);
        let count = data.at("page.count").and_then(Value::as_u64).unwrap_or(0);
        if replies.is_some_and(|r| !r.is_empty()) && size > 0 && num * size < count {
            page.more.push(format!("pn:{}", num + 1));
        }
        Step::Done(Finding::Comments(page))
    }
}

/// One entry of `replies`: a comment (`root` 0) or a reply to its `parent`.
fn comment(bvid: &str, thread_of: &PostId, r: &Value) -> Option<Post> {
    let rpid = str_of(r.get("rpid_str")).or_else(|| str_of(r.get("rpid")))?;
    if !rpid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut post = Post::new(
        "bilibili",
        &format!("reply/{rpid}"),
        &format!("{}#reply{rpid}", video_url(bvid)),
    );
    post.author = space_author(
        str_of(r.pointer("/member/mid")).or_else(|| str_of(r.get("mid"))),
        str_of(r.pointer("/member/uname")),
    );
    if let Some(text) = str_of(r.pointer("/content/message")) {
        post.html = Some(text_html(&text));
        post.text = Some(text);
    }
    if let Some(t) = r.get("ctime").and_then(Value::as_i64) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    let n = |k: &str| r.get(k).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    post.counts = Some(Counts {
        likes: n("like"),
        comments: n("rcount"),
        ..Counts::default()
    });
    let parent = str_of(r.get("parent_str"))
        .or_else(|| str_of(r.get("parent")))
        .filter(|p| p != "0");
    post.thread = Some(Thread::answering(
        thread_of,
        parent.map(|p| PostId::new("bilibili", &format!("reply/{p}"))),
        ORDER,
    ));
    Some(post)
}

// ---------------------------------------------------------------------------------------
// WBI signing (bilibili-API-collect `docs/misc/sign/wbi.md`)
//
// Written here rather than taken from a crate: no maintained crate does it, and it is a
// documented computation of a few lines over MD5 (RustCrypto `md-5`).

/// The order in which the 64 characters of `img_key ‖ sub_key` are taken; the first 32
/// taken are the mixin key.
const MIXIN_KEY_ENC_TAB: [u8; 64] = [
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49, 33, 9, 42, 19, 29,
    28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40, 61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25,
    54, 21, 56, 59, 6, 63, 57, 62, 11, 36, 20, 34, 44, 52,
];

/// The WBI keys of a nav answer: the file stems of `data.wbi_img.img_url` and `sub_url`.
/// They are the same for every reader, logged in or not, and change daily.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WbiKeys {
    pub img_key: String,
    pub sub_key: String,
}

impl WbiKeys {
    fn stem(u: &str) -> Option<String> {
        let name = u.rsplit('/').next()?;
        let stem = name.split('.').next()?;
        (stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| stem.to_string())
    }

    /// The keys of a nav answer's root object (its `code` is -101 for anonymous readers:
    /// the keys are there all the same).
    pub fn of_nav(v: &Value) -> Option<WbiKeys> {
        Some(WbiKeys {
            img_key: Self::stem(v.pointer("/data/wbi_img/img_url")?.as_str()?)?,
            sub_key: Self::stem(v.pointer("/data/wbi_img/sub_url")?.as_str()?)?,
        })
    }

    /// The 32-character mixin key.
    pub fn mixin_key(&self) -> String {
        let raw: Vec<u8> = format!("{}{}", self.img_key, self.sub_key).into_bytes();
        MIXIN_KEY_ENC_TAB
            .iter()
            .filter_map(|&i| raw.get(i as usize).copied())
            .take(32)
            .map(char::from)
            .collect()
    }

    /// The signed query of `params` at Unix time `wts`: the parameters and `wts` sorted
    /// by name, values without `!'()*`, encoded as `encodeURIComponent` does (upper-case
    /// hex, space as `%20`), then `&w_rid=` the MD5 of that query followed by the mixin
    /// key.
    pub fn sign(&self, params: &[(&str, String)], wts: i64) -> String {
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| {
                let v: String = v.chars().filter(|c| !"!'()*".contains(*c)).collect();
                (k.to_string(), v)
            })
            .collect();
        all.push(("wts".into(), wts.to_string()));
        all.sort();
        let query = all
            .iter()
            .map(|(k, v)| format!("{}={}", uri_component(k), uri_component(v)))
            .collect::<Vec<_>>()
            .join("&");
        use md5::Digest;
        let digest = md5::Md5::digest(format!("{query}{}", self.mixin_key()).as_bytes());
        let w_rid = hex::encode(digest);
        format!("{query}&w_rid={w_rid}")
    }
}

/// JavaScript's `encodeURIComponent` for the characters a WBI value keeps (`!'()*` are
/// removed before): `url`'s form encoding writes a space as `+`, which the signature
/// does not accept.
fn uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// An uploader's videos

/// Videos per page of a space listing (the API's default).
const SPACE_PAGE: u64 = 30;

fn space_cursor(cursor: Option<&str>) -> Result<u64, Finding> {
    match cursor {
        None => Ok(1),
        Some(c) => c
            .strip_prefix("pn:")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                broken(
                    "space cursor",
                    format!("a cursor pn:<page number>, not {c:?}"),
                )
            }),
    }
}

fn space_step(mid: &str, cursor: Option<&str>, ctx: &PlanContext) -> Step {
    let pn = match space_cursor(cursor) {
        Ok(pn) => pn,
        Err(f) => return Step::Done(f),
    };
    let req = match nav_request() {
        Ok(r) => r,
        Err(f) => return Step::Done(f),
    };
    Step::fetch(
        req,
        NavPlan {
            mid: mid.to_string(),
            pn,
            wts: ctx.now.timestamp().as_second(),
        },
    )
}

/// Reads the WBI keys from the nav answer, then asks for the signed listing.
struct NavPlan {
    mid: String,
    pn: u64,
    /// The signature's time: the plan's clock, so a test's `SAMIZDAT_NOW` fixes it.
    wts: i64,
}

/// The WBI keys of a nav answer. Its `code` is -101 (账号未登录) for every anonymous
/// reader: only the keys matter; its HTTP status and shape still do.
fn read_nav(answer: &Fetched) -> Result<WbiKeys, Finding> {
    let (r, json) = json_answer(answer, NAV)?;
    match json.as_ref().filter(|_| r.status == 200) {
        Some(v) => {
            WbiKeys::of_nav(v).ok_or_else(|| broken(NAV, "data.wbi_img.img_url and sub_url"))
        }
        None => Err(unreachable(format!(
            "{NAV}: HTTP {} ({}): no WBI keys",
            r.status,
            r.mime()
        ))),
    }
}

fn nav_request() -> Result<Request, Finding> {
    Ok(api_request(
        url(&format!("{API}/{NAV}"), NAV)?,
        NAV,
        REFERER,
    ))
}

impl Plan for NavPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let keys = match read_nav(&answer) {
            Ok(k) => k,
            Err(f) => return Step::Done(f),
        };
        let params = [
            ("mid", self.mid.clone()),
            ("order", "pubdate".to_string()),
            ("pn", self.pn.to_string()),
            ("ps", SPACE_PAGE.to_string()),
        ];
        let query = keys.sign(&params, self.wts);
        let u = match url(&format!("{API}/{ARC_SEARCH}?{query}"), ARC_SEARCH) {
            Ok(u) => u,
            Err(f) => return Step::Done(f),
        };
        let req = api_request(u, ARC_SEARCH, &format!("{SPACE}/{}/video", self.mid));
        Step::fetch(req, SpacePlan { mid: self.mid })
    }
}

struct SpacePlan {
    mid: String,
}

impl Plan for SpacePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        // No code of this listing says the account is gone: -352/-412 risk control, -400,
        // -403 (a bad or stale signature) and any other code are unreachable.
        let v = match read_api(&answer, ARC_SEARCH, |code, message| {
            unreachable(format!(
                "{ARC_SEARCH}: the uploader's videos cannot be listed: code {code}: {message}"
            ))
        }) {
            Ok(v) => v,
            Err(f) => return Step::Done(f),
        };
        let root = Json::new(ARC_SEARCH, &v);
        // A code-0 answer without the list is the risk control's voucher (`v_voucher`,
        // sent when the signature is missing or refused): nothing is learnt.
        if let Some(voucher) = root.str("data.v_voucher") {
            return Step::Done(unreachable(format!(
                "{ARC_SEARCH}: risk control (v_voucher {voucher})"
            )));
        }
        let Some(vlist) = root.at("data.list.vlist") else {
            return Step::Done(root.broken("data.list.vlist"));
        };
        // An uploader with no videos has `vlist: null`.
        static NONE: Vec<Value> = Vec::new();
        let vlist = match vlist {
            Value::Array(a) => a,
            Value::Null => &NONE,
            _ => return Step::Done(root.broken("data.list.vlist (an array)")),
        };
        let mut posts = Vec::with_capacity(vlist.len());
        for (i, item) in vlist.iter().enumerate() {
            match listed_video(&self.mid, item) {
                Some(p) => posts.push(p),
                None => return Step::Done(root.broken(format!("data.list.vlist.{i}.bvid"))),
            }
        }
        let pn = root.at("data.page.pn").and_then(Value::as_u64).unwrap_or(1);
        let ps = root.at("data.page.ps").and_then(Value::as_u64).unwrap_or(0);
        let count = root
            .at("data.page.count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let next_cursor =
            (!posts.is_empty() && ps > 0 && pn * ps < count).then(|| format!("pn:{}", pn + 1));
        Step::Done(Finding::Timeline { posts, next_cursor })
    }
}

/// One entry of a space listing's `vlist`: the video as the listing shows it (the
/// capture asks the view API for the rest).
fn listed_video(mid: &str, item: &Value) -> Option<Post> {
    let bvid = str_of(item.get("bvid")).and_then(|b| video_id(&b))?;
    let mut post = Post::new("bilibili", &bvid, &video_url(&bvid));
    post.author = space_author(
        str_of(item.get("mid")).or_else(|| Some(mid.to_string())),
        str_of(item.get("author")),
    );
    post.title = str_of(item.get("title"));
    if let Some(desc) = str_of(item.get("description")).filter(|s| !s.is_empty() && s != "-") {
        post.html = Some(text_html(&desc));
        post.text = Some(desc);
    }
    if let Some(t) = item.get("created").and_then(Value::as_i64) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    let n = |k: &str| item.get(k).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    post.counts = Some(Counts {
        views: n("play"),
        comments: n("comment"),
        ..Counts::default()
    });
    if let Some(pic) = str_of(item.get("pic")).filter(|p| !p.is_empty()) {
        let mut m = Media::new(MediaKind::Image, https(&pic));
        m.alt = Some("cover".into());
        m.referer = Some(REFERER.into());
        post.media.push(m);
    }
    if let Some(aid) = str_of(item.get("aid")) {
        post.extra.insert("aid".into(), json!(aid));
    }
    if let Some(len) = str_of(item.get("length")) {
        post.extra.insert("length".into(), json!(len));
    }
    Some(post)
}

// ---------------------------------------------------------------------------------------

impl Platform for Bilibili {
    fn name(&self) -> &'static str {
        "bilibili"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[
            "api.bilibili.com",
            "www.bilibili.com",
            "m.bilibili.com",
            "bilibili.com",
            "b23.tv",
            "space.bilibili.com",
            "t.bilibili.com",
        ]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, job: Job, ctx: &PlanContext) -> Step {
        match target {
            Target::Follow { url } => follow_step(url, "b23.tv short link"),
            Target::Post { platform_id, .. } => match platform_id.strip_prefix("dynamic/") {
                Some(id) if is_dynamic_id(id) => spi_step(id, job),
                Some(_) => Step::Done(broken(DETAIL, format!("a dynamic id, not {platform_id:?}"))),
                None => match video_id(platform_id) {
                    Some(bv) => view_step(&bv, job, ctx),
                    None => Step::Done(broken(VIEW, format!("a BV id, not {platform_id:?}"))),
                },
            },
            Target::Account { account_id, .. } => Step::Done(broken(
                "bilibili",
                format!(
                    "a video, not the uploader {account_id:?} (an uploader is watched: `watch add`)"
                ),
            )),
        }
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
        is_mid(account_id).then(|| space_step(account_id, cursor, ctx))
    }
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Post { platform_id, .. } = target else {
            return None;
        };
        let bv = video_id(platform_id)?;
        let aid = bv_to_av(&bv)?;
        Some(comments_step(bv, aid, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Response;

    /// Pairs from bilibili-API-collect's documents (`bvid_desc.md`, `info.md`).
    const PAIRS: &[(u64, &str)] = &[
        (170001, "BV17x411w7KC"),
        (85440373, "BV117411r7R1"),
        (1804383120, "BV1Tb421b7mi"),
    ];

    #[test]
    fn av_and_bv_convert_both_ways() {
        for (av, bv) in PAIRS {
            assert_eq!(av_to_bv(*av).as_deref(), Some(*bv), "av{av}");
            assert_eq!(bv_to_av(bv), Some(*av), "{bv}");
        }
        assert_eq!(bv_to_av("bv17x411w7KC"), Some(170001));
        // Case matters after the prefix: `X` is another digit, so another video.
        let other = bv_to_av("BV17X411w7KC").expect("a valid id of another video");
        assert_ne!(other, 170001);
        assert_eq!(av_to_bv(other).as_deref(), Some("BV17X411w7KC"));
        // A wrong length, a character outside the alphabet (0, I, O, l) or an id that
        // does not convert back is no id.
        for bad in [
            "BV17x411w7K",
            "BV17x411w7KCC",
            "BV10x411w7KC",
            "BV2Tb421b7mi",
            "av170001",
            "",
        ] {
            assert_eq!(bv_to_av(bad), None, "{bad}");
        }
        assert_eq!(av_to_bv(0), None);
        assert_eq!(av_to_bv(MAX_AID), None);
        for aid in [1, 2, 99_999_999, 1 << 40, MAX_AID - 1] {
            let bv = av_to_bv(aid).unwrap();
            assert_eq!(bv_to_av(&bv), Some(aid), "{bv}");
        }
    }

    fn target(u: &str) -> Option<Target> {
        recognise_url(&Url::parse(u).unwrap())
    }

    #[test]
    fn every_video_url_form_is_one_post() {
        let want = Some(Target::Post {
            platform_id: "BV17x411w7KC".into(),
            url: "https://www.bilibili.com/video/BV17x411w7KC/".into(),
        });
        for u in [
            "https://www.bilibili.com/video/BV17x411w7KC",
            "https://www.bilibili.com/video/BV17x411w7KC/?p=2&spm_id_from=333.788",
            "https://www.bilibili.com/video/av170001/",
            "http://bilibili.com/video/AV170001?p=3",
            "https://m.bilibili.com/video/BV17x411w7KC",
            "https://m.bilibili.com/video/av170001",
            "https://www.bilibili.com/s/video/BV17x411w7KC",
            "https://b23.tv/BV17x411w7KC",
            "https://b23.tv/av170001",
            "https://www.bilibili.com/video/bv17x411w7KC",
        ] {
            assert_eq!(target(u), want, "{u}");
        }
        assert_eq!(
            target("https://b23.tv/pigt3PQ"),
            Some(Target::Follow {
                url: "https://b23.tv/pigt3PQ".into()
            })
        );
        for u in [
            "https://www.bilibili.com/video/BV17x411w7K",
            "https://www.bilibili.com/video/",
            "https://t.bilibili.com/12345a",
            "https://t.bilibili.com/1234567890/more",
            "https://www.bilibili.com/opus/",
            "https://space.bilibili.com/0",
            "https://space.bilibili.com/12a",
            "https://space.bilibili.com/",
            "https://www.bilibili.com/space/122541",
            "https://www.bilibili.com/read/cv5167957",
            "https://example.com/video/BV17x411w7KC",
            "https://b23.tv/a/b",
        ] {
            assert_eq!(target(u), None, "{u}");
        }
    }

    #[test]
    fn spaces_are_uploaders_to_watch() {
        let want = Some(Target::Account {
            account_id: "122541".into(),
            url: "https://space.bilibili.com/122541".into(),
        });
        for u in [
            "https://space.bilibili.com/122541",
            "https://space.bilibili.com/122541/",
            "https://space.bilibili.com/122541/video?tid=0",
            "https://space.bilibili.com/122541/upload/video",
            "http://space.bilibili.com/122541?spm_id_from=333.1007",
            "https://m.bilibili.com/space/122541",
        ] {
            assert_eq!(target(u), want, "{u}");
        }
    }

    #[test]
    fn dynamics_and_opus_posts_are_one_post() {
        let want = Some(Target::Post {
            platform_id: "dynamic/967717348014293017".into(),
            url: "https://t.bilibili.com/967717348014293017".into(),
        });
        for u in [
            "https://t.bilibili.com/967717348014293017",
            "https://t.bilibili.com/967717348014293017?share_source=pc_native",
            "https://www.bilibili.com/opus/967717348014293017",
            "https://m.bilibili.com/opus/967717348014293017",
            "https://m.bilibili.com/dynamic/967717348014293017?spm_id_from=333",
        ] {
            assert_eq!(target(u), want, "{u}");
        }
    }

    /// The worked example of bilibili-API-collect `docs/misc/sign/wbi.md`: its keys, its
    /// mixin key, and its parameters `foo=114, bar=514, zab=1919810` at wts 1702204169.
    #[test]
    fn wbi_signing_matches_the_documented_example() {
        let nav: Value = serde_json::from_str(
            r#"{"code":-101,"message":"账号未登录","ttl":1,"data":{"isLogin":false,"wbi_img":{"img_url":"https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png","sub_url":"https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"}}}"#,
        )
        .unwrap();
        let keys = WbiKeys::of_nav(&nav).expect("keys");
        assert_eq!(keys.img_key, "7cd084941338484aae1ad9425b84077c");
        assert_eq!(keys.sub_key, "4932caff0ff746eab6f01bf08b70ac45");
        assert_eq!(keys.mixin_key(), "ea1db124af3c7062474693fa704f4ff8");
        let params = [
            ("foo", "114".to_string()),
            ("bar", "514".to_string()),
            ("zab", "1919810".to_string()),
        ];
        assert_eq!(
            keys.sign(&params, 1702204169),
            "bar=514&foo=114&wts=1702204169&zab=1919810&w_rid=8f6f2b5b3d485fe1886cec6a0be8c5d4"
        );
        // The document's encoding example: upper-case hex, a space as %20; `!'()*` dropped.
        let q = keys.sign(
            &[
                ("foo", "one one four".to_string()),
                ("bar", "五一四".to_string()),
                ("baz", "(1919810)!".to_string()),
            ],
            1,
        );
        assert!(
            q.starts_with(
                "bar=%E4%BA%94%E4%B8%80%E5%9B%9B&baz=1919810&foo=one%20one%20four&wts=1&w_rid="
            ),
            "{q}"
        );
        // A nav answer without both keys, or with a key that is not a 32-character stem,
        // gives none.
        for bad in [
            r#"{"code":-101,"data":{"isLogin":false}}"#,
            r#"{"code":0,"data":{"wbi_img":{"img_url":"https://i0.hdslb.com/bfs/wbi/7cd0.png","sub_url":"https://i0.hdslb.com/bfs/wbi/4932caff0ff746eab6f01bf08b70ac45.png"}}}"#,
            r#"{"code":0,"data":{"wbi_img":{"img_url":"https://i0.hdslb.com/bfs/wbi/7cd084941338484aae1ad9425b84077c.png"}}}"#,
        ] {
            let v: Value = serde_json::from_str(bad).unwrap();
            assert_eq!(WbiKeys::of_nav(&v), None, "{bad}");
        }
    }

    fn answer(r: &Request, status: u16, mime: &str, body: &str) -> Fetched {
        Fetched::Response(Response {
            url: r.url.clone(),
            status,
            headers: vec![("content-type".into(), mime.into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn capture(
        body_for: impl Fn(&Request) -> (u16, &'static str, String),
    ) -> (Finding, Vec<Request>) {
        let t = target("https://www.bilibili.com/video/BV17x411w7KC").unwrap();
        let first = Bilibili.post_plan(&t, Job::Capture, &PlanContext::default());
        crate::platforms::testing::run(first, |r| {
            let (status, mime, body) = body_for(r);
            answer(r, status, mime, &body)
        })
    }

    /// Every marker, in a page's script, style, attribute and title, and in a live
    /// answer's own fields (a title, a description, a part, a warning) says nothing; the
    /// same words in the JSON `code`/`message` are read.
    #[test]
    fn markers_outside_the_code_and_message_never_make_a_live_video_gone() {
        let all: Vec<&str> = MARKERS.iter().map(|(_, m)| *m).collect();
        let all = all.join(" ");
        let page = format!(
            "<!doctype html><html><head><title>{all} - 哔哩哔哩</title><style>.x::after{{content:\"{all}\"}}</style>\
             <script>window.__INITIAL_STATE__={{\"error\":{{\"code\":-404,\"message\":\"啥都木有\"}},\"m\":\"{all} 风控校验失败 -352\"}}</script></head>\
             <body data-msg=\"{all}\"><div class=\"error-text\" hidden>{all}</div></body></html>"
        );
        let live = json!({"code": 0, "message": "0", "ttl": 1, "data": {
            "bvid": "BV17x411w7KC", "aid": 170001, "title": format!("{all} -404 62002"),
            "desc": format!("稿件不可见？{all}"), "dynamic": all,
            "owner": {"mid": 122541, "name": "稿件审核中"},
            "argue_info": {"argue_msg": all, "argue_type": 0, "argue_link": ""},
            "pages": [{"cid": 1, "page": 1, "part": "啥都木有", "duration": 1}],
            "pubdate": 1320850533, "stat": {"view": 1}
        }})
        .to_string();
        let (f, asked) = capture(|r| {
            if r.url.host_str() == Some("api.bilibili.com") {
                (200, "application/json", live.clone())
            } else {
                (200, "text/html", page.clone())
            }
        });
        assert_eq!(asked.len(), 2);
        assert!(asked[1].is_page, "{:?}", asked[1]);
        match f {
            Finding::Post(p) => assert_eq!(p.id.0, "bilibili:BV17x411w7KC"),
            other => panic!("a live video read as {other:?}"),
        }
        // The page with every marker answered at the API itself: not JSON, not a verdict.
        let (f, _) = capture(|_| (200, "text/html", page.clone()));
        assert!(
            matches!(&f, Finding::Gone(g) if g.outcome == Outcome::Unreachable),
            "{f:?}"
        );
        // The words where Bilibili speaks: its code, or exactly its message.
        for (body, outcome) in [
            (
                r#"{"code":-404,"message":"啥都木有","ttl":1}"#,
                Outcome::Deleted,
            ),
            (
                r#"{"code":62002,"message":"稿件不可见","ttl":1}"#,
                Outcome::Restricted,
            ),
            (
                r#"{"code":62004,"message":"稿件审核中","ttl":1}"#,
                Outcome::Restricted,
            ),
            (
                r#"{"code":62012,"message":"仅UP主自己可见","ttl":1}"#,
                Outcome::Restricted,
            ),
            (
                r#"{"code":62099,"message":"稿件不可见","ttl":1}"#,
                Outcome::Restricted,
            ),
            (
                r#"{"code":62099,"message":"该稿件不可见了吗","ttl":1}"#,
                Outcome::Unreachable,
            ),
            (
                r#"{"code":-352,"message":"啥都木有","ttl":1}"#,
                Outcome::Unreachable,
            ),
            (
                r#"{"code":-412,"message":"请求被拦截","ttl":1}"#,
                Outcome::Unreachable,
            ),
        ] {
            let (f, asked) = capture(|_| (200, "application/json", body.to_string()));
            assert_eq!(asked.len(), 1, "{body}");
            match f {
                Finding::Gone(g) => assert_eq!(g.outcome, outcome, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_check_asks_only_the_view_api_with_the_referer() {
        let t = target("https://b23.tv/av85440373").unwrap();
        let Step::Fetch(req, _) = Bilibili.post_plan(&t, Job::Check, &PlanContext::default())
        else {
            panic!()
        };
        assert_eq!(
            req.url.as_str(),
            "https://api.bilibili.com/x/web-interface/view?bvid=BV117411r7R1"
        );
        assert!(
            req.headers
                .iter()
                .any(|(n, v)| n == "Referer" && v == "https://www.bilibili.com/")
        );
    }

    #[test]
    fn pubdate_is_written_in_beijing_time() {
        assert_eq!(
            beijing(1580377255).as_deref(),
            Some("2020-01-30T17:40:55+08:00")
        );
    }

    #[test]
    fn comment_cursors_are_page_numbers() {
        let t = target("https://www.bilibili.com/video/av170001").unwrap();
        let ctx = PlanContext::default();
        let Some(Step::Fetch(req, _)) = Bilibili.comments_plan(&t, Some("pn:3"), &ctx) else {
            panic!()
        };
        assert_eq!(
            req.url.as_str(),
            "https://api.bilibili.com/x/v2/reply?type=1&oid=170001&sort=2&ps=20&pn=3"
        );
        for bad in ["3", "pn:", "pn:0", "pn:x", "more:1"] {
            assert!(
                matches!(
                    Bilibili.comments_plan(&t, Some(bad), &ctx),
                    Some(Step::Done(Finding::Broken { .. }))
                ),
                "{bad}"
            );
        }
    }
}
