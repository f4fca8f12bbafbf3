//! The conversation around a post: comments (`comments/hotflow`), the replies under a
//! comment (`comments/hotFlowChild`) and the reposts (`api/statuses/repostTimeline`), one
//! page per plan, anonymous (docs/comments.md).
//!
//! # Cursors
//!
//! | cursor | request |
//! | --- | --- |
//! | none | `comments/hotflow?id=<mid>&mid=<mid>&max_id_type=0`: the first page, hot order |
//! | `hot:<max_id>:<max_id_type>` | `comments/hotflow?id=<mid>&mid=<mid>&max_id=<max_id>&max_id_type=<max_id_type>` |
//! | `child:<cid>:<max_id>:<max_id_type>` | `comments/hotFlowChild?cid=<cid>&max_id=<max_id>&max_id_type=<max_id_type>` (first page `child:<cid>:0:0`) |
//! | `repost:<page>` | `api/statuses/repostTimeline?id=<mid>&page=<page>` (from 1) |
//!
//! A hotflow page hands out the next hotflow page (while `max_id` is not 0), one `child:`
//! cursor per comment whose replies are not all inline (`total_number` larger than its
//! `comments` array), and, on the first page only, `repost:1`. A hotFlowChild page hands
//! out its own next page; a repost page `repost:<n+1>` while `n` is below `data.max`.
//! Any other cursor is [`Finding::Broken`].
//!
//! # What each answer holds
//!
//! - hotflow: `{"ok":1,"data":{"data":[comment…],"total_number","max_id","max_id_type","max"}}`;
//!   a comment has `id`, `rootid`, `text` (HTML-ish, emoji as `<img alt="[哈哈]">`),
//!   `created_at`, `like_count`, `source` (the region it shows, `来自浙江`), `user`,
//!   `total_number` (its replies), `comments` (the first replies inline, or `false`), `pic`.
//! - hotFlowChild: `{"ok":1,"data":[reply…],"total_number","max_id","max_id_type","rootComment":[…]}`:
//!   the array is at the top, not under `data.data`. A reply names its thread in `rootid`
//!   and, when it answers another reply, that one in `reply_comment`.
//! - repostTimeline: `{"ok":1,"data":{"data":[mblog…],"total_number","hot_total_number","max"}}`:
//!   each repost is a post (`weibo:<mid>`), read with the mblog reader.
//!
//! Ids: a comment or reply is `weibo:comment/<id>` (its URL is the post's `/detail/`
//! page: Weibo has no public page per comment); `thread.order` is `hot` for hotflow and
//! `time` for hotFlowChild (oldest first, as m.weibo.cn shows a comment's replies) and
//! repostTimeline (newest first).
//!
//! # Outcomes
//!
//! Only `msg`/`errmsg`/`message` of an `ok:0` answer are read for words, never the
//! comments' texts. Closed words (`评论已关闭`, `关闭了评论`, …) make a page with `closed`.
//! The empty-listing words (`快来发表你的评论吧`, `还没有人评论`, `还没有人转发过`, …) make an
//! empty complete page. Any other `ok:0`, a redirect to a login host, 418/403/432, a
//! captcha or other non-JSON answer, 429/5xx and a failed fetch are `unreachable`; JSON
//! without `ok`, or `ok:1` without the list, is broken.
//!
//! Not read: the visitor-cookie climb the post plan makes (a walled conversation is
//! `unreachable` and the post stays captured), `weibo.com/ajax/statuses/buildComments`
//! (needs a login for more than the first page), and the likes list (`attitudes/show`).

use super::API;
use super::access::{Access, Api, api_request, read_api};
use super::ids::{detail_url, is_digits};
use super::mblog::{parse_mblog, pic_media};
use super::text::text_and_html;
use super::times::{parse_count, parse_created_at};
use crate::model::{Author, Counts, Post, PostId, Thread, ThreadKind};
use crate::platforms::kit::{broken, str_of, unreachable, url};
use crate::platforms::{CommentPage, Fetched, Finding, Plan, Step};
use serde_json::{Value, json};

/// What the platform says when the author closed the comments.
const CLOSED_WORDS: &[&str] = &[
    "评论已关闭",
    "已关闭评论",
    "关闭了评论",
    "评论功能已关闭",
    "评论区已关闭",
];

/// What the platform says for a listing with nothing in it (yet): a complete page.
const EMPTY_WORDS: &[&str] = &[
    "快来发表你的评论吧",
    "还没有人评论",
    "暂无评论",
    "还没有人转发过",
    "还没有人回复",
    "暂无回复",
];

/// Most inline replies read under one comment of a hotflow page (the platform sends two
/// or three; a guard against an answer that sends thousands).
const MAX_INLINE: usize = 50;

/// Which page a cursor names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    Hot {
        max_id: String,
        max_id_type: String,
    },
    Child {
        cid: String,
        max_id: String,
        max_id_type: String,
    },
    Repost {
        page: u64,
    },
}

impl Cursor {
    /// `None` is the first hotflow page; `Err` says what is wrong with the cursor.
    fn parse(cursor: Option<&str>) -> Result<Cursor, String> {
        let Some(c) = cursor else {
            return Ok(Cursor::Hot {
                max_id: "0".into(),
                max_id_type: "0".into(),
            });
        };
        let parts: Vec<&str> = c.split(':').collect();
        let digits = |s: &str| is_digits(s);
        match parts.as_slice() {
            ["hot", id, t] if digits(id) && digits(t) => Ok(Cursor::Hot {
                max_id: id.to_string(),
                max_id_type: t.to_string(),
            }),
            ["child", cid, id, t] if digits(cid) && digits(id) && digits(t) => Ok(Cursor::Child {
                cid: cid.to_string(),
                max_id: id.to_string(),
                max_id_type: t.to_string(),
            }),
            ["repost", n] => match n.parse::<u64>() {
                Ok(page) if page >= 1 && digits(n) => Ok(Cursor::Repost { page }),
                _ => Err(format!(
                    "a cursor of the form repost:<page from 1> (got {c:?})"
                )),
            },
            _ => Err(format!(
                "a cursor of the forms hot:<max_id>:<max_id_type>, child:<cid>:<max_id>:<max_id_type> or repost:<page> (got {c:?})"
            )),
        }
    }

    fn endpoint(&self) -> &'static str {
        match self {
            Cursor::Hot { .. } => "comments/hotflow",
            Cursor::Child { .. } => "comments/hotFlowChild",
            Cursor::Repost { .. } => "api/statuses/repostTimeline",
        }
    }

    fn url(&self, mid: &str, first: bool) -> String {
        match self {
            Cursor::Hot { .. } if first => {
                format!("{API}/comments/hotflow?id={mid}&mid={mid}&max_id_type=0")
            }
            Cursor::Hot {
                max_id,
                max_id_type,
            } => format!(
                "{API}/comments/hotflow?id={mid}&mid={mid}&max_id={max_id}&max_id_type={max_id_type}"
            ),
            Cursor::Child {
                cid,
                max_id,
                max_id_type,
            } => format!(
                "{API}/comments/hotFlowChild?cid={cid}&max_id={max_id}&max_id_type={max_id_type}"
            ),
            Cursor::Repost { page } => {
                format!("{API}/api/statuses/repostTimeline?id={mid}&page={page}")
            }
        }
    }
}

/// One page of post `mid`'s conversation, from `cursor` (`None`: the first page).
pub(super) fn comments_plan(mid: String, cursor: Option<&str>, now: jiff::ZonedDateTime) -> Step {
    if !is_digits(&mid) {
        return Step::Done(broken("comments/hotflow", "a numeric post id (mid)"));
    }
    let parsed = match Cursor::parse(cursor) {
        Ok(c) => c,
        Err(missing) => return Step::Done(broken("comments", missing)),
    };
    let first = cursor.is_none();
    let endpoint = parsed.endpoint();
    let u = match url(&parsed.url(&mid, first), endpoint) {
        Ok(u) => u,
        Err(f) => return Step::Done(f),
    };
    let req = api_request(u, endpoint, &detail_url(&mid), &Access::Anonymous);
    Step::fetch(
        req,
        CommentsPlan {
            mid,
            cursor: parsed,
            first,
            now,
        },
    )
}

struct CommentsPlan {
    mid: String,
    cursor: Cursor,
    /// The first hotflow page (it also hands out `repost:1`).
    first: bool,
    now: jiff::ZonedDateTime,
}

impl Plan for CommentsPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(self.read(&answer))
    }
}

impl CommentsPlan {
    fn read(&self, answer: &Fetched) -> Finding {
        let endpoint = self.cursor.endpoint();
        match read_api(answer) {
            Api::Ok(v) => match self.read_page(&v) {
                Ok(page) => Finding::Comments(page),
                Err(missing) => broken(endpoint, missing),
            },
            Api::No { json, .. } => refusal(endpoint, &json),
            Api::Shape(field) => broken(endpoint, field),
            Api::Walled(w) => unreachable(format!("{endpoint}: {w}")),
            Api::Failed(e) => unreachable(format!("{endpoint}: {e}")),
        }
    }

    fn thread(&self, kind: ThreadKind, reply_to: Option<PostId>, order: &str) -> Thread {
        Thread {
            thread_of: PostId::new("weibo", &self.mid),
            reply_to,
            kind,
            order: order.into(),
        }
    }

    fn read_page(&self, v: &Value) -> Result<CommentPage, String> {
        match &self.cursor {
            Cursor::Hot { .. } => self.read_hotflow(v),
            Cursor::Child { cid, .. } => self.read_child(v, cid),
            Cursor::Repost { page } => self.read_reposts(v, *page),
        }
    }

    fn read_hotflow(&self, v: &Value) -> Result<CommentPage, String> {
        let items = v
            .pointer("/data/data")
            .and_then(Value::as_array)
            .ok_or("data.data")?;
        let mut page = CommentPage::default();
        let mut children = Vec::new();
        for c in items {
            let post = self.comment(c, ThreadKind::Comment, None, "hot")?;
            let parent = post.id.clone();
            let cid = post.platform_id["comment/".len()..].to_string();
            page.comments.push(post);
            let inline: &[Value] = c
                .get("comments")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for r in inline.iter().take(MAX_INLINE) {
                let to = reply_target(r, &parent);
                page.comments
                    .push(self.comment(r, ThreadKind::Reply, Some(to), "hot")?);
            }
            let total = c.get("total_number").and_then(parse_count).unwrap_or(0);
            if total > inline.len() as u64 {
                children.push(format!("child:{cid}:0:0"));
            }
        }
        if let Some(next) = next_max_id(v.get("data")) {
            page.more.push(format!("hot:{}:{}", next.0, next.1));
        }
        page.more.extend(children);
        if self.first {
            page.more.push("repost:1".into());
        }
        Ok(page)
    }

    fn read_child(&self, v: &Value, cid: &str) -> Result<CommentPage, String> {
        let items = v.get("data").and_then(Value::as_array).ok_or("data")?;
        let root = PostId::new("weibo", &format!("comment/{cid}"));
        let mut page = CommentPage::default();
        for r in items {
            let to = reply_target(r, &root);
            page.comments
                .push(self.comment(r, ThreadKind::Reply, Some(to), "time")?);
        }
        if let Some((id, t)) = next_max_id(Some(v)) {
            page.more.push(format!("child:{cid}:{id}:{t}"));
        }
        Ok(page)
    }

    fn read_reposts(&self, v: &Value, n: u64) -> Result<CommentPage, String> {
        let items = v
            .pointer("/data/data")
            .and_then(Value::as_array)
            .ok_or("data.data")?;
        let mut page = CommentPage::default();
        for m in items {
            let mut post = parse_mblog(m, &self.now).map_err(|f| format!("data.data[].{f}"))?;
            post.thread = Some(self.thread(ThreadKind::Repost, None, "time"));
            page.comments.push(post);
        }
        let max = v.pointer("/data/max").and_then(parse_count).unwrap_or(0);
        if !items.is_empty() && n < max {
            page.more.push(format!("repost:{}", n + 1));
        }
        Ok(page)
    }

    /// One comment or reply; `Err` names the missing field.
    fn comment(
        &self,
        c: &Value,
        kind: ThreadKind,
        reply_to: Option<PostId>,
        order: &str,
    ) -> Result<Post, String> {
        let id = comment_id(c).ok_or("data.data[].id")?;
        let mut post = Post::new("weibo", &format!("comment/{id}"), &detail_url(&self.mid));
        if let Some(u) = c.get("user").filter(|u| u.is_object()) {
            let uid = str_of(u.get("id")).or_else(|| str_of(u.get("idstr")));
            post.author = Some(Author {
                url: uid
                    .as_deref()
                    .map(|id| format!("https://m.weibo.cn/u/{id}")),
                id: uid,
                name: str_of(u.get("screen_name")),
                handle: None,
            });
        }
        if let Some(raw) = str_of(c.get("text")) {
            let (t, h) = text_and_html(&raw);
            post.text = Some(t);
            post.html = Some(h);
        }
        if let Some(raw) = str_of(c.get("created_at")) {
            post.created_at = parse_created_at(&raw, &self.now);
            post.created_at_raw = Some(raw);
        }
        let likes = c.get("like_count").or_else(|| c.get("like_counts"));
        let replies = c.get("total_number");
        if likes.is_some() || replies.is_some() {
            let mut counts = Counts {
                likes: likes.and_then(parse_count),
                comments: replies.and_then(parse_count),
                ..Counts::default()
            };
            if let Some(l) = likes.filter(|l| !l.is_u64()) {
                counts.raw.insert("likes".into(), l.clone());
            }
            post.counts = Some(counts);
        }
        if let Some(source) = str_of(c.get("source")) {
            if let Some(region) = source.trim().strip_prefix("来自") {
                let region = region.trim();
                if !region.is_empty() {
                    post.extra.insert("region".into(), json!(region));
                }
            }
            post.extra.insert("source".into(), json!(source));
        }
        for key in ["floor_number", "is_mblog_author"] {
            if let Some(v) = c.get(key).filter(|v| !v.is_null()) {
                post.extra.insert(key.into(), v.clone());
            }
        }
        if let Some(pic) = c.get("pic").filter(|p| p.is_object()) {
            post.media.extend(pic_media(pic));
        }
        post.thread = Some(self.thread(kind, reply_to, order));
        Ok(post)
    }
}

/// A comment's id: `id`, `idstr` or `mid`, digits only.
fn comment_id(c: &Value) -> Option<String> {
    ["idstr", "id", "mid"]
        .iter()
        .filter_map(|k| str_of(c.get(*k)))
        .find(|s| is_digits(s))
}

/// What a reply answers: the reply it names in `reply_comment` (another reply in the same
/// thread), else the comment it sits under (`rootid`, or the one it was listed under).
fn reply_target(r: &Value, parent: &PostId) -> PostId {
    let own = comment_id(r);
    let named = r
        .get("reply_comment")
        .filter(|x| x.is_object())
        .and_then(comment_id)
        .filter(|id| Some(id) != own.as_ref());
    let root = str_of(r.get("rootidstr"))
        .or_else(|| str_of(r.get("rootid")))
        .filter(|id| is_digits(id) && Some(id) != own.as_ref());
    match named.or(root) {
        Some(id) => PostId::new("weibo", &format!("comment/{id}")),
        None => parent.clone(),
    }
}

/// `(max_id, max_id_type)` of the next page, `None` at the end (`max_id` 0 or absent).
fn next_max_id(v: Option<&Value>) -> Option<(String, String)> {
    let v = v?;
    let id = str_of(v.get("max_id")).filter(|s| s != "0" && is_digits(s))?;
    let t = str_of(v.get("max_id_type"))
        .filter(|s| is_digits(s))
        .unwrap_or_else(|| "0".into());
    Some((id, t))
}

/// An `ok:0` answer: closed, empty, or unreachable, by the platform's own message only.
fn refusal(endpoint: &str, json: &Value) -> Finding {
    let words = ["msg", "errmsg", "message"]
        .iter()
        .find_map(|k| str_of(json.get(*k)));
    let Some(words) = words else {
        return unreachable(format!("{endpoint}: ok:0 without a message"));
    };
    if CLOSED_WORDS.iter().any(|w| words.contains(w)) {
        return Finding::Comments(CommentPage {
            closed: Some(words),
            ..CommentPage::default()
        });
    }
    if EMPTY_WORDS.iter().any(|w| words.contains(w)) {
        return Finding::Comments(CommentPage::default());
    }
    unreachable(format!("{endpoint}: {words}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::{Response, run_offline};
    use url::Url;

    fn answer(body: &str) -> Fetched {
        Fetched::Response(Response {
            url: Url::parse("https://m.weibo.cn/comments/hotflow").unwrap(),
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            truncated: false,
        })
    }

    fn run(cursor: Option<&str>, body: &str) -> Finding {
        let now: jiff::ZonedDateTime = "2024-04-04T16:02:11+08:00[Asia/Shanghai]".parse().unwrap();
        let first = comments_plan("4645748019299849".into(), cursor, now);
        run_offline(first, |_| answer(body), 2).expect("one answer ends the plan")
    }

    /// Users' words are never markers: a live page whose comments say 评论已关闭 or
    /// 已删除 is a normal page, neither closed nor anything gone.
    #[test]
    fn comment_texts_are_never_markers() {
        let body = r#"{"ok":1,"data":{"data":[
            {"id":111,"text":"评论已关闭了吗？","user":{"id":1,"screen_name":"a"},"total_number":0},
            {"id":222,"text":"原博已删除","user":{"id":2,"screen_name":"b"},
             "comments":[{"id":333,"rootid":222,"text":"该评论已被删除","user":{"id":3}}],"total_number":1}
        ],"max_id":0,"max_id_type":0}}"#;
        let Finding::Comments(page) = run(None, body) else {
            panic!("a page")
        };
        assert_eq!(page.closed, None);
        assert!(page.gone.is_empty());
        assert_eq!(page.comments.len(), 3);
        assert_eq!(page.comments[0].text.as_deref(), Some("评论已关闭了吗？"));
        assert_eq!(page.more, vec!["repost:1".to_string()]);
        // An ok:0 whose data carries such words says nothing closed either.
        let body = r#"{"ok":0,"data":{"data":[{"id":1,"text":"评论已关闭"}]}}"#;
        assert!(
            matches!(run(None, body), Finding::Gone(g) if g.outcome == crate::model::Outcome::Unreachable)
        );
    }

    #[test]
    fn cursors_read_and_refuse() {
        assert_eq!(
            Cursor::parse(Some("hot:138:1")),
            Ok(Cursor::Hot {
                max_id: "138".into(),
                max_id_type: "1".into()
            })
        );
        assert_eq!(
            Cursor::parse(Some("child:5:0:0")).unwrap().url("9", false),
            "https://m.weibo.cn/comments/hotFlowChild?cid=5&max_id=0&max_id_type=0"
        );
        for bad in [
            "hot:1",
            "hot:a:0",
            "child:1:2",
            "repost:0",
            "repost:x",
            "page:2",
            "",
        ] {
            assert!(Cursor::parse(Some(bad)).is_err(), "{bad}");
            assert!(
                matches!(run(Some(bad), "{}"), Finding::Broken { ref missing, .. } if missing.contains("cursor")),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_reply_answers_the_reply_it_names() {
        let root = PostId::new("weibo", "comment/1");
        let r = json!({"id": 3, "rootid": 1, "reply_comment": {"id": 2}});
        assert_eq!(reply_target(&r, &root).to_string(), "weibo:comment/2");
        let r = json!({"id": 3, "rootid": 1});
        assert_eq!(reply_target(&r, &root).to_string(), "weibo:comment/1");
        let r = json!({"id": 3, "rootid": 3});
        assert_eq!(reply_target(&r, &root), root);
    }

    /// The constructed 3-page set of `tests/fixtures/weibo/thread/` reads to its end
    /// breadth first, as its README says: 3 comments, 3 replies, nothing left.
    #[test]
    fn the_thread_set_reads_to_its_end() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/weibo/thread");
        let file = |u: &Url| -> String {
            let q = u.query().unwrap_or("");
            let name = if u.path() == "/comments/hotFlowChild" {
                "constructed_hotFlowChild_4645790000000101.json"
            } else if u.path() == "/api/statuses/repostTimeline" {
                "constructed_repostTimeline_none.json"
            } else if q.contains("max_id=111111111111111") {
                "constructed_hotflow_page2.json"
            } else if q.contains("max_id=222222222222222") {
                "constructed_hotflow_page3.json"
            } else {
                "constructed_hotflow_page1.json"
            };
            std::fs::read_to_string(dir.join(name)).unwrap()
        };
        let now = jiff::ZonedDateTime::now();
        let mut queue: std::collections::VecDeque<Option<String>> = [None].into();
        let mut ids = Vec::new();
        let mut pages = 0;
        while let Some(cursor) = queue.pop_front() {
            pages += 1;
            assert!(pages < 10, "the set ends");
            let first = comments_plan("4645748019299849".into(), cursor.as_deref(), now.clone());
            let found = run_offline(first, |req| answer(&file(&req.url)), 2).unwrap();
            let Finding::Comments(page) = found else {
                panic!("{cursor:?}: {found:?}")
            };
            assert_eq!(page.closed, None);
            for c in &page.comments {
                if !ids.contains(&c.id.0) {
                    ids.push(c.id.0.clone());
                }
            }
            queue.extend(page.more.into_iter().map(Some));
        }
        assert_eq!(pages, 5, "3 hotflow pages, 1 reply page, 1 repost page");
        assert_eq!(
            ids,
            [
                "weibo:comment/4645790000000101",
                "weibo:comment/4645790000001111",
                "weibo:comment/4645790000000202",
                "weibo:comment/4645790000002222",
                "weibo:comment/4645790000003333",
                "weibo:comment/4645790000000303",
            ]
        );
    }
}
