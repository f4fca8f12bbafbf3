//! The command line's surface, from the real binary (docs/cli.md, "Where output goes",
//! "A closed pipe", "Exit codes"): a command's result is on stdout and only notes about
//! the run are on stderr; a reader that closes the pipe ends the command quietly; usage
//! errors are one sentence and exit 2; `list --help` lists the valid filter values.

use crate::common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

/// `samizdat ARGS` on `ar`: (exit code, stdout, stderr).
fn run(ar: &Path, args: &[&str]) -> (i32, String, String) {
    run_code(samizdat(ar).args(args))
}

/// The post id of each URL captured (through `--json`, the machine interface).
fn capture_ids(ar: &Path, urls: &[&str]) -> Vec<String> {
    let (code, out, err) = run(ar, &[&["--json", "capture"], urls].concat());
    assert_eq!(code, 0, "{err}");
    json_lines(&out)
        .iter()
        .map(|l| l["post_id"].as_str().expect("a post id").to_string())
        .collect()
}

#[test]
fn results_are_on_stdout_and_only_notes_on_stderr() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (page, img) = (srv.url("/page"), srv.url("/img/a.png"));
    // (A capture that makes the archive also tells of its key: init_names_the_log_...)
    run_ok(samizdat(&ar).arg("init"));

    // capture: one result line per URL on stdout; the summary is a note on stderr.
    let (code, out, err) = run(&ar, &["capture", &page, &img]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines.iter().all(|l| l.starts_with("captured ")), "{out}");
    assert!(out.contains(&page) && out.contains(&img), "{out}");
    assert!(err.trim().starts_with("2 captured, 0 not, in "), "{err}");
    let ids = capture_ids(&ar, &[&page]);
    // Human lines show a web id's short form (docs/cli.md, "Short ids").
    let id = &ids[0][..16].to_string();

    // list: the rows on stdout (so `list | grep` sees them), the count on stderr.
    let (code, out, err) = run(&ar, &["list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains(id.as_str()) && l.contains("live")),
        "{out}"
    );
    assert!(!out.contains("posts"), "the count is not a row: {out}");
    assert_eq!(err.trim(), "2 posts");
    // -q silences the note, never the result.
    let (_, quiet_out, quiet_err) = run(&ar, &["-q", "list"]);
    assert_eq!(quiet_out, out);
    assert_eq!(quiet_err, "");

    // show: the post and its history on stdout, nothing on stderr.
    let (code, out, err) = run(&ar, &["show", &page]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with(&format!("{id}  ")), "{out}");
    assert!(
        out.contains("state: live") && out.contains("captured "),
        "{out}"
    );
    assert_eq!(err, "");

    // search: the hits on stdout, the count on stderr.
    let (code, out, err) = run(&ar, &["search", "paragraph"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with(id.as_str())), "{out}");
    assert!(err.trim().ends_with("hits"), "{err}");
    assert!(!out.contains("hits"), "{out}");

    // verify: the report on stdout.
    let (code, out, err) = run(&ar, &["verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l == "verify: OK"), "{out}");
    assert!(out.contains("records in"), "{out}");
    assert_eq!(err, "");

    // log checkpoint: the signed note on stdout, byte for byte as stored.
    let (code, out, err) = run(&ar, &["log", "checkpoint"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        std::fs::read_to_string(ar.join("log").join("checkpoint")).unwrap()
    );
    assert_eq!(err, "");
    // log proof: the proof on stdout.
    let (code, out, err) = run(&ar, &["log", "proof", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("leaf 0 of "), "{out}");
    assert_eq!(err, "");

    // watch add: its report line on stdout; watch list and watch status likewise.
    let (code, out, err) = run(&ar, &["watch", "add", &page]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&page), "{out}");
    let (code, out, err) = run(&ar, &["watch", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(&page) && out.contains("from cli"), "{out}");
    assert_eq!(err, "");
    let (code, out, err) = run(&ar, &["watch", "status"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("posts by state:") && out.contains("  live: 2"),
        "{out}"
    );
    assert_eq!(err, "");
}

#[test]
fn a_reader_that_closes_the_pipe_ends_the_command_quietly() {
    let srv = server();
    let (_d, ar) = quick_archive("");
    let (page, slow) = (srv.url("/page"), srv.url("/slow?ms=1500"));

    // `capture A SLOW | head -1`: the first result is read, the pipe closed; the second
    // result is written after that, into no reader. The capture finishes and is kept.
    let mut child = samizdat(&ar)
        .args(["capture", &page, &slow])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("captured ") && first.contains(&page),
        "{first:?}"
    );
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    let (_, listed, _) = run(&ar, &["--json", "list"]);
    assert_eq!(json_lines(&listed).len(), 2, "both captures kept: {listed}");

    // `verify-bundle B | head -0`: every write meets a closed pipe.
    let id = &capture_ids(&ar, &[&page])[0];
    let bundle = ar.parent().unwrap().join("b.zip");
    run_ok(samizdat(&ar).args(["export", id, "--bundle"]).arg(&bundle));
    let (code, report, _) = run_code(samizdat(&ar).arg("verify-bundle").arg(&bundle));
    assert!(report.lines().count() > 3, "{report}");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = samizdat(&ar)
        .arg("verify-bundle")
        .arg(&bundle)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(err, "", "nothing said about the closed pipe");

    // The same for `list` and `--json` output.
    for args in [&["list"][..], &["--json", "list"], &["log", "checkpoint"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = samizdat(&ar)
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn capture_of_something_that_is_not_a_url_says_so() {
    let (_d, ar) = quick_archive("");
    let (code, out, err) = run(&ar, &["capture", "not a url"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "");
    assert_eq!(
        err.trim(),
        "samizdat: error: \"not a url\" is not a URL: give the post's full address, such as https://example.org/post/1"
    );
    // Checked before anything is fetched: a good URL beside it is not captured either.
    let srv = server();
    let (code, _, err) = run(&ar, &["capture", &srv.url("/page"), "not a url"]);
    assert_eq!(code, 2, "{err}");
    assert!(warc_files(&ar).is_empty(), "nothing captured");
}

#[test]
fn usage_errors_exit_2_in_one_sentence() {
    let (d, ar) = quick_archive("");
    run_ok(samizdat(&ar).arg("init"));
    let missing = d.path().join("no-such-list.txt");
    let missing = missing.to_str().unwrap();
    for args in [
        &["capture", "--from", missing][..],
        &["watch", "add", "--from", missing],
    ] {
        let (code, out, err) = run(&ar, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(missing) && err.contains("cannot read it (no such file)"),
            "{err}"
        );
    }
    // Every platform of the library's table, in its order (a new one needs no line here).
    let platforms: Vec<&str> = samizdat::platforms::PLATFORMS
        .iter()
        .map(|p| p.name())
        .collect();
    assert!(platforms.contains(&"zhihu") && platforms.last() == Some(&"web"));
    let platforms = platforms.join(", ");
    for (args, valid) in [
        (
            &["list", "--state", "gone"][..],
            "live, edited, deleted, restricted, account_gone, gone_unconfirmed, not_listed, not_found",
        ),
        (&["list", "--platform", "myspace"], platforms.as_str()),
        (&["list", "--since", "last week"], "yesterday"),
        (&["list", "--since", "7 parsecs"], "RFC 3339"),
    ] {
        let (code, out, err) = run(&ar, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(err.contains(valid), "{args:?}: {err}");
    }
    // The forms a person types are taken.
    for since in ["yesterday", "today", "2026-01-02", "36h", "2w"] {
        let (code, _, err) = run(&ar, &["list", "--since", since]);
        assert_eq!(code, 0, "--since {since}: {err}");
    }
}

#[test]
fn list_help_explains_every_filter_and_its_values() {
    let (_d, ar) = quick_archive("");
    let (code, out, err) = run(&ar, &["list", "--help"]);
    assert_eq!(code, 0, "{err}");
    for word in [
        "live",
        "edited",
        "deleted",
        "restricted",
        "account_gone",
        "gone_unconfirmed",
        "not_found",
        "weibo",
        "wechat",
        "telegram",
        "bluesky",
        "reddit",
        "feed",
        "mastodon",
        "web",
        "--platform <PLATFORM>  Only posts of this platform",
        "--state <STATE>",
        "--since <TIME>",
        "yesterday",
        "--author <AUTHOR>      Only posts by this author",
        "--limit <N>",
    ] {
        assert!(out.contains(word), "{word:?} missing from:\n{out}");
    }
}

/// The settings service files set have environment variables (docs/cli.md "Environment"),
/// and a flag wins over its variable.
#[test]
fn service_settings_come_from_the_environment() {
    let (dir, ar) = quick_archive("");
    run_ok(samizdat(&ar).arg("init"));
    let missing = dir.path().join("nowhere.toml");
    // SAMIZDAT_CONFIG is read: a file that does not exist is a usage error naming it.
    let (code, _, err) = run_code(samizdat(&ar).env("SAMIZDAT_CONFIG", &missing).arg("list"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nowhere.toml"), "{err}");
    // --config wins over it.
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[http]\nper_host_delay_ms = 0\n").unwrap();
    let (code, _, err) = run_code(
        samizdat(&ar)
            .env("SAMIZDAT_CONFIG", &missing)
            .arg("--config")
            .arg(&good)
            .arg("list"),
    );
    assert_eq!(code, 0, "{err}");
    // SAMIZDAT_LISTEN is where serve listens: port 0 here, so never the default 8080.
    let mut child = samizdat(&ar)
        .env("SAMIZDAT_LISTEN", "127.0.0.1:0")
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    for l in lines {
        let l = l.unwrap();
        if l.contains(" on http://") {
            said = l;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(said.contains("on http://127.0.0.1:"), "{said}");
    assert!(
        !said.contains("127.0.0.1:8080"),
        "the variable was not read: {said}"
    );
}

/// `init --origin` names the log for life and says what the key is for; a capture that
/// makes an archive says it once.
#[test]
fn init_names_the_log_and_explains_its_key() {
    let (dir, _) = quick_archive("");
    let ar = dir.path().join("named");
    let (code, out, err) =
        run_code(samizdat(&ar).args(["init", "--origin", "archive.example.org/samizdat"]));
    assert_eq!(code, 0, "{err}");
    let vkey = out.trim();
    assert!(vkey.starts_with("archive.example.org/samizdat+"), "{out}");
    assert_eq!(
        std::fs::read_to_string(ar.join("keys/log.vkey"))
            .unwrap()
            .trim(),
        vkey
    );
    assert!(
        err.contains("fixed for its life") && err.contains("Publish it"),
        "{err}"
    );
    let fp = err
        .lines()
        .find_map(|l| l.strip_prefix("key fingerprint: "))
        .expect("a fingerprint line");
    assert!(
        fp.len() == 64 && fp.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fp}"
    );
    // The same form verify-bundle prints for the same key.
    let (code, out, _) = run_code(samizdat(&ar).args(["--json", "init"]));
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(j["origin"], "archive.example.org/samizdat");
    assert_eq!(j["vkey_fingerprint"], fp);
    // verify and the web /verify page print the same fingerprint, in the same form.
    let (code, out, err) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "log archive.example.org/samizdat, key fingerprint: {fp}"
        )),
        "{out}"
    );
    let web = common::serve::Serve::start(&ar);
    let (status, page) = web.get("/verify");
    assert_eq!(status, 200);
    assert!(
        String::from_utf8_lossy(&page).contains(&format!("<code>{fp}</code>")),
        "the /verify page lacks the fingerprint"
    );
    drop(web);
    // Another name for an existing log, or a name the format cannot carry: usage errors.
    let (code, _, err) = run_code(samizdat(&ar).args(["init", "--origin", "other.example/x"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("keeps its origin for life"), "{err}");
    let (code, _, err) =
        run_code(samizdat(&dir.path().join("bad")).args(["init", "--origin", "a b"]));
    assert_eq!(code, 2, "{err}");
    assert!(
        !dir.path().join("bad").exists(),
        "nothing made for a bad name"
    );
    // A capture that makes the archive prints the key once, on stderr; the next does not.
    let made = dir.path().join("by-capture");
    let (_, out, err) = run_code(samizdat(&made).args(["capture", "http://127.0.0.1:1/"]));
    let key = std::fs::read_to_string(made.join("keys/log.vkey")).unwrap();
    assert_eq!(err.matches(key.trim()).count(), 1, "{err}");
    assert!(!out.contains(key.trim()), "{out}");
    let (_, _, err) = run_code(samizdat(&made).args(["capture", "http://127.0.0.1:1/"]));
    assert!(!err.contains(key.trim()), "{err}");
}

/// `show` prints an article's title once (not again as the text's first line), and a post
/// with no date leaves no trailing blank after its author.
#[test]
fn show_prints_the_title_once() {
    let srv = TestServer::start();
    srv.route(
        "/article",
        Resp::html(
            "<!doctype html><html><head><title>My bank cards were frozen</title>\
             <meta name=\"author\" content=\"Li Wei\"></head><body><article>\
             <h1>My bank cards were frozen</h1><p>After a work call to a bank in Singapore, \
             the anti-fraud centre froze all my bank cards.</p></article></body></html>",
        ),
    );
    let (_d, ar) = quick_archive("");
    let url = srv.url("/article");
    let (code, _, err) = run(&ar, &["capture", &url]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&ar, &["show", &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("My bank cards were frozen").count(), 1, "{out}");
    assert!(out.contains("# My bank cards were frozen\n"), "{out}");
    assert!(out.contains("froze all my bank cards."), "{out}");
    assert!(out.lines().any(|l| l == "Li Wei"), "{out}");
}
