//! Issue 11, "Evidence": forged and hostile bundles and WACZs through the real
//! `verify-bundle`. A real bundle is made from a real capture and a real check (fixture
//! server, local TSA on `openssl ts`), then forged the ways the red team did.

use crate::common;

use common::tsa::*;
use common::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------
// A throwaway TSA (as in tests/evidence.rs)
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// A real bundle: a capture, a live check, a timestamp
// ---------------------------------------------------------------------------

struct Fixture {
    dir: tempfile::TempDir,
    ar: PathBuf,
    bundle: PathBuf,
    tsa: Tsa,
    _srv: TestServer,
}

impl Fixture {
    fn vkey(&self) -> PathBuf {
        self.ar.join("keys/log.vkey")
    }
    fn ca(&self) -> PathBuf {
        self.tsa.dir.path().join("ca.crt")
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// `verify-bundle FILE --vkey --tsa-ca`, with no archive.
    fn verify(&self, zip: &Path) -> (i32, String, String) {
        let (v, c) = (self.vkey(), self.ca());
        self.verify_with(
            zip,
            &[
                "--vkey".as_ref(),
                v.as_os_str(),
                "--tsa-ca".as_ref(),
                c.as_os_str(),
            ],
        )
    }
    fn verify_with(&self, zip: &Path, args: &[&OsStr]) -> (i32, String, String) {
        run_code(
            samizdat(&self.dir.path().join("no-archive"))
                .arg("verify-bundle")
                .arg(zip)
                .args(args),
        )
    }
}

fn fixture() -> Fixture {
    let srv = server();
    let tsa = start_tsa();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\ninterval = \"1000d\"\n",
            tsa.url,
            tsa.dir.path().join("ca.crt").display()
        ),
    );
    srv.route(
        "/story",
        Resp::html("<!doctype html><html><head><title>Story</title></head><body><article><p>The words the author wrote.</p></article></body></html>"),
    );
    let url = srv.url("/story");
    let at = |t: &str, args: &[&str]| {
        let (code, out, err) = run_code(samizdat(&ar).env("SAMIZDAT_NOW", t).args(args));
        assert_eq!(code, 0, "{args:?}:\n{out}\n{err}");
        out
    };
    at("2099-01-01T00:00:00Z", &["watch", "add", &url]);
    // A live check ten minutes later: the bundle carries a check record.
    at("2099-01-01T00:10:00Z", &["watch", "run", "--once"]);
    at("2099-01-01T00:11:00Z", &["timestamp"]);
    let list = at("2099-01-01T00:11:00Z", &["--json", "list"]);
    let id = json_lines(&list)
        .iter()
        .find_map(|v| v["id"].as_str().map(str::to_string))
        .or_else(|| {
            serde_json::from_str::<Value>(list.trim())
                .ok()
                .and_then(|v| v.as_array()?.first()?["id"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| panic!("no post listed:\n{list}"));
    let bundle = dir.path().join("bundle.zip");
    at(
        "2099-01-01T00:12:00Z",
        &["export", &id, "--bundle", bundle.to_str().unwrap()],
    );
    let f = Fixture {
        dir,
        ar,
        bundle,
        tsa,
        _srv: srv,
    };
    let (code, out, err) = f.verify(&f.bundle);
    assert_eq!(code, 0, "the real bundle must verify:\n{out}\n{err}");
    let post = post_of(&entries(&f.bundle));
    assert_eq!(post["state"], "live");
    assert!(
        !post["checks"].as_array().unwrap().is_empty(),
        "the fixture needs a check: {post}"
    );
    f
}

// ---------------------------------------------------------------------------
// Zip surgery
// ---------------------------------------------------------------------------

type Entry = (String, Vec<u8>, zip::CompressionMethod);

fn entries(p: &Path) -> Vec<Entry> {
    read_zip(p)
}

fn write_zip(p: &Path, es: &[Entry]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(p).unwrap());
    for (n, b, m) in es {
        z.start_file(
            n.as_str(),
            zip::write::SimpleFileOptions::default()
                .compression_method(*m)
                .large_file(b.len() > (1 << 30)),
        )
        .unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
}

/// Writes `es` to `p`, then `mib` MiB of `byte` after the bytes of member `name` (streamed:
/// cheap to make however big it inflates).
fn write_zip_padded(p: &Path, es: &[Entry], name: &str, mib: usize, byte: u8) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(p).unwrap());
    let chunk = vec![byte; 1 << 20];
    for (n, b, m) in es {
        z.start_file(
            n.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(*m),
        )
        .unwrap();
        z.write_all(b).unwrap();
        if n == name {
            for _ in 0..mib {
                z.write_all(&chunk).unwrap();
            }
        }
    }
    z.finish().unwrap();
}

fn get<'a>(es: &'a [Entry], name: &str) -> &'a [u8] {
    &es.iter().find(|e| e.0 == name).unwrap().1
}

fn set(es: &mut [Entry], name: &str, bytes: Vec<u8>) {
    es.iter_mut().find(|e| e.0 == name).unwrap().1 = bytes;
}

fn post_of(es: &[Entry]) -> Value {
    serde_json::from_slice(get(es, "post.json")).unwrap()
}

/// view.html exactly as samizdat renders it for `post` (what a forger re-renders so the
/// view matches the forged post).
fn render_for(es: &[Entry], post: &Value) -> Vec<u8> {
    use samizdat::evidence::bundle::{RecMeta, render_view};
    let proofs: Value = serde_json::from_slice(get(es, "proofs.json")).unwrap();
    let leaf = |id: &str| {
        proofs["leaves"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["record_id"] == id)
            .unwrap()["leaf_index"]
            .as_u64()
            .unwrap()
    };
    let mut metas = vec![];
    let mut rest = get(es, "records.warc.gz");
    while !rest.is_empty() {
        let mut d = flate2::bufread::GzDecoder::new(rest);
        let mut b = vec![];
        d.read_to_end(&mut b).unwrap();
        rest = d.into_inner();
        let r = samizdat::store::warc::parse_record(&b).unwrap();
        metas.push(RecMeta {
            id: r.id().to_string(),
            leaf: leaf(r.id()),
            warc_type: r.warc_type().to_string(),
            target: r.target_uri().map(str::to_string),
            date: r.date().to_string(),
            block_digest: r.field("WARC-Block-Digest").map(str::to_string),
        });
    }
    metas.sort_by_key(|m| m.leaf);
    let cp = get(es, "checkpoint");
    let digest: [u8; 32] = Sha256::digest(cp).into();
    let tokens: Vec<_> = es
        .iter()
        .filter(|e| e.0.ends_with(".tsr"))
        .map(|e| {
            (
                e.0.clone(),
                samizdat::evidence::tsp::check_response(&e.1, &digest, None, &[], &[]),
            )
        })
        .collect();
    let view: samizdat::store::views::PostView =
        serde_json::from_value(post.clone()).expect("a forged post a samizdat post object");
    render_view(&view, None, &metas, &String::from_utf8_lossy(cp), &tokens).into_bytes()
}

/// The bundle with post.json replaced by `post` and view.html re-rendered to match.
fn forge_post(f: &Fixture, name: &str, post: &Value) -> PathBuf {
    let mut es = entries(&f.bundle);
    let view = render_for(&es, post);
    set(
        &mut es,
        "post.json",
        serde_json::to_vec_pretty(post).unwrap(),
    );
    set(&mut es, "view.html", view);
    let p = f.path(name);
    write_zip(&p, &es);
    p
}

fn fails_naming(out: &str, file: &str, words: &[&str]) -> bool {
    out.lines()
        .any(|l| l.starts_with("FAIL") && l.contains(file) && words.iter().all(|w| l.contains(w)))
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// datapackage.json (+ digest) that lists every other entry with its true hash and size.
fn with_datapackage(mut es: Vec<Entry>) -> Vec<Entry> {
    es.retain(|e| e.0 != "datapackage.json" && e.0 != "datapackage-digest.json");
    let resources: Vec<Value> = es
        .iter()
        .map(|(n, b, _)| json!({"name": n, "path": n, "hash": sha(b), "bytes": b.len()}))
        .collect();
    let dp = serde_json::to_vec_pretty(
        &json!({"profile": "data-package", "wacz_version": "1.1.1", "resources": resources}),
    )
    .unwrap();
    let digest =
        serde_json::to_vec(&json!({"path": "datapackage.json", "hash": sha(&dp)})).unwrap();
    es.push((
        "datapackage.json".into(),
        dp,
        zip::CompressionMethod::Deflated,
    ));
    es.push((
        "datapackage-digest.json".into(),
        digest,
        zip::CompressionMethod::Deflated,
    ));
    es
}

/// Peak RSS in bytes of `verify-bundle ARGS` (GNU time), with its exit code and stdout.
fn peak_rss(args: &[&OsStr]) -> (u64, i32, String) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "/usr/bin/time (GNU time, Debian package `time`) is needed to measure peak RSS"
    );
    let out = Command::new(time)
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_samizdat"))
        .args(["--archive", "/nonexistent-archive", "verify-bundle"])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let kb: u64 = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no RSS in GNU time's output:\n{err}"));
    eprintln!("verify-bundle {args:?}: peak RSS {} MiB", kb / 1024);
    (
        kb * 1024,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const RSS_BOUND: u64 = 64 << 20;

// ---------------------------------------------------------------------------
// 1. A bundle says only what its records say
// ---------------------------------------------------------------------------

#[test]
fn a_bundle_claiming_a_live_post_was_censored_is_refused_naming_each_field() {
    let f = fixture();
    let real = post_of(&entries(&f.bundle));
    let missing = "<urn:uuid:00000000-0000-4000-8000-000000000000>";

    // The red team's forgery: deleted by the platform, with the platform's words and a
    // check pointing at a record the bundle does not hold; view.html re-rendered.
    let mut censored = real.clone();
    censored["state"] = json!("deleted");
    censored["cause"] = json!("platform");
    censored["message"] = json!("This post was removed for violating the rules");
    censored["first_seen_gone"] = json!("2099-01-01T00:10:00Z");
    let mut forged_check = real["checks"][0].clone();
    forged_check["outcome"] = json!("deleted");
    forged_check["cause"] = json!("platform");
    forged_check["event"] = json!("confirmed");
    forged_check["record_id"] = json!(missing);
    censored["checks"]
        .as_array_mut()
        .unwrap()
        .push(forged_check);
    let bad = forge_post(&f, "censored.zip", &censored);
    let (code, out, err) = f.verify(&bad);
    assert_eq!(code, 3, "a forged deletion passed:\n{out}\n{err}");
    assert!(!out.contains("every check passed"), "{out}");
    assert!(
        fails_naming(&out, "post.json", &["\"state\"", "deleted", "live"]),
        "{out}"
    );
    assert!(
        fails_naming(&out, "post.json", &["checks[1]", missing]),
        "{out}"
    );

    // Each derived field alone, with the view re-rendered to match.
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit)> = vec![
        ("state", Box::new(|p| p["state"] = json!("restricted"))),
        ("cause", Box::new(|p| p["cause"] = json!("author"))),
        ("message", Box::new(|p| p["message"] = json!("removed"))),
        (
            "last_seen_live",
            Box::new(|p| p["last_seen_live"] = json!("2099-06-01T00:00:00.000000Z")),
        ),
        (
            "first_seen_gone",
            Box::new(|p| p["first_seen_gone"] = json!("2099-01-01T00:10:00Z")),
        ),
        (
            "checks",
            Box::new(|p| p["checks"][0]["message"] = json!("account suspended")),
        ),
        (
            "captures",
            Box::new(|p| p["captures"][0]["at"] = json!("2098-01-01T00:00:00.000000Z")),
        ),
        (
            "text",
            Box::new(|p| p["text"] = json!("words never written")),
        ),
    ];
    for (field, edit) in &edits {
        let mut p = real.clone();
        edit(&mut p);
        let bad = forge_post(&f, &format!("field-{field}.zip"), &p);
        let (code, out, _) = f.verify(&bad);
        assert_eq!(code, 3, "{field}: a forged field passed:\n{out}");
        assert!(
            fails_naming(&out, "post.json", &[&format!("{field:?}")]),
            "{field} not named:\n{out}"
        );
    }

    // A check pointing at a record the bundle does not hold, nothing else changed.
    let mut p = real.clone();
    p["checks"][0]["record_id"] = json!(missing);
    let bad = forge_post(&f, "missing-record.zip", &p);
    let (code, out, _) = f.verify(&bad);
    assert_eq!(code, 3, "{out}");
    assert!(
        fails_naming(&out, "post.json", &["checks[0]", missing]),
        "{out}"
    );
}

#[test]
fn a_post_json_or_proofs_json_of_the_wrong_shape_fails_naming_the_file() {
    let f = fixture();
    let es = entries(&f.bundle);
    let real = post_of(&es);

    // post.json: valid JSON, an object, but a field of the wrong type (the view cannot be
    // rendered for it, so view.html is left as it was).
    let edits: Vec<(&str, Value)> = vec![
        ("http_status", {
            let mut p = real.clone();
            p["checks"][0]["http_status"] = json!("200");
            p
        }),
        ("captures", {
            let mut p = real.clone();
            p["captures"] = json!("yesterday");
            p
        }),
        ("state", {
            let mut p = real.clone();
            p["state"] = json!(7);
            p
        }),
        ("no id", {
            let mut p = real.clone();
            p.as_object_mut().unwrap().remove("id");
            p
        }),
    ];
    for (what, p) in edits {
        let mut es = es.clone();
        set(&mut es, "post.json", serde_json::to_vec_pretty(&p).unwrap());
        let bad = f.path("wrong-shape-post.zip");
        write_zip(&bad, &es);
        let (code, out, err) = f.verify(&bad);
        assert_eq!(
            code, 3,
            "{what}: a malformed post.json passed:\n{out}\n{err}"
        );
        assert!(!out.contains("every check passed"), "{what}:\n{out}");
        assert!(
            fails_naming(&out, "post.json", &["not a samizdat post object"]),
            "{what}:\n{out}"
        );
    }

    // proofs.json: a leaf index as a string, a proof as a number, the leaves missing.
    let proofs: Value = serde_json::from_slice(get(&es, "proofs.json")).unwrap();
    let edits: Vec<(&str, Value)> = vec![
        ("leaf_index", {
            let mut p = proofs.clone();
            p["leaves"][0]["leaf_index"] = json!("0");
            p
        }),
        ("proof", {
            let mut p = proofs.clone();
            p["leaves"][0]["proof"] = json!(5);
            p
        }),
        ("leaves", {
            let mut p = proofs.clone();
            p.as_object_mut().unwrap().remove("leaves");
            p
        }),
    ];
    for (what, p) in edits {
        let mut es = es.clone();
        set(
            &mut es,
            "proofs.json",
            serde_json::to_vec_pretty(&p).unwrap(),
        );
        let bad = f.path("wrong-shape-proofs.zip");
        write_zip(&bad, &es);
        let (code, out, err) = f.verify(&bad);
        assert_eq!(
            code, 3,
            "{what}: a malformed proofs.json passed:\n{out}\n{err}"
        );
        assert!(
            fails_naming(
                &out,
                "proofs.json",
                &["not the proofs object samizdat writes"]
            ),
            "{what}:\n{out}"
        );
    }
    // A key samizdat does not write, inside a leaf: refused as padding.
    let mut p = proofs.clone();
    p["leaves"][0]["note"] = json!("hidden");
    let mut padded = es.clone();
    set(
        &mut padded,
        "proofs.json",
        serde_json::to_vec_pretty(&p).unwrap(),
    );
    let bad = f.path("leaf-key-proofs.zip");
    write_zip(&bad, &padded);
    let (code, out, _) = f.verify(&bad);
    assert_eq!(code, 3, "a key added inside a leaf passed:\n{out}");
    assert!(fails_naming(&out, "proofs.json", &["exactly"]), "{out}");

    // Not JSON at all stays what it was.
    let mut bad_es = es.clone();
    set(&mut bad_es, "proofs.json", b"{not json".to_vec());
    let bad = f.path("not-json-proofs.zip");
    write_zip(&bad, &bad_es);
    let (code, out, _) = f.verify(&bad);
    assert_eq!(code, 3, "{out}");
    assert!(
        fails_naming(&out, "proofs.json", &["not valid JSON"]),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// 2. What is verified is decided by the whole layout; the anchors always apply
// ---------------------------------------------------------------------------

#[test]
fn a_bundle_with_a_datapackage_added_is_still_checked_as_a_bundle_against_the_anchors() {
    let f = fixture();
    let mut p = post_of(&entries(&f.bundle));
    p["state"] = json!("deleted");
    p["cause"] = json!("platform");
    let forged = forge_post(&f, "forged.zip", &p);
    let bad = f.path("with-datapackage.zip");
    write_zip(&bad, &with_datapackage(entries(&forged)));
    let (code, out, err) = f.verify(&bad);
    assert_eq!(
        code, 3,
        "a forged post behind a datapackage.json passed:\n{out}\n{err}"
    );
    assert!(
        fails_naming(&out, "datapackage.json", &["not a complete WACZ"]),
        "{out}"
    );
    assert!(fails_naming(&out, "post.json", &["\"state\""]), "{out}");

    // The log key given always applies, even to a zip that carries a datapackage.json.
    let good = f.path("good-with-datapackage.zip");
    write_zip(&good, &with_datapackage(entries(&f.bundle)));
    let other = f.path("other.vkey");
    std::fs::write(
        &other,
        format!(
            "{}\n",
            samizdat::log::note::NoteSigner::generate("example.org/other-log")
                .unwrap()
                .verifier()
                .to_vkey()
        ),
    )
    .unwrap();
    let (code, out, _) = f.verify_with(&good, &["--vkey".as_ref(), other.as_os_str()]);
    assert_eq!(code, 3, "{out}");
    assert!(fails_naming(&out, "log.vkey", &["--vkey"]), "{out}");
}

#[test]
fn a_wacz_is_never_evidence_and_a_forged_one_fails() {
    let f = fixture();
    let wacz = f.path("post.wacz");
    let post = post_of(&entries(&f.bundle));
    run_ok(
        samizdat(&f.ar)
            .arg("export")
            .arg(post["id"].as_str().unwrap())
            .arg("--wacz")
            .arg(&wacz),
    );
    // A sound WACZ: a consistent package, not evidence (exit 1), with or without anchors.
    let (code, out, _) = f.verify_with(&wacz, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT EVIDENCE"), "{out}");
    let (code, out, _) = f.verify(&wacz);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--vkey and --tsa-ca were given"), "{out}");

    let all = f.path("all.wacz");
    run_ok(
        samizdat(&f.ar)
            .arg("export")
            .arg("--all")
            .arg("--wacz")
            .arg(&all),
    );
    let (code, out, _) = f.verify_with(&all, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("FAIL"), "{out}");

    // An index line pointing somewhere else, in a ZipNum index rebuilt around it and a
    // datapackage.json that agrees.
    let mut es = entries(&wacz);
    let mut cdxj = String::new();
    flate2::read::MultiGzDecoder::new(get(&es, "indexes/index.cdx.gz"))
        .read_to_string(&mut cdxj)
        .unwrap();
    let lines: Vec<String> = cdxj.lines().map(str::to_string).collect();
    let (gz, idx) = samizdat::evidence::wacz::zipnum(&lines);
    assert_eq!(
        gz,
        get(&es, "indexes/index.cdx.gz"),
        "zipnum is what export writes"
    );
    let forged = cdxj.replacen("\"offset\":\"", "\"offset\":\"1", 1);
    assert_ne!(forged, cdxj);
    let lines: Vec<String> = forged.lines().map(str::to_string).collect();
    let (gz, idx2) = samizdat::evidence::wacz::zipnum(&lines);
    set(&mut es, "indexes/index.cdx.gz", gz.clone());
    set(&mut es, "indexes/index.idx", idx2.into_bytes());
    let bad = f.path("cdxj.wacz");
    write_zip(&bad, &with_datapackage(es.clone()));
    let (code, out, _) = f.verify_with(&bad, &[]);
    assert_eq!(code, 3, "a forged index line passed:\n{out}");
    assert!(
        fails_naming(&out, "indexes/index.cdx.gz", &["line 1"]),
        "{out}"
    );
    // The same forged blocks under the true index.idx: the block digest differs.
    set(&mut es, "indexes/index.idx", idx.into_bytes());
    let bad = f.path("idx.wacz");
    write_zip(&bad, &with_datapackage(es));
    let (code, out, _) = f.verify_with(&bad, &[]);
    assert_eq!(code, 3, "a block unlike its index.idx line passed:\n{out}");
    assert!(
        fails_naming(&out, "indexes/index.idx", &["line 2", "digest"]),
        "{out}"
    );

    // A garbage WARC, with a datapackage.json that lists it by its true hash.
    let mut es = entries(&wacz);
    let warc = es
        .iter()
        .find(|e| e.0.starts_with("archive/"))
        .unwrap()
        .0
        .clone();
    set(
        &mut es,
        &warc,
        samizdat::store::warc::gzip_member(b"not a WARC record at all, just garbage", 6),
    );
    let bad = f.path("garbage.wacz");
    write_zip(&bad, &with_datapackage(es));
    let (code, out, err) = f.verify(&bad);
    assert_eq!(code, 3, "a garbage WARC passed:\n{out}\n{err}");
    assert!(fails_naming(&out, &warc, &["not a WARC record"]), "{out}");

    // A forged post.json carried in a WACZ, listed in its datapackage.json.
    let mut p = post.clone();
    p["state"] = json!("deleted");
    let mut es = entries(&wacz);
    es.push((
        "post.json".into(),
        serde_json::to_vec_pretty(&p).unwrap(),
        zip::CompressionMethod::Deflated,
    ));
    let bad = f.path("post-in.wacz");
    write_zip(&bad, &with_datapackage(es));
    let (code, out, err) = f.verify(&bad);
    assert_eq!(code, 3, "a forged post in a WACZ passed:\n{out}\n{err}");
    assert!(
        fails_naming(&out, "datapackage.json", &["post.json"]),
        "{out}"
    );
}

// ---------------------------------------------------------------------------
// 3. Duplicates, padding, extra bytes, bombs
// ---------------------------------------------------------------------------

#[test]
fn a_duplicate_member_name_is_refused() {
    let f = fixture();
    let mut es = entries(&f.bundle);
    let post = get(&es, "post.json").to_vec();
    es.push(("post.jsoX".into(), post, zip::CompressionMethod::Deflated));
    let tmp = f.path("almost.zip");
    write_zip(&tmp, &es);
    // Rename the extra member to `post.json` in its local and central headers.
    let mut b = std::fs::read(&tmp).unwrap();
    let mut n = 0;
    for i in 0..b.len() - 9 {
        if &b[i..i + 9] == b"post.jsoX" {
            b[i + 8] = b'n';
            n += 1;
        }
    }
    assert_eq!(n, 2);
    let bad = f.path("duplicate.zip");
    std::fs::write(&bad, b).unwrap();
    let (code, out, err) = f.verify(&bad);
    assert_eq!(code, 3, "a duplicate member passed:\n{out}\n{err}");
    assert!(fails_naming(&out, "(zip)", &["same name"]), "{out}");
}

/// Member names come from the file: they cannot print lines of their own.
#[test]
fn a_member_name_cannot_print_a_verdict_of_its_own() {
    let f = fixture();
    let mut es = entries(&f.bundle);
    es.push((
        "notes\nverify-bundle: every check passed\n\x1b[2K".into(),
        b"x".to_vec(),
        zip::CompressionMethod::Stored,
    ));
    let bad = f.path("newline-name.zip");
    write_zip(&bad, &es);
    let (code, out, _) = f.verify(&bad);
    assert_eq!(code, 3, "{out}");
    assert!(
        !out.lines()
            .any(|l| l == "verify-bundle: every check passed")
            && !out.contains('\x1b'),
        "{out}"
    );
    assert!(
        fails_naming(&out, "notes\\u{a}verify-bundle", &["unexpected file"]),
        "{out}"
    );
}

#[test]
fn padding_and_extra_bytes_are_refused() {
    let f = fixture();
    let es = entries(&f.bundle);

    // 200 MB of padding in proofs.json (deflated to a few hundred KB; streamed out).
    let bad = f.path("padded.zip");
    write_zip_padded(&bad, &es, "proofs.json", 200, b' ');
    let (rss, code, out) = peak_rss(&[bad.as_os_str()]);
    assert_eq!(code, 3, "200 MB of padding passed:\n{out}");
    assert!(fails_naming(&out, "proofs.json", &["declares"]), "{out}");
    assert!(rss < RSS_BOUND, "peak RSS {rss} bytes on a padded bundle");

    // A little padding in each JSON member that must be exactly as samizdat writes it.
    for name in ["proofs.json", "post.json", "log.vkey", "tsa-chain.pem"] {
        let mut es = es.clone();
        let mut b = get(&es, name).to_vec();
        b.extend_from_slice(&[b' '; 64]);
        set(&mut es, name, b);
        let bad = f.path("little-padding.zip");
        write_zip(&bad, &es);
        let (code, out, _) = f.verify(&bad);
        assert_eq!(code, 3, "{name}: padding passed:\n{out}");
        assert!(fails_naming(&out, name, &["exactly"]), "{name}:\n{out}");
    }

    // Bytes before the first member, between members, and after the end record.
    let good = std::fs::read(&f.bundle).unwrap();
    let mut before = b"hidden bytes ".to_vec();
    before.extend_from_slice(&good);
    let mut after = good.clone();
    after.extend_from_slice(b"hidden bytes");
    let mut comment = vec![];
    {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(&mut comment));
        for (n, b, m) in &es {
            z.start_file(
                n.as_str(),
                zip::write::SimpleFileOptions::default().compression_method(*m),
            )
            .unwrap();
            z.write_all(b).unwrap();
        }
        z.set_comment("hidden bytes").unwrap();
        z.finish().unwrap();
    }
    for (what, bytes) in [("before", before), ("after", after), ("comment", comment)] {
        let bad = f.path(&format!("extra-{what}.zip"));
        std::fs::write(&bad, bytes).unwrap();
        let (code, out, err) = f.verify(&bad);
        assert_eq!(code, 3, "extra bytes {what}: passed:\n{out}\n{err}");
        assert!(fails_naming(&out, "(zip)", &[]), "{what}:\n{out}");
    }
}

/// A gzip member holding one WARC record whose block is `n` zero bytes (about n/1000
/// bytes compressed), written without holding it.
fn warc_bomb_member(n: u64) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::best());
    write!(
        gz,
        "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:11111111-2222-4333-8444-555555555555>\r\n\
WARC-Date: 2099-01-01T00:00:00.000000Z\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n\r\n"
    )
    .unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..n >> 20 {
        gz.write_all(&zeros).unwrap();
    }
    gz.write_all(b"\r\n\r\n").unwrap();
    gz.finish().unwrap()
}

#[test]
fn inflating_a_bomb_is_bounded() {
    let f = fixture();
    let es = entries(&f.bundle);

    // A record in records.warc.gz that inflates to 1 GiB (about 1 MB in the zip).
    let mut bomb = es.clone();
    let mut records = get(&es, "records.warc.gz").to_vec();
    records.extend(warc_bomb_member(1 << 30));
    set(&mut bomb, "records.warc.gz", records);
    let bad = f.path("bomb-record.zip");
    write_zip(&bad, &bomb);
    assert!(std::fs::metadata(&bad).unwrap().len() < 8 << 20);
    let (rss, code, out) = peak_rss(&[bad.as_os_str()]);
    assert_eq!(code, 3, "{out}");
    assert!(
        fails_naming(&out, "proofs.json", &["no proof", "11111111-2222"]),
        "{out}"
    );
    assert!(rss < RSS_BOUND, "peak RSS {rss} bytes on a 1 GiB record");

    // A deflated view.html of 1 GiB: refused from its declared size, never inflated.
    let mut bomb = es.clone();
    set(&mut bomb, "view.html", vec![]);
    let bad = f.path("bomb-view.zip");
    write_zip_padded(&bad, &bomb, "view.html", 1024, b'A');
    let (rss, code, out) = peak_rss(&[bad.as_os_str()]);
    assert_eq!(code, 3, "{out}");
    assert!(fails_naming(&out, "view.html", &["declares"]), "{out}");
    assert!(rss < RSS_BOUND, "peak RSS {rss} bytes on a 1 GiB view.html");

    // The same, with the sizes in its headers saying 1 KiB: counted while inflating.
    let mut b = std::fs::read(&bad).unwrap();
    let mut patched = 0;
    for i in 0..b.len().saturating_sub(46) {
        let local = b[i..i + 4] == [0x50, 0x4b, 0x03, 0x04] && &b[i + 30..i + 39] == b"view.html";
        let central = b[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] && &b[i + 46..i + 55] == b"view.html";
        let at = if local {
            i + 22
        } else if central {
            i + 24
        } else {
            continue;
        };
        b[at..at + 4].copy_from_slice(&1024u32.to_le_bytes());
        patched += 1;
    }
    assert_eq!(patched, 2);
    let bad = f.path("bomb-view-lying.zip");
    std::fs::write(&bad, b).unwrap();
    let (rss, code, out) = peak_rss(&[bad.as_os_str()]);
    assert_eq!(code, 3, "{out}");
    assert!(fails_naming(&out, "view.html", &[]), "{out}");
    assert!(
        rss < RSS_BOUND,
        "peak RSS {rss} bytes on a lying 1 GiB view.html"
    );
}

// ---------------------------------------------------------------------------
// Random changes to a real bundle
// ---------------------------------------------------------------------------

#[test]
fn random_byte_changes_never_panic_and_never_pass_inside_records_proofs_or_checkpoint() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let f = fixture();
    let good = std::fs::read(&f.bundle).unwrap();
    // Where the protected members' bytes lie in the zip.
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(&good)).unwrap();
    let mut protected = vec![];
    for i in 0..z.len() {
        let e = z.by_index_raw(i).unwrap();
        if ["records.warc.gz", "proofs.json", "checkpoint"].contains(&e.name().unwrap().as_ref()) {
            let start = e.data_start().unwrap() as usize;
            protected.push(start..start + e.compressed_size() as usize);
        }
    }
    assert_eq!(protected.len(), 3);
    let len = good.len();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    let case = f.path("mutated.zip");
    let strategy = (any::<bool>(), 0..len, 0..3usize, 1u8..=255);
    runner
        .run(&strategy, |(inside, pos, range, xor)| {
            let mut b = good.clone();
            let at = if inside {
                let r = &protected[range % protected.len()];
                r.start + pos % r.len()
            } else {
                pos
            };
            b[at] ^= xor;
            std::fs::write(&case, &b).unwrap();
            let (code, out, err) = f.verify(&case);
            prop_assert!(
                (0..100).contains(&code),
                "byte {at} ^ {xor:#x}: exit {code}\n{out}\n{err}"
            );
            let in_protected = protected.iter().any(|r| r.contains(&at));
            prop_assert!(
                !(in_protected && code == 0),
                "byte {at} ^ {xor:#x} inside a record, proof or checkpoint passed:\n{out}"
            );
            Ok(())
        })
        .unwrap();
}

/// The derivation is the archive's own: a post really found deleted (two gone checks, then
/// seen again and gone again) exports a bundle that verifies, with the state, event and
/// `first_seen_gone` the index derived.
#[test]
fn a_real_deletion_verifies_with_the_state_the_archive_derived() {
    let srv = server();
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n");
    srv.route(
        "/gone",
        Resp::html("<!doctype html><html><head><title>Soon gone</title></head><body><article><p>Words.</p></article></body></html>"),
    );
    let url = srv.url("/gone");
    let at = |t: &str, args: &[&str]| {
        let (code, out, err) = run_code(samizdat(&ar).env("SAMIZDAT_NOW", t).args(args));
        assert_eq!(code, 0, "{args:?}:\n{out}\n{err}");
        out
    };
    at("2099-01-01T00:00:00Z", &["watch", "add", &url]);
    srv.route(
        "/gone",
        Resp::new(404)
            .header("Content-Type", "text/plain")
            .body("gone"),
    );
    for t in ["2099-02-01T00:00:00Z", "2099-03-01T00:00:00Z"] {
        at(t, &["watch", "run", "--once"]);
    }
    let list = at("2099-03-02T00:00:00Z", &["--json", "list"]);
    let id = json_lines(&list)[0]["id"].as_str().unwrap().to_string();
    let shown: Value =
        serde_json::from_str(at("2099-03-02T00:00:00Z", &["--json", "show", &id]).trim()).unwrap();
    assert_eq!(shown["state"], "deleted", "{shown}");
    let bundle = dir.path().join("gone.zip");
    at(
        "2099-03-02T00:00:00Z",
        &["export", &id, "--bundle", bundle.to_str().unwrap()],
    );
    let (code, out, err) = run_code(
        samizdat(&dir.path().join("none"))
            .arg("verify-bundle")
            .arg(&bundle),
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let post = post_of(&entries(&bundle));
    for k in [
        "state",
        "cause",
        "message",
        "first_seen_gone",
        "last_seen_live",
        "checks",
    ] {
        assert_eq!(post[k], shown[k], "{k}");
    }
    assert!(
        post["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["event"] == "confirmed"),
        "{post}"
    );
    // Claiming it was still live is refused.
    let mut es = entries(&bundle);
    let mut p = post.clone();
    p["state"] = json!("live");
    p["first_seen_gone"] = Value::Null;
    let view = render_for(&es, &p);
    set(&mut es, "post.json", serde_json::to_vec_pretty(&p).unwrap());
    set(&mut es, "view.html", view);
    let bad = dir.path().join("not-gone.zip");
    write_zip(&bad, &es);
    let (code, out, _) = run_code(
        samizdat(&dir.path().join("none"))
            .arg("verify-bundle")
            .arg(&bad),
    );
    assert_eq!(code, 3, "{out}");
    assert!(
        fails_naming(&out, "post.json", &["\"state\"", "deleted"]),
        "{out}"
    );
    assert!(
        fails_naming(&out, "post.json", &["\"first_seen_gone\""]),
        "{out}"
    );
}

#[test]
fn a_bundle_from_before_the_report_still_verifies() {
    // Exported by samizdat at 418288b (tests/fixtures/bundles/SOURCES.md): its records hold a
    // render and a provenance record, but it has no report files, and its README names none.
    let zip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bundles/before-report-rendered.zip");
    let dir = tempdir();
    let vkey = dir.path().join("log.vkey");
    let members = read_zip(&zip);
    let key = &members.iter().find(|m| m.0 == "log.vkey").unwrap().1;
    std::fs::write(&vkey, key).unwrap();
    let (code, out, err) = run_code(
        samizdat(&dir.path().join("no-archive"))
            .arg("verify-bundle")
            .arg(&zip)
            .arg("--vkey")
            .arg(&vkey),
    );
    assert_eq!(
        code, 0,
        "an older bundle verifies as it was written:\n{out}\n{err}"
    );
    assert!(out.contains("README.txt: unchanged"), "{out}");
    // And it is still checked: one changed byte of its post.json fails.
    let bad = dir.path().join("bad.zip");
    rewrite_zip(&zip, &bad, "post.json", |b| {
        let s = String::from_utf8_lossy(b).replace("frozen", "fr0zen");
        *b = s.into_bytes();
    });
    let (code, out, _) = run_code(
        samizdat(&dir.path().join("no-archive"))
            .arg("verify-bundle")
            .arg(&bad)
            .arg("--vkey")
            .arg(&vkey),
    );
    assert_eq!(code, 3, "{out}");
    assert!(fails_naming(&out, "post.json", &[]), "{out}");
}
