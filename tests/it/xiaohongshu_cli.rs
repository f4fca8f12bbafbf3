//! Xiaohongshu capture end to end through the real CLI: a loopback server replays the
//! constructed pages in `tests/fixtures/xiaohongshu/`, and `[http.hosts]` sends
//! www.xiaohongshu.com, xhslink.com and the xhscdn.com picture and video hosts to it.
//! Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture writes down, never values
//! copied from samizdat's own output.

use crate::common;

use common::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("xiaohongshu", name)
}

const PIC_NOTE: &str = "65f1a2b3c4d5e6f708192a3b";
const VIDEO_NOTE: &str = "66a0b1c2d3e4f5a6b7c8d9e0";
const PIC_FIXTURE: &str = "constructed_note_65f1a2b3c4d5e6f708192a3b.html";
const VIDEO_FIXTURE: &str = "constructed_video_66a0b1c2d3e4f5a6b7c8d9e0.html";
/// The two pictures' `urlDefault` paths (on sns-webpic-qc.xhscdn.com).
const PIC1: &str = "/202403141200/dft1/1040g2sg30bund1!nd_dft_wlteh_webp_3";
const PIC2: &str = "/202403141200/dft2/1040g2sg30bund2!nd_dft_wlteh_webp_3";
const PIC1_BYTES: &[u8] = b"RIFF\x10\x00\x00\x00WEBPVP8 first picture";
const PIC2_BYTES: &[u8] = b"RIFF\x10\x00\x00\x00WEBPVP8 second picture";
/// The video note's cover and its 1080p h264 stream (on sns-video-bd.xhscdn.com).
const COVER: &str = "/202407021200/cover/1040g00cover!nd_dft_wlteh_webp_3";
const VIDEO: &str = "/stream/110/258/01e6fhd1080_258.mp4";
const VIDEO_720: &str = "/stream/110/259/01e6hd720_259.mp4";
const VIDEO_BYTES: &[u8] = b"\x00\x00\x00\x18ftypmp42 the 1080p stream";
const REFERER: &str = "https://www.xiaohongshu.com/";

const HOSTS: &[&str] = &[
    "www.xiaohongshu.com",
    "xiaohongshu.com",
    "xhslink.com",
    "sns-webpic-qc.xhscdn.com",
    "sns-video-bd.xhscdn.com",
    "sns-avatar-qc.xhscdn.com",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    archive_sending(srv, HOSTS)
}

fn post_id(note: &str) -> String {
    format!("xiaohongshu:{note}")
}

fn no_post(ar: &Path, id: &str) {
    let (code, out, err) = run_code(samizdat(ar).arg("--json").arg("show").arg(id));
    assert_eq!(code, 1, "a post was made: {out}{err}");
}

fn requests_to(srv: &TestServer, path_and_query: &str) -> Vec<RecordedRequest> {
    srv.requests()
        .into_iter()
        .filter(|r| r.path == path_and_query)
        .collect()
}

fn image(bytes: &[u8]) -> Resp {
    Resp::new(200)
        .header("Content-Type", "image/webp")
        .body(bytes.to_vec())
}

/// A server with the live picture note at `/explore/<id>?xsec_token=…` and its pictures.
fn picture_note_server(page_query: &str) -> TestServer {
    let srv = server();
    srv.route(
        &format!("/explore/{PIC_NOTE}{page_query}"),
        Resp::html(fixture(PIC_FIXTURE)),
    );
    srv.route(PIC1, image(PIC1_BYTES));
    srv.route(PIC2, image(PIC2_BYTES));
    srv
}

#[test]
fn a_live_picture_note_is_captured_with_its_pictures_fetched_with_the_referer() {
    let srv = picture_note_server("?xsec_token=ABnoteToken%3D");
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(
        &ar,
        &format!(
            "https://www.xiaohongshu.com/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D&xsec_source=pc_share"
        ),
    );
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["status"], "captured", "{line}");
    assert_eq!(line["post_id"], post_id(PIC_NOTE));
    let p = show_post(&ar, &post_id(PIC_NOTE));
    assert_eq!(
        p["url"],
        format!("https://www.xiaohongshu.com/explore/{PIC_NOTE}")
    );
    assert_eq!(p["title"], "外滩的清晨（不是被删除的那篇）");
    assert_eq!(p["author"]["name"], "清晨散步的人");
    assert_eq!(p["author"]["id"], "5e38cac70000000001003649");
    assert_eq!(p["created_at"], "2024-03-13T13:20:00+08:00");
    assert_eq!(p["counts"]["likes"], 12000);
    assert_eq!(p["counts"]["raw"]["likes"], "1.2万");
    let text = p["text"].as_str().unwrap();
    assert!(text.contains("这篇好好的"), "{text}");
    // Its own text, its title and a script carry deletion words: live all the same.
    assert!(text.contains("已被作者删除"), "{text}");
    assert_eq!(p["state"], "live");
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{media:?}");
    for (m, (path, bytes)) in media.iter().zip([(PIC1, PIC1_BYTES), (PIC2, PIC2_BYTES)]) {
        assert_eq!(m["kind"], "image");
        assert_eq!(m["url"], format!("https://sns-webpic-qc.xhscdn.com{path}"));
        assert_eq!(m["sha256"], hex::encode(Sha256::digest(bytes)));
        let asked = requests_to(&srv, path);
        assert_eq!(asked.len(), 1, "{path} fetched once");
        assert_eq!(asked[0].header("referer"), Some(REFERER), "{path}");
    }
    // One page request, with the token and nothing else of the query.
    assert_eq!(
        requests_to(
            &srv,
            &format!("/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D")
        )
        .len(),
        1
    );
    assert_eq!(srv.requests().len(), 3, "the page and two pictures");
    verify_archive(&ar);
}

#[test]
fn a_live_video_note_is_captured_with_its_best_h264_stream() {
    let srv = server();
    srv.route(
        &format!("/explore/{VIDEO_NOTE}?xsec_token=ABvid%3D"),
        Resp::html(fixture(VIDEO_FIXTURE)),
    );
    srv.route(COVER, image(PIC1_BYTES));
    srv.route(
        VIDEO,
        Resp::new(200)
            .header("Content-Type", "video/mp4")
            .body(VIDEO_BYTES.to_vec()),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(
        &ar,
        &format!(
            "https://www.xiaohongshu.com/discovery/item/{VIDEO_NOTE}?xsec_token=ABvid%3D&xsec_source=app_share&type=video"
        ),
    );
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["post_id"], post_id(VIDEO_NOTE), "{line}");
    let p = show_post(&ar, &post_id(VIDEO_NOTE));
    assert_eq!(p["title"], "三分钟学会蛋炒饭");
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 2, "the cover and the video: {media:?}");
    assert_eq!(media[1]["kind"], "video");
    assert_eq!(
        media[1]["url"],
        format!("https://sns-video-bd.xhscdn.com{VIDEO}")
    );
    assert_eq!(media[1]["sha256"], hex::encode(Sha256::digest(VIDEO_BYTES)));
    let asked = requests_to(&srv, VIDEO);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].header("referer"), Some(REFERER));
    assert!(
        requests_to(&srv, VIDEO_720).is_empty(),
        "the 720p stream is not fetched"
    );
    verify_archive(&ar);
}

fn short_link_server() -> TestServer {
    let srv = picture_note_server("?xsec_token=ABnoteToken%3D");
    let landing =
        format!("/discovery/item/{PIC_NOTE}?xsec_token=ABnoteToken%3D&xsec_source=app_share");
    srv.route(
        "/a/AbCdEf12",
        Resp::new(302).header("Location", &format!("https://www.xiaohongshu.com{landing}")),
    );
    srv.route(&landing, Resp::html(fixture(PIC_FIXTURE)));
    srv
}

#[test]
fn an_xhslink_short_link_is_followed_and_every_hop_is_recorded() {
    let srv = short_link_server();
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, "http://xhslink.com/a/AbCdEf12");
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["post_id"], post_id(PIC_NOTE), "{line}");
    assert_eq!(srv.hits("/a/AbCdEf12"), 1);
    // The short link's redirect and where it landed are each a record of their own
    // (recorded at the loopback address `[http.hosts]` sends them to).
    let uris: Vec<String> = records(&ar)
        .iter()
        .filter(|r| r.warc_type() == "response")
        .filter_map(|r| r.field("WARC-Target-URI").map(str::to_string))
        .collect();
    for want in [
        "/a/AbCdEf12".to_string(),
        format!("/discovery/item/{PIC_NOTE}?xsec_token=ABnoteToken%3D&xsec_source=app_share"),
        format!("/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D"),
    ] {
        assert_eq!(
            uris.iter().filter(|u| u.ends_with(&want)).count(),
            1,
            "{want} not recorded once: {uris:?}"
        );
    }
    verify_archive(&ar);
}

#[test]
fn the_share_text_copied_from_the_app_is_accepted_on_the_command_line() {
    let srv = short_link_server();
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(
        &ar,
        "64 某某发布了一篇小红书笔记，快来看吧！ 😆 AbCdEf12 😆 http://xhslink.com/a/AbCdEf12，复制本条信息，打开【小红书】App查看精彩内容！",
    );
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(line["post_id"], post_id(PIC_NOTE), "{line}");
    assert_eq!(srv.hits("/a/AbCdEf12"), 1);
    let p = show_post(&ar, &post_id(PIC_NOTE));
    assert_eq!(p["author"]["name"], "清晨散步的人");
}

/// The note page redirects to `redirect`, which answers `status` with `fixture_name`.
fn redirected_server(note: &str, redirect: &str, fixture_name: &str) -> TestServer {
    let srv = server();
    srv.route(
        &format!("/explore/{note}?xsec_token=AB%3D"),
        Resp::new(302).header(
            "Location",
            &format!("https://www.xiaohongshu.com{redirect}"),
        ),
    );
    srv.route(
        redirect,
        Resp::new(200)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(fixture(fixture_name)),
    );
    srv
}

fn note_url(note: &str) -> String {
    format!("https://www.xiaohongshu.com/explore/{note}?xsec_token=AB%3D")
}

#[test]
fn a_note_deleted_by_its_author_is_gone_in_xiaohongshus_words() {
    let note = "65f1a2b3c4d5e6f708192a3c";
    let srv = redirected_server(
        note,
        "/404?source=note&error_code=-510000&error_msg=%E7%AC%94%E8%AE%B0%E5%B7%B2%E8%A2%AB%E4%BD%9C%E8%80%85%E5%88%A0%E9%99%A4",
        "constructed_404.html",
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &note_url(note));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], "deleted", "{line}");
    assert_eq!(line["cause"], "author", "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("笔记已被作者删除"),
        "{line}"
    );
    assert_eq!(line["post_id"], post_id(note), "{line}");
    verify_archive(&ar);
}

#[test]
fn a_note_visible_to_its_author_only_is_restricted() {
    let note = "65f1a2b3c4d5e6f708192a41";
    let srv = server();
    srv.route(
        &format!("/explore/{note}?xsec_token=AB%3D"),
        Resp::html(fixture("constructed_state_private.html")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &note_url(note));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], "restricted", "{line}");
    assert!(line["cause"].is_null(), "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("仅自己可见"),
        "{line}"
    );
    verify_archive(&ar);
}

/// A wall or risk-control answer: a failed capture, no outcome, no post, never deleted.
fn never_gone(srv: &TestServer, note: &str, url: &str, words: &str) {
    let (_d, ar) = setup(srv);
    let (code, line, err) = capture_one(&ar, url);
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(!e.contains("deleted"), "{e}");
    assert!(e.contains(words), "{words}: {e}");
    no_post(&ar, &post_id(note));
    verify_archive(&ar);
}

#[test]
fn the_captcha_is_never_a_deletion() {
    let note = "65f1a2b3c4d5e6f708192a47";
    let srv = redirected_server(
        note,
        &format!(
            "/website-login/captcha?redirectPath=https%3A%2F%2Fwww.xiaohongshu.com%2Fexplore%2F{note}&verifyUuid=4a1c1a17-a6b3-490a-b607-793b31920abd&verifyType=102&verifyBiz=461"
        ),
        "constructed_captcha.html",
    );
    never_gone(&srv, note, &note_url(note), "captcha");
}

#[test]
fn risk_control_is_never_a_deletion() {
    let note = "65f1a2b3c4d5e6f708192a48";
    // 300013 访问频次异常, with 笔记已被删除 as its message: risk control wins.
    let srv = redirected_server(
        note,
        "/404?source=note&error_code=300013&error_msg=%E7%AC%94%E8%AE%B0%E5%B7%B2%E8%A2%AB%E5%88%A0%E9%99%A4",
        "constructed_404.html",
    );
    never_gone(&srv, note, &note_url(note), "300013");
    // HTTP 461, the captcha status.
    let srv = server();
    srv.route(
        &format!("/explore/{note}?xsec_token=AB%3D"),
        Resp::new(461)
            .header("Content-Type", "text/html; charset=utf-8")
            .header("Verifytype", "102")
            .body(fixture("constructed_captcha.html")),
    );
    never_gone(&srv, note, &note_url(note), "461");
}

#[test]
fn the_login_wall_is_never_a_deletion() {
    let note = "65f1a2b3c4d5e6f708192a4a";
    let srv = redirected_server(
        note,
        &format!("/login?redirectPath=https%3A%2F%2Fwww.xiaohongshu.com%2Fexplore%2F{note}"),
        "constructed_login.html",
    );
    never_gone(&srv, note, &note_url(note), "login wall");
}

#[test]
fn a_bare_note_url_answered_with_300031_is_never_a_deletion() {
    let note = "65f1a2b3c4d5e6f708192a43";
    let srv = server();
    let redirect = "/404?source=note&error_code=300031&error_msg=%E5%BD%93%E5%89%8D%E7%AC%94%E8%AE%B0%E6%9A%82%E6%97%B6%E6%97%A0%E6%B3%95%E6%B5%8F%E8%A7%88";
    srv.route(
        &format!("/explore/{note}"),
        Resp::new(302).header(
            "Location",
            &format!("https://www.xiaohongshu.com{redirect}"),
        ),
    );
    srv.route(redirect, Resp::html(fixture("constructed_404.html")));
    never_gone(
        &srv,
        note,
        &format!("https://www.xiaohongshu.com/explore/{note}"),
        "当前笔记暂时无法浏览",
    );
}

#[test]
fn a_short_link_of_a_gone_note_is_read_where_it_ends() {
    let note = "65f1a2b3c4d5e6f708192a46";
    let gone_at = format!("/404?noteId={note}&errorCode=-510000");
    let srv = server();
    srv.route(
        "/a/GoneCode1",
        Resp::new(302).header("Location", &format!("https://www.xiaohongshu.com{gone_at}")),
    );
    srv.route(&gone_at, Resp::html(fixture("constructed_404.html")));
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, "https://xhslink.com/a/GoneCode1");
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], "deleted", "{line}");
    assert!(
        line["cause"].is_null(),
        "-510000 does not say by whom: {line}"
    );
    assert!(
        line["error"].as_str().unwrap().contains("-510000"),
        "{line}"
    );
    assert_eq!(line["post_id"], post_id(note), "{line}");
    assert_eq!(srv.hits("/a/GoneCode1"), 1);
    verify_archive(&ar);
}

#[test]
fn a_watched_note_is_checked_with_the_token_of_the_link_it_was_watched_by() {
    let srv = picture_note_server("?xsec_token=ABnoteToken%3D");
    let (_d, ar) = setup(&srv);
    let link = format!(
        "https://www.xiaohongshu.com/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D&xsec_source=pc_share"
    );
    run_ok(samizdat(&ar).args(["watch", "add", &link]));
    let with_token = format!("/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D");
    let before = requests_to(&srv, &with_token).len();
    let (code, out, err) = run_code(samizdat(&ar).args(["--json", "watch", "check", &link]));
    assert_eq!(code, 0, "{out}\n{err}");
    // The check asked the page with the token (a bare URL is answered 300031, which
    // concludes nothing), and found the note live.
    assert_eq!(requests_to(&srv, &with_token).len(), before + 1, "{out}");
    assert!(out.contains("live"), "{out}");
    assert_eq!(show_post(&ar, &post_id(PIC_NOTE))["state"], "live");
}

#[test]
fn every_note_url_form_captures_the_one_post_asked_with_its_token() {
    for url in [
        format!("https://www.xiaohongshu.com/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D"),
        format!(
            "https://xiaohongshu.com/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D&xsec_source=pc_feed"
        ),
        format!(
            "https://www.xiaohongshu.com/discovery/item/{PIC_NOTE}?xsec_token=ABnoteToken%3D&app_platform=ios"
        ),
        format!(
            "https://www.xiaohongshu.com/user/profile/5e38cac70000000001003649/{PIC_NOTE}?xsec_token=ABnoteToken%3D"
        ),
    ] {
        let srv = picture_note_server("?xsec_token=ABnoteToken%3D");
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], post_id(PIC_NOTE), "{url}: {line}");
        assert_eq!(
            requests_to(
                &srv,
                &format!("/explore/{PIC_NOTE}?xsec_token=ABnoteToken%3D")
            )
            .len(),
            1,
            "{url}"
        );
    }
}
