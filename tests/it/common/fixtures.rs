//! Fixture content the test servers send (public so tests can assert on it).

use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;

/// Chinese text of the GBK pages (`/gbk`, `/gbk-meta`, `/mislabelled`).
pub const GBK_TEXT: &str = "反诈中心冻结了我的银行卡和支付宝";
/// `<title>` of `/page`.
pub const PAGE_TITLE: &str = "Samizdat Test Article";
/// `og:title` of `/page`.
pub const PAGE_OG_TITLE: &str = "OG: Samizdat Test Article";
/// JSON-LD headline of `/page`.
pub const PAGE_HEADLINE: &str = "Local loopback article for archiving tests";
/// The pieces `/chunked` sends, one HTTP chunk each (the body is their concatenation).
pub const CHUNKED_PARTS: &[&str] = &[
    "<!doctype html><html><head><title>Chunked</title></head><body>",
    "<p>first chunk</p>",
    "<p>second chunk</p>",
    "<p>third chunk</p>",
    "</body></html>",
];
/// The HTML that `/gzip` and `/br` send compressed.
pub const COMPRESSED_HTML: &str = "<!doctype html><html><head><title>Compressed</title></head>\
<body><p>This body travels with a Content-Encoding. Archive the encoded bytes.</p>\
<p>Repeat repeat repeat repeat repeat repeat repeat repeat repeat.</p></body></html>";
/// Value of the `session` cookie set by `/set-cookie`.
pub const SECRET_COOKIE: &str = "SECRET-s3ss10n-7f1c2e";
/// Bytes of zeros that the `/gzip-bomb` body inflates to (1 GiB).
pub const GZIP_BOMB_INFLATED: u64 = 1 << 30;
/// Number of body pieces `/slow-body` sends unless `chunks=` is given.
pub const SLOW_BODY_CHUNKS: u64 = 5;

pub const PNG_BYTES: &[u8] = include_bytes!("fixtures/a.png");
pub const JPEG_BYTES: &[u8] = include_bytes!("fixtures/b.jpg");

/// The GBK page as GBK bytes. `with_meta` adds `<meta charset="gbk">` (used by `/gbk` and
/// `/gbk-meta`, which serve identical bytes); `/mislabelled` serves the variant without it,
/// so only content sniffing can find the charset there.
pub fn gbk_page(with_meta: bool) -> Vec<u8> {
    let meta = if with_meta {
        "<meta charset=\"gbk\">"
    } else {
        ""
    };
    let html = format!(
        "<!doctype html><html><head>{meta}<title>{GBK_TEXT}</title></head>\
         <body><article><h1>{GBK_TEXT}</h1><p>{GBK_TEXT}。我该怎么办？</p></article></body></html>"
    );
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(&html);
    assert!(!had_errors);
    bytes.into_owned()
}

/// HTML of `/page`; `base` is the server's base URL (for og:url / og:image).
pub fn page_html(base: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<title>{PAGE_TITLE}</title>
<meta name="description" content="A test article served on loopback.">
<meta property="og:type" content="article">
<meta property="og:title" content="{PAGE_OG_TITLE}">
<meta property="og:description" content="OpenGraph description of the test article.">
<meta property="og:url" content="{base}/page">
<meta property="og:image" content="{base}/img/a.png">
<meta property="article:published_time" content="2026-01-02T03:04:05Z">
<script type="application/ld+json">
{{"@context":"https://schema.org","@type":"NewsArticle","headline":"{PAGE_HEADLINE}",
"datePublished":"2026-01-02T03:04:05Z","author":{{"@type":"Person","name":"Jane Reporter"}},
"image":["{base}/img/a.png","{base}/img/b.jpg"]}}
</script>
</head><body>
<article>
<h1>{PAGE_HEADLINE}</h1>
<p class="byline">By Jane Reporter</p>
<p>First paragraph of the article body.</p>
<img src="/img/a.png" alt="image a">
<p>Second paragraph, between two images.</p>
<img src="/img/b.jpg" alt="image b">
</article>
</body></html>
"#
    )
}

pub(super) fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub(super) fn brotli_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 9, 22);
        w.write_all(data).unwrap();
    }
    out
}

/// One gzip member inflating to [`GZIP_BOMB_INFLATED`] zero bytes (~1 MB), built once.
pub fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for _ in 0..(GZIP_BOMB_INFLATED >> 20) {
            e.write_all(&zeros).unwrap();
        }
        Bytes::from(e.finish().unwrap())
    })
    .clone()
}

/// A file of a platform's fixture folder, `tests/fixtures/<platform>/<name>`.
pub fn platform_fixture(platform: &str, name: &str) -> Vec<u8> {
    let p = format!(
        "{}/tests/fixtures/{platform}/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {p}: {e}"))
}

/// [`platform_fixture`] read as JSON.
pub fn platform_fixture_json(platform: &str, name: &str) -> serde_json::Value {
    serde_json::from_slice(&platform_fixture(platform, name)).unwrap()
}

/// A new archive (in a temporary folder) whose `[http.hosts]` sends each of `hosts` to
/// the loopback server `srv`, politeness off and no retries.
pub fn archive_sending(
    srv: &super::TestServer,
    hosts: &[&str],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = super::tempdir();
    let ar = dir.path().join("archive");
    let mut toml = String::from(
        "[http]\nper_host_delay_ms = 0\ntimeout_ms = 5000\nmax_retries = 0\n\n[http.hosts]\n",
    );
    for h in hosts {
        toml.push_str(&format!("{h:?} = {:?}\n", srv.base_url()));
    }
    super::write_config(&ar, &toml);
    (dir, ar)
}

/// Every comment of a `show --json` post (its `comments`, or any list of comments with
/// nested `replies`), depth first, with its nesting level.
pub fn flat(comments: &serde_json::Value, level: usize, out: &mut Vec<(usize, serde_json::Value)>) {
    for c in comments.as_array().into_iter().flatten() {
        out.push((level, c.clone()));
        flat(&c["replies"], level + 1, out);
    }
}
