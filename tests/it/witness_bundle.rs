//! Witnessed evidence bundles (issue 18): a bundle carries the archive's tlog-policy, the
//! witnesses' cosignatures of its checkpoint and one C2SP tlog-proof per record;
//! `verify-bundle` reports each witness and the quorum (of `--policy` when given), every
//! tamper of a tlog-proof is caught, and an untampered bundle's tlog-proofs check with
//! Go's tlog and note packages and sigsum-go's cosignature verifier (tests/go/tlogproof).

use crate::common;

use common::*;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "archive.test/samizdat";
const WITNESS: &str = "witness.test/samizdat";

/// An archive whose first capture a samizdat witness cosigned, a second capture after
/// it (a newer checkpoint nobody cosigned), and the post of the first exported as a
/// bundle. Returns the archive, the bundle and the witness folder.
struct Witnessed {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    ar: PathBuf,
    bundle: PathBuf,
    _srv: TestServer,
}

fn witnessed() -> Witnessed {
    let srv = server();
    let d = tempdir();
    let dir = d.path().to_path_buf();
    let ar = dir.join("a");
    let out = run_ok(samizdat(&ar).args(["init", "--origin", ORIGIN]));
    let log_vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let w = dir.join("w");
    let out = run_ok(samizdat(&w).args(["witness", "init", "--name", WITNESS]));
    let wvkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    write_config(&w, &format!("[[witness.logs]]\nvkey = {log_vkey:?}\n"));
    let ws = common::serve::Serve::start_args(&w, &["witness", "serve", "--listen", "127.0.0.1:0"]);
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n\
             [[log.witnesses]]\nvkey = {wvkey:?}\nurl = {:?}\n",
            ws.base
        ),
    );
    let out = run_ok(samizdat(&ar).args(["--json", "capture", &srv.url("/page")]));
    let id = json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string();
    run_ok(samizdat(&ar).args(["log", "witness", "--now"]));
    drop(ws);
    run_ok(samizdat(&ar).args(["capture", &srv.url("/img/a.png")]));
    let bundle = dir.join("bundle.zip");
    run_ok(
        samizdat(&ar)
            .arg("export")
            .arg(&id)
            .arg("--bundle")
            .arg(&bundle),
    );
    Witnessed {
        _dir: d,
        dir,
        ar,
        bundle,
        _srv: srv,
    }
}

fn verify(zip: &Path, args: &[&str]) -> (i32, String) {
    let (code, out, err) = run_code(
        samizdat(&zip.with_extension("no-archive"))
            .arg("verify-bundle")
            .arg(zip)
            .args(args),
    );
    (code, format!("{out}{err}"))
}

fn member(zip: &Path, name: &str) -> Vec<u8> {
    read_zip(zip)
        .into_iter()
        .find(|e| e.0 == name)
        .unwrap_or_else(|| panic!("{name} is not in the bundle"))
        .1
}

/// The bundle holds the policy, the cosignatures of the (older, cosigned) checkpoint it
/// chose, and one tlog-proof per record; it verifies with its own policy and with the
/// archive's `keys/policy` given as `--policy`, each witness named with its time.
#[test]
fn a_witnessed_bundle_carries_its_policy_cosignatures_and_tlog_proofs() {
    let w = witnessed();
    let names: Vec<String> = read_zip(&w.bundle).into_iter().map(|e| e.0).collect();
    for want in ["policy", "checkpoint.cosignatures"] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    let proofs: serde_json::Value =
        serde_json::from_slice(&member(&w.bundle, "proofs.json")).unwrap();
    let records = proofs["leaves"].as_array().unwrap().len();
    let tlog: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with(".tlog-proof"))
        .collect();
    assert_eq!(tlog.len(), records, "{names:?}");
    assert!(tlog.iter().all(|n| n.starts_with("proofs/")));
    // The checkpoint chosen is the cosigned one, not the newest.
    let cosig = String::from_utf8(member(&w.bundle, "checkpoint.cosignatures")).unwrap();
    assert!(
        cosig.starts_with(&format!("\u{2014} {WITNESS} ")),
        "{cosig}"
    );
    let newest =
        String::from_utf8(run_ok(samizdat(&w.ar).args(["--json", "log", "checkpoint"])).stdout)
            .unwrap();
    let newest: serde_json::Value = serde_json::from_str(&newest).unwrap();
    assert!(proofs["checkpoint_size"].as_u64().unwrap() < newest["size"].as_u64().unwrap());
    // The archive's keys/policy is the bundle's.
    let policy = std::fs::read(w.ar.join("keys/policy")).unwrap();
    assert_eq!(member(&w.bundle, "policy"), policy);
    let policy_text = String::from_utf8(policy).unwrap();
    assert!(
        policy_text.contains(&format!("\nwitness {WITNESS} {WITNESS}+")),
        "{policy_text}"
    );
    assert!(
        policy_text.ends_with(&format!("quorum {WITNESS}\n")),
        "{policy_text}"
    );
    let readme = String::from_utf8(member(&w.bundle, "README.txt")).unwrap();
    assert!(readme.contains("--policy POLICY"), "{readme}");
    assert!(readme.contains("tlog-proof"), "{readme}");

    let (code, out) = verify(&w.bundle, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("witness {WITNESS} cosigned the checkpoint at 20")),
        "{out}"
    );
    assert!(
        out.contains("the quorum holds under the bundle's policy"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{records} tlog-proofs, each checked on its own")),
        "{out}"
    );
    let kp = w.ar.join("keys/policy");
    let (code, out) = verify(&w.bundle, &["--policy", kp.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("the quorum holds under your --policy"),
        "{out}"
    );
    assert!(
        out.contains("independent witnesses of your --policy saw this same checkpoint"),
        "{out}"
    );
    // The policy's log key is the reader's: the checkpoint's signer is checked by it.
    assert!(
        out.contains("the checkpoint was signed by the log key you supplied"),
        "{out}"
    );
}

/// A reader's policy that asks for a witness who did not cosign fails the bundle and
/// says what a missing quorum means; one that names another log key fails it too; the
/// bundle's own policy asking for more is reported, not failed.
#[test]
fn a_quorum_the_reader_asks_for_and_the_bundle_lacks_fails() {
    let w = witnessed();
    let other = w.dir.join("other-witness");
    let out = run_ok(samizdat(&other).args(["witness", "init", "--name", "other.test/w"]));
    let other_vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let own = std::fs::read_to_string(w.ar.join("keys/policy")).unwrap();
    let log_line = own.lines().find(|l| l.starts_with("log ")).unwrap();
    let w_line = own.lines().find(|l| l.starts_with("witness ")).unwrap();
    let both = w.dir.join("both.policy");
    std::fs::write(
        &both,
        format!("{log_line}\n{w_line}\nwitness other {other_vkey}\ngroup g all {WITNESS} other\nquorum g\n"),
    )
    .unwrap();
    let (code, out) = verify(&w.bundle, &["--policy", both.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the quorum does not hold under your --policy"),
        "{out}"
    );
    assert!(out.contains("1 of its 2 witnesses cosigned"), "{out}");
    assert!(
        out.contains("witness other has not cosigned this checkpoint"),
        "{out}"
    );

    // Any one of the two: the quorum holds.
    let any = w.dir.join("any.policy");
    std::fs::write(
        &any,
        format!("{log_line}\n{w_line}\nwitness other {other_vkey}\ngroup g any {WITNESS} other\nquorum g\n"),
    )
    .unwrap();
    let (code, out) = verify(&w.bundle, &["--policy", any.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");

    // Another log's key.
    let stranger = w.dir.join("stranger");
    let out = run_ok(samizdat(&stranger).args(["init", "--origin", ORIGIN]));
    let stranger_vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let wrong = w.dir.join("wrong.policy");
    std::fs::write(
        &wrong,
        format!("log {stranger_vkey}\n{w_line}\nquorum {WITNESS}\n"),
    )
    .unwrap();
    let (code, out) = verify(&w.bundle, &["--policy", wrong.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("is not the key you gave with --vkey or as the one log of --policy"),
        "{out}"
    );
    // With --vkey naming the true key, the policy's other log is named as such.
    let vkey = w.dir.join("log.vkey");
    std::fs::copy(w.ar.join("keys/log.vkey"), &vkey).unwrap();
    let (code, out) = verify(
        &w.bundle,
        &[
            "--policy",
            wrong.to_str().unwrap(),
            "--vkey",
            vkey.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("a log key your --policy does not name"),
        "{out}"
    );

    // An unreadable policy is a usage error naming the file.
    let bad = w.dir.join("bad.policy");
    std::fs::write(&bad, "quorum nobody\n").unwrap();
    let (code, out) = verify(&w.bundle, &["--policy", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("bad.policy") && out.contains("line 1"),
        "{out}"
    );

    // The bundle's own policy asking for both: reported plainly, not a failure.
    let edited = w.dir.join("edited.zip");
    rewrite_zip(&w.bundle, &edited, "policy", |b| {
        *b = std::fs::read(&both).unwrap();
    });
    let (code, out) = verify(&edited, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("the quorum does NOT hold under the bundle's policy"),
        "{out}"
    );
    assert!(
        out.contains("that anyone else saw this checkpoint"),
        "{out}"
    );
}

/// Every field of a tlog-proof, changed, is caught and named: the index, a hash of the
/// path, the checkpoint's root, its cosignature, the `extra` record id, a missing proof,
/// an extra one, and a cosignature changed in `checkpoint.cosignatures`.
#[test]
fn every_tamper_of_a_tlog_proof_is_caught() {
    let w = witnessed();
    let entries = read_zip(&w.bundle);
    // A proof with a non-empty path.
    let (name, text) = entries
        .iter()
        .filter(|e| e.0.ends_with(".tlog-proof"))
        .map(|e| (e.0.clone(), String::from_utf8(e.1.clone()).unwrap()))
        .find(|(_, t)| t.split("\n\n").next().unwrap().lines().count() > 3)
        .expect("a tlog-proof with an inclusion path");
    let index: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("index "))
        .unwrap()
        .parse()
        .unwrap();
    let path_line = text
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .nth(3)
        .unwrap()
        .to_string();
    let cp_part = text.split_once("\n\n").unwrap().1.to_string();
    let root_line = cp_part.lines().nth(2).unwrap().to_string();
    let cosig_line = cp_part
        .lines()
        .find(|l| l.contains(WITNESS))
        .unwrap()
        .to_string();
    let flip = |s: &str| {
        let mut b = s.as_bytes().to_vec();
        let i = b.len() - 6;
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "index",
            text.replace(
                &format!("index {index}\n"),
                &format!("index {}\n", index + 1),
            ),
            "is not record",
        ),
        (
            "path",
            text.replace(&path_line, &flip(&path_line)),
            "inclusion proof",
        ),
        (
            "root",
            text.replace(&root_line, &flip(&root_line)),
            "does not verify with the log key",
        ),
        (
            "cosignature",
            text.replace(&cosig_line, &flip(&cosig_line)),
            "the cosignature of witness",
        ),
        ("extra", text.replacen("extra ", "extra QQ", 1), "extra"),
        (
            "dropped cosignature",
            text.replace(&format!("{cosig_line}\n"), ""),
            "a cosignature added, dropped or changed",
        ),
    ];
    for (what, changed, want) in cases {
        assert_ne!(changed, text, "{what}: the change changed nothing");
        let z = w.dir.join(format!("t-{}.zip", what.replace(' ', "-")));
        rewrite_zip(&w.bundle, &z, &name, |b| *b = changed.clone().into_bytes());
        let (code, out) = verify(&z, &[]);
        assert_ne!(code, 0, "{what}: {out}");
        assert!(
            out.contains(&name),
            "{what}: the report does not name {name}: {out}"
        );
        assert!(out.contains(want), "{what}: want {want:?}: {out}");
    }

    // A proof missing, and one for no record.
    let z = w.dir.join("t-missing.zip");
    {
        let mut zw = zip::ZipWriter::new(std::fs::File::create(&z).unwrap());
        for (n, b, m) in &entries {
            let n = if *n == name {
                "proofs/nobody.tlog-proof"
            } else {
                n.as_str()
            };
            zw.start_file(
                n,
                zip::write::SimpleFileOptions::default().compression_method(*m),
            )
            .unwrap();
            std::io::Write::write_all(&mut zw, b).unwrap();
        }
        zw.finish().unwrap();
    }
    let (code, out) = verify(&z, &[]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("{name}: is missing")) || out.contains("is missing: record"),
        "{out}"
    );
    assert!(out.contains("proofs/nobody.tlog-proof"), "{out}");

    // checkpoint.cosignatures changed: the witness's cosignature is named as not verifying.
    let z = w.dir.join("t-cosignatures.zip");
    rewrite_zip(&w.bundle, &z, "checkpoint.cosignatures", |b| {
        *b = format!(
            "{}\n",
            flip(String::from_utf8(b.clone()).unwrap().trim_end())
        )
        .into_bytes();
    });
    let (code, out) = verify(&z, &[]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("the cosignature of witness {WITNESS}")),
        "{out}"
    );
}

/// The untampered bundle's tlog-proofs check with Go: x/mod's tlog (leaf hash of each
/// WARC record, inclusion proof) and note (the log's signature), sigsum-go's
/// cosignature/v1 verifier, the quorum of the archive's policy.
#[test]
fn untampered_tlog_proofs_check_with_go_s_tlog_package() {
    let bin = repo_root().join(".cache/go/tlogproof");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup-validators.sh (it calls scripts/setup-go.sh)",
        bin.display()
    );
    let w = witnessed();
    let dir = w.dir.join("unzipped");
    for (n, b, _) in read_zip(&w.bundle) {
        let p = dir.join(&n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    }
    let (code, out, err) = run_code(
        std::process::Command::new(&bin)
            .arg("-dir")
            .arg(&dir)
            .arg("-policy")
            .arg(w.ar.join("keys/policy")),
    );
    assert_eq!(code, 0, "{out}{err}");
    let proofs: serde_json::Value =
        serde_json::from_slice(&member(&w.bundle, "proofs.json")).unwrap();
    let n = proofs["leaves"].as_array().unwrap().len();
    let oks: Vec<&str> = out.lines().filter(|l| l.starts_with("ok ")).collect();
    assert_eq!(oks.len(), n, "{out}");
    assert!(
        oks.iter().all(|l| l.ends_with(&format!(" {WITNESS}"))),
        "{out}"
    );
    assert!(out.ends_with("quorum holds\n"), "{out}");

    // The same checker refuses a proof whose path was changed: it checks, it does not
    // just print.
    let first = std::fs::read_dir(dir.join("proofs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let t = std::fs::read_to_string(&first).unwrap();
    let idx_line = t
        .lines()
        .find(|l| l.starts_with("index "))
        .unwrap()
        .to_string();
    let i: u64 = idx_line[6..].parse().unwrap();
    std::fs::write(&first, t.replace(&idx_line, &format!("index {}", i + 1))).unwrap();
    let (code, out, _) = run_code(
        std::process::Command::new(&bin)
            .arg("-dir")
            .arg(&dir)
            .arg("-policy")
            .arg(w.ar.join("keys/policy")),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL") && out.contains("inclusion"), "{out}");
}
