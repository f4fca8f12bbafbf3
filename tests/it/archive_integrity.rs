//! The archive's integrity guarantees, without any network: records written through the
//! library, then damaged on disk; `samizdat verify` must name each kind of damage and exit 3,
//! and crash debris must be told apart from damage.

use crate::common;

use samizdat::config::Config;
use samizdat::store::archive::{Archive, layout};
use samizdat::store::warc::{self, Record, kind};
use std::path::{Path, PathBuf};
use std::process::Command;

fn resource(n: usize) -> Record {
    Record::build(
        kind::RESOURCE,
        &warc::warc_date(jiff::Timestamp::now()),
        Some(&format!("urn:test:{n}")),
        "text/plain",
        vec![],
        format!("record number {n}: 反诈中心冻结了我的银行卡").into_bytes(),
    )
}

/// An archive with `batches` batches of 3 records each.
fn archive(batches: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ar");
    let mut a = Archive::open(&root, Config::default()).unwrap();
    for b in 0..batches {
        a.append((0..3).map(|i| resource(b * 3 + i)).collect())
            .unwrap();
    }
    (dir, root)
}

fn verify(root: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_samizdat"))
        .arg("--archive")
        .arg(root)
        .arg("verify")
        .output()
        .unwrap();
    // The report is on stdout (docs/cli.md, "Where output goes").
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn warc_file(root: &Path) -> PathBuf {
    root.join(layout::WARC_DIR)
        .join("samizdat-00000001.warc.gz")
}

/// (offset, length) of every gzip member, from the index via the library reader.
fn members(path: &Path) -> Vec<(u64, u64)> {
    warc::MemberReader::open(path, 0)
        .unwrap()
        .map(|m| {
            let m = m.unwrap();
            (m.offset, m.length)
        })
        .collect()
}

/// Replaces member `i` (inflated) after applying `f` to its bytes, keeping the rest.
fn rewrite_member(path: &Path, i: usize, f: impl FnOnce(&mut Vec<u8>)) {
    let bytes = std::fs::read(path).unwrap();
    let ms = members(path);
    let (off, len) = ms[i];
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
fn a_clean_archive_verifies() {
    let (_d, root) = archive(3);
    let (code, err) = verify(&root);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("verify: OK"), "{err}");
    assert!(err.contains("10 records"), "{err}");
    // The independent validators agree.
    let files = common::warc_files(&root);
    common::assert_warcio_ok(&files);
    assert!(common::cdxj_index(&files).contains("urn:test:"));
}

#[test]
fn a_flipped_byte_in_a_record_is_named() {
    let (_d, root) = archive(2);
    let f = warc_file(&root);
    rewrite_member(&f, 2, |rec| {
        let n = rec.len();
        rec[n - 10] ^= 0x01;
    });
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("block digest does not match"), "{err}");
    assert!(err.contains("urn:test:1"), "names the target URI: {err}");
    assert!(
        err.contains("samizdat-00000001.warc.gz"),
        "names the file: {err}"
    );
}

#[test]
fn a_truncated_file_is_damage_when_the_index_knows_more() {
    let (_d, root) = archive(3);
    let f = warc_file(&root);
    let ms = members(&f);
    let (off, len) = ms[5];
    let file = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
    file.set_len(off + len / 2).unwrap();
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!("@{off}")),
        "names the offset {off}: {err}"
    );
    assert!(err.contains("missing from the WARC files"), "{err}");
}

#[test]
fn a_deleted_record_is_named() {
    let (_d, root) = archive(3);
    let f = warc_file(&root);
    let bytes = std::fs::read(&f).unwrap();
    let (off, len) = members(&f)[4];
    let mut out = bytes[..off as usize].to_vec();
    out.extend_from_slice(&bytes[(off + len) as usize..]);
    std::fs::write(&f, out).unwrap();
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("checkpoint root"), "{err}");
    assert!(err.contains("leaf 4"), "{err}");
}

#[test]
fn swapped_records_are_named() {
    let (_d, root) = archive(2);
    let f = warc_file(&root);
    let bytes = std::fs::read(&f).unwrap();
    let ms = members(&f);
    let (a, b) = (ms[1], ms[2]);
    let mut out = bytes[..a.0 as usize].to_vec();
    out.extend_from_slice(&bytes[b.0 as usize..(b.0 + b.1) as usize]);
    out.extend_from_slice(&bytes[a.0 as usize..(a.0 + a.1) as usize]);
    out.extend_from_slice(&bytes[(b.0 + b.1) as usize..]);
    std::fs::write(&f, out).unwrap();
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("the index says leaf 1 is"), "{err}");
    assert!(err.contains("checkpoint root"), "{err}");
}

#[test]
fn an_edited_checkpoint_is_named() {
    let (_d, root) = archive(2);
    let cps = samizdat::store::archive::checkpoint_files(&root).unwrap();
    let p = &cps[0];
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1] = "3".into(); // claim a different size
    std::fs::write(p, lines.join("\n") + "\n").unwrap();
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("signature does not verify"), "{err}");
    assert!(
        err.contains(&p.file_name().unwrap().to_string_lossy().to_string()),
        "{err}"
    );
}

#[test]
fn an_edited_index_is_named() {
    let (_d, root) = archive(2);
    let conn = rusqlite::Connection::open(root.join(layout::INDEX)).unwrap();
    conn.execute("UPDATE records SET offset = offset + 1 WHERE leaf = 3", [])
        .unwrap();
    drop(conn);
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("the index places this record"), "{err}");
    assert!(err.contains("leaf 3"), "{err}");
}

#[test]
fn a_torn_tail_is_debris_and_the_next_writer_quarantines_it() {
    let (_d, root) = archive(2);
    let f = warc_file(&root);
    let good_len = std::fs::metadata(&f).unwrap().len();
    // A crash in the middle of writing the next batch: half a gzip member.
    let half = warc::gzip_member(&resource(99).to_bytes(), 6);
    let mut bytes = std::fs::read(&f).unwrap();
    bytes.extend_from_slice(&half[..half.len() / 2]);
    std::fs::write(&f, &bytes).unwrap();

    let (code, err) = verify(&root);
    assert_eq!(code, 0, "debris is not damage: {err}");
    assert!(err.contains("crash debris"), "{err}");
    assert_eq!(
        std::fs::metadata(&f).unwrap().len(),
        bytes.len() as u64,
        "verify never modifies"
    );

    let mut a = Archive::open(&root, Config::default()).unwrap();
    a.append(vec![resource(100)]).unwrap();
    drop(a);
    let q: Vec<_> = std::fs::read_dir(root.join(layout::QUARANTINE))
        .unwrap()
        .collect();
    assert_eq!(q.len(), 1, "the torn tail is kept in quarantine/");
    let kept = std::fs::read(q[0].as_ref().unwrap().path()).unwrap();
    assert_eq!(kept, &half[..half.len() / 2]);
    assert!(std::fs::metadata(&f).unwrap().len() > good_len);
    let (code, err) = verify(&root);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn records_written_but_not_indexed_are_quarantined_not_lost() {
    let (_d, root) = archive(1);
    let f = warc_file(&root);
    // A crash after the WARC fsync but before the index commit: a complete record the
    // index does not know.
    let whole = warc::gzip_member(&resource(50).to_bytes(), 6);
    let mut bytes = std::fs::read(&f).unwrap();
    bytes.extend_from_slice(&whole);
    std::fs::write(&f, &bytes).unwrap();
    let (code, err) = verify(&root);
    assert_eq!(
        code, 0,
        "an unfinished batch at the end is debris, not damage: {err}"
    );
    assert!(err.contains("batch that never finished"), "{err}");

    let mut a = Archive::open(&root, Config::default()).unwrap();
    a.append(vec![resource(51)]).unwrap();
    drop(a);
    let q: Vec<_> = std::fs::read_dir(root.join(layout::QUARANTINE))
        .unwrap()
        .collect();
    assert_eq!(q.len(), 1);
    assert_eq!(std::fs::read(q[0].as_ref().unwrap().path()).unwrap(), whole);
    assert_eq!(verify(&root).0, 0);
}

#[test]
fn index_rows_lost_under_a_checkpoint_are_damage() {
    let (_d, root) = archive(2);
    let conn = rusqlite::Connection::open(root.join(layout::INDEX)).unwrap();
    conn.execute("DELETE FROM records WHERE leaf >= 5", [])
        .unwrap();
    drop(conn);
    let (code, err) = verify(&root);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("the index lost rows"), "{err}");
}

#[test]
fn reindex_rebuilds_the_same_index() {
    let (_d, root) = archive(3);
    let dump = |root: &Path| {
        let c = rusqlite::Connection::open(root.join(layout::INDEX)).unwrap();
        let mut st = c
            .prepare("SELECT leaf, quote(id), quote(file), offset, length, quote(block_digest), hex(leaf_hash) FROM records ORDER BY leaf")
            .unwrap();
        st.query_map([], |r| {
            Ok(format!(
                "{} {} {} {} {} {} {}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?
            ))
        })
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
    };
    let before = dump(&root);
    let tables_before = every_table(&root);
    assert!(
        tables_before
            .iter()
            .any(|(t, rows)| t == "records" && rows.len() == 10),
        "the dump covers the records (a warcinfo and 9): {tables_before:?}"
    );
    rebuild_index_from_scratch(&root);
    assert_eq!(dump(&root), before);
    assert_eq!(
        every_table(&root),
        tables_before,
        "every table, row for row"
    );
    assert_eq!(verify(&root).0, 0);
}

/// Every table of an archive's index, rows in a stable order (`Index::dump`).
fn every_table(root: &Path) -> Vec<(String, Vec<String>)> {
    samizdat::store::index::Index::open(&root.join(layout::INDEX), false)
        .unwrap()
        .dump()
        .unwrap()
}

#[test]
fn rotation_starts_each_file_with_warcinfo() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ar");
    let mut config = Config::default();
    config.storage.warc_max_bytes = 600;
    let mut a = Archive::open(&root, config).unwrap();
    for b in 0..4 {
        a.append((0..3).map(|i| resource(b * 3 + i)).collect())
            .unwrap();
    }
    drop(a);
    let files = samizdat::store::archive::warc_files(&root).unwrap();
    assert!(files.len() >= 3, "{files:?}");
    for (i, f) in files.iter().enumerate() {
        assert_eq!(f, &format!("samizdat-{:08}.warc.gz", i + 1));
        let first = warc::MemberReader::open(&root.join("warc").join(f), 0)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let rec = warc::parse_record(&first.bytes).unwrap();
        assert_eq!(rec.warc_type(), "warcinfo");
        assert_eq!(rec.field("WARC-Filename"), Some(f.as_str()));
    }
    assert_eq!(verify(&root).0, 0);
    common::assert_warcio_ok(&common::warc_files(&root));
}

/// A copy of the folder `from` at `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// `samizdat --archive root --json ARGS`: stdout, after checking it succeeded.
fn json_out(root: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_samizdat"))
        .arg("--archive")
        .arg(root)
        .arg("--json")
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn an_index_from_the_previous_schema_migrates_and_answers_as_a_rebuilt_one() {
    use samizdat::store::index::{Index, SCHEMA_VERSION};
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index-previous-schema");
    let dir = tempfile::tempdir().unwrap();
    let migrated = dir.path().join("migrated");
    let rebuilt = dir.path().join("rebuilt");
    copy_dir(&fixture.join("archive"), &migrated);
    copy_dir(&fixture.join("archive"), &rebuilt);

    // The committed index predates numbered schemas.
    let version = |root: &Path| -> i64 {
        rusqlite::Connection::open(root.join(layout::INDEX))
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&migrated), 0);
    // A writable open migrates it.
    drop(Index::open(&migrated.join(layout::INDEX), true).unwrap());
    assert_eq!(version(&migrated), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 1) };

    // The other copy gets a freshly built index.
    rebuild_index_from_scratch(&rebuilt);
    assert_eq!(version(&rebuilt), SCHEMA_VERSION);

    // Both answer byte for byte as the previous build did about the same archive.
    let expected =
        |name: &str| std::fs::read_to_string(fixture.join("expected").join(name)).unwrap();
    let mut asked = vec![
        (
            vec!["list".to_string(), "--limit".into(), "0".into()],
            "list.json",
        ),
        (vec!["watch".into(), "list".into()], "watch-list.json"),
        (vec!["search".into(), "bank".into()], "search-bank.json"),
        (vec!["search".into(), "银行卡".into()], "search-cjk.json"),
    ];
    for (file, url) in [
        ("show-a.json", "http://127.0.0.1:18731/a.html"),
        ("show-b.json", "http://127.0.0.1:18731/b.html"),
        (
            "show-a-utm.json",
            "http://127.0.0.1:18731/a.html?utm_source=x",
        ),
    ] {
        let v: serde_json::Value = serde_json::from_str(&expected(file)).unwrap();
        let id = v["id"].as_str().unwrap().to_string();
        asked.push((vec!["show".into(), id], file));
        asked.push((vec!["show".into(), url.into()], file));
    }
    for (args, file) in &asked {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let m = json_out(&migrated, &args);
        assert_eq!(m, expected(file), "migrated index, {args:?}");
        assert_eq!(json_out(&rebuilt, &args), m, "rebuilt index, {args:?}");
    }
    // The deletion, the URL conflict and the watch entry are all there to be compared.
    let b: serde_json::Value = serde_json::from_str(&expected("show-b.json")).unwrap();
    assert_eq!(b["state"], "deleted");
    assert_eq!(b["checks"].as_array().unwrap().len(), 3);
    assert!(expected("show-a-utm.json").contains("url_conflicts"));

    // And row for row, every table.
    let dump = |root: &Path| {
        Index::open(&root.join(layout::INDEX), false)
            .unwrap()
            .dump()
            .unwrap()
    };
    assert_eq!(dump(&migrated), dump(&rebuilt));
    assert_eq!(verify(&migrated).0, 0, "{}", verify(&migrated).1);
}

/// Schema 1 to 2 (issue 13, storage per routine check): an index whose records and checks
/// are text, with checks copying their response's URI, date and digest and identical checks
/// written as request and revisit records, is converted on the first writable open, and
/// answers byte for byte as the build that made it did, and as a rebuilt index does.
#[test]
fn an_index_at_schema_1_converts_and_answers_as_before_and_as_a_rebuilt_one() {
    use samizdat::store::index::{Index, SCHEMA_VERSION};
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/index-v1-schema");
    let dir = tempfile::tempdir().unwrap();
    let migrated = dir.path().join("migrated");
    let rebuilt = dir.path().join("rebuilt");
    copy_dir(&fixture.join("archive"), &migrated);
    copy_dir(&fixture.join("archive"), &rebuilt);
    let ix = |root: &Path| rusqlite::Connection::open(root.join(layout::INDEX)).unwrap();
    let version = |root: &Path| -> i64 {
        ix(root)
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    };
    let id_type = |root: &Path| -> String {
        ix(root)
            .query_row("SELECT typeof(id) FROM records LIMIT 1", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version(&migrated), 1);
    assert_eq!(id_type(&migrated), "text");
    drop(Index::open(&migrated.join(layout::INDEX), true).unwrap());
    assert_eq!(version(&migrated), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    assert_eq!(
        id_type(&migrated),
        "blob",
        "record ids are stored as their 16 bytes"
    );
    rebuild_index_from_scratch(&rebuilt);

    let expected =
        |name: &str| std::fs::read_to_string(fixture.join("expected").join(name)).unwrap();
    let id = "mastodon:mastodon.social/110000000000000001";
    let asked: Vec<(Vec<&str>, &str)> = vec![
        (vec!["list", "--limit", "0"], "list.json"),
        (vec!["show", id], "show.json"),
        (
            vec!["show", "https://mastodon.social/@ada/110000000000000001"],
            "show.json",
        ),
        (vec!["watch", "list"], "watch-list.json"),
        (vec!["search", "hello"], "search-hello.json"),
    ];
    for (args, file) in &asked {
        let m = json_out(&migrated, args);
        assert_eq!(m, expected(file), "migrated index, {args:?}");
        assert_eq!(json_out(&rebuilt, args), m, "rebuilt index, {args:?}");
    }
    let status = |root: &Path| {
        let out = common::samizdat(root)
            .env("SAMIZDAT_NOW", "2026-03-01T13:03:00Z")
            .args(["--json", "watch", "status"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(status(&migrated), expected("watch-status.json"));
    assert_eq!(status(&rebuilt), expected("watch-status.json"));
    // The checks are there to compare: two revisits, two unreachable answers.
    let v: serde_json::Value = serde_json::from_str(&expected("show.json")).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 4);

    let dump = |root: &Path| {
        Index::open(&root.join(layout::INDEX), false)
            .unwrap()
            .dump()
            .unwrap()
    };
    assert_eq!(dump(&migrated), dump(&rebuilt));
    assert_eq!(verify(&migrated).0, 0, "{}", verify(&migrated).1);
}

/// Deletes the index and the stored tree hashes and rebuilds both with `reindex`, which
/// must succeed.
fn rebuild_index_from_scratch(root: &Path) {
    std::fs::remove_file(root.join(layout::INDEX)).unwrap();
    std::fs::remove_file(root.join(layout::HASHES)).unwrap();
    common::run_ok(common::samizdat(root).arg("reindex"));
}
