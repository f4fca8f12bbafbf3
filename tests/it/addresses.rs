//! One page, one post; every address told truly (issue 13): a page's id comes from where
//! it ended up, every hop stays recorded, a URL asked for directly is never reported under
//! a platform host that shares its server, `--from` lists read comments and name a bad
//! line, and every command reads the config the same way.

use crate::common;

use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn capture(ar: &Path, urls: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let (code, out, err) = run_code(samizdat(ar).arg("--json").arg("capture").args(urls));
    (code, json_lines(&out), err)
}

fn show(ar: &Path, key: &str) -> serde_json::Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", key]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn list_ids(ar: &Path) -> Vec<String> {
    let out = run_ok(samizdat(ar).args(["--json", "list", "--limit", "0"]));
    json_lines(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

/// A page with no canonical link and no `og:url`: its address is where it was fetched.
const PLAIN: &str = "<!doctype html><html><head><title>Plain page</title></head><body>\
<article><p>A page that names no address of its own, long enough to be read as the main \
text of the page by the readability pass.</p></article></body></html>";

#[test]
fn a_page_asked_for_directly_and_through_a_redirect_is_one_post() {
    let srv = server();
    srv.route("/plain", Resp::html(PLAIN));
    srv.route("/moved", Resp::new(301).header("Location", "/plain"));
    let (_d, ar) = quick_archive("");

    // The article names itself (og:url); the plain page does not (its address is where
    // the redirect ended).
    for (direct, via) in [
        (srv.url("/page"), srv.url("/redirect-to?url=/page")),
        (srv.url("/plain"), srv.url("/moved")),
    ] {
        let (code, a, err) = capture(&ar, &[&direct]);
        assert_eq!(code, 0, "{err}");
        let (code, b, err) = capture(&ar, &[&via]);
        assert_eq!(code, 0, "{err}");
        let id = a[0]["post_id"].as_str().unwrap();
        assert_eq!(
            b[0]["post_id"].as_str().unwrap(),
            id,
            "{via} redirects to {direct}: one post"
        );
        // `show` finds the post by the URL that was asked for, and by its own.
        for key in [&direct, &via] {
            let v = show(&ar, key);
            assert_eq!(v["id"], id, "show {key}");
            assert_eq!(v["url"], direct.as_str(), "show {key}");
        }
        let v = show(&ar, &via);
        assert!(
            v["alt_urls"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u == via.as_str()),
            "the URL asked for is kept: {v}"
        );
        assert_eq!(v["captures"].as_array().unwrap().len(), 2, "{v}");
    }
    // The article asked for with a tracking query names itself without it (og:url, same
    // origin and path): the same post again.
    let tracked = srv.url("/page?utm_source=tips");
    let (code, t, err) = capture(&ar, &[&tracked]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(t[0]["post_id"], show(&ar, &srv.url("/page"))["id"], "{t:?}");
    assert_eq!(show(&ar, &tracked)["url"], srv.url("/page"));
    assert_eq!(list_ids(&ar).len(), 2, "two pages, two posts");

    // Every hop is in the WARC: the redirect answers and the pages they led to.
    let recs = records(&ar);
    let count = |kind: &str, path: &str| {
        let url = srv.url(path);
        recs.iter()
            .filter(|r| r.warc_type() == kind && r.target_uri() == Some(url.as_str()))
            .count()
    };
    for (path, n) in [
        ("/redirect-to?url=/page", 1),
        ("/page", 2),
        ("/moved", 1),
        ("/plain", 2),
    ] {
        assert_eq!(count("response", path), n, "responses for {path}");
        assert_eq!(count("request", path), n, "requests for {path}");
    }
    let moved_url = srv.url("/moved");
    let moved = recs
        .iter()
        .find(|r| r.warc_type() == "response" && r.target_uri() == Some(moved_url.as_str()))
        .unwrap();
    assert!(
        String::from_utf8_lossy(&moved.block).starts_with("HTTP/1.1 301"),
        "the redirect itself is stored"
    );
}

/// Two platform hosts sent to one loopback server, and URLs of that server asked for
/// directly: every result, line and record names the URL asked for, and a platform URL
/// only where one was asked for.
#[test]
fn a_url_asked_for_directly_is_never_reported_under_a_host_sharing_its_server() {
    let srv = server();
    let base = srv.base_url();
    let (_d, ar) = quick_archive(&format!(
        "[http.hosts]\n\"f.video.weibocdn.com\" = \"{base}\"\n\"m.weibo.cn\" = \"{base}\"\n\"news.example\" = \"{base}\"\n"
    ));
    let direct = srv.url("/redirect-to?url=/page");
    let image = srv.url("/img/a.png");
    let (code, out, err) = run_code(samizdat(&ar).args(["capture", &direct, &image]));
    assert_eq!(code, 0, "{out}\n{err}");
    for said in [&out, &err] {
        assert!(
            !said.contains("weibocdn") && !said.contains("weibo.cn"),
            "a direct URL reported under a platform host:\n{said}"
        );
    }
    let v = show(&ar, &direct);
    assert_eq!(v["url"], srv.url("/page"));
    let media: Vec<&str> = v["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["url"].as_str().unwrap())
        .collect();
    assert!(!media.is_empty(), "{v}");
    for m in &media {
        assert!(m.starts_with(&base), "media {m} of a page at {base}");
    }
    let img = show(&ar, &image);
    assert_eq!(img["url"], image);
    assert_eq!(img["media"][0]["url"], image);
    for r in records(&ar) {
        if matches!(r.warc_type(), "request" | "response") {
            assert!(
                r.target_uri().unwrap().starts_with(&base),
                "{:?}",
                r.target_uri()
            );
            assert_eq!(
                r.field("Samizdat-Platform-URL"),
                None,
                "{:?}",
                r.target_uri()
            );
        }
    }

    // A URL of a platform host keeps naming that host through a redirect within the
    // server, never whichever override shares the origin first.
    let (code, lines, err) = capture(&ar, &["https://news.example/redirect-to?url=/page"]);
    assert_eq!(code, 0, "{err}");
    let v = show(&ar, lines[0]["post_id"].as_str().unwrap());
    assert_eq!(v["url"], "https://news.example/page", "{v}");
    let recs = records(&ar);
    let hop = recs
        .iter()
        .filter(|r| r.warc_type() == "response")
        .filter(|r| r.field("Samizdat-Platform-URL") == Some("https://news.example/page"))
        .count();
    assert_eq!(hop, 1, "the redirect's target stood for news.example");
    assert!(
        !recs
            .iter()
            .filter_map(|r| r.field("Samizdat-Platform-URL"))
            .any(|u| u.contains("weibo")),
        "a hop of news.example reported under a weibo host"
    );
}

#[test]
fn a_url_list_reads_comments_and_a_bad_line_stops_before_anything() {
    let srv = server();
    srv.route("/plain", Resp::html(PLAIN));
    let (d, ar) = quick_archive("");
    let list = d.path().join("urls.txt");
    std::fs::write(
        &list,
        format!(
            "# tips of the week\n\n{}  # from the tip line\n   # an indented comment\n\t{}\t# another\n",
            srv.url("/page"),
            srv.url("/plain")
        ),
    )
    .unwrap();
    let (code, out, err) = run_code(
        samizdat(&ar)
            .args(["--json", "capture", "--from"])
            .arg(&list),
    );
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    let urls: Vec<&str> = lines.iter().map(|l| l["url"].as_str().unwrap()).collect();
    assert_eq!(urls.len(), 2, "{lines:?}");
    assert!(
        urls.contains(&srv.url("/page").as_str()) && urls.contains(&srv.url("/plain").as_str())
    );
    assert!(lines.iter().all(|l| l["status"] == "captured"), "{lines:?}");

    // A line that is not one URL: exit 2 naming the line, nothing fetched or written.
    let (d2, ar2) = quick_archive("");
    for (text, line) in [
        (
            format!("{}\n\nnot a url at all\n", srv.url("/page")),
            "line 3",
        ),
        (
            format!("# c\n{} {}\n", srv.url("/page"), srv.url("/plain")),
            "line 2",
        ),
        ("ftp://example.org/file\n".to_string(), "line 1"),
    ] {
        let bad = d2.path().join("bad.txt");
        std::fs::write(&bad, &text).unwrap();
        srv.clear();
        for args in [&["capture", "--from"][..], &["watch", "add", "--from"][..]] {
            let (code, out, err) = run_code(samizdat(&ar2).args(args).arg(&bad));
            assert_eq!(code, 2, "{args:?} {text:?}: {out}\n{err}");
            assert!(err.contains(line) && err.contains("bad.txt"), "{err}");
            assert_eq!(
                srv.requests().len(),
                0,
                "{args:?} {text:?} fetched something"
            );
            assert!(
                !ar2.join("keys").exists() && warc_files(&ar2).is_empty(),
                "{args:?} {text:?} wrote an archive"
            );
        }
    }
}

/// Runs `cmd` for at most `limit`, then kills it: (exit code, or None if it had to be
/// killed; stderr).
fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (code, reader.join().unwrap())
}

/// Every command, with the arguments it needs to get as far as its config.
fn every_command(d: &Path, page: &str) -> Vec<Vec<String>> {
    let bundle = d.join("out.zip").display().to_string();
    let wacz = d.join("out.wacz").display().to_string();
    let some_file = d.join("some.zip");
    std::fs::write(&some_file, b"PK").unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&["init"]),
        s(&["capture", page]),
        s(&["show", page]),
        s(&["list"]),
        s(&["search", "paragraph"]),
        s(&["verify"]),
        s(&["log", "checkpoint"]),
        s(&["log", "proof", "0"]),
        s(&["log", "consistency", "1", "2"]),
        s(&["watch", "add", page]),
        s(&["watch", "list"]),
        s(&["watch", "remove", page]),
        s(&["watch", "run", "--once"]),
        s(&["watch", "check", "--all"]),
        s(&["watch", "status"]),
        s(&["reindex"]),
        s(&["timestamp"]),
        s(&["export", page, "--bundle", &bundle]),
        s(&["export", "--all", "--wacz", &wacz]),
        s(&["serve", "--listen", "127.0.0.1:0"]),
        s(&["verify-bundle", &some_file.display().to_string()]),
    ]
}

#[test]
fn every_command_refuses_a_missing_or_broken_config_alike() {
    let srv = server();
    let (d, ar) = quick_archive("");
    let page = srv.url("/page");
    let (code, _, err) = capture(&ar, &[&page]);
    assert_eq!(code, 0, "{err}");
    let before = snapshot(&ar);
    let missing = d.path().join("no-such-config.toml");
    for args in every_command(d.path(), &page) {
        let (code, err) = run_bounded(
            samizdat(&ar).arg("--config").arg(&missing).args(&args),
            Duration::from_secs(20),
        );
        assert_eq!(code, Some(2), "{args:?} with a missing --config: {err}");
        assert!(
            err.contains("no-such-config.toml") && err.contains("no such file"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(snapshot(&ar), before, "a command ran on defaults");
    // The archive's own config, broken: every command stops on it, naming the key.
    std::fs::write(ar.join("samizdat.toml"), "[http]\nconcurency = 3\n").unwrap();
    let before = snapshot(&ar);
    for args in every_command(d.path(), &page) {
        let (code, err) = run_bounded(samizdat(&ar).args(&args), Duration::from_secs(20));
        assert_eq!(code, Some(2), "{args:?} with a broken samizdat.toml: {err}");
        assert!(err.contains("concurency"), "{args:?}: {err}");
    }
    assert_eq!(snapshot(&ar), before, "a command ran on a broken config");
    assert_eq!(srv.hits("/page"), 1, "only the first capture fetched");
}

/// Every file under `root` with its length and content digest.
pub(crate) fn snapshot(root: &Path) -> Vec<(String, u64, String)> {
    use sha2::{Digest, Sha256};
    let mut out = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((
                    p.strip_prefix(root).unwrap().display().to_string(),
                    bytes.len() as u64,
                    hex::encode(Sha256::digest(&bytes)),
                ));
            }
        }
    }
    out.sort();
    out
}
