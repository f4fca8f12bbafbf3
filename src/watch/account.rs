//! Polling a watched account, channel or feed: new posts are captured at once, known
//! ones seen unchanged count as live checks.

use super::schedule::{add, jitter, now, ts};
use super::{Report, Watcher, check_record, stamp, watch_record};
use crate::capture;
use crate::config::Watch as WatchConfig;
use crate::model::{Outcome, Post};
use crate::platforms::{self, Finding, PlanContext};
use crate::store::index::{CheckRecord, WatchRecord, WatchRow};
use crate::store::warc;

impl Watcher {
    /// Polls a watched account: new posts are captured and watched at once; known posts
    /// in the fresh page count as `live` checks.
    pub async fn poll_account(&self, row: &WatchRow) -> Vec<Report> {
        let mut out = vec![];
        let parsed = match capture::parse_url(&row.url) {
            Ok(u) => u,
            Err(e) => return vec![Report::failed(&row.url, e)],
        };
        let Some((platform, target)) = platforms::recognise(&parsed) else {
            return vec![Report::failed(&row.url, "no platform recognises it")];
        };
        let ctx = PlanContext {
            now: now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            has_user_cookies: parsed
                .host_str()
                .is_some_and(|h| self.fetcher.has_cookies_for(h)),
        };
        let Some(plan) = platform.timeline_plan(&target, None, &ctx) else {
            return vec![Report::failed(
                &row.url,
                format!("{} has no timelines samizdat can read", platform.name()),
            )];
        };
        let mut records = vec![];
        let mut responses = vec![];
        let run = capture::run_plan(
            platform.name(),
            plan,
            &self.fetcher,
            &mut records,
            &mut responses,
        )
        .await;
        stamp(&mut records);
        let page_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
        let n = now();
        let mut error = None;
        let mut to_capture: Vec<String> = vec![];
        match run.finding {
            Finding::Timeline { posts, .. } => {
                let ix = self.index().ok();
                let added = ts(&row.added_at).unwrap_or(n);
                let backfill = row.backfill.unwrap_or(0) as usize;
                let first_poll = row.last_polled.is_none();
                for (rank, p) in posts.iter().enumerate() {
                    let known = ix
                        .as_ref()
                        .and_then(|ix| ix.post_json(&p.id.0).ok().flatten())
                        .and_then(|v| serde_json::from_value::<Post>(v).ok());
                    match known {
                        Some(k) => {
                            if k.content_fingerprint() == p.content_fingerprint() {
                                let c = CheckRecord {
                                    samizdat: "check/1".into(),
                                    post_id: p.id.0.clone(),
                                    at: warc::warc_date(n),
                                    outcome: Outcome::Live,
                                    cause: None,
                                    message: None,
                                    http_status: run.last_status,
                                    record_ids: page_ids.clone(),
                                    post_record: None,
                                    via: Some("timeline".into()),
                                    host: parsed.host_str().map(str::to_string),
                                    payload_digest: None,
                                    response_id: None,
                                    response_uri: None,
                                    response_date: None,
                                    next_check: None,
                                };
                                records.push(check_record(&c));
                            }
                        }
                        None => {
                            let fresh = p
                                .created_at
                                .as_deref()
                                .and_then(ts)
                                .is_none_or(|c| c >= added);
                            if fresh || rank < backfill {
                                to_capture.push(p.url.clone());
                            }
                        }
                    }
                }
            }
            Finding::Gone(g) => {
                error = Some(format!(
                    "{}: {}",
                    g.outcome.as_str(),
                    g.message.unwrap_or_default()
                ))
            }
            Finding::Broken { endpoint, missing } => {
                error = Some(format!("{endpoint}: unexpected answer, missing {missing}"))
            }
            _ => error = Some("not a timeline".into()),
        }
        let every = row
            .every
            .as_deref()
            .unwrap_or(&self.cfg.account_interval)
            .to_string();
        let next = jitter(&self.cfg, n, add(n, WatchConfig::dur(&every)));
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "polled".into(),
            url: row.url.clone(),
            kind: "account".into(),
            every: row.every.clone(),
            backfill: row.backfill,
            post_id: None,
            via: None,
            at: Some(warc::warc_date(n)),
            next_check: Some(warc::warc_date(next)),
            error: error.clone(),
            record_ids: page_ids,
        };
        // New posts first, so a crash between them and the poll record repeats the poll
        // (and finds them known) rather than missing them.
        for u in to_capture {
            out.push(self.add_post(&u, None, Some(row.url.clone())).await);
        }
        records.push(watch_record(&w));
        let mut rep = Report::new(&row.url, "polled");
        rep.error = error;
        rep.next_check = w.next_check.clone();
        if let Err(e) = self.append(records).await {
            rep = Report::failed(&row.url, e);
        }
        out.insert(0, rep);
        out
    }
}
