//! Replay where users replay (issue 14): a samizdat WACZ imported into pywb with
//! `wb-manager add --unpack-wacz` and replayed through `wayback` on loopback, and the WACZ
//! and bundle downloads of the real `samizdat serve` as a range-reading viewer on another
//! origin (ReplayWeb.page) needs them: CORS, `Range`, an ETag, the same bytes each time.

use crate::common;

use common::serve::Serve;
use common::*;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The fixed clock the captures run under: every record is dated by it.
const CAPTURED_AT: &str = "2026-03-04T05:06:07Z";

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n");
    (dir, ar)
}

/// Captures `url` under [`CAPTURED_AT`]; the post's id.
fn capture(ar: &Path, url: &str) -> String {
    let out = run_ok(
        samizdat(ar)
            .env("SAMIZDAT_NOW", CAPTURED_AT)
            .arg("--json")
            .arg("capture")
            .arg(url),
    );
    json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string()
}

type Entry = (String, Vec<u8>, zip::CompressionMethod);

fn entry<'a>(es: &'a [Entry], name: &str) -> &'a Entry {
    es.iter().find(|e| e.0 == name).unwrap_or_else(|| {
        panic!(
            "no {name} in {:?}",
            es.iter().map(|e| &e.0).collect::<Vec<_>>()
        )
    })
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[test]
fn pywb_imports_a_samizdat_wacz_and_replays_the_capture() {
    let srv = server();
    let (d, ar) = setup();
    let page = srv.url("/page");
    let id = capture(&ar, &page);
    let wacz = d.path().join("post.wacz");
    run_ok(
        samizdat(&ar)
            .arg("export")
            .arg(&id)
            .arg("--wacz")
            .arg(&wacz),
    );
    assert_wacz_ok(&wacz);

    // The index as py-wacz writes it: a stored ZipNum `index.cdx.gz` and its `index.idx`.
    let es = zip_members(&std::fs::read(&wacz).unwrap());
    let (_, gz, method) = entry(&es, "indexes/index.cdx.gz");
    assert_eq!(
        *method,
        zip::CompressionMethod::Stored,
        "index.cdx.gz must be STORED"
    );
    let mut cdxj = String::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_string(&mut cdxj)
        .unwrap();
    assert!(
        cdxj.lines()
            .any(|l| l.contains(&format!("\"url\":\"{page}\""))),
        "{cdxj}"
    );
    let idx = String::from_utf8(entry(&es, "indexes/index.idx").1.clone()).unwrap();
    let mut lines = idx.lines();
    assert_eq!(
        lines.next().unwrap(),
        r#"!meta 0 {"format":"cdxj-gzip-1.0","filename":"index.cdx.gz"}"#
    );
    let block: Vec<&str> = lines.collect();
    assert_eq!(block.len(), 1, "one block of under 1024 lines:\n{idx}");
    let (prefix, j) = block[0].split_once(" {").unwrap();
    let j: serde_json::Value = serde_json::from_str(&format!("{{{j}")).unwrap();
    assert_eq!(j["offset"], 0);
    assert_eq!(j["length"], gz.len());
    assert_eq!(j["digest"], format!("sha256:{}", sha_hex(gz)));
    let first: Vec<&str> = cdxj.splitn(3, ' ').take(2).collect();
    assert_eq!(prefix, first.join(" "));
    assert!(
        !es.iter().any(|e| e.0 == "indexes/index.cdxj"),
        "the old plain index is gone"
    );

    // pywb takes the WACZ's own index (it reads only `.cdx`/`.cdx.gz`) and replays.
    let (st, _, body) = pywb_replay_wacz(&wacz, &page);
    assert_eq!(st, 200);
    assert_eq!(body, page_html(&srv.base_url()).into_bytes());

    // The whole archive too (its WARC files whole, renamed by pywb on import).
    capture(&ar, &srv.url("/img/b.jpg"));
    let all = d.path().join("all.wacz");
    run_ok(samizdat(&ar).args(["export", "--all", "--wacz"]).arg(&all));
    assert_wacz_ok(&all);
    let (st, _, body) = pywb_replay_wacz(&all, &page);
    assert_eq!(st, 200);
    assert_eq!(body, page_html(&srv.base_url()).into_bytes());

    // samizdat's own check reads the new index: a consistent package, not evidence.
    let out = samizdat(&ar)
        .arg("verify-bundle")
        .arg(&wacz)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("indexes/index.idx"), "{text}");
}

/// GET `path` of the server with `headers`.
fn get(s: &Serve, path: &str, headers: &[(&str, &str)]) -> HttpResult {
    http_request("GET", &s.url(path), headers).unwrap()
}

fn h<'a>(r: &'a HttpResult, name: &str) -> &'a str {
    header_value(&r.1, name).unwrap_or_else(|| panic!("no {name} header in {:?}", r.1))
}

/// What every download answer carries, whatever its status.
fn assert_download_headers(r: &HttpResult) {
    assert_eq!(h(r, "access-control-allow-origin"), "*");
    let exposed = h(r, "access-control-expose-headers").to_ascii_lowercase();
    for want in ["content-range", "accept-ranges", "etag"] {
        assert!(exposed.contains(want), "{want} not exposed: {exposed}");
    }
    assert_eq!(h(r, "accept-ranges"), "bytes");
    assert!(h(r, "etag").starts_with("\"sha256-"), "{:?}", r.1);
}

#[test]
fn a_served_wacz_is_the_same_bytes_each_time_and_answers_ranges_from_any_origin() {
    let srv = server();
    let (_d, ar) = setup();
    let id = capture(&ar, &srv.url("/page"));
    let s = Serve::start(&ar);
    let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();

    for (kind, ct) in [("wacz", "application/wacz"), ("bundle", "application/zip")] {
        let path = format!("/api/posts/{enc}/{kind}");
        let a = get(&s, &path, &[]);
        assert_eq!(a.0, 200, "{kind}: {}", String::from_utf8_lossy(&a.2));
        assert_download_headers(&a);
        assert_eq!(h(&a, "content-type"), ct);
        let len = a.2.len();
        assert_eq!(h(&a, "content-length"), len.to_string());
        // HEAD: the same headers, no body.
        let hd = http_request("HEAD", &s.url(&path), &[]).unwrap();
        assert_eq!(hd.0, 200);
        assert_download_headers(&hd);
        assert_eq!(h(&hd, "content-length"), len.to_string());
        assert!(hd.2.is_empty());
        // A strong ETag: the SHA-256 of the bytes.
        let etag = h(&a, "etag").to_string();
        assert_eq!(etag, format!("\"sha256-{}\"", sha_hex(&a.2)), "{kind}");

        // Stable bytes: a second export, seconds later, is the same file.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = get(&s, &path, &[]);
        assert_eq!(b.0, 200);
        assert!(sha_hex(&a.2) == sha_hex(&b.2), "{kind}: two GETs differ");
        assert_eq!(h(&b, "etag"), etag);

        // One range: the zip's first local header.
        let r = get(&s, &path, &[("Range", "bytes=0-3")]);
        assert_eq!(r.0, 206, "{kind}");
        assert_download_headers(&r);
        assert_eq!(r.2, b"PK\x03\x04");
        assert_eq!(h(&r, "content-range"), format!("bytes 0-3/{len}"));
        assert_eq!(h(&r, "content-length"), "4");
        // A suffix range: the end of central directory a zip reader starts from.
        let r = get(&s, &path, &[("Range", "bytes=-22")]);
        assert_eq!(r.0, 206);
        assert_eq!(r.2, a.2[len - 22..]);
        assert_eq!(
            h(&r, "content-range"),
            format!("bytes {}-{}/{len}", len - 22, len - 1)
        );
        // An open range from the middle, and one running past the end (cut at the end).
        let r = get(&s, &path, &[("Range", &format!("bytes={}-", len / 2))]);
        assert_eq!(r.0, 206);
        assert_eq!(r.2, a.2[len / 2..]);
        let r = get(&s, &path, &[("Range", &format!("bytes=10-{}", len + 100))]);
        assert_eq!(r.0, 206);
        assert_eq!(r.2, a.2[10..]);
        // Ranges it does not have.
        for bad in [
            format!("bytes={len}-"),
            format!("bytes={}-{}", len + 5, len + 9),
            "bytes=9-2".to_string(),
            "bytes=x-3".to_string(),
            "bytes=-0".to_string(),
        ] {
            let r = get(&s, &path, &[("Range", &bad)]);
            assert_eq!(r.0, 416, "{kind}: Range {bad}");
            assert_download_headers(&r);
            assert_eq!(h(&r, "content-range"), format!("bytes */{len}"), "{bad}");
        }
        // A cache that has these bytes is told so; one with other bytes gets them.
        let r = get(&s, &path, &[("If-None-Match", &etag)]);
        assert_eq!(r.0, 304, "{kind}");
        assert!(r.2.is_empty());
        assert_eq!(h(&r, "etag"), etag);
        let r = get(&s, &path, &[("If-None-Match", "\"sha256-00\"")]);
        assert_eq!(r.0, 200);
        // If-Range: the range only while the bytes are the ones it names.
        let r = get(&s, &path, &[("Range", "bytes=0-3"), ("If-Range", &etag)]);
        assert_eq!(r.0, 206);
        let r = get(
            &s,
            &path,
            &[("Range", "bytes=0-3"), ("If-Range", "\"sha256-00\"")],
        );
        assert_eq!(r.0, 200);
        assert_eq!(r.2.len(), len);
        // A CORS preflight from another origin.
        let r = http_request(
            "OPTIONS",
            &s.url(&path),
            &[
                ("Origin", "http://localhost:9"),
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "range"),
            ],
        )
        .unwrap();
        assert_eq!(r.0, 204, "{kind} preflight");
        assert_eq!(h(&r, "access-control-allow-origin"), "*");
        assert!(
            h(&r, "access-control-allow-headers")
                .to_ascii_lowercase()
                .contains("range")
        );
        assert!(h(&r, "access-control-allow-methods").contains("GET"));
    }

    // A record download: readable from any origin, with an ETag that holds.
    let (st, post) = s.get(&format!("/api/posts/{enc}"));
    assert_eq!(st, 200);
    let post: serde_json::Value = serde_json::from_slice(&post).unwrap();
    let rid = post["captures"][0]["record_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let rpath = format!(
        "/raw/{}",
        url::form_urlencoded::byte_serialize(rid.as_bytes()).collect::<String>()
    );
    let a = get(&s, &rpath, &[]);
    assert_eq!(a.0, 200, "{}", String::from_utf8_lossy(&a.2));
    assert_eq!(h(&a, "access-control-allow-origin"), "*");
    assert!(h(&a, "access-control-expose-headers").contains("ETag"));
    let etag = h(&a, "etag").to_string();
    let b = get(&s, &rpath, &[]);
    assert_eq!((&b.2, h(&b, "etag")), (&a.2, etag.as_str()));
    let r = get(&s, &rpath, &[("If-None-Match", &etag)]);
    assert_eq!(r.0, 304);
    assert_eq!(h(&r, "access-control-allow-origin"), "*");

    // Ranges of the decoded body (issue 14): 206 with the same bytes as the whole body,
    // 416 past its end, the whole body when If-Range names another validator.
    assert_eq!(h(&a, "accept-ranges"), "bytes");
    // The capture's first record with a body of a few bytes (the page's response).
    let (rpath, a) = post["captures"][0]["record_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = format!(
                "/raw/{}",
                url::form_urlencoded::byte_serialize(r.as_str().unwrap().as_bytes())
                    .collect::<String>()
            );
            let a = get(&s, &p, &[]);
            (p, a)
        })
        .find(|(_, a)| a.0 == 200 && a.2.len() > 4)
        .expect("a record with a body");
    let etag = h(&a, "etag").to_string();
    let len = a.2.len();
    let r = get(&s, &rpath, &[("Range", "bytes=1-3")]);
    assert_eq!(r.0, 206, "{}", String::from_utf8_lossy(&r.2));
    assert_eq!(r.2, a.2[1..4]);
    assert_eq!(h(&r, "content-range"), format!("bytes 1-3/{len}"));
    assert_eq!(h(&r, "etag"), etag);
    assert_eq!(h(&r, "access-control-allow-origin"), "*");
    assert_eq!(h(&r, "x-content-type-options"), "nosniff");
    assert_eq!(h(&r, "content-type"), h(&a, "content-type"));
    let r = get(&s, &rpath, &[("Range", "bytes=-2")]);
    assert_eq!((r.0, &r.2[..]), (206, &a.2[len - 2..]));
    let r = get(&s, &rpath, &[("Range", &format!("bytes={len}-"))]);
    assert_eq!(r.0, 416);
    assert_eq!(h(&r, "content-range"), format!("bytes */{len}"));
    let r = get(
        &s,
        &rpath,
        &[("Range", "bytes=0-1"), ("If-Range", "\"other\"")],
    );
    assert_eq!((r.0, &r.2), (200, &a.2));
    let r = get(
        &s,
        &rpath,
        &[("Range", "bytes=0-1"), ("If-None-Match", &etag)],
    );
    assert_eq!(r.0, 304);

    // The token API is not opened to other origins.
    let r = http_request(
        "OPTIONS",
        &s.url("/api/captures"),
        &[
            ("Origin", "http://localhost:9"),
            ("Access-Control-Request-Method", "POST"),
        ],
    )
    .unwrap();
    assert!(
        header_value(&r.1, "access-control-allow-origin").is_none(),
        "{:?}",
        r.1
    );
    let r = http_request(
        "POST",
        &s.url("/api/captures"),
        &[("Origin", "http://localhost:9"), ("Content-Length", "0")],
    )
    .unwrap();
    assert!(
        header_value(&r.1, "access-control-allow-origin").is_none(),
        "{:?}",
        r.1
    );

    // The WACZ is dated by its newest record (the capture), not by the download.
    let w = get(&s, &format!("/api/posts/{enc}/wacz"), &[]);
    let es = zip_members(&w.2);
    let dp: serde_json::Value = serde_json::from_slice(&entry(&es, "datapackage.json").1).unwrap();
    assert_eq!(dp["created"], CAPTURED_AT, "{dp}");
    assert_eq!(dp["modified"], CAPTURED_AT, "{dp}");
    s.stop();
}

#[test]
fn the_cli_export_is_the_served_wacz_byte_for_byte() {
    let srv = server();
    let (d, ar) = setup();
    let id = capture(&ar, &srv.url("/page"));
    let out = d.path().join("cli.wacz");
    run_ok(samizdat(&ar).arg("export").arg(&id).arg("--wacz").arg(&out));
    let s = Serve::start(&ar);
    let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let (st, body) = s.get(&format!("/api/posts/{enc}/wacz"));
    assert_eq!(st, 200);
    assert!(
        std::fs::read(&out).unwrap() == body,
        "`export --wacz` and the served WACZ differ"
    );
    s.stop();
}

/// The ReplayWeb.page viewer and puppeteer-core that scripts/setup-replayweb.sh installs
/// (`REPLAYWEB_DIR`, else `.cache/replayweb` in the checkout), and a Chromium; `None` (a
/// skip) only outside CI.
fn replayweb() -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("REPLAYWEB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/replayweb"));
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|c| {
            let out = std::process::Command::new("which").arg(c).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        });
    let have = dir.join("viewer/index.html").is_file()
        && dir.join("viewer/sw.js").is_file()
        && dir
            .join("node_modules/puppeteer-core/package.json")
            .is_file();
    let what = match (have, &chromium) {
        (true, Some(c)) => return Some((dir, c.clone())),
        (false, _) => format!(
            "the ReplayWeb.page viewer is missing from {} (run scripts/setup-replayweb.sh)",
            dir.display()
        ),
        (true, None) => "chromium is missing (run scripts/setup-browser.sh)".to_string(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what}; browser tests may not skip in CI");
    }
    eprintln!("SKIP: {what}");
    None
}

/// ReplayWeb.page, from its npm package, loads a post's WACZ straight from
/// `samizdat serve` (another origin: CORS and ranges) in headless Chromium and shows the
/// archived page's text in its replay frame (issue 14).
#[test]
fn replayweb_page_replays_a_wacz_straight_from_samizdat_serve() {
    let Some((rwp, chromium)) = replayweb() else {
        return;
    };
    let want = "Words only the archived page holds: 0xC0FFEE";
    let srv = server();
    srv.route(
        "/rwp/article",
        Resp::html(format!(
            "<!doctype html><html><head><meta charset=utf-8><title>RWP test</title></head>\
             <body><h1>An article</h1><p>{want}</p></body></html>"
        )),
    );
    let (_d, ar) = setup();
    let page = srv.url("/rwp/article");
    let id = capture(&ar, &page);
    // The live page is gone: what the viewer shows can only come from the WACZ.
    drop(srv);
    let s = Serve::start(&ar);
    let enc: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let wacz = s.url(&format!("/api/posts/{enc}/wacz"));
    let out = std::process::Command::new("timeout")
        .arg("150")
        .arg("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replayweb/drive.cjs"))
        .arg(rwp.join("viewer"))
        .arg(&wacz)
        .arg(&page)
        .arg(want)
        .arg(&chromium)
        .env("NODE_PATH", rwp.join("node_modules"))
        .env("PUPPETEER_SKIP_DOWNLOAD", "1")
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    s.stop();
    eprintln!("{stdout}");
    assert!(
        out.status.success() && stdout.starts_with("FOUND "),
        "ReplayWeb.page did not show the archived text\nstdout: {stdout}\nstderr: {stderr}"
    );
    // The text was found in the viewer's replay frame (its own origin, served from the
    // WACZ by its service worker), at the capture's time.
    let ts = CAPTURED_AT.replace(['-', 'T', ':', 'Z'], "");
    let frame = stdout.trim().strip_prefix("FOUND ").unwrap();
    assert!(frame.starts_with("http://localhost:"), "{frame}");
    assert!(frame.ends_with(&format!("{ts}mp_/{page}")), "{frame}");
}
