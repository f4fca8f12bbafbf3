//! Watching the conversation around a watched post (docs/comments.md): at a check that
//! saw the post there, its comments are re-read when due (`[watch] comments_every` in
//! the first day, then daily until `daily_until`). New comments are captured; a comment
//! the archive holds that a *complete* re-read no longer lists becomes `not_listed` (a
//! check record resting on the thread record), never `deleted`; one listed again is
//! `live`; one the listing names as gone gets a check with the platform's verdict.

use super::Watcher;
use super::schedule::{add, ts};
use crate::capture::Fetcher;
use crate::capture::comments::{ThreadSummary, read_thread};
use crate::model::{Cause, Outcome, Post};
use crate::platforms::{PlanContext, Platform, Target};
use crate::store::bodies::{CheckRecord, ThreadStatus};
use crate::store::state::State;
use crate::store::views::CommentView;
use crate::store::warc::Record;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// `via` of the checks a thread re-read writes.
pub const VIA_THREAD: &str = "thread";

const DAY: Duration = Duration::from_secs(86_400);

/// Whether a post first captured at `first`, whose conversation was last read at `last`
/// (`None`: never), is due for a re-read at `now`.
pub fn comments_due(
    every: Duration,
    daily_until: Duration,
    first: jiff::Timestamp,
    last: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
) -> bool {
    if every.is_zero() || now > add(first, daily_until) {
        return false;
    }
    let interval = if now < add(first, DAY) { every } else { DAY };
    last.is_none_or(|l| now >= add(l, interval))
}

impl Watcher {
    /// Re-reads the conversation of `post` when due: the records to append with the
    /// check, and what the reading came to. `None` when not due, or the platform shows
    /// no conversation.
    #[allow(clippy::too_many_arguments)] // one fact each, from the check that calls it
    pub(super) async fn reread_comments(
        &self,
        platform: &'static dyn Platform,
        target: &Target,
        post: &Post,
        first_captured: &str,
        ctx: &PlanContext,
        fetcher: &Fetcher,
    ) -> Option<(Vec<Record>, ThreadSummary)> {
        if self.comments_limit == 0 || self.cfg.comments_every.is_zero() {
            return None;
        }
        let id = post.id.0.clone();
        let (conversation, comments) = self.read(move |ix| ix.thread(&id)).await.ok()?.ok()?;
        let n = self.now();
        let last = conversation.as_ref().and_then(|c| ts(&c.at));
        let first = ts(first_captured).unwrap_or(n);
        if !comments_due(
            self.cfg.comments_every,
            self.cfg.daily_until,
            first,
            last,
            n,
        ) {
            return None;
        }
        let mut states: HashMap<String, State> = HashMap::new();
        flatten(&comments, &mut states);
        let known: HashSet<String> = states.keys().cloned().collect();
        let date = self.date_now();
        let (mut records, thread, new) = read_thread(
            platform,
            target,
            post,
            ctx,
            self.comments_limit,
            &known,
            fetcher,
            &date,
            &|recs: &[Record]| {
                crate::capture::provenance::ProvenanceRecord::of(
                    &self.run,
                    crate::capture::provenance::Options {
                        no_media: true,
                        comments: self.comments_limit,
                    },
                    &post.id.0,
                    recs,
                    &date,
                )
                .to_record()
            },
        )
        .await?;
        let thread_record = records.last().map(|r| r.id().to_string())?;
        let listed: HashSet<&str> = thread.listed.iter().map(String::as_str).collect();
        let check = |comment: &str, outcome, cause, message| CheckRecord {
            cause,
            message,
            ..CheckRecord::new(
                comment,
                &date,
                outcome,
                VIA_THREAD,
                vec![thread_record.clone()],
            )
        };
        let mut checks = vec![];
        let said_gone: HashSet<&str> = thread.gone.iter().map(|g| g.id.as_str()).collect();
        for g in &thread.gone {
            if known.contains(&g.id) {
                checks.push(check(&g.id, g.outcome, g.cause, g.message.clone()));
            }
        }
        // Sorted, so the records of one re-read come out the same every time.
        let mut ids: Vec<(&String, &State)> = states.iter().collect();
        ids.sort_by(|a, b| a.0.cmp(b.0));
        for (cid, state) in ids {
            if said_gone.contains(cid.as_str()) {
                continue;
            }
            let seen = listed.contains(cid.as_str());
            if seen && *state == State::NotListed {
                checks.push(check(cid, Outcome::Live, None, None));
            } else if !seen
                && thread.status == ThreadStatus::Complete
                && matches!(state, State::Live | State::Edited)
            {
                checks.push(check(
                    cid,
                    Outcome::NotListed,
                    None::<Cause>,
                    Some(format!(
                        "not listed in a complete reading of the comments of {}",
                        post.id
                    )),
                ));
            }
        }
        records.extend(checks.iter().map(CheckRecord::to_record));
        Some((records, ThreadSummary::of(&thread, new)))
    }
}

/// Every comment's state, replies included.
fn flatten(comments: &[CommentView], out: &mut HashMap<String, State>) {
    for c in comments {
        out.insert(c.post.id.0.clone(), c.state);
        flatten(&c.replies, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn comments_are_reread_hourly_on_the_first_day_then_daily_then_never() {
        let first = t("2026-01-01T00:00:00Z");
        let hour = Duration::from_secs(3600);
        let month = 30 * DAY;
        let due =
            |last: Option<&str>, now: &str| comments_due(hour, month, first, last.map(t), t(now));
        assert!(due(None, "2026-01-01T00:10:00Z"), "never read: due");
        assert!(!due(Some("2026-01-01T00:00:00Z"), "2026-01-01T00:59:00Z"));
        assert!(due(Some("2026-01-01T00:00:00Z"), "2026-01-01T01:00:00Z"));
        // After the first day: daily.
        assert!(!due(Some("2026-01-02T01:00:00Z"), "2026-01-02T05:00:00Z"));
        assert!(due(Some("2026-01-02T01:00:00Z"), "2026-01-03T01:00:00Z"));
        // After daily_until: never.
        assert!(!due(Some("2026-01-10T00:00:00Z"), "2026-02-01T00:00:00Z"));
        assert!(!comments_due(Duration::ZERO, month, first, None, first));
    }
}
