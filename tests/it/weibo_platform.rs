//! The Weibo reader, driven by hand over fixtures (no network): each test answers the
//! plan's requests from fixture bodies and checks what a person reading the fixture
//! would write down.

use samizdat::model::{Cause, MediaKind, Outcome, Post};
use samizdat::platforms::testing::run;
use samizdat::platforms::weibo::{Weibo, bid_to_mid, classify_marker, mid_to_bid};
use samizdat::platforms::{
    Fetched, Finding, Job, PlanContext, Platform, PlatformSettings, Request, Response, Target,
};
use url::Url;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/weibo/");

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

fn json(req: &Request, name: &str) -> Fetched {
    resp(req, 200, "application/json; charset=utf-8", fixture(name))
}

fn html(req: &Request, name: &str) -> Fetched {
    resp(req, 200, "text/html; charset=utf-8", fixture(name))
}

fn ctx() -> PlanContext {
    PlanContext {
        now: jiff::Timestamp::from_second(1_712_217_731)
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC),
        settings: PlatformSettings::default(),
    }
}

fn post_target(mid: &str) -> Target {
    Target::Post {
        platform_id: mid.into(),
        url: format!("https://m.weibo.cn/detail/{mid}"),
    }
}

fn capture(mid: &str, answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    run(
        Weibo.post_plan(&post_target(mid), Job::Capture, &ctx()),
        answer,
    )
}

fn check(
    mid: &str,
    c: &PlanContext,
    answer: impl FnMut(&Request) -> Fetched,
) -> (Finding, Vec<Request>) {
    run(Weibo.post_plan(&post_target(mid), Job::Check, c), answer)
}

fn expect_post(f: Finding) -> Post {
    match f {
        Finding::Post(p) => *p,
        other => panic!("expected a post, got {other:?}"),
    }
}

fn expect_gone(f: Finding) -> samizdat::model::Gone {
    match f {
        Finding::Gone(g) => g,
        other => panic!("expected gone, got {other:?}"),
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn endpoint(req: &Request) -> String {
    format!(
        "{} {}{}",
        req.method,
        req.url.host_str().unwrap(),
        req.url.path()
    )
}

// ----------------------------------------------------------------------------- URLs

fn recognise(s: &str) -> Option<Target> {
    Weibo.recognise(&Url::parse(s).unwrap())
}

fn post_of(s: &str) -> String {
    match recognise(s) {
        Some(Target::Post { platform_id, url }) => {
            assert_eq!(url, format!("https://m.weibo.cn/detail/{platform_id}"));
            platform_id
        }
        other => panic!("{s}: expected a post, got {other:?}"),
    }
}

#[test]
fn post_url_forms() {
    let mid = "4648806186747944";
    for u in [
        "https://weibo.com/6279793937/KktFEsjrO",
        "https://www.weibo.com/6279793937/KktFEsjrO",
        "http://weibo.com/6279793937/KktFEsjrO?type=comment#_rnd1",
        "https://weibo.com/6279793937/4648806186747944",
        "https://weibo.com/detail/4648806186747944",
        "https://m.weibo.cn/detail/4648806186747944",
        "http://m.weibo.cn/detail/4648806186747944",
        "https://weibo.cn/detail/4648806186747944",
        "https://m.weibo.cn/status/KktFEsjrO?mblogid=KktFEsjrO&luicode=10000011",
        "https://m.weibo.cn/status/4648806186747944",
        "https://m.weibo.cn/6279793937/4648806186747944",
        "https://m.weibo.cn/6279793937/KktFEsjrO",
        "https://weibo.com/tv/show/1034:4645779462357001?mid=4648806186747944",
    ] {
        assert_eq!(post_of(u), mid, "{u}");
    }
}

#[test]
fn account_url_forms() {
    for u in [
        "https://weibo.com/u/6279793937",
        "https://www.weibo.com/u/6279793937",
        "http://m.weibo.cn/u/6279793937?uid=6279793937&luicode=10000011",
        "https://m.weibo.cn/profile/6279793937",
        "https://weibo.com/6279793937",
    ] {
        assert_eq!(
            recognise(u),
            Some(Target::Account {
                account_id: "6279793937".into(),
                url: "https://weibo.com/u/6279793937".into()
            }),
            "{u}"
        );
    }
}

#[test]
fn share_and_short_links_are_followed() {
    for u in [
        "http://t.cn/A6VGmrc6",
        "https://share.api.weibo.cn/share/123456789.html",
        "https://mapp.api.weibo.cn/fx/8f1c2e4b.html",
        "https://weibo.com/n/明日方舟Arknights",
    ] {
        assert!(matches!(recognise(u), Some(Target::Follow { .. })), "{u}");
    }
    let t = recognise("http://t.cn/A6VGmrc6").unwrap();
    let (f, asked) = run(Weibo.post_plan(&t, Job::Capture, &ctx()), |_req| {
        Fetched::Response(Response {
            url: Url::parse("https://m.weibo.cn/status/4648806186747944").unwrap(),
            status: 200,
            headers: vec![],
            body: vec![],
            truncated: false,
        })
    });
    assert_eq!(asked.len(), 1);
    assert!(asked[0].follow_redirects);
    match f {
        Finding::Redirected { url } => {
            assert_eq!(url, "https://m.weibo.cn/status/4648806186747944")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn not_weibo_urls() {
    for u in [
        "https://example.org/6279793937/KktFEsjrO",
        "https://weibo.com/",
        "https://weibo.com/a/b/c/d",
        "https://m.weibo.cn/detail/not-an-id!",
        "ftp://weibo.com/6279793937/KktFEsjrO",
    ] {
        assert!(
            !matches!(
                recognise(u),
                Some(Target::Post { .. }) | Some(Target::Account { .. })
            ),
            "{u}"
        );
    }
}

#[test]
fn the_eight_mid_bid_pairs() {
    for (mid, bid) in [
        ("4645748019299849", "Kjc77D1jz"),
        ("4649031014551911", "Kkzwhj69V"),
        ("4648806186747944", "KktFEsjrO"),
        ("3439466943518422", "ygyImeLiK"),
        ("4607741009594608", "K3fnuEfZK"),
        ("4387933362623405", "HATy0b0sZ"),
        ("5224958596222067", "QathNq6DV"),
        ("5232630992732508", "QdGSDbsQI"),
    ] {
        assert_eq!(mid_to_bid(mid).as_deref(), Some(bid));
        assert_eq!(bid_to_mid(bid).as_deref(), Some(mid));
    }
}

// ----------------------------------------------------------------------------- capture

#[test]
fn capture_long_post_with_video() {
    let (f, asked) = capture("4645748019299849", |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_4645748019299849.json"),
        "/statuses/extend" => json(req, "m_statuses_extend_4645748019299849.json"),
        "/detail/4645748019299849" => html(req, "constructed_detail_4645748019299849.html"),
        p => panic!("unexpected {p}"),
    });
    let ep: Vec<String> = asked.iter().map(endpoint).collect();
    assert_eq!(
        ep,
        [
            "GET m.weibo.cn/statuses/show",
            "GET m.weibo.cn/statuses/extend",
            "GET m.weibo.cn/detail/4645748019299849"
        ]
    );
    let show = &asked[0];
    assert_eq!(
        show.url.as_str(),
        "https://m.weibo.cn/statuses/show?id=4645748019299849"
    );
    assert!(!show.follow_redirects);
    assert!(!show.with_user_cookies);
    assert_eq!(
        header(show, "Accept"),
        Some("application/json, text/plain, */*")
    );
    assert_eq!(header(show, "X-Requested-With"), Some("XMLHttpRequest"));
    assert_eq!(header(show, "MWeibo-Pwa"), Some("1"));
    assert_eq!(
        header(show, "Referer"),
        Some("https://m.weibo.cn/detail/4645748019299849")
    );
    assert_eq!(header(show, "Cookie"), None);
    assert!(!show.is_page);
    assert_eq!(asked[1].url.query(), Some("id=4645748019299849"));
    assert!(asked[2].is_page);

    let p = expect_post(f);
    assert_eq!(p.id.0, "weibo:4645748019299849");
    assert_eq!(p.platform_id, "4645748019299849");
    assert_eq!(p.url, "https://weibo.com/6279793937/Kjc77D1jz");
    assert_eq!(p.alt_urls, ["https://m.weibo.cn/detail/4645748019299849"]);
    let a = p.author.as_ref().unwrap();
    assert_eq!(a.name.as_deref(), Some("明日方舟Arknights"));
    assert_eq!(a.id.as_deref(), Some("6279793937"));
    assert_eq!(a.url.as_deref(), Some("https://weibo.com/u/6279793937"));
    assert_eq!(p.created_at.as_deref(), Some("2021-06-08T09:35:04+08:00"));
    assert_eq!(
        p.created_at_raw.as_deref(),
        Some("Tue Jun 08 09:35:04 +0800 2021")
    );
    let text = p.text.as_deref().unwrap();
    assert!(
        text.starts_with("#明日方舟# #音律联觉#\n2021明日方舟音律联觉"),
        "{text}"
    );
    // The long text, not the cut one.
    assert!(text.contains("抽奖详情"), "{text}");
    assert!(!text.contains("全文"), "{text}");
    assert!(p.extra.get("text_truncated").is_none());
    assert!(!text.contains('<'), "{text}");
    let html = p.html.as_deref().unwrap();
    assert!(html.contains("<br>"), "{html}");
    assert!(!html.contains("style="), "{html}");
    // One video, the 720p stream.
    assert_eq!(p.media.len(), 1);
    assert_eq!(p.media[0].kind, MediaKind::Video);
    assert!(
        p.media[0].url.contains("label=mp4_720p"),
        "{}",
        p.media[0].url
    );
    let c = p.counts.as_ref().unwrap();
    assert_eq!(
        (c.reposts, c.comments, c.likes),
        (Some(9079), Some(2126), Some(37053))
    );
    assert_eq!(p.extra["bid"], "Kjc77D1jz");
    assert_eq!(p.extra["edit_count"], 2);
    assert_eq!(p.extra["source"], "微博视频号");
    assert!(p.repost_of.is_none());
}

#[test]
fn capture_repost_keeps_the_original() {
    let (f, asked) = capture("4648806186747944", |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_4648806186747944.json"),
        _ => Fetched::Failed("connection reset".into()),
    });
    // Not long, so no extend; the page is still asked (and its failure does not matter).
    assert_eq!(asked.len(), 2);
    assert!(asked[1].is_page);
    let p = expect_post(f);
    assert_eq!(p.url, "https://weibo.com/6279793937/KktFEsjrO");
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .starts_with("恭喜@黄防护服黄 等10名用户获得【音律联觉主题黑胶礼盒各一套】")
    );
    assert!(
        p.html
            .as_deref()
            .unwrap()
            .contains("href=\"http://t.cn/A6VGmrc6\"")
    );
    assert_eq!(p.created_at.as_deref(), Some("2021-06-16T20:07:07+08:00"));
    assert_eq!(p.extra["source"], "微博抽奖平台");
    let o = p.repost_of.as_ref().expect("repost_of");
    assert_eq!(o.platform_id, "4645748019299849");
    assert_eq!(
        o.author.as_ref().unwrap().name.as_deref(),
        Some("明日方舟Arknights")
    );
    assert_eq!(o.url, "https://weibo.com/6279793937/Kjc77D1jz");
    assert!(o.text.as_deref().unwrap().contains("#明日方舟#"));
    assert!(p.extra.get("original_state").is_none());
}

#[test]
fn capture_pictures_at_large_size() {
    let (f, _) = capture("4646917039199914", |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_4646917039199914.json"),
        _ => resp(req, 404, "text/html", vec![]),
    });
    let p = expect_post(f);
    // One JPEG and three GIFs, as the fixture's file names say.
    let kinds: Vec<MediaKind> = p.media.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MediaKind::Image,
            MediaKind::Gif,
            MediaKind::Gif,
            MediaKind::Gif
        ]
    );
    for m in &p.media {
        assert!(m.url.contains(".sinaimg.cn/large/"), "{}", m.url);
        assert_eq!(m.referer.as_deref(), Some("https://weibo.com/"));
    }
    // pics as an object {"0":…} gives the same pictures in the same order.
    let (f2, _) = capture("4646917039199914", |req| match req.url.path() {
        "/statuses/show" => json(
            req,
            "constructed_statuses_show_pics_object_4646917039199914.json",
        ),
        _ => resp(req, 404, "text/html", vec![]),
    });
    let q = expect_post(f2);
    let urls = |p: &Post| p.media.iter().map(|m| m.url.clone()).collect::<Vec<_>>();
    assert_eq!(urls(&p), urls(&q));
}

#[test]
fn more_than_nine_pictures_asks_for_extend() {
    let (f, asked) = capture("4655401851422792", |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_4655401851422792.json"),
        // An HTML refusal instead of JSON: the post stays as statuses/show gave it.
        "/statuses/extend" => resp(req, 200, "text/html", "暂无查看权限".as_bytes().to_vec()),
        _ => resp(req, 404, "text/html", vec![]),
    });
    assert_eq!(endpoint(&asked[1]), "GET m.weibo.cn/statuses/extend");
    let p = expect_post(f);
    assert_eq!(p.media.len(), 9);
    assert_eq!(p.extra["pic_num"], 13);
    assert_eq!(p.author.unwrap().name.as_deref(), Some("余霜YSCandice"));
    assert!(p.text.unwrap().starts_with("晚安啦！[心]"));
}

#[test]
fn capture_falls_back_to_the_detail_page_when_walled() {
    let (f, asked) = capture("4645748019299849", |req| match req.url.path() {
        "/statuses/show" => resp(req, 432, "text/html", vec![]),
        "/detail/4645748019299849" => html(req, "constructed_detail_4645748019299849.html"),
        p => panic!("unexpected {p}"),
    });
    assert_eq!(asked.len(), 2);
    assert!(asked[1].is_page);
    let p = expect_post(f);
    assert_eq!(p.platform_id, "4645748019299849");
    assert!(p.text.as_deref().unwrap().contains("抽奖详情"));
    assert_eq!(p.author.unwrap().name.as_deref(), Some("明日方舟Arknights"));
}

// ----------------------------------------------------------------------------- check

#[test]
fn check_live_post_is_one_request() {
    let (f, asked) = check("4648806186747944", &ctx(), |req| {
        json(req, "constructed_statuses_show_4648806186747944.json")
    });
    assert_eq!(asked.len(), 1);
    assert_eq!(expect_post(f).platform_id, "4648806186747944");
}

#[test]
fn check_ok0_is_confirmed_by_the_page() {
    let (f, asked) = check("4645748019299849", &ctx(), |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_ok0_20101.json"),
        "/detail/4645748019299849" => html(req, "constructed_detail_gone.html"),
        p => panic!("unexpected {p}"),
    });
    assert_eq!(asked.len(), 2);
    let g = expect_gone(f);
    assert_eq!(g.outcome, Outcome::Deleted);
    assert_eq!(g.cause, Some(Cause::Unknown));
    assert_eq!(g.message.as_deref(), Some("微博不存在或暂无查看权限"));
}

#[test]
fn check_ok0_but_page_shows_the_post_is_live() {
    let (f, _) = check("4645748019299849", &ctx(), |req| match req.url.path() {
        "/statuses/show" => json(req, "constructed_statuses_show_ok0_20101.json"),
        _ => html(req, "constructed_detail_4645748019299849.html"),
    });
    assert_eq!(expect_post(f).platform_id, "4645748019299849");
}

#[test]
fn ok1_without_id_is_broken_never_gone() {
    let (f, _) = check("4645748019299849", &ctx(), |req| {
        json(req, "constructed_statuses_show_missing_id.json")
    });
    match f {
        Finding::Broken { endpoint, missing } => {
            assert_eq!(endpoint, "statuses/show");
            assert_eq!(missing, "data.id");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn json_without_ok_is_broken_never_gone() {
    let (f, asked) = check("4645748019299849", &ctx(), |req| {
        resp(
            req,
            200,
            "application/json",
            br#"{"result":true,"status":{"id":"4645748019299849"}}"#.to_vec(),
        )
    });
    assert_eq!(asked.len(), 1);
    match f {
        Finding::Broken { endpoint, missing } => {
            assert_eq!(
                (endpoint.as_str(), missing.as_str()),
                ("statuses/show", "ok")
            );
        }
        other => panic!("{other:?}"),
    }
    let plan = Weibo.timeline_plan(&account(), None, &ctx()).unwrap();
    let (f, _) = run(plan, |req| {
        resp(
            req,
            200,
            "application/json",
            br#"{"ok":1,"data":{}}"#.to_vec(),
        )
    });
    match f {
        Finding::Broken { endpoint, missing } => {
            assert_eq!(
                (endpoint.as_str(), missing.as_str()),
                ("getIndex", "data.cards")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn network_failure_is_unreachable() {
    let (f, _) = check("4645748019299849", &ctx(), |_| {
        Fetched::Failed("timed out".into())
    });
    let g = expect_gone(f);
    assert_eq!(g.outcome, Outcome::Unreachable);
    assert!(g.message.unwrap().contains("timed out"));
}

// ----------------------------------------------------------------------------- walls

fn visitor_answer(req: &Request, with_headers: bool) -> Fetched {
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.url.as_str(),
        "https://visitor.passport.weibo.cn/visitor/genvisitor2"
    );
    let body = String::from_utf8(req.body.clone().unwrap()).unwrap();
    assert!(body.contains("cb=visitor_gray_callback"), "{body}");
    let mut headers = vec![("content-type".to_string(), "text/javascript".to_string())];
    if with_headers {
        headers.push((
            "set-cookie".into(),
            "SUB=_2AkMheaderSUB; path=/; domain=.weibo.cn; HttpOnly".into(),
        ));
        headers.push((
            "set-cookie".into(),
            "SUBP=0033WheaderSUBP; expires=Wed, 01-Jan-2031 00:00:00 GMT; path=/; domain=.weibo.cn"
                .into(),
        ));
    }
    Fetched::Response(Response {
        url: req.url.clone(),
        status: 200,
        headers,
        body: fixture("constructed_visitor_genvisitor2.txt"),
        truncated: false,
    })
}

#[test]
fn walled_then_visitor_cookies_then_retry() {
    let (f, asked) = check("4648806186747944", &ctx(), |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, true);
        }
        if header(req, "Cookie").is_some() {
            json(req, "constructed_statuses_show_4648806186747944.json")
        } else {
            json(req, "constructed_statuses_show_ok-100.json")
        }
    });
    assert_eq!(asked.len(), 3);
    assert_eq!(
        header(&asked[2], "Cookie"),
        Some("SUB=_2AkMheaderSUB; SUBP=0033WheaderSUBP")
    );
    assert!(!asked[2].with_user_cookies);
    assert_eq!(expect_post(f).platform_id, "4648806186747944");
}

#[test]
fn visitor_cookies_from_the_jsonp_body() {
    let (f, asked) = check("4648806186747944", &ctx(), |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, false);
        }
        if header(req, "Cookie").is_some() {
            json(req, "constructed_statuses_show_4648806186747944.json")
        } else {
            resp(req, 418, "text/html", vec![])
        }
    });
    assert_eq!(
        header(&asked[2], "Cookie"),
        Some("SUB=_2AkMconstructedSUB; SUBP=0033WrSXqPxfM72-Ws9jqgMF55529P9D9constructed")
    );
    expect_post(f);
}

#[test]
fn visitor_wall_persists_is_unreachable() {
    let (f, asked) = check("4648806186747944", &ctx(), |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, true);
        }
        json(req, "constructed_statuses_show_ok-100.json")
    });
    assert_eq!(asked.len(), 3);
    let g = expect_gone(f);
    assert_eq!(g.outcome, Outcome::Unreachable);
    let m = g.message.unwrap();
    assert!(m.contains("ok:-100"), "{m}");
    assert!(m.contains("visitor cookies"), "{m}");
}

#[test]
fn user_cookies_are_the_last_resort() {
    let mut c = ctx();
    c.settings.has_user_cookies = true;
    let (f, asked) = check("4648806186747944", &c, |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, true);
        }
        if req.with_user_cookies {
            json(req, "constructed_statuses_show_4648806186747944.json")
        } else {
            json(req, "constructed_statuses_show_ok-100.json")
        }
    });
    assert_eq!(asked.len(), 4);
    assert!(!asked[0].with_user_cookies && !asked[2].with_user_cookies);
    assert!(asked[3].with_user_cookies);
    assert_eq!(header(&asked[3], "Cookie"), None);
    expect_post(f);

    // And when even the user's cookies are walled: unreachable, every wall named.
    let (f, asked) = check("4648806186747944", &c, |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, true);
        }
        resp(req, 432, "text/html", vec![])
    });
    assert_eq!(asked.len(), 4);
    let m = expect_gone(f).message.unwrap();
    assert!(
        m.contains("anonymous (HTTP 432)") && m.contains("user cookies (HTTP 432)"),
        "{m}"
    );
}

#[test]
fn every_wall_signal_starts_the_visitor_flow() {
    type Answer = fn(&Request) -> Fetched;
    let walls: &[(&str, Answer)] = &[
        ("HTTP 432", |r| resp(r, 432, "text/html", vec![])),
        ("HTTP 418", |r| resp(r, 418, "text/html", vec![])),
        ("HTTP 403", |r| resp(r, 403, "text/html", vec![])),
        ("ok:-100", |r| {
            json(r, "constructed_statuses_show_ok-100.json")
        }),
        ("non-JSON", |r| {
            resp(
                r,
                200,
                "text/html",
                b"<html>Sina Visitor System</html>".to_vec(),
            )
        }),
        ("captcha", |r| {
            resp(
                r,
                200,
                "application/json",
                br#"{"ok":0,"url":"https://m.weibo.cn/verify/captcha?x=1"}"#.to_vec(),
            )
        }),
        ("redirect to passport.weibo.com", |r| {
            Fetched::Response(Response {
                url: r.url.clone(),
                status: 302,
                headers: vec![(
                    "location".into(),
                    "https://passport.weibo.com/visitor/visitor?entry=miniblog".into(),
                )],
                body: vec![],
                truncated: false,
            })
        }),
        ("redirect to login.sina.com.cn", |r| {
            Fetched::Response(Response {
                url: r.url.clone(),
                status: 302,
                headers: vec![(
                    "location".into(),
                    "https://login.sina.com.cn/sso/login.php".into(),
                )],
                body: vec![],
                truncated: false,
            })
        }),
    ];
    for (name, wall) in walls {
        let (f, asked) = check("4648806186747944", &ctx(), |req| {
            if req.url.host_str() == Some("visitor.passport.weibo.cn") {
                // No cookie issued: the wall stands.
                return resp(req, 200, "text/html", b"<html></html>".to_vec());
            }
            wall(req)
        });
        assert_eq!(asked.len(), 2, "{name}");
        assert_eq!(asked[1].method, "POST", "{name}");
        let g = expect_gone(f);
        assert_eq!(g.outcome, Outcome::Unreachable, "{name}");
        let m = g.message.unwrap();
        assert!(m.contains(name), "{name}: {m}");
    }
}

// ----------------------------------------------------------------------------- markers

#[test]
fn repost_of_an_original_deleted_by_its_author() {
    let (f, _) = check("4648806186747944", &ctx(), |req| {
        json(
            req,
            "constructed_statuses_show_repost_original_deleted_by_author.json",
        )
    });
    let p = expect_post(f);
    let st = &p.extra["original_state"];
    assert_eq!(st["outcome"], "deleted");
    assert_eq!(st["cause"], "author");
    assert!(
        st["message"]
            .as_str()
            .unwrap()
            .starts_with("抱歉，此微博已被作者删除。")
    );
    let o = p.repost_of.unwrap();
    assert_eq!(o.platform_id, "4645748019299849");
    assert!(o.author.is_none());
    assert!(
        o.text
            .unwrap()
            .starts_with("抱歉，此微博已被作者删除。查看帮助：")
    );
}

#[test]
fn repost_of_an_original_removed_by_the_platform() {
    let (f, _) = check("4648806186747944", &ctx(), |req| {
        json(
            req,
            "constructed_statuses_show_repost_original_reported.json",
        )
    });
    let p = expect_post(f);
    assert_eq!(p.extra["original_state"]["outcome"], "deleted");
    assert_eq!(p.extra["original_state"]["cause"], "platform");
}

#[test]
fn repost_of_an_original_hidden_by_author_setting() {
    let (f, _) = check("4648806186747944", &ctx(), |req| {
        json(
            req,
            "constructed_statuses_show_repost_original_author_setting.json",
        )
    });
    let p = expect_post(f);
    assert_eq!(p.extra["original_state"]["outcome"], "restricted");
}

#[test]
fn marker_classification() {
    use Cause::*;
    use Outcome::*;
    let cases: &[(&str, Outcome, Cause)] = &[
        (
            "抱歉，此微博已被作者删除。查看帮助：http://t.cn/Rfd3rQV",
            Deleted,
            Author,
        ),
        (
            "该微博因被多人举报，根据《微博社区管理规定》，已被删除。查看帮助：http://t.cn/Rfd14WY",
            Deleted,
            Platform,
        ),
        (
            "该微博因被多人投诉，根据《微博社区公约》，已被删除。",
            Deleted,
            Platform,
        ),
        ("根据《微博社区公约》，此微博已被删除。", Deleted, Platform),
        (
            "抱歉，此微博已被删除。查看帮助：http://t.cn/Rfd14WY",
            Deleted,
            Platform,
        ),
        ("該微博已被刪除", Deleted, Platform),
        (
            "抱歉，由于作者设置，你暂时没有这条微博的查看权限哦。查看帮助：http://t.cn/RfdBWwP",
            Restricted,
            Author,
        ),
        (
            "抱歉，作者已设置仅展示半年内微博，此微博已不可见。",
            Restricted,
            Author,
        ),
        (
            "抱歉，根据作者设置的微博可见时间范围，此微博已不可见。",
            Restricted,
            Author,
        ),
        ("根据博主设置，此内容无法访问", Restricted, Author),
        ("由于博主设置，目前内容暂不可见。", Restricted, Author),
        (
            "该账号因被投诉违反法律法规和《微博社区公约》的相关规定，现已无法查看。",
            AccountGone,
            Platform,
        ),
        (
            "该账号因被投诉违反《微博社区公约》的相关规定，现已无法查看。",
            AccountGone,
            Platform,
        ),
        (
            "该账号行为异常，存在安全风险，用户验证之前暂时不能查看。",
            AccountGone,
            Platform,
        ),
        (
            "该账号因用户自行申请关闭，现已无法查看。",
            AccountGone,
            Author,
        ),
        ("该账号已关闭，现无法查看。", AccountGone, Author),
        ("微博不存在或暂无查看权限!", Deleted, Unknown),
    ];
    for (text, outcome, cause) in cases {
        assert_eq!(
            classify_marker(text),
            Some((*outcome, Some(*cause))),
            "{text}"
        );
    }
    assert_eq!(classify_marker("今天天气很好，删除了一张照片"), None);
    assert_eq!(classify_marker(""), None);
}

#[test]
fn ok0_with_an_account_marker_is_account_gone() {
    let (f, _) = check("4645748019299849", &ctx(), |req| match req.url.path() {
        "/statuses/show" => resp(
            req,
            200,
            "application/json",
            r#"{"ok":0,"msg":"该账号因被投诉违反《微博社区公约》的相关规定，现已无法查看。"}"#
                .as_bytes()
                .to_vec(),
        ),
        _ => html(req, "constructed_detail_gone.html"),
    });
    let g = expect_gone(f);
    assert_eq!(g.outcome, Outcome::AccountGone);
    assert_eq!(
        g.message.as_deref(),
        Some("该账号因被投诉违反《微博社区公约》的相关规定，现已无法查看。")
    );
}

// ----------------------------------------------------------------------------- timelines

fn account() -> Target {
    Target::Account {
        account_id: "6279793937".into(),
        url: "https://weibo.com/u/6279793937".into(),
    }
}

#[test]
fn timeline_first_page() {
    let plan = Weibo.timeline_plan(&account(), None, &ctx()).unwrap();
    let (f, asked) = run(plan, |req| {
        json(req, "m_getIndex_containerid-1076036279793937_page1.json")
    });
    assert_eq!(
        asked[0].url.as_str(),
        "https://m.weibo.cn/api/container/getIndex?containerid=1076036279793937"
    );
    assert_eq!(
        header(&asked[0], "X-Requested-With"),
        Some("XMLHttpRequest")
    );
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert_eq!(posts.len(), 10);
    assert_eq!(next_cursor.as_deref(), Some("4646131823281332"));
    assert_eq!(posts[0].platform_id, "4645748019299849");
    assert!(
        posts
            .iter()
            .all(|p| p.author.as_ref().unwrap().name.as_deref() == Some("明日方舟Arknights"))
    );
    let repost = posts
        .iter()
        .find(|p| p.platform_id == "4648806186747944")
        .unwrap();
    assert_eq!(
        repost.repost_of.as_ref().unwrap().platform_id,
        "4645748019299849"
    );
    let six = posts
        .iter()
        .find(|p| p.platform_id == "4646569834450357")
        .unwrap();
    assert_eq!(six.media.len(), 6);
    // Timeline cards carry the cut text of long posts, and say so.
    assert_eq!(posts[0].extra["text_truncated"], true);
    assert!(repost.extra.get("text_truncated").is_none());
}

#[test]
fn timeline_next_page_by_since_id() {
    let plan = Weibo
        .timeline_plan(&account(), Some("4646131823281332"), &ctx())
        .unwrap();
    let (_, asked) = run(plan, |req| json(req, "m_getIndex_error_ok0_empty.json"));
    assert_eq!(
        asked[0].url.query(),
        Some("containerid=1076036279793937&since_id=4646131823281332")
    );
}

#[test]
fn timeline_page_numbered_variant() {
    let t = Target::Account {
        account_id: "1907518591".into(),
        url: "https://weibo.com/u/1907518591".into(),
    };
    let plan = Weibo.timeline_plan(&t, None, &ctx()).unwrap();
    let (f, _) = run(plan, |req| {
        json(req, "m_getIndex_containerid-1076031907518591_page2.json")
    });
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert_eq!(posts.len(), 11);
    assert_eq!(next_cursor.as_deref(), Some("page:2"));
    let plan = Weibo.timeline_plan(&t, Some("page:2"), &ctx()).unwrap();
    let (_, asked) = run(plan, |req| json(req, "m_getIndex_error_ok0_empty.json"));
    assert_eq!(
        asked[0].url.query(),
        Some("containerid=1076031907518591&page=2")
    );
}

#[test]
fn timeline_end() {
    let plan = Weibo.timeline_plan(&account(), Some("1"), &ctx()).unwrap();
    let (f, _) = run(plan, |req| json(req, "m_getIndex_error_ok0_empty.json"));
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert!(posts.is_empty());
    assert_eq!(next_cursor, None);
}

#[test]
fn timeline_walled_uses_visitor_flow() {
    let plan = Weibo.timeline_plan(&account(), None, &ctx()).unwrap();
    let (f, asked) = run(plan, |req| {
        if req.url.host_str() == Some("visitor.passport.weibo.cn") {
            return visitor_answer(req, true);
        }
        if header(req, "Cookie").is_some() {
            json(req, "m_getIndex_containerid-1076036279793937_page1.json")
        } else {
            json(req, "constructed_statuses_show_ok-100.json")
        }
    });
    assert_eq!(asked.len(), 3);
    assert!(matches!(f, Finding::Timeline { .. }));
}
