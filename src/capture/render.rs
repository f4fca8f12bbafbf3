//! Rendering a capture in a real browser (issue 16, docs/render.md): the page as a person
//! saw it, with every exchange the browser made.
//!
//! The browser ([`super::browser`]) reaches nothing itself. Every request it makes is
//! paused (the DevTools `Fetch` domain, at the request stage) and made by samizdat's own
//! [`Fetcher`], then handed back to the browser. So the browser's exchanges are recorded
//! byte for byte like any capture's, as `request`/`response` records marked
//! `Samizdat-Via: browser`; `[http.hosts]`, the size limits and, for captures that came
//! through the API, the guard against internal addresses apply to each of them; and
//! pywb or ReplayWeb.page replay what the browser saw.
//!
//! A render adds, besides those exchanges, a full-page PNG screenshot
//! (`urn:samizdat:screenshot:<post id>`) and the DOM after scripts ran
//! (`urn:samizdat:dom:<post id>`), both `resource` records `WARC-Concurrent-To` the post
//! record, all in the capture's batch and named in its post record.
//!
//! It is off the critical path: a render that fails or times out leaves a warning, and
//! the capture is kept without it.

use super::browser::{self, BrowserFacts, Launched};
use super::http::Fetcher;
use crate::config::{BrowserConfig, RenderMode};
use crate::platforms::{Fetched, Request};
use crate::store::bodies::{RenderFacts, RenderedFile};
use crate::store::warc::{Record, kind};
use base64::Engine;
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    self, EventRequestPaused, FailRequestParams, FulfillRequestParams, HeaderEntry, RequestPattern,
    RequestStage,
};
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams, Viewport as Clip,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use url::Url;

/// Most requests one render answers; past it the browser's requests fail (a page that
/// never stops asking).
pub const MAX_REQUESTS: usize = 500;
/// The DOM record is at most this long (a page can grow its DOM without end); past it the
/// record is cut at a character boundary and the render says so.
pub const MAX_DOM_BYTES: usize = 64 << 20;

/// The largest index at most `max` that is a character boundary of `s`.
fn cut_at_char(s: &str, max: usize) -> usize {
    let mut at = max.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}
/// After `load`, how long the page must stay quiet (no request pending) before the
/// screenshot, and the most time spent waiting for that.
const QUIET: Duration = Duration::from_millis(500);
const SETTLE_MAX: Duration = Duration::from_secs(5);
/// The value of the field that marks a browser's exchange.
pub const VIA_BROWSER: &str = "browser";

/// Renders captures: the browser to run, the settings, and how many may run at once.
pub struct Renderer {
    cfg: BrowserConfig,
    exe: PathBuf,
    /// `[browser] concurrency`: each render is a browser of its own.
    slots: tokio::sync::Semaphore,
    /// `capture --render`: every capture of this run, whatever `[browser] render` says.
    forced: bool,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("exe", &self.exe)
            .field("forced", &self.forced)
            .finish()
    }
}

/// What one render made.
#[derive(Debug)]
pub struct Rendered {
    /// The browser's exchanges, then the screenshot and the DOM record.
    pub records: Vec<Record>,
    pub facts: RenderFacts,
    pub browser: BrowserFacts,
    /// The DOM, for the text of a page whose text only scripts make.
    pub dom: String,
}

impl Renderer {
    /// A renderer when one is wanted (`forced`, or `[browser] render` other than `never`):
    /// finding no browser then is an error, named. `None` when none is wanted.
    pub fn new(cfg: &BrowserConfig, forced: bool) -> Result<Option<Renderer>, String> {
        if !forced && cfg.render == RenderMode::Never {
            return Ok(None);
        }
        let exe = browser::find_executable(cfg)?;
        Ok(Some(Renderer {
            cfg: cfg.clone(),
            exe,
            slots: tokio::sync::Semaphore::new(cfg.concurrency.max(1)),
            forced,
        }))
    }

    /// Whether a capture by the reader `platform` is rendered.
    pub fn wants(&self, platform: &str) -> bool {
        self.forced
            || match self.cfg.render {
                RenderMode::Never => false,
                RenderMode::Pages => platform == "web",
                RenderMode::Always => true,
            }
    }

    /// Renders `url` for the post `post_id`, whose post record will have the id
    /// `post_record`. Bounded by `[browser] render_timeout_secs`; the browser is gone when
    /// this returns, whatever happened.
    pub async fn render(
        &self,
        url: &Url,
        post_id: &str,
        post_record: &str,
        fetcher: &Fetcher,
        date: &(dyn Fn() -> String + Sync),
    ) -> Result<Rendered, String> {
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let budget = Duration::from_secs(self.cfg.render_timeout_secs);
        let launched = tokio::time::timeout(budget, browser::launch(&self.cfg, &self.exe))
            .await
            .map_err(|_| {
                format!(
                    "the browser did not start within [browser] render_timeout_secs = {} s",
                    budget.as_secs()
                )
            })??;
        let started = Instant::now();
        let left = budget.saturating_sub(started.elapsed());
        let r = tokio::time::timeout(
            left,
            self.run(&launched, url, post_id, post_record, fetcher, date),
        )
        .await;
        let facts = launched.facts.clone();
        launched.close().await;
        match r {
            Ok(Ok((records, facts_r, dom))) => Ok(Rendered {
                records,
                facts: facts_r,
                browser: facts,
                dom,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!(
                "the render took longer than [browser] render_timeout_secs = {} s and was given up",
                budget.as_secs()
            )),
        }
    }

    async fn run(
        &self,
        launched: &Launched,
        url: &Url,
        post_id: &str,
        post_record: &str,
        fetcher: &Fetcher,
        date: &(dyn Fn() -> String + Sync),
    ) -> Result<(Vec<Record>, RenderFacts, String), String> {
        let cdp =
            |what: &str, e: chromiumoxide::error::CdpError| format!("the browser, {what}: {e}");
        let page = launched
            .browser
            .new_page("about:blank")
            .await
            .map_err(|e| cdp("opening a page", e))?;
        let mut paused = page
            .event_listener::<EventRequestPaused>()
            .await
            .map_err(|e| cdp("listening for requests", e))?;
        page.execute(
            fetch::EnableParams::builder()
                .pattern(
                    RequestPattern::builder()
                        .url_pattern("*")
                        .request_stage(RequestStage::Request)
                        .build(),
                )
                .build(),
        )
        .await
        .map_err(|e| cdp("pausing its requests", e))?;
        let viewport = launched.facts.viewport;
        page.execute(SetDeviceMetricsOverrideParams::new(
            viewport.width as i64,
            viewport.height as i64,
            1.0,
            viewport.mobile,
        ))
        .await
        .map_err(|e| cdp("setting the viewport", e))?;

        let ex = Exchanges::default();
        let main_url = url.clone();
        // Every paused request is answered here, several at once, while `work` drives the
        // page; when `work` ends, this is dropped and what is still in flight is not kept.
        let intercept = async {
            let mut pending = FuturesUnordered::new();
            loop {
                tokio::select! {
                    ev = paused.next() => match ev {
                        Some(ev) => pending.push(answer(&page, fetcher, ev, &ex, &main_url)),
                        None => break,
                    },
                    Some(()) = pending.next(), if !pending.is_empty() => {}
                }
            }
            while pending.next().await.is_some() {}
            std::future::pending::<()>().await
        };
        let nav = Duration::from_secs(self.cfg.nav_timeout_secs);
        let work = async {
            let mut warnings = vec![];
            let loaded = match tokio::time::timeout(nav, page.goto(url.as_str())).await {
                Ok(Ok(_)) => true,
                Ok(Err(e)) => {
                    warnings.push(format!(
                        "the browser could not load {url}: {e}; rendered as it stood"
                    ));
                    false
                }
                Err(_) => {
                    warnings.push(format!(
                        "the page did not finish loading within [browser] nav_timeout_secs = {} s; rendered as it stood",
                        nav.as_secs()
                    ));
                    false
                }
            };
            ex.settle().await;
            let (png, cut) = screenshot(&page, viewport, self.cfg.max_height).await?;
            if cut {
                warnings.push(format!(
                    "the page is taller than [browser] max_height = {} px; the screenshot stops there",
                    self.cfg.max_height
                ));
            }
            let mut dom = page
                .content()
                .await
                .map_err(|e| cdp("reading the DOM", e))?;
            if dom.len() > MAX_DOM_BYTES {
                dom.truncate(cut_at_char(&dom, MAX_DOM_BYTES));
                warnings.push(format!(
                    "the DOM is longer than {} MiB; the DOM record keeps its first {} MiB",
                    MAX_DOM_BYTES >> 20,
                    MAX_DOM_BYTES >> 20
                ));
            }
            Ok::<_, String>((png, cut, dom, loaded, warnings))
        };
        let (png, cut, dom, loaded, mut warnings) = tokio::select! {
            r = work => r?,
            _ = intercept => unreachable!("the interceptor never ends by itself"),
        };
        let _ = page.close().await;
        let (mut records, more) = ex.take();
        warnings.extend(more);
        let exchanges = records
            .iter()
            .filter(|r| r.warc_type() == kind::RESPONSE)
            .count();
        let at = date();
        let (width, height) = png_size(&png).ok_or("the browser's screenshot is not a PNG")?;
        let concurrent = vec![("WARC-Concurrent-To".to_string(), post_record.to_string())];
        let shot = Record::build(
            kind::RESOURCE,
            &at,
            Some(&format!("urn:samizdat:screenshot:{post_id}")),
            "image/png",
            concurrent.clone(),
            png,
        );
        let dom_rec = Record::build(
            kind::RESOURCE,
            &at,
            Some(&format!("urn:samizdat:dom:{post_id}")),
            "text/html; charset=utf-8",
            concurrent,
            dom.clone().into_bytes(),
        );
        let file = |r: &Record, mime: &str, size: Option<(u32, u32)>| RenderedFile {
            record_id: r.id().to_string(),
            sha256: hex::encode(Sha256::digest(&r.block)),
            mime: mime.to_string(),
            bytes: r.block.len() as u64,
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
        };
        let facts = RenderFacts {
            at,
            url: url.to_string(),
            screenshot: file(&shot, "image/png", Some((width, height))),
            dom: file(&dom_rec, "text/html", None),
            exchanges,
            loaded,
            cut,
            warnings,
        };
        records.push(shot);
        records.push(dom_rec);
        Ok((records, facts, dom))
    }
}

/// The browser's exchanges so far, and how busy it is.
#[derive(Default)]
struct Exchanges {
    records: Mutex<Vec<Record>>,
    warnings: Mutex<Vec<String>>,
    asked: AtomicUsize,
    in_flight: AtomicUsize,
    last: Mutex<Option<Instant>>,
}

impl Exchanges {
    fn take(&self) -> (Vec<Record>, Vec<String>) {
        (
            std::mem::take(&mut self.records.lock().expect("records lock")),
            std::mem::take(&mut self.warnings.lock().expect("warnings lock")),
        )
    }

    fn warn(&self, w: String) {
        let mut ws = self.warnings.lock().expect("warnings lock");
        // One page can fail hundreds of requests: the first ones say enough.
        if ws.len() < 20 {
            ws.push(w);
        }
    }

    /// Waits until no request has been pending for [`QUIET`], at most [`SETTLE_MAX`].
    async fn settle(&self) {
        let until = Instant::now() + SETTLE_MAX;
        loop {
            let quiet_since = *self.last.lock().expect("last lock");
            let idle = self.in_flight.load(Ordering::SeqCst) == 0
                && quiet_since.is_none_or(|t| t.elapsed() >= QUIET);
            if idle || Instant::now() >= until {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The request headers a browser's request passes on (the fetcher sets User-Agent,
/// Accept-Encoding and Host itself; cookies are never the browser's to send).
const PASSED_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "referer",
    "content-type",
    "origin",
];
/// Response headers that describe the bytes on the wire, not the body handed back (the
/// fetcher has already undone any content coding).
const DROPPED_HEADERS: &[&str] = &[
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];

/// Answers one paused request through the fetcher, and records it.
async fn answer(
    page: &Page,
    fetcher: &Fetcher,
    ev: std::sync::Arc<EventRequestPaused>,
    ex: &Exchanges,
    main: &Url,
) {
    ex.in_flight.fetch_add(1, Ordering::SeqCst);
    let id = ev.request_id.clone();
    let outcome = fetch_for_browser(fetcher, &ev, ex, main).await;
    match outcome {
        Ok((status, headers, body)) => {
            let mut p = FulfillRequestParams::new(id, status as i64);
            p.response_headers = Some(headers);
            p.body = Some(
                base64::engine::general_purpose::STANDARD
                    .encode(body)
                    .into(),
            );
            let _ = page.execute(p).await;
        }
        Err((reason, why)) => {
            if let Some(w) = why {
                ex.warn(w);
            }
            let _ = page.execute(FailRequestParams::new(id, reason)).await;
        }
    }
    *ex.last.lock().expect("last lock") = Some(Instant::now());
    ex.in_flight.fetch_sub(1, Ordering::SeqCst);
}

type Answer = (u16, Vec<HeaderEntry>, Vec<u8>);

async fn fetch_for_browser(
    fetcher: &Fetcher,
    ev: &EventRequestPaused,
    ex: &Exchanges,
    main: &Url,
) -> Result<Answer, (ErrorReason, Option<String>)> {
    let r = &ev.request;
    let Ok(url) = Url::parse(&r.url) else {
        return Err((ErrorReason::Failed, None));
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            ErrorReason::BlockedByClient,
            Some(format!(
                "the browser asked for {}: only http and https are answered",
                url.scheme()
            )),
        ));
    }
    if ex.asked.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS {
        return Err((
            ErrorReason::BlockedByClient,
            Some(format!(
                "the page asked for more than {MAX_REQUESTS} resources; the rest were refused"
            )),
        ));
    }
    let method: &'static str = match r.method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        other => {
            return Err((
                ErrorReason::BlockedByClient,
                Some(format!(
                    "the browser's {other} request for {url} was not made (only GET, HEAD and POST are)"
                )),
            ));
        }
    };
    let body = if method == "POST" {
        let mut b = vec![];
        for e in r.post_data_entries.iter().flatten() {
            if let Some(bytes) = &e.bytes {
                let s: &str = bytes.as_ref();
                b.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|_| (ErrorReason::Failed, None))?,
                );
            }
        }
        Some(b)
    } else {
        None
    };
    let mut headers = vec![];
    if let Some(obj) = r.headers.inner().as_object() {
        for (k, v) in obj {
            if PASSED_HEADERS.contains(&k.to_ascii_lowercase().as_str())
                && let Some(v) = v.as_str()
            {
                headers.push((k.clone(), v.to_string()));
            }
        }
    }
    let is_main = crate::extract::without_fragment(&url) == crate::extract::without_fragment(main);
    let req = Request {
        method,
        url: url.clone(),
        headers,
        body,
        // The browser follows redirects itself (each hop paused and recorded again).
        follow_redirects: false,
        with_user_cookies: false,
        purpose: "browser",
        is_page: is_main,
        paced: is_main,
    };
    let res = fetcher.fetch(&req).await;
    {
        let mut recs = ex.records.lock().expect("records lock");
        for mut rec in res.records {
            rec.insert_field("Samizdat-Via", VIA_BROWSER);
            recs.push(rec);
        }
    }
    match res.fetched {
        Fetched::Response(resp) => {
            let headers = resp
                .headers
                .iter()
                .filter(|(n, _)| !DROPPED_HEADERS.contains(&n.as_str()))
                .map(|(n, v)| HeaderEntry {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect();
            Ok((resp.status, headers, resp.body))
        }
        Fetched::Failed(e) => Err((
            ErrorReason::Failed,
            Some(format!("the browser's request for {url} failed: {e}")),
        )),
    }
}

/// The full-page screenshot (at most `max_height` CSS pixels tall), and whether the page
/// was cut there.
async fn screenshot(
    page: &Page,
    v: browser::Viewport,
    max_height: u32,
) -> Result<(Vec<u8>, bool), String> {
    let m = page
        .layout_metrics()
        .await
        .map_err(|e| format!("the browser, measuring the page: {e}"))?;
    let full = m.css_content_size.height.ceil().max(1.0);
    let cut = full > max_height as f64;
    let height = full.min(max_height as f64).max(v.height as f64);
    let width = v.width as f64;
    page.execute(SetDeviceMetricsOverrideParams::new(
        width as i64,
        height as i64,
        1.0,
        v.mobile,
    ))
    .await
    .map_err(|e| format!("the browser, sizing the page: {e}"))?;
    let shot = page
        .execute(CaptureScreenshotParams {
            format: Some(CaptureScreenshotFormat::Png),
            clip: Some(Clip {
                x: 0.0,
                y: 0.0,
                width,
                height,
                scale: 1.0,
            }),
            capture_beyond_viewport: Some(true),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("the browser, taking the screenshot: {e}"))?;
    let data: &str = shot.result.data.as_ref();
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("the browser's screenshot is not base64: {e}"))?;
    Ok((png, cut))
}

/// Width and height of a PNG (its IHDR chunk), `None` when it is not one.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if png.len() < 24 || &png[..8] != SIG || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

/// The text a person sees on a rendered page: the DOM read as `web` reads any page.
pub fn text_from_dom(url: &Url, dom: &str) -> Option<String> {
    let mut post = crate::model::Post::new("web", "render", url.as_str());
    crate::extract::read_html(
        &mut post,
        &crate::extract::Page {
            requested: url,
            fetched: url,
            content_type: Some("text/html; charset=utf-8"),
            body: dom.as_bytes(),
            truncated: false,
        },
    );
    post.text.filter(|t| !t.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_dom_is_cut_on_a_character_boundary() {
        let s = "ab\u{4e2d}\u{6587}";
        assert_eq!(
            cut_at_char(s, 3),
            2,
            "inside the first CJK character: before it"
        );
        assert_eq!(cut_at_char(s, 5), 5);
        assert_eq!(cut_at_char(s, 100), s.len());
    }

    #[test]
    fn png_size_reads_the_header_and_refuses_what_is_not_a_png() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(1280u32.to_be_bytes());
        png.extend(3000u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((1280, 3000)));
        png[1] = b'Q';
        assert_eq!(png_size(&png), None);
        assert_eq!(png_size(b"\x89PNG"), None);
    }

    #[test]
    fn text_inserted_into_the_dom_is_read() {
        let u = Url::parse("https://example.org/a").unwrap();
        let dom = "<html><head><title>T</title></head><body><main><p>Only after the script ran, this sentence is here for people to read.</p></main></body></html>";
        let t = text_from_dom(&u, dom).unwrap();
        assert!(t.contains("Only after the script ran"), "{t}");
    }
}
