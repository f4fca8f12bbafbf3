//! Mastodon, Bluesky and Reddit: each plan driven by hand over fixture bodies (no network),
//! every deletion marker classified, then whole captures through the CLI against the
//! loopback test server reached through `[http.hosts]`.
//!
//! Fixtures: `tests/fixtures/{mastodon,bluesky,reddit}/` (see each SOURCES.md). Where a
//! test wraps a real object in an envelope (a Reddit thing from `/api/info` served as a
//! `comments/<id>.json` answer, a Bluesky postView served as a thread) it says so.

use crate::common;

use common::*;
use samizdat::model::{Cause, Gone, MediaKind, Outcome, Post};
use samizdat::platforms::bluesky::{self, Bluesky};
use samizdat::platforms::mastodon::Mastodon;
use samizdat::platforms::reddit::{self, Reddit};
use samizdat::platforms::testing::run;
use samizdat::platforms::{
    self, Fetched, Finding, Job, PlanContext, Platform, Request, Response, Step, Target,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use url::Url;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn resp(req: &Request, status: u16, mime: &str, body: impl Into<Vec<u8>>) -> Fetched {
    Fetched::Response(Response {
        url: req.url.clone(),
        status,
        headers: vec![("content-type".into(), mime.into())],
        body: body.into(),
        truncated: false,
    })
}

fn json_resp(req: &Request, status: u16, body: impl Into<Vec<u8>>) -> Fetched {
    resp(req, status, "application/json; charset=utf-8", body)
}

fn ctx() -> PlanContext {
    PlanContext::default()
}

fn expect_post(f: Finding) -> Post {
    match f {
        Finding::Post(p) => *p,
        other => panic!("expected a post, got {other:?}"),
    }
}

fn expect_gone(f: Finding) -> Gone {
    match f {
        Finding::Gone(g) => g,
        other => panic!("expected gone, got {other:?}"),
    }
}

fn path_query(req: &Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_string(),
    }
}

fn target_of(p: &dyn Platform, url: &str) -> Target {
    p.recognise(&Url::parse(url).unwrap())
        .unwrap_or_else(|| panic!("{} does not recognise {url}", p.name()))
}

// =======================================================================================
// Mastodon

const M_PHOTO: &str = "https://mastodon.example/@ada/112233445566778899";

fn mastodon_capture(url: &str, answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    run(
        Mastodon.post_plan(&target_of(&Mastodon, url), Job::Capture, &ctx()),
        answer,
    )
}

/// Answers `/api/v1/statuses/<id>` with `file` and `/history` with the history fixture.
fn mastodon_answers(file: &'static str) -> impl FnMut(&Request) -> Fetched {
    move |req| {
        if req.url.path().ends_with("/history") {
            json_resp(req, 200, fixture("mastodon/status_photo_history.json"))
        } else {
            json_resp(req, 200, fixture(&format!("mastodon/{file}")))
        }
    }
}

#[test]
fn mastodon_recognises_only_unambiguous_shapes_on_any_host() {
    for (url, id) in [
        (
            "https://mastodon.example/@ada/112233445566778899",
            "mastodon.example/112233445566778899",
        ),
        (
            "https://Social.Example.ORG/@ada@other.example/1234",
            "social.example.org/1234",
        ),
        (
            "https://mastodon.social/users/Gargron/statuses/109876543210",
            "mastodon.social/109876543210",
        ),
        (
            "https://mastodon.social/api/v1/statuses/109876543210",
            "mastodon.social/109876543210",
        ),
        ("http://localhost:3000/@a/9", "localhost:3000/9"),
    ] {
        match platforms::recognise(&Url::parse(url).unwrap()) {
            Some((p, Target::Post { platform_id, .. })) => {
                assert_eq!(p.name(), "mastodon", "{url}");
                assert_eq!(platform_id, id, "{url}");
            }
            other => panic!("{url}: {:?}", other.map(|(p, t)| (p.name(), t))),
        }
    }
    // Other shapes belong to `web`: Medium's /@user/slug, a bare /@user on an unknown host,
    // a non-numeric id.
    for url in [
        "https://medium.com/@someone/a-story-1a2b3c4d",
        "https://blog.example/@ada",
        "https://mastodon.example/@ada/12ab",
        "https://mastodon.example/users/ada",
        "https://example.com/api/v1/statuses/",
    ] {
        let (p, _) = platforms::recognise(&Url::parse(url).unwrap()).unwrap();
        assert_eq!(p.name(), "web", "{url}");
    }
    // An account on a well-known host.
    assert_eq!(
        Mastodon.recognise(&Url::parse("https://mastodon.social/@Gargron").unwrap()),
        Some(Target::Account {
            account_id: "mastodon.social/Gargron".into(),
            url: "https://mastodon.social/@Gargron".into()
        })
    );
}

#[test]
fn mastodon_post_with_every_media_kind_and_its_edits() {
    let (f, asked) = mastodon_capture(M_PHOTO, mastodon_answers("status_photo.json"));
    assert_eq!(
        asked.iter().map(|r| r.url.as_str()).collect::<Vec<_>>(),
        [
            "https://mastodon.example/api/v1/statuses/112233445566778899",
            "https://mastodon.example/api/v1/statuses/112233445566778899/history"
        ]
    );
    let p = expect_post(f);
    assert_eq!(p.id.0, "mastodon:mastodon.example/112233445566778899");
    assert_eq!(p.url, M_PHOTO);
    assert!(
        p.alt_urls.contains(
            &"https://mastodon.example/users/ada/statuses/112233445566778899".to_string()
        )
    );
    let text = p.text.as_deref().unwrap();
    assert!(
        text.starts_with(
            "Low tide this morning: a heron & three crabs at the old pier. #shorebirds"
        ),
        "{text}"
    );
    assert!(
        text.contains("Sound recording and the clip below."),
        "{text}"
    );
    let html = p.html.as_deref().unwrap();
    assert!(
        !html.contains("script") && !html.contains("alert"),
        "{html}"
    );
    assert!(
        html.contains("href=\"https://mastodon.example/tags/shorebirds\""),
        "{html}"
    );
    let a = p.author.as_ref().unwrap();
    assert_eq!(a.name.as_deref(), Some("Ada Lighthouse"));
    assert_eq!(a.handle.as_deref(), Some("ada@mastodon.example"));
    assert_eq!(a.id.as_deref(), Some("109311111111111111"));
    assert_eq!(a.url.as_deref(), Some("https://mastodon.example/@ada"));
    let t: jiff::Timestamp = p.created_at.as_deref().unwrap().parse().unwrap();
    assert_eq!(
        t,
        "2024-05-01T06:12:45.120Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
    );
    let kinds: Vec<MediaKind> = p.media.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MediaKind::Image,
            MediaKind::Video,
            MediaKind::Gif,
            MediaKind::Audio
        ]
    );
    assert_eq!(
        p.media[0].url,
        "https://files.mastodon.example/media_attachments/files/112233000000000001/original/image.jpg"
    );
    assert_eq!(
        p.media[0].alt.as_deref(),
        Some("A grey heron standing in shallow water by wooden pier posts")
    );
    assert_eq!(p.media[3].url.rsplit('/').next(), Some("audio.mp3"));
    let c = p.counts.as_ref().unwrap();
    assert_eq!(
        (c.reposts, c.comments, c.likes),
        (Some(12), Some(3), Some(41))
    );
    assert_eq!(p.extra["edited_at"], "2024-05-01T06:20:02.000Z");
    let hist = p.extra["edit_history"].as_array().unwrap();
    assert_eq!(hist.len(), 2);
    assert!(hist[0]["text"].as_str().unwrap().contains("two crabs"));
    assert!(p.repost_of.is_none() && p.quote_of.is_none() && p.reply_to.is_none());

    // A check asks the status only, never the history.
    let (f, asked) = run(
        Mastodon.post_plan(&target_of(&Mastodon, M_PHOTO), Job::Check, &ctx()),
        mastodon_answers("status_photo.json"),
    );
    assert_eq!(asked.len(), 1);
    assert_eq!(expect_post(f).extra.get("edit_history"), None);
}

#[test]
fn mastodon_boost_quote_and_reply() {
    let (f, _) = mastodon_capture(
        "https://mastodon.example/@ada/112233445566779900",
        mastodon_answers("status_boost.json"),
    );
    let p = expect_post(f);
    assert_eq!(p.text.as_deref(), Some(""));
    let orig = p.repost_of.as_ref().expect("a boost has repost_of");
    assert_eq!(orig.id.0, "mastodon:mastodon.example/112233445566770001");
    assert_eq!(
        orig.text.as_deref(),
        Some("The harbour lights are back on after the storm.")
    );
    assert_eq!(
        orig.author.as_ref().unwrap().name.as_deref(),
        Some("Ben Harbour")
    );

    let (f, _) = mastodon_capture(
        "https://mastodon.example/@ada/112233445566779901",
        mastodon_answers("status_quote.json"),
    );
    let p = expect_post(f);
    let q = p.quote_of.as_ref().expect("quote_of");
    assert_eq!(
        q.text.as_deref(),
        Some("Ferry timetable changes from Monday.")
    );
    assert_eq!(q.id.0, "mastodon:mastodon.example/112233445566770002");
    assert_eq!(p.extra.get("quote_state"), None);

    let (f, _) = mastodon_capture(
        "https://mastodon.example/@ada/112233445566779902",
        mastodon_answers("status_quote_deleted.json"),
    );
    let p = expect_post(f);
    assert!(p.quote_of.is_none());
    assert_eq!(p.extra["quote_state"], "deleted");

    let (f, _) = mastodon_capture(
        "https://mastodon.example/@ada/112233445566779903",
        mastodon_answers("status_reply.json"),
    );
    let p = expect_post(f);
    let r = p.reply_to.as_ref().expect("reply_to");
    assert_eq!(r.id.0, "mastodon:mastodon.example/112233445566770003");
    assert_eq!(
        r.url,
        "https://mastodon.example/@cal@other.example/112233445566770003"
    );
    assert_eq!(
        r.author.as_ref().unwrap().handle.as_deref(),
        Some("cal@other.example")
    );
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .starts_with("@cal Yes, the lighthouse")
    );
}

#[test]
fn mastodon_markers_are_classified() {
    type Case<'a> = (u16, &'a str, &'a [u8], Outcome, Option<Cause>);
    let cases: &[Case] = &[
        (
            404,
            "application/json",
            br#"{"error":"Record not found"}"#,
            Outcome::Deleted,
            Some(Cause::Unknown),
        ),
        (
            410,
            "application/json",
            br#"{"error":"Record not found"}"#,
            Outcome::Deleted,
            Some(Cause::Unknown),
        ),
        (
            401,
            "application/json",
            br#"{"error":"This API requires an authenticated user"}"#,
            Outcome::Restricted,
            None,
        ),
        (
            403,
            "application/json",
            br#"{"error":"This action is not allowed"}"#,
            Outcome::Restricted,
            None,
        ),
        (
            410,
            "application/json",
            br#"{"error":"Account is suspended"}"#,
            Outcome::AccountGone,
            Some(Cause::Platform),
        ),
        // Not Mastodon's own words: never a verdict.
        (
            404,
            "text/html",
            b"<html><h1>Not Found</h1></html>",
            Outcome::Unreachable,
            None,
        ),
        (
            403,
            "text/html",
            b"<html>Just a moment...</html>",
            Outcome::Unreachable,
            None,
        ),
        (
            429,
            "application/json",
            br#"{"error":"Too many requests"}"#,
            Outcome::Unreachable,
            None,
        ),
        (503, "text/html", b"down", Outcome::Unreachable, None),
        (
            200,
            "text/html",
            b"<html>a blog</html>",
            Outcome::Unreachable,
            None,
        ),
    ];
    for (status, mime, body, outcome, cause) in cases {
        let (f, _) = mastodon_capture(M_PHOTO, |req| resp(req, *status, mime, body.to_vec()));
        let g = expect_gone(f);
        assert_eq!(
            (g.outcome, g.cause),
            (*outcome, *cause),
            "HTTP {status} {mime}: {g:?}"
        );
    }
    // The project fixtures for the same answers.
    for (file, status, outcome) in [
        ("error_404.json", 404, Outcome::Deleted),
        ("error_401.json", 401, Outcome::Restricted),
        ("error_410_suspended.json", 410, Outcome::AccountGone),
    ] {
        let (f, _) = mastodon_capture(M_PHOTO, |req| {
            json_resp(req, status, fixture(&format!("mastodon/{file}")))
        });
        let g = expect_gone(f);
        assert_eq!(g.outcome, outcome, "{file}");
        assert!(g.message.unwrap().contains(&format!("HTTP {status}")));
    }
    // An account marked suspended.
    let (f, _) = mastodon_capture(M_PHOTO, mastodon_answers("status_suspended_account.json"));
    let g = expect_gone(f);
    assert_eq!(
        (g.outcome, g.cause),
        (Outcome::AccountGone, Some(Cause::Platform))
    );
    // Network failure.
    let (f, _) = mastodon_capture(M_PHOTO, |_| Fetched::Failed("connection refused".into()));
    assert_eq!(expect_gone(f).outcome, Outcome::Unreachable);
    // JSON without an id: broken, not gone.
    let (f, _) = mastodon_capture(M_PHOTO, |req| {
        json_resp(req, 200, b"{\"content\":\"x\"}".to_vec())
    });
    assert!(
        matches!(f, Finding::Broken { ref missing, .. } if missing == "id"),
        "{f:?}"
    );
}

#[test]
fn mastodon_timeline_looks_up_the_account_then_pages_with_max_id() {
    let account = Target::Account {
        account_id: "mastodon.example/ada".into(),
        url: "https://mastodon.example/@ada".into(),
    };
    let plan = Mastodon.timeline_plan(&account, None, &ctx()).unwrap();
    let (f, asked) = run(plan, |req| {
        if req.url.path() == "/api/v1/accounts/lookup" {
            json_resp(req, 200, fixture("mastodon/account_lookup.json"))
        } else {
            json_resp(req, 200, fixture("mastodon/account_statuses.json"))
        }
    });
    assert_eq!(path_query(&asked[0]), "/api/v1/accounts/lookup?acct=ada");
    assert_eq!(
        path_query(&asked[1]),
        "/api/v1/accounts/109311111111111111/statuses?limit=40"
    );
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].text.as_deref(), Some("Evening: fog rolling in."));
    let cursor = next_cursor.unwrap();
    assert_eq!(cursor, "109311111111111111:112233445566779906");

    // The next page skips the lookup and sends max_id; an empty page ends the timeline.
    let plan = Mastodon
        .timeline_plan(&account, Some(&cursor), &ctx())
        .unwrap();
    let (f, asked) = run(plan, |req| json_resp(req, 200, b"[]".to_vec()));
    assert_eq!(asked.len(), 1);
    assert_eq!(
        path_query(&asked[0]),
        "/api/v1/accounts/109311111111111111/statuses?limit=40&max_id=112233445566779906"
    );
    assert!(matches!(f, Finding::Timeline { ref posts, next_cursor: None } if posts.is_empty()));

    // A suspended account, and one that is not there.
    let plan = Mastodon.timeline_plan(&account, None, &ctx()).unwrap();
    let (f, _) = run(plan, |req| {
        json_resp(req, 200, fixture("mastodon/account_suspended.json"))
    });
    let g = expect_gone(f);
    assert_eq!(
        (g.outcome, g.cause),
        (Outcome::AccountGone, Some(Cause::Platform))
    );
    let plan = Mastodon.timeline_plan(&account, None, &ctx()).unwrap();
    let (f, _) = run(plan, |req| {
        json_resp(req, 404, fixture("mastodon/error_404.json"))
    });
    assert_eq!(expect_gone(f).outcome, Outcome::AccountGone);
}

// =======================================================================================
// Bluesky

const B_DID: &str = "did:plc:ic6zqvuw5ulmfpjiwnhsr2ns";
const B_HANDLE_URL: &str = "https://bsky.app/profile/soubhikbarari.bsky.social/post/3k7qmjev5lr2s";

fn bsky_capture(url: &str, answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    run(
        Bluesky.post_plan(&target_of(&Bluesky, url), Job::Capture, &ctx()),
        answer,
    )
}

/// resolveHandle → the fixture's DID, getPostThread → `thread`.
fn bsky_answers(thread: Vec<u8>) -> impl FnMut(&Request) -> Fetched {
    move |req| {
        if req.url.path().ends_with("resolveHandle") {
            json_resp(req, 200, format!("{{\"did\":\"{B_DID}\"}}"))
        } else {
            json_resp(req, 200, thread.clone())
        }
    }
}

/// A real postView (from getQuotes or getAuthorFeed) served as a getPostThread answer.
fn as_thread(post_view: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": post_view, "replies": []}}))
        .unwrap()
}

#[test]
fn bluesky_recognises_web_urls_and_at_uris() {
    assert_eq!(
        Bluesky.recognise(&Url::parse(B_HANDLE_URL).unwrap()),
        Some(Target::Post {
            platform_id: "soubhikbarari.bsky.social/3k7qmjev5lr2s".into(),
            url: B_HANDLE_URL.into()
        })
    );
    let did_url = format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s");
    let (p, t) = platforms::recognise(&Url::parse(&did_url).unwrap()).unwrap();
    assert_eq!(p.name(), "bluesky");
    assert!(
        matches!(t, Target::Post { ref platform_id, .. } if *platform_id == format!("{B_DID}/3k7qmjev5lr2s"))
    );
    let at = format!("at://{B_DID}/app.bsky.feed.post/3k7qmjev5lr2s");
    assert_eq!(
        bluesky::parse_at_uri(&at),
        Some((B_DID.into(), "3k7qmjev5lr2s".into()))
    );
    assert_eq!(
        bluesky::at_uri_to_url(&at).as_deref(),
        Some(did_url.as_str())
    );
    assert_eq!(
        bluesky::parse_at_uri(&format!("at://{B_DID}/app.bsky.feed.like/3k7")),
        None
    );
    // A handle at-uri is a URL the url crate reads.
    let t =
        Bluesky.recognise(&Url::parse("at://alice.example.com/app.bsky.feed.post/3abc").unwrap());
    assert!(
        matches!(t, Some(Target::Post { ref platform_id, .. }) if platform_id == "alice.example.com/3abc"),
        "{t:?}"
    );
    assert!(matches!(
        Bluesky.recognise(&Url::parse("https://bsky.app/profile/chriskenny.bsky.social").unwrap()),
        Some(Target::Account { ref account_id, .. }) if account_id == "chriskenny.bsky.social"
    ));
    assert_eq!(
        Bluesky.recognise(&Url::parse("https://bsky.app/search?q=x").unwrap()),
        None
    );
}

#[test]
fn bluesky_post_with_facets_and_an_image() {
    let (f, asked) = bsky_capture(
        B_HANDLE_URL,
        bsky_answers(fixture(
            "bluesky/xrpc_app.bsky.feed.getPostThread_3k7qmjev5lr2s.json",
        )),
    );
    assert_eq!(
        asked[0].url.as_str(),
        "https://public.api.bsky.app/xrpc/com.atproto.identity.resolveHandle?handle=soubhikbarari.bsky.social"
    );
    assert_eq!(asked[1].url.path(), "/xrpc/app.bsky.feed.getPostThread");
    let uri: String = asked[1]
        .url
        .query_pairs()
        .find(|(k, _)| k == "uri")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(
        uri,
        format!("at://{B_DID}/app.bsky.feed.post/3k7qmjev5lr2s")
    );
    let p = expect_post(f);
    assert_eq!(p.id.0, format!("bluesky:{B_DID}/3k7qmjev5lr2s"));
    assert_eq!(
        p.url,
        format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s")
    );
    assert!(p.alt_urls.contains(&B_HANDLE_URL.to_string()));
    let text = p.text.as_deref().unwrap();
    assert!(
        text.starts_with("Excited to be a speaker for the \n@rstatsai conf on Oct 19 @Georgetown!"),
        "{text}"
    );
    let html = p.html.as_deref().unwrap();
    assert!(
        html.contains(r#"<a href="http://localview.net""#) && html.contains(">localview.net</a>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="https://rstats.ai/gov.html""#)
            && html.contains(">rstats.ai/gov.html</a>"),
        "{html}"
    );
    let a = p.author.as_ref().unwrap();
    assert_eq!(a.name.as_deref(), Some("Soubhik Barari"));
    assert_eq!(a.handle.as_deref(), Some("soubhikbarari.bsky.social"));
    assert_eq!(a.id.as_deref(), Some(B_DID));
    let t: jiff::Timestamp = p.created_at.as_deref().unwrap().parse().unwrap();
    assert_eq!(
        t,
        "2023-09-19T11:32:54.574Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
    );
    assert_eq!(p.media.len(), 1);
    assert_eq!(p.media[0].kind, MediaKind::Image);
    assert_eq!(
        p.media[0].url,
        format!(
            "https://av-cdn.bsky.app/img/feed_fullsize/plain/{B_DID}/bafkreictkyws7qbruuupes52t6k5o5o5qfggf7pm6urzz7dyty53gzu3h4@jpeg"
        )
    );
    assert_eq!(p.counts.as_ref().unwrap().likes, Some(4));

    // A DID URL asks no resolveHandle.
    let (f, asked) = bsky_capture(
        &format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s"),
        bsky_answers(fixture(
            "bluesky/xrpc_app.bsky.feed.getPostThread_3k7qmjev5lr2s.json",
        )),
    );
    assert_eq!(asked.len(), 1);
    assert_eq!(
        expect_post(f).id.0,
        format!("bluesky:{B_DID}/3k7qmjev5lr2s")
    );
}

#[test]
fn bluesky_quotes_and_replies() {
    let quotes = fixture_json("bluesky/xrpc_app.bsky.feed.getQuotes.json");
    // posts[0]: a plain quote (record#view / #viewRecord), served as a thread.
    let (f, _) = bsky_capture(
        "https://bsky.app/profile/did:plc:3ixxligsafp4u6ghljcoetnm/post/3lc6isqcp6u2y",
        bsky_answers(as_thread(&quotes["posts"][0])),
    );
    let p = expect_post(f);
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .starts_with("This is my first post using @bskyr.bsky.social")
    );
    assert!(
        p.html
            .as_deref()
            .unwrap()
            .contains("href=\"https://bsky.app/hashtag/rstats\""),
        "{:?}",
        p.html
    );
    let q = p.quote_of.as_ref().expect("quote_of");
    assert_eq!(
        q.id.0,
        "bluesky:did:plc:5c2r73erhng4bszmxlfdtscf/3lc5c5qv72r2w"
    );
    assert!(
        q.text
            .as_deref()
            .unwrap()
            .starts_with("Test quote with :emoji: and 🔥")
    );
    assert_eq!(
        q.author.as_ref().unwrap().name.as_deref(),
        Some("bskyr R package")
    );
    // The mention facet links to the profile by DID.
    assert!(
        q.html
            .as_deref()
            .unwrap()
            .contains("href=\"https://bsky.app/profile/did:plc:5c2r73erhng4bszmxlfdtscf\"")
    );

    // posts[1]: recordWithMedia, the media half an external link card.
    let (f, _) = bsky_capture(
        "https://bsky.app/profile/did:plc:wpe35pganb6d4pg4ekmfy6u5/post/3lc5d6zspys2c",
        bsky_answers(as_thread(&quotes["posts"][1])),
    );
    let p = expect_post(f);
    assert!(p.quote_of.is_some());
    assert_eq!(
        p.extra["external"]["uri"],
        "https://christophertkenny.com/bskyr/"
    );
    assert!(p.media.is_empty());

    // A reply (getAuthorFeed item 1) names its parent.
    let feed = fixture_json("bluesky/xrpc_app.bsky.feed.getAuthorFeed.json");
    let (f, _) = bsky_capture(
        "https://bsky.app/profile/did:plc:wpe35pganb6d4pg4ekmfy6u5/post/3kasvzedyyu2r",
        bsky_answers(as_thread(&feed["feed"][1]["post"])),
    );
    let p = expect_post(f);
    let r = p.reply_to.as_ref().expect("reply_to");
    assert_eq!(
        r.id.0,
        "bluesky:did:plc:wpe35pganb6d4pg4ekmfy6u5/3kasvrt6b372y"
    );
}

#[test]
fn bluesky_markers_are_classified() {
    let thread = fixture_json("bluesky/xrpc_app.bsky.feed.getPostThread_3k7qmjev5lr2s.json");
    let uri = format!("at://{B_DID}/app.bsky.feed.post/3k7qmjev5lr2s");
    let not_found = format!(r#"{{"error":"NotFound","message":"Post not found: {uri}"}}"#);
    let mut takedown = thread.clone();
    takedown["thread"]["post"]["labels"] = json!([{"src": "did:plc:ar7c4by46qjdydhdevvrndac", "uri": uri, "val": "!takedown", "cts": "2024-01-01T00:00:00Z"}]);
    let mut author_down = thread.clone();
    author_down["thread"]["post"]["author"]["labels"] =
        json!([{"src": "did:plc:ar7c4by46qjdydhdevvrndac", "val": "!takedown"}]);
    // A label that names no labeller is no one's word: the post is still read.
    let mut unsourced = thread.clone();
    unsourced["thread"]["post"]["labels"] = json!([{"uri": uri, "val": "!takedown"}]);
    let (f, _) = bsky_capture(
        &format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s"),
        |req| json_resp(req, 200, unsourced.to_string()),
    );
    assert!(
        matches!(f, Finding::Post(_)),
        "an unsourced !takedown made a live post gone: {f:?}"
    );
    let cases: Vec<(u16, String, Outcome, Option<Cause>)> = vec![
        (400, not_found, Outcome::Deleted, Some(Cause::Unknown)),
        (200, json!({"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": uri, "notFound": true}}).to_string(), Outcome::Deleted, Some(Cause::Unknown)),
        (200, json!({"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": uri, "blocked": true}}).to_string(), Outcome::Restricted, None),
        (400, r#"{"error":"BlockedByActor","message":"Requester is blocked"}"#.into(), Outcome::Restricted, None),
        (200, takedown.to_string(), Outcome::Deleted, Some(Cause::Platform)),
        (200, author_down.to_string(), Outcome::AccountGone, Some(Cause::Platform)),
        (400, r#"{"error":"AccountTakedown","message":"Account has been taken down"}"#.into(), Outcome::AccountGone, Some(Cause::Platform)),
        (429, r#"{"error":"RateLimitExceeded"}"#.into(), Outcome::Unreachable, None),
        (502, "<html>bad gateway</html>".into(), Outcome::Unreachable, None),
        (200, "<html>not json</html>".into(), Outcome::Unreachable, None),
    ];
    let did_url = format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s");
    for (status, body, outcome, cause) in cases {
        let (f, _) = bsky_capture(&did_url, |req| json_resp(req, status, body.clone()));
        let g = expect_gone(f);
        assert_eq!(
            (g.outcome, g.cause),
            (outcome, cause),
            "HTTP {status} {body}: {g:?}"
        );
    }
    // A handle that no longer resolves is about the account.
    let (f, asked) = bsky_capture(B_HANDLE_URL, |req| {
        json_resp(
            req,
            400,
            r#"{"error":"InvalidRequest","message":"Unable to resolve handle"}"#,
        )
    });
    assert_eq!(asked.len(), 1);
    assert_eq!(expect_gone(f).outcome, Outcome::AccountGone);
}

#[test]
fn bluesky_author_feed_reposts_and_cursor() {
    let account = target_of(&Bluesky, "https://bsky.app/profile/chriskenny.bsky.social");
    let plan = Bluesky.timeline_plan(&account, None, &ctx()).unwrap();
    let (f, asked) = run(plan, |req| {
        json_resp(
            req,
            200,
            fixture("bluesky/xrpc_app.bsky.feed.getAuthorFeed.json"),
        )
    });
    assert_eq!(
        path_query(&asked[0]),
        "/xrpc/app.bsky.feed.getAuthorFeed?actor=chriskenny.bsky.social&limit=50"
    );
    let Finding::Timeline { posts, next_cursor } = f else {
        panic!("{f:?}")
    };
    assert_eq!(posts.len(), 3);
    // Item 0: a repost by chriskenny of hansilowang's post.
    let orig = posts[0].repost_of.as_ref().expect("repost_of");
    assert_eq!(
        posts[0].author.as_ref().unwrap().handle.as_deref(),
        Some("chriskenny.bsky.social")
    );
    assert_eq!(
        orig.author.as_ref().unwrap().handle.as_deref(),
        Some("hansilowang.bsky.social")
    );
    assert!(
        orig.text
            .as_deref()
            .unwrap()
            .starts_with("NEW: The final report of the National Academies panel")
    );
    // Item 1: a reply whose hydrated parent is kept.
    let r = posts[1].reply_to.as_ref().unwrap();
    assert_eq!(
        r.text.as_deref(),
        Some("Test post from rstats (attempt #1)")
    );
    assert_eq!(
        posts[2].text.as_deref(),
        Some("Test post from rstats (attempt #1)")
    );
    let cursor = next_cursor.unwrap();
    assert_eq!(
        cursor,
        "1696301352905::bafyreifijeifzyh724gobyh3s2cswupnzib3wdbhrtmozbt4abb3wmyvaa"
    );
    let plan = Bluesky
        .timeline_plan(&account, Some(&cursor), &ctx())
        .unwrap();
    let (f, asked) = run(plan, |req| json_resp(req, 200, r#"{"feed":[]}"#));
    assert_eq!(
        asked[0]
            .url
            .query_pairs()
            .find(|(k, _)| k == "cursor")
            .unwrap()
            .1,
        cursor
    );
    assert!(matches!(
        f,
        Finding::Timeline {
            next_cursor: None,
            ..
        }
    ));
    let plan = Bluesky.timeline_plan(&account, None, &ctx()).unwrap();
    let (f, _) = run(plan, |req| {
        json_resp(
            req,
            400,
            r#"{"error":"InvalidRequest","message":"Profile not found"}"#,
        )
    });
    assert_eq!(expect_gone(f).outcome, Outcome::AccountGone);
}

// =======================================================================================
// Reddit

/// One thing of the real `/api/info` batch, by fullname.
fn batch_thing(fullname: &str) -> Value {
    let v = fixture_json("reddit/oauth_api_info_batch_mixed_t1_t3_t5.json");
    v["data"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["data"]["name"] == fullname)
        .unwrap_or_else(|| panic!("{fullname} not in the batch"))
        .clone()
}

/// A real t3 thing served in the shape of `comments/<id>.json` (constructed envelope).
fn comments_page(t3: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!([
        {"kind": "Listing", "data": {"children": [t3], "after": null, "before": null}},
        {"kind": "Listing", "data": {"children": [], "after": null, "before": null}}
    ]))
    .unwrap()
}

fn reddit_capture(url: &str, answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    run(
        Reddit.post_plan(&target_of(&Reddit, url), Job::Capture, &ctx()),
        answer,
    )
}

#[test]
fn reddit_recognises_post_comment_and_short_urls() {
    for (url, id) in [
        (
            "https://www.reddit.com/r/test/comments/52o2fl/testing_define_bot/",
            "t3_52o2fl",
        ),
        (
            "https://old.reddit.com/r/test/comments/52o2fl/",
            "t3_52o2fl",
        ),
        (
            "https://np.reddit.com/r/test/comments/52o2fl/testing_define_bot/d7ltvl0/",
            "t1_d7ltvl0",
        ),
        ("https://reddit.com/comments/52o2fl", "t3_52o2fl"),
        ("https://redd.it/52o2fl", "t3_52o2fl"),
        (
            "https://www.reddit.com/r/test/comments/52o2fl/testing_define_bot.json",
            "t3_52o2fl",
        ),
    ] {
        match platforms::recognise(&Url::parse(url).unwrap()) {
            Some((p, Target::Post { platform_id, .. })) => {
                assert_eq!((p.name(), platform_id.as_str()), ("reddit", id), "{url}");
            }
            other => panic!("{url}: {:?}", other.map(|(p, t)| (p.name(), t))),
        }
    }
    assert!(matches!(
        Reddit.recognise(&Url::parse("https://www.reddit.com/r/test/s/AbCdEf123").unwrap()),
        Some(Target::Follow { .. })
    ));
    assert_eq!(
        Reddit.recognise(&Url::parse("https://www.reddit.com/r/test/").unwrap()),
        None
    );
}

#[test]
fn reddit_post_fields() {
    // Real: the post half of the deleted-comment permalink answer.
    let (f, asked) = reddit_capture(
        "https://www.reddit.com/r/test/comments/52o2fl/testing_define_bot/",
        |req| {
            json_resp(
                req,
                200,
                fixture("reddit/oauth_comments_52o2fl_d7ltvl0_context_deleted_comment.json"),
            )
        },
    );
    assert_eq!(
        asked[0].url.as_str(),
        "https://www.reddit.com/comments/52o2fl.json?raw_json=1"
    );
    let p = expect_post(f);
    assert_eq!(p.id.0, "reddit:t3_52o2fl");
    assert_eq!(
        p.url,
        "https://www.reddit.com/r/test/comments/52o2fl/testing_define_bot/"
    );
    assert_eq!(p.title.as_deref(), Some("testing define bot!"));
    assert_eq!(p.text.as_deref(), Some("test"));
    assert_eq!(
        p.author.as_ref().unwrap().name.as_deref(),
        Some("CorvetteCole")
    );
    assert_eq!(p.created_at.as_deref(), Some("2016-09-14T01:12:03+00:00"));
    let c = p.counts.as_ref().unwrap();
    assert_eq!((c.likes, c.comments), (Some(1), Some(19)));

    // Real thing, constructed envelope: an image post.
    let (f, _) = reddit_capture("https://redd.it/5dec16", |req| {
        json_resp(req, 200, comments_page(&batch_thing("t3_5dec16")))
    });
    let p = expect_post(f);
    assert_eq!(
        p.title.as_deref(),
        Some("What it feels like to go to r/[redacted]")
    );
    assert_eq!(p.media.len(), 1);
    assert_eq!(p.media[0].url, "https://i.sli.mg/cgdAEL.jpg");
    // A link post: its preview image.
    let (f, _) = reddit_capture("https://redd.it/5dec11", |req| {
        json_resp(req, 200, comments_page(&batch_thing("t3_5dec11")))
    });
    let p = expect_post(f);
    assert_eq!(p.media.len(), 1, "{:?}", p.media);
    assert!(p.media[0].url.starts_with("https://i.redditmedia.com/"));
    assert!(p.extra.contains_key("link_url"));

    // Constructed: a gallery, in gallery order.
    let mut t3 = batch_thing("t3_5dec04");
    t3["data"]["gallery_data"] = json!({"items": [{"media_id": "b2", "id": 1}, {"media_id": "a1", "id": 2, "caption": "second"}]});
    t3["data"]["media_metadata"] = json!({
        "a1": {"status": "valid", "e": "Image", "m": "image/jpg", "s": {"u": "https://i.redd.it/a1.jpg", "x": 10, "y": 10}},
        "b2": {"status": "valid", "e": "Image", "m": "image/png", "s": {"u": "https://i.redd.it/b2.png", "x": 10, "y": 10}}
    });
    let (f, _) = reddit_capture("https://redd.it/5dec04", |req| {
        json_resp(req, 200, comments_page(&t3))
    });
    let p = expect_post(f);
    let urls: Vec<&str> = p.media.iter().map(|m| m.url.as_str()).collect();
    assert_eq!(
        urls,
        ["https://i.redd.it/b2.png", "https://i.redd.it/a1.jpg"]
    );
    assert_eq!(p.media[1].alt.as_deref(), Some("second"));
}

#[test]
fn reddit_markers_are_classified() {
    // Real, whole answer: removed_by_category "reddit" (2025).
    let (f, _) = reddit_capture("https://www.reddit.com/comments/1kh35wk/", |req| {
        json_resp(
            req,
            200,
            fixture("reddit/oauth_comments_1kh35wk_removed_by_category_reddit.json"),
        )
    });
    let g = expect_gone(f);
    assert_eq!(
        (g.outcome, g.cause),
        (Outcome::Deleted, Some(Cause::Platform))
    );
    assert_eq!(g.message.as_deref(), Some("removed_by_category: reddit"));

    // Real things from /api/info, in a constructed comments envelope.
    for (fullname, outcome, cause) in [
        ("t3_5dec01", Outcome::Deleted, Some(Cause::Author)), // [deleted] author + selftext
        ("t3_5dec18", Outcome::Deleted, Some(Cause::Author)),
        ("t3_5dec21", Outcome::Deleted, Some(Cause::Platform)), // [removed], author kept
        ("t3_5dec30", Outcome::Deleted, Some(Cause::Platform)),
    ] {
        let id = fullname.trim_start_matches("t3_");
        let (f, _) = reddit_capture(&format!("https://redd.it/{id}"), |req| {
            json_resp(req, 200, comments_page(&batch_thing(fullname)))
        });
        let g = expect_gone(f);
        assert_eq!((g.outcome, g.cause), (outcome, cause), "{fullname}");
    }
    // Classification of single things, real: a removed comment whose author is also gone,
    // and an account deleted with its comment kept (still live).
    let t = batch_thing("t1_d7ltv31");
    assert_eq!(
        reddit::classify_thing(&t["data"]).map(|x| (x.0, x.1)),
        Some((Outcome::Deleted, Cause::Platform))
    );
    assert_eq!(
        reddit::classify_thing(&batch_thing("t1_d7ltv08")["data"]),
        None
    );
    // Constructed: the other categories and admin texts.
    for (cat, cause) in [
        ("moderator", Cause::Platform),
        ("automod_filtered", Cause::Platform),
        ("anti_evil_ops", Cause::Platform),
        ("copyright_takedown", Cause::Platform),
        ("deleted", Cause::Author),
        ("author", Cause::Author),
    ] {
        let d = json!({"author": "someone", "selftext": "x", "removed_by_category": cat});
        assert_eq!(
            reddit::classify_thing(&d).map(|x| (x.0, x.1)),
            Some((Outcome::Deleted, cause)),
            "{cat}"
        );
    }
    let d = json!({"author": "[deleted]", "body": "[ Removed by Reddit on account of violating the [content policy](/help/contentpolicy). ]"});
    assert_eq!(
        reddit::classify_thing(&d).map(|x| x.1),
        Some(Cause::Platform)
    );

    // Subreddit-level and access answers (constructed from the documented bodies).
    let cases: &[(u16, &str, &str, Outcome, Option<Cause>)] = &[
        (
            403,
            "application/json",
            r#"{"reason":"private","message":"Forbidden","error":403}"#,
            Outcome::Restricted,
            None,
        ),
        (
            403,
            "application/json",
            r#"{"reason":"quarantined","quarantine_message":"…","message":"Forbidden","error":403}"#,
            Outcome::Restricted,
            Some(Cause::Platform),
        ),
        (
            404,
            "application/json",
            r#"{"reason":"banned","message":"Not Found","error":404}"#,
            Outcome::Deleted,
            Some(Cause::Platform),
        ),
        (
            404,
            "application/json",
            r#"{"message":"Not Found","error":404}"#,
            Outcome::Deleted,
            Some(Cause::Unknown),
        ),
        (
            403,
            "text/html",
            "<!doctype html><html><head><title>Blocked</title></head><body><h1>whoa there, pardner!</h1><p>Your request has been blocked due to a network policy.</p></body></html>",
            Outcome::Unreachable,
            None,
        ),
        (
            429,
            "application/json",
            r#"{"message":"Too Many Requests","error":429}"#,
            Outcome::Unreachable,
            None,
        ),
        (
            200,
            "text/html",
            "<html>log in to continue</html>",
            Outcome::Unreachable,
            None,
        ),
        (500, "text/html", "oops", Outcome::Unreachable, None),
    ];
    for (status, mime, body, outcome, cause) in cases {
        let (f, _) = reddit_capture("https://redd.it/52o2fl", |req| {
            resp(req, *status, mime, body.as_bytes().to_vec())
        });
        let g = expect_gone(f);
        assert_eq!(
            (g.outcome, g.cause),
            (*outcome, *cause),
            "HTTP {status} {body}: {g:?}"
        );
        if body.contains("pardner") {
            assert!(g.message.unwrap().contains("whoa there, pardner"));
        }
    }
}

#[test]
fn reddit_deleted_comment_is_confirmed_by_api_info() {
    // Both answers real: the permalink without the comment, then /api/info with [deleted].
    let url = "https://www.reddit.com/r/test/comments/52o2fl/testing_define_bot/d7ltvl0/";
    let (f, asked) = reddit_capture(url, |req| {
        if req.url.path().starts_with("/api/info") {
            json_resp(
                req,
                200,
                fixture("reddit/oauth_api_info_t1_d7ltvl0_deleted_comment.json"),
            )
        } else {
            json_resp(
                req,
                200,
                fixture("reddit/oauth_comments_52o2fl_d7ltvl0_context_deleted_comment.json"),
            )
        }
    });
    assert_eq!(
        asked[0].url.as_str(),
        "https://www.reddit.com/comments/52o2fl/_/d7ltvl0.json?raw_json=1"
    );
    assert_eq!(
        asked[1].url.as_str(),
        "https://www.reddit.com/api/info.json?id=t1_d7ltvl0&raw_json=1"
    );
    let g = expect_gone(f);
    assert_eq!(
        (g.outcome, g.cause),
        (Outcome::Deleted, Some(Cause::Author))
    );
    // Missing from both: deleted, cause unknown.
    let (f, _) = reddit_capture(url, |req| {
        if req.url.path().starts_with("/api/info") {
            json_resp(req, 200, r#"{"kind":"Listing","data":{"children":[]}}"#)
        } else {
            json_resp(
                req,
                200,
                fixture("reddit/oauth_comments_52o2fl_d7ltvl0_context_deleted_comment.json"),
            )
        }
    });
    let g = expect_gone(f);
    assert_eq!(
        (g.outcome, g.cause),
        (Outcome::Deleted, Some(Cause::Unknown))
    );
    // A live comment (real comment data, constructed envelope) answers its post.
    let mut page: Value =
        fixture_json("reddit/oauth_comments_52o2fl_d7ltvl0_context_deleted_comment.json");
    let mut c = batch_thing("t1_d7ltv02");
    c["data"]["id"] = json!("d7ltvl0");
    c["data"]["name"] = json!("t1_d7ltvl0");
    c["data"]["parent_id"] = json!("t3_52o2fl");
    page[1]["data"]["children"] = json!([c]);
    let (f, _) = reddit_capture(url, |req| {
        json_resp(req, 200, serde_json::to_vec(&page).unwrap())
    });
    let p = expect_post(f);
    assert_eq!(p.id.0, "reddit:t1_d7ltvl0");
    assert_eq!(p.text.as_deref(), Some("Okay thats an exception"));
    assert_eq!(
        p.reply_to.as_ref().unwrap().title.as_deref(),
        Some("testing define bot!")
    );
}

// =======================================================================================
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

fn cli_capture(ar: &Path, url: &str) -> Value {
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "capture", url]));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}\n{err}");
    let _ = code;
    lines[0].clone()
}

fn cli_show(ar: &Path, key: &str) -> Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", key]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verify_ok(ar: &Path) {
    let (code, _, err) = run_code(samizdat(ar).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
    assert_warcio_ok(&warc_files(ar));
}

/// The path and query the plan asks first for `url` on `p`.
fn first_request(p: &dyn Platform, url: &str) -> String {
    match p.post_plan(&target_of(p, url), Job::Capture, &ctx()) {
        Step::Fetch(req, _) => path_query(&req),
        Step::Done(f) => panic!("{f:?}"),
    }
}

const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";

#[test]
fn cli_captures_a_mastodon_post_and_its_media() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["mastodon.example", "files.mastodon.example"]);
    srv.route(
        "/api/v1/statuses/112233445566778899",
        Resp::json(fixture("mastodon/status_photo.json")),
    );
    srv.route(
        "/api/v1/statuses/112233445566778899/history",
        Resp::json(fixture("mastodon/status_photo_history.json")),
    );
    for (id, name, mime) in [
        ("1", "image.jpg", "image/jpeg"),
        ("2", "video.mp4", "video/mp4"),
        ("3", "gifv.mp4", "video/mp4"),
        ("4", "audio.mp3", "audio/mpeg"),
    ] {
        srv.route(
            &format!("/media_attachments/files/11223300000000000{id}/original/{name}"),
            Resp::new(200).header("Content-Type", mime).body(JPEG),
        );
    }
    let l = cli_capture(&ar, M_PHOTO);
    assert_eq!(l["status"], "captured", "{l}");
    assert_eq!(l["post_id"], "mastodon:mastodon.example/112233445566778899");
    let v = cli_show(&ar, M_PHOTO);
    assert_eq!(v["author"]["name"], "Ada Lighthouse");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("a heron & three crabs"),
        "{v}"
    );
    let t: jiff::Timestamp = v["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        t,
        "2024-05-01T06:12:45.12Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
    );
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 4);
    assert!(
        media
            .iter()
            .all(|m| m["sha256"].as_str().is_some_and(|s| s.len() == 64)),
        "{media:?}"
    );
    assert_eq!(v["state"], "live");

    // A boost: the original is kept as repost_of.
    srv.route(
        "/api/v1/statuses/112233445566779900",
        Resp::json(fixture("mastodon/status_boost.json")),
    );
    let l = cli_capture(
        &ar,
        "https://mastodon.example/users/ada/statuses/112233445566779900",
    );
    assert_eq!(l["status"], "captured", "{l}");
    let v = cli_show(&ar, "mastodon:mastodon.example/112233445566779900");
    assert_eq!(
        v["repost_of"]["text"],
        "The harbour lights are back on after the storm."
    );
    assert_eq!(v["repost_of"]["author"]["name"], "Ben Harbour");

    // A deleted one: recorded, reported gone.
    srv.route(
        "/api/v1/statuses/5",
        Resp::new(404)
            .header("Content-Type", "application/json")
            .body(fixture("mastodon/error_404.json")),
    );
    let l = cli_capture(&ar, "https://mastodon.example/@ada/5");
    assert_eq!(l["status"], "gone", "{l}");
    assert_eq!(l["outcome"], "deleted");
    verify_ok(&ar);
}

#[test]
fn cli_captures_a_bluesky_post_by_handle() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["public.api.bsky.app", "av-cdn.bsky.app"]);
    srv.route(
        "/xrpc/com.atproto.identity.resolveHandle?handle=soubhikbarari.bsky.social",
        Resp::json(format!("{{\"did\":\"{B_DID}\"}}")),
    );
    let did_url = format!("https://bsky.app/profile/{B_DID}/post/3k7qmjev5lr2s");
    srv.route(
        &first_request(&Bluesky, &did_url),
        Resp::json(fixture(
            "bluesky/xrpc_app.bsky.feed.getPostThread_3k7qmjev5lr2s.json",
        )),
    );
    srv.route(
        &format!("/img/feed_fullsize/plain/{B_DID}/bafkreictkyws7qbruuupes52t6k5o5o5qfggf7pm6urzz7dyty53gzu3h4@jpeg"),
        Resp::new(200).header("Content-Type", "image/jpeg").body(JPEG),
    );
    let l = cli_capture(&ar, B_HANDLE_URL);
    assert_eq!(l["status"], "captured", "{l}");
    assert_eq!(l["post_id"], format!("bluesky:{B_DID}/3k7qmjev5lr2s"));
    let v = cli_show(&ar, &format!("bluesky:{B_DID}/3k7qmjev5lr2s"));
    assert_eq!(v["author"]["handle"], "soubhikbarari.bsky.social");
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("LocalView (localview.net)")
    );
    assert_eq!(
        v["created_at"]
            .as_str()
            .map(|s| s.parse::<jiff::Timestamp>().unwrap()),
        Some("2023-09-19T11:32:54.574Z".parse().unwrap())
    );
    assert_eq!(v["media"].as_array().unwrap().len(), 1);
    assert_eq!(v["media"][0]["bytes"], JPEG.len());
    // The DID URL and the at:// URI find the same post.
    assert_eq!(cli_show(&ar, &did_url)["id"], v["id"]);
    let at_uri = format!("at://{B_DID}/app.bsky.feed.post/3k7qmjev5lr2s");
    assert_eq!(cli_show(&ar, &at_uri)["id"], v["id"]);
    // And an at:// URI can be captured directly.
    let l = cli_capture(&ar, &at_uri);
    assert_eq!(l["status"], "captured", "{l}");
    assert_eq!(l["post_id"], v["id"]);
    // Not a URL samizdat can capture: a usage error (exit 2), checked before any fetch.
    let (code, out, _) = run_code(samizdat(&ar).args(["--json", "capture", "at://nothing-here"]));
    assert_eq!(code, 2);
    assert!(out.contains("not an at:// URI of a Bluesky post"), "{out}");
    verify_ok(&ar);
}

#[test]
fn cli_captures_reddit_posts_and_records_removals() {
    let srv = server();
    let (_d, ar) = setup(&srv, &["www.reddit.com", "i.sli.mg"]);
    srv.route(
        "/comments/5dec16.json?raw_json=1",
        Resp::json(comments_page(&batch_thing("t3_5dec16"))),
    );
    srv.route(
        "/cgdAEL.jpg",
        Resp::new(200)
            .header("Content-Type", "image/jpeg")
            .body(JPEG),
    );
    let url = "https://www.reddit.com/r/The_Donald/comments/5dec16/what_it_feels_like_to_go_to_rredacted/";
    let l = cli_capture(&ar, url);
    assert_eq!(l["status"], "captured", "{l}");
    assert_eq!(l["post_id"], "reddit:t3_5dec16");
    let v = cli_show(&ar, url);
    assert_eq!(v["title"], "What it feels like to go to r/[redacted]");
    assert_eq!(v["author"]["name"], "die_caesar");
    assert_eq!(v["created_at"], "2016-11-17T06:13:07+00:00");
    assert_eq!(v["media"].as_array().unwrap().len(), 1);
    assert_eq!(v["media"][0]["mime"], "image/jpeg");

    srv.route(
        "/comments/1kh35wk.json?raw_json=1",
        Resp::json(fixture(
            "reddit/oauth_comments_1kh35wk_removed_by_category_reddit.json",
        )),
    );
    let l = cli_capture(&ar, "https://www.reddit.com/comments/1kh35wk/");
    assert_eq!(
        (
            l["status"].as_str(),
            l["outcome"].as_str(),
            l["cause"].as_str()
        ),
        (Some("gone"), Some("deleted"), Some("platform")),
        "{l}"
    );

    srv.route(
        "/comments/52o2fl.json?raw_json=1",
        Resp::new(403)
            .header("Content-Type", "text/html")
            .body("<title>Blocked</title><h1>whoa there, pardner!</h1>"),
    );
    let l = cli_capture(&ar, "https://redd.it/52o2fl");
    assert_ne!(l["status"], "gone", "a block is never a deletion: {l}");
    assert!(l["error"].as_str().unwrap().contains("pardner"), "{l}");
    verify_ok(&ar);
}
