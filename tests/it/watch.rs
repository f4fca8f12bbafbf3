//! `watch` end to end through the real CLI: a loopback server plays a Mastodon instance
//! (`[http.hosts]` sends mastodon.social to it), its answers change between runs with
//! `srv.route`, and the clock moves with `SAMIZDAT_NOW`, so nothing sleeps.

use crate::common;

use common::*;
use serde_json::{Value, json};
use std::io::Read;
use std::path::{Path, PathBuf};

const HOST: &str = "mastodon.social";
const T0: &str = "2026-03-01T12:00:00Z";

fn at(offset_min: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_mins(offset_min)).to_string()
}

fn setup(srv: &TestServer) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 1500\nmax_retries = 0\n\n[http.hosts]\n{HOST:?} = {:?}\n",
            srv.base_url()
        ),
    );
    (dir, ar)
}

fn status(id: &str, text: &str, created: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "created_at": created, "in_reply_to_id": null, "in_reply_to_account_id": null,
        "sensitive": false, "spoiler_text": "", "visibility": "public", "language": "en",
        "uri": format!("https://{HOST}/users/ada/statuses/{id}"),
        "url": format!("https://{HOST}/@ada/{id}"),
        "replies_count": 1, "reblogs_count": 2, "favourites_count": 3, "edited_at": null,
        "content": format!("<p>{text}</p>"), "reblog": null,
        "account": {"id": "4242", "username": "ada", "acct": "ada", "display_name": "Ada",
                    "url": format!("https://{HOST}/@ada")},
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": null, "poll": null
    }))
    .unwrap()
}

fn post_url(id: &str) -> String {
    format!("https://{HOST}/@ada/{id}")
}

fn route_status(srv: &TestServer, id: &str, resp: Resp) {
    srv.route(&format!("/api/v1/statuses/{id}"), resp);
}

fn live(srv: &TestServer, id: &str, text: &str) {
    route_status(
        srv,
        id,
        Resp::json(status(id, text, "2026-03-01T11:00:00.000Z")),
    );
}

fn sz(ar: &Path, now: &str) -> std::process::Command {
    let mut c = samizdat(ar);
    c.env("SAMIZDAT_NOW", now);
    c
}

fn run_once(ar: &Path, now: &str) -> Vec<Value> {
    let out = run_ok(sz(ar, now).args(["--json", "watch", "run", "--once"]));
    json_lines(&String::from_utf8_lossy(&out.stdout))
}

fn show(ar: &Path, id: &str) -> Value {
    let out = run_ok(samizdat(ar).args(["--json", "show", id]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verify_ok(ar: &Path) {
    let (code, _, err) = run_code(samizdat(ar).arg("verify"));
    assert_eq!(code, 0, "verify failed:\n{err}");
}

/// Every record's WARC header block, from the gzip members of every file.
fn warc_headers(ar: &Path) -> Vec<String> {
    let mut out = vec![];
    for f in warc_files(ar) {
        let mut d = flate2::read::MultiGzDecoder::new(std::fs::File::open(f).unwrap());
        let mut all = vec![];
        d.read_to_end(&mut all).unwrap();
        let text = String::from_utf8_lossy(&all);
        for part in text.split("WARC/1.1\r\n").skip(1) {
            out.push(part.split("\r\n\r\n").next().unwrap_or("").to_string());
        }
    }
    out
}

/// The bodies of every check record, in write order.
fn check_bodies(ar: &Path) -> Vec<Value> {
    let mut out = vec![];
    for f in warc_files(ar) {
        let mut d = flate2::read::MultiGzDecoder::new(std::fs::File::open(f).unwrap());
        let mut all = vec![];
        d.read_to_end(&mut all).unwrap();
        let text = String::from_utf8_lossy(&all);
        for part in text.split("WARC/1.1\r\n").skip(1) {
            let Some((head, body)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            if head.contains("Content-Type: application/vnd.samizdat.check+json") {
                let v = serde_json::Deserializer::from_str(body)
                    .into_iter::<Value>()
                    .next()
                    .unwrap()
                    .unwrap();
                out.push(v);
            }
        }
    }
    out
}

/// The response record among a capture's records: its id and payload digest.
fn capture_response(ar: &Path, record_ids: &Value) -> (String, String) {
    let ids: Vec<&str> = record_ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let field = |h: &str, name: &str| {
        h.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_string)
    };
    warc_headers(ar)
        .iter()
        .filter(|h| h.contains("WARC-Type: response"))
        .find_map(|h| {
            let id = field(h, "WARC-Record-ID")?;
            ids.contains(&id.as_str())
                .then(|| (id, field(h, "WARC-Payload-Digest").unwrap()))
        })
        .expect("the capture has a response")
}

fn outcomes(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn deleted_then_restored_with_time_bounds_revisits_and_reindex() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let id = "110000000000000001";
    let pid = format!("mastodon:{HOST}/{id}");
    live(&srv, id, "hello from the pier");
    let out = run_ok(sz(&ar, T0).args(["--json", "watch", "add", &post_url(id)]));
    let l = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(l[0]["post_id"], pid.as_str(), "{l:?}");
    assert_eq!(l[0]["next_check"], "2026-03-01T12:05:00.000000Z");

    // Nothing due before 12:05.
    assert!(run_once(&ar, &at(4)).is_empty());
    let captured_records = warc_headers(&ar).len();
    let r = run_once(&ar, &at(5));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["outcome"], "live");
    // The same answer again.
    let r = run_once(&ar, &at(15));
    assert_eq!(r[0]["outcome"], "live");
    // Both checks saw what the capture saw: each is one check record carrying its
    // exchange, resting on the capture's response (no request, response or revisit
    // record of its own).
    let headers = warc_headers(&ar);
    assert_eq!(headers.len() - captured_records, 2, "{headers:?}");
    assert!(
        headers.iter().all(|h| !h.contains("WARC-Type: revisit")),
        "{headers:?}"
    );
    let captured = show(&ar, &pid)["captures"][0]["record_ids"].clone();
    let response = capture_response(&ar, &captured);
    let checks = check_bodies(&ar);
    assert_eq!(checks.len(), 2);
    for c in &checks {
        assert_eq!(c["record_ids"], json!([response.0]), "{c}");
        assert_eq!(c["response_id"], response.0.as_str(), "{c}");
        assert_eq!(c["payload_digest"], response.1.as_str(), "{c}");
        let ex = &c["exchange"];
        assert!(
            ex["request"]
                .as_str()
                .unwrap()
                .starts_with(&format!("GET /api/v1/statuses/{id} HTTP/1.1\r\n")),
            "the request as sent: {ex}"
        );
        assert!(
            ex["response"]
                .as_str()
                .unwrap()
                .starts_with("HTTP/1.1 200 "),
            "{ex}"
        );
        assert!(
            ex["response"].as_str().unwrap().ends_with("\r\n\r\n"),
            "{ex}"
        );
        assert_eq!(ex["date"], c["at"], "{ex}");
        assert!(
            ex["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f[0] == "WARC-IP-Address" && f[1] == "127.0.0.1"),
            "the peer: {ex}"
        );
    }

    // The author deletes it: the first 404 is not yet a state, a follow-up is due soon.
    srv.route(
        &format!("/api/v1/statuses/{id}"),
        Resp::new(404)
            .header("Content-Type", "application/json")
            .body(r#"{"error":"Record not found"}"#),
    );
    let r = run_once(&ar, &at(60));
    assert_eq!(r[0]["outcome"], "deleted");
    assert_eq!(r[0]["next_check"], "2026-03-01T13:02:00.000000Z");
    assert_eq!(
        show(&ar, &pid)["state"],
        "live",
        "one gone answer is not a state"
    );
    let r = run_once(&ar, &at(62));
    assert_eq!(r[0]["outcome"], "deleted");
    let v = show(&ar, &pid);
    assert_eq!(v["state"], "deleted");
    assert_eq!(v["cause"], "unknown");
    assert_eq!(v["message"], "HTTP 404: Record not found");
    assert_eq!(v["last_seen_live"], "2026-03-01T12:15:00.000000Z");
    assert_eq!(v["first_seen_gone"], "2026-03-01T13:00:00.000000Z");
    assert!(v["last_seen_live"].as_str() < v["first_seen_gone"].as_str());
    assert_eq!(outcomes(&v), ["live", "live", "deleted", "deleted"]);
    let listed = run_ok(samizdat(&ar).args(["--json", "list", "--state", "deleted"]));
    assert_eq!(
        json_lines(&String::from_utf8_lossy(&listed.stdout)).len(),
        1
    );

    // reindex answers exactly as before.
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(show(&ar, &pid), v);

    // Back again: restored (an event), state live.
    live(&srv, id, "hello from the pier");
    let r = run_once(&ar, &at(180));
    assert_eq!(r[0]["outcome"], "live");
    let v = show(&ar, &pid);
    assert_eq!(v["state"], "live");
    assert_eq!(v["checks"][4]["event"], "restored");
    assert_eq!(v["last_seen_live"], "2026-03-01T15:00:00.000000Z");
    let st = run_ok(sz(&ar, &at(180)).args(["--json", "watch", "status"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(st["posts_by_state"]["live"], 1);
    assert_eq!(st["due"]["total"], 0);
    verify_ok(&ar);
}

#[test]
fn restricted_and_account_gone_need_two_agreeing_checks() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let (a, b) = ("110000000000000011", "110000000000000012");
    live(&srv, a, "soon private");
    live(&srv, b, "soon suspended");
    run_ok(sz(&ar, T0).args(["watch", "add", &post_url(a), &post_url(b)]));
    let err = |code: u16, msg: &str| {
        Resp::new(code)
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"error":"{msg}"}}"#))
    };
    route_status(&srv, a, err(403, "This action is not allowed"));
    route_status(&srv, b, err(410, "Account is suspended"));
    run_ok(sz(&ar, &at(5)).args(["watch", "check", "--all"]));
    for id in [a, b] {
        assert_eq!(show(&ar, &format!("mastodon:{HOST}/{id}"))["state"], "live");
    }
    // An unreachable check in between is skipped, never counted.
    route_status(&srv, a, Resp::new(502));
    run_ok(sz(&ar, &at(6)).args(["watch", "check", &post_url(a)]));
    route_status(&srv, a, err(403, "This action is not allowed"));
    run_ok(sz(&ar, &at(7)).args(["watch", "check", "--all"]));
    let va = show(&ar, &format!("mastodon:{HOST}/{a}"));
    assert_eq!(va["state"], "restricted");
    assert_eq!(outcomes(&va), ["restricted", "unreachable", "restricted"]);
    assert_eq!(va["first_seen_gone"], "2026-03-01T12:05:00.000000Z");
    let vb = show(&ar, &format!("mastodon:{HOST}/{b}"));
    assert_eq!(vb["state"], "account_gone");
    assert_eq!(vb["cause"], "platform");
}

#[test]
fn errors_walls_and_timeouts_never_make_a_post_gone() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let id = "110000000000000021";
    let pid = format!("mastodon:{HOST}/{id}");
    live(&srv, id, "still here");
    run_ok(sz(&ar, T0).args(["watch", "add", &post_url(id)]));
    let bad = [
        Resp::new(500).body("oops"),
        Resp::html("<html><body>Please log in</body></html>"),
        Resp::new(429).header("Retry-After", "3600"),
        Resp::new(503),
    ];
    for (i, r) in bad.into_iter().enumerate() {
        route_status(&srv, id, r);
        run_ok(sz(&ar, &at(10 + i as i64)).args(["watch", "check", &pid]));
    }
    let v = show(&ar, &pid);
    assert_eq!(v["state"], "live");
    assert!(outcomes(&v).iter().all(|o| o == "unreachable"), "{v}");
    assert_eq!(v["first_seen_gone"], Value::Null);
    let st = run_ok(sz(&ar, &at(20)).args(["--json", "watch", "status"]));
    let st: Value = serde_json::from_slice(&st.stdout).unwrap();
    assert!(st["last_error_per_host"][HOST].is_object(), "{st}");
    live(&srv, id, "still here");
    run_ok(sz(&ar, &at(30)).args(["watch", "check", &pid]));
    let v = show(&ar, &pid);
    assert_eq!(v["state"], "live");
    assert_eq!(v["last_seen_live"], "2026-03-01T12:30:00.000000Z");
    verify_ok(&ar);
}

#[test]
fn an_edit_stores_a_new_version_and_keeps_the_old() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let id = "110000000000000031";
    let pid = format!("mastodon:{HOST}/{id}");
    live(&srv, id, "first words");
    run_ok(sz(&ar, T0).args(["watch", "add", &post_url(id)]));
    // Counts moving is not an edit.
    let mut moved: Value =
        serde_json::from_slice(&status(id, "first words", "2026-03-01T11:00:00.000Z")).unwrap();
    moved["favourites_count"] = json!(999);
    route_status(&srv, id, Resp::json(serde_json::to_vec(&moved).unwrap()));
    run_ok(sz(&ar, &at(5)).args(["watch", "check", &pid]));
    assert_eq!(show(&ar, &pid)["state"], "live");
    live(&srv, id, "second words");
    run_ok(sz(&ar, &at(15)).args(["watch", "check", &pid]));
    let v = show(&ar, &pid);
    assert_eq!(v["state"], "edited");
    assert_eq!(v["text"], "second words");
    assert_eq!(
        v["captures"].as_array().unwrap().len(),
        2,
        "old version kept"
    );
    assert!(v["checks"][1]["post_record"].is_string());
    assert_eq!(outcomes(&v), ["live", "edited"]);
    verify_ok(&ar);
}

fn account_routes(srv: &TestServer, statuses: &[Vec<u8>]) {
    srv.route(
        "/api/v1/accounts/lookup?acct=ada",
        Resp::json(r#"{"id":"4242","username":"ada","acct":"ada","display_name":"Ada","url":"https://mastodon.social/@ada"}"#),
    );
    let items: Vec<Value> = statuses
        .iter()
        .map(|s| serde_json::from_slice(s).unwrap())
        .collect();
    srv.route(
        "/api/v1/accounts/4242/statuses?limit=40",
        Resp::json(serde_json::to_vec(&items).unwrap()),
    );
}

#[test]
fn an_account_that_posts_and_deletes_within_minutes_is_captured_first() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let old = "110000000000000041";
    let quick = "110000000000000042";
    let old_s = status(old, "an old post", "2026-02-01T00:00:00.000Z");
    account_routes(&srv, std::slice::from_ref(&old_s));
    route_status(&srv, old, Resp::json(old_s.clone()));
    let out = run_ok(sz(&ar, T0).args(["--json", "watch", "add", &format!("https://{HOST}/@ada")]));
    assert_eq!(
        json_lines(&String::from_utf8_lossy(&out.stdout))[0]["action"],
        "added"
    );
    // First poll: the old post is not captured (no --backfill).
    run_once(&ar, T0);
    assert_eq!(
        run_ok(samizdat(&ar).args(["--json", "list"])).stdout.len(),
        0
    );
    // A new post at 12:08, polled at 12:10, deleted at 12:11.
    let q = status(quick, "posted and soon deleted", "2026-03-01T12:08:00.000Z");
    account_routes(&srv, &[q.clone(), old_s.clone()]);
    route_status(&srv, quick, Resp::json(q));
    let r = run_once(&ar, &at(10));
    assert!(r.iter().any(|x| x["action"] == "captured"), "{r:?}");
    let gone = Resp::new(404)
        .header("Content-Type", "application/json")
        .body(r#"{"error":"Record not found"}"#);
    route_status(&srv, quick, gone);
    account_routes(&srv, std::slice::from_ref(&old_s));
    // Polling again at 12:20 does not capture it twice; its checks find it gone.
    run_once(&ar, &at(20));
    run_once(&ar, &at(22));
    let pid = format!("mastodon:{HOST}/{quick}");
    let v = show(&ar, &pid);
    assert_eq!(v["text"], "posted and soon deleted");
    assert_eq!(v["captures"].as_array().unwrap().len(), 1);
    assert_eq!(v["state"], "deleted", "{v}");
    assert!(v["last_seen_live"].as_str() < v["first_seen_gone"].as_str());
    let wl = run_ok(samizdat(&ar).args(["--json", "watch", "list"]));
    let wl = json_lines(&String::from_utf8_lossy(&wl.stdout));
    assert_eq!(wl.len(), 2, "{wl:?}");
    // The watchlist survives reindex.
    run_ok(samizdat(&ar).arg("reindex"));
    let wl2 = run_ok(samizdat(&ar).args(["--json", "watch", "list"]));
    assert_eq!(json_lines(&String::from_utf8_lossy(&wl2.stdout)), wl);
    assert_eq!(show(&ar, &pid), v);
    // remove
    run_ok(samizdat(&ar).args(["watch", "remove", &format!("https://{HOST}/@ada")]));
    let wl3 = run_ok(samizdat(&ar).args(["--json", "watch", "list"]));
    assert_eq!(json_lines(&String::from_utf8_lossy(&wl3.stdout)).len(), 1);
}

/// `n` posts watched from T0, whose later answers each take `delay_ms`.
fn watched_slow_posts(
    srv: &TestServer,
    ar: &Path,
    prefix: &str,
    n: usize,
    delay_ms: u64,
) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("{prefix}{i:02}")).collect();
    for id in &ids {
        live(srv, id, &format!("post {id}"));
    }
    let urls: Vec<String> = ids.iter().map(|i| post_url(i)).collect();
    run_ok(sz(ar, T0).args(["watch", "add"]).args(&urls));
    for id in &ids {
        let s = status(id, &format!("post {id}"), "2026-03-01T11:00:00.000Z");
        route_status(srv, id, Resp::json(s).delay(delay_ms));
    }
    ids
}

#[test]
fn verify_passes_after_watch_run_is_killed_and_restarted() {
    let srv = server();
    let (_d, ar) = setup_with(&srv, "concurrency = 2");
    // Slow answers (about 0.6 s for the batch at 2 at once), so the kill lands mid-batch.
    let ids = watched_slow_posts(&srv, &ar, "1100000000000001", 12, 100);
    // Killed once two checks are written, long before the twelfth.
    let (seen, status) = kill_after_lines(sz(&ar, &at(5)).args(["--json", "watch", "run"]), 2);
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "watch run ended before the kill ({status:?})"
        );
    }
    assert!(
        seen < ids.len(),
        "{seen} checks done: the kill came after the batch"
    );
    let done: Vec<String> = ids
        .iter()
        .filter(|id| {
            show(&ar, &format!("mastodon:{HOST}/{id}"))["checks"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
        })
        .cloned()
        .collect();
    assert!(
        done.len() >= 2 && done.len() < ids.len(),
        "the kill landed mid-batch: {} of {} checked",
        done.len(),
        ids.len()
    );
    run_once(&ar, &at(5));
    verify_ok(&ar);
    // Nothing was checked twice for one due time, and every post got its check.
    for id in &ids {
        let v = show(&ar, &format!("mastodon:{HOST}/{id}"));
        assert_eq!(outcomes(&v), ["live"], "{id}");
    }
}

fn setup_with(srv: &TestServer, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(
        &ar,
        &format!(
            "[http]\nper_host_delay_ms = 0\ntimeout_ms = 1500\nmax_retries = 0\n{extra}\n\n[http.hosts]\n{HOST:?} = {:?}\n",
            srv.base_url()
        ),
    );
    (dir, ar)
}

fn at_secs(offset_s: i64) -> String {
    let t: jiff::Timestamp = T0.parse().unwrap();
    (t + jiff::SignedDuration::from_secs(offset_s)).to_string()
}

fn watch_status(ar: &Path, now: &str) -> Value {
    let st = run_ok(sz(ar, now).args(["--json", "watch", "status"]));
    serde_json::from_slice(&st.stdout).unwrap()
}

fn checked(reports: &[Value]) -> Vec<&Value> {
    reports
        .iter()
        .filter(|r| r["action"] == "checked")
        .collect()
}

fn status_hits(srv: &TestServer, ids: &[&str]) -> usize {
    ids.iter()
        .map(|id| srv.hits(&format!("/api/v1/statuses/{id}")))
        .sum()
}

#[test]
fn a_failing_host_is_left_alone_with_growing_backoff_and_comes_back() {
    let srv = server();
    // One at a time, so "the host failed during this batch" is seen before the next item.
    let (_d, ar) = setup_with(&srv, "concurrency = 1");
    let ids = ["110000000000000061", "110000000000000062"];
    for id in ids {
        live(&srv, id, "here");
        run_ok(sz(&ar, T0).args(["watch", "add", &post_url(id)]));
    }
    for id in ids {
        route_status(&srv, id, Resp::new(500).body("busy"));
    }
    let before = status_hits(&srv, &ids);
    // 12:05, both due: the first fails, the second is left for later (same host).
    let r = run_once(&ar, &at(5));
    assert_eq!(checked(&r).len(), 1, "{r:?}");
    assert_eq!(checked(&r)[0]["outcome"], "unreachable");
    assert_eq!(status_hits(&srv, &ids), before + 1);
    let st = watch_status(&ar, &at(5));
    let h = &st["hosts"][0];
    assert_eq!(h["host"], HOST, "{st}");
    assert_eq!(h["failures_in_a_row"], 1);
    assert_eq!(h["backing_off_until"], "2026-03-01T12:06:00.000000Z");
    // The other post waits; the failed one is tried again after `follow_up` (12:07).
    assert_eq!(st["next_batch"]["backing_off"], 1, "{st}");
    // 12:05:30: still backing off, nothing is asked.
    let r = run_once(&ar, &at_secs(330));
    assert!(checked(&r).is_empty(), "{r:?}");
    assert_eq!(status_hits(&srv, &ids), before + 1);
    // 12:06: tried again, fails again: two in a row, left alone for 2 minutes.
    let r = run_once(&ar, &at(6));
    assert_eq!(checked(&r).len(), 1, "{r:?}");
    let st = watch_status(&ar, &at(6));
    assert_eq!(st["hosts"][0]["failures_in_a_row"], 2);
    assert_eq!(
        st["hosts"][0]["backing_off_until"],
        "2026-03-01T12:08:00.000000Z"
    );
    assert!(checked(&run_once(&ar, &at(7))).is_empty());
    // 12:08: the host is back; both are checked, the backoff is over.
    for id in ids {
        live(&srv, id, "here");
    }
    let r = run_once(&ar, &at(8));
    assert_eq!(checked(&r).len(), 2, "{r:?}");
    assert!(checked(&r).iter().all(|c| c["outcome"] == "live"));
    let st = watch_status(&ar, &at(8));
    assert_eq!(st["hosts"][0]["failures_in_a_row"], 0);
    assert_eq!(st["hosts"][0]["backing_off_until"], Value::Null);
    for id in ids {
        let v = show(&ar, &format!("mastodon:{HOST}/{id}"));
        assert_eq!(v["state"], "live");
        assert_eq!(v["first_seen_gone"], Value::Null);
    }
    // The backoff is derived from the records: a rebuilt index says the same.
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(watch_status(&ar, &at(8))["hosts"], st["hosts"]);
}

#[test]
fn a_backlog_after_downtime_is_worked_down_young_posts_first_each_checked_once() {
    let srv = server();
    // Checks alone (comments are re-read on their own schedule: `comments::`).
    let (dir, ar) = setup_with(&srv, "\n[watch]\nhost_budget = 4\ncomments_every = \"0\"");
    let old: Vec<String> = (0..8).map(|i| format!("11000000000000007{i}")).collect();
    let young = ["110000000000000081", "110000000000000082"];
    for id in old.iter().map(String::as_str).chain(young) {
        live(&srv, id, &format!("post {id}"));
    }
    // Eight posts watched at 12:00 through --from (a line that is not a URL stops the
    // whole list: see `addresses::a_url_list_reads_comments_and_a_bad_line_stops_before_anything`).
    let list = dir.path().join("urls.txt");
    let mut text = String::from("# watched at 12:00\n");
    for id in &old {
        text += &format!("{}\n", post_url(id));
    }
    std::fs::write(&list, text).unwrap();
    let (code, out, _) = run_code(
        sz(&ar, T0)
            .args(["--json", "watch", "add", "--from"])
            .arg(&list),
    );
    assert_eq!(code, 0, "{out}");
    let lines = json_lines(&out);
    assert_eq!(
        lines.iter().filter(|l| l["action"] == "captured").count(),
        8,
        "{lines:?}"
    );
    assert_eq!(lines.iter().filter(|l| l["action"] == "failed").count(), 0);
    // Two more three days later; then samizdat is down until 12:00 on day 4.
    let day3 = at(3 * 24 * 60 - 120);
    for id in young {
        run_ok(sz(&ar, &day3).args(["watch", "add", &post_url(id)]));
    }
    let restart = at(3 * 24 * 60);
    let st = watch_status(&ar, &restart);
    assert_eq!(st["due"]["posts"], 10, "{st}");
    assert_eq!(st["next_batch"]["would_run"], 4);
    assert_eq!(st["next_batch"]["over_host_budget"], 6);
    // First batch: the two young posts and two old ones, no more than the budget.
    let before = srv.requests().len();
    let r = run_once(&ar, &restart);
    let first: Vec<&str> = checked(&r)
        .iter()
        .map(|c| c["post_id"].as_str().unwrap())
        .collect();
    assert_eq!(first.len(), 4, "{r:?}");
    for id in young {
        assert!(
            first.contains(&format!("mastodon:{HOST}/{id}").as_str()),
            "{first:?}"
        );
    }
    assert_eq!(
        srv.requests().len() - before,
        4,
        "one request per check, no storm"
    );
    // The rest in the next batches, each post once.
    let r2 = run_once(&ar, &restart);
    let r3 = run_once(&ar, &restart);
    assert_eq!(checked(&r2).len(), 4);
    assert_eq!(checked(&r3).len(), 2);
    assert!(checked(&run_once(&ar, &restart)).is_empty());
    for id in old.iter().map(String::as_str).chain(young) {
        let v = show(&ar, &format!("mastodon:{HOST}/{id}"));
        assert_eq!(
            outcomes(&v),
            ["live"],
            "{id}: checked once, not once per missed slot"
        );
    }
    let st = watch_status(&ar, &restart);
    assert_eq!(st["due"]["posts"], 0, "{st}");
}

fn page(srv: &TestServer, max_id: Option<&str>, statuses: &[Vec<u8>], next: Option<&str>) {
    let items: Vec<Value> = statuses
        .iter()
        .map(|s| serde_json::from_slice(s).unwrap())
        .collect();
    let path = match max_id {
        Some(m) => format!("/api/v1/accounts/4242/statuses?limit=40&max_id={m}"),
        None => "/api/v1/accounts/4242/statuses?limit=40".to_string(),
    };
    let mut resp = Resp::json(serde_json::to_vec(&items).unwrap());
    if let Some(n) = next {
        resp = resp.header(
            "Link",
            &format!(
                "<https://{HOST}/api/v1/accounts/4242/statuses?limit=40&max_id={n}>; rel=\"next\""
            ),
        );
    }
    srv.route(&path, resp);
}

#[test]
fn account_polls_page_back_for_backfill_and_bursts_and_timeline_sightings_save_checks() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    srv.route(
        "/api/v1/accounts/lookup?acct=ada",
        Resp::json(r#"{"id":"4242","username":"ada","acct":"ada","display_name":"Ada","url":"https://mastodon.social/@ada"}"#),
    );
    let id = |n: u32| format!("1100000000000001{n:02}");
    let mk = |n: u32, created: &str| {
        let s = status(&id(n), &format!("post {n}"), created);
        route_status(&srv, &id(n), Resp::json(s.clone()));
        s
    };
    let p: Vec<Vec<u8>> = (1..=5)
        .map(|n| mk(n, &format!("2026-02-0{n}T00:00:00.000Z")))
        .collect();
    // Pages of two, newest first: [5,4] [3,2] [1].
    page(&srv, None, &[p[4].clone(), p[3].clone()], Some(&id(4)));
    page(
        &srv,
        Some(&id(4)),
        &[p[2].clone(), p[1].clone()],
        Some(&id(2)),
    );
    page(&srv, Some(&id(2)), &[p[0].clone()], None);
    // --backfill captures during the add (issue 14), not at the next run.
    let out = run_ok(sz(&ar, T0).args([
        "--json",
        "watch",
        "add",
        &format!("https://{HOST}/@ada"),
        "--backfill",
        "3",
    ]));
    let r = json_lines(&String::from_utf8_lossy(&out.stdout));
    let captured: Vec<&str> = r
        .iter()
        .filter(|x| x["action"] == "captured")
        .map(|x| x["post_id"].as_str().unwrap())
        .collect();
    assert_eq!(captured.len(), 3, "{r:?}");
    for n in [5, 4, 3] {
        assert!(captured.contains(&format!("mastodon:{HOST}/{}", id(n)).as_str()));
    }
    assert_eq!(
        srv.hits(&format!(
            "/api/v1/accounts/4242/statuses?limit=40&max_id={}",
            id(2)
        )),
        0,
        "no page beyond what --backfill needs"
    );
    // By 12:10 the account posted three more: [8,7] [6,5] [4,3] ...
    let n: Vec<Vec<u8>> = (6..=8)
        .map(|k| mk(k, &format!("2026-03-01T12:0{}:00.000Z", k - 5)))
        .collect();
    page(&srv, None, &[n[2].clone(), n[1].clone()], Some(&id(7)));
    page(
        &srv,
        Some(&id(7)),
        &[n[0].clone(), p[4].clone()],
        Some(&id(5)),
    );
    page(&srv, Some(&id(5)), &[p[3].clone(), p[2].clone()], None);
    let before5 = srv.hits(&format!("/api/v1/statuses/{}", id(5)));
    let before4 = srv.hits(&format!("/api/v1/statuses/{}", id(4)));
    let r = run_once(&ar, &at(10));
    let captured: Vec<&str> = r
        .iter()
        .filter(|x| x["action"] == "captured")
        .map(|x| x["post_id"].as_str().unwrap())
        .collect();
    assert_eq!(captured.len(), 3, "the burst spans two pages: {r:?}");
    assert_eq!(
        srv.hits(&format!(
            "/api/v1/accounts/4242/statuses?limit=40&max_id={}",
            id(5)
        )),
        0,
        "paging stops at the first known post"
    );
    // Post 5 was on the fresh page: that counts as its check (no request of its own), and
    // its next check moved to the next slot; post 4 (due, not on the pages read) is checked.
    assert_eq!(srv.hits(&format!("/api/v1/statuses/{}", id(5))), before5);
    assert_eq!(
        srv.hits(&format!("/api/v1/statuses/{}", id(4))),
        before4 + 1
    );
    let v5 = show(&ar, &format!("mastodon:{HOST}/{}", id(5)));
    assert_eq!(outcomes(&v5), ["live"]);
    assert_eq!(v5["last_seen_live"], "2026-03-01T12:10:00.000000Z");
    let wl = run_ok(samizdat(&ar).args(["--json", "watch", "list"]));
    let wl = json_lines(&String::from_utf8_lossy(&wl.stdout));
    let row5 = wl
        .iter()
        .find(|w| w["post_id"] == format!("mastodon:{HOST}/{}", id(5)))
        .unwrap();
    assert_eq!(row5["next_due"], "2026-03-01T12:15:00.000000Z", "{row5}");
    // Nothing is captured twice.
    let r = run_once(&ar, &at(30));
    assert!(r.iter().all(|x| x["action"] != "captured"), "{r:?}");
}

#[test]
fn requests_in_flight_stay_within_http_concurrency_across_polls_and_their_captures() {
    let srv = server();
    let (_d, ar) = setup_with(&srv, "concurrency = 2");
    for (a, name) in ["ann", "bob", "cyd"].iter().enumerate() {
        let acct_id = format!("50{a}");
        srv.route(
            &format!("/api/v1/accounts/lookup?acct={name}"),
            Resp::json(format!(
                r#"{{"id":"{acct_id}","username":"{name}","acct":"{name}","url":"https://{HOST}/@{name}"}}"#
            )),
        );
        let mut items = vec![];
        for k in 0..3 {
            let id = format!("1100000000000002{a}{k}");
            let s = status(&id, &format!("{name} {k}"), "2026-03-01T12:05:00.000Z");
            // Slow answers, so captures overlap if nothing holds them back.
            route_status(&srv, &id, Resp::json(s.clone()).delay(150));
            items.push(serde_json::from_slice::<Value>(&s).unwrap());
        }
        srv.route(
            &format!("/api/v1/accounts/{acct_id}/statuses?limit=40"),
            Resp::json(serde_json::to_vec(&items).unwrap()),
        );
        run_ok(sz(&ar, T0).args(["watch", "add", &format!("https://{HOST}/@{name}")]));
    }
    let r = run_once(&ar, &at(10));
    assert_eq!(
        r.iter().filter(|x| x["action"] == "captured").count(),
        9,
        "{r:?}"
    );
    assert!(
        srv.max_in_flight() <= 2,
        "{} requests were in flight at once",
        srv.max_in_flight()
    );
    assert_eq!(srv.max_in_flight(), 2, "two at once were allowed");
}

#[test]
fn sigterm_stops_between_checks_cleanly_and_the_rest_stays_due() {
    let srv = server();
    let (_d, ar) = setup_with(&srv, "concurrency = 1");
    // Slow answers: the batch takes about 3 s, and the signal comes in the middle of it.
    let ids = watched_slow_posts(&srv, &ar, "1100000000000003", 10, 300);
    let before = status_hits(&srv, &ids.iter().map(String::as_str).collect::<Vec<_>>());
    let child = sz(&ar, &at(5))
        .args(["watch", "run"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As soon as the first check has asked, stop it.
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    while status_hits(&srv, &all) == before {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "no check started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("stopped cleanly"), "{err}");
    verify_ok(&ar);
    let asked = status_hits(&srv, &ids.iter().map(String::as_str).collect::<Vec<_>>()) - before;
    assert!(
        (1..ids.len()).contains(&asked),
        "{asked} checks before the stop"
    );
    let st = watch_status(&ar, &at(5));
    assert_eq!(
        st["due"]["posts"],
        (ids.len() - asked) as u64,
        "the rest stays due: {st}"
    );
    // The next start does the rest, each post once.
    run_once(&ar, &at(5));
    for id in &ids {
        let v = show(&ar, &format!("mastodon:{HOST}/{id}"));
        assert_eq!(outcomes(&v), ["live"], "{id}");
    }
}

/// A bad duration is a usage or config error (exit 2) naming the option or key, never a
/// silent zero: on the command line (`--every`) and in the config (`[watch]`).
#[test]
fn a_bad_duration_exits_2_and_names_it() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let id = "110000000000000071";
    live(&srv, id, "hello");
    let (code, out, err) =
        run_code(sz(&ar, T0).args(["watch", "add", &post_url(id), "--every", "5x"]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("--every") && err.contains("5x"), "{err}");
    // Refused before anything was fetched or written.
    assert_eq!(srv.hits(&format!("/api/v1/statuses/{id}")), 0);
    let (code, _, err) = run_code(samizdat(&ar).args(["list", "--since", "yesterday-ish"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--since"), "{err}");

    let cfg = std::fs::read_to_string(ar.join("samizdat.toml")).unwrap();
    for (bad, key) in [
        ("[watch]\nfollow_up = \"soon\"\n", "watch.follow_up"),
        (
            "[watch]\nschedule = [\"5m\", \"an hour\"]\n",
            "watch.schedule",
        ),
        (
            "[timestamp]\ninterval = \"10 parsecs\"\n",
            "timestamp.interval",
        ),
    ] {
        std::fs::write(ar.join("samizdat.toml"), format!("{cfg}\n{bad}")).unwrap();
        let (code, out, err) = run_code(sz(&ar, T0).args(["--json", "watch", "run", "--once"]));
        assert_eq!(code, 2, "{key}: {out}{err}");
        assert!(err.contains(key), "{key}: {err}");
        let e: Value = serde_json::from_str(out.trim()).unwrap();
        assert!(e["error"].as_str().is_some_and(|m| m.contains(key)), "{e}");
    }
    // A bad fixed clock is named too.
    std::fs::write(ar.join("samizdat.toml"), cfg).unwrap();
    let (code, _, err) = run_code(sz(&ar, "next tuesday").args(["watch", "list"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SAMIZDAT_NOW"), "{err}");
}

/// One clock: under `SAMIZDAT_NOW` the file's warcinfo and every record a check writes
/// carry that time. (The exchanges of a first capture, `capture_all`, are still dated
/// by the fetch: the capture room is not on the clock yet.)
#[test]
fn records_written_under_a_fixed_clock_carry_its_time() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let id = "110000000000000072";
    live(&srv, id, "hello");
    run_ok(sz(&ar, T0).args(["watch", "add", &post_url(id)]));
    let before = warc_headers(&ar).len();
    run_once(&ar, &at(5));
    let headers = warc_headers(&ar);
    let date = |h: &String| {
        h.lines()
            .find_map(|l| l.strip_prefix("WARC-Date: "))
            .unwrap_or_else(|| panic!("no date: {h}"))
            .to_string()
    };
    let info: Vec<&String> = headers
        .iter()
        .filter(|h| h.contains("WARC-Type: warcinfo"))
        .collect();
    assert_eq!(info.len(), 1, "{headers:?}");
    assert_eq!(date(info[0]), "2026-03-01T12:00:00.000000Z", "{}", info[0]);
    let checks = &headers[before..];
    assert_eq!(
        checks.len(),
        1,
        "the check record, carrying its exchange (the answer was the capture's): {checks:?}"
    );
    for h in checks {
        assert_eq!(date(h), "2026-03-01T12:05:00.000000Z", "{h}");
    }
    let c = check_bodies(&ar);
    assert_eq!(c[0]["exchange"]["date"], "2026-03-01T12:05:00.000000Z");
    // A changed answer (an edit): the exchange as records, all on the clock too.
    live(&srv, id, "hello, edited");
    let before = warc_headers(&ar).len();
    run_once(&ar, &at(60));
    let checks = &warc_headers(&ar)[before..];
    assert!(
        checks.len() >= 4,
        "a request, its answer, the new post record and the check: {checks:?}"
    );
    for h in checks {
        assert_eq!(date(h), "2026-03-01T13:00:00.000000Z", "{h}");
    }
}

/// `Monitor::run` runs batches until its shutdown future resolves, then stops cleanly
/// (and says so), without a signal.
#[test]
fn the_monitor_runs_until_its_shutdown_future_resolves() {
    use samizdat::capture::{Fetcher, Writer};
    use samizdat::config::Config;
    use samizdat::store::archive::{Archive, layout};
    use samizdat::watch::{Event, Monitor, Watcher};
    let dir = tempdir();
    let ar = dir.path().join("archive");
    let config = Config::default();
    let cfg_path = ar.join("samizdat.toml");
    let archive = Archive::open(&ar, config.clone()).unwrap();
    let fetcher = std::sync::Arc::new(Fetcher::new(&config, &cfg_path).unwrap());
    let (writer, handle) = Writer::start(archive);
    let w = Watcher::new(&config, fetcher, writer, ar.join(layout::INDEX));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = vec![];
    let started = std::time::Instant::now();
    rt.block_on(async {
        let m = Monitor {
            watcher: &w,
            archive: ar.clone(),
            config: config.clone(),
            config_path: cfg_path.clone(),
        };
        let shutdown = tokio::time::sleep(std::time::Duration::from_millis(300));
        m.run(shutdown, |e| {
            seen.push(match e {
                Event::Watching => "watching",
                Event::Batch(_) => "batch",
                Event::Stopped => "stopped",
                _ => "other",
            })
        })
        .await
        .unwrap();
    });
    // The pause between batches is 5 s; the shutdown cut it short.
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(seen, ["watching", "batch", "stopped"]);
    assert!(w.stop.load(std::sync::atomic::Ordering::SeqCst));
    drop(w);
    drop(rt);
    handle.join().unwrap();
}

/// The bytes (WARC files, the index with its WAL folded in, the log) and the records an
/// archive holds.
fn footprint(ar: &Path) -> (u64, u64, u64, u64) {
    fn bytes(p: &Path) -> u64 {
        match std::fs::read_dir(p) {
            Ok(rd) => rd
                .flatten()
                .map(|e| {
                    if e.metadata().unwrap().is_dir() {
                        bytes(&e.path())
                    } else {
                        e.metadata().unwrap().len()
                    }
                })
                .sum(),
            Err(_) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        }
    }
    let ix = ar.join("index.sqlite");
    let conn = rusqlite::Connection::open(&ix).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let leaves: i64 = conn
        .query_row("SELECT coalesce(max(leaf) + 1, 0) FROM records", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(conn);
    let index = bytes(&ix) + bytes(&ar.join("index.sqlite-wal"));
    (
        bytes(&ar.join("warc")),
        index,
        bytes(&ar.join("log")),
        leaves as u64,
    )
}

/// What a routine check costs (issue 13: an identical check was 4.0 KB, the target is under
/// 2 KB). 200 watched posts are checked twice with unchanged answers; the second round's
/// growth of the WARC files, the index and the log, per check, stays within the bound, and
/// each check is one record. The archive still verifies and rebuilds to the same answers.
#[test]
fn an_identical_check_is_one_record_and_costs_less_than_the_bound() {
    /// Bytes per identical check (WARC + index + log): measured 1,352 (848 + 430 + 75) at
    /// 200 posts; before one-record checks and schema 2 it was about 4,000. The index
    /// grows by 4 KiB pages (20 bytes a check here), hence the margin.
    const BOUND: u64 = 1_500;
    const N: usize = 200;
    let srv = server();
    // Checks alone: the comments' own re-reads are measured in `comments::`.
    let (dir, ar) = setup_with(
        &srv,
        "\n[watch]\nbatch = 1000\nhost_budget = 1000\ncomments_every = \"0\"",
    );
    let ids: Vec<String> = (0..N).map(|i| format!("1200000000000{i:05}")).collect();
    let list = dir.path().join("urls.txt");
    let mut text = String::new();
    for (i, id) in ids.iter().enumerate() {
        live(
            &srv,
            id,
            &format!("post {i}: the harbour was closed this morning, more at noon"),
        );
        text += &format!("{}\n", post_url(id));
    }
    std::fs::write(&list, text).unwrap();
    run_ok(
        sz(&ar, T0)
            .args(["--json", "watch", "add", "--from"])
            .arg(&list),
    );
    let first = run_once(&ar, &at(24 * 60));
    assert_eq!(checked(&first).len(), N, "{first:?}");
    let (w0, i0, l0, r0) = footprint(&ar);
    let second = run_once(&ar, &at(2 * 24 * 60));
    let c = checked(&second);
    assert_eq!(c.len(), N, "{second:?}");
    assert!(c.iter().all(|r| r["outcome"] == "live"), "{second:?}");
    let (w1, i1, l1, r1) = footprint(&ar);
    assert_eq!(r1 - r0, N as u64, "one record per identical check");
    let per = |a: u64, b: u64| (a as f64 - b as f64) / N as f64;
    let total = per(w1 + i1 + l1, w0 + i0 + l0);
    eprintln!(
        "an identical check: WARC {:.0} + index {:.0} + log {:.0} = {total:.0} bytes",
        per(w1, w0),
        per(i1, i0),
        per(l1, l0)
    );
    assert!(
        total <= BOUND as f64,
        "an identical check costs {total:.0} bytes (WARC {:.0}, index {:.0}, log {:.0}), over {BOUND}",
        per(w1, w0),
        per(i1, i0),
        per(l1, l0)
    );
    verify_ok(&ar);
    let pid = format!("mastodon:{HOST}/{}", ids[7]);
    let v = show(&ar, &pid);
    assert_eq!(outcomes(&v), ["live", "live"]);
    run_ok(samizdat(&ar).arg("reindex"));
    assert_eq!(show(&ar, &pid), v, "a rebuilt index answers the same");
}
