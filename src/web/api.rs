//! The JSON API: posts, search, accounts, exports, and captures behind the token.

use super::pages::{ListQ, SearchQ, account_posts};
use super::state::*;
use super::{PAGE_SIZE, search};
use crate::capture::{self, CaptureOptions, Writer};
use crate::error::Error;
use crate::store::archive::Archive;
use crate::store::archive::{self};
use crate::store::record_stream;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use std::sync::Arc;
use tokio::sync::OwnedSemaphorePermit;

pub(super) async fn api_posts(
    State(st): St,
    Query(lq): Query<ListQ>,
) -> std::result::Result<Response, Fail> {
    let f = lq
        .filter()
        .map_err(|m| Fail(StatusCode::BAD_REQUEST, m, true))?;
    blocking(&st, true, move |st| {
        let list = st.index()?.list(&f)?;
        Ok(axum::Json(json!({"posts": list})).into_response())
    })
    .await
}

pub(super) async fn api_post(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, true, move |st| {
        let ix = st.index()?;
        let id = st.resolve(&ix, &key)?;
        let view = ix
            .post_view(&id)?
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        let (conversation, comments) = ix.thread(&id)?;
        let custody = ix.custody_of(&id)?;
        Ok(axum::Json(crate::store::views::PostWithThread {
            view,
            conversation,
            comments,
            custody,
        })
        .into_response())
    })
    .await
}

/// Most hits one `/api/search` answer holds (`limit=`).
pub const MAX_API_LIMIT: usize = 100;

pub(super) async fn api_search(
    State(st): St,
    Query(sq): Query<SearchQ>,
) -> std::result::Result<Response, Fail> {
    // `limit` hits (default a page, at most MAX_API_LIMIT) from `offset`, or from the
    // start of `page` when no offset is given.
    let limit = sq.limit.unwrap_or(PAGE_SIZE).clamp(1, MAX_API_LIMIT);
    let offset = sq
        .offset
        .unwrap_or_else(|| (sq.page.unwrap_or(1).max(1) - 1).saturating_mul(limit));
    let filter = sq
        .filter()
        .map_err(|m| Fail(StatusCode::BAD_REQUEST, m, true))?;
    search::check_query(&sq.q).map_err(|m| Fail(StatusCode::BAD_REQUEST, m, true))?;
    let permit = admit(&st.searches, SEARCHES, true)?;
    blocking(&st, true, move |st| {
        let _permit = permit;
        if !archive::exists(&st.root) {
            return Err(Error::NotFound("no archive here yet".into()));
        }
        let v = search(&st.root, &sq.q, &filter, offset, limit)?;
        Ok(axum::Json(v).into_response())
    })
    .await
}

pub(super) async fn api_account(
    State(st): St,
    UrlPath((platform, id)): UrlPath<(String, String)>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, true, move |st| {
        let list = account_posts(st, &platform, &id)?;
        Ok(axum::Json(json!({"platform": platform, "id": id, "posts": list})).into_response())
    })
    .await
}

/// An export made into a temporary file (unlinked once open), then streamed from it,
/// within the `[serve] max_exports` bound: the place is held until the last byte is sent
/// or the client goes away.
pub(super) async fn export(
    st: Arc<AppState>,
    key: String,
    wacz: bool,
    req: HeaderMap,
) -> std::result::Result<Response, Fail> {
    let permit = admit(&st.exports, EXPORTS, true)?;
    let (name, file, len, etag) = blocking(&st, true, move |st| {
        let ix = st.index()?;
        let id = st.resolve(&ix, &key)?;
        drop(ix);
        let dir = std::env::temp_dir().join(format!("samizdat-export-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let safe: String = id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let name = format!("{safe}.{}", if wacz { "wacz" } else { "zip" });
        let out = dir.join(&name);
        let r = if wacz {
            crate::evidence::wacz::export_wacz(
                &st.ctx(),
                std::slice::from_ref(&id),
                None,
                false,
                &out,
            )
        } else {
            crate::evidence::bundle::export_bundle(&st.ctx(), &id, &out)
        };
        let opened = r.and_then(|_| {
            let mut f = std::fs::File::open(&out).map_err(|e| Error::io(&out, e))?;
            let len = f.metadata().map_err(|e| Error::io(&out, e))?.len();
            // The ETag is the SHA-256 of the bytes: the same archive state exports to
            // the same bytes, so it holds across requests (and range reads).
            let mut h = sha2::Sha256::new();
            let mut buf = vec![0u8; record_stream::CHUNK];
            loop {
                let n = std::io::Read::read(&mut f, &mut buf).map_err(|e| Error::io(&out, e))?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            Ok((f, len, format!("\"sha256-{}\"", hex::encode(h.finalize()))))
        });
        let _ = std::fs::remove_dir_all(&dir);
        let (f, len, etag) = opened?;
        Ok((name, f, len, etag))
    })
    .await?;
    let ct = if wacz {
        "application/wacz"
    } else {
        "application/zip"
    };
    Ok(download(
        file,
        len,
        &etag,
        &req,
        ct,
        &format!("attachment; filename=\"{name}\""),
        permit,
    ))
}

/// CORS for downloads a viewer on another origin reads (ReplayWeb.page loads a WACZ by
/// URL): any origin may read them, and the headers a range reader needs are exposed.
pub(super) fn cors(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "Content-Range, Accept-Ranges, ETag, Content-Length, Content-Disposition",
        ),
    );
}

/// The answer to a CORS preflight on a download.
pub(super) async fn download_preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    cors(h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Range, If-Range, If-None-Match"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    r
}

/// What a `Range` header asks of a body of `len` bytes (RFC 9110 §14): `Ok(None)` for
/// the whole body (no header, another unit, or several ranges, which a server may
/// ignore), `Ok(Some((first, last)))` for one range, `Err(())` for one that is malformed
/// or starts past the end (416).
pub(super) fn byte_range(
    v: Option<&HeaderValue>,
    len: u64,
) -> std::result::Result<Option<(u64, u64)>, ()> {
    let Some(v) = v else { return Ok(None) };
    let v = v.to_str().map_err(|_| ())?.trim();
    let Some(spec) = v.strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.trim().split_once('-').ok_or(())?;
    let num = |x: &str| {
        (!x.is_empty() && x.bytes().all(|c| c.is_ascii_digit()))
            .then(|| x.parse::<u64>().ok())
            .flatten()
    };
    let (first, last) = match (a.trim(), b.trim()) {
        ("", n) => {
            // The last n bytes.
            let n = num(n).ok_or(())?;
            if n == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len - 1)
        }
        (f, "") => (num(f).ok_or(())?, len.saturating_sub(1)),
        (f, l) => {
            let (f, l) = (num(f).ok_or(())?, num(l).ok_or(())?);
            if l < f {
                return Err(());
            }
            (f, l.min(len.saturating_sub(1)))
        }
    };
    if first >= len {
        return Err(());
    }
    Ok(Some((first, last)))
}

/// A downloaded file of `len` bytes (positioned anywhere) with its strong `etag`: the
/// whole file (200), one range of it (206, `Content-Range`), 416 for a range it does not
/// have, or 304 when `If-None-Match` names the ETag. `If-Range` with another validator
/// gets the whole file. Every answer carries the ETag, `Accept-Ranges` and [`cors`].
pub(super) fn download(
    mut file: std::fs::File,
    len: u64,
    etag: &str,
    req: &HeaderMap,
    content_type: &str,
    disposition: &str,
    permit: OwnedSemaphorePermit,
) -> Response {
    use std::io::Seek;
    let matches = |v: &HeaderValue| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
    };
    let mut range = byte_range(req.get(header::RANGE), len);
    if let Some(ir) = req.get(header::IF_RANGE)
        && ir.to_str().ok().map(str::trim) != Some(etag)
    {
        range = Ok(None);
    }
    let (status, span) = if req.get(header::IF_NONE_MATCH).is_some_and(matches) {
        (StatusCode::NOT_MODIFIED, None)
    } else {
        match range {
            Ok(None) => (StatusCode::OK, Some((0, len))),
            Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, Some((a, b + 1 - a))),
            Err(()) => (StatusCode::RANGE_NOT_SATISFIABLE, None),
        }
    };
    let body = match span {
        Some((start, n)) if file.seek(std::io::SeekFrom::Start(start)).is_ok() => {
            file_body(file, n, permit)
        }
        _ => axum::body::Body::empty(),
    };
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    cors(h);
    let hv = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::ETAG, hv(etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_TYPE, hv(content_type));
    h.insert(header::CONTENT_DISPOSITION, hv(disposition));
    match (status, span) {
        (StatusCode::PARTIAL_CONTENT, Some((a, n))) => {
            h.insert(
                header::CONTENT_RANGE,
                hv(&format!("bytes {a}-{}/{len}", a + n - 1)),
            );
            h.insert(header::CONTENT_LENGTH, hv(&n.to_string()));
        }
        (StatusCode::RANGE_NOT_SATISFIABLE, _) => {
            h.insert(header::CONTENT_RANGE, hv(&format!("bytes */{len}")));
        }
        (_, Some((_, n))) => {
            h.insert(header::CONTENT_LENGTH, hv(&n.to_string()));
        }
        _ => {}
    }
    r
}

/// `limit` bytes of a file, from where it is positioned, sent in
/// [`record_stream::CHUNK`] pieces, holding `permit` until they are sent.
pub(super) fn file_body(
    f: std::fs::File,
    limit: u64,
    permit: OwnedSemaphorePermit,
) -> axum::body::Body {
    use tokio::io::AsyncReadExt;
    let f = tokio::fs::File::from_std(f).take(limit);
    let chunks = futures_util::stream::try_unfold((f, permit), |(mut f, permit)| async move {
        let mut buf = bytes::BytesMut::with_capacity(record_stream::CHUNK);
        let n = f.read_buf(&mut buf).await?;
        Ok::<_, std::io::Error>((n > 0).then(|| (buf.freeze(), (f, permit))))
    });
    axum::body::Body::from_stream(chunks)
}

pub(super) async fn api_bundle(
    State(st): St,
    UrlPath(key): UrlPath<String>,
    headers: HeaderMap,
) -> std::result::Result<Response, Fail> {
    export(st, key, false, headers).await
}

pub(super) async fn api_wacz(
    State(st): St,
    UrlPath(key): UrlPath<String>,
    headers: HeaderMap,
) -> std::result::Result<Response, Fail> {
    export(st, key, true, headers).await
}

#[derive(Deserialize)]
pub(super) struct CaptureReq {
    url: String,
    #[serde(default)]
    watch: bool,
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) async fn api_capture(
    State(st): St,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> std::result::Result<Response, Fail> {
    let Some(token) = &st.token else {
        return Err(Fail(
            StatusCode::FORBIDDEN,
            "this server is read-only (no [serve] token_file is configured, or the archive cannot be written): captures cannot be requested over the API".into(),
            true,
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.as_bytes()) => {}
        _ => {
            let mut r = Fail(
                StatusCode::UNAUTHORIZED,
                "a valid `Authorization: Bearer <token>` header is required".into(),
                true,
            )
            .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"samizdat\""),
            );
            return Ok(r);
        }
    }
    let req: CaptureReq = serde_json::from_slice(&body).map_err(|e| {
        Fail(
            StatusCode::BAD_REQUEST,
            format!("want a JSON body {{\"url\": \"…\", \"watch\": false}}: {e}"),
            true,
        )
    })?;
    let (r, watched) = capture_for(&st, &req.url, req.watch, true).await?;
    let code = if r.status == "failed" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let answer = CaptureAnswer {
        result: &r,
        watch: watched.as_ref(),
    };
    Ok((code, axum::Json(answer)).into_response())
}

/// Captures `url` (and with `watch` adds it to the watchlist) for a caller the token
/// already admitted: the API or the `/add` form (`api` says which a failure is shown
/// to). What it did is remembered for the `/add` page's list.
pub(super) async fn capture_for(
    st: &Arc<AppState>,
    url: &str,
    watch: bool,
    api: bool,
) -> std::result::Result<(capture::CaptureResult, Option<crate::watch::Report>), Fail> {
    let writer = {
        let mut w = st.writer.lock().await;
        if w.is_none() {
            let (root, config) = (st.root.clone(), st.config.clone());
            let a = tokio::task::spawn_blocking(move || Archive::open(&root, config))
                .await
                .map_err(|e| Fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), api))?
                .map_err(|e| fail(e, api))?;
            *w = Some(Writer::start(a));
        }
        match &*w {
            Some((writer, _)) => writer.clone(),
            None => {
                return Err(Fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the archive writer did not start".into(),
                    api,
                ));
            }
        }
    };
    // A fetcher is made whenever a token is configured (`serve`).
    let Some(fetcher) = st.fetcher.clone() else {
        return Err(Fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no fetcher for API captures".into(),
            api,
        ));
    };
    let clock = crate::clock::Clock::from_env_or_system();
    let r = capture::capture_one(
        url,
        // The clock the command line would use (`SAMIZDAT_NOW`, else the system's).
        &CaptureOptions {
            clock,
            comments: st.config.capture.comments,
            run: std::sync::Arc::new(crate::capture::provenance::RunFacts::of(&st.config, "api")),
            renderer: st.renderer.clone(),
            ..CaptureOptions::default()
        },
        &fetcher,
        &writer,
    )
    .await;
    let mut watched = None;
    if watch {
        // Watched like `samizdat watch add`, through the same SSRF-guarded fetcher, and
        // recorded as from the API: `watch run` fetches all it leads to under the guard.
        let w = crate::watch::Watcher::new(
            &st.config,
            fetcher.clone(),
            writer.clone(),
            st.root.join(crate::store::archive::layout::INDEX),
        )
        .adding_for_api();
        let rep = w.add(url, None, None).await;
        watched = Some(rep);
    }
    st.remember(Added {
        url: url.to_string(),
        at: clock.warc_date(),
        status: r.status,
        post_id: r.post_id.clone(),
        error: r.error.clone(),
        watch: watched.as_ref().map(|w| match &w.error {
            Some(e) => format!("{}: {e}", w.action),
            None => w.action.to_string(),
        }),
    });
    Ok((r, watched))
}

/// The answer to `POST /api/captures`: the capture's result, and with `"watch": true`
/// what adding it to the watchlist did.
#[derive(Serialize)]
pub(super) struct CaptureAnswer<'a> {
    #[serde(flatten)]
    result: &'a capture::CaptureResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    watch: Option<&'a crate::watch::Report>,
}
