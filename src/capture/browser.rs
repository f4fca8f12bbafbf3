//! The headless browser process (docs/render.md): found, started, spoken to over the
//! DevTools protocol (chromiumoxide), and always killed and reaped.
//!
//! One Chromium per render, with a fresh profile in a temporary directory that goes with
//! it: no cookies, cache or storage carry from one capture to the next.
//!
//! The browser renders hostile pages, so its sandbox stays on. Chromium's sandbox refuses
//! to run as root; where samizdat runs as root (CI does) the browser is started as an
//! unprivileged user (`[browser] user`, `nobody`) instead of with `--no-sandbox`. Only
//! when no sandbox can start at all (no user namespaces, say) is it started without one,
//! and the provenance record says so ([`BrowserFacts::sandboxed`]).
//!
//! The process is started in a process group of its own with a parent-death signal (by
//! util-linux's `setpriv`): when a [`Launched`] is dropped the whole group is killed and
//! the main process reaped, and when samizdat itself dies (even by `kill -9`) the kernel
//! kills the browser, whose helpers then exit with it.
//!
//! The browser never reaches the network itself: it is given a proxy that does not exist
//! (`--proxy-server=127.0.0.1:9`, loopback included), and every request it makes is paused
//! and answered by samizdat ([`super::render`]). What the protocol cannot pause (a
//! WebSocket) therefore fails instead of slipping out.

use crate::config::BrowserConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long Chromium may take to say where its DevTools socket is.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of the browser's stderr kept for an error message.
const STDERR_LINES: usize = 12;

/// What the provenance record says of the browser that rendered (docs/provenance.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrowserFacts {
    /// `Browser.getVersion`'s product, e.g. `Chrome/156.0.8078.73`.
    pub version: String,
    pub user_agent: String,
    /// The executable that ran.
    pub path: String,
    /// The flags samizdat started it with (the profile directory shown as `<profile>`).
    pub flags: Vec<String>,
    /// Whether Chromium's sandbox was on.
    pub sandboxed: bool,
    /// Why not, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_sandbox_reason: Option<String>,
    /// The user it ran as, when samizdat (root) started it as another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
    pub viewport: Viewport,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
    pub mobile: bool,
}

/// The phone viewport of `[browser] mobile` (a common Android size, CSS pixels).
pub const MOBILE: (u32, u32) = (412, 915);
const MOBILE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36";

impl Viewport {
    pub fn of(cfg: &BrowserConfig) -> Viewport {
        if cfg.mobile {
            Viewport {
                width: MOBILE.0,
                height: MOBILE.1,
                mobile: true,
            }
        } else {
            Viewport {
                width: cfg.width,
                height: cfg.height,
                mobile: false,
            }
        }
    }
}

/// The Chromium to run: `[browser] path`, else the first of the usual names on `PATH`.
pub fn find_executable(cfg: &BrowserConfig) -> Result<PathBuf, String> {
    if let Some(p) = &cfg.path {
        return if p.is_file() {
            Ok(p.clone())
        } else {
            Err(format!(
                "[browser] path = {:?}: no such file; install Chromium (Debian: apt-get install chromium) or fix the path",
                p.display()
            ))
        };
    }
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        if let Some(c) = which(name) {
            return Ok(c);
        }
    }
    Err("no browser found: rendering needs Chromium (Debian: apt-get install chromium), on PATH or set as [browser] path".into())
}

/// A running browser and its DevTools connection. Dropping it kills the browser.
pub struct Launched {
    pub browser: chromiumoxide::Browser,
    pub facts: BrowserFacts,
    child: tokio::process::Child,
    handler: tokio::task::JoinHandle<()>,
    /// The fresh profile; removed with the browser.
    _profile: tempfile::TempDir,
}

impl Launched {
    /// Closes the browser politely, then kills and reaps whatever is left.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(3), self.browser.close()).await;
        self.kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }

    fn kill(&mut self) {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|p| rustix::process::Pid::from_raw(p as i32))
        {
            // The group: the browser's zygote, renderers and helpers too.
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        let _ = self.child.start_kill();
        self.handler.abort();
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        self.kill();
        // Reaped: tokio reaps a killed child it no longer waits for in the background.
    }
}

/// The first `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|c| c.is_file())
}

/// A user to run the browser as: name, uid, gid (from /etc/passwd: two fields of one
/// line, which no crate in the tree reads for us; `getpwnam` would need unsafe FFI).
fn lookup_user(name: &str) -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| format!("/etc/passwd: {e} (needed to find [browser] user {name:?})"))?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            let uid = f[2]
                .parse()
                .map_err(|_| format!("/etc/passwd: bad uid for {name}"))?;
            let gid = f[3]
                .parse()
                .map_err(|_| format!("/etc/passwd: bad gid for {name}"))?;
            return Ok((uid, gid));
        }
    }
    Err(format!(
        "[browser] user = {name:?}: no such user; samizdat runs as root, and Chromium's sandbox needs an unprivileged user to run the browser as"
    ))
}

/// The flags of every render (the profile and the sandbox flag are added by [`launch`]).
fn base_flags(v: Viewport) -> Vec<String> {
    let mut f: Vec<String> = [
        "--headless=new",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--disable-breakpad",
        "--disable-crash-reporter",
        "--disable-domain-reliability",
        "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,AutofillServerCommunication",
        "--metrics-recording-only",
        "--mute-audio",
        "--hide-scrollbars",
        "--password-store=basic",
        "--use-mock-keychain",
        "--force-color-profile=srgb",
        // Nothing leaves except through samizdat (module head): a proxy that is not there.
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push(format!("--window-size={},{}", v.width, v.height));
    if v.mobile {
        f.push(format!("--user-agent={MOBILE_UA}"));
    }
    f
}

/// Profiles of browsers that are gone (a samizdat killed outright leaves its temporary
/// profile behind): each `samizdat-browser-*` folder in the temp folder that is older than
/// `age` and that no running process names as its `--user-data-dir` is removed. Linux's
/// `/proc` is read for the command lines; where there is none, nothing is removed.
pub fn sweep_stale_profiles(temp: &Path, age: Duration) -> usize {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let in_use: Vec<String> = procs
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .filter(|c| c.contains("--user-data-dir="))
        .collect();
    let Ok(entries) = std::fs::read_dir(temp) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("samizdat-browser-") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|el| el >= age);
        let path = e.path();
        let flag = format!("--user-data-dir={}", path.display());
        if old
            && !in_use.iter().any(|c| c.contains(&flag))
            && std::fs::remove_dir_all(&path).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Starts a browser for one render and connects to it.
pub async fn launch(cfg: &BrowserConfig, exe: &Path) -> Result<Launched, String> {
    // A render lasts at most its timeout: a profile older than that and unused is left over.
    let age = Duration::from_secs(cfg.render_timeout_secs.max(60) * 2);
    let swept = sweep_stale_profiles(&std::env::temp_dir(), age);
    if swept > 0 {
        tracing::info!("removed {swept} browser profiles left by browsers that are gone");
    }
    let viewport = Viewport::of(cfg);
    let root = rustix::process::getuid().is_root();
    let run_as = if root {
        Some((cfg.user.clone(), lookup_user(&cfg.user)?))
    } else {
        None
    };
    match start(exe, viewport, run_as.as_ref(), true).await {
        Ok(l) => Ok(l),
        Err(sandboxed_error) => {
            // No sandbox could start (or something else went wrong): try once without, and
            // say so. A browser that fails both ways reports the first error.
            match start(exe, viewport, run_as.as_ref(), false).await {
                Ok(mut l) => {
                    tracing::warn!(
                        "the browser's sandbox did not start ({sandboxed_error}); rendering without it"
                    );
                    l.facts.no_sandbox_reason = Some(sandboxed_error);
                    Ok(l)
                }
                Err(_) => Err(sandboxed_error),
            }
        }
    }
}

async fn start(
    exe: &Path,
    viewport: Viewport,
    run_as: Option<&(String, (u32, u32))>,
    sandbox: bool,
) -> Result<Launched, String> {
    let profile = tempfile::Builder::new()
        .prefix("samizdat-browser-")
        .tempdir()
        .map_err(|e| format!("a profile directory for the browser: {e}"))?;
    if let Some((_, (uid, gid))) = run_as {
        std::os::unix::fs::chown(profile.path(), Some(*uid), Some(*gid))
            .map_err(|e| format!("giving the browser profile to uid {uid}: {e}"))?;
    }
    let mut flags = base_flags(viewport);
    if !sandbox {
        flags.push("--no-sandbox".into());
    }
    // The parent-death signal comes from util-linux's `setpriv`, which then runs the
    // browser: setting it ourselves would need `unsafe` (pre_exec), which this crate
    // forbids. Without `setpriv` the browser still dies with its process group when the
    // render ends; only a samizdat killed outright could leave it behind.
    let setpriv = which("setpriv");
    let mut cmd = match &setpriv {
        Some(sp) => {
            let mut c = tokio::process::Command::new(sp);
            c.args(["--pdeathsig", "KILL", "--"]).arg(exe);
            c
        }
        None => tokio::process::Command::new(exe),
    };
    cmd.args(&flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .env("HOME", profile.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if let Some((_, (uid, gid))) = run_as {
        // std drops supplementary groups when root sets a uid.
        cmd.uid(*uid).gid(*gid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the browser {}: {e}", exe.display()))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let mut tail: std::collections::VecDeque<String> = Default::default();
    let found = tokio::time::timeout(START_TIMEOUT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.find("ws://") {
                return Some(line[at..].trim().to_string());
            }
            if tail.len() == STDERR_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
        None
    })
    .await;
    let ws = match found {
        Ok(Some(ws)) => ws,
        other => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            let why = if other.is_err() {
                format!(
                    "it did not open its DevTools socket within {} s",
                    START_TIMEOUT.as_secs()
                )
            } else {
                "it exited".to_string()
            };
            let said: Vec<String> = tail.into_iter().filter(|l| !l.trim().is_empty()).collect();
            return Err(format!(
                "the browser {} did not start{}: {why}{}",
                exe.display(),
                if sandbox {
                    " with its sandbox"
                } else {
                    " (without a sandbox)"
                },
                if said.is_empty() {
                    String::new()
                } else {
                    format!("; it said: {}", said.join(" | "))
                }
            ));
        }
    };
    // Keep reading its stderr, or a full pipe would stall it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let hc = chromiumoxide::handler::HandlerConfig {
        viewport: None,
        request_timeout: Duration::from_secs(60),
        ..Default::default()
    };
    let connected = chromiumoxide::Browser::connect_with_config(ws.clone(), hc).await;
    let (browser, mut handler) = match connected {
        Ok(x) => x,
        Err(e) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Err(format!("connecting to the browser at {ws}: {e}"));
        }
    };
    let handler = tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(ev) = handler.next().await {
            if ev.is_err() {
                // A message it could not read is skipped; a closed socket ends the stream.
                continue;
            }
        }
    });
    let mut launched = Launched {
        browser,
        facts: BrowserFacts {
            version: String::new(),
            user_agent: String::new(),
            path: exe.display().to_string(),
            flags: flags.clone(),
            sandboxed: sandbox,
            no_sandbox_reason: None,
            run_as: run_as.map(|(n, _)| n.clone()),
            viewport,
        },
        child,
        handler,
        _profile: profile,
    };
    match launched.browser.version().await {
        Ok(v) => {
            launched.facts.version = v.product;
            launched.facts.user_agent = v.user_agent;
        }
        Err(e) => return Err(format!("asking the browser its version: {e}")),
    }
    Ok(launched)
}

/// Prints `html` to PDF in a fresh browser (the evidence bundle's `report.pdf`). The page
/// is set as the document's content, so it loads nothing: its one picture comes inline, and
/// anything else would meet the dead proxy of [`base_flags`]. Bounded by `timeout`.
pub async fn print_pdf(
    cfg: &BrowserConfig,
    exe: &Path,
    html: &str,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let launched = launch(cfg, exe).await?;
    let printed = tokio::time::timeout(timeout, async {
        let page = launched
            .browser
            .new_page("about:blank")
            .await
            .map_err(|e| format!("opening a page: {e}"))?;
        page.set_content(html)
            .await
            .map_err(|e| format!("loading the report: {e}"))?;
        let params = chromiumoxide::cdp::browser_protocol::page::PrintToPdfParams {
            print_background: Some(true),
            prefer_css_page_size: Some(false),
            ..Default::default()
        };
        page.pdf(params)
            .await
            .map_err(|e| format!("printing the report: {e}"))
    })
    .await
    .unwrap_or_else(|_| Err(format!("printing took more than {} s", timeout.as_secs())));
    launched.close().await;
    printed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_path_that_is_not_there_is_named() {
        let cfg = BrowserConfig {
            path: Some("/nonexistent/chromium".into()),
            ..Default::default()
        };
        let e = find_executable(&cfg).unwrap_err();
        assert!(e.contains("/nonexistent/chromium"), "{e}");
    }

    #[test]
    fn the_flags_send_everything_to_a_proxy_that_is_not_there() {
        let f = base_flags(Viewport {
            width: 1000,
            height: 700,
            mobile: false,
        });
        assert!(f.contains(&"--proxy-server=http://127.0.0.1:9".to_string()));
        assert!(f.contains(&"--proxy-bypass-list=<-loopback>".to_string()));
        assert!(f.contains(&"--window-size=1000,700".to_string()));
        assert!(!f.iter().any(|x| x == "--no-sandbox"));
    }

    #[test]
    fn only_old_unused_profiles_are_swept() {
        let t = tempfile::tempdir().unwrap();
        let old = t.path().join("samizdat-browser-old");
        let other = t.path().join("not-ours");
        std::fs::create_dir(&old).unwrap();
        std::fs::create_dir(&other).unwrap();
        // Young: kept.
        assert_eq!(sweep_stale_profiles(t.path(), Duration::from_secs(3600)), 0);
        assert!(old.exists());
        // In use by a running process: kept (a shell that names it, as a browser would).
        let mut p = std::process::Command::new("sh")
            .arg("-c")
            .arg("sleep 30; true")
            .arg(format!("--user-data-dir={}", old.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(sweep_stale_profiles(t.path(), Duration::ZERO), 0);
        assert!(old.exists(), "a profile a live process names is kept");
        let _ = p.kill();
        let _ = p.wait();
        // Old and unused: removed; what is not ours never.
        assert_eq!(sweep_stale_profiles(t.path(), Duration::ZERO), 1);
        assert!(!old.exists());
        assert!(other.exists());
    }

    #[test]
    fn root_looks_up_its_user() {
        assert_eq!(lookup_user("root").unwrap().0, 0);
        assert!(
            lookup_user("no-such-user-here")
                .unwrap_err()
                .contains("no such user")
        );
    }
}
