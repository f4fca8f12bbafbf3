//! Telegram, WeChat and X: plans driven by hand over fixtures (no network), one test per
//! deletion / wall marker, and CLI captures against the loopback server reached through
//! `[http.hosts]`.

use crate::common;

use common::*;
use samizdat::model::{Cause, MediaKind, Outcome, Post};
use samizdat::platforms::testing::run;
use samizdat::platforms::{self, Fetched, Finding, Job, PlanContext, Request, Response, Target};
use std::path::{Path, PathBuf};
use url::Url;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn resp(req: &Request, status: u16, mime: &str, body: Vec<u8>) -> Fetched {
    Fetched::Response(Response {
        url: req.url.clone(),
        status,
        headers: vec![("content-type".into(), mime.into())],
        body,
        truncated: false,
    })
}

fn html(req: &Request, name: &str) -> Fetched {
    resp(req, 200, "text/html; charset=utf-8", fixture(name))
}

fn json(req: &Request, name: &str) -> Fetched {
    resp(req, 200, "application/json;charset=utf-8", fixture(name))
}

fn redirect(req: &Request, to: &str) -> Fetched {
    Fetched::Response(Response {
        url: req.url.clone(),
        status: 302,
        headers: vec![("location".into(), to.into())],
        body: vec![],
        truncated: false,
    })
}

/// Recognises `url` (through the shared table: the platform must win over `web`) and runs
/// its capture plan.
fn capture(
    url: &str,
    answer: impl FnMut(&Request) -> Fetched,
) -> (Finding, Vec<Request>, &'static str) {
    let (p, target) = platforms::recognise(&Url::parse(url).unwrap()).expect("recognised");
    let (f, asked) = run(
        p.post_plan(&target, Job::Capture, &PlanContext::default()),
        answer,
    );
    (f, asked, p.name())
}

fn post(f: Finding) -> Post {
    match f {
        Finding::Post(p) => *p,
        other => panic!("expected a post, got {other:?}"),
    }
}

fn verdict(f: &Finding) -> (Outcome, Option<Cause>) {
    match f {
        Finding::Gone(g) => (g.outcome, g.cause),
        other => panic!("expected a gone verdict, got {other:?}"),
    }
}

// ======================================================================================
// Telegram

const TG_PAGE: &str = "telegram/t.me_s_channel_page_topwar_official.html";

#[test]
fn telegram_album_is_read_from_the_channel_page() {
    let (f, asked, name) = capture("https://t.me/topwar_official/71000", |r| html(r, TG_PAGE));
    assert_eq!(name, "telegram");
    assert_eq!(asked.len(), 1, "found on the page: no widget asked");
    assert_eq!(
        asked[0].url.as_str(),
        "https://t.me/s/topwar_official/71000"
    );
    assert!(asked[0].is_page && !asked[0].follow_redirects);
    let p = post(f);
    assert_eq!(p.id.0, "telegram:topwar_official/71000");
    assert_eq!(p.url, "https://t.me/topwar_official/71000");
    let a = p.author.unwrap();
    assert_eq!(a.name.as_deref(), Some("Военное обозрение"));
    assert_eq!(a.handle.as_deref(), Some("topwar_official"));
    let text = p.text.unwrap();
    assert!(text.starts_with("Последствия ночного удара"), "{text}");
    assert!(text.contains("нефтебазе в Туапсе"), "{text}");
    assert!(!text.contains("views"), "{text}");
    assert_eq!(p.media.len(), 6, "an album of six photos: {:?}", p.media);
    assert!(
        p.media.iter().all(|m| m.kind == MediaKind::Image
            && m.url.starts_with("https://cdn4.telegram-cdn.org/file/"))
    );
    assert_eq!(p.counts.unwrap().views, Some(28_700));
    assert!(p.created_at.unwrap().starts_with("2023-02-2"));
}

#[test]
fn telegram_album_item_is_found_in_its_album() {
    let (f, _, _) = capture("https://t.me/topwar_official/71003?single", |r| {
        html(r, TG_PAGE)
    });
    let p = post(f);
    assert_eq!(p.id.0, "telegram:topwar_official/71003");
    assert_eq!(p.extra["album"], "topwar_official/71000");
    assert_eq!(p.media.len(), 6);
}

#[test]
fn telegram_message_missing_from_page_and_widget_is_deleted_unknown() {
    // 70991 lies between 70990 and 70992 on the page (70993 is in the album of 70992): not there.
    let (f, asked, _) = capture("https://t.me/topwar_official/70991", |r| {
        if r.url.path().starts_with("/s/") {
            html(r, TG_PAGE)
        } else {
            html(r, "telegram/constructed_embed_post_not_found.html")
        }
    });
    assert_eq!(
        asked.len(),
        2,
        "both the page and the widget are asked before concluding"
    );
    assert_eq!(
        asked[1].url.as_str(),
        "https://t.me/topwar_official/70991?embed=1&mode=tme"
    );
    assert_eq!(verdict(&f), (Outcome::Deleted, Some(Cause::Unknown)));
    let Finding::Gone(g) = f else { unreachable!() };
    assert!(g.message.unwrap().contains("Post not found"));
}

#[test]
fn telegram_one_missing_answer_concludes_nothing() {
    // The page fails; the widget alone says "Post not found": unreachable, not deleted.
    let (f, asked, _) = capture("https://t.me/topwar_official/70991", |r| {
        if r.url.path().starts_with("/s/") {
            Fetched::Failed("connection reset".into())
        } else {
            html(r, "telegram/constructed_embed_post_not_found.html")
        }
    });
    assert_eq!(asked.len(), 2);
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
    // A page without the message but a widget that errors: unreachable, not deleted.
    let (f, _, _) = capture("https://t.me/topwar_official/70991", |r| {
        if r.url.path().starts_with("/s/") {
            html(r, TG_PAGE)
        } else {
            resp(r, 502, "text/html", b"bad gateway".to_vec())
        }
    });
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
}

#[test]
fn telegram_forward_is_read_from_the_widget_when_the_preview_is_off() {
    let (f, asked, _) = capture("https://t.me/oper_goblin/22358", |r| {
        if r.url.path().starts_with("/s/") {
            redirect(r, "https://t.me/oper_goblin")
        } else {
            html(r, "telegram/constructed_embed_forwarded_22358.html")
        }
    });
    assert_eq!(asked.len(), 2);
    let p = post(f);
    assert_eq!(p.id.0, "telegram:oper_goblin/22358");
    assert_eq!(
        p.author.unwrap().name.as_deref(),
        Some("Tynu40k Goblina (oper.ru)")
    );
    assert!(p.text.unwrap().starts_with("Британская разведка выяснила"));
    assert_eq!(p.created_at.as_deref(), Some("2023-02-27T07:20:50+00:00"));
    assert_eq!(p.counts.unwrap().views, Some(214_400));
    assert_eq!(p.media.len(), 1);
    let orig = p.repost_of.expect("forward");
    assert_eq!(orig.id.0, "telegram:dimsmirnov175/44604");
    assert_eq!(orig.author.unwrap().name.as_deref(), Some("Пул N3"));
    assert_eq!(
        p.extra["forwarded_from"]["url"],
        "https://t.me/dimsmirnov175/44604"
    );
}

#[test]
fn telegram_preview_off_and_widget_not_found_is_deleted_unknown() {
    let (f, _, _) = capture("https://t.me/oper_goblin/22358", |r| {
        if r.url.path().starts_with("/s/") {
            redirect(r, "https://t.me/oper_goblin")
        } else {
            html(r, "telegram/constructed_embed_post_not_found.html")
        }
    });
    assert_eq!(verdict(&f), (Outcome::Deleted, Some(Cause::Unknown)));
}

fn tg_fragment(name: &str, post_id: &str) -> Post {
    let (channel, id) = post_id.split_once('/').unwrap();
    let url = format!("https://t.me/{channel}/{id}");
    let (f, _, _) = capture(&url, |r| html(r, name));
    post(f)
}

#[test]
fn telegram_poll_voice_signed_link_preview_and_document() {
    let p = tg_fragment("telegram/fragment_message_poll.html", "it_begin/488");
    let poll = &p.extra["poll"];
    assert!(poll["question"].as_str().unwrap().len() > 3, "{poll}");
    assert_eq!(poll["options"].as_array().unwrap().len(), 3, "{poll}");
    assert_eq!(poll["voters"], "222");

    let p = tg_fragment("telegram/fragment_message_voice.html", "oper_goblin/939");
    assert_eq!(
        p.media
            .iter()
            .filter(|m| m.kind == MediaKind::Audio)
            .count(),
        1,
        "{:?}",
        p.media
    );
    assert!(p.text.unwrap().contains("@kakberadio"));

    let p = tg_fragment(
        "telegram/fragment_message_with_from_author.html",
        "channel/4",
    );
    // The signature starts with an emoji letter: 🅰️rkadiy Ivanov.
    assert_eq!(p.extra["signed_by"], "🅰️rkadiy Ivanov");
    assert_eq!(p.created_at.as_deref(), Some("2023-02-28T16:38:34+00:00"));

    let p = tg_fragment(
        "telegram/fragment_message_link_preview.html",
        "oper_goblin/22360",
    );
    assert_eq!(
        p.extra["link_preview"]["url"],
        "https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"
    );

    let p = tg_fragment(
        "telegram/fragment_message_media_file.html",
        "oper_goblin/16936",
    );
    assert_eq!(p.extra["documents"].as_array().unwrap().len(), 1);
    assert!(p.repost_of.is_some() || p.extra.contains_key("forwarded_from"));
}

#[test]
fn telegram_timeline_pages_by_before() {
    let target = Target::Account {
        account_id: "topwar_official".into(),
        url: "https://t.me/s/topwar_official".into(),
    };
    let tg = platforms::by_name("telegram").unwrap();
    let (f, asked) = run(
        tg.timeline_plan(&target, None, &PlanContext::default())
            .unwrap(),
        |r| html(r, TG_PAGE),
    );
    assert_eq!(asked[0].url.as_str(), "https://t.me/s/topwar_official");
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert_eq!(posts.len(), 12);
    assert_eq!(
        posts[0].id.0, "telegram:topwar_official/71008",
        "newest first"
    );
    assert_eq!(posts[11].id.0, "telegram:topwar_official/70989");
    assert_eq!(next_cursor.as_deref(), Some("70989"));
    let (_, asked) = run(
        tg.timeline_plan(&target, Some("70989"), &PlanContext::default())
            .unwrap(),
        |r| html(r, TG_PAGE),
    );
    assert_eq!(
        asked[0].url.as_str(),
        "https://t.me/s/topwar_official?before=70989"
    );
    // A channel without a preview is restricted.
    let (f, _) = run(
        tg.timeline_plan(&target, None, &PlanContext::default())
            .unwrap(),
        |r| redirect(r, "https://t.me/topwar_official"),
    );
    assert_eq!(verdict(&f).0, Outcome::Restricted);
}

// ======================================================================================
// WeChat

const WX_LONG: &str =
    "https://mp.weixin.qq.com/s?__biz=MzA4ODUzNjAxOA==&mid=2671068104&idx=7&sn=5e1c0e2d7a9b4f3c";

#[test]
fn wechat_article_with_video_iframe() {
    let (f, asked, name) = capture(
        &format!("{WX_LONG}&chksm=abc&scene=21#wechat_redirect"),
        |r| html(r, "wechat/mp_article_2018_video_iframe.html"),
    );
    assert_eq!(name, "wechat");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].url.as_str(), WX_LONG);
    let p = post(f);
    assert_eq!(p.id.0, "wechat:MzA4ODUzNjAxOA==/2671068104/7");
    assert_eq!(p.title.as_deref(), Some("【视频】石榴花开"));
    assert_eq!(p.author.as_ref().unwrap().name.as_deref(), Some("共产党员"));
    assert_eq!(
        p.author.as_ref().unwrap().id.as_deref(),
        Some("gh_9381891f8dd8")
    );
    assert_eq!(p.created_at.as_deref(), Some("2018-03-20T11:19:59+08:00"));
    assert_eq!(p.created_at_raw.as_deref(), Some("1521515999"));
    assert!(!p.text.as_deref().unwrap().is_empty());
    assert_eq!(p.media.len(), 6, "{:#?}", p.media);
    for m in &p.media {
        assert!(m.url.starts_with("https://mmbiz.qpic.cn/"), "{}", m.url);
        assert_eq!(m.referer.as_deref(), Some("https://mp.weixin.qq.com/"));
    }
    let videos = p.extra["videos"].as_array().unwrap();
    assert_eq!(videos[0]["vid"], "o0608305r9k");
    let html = p.html.unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<iframe"),
        "sanitised"
    );
    assert!(
        html.contains("src=\"https://mmbiz.qpic.cn/"),
        "lazy images made visible"
    );
}

#[test]
fn wechat_article_with_mpvoice_short_link_keeps_its_id() {
    let (f, _, _) = capture("https://mp.weixin.qq.com/s/Xy3_ab-CDef?scene=1", |r| {
        html(r, "wechat/mp_article_2018_mpvoice_audio.html")
    });
    let p = post(f);
    assert_eq!(p.id.0, "wechat:s/Xy3_ab-CDef");
    assert_eq!(p.url, "https://mp.weixin.qq.com/s/Xy3_ab-CDef");
    assert!(
        p.alt_urls
            .iter()
            .any(|u| u.contains("__biz=MjM5ODAyNTcwMA==&mid=2651788393&idx=1")),
        "{:?}",
        p.alt_urls
    );
    assert_eq!(
        p.title.as_deref(),
        Some("语音 | 早安武汉〔2018.3.19 周一〕")
    );
    assert_eq!(p.author.unwrap().name.as_deref(), Some("长江日报"));
    assert_eq!(p.created_at.as_deref(), Some("2018-03-19T05:30:00+08:00"));
    let audio: Vec<_> = p
        .media
        .iter()
        .filter(|m| m.kind == MediaKind::Audio)
        .collect();
    assert_eq!(audio.len(), 1);
    assert_eq!(
        audio[0].url,
        "https://res.wx.qq.com/voice/getvoice?mediaid=MjM5ODAyNTcwMF8yNjUxNzg4Mzky"
    );
}

#[test]
fn wechat_temporary_link_takes_the_page_identity() {
    let (f, _, _) = capture(
        "https://mp.weixin.qq.com/s?src=11&timestamp=1521532800&ver=1&signature=abc*def",
        |r| html(r, "wechat/mp_article_2018_video_iframe.html"),
    );
    assert_eq!(post(f).id.0, "wechat:MzA4ODUzNjAxOA==/2671068104/7");
}

#[test]
fn wechat_error_pages_are_told_apart() {
    let cases: &[(&str, Outcome, Option<Cause>)] = &[
        (
            "constructed_error_deleted_by_publisher",
            Outcome::Deleted,
            Some(Cause::Author),
        ),
        (
            "constructed_error_violation",
            Outcome::Deleted,
            Some(Cause::Platform),
        ),
        (
            "constructed_error_law",
            Outcome::Deleted,
            Some(Cause::Platform),
        ),
        (
            "constructed_error_complaint",
            Outcome::Deleted,
            Some(Cause::Platform),
        ),
        (
            "constructed_error_infringement",
            Outcome::Deleted,
            Some(Cause::Platform),
        ),
        (
            "constructed_error_account_closed",
            Outcome::AccountGone,
            Some(Cause::Author),
        ),
        (
            "constructed_error_account_banned",
            Outcome::AccountGone,
            Some(Cause::Platform),
        ),
        (
            "constructed_error_privacy",
            Outcome::Restricted,
            Some(Cause::Author),
        ),
        ("mp_error_link_expired", Outcome::Unreachable, None),
        ("constructed_error_captcha", Outcome::Unreachable, None),
        (
            "constructed_error_unknown",
            Outcome::Deleted,
            Some(Cause::Unknown),
        ),
    ];
    for (name, outcome, cause) in cases {
        let (f, _, _) = capture(WX_LONG, |r| html(r, &format!("wechat/{name}.html")));
        assert_eq!(verdict(&f), (*outcome, *cause), "{name}");
        let Finding::Gone(g) = f else { unreachable!() };
        assert!(
            !g.message.unwrap_or_default().is_empty(),
            "{name}: the platform's words are kept"
        );
    }
}

#[test]
fn wechat_captcha_redirect_and_http_errors_are_unreachable() {
    let (f, _, _) = capture(WX_LONG, |r| {
        let mut u = r.url.clone();
        u.set_path("/mp/wappoc_appmsgcaptcha");
        u.set_query(Some("poc_token=x"));
        Fetched::Response(Response {
            url: u,
            status: 200,
            headers: vec![],
            body: b"<html>verify</html>".to_vec(),
            truncated: false,
        })
    });
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
    let (f, _, _) = capture(WX_LONG, |r| resp(r, 500, "text/html", vec![]));
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
    // A 200 page that is neither an article nor an error page: broken, nothing concluded.
    let (f, _, _) = capture(WX_LONG, |r| {
        resp(
            r,
            200,
            "text/html",
            b"<html><body>hello</body></html>".to_vec(),
        )
    });
    assert!(matches!(f, Finding::Broken { .. }), "{f:?}");
}

// ======================================================================================
// X

const X_MEDIA: &str = "https://x.com/samizdat_test/status/1849203756112233445";

#[test]
fn x_token_and_endpoint() {
    // Tokens computed with node: ((id / 1e15) * Math.PI).toString(36).replace(/(0+|\.)/g, '').
    assert_eq!(
        samizdat::platforms::x::syndication_token("1849203756112233445"),
        "4hdgmw9og5"
    );
    assert_eq!(
        samizdat::platforms::x::syndication_token("1641086480675225601"),
        "3z7miaszni8"
    );
    let (_, asked, name) = capture(
        "https://mobile.twitter.com/samizdat_test/status/1849203756112233445/photo/1",
        |r| json(r, "x/tweet_text_1641086480675225601.json"),
    );
    assert_eq!(name, "x");
    assert_eq!(
        asked[0].url.as_str(),
        "https://cdn.syndication.twimg.com/tweet-result?id=1849203756112233445&token=4hdgmw9og5"
    );
}

#[test]
fn x_tweet_with_media_and_quote() {
    let (f, _, _) = capture(X_MEDIA, |r| {
        json(r, "x/tweet_media_quote_1849203756112233445.json")
    });
    let p = post(f);
    assert_eq!(p.id.0, "x:1849203756112233445");
    assert_eq!(p.url, X_MEDIA);
    assert_eq!(
        p.text.as_deref(),
        Some(
            "Water level at the old bridge this morning & the flood gauge. Read https://example.org/river-report"
        )
    );
    let a = p.author.unwrap();
    assert_eq!(
        (a.name.as_deref(), a.handle.as_deref()),
        (Some("Samizdat Test Reporter"), Some("samizdat_test"))
    );
    assert_eq!(
        p.created_at
            .as_deref()
            .map(|s| s.parse::<jiff::Timestamp>().unwrap()),
        Some("2024-10-23T18:05:41Z".parse().unwrap())
    );
    assert_eq!(p.media.len(), 2);
    assert_eq!(p.media[0].kind, MediaKind::Image);
    assert_eq!(
        p.media[0].alt.as_deref(),
        Some("A gauge post standing in brown water")
    );
    assert_eq!(p.media[1].kind, MediaKind::Video);
    assert!(
        p.media[1].url.ends_with("/1280x720/high.mp4"),
        "best bitrate: {}",
        p.media[1].url
    );
    let q = p.quote_of.unwrap();
    assert_eq!(q.id.0, "x:1849100000000000001");
    assert_eq!(q.author.unwrap().handle.as_deref(), Some("valley_weather"));
    let c = p.counts.unwrap();
    assert_eq!((c.likes, c.comments), (Some(321), Some(7)));
}

#[test]
fn x_markers() {
    let cases: &[(&str, Outcome, Option<Cause>)] = &[
        (
            "tombstone_deleted_by_author",
            Outcome::Deleted,
            Some(Cause::Author),
        ),
        (
            "tombstone_unavailable",
            Outcome::Deleted,
            Some(Cause::Unknown),
        ),
        (
            "tombstone_suspended",
            Outcome::AccountGone,
            Some(Cause::Platform),
        ),
        ("tombstone_age_restricted", Outcome::Restricted, None),
        ("tombstone_empty", Outcome::Restricted, None),
        ("empty_object", Outcome::Unreachable, None),
    ];
    for (name, outcome, cause) in cases {
        let (f, _, _) = capture(X_MEDIA, |r| json(r, &format!("x/{name}.json")));
        assert_eq!(verdict(&f), (*outcome, *cause), "{name}");
    }
    let (f, _, _) = capture(X_MEDIA, |r| resp(r, 404, "application/json", vec![]));
    assert_eq!(verdict(&f), (Outcome::Deleted, Some(Cause::Unknown)));
    let (f, _, _) = capture(X_MEDIA, |r| resp(r, 429, "application/json", vec![]));
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
    let (f, _, _) = capture(X_MEDIA, |_| Fetched::Failed("timeout".into()));
    assert_eq!(verdict(&f), (Outcome::Unreachable, None));
    let (f, _, _) = capture(X_MEDIA, |r| {
        resp(r, 200, "application/json", br#"{"data":1}"#.to_vec())
    });
    assert!(matches!(f, Finding::Broken { .. }), "{f:?}");
}

// ======================================================================================
// Through the CLI

fn setup(srv: &TestServer, hosts: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let mut cfg = String::from("[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n[http.hosts]\n");
    for h in hosts {
        cfg.push_str(&format!("\"{h}\" = \"{}\"\n", srv.base_url()));
    }
    write_config(&ar, &cfg);
    (dir, ar)
}

fn cli_capture(ar: &Path, url: &str) -> serde_json::Value {
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "capture", url]));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "exit {code}\n{out}\n{err}");
    lines.into_iter().next().unwrap()
}

fn cli_show(ar: &Path, id: &str) -> serde_json::Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", id]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verify_ok(ar: &Path) {
    let (code, _, err) = run_code(samizdat(ar).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
    assert_warcio_ok(&warc_files(ar));
}

/// Every `attr="https://host…"` URL of a fixture, entities decoded.
fn urls_in(body: &str, attr_prefix: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = body;
    while let Some(i) = rest.find(attr_prefix) {
        rest = &rest[i + attr_prefix.len()..];
        let end = rest.find(['"', '\'']).unwrap();
        let u = format!(
            "{}{}",
            attr_prefix.trim_start_matches(|c| c != 'h'),
            &rest[..end]
        )
        .replace("&amp;", "&");
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

fn path_and_query(u: &str) -> String {
    let u = Url::parse(u).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

#[test]
fn cli_telegram_capture_show_verify() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["t.me", "cdn4.telegram-cdn.org"]);
    let page = fixture(TG_PAGE);
    srv.route("/s/topwar_official/71000", Resp::html(page.clone()));
    let photos: Vec<String> = urls_in(
        &String::from_utf8_lossy(&page),
        "url('https://cdn4.telegram-cdn.org/file/",
    );
    for u in &photos {
        srv.route(
            &path_and_query(u),
            Resp::new(200)
                .header("Content-Type", "image/jpeg")
                .body(JPEG_BYTES),
        );
    }
    let res = cli_capture(&ar, "https://t.me/topwar_official/71000");
    assert_eq!(res["status"], "captured", "{res}");
    assert_eq!(res["post_id"], "telegram:topwar_official/71000");
    let v = cli_show(&ar, "telegram:topwar_official/71000");
    assert_eq!(v["author"]["name"], "Военное обозрение");
    assert!(v["text"].as_str().unwrap().contains("нефтебазе в Туапсе"));
    assert!(v["created_at"].as_str().unwrap().starts_with("2023-02-2"));
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 6);
    assert!(
        media
            .iter()
            .all(|m| m["sha256"].as_str().is_some_and(|s| s.len() == 64)),
        "{media:?}"
    );
    verify_ok(&ar);
}

#[test]
fn cli_telegram_deleted_message_is_reported_gone() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["t.me"]);
    srv.route("/s/topwar_official/70991", Resp::html(fixture(TG_PAGE)));
    srv.route(
        "/topwar_official/70991?embed=1&mode=tme",
        Resp::html(fixture("telegram/constructed_embed_post_not_found.html")),
    );
    let res = cli_capture(&ar, "https://t.me/s/topwar_official/70991");
    assert_eq!(res["status"], "gone", "{res}");
    assert_eq!(res["outcome"], "deleted");
    assert_eq!(res["cause"], "unknown");
    assert_eq!(srv.hits("/topwar_official/70991?embed=1&mode=tme"), 1);
    verify_ok(&ar);
}

#[test]
fn cli_wechat_capture_show_verify() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["mp.weixin.qq.com", "mmbiz.qpic.cn"]);
    let page = fixture("wechat/mp_article_2018_video_iframe.html");
    srv.route(&path_and_query(WX_LONG), Resp::html(page));
    let v = post(
        capture(WX_LONG, |r| {
            html(r, "wechat/mp_article_2018_video_iframe.html")
        })
        .0,
    );
    for m in &v.media {
        srv.route(
            &path_and_query(&m.url),
            Resp::new(200)
                .header("Content-Type", "image/jpeg")
                .body(JPEG_BYTES),
        );
    }
    let res = cli_capture(&ar, WX_LONG);
    assert_eq!(res["status"], "captured", "{res}");
    let id = res["post_id"].as_str().unwrap().to_string();
    assert_eq!(id, "wechat:MzA4ODUzNjAxOA==/2671068104/7");
    let v = cli_show(&ar, &id);
    assert_eq!(v["title"], "【视频】石榴花开");
    assert_eq!(v["author"]["name"], "共产党员");
    assert_eq!(v["created_at"], "2018-03-20T11:19:59+08:00");
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 6);
    assert!(
        media
            .iter()
            .all(|m| m["sha256"].as_str().is_some_and(|s| s.len() == 64)),
        "{media:?}"
    );
    // mmbiz checks hotlinking: the images were asked with the WeChat referer.
    let img_reqs: Vec<_> = srv
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/mmbiz"))
        .collect();
    assert_eq!(img_reqs.len(), 6);
    assert!(
        img_reqs
            .iter()
            .all(|r| r.header("referer") == Some("https://mp.weixin.qq.com/")),
        "{img_reqs:?}"
    );
    verify_ok(&ar);
}

#[test]
fn cli_wechat_deleted_by_publisher() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["mp.weixin.qq.com"]);
    srv.route(
        "/s/DeLeTeD123",
        Resp::html(fixture(
            "wechat/constructed_error_deleted_by_publisher.html",
        )),
    );
    let res = cli_capture(&ar, "https://mp.weixin.qq.com/s/DeLeTeD123");
    assert_eq!(res["status"], "gone", "{res}");
    assert_eq!(res["outcome"], "deleted");
    assert_eq!(res["cause"], "author");
    verify_ok(&ar);
}

#[test]
fn cli_x_capture_show_verify() {
    let srv = server();
    let (_d, ar) = setup(
        &srv,
        &[
            "cdn.syndication.twimg.com",
            "pbs.twimg.com",
            "video.twimg.com",
        ],
    );
    srv.route(
        "/tweet-result?id=1849203756112233445&token=4hdgmw9og5",
        Resp::json(fixture("x/tweet_media_quote_1849203756112233445.json")),
    );
    srv.route(
        "/media/GaBcDeFXkAAtest1.jpg",
        Resp::new(200)
            .header("Content-Type", "image/jpeg")
            .body(JPEG_BYTES),
    );
    srv.route(
        "/ext_tw_video/1849203700000000000/pu/vid/1280x720/high.mp4",
        Resp::new(200)
            .header("Content-Type", "video/mp4")
            .body(b"\0\0\0\x18ftypmp42 not really a video".to_vec()),
    );
    let res = cli_capture(
        &ar,
        "https://twitter.com/samizdat_test/status/1849203756112233445",
    );
    assert_eq!(res["status"], "captured", "{res}");
    let v = cli_show(&ar, "x:1849203756112233445");
    assert_eq!(v["author"]["handle"], "samizdat_test");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Water level at the old bridge")
    );
    assert_eq!(v["quote_of"]["id"], "x:1849100000000000001");
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 2);
    assert!(
        media
            .iter()
            .all(|m| m["sha256"].as_str().is_some_and(|s| s.len() == 64)),
        "{media:?}"
    );
    verify_ok(&ar);
}

#[test]
fn cli_x_tombstone_is_deleted_by_author() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["cdn.syndication.twimg.com"]);
    srv.route(
        "/tweet-result?id=1641086480675225601&token=3z7miaszni8",
        Resp::json(fixture("x/tombstone_deleted_by_author.json")),
    );
    let res = cli_capture(
        &ar,
        "https://x.com/samizdat_test/status/1641086480675225601",
    );
    assert_eq!(res["status"], "gone", "{res}");
    assert_eq!(res["outcome"], "deleted");
    assert_eq!(res["cause"], "author");
    verify_ok(&ar);
}

#[test]
fn telegram_channel_url_is_no_post() {
    let (f, asked, _) = capture("https://t.me/topwar_official", |r| html(r, TG_PAGE));
    assert_eq!(asked[0].url.as_str(), "https://t.me/s/topwar_official");
    assert!(matches!(f, Finding::Timeline { .. }), "{f:?}");
}
