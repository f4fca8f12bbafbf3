//! Rendering a capture in real headless Chromium (issue 16, docs/render.md): what the
//! browser saw is kept as records tied to the post record, every request it made is made
//! and recorded by samizdat, and a render that cannot finish never costs the capture.
//! Loopback only; in CI a missing Chromium fails these tests.

use crate::common;

use common::tsa::start_tsa;
use common::*;
use samizdat::store::warc::{Record, mime};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Whether Chromium is here; in CI its absence is a failure, not a skip.
fn have_chromium() -> bool {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = std::process::Command::new("which").arg(c).output()
            && out.status.success()
        {
            return true;
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "chromium is missing (run scripts/setup-browser.sh); render tests may not skip in CI"
        );
    }
    eprintln!("SKIP: no chromium (scripts/setup-browser.sh installs it)");
    false
}

/// A page whose words exist only after its script ran, with a style sheet and a picture.
const SCRIPTED: &str = r#"<html><head><title>Frozen cards</title><link rel="stylesheet" href="/style.css"></head>
<body><article id="a"></article><img src="/pic.png">
<script>document.getElementById('a').innerHTML = '<p>All my bank cards were frozen by the anti-fraud centre after one call.</p>';</script>
</body></html>"#;

/// A 1x1 PNG.
fn tiny_png() -> Vec<u8> {
    let mut out = vec![];
    {
        let mut enc = png::Encoder::new(&mut out, 1, 1);
        enc.set_color(png::ColorType::Rgba);
        let mut w = enc.write_header().unwrap();
        w.write_image_data(&[200, 30, 30, 255]).unwrap();
    }
    out
}

/// A server of [`SCRIPTED`] at `/p/1`, with its style sheet and picture.
fn scripted_server() -> TestServer {
    let srv = server();
    srv.route("/p/1", Resp::html(SCRIPTED));
    srv.route(
        "/style.css",
        Resp::new(200)
            .header("Content-Type", "text/css")
            .body("body { background: #eef; }"),
    );
    srv.route(
        "/pic.png",
        Resp::new(200)
            .header("Content-Type", "image/png")
            .body(tiny_png()),
    );
    srv
}

fn config(srv: &TestServer, browser: &str) -> String {
    format!(
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n[http.hosts]\n\"page.example\" = \"{}\"\n[browser]\n{browser}\n",
        srv.base_url()
    )
}

fn capture(ar: &Path, url: &str) -> Value {
    let out = run_ok(samizdat(ar).args(["--json", "capture", "--render", "--no-media", url]));
    json_lines(&String::from_utf8_lossy(&out.stdout)).remove(0)
}

fn show(ar: &Path, url: &str) -> Value {
    serde_json::from_slice(&run_ok(samizdat(ar).args(["--json", "show", url])).stdout).unwrap()
}

fn by_uri<'a>(recs: &'a [Record], prefix: &str) -> Vec<&'a Record> {
    recs.iter()
        .filter(|r| {
            r.field("WARC-Target-URI")
                .is_some_and(|u| u.starts_with(prefix))
        })
        .collect()
}

#[test]
fn a_scripted_page_is_rendered_and_its_text_kept_from_the_dom() {
    if !have_chromium() {
        return;
    }
    let srv = scripted_server();
    let (_d, ar) = quick_archive("");
    write_config(&ar, &config(&srv, "width = 800"));
    let url = "http://page.example/p/1";
    let r = capture(&ar, url);
    assert_eq!(r["status"], "captured", "{r}");

    // The browser asked for the style sheet and the picture, through samizdat.
    assert!(
        srv.hits("/style.css") >= 1,
        "the browser fetched the style sheet"
    );
    assert!(srv.hits("/pic.png") >= 1, "the browser fetched the picture");

    let recs = records(&ar);
    let post_rec = recs
        .iter()
        .find(|r| r.field("Content-Type") == Some(mime::POST))
        .expect("a post record");
    let shots = by_uri(&recs, "urn:samizdat:screenshot:");
    let doms = by_uri(&recs, "urn:samizdat:dom:");
    assert_eq!((shots.len(), doms.len()), (1, 1));
    let (shot, dom) = (shots[0], doms[0]);
    for rec in [shot, dom] {
        assert_eq!(rec.warc_type(), "resource");
        assert_eq!(rec.field("WARC-Concurrent-To"), Some(post_rec.id()));
    }
    assert_eq!(shot.field("Content-Type"), Some("image/png"));
    assert_eq!(&shot.block[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(shot.block[16..20].try_into().unwrap());
    assert_eq!(width, 800, "the screenshot is as wide as [browser] width");
    let dom_text = String::from_utf8_lossy(&dom.block);
    assert!(
        dom_text.contains("frozen by the anti-fraud centre"),
        "the DOM after scripts ran holds the inserted text"
    );
    // Every browser exchange is marked, and the picture's answer is among them.
    let via: Vec<&Record> = recs
        .iter()
        .filter(|r| r.field("Samizdat-Via") == Some("browser"))
        .collect();
    assert!(
        via.iter().any(|r| r.warc_type() == "response"
            && r.field("WARC-Target-URI")
                .is_some_and(|u| u.ends_with("/pic.png"))),
        "the picture's response is recorded as the browser's: {:?}",
        via.iter()
            .map(|r| (
                r.warc_type().to_string(),
                r.field("WARC-Target-URI").map(str::to_string)
            ))
            .collect::<Vec<_>>()
    );

    let v = show(&ar, url);
    let text = v["text"].as_str().unwrap_or_default();
    assert!(text.contains("frozen by the anti-fraud centre"), "{v}");
    assert_eq!(v["extra"]["text_from"], "render", "{v}");
    let render = &v["renders"][0];
    assert_eq!(render["screenshot"]["record_id"], shot.id());
    assert_eq!(
        render["screenshot"]["sha256"],
        hex::encode(Sha256::digest(&shot.block))
    );
    assert_eq!(render["screenshot"]["width"], 800);
    assert_eq!(
        render["dom"]["sha256"],
        hex::encode(Sha256::digest(&dom.block))
    );
    assert_eq!(render["loaded"], true, "{render}");

    let prov: Value = recs
        .iter()
        .find(|r| r.field("Content-Type") == Some(mime::PROVENANCE))
        .map(|r| serde_json::from_slice(&r.block).unwrap())
        .expect("a provenance record");
    let b = &prov["browser"];
    assert!(!b["version"].as_str().unwrap_or_default().is_empty(), "{b}");
    assert_eq!(b["sandboxed"], true, "the sandbox stays on: {b}");

    run_ok(samizdat(&ar).args(["verify"]));
}

#[test]
fn a_page_that_never_finishes_is_rendered_as_it_stood_and_a_render_given_up_keeps_the_capture() {
    if !have_chromium() {
        return;
    }
    let srv = server();
    srv.route(
        "/p/slow",
        Resp::html(
            "<html><body><p>The words arrive first.</p><img src=\"/never.png\"></body></html>",
        ),
    );
    srv.route("/never.png", Resp::new(200).delay(30_000));
    // The navigation times out: the page is rendered as it stood.
    let (_d, ar) = quick_archive("");
    write_config(
        &ar,
        &config(&srv, "nav_timeout_secs = 2\nrender_timeout_secs = 25"),
    );
    let url = "http://page.example/p/slow";
    let r = capture(&ar, url);
    assert_eq!(r["status"], "captured", "{r}");
    let v = show(&ar, url);
    let render = &v["renders"][0];
    assert_eq!(render["loaded"], false, "{v}");
    assert!(
        render["warnings"].to_string().contains("nav_timeout_secs"),
        "{render}"
    );
    assert_eq!(by_uri(&records(&ar), "urn:samizdat:screenshot:").len(), 1);
    run_ok(samizdat(&ar).args(["verify"]));

    // The whole render is given up: a warning, the capture kept, no screenshot.
    let (_d2, ar2) = quick_archive("");
    write_config(
        &ar2,
        &config(&srv, "nav_timeout_secs = 20\nrender_timeout_secs = 2"),
    );
    let r = capture(&ar2, url);
    assert_eq!(r["status"], "captured", "{r}");
    assert!(r["warnings"].to_string().contains("not rendered:"), "{r}");
    let recs = records(&ar2);
    assert!(by_uri(&recs, "urn:samizdat:screenshot:").is_empty());
    assert!(
        recs.iter()
            .any(|r| r.field("Content-Type") == Some(mime::POST))
    );
    assert!(show(&ar2, url).get("renders").is_none());
    run_ok(samizdat(&ar2).args(["verify"]));
}

#[test]
fn a_render_asked_for_without_a_browser_is_a_clear_error() {
    let srv = server();
    srv.route("/p/1", Resp::html(SCRIPTED));
    let (_d, ar) = quick_archive("");
    write_config(&ar, &config(&srv, "path = \"/nonexistent/chromium\""));
    let (code, _out, err) =
        run_code(samizdat(&ar).args(["capture", "--render", "http://page.example/p/1"]));
    assert_ne!(code, 0);
    assert!(err.contains("cannot render"), "{err}");
    assert_eq!(srv.hits("/p/1"), 0, "nothing is captured half-way");
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut v = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
            && let Some(rest) = stat.rsplit_once(')').map(|x| x.1)
            && rest.split_whitespace().nth(1) == Some(&pid.to_string())
        {
            v.push(p);
        }
    }
    v
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|x| x.1.split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

#[test]
fn a_samizdat_killed_during_a_render_leaves_no_browser_and_an_intact_archive() {
    if !have_chromium() {
        return;
    }
    let srv = server();
    srv.route(
        "/p/slow",
        Resp::html("<html><body><p>Still loading.</p><img src=\"/never.png\"></body></html>"),
    );
    srv.route("/never.png", Resp::new(200).delay(60_000));
    let (_d, ar) = quick_archive("");
    write_config(
        &ar,
        &config(&srv, "nav_timeout_secs = 50\nrender_timeout_secs = 55"),
    );
    let mut child = samizdat(&ar)
        .args([
            "capture",
            "--render",
            "--no-media",
            "http://page.example/p/slow",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the browser is waiting for the picture that never comes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let browsers = loop {
        let kids: Vec<u32> = children_of(child.id())
            .into_iter()
            .filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains("samizdat-browser-"))
                    .unwrap_or(false)
            })
            .collect();
        if !kids.is_empty() && srv.hits("/never.png") >= 1 {
            break kids;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    // The browser's profile folder names every process of this browser (its renderers and
    // helpers are its own children, not samizdat's).
    let cmdline =
        String::from_utf8_lossy(&std::fs::read(format!("/proc/{}/cmdline", browsers[0])).unwrap())
            .into_owned();
    let profile = cmdline
        .split('\0')
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .expect("the browser's profile folder")
        .to_string();
    let of_this_browser = || -> Vec<u32> {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
            .filter(|p| {
                alive(*p)
                    && std::fs::read(format!("/proc/{p}/cmdline"))
                        .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&profile))
            })
            .collect()
    };
    assert!(!of_this_browser().is_empty());
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while browsers.iter().any(|p| alive(*p)) || !of_this_browser().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "a browser outlived samizdat by 10 s: {browsers:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Nothing torn: the archive checks, and a later capture works.
    run_ok(samizdat(&ar).args(["verify"]));
}

#[test]
fn through_the_api_the_browser_cannot_reach_an_internal_address() {
    if !have_chromium() {
        return;
    }
    use common::serve::Serve;
    const TOKEN: &str = "render-token-0123456789";
    let secret = server();
    secret.route(
        "/secret.png",
        Resp::new(200)
            .header("Content-Type", "image/png")
            .body(tiny_png()),
    );
    let srv = server();
    srv.route(
        "/p/1",
        Resp::html(format!(
            "<html><head><title>Frozen</title></head><body><article><p>All my bank cards were frozen after one call.</p></article>\
             <img src=\"{}\"><script>fetch('{}')</script></body></html>",
            secret.url("/secret.png"),
            secret.url("/secret.png?from=script")
        )),
    );
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let tok = dir.path().join("token");
    std::fs::write(&tok, format!("{TOKEN}\n")).unwrap();
    write_config(
        &ar,
        &format!(
            "{}[serve]\ntoken_file = {tok:?}\n",
            config(&srv, "render = \"always\"")
        ),
    );
    let web = Serve::start(&ar);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (code, v): (u16, Value) = rt.block_on(async {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/api/captures", web.base))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(serde_json::json!({"url": "http://page.example/p/1"}).to_string())
            .send()
            .await
            .unwrap();
        let code = r.status().as_u16();
        (
            code,
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
        )
    });
    web.stop();
    assert!(code < 300, "{code} {v}");
    assert_eq!(v["status"], "captured", "{v}");
    assert_eq!(
        secret.requests().len(),
        0,
        "the browser reached the internal address"
    );
    let shown = show(&ar, "http://page.example/p/1");
    let render = &shown["renders"][0];
    assert!(
        render["screenshot"]["sha256"].is_string(),
        "the page is rendered all the same: {shown}"
    );
    let warnings = render["warnings"].to_string();
    assert!(
        warnings.contains(&secret.url("/secret.png")) && warnings.contains("internal"),
        "the refusal is written down: {warnings}"
    );
}

#[test]
fn pywb_replays_what_only_the_browser_fetched() {
    if !have_chromium() {
        return;
    }
    let srv = server();
    srv.route(
        "/p/live",
        Resp::html(
            "<html><head><title>Live</title></head><body><article id=\"a\"></article><script>\
             fetch('/data.json').then(r => r.json()).then(d => { document.getElementById('a').textContent = d.text; });\
             </script></body></html>",
        ),
    );
    srv.route(
        "/data.json",
        Resp::json(r#"{"text":"The anti-fraud centre froze every card I hold."}"#),
    );
    let (_d, ar) = quick_archive("");
    write_config(&ar, &config(&srv, ""));
    let r = capture(&ar, "http://page.example/p/live");
    assert_eq!(r["status"], "captured", "{r}");
    let recs = records(&ar);
    let data: Vec<&Record> = recs
        .iter()
        .filter(|r| {
            r.warc_type() == "response"
                && r.field("WARC-Target-URI")
                    .is_some_and(|u| u.ends_with("/data.json"))
        })
        .collect();
    assert_eq!(data.len(), 1, "one answer for the script's request");
    assert_eq!(
        data[0].field("Samizdat-Via"),
        Some("browser"),
        "only the browser asked for it"
    );
    let uri = data[0].field("WARC-Target-URI").unwrap().to_string();
    let (status, _headers, body) = pywb_replay(&warc_files(&ar), &uri);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(
        String::from_utf8_lossy(&body).contains("froze every card I hold"),
        "pywb serves the browser's exchange"
    );
    let shown = show(&ar, "http://page.example/p/live");
    assert!(
        shown["text"]
            .as_str()
            .unwrap_or_default()
            .contains("froze every card I hold"),
        "{shown}"
    );
}

/// The RGBA pixels of a PNG.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let img = samizdat::evidence::stamp::decode(png_bytes).unwrap();
    (img.width, img.height, img.pixels)
}

/// The files the technical report adds to a rendered capture's bundle.
const REPORT_FILES: [&str; 5] = [
    "screenshot.png",
    "rendered.html",
    "provenance.json",
    "report.html",
    "report.pdf",
];

/// Every character but white space (a PDF's text wraps long digests where it likes).
fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_bundle_carries_the_stamped_screenshot_the_report_and_its_pdf_and_each_is_checked() {
    if !have_chromium() {
        return;
    }
    let srv = scripted_server();
    let tsa = start_tsa();
    let (d, ar) = quick_archive("");
    write_config(
        &ar,
        &format!(
            "{}[collector]\nname = \"Desk of record\"\norganisation = \"Test Archive\"\n[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
            config(&srv, "width = 800"),
            tsa.url,
            tsa.ca().display()
        ),
    );
    let url = "http://page.example/p/1";
    assert_eq!(capture(&ar, url)["status"], "captured");
    // The local clock against the TSA's: a right clock, within the bound, no warning.
    let ts: Value =
        serde_json::from_slice(&run_ok(samizdat(&ar).args(["--json", "timestamp"])).stdout)
            .unwrap();
    let off = ts["tokens"][0]["clock_offset_ms"]
        .as_i64()
        .unwrap_or_else(|| panic!("the local clock is compared with the TSA's: {ts}"));
    assert!(off.abs() < 5000, "{ts}");
    assert!(ts["tokens"][0].get("clock_warning").is_none(), "{ts}");
    let shown = show(&ar, url);
    let render = &shown["renders"][0];
    let shot_sha = render["screenshot"]["sha256"].as_str().unwrap().to_string();
    let dom_sha = render["dom"]["sha256"].as_str().unwrap().to_string();
    let shot_id = render["screenshot"]["record_id"]
        .as_str()
        .unwrap()
        .to_string();

    // `show` says it in words, and the post's web page shows the screenshot from the archive.
    let words =
        String::from_utf8_lossy(&run_ok(samizdat(&ar).args(["show", url])).stdout).into_owned();
    assert!(
        words
            .lines()
            .any(|l| l.starts_with("rendered ") && l.contains(&shot_sha)),
        "show names the render:\n{words}"
    );
    {
        let web = common::serve::Serve::start(&ar);
        let id = shown["id"].as_str().unwrap();
        let (code, page) = web.get(&format!("/posts/{}", urlencoding(id)));
        assert_eq!(code, 200);
        let page = String::from_utf8_lossy(&page).into_owned();
        let src = format!("/raw/{}", urlencoding(&shot_id));
        assert!(
            page.contains(&format!("<img id=\"screenshot\" src=\"{src}\"")),
            "the post page shows the screenshot: {page}"
        );
        let (code, png_bytes) = web.get(&src);
        assert_eq!(code, 200);
        assert_eq!(
            hex::encode(Sha256::digest(&png_bytes)),
            shot_sha,
            "the page's screenshot is the record's PNG"
        );
        web.stop();
    }

    let bundle = d.path().join("b.zip");
    let out = run_ok(
        samizdat(&ar)
            .args(["--json", "export", url, "--pdf", "--bundle"])
            .arg(&bundle),
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rendered"], true, "{summary}");
    assert_eq!(summary["pdf"], true, "{summary}");

    let members: std::collections::BTreeMap<String, Vec<u8>> = read_zip(&bundle)
        .into_iter()
        .map(|(n, b, _)| (n, b))
        .collect();
    for name in REPORT_FILES {
        assert!(members.contains_key(name), "{name} is in the bundle");
        let readme = String::from_utf8_lossy(&members["README.txt"]);
        assert!(readme.contains(name), "README.txt names {name}");
    }
    // rendered.html is the DOM record; the screenshot's lower part is the record's pixels.
    assert_eq!(
        hex::encode(Sha256::digest(&members["rendered.html"])),
        dom_sha
    );
    let recs = records(&ar);
    let shot = recs.iter().find(|r| r.id() == shot_id).unwrap();
    let (rw, rh, rpx) = pixels(&shot.block);
    let (sw, sh, spx) = pixels(&members["screenshot.png"]);
    assert_eq!(sw, rw, "the stamp keeps the width");
    assert!(
        sh > rh,
        "the strip is added above the page, not drawn on it"
    );
    assert_eq!(
        &spx[spx.len() - rpx.len()..],
        &rpx[..],
        "the page pixels are the record's"
    );
    assert_ne!(
        &spx[..(sw * 4 * 10) as usize],
        &vec![255u8; (sw * 4 * 10) as usize][..],
        "the strip is not blank"
    );
    // provenance.json names the collector; the report says who, when and every digest.
    let prov: Value = serde_json::from_slice(&members["provenance.json"]).unwrap();
    assert_eq!(
        prov[0]["provenance"]["collector"]["name"], "Desk of record",
        "{prov}"
    );
    let report = String::from_utf8_lossy(&members["report.html"]);
    for want in [
        url,
        shot_sha.as_str(),
        dom_sha.as_str(),
        "Desk of record, Test Archive",
        "TEMPLATE",
        "902(13)",
        "after the newest capture",
    ] {
        assert!(report.contains(want), "report.html says {want}");
    }
    // docs/sample-report/ is made here, by the real binary (see its README.md).
    if let Some(dir) = std::env::var_os("SAMIZDAT_SAMPLE_REPORT") {
        let dir = Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        for name in ["report.html", "report.pdf", "screenshot.png", "README.txt"] {
            std::fs::write(dir.join(name), &members[name]).unwrap();
        }
    }
    // The PDF, read back by poppler.
    let pdf_path = d.path().join("report.pdf");
    std::fs::write(&pdf_path, &members["report.pdf"]).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(text.status.success(), "pdftotext reads report.pdf");
    let text = squeezed(&String::from_utf8_lossy(&text.stdout));
    assert!(text.contains(url), "the PDF carries the URL");
    assert!(
        text.contains(&shot_sha),
        "the PDF carries the screenshot's digest"
    );
    assert!(text.contains("TEMPLATE"), "the PDF carries the template");

    // verify-bundle passes, and names each file it checked.
    let vkey = ar.join("keys/log.vkey");
    let check = |zip: &Path| {
        let mut c = samizdat(&ar.join("nonexistent"));
        c.arg("verify-bundle")
            .arg(zip)
            .arg("--vkey")
            .arg(&vkey)
            .arg("--tsa-ca")
            .arg(tsa.ca());
        run_code(&mut c)
    };
    let (code, out, err) = check(&bundle);
    assert_eq!(code, 0, "the bundle verifies:\n{out}\n{err}");
    for name in REPORT_FILES {
        assert!(
            out.lines().any(|l| l.starts_with("ok") && l.contains(name)),
            "verify-bundle checked {name}:\n{out}"
        );
    }

    // Each kind of change is caught and named.
    let bad = d.path().join("bad.zip");
    let one_pixel = |b: &mut Vec<u8>| {
        let mut img = samizdat::evidence::stamp::decode(b).unwrap();
        let last = img.pixels.len() - 4;
        img.pixels[last] ^= 0x40;
        *b = samizdat::evidence::stamp::encode(&img).unwrap();
    };
    let lines = |u: &str| {
        vec![
            format!("samizdat evidence: screenshot of {u}"),
            "captured 2020-01-01T00:00:00Z".to_string(),
        ]
    };
    let record_png = shot.block.clone();
    let other_strip = move |b: &mut Vec<u8>| {
        *b = samizdat::evidence::stamp::stamp(&record_png, &lines("http://elsewhere.example/"))
            .unwrap();
    };
    type Change = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, &str, Change, &str)> = vec![
        (
            "a page pixel",
            "screenshot.png",
            Box::new(one_pixel),
            "page pixels differ",
        ),
        (
            "another strip",
            "screenshot.png",
            Box::new(other_strip),
            "screenshot.png",
        ),
        (
            "the DOM",
            "rendered.html",
            Box::new(|b: &mut Vec<u8>| b.extend_from_slice(b"<p>added</p>")),
            "rendered.html",
        ),
        (
            "the report",
            "report.html",
            Box::new(|b: &mut Vec<u8>| {
                let s = String::from_utf8_lossy(b).replace("Desk of record", "Someone else");
                *b = s.into_bytes();
            }),
            "report.html",
        ),
        (
            "the provenance",
            "provenance.json",
            Box::new(|b: &mut Vec<u8>| {
                let s = String::from_utf8_lossy(b).replace("Desk of record", "Someone else");
                *b = s.into_bytes();
            }),
            "provenance.json",
        ),
        (
            "a cut PDF",
            "report.pdf",
            Box::new(|b: &mut Vec<u8>| b.truncate(b.len() / 2)),
            "report.pdf",
        ),
    ];
    // A file taken away is named; taking the report files away to pass as a bundle from
    // before the report does not work: README.txt names them.
    let without = |names: &[&str]| {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
        for (n, b, m) in read_zip(&bundle) {
            if !names.contains(&n.as_str()) {
                z.start_file(
                    n.as_str(),
                    zip::write::SimpleFileOptions::default().compression_method(m),
                )
                .unwrap();
                std::io::Write::write_all(&mut z, &b).unwrap();
            }
        }
        z.finish().unwrap();
    };
    without(&["screenshot.png"]);
    let (code, out, _) = check(&bad);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("FAIL")
            && l.contains("screenshot.png")
            && l.contains("missing")),
        "{out}"
    );
    without(&[
        "report.html",
        "report.pdf",
        "screenshot.png",
        "rendered.html",
        "provenance.json",
    ]);
    let (code, out, _) = check(&bad);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("README.txt")),
        "{out}"
    );
    for (what, file, f, says) in cases {
        rewrite_zip(&bundle, &bad, file, f);
        let (code, out, err) = check(&bad);
        assert_eq!(code, 3, "{what}: not detected:\n{out}\n{err}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("FAIL") && l.contains(file) && l.contains(says)),
            "{what}: the failure names {file} ({says}):\n{out}"
        );
    }
}

/// `s` percent-encoded as the web pages encode record and post ids in their links.
fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn a_page_with_a_web_font_is_rendered_with_it() {
    if !have_chromium() {
        return;
    }
    let font = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/render/serif-bold-subset.woff2"
    ))
    .unwrap();
    let srv = server();
    // The script writes whether the browser has the font, once fonts are ready.
    srv.route(
        "/p/1",
        Resp::html(
            r#"<html><head><title>A web font</title><style>
@font-face { font-family: "Witness"; src: url(/fonts/w.woff2) format("woff2"); }
p { font-family: "Witness", monospace; font-size: 28px; }
</style></head><body><article><p>All my bank cards were frozen after one call.</p></article>
<div id="f">fonts pending</div>
<script>document.fonts.ready.then(function () {
  document.getElementById('f').textContent =
    document.fonts.check('28px "Witness"') && [...document.fonts].some(function (f) { return f.family.indexOf('Witness') >= 0 && f.status === 'loaded'; })
      ? 'web font loaded' : 'web font missing';
});</script></body></html>"#,
        ),
    );
    srv.route(
        "/fonts/w.woff2",
        Resp::new(200)
            .header("Content-Type", "font/woff2")
            .body(font.clone()),
    );
    let (_d, ar) = quick_archive("");
    write_config(&ar, &config(&srv, ""));
    let url = "http://page.example/p/1";
    assert_eq!(capture(&ar, url)["status"], "captured");
    assert!(
        srv.hits("/fonts/w.woff2") >= 1,
        "the browser fetched the font"
    );
    let recs = records(&ar);
    // The font's answer is recorded as the browser's, with the font's bytes.
    let font_resp = recs
        .iter()
        .find(|r| {
            r.warc_type() == "response"
                && r.field("Samizdat-Via") == Some("browser")
                && r.target_uri()
                    .is_some_and(|u| u.ends_with("/fonts/w.woff2"))
        })
        .expect("the font's response is a browser exchange");
    assert!(
        font_resp.block.ends_with(&font),
        "the recorded answer carries the font"
    );
    // The browser decoded and used it: the DOM says so.
    let dom = by_uri(&recs, "urn:samizdat:dom:")[0];
    let dom = String::from_utf8_lossy(&dom.block);
    assert!(dom.contains("web font loaded"), "the DOM: {dom}");
}
