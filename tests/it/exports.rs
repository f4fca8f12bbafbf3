//! Exports for research (issue 17, docs/exports.md): CSV and JSON lines of posts and their
//! checks, read back by Python's csv module; pseudonyms keyed, stable and never the names;
//! ids-only exports without text; `list`'s selectors.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn page(author: &str, title: &str, body: &str) -> String {
    format!(
        "<html><head><title>{title}</title><meta name=\"author\" content=\"{author}\"></head>\
         <body><article><h1>{title}</h1><p>{body}</p></article></body></html>"
    )
}

/// Python's csv module reads `path`: its rows as JSON objects (header row as keys), and
/// the header itself.
fn python_csv(path: &Path) -> (Vec<String>, Vec<Value>) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
             \x20   r = csv.reader(f)\n\
             \x20   head = next(r)\n\
             \x20   rows = [dict(zip(head, row)) for row in r]\n\
             \x20   assert all(len(row) == len(head) for row in rows)\n\
             print(json.dumps({'head': head, 'rows': rows}))",
        )
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python's csv module reads {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let head = v["head"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    (head, v["rows"].as_array().unwrap().clone())
}

fn all_text(paths: &[&Path]) -> String {
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn csv_and_jsonl_exports_read_back_with_pseudonyms_ids_only_and_selectors() {
    let srv = server();
    // A text with a comma, quotes, a line break and Chinese: CSV quoting is exercised.
    let tricky = "Cards frozen, \"all of them\" \u{2014} by the 反诈中心.\nAsked why: no answer.";
    srv.route(
        "/a.html",
        Resp::html(page(
            "Jane Reporter",
            "Frozen",
            &tricky.replace('\n', "<br>"),
        )),
    );
    srv.route(
        "/b.html",
        Resp::html(page(
            "Jane Reporter",
            "Harbour",
            "Same words about the harbour here.",
        )),
    );
    srv.route(
        "/c.html",
        Resp::html(page(
            "Li Wei",
            "Bank",
            "Two bank cards were blocked yesterday.",
        )),
    );
    let (d, ar) = quick_archive("");
    let urls: Vec<String> = ["/a.html", "/b.html", "/c.html"]
        .iter()
        .map(|p| srv.url(p))
        .collect();
    run_ok(samizdat(&ar).arg("capture").args(&urls));
    // One check: the bank page answers 404 once (gone, not yet confirmed).
    run_ok(samizdat(&ar).args(["watch", "add"]).arg(&urls[2]));
    srv.route("/c.html", Resp::new(404).body("not here"));
    run_code(samizdat(&ar).args(["watch", "check"]).arg(&urls[2]));

    // Plain CSV: every post, every column, the text as it was.
    let out = d.path().join("posts.csv");
    let v: Value = serde_json::from_slice(
        &run_ok(samizdat(&ar).args(["--json", "export", "--csv"]).arg(&out)).stdout,
    )
    .unwrap();
    assert_eq!(v["posts"], 3, "{v}");
    let (head, rows) = python_csv(&out);
    assert_eq!(
        head,
        samizdat::evidence::dataset::POST_COLUMNS
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), 3);
    let frozen = rows
        .iter()
        .find(|r| r["text"].as_str().unwrap().contains("反诈中心"))
        .expect("the tricky text");
    assert!(frozen["text"].as_str().unwrap().contains("\"all of them\""));
    assert!(frozen["text"].as_str().unwrap().contains("Cards frozen, "));
    assert_eq!(frozen["author_name"], "Jane Reporter");
    assert_eq!(frozen["state"], "live");
    let checks = d.path().join("posts.checks.csv");
    let (chead, crows) = python_csv(&checks);
    assert_eq!(chead[..3], ["post_id", "at", "outcome"]);
    assert_eq!(crows.len(), v["checks"].as_u64().unwrap() as usize);
    assert!(!crows.is_empty(), "the bank page's check is exported");
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("posts.csv.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["pseudonymised"], false);
    assert_eq!(meta["posts"], 3);

    // Pseudonymised, twice: the same author has the same pseudonym in both, two authors
    // two, and no name is anywhere in the output.
    let p1 = d.path().join("p1.csv");
    let p2 = d.path().join("p2.csv");
    for p in [&p1, &p2] {
        run_ok(
            samizdat(&ar)
                .args(["export", "--pseudonymise", "--csv"])
                .arg(p),
        );
    }
    let (_, r1) = python_csv(&p1);
    let (_, r2) = python_csv(&p2);
    let by_post = |rows: &[Value]| -> std::collections::BTreeMap<String, String> {
        rows.iter()
            .map(|r| {
                (
                    r["post_id"].as_str().unwrap().to_string(),
                    r["author_id"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        by_post(&r1),
        by_post(&r2),
        "pseudonyms are stable across exports"
    );
    let distinct: std::collections::BTreeSet<String> = by_post(&r1).into_values().collect();
    assert_eq!(
        distinct.len(),
        2,
        "two authors, two pseudonyms: {distinct:?}"
    );
    assert!(
        distinct
            .iter()
            .all(|p| p.starts_with("p:") && p.len() == 34)
    );
    let text = all_text(&[
        &p1,
        &d.path().join("p1.checks.csv"),
        &d.path().join("p1.csv.meta.json"),
    ]);
    for name in ["Jane Reporter", "Jane", "Li Wei"] {
        assert!(
            !text.contains(name),
            "{name} is not in a pseudonymised export"
        );
    }
    assert!(ar.join("keys/pseudonym.key").exists());

    // Ids only, as JSON lines: no text, URL or names.
    let ids = d.path().join("ids.jsonl");
    run_ok(
        samizdat(&ar)
            .args(["export", "--ids-only", "--jsonl"])
            .arg(&ids),
    );
    let lines = json_lines(&std::fs::read_to_string(&ids).unwrap());
    assert_eq!(lines.len(), 3);
    let text = all_text(&[&ids, &d.path().join("ids.checks.jsonl")]);
    for word in [
        "harbour",
        "反诈中心",
        "Jane",
        "Li Wei",
        "/a.html",
        "not here",
    ] {
        assert!(!text.contains(word), "{word} is not in an ids-only export");
    }
    assert!(
        lines
            .iter()
            .all(|l| l["post_id"].as_str().is_some_and(|s| !s.is_empty()))
    );
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("ids.jsonl.meta.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["ids_only"], true);
    assert_eq!(meta["pseudonymised"], true);

    // list's selectors.
    let count = |args: &[&str]| -> u64 {
        let f = d.path().join("sel.csv");
        let v: Value = serde_json::from_slice(
            &run_ok(
                samizdat(&ar)
                    .args(["--json", "export"])
                    .args(args)
                    .arg("--csv")
                    .arg(&f),
            )
            .stdout,
        )
        .unwrap();
        v["posts"].as_u64().unwrap()
    };
    assert_eq!(count(&["--query", "harbour"]), 1);
    assert_eq!(count(&["--query", "100%"]), 0, "LIKE wildcards are words");
    assert_eq!(count(&["--author", "Jane Reporter"]), 2);
    assert_eq!(count(&["--platform", "web"]), 3);
    // The same posts as `list` selects.
    for state in ["live", "gone_unconfirmed"] {
        let listed = json_lines(&String::from_utf8_lossy(
            &run_ok(samizdat(&ar).args(["--json", "list", "--limit", "0", "--state", state]))
                .stdout,
        ))
        .len() as u64;
        assert_eq!(count(&["--state", state]), listed, "{state}");
    }

    // Selectors are for datasets only.
    let (code, _, err) = run_code(
        samizdat(&ar)
            .args(["export", "--pseudonymise", "--bundle"])
            .arg(d.path().join("x.zip"))
            .arg(&urls[0]),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--csv"), "{err}");
}
