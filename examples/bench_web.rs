//! Benchmark of `samizdat serve`: search and post-page latency over many synthetic posts.
//!
//! `cargo run --release --example bench_web -- [--posts N] [--samples S] [--archive DIR]`
//!
//! Writes N synthetic posts (default 1,000,000; mixed Chinese and English text) through
//! `Archive::append` in batches (so the index and search tables are the real ones), serves
//! the archive on 127.0.0.1:0, then times S (default 2,000) `/api/search` requests with
//! one- and two-character Chinese and English queries, and S `/posts/{id}` page renders,
//! sequentially over loopback, and the post page's requests/s with 8 concurrent clients.
//! Prints one `name value` line per measurement. `--archive DIR` reuses a built archive;
//! with `--build-only` it is only built there.

use samizdat::config::Config;
use samizdat::model::{Author, Post};
use samizdat::store::archive::Archive;
use samizdat::store::index::PostRecord;
use samizdat::store::warc::{Record, kind, mime};
use std::path::PathBuf;
use std::time::Instant;

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const ZH: &[&str] = &[
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
];
const EN: &[&str] = &[
    "bank",
    "account",
    "frozen",
    "police",
    "call",
    "today",
    "city",
    "news",
    "deleted",
    "friend",
    "reporter",
    "hospital",
    "school",
    "government",
    "notice",
    "video",
    "savings",
    "branch",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let mut posts: u64 = 1_000_000;
    let mut samples: usize = 2_000;
    let mut reuse: Option<PathBuf> = None;
    let mut build_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--posts" => posts = args.next().and_then(|v| v.parse().ok()).expect("--posts N"),
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--samples S")
            }
            "--archive" => reuse = args.next().map(PathBuf::from),
            // Only build the archive at --archive (bench/run.sh's export section uses it).
            "--build-only" => build_only = true,
            _ => panic!("unknown argument {a}"),
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = reuse.unwrap_or_else(|| tmp.path().join("archive"));
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    if !root.join("index.sqlite").exists() {
        let mut a = Archive::open(&root, Config::default()).unwrap();
        let t0 = Instant::now();
        let batch = 10_000u64;
        let mut n = 0;
        while n < posts {
            let mut recs = Vec::with_capacity(batch as usize);
            for i in n..(n + batch).min(posts) {
                let mut p = Post::new(
                    "web",
                    &format!("{i:016x}"),
                    &format!("https://example.org/p/{i}"),
                );
                let zh = i % 2 == 0;
                let words: Vec<&str> = (0..(8 + rng.next() % 24))
                    .map(|_| rng.pick(if zh { ZH } else { EN }))
                    .collect();
                p.text = Some(if zh { words.concat() } else { words.join(" ") });
                p.author = Some(Author {
                    id: Some(format!("u{}", i % 5000)),
                    name: Some(format!("user {}", i % 5000)),
                    ..Default::default()
                });
                let pr = PostRecord {
                    samizdat: "post/1".into(),
                    post: p.clone(),
                    requested_url: p.url.clone(),
                    record_ids: vec![],
                    render: None,
                };
                recs.push(Record::build(
                    kind::RESOURCE,
                    "2026-01-01T00:00:00Z",
                    Some(&format!("urn:samizdat:post:{}", p.id.0)),
                    mime::POST,
                    vec![],
                    serde_json::to_vec(&pr).unwrap(),
                ));
            }
            a.append(recs).unwrap();
            n = (n + batch).min(posts);
            eprintln!("[bench_web] {n} posts written");
        }
        println!(
            "build_posts_per_s {:.0}",
            posts as f64 / t0.elapsed().as_secs_f64()
        );
    }

    if build_only {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let r2 = root.clone();
        let server = tokio::spawn(async move {
            samizdat::web::serve(
                r2.clone(),
                Config::default(),
                r2.join("samizdat.toml"),
                listener,
                async {
                    let _ = rx.await;
                },
            )
            .await
            .unwrap()
        });
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let queries: Vec<&str> = [
            "冻结",
            "卡",
            "反诈",
            "银行卡",
            "警察",
            "bank",
            "frozen savings",
            "user 42",
            "北京 news",
        ]
        .to_vec();
        let mut lat = vec![];
        for i in 0..samples {
            let q = queries[i % queries.len()];
            let url = format!(
                "{base}/api/search?q={}",
                url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            );
            let t = Instant::now();
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("search_p50_ms {:.2}", percentile(&lat, 0.5));
        println!("search_p95_ms {:.2}", percentile(&lat, 0.95));

        let mut rng = XorShift(42);
        let id = |r: &mut XorShift| format!("web%3A{:016x}", r.next() % posts);
        let mut lat = vec![];
        for _ in 0..samples {
            let url = format!("{base}/posts/{}", id(&mut rng));
            let t = Instant::now();
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            let _ = r.bytes().await.unwrap();
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("post_page_p50_ms {:.2}", percentile(&lat, 0.5));
        println!("post_page_p95_ms {:.2}", percentile(&lat, 0.95));

        let t = Instant::now();
        let mut tasks = vec![];
        for w in 0..8u64 {
            let (c, b) = (client.clone(), base.clone());
            let n = samples / 8;
            tasks.push(tokio::spawn(async move {
                let mut r = XorShift(w + 7);
                for _ in 0..n {
                    let url = format!("{b}/posts/web%3A{:016x}", r.next() % posts);
                    let _ = c.get(&url).send().await.unwrap().bytes().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        println!(
            "post_page_req_per_s {:.0}",
            (samples / 8 * 8) as f64 / t.elapsed().as_secs_f64()
        );
        let _ = tx.send(());
        server.await.unwrap();
    });
}
