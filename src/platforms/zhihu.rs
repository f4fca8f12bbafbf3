//! Zhihu (知乎) answers, articles and pins through the public API v4 JSON, without login.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://{www.,m.,}zhihu.com/question/<qid>/answer/<aid>[?…]` | post `zhihu:answer/<aid>` |
//! | `https://{www.,m.,}zhihu.com/answer/<aid>`, `…/answers/<aid>`, `…/appview/answer/<aid>` | the same post |
//! | `https://zhuanlan.zhihu.com/p/<id>[?utm_…]`, `https://{www.,m.,}zhihu.com/p/<id>`, `…/appview/p/<id>` | post `zhihu:article/<id>` |
//! | `https://{www.,m.,}zhihu.com/pin/<id>`, `…/appview/pin/<id>` | post `zhihu:pin/<id>` |
//!
//! Share links carry tracking queries (`?utm_psn=…`, `?share_code=…`): they are dropped.
//! Ids are digits only. Questions alone (`/question/<qid>`), people (`/people/<token>`),
//! columns, topics and `link.zhihu.com` redirects are not recognised (the `web` reader
//! keeps them as pages).
//!
//! # Endpoints (anonymous)
//!
//! - answers: `GET https://www.zhihu.com/api/v4/answers/<aid>?include=content,voteup_count,comment_count,created_time,updated_time,author`
//! - articles: `GET https://www.zhihu.com/api/v4/articles/<id>`
//! - pins: `GET https://www.zhihu.com/api/v4/pins/<id>`
//!
//! Each with `Referer: https://www.zhihu.com/`, no signature. An answer's object has
//! `id`, `question {id, title}`, `author {id, url_token, name}`, `content` (HTML),
//! `voteup_count`, `comment_count`, `created_time`/`updated_time` (seconds, written in
//! Beijing time, +08:00); an article `title`, `content`, `created`/`updated`; a pin
//! `content` (a list of parts: `text` with HTML in `content`, `image` with
//! `original_url`/`url`), `created`/`updated`, `like_count`/`reaction_count`. A check
//! asks only the API. A capture then asks the page a person sees, for the archive only:
//! its answer is recorded and never read for a verdict (the page's scripts and its
//! `js-initialData` state carry strings of every kind; a wall there does not undo the
//! API's answer).
//!
//! Pictures: the `<img>` of the content (`data-original`, else `data-actualsrc`, else an
//! http(s) `src`; the SVG placeholders are skipped) and a pin's image parts, fetched
//! with the Referer above. Videos inside answers are not fetched.
//!
//! The obfuscated `x-zse-96` signature that some of Zhihu's web endpoints want (search,
//! feeds, `members/<token>/answers`, and at times the answers and articles endpoints
//! for anonymous readers) is **not** implemented and no code of it is copied. When an
//! answer or article's API answers with the signature check (`10001`–`10003`,
//! 请求参数异常，请升级客户端后重试), the page a person sees is asked instead and the post
//! read from its embedded state, `<script id="js-initialData" type="text/json">`,
//! `initialState.entities.{answers,articles}.<id>` (camelCase keys: `voteupCount`,
//! `createdTime`, `author.urlToken`…); `extra.read_from` says so. The state is never read
//! for a verdict: a page without the entity is unreachable. Pins have no such fallback.
//!
//! # Verdicts
//!
//! Read only from the JSON answer's `error` object (`{"error": {"code", "message",
//! "name"}}`), never from the page, its scripts or a live post's own content:
//!
//! | answer | outcome |
//! | --- | --- |
//! | an object without `error`, HTTP 200 | the post |
//! | `error.message` with 已被作者删除 / 作者已删除 | deleted by the author |
//! | `error.message` with 已删除 / 已被删除 / 内容不存在 | deleted, cause unknown |
//! | `error.message` with 根据相关法律法规和政策 / 违反社区规范 / 违反知乎社区 / 已被管理员删除 | deleted by the platform |
//! | `error.message` with 审核中 | restricted (under review) |
//! | `error.message` with 账号已被封禁 / 已被封禁 / 账号已停用 | account gone, by the platform |
//! | `error.code` 40362 (请求存在异常), 10001–10003 (请求参数异常，请升级客户端后重试: the signature or header check), 40352, 100 (login), 401, 403, any unknown code or words | unreachable (risk control, login: nothing concluded) |
//! | any non-JSON answer (a 403 captcha page, `unhuman` redirects), 429, 5xx, no answer | unreachable |
//!
//! Risk-control and login words win over deletion words in the same message. A post
//! whose API answer has no `error` is live whatever its content says.
//!
//! # Comments
//!
//! Available without login where the post's comments are public ([`Platform::comments_plan`]):
//! `GET https://www.zhihu.com/api/v4/comment_v5/{answers,articles,pins}/<id>/root_comment?order_by=score&limit=20[&offset=<o>]`.
//! Each of `data` is a comment `zhihu:comment/<id>`, followed by the replies the answer
//! carries inline (`child_comments`), each a reply to `reply_comment_id` (else to its
//! root). `order` is `hot` (`order_by=score`). A further page is the cursor
//! `offset:<o>`, read from `paging.next` while `paging.is_end` is false. An error whose
//! message says the comments are closed (评论已关闭 / 关闭了评论) is a closed
//! conversation; any other error, a wall or a failed fetch is unreachable. Not read:
//! child comments beyond the inline ones (`comment_v5/comment/<id>/child_comment`).
//!
//! # Without login
//!
//! Accounts cannot be watched: a member's answers (`/api/v4/members/<token>/answers`)
//! answer anonymous readers with the signature or login error, so no timeline is read.
//! Answers only for logged-in readers, paid (盐选) content and folded answers come back
//! as an error (unreachable) or as an excerpt. Zhihu's risk control (`40362`,
//! 请求存在异常, the `/account/unhuman` captcha) often answers shared or foreign
//! addresses: recorded as unreachable, never as a deletion.

use super::kit::{Json, broken, escape_html, gone, json_answer, str_of, unreachable, url};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::{html_to_text, sanitize_html};
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post, PostId, Thread};
use serde_json::{Value, json};
use url::Url;

pub struct Zhihu;

const WWW: &str = "https://www.zhihu.com";
const ZHUANLAN: &str = "https://zhuanlan.zhihu.com";
const REFERER: &str = "https://www.zhihu.com/";
const ANSWER_INCLUDE: &str = "content,voteup_count,comment_count,created_time,updated_time,author";

/// The three kinds of post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Answer,
    Article,
    Pin,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Answer => "answer",
            Kind::Article => "article",
            Kind::Pin => "pin",
        }
    }
    fn endpoint(self) -> &'static str {
        match self {
            Kind::Answer => "api/v4/answers",
            Kind::Article => "api/v4/articles",
            Kind::Pin => "api/v4/pins",
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 24 && s.bytes().all(|b| b.is_ascii_digit())
}

fn page_url(kind: Kind, id: &str) -> String {
    match kind {
        Kind::Answer => format!("{WWW}/answer/{id}"),
        Kind::Article => format!("{ZHUANLAN}/p/{id}"),
        Kind::Pin => format!("{WWW}/pin/{id}"),
    }
}

fn post_target(kind: Kind, id: &str) -> Option<Target> {
    is_id(id).then(|| Target::Post {
        url: page_url(kind, id),
        platform_id: format!("{}/{id}", kind.word()),
    })
}

/// `answer/123` → (Answer, "123").
fn parse_platform_id(pid: &str) -> Option<(Kind, &str)> {
    let (k, id) = pid.split_once('/')?;
    let kind = match k {
        "answer" => Kind::Answer,
        "article" => Kind::Article,
        "pin" => Kind::Pin,
        _ => return None,
    };
    is_id(id).then_some((kind, id))
}

fn recognise_url(u: &Url) -> Option<Target> {
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let segs = crate::platforms::kit::segments(u);
    match host.as_str() {
        "zhuanlan.zhihu.com" => match segs.as_slice() {
            ["p", id] => post_target(Kind::Article, id),
            _ => None,
        },
        "zhihu.com" | "www.zhihu.com" | "m.zhihu.com" => match segs.as_slice() {
            ["question", q, "answer", id] if is_id(q) => post_target(Kind::Answer, id),
            ["answer" | "answers", id] | ["appview", "answer", id] => post_target(Kind::Answer, id),
            ["p", id] | ["appview", "p", id] => post_target(Kind::Article, id),
            ["pin", id] | ["appview", "pin", id] => post_target(Kind::Pin, id),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Verdicts: the `error` object only

/// Words that mean risk control or a login wall: never a verdict, and they win.
const WALL: &[&str] = &[
    "请求存在异常",
    "请求参数异常",
    "系统监测到您的网络环境存在异常",
    "请先登录",
    "需要登录",
    "验证码",
    "x-zse-96",
    "签名",
];
/// Codes of risk control and login walls.
const WALL_CODES: &[i64] = &[40362, 40352, 10001, 10002, 10003, 100, 401, 403];

/// Words of Zhihu's `error.message`, most specific first: what each one says.
const MARKERS: &[(&str, Outcome, Option<Cause>)] = &[
    (
        "根据相关法律法规和政策",
        Outcome::Deleted,
        Some(Cause::Platform),
    ),
    ("违反社区规范", Outcome::Deleted, Some(Cause::Platform)),
    ("违反知乎社区", Outcome::Deleted, Some(Cause::Platform)),
    ("已被管理员删除", Outcome::Deleted, Some(Cause::Platform)),
    ("已被作者删除", Outcome::Deleted, Some(Cause::Author)),
    ("作者已删除", Outcome::Deleted, Some(Cause::Author)),
    ("账号已被封禁", Outcome::AccountGone, Some(Cause::Platform)),
    ("账号已停用", Outcome::AccountGone, Some(Cause::Platform)),
    ("已被封禁", Outcome::AccountGone, Some(Cause::Platform)),
    ("审核中", Outcome::Restricted, None),
    ("回答已删除", Outcome::Deleted, Some(Cause::Unknown)),
    ("已被删除", Outcome::Deleted, Some(Cause::Unknown)),
    ("已删除", Outcome::Deleted, Some(Cause::Unknown)),
    ("内容不存在", Outcome::Deleted, Some(Cause::Unknown)),
];

/// The verdict on an answer's `error` object.
fn error_verdict(endpoint: &str, status: u16, err: &Value) -> Finding {
    let code = err.get("code").and_then(Value::as_i64);
    let message = str_of(err.get("message")).unwrap_or_default();
    let words = match code {
        Some(c) => format!("{endpoint}: HTTP {status}: error {c}: {message}"),
        None => format!("{endpoint}: HTTP {status}: error: {message}"),
    };
    if status >= 500 || status == 429 {
        return unreachable(words);
    }
    if code.is_some_and(|c| WALL_CODES.contains(&c)) || WALL.iter().any(|w| message.contains(w)) {
        return unreachable(format!(
            "{words} (risk control or login: nothing concluded)"
        ));
    }
    match MARKERS.iter().find(|(m, _, _)| message.contains(m)) {
        Some((_, outcome, cause)) => gone(*outcome, *cause, words),
        None => unreachable(words),
    }
}

/// An answer of Zhihu's JSON API: its root object when there is no `error`.
fn read_api(answer: &Fetched, endpoint: &str) -> Result<Value, Finding> {
    let (r, json) = json_answer(answer, endpoint)?;
    let Some(v) = json.filter(Value::is_object) else {
        // The 403 captcha page, the unhuman redirect, a proxy's page: never a verdict.
        let body = String::from_utf8_lossy(&r.body);
        let why = if r.status == 403 || body.contains("unhuman") || r.url.path().contains("unhuman")
        {
            "blocked by Zhihu's risk control (a captcha page)".to_string()
        } else {
            format!("not a Zhihu JSON answer ({})", r.mime())
        };
        return Err(unreachable(format!("{endpoint}: HTTP {}: {why}", r.status)));
    };
    if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        return Err(error_verdict(endpoint, r.status, err));
    }
    if r.status != 200 {
        return Err(unreachable(format!("{endpoint}: HTTP {}", r.status)));
    }
    Ok(v)
}

fn api_request(u: Url, purpose: &'static str) -> Request {
    Request::get(u, purpose)
        .header("Accept", "application/json, text/plain, */*")
        .header("Referer", REFERER)
}

// ---------------------------------------------------------------------------------------
// Answer, article, pin → Post

fn beijing(secs: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_second(secs).ok()?;
    let z = ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    Some(z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn member_author(a: Option<&Value>) -> Option<Author> {
    let a = a?;
    let id = str_of(a.get("id")).filter(|s| !s.is_empty() && s != "0");
    let token = str_of(a.get("url_token")).filter(|s| !s.is_empty());
    let name = str_of(a.get("name"));
    if id.is_none() && name.is_none() {
        return None;
    }
    Some(Author {
        url: token.as_ref().map(|t| format!("{WWW}/people/{t}")),
        handle: token,
        id,
        name,
    })
}

/// The pictures of a content's HTML, in order, without repeats.
fn content_images(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_fragment(html);
    let sel = scraper::Selector::parse("img").expect("a constant selector");
    let mut out: Vec<String> = Vec::new();
    for img in doc.select(&sel) {
        let e = img.value();
        let src = ["data-original", "data-actualsrc", "src"]
            .iter()
            .filter_map(|a| e.attr(a))
            .map(str::trim)
            .find(|s| s.starts_with("https://") || s.starts_with("http://") || s.starts_with("//"));
        if let Some(s) = src {
            let s = https(s);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

fn https(u: &str) -> String {
    match u.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None if u.starts_with("//") => format!("https:{u}"),
        None => u.to_string(),
    }
}

fn base() -> Url {
    Url::parse(WWW).expect("a constant URL")
}

/// Zhihu's lazy pictures keep the picture in `data-original`/`data-actualsrc` and an SVG
/// placeholder in `src`: the `src` of each such `<img>` is made the picture, on the raw
/// markup (attribute values stay as written, entities and all).
fn unlazy(html: &str) -> String {
    fn value(tag: &str, name: &str) -> Option<(usize, usize)> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = start + tag[start..].find('"')?;
        Some((start, end))
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<img") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('>').map_or(rest.len(), |e| i + e + 1);
        let tag = &rest[i..end];
        let real = ["data-original", "data-actualsrc"]
            .iter()
            .filter_map(|a| value(tag, a).map(|(s, e)| &tag[s..e]))
            .find(|v| v.starts_with("https://") || v.starts_with("http://") || v.starts_with("//"));
        match (value(tag, "src"), real) {
            (Some((s, e)), Some(real)) if tag[s..e].trim_start().starts_with("data:") => {
                out.push_str(&tag[..s]);
                out.push_str(&https(real));
                out.push_str(&tag[e..]);
            }
            _ => out.push_str(tag),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn set_content(post: &mut Post, html: &str) {
    let clean = sanitize_html(&unlazy(html), &base());
    post.text = Some(html_to_text(&clean));
    post.html = Some(clean);
    for u in content_images(html) {
        push_picture(post, u);
    }
}

fn push_picture(post: &mut Post, u: String) {
    if post.media.iter().any(|m| m.url == u) {
        return;
    }
    let mut m = Media::new(MediaKind::Image, u);
    m.referer = Some(REFERER.into());
    post.media.push(m);
}

fn set_time(post: &mut Post, d: &Json, created: &str, updated: &str) {
    if let Some(t) = d.at(created).and_then(Value::as_i64) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    if let Some(t) = d.at(updated).and_then(Value::as_i64)
        && Some(t.to_string()) != post.created_at_raw
    {
        post.extra.insert("updated_at".into(), json!(beijing(t)));
    }
}

/// Reads an API object of a kind.
fn parse_post(kind: Kind, id: &str, d: &Json) -> Result<Post, Finding> {
    let got = d.str("id").ok_or_else(|| d.broken("id"))?;
    if got != id {
        return Err(d.broken(format!("id {id}, not {got}")));
    }
    let mut post = Post::new(
        "zhihu",
        &format!("{}/{id}", kind.word()),
        &page_url(kind, id),
    );
    post.author = member_author(d.at("author"));
    let n = |k: &str| d.at(k).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    match kind {
        Kind::Answer => {
            let qid = d.str("question.id");
            if let Some(q) = &qid {
                post.alt_urls
                    .push(format!("{WWW}/question/{q}/answer/{id}"));
                post.extra.insert("question_id".into(), json!(q));
            }
            post.title = d.str("question.title");
            let content = d.str("content").ok_or_else(|| d.broken("content"))?;
            set_content(&mut post, &content);
            set_time(&mut post, d, "created_time", "updated_time");
            post.counts = Some(Counts {
                likes: n("voteup_count"),
                comments: n("comment_count"),
                ..Counts::default()
            });
        }
        Kind::Article => {
            post.alt_urls.push(format!("{WWW}/p/{id}"));
            post.title = d.str("title");
            let content = d.str("content").ok_or_else(|| d.broken("content"))?;
            set_content(&mut post, &content);
            set_time(&mut post, d, "created", "updated");
            if let Some(img) = d.str("image_url").filter(|s| s.starts_with("http")) {
                post.extra.insert("title_image".into(), json!(https(&img)));
            }
            post.counts = Some(Counts {
                likes: n("voteup_count"),
                comments: n("comment_count"),
                ..Counts::default()
            });
        }
        Kind::Pin => {
            let parts = d
                .at("content")
                .and_then(Value::as_array)
                .ok_or_else(|| d.broken("content"))?;
            let mut html = String::new();
            let mut pictures = Vec::new();
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(t) = str_of(p.get("content")) {
                            html.push_str(&format!("<p>{t}</p>"));
                        }
                    }
                    Some("image") => {
                        if let Some(u) = str_of(p.get("original_url"))
                            .or_else(|| str_of(p.get("url")))
                            .filter(|u| u.starts_with("http") || u.starts_with("//"))
                        {
                            pictures.push(https(&u));
                        }
                    }
                    Some("link") => {
                        if let Some(u) = str_of(p.get("url")) {
                            let title = str_of(p.get("title")).unwrap_or_else(|| u.clone());
                            html.push_str(&format!(
                                "<p><a href=\"{}\">{}</a></p>",
                                escape_html(&u),
                                escape_html(&title)
                            ));
                        }
                    }
                    _ => {}
                }
            }
            set_content(&mut post, &html);
            for u in pictures {
                push_picture(&mut post, u);
            }
            set_time(&mut post, d, "created", "updated");
            post.counts = Some(Counts {
                likes: n("like_count").or_else(|| n("reaction_count")),
                comments: n("comment_count"),
                reposts: n("repin_count"),
                ..Counts::default()
            });
        }
    }
    Ok(post)
}

// ---------------------------------------------------------------------------------------
// Post plan

fn api_step(kind: Kind, id: &str, job: Job) -> Step {
    let mut u = format!("{WWW}/{}/{id}", kind.endpoint());
    if kind == Kind::Answer {
        u.push_str(&format!("?include={ANSWER_INCLUDE}"));
    }
    let u = match url(&u, kind.endpoint()) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    Step::fetch(
        api_request(u, kind.endpoint()),
        ApiPlan {
            kind,
            id: id.to_string(),
            job,
        },
    )
}

struct ApiPlan {
    kind: Kind,
    id: String,
    job: Job,
}

impl Plan for ApiPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let endpoint = self.kind.endpoint();
        let v = match read_api(&answer, endpoint) {
            Ok(v) => v,
            Err(f) => {
                // The API wants the signature: the page's embedded state may still hold
                // the post (never a verdict: a page without it concludes nothing).
                if signature_wall(&answer)
                    && matches!(self.kind, Kind::Answer | Kind::Article)
                    && let Finding::Gone(g) = &f
                    && let Ok(u) = Url::parse(&page_url(self.kind, &self.id))
                {
                    return Step::fetch(
                        Request::get(u, "zhihu page (js-initialData)")
                            .header("Referer", REFERER)
                            .page(),
                        StatePlan {
                            kind: self.kind,
                            id: self.id,
                            api_words: g.message.clone().unwrap_or_default(),
                        },
                    );
                }
                return Step::Done(f);
            }
        };
        let post = match parse_post(self.kind, &self.id, &Json::new(endpoint, &v)) {
            Ok(p) => p,
            Err(f) => return Step::Done(f),
        };
        super::kit::post_then_page(post, self.job, "zhihu page", REFERER)
    }
}

/// Codes and words of the check that wants `x-zse-96` and its headers.
const SIGNATURE_CODES: &[i64] = &[10001, 10002, 10003];

/// Whether a JSON answer's `error` is the signature check (`10001`–`10003`,
/// 请求参数异常，请升级客户端后重试).
fn signature_wall(answer: &Fetched) -> bool {
    let Fetched::Response(r) = answer else {
        return false;
    };
    let Ok(v) = serde_json::from_slice::<Value>(&r.body) else {
        return false;
    };
    let Some(err) = v.get("error").filter(|e| e.is_object()) else {
        return false;
    };
    err.get("code")
        .and_then(Value::as_i64)
        .is_some_and(|c| SIGNATURE_CODES.contains(&c))
        || str_of(err.get("message")).is_some_and(|m| m.contains("请求参数异常"))
}

/// The JSON of the page's `<script id="js-initialData" type="text/json">`.
fn initial_data(body: &[u8]) -> Option<Value> {
    let page = String::from_utf8_lossy(body);
    let at = page.find("id=\"js-initialData\"")?;
    let open = at + page[at..].find('>')? + 1;
    let close = open + page[open..].find("</script>")?;
    serde_json::from_str(page[open..close].trim()).ok()
}

/// `voteupCount` → `voteup_count`, for every key of an object and the objects in it.
fn snake_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let mut out = String::with_capacity(k.len() + 4);
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            out.push('_');
                            out.push(c.to_ascii_lowercase());
                        } else {
                            out.push(c);
                        }
                    }
                    (out, snake_keys(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(snake_keys).collect()),
        other => other.clone(),
    }
}

/// Reads the post from the page's embedded state after the API asked for the
/// signature. Nothing on the page is a verdict: no entity there is unreachable.
struct StatePlan {
    kind: Kind,
    id: String,
    api_words: String,
}

impl Plan for StatePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        const ENDPOINT: &str = "js-initialData";
        let collection = match self.kind {
            Kind::Answer => "answers",
            Kind::Article => "articles",
            Kind::Pin => "pins",
        };
        let entity = match &answer {
            Fetched::Response(r) if r.status == 200 => initial_data(&r.body).and_then(|v| {
                v.pointer(&format!("/initialState/entities/{collection}/{}", self.id))
                    .filter(|e| e.is_object())
                    .map(snake_keys)
            }),
            _ => None,
        };
        let Some(entity) = entity else {
            return Step::Done(unreachable(format!(
                "{}; the page's js-initialData holds no {} {} (nothing concluded)",
                self.api_words,
                self.kind.word(),
                self.id
            )));
        };
        match parse_post(self.kind, &self.id, &Json::new(ENDPOINT, &entity)) {
            Ok(mut post) => {
                post.extra
                    .insert("read_from".into(), json!("the page's js-initialData"));
                Step::Done(Finding::Post(Box::new(post)))
            }
            Err(f) => Step::Done(f),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Comments

const COMMENTS_PER_PAGE: u32 = 20;
/// Zhihu's `order_by=score`, in the contract's terms.
const ORDER: &str = "hot";
const CLOSED: &[&str] = &["评论已关闭", "关闭了评论", "评论区已关闭"];

fn comments_endpoint(kind: Kind) -> &'static str {
    match kind {
        Kind::Answer => "api/v4/comment_v5/answers",
        Kind::Article => "api/v4/comment_v5/articles",
        Kind::Pin => "api/v4/comment_v5/pins",
    }
}

fn comments_step(kind: Kind, id: &str, cursor: Option<&str>) -> Step {
    let endpoint = comments_endpoint(kind);
    let mut u = match url(
        &format!("{WWW}/{endpoint}/{id}/root_comment?order_by=score&limit={COMMENTS_PER_PAGE}"),
        endpoint,
    ) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    if let Some(c) = cursor {
        match c.strip_prefix("offset:").filter(|o| {
            !o.is_empty()
                && o.len() <= 200
                && o.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-=.".contains(&b))
        }) {
            Some(o) => {
                u.query_pairs_mut().append_pair("offset", o);
            }
            None => {
                return Step::Done(broken(
                    "comments cursor",
                    format!("a cursor offset:<offset>, not {c:?}"),
                ));
            }
        }
    }
    let req = api_request(u, endpoint);
    Step::fetch(
        req,
        CommentsPlan {
            kind,
            id: id.to_string(),
        },
    )
}

/// The words of an `error` that says the comments are closed: read only from a JSON
/// answer's `error.message`, never when it is also risk control or a login wall.
fn closed_words(answer: &Fetched) -> Option<String> {
    let Fetched::Response(r) = answer else {
        return None;
    };
    if r.status >= 500 || r.status == 429 {
        return None;
    }
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    let err = v.get("error").filter(|e| e.is_object())?;
    let code = err.get("code").and_then(Value::as_i64);
    let message = str_of(err.get("message"))?;
    let wall =
        code.is_some_and(|c| WALL_CODES.contains(&c)) || WALL.iter().any(|w| message.contains(w));
    (!wall && CLOSED.iter().any(|c| message.contains(c))).then_some(message)
}

struct CommentsPlan {
    kind: Kind,
    id: String,
}

impl Plan for CommentsPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        let endpoint = comments_endpoint(self.kind);
        let v = match read_api(&answer, endpoint) {
            Ok(v) => v,
            Err(f) => {
                if let Some(words) = closed_words(&answer) {
                    return Step::Done(Finding::Comments(CommentPage {
                        closed: Some(format!("{endpoint}: {words}")),
                        ..CommentPage::default()
                    }));
                }
                // An error of the comments says nothing about the post itself.
                return Step::Done(match f {
                    Finding::Gone(g) => unreachable(format!(
                        "{endpoint}: the comments cannot be read: {}",
                        g.message.unwrap_or_default()
                    )),
                    other => other,
                });
            }
        };
        let root = Json::new(endpoint, &v);
        let Some(data) = root.at("data").and_then(Value::as_array) else {
            return Step::Done(root.broken("data"));
        };
        let thread_of = PostId::new("zhihu", &format!("{}/{}", self.kind.word(), self.id));
        let post_url = page_url(self.kind, &self.id);
        let mut page = CommentPage::default();
        for (i, c) in data.iter().enumerate() {
            let Some(p) = comment(&post_url, &thread_of, c, None) else {
                return Step::Done(root.broken(format!("data.{i}.id")));
            };
            let root_id = p.id.clone();
            page.comments.push(p);
            for (j, sub) in c
                .get("child_comments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                match comment(&post_url, &thread_of, sub, Some(&root_id)) {
                    Some(p) => page.comments.push(p),
                    None => {
                        return Step::Done(root.broken(format!("data.{i}.child_comments.{j}.id")));
                    }
                }
            }
        }
        let is_end = root
            .at("paging.is_end")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !is_end
            && !data.is_empty()
            && let Some(next) = root.str("paging.next")
            && let Ok(n) = Url::parse(&next)
            && let Some((_, o)) = n.query_pairs().find(|(k, _)| k == "offset")
            && !o.is_empty()
        {
            page.more.push(format!("offset:{o}"));
        }
        Step::Done(Finding::Comments(page))
    }
}

/// One comment (`root` None) or an inline reply under `root`.
fn comment(post_url: &str, thread_of: &PostId, c: &Value, root: Option<&PostId>) -> Option<Post> {
    let id = str_of(c.get("id")).filter(|s| is_id(s))?;
    let mut post = Post::new(
        "zhihu",
        &format!("comment/{id}"),
        &format!("{post_url}#comment-{id}"),
    );
    post.author = member_author(c.get("author").map(|a| a.get("member").unwrap_or(a)));
    if let Some(html) = str_of(c.get("content")) {
        let clean = sanitize_html(&html, &base());
        post.text = Some(html_to_text(&clean));
        post.html = Some(clean);
    }
    if let Some(t) = c.get("created_time").and_then(Value::as_i64) {
        post.created_at = beijing(t);
        post.created_at_raw = Some(t.to_string());
    }
    let n = |k: &str| c.get(k).and_then(Value::as_i64).map(|v| v.max(0) as u64);
    post.counts = Some(Counts {
        likes: n("like_count").or_else(|| n("vote_count")),
        comments: n("child_comment_count"),
        ..Counts::default()
    });
    let reply_to = root.map(|r| {
        str_of(c.get("reply_comment_id"))
            .filter(|s| is_id(s) && s != "0")
            .map(|p| PostId::new("zhihu", &format!("comment/{p}")))
            .unwrap_or_else(|| r.clone())
    });
    post.thread = Some(Thread::answering(thread_of, reply_to, ORDER));
    Some(post)
}

// ---------------------------------------------------------------------------------------

impl Platform for Zhihu {
    fn name(&self) -> &'static str {
        "zhihu"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &[
            "www.zhihu.com",
            "zhihu.com",
            "m.zhihu.com",
            "zhuanlan.zhihu.com",
        ]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, job: Job, _ctx: &PlanContext) -> Step {
        match target {
            Target::Post { platform_id, .. } => match parse_platform_id(platform_id) {
                Some((kind, id)) => api_step(kind, id, job),
                None => Step::Done(broken(
                    "zhihu",
                    format!("answer/<id>, article/<id> or pin/<id>, not {platform_id:?}"),
                )),
            },
            Target::Account { account_id, .. } => Step::Done(broken(
                "zhihu",
                format!("a post, not the account {account_id:?} (accounts cannot be watched)"),
            )),
            Target::Follow { url } => Step::Done(broken(
                "zhihu",
                format!("a post, not a link to follow ({url})"),
            )),
        }
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
        let (kind, id) = parse_platform_id(platform_id)?;
        Some(comments_step(kind, id, cursor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Response;

    fn target(u: &str) -> Option<Target> {
        recognise_url(&Url::parse(u).unwrap())
    }

    #[test]
    fn every_url_form_names_one_post() {
        let answer = Some(Target::Post {
            platform_id: "answer/300534572".into(),
            url: "https://www.zhihu.com/answer/300534572".into(),
        });
        for u in [
            "https://www.zhihu.com/question/26910629/answer/300534572",
            "https://www.zhihu.com/question/26910629/answer/300534572/?utm_psn=17&utm_source=wechat",
            "https://zhihu.com/question/26910629/answer/300534572",
            "https://m.zhihu.com/question/26910629/answer/300534572",
            "http://www.zhihu.com/answer/300534572",
            "https://www.zhihu.com/appview/answer/300534572",
        ] {
            assert_eq!(target(u), answer, "{u}");
        }
        let article = Some(Target::Post {
            platform_id: "article/19550225".into(),
            url: "https://zhuanlan.zhihu.com/p/19550225".into(),
        });
        for u in [
            "https://zhuanlan.zhihu.com/p/19550225",
            "https://zhuanlan.zhihu.com/p/19550225?share_code=abc&utm_psn=1",
            "https://www.zhihu.com/p/19550225",
            "https://www.zhihu.com/appview/p/19550225",
        ] {
            assert_eq!(target(u), article, "{u}");
        }
        assert_eq!(
            target("https://www.zhihu.com/pin/1234567890123456789?utm_id=0"),
            Some(Target::Post {
                platform_id: "pin/1234567890123456789".into(),
                url: "https://www.zhihu.com/pin/1234567890123456789".into(),
            })
        );
        for u in [
            "https://www.zhihu.com/question/26910629",
            "https://www.zhihu.com/people/404-Page-Not-found",
            "https://www.zhihu.com/question/x/answer/300534572",
            "https://www.zhihu.com/answer/30053457a",
            "https://zhuanlan.zhihu.com/c_123456",
            "https://link.zhihu.com/?target=https%3A//example.com",
            "https://example.com/answer/300534572",
            "https://www.zhihu.com/pin/",
        ] {
            assert_eq!(target(u), None, "{u}");
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
        url: &str,
        body_for: impl Fn(&Request) -> (u16, &'static str, String),
    ) -> (Finding, Vec<Request>) {
        let t = target(url).unwrap();
        let first = Zhihu.post_plan(&t, Job::Capture, &PlanContext::default());
        crate::platforms::testing::run(first, |r| {
            let (status, mime, body) = body_for(r);
            answer(r, status, mime, &body)
        })
    }

    /// Every marker, in a page's script (its `js-initialData` state too), style,
    /// attribute and title, and inside a live answer's own content, title and author,
    /// says nothing; the same words in the API's `error.message` are read.
    #[test]
    fn deletion_words_in_a_live_answer_or_in_page_scripts_never_make_it_gone() {
        let all: Vec<&str> = MARKERS.iter().map(|(m, _, _)| *m).collect();
        let all = all.join(" ");
        let page = format!(
            "<!doctype html><html><head><title>{all} - 知乎</title><style>.x::after{{content:\"{all}\"}}</style>\
             <script id=\"js-initialData\" type=\"text/json\">{{\"initialState\":{{\"error\":{{\"code\":4041,\"message\":\"该回答已被删除\"}}}},\"m\":\"{all} 40362\"}}</script></head>\
             <body data-msg=\"{all}\"><div class=\"ErrorPage-text\" hidden>{all}</div></body></html>"
        );
        let live = json!({
            "id": 300534572, "type": "answer",
            "question": {"id": 26910629, "title": format!("{all}？")},
            "author": {"id": "x1", "url_token": "t", "name": "该账号已被封禁"},
            "content": format!("<p>{all}</p><script>{{\"error\":{{\"message\":\"已删除\"}}}}</script>"),
            "excerpt": all, "created_time": 1516519758, "voteup_count": 1, "comment_count": 0
        })
        .to_string();
        let (f, asked) = capture("https://www.zhihu.com/answer/300534572", |r| {
            if r.url.path().starts_with("/api/") {
                (200, "application/json", live.clone())
            } else {
                (200, "text/html", page.clone())
            }
        });
        assert_eq!(asked.len(), 2);
        assert!(asked[1].is_page, "{:?}", asked[1]);
        match f {
            Finding::Post(p) => {
                assert_eq!(p.id.0, "zhihu:answer/300534572");
                assert!(
                    p.text
                        .unwrap_or_default()
                        .contains("根据相关法律法规和政策")
                );
            }
            other => panic!("a live answer read as {other:?}"),
        }
        // The page with every marker answered at the API itself: not JSON, not a verdict.
        let (f, asked) = capture("https://www.zhihu.com/answer/300534572", |_| {
            (200, "text/html", page.clone())
        });
        assert_eq!(asked.len(), 1);
        assert!(
            matches!(&f, Finding::Gone(g) if g.outcome == Outcome::Unreachable),
            "{f:?}"
        );
        // A JSON answer that carries the words anywhere but `error` is no verdict either.
        let stray = json!({"id": 300534572, "message": "该回答已被删除", "data": {"error": {"message": "已删除"}},
                           "content": "<p>x</p>", "question": {"id": 1, "title": "t"}})
        .to_string();
        let (f, _) = capture("https://www.zhihu.com/answer/300534572", |r| {
            if r.url.path().starts_with("/api/") {
                (200, "application/json", stray.clone())
            } else {
                (200, "text/html", page.clone())
            }
        });
        assert!(matches!(f, Finding::Post(_)), "{f:?}");
        // The words where Zhihu speaks: `error.message`.
        for (status, body, outcome, cause) in [
            (
                404,
                r#"{"error":{"code":4041,"message":"该回答已被删除"}}"#,
                Outcome::Deleted,
                Some(Cause::Unknown),
            ),
            (
                404,
                r#"{"error":{"code":4041,"message":"该内容已被作者删除"}}"#,
                Outcome::Deleted,
                Some(Cause::Author),
            ),
            (
                403,
                r#"{"error":{"message":"根据相关法律法规和政策，该内容暂不予显示"}}"#,
                Outcome::Deleted,
                Some(Cause::Platform),
            ),
            (
                403,
                r#"{"error":{"message":"因违反社区规范，该回答已被删除"}}"#,
                Outcome::Deleted,
                Some(Cause::Platform),
            ),
            (
                403,
                r#"{"error":{"message":"内容审核中"}}"#,
                Outcome::Restricted,
                None,
            ),
            (
                403,
                r#"{"error":{"message":"该账号已被封禁"}}"#,
                Outcome::AccountGone,
                Some(Cause::Platform),
            ),
            (
                403,
                r#"{"error":{"code":40362,"message":"该回答已被删除"}}"#,
                Outcome::Unreachable,
                None,
            ),
            (
                403,
                r#"{"error":{"code":4041,"message":"请求存在异常，已删除"}}"#,
                Outcome::Unreachable,
                None,
            ),
            (
                400,
                r#"{"error":{"code":4000,"message":"参数错误"}}"#,
                Outcome::Unreachable,
                None,
            ),
            (
                503,
                r#"{"error":{"code":4041,"message":"该回答已被删除"}}"#,
                Outcome::Unreachable,
                None,
            ),
            (
                404,
                r#"{"error":"该回答已被删除"}"#,
                Outcome::Unreachable,
                None,
            ),
        ] {
            let (f, asked) = capture("https://www.zhihu.com/answer/300534572", |_| {
                (status, "application/json", body.to_string())
            });
            assert_eq!(asked.len(), 1, "{body}");
            match f {
                Finding::Gone(g) => {
                    assert_eq!(g.outcome, outcome, "{body}");
                    if outcome != Outcome::Unreachable {
                        assert_eq!(g.cause, cause, "{body}");
                    }
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_check_asks_only_the_api_with_the_referer() {
        for (u, want) in [
            (
                "https://www.zhihu.com/question/1/answer/300534572",
                "https://www.zhihu.com/api/v4/answers/300534572?include=content,voteup_count,comment_count,created_time,updated_time,author",
            ),
            (
                "https://zhuanlan.zhihu.com/p/19550225",
                "https://www.zhihu.com/api/v4/articles/19550225",
            ),
            (
                "https://www.zhihu.com/pin/42",
                "https://www.zhihu.com/api/v4/pins/42",
            ),
        ] {
            let t = target(u).unwrap();
            let Step::Fetch(req, _) = Zhihu.post_plan(&t, Job::Check, &PlanContext::default())
            else {
                panic!("{u}")
            };
            assert_eq!(req.url.as_str(), want);
            assert!(!req.is_page);
            assert!(
                req.headers
                    .iter()
                    .any(|(n, v)| n == "Referer" && v == "https://www.zhihu.com/")
            );
            assert!(
                !req.headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case("x-zse-96"))
            );
        }
    }

    #[test]
    fn lazy_pictures_are_read_from_data_original_and_placeholders_skipped() {
        let html = r#"<p>a</p><noscript><img src="https://pic1.zhimg.com/a_b.jpg" data-original="https://pic1.zhimg.com/a_r.jpg"></noscript>
            <img src="data:image/svg+xml;utf8,&lt;svg&gt;" data-original="https://pic1.zhimg.com/a_r.jpg" data-actualsrc="https://pic1.zhimg.com/a_b.jpg">
            <img src="data:image/svg+xml;utf8,x" data-actualsrc="//pic2.zhimg.com/b_b.jpg"><img src="http://pic3.zhimg.com/c.jpg">"#;
        assert_eq!(
            content_images(html),
            vec![
                "https://pic1.zhimg.com/a_r.jpg",
                "https://pic2.zhimg.com/b_b.jpg",
                "https://pic3.zhimg.com/c.jpg"
            ]
        );
    }

    #[test]
    fn the_kept_html_shows_the_real_pictures_not_the_placeholders() {
        let fx: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/zhihu/zhihuhelp_answer_300534572.json"
        ))
        .unwrap();
        let mut post = Post::new(
            "zhihu",
            "answer/300534572",
            "https://www.zhihu.com/answer/300534572",
        );
        set_content(&mut post, fx["content"].as_str().unwrap());
        let html = post.html.unwrap();
        assert!(!html.contains("data:image/svg"), "{html}");
        assert!(
            html.contains("https://pic4.zhimg.com/v2-670015323306fcdcfbd413809f76cb96_r.jpg"),
            "{html}"
        );
        assert_eq!(post.media.len(), 2);
    }

    #[test]
    fn closed_words_under_risk_control_are_not_a_closed_conversation() {
        let t = target("https://www.zhihu.com/answer/300534572").unwrap();
        let ctx = PlanContext::default();
        for (body, closed) in [
            (r#"{"error":{"code":4033,"message":"评论已关闭"}}"#, true),
            (r#"{"error":{"code":40362,"message":"评论已关闭"}}"#, false),
            (
                r#"{"error":{"code":4033,"message":"请求存在异常，评论已关闭"}}"#,
                false,
            ),
            (
                r#"{"data":[],"message":"评论已关闭","paging":{"is_end":true}}"#,
                false,
            ),
        ] {
            let first = Zhihu.comments_plan(&t, None, &ctx).unwrap();
            let (f, _) =
                crate::platforms::testing::run(first, |r| answer(r, 403, "application/json", body));
            match f {
                Finding::Comments(c) if closed => {
                    assert!(c.closed.unwrap().contains("评论已关闭"), "{body}")
                }
                Finding::Comments(c) => assert!(c.closed.is_none(), "{body}"),
                Finding::Gone(g) => {
                    assert!(!closed, "{body}");
                    assert_eq!(g.outcome, Outcome::Unreachable, "{body}");
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn comment_cursors_are_offsets() {
        let t = target("https://www.zhihu.com/pin/42").unwrap();
        let ctx = PlanContext::default();
        let Some(Step::Fetch(req, _)) = Zhihu.comments_plan(&t, Some("offset:123_456_0"), &ctx)
        else {
            panic!()
        };
        assert_eq!(
            req.url.as_str(),
            "https://www.zhihu.com/api/v4/comment_v5/pins/42/root_comment?order_by=score&limit=20&offset=123_456_0"
        );
        for bad in ["123", "offset:", "offset:a&b=c", "pn:2"] {
            assert!(
                matches!(
                    Zhihu.comments_plan(&t, Some(bad), &ctx),
                    Some(Step::Done(Finding::Broken { .. }))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn times_are_written_in_beijing_time() {
        assert_eq!(
            beijing(1516519758).as_deref(),
            Some("2018-01-21T15:29:18+08:00")
        );
    }
}
