//! Benchmark of `samizdat watch`: checks per second, peak RSS and bytes added per check.
//!
//! `cargo run --release --example bench_watch -- [--posts N] [--accounts A] [--concurrency C]
//!  [--bin PATH] [--work DIR] [--warc-max-bytes B] [--seed-only] [--serve-only PORT]`
//!
//! Defaults: 100,000 posts, 1,000 accounts (or `BENCH_WATCH_POSTS`, `BENCH_WATCH_ACCOUNTS`),
//! `http.concurrency` 32, the binary `target/release/samizdat`, a temporary work dir
//! (removed at the end unless `--work`), the default `[storage] warc_max_bytes` (1 GiB)
//! unless `--warc-max-bytes` (or `BENCH_WATCH_WARC_MAX_BYTES`) says otherwise.
//! `BENCH_WATCH_WRAP="perf record -g -o /tmp/{round}.perf --"` runs each round's CLI under
//! another tool as well.
//!
//! # The fixture server
//!
//! A loopback HTTP/1.1 server (hyper, one thread) plays `m.weibo.cn` (the archive's
//! `[http.hosts]` sends the host to it). It answers, with deterministic compact JSON of
//! about 2 KB per post (no pictures: no media requests):
//!
//! - `/statuses/show?id=<mid>`: the post (what a check asks; a capture too);
//! - `/detail/<mid>`: the page with `$render_data` (what a capture asks next);
//! - `/api/container/getIndex?containerid=107603<uid>`: an account's timeline of 10 posts,
//!   the 3 newest of them published after the account was added (new since the last
//!   poll, so they are captured and watched), the 7 others watched posts of the archive.
//!
//! Post `j` (`mid = 5100000000000000 + j`) belongs to account `j % A`; posts
//! `N .. N + 3A` are the accounts' new ones. The reposts / comments / likes counts depend on
//! a generation number (`/__bench/gen?set=G`, or set in-process between rounds): a new
//! generation changes every post's counts and nothing else (not an edit).
//!
//! # Seeding (through the library, not the CLI)
//!
//! `samizdat watch add` / `capture --from FILE --watch` capture one URL after another, each
//! with its own fsync, which is far too slow for 100,000 posts. The archive is seeded
//! instead (1) with `capture::capture_all` (the real capture path: statuses/show and the
//! detail page of every post, `http.concurrency` at once, group commit), then (2) with
//! `watch/1` `add` records appended through `Archive::append` in batches of 10,000, built
//! exactly as `Watcher::add` builds them (same JSON, same `urn:samizdat:watch:<url>`
//! target, `next_check` from `watch::next_check`). The accounts are added the same way with
//! `every = "30d"`, so that they are polled only in the poll round below.
//!
//! # The rounds (the real CLI, `samizdat --json watch run --once`, under `/usr/bin/time -v`)
//!
//! The clock is simulated with `SAMIZDAT_NOW` (T0 = 2026-01-01T00:00:00Z, the seed time),
//! `[watch] batch` holds everything, `per_host_delay_ms = 0` (politeness off); comments
//! are off (`[capture] comments = 0`, `[watch] comments_every = "0"`): this measures
//! checks and polls (bench/run.sh h) measures comments).
//!
//! 1. `poll` at T0+1m: only the 1,000 accounts are due: 1,000 timeline requests, 7,000
//!    known posts seen live in them, 3,000 new posts captured and watched.
//! 2. `first` at T0+1d: every post's first check; the answer equals the capture's
//!    response, so each is already an identical check: one check record carrying its
//!    exchange (docs/states.md "A check").
//! 3. `identical` at T0+2d: the same answers again (the posts due by then).
//! 4. `changed` at T0+3d, next generation: every post's counts changed.
//!
//! For each round: wall time, checks (reports with action `checked`), checks/s, peak RSS,
//! records added, and the bytes the archive grew by, per check: WARC files, the index
//! (`index.sqlite` after a `wal_checkpoint(TRUNCATE)`, so the WAL is folded in), and the log
//! (tree hashes, checkpoints). Prints `name value` lines on stdout; progress on stderr.
//!
//! # Measured (2 shared cores, 2026-11-26, commit ef03c2f, 100,000 posts / 1,000 accounts)
//!
//! Peak RSS 107 MB. Bytes per identical check 5,291 (WARC 2,287 + index 2,725 + log 279;
//! target < 2 KB missed), per changed check 6,349. With the default 1 GiB WARC files the
//! archive rotates to its second file during the first check round, and from then on every
//! append batch pays a full scan of `records` in `Index::warcinfo_of` (no index on
//! `file`): 20-25 ms per batch becomes 210-290 ms, 560 checks/s becomes 70. With
//! `--warc-max-bytes 68719476736` (no rotation): 558-571 checks/s, 1,000 polls in 13 s.
//!
//! Since index schema 2 and one-record identical checks (2026-12-02, release build, 20,000
//! posts / 200 accounts, `--warc-max-bytes 68719476736`, a busy machine): an identical check
//! adds 1 record and 1,413 bytes in round `first` (WARC 964 + index 377 + log 72; 19,200
//! checks, 1,058 checks/s) and 1,381 in round `identical` (WARC 952 + index 362 + log 67;
//! 600 checks); a changed one is still 3 records, 4,056 bytes. Peak RSS 73 MB. A file's
//! warcinfo is found by a partial index, so rotation no longer makes every append scan
//! `records`. Not yet measured at 100,000 posts (the seed alone ran at 91 captures/s).

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use samizdat::capture::{self, CaptureOptions, Fetcher, Writer};
use samizdat::config::Config;
use samizdat::store::archive::Archive;
use samizdat::store::index::WatchRecord;
use samizdat::store::warc::{self, Record, kind, mime};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const MID_BASE: u64 = 5_100_000_000_000_000;
const UID_BASE: u64 = 7_000_000_000;
const NEW_PER_ACCOUNT: u64 = 3;
const KNOWN_PER_TIMELINE: u64 = 7;
const T0: &str = "2026-01-01T00:00:00Z";
const ACCOUNT_EVERY: &str = "30d";

// ---------------------------------------------------------------------------------------
// The fixture

struct Fixture {
    posts: u64,
    accounts: u64,
    generation: AtomicU64,
    requests: AtomicU64,
}

const WORDS: &[&str] = &[
    "反诈中心",
    "冻结",
    "银行卡",
    "工资",
    "调查",
    "警察",
    "电话",
    "我们",
    "今天",
    "北京",
    "上海",
    "新闻",
    "删除",
    "微博",
    "朋友",
    "记者",
    "医院",
    "学校",
    "城市",
    "政府",
    "通知",
    "视频",
    "，",
    "。",
    "！",
];

fn t0() -> jiff::Timestamp {
    T0.parse().unwrap()
}

fn plus(t: jiff::Timestamp, secs: i64) -> jiff::Timestamp {
    t + jiff::SignedDuration::from_secs(secs)
}

impl Fixture {
    fn total(&self) -> u64 {
        self.posts + self.accounts * NEW_PER_ACCOUNT
    }
    fn account_of(&self, j: u64) -> u64 {
        if j < self.posts {
            j % self.accounts
        } else {
            (j - self.posts) / NEW_PER_ACCOUNT
        }
    }
    fn uid(&self, j: u64) -> u64 {
        UID_BASE + self.account_of(j)
    }
    /// Seeded posts are older than T0 (the newest one hour before it); new posts are 30 s
    /// and more after it.
    fn created(&self, j: u64) -> jiff::Timestamp {
        if j < self.posts {
            plus(t0(), -3600 - (self.posts - j) as i64)
        } else {
            plus(t0(), 30 + ((j - self.posts) % NEW_PER_ACCOUNT) as i64)
        }
    }
    /// The post's canonical URL, `https://weibo.com/<uid>/<bid>` (what a capture stores).
    fn url(&self, j: u64) -> String {
        let mid = (MID_BASE + j).to_string();
        format!(
            "https://weibo.com/{}/{}",
            self.uid(j),
            samizdat::platforms::weibo::mid_to_bid(&mid).unwrap()
        )
    }

    fn mblog(&self, j: u64, generation: u64) -> Value {
        let mid = (MID_BASE + j).to_string();
        let u = self.account_of(j);
        let uid = UID_BASE + u;
        let mut x = j.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut text = String::new();
        for _ in 0..48 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
        }
        text.push_str(&format!(" #{j}"));
        let created = self
            .created(j)
            .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .strftime("%a %b %d %H:%M:%S %z %Y")
            .to_string();
        let g = generation;
        json!({
            "visible": {"type": 0, "list_id": 0},
            "created_at": created,
            "id": mid,
            "mid": mid,
            "can_edit": false,
            "show_additional_indication": 0,
            "text": text,
            "textLength": text.len(),
            "source": "微博 weibo.com",
            "favorited": false,
            "pic_ids": [],
            "pic_types": "",
            "is_paid": false,
            "mblog_vip_type": 0,
            "user": {
                "id": uid,
                "screen_name": format!("用户{u}"),
                "profile_image_url": format!("https://tvax1.sinaimg.cn/crop.0.0.512.512.180/{uid:x}ly8gdj05mufr9j30e80e8q3b.jpg?KID=imgbed,tva&Expires=1767225600&ssig=abcdEFGH12"),
                "profile_url": format!("https://m.weibo.cn/u/{uid}?uid={uid}&luicode=10000011&lfid=107603{uid}"),
                "statuses_count": 1000 + u,
                "verified": u.is_multiple_of(3),
                "verified_type": -1,
                "close_blue_v": false,
                "description": "这是一个用于基准测试的账号，它的微博都是生成的。",
                "gender": if u.is_multiple_of(2) { "f" } else { "m" },
                "mbtype": 0,
                "urank": 10,
                "mbrank": 0,
                "follow_me": false,
                "following": false,
                "followers_count": 1000 + u * 37,
                "follow_count": 100 + u % 50,
                "cover_image_phone": "https://tva1.sinaimg.cn/crop.0.0.640.640.640/549d0121tw1egm1kjly3jj20hs0hsq4f.jpg",
                "avatar_hd": format!("https://wx1.sinaimg.cn/orj480/{uid:x}ly8gdj05mufr9j30e80e8q3b.jpg"),
                "like": false,
                "like_me": false,
                "badge": {"user_name_certificate": 1}
            },
            "picStatus": "",
            "reposts_count": (j * 7) % 1000 + g,
            "comments_count": (j * 13) % 500 + g,
            "attitudes_count": (j * 31) % 10_000 + 3 * g,
            "pending_approval_count": 0,
            "isLongText": false,
            "reward_exhibition_type": 0,
            "hide_flag": 0,
            "mlevel": 0,
            "darwin_tags": [],
            "mblogtype": 0,
            "rid": format!("0_0_50_{}_0_0_0", x % 10_000_000_000),
            "more_info_type": 0,
            "extern_safe": 0,
            "number_display_strategy": {
                "apply_scenario_flag": 3,
                "display_text_min_number": 1_000_000,
                "display_text": "100万+"
            },
            "enable_comment_guide": true,
            "content_auth": 0,
            "pic_num": 0,
            "alchemy_params": {"ug_red_envelope": false},
            "region_name": "发布于 北京",
            "bid": samizdat::platforms::weibo::mid_to_bid(&mid),
        })
    }

    fn timeline(&self, u: u64, generation: u64) -> Value {
        let mut ids: Vec<u64> = (0..NEW_PER_ACCOUNT)
            .rev()
            .map(|k| self.posts + u * NEW_PER_ACCOUNT + k)
            .collect();
        if u < self.posts {
            let mut j = u + ((self.posts - 1 - u) / self.accounts) * self.accounts;
            for _ in 0..KNOWN_PER_TIMELINE {
                ids.push(j);
                if j < self.accounts {
                    break;
                }
                j -= self.accounts;
            }
        }
        let uid = UID_BASE + u;
        let cards: Vec<Value> = ids
            .iter()
            .map(|&j| {
                let mid = MID_BASE + j;
                json!({
                    "card_type": 9,
                    "itemid": format!("107603{uid}_-_{mid}"),
                    "scheme": format!("https://m.weibo.cn/status/{mid}?mblogid={mid}&luicode=10000011&lfid=107603{uid}"),
                    "mblog": self.mblog(j, generation),
                })
            })
            .collect();
        json!({"ok": 1, "data": {
            "cardlistInfo": {"containerid": format!("107603{uid}"), "v_p": 42, "show_style": 1,
                             "total": 1000 + u, "since_id": MID_BASE + ids.last().copied().unwrap_or(0)},
            "cards": cards,
            "scheme": format!("sinaweibo://cardlist?containerid=107603{uid}"),
            "showAppTips": 0
        }})
    }

    fn answer(&self, path: &str, query: &str) -> (u16, &'static str, Vec<u8>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let g = self.generation.load(Ordering::Relaxed);
        let param = |k: &str| {
            url::form_urlencoded::parse(query.as_bytes())
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        let post = |v: Option<String>| {
            v.and_then(|s| s.parse::<u64>().ok())
                .and_then(|m| m.checked_sub(MID_BASE))
                .filter(|j| *j < self.total())
        };
        const JSON: &str = "application/json; charset=utf-8";
        let not_there = || {
            (
                200,
                JSON,
                br#"{"ok":0,"msg":"\u8fd9\u91cc\u8fd8\u6ca1\u6709\u5185\u5bb9"}"#.to_vec(),
            )
        };
        match path {
            "/statuses/show" => match post(param("id")) {
                Some(j) => (
                    200,
                    JSON,
                    serde_json::to_vec(&json!({"ok": 1, "data": self.mblog(j, g)})).unwrap(),
                ),
                None => not_there(),
            },
            "/api/container/getIndex" => {
                let u = param("containerid")
                    .and_then(|c| c.strip_prefix("107603").map(str::to_string))
                    .and_then(|s| s.parse::<u64>().ok())
                    .and_then(|uid| uid.checked_sub(UID_BASE))
                    .filter(|u| *u < self.accounts);
                match u {
                    Some(u) => (200, JSON, serde_json::to_vec(&self.timeline(u, g)).unwrap()),
                    None => not_there(),
                }
            }
            "/__bench/gen" => {
                if let Some(v) = param("set").and_then(|s| s.parse().ok()) {
                    self.generation.store(v, Ordering::SeqCst);
                }
                (
                    200,
                    "text/plain",
                    format!("{}\n", self.generation.load(Ordering::SeqCst)).into_bytes(),
                )
            }
            p => match p
                .strip_prefix("/detail/")
                .map(|m| post(Some(m.to_string())))
            {
                Some(Some(j)) => {
                    let status = json!([{"status": self.mblog(j, g), "call": "1"}]);
                    let html = format!(
                        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
                         <title>微博正文 - 微博HTML5版</title>\n</head>\n<body>\n<div id=\"app\"></div>\n\
                         <script>\nvar $render_data = {status}[0] || {{}};\n</script>\n</body>\n</html>\n"
                    );
                    (200, "text/html; charset=utf-8", html.into_bytes())
                }
                _ => (404, "text/plain", b"not found\n".to_vec()),
            },
        }
    }
}

/// Serves the fixture on `listener` on a thread of its own (one core at most).
fn serve(fx: Arc<Fixture>, listener: std::net::TcpListener) {
    listener.set_nonblocking(true).unwrap();
    std::thread::Builder::new()
        .name("fixture".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let fx = fx.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req: Request<Incoming>| {
                            let fx = fx.clone();
                            async move {
                                let (status, ct, body) =
                                    fx.answer(req.uri().path(), req.uri().query().unwrap_or(""));
                                let _ = req.into_body().collect().await;
                                Ok::<_, Infallible>(
                                    Response::builder()
                                        .status(status)
                                        .header("Content-Type", ct)
                                        .header("Server", "bench-fixture")
                                        .header("Cache-Control", "no-cache")
                                        .body(Full::new(Bytes::from(body)))
                                        .unwrap(),
                                )
                            }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            });
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// The archive

fn write_config(root: &Path, port: u16, concurrency: usize, warc_max_bytes: Option<u64>) {
    std::fs::create_dir_all(root).unwrap();
    let storage = warc_max_bytes
        .map(|b| format!("\n[storage]\nwarc_max_bytes = {b}\n"))
        .unwrap_or_default();
    std::fs::write(
        root.join("samizdat.toml"),
        format!(
            "[http]\nconcurrency = {concurrency}\nper_host_delay_ms = 0\ntimeout_ms = 60000\nmax_retries = 0\n\n\
             [http.hosts]\n\"m.weibo.cn\" = \"http://127.0.0.1:{port}\"\n\n\
             [capture]\ncomments = 0\n\n[watch]\nbatch = 100000000\ncomments_every = \"0\"\n{storage}"
        ),
    )
    .unwrap();
}

fn watch_record(w: &WatchRecord, date: &str) -> Record {
    // As `watch::watch_record` builds it.
    Record::build(
        kind::RESOURCE,
        date,
        Some(&format!("urn:samizdat:watch:{}", w.url)),
        mime::WATCH,
        vec![],
        serde_json::to_vec(w).expect("watch records serialise"),
    )
}

fn seed(root: &Path, fx: &Fixture, concurrency: usize) {
    let cfg_path = root.join("samizdat.toml");
    let config = Config::load(&cfg_path).unwrap();
    let urls: Vec<String> = (0..fx.posts).map(|j| fx.url(j)).collect();

    // 1) Capture every post through the library's capture path.
    let t = Instant::now();
    let fetcher = Arc::new(Fetcher::new(&config, &cfg_path).unwrap());
    let archive = Archive::open(root, config.clone()).unwrap();
    let (writer, handle) = Writer::start(archive);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut done = 0u64;
    let mut failed = 0u64;
    let results = rt.block_on(capture::capture_all(
        urls.clone(),
        &CaptureOptions {
            no_media: true,
            ..Default::default()
        },
        fetcher,
        writer,
        concurrency,
        |r| {
            done += 1;
            if !r.ok() {
                failed += 1;
                if failed <= 3 {
                    eprintln!("[bench_watch] capture failed: {} {:?}", r.url, r.error);
                }
            }
            if done.is_multiple_of(10_000) {
                eprintln!("[bench_watch] captured {done}");
            }
        },
    ));
    drop(rt);
    handle.join().unwrap();
    assert_eq!(failed, 0, "seeding captures failed");
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "[bench_watch] seeded {} captures in {secs:.1} s",
        results.len()
    );
    println!("seed_captures_per_s {:.0}", fx.posts as f64 / secs);

    // 2) The watchlist: one `add` record per post and per account, as `Watcher::add` writes.
    let t = Instant::now();
    let mut a = Archive::open(root, config.clone()).unwrap();
    let n = t0();
    let date = warc::warc_date(n);
    let next = warc::warc_date(samizdat::watch::next_check(&config.watch, n, n, None));
    let mut batch = vec![];
    for (j, r) in results.iter().enumerate() {
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "add".into(),
            url: urls[j].clone(),
            kind: "post".into(),
            every: None,
            backfill: None,
            post_id: r.post_id.clone(),
            via: None,
            at: Some(date.clone()),
            next_check: Some(next.clone()),
            error: None,
            record_ids: vec![],
            ..Default::default()
        };
        batch.push(watch_record(&w, &date));
        if batch.len() == 10_000 {
            a.append(std::mem::take(&mut batch)).unwrap();
        }
    }
    for u in 0..fx.accounts {
        let w = WatchRecord {
            samizdat: "watch/1".into(),
            action: "add".into(),
            url: format!("https://weibo.com/u/{}", UID_BASE + u),
            kind: "account".into(),
            every: Some(ACCOUNT_EVERY.into()),
            backfill: None,
            post_id: None,
            via: None,
            at: Some(date.clone()),
            next_check: Some(date.clone()),
            error: None,
            record_ids: vec![],
            ..Default::default()
        };
        batch.push(watch_record(&w, &date));
    }
    a.append(batch).unwrap();
    drop(a);
    eprintln!(
        "[bench_watch] watchlist of {} posts and {} accounts written in {:.1} s",
        fx.posts,
        fx.accounts,
        t.elapsed().as_secs_f64()
    );
}

/// Archive bytes by part.
#[derive(Debug, Clone, Copy, Default)]
struct Sizes {
    warc: u64,
    index: u64,
    log: u64,
    other: u64,
    leaves: u64,
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    };
    rd.flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                dir_bytes(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

/// Folds the WAL into the database first, so `index` is the index's real size.
fn sizes(root: &Path) -> Sizes {
    let ix = root.join("index.sqlite");
    let conn = rusqlite::Connection::open(&ix).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let leaves: i64 = conn
        .query_row("SELECT coalesce(MAX(leaf) + 1, 0) FROM records", [], |r| {
            r.get(0)
        })
        .unwrap();
    drop(conn);
    let warc = dir_bytes(&root.join("warc"));
    let index = std::fs::metadata(&ix).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(root.join("index.sqlite-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    let log = dir_bytes(&root.join("log"));
    let all = dir_bytes(root);
    let shm = std::fs::metadata(root.join("index.sqlite-shm"))
        .map(|m| m.len())
        .unwrap_or(0);
    Sizes {
        warc,
        index,
        log,
        other: all - warc - index - log - shm,
        leaves: leaves as u64,
    }
}

struct RoundResult {
    wall: f64,
    /// The CLI's exit code, or 128 + the signal that ended it (only 0 is a complete round).
    exit: i32,
    rss_mb: Option<f64>,
    actions: BTreeMap<String, u64>,
    outcomes: BTreeMap<String, u64>,
    before: Sizes,
    after: Sizes,
}

fn run_round(bin: &Path, root: &Path, work: &Path, name: &str, now: &str) -> RoundResult {
    let before = sizes(root);
    let out = work.join(format!("round-{name}.jsonl"));
    let time_out = work.join(format!("round-{name}.time"));
    let err = work.join(format!("round-{name}.err"));
    let have_time = Path::new("/usr/bin/time").exists();
    // BENCH_WATCH_WRAP="perf record -g -o FILE --" runs the CLI under another tool too.
    let wrap: Vec<String> = std::env::var("BENCH_WATCH_WRAP")
        .map(|w| w.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let mut argv: Vec<std::ffi::OsString> = vec![];
    if have_time {
        argv.extend([
            "/usr/bin/time".into(),
            "-v".into(),
            "-o".into(),
            time_out.clone().into(),
        ]);
    }
    argv.extend(wrap.iter().map(|w| w.replace("{round}", name).into()));
    argv.push(bin.into());
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd.arg("--archive")
        .arg(root)
        .args(["--json", "watch", "run", "--once"])
        .env("SAMIZDAT_NOW", now)
        .env("SAMIZDAT_LOG", "samizdat=debug")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    eprintln!("[bench_watch] round {name}: SAMIZDAT_NOW={now} samizdat watch run --once");
    let t = Instant::now();
    let status = cmd.status().unwrap();
    let wall = t.elapsed().as_secs_f64();
    let mut actions = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    for line in std::fs::read_to_string(&out).unwrap().lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        *actions
            .entry(v["action"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
        if let Some(o) = v["outcome"].as_str() {
            *outcomes.entry(o.to_string()).or_insert(0) += 1;
        }
        if v["action"] == "failed" && actions["failed"] <= 3 {
            eprintln!("[bench_watch]   failed: {line}");
        }
    }
    if !status.success() {
        eprintln!(
            "[bench_watch] round {name}: exit {status}; stderr tail:\n{}",
            std::fs::read_to_string(&err)
                .unwrap_or_default()
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let rss_mb = std::fs::read_to_string(&time_out).ok().and_then(|t| {
        t.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    });
    let after = sizes(root);
    eprintln!(
        "[bench_watch] round {name}: {wall:.1} s, actions {actions:?}, outcomes {outcomes:?}"
    );
    use std::os::unix::process::ExitStatusExt;
    RoundResult {
        wall,
        exit: status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)),
        rss_mb,
        actions,
        outcomes,
        before,
        after,
    }
}

/// Sum of the writer thread's batch times from the debug log ("appended N captures, M
/// records in 12.3ms").
fn writer_secs(work: &Path, name: &str) -> (f64, u64) {
    let text = std::fs::read_to_string(work.join(format!("round-{name}.err"))).unwrap_or_default();
    let mut total = 0.0;
    let mut batches = 0;
    for l in text.lines() {
        let Some(rest) = l.split(" records in ").nth(1) else {
            continue;
        };
        let d = rest.trim();
        let secs = if let Some(v) = d.strip_suffix("ms") {
            v.parse::<f64>().ok().map(|v| v / 1e3)
        } else if let Some(v) = d.strip_suffix("µs") {
            v.parse::<f64>().ok().map(|v| v / 1e6)
        } else if let Some(v) = d.strip_suffix("ns") {
            v.parse::<f64>().ok().map(|v| v / 1e9)
        } else if let Some(v) = d.strip_suffix('s') {
            v.parse::<f64>().ok()
        } else {
            None
        };
        if let Some(s) = secs {
            total += s;
            batches += 1;
        }
    }
    (total, batches)
}

fn report(name: &str, r: &RoundResult, work: &Path) {
    let checks = r.actions.get("checked").copied().unwrap_or(0);
    let polls = r.actions.get("polled").copied().unwrap_or(0);
    let per = |d: u64| {
        if checks > 0 {
            d as f64 / checks as f64
        } else {
            0.0
        }
    };
    let (b, a) = (r.before, r.after);
    let p = |k: &str, v: String| println!("watch_{name}_{k} {v}");
    p("wall_s", format!("{:.2}", r.wall));
    p("exit", r.exit.to_string());
    p("checks", checks.to_string());
    if name == "poll" {
        p("polls", polls.to_string());
        p("polls_per_s", format!("{:.1}", polls as f64 / r.wall));
        let captured = r.actions.get("captured").copied().unwrap_or(0);
        p("captured", captured.to_string());
    } else {
        p("checks_per_s", format!("{:.1}", checks as f64 / r.wall));
    }
    p(
        "failed",
        r.actions.get("failed").copied().unwrap_or(0).to_string(),
    );
    for (o, n) in &r.outcomes {
        p(&format!("outcome_{o}"), n.to_string());
    }
    if let Some(rss) = r.rss_mb {
        p("peak_rss_mb", format!("{rss:.1}"));
    }
    p("records", (a.leaves - b.leaves).to_string());
    p("warc_bytes", (a.warc - b.warc).to_string());
    p("index_bytes", (a.index as i64 - b.index as i64).to_string());
    p("log_bytes", (a.log - b.log).to_string());
    if checks > 0 {
        p(
            "records_per_check",
            format!("{:.2}", per(a.leaves - b.leaves)),
        );
        p(
            "warc_bytes_per_check",
            format!("{:.0}", per(a.warc - b.warc)),
        );
        p(
            "index_bytes_per_check",
            format!("{:.0}", (a.index as f64 - b.index as f64) / checks as f64),
        );
        p("log_bytes_per_check", format!("{:.0}", per(a.log - b.log)));
        p(
            "total_bytes_per_check",
            format!(
                "{:.0}",
                ((a.warc + a.index + a.log + a.other) as f64
                    - (b.warc + b.index + b.log + b.other) as f64)
                    / checks as f64
            ),
        );
    }
    let (ws, wb) = writer_secs(work, name);
    if wb > 0 {
        p("writer_busy_s", format!("{ws:.2}"));
        p("writer_batches", wb.to_string());
    }
}

fn main() {
    let mut posts: u64 = std::env::var("BENCH_WATCH_POSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut accounts: u64 = std::env::var("BENCH_WATCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let mut concurrency: usize = 32;
    let mut bin = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/release/samizdat"
    ));
    let mut work: Option<PathBuf> = None;
    let mut seed_only = false;
    let mut serve_only: Option<u16> = None;
    let mut warc_max_bytes: Option<u64> = std::env::var("BENCH_WATCH_WARC_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--posts" => posts = val().parse().expect("--posts N"),
            "--accounts" => accounts = val().parse().expect("--accounts A"),
            "--concurrency" => concurrency = val().parse().expect("--concurrency C"),
            "--bin" => bin = PathBuf::from(val()),
            "--work" => work = Some(PathBuf::from(val())),
            "--seed-only" => seed_only = true,
            "--warc-max-bytes" => warc_max_bytes = Some(val().parse().expect("--warc-max-bytes B")),
            "--serve-only" => serve_only = Some(val().parse().expect("--serve-only PORT")),
            _ => panic!("unknown argument {a}"),
        }
    }
    assert!(accounts >= 1 && posts >= 1);
    // The clock of the seed (captures and watch records): T0. Set before any thread starts.
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("SAMIZDAT_NOW", T0) };

    let fx = Arc::new(Fixture {
        posts,
        accounts,
        generation: AtomicU64::new(0),
        requests: AtomicU64::new(0),
    });
    let listener = std::net::TcpListener::bind(("127.0.0.1", serve_only.unwrap_or(0))).unwrap();
    let port = listener.local_addr().unwrap().port();
    serve(fx.clone(), listener);
    if serve_only.is_some() {
        eprintln!(
            "[bench_watch] fixture for {posts} posts / {accounts} accounts on http://127.0.0.1:{port} \
             (generation: /__bench/gen?set=G); Ctrl-C stops"
        );
        loop {
            std::thread::park();
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let work = work.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&work).unwrap();
    let root = work.join("archive");
    assert!(
        !root.join("index.sqlite").exists(),
        "{} holds an archive already: give a fresh --work",
        root.display()
    );
    write_config(&root, port, concurrency, warc_max_bytes);
    eprintln!(
        "[bench_watch] {posts} posts, {accounts} accounts, concurrency {concurrency}, fixture on port {port}, work {}",
        work.display()
    );
    println!("watch_posts {posts}");
    println!("watch_accounts {accounts}");
    println!("watch_concurrency {concurrency}");
    println!(
        "watch_warc_max_bytes {}",
        warc_max_bytes.unwrap_or(Config::default().storage.warc_max_bytes)
    );
    let started = Instant::now();
    seed(&root, &fx, concurrency);
    let s = sizes(&root);
    println!(
        "seed_archive_mb {:.1}",
        (s.warc + s.index + s.log) as f64 / 1e6
    );
    if seed_only {
        eprintln!("[bench_watch] seeded archive at {}", root.display());
        return;
    }
    assert!(
        bin.exists(),
        "no samizdat binary at {}: build it or pass --bin",
        bin.display()
    );

    let at = |secs: i64| plus(t0(), secs).to_string();
    let rounds: [(&str, i64, u64); 4] = [
        ("poll", 60, 0),
        ("first", 86_400, 0),
        ("identical", 2 * 86_400, 0),
        ("changed", 3 * 86_400, 1),
    ];
    for (name, offset, generation) in rounds {
        fx.generation.store(generation, Ordering::SeqCst);
        let r = run_round(&bin, &root, &work, name, &at(offset));
        report(name, &r, &work);
    }
    println!("fixture_requests {}", fx.requests.load(Ordering::Relaxed));
    println!("total_s {:.1}", started.elapsed().as_secs_f64());
}
