//! The conversation around a post (issue 15, docs/comments.md): comments, replies and
//! reposts captured with the post, kept as posts of their own (post records, leaves,
//! search), shown nested under it, and watched: a comment that leaves the listing is
//! `not_listed`, never `deleted`. End to end through the real CLI against loopback
//! servers replaying the fixture sets of `tests/fixtures/{weibo,mastodon}/thread/`.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const WEIBO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/weibo/");
const MASTODON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mastodon/");
const MID: &str = "4645748019299849";
const T0: &str = "2026-03-01T12:00:00Z";

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

fn at(offset_min: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_mins(offset_min)).to_string()
}

fn setup(srv: &TestServer, hosts: &[&str], extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let mut toml = format!(
        "{extra}\n[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n[http.hosts]\n"
    );
    for h in hosts {
        toml.push_str(&format!("{h:?} = {:?}\n", srv.base_url()));
    }
    write_config(&ar, &toml);
    (dir, ar)
}

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

fn show(ar: &Path, key: &str) -> Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", key]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn comments_of(v: &Value) -> Vec<(usize, Value)> {
    let mut out = vec![];
    flat(&v["comments"], 0, &mut out);
    out
}

fn by_id<'a>(all: &'a [(usize, Value)], id: &str) -> &'a (usize, Value) {
    all.iter()
        .find(|(_, c)| c["id"] == id)
        .unwrap_or_else(|| panic!("no comment {id} in {all:?}"))
}

fn hotflow(max_id: Option<&str>) -> String {
    match max_id {
        None => format!("/comments/hotflow?id={MID}&mid={MID}&max_id_type=0"),
        Some(m) => format!("/comments/hotflow?id={MID}&mid={MID}&max_id={m}&max_id_type=0"),
    }
}

/// The Weibo post and its three pages of comments, a reply thread and no reposts.
fn serve_weibo(srv: &TestServer) {
    let f = |n: &str| fixture(&format!("{WEIBO}{n}"));
    srv.route(
        &format!("/statuses/show?id={MID}"),
        Resp::json(f("constructed_statuses_show_4645748019299849.json")),
    );
    srv.route(
        &format!("/statuses/extend?id={MID}"),
        Resp::json(f("m_statuses_extend_4645748019299849.json")),
    );
    srv.route(
        &format!("/detail/{MID}"),
        Resp::html(f("constructed_detail_4645748019299849.html")),
    );
    srv.route(
        &hotflow(None),
        Resp::json(f("thread/constructed_hotflow_page1.json")),
    );
    srv.route(
        &hotflow(Some("111111111111111")),
        Resp::json(f("thread/constructed_hotflow_page2.json")),
    );
    srv.route(
        &hotflow(Some("222222222222222")),
        Resp::json(f("thread/constructed_hotflow_page3.json")),
    );
    srv.route(
        "/comments/hotFlowChild?cid=4645790000000101&max_id=0&max_id_type=0",
        Resp::json(f("thread/constructed_hotFlowChild_4645790000000101.json")),
    );
    srv.route(
        &format!("/api/statuses/repostTimeline?id={MID}&page=1"),
        Resp::json(f("thread/constructed_repostTimeline_none.json")),
    );
}

fn capture(ar: &Path, now: &str, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = sz(ar, now);
    cmd.args(["--json", "capture"]).args(args);
    let (code, out, err) = run_code(&mut cmd);
    let mut lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one JSON line per URL: {out}\n{err}");
    (code, lines.remove(0), err)
}

const POST_URL: &str = "https://m.weibo.cn/detail/4645748019299849";

#[test]
fn a_weibo_post_is_captured_with_three_pages_of_comments_and_a_reply_thread() {
    let srv = server();
    serve_weibo(&srv);
    let (_d, ar) = setup(&srv, &["m.weibo.cn"], "");
    let (code, r, err) = capture(&ar, &at(0), &[POST_URL]);
    assert_eq!(code, 0, "{r}\n{err}");
    assert_eq!(r["status"], "captured");
    assert_eq!(r["comments"]["status"], "complete", "{r}");
    assert_eq!(
        r["comments"]["listed"], 6,
        "3 comments and 3 distinct replies: {r}"
    );
    assert_eq!(r["comments"]["new"], 6);
    // Every page was asked for once.
    for p in [None, Some("111111111111111"), Some("222222222222222")] {
        assert_eq!(srv.hits(&hotflow(p)), 1, "{p:?}");
    }
    let v = show(&ar, &format!("weibo:{MID}"));
    assert_eq!(v["conversation"]["status"], "complete");
    assert_eq!(v["conversation"]["count"], 6);
    let all = comments_of(&v);
    assert_eq!(all.len(), 6, "{all:#?}");
    let top = by_id(&all, "weibo:comment/4645790000000101");
    assert_eq!(top.0, 0);
    assert_eq!(top.1["text"], "第一页的评论");
    assert!(
        top.1["extra"]["region"].as_str().unwrap().contains("浙江"),
        "the region it shows: {}",
        top.1
    );
    assert_eq!(top.1["state"], "live");
    assert_eq!(top.1["thread"]["thread_of"], format!("weibo:{MID}"));
    assert!(top.1["thread"]["reply_to"].is_null(), "{}", top.1);
    let reply = by_id(&all, "weibo:comment/4645790000001111");
    assert_eq!(reply.0, 1, "a reply nests under its comment");
    assert_eq!(
        reply.1["thread"]["reply_to"],
        "weibo:comment/4645790000000101"
    );
    assert_eq!(reply.1["thread"]["kind"], "reply");
    let deeper = by_id(&all, "weibo:comment/4645790000003333");
    assert_eq!(
        deeper.1["thread"]["reply_to"],
        "weibo:comment/4645790000002222"
    );
    assert_eq!(deeper.0, 2, "a reply to a reply nests under it");
    assert_eq!(by_id(&all, "weibo:comment/4645790000000303").0, 0);
    // Each comment is a post of its own, with its own record and leaf.
    let c = show(&ar, "weibo:comment/4645790000000202");
    assert_eq!(c["text"], "第二页的评论");
    assert_eq!(c["captures"].as_array().unwrap().len(), 1);
    // `show` prints the thread, indented; `list` lists the post alone.
    let words = String::from_utf8_lossy(&run_ok(samizdat(&ar).arg("show").arg(POST_URL)).stdout)
        .into_owned();
    assert!(words.contains("comments: 6 archived"), "{words}");
    assert!(words.contains("第三页的评论"), "{words}");
    let list = run_ok(samizdat(&ar).args(["--json", "list"]));
    let ids: Vec<String> = json_lines(&String::from_utf8_lossy(&list.stdout))
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![format!("weibo:{MID}")]);
    // Search finds a comment by two Chinese characters.
    let out = run_ok(samizdat(&ar).args(["--json", "search", "二页"]));
    let hits = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert!(
        hits.iter()
            .any(|h| h["id"] == "weibo:comment/4645790000000202"),
        "{hits:?}"
    );
    // The archive verifies, and `reindex` rebuilds all of it from the records.
    run_ok(samizdat(&ar).arg("verify"));
    let before = show(&ar, POST_URL);
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(show(&ar, POST_URL), before);
}

#[test]
fn comments_are_bounded_by_the_limit_and_off_at_zero() {
    let srv = server();
    serve_weibo(&srv);
    let (_d, ar) = setup(&srv, &["m.weibo.cn"], "[capture]\ncomments = 3\n");
    let (code, r, _) = capture(&ar, &at(0), &[POST_URL]);
    assert_eq!(code, 0);
    assert_eq!(r["comments"]["status"], "limit", "{r}");
    assert_eq!(r["comments"]["listed"], 3);
    assert_eq!(comments_of(&show(&ar, POST_URL)).len(), 3);
    // `--comments 0`: none read, nothing said about them.
    let srv2 = server();
    serve_weibo(&srv2);
    let (_d2, ar2) = setup(&srv2, &["m.weibo.cn"], "");
    let (_, r, _) = capture(&ar2, &at(0), &["--comments", "0", POST_URL]);
    assert!(r.get("comments").is_none(), "{r}");
    assert_eq!(srv2.hits(&hotflow(None)), 0);
    assert!(show(&ar2, POST_URL).get("conversation").is_none());
}

#[test]
fn closed_comments_and_a_walled_comment_page_keep_the_post() {
    let srv = server();
    serve_weibo(&srv);
    srv.route(
        &hotflow(None),
        Resp::json(r#"{"ok":0,"msg":"评论已关闭"}"#.as_bytes().to_vec()),
    );
    let (_d, ar) = setup(&srv, &["m.weibo.cn"], "");
    let (code, r, _) = capture(&ar, &at(0), &[POST_URL]);
    assert_eq!(code, 0, "closed comments are an outcome: {r}");
    assert_eq!(r["comments"]["status"], "closed");
    assert!(
        r["comments"]["message"]
            .as_str()
            .unwrap()
            .contains("评论已关闭")
    );
    let v = show(&ar, POST_URL);
    assert_eq!(v["state"], "live");
    assert_eq!(v["conversation"]["status"], "closed");

    // A login wall on the comments: the post is captured, the comments unreachable.
    let srv = server();
    serve_weibo(&srv);
    srv.route(
        &hotflow(None),
        Resp::new(302).header("location", "https://passport.weibo.cn/signin/login"),
    );
    let (_d, ar) = setup(&srv, &["m.weibo.cn"], "");
    let (code, r, _) = capture(&ar, &at(0), &[POST_URL]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["status"], "captured");
    assert_eq!(r["comments"]["status"], "unreachable", "{r}");
    let v = show(&ar, POST_URL);
    assert_eq!(v["state"], "live");
    assert_eq!(v["conversation"]["status"], "unreachable");
    assert!(v.get("comments").is_none());
    run_ok(samizdat(&ar).arg("verify"));
}

#[test]
fn a_comment_that_leaves_the_listing_is_not_listed_never_deleted_and_stays_with_a_gone_post() {
    let srv = server();
    serve_weibo(&srv);
    let (_d, ar) = setup(&srv, &["m.weibo.cn"], "");
    run_ok(sz(&ar, &at(0)).args(["capture", "--watch", POST_URL]));
    let v = show(&ar, POST_URL);
    assert_eq!(comments_of(&v).len(), 6, "{v}");
    // Page 2's comment is gone from the listing: page 1 now leads to page 3.
    let mut p1: Value = serde_json::from_slice(&fixture(&format!(
        "{WEIBO}thread/constructed_hotflow_page1.json"
    )))
    .unwrap();
    p1["data"]["max_id"] = Value::from(222222222222222u64);
    srv.route(&hotflow(None), Resp::json(serde_json::to_vec(&p1).unwrap()));
    // Two hours on: the post's check is due, and so is the re-read of its comments.
    let (code, out, err) = run_code(sz(&ar, &at(120)).args(["--json", "watch", "check", POST_URL]));
    assert_eq!(code, 0, "{out}\n{err}");
    let r = &json_lines(&out)[0];
    assert_eq!(r["outcome"], "live", "{r}");
    assert_eq!(r["comments"]["status"], "complete", "{r}");
    assert_eq!(r["comments"]["listed"], 5);
    assert_eq!(r["comments"]["new"], 0);
    let c = show(&ar, "weibo:comment/4645790000000202");
    assert_eq!(c["state"], "not_listed", "{c}");
    assert_eq!(c["checks"][0]["outcome"], "not_listed");
    // The rest are untouched.
    assert_eq!(show(&ar, "weibo:comment/4645790000000303")["state"], "live");
    // Listed again later: live again.
    serve_weibo(&srv);
    run_ok(sz(&ar, &at(240)).args(["watch", "check", POST_URL]));
    assert_eq!(show(&ar, "weibo:comment/4645790000000202")["state"], "live");

    // The post is deleted afterwards (two agreeing checks): its comments stay, shown
    // with the post's state.
    srv.route(
        &format!("/statuses/show?id={MID}"),
        Resp::json(fixture(&format!(
            "{WEIBO}constructed_statuses_show_ok0_20101.json"
        ))),
    );
    srv.route(
        &format!("/detail/{MID}"),
        Resp::html(fixture(&format!("{WEIBO}constructed_detail_gone.html"))),
    );
    run_ok(sz(&ar, &at(300)).args(["watch", "check", POST_URL]));
    run_ok(sz(&ar, &at(310)).args(["watch", "check", POST_URL]));
    let v = show(&ar, POST_URL);
    assert_eq!(v["state"], "deleted", "{v}");
    let all = comments_of(&v);
    assert_eq!(all.len(), 6, "a gone post keeps its comments");
    assert!(all.iter().all(|(_, c)| c["state"] != "deleted"), "{all:?}");
    let words = String::from_utf8_lossy(&run_ok(samizdat(&ar).arg("show").arg(POST_URL)).stdout)
        .into_owned();
    assert!(words.contains("the post is deleted"), "{words}");
    run_ok(samizdat(&ar).arg("verify"));
    // Rebuilt from the records, the states are the same.
    let before = show(&ar, "weibo:comment/4645790000000202");
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(show(&ar, "weibo:comment/4645790000000202"), before);
}

/// `verify-bundle` of `zip`: exit code and report.
fn verify_bundle(ar: &Path, zip: &Path) -> (i32, String) {
    let (code, out, err) = run_code(samizdat(ar).arg("verify-bundle").arg(zip));
    (code, format!("{out}\n{err}"))
}

#[test]
fn an_evidence_bundle_holds_the_comments_and_verify_bundle_derives_them_again() {
    let srv = server();
    serve_weibo(&srv);
    let (d, ar) = setup(&srv, &["m.weibo.cn"], "");
    run_ok(sz(&ar, &at(0)).args(["capture", "--watch", POST_URL]));
    // One comment leaves the listing: its not_listed check goes into the bundle too.
    let mut p1: Value = serde_json::from_slice(&fixture(&format!(
        "{WEIBO}thread/constructed_hotflow_page1.json"
    )))
    .unwrap();
    p1["data"]["max_id"] = Value::from(222222222222222u64);
    srv.route(&hotflow(None), Resp::json(serde_json::to_vec(&p1).unwrap()));
    run_ok(sz(&ar, &at(120)).args(["watch", "check", POST_URL]));
    let shown = show(&ar, POST_URL);
    let flat_shown = comments_of(&shown);
    assert_eq!(flat_shown.len(), 6, "{shown}");

    let bundle = d.path().join("bundle.zip");
    let out = run_ok(
        samizdat(&ar)
            .args(["--json", "export", POST_URL, "--bundle"])
            .arg(&bundle),
    );
    let line = &json_lines(&String::from_utf8_lossy(&out.stdout))[0];
    assert_eq!(line["comments"], 6, "{line}");
    let (code, report) = verify_bundle(&ar, &bundle);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("comments.json") && report.contains("6 comments"),
        "the report speaks of the comments: {report}"
    );

    let members = read_zip(&bundle);
    let member = |n: &str| {
        members
            .iter()
            .find(|m| m.0 == n)
            .unwrap_or_else(|| panic!("no {n} in the bundle"))
            .1
            .clone()
    };
    let c: Value = serde_json::from_slice(&member("comments.json")).unwrap();
    assert_eq!(c["conversation"]["status"], "complete", "{c}");
    assert_eq!(c["conversation"]["count"], 5, "{c}");
    let list = c["comments"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    // Each comment is a full post object, with the state the archive shows.
    for (_, s) in &flat_shown {
        let b = list
            .iter()
            .find(|x| x["id"] == s["id"])
            .unwrap_or_else(|| panic!("{} not in comments.json", s["id"]));
        assert_eq!(b["state"], s["state"], "{b}");
        assert_eq!(b["text"], s["text"], "{b}");
        assert_eq!(b["thread"], s["thread"], "{b}");
        assert!(!b["captures"].as_array().unwrap().is_empty(), "{b}");
    }
    let gone = list
        .iter()
        .find(|x| x["id"] == "weibo:comment/4645790000000202")
        .unwrap();
    assert_eq!(gone["state"], "not_listed", "{gone}");
    assert_eq!(gone["checks"][0]["outcome"], "not_listed", "{gone}");
    // Every record a comment or the conversation rests on is in the bundle, with a proof.
    let proofs: Value = serde_json::from_slice(&member("proofs.json")).unwrap();
    let proven: Vec<&str> = proofs["leaves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["record_id"].as_str().unwrap())
        .collect();
    for b in list {
        for cap in b["captures"].as_array().unwrap() {
            for r in cap["record_ids"].as_array().unwrap() {
                assert!(proven.contains(&r.as_str().unwrap()), "{r} has no proof");
            }
        }
    }
    assert!(proven.contains(&c["conversation"]["record_id"].as_str().unwrap()));
    // A person reads them in view.html, under the post.
    let view = String::from_utf8(member("view.html")).unwrap();
    let some_text = flat_shown[0].1["text"].as_str().unwrap();
    assert!(
        view.contains("<h2>Comments</h2>") && view.contains(some_text),
        "{some_text:?} not in view.html"
    );
    let readme = String::from_utf8(member("README.txt")).unwrap();
    assert!(readme.contains("comments.json"), "{readme}");

    // A comment's state changed in comments.json is caught and named.
    let bad = d.path().join("bad.zip");
    rewrite_zip(&bundle, &bad, "comments.json", |b| {
        let mut v: Value = serde_json::from_slice(b).unwrap();
        for x in v["comments"].as_array_mut().unwrap() {
            if x["id"] == "weibo:comment/4645790000000202" {
                x["state"] = Value::from("deleted");
            }
        }
        *b = serde_json::to_vec_pretty(&v).unwrap();
    });
    let (code, report) = verify_bundle(&ar, &bad);
    assert_eq!(code, 3, "{report}");
    assert!(
        report.lines().any(|l| l.starts_with("FAIL")
            && l.contains("comments.json")
            && l.contains("4645790000000202")
            && l.contains("state")),
        "{report}"
    );
    // A comment's text changed is caught too.
    rewrite_zip(&bundle, &bad, "comments.json", |b| {
        let s = String::from_utf8(b.clone()).unwrap();
        *b = s.replacen(some_text, "a different text", 1).into_bytes();
    });
    let (code, report) = verify_bundle(&ar, &bad);
    assert_eq!(code, 3, "{report}");
    // Leaving comments.json out is caught: the records hold the conversation.
    let stripped = d.path().join("stripped.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&stripped).unwrap());
        for (n, b, m) in &members {
            if n != "comments.json" {
                use std::io::Write;
                z.start_file(
                    n.as_str(),
                    zip::write::SimpleFileOptions::default().compression_method(*m),
                )
                .unwrap();
                z.write_all(b).unwrap();
            }
        }
        z.finish().unwrap();
    }
    let (code, report) = verify_bundle(&ar, &stripped);
    assert_eq!(code, 3, "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL") && l.contains("comments.json") && l.contains("missing")),
        "{report}"
    );
}

#[test]
fn mastodon_replies_are_captured_nested_and_shown_on_the_web_page() {
    let srv = server();
    let id = "112233445566778899";
    srv.route(
        &format!("/api/v1/statuses/{id}"),
        Resp::json(fixture(&format!("{MASTODON}thread/status.json"))),
    );
    srv.route(
        &format!("/api/v1/statuses/{id}/context"),
        Resp::json(fixture(&format!("{MASTODON}thread/context.json"))),
    );
    let (_d, ar) = setup(&srv, &["mastodon.example"], "");
    let url = format!("https://mastodon.example/@ada/{id}");
    let (code, r, err) = capture(&ar, &at(0), &[&url]);
    assert_eq!(code, 0, "{r}\n{err}");
    assert_eq!(r["comments"]["listed"], 3, "{r}");
    let v = show(&ar, &url);
    let all = comments_of(&v);
    let nested = by_id(&all, "mastodon:mastodon.example/112233445566778951");
    assert_eq!(nested.0, 1, "{all:#?}");
    assert_eq!(
        nested.1["thread"]["reply_to"],
        "mastodon:mastodon.example/112233445566778950"
    );
    assert_eq!(
        by_id(&all, "mastodon:mastodon.example/112233445566778952").0,
        0
    );
    // The web post page shows the thread under the post.
    let serve = common::serve::Serve::start(&ar);
    let (status, body) = serve.get(&format!("/posts/mastodon:mastodon.example%2F{id}"));
    let html = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"comments\""), "{html}");
    assert_eq!(html.matches("class=\"comment\"").count(), 3, "{html}");
    // The API's post carries them too.
    let (_, api) = serve.get(&format!("/api/posts/mastodon:mastodon.example%2F{id}"));
    let api: Value = serde_json::from_slice(&api).unwrap();
    assert_eq!(comments_of(&api).len(), 3);
    serve.stop();
}

const BLUESKY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bluesky/");
const REDDIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reddit/");

/// A query string as the url crate writes one (`application/x-www-form-urlencoded`).
fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[test]
fn bluesky_replies_are_captured_nested() {
    let srv = server();
    let did = "did:plc:uy7ehrx332p6dow5sk32hxzq";
    let uri = format!("at://{did}/app.bsky.feed.post/3k7rmyigapw2y");
    let thread = |depth: &str, parent: &str| {
        format!(
            "/xrpc/app.bsky.feed.getPostThread?{}",
            form(&[("uri", &uri), ("depth", depth), ("parentHeight", parent)])
        )
    };
    srv.route(
        &thread("0", "1"),
        Resp::json(fixture(&format!("{BLUESKY}thread/post.json"))),
    );
    srv.route(
        &thread("10", "0"),
        Resp::json(fixture(&format!("{BLUESKY}thread/thread.json"))),
    );
    let (_d, ar) = setup(&srv, &["public.api.bsky.app"], "");
    let url = format!("https://bsky.app/profile/{did}/post/3k7rmyigapw2y");
    let (code, r, err) = capture(&ar, &at(0), &["--no-media", &url]);
    let asked: Vec<String> = srv
        .requests()
        .iter()
        .map(|q| q.path_only().to_string())
        .collect();
    assert_eq!(code, 0, "{r}\n{err}\n{asked:?}");
    assert_eq!(r["comments"]["listed"], 3, "{r}\n{asked:?}");
    let all = comments_of(&show(&ar, &url));
    // The nested reply is by another account: its id is that account's DID and rkey.
    let nested = by_id(
        &all,
        "bluesky:did:plc:3vqyk736eakmlwkmfraauemo/3k7rocw2w6u2t",
    );
    assert_eq!(nested.0, 1, "{all:#?}");
    assert_eq!(
        nested.1["thread"]["reply_to"],
        "bluesky:did:plc:3vqyk736eakmlwkmfraauemo/3k7rob7ugc72d"
    );
    assert_eq!(all.iter().filter(|(l, _)| *l == 0).count(), 2);
}

#[test]
fn reddit_comments_are_captured_nested_and_a_removed_one_is_listed_gone() {
    let srv = server();
    let body = fixture(&format!("{REDDIT}thread/constructed_comments_1thr3ad.json"));
    srv.route(
        "/comments/1thr3ad.json?raw_json=1",
        Resp::json(body.clone()),
    );
    srv.route(
        "/comments/1thr3ad.json?raw_json=1&sort=confidence&limit=200",
        Resp::json(body),
    );
    let (_d, ar) = setup(&srv, &["www.reddit.com"], "");
    let url = "https://www.reddit.com/r/test/comments/1thr3ad/a_thread/";
    let (code, r, err) = capture(&ar, &at(0), &["--no-media", url]);
    let asked: Vec<String> = srv
        .requests()
        .iter()
        .map(|q| q.path_only().to_string())
        .collect();
    assert_eq!(code, 0, "{r}\n{err}\n{asked:?}");
    assert_eq!(r["comments"]["status"], "complete", "{r}\n{asked:?}");
    assert_eq!(r["comments"]["gone"], 1, "{r}");
    let all = comments_of(&show(&ar, "reddit:t3_1thr3ad"));
    assert_eq!(by_id(&all, "reddit:t1_th1top1").0, 0, "{all:#?}");
    let reply = by_id(&all, "reddit:t1_th2rep2");
    assert_eq!(reply.0, 1);
    assert_eq!(reply.1["thread"]["reply_to"], "reddit:t1_th1top1");
    assert!(
        all.iter().all(|(_, c)| c["id"] != "reddit:t1_th3gon3"),
        "a removed comment has nothing to show: it is in the thread record's gone list"
    );
}

/// Changes a comments answer; returns the id of the comment it changed.
type Mark = Box<dyn Fn(&mut Value) -> String>;

/// One platform's conversation watched through its life (the Weibo test above, for the
/// others): a reply that leaves the listing, a walled re-read, the post gone.
struct Life {
    hosts: &'static [&'static str],
    url: String,
    /// The post's answers, as when it was live.
    live: Box<dyn Fn(&TestServer)>,
    /// The route (path and query) of the comments' answer, and its body.
    comments_route: String,
    comments: Value,
    /// Takes one reply out of the listing; returns its id.
    drop_one: Mark,
    /// A wall on the comments: any answer that concludes nothing.
    wall: Resp,
    /// The post's answers once it is gone.
    gone: Box<dyn Fn(&TestServer)>,
    /// Where the platform names a gone comment: marks one so; returns its id.
    said_gone: Option<Mark>,
    capture_args: &'static [&'static str],
}

fn live_through(life: Life) {
    let srv = server();
    (life.live)(&srv);
    let put = |v: &Value| {
        srv.route(
            &life.comments_route,
            Resp::json(serde_json::to_vec(v).unwrap()),
        )
    };
    put(&life.comments);
    let (_d, ar) = setup(&srv, life.hosts, "");
    let mut args = vec!["--watch"];
    args.extend(life.capture_args);
    args.push(&life.url);
    let (code, r, err) = capture(&ar, &at(0), &args);
    assert_eq!(code, 0, "{r}\n{err}");
    let n = comments_of(&show(&ar, &life.url)).len();
    assert!(n >= 2, "{r}");

    // A reply leaves the listing: not_listed, never deleted; the others stay live.
    let mut less = life.comments.clone();
    let dropped = (life.drop_one)(&mut less);
    put(&less);
    let (code, out, err) =
        run_code(sz(&ar, &at(120)).args(["--json", "watch", "check", &life.url]));
    assert_eq!(code, 0, "{out}\n{err}");
    let r = &json_lines(&out)[0];
    assert_eq!(r["outcome"], "live", "{r}");
    assert_eq!(r["comments"]["status"], "complete", "{r}");
    let all = comments_of(&show(&ar, &life.url));
    assert_eq!(
        all.len(),
        n,
        "a comment that leaves the listing stays in the archive"
    );
    for (_, c) in &all {
        let want = if c["id"] == dropped.as_str() {
            "not_listed"
        } else {
            "live"
        };
        assert_eq!(c["state"], want, "{c}");
    }

    // A wall on the comments concludes nothing: the post is live, no comment changes.
    srv.route(&life.comments_route, life.wall.clone());
    let (code, out, err) =
        run_code(sz(&ar, &at(240)).args(["--json", "watch", "check", &life.url]));
    assert_eq!(code, 0, "{out}\n{err}");
    let r = &json_lines(&out)[0];
    assert_eq!(r["outcome"], "live", "{r}");
    assert_eq!(r["comments"]["status"], "unreachable", "{r}");
    assert_eq!(
        comments_of(&show(&ar, &life.url)),
        all,
        "a wall changes no comment"
    );

    // The platform says a comment is gone: that one, and only that one, is deleted.
    let mut said = None;
    if let Some(mark) = &life.said_gone {
        let mut v = less.clone();
        let id = mark(&mut v);
        put(&v);
        // One answer is not yet a state (docs/states.md): the next re-read confirms it.
        run_ok(sz(&ar, &at(400)).args(["watch", "check", &life.url]));
        assert_eq!(show(&ar, &id)["state"], "live");
        run_ok(sz(&ar, &at(470)).args(["watch", "check", &life.url]));
        let c = show(&ar, &id);
        assert_eq!(c["state"], "deleted", "{c}");
        assert_eq!(
            c["checks"].as_array().unwrap().last().unwrap()["outcome"],
            "deleted"
        );
        let all = comments_of(&show(&ar, &life.url));
        assert_eq!(
            all.iter().filter(|(_, c)| c["state"] == "deleted").count(),
            1,
            "{all:?}"
        );
        said = Some(id);
    }

    // The post is gone (two agreeing checks): it keeps its comments, none called deleted
    // but the one the platform named.
    (life.gone)(&srv);
    run_ok(sz(&ar, &at(540)).args(["watch", "check", &life.url]));
    run_ok(sz(&ar, &at(550)).args(["watch", "check", &life.url]));
    let v = show(&ar, &life.url);
    assert_eq!(v["state"], "deleted", "{v}");
    let kept = comments_of(&v);
    assert_eq!(kept.len(), n, "a gone post keeps its comments");
    assert!(
        kept.iter()
            .all(|(_, c)| c["state"] != "deleted" || said.as_deref() == c["id"].as_str()),
        "{kept:?}"
    );
    let words = String::from_utf8_lossy(&run_ok(samizdat(&ar).arg("show").arg(&life.url)).stdout)
        .into_owned();
    assert!(words.contains("the post is deleted"), "{words}");
    run_ok(samizdat(&ar).arg("verify"));
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(
        comments_of(&show(&ar, &life.url)),
        kept,
        "reindex rebuilds the same"
    );
}

#[test]
fn mastodon_replies_through_their_life_not_listed_walled_and_the_post_gone() {
    let id = "112233445566778899";
    let status = format!("/api/v1/statuses/{id}");
    let s2 = status.clone();
    live_through(Life {
        hosts: &["mastodon.example"],
        url: format!("https://mastodon.example/@ada/{id}"),
        live: Box::new(move |srv| {
            srv.route(
                &status,
                Resp::json(fixture(&format!("{MASTODON}thread/status.json"))),
            )
        }),
        comments_route: format!("/api/v1/statuses/{id}/context"),
        comments: serde_json::from_slice(&fixture(&format!("{MASTODON}thread/context.json")))
            .unwrap(),
        drop_one: Box::new(|v| {
            let d = v["descendants"].as_array_mut().unwrap();
            let i = d
                .iter()
                .position(|s| s["id"] == "112233445566778952")
                .unwrap();
            d.remove(i);
            "mastodon:mastodon.example/112233445566778952".into()
        }),
        wall: Resp::new(503).header("Content-Type", "text/html").body(
            b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>".to_vec(),
        ),
        gone: Box::new(move |srv| {
            srv.route(
                &s2,
                Resp::new(404)
                    .header("Content-Type", "application/json")
                    .body(fixture(&format!("{MASTODON}error_404.json"))),
            )
        }),
        said_gone: None,
        capture_args: &[],
    });
}

#[test]
fn bluesky_replies_through_their_life_not_listed_walled_and_the_post_gone() {
    let did = "did:plc:uy7ehrx332p6dow5sk32hxzq";
    let uri = format!("at://{did}/app.bsky.feed.post/3k7rmyigapw2y");
    let thread = move |depth: &str, parent: &str| {
        format!(
            "/xrpc/app.bsky.feed.getPostThread?{}",
            form(&[("uri", &uri), ("depth", depth), ("parentHeight", parent)])
        )
    };
    let post = thread("0", "1");
    let p2 = post.clone();
    live_through(Life {
        hosts: &["public.api.bsky.app"],
        url: format!("https://bsky.app/profile/{did}/post/3k7rmyigapw2y"),
        live: Box::new(move |srv| {
            srv.route(
                &post,
                Resp::json(fixture(&format!("{BLUESKY}thread/post.json"))),
            )
        }),
        comments_route: thread("10", "0"),
        comments: serde_json::from_slice(&fixture(&format!("{BLUESKY}thread/thread.json")))
            .unwrap(),
        drop_one: Box::new(|v| {
            let r = v["thread"]["replies"].as_array_mut().unwrap();
            let i = r
                .iter()
                .position(|x| {
                    x["post"]["uri"]
                        .as_str()
                        .unwrap()
                        .ends_with("/3k7rn6uemfg2c")
                })
                .unwrap();
            r.remove(i);
            "bluesky:did:plc:w2gsbanugiw67kud7sieilh7/3k7rn6uemfg2c".into()
        }),
        wall: Resp::new(401)
            .header("Content-Type", "application/json")
            .body(br#"{"error":"AuthMissing","message":"Authentication Required"}"#.to_vec()),
        gone: Box::new(move |srv| {
            srv.route(
                &p2,
                Resp::new(400)
                    .header("Content-Type", "application/json")
                    .body(br#"{"error":"NotFound","message":"Post not found"}"#.to_vec()),
            )
        }),
        said_gone: None,
        capture_args: &["--no-media"],
    });
}

#[test]
fn reddit_comments_through_their_life_not_listed_walled_and_the_post_gone() {
    let body: Value = serde_json::from_slice(&fixture(&format!(
        "{REDDIT}thread/constructed_comments_1thr3ad.json"
    )))
    .unwrap();
    let post = "/comments/1thr3ad.json?raw_json=1";
    let live = body.clone();
    let mut removed = body.clone();
    removed[0]["data"]["children"][0]["data"]["removed_by_category"] = Value::from("moderator");
    removed[0]["data"]["children"][0]["data"]["selftext"] = Value::from("[removed]");
    live_through(Life {
        hosts: &["www.reddit.com"],
        url: "https://www.reddit.com/r/test/comments/1thr3ad/a_thread/".into(),
        live: Box::new(move |srv| srv.route(post, Resp::json(serde_json::to_vec(&live).unwrap()))),
        comments_route: "/comments/1thr3ad.json?raw_json=1&sort=confidence&limit=200".into(),
        comments: body,
        drop_one: Box::new(|v| {
            let top = &mut v[1]["data"]["children"][0]["data"];
            assert_eq!(top["id"], "th1top1");
            top["replies"] = Value::from("");
            "reddit:t1_th2rep2".into()
        }),
        wall: Resp::new(403)
            .header("Content-Type", "text/html")
            .body(b"<html><title>Blocked</title>whoa there, pardner!</html>".to_vec()),
        gone: Box::new(move |srv| {
            srv.route(post, Resp::json(serde_json::to_vec(&removed).unwrap()))
        }),
        // A moderator removes the top comment: Reddit replaces its text with `[removed]`.
        said_gone: Some(Box::new(|v| {
            let top = &mut v[1]["data"]["children"][0]["data"];
            top["body"] = Value::from("[removed]");
            top["author"] = Value::from("[deleted]");
            "reddit:t1_th1top1".into()
        })),
        capture_args: &["--no-media"],
    });
}
