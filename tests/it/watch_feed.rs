//! Watching an RSS feed end to end through the real CLI: a loopback server plays a blog
//! (`[http.hosts]` sends blog.example to it) whose feed lists pages on the same host; the
//! feed changes between runs with `srv.route`, and the clock moves with `SAMIZDAT_NOW`.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const HOST: &str = "blog.example";
const T0: &str = "2026-03-01T12:00:00Z";

fn at(offset_min: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_mins(offset_min)).to_string()
}

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 1500\nmax_retries = 0\n\n[http.hosts]\n{HOST:?} = {:?}\n",
            srv.base_url()
        ),
    );
    (dir, ar)
}

fn page_url(slug: &str) -> String {
    format!("https://{HOST}/posts/{slug}")
}

/// A blog post page, served at `/posts/<slug>`.
fn serve_page(srv: &TestServer, slug: &str) {
    srv.route(
        &format!("/posts/{slug}"),
        Resp::html(format!(
            "<!DOCTYPE html><html><head><title>Post {slug}</title></head><body><article>\
             <h1>Post {slug}</h1><p>The words of post {slug}, long enough to be the main text \
             of the page.</p></article></body></html>"
        )),
    );
}

/// An RSS 2.0 document listing `(slug, pubDate)` entries, newest first as blogs do.
fn rss(entries: &[(&str, &str)]) -> Vec<u8> {
    let items: String = entries
        .iter()
        .map(|(slug, date)| {
            format!(
                "<item><title>Post {slug}</title><link>{}</link><guid>{}</guid>\
                 {}<description>&lt;p&gt;Summary of {slug}&lt;/p&gt;</description></item>",
                page_url(slug),
                page_url(slug),
                // An empty date: an undated entry.
                if date.is_empty() {
                    String::new()
                } else {
                    format!("<pubDate>{date}</pubDate>")
                }
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>A blog</title><link>https://{HOST}/</link><description>posts</description>{items}\
         </channel></rss>"
    )
    .into_bytes()
}

fn serve_feed(srv: &TestServer, path: &str, entries: &[(&str, &str)]) {
    srv.route(
        path,
        Resp::new(200)
            .header("Content-Type", "application/rss+xml; charset=utf-8")
            .body(rss(entries)),
    );
}

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

fn run_once(ar: &Path, now: &str) -> Vec<Value> {
    let out = run_ok(sz(ar, now).args(["--json", "watch", "run", "--once"]));
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn watch_list(ar: &Path) -> Vec<Value> {
    let out = run_ok(samizdat(ar).args(["--json", "watch", "list"]));
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn show(ar: &Path, id: &str) -> Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", id]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The id samizdat gives a page: `web:<sha256 of its URL>`.
fn web_id(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    format!("web:{}", samizdat::platforms::web::platform_id(&u))
}

/// The URLs a run captured, in report order.
fn captured(reports: &[Value]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r["action"] == "captured")
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect()
}

const OLD: (&str, &str) = ("old", "Sun, 01 Feb 2026 09:00:00 +0000");
const A: (&str, &str) = ("a", "Sun, 01 Mar 2026 12:04:00 +0000");
const B: (&str, &str) = ("b", "Sun, 01 Mar 2026 13:07:00 +0100");
const C: (&str, &str) = ("c", "Sun, 01 Mar 2026 12:15:00 +0000");

#[test]
fn a_watched_feed_captures_each_new_entry_once_and_a_503_marks_nothing_gone() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    for slug in ["old", "a", "b", "c"] {
        serve_page(&srv, slug);
    }
    let feed = format!("https://{HOST}/feed.xml");
    serve_feed(&srv, "/feed.xml", &[B, A, OLD]);

    let out = run_ok(sz(&ar, T0).args(["--json", "watch", "add", &feed]));
    let l = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        (l[0]["action"].as_str(), l[0]["url"].as_str()),
        (Some("added"), Some(feed.as_str()))
    );
    assert_eq!(
        srv.hits("/feed.xml"),
        1,
        "the add reads the feed once to tell its entries; `watch run` polls it"
    );
    assert!(
        l[0]["message"].as_str().unwrap().contains("has 3 entries"),
        "{l:?}"
    );

    // First poll, 12:10: the two entries posted after the feed was added are captured;
    // the older one is not (no --backfill), which needs its date read right.
    let r = run_once(&ar, &at(10));
    assert!(
        r.iter()
            .any(|x| x["action"] == "polled" && x["url"] == feed.as_str() && x["error"].is_null()),
        "{r:?}"
    );
    let mut got = captured(&r);
    got.sort();
    assert_eq!(got, [page_url("a"), page_url("b")], "{r:?}");
    assert_eq!(srv.hits("/posts/old"), 0);
    let req = srv
        .requests()
        .into_iter()
        .find(|q| q.path == "/feed.xml")
        .unwrap();
    assert!(
        req.header("accept")
            .unwrap()
            .starts_with("application/rss+xml"),
        "{req:?}"
    );

    // Each captured entry is a post on the watchlist, found again under the id the feed
    // gave it.
    let wl = watch_list(&ar);
    let acct: Vec<&Value> = wl.iter().filter(|w| w["kind"] == "account").collect();
    assert_eq!(acct.len(), 1, "{wl:?}");
    assert_eq!(acct[0]["url"], feed.as_str());
    let mut watched: Vec<(String, String)> = wl
        .iter()
        .filter(|w| w["kind"] == "post")
        .map(|w| {
            assert_eq!(w["via"], feed.as_str(), "{w}");
            (
                w["post_id"].as_str().unwrap().to_string(),
                w["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    watched.sort();
    let mut want = vec![
        (web_id(&page_url("a")), page_url("a")),
        (web_id(&page_url("b")), page_url("b")),
    ];
    want.sort();
    assert_eq!(watched, want);
    let a = show(&ar, &web_id(&page_url("a")));
    assert_eq!(a["title"], "Post a");
    assert!(
        a["text"].as_str().unwrap().contains("The words of post a"),
        "{a}"
    );

    // The feed gains an entry: the next poll captures it alone.
    serve_feed(&srv, "/feed.xml", &[C, B, A, OLD]);
    let r = run_once(&ar, &at(20));
    assert_eq!(captured(&r), [page_url("c")], "{r:?}");
    // Known entries are found by the id the feed gives them, not captured or added
    // again (the due re-checks of a and b run as usual).
    assert!(r.iter().all(|x| x["action"] != "added"), "{r:?}");
    for slug in ["a", "b", "c"] {
        let v = show(&ar, &web_id(&page_url(slug)));
        assert_eq!(v["captures"].as_array().unwrap().len(), 1, "{slug}: {v}");
    }
    assert_eq!(
        watch_list(&ar)
            .iter()
            .filter(|w| w["kind"] == "post")
            .count(),
        3
    );

    // The feed answers 503: the poll records the error; no post is gone.
    srv.route("/feed.xml", Resp::new(503).body("down for maintenance"));
    let r = run_once(&ar, &at(30));
    let polled = r.iter().find(|x| x["action"] == "polled").expect("polled");
    assert!(
        polled["error"].as_str().unwrap().contains("HTTP 503"),
        "{polled}"
    );
    assert!(captured(&r).is_empty(), "{r:?}");
    // Nor after a second failing poll, and not when the feed itself is removed.
    srv.route("/feed.xml", Resp::new(404).body("gone"));
    run_once(&ar, &at(40));
    for slug in ["a", "b", "c"] {
        let v = show(&ar, &web_id(&page_url(slug)));
        assert_eq!(v["state"], "live", "{slug}: {v}");
        assert!(
            v["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["outcome"] == "live"),
            "{slug}: {v}"
        );
    }
    let acct = watch_list(&ar)
        .into_iter()
        .find(|w| w["kind"] == "account")
        .unwrap();
    assert!(
        acct["last_error"].as_str().unwrap().contains("HTTP 404"),
        "{acct}"
    );
    let (code, _, err) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
}

#[test]
fn a_feed_uri_is_watched_whatever_its_path_and_removed_by_the_same_uri() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    serve_page(&srv, "a");
    // `/journal` says nothing about being a feed: only the feed: prefix makes it one.
    serve_feed(&srv, "/journal", &[A]);
    let uri = format!("feed:https://{HOST}/journal");

    let out = run_ok(sz(&ar, T0).args(["--json", "watch", "add", &uri]));
    let l = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(l[0]["action"], "added", "{l:?}");
    assert_eq!(
        l[0]["url"],
        uri.as_str(),
        "kept as a feed: URI so each poll reads a feed"
    );

    let r = run_once(&ar, &at(10));
    assert_eq!(captured(&r), [page_url("a")], "{r:?}");
    assert_eq!(
        srv.hits("/journal"),
        2,
        "the add read it once, the poll once"
    );
    let wl = watch_list(&ar);
    assert!(
        wl.iter()
            .any(|w| w["kind"] == "account" && w["url"] == uri.as_str()),
        "{wl:?}"
    );
    assert!(
        wl.iter()
            .any(|w| w["kind"] == "post" && w["post_id"] == web_id(&page_url("a")).as_str()),
        "{wl:?}"
    );

    // A second poll finds the entry known: nothing captured again.
    let r = run_once(&ar, &at(20));
    assert!(captured(&r).is_empty(), "{r:?}");
    assert!(r.iter().all(|x| x["action"] != "added"), "{r:?}");
    assert_eq!(srv.hits("/journal"), 3);

    run_ok(samizdat(&ar).args(["watch", "remove", &uri]));
    let wl = watch_list(&ar);
    assert!(wl.iter().all(|w| w["kind"] != "account"), "{wl:?}");
}

#[test]
fn capturing_a_feed_url_keeps_the_feed_document() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    serve_feed(&srv, "/feed.xml", &[A]);
    let feed = format!("https://{HOST}/feed.xml");
    let out = run_ok(samizdat(&ar).args(["--json", "capture", &feed]));
    let l = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(l[0]["status"], "captured", "{l:?}");
    assert_eq!(l[0]["post_id"], web_id(&feed).as_str());
    assert_eq!(srv.hits("/feed.xml"), 1);
    assert_eq!(
        srv.hits("/posts/a"),
        0,
        "a capture keeps the feed, not its entries"
    );
}

#[test]
fn an_undated_feed_is_not_captured_whole_on_the_first_poll_only_what_appears_later() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    for slug in ["u1", "u2", "u3"] {
        serve_page(&srv, slug);
    }
    serve_feed(&srv, "/undated/rss.xml", &[("u2", ""), ("u1", "")]);
    let feed = format!("https://{HOST}/undated/rss.xml");
    run_ok(sz(&ar, T0).args(["watch", "add", &feed]));
    let r = run_once(&ar, T0);
    assert!(
        captured(&r).is_empty(),
        "no dates: nothing is known to be new yet: {r:?}"
    );
    serve_feed(
        &srv,
        "/undated/rss.xml",
        &[("u3", ""), ("u2", ""), ("u1", "")],
    );
    let r = run_once(&ar, &at(10));
    assert_eq!(captured(&r), [page_url("u3")], "{r:?}");
}
