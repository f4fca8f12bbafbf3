//! Bilibili capture end to end through the real CLI: a loopback server replays the
//! fixtures in `tests/fixtures/bilibili/`, and `[http.hosts]` sends the API, the site,
//! b23.tv and the picture hosts to it. Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture writes down (the uploader,
//! the title, the counts in `stat`), never values copied from samizdat's own output.

use crate::common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("bilibili", name)
}

fn fixture_json(name: &str) -> Value {
    platform_fixture_json("bilibili", name)
}

/// av85440373, one part.
const BV: &str = "BV117411r7R1";
const AID: &str = "85440373";
const VIEW_FIXTURE: &str = "constructed_view_BV117411r7R1.json";
const COVER: &str = "/bfs/archive/ea0dd34bf41e23a68175680a00e3358cd249105f.jpg";

const HOSTS: &[&str] = &[
    "api.bilibili.com",
    "www.bilibili.com",
    "m.bilibili.com",
    "bilibili.com",
    "b23.tv",
    "i0.hdslb.com",
    "i1.hdslb.com",
    "i2.hdslb.com",
    "upos-sz-mirrorcos.bilivideo.com",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    archive_sending(srv, HOSTS)
}

fn view_path(bv: &str) -> String {
    format!("/x/web-interface/view?bvid={bv}")
}

fn reply_path(aid: &str, pn: u32) -> String {
    format!("/x/v2/reply?type=1&oid={aid}&sort=2&ps=20&pn={pn}")
}

fn cover_bytes() -> Vec<u8> {
    b"\xff\xd8\xff\xe0 cover of BV117411r7R1".to_vec()
}

/// A server with the live video: its view answer, its page and its cover. Comments are
/// not routed (the server answers 404): they are unreachable unless a test routes them.
fn video_server(view: Vec<u8>) -> TestServer {
    let srv = server();
    srv.route(&view_path(BV), Resp::json(view));
    srv.route(
        &format!("/video/{BV}/"),
        Resp::html(
            "<!doctype html><html><head><title>video page</title></head><body></body></html>",
        ),
    );
    srv.route(
        COVER,
        Resp::new(200)
            .header("Content-Type", "image/jpeg")
            .body(cover_bytes()),
    );
    srv
}

fn captured(ar: &Path, url: &str) -> (Value, Value) {
    let (code, line, err) = capture_one(ar, url);
    assert_eq!(code, 0, "{url}: {line}\n{err}");
    assert_eq!(line["status"], "captured", "{url}: {line}");
    assert_eq!(line["post_id"], format!("bilibili:{BV}"), "{url}");
    (line, show_post(ar, &format!("bilibili:{BV}")))
}

fn requests_to(srv: &TestServer, path: &str) -> Vec<RecordedRequest> {
    srv.requests()
        .into_iter()
        .filter(|r| r.path == path)
        .collect()
}

/// Never recorded as a post: `show` finds none and `list` lists nothing.
fn no_post(ar: &Path) {
    let (code, out, err) = run_code(
        samizdat(ar)
            .arg("--json")
            .arg("show")
            .arg(format!("bilibili:{BV}")),
    );
    assert_eq!(code, 1, "a post was made: {out}{err}");
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(json_lines(&out).is_empty(), "{out}");
}

#[test]
fn a_live_video_is_captured_with_its_cover_fetched_with_the_referer() {
    let srv = video_server(fixture(VIEW_FIXTURE));
    let (_d, ar) = setup(&srv);
    let (_, p) = captured(
        &ar,
        &format!("https://www.bilibili.com/video/{BV}/?spm_id_from=333.788"),
    );
    let fx = fixture_json(VIEW_FIXTURE);
    let d = &fx["data"];
    assert_eq!(p["url"], format!("https://www.bilibili.com/video/{BV}/"));
    assert_eq!(p["author"]["name"], "陈楒潼桶桶桶");
    assert_eq!(p["author"]["id"], "66606350");
    assert_eq!(p["author"]["url"], "https://space.bilibili.com/66606350");
    assert_eq!(p["title"], d["title"]);
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .contains("编曲（配乐）：Crazy Bucket"),
        "{}",
        p["text"]
    );
    // pubdate 1580377255 is 2020-01-30 09:40:55 UTC, 17:40:55 in Beijing.
    assert_eq!(p["created_at"], "2020-01-30T17:40:55+08:00");
    assert_eq!(p["counts"]["views"], 2404179);
    assert_eq!(p["counts"]["likes"], 161270);
    assert_eq!(p["counts"]["comments"], 2676);
    assert_eq!(p["counts"]["reposts"], 9620);
    assert_eq!(p["state"], "live");
    assert_eq!(p["extra"]["aid"], AID);
    assert_eq!(p["extra"]["pages"].as_array().map(Vec::len), Some(1));
    // The cover: asked over https on its own host, with the Referer, its bytes kept.
    let media = p["media"].as_array().unwrap();
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["url"], format!("https://i1.hdslb.com{COVER}"));
    assert_eq!(
        media[0]["sha256"],
        hex::encode(Sha256::digest(cover_bytes()))
    );
    let got = requests_to(&srv, COVER);
    assert_eq!(got.len(), 1, "the cover fetched once");
    assert_eq!(got[0].header("referer"), Some("https://www.bilibili.com/"));
    // The API was asked with the Referer; the page a person sees was kept.
    let view = requests_to(&srv, &view_path(BV));
    assert_eq!(view.len(), 1);
    assert_eq!(view[0].header("referer"), Some("https://www.bilibili.com/"));
    assert_eq!(srv.hits(&format!("/video/{BV}/")), 1);
    verify_archive(&ar);
}

#[test]
fn a_deleted_video_is_gone_in_bilibilis_words() {
    let srv = server();
    srv.route(
        &view_path(BV),
        Resp::json(fixture("constructed_view_code_-404.json")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://www.bilibili.com/video/{BV}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], "deleted");
    assert_eq!(line["cause"], "unknown");
    assert!(
        line["error"].as_str().unwrap().contains("啥都木有"),
        "{line}"
    );
    assert_eq!(
        srv.hits(&format!("/video/{BV}/")),
        0,
        "nothing after the verdict"
    );
    verify_archive(&ar);
}

/// Risk control answered for the view: never gone, never a post.
fn risk_controlled(answer: Resp, words: &str) {
    let srv = server();
    srv.route(&view_path(BV), answer);
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://b23.tv/{BV}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "{words}: never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(e.contains(words), "{words}: {e}");
    assert!(!e.contains("deleted"), "{e}");
    assert_eq!(srv.hits(&view_path(BV)), 1);
    no_post(&ar);
    verify_archive(&ar);
}

#[test]
fn code_minus_352_is_risk_control_never_deleted() {
    risk_controlled(
        Resp::json(fixture("constructed_view_code_-352.json")),
        "-352",
    );
}

#[test]
fn the_http_412_risk_control_page_is_never_deleted() {
    risk_controlled(
        Resp::new(412)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(fixture("constructed_risk_control_412.html")),
        "risk control",
    );
}

#[test]
fn a_short_link_is_followed_and_every_hop_is_recorded() {
    let srv = video_server(fixture(VIEW_FIXTURE));
    // Two hops: a short code to another, then to the video page with share parameters.
    srv.route(
        "/Xy12Ab",
        Resp::new(302).header("Location", "https://b23.tv/pigt3PQ"),
    );
    srv.route(
        "/pigt3PQ",
        Resp::new(302).header(
            "Location",
            &format!("https://www.bilibili.com/video/{BV}/?share_source=copy_web"),
        ),
    );
    let (_d, ar) = setup(&srv);
    let (line, p) = captured(&ar, "https://b23.tv/Xy12Ab");
    assert_eq!(p["author"]["name"], "陈楒潼桶桶桶", "{line}");
    assert_eq!(srv.hits("/Xy12Ab"), 1);
    assert_eq!(srv.hits("/pigt3PQ"), 1);
    assert_eq!(srv.hits(&view_path(BV)), 1);
    // Each hop is a record of its own: the two redirects and where they ended.
    let cdx = cdxj_index(&warc_files(&ar));
    for (hop, status) in [
        (")/xy12ab ", "302"),
        (")/pigt3pq ", "302"),
        ("?share_source=copy_web ", "404"),
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
fn comments_are_read_page_by_page_with_their_inline_replies() {
    let srv = video_server(fixture(VIEW_FIXTURE));
    srv.route(
        &reply_path(AID, 1),
        Resp::json(fixture("constructed_reply_oid2_page1.json")),
    );
    // Page 2 is empty: the listing ends there.
    srv.route(
        &reply_path(AID, 2),
        Resp::json(
            br#"{"code":0,"message":"0","ttl":1,"data":{"page":{"num":2,"size":5,"count":60971},"replies":[]}}"#
                .to_vec(),
        ),
    );
    let (_d, ar) = setup(&srv);
    let (line, _) = captured(&ar, &format!("https://www.bilibili.com/video/av{AID}"));
    assert_eq!(line["comments"]["status"], "complete", "{line}");
    assert_eq!(
        line["comments"]["listed"], 3,
        "two comments and one reply: {line}"
    );
    assert_eq!(srv.hits(&reply_path(AID, 1)), 1);
    assert_eq!(srv.hits(&reply_path(AID, 2)), 1);
    let got = requests_to(&srv, &reply_path(AID, 1));
    assert_eq!(
        got[0].header("referer"),
        Some(format!("https://www.bilibili.com/video/{BV}/").as_str())
    );
    let v = show_post(&ar, &format!("bilibili:{BV}"));
    let mut all = vec![];
    flat(&v["comments"], 0, &mut all);
    assert_eq!(all.len(), 3, "{all:#?}");
    let find = |id: &str| {
        all.iter()
            .find(|(_, c)| c["id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {all:#?}"))
            .clone()
    };
    let (lvl, top) = find("bilibili:reply/104192624480");
    assert_eq!(lvl, 0);
    assert_eq!(top["author"]["name"], "小鹿不跑路");
    assert!(
        top["text"]
            .as_str()
            .unwrap()
            .starts_with("我赶上了我们这个年龄段二次元的末班车"),
        "{top}"
    );
    assert_eq!(top["thread"]["thread_of"], format!("bilibili:{BV}"));
    let (lvl, reply) = find("bilibili:reply/104200000001");
    assert_eq!(lvl, 1, "the inline reply nests under its comment");
    assert_eq!(reply["thread"]["reply_to"], "bilibili:reply/104192624480");
    assert_eq!(find("bilibili:reply/104184937184").0, 0);
    verify_archive(&ar);
}

#[test]
fn closed_comments_keep_the_video_live() {
    let srv = video_server(fixture(VIEW_FIXTURE));
    srv.route(
        &reply_path(AID, 1),
        Resp::json(fixture("constructed_reply_code_12002.json")),
    );
    let (_d, ar) = setup(&srv);
    let (line, p) = captured(&ar, &format!("https://www.bilibili.com/video/{BV}"));
    assert_eq!(line["comments"]["status"], "closed", "{line}");
    assert!(
        line["comments"]["message"]
            .as_str()
            .unwrap()
            .contains("评论区已关闭"),
        "{line}"
    );
    assert_eq!(p["state"], "live");
    assert_eq!(p["conversation"]["status"], "closed");
    verify_archive(&ar);
}

/// The deletion and visibility words in the video's own title, description and part,
/// and the page full of them, leave a video the API answered with code 0 live, at the
/// capture and at a watch check.
#[test]
fn a_live_video_whose_title_carries_the_deletion_words_is_live() {
    let words = "啥都木有 稿件不可见 稿件审核中 仅UP主自己可见 风控校验失败 -404 62002";
    let mut v = fixture_json(VIEW_FIXTURE);
    v["data"]["title"] = format!("{words}？").into();
    v["data"]["desc"] = format!("这个视频：{words}").into();
    v["data"]["pages"][0]["part"] = words.into();
    let srv = video_server(serde_json::to_vec(&v).unwrap());
    srv.route(
        &format!("/video/{BV}/"),
        Resp::html(format!(
            "<!doctype html><html><head><title>{words}</title><script>window.__INITIAL_STATE__={{\"error\":{{\"code\":-404,\"message\":\"啥都木有\"}}}}</script></head><body><div class=\"error-text\">{words}</div></body></html>"
        )),
    );
    let (_d, ar) = setup(&srv);
    let url = format!("https://www.bilibili.com/video/{BV}");
    let (_, p) = captured(&ar, &url);
    assert_eq!(p["state"], "live");
    assert!(p["title"].as_str().unwrap().contains("啥都木有"), "{p}");
    assert_live_at_watch_checks(&ar, &url, &format!("bilibili:{BV}"));
    verify_archive(&ar);
}

/// `SAMIZDAT_NOW` for the watch tests: the WBI signature's `wts` is 1772366400.
const WATCH_NOW: &str = "2026-03-01T12:00:00Z";
/// The signed listing of uploader 66606350 at [`WATCH_NOW`], with the keys of
/// `constructed_nav_anonymous.json`: the `w_rid` was computed with Python's hashlib by
/// the algorithm of bilibili-API-collect `docs/misc/sign/wbi.md`, not by samizdat.
const SPACE_SIGNED: &str = "/x/space/wbi/arc/search?mid=66606350&order=pubdate&pn=1&ps=30&wts=1772366400&w_rid=febea641503d05ed89f49bef1c8bd0f9";
const SPACE: &str = "https://space.bilibili.com/66606350/video";

fn space_server() -> TestServer {
    let srv = video_server(fixture(VIEW_FIXTURE));
    srv.route(
        "/x/web-interface/nav",
        Resp::json(fixture("constructed_nav_anonymous.json")),
    );
    srv.route(
        SPACE_SIGNED,
        Resp::json(fixture("constructed_space_66606350.json")),
    );
    srv
}

#[test]
fn an_uploader_is_watched_through_the_wbi_signed_listing_of_their_videos() {
    let srv = space_server();
    let (_d, ar) = setup(&srv);
    let out = run_ok(samizdat(&ar).env("SAMIZDAT_NOW", WATCH_NOW).args([
        "--json",
        "watch",
        "add",
        SPACE,
        "--backfill",
        "1",
    ]));
    let l = json_lines(&String::from_utf8_lossy(&out.stdout));
    let polled = l.iter().find(|r| r["action"] == "polled").expect("polled");
    assert!(
        polled["message"]
            .as_str()
            .unwrap()
            .starts_with("1 listed: 1 new"),
        "{polled}"
    );
    let captured: Vec<&Value> = l.iter().filter(|r| r["action"] == "captured").collect();
    assert_eq!(captured.len(), 1, "{l:?}");
    assert_eq!(
        captured[0]["url"],
        format!("https://www.bilibili.com/video/{BV}/")
    );
    // The listing was asked once, signed, with the space as its Referer; the video was
    // then captured through the view API like any other.
    assert_eq!(srv.hits(SPACE_SIGNED), 1);
    let listing = requests_to(&srv, SPACE_SIGNED);
    assert_eq!(
        listing[0].header("referer"),
        Some("https://space.bilibili.com/66606350/video")
    );
    assert_eq!(srv.hits(&view_path(BV)), 1);
    let p = show_post(&ar, &format!("bilibili:{BV}"));
    assert_eq!(p["author"]["id"], "66606350");
    let wl = json_lines(&String::from_utf8_lossy(
        &run_ok(samizdat(&ar).args(["--json", "watch", "list"])).stdout,
    ));
    assert!(
        wl.iter()
            .any(|w| w["kind"] == "account" && w["url"] == "https://space.bilibili.com/66606350"),
        "{wl:?}"
    );
    verify_archive(&ar);
}

#[test]
fn a_risk_controlled_listing_is_a_failing_poll_never_an_empty_or_gone_account() {
    let srv = space_server();
    let (_d, ar) = setup(&srv);
    run_ok(samizdat(&ar).env("SAMIZDAT_NOW", WATCH_NOW).args([
        "watch",
        "add",
        SPACE,
        "--backfill",
        "1",
    ]));
    for body in [
        fixture("constructed_view_code_-352.json"),
        fixture("constructed_space_v_voucher.json"),
    ] {
        srv.route(SPACE_SIGNED, Resp::json(body));
        let (code, out, err) = run_code(
            samizdat(&ar)
                .env("SAMIZDAT_NOW", WATCH_NOW)
                .args(["--json", "watch", "check", SPACE]),
        );
        let l = json_lines(&out);
        assert!(
            out.contains("unreachable") && !out.contains("account_gone"),
            "{code}\n{out}\n{err}"
        );
        assert!(
            l.iter().all(|r| r["action"] != "captured"),
            "nothing new from a refused listing: {out}"
        );
    }
    // The video captured before stays live: nothing was concluded about it.
    let p = show_post(&ar, &format!("bilibili:{BV}"));
    assert_ne!(p["state"], "deleted", "{p}");
}

/// The signed stream request of BV117411r7R1's first part at [`WATCH_NOW`] (the `w_rid`
/// computed with Python's hashlib, as above).
const PLAY_SIGNED: &str = "/x/player/wbi/playurl?bvid=BV117411r7R1&cid=146044693&fnval=1&fnver=0&fourk=0&qn=80&wts=1772366400&w_rid=97d8914687f5594ff54af9f485915f19";

#[test]
fn a_capture_fetches_the_video_stream_signed_with_wbi_and_with_the_referer() {
    let srv = space_server();
    srv.route(
        PLAY_SIGNED,
        Resp::json(fixture("constructed_playurl_BV117411r7R1.json")),
    );
    let play = fixture_json("constructed_playurl_BV117411r7R1.json");
    let stream_url = url::Url::parse(play["data"]["durl"][0]["url"].as_str().unwrap()).unwrap();
    let stream_path = format!("{}?{}", stream_url.path(), stream_url.query().unwrap());
    let video = b"\x00\x00\x00\x18ftypmp42 the first part of BV117411r7R1".to_vec();
    srv.route(
        &stream_path,
        Resp::new(200)
            .header("Content-Type", "video/mp4")
            .body(video.clone()),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = {
        let (code, out, err) = run_code(samizdat(&ar).env("SAMIZDAT_NOW", WATCH_NOW).args([
            "--json",
            "capture",
            &format!("https://www.bilibili.com/video/{BV}/"),
        ]));
        (code, json_lines(&out).remove(0), err)
    };
    assert_eq!(code, 0, "{line}\n{err}");
    assert_eq!(srv.hits(PLAY_SIGNED), 1, "the stream was asked, signed");
    let asked = requests_to(&srv, &stream_path);
    assert_eq!(asked.len(), 1, "the video fetched once");
    assert_eq!(
        asked[0].header("referer"),
        Some("https://www.bilibili.com/")
    );
    let p = show_post(&ar, &format!("bilibili:{BV}"));
    let v = p["media"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "video")
        .unwrap_or_else(|| panic!("no video in {p}"));
    assert_eq!(
        v["sha256"].as_str().unwrap(),
        hex::encode(Sha256::digest(&video)),
        "{v}"
    );
    assert_eq!(p["extra"]["video_streams"]["quality"], 32);
    verify_archive(&ar);
}

#[test]
fn every_video_url_form_captures_the_one_post() {
    for url in [
        format!("https://www.bilibili.com/video/{BV}/?spm_id_from=333.788"),
        format!("https://bilibili.com/video/{BV}"),
        format!("https://m.bilibili.com/video/{BV}"),
        format!("https://www.bilibili.com/s/video/{BV}"),
        format!("https://www.bilibili.com/video/av{AID}?p=1"),
        format!("https://www.bilibili.com/video/AV{AID}/"),
        format!("https://b23.tv/{BV}"),
        format!("https://b23.tv/av{AID}"),
    ] {
        let srv = video_server(fixture(VIEW_FIXTURE));
        let (_d, ar) = setup(&srv);
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], format!("bilibili:{BV}"), "{url}: {line}");
        assert_eq!(srv.hits(&view_path(BV)), 1, "{url}");
    }
}

#[test]
fn every_view_code_the_reader_knows_is_recorded_in_bilibilis_words() {
    for (file, outcome, cause, words) in [
        (
            "constructed_view_code_62002.json",
            "restricted",
            "",
            "稿件不可见",
        ),
        (
            "constructed_view_code_62004.json",
            "restricted",
            "",
            "稿件审核中",
        ),
        (
            "constructed_view_code_62012.json",
            "restricted",
            "author",
            "仅UP主自己可见",
        ),
        (
            "constructed_view_code_-404.json",
            "deleted",
            "unknown",
            "啥都木有",
        ),
    ] {
        let srv = server();
        srv.route(&view_path(BV), Resp::json(fixture(file)));
        let (_d, ar) = setup(&srv);
        let got = capture_one(&ar, &format!("https://www.bilibili.com/video/{BV}"));
        assert_gone_line(&got, outcome, cause, words, file);
    }
    for file in [
        "constructed_view_code_-412.json",
        "constructed_view_code_-403.json",
    ] {
        let srv = server();
        srv.route(&view_path(BV), Resp::json(fixture(file)));
        let (_d, ar) = setup(&srv);
        let got = capture_one(&ar, &format!("https://www.bilibili.com/video/{BV}"));
        assert_inconclusive_line(&got, file);
    }
}

const DYN: &str = "967717348014293017";
const DYN_DETAIL: &str =
    "/x/polymer/web-dynamic/v1/detail?id=967717348014293017&features=itemOpusStyle";
const DYN_PIC: &str = "/bfs/new_dyn/0f6f939334104ddc347566514fa4bfa7645769214.jpg";

#[test]
fn a_dynamic_is_captured_from_every_url_form_with_the_device_id_and_its_picture() {
    for url in [
        format!("https://t.bilibili.com/{DYN}?share_source=pc_native"),
        format!("https://www.bilibili.com/opus/{DYN}"),
        format!("https://m.bilibili.com/dynamic/{DYN}"),
    ] {
        let srv = server();
        srv.route(
            "/x/frontend/finger/spi",
            Resp::json(fixture("constructed_spi.json")),
        );
        srv.route(
            DYN_DETAIL,
            Resp::json(fixture("constructed_dynamic_967717348014293017.json")),
        );
        srv.route(
            &format!("/{DYN}"),
            Resp::html("<html><title>动态</title></html>"),
        );
        srv.route(
            DYN_PIC,
            Resp::new(200)
                .header("Content-Type", "image/jpeg")
                .body(b"\xff\xd8\xff\xe0 dynamic picture".to_vec()),
        );
        let (_d, ar) = archive_sending(&srv, &[HOSTS, &["t.bilibili.com"]].concat());
        let (code, line, err) = capture_one(&ar, &url);
        assert_eq!(code, 0, "{url}: {line}\n{err}");
        assert_eq!(line["post_id"], format!("bilibili:dynamic/{DYN}"), "{url}");
        // The detail was asked with the device id the spi answer gave, as a cookie.
        let spi = fixture_json("constructed_spi.json");
        let detail = requests_to(&srv, DYN_DETAIL);
        assert_eq!(detail.len(), 1, "{url}");
        assert_eq!(
            detail[0].header("cookie").map(str::to_string),
            Some(format!("buvid3={}", spi["data"]["b_3"].as_str().unwrap())),
            "{url}"
        );
        let p = show_post(&ar, &format!("bilibili:dynamic/{DYN}"));
        assert_eq!(p["author"]["name"], "Session小胡");
        assert_eq!(p["counts"]["comments"], 34);
        let pic = requests_to(&srv, DYN_PIC);
        assert_eq!(pic.len(), 1, "{url}: the picture fetched once");
        assert_eq!(pic[0].header("referer"), Some("https://www.bilibili.com/"));
        verify_archive(&ar);
    }
}

#[test]
fn a_dynamic_the_api_will_not_show_is_never_called_gone() {
    let srv = server();
    srv.route(
        "/x/frontend/finger/spi",
        Resp::json(fixture("constructed_spi.json")),
    );
    srv.route(
        DYN_DETAIL,
        Resp::json(
            r#"{"code":4101131,"message":"内容不存在","ttl":1}"#
                .as_bytes()
                .to_vec(),
        ),
    );
    let (_d, ar) = archive_sending(&srv, &[HOSTS, &["t.bilibili.com"]].concat());
    let got = capture_one(&ar, &format!("https://t.bilibili.com/{DYN}"));
    assert_inconclusive_line(&got, "4101131");
    assert!(
        got.1["error"].as_str().unwrap().contains("4101131"),
        "{}",
        got.1
    );
}
