//! `export [POST...] [--query Q] [--all] --wacz FILE.wacz`: WACZ 1.1.1.
//!
//! The WARC gzip members are copied byte for byte into `archive/*.warc.gz`, stored (no
//! deflate). `--all` copies every WARC file whole; a selection of posts writes their
//! records (and their files' warcinfo) into `archive/data.warc.gz`. Record bytes stream
//! through; what stays in memory is one CDXJ line per indexed record and the set of
//! selected leaf numbers.

use super::Ctx;
use super::check::Finding;
use crate::error::{Error, IoContext, Result};
use crate::store::archive::{self, layout};
use crate::store::files::WarcFiles;
use crate::store::index::{Index, ListFilter};
use crate::store::record_stream::{RecordSink, stream_record};
use crate::store::warc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};

use std::path::Path;
use zip::write::SimpleFileOptions;

/// The SURT form pywb's `surt` gives: host reversed without `www.`, default port dropped,
/// lowercased, query parameters sorted.
pub fn surt(u: &str) -> Option<String> {
    let url = url::Url::parse(u).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let mut labels: Vec<&str> = host.split('.').collect();
    if labels.len() > 2
        && labels[0].starts_with("www")
        && labels[0][3..].bytes().all(|b| b.is_ascii_digit())
    {
        labels.remove(0);
    }
    labels.reverse();
    let mut s = labels.join(",");
    if let Some(p) = url.port() {
        s.push_str(&format!(":{p}"));
    }
    s.push(')');
    s.push_str(&url.path().to_ascii_lowercase());
    if let Some(q) = url.query().filter(|q| !q.is_empty()) {
        let mut parts: Vec<String> = q.split('&').map(|p| p.to_ascii_lowercase()).collect();
        parts.sort();
        s.push('?');
        s.push_str(&parts.join("&"));
    }
    Some(s)
}

/// Keeps a streamed record's head.
struct HeadOnly(Option<warc::Record>);

impl RecordSink for HeadOnly {
    fn head(&mut self, head: &warc::Record) -> Result<()> {
        self.0 = Some(head.clone());
        Ok(())
    }
}

/// Hashes and counts what is written through it.
struct Hashing<W> {
    inner: W,
    h: Sha256,
    n: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.h.update(&b[..n]);
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct Indexer {
    cdxj: Vec<String>,
    /// record id -> (url, RFC 3339 date, title) for HTML 200 responses.
    pages: HashMap<String, (String, String)>,
    /// The newest `WARC-Date` of the exported records: the package's `created`.
    newest: Option<jiff::Timestamp>,
}

impl Indexer {
    fn add(&mut self, bytes: &[u8], filename: &str, offset: u64, length: u64) {
        if let Ok(rec) = warc::parse_record(bytes) {
            self.add_record(&rec, filename, offset, length);
        }
    }

    /// Indexes a record from its head: its WARC fields, and the HTTP header block of a
    /// response as its `block` (the payload is not needed).
    fn add_record(&mut self, rec: &warc::Record, filename: &str, offset: u64, length: u64) {
        if let Ok(t) = rec.date().parse::<jiff::Timestamp>() {
            self.newest = self.newest.max(Some(t));
        }
        let Some(target) = rec.target_uri() else {
            return;
        };
        if !target.starts_with("http://") && !target.starts_with("https://") {
            return;
        }
        let Some(key) = surt(target) else { return };
        let (mime, status) = match rec.warc_type() {
            warc::kind::RESPONSE => {
                let end = warc::find_header_end(&rec.block).unwrap_or(0);
                let head = String::from_utf8_lossy(&rec.block[..end]);
                let mut lines = head.lines();
                let status = lines
                    .next()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("-")
                    .to_string();
                let mime = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| {
                        v.split(';')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_ascii_lowercase()
                    })
                    .unwrap_or_else(|| "unk".into());
                (mime, status)
            }
            warc::kind::RESOURCE | warc::kind::METADATA => {
                let ct = rec.field("Content-Type").unwrap_or("");
                if ct == warc::mime::WARC_FIELDS {
                    return;
                }
                (
                    ct.split(';').next().unwrap_or("").trim().to_string(),
                    "200".to_string(),
                )
            }
            _ => return,
        };
        let date = rec.date();
        let ts: String = date
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect();
        let mut j = serde_json::Map::new();
        j.insert("url".into(), json!(target));
        j.insert("mime".into(), json!(mime));
        j.insert("status".into(), json!(status));
        if let Some(d) = rec.field("WARC-Payload-Digest") {
            j.insert("digest".into(), json!(d));
        }
        j.insert("length".into(), json!(length.to_string()));
        j.insert("offset".into(), json!(offset.to_string()));
        j.insert("filename".into(), json!(filename));
        self.cdxj.push(format!("{key} {ts} {}", Value::Object(j)));
        if rec.warc_type() == warc::kind::RESPONSE && status == "200" && mime == "text/html" {
            let iso = date
                .parse::<jiff::Timestamp>()
                .map(|t| t.to_string())
                .unwrap_or_else(|_| date.to_string());
            self.pages
                .insert(rec.id().to_string(), (target.to_string(), iso));
        }
    }
}

/// The WACZ's index, as py-wacz writes it: sorted CDXJ lines in gzip blocks.
pub const CDX_GZ: &str = "indexes/index.cdx.gz";
/// The block index of [`CDX_GZ`] (ZipNum): what ReplayWeb.page reads to find a block.
pub const IDX: &str = "indexes/index.idx";
/// The index of a WACZ exported before the ZipNum index (still checked).
const OLD_CDXJ: &str = "indexes/index.cdxj";
/// CDXJ lines per gzip block: py-wacz's `DEFAULT_NUM_LINES` (ArchiveWeb.page's too).
const CDX_BLOCK_LINES: usize = 1024;

/// `(index.cdx.gz, index.idx)` of sorted CDXJ `lines`, laid out as cdxj-indexer's
/// `CompressedWriter` (py-wacz) does: each block of [`CDX_BLOCK_LINES`] lines is one gzip
/// member; the `.idx` starts with `!meta 0 {"format": "cdxj-gzip-1.0", "filename":
/// "index.cdx.gz"}` and has one line per block: the block's first `<key> <timestamp>`,
/// then `{"offset", "length", "digest": "sha256:<hex of the member>"}`. pywb reads the
/// `.cdx.gz` (it takes `.cdx`/`.cdx.gz` only), ReplayWeb.page the `.idx` (it takes
/// `.cdx`/`.cdxj`/`.idx`), so both are written whatever the size.
pub fn zipnum(lines: &[String]) -> (Vec<u8>, String) {
    let mut data = vec![];
    let mut idx = format!(
        "!meta 0 {}\n",
        json!({"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"})
    );
    for block in lines.chunks(CDX_BLOCK_LINES) {
        let mut text = block.join("\n");
        text.push('\n');
        let member = warc::gzip_member(text.as_bytes(), 6);
        let prefix: Vec<&str> = block[0].splitn(3, ' ').take(2).collect();
        idx.push_str(&format!(
            "{} {}\n",
            prefix.join(" "),
            json!({
                "offset": data.len(),
                "length": member.len(),
                "digest": format!("sha256:{}", hex::encode(Sha256::digest(&member))),
            })
        ));
        data.extend_from_slice(&member);
    }
    if lines.is_empty() {
        // An empty gzip stream, not an empty file: readers test-decompress `.gz` members.
        data = warc::gzip_member(b"", 6);
    }
    (data, idx)
}

/// What the check reads of an `index.idx` block line's JSON.
#[derive(Debug, Deserialize)]
struct IdxBlock {
    offset: u64,
    length: u64,
    digest: Option<String>,
}

/// The CDXJ lines of a ZipNum index (`cdx_gz` and its `idx`), each block checked against
/// its `.idx` line (place, digest, first key, no gap or overlap); `Err` names the first
/// problem. At most `cap` bytes are inflated.
fn unzipnum(cdx_gz: &[u8], idx: &[u8], cap: u64) -> std::result::Result<String, String> {
    let idx = std::str::from_utf8(idx).map_err(|_| format!("{IDX} is not UTF-8"))?;
    let mut lines = idx.lines();
    match lines.next() {
        Some(l) if l.starts_with("!meta 0 {") && l.contains("\"index.cdx.gz\"") => {}
        _ => {
            return Err(format!(
                "{IDX}: line 1 is not the !meta line naming index.cdx.gz"
            ));
        }
    }
    let mut text = String::new();
    let mut at = 0u64;
    for (i, line) in lines.enumerate() {
        let n = i + 2;
        let bad = |why: &str| format!("{IDX}: line {n}: {why}");
        let (prefix, j) = line
            .split_once(" {")
            .ok_or_else(|| bad("is not `<key> <timestamp> {json}`"))?;
        let b: IdxBlock =
            serde_json::from_str(&format!("{{{j}")).map_err(|e| bad(&format!("{e}")))?;
        if b.offset != at {
            return Err(bad(&format!(
                "its block starts at {}, not where the previous one ended ({at})",
                b.offset
            )));
        }
        let end = b
            .offset
            .checked_add(b.length)
            .filter(|e| *e <= cdx_gz.len() as u64)
            .ok_or_else(|| bad(&format!("its block runs past the end of {CDX_GZ}")))?;
        let member = &cdx_gz[b.offset as usize..end as usize];
        let want = format!("sha256:{}", hex::encode(Sha256::digest(member)));
        if b.digest.as_deref() != Some(want.as_str()) {
            return Err(bad(&format!("its block's digest is not {want}")));
        }
        let mut block = String::new();
        let room = cap.saturating_sub(text.len() as u64);
        flate2::read::GzDecoder::new(member)
            .take(room + 1)
            .read_to_string(&mut block)
            .map_err(|e| bad(&format!("its block does not inflate: {e}")))?;
        if block.len() as u64 > room {
            return Err(format!("{CDX_GZ} inflates past {cap} bytes"));
        }
        let first: Vec<&str> = block.splitn(3, ' ').take(2).collect();
        if first.join(" ") != prefix {
            return Err(bad("its key is not the first key of its block"));
        }
        text.push_str(&block);
        at = end;
    }
    if at != cdx_gz.len() as u64 && !(at == 0 && text.is_empty()) {
        return Err(format!(
            "{CDX_GZ}: bytes {at}..{} are in no block of {IDX}",
            cdx_gz.len()
        ));
    }
    Ok(text)
}

fn post_ids(
    ix: &Index,
    root: &Path,
    keys: &[String],
    query: Option<&str>,
    all: bool,
) -> Result<Vec<String>> {
    let mut ids = vec![];
    if all {
        for v in ix.list(&ListFilter {
            limit: 0,
            ..ListFilter::default()
        })? {
            ids.push(v.id);
        }
        return Ok(ids);
    }
    for k in keys {
        ids.push(ix.resolve_post(k)?);
    }
    if let Some(q) = query {
        let p = root.join(layout::INDEX);
        let conn =
            rusqlite::Connection::open_with_flags(&p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| Error::Index {
                path: p.clone(),
                source: e,
            })?;
        let like = format!("%{}%", q.replace('%', "\\%").replace('_', "\\_"));
        let mut st = conn
            .prepare("SELECT id FROM posts WHERE text LIKE ?1 ESCAPE '\\' OR author_name LIKE ?1 ESCAPE '\\' OR url LIKE ?1 ESCAPE '\\' ORDER BY first_captured")
            .map_err(|e| Error::Index { path: p.clone(), source: e })?;
        let rows = st
            .query_map([like], |r| r.get::<_, String>(0))
            .map_err(|e| Error::Index {
                path: p.clone(),
                source: e,
            })?;
        for r in rows {
            ids.push(r.map_err(|e| Error::Index {
                path: p.clone(),
                source: e,
            })?);
        }
    }
    let mut seen = BTreeSet::new();
    ids.retain(|i| seen.insert(i.clone()));
    Ok(ids)
}

/// What `export … --wacz FILE` wrote (its JSON is the command's `--json` line).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaczSummary {
    pub wacz: std::path::PathBuf,
    pub posts: usize,
    pub records: u64,
    pub pages: usize,
    /// The custody record of this export (docs/provenance.md), once written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<String>,
    /// The posts it holds (for the custody record; not printed).
    #[serde(skip)]
    pub post_ids: Vec<String>,
}

/// `export … --wacz FILE`, dated by the system clock (see [`export_wacz_at`]).
pub fn export_wacz(
    ctx: &Ctx,
    keys: &[String],
    query: Option<&str>,
    all: bool,
    out: &Path,
) -> Result<super::Exported> {
    export_wacz_at(ctx, keys, query, all, out, &crate::clock::Clock::System)
        .map(super::Exported::Wacz)
}

/// `export … --wacz FILE`, its `created` date read from `clock`.
pub fn export_wacz_at(
    ctx: &Ctx,
    keys: &[String],
    query: Option<&str>,
    all: bool,
    out: &Path,
    clock: &crate::clock::Clock,
) -> Result<WaczSummary> {
    let root = &ctx.archive;
    let ix = super::open_index(root)?;
    if !all && keys.is_empty() && query.is_none() {
        return Err(Error::Usage(
            "export --wacz: name posts, or give --query Q or --all".into(),
        ));
    }
    let ids = post_ids(&ix, root, keys, query, all)?;
    if ids.is_empty() {
        return Err(Error::NotFound("no post matches: nothing to export".into()));
    }
    let file = std::fs::File::create(out).at(out)?;
    let mut z = zip::ZipWriter::new(file);
    let t = super::zip_time();
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(t)
        .large_file(true);
    let deflate = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(t)
        .large_file(true);
    let zerr = |e: zip::result::ZipError| Error::io(out, std::io::Error::other(e));
    let mut resources: Vec<Resource> = vec![];
    let mut idx = Indexer {
        cdxj: vec![],
        pages: HashMap::new(),
        newest: None,
    };
    let mut records = 0u64;

    if all {
        let files = archive::warc_store(root);
        for name in files.list()? {
            let p = root.join(layout::WARC_DIR).join(&name);
            let path_in_zip = format!("archive/{name}");
            z.start_file(path_in_zip.as_str(), stored).map_err(zerr)?;
            let mut w = Hashing {
                inner: &mut z,
                h: Sha256::new(),
                n: 0,
            };
            // Whole files, through the one interface to WARC bytes.
            let mut f = files.open(&name, 0)?;
            std::io::copy(&mut f, &mut w).at(&p)?;
            let (h, n) = (w.h.finalize(), w.n);
            resources.push(Resource {
                name: name.to_string(),
                path: path_in_zip.clone(),
                hash: format!("sha256:{}", hex::encode(h)),
                bytes: n,
            });
            for m in warc::MemberReader::open(&p, 0).at(&p)? {
                let m = m.map_err(|e| Error::Warc {
                    file: name.clone(),
                    offset: e.offset,
                    message: e.message,
                })?;
                idx.add(&m.bytes, &name, m.offset, m.length);
                records += 1;
            }
        }
    } else {
        let mut leaves = BTreeSet::new();
        for id in &ids {
            let post = ix
                .post_view(id)?
                .ok_or_else(|| Error::NotFound(id.clone()))?;
            for c in &post.captures {
                for r in &c.record_ids {
                    if let Some(row) = ix.record_by_id(r)? {
                        if let Some(w) = ix
                            .warcinfo_of(&row.file)?
                            .map(|w| ix.record_by_id(&w))
                            .transpose()?
                            .flatten()
                        {
                            leaves.insert(w.leaf);
                        }
                        leaves.insert(row.leaf);
                    }
                }
            }
        }
        let name = "data.warc.gz";
        let path_in_zip = format!("archive/{name}");
        z.start_file(path_in_zip.as_str(), stored).map_err(zerr)?;
        let mut w = Hashing {
            inner: &mut z,
            h: Sha256::new(),
            n: 0,
        };
        for leaf in &leaves {
            let row = ix
                .record_by_leaf(*leaf)?
                .ok_or_else(|| Error::NotFound(format!("leaf {leaf}")))?;
            let offset = w.n;
            let mut head = HeadOnly(None);
            stream_record(root, &row, &mut w, &mut head)?;
            if let Some(rec) = &head.0 {
                idx.add_record(rec, name, offset, w.n - offset);
            }
            records += 1;
        }
        let (h, n) = (w.h.finalize(), w.n);
        resources.push(Resource {
            name: name.to_string(),
            path: path_in_zip.clone(),
            hash: format!("sha256:{}", hex::encode(h)),
            bytes: n,
        });
    }

    // pages: for each post, the first HTML page its captures fetched.
    let mut pages =
        vec![json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}).to_string()];
    let mut main_page: Option<(String, String)> = None;
    for id in &ids {
        let view = ix
            .post_view(id)?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let post = &view.post;
        for c in &view.captures {
            let hit = c.record_ids.iter().find_map(|r| idx.pages.get(r));
            if let Some((url, ts)) = hit {
                let title = post.title.clone().unwrap_or_else(|| {
                    post.text
                        .as_deref()
                        .unwrap_or("")
                        .chars()
                        .take(80)
                        .collect()
                });
                pages.push(
                    json!({"id": format!("{id}@{ts}"), "url": url, "ts": ts, "title": title})
                        .to_string(),
                );
                main_page.get_or_insert((url.clone(), ts.clone()));
            }
        }
    }
    idx.cdxj.sort();
    let (cdx_gz, idx_text) = zipnum(&idx.cdxj);
    // The blocks are gzip already: stored, so a reader can range-read one (WACZ 1.1.1).
    z.start_file(CDX_GZ, stored).map_err(zerr)?;
    z.write_all(&cdx_gz).at(out)?;
    resources.push(Resource {
        name: "index.cdx.gz".into(),
        path: CDX_GZ.into(),
        hash: format!("sha256:{}", hex::encode(Sha256::digest(&cdx_gz))),
        bytes: cdx_gz.len() as u64,
    });
    let mut small =
        |z: &mut zip::ZipWriter<std::fs::File>, name: &str, bytes: &[u8]| -> Result<()> {
            z.start_file(name, deflate).map_err(zerr)?;
            z.write_all(bytes).at(out)?;
            resources.push(Resource {
                name: name.rsplit('/').next().unwrap_or(name).to_string(),
                path: name.to_string(),
                hash: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
                bytes: bytes.len() as u64,
            });
            Ok(())
        };
    small(&mut z, IDX, idx_text.as_bytes())?;
    let mut pj = pages.join("\n");
    pj.push('\n');
    small(&mut z, "pages/pages.jsonl", pj.as_bytes())?;

    // Dated by its newest record, not by the export, so the same records package to the
    // same bytes (the clock only dates a package of undated records).
    let now = idx
        .newest
        .unwrap_or_else(|| clock.now())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (main_page_url, main_page_date) = main_page.unzip();
    let dp = DataPackage {
        profile: Some("data-package".into()),
        wacz_version: Some("1.1.1".into()),
        title: Some(if all {
            "samizdat archive".to_string()
        } else {
            format!("samizdat export of {} posts", ids.len())
        }),
        description: Some("Exported by samizdat. Each WARC record is also a leaf of the archive's signed Merkle log; use `samizdat export POST --bundle` for per-post proofs.".into()),
        created: Some(now.clone()),
        modified: Some(now),
        software: Some(format!("samizdat {}", env!("CARGO_PKG_VERSION"))),
        resources,
        main_page_url,
        main_page_date,
    };
    let json_err = |e: serde_json::Error| Error::Log(format!("{}: {e}", out.display()));
    let dp_bytes = serde_json::to_vec_pretty(&dp).map_err(json_err)?;
    z.start_file("datapackage.json", deflate).map_err(zerr)?;
    z.write_all(&dp_bytes).at(out)?;
    let digest = PackageDigest {
        path: "datapackage.json".into(),
        hash: format!("sha256:{}", hex::encode(Sha256::digest(&dp_bytes))),
    };
    z.start_file("datapackage-digest.json", deflate)
        .map_err(zerr)?;
    z.write_all(
        serde_json::to_string_pretty(&digest)
            .map_err(json_err)?
            .as_bytes(),
    )
    .at(out)?;
    z.finish().map_err(zerr)?.sync_all().at(out)?;

    Ok(WaczSummary {
        wacz: out.to_path_buf(),
        posts: ids.len(),
        records,
        pages: pages.len() - 1,
        custody: None,
        post_ids: ids.clone(),
    })
}

/// `datapackage.json` (WACZ 1.1.1, a Frictionless data package): written by
/// [`export_wacz_at`] and read back by [`check_wacz`] through this one type. Reading keeps
/// what the check needs and ignores any other field, as the spec allows extensions.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DataPackage {
    profile: Option<String>,
    wacz_version: Option<String>,
    title: Option<String>,
    description: Option<String>,
    created: Option<String>,
    modified: Option<String>,
    software: Option<String>,
    #[serde(default)]
    resources: Vec<Resource>,
    #[serde(
        rename = "mainPageUrl",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    main_page_url: Option<String>,
    #[serde(
        rename = "mainPageDate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    main_page_date: Option<String>,
}

/// One file of the package: where it is, its SHA-256 (`sha256:<hex>`) and its size.
#[derive(Debug, Serialize, Deserialize)]
struct Resource {
    #[serde(default)]
    name: String,
    path: String,
    hash: String,
    bytes: u64,
}

/// `datapackage-digest.json`: the hash of `datapackage.json`.
#[derive(Debug, Serialize, Deserialize)]
struct PackageDigest {
    #[serde(default)]
    path: String,
    hash: String,
}

/// What the check reads of a `pages/pages.jsonl` line.
#[derive(Debug, Deserialize)]
struct PageLine {
    url: Option<String>,
}

/// What the check reads of a CDXJ index line's JSON: where its record is
/// (offset and length are decimal strings, as pywb writes them).
#[derive(Debug, Default, Deserialize)]
struct CdxjPlace {
    url: Option<String>,
    filename: Option<String>,
    offset: Option<String>,
    length: Option<String>,
}

/// What a samizdat WACZ holds, and nothing else: `Err` says how `names` differ.
pub fn wacz_layout(names: &[String]) -> std::result::Result<(), String> {
    let fixed = [
        "datapackage.json",
        "datapackage-digest.json",
        "pages/pages.jsonl",
    ];
    let warc = |n: &str| {
        n.strip_prefix("archive/")
            .is_some_and(|f| !f.is_empty() && !f.contains('/') && f.ends_with(".warc.gz"))
    };
    let has = |f: &str| names.iter().any(|n| n == f);
    let mut why = vec![];
    for f in fixed {
        if !has(f) {
            why.push(format!("no {f}"));
        }
    }
    // The ZipNum index (both parts), or the plain one of earlier exports; not both.
    match (has(CDX_GZ), has(IDX), has(OLD_CDXJ)) {
        (true, true, false) | (false, false, true) => {}
        (false, false, false) => why.push(format!("no {CDX_GZ} and {IDX}")),
        (true, false, false) => why.push(format!("no {IDX} beside {CDX_GZ}")),
        (false, true, false) => why.push(format!("no {CDX_GZ} beside {IDX}")),
        _ => why.push(format!("{OLD_CDXJ} beside {CDX_GZ} or {IDX}")),
    }
    let fixed = [fixed[0], fixed[1], fixed[2], CDX_GZ, IDX, OLD_CDXJ];
    if !names.iter().any(|n| warc(n)) {
        why.push("no archive/*.warc.gz".into());
    }
    let other: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !fixed.contains(n) && !warc(n))
        .collect();
    if !other.is_empty() {
        why.push(format!(
            "members a WACZ does not have: {}",
            other.join(", ")
        ));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

/// Small WACZ members are read whole, at most this big.
const WACZ_SMALL: u64 = 256 << 20;
const WACZ_WARC_MAX: u64 = 64 << 30;
/// index.cdxj is checked line by line against at most this many records (8 bytes each).
const MAX_LOCATED: usize = 4_000_000;

/// Hashes and counts what is read through it.
struct HashingRead<R> {
    inner: R,
    h: Sha256,
    n: u64,
}

impl<R: Read> Read for HashingRead<R> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(b)?;
        self.h.update(&b[..n]);
        self.n += n as u64;
        Ok(n)
    }
}

/// `verify-bundle` on a WACZ (the layout was checked by [`wacz_layout`]): datapackage.json
/// against datapackage-digest.json, every file against datapackage.json (hash and size,
/// streamed), every WARC record well formed with matching digests, and every page in
/// pages.jsonl a captured HTML response. A WACZ carries no log proofs: at best it is a
/// consistent package, never evidence (the caller's exit code says so).
pub fn check_wacz<R: Read + std::io::Seek>(
    zip: &mut super::zipread::Zip<R>,
    facts: &mut super::check::Facts,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = vec![];
    let mut push = |file: &str, ok: bool, what: String| {
        out.push(Finding {
            file: file.into(),
            ok,
            what,
        })
    };
    let dp_bytes = match zip.read("datapackage.json", WACZ_SMALL) {
        Ok(b) => b,
        Err(e) => {
            push("datapackage.json", false, e);
            return out;
        }
    };
    let dp = match serde_json::from_slice::<DataPackage>(&dp_bytes) {
        Ok(dp) => dp,
        Err(e) => {
            push(
                "datapackage.json",
                false,
                format!("is not a WACZ data package: {e}"),
            );
            DataPackage::default()
        }
    };
    if dp.profile.as_deref() != Some("data-package") || dp.wacz_version.is_none() {
        push(
            "datapackage.json",
            false,
            "is not a WACZ data package (no profile \"data-package\" and wacz_version)".into(),
        );
    }
    let want = format!("sha256:{}", hex::encode(Sha256::digest(&dp_bytes)));
    match zip
        .read("datapackage-digest.json", WACZ_SMALL)
        .map(|d| serde_json::from_slice::<PackageDigest>(&d).ok())
    {
        Ok(Some(d)) if d.hash == want => push(
            "datapackage.json",
            true,
            "matches datapackage-digest.json".into(),
        ),
        _ => push(
            "datapackage.json",
            false,
            "does not match datapackage-digest.json (one of the two was altered)".into(),
        ),
    }
    let names: Vec<String> = zip.members.iter().map(|m| m.name.clone()).collect();
    let mut listed: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for r in dp.resources {
        if listed.insert(r.path.clone(), (r.hash, r.bytes)).is_some() {
            push("datapackage.json", false, format!("lists {} twice", r.path));
        }
    }
    for n in &names {
        if n != "datapackage.json" && n != "datapackage-digest.json" && !listed.contains_key(n) {
            push(n, false, "not listed in datapackage.json".into());
        }
    }
    let mut pages_seen: BTreeSet<String> = BTreeSet::new();
    let mut pages_text = None;
    let mut cdxj_text: Option<(&str, Vec<u8>)> = None;
    let (mut cdx_gz, mut idx_text) = (None, None);
    // (file, offset, length, target) of every record, hashed to 8 bytes: what index.cdxj
    // lines must point at.
    let mut located: std::collections::HashSet<u64> = std::collections::HashSet::new();
    let mut too_many = false;
    for (p, (hash, bytes)) in &listed {
        if !names.contains(p) {
            push(p, false, "listed in datapackage.json but missing".into());
            continue;
        }
        let is_warc = p.starts_with("archive/");
        let cap = if is_warc { WACZ_WARC_MAX } else { WACZ_SMALL };
        let s = match zip.stream(p, cap) {
            Ok(s) => s,
            Err(e) => {
                push(p, false, e);
                continue;
            }
        };
        let mut hr = HashingRead {
            inner: s,
            h: Sha256::new(),
            n: 0,
        };
        let mut record_problems = vec![];
        if is_warc {
            let file = p.trim_start_matches("archive/").to_string();
            let mut src = std::io::BufReader::with_capacity(64 << 10, &mut hr);
            let mut n = 0usize;
            loop {
                let start = src.get_ref().n - src.buffer().len() as u64;
                match super::warcstream::next_record(&mut src, |_| false) {
                    Ok(None) => break,
                    Ok(Some(c)) => {
                        n += 1;
                        let end = src.get_ref().n - src.buffer().len() as u64;
                        if let Some(t) = c.rec.target_uri() {
                            if located.len() < MAX_LOCATED {
                                located.insert(location_key(&file, start, end - start, t));
                            } else {
                                too_many = true;
                            }
                        }
                        for pr in &c.problems {
                            record_problems.push(format!("record {}: {pr}", c.rec.id()));
                        }
                        if c.rec.warc_type() == warc::kind::RESPONSE
                            && let Some(t) = c.rec.target_uri()
                            && pages_seen.len() < MAX_LOCATED
                        {
                            pages_seen.insert(t.to_string());
                        }
                    }
                    Err(e) => {
                        record_problems.push(format!("record #{}: {e}", n + 1));
                        break;
                    }
                }
            }
            facts.records += n;
            // Read what a broken record left, so the hash covers the whole member.
            let _ = std::io::copy(&mut src, &mut std::io::sink());
        } else {
            let mut b = vec![];
            if let Err(e) = hr.read_to_end(&mut b) {
                push(p, false, format!("cannot be read: {e}"));
                continue;
            }
            if p == "pages/pages.jsonl" {
                pages_text = Some(b);
            } else if p == OLD_CDXJ {
                cdxj_text = Some((OLD_CDXJ, b));
            } else if p == CDX_GZ {
                cdx_gz = Some(b);
            } else if p == IDX {
                idx_text = Some(b);
            }
        }
        let got = format!("sha256:{}", hex::encode(hr.h.clone().finalize()));
        if *hash == got && *bytes == hr.n {
            push(p, true, "hash and size match datapackage.json".into());
        } else {
            push(
                p,
                false,
                "differs from its hash in datapackage.json: it was altered".into(),
            );
        }
        for pr in record_problems {
            push(p, false, pr);
        }
    }
    if let Some(t) = pages_text {
        for (i, line) in String::from_utf8_lossy(&t).lines().enumerate().skip(1) {
            let url = serde_json::from_str::<PageLine>(line)
                .ok()
                .and_then(|p| p.url);
            match url {
                Some(u) if pages_seen.contains(&u) => {}
                _ => push(
                    "pages/pages.jsonl",
                    false,
                    format!(
                        "line {}: page {} is not a response record in archive/",
                        i + 1,
                        url.map(|u| Value::from(u).to_string())
                            .unwrap_or_else(|| "null".into())
                    ),
                ),
            }
        }
    }
    if let (Some(gz), Some(ix)) = (cdx_gz, idx_text) {
        match unzipnum(&gz, &ix, WACZ_SMALL) {
            Ok(t) => {
                push(
                    IDX,
                    true,
                    format!(
                        "every block of {CDX_GZ} is where it says, with its digest and first key"
                    ),
                );
                cdxj_text = Some((CDX_GZ, t.into_bytes()));
            }
            Err(e) => push(IDX, false, e),
        }
    }
    let index_name = cdxj_text.as_ref().map(|c| c.0).unwrap_or(CDX_GZ);
    if too_many {
        push(
            index_name,
            true,
            format!("not checked line by line: more than {MAX_LOCATED} records"),
        );
    } else if let Some((index_name, t)) = cdxj_text {
        for (i, line) in String::from_utf8_lossy(&t).lines().enumerate() {
            let v: CdxjPlace = line
                .splitn(3, ' ')
                .nth(2)
                .and_then(|j| serde_json::from_str(j).ok())
                .unwrap_or_default();
            let num = |x: Option<String>| x.and_then(|x| x.parse::<u64>().ok());
            let found = match (v.filename, num(v.offset), num(v.length), v.url) {
                (Some(f), Some(o), Some(l), Some(u)) => {
                    located.contains(&location_key(&f, o, l, &u))
                }
                _ => false,
            };
            if !found {
                push(
                    index_name,
                    false,
                    format!(
                        "line {}: does not point at a record of that URL in archive/",
                        i + 1
                    ),
                );
            }
        }
    }
    out
}

fn location_key(file: &str, offset: u64, length: u64, url: &str) -> u64 {
    let mut h = Sha256::new();
    for part in [
        file.as_bytes(),
        &offset.to_le_bytes(),
        &length.to_le_bytes(),
        url.as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_package_reads_past_extra_fields_and_refuses_wrong_types() {
        let dp: DataPackage = serde_json::from_str(
            r#"{"profile":"data-package","wacz_version":"1.1.1","extension":{"x":1},
                "resources":[{"path":"a","hash":"sha256:00","bytes":3,"extra":true}]}"#,
        )
        .unwrap();
        assert_eq!(dp.profile.as_deref(), Some("data-package"));
        assert_eq!(dp.resources.len(), 1);
        assert_eq!(dp.resources[0].bytes, 3);
        assert!(
            serde_json::from_str::<DataPackage>(
                r#"{"profile":"data-package","resources":[{"path":"a","hash":"x","bytes":"3"}]}"#
            )
            .is_err()
        );
        assert!(serde_json::from_str::<PackageDigest>(r#"{"hash":5}"#).is_err());
    }

    #[test]
    fn a_data_package_writes_its_fields_in_order_and_the_main_page_only_when_there_is_one() {
        let mut dp = DataPackage {
            profile: Some("data-package".into()),
            wacz_version: Some("1.1.1".into()),
            resources: vec![Resource {
                name: "n".into(),
                path: "p".into(),
                hash: "h".into(),
                bytes: 1,
            }],
            ..DataPackage::default()
        };
        let s = serde_json::to_string(&dp).unwrap();
        assert!(
            s.starts_with(r#"{"profile":"data-package","wacz_version":"1.1.1","#),
            "{s}"
        );
        assert!(
            s.contains(r#""resources":[{"name":"n","path":"p","hash":"h","bytes":1}]"#),
            "{s}"
        );
        assert!(!s.contains("mainPage"), "{s}");
        dp.main_page_url = Some("u".into());
        dp.main_page_date = Some("d".into());
        let s = serde_json::to_string(&dp).unwrap();
        assert!(
            s.ends_with(r#""mainPageUrl":"u","mainPageDate":"d"}"#),
            "{s}"
        );
    }

    #[test]
    fn a_cdxj_place_reads_the_location_fields() {
        let v: CdxjPlace = serde_json::from_str(
            r#"{"url":"https://a/","mime":"text/html","status":"200","length":"10","offset":"0","filename":"f.warc.gz"}"#,
        )
        .unwrap();
        assert_eq!(v.filename.as_deref(), Some("f.warc.gz"));
        assert_eq!(v.length.as_deref(), Some("10"));
        let p: PageLine =
            serde_json::from_str(r#"{"id":"x","url":"https://a/","ts":"t"}"#).unwrap();
        assert_eq!(p.url.as_deref(), Some("https://a/"));
    }

    #[test]
    fn a_zipnum_index_has_a_block_per_1024_lines_and_reads_back_only_whole() {
        let lines: Vec<String> = (0..2500)
            .map(|i| format!("com,example)/{i:05} 20260101000000 {{\"url\":\"u{i}\"}}"))
            .collect();
        let (gz, idx) = zipnum(&lines);
        let idx_lines: Vec<&str> = idx.lines().collect();
        assert_eq!(idx_lines.len(), 1 + 3, "{idx}");
        assert!(idx_lines[2].starts_with("com,example)/01024 20260101000000 {\"offset\":"));
        let mut all = lines.join("\n");
        all.push('\n');
        assert_eq!(unzipnum(&gz, idx.as_bytes(), 1 << 20).unwrap(), all);
        // Everything inflates as one multi-member gzip stream too (what pywb reads).
        let mut whole = String::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_string(&mut whole)
            .unwrap();
        assert_eq!(whole, all);
        // A block line dropped, a wrong first key, a flipped byte, bytes past the last
        // block, an inflation over the cap: each refused.
        let no_mid: String = idx
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 2)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let e = unzipnum(&gz, no_mid.as_bytes(), 1 << 20).unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("previous one ended"),
            "{e}"
        );
        let rekeyed = idx.replacen("com,example)/01024", "com,example)/01025", 1);
        let e = unzipnum(&gz, rekeyed.as_bytes(), 1 << 20).unwrap_err();
        assert!(e.contains("first key"), "{e}");
        let mut flipped = gz.clone();
        flipped[40] ^= 1;
        let e = unzipnum(&flipped, idx.as_bytes(), 1 << 20).unwrap_err();
        assert!(e.contains("line 2") && e.contains("digest"), "{e}");
        let mut longer = gz.clone();
        longer.extend_from_slice(&warc::gzip_member(b"x 1 {}\n", 6));
        let e = unzipnum(&longer, idx.as_bytes(), 1 << 20).unwrap_err();
        assert!(e.contains("in no block"), "{e}");
        let e = unzipnum(&gz, idx.as_bytes(), 1000).unwrap_err();
        assert!(e.contains("past 1000 bytes"), "{e}");
        // No lines: one empty gzip member, no block.
        let (gz, idx) = zipnum(&[]);
        assert_eq!(idx.lines().count(), 1);
        assert_eq!(unzipnum(&gz, idx.as_bytes(), 10).unwrap(), "");
    }
}
