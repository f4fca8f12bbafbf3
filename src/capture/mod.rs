//! Capture: runs platform plans over HTTP and hands the records to the archive.
//!
//! # Concurrency, in one place
//!
//! [`capture_all`] runs up to `http.concurrency` captures at once (each capture's own
//! requests run one after another, so that is also the cap on requests in flight).
//! Every request waits for its host's turn in [`http::Politeness`] first. Finished
//! captures go to one [`Writer`] thread, which owns the archive and appends whatever
//! has queued up as one batch: one lock, one fsync, one checkpoint for many captures
//! (group commit). A capture is reported done only when its batch is durable.
//!
//! Each capture is a tokio task of its own, and encodes its records itself (gzip member,
//! leaf hash, `WARC-Warcinfo-ID` of the file the writer is on: `store::writer`), so the
//! writer thread only appends bytes, fsyncs once per batch, indexes and signs.
//!
//! Known limit (bench/run.sh a, 5,000 ~2 KB pages from nginx, concurrency 32, 2 cores
//! shared with other builds, load average 4 to 10, 2026-12-02): capture runs at 1.02x to
//! 2.1x `wget --warc-file` in the same run (1,160 to 2,450 pages/s; two rounds of three
//! runs, medians 1.08x and 1.11x), far short of the 4x target; the wall clock follows
//! the load more than the code. The same morning, the code before this round (tasks
//! encoding their records, statements cached): 0.58x to 1.25x (600 to 1,030 pages/s);
//! with small answers read on the async worker, the search terms as slices and one
//! `post_urls` claim per distinct URL: 1.34x to 1.49x (1,080 to 1,350 pages/s); with
//! fewer body copies too: the figures above.
//!
//! On the idle machine after this round (2026-12-02, 07:13 UTC, 3 runs): 1.42x, 1.51x,
//! 1.48x (2,742 pages/s against wget's 1,855), CPU 3.1 to 3.4 s for samizdat, 2.4 to
//! 2.5 s for wget.
//!
//! CPU (bench a logs it): 2.9 to 3.8 s of user and system time for 5,000 pages (600 to
//! 770 µs a page, both threads; more when the machine is busy), against 3.6 to 4.4 s
//! measured after the first pass; wget itself took 2.8 to 2.9 s in the same runs (one
//! thread, about 580 µs a page). So 4x wget on two cores (about 4,400 pages/s here)
//! needs at most about 450 µs a page, spread evenly over both cores.
//!
//! Where it goes (`perf record`, the last two profiles): capture tasks 65 to 69%,
//! writer thread 29 to 32%. Deflate is the biggest part, about 15% of all samples (one
//! compressor per thread, reset per record, level 6 kept; memset, likely mostly that
//! reset clearing the hash table, 1.5%), then malloc and free about 11% (the HTML tree,
//! record fields, JSON), memmove 3%, SHA-256 2% (block, payload and leaf digests),
//! HTML-to-text 2 to 3% (copying it word by word instead of char by char did not show
//! in the profile); the writer's share is SQLite (FTS tokeniser, WAL, B-trees) and the
//! post record's JSON read back. Thread hand-overs (kernel wake-ups in the workers) fell
//! from 5.1 to 5.4% of samples to 1.7 to 3.3% when small answers stopped going through
//! the blocking pool. Next steps: a faster allocator, cheaper deflate for the small
//! request records (measured for size first), handing the writer the parsed post
//! instead of its JSON.
//!
//! Session 7 (2026-12-02, 18:47 to 18:55 UTC, load average 4.5 to 5, 5,000 pages, same
//! machine; CPU is user+system of the samizdat process, GNU time): before mimalloc 942 to
//! 1,102 µs a page (three runs), with mimalloc as the binary's allocator (a
//! `#[global_allocator]` in src/main.rs, measured on a branch, not yet merged: it was not
//! through the tests in time) 902 and 912 µs; wget 3.7 to 4.1 s (750 to 830 µs a page)
//! in the same runs, wall ratio 1.0x to 1.2x. Instructions (callgrind, 500 pages, startup included): 5.05 M a page
//! before, 4.74 M with mimalloc (-6%). Where they go, before (per page): deflate 0.90 M
//! (0.69 M of it memset in zlib-rs `reset`/`init_block`: every record's compressor clears
//! its hash tables, three records a page), signing and verifying the checkpoint 0.51 M
//! (the writer signs one per batch and verifies the previous one from disk: 186 batches
//! for 500 pages under valgrind), SQLite 0.25 M, malloc/free 0.21 M, JSON 0.11 M,
//! html5ever 0.04 M. SHA-256 shows as 1.27 M there only because valgrind hides SHA-NI
//! (this CPU has it; natively it was 2% of samples). Next steps, by size: keep the last
//! signed checkpoint in memory instead of reading and verifying it each batch; reuse one
//! deflate state without clearing its tables for tiny records (or store them at level
//! 1); then the post handed to the writer parsed.
//!
//! Session 8 (2026-12-02, 20:38 UTC, load average 3.7 to 4.1, 5,000 pages): with the
//! checkpoint cached, mimalloc tried, and one provenance record more per capture (issue
//! 16), 1.42x, 1.24x, 1.21x wget (1,328 pages/s against 1,100); samizdat 3.19 to 3.45 s of
//! CPU (640 to 690 µs a page), wget 2.70 to 2.77 s (540 µs a page, its one thread); peak
//! RSS 101 to 107 MB (was 63 MB). mimalloc was taken out again: it keeps freed pages, and
//! the capture of a 256 MiB page went to 154 MiB of peak RSS, past the 150 MiB bound
//! (tests/it/security_capture.rs). Why 4x is out of reach here:
//! on the idle machine wget is CPU-bound (2.4 to 2.5 s of CPU in 2.7 s), so 4x its pace
//! is 0.67 s of wall for 5,000 pages, 1.35 s of CPU on both cores, of which nginx takes
//! its share: samizdat would have to spend about 200 µs a page, under half of what wget
//! spends while doing more (the HTML read, the post record, the SQLite and FTS index, the
//! Merkle log and its signed checkpoints, the fsync per batch).

pub mod browser;
pub mod comments;
pub mod http;
pub mod provenance;
pub mod render;

/// The archive's single writer lives in `store` (the room that owns the archive); it is
/// named here too because captures are its main client.
pub use crate::store::writer::{Writer, WriterHandle};
pub use http::{Fetcher, Pacing, is_secret_header};

use crate::error::{Error, Result};
use crate::model::{Media, Outcome, Post};
use crate::platforms::{self, Fetched, Finding, Job, PlanContext, Request, Step, Target};
use crate::store::bodies::{CheckRecord, VIA_CAPTURE};
use crate::store::index::PostRecord;
use crate::store::warc::{Record, kind};
use futures_util::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use url::Url;

/// Most requests one plan may make (a guard against a plan that never finishes).
const MAX_PLAN_STEPS: usize = platforms::MAX_REQUESTS;
/// Most captures waiting for their batch to be durable (bounds the memory of records
/// queued for the writer).
const MAX_AWAITING_DURABILITY: usize = 1024;
/// Answers up to this many decoded bytes are read by their plan on the async worker
/// itself; bigger ones on the blocking pool ([`run_plan`]).
const INLINE_PARSE_BYTES: usize = 64 << 10;
/// Most share-link hops before a platform URL is reached.
const MAX_FOLLOWS: usize = 5;
const ACCOUNT_NOT_POST: &str =
    "this URL is an account, not a post: use `samizdat watch add` to follow it";

/// Choices of one `capture` run.
#[derive(Debug, Clone, Default)]
pub struct CaptureOptions {
    /// Skip pictures and videos.
    pub no_media: bool,
    /// What "now" is for the plans (relative dates) and the post record's date.
    pub clock: crate::clock::Clock,
    /// Most comments, replies and reposts to read with each post (`[capture] comments`,
    /// `--comments`); 0 = none.
    pub comments: usize,
    /// Who, with what and how: written into each batch's provenance record.
    pub run: std::sync::Arc<provenance::RunFacts>,
    /// The browser renders (`[browser]`, `capture --render`); `None`: no capture is rendered.
    pub renderer: Option<Arc<render::Renderer>>,
}

impl CaptureOptions {
    /// The provenance record of a batch of `post_id` whose exchanges are `records`; its
    /// clock warning, if any, goes to `warnings`.
    pub fn provenance(
        &self,
        post_id: &str,
        records: &[Record],
        warnings: &mut Vec<String>,
    ) -> Record {
        self.provenance_with(post_id, records, warnings, None)
    }

    /// [`CaptureOptions::provenance`] of a batch a browser rendered.
    pub fn provenance_with(
        &self,
        post_id: &str,
        records: &[Record],
        warnings: &mut Vec<String>,
        browser: Option<&browser::BrowserFacts>,
    ) -> Record {
        let mut p = provenance::ProvenanceRecord::of(
            &self.run,
            provenance::Options {
                no_media: self.no_media,
                comments: self.comments,
            },
            post_id,
            records,
            &self.clock.warc_date(),
        );
        if let Some(w) = &p.clock.warning {
            warnings.push(w.clone());
        }
        p.browser = browser.map(|b| serde_json::to_value(b).expect("browser facts serialise"));
        p.to_record()
    }
}

/// What became of one URL.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureResult {
    pub url: String,
    pub post_id: Option<String>,
    /// `captured`; `partial` (captured, but a body hit the size limit and is stored
    /// truncated); `gone` (the platform says the post is not there); `not_found` (nothing
    /// at the address, and nothing says a post was ever there: a web page's 404);
    /// `failed`. For `gone` and `not_found` the archive holds the post from a check
    /// record (`post_id`, docs/states.md).
    pub status: &'static str,
    /// For `gone`: the outcome, cause and the platform's own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::model::Cause>,
    pub record_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_indexes: Option<(u64, u64)>,
    pub error: Option<String>,
    /// Non-fatal problems (a picture that could not be fetched).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The conversation read with the post (docs/comments.md); left out when none was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<comments::ThreadSummary>,
    /// The browser render of the capture (docs/render.md), when there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render: Option<crate::store::bodies::RenderFacts>,
}

impl CaptureResult {
    fn failed(url: &str, error: String) -> Self {
        CaptureResult {
            url: url.to_string(),
            post_id: None,
            status: "failed",
            outcome: None,
            cause: None,
            record_ids: vec![],
            leaf_indexes: None,
            error: Some(error),
            warnings: vec![],
            comments: None,
            render: None,
        }
    }
    pub fn ok(&self) -> bool {
        self.status == "captured"
    }
}

/// Captures every URL, at most `concurrency` at once, results in input order.
/// `on_done` is called as each result is known (progress bars, JSON lines).
pub async fn capture_all(
    urls: Vec<String>,
    opts: &CaptureOptions,
    fetcher: Arc<Fetcher>,
    writer: Writer,
    concurrency: usize,
    mut on_done: impl FnMut(&CaptureResult),
) -> Vec<CaptureResult> {
    let mut out = Vec::with_capacity(urls.len());
    // `concurrency` bounds the network work; a capture gives its slot back as soon as
    // its records are handed to the writer, and then waits for them to be durable. So
    // many captures share one fsync (group commit) while `concurrency` others fetch.
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    // Each capture is a task of its own, so captures run on every worker of the runtime
    // (fetching, building and encoding records), not all on the thread that polls this.
    let mut stream = futures_util::stream::iter(urls)
        .map(|u| {
            let f = fetcher.clone();
            let w = writer.clone();
            let o = opts.clone();
            let slots = slots.clone();
            let input = u.clone();
            let mut task = Task(tokio::spawn(async move {
                let slot = slots
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed");
                capture_limited(&input, &o, &f, &w, Some(slot)).await
            }));
            async move {
                match (&mut task.0).await {
                    Ok(r) => r,
                    Err(e) => CaptureResult::failed(&u, format!("the capture stopped: {e}")),
                }
            }
        })
        .buffered(MAX_AWAITING_DURABILITY.max(concurrency));
    while let Some(r) = stream.next().await {
        on_done(&r);
        out.push(r);
    }
    out
}

/// A spawned capture, stopped if its result is no longer wanted (the caller dropped
/// [`capture_all`]'s future): a capture never outlives the call that asked for it.
struct Task(tokio::task::JoinHandle<CaptureResult>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Captures one URL: resolve it to a platform target, run the plan, fetch media, write
/// the post record, append everything.
pub async fn capture_one(
    input: &str,
    opts: &CaptureOptions,
    fetcher: &Fetcher,
    writer: &Writer,
) -> CaptureResult {
    capture_limited(input, opts, fetcher, writer, None).await
}

/// A held slot of the network-work limit, given back before waiting for the disk.
type Slot = Option<tokio::sync::OwnedSemaphorePermit>;

async fn capture_limited(
    input: &str,
    opts: &CaptureOptions,
    fetcher: &Fetcher,
    writer: &Writer,
    mut slot: Slot,
) -> CaptureResult {
    let mut url = match parse_url(input) {
        Ok(u) => u,
        Err(e) => return CaptureResult::failed(input, e.to_string()),
    };
    let mut records: Vec<Record> = vec![];
    let mut responses: Vec<String> = vec![];
    let mut follows = 0;
    let mut decoded_cut: Vec<String> = vec![];
    // The main (last) answer of the plan: what a check record of a gone answer names.
    let mut last_status = None;
    let mut last_response = None;
    let (platform, target, finding, ctx) = loop {
        let Some((platform, target)) = platforms::recognise(&url) else {
            return CaptureResult::failed(input, format!("no platform recognises {url}"));
        };
        if let Target::Account { .. } = &target
            && !platform.captures_accounts()
        {
            // An account is followed with `watch`, not captured as one post (and nothing is
            // fetched for it; the hops of a share link that led here are kept).
            return finish_failed(input, ACCOUNT_NOT_POST.into(), records, writer, &mut slot).await;
        }
        let ctx = PlanContext {
            now: opts.clock.now().to_zoned_datetime(jiff::tz::TimeZone::UTC),
            settings: fetcher.platform_settings(platform.name()),
        };
        let finding = match &target {
            Target::Follow { url: short } => {
                let req = Request::get(parse_url(short).unwrap_or(url.clone()), "share link");
                let r = fetcher.fetch(&req).await;
                records.extend(r.records);
                match r.fetched {
                    Fetched::Response(resp) => Finding::Redirected {
                        url: resp.url.to_string(),
                    },
                    Fetched::Failed(e) => {
                        return finish_failed(input, e, records, writer, &mut slot).await;
                    }
                }
            }
            _ => {
                let plan = platform.post_plan(&target, Job::Capture, &ctx);
                let run =
                    run_plan(platform.name(), plan, fetcher, &mut records, &mut responses).await;
                decoded_cut.extend(run.decoded_cut);
                last_status = run.last_status;
                last_response = run.last_response;
                run.finding
            }
        };
        if let Finding::Redirected { url: next } = &finding {
            follows += 1;
            let Ok(n) = Url::parse(next) else {
                return finish_failed(
                    input,
                    format!("share link led to a bad URL {next:?}"),
                    records,
                    writer,
                    &mut slot,
                )
                .await;
            };
            if follows > MAX_FOLLOWS || n == url {
                return finish_failed(
                    input,
                    format!("share link did not lead to a post (last {n})"),
                    records,
                    writer,
                    &mut slot,
                )
                .await;
            }
            url = n;
            continue;
        }
        break (platform, target, finding, ctx);
    };

    match finding {
        Finding::Post(mut post) => {
            let mut warnings = vec![];
            if !opts.no_media {
                fetch_media(&mut post, fetcher, &mut records, &mut warnings).await;
            }
            // What of the answers was read is bounded too: say so in the post.
            if !decoded_cut.is_empty() {
                crate::extract::note_limit(&mut post, "decoded_truncated", serde_json::json!(true));
                crate::extract::note_limit(
                    &mut post,
                    "max_decoded_bytes",
                    serde_json::json!(http::MAX_DECODED_BYTES),
                );
            }
            // The post record's id is known before it is made: the render's records point
            // at it.
            let post_record_id = crate::store::warc::new_record_id();
            let mut render = None;
            let mut browser = None;
            if let Some(r) = opts.renderer.as_ref().filter(|r| r.wants(platform.name())) {
                let date = || opts.clock.warc_date();
                match r
                    .render(&url, &post.id.0, &post_record_id, fetcher, &date)
                    .await
                {
                    Ok(out) => {
                        // A page whose text only its scripts write: the text the DOM shows.
                        if platform.name() == "web"
                            && let Some(t) = render::text_from_dom(&url, &out.dom)
                            && t.chars().count()
                                > post.text.as_deref().map_or(0, |p| p.chars().count())
                        {
                            post.text = Some(t);
                            post.extra
                                .insert("text_from".into(), serde_json::json!("render"));
                        }
                        warnings.extend(out.facts.warnings.iter().cloned());
                        records.extend(out.records);
                        browser = Some(out.browser);
                        render = Some(out.facts);
                    }
                    Err(e) => warnings.push(format!(
                        "not rendered: {e} (the capture is kept without a render)"
                    )),
                }
            }
            crate::extract::bound_post(&mut post);
            let prov = opts.provenance_with(&post.id.0, &records, &mut warnings, browser.as_ref());
            records.push(prov);
            let mut body = PostRecord::new(&post, input, &records);
            body.render = render.clone();
            let mut rec = body.to_record(&responses, &opts.clock.warc_date());
            rec.set_field("WARC-Record-ID", &post_record_id);
            records.push(rec);
            // A body cut at the size limit is kept, marked, and reported: never silently cut.
            let cut: Vec<String> = records
                .iter()
                .filter(|r| r.warc_type() == kind::RESPONSE)
                .filter_map(|r| {
                    r.field("WARC-Truncated")
                        .map(|t| format!("{} ({t})", r.target_uri().unwrap_or("?")))
                })
                .collect();
            let error = (!cut.is_empty()).then(|| {
                format!(
                    "stored incomplete, marked WARC-Truncated: {} (size limit http.max_body_bytes = {} bytes)",
                    cut.join(", "),
                    fetcher.max_body_bytes()
                )
            });
            let mut res = CaptureResult {
                url: input.to_string(),
                post_id: Some(post.id.0.clone()),
                status: if cut.is_empty() {
                    "captured"
                } else {
                    "partial"
                },
                outcome: Some(Outcome::Live),
                cause: None,
                record_ids: vec![],
                leaf_indexes: None,
                error,
                warnings,
                comments: None,
                render,
            };
            // Only a platform with a conversation to read takes the two-batch path: the
            // others give their slot back before the disk, as before (group commit).
            if opts.comments == 0 || platform.comments_plan(&target, None, &ctx).is_none() {
                append_into(&mut res, records, writer, &mut slot).await;
                return res;
            }
            // The post is durable before its conversation is read (the slot is kept: the
            // reading is network work), so nothing that happens to the comments loses it.
            append_into(&mut res, records, writer, &mut None).await;
            if res.status == "failed" {
                return res;
            }
            let date = opts.clock.warc_date();
            let known = std::collections::HashSet::new();
            let read = comments::read_thread(
                platform,
                &target,
                &post,
                &ctx,
                opts.comments,
                &known,
                fetcher,
                &date,
                &|recs: &[Record]| opts.provenance(&post.id.0, recs, &mut vec![]),
            )
            .await;
            if let Some((thread_records, thread, new)) = read {
                res.comments = Some(comments::ThreadSummary::of(&thread, new));
                append_into(&mut res, thread_records, writer, &mut slot).await;
            }
            res
        }
        Finding::Gone(g) => {
            let words = g.message.clone().unwrap_or_default();
            let error = match g.outcome {
                Outcome::Unreachable => {
                    format!("{} could not be reached: {words}", platform.name())
                }
                Outcome::NotFound => format!(
                    "{}: not found: nothing at this address ({words}); nothing says a post was ever there",
                    platform.name()
                ),
                o => format!(
                    "{}: the post is {}{}: {words} (one answer: gone_unconfirmed until a second check agrees)",
                    platform.name(),
                    o.as_str(),
                    g.cause
                        .map(|c| format!(" (cause {})", c.as_str()))
                        .unwrap_or_default()
                ),
            };
            let mut res = CaptureResult::failed(input, error);
            if g.outcome != Outcome::Unreachable {
                res.status = if g.outcome == Outcome::NotFound {
                    "not_found"
                } else {
                    "gone"
                };
                res.outcome = Some(g.outcome);
                res.cause = g.cause;
                // A definite answer about one post is a check of it: the archive holds
                // the post from it, with what is known (docs/states.md).
                if let Target::Post { platform_id, url } = &target {
                    let id = crate::model::PostId::new(platform.name(), platform_id);
                    let prov = opts.provenance(&id.0, &records, &mut res.warnings);
                    records.push(prov);
                    let c = gone_check(
                        &crate::model::PostId::new(platform.name(), platform_id).0,
                        url,
                        input,
                        &g,
                        &records,
                        (last_status, last_response.as_deref()),
                        &opts.clock.warc_date(),
                    );
                    res.post_id = Some(c.post_id.clone());
                    records.push(c.to_record());
                }
            }
            append_into(&mut res, records, writer, &mut slot).await;
            res
        }
        Finding::Broken { endpoint, missing } => {
            let e = Error::Extraction { endpoint, missing };
            finish_failed(
                input,
                format!("{e} (the answer is kept in the archive; the post was not marked gone)"),
                records,
                writer,
                &mut slot,
            )
            .await
        }
        Finding::Timeline { .. } => {
            finish_failed(input, ACCOUNT_NOT_POST.into(), records, writer, &mut slot).await
        }
        Finding::Comments(_) => {
            let e = "the post plan answered with a page of comments, not the post";
            finish_failed(input, e.into(), records, writer, &mut slot).await
        }
        Finding::Redirected { .. } => unreachable!("handled above"),
    }
}

/// What running a plan came to, besides the records it added.
#[derive(Debug)]
pub struct PlanOutcome {
    pub finding: Finding,
    /// HTTP status of the last answer, if any came.
    pub last_status: Option<u16>,
    /// Record id of the last response.
    pub last_response: Option<String>,
    /// URLs of answers archived whole but read only up to
    /// [`http::MAX_DECODED_BYTES`] decoded (bombs, huge pages).
    pub decoded_cut: Vec<String>,
}

/// Runs one plan to its end: each request through the fetcher (politeness, retries,
/// host overrides), every exchange appended to `records`, every response id to
/// `responses`. Shared by captures, checks and timeline polls.
pub async fn run_plan(
    platform: &str,
    first: Step,
    fetcher: &Fetcher,
    records: &mut Vec<Record>,
    responses: &mut Vec<String>,
) -> PlanOutcome {
    let mut step = first;
    let mut last_status = None;
    let mut last_response = None;
    let mut steps = 0;
    let mut decoded_cut = vec![];
    let finding = loop {
        let (req, plan) = match step {
            Step::Done(f) => break f,
            Step::Fetch(req, plan) => (req, plan),
        };
        steps += 1;
        if steps > MAX_PLAN_STEPS {
            break Finding::Broken {
                endpoint: platform.to_string(),
                missing: format!("the plan asked for more than {MAX_PLAN_STEPS} requests"),
            };
        }
        let r = fetcher.fetch(&req).await;
        if let Fetched::Response(resp) = &r.fetched
            && resp.truncated
            && !r.records.iter().any(|rec| {
                Some(rec.id()) == r.response_id.as_deref() && rec.field("WARC-Truncated").is_some()
            })
        {
            decoded_cut.push(resp.url.to_string());
        }
        records.extend(r.records);
        responses.extend(r.response_id.clone());
        if r.response_id.is_some() {
            last_response = r.response_id;
        }
        last_status = match &r.fetched {
            Fetched::Response(resp) => Some(resp.status),
            Fetched::Failed(_) => None,
        };
        // Plans parse what they read (HTML, JSON, feeds): a big answer is read on the
        // blocking pool, so one hostile page cannot stall the async workers other
        // captures (and the server) run on. A small one is read here: its parse is
        // bounded by its size and costs less than the two thread hand-overs would.
        let answer = r.fetched;
        let small = match &answer {
            Fetched::Response(resp) => resp.body.len() <= INLINE_PARSE_BYTES,
            Fetched::Failed(_) => true,
        };
        if small {
            // A plan that panics is a broken plan here as on the pool, not a lost capture.
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.next(answer))) {
                Ok(next) => step = next,
                Err(_) => {
                    break Finding::Broken {
                        endpoint: platform.to_string(),
                        missing: "reading the answer failed: the plan panicked".into(),
                    };
                }
            }
            continue;
        }
        step = match tokio::task::spawn_blocking(move || plan.next(answer)).await {
            Ok(next) => next,
            Err(e) => {
                break Finding::Broken {
                    endpoint: platform.to_string(),
                    missing: format!("reading the answer failed: {e}"),
                };
            }
        };
    };
    PlanOutcome {
        finding,
        last_status,
        last_response,
        decoded_cut,
    }
}

/// The `resource` record of a normalised post (docs/archive.md): it lists every record of
/// its capture written before it and points at the responses it was read from.
pub fn post_record(
    post: &Post,
    requested_url: &str,
    before: &[Record],
    responses: &[String],
    date: &str,
) -> Record {
    PostRecord::new(post, requested_url, before).to_record(responses, date)
}

/// The check record of a capture that found the post already gone (`via: capture`,
/// docs/states.md): it rests on every record the capture wrote, names the post's id and
/// URL (what the index holds of a post that has no post record), and the main answer, so
/// the first watch check of the same answer can be a revisit.
pub fn gone_check(
    post_id: &str,
    url: &str,
    requested_url: &str,
    g: &crate::model::Gone,
    records: &[Record],
    (http_status, response): (Option<u16>, Option<&str>),
    date: &str,
) -> CheckRecord {
    let main = response.and_then(|id| records.iter().find(|r| r.id() == id));
    CheckRecord {
        cause: g.cause,
        message: g.message.clone(),
        http_status,
        payload_digest: main
            .and_then(|r| r.field("WARC-Payload-Digest"))
            .map(str::to_string),
        response_id: main.map(|r| r.id().to_string()),
        response_uri: main.and_then(|r| r.target_uri()).map(str::to_string),
        response_date: main.map(|r| r.date().to_string()),
        url: Some(url.to_string()),
        requested_url: (requested_url != url).then(|| requested_url.to_string()),
        ..CheckRecord::new(
            post_id,
            date,
            g.outcome,
            VIA_CAPTURE,
            records.iter().map(|r| r.id().to_string()).collect(),
        )
    }
}

/// Records what was fetched even when the capture failed: the answers are evidence too.
async fn finish_failed(
    input: &str,
    error: String,
    records: Vec<Record>,
    writer: &Writer,
    slot: &mut Slot,
) -> CaptureResult {
    let mut res = CaptureResult::failed(input, error);
    append_into(&mut res, records, writer, slot).await;
    res
}

async fn append_into(
    res: &mut CaptureResult,
    records: Vec<Record>,
    writer: &Writer,
    slot: &mut Slot,
) {
    drop(slot.take());
    if records.is_empty() {
        return;
    }
    match writer.append(records).await {
        Ok(done) => {
            // A capture may append twice (the post, then its conversation): the ids of
            // both, and the leaves from the first to the last.
            res.record_ids
                .extend(done.rows.iter().map(|r| r.id.clone()));
            let these = done
                .rows
                .first()
                .zip(done.rows.last())
                .map(|(a, b)| (a.leaf, b.leaf));
            res.leaf_indexes = match (res.leaf_indexes, these) {
                (Some((a, _)), Some((_, b))) => Some((a, b)),
                (a, b) => b.or(a),
            };
        }
        Err(e) => {
            res.status = "failed";
            res.error = Some(match &res.error {
                Some(prev) => format!("{prev}; {e}"),
                None => e.to_string(),
            });
        }
    }
}

/// Fetches the pictures and videos of a post (and of the post it reposts or quotes),
/// filling in digest, size, type and record id.
pub(crate) async fn fetch_media(
    post: &mut Post,
    fetcher: &Fetcher,
    records: &mut Vec<Record>,
    warnings: &mut Vec<String>,
) {
    let mut all: Vec<&mut Media> = post.media.iter_mut().collect();
    for nested in [&mut post.repost_of, &mut post.quote_of]
        .into_iter()
        .flatten()
    {
        all.extend(nested.media.iter_mut());
    }
    for m in all {
        let Ok(u) = Url::parse(&m.url) else {
            warnings.push(format!("media URL {:?} is not a URL", m.url));
            continue;
        };
        let mut req = Request::get(u, "media");
        if let Some(r) = &m.referer {
            req = req.header("Referer", r);
        }
        let r = fetcher.fetch(&req).await;
        records.extend(r.records);
        match r.fetched {
            Fetched::Response(resp) if resp.status < 300 => {
                m.sha256 = r.payload_sha256;
                m.bytes = r.payload_len;
                m.mime = resp.header("content-type").map(str::to_string);
                m.record_id = r.response_id;
            }
            Fetched::Response(resp) => {
                warnings.push(format!("media {}: HTTP {}", m.url, resp.status))
            }
            Fetched::Failed(e) => warnings.push(format!("media {}: {e}", m.url)),
        }
    }
}

/// Parses a URL a person typed, with clear errors for what samizdat cannot fetch. The
/// forms only one platform knows (`at://`, `feed:`) are that platform's to read
/// ([`platforms::Platform::normalise`]).
pub fn parse_url(input: &str) -> Result<Url> {
    platforms::read_url(input).map_err(|message| Error::BadUrl {
        url: input.to_string(),
        message,
    })
}
