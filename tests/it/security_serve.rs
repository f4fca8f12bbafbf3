//! Issue 11, server resources: attacks on `samizdat serve` through the real binary on
//! loopback. Slowloris (200 connections sending a header byte at a time, or nothing)
//! while a normal request is answered and the slow ones are closed; a flood of bundle
//! downloads of one big post (a 128 MiB picture) answered with 503 + Retry-After past
//! `[serve] max_exports`, the admitted ones complete and verify, and the server's peak
//! RSS stays under 512 MB; a 20,000-character search query refused with a 400 naming
//! the limit.

use crate::common;

use common::serve::Serve;
use common::*;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The big picture of the big post.
const BIG: usize = 128 << 20;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn archive_with(toml: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!("[http]\nper_host_delay_ms = 0\ntimeout_ms = 60000\n{toml}"),
    );
    (dir, ar)
}

/// A small archive (one post), for the tests that need no big post.
fn small_archive(serve_toml: &str) -> (tempfile::TempDir, PathBuf) {
    let srv = server();
    srv.route(
        "/small",
        Resp::html(
            "<!doctype html><html lang=\"en\"><head><title>Small</title></head><body><article>\
<h1>A small post</h1><p>The bank froze my savings account and nobody would say why.</p>\
</article></body></html>",
        ),
    );
    let (d, ar) = archive_with(serve_toml);
    run_ok(samizdat(&ar).arg("capture").arg(srv.url("/small")));
    (d, ar)
}

struct Big {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    id: String,
}

/// One archive holding a post whose picture is a 128 MiB (highly compressible) body.
fn big() -> &'static Big {
    static B: OnceLock<Big> = OnceLock::new();
    B.get_or_init(|| {
        let srv = server();
        srv.route(
            "/big",
            Resp::html(
                "<!doctype html><html lang=\"en\"><head><title>Big</title></head><body><article>\
<h1>A post with a big picture</h1><p>The picture below is very large, and every download of \
this post's evidence bundle carries it.</p><img src=\"/big.png\" alt=\"big\"></article></body></html>",
            ),
        );
        srv.route(
            "/big.png",
            Resp::new(200)
                .header("Content-Type", "image/png")
                .body(vec![b'x'; BIG]),
        );
        // Up to 2 exports at once (the default, said here so the test reads alone).
        let (dir, ar) = archive_with("[serve]\nmax_exports = 2\n");
        let out = run_ok(samizdat(&ar).arg("--json").arg("capture").arg(srv.url("/big")));
        let id = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
            .as_str()
            .unwrap()
            .to_string();
        Big {
            _dir: dir,
            archive: ar,
            id,
        }
    })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slowloris_connections_are_closed_and_a_normal_request_is_answered_meanwhile() {
    let (_d, ar) =
        small_archive("[serve]\nheader_read_timeout_ms = 1500\nidle_timeout_ms = 1500\n");
    let mut srv = Serve::start(&ar);
    let addr = srv.addr();
    // 100 connections that send a header byte every 200 ms, 100 that send nothing.
    let mut slow = vec![];
    for i in 0..200 {
        let s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let (mut rd, mut wr) = s.into_split();
        let dribble = i % 2 == 0;
        slow.push(tokio::spawn(async move {
            let writer = tokio::spawn(async move {
                if !dribble {
                    return std::future::pending::<()>().await;
                }
                let head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().copied();
                for b in head.chain(std::iter::repeat(b'a')).take(400) {
                    if wr.write_all(&[b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
            // Closed by the server: end of stream, or a reset.
            let mut buf = [0u8; 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            writer.abort();
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = client().get(srv.url("/api/posts")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["posts"].as_array().unwrap().len(), 1);
    // Every slow connection is closed by the server. A dribbling one needs 80 s to send
    // its 400 bytes, so without a header timeout none is closed within the 20 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut open = 0;
    for t in slow {
        if tokio::time::timeout_at(deadline, t).await.is_err() {
            open += 1;
        }
    }
    assert_eq!(
        open, 0,
        "{open} of 200 slow connections still open after 20 s"
    );
    srv.assert_alive();
    // And the server still answers.
    let r = client().get(srv.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_bundle_downloads_gets_503_past_the_bound_and_stays_under_512_mb() {
    let b = big();
    let mut srv = Serve::start(&b.archive);
    let url = srv.url(&format!("/api/posts/{}/bundle", enc(&b.id)));
    let c = client();
    // 16 at once. The admitted ones hold their place until their body is read, which
    // happens only once every answer's head is in.
    let mut pending = vec![];
    for _ in 0..16 {
        let (c, url) = (c.clone(), url.clone());
        pending.push(tokio::spawn(
            async move { c.get(url).send().await.unwrap() },
        ));
    }
    let mut admitted = vec![];
    let mut refused = 0;
    for p in pending {
        let r = p.await.unwrap();
        match r.status().as_u16() {
            200 => admitted.push(r),
            503 => {
                let ra = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                assert!(ra.is_some_and(|s| s > 0), "503 without Retry-After");
                let v: serde_json::Value =
                    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                let e = v["error"].as_str().unwrap();
                assert!(e.contains("max_exports"), "{e}");
                refused += 1;
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!(admitted.len(), 2, "max_exports = 2");
    assert_eq!(refused, 14);
    let dir = tempdir();
    let vkey = b.archive.join("keys/log.vkey");
    for (i, r) in admitted.into_iter().enumerate() {
        let zip = dir.path().join(format!("bundle-{i}.zip"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.len() > BIG, "the bundle carries the picture");
        std::fs::write(&zip, &bytes).unwrap();
        drop(bytes);
        let (code, out, err) = run_code(
            samizdat(&dir.path().join("none"))
                .arg("verify-bundle")
                .arg(&zip)
                .arg("--vkey")
                .arg(&vkey),
        );
        assert_eq!(code, 0, "verify-bundle:\n{out}\n{err}");
    }
    // Places are given back: a second wave is admitted again.
    let mut wave = vec![];
    for _ in 0..4 {
        let (c, url) = (c.clone(), url.clone());
        wave.push(tokio::spawn(async move {
            let r = c.get(url).send().await.unwrap();
            let s = r.status().as_u16();
            let n = r.bytes().await.unwrap().len();
            (s, n)
        }));
    }
    let mut ok = 0;
    for w in wave {
        let (s, n) = w.await.unwrap();
        assert!(s == 200 || s == 503, "{s}");
        if s == 200 {
            assert!(n > BIG);
            ok += 1;
        }
    }
    assert!(
        ok >= 2,
        "at least max_exports of the second wave are admitted"
    );
    srv.assert_alive();
    let peak = srv.peak_rss();
    eprintln!("serve peak RSS under the flood: {} MB", peak >> 20);
    assert!(
        peak < 512 << 20,
        "serve peaked at {} MB under the flood",
        peak >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20000_character_search_query_is_refused_with_400_naming_the_limit() {
    let (_d, ar) = small_archive("");
    let mut srv = Serve::start(&ar);
    let q = "bank ".repeat(4000);
    let r = client()
        .get(srv.url(&format!("/api/search?q={}", enc(&q))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("256 characters"),
        "{v}"
    );
    let r = client()
        .get(srv.url(&format!("/search?q={}", enc(&q))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("256 characters"));
    // Many short terms are bounded too.
    let many = (0..40)
        .map(|i| format!("w{i}"))
        .collect::<Vec<_>>()
        .join(" ");
    let r = client()
        .get(srv.url(&format!("/api/search?q={}", enc(&many))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("more than 16"), "{v}");
    // A normal query still works.
    let r = client()
        .get(srv.url("/api/search?q=bank"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    srv.assert_alive();
    // The command line says the same, as a usage error.
    let (code, _, err) = run_code(samizdat(&ar).arg("search").arg(&q));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("256 characters"), "{err}");
}

#[test]
fn serve_settings_are_checked() {
    let (_d, ar) = archive_with("[serve]\nmax_exports = 0\n");
    let (code, _, err) = run_code(samizdat(&ar).args(["serve", "--listen", "127.0.0.1:0"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("serve.max_exports must be at least 1"),
        "{err}"
    );
}

/// `serve` stops on SIGTERM (what a service manager sends) as on Ctrl-C: it exits 0 on its
/// own, promptly, rather than being killed.
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let d = tempdir();
    let ar = d.path().join("ar");
    run_ok(samizdat(&ar).arg("init"));
    let mut srv = Serve::start(&ar);
    assert_eq!(srv.get("/").0, 200, "it serves before the signal");
    let pid = srv.child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = srv.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(0),
        "a clean stop, not a kill: {status:?}"
    );
}
