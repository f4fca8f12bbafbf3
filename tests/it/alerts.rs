//! Alerts (issue 17, docs/alerts.md), as an operator runs them: the real binary, a
//! loopback blog (`[http.hosts]` sends blog.example to it) whose post is deleted (404
//! twice: a confirmed deletion), loopback webhook receivers that answer 200, 500 or
//! nothing, a real SMTP server (aiosmtpd, STARTTLS with a test CA), the clock fixed with
//! `SAMIZDAT_NOW`.

use crate::common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HOST: &str = "blog.example";
const URL: &str = "https://blog.example/posts/a";
const T0: &str = "2026-03-01T12:00:00Z";
const T1: &str = "2026-03-01T12:10:00Z";
const T2: &str = "2026-03-01T12:20:00Z";
const T3: &str = "2026-03-01T12:30:00Z";
/// The token in the webhook's path: it must never be written anywhere.
const TOKEN: &str = "tok-s3cr3t-4b1d";

struct Setup {
    _dir: tempfile::TempDir,
    ar: PathBuf,
    blog: TestServer,
    hook: TestServer,
}

fn hook_path() -> String {
    format!("/hook/{TOKEN}")
}

fn live_page() -> Resp {
    Resp::html(
        "<!DOCTYPE html><html><head><title>Post a</title></head><body><article>\
         <h1>Post a</h1><p>The words of post a, long enough to be the main text of the \
         page, about a frozen bank card.</p></article></body></html>",
    )
}

/// An archive watching `URL` (captured live at T0), with `alerts` (TOML; `HOOK` is
/// replaced by the receiver's URL, `HOOKBASE` by its origin) and `extra` config.
fn setup(alerts: &str, extra: &str) -> Setup {
    let blog = server();
    let hook = server();
    blog.route("/posts/a", live_page());
    hook.route(&hook_path(), Resp::new(200));
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let alerts = alerts
        .replace("HOOKBASE", &hook.base_url())
        .replace("HOOK", &hook.url(&hook_path()));
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 1500\nmax_retries = 0\n\n\
             [http.hosts]\n{HOST:?} = {:?}\n\n\
             [watch]\nalert_timeout = \"1s\"\nalert_retry = \"200ms\"\nalert_retry_max = \"400ms\"\n\n\
             [serve]\npublic_url = \"https://archive.example.org\"\n\n{extra}\n{alerts}",
            blog.base_url()
        ),
    );
    run_ok(sz(&ar, T0).args(["watch", "add", URL, "--tag", "banks"]));
    Setup {
        _dir: dir,
        ar,
        blog,
        hook,
    }
}

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn hooks(hook: &TestServer) -> Vec<RecordedRequest> {
    hook.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/hook"))
        .collect()
}

/// `watch check URL` at `now`, its stdout and stderr.
fn check(s: &Setup, now: &str) -> (String, String) {
    let out = run_ok(sz(&s.ar, now).args(["watch", "check", URL]));
    (text(&out.stdout), text(&out.stderr))
}

/// Every record's bytes, decompressed, and the index, as one text to search.
fn archive_text(ar: &Path) -> String {
    let mut all = String::new();
    for r in records(ar) {
        all += &text(&r.block);
        for (k, v) in &r.fields {
            all += k;
            all += v;
        }
    }
    all + &text(&std::fs::read(ar.join("index.sqlite")).unwrap_or_default())
}

fn delivered_records(ar: &Path) -> Vec<Value> {
    records(ar)
        .iter()
        .filter(|r| r.field("Content-Type") == Some("application/vnd.samizdat.alert+json"))
        .map(|r| serde_json::from_slice::<Value>(&r.block).unwrap())
        .filter(|v| v["action"] == "delivered")
        .collect()
}

fn alerts_status(ar: &Path, now: &str) -> Vec<Value> {
    let out = run_ok(sz(ar, now).args(["--json", "alerts", "status"]));
    json_lines(&text(&out.stdout))
}

/// A confirmed deletion is one alert with every field, delivered once however often the
/// post is checked again, alerts are sent again, or the index is rebuilt; the webhook's
/// token is in no record, no index row and no output.
#[test]
fn a_confirmed_deletion_is_one_alert_with_its_facts() {
    let s = setup(
        "[[alerts]]\nname = \"desk\"\non = [\"deleted\"]\nwebhook = \"HOOK\"\n\n\
         [[alerts]]\nname = \"censorship\"\non = [\"censored\"]\nwebhook = \"HOOK\"\nformat = \"slack\"\n",
        "",
    );
    s.blog.route("/posts/a", Resp::new(404).body("gone"));
    let (o1, e1) = check(&s, T1);
    assert!(hooks(&s.hook).is_empty(), "a first gone answer alerted");
    let (o2, e2) = check(&s, T2);
    let got = hooks(&s.hook);
    assert_eq!(got.len(), 1, "{o2}\n{e2}");
    assert!(o2.contains("alert deleted web:"), "{o2}");
    let a: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(a["event"], "deleted");
    assert_eq!(a["url"], URL);
    assert_eq!(a["platform"], "web");
    assert_eq!(a["state"], "deleted");
    assert_eq!(a["cause"], "unknown");
    assert!(
        a["text"].as_str().unwrap().contains("frozen bank card"),
        "{a}"
    );
    assert!(
        a["last_seen_live"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01T12:00:00")
    );
    assert!(
        a["first_seen_gone"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01T12:10:00")
    );
    let post = a["post_id"].as_str().unwrap().to_string();
    assert!(post.starts_with("web:"), "{a}");
    assert_eq!(
        a["archived_url"].as_str().unwrap(),
        format!(
            "https://archive.example.org/posts/{}",
            url::form_urlencoded::byte_serialize(post.as_bytes()).collect::<String>()
        )
    );
    assert!(
        a["summary"].as_str().unwrap().starts_with("Deleted:"),
        "{a}"
    );
    let leaf = a["leaf"].as_u64().unwrap();
    assert!(a["checkpoint"]["size"].as_u64().unwrap() > leaf, "{a}");
    assert_eq!(got[0].header("idempotency-key"), a["id"].as_str());
    assert!(
        a["id"].as_str().unwrap().starts_with("deleted:urn:uuid:"),
        "{a}"
    );
    assert!(!a["id"].as_str().unwrap().contains('<'), "{a}");

    // Checked again (still gone), sent again, rebuilt: still one delivery.
    let (o3, e3) = check(&s, T3);
    run_ok(sz(&s.ar, T3).args(["alerts", "send"]));
    run_ok(sz(&s.ar, T3).arg("reindex"));
    let (o4, e4) = {
        let out = run_ok(sz(&s.ar, T3).args(["alerts", "send"]));
        (text(&out.stdout), text(&out.stderr))
    };
    assert_eq!(hooks(&s.hook).len(), 1, "{o3}{e3}{o4}{e4}");
    assert_eq!(delivered_records(&s.ar).len(), 1);
    let st = alerts_status(&s.ar, T3);
    let desk = st.iter().find(|t| t["target"] == "desk").unwrap();
    assert_eq!(desk["delivered"], 1, "{desk}");
    assert_eq!(desk["waiting"], 0, "{desk}");
    assert!(desk["to"].as_str().unwrap().contains("127.0.0.1"), "{desk}");
    // A deletion of unknown cause is not censorship.
    let cens = st.iter().find(|t| t["target"] == "censorship").unwrap();
    assert_eq!(cens["delivered"], 0, "{cens}");

    for (what, t) in [
        ("archive", archive_text(&s.ar)),
        ("output", format!("{o1}{e1}{o2}{e2}{o3}{e3}{o4}{e4}")),
        ("status", format!("{st:?}")),
    ] {
        assert!(!t.contains(TOKEN), "the webhook's token is in the {what}");
    }
}

/// No alert for what is never a deletion: 5xx, 429, 403, timeouts, or one gone answer;
/// the second agreeing gone answer then alerts once.
#[test]
fn walls_timeouts_and_one_gone_answer_never_alert() {
    let s = setup(
        "[[alerts]]\non = [\"deleted\", \"restricted\", \"account_gone\", \"watch_failing\"]\nwebhook = \"HOOK\"\n",
        "",
    );
    let times = [
        "2026-03-01T12:05:00Z",
        "2026-03-01T12:06:00Z",
        "2026-03-01T12:07:00Z",
        "2026-03-01T12:08:00Z",
        "2026-03-01T12:09:00Z",
    ];
    for (now, resp) in times.iter().zip([
        Resp::new(503),
        Resp::new(429),
        Resp::new(403).body("<html><title>Log in</title>Please log in</html>"),
        live_page().delay(2500),
        Resp::new(404),
    ]) {
        s.blog.route("/posts/a", resp);
        let (o, e) = check(&s, now);
        assert!(hooks(&s.hook).is_empty(), "{now}: alerted\n{o}\n{e}");
    }
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, T1);
    assert_eq!(
        hooks(&s.hook).len(),
        1,
        "the confirmed deletion did not alert"
    );
    let a: Value = serde_json::from_slice(&hooks(&s.hook)[0].body).unwrap();
    assert!(
        a["first_seen_gone"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-01T12:09:00"),
        "{a}"
    );
}

/// A receiver answering 500 is retried with backoff by `watch run` until it answers 200:
/// one delivery in the end, every attempt with the same idempotency key; while it fails,
/// `watch status` and `alerts status` say so.
#[test]
fn a_failing_receiver_is_retried_until_it_takes_the_alert() {
    let s = setup(
        "[[alerts]]\nname = \"desk\"\non = [\"deleted\"]\nwebhook = \"HOOK\"\n",
        "",
    );
    s.hook.route(&hook_path(), Resp::new(500).body("busy"));
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, T1);
    let (o, _) = check(&s, T2);
    assert!(o.contains("FAILED: HTTP 500: busy"), "{o}");
    let out = run_ok(sz(&s.ar, T2).args(["watch", "status"]));
    let st = text(&out.stdout);
    assert!(st.contains("FAILING: 1 alerts not delivered"), "{st}");
    // The web archive's home page says so too, without the webhook's URL.
    let web = common::serve::Serve::start(&s.ar);
    let (code, body) = web.get("/");
    let page = text(&body);
    assert_eq!(code, 200);
    assert!(
        page.contains("Alerts are not getting through") && page.contains("desk"),
        "{page}"
    );
    assert!(
        page.contains("HTTP 500: busy") && !page.contains(TOKEN),
        "{page}"
    );
    web.stop();

    let mut child = sz(&s.ar, T2)
        .args(["watch", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |n: usize| {
        let end = Instant::now() + Duration::from_secs(30);
        while hooks(&s.hook).len() < n {
            assert!(
                Instant::now() < end,
                "only {} attempts",
                hooks(&s.hook).len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Retried in the daemon, backing off between attempts.
    wait_for(3);
    s.hook.route(&hook_path(), Resp::new(200));
    let end = Instant::now() + Duration::from_secs(30);
    while delivered_records(&s.ar).is_empty() {
        assert!(Instant::now() < end, "never delivered");
        std::thread::sleep(Duration::from_millis(100));
    }
    let n = hooks(&s.hook).len();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(hooks(&s.hook).len(), n, "sent again after it was taken");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let keys: std::collections::HashSet<_> = hooks(&s.hook)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(delivered_records(&s.ar).len(), 1);
    assert!(delivered_records(&s.ar)[0]["attempts"].as_u64().unwrap() >= 2);
    let st = alerts_status(&s.ar, T3);
    assert_eq!(st[0]["delivered"], 1, "{st:?}");
    assert_eq!(st[0]["failing"], Value::Null, "{st:?}");
}

/// A receiver that never answers is given up on after `alert_timeout` (the check is not
/// held up), and the alert is delivered at the next try.
#[test]
fn a_hanging_receiver_times_out_and_is_tried_again() {
    let s = setup("[[alerts]]\non = [\"deleted\"]\nwebhook = \"HOOK\"\n", "");
    s.hook.route(&hook_path(), Resp::new(200).delay(8000));
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, T1);
    let t = Instant::now();
    let (o, _) = check(&s, T2);
    assert!(
        t.elapsed() < Duration::from_secs(7),
        "held up for {:?}",
        t.elapsed()
    );
    assert!(o.contains("FAILED: no answer within 1s"), "{o}");
    assert!(delivered_records(&s.ar).is_empty());
    s.hook.route(&hook_path(), Resp::new(200));
    let out = run_ok(sz(&s.ar, T3).args(["alerts", "send"]));
    assert!(
        text(&out.stdout).contains("alert deleted"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(hooks(&s.hook).len(), 2);
    assert_eq!(delivered_records(&s.ar).len(), 1);
    run_ok(sz(&s.ar, T3).args(["alerts", "send"]));
    assert_eq!(hooks(&s.hook).len(), 2);
}

/// `kill -9` after the state change is recorded and before the alert is delivered: the
/// next start delivers it, once.
#[test]
fn a_kill_between_the_state_change_and_the_delivery_delivers_once_after_restart() {
    let s = setup("[[alerts]]\non = [\"deleted\"]\nwebhook = \"HOOK\"\n", "");
    // The receiver holds the request: the delivery is in flight when the kill lands.
    s.hook.route(&hook_path(), Resp::new(200).delay(60_000));
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, T1);
    std::fs::write(
        s.ar.join("samizdat.toml"),
        std::fs::read_to_string(s.ar.join("samizdat.toml"))
            .unwrap()
            .replace("alert_timeout = \"1s\"", "alert_timeout = \"50s\""),
    )
    .unwrap();
    let mut child = sz(&s.ar, T2)
        .args(["watch", "check", URL])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    while hooks(&s.hook).is_empty() {
        assert!(Instant::now() < end, "the alert was never tried");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(delivered_records(&s.ar).is_empty());
    let show = run_ok(sz(&s.ar, T2).args(["--json", "show", URL]));
    let v: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["state"], "deleted", "the state change was lost");

    s.hook.route(&hook_path(), Resp::new(200));
    run_ok(sz(&s.ar, T3).args(["watch", "run", "--once"]));
    assert_eq!(hooks(&s.hook).len(), 2);
    assert_eq!(delivered_records(&s.ar).len(), 1);
    run_ok(sz(&s.ar, T3).args(["watch", "run", "--once"]));
    run_ok(sz(&s.ar, T3).args(["alerts", "send"]));
    assert_eq!(hooks(&s.hook).len(), 2, "delivered twice");
    let keys: Vec<_> = hooks(&s.hook)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys[0], keys[1]);
}

/// Filters: a target for another platform, another tag or another account hears
/// nothing; one for this post's tag hears it. An edit alerts with the old text.
#[test]
fn filters_choose_the_posts_and_an_edit_carries_the_old_text() {
    let s = setup(
        "[[alerts]]\nname = \"other-platform\"\non = [\"edited\"]\nplatform = [\"weibo\"]\nwebhook = \"HOOKBASE/hook/weibo\"\n\n\
         [[alerts]]\nname = \"other-tag\"\non = [\"edited\"]\ntag = [\"sport\"]\nwebhook = \"HOOKBASE/hook/sport\"\n\n\
         [[alerts]]\nname = \"other-account\"\non = [\"edited\"]\naccount = [\"someone-else\"]\nwebhook = \"HOOKBASE/hook/someone\"\n\n\
         [[alerts]]\nname = \"banks\"\non = [\"edited\"]\ntag = [\"banks\"]\nwebhook = \"HOOKBASE/hook/banks\"\n",
        "",
    );
    for p in ["/hook/weibo", "/hook/sport", "/hook/someone", "/hook/banks"] {
        s.hook.route(p, Resp::new(200));
    }
    s.blog.route(
        "/posts/a",
        Resp::html(
            "<!DOCTYPE html><html><head><title>Post a</title></head><body><article>\
             <h1>Post a</h1><p>The words of post a, changed after the police called, \
             long enough to be the main text.</p></article></body></html>",
        ),
    );
    let (o, e) = check(&s, T1);
    let got = hooks(&s.hook);
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, vec!["/hook/banks"], "{o}\n{e}");
    let a: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(a["event"], "edited");
    assert!(
        a["old_text"].as_str().unwrap().contains("frozen bank card"),
        "{a}"
    );
    assert!(a["text"].as_str().unwrap().contains("police called"), "{a}");
}

/// `alerts test` sends the sample to each target in its shape: Slack's `text`, a Matrix
/// PUT with a transaction id and the bearer token, ntfy's JSON publish at the server's
/// root with the topic. A receiver that fails makes the exit code 1.
#[test]
fn alerts_test_reaches_each_kind_of_target() {
    let dir = tempdir();
    let tok = dir.path().join("matrix.token");
    std::fs::write(&tok, "syt_matrix_token\n").unwrap();
    let s = setup(
        &format!(
            "[[alerts]]\nname = \"slack\"\non = [\"deleted\"]\nwebhook = \"HOOKBASE/hook/slack\"\nformat = \"slack\"\n\n\
             [[alerts]]\nname = \"matrix\"\non = [\"deleted\"]\nwebhook = \"HOOKBASE/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message\"\nformat = \"matrix\"\ntoken_file = {tok:?}\n\n\
             [[alerts]]\nname = \"ntfy\"\non = [\"deleted\"]\nwebhook = \"HOOKBASE/desk-alerts\"\nformat = \"ntfy\"\n"
        ),
        "",
    );
    let sample = samizdat::alerts::sample(
        samizdat::store::warc::warc_date(T3.parse().unwrap()),
        Some("https://archive.example.org"),
    );
    let txn = samizdat::alerts::format::matrix_txn(&sample, "matrix");
    let matrix_path =
        format!("/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/{txn}");
    s.hook.route("/hook/slack", Resp::new(200));
    s.hook
        .route(&matrix_path, Resp::json("{\"event_id\":\"$e\"}"));
    s.hook.route("/", Resp::json("{}"));
    let out = run_ok(sz(&s.ar, T3).args(["alerts", "test"]));
    let o = text(&out.stdout);
    assert_eq!(o.matches("alert test sent to").count(), 3, "{o}");
    let reqs = s.hook.requests();
    let slack = reqs.iter().find(|r| r.path == "/hook/slack").unwrap();
    let v: Value = serde_json::from_slice(&slack.body).unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .starts_with("Test alert from samizdat"),
        "{v}"
    );
    let m = reqs.iter().find(|r| r.path == matrix_path).unwrap();
    assert_eq!(m.method, "PUT");
    assert_eq!(m.header("authorization"), Some("Bearer syt_matrix_token"));
    let v: Value = serde_json::from_slice(&m.body).unwrap();
    assert_eq!(v["msgtype"], "m.text");
    let n = reqs.iter().find(|r| r.path == "/").unwrap();
    let v: Value = serde_json::from_slice(&n.body).unwrap();
    assert_eq!(v["topic"], "desk-alerts");
    assert!(
        v["title"].as_str().unwrap().starts_with("Test alert"),
        "{v}"
    );
    // Nothing is recorded by a test.
    assert!(delivered_records(&s.ar).is_empty());

    s.hook
        .route("/hook/slack", Resp::new(404).body("no_service"));
    let (code, o, _) = run_code(sz(&s.ar, T3).args(["alerts", "test"]));
    assert_eq!(code, 1, "{o}");
    assert!(
        o.contains("slack") && o.contains("FAILED: HTTP 404: no_service"),
        "{o}"
    );
    assert!(!o.contains("syt_matrix_token"), "{o}");
}

/// Bad `[[alerts]]` entries are config errors that name what is wrong.
#[test]
fn bad_alert_entries_are_named() {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    for (toml, want) in [
        ("[[alerts]]\non = [\"deleted\"]\n", "no target"),
        (
            "[[alerts]]\non = [\"gone\"]\nwebhook = \"https://x.example/h\"\n",
            "unknown event \"gone\"",
        ),
        (
            "[[alerts]]\non = [\"deleted\"]\nwebhook = \"https://x.example/h\"\nformat = \"teams\"\n",
            "unknown format \"teams\"",
        ),
        (
            "[[alerts]]\non = [\"deleted\"]\nemail = \"desk@example.org\"\n",
            "need an [smtp] section",
        ),
        (
            "[[alerts]]\non = [\"deleted\"]\nwebhook = \"ftp://x.example/secret-path\"\n",
            "not an http(s) URL",
        ),
    ] {
        write_config(&ar, toml);
        let (code, _, e) = run_code(samizdat(&ar).args(["alerts", "status"]));
        assert_ne!(code, 0, "{toml}");
        assert!(e.contains(want), "{toml}: {e}");
        assert!(!e.contains("secret-path"), "{e}");
    }
}

/// The SMTP server of the mail tests: aiosmtpd from the validators' venv, STARTTLS
/// required, with a certificate from a throwaway CA; each message a file in a Maildir.
struct Smtp {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> Smtp {
    let dir = tempdir();
    let (ca, cert, key) = test_pki_files(dir.path());
    let maildir = dir.path().join("maildir");
    let port = free_port();
    let python = venv_tool("python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-validators.sh",
        python.display()
    );
    let child = std::process::Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--tlscert")
        .arg(&cert)
        .arg("--tlskey")
        .arg(&key)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Smtp {
        child,
        port,
        maildir,
        ca,
        _dir: dir,
    }
}

fn mails(m: &Smtp) -> Vec<String> {
    let mut out = vec![];
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(m.maildir.join(sub)) {
            for e in rd.flatten() {
                out.push(text(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

/// A confirmed deletion is mailed through a real SMTP server over STARTTLS, its
/// certificate checked against `[http] extra_ca_file`; without that CA the server is
/// refused.
#[test]
fn a_deletion_is_mailed_over_starttls() {
    let m = start_smtp();
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"starttls\"\nsender = \"samizdat@example.org\"\n",
        m.port
    );
    let s = setup(
        &format!(
            "{smtp}\n[[alerts]]\nname = \"desk\"\non = [\"deleted\"]\nemail = \"desk@example.org\"\n"
        ),
        "",
    );
    // The CA goes into [http] (the same trust as for HTTPS).
    let cfg = std::fs::read_to_string(s.ar.join("samizdat.toml")).unwrap();
    let with_ca = cfg.replacen(
        "[http]\n",
        &format!("[http]\nextra_ca_file = {:?}\n", m.ca),
        1,
    );
    std::fs::write(s.ar.join("samizdat.toml"), &with_ca).unwrap();
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, T1);
    let (o, e) = check(&s, T2);
    assert!(
        o.contains("alert deleted") && o.contains("sent to desk"),
        "{o}\n{e}"
    );
    let end = Instant::now() + Duration::from_secs(10);
    while mails(&m).is_empty() {
        assert!(Instant::now() < end, "no mail arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mail = &mails(&m)[0];
    assert!(mail.contains("Subject: Deleted: post"), "{mail}");
    assert!(mail.contains("To: desk@example.org"), "{mail}");
    assert!(mail.contains(URL), "{mail}");
    assert!(
        mail.contains("first seen gone: 2026-03-01T12:10:00"),
        "{mail}"
    );
    assert_eq!(delivered_records(&s.ar).len(), 1);

    // The same server without its CA: refused (the certificate is checked).
    std::fs::write(s.ar.join("samizdat.toml"), &cfg).unwrap();
    let (code, o, _) = run_code(sz(&s.ar, T3).args(["alerts", "test"]));
    assert_eq!(code, 1, "{o}");
    assert!(o.contains("FAILED"), "{o}");
    assert_eq!(mails(&m).len(), 1);
}

/// The README's alerts example is a config samizdat loads, with its four targets.
#[test]
fn the_readme_alerts_example_loads() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("### Alerts")
        .nth(1)
        .expect("README has an Alerts section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a toml block");
    let dir = tempdir();
    let ar = dir.path().join("archive");
    run_ok(samizdat(&ar).arg("init"));
    write_config(&ar, toml);
    let out = run_ok(samizdat(&ar).args(["--json", "alerts", "status"]));
    let v = json_lines(&text(&out.stdout));
    let names: Vec<&str> = v.iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 4, "{v:?}");
    assert_eq!(&names[..3], ["desk-slack", "desk-matrix", "phone"]);
    for t in &v {
        assert!(!t["to"].as_str().unwrap().contains("XXXXXXXX"), "{t}");
    }
}

fn serve_feed(blog: &TestServer, entries: &[(&str, &str)]) {
    let items: String = entries
        .iter()
        .map(|(slug, date)| {
            format!(
                "<item><title>Post {slug}</title><link>https://{HOST}/posts/{slug}</link>\
                 <guid>https://{HOST}/posts/{slug}</guid><pubDate>{date}</pubDate>\
                 <description>Summary of {slug}</description></item>"
            )
        })
        .collect();
    blog.route(
        "/feed.xml",
        Resp::new(200)
            .header("Content-Type", "application/rss+xml; charset=utf-8")
            .body(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
                 <title>A blog</title><link>https://{HOST}/</link><description>posts</description>\
                 {items}</channel></rss>"
            )),
    );
}

/// A post a watched feed publishes after it was added is a `new_post` alert (with the
/// feed's tag); the older posts `--backfill` captured are not.
#[test]
fn a_new_post_of_a_watched_feed_alerts_and_backfilled_ones_do_not() {
    let s = setup(
        "[[alerts]]\nname = \"new\"\non = [\"new_post\"]\ntag = [\"press\"]\nwebhook = \"HOOK\"\n",
        "",
    );
    for slug in ["old", "b"] {
        s.blog.route(
            &format!("/posts/{slug}"),
            Resp::html(format!(
                "<!DOCTYPE html><html><head><title>Post {slug}</title></head><body><article>\
                 <h1>Post {slug}</h1><p>The words of post {slug}, long enough to be the main \
                 text of the page.</p></article></body></html>"
            )),
        );
    }
    serve_feed(&s.blog, &[("old", "Sun, 01 Feb 2026 09:00:00 +0000")]);
    let feed = format!("feed:https://{HOST}/feed.xml");
    // The target begins before the feed is added.
    run_ok(sz(&s.ar, T0).args(["alerts", "send"]));
    run_ok(sz(&s.ar, T0).args(["watch", "add", &feed, "--backfill", "1", "--tag", "press"]));
    run_ok(sz(&s.ar, T0).args(["alerts", "send"]));
    assert!(hooks(&s.hook).is_empty(), "a backfilled post alerted");
    serve_feed(
        &s.blog,
        &[
            ("b", "Sun, 01 Mar 2026 12:07:00 +0000"),
            ("old", "Sun, 01 Feb 2026 09:00:00 +0000"),
        ],
    );
    let out = run_ok(sz(&s.ar, T1).args(["watch", "check", &feed]));
    let got = hooks(&s.hook);
    assert_eq!(got.len(), 1, "{}", text(&out.stdout));
    let a: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(a["event"], "new_post");
    assert_eq!(a["url"], format!("https://{HOST}/posts/b"));
    assert!(
        a["summary"].as_str().unwrap().starts_with("New post"),
        "{a}"
    );
    run_ok(sz(&s.ar, T2).args(["watch", "check", &feed]));
    assert_eq!(hooks(&s.hook).len(), 1);
}

/// A host unreachable past `failing_after` is one `watch_failing` alert (not one per
/// check); a definite answer ends it; a post confirmed gone and then seen again is a
/// `restored` alert.
#[test]
fn a_failing_host_alerts_once_and_a_restored_post_alerts() {
    let s = setup(
        "[[alerts]]\non = [\"watch_failing\", \"restored\", \"deleted\"]\nwebhook = \"HOOK\"\n",
        "",
    );
    let cfg = std::fs::read_to_string(s.ar.join("samizdat.toml")).unwrap();
    std::fs::write(
        s.ar.join("samizdat.toml"),
        cfg.replacen("[watch]\n", "[watch]\nfailing_after = \"30m\"\n", 1),
    )
    .unwrap();
    s.blog.route("/posts/a", Resp::new(503));
    for now in [T1, T2, "2026-03-01T12:35:00Z"] {
        check(&s, now);
    }
    assert!(hooks(&s.hook).is_empty(), "failing for 25 minutes alerted");
    check(&s, "2026-03-01T12:45:00Z");
    check(&s, "2026-03-01T12:50:00Z");
    let got = hooks(&s.hook);
    assert_eq!(got.len(), 1);
    let a: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(a["event"], "watch_failing");
    assert_eq!(a["host"], HOST);
    assert!(
        a["summary"]
            .as_str()
            .unwrap()
            .contains("unreachable since 2026-03-01T12:10:00"),
        "{a}"
    );

    // Gone twice (confirmed), then back.
    s.blog.route("/posts/a", Resp::new(404));
    check(&s, "2026-03-01T13:00:00Z");
    check(&s, "2026-03-01T13:05:00Z");
    s.blog.route("/posts/a", live_page());
    check(&s, "2026-03-01T13:10:00Z");
    let events: Vec<String> = hooks(&s.hook)
        .iter()
        .map(|r| {
            serde_json::from_slice::<Value>(&r.body).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(events, ["watch_failing", "deleted", "restored"]);
}
