//! Witnessing (issue 18): samizdat's checkpoints cosigned by an independent witness,
//! built by the test setup (scripts/setup-go.sh) from sigsum-go's add-checkpoint handler,
//! request parser, consistency-proof check and cosignature/v1 signer, with x/mod's
//! signed-note verifier (tests/go/witness). Loopback only.

use crate::common;

use common::*;
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "archive.test/samizdat";
const WITNESS: &str = "witness.test/sigsum-go";
const SEED: &str = "8f1c6e0b2a4d3f597e61c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9";

/// The Go witness: its vkey and URL; killed on drop.
struct GoWitness {
    child: std::process::Child,
    vkey: String,
    url: String,
}

impl Drop for GoWitness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn go_witness(log_vkey: &str, state: &Path) -> GoWitness {
    let bin = repo_root().join(".cache/go/witness");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup-validators.sh (it calls scripts/setup-go.sh)",
        bin.display()
    );
    let mut child = std::process::Command::new(bin)
        .args([
            "-listen",
            "127.0.0.1:0",
            "-log-vkey",
            log_vkey,
            "-name",
            WITNESS,
            "-seed",
            SEED,
        ])
        .arg("-state")
        .arg(state)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let vkey = lines.next().unwrap().unwrap();
    let listening = lines.next().unwrap().unwrap();
    GoWitness {
        child,
        vkey: vkey.strip_prefix("vkey ").unwrap().to_string(),
        url: listening.strip_prefix("listening on ").unwrap().to_string(),
    }
}

fn page(srv: &TestServer, slug: &str) -> String {
    srv.route(
        &format!("/{slug}"),
        Resp::html(format!(
            "<!DOCTYPE html><html><head><title>{slug}</title></head><body><article><h1>{slug}</h1>\
             <p>The words of {slug}, long enough to be the main text of the page.</p></article></body></html>"
        )),
    );
    srv.url(&format!("/{slug}"))
}

/// An archive named ORIGIN with one capture; its vkey.
fn archive_with(srv: &TestServer, dir: &Path, name: &str) -> (PathBuf, String) {
    let ar = dir.join(name);
    let out = run_ok(samizdat(&ar).args(["init", "--origin", ORIGIN]));
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    run_ok(samizdat(&ar).args(["capture", &page(srv, &format!("{name}-1"))]));
    (ar, vkey)
}

fn configure(ar: &Path, w: &GoWitness) {
    write_config(
        ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n\
             [[log.witnesses]]\nvkey = {:?}\nurl = {:?}\n",
            w.vkey, w.url
        ),
    );
}

fn witness_now(ar: &Path) -> (i32, Vec<Value>) {
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "log", "witness", "--now"]));
    assert!(!out.is_empty(), "{err}");
    (code, json_lines(&out))
}

fn checkpoint_size(ar: &Path) -> u64 {
    let out = run_ok(samizdat(ar).args(["--json", "log", "checkpoint"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["size"].as_u64().unwrap()
}

/// The independent witness cosigns the first checkpoint and then, from the size it
/// cosigned, the next one over samizdat's consistency proof; the cosignature is verified,
/// stored with its checkpoint and printed by `log checkpoint` and `/log/checkpoint`.
#[test]
fn an_independent_witness_cosigns_each_new_checkpoint() {
    let srv = server();
    let dir = tempdir();
    let (ar, vkey) = archive_with(&srv, dir.path(), "a");
    let w = go_witness(&vkey, &dir.path().join("witness-state"));
    configure(&ar, &w);

    let (code, l) = witness_now(&ar);
    assert_eq!(code, 0, "{l:?}");
    let size1 = checkpoint_size(&ar);
    assert_eq!(l[0]["status"], "cosigned", "{l:?}");
    assert_eq!(l[0]["size"], size1);
    assert_eq!(l[0]["witness"], WITNESS);
    assert_eq!(l[1]["cosigned"], 1, "{l:?}");

    let out = run_ok(samizdat(&ar).args(["log", "checkpoint"]));
    let note = String::from_utf8(out.stdout).unwrap();
    assert!(note.contains(&format!("\n\u{2014} {ORIGIN} ")), "{note}");
    assert!(note.contains(&format!("\n\u{2014} {WITNESS} ")), "{note}");

    // A second capture: a larger tree, proven consistent from the witness's size.
    run_ok(samizdat(&ar).args(["capture", &page(&srv, "a-2")]));
    let size2 = checkpoint_size(&ar);
    assert!(size2 > size1);
    let (code, l) = witness_now(&ar);
    assert_eq!(code, 0, "{l:?}");
    assert_eq!(l[0]["status"], "cosigned", "{l:?}");
    assert_eq!(l[0]["size"], size2);
    // Asked again: nothing to send.
    let (_, l) = witness_now(&ar);
    assert_eq!(l[0]["status"], "already", "{l:?}");

    // `verify` checks every stored cosignature; a changed one is named.
    let (code, out, err) = run_code(samizdat(&ar).arg("verify"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("2 witness cosignatures checked, all verify"),
        "{out}{err}"
    );
    let cosig = ar.join(format!("log/checkpoints/{size2:020}.cosignatures"));
    let good = std::fs::read_to_string(&cosig).unwrap();
    let (head, sig) = good.trim_end().rsplit_once(' ').unwrap();
    let mut blob = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sig).unwrap();
    blob[20] ^= 1;
    std::fs::write(
        &cosig,
        format!(
            "{head} {}\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &blob)
        ),
    )
    .unwrap();
    let (code, out, err) = run_code(samizdat(&ar).arg("verify"));
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains(&format!("the cosignature of {WITNESS}")),
        "{out}{err}"
    );
    std::fs::write(&cosig, good).unwrap();

    // The web archive serves the cosigned note.
    let web = common::serve::Serve::start(&ar);
    let (status, body) = web.get("/log/checkpoint");
    assert_eq!(status, 200);
    let served = String::from_utf8(body).unwrap();
    assert!(served.contains(&format!("\u{2014} {WITNESS} ")), "{served}");
    web.stop();
}

/// A witness whose state moved on (samizdat forgot what it cosigned) answers 409 with its
/// size; samizdat submits again from that size and is cosigned.
#[test]
fn a_409_is_answered_from_the_witnesses_size() {
    let srv = server();
    let dir = tempdir();
    let (ar, vkey) = archive_with(&srv, dir.path(), "a");
    let w = go_witness(&vkey, &dir.path().join("witness-state"));
    configure(&ar, &w);
    assert_eq!(witness_now(&ar).0, 0);
    run_ok(samizdat(&ar).args(["capture", &page(&srv, "a-2")]));
    std::fs::remove_file(ar.join("log/witnesses")).unwrap();
    let (code, l) = witness_now(&ar);
    assert_eq!(code, 0, "{l:?}");
    assert_eq!(l[0]["status"], "cosigned", "{l:?}");
    assert_eq!(l[0]["size"], checkpoint_size(&ar));
}

/// A fork (another history under the same origin and key) is refused by the witness
/// with 422 and named; a log it does not know is a 404; a checkpoint signed by another
/// key under this origin is a 403. Nothing is stored for any of them.
#[test]
fn forks_unknown_logs_and_foreign_keys_are_refused() {
    let srv = server();
    let dir = tempdir();
    let (a, vkey) = archive_with(&srv, dir.path(), "a");
    let w = go_witness(&vkey, &dir.path().join("witness-state"));
    configure(&a, &w);
    run_ok(samizdat(&a).args(["capture", &page(&srv, "a-2")]));
    assert_eq!(witness_now(&a).0, 0);

    // The same key and origin, another history, larger.
    let b = dir.path().join("b");
    std::fs::create_dir_all(b.join("keys")).unwrap();
    for k in ["log.key", "log.vkey"] {
        std::fs::copy(a.join("keys").join(k), b.join("keys").join(k)).unwrap();
    }
    for n in 1..=4 {
        run_ok(samizdat(&b).args(["capture", &page(&srv, &format!("b-{n}"))]));
    }
    configure(&b, &w);
    let (code, l) = witness_now(&b);
    assert_eq!(code, 1, "{l:?}");
    assert_eq!(l[0]["status"], "failed");
    assert!(l[0]["error"].as_str().unwrap().starts_with("422:"), "{l:?}");

    // Another origin: unknown to the witness.
    let c = dir.path().join("c");
    run_ok(samizdat(&c).args(["init", "--origin", "other.test/log"]));
    run_ok(samizdat(&c).args(["capture", &page(&srv, "c-1")]));
    configure(&c, &w);
    let (code, l) = witness_now(&c);
    assert_eq!(code, 1);
    assert!(l[0]["error"].as_str().unwrap().starts_with("404:"), "{l:?}");

    // This origin, another key.
    let d = dir.path().join("d");
    run_ok(samizdat(&d).args(["init", "--origin", ORIGIN]));
    run_ok(samizdat(&d).args(["capture", &page(&srv, "d-1")]));
    configure(&d, &w);
    let (code, l) = witness_now(&d);
    assert_eq!(code, 1);
    assert!(l[0]["error"].as_str().unwrap().starts_with("403:"), "{l:?}");
    for ar in [&b, &c, &d] {
        let note =
            String::from_utf8(run_ok(samizdat(ar).args(["log", "checkpoint"])).stdout).unwrap();
        assert!(!note.contains(WITNESS), "{note}");
    }
}

/// `watch run --once` sends the new checkpoint to the witnesses after its batch.
#[test]
fn watch_run_sends_new_checkpoints_to_the_witnesses() {
    let srv = server();
    let dir = tempdir();
    let (ar, vkey) = archive_with(&srv, dir.path(), "a");
    let w = go_witness(&vkey, &dir.path().join("witness-state"));
    configure(&ar, &w);
    run_ok(samizdat(&ar).args(["watch", "add", &page(&srv, "a-2")]));
    run_ok(samizdat(&ar).args(["watch", "run", "--once"]));
    let out = run_ok(samizdat(&ar).args(["--json", "log", "witness"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cosigned"], 1, "{v}");
    assert_eq!(v["witnesses"][0]["size"], checkpoint_size(&ar), "{v}");
}
