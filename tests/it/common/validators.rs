//! Independent validators from the Python venv made by `scripts/setup-validators.sh`:
//! [`warcio_check`], [`cdxj_index`], [`pywb_replay`], [`wacz_validate`]. A missing venv is
//! a panic, never a skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::client::{HttpResult, free_port, http_get};
use super::process::{repo_root, tempdir};

/// `$SAMIZDAT_VENV`, else `<repo>/.venv`. Panics (never skips) when the tools are missing.
pub fn venv_dir() -> PathBuf {
    let dir = std::env::var_os("SAMIZDAT_VENV")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    if !dir.join("bin/warcio").exists() || !dir.join("bin/wayback").exists() {
        panic!(
            "validator venv not found at {} (no bin/warcio or bin/wayback): run scripts/setup-validators.sh",
            dir.display()
        );
    }
    dir
}

/// Path of a tool inside the venv.
pub fn venv_tool(name: &str) -> PathBuf {
    venv_dir().join("bin").join(name)
}

fn run_tool(name: &str, args: &[&std::ffi::OsStr], cwd: Option<&Path>) -> (bool, String, String) {
    let mut c = Command::new(venv_tool(name));
    c.args(args).stdin(Stdio::null());
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os_args(files: &[PathBuf]) -> Vec<&std::ffi::OsStr> {
    files.iter().map(|p| p.as_os_str()).collect()
}

/// `warcio check -v FILES`: Ok(output) when every digest passes, Err(output) otherwise.
pub fn warcio_check(files: &[PathBuf]) -> Result<String, String> {
    assert!(!files.is_empty(), "warcio_check: no files");
    let mut args: Vec<&std::ffi::OsStr> = vec!["check".as_ref(), "-v".as_ref()];
    args.extend(os_args(files));
    let (ok, out, err) = run_tool("warcio", &args, None);
    let all = format!("{out}{err}");
    if ok { Ok(all) } else { Err(all) }
}

/// Panics (with warcio's output) unless `warcio check -v` passes on all `files`.
pub fn assert_warcio_ok(files: &[PathBuf]) -> String {
    match warcio_check(files) {
        Ok(out) => out,
        Err(out) => panic!("warcio check failed on {files:?}:\n{out}"),
    }
}

/// `cdxj-indexer FILES` output (CDXJ lines); panics on failure.
pub fn cdxj_index(files: &[PathBuf]) -> String {
    let (ok, out, err) = run_tool("cdxj-indexer", &os_args(files), None);
    assert!(ok, "cdxj-indexer failed on {files:?}:\n{out}{err}");
    out
}

/// `wacz validate -f PATH`: Ok(output) or Err(output).
pub fn wacz_validate(path: &Path) -> Result<String, String> {
    let (ok, out, err) = run_tool(
        "wacz",
        &["validate".as_ref(), "-f".as_ref(), path.as_os_str()],
        None,
    );
    let all = format!("{out}{err}");
    if ok { Ok(all) } else { Err(all) }
}

/// Panics unless `wacz validate` passes.
pub fn assert_wacz_ok(path: &Path) -> String {
    wacz_validate(path)
        .unwrap_or_else(|out| panic!("wacz validate failed on {}:\n{out}", path.display()))
}

/// Kills the child by PID on drop.
struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Replays `url` from `warc_files` through pywb on loopback and returns what pywb served in
/// `id_` (identity) mode: (status, headers, body bytes). Uses a temporary collection
/// (`wb-manager init/add`), `wayback -b 127.0.0.1 -p <free port>`, finds the capture's
/// timestamp via the collection's CDX API and stops wayback by PID afterwards.
pub fn pywb_replay(warc_files: &[PathBuf], url: &str) -> HttpResult {
    pywb_replay_added(&[], warc_files, url)
}

/// [`pywb_replay`] of a WACZ imported with `wb-manager add --unpack-wacz` (its WARCs and
/// its own index, which pywb takes only when it is named `.cdx` or `.cdx.gz`).
pub fn pywb_replay_wacz(wacz: &Path, url: &str) -> HttpResult {
    pywb_replay_added(&["--unpack-wacz"], &[wacz.to_path_buf()], url)
}

fn pywb_replay_added(flags: &[&str], files: &[PathBuf], url: &str) -> HttpResult {
    let warc_files = files;
    let dir = tempdir();
    let coll = "evid";
    let (ok, o, e) = run_tool(
        "wb-manager",
        &["init".as_ref(), coll.as_ref()],
        Some(dir.path()),
    );
    assert!(ok, "wb-manager init failed:\n{o}{e}");
    let mut args: Vec<&std::ffi::OsStr> = vec!["add".as_ref()];
    args.extend(flags.iter().map(std::ffi::OsStr::new));
    args.push(coll.as_ref());
    args.extend(os_args(files));
    let (ok, o, e) = run_tool("wb-manager", &args, Some(dir.path()));
    assert!(ok, "wb-manager add failed:\n{o}{e}");
    // `add` only warns (exit 0) on a WACZ it cannot use, leaving an empty index: the
    // collection must be indexed.
    let index = dir
        .path()
        .join("collections")
        .join(coll)
        .join("indexes/index.cdxj");
    assert!(
        std::fs::metadata(&index).is_ok_and(|m| m.len() > 0),
        "wb-manager add {flags:?} {files:?} left no index:\n{o}{e}"
    );

    let port = free_port();
    let log = std::fs::File::create(dir.path().join("wayback.log")).unwrap();
    let child = Command::new(venv_tool("wayback"))
        .args(["-b", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start wayback");
    let mut child = KillOnDrop(child);
    let base = format!("http://127.0.0.1:{port}");
    let wb_log = || std::fs::read_to_string(dir.path().join("wayback.log")).unwrap_or_default();

    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if http_get(&format!("{base}/")).is_ok() {
            break;
        }
        if let Ok(Some(st)) = child.0.try_wait() {
            panic!("wayback exited early ({st}):\n{}", wb_log());
        }
        assert!(
            Instant::now() < deadline,
            "wayback did not answer within 60 s:\n{}",
            wb_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let enc: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let (st, _, cdx) =
        http_get(&format!("{base}/{coll}/cdx?url={enc}&output=json")).expect("pywb cdx query");
    let cdx = String::from_utf8_lossy(&cdx).into_owned();
    assert_eq!(st, 200, "pywb cdx query failed: {cdx}\n{}", wb_log());
    let ts = cdx
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| {
            v.get("timestamp")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            panic!("{url} is not in the pywb index of {warc_files:?}; cdx said:\n{cdx}")
        });

    let mut target = format!("{base}/{coll}/{ts}id_/{url}");
    for _ in 0..5 {
        let r = http_get(&target).expect("pywb replay request");
        let loc =
            r.1.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.clone());
        match (r.0, loc) {
            // pywb redirects to the nearest capture when the timestamp differs.
            (301 | 302 | 307, Some(l)) if l.contains(&format!("/{coll}/")) => {
                target = if l.starts_with('/') {
                    format!("{base}{l}")
                } else {
                    l
                };
            }
            _ => return r,
        }
    }
    panic!("pywb kept redirecting for {url}")
}
