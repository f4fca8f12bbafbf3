//! Reading the conversation around a post (docs/comments.md): the platform's comment pages,
//! breadth first, until `[capture] comments` are read or nothing is left; one post record
//! per comment, then a thread record, the evidence of what the listing held.
//!
//! A wall, a captcha, a failed fetch or an unknown shape ends the reading with that status
//! in the thread record: the post it belongs to is already written and stays captured.

use super::{Fetcher, run_plan};
use crate::model::{Post, Thread, ThreadKind};
use crate::platforms::{Finding, PlanContext, Platform, Target};
use crate::store::bodies::{GoneComment, THREAD_FORMAT, ThreadRecord, ThreadStatus};
use crate::store::warc::Record;
use serde::Serialize;
use std::collections::{HashSet, VecDeque};

/// What one reading of a conversation came to, as a capture reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadSummary {
    pub status: ThreadStatus,
    /// Comments listed (new and already archived).
    pub listed: usize,
    /// Post records written for comments not archived before.
    pub new: usize,
    /// Comments the platform lists as gone.
    pub gone: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ThreadSummary {
    /// The summary of a thread record, `new` of its comments written now.
    pub fn of(t: &ThreadRecord, new: usize) -> ThreadSummary {
        ThreadSummary {
            status: t.status,
            listed: t.listed.len(),
            new,
            gone: t.gone.len(),
            message: t.message.clone(),
        }
    }
}

/// Most pages one reading asks for: every page is expected to list at least one comment
/// on average, plus a few that list none (a repost page past the end, an empty reply
/// thread), so a platform that keeps handing out cursors cannot keep a capture going.
fn max_pages(limit: usize) -> usize {
    limit.saturating_add(8)
}

/// Reads the conversation around `post` (captured from `target` on `platform`): the
/// records to append (each page's exchanges, a post record for each comment not in
/// `known`, the reading's provenance record made by `provenance` from them, the thread
/// record last) and the thread record. `None` when the platform
/// shows no conversation samizdat can read, or `limit` is 0.
#[allow(clippy::too_many_arguments)] // each is one fact of the reading; a struct would only rename them
pub async fn read_thread(
    platform: &'static dyn Platform,
    target: &Target,
    post: &Post,
    ctx: &PlanContext,
    limit: usize,
    known: &HashSet<String>,
    fetcher: &Fetcher,
    date: &str,
    provenance: &(dyn Fn(&[Record]) -> Record + Sync),
) -> Option<(Vec<Record>, ThreadRecord, usize)> {
    if limit == 0 {
        return None;
    }
    // Asking for the first page tells whether the platform has comments at all.
    let first = platform.comments_plan(target, None, ctx)?;
    let mut first = Some(first);
    let mut queue: VecDeque<Option<String>> = VecDeque::from([None]);
    let mut cursors: HashSet<String> = HashSet::new();
    let mut listed: Vec<String> = vec![];
    let mut seen: HashSet<String> = HashSet::new();
    let mut gone: Vec<GoneComment> = vec![];
    let mut records: Vec<Record> = vec![];
    let mut new = 0usize;
    let mut status = ThreadStatus::Complete;
    let mut message = None;
    let mut pages = 0usize;
    'pages: while let Some(cursor) = queue.pop_front() {
        if listed.len() >= limit || pages >= max_pages(limit) {
            status = ThreadStatus::Limit;
            break;
        }
        let plan = match first.take() {
            Some(p) => p,
            None => match platform.comments_plan(target, cursor.as_deref(), ctx) {
                Some(p) => p,
                None => {
                    status = ThreadStatus::Broken;
                    message = Some(format!(
                        "{}: the platform handed out a cursor it cannot read: {cursor:?}",
                        platform.name()
                    ));
                    break;
                }
            },
        };
        pages += 1;
        let mut page_records = vec![];
        let mut responses = vec![];
        let run = run_plan(
            platform.name(),
            plan,
            fetcher,
            &mut page_records,
            &mut responses,
        )
        .await;
        let page = match run.finding {
            Finding::Comments(page) => page,
            Finding::Gone(g) => {
                records.extend(page_records);
                status = ThreadStatus::Unreachable;
                message = g.message.or_else(|| Some(g.outcome.as_str().to_string()));
                break;
            }
            Finding::Broken { endpoint, missing } => {
                records.extend(page_records);
                status = ThreadStatus::Broken;
                message = Some(format!("{endpoint}: unexpected answer, missing {missing}"));
                break;
            }
            other => {
                records.extend(page_records);
                status = ThreadStatus::Broken;
                message = Some(format!(
                    "{}: a comments page answered with {other:?}",
                    platform.name()
                ));
                break;
            }
        };
        let mut comment_records = vec![];
        for mut c in page.comments {
            if listed.len() >= limit {
                status = ThreadStatus::Limit;
                records.extend(page_records);
                records.extend(comment_records);
                break 'pages;
            }
            if !seen.insert(c.id.0.clone()) {
                continue;
            }
            attach(&mut c, post);
            listed.push(c.id.0.clone());
            if known.contains(&c.id.0) {
                continue;
            }
            crate::extract::bound_post(&mut c);
            comment_records.push(super::post_record(
                &c,
                &post.url,
                &page_records,
                &responses,
                date,
            ));
            new += 1;
        }
        records.extend(page_records);
        records.extend(comment_records);
        gone.extend(page.gone.into_iter().map(|(id, g)| GoneComment {
            id: id.0,
            outcome: g.outcome,
            cause: g.cause,
            message: g.message,
        }));
        if let Some(words) = page.closed {
            status = ThreadStatus::Closed;
            message = Some(words);
            break;
        }
        for m in page.more {
            if cursors.insert(m.clone()) {
                queue.push_back(Some(m));
            }
        }
    }
    if status == ThreadStatus::Complete && !queue.is_empty() {
        status = ThreadStatus::Limit;
    }
    records.push(provenance(&records));
    let thread = ThreadRecord {
        samizdat: THREAD_FORMAT.into(),
        post_id: post.id.0.clone(),
        at: date.to_string(),
        status,
        message,
        limit,
        listed,
        gone,
        record_ids: records.iter().map(|r| r.id().to_string()).collect(),
    };
    records.push(thread.to_record());
    Some((records, thread, new))
}

/// Ties a comment to the post it was read under: `thread_of` is the captured post's id
/// (the form the archive knows it by, whatever the platform's answer called it), and an
/// answer to the post itself has no `reply_to`.
fn attach(c: &mut Post, post: &Post) {
    let t = c.thread.get_or_insert_with(|| Thread {
        thread_of: post.id.clone(),
        reply_to: None,
        kind: ThreadKind::Comment,
        order: String::new(),
    });
    t.thread_of = post.id.clone();
    if t.reply_to.as_ref() == Some(&post.id) {
        t.reply_to = None;
        if t.kind == ThreadKind::Reply {
            t.kind = ThreadKind::Comment;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_tied_to_the_post_it_was_read_under() {
        let post = Post::new(
            "bluesky",
            "did:plc:a/1",
            "https://bsky.app/profile/did:plc:a/post/1",
        );
        let mut c = Post::new(
            "bluesky",
            "did:plc:b/2",
            "https://bsky.app/profile/did:plc:b/post/2",
        );
        c.thread = Some(Thread {
            thread_of: crate::model::PostId("bluesky:alice.example/1".into()),
            reply_to: Some(post.id.clone()),
            kind: ThreadKind::Reply,
            order: "tree".into(),
        });
        attach(&mut c, &post);
        let t = c.thread.unwrap();
        assert_eq!(t.thread_of, post.id);
        assert_eq!(t.reply_to, None, "an answer to the post itself");
        assert_eq!(t.kind, ThreadKind::Comment);
        let mut bare = Post::new("x", "2", "https://x.example/2");
        attach(&mut bare, &post);
        assert_eq!(bare.thread.unwrap().kind, ThreadKind::Comment);
    }

    #[test]
    fn pages_are_bounded_by_the_limit() {
        assert_eq!(max_pages(0), 8);
        assert!(max_pages(200) >= 200);
        assert_eq!(max_pages(usize::MAX), usize::MAX);
    }
}
