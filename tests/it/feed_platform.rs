//! The `feed` platform's plans driven by hand over real feeds (tests/fixtures/feed, see
//! SOURCES.md there): entries, ids, dates, order, and what a feed's answers conclude.
//! No network.

use samizdat::capture::parse_url;
use samizdat::model::{Cause, MediaKind, Outcome, Post};
use samizdat::platforms::testing::run;
use samizdat::platforms::{
    self, Fetched, Finding, Job, PlanContext, Request, Response, Target, web,
};
use url::Url;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/feed/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIX}{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn answer(req: &Request, status: u16, mime: &str, body: Vec<u8>) -> Fetched {
    Fetched::Response(Response {
        url: req.url.clone(),
        status,
        headers: vec![("content-type".into(), mime.into())],
        body,
        truncated: false,
    })
}

/// Recognises `url` through the shared table (the feed platform must win) and polls it
/// once, answering with `answer`.
fn poll(url: &str, answer: impl FnMut(&Request) -> Fetched) -> (Finding, Vec<Request>) {
    let (p, target) = platforms::recognise(&parse_url(url).unwrap()).expect("recognised");
    assert_eq!(p.name(), "feed", "{url}");
    assert!(matches!(target, Target::Account { .. }), "{target:?}");
    let plan = p
        .timeline_plan(&target, None, &PlanContext::default())
        .expect("feeds have a timeline");
    run(plan, answer)
}

/// Polls `url`, served `body` as `mime`, and returns the posts.
fn posts_of(url: &str, mime: &str, body: Vec<u8>) -> Vec<Post> {
    let (f, asked) = poll(url, |r| answer(r, 200, mime, body.clone()));
    assert_eq!(asked.len(), 1, "one request per poll");
    match f {
        Finding::Timeline { posts, next_cursor } => {
            assert_eq!(next_cursor, None, "no paging");
            posts
        }
        other => panic!("{url}: {other:?}"),
    }
}

fn ids(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.id.0.as_str()).collect()
}

fn dates(posts: &[Post]) -> Vec<&str> {
    posts
        .iter()
        .map(|p| p.created_at.as_deref().unwrap_or("-"))
        .collect()
}

fn web_id(link: &str) -> String {
    format!("web:{}", web::platform_id(&Url::parse(link).unwrap()))
}

const MASTODON_FEED: &str = "https://toot.cat/@DPSsys.rss";

#[test]
fn a_mastodon_rss_gives_the_ids_mastodon_captures_under() {
    let posts = posts_of(
        MASTODON_FEED,
        "application/rss+xml; charset=utf-8",
        fixture("mastodon_toot_cat.rss"),
    );
    assert_eq!(
        ids(&posts),
        [
            "mastodon:toot.cat/111490148685626192",
            "mastodon:toot.cat/111490106099021865",
            "mastodon:toot.cat/111489666865472740",
            "mastodon:toot.cat/111489622679595666",
            "mastodon:toot.cat/111483821696158177",
        ]
    );
    // The same ids a capture of each link gives: a poll finds captured entries.
    for p in &posts {
        let (plat, t) = platforms::recognise(&Url::parse(&p.url).unwrap()).unwrap();
        let Target::Post { platform_id, .. } = t else {
            panic!("{t:?}")
        };
        assert_eq!(p.id.0, format!("{}:{platform_id}", plat.name()));
        assert_eq!(
            (p.platform.as_str(), p.id.platform()),
            ("mastodon", "mastodon")
        );
    }
    assert_eq!(posts[0].url, "https://toot.cat/@DPSsys/111490148685626192");
    assert_eq!(
        dates(&posts),
        [
            "2023-11-28T20:51:01Z",
            "2023-11-28T20:40:11Z",
            "2023-11-28T18:48:29Z",
            "2023-11-28T18:37:15Z",
            "2023-11-27T18:01:59Z",
        ]
    );
    // The escaped HTML of <description> read as text.
    assert_eq!(
        posts[0].text.as_deref(),
        Some(
            "Have you ever thought of someone saying \"The man\" seems normal but \"The woman\" can seem degrading?"
        )
    );
    assert_eq!(posts[0].title, None, "Mastodon items have no title");
    // Three pictures on one item: no alt text is pinned on the wrong one.
    assert_eq!(posts[1].media.len(), 3);
    assert!(
        posts[1]
            .media
            .iter()
            .all(|m| m.kind == MediaKind::Image && m.alt.is_none())
    );
    assert_eq!(
        posts[4].media[0].alt.as_deref(),
        Some(
            "A dog sitting in front of a computer captioned: On the internet nobody knows you are a dog"
        )
    );
    assert_eq!(posts[0].extra["feed"], MASTODON_FEED);
}

#[test]
fn entries_come_newest_first_whatever_the_feed_order() {
    let doc = String::from_utf8(fixture("mastodon_toot_cat.rss")).unwrap();
    let (head, rest) = doc.split_once("<item>").unwrap();
    let (items, tail) = rest.rsplit_once("</channel>").unwrap();
    let mut parts: Vec<&str> = items.split("<item>").collect();
    parts.reverse();
    let shuffled = format!("{head}<item>{}</channel>{tail}", parts.join("<item>"));
    let posts = posts_of(MASTODON_FEED, "application/rss+xml", shuffled.into_bytes());
    let d = dates(&posts);
    assert_eq!(d.len(), 5);
    assert!(d.windows(2).all(|w| w[0] > w[1]), "{d:?}");
    assert_eq!(posts[0].id.0, "mastodon:toot.cat/111490148685626192");
}

#[test]
fn without_a_date_on_every_entry_the_feed_order_is_kept() {
    let doc = String::from_utf8(fixture("verdagon.rss")).unwrap();
    // Undate the newer entry: sorting the rest around it would invent an order.
    let undated = doc.replace("<pubDate>Wed, 9 Nov 2022 10:15:00 -0400</pubDate>", "");
    assert_ne!(undated, doc);
    let feed = "https://verdagon.dev/rss.xml";
    let posts = posts_of(feed, "application/rss+xml", undated.into_bytes());
    assert_eq!(
        posts.iter().map(|p| p.url.as_str()).collect::<Vec<_>>(),
        [
            "https://verdagon.dev/blog/generics-hash-codes-horrors",
            "https://verdagon.dev/blog/when-to-use-memory-safe-part-1",
        ]
    );
    assert_eq!(dates(&posts), ["-", "2022-10-07T14:15:00Z"]);
    // Both dated (one in a sloppy RFC 822 form): newest first, offsets made UTC.
    let posts = posts_of(feed, "application/rss+xml", fixture("verdagon.rss"));
    assert_eq!(
        dates(&posts),
        ["2022-11-09T14:15:00Z", "2022-10-07T14:15:00Z"]
    );
    assert_eq!(
        posts[0].author.as_ref().unwrap().name.as_deref(),
        Some("Evan Ovadia")
    );
    assert_eq!(
        posts[0].text.as_deref(),
        Some("Hash Codes, Non-Determinism, and Other Eldritch Horrors"),
        "an entry with only a title reads as its title"
    );
}

#[test]
fn a_reddit_atom_feed_gives_reddit_ids() {
    let posts = posts_of(
        "https://www.reddit.com/r/rust/.rss",
        "application/atom+xml; charset=UTF-8",
        fixture("reddit_r_rust.atom"),
    );
    assert_eq!(ids(&posts), ["reddit:t3_glvkc5"]);
    let p = &posts[0];
    assert_eq!(
        p.url,
        "https://www.reddit.com/r/rust/comments/glvkc5/hey_rustaceans_got_an_easy_question_ask_here/"
    );
    assert_eq!(
        p.title.as_deref(),
        Some("Hey Rustaceans! Got an easy question? Ask here (21/2020)!")
    );
    assert!(
        p.text
            .as_deref()
            .unwrap()
            .starts_with("Mystified about strings?"),
        "{:?}",
        p.text
    );
    assert!(!p.text.as_deref().unwrap().contains("<p>"));
    let a = p.author.as_ref().unwrap();
    assert_eq!(a.name.as_deref(), Some("/u/llogiq"));
    assert_eq!(a.url.as_deref(), Some("https://www.reddit.com/user/llogiq"));
    assert_eq!(dates(&posts), ["2020-05-18T05:44:47Z"]);
}

#[test]
fn an_atom_feed_of_pages_gives_web_ids_dated_by_updated() {
    let posts = posts_of(
        "https://github.com/feed-rs/feed-rs/releases.atom",
        "application/atom+xml",
        fixture("github_releases.atom"),
    );
    let v020 = "https://github.com/feed-rs/feed-rs/releases/tag/v0.2.0";
    let v013 = "https://github.com/feed-rs/feed-rs/releases/tag/0.1.3";
    assert_eq!(ids(&posts), [web_id(v020), web_id(v013)]);
    assert_eq!(posts[0].platform, "web");
    // `updated` with +11:00 and +10:00 offsets, in UTC.
    assert_eq!(
        dates(&posts),
        ["2020-01-19T05:08:59Z", "2017-07-07T11:47:46Z"]
    );
    assert_eq!(posts[0].title.as_deref(), Some("0.2.0"));
    assert!(
        posts[0]
            .text
            .as_deref()
            .unwrap()
            .contains("migrate to Rust 2018 edition")
    );
}

#[test]
fn rss2_content_encoded_rss1_and_json_feed() {
    // RSS 2.0 with the whole article in content:encoded (preferred to the summary).
    let posts = posts_of(
        "https://www.w3.org/blog/feed/",
        "application/rss+xml",
        fixture("w3c_blog.rss"),
    );
    let link = "https://www.w3.org/blog/2026/crafting-wcag-3-for-more-accessible-user-experiences/";
    assert_eq!(ids(&posts), [web_id(link)]);
    let text = posts[0].text.as_deref().unwrap();
    assert!(text.starts_with("In this post, I cover"), "{text:.80}");
    assert!(text.contains("Accessible user experiences is the goal."));
    assert_eq!(dates(&posts), ["2026-09-25T12:50:00Z"]);

    // RSS 1.0 (RDF), a date without a time.
    let posts = posts_of(
        "https://www.debian.org/News/news.rdf",
        "application/rdf+xml",
        fixture("debian_news.rdf"),
    );
    assert_eq!(
        ids(&posts),
        [web_id("https://www.debian.org/News/2022/20221217")]
    );
    assert_eq!(
        posts[0].title.as_deref(),
        Some("Updated Debian 11: 11.6 released")
    );
    assert_eq!(dates(&posts), ["2022-12-17T00:00:00Z"]);

    // JSON Feed: the item's `url` is the link, not the `external_url` it comments on.
    let posts = posts_of(
        "https://daringfireball.net/feeds/feed.json",
        "application/feed+json",
        fixture("daring_fireball.json"),
    );
    assert_eq!(
        posts.iter().map(|p| p.url.as_str()).collect::<Vec<_>>(),
        [
            "https://daringfireball.net/linked/2020/01/24/bezos-iphone-x",
            "https://daringfireball.net/linked/2020/01/20/instagram-for-win95",
        ]
    );
    assert_eq!(
        dates(&posts),
        ["2020-01-24T23:46:57Z", "2020-01-21T01:07:00Z"]
    );
    assert_eq!(
        posts[0].author.as_ref().unwrap().name.as_deref(),
        Some("John Gruber")
    );
}

#[test]
fn entries_without_an_http_link_are_skipped_and_relative_links_resolved() {
    let doc = String::from_utf8(fixture("reddit_r_rust.atom")).unwrap();
    let linkless = doc.replace(
        "<link href=\"https://www.reddit.com/r/rust/comments/glvkc5/hey_rustaceans_got_an_easy_question_ask_here/\"/>",
        "",
    );
    assert_ne!(linkless, doc);
    // The Atom id `t3_glvkc5` is no link either.
    let feed = "https://www.reddit.com/r/rust/.rss";
    assert!(posts_of(feed, "application/atom+xml", linkless.into_bytes()).is_empty());

    let doc = String::from_utf8(fixture("verdagon.rss")).unwrap();
    let relative = doc.replace(
        "<link>https://verdagon.dev/blog/generics-hash-codes-horrors</link>",
        "<link>/blog/generics-hash-codes-horrors</link>",
    );
    assert_ne!(relative, doc);
    let posts = posts_of(
        "https://verdagon.dev/rss.xml",
        "application/rss+xml",
        relative.into_bytes(),
    );
    assert_eq!(
        posts[0].url,
        "https://verdagon.dev/blog/generics-hash-codes-horrors"
    );
}

#[test]
fn one_get_with_a_feed_accept_header_at_the_http_url() {
    let (_, asked) = poll("feed:https://blog.example/journal", |r| {
        answer(r, 200, "application/rss+xml", fixture("verdagon.rss"))
    });
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].method, "GET");
    assert_eq!(asked[0].url.as_str(), "https://blog.example/journal");
    let accept = asked[0]
        .headers
        .iter()
        .find(|(n, _)| n == "Accept")
        .map(|(_, v)| v.as_str())
        .unwrap();
    assert!(
        accept.starts_with("application/rss+xml, application/atom+xml"),
        "{accept}"
    );
    assert!(accept.contains("application/feed+json"), "{accept}");
}

#[test]
fn a_200_that_is_not_a_feed_is_broken_and_says_what_came() {
    let page =
        b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>hi</p></body></html>";
    let (f, _) = poll("https://blog.example/feed", |r| {
        answer(r, 200, "text/html; charset=utf-8", page.to_vec())
    });
    let Finding::Broken { endpoint, missing } = f else {
        panic!("{f:?}")
    };
    assert_eq!(endpoint, "feed");
    assert!(missing.contains("RSS, Atom or JSON Feed"), "{missing}");
    assert!(missing.contains("got text/html"), "{missing}");
    assert!(missing.contains("web page"), "{missing}");

    for (mime, body) in [
        ("application/json", br#"{"status":"ok"}"#.to_vec()),
        ("application/rss+xml", b"".to_vec()),
        ("text/xml", b"<?xml version=\"1.0\"?><sitemap/>".to_vec()),
    ] {
        let (f, _) = poll("https://blog.example/feed", |r| {
            answer(r, 200, mime, body.clone())
        });
        assert!(
            matches!(&f, Finding::Broken { missing, .. } if missing.contains(mime)),
            "{mime}: {f:?}"
        );
    }
}

#[test]
fn a_missing_feed_is_gone_and_errors_are_unreachable() {
    for status in [404, 410] {
        let (f, _) = poll(MASTODON_FEED, |r| {
            answer(r, status, "text/html", b"Not Found".to_vec())
        });
        let Finding::Gone(g) = f else { panic!("{f:?}") };
        assert_eq!(
            (g.outcome, g.cause),
            (Outcome::Deleted, Some(Cause::Unknown))
        );
        assert_eq!(g.message.unwrap(), format!("HTTP {status}"));
    }
    for status in [401, 403, 429, 500, 502, 503] {
        let (f, _) = poll(MASTODON_FEED, |r| {
            answer(
                r,
                status,
                "application/rss+xml",
                fixture("mastodon_toot_cat.rss"),
            )
        });
        let Finding::Gone(g) = f else {
            panic!("{status}: {f:?}")
        };
        assert_eq!(g.outcome, Outcome::Unreachable, "{status}");
        assert_eq!(g.cause, None);
    }
    let (f, _) = poll(MASTODON_FEED, |_| {
        Fetched::Failed("connection refused".into())
    });
    let Finding::Gone(g) = f else { panic!("{f:?}") };
    assert_eq!(g.outcome, Outcome::Unreachable);
    assert_eq!(g.message.as_deref(), Some("connection refused"));
}

#[test]
fn capturing_a_feed_keeps_the_document_as_a_web_page() {
    for (input, fetched) in [
        (
            "https://blog.example/feed.xml",
            "https://blog.example/feed.xml",
        ),
        (
            "feed:https://blog.example/journal",
            "https://blog.example/journal",
        ),
    ] {
        let (p, target) = platforms::recognise(&parse_url(input).unwrap()).unwrap();
        assert_eq!(p.name(), "feed");
        assert!(p.captures_accounts());
        let (f, asked) = run(
            p.post_plan(&target, Job::Capture, &PlanContext::default()),
            |r| answer(r, 200, "application/rss+xml", fixture("verdagon.rss")),
        );
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].url.as_str(), fetched);
        let Finding::Post(post) = f else {
            panic!("{f:?}")
        };
        // The id the web platform gave feed documents before feeds were a platform.
        assert_eq!(post.id.0, web_id(fetched));
        assert_eq!(post.platform, "web");
    }
    let (mastodon, _) =
        platforms::recognise(&Url::parse("https://mastodon.social/@Gargron").unwrap()).unwrap();
    assert!(
        !mastodon.captures_accounts(),
        "other accounts are only watched"
    );
}

#[test]
fn parse_url_accepts_feed_uris_and_keeps_the_prefix() {
    assert_eq!(
        parse_url(" feed:https://example.org/blog ")
            .unwrap()
            .as_str(),
        "feed:https://example.org/blog"
    );
    assert_eq!(
        parse_url("feed://example.org/blog").unwrap().as_str(),
        "feed:http://example.org/blog"
    );
    for bad in [
        "feed:",
        "feed:ftp://example.org/x",
        "feed:feed:https://example.org/x",
    ] {
        let e = parse_url(bad).unwrap_err().to_string();
        assert!(e.contains("feed:") || e.contains("http"), "{bad}: {e}");
    }
    let e = parse_url("feed:example.org/rss").unwrap_err().to_string();
    assert!(
        e.contains("https://example.org/rss"),
        "a hint at the full URL: {e}"
    );
}
