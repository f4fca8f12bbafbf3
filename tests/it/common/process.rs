//! Running the built `samizdat` binary against a temporary archive folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory (removed on drop).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// `samizdat --archive <archive>`, with proxies disabled so loopback stays loopback.
pub fn samizdat(archive: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_samizdat"));
    c.arg("--archive").arg(archive);
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        // The settings a service file may set (docs/cli.md "Environment"): a test names
        // its own.
        "SAMIZDAT_CONFIG",
        "SAMIZDAT_LISTEN",
        "SAMIZDAT_LOG",
    ] {
        c.env_remove(v);
    }
    c.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    c.env("RUST_BACKTRACE", "1");
    c.stdin(Stdio::null());
    c
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd`, asserts exit 0 (printing stdout/stderr otherwise), returns its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    if !out.status.success() {
        panic!(
            "command failed ({}): {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            describe(cmd),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Runs `cmd`; returns (exit code, or -1 if killed by a signal; stdout; stderr).
pub fn run_code(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Parses JSON-lines output (`--json`), skipping blank lines; panics on a bad line.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Runs `cmd` (which prints one `--json` line per finished item on stdout), waits until
/// `after` lines are out (those items' records are written) and SIGKILLs it. Returns the
/// lines seen before the kill and how the process ended: the caller asserts that the
/// kill landed mid-way (killed by the signal, fewer lines than items).
pub fn kill_after_lines(
    cmd: &mut std::process::Command,
    after: usize,
) -> (usize, std::process::ExitStatus) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if !l.trim().is_empty() && tx.send(()).is_err() {
                break;
            }
        }
    });
    let mut seen = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while seen < after {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) => seen += 1,
            Err(e) => panic!("only {seen} of {after} items done before the kill: {e}"),
        }
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    (seen, status)
}

/// `samizdat --json capture URL` for one URL: the exit code, its one JSON line (asserted
/// to be the only one) and stderr. What the platform CLI tests capture with.
pub fn capture_one(archive: &Path, url: &str) -> (i32, serde_json::Value, String) {
    let (code, out, err) = run_code(samizdat(archive).arg("--json").arg("capture").arg(url));
    let mut lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "one JSON line per URL: {out}\n{err}");
    (code, lines.remove(0), err)
}

/// `samizdat --json show KEY` (a post id or URL), read as JSON; the command must pass.
pub fn show_post(archive: &Path, key: &str) -> serde_json::Value {
    let out = run_ok(samizdat(archive).arg("--json").arg("show").arg(key));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `samizdat verify` passes and warcio reads every WARC file of the archive.
pub fn verify_archive(archive: &Path) {
    let (code, _, err) = run_code(samizdat(archive).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
    super::assert_warcio_ok(&super::warc_files(archive));
}

/// A post captured live stays live at watch checks: `watch add URL` (at 2099-01-01
/// 10:00 UTC), two `watch check URL` two and four hours later, then `show KEY` is live
/// and every check it lists found the post live.
pub fn assert_live_at_watch_checks(archive: &Path, url: &str, key: &str) {
    run_ok(
        samizdat(archive)
            .env("SAMIZDAT_NOW", "2099-01-01T10:00:00Z")
            .args(["watch", "add", url]),
    );
    for t in ["2099-01-01T12:00:00Z", "2099-01-01T14:00:00Z"] {
        run_ok(
            samizdat(archive)
                .env("SAMIZDAT_NOW", t)
                .args(["watch", "check", url]),
        );
    }
    let v = show_post(archive, key);
    assert_eq!(v["state"], "live", "{v}");
    let checks = v["checks"].as_array().unwrap();
    assert!(!checks.is_empty(), "{v}");
    assert!(checks.iter().all(|c| c["outcome"] == "live"), "{checks:?}");
}

/// A `capture --json` result saying the post is gone: exit code 1, status `gone`, its
/// outcome, its cause (when `cause` is not empty) and the platform's `words` in the
/// error. `what` names the case in the messages.
pub fn assert_gone_line(
    (code, line, err): &(i32, serde_json::Value, String),
    outcome: &str,
    cause: &str,
    words: &str,
    what: &str,
) {
    assert_eq!(*code, 1, "{what}: {line}\n{err}");
    assert_eq!(line["status"], "gone", "{what}: {line}");
    assert_eq!(line["outcome"], outcome, "{what}: {line}");
    if !cause.is_empty() {
        assert_eq!(line["cause"], cause, "{what}: {line}");
    }
    let e = line["error"].as_str().unwrap_or_default();
    assert!(e.contains(words), "{what}: {words:?} not in {line}");
}

/// A `capture --json` result that concludes nothing about the post: exit code 1, status
/// `failed`, no outcome.
pub fn assert_inconclusive_line((code, line, err): &(i32, serde_json::Value, String), what: &str) {
    assert_eq!(*code, 1, "{what}: {line}\n{err}");
    assert_eq!(line["status"], "failed", "{what}: never gone: {line}");
    assert!(line["outcome"].is_null(), "{what}: {line}");
}
