//! The web UI tells the story (issue 14): a post's timeline with what each check found,
//! when (UTC and "3 hours ago") and its proof; the `/log` page; "Recently gone" first on
//! the home page; no empty separators, no repeated title, labelled hex digests; adding
//! URLs from the browser behind the token; every page kind in headless Chromium at 1280
//! and 390 pixels wide, with screenshots into docs/screenshots/.
//!
//! The archive is made with the real CLI against loopback servers: a Mastodon post is
//! watched (live, unreachable, deleted, deleted again: confirmed) with the clock moved by
//! `SAMIZDAT_NOW`; a web article without an author; a post already gone at its capture.
//! `samizdat serve` (the real binary) runs with `SAMIZDAT_NOW` set, so "ago" is fixed.

use crate::common;

use common::serve::Serve;
use common::tsa::start_tsa;
use common::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

const HOST: &str = "mastodon.social";
const T0: &str = "2026-03-01T12:00:00Z";
const TOKEN: &str = "form-token-0123456789abc";
const A: &str = "110000000000000001";
const B: &str = "110000000000000002";

fn at(offset_min: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_mins(offset_min)).to_string()
}

fn status(id: &str, text: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "created_at": "2026-03-01T11:00:00.000Z", "in_reply_to_id": null,
        "in_reply_to_account_id": null, "sensitive": false, "spoiler_text": "",
        "visibility": "public", "language": "en",
        "uri": format!("https://{HOST}/users/ada/statuses/{id}"),
        "url": format!("https://{HOST}/@ada/{id}"),
        "replies_count": 1, "reblogs_count": 2, "favourites_count": 3, "edited_at": null,
        "content": format!("<p>{text}</p>"), "reblog": null,
        "account": {"id": "4242", "username": "ada", "acct": "ada", "display_name": "Ada",
                    "url": format!("https://{HOST}/@ada")},
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": null, "poll": null
    }))
    .unwrap()
}

fn gone_404() -> Resp {
    Resp::new(404)
        .header("Content-Type", "application/json")
        .body(r#"{"error":"Record not found"}"#)
}

const ARTICLE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>The bank froze my savings account</title></head>\
<body><article><h1>The bank froze my savings account</h1><p>Without warning the bank froze my savings account \
and nobody at the branch would say why.</p><p>Second paragraph about the freeze and the letters that followed.</p></article></body></html>";

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

struct Built {
    _dir: tempfile::TempDir,
    ar: PathBuf,
    srv: TestServer,
    /// The watched post, deleted (confirmed) after an unreachable check.
    deleted: String,
    /// Already gone at its capture.
    unconfirmed: String,
    /// A web article without an author.
    article: String,
}

fn build() -> Built {
    let srv = server();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let tok = dir.path().join("token");
    std::fs::write(&tok, format!("{TOKEN}\n")).unwrap();
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 1500\nmax_retries = 0\n\n[http.hosts]\n{HOST:?} = {:?}\n\n\
[serve]\ntoken_file = {tok:?}\nallow_private_addresses = true\n",
            srv.base_url()
        ),
    );
    let route = |id: &str, r: Resp| srv.route(&format!("/api/v1/statuses/{id}"), r);
    route(A, Resp::json(status(A, "hello from the pier")));
    let out = run_ok(sz(&ar, T0).args([
        "--json",
        "watch",
        "add",
        &format!("https://{HOST}/@ada/{A}"),
    ]));
    let deleted = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string();
    let once = |now: &str| run_ok(sz(&ar, now).args(["--json", "watch", "run", "--once"]));
    once(&at(5)); // live
    route(A, Resp::new(503).body("upstream overloaded"));
    once(&at(30)); // unreachable
    route(A, gone_404());
    once(&at(60)); // deleted, not yet a state
    once(&at(62)); // deleted again: confirmed

    srv.route("/article", Resp::html(ARTICLE));
    let out = run_ok(sz(&ar, &at(90)).args(["--json", "capture", &srv.url("/article")]));
    let article = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string();

    route(B, gone_404());
    let (_, out, _) = run_code(sz(&ar, &at(120)).args([
        "--json",
        "capture",
        &format!("https://{HOST}/@ada/{B}"),
    ]));
    let unconfirmed = json_lines(&out)[0]["post_id"]
        .as_str()
        .expect("a post id for the gone capture")
        .to_string();
    Built {
        _dir: dir,
        ar,
        srv,
        deleted,
        unconfirmed,
        article,
    }
}

/// `samizdat serve` with the clock at `now`; killed when dropped.
fn serve_at(ar: &Path, now: &str) -> Serve {
    let mut child = sz(ar, now)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn samizdat serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut serve = Serve {
        child,
        base: String::new(),
    };
    serve.base = loop {
        let line = lines.next().expect("serve said where it listens").unwrap();
        if let Some(rest) = line.split(" on http://").nth(1) {
            break format!("http://{}", rest.split('/').next().unwrap());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    serve
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn page(url: &str) -> String {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.text().await.unwrap()
}

async fn post_form(url: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let r = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The part of `html` from `from` to the next `to` after it.
fn between<'a>(html: &'a str, from: &str, to: &str) -> &'a str {
    let a = html
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in {html}"));
    let rest = &html[a..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

/// No separator with nothing on one side, anywhere on a page.
fn assert_no_empty_separators(html: &str, what: &str) {
    for bad in [
        "· ·",
        "·  ·",
        "<b></b>",
        "· </div>",
        "\">· ",
        "posted  ·",
        "posted ·",
    ] {
        assert!(!html.contains(bad), "{what} has {bad:?}: {html}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_tell_the_story_and_add_urls_behind_the_token() {
    let b = build();
    // 13:02 + 3 h: the confirming check was "3 hours ago".
    let now = at(242);
    let web = serve_at(&b.ar, &now);

    // The post page's timeline: what each check found, when, and its proof.
    let post = page(&web.url(&format!("/posts/{}", enc(&b.deleted)))).await;
    let tl = between(&post, "<table id=\"timeline\"", "</table>");
    let rows: Vec<&str> = tl.split("<tr class=").skip(1).collect();
    assert_eq!(rows.len(), 5, "a capture and four checks: {tl}");
    assert!(rows[0].contains("captured"), "{}", rows[0]);
    assert!(rows[1].contains("badge live"), "{}", rows[1]);
    assert!(
        rows[2].contains("badge unreachable") && rows[2].contains("reason:"),
        "the unreachable check and its reason: {}",
        rows[2]
    );
    assert!(rows[2].contains("503"), "{}", rows[2]);
    assert!(rows[3].contains("badge deleted") && !rows[3].contains("confirmed"));
    assert!(
        rows[4].contains("badge deleted") && rows[4].contains(">confirmed<"),
        "{}",
        rows[4]
    );
    assert!(rows[4].contains("Record not found"), "{}", rows[4]);
    assert!(
        rows[4].contains(
            "<time datetime=\"2026-03-01T13:02:00.000000Z\" title=\"UTC 2026-03-01 13:02:00\">2026-03-01 13:02 UTC · 3 hours ago</time>"
        ),
        "{}",
        rows[4]
    );
    assert!(rows[0].contains("4 hours ago"), "{}", rows[0]);
    // Each row's leaf links to its proof, and the proof is of that leaf.
    let mut leaves = vec![];
    for r in &rows {
        let href = between(r, "/api/log/proof/", "\"");
        let leaf: u64 = href.trim_start_matches("/api/log/proof/").parse().unwrap();
        leaves.push(leaf);
        let v: Value = serde_json::from_str(&page(&web.url(href)).await).unwrap();
        assert_eq!(v["leaf_index"], leaf, "{v}");
    }
    let mut sorted = leaves.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5, "one leaf a row: {leaves:?}");
    // Digests labelled, in hex; the proof's hashes in hex too.
    assert!(
        post.contains("Block digest</abbr> (SHA-256): <code>"),
        "{post}"
    );
    let cp: Value = serde_json::from_str(&page(&web.url("/api/log/checkpoint")).await).unwrap();
    let root_b64 = cp["root"].as_str().unwrap();
    let root_hex = {
        use base64::Engine;
        hex::encode(
            base64::engine::general_purpose::STANDARD
                .decode(root_b64)
                .unwrap(),
        )
    };
    let inclusion = between(&post, "<h2>Inclusion proof</h2>", "<h3>");
    assert!(inclusion.contains(&root_hex), "{inclusion}");
    assert!(!inclusion.contains(root_b64), "bare base64: {inclusion}");
    assert!(post.contains("First seen gone: <time"), "{post}");
    assert!(post.contains("href=\"/log\""), "the nav links the log");

    // The article: its title once, no author, no empty separators.
    let art = page(&web.url(&format!("/posts/{}", enc(&b.article)))).await;
    let body = between(&art, "<article class=\"post\" id=\"post\">", "</article>");
    assert_eq!(
        body.matches("The bank froze my savings account").count(),
        1,
        "the title shown twice: {body}"
    );
    assert!(body.contains("nobody at the branch"), "{body}");
    assert_no_empty_separators(&art, "the article page");

    // Home: recently gone first, the newest gone first; no `· ·` for the authorless post.
    let home = page(&web.url("/")).await;
    let gone_at = home.find("<h1>Recently gone</h1>").unwrap();
    let recent_at = home.find("<h1>Recently captured</h1>").unwrap();
    assert!(gone_at < recent_at, "{home}");
    let gone = &home[gone_at..recent_at];
    let (u, d) = (
        gone.find(&format!("/posts/{}", enc(&b.unconfirmed))),
        gone.find(&format!("/posts/{}", enc(&b.deleted))),
    );
    assert!(
        u.is_some() && d.is_some() && u < d,
        "gone at 14:00 before gone at 13:00: {gone}"
    );
    assert!(!gone.contains(&format!("/posts/{}\"", enc(&b.article))));
    assert!(
        gone.contains("Seen gone <time datetime=\"2026-03-01T13:00:00"),
        "{gone}"
    );
    assert_no_empty_separators(&home, "home");
    assert_no_empty_separators(&page(&web.url("/posts")).await, "posts");

    // /log: the checkpoint, timestamps, witnesses, how to verify, recent leaves.
    let log = page(&web.url("/log")).await;
    assert!(
        log.contains(&format!(
            "<code id=\"origin\">{}</code>",
            cp["origin"].as_str().unwrap()
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("<dd id=\"size\">{}</dd>", cp["size"])),
        "{log}"
    );
    assert!(
        log.contains(&format!("<code id=\"root\">{root_hex}</code>")),
        "{log}"
    );
    assert!(log.contains("has no RFC 3161 timestamp"), "{log}");
    assert!(log.contains("This log has no witnesses yet"), "{log}");
    assert!(log.contains("--policy"), "{log}");
    for cmd in [
        "samizdat verify</code>",
        "samizdat verify-bundle",
        "/log/tile/0/000",
    ] {
        assert!(log.contains(cmd), "{cmd}: {log}");
    }
    let leaves_html = between(&log, "<section id=\"leaves\">", "</section>");
    let size = cp["size"].as_u64().unwrap();
    assert!(
        leaves_html.contains(&format!("/api/log/proof/{}\"", size - 1)),
        "the newest leaf: {leaves_html}"
    );
    assert!(
        leaves_html.contains(&format!(
            "check of <a href=\"/posts/{}\"",
            enc(&b.unconfirmed)
        )),
        "{leaves_html}"
    );

    // /add: the wrong token captures nothing; the right one captures, and says what
    // happened to each URL; the list of what was added shows each one's state.
    let form = page(&web.url("/add")).await;
    assert!(form.contains("type=\"password\" name=\"token\""), "{form}");
    b.srv
        .route("/new", Resp::html(ARTICLE.replace("froze", "closed")));
    let (code, r) = post_form(
        &web.url("/add"),
        &[
            ("urls", &b.srv.url("/new")),
            ("mode", "capture"),
            ("token", "wrong-token-0123456789"),
        ],
    )
    .await;
    assert_eq!(code, 401, "{r}");
    assert!(r.contains("not this server&#39;s token"), "{r}");
    assert!(!r.contains("wrong-token"), "the token is never echoed: {r}");
    assert_eq!(b.srv.hits("/new"), 0);
    let refused = "http://127.0.0.1:1/nothing-listens";
    let (code, r) = post_form(
        &web.url("/add"),
        &[
            ("urls", &format!("{}\n{refused}\n", b.srv.url("/new"))),
            ("mode", "watch"),
            ("token", TOKEN),
        ],
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let results = between(&r, "<section id=\"results\">", "</section>");
    let rows: Vec<&str> = results.split("<tr><td>").skip(1).collect();
    assert_eq!(rows.len(), 2, "{results}");
    assert!(
        rows[0].contains("result captured") && rows[0].contains("watchlist: added"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].contains("result failed")
            && rows[1].contains("failed: nothing was recorded</span>: web could not be reached"),
        "{}",
        rows[1]
    );
    assert!(!r.contains(TOKEN), "the token is never echoed");
    assert_eq!(b.srv.hits("/new"), 1);
    let out = run_ok(samizdat(&b.ar).args(["--json", "watch", "list"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&b.srv.url("/new")));
    // A capture over the API is listed too.
    b.srv
        .route("/api-new", Resp::html(ARTICLE.replace("froze", "emptied")));
    let r = client()
        .post(web.url("/api/captures"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(json!({"url": b.srv.url("/api-new")}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let added = page(&web.url("/add")).await;
    let list = between(&added, "<section id=\"added\">", "</section>");
    let (api_at, form_at) = (
        list.find(&b.srv.url("/api-new")),
        list.find(&b.srv.url("/new")),
    );
    assert!(
        api_at.is_some() && api_at < form_at,
        "the newest first: {list}"
    );
    let list = between(&added, "<section id=\"added\">", "</section>");
    assert!(
        list.contains(&b.srv.url("/new")) && list.contains("badge live"),
        "{list}"
    );
    assert!(
        list.contains(refused) && list.contains("result failed"),
        "{list}"
    );
    web.stop();

    // Without a token the form says adding is disabled, and how to enable it.
    let d = tempdir();
    let ro = d.path().join("archive");
    write_config(&ro, "[http]\nper_host_delay_ms = 0\n");
    let web = serve_at(&ro, &now);
    let f = page(&web.url("/add")).await;
    assert!(
        f.contains("Adding is disabled") && f.contains("token_file"),
        "{f}"
    );
    assert!(!f.contains("name=\"token\""), "{f}");
    let (code, _) = post_form(
        &web.url("/add"),
        &[("urls", "http://x.example/"), ("token", TOKEN)],
    )
    .await;
    assert_eq!(code, 403);
    web.stop();
}

// ---------------------------------------------------------------------------
// Headless Chromium at 1280 and 390 pixels
// ---------------------------------------------------------------------------

fn chromium() -> Option<PathBuf> {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = std::process::Command::new("which").arg(c).output()
            && out.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "chromium is missing (run scripts/setup-browser.sh); browser tests may not skip in CI"
        );
    }
    eprintln!("SKIP: no chromium (scripts/setup-browser.sh installs it)");
    None
}

fn chrome(bin: &Path, args: &[String]) -> String {
    chrome_in(bin, args, None)
}

/// [`chrome`] with the reader's time zone (`TZ`) set, if given.
fn chrome_in(bin: &Path, args: &[String], tz: Option<&str>) -> String {
    let profile = tempdir();
    let out = std::process::Command::new("timeout")
        .arg("90")
        .arg(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .envs(tz.map(|z| ("TZ", z)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A page laid out `width` pixels wide and measured there. Our pages run no script
/// (their CSP forbids it), so a harness page on another loopback server fetches the page
/// (Chromium started with web security off for that, in a throwaway profile), lays it out
/// in an iframe of that width (with a `<base>` so its stylesheet loads from the archive
/// server) and reads the layout: the title it sets says whether anything is wider than the
/// frame or spills out of its box, and what it found.
const HARNESS: &str = r#"<!doctype html><html><head><title>waiting</title><style>body{margin:0}iframe{border:0;height:900px}</style></head><body><iframe id="f"></iframe><script>
var p = new URLSearchParams(location.hash.slice(1)), f = document.getElementById("f"), u = new URL(p.get("u"));
f.style.width = p.get("w") + "px";
f.onload = function () {
  var d = f.contentDocument;
  if (!d || !d.querySelector("main")) return;
  setTimeout(function () {
    var e = d.documentElement, wide = [], spill = [];
    d.querySelectorAll("main *").forEach(function (x) { if (x.getBoundingClientRect().right > e.clientWidth + 1) wide.push(x.tagName); });
    d.querySelectorAll("main td, main th, main p, main dd").forEach(function (x) { if (x.scrollWidth > x.clientWidth + 1) spill.push(x.tagName + ":" + x.textContent.slice(0, 40)); });
    document.title = JSON.stringify({ scroll: e.scrollWidth, client: e.clientWidth, wide: wide.slice(0, 5), spill: spill.slice(0, 5),
      styled: getComputedStyle(d.querySelector("header")).display,
      nav: d.querySelectorAll('header a[href="/log"]').length + d.querySelectorAll('header a[href="/add"]').length,
      h1: (d.querySelector("main h1") || { textContent: "" }).textContent,
      times: d.querySelectorAll("time[datetime][title^='UTC ']").length });
  }, 300);
};
fetch(u).then(function (r) { return r.text(); }).then(function (t) {
  f.srcdoc = t.replace("<head>", "<head><base href=\"" + u.origin + "/\">");
}).catch(function (x) { document.title = "fetch failed: " + x; });
</script></body></html>"#;

#[test]
fn every_page_kind_in_chromium_at_1280_and_390() {
    let Some(bin) = chromium() else { return };
    let b = build();
    let web = serve_at(&b.ar, &at(242));
    b.srv.route("/harness", Resp::html(HARNESS));
    // Find the account page from the post page's author link.
    let (_, post) = web.get(&format!("/posts/{}", enc(&b.deleted)));
    let post = String::from_utf8_lossy(&post).into_owned();
    let account = between(&post, "/accounts/", "\"").to_string();
    let pages = [
        ("home", "/".to_string(), "Recently gone"),
        ("posts", "/posts".to_string(), "Posts"),
        ("post", format!("/posts/{}", enc(&b.deleted)), ""),
        ("account", account, "on mastodon"),
        ("search", "/search?q=pier".to_string(), "Search: pier"),
        (
            "verify",
            "/verify".to_string(),
            "How to check anything here",
        ),
        ("log", "/log".to_string(), "The log"),
        ("add", "/add".to_string(), "Add posts"),
    ];
    let update = std::env::var("SAMIZDAT_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1");
    let shots = tempdir();
    for (name, path, h1) in &pages {
        for width in [1280u32, 390] {
            let harness = format!(
                "{}#w={width}&u={}",
                b.srv.url("/harness"),
                enc(&web.url(path))
            );
            let dom = chrome(
                &bin,
                &[
                    "--disable-web-security".into(),
                    format!("--window-size={},1000", width + 40),
                    "--virtual-time-budget=15000".into(),
                    "--dump-dom".into(),
                    harness,
                ],
            );
            let title = between(&dom, "<title>", "</title>")
                .trim_start_matches("<title>")
                .replace("&quot;", "\"");
            let m: Value = serde_json::from_str(&title)
                .unwrap_or_else(|e| panic!("{name} at {width}: {e}: {title}"));
            assert!(
                m["scroll"].as_u64().unwrap() <= m["client"].as_u64().unwrap(),
                "{name} is wider than {width} px: {m}"
            );
            assert_eq!(m["wide"], json!([]), "{name} at {width}: {m}");
            assert_eq!(
                m["spill"],
                json!([]),
                "{name} at {width}: text spills out of its box: {m}"
            );
            assert_eq!(
                m["styled"], "flex",
                "{name}: the stylesheet did not load: {m}"
            );
            assert_eq!(m["nav"], 2, "{name} at {width}: the Log and Add links: {m}");
            assert!(m["h1"].as_str().unwrap().contains(h1), "{name}: {m}");
            // The window was the width asked for (less a scrollbar, if any).
            let client = m["client"].as_u64().unwrap();
            assert!(
                client <= width as u64 && client + 20 >= width as u64,
                "{name}: measured at {client} px, not {width}: {m}"
            );
            if *name == "post" {
                assert!(m["times"].as_u64().unwrap() >= 5, "{m}");
            }
            let file = format!("{name}-{width}.png");
            let shot = if update {
                repo_root().join("docs/screenshots").join(&file)
            } else {
                shots.path().join(&file)
            };
            std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
            // The post page tall enough to show its timeline.
            let height = match (*name, width) {
                ("post", 390) => 2000,
                ("post", _) => 1300,
                (_, 390) => 844,
                _ => 900,
            };
            chrome(
                &bin,
                &[
                    format!("--screenshot={}", shot.display()),
                    format!("--window-size={width},{height}"),
                    web.url(path),
                ],
            );
            let png = std::fs::read(&shot).unwrap();
            assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{file}");
            // The committed screenshot exists (regenerate with SAMIZDAT_UPDATE_SCREENSHOT=1).
            assert!(
                repo_root().join("docs/screenshots").join(&file).exists(),
                "docs/screenshots/{file} is missing"
            );
        }
    }
    web.stop();
}

/// In a browser the page's one script (allowed by its hash) shows each time in the
/// reader's zone, keeping the "ago" and the UTC time on hover; the server wrote UTC.
#[test]
fn times_read_in_the_readers_zone_in_a_browser() {
    let Some(bin) = chromium() else { return };
    let b = build();
    let web = serve_at(&b.ar, &at(242));
    let path = format!("/posts/{}", enc(&b.deleted));
    let (_, served) = web.get(&path);
    let served = String::from_utf8_lossy(&served).into_owned();
    assert!(served.contains(" UTC · "), "the server renders UTC");
    let dom = chrome_in(
        &bin,
        &[
            "--virtual-time-budget=5000".into(),
            "--dump-dom".into(),
            web.url(&path),
        ],
        Some("Asia/Shanghai"),
    );
    let times: Vec<&str> = dom.split("<time ").skip(1).collect();
    assert!(times.len() >= 5, "{dom}");
    for t in &times {
        let t = &t[..t.find("</time>").unwrap()];
        assert!(t.contains("title=\"UTC "), "the hover title stays UTC: {t}");
        let text = &t[t.find('>').unwrap() + 1..];
        assert!(
            text.contains("GMT+8") && !text.contains("UTC"),
            "not in the reader's zone: {t}"
        );
    }
    // The "ago" of the timeline is kept.
    assert!(dom.contains(" ago</time>"), "{dom}");
    web.stop();
}

/// `/log` shows each stored RFC 3161 token of the current checkpoint, checked against the
/// checkpoint's bytes: its time and authority.
#[test]
fn the_log_page_shows_the_checkpoints_timestamps() {
    let tsa = start_tsa();
    let srv = server();
    srv.route("/article", Resp::html(ARTICLE));
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.ca().display()
    ));
    run_ok(samizdat(&ar).args(["capture", &srv.url("/article")]));
    let out = run_ok(samizdat(&ar).args(["--json", "timestamp"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = Serve::start(&ar);
    let (code, log) = web.get("/log");
    let log = String::from_utf8_lossy(&log).into_owned();
    assert_eq!(code, 200);
    let stamps = between(&log, "<section id=\"timestamps\">", "</section>");
    assert!(
        stamps.contains("<p class=\"stamp\">RFC 3161 token <code>") && !stamps.contains("bad"),
        "{stamps}"
    );
    assert!(stamps.contains("the checkpoint existed by <b>"), "{stamps}");
    assert!(!stamps.contains("has no RFC 3161 timestamp"), "{stamps}");
    // The time the token says, as `samizdat timestamp` reported it.
    let gen_time = v["tokens"][0]["token"]["gen_time"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !gen_time.is_empty() && stamps.contains(gen_time),
        "{v}\n{stamps}"
    );
    web.stop();
}
