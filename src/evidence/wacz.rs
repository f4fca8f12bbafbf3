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
    let mut cdxj = idx.cdxj.join("\n");
    cdxj.push('\n');
    small(&mut z, "indexes/index.cdxj", cdxj.as_bytes())?;
    let mut pj = pages.join("\n");
    pj.push('\n');
    small(&mut z, "pages/pages.jsonl", pj.as_bytes())?;

    let now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
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

/// What the check reads of an `indexes/index.cdxj` line's JSON: where its record is
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
        "indexes/index.cdxj",
    ];
    let warc = |n: &str| {
        n.strip_prefix("archive/")
            .is_some_and(|f| !f.is_empty() && !f.contains('/') && f.ends_with(".warc.gz"))
    };
    let mut why = vec![];
    for f in fixed {
        if !names.iter().any(|n| n == f) {
            why.push(format!("no {f}"));
        }
    }
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
    let mut cdxj_text = None;
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
            } else if p == "indexes/index.cdxj" {
                cdxj_text = Some(b);
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
    if too_many {
        push(
            "indexes/index.cdxj",
            true,
            format!("not checked line by line: more than {MAX_LOCATED} records"),
        );
    } else if let Some(t) = cdxj_text {
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
                    "indexes/index.cdxj",
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
}
