//! Douban (豆瓣) statuses (广播), group topics and notes, from the server-rendered page a
//! person sees, without login and without any signature.
//!
//! # URL forms
//!
//! | form | target |
//! | --- | --- |
//! | `https://www.douban.com/people/<uid>/status/<id>/`, `https://www.douban.com/status/<id>[/]` | post `douban:status/<id>` |
//! | `https://m.douban.com/…/status/<id>[/]` (any path ending in `status/<id>`) | the same post |
//! | `https://{www.,m.}douban.com/group/topic/<id>/` | post `douban:topic/<id>` |
//! | `https://{www.,m.}douban.com/note/<id>/` | post `douban:note/<id>` |
//!
//! Ids are digits only; queries (`?_i=…`, `?dt_dapp=1`) are dropped. The canonical URLs
//! are `https://www.douban.com/status/<id>/`, `…/group/topic/<id>/` and `…/note/<id>/`.
//! People (`/people/<uid>/`), groups and `movie.`/`book.` subjects are not recognised
//! (the `web` reader keeps them as pages).
//!
//! # Endpoint
//!
//! One request, capture and check alike: `GET` the canonical page, as a page, with
//! `Referer: https://www.douban.com/`. The mobile JSON (`m.douban.com/rexxar/api/v2/…`)
//! is **not** asked: no recorded answer of it without login was found (see
//! `tests/fixtures/douban/SOURCES.md`).
//!
//! The post is read from the page's main content block only:
//!
//! - a status: `div.status-item[data-sid=<id>]`: text `.status-saying blockquote`,
//!   author `a.lnk-people` (name, `/people/<uid>/` link), time `span.created_at[title]`
//!   (`YYYY-MM-DD HH:MM:SS`, Beijing time), counts from the `赞(n)`, `转发(n)`,
//!   `回应(n)` buttons (`a.btn-like`, `a.btn-reshare`, `a.btn-action-reply`), pictures
//!   the `<img>` of `.attachments-saying`;
//! - a group topic: `div.topic-doc` with the title `#content h1`, author
//!   `span.from a`, time `span.create-time`, text and pictures `div.topic-content`,
//!   comments counted from `ul#comments > li.comment-item` (count only), the group
//!   `div.group-item .title a` in `extra.group`;
//! - a note: `div.note-container` with the title `.note-header h1`, author
//!   `a.note-author`, time `span.pub-date`, text and pictures `div#link-report`.
//!
//! Pictures are fetched with `Referer: https://www.douban.com/` (doubanio.com checks
//! hotlinking). A post whose block is there is live, whatever its text, its title or
//! the page's scripts say.
//!
//! # Verdicts
//!
//! | answer | outcome |
//! | --- | --- |
//! | the content block, HTTP 200 | the post |
//! | no answer, HTTP 403, 418, 429, 5xx | unreachable |
//! | a last hop on `sec.douban.com` or `accounts.douban.com` (captcha, 登录跳转) | unreachable |
//! | anywhere in the page: `sec.douban.com`, 异常请求, 登录跳转, 请登录后 | unreachable (risk control, login wall) |
//! | message area: 该话题已被作者删除 / 作者已删除 / 已被作者删除 | deleted by the author |
//! | message area: 该广播已被删除 | deleted, cause unknown (it does not say by whom) |
//! | message area: 该内容已被删除 / 根据相关法律法规和政策 / 违反社区规范 / 已被管理员删除 / 已被豆瓣删除 | deleted by the platform |
//! | message area: 仅好友可见 / 仅自己可见 / 仅作者可见 | restricted |
//! | message area: 该用户已被封禁 / 帐号已被封禁 / 账号已被封禁 | account gone, by the platform |
//! | message area: 已注销 | account gone, by the author |
//! | anything else (a 404 without these words, a page in no known shape) | unreachable |
//!
//! The message area is the page's `<title>`, `#content h1`, `div.mn` and `p.msg`, read
//! only when the content block is absent, never the whole page: a live page's scripts
//! and its text may carry any of these words. Wall words win over deletion words.
//!
//! # Comments
//!
//! A group topic's comments (回应) are read from its pages ([`Platform::comments_plan`]):
//! `GET https://www.douban.com/group/topic/<id>/` and then `?start=100`, `?start=200`…
//! (cursors `start:<n>`, while the page's `div.paginator span.next` holds a link),
//! oldest first. Each `ul#comments > li.comment-item` is a comment `douban:comment/<cid>`
//! (its `data-cid` or `id`): author `h4 a`, time `span.pubtime`, text and pictures
//! `p.reply-content`; one that quotes another (`.reply-quote-content[data-ref-cid]`) is a
//! reply to it. A page that does not show the topic (deleted, walled, risk control, a
//! failed fetch) is unreachable for the comments: the post's own check decides about the
//! topic. The first page is asked again for the comments (the capture already kept it).
//! Not read: statuses' and notes' comments (loaded by scripts, not in the page).
//!
//! # Without login
//!
//! Statuses, group topics and notes that are public are read. An account's statuses
//! have no public listing without login (`/people/<uid>/statuses` is walled), so
//! accounts are not recognised and cannot be watched. Posts visible to friends or the
//! author only, private groups and anything behind the sec.douban.com check are
//! unreachable (or restricted where the page says so); cookies in
//! `[platforms.douban]` are sent by the fetcher but this reader asks nothing more with
//! them.

use super::kit::{broken, gone, unreachable};
use super::{
    CommentPage, Fetched, Finding, Job, Plan, PlanContext, Platform, Request, Step, Target,
};
use crate::extract::{html_to_text, sanitize_html};
use crate::model::{Author, Cause, Counts, Media, MediaKind, Outcome, Post, PostId, Thread};
use scraper::{ElementRef, Html, Selector};
use serde_json::json;
use url::Url;

pub struct Douban;

const WWW: &str = "https://www.douban.com";
const REFERER: &str = "https://www.douban.com/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status,
    Topic,
    Note,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Status => "status",
            Kind::Topic => "topic",
            Kind::Note => "note",
        }
    }
    fn page(self, id: &str) -> String {
        match self {
            Kind::Status => format!("{WWW}/status/{id}/"),
            Kind::Topic => format!("{WWW}/group/topic/{id}/"),
            Kind::Note => format!("{WWW}/note/{id}/"),
        }
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
}

fn target(kind: Kind, id: &str) -> Option<Target> {
    is_id(id).then(|| Target::Post {
        platform_id: format!("{}/{id}", kind.as_str()),
        url: kind.page(id),
    })
}

fn parse_platform_id(pid: &str) -> Option<(Kind, &str)> {
    let (k, id) = pid.split_once('/')?;
    let kind = match k {
        "status" => Kind::Status,
        "topic" => Kind::Topic,
        "note" => Kind::Note,
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
        "www.douban.com" | "douban.com" => match segs.as_slice() {
            ["people", _, "status", id] | ["status", id] => target(Kind::Status, id),
            ["group", "topic", id] => target(Kind::Topic, id),
            ["note", id] => target(Kind::Note, id),
            _ => None,
        },
        "m.douban.com" => match segs.as_slice() {
            ["group", "topic", id] => target(Kind::Topic, id),
            ["note", id] => target(Kind::Note, id),
            [.., "status", id] => target(Kind::Status, id),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Verdicts

/// Risk control and login walls: looked for anywhere, they only ever mean unreachable.
const WALL: &[&str] = &["sec.douban.com", "异常请求", "登录跳转", "请登录后"];

/// The words of the message area, most specific first.
const MARKERS: &[(&str, Outcome, Option<Cause>)] = &[
    (
        "根据相关法律法规和政策",
        Outcome::Deleted,
        Some(Cause::Platform),
    ),
    ("违反社区规范", Outcome::Deleted, Some(Cause::Platform)),
    ("已被管理员删除", Outcome::Deleted, Some(Cause::Platform)),
    ("已被豆瓣删除", Outcome::Deleted, Some(Cause::Platform)),
    ("该内容已被删除", Outcome::Deleted, Some(Cause::Platform)),
    (
        "该用户已被封禁",
        Outcome::AccountGone,
        Some(Cause::Platform),
    ),
    ("帐号已被封禁", Outcome::AccountGone, Some(Cause::Platform)),
    ("账号已被封禁", Outcome::AccountGone, Some(Cause::Platform)),
    ("已注销", Outcome::AccountGone, Some(Cause::Author)),
    ("仅好友可见", Outcome::Restricted, None),
    ("仅自己可见", Outcome::Restricted, None),
    ("仅作者可见", Outcome::Restricted, None),
    // 该广播已被删除 does not say by whom: the author or Douban.
    ("该广播已被删除", Outcome::Deleted, Some(Cause::Unknown)),
    ("该话题已被作者删除", Outcome::Deleted, Some(Cause::Author)),
    ("已被作者删除", Outcome::Deleted, Some(Cause::Author)),
    ("作者已删除", Outcome::Deleted, Some(Cause::Author)),
];

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a constant selector")
}

fn text_of(e: ElementRef) -> String {
    e.text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page's message area: title, `#content h1`, `div.mn`, `p.msg`.
fn message_area(doc: &Html) -> Vec<String> {
    doc.select(&sel("title, #content h1, div.mn, p.msg"))
        .map(text_of)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The verdict of a page without its content block.
fn verdict(doc: &Html, raw: &str, status: u16) -> Finding {
    if let Some(w) = WALL.iter().find(|w| raw.contains(**w)) {
        return unreachable(format!(
            "douban: risk control or login wall ({w}), HTTP {status}"
        ));
    }
    for line in message_area(doc) {
        if let Some((_, outcome, cause)) = MARKERS.iter().find(|(m, ..)| line.contains(m)) {
            return gone(*outcome, *cause, line);
        }
    }
    unreachable(format!(
        "douban: HTTP {status}, no post and no words of the platform"
    ))
}

fn read_page(kind: Kind, id: &str, answer: &Fetched) -> Finding {
    let r = match answer {
        Fetched::Failed(e) => return unreachable(format!("douban page: {e}")),
        Fetched::Response(r) => r,
    };
    if matches!(
        r.url.host_str(),
        Some("sec.douban.com" | "accounts.douban.com")
    ) {
        return unreachable(format!(
            "douban: redirected to {} (risk control or login)",
            r.url
        ));
    }
    if matches!(r.status, 403 | 418 | 429) || r.status >= 500 {
        return unreachable(format!("douban page: HTTP {}", r.status));
    }
    let raw = String::from_utf8_lossy(&r.body);
    let doc = Html::parse_document(&raw);
    let post = if r.status == 200 {
        match kind {
            Kind::Status => read_status(&doc, id),
            Kind::Topic => read_topic(&doc, id),
            Kind::Note => read_note(&doc, id),
        }
    } else {
        None
    };
    match post {
        Some(p) => Finding::Post(Box::new(p)),
        None => verdict(&doc, &raw, r.status),
    }
}

// ---------------------------------------------------------------------------------------
// A group topic's comments (回应)

/// Comments per page of a topic (Douban's `?start=` steps).
const COMMENTS_PER_PAGE: u64 = 100;
/// Douban lists a topic's comments oldest first.
const ORDER: &str = "oldest";

fn comments_step(id: &str, cursor: Option<&str>) -> Step {
    let start = match cursor {
        None => 0,
        Some(c) => match c
            .strip_prefix("start:")
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| n % COMMENTS_PER_PAGE == 0 && *n <= 10_000_000)
        {
            Some(n) => n,
            None => {
                return Step::Done(broken(
                    "topic comments cursor",
                    format!("a cursor start:<multiple of {COMMENTS_PER_PAGE}>, not {c:?}"),
                ));
            }
        },
    };
    let page = Kind::Topic.page(id);
    let u = if start == 0 {
        page
    } else {
        format!("{page}?start={start}")
    };
    let u = match Url::parse(&u) {
        Ok(u) => u,
        Err(e) => return Step::Done(broken("topic comments", format!("a URL ({e})"))),
    };
    Step::fetch(
        Request::get(u, "topic comments")
            .header("Referer", REFERER)
            .page(),
        TopicCommentsPlan {
            id: id.to_string(),
            start,
        },
    )
}

struct TopicCommentsPlan {
    id: String,
    start: u64,
}

impl Plan for TopicCommentsPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        // The comments are read from the topic's own page: only a page that still shows
        // the topic is read; anything else says nothing here, whatever its words (the
        // post's check decides about the topic).
        let doc = match &answer {
            Fetched::Response(r)
                if r.status == 200
                    && !matches!(
                        r.url.host_str(),
                        Some("sec.douban.com" | "accounts.douban.com")
                    ) =>
            {
                Html::parse_document(&String::from_utf8_lossy(&r.body))
            }
            Fetched::Response(r) => {
                return Step::Done(unreachable(format!(
                    "topic comments: HTTP {} from {}",
                    r.status, r.url
                )));
            }
            Fetched::Failed(e) => return Step::Done(unreachable(format!("topic comments: {e}"))),
        };
        if doc.select(&sel("div.topic-doc")).next().is_none() {
            return Step::Done(unreachable(
                "topic comments: the page does not show the topic",
            ));
        }
        let thread_of = PostId::new("douban", &format!("topic/{}", self.id));
        let mut page = CommentPage::default();
        for li in doc.select(&sel("ul#comments > li.comment-item")) {
            match topic_comment(&self.id, self.start, &thread_of, li) {
                Some(c) => page.comments.push(c),
                None => {
                    return Step::Done(broken(
                        "topic comments",
                        "li.comment-item with a numeric id",
                    ));
                }
            }
        }
        if !page.comments.is_empty()
            && doc
                .select(&sel("div.paginator span.next a"))
                .next()
                .is_some()
        {
            page.more
                .push(format!("start:{}", self.start + COMMENTS_PER_PAGE));
        }
        Step::Done(Finding::Comments(page))
    }
}

/// One `li.comment-item`: its `id` (or `data-cid`), author `h4 a`, time `span.pubtime`,
/// text `p.reply-content`, and the comment it answers (`.reply-quote-content[data-ref-cid]`).
fn topic_comment(topic: &str, start: u64, thread_of: &PostId, li: ElementRef) -> Option<Post> {
    let e = li.value();
    let cid = e
        .attr("data-cid")
        .or_else(|| e.attr("id"))
        .filter(|c| is_id(c))?;
    let page = Kind::Topic.page(topic);
    let u = if start == 0 {
        format!("{page}#{cid}")
    } else {
        format!("{page}?start={start}#{cid}")
    };
    let mut post = Post::new("douban", &format!("comment/{cid}"), &u);
    post.author = li.select(&sel("h4 a")).next().and_then(author_of);
    if let Some(t) = li.select(&sel("span.pubtime")).next() {
        set_time(&mut post, &text_of(t));
    }
    if let Some(c) = li.select(&sel("p.reply-content")).next() {
        set_content(&mut post, c);
        add_pictures(&mut post, c);
    }
    let reply_to = li
        .select(&sel(".reply-quote-content[data-ref-cid]"))
        .next()
        .and_then(|q| q.value().attr("data-ref-cid"))
        .filter(|c| is_id(c))
        .map(|c| PostId::new("douban", &format!("comment/{c}")));
    post.thread = Some(Thread::answering(thread_of, reply_to, ORDER));
    Some(post)
}

// ---------------------------------------------------------------------------------------
// Reading the content block

fn base() -> Url {
    Url::parse(REFERER).expect("a constant URL")
}

fn https(u: &str) -> String {
    match u.strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None if u.starts_with("//") => format!("https:{u}"),
        None => u.to_string(),
    }
}

fn new_post(kind: Kind, id: &str) -> Post {
    Post::new("douban", &format!("{}/{id}", kind.as_str()), &kind.page(id))
}

fn set_content(post: &mut Post, e: ElementRef) {
    let clean = sanitize_html(&e.inner_html(), &base());
    post.text = Some(html_to_text(&clean));
    post.html = Some(clean);
}

fn add_pictures(post: &mut Post, scope: ElementRef) {
    for img in scope.select(&sel("img")) {
        let e = img.value();
        let src = ["data-origin", "data-src", "src"]
            .iter()
            .filter_map(|a| e.attr(a))
            .map(str::trim)
            .find(|s| s.starts_with("https://") || s.starts_with("http://") || s.starts_with("//"));
        if let Some(s) = src {
            let s = https(s);
            if !post.media.iter().any(|m| m.url == s) {
                let mut m = Media::new(MediaKind::Image, s);
                m.referer = Some(REFERER.into());
                post.media.push(m);
            }
        }
    }
}

fn author_of(a: ElementRef) -> Option<Author> {
    let name = Some(text_of(a)).filter(|s| !s.is_empty());
    let href = a.value().attr("href").map(https);
    let uid = href.as_deref().and_then(|h| {
        let u = Url::parse(h).ok()?;
        let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
        match segs.as_slice() {
            ["people", uid, ..] => Some(uid.to_string()),
            _ => None,
        }
    });
    if name.is_none() && uid.is_none() {
        return None;
    }
    Some(Author {
        id: uid.clone(),
        name,
        handle: uid.clone(),
        url: uid.map(|u| format!("{WWW}/people/{u}/")),
    })
}

/// `2024-01-02 10:11:12` (Beijing time) as RFC 3339; the raw string is kept.
fn set_time(post: &mut Post, raw: &str) {
    let raw = raw.trim();
    if raw.is_empty() {
        return;
    }
    post.created_at_raw = Some(raw.to_string());
    let t = if raw.len() == 16 {
        format!("{raw}:00")
    } else {
        raw.to_string()
    };
    if let Ok(dt) = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", &t) {
        post.created_at = Some(format!("{}+08:00", dt.strftime("%Y-%m-%dT%H:%M:%S")));
    }
}

/// The number in `赞(12)` / `回应 5`; none when there is none.
fn count_in(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn read_status(doc: &Html, id: &str) -> Option<Post> {
    let item = doc
        .select(&sel("div.status-item[data-sid]"))
        .find(|e| e.value().attr("data-sid") == Some(id))?;
    let saying = item.select(&sel(".status-saying blockquote")).next()?;
    let mut post = new_post(Kind::Status, id);
    set_content(&mut post, saying);
    post.author = item.select(&sel("a.lnk-people")).next().and_then(author_of);
    if let Some(t) = item.select(&sel("span.created_at")).next() {
        let raw = t
            .value()
            .attr("title")
            .map(str::to_string)
            .unwrap_or_else(|| text_of(t));
        set_time(&mut post, &raw);
    }
    for pics in item.select(&sel(".attachments-saying")) {
        add_pictures(&mut post, pics);
    }
    let button = |s: &str| {
        item.select(&sel(s))
            .next()
            .and_then(|e| count_in(&text_of(e)))
    };
    let (likes, reposts, comments) = (
        button("a.btn-like"),
        button("a.btn-reshare"),
        button("a.btn-action-reply"),
    );
    if likes.is_some() || reposts.is_some() || comments.is_some() {
        post.counts = Some(Counts {
            likes,
            reposts,
            comments,
            ..Counts::default()
        });
    }
    Some(post)
}

fn read_topic(doc: &Html, id: &str) -> Option<Post> {
    let topic = doc.select(&sel("div.topic-doc")).next()?;
    let content = topic.select(&sel("div.topic-content")).next()?;
    let mut post = new_post(Kind::Topic, id);
    post.title = doc
        .select(&sel("#content h1"))
        .next()
        .map(text_of)
        .filter(|s| !s.is_empty());
    set_content(&mut post, content);
    add_pictures(&mut post, content);
    post.author = topic.select(&sel("span.from a")).next().and_then(author_of);
    if let Some(t) = topic.select(&sel("span.create-time")).next() {
        set_time(&mut post, &text_of(t));
    }
    let comments = doc.select(&sel("ul#comments > li.comment-item")).count() as u64;
    post.counts = Some(Counts {
        comments: Some(comments),
        ..Counts::default()
    });
    if let Some(g) = doc.select(&sel("div.group-item .title a")).next() {
        post.extra.insert(
            "group".into(),
            json!({ "name": text_of(g), "url": g.value().attr("href") }),
        );
    }
    Some(post)
}

fn read_note(doc: &Html, id: &str) -> Option<Post> {
    let note = doc.select(&sel("div.note-container")).next()?;
    let content = note.select(&sel("div#link-report")).next()?;
    let mut post = new_post(Kind::Note, id);
    post.title = note
        .select(&sel(".note-header h1"))
        .next()
        .map(text_of)
        .filter(|s| !s.is_empty());
    set_content(&mut post, content);
    add_pictures(&mut post, content);
    post.author = note
        .select(&sel("a.note-author"))
        .next()
        .and_then(author_of);
    if let Some(t) = note.select(&sel("span.pub-date")).next() {
        set_time(&mut post, &text_of(t));
    }
    Some(post)
}

// ---------------------------------------------------------------------------------------

struct PagePlan {
    kind: Kind,
    id: String,
}

impl Plan for PagePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(read_page(self.kind, &self.id, &answer))
    }
}

fn page_step(kind: Kind, id: &str) -> Step {
    let u = Url::parse(&kind.page(id)).expect("a page URL of digits");
    let req = Request::get(u, "douban page")
        .header("Referer", REFERER)
        .page();
    Step::fetch(
        req,
        PagePlan {
            kind,
            id: id.to_string(),
        },
    )
}

impl Platform for Douban {
    fn name(&self) -> &'static str {
        "douban"
    }
    fn hosts(&self) -> &'static [&'static str] {
        &["www.douban.com", "douban.com", "m.douban.com"]
    }
    fn recognise(&self, url: &Url) -> Option<Target> {
        recognise_url(url)
    }
    fn post_plan(&self, target: &Target, _job: Job, _ctx: &PlanContext) -> Step {
        match target {
            Target::Post { platform_id, .. } => match parse_platform_id(platform_id) {
                Some((kind, id)) => page_step(kind, id),
                None => Step::Done(broken(
                    "douban",
                    format!("status/<id>, topic/<id> or note/<id>, not {platform_id:?}"),
                )),
            },
            Target::Account { account_id, .. } => Step::Done(broken(
                "douban",
                format!("a post, not the account {account_id:?} (accounts cannot be watched)"),
            )),
            Target::Follow { url } => Step::Done(broken(
                "douban",
                format!("a post, not a link to follow ({url})"),
            )),
        }
    }
    /// A group topic's comments, from its pages; statuses' and notes' comments are not read.
    fn comments_plan(
        &self,
        target: &Target,
        cursor: Option<&str>,
        _ctx: &PlanContext,
    ) -> Option<Step> {
        let Target::Post { platform_id, .. } = target else {
            return None;
        };
        match parse_platform_id(platform_id)? {
            (Kind::Topic, id) => Some(comments_step(id, cursor)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::Response;

    fn page(status: u16, body: &str) -> Fetched {
        Fetched::Response(Response {
            url: Url::parse("https://www.douban.com/status/4412345678/").unwrap(),
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn target_of(u: &str) -> Option<String> {
        match recognise_url(&Url::parse(u).unwrap())? {
            Target::Post { platform_id, .. } => Some(platform_id),
            _ => None,
        }
    }

    #[test]
    fn url_forms_are_recognised() {
        let s = Some("status/4412345678".to_string());
        assert_eq!(
            target_of("https://www.douban.com/people/ahbei/status/4412345678/"),
            s
        );
        assert_eq!(target_of("https://www.douban.com/status/4412345678"), s);
        assert_eq!(
            target_of("https://m.douban.com/status/4412345678/?dt_dapp=1"),
            s
        );
        assert_eq!(
            target_of("https://m.douban.com/people/ahbei/status/4412345678"),
            s
        );
        assert_eq!(
            target_of("https://www.douban.com/group/topic/290123456/?_i=1"),
            Some("topic/290123456".into())
        );
        assert_eq!(
            target_of("https://www.douban.com/note/812345678/"),
            Some("note/812345678".into())
        );
        assert_eq!(target_of("https://www.douban.com/people/ahbei/"), None);
        assert_eq!(target_of("https://www.douban.com/status/abc/"), None);
        assert_eq!(target_of("https://movie.douban.com/subject/1292052/"), None);
        assert_eq!(target_of("https://example.com/status/4412345678"), None);
    }

    const LIVE: &str = r#"<html><head><title>该广播已被删除</title>
<script>var msg = "该内容已被删除 该用户已被封禁 仅好友可见 已注销 违反社区规范";</script>
<style>.x:after{content:"该广播已被删除"}</style></head><body>
<div id="content"><h1 data-x="该内容已被删除">该内容已被删除</h1>
<div class="status-item" data-sid="4412345678" data-uid="1000001">
<div class="hd"><a class="lnk-people" href="https://www.douban.com/people/ahbei/">阿北</a></div>
<div class="status-saying"><blockquote><p>朋友说 该广播已被删除 根据相关法律法规和政策，该内容不予显示 是个梗</p></blockquote></div>
<div class="actions"><span class="created_at" title="2024-03-05 21:07:09">3月5日</span>
<a class="btn btn-like">赞(12)</a></div></div></div></body></html>"#;

    #[test]
    fn deletion_words_in_a_live_post_or_its_scripts_never_make_it_gone() {
        match read_page(Kind::Status, "4412345678", &page(200, LIVE)) {
            Finding::Post(p) => {
                assert!(p.text.as_deref().unwrap().contains("是个梗"));
                assert_eq!(p.author.unwrap().id.as_deref(), Some("ahbei"));
                assert_eq!(p.created_at.as_deref(), Some("2024-03-05T21:07:09+08:00"));
                assert_eq!(p.counts.unwrap().likes, Some(12));
            }
            other => panic!("a live post read as {other:?}"),
        }
    }

    #[test]
    fn words_in_scripts_of_a_page_without_the_post_are_not_read() {
        let body = r#"<html><head><title>豆瓣</title><script>var a="该广播已被删除 该用户已被封禁";</script></head>
<body><div id="content" data-m="违反社区规范"></div></body></html>"#;
        match read_page(Kind::Status, "4412345678", &page(404, body)) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_message_area_is_read_when_the_post_is_absent() {
        let cases = [
            ("该广播已被删除", Outcome::Deleted, Some(Cause::Unknown)),
            ("该内容已被删除", Outcome::Deleted, Some(Cause::Platform)),
            (
                "该用户已被封禁",
                Outcome::AccountGone,
                Some(Cause::Platform),
            ),
            ("该广播仅好友可见", Outcome::Restricted, None),
        ];
        for (words, outcome, cause) in cases {
            let body = format!(
                "<html><body><div id=\"content\"><div class=\"mn\">{words}</div></div></body></html>"
            );
            match read_page(Kind::Status, "4412345678", &page(404, &body)) {
                Finding::Gone(g) => {
                    assert_eq!((g.outcome, g.cause), (outcome, cause), "{words}");
                    assert_eq!(g.message.as_deref(), Some(words));
                }
                other => panic!("{words}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_wall_beats_deletion_words() {
        let body = "<html><head><title>该广播已被删除</title></head><body>\
<div class=\"mn\">检测到有异常请求从你的 IP 发出，请登录使用豆瓣。</div></body></html>";
        match read_page(Kind::Status, "4412345678", &page(200, body)) {
            Finding::Gone(g) => assert_eq!(g.outcome, Outcome::Unreachable),
            other => panic!("{other:?}"),
        }
    }
}
