//! `/raw/{record id}`: an archived body, decoded and sandboxed.

use super::state::*;
use crate::capture;
use crate::error::{Error, Result};
use crate::store::archive::layout;
use crate::store::record_stream;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;

/// The Content-Type and Content-Encoding a record's body is served with: the HTTP
/// headers' for `application/http` records, the record's own otherwise.
pub(super) fn raw_type(rec: &crate::store::warc::Record) -> (String, Option<String>) {
    let is_http = rec
        .field("Content-Type")
        .is_some_and(|c| c.starts_with("application/http"));
    let mut ct = rec
        .field("Content-Type")
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut enc = None;
    if is_http && let Some(end) = crate::store::warc::find_header_end(&rec.block) {
        ct = "application/octet-stream".into();
        for line in String::from_utf8_lossy(&rec.block[..end]).lines().skip(1) {
            if let Some((n, v)) = line.split_once(':') {
                if n.trim().eq_ignore_ascii_case("content-type") {
                    ct = v.trim().to_string();
                } else if n.trim().eq_ignore_ascii_case("content-encoding") {
                    enc = Some(v.trim().to_ascii_lowercase());
                }
            }
        }
    }
    (ct, enc)
}

/// Sends what is written to it as response body chunks; a write fails once the client
/// has gone, or past `cap` bytes (the decoded-size bound of encoded bodies).
pub(super) struct ToBody {
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    sent: u64,
    cap: u64,
}

impl std::io::Write for ToBody {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.sent);
        if room == 0 {
            return Err(std::io::Error::other("decoded body over the bound: cut"));
        }
        let n = (b.len() as u64).min(room) as usize;
        self.tx
            .blocking_send(Ok(bytes::Bytes::copy_from_slice(&b[..n])))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        self.sent += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Streams a record's payload to the response, undoing its Content-Encoding on the way.
pub(super) struct RawSink {
    head: Option<tokio::sync::oneshot::Sender<(String, Option<String>)>>,
    tx: Option<tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>>,
    out: Option<Box<dyn std::io::Write + Send>>,
    enc: Option<String>,
    path: PathBuf,
}

impl record_stream::RecordSink for RawSink {
    fn head(&mut self, rec: &crate::store::warc::Record) -> Result<()> {
        let (ct, enc) = raw_type(rec);
        self.enc = enc.clone();
        if let Some(h) = self.head.take() {
            let _ = h.send((ct, enc));
        }
        Ok(())
    }

    fn payload(&mut self, chunk: &[u8]) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.out.is_none() {
            let Some(tx) = self.tx.take() else {
                return Ok(());
            };
            let identity = ToBody {
                tx: tx.clone(),
                sent: 0,
                cap: u64::MAX,
            };
            let cut = ToBody {
                tx,
                sent: 0,
                cap: capture::http::MAX_DECODED_BYTES as u64,
            };
            // The same decoders, and the same bound, as `capture::http::decode_body`.
            self.out = Some(match self.enc.as_deref() {
                Some("gzip") | Some("x-gzip") => Box::new(flate2::write::MultiGzDecoder::new(cut)),
                Some("deflate") => {
                    // zlib-wrapped by the spec, raw deflate in practice.
                    let zlib = chunk.len() >= 2
                        && chunk[0] & 0x0f == 8
                        && (u16::from(chunk[0]) << 8 | u16::from(chunk[1])) % 31 == 0;
                    if zlib {
                        Box::new(flate2::write::ZlibDecoder::new(cut))
                    } else {
                        Box::new(flate2::write::DeflateDecoder::new(cut))
                    }
                }
                Some("br") => {
                    Box::new(brotli_decompressor::DecompressorWriter::new(cut, 64 * 1024))
                }
                _ => Box::new(identity),
            });
        }
        // Set above unless the body is already gone.
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        out.write_all(chunk).map_err(|e| Error::io(&self.path, e))
    }
}

/// The ETag of `/raw/{id}`: a record never changes, so its served body is fixed by its id
/// (and by the decoders of this version of samizdat).
fn raw_etag(id: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    format!("\"raw-{}\"", hex::encode(&h.finalize()[..16]))
}

pub(super) async fn raw(
    State(st): St,
    UrlPath(id): UrlPath<String>,
    req: axum::http::HeaderMap,
) -> std::result::Result<Response, Fail> {
    let etag = raw_etag(&id);
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag)
        });
    if fresh {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        super::api::cors(r.headers_mut());
        if let Ok(v) = HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }
    let permit = admit(&st.raws, RAWS, false)?;
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let task = {
        let st = st.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let ix = st.index()?;
            let row = ix
                .record_by_id(&id)?
                .ok_or_else(|| Error::NotFound(format!("no record {id:?}")))?;
            drop(ix);
            let mut sink = RawSink {
                head: Some(head_tx),
                tx: Some(tx.clone()),
                out: None,
                enc: None,
                path: st.root.join(layout::WARC_DIR).join(&row.file),
            };
            let r = record_stream::stream_record(&st.root, &row, &mut std::io::sink(), &mut sink);
            // Ends the body; a failure after the head cuts it short.
            drop(sink);
            if let Err(e) = &r {
                tracing::warn!("raw {id}: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
            r
        })
    };
    let (ct, _) = match head_rx.await {
        Ok(h) => h,
        // No head: the record could not be found or read.
        Err(_) => {
            return Err(match task.await {
                Ok(Err(e)) => fail(e, false),
                Ok(Ok(())) => Fail(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the record has no head".into(),
                    false,
                ),
                Err(e) => Fail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string(), false),
            });
        }
    };
    if req.contains_key(header::RANGE) {
        // A range of a decoded body: spooled whole to a temporary file first (its length
        // is only known once decoded, and is bounded by the decoders' cap), then served
        // by the same code as the WACZ downloads (206/416, If-Range, ETag).
        let spool = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            use std::io::{Seek, Write};
            let mut rx = rx;
            let mut f = tempfile::tempfile()?;
            while let Some(c) = rx.blocking_recv() {
                f.write_all(&c?)?;
            }
            f.flush()?;
            f.rewind()?;
            Ok(f)
        })
        .await;
        let internal = |e: String| Fail(StatusCode::INTERNAL_SERVER_ERROR, e, false);
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(fail(e, false)),
            Err(e) => return Err(internal(e.to_string())),
        }
        let file = match spool {
            Ok(Ok(f)) => f,
            Ok(Err(e)) => return Err(internal(e.to_string())),
            Err(e) => return Err(internal(e.to_string())),
        };
        let len = file.metadata().map_err(|e| internal(e.to_string()))?.len();
        let permit = admit(&st.raws, RAWS, false)?;
        let mut r = super::api::download(file, len, &etag, &req, &ct, "inline", permit);
        sandbox(r.headers_mut());
        return Ok(r);
    }
    let body =
        axum::body::Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|c| (c, rx))
        }));
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    sandbox(h);
    // Readable by fetch() from any origin (CORS); still not embeddable there (CORP).
    // Streamed as it is decoded, its length unknown until sent; a `Range` request takes
    // the spooled path above.
    super::api::cors(h);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(r)
}

/// The headers that keep an archived body from acting in the archive's origin.
fn sandbox(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RAW_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "Cross-Origin-Resource-Policy",
        HeaderValue::from_static("same-origin"),
    );
}
