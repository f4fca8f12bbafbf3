//! Weibo capture end to end through the real CLI: a loopback server replays the fixtures
//! in `tests/fixtures/weibo/`, and `[http.hosts]` sends every Weibo, sinaimg, video,
//! short-link and passport host to it. Nothing here reaches the internet.
//!
//! The expected values are what a person reading the fixture would write down (the
//! author's screen name, the date, the pictures listed in `pics`), never values copied
//! from samizdat's own output.

use crate::common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    platform_fixture("weibo", name)
}

fn fixture_json(name: &str) -> Value {
    platform_fixture_json("weibo", name)
}

const UID: &str = "6279793937";
/// Long post with a video (`isLongText`, `page_info.type == "video"`).
const LONG: &str = "4645748019299849";
const LONG_BID: &str = "Kjc77D1jz";
/// Four pictures (one jpg, three gifs).
const PICS: &str = "4646917039199914";
const PICS_BID: &str = "KjGwDCBjI";
/// A repost of LONG.
const REPOST: &str = "4648806186747944";
/// 13 pictures (`pic_num`), nine listed, another account.
const NINE: &str = "4655401851422792";
/// A mid with no fixture of its own, for the markers.
const OTHER: &str = "4649031014551911";

/// Every host the fixtures and the Weibo reader use.
const HOSTS: &[&str] = &[
    "m.weibo.cn",
    "weibo.com",
    "www.weibo.com",
    "weibo.cn",
    "t.cn",
    "share.api.weibo.cn",
    "wx1.sinaimg.cn",
    "wx2.sinaimg.cn",
    "wx3.sinaimg.cn",
    "wx4.sinaimg.cn",
    "h5.sinaimg.cn",
    "f.video.weibocdn.com",
    "passport.weibo.com",
    "passport.weibo.cn",
    "visitor.passport.weibo.cn",
    "login.sina.com.cn",
];

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let mut toml = String::from(
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n[http.hosts]\n",
    );
    for h in HOSTS {
        toml.push_str(&format!("{h:?} = {:?}\n", srv.base_url()));
    }
    write_config(&ar, &toml);
    (dir, ar)
}

/// The bytes served for a picture or video path: distinct per path.
fn media_bytes(path: &str) -> Vec<u8> {
    format!("media bytes of {path}").into_bytes()
}

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The `large` URLs a person finds in a fixture's `pics` (array or object).
fn fixture_pics(m: &Value) -> Vec<String> {
    let list: Vec<Value> = match &m["pics"] {
        Value::Array(a) => a.clone(),
        Value::Object(o) => {
            let mut v: Vec<(u64, Value)> = o
                .iter()
                .map(|(k, v)| (k.parse().unwrap(), v.clone()))
                .collect();
            v.sort_by_key(|x| x.0);
            v.into_iter().map(|x| x.1).collect()
        }
        _ => vec![],
    };
    list.iter()
        .map(|p| p["large"]["url"].as_str().unwrap().to_string())
        .collect()
}

fn path_and_query(u: &str) -> String {
    let u = url::Url::parse(u).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// Routes a statuses/show answer and its pictures and video.
fn route_show(srv: &TestServer, mid: &str, body: Vec<u8>) {
    let v: Value = serde_json::from_slice(&body).unwrap();
    srv.route(&format!("/statuses/show?id={mid}"), Resp::json(body));
    for m in [&v["data"], &v["data"]["retweeted_status"]] {
        for u in fixture_pics(m) {
            let p = path_and_query(&u);
            srv.route(
                &p,
                Resp::new(200)
                    .header("Content-Type", "image/jpeg")
                    .body(media_bytes(&p)),
            );
        }
        if let Some(u) = m["page_info"]["urls"]["mp4_720p_mp4"].as_str() {
            let p = path_and_query(u);
            srv.route(
                &p,
                Resp::new(200)
                    .header("Content-Type", "video/mp4")
                    .body(media_bytes(&p)),
            );
        }
    }
}

/// A small `/detail/` page for posts without a detail fixture.
fn plain_page(mid: &str) -> Resp {
    Resp::html(format!(
        "<!doctype html><html><head><title>微博正文</title></head><body>{mid}</body></html>"
    ))
}

/// A server replaying every live-post fixture.
fn weibo_server() -> TestServer {
    let srv = server();
    for mid in [LONG, PICS, REPOST, NINE] {
        route_show(
            &srv,
            mid,
            fixture(&format!("constructed_statuses_show_{mid}.json")),
        );
        srv.route(&format!("/status/{mid}"), plain_page(mid));
        if mid != LONG {
            srv.route(&format!("/detail/{mid}"), plain_page(mid));
        }
    }
    srv.route(
        &format!("/detail/{LONG}"),
        Resp::html(fixture(&format!("constructed_detail_{LONG}.html"))),
    );
    srv.route(
        &format!("/statuses/extend?id={LONG}"),
        Resp::json(fixture(&format!("m_statuses_extend_{LONG}.json"))),
    );
    // Short and share links.
    srv.route(
        "/A6TestLk",
        Resp::new(302).header("Location", &format!("https://m.weibo.cn/status/{LONG}")),
    );
    srv.route(
        &format!("/share/1234567,{PICS}.html"),
        Resp::new(302).header("Location", &format!("https://m.weibo.cn/status/{PICS}")),
    );
    srv
}

fn captured(ar: &Path, url: &str, mid: &str) -> Value {
    let (code, line, err) = capture_one(ar, url);
    assert_eq!(code, 0, "{url}: {line}\n{err}");
    assert_eq!(line["status"], "captured", "{url}: {line}");
    assert_eq!(line["post_id"], format!("weibo:{mid}"), "{url}");
    show_post(ar, &format!("weibo:{mid}"))
}

fn requests_to<'a>(reqs: &'a [RecordedRequest], path: &str) -> Vec<&'a RecordedRequest> {
    reqs.iter().filter(|r| r.path == path).collect()
}

/// Every picture listed in the fixture was fetched at /large/ with the Referer, and its
/// digest is the digest of the bytes served.
fn assert_pictures(srv: &TestServer, post: &Value, fixture_mblog: &Value) {
    let want = fixture_pics(fixture_mblog);
    let media: Vec<&Value> = post["media"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] != "video")
        .collect();
    assert_eq!(media.len(), want.len(), "{:#}", post["media"]);
    let reqs = srv.requests();
    for (m, u) in media.iter().zip(&want) {
        assert_eq!(m["url"], *u);
        assert!(u.contains("/large/"), "{u}");
        let p = path_and_query(u);
        let got = requests_to(&reqs, &p);
        assert_eq!(got.len(), 1, "{p} fetched once");
        assert_eq!(got[0].header("referer"), Some("https://weibo.com/"), "{p}");
        assert_eq!(m["sha256"], sha_hex(&media_bytes(&p)), "{p}");
        assert!(
            m["record_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("<urn:uuid:")),
            "{m}"
        );
    }
    if u_ends_gif(&want) {
        assert!(media.iter().any(|m| m["kind"] == "gif"), "gifs are gifs");
    }
}

fn u_ends_gif(urls: &[String]) -> bool {
    urls.iter().any(|u| u.ends_with(".gif"))
}

#[test]
fn weibo_com_uid_bid_captures_pictures_with_referer() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://weibo.com/{UID}/{PICS_BID}"), PICS);
    let fx = fixture_json(&format!("constructed_statuses_show_{PICS}.json"));
    assert_eq!(p["author"]["name"], "明日方舟Arknights");
    assert_eq!(p["author"]["id"], UID);
    assert_eq!(p["created_at"], "2021-06-11T15:00:20+08:00");
    assert_eq!(p["created_at_raw"], "Fri Jun 11 15:00:20 +0800 2021");
    assert_eq!(p["url"], format!("https://weibo.com/{UID}/{PICS_BID}"));
    assert!(
        p["text"].as_str().unwrap().starts_with("#明日方舟#"),
        "{}",
        p["text"]
    );
    assert_eq!(fixture_pics(&fx["data"]).len(), 4);
    assert_pictures(&srv, &p, &fx["data"]);
    assert_eq!(p["counts"]["reposts"], 813);
    assert_eq!(p["counts"]["comments"], 707);
    assert_eq!(p["counts"]["likes"], 28729);
    assert_eq!(p["state"], "live");
    // statuses/show was asked the way m.weibo.cn asks it.
    let reqs = srv.requests();
    let show = requests_to(&reqs, &format!("/statuses/show?id={PICS}"));
    assert_eq!(show.len(), 1);
    assert_eq!(show[0].header("x-requested-with"), Some("XMLHttpRequest"));
    assert!(show[0].header("cookie").is_none(), "anonymous first");
    verify_archive(&ar);
}

#[test]
fn weibo_com_uid_mid_captures_long_text_and_video() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://weibo.com/{UID}/{LONG}"), LONG);
    let text = p["text"].as_str().unwrap();
    // Only statuses/extend has the whole text: the numbered list and the closing line.
    let show_text = fixture_json(&format!("constructed_statuses_show_{LONG}.json"))["data"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !show_text.contains("三、明日方舟音律联觉主题黑胶礼盒"),
        "fixture premise"
    );
    assert!(
        text.contains("三、明日方舟音律联觉主题黑胶礼盒现已上架"),
        "{text}"
    );
    assert!(text.contains("开奖后奖品会在出货后寄出。"), "{text}");
    assert!(!text.contains('<'), "plain text: {text}");
    assert!(!p["extra"]["text_truncated"].as_bool().unwrap_or(false));
    // The sinaurl link is unwrapped in the HTML.
    let html = p["html"].as_str().unwrap();
    assert!(html.contains("http://mrfz.biligame.com/yllj/"), "{html}");
    assert!(!html.contains("sinaurl"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(p["created_at"], "2021-06-08T09:35:04+08:00");
    assert_eq!(p["created_at_raw"], "Tue Jun 08 09:35:04 +0800 2021");
    assert_eq!(p["extra"]["edit_count"], 2);
    assert_eq!(p["counts"]["likes"], 37053);
    // The video: the 720p stream, fetched with the m.weibo.cn Referer.
    let fx = fixture_json(&format!("constructed_statuses_show_{LONG}.json"));
    let vurl = fx["data"]["page_info"]["urls"]["mp4_720p_mp4"]
        .as_str()
        .unwrap();
    let videos: Vec<&Value> = p["media"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "video")
        .collect();
    assert_eq!(videos.len(), 1, "{:#}", p["media"]);
    assert_eq!(videos[0]["url"], vurl);
    let vp = path_and_query(vurl);
    assert_eq!(videos[0]["sha256"], sha_hex(&media_bytes(&vp)));
    let reqs = srv.requests();
    let got = requests_to(&reqs, &vp);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("referer"), Some("https://m.weibo.cn/"));
    assert_eq!(srv.hits(&format!("/statuses/extend?id={LONG}")), 1);
    assert_eq!(
        srv.hits(&format!("/detail/{LONG}")),
        1,
        "the page a person sees is kept"
    );
    verify_archive(&ar);
}

#[test]
fn weibo_com_detail_captures_a_repost_and_show_renders_it() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://weibo.com/detail/{REPOST}"), REPOST);
    assert_eq!(p["author"]["name"], "明日方舟Arknights");
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .starts_with("恭喜@黄防护服黄 等10名用户获得【音律联觉主题黑胶礼盒各一套】"),
        "{}",
        p["text"]
    );
    assert_eq!(p["created_at"], "2021-06-16T20:07:07+08:00");
    let orig = &p["repost_of"];
    assert_eq!(orig["id"], format!("weibo:{LONG}"));
    assert_eq!(orig["author"]["name"], "明日方舟Arknights");
    assert!(
        orig["text"]
            .as_str()
            .unwrap()
            .contains("2021明日方舟音律联觉Ambience Synesthesia专场演出"),
        "{}",
        orig["text"]
    );
    assert_eq!(orig["created_at"], "2021-06-08T09:35:04+08:00");
    // The original's video is fetched too.
    let ov: Vec<&Value> = orig["media"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "video")
        .collect();
    assert_eq!(ov.len(), 1);
    assert!(ov[0]["sha256"].is_string(), "{}", ov[0]);

    let out = run_ok(
        samizdat(&ar)
            .arg("show")
            .arg(format!("https://m.weibo.cn/status/{REPOST}")),
    );
    // The post is the result: on stdout (docs/cli.md).
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(text.contains("明日方舟Arknights"), "{text}");
    assert!(
        text.contains("恭喜@黄防护服黄 等10名用户获得【音律联觉主题黑胶礼盒各一套】"),
        "{text}"
    );
    assert!(text.contains("reposting:"), "{text}");
    assert!(text.contains("#明日方舟# #音律联觉#"), "{text}");
    assert!(!text.contains("<a"), "no markup in the terminal: {text}");
    assert!(!text.contains("\\u"), "no escapes: {text}");
    // The repost comes before the original, indented.
    let i = text.find("恭喜").unwrap();
    let j = text.find("reposting:").unwrap();
    let k = text.find("2021明日方舟音律联觉").unwrap();
    assert!(i < j && j < k, "{text}");
    verify_archive(&ar);
}

#[test]
fn m_weibo_cn_detail_captures_the_nine_listed_pictures() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://m.weibo.cn/detail/{NINE}"), NINE);
    let fx = fixture_json(&format!("constructed_statuses_show_{NINE}.json"));
    assert_eq!(p["author"]["name"], "余霜YSCandice");
    assert!(
        p["text"].as_str().unwrap().starts_with("晚安啦！[心]"),
        "{}",
        p["text"]
    );
    assert_eq!(p["created_at"], "2021-07-05T00:55:57+08:00");
    assert_eq!(fixture_pics(&fx["data"]).len(), 9);
    assert_pictures(&srv, &p, &fx["data"]);
    assert_eq!(p["extra"]["pic_num"], 13);
    verify_archive(&ar);
}

#[test]
fn m_weibo_cn_status_by_bid_and_by_mid() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let a = captured(&ar, &format!("https://m.weibo.cn/status/{LONG_BID}"), LONG);
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("开奖后奖品会在出货后寄出。")
    );
    let b = captured(&ar, &format!("https://m.weibo.cn/status/{PICS}"), PICS);
    assert_eq!(b["media"].as_array().unwrap().len(), 4);
    // Both forms are found again by `show`.
    assert_eq!(
        show_post(&ar, &format!("https://weibo.com/{UID}/{LONG_BID}"))["id"],
        format!("weibo:{LONG}")
    );
    verify_archive(&ar);
}

#[test]
fn short_and_share_links_are_followed_to_the_post() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let a = captured(&ar, "https://t.cn/A6TestLk", LONG);
    assert_eq!(a["author"]["name"], "明日方舟Arknights");
    let b = captured(
        &ar,
        &format!("https://share.api.weibo.cn/share/1234567,{PICS}.html"),
        PICS,
    );
    assert_eq!(b["created_at"], "2021-06-11T15:00:20+08:00");
    assert_eq!(srv.hits("/A6TestLk"), 1);
    assert_eq!(srv.hits(&format!("/statuses/show?id={LONG}")), 1);
    assert_eq!(srv.hits(&format!("/statuses/show?id={PICS}")), 1);
    // The hops are in the archive.
    let cdx = cdxj_index(&warc_files(&ar));
    assert!(cdx.contains("A6TestLk"), "{cdx}");
    verify_archive(&ar);
}

#[test]
fn a_user_url_is_an_account_not_a_post() {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    for u in [
        format!("https://weibo.com/u/{UID}"),
        format!("https://m.weibo.cn/u/{UID}"),
    ] {
        let (code, line, err) = capture_one(&ar, &u);
        assert_eq!(code, 1, "{line}\n{err}");
        assert_eq!(line["status"], "failed");
        let e = line["error"].as_str().unwrap();
        assert!(e.contains("account") && e.contains("watch"), "{e}");
        assert!(line["outcome"].is_null(), "{line}");
    }
    assert!(
        srv.requests().is_empty(),
        "nothing fetched for an account: {:?}",
        srv.requests()
    );
}

#[test]
fn counts_with_units_keep_the_raw_values() {
    let srv = weibo_server();
    let mut v = fixture_json(&format!("constructed_statuses_show_{PICS}.json"));
    v["data"]["attitudes_count"] = "100万+".into();
    v["data"]["comments_count"] = "1.2万".into();
    route_show(&srv, PICS, serde_json::to_vec(&v).unwrap());
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://weibo.com/{UID}/{PICS_BID}"), PICS);
    assert_eq!(p["counts"]["likes"], 1_000_000);
    assert_eq!(p["counts"]["comments"], 12_000);
    assert_eq!(p["counts"]["reposts"], 813);
    assert_eq!(p["counts"]["raw"]["likes"], "100万+");
    assert_eq!(p["counts"]["raw"]["comments"], "1.2万");
    verify_archive(&ar);
}

#[test]
fn pics_as_an_object_are_read_too() {
    let srv = weibo_server();
    route_show(
        &srv,
        PICS,
        fixture(&format!(
            "constructed_statuses_show_pics_object_{PICS}.json"
        )),
    );
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://m.weibo.cn/detail/{PICS}"), PICS);
    let fx = fixture_json(&format!(
        "constructed_statuses_show_pics_object_{PICS}.json"
    ));
    assert!(fx["data"]["pics"].is_object(), "fixture premise");
    assert_pictures(&srv, &p, &fx["data"]);
    verify_archive(&ar);
}

// ---------------------------------------------------------------------------------------
// Markers

#[test]
fn a_deleted_post_is_gone_with_the_platforms_words() {
    let srv = server();
    srv.route(
        &format!("/statuses/show?id={OTHER}"),
        Resp::json(fixture("constructed_statuses_show_ok0_20101.json")),
    );
    srv.route(
        &format!("/detail/{OTHER}"),
        Resp::html(fixture("constructed_detail_gone.html")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://m.weibo.cn/detail/{OTHER}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "gone", "{line}");
    assert_eq!(line["outcome"], "deleted");
    assert_eq!(line["cause"], "unknown");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("微博不存在或暂无查看权限"),
        "{line}"
    );
    assert_eq!(
        srv.hits(&format!("/detail/{OTHER}")),
        1,
        "ok:0 is confirmed by the page"
    );
    verify_archive(&ar);
}

/// A wall: statuses/show and the page answer `show` and `page`; the visitor flow gives
/// cookies, and the wall stays.
fn walled(show: Resp, page: Resp, signal: &str) {
    let srv = server();
    srv.route(&format!("/statuses/show?id={OTHER}"), show);
    srv.route(&format!("/detail/{OTHER}"), page);
    srv.route(
        "/visitor/visitor?entry=miniblog",
        Resp::html("<html><title>Sina Visitor System</title></html>"),
    );
    srv.route(
        "/visitor/genvisitor2",
        Resp::new(200)
            .header("Content-Type", "application/javascript")
            .body(fixture("constructed_visitor_genvisitor2.txt")),
    );
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://weibo.com/{UID}/{OTHER}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed", "{signal}: never gone: {line}");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(e.contains("could not be reached"), "{e}");
    assert!(e.contains(signal), "{signal}: {e}");
    assert!(!e.contains("deleted"), "{e}");
    // Anonymous, then with the visitor cookies: two asks of statuses/show.
    let reqs = srv.requests();
    let shows = requests_to(&reqs, &format!("/statuses/show?id={OTHER}"));
    assert_eq!(shows.len(), 2, "{reqs:?}");
    assert!(shows[0].header("cookie").is_none());
    assert!(
        shows[1]
            .header("cookie")
            .is_some_and(|c| c.contains("SUB=")),
        "{:?}",
        shows[1]
    );
    assert_eq!(srv.hits("/visitor/genvisitor2"), 1);
    // Never recorded as a post, so never as gone: `show` finds no post (exit 1, named),
    // `list` lists nothing, and no post record was written.
    let (code, out, err) = run_code(
        samizdat(&ar)
            .arg("--json")
            .arg("show")
            .arg(format!("weibo:{OTHER}")),
    );
    assert_eq!(
        code, 1,
        "{signal}: a walled capture made a post: {out}{err}"
    );
    let e: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        e["error"].as_str().is_some_and(|m| m.contains("no post")),
        "{e}"
    );
    let (code, out, err) = run_code(samizdat(&ar).args(["--json", "list"]));
    assert_eq!(code, 0, "{err}");
    assert!(json_lines(&out).is_empty(), "{signal}: {out}");
    assert_eq!(
        line["record_ids"].as_array().map(|r| r.is_empty()),
        Some(false),
        "{line}"
    );
    // What was asked and answered is kept as evidence of the wall: every exchange's
    // records are in the archive, and it verifies.
    let (code, out, err) = run_code(samizdat(&ar).args(["--json", "verify"]));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let n = line["record_ids"].as_array().unwrap().len() as u64;
    assert_eq!(
        v["records"].as_u64(),
        Some(n),
        "{signal}: the failed capture's records (its file's warcinfo and the exchanges), nothing else: {v} {line}"
    );
    assert_eq!(
        line["leaf_indexes"],
        serde_json::json!([0, n - 1]),
        "{line}"
    );
    verify_archive(&ar);
}

fn to_passport() -> Resp {
    Resp::new(302).header(
        "Location",
        "https://passport.weibo.com/visitor/visitor?entry=miniblog",
    )
}

#[test]
fn ok_minus_100_is_unreachable() {
    walled(
        Resp::json(fixture("constructed_statuses_show_ok-100.json")),
        to_passport(),
        "ok:-100",
    );
}

#[test]
fn http_432_is_unreachable() {
    walled(
        Resp::new(432).body("risk control"),
        Resp::new(432).body("risk control"),
        "HTTP 432",
    );
}

#[test]
fn http_418_is_unreachable() {
    walled(Resp::new(418).body(""), Resp::new(418).body(""), "HTTP 418");
}

#[test]
fn a_redirect_to_passport_is_unreachable() {
    walled(to_passport(), to_passport(), "passport.weibo.com");
}

#[test]
fn a_changed_shape_is_an_extraction_error_and_the_answer_is_kept() {
    let srv = server();
    let body = fixture("constructed_statuses_show_missing_id.json");
    srv.route(
        &format!("/statuses/show?id={OTHER}"),
        Resp::json(body.clone()),
    );
    srv.route(&format!("/detail/{OTHER}"), plain_page(OTHER));
    let (_d, ar) = setup(&srv);
    let (code, line, err) = capture_one(&ar, &format!("https://m.weibo.cn/status/{OTHER}"));
    assert_eq!(code, 1, "{line}\n{err}");
    assert_eq!(line["status"], "failed");
    assert!(line["outcome"].is_null(), "{line}");
    let e = line["error"].as_str().unwrap();
    assert!(e.contains("statuses/show") && e.contains("data.id"), "{e}");
    // The raw answer is in the archive, byte for byte.
    let mut found = false;
    for f in warc_files(&ar) {
        for m in samizdat::store::warc::MemberReader::open(&f, 0).unwrap() {
            let r = samizdat::store::warc::parse_record(&m.unwrap().bytes).unwrap();
            if r.warc_type() == "response"
                && r.target_uri()
                    .is_some_and(|u| u.contains("/statuses/show?id="))
            {
                assert_eq!(r.payload(), &body[..]);
                found = true;
            }
        }
    }
    assert!(found, "statuses/show answer kept");
    verify_archive(&ar);
}

#[test]
fn a_repost_whose_original_was_deleted_by_its_author() {
    let srv = weibo_server();
    route_show(
        &srv,
        REPOST,
        fixture("constructed_statuses_show_repost_original_deleted_by_author.json"),
    );
    let (_d, ar) = setup(&srv);
    let p = captured(&ar, &format!("https://weibo.com/detail/{REPOST}"), REPOST);
    assert_eq!(p["extra"]["original_state"]["outcome"], "deleted");
    assert_eq!(p["extra"]["original_state"]["cause"], "author");
    assert!(
        p["repost_of"]["text"]
            .as_str()
            .unwrap()
            .contains("此微博已被作者删除"),
        "{}",
        p["repost_of"]
    );
    verify_archive(&ar);
}

/// Weibo gives no reason on a deleted post's own URL; samizdat re-reads a repost it holds,
/// whose embedded original carries the platform's words (see `src/platforms/weibo.rs`).
#[test]
fn a_deleted_post_learns_its_cause_from_a_stored_repost() {
    learns_cause_from_repost(
        "constructed_statuses_show_repost_original_deleted_by_author.json",
        "author",
        "此微博已被作者删除",
    );
}

/// The same, when the platform removed it: what the UI calls censored.
#[test]
fn a_post_removed_by_the_platform_is_deleted_with_cause_platform() {
    learns_cause_from_repost(
        "constructed_statuses_show_repost_original_reported.json",
        "platform",
        "已被删除",
    );
}

fn learns_cause_from_repost(repost_fixture: &str, want_cause: &str, marker: &str) {
    let srv = weibo_server();
    let (_d, ar) = setup(&srv);
    let original = format!("https://m.weibo.cn/detail/{LONG}");
    captured(&ar, &original, LONG);
    let repost = captured(&ar, &format!("https://m.weibo.cn/detail/{REPOST}"), REPOST);
    assert_eq!(repost["repost_of"]["id"], format!("weibo:{LONG}"));
    run_ok(
        samizdat(&ar)
            .env("SAMIZDAT_NOW", "2099-01-01T10:00:00Z")
            .args(["watch", "add", &original]),
    );

    // The original is gone; the repost now shows the author-deletion marker.
    srv.route(
        &format!("/statuses/show?id={LONG}"),
        Resp::json(fixture("constructed_statuses_show_ok0_20101.json")),
    );
    srv.route(
        &format!("/detail/{LONG}"),
        Resp::html(fixture("constructed_detail_gone.html")),
    );
    route_show(&srv, REPOST, fixture(repost_fixture));
    for t in ["2099-01-01T10:05:00Z", "2099-01-01T10:07:00Z"] {
        run_ok(
            samizdat(&ar)
                .env("SAMIZDAT_NOW", t)
                .args(["watch", "check", &original]),
        );
    }
    let v = show_post(&ar, &format!("weibo:{LONG}"));
    assert_eq!(v["state"], "deleted", "{v}");
    assert_eq!(v["cause"], want_cause, "{v}");
    let checks = v["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    let last = checks.last().unwrap();
    let msg = last["message"].as_str().unwrap_or("");
    assert!(msg.contains(marker) && msg.contains(REPOST), "{last}");
    assert!(
        v["last_seen_live"].as_str().unwrap() < v["first_seen_gone"].as_str().unwrap(),
        "{v}"
    );
    // The repost's exchange is part of the evidence of the check.
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .any(|r| r.path.starts_with(&format!("/statuses/show?id={REPOST}")))
    );
    verify_archive(&ar);
}

/// The README's `[http.hosts]` example as written (issue 14), its origin pointed at the
/// loopback server: the post and its pictures (on `wx*.sinaimg.cn`, reached through the
/// `*.sinaimg.cn` wildcard) are captured.
#[test]
fn the_readme_http_hosts_example_captures_the_pictures_through_a_wildcard() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block: String = readme
        .lines()
        .skip_while(|l| !l.starts_with("[http.hosts]"))
        .take_while(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(block.contains("\"*.sinaimg.cn\""), "{block}");
    let srv = weibo_server();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let origin = srv.base_url().trim_end_matches('/').to_string();
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n{}",
            block.replace("http://127.0.0.1:8080", &origin)
        ),
    );
    let p = captured(&ar, &format!("https://m.weibo.cn/detail/{PICS}"), PICS);
    let fx = fixture_json(&format!("constructed_statuses_show_{PICS}.json"));
    let pics = fixture_pics(&fx["data"]);
    assert!(pics.iter().all(|u| u.contains(".sinaimg.cn/")), "{pics:?}");
    assert_pictures(&srv, &p, &fx["data"]);
    verify_archive(&ar);
}
