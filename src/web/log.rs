//! The public log: the latest checkpoint, inclusion proofs, tlog tiles.

use super::state::*;
use crate::error::{Error, Result};
use crate::log::hashes::HashStore;
use crate::store::archive::{self, layout};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// The latest checkpoint, with the witnesses' cosignature lines after the log's.
pub(super) fn checkpoint_text(st: &AppState) -> Result<String> {
    crate::evidence::witness::cosigned_latest(&st.root)?
        .ok_or_else(|| Error::NotFound("no checkpoint yet: nothing has been captured".into()))
}

pub(super) async fn log_checkpoint(State(st): St) -> std::result::Result<Response, Fail> {
    let t = blocking(&st, true, checkpoint_text).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        t,
    )
        .into_response())
}

pub(super) async fn api_checkpoint(State(st): St) -> std::result::Result<Response, Fail> {
    let v = blocking(&st, true, |st| {
        let text = checkpoint_text(st)?;
        let verifier = archive::read_verifier(&st.root)?;
        let cp = archive::latest_checkpoint(&st.root, &verifier)?
            .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        Ok(json!({"origin": cp.origin, "size": cp.size, "root": cp.root.to_base64(), "note": text, "vkey": verifier.to_vkey()}))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

#[derive(Deserialize)]
pub(super) struct SizeQ {
    size: Option<u64>,
}

pub(super) async fn api_proof(
    State(st): St,
    UrlPath(leaf): UrlPath<u64>,
    Query(q): Query<SizeQ>,
) -> std::result::Result<Response, Fail> {
    let v = blocking(&st, true, move |st| {
        let verifier = archive::read_verifier(&st.root)?;
        let latest = archive::latest_checkpoint(&st.root, &verifier)?;
        let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
        let cp = latest.ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        let size = q.size.unwrap_or(cp.size);
        if leaf >= size || size > cp.size {
            return Err(Error::Usage(format!(
                "leaf {leaf} is not in a tree of size {size} (the latest signed checkpoint \
                 covers {} leaves)",
                cp.size
            )));
        }
        // Checked against the signed checkpoint before it is served.
        let c = hs.checked_inclusion(leaf, size, &cp)?;
        Ok(json!({
            "leaf_index": leaf, "tree_size": size,
            "leaf_hash": c.leaf_hash.to_base64(),
            "root": c.root.to_base64(),
            "proof": c.proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(axum::Json(v).into_response())
}

/// Parses a tlog-tiles path after `tile/`: `<L>/<N groups>[.p/<W>]`.
pub(super) fn parse_tile_path(p: &str) -> Option<(u8, u64, u16)> {
    let (level, rest) = p.split_once('/')?;
    let level: u8 = level.parse().ok()?;
    let (groups, width) = match rest.split_once(".p/") {
        Some((g, w)) => (g, w.parse::<u16>().ok().filter(|w| (1..256).contains(w))?),
        None => (rest, 256),
    };
    let parts: Vec<&str> = groups.split('/').collect();
    let mut n: u64 = 0;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let digits = if last { *part } else { part.strip_prefix('x')? };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    // Canonical form only (what tile_path writes).
    let w = (width != 256).then_some(width);
    (crate::log::hashes::tile_path(level, n, w) == format!("tile/{p}")).then_some((level, n, width))
}

pub(super) async fn log_tile(
    State(st): St,
    UrlPath(path): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    if let Some(rest) = path.strip_prefix("entries/") {
        return log_entries(st, rest.to_string()).await;
    }
    let Some((level, n, width)) = parse_tile_path(&path) else {
        return Err(Fail(
            StatusCode::NOT_FOUND,
            format!("no tile {path:?}"),
            true,
        ));
    };
    let bytes = blocking(&st, true, move |st| {
        let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
        let verifier = archive::read_verifier(&st.root)?;
        let cp = archive::latest_checkpoint(&st.root, &verifier)?
            .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        // Every hash of the tile is checked against the signed checkpoint first.
        hs.checked_tile(level, n, width, &cp).map_err(|e| match e {
            Error::Damage(_) => e,
            e => Error::NotFound(e.to_string()),
        })
    })
    .await?;
    let cache = if width == 256 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// `/log/tile/entries/<N>[.p/<W>]`: the entries of a level-0 tile (C2SP tlog-tiles).
async fn log_entries(
    st: std::sync::Arc<AppState>,
    rest: String,
) -> std::result::Result<Response, Fail> {
    let rest = rest.to_string();
    let Some((0, n, width)) = parse_tile_path(&format!("0/{rest}")) else {
        return Err(Fail(
            StatusCode::NOT_FOUND,
            format!("no entry bundle {rest:?}"),
            true,
        ));
    };
    let bytes = blocking(&st, true, move |st| {
        let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
        let verifier = archive::read_verifier(&st.root)?;
        let cp = archive::latest_checkpoint(&st.root, &verifier)?
            .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
        let tile = hs.checked_tile(0, n, width, &cp).map_err(|e| match e {
            Error::Damage(_) => e,
            e => Error::NotFound(e.to_string()),
        })?;
        let start = n * 256;
        let rows = st.index()?.records_range(start, start + u64::from(width))?;
        crate::store::entries::bundle(&archive::warc_store(&st.root), &rows, start, &tile).map_err(|e| match e {
            crate::store::entries::Refused::TooLarge { leaf, id } => Error::NotFound(format!(
                "leaf {leaf} is record {id}, written before samizdat logged large records by their entry: it is over 65,535 bytes and cannot be in an entry bundle (read it at /raw/{id}; docs/evidence.md \"Entries\")"
            )),
            crate::store::entries::Refused::Other(e) => e,
        })
    })
    .await?;
    let cache = if width == 256 {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// One stored RFC 3161 timestamp over the latest checkpoint: its file name, and what it
/// says (or why it does not check).
pub(super) type Stamp = (
    String,
    std::result::Result<crate::evidence::tsp::TokenInfo, String>,
);

/// What the `/log` page shows.
pub(super) struct LogView {
    pub(super) checkpoint: Option<(crate::log::note::Checkpoint, String)>,
    pub(super) stamps: Vec<Stamp>,
    pub(super) vkey: String,
    pub(super) recent: Vec<crate::store::index::RecordRow>,
    /// Each configured witness (what it last cosigned), the quorum, and whether the latest
    /// checkpoint has it.
    pub(super) witnesses: Vec<crate::evidence::witness::WitnessState>,
    pub(super) quorum: usize,
    pub(super) cosigned_latest: usize,
}

/// Leaves listed on the `/log` page.
pub(super) const RECENT_LEAVES: u64 = 25;

pub(super) fn log_view(st: &AppState) -> Result<LogView> {
    let vkey = std::fs::read_to_string(st.root.join(layout::VERIFIER_KEY)).unwrap_or_default();
    if !archive::exists(&st.root) {
        return Ok(LogView {
            checkpoint: None,
            stamps: vec![],
            vkey,
            recent: vec![],
            witnesses: vec![],
            quorum: 0,
            cosigned_latest: 0,
        });
    }
    let verifier = archive::read_verifier(&st.root)?;
    let cp = archive::latest_checkpoint(&st.root, &verifier)?;
    let text = checkpoint_text(st).ok();
    let mut stamps = vec![];
    let mut recent = vec![];
    if let (Some(cp), Some(text)) = (&cp, &text) {
        // Each stored reply is checked against the bytes of the checkpoint it stamps.
        let stored = st
            .root
            .join(layout::CHECKPOINTS_DIR)
            .join(format!("{:020}", cp.size));
        let bytes = std::fs::read(&stored).unwrap_or_else(|_| text.as_bytes().to_vec());
        let digest: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
            <sha2::Sha256 as sha2::Digest>::new(),
            &bytes,
        ))
        .into();
        for p in crate::evidence::stored_tsrs(&st.root, cp.size) {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let r = std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|resp| {
                    crate::evidence::tsp::check_response(&resp, &digest, None, &[], &[])
                });
            stamps.push((name, r));
        }
        let ix = st.index()?;
        recent = ix.records_range(cp.size.saturating_sub(RECENT_LEAVES), cp.size)?;
        recent.reverse();
    }
    let witnesses = crate::evidence::witness::states(&st.root, &st.config)?;
    let cosigned_latest = match &cp {
        Some(c) => witnesses.iter().filter(|w| w.size == Some(c.size)).count(),
        None => 0,
    };
    Ok(LogView {
        checkpoint: cp.zip(text),
        stamps,
        vkey,
        recent,
        witnesses,
        quorum: crate::evidence::witness::quorum(&st.config),
        cosigned_latest,
    })
}

pub(super) async fn log_page(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| Ok(log_html(&log_view(st)?))).await
}

pub(super) fn log_html(v: &LogView) -> Response {
    use super::html::{b64_hex, enc, esc};
    let mut b = String::from(
        "<h1>The log</h1><p>Every record this archive writes (each request, response, picture, \
post and check) is a leaf of an append-only Merkle tree (RFC 6962). The archive signs \
<em>checkpoints</em> of the tree: its size and root hash, as a C2SP signed note. A record \
shown anywhere here can be proven to be in the tree a checkpoint signs, and two checkpoints \
can be proven to be one growing log.</p>",
    );
    b += "<section id=\"checkpoint\"><h2>The current signed checkpoint</h2>";
    match &v.checkpoint {
        None => b += "<p>No checkpoint yet: nothing has been captured.</p>",
        Some((cp, text)) => {
            b += &format!(
                "<dl class=\"digest\"><dt>Origin (the log's name)</dt><dd><code id=\"origin\">{}</code></dd>\
<dt>Size (leaves)</dt><dd id=\"size\">{}</dd>\
<dt>Root hash (SHA-256 of the tree, hex)</dt><dd><code id=\"root\">{}</code></dd></dl>\
<p>The note as signed (served at <a href=\"/log/checkpoint\">/log/checkpoint</a>; the root \
is in base64 there):</p><pre id=\"note\">{}</pre>",
                esc(&cp.origin),
                cp.size,
                esc(&b64_hex(&cp.root.to_base64())),
                esc(text)
            );
        }
    }
    b += "</section><section id=\"timestamps\"><h2>Timestamps</h2>";
    if v.checkpoint.is_some() && v.stamps.is_empty() {
        b += "<p>This checkpoint has no RFC 3161 timestamp. <code>samizdat timestamp</code> asks \
the time-stamp authorities of <code>[timestamp]</code> for one; a timestamp proves the \
checkpoint, and every record under it, existed by its time.</p>";
    } else if v.checkpoint.is_none() {
        b += "<p>None: there is no checkpoint to stamp yet.</p>";
    }
    for (name, t) in &v.stamps {
        match t {
            Ok(t) => {
                b += &format!(
                    "<p class=\"stamp\">RFC 3161 token <code>{}</code>: the checkpoint existed by \
<b>{}</b>, says {} (serial {}, policy {}).</p>",
                    esc(name),
                    super::html::utc(&t.gen_time),
                    esc(&t.signer),
                    esc(&t.serial),
                    esc(&t.policy)
                )
            }
            Err(e) => {
                b += &format!(
                    "<p class=\"stamp bad\">RFC 3161 token <code>{}</code> does not check: {}</p>",
                    esc(name),
                    esc(e)
                )
            }
        }
    }
    b += "</section><section id=\"witnesses\"><h2>Witnesses</h2><p>Witnesses are independent \
parties that cosign a checkpoint only once they have checked that it extends every one they \
cosigned before, so the log cannot show different histories to different readers (C2SP \
tlog-witness). Their cosignature lines follow the log's signature in the note above.</p>";
    if v.witnesses.is_empty() {
        b += "<p>This log has no witnesses yet (<code>[[log.witnesses]]</code>). Until it has \
some, compare the checkpoint you see with one fetched elsewhere or earlier.</p>";
    } else {
        b += "<table id=\"witness-list\"><tr><th>Witness</th><th>Host</th><th>Latest size it \
cosigned</th><th>When</th></tr>";
        for w in &v.witnesses {
            let when = w
                .timestamp
                .and_then(|t| jiff::Timestamp::from_second(t as i64).ok())
                .map(|t| t.to_string())
                .unwrap_or_else(|| "not yet".into());
            b += &format!(
                "<tr class=\"witness\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&w.witness),
                esc(&w.host),
                w.size
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "none".into()),
                esc(&when)
            );
        }
        b += &format!(
            "</table><p id=\"quorum\">{} of {} witnesses cosigned the latest checkpoint; the \
quorum is {}: {}.</p>",
            v.cosigned_latest,
            v.witnesses.len(),
            v.quorum,
            if v.cosigned_latest >= v.quorum {
                "it holds"
            } else {
                "it does not hold yet (witnesses are sent the latest checkpoint every few seconds while \
<code>watch run</code> runs, or by <code>samizdat log witness --now</code>)"
            }
        );
    }
    b += "<p>To check a bundle against witnesses you trust, write a C2SP tlog-policy with the \
log's key (<a href=\"#vkey\">below</a>), the witnesses' keys as their operators publish \
them, and the quorum, then run <code>samizdat verify-bundle BUNDLE.zip --policy \
POLICY</code>. The archive's own policy is in every bundle as <code>policy</code>.</p></section>";
    b += &format!(
        "<section id=\"how\"><h2>How to verify</h2><ol>\
<li>On the archive itself: <code>samizdat verify</code> re-reads every WARC record, \
recomputes every leaf and the root, and checks the signature and the timestamps.</li>\
<li>A single post: download its evidence bundle from the post page and run \
<code>samizdat verify-bundle FILE.zip</code> anywhere, offline; it checks the records, the \
inclusion proofs, the checkpoint's signature and any RFC 3161 timestamps.</li>\
<li>With any C2SP tlog client: the checkpoint is at <a href=\"/log/checkpoint\">/log/checkpoint</a> \
and the tree's hashes in tiles at <code>/log/tile/0/000</code>, <code>/log/tile/1/000</code>, … \
(<code>/log/tile/L/N.p/W</code> for a partial tile of W hashes: C2SP tlog-tiles), and the \
entries themselves at <code>/log/tile/entries/N</code>, so a monitor can audit the log without \
the WARC files; an inclusion proof of leaf N as JSON is at <code>/api/log/proof/N</code>.</li></ol>\
<p>The log's verifier key (check its fingerprint on <a href=\"/verify\">/verify</a>):</p><pre id=\"vkey\">{}</pre></section>",
        esc(v.vkey.trim())
    );
    b += "<section id=\"leaves\"><h2>Recent leaves</h2>";
    if v.recent.is_empty() {
        b += "<p>No leaves yet.</p>";
    } else {
        b += "<table class=\"stack\"><colgroup><col style=\"width:18%\"><col style=\"width:22%\"><col></colgroup>\
<tr><th>Leaf</th><th>Record</th><th>Of</th></tr>";
        for r in &v.recent {
            let ct = r.content_type.as_deref().unwrap_or("");
            let kind = if ct.starts_with(crate::store::warc::mime::POST) {
                "post"
            } else if ct.starts_with(crate::store::warc::mime::CHECK) {
                "check"
            } else if ct.starts_with(crate::store::warc::mime::WATCH) {
                "watch"
            } else {
                r.warc_type.as_str()
            };
            let target = r.target.as_deref().unwrap_or("");
            // Our records name their post `urn:samizdat:post:ID` / `urn:samizdat:check:ID`.
            let post = target
                .strip_prefix("urn:samizdat:post:")
                .or_else(|| target.strip_prefix("urn:samizdat:check:"));
            let of = match post {
                Some(id) => format!("{kind} of <a href=\"/posts/{}\">{}</a>", enc(id), esc(id)),
                None => esc(target),
            };
            b += &format!(
                "<tr><td><a href=\"/api/log/proof/{l}\">{l}</a></td><td><a href=\"/raw/{}\">{}</a></td><td>{of}</td></tr>",
                enc(&r.id),
                esc(kind),
                l = r.leaf,
            );
        }
        b += "</table>";
    }
    b += "</section>";
    super::state::html_page("Log", "", &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_paths_round_trip() {
        assert_eq!(parse_tile_path("0/000"), Some((0, 0, 256)));
        assert_eq!(
            parse_tile_path("0/x001/x234/067"),
            Some((0, 1_234_067, 256))
        );
        assert_eq!(parse_tile_path("1/000.p/7"), Some((1, 0, 7)));
        assert_eq!(parse_tile_path("0/1"), None);
        assert_eq!(parse_tile_path("0/000.p/256"), None);
        assert_eq!(parse_tile_path("0/x000/001"), None);
    }
}
