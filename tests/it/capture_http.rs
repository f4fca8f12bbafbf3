//! Capture of plain web pages through the real CLI, against the loopback test server:
//! what is stored, how it is stored, and what happens on bad input. Every WARC written
//! here is checked with warcio and cdxj-indexer.

use crate::common;

use common::*;
use samizdat::store::warc::{self, Record};
use std::path::{Path, PathBuf};

/// Every record of the archive, in write order.
fn records(archive: &Path) -> Vec<Record> {
    let mut out = vec![];
    for f in warc_files(archive) {
        for m in warc::MemberReader::open(&f, 0).unwrap() {
            out.push(warc::parse_record(&m.unwrap().bytes).unwrap());
        }
    }
    out
}

fn responses_for<'a>(recs: &'a [Record], url_suffix: &str) -> Vec<&'a Record> {
    recs.iter()
        .filter(|r| {
            r.warc_type() == "response" && r.target_uri().is_some_and(|u| u.ends_with(url_suffix))
        })
        .collect()
}

fn http_header(rec: &Record, name: &str) -> Option<String> {
    let end = warc::find_header_end(&rec.block)?;
    let head = String::from_utf8_lossy(&rec.block[..end]).into_owned();
    head.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    })
}

fn capture(ar: &Path, urls: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut c = samizdat(ar);
    c.arg("--json").arg("capture").args(urls);
    let (code, out, err) = run_code(&mut c);
    (code, json_lines(&out), err)
}

fn verify_ok(ar: &Path) {
    let (code, _, err) = run_code(samizdat(ar).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
    let files = warc_files(ar);
    if !files.is_empty() {
        assert_warcio_ok(&files);
        let cdx = cdxj_index(&files);
        assert!(!cdx.trim().is_empty(), "cdxj-indexer indexed nothing");
    }
}

#[test]
fn a_page_is_captured_with_its_post_record_and_images() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, lines, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines.len(), 1);
    let id = lines[0]["post_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("web:"), "{id}");
    assert_eq!(lines[0]["status"], "captured");

    let recs = records(&ar);
    assert_eq!(recs[0].warc_type(), "warcinfo");
    let page = responses_for(&recs, "/page");
    assert_eq!(page.len(), 1);
    assert_eq!(
        page[0].payload(),
        page_html(&srv.base_url()).as_bytes(),
        "body stored as served"
    );
    assert_eq!(page[0].field("WARC-IP-Address"), Some("127.0.0.1"));
    assert_eq!(responses_for(&recs, "/img/a.png")[0].payload(), PNG_BYTES);
    assert_eq!(responses_for(&recs, "/img/b.jpg")[0].payload(), JPEG_BYTES);
    let post = recs
        .iter()
        .find(|r| r.field("Content-Type") == Some("application/vnd.samizdat.post+json"))
        .unwrap();
    assert_eq!(
        post.target_uri().unwrap(),
        format!("urn:samizdat:post:{id}")
    );
    assert!(
        post.fields_named("WARC-Concurrent-To")
            .any(|v| v == page[0].id())
    );
    // Every record of the capture is listed in the capture result and is a leaf.
    assert_eq!(lines[0]["record_ids"].as_array().unwrap().len(), recs.len());

    let out = run_ok(samizdat(&ar).args(["--json", "show", &srv.url("/page")]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], id);
    assert_eq!(v["author"]["name"], "Jane Reporter");
    let t: jiff::Timestamp = v["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        t,
        "2026-01-02T03:04:05Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("Second paragraph, between two images.")
    );
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{media:?}");
    for m in media {
        assert!(m["sha256"].as_str().unwrap().len() == 64, "{m}");
        assert!(m["record_id"].as_str().unwrap().starts_with("<urn:uuid:"));
    }
    assert_eq!(v["state"], "live");
    assert_eq!(v["captures"].as_array().unwrap().len(), 1);
    verify_ok(&ar);
}

#[test]
fn pywb_replays_the_captured_body_byte_for_byte() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, _, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    let (status, _, body) = pywb_replay(&warc_files(&ar), &srv.url("/page"));
    assert_eq!(status, 200);
    assert_eq!(body, page_html(&srv.base_url()).as_bytes());
}

#[test]
fn chunked_bodies_are_stored_de_chunked() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, _, err) = capture(&ar, &[&srv.url("/chunked")]);
    assert_eq!(code, 0, "{err}");
    let recs = records(&ar);
    let r = responses_for(&recs, "/chunked")[0];
    assert_eq!(r.payload(), CHUNKED_PARTS.concat().as_bytes());
    assert_eq!(http_header(r, "transfer-encoding"), None);
    verify_ok(&ar);
}

#[test]
fn compressed_bodies_are_stored_as_sent_and_read_decoded() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, lines, err) = capture(&ar, &[&srv.url("/gzip"), &srv.url("/br")]);
    assert_eq!(code, 0, "{err}");
    let recs = records(&ar);
    for (path, enc) in [("/gzip", "gzip"), ("/br", "br")] {
        let r = responses_for(&recs, path)[0];
        assert_eq!(http_header(r, "content-encoding").as_deref(), Some(enc));
        assert_ne!(
            r.payload(),
            COMPRESSED_HTML.as_bytes(),
            "{path} kept encoded"
        );
    }
    for l in &lines {
        let out = run_ok(samizdat(&ar).args(["--json", "show", l["post_id"].as_str().unwrap()]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["title"], "Compressed", "{v}");
    }
    verify_ok(&ar);
}

#[test]
fn gbk_pages_end_up_as_correct_utf8() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let urls = [
        srv.url("/gbk"),
        srv.url("/gbk-meta"),
        srv.url("/mislabelled"),
    ];
    let (code, lines, err) = capture(&ar, &urls.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    for l in &lines {
        let out = run_ok(samizdat(&ar).args(["--json", "show", l["post_id"].as_str().unwrap()]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            v["text"].as_str().unwrap_or("").contains(GBK_TEXT),
            "{}: {v}",
            l["url"]
        );
    }
    // And the terminal rendering keeps the Chinese intact.
    let out = run_ok(samizdat(&ar).args(["show", lines[0]["post_id"].as_str().unwrap()]));
    assert!(String::from_utf8(out.stdout).unwrap().contains(GBK_TEXT));
    verify_ok(&ar);
}

#[test]
fn every_redirect_hop_is_recorded() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, _, err) = capture(&ar, &[&srv.url("/redirect/3")]);
    assert_eq!(code, 0, "{err}");
    let recs = records(&ar);
    for hop in ["/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0"] {
        assert_eq!(responses_for(&recs, hop).len(), 1, "{hop}");
        assert_eq!(
            recs.iter()
                .filter(|r| r.warc_type() == "request" && r.target_uri().unwrap().ends_with(hop))
                .count(),
            1
        );
    }
    verify_ok(&ar);
}

#[test]
fn retry_after_is_honoured_and_every_attempt_recorded() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let url = srv.url("/retry-after?n=2");
    let (code, _, err) = capture(&ar, &[&url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(srv.hits("/retry-after?n=2"), 3);
    let recs = records(&ar);
    let statuses: Vec<String> = responses_for(&recs, "/retry-after?n=2")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.block[9..12]).into_owned())
        .collect();
    assert_eq!(statuses, ["429", "429", "200"]);
    verify_ok(&ar);
}

/// A loopback HTTP/1.1 server that notes when each request arrived (by its own clock,
/// not the capturing process's) and answers every one with a small page, closing the
/// connection after it.
struct ArrivalServer {
    addr: std::net::SocketAddr,
    arrivals: std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, String)>>>,
}

impl ArrivalServer {
    fn start() -> ArrivalServer {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let arrivals = std::sync::Arc::new(std::sync::Mutex::new(vec![]));
        let seen = arrivals.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    // The request line is in: this is when the server saw the request.
                    let at = std::time::Instant::now();
                    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                            break;
                        }
                    }
                    seen.lock().unwrap().push((at, path));
                    let body = "<!doctype html><html><head><title>t</title></head><body><p>words</p></body></html>";
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        ArrivalServer { addr, arrivals }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

#[test]
fn politeness_spaces_requests_to_one_host() {
    let srv = ArrivalServer::start();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 300\nconcurrency = 4\n");
    let urls = [srv.url("/a"), srv.url("/b"), srv.url("/c")];
    let (code, _, err) = capture(&ar, &urls.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    // The times the server saw the requests arrive, not the times samizdat wrote down.
    let mut seen = srv.arrivals.lock().unwrap().clone();
    seen.sort();
    let mut paths: Vec<&str> = seen.iter().map(|(_, p)| p.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/a", "/b", "/c"], "each page asked once: {seen:?}");
    // Without politeness the four workers would send all three at once (gaps of a few
    // ms); with it they leave 300 ms. The server notes an arrival when its thread gets to
    // it, which on a loaded machine can be late for one request and not the next: allow
    // that much, no more.
    for w in seen.windows(2) {
        let gap = w[1].0.duration_since(w[0].0);
        assert!(
            gap >= std::time::Duration::from_millis(200),
            "the server saw {} and {} {gap:?} apart",
            w[0].1,
            w[1].1
        );
    }
    // The records agree with what the server saw: three requests, spaced as well.
    let mut times: Vec<jiff::Timestamp> = records(&ar)
        .iter()
        .filter(|r| r.warc_type() == "request")
        .map(|r| r.date().parse().unwrap())
        .collect();
    times.sort();
    assert_eq!(times.len(), 3);
    for w in times.windows(2) {
        let gap = w[1].duration_since(w[0]);
        assert!(gap.as_millis() >= 290, "requests {gap:?} apart");
    }
}

#[test]
fn tls_capture_with_an_extra_ca_keeps_the_certificate() {
    let (srv, ca) = tls_server();
    let (_d, ar) = quick_archive(&format!("extra_ca_file = {:?}\n", ca.display().to_string()));
    let (code, _, err) = capture(&ar, &[&srv.url("/page"), &srv.url("/gbk")]);
    assert_eq!(code, 0, "{err}");
    let recs = records(&ar);
    let certs: Vec<_> = recs
        .iter()
        .filter(|r| r.field("Content-Type") == Some("application/pkix-cert"))
        .collect();
    // One certificate record for the server, however many exchanges it had.
    assert_eq!(certs.len(), 1, "one certificate record");
    let cert = certs[0];
    assert_eq!(cert.warc_type(), "metadata");
    assert_eq!(cert.block[0], 0x30, "DER starts with a SEQUENCE");
    // Each response names it by its block digest, and says how long the fetch took.
    let responses: Vec<_> = recs
        .iter()
        .filter(|r| r.warc_type() == "response")
        .collect();
    assert!(responses.len() >= 2);
    for r in &responses {
        assert_eq!(
            r.field("Samizdat-TLS-Certificate"),
            cert.field("WARC-Block-Digest")
        );
        assert!(
            r.field("Samizdat-Fetch-Time-Ms")
                .is_some_and(|v| v.parse::<u64>().is_ok())
        );
    }
    verify_ok(&ar);

    // Without the CA the handshake fails, with a clear error, and nothing is lost.
    let (_d2, ar2) = quick_archive("");
    let (code, lines, _) = capture(&ar2, &[&srv.url("/page")]);
    assert_eq!(code, 1);
    let e = lines[0]["error"].as_str().unwrap();
    assert!(e.contains("TLS") || e.contains("certificate"), "{e}");
}

#[test]
fn set_cookie_values_are_redacted() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, _, err) = capture(&ar, &[&srv.url("/set-cookie")]);
    assert_eq!(code, 0, "{err}");
    let recs = records(&ar);
    let r = responses_for(&recs, "/set-cookie")[0];
    let head = String::from_utf8_lossy(&r.block).into_owned();
    assert!(head.contains("<redacted sha256:"), "{head}");
    assert_no_secret_anywhere(&ar, SECRET_COOKIE);
    verify_ok(&ar);
}

/// Looks through every file of the archive (WARC members inflated) for `secret`.
fn assert_no_secret_anywhere(ar: &Path, secret: &str) {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out)
            } else {
                out.push(p)
            }
        }
    }
    let mut files = vec![];
    walk(ar, &mut files);
    assert!(files.len() > 5);
    for f in files {
        let mut bytes = std::fs::read(&f).unwrap();
        if f.to_string_lossy().ends_with(".warc.gz") {
            let mut inflated = vec![];
            std::io::Read::read_to_end(
                &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
                &mut inflated,
            )
            .unwrap();
            bytes = inflated;
        }
        if f.file_name().unwrap() == "samizdat.toml" {
            continue; // the user's own config, where the secret is configured
        }
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(secret), "secret found in {}", f.display());
    }
}

#[test]
fn configured_secrets_are_sent_but_never_stored() {
    let srv = server();
    let secret = "Bearer TOPSECRET-9d1e-token";
    let cookie = "SUB=_2AkMcookieSECRETvalue; SUBP=0033WrSXqPxfM72";
    let (_d, ar) = quick_archive(&format!(
        "[http.hosts]\n\"m.weibo.cn\" = \"{}\"\n[platforms.weibo]\ncookies = \"{cookie}\"\nheaders = {{ Authorization = \"{secret}\" }}\n",
        srv.base_url()
    ));
    // A walled answer makes the Weibo plan fall back to the configured cookies.
    srv.route(
        "/statuses/show?id=4645748019299849",
        Resp::json(r#"{"ok":-100,"url":"https://passport.weibo.cn/signin/welcome"}"#),
    );
    let (_code, _lines, _err) = capture(&ar, &["https://m.weibo.cn/detail/4645748019299849"]);
    let sent = srv.requests();
    assert!(
        sent.iter()
            .any(|r| r.header("authorization") == Some(secret)),
        "the header was sent"
    );
    assert!(
        sent.iter().any(|r| r.header("cookie") == Some(cookie)),
        "the cookies were sent when walled: {sent:?}"
    );
    assert_no_secret_anywhere(&ar, "TOPSECRET-9d1e-token");
    assert_no_secret_anywhere(&ar, "_2AkMcookieSECRETvalue");
    assert_no_secret_anywhere(&ar, "0033WrSXqPxfM72");
    verify_ok(&ar);
}

// ---- bad input: a clear error, a non-zero exit, and an archive that still verifies ----

/// Captures one URL that must fail; returns its error text after checking that the
/// earlier capture is intact and the archive verifies.
fn must_fail(ar: &Path, url: &str) -> String {
    let before = run_ok(samizdat(ar).args(["--json", "list"]));
    let (code, lines, err) = capture(ar, &[url]);
    assert_ne!(code, 0, "{url} should fail:\n{err}");
    let after = run_ok(samizdat(ar).args(["--json", "list"]));
    assert_eq!(before.stdout, after.stdout, "nothing lost or changed");
    verify_ok(ar);
    lines
        .first()
        .and_then(|l| l["error"].as_str())
        .map(str::to_string)
        .unwrap_or(err)
}

fn archive_with_one_capture(srv: &TestServer, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let (d, ar) = quick_archive(extra);
    let (code, _, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    (d, ar)
}

#[test]
fn bad_urls_are_named() {
    let srv = server();
    let (_d, ar) = archive_with_one_capture(&srv, "");
    let e = must_fail(&ar, "not a url");
    assert!(e.contains("not a url") && e.contains("https://"), "{e}");
    let e = must_fail(&ar, "ftp://example.com/file");
    assert!(e.contains("unsupported scheme") && e.contains("ftp"), "{e}");
}

#[test]
fn network_failures_are_named() {
    let srv = server();
    let (_d, ar) = archive_with_one_capture(
        &srv,
        "resolve_timeout_ms = 1500\nconnect_timeout_ms = 1500\n",
    );
    let e = must_fail(&ar, "http://no-such-host.invalid/post");
    // Said once, in one sentence naming the name and what to do.
    assert!(
        e.contains("no-such-host.invalid could not be resolved") && e.contains("check the address"),
        "{e}"
    );
    assert_eq!(e.to_lowercase().matches("dns").count(), 0, "said once: {e}");
    assert_eq!(e.matches("resolve").count(), 1, "said once: {e}");
    let e = must_fail(&ar, &format!("http://127.0.0.1:{}/", free_port()));
    assert!(e.contains("connection refused"), "{e}");
    let e = must_fail(&ar, &srv.url("/redirect-loop"));
    assert!(e.contains("redirect loop"), "{e}");
    // A 404 is an answer, not a failure to fetch: the archive holds the address as
    // `not_found` (tests/it/gone_at_capture.rs), and nothing else changes.
    let before = run_ok(samizdat(&ar).args(["--json", "list"]));
    let (code, lines, err) = capture(&ar, &[srv.url("/status/404").as_str()]);
    assert_ne!(code, 0, "{err}");
    let e = lines[0]["error"].as_str().unwrap();
    assert!(e.contains("404") && e.contains("not found"), "{e}");
    let after = run_ok(samizdat(&ar).args(["--json", "list", "--state", "live"]));
    assert_eq!(before.stdout, after.stdout, "nothing lost or changed");
    let nf = run_ok(samizdat(&ar).args(["--json", "list", "--state", "not_found"]));
    assert_eq!(json_lines(&String::from_utf8_lossy(&nf.stdout)).len(), 1);
    verify_ok(&ar);
}

#[test]
fn timeouts_are_named() {
    let srv = server();
    let (_d, ar) = archive_with_one_capture(&srv, "");
    std::fs::write(
        ar.join("samizdat.toml"),
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 400\n",
    )
    .unwrap();
    let e = must_fail(&ar, &srv.url("/slow?ms=3000"));
    assert!(e.contains("timed out"), "{e}");
}

#[test]
fn oversized_bodies_are_kept_truncated_and_reported() {
    let srv = server();
    let (_d, ar) = quick_archive("max_body_bytes = 100000\n");
    let (code, lines, err) = capture(
        &ar,
        &[&srv.url("/never-ending"), &srv.url("/big?bytes=300000")],
    );
    assert_eq!(code, 1, "{err}");
    for l in &lines {
        assert_eq!(l["status"], "partial", "{l}");
        assert!(
            l["error"].as_str().unwrap().contains("WARC-Truncated"),
            "{l}"
        );
    }
    let recs = records(&ar);
    for p in ["/never-ending", "/big?bytes=300000"] {
        let r = responses_for(&recs, p)[0];
        assert_eq!(r.field("WARC-Truncated"), Some("length"));
        assert_eq!(r.payload().len(), 100_000);
    }
    verify_ok(&ar);
}

#[test]
fn a_gzip_bomb_is_stored_whole_and_decoded_within_bounds() {
    let srv = server();
    let bomb = gzip_bomb(); // built once, before the clock of the capture starts
    let (_d, ar) = quick_archive("");
    std::fs::write(
        ar.join("samizdat.toml"),
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 120000\n",
    )
    .unwrap();
    // 1.5 GB of address space (threads and allocator arenas included) is far below what
    // inflating the whole 1 GiB bomb and parsing it would take.
    let mut c = std::process::Command::new("prlimit");
    c.arg("--as=1500000000")
        .arg(env!("CARGO_BIN_EXE_samizdat"))
        .arg("--archive")
        .arg(&ar)
        .args(["--json", "capture", &srv.url("/gzip-bomb")]);
    let (code, out, err) = run_code(&mut c);
    assert_eq!(code, 0, "{out}\n{err}");
    let recs = records(&ar);
    let r = responses_for(&recs, "/gzip-bomb")[0];
    assert_eq!(r.payload(), &bomb[..], "the encoded bytes are kept exactly");
    verify_ok(&ar);
}

#[test]
fn two_processes_capturing_at_once_both_succeed_without_interleaving() {
    let srv = server();
    let (_d, ar) = quick_archive("concurrency = 4\n");
    run_ok(samizdat(&ar).arg("init"));
    let urls_a: Vec<String> = (0..15)
        .map(|i| srv.url(&format!("/redirect/0?a={i}")))
        .collect();
    let urls_b: Vec<String> = (0..15)
        .map(|i| srv.url(&format!("/status/200?b={i}")))
        .collect();
    let spawn = |urls: &[String]| {
        samizdat(&ar)
            .arg("--json")
            .arg("capture")
            .args(urls)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(&urls_a), spawn(&urls_b));
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        oa.status.success(),
        "{}",
        String::from_utf8_lossy(&oa.stderr)
    );
    assert!(
        ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    let mut lines = json_lines(&String::from_utf8_lossy(&oa.stdout));
    lines.extend(json_lines(&String::from_utf8_lossy(&ob.stdout)));
    assert_eq!(lines.len(), 30);
    // Each capture's records are one contiguous run of leaves.
    let recs = records(&ar);
    let pos = |id: &str| recs.iter().position(|r| r.id() == id).unwrap();
    for l in &lines {
        let ids: Vec<&str> = l["record_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let ps: Vec<usize> = ids.iter().map(|i| pos(i)).collect();
        for w in ps.windows(2) {
            assert!(
                w[1] == w[0] + 1 || recs[w[0] + 1].warc_type() == "warcinfo",
                "interleaved: {ps:?}"
            );
        }
    }
    verify_ok(&ar);
}

/// The capture tasks encode their records (gzip member, leaf hash, the WARC-Warcinfo-ID
/// of the file the writer is on) before the writer gets them; the writer appends those
/// bytes as they are. Two processes and small files make the files rotate under the
/// tasks' feet: whatever was encoded for another file must be encoded again, and every
/// leaf the index and log hold must be the hash of the bytes in the file.
#[test]
fn what_the_capture_tasks_encode_is_what_the_files_hold_and_the_log_hashes() {
    use samizdat::log::entry::leaf_of;
    use samizdat::store::index::Index;
    let srv = server();
    let (_d, ar) = quick_archive("concurrency = 8\n[storage]\nwarc_max_bytes = 6000\n");
    run_ok(samizdat(&ar).arg("init"));
    let spawn = |tag: &str| {
        let urls: Vec<String> = (0..20)
            .map(|i| srv.url(&format!("/page?{tag}={i}")))
            .collect();
        samizdat(&ar)
            .arg("--json")
            .arg("capture")
            .arg("--no-media")
            .args(&urls)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let files = warc_files(&ar);
    assert!(files.len() > 5, "the files rotated: {files:?}");
    let ix = Index::open(&ar.join("index.sqlite"), false).unwrap();
    let rows = ix.records_range(0, ix.leaf_count().unwrap()).unwrap();
    let mut seen = 0;
    let mut posts = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let mut info_id = None;
        for m in warc::MemberReader::open(f, 0).unwrap() {
            let m = m.unwrap();
            let rec = warc::parse_record(&m.bytes).unwrap();
            let row = &rows[seen];
            seen += 1;
            assert_eq!(
                (row.file.as_str(), row.offset, row.length),
                (name, m.offset, m.length)
            );
            assert_eq!(row.id, rec.id());
            assert_eq!(
                row.leaf_hash,
                leaf_of(&m.bytes).0,
                "{name}@{}: the index's leaf hash is that of the bytes in the file",
                m.offset
            );
            if rec.warc_type() == "warcinfo" {
                assert!(info_id.is_none(), "{name}: one warcinfo, first");
                info_id = Some(rec.id().to_string());
                continue;
            }
            posts += usize::from(
                rec.target_uri()
                    .is_some_and(|t| t.starts_with("urn:samizdat:post:")),
            );
            assert_eq!(
                rec.field("WARC-Warcinfo-ID"),
                info_id.as_deref(),
                "{name}@{}: a record names the warcinfo of its own file",
                m.offset
            );
        }
    }
    assert_eq!(seen, rows.len(), "every leaf is a member of a file");
    assert_eq!(posts, 40);
    verify_ok(&ar);
}

/// Bytes in the archive's WARC files (a killed writer may leave a torn last member,
/// which a record reader would stop at).
fn warc_bytes(ar: &Path) -> u64 {
    warc_files(ar)
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[test]
fn a_capture_killed_mid_way_leaves_an_archive_that_verifies_and_continues() {
    use std::os::unix::process::ExitStatusExt;
    let srv = server();
    let (_d, ar) = quick_archive("concurrency = 8\n");
    run_ok(samizdat(&ar).arg("init"));
    for round in 0..3usize {
        let urls: Vec<String> = (0..200)
            .map(|i| srv.url(&format!("/slow?ms=20&r={round}&i={i}")))
            .collect();
        let before = warc_bytes(&ar);
        // Kill once a few captures are written (more each round), long before all 200.
        let after = 3 + 10 * round;
        let (seen, status) = kill_after_lines(
            samizdat(&ar).arg("--json").arg("capture").args(&urls),
            after,
        );
        assert_eq!(
            status.signal(),
            Some(9),
            "round {round}: the capture ended before the kill ({status:?})"
        );
        assert!(
            seen >= after && seen < 200,
            "round {round}: {seen} captures done"
        );
        // The kill landed mid-way: the captures reported done are on disk, not all are.
        assert!(
            warc_bytes(&ar) > before,
            "round {round}: nothing was written before the kill"
        );
        let (code, _, err) = run_code(samizdat(&ar).arg("verify"));
        assert_eq!(code, 0, "after kill -9 in round {round}:\n{err}");
    }
    let (code, _, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    verify_ok(&ar);
}

/// A small tmpfs, unmounted on drop (tests run as root, where chmod does not bite).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let st = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(st.success(), "mounting a tmpfs needs root");
        Mount(dir.to_path_buf())
    }
    fn read_only(&self) {
        let st = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_is_an_error_and_loses_nothing() {
    let srv = server();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let _m = Mount::tmpfs(&ar, "3m");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\n");
    let (code, _, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    // Incompressible bytes, so the gzip member cannot shrink below the free space.
    let mut noise = Vec::with_capacity(6 << 20);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while noise.len() < 6 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    srv.route(
        "/noise",
        Resp::new(200)
            .header("Content-Type", "application/octet-stream")
            .body(noise),
    );
    let e = must_fail(&ar, &srv.url("/noise"));
    assert!(e.contains("No space left") || e.contains("space"), "{e}");
}

#[test]
fn a_read_only_archive_is_an_error_and_loses_nothing() {
    let srv = server();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let m = Mount::tmpfs(&ar, "8m");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\n");
    let (code, _, err) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0, "{err}");
    m.read_only();
    let before = run_ok(samizdat(&ar).args(["--json", "list"]));
    let (code, _, err) = capture(&ar, &[&srv.url("/redirect/0")]);
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
    let after = run_ok(samizdat(&ar).args(["--json", "list"]));
    assert_eq!(before.stdout, after.stdout);
    let (code, _, err) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn init_is_idempotent_and_prints_the_verifier_key() {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let a = run_ok(samizdat(&ar).args(["--json", "init"]));
    let b = run_ok(samizdat(&ar).args(["--json", "init"]));
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&a.stdout).unwrap(),
        serde_json::from_slice(&b.stdout).unwrap(),
    );
    assert_eq!(a["created"], true);
    assert_eq!(b["created"], false);
    assert_eq!(a["vkey"], b["vkey"], "the key survives a second init");
    let vkey = a["vkey"].as_str().unwrap();
    assert!(
        samizdat::log::note::NoteVerifier::from_vkey(vkey).is_ok(),
        "{vkey}"
    );
    assert_eq!(
        std::fs::read_to_string(ar.join("keys/log.vkey"))
            .unwrap()
            .trim(),
        vkey
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(ar.join("keys/log.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn reindex_answers_show_and_list_exactly_as_before() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, lines, err) = capture(
        &ar,
        &[&srv.url("/page"), &srv.url("/gbk"), &srv.url("/redirect/2")],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = capture(&ar, &[&srv.url("/page")]); // a second capture of one post
    assert_eq!(code, 0);
    let snapshot = |ar: &Path| {
        let mut out = vec![run_ok(samizdat(ar).args(["--json", "list", "--limit", "0"])).stdout];
        for l in &lines {
            out.push(
                run_ok(samizdat(ar).args(["--json", "show", l["post_id"].as_str().unwrap()]))
                    .stdout,
            );
            out.push(
                run_ok(samizdat(ar).args(["--json", "show", l["url"].as_str().unwrap()])).stdout,
            );
        }
        out
    };
    // Every table of the index, rows in a stable order: what `show` and `list` do not
    // print (checks, URL claims, search rows, the schema version) must come back too.
    let tables = |ar: &Path| {
        samizdat::store::index::Index::open(&ar.join("index.sqlite"), false)
            .unwrap()
            .dump()
            .unwrap()
    };
    let before = snapshot(&ar);
    let tables_before = tables(&ar);
    for t in ["records", "posts", "post_urls", "captures", "post_search"] {
        assert!(
            tables_before
                .iter()
                .any(|(n, rows)| n == t && !rows.is_empty()),
            "{t} has rows: {tables_before:?}"
        );
    }
    let shown: serde_json::Value = serde_json::from_slice(&before[1]).unwrap();
    assert_eq!(shown["captures"].as_array().unwrap().len(), 2, "{shown}");
    std::fs::remove_file(ar.join("index.sqlite")).unwrap();
    let _ = std::fs::remove_file(ar.join("index.sqlite-wal"));
    let _ = std::fs::remove_file(ar.join("index.sqlite-shm"));
    std::fs::remove_file(ar.join("log/hashes")).unwrap();
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(snapshot(&ar), before);
    assert_eq!(tables(&ar), tables_before, "every table, row for row");
    verify_ok(&ar);
}

#[test]
fn log_proofs_verify_against_the_signed_checkpoint() {
    use samizdat::log::merkle::{Hash, verify_consistency, verify_inclusion};
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (code, _, _) = capture(&ar, &[&srv.url("/page")]);
    assert_eq!(code, 0);
    let first: serde_json::Value =
        serde_json::from_slice(&run_ok(samizdat(&ar).args(["--json", "log", "checkpoint"])).stdout)
            .unwrap();
    let (code, _, _) = capture(&ar, &[&srv.url("/chunked"), &srv.url("/gzip")]);
    assert_eq!(code, 0);
    let cp: serde_json::Value =
        serde_json::from_slice(&run_ok(samizdat(&ar).args(["--json", "log", "checkpoint"])).stdout)
            .unwrap();
    // The note as stored verifies with the archive's key.
    let v = samizdat::log::note::NoteVerifier::from_vkey(cp["vkey"].as_str().unwrap()).unwrap();
    let note = samizdat::log::note::open_note(cp["note"].as_str().unwrap(), &[v]).unwrap();
    let parsed = samizdat::log::note::Checkpoint::parse(&note.text).unwrap();
    let size = parsed.size;
    assert!(size > first["size"].as_u64().unwrap());
    let recs = records(&ar);
    assert_eq!(recs.len() as u64, size);
    for leaf in [0, size / 2, size - 1] {
        let p: serde_json::Value = serde_json::from_slice(
            &run_ok(samizdat(&ar).args(["--json", "log", "proof", &leaf.to_string()])).stdout,
        )
        .unwrap();
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        // The leaf hash is recomputed from the record's bytes, not taken from samizdat.
        let lh = samizdat::log::entry::leaf_of(&recs[leaf as usize].to_bytes());
        verify_inclusion(&lh, leaf, size, &proof, &parsed.root).unwrap();
        let mut bad = proof.clone();
        if let Some(h) = bad.first_mut() {
            h.0[0] ^= 1;
            assert!(verify_inclusion(&lh, leaf, size, &bad, &parsed.root).is_err());
        }
    }
    let old = first["size"].as_u64().unwrap();
    let c: serde_json::Value = serde_json::from_slice(
        &run_ok(samizdat(&ar).args([
            "--json",
            "log",
            "consistency",
            &old.to_string(),
            &size.to_string(),
        ]))
        .stdout,
    )
    .unwrap();
    let proof: Vec<Hash> = c["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect();
    let old_root = Hash::from_base64(first["root"].as_str().unwrap()).unwrap();
    verify_consistency(old, size, &proof, &old_root, &parsed.root).unwrap();
    // Asking for a leaf outside the tree is a usage error.
    let (code, _, err) = run_code(samizdat(&ar).args(["log", "proof", &(size + 5).to_string()]));
    assert_eq!(code, 2, "{err}");
}

/// A plan that panics on an answer is a broken finding with the exchange kept, whether
/// the answer was small (read on the async worker itself) or big (read on the blocking
/// pool): never a capture lost with its records.
#[test]
fn a_plan_that_panics_on_its_answer_is_broken_and_the_exchange_is_kept() {
    use samizdat::capture::{Fetcher, run_plan};
    use samizdat::platforms::{Fetched, Finding, Plan, Request, Step};
    struct Boom;
    impl Plan for Boom {
        fn next(self: Box<Self>, _: Fetched) -> Step {
            panic!("a plan that cannot read its answer");
        }
    }
    let s = server();
    s.route("/small", Resp::html("<p>small</p>"));
    s.route(
        "/big",
        Resp::html(format!("<p>{}</p>", "big ".repeat(40_000))),
    );
    let dir = tempdir();
    let config = samizdat::config::Config::default();
    let fetcher = Fetcher::new(&config, &dir.path().join("samizdat.toml")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for path in ["/small", "/big"] {
        let (mut records, mut responses) = (vec![], vec![]);
        let req = Request::get(url::Url::parse(&s.url(path)).unwrap(), "page");
        let out = rt.block_on(run_plan(
            "web",
            Step::fetch(req, Boom),
            &fetcher,
            &mut records,
            &mut responses,
        ));
        match out.finding {
            Finding::Broken { missing, .. } => {
                assert!(
                    missing.contains("reading the answer failed"),
                    "{path}: {missing}"
                )
            }
            other => panic!("{path}: {other:?}"),
        }
        assert_eq!(out.last_status, Some(200), "{path}");
        assert_eq!(responses.len(), 1, "{path}: the response is kept");
        assert_eq!(
            records.iter().map(Record::warc_type).collect::<Vec<_>>(),
            ["request", "response"],
            "{path}"
        );
    }
}
