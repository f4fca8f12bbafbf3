//! The log's entries (issue 18): a record over 65,535 bytes is logged by a small entry
//! that commits to it (`Samizdat-Leaf: entry/1`), and `/log/tile/entries/<N>` serves
//! every leaf's entry as C2SP tlog-tiles says, each hashing to its level-0 tile hash,
//! so a monitor can audit the log without the WARC files. Read here by the spec, with
//! sha2 alone.

use crate::common;

use common::*;
use sha2::{Digest, Sha256};

fn leaf(entry: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// The entries of a bundle: uint16 big-endian length, then that many bytes.
fn entries(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![];
    while !b.is_empty() {
        assert!(b.len() >= 2, "a length cut short");
        let n = u16::from_be_bytes([b[0], b[1]]) as usize;
        assert!(b.len() >= 2 + n, "an entry cut short");
        out.push(b[2..2 + n].to_vec());
        b = &b[2 + n..];
    }
    out
}

#[test]
fn entry_bundles_hash_to_the_tiles_and_large_records_commit_by_their_entry() {
    let srv = server();
    let big = format!(
        "<!DOCTYPE html><html><head><title>big</title></head><body><article><p>{}</p></article></body></html>",
        "A long page about frozen bank cards. ".repeat(5000)
    );
    srv.route("/big", Resp::html(big.clone()));
    let (_d, ar) = quick_archive("");
    run_ok(samizdat(&ar).args(["capture", &srv.url("/big")]));
    run_ok(samizdat(&ar).args(["capture", &srv.url("/page")]));

    // The response record of /big is marked; small records are not.
    let recs = records(&ar);
    let big_rec = recs
        .iter()
        .find(|r| r.warc_type() == "response" && r.target_uri() == Some(srv.url("/big").as_str()))
        .expect("the response record of /big");
    assert_eq!(big_rec.field("Samizdat-Leaf"), Some("entry/1"));
    assert!(big_rec.to_bytes().len() > 65_535);
    assert!(
        recs.iter()
            .filter(|r| r.to_bytes().len() < 60_000)
            .all(|r| r.field("Samizdat-Leaf").is_none())
    );

    let web = common::serve::Serve::start(&ar);
    let (s, cp) = web.get("/log/checkpoint");
    assert_eq!(s, 200);
    let cp = String::from_utf8(cp).unwrap();
    let size: usize = cp.lines().nth(1).unwrap().parse().unwrap();
    assert!(size < 256, "one partial tile: {size}");
    let (s, tile) = web.get(&format!("/log/tile/0/000.p/{size}"));
    assert_eq!(s, 200);
    assert_eq!(tile.len(), 32 * size);
    let (s, bundle) = web.get(&format!("/log/tile/entries/000.p/{size}"));
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&bundle));
    let es = entries(&bundle);
    assert_eq!(es.len(), size);
    for (i, e) in es.iter().enumerate() {
        assert_eq!(
            leaf(e),
            tile[i * 32..i * 32 + 32],
            "entry {i} does not hash to its tile hash"
        );
    }
    // Each entry is its record, or the entry/1 that commits to it: `samizdat-entry/1`,
    // the record's head byte for byte, and the SHA-256 of its block.
    let mut whole = 0;
    let mut committed = vec![];
    for e in &es {
        if e.starts_with(b"WARC/1.1\r\n") {
            assert!(
                recs.iter().any(|r| r.to_bytes() == *e),
                "an entry that is no record"
            );
            whole += 1;
            continue;
        }
        assert!(
            e.starts_with(b"samizdat-entry/1\nWARC/1.1\r\n"),
            "{}",
            String::from_utf8_lossy(e)
        );
        let r = recs
            .iter()
            .find(|r| {
                let f = format!("\r\nWARC-Record-ID: {}\r\n", r.id());
                e.windows(f.len()).any(|w| w == f.as_bytes())
            })
            .expect("the entry names its record");
        let bytes = r.to_bytes();
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut want = b"samizdat-entry/1\n".to_vec();
        want.extend_from_slice(&bytes[..head_end]);
        want.extend_from_slice(
            format!("Block-SHA256: {}\n", hex::encode(Sha256::digest(&r.block))).as_bytes(),
        );
        assert_eq!(*e, want);
        committed.push(r.id().to_string());
    }
    assert_eq!(whole + committed.len(), size);
    assert!(
        committed.contains(&big_rec.id().to_string()),
        "{committed:?}"
    );
    let marked: Vec<String> = recs
        .iter()
        .filter(|r| r.field("Samizdat-Leaf").is_some())
        .map(|r| r.id().to_string())
        .collect();
    assert_eq!(committed, marked);

    // No such bundle: 404; a bundle past the tree: 404.
    assert_eq!(web.get("/log/tile/entries/000.p/0").0, 404);
    assert_eq!(web.get("/log/tile/entries/001").0, 404);
    assert_eq!(
        web.get(&format!("/log/tile/entries/000.p/{}", size + 1)).0,
        404
    );
    web.stop();

    // The archive checks, and rebuilds to the same tree from the WARC files alone.
    let out = run_ok(samizdat(&ar).arg("verify"));
    assert!(out.status.success());
    std::fs::remove_file(ar.join("log/hashes")).unwrap();
    std::fs::remove_file(ar.join("index.sqlite")).unwrap();
    run_ok(samizdat(&ar).arg("reindex"));
    run_ok(samizdat(&ar).arg("verify"));
    let web = common::serve::Serve::start(&ar);
    assert_eq!(web.get(&format!("/log/tile/0/000.p/{size}")).1, tile);
    web.stop();
}
