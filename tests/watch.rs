//! `watch` end to end through the real CLI: a loopback server plays a Mastodon instance
//! (`[http.hosts]` sends mastodon.social to it), its answers change between runs with
//! `srv.route`, and the clock moves with `SAMIZDAT_NOW`, so nothing sleeps.

mod common;

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
    let r = run_once(&ar, &at(5));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["outcome"], "live");
    // The same answer again: stored as a revisit record.
    let r = run_once(&ar, &at(15));
    assert_eq!(r[0]["outcome"], "live");
    let revisits: Vec<String> = warc_headers(&ar)
        .into_iter()
        .filter(|h| h.contains("WARC-Type: revisit"))
        .collect();
    assert_eq!(revisits.len(), 1, "one identical answer, one revisit");
    assert!(revisits[0].contains("identical-payload-digest"));
    assert!(revisits[0].contains("WARC-Refers-To: <urn:uuid:"));

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

#[test]
fn verify_passes_after_watch_run_is_killed_and_restarted() {
    let srv = server();
    let (_d, ar) = setup(&srv);
    let ids: Vec<String> = (0..12).map(|i| format!("1100000000000001{i:02}")).collect();
    for id in &ids {
        live(&srv, id, &format!("post {id}"));
    }
    let urls: Vec<String> = ids.iter().map(|i| post_url(i)).collect();
    run_ok(sz(&ar, T0).args(["watch", "add"]).args(&urls));
    let mut child = sz(&ar, &at(5))
        .args(["watch", "run"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    run_once(&ar, &at(5));
    verify_ok(&ar);
    // Nothing was checked twice for one due time, and every post got its check.
    for id in &ids {
        let v = show(&ar, &format!("mastodon:{HOST}/{id}"));
        assert_eq!(outcomes(&v), ["live"], "{id}");
    }
}
