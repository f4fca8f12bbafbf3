//! `samizdat search` and the web `/search` from the real binary (issue 14, "Search"):
//! English words match their inflections, equal matches come newest capture first, results
//! are paged (`--offset`/`--limit`; next/previous links; the API's `more`), and filters by
//! platform, state and time take the same values in the CLI and the web (one `since`
//! parser: a bad value is a usage error or a `400` naming the forms, never an empty page).

use crate::common;

use common::serve::Serve;
use common::*;
use std::path::Path;

/// `samizdat ARGS` on `ar`: (exit code, stdout, stderr).
fn run(ar: &Path, args: &[&str]) -> (i32, String, String) {
    run_code(samizdat(ar).args(args))
}

const SAME: &str = "<html><head><title>Notice</title></head><body><article><h1>Notice</h1>\
<p>Same words about the harbour here.</p></article></body></html>";
const BANK: &str = "<html><head><title>Cards</title></head><body><article><h1>Cards</h1>\
<p>Two bank cards were blocked by the 反诈中心 yesterday.</p></article></body></html>";

/// Same-text pages captured at three times, and one about bank cards.
struct Fixture {
    _dir: tempfile::TempDir,
    ar: std::path::PathBuf,
    _srv: TestServer,
    /// The same-text posts' ids: the one captured last, the 21 in the middle (by id), the
    /// one captured first.
    newest: String,
    middle: Vec<String>,
    oldest: String,
    bank: String,
}

fn capture_at(ar: &Path, now: &str, urls: &[String]) -> Vec<String> {
    let mut cmd = samizdat(ar);
    cmd.env("SAMIZDAT_NOW", now).args(["--json", "capture"]);
    cmd.args(urls);
    let out = run_ok(&mut cmd);
    json_lines(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|l| l["post_id"].as_str().expect("a post id").to_string())
        .collect()
}

fn fixture() -> Fixture {
    let srv = server();
    let (dir, ar) = quick_archive("");
    run_ok(samizdat(&ar).arg("init"));
    srv.route("/bank.html", Resp::html(BANK));
    for i in 0..23 {
        srv.route(&format!("/same/{i}.html"), Resp::html(SAME));
    }
    let url = |i: usize| srv.url(&format!("/same/{i}.html"));
    let oldest = capture_at(&ar, "2026-03-01T12:00:00Z", &[url(0)]).remove(0);
    let bank = capture_at(&ar, "2026-03-01T13:00:00Z", &[srv.url("/bank.html")]).remove(0);
    let mut middle = capture_at(
        &ar,
        "2026-03-02T12:00:00Z",
        &(1..22).map(url).collect::<Vec<_>>(),
    );
    middle.sort();
    let newest = capture_at(&ar, "2026-03-03T12:00:00Z", &[url(22)]).remove(0);
    Fixture {
        _dir: dir,
        ar,
        _srv: srv,
        newest,
        middle,
        oldest,
        bank,
    }
}

/// The ids of `search ARGS` (JSON lines), and the note of the same search without
/// `--json` (on stderr), whose lines (on stdout) must start with the same ids.
fn ids(ar: &Path, args: &[&str]) -> (Vec<String>, String) {
    let (code, out, err) = run(ar, &[&["--json", "search"], args].concat());
    assert_eq!(code, 0, "search {args:?}: {err}");
    let ids: Vec<String> = json_lines(&out)
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    let (code, out, err) = run(ar, &[&["search"], args].concat());
    assert_eq!(code, 0, "search {args:?}: {err}");
    let words: Vec<&str> = out.lines().map(|l| l.split("  ").next().unwrap()).collect();
    // Human lines show a web id's short form (docs/cli.md, "Short ids"), JSON the whole.
    assert_eq!(
        words.len(),
        ids.len(),
        "the same hits in words and JSON: {out}"
    );
    for (w, id) in words.iter().zip(&ids) {
        assert!(
            id.starts_with(w) && w.len() >= "web:".len() + 12,
            "the same hits in words and JSON: {w} for {id}"
        );
    }
    (ids, err.trim().to_string())
}

#[test]
fn search_stems_english_orders_ties_newest_first_pages_and_filters() {
    let f = fixture();
    let ar = &f.ar;

    // Inflections: "bank card" finds "bank cards", "blocking" finds "blocked"; the CJK
    // bigrams still work in the same text.
    for q in [
        "bank card",
        "banking cards blocking",
        "反诈",
        "中心",
        "反诈中心",
    ] {
        assert_eq!(ids(ar, &[q]).0, std::slice::from_ref(&f.bank), "{q}");
    }
    assert!(ids(ar, &["bandit"]).0.is_empty());
    // The words on stdout, as a line a grep can read.
    let (code, out, err) = run(ar, &["search", "bank card"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(&f.bank[.."web:".len() + 12]) && out.contains("bank cards"),
        "{out}"
    );
    assert_eq!(err.trim(), "1 of 1 hits");

    // Equal matches: newest capture first, then by id; the oldest last.
    let mut all = vec![f.newest.clone()];
    all.extend(f.middle.iter().cloned());
    all.push(f.oldest.clone());
    let (got, err) = ids(ar, &["same words", "--limit", "100"]);
    assert_eq!(got, all);
    assert_eq!(err, "23 of 23 hits");

    // Pages: --limit and --offset, and the note says where the next page starts.
    let (got, err) = ids(ar, &["harbour", "--limit", "5"]);
    assert_eq!(got, all[..5]);
    assert_eq!(err, "5 of 23 hits (1-5; next page: --offset 5)");
    let (got, err) = ids(ar, &["harbour", "--offset", "20", "--limit", "5"]);
    assert_eq!(got, all[20..]);
    assert_eq!(err, "3 of 23 hits (21-23)");
    let (got, err) = ids(ar, &["harbour", "--offset", "30"]);
    assert!(got.is_empty());
    assert_eq!(err, "0 of 23 hits (none from --offset 30)");

    // Filters: platform and state (the values of `list`), and times in `list`'s forms.
    assert_eq!(
        ids(ar, &["same", "--platform", "web", "--limit", "0"])
            .0
            .len(),
        23
    );
    assert!(ids(ar, &["same", "--platform", "weibo"]).0.is_empty());
    assert_eq!(
        ids(ar, &["same", "--state", "live", "--limit", "50"]).0,
        all
    );
    assert!(ids(ar, &["same", "--state", "deleted"]).0.is_empty());
    let (got, _) = ids(ar, &["same", "--since", "2026-03-03"]);
    assert_eq!(got, std::slice::from_ref(&f.newest));
    let (got, _) = ids(ar, &["same", "--until", "2026-03-02"]);
    assert_eq!(got, std::slice::from_ref(&f.oldest));
    let (got, _) = ids(
        ar,
        &[
            "same",
            "--since",
            "2026-03-02T00:00:00Z",
            "--until",
            "2026-03-03",
            "--limit",
            "50",
        ],
    );
    assert_eq!(got, f.middle);
    // "yesterday" and durations are read against the clock (SAMIZDAT_NOW).
    for (since, want) in [
        ("yesterday", 1),
        ("today", 0),
        ("36h", 1),
        ("3d", 23),
        ("60h", 22),
    ] {
        let out = run_ok(
            samizdat(ar)
                .env("SAMIZDAT_NOW", "2026-03-04T06:00:00Z")
                .args([
                    "--json",
                    "search",
                    "same words",
                    "--limit",
                    "50",
                    "--since",
                    since,
                ]),
        );
        assert_eq!(
            json_lines(&String::from_utf8_lossy(&out.stdout)).len(),
            want,
            "--since {since}"
        );
    }

    // Bad values are usage errors (exit 2) that say what is accepted.
    let (code, out, err) = run(ar, &["search", "same", "--since", "last week"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("--since \"last week\" is not a time") && err.contains("yesterday"),
        "{err}"
    );
    let (code, _, err) = run(ar, &["search", "same", "--until", "soon"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--until \"soon\" is not a time"), "{err}");
    for (flag, bad) in [("--platform", "myspace"), ("--state", "gone")] {
        let (code, _, err) = run(ar, &["search", "same", flag, bad]);
        assert_eq!(code, 2, "{flag} {bad}: {err}");
        assert!(err.contains("possible values"), "{err}");
    }
    let help = String::from_utf8_lossy(&run_ok(samizdat(ar).args(["search", "--help"])).stdout)
        .into_owned();
    for word in [
        "--offset",
        "--limit",
        "--since",
        "--until",
        "inflections",
        "mastodon",
    ] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

#[test]
fn web_search_pages_links_and_refuses_bad_filters_as_the_cli_does() {
    let f = fixture();
    let web = Serve::start(&f.ar);
    let text = |path: &str| {
        let (status, body) = web.get(path);
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let mut all = vec![f.newest.clone()];
    all.extend(f.middle.iter().cloned());
    all.push(f.oldest.clone());

    // The page: 20 hits, newest first, and a Next link that keeps the filters.
    let (status, body) = text("/search?q=same+words&platform=web&since=2026-03-01");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("23 posts found; 1–20 shown"), "{body}");
    let at = |id: &str| body.find(&html_escape(id)).unwrap_or(usize::MAX);
    assert!(
        at(&all[0]) < at(&all[1]) && at(&all[19]) < usize::MAX,
        "{body}"
    );
    assert_eq!(at(&all[20]), usize::MAX, "the 21st is on the next page");
    let next = "href=\"/search?q=same%20words&amp;platform=web&amp;since=2026-03-01&amp;page=2\"";
    let next_plus = next.replace("%20", "+");
    assert!(body.contains(next) || body.contains(&next_plus), "{body}");
    assert!(!body.contains("rel=\"prev\""), "{body}");
    // The filters are in a form, as typed.
    assert!(body.contains("<option selected>web</option>"), "{body}");
    assert!(
        body.contains("name=\"since\" value=\"2026-03-01\""),
        "{body}"
    );

    // Page 2: the last 3 and a Previous link to page 1, no Next.
    let (status, body) = text("/search?q=same+words&platform=web&since=2026-03-01&page=2");
    assert_eq!(status, 200);
    assert!(body.contains("23 posts found; 21–23 shown"), "{body}");
    assert!(body.contains(&html_escape(&f.oldest)), "{body}");
    assert!(
        body.contains("rel=\"prev\"") && !body.contains("rel=\"next\""),
        "{body}"
    );
    assert!(
        body.contains("href=\"/search?q=same+words&amp;platform=web&amp;since=2026-03-01\"")
            || body
                .contains("href=\"/search?q=same%20words&amp;platform=web&amp;since=2026-03-01\""),
        "{body}"
    );

    // Inflections on the web too.
    let (_, body) = text("/search?q=bank+card");
    assert!(body.contains("1 posts found"), "{body}");
    assert!(body.contains(&html_escape(&f.bank)), "{body}");

    // The other forms of a word are marked as the search matched them.
    let (_, body) = text("/search?q=blocking+card");
    assert!(
        body.contains("<mark>cards</mark> were <mark>blocked</mark>"),
        "{body}"
    );

    // Filters narrow: until, state.
    let (_, body) = text("/search?q=same&until=2026-03-02");
    assert!(body.contains("1 posts found"), "{body}");
    let (_, body) = text("/search?q=same&state=deleted");
    assert!(body.contains("0 posts found"), "{body}");
    // "yesterday" is a time (the archive's captures are all older than it).
    let (status, body) = text("/search?q=same&since=yesterday");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("0 posts found"), "{body}");

    // Bad values: 400 and the CLI's sentence, never a silent empty result.
    for (path, says) in [
        (
            "/search?q=same&since=last+week",
            "since &quot;last week&quot; is not a time",
        ),
        (
            "/search?q=same&until=soon",
            "until &quot;soon&quot; is not a time",
        ),
        (
            "/search?q=same&platform=myspace",
            "platform &quot;myspace&quot; is not a platform",
        ),
        (
            "/search?q=same&state=gone",
            "state &quot;gone&quot; is not a state",
        ),
        (
            "/posts?since=last+week",
            "since &quot;last week&quot; is not a time",
        ),
    ] {
        let (status, body) = text(path);
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
        assert!(
            body.contains("RFC 3339") || body.contains("give one of"),
            "{body}"
        );
    }
    let (status, body) = text("/api/search?q=same&since=last+week");
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["error"].as_str().unwrap().contains("is not a time"),
        "{v}"
    );

    // /posts takes the same forms: a date, yesterday (as typed in the form).
    let (status, body) = text("/posts?since=2026-03-03");
    assert_eq!(status, 200);
    assert!(body.contains(">1 posts<"), "{body}");
    let (status, body) = text("/posts?since=yesterday");
    assert_eq!(status, 200);
    assert!(
        body.contains(">0 posts<") && body.contains("value=\"yesterday\""),
        "{body}"
    );

    // The API: offset and limit, and whether there is more.
    let (status, body) = text("/api/search?q=same&offset=20&limit=2");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let got: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [all[20].as_str(), all[21].as_str()]);
    assert_eq!(
        (v["total"].as_u64(), v["more"].as_bool()),
        (Some(23), Some(true)),
        "{v}"
    );
    assert_eq!(v["offset"], 20);
    let v: serde_json::Value =
        serde_json::from_str(&text("/api/search?q=same&offset=22&limit=2").1).unwrap();
    assert_eq!(
        (v["results"].as_array().unwrap().len(), v["more"].as_bool()),
        (1, Some(false))
    );
    let (status, body) = text(&format!("/api/search?q=same&offset={}", usize::MAX));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["results"].as_array().unwrap().len(), v["more"].as_bool()),
        (0, Some(false))
    );
    let v: serde_json::Value =
        serde_json::from_str(&text("/api/search?q=same&platform=web&state=live&limit=100").1)
            .unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 23);
    web.stop();
}

/// How a page links to a post id (`/posts/{id}`, the id percent-encoded).
fn html_escape(id: &str) -> String {
    format!("/posts/{}", id.replace(':', "%3A"))
}

#[test]
fn an_index_from_before_stemming_is_migrated_and_finds_inflections() {
    use samizdat::store::index::{Index, SCHEMA_VERSION};
    let fixture = repo_root().join("tests/fixtures/index-v2-schema/archive");
    let dir = tempdir();
    let ar = dir.path().join("archive");
    copy_tree(&fixture, &ar);
    let version = || -> i64 {
        rusqlite::Connection::open(ar.join("index.sqlite"))
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(), 2);
    // A reader never migrates: the old table answers as it did (no stemming).
    let words = |q: &str| {
        let out = run_ok(samizdat(&ar).args(["--json", "search", q]));
        json_lines(&String::from_utf8_lossy(&out.stdout)).len()
    };
    assert_eq!(words("bank card"), 2, "the text says 'bank' and 'card'");
    assert_eq!(words("banks cards"), 0, "the old index has no stems");
    assert_eq!(version(), 2);
    // ... and the command line says so, and what brings it up.
    let (code, _, err) = run(&ar, &["search", "banks cards"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("this index predates stemmed search") && err.contains("reindex"),
        "{err}"
    );
    // A writable open migrates (3: the FTS table rebuilt from the posts table).
    drop(Index::open(&ar.join("index.sqlite"), true).unwrap());
    assert_eq!(version(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 3) };
    assert_eq!(words("banks cards"), 2);
    let (_, _, err) = run(&ar, &["search", "banks cards"]);
    assert_eq!(err.trim(), "2 of 2 hits", "no note once migrated");
    assert_eq!(
        words("freezing banks"),
        0,
        "froze is not freeze to a stemmer"
    );
    assert_eq!(words("银行卡"), 2, "CJK as before");
    assert_eq!(words("jane reporters"), 2, "authors are indexed again");
    assert_eq!(words("watching deleted"), 1);
    // And as a rebuilt index answers.
    let migrated = run_ok(samizdat(&ar).args(["--json", "search", "posts"])).stdout;
    run_ok(samizdat(&ar).arg("reindex"));
    let rebuilt = run_ok(samizdat(&ar).args(["--json", "search", "posts"])).stdout;
    assert_eq!(
        String::from_utf8_lossy(&migrated),
        String::from_utf8_lossy(&rebuilt)
    );
    assert_eq!(json_lines(&String::from_utf8_lossy(&rebuilt)).len(), 3);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}
