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

pub(super) fn checkpoint_text(st: &AppState) -> Result<String> {
    std::fs::read_to_string(st.root.join(layout::CHECKPOINT))
        .map_err(|_| Error::NotFound("no checkpoint yet: nothing has been captured".into()))
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
