//! The plans: a post (statuses/show, extend, the `/detail/` page, walls climbed), a short
//! or share link, and a timeline page.

use super::access::{Access, Api, Walls, api_request, read_api, visitor_cookie, visitor_request};
use super::ids::{detail_url, is_digits};
use super::markers::{classify_marker, page_message, page_said};
use super::mblog::{
    looks_truncated, needs_long_text, parse_mblog_with, pics_of, read_timeline, render_data_status,
};
use super::{API, HTML_ACCEPT};
use crate::model::{Cause, Outcome};
use crate::platforms::kit::{broken, gone, gone_quietly, str_of, unreachable, url};
use crate::platforms::{Fetched, Finding, Job, Plan, Request, Step};
use serde_json::{Value, json};
use url::Url;

// ---------------------------------------------------------------------------------------
// Post plan

/// Which answer the post plan waits for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum PostState {
    Show,
    Visitor,
    Extend,
    Page,
    Confirm,
    Fallback,
}

pub(super) struct PostPlan {
    mid: String,
    job: Job,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
    access: Access,
    walls: Walls,
    state: PostState,
    /// The mblog read from statuses/show (or the page).
    mblog: Option<Value>,
    long_text: Option<String>,
    /// The ok:0 answer awaiting confirmation.
    refusal: Option<(String, Value)>,
    fallback_tried: bool,
    /// Why statuses/show gave nothing, while the page fallback is asked.
    pending: Option<Pending>,
}

enum Pending {
    Wall(String),
    Failure(String),
}

/// A capture or check of post `mid`, anonymous first.
pub(super) fn post_plan(
    mid: String,
    job: Job,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
) -> Step {
    Box::new(PostPlan {
        mid,
        job,
        now,
        has_user_cookies,
        access: Access::Anonymous,
        walls: Walls::default(),
        state: PostState::Show,
        mblog: None,
        long_text: None,
        refusal: None,
        fallback_tried: false,
        pending: None,
    })
    .ask_show()
}

impl PostPlan {
    /// Asks `req` (or ends, when the target makes no URL); the answer is read in `state`.
    fn ask(mut self: Box<Self>, state: PostState, req: Result<Request, Finding>) -> Step {
        match req {
            Ok(req) => {
                self.state = state;
                Step::Fetch(req, self)
            }
            Err(f) => Step::Done(f),
        }
    }
    fn api(&self, path: &str, purpose: &'static str) -> Result<Request, Finding> {
        let u = url(&format!("{API}/{path}?id={}", self.mid), purpose)?;
        Ok(api_request(
            u,
            purpose,
            &detail_url(&self.mid),
            &self.access,
        ))
    }
    fn ask_show(self: Box<Self>) -> Step {
        let req = self.api("statuses/show", "statuses/show");
        self.ask(PostState::Show, req)
    }
    fn ask_extend(self: Box<Self>) -> Step {
        let req = self.api("statuses/extend", "statuses/extend");
        self.ask(PostState::Extend, req)
    }
    fn ask_page(self: Box<Self>, state: PostState) -> Step {
        let req = url(&detail_url(&self.mid), "detail page").map(|u| {
            self.access.apply(
                Request::get(u, "detail page")
                    .header("Accept", HTML_ACCEPT)
                    .page(),
            )
        });
        self.ask(state, req)
    }

    /// After a wall: the next access level, or the end.
    fn escalate(mut self: Box<Self>, wall: String) -> Step {
        self.walls.push(&self.access, &wall);
        match self.access {
            Access::Anonymous => self.ask(PostState::Visitor, visitor_request()),
            Access::Visitor(_) if self.has_user_cookies => {
                self.access = Access::User;
                self.ask_show()
            }
            _ => Step::Done(self.walls.gone("statuses/show")),
        }
    }

    /// A capture falls back once on the `/detail/` page before climbing the walls.
    fn walled_or_failed(mut self: Box<Self>, pending: Pending) -> Step {
        if self.job == Job::Capture && !self.fallback_tried {
            self.fallback_tried = true;
            self.pending = Some(pending);
            return self.ask_page(PostState::Fallback);
        }
        self.after_fallback(pending)
    }

    fn after_fallback(self: Box<Self>, pending: Pending) -> Step {
        match pending {
            Pending::Wall(w) => self.escalate(w),
            Pending::Failure(e) => Step::Done(unreachable(e)),
        }
    }

    /// The post, from the mblog read (and the long text, if any).
    fn finish_post(&self, m: &Value) -> Step {
        Step::Done(
            match parse_mblog_with(m, &self.now, self.long_text.as_deref()) {
                Ok(p) => Finding::Post(Box::new(p)),
                Err(field) => broken("statuses/show", format!("data.{field}")),
            },
        )
    }

    fn read_show(mut self: Box<Self>, answer: &Fetched) -> Step {
        match read_api(answer) {
            Api::Ok(v) => {
                let data = v.get("data").cloned().unwrap_or(Value::Null);
                if !data.is_object() {
                    return Step::Done(broken("statuses/show", "data"));
                }
                if str_of(data.get("id")).is_none() && str_of(data.get("mid")).is_none() {
                    return Step::Done(broken("statuses/show", "data.id"));
                }
                let long =
                    needs_long_text(&data) && (self.job == Job::Capture || looks_truncated(&data));
                if long {
                    self.mblog = Some(data);
                    self.ask_extend()
                } else if self.job == Job::Capture {
                    self.mblog = Some(data);
                    self.ask_page(PostState::Page)
                } else {
                    self.finish_post(&data)
                }
            }
            Api::No { message, json } => {
                self.refusal = Some((message, json));
                self.ask_page(PostState::Confirm)
            }
            Api::Shape(field) => Step::Done(broken("statuses/show", field)),
            Api::Walled(w) => self.walled_or_failed(Pending::Wall(w)),
            Api::Failed(e) => {
                self.walled_or_failed(Pending::Failure(format!("statuses/show: {e}")))
            }
        }
    }

    fn read_visitor(mut self: Box<Self>, answer: &Fetched) -> Step {
        match visitor_cookie(answer) {
            Some(cookie) => {
                self.access = Access::Visitor(cookie);
                self.ask_show()
            }
            None => {
                self.walls.no_visitor_cookie();
                if self.has_user_cookies {
                    self.access = Access::User;
                    self.ask_show()
                } else {
                    Step::Done(self.walls.gone("statuses/show"))
                }
            }
        }
    }

    fn read_extend(mut self: Box<Self>, answer: &Fetched) -> Step {
        if let Api::Ok(v) = read_api(answer) {
            let lt = str_of(v.pointer("/data/longTextContent"))
                .or_else(|| str_of(v.pointer("/data/data/longTextContent")));
            match lt {
                Some(t) => self.long_text = Some(t),
                None => {
                    if let Some(m) = self.mblog.as_mut().and_then(Value::as_object_mut) {
                        m.insert("long_text_missing".into(), json!(true));
                    }
                }
            }
        }
        if self.job == Job::Capture {
            self.ask_page(PostState::Page)
        } else {
            self.finish_mblog()
        }
    }

    /// The post from the mblog kept while the page or the long text was asked.
    fn finish_mblog(mut self: Box<Self>) -> Step {
        match self.mblog.take() {
            Some(m) => self.finish_post(&m),
            None => Step::Done(broken("statuses/show", "data")),
        }
    }

    fn read_page(mut self: Box<Self>, answer: &Fetched) -> Step {
        // The page is recorded for a person; it may also list pictures statuses/show cut.
        if let Fetched::Response(r) = answer
            && r.status == 200
            && let Some(status) = render_data_status(&String::from_utf8_lossy(&r.body))
            && let Some(m) = self.mblog.as_mut()
        {
            let have = pics_of(m).len();
            if pics_of(&status).len() > have
                && let Some(obj) = m.as_object_mut()
            {
                obj.insert(
                    "pics".into(),
                    status.get("pics").cloned().unwrap_or_default(),
                );
            }
            if self.long_text.is_none()
                && let Some(lt) = str_of(status.pointer("/longText/longTextContent"))
            {
                self.long_text = Some(lt);
            }
        }
        self.finish_mblog()
    }

    fn read_fallback(mut self: Box<Self>, answer: &Fetched) -> Step {
        let page = whole_page(answer);
        if let Some(status) = page.as_deref().and_then(render_data_status) {
            return self.finish_post(&status);
        }
        let pending = self
            .pending
            .take()
            .unwrap_or(Pending::Failure("statuses/show: no answer".into()));
        if let Some(said) = page.as_deref().map(page_said)
            && let Some((outcome, cause)) = classify_marker(&said)
            && outcome != Outcome::Deleted
        {
            // The page names an account-level or visibility verdict.
            return Step::Done(gone_quietly(outcome, cause, page_message(&said)));
        }
        self.after_fallback(pending)
    }

    fn read_confirm(mut self: Box<Self>, answer: &Fetched) -> Step {
        let (message, json) = self.refusal.take().unwrap_or_default();
        let page = whole_page(answer);
        // The page shows the post after all: statuses/show was wrong.
        if let Some(status) = page.as_deref().and_then(render_data_status) {
            return self.finish_post(&status);
        }
        let errno = str_of(json.get("errno")).or_else(|| str_of(json.get("error_code")));
        let from_msg = classify_marker(&message);
        let from_page = page
            .as_deref()
            .map(page_said)
            .and_then(|s| classify_marker(&s));
        let specific = [from_msg, from_page]
            .into_iter()
            .flatten()
            .find(|(_, c)| *c != Some(Cause::Unknown));
        let (outcome, cause) = match (specific, errno.as_deref()) {
            (Some(v), _) => v,
            (None, Some("20112")) => (Outcome::Restricted, Some(Cause::Author)),
            _ => (Outcome::Deleted, Some(Cause::Unknown)),
        };
        Step::Done(gone(outcome, cause, message))
    }
}

/// The body of a whole 200 page, as text.
fn whole_page(answer: &Fetched) -> Option<String> {
    match answer {
        Fetched::Response(r) if r.status == 200 && !r.truncated => {
            Some(String::from_utf8_lossy(&r.body).into_owned())
        }
        _ => None,
    }
}

impl Plan for PostPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        match self.state {
            PostState::Show => self.read_show(&answer),
            PostState::Visitor => self.read_visitor(&answer),
            PostState::Extend => self.read_extend(&answer),
            PostState::Page => self.read_page(&answer),
            PostState::Fallback => self.read_fallback(&answer),
            PostState::Confirm => self.read_confirm(&answer),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Follow plan (short and share links)

/// Follows a short or share link to where it redirects.
pub(super) fn follow_plan(url: Url) -> Step {
    let req = Request::get(url.clone(), "follow link").header("Accept", HTML_ACCEPT);
    Step::fetch(req, FollowPlan { url })
}

struct FollowPlan {
    url: Url,
}

impl Plan for FollowPlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        Step::Done(match answer {
            Fetched::Response(r) if r.url != self.url => Finding::Redirected {
                url: r.url.to_string(),
            },
            Fetched::Response(r) => {
                unreachable(format!("link did not redirect (HTTP {})", r.status))
            }
            Fetched::Failed(e) => unreachable(e),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Timeline plan

/// Which answer the timeline plan waits for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum TimelineState {
    Index,
    Visitor,
}

struct TimelinePlan {
    uid: String,
    cursor: Option<String>,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
    access: Access,
    walls: Walls,
    state: TimelineState,
}

const END_OF_TIMELINE: &str = "这里还没有内容";

/// One page of account `uid`'s posts, from `cursor` on.
pub(super) fn timeline_plan(
    uid: String,
    cursor: Option<String>,
    now: jiff::ZonedDateTime,
    has_user_cookies: bool,
) -> Option<Step> {
    if !is_digits(&uid) {
        return None;
    }
    Some(
        Box::new(TimelinePlan {
            uid,
            cursor,
            now,
            has_user_cookies,
            access: Access::Anonymous,
            walls: Walls::default(),
            state: TimelineState::Index,
        })
        .ask_index(),
    )
}

impl TimelinePlan {
    fn ask_index(mut self: Box<Self>) -> Step {
        let mut u = match url(&format!("{API}/api/container/getIndex"), "getIndex") {
            Ok(u) => u,
            Err(f) => return Step::Done(f),
        };
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("containerid", &format!("107603{}", self.uid));
            match self.cursor.as_deref() {
                Some(c) if c.starts_with("page:") => {
                    q.append_pair("page", &c["page:".len()..]);
                }
                Some(c) => {
                    q.append_pair("since_id", c);
                }
                None => {}
            }
        }
        self.state = TimelineState::Index;
        let referer = format!("{API}/u/{}", self.uid);
        let req = api_request(u, "getIndex", &referer, &self.access);
        Step::Fetch(req, self)
    }

    fn escalate(mut self: Box<Self>, wall: String) -> Step {
        self.walls.push(&self.access, &wall);
        match self.access {
            Access::Anonymous => match visitor_request() {
                Ok(req) => {
                    self.state = TimelineState::Visitor;
                    Step::Fetch(req, self)
                }
                Err(f) => Step::Done(f),
            },
            Access::Visitor(_) if self.has_user_cookies => {
                self.access = Access::User;
                self.ask_index()
            }
            _ => Step::Done(self.walls.gone("getIndex")),
        }
    }

    fn read_index(self: Box<Self>, answer: &Fetched) -> Step {
        match read_api(answer) {
            Api::Ok(v) => Step::Done(match read_timeline(&v, &self.now) {
                Ok((posts, next_cursor)) => Finding::Timeline { posts, next_cursor },
                Err(missing) => broken("getIndex", missing),
            }),
            Api::No { message, .. } => Step::Done(if message.contains(END_OF_TIMELINE) {
                Finding::Timeline {
                    posts: vec![],
                    next_cursor: None,
                }
            } else {
                match classify_marker(&message) {
                    Some((Outcome::AccountGone, cause)) => {
                        gone(Outcome::AccountGone, cause, message)
                    }
                    _ => unreachable(message),
                }
            }),
            Api::Shape(field) => Step::Done(broken("getIndex", field)),
            Api::Walled(w) => self.escalate(w),
            Api::Failed(e) => Step::Done(unreachable(format!("getIndex: {e}"))),
        }
    }

    fn read_visitor(mut self: Box<Self>, answer: &Fetched) -> Step {
        match visitor_cookie(answer) {
            Some(c) => {
                self.access = Access::Visitor(c);
                self.ask_index()
            }
            None => {
                self.walls.no_visitor_cookie();
                if self.has_user_cookies {
                    self.access = Access::User;
                    self.ask_index()
                } else {
                    Step::Done(self.walls.gone("getIndex"))
                }
            }
        }
    }
}

impl Plan for TimelinePlan {
    fn next(self: Box<Self>, answer: Fetched) -> Step {
        match self.state {
            TimelineState::Index => self.read_index(&answer),
            TimelineState::Visitor => self.read_visitor(&answer),
        }
    }
}
