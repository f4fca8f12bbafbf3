//! Issue 11, resources on the capture side: what one hostile URL can cost `samizdat
//! capture`. Each test runs the real binary against a loopback server local to this file
//! that generates its answers on the fly (a 256 MiB page, gzip/brotli/nested-encoding
//! bombs, pages nested 20,000 and 100,000 levels deep), measures the capture's peak RSS
//! (`VmHWM` from /proc, polled while it runs), and checks what was archived: the body
//! whole (its digest is the one of what was sent), the post record saying what was
//! bounded, `verify` clean and `show` working.

use crate::common;

use bytes::Bytes;
use common::*;
use http_body_util::{BodyExt, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The capture of any single URL stays below this (issue 11 target).
const RSS_LIMIT_KB: u64 = 150 * 1024;

/// The big page: exactly the default `http.max_body_bytes` (256 MiB), so it is archived
/// whole.
const BIG_LEN: usize = 256 << 20;
const CHUNK: usize = 64 << 10;

/// The chunks of the big page: a first one with the page's head, then one filler chunk
/// of paragraphs repeated. Nothing but these two chunks is ever held in memory.
fn big_chunks() -> &'static (Bytes, Bytes) {
    static C: OnceLock<(Bytes, Bytes)> = OnceLock::new();
    C.get_or_init(|| {
        let para = b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.</p>\n";
        let fill = |mut v: Vec<u8>| {
            while v.len() < CHUNK {
                let n = (CHUNK - v.len()).min(para.len());
                v.extend_from_slice(&para[..n]);
            }
            Bytes::from(v)
        };
        let head = b"<!doctype html><html><head><title>Big page</title></head><body><article>\n".to_vec();
        (fill(head), fill(Vec::new()))
    })
}

/// sha256 of the big page, as sent.
fn big_sha256() -> String {
    let (first, filler) = big_chunks();
    let mut h = Sha256::new();
    h.update(first);
    for _ in 1..BIG_LEN / CHUNK {
        h.update(filler);
    }
    hex::encode(h.finalize())
}

/// One gzip member of 64 MiB of zeros; the gzip bomb repeats it 160 times: 10 GiB
/// inflated from about 10 MB on the wire.
fn gzip_member_of_zeros() -> &'static Bytes {
    static M: OnceLock<Bytes> = OnceLock::new();
    M.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        Bytes::from(e.finish().unwrap())
    })
}
const GZIP_BOMB_MEMBERS: usize = 160;

/// 1 GiB of zeros, brotli-compressed.
fn brotli_bomb() -> &'static Bytes {
    static B: OnceLock<Bytes> = OnceLock::new();
    B.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 24);
            for _ in 0..1024 {
                w.write_all(&zeros).unwrap();
            }
        }
        Bytes::from(out)
    })
}

/// `Content-Encoding: gzip, br`: 1 GiB of zeros gzipped, then the gzip stream brotli'd.
fn nested_bomb() -> &'static Bytes {
    static B: OnceLock<Bytes> = OnceLock::new();
    B.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..1024 {
            e.write_all(&zeros).unwrap();
        }
        let gz = e.finish().unwrap();
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 9, 22);
            w.write_all(&gz).unwrap();
        }
        Bytes::from(out)
    })
}

fn nested_page(tag: &str, depth: usize) -> Bytes {
    let mut s = String::from("<!doctype html><html><head><title>Deep</title></head><body>");
    for _ in 0..depth {
        s.push('<');
        s.push_str(tag);
        s.push('>');
    }
    s.push_str(
        "<p>The text at the bottom of a very deep page, long enough to be the main text of it.</p>",
    );
    for _ in 0..depth {
        s.push_str("</");
        s.push_str(tag);
        s.push('>');
    }
    s.push_str("</body></html>");
    Bytes::from(s)
}

/// One `<p>` with a million distinct attribute names (each an interned atom and a node
/// of the tree for the parser).
fn attributes_page() -> Bytes {
    let mut s = String::from("<!doctype html><html><body><p");
    for i in 0..1_000_000 {
        s.push_str(&format!(" a{i}"));
    }
    s.push_str(">text</p></body></html>");
    Bytes::from(s)
}

/// What the bombs and the deep pages send, byte for byte (the WARC must hold exactly this).
fn sent(path: &str) -> Vec<u8> {
    match path {
        "/bomb-gzip" => gzip_member_of_zeros().repeat(GZIP_BOMB_MEMBERS),
        "/bomb-br" => brotli_bomb().to_vec(),
        "/bomb-nested" => nested_bomb().to_vec(),
        "/nested-article" => nested_page("article", 20_000).to_vec(),
        "/nested-div" => nested_page("div", 100_000).to_vec(),
        "/attributes" => attributes_page().to_vec(),
        p => panic!("no route {p}"),
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn stream_of(chunks: impl Iterator<Item = Bytes> + Send + Sync + 'static) -> Body {
    let s = futures_util::stream::iter(chunks.map(|c| Ok::<_, std::io::Error>(Frame::data(c))));
    BodyExt::boxed(StreamBody::new(s))
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Body>, std::io::Error> {
    let path = req.uri().path().to_string();
    let mut b = hyper::Response::builder()
        .status(200)
        .header("Content-Type", "text/html; charset=utf-8");
    let body = match path.as_str() {
        "/big" => {
            let (first, filler) = big_chunks();
            let (first, filler) = (first.clone(), filler.clone());
            b = b.header("Content-Length", BIG_LEN.to_string());
            stream_of(
                std::iter::once(first).chain(std::iter::repeat_n(filler, BIG_LEN / CHUNK - 1)),
            )
        }
        "/bomb-gzip" => {
            let m = gzip_member_of_zeros().clone();
            b = b.header("Content-Encoding", "gzip");
            stream_of(std::iter::repeat_n(m, GZIP_BOMB_MEMBERS))
        }
        "/bomb-br" => {
            b = b.header("Content-Encoding", "br");
            stream_of(std::iter::once(brotli_bomb().clone()))
        }
        "/bomb-nested" => {
            b = b.header("Content-Encoding", "gzip, br");
            stream_of(std::iter::once(nested_bomb().clone()))
        }
        "/nested-article" | "/nested-div" | "/attributes" => {
            stream_of(std::iter::once(Bytes::from(sent(&path))))
        }
        _ => {
            b = b.status(404);
            stream_of(std::iter::once(Bytes::from_static(b"no such page")))
        }
    };
    Ok(b.body(body).unwrap())
}

/// A loopback server on its own runtime thread; lives as long as the test process.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((sock, _)) = l.accept().await else {
                        continue;
                    };
                    tokio::spawn(async move {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(sock),
                                hyper::service::service_fn(answer),
                            )
                            .await;
                    });
                }
            });
        });
        format!("http://{addr}")
    })
}

fn url(path: &str) -> String {
    format!("{}{path}", server_url())
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let ar = dir.path().join("archive");
    write_config(&ar, "[http]\nper_host_delay_ms = 0\ntimeout_ms = 300000\n");
    (dir, ar)
}

/// Runs `samizdat --json capture <url>` and polls its `VmHWM` until it exits: (exit
/// code, stdout, stderr, peak RSS in KiB).
fn capture_measured(ar: &Path, u: &str) -> (i32, String, String, u64) {
    let mut child = samizdat(ar)
        .args(["--json", "capture", u])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let code = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(l) = s.lines().find(|l| l.starts_with("VmHWM:"))
        {
            let kb: u64 = l
                .trim_start_matches("VmHWM:")
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .unwrap();
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    (code, t_out.join().unwrap(), t_err.join().unwrap(), peak)
}

/// One record as streamed out of the WARC files: fields, and the payload's sha256 and
/// length (the payload is hashed as it is read, never held), or the block if it is small.
struct Rec {
    fields: Vec<(String, String)>,
    payload_sha256: String,
    payload_len: u64,
    small_block: Option<Vec<u8>>,
}

impl Rec {
    fn field(&self, n: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads every record of the archive's WARC files, streaming.
fn records(ar: &Path) -> Vec<Rec> {
    let mut out = vec![];
    for f in warc_files(ar) {
        let mut r = BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(std::fs::File::open(&f).unwrap()),
        );
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            assert_eq!(line, "WARC/1.1\r\n", "record start in {}", f.display());
            let mut fields = vec![];
            loop {
                let mut l = String::new();
                r.read_line(&mut l).unwrap();
                let l = l.trim_end_matches("\r\n");
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                fields.push((k.trim().to_string(), v.trim().to_string()));
            }
            let len: u64 = fields
                .iter()
                .find(|(k, _)| k == "Content-Length")
                .unwrap()
                .1
                .parse()
                .unwrap();
            let ct = fields
                .iter()
                .find(|(k, _)| k == "Content-Type")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let mut block = (&mut r).take(len);
            let mut small = None;
            let mut h = Sha256::new();
            let mut payload_len = 0u64;
            if ct.starts_with("application/http") {
                // Skip the HTTP header block, hash the rest.
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let mut l = Vec::new();
                    if block.read_until(b'\n', &mut l).unwrap() == 0 {
                        break;
                    }
                    head.extend(l);
                }
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let n = block.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                    payload_len += n as u64;
                }
            } else {
                let mut b = Vec::new();
                block.read_to_end(&mut b).unwrap();
                h.update(&b);
                payload_len = b.len() as u64;
                small = Some(b);
            }
            let mut end = [0u8; 4];
            r.read_exact(&mut end).unwrap();
            assert_eq!(&end, b"\r\n\r\n");
            out.push(Rec {
                fields,
                payload_sha256: hex::encode(h.finalize()),
                payload_len,
                small_block: small,
            });
        }
    }
    out
}

fn response_for<'a>(recs: &'a [Rec], path: &str) -> &'a Rec {
    recs.iter()
        .find(|r| {
            r.field("WARC-Type") == Some("response")
                && r.field("WARC-Target-URI")
                    .is_some_and(|u| u.ends_with(path))
        })
        .unwrap_or_else(|| panic!("no response record for {path}"))
}

fn post_record(recs: &[Rec]) -> serde_json::Value {
    let r = recs
        .iter()
        .find(|r| r.field("Content-Type") == Some("application/vnd.samizdat.post+json"))
        .expect("a post record");
    serde_json::from_slice(r.small_block.as_ref().unwrap()).unwrap()
}

fn verify_and_show(ar: &Path, u: &str) -> serde_json::Value {
    let (code, out, err) = run_code(samizdat(ar).args(["--json", "verify"]));
    assert_eq!(code, 0, "verify after the capture:\n{out}\n{err}");
    let out = run_ok(samizdat(ar).args(["--json", "show", u]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Captures `path`, checks the exit code, the peak RSS, and that the archived body is
/// byte for byte what was sent (by digest). Returns the records and the post record.
fn capture_checked(ar: &Path, path: &str, sha: &str, len: u64) -> (Vec<Rec>, serde_json::Value) {
    let u = url(path);
    let (code, out, err, peak) = capture_measured(ar, &u);
    assert!(code < 100, "no panic: exit {code}\n{err}");
    assert_eq!(code, 0, "capture of {path}:\n{out}\n{err}");
    assert!(
        peak < RSS_LIMIT_KB,
        "capture of {path}: peak RSS {} MiB, the bound is {} MiB",
        peak / 1024,
        RSS_LIMIT_KB / 1024
    );
    eprintln!("{path}: peak RSS {} MiB", peak / 1024);
    let recs = records(ar);
    let resp = response_for(&recs, path);
    assert_eq!(
        resp.field("WARC-Truncated"),
        None,
        "{path} is archived whole"
    );
    assert_eq!(resp.payload_len, len, "{path}: archived payload length");
    assert_eq!(resp.payload_sha256, sha, "{path}: archived payload digest");
    assert_eq!(
        resp.field("WARC-Payload-Digest").map(str::to_string),
        Some(format!("sha256:{sha}")),
        "{path}: WARC-Payload-Digest is the digest of what was sent"
    );
    let post = post_record(&recs);
    (recs, post)
}

#[test]
fn a_256_mib_page_is_streamed_to_the_warc_and_its_text_bounded() {
    let (_d, ar) = setup();
    let sha = big_sha256();
    let (_recs, pr) = capture_checked(&ar, "/big", &sha, BIG_LEN as u64);
    let post = &pr["post"];
    let limits = &post["extra"]["limits"];
    assert_eq!(limits["text_truncated"], true, "{limits}");
    let text = post["text"].as_str().unwrap();
    assert!(text.starts_with("Lorem ipsum"), "{}", &text[..100]);
    let max = limits["max_text_bytes"].as_u64().unwrap();
    assert!(
        text.len() as u64 <= max && max <= 1 << 20,
        "{} > {max}",
        text.len()
    );
    if let Some(h) = post["html"].as_str() {
        assert!(h.len() <= 1 << 20, "sanitised HTML is bounded: {}", h.len());
    }
    let shown = verify_and_show(&ar, &url("/big"));
    assert_eq!(shown["extra"]["limits"]["text_truncated"], true, "{shown}");
}

#[test]
fn a_body_over_max_body_bytes_is_cut_with_warc_truncated_length() {
    let (_d, ar) = setup();
    write_config(
        &ar,
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 300000\nmax_body_bytes = 3000000\n",
    );
    let (code, out, err, peak) = capture_measured(&ar, &url("/big"));
    assert!(code < 100, "no panic: {err}");
    assert!(peak < RSS_LIMIT_KB, "peak RSS {} MiB", peak / 1024);
    let v = json_lines(&out);
    assert_eq!(v[0]["status"], "partial", "{out}\n{err}");
    let recs = records(&ar);
    let r = response_for(&recs, "/big");
    assert_eq!(r.field("WARC-Truncated"), Some("length"));
    assert_eq!(r.payload_len, 3_000_000);
    let (first, filler) = big_chunks();
    let mut h = Sha256::new();
    h.update(first);
    let mut left = 3_000_000 - CHUNK;
    while left > 0 {
        let n = left.min(CHUNK);
        h.update(&filler[..n]);
        left -= n;
    }
    assert_eq!(r.payload_sha256, hex::encode(h.finalize()));
    verify_and_show(&ar, &url("/big"));
}

fn bomb(path: &str) {
    let (_d, ar) = setup();
    let body = sent(path);
    let sha = hex::encode(Sha256::digest(&body));
    let (_recs, pr) = capture_checked(&ar, path, &sha, body.len() as u64);
    let limits = &pr["post"]["extra"]["limits"];
    assert_eq!(
        limits["decoded_truncated"], true,
        "{path}: the post says the decoded body was cut: {limits}"
    );
    let shown = verify_and_show(&ar, &url(path));
    assert_eq!(shown["extra"]["limits"]["decoded_truncated"], true);
}

#[test]
fn a_gzip_bomb_is_decoded_within_bounds() {
    bomb("/bomb-gzip");
}

#[test]
fn a_brotli_bomb_is_decoded_within_bounds() {
    bomb("/bomb-br");
}

#[test]
fn a_nested_encoding_bomb_is_decoded_within_bounds() {
    bomb("/bomb-nested");
}

fn deep(path: &str) {
    let (_d, ar) = setup();
    let body = sent(path);
    let sha = hex::encode(Sha256::digest(&body));
    let (_recs, pr) = capture_checked(&ar, path, &sha, body.len() as u64);
    let limits = &pr["post"]["extra"]["limits"];
    let parse = limits["parse_truncated"].as_str().unwrap_or_else(|| {
        panic!("{path}: the post says the page was cut before parsing: {limits}")
    });
    assert!(parse.contains("nesting depth"), "{parse}");
    verify_and_show(&ar, &url(path));
}

#[test]
fn nested_articles_are_bounded() {
    deep("/nested-article");
}

#[test]
fn nested_divs_are_bounded() {
    deep("/nested-div");
}

#[test]
fn a_million_attributes_are_bounded() {
    let (_d, ar) = setup();
    let body = sent("/attributes");
    let sha = hex::encode(Sha256::digest(&body));
    let (_recs, pr) = capture_checked(&ar, "/attributes", &sha, body.len() as u64);
    let limits = &pr["post"]["extra"]["limits"];
    let parse = limits["parse_truncated"].as_str().unwrap_or_default();
    assert!(parse.contains("attributes"), "{limits}");
    verify_and_show(&ar, &url("/attributes"));
}
