//! [`TestServer`]: a real HTTP/1.1 loopback server (hyper 1) with built-in routes for
//! transfer/content encodings, charsets, redirects, errors, slow and endless bodies,
//! politeness (`/retry-after`), an article page with images, cookies and header echo,
//! plus runtime fixture routes ([`TestServer::route`]). [`tls_server`] is the same over
//! HTTPS with a throwaway CA.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::fixtures::*;

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

/// A throwaway CA and a leaf for 127.0.0.1/localhost written as PEM files in `dir`, for
/// servers that are not this one (the SMTP server): (CA, leaf chain, leaf key).
pub fn test_pki_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca_pem, chain, key) = make_test_pki();
    let pem = |tag: &str, der: &[u8]| {
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = format!("-----BEGIN {tag}-----\n");
        for line in b.as_bytes().chunks(64) {
            out += std::str::from_utf8(line).unwrap();
            out += "\n";
        }
        out + &format!("-----END {tag}-----\n")
    };
    let chain_pem: String = chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
    let key_pem = pem("PRIVATE KEY", key.secret_der());
    let (ca, cert, k) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&ca, ca_pem).unwrap();
    std::fs::write(&cert, chain_pem).unwrap();
    std::fs::write(&k, key_pem).unwrap();
    (ca, cert, k)
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
