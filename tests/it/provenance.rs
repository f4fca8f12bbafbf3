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
