//! Douyin capture end to end through the real CLI: a loopback server replays the
//! constructed share pages in `tests/fixtures/douyin/`, and `[http.hosts]` sends the
//! Douyin hosts (www.douyin.com, www.iesdouyin.com, m.douyin.com, v.douyin.com), the
//! stream host aweme.snssdk.com, the picture host p3-sign.douyinpic.com and the captcha
//! host verify.snssdk.com to it. Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture writes down (the author,
//! the counts in `statistics`, the URLs in `url_list`), never values copied from
//! samizdat's own output.

use crate::common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("douyin", name)
}

const VID: &str = "7301234567890123456";
const NOTE: &str = "7302345678901234567";
const VIDEO_PAGE: &str = "constructed_share_video_7301234567890123456.html";
/// `play_addr.url_list[0]` of the fixture with `/playwm/` made `/play/`.
const STREAM: &str = "/aweme/v1/play/?video_id=v0200fg10000cl5samizdattestvideo&ratio=720p&line=0";
const WATERMARKED: &str =
    "/aweme/v1/playwm/?video_id=v0200fg10000cl5samizdattestvideo&ratio=720p&line=0";
const COVER: &str = "/tos-cn-p-0015/oQAbCdEfGhIjKlMn~c5_300x400.jpeg?from=327834062";
const STREAM_BYTES: &[u8] = b"\x00\x00\x00\x18ftypmp42 douyin stream";
const COVER_BYTES: &[u8] = b"\xff\xd8\xff\xe0 douyin cover";
const SHORT: &str = "/iRNBho5m/";

const HOSTS: &[&str] = &[
    "www.douyin.com",
    "douyin.com",
    "www.iesdouyin.com",
    "iesdouyin.com",
    "m.douyin.com",
    "v.douyin.com",
    "aweme.snssdk.com",
    "p3-sign.douyinpic.com",
    "verify.snssdk.com",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    archive_sending(srv, HOSTS)
}

fn share_path(kind: &str, id: &str) -> String {
    format!("/share/{kind}/{id}/")
}

fn no_post(ar: &Path, id: &str) {
    let (code, out, err) = run_code(samizdat(ar).arg("--json").arg("show").arg(id));
    assert_eq!(code, 1, "a post was made: {out}{err}");
}

fn requests_to(srv: &TestServer, path: &str) -> Vec<RecordedRequest> {
    srv.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// A server with the live video: its share page, its stream and its cover.
fn video_server() -> TestServer {
    let srv = server();
    srv.route(&share_path("video", VID), Resp::html(fixture(VIDEO_PAGE)));
    srv.route(
        STREAM,
        Resp::new(200)
            .header("Content-Type", "video/mp4")
            .body(STREAM_BYTES.to_vec()),
    );
    srv.route(
        COVER,
        Resp::new(200)
            .header("Content-Type", "image/jpeg")
            .body(COVER_BYTES.to_vec()),
    );
    srv
}

fn captured(ar: &Path, url: &str, id: &str) -> Value {
    let (code, line, err) = capture_one(ar, url);
    assert_eq!(code, 0, "{url}: {line}\n{err}");
    assert_eq!(line["status"], "captured", "{url}: {line}");
    assert_eq!(line["post_id"], format!("douyin:{id}"), "{url}");
    show_post(ar, &format!("douyin:{id}"))
}

#[test]
fn a_live_douyin_video_is_captured_with_its_stream_and_cover_fetched_with_the_referer() {
    let srv = video_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://www.douyin.com/video/{VID}"), VID);
    assert_eq!(p["url"], format!("https://www.douyin.com/video/{VID}"));
    assert_eq!(p["author"]["name"], "看晚霞的人");
    assert_eq!(p["author"]["id"], "84990209480");
    assert_eq!(p["author"]["handle"], "wanxia_2023");
    assert_eq!(
        p["author"]["url"],
        "https://www.douyin.com/user/MS4wLjABAAAAsamizdatTestSecUid0000000000000000000"
    );
    assert_eq!(p["text"], "今天的晚霞 #晚霞 #城市风景");
    // create_time 1701423000 is 2023-12-01 09:30:00 UTC, 17:30 in Beijing.
    assert_eq!(p["created_at"], "2023-12-01T17:30:00+08:00");
    assert_eq!(p["counts"]["likes"], 1234);
    assert_eq!(p["counts"]["comments"], 56);
    assert_eq!(p["counts"]["reposts"], 78);
    assert_eq!(p["state"], "live");
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 2, "{media:?}");
    assert_eq!(media[0]["kind"], "video");
    assert_eq!(media[0]["url"], format!("https://aweme.snssdk.com{STREAM}"));
    assert_eq!(
        media[0]["sha256"],
        hex::encode(Sha256::digest(STREAM_BYTES))
    );
    assert_eq!(
        media[1]["url"],
        format!("https://p3-sign.douyinpic.com{COVER}")
    );
    assert_eq!(media[1]["sha256"], hex::encode(Sha256::digest(COVER_BYTES)));
    for path in [STREAM, COVER] {
        let got = requests_to(&srv, path);
        assert_eq!(got.len(), 1, "{path} fetched once");
        assert_eq!(got[0].header("referer"), Some("https://www.douyin.com/"));
    }
    // The watermarked stream is not asked; the page was, once, as a phone.
    assert_eq!(srv.hits(WATERMARKED), 0);
    let pages = requests_to(&srv, &share_path("video", VID));
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].header("referer"), Some("https://www.douyin.com/"));
    assert!(
        pages[0].header("user-agent").unwrap().contains("iPhone"),
        "{:?}",
        pages[0].header("user-agent")
    );
    verify_archive(&ar);
}

#[test]
fn a_douyin_picture_post_is_captured_with_its_pictures() {
    let srv = server();
    srv.route(
        &share_path("note", NOTE),
        Resp::html(fixture("constructed_share_note_7302345678901234567.html")),
    );
    let pics: Vec<String> = (1..=3)
        .map(|i| format!("/tos-cn-i-0813/oNotePic{i}~tplv-dy-aweme-images:q75.webp?from=327834062"))
        .collect();
    for (i, p) in pics.iter().enumerate() {
        srv.route(
            p,
            Resp::new(200)
                .header("Content-Type", "image/webp")
                .body(format!("RIFF picture {i}").into_bytes()),
        );
    }
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://www.douyin.com/note/{NOTE}"), NOTE);
    assert_eq!(p["url"], format!("https://www.douyin.com/note/{NOTE}"));
    assert_eq!(p["text"], "周末的三张照片");
    let media = p["media"].as_array().unwrap();
    assert_eq!(
        media.len(),
        3,
        "three pictures, no slideshow video: {media:?}"
    );
    for (i, (m, path)) in media.iter().zip(&pics).enumerate() {
        assert_eq!(m["kind"], "image");
        assert_eq!(m["url"], format!("https://p3-sign.douyinpic.com{path}"));
        assert_eq!(
            m["sha256"],
            hex::encode(Sha256::digest(format!("RIFF picture {i}").as_bytes()))
        );
        let got = requests_to(&srv, path);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].header("referer"), Some("https://www.douyin.com/"));
    }
    assert_eq!(
        srv.hits("/aweme/v1/play/"),
        0,
        "the slideshow video is not fetched"
    );
    verify_archive(&ar);
}

/// The short link's hops: v.douyin.com to the share page with share parameters.
fn short_link_server() -> TestServer {
    let srv = video_server();
    srv.route(
        SHORT,
        Resp::new(302).header(
            "Location",
            &format!(
                "https://www.iesdouyin.com/share/video/{VID}/?region=CN&mid=7301111111111111111"
            ),
        ),
    );
    srv.route(
        &format!("/share/video/{VID}/?region=CN&mid=7301111111111111111"),
        Resp::html(fixture(VIDEO_PAGE)),
    );
    srv
}

#[test]
fn a_v_douyin_com_short_link_is_followed_and_every_hop_is_recorded() {
    let srv = short_link_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, "https://v.douyin.com/iRNBho5m/", VID);
    assert_eq!(p["author"]["name"], "看晚霞的人");
    assert_eq!(srv.hits(SHORT), 1);
    let cdx = cdxj_index(&warc_files(&ar));
    // The redirect, where it led (the share page with the share parameters), then the
    // canonical share page the post was read from.
    for (hop, status) in [
        (")/irnbho5m ", "302"),
        ("?mid=7301111111111111111&region=cn ", "200"),
        (&format!(")/share/video/{VID} ") as &str, "200"),
    ] {
        let want = format!("\"status\": \"{status}\"");
        assert!(
            cdx.lines().any(|l| l.contains(hop) && l.contains(&want)),
            "{hop} ({status}) not recorded:\n{cdx}"
        );
    }
    verify_archive(&ar);
}

#[test]
fn the_share_text_copied_from_the_app_is_accepted_on_the_command_line() {
    let srv = short_link_server();
    let (_d, ar) = setup(&srv);
    let text = "7.43 复制打开抖音，看看【看晚霞的人的作品】今天的晚霞 https://v.douyin.com/iRNBho5m/ Mdl:/ 06/25 S@l.Ca";
    let p = captured(&ar, text, VID);
    assert_eq!(p["text"], "今天的晚霞 #晚霞 #城市风景");
    assert_eq!(srv.hits(SHORT), 1);
    // Text naming no Douyin post is a usage error, before anything is fetched.
    let before = srv.requests().len();
    let (code, out, err) = run_code(
        samizdat(&ar)
            .arg("capture")
            .arg("看看 https://www.douyin.com/user/MS4wLjABAAAAx 的主页"),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("is not a URL"), "{err}");
    assert_eq!(srv.requests().len(), before, "nothing fetched");
    verify_archive(&ar);
}

fn gone_with(id: &str, fixture_name: &str, outcome: &str, cause: &str, words: &str) {
    let srv = server();
    srv.route(&share_path("video", id), Resp::html(fixture(fixture_name)));
    let (_d, ar) = setup(&srv);
    let url = format!("https://www.douyin.com/video/{id}");
    assert_gone_line(&capture_one(&ar, &url), outcome, cause, words, &url);
    assert_eq!(srv.hits(&share_path("video", id)), 1);
    verify_archive(&ar);
}

#[test]
fn a_deleted_douyin_post_is_gone_in_douyins_words() {
    gone_with(
        "7303000000000000001",
        "constructed_share_filter_status_deleted.html",
        "deleted",
        "unknown",
        "status_deleted: 因作品权限或已被删除，无法观看，去看看其他作品吧",
    );
}

#[test]
fn a_douyin_post_for_its_author_only_is_restricted() {
    gone_with(
        "7303000000000000005",
        "constructed_share_filter_status_self_see.html",
        "restricted",
        "author",
        "status_self_see",
    );
}

/// Never gone, never a post.
fn risk_controlled(id: &str, srv: &TestServer, words: &str) {
    let (_d, ar) = setup(srv);
    let (code, line, err) = capture_one(&ar, &format!("https://www.douyin.com/video/{id}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(e.contains(words), "{words}: {e}");
    assert!(!e.contains("deleted"), "{e}");
    no_post(&ar, &format!("douyin:{id}"));
    verify_archive(&ar);
}

#[test]
fn the_douyin_captcha_page_is_never_deleted() {
    let id = "7303000000000000009";
    // The captcha middle page answered in place of the share page, a deletion filter
    // entry and all.
    let srv = server();
    srv.route(
        &share_path("video", id),
        Resp::html(fixture("constructed_captcha_middle_page.html")),
    );
    risk_controlled(id, &srv, "risk control");
    // A redirect to verify.snssdk.com, whose page carries a deletion filter entry.
    let srv = server();
    srv.route(
        &share_path("video", id),
        Resp::new(302).header(
            "Location",
            "https://verify.snssdk.com/captcha/verify?aid=1128&from=share",
        ),
    );
    srv.route(
        "/captcha/verify?aid=1128&from=share",
        Resp::html(fixture("constructed_share_filter_status_deleted.html")),
    );
    risk_controlled(id, &srv, "verify.snssdk.com");
}

/// The deletion, account and captcha words in the page's title, scripts and attributes
/// and in the post's own description and author name leave a live post live, at the
/// capture and at watch checks.
#[test]
fn a_live_douyin_post_whose_page_and_text_carry_the_deletion_words_is_live() {
    let id = "7301234567890123499";
    let srv = server();
    srv.route(
        &share_path("video", id),
        Resp::html(fixture(
            "constructed_share_video_7301234567890123499_words_everywhere.html",
        )),
    );
    let (_d, ar) = setup(&srv);
    let url = format!("https://www.douyin.com/video/{id}");
    let (code, line, err) = run_code(
        samizdat(&ar)
            .args(["--json", "capture", "--no-media"])
            .arg(&url),
    );
    assert_eq!(code, 0, "{line}\n{err}");
    let p = show_post(&ar, &format!("douyin:{id}"));
    assert_eq!(p["state"], "live");
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .contains("因作品权限或已被删除，无法观看"),
        "{p}"
    );
    assert_live_at_watch_checks(&ar, &url, &format!("douyin:{id}"));
    verify_archive(&ar);
}

#[test]
fn every_video_url_form_captures_the_one_post() {
    for url in [
        format!("https://www.douyin.com/video/{VID}"),
        format!("https://douyin.com/video/{VID}?previous_page=app_code_link"),
        format!("https://www.iesdouyin.com/share/video/{VID}/?region=CN&mid=7301111111111111111"),
        format!("https://m.douyin.com/share/video/{VID}"),
        format!(
            "https://www.douyin.com/user/MS4wLjABAAAAsamizdatTestSecUid0000000000000000000?modal_id={VID}"
        ),
        format!("https://www.douyin.com/discover?modal_id={VID}"),
    ] {
        let srv = video_server();
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], format!("douyin:{VID}"), "{url}: {line}");
        assert_eq!(srv.hits(&share_path("video", VID)), 1, "{url}");
    }
}

#[test]
fn every_filter_reason_the_reader_knows_is_recorded_in_douyins_words() {
    let capture_with = |id: &str, file: &str| {
        let srv = server();
        srv.route(&share_path("video", id), Resp::html(fixture(file)));
        let (_d, ar) = setup(&srv);
        capture_one(&ar, &format!("https://www.douyin.com/video/{id}"))
    };
    for (id, file, outcome, cause, words) in [
        (
            "7303000000000000002",
            "constructed_share_filter_status_deleted_by_author.html",
            "deleted",
            "author",
            "该作品已被作者删除",
        ),
        (
            "7303000000000000003",
            "constructed_share_filter_status_audit_not_pass.html",
            "deleted",
            "platform",
            "status_audit_not_pass",
        ),
        (
            "7303000000000000004",
            "constructed_share_filter_status_reviewing.html",
            "restricted",
            "",
            "status_reviewing",
        ),
        (
            "7303000000000000007",
            "constructed_share_filter_account_banned.html",
            "account_gone",
            "platform",
            "该账号已被封禁",
        ),
        (
            "7303000000000000008",
            "constructed_share_filter_account_closed.html",
            "account_gone",
            "author",
            "该账号已注销",
        ),
    ] {
        assert_gone_line(&capture_with(id, file), outcome, cause, words, file);
    }
    // Inconclusive answers: never gone.
    for (id, file) in [
        (
            "7303000000000000012",
            "constructed_share_filter_story_expired.html",
        ),
        (
            "7303000000000000010",
            "constructed_share_shell_no_videoinfores.html",
        ),
        ("7303000000000000011", "constructed_login_page.html"),
    ] {
        assert_inconclusive_line(&capture_with(id, file), file);
    }
}
