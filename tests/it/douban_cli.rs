//! Douban capture end to end through the real CLI: a loopback server replays the
//! constructed pages in `tests/fixtures/douban/`, and `[http.hosts]` sends www.douban.com
//! and the doubanio picture hosts to it. Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture writes down, never values
//! copied from samizdat's own output.

use crate::common;

use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("douban", name)
}

const SID: &str = "4412345678";
const ID: &str = "douban:status/4412345678";
const PIC: &str = "/view/status/l/public/p_heron.jpg";
const PIC_BYTES: &[u8] = b"\xff\xd8\xff\xe0 douban picture";

const HOSTS: &[&str] = &[
    "www.douban.com",
    "douban.com",
    "m.douban.com",
    "img1.doubanio.com",
    "img2.doubanio.com",
    "img3.doubanio.com",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    archive_sending(srv, HOSTS)
}

fn status_path(id: &str) -> String {
    format!("/status/{id}/")
}

fn no_post(ar: &Path, id: &str) {
    let (code, out, err) = run_code(samizdat(ar).arg("--json").arg("show").arg(id));
    assert_eq!(code, 1, "a post was made: {out}{err}");
}

#[test]
fn a_live_douban_status_is_captured_with_its_picture_fetched_with_the_referer() {
    let srv = server();
    srv.route(
        &status_path(SID),
        Resp::html(fixture("constructed_status_4412345678.html")),
    );
    srv.route(
        PIC,
        Resp::new(200)
            .header("Content-Type", "image/jpeg")
            .body(PIC_BYTES.to_vec()),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(
        &ar,
        &format!("https://www.douban.com/people/ahbei/status/{SID}/"),
    );
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["status"], "captured", "{line}");
    assert_eq!(line["post_id"], ID);
    let p = show_post(&ar, ID);
    assert_eq!(p["url"], format!("https://www.douban.com/status/{SID}/"));
    assert_eq!(p["author"]["name"], "阿北");
    assert_eq!(p["author"]["id"], "ahbei");
    assert_eq!(p["author"]["url"], "https://www.douban.com/people/ahbei/");
    assert!(
        p["text"].as_str().unwrap().contains("鹭鸶在河边"),
        "{}",
        p["text"]
    );
    assert_eq!(p["created_at"], "2024-03-05T21:07:09+08:00");
    assert_eq!(p["counts"]["likes"], 12);
    assert_eq!(p["counts"]["reposts"], 3);
    assert_eq!(p["counts"]["comments"], 5);
    // The page's script carries 该广播已被删除: the post is live all the same.
    assert_eq!(p["state"], "live");
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["url"], format!("https://img1.doubanio.com{PIC}"));
    assert_eq!(media[0]["sha256"], hex::encode(Sha256::digest(PIC_BYTES)));
    let pics: Vec<_> = srv
        .requests()
        .into_iter()
        .filter(|r| r.path == PIC)
        .collect();
    assert_eq!(pics.len(), 1, "the picture fetched once");
    assert_eq!(pics[0].header("referer"), Some("https://www.douban.com/"));
    let pages: Vec<_> = srv
        .requests()
        .into_iter()
        .filter(|r| r.path == status_path(SID))
        .collect();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].header("referer"), Some("https://www.douban.com/"));
    verify_archive(&ar);
}

fn gone_with(
    path: &str,
    url: &str,
    fixture_name: &str,
    status: u16,
    outcome: &str,
    cause: &str,
    words: &str,
) {
    let srv = server();
    srv.route(
        path,
        Resp::new(status)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(fixture(fixture_name)),
    );
    let (_d, ar) = setup(&srv);
    assert_gone_line(&capture_one(&ar, url), outcome, cause, words, url);
    assert_eq!(srv.hits(path), 1);
    verify_archive(&ar);
}

#[test]
fn a_deleted_douban_status_is_gone_in_doubans_words_and_by_no_one_it_names() {
    // 该广播已被删除 says the status was deleted, not by whom.
    gone_with(
        "/status/4412345679/",
        "https://www.douban.com/status/4412345679",
        "constructed_status_deleted_by_author.html",
        404,
        "deleted",
        "unknown",
        "该广播已被删除",
    );
}

#[test]
fn a_douban_topic_removed_by_the_platform_is_deleted_by_the_platform() {
    gone_with(
        "/group/topic/290123458/",
        "https://www.douban.com/group/topic/290123458/",
        "constructed_topic_removed_law.html",
        200,
        "deleted",
        "platform",
        "根据相关法律法规和政策",
    );
}

#[test]
fn the_douban_risk_control_page_is_never_deleted() {
    for status in [200, 403] {
        let srv = server();
        srv.route(
            &status_path("4412345685"),
            Resp::new(status)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(fixture("constructed_sec_captcha.html")),
        );
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, "https://www.douban.com/status/4412345685/");
        assert_eq!(code, 1, "{line}\n{err}");
        assert_eq!(
            line["status"], "failed",
            "HTTP {status}: never gone: {line}"
        );
        assert!(line["outcome"].is_null(), "{line}");
        let e = line["error"].as_str().unwrap();
        assert!(!e.contains("deleted"), "{e}");
        no_post(&ar, "douban:status/4412345685");
        verify_archive(&ar);
    }
}

#[test]
fn a_group_topics_comments_are_captured_page_by_page_with_the_reply_they_quote() {
    let srv = server();
    srv.route(
        "/group/topic/290123456/",
        Resp::html(fixture("constructed_topic_290123456.html")),
    );
    srv.route(
        "/group/topic/290123456/?start=100",
        Resp::html(fixture("constructed_topic_290123456_start100.html")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, "https://www.douban.com/group/topic/290123456/");
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["comments"]["status"], "complete", "{line}");
    assert_eq!(
        line["comments"]["listed"], 3,
        "two on page 1, one on page 2: {line}"
    );
    assert_eq!(srv.hits("/group/topic/290123456/?start=100"), 1);
    let v = show_post(&ar, "douban:topic/290123456");
    let mut all = vec![];
    flat(&v["comments"], 0, &mut all);
    let find = |id: &str| {
        all.iter()
            .find(|(_, c)| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {all:#?}"))
            .clone()
    };
    let (lvl, first) = find("douban:comment/4100000001");
    assert_eq!(lvl, 0);
    assert_eq!(first["author"]["name"], "甲");
    assert_eq!(first["created_at"], "2023-05-01T12:40:02+08:00");
    let (lvl, reply) = find("douban:comment/4100000002");
    assert_eq!(lvl, 1, "the comment quoting the first nests under it");
    assert_eq!(reply["thread"]["reply_to"], "douban:comment/4100000001");
    // A comment's own words are its text: the topic stays live.
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("该话题已被作者删除")
    );
    assert_eq!(find("douban:comment/4100000101").1["author"]["id"], "u3");
    assert_ne!(v["state"], "deleted", "{v}");
    verify_archive(&ar);
}

#[test]
fn every_status_url_form_and_a_note_capture_their_one_post() {
    for (url, path, file, id) in [
        (
            format!("https://www.douban.com/people/ahbei/status/{SID}/"),
            status_path(SID),
            "constructed_status_4412345678.html",
            ID,
        ),
        (
            format!("https://www.douban.com/status/{SID}"),
            status_path(SID),
            "constructed_status_4412345678.html",
            ID,
        ),
        (
            format!("https://douban.com/status/{SID}/"),
            status_path(SID),
            "constructed_status_4412345678.html",
            ID,
        ),
        (
            format!("https://m.douban.com/people/ahbei/status/{SID}/?dt_dapp=1"),
            status_path(SID),
            "constructed_status_4412345678.html",
            ID,
        ),
        (
            "https://m.douban.com/note/812345678/?_i=1".to_string(),
            "/note/812345678/".to_string(),
            "constructed_note_812345678.html",
            "douban:note/812345678",
        ),
    ] {
        let srv = server();
        srv.route(&path, Resp::html(fixture(file)));
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], id, "{url}: {line}");
        assert_eq!(srv.hits(&path), 1, "{url}: the canonical page asked");
    }
}

#[test]
fn every_other_verdict_is_recorded_in_doubans_words() {
    for (id, file, status, outcome, cause, words) in [
        (
            "4412345680",
            "constructed_status_removed.html",
            404,
            "deleted",
            "platform",
            "该内容已被删除",
        ),
        (
            "4412345681",
            "constructed_status_friends_only.html",
            200,
            "restricted",
            "",
            "仅好友可见",
        ),
        (
            "4412345682",
            "constructed_status_author_only.html",
            200,
            "restricted",
            "",
            "仅自己可见",
        ),
        (
            "4412345683",
            "constructed_status_user_banned.html",
            404,
            "account_gone",
            "platform",
            "已被封禁",
        ),
        (
            "4412345684",
            "constructed_status_user_closed.html",
            404,
            "account_gone",
            "author",
            "已注销",
        ),
    ] {
        let srv = server();
        srv.route(
            &status_path(id),
            Resp::new(status)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(fixture(file)),
        );
        let (_d, ar) = setup(&srv);
        let got = capture_one(&ar, &format!("https://www.douban.com/status/{id}/"));
        assert_gone_line(&got, outcome, cause, words, file);
    }
    // A topic its author deleted, and a note removed for the community rules.
    gone_with(
        "/group/topic/290123457/",
        "https://www.douban.com/group/topic/290123457/",
        "constructed_topic_deleted_by_author.html",
        200,
        "deleted",
        "author",
        "该话题已被作者删除",
    );
    gone_with(
        "/note/812345679/",
        "https://www.douban.com/note/812345679/",
        "constructed_note_removed_rules.html",
        404,
        "deleted",
        "platform",
        "违反社区规范",
    );
}
