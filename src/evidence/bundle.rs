//! Evidence bundles (docs/evidence.md): `export POST --bundle FILE.zip` and `verify-bundle`.
//!
//! `view.html` and `README.txt` are pure renderings of the bundle's other, checkable
//! contents, so `verify-bundle` re-renders them and names them when they were edited.

use super::{Ctx, check, report, tsp};
use crate::error::{Error, IoContext, Result};
use crate::log::hashes::HashStore;
use crate::log::merkle::Hash;
use crate::log::note::{Checkpoint, NoteVerifier, open_note};
use crate::log::proof::TlogProof;
use crate::model::MediaKind;
use crate::store::archive::{self, layout};
use crate::store::bodies::ThreadRecord;
use crate::store::index::RecordRow;
use crate::store::record_stream::{NoSink, PayloadSha256, PayloadTo, stream_record};
use crate::store::views::{ConversationView, PostView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
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

/// `proofs.json`: where each record of the bundle sits in the log, under which checkpoint.
/// Written by [`write_bundle`] and read back by `verify-bundle` through this one type, so
/// the two cannot disagree on its shape (field order is the file's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    /// The size of the bundle's checkpoint, which every proof is against.
    pub checkpoint_size: u64,
    /// In leaf order.
    pub leaves: Vec<LeafProof>,
}

/// `comments.json`: the post's conversation (docs/comments.md), present when the archive
/// holds a reading of it. Like `post.json` it asserts nothing of its own: `verify-bundle`
/// derives it again from the thread, post and check records in `records.warc.gz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comments {
    /// The newest reading of the conversation (its thread record).
    pub conversation: Option<ConversationView>,
    /// Every captured comment, reply and repost as a post object of its own (with its
    /// captures, checks and state), in the order of [`comment_order`].
    pub comments: Vec<PostView>,
}

/// The order of `comments.json`: by the leaf of each comment's first capture's post
/// record (the order the archive first held them), id breaking ties. One function for
/// writer and checker, so they cannot disagree.
pub fn comment_order(comments: &mut [PostView]) {
    let first = |v: &PostView| {
        v.captures
            .first()
            .and_then(|c| c.leaf_indexes.last().copied())
            .unwrap_or(u64::MAX)
    };
    comments.sort_by(|a, b| (first(a), &a.post.id.0).cmp(&(first(b), &b.post.id.0)));
}

/// The conversation line a thread record makes (as the index's `threads` row does).
pub fn conversation_of(t: &ThreadRecord, record_id: &str) -> ConversationView {
    ConversationView {
        status: t.status,
        at: t.at.clone(),
        count: t.listed.len(),
        message: t.message.clone(),
        record_id: record_id.to_string(),
    }
}

/// One record's place in the log and its inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafProof {
    pub record_id: String,
    pub leaf_index: u64,
    /// Base64.
    pub leaf_hash: String,
    /// Base64 hashes, leaf to root.
    pub proof: Vec<String>,
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
pub(crate) fn media_names(post: &PostView) -> Vec<(String, String, Option<String>)> {
    let mut out = vec![];
    let mut seen = BTreeSet::new();
    for m in &post.post.media {
        if let Some(h) = m
            .sha256
            .as_deref()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            let name = format!(
                "media/{}{}",
                h.to_ascii_lowercase(),
                media_ext(m.mime.as_deref().unwrap_or(""))
            );
            if seen.insert(name.clone()) {
                out.push((name, h.to_ascii_lowercase(), m.record_id.clone()));
            }
        }
    }
    out
}

/// A media kind's name as post.json spells it.
fn kind_name(k: MediaKind) -> &'static str {
    match k {
        MediaKind::Image => "image",
        MediaKind::Video => "video",
        MediaKind::Audio => "audio",
        MediaKind::Gif => "gif",
        MediaKind::File => "file",
    }
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// view.html: the post as a person reads it, then every capture, check and digest.
pub fn render_view(
    view: &PostView,
    comments: Option<&Comments>,
    recs: &[RecMeta],
    checkpoint: &str,
    tokens: &[(String, std::result::Result<tsp::TokenInfo, String>)],
) -> String {
    let s = |v: Option<&str>| v.map(esc).unwrap_or_default();
    let post = &view.post;
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'\">\n");
    h.push_str(&format!(
        "<title>{} — samizdat evidence</title>\n",
        esc(&post.id.0)
    ));
    h.push_str("<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.5}\
.post{border:1px solid #ccc;border-radius:6px;padding:1em}.meta{color:#555;font-size:.9em}\
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.2em .4em;text-align:left;vertical-align:top}\
code{word-break:break-all}img,video{max-width:100%}</style>\n</head><body>\n");
    h.push_str("<div class=\"post\">\n");
    let author = post.author_label();
    h.push_str(&format!(
        "<p class=\"meta\"><b>{}</b> · {} · <a href=\"{}\">{}</a></p>\n",
        esc(author),
        s(post.created_at.as_deref()),
        esc(&post.url),
        esc(&post.url)
    ));
    if let Some(t) = &post.title {
        h.push_str(&format!("<h1>{}</h1>\n", esc(t)));
    }
    for para in post.text.as_deref().unwrap_or("").split('\n') {
        h.push_str(&format!("<p>{}</p>\n", esc(para)));
    }
    for (name, _, _) in media_names(view) {
        if name.ends_with(".mp4") {
            h.push_str(&format!("<p><video controls src=\"{name}\"></video></p>\n"));
        } else {
            h.push_str(&format!("<p><img alt=\"\" src=\"{name}\"></p>\n"));
        }
    }
    for m in post.media.iter().filter(|m| m.sha256.is_none()) {
        h.push_str(&format!(
            "<p class=\"meta\">[{} not stored: {}]</p>\n",
            kind_name(m.kind),
            esc(&m.url)
        ));
    }
    h.push_str(&format!(
        "<p class=\"meta\">state: <b>{}</b>{}</p>\n</div>\n",
        view.state.as_str(),
        view.cause
            .map(|c| format!(" (cause {})", c.as_str()))
            .unwrap_or_default()
    ));

    if let Some(c) = comments {
        render_comments(&mut h, c);
    }

    h.push_str("<h2>Captures</h2>\n<table><tr><th>time (UTC)</th><th>records</th><th>leaf indexes</th></tr>\n");
    for c in &view.captures {
        let ids: Vec<String> = c.record_ids.iter().map(|x| esc(x)).collect();
        let leaves: Vec<String> = c.leaf_indexes.iter().map(u64::to_string).collect();
        h.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
            esc(&c.at),
            ids.join("<br>"),
            leaves.join(", ")
        ));
    }
    h.push_str("</table>\n<h2>Checks</h2>\n");
    if view.checks.is_empty() {
        h.push_str(
            "<p>No later checks are recorded: the post was captured, not yet re-checked.</p>\n",
        );
    } else {
        h.push_str("<table><tr><th>time (UTC)</th><th>outcome</th><th>cause</th><th>HTTP</th><th>message</th><th>record</th></tr>\n");
        for c in &view.checks {
            // An absent HTTP status reads `null`, as the JSON value it was rendered from.
            let status = c
                .http_status
                .map(|n| n.to_string())
                .unwrap_or_else(|| "null".into());
            h.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
                esc(&c.at), c.outcome.as_str(), s(c.cause.map(|x| x.as_str())), status, s(c.message.as_deref()), esc(&c.record_id)));
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

/// view.html's conversation: the reading, then every comment nested by `reply_to`
/// (as the archive's post page nests them), each with its author, time, text and state.
fn render_comments(h: &mut String, c: &Comments) {
    use crate::store::views::{CommentView, nest_comments};
    h.push_str("<h2>Comments</h2>\n");
    if let Some(r) = &c.conversation {
        h.push_str(&format!(
            "<p class=\"meta\">last read {}: {} ({} listed){}; thread record <code>{}</code></p>\n",
            esc(&r.at),
            esc(r.status.as_str()),
            r.count,
            r.message
                .as_deref()
                .map(|m| format!(", the platform says \u{201c}{}\u{201d}", esc(m)))
                .unwrap_or_default(),
            esc(&r.record_id)
        ));
    }
    let flat = c
        .comments
        .iter()
        .map(|v| CommentView {
            post: v.post.clone(),
            state: v.state,
            cause: v.cause,
            replies: vec![],
        })
        .collect();
    fn one(h: &mut String, c: &CommentView) {
        let p = &c.post;
        h.push_str(&format!(
            "<li><p class=\"meta\"><b>{}</b> · {} · {} · state <b>{}</b>{}</p>\n",
            esc(p.author_label()),
            esc(p.created_at.as_deref().unwrap_or("")),
            esc(&p.id.0),
            c.state.as_str(),
            c.cause
                .map(|x| format!(" (cause {})", x.as_str()))
                .unwrap_or_default()
        ));
        for para in p.text.as_deref().unwrap_or("").split('\n') {
            h.push_str(&format!("<p>{}</p>\n", esc(para)));
        }
        if !c.replies.is_empty() {
            h.push_str("<ul>\n");
            for r in &c.replies {
                one(h, r);
            }
            h.push_str("</ul>\n");
        }
        h.push_str("</li>\n");
    }
    let nested = nest_comments(flat);
    if nested.is_empty() {
        h.push_str("<p>No comment was captured.</p>\n");
    } else {
        h.push_str("<ul>\n");
        for c in &nested {
            one(h, c);
        }
        h.push_str("</ul>\n");
    }
}

/// The members of a bundle README.txt names beyond the fixed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extras {
    /// `report.html` (every bundle this samizdat writes; not those of earlier versions).
    pub report: bool,
    /// `screenshot.png` and `rendered.html`: the post's newest render.
    pub rendered: bool,
    /// Provenance records in `provenance.json` (0: no such file).
    pub provenance: usize,
    /// `report.pdf`.
    pub pdf: bool,
    /// `policy`, `proofs/*.tlog-proof` and this many cosignatures in
    /// `checkpoint.cosignatures` (`None`: a bundle from before witnessing).
    pub witnessed: Option<usize>,
}

/// The name of a record's tlog-proof in a bundle: `proofs/<uuid>.tlog-proof`.
pub fn tlog_proof_name(record_id: &str) -> String {
    let bare = record_id
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_start_matches("urn:uuid:");
    let safe: String = bare
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("proofs/{safe}.tlog-proof")
}

/// Prints the report with the configured browser (a runtime of its own: export is
/// synchronous, and runs on a blocking thread under the web server).
fn print_report(
    cfg: &crate::config::BrowserConfig,
    html: &str,
) -> std::result::Result<Vec<u8>, String> {
    let exe = crate::capture::browser::find_executable(cfg)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("a runtime to drive the browser: {e}"))?;
    let timeout = std::time::Duration::from_secs(cfg.render_timeout_secs.max(30));
    rt.block_on(crate::capture::browser::print_pdf(cfg, &exe, html, timeout))
}

/// README.txt, in plain words.
pub fn render_readme(
    post_id: &str,
    vkey: &str,
    cp_size: u64,
    tsr_names: &[String],
    comments: Option<&Comments>,
    custody: usize,
    extras: &Extras,
) -> String {
    // A bundle from before the report (no report.html) reads as it was written.
    let step3_files = if extras.report {
        "   post.json, media/, view.html and every other file (the report rendered\n   again and compared, the stamped screenshot pixel for pixel against its\n   record), and says plainly what is proven and what is not. Without\n   --vkey and --tsa-ca it only checks that the bundle is consistent with\n   itself."
    } else {
        "   post.json, media/ and view.html, and says plainly what is proven and what\n   is not. Without --vkey and --tsa-ca it only checks that the bundle is\n   consistent with itself."
    };
    let mut report_lines = String::new();
    if extras.report {
        report_lines.push_str("  report.html       the technical report: what was collected, when, how and by\n                    whom, every digest, the proofs, the custody events, what is\n                    and is not proven, and a certification TEMPLATE to complete\n");
    }
    if extras.pdf {
        report_lines.push_str("  report.pdf        the same report printed by the browser (its shape is checked,\n                    its content is report.html's)\n");
    }
    if extras.rendered {
        report_lines.push_str("  screenshot.png    the newest render's screenshot: the screenshot record's\n                    pixels, untouched, below a strip giving the URL, the capture\n                    time, the clock's offset, the post id and the record's SHA-256\n  rendered.html     the page's DOM after its scripts ran (the DOM record's payload;\n                    open it with care: it is the page's own markup)\n");
    }
    if extras.provenance > 0 {
        report_lines.push_str(&format!(
            "  provenance.json   the provenance records of its captures ({}): tool, settings,\n                    collector, the peers that answered, the clock's offset\n",
            extras.provenance
        ));
    }
    // Only a bundle with comments names comments.json, so older bundles read as before.
    let comments_line = match comments {
        Some(c) => format!(
            "  comments.json     the {} captured comments, replies and reposts, each a post\n                    object of its own, and the last reading of the conversation\n",
            c.comments.len()
        ),
        None => String::new(),
    };
    let custody_line = if custody > 0 {
        format!(
            "  custody.json      the {custody} custody events of the post before this export: earlier\n                    exports and recorded checks, each a custody record in records.warc.gz\n"
        )
    } else {
        String::new()
    };
    // Only a bundle with a policy names it and the tlog-proofs, so older ones read as
    // before.
    let (witness_lines, witness_step) = match extras.witnessed {
        None => (String::new(), String::new()),
        Some(n) => (
            format!(
                "  checkpoint.cosignatures\n                    the witnesses' cosignatures of `checkpoint` (C2SP\n                    tlog-cosignature): {}\n  policy            the log's trust policy (C2SP tlog-policy): its key, its\n                    witnesses and how many of them must cosign (the quorum)\n  proofs/           one C2SP tlog-proof per record (<record>.tlog-proof): its\n                    index, inclusion proof and the cosigned checkpoint, so one\n                    record can be checked on its own\n",
                if n == 0 {
                    "none (no witness had cosigned it)".to_string()
                } else {
                    n.to_string()
                }
            ),
            "
4. Independent witnesses saw the same checkpoint (samizdat):
     samizdat verify-bundle bundle.zip --policy POLICY
   POLICY is a tlog-policy naming the log key and the witnesses you trust,
   and how many must have cosigned (the bundle's own `policy` says what the
   archive asked for, but proves nothing about who the witnesses are).
   verify-bundle reports each witness's cosignature and when it was made,
   and fails when your quorum is not met. A witness cosigns only after
   checking that the checkpoint extends every one it saw before, so a quorum
   means the log could not have shown you a different history from the one
   it showed the witnesses.
"
            .to_string(),
        ),
    };
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
{report_lines}  post.json         the post as data (samizdat's post object)
{comments_line}{custody_line}  records.warc.gz   the original records: HTTP exchanges, media, the post
                    record (WARC 1.1, one gzip member per record)
  proofs.json       for each record: its place in the log (leaf index), its
                    leaf hash and the Merkle inclusion proof
  checkpoint        the log's signed checkpoint (size {cp_size}) covering them
  checkpoint*.tsr   RFC 3161 time-stamp replies over `checkpoint`: {tsrs}
  tsa-chain.pem     the certificates of the time-stamp authority
  log.vkey          the log's public (verifier) key, fingerprint
                    {fp}
{witness_lines}
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
{step3_files}
{witness_step}
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

/// What `export POST --bundle FILE` wrote (its JSON is the command's `--json` line).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BundleSummary {
    pub post_id: String,
    pub bundle: PathBuf,
    pub records: usize,
    /// Comments, replies and reposts in `comments.json` (docs/comments.md).
    pub comments: usize,
    pub checkpoint_size: u64,
    /// Timestamp replies in the bundle (0: no timestamped checkpoint covers the post).
    pub timestamps: usize,
    /// The custody record of this export (docs/provenance.md), once written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custody: Option<String>,
    /// `screenshot.png` and `rendered.html` are in it (the post's newest render).
    pub rendered: bool,
    /// `report.pdf` is in it.
    pub pdf: bool,
    /// What did not go as asked, the export going on (a browser that could not print).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Whether a bundle carries `report.pdf` (docs/evidence.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pdf {
    /// Never (the web API's exports: the same archive exports to the same bytes, and a
    /// PDF is not reproducible).
    Never,
    /// When a browser is in use for this archive (`[browser] render` is not `never`); a
    /// browser that cannot print is a warning, and the bundle has `report.html` alone.
    #[default]
    IfConfigured,
    /// `export --pdf`: printed, or the export fails.
    Required,
}

/// The API's export (see [`write_bundle`]): no PDF, so the bytes are the archive's.
pub fn export_bundle(ctx: &Ctx, key: &str, out: &Path) -> Result<super::Exported> {
    write_bundle(ctx, key, out, Pdf::Never).map(super::Exported::Bundle)
}

/// Writes the evidence bundle of the post `key` names to `out`.
pub fn write_bundle(ctx: &Ctx, key: &str, out: &Path, pdf: Pdf) -> Result<BundleSummary> {
    let root = &ctx.archive;
    let ix = super::open_index(root)?;
    let id = ix.resolve_post(key)?;
    let view = ix
        .post_view(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;

    // Every record the post, its captures and checks rest on (a check: its own record,
    // the exchanges it made and, edited, its new post record), plus their files' warcinfo.
    let mut ids: BTreeSet<String> = view.evidence_ids().map(str::to_string).collect();
    // Its conversation: every reading's thread record and the pages it read, and every
    // captured comment with what it rests on.
    let (comment_ids, readings) = ix.thread_evidence(&id)?;
    let mut conversation = None;
    for rid in &readings {
        let row = ix.record_by_id(rid)?.ok_or_else(|| Error::Archive {
            path: root.join(layout::INDEX),
            message: format!(
                "post {id} names thread record {rid}, which the index does not know: run `samizdat verify`"
            ),
        })?;
        let mut body = vec![];
        stream_record(
            root,
            &row,
            &mut std::io::sink(),
            &mut PayloadTo(&mut body, root),
        )?;
        let t: ThreadRecord = serde_json::from_slice(&body).map_err(|e| Error::Warc {
            file: row.file.clone(),
            offset: row.offset,
            message: format!("thread record {rid} is unreadable: {e}; run `samizdat verify`"),
        })?;
        ids.extend(t.record_ids.iter().cloned());
        ids.insert(rid.clone());
        conversation = Some(conversation_of(&t, rid));
    }
    let mut comments = vec![];
    for cid in &comment_ids {
        if let Some(v) = ix.post_view(cid)? {
            ids.extend(v.evidence_ids().map(str::to_string));
            comments.push(v);
        }
    }
    comment_order(&mut comments);
    // Where copies of it went before this one (this export's own custody record is
    // written after the file, so it cannot be in it).
    let custody = ix.custody_of(&id)?;
    ids.extend(custody.iter().map(|c| c.record_id.clone()));
    let comments = (conversation.is_some() || !comments.is_empty()).then_some(Comments {
        conversation,
        comments,
    });
    // post.json: the view as JSON, which `verify-bundle` reads back into a `PostView` and
    // derives again from the records (view.html is rendered from the view itself).
    let post = serde_json::to_value(&view).map_err(|e| Error::Log(e.to_string()))?;
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

    // The checkpoint: of those covering every record, the newest that the witnesses'
    // quorum cosigned and a TSA stamped; else the newest cosigned, else the newest
    // stamped, else the newest (a witness is sent the latest checkpoint only, now and
    // then, so many are never cosigned).
    let verifier = archive::read_verifier(root)?;
    let config = crate::config::Config::load(&ctx.config_path).ok();
    let policy = match &config {
        Some(c) => super::witness::ensure_policy(root, c)?,
        None => crate::log::policy::Policy::for_log(&verifier, &[], 0),
    };
    let mut best: Option<((bool, bool), Checkpoint, Vec<u8>)> = None;
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
        let cosigned = policy.requires_witnesses() && {
            let sigs = crate::log::cosignature::signature_lines(&format!(
                "{}\n{}",
                note.text,
                super::witness::stored_lines(root, cp.size).concat()
            ));
            policy.quorum_holds(&policy.check(&note.text, &sigs))
        };
        let score = (cosigned, !super::stored_tsrs(root, cp.size).is_empty());
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, cp, bytes));
        }
        if score == (policy.requires_witnesses(), true) {
            break;
        }
    }
    let (_, cp, cp_bytes) =
        best.ok_or_else(|| Error::Log(format!("no signed checkpoint covers leaf {max_leaf} yet")))?;
    // Its cosignatures, as stored (each verified on receipt and by `verify`).
    let cosignatures = super::witness::stored_lines(root, cp.size).concat();
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
    if let Some(config) = &config
        && let Some(p) = super::tsa_ca_path(config, &ctx.config_path)
    {
        for c in super::read_anchors(&p)? {
            if !chain.contains(&c) {
                chain.push(c);
            }
        }
    }
    let vkey = format!("{}\n", verifier.to_vkey());

    // provenance.json: every provenance record of the bundle, as written, leaf order.
    let mut provenance = vec![];
    for row in rows.values() {
        if row.content_type.as_deref() == Some(crate::store::warc::mime::PROVENANCE) {
            let mut body = vec![];
            stream_record(
                root,
                row,
                &mut std::io::sink(),
                &mut PayloadTo(&mut body, root),
            )?;
            let v = serde_json::from_slice(&body).map_err(|e| Error::Warc {
                file: row.file.clone(),
                offset: row.offset,
                message: format!(
                    "provenance record {} is unreadable: {e}; run `samizdat verify`",
                    row.id
                ),
            })?;
            provenance.push(report::ProvenanceEntry {
                record_id: row.id.clone(),
                leaf: row.leaf,
                provenance: v,
            });
        }
    }
    // The newest render: its screenshot stamped, its DOM as rendered.html.
    let by_id: BTreeMap<&str, &RecordRow> = rows.values().map(|r| (r.id.as_str(), r)).collect();
    let render = report::newest_render(&view).cloned();
    let mut stamped = None;
    let mut dom_row = None;
    if let Some(r) = &render {
        let row_of = |rid: &str| {
            by_id.get(rid).copied().ok_or_else(|| Error::Archive {
                path: root.join(layout::INDEX),
                message: format!("the render of post {id} names record {rid}, which the index does not know: run `samizdat verify`"),
            })
        };
        let shot = row_of(&r.screenshot.record_id)?;
        let mut png = vec![];
        stream_record(
            root,
            shot,
            &mut std::io::sink(),
            &mut PayloadTo(&mut png, root),
        )?;
        let lines = report::stamp_lines(&id, r, report::provenance_of(&view, r, &provenance));
        stamped = Some(super::stamp::stamp(&png, &lines).map_err(|e| Error::Warc {
            file: shot.file.clone(),
            offset: shot.offset,
            message: format!("the screenshot record {} cannot be stamped: {e}", shot.id),
        })?);
        dom_row = Some(row_of(&r.dom.record_id)?);
    }
    let mut warnings = vec![];

    let file = std::fs::File::create(out).at(out)?;
    let mut z = zip::ZipWriter::new(file);
    let deflate = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(super::zip_time());
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(super::zip_time())
        .large_file(true);
    let zerr = |e: zip::result::ZipError| Error::io(out, std::io::Error::other(e));

    // records.warc.gz and proofs, one record at a time, each streamed in bounded chunks
    // (and its media payload hashed on the way through).
    let mut metas = vec![];
    let mut leaves = vec![];
    let mut tlog_proofs: Vec<(String, String)> = vec![];
    let cosigned_note = format!("{}{cosignatures}", String::from_utf8_lossy(&cp_bytes));
    let mut payload_sha: BTreeMap<String, String> = BTreeMap::new();
    let media = media_names(&view);
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
        // Checked against the signed checkpoint: a damaged cache is refused, never exported.
        let proof = hashes.checked_inclusion(row.leaf, cp.size, &cp)?.proof;
        tlog_proofs.push((
            tlog_proof_name(&row.id),
            TlogProof {
                extra: Some(row.id.as_bytes().to_vec()),
                index: row.leaf,
                path: proof.clone(),
                checkpoint: cosigned_note.clone(),
            }
            .render(),
        ));
        leaves.push(LeafProof {
            record_id: row.id.clone(),
            leaf_index: row.leaf,
            leaf_hash: Hash(row.leaf_hash).to_base64(),
            proof: proof.iter().map(|h| h.to_base64()).collect(),
        });
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
    z.start_file("view.html", deflate).map_err(zerr)?;
    z.write_all(render_view(&view, comments.as_ref(), &metas, &cp_text, &tokens).as_bytes())
        .at(out)?;
    let inputs = report::Inputs {
        view: &view,
        comments: comments.as_ref(),
        recs: &metas,
        checkpoint: &cp_text,
        tokens: &tokens,
        provenance: &provenance,
        custody: &custody,
    };
    z.start_file("report.html", deflate).map_err(zerr)?;
    z.write_all(report::render_report(&inputs, "screenshot.png").as_bytes())
        .at(out)?;
    let pdf_bytes = match pdf {
        Pdf::Never => None,
        Pdf::IfConfigured | Pdf::Required => {
            let config = crate::config::Config::load(&ctx.config_path).unwrap_or_default();
            let wanted =
                pdf == Pdf::Required || config.browser.render != crate::config::RenderMode::Never;
            if wanted {
                let html = report::report_for_print(&inputs, stamped.as_deref());
                match print_report(&config.browser, &html) {
                    Ok(b) => Some(b),
                    Err(e) if pdf == Pdf::Required => {
                        return Err(Error::Usage(format!("export --pdf: {e}")));
                    }
                    Err(e) => {
                        warnings.push(format!(
                            "report.pdf not made: {e} (the bundle has report.html)"
                        ));
                        None
                    }
                }
            } else {
                None
            }
        }
    };
    if let Some(b) = &pdf_bytes {
        z.start_file("report.pdf", stored).map_err(zerr)?;
        z.write_all(b).at(out)?;
    }
    if let (Some(png), Some(dom)) = (&stamped, dom_row) {
        z.start_file("screenshot.png", stored).map_err(zerr)?;
        z.write_all(png).at(out)?;
        z.start_file("rendered.html", deflate).map_err(zerr)?;
        stream_record(root, dom, &mut std::io::sink(), &mut PayloadTo(&mut z, out))?;
    }
    if !provenance.is_empty() {
        z.start_file("provenance.json", deflate).map_err(zerr)?;
        z.write_all(report::provenance_json(&provenance).as_bytes())
            .at(out)?;
    }
    z.start_file("README.txt", deflate).map_err(zerr)?;
    z.write_all(
        render_readme(
            &id,
            &vkey,
            cp.size,
            &tsr_names,
            comments.as_ref(),
            custody.len(),
            &Extras {
                report: true,
                rendered: render.is_some(),
                provenance: provenance.len(),
                pdf: pdf_bytes.is_some(),
                witnessed: Some(super::witness::stored_lines(root, cp.size).len()),
            },
        )
        .as_bytes(),
    )
    .at(out)?;

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
    let json_err = |e: serde_json::Error| Error::Log(format!("{}: {e}", out.display()));
    z.write_all(
        serde_json::to_string_pretty(&post)
            .map_err(json_err)?
            .as_bytes(),
    )
    .at(out)?;
    if let Some(c) = &comments {
        z.start_file("comments.json", deflate).map_err(zerr)?;
        z.write_all(
            serde_json::to_string_pretty(c)
                .map_err(json_err)?
                .as_bytes(),
        )
        .at(out)?;
    }
    if !custody.is_empty() {
        z.start_file("custody.json", deflate).map_err(zerr)?;
        z.write_all(
            serde_json::to_string_pretty(&custody)
                .map_err(json_err)?
                .as_bytes(),
        )
        .at(out)?;
    }
    z.start_file("proofs.json", deflate).map_err(zerr)?;
    z.write_all(
        serde_json::to_string_pretty(&Proofs {
            checkpoint_size: cp.size,
            leaves,
        })
        .map_err(json_err)?
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
    z.start_file("policy", stored).map_err(zerr)?;
    z.write_all(policy.render().as_bytes()).at(out)?;
    if !cosignatures.is_empty() {
        z.start_file("checkpoint.cosignatures", stored)
            .map_err(zerr)?;
        z.write_all(cosignatures.as_bytes()).at(out)?;
    }
    for (name, text) in &tlog_proofs {
        z.start_file(name.as_str(), stored).map_err(zerr)?;
        z.write_all(text.as_bytes()).at(out)?;
    }
    z.finish().map_err(zerr)?.sync_all().at(out)?;

    Ok(BundleSummary {
        post_id: id,
        bundle: out.to_path_buf(),
        records: metas.len(),
        comments: comments.as_ref().map_or(0, |c| c.comments.len()),
        checkpoint_size: cp.size,
        timestamps: tsr_names.len(),
        custody: None,
        rendered: render.is_some(),
        pdf: pdf_bytes.is_some(),
        warnings,
    })
}

/// `verify-bundle FILE [--vkey FILE] [--tsa-ca FILE] [--policy FILE]`: the key, the
/// anchors and the policy are read
/// first and apply whatever the file turns out to be; see [`super::check`]. A key or
/// anchors file that cannot be read is an error; what the file holds is the report.
pub fn verify_bundle_file(
    path: &Path,
    vkey: Option<&Path>,
    tsa_ca: Option<&Path>,
    policy: Option<&Path>,
) -> Result<check::Report> {
    let given_policy = match policy {
        Some(p) => Some(
            crate::log::policy::Policy::parse(&std::fs::read_to_string(p).at(p)?)
                .map_err(|e| Error::Usage(format!("--policy {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let given_key = match vkey {
        Some(p) => Some(
            NoteVerifier::from_vkey(std::fs::read_to_string(p).at(p)?.trim())
                .map_err(|e| Error::Usage(format!("--vkey {}: {e}", p.display())))?,
        ),
        None => None,
    };
    // A policy naming one log is the reader's word on the log's key, as --vkey is.
    let given_key = match (given_key, &given_policy) {
        (None, Some(p)) if p.logs.len() == 1 => Some(p.logs[0].clone()),
        (k, _) => k,
    };
    let anchors = match tsa_ca {
        Some(p) => Some(super::read_anchors(p)?),
        None => None,
    };
    let f = std::fs::File::open(path).at(path)?;
    Ok(check::verify_zip(
        std::io::BufReader::new(f),
        given_key.as_ref(),
        anchors.as_deref(),
        given_policy.as_ref(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_kind_names_are_the_json_names() {
        for k in [
            MediaKind::Image,
            MediaKind::Video,
            MediaKind::Audio,
            MediaKind::Gif,
            MediaKind::File,
        ] {
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::from(kind_name(k))
            );
        }
    }
}
