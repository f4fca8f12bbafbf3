//! Polling a watched account, channel or feed: new posts are captured at once, known
//! ones seen unchanged count as live checks. Pages after the first are read when
//! `--backfill` asks for more posts, or when the oldest post of a page is new (the
//! account posted more than a page since the last poll), up to `[watch] max_pages`.

use super::schedule::{self, jitter, next_check, ts};
use super::{Report, Watcher, check_record};
use crate::capture;
use crate::model::{Outcome, Post};
use crate::platforms::{self, Finding, PlanContext};
use crate::store::index::{CheckRecord, WatchRecord, WatchRow};
use crate::store::warc;
use std::collections::HashSet;

impl Watcher {
    /// Polls a watched account: new posts are captured and watched at once; known posts
    /// in the fresh pages count as `live` checks (and push their next check back).
    pub async fn poll_account(&self, row: &WatchRow) -> Vec<Report> {
        let parsed = match capture::parse_url(&row.url) {
            Ok(u) => u,
            Err(e) => return vec![Report::failed(&row.url, e)],
        };
        let Some((platform, target)) = platforms::recognise(&parsed) else {
            return vec![Report::failed(&row.url, "no platform recognises it")];
        };
        // The host the poll asks (for a `feed:` URI, the feed's own host).
        let host = super::request_host(&row.url, true);
        // A feed lists links anywhere; it speaks for the posts of its own site only (a
        // sighting there is a `live` check). A platform's timeline is the platform's own.
        let feed_at = (platform.name() == "feed").then(|| {
            platforms::feed::strip_feed_scheme(parsed.as_str())
                .and_then(|s| url::Url::parse(&s).ok())
                .unwrap_or_else(|| parsed.clone())
        });
        let speaks_for = |link: &str| match &feed_at {
            None => true,
            Some(f) => url::Url::parse(link).is_ok_and(|l| crate::extract::same_site(f, &l)),
        };
        let ctx = PlanContext {
            now: self.now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            settings: self.fetcher.platform_settings(platform.name()),
        };
        let n = self.now();
        let added = ts(&row.added_at).unwrap_or(n);
        let backfill = row.backfill.unwrap_or(0) as usize;
        let first_poll = row.last_polled.is_none();
        let mut records = vec![];
        let mut responses = vec![];
        let mut cursor: Option<String> = None;
        let mut pages = 0usize;
        let mut listed = 0usize;
        let mut known_n = 0usize;
        let mut to_capture: Vec<(String, Option<String>, bool)> = vec![];
        let mut queued: HashSet<String> = HashSet::new();
        let mut sightings: Vec<CheckRecord> = vec![];
        let mut error = None;
        let mut answered = true;
        // The first post id this poll lists, and whether the listing has come down to the
        // one the last poll listed first (undated posts above it are new).
        let mut newest: Option<String> = None;
        let mut below_last_newest = false;
        loop {
            let Some(plan) = platform.timeline_plan(&target, cursor.as_deref(), &ctx) else {
                error = Some(format!(
                    "{} has no timelines samizdat can read",
                    platform.name()
                ));
                break;
            };
            let run = capture::run_plan(
                platform.name(),
                plan,
                self.fetcher_for(&row.origin),
                &mut records,
                &mut responses,
            )
            .await;
            pages += 1;
            let page_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
            let next_cursor = match run.finding {
                Finding::Timeline { posts, next_cursor } => {
                    let mut oldest_is_new = false;
                    let empty = posts.is_empty();
                    let known = self.known_posts(&posts).await;
                    for (p, (known, watched)) in posts.into_iter().zip(known) {
                        let rank = listed;
                        listed += 1;
                        if newest.is_none() {
                            newest = Some(p.id.0.clone());
                        }
                        if row.newest.as_deref() == Some(p.id.0.as_str()) {
                            below_last_newest = true;
                        }
                        oldest_is_new = false;
                        match known {
                            Some(k) => {
                                known_n += 1;
                                if k.content_fingerprint() == p.content_fingerprint()
                                    && speaks_for(&p.url)
                                {
                                    sightings.push(self.sighting(
                                        watched,
                                        &p.id.0,
                                        n,
                                        run.last_status,
                                        &host,
                                        &page_ids,
                                    ));
                                }
                            }
                            None => {
                                // Posted after the account was added. An undated post
                                // is new when it is listed above the post the last poll
                                // listed first (so the first poll of an undated feed does
                                // not capture all of it).
                                let fresh = match p.created_at.as_deref().and_then(ts) {
                                    Some(c) => c >= added,
                                    None => !first_poll && !below_last_newest,
                                };
                                if (fresh || rank < backfill) && queued.insert(p.url.clone()) {
                                    to_capture.push((p.url.clone(), Some(row.url.clone()), fresh));
                                }
                                oldest_is_new = fresh;
                            }
                        }
                    }
                    let want_more = listed < backfill || (!first_poll && oldest_is_new && !empty);
                    next_cursor.filter(|_| want_more && !empty && pages < self.cfg.max_pages)
                }
                Finding::Gone(g) => {
                    answered = g.outcome != Outcome::Unreachable;
                    error = Some(format!(
                        "{}: {}",
                        g.outcome.as_str(),
                        g.message.unwrap_or_default()
                    ));
                    None
                }
                Finding::Broken { endpoint, missing } => {
                    answered = false;
                    error = Some(format!("{endpoint}: unexpected answer, missing {missing}"));
                    None
                }
                _ => {
                    answered = false;
                    error = Some("not a timeline".into());
                    None
                }
            };
            match next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        self.stamp(&mut records);
        let page_ids: Vec<String> = records.iter().map(|r| r.id().to_string()).collect();
        records.extend(sightings.iter().map(check_record));
        let every = schedule::every(row.every.as_deref()).unwrap_or(self.cfg.account_interval);
        let next = jitter(&self.cfg, n, schedule::add(n, every));
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "polled".into(),
            url: row.url.clone(),
            kind: "account".into(),
            every: row.every.clone(),
            backfill: row.backfill,
            at: Some(warc::warc_date(n)),
            next_check: Some(warc::warc_date(next)),
            error: error.clone(),
            record_ids: page_ids,
            host: Some(host),
            answered: Some(answered),
            newest,
            ..Default::default()
        };
        // New posts first, so a crash between them and the poll record repeats the poll
        // (and finds them known) rather than missing them.
        let new = to_capture.len();
        let mut out = self.add_posts(to_capture, None, &row.origin).await;
        records.push(self.watch_record(&w));
        let mut rep = Report::new(&row.url, "polled");
        rep.error = error;
        rep.next_check = w.next_check.clone();
        if !answered {
            rep.outcome = Some(Outcome::Unreachable);
        }
        // What the listing held: new posts (captured now) and those already archived.
        let pages_note = if pages > 1 {
            format!(" on {pages} pages")
        } else {
            String::new()
        };
        if answered {
            let older = listed.saturating_sub(new + known_n);
            let mut m = format!("{listed} listed{pages_note}: {new} new, {known_n} already known");
            if older > 0 {
                m += &format!(", {older} older not captured (--backfill captures them)");
            }
            rep.message = Some(m);
        }
        if let Err(e) = self.append(records).await {
            rep = Report::failed(&row.url, e);
        }
        out.insert(0, rep);
        out
    }

    /// How many entries the first page of an account's or feed's listing holds now (what
    /// `watch add` tells), or why it could not be read. Nothing is written.
    pub async fn listing_count(&self, url: &str, origin: &str) -> Result<usize, String> {
        let parsed = capture::parse_url(url).map_err(|e| e.to_string())?;
        let (platform, target) =
            platforms::recognise(&parsed).ok_or_else(|| "no platform recognises it".to_string())?;
        let ctx = PlanContext {
            now: self.now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            settings: self.fetcher.platform_settings(platform.name()),
        };
        let plan = platform
            .timeline_plan(&target, None, &ctx)
            .ok_or_else(|| format!("{} has no timelines samizdat can read", platform.name()))?;
        let (mut records, mut responses) = (vec![], vec![]);
        let run = capture::run_plan(
            platform.name(),
            plan,
            self.fetcher_for(origin),
            &mut records,
            &mut responses,
        )
        .await;
        match run.finding {
            Finding::Timeline { posts, .. } => Ok(posts.len()),
            Finding::Gone(g) => Err(format!(
                "{}{}",
                g.outcome.as_str(),
                g.message.map(|m| format!(": {m}")).unwrap_or_default()
            )),
            Finding::Broken { endpoint, missing } => {
                Err(format!("{endpoint}: unexpected answer, missing {missing}"))
            }
            _ => Err("not a timeline".into()),
        }
    }

    /// For each post of a timeline page, the archive's copy (by id, or by URL: a feed
    /// entry linking to a share link has another id than the post its capture found)
    /// and, when watched, its first sighting and interval. One index read per page.
    async fn known_posts(
        &self,
        posts: &[Post],
    ) -> Vec<(Option<Post>, Option<(String, Option<String>)>)> {
        let keys: Vec<(String, String)> = posts
            .iter()
            .map(|p| (p.id.0.clone(), p.url.clone()))
            .collect();
        let n = keys.len();
        let found = self
            .read(move |ix| {
                keys.iter()
                    .map(|(id, url)| {
                        let known = ix.post(id).ok().flatten().or_else(|| {
                            super::resolve(ix, url).and_then(|id| ix.post(&id).ok().flatten())
                        });
                        let watched = ix.watched_post(id).ok().flatten();
                        (known, watched)
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        found.unwrap_or_else(|e| {
            tracing::warn!("{e}");
            (0..n).map(|_| (None, None)).collect()
        })
    }

    /// A post seen unchanged in a fresh timeline page: a `live` check resting on the
    /// page's records. A watched post's next check moves to its next slot, which saves a
    /// request when politeness limits what can be checked.
    fn sighting(
        &self,
        watched: Option<(String, Option<String>)>,
        post_id: &str,
        n: jiff::Timestamp,
        http_status: Option<u16>,
        host: &str,
        page_ids: &[String],
    ) -> CheckRecord {
        let next = watched.map(|(first, every)| {
            let first = ts(&first).unwrap_or(n);
            warc::warc_date(next_check(
                &self.cfg,
                first,
                n,
                schedule::every(every.as_deref()),
            ))
        });
        CheckRecord {
            http_status,
            host: Some(host.to_string()),
            next_check: next,
            ..CheckRecord::new(
                post_id,
                &warc::warc_date(n),
                Outcome::Live,
                "timeline",
                page_ids.to_vec(),
            )
        }
    }
}
