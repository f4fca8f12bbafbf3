//! Issue 11, "Recovery": damage on disk never panics, never cascades, always exits 3, and
//! `reindex` never leaves the archive worse than it was. Every test goes through the real
//! binary (and the real `serve` for the proof endpoints) on an archive made by real
//! captures from a loopback server, then damaged on disk.

use crate::common;

use common::serve::Serve;
use common::*;
use proptest::prelude::*;
use samizdat::store::warc;
use std::path::{Path, PathBuf};

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n");
    (dir, ar)
}

/// An archive of `n` captures (one batch each) from a loopback server; their post ids.
fn archive_with_captures(srv: &TestServer, ar: &Path, n: usize) -> Vec<String> {
    let mut ids = vec![];
    for i in 0..n {
        let path = format!("/recovery/{i}");
        srv.route(
            &path,
            Resp::html(format!(
                "<!doctype html><html><head><title>Post {i}</title></head><body><article>\
                 <h1>Post number {i}</h1><p>反诈中心冻结了我的银行卡 {i}</p></article></body></html>"
            )),
        );
        let out = run_ok(
            samizdat(ar)
                .args(["--json", "capture", "--no-media"])
                .arg(srv.url(&path)),
        );
        let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
        ids.push(lines[0]["post_id"].as_str().expect("post id").to_string());
    }
    ids
}

fn warc_file(ar: &Path) -> PathBuf {
    warc_files(ar).into_iter().next().expect("a WARC file")
}

/// (offset, length, content type) of every member of a WARC file.
fn members(path: &Path) -> Vec<(u64, u64, String)> {
    warc::MemberReader::open(path, 0)
        .unwrap()
        .map(|m| {
            let m = m.unwrap();
            let rec = warc::parse_record(&m.bytes).unwrap();
            let ct = rec.field("Content-Type").unwrap_or("").to_string();
            (m.offset, m.length, ct)
        })
        .collect()
}

/// Members in the middle of the file that are not post records (damaging them loses no
/// post), from the middle outwards.
fn middle_non_post_members(path: &Path) -> Vec<(u64, u64)> {
    let ms = members(path);
    let mid = ms.len() / 2;
    let mut out: Vec<(u64, u64)> = ms
        .iter()
        .enumerate()
        .filter(|(i, m)| *i > 0 && *i + 1 < ms.len() && m.2 != warc::mime::POST)
        .map(|(_, m)| (m.0, m.1))
        .collect();
    out.sort_by_key(|m| (m.0 as i64 - ms[mid].0 as i64).abs());
    out
}

fn flip(path: &Path, at: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at as usize] ^= 0x20;
    std::fs::write(path, bytes).unwrap();
}

/// The `DAMAGE:` lines of a `verify` or `reindex` report (on stdout).
fn damage_lines(report: &str) -> Vec<&str> {
    report
        .lines()
        .filter(|l| l.starts_with("DAMAGE:"))
        .collect()
}

fn list_ids(ar: &Path) -> String {
    String::from_utf8_lossy(&run_ok(samizdat(ar).args(["--json", "list", "--limit", "0"])).stdout)
        .into_owned()
}

fn tree_size(ar: &Path) -> u64 {
    let out = run_ok(samizdat(ar).args(["--json", "log", "checkpoint"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["size"].as_u64().unwrap()
}

#[test]
fn reindex_after_a_flipped_byte_in_a_middle_record_keeps_the_archive_usable() {
    let srv = server();
    let (_d, ar) = setup();
    let ids = archive_with_captures(&srv, &ar, 3);
    let f = warc_file(&ar);
    let (off, len) = middle_non_post_members(&f)[0];
    flip(&f, off + len / 2);

    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert_eq!(code, 3, "reindex reports the damage with exit 3: {err}");
    let name = f.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        err.contains(&format!("{name} bytes {off}..{}", off + len)),
        "names the damaged range: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // Nothing undamaged was lost: every post is still there and shown.
    let listed = list_ids(&ar);
    for id in &ids {
        assert!(
            listed.contains(id.as_str()),
            "{id} lost by reindex: {listed}"
        );
        run_ok(samizdat(&ar).args(["show", id]));
    }
    // Captures go on, and the log stays consistent (verify names only the one range).
    srv.route(
        "/recovery/after",
        Resp::html(
            "<html><head><title>After</title></head><body><p>after the damage</p></body></html>",
        ),
    );
    run_ok(
        samizdat(&ar)
            .args(["capture", "--no-media"])
            .arg(srv.url("/recovery/after")),
    );
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        damage_lines(&err).len(),
        1,
        "one line for the one range: {err}"
    );
    assert!(err.contains(&format!("@{off}")), "{err}");
    // Proofs of the leaves after the damaged one are served and verify.
    let size = tree_size(&ar);
    run_ok(samizdat(&ar).args(["--json", "log", "proof", &(size - 1).to_string()]));
    // A second reindex finds the same damage and loses nothing either.
    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert_eq!(code, 3, "{err}");
    assert_eq!(tree_size(&ar), size);
    run_ok(
        samizdat(&ar)
            .args(["capture", "--no-media"])
            .arg(srv.url("/recovery/0")),
    );
}

#[test]
fn verify_names_each_damaged_range_once() {
    let srv = server();
    let (_d, ar) = setup();
    archive_with_captures(&srv, &ar, 4);
    let f = warc_file(&ar);
    let picks = middle_non_post_members(&f);
    let (a, b) = (picks[0], picks[picks.len() - 1]);
    flip(&f, a.0 + a.1 / 2);
    flip(&f, b.0 + b.1 / 2);
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "{err}");
    let lines = damage_lines(&err);
    assert_eq!(
        lines.len(),
        2,
        "one line per damaged range, no cascade: {err}"
    );
    assert!(
        err.contains(&format!("@{}", a.0)) && err.contains(&format!("@{}", b.0)),
        "{err}"
    );
}

#[test]
fn a_corrupt_index_header_is_damage_and_reindex_rebuilds_it_keeping_the_bad_file() {
    let srv = server();
    let (_d, ar) = setup();
    let ids = archive_with_captures(&srv, &ar, 2);
    let ix = ar.join("index.sqlite");
    // Make sure the database is in the main file, then break its header.
    let _ = std::fs::remove_file(ar.join("index.sqlite-shm"));
    let mut bytes = std::fs::read(&ix).unwrap();
    bytes[..32].copy_from_slice(b"this is not a SQLite header!!!!!");
    std::fs::write(&ix, &bytes).unwrap();
    let _ = std::fs::remove_file(ar.join("index.sqlite-wal"));

    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "a damaged index is damage: {err}");
    assert!(err.contains("index.sqlite"), "{err}");

    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert!(
        code == 0 || code == 3,
        "reindex rebuilds the index: {code} {err}"
    );
    let kept: Vec<_> = std::fs::read_dir(ar.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("index.sqlite"))
        .collect();
    assert_eq!(
        kept.len(),
        1,
        "the damaged file is kept in quarantine/: {kept:?}"
    );
    assert_eq!(std::fs::read(&kept[0]).unwrap(), bytes, "byte for byte");
    for id in &ids {
        run_ok(samizdat(&ar).args(["show", id]));
    }
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn a_flipped_stored_tree_hash_is_damage_and_is_never_served() {
    let srv = server();
    let (d, ar) = setup();
    let ids = archive_with_captures(&srv, &ar, 2);
    let size = tree_size(&ar);
    assert!(size > 4, "{size}");
    let good = run_ok(samizdat(&ar).args(["--json", "log", "proof", "0"])).stdout;
    // Leaf 1's stored hash (entry 1 of log/hashes) is under a complete subtree: the root
    // of the tree does not read it, the proof of leaf 0 does.
    let hp = ar.join("log/hashes");
    let mut h = std::fs::read(&hp).unwrap();
    h[32] ^= 0x01;
    std::fs::write(&hp, &h).unwrap();

    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("stored tree hashes disagree"), "{err}");
    let (code, out, err) = run_code(samizdat(&ar).args(["--json", "log", "proof", "0"]));
    assert_eq!(
        code, 3,
        "a proof from a damaged cache is refused: {out} {err}"
    );
    // The first capture's records include leaf 1: its bundle would carry a wrong proof.
    let zip = d.path().join("bundle.zip");
    let (code, _, err) = run_code(
        samizdat(&ar)
            .args(["export", &ids[0], "--bundle"])
            .arg(&zip),
    );
    assert_eq!(code, 3, "no bundle with proofs from a damaged cache: {err}");
    {
        let web = Serve::start(&ar);
        let (status, body) = web.get("/api/log/proof/0");
        assert_ne!(status, 200, "{}", String::from_utf8_lossy(&body));
        let (status, _) = web.get(&format!("/log/tile/0/000.p/{size}"));
        assert_ne!(status, 200, "a damaged tile is not served");
        let (status, _) = web.get("/log/checkpoint");
        assert_eq!(status, 200);
        // The posts are still shown (a proof that does not check is left out).
        let (status, body) = web.get(&format!("/api/posts/{}", ids[0]));
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    // reindex rebuilds the cache (keeping the damaged one) and the same proof is served.
    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert_eq!(code, 3, "the replaced damaged cache is reported: {err}");
    assert_eq!(
        run_ok(samizdat(&ar).args(["--json", "log", "proof", "0"])).stdout,
        good
    );
    let web = Serve::start(&ar);
    assert_eq!(web.get("/api/log/proof/0").0, 200);
    assert_eq!(web.get(&format!("/log/tile/0/000.p/{size}")).0, 200);
    assert_eq!(run_code(samizdat(&ar).arg("verify")).0, 0);
}

#[test]
fn reindex_leaves_a_torn_tail_for_quarantine_and_is_not_damage() {
    let srv = server();
    let (_d, ar) = setup();
    let ids = archive_with_captures(&srv, &ar, 2);
    let f = warc_file(&ar);
    let mut bytes = std::fs::read(&f).unwrap();
    let whole = bytes.len();
    let (off, len) = middle_non_post_members(&f)[0];
    let torn = bytes[off as usize..(off + len / 2) as usize].to_vec();
    bytes.extend_from_slice(&torn);
    std::fs::write(&f, &bytes).unwrap();
    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert_eq!(code, 0, "crash debris is not damage: {err}");
    assert!(err.contains("crash debris"), "{err}");
    for id in &ids {
        run_ok(samizdat(&ar).args(["show", id]));
    }
    run_ok(
        samizdat(&ar)
            .args(["capture", "--no-media"])
            .arg(srv.url("/recovery/0")),
    );
    let kept: Vec<Vec<u8>> = std::fs::read_dir(ar.join("quarantine"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(kept, vec![torn], "the torn tail is kept in quarantine/");
    assert!(std::fs::metadata(&f).unwrap().len() > whole as u64);
    assert_eq!(run_code(samizdat(&ar).arg("verify")).0, 0);
}

/// Replaces member at `off` (inflated) after applying `f`, keeping the rest.
fn rewrite_member(path: &Path, off: u64, len: u64, f: impl FnOnce(&mut Vec<u8>)) {
    let bytes = std::fs::read(path).unwrap();
    let mut rec = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&bytes[off as usize..(off + len) as usize]),
        &mut rec,
    )
    .unwrap();
    f(&mut rec);
    let mut out = bytes[..off as usize].to_vec();
    out.extend(warc::gzip_member(&rec, 6));
    out.extend_from_slice(&bytes[(off + len) as usize..]);
    std::fs::write(path, out).unwrap();
}

#[test]
fn a_huge_content_length_is_damage_not_a_panic() {
    let srv = server();
    let (_d, ar) = setup();
    let ids = archive_with_captures(&srv, &ar, 2);
    let f = warc_file(&ar);
    let (off, len) = middle_non_post_members(&f)[0];
    rewrite_member(&f, off, len, |rec| {
        let text = String::from_utf8_lossy(rec).into_owned();
        let start = text.find("Content-Length: ").unwrap() + "Content-Length: ".len();
        let end = start + text[start..].find("\r\n").unwrap();
        rec.splice(start..end, b"18446744073709551612".iter().copied());
    });
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("Content-Length"), "{err}");
    let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
    assert_eq!(code, 3, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for id in &ids {
        run_ok(samizdat(&ar).args(["show", id]));
    }
}

#[test]
fn a_0xff_byte_in_a_checkpoint_is_damage() {
    let srv = server();
    let (_d, ar) = setup();
    archive_with_captures(&srv, &ar, 2);
    let cps = samizdat::store::archive::checkpoint_files(&ar).unwrap();
    let mut b = std::fs::read(&cps[0]).unwrap();
    b[3] = 0xff;
    std::fs::write(&cps[0], b).unwrap();
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "{err}");
    let name = cps[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&name), "names the checkpoint: {err}");
}

// ---------------------------------------------------------------------------
// Property tests: random and mutated WARC bytes (from a real written WARC).
// ---------------------------------------------------------------------------

/// A real WARC file (and its archive), written once by the library.
fn real_archive() -> &'static (tempfile::TempDir, PathBuf, Vec<u8>) {
    static A: std::sync::OnceLock<(tempfile::TempDir, PathBuf, Vec<u8>)> =
        std::sync::OnceLock::new();
    A.get_or_init(|| {
        let dir = tempdir();
        let root = dir.path().join("ar");
        let mut a = samizdat::store::archive::Archive::open(&root, Default::default()).unwrap();
        for b in 0..3 {
            a.append(
                (0..3)
                    .map(|i| {
                        warc::Record::build(
                            warc::kind::RESOURCE,
                            &warc::warc_date(jiff::Timestamp::now()),
                            Some(&format!("urn:test:{b}:{i}")),
                            "text/plain",
                            vec![],
                            format!("record {b}/{i}: 反诈中心冻结了我的银行卡").into_bytes(),
                        )
                    })
                    .collect(),
            )
            .unwrap();
        }
        drop(a);
        let bytes = std::fs::read(warc_file(&root)).unwrap();
        (dir, root, bytes)
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The reader never panics on random bytes.
    #[test]
    fn the_reader_never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        for item in warc::scan_bytes(&bytes, 1 << 20) {
            if let Ok(warc::Scanned::Member(m)) = item {
                let _ = warc::parse_record(&m.bytes).map(|r| warc::digest_problems(&r));
            }
        }
    }

    /// Mutations of a real file: no panic, and every member the mutation did not touch is
    /// still read, at its offset, with its bytes.
    #[test]
    fn mutations_never_lose_an_untouched_record(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let (_, _, orig) = real_archive();
        let good: Vec<warc::Member> = warc::scan_bytes(orig, 1 << 20)
            .map(|i| match i.unwrap() { warc::Scanned::Member(m) => m, d => panic!("{d:?}") })
            .collect();
        let mut bytes = orig.clone();
        let mut touched = vec![];
        for (at, v) in &edits {
            let at = at.index(bytes.len());
            bytes[at] ^= v | 1;
            touched.push(at as u64);
        }
        let read: Vec<warc::Member> = warc::scan_bytes(&bytes, 1 << 20)
            .filter_map(|i| match i.unwrap() { warc::Scanned::Member(m) => Some(m), _ => None })
            .collect();
        for m in &good {
            if touched.iter().any(|t| *t >= m.offset && *t < m.offset + m.length) {
                continue;
            }
            prop_assert!(
                read.iter().any(|r| r.offset == m.offset && r.bytes == m.bytes),
                "member at {} lost after edits {:?}", m.offset, touched
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Through the real binary: a mutated WARC file gives verify exit 0 or 3, reindex exit
    /// 0 or 3, never a panic, and reindex keeps every record whose member is untouched.
    #[test]
    fn verify_and_reindex_of_a_mutated_archive(
        at in any::<prop::sample::Index>(),
        v in 1u8..,
    ) {
        let (_, root, orig) = real_archive();
        let dir = tempdir();
        let ar = dir.path().join("ar");
        copy_dir(root, &ar);
        let f = warc_file(&ar);
        let mut bytes = orig.clone();
        let at = at.index(bytes.len()) as u64;
        bytes[at as usize] ^= v;
        std::fs::write(&f, &bytes).unwrap();
        let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
        prop_assert!(code == 0 || code == 3, "verify exit {code}: {err}");
        let (code, err, _) = run_code(samizdat(&ar).arg("reindex"));
        prop_assert!(code == 0 || code == 3, "reindex exit {code}: {err}");
        let ix = samizdat::store::index::Index::open(&ar.join("index.sqlite"), false).unwrap();
        for m in warc::scan_bytes(orig, 1 << 20) {
            let warc::Scanned::Member(m) = m.unwrap() else { continue };
            if at >= m.offset && at < m.offset + m.length {
                continue;
            }
            let rec = warc::parse_record(&m.bytes).unwrap();
            let n = ix.record_by_id(rec.id()).unwrap().filter(|r| r.offset == m.offset).iter().count();
            prop_assert_eq!(n, 1, "record {} lost by reindex (byte {} changed): {}", rec.id(), at, err);
        }
    }
}
