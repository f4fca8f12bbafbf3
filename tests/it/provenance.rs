//! The provenance record of every capture (issue 16, docs/provenance.md): who collected,
//! with what tool and settings, from which addresses, and the local clock against the
//! servers' `Date` headers; secrets never in it. Through the real CLI against a loopback
//! server.

use crate::common;

use common::*;
use samizdat::store::warc::{Record, mime};
use serde_json::Value;
use std::path::Path;

const PAGE: &str = "<html><head><title>Frozen cards</title></head><body><article><h1>Frozen cards</h1><p>All my bank cards were frozen after one call.</p></article></body></html>";

fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn provenance_records(ar: &Path) -> Vec<(Record, Value)> {
    records(ar)
        .into_iter()
        .filter(|r| r.field("Content-Type") == Some(mime::PROVENANCE))
        .map(|r| {
            let v = serde_json::from_slice(&r.block).unwrap();
            (r, v)
        })
        .collect()
}

#[test]
fn every_capture_says_who_collected_how_and_the_clock_against_the_servers() {
    let srv = server();
    let now = jiff::Timestamp::now();
    srv.route(
        "/right.html",
        Resp::html(PAGE).header("Date", &http_date(now)),
    );
    // This server's clock says an hour ago: the local clock reads an hour ahead of it.
    srv.route(
        "/skewed.html",
        Resp::html(PAGE).header(
            "Date",
            &http_date(now - jiff::SignedDuration::from_hours(1)),
        ),
    );
    let dir = tempdir();
    let ar = dir.path().join("archive");
    // Secrets in the config (a TSA key, a cookie, a header) never reach a record.
    write_config(
        &ar,
        r#"
[collector]
name = "desk-7"
organisation = "a digital-rights group"
max_clock_offset_ms = 5000

[http]
per_host_delay_ms = 0

[timestamp]
tsa = ["https://tsa.example/ts?key=tsa-s3cret"]

[platforms.weibo]
cookies = "SUB=cookie-s3cret"
headers = { Authorization = "Bearer header-s3cret" }
"#,
    );

    let url = format!("{}/right.html", srv.base_url());
    let out = run_ok(samizdat(&ar).args(["--json", "capture", "--no-media", &url]));
    let r = &json_lines(&String::from_utf8_lossy(&out.stdout))[0];
    assert_eq!(r["status"], "captured", "{r}");
    assert!(
        r.get("warnings").is_none(),
        "a right clock warns of nothing: {r}"
    );

    let provs = provenance_records(&ar);
    assert_eq!(provs.len(), 1, "one provenance record per capture batch");
    let (rec, p) = &provs[0];
    assert_eq!(p["samizdat"], "provenance/1");
    assert_eq!(p["post_id"], r["post_id"]);
    assert_eq!(p["tool"]["name"], "samizdat");
    assert_eq!(p["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(p["collector"]["name"], "desk-7");
    assert_eq!(p["collector"]["organisation"], "a digital-rights group");
    assert_eq!(p["via"], "cli");
    assert_eq!(p["options"]["no_media"], true);
    let ex = p["exchanges"].as_array().unwrap();
    assert_eq!(ex.len(), 1, "{p}");
    assert_eq!(ex[0]["uri"], url.as_str());
    assert_eq!(ex[0]["peer"], "127.0.0.1");
    let off = ex[0]["offset_ms"].as_i64().unwrap();
    assert!((-2000..2000).contains(&off), "{off}");
    assert_eq!(p["clock"]["samples"], 1);
    assert!(p["clock"]["warning"].is_null(), "{p}");
    assert_eq!(p["settings"]["platforms"]["weibo"]["cookies"], true);
    // The post record names it among the records the capture rests on: a bundle holds it.
    let shown: Value =
        serde_json::from_slice(&run_ok(samizdat(&ar).args(["--json", "show", &url])).stdout)
            .unwrap();
    let ids = shown["captures"][0]["record_ids"].as_array().unwrap();
    assert!(ids.iter().any(|i| i == rec.id()), "{shown}");

    // A server an hour behind: the capture warns, and the record says so.
    let skewed = format!("{}/skewed.html", srv.base_url());
    let out = run_ok(samizdat(&ar).args(["--json", "capture", "--no-media", &skewed]));
    let r = &json_lines(&String::from_utf8_lossy(&out.stdout))[0];
    assert_eq!(
        r["status"], "captured",
        "a clock warning loses nothing: {r}"
    );
    let w = r["warnings"].to_string();
    assert!(
        w.contains("ahead") && w.contains("max_clock_offset_ms"),
        "{r}"
    );
    let provs = provenance_records(&ar);
    let p = &provs.last().unwrap().1;
    let median = p["clock"]["median_offset_ms"].as_i64().unwrap();
    assert!((3_590_000..3_610_000).contains(&median), "{median}");
    assert!(p["clock"]["warning"].as_str().unwrap().contains("ahead"));

    // No secret in any record or in the index.
    let mut all = vec![];
    for r in records(&ar) {
        all.extend_from_slice(&r.block);
    }
    all.extend(std::fs::read(ar.join("index.sqlite")).unwrap_or_default());
    let all = String::from_utf8_lossy(&all);
    for s in ["tsa-s3cret", "cookie-s3cret", "header-s3cret"] {
        assert!(!all.contains(s), "{s} was written");
    }
    assert!(
        all.contains("https://tsa.example/ts"),
        "the TSA is named, without its key"
    );
    run_ok(samizdat(&ar).arg("verify"));
}

fn sha256_hex(p: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn every_export_and_recorded_verify_is_a_custody_record_shown_with_the_post() {
    let srv = server();
    srv.route("/post.html", Resp::html(PAGE));
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        "[collector]\nname = \"desk-7\"\n\n[http]\nper_host_delay_ms = 0\n",
    );
    let url = format!("{}/post.html", srv.base_url());
    run_ok(samizdat(&ar).args(["capture", "--no-media", &url]));
    let show = || -> Value {
        serde_json::from_slice(&run_ok(samizdat(&ar).args(["--json", "show", &url])).stdout)
            .unwrap()
    };
    assert!(show().get("custody").is_none(), "nothing exported yet");

    // An export: the archive says which file left, with its digest, by whom.
    let b1 = dir.path().join("first.zip");
    let out = run_ok(
        samizdat(&ar)
            .args(["--json", "export", &url, "--bundle"])
            .arg(&b1),
    );
    let line = &json_lines(&String::from_utf8_lossy(&out.stdout))[0];
    let c = show();
    let ev = &c["custody"].as_array().unwrap()[0];
    assert_eq!(ev["action"], "export_bundle");
    assert_eq!(ev["artifact"]["name"], "first.zip");
    assert_eq!(ev["artifact"]["sha256"], sha256_hex(&b1).as_str());
    assert_eq!(
        ev["artifact"]["bytes"],
        std::fs::metadata(&b1).unwrap().len()
    );
    assert_eq!(ev["collector"]["name"], "desk-7");
    assert_eq!(ev["posts"][0], c["id"]);
    assert_eq!(ev["record_id"], line["custody"], "{line}");

    // A recorded verify is about the whole archive: every post shows it.
    let (code, _, err) = run_code(samizdat(&ar).args(["verify", "--record"]));
    assert_eq!(code, 0, "{err}");
    let c = show();
    let evs = c["custody"].as_array().unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1]["action"], "verify");
    assert_eq!(evs[1]["all"], true);
    assert_eq!(evs[1]["result"], "no damage found");
    // `verify` without --record writes nothing.
    run_ok(samizdat(&ar).arg("verify"));
    assert_eq!(show()["custody"].as_array().unwrap().len(), 2);

    // The next bundle carries the events so far, each a record with its proof.
    let b2 = dir.path().join("second.zip");
    run_ok(samizdat(&ar).args(["export", &url, "--bundle"]).arg(&b2));
    let members = read_zip(&b2);
    let custody = &members
        .iter()
        .find(|m| m.0 == "custody.json")
        .expect("custody.json in the bundle")
        .1;
    let listed: Value = serde_json::from_slice(custody).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["artifact"]["sha256"], sha256_hex(&b1).as_str());
    let (code, out, err) = run_code(samizdat(&ar).arg("verify-bundle").arg(&b2));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("custody.json"), "{out}");
    // Edited, it is caught.
    let bad = dir.path().join("bad.zip");
    rewrite_zip(&b2, &bad, "custody.json", |b| {
        let s = String::from_utf8(b.clone()).unwrap();
        *b = s.replace("desk-7", "someone else").into_bytes();
    });
    let (code, out, _) = run_code(samizdat(&ar).arg("verify-bundle").arg(&bad));
    assert_eq!(code, 3, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("custody.json")),
        "{out}"
    );

    // A WACZ of the whole archive, then the words of `show`, then `reindex`.
    let w = dir.path().join("all.wacz");
    run_ok(samizdat(&ar).args(["export", "--all", "--wacz"]).arg(&w));
    let c = show();
    let evs = c["custody"].as_array().unwrap();
    assert_eq!(evs.len(), 4, "{c}");
    assert_eq!(evs[3]["action"], "export_wacz");
    assert_eq!(evs[3]["artifact"]["sha256"], sha256_hex(&w).as_str());
    let words =
        String::from_utf8_lossy(&run_ok(samizdat(&ar).args(["show", &url])).stdout).into_owned();
    assert!(
        words.contains("custody") && words.contains("first.zip") && words.contains("desk-7"),
        "{words}"
    );
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(
        show()["custody"],
        c["custody"],
        "reindex rebuilds the custody events"
    );
    run_ok(samizdat(&ar).arg("verify"));
}
