//! `samizdat serve` and `samizdat search`: the JSON API and pages over a real listener on
//! 127.0.0.1 port 0, against an archive made by capturing loopback pages with the CLI;
//! bearer-token captures; SSRF refusals (direct, through a redirect, a media URL);
//! hostile post HTML; and headless Chromium reading the pages.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const ZH_TEXT: &str = "反诈中心冻结了我的银行卡";

fn zh_page() -> String {
    format!(
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>求助</title></head>\
<body><article><h1>求助：{ZH_TEXT}</h1><p>{ZH_TEXT}，我该怎么办？工资都在里面。</p>\
<p>已经打了好几次电话，都说要等调查结果。</p><img src=\"/img/a.png\" alt=\"银行的短信\"></article></body></html>"
    )
}

const EN_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Frozen</title></head>\
<body><article><h1>The bank froze my savings account</h1><p>Without warning the bank froze my savings account \
and nobody at the branch would say why.</p><p>Second paragraph about the freeze.</p></article></body></html>";

/// Script that would leave a trace if it ever ran (the marker is never in the source whole).
const HOSTILE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Hostile</title></head>\
<body><article><h1>Hostile post</h1><p>Hello reader, this is a hostile post with enough words to be read as the article body.\
<script>document.title='PW'+'NED';var d=document.createElement('div');d.id='pw'+'ned';document.body.appendChild(d)</script></p>\
<p>Look at this picture <img src=\"/nope.png\" onerror=\"document.title='PW'+'NED'\"> and \
<a href=\"javascript:document.title='PW'+'NED'\">this link</a> and <a href=\"https://example.org/ok\">a safe link</a>.</p>\
</article></body></html>";

struct Fixture {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    zh: String,
    en: String,
    hostile: String,
}

/// One archive for the read-only tests, made once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let srv = server();
        srv.route("/zh", Resp::html(zh_page()));
        srv.route("/en", Resp::html(EN_PAGE));
        srv.route("/hostile", Resp::html(HOSTILE_PAGE));
        let dir = tempdir();
        let ar = dir.path().join("archive");
        write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n");
        let out = run_ok(samizdat(&ar).arg("--json").arg("capture").args([
            srv.url("/zh"),
            srv.url("/en"),
            srv.url("/hostile"),
        ]));
        let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
        let ids: Vec<String> = lines
            .iter()
            .map(|l| l["post_id"].as_str().expect("post id").to_string())
            .collect();
        Fixture {
            _dir: dir,
            archive: ar,
            zh: ids[0].clone(),
            en: ids[1].clone(),
            hostile: ids[2].clone(),
        }
    })
}

/// A running `serve` on 127.0.0.1:0; stops when dropped.
struct Web {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Web {
    async fn start(archive: &Path) -> Web {
        let cfg_path = archive.join("samizdat.toml");
        let config = samizdat::config::Config::load(&cfg_path).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let root = archive.to_path_buf();
        let task = tokio::spawn(async move {
            samizdat::web::serve(root, config, cfg_path, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Web {
            base,
            stop: Some(tx),
            task: Some(task),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get_json(url: &str) -> Value {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

async fn get_page(url: &str) -> (reqwest::header::HeaderMap, String) {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let h = r.headers().clone();
    (h, r.text().await.unwrap())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn hit_ids(v: &Value) -> Vec<String> {
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_matches_one_and_two_character_chinese_and_latin_words() {
    let f = fixture();
    let web = Web::start(&f.archive).await;
    for q in ["冻结", "反诈", "卡", "银行卡", "反诈中心冻结了我的银行卡"] {
        let v = get_json(&web.url(&format!("/api/search?q={}", enc(q)))).await;
        assert_eq!(hit_ids(&v), vec![f.zh.clone()], "query {q}: {v}");
    }
    for q in ["savings", "BANK froze", "freeze"] {
        let v = get_json(&web.url(&format!("/api/search?q={}", enc(q)))).await;
        assert_eq!(hit_ids(&v), vec![f.en.clone()], "query {q}: {v}");
    }
    let v = get_json(&web.url(&format!("/api/search?q={}", enc("结冻")))).await;
    assert_eq!(v["total"], 0, "{v}");
    // The page marks the hits, escaped, in the original text.
    let (h, body) = get_page(&web.url(&format!("/search?q={}", enc("冻结")))).await;
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(body.contains("<mark>冻结</mark>"), "{body}");
    assert!(body.contains("lang=\"zh\""));
    web.stop().await;

    // The CLI too.
    let out = run_ok(samizdat(&f.archive).args(["--json", "search", "卡"]));
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], f.zh.as_str());
    assert!(lines[0]["text"].as_str().unwrap().contains(ZH_TEXT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_and_pages_show_posts_records_and_the_log() {
    let f = fixture();
    let web = Web::start(&f.archive).await;
    let list = get_json(&web.url("/api/posts")).await;
    assert_eq!(list["posts"].as_array().unwrap().len(), 3, "{list}");
    let web_only = get_json(&web.url("/api/posts?platform=web&state=live")).await;
    assert_eq!(web_only["posts"].as_array().unwrap().len(), 3);
    let none = get_json(&web.url("/api/posts?platform=weibo")).await;
    assert!(none["posts"].as_array().unwrap().is_empty());

    let post = get_json(&web.url(&format!("/api/posts/{}", enc(&f.zh)))).await;
    assert_eq!(post["id"], f.zh.as_str());
    assert_eq!(post["state"], "live");
    let cap = &post["captures"][0];
    let leaves = cap["leaf_indexes"].as_array().unwrap();
    let post_leaf = leaves.last().unwrap().as_u64().unwrap();
    assert!(post["text"].as_str().unwrap().contains(ZH_TEXT));

    let cp = get_json(&web.url("/api/log/checkpoint")).await;
    let size = cp["size"].as_u64().unwrap();
    assert!(size > post_leaf);
    let text = client()
        .get(web.url("/log/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, cp["note"].as_str().unwrap());
    let proof = get_json(&web.url(&format!("/api/log/proof/{post_leaf}"))).await;
    assert_eq!(proof["tree_size"], size);
    assert_eq!(proof["root"], cp["root"]);
    // Check the proof ourselves (RFC 6962).
    {
        use samizdat::log::merkle::Hash;
        let leaf = Hash::from_base64(proof["leaf_hash"].as_str().unwrap()).unwrap();
        let root = Hash::from_base64(proof["root"].as_str().unwrap()).unwrap();
        let path: Vec<Hash> = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_base64(h.as_str().unwrap()).unwrap())
            .collect();
        samizdat::log::merkle::verify_inclusion(&leaf, post_leaf, size, &path, &root).unwrap();
    }
    // A partial tile of level 0 holds one hash per leaf.
    let tile_path = samizdat::log::hashes::tile_path(0, 0, Some(size as u16));
    let r = client()
        .get(web.url(&format!("/log/{tile_path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{tile_path}");
    assert_eq!(r.bytes().await.unwrap().len() as u64, 32 * size);
    let r = client()
        .get(web.url("/log/tile/0/001"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Raw bodies: sandboxed.
    let rid = cap["record_ids"][1].as_str().unwrap();
    let r = client()
        .get(web.url(&format!("/raw/{}", enc(rid))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    // Pictures come from the archive, by record id.
    let media = post["media"].as_array().unwrap();
    let rid = media
        .iter()
        .find_map(|m| m["record_id"].as_str())
        .unwrap_or_else(|| panic!("no captured picture: {post}"));
    let r = client()
        .get(web.url(&format!("/raw/{}", enc(rid))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // Downloads.
    let r = client()
        .get(web.url(&format!("/api/posts/{}/bundle", enc(&f.zh))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    let r = client()
        .get(web.url(&format!("/api/posts/{}/wacz", enc(&f.zh))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    // Pages.
    let (h, body) = get_page(&web.url(&format!("/posts/{}", enc(&f.zh)))).await;
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(body.contains(ZH_TEXT));
    assert!(body.contains("lang=\"zh\""));
    assert!(body.contains("Download the evidence bundle"));
    assert!(
        body.contains(&format!("src=\"/raw/{}\"", enc(rid))),
        "{body}"
    );
    assert!(body.contains(cp["root"].as_str().unwrap()));
    for p in ["/", "/posts", "/posts?platform=web", "/verify", "/search"] {
        let (_, body) = get_page(&web.url(p)).await;
        assert!(body.contains("<html lang=\"en\">"), "{p}");
    }
    let r = client()
        .get(web.url("/posts/web%3Anope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = client()
        .get(web.url("/api/posts/web%3Anope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    web.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_post_html_is_served_defused() {
    let f = fixture();
    let web = Web::start(&f.archive).await;
    let (h, body) = get_page(&web.url(&format!("/posts/{}", enc(&f.hostile)))).await;
    assert!(body.contains("Hostile post"), "{body}");
    let article = &body[body.find("id=\"post\"").unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    let lower = article.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{article}");
    assert!(!lower.contains("onerror"), "{article}");
    assert!(!lower.contains("javascript:"), "{article}");
    // One script on the page, ours (times in the reader's zone), and the CSP lets that
    // one run by its hash and nothing else: no 'self', no inline, no other source.
    let lower_body = body.to_ascii_lowercase();
    assert_eq!(lower_body.matches("<script").count(), 1, "{body}");
    let script = &body[body.find("<script>").unwrap() + 8..];
    let script = &script[..script.find("</script>").unwrap()];
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{csp}"));
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert_eq!(src, format!("script-src 'sha256-{hash}'"), "{csp}");
    web.stop().await;
}

fn token_config(extra: &str, allow_private: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let tok = dir.path().join("token");
    std::fs::write(&tok, "s3cret-token-0123456789\n").unwrap();
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n{extra}\n[serve]\ntoken_file = {:?}\nallow_private_addresses = {allow_private}\n",
            tok
        ),
    );
    (dir, ar)
}

async fn post_capture(web: &Web, auth: Option<&str>, url: &str) -> (u16, Value) {
    let mut rb = client()
        .post(web.url("/api/captures"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"url": url, "watch": false}).to_string());
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.send().await.unwrap();
    let code = r.status().as_u16();
    (
        code,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_need_the_bearer_token() {
    let srv = server();
    srv.route("/zh", Resp::html(zh_page()));

    // No token configured: read-only.
    let d = tempdir();
    let ro = d.path().join("archive");
    write_config(&ro, "[http]\nper_host_delay_ms = 0\n");
    let web = Web::start(&ro).await;
    let (code, v) = post_capture(&web, Some("Bearer anything-at-all-123"), &srv.url("/zh")).await;
    assert_eq!(code, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("read-only"), "{v}");
    web.stop().await;

    let (_d, ar) = token_config("", true);
    let web = Web::start(&ar).await;
    let (code, v) = post_capture(&web, None, &srv.url("/zh")).await;
    assert_eq!(code, 401, "{v}");
    let (code, _) =
        post_capture(&web, Some("Bearer wrong-token-0123456789"), &srv.url("/zh")).await;
    assert_eq!(code, 401);
    assert_eq!(srv.hits("/zh"), 0);
    let (code, v) = post_capture(
        &web,
        Some("Bearer s3cret-token-0123456789"),
        &srv.url("/zh"),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "captured", "{v}");
    assert_eq!(srv.hits("/zh"), 1);
    let s = get_json(&web.url(&format!("/api/search?q={}", enc("冻结")))).await;
    assert_eq!(
        hit_ids(&s),
        vec![v["post_id"].as_str().unwrap().to_string()]
    );
    // `"watch": true` puts the post on the watchlist, as `samizdat watch add` would.
    let r = client()
        .post(web.url("/api/captures"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer s3cret-token-0123456789")
        .body(serde_json::json!({"url": srv.url("/zh"), "watch": true}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let w: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_ne!(w["watch"]["action"], "failed", "{w}");
    let out = run_ok(samizdat(&ar).args(["--json", "watch", "list"]));
    let listed = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        listed.iter().any(|l| l["url"] == srv.url("/zh")),
        "{listed:?}"
    );
    web.stop().await;

    // The search index is derived like the rest of the index: a rebuild answers the same.
    run_ok(samizdat(&ar).arg("reindex"));
    let out = run_ok(samizdat(&ar).args(["--json", "search", "反诈"]));
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], v["post_id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_captures_refuse_internal_addresses() {
    // `srv` stands in for a public site (reached through an operator's host override,
    // which is trusted); `inner` is an internal service nobody may reach through us.
    let srv = server();
    let inner = server();
    inner.route(
        "/secret",
        Resp::html("<html><body><p>internal secret</p></body></html>"),
    );
    let inner_port = inner.addr().port();
    srv.route(
        "/redirect",
        Resp::new(302).header("Location", &format!("http://127.0.0.1:{inner_port}/secret")),
    );
    srv.route(
        "/redirect-name",
        Resp::new(302).header("Location", &format!("http://localhost:{inner_port}/secret")),
    );
    srv.route(
        "/media",
        Resp::html(format!(
            "<!doctype html><html><head><title>Media</title></head><body><article><h1>A post with a picture</h1>\
<p>Some words of the post, long enough to be the article.</p>\
<img src=\"http://127.0.0.1:{inner_port}/img/a.png\" alt=\"x\"></article></body></html>"
        )),
    );
    let (_d, ar) = token_config(
        &format!(
            "[http.hosts]\n\"public.example\" = \"{}\"\n",
            srv.base_url()
        ),
        false,
    );
    let web = Web::start(&ar).await;
    let auth = Some("Bearer s3cret-token-0123456789");

    for url in [
        format!("http://127.0.0.1:{inner_port}/secret"),
        format!("http://localhost:{inner_port}/secret"),
        format!("http://[::1]:{inner_port}/secret"),
        "http://public.example/redirect".to_string(),
        "http://public.example/redirect-name".to_string(),
    ] {
        let (code, v) = post_capture(&web, auth, &url).await;
        assert_eq!(code, 422, "{url}: {v}");
        assert_eq!(v["status"], "failed", "{url}: {v}");
        assert!(
            v["error"].as_str().unwrap().contains("refused"),
            "{url}: {v}"
        );
    }
    assert_eq!(srv.hits("/redirect"), 1);
    assert_eq!(inner.requests().len(), 0, "the internal server was reached");

    let (code, v) = post_capture(&web, auth, "http://public.example/media").await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(
        inner.requests().len(),
        0,
        "a media URL reached the internal server: {v}"
    );
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("refused"), "{v}");
    web.stop().await;
}

// ---------------------------------------------------------------------------
// Headless Chromium
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

async fn chrome(bin: &Path, args: &[String]) -> String {
    let profile = tempdir();
    let out = tokio::process::Command::new("timeout")
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
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_reads_search_and_post_pages_and_runs_nothing_hostile() {
    let Some(bin) = chromium() else { return };
    let f = fixture();
    let web = Web::start(&f.archive).await;

    let dom = chrome(
        &bin,
        &[
            "--dump-dom".into(),
            web.url(&format!("/search?q={}", enc("冻结"))),
        ],
    )
    .await;
    assert!(dom.contains("<mark>冻结</mark>"), "{dom}");
    assert!(dom.contains("1 posts found"), "{dom}");
    assert!(dom.contains(&format!("/posts/{}", enc(&f.zh))));

    let dom = chrome(
        &bin,
        &[
            "--dump-dom".into(),
            web.url(&format!("/posts/{}", enc(&f.hostile))),
        ],
    )
    .await;
    assert!(dom.contains("Hostile post"), "{dom}");
    assert!(!dom.contains("PWNED"), "a script ran: {dom}");
    assert!(!dom.contains("id=\"pwned\""), "a script ran: {dom}");
    let title = &dom[dom.find("<title>").unwrap()..dom.find("</title>").unwrap()];
    assert!(title.contains("samizdat"), "{title}");

    // What a reader sees on a phone: the Chinese post page.
    let shot_dir = tempdir();
    let update = std::env::var("SAMIZDAT_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1");
    let shot = if update {
        repo_root().join("docs/screenshot.png")
    } else {
        shot_dir.path().join("post.png")
    };
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    chrome(
        &bin,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=430,1100".into(),
            web.url(&format!("/posts/{}", enc(&f.zh))),
        ],
    )
    .await;
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
    web.stop().await;
}
