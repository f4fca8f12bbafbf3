//! What every handler shares: the server's state, failures as pages or JSON, the bounds
//! on expensive requests, and running index work off the async workers.

use super::html::{esc, page};
use crate::capture::{Fetcher, Writer, WriterHandle};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::archive::{self, layout};
use crate::store::index::Index;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Strict CSP for our pages: styles and images from us only, and one script, ours, named
/// by its SHA-256 (it shows times in the reader's zone: [`super::html::LOCAL_TIME_JS`]).
/// Nothing else runs, inline or fetched, whatever an archived post's HTML says; without
/// the script the pages read the same, in UTC.
pub(super) fn page_csp() -> &'static HeaderValue {
    static CSP: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(super::html::LOCAL_TIME_JS.as_bytes()));
        HeaderValue::from_str(&format!(
            "default-src 'none'; script-src 'sha256-{hash}'; img-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ))
        .expect("a CSP is a header value")
    });
    &CSP
}
/// Raw archived bodies: a sandbox with nothing allowed.
pub(super) const RAW_CSP: &str = "sandbox; default-src 'none'";

/// What a `503` past a bound on expensive requests tells the client to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

pub(super) struct AppState {
    pub(super) root: PathBuf,
    pub(super) config: Config,
    pub(super) config_path: PathBuf,
    pub(super) token: Option<String>,
    pub(super) fetcher: Option<Arc<Fetcher>>,
    /// Renders API captures when `[browser] render` asks; every request the browser
    /// makes goes through `fetcher`, under its guard (docs/render.md).
    pub(super) renderer: Option<Arc<crate::capture::render::Renderer>>,
    /// The archive's writer, started by the first API capture, with what ends it.
    pub(super) writer: tokio::sync::Mutex<Option<(Writer, WriterHandle)>>,
    /// Expensive requests in flight, one bound per class (`[serve] max_…`).
    pub(super) exports: Arc<Semaphore>,
    pub(super) searches: Arc<Semaphore>,
    pub(super) raws: Arc<Semaphore>,
    /// What was added through the API or the `/add` form since the server started,
    /// newest last (at most [`ADDED_KEPT`]).
    pub(super) added: std::sync::Mutex<std::collections::VecDeque<Added>>,
}

/// How many added URLs the `/add` page remembers.
pub(super) const ADDED_KEPT: usize = 50;

/// One URL added through the API or the `/add` form, and what its capture did.
#[derive(Debug, Clone)]
pub(super) struct Added {
    pub(super) url: String,
    pub(super) at: String,
    /// The capture's status (`captured`, `partial`, `gone`, `not_found`, `failed`).
    pub(super) status: &'static str,
    pub(super) post_id: Option<String>,
    pub(super) error: Option<String>,
    /// With "capture and watch": what adding it to the watchlist did.
    pub(super) watch: Option<String>,
}

pub(super) type St = State<Arc<AppState>>;

/// A page or API failure, shown as HTML or JSON.
pub(super) struct Fail(pub(super) StatusCode, pub(super) String, pub(super) bool);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        let mut r = self.response();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        r
    }
}

impl Fail {
    fn response(self) -> Response {
        if self.2 {
            (self.0, axum::Json(json!({"error": self.1}))).into_response()
        } else {
            let body = page(
                self.0.canonical_reason().unwrap_or("Error"),
                "",
                &format!("<h1>{}</h1><p>{}</p>", self.0.as_u16(), esc(&self.1)),
            );
            with_page_headers((self.0, axum::response::Html(body)).into_response())
        }
    }
}

/// A place among the `what` requests of one class, or `503` with Retry-After when all
/// are taken (nothing queues: a flood costs no more than the bound).
pub(super) fn admit(
    sem: &Arc<Semaphore>,
    what: &str,
    api: bool,
) -> std::result::Result<OwnedSemaphorePermit, Fail> {
    sem.clone().try_acquire_owned().map_err(|_| {
        Fail(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many {what} at once (the bound is {} in [serve]): try again in {RETRY_AFTER_SECS} s",
                sem_name(what)
            ),
            api,
        )
    })
}

/// The `[serve]` key that bounds a class of requests.
pub(super) fn sem_name(what: &str) -> &'static str {
    match what {
        EXPORTS => "max_exports",
        SEARCHES => "max_searches",
        _ => "max_raw",
    }
}

pub(super) const EXPORTS: &str = "bundle and WACZ downloads";
pub(super) const SEARCHES: &str = "searches";
pub(super) const RAWS: &str = "raw body downloads";

pub(super) fn fail(e: Error, api: bool) -> Fail {
    let code = match &e {
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Usage(_) | Error::BadUrl { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Fail(code, e.to_string(), api)
}

pub(super) fn with_page_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, page_csp().clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

pub(super) fn html_page(title: &str, q: &str, body: &str) -> Response {
    with_page_headers(axum::response::Html(page(title, q, body)).into_response())
}

/// Runs index work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    st: &Arc<AppState>,
    api: bool,
    f: impl FnOnce(&AppState) -> Result<T> + Send + 'static,
) -> std::result::Result<T, Fail> {
    let st = st.clone();
    match tokio::task::spawn_blocking(move || f(&st)).await {
        Ok(r) => r.map_err(|e| fail(e, api)),
        Err(e) => Err(Fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), api)),
    }
}

impl AppState {
    /// Keeps `a` for the `/add` page's list.
    pub(super) fn remember(&self, a: Added) {
        let mut l = self.added.lock().unwrap_or_else(|e| e.into_inner());
        l.push_back(a);
        while l.len() > ADDED_KEPT {
            l.pop_front();
        }
    }

    /// What was added, newest first.
    pub(super) fn added(&self) -> Vec<Added> {
        let l = self.added.lock().unwrap_or_else(|e| e.into_inner());
        l.iter().rev().cloned().collect()
    }

    pub(super) fn index(&self) -> Result<Index> {
        if !archive::exists(&self.root) {
            return Err(Error::NotFound("no archive here yet".into()));
        }
        Index::open(&self.root.join(layout::INDEX), false)
    }

    /// The post a key names (`Index::find_post`: an id or any URL form).
    pub(super) fn resolve(&self, ix: &Index, key: &str) -> Result<String> {
        ix.find_post(key)?
            .ok_or_else(|| Error::NotFound(format!("no post {key:?} in this archive")))
    }

    pub(super) fn ctx(&self) -> crate::evidence::Ctx {
        crate::evidence::Ctx {
            archive: self.root.clone(),
            config_path: self.config_path.clone(),
            json: false,
            quiet: true,
        }
    }
}
