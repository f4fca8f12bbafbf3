//! `export [POST...] [--query Q] [--all] --wacz FILE.wacz`: WACZ 1.1.1.
//!
//! The WARC gzip members are copied byte for byte into `archive/*.warc.gz`, stored (no
//! deflate). `--all` copies every WARC file whole; a selection of posts writes their
//! records (and their files' warcinfo) into `archive/data.warc.gz`. Record bytes stream
//! through; what stays in memory is one CDXJ line per indexed record and the set of
//! selected leaf numbers.

use super::{Ctx, print_json};
use crate::error::{Error, IoContext, Result};
use crate::store::archive::{self, layout};
use crate::store::index::{Index, ListFilter};
use crate::store::record_stream::{RecordSink, stream_record};
use crate::store::warc;
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
            ids.extend(v["id"].as_str().map(str::to_string));
        }
        return Ok(ids);
    }
    for k in keys {
        ids.push(super::bundle::resolve_post(ix, k)?);
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

/// `export … --wacz FILE`.
pub fn export_wacz(
    ctx: &Ctx,
    keys: &[String],
    query: Option<&str>,
    all: bool,
    out: &Path,
) -> Result<u8> {
    let root = &ctx.archive;
    let ix = super::bundle::open_index(root)?;
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
    let t = super::bundle::zip_time();
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(t)
        .large_file(true);
    let deflate = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(t)
        .large_file(true);
    let zerr = |e: zip::result::ZipError| Error::io(out, std::io::Error::other(e));
    let mut resources: Vec<Value> = vec![];
    let mut idx = Indexer {
        cdxj: vec![],
        pages: HashMap::new(),
    };
    let mut records = 0u64;

    if all {
        for name in archive::warc_files(root)? {
            let p = root.join(layout::WARC_DIR).join(&name);
            let path_in_zip = format!("archive/{name}");
            z.start_file(path_in_zip.as_str(), stored).map_err(zerr)?;
            let mut w = Hashing {
                inner: &mut z,
                h: Sha256::new(),
                n: 0,
            };
            let mut f = std::fs::File::open(&p).at(&p)?;
            std::io::copy(&mut f, &mut w).at(&p)?;
            let (h, n) = (w.h.finalize(), w.n);
            resources.push(json!({"name": name, "path": path_in_zip, "hash": format!("sha256:{}", hex::encode(h)), "bytes": n}));
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
                .post_json(id)?
                .ok_or_else(|| Error::NotFound(id.clone()))?;
            for c in post["captures"].as_array().into_iter().flatten() {
                for r in c["record_ids"].as_array().into_iter().flatten() {
                    if let Some(row) = r
                        .as_str()
                        .map(|r| ix.record_by_id(r))
                        .transpose()?
                        .flatten()
                    {
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
        resources.push(json!({"name": name, "path": path_in_zip, "hash": format!("sha256:{}", hex::encode(h)), "bytes": n}));
    }

    // pages: for each post, the first HTML page its captures fetched.
    let mut pages =
        vec![json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}).to_string()];
    let mut main_page: Option<(String, String)> = None;
    for id in &ids {
        let post = ix
            .post_json(id)?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        for c in post["captures"].as_array().into_iter().flatten() {
            let hit = c["record_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|r| r.as_str().and_then(|r| idx.pages.get(r)));
            if let Some((url, ts)) = hit {
                let title = post["title"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        post["text"]
                            .as_str()
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
    let mut small = |z: &mut zip::ZipWriter<std::fs::File>,
                     name: &str,
                     bytes: &[u8]|
     -> Result<()> {
        z.start_file(name, deflate).map_err(zerr)?;
        z.write_all(bytes).at(out)?;
        resources.push(json!({"name": name.rsplit('/').next().unwrap_or(name), "path": name, "hash": format!("sha256:{}", hex::encode(Sha256::digest(bytes))), "bytes": bytes.len()}));
        Ok(())
    };
    let mut cdxj = idx.cdxj.join("\n");
    cdxj.push('\n');
    small(&mut z, "indexes/index.cdxj", cdxj.as_bytes())?;
    let mut pj = pages.join("\n");
    pj.push('\n');
    small(&mut z, "pages/pages.jsonl", pj.as_bytes())?;

    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut dp = json!({
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": if all { "samizdat archive".to_string() } else { format!("samizdat export of {} posts", ids.len()) },
        "description": "Exported by samizdat. Each WARC record is also a leaf of the archive's signed Merkle log; use `samizdat export POST --bundle` for per-post proofs.",
        "created": now,
        "modified": now,
        "software": format!("samizdat {}", env!("CARGO_PKG_VERSION")),
        "resources": resources,
    });
    if let Some((u, ts)) = &main_page {
        dp["mainPageUrl"] = json!(u);
        dp["mainPageDate"] = json!(ts);
    }
    let dp_bytes = serde_json::to_vec_pretty(&dp).expect("JSON");
    z.start_file("datapackage.json", deflate).map_err(zerr)?;
    z.write_all(&dp_bytes).at(out)?;
    let digest = json!({"path": "datapackage.json", "hash": format!("sha256:{}", hex::encode(Sha256::digest(&dp_bytes)))});
    z.start_file("datapackage-digest.json", deflate)
        .map_err(zerr)?;
    z.write_all(
        serde_json::to_string_pretty(&digest)
            .expect("JSON")
            .as_bytes(),
    )
    .at(out)?;
    z.finish().map_err(zerr)?.sync_all().at(out)?;

    let n_pages = pages.len() - 1;
    if ctx.json {
        print_json(&json!({"wacz": out, "posts": ids.len(), "records": records, "pages": n_pages}));
    } else {
        ctx.say(format!(
            "wrote {} ({} posts, {records} records, {n_pages} pages)",
            out.display(),
            ids.len()
        ));
    }
    Ok(0)
}

/// `verify-bundle` on a WACZ: every file against datapackage.json, and datapackage.json
/// against datapackage-digest.json. (No log proofs travel in a WACZ.)
pub fn verify_wacz_cmd(ctx: &Ctx, path: &Path, files: BTreeMap<String, Vec<u8>>) -> Result<u8> {
    let mut findings: Vec<(String, bool, String)> = vec![];
    let dp_bytes = files.get("datapackage.json").cloned().unwrap_or_default();
    let dp: Value = serde_json::from_slice(&dp_bytes).unwrap_or(Value::Null);
    match files
        .get("datapackage-digest.json")
        .and_then(|d| serde_json::from_slice::<Value>(d).ok())
    {
        Some(d)
            if d["hash"].as_str()
                == Some(&format!(
                    "sha256:{}",
                    hex::encode(Sha256::digest(&dp_bytes))
                )) =>
        {
            findings.push((
                "datapackage.json".into(),
                true,
                "matches datapackage-digest.json".into(),
            ))
        }
        _ => findings.push((
            "datapackage.json".into(),
            false,
            "does not match datapackage-digest.json (one of the two was altered)".into(),
        )),
    }
    let mut listed = BTreeSet::new();
    for r in dp["resources"].as_array().into_iter().flatten() {
        let p = r["path"].as_str().unwrap_or("").to_string();
        listed.insert(p.clone());
        match files.get(&p) {
            None => findings.push((p, false, "listed in datapackage.json but missing".into())),
            Some(b)
                if r["hash"].as_str()
                    == Some(&format!("sha256:{}", hex::encode(Sha256::digest(b))))
                    && r["bytes"].as_u64() == Some(b.len() as u64) =>
            {
                findings.push((p, true, "hash and size match datapackage.json".into()))
            }
            Some(_) => findings.push((
                p,
                false,
                "differs from its hash in datapackage.json: it was altered".into(),
            )),
        }
    }
    for name in files.keys() {
        if !listed.contains(name) && name != "datapackage.json" && name != "datapackage-digest.json"
        {
            findings.push((name.clone(), false, "not listed in datapackage.json".into()));
        }
    }
    let ok = findings.iter().all(|f| f.1);
    if ctx.json {
        print_json(
            &json!({"ok": ok, "wacz": path, "findings": findings.iter().map(|(f, o, w)| json!({"file": f, "ok": o, "what": w})).collect::<Vec<_>>()}),
        );
    } else {
        for (f, o, w) in &findings {
            println!("{} {f}: {w}", if *o { "ok  " } else { "FAIL" });
        }
        println!(
            "{}",
            if ok {
                "verify-bundle: the WACZ is internally consistent (it carries no log proofs or timestamps)"
            } else {
                "verify-bundle: TAMPERING OR DAMAGE FOUND (see FAIL lines)"
            }
        );
    }
    let _ = Read::bytes(&[][..]);
    Ok(if ok { 0 } else { 3 })
}
