//! Self-test of the test infrastructure in `tests/it/common`: every built-in route of the
//! loopback `TestServer` behaves as documented, the TLS server is trusted only with its CA,
//! and the independent validators (warcio, cdxj-indexer, pywb) accept a hand-written valid
//! WARC, reject a tampered copy and replay it byte for byte.
//!
//! reqwest is built without automatic decompression, so bodies are checked as raw bytes.

use crate::common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let st = r.status().as_u16();
    let h = r.headers().clone();
    (st, h, r.bytes().await.unwrap().to_vec())
}

fn hv<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn encodings_and_charsets() {
    let s = server();

    // /chunked: raw framing shows several chunks; the de-chunked body is the parts joined.
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    write!(
        tcp,
        "GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).to_lowercase();
    assert!(text.contains("transfer-encoding: chunked"), "{text}");
    assert!(!text.contains("content-length"), "{text}");
    let (_, _, body) = parse_http_response(&raw).unwrap();
    assert_eq!(body, CHUNKED_PARTS.concat().as_bytes());
    let chunk_lines = text
        .split("\r\n")
        .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_hexdigit()))
        .count();
    assert!(
        chunk_lines >= CHUNKED_PARTS.len(),
        "expected several chunks:\n{text}"
    );

    // /gzip and /br: encoded bytes on the wire.
    let (st, h, body) = get(&s.url("/gzip")).await;
    assert_eq!(st, 200);
    assert_eq!(hv(&h, "content-encoding"), "gzip");
    assert_eq!(&body[..2], &[0x1f, 0x8b]);
    let mut dec = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut dec)
        .unwrap();
    assert_eq!(dec, COMPRESSED_HTML);

    let (st, h, body) = get(&s.url("/br")).await;
    assert_eq!(st, 200);
    assert_eq!(hv(&h, "content-encoding"), "br");
    let mut dec = Vec::new();
    brotli::Decompressor::new(&body[..], 4096)
        .read_to_end(&mut dec)
        .unwrap();
    assert_eq!(dec, COMPRESSED_HTML.as_bytes());

    // GBK pages.
    let gbk_meta = gbk_page(true);
    let (st, h, body) = get(&s.url("/gbk")).await;
    assert_eq!(st, 200);
    assert_eq!(hv(&h, "content-type"), "text/html; charset=gbk");
    assert_eq!(body, gbk_meta);
    assert!(
        std::str::from_utf8(&body).is_err(),
        "GBK bytes must not be valid UTF-8"
    );
    let (text, _, bad) = encoding_rs::GBK.decode(&body);
    assert!(!bad && text.contains(GBK_TEXT));

    let (_, h, body) = get(&s.url("/gbk-meta")).await;
    assert_eq!(hv(&h, "content-type"), "text/html");
    assert_eq!(body, gbk_meta, "/gbk-meta serves the same bytes as /gbk");
    assert!(String::from_utf8_lossy(&body).contains("<meta charset=\"gbk\">"));

    let (_, h, body) = get(&s.url("/mislabelled")).await;
    assert_eq!(hv(&h, "content-type"), "text/html; charset=utf-8");
    assert!(std::str::from_utf8(&body).is_err());
    assert!(
        !String::from_utf8_lossy(&body).contains("charset"),
        "no meta hint on /mislabelled"
    );
    assert!(encoding_rs::GBK.decode(&body).0.contains(GBK_TEXT));
}

#[tokio::test]
async fn redirects_and_statuses() {
    let s = server();
    let (st, h, _) = get(&s.url("/redirect/3")).await;
    assert_eq!(st, 302);
    assert_eq!(hv(&h, "location"), "/redirect/2");
    // A following client ends on a 200 after 3 hops.
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(s.url("/redirect/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.url().path(), "/redirect/0");
    assert_eq!(s.hits("/redirect/3"), 2);
    assert_eq!(s.hits("/redirect/0"), 1);

    let (st, h, _) = get(&s.url("/redirect-loop")).await;
    assert_eq!((st, hv(&h, "location")), (302, "/redirect-loop"));
    let err = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(s.url("/redirect-loop"))
        .send()
        .await;
    assert!(err.is_err(), "a following client must give up on the loop");

    let target = "http://127.0.0.1:9/x?y=1&z=2";
    let enc: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    let (st, h, _) = get(&s.url(&format!("/redirect-to?url={enc}"))).await;
    assert_eq!((st, hv(&h, "location")), (302, target));

    for code in [200u16, 404, 410, 500, 503] {
        let (st, _, body) = get(&s.url(&format!("/status/{code}"))).await;
        assert_eq!(st, code);
        assert_eq!(body, format!("status {code}\n").as_bytes());
    }
    let (st, _, body) = get(&s.url("/status/204")).await;
    assert_eq!((st, body.len()), (204, 0));
    let (st, _, _) = get(&s.url("/nope")).await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn slow_big_and_endless() {
    let s = server();
    let t = Instant::now();
    let (st, _, _) = get(&s.url("/slow?ms=300")).await;
    assert_eq!(st, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // Headers at once, then 2 pieces 600 ms apart (generous margins for a loaded CI box).
    let t = Instant::now();
    let r = client()
        .get(s.url("/slow-body?ms=600&chunks=2"))
        .send()
        .await
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(550),
        "headers must come at once: {:?}",
        t.elapsed()
    );
    let body = r.bytes().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(1200));
    assert_eq!(&body[..], b"<p>piece 0</p>\n<p>piece 1</p>\n");

    let (st, h, body) = get(&s.url("/big?bytes=3000001")).await;
    assert_eq!(st, 200);
    assert_eq!(hv(&h, "content-length"), "3000001");
    assert_eq!(body.len(), 3_000_001);
    assert_eq!(&body[..16], b"0123456789abcdef");

    // Endless chunked body: read 4 MiB and hang up.
    let mut r = client().get(s.url("/never-ending")).send().await.unwrap();
    assert!(r.headers().get("content-length").is_none());
    let mut n = 0usize;
    while n < 4 << 20 {
        n += r
            .chunk()
            .await
            .unwrap()
            .expect("never-ending must not end")
            .len();
    }
    drop(r);
}

#[tokio::test]
async fn retry_after_counts_per_server() {
    let s = server();
    for _ in 0..2 {
        let (st, h, _) = get(&s.url("/retry-after?n=2")).await;
        assert_eq!(st, 429);
        assert_eq!(hv(&h, "retry-after"), "1");
    }
    let (st, _, _) = get(&s.url("/retry-after?n=2")).await;
    assert_eq!(st, 200);
    assert_eq!(s.hits("/retry-after?n=2"), 3);
    assert_eq!(s.hits("/retry-after"), 3);
    // Another server starts its own count.
    let s2 = server();
    assert_eq!(get(&s2.url("/retry-after?n=1")).await.0, 429);
}

#[tokio::test]
async fn page_images_cookies_and_headers() {
    let s = server();
    let (st, h, body) = get(&s.url("/page")).await;
    assert_eq!(st, 200);
    assert!(hv(&h, "content-type").starts_with("text/html"));
    let html = String::from_utf8(body).unwrap();
    for needle in [
        format!("<title>{PAGE_TITLE}</title>"),
        format!("property=\"og:title\" content=\"{PAGE_OG_TITLE}\""),
        "application/ld+json".to_string(),
        "\"@type\":\"NewsArticle\"".to_string(),
        "src=\"/img/a.png\"".to_string(),
        "src=\"/img/b.jpg\"".to_string(),
        format!("{}/img/a.png", s.base_url()),
    ] {
        assert!(html.contains(&needle), "/page lacks {needle}");
    }
    let (st, h, png) = get(&s.url("/img/a.png")).await;
    assert_eq!((st, hv(&h, "content-type")), (200, "image/png"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (st, h, jpg) = get(&s.url("/img/b.jpg")).await;
    assert_eq!((st, hv(&h, "content-type")), (200, "image/jpeg"));
    assert_eq!(&jpg[..3], &[0xff, 0xd8, 0xff]);
    assert_eq!(&jpg[jpg.len() - 2..], &[0xff, 0xd9]);

    let (_, h, _) = get(&s.url("/set-cookie")).await;
    let cookies: Vec<_> = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with(&format!("session={SECRET_COOKIE}"))),
        "{cookies:?}"
    );

    let r = client()
        .get(s.url("/echo-headers?q=1"))
        .header("Referer", "http://127.0.0.1/ref")
        .header("Cookie", format!("session={SECRET_COOKIE}"))
        .header("X-Test", "a")
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["referer"], "http://127.0.0.1/ref");
    assert_eq!(v["x-test"], "a");

    let reqs = s.requests();
    let last = reqs.last().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(last.path, "/echo-headers?q=1");
    assert_eq!(last.header("Referer"), Some("http://127.0.0.1/ref"));
    assert_eq!(
        last.header("cookie"),
        Some(format!("session={SECRET_COOKIE}").as_str())
    );
    s.clear();
    assert!(s.requests().is_empty());
}

#[tokio::test]
async fn runtime_routes_and_cache_buster() {
    let s = server();
    s.route(
        "/api/post?id=42",
        Resp::json(r#"{"id":"42"}"#).header("X-Fixture", "yes"),
    );
    s.route(
        "/page",
        Resp::html("overridden").header("X-Fixture", "page"),
    );
    let (st, h, body) = get(&s.url("/api/post?id=42")).await;
    assert_eq!(
        (st, hv(&h, "x-fixture"), &body[..]),
        (200, "yes", &br#"{"id":"42"}"#[..])
    );
    assert_eq!(hv(&h, "content-type"), "application/json");
    let (st, _, body) = get(&s.url("/api/post?id=42&_=1700000000000")).await;
    assert_eq!((st, &body[..]), (200, &br#"{"id":"42"}"#[..]));
    assert_eq!(get(&s.url("/api/post?id=43")).await.0, 404);
    assert_eq!(get(&s.url("/page")).await.2, b"overridden");
    assert_eq!(get(&s.url("/page?_=5")).await.2, b"overridden");
    s.route("/teapot", Resp::new(418).body("short and stout"));
    assert_eq!(get(&s.url("/teapot")).await.0, 418);
}

#[tokio::test]
async fn gzip_bomb_is_small_on_the_wire_and_huge_inflated() {
    let s = server();
    let (st, h, body) = get(&s.url("/gzip-bomb")).await;
    assert_eq!(st, 200);
    assert_eq!(hv(&h, "content-encoding"), "gzip");
    assert!(hv(&h, "content-type").starts_with("text/html"));
    assert!(
        body.len() < 2 << 20,
        "bomb is {} bytes on the wire",
        body.len()
    );
    // Count inflated bytes without keeping them.
    let n = tokio::task::spawn_blocking(move || {
        std::io::copy(
            &mut flate2::read::GzDecoder::new(&body[..]),
            &mut std::io::sink(),
        )
        .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(n, GZIP_BOMB_INFLATED);
}

/// The server works from plain sync code too (own thread and runtime), and stops on drop.
#[test]
fn sync_usage_and_drop() {
    let s = TestServer::start();
    let addr = s.addr();
    let (st, _, body) = http_get(&s.url("/chunked")).unwrap();
    assert_eq!(st, 200);
    assert_eq!(body, CHUNKED_PARTS.concat().as_bytes());
    assert_eq!(s.hits("/chunked"), 1);
    drop(s);
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "server must stop on drop"
    );
}

#[tokio::test]
async fn tls_server_trusts_only_its_ca() {
    let (s, ca_path) = tls_server();
    assert!(s.base_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(&ca_path).unwrap();
    assert!(String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"));
    let ca = reqwest::Certificate::from_pem(&pem).unwrap();
    let good = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .resolve("localhost", s.addr())
        .build()
        .unwrap();
    for url in [
        s.url("/page"),
        format!("https://localhost:{}/page", s.addr().port()),
    ] {
        let r = good
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.text().await.unwrap().contains(PAGE_TITLE));
    }

    // Another CA's trust store must fail the handshake.
    let (_other, other_ca) = tls_server();
    let other = reqwest::Certificate::from_pem(&std::fs::read(&other_ca).unwrap()).unwrap();
    let bad = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([other])
        .build()
        .unwrap();
    assert!(
        bad.get(s.url("/page")).send().await.is_err(),
        "must not verify with a foreign CA"
    );
    // And so must the default (system) trust store, if it can be built here at all.
    if let Ok(c) = reqwest::Client::builder().no_proxy().build() {
        assert!(
            c.get(s.url("/page")).send().await.is_err(),
            "must not verify with system roots"
        );
    }
    assert!(s.hits("/page") >= 2);
}

// ---------------------------------------------------------------------------
// Validators on a hand-written WARC
// ---------------------------------------------------------------------------

const TARGET: &str = "https://example.com/selftest/post/1";
const PAYLOAD: &[u8] =
    b"<!doctype html><html><body><p>hello world \xe4\xbd\xa0\xe5\xa5\xbd</p></body></html>\n";

fn sha256_label(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// One WARC record as its own gzip member.
fn record(
    fields: &[(&str, String)],
    block: &[u8],
    digest_of: &[u8],
    payload_of: Option<&[u8]>,
) -> Vec<u8> {
    let mut head = String::from("WARC/1.1\r\n");
    for (k, v) in fields {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "WARC-Block-Digest: {}\r\n",
        sha256_label(digest_of)
    ));
    if let Some(p) = payload_of {
        head.push_str(&format!("WARC-Payload-Digest: {}\r\n", sha256_label(p)));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(head.as_bytes()).unwrap();
    e.write_all(block).unwrap();
    e.write_all(b"\r\n\r\n").unwrap();
    e.finish().unwrap()
}

/// warcinfo + response + request; with `tamper`, the response body differs from its digests
/// by one byte (same length).
fn write_warc(path: &Path, tamper: bool) {
    let date = "2026-01-02T03:04:05Z".to_string();
    let id = || format!("<urn:uuid:{}>", uuid::Uuid::new_v4());
    let (info_id, resp_id, req_id) = (id(), id(), id());
    let info = b"software: samizdat-infra-selftest\r\nformat: WARC File Format 1.1\r\n".to_vec();
    let http_head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        PAYLOAD.len()
    );
    let mut block = http_head.clone().into_bytes();
    block.extend_from_slice(PAYLOAD);
    let mut stored = block.clone();
    if tamper {
        let i = stored.len() - 20;
        stored[i] ^= 0x20;
    }
    let req_block =
        b"GET /selftest/post/1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: selftest\r\n\r\n"
            .to_vec();
    let mut out = Vec::new();
    out.extend(record(
        &[
            ("WARC-Type", "warcinfo".into()),
            ("WARC-Record-ID", info_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Filename", "selftest.warc.gz".into()),
            ("Content-Type", "application/warc-fields".into()),
        ],
        &info,
        &info,
        None,
    ));
    out.extend(record(
        &[
            ("WARC-Type", "response".into()),
            ("WARC-Record-ID", resp_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", TARGET.into()),
            ("WARC-Warcinfo-ID", info_id.clone()),
            ("WARC-Concurrent-To", req_id.clone()),
            ("Content-Type", "application/http; msgtype=response".into()),
        ],
        &stored,
        &block,
        Some(PAYLOAD),
    ));
    out.extend(record(
        &[
            ("WARC-Type", "request".into()),
            ("WARC-Record-ID", req_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", TARGET.into()),
            ("WARC-Warcinfo-ID", info_id),
            ("WARC-Concurrent-To", resp_id),
            ("Content-Type", "application/http; msgtype=request".into()),
        ],
        &req_block,
        &req_block,
        Some(b""),
    ));
    std::fs::write(path, out).unwrap();
}

#[test]
fn warcio_passes_valid_and_fails_tampered() {
    let dir = tempdir();
    let good: PathBuf = dir.path().join("good.warc.gz");
    let bad: PathBuf = dir.path().join("bad.warc.gz");
    write_warc(&good, false);
    write_warc(&bad, true);
    let out = assert_warcio_ok(std::slice::from_ref(&good));
    assert!(out.matches("digest pass").count() >= 3, "{out}");
    let err =
        warcio_check(std::slice::from_ref(&bad)).expect_err("tampered WARC must fail warcio check");
    assert!(err.contains("digest failed"), "{err}");
    assert!(warcio_check(&[good.clone(), bad.clone()]).is_err());

    let cdx = cdxj_index(std::slice::from_ref(&good));
    assert!(cdx.contains("com,example)/selftest/post/1"), "{cdx}");
    assert!(
        cdx.contains(&format!("\"digest\": \"{}\"", sha256_label(PAYLOAD))),
        "{cdx}"
    );
}

#[test]
fn pywb_replays_hand_written_warc_byte_for_byte() {
    let dir = tempdir();
    let good = dir.path().join("good.warc.gz");
    write_warc(&good, false);
    let (st, headers, body) = pywb_replay(std::slice::from_ref(&good), TARGET);
    assert_eq!(st, 200, "headers: {headers:?}");
    assert_eq!(body, PAYLOAD);
    assert!(
        headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("memento-datetime")),
        "{headers:?}"
    );
}

#[test]
fn helpers_for_archives() {
    let dir = tempdir();
    let archive = dir.path().join("arch");
    write_config(&archive, "[http]\nconcurrency = 2\n");
    assert_eq!(
        std::fs::read_to_string(archive.join("samizdat.toml")).unwrap(),
        "[http]\nconcurrency = 2\n"
    );
    assert!(warc_files(&archive).is_empty());
    std::fs::create_dir_all(archive.join("warc")).unwrap();
    for n in ["b.warc.gz", "a.warc.gz", "c.cdxj"] {
        std::fs::write(archive.join("warc").join(n), b"").unwrap();
    }
    let names: Vec<_> = warc_files(&archive)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.warc.gz", "b.warc.gz"]);
    // The binary runs; run_code reports its exit code and both streams.
    let (code, out, err) = run_code(samizdat(&archive).arg("--help"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Usage: samizdat"), "{out}");
    // A usage error: exit 2, said on stderr, nothing on stdout.
    let (code, out, err) = run_code(samizdat(&archive).arg("no-such-command"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no-such-command"), "{err}");
    // A process killed by a signal has no exit code: run_code says -1.
    let (code, _, _) = run_code(std::process::Command::new("sh").args(["-c", "kill -9 $$"]));
    assert_eq!(code, -1);
    assert_eq!(json_lines("{\"a\":1}\n\n{\"b\":2}\n").len(), 2);
}
