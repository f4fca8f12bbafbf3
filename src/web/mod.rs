//! `samizdat serve`: the web archive (pages, JSON API, the public log) and
//! `samizdat search`.
//!
//! Reads go to the index opened read-only per request (so captures made by other
//! processes show up at once). Captures asked for over `POST /api/captures` need the
//! bearer token of `[serve] token_file`, run through [`Fetcher::for_api`] (no SSRF) and
//! are written by one [`Writer`] started on the first such request.
//!
//! Archived content is untrusted: pages escape every string, re-sanitise post HTML,
//! and carry a CSP with no script at all; raw archived bodies are served only from
//! `/raw/{record id}`, sandboxed.

pub mod html;
pub mod server;

use crate::capture::{self, CaptureOptions, Fetcher, Writer};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::log::hashes::HashStore;
use crate::store::archive::{self, Archive, layout};
use crate::store::index::{Index, ListFilter};
use crate::store::record_stream;
use crate::store::search;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use html::{badge, enc, esc, page, post_body, summary};
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hits per search page.
pub const PAGE_SIZE: usize = 20;

/// Strict CSP for our pages: no script at all, styles and images from us only.
const PAGE_CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// Raw archived bodies: a sandbox with nothing allowed.
const RAW_CSP: &str = "sandbox; default-src 'none'";

/// What a `503` past a bound on expensive requests tells the client to wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;

struct AppState {
    root: PathBuf,
    config: Config,
    config_path: PathBuf,
    token: Option<String>,
    fetcher: Option<Arc<Fetcher>>,
    writer: tokio::sync::Mutex<Option<Writer>>,
    /// Expensive requests in flight, one bound per class (`[serve] max_…`).
    exports: Arc<Semaphore>,
    searches: Arc<Semaphore>,
    raws: Arc<Semaphore>,
}

type St = State<Arc<AppState>>;

/// A page or API failure, shown as HTML or JSON.
struct Fail(StatusCode, String, bool);

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
fn admit(
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
fn sem_name(what: &str) -> &'static str {
    match what {
        EXPORTS => "max_exports",
        SEARCHES => "max_searches",
        _ => "max_raw",
    }
}

const EXPORTS: &str = "bundle and WACZ downloads";
const SEARCHES: &str = "searches";
const RAWS: &str = "raw body downloads";

fn fail(e: Error, api: bool) -> Fail {
    let code = match &e {
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Usage(_) | Error::BadUrl { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    Fail(code, e.to_string(), api)
}

fn with_page_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
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

fn html_page(title: &str, q: &str, body: &str) -> Response {
    with_page_headers(axum::response::Html(page(title, q, body)).into_response())
}

/// Runs index work off the async threads.
async fn blocking<T: Send + 'static>(
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
    fn index(&self) -> Result<Index> {
        if !archive::exists(&self.root) {
            return Err(Error::NotFound("no archive here yet".into()));
        }
        Index::open(&self.root.join(layout::INDEX), false)
    }

    fn resolve(&self, ix: &Index, key: &str) -> Result<String> {
        ix.resolve(key)?
            .ok_or_else(|| Error::NotFound(format!("no post {key:?} in this archive")))
    }

    fn ctx(&self) -> crate::evidence::Ctx {
        crate::evidence::Ctx {
            archive: self.root.clone(),
            config_path: self.config_path.clone(),
            json: false,
            quiet: true,
        }
    }
}

/// Search results: the page's posts (summaries) and counts.
pub fn run_search(root: &Path, q: &str, page_no: usize, per_page: usize) -> Result<Value> {
    search::check_query(q).map_err(Error::Usage)?;
    let path = root.join(layout::INDEX);
    let e = |e| Error::Index {
        path: path.clone(),
        source: e,
    };
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(e)?;
    let hits = match search::search(&conn, q, page_no.saturating_sub(1) * per_page, per_page) {
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => {
            // Readers never modify the archive: the writer creates the tables.
            return Err(Error::Archive {
                path: path.clone(),
                message: "this index predates search: run `samizdat reindex` once".into(),
            });
        }
        r => r.map_err(e)?,
    };
    let ix = Index::open(&path, false)?;
    let mut results = vec![];
    for id in &hits.ids {
        if let Some(p) = ix.post_json(id)? {
            results.push(json!({
                "id": id,
                "platform": p["platform"],
                "url": p["url"],
                "author": p["author"],
                "created_at": p["created_at"],
                "state": p["state"],
                "text": p["text"],
                "last_captured": p["captures"].as_array().and_then(|c| c.last()).map(|c| c["at"].clone()),
            }));
        }
    }
    Ok(json!({
        "query": q,
        "page": page_no.max(1),
        "per_page": per_page,
        "total": hits.total,
        "capped": hits.capped,
        "results": results,
    }))
}

/// The router, for [`serve`] and tests.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/style.css", get(style))
        .route("/search", get(search_page))
        .route("/posts", get(posts_page))
        .route("/posts/{id}", get(post_page))
        .route("/accounts/{platform}/{id}", get(account_page))
        .route("/verify", get(verify_page))
        .route("/raw/{record}", get(raw))
        .route("/api/posts", get(api_posts))
        .route("/api/posts/{id}", get(api_post))
        .route("/api/posts/{id}/bundle", get(api_bundle))
        .route("/api/posts/{id}/wacz", get(api_wacz))
        .route("/api/search", get(api_search))
        .route("/api/accounts/{platform}/{id}", get(api_account))
        .route("/api/log/checkpoint", get(api_checkpoint))
        .route("/api/log/proof/{leaf}", get(api_proof))
        .route("/api/captures", post(api_capture))
        .route("/log/checkpoint", get(log_checkpoint))
        .route("/log/tile/{*path}", get(log_tile))
        .fallback(|| async { Fail(StatusCode::NOT_FOUND, "no such page".into(), false) })
        .layer(axum::middleware::from_fn_with_state(
            std::time::Duration::from_millis(state.config.serve.idle_timeout_ms),
            server::bounded_body,
        ))
        .with_state(state)
}

/// Serves the archive at `root` on `listener` until `shutdown` completes.
pub async fn serve(
    root: PathBuf,
    config: Config,
    config_path: PathBuf,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let token = match &config.serve.token_file {
        None => None,
        Some(f) => {
            let p = if f.is_relative() {
                root.join(f)
            } else {
                f.clone()
            };
            let t = std::fs::read_to_string(&p).map_err(|e| Error::Config {
                path: config_path.clone(),
                message: format!("serve.token_file {}: {e}", p.display()),
            })?;
            let t = t.trim().to_string();
            if t.len() < 16 {
                return Err(Error::Config {
                    path: config_path.clone(),
                    message: format!(
                        "serve.token_file {}: the token must be at least 16 characters",
                        p.display()
                    ),
                });
            }
            Some(t)
        }
    };
    let fetcher = match token {
        Some(_) => Some(Arc::new(Fetcher::for_api(&config, &config_path)?)),
        None => None,
    };
    let limits = server::Limits::of(&config.serve);
    let sem = |n: usize| Arc::new(Semaphore::new(n));
    let state = Arc::new(AppState {
        exports: sem(config.serve.max_exports),
        searches: sem(config.serve.max_searches),
        raws: sem(config.serve.max_raw),
        root,
        config,
        config_path,
        token,
        fetcher,
        writer: tokio::sync::Mutex::new(None),
    });
    server::run(listener, router(state.clone()), limits, shutdown).await;
    // Stops the writer thread (it ends when its last handle is dropped).
    state.writer.lock().await.take();
    Ok(())
}

/// `samizdat serve [--listen ADDR]`.
pub fn serve_cmd(root: &Path, config_path: &Path, listen: Option<String>) -> Result<u8> {
    let config = Config::load(config_path)?;
    let addr = listen.unwrap_or_else(|| config.serve.listen.clone());
    let rt = tokio::runtime::Runtime::new().map_err(|e| Error::io(root, e))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| Error::io(root, e))?;
        let mode = if config.serve.token_file.is_some() {
            "captures allowed with the bearer token"
        } else {
            "read-only"
        };
        eprintln!(
            "samizdat: serving {} on http://{local}/ ({mode})",
            root.display()
        );
        serve(
            root.to_path_buf(),
            config,
            config_path.to_path_buf(),
            listener,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await
    })?;
    Ok(0)
}

/// `samizdat search QUERY`: ranked hits, words or JSON lines.
pub fn search_cmd(root: &Path, query: &str, limit: usize, json_out: bool) -> Result<u8> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here".into(),
        });
    }
    let r = run_search(root, query, 1, limit.max(1))?;
    let results = r["results"].as_array().cloned().unwrap_or_default();
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for v in &results {
        if json_out {
            let _ = writeln!(out, "{}", serde_json::to_string(v).expect("JSON"));
        } else {
            let author = v["author"]["name"]
                .as_str()
                .or(v["author"]["id"].as_str())
                .unwrap_or("");
            let text: String = v["text"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(100)
                .map(|c| if c == '\n' { ' ' } else { c })
                .collect();
            let _ = writeln!(
                out,
                "{}  {}  {}  {}",
                v["id"].as_str().unwrap_or(""),
                v["state"].as_str().unwrap_or(""),
                author,
                text
            );
        }
    }
    if !json_out {
        eprintln!(
            "{} of {}{} hits",
            results.len(),
            r["total"],
            if r["capped"] == true { "+" } else { "" }
        );
    }
    Ok(0)
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::CSS,
    )
        .into_response()
}

async fn home(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| {
        let (recent, gone) = home_lists(st)?;
        Ok(home_html(&recent, &gone))
    })
    .await
}

fn home_lists(st: &AppState) -> Result<(Vec<Value>, Vec<Value>)> {
    {
        if !archive::exists(&st.root) {
            return Ok((vec![], vec![]));
        }
        let ix = st.index()?;
        let recent = ix.list(&ListFilter {
            limit: 20,
            ..Default::default()
        })?;
        let mut gone = vec![];
        for state in ["deleted", "restricted", "account_gone", "unreachable"] {
            gone.extend(ix.list(&ListFilter {
                state: Some(state.into()),
                limit: 20,
                ..Default::default()
            })?);
        }
        gone.sort_by(|a, b| {
            b["last_captured"]
                .as_str()
                .cmp(&a["last_captured"].as_str())
        });
        gone.truncate(20);
        Ok((recent, gone))
    }
}

fn home_html(recent: &[Value], gone: &[Value]) -> Response {
    let mut b = String::from("<h1>Recently captured</h1>");
    if recent.is_empty() {
        b += "<p>Nothing captured yet.</p>";
    }
    for v in recent {
        b += &summary(v, None);
    }
    b += "<h1>Recently gone</h1>";
    if gone.is_empty() {
        b += "<p>No captured post has gone missing.</p>";
    }
    for v in gone {
        b += &summary(v, None);
    }
    html_page("Archive", "", &b)
}

#[derive(Deserialize, Default)]
struct SearchQ {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<usize>,
}

async fn search_page(
    State(st): St,
    Query(sq): Query<SearchQ>,
) -> std::result::Result<Response, Fail> {
    let page_no = sq.page.unwrap_or(1).max(1);
    if sq.q.trim().is_empty() {
        let b = "<h1>Search</h1><p>Search the text and authors of every captured post. Chinese, Japanese and Korean queries of one or two characters work.</p>";
        return Ok(html_page("Search", "", b));
    }
    search::check_query(&sq.q).map_err(|m| Fail(StatusCode::BAD_REQUEST, m, false))?;
    let permit = admit(&st.searches, SEARCHES, false)?;
    blocking(&st, false, move |st| {
        let _permit = permit;
        if !archive::exists(&st.root) {
            return Ok(search_html(
                &sq.q,
                page_no,
                &json!({"total": 0, "results": []}),
            ));
        }
        let r = run_search(&st.root, &sq.q, page_no, PAGE_SIZE)?;
        Ok(search_html(&sq.q, page_no, &r))
    })
    .await
}

fn search_html(q: &str, page_no: usize, r: &Value) -> Response {
    let q = q.trim();
    let mut b = String::new();
    let total = r["total"].as_u64().unwrap_or(0) as usize;
    let plus = if r["capped"] == true { "+" } else { "" };
    b += &format!(
        "<h1>Search: <span{}>{}</span></h1><p class=\"meta\" id=\"count\">{total}{plus} posts found</p>",
        html::lang_of(q)
            .map(|l| format!(" lang=\"{l}\""))
            .unwrap_or_default(),
        esc(q)
    );
    for v in r["results"].as_array().into_iter().flatten() {
        b += &summary(v, Some(q));
    }
    b += "<nav class=\"pages\">";
    if page_no > 1 {
        b += &format!(
            "<a href=\"/search?q={}&amp;page={}\">Previous</a>",
            enc(q),
            page_no - 1
        );
    }
    if page_no * PAGE_SIZE < total {
        b += &format!(
            "<a href=\"/search?q={}&amp;page={}\">Next</a>",
            enc(q),
            page_no + 1
        );
    }
    b += "</nav>";
    html_page(&format!("Search: {q}"), q, &b)
}

#[derive(Deserialize, Default)]
struct ListQ {
    platform: Option<String>,
    state: Option<String>,
    since: Option<String>,
    author: Option<String>,
    limit: Option<usize>,
}

impl ListQ {
    fn filter(self) -> ListFilter {
        let nz = |o: Option<String>| o.filter(|s| !s.trim().is_empty());
        ListFilter {
            platform: nz(self.platform),
            state: nz(self.state),
            since: nz(self.since),
            author: nz(self.author),
            limit: self.limit.unwrap_or(100).min(1000),
        }
    }
}

async fn posts_page(State(st): St, Query(lq): Query<ListQ>) -> std::result::Result<Response, Fail> {
    let f = lq.filter();
    blocking(&st, false, move |st| {
        let list = st.index()?.list(&f)?;
        Ok(posts_html(&f, &list))
    })
    .await
}

fn posts_html(f: &ListFilter, list: &[Value]) -> Response {
    let opt = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let mut b = format!(
        "<h1>Posts</h1><form method=\"get\" action=\"/posts\"><p>\
<label>Platform <input name=\"platform\" value=\"{}\" size=\"8\"></label> \
<label>State <input name=\"state\" value=\"{}\" size=\"8\"></label> \
<label>Since <input name=\"since\" value=\"{}\" size=\"12\" placeholder=\"2026-01-01\"></label> \
<label>Author <input name=\"author\" value=\"{}\" size=\"10\"></label> \
<button type=\"submit\">Filter</button></p></form><p class=\"meta\">{} posts</p>",
        opt(&f.platform),
        opt(&f.state),
        opt(&f.since),
        opt(&f.author),
        list.len()
    );
    for v in list {
        b += &summary(v, None);
    }
    html_page("Posts", "", &b)
}

/// Everything the post page shows: the post, its records, the proof.
fn post_view(st: &AppState, key: &str) -> Result<Value> {
    let ix = st.index()?;
    let id = st.resolve(&ix, key)?;
    let mut post = ix
        .post_json(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;
    let mut records = vec![];
    for c in post["captures"].as_array().into_iter().flatten() {
        for r in c["record_ids"].as_array().into_iter().flatten() {
            if let Some(row) = ix.record_by_id(r.as_str().unwrap_or(""))? {
                records.push(json!({
                    "id": row.id, "type": row.warc_type, "target": row.target,
                    "date": row.date, "content_type": row.content_type,
                    "block_digest": row.block_digest, "payload_digest": row.payload_digest,
                    "leaf_index": row.leaf, "file": row.file,
                }));
            }
        }
    }
    let mut proof = Value::Null;
    let post_leaf = post["captures"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|c| c["leaf_indexes"].as_array()?.last()?.as_u64());
    let cp_text = std::fs::read_to_string(st.root.join(layout::CHECKPOINT)).ok();
    if let (Some(leaf), Some(text)) = (post_leaf, &cp_text) {
        let verifier = archive::read_verifier(&st.root)?;
        if let Some(cp) = archive::latest_checkpoint(&st.root, &verifier)? {
            let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
            // A proof that does not check against the checkpoint is left out (the page
            // still shows the post; `verify` names the damaged cache).
            let checked = if leaf < cp.size && cp.size <= hs.tree_size() {
                match hs.checked_inclusion(leaf, cp.size, &cp) {
                    Err(Error::Damage(e)) => {
                        tracing::warn!("{e}");
                        None
                    }
                    r => Some(r?),
                }
            } else {
                None
            };
            if let Some(c) = checked {
                proof = json!({
                    "leaf_index": leaf,
                    "tree_size": cp.size,
                    "leaf_hash": c.leaf_hash.to_base64(),
                    "root": cp.root.to_base64(),
                    "proof": c.proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
                    "checkpoint": text,
                });
            }
        }
    }
    let o = post.as_object_mut().expect("posts are objects");
    o.insert("records".into(), Value::Array(records));
    o.insert("inclusion".into(), proof);
    Ok(post)
}

async fn post_page(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, false, move |st| Ok(post_html(&post_view(st, &key)?))).await
}

fn post_html(v: &Value) -> Response {
    let id = v["id"].as_str().unwrap_or("");
    let state = v["state"].as_str().unwrap_or("");
    let mut b = format!(
        "<article class=\"post\" id=\"post\">{}</article>",
        post_body(v, 0)
    );
    b += &format!("<h2>Status {}</h2>", badge(state));
    if let Some(m) = v["message"].as_str() {
        b += &format!(
            "<p>The platform's words: <q{}>{}</q></p>",
            html::lang_of(m)
                .map(|l| format!(" lang=\"{l}\""))
                .unwrap_or_default(),
            esc(m)
        );
    }
    for (k, label) in [
        ("last_seen_live", "Last seen live"),
        ("first_seen_gone", "First seen gone"),
    ] {
        if let Some(t) = v[k].as_str() {
            b += &format!("<p>{label}: {}</p>", esc(t));
        }
    }
    b += &format!(
        "<p><a class=\"button\" href=\"/api/posts/{e}/bundle\">Download the evidence bundle</a> \
<a class=\"button\" href=\"/api/posts/{e}/wacz\">Download WACZ</a> \
<a class=\"button\" href=\"/api/posts/{e}\">JSON</a></p>",
        e = enc(id)
    );
    b += "<h2>Timeline</h2><table><tr><th>When</th><th>What</th><th>Leaf indexes</th></tr>";
    let mut events: Vec<(String, String, String)> = vec![];
    for c in v["captures"].as_array().into_iter().flatten() {
        let leaves: Vec<String> = c["leaf_indexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| l.to_string())
            .collect();
        events.push((
            c["at"].as_str().unwrap_or("").into(),
            "captured".into(),
            leaves.join(", "),
        ));
    }
    for c in v["checks"].as_array().into_iter().flatten() {
        let what = format!(
            "checked: {} {}",
            badge(c["state"].as_str().unwrap_or("")),
            esc(c["message"].as_str().unwrap_or(""))
        );
        events.push((c["at"].as_str().unwrap_or("").into(), what, String::new()));
    }
    events.sort();
    for (at, what, leaves) in events {
        let what = if what == "captured" {
            badge("live").replace("live</span>", "captured</span>")
        } else {
            what
        };
        b += &format!(
            "<tr><td>{}</td><td>{what}</td><td>{}</td></tr>",
            esc(&at),
            esc(&leaves)
        );
    }
    b += "</table><h2>Records</h2><table><tr><th>Leaf</th><th>Record</th><th>Digests</th></tr>";
    for r in v["records"].as_array().into_iter().flatten() {
        b += &format!(
            "<tr><td>{}</td><td>{} <code>{}</code><br><a href=\"/raw/{}\">raw</a> {}</td><td><code>{}</code><br><code>{}</code></td></tr>",
            r["leaf_index"],
            esc(r["type"].as_str().unwrap_or("")),
            esc(r["id"].as_str().unwrap_or("")),
            enc(r["id"].as_str().unwrap_or("")),
            esc(r["target"].as_str().unwrap_or("")),
            esc(r["block_digest"].as_str().unwrap_or("")),
            esc(r["payload_digest"].as_str().unwrap_or("")),
        );
    }
    b += "</table><h2>Inclusion proof</h2>";
    let inc = &v["inclusion"];
    if inc.is_null() {
        b += "<p>No signed checkpoint covers this post yet.</p>";
    } else {
        b += &format!(
            "<p>The post record is leaf {} of the tree of size {}; leaf hash <code>{}</code>, root <code>{}</code>. \
<a href=\"/api/log/proof/{}?size={}\">Proof as JSON</a>.</p><pre>{}</pre><h3>Checkpoint</h3><pre>{}</pre>",
            inc["leaf_index"],
            inc["tree_size"],
            esc(inc["leaf_hash"].as_str().unwrap_or("")),
            esc(inc["root"].as_str().unwrap_or("")),
            inc["leaf_index"],
            inc["tree_size"],
            esc(&inc["proof"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")),
            esc(inc["checkpoint"].as_str().unwrap_or("")),
        );
    }
    let title: String = v["text"]
        .as_str()
        .or(v["title"].as_str())
        .unwrap_or(id)
        .chars()
        .take(60)
        .collect();
    html_page(&title, "", &b)
}

fn account_posts(st: &AppState, platform: &str, id: &str) -> Result<Vec<Value>> {
    st.index()?.list(&ListFilter {
        platform: Some(platform.into()),
        author: Some(id.into()),
        limit: 1000,
        ..Default::default()
    })
}

async fn account_page(
    State(st): St,
    UrlPath((platform, id)): UrlPath<(String, String)>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, false, move |st| {
        let list = account_posts(st, &platform, &id)?;
        Ok(account_html(&platform, &id, &list))
    })
    .await
}

fn account_html(platform: &str, id: &str, list: &[Value]) -> Response {
    let mut b = format!(
        "<h1>{} on {}</h1><p class=\"meta\">{} captured posts</p>",
        esc(id),
        esc(platform),
        list.len()
    );
    for v in list {
        b += &summary(v, None);
    }
    html_page(&format!("{id} on {platform}"), "", &b)
}

async fn verify_page(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| {
        let vkey = std::fs::read_to_string(st.root.join(layout::VERIFIER_KEY)).unwrap_or_default();
        Ok(verify_html(&vkey))
    })
    .await
}

fn verify_html(vkey: &str) -> Response {
    let b = format!(
        "<h1>How to check anything here</h1>\
<p>Every capture is a set of WARC records (the HTTP requests and responses, pictures, TLS certificates) \
and a post record. Each record is a leaf of an append-only Merkle tree (RFC 6962), and the archive signs \
checkpoints of that tree (C2SP signed notes). Nothing here asks you to trust this server:</p><ol>\
<li>Download a post's <b>evidence bundle</b> (button on each post page) and run \
<code>samizdat verify-bundle bundle.zip --vkey log.vkey</code>. It re-hashes every record, checks the \
inclusion proof against the signed checkpoint and any RFC 3161 timestamps, offline.</li>\
<li>The log is public: the latest checkpoint is at <a href=\"/log/checkpoint\">/log/checkpoint</a> and the \
tree tiles at <code>/log/tile/…</code> (C2SP tlog-tiles), so any tlog client or witness can follow it and \
check that it only ever grows.</li>\
<li>Each post page lists its records' digests and leaf indexes and an inclusion proof; \
<code>/api/log/proof/LEAF?size=N</code> gives the same as JSON.</li>\
<li>The WACZ download replays in any WACZ viewer (ReplayWeb.page, pywb).</li></ol>\
<h2>The log's verifier key</h2><pre>{}</pre>",
        esc(vkey.trim())
    );
    html_page("Verify", "", &b)
}

/// The Content-Type and Content-Encoding a record's body is served with: the HTTP
/// headers' for `application/http` records, the record's own otherwise.
fn raw_type(rec: &crate::store::warc::Record) -> (String, Option<String>) {
    let is_http = rec
        .field("Content-Type")
        .is_some_and(|c| c.starts_with("application/http"));
    let mut ct = rec
        .field("Content-Type")
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut enc = None;
    if is_http && let Some(end) = crate::store::warc::find_header_end(&rec.block) {
        ct = "application/octet-stream".into();
        for line in String::from_utf8_lossy(&rec.block[..end]).lines().skip(1) {
            if let Some((n, v)) = line.split_once(':') {
                if n.trim().eq_ignore_ascii_case("content-type") {
                    ct = v.trim().to_string();
                } else if n.trim().eq_ignore_ascii_case("content-encoding") {
                    enc = Some(v.trim().to_ascii_lowercase());
                }
            }
        }
    }
    (ct, enc)
}

/// Sends what is written to it as response body chunks; a write fails once the client
/// has gone, or past `cap` bytes (the decoded-size bound of encoded bodies).
struct ToBody {
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    sent: u64,
    cap: u64,
}

impl std::io::Write for ToBody {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.sent);
        if room == 0 {
            return Err(std::io::Error::other("decoded body over the bound: cut"));
        }
        let n = (b.len() as u64).min(room) as usize;
        self.tx
            .blocking_send(Ok(bytes::Bytes::copy_from_slice(&b[..n])))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        self.sent += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Streams a record's payload to the response, undoing its Content-Encoding on the way.
struct RawSink {
    head: Option<tokio::sync::oneshot::Sender<(String, Option<String>)>>,
    tx: Option<tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>>,
    out: Option<Box<dyn std::io::Write + Send>>,
    enc: Option<String>,
    path: PathBuf,
}

impl record_stream::RecordSink for RawSink {
    fn head(&mut self, rec: &crate::store::warc::Record) -> Result<()> {
        let (ct, enc) = raw_type(rec);
        self.enc = enc.clone();
        if let Some(h) = self.head.take() {
            let _ = h.send((ct, enc));
        }
        Ok(())
    }

    fn payload(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.out.is_none() {
            let Some(tx) = self.tx.take() else {
                return Ok(());
            };
            let identity = ToBody {
                tx: tx.clone(),
                sent: 0,
                cap: u64::MAX,
            };
            let cut = ToBody {
                tx,
                sent: 0,
                cap: capture::http::MAX_DECODED_BYTES as u64,
            };
            // The same decoders, and the same bound, as `capture::http::decode_body`.
            self.out = Some(match self.enc.as_deref() {
                Some("gzip") | Some("x-gzip") => Box::new(flate2::write::MultiGzDecoder::new(cut)),
                Some("deflate") => {
                    // zlib-wrapped by the spec, raw deflate in practice.
                    let zlib = chunk.len() >= 2
                        && chunk[0] & 0x0f == 8
                        && (u16::from(chunk[0]) << 8 | u16::from(chunk[1])) % 31 == 0;
                    if zlib {
                        Box::new(flate2::write::ZlibDecoder::new(cut))
                    } else {
                        Box::new(flate2::write::DeflateDecoder::new(cut))
                    }
                }
                Some("br") => {
                    Box::new(brotli_decompressor::DecompressorWriter::new(cut, 64 * 1024))
                }
                _ => Box::new(identity),
            });
        }
        let out = self.out.as_mut().expect("set above");
        out.write_all(chunk).map_err(|e| Error::io(&self.path, e))
    }
}

async fn raw(State(st): St, UrlPath(id): UrlPath<String>) -> std::result::Result<Response, Fail> {
    let permit = admit(&st.raws, RAWS, false)?;
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let task = {
        let st = st.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let ix = st.index()?;
            let row = ix
                .record_by_id(&id)?
                .ok_or_else(|| Error::NotFound(format!("no record {id:?}")))?;
            drop(ix);
            let mut sink = RawSink {
                head: Some(head_tx),
                tx: Some(tx.clone()),
                out: None,
                enc: None,
                path: st.root.join(layout::WARC_DIR).join(&row.file),
            };
            let r = record_stream::stream_record(&st.root, &row, &mut std::io::sink(), &mut sink);
            // Ends the body; a failure after the head cuts it short.
            drop(sink);
            if let Err(e) = &r {
                tracing::warn!("raw {id}: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            r
        })
    };
    let (ct, _) = match head_rx.await {
        Ok(h) => h,
        // No head: the record could not be found or read.
        Err(_) => {
            return Err(match task.await {
                Ok(Err(e)) => fail(e, false),
                Ok(Ok(())) => Fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the record has no head".into(),
                    false,
                ),
                Err(e) => Fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), false),
            });
        }
    };
    let body =
        axum::body::Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|c| (c, rx))
        }));
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RAW_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "Cross-Origin-Resource-Policy",
        HeaderValue::from_static("same-origin"),
    );
    Ok(r)
}

async fn api_posts(State(st): St, Query(lq): Query<ListQ>) -> std::result::Result<Response, Fail> {
    let f = lq.filter();
    blocking(&st, true, move |st| {
        let list = st.index()?.list(&f)?;
        Ok(axum::Json(json!({"posts": list})).into_response())
    })
    .await
}

async fn api_post(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, true, move |st| {
        let ix = st.index()?;
        let id = st.resolve(&ix, &key)?;
        let v = ix.post_json(&id)?.ok_or_else(|| Error::NotFound(id))?;
        Ok(axum::Json(v).into_response())
    })
    .await
}

async fn api_search(
    State(st): St,
    Query(sq): Query<SearchQ>,
) -> std::result::Result<Response, Fail> {
    let page_no = sq.page.unwrap_or(1).max(1);
    search::check_query(&sq.q).map_err(|m| Fail(StatusCode::BAD_REQUEST, m, true))?;
    let permit = admit(&st.searches, SEARCHES, true)?;
    blocking(&st, true, move |st| {
        let _permit = permit;
        if !archive::exists(&st.root) {
            return Err(Error::NotFound("no archive here yet".into()));
        }
        let v = run_search(&st.root, &sq.q, page_no, PAGE_SIZE)?;
        Ok(axum::Json(v).into_response())
    })
    .await
}

async fn api_account(
    State(st): St,
    UrlPath((platform, id)): UrlPath<(String, String)>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, true, move |st| {
        let list = account_posts(st, &platform, &id)?;
        Ok(axum::Json(json!({"platform": platform, "id": id, "posts": list})).into_response())
    })
    .await
}

/// An export made into a temporary file (unlinked once open), then streamed from it,
/// within the `[serve] max_exports` bound: the place is held until the last byte is sent
/// or the client goes away.
async fn export(st: Arc<AppState>, key: String, wacz: bool) -> std::result::Result<Response, Fail> {
    let permit = admit(&st.exports, EXPORTS, true)?;
    let (name, file, len) = blocking(&st, true, move |st| {
        let ix = st.index()?;
        let id = st.resolve(&ix, &key)?;
        drop(ix);
        let dir = std::env::temp_dir().join(format!("samizdat-export-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let safe: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let name = format!("{safe}.{}", if wacz { "wacz" } else { "zip" });
        let out = dir.join(&name);
        let r = if wacz {
            crate::evidence::wacz::export_wacz(
                &st.ctx(),
                std::slice::from_ref(&id),
                None,
                false,
                &out,
            )
        } else {
            crate::evidence::bundle::export_bundle(&st.ctx(), &id, &out)
        };
        let opened = r.and_then(|_| {
            let f = std::fs::File::open(&out).map_err(|e| Error::io(&out, e))?;
            let len = f.metadata().map_err(|e| Error::io(&out, e))?.len();
            Ok((f, len))
        });
        let _ = std::fs::remove_dir_all(&dir);
        let (f, len) = opened?;
        Ok((name, f, len))
    })
    .await?;
    let ct = if wacz {
        "application/wacz"
    } else {
        "application/zip"
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        file_body(file, permit),
    )
        .into_response())
}

/// A file sent in [`record_stream::CHUNK`] pieces, holding `permit` until it is sent.
fn file_body(f: std::fs::File, permit: OwnedSemaphorePermit) -> axum::body::Body {
    use tokio::io::AsyncReadExt;
    let f = tokio::fs::File::from_std(f);
    let chunks = futures_util::stream::try_unfold((f, permit), |(mut f, permit)| async move {
        let mut buf = bytes::BytesMut::with_capacity(record_stream::CHUNK);
        let n = f.read_buf(&mut buf).await?;
        Ok::<_, std::io::Error>((n > 0).then(|| (buf.freeze(), (f, permit))))
    });
    axum::body::Body::from_stream(chunks)
}

async fn api_bundle(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    export(st, key, false).await
}

async fn api_wacz(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    export(st, key, true).await
}

fn checkpoint_text(st: &AppState) -> Result<String> {
    std::fs::read_to_string(st.root.join(layout::CHECKPOINT))
        .map_err(|_| Error::NotFound("no checkpoint yet: nothing has been captured".into()))
}

async fn log_checkpoint(State(st): St) -> std::result::Result<Response, Fail> {
    let t = blocking(&st, true, checkpoint_text).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        t,
    )
        .into_response())
}

async fn api_checkpoint(State(st): St) -> std::result::Result<Response, Fail> {
    let v = blocking(&st, true, |st| {
        let text = checkpoint_text(st)?;
        let verifier = archive::read_verifier(&st.root)?;
        let cp = archive::latest_checkpoint(&st.root, &verifier)?
            .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        Ok(json!({"origin": cp.origin, "size": cp.size, "root": cp.root.to_base64(), "note": text, "vkey": verifier.to_vkey()}))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

#[derive(Deserialize)]
struct SizeQ {
    size: Option<u64>,
}

async fn api_proof(
    State(st): St,
    UrlPath(leaf): UrlPath<u64>,
    Query(q): Query<SizeQ>,
) -> std::result::Result<Response, Fail> {
    let v = blocking(&st, true, move |st| {
        let verifier = archive::read_verifier(&st.root)?;
        let latest = archive::latest_checkpoint(&st.root, &verifier)?;
        let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
        let cp = latest.ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        let size = q.size.unwrap_or(cp.size);
        if leaf >= size || size > cp.size {
            return Err(Error::Usage(format!(
                "leaf {leaf} is not in a tree of size {size} (the latest signed checkpoint \
                 covers {} leaves)",
                cp.size
            )));
        }
        // Checked against the signed checkpoint before it is served.
        let c = hs.checked_inclusion(leaf, size, &cp)?;
        Ok(json!({
            "leaf_index": leaf, "tree_size": size,
            "leaf_hash": c.leaf_hash.to_base64(),
            "root": c.root.to_base64(),
            "proof": c.proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

/// Parses a tlog-tiles path after `tile/`: `<L>/<N groups>[.p/<W>]`.
fn parse_tile_path(p: &str) -> Option<(u8, u64, u16)> {
    let (level, rest) = p.split_once('/')?;
    let level: u8 = level.parse().ok()?;
    let (groups, width) = match rest.split_once(".p/") {
        Some((g, w)) => (g, w.parse::<u16>().ok().filter(|w| (1..256).contains(w))?),
        None => (rest, 256),
    };
    let parts: Vec<&str> = groups.split('/').collect();
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let digits = if last { *part } else { part.strip_prefix('x')? };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    // Canonical form only (what tile_path writes).
    let w = (width != 256).then_some(width);
    (crate::log::hashes::tile_path(level, n, w) == format!("tile/{p}")).then_some((level, n, width))
}

async fn log_tile(
    State(st): St,
    UrlPath(path): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    let Some((level, n, width)) = parse_tile_path(&path) else {
        return Err(Fail(
            StatusCode::NOT_FOUND,
            format!("no tile {path:?}"),
            true,
        ));
    };
    let bytes = blocking(&st, true, move |st| {
        let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
        let verifier = archive::read_verifier(&st.root)?;
        let cp = archive::latest_checkpoint(&st.root, &verifier)?
            .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        // Every hash of the tile is checked against the signed checkpoint first.
        hs.checked_tile(level, n, width, &cp).map_err(|e| match e {
            Error::Damage(_) => e,
            e => Error::NotFound(e.to_string()),
        })
    })
    .await?;
    let cache = if width == 256 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct CaptureReq {
    url: String,
    #[serde(default)]
    watch: bool,
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn api_capture(
    State(st): St,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Response, Fail> {
    let Some(token) = &st.token else {
        return Err(Fail(
            StatusCode::FORBIDDEN,
            "this server is read-only: no [serve] token_file is configured, so captures cannot be requested over the API".into(),
            true,
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => {}
        _ => {
            let mut r = Fail(
                StatusCode::UNAUTHORIZED,
                "a valid `Authorization: Bearer <token>` header is required".into(),
                true,
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"samizdat\""),
            );
            return Ok(r);
        }
    }
    let req: CaptureReq = serde_json::from_slice(&body).map_err(|e| {
        Fail(
            StatusCode::BAD_REQUEST,
            format!("want a JSON body {{\"url\": \"…\", \"watch\": false}}: {e}"),
            true,
        )
    })?;
    let writer = {
        let mut w = st.writer.lock().await;
        if w.is_none() {
            let (root, config) = (st.root.clone(), st.config.clone());
            let a = tokio::task::spawn_blocking(move || Archive::open(&root, config))
                .await
                .map_err(|e| Fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), true))?
                .map_err(|e| fail(e, true))?;
            let (writer, _handle) = Writer::start(a);
            *w = Some(writer);
        }
        w.clone().expect("set above")
    };
    let fetcher = st
        .fetcher
        .clone()
        .expect("a fetcher exists when a token does");
    let r = capture::capture_one(&req.url, &CaptureOptions::default(), &fetcher, &writer).await;
    let mut v = serde_json::to_value(&r).expect("results serialise");
    if req.watch {
        // Watched like `samizdat watch add`, through the same SSRF-guarded fetcher, and
        // recorded as from the API: `watch run` fetches all it leads to under the guard.
        let w = crate::watch::Watcher::new(
            &st.config,
            fetcher.clone(),
            writer.clone(),
            st.root.join(crate::store::archive::layout::INDEX),
        )
        .adding_for_api();
        let rep = w.add(&req.url, None, None).await;
        v["watch"] = serde_json::to_value(&rep).expect("reports serialise");
    }
    let code = if r.status == "failed" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((code, axum::Json(v)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_round_trip() {
        assert_eq!(parse_tile_path("0/000"), Some((0, 0, 256)));
        assert_eq!(
            parse_tile_path("0/x001/x234/067"),
            Some((0, 1_234_067, 256))
        );
        assert_eq!(parse_tile_path("1/000.p/7"), Some((1, 0, 7)));
        assert_eq!(parse_tile_path("0/1"), None);
        assert_eq!(parse_tile_path("0/000.p/256"), None);
        assert_eq!(parse_tile_path("0/x000/001"), None);
    }

    #[test]
    fn hostile_html_is_defused() {
        let h = html::sanitize(
            "<p onclick=\"x()\">hi<script>alert(1)</script><img src=x onerror=\"alert(2)\"><a href=\"javascript:alert(3)\">l</a></p>",
            &Default::default(),
        );
        assert!(!h.contains("script") && !h.contains("onerror") && !h.contains("onclick"));
        assert!(!h.contains("javascript:"), "{h}");
        let archived = [(
            "https://img.example/a.png".to_string(),
            "urn:uuid:1".to_string(),
        )]
        .into_iter()
        .collect();
        let h = html::sanitize(
            "<img src=\"https://img.example/a.png\" alt=\"a\"><img src=\"https://tracker.example/t.gif\" alt=\"t\">",
            &archived,
        );
        assert!(h.contains("src=\"/raw/urn%3Auuid%3A1\""), "{h}");
        assert!(!h.contains("tracker.example"), "{h}");
    }

    #[test]
    fn highlight_escapes_and_marks() {
        assert_eq!(
            html::highlight("<b>冻结</b> 卡", "冻结", None),
            "&lt;b&gt;<mark>冻结</mark>&lt;/b&gt; 卡"
        );
    }
}
