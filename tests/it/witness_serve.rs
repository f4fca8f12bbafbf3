//! samizdat as a witness (issue 18): `witness init` and `witness serve`, driven by
//! samizdat's own witness client from other archives, and its state kept across kill -9.
//! Loopback only.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "archive.test/samizdat";
const WITNESS: &str = "witness.test/samizdat";

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

/// A witness folder that witnesses the log of `log_vkey`; its vkey.
fn witness_dir(dir: &Path, log_vkey: &str) -> (PathBuf, String) {
    let w = dir.join("witness");
    let out = run_ok(samizdat(&w).args(["witness", "init", "--name", WITNESS]));
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    write_config(&w, &format!("[[witness.logs]]\nvkey = {log_vkey:?}\n"));
    (w, vkey)
}

fn start(w: &Path) -> common::serve::Serve {
    common::serve::Serve::start_args(w, &["witness", "serve", "--listen", "127.0.0.1:0"])
}

fn configure(ar: &Path, vkey: &str, url: &str) {
    write_config(
        ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n\
             [[log.witnesses]]\nvkey = {vkey:?}\nurl = {url:?}\n"
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

/// An archive named ORIGIN with one capture; its vkey.
fn archive_with(srv: &TestServer, dir: &Path, name: &str) -> (PathBuf, String) {
    let ar = dir.join(name);
    let out = run_ok(samizdat(&ar).args(["init", "--origin", ORIGIN]));
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    run_ok(samizdat(&ar).args(["capture", &page(srv, &format!("{name}-1"))]));
    (ar, vkey)
}

/// `witness init` makes a key once (0600) and prints the same vkey again; another name
/// for the same folder is refused; `witness serve` without `[[witness.logs]]` says what
/// is missing.
#[test]
fn witness_init_keeps_one_key_and_serve_needs_logs() {
    let dir = tempdir();
    let w = dir.path().join("w");
    let first = run_ok(samizdat(&w).args(["witness", "init", "--name", WITNESS]));
    let vkey = String::from_utf8(first.stdout).unwrap();
    assert!(vkey.starts_with(&format!("{WITNESS}+")), "{vkey}");
    let again = run_ok(samizdat(&w).args(["witness", "init", "--name", WITNESS]));
    assert_eq!(String::from_utf8(again.stdout).unwrap(), vkey);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(w.join("keys/witness.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let (code, _, err) = run_code(samizdat(&w).args(["witness", "init", "--name", "other.test/w"]));
    assert_ne!(code, 0);
    assert!(err.contains(WITNESS), "{err}");
    let (code, _, err) =
        run_code(samizdat(&w).args(["witness", "serve", "--listen", "127.0.0.1:0"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[[witness.logs]]"), "{err}");
    let (code, _, err) = run_code(samizdat(&w).args(["witness", "init", "--name", "bad name"]));
    assert_ne!(code, 0);
    assert!(err.contains("bad name"), "{err}");
}

/// samizdat's client and samizdat's witness: the first checkpoint and then a larger one
/// over a consistency proof are cosigned; the cosignature verifies in `verify`; after a
/// kill -9 the restarted witness still knows the size it cosigned, so a copy of the
/// archive that went another way (a fork under the same key) is refused with 422, and
/// its 409 recovery from the witness's size is exercised on the way.
#[test]
fn a_samizdat_witness_cosigns_and_remembers_across_kill_9() {
    let srv = server();
    let dir = tempdir();
    let (a, log_vkey) = archive_with(&srv, dir.path(), "a");
    let (w, wvkey) = witness_dir(dir.path(), &log_vkey);
    let ws = start(&w);
    configure(&a, &wvkey, &ws.base);

    let (code, l) = witness_now(&a);
    assert_eq!(code, 0, "{l:?}");
    assert_eq!(l[0]["status"], "cosigned", "{l:?}");
    assert_eq!(l[0]["witness"], WITNESS);
    let size1 = checkpoint_size(&a);

    // A copy of the archive as it is now: same key, same history so far.
    let b = dir.path().join("b");
    copy_tree(&a, &b);

    run_ok(samizdat(&a).args(["capture", &page(&srv, "a-2")]));
    let size2 = checkpoint_size(&a);
    assert!(size2 > size1);
    let (code, l) = witness_now(&a);
    assert_eq!(code, 0, "{l:?}");
    assert_eq!(
        (l[0]["status"].as_str(), l[0]["size"].as_u64()),
        (Some("cosigned"), Some(size2)),
        "{l:?}"
    );
    let (code, out, err) = run_code(samizdat(&a).arg("verify"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("witness cosignatures checked, all verify"),
        "{out}{err}"
    );

    // A crash: the state must have been on disk before the cosignature left.
    ws.kill9();
    let ws = start(&w);
    // The copy goes another way, larger than what the witness cosigned.
    for n in 1..=3 {
        run_ok(samizdat(&b).args(["capture", &page(&srv, &format!("b-{n}"))]));
    }
    configure(&b, &wvkey, &ws.base);
    let (code, l) = witness_now(&b);
    assert_eq!(code, 1, "{l:?}");
    assert_eq!(l[0]["status"], "failed", "{l:?}");
    assert!(l[0]["error"].as_str().unwrap().starts_with("422:"), "{l:?}");
    let note = String::from_utf8(run_ok(samizdat(&b).args(["log", "checkpoint"])).stdout).unwrap();
    assert!(!note.contains(&format!("\u{2014} {WITNESS} ")), "{note}");

    // The true log goes on and is cosigned by the restarted witness.
    run_ok(samizdat(&a).args(["capture", &page(&srv, "a-3")]));
    configure(&a, &wvkey, &ws.base);
    let (code, l) = witness_now(&a);
    assert_eq!(code, 0, "{l:?}");
    assert_eq!(l[0]["size"], checkpoint_size(&a), "{l:?}");

    // The web archive's log page names the witness, its size and time, and the quorum.
    let web = common::serve::Serve::start(&a);
    let (status, body) = web.get("/log");
    assert_eq!(status, 200);
    let page = String::from_utf8(body).unwrap();
    let size = checkpoint_size(&a);
    assert!(
        page.contains(&format!("<tr class=\"witness\"><td><code>{WITNESS}</code></td><td>127.0.0.1</td><td>{size}</td><td>20")),
        "{page}"
    );
    assert!(
        page.contains("1 of 1 witnesses cosigned the latest checkpoint; the quorum is 1: it holds"),
        "{page}"
    );
    web.stop();
}

/// Requests the spec calls malformed are 400s; an unknown path is a 404; a body past
/// the bound is refused without being read whole.
#[test]
fn bad_requests_get_the_spec_s_answers() {
    let dir = tempdir();
    let (w, _) = witness_dir(dir.path(), &{
        let ar = dir.path().join("log");
        let out = run_ok(samizdat(&ar).args(["init", "--origin", ORIGIN]));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    });
    let ws = start(&w);
    let post = |path: &str, body: Vec<u8>| {
        let (status, _, body) = http_post(&ws.url(path), "text/plain", &body).unwrap();
        (status, String::from_utf8_lossy(&body).to_string())
    };
    let (s, b) = post("/add-checkpoint", b"new 5\n\nx\n".to_vec());
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("old"), "{b}");
    let (s, _) = post("/add-checkpoint", b"old 0\nnot base64!\n\nx\n".to_vec());
    assert_eq!(s, 400);
    let (s, _) = post(
        "/add-checkpoint",
        b"old 0\n\nunknown.test/log\n1\nAAAA\n\n".to_vec(),
    );
    assert_eq!(s, 404);
    let (s, _) = post("/nothing-here", b"old 0\n\n".to_vec());
    assert_eq!(s, 404);
    let (s, _) = post("/add-checkpoint", vec![b'a'; 70_000]);
    assert_eq!(s, 413);
    drop(ws);
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// An independent client (sigsum-go's request writer, HTTP client, Merkle proofs and
/// cosignature verifier, with x/mod's note signer; tests/go/client) plays a log and
/// drives `witness serve`: cosigned first and extended checkpoints, a stale `old` (409
/// with the witness's size), forks at the same and a larger size and a bad proof (422),
/// a checkpoint signed by another key (403), an unknown log (404), and after all the
/// refusals the true log goes on from where it was.
#[test]
fn an_independent_client_drives_the_witness() {
    let bin = repo_root().join(".cache/go/client");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup-validators.sh (it calls scripts/setup-go.sh)",
        bin.display()
    );
    let keys = run_ok(std::process::Command::new(&bin).args(["keygen", "-name", "go.test/log"]));
    let keys = String::from_utf8(keys.stdout).unwrap();
    let field = |p: &str| {
        keys.lines()
            .find_map(|l| l.strip_prefix(p))
            .unwrap()
            .to_string()
    };
    let (skey, log_vkey) = (field("skey "), field("vkey "));
    let dir = tempdir();
    let (w, wvkey) = witness_dir(dir.path(), &log_vkey);
    let ws = start(&w);
    let (code, out, err) = run_code(std::process::Command::new(&bin).args([
        "run",
        "-skey",
        &skey,
        "-url",
        &ws.base,
        "-witness-vkey",
        &wvkey,
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let steps: Vec<&str> = out.lines().collect();
    assert_eq!(
        steps,
        [
            "ok first 5",
            "ok same 5",
            "ok stale 409 5",
            "ok extend 8",
            "ok fork-same-size 422",
            "ok fork-larger 422",
            "ok bad-proof 422",
            "ok foreign-key 403",
            "ok unknown-log 404",
            "ok after-refusals 12",
        ],
        "{err}"
    );
}
