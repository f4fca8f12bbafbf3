//! A read-only archive (a mounted copy, read-only media, another user's folder) works for
//! every reader, and every writer refuses it in one line, touching nothing (issue 13).
//!
//! Read-only for real, also as root in CI (where `chmod` stops nobody): the archive is
//! `chmod -R a-w` and each command runs in a private mount namespace in which the archive
//! is bind-mounted read-only (`unshare --user --map-root-user --mount`), and again as an
//! unprivileged user (`setpriv` to `nobody` when the tests run as root). A missing tool, or
//! a namespace the kernel refuses, fails the test: it never skips.

use crate::common;

use crate::addresses::snapshot;
use common::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn base_env(c: &mut Command) {
    for v in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(v);
    }
    c.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null());
}

/// How a command sees the archive as read-only.
#[derive(Clone, Copy, Debug)]
enum Ro {
    /// A read-only bind mount of the archive, in a private mount namespace.
    Mount,
    /// Another user: `nobody` (when root), or this user on `chmod -R a-w` files.
    OtherUser,
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// `samizdat --archive ARCHIVE ARGS...`, run so that the archive is read-only to it.
fn ro_samizdat(archive: &Path, how: Ro, args: &[&str]) -> Command {
    let bin = env!("CARGO_BIN_EXE_samizdat");
    let mut c = match how {
        Ro::Mount => {
            let mut c = Command::new("unshare");
            c.args([
                "--user",
                "--map-root-user",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@""#,
                "sh",
            ])
            .arg(archive)
            .arg(bin);
            c
        }
        Ro::OtherUser if is_root() => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .arg(bin);
            c
        }
        Ro::OtherUser => Command::new(bin),
    };
    c.arg("--archive").arg(archive).args(args);
    base_env(&mut c);
    c
}

const TOKEN: &str = "a-capture-token-of-32-characters";

/// An archive with one captured page, made read-only (`chmod -R a-w`) and readable by
/// anyone on the way to it; writable again when dropped, so it can be removed.
struct Fixture {
    dir: tempfile::TempDir,
    archive: PathBuf,
    srv: TestServer,
    page: String,
    id: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new("chmod")
            .args(["-R", "u+w"])
            .arg(&self.archive)
            .status();
    }
}

fn fixture() -> Fixture {
    let srv = server();
    let dir = tempdir();
    let archive = dir.path().join("archive");
    // A capture token, as a server that accepts captures has: on a read-only archive it
    // serves without them.
    let token = dir.path().join("token");
    std::fs::write(&token, TOKEN).unwrap();
    write_config(
        &archive,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\n[serve]\ntoken_file = \"{}\"\n",
            token.display()
        ),
    );
    let page = srv.url("/page");
    let out = run_ok(samizdat(&archive).args(["--json", "capture", &page]));
    let v = json_lines(&String::from_utf8_lossy(&out.stdout));
    let id = v[0]["post_id"].as_str().unwrap().to_string();
    // Readable by another user on the way in (tempdirs are 0700), as a shared copy is.
    let st = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    // The signing key stays the owner's, as it always is (mode 0600).
    std::fs::set_permissions(
        archive.join("keys/log.key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let st = Command::new("chmod")
        .args(["-R", "a-w"])
        .arg(&archive)
        .status()
        .unwrap();
    assert!(st.success());
    srv.clear();
    Fixture {
        dir,
        archive,
        srv,
        page,
        id,
    }
}

fn output(mut c: Command) -> (i32, String, String) {
    run_code(&mut c)
}

/// A place any user may write an export to, outside the archive.
fn scratch(f: &Fixture, name: &str) -> String {
    let d = f.dir.path().join(format!("out-{name}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    d.join("export").display().to_string()
}

#[test]
fn every_reader_reads_a_read_only_archive() {
    let f = fixture();
    let before = snapshot(&f.archive);
    for how in [Ro::Mount, Ro::OtherUser] {
        let (code, out, err) = output(ro_samizdat(&f.archive, how, &["--json", "list"]));
        assert_eq!(code, 0, "{how:?} list: {err}");
        assert!(out.contains(&f.id), "{how:?} list: {out}");

        let (code, out, err) = output(ro_samizdat(&f.archive, how, &["--json", "show", &f.page]));
        assert_eq!(code, 0, "{how:?} show: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], f.id.as_str());

        let (code, out, err) = output(ro_samizdat(
            &f.archive,
            how,
            &["--json", "search", "paragraph"],
        ));
        assert_eq!(code, 0, "{how:?} search: {err}");
        assert!(
            out.contains(&f.id),
            "{how:?} search found nothing: {out}\n{err}"
        );

        let (code, _, err) = output(ro_samizdat(&f.archive, how, &["verify"]));
        assert_eq!(code, 0, "{how:?} verify: {err}");

        for args in [
            &["log", "checkpoint"][..],
            &["watch", "list"][..],
            &["watch", "status"][..],
        ] {
            let (code, _, err) = output(ro_samizdat(&f.archive, how, args));
            assert_eq!(code, 0, "{how:?} {args:?}: {err}");
        }
        let bundle = format!("{}.zip", scratch(&f, &format!("{how:?}")));
        let (code, _, err) = output(ro_samizdat(
            &f.archive,
            how,
            &["export", &f.page, "--bundle", &bundle],
        ));
        assert_eq!(code, 0, "{how:?} export: {err}");
        assert!(Path::new(&bundle).exists());

        let serve = RoServe::start(&f.archive, how);
        assert!(
            serve
                .said
                .iter()
                .any(|l| l.contains("read-only (") && l.contains("serving without captures")),
            "{how:?}: {:?}",
            serve.said
        );
        assert!(
            serve.said.last().unwrap().contains("(read-only)"),
            "{:?}",
            serve.said
        );
        let (status, body) = post_capture(&serve.base, &f.page);
        assert_eq!(status, 403, "{how:?} POST /api/captures: {body}");
        assert!(body.contains("read-only"), "{body}");
        for path in [
            "/".to_string(),
            "/posts".into(),
            "/search?q=paragraph".into(),
            "/api/search?q=paragraph".into(),
            format!("/api/posts/{}", f.id),
            format!("/posts/{}", f.id),
            "/api/log/checkpoint".into(),
        ] {
            let (status, _, body) = http_get(&format!("{}{path}", serve.base)).unwrap();
            assert_eq!(
                status,
                200,
                "{how:?} serve {path}: {}",
                String::from_utf8_lossy(&body)
            );
            if path.contains("search") {
                // The hex part: pages write the id percent-encoded in links.
                let hex = f.id.split_once(':').unwrap().1;
                assert!(
                    String::from_utf8_lossy(&body).contains(hex),
                    "{how:?} serve {path} found nothing"
                );
            }
        }
    }
    assert_eq!(snapshot(&f.archive), before, "a reader changed the archive");
    assert_eq!(f.srv.requests().len(), 0, "a reader fetched something");
}

#[test]
fn every_writer_refuses_a_read_only_archive_in_one_line() {
    let f = fixture();
    let before = snapshot(&f.archive);
    let page = f.page.clone();
    let writers: Vec<Vec<&str>> = vec![
        vec!["capture", &page],
        vec!["capture", "--watch", &page],
        vec!["watch", "add", &page],
        vec!["watch", "remove", &page],
        vec!["watch", "check", "--all"],
        vec!["watch", "run", "--once"],
        vec!["timestamp"],
        vec!["reindex"],
        vec!["init"],
    ];
    for how in [Ro::Mount, Ro::OtherUser] {
        for args in &writers {
            let (code, out, err) = output(ro_samizdat(&f.archive, how, args));
            assert_ne!(
                code, 0,
                "{how:?} {args:?} ran on a read-only archive: {out}\n{err}"
            );
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{how:?} {args:?}: one line, not:\n{err}");
            assert!(
                lines[0].contains("read-only (") && lines[0].contains("was not started"),
                "{how:?} {args:?}: {err}"
            );
            assert!(
                lines[0].contains(&format!("`{}", args[0])),
                "{args:?}: {err}"
            );
        }
    }
    assert_eq!(snapshot(&f.archive), before, "a writer touched the archive");
    assert_eq!(
        f.srv.requests().len(),
        0,
        "a writer fetched something first"
    );
}

/// `samizdat serve` on a read-only archive; killed when dropped.
struct RoServe {
    child: Child,
    base: String,
    /// What it said on stderr up to the line that says where it listens.
    said: Vec<String>,
}

impl RoServe {
    fn start(archive: &Path, how: Ro) -> RoServe {
        let mut child = ro_samizdat(archive, how, &["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut s = RoServe {
            child,
            base: String::new(),
            said: vec![],
        };
        s.base = loop {
            let line = lines
                .next()
                .expect("serve exited before saying where it listens")
                .unwrap();
            s.said.push(line.clone());
            if let Some(rest) = line.split(" on http://").nth(1) {
                break format!("http://{}", rest.split('/').next().unwrap());
            }
        };
        std::thread::spawn(move || for _ in lines {});
        s
    }
}

impl Drop for RoServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /api/captures` with the capture token: (status, body).
fn post_capture(base: &str, url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let body = format!("{{\"url\": \"{url}\"}}");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/captures HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(body.as_bytes()).unwrap();
    let mut raw = vec![];
    c.read_to_end(&mut raw).unwrap();
    let r = parse_http_response(&raw).unwrap();
    (r.0, String::from_utf8_lossy(&r.2).into_owned())
}
