//! The watch commands as a person uses them (issue 14): `watch add` of a feed tells how
//! many entries it has, `--backfill N` captures them during the add, `watch check FEED`
//! polls it now, and `watch run` says what is due next. Real binary, a loopback blog
//! (`[http.hosts]` sends blog.example to it), the clock fixed with `SAMIZDAT_NOW`.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const HOST: &str = "blog.example";
const T0: &str = "2026-03-01T12:00:00Z";
const OLD: (&str, &str) = ("old", "Sun, 01 Feb 2026 09:00:00 +0000");
const A: (&str, &str) = ("a", "Sun, 01 Mar 2026 12:04:00 +0000");
const B: (&str, &str) = ("b", "Sun, 01 Mar 2026 12:07:00 +0000");
const C: (&str, &str) = ("c", "Sun, 01 Mar 2026 12:15:00 +0000");

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
    for slug in ["old", "a", "b", "c"] {
        srv.route(
            &format!("/posts/{slug}"),
            Resp::html(format!(
                "<!DOCTYPE html><html><head><title>Post {slug}</title></head><body><article>\
                 <h1>Post {slug}</h1><p>The words of post {slug}, long enough to be the main \
                 text of the page.</p></article></body></html>"
            )),
        );
    }
    (dir, ar)
}

fn page_url(slug: &str) -> String {
    format!("https://{HOST}/posts/{slug}")
}

fn serve_feed(srv: &TestServer, path: &str, entries: &[(&str, &str)]) {
    let items: String = entries
        .iter()
        .map(|(slug, date)| {
            format!(
                "<item><title>Post {slug}</title><link>{u}</link><guid>{u}</guid>\
                 <pubDate>{date}</pubDate><description>Summary of {slug}</description></item>",
                u = page_url(slug)
            )
        })
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>A blog</title><link>https://{HOST}/</link><description>posts</description>{items}\
         </channel></rss>"
    );
    srv.route(
        path,
        Resp::new(200)
            .header("Content-Type", "application/rss+xml; charset=utf-8")
            .body(body.into_bytes()),
    );
}

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn post_hits(srv: &TestServer) -> usize {
    ["old", "a", "b", "c"]
        .iter()
        .map(|s| srv.hits(&format!("/posts/{s}")))
        .sum()
}

#[test]
fn adding_a_feed_tells_its_entries_and_backfill_captures_them_during_the_add() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    serve_feed(&srv, "/feed.xml", &[B, A, OLD]);
    let feed = format!("https://{HOST}/feed.xml");

    // Without --backfill: the add reads the feed, says what it holds, captures nothing.
    let out = run_ok(sz(&ar, T0).args(["watch", "add", &feed]));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("added {feed}"))
            && stdout.contains(
                "it has 3 entries; new ones are captured from now on; --backfill 3 captures these too"
            ),
        "{stdout}"
    );
    assert_eq!(srv.hits("/feed.xml"), 1);
    assert_eq!(post_hits(&srv), 0, "nothing captured without --backfill");

    // With --backfill 2, on a second feed: the two latest entries are captured now, each
    // with its own result line, and the plan is said on stderr.
    serve_feed(&srv, "/other.xml", &[B, A, OLD]);
    let other = format!("feed:https://{HOST}/other.xml");
    let out = run_ok(sz(&ar, T0).args(["--json", "watch", "add", &other, "--backfill", "2"]));
    let l = json_lines(&text(&out.stdout));
    assert_eq!(l[0]["action"], "added", "{l:?}");
    assert_eq!(l[0]["message"], "capturing its 2 latest posts now", "{l:?}");
    let polled = l.iter().find(|r| r["action"] == "polled").expect("polled");
    assert_eq!(
        polled["message"],
        "3 listed: 2 new, 0 already known, 1 older not captured (--backfill captures them)",
        "{polled}"
    );
    let mut got: Vec<&str> = l
        .iter()
        .filter(|r| r["action"] == "captured")
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    got.sort();
    assert_eq!(got, [page_url("a"), page_url("b")], "{l:?}");
    assert!(
        text(&out.stderr).contains("--backfill 2: each account or feed is polled now"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(srv.hits("/posts/old"), 0);
    // They are archived and watched by the time the add returns.
    let wl = json_lines(&text(
        &run_ok(samizdat(&ar).args(["--json", "watch", "list"])).stdout,
    ));
    let posts: Vec<&Value> = wl.iter().filter(|w| w["kind"] == "post").collect();
    assert_eq!(posts.len(), 2, "{wl:?}");
    assert!(posts.iter().all(|w| w["via"] == other.as_str()), "{wl:?}");
}

#[test]
fn watch_check_of_a_feed_polls_it_now_and_counts_new_and_known() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    serve_feed(&srv, "/feed.xml", &[B, A, OLD]);
    let feed = format!("https://{HOST}/feed.xml");

    // Not watched yet: said so, exit 1, nothing fetched.
    let (code, out, _) = run_code(sz(&ar, T0).args(["watch", "check", &feed]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not on the watchlist"), "{out}");

    run_ok(sz(&ar, T0).args(["watch", "add", &feed]));
    let hits = srv.hits("/feed.xml");
    let out = run_ok(sz(&ar, "2026-03-01T12:01:00Z").args(["watch", "check", &feed]));
    let stdout = text(&out.stdout);
    assert_eq!(srv.hits("/feed.xml"), hits + 1, "polled now");
    assert!(
        stdout.contains(&format!(
            "polled {feed} \"3 listed: 2 new, 0 already known, 1 older not captured"
        )),
        "{stdout}"
    );
    for slug in ["a", "b"] {
        assert!(
            stdout.contains(&format!("captured {}", page_url(slug))),
            "{stdout}"
        );
    }

    // A new entry: the next check finds it alone new, the others known.
    serve_feed(&srv, "/feed.xml", &[C, B, A, OLD]);
    let out = run_ok(sz(&ar, "2026-03-01T12:16:00Z").args(["--json", "watch", "check", &feed]));
    let l = json_lines(&text(&out.stdout));
    let polled = l.iter().find(|r| r["action"] == "polled").expect("polled");
    assert!(
        polled["message"]
            .as_str()
            .unwrap()
            .starts_with("4 listed: 1 new, 2 already known"),
        "{polled}"
    );
    let captured: Vec<&Value> = l.iter().filter(|r| r["action"] == "captured").collect();
    assert_eq!(captured.len(), 1, "{l:?}");
    assert_eq!(captured[0]["url"], page_url("c").as_str());
}

#[test]
fn watch_run_says_what_is_due_next_and_when() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    serve_feed(&srv, "/feed.xml", &[OLD]);
    let feed = format!("https://{HOST}/feed.xml");
    run_ok(sz(&ar, T0).args(["watch", "add", &feed]));

    // At start: the feed, added just now, is due now. After the batch polled it, its next
    // poll is `[watch] account_interval` (10 minutes) away.
    let out = run_ok(sz(&ar, T0).args(["watch", "run", "--once"]));
    let err = text(&out.stderr);
    let next: Vec<&str> = err.lines().filter(|l| l.starts_with("next: ")).collect();
    assert_eq!(
        next,
        [
            format!("next: 1 check due now: {feed}").as_str(),
            format!("next: 1 check due in 10m00s: {feed}").as_str(),
        ],
        "{err}"
    );
    assert!(
        !text(&out.stdout).contains("next:"),
        "progress, not results"
    );

    // Four minutes later, nothing ran: the start line counts down.
    let out = run_ok(sz(&ar, "2026-03-01T12:04:00Z").args(["watch", "run", "--once"]));
    let err = text(&out.stderr);
    let next: Vec<&str> = err.lines().filter(|l| l.starts_with("next: ")).collect();
    assert_eq!(
        next,
        [format!("next: 1 check due in 6m00s: {feed}").as_str()],
        "{err}"
    );

    // The terminal interval is a setting: a bad value is a usage error.
    let (code, _, err) = run_code(
        sz(&ar, T0)
            .env("SAMIZDAT_WATCH_NEXT_SECS", "soon")
            .args(["watch", "run", "--once"]),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SAMIZDAT_WATCH_NEXT_SECS"), "{err}");
}
