//! The evidence layer through the real CLI: RFC 3161 timestamps from a local TSA
//! (`openssl ts -reply` behind a tiny loopback HTTP server), evidence bundles and
//! `verify-bundle` (with each kind of tampering), and WACZ export checked by
//! `wacz validate` and pywb.

use crate::common;
use crate::common::tsa_more;

use common::tsa::*;
use common::*;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use tsa_more::*;

// ---------------------------------------------------------------------------
// A throwaway TSA
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn capture_page(ar: &Path, url: &str) -> String {
    let out = run_ok(samizdat(ar).arg("--json").arg("capture").arg(url));
    json_lines(&String::from_utf8_lossy(&out.stdout))[0]["post_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn openssl_ts_verify(data: &Path, tsr: &Path, ca: &Path) -> bool {
    Command::new("openssl")
        .args(["ts", "-verify", "-data"])
        .arg(data)
        .arg("-in")
        .arg(tsr)
        .arg("-CAfile")
        .arg(ca)
        .output()
        .unwrap()
        .status
        .success()
}

fn verify_bundle(ar: &Path, zip: &Path, args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let mut c = samizdat(&ar.join("nonexistent"));
    c.arg("verify-bundle").arg(zip).args(args);
    run_code(&mut c)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn timestamps_from_every_tsa_are_stored_checked_and_accepted_by_openssl() {
    let srv = server();
    let tsa = start_tsa();
    let dead = format!("http://127.0.0.1:{}/tsa", free_port());
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\", \"{dead}\", \"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.url,
        tsa.ca().display()
    ));
    capture_page(&ar, &srv.url("/page"));
    let (code, out, err) = run_code(samizdat(&ar).arg("--json").arg("timestamp"));
    assert_eq!(code, 1, "one TSA is down, so exit 1:\n{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let toks = v["tokens"].as_array().unwrap();
    assert_eq!(toks.len(), 3);
    assert_eq!(
        (
            toks[0]["ok"].as_bool(),
            toks[1]["ok"].as_bool(),
            toks[2]["ok"].as_bool()
        ),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(toks[0]["token"]["chain_checked"], true);
    let size = v["checkpoint_size"].as_u64().unwrap();
    let cps = ar.join("log/checkpoints");
    let cp = cps.join(format!("{size:020}"));
    let t1 = cps.join(format!("{size:020}.tsr"));
    let t2 = cps.join(format!("{size:020}.2.tsr"));
    assert!(t1.exists() && t2.exists() && !cps.join(format!("{size:020}.3.tsr")).exists());
    for t in [&t1, &t2] {
        assert!(
            openssl_ts_verify(&cp, t, &tsa.ca()),
            "openssl ts -verify rejects {}",
            t.display()
        );
    }
    let bad = tsa.dir.path().join("tampered-checkpoint");
    let mut b = std::fs::read(&cp).unwrap();
    b[0] ^= 1;
    std::fs::write(&bad, b).unwrap();
    assert!(
        !openssl_ts_verify(&bad, &t1, &tsa.ca()),
        "openssl accepted a token for a tampered checkpoint"
    );

    // verify re-checks the stored tokens, and names a damaged one.
    let (code, _, err) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "{err}");
    let mut tok = std::fs::read(&t2).unwrap();
    let n = tok.len();
    tok[n - 10] ^= 0x55;
    std::fs::write(&t2, tok).unwrap();
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "verify missed a damaged token:\n{err}");
    assert!(err.contains(&format!("{size:020}.2.tsr")), "{err}");
}

#[test]
fn a_tsa_whose_ca_is_not_trusted_is_refused() {
    let tsa = start_tsa();
    let other = start_tsa();
    let srv = server();
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        other.ca().display()
    ));
    capture_page(&ar, &srv.url("/page"));
    let (code, _, err) = run_code(samizdat(&ar).arg("timestamp"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("chain"), "{err}");
    assert!(
        std::fs::read_dir(ar.join("log/checkpoints"))
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tsr"))
    );
}

#[test]
fn a_bundle_checks_offline_and_every_kind_of_tampering_is_named() {
    let srv = server();
    let tsa = start_tsa();
    let (d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\", \"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.url,
        tsa.ca().display()
    ));
    let id = capture_page(&ar, &srv.url("/page"));
    run_ok(samizdat(&ar).arg("timestamp"));
    // A later, untimestamped checkpoint: the bundle must still pick the timestamped one.
    capture_page(&ar, &srv.url("/img/a.png"));
    let bundle = d.path().join("bundle.zip");
    run_ok(
        samizdat(&ar)
            .arg("export")
            .arg(&id)
            .arg("--bundle")
            .arg(&bundle),
    );

    let entries = read_zip(&bundle);
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    for want in [
        "README.txt",
        "view.html",
        "post.json",
        "records.warc.gz",
        "proofs.json",
        "checkpoint",
        "checkpoint.tsr",
        "checkpoint.2.tsr",
        "tsa-chain.pem",
        "log.vkey",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("media/") && n.ends_with(".png")),
        "{names:?}"
    );
    let view = String::from_utf8(
        entries
            .iter()
            .find(|e| e.0 == "view.html")
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    assert!(
        !view.to_ascii_lowercase().contains("<script"),
        "view.html must not run script"
    );
    assert!(
        view.contains(PAGE_HEADLINE) || view.contains(PAGE_TITLE),
        "view.html does not show the post"
    );
    assert!(
        !view.contains("http://") || view.contains(&srv.base_url()),
        "view.html loads nothing from elsewhere"
    );

    // Unpacked: warcio and openssl agree, as README.txt says.
    let un = d.path().join("unpacked");
    std::fs::create_dir_all(&un).unwrap();
    for (n, b, _) in &entries {
        let p = un.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    }
    assert_warcio_ok(&[un.join("records.warc.gz")]);
    assert!(openssl_ts_verify(
        &un.join("checkpoint"),
        &un.join("checkpoint.tsr"),
        &tsa.ca()
    ));
    assert!(openssl_ts_verify(
        &un.join("checkpoint"),
        &un.join("checkpoint.2.tsr"),
        &tsa.ca()
    ));
    let cp_text = std::fs::read_to_string(un.join("checkpoint")).unwrap();
    let proofs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(un.join("proofs.json")).unwrap()).unwrap();
    assert_eq!(
        proofs["checkpoint_size"].as_u64().unwrap().to_string(),
        cp_text.lines().nth(1).unwrap()
    );

    // Offline, no archive: with the published key and CA everything is proven.
    let vkey = ar.join("keys/log.vkey");
    let ca = tsa.ca();
    let full: Vec<&std::ffi::OsStr> = vec![
        "--vkey".as_ref(),
        vkey.as_os_str(),
        "--tsa-ca".as_ref(),
        ca.as_os_str(),
    ];
    let (code, out, err) = verify_bundle(&ar, &bundle, &full);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("What this proves") && out.contains("What this does not prove"),
        "{out}"
    );
    assert!(!out.contains("IDENTITY NOT CHECKED"), "{out}");
    // Without them: internal consistency only, said plainly, with the fingerprint.
    let (code, out, _) = verify_bundle(&ar, &bundle, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("IDENTITY NOT CHECKED") && out.contains("TSA IDENTITY NOT CHECKED"),
        "{out}"
    );
    let fp = samizdat::log::note::NoteVerifier::from_vkey(
        std::fs::read_to_string(&vkey).unwrap().trim(),
    )
    .unwrap()
    .fingerprint();
    assert!(out.contains(&fp), "{out}");

    // Each kind of tampering fails (exit 3) and names the file.
    let other_key = samizdat::log::note::NoteSigner::generate("example.org/other-log")
        .unwrap()
        .verifier()
        .to_vkey();
    let other_ca = start_tsa();
    // (case, file in the bundle, how it is tampered with, whether the file is named)
    type Case<'a> = (&'a str, &'a str, Box<dyn Fn(&mut Vec<u8>)>, bool);
    let cases: Vec<Case> = vec![
        (
            "record byte",
            "records.warc.gz",
            Box::new(|b: &mut Vec<u8>| {
                let i = b.len() / 2;
                b[i] ^= 0x01;
            }),
            false,
        ),
        (
            "proof hash",
            "proofs.json",
            Box::new(|b: &mut Vec<u8>| {
                let mut v: serde_json::Value = serde_json::from_slice(b).unwrap();
                let leaves = v["leaves"].as_array_mut().unwrap();
                let l = leaves
                    .iter_mut()
                    .find(|l| !l["proof"].as_array().unwrap().is_empty())
                    .unwrap();
                l["proof"][0] =
                    serde_json::json!(samizdat::log::merkle::Hash([7u8; 32]).to_base64());
                *b = serde_json::to_vec_pretty(&v).unwrap();
            }),
            false,
        ),
        (
            "checkpoint",
            "checkpoint",
            Box::new(|b: &mut Vec<u8>| {
                let s = String::from_utf8(b.clone()).unwrap();
                let mut lines: Vec<String> = s.split('\n').map(str::to_string).collect();
                lines[1] = (lines[1].parse::<u64>().unwrap() + 1).to_string();
                *b = lines.join("\n").into_bytes();
            }),
            false,
        ),
        (
            "token",
            "checkpoint.tsr",
            Box::new(|b: &mut Vec<u8>| {
                let n = b.len();
                b[n - 8] ^= 0x20;
            }),
            false,
        ),
        (
            "vkey swapped",
            "log.vkey",
            Box::new(move |b: &mut Vec<u8>| *b = format!("{other_key}\n").into_bytes()),
            false,
        ),
        (
            "post text",
            "post.json",
            Box::new(|b: &mut Vec<u8>| {
                let mut v: serde_json::Value = serde_json::from_slice(b).unwrap();
                v["text"] = serde_json::json!("something the author never wrote");
                *b = serde_json::to_vec_pretty(&v).unwrap();
            }),
            false,
        ),
        (
            "view",
            "view.html",
            Box::new(|b: &mut Vec<u8>| b.extend_from_slice(b"<p>added</p>")),
            false,
        ),
        (
            "extra file",
            "notes.txt",
            Box::new(|b: &mut Vec<u8>| b.extend_from_slice(b"hello")),
            false,
        ),
        (
            "other TSA chain",
            "tsa-chain.pem",
            Box::new({
                let pem = std::fs::read(other_ca.ca()).unwrap();
                move |b: &mut Vec<u8>| *b = pem.clone()
            }),
            true,
        ),
    ];
    for (what, file, f, without_flags) in &cases {
        let bad = d.path().join(format!("bad-{}.zip", what.replace(' ', "-")));
        rewrite_zip(&bundle, &bad, file, f);
        let args: &[&std::ffi::OsStr] = if *without_flags { &[] } else { &full };
        let (code, out, err) = verify_bundle(&ar, &bad, args);
        assert_eq!(code, 3, "{what}: not detected:\n{out}\n{err}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("FAIL") && l.contains(file)),
            "{what}: {file} not named:\n{out}"
        );
        // The vkey swap is caught even without --vkey: the checkpoint's signature fails.
        if *what == "vkey swapped" {
            let (code, out, _) = verify_bundle(&ar, &bad, &[]);
            assert_eq!(code, 3, "vkey swap without --vkey:\n{out}");
            assert!(
                out.lines()
                    .any(|l| l.starts_with("FAIL") && l.contains("checkpoint")),
                "{out}"
            );
        }
    }
}

#[test]
fn wacz_export_validates_and_replays() {
    let srv = server();
    let (d, ar) = quick_archive("");
    let id = capture_page(&ar, &srv.url("/page"));
    capture_page(&ar, &srv.url("/img/b.jpg"));
    for (name, args) in [
        ("post.wacz", vec![id.clone()]),
        ("all.wacz", vec!["--all".to_string()]),
        (
            "query.wacz",
            vec!["--query".to_string(), "/page".to_string()],
        ),
    ] {
        let out = d.path().join(name);
        run_ok(
            samizdat(&ar)
                .arg("export")
                .args(&args)
                .arg("--wacz")
                .arg(&out),
        );
        assert_wacz_ok(&out);
        let entries = read_zip(&out);
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        for want in [
            "datapackage.json",
            "datapackage-digest.json",
            "pages/pages.jsonl",
            "indexes/index.cdx.gz",
            "indexes/index.idx",
        ] {
            assert!(names.contains(&want), "{name}: {want} missing: {names:?}");
        }
        let cdx = entries
            .iter()
            .find(|e| e.0 == "indexes/index.cdx.gz")
            .unwrap();
        assert_eq!(
            cdx.2,
            zip::CompressionMethod::Stored,
            "{name}: index.cdx.gz"
        );
        let warcs: Vec<_> = entries
            .iter()
            .filter(|e| e.0.starts_with("archive/"))
            .collect();
        assert!(!warcs.is_empty());
        for w in &warcs {
            assert_eq!(
                w.2,
                zip::CompressionMethod::Stored,
                "{} must be STORED",
                w.0
            );
        }
        let pages = String::from_utf8(
            entries
                .iter()
                .find(|e| e.0 == "pages/pages.jsonl")
                .unwrap()
                .1
                .clone(),
        )
        .unwrap();
        assert!(
            pages.contains(&srv.url("/page")),
            "{name}: pages.jsonl lacks the page:\n{pages}"
        );
        if name == "all.wacz" {
            // --all copies each WARC file byte for byte, as it was at the export: the
            // export's custody record was appended to the archive after it.
            for w in &warcs {
                let orig = std::fs::read(ar.join("warc").join(w.0.trim_start_matches("archive/")))
                    .unwrap();
                assert!(
                    orig.starts_with(&w.1) && !w.1.is_empty(),
                    "{} differs from the archive's file",
                    w.0
                );
            }
        }
        if name == "post.wacz" {
            let x = d.path().join("x");
            std::fs::create_dir_all(&x).unwrap();
            let p = x.join("data.warc.gz");
            std::fs::write(&p, &warcs[0].1).unwrap();
            assert_warcio_ok(std::slice::from_ref(&p));
            let (st, _, body) = pywb_replay(&[p], &srv.url("/page"));
            assert_eq!(st, 200);
            assert_eq!(body, page_html(&srv.base_url()).into_bytes());
            // A WACZ carries no log proofs: a consistent package, never evidence (exit 1).
            let (code, vout, _) = verify_bundle(&ar, &out, &[]);
            assert_eq!(code, 1, "{vout}");
            assert!(vout.contains("NOT EVIDENCE"), "{vout}");
            // A changed byte in the WARC is caught by wacz validate and named by verify-bundle.
            let bad = d.path().join("bad.wacz");
            rewrite_zip(&out, &bad, &warcs[0].0, |b| {
                let i = b.len() / 2;
                b[i] ^= 1;
            });
            assert!(
                wacz_validate(&bad).is_err(),
                "wacz validate accepted a tampered WARC"
            );
            let (code, out, _) = verify_bundle(&ar, &bad, &[]);
            assert_eq!(code, 3, "{out}");
            assert!(
                out.lines()
                    .any(|l| l.starts_with("FAIL") && l.contains("archive/data.warc.gz")),
                "{out}"
            );
        }
    }
}

#[test]
fn capture_with_timestamp_dates_the_new_checkpoint() {
    let srv = server();
    let tsa = start_tsa();
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.ca().display()
    ));
    run_ok(
        samizdat(&ar)
            .arg("capture")
            .arg("--timestamp")
            .arg(srv.url("/page")),
    );
    let cp = std::fs::read_to_string(ar.join("log/checkpoint")).unwrap();
    let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    let tsr = ar.join(format!("log/checkpoints/{size:020}.tsr"));
    assert!(tsr.exists(), "no token beside the new checkpoint");
    assert!(openssl_ts_verify(
        &ar.join(format!("log/checkpoints/{size:020}")),
        &tsr,
        &tsa.ca()
    ));
}

/// `watch run` timestamps at once after a post is found gone, and otherwise not more often
/// than `[timestamp] interval`.
#[test]
fn watch_run_timestamps_at_once_when_a_post_is_found_gone() {
    let srv = server();
    let tsa = start_tsa();
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\ninterval = \"1000d\"\n",
        tsa.url,
        tsa.ca().display()
    ));
    let tokens = |ar: &Path| {
        std::fs::read_dir(ar.join("log/checkpoints"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tsr")
            })
            .count()
    };
    srv.route("/story", Resp::html("<!doctype html><html><head><title>Story</title></head><body><p>words</p></body></html>"));
    let at = |t: &str, args: &[&str]| run_code(samizdat(&ar).env("SAMIZDAT_NOW", t).args(args));
    let url = srv.url("/story");
    assert_eq!(at("2099-01-01T00:00:00Z", &["watch", "add", &url]).0, 0);
    assert_eq!(at("2099-01-01T00:00:00Z", &["timestamp"]).0, 0);
    assert_eq!(tokens(&ar), 1);
    // Still live: a check is written, but the interval has not passed: no new token.
    let (code, _, err) = at("2099-01-01T00:10:00Z", &["watch", "run", "--once"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(tokens(&ar), 1, "{err}");
    // Gone: timestamped at once.
    srv.route(
        "/story",
        Resp::new(404)
            .header("Content-Type", "text/plain")
            .body("gone"),
    );
    let (code, _, err) = at("2099-01-01T02:00:00Z", &["watch", "run", "--once"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(tokens(&ar), 2, "{err}");
    let cp = std::fs::read_to_string(ar.join("log/checkpoint")).unwrap();
    let size: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    let tsr = ar.join(format!("log/checkpoints/{size:020}.tsr"));
    assert!(openssl_ts_verify(
        &ar.join(format!("log/checkpoints/{size:020}")),
        &tsr,
        &tsa.ca()
    ));
    assert_eq!(run_code(samizdat(&ar).arg("verify")).0, 0);
}

/// A TSA that signs with RSASSA-PSS, with an id-RSASSA-PSS key (SHA-256) and with an
/// rsaEncryption key (SHA-384): both tokens are checked natively, chain included, stored,
/// accepted by `openssl ts -verify`, and re-checked by `verify`, which names a token
/// whose PSS signature was altered.
#[test]
fn rsa_pss_tokens_are_checked_natively_and_accepted_by_openssl() {
    let srv = server();
    let pss = start_pss_tsa(PssKey::RsaPss, "sha256");
    let rsa = start_pss_tsa(PssKey::Rsa, "sha384");
    // One tsa_ca for both: the second TSA's root is added to the first's file.
    let ca = pss.dir.path().join("both-roots.pem");
    let roots = [
        std::fs::read_to_string(pss.ca()).unwrap(),
        std::fs::read_to_string(rsa.ca()).unwrap(),
    ]
    .concat();
    std::fs::write(&ca, roots).unwrap();
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\", \"{}\"]\ntsa_ca = \"{}\"\n",
        pss.url,
        rsa.url,
        ca.display()
    ));
    capture_page(&ar, &srv.url("/page"));
    let (code, out, err) = run_code(samizdat(&ar).arg("--json").arg("timestamp"));
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let toks = v["tokens"].as_array().unwrap();
    assert_eq!(toks.len(), 2, "{out}");
    for t in toks {
        assert_eq!(t["ok"], true, "{out}");
        assert_eq!(t["token"]["chain_checked"], true, "{out}");
        assert_eq!(
            t["token"]["signer"], "CN=Evidence Test PSS TSA, O=Throwaway",
            "{out}"
        );
    }
    let size = v["checkpoint_size"].as_u64().unwrap();
    let cps = ar.join("log/checkpoints");
    let cp = cps.join(format!("{size:020}"));
    let t1 = cps.join(format!("{size:020}.tsr"));
    let t2 = cps.join(format!("{size:020}.2.tsr"));
    assert!(
        openssl_ts_verify(&cp, &t1, &pss.ca()),
        "openssl ts -verify rejects {}",
        t1.display()
    );
    // OpenSSL 3.0's `ts -verify` runs on its PKCS#7 code, which verifies an rsaEncryption
    // key's signature as PKCS#1 v1.5 whatever algorithm the SignerInfo names; its CMS
    // code reads the PSS parameters, and is the reference for that token.
    let token = rsa.dir.path().join("stored-token");
    let out = Command::new("openssl")
        .args(["ts", "-reply", "-token_out", "-in"])
        .arg(&t2)
        .arg("-out")
        .arg(&token)
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-purpose",
            "timestampsign",
            "-in",
        ])
        .arg(&token)
        .arg("-CAfile")
        .arg(rsa.ca())
        .args(["-out", "/dev/null"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl cms -verify rejects {}: {}",
        t2.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // The signer infos really are PSS: the signature algorithm is id-RSASSA-PSS.
    let pss_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
    ];
    for t in [&t1, &t2] {
        let b = std::fs::read(t).unwrap();
        assert!(b.windows(pss_oid.len()).any(|w| w == pss_oid));
    }
    assert_eq!(run_code(samizdat(&ar).arg("verify")).0, 0);

    // A PSS signature with one bit changed (its last byte, the end of the token).
    let mut tok = std::fs::read(&t1).unwrap();
    let n = tok.len();
    tok[n - 1] ^= 1;
    std::fs::write(&t1, tok).unwrap();
    let (code, err, _) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 3, "verify missed an altered PSS signature:\n{err}");
    assert!(err.contains(&format!("{size:020}.tsr")), "{err}");
    assert!(err.contains("signature does not verify"), "{err}");
}

/// The same made with PKCS#1 v1.5 (an RSA key, SHA-512): checked natively, chain
/// included, and accepted by `openssl ts -verify`.
#[test]
fn rsa_pkcs1_tokens_are_checked_natively_and_accepted_by_openssl() {
    let srv = server();
    let tsa = start_pss_tsa(PssKey::RsaPkcs1, "sha512");
    let (_d, ar) = quick_archive(&format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.ca().display()
    ));
    capture_page(&ar, &srv.url("/page"));
    let (code, out, err) = run_code(samizdat(&ar).arg("--json").arg("timestamp"));
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["tokens"][0]["token"]["chain_checked"], true, "{out}");
    let size = v["checkpoint_size"].as_u64().unwrap();
    let cps = ar.join("log/checkpoints");
    let t = cps.join(format!("{size:020}.tsr"));
    let b = std::fs::read(&t).unwrap();
    let pss_oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
    ];
    assert!(!b.windows(pss_oid.len()).any(|w| w == pss_oid));
    assert!(openssl_ts_verify(
        &cps.join(format!("{size:020}")),
        &t,
        &tsa.ca()
    ));
    assert_eq!(run_code(samizdat(&ar).arg("verify")).0, 0);
}

/// Strict DER: a reply that differs from a good one only in writing a length in a longer
/// form than needed (which BER allows and DER forbids) is refused, wherever that length
/// is: the unsigned status, or the signature's OCTET STRING.
#[test]
fn a_token_with_a_non_minimal_length_is_refused() {
    use sha2::{Digest, Sha256};
    let dir = tempdir();
    let d = dir.path();
    make_pki(d);
    std::fs::write(d.join("data"), b"the bytes a checkpoint would hold").unwrap();
    sh(
        d,
        &[
            "ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    sh(
        d,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-section",
            "tsa_config1",
            "-queryfile",
            "q.tsq",
            "-out",
            "r.tsr",
        ],
    );
    let resp = std::fs::read(d.join("r.tsr")).unwrap();
    let digest: [u8; 32] = Sha256::digest(std::fs::read(d.join("data")).unwrap()).into();
    let ca =
        samizdat::evidence::tsp::pem_certs(&std::fs::read_to_string(d.join("ca.crt")).unwrap());
    let check = |r: &[u8]| samizdat::evidence::tsp::check_response(r, &digest, None, &ca, &[]);
    let good = check(&resp).unwrap();
    assert!(good.chain_checked);
    // The certificates come out as the token carries them: openssl writes the signer's
    // first (a SET OF that is not in DER order, which `der` would sort).
    let pem =
        |f: &str| samizdat::evidence::tsp::pem_certs(&std::fs::read_to_string(d.join(f)).unwrap());
    assert_eq!(
        samizdat::evidence::tsp::token_certs(&resp),
        [pem("tsa.crt"), pem("ca.crt")].concat()
    );

    let tree = parse_tlvs(&resp);
    // The re-encoder itself changes nothing when asked to pad nothing.
    assert_eq!(encode_tlvs(&tree, &mut |_| false), resp);

    // (1) The PKIStatusInfo, the first SEQUENCE inside the reply: unsigned.
    let mut seen = 0;
    let status_padded = encode_tlvs(&tree, &mut |n| {
        seen += 1;
        seen == 2 && n.tag() == 0x30
    });
    assert_eq!(status_padded.len(), resp.len() + 1);
    let e = check(&status_padded).unwrap_err();
    assert!(e.contains("DER"), "{e}");

    // (2) The signature OCTET STRING, the last OCTET STRING of the reply: its bytes are
    // unchanged, so a lenient reader would verify the signature.
    let mut octets = 0;
    encode_tlvs(&tree, &mut |n| {
        octets += usize::from(n.tag() == 0x04);
        false
    });
    let mut k = 0;
    let sig_padded = encode_tlvs(&tree, &mut |n| {
        k += usize::from(n.tag() == 0x04);
        n.tag() == 0x04 && k == octets
    });
    assert!(sig_padded.len() > resp.len());
    assert!(check(&sig_padded).is_err());
}

/// `[http] proxy` carries the RFC 3161 queries too (with the configured user agent): the
/// TSA is asked through the proxy, and with the proxy gone it is not asked at all.
#[test]
fn a_tsa_is_asked_through_the_configured_proxy() {
    let srv = server();
    let tsa = start_tsa();
    let proxy = start_proxy();
    let ts = format!(
        "[timestamp]\ntsa = [\"{}\"]\ntsa_ca = \"{}\"\n",
        tsa.url,
        tsa.ca().display()
    );
    let (_d, ar) = quick_archive(&ts);
    capture_page(&ar, &srv.url("/page"));
    let with_proxy = |proxy: &str| {
        write_config(
            &ar,
            &format!(
                "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\
                 user_agent = \"samizdat-proxy-test/1\"\nproxy = \"{proxy}\"\n{ts}"
            ),
        )
    };
    with_proxy(&proxy.url);
    let (code, out, err) = run_code(samizdat(&ar).arg("--json").arg("timestamp"));
    assert_eq!(code, 0, "{out}\n{err}");
    let seen = proxy.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let head = seen[0].to_ascii_lowercase();
    assert!(
        head.starts_with(&format!("post {} http/1.1\r\n", tsa.url)),
        "{head}"
    );
    assert!(
        head.contains("content-type: application/timestamp-query"),
        "{head}"
    );
    assert!(head.contains("user-agent: samizdat-proxy-test/1"), "{head}");

    // The proxy is down: the TSA (still up) must not be asked directly.
    with_proxy(&format!("http://127.0.0.1:{}", free_port()));
    let (code, out, err) = run_code(samizdat(&ar).arg("--json").arg("timestamp"));
    assert_eq!(
        code, 1,
        "the TSA was reached without the proxy:\n{out}\n{err}"
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["tokens"][0]["ok"], false, "{out}");
}

/// Identical checks are one record each (the check record carries its exchange) resting on
/// the capture's response: a bundle holds that response, `verify-bundle` proves the checks
/// from it, and a check record whose answer is not that response's payload is refused and
/// named, even though it is in the log.
#[test]
fn a_bundle_proves_identical_checks_from_the_response_they_repeat() {
    use samizdat::store::bodies::Exchange;
    use samizdat::store::index::{CheckRecord, Index};
    let srv = server();
    let (d, ar) = quick_archive("");
    srv.route(
        "/story",
        Resp::html("<!doctype html><html><head><title>Story</title></head><body><p>words</p></body></html>"),
    );
    let url = srv.url("/story");
    let at = |t: &str, args: &[&str]| run_code(samizdat(&ar).env("SAMIZDAT_NOW", t).args(args));
    assert_eq!(at("2099-01-01T00:00:00Z", &["watch", "add", &url]).0, 0);
    for t in ["2099-01-01T00:10:00Z", "2099-01-01T00:20:00Z"] {
        let (code, _, err) = at(t, &["watch", "run", "--once"]);
        assert_eq!(code, 0, "{err}");
    }
    let out = run_ok(samizdat(&ar).args(["--json", "show", &url]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let response = Index::open(&ar.join("index.sqlite"), false)
        .unwrap()
        .capture_responses(&id)
        .unwrap()
        .pop()
        .expect("the capture's response");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{v}");
    for c in checks {
        assert_eq!(c["outcome"], "live");
        assert_eq!(c["record_ids"], serde_json::json!([response.id]), "{c}");
    }
    let export = |name: &str| {
        let bundle = d.path().join(name);
        run_ok(
            samizdat(&ar)
                .arg("export")
                .arg(&id)
                .arg("--bundle")
                .arg(&bundle),
        );
        bundle
    };
    let bundle = export("bundle.zip");
    let (code, out, err) = verify_bundle(&ar, &bundle, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let records = read_zip(&bundle)
        .into_iter()
        .find(|e| e.0 == "records.warc.gz")
        .unwrap()
        .1;
    let mut text = vec![];
    flate2::read::MultiGzDecoder::new(&records[..])
        .read_to_end(&mut text)
        .unwrap();
    let text = String::from_utf8_lossy(&text);
    assert!(!text.contains("WARC-Type: revisit"), "no revisit records");
    assert_eq!(
        text.matches("WARC-Type: request").count(),
        1,
        "only the capture's request: the checks carry theirs"
    );

    // A check record, properly logged, that says its answer repeated the response while
    // naming another payload: the bundle does not prove it.
    let lie = CheckRecord {
        samizdat: "check/1".into(),
        post_id: id.clone(),
        at: "2099-01-01T00:30:00.000000Z".into(),
        outcome: samizdat::model::Outcome::Live,
        cause: None,
        message: None,
        http_status: Some(200),
        record_ids: vec![response.id.clone()],
        post_record: None,
        via: None,
        host: Some("127.0.0.1".into()),
        payload_digest: Some(format!("sha256:{}", "0".repeat(64))),
        response_id: Some(response.id.clone()),
        response_uri: response.target.clone(),
        response_date: Some(response.date.clone()),
        next_check: None,
        url: None,
        requested_url: None,
        exchange: Some(Exchange {
            uri: response.target.clone().unwrap(),
            date: "2099-01-01T00:30:00.000000Z".into(),
            request: "GET /story HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".into(),
            response: "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n".into(),
            fields: vec![("WARC-IP-Address".into(), "127.0.0.1".into())],
        }),
    };
    let mut a =
        samizdat::store::archive::Archive::open(&ar, samizdat::config::Config::default()).unwrap();
    a.append(vec![lie.to_record()]).unwrap();
    drop(a);
    let bundle = export("lie.zip");
    let (code, out, err) = verify_bundle(&ar, &bundle, &[]);
    assert_eq!(code, 3, "{out}\n{err}");
    let all = format!("{out}{err}");
    assert!(
        all.contains(&format!("rests on record {}", response.id))
            && all.contains("not the \"sha256:0000"),
        "{all}"
    );
}
