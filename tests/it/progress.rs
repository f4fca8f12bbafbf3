//! Long runs through the real CLI (issue 14): the end-of-run summary and the politeness
//! setting that paced the run, the URLs not captured (listed on stderr and written to a
//! file `capture --from` re-reads), and short ids within 120 columns.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};

/// The path the end of a run names: "... listed in PATH (re-run: ...)".
fn failed_file(stderr: &str) -> PathBuf {
    let line = stderr
        .lines()
        .find(|l| l.contains("the URLs not captured are listed in "))
        .unwrap_or_else(|| panic!("no failed-list path in:\n{stderr}"));
    let rest = line.split("listed in ").nth(1).unwrap();
    PathBuf::from(rest.split(" (re-run").next().unwrap())
}

/// The URLs of a `--from` list: its lines that are not comments or blank.
fn urls_of(list: &str) -> Vec<String> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn urls_not_captured_are_listed_with_reasons_and_rerun_from_their_file() {
    let srv = server();
    srv.route("/boom", Resp::new(500).body("no"));
    let refused = format!("http://127.0.0.1:{}/gone-away", free_port());
    let (_d, ar) = quick_archive("");
    let ok = srv.url("/page");
    let boom = srv.url("/boom");
    let (code, out, err) = run_code(samizdat(&ar).args(["capture", &ok, &boom, &refused]));
    assert_eq!(code, 1, "partial failure is exit 1\n{out}\n{err}");
    assert!(err.contains("1 captured, 2 not, in "), "{err}");
    // One line each on stderr, with its reason.
    let listing: Vec<&str> = err
        .lines()
        .skip_while(|l| !l.starts_with("not captured (2):"))
        .skip(1)
        .take(2)
        .collect();
    assert_eq!(listing.len(), 2, "{err}");
    assert!(
        listing
            .iter()
            .any(|l| l.contains(&boom) && l.contains("500")),
        "{listing:?}"
    );
    assert!(
        listing
            .iter()
            .any(|l| l.contains(&refused) && l.contains("failed")),
        "{listing:?}"
    );
    assert!(!listing.iter().any(|l| l.contains(&ok)), "{listing:?}");

    let file = failed_file(&err);
    assert!(file.starts_with(ar.join("failed")), "{}", file.display());
    let list = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        urls_of(&list),
        vec![boom.clone(), refused.clone()],
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with('#') && l.contains("500")),
        "the reason is a comment line:\n{list}"
    );

    // Re-run: exactly the failed URLs are read back and tried again.
    srv.route(
        "/boom",
        Resp::html("<html><title>back</title><p>up again</p></html>"),
    );
    let (code, out, err) = run_code(
        samizdat(&ar)
            .arg("--json")
            .arg("capture")
            .arg("--from")
            .arg(&file),
    );
    assert_eq!(code, 1, "the refused URL still fails\n{out}\n{err}");
    let lines = json_lines(&out);
    let urls: Vec<&str> = lines.iter().map(|l| l["url"].as_str().unwrap()).collect();
    assert_eq!(urls, vec![boom.as_str(), refused.as_str()]);
    assert_eq!(lines[0]["status"], "captured");
    assert_eq!(lines[1]["status"], "failed");
    // The second run's list holds only what failed again.
    let again = failed_file(&err);
    assert_ne!(again, file);
    assert_eq!(
        urls_of(&std::fs::read_to_string(&again).unwrap()),
        vec![refused]
    );
}

#[test]
fn a_run_paced_by_politeness_says_which_host_and_setting() {
    let srv = server();
    let d = tempdir();
    let ar = d.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 300\ntimeout_ms = 5000\n");
    let urls: Vec<String> = (1..=3).map(|i| srv.url(&format!("/page?n={i}"))).collect();
    let (code, out, err) = run_code(samizdat(&ar).arg("capture").arg("--no-media").args(&urls));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("3 captured, 0 not, in "), "{err}");
    assert!(err.contains("over the last 30 s"), "{err}");
    assert!(
        err.contains("paced: 1 request every 300 ms to 127.0.0.1 per [http] per_host_delay_ms"),
        "{err}"
    );
    // Nothing animated when stderr is not a terminal, and no failed list.
    assert!(!err.contains('\r') && !err.contains("\u{1b}["), "{err:?}");
    assert!(!ar.join("failed").exists());

    // Without a delay nothing waits, and nothing claims to pace the run.
    let (_d2, ar2) = quick_archive("");
    let (code, _, err) = run_code(samizdat(&ar2).arg("capture").arg("--no-media").args(&urls));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("paced:"), "{err}");
}

fn list_json_ids(ar: &Path) -> Vec<String> {
    let out = run_ok(samizdat(ar).args(["--json", "list"]));
    json_lines(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn human_lines_show_short_ids_within_120_columns_and_json_keeps_full_ids() {
    let srv = server();
    srv.route(
        "/other",
        Resp::html("<html><head><title>Another page</title></head><body><p>Some words about bank cards.</p></body></html>"),
    );
    let (_d, ar) = quick_archive("");
    let urls = [srv.url("/page"), srv.url("/other")];
    let out = run_ok(samizdat(&ar).arg("capture").args(&urls));
    let captured = String::from_utf8_lossy(&out.stdout).into_owned();

    let ids = list_json_ids(&ar);
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let hex = id.strip_prefix("web:").unwrap();
        assert_eq!(hex.len(), 64, "--json keeps the full id: {id}");
        assert!(!captured.contains(id.as_str()), "{captured}");
        assert!(captured.contains(&id[..16]), "short id in {captured}");
    }

    let out = run_ok(samizdat(&ar).arg("list"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 2, "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} columns: {line}",
            line.chars().count()
        );
        assert!(!ids.iter().any(|id| line.contains(id.as_str())), "{line}");
    }
    for id in &ids {
        let short = &id[..16]; // "web:" + 12 hex digits
        assert!(text.contains(&format!("{short} ")), "{short} in\n{text}");
        // The short id is accepted back.
        let shown = run_ok(samizdat(&ar).args(["show", short]));
        let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
        assert!(shown.starts_with(short), "{shown}");
        let one = run_ok(samizdat(&ar).args(["--json", "show", short]));
        let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
        assert_eq!(v["id"].as_str(), Some(id.as_str()), "{v}");
    }
    // Too short to be a short id: not found, not a guess.
    let (code, _, err) = run_code(samizdat(&ar).args(["show", "web:ab"]));
    assert_ne!(code, 0, "{err}");
}
