//! `witness serve`: `POST [/prefix]/add-checkpoint` over a [`Witness`], on the listener
//! given until the shutdown future resolves (tests bind port 0).

use super::{MAX_BODY, Verdict, Witness, parse};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::future::Future;
use std::sync::Arc;

/// The router: `add-checkpoint` at the root and under any one-segment-or-more prefix.
pub fn router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{*prefix}", post(add_checkpoint_under))
        // Past the bound, axum answers 413 before the handler runs.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(w)
}

async fn add_checkpoint_under(
    State(w): State<Arc<Witness>>,
    axum::extract::Path(prefix): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    if !prefix.ends_with("add-checkpoint") {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    add_checkpoint(State(w), body).await
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    if body.len() > MAX_BODY {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request too large\n").into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "the request is not UTF-8\n").into_response();
    };
    let req = match parse(text) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // The decision writes and fsyncs the state: off the async workers.
    let w2 = w.clone();
    let verdict = tokio::task::spawn_blocking(move || w2.add_checkpoint(&req, now)).await;
    let plain = |s: StatusCode, m: String| {
        (s, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], m).into_response()
    };
    match verdict {
        Ok(Ok(Verdict::Cosigned(line))) => plain(StatusCode::OK, line),
        Ok(Ok(Verdict::Conflict(size))) => (
            StatusCode::CONFLICT,
            [(header::CONTENT_TYPE, crate::evidence::witness::TLOG_SIZE)],
            format!("{size}\n"),
        )
            .into_response(),
        Ok(Ok(Verdict::UnknownLog)) => plain(StatusCode::NOT_FOUND, "unknown log\n".into()),
        Ok(Ok(Verdict::BadSignature(e))) => plain(StatusCode::FORBIDDEN, format!("{e}\n")),
        Ok(Ok(Verdict::BadProof(e))) => plain(StatusCode::UNPROCESSABLE_ENTITY, format!("{e}\n")),
        Ok(Ok(Verdict::Malformed(e))) => plain(StatusCode::BAD_REQUEST, format!("{e}\n")),
        Ok(Err(e)) => {
            tracing::error!("witness: {e}");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the witness could not keep its state\n".into(),
            )
        }
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    w: Arc<Witness>,
    listener: tokio::net::TcpListener,
    limits: crate::web::server::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    crate::web::server::run(listener, router(w), limits, shutdown).await;
}
