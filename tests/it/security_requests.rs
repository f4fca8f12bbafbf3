//! Requests from outside (issue 11): SSRF through a host override and through watch entries
//! added over the API, and one post taking over another post's URL. Everything runs through
//! the real binary: `samizdat serve` with a bearer token takes the captures, `samizdat watch
//! run` polls what the API added, and `samizdat show` answers for URLs.
//!
//! A "secret" loopback server stands for an internal service; it counts every request it gets,
//! and each test asserts it got none and that nothing of it was published.

use crate::common;

use common::serve::Serve;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const TOKEN: &str = "s3cret-token-0123456789";
const SECRET: &str = "TOPSECRET-internal-payroll-7731";

/// The internal service: `/secret` holds what nobody may fetch through samizdat.
fn secret_server() -> TestServer {
    let s = server();
    s.route(
        "/secret",
        Resp::html(format!(
            "<!doctype html><html><head><title>{SECRET}</title></head><body><article>\
             <h1>{SECRET}</h1><p>{SECRET} is the internal payroll page, never to be archived.</p>\
             </article></body></html>"
        )),
    );
    s
}

fn page(title: &str) -> Resp {
    Resp::html(format!(
        "<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1>\
         <p>The words of {title}, long enough to be read as the main text of the page.</p>\
         </article></body></html>"
    ))
}

/// An archive whose config has a bearer token, `[http.hosts]` as given, and private
/// addresses refused over the API (the default).
fn token_archive(hosts: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let tok = dir.path().join("token");
    std::fs::write(&tok, format!("{TOKEN}\n")).unwrap();
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 3000\nconnect_timeout_ms = 1000\nmax_retries = 0\n\n\
             [http.hosts]\n{hosts}\n\n[serve]\ntoken_file = {tok:?}\n"
        ),
    );
    (dir, ar)
}

/// POST /api/captures with the token; the answer's status code and JSON.
fn api_capture(web: &Serve, url: &str, watch: bool) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/api/captures", web.base))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(serde_json::json!({"url": url, "watch": watch}).to_string())
            .send()
            .await
            .expect("the capture endpoint answers");
        let code = r.status().as_u16();
        let body = r.bytes().await.unwrap();
        let v = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
        (code, v)
    })
}

/// Every post the archive lists and every search hit for the secret: none may hold it.
fn assert_secret_unpublished(ar: &Path) {
    let out = run_ok(samizdat(ar).args(["--json", "list"]));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !listed.contains(SECRET),
        "a post holds the secret: {listed}"
    );
    let out = run_ok(samizdat(ar).args(["--json", "search", "TOPSECRET"]));
    assert!(
        json_lines(&String::from_utf8_lossy(&out.stdout)).is_empty(),
        "the secret is searchable"
    );
    for id in json_lines(&listed) {
        let out = run_ok(samizdat(ar).args(["--json", "show", id["id"].as_str().unwrap()]));
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(!shown.contains(SECRET), "a post holds the secret: {shown}");
    }
}

fn assert_refused(what: &str, code: u16, v: &Value) {
    assert_eq!(code, 422, "{what}: {v}");
    assert_eq!(v["status"], "failed", "{what}: {v}");
    let e = v["error"].as_str().unwrap_or("");
    assert!(
        e.contains("refused") && e.contains("internal"),
        "{what}: not refused as internal: {v}"
    );
}

#[test]
fn a_host_override_trusts_its_one_origin_and_nothing_else() {
    let secret = secret_server();
    let sp = secret.addr().port();
    // The override origin: the operator sends m.weibo.cn here, by the name `localhost`.
    let public = server();
    let pp = public.addr().port();
    public.route("/page", page("A public page"));
    public.route(
        "/hop",
        Resp::new(302).header("Location", &format!("http://localhost:{pp}/page")),
    );
    let to = |path: &str, loc: String| public.route(path, Resp::new(302).header("Location", &loc));
    to("/to-name", format!("http://localhost:{sp}/secret"));
    to("/to-ip", format!("http://127.0.0.1:{sp}/secret"));
    to("/to-6to4", format!("http://[2002:7f00:1::]:{sp}/secret"));
    to(
        "/to-nat64",
        format!("http://[64:ff9b:1::7f00:1]:{sp}/secret"),
    );
    let (_d, ar) = token_archive(&format!("\"m.weibo.cn\" = \"http://localhost:{pp}\""));
    let web = Serve::start(&ar);

    // What the override is for still works: the platform host, and a redirect within the
    // same origin.
    for u in ["https://m.weibo.cn/page", "https://m.weibo.cn/hop"] {
        let (code, v) = api_capture(&web, u, false);
        assert_eq!(
            (code, v["status"].as_str()),
            (200, Some("captured")),
            "{u}: {v}"
        );
    }
    assert_eq!(public.hits("/page"), 2);

    // The override's host name on another port, directly and through a redirect out of the
    // override origin; internal addresses in 6to4 and NAT64 dress, literal and redirected.
    for u in [
        format!("http://localhost:{sp}/secret"),
        format!("http://LOCALHOST:{sp}/secret"),
        format!("http://[2002:7f00:1::]:{sp}/secret"),
        format!("http://[64:ff9b:1::7f00:1]:{sp}/secret"),
        format!("http://[64:ff9b::127.0.0.1]:{sp}/secret"),
        "https://m.weibo.cn/to-name".into(),
        "https://m.weibo.cn/to-ip".into(),
        "https://m.weibo.cn/to-6to4".into(),
        "https://m.weibo.cn/to-nat64".into(),
    ] {
        let (code, v) = api_capture(&web, &u, false);
        assert_refused(&u, code, &v);
    }
    assert_eq!(public.hits("/to-name"), 1, "the redirect itself is fetched");
    assert_eq!(
        secret.requests().len(),
        0,
        "the internal server was reached"
    );
    web.stop();
    assert_secret_unpublished(&ar);
}

/// An RSS 2.0 document; each entry is (link, title), all dated far ahead so every poll sees
/// them as new.
fn rss(entries: &[(String, &str)]) -> Resp {
    let items: String = entries
        .iter()
        .map(|(link, title)| {
            format!(
                "<item><title>{title}</title><link>{link}</link><guid>{link}</guid>\
                 <pubDate>Sat, 01 Jan 2095 09:00:00 +0000</pubDate>\
                 <description>{title}</description></item>"
            )
        })
        .collect();
    Resp::new(200)
        .header("Content-Type", "application/rss+xml; charset=utf-8")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
             <title>A blog</title><link>https://blog.example/</link><description>posts</description>\
             {items}</channel></rss>"
        ))
}

#[test]
fn what_the_api_put_on_the_watchlist_is_polled_and_checked_under_the_guard() {
    let secret = secret_server();
    let sp = secret.addr().port();
    let blog = server();
    let bp = blog.addr().port();
    blog.route("/posts/ok", page("An honest entry"));
    blog.route("/posts/watched", page("A watched post"));
    blog.route(
        "/go",
        Resp::new(302).header("Location", &format!("http://localhost:{sp}/secret")),
    );
    // At first the feed is harmless (its capture over the API passes the guard).
    blog.route("/feed.xml", rss(&[]));
    let (_d, ar) = token_archive(&format!("\"blog.example\" = \"http://localhost:{bp}\""));
    let web = Serve::start(&ar);
    let (code, v) = api_capture(&web, "https://blog.example/feed.xml", true);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["watch"]["action"], "added", "{v}");
    let (code, v) = api_capture(&web, "https://blog.example/posts/watched", true);
    assert_eq!((code, v["status"].as_str()), (200, Some("captured")), "{v}");
    assert_ne!(v["watch"]["action"], "failed", "{v}");
    web.stop();

    // Where each entry came from is recorded, and a rebuilt index still knows it.
    let origins = |ar: &Path| -> Vec<(String, String)> {
        let out = run_ok(samizdat(ar).args(["--json", "watch", "list"]));
        json_lines(&String::from_utf8_lossy(&out.stdout))
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap().to_string(),
                    r["origin"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let listed = origins(&ar);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|(_, o)| o == "api"), "{listed:?}");

    // Later the feed points at the internal service, directly, in 6to4 dress and through a
    // redirect; and the watched post now redirects there too.
    blog.route(
        "/feed.xml",
        rss(&[
            (format!("http://localhost:{sp}/secret"), "direct"),
            (format!("http://[2002:7f00:1::]:{sp}/secret"), "6to4"),
            ("https://blog.example/go".into(), "redirect"),
            ("https://blog.example/posts/ok".into(), "honest"),
        ]),
    );
    blog.route(
        "/posts/watched",
        Resp::new(302).header("Location", &format!("http://localhost:{sp}/secret")),
    );
    // A month on: the feed is due and so is the post's check.
    let out = samizdat(&ar)
        .env(
            "SAMIZDAT_NOW",
            (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30)).to_string(),
        )
        .args(["--json", "watch", "run", "--once"])
        .output()
        .unwrap();
    let reports = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        reports.iter().any(|r| r["action"] == "polled"),
        "the feed was not polled: {reports:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The poll worked: the honest entry was captured (and watched, as from the API).
    assert_eq!(blog.hits("/posts/ok"), 1, "{reports:?}");
    assert_eq!(blog.hits("/go"), 1, "{reports:?}");
    assert!(
        blog.hits("/posts/watched") >= 2,
        "the post was not checked: {reports:?}"
    );
    assert_eq!(
        secret.requests().len(),
        0,
        "the internal server was reached: {reports:?}"
    );
    let listed = origins(&ar);
    assert!(
        listed
            .iter()
            .any(|(u, o)| u == "https://blog.example/posts/ok" && o == "api"),
        "{listed:?}"
    );
    assert!(listed.iter().all(|(_, o)| o == "api"), "{listed:?}");
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(origins(&ar), listed, "reindex lost where entries came from");
    // `watch list` in words says it too.
    let out = run_ok(samizdat(&ar).args(["watch", "list"]));
    let words = String::from_utf8_lossy(&out.stdout);
    assert!(words.contains("from api"), "{words}");
    assert_secret_unpublished(&ar);
}

#[test]
fn a_page_cannot_take_over_another_posts_url() {
    // The victim, on one origin; the attacker's pages on another.
    let victim = server();
    victim.route("/a", page("The victim's own words"));
    victim.route(
        "/a-copy",
        Resp::html(format!(
            "<!doctype html><html><head><title>Copy</title>\
             <link rel=\"canonical\" href=\"{}\"></head><body><article><h1>Copy</h1>\
             <p>The same site says this copy's canonical address is the victim's page.</p>\
             </article></body></html>",
            victim.url("/a")
        )),
    );
    let a_url = victim.url("/a");
    let attacker = server();
    attacker.route(
        "/b",
        Resp::html(format!(
            "<!doctype html><html><head><title>Forged</title>\
             <link rel=\"canonical\" href=\"{a_url}\"></head><body><article><h1>Forged</h1>\
             <p>Words the victim never wrote, planted under the victim's address.</p>\
             </article></body></html>"
        )),
    );
    attacker.route(
        "/c",
        Resp::html(format!(
            "<!doctype html><html><head><title>Forged again</title>\
             <meta property=\"og:url\" content=\"{a_url}\"></head><body><article><h1>Forged again</h1>\
             <p>More words the victim never wrote, planted with og:url this time.</p>\
             </article></body></html>"
        )),
    );
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 3000\n");
    let out = run_ok(samizdat(&ar).args(["--json", "capture", &a_url]));
    let a_id = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string();
    run_ok(samizdat(&ar).args([
        "--json",
        "capture",
        &attacker.url("/b"),
        &attacker.url("/c"),
        &victim.url("/a-copy"),
    ]));

    let show = |key: &str| -> Value {
        let out = run_ok(samizdat(&ar).args(["--json", "show", key]));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let check = || {
        let a = show(&a_url);
        assert_eq!(a["id"], a_id.as_str(), "{a}");
        assert!(
            a["text"].as_str().unwrap().contains("victim's own words"),
            "{a}"
        );
        // The attacker's pages keep their own addresses: a canonical on another origin is
        // not theirs to claim.
        for p in ["/b", "/c"] {
            let b = show(&attacker.url(p));
            assert_eq!(b["url"], attacker.url(p).as_str(), "{b}");
            assert_ne!(b["id"], a_id.as_str());
        }
        // The same site may name the victim's page canonical, but the URL stays with the post
        // that claimed it first, and `show` says there is a conflict.
        let copy = show(&victim.url("/a-copy"));
        assert_ne!(copy["id"], a_id.as_str(), "{copy}");
        let conflicts = copy["url_conflicts"].to_string();
        assert!(
            conflicts.contains(&a_url) && conflicts.contains(&a_id),
            "{copy}"
        );
        let out = run_ok(samizdat(&ar).args(["show", &victim.url("/a-copy")]));
        let words = String::from_utf8_lossy(&out.stdout);
        assert!(words.contains("belongs to"), "{words}");
    };
    check();
    // The first claim is the first in the log: a rebuilt index answers the same.
    run_ok(samizdat(&ar).arg("reindex"));
    check();
}

/// A feed entry whose title and words match a captured page: a poll that lists it counts as
/// a `live` check of that page (a sighting), so it must be the page's own site speaking.
fn feed_listing(link: &str) -> Resp {
    Resp::new(200)
        .header("Content-Type", "application/rss+xml; charset=utf-8")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
             <title>Feed</title><link>{link}</link><description>posts</description>\
             <item><title>Victim</title><link>{link}</link><guid>{link}</guid>\
             <pubDate>Sun, 01 Feb 2026 09:00:00 +0000</pubDate>\
             <description>The words of the victim, long enough to be read as the main text.</description>\
             </item></channel></rss>"
        ))
}

#[test]
fn a_feed_on_another_site_cannot_vouch_that_a_post_is_live() {
    let victim = server();
    victim.route(
        "/v",
        Resp::html(
            "<!doctype html><html><head><title>Victim</title></head><body><article>\
             <p>The words of the victim, long enough to be read as the main text.</p>\
             </article></body></html>",
        ),
    );
    let v_url = victim.url("/v");
    victim.route("/own/feed.xml", feed_listing(&v_url));
    let other = server();
    other.route("/feed.xml", feed_listing(&v_url));
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 3000\n");
    let t0 = "2026-03-01T12:00:00Z";
    let sz = |args: &[&str]| {
        let mut c = samizdat(&ar);
        c.env("SAMIZDAT_NOW", t0).args(args);
        run_ok(&mut c)
    };
    let out = sz(&["--json", "watch", "add", &v_url]);
    let id = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string();
    let checks = || -> usize {
        let out = run_ok(samizdat(&ar).args(["--json", "show", &id]));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["checks"].as_array().unwrap().len()
    };
    // Another site's feed lists the page, word for word: it says nothing about the page.
    sz(&["--json", "watch", "add", &other.url("/feed.xml")]);
    sz(&["--json", "watch", "run", "--once"]);
    // Read twice: once by the add (to tell its entries), once by the poll.
    assert_eq!(other.hits("/feed.xml"), 2);
    assert_eq!(
        checks(),
        0,
        "another site's feed counted as a check of the page"
    );
    // The page's own site may: its feed's listing is a sighting.
    sz(&["--json", "watch", "add", &victim.url("/own/feed.xml")]);
    sz(&["--json", "watch", "run", "--once"]);
    assert_eq!(victim.hits("/own/feed.xml"), 2);
    assert_eq!(checks(), 1, "the site's own feed did not count");
}
