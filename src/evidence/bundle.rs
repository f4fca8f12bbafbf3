//! Evidence bundles (SPEC section 6): `export POST --bundle FILE.zip` and `verify-bundle`.
//!
//! `view.html` and `README.txt` are pure renderings of the bundle's other, checkable
//! contents, so `verify-bundle` re-renders them and names them when they were edited.

use super::{Ctx, print_json, tsp};
use crate::error::{Error, IoContext, Result};
use crate::log::hashes::HashStore;
use crate::log::merkle::{Hash, leaf_hash, verify_inclusion};
use crate::log::note::{Checkpoint, NoteVerifier, open_note};
use crate::store::archive::{self, layout};
use crate::store::index::{Index, RecordRow};
use crate::store::record_stream::{NoSink, PayloadSha256, PayloadTo, stream_record};
use crate::store::warc::{self, Record};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::Path;
use zip::write::SimpleFileOptions;

/// What a bundle says of one record, for the view.
#[derive(Debug, Clone)]
pub struct RecMeta {
    pub id: String,
    pub leaf: u64,
    pub warc_type: String,
    pub target: Option<String>,
    pub date: String,
    pub block_digest: Option<String>,
}

/// A post id from a post id or any URL form.
pub fn resolve_post(ix: &Index, key: &str) -> Result<String> {
    if let Some(id) = ix.resolve(key)? {
        return Ok(id);
    }
    if let Ok(u) = url::Url::parse(key)
        && let Some((p, crate::platforms::Target::Post { platform_id, url })) =
            crate::platforms::recognise(&u)
    {
        let id = format!("{}:{platform_id}", p.name());
        if let Some(found) = ix.resolve(&id)?.or(ix.resolve(&url)?) {
            return Ok(found);
        }
    }
    Err(Error::NotFound(format!(
        "no post {key:?} in this archive (try `samizdat list`)"
    )))
}

pub(crate) fn open_index(root: &Path) -> Result<Index> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here: run `samizdat init` or pass --archive DIR".into(),
        });
    }
    Index::open(&root.join(layout::INDEX), false)
}

fn media_ext(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "video/mp4" => ".mp4",
        "audio/mpeg" => ".mp3",
        _ => ".bin",
    }
}

/// `media/<sha256><ext>` for every post media item with a digest, mapped to its record id.
fn media_names(post: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for m in post["media"].as_array().into_iter().flatten() {
        if let Some(h) = m["sha256"]
            .as_str()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            let name = format!(
                "media/{}{}",
                h.to_ascii_lowercase(),
                media_ext(m["mime"].as_str().unwrap_or(""))
            );
            if seen.insert(name.clone()) {
                out.push((
                    name,
                    h.to_ascii_lowercase(),
                    m["record_id"].as_str().map(str::to_string),
                ));
            }
        }
    }
    out
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// view.html: the post as a person reads it, then every capture, check and digest.
pub fn render_view(
    post: &Value,
    recs: &[RecMeta],
    checkpoint: &str,
    tokens: &[(String, std::result::Result<tsp::TokenInfo, String>)],
) -> String {
    let s = |v: &Value| v.as_str().map(esc).unwrap_or_default();
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'\">\n");
    h.push_str(&format!(
        "<title>{} — samizdat evidence</title>\n",
        s(&post["id"])
    ));
    h.push_str("<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.5}\
.post{border:1px solid #ccc;border-radius:6px;padding:1em}.meta{color:#555;font-size:.9em}\
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}\
code{word-break:break-all}img,video{max-width:100%}</style>\n</head><body>\n");
    h.push_str("<div class=\"post\">\n");
    let author = post["author"]["name"]
        .as_str()
        .or(post["author"]["handle"].as_str())
        .unwrap_or("(unknown author)");
    h.push_str(&format!(
        "<p class=\"meta\"><b>{}</b> · {} · <a href=\"{}\">{}</a></p>\n",
        esc(author),
        s(&post["created_at"]),
        s(&post["url"]),
        s(&post["url"])
    ));
    if let Some(t) = post["title"].as_str() {
        h.push_str(&format!("<h1>{}</h1>\n", esc(t)));
    }
    for para in post["text"].as_str().unwrap_or("").split('\n') {
        h.push_str(&format!("<p>{}</p>\n", esc(para)));
    }
    for (name, _, _) in media_names(post) {
        if name.ends_with(".mp4") {
            h.push_str(&format!("<p><video controls src=\"{name}\"></video></p>\n"));
        } else {
            h.push_str(&format!("<p><img alt=\"\" src=\"{name}\"></p>\n"));
        }
    }
    for m in post["media"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["sha256"].is_null())
    {
        h.push_str(&format!(
            "<p class=\"meta\">[{} not stored: {}]</p>\n",
            s(&m["kind"]),
            s(&m["url"])
        ));
    }
    h.push_str(&format!(
        "<p class=\"meta\">state: <b>{}</b>{}</p>\n</div>\n",
        s(&post["state"]),
        post["cause"]
            .as_str()
            .map(|c| format!(" (cause {})", esc(c)))
            .unwrap_or_default()
    ));

    h.push_str("<h2>Captures</h2>\n<table><tr><th>time (UTC)</th><th>records</th><th>leaf indexes</th></tr>\n");
    for c in post["captures"].as_array().into_iter().flatten() {
        let ids: Vec<String> = c["record_ids"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| esc(x.as_str().unwrap_or("")))
            .collect();
        let leaves: Vec<String> = c["leaf_indexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| x.to_string())
            .collect();
        h.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
            s(&c["at"]),
            ids.join("<br>"),
            leaves.join(", ")
        ));
    }
    h.push_str("</table>\n<h2>Checks</h2>\n");
    let checks = post["checks"].as_array().cloned().unwrap_or_default();
    if checks.is_empty() {
        h.push_str(
            "<p>No later checks are recorded: the post was captured, not yet re-checked.</p>\n",
        );
    } else {
        h.push_str("<table><tr><th>time (UTC)</th><th>outcome</th><th>cause</th><th>HTTP</th><th>message</th><th>record</th></tr>\n");
        for c in &checks {
            h.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
                s(&c["at"]), s(&c["outcome"]), s(&c["cause"]), c["http_status"], s(&c["message"]), s(&c["record_id"])));
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Records and digests</h2>\n<table><tr><th>leaf</th><th>type</th><th>date</th><th>target</th><th>block digest</th><th>record id</th></tr>\n");
    for r in recs {
        h.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
            r.leaf, esc(&r.warc_type), esc(&r.date), esc(r.target.as_deref().unwrap_or("")), esc(r.block_digest.as_deref().unwrap_or("")), esc(&r.id)));
    }
    h.push_str("</table>\n<h2>Signed checkpoint</h2>\n");
    h.push_str(&format!("<pre>{}</pre>\n", esc(checkpoint)));
    h.push_str(&format!(
        "<p>SHA-256 of the checkpoint file: <code>{}</code></p>\n",
        hex::encode(Sha256::digest(checkpoint.as_bytes()))
    ));
    h.push_str("<h2>Timestamps</h2>\n");
    if tokens.is_empty() {
        h.push_str("<p>This checkpoint has no RFC 3161 timestamp.</p>\n");
    }
    for (name, t) in tokens {
        match t {
            Ok(t) => h.push_str(&format!(
                "<p><code>{}</code>: {} by {} (serial {}, policy {})</p>\n",
                esc(name),
                esc(&t.gen_time),
                esc(&t.signer),
                esc(&t.serial),
                esc(&t.policy)
            )),
            Err(e) => h.push_str(&format!(
                "<p><code>{}</code>: does not check: {}</p>\n",
                esc(name),
                esc(e)
            )),
        }
    }
    h.push_str("<p class=\"meta\">Made by samizdat. See README.txt for how to check every claim on this page yourself.</p>\n</body></html>\n");
    h
}

/// README.txt, in plain words.
pub fn render_readme(post_id: &str, vkey: &str, cp_size: u64, tsr_names: &[String]) -> String {
    let fp = NoteVerifier::from_vkey(vkey.trim())
        .map(|v| v.fingerprint())
        .unwrap_or_else(|_| "(unreadable key)".into());
    let tsrs = if tsr_names.is_empty() {
        "(none: this checkpoint was not timestamped)".to_string()
    } else {
        tsr_names.join(", ")
    };
    format!(
        "samizdat evidence bundle for post {post_id}
==========================================================================

What this is
------------
A copy of a public post as samizdat captured it, with everything needed to
check, without the archive and without a network, that the copy was not
changed after capture, that it was entered into a signed append-only log,
and (if a time-stamp authority was configured) when.

Files
-----
  README.txt        this text
  view.html, media/ the post as a person reads it, with every capture, check
                    and digest (open view.html in a browser; it runs no script)
  post.json         the post as data (samizdat's post object)
  records.warc.gz   the original records: HTTP exchanges, media, the post
                    record (WARC 1.1, one gzip member per record)
  proofs.json       for each record: its place in the log (leaf index), its
                    leaf hash and the Merkle inclusion proof
  checkpoint        the log's signed checkpoint (size {cp_size}) covering them
  checkpoint*.tsr   RFC 3161 time-stamp replies over `checkpoint`: {tsrs}
  tsa-chain.pem     the certificates of the time-stamp authority
  log.vkey          the log's public (verifier) key, fingerprint
                    {fp}

Checking the bundle step by step
--------------------------------
Unzip it first:  unzip bundle.zip -d bundle && cd bundle

1. The records are intact (Python's warcio: pip install warcio):
     warcio check -v records.warc.gz
   Every record must say its digests pass.

2. The timestamp covers this exact checkpoint (openssl):
     openssl ts -verify -data checkpoint -in checkpoint.tsr -CAfile TSA-CA.pem
   TSA-CA.pem must be the time-stamp authority's root certificate obtained
   from the authority itself, not from this bundle. Expect: Verification: OK.
   To see the time:  openssl ts -reply -in checkpoint.tsr -text
   (Using tsa-chain.pem from the bundle as -CAfile only shows the bundle is
   consistent; it does not show who made the timestamp.)

3. The checkpoint is signed by the log, the records are in it, and
   everything else in this bundle agrees (samizdat):
     samizdat verify-bundle bundle.zip --vkey LOG.vkey --tsa-ca TSA-CA.pem
   LOG.vkey must be the log key the archive's operator published (compare
   its fingerprint with the one above and with the published one).
   verify-bundle re-hashes every record, checks each inclusion proof against
   the checkpoint's root, the checkpoint's Ed25519 signature, each timestamp,
   post.json, media/ and view.html, and says plainly what is proven and what
   is not. Without --vkey and --tsa-ca it only checks that the bundle is
   consistent with itself.

What it proves, and what it does not
------------------------------------
If every check passes with a key and a TSA certificate you trust: these
records were in the log under that key when the checkpoint was signed, and
the checkpoint existed at the time in the timestamp. It does not prove that
the server that answered was honest, or who wrote the post: only what was
served to samizdat, and when at the latest it was archived.
"
    )
}

/// `export POST --bundle FILE`.
pub fn export_bundle(ctx: &Ctx, key: &str, out: &Path) -> Result<u8> {
    let root = &ctx.archive;
    let ix = open_index(root)?;
    let id = resolve_post(&ix, key)?;
    let post = ix
        .post_json(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;

    // Every record the post, its captures and checks rest on, plus their files' warcinfo.
    let mut ids: BTreeSet<String> = BTreeSet::new();
    for c in post["captures"].as_array().into_iter().flatten() {
        for r in c["record_ids"].as_array().into_iter().flatten() {
            ids.extend(r.as_str().map(str::to_string));
        }
    }
    for c in post["checks"].as_array().into_iter().flatten() {
        ids.extend(c["record_id"].as_str().map(str::to_string));
    }
    let mut rows: BTreeMap<u64, RecordRow> = BTreeMap::new();
    for rid in &ids {
        let row = ix.record_by_id(rid)?.ok_or_else(|| Error::Archive {
            path: root.join(layout::INDEX),
            message: format!(
                "post {id} names record {rid}, which the index does not know: run `samizdat verify`"
            ),
        })?;
        if let Some(w) = ix.warcinfo_of(&row.file)?
            && let Some(wr) = ix.record_by_id(&w)?
        {
            rows.insert(wr.leaf, wr);
        }
        rows.insert(row.leaf, row);
    }
    let max_leaf = *rows
        .keys()
        .next_back()
        .ok_or_else(|| Error::NotFound(format!("post {id} has no records")))?;

    // The newest timestamped checkpoint covering them, else the newest.
    let verifier = archive::read_verifier(root)?;
    let mut chosen: Option<(Checkpoint, Vec<u8>)> = None;
    let mut newest: Option<(Checkpoint, Vec<u8>)> = None;
    for p in archive::checkpoint_files(root)?.iter().rev() {
        let bytes = std::fs::read(p).at(p)?;
        let Ok(note) = open_note(
            &String::from_utf8_lossy(&bytes),
            std::slice::from_ref(&verifier),
        ) else {
            continue;
        };
        let cp = Checkpoint::parse(&note.text)?;
        if cp.size <= max_leaf {
            break;
        }
        if newest.is_none() {
            newest = Some((cp.clone(), bytes.clone()));
        }
        if !super::stored_tsrs(root, cp.size).is_empty() {
            chosen = Some((cp, bytes));
            break;
        }
    }
    let (cp, cp_bytes) = chosen
        .or(newest)
        .ok_or_else(|| Error::Log(format!("no signed checkpoint covers leaf {max_leaf} yet")))?;
    let hashes = HashStore::open_read_only(&root.join(layout::HASHES))?;
    if hashes.root(cp.size)? != cp.root {
        return Err(Error::Log(format!(
            "log/hashes disagree with the checkpoint of size {}: run `samizdat verify`",
            cp.size
        )));
    }
    let tsr_paths = super::stored_tsrs(root, cp.size);
    let tsr_names: Vec<String> = (1..=tsr_paths.len())
        .map(|i| {
            if i == 1 {
                "checkpoint.tsr".into()
            } else {
                format!("checkpoint.{i}.tsr")
            }
        })
        .collect();
    let tsrs: Vec<Vec<u8>> = tsr_paths
        .iter()
        .map(|p| std::fs::read(p).at(p))
        .collect::<Result<_>>()?;
    let digest: [u8; 32] = Sha256::digest(&cp_bytes).into();
    let tokens: Vec<(String, std::result::Result<tsp::TokenInfo, String>)> = tsr_names
        .iter()
        .zip(&tsrs)
        .map(|(n, r)| (n.clone(), tsp::check_response(r, &digest, None, &[], &[])))
        .collect();
    let mut chain: Vec<Vec<u8>> = vec![];
    for r in &tsrs {
        for c in tsp::token_certs(r) {
            if !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    if let Ok(config) = crate::config::Config::load(&ctx.config_path)
        && let Some(p) = super::tsa_ca_path(&config, &ctx.config_path)
    {
        for c in super::read_anchors(&p)? {
            if !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    let vkey = format!("{}\n", verifier.to_vkey());

    let file = std::fs::File::create(out).at(out)?;
    let mut z = zip::ZipWriter::new(file);
    let deflate = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time());
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip_time())
        .large_file(true);
    let zerr = |e: zip::result::ZipError| Error::io(out, std::io::Error::other(e));

    // records.warc.gz and proofs, one record at a time, each streamed in bounded chunks
    // (and its media payload hashed on the way through).
    let mut metas = vec![];
    let mut leaves = vec![];
    let mut payload_sha: BTreeMap<String, String> = BTreeMap::new();
    let media = media_names(&post);
    let media_ids: BTreeSet<String> = media.iter().filter_map(|m| m.2.clone()).collect();
    z.start_file("records.warc.gz", stored).map_err(zerr)?;
    for row in rows.values() {
        if media_ids.contains(&row.id) {
            let mut h = PayloadSha256::default();
            stream_record(root, row, &mut z, &mut h)?;
            payload_sha.insert(row.id.clone(), hex::encode(h.0.finalize()));
        } else {
            stream_record(root, row, &mut z, &mut NoSink)?;
        }
        let proof = hashes.inclusion_proof(row.leaf, cp.size)?;
        leaves.push(json!({"record_id": row.id, "leaf_index": row.leaf, "leaf_hash": Hash(row.leaf_hash).to_base64(),
            "proof": proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>()}));
        metas.push(RecMeta {
            id: row.id.clone(),
            leaf: row.leaf,
            warc_type: row.warc_type.clone(),
            target: row.target.clone(),
            date: row.date.clone(),
            block_digest: row.block_digest.clone(),
        });
    }
    let cp_text = String::from_utf8_lossy(&cp_bytes).into_owned();
    z.start_file("README.txt", deflate).map_err(zerr)?;
    z.write_all(render_readme(&id, &vkey, cp.size, &tsr_names).as_bytes())
        .at(out)?;
    z.start_file("view.html", deflate).map_err(zerr)?;
    z.write_all(render_view(&post, &metas, &cp_text, &tokens).as_bytes())
        .at(out)?;
    let by_id: BTreeMap<&str, &RecordRow> = rows.values().map(|r| (r.id.as_str(), r)).collect();
    for (name, sha, rid) in &media {
        let Some(row) = rid.as_deref().and_then(|r| by_id.get(r)) else {
            continue;
        };
        if payload_sha.get(&row.id) != Some(sha) {
            tracing::warn!(
                "{name}: the stored payload does not hash to the post's media digest; left out"
            );
            continue;
        }
        z.start_file(name.as_str(), stored).map_err(zerr)?;
        stream_record(root, row, &mut std::io::sink(), &mut PayloadTo(&mut z, out))?;
    }
    z.start_file("post.json", deflate).map_err(zerr)?;
    z.write_all(
        serde_json::to_string_pretty(&post)
            .expect("JSON")
            .as_bytes(),
    )
    .at(out)?;
    z.start_file("proofs.json", deflate).map_err(zerr)?;
    z.write_all(
        serde_json::to_string_pretty(&json!({"checkpoint_size": cp.size, "leaves": leaves}))
            .expect("JSON")
            .as_bytes(),
    )
    .at(out)?;
    z.start_file("checkpoint", stored).map_err(zerr)?;
    z.write_all(&cp_bytes).at(out)?;
    for (n, r) in tsr_names.iter().zip(&tsrs) {
        z.start_file(n.as_str(), stored).map_err(zerr)?;
        z.write_all(r).at(out)?;
    }
    z.start_file("tsa-chain.pem", deflate).map_err(zerr)?;
    z.write_all(tsp::to_pem(&chain).as_bytes()).at(out)?;
    z.start_file("log.vkey", stored).map_err(zerr)?;
    z.write_all(vkey.as_bytes()).at(out)?;
    z.finish().map_err(zerr)?.sync_all().at(out)?;

    let summary = json!({"post_id": id, "bundle": out, "records": metas.len(), "checkpoint_size": cp.size, "timestamps": tsr_names.len()});
    if ctx.json {
        print_json(&summary);
    } else {
        ctx.say(format!(
            "wrote {} ({} records, checkpoint {}, {} timestamps)",
            out.display(),
            metas.len(),
            cp.size,
            tsr_names.len()
        ));
        if tsr_names.is_empty() {
            ctx.say("note: no timestamped checkpoint covers this post yet: run `samizdat timestamp` and export again");
        }
    }
    Ok(0)
}

pub(crate) fn zip_time() -> zip::DateTime {
    zip::DateTime::default()
}

/// One line of the verify-bundle report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub file: String,
    pub ok: bool,
    pub what: String,
}

/// Reads every entry of a zip into memory (bundles are one post: small).
fn read_zip(path: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let f = std::fs::File::open(path).at(path)?;
    let mut z = zip::ZipArchive::new(f)
        .map_err(|e| Error::Usage(format!("{}: not a readable zip: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut e = z
            .by_index(i)
            .map_err(|e| Error::Usage(format!("{}: zip entry {i}: {e}", path.display())))?;
        if e.is_dir() {
            continue;
        }
        let name = e
            .name()
            .map_err(|err| Error::Usage(format!("{}: zip entry {i}: {err}", path.display())))?
            .to_string();
        let mut b = vec![];
        e.read_to_end(&mut b).map_err(|err| {
            Error::Usage(format!(
                "{}: {name}: {err} (the zip entry is damaged)",
                path.display()
            ))
        })?;
        out.insert(name, b);
    }
    Ok(out)
}

/// `verify-bundle FILE [--vkey FILE] [--tsa-ca FILE]`.
pub fn verify_bundle_cmd(
    ctx: &Ctx,
    path: &Path,
    vkey: Option<&Path>,
    tsa_ca: Option<&Path>,
) -> Result<u8> {
    let files = read_zip(path)?;
    if files.contains_key("datapackage.json") {
        return super::wacz::verify_wacz_cmd(ctx, path, files);
    }
    let given_key = match vkey {
        Some(p) => Some(
            NoteVerifier::from_vkey(std::fs::read_to_string(p).at(p)?.trim())
                .map_err(|e| Error::Usage(format!("--vkey {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let anchors = match tsa_ca {
        Some(p) => Some(super::read_anchors(p)?),
        None => None,
    };
    let (findings, facts) = verify_bundle(&files, given_key.as_ref(), anchors.as_deref());
    let ok = findings.iter().all(|f| f.ok);
    let (proven, not_proven) = conclusions(ok, &facts);
    if ctx.json {
        print_json(
            &json!({"ok": ok, "findings": findings, "vkey_fingerprint": facts.fingerprint, "vkey_checked": facts.key_given,
            "tsa_checked": facts.tsa_given, "timestamps": facts.times, "proven": proven, "not_proven": not_proven}),
        );
    } else {
        for f in &findings {
            println!(
                "{} {}: {}",
                if f.ok { "ok  " } else { "FAIL" },
                f.file,
                f.what
            );
        }
        println!();
        println!(
            "log key fingerprint: {}",
            facts.fingerprint.as_deref().unwrap_or("(unreadable)")
        );
        if !facts.key_given {
            println!(
                "  IDENTITY NOT CHECKED: the key was taken from inside the bundle; pass --vkey with the key the archive published."
            );
        }
        if !facts.tsa_given && facts.tokens > 0 {
            println!(
                "  TSA IDENTITY NOT CHECKED: the TSA certificates were taken from inside the bundle; pass --tsa-ca with the authority's own CA certificate."
            );
        }
        println!();
        println!(
            "{}",
            if ok {
                "verify-bundle: every check passed"
            } else {
                "verify-bundle: TAMPERING OR DAMAGE FOUND (see FAIL lines)"
            }
        );
        println!("What this proves:");
        for p in &proven {
            println!("  - {p}");
        }
        println!("What this does not prove:");
        for p in &not_proven {
            println!("  - {p}");
        }
    }
    Ok(if ok { 0 } else { 3 })
}

#[derive(Debug, Default)]
pub struct Facts {
    pub fingerprint: Option<String>,
    pub key_given: bool,
    pub tsa_given: bool,
    pub tokens: usize,
    pub records: usize,
    pub times: Vec<String>,
    pub cp_size: u64,
}

fn conclusions(ok: bool, f: &Facts) -> (Vec<String>, Vec<String>) {
    let mut proven = vec![];
    let mut not = vec![];
    if !ok {
        not.push("nothing: some file of this bundle was altered or damaged, so none of it can be relied on as it stands".into());
        return (proven, not);
    }
    proven.push(format!("the {} records are byte for byte those the log committed to: their digests match and each has a valid inclusion proof in the checkpoint of size {}", f.records, f.cp_size));
    if f.key_given {
        proven.push("the checkpoint was signed by the log key you supplied (--vkey)".into());
    } else {
        proven.push("the checkpoint is signed by log.vkey from inside the bundle (internal consistency only)".into());
        not.push("who signed the checkpoint: the key came from the bundle itself; compare its fingerprint with the key the archive published, or pass --vkey".into());
    }
    if f.tokens > 0 {
        let when = f.times.join(", ");
        if f.tsa_given {
            proven.push(format!("the checkpoint, and so every record in it, existed no later than {when} (RFC 3161, TSA chain checked against --tsa-ca)"));
        } else {
            proven.push(format!("a time-stamp token dated {when} covers this exact checkpoint, signed by a certificate in tsa-chain.pem (internal consistency only)"));
            not.push("that a real, trusted time-stamp authority made the timestamp: pass --tsa-ca with the authority's CA certificate".into());
        }
    } else {
        not.push("when: the checkpoint has no RFC 3161 timestamp, so the capture time rests only on the archive's own word".into());
    }
    not.push("that the server that answered told the truth, or who wrote the post: only what was served to samizdat".into());
    not.push("the capture times inside the records (WARC-Date): they are the archive's own statement, bounded only by the timestamp".into());
    (proven, not)
}

/// Reads the gzip members of an in-memory `.warc.gz`.
pub(crate) fn members(data: &[u8]) -> Vec<std::result::Result<(u64, Vec<u8>), String>> {
    let mut out = vec![];
    let mut rest = data;
    while !rest.is_empty() {
        let off = (data.len() - rest.len()) as u64;
        let mut d = flate2::bufread::GzDecoder::new(rest);
        let mut b = vec![];
        match d.read_to_end(&mut b) {
            Ok(_) => {
                rest = d.into_inner();
                out.push(Ok((off, b)));
            }
            Err(e) => {
                out.push(Err(format!("unreadable gzip member at offset {off}: {e}")));
                break;
            }
        }
    }
    out
}

/// Checks a bundle's files. Pure: no archive, no network.
pub fn verify_bundle(
    files: &BTreeMap<String, Vec<u8>>,
    given_key: Option<&NoteVerifier>,
    anchors: Option<&[Vec<u8>]>,
) -> (Vec<Finding>, Facts) {
    let mut out: Vec<Finding> = vec![];
    let mut facts = Facts {
        key_given: given_key.is_some(),
        tsa_given: anchors.is_some(),
        ..Facts::default()
    };
    let mut fail = |file: &str, what: String| {
        out.push(Finding {
            file: file.into(),
            ok: false,
            what,
        })
    };
    let mut oks: Vec<Finding> = vec![];
    let mut ok = |file: &str, what: String| {
        oks.push(Finding {
            file: file.into(),
            ok: true,
            what,
        })
    };
    let text = |n: &str| {
        files
            .get(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };

    for req in [
        "README.txt",
        "view.html",
        "post.json",
        "records.warc.gz",
        "proofs.json",
        "checkpoint",
        "tsa-chain.pem",
        "log.vkey",
    ] {
        if !files.contains_key(req) {
            fail(req, "missing from the bundle".into());
        }
    }
    let tsr_names: Vec<String> = (1..)
        .map(|i: usize| {
            if i == 1 {
                "checkpoint.tsr".to_string()
            } else {
                format!("checkpoint.{i}.tsr")
            }
        })
        .take_while(|n| files.contains_key(n))
        .collect();
    let post: Value = text("post.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let media = media_names(&post);
    for name in files.keys() {
        let known = [
            "README.txt",
            "view.html",
            "post.json",
            "records.warc.gz",
            "proofs.json",
            "checkpoint",
            "tsa-chain.pem",
            "log.vkey",
        ]
        .contains(&name.as_str())
            || tsr_names.contains(name)
            || media.iter().any(|m| &m.0 == name);
        if !known {
            fail(name, "unexpected file: not part of what samizdat writes (added, or a media file that post.json does not name)".into());
        }
    }

    // The log key.
    let bundle_key = text("log.vkey").and_then(|t| NoteVerifier::from_vkey(t.trim()).ok());
    if files.contains_key("log.vkey") && bundle_key.is_none() {
        fail("log.vkey", "not a readable verifier key".into());
    }
    if let (Some(g), Some(b)) = (given_key, &bundle_key)
        && g != b
    {
        fail(
            "log.vkey",
            format!(
                "is not the key you gave with --vkey (bundle's fingerprint {}, yours {})",
                b.fingerprint(),
                g.fingerprint()
            ),
        );
    }
    let key = given_key.cloned().or(bundle_key.clone());
    facts.fingerprint = key.as_ref().map(|k| k.fingerprint());

    // The checkpoint.
    let cp_bytes = files.get("checkpoint").cloned().unwrap_or_default();
    let cp = match &key {
        Some(k) => match open_note(&String::from_utf8_lossy(&cp_bytes), std::slice::from_ref(k)) {
            Ok(n) => match Checkpoint::parse(&n.text) {
                Ok(c) => {
                    ok(
                        "checkpoint",
                        format!(
                            "signed by {} (key {:08x}), size {}",
                            k.name(),
                            k.key_id(),
                            c.size
                        ),
                    );
                    Some(c)
                }
                Err(e) => {
                    fail("checkpoint", format!("{e}"));
                    None
                }
            },
            Err(e) => {
                fail(
                    "checkpoint",
                    format!(
                        "the signature does not verify with the log key {}: {e}",
                        k.fingerprint()
                    ),
                );
                None
            }
        },
        None => None,
    };
    facts.cp_size = cp.as_ref().map(|c| c.size).unwrap_or(0);

    // Proofs.
    let proofs: Value = text("proofs.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    if files.contains_key("proofs.json") && !proofs.is_object() {
        fail("proofs.json", "not valid JSON".into());
    }
    if let Some(c) = &cp
        && proofs.is_object()
        && proofs["checkpoint_size"].as_u64() != Some(c.size)
    {
        fail(
            "proofs.json",
            format!(
                "checkpoint_size {} is not the checkpoint's {}",
                proofs["checkpoint_size"], c.size
            ),
        );
    }
    let mut by_id: BTreeMap<String, &Value> = BTreeMap::new();
    for l in proofs["leaves"].as_array().into_iter().flatten() {
        if let Some(id) = l["record_id"].as_str() {
            by_id.insert(id.to_string(), l);
        }
    }

    // Records.
    let mut metas = vec![];
    let mut recs: Vec<Record> = vec![];
    let mut seen = BTreeSet::new();
    let mut rec_problems = 0;
    for m in members(
        files
            .get("records.warc.gz")
            .map(Vec::as_slice)
            .unwrap_or_default(),
    ) {
        let (off, bytes) = match m {
            Ok(x) => x,
            Err(e) => {
                fail("records.warc.gz", e);
                rec_problems += 1;
                continue;
            }
        };
        let rec = match warc::parse_record(&bytes) {
            Ok(r) => r,
            Err(e) => {
                fail("records.warc.gz", format!("record at offset {off}: {e}"));
                rec_problems += 1;
                continue;
            }
        };
        for p in warc::digest_problems(&rec) {
            fail(
                "records.warc.gz",
                format!(
                    "record {} ({}): {p}",
                    rec.id(),
                    rec.target_uri().unwrap_or("")
                ),
            );
            rec_problems += 1;
        }
        let lh = leaf_hash(&bytes);
        match by_id.get(rec.id()) {
            None => {
                fail(
                    "proofs.json",
                    format!("has no proof for record {}", rec.id()),
                );
                rec_problems += 1;
            }
            Some(l) => {
                let idx = l["leaf_index"].as_u64().unwrap_or(u64::MAX);
                if l["leaf_hash"].as_str() != Some(&lh.to_base64()) {
                    fail(
                        "records.warc.gz",
                        format!(
                            "record {} does not hash to the leaf hash in proofs.json (leaf {idx})",
                            rec.id()
                        ),
                    );
                    rec_problems += 1;
                }
                let proof: Option<Vec<Hash>> = l["proof"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|h| h.as_str().and_then(Hash::from_base64))
                            .collect()
                    })
                    .unwrap_or(None);
                if let Some(c) = &cp {
                    match proof {
                        None => {
                            fail(
                                "proofs.json",
                                format!("leaf {idx}: proof hashes unreadable"),
                            );
                            rec_problems += 1;
                        }
                        Some(p) => {
                            if let Err(e) = verify_inclusion(&lh, idx, c.size, &p, &c.root) {
                                fail(
                                    "proofs.json",
                                    format!(
                                        "leaf {idx} (record {}): inclusion proof does not verify against the checkpoint: {e}",
                                        rec.id()
                                    ),
                                );
                                rec_problems += 1;
                            }
                        }
                    }
                }
                metas.push(RecMeta {
                    id: rec.id().to_string(),
                    leaf: idx,
                    warc_type: rec.warc_type().to_string(),
                    target: rec.target_uri().map(str::to_string),
                    date: rec.date().to_string(),
                    block_digest: rec.field("WARC-Block-Digest").map(str::to_string),
                });
            }
        }
        seen.insert(rec.id().to_string());
        recs.push(rec);
    }
    for id in by_id.keys().filter(|k| !seen.contains(*k)) {
        fail(
            "records.warc.gz",
            format!("record {id} (listed in proofs.json) is missing"),
        );
        rec_problems += 1;
    }
    facts.records = recs.len();
    if rec_problems == 0 && cp.is_some() {
        ok(
            "records.warc.gz",
            format!(
                "{} records: digests match, each is in the checkpoint by its inclusion proof",
                recs.len()
            ),
        );
    }

    // Timestamps.
    let digest: [u8; 32] = Sha256::digest(&cp_bytes).into();
    let chain = tsp::pem_certs(&text("tsa-chain.pem").unwrap_or_default());
    let internal_anchors = tsp::self_signed(&chain);
    let use_anchors: Vec<Vec<u8>> = anchors.map(|a| a.to_vec()).unwrap_or(internal_anchors);
    let mut tokens = vec![];
    for n in &tsr_names {
        let resp = &files[n];
        facts.tokens += 1;
        match tsp::check_response(resp, &digest, None, &use_anchors, &chain) {
            Ok(t) => {
                ok(
                    n,
                    format!(
                        "RFC 3161 token over the checkpoint's SHA-256, {} by {}; chain {}",
                        t.gen_time,
                        t.signer,
                        if anchors.is_some() {
                            "checked against --tsa-ca"
                        } else {
                            "checked against tsa-chain.pem only (identity NOT checked)"
                        }
                    ),
                );
                facts.times.push(t.gen_time.clone());
            }
            Err(e) => {
                let hint = if anchors.is_none() && e.contains("chain") {
                    " (tsa-chain.pem may have been altered)"
                } else {
                    ""
                };
                fail(n, format!("{e}{hint}"));
            }
        }
        tokens.push((
            n.clone(),
            tsp::check_response(resp, &digest, None, &[], &[]),
        ));
    }

    // post.json against the post records.
    if files.contains_key("post.json") && !post.is_object() {
        fail("post.json", "not valid JSON".into());
    } else if post.is_object() {
        let mut problems = vec![];
        let newest = recs
            .iter()
            .filter(|r| r.field("Content-Type") == Some(warc::mime::POST))
            .max_by(|a, b| a.date().cmp(b.date()));
        match newest.and_then(|r| serde_json::from_slice::<Value>(&r.block).ok()) {
            None => problems.push("no post record in records.warc.gz to compare with".to_string()),
            Some(pr) => {
                let derived = [
                    "state",
                    "cause",
                    "message",
                    "last_seen_live",
                    "first_seen_gone",
                    "captures",
                    "checks",
                ];
                for (k, v) in pr["post"].as_object().into_iter().flatten() {
                    if !derived.contains(&k.as_str()) && post.get(k) != Some(v) {
                        problems.push(format!("field {k:?} differs from the post record"));
                    }
                }
            }
        }
        for c in post["captures"].as_array().into_iter().flatten() {
            for r in c["record_ids"].as_array().into_iter().flatten() {
                if !r.as_str().is_some_and(|r| seen.contains(r)) {
                    problems.push(format!("names record {r} which is not in records.warc.gz"));
                }
            }
        }
        if problems.is_empty() {
            ok(
                "post.json",
                "agrees with the post record in records.warc.gz".into(),
            );
        }
        for p in problems {
            fail("post.json", p);
        }
    }

    // media/ against the records' payloads.
    let payload_by_id: BTreeMap<&str, &[u8]> = recs.iter().map(|r| (r.id(), r.payload())).collect();
    for (name, sha, rid) in &media {
        let want = rid.as_deref().and_then(|r| payload_by_id.get(r));
        match (files.get(name), want) {
            (Some(b), Some(w)) if b == w && hex::encode(Sha256::digest(b)) == *sha => {
                ok(name, "same bytes as the record's payload".into())
            }
            (Some(_), _) => fail(
                name,
                "differs from the media record's payload in records.warc.gz".into(),
            ),
            (None, Some(_)) => fail(name, "missing from the bundle".into()),
            (None, None) => {}
        }
    }

    // Renderings.
    metas.sort_by_key(|m| m.leaf);
    let cp_text = String::from_utf8_lossy(&cp_bytes).into_owned();
    if post.is_object()
        && let Some(v) = files.get("view.html")
    {
        if *v != render_view(&post, &metas, &cp_text, &tokens).into_bytes() {
            fail(
                "view.html",
                "differs from the rendering of the bundle's checked contents: it was edited".into(),
            );
        } else {
            ok(
                "view.html",
                "is exactly the rendering of the checked contents".into(),
            );
        }
    }
    if let (Some(id), Some(vk), Some(c)) = (post["id"].as_str(), text("log.vkey"), &cp)
        && let Some(r) = files.get("README.txt")
    {
        if *r != render_readme(id, &vk, c.size, &tsr_names).into_bytes() {
            fail(
                "README.txt",
                "differs from what samizdat writes: it was edited".into(),
            );
        } else {
            ok("README.txt", "unchanged".into());
        }
    }
    out.extend(oks);
    out.sort_by_key(|f| f.ok);
    (out, facts)
}
