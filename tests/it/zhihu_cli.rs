//! Zhihu capture end to end through the real CLI: a loopback server replays the
//! fixtures in `tests/fixtures/zhihu/`, and `[http.hosts]` sends the API, the site,
//! zhuanlan and the picture hosts to it. Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture writes down (the author,
//! the question, the counts), never values copied from samizdat's own output.

use crate::common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("zhihu", name)
}

fn fixture_json(name: &str) -> Value {
    platform_fixture_json("zhihu", name)
}

const AID: &str = "300534572";
const ID: &str = "zhihu:answer/300534572";
const ANSWER_FIXTURE: &str = "zhihuhelp_answer_300534572.json";
const PIC1: &str = "/v2-670015323306fcdcfbd413809f76cb96_r.jpg";
const PIC2: &str = "/v2-28123367c66bba1a2344b1ef5558a655_r.jpg";

const HOSTS: &[&str] = &[
    "www.zhihu.com",
    "zhihu.com",
    "m.zhihu.com",
    "zhuanlan.zhihu.com",
    "pic1.zhimg.com",
    "pic2.zhimg.com",
    "pic3.zhimg.com",
    "pic4.zhimg.com",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    archive_sending(srv, HOSTS)
}

fn answer_path(aid: &str) -> String {
    format!(
        "/api/v4/answers/{aid}?include=content,voteup_count,comment_count,created_time,updated_time,author"
    )
}

fn comments_path(aid: &str, offset: Option<&str>) -> String {
    let mut p = format!("/api/v4/comment_v5/answers/{aid}/root_comment?order_by=score&limit=20");
    if let Some(o) = offset {
        p.push_str(&format!("&offset={o}"));
    }
    p
}

fn picture_bytes(n: u8) -> Vec<u8> {
    let mut b = b"\xff\xd8\xff\xe0 zhihu picture ".to_vec();
    b.push(b'0' + n);
    b
}

/// A server with the live answer: its API answer, its page and its two pictures.
/// Comments are not routed (the server answers 404): unreachable unless a test routes them.
fn answer_server(api: Vec<u8>) -> TestServer {
    let srv = server();
    srv.route(&answer_path(AID), Resp::json(api));
    srv.route(
        &format!("/answer/{AID}"),
        Resp::html(
            "<!doctype html><html><head><title>answer page</title></head><body></body></html>",
        ),
    );
    for (i, p) in [PIC1, PIC2].into_iter().enumerate() {
        srv.route(
            p,
            Resp::new(200)
                .header("Content-Type", "image/jpeg")
                .body(picture_bytes(i as u8 + 1)),
        );
    }
    srv
}

fn captured(ar: &Path, url: &str) -> (Value, Value) {
    let (code, line, err) = capture_one(ar, url);
    assert_eq!(code, 0, "{url}: {line}\n{err}");
    assert_eq!(line["status"], "captured", "{url}: {line}");
    assert_eq!(line["post_id"], ID, "{url}");
    (line, show_post(ar, ID))
}

fn requests_to(srv: &TestServer, path: &str) -> Vec<RecordedRequest> {
    srv.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// Never recorded as a post: `show` finds none and `list` lists nothing.
fn no_post(ar: &Path) {
    let (code, out, err) = run_code(samizdat(ar).arg("--json").arg("show").arg(ID));
    assert_eq!(code, 1, "a post was made: {out}{err}");
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(json_lines(&out).is_empty(), "{out}");
}

#[test]
fn a_live_answer_is_captured_with_its_pictures_fetched_with_the_referer() {
    let srv = answer_server(fixture(ANSWER_FIXTURE));
    let (_d, ar) = setup(&srv);
    let (_, p) = captured(
        &ar,
        &format!("https://www.zhihu.com/question/20521716/answer/{AID}?utm_psn=1"),
    );
    let fx = fixture_json(ANSWER_FIXTURE);
    assert_eq!(p["url"], format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(p["author"]["name"], "姚泽源");
    assert_eq!(p["author"]["id"], "57842aac37ccd0de3965f9b6e17cb555");
    assert_eq!(
        p["author"]["url"],
        "https://www.zhihu.com/people/404-Page-Not-found"
    );
    assert_eq!(p["title"], fx["question"]["title"]);
    let text = p["text"].as_str().unwrap();
    assert!(text.contains("经纬度转城市代码code"), "{text}");
    assert!(text.contains("根据城市代码code获取天气"), "{text}");
    // created_time 1516519758 is 2018-01-21 07:29:18 UTC, 15:29:18 in Beijing.
    assert_eq!(p["created_at"], "2018-01-21T15:29:18+08:00");
    assert_eq!(p["counts"]["likes"], 4);
    assert_eq!(p["counts"]["comments"], 0);
    assert_eq!(p["state"], "live");
    assert_eq!(p["extra"]["question_id"], "20521716");
    // The two pictures, from data-original (the SVG placeholders skipped), bytes kept.
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{media:?}");
    for (i, (m, path)) in media.iter().zip([PIC1, PIC2]).enumerate() {
        assert_eq!(m["url"], format!("https://pic4.zhimg.com{path}"));
        assert_eq!(
            m["sha256"],
            hex::encode(Sha256::digest(picture_bytes(i as u8 + 1)))
        );
        let got = requests_to(&srv, path);
        assert_eq!(got.len(), 1, "{path} fetched once");
        assert_eq!(got[0].header("referer"), Some("https://www.zhihu.com/"));
    }
    // The API was asked with the Referer and no signature; the page was kept.
    let api = requests_to(&srv, &answer_path(AID));
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].header("referer"), Some("https://www.zhihu.com/"));
    assert_eq!(api[0].header("x-zse-96"), None);
    assert_eq!(srv.hits(&format!("/answer/{AID}")), 1);
    verify_archive(&ar);
}

fn gone_with(fixture_name: &str, status: u16, outcome: &str, cause: &str, words: &str) {
    let srv = server();
    srv.route(
        &answer_path(AID),
        Resp::new(status)
            .header("Content-Type", "application/json")
            .body(fixture(fixture_name)),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], outcome, "{line}");
    assert_eq!(line["cause"], cause, "{line}");
    assert!(line["error"].as_str().unwrap().contains(words), "{line}");
    assert_eq!(
        srv.hits(&format!("/answer/{AID}")),
        0,
        "nothing after the verdict"
    );
    verify_archive(&ar);
}

#[test]
fn a_deleted_answer_is_gone_in_zhihus_words() {
    gone_with(
        "constructed_error_deleted.json",
        404,
        "deleted",
        "unknown",
        "该回答已被删除",
    );
}

#[test]
fn an_answer_removed_by_the_platform_is_deleted_by_the_platform() {
    gone_with(
        "constructed_error_removed_law.json",
        403,
        "deleted",
        "platform",
        "根据相关法律法规和政策",
    );
}

/// Risk control answered for the API: never gone, never a post.
fn risk_controlled(answer: Resp, words: &str) {
    let srv = server();
    srv.route(&answer_path(AID), answer);
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(
        &ar,
        &format!("https://www.zhihu.com/question/20521716/answer/{AID}"),
    );
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "{words}: never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(e.contains(words), "{words}: {e}");
    assert!(!e.contains("deleted"), "{e}");
    assert_eq!(srv.hits(&answer_path(AID)), 1);
    no_post(&ar);
    verify_archive(&ar);
}

#[test]
fn error_40362_is_risk_control_never_deleted() {
    risk_controlled(
        Resp::new(403)
            .header("Content-Type", "application/json")
            .body(fixture("constructed_error_40362.json")),
        "40362",
    );
}

#[test]
fn risk_control_quoting_deletion_words_is_never_deleted() {
    risk_controlled(
        Resp::new(403)
            .header("Content-Type", "application/json")
            .body(fixture("constructed_error_40362_with_deletion_words.json")),
        "risk control",
    );
}

#[test]
fn the_403_captcha_page_is_never_deleted() {
    risk_controlled(
        Resp::new(403)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(fixture("constructed_captcha_403.html")),
        "risk control",
    );
}

#[test]
fn comments_are_read_page_by_page_with_their_inline_replies() {
    let srv = answer_server(fixture(ANSWER_FIXTURE));
    srv.route(
        &comments_path(AID, None),
        Resp::json(fixture("constructed_root_comment_answer_300534572.json")),
    );
    let offset = "1516700000_10863541234_0";
    // The second page is empty and the last.
    srv.route(
        &comments_path(AID, Some(offset)),
        Resp::json(br#"{"data":[],"paging":{"is_end":true,"next":""}}"#.to_vec()),
    );
    let (_d, ar) = setup(&srv);
    let (line, _) = captured(&ar, &format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(line["comments"]["status"], "complete", "{line}");
    assert_eq!(
        line["comments"]["listed"], 3,
        "two comments and one reply: {line}"
    );
    assert_eq!(srv.hits(&comments_path(AID, None)), 1);
    assert_eq!(srv.hits(&comments_path(AID, Some(offset))), 1);
    let v = show_post(&ar, ID);
    let mut all = vec![];
    flat(&v["comments"], 0, &mut all);
    assert_eq!(all.len(), 3, "{all:#?}");
    let find = |id: &str| {
        all.iter()
            .find(|(_, c)| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {all:#?}"))
            .clone()
    };
    let (lvl, top) = find("zhihu:comment/10863540187");
    assert_eq!(lvl, 0);
    assert_eq!(top["author"]["name"], "读者甲");
    assert!(
        top["text"].as_str().unwrap().contains("高德的接口确实好用"),
        "{top}"
    );
    assert_eq!(top["thread"]["thread_of"], ID);
    let (lvl, reply) = find("zhihu:comment/10863540999");
    assert_eq!(lvl, 1, "the inline reply nests under its comment");
    assert_eq!(reply["thread"]["reply_to"], "zhihu:comment/10863540187");
    assert_eq!(reply["author"]["name"], "姚泽源");
    assert_eq!(find("zhihu:comment/10863541234").0, 0);
    verify_archive(&ar);
}

#[test]
fn closed_comments_keep_the_answer_live() {
    let srv = answer_server(fixture(ANSWER_FIXTURE));
    srv.route(
        &comments_path(AID, None),
        Resp::new(403)
            .header("Content-Type", "application/json")
            .body(fixture("constructed_root_comment_closed.json")),
    );
    let (_d, ar) = setup(&srv);
    let (line, p) = captured(&ar, &format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(line["comments"]["status"], "closed", "{line}");
    assert!(
        line["comments"]["message"]
            .as_str()
            .unwrap()
            .contains("评论已关闭"),
        "{line}"
    );
    assert_eq!(p["state"], "live");
    verify_archive(&ar);
}

/// The deletion and removal words in the answer's own content and question title, and
/// the page full of them (its `js-initialData` state too), leave an answer the API
/// answered without `error` live, at the capture and at two watch checks.
#[test]
fn a_live_answer_whose_content_carries_the_deletion_words_is_live() {
    let words = "该回答已被删除 该内容已被作者删除 根据相关法律法规和政策，该内容暂不予显示 因违反社区规范 审核中 账号已被封禁 请求存在异常 40362";
    let mut v = fixture_json(ANSWER_FIXTURE);
    v["question"]["title"] = format!("{words}？").into();
    v["content"] = format!("<p>这个回答：{words}</p>").into();
    let srv = answer_server(serde_json::to_vec(&v).unwrap());
    srv.route(
        &format!("/answer/{AID}"),
        Resp::html(format!(
            "<!doctype html><html><head><title>{words}</title><script id=\"js-initialData\" type=\"text/json\">{{\"initialState\":{{\"error\":{{\"code\":4041,\"message\":\"该回答已被删除\"}}}}}}</script></head><body><div class=\"ErrorPage-text\">{words}</div></body></html>"
        )),
    );
    let (_d, ar) = setup(&srv);
    let url = format!("https://www.zhihu.com/answer/{AID}");
    let (_, p) = captured(&ar, &url);
    assert_eq!(p["state"], "live");
    assert!(
        p["text"].as_str().unwrap().contains("该回答已被删除"),
        "{p}"
    );
    assert_live_at_watch_checks(&ar, &url, ID);
    verify_archive(&ar);
}

/// The API wanting the signature (10003): the answer comes from the page's embedded
/// state, its pictures fetched; the page without the answer concludes nothing.
#[test]
fn the_signature_check_falls_back_to_the_pages_embedded_state() {
    let srv = answer_server(Vec::new());
    srv.route(
        &answer_path(AID),
        Resp::new(403)
            .header("Content-Type", "application/json")
            .body(fixture("constructed_error_10003.json")),
    );
    srv.route(
        &format!("/answer/{AID}"),
        Resp::html(fixture(
            "constructed_page_answer_300534572_initialdata.html",
        )),
    );
    let (_d, ar) = setup(&srv);
    let (_, p) = captured(&ar, &format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(p["author"]["name"], "姚泽源");
    assert_eq!(p["counts"]["likes"], 4);
    assert_eq!(p["extra"]["read_from"], "the page's js-initialData");
    assert_eq!(
        p["media"][0]["url"],
        format!("https://pic4.zhimg.com{PIC1}")
    );
    assert_eq!(requests_to(&srv, PIC1).len(), 1);
    verify_archive(&ar);

    let srv = server();
    srv.route(
        &answer_path(AID),
        Resp::new(403)
            .header("Content-Type", "application/json")
            .body(fixture("constructed_error_10003.json")),
    );
    srv.route(
        &format!("/answer/{AID}"),
        Resp::html(fixture("constructed_page_no_state_with_markers.html")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://www.zhihu.com/answer/{AID}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    assert!(line["error"].as_str().unwrap().contains("10003"), "{line}");
    no_post(&ar);
}

#[test]
fn every_answer_url_form_captures_the_one_post() {
    for url in [
        format!("https://www.zhihu.com/question/20521716/answer/{AID}?utm_psn=1700000000000000000"),
        format!("https://zhihu.com/question/20521716/answer/{AID}"),
        format!("https://m.zhihu.com/question/20521716/answer/{AID}"),
        format!("https://www.zhihu.com/answer/{AID}"),
        format!("https://www.zhihu.com/appview/answer/{AID}"),
    ] {
        let srv = answer_server(fixture(ANSWER_FIXTURE));
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], ID, "{url}: {line}");
        assert_eq!(srv.hits(&answer_path(AID)), 1, "{url}");
    }
}

#[test]
fn an_article_and_a_pin_are_captured_from_their_urls() {
    for (url, api, file, id) in [
        (
            "https://zhuanlan.zhihu.com/p/19550225?utm_source=wechat_session",
            "/api/v4/articles/19550225",
            "constructed_article_19550225.json",
            "zhihu:article/19550225",
        ),
        (
            "https://www.zhihu.com/pin/1234567890123456789",
            "/api/v4/pins/1234567890123456789",
            "constructed_pin_1234567890123456789.json",
            "zhihu:pin/1234567890123456789",
        ),
    ] {
        let srv = server();
        srv.route(api, Resp::json(fixture(file)));
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], id, "{url}: {line}");
        assert_eq!(srv.hits(api), 1, "{url}");
    }
}

#[test]
fn every_error_the_reader_knows_is_recorded_in_zhihus_words() {
    let capture_with = |file: &str, status: u16| {
        let srv = server();
        srv.route(
            &answer_path(AID),
            Resp::new(status)
                .header("Content-Type", "application/json")
                .body(fixture(file)),
        );
        let (_d, ar) = setup(&srv);
        capture_one(&ar, &format!("https://www.zhihu.com/answer/{AID}"))
    };
    for (file, status, outcome, cause, words) in [
        (
            "constructed_error_deleted_by_author.json",
            404,
            "deleted",
            "author",
            "已被作者删除",
        ),
        (
            "constructed_error_removed_rules.json",
            403,
            "deleted",
            "platform",
            "违反社区规范",
        ),
        (
            "constructed_error_review.json",
            403,
            "restricted",
            "",
            "审核中",
        ),
        (
            "constructed_error_banned.json",
            403,
            "account_gone",
            "platform",
            "已被封禁",
        ),
    ] {
        assert_gone_line(&capture_with(file, status), outcome, cause, words, file);
    }
    for (file, status) in [
        ("constructed_error_login.json", 401),
        ("constructed_error_10003.json", 403),
        ("constructed_error_unknown.json", 400),
    ] {
        assert_inconclusive_line(&capture_with(file, status), file);
    }
}
