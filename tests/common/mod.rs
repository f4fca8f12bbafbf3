//! Shared helpers for samizdat's integration tests (`mod common;` in each test file).
//!
//! * [`TestServer`] — a real HTTP/1.1 loopback server (hyper 1) with built-in routes for
//!   transfer/content encodings, charsets, redirects, errors, slow and endless bodies,
//!   politeness (`/retry-after`), an article page with images, cookies and header echo,
//!   plus runtime fixture routes ([`TestServer::route`]). [`tls_server`] is the same over
//!   HTTPS with a throwaway CA.
//! * [`samizdat`], [`run_ok`], [`run_code`], [`write_config`], [`warc_files`] — drive the
//!   built binary against a temporary archive folder.
//! * Independent validators from the Python venv made by `scripts/setup-validators.sh`:
//!   [`warcio_check`], [`cdxj_index`], [`pywb_replay`], [`wacz_validate`]. A missing venv is
//!   a panic, never a skip.
//!
//! Everything binds 127.0.0.1 only; tests never reach the internet.
#![allow(dead_code)]

pub mod serve;
pub mod tsa;

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener as StdTcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

// ---------------------------------------------------------------------------
// Fixture content (public so tests can assert on it)
// ---------------------------------------------------------------------------

/// Chinese text of the GBK pages (`/gbk`, `/gbk-meta`, `/mislabelled`).
pub const GBK_TEXT: &str = "反诈中心冻结了我的银行卡和支付宝";
/// `<title>` of `/page`.
pub const PAGE_TITLE: &str = "Samizdat Test Article";
/// `og:title` of `/page`.
pub const PAGE_OG_TITLE: &str = "OG: Samizdat Test Article";
/// JSON-LD headline of `/page`.
pub const PAGE_HEADLINE: &str = "Local loopback article for archiving tests";
/// The pieces `/chunked` sends, one HTTP chunk each (the body is their concatenation).
pub const CHUNKED_PARTS: &[&str] = &[
    "<!doctype html><html><head><title>Chunked</title></head><body>",
    "<p>first chunk</p>",
    "<p>second chunk</p>",
    "<p>third chunk</p>",
    "</body></html>",
];
/// The HTML that `/gzip` and `/br` send compressed.
pub const COMPRESSED_HTML: &str = "<!doctype html><html><head><title>Compressed</title></head>\
<body><p>This body travels with a Content-Encoding. Archive the encoded bytes.</p>\
<p>Repeat repeat repeat repeat repeat repeat repeat repeat repeat.</p></body></html>";
/// Value of the `session` cookie set by `/set-cookie`.
pub const SECRET_COOKIE: &str = "SECRET-s3ss10n-7f1c2e";
/// Bytes of zeros that the `/gzip-bomb` body inflates to (1 GiB).
pub const GZIP_BOMB_INFLATED: u64 = 1 << 30;
/// Number of body pieces `/slow-body` sends unless `chunks=` is given.
pub const SLOW_BODY_CHUNKS: u64 = 5;

pub const PNG_BYTES: &[u8] = include_bytes!("fixtures/a.png");
pub const JPEG_BYTES: &[u8] = include_bytes!("fixtures/b.jpg");

/// The GBK page as GBK bytes. `with_meta` adds `<meta charset="gbk">` (used by `/gbk` and
/// `/gbk-meta`, which serve identical bytes); `/mislabelled` serves the variant without it,
/// so only content sniffing can find the charset there.
pub fn gbk_page(with_meta: bool) -> Vec<u8> {
    let meta = if with_meta {
        "<meta charset=\"gbk\">"
    } else {
        ""
    };
    let html = format!(
        "<!doctype html><html><head>{meta}<title>{GBK_TEXT}</title></head>\
         <body><article><h1>{GBK_TEXT}</h1><p>{GBK_TEXT}。我该怎么办？</p></article></body></html>"
    );
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(&html);
    assert!(!had_errors);
    bytes.into_owned()
}

/// HTML of `/page`; `base` is the server's base URL (for og:url / og:image).
pub fn page_html(base: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>{PAGE_TITLE}</title>
<meta name="description" content="A test article served on loopback.">
<meta property="og:type" content="article">
<meta property="og:title" content="{PAGE_OG_TITLE}">
<meta property="og:description" content="OpenGraph description of the test article.">
<meta property="og:url" content="{base}/page">
<meta property="og:image" content="{base}/img/a.png">
<meta property="article:published_time" content="2026-01-02T03:04:05Z">
<script type="application/ld+json">
{{"@context":"https://schema.org","@type":"NewsArticle","headline":"{PAGE_HEADLINE}",
"datePublished":"2026-01-02T03:04:05Z","author":{{"@type":"Person","name":"Jane Reporter"}},
"image":["{base}/img/a.png","{base}/img/b.jpg"]}}
</script>
</head><body>
<article>
<h1>{PAGE_HEADLINE}</h1>
<p class="byline">By Jane Reporter</p>
<p>First paragraph of the article body.</p>
<img src="/img/a.png" alt="image a">
<p>Second paragraph, between two images.</p>
<img src="/img/b.jpg" alt="image b">
</article>
</body></html>
"#
    )
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// One gzip member inflating to [`GZIP_BOMB_INFLATED`] zero bytes (~1 MB), built once.
pub fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for _ in 0..(GZIP_BOMB_INFLATED >> 20) {
            e.write_all(&zeros).unwrap();
        }
        Bytes::from(e.finish().unwrap())
    })
    .clone()
}

// ---------------------------------------------------------------------------
// Responses and recorded requests
// ---------------------------------------------------------------------------

/// A static answer for [`TestServer::route`].
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer only after this pause (to see how many requests are in flight at once).
    pub delay_ms: u64,
}

impl Resp {
    pub fn new(status: u16) -> Self {
        Resp {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay_ms: 0,
        }
    }
    /// 200 with `Content-Type: text/html; charset=utf-8`.
    pub fn html(body: impl Into<Vec<u8>>) -> Self {
        Resp::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(body)
    }
    /// 200 with `Content-Type: application/json`.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Resp::new(200)
            .header("Content-Type", "application/json")
            .body(body)
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn delay(mut self, ms: u64) -> Self {
        self.delay_ms = ms;
        self
    }
}

/// What the server received: method, path+query, headers (lower-case names, in arrival
/// order as far as hyper keeps it), body.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

struct Shared {
    base: String,
    requests: Mutex<Vec<RecordedRequest>>,
    routes: Mutex<HashMap<String, Resp>>,
    counters: Mutex<HashMap<String, usize>>,
    /// Requests being answered now, and the most at once so far.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Shared {
    fn lookup_route(&self, pq: &str) -> Option<Resp> {
        let routes = self.routes.lock().unwrap();
        if let Some(r) = routes.get(pq) {
            return Some(r.clone());
        }
        let stripped = strip_cache_buster(pq);
        if stripped != pq {
            routes.get(&stripped).cloned()
        } else {
            None
        }
    }
}

/// Removes a trailing `_=…` query parameter (a jQuery-style cache buster).
fn strip_cache_buster(pq: &str) -> String {
    if let Some(i) = pq.rfind("&_=")
        && !pq[i + 3..].contains('&')
    {
        return pq[..i].to_string();
    }
    if let Some(i) = pq.rfind("?_=")
        && !pq[i + 3..].contains('&')
    {
        return pq[..i].to_string();
    }
    pq.to_string()
}

// ---------------------------------------------------------------------------
// TestServer
// ---------------------------------------------------------------------------

/// A loopback HTTP/1.1 (or HTTPS) server running on its own thread and tokio runtime, so it
/// works from plain `#[test]` and from `#[tokio::test]` alike. Stopped on Drop.
pub struct TestServer {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a plain-HTTP server on 127.0.0.1:<free port>.
    pub fn start() -> TestServer {
        Self::start_inner(None)
    }

    fn start_inner(tls: Option<Arc<rustls::ServerConfig>>) -> TestServer {
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            base: format!("{scheme}://{addr}"),
            requests: Mutex::new(Vec::new()),
            routes: Mutex::new(HashMap::new()),
            counters: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-server-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("test server runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
                    tokio::select! {
                        _ = accept_loop(listener, sh, acceptor) => {}
                        _ = rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .expect("spawn test server thread");
        TestServer {
            addr,
            scheme,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
            _tmp: None,
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://…`), no trailing slash.
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }
    /// `base_url() + path` (path starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.shared.base, path)
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }
    /// Number of requests received for `path`. With a `?` it must equal the request's
    /// path+query; without, the query of requests is ignored.
    pub fn hits(&self, path: &str) -> usize {
        let reqs = self.shared.requests.lock().unwrap();
        if path.contains('?') {
            reqs.iter().filter(|r| r.path == path).count()
        } else {
            reqs.iter().filter(|r| r.path_only() == path).count()
        }
    }
    /// All requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }
    /// The most requests this server was answering at one moment.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Forgets recorded requests and per-server counters (e.g. for `/retry-after`).
    pub fn clear(&self) {
        self.shared.requests.lock().unwrap().clear();
        self.shared.counters.lock().unwrap().clear();
    }
    /// Adds (or replaces) a static answer for `path_and_query` (e.g. `/api/post?id=1`).
    /// Matching is exact on path+query, except that a request whose query ends in a
    /// cache-buster `&_=…` (or is only `?_=…`) also matches the route without it.
    /// Routes take precedence over the built-in ones.
    pub fn route(&self, path_and_query: &str, resp: Resp) {
        self.shared
            .routes
            .lock()
            .unwrap()
            .insert(path_and_query.to_string(), resp);
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a plain-HTTP [`TestServer`].
pub fn server() -> TestServer {
    TestServer::start()
}

/// The same server over HTTPS: a throwaway CA (rcgen) signs a certificate for `127.0.0.1`
/// and `localhost`. Returns the server and the CA's PEM file (deleted when the server drops),
/// for samizdat's `extra_ca_file`.
pub fn tls_server() -> (TestServer, PathBuf) {
    let (ca_pem, chain, key) = make_test_pki();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("rustls server config");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut srv = TestServer::start_inner(Some(Arc::new(cfg)));
    let tmp = tempfile::tempdir().unwrap();
    let ca_path = tmp.path().join("test-ca.pem");
    std::fs::write(&ca_path, ca_pem).unwrap();
    srv._tmp = Some(tmp);
    (srv, ca_path)
}

/// A self-signed CA and a leaf for 127.0.0.1/localhost: (CA PEM, [leaf, CA] DER chain, leaf key).
fn make_test_pki() -> (
    String,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "samizdat test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params.signed_by(&leaf_key, &*ca).unwrap();

    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    (ca.pem(), chain, key)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    sh: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sh = sh.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let sh = sh.clone();
                async move { Ok::<_, Infallible>(handle(req, sh).await) }
            });
            let conn = http1::Builder::new();
            match tls {
                Some(acc) => {
                    if let Ok(s) = acc.accept(stream).await {
                        let _ = conn.serve_connection(TokioIo::new(s), svc).await;
                    }
                }
                None => {
                    let _ = conn.serve_connection(TokioIo::new(stream), svc).await;
                }
            }
        });
    }
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed_unsync()
}

/// A streaming body fed through a channel; the producer stops when the client goes away.
fn channel_body() -> (tokio::sync::mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let s = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    (tx, StreamBody::new(s).boxed_unsync())
}

fn resp(status: u16, headers: &[(&str, &str)], body: Body) -> Response<Body> {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body).unwrap()
}

fn html(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    resp(
        status,
        &[("Content-Type", "text/html; charset=utf-8")],
        full(body),
    )
}

fn resp_from_spec(r: &Resp) -> Response<Body> {
    let mut b = Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(full(r.body.clone())).unwrap()
}

async fn handle(req: Request<Incoming>, sh: Arc<Shared>) -> Response<Body> {
    let method = req.method().to_string();
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    let rec = RecordedRequest {
        method,
        path: pq.clone(),
        headers,
        body,
    };
    sh.requests.lock().unwrap().push(rec.clone());
    let now = sh.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sh.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let out = match sh.lookup_route(&pq) {
        Some(r) => {
            if r.delay_ms > 0 {
                tokio::time::sleep(Duration::from_millis(r.delay_ms)).await;
            }
            resp_from_spec(&r)
        }
        None => builtin(&rec, &sh).await,
    };
    sh.in_flight.fetch_sub(1, Ordering::SeqCst);
    out
}

fn query_params(pq: &str) -> HashMap<String, String> {
    match pq.split_once('?') {
        Some((_, q)) => url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect(),
        None => HashMap::new(),
    }
}

async fn builtin(rec: &RecordedRequest, sh: &Shared) -> Response<Body> {
    let path = rec.path_only().to_string();
    let q = query_params(&rec.path);
    let num = |k: &str, default: u64| {
        q.get(k)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    match path.as_str() {
        "/" => html(
            200,
            "<!doctype html><html><head><title>samizdat test server</title></head><body>ok</body></html>",
        ),
        "/chunked" => {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                for part in CHUNKED_PARTS {
                    if tx.send(Bytes::from_static(part.as_bytes())).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
            // No Content-Length and an unsized body: hyper sends Transfer-Encoding: chunked.
            resp(200, &[("Content-Type", "text/html; charset=utf-8")], body)
        }
        "/gzip" => resp(
            200,
            &[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Vary", "Accept-Encoding"),
            ],
            full(gzip_bytes(COMPRESSED_HTML.as_bytes())),
        ),
        "/br" => resp(
            200,
            &[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "br"),
                ("Vary", "Accept-Encoding"),
            ],
            full(brotli_bytes(COMPRESSED_HTML.as_bytes())),
        ),
        "/gbk" => resp(
            200,
            &[("Content-Type", "text/html; charset=gbk")],
            full(gbk_page(true)),
        ),
        "/gbk-meta" => resp(200, &[("Content-Type", "text/html")], full(gbk_page(true))),
        "/mislabelled" => resp(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            full(gbk_page(false)),
        ),
        "/redirect-loop" => resp(
            302,
            &[("Location", "/redirect-loop")],
            full("redirect loop\n"),
        ),
        "/redirect-to" => match q.get("url") {
            Some(u) => resp(302, &[("Location", u.as_str())], full("redirecting\n")),
            None => html(400, "missing url parameter"),
        },
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(num("ms", 1000))).await;
            html(
                200,
                "<!doctype html><html><head><title>Slow</title></head><body>slow</body></html>",
            )
        }
        "/slow-body" => {
            // Headers at once; then `chunks` pieces, each after a `ms` pause.
            let ms = num("ms", 1000);
            let chunks = num("chunks", SLOW_BODY_CHUNKS);
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                for i in 0..chunks {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    if tx
                        .send(Bytes::from(format!("<p>piece {i}</p>\n")))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            resp(200, &[("Content-Type", "text/html; charset=utf-8")], body)
        }
        "/never-ending" => {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let _ = tx
                    .send(Bytes::from_static(b"<!doctype html><html><body>"))
                    .await;
                let piece = Bytes::from(b"<p>more</p>\n".repeat(1365)); // ~16 KiB
                while tx.send(piece.clone()).await.is_ok() {}
            });
            resp(200, &[("Content-Type", "text/html; charset=utf-8")], body)
        }
        "/big" => {
            let n = num("bytes", 1 << 20);
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let block = Bytes::from(b"0123456789abcdef".repeat(4096)); // 64 KiB
                let mut left = n;
                while left > 0 {
                    let take = left.min(block.len() as u64) as usize;
                    if tx.send(block.slice(..take)).await.is_err() {
                        return;
                    }
                    left -= take as u64;
                }
            });
            let len = n.to_string();
            resp(
                200,
                &[
                    ("Content-Type", "application/octet-stream"),
                    ("Content-Length", len.as_str()),
                ],
                body,
            )
        }
        "/gzip-bomb" => {
            let bomb = tokio::task::spawn_blocking(gzip_bomb).await.unwrap();
            resp(
                200,
                &[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                full(bomb),
            )
        }
        "/retry-after" => {
            let k = num("n", 1) as usize;
            let count = {
                let mut c = sh.counters.lock().unwrap();
                let e = c.entry(rec.path.clone()).or_insert(0);
                *e += 1;
                *e
            };
            if count <= k {
                resp(
                    429,
                    &[("Retry-After", "1"), ("Content-Type", "text/plain")],
                    full("slow down\n"),
                )
            } else {
                html(
                    200,
                    "<!doctype html><html><head><title>Finally</title></head><body>ok after retries</body></html>",
                )
            }
        }
        "/page" => html(200, page_html(&sh.base)),
        "/set-cookie" => {
            let c1 = format!("session={SECRET_COOKIE}; Path=/; HttpOnly");
            resp(
                200,
                &[
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Set-Cookie", c1.as_str()),
                    ("Set-Cookie", "theme=dark; Path=/"),
                ],
                full(
                    "<!doctype html><html><head><title>Cookie</title></head><body>cookie set</body></html>",
                ),
            )
        }
        "/echo-headers" => {
            let mut m = serde_json::Map::new();
            for (k, v) in &rec.headers {
                match m.get_mut(k) {
                    Some(serde_json::Value::String(s)) => {
                        s.push_str(", ");
                        s.push_str(v);
                    }
                    _ => {
                        m.insert(k.clone(), serde_json::Value::String(v.clone()));
                    }
                }
            }
            resp(
                200,
                &[("Content-Type", "application/json")],
                full(serde_json::to_vec(&m).unwrap()),
            )
        }
        p if p.starts_with("/redirect/") => match p["/redirect/".len()..].parse::<u32>() {
            Ok(0) => html(
                200,
                "<!doctype html><html><head><title>Redirect target</title></head><body>arrived</body></html>",
            ),
            Ok(n) => {
                let loc = format!("/redirect/{}", n - 1);
                resp(302, &[("Location", loc.as_str())], full("redirecting\n"))
            }
            Err(_) => html(400, "bad hop count"),
        },
        p if p.starts_with("/status/") => match p["/status/".len()..].parse::<u16>() {
            Ok(code) if (100..1000).contains(&code) && code >= 200 => {
                if code == 204 || code == 304 {
                    resp(code, &[], full(Bytes::new()))
                } else {
                    resp(
                        code,
                        &[("Content-Type", "text/plain")],
                        full(format!("status {code}\n")),
                    )
                }
            }
            _ => html(400, "bad status code"),
        },
        p if p.starts_with("/img/") => {
            let name = &p["/img/".len()..];
            if name.ends_with(".png") {
                resp(
                    200,
                    &[("Content-Type", "image/png")],
                    full(Bytes::from_static(PNG_BYTES)),
                )
            } else if name.ends_with(".jpg") || name.ends_with(".jpeg") {
                resp(
                    200,
                    &[("Content-Type", "image/jpeg")],
                    full(Bytes::from_static(JPEG_BYTES)),
                )
            } else {
                html(404, "no such image")
            }
        }
        _ => resp(404, &[("Content-Type", "text/plain")], full("not found\n")),
    }
}

// ---------------------------------------------------------------------------
// A tiny blocking HTTP/1.1 client (for pywb and sync tests; no TLS, no decompression)
// ---------------------------------------------------------------------------

/// Status, headers (names as sent), body (de-chunked, never decompressed).
pub type HttpResult = (u16, Vec<(String, String)>, Vec<u8>);

/// GET `url` (http only) with `Connection: close`; returns raw status/headers/body.
pub fn http_get(url: &str) -> std::io::Result<HttpResult> {
    let u = url::Url::parse(url).map_err(|e| std::io::Error::other(e.to_string()))?;
    if u.scheme() != "http" {
        return Err(std::io::Error::other("http_get: only http:// URLs"));
    }
    let host = u.host_str().unwrap_or("127.0.0.1").to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let mut path = u.path().to_string();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut s = TcpStream::connect((host.as_str(), port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nAccept-Encoding: identity\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_http_response(&raw)
}

/// Parses a complete HTTP/1.x response (as read until close).
pub fn parse_http_response(raw: &[u8]) -> std::io::Result<HttpResult> {
    let bad = |m: &str| std::io::Error::other(format!("bad HTTP response: {m}"));
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty"))?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(status_line))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("chunked framing"))?;
    }
    Ok((status, headers, body))
}

/// Removes HTTP/1.1 chunked framing; None if the framing is broken.
pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; tiny race window).
pub fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------
// Running samizdat
// ---------------------------------------------------------------------------

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory (removed on drop).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// `samizdat --archive <archive>`, with proxies disabled so loopback stays loopback.
pub fn samizdat(archive: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samizdat"));
    c.arg("--archive").arg(archive);
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    c.env("RUST_BACKTRACE", "1");
    c.stdin(Stdio::null());
    c
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, asserts exit 0 (printing stdout/stderr otherwise), returns its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    if !out.status.success() {
        panic!(
            "command failed ({}): {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            describe(cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Runs `cmd`; returns (exit code, or -1 if killed by a signal; stdout; stderr).
pub fn run_code(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Parses JSON-lines output (`--json`), skipping blank lines; panics on a bad line.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Writes `archive/samizdat.toml` (creating the folder).
pub fn write_config(archive: &Path, toml: &str) {
    std::fs::create_dir_all(archive).unwrap();
    std::fs::write(archive.join("samizdat.toml"), toml).unwrap();
}

/// `archive/warc/*.warc.gz`, sorted by name.
pub fn warc_files(archive: &Path) -> Vec<PathBuf> {
    let dir = archive.join("warc");
    let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// Independent validators (Python venv from scripts/setup-validators.sh)
// ---------------------------------------------------------------------------

/// `$SAMIZDAT_VENV`, else `<repo>/.venv`. Panics (never skips) when the tools are missing.
pub fn venv_dir() -> PathBuf {
    let dir = std::env::var_os("SAMIZDAT_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    if !dir.join("bin/warcio").exists() || !dir.join("bin/wayback").exists() {
        panic!(
            "validator venv not found at {} (no bin/warcio or bin/wayback): run scripts/setup-validators.sh",
            dir.display()
        );
    }
    dir
}

/// Path of a tool inside the venv.
pub fn venv_tool(name: &str) -> PathBuf {
    venv_dir().join("bin").join(name)
}

fn run_tool(name: &str, args: &[&std::ffi::OsStr], cwd: Option<&Path>) -> (bool, String, String) {
    let mut c = Command::new(venv_tool(name));
    c.args(args).stdin(Stdio::null());
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os_args(files: &[PathBuf]) -> Vec<&std::ffi::OsStr> {
    files.iter().map(|p| p.as_os_str()).collect()
}

/// `warcio check -v FILES`: Ok(output) when every digest passes, Err(output) otherwise.
pub fn warcio_check(files: &[PathBuf]) -> Result<String, String> {
    assert!(!files.is_empty(), "warcio_check: no files");
    let mut args: Vec<&std::ffi::OsStr> = vec!["check".as_ref(), "-v".as_ref()];
    args.extend(os_args(files));
    let (ok, out, err) = run_tool("warcio", &args, None);
    let all = format!("{out}{err}");
    if ok { Ok(all) } else { Err(all) }
}

/// Panics (with warcio's output) unless `warcio check -v` passes on all `files`.
pub fn assert_warcio_ok(files: &[PathBuf]) -> String {
    match warcio_check(files) {
        Ok(out) => out,
        Err(out) => panic!("warcio check failed on {files:?}:\n{out}"),
    }
}

/// `cdxj-indexer FILES` output (CDXJ lines); panics on failure.
pub fn cdxj_index(files: &[PathBuf]) -> String {
    let (ok, out, err) = run_tool("cdxj-indexer", &os_args(files), None);
    assert!(ok, "cdxj-indexer failed on {files:?}:\n{out}{err}");
    out
}

/// `wacz validate -f PATH`: Ok(output) or Err(output).
pub fn wacz_validate(path: &Path) -> Result<String, String> {
    let (ok, out, err) = run_tool(
        "wacz",
        &["validate".as_ref(), "-f".as_ref(), path.as_os_str()],
        None,
    );
    let all = format!("{out}{err}");
    if ok { Ok(all) } else { Err(all) }
}

/// Panics unless `wacz validate` passes.
pub fn assert_wacz_ok(path: &Path) -> String {
    wacz_validate(path)
        .unwrap_or_else(|out| panic!("wacz validate failed on {}:\n{out}", path.display()))
}

/// Kills the child by PID on drop.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Replays `url` from `warc_files` through pywb on loopback and returns what pywb served in
/// `id_` (identity) mode: (status, headers, body bytes). Uses a temporary collection
/// (`wb-manager init/add`), `wayback -b 127.0.0.1 -p <free port>`, finds the capture's
/// timestamp via the collection's CDX API and stops wayback by PID afterwards.
pub fn pywb_replay(warc_files: &[PathBuf], url: &str) -> HttpResult {
    let dir = tempdir();
    let coll = "evid";
    let (ok, o, e) = run_tool(
        "wb-manager",
        &["init".as_ref(), coll.as_ref()],
        Some(dir.path()),
    );
    assert!(ok, "wb-manager init failed:\n{o}{e}");
    let mut args: Vec<&std::ffi::OsStr> = vec!["add".as_ref(), coll.as_ref()];
    args.extend(os_args(warc_files));
    let (ok, o, e) = run_tool("wb-manager", &args, Some(dir.path()));
    assert!(ok, "wb-manager add failed:\n{o}{e}");

    let port = free_port();
    let log = std::fs::File::create(dir.path().join("wayback.log")).unwrap();
    let child = Command::new(venv_tool("wayback"))
        .args(["-b", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start wayback");
    let mut child = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}");
    let wb_log = || std::fs::read_to_string(dir.path().join("wayback.log")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http_get(&format!("{base}/")).is_ok() {
            break;
        }
        if let Ok(Some(st)) = child.0.try_wait() {
            panic!("wayback exited early ({st}):\n{}", wb_log());
        }
        assert!(
            Instant::now() < deadline,
            "wayback did not answer within 60 s:\n{}",
            wb_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let enc: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let (st, _, cdx) =
        http_get(&format!("{base}/{coll}/cdx?url={enc}&output=json")).expect("pywb cdx query");
    let cdx = String::from_utf8_lossy(&cdx).into_owned();
    assert_eq!(st, 200, "pywb cdx query failed: {cdx}\n{}", wb_log());
    let ts = cdx
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| {
            v.get("timestamp")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            panic!("{url} is not in the pywb index of {warc_files:?}; cdx said:\n{cdx}")
        });

    let mut target = format!("{base}/{coll}/{ts}id_/{url}");
    for _ in 0..5 {
        let r = http_get(&target).expect("pywb replay request");
        let loc =
            r.1.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.clone());
        match (r.0, loc) {
            // pywb redirects to the nearest capture when the timestamp differs.
            (301 | 302 | 307, Some(l)) if l.contains(&format!("/{coll}/")) => {
                target = if l.starts_with('/') {
                    format!("{base}{l}")
                } else {
                    l
                };
            }
            _ => return r,
        }
    }
    panic!("pywb kept redirecting for {url}")
}
