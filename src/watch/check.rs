//! Checking one watched post: its exchanges, the check record (carrying the main exchange
//! itself when its answer repeated an earlier one's payload, else a revisit record in
//! place of the response), and the cause of a deletion learned from a stored repost.

use super::schedule::{self, add, next_check, ts};
use super::{Report, Watcher, check_record, resolve};
use crate::capture;
use crate::error::Result;
use crate::model::{Outcome, Post};
use crate::platforms::{self, Finding, Job, PlanContext, Target};
use crate::store::bodies::Exchange;
use crate::store::index::CheckRecord;
use crate::store::state::State;
use crate::store::warc::{self, Record};

impl Watcher {
    /// Checks one watched post now: writes its exchanges and a check record (and, for
    /// `edited`, a new post record; for an unchanged answer, a revisit record).
    pub async fn check_post(&self, url: &str, post_id: &str, every: Option<&str>) -> Report {
        self.check_post_in_slot(url, post_id, every, None, |_| {})
            .await
    }

    /// [`Watcher::check_post`] holding one of `run_once`'s slots, given back once the
    /// records are handed to the writer: the wait for the disk is shared with other
    /// checks (group commit) while new ones use the network. `seen` hears the outcome
    /// just before the slot is given back (so a failing host is known before the next
    /// check of it may start).
    pub(super) async fn check_post_in_slot(
        &self,
        url: &str,
        post_id: &str,
        every: Option<&str>,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
        seen: impl FnOnce(Outcome),
    ) -> Report {
        let mut report = Report::new(url, "checked");
        report.post_id = Some(post_id.to_string());
        let id = post_id.to_string();
        let today = self.date_now();
        let read = self
            .read(move |ix| {
                let stored: Option<Post> = ix.post(&id).ok().flatten();
                let last = ix.last_check(&id).ok().flatten();
                let capture_responses = ix.capture_responses(&id).unwrap_or_default();
                // A post any API entry watches is checked under the guard (an error: so
                // is this).
                let from_api = ix.watched_from_api(&id).unwrap_or(true);
                let (state, first) = ix
                    .post_state(&id)
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| ("live".into(), today));
                (stored, last, capture_responses, from_api, state, first)
            })
            .await;
        let (stored, last, capture_responses, from_api, state, first) = match read {
            Ok(r) => r,
            Err(e) => return Report::failed(url, e),
        };
        // Known only from gone answers (gone at its first capture): no post record yet.
        let never_seen = State::parse(&state).is_some_and(State::never_seen_live);
        let check_url = stored.as_ref().map(|p| p.url.clone()).unwrap_or(url.into());
        let parsed = match capture::parse_url(&check_url) {
            Ok(u) => u,
            Err(e) => return Report::failed(url, e),
        };
        let Some((platform, mut target)) = platforms::recognise(&parsed) else {
            return Report::failed(url, format!("no platform recognises {check_url}"));
        };
        // The link the post was watched by may carry what its canonical URL lacks
        // (Xiaohongshu shows a note to anonymous readers only with the link's
        // `xsec_token`): when it names the same post, it is the one asked.
        if let Target::Post { platform_id, .. } = &target
            && let Ok(w) = capture::parse_url(url)
            && let Some((p, t @ Target::Post { .. })) = platforms::recognise(&w)
            && p.name() == platform.name()
            && matches!(&t, Target::Post { platform_id: id, .. } if id == platform_id)
        {
            target = t;
        }
        let ctx = PlanContext {
            now: self.now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            settings: self.fetcher.platform_settings(platform.name()),
        };
        let plan = platform.post_plan(&target, Job::Check, &ctx);
        let mut records = vec![];
        let mut responses = vec![];
        let fetcher = if from_api {
            &self.api_fetcher
        } else {
            &self.fetcher
        };
        let run =
            capture::run_plan(platform.name(), plan, fetcher, &mut records, &mut responses).await;
        self.stamp(&mut records);
        // The host the check asks first, in the platform's terms (host overrides aside):
        // the key of the per-host backoff, the same one the scheduler uses.
        let host = Some(super::request_host(&check_url, false));
        // The main response, and a revisit when its payload equals the last check's.
        let mut payload_digest = None;
        // The main exchange as the check record can carry it (when the answer repeats an
        // earlier payload), with its request's and response's places in `records`.
        let mut repeated: Option<(Exchange, usize, usize)> = None;
        let mut response_id = run.last_response.clone();
        let mut response_uri = None;
        let mut response_date = None;
        if let Some(rid) = &run.last_response
            && let Some(pos) = records.iter().position(|r| r.id() == rid)
        {
            let r = &records[pos];
            payload_digest = r.field("WARC-Payload-Digest").map(str::to_string);
            response_uri = r.target_uri().map(str::to_string);
            response_date = Some(r.date().to_string());
            // What this answer may repeat: the last check's response, else the same URL's
            // response in the post's latest capture (so the first check can be a revisit).
            let mut earlier: Vec<(String, String, String, String)> = vec![];
            if let Some(l) = &last
                && let (Some(d), Some(id), Some(u), Some(t)) = (
                    &l.payload_digest,
                    &l.response_id,
                    &l.response_uri,
                    &l.response_date,
                )
            {
                earlier.push((d.clone(), id.clone(), u.clone(), t.clone()));
            }
            earlier.extend(capture_responses.iter().filter_map(|c| {
                Some((
                    c.payload_digest.clone()?,
                    c.id.clone(),
                    c.target.clone()?,
                    c.date.clone(),
                ))
            }));
            if r.field("WARC-Truncated").is_none()
                && let Some((_, to, to_uri, to_date)) = earlier.iter().find(|(d, _, u, _)| {
                    Some(d) == payload_digest.as_ref() && Some(u.as_str()) == r.target_uri()
                })
            {
                repeated = records
                    .iter()
                    .position(|q| Some(q.id()) == r.field("WARC-Concurrent-To"))
                    .and_then(|req| Some((Exchange::of(&records[req], r)?, req, pos)));
                let rv = warc::to_revisit(r, to, to_uri, to_date);
                records[pos] = rv;
                response_id = Some(to.clone());
                response_uri = Some(to_uri.clone());
                response_date = Some(to_date.clone());
            }
        }
        let (mut outcome, mut cause, mut message, new_post) = match run.finding {
            Finding::Post(p) => {
                let same = stored
                    .as_ref()
                    .is_some_and(|s| s.content_fingerprint() == p.content_fingerprint());
                if same {
                    (Outcome::Live, None, None, None)
                } else if never_seen {
                    // A post known only from gone answers, seen live at last: `live`,
                    // with the post record of its first capture.
                    (Outcome::Live, None, None, Some(p))
                } else {
                    (Outcome::Edited, None, None, Some(p))
                }
            }
            Finding::Gone(g) => (g.outcome, g.cause, g.message, None),
            Finding::Broken { endpoint, missing } => (
                Outcome::Unreachable,
                None,
                Some(format!("{endpoint}: unexpected answer, missing {missing}")),
                None,
            ),
            Finding::Timeline { .. } | Finding::Redirected { .. } | Finding::Comments(_) => (
                Outcome::Unreachable,
                None,
                Some("the post URL no longer names one post".into()),
                None,
            ),
        };
        // Gone without a reason: a repost we hold may carry the platform's words about
        // its original ("此微博已被作者删除" …). Re-read it, and keep that exchange too.
        let mut via = None;
        if outcome == Outcome::Deleted
            && matches!(cause, None | Some(crate::model::Cause::Unknown))
            && let Some((why, repost_id)) = self
                .cause_from_reposts(post_id, &mut records, &mut responses)
                .await
        {
            outcome = why.outcome;
            cause = why.cause;
            message = Some(match (message, why.message) {
                (Some(own), Some(theirs)) => {
                    format!("{own}; a repost ({repost_id}) says: {theirs}")
                }
                (None, Some(theirs)) => format!("a repost ({repost_id}) says: {theirs}"),
                (own, None) => own.unwrap_or_default(),
            });
            via = Some(format!("repost:{repost_id}"));
            self.stamp(&mut records);
        }
        // An identical check (nothing new to store): the check record carries the main
        // exchange, and rests on the earlier response whose payload the answer repeated;
        // the request and revisit records are not written. Not when another record names
        // either of them (a TLS certificate's `metadata` record refers to its response).
        let mut exchange = None;
        if new_post.is_none()
            && let Some((ex, req, resp)) = repeated
            && let Some(earlier) = &response_id
        {
            let ids = [
                records[req].id().to_string(),
                records[resp].id().to_string(),
            ];
            let named = records.iter().enumerate().any(|(i, r)| {
                i != req && i != resp && r.fields.iter().any(|(_, v)| ids.contains(v))
            });
            if !named {
                records = records
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i != req && *i != resp)
                    .map(|(_, r)| r)
                    .collect();
                exchange = Some((ex, earlier.clone()));
            }
        }
        let mut record_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
        if let Some((_, earlier)) = &exchange {
            record_ids.push(earlier.clone());
        }
        let exchange = exchange.map(|(ex, _)| ex);
        let mut post_record = None;
        if let Some(mut p) = new_post {
            let mut warnings = vec![];
            capture::fetch_media(&mut p, &self.fetcher, &mut records, &mut warnings).await;
            self.stamp(&mut records);
            let rec = capture::post_record(&p, url, &records, &responses, &self.date_now());
            record_ids = records.iter().map(|r| r.id().to_string()).collect();
            post_record = Some(rec.id().to_string());
            record_ids.push(rec.id().to_string());
            records.push(rec);
        }
        let n = self.now();
        let first_ts = ts(&first).unwrap_or(n);
        // A first gone answer is confirmed soon, and a check that learnt nothing
        // (unreachable) is tried again soon (the host's backoff paces it); otherwise the
        // decaying schedule.
        // (A page not found at its first capture stays `not_found` whatever gone answer
        // comes: no follow-up is needed to confirm anything.)
        let next = if (outcome.is_gone() && state != outcome.as_str() && state != "not_found")
            || outcome == Outcome::Unreachable
        {
            add(n, self.cfg.follow_up)
        } else {
            next_check(&self.cfg, first_ts, n, schedule::every(every))
        };
        let c = CheckRecord {
            samizdat: "check/1".into(),
            post_id: post_id.to_string(),
            at: warc::warc_date(n),
            outcome,
            cause,
            message: message.clone(),
            http_status: run.last_status,
            record_ids,
            post_record,
            via,
            host,
            payload_digest,
            response_id,
            response_uri,
            response_date,
            next_check: Some(warc::warc_date(next)),
            url: None,
            requested_url: None,
            exchange,
        };
        records.push(check_record(&c));
        // The conversation, when due, in the same batch: network work, so in the slot.
        let mut comments = None;
        if matches!(outcome, Outcome::Live | Outcome::Edited)
            && let Some(p) = stored.as_ref()
            && let Some((mut more, summary)) = self
                .reread_comments(platform, &target, p, &first, &ctx, fetcher)
                .await
        {
            self.stamp(&mut more);
            records.extend(more);
            comments = Some(summary);
        }
        seen(outcome);
        drop(slot);
        match self.append(records).await {
            Ok(()) => {
                report.outcome = Some(outcome);
                report.cause = cause;
                report.message = message;
                report.next_check = c.next_check;
                report.comments = comments;
                report
            }
            Err(e) => Report::failed(url, e),
        }
    }

    /// Re-checks the reposts of `post_id` held in the archive and returns the state their
    /// embedded original now shows (`extra.original_state`, set by the platform reader),
    /// with the repost's id. The exchanges are added to `records`.
    async fn cause_from_reposts(
        &self,
        post_id: &str,
        records: &mut Vec<Record>,
        responses: &mut Vec<String>,
    ) -> Option<(crate::model::Gone, String)> {
        let id = post_id.to_string();
        let reposts = self.read(move |ix| ix.reposts_of(&id)).await.ok()?.ok()?;
        for (repost_id, repost_url) in reposts {
            let Ok(u) = capture::parse_url(&repost_url) else {
                continue;
            };
            let Some((platform, target)) = platforms::recognise(&u) else {
                continue;
            };
            let ctx = PlanContext {
                now: self.now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
                settings: self.fetcher.platform_settings(platform.name()),
            };
            let plan = platform.post_plan(&target, Job::Check, &ctx);
            let run =
                capture::run_plan(platform.name(), plan, &self.fetcher, records, responses).await;
            let Finding::Post(p) = run.finding else {
                continue;
            };
            // What the platform reader found about the original (Weibo's `original_state`).
            #[derive(serde::Deserialize)]
            struct OriginalState {
                outcome: Option<String>,
                cause: Option<String>,
                message: Option<String>,
            }
            let Some(Ok(st)) = p
                .extra
                .get("original_state")
                .map(|v| serde_json::from_value::<OriginalState>(v.clone()))
            else {
                continue;
            };
            let outcome = match st.outcome.as_deref() {
                Some("deleted") => Outcome::Deleted,
                Some("restricted") => Outcome::Restricted,
                Some("account_gone") => Outcome::AccountGone,
                _ => continue,
            };
            let cause = match st.cause.as_deref() {
                Some("author") => Some(crate::model::Cause::Author),
                Some("platform") => Some(crate::model::Cause::Platform),
                Some("unknown") => Some(crate::model::Cause::Unknown),
                _ => None,
            };
            let message = st.message;
            return Some((
                crate::model::Gone {
                    outcome,
                    cause,
                    message,
                },
                repost_id,
            ));
        }
        None
    }

    /// `watch check URL...` / `--all`: check now, whatever the schedule says.
    pub async fn check_now(
        &self,
        inputs: &[String],
        all: bool,
        mut on_report: impl FnMut(&Report),
    ) -> Result<()> {
        let inputs_owned = inputs.to_vec();
        let (rows, resolved) = self
            .read(move |ix| -> Result<_> {
                let rows = ix.watchlist(None)?;
                let resolved: Vec<Option<String>> =
                    inputs_owned.iter().map(|i| resolve(ix, i)).collect();
                Ok((rows, resolved))
            })
            .await??;
        let mut jobs: Vec<(String, String, Option<String>)> = vec![];
        if all {
            for r in rows.iter().filter(|r| r.kind == "post") {
                if let Some(id) = &r.post_id {
                    jobs.push((r.url.clone(), id.clone(), r.every.clone()));
                }
            }
        }
        let mut polls = vec![];
        for (i, id) in inputs.iter().zip(resolved) {
            // A watched account or feed (named as added, or by any URL of it) is polled.
            let acct = capture::parse_url(i)
                .ok()
                .and_then(|u| platforms::recognise(&u))
                .and_then(|(_, t)| match t {
                    platforms::Target::Account { url, .. } => Some(url),
                    _ => None,
                });
            if let Some(row) = rows
                .iter()
                .find(|r| r.kind == "account" && (&r.url == i || Some(&r.url) == acct.as_ref()))
            {
                polls.push(row.clone());
                continue;
            }
            if acct.is_some() {
                on_report(&Report::failed(
                    i,
                    "not on the watchlist: `samizdat watch add URL` first",
                ));
                continue;
            }
            match id {
                Some(id) => {
                    let every = rows
                        .iter()
                        .find(|r| r.post_id.as_deref() == Some(&id))
                        .and_then(|r| r.every.clone());
                    jobs.push((i.clone(), id, every));
                }
                None => on_report(&Report::failed(
                    i,
                    "not in this archive: `samizdat watch add URL` first",
                )),
            }
        }
        for row in polls {
            self.poll_account(&row)
                .await
                .iter()
                .for_each(&mut on_report);
        }
        for (u, id, every) in jobs {
            let r = self.check_post(&u, &id, every.as_deref()).await;
            on_report(&r);
        }
        Ok(())
    }
}
