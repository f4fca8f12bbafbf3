//! `samizdat serve`: the web archive (pages, JSON API, the public log) and
//! `samizdat search`.
//!
//! Reads go to the index opened read-only per request (so captures made by other
//! processes show up at once). Captures asked for over `POST /api/captures` need the
//! bearer token of `[serve] token_file`, run through [`Fetcher::for_api`] (no SSRF) and
//! are written by one [`Writer`](crate::store::writer::Writer) started on the first such
//! request, and stopped (its failures returned) when the server stops.
//!
//! Archived content is untrusted: pages escape every string, re-sanitise post HTML,
//! and carry a CSP that allows one script, ours, by its hash (times in the reader's
//! zone); raw archived bodies are served only from
//! `/raw/{record id}`, sandboxed.

mod add;
mod api;
pub mod html;
mod log;
mod pages;
mod raw;
pub mod server;
mod state;

use add::*;
use api::*;
use log::*;
use pages::*;
use raw::*;
use state::*;

use crate::capture::Fetcher;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::archive::{self, layout};
use crate::store::index::Index;
use crate::store::search;
use crate::store::views::{SearchHit, SearchResults};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Hits per search page.
pub const PAGE_SIZE: usize = 20;

/// One page of search results: `limit` posts (summaries, best first) from `offset`
/// among the hits that pass `filter`, and counts.
pub fn search(
    root: &Path,
    q: &str,
    filter: &search::SearchFilter,
    offset: usize,
    limit: usize,
) -> Result<SearchResults> {
    search::check_query(q).map_err(Error::Usage)?;
    let limit = limit.max(1);
    // One read-only connection for the hits and the posts (see `Index::open`): a reader
    // on a read-only archive, never a writer.
    let ix = Index::open(&root.join(layout::INDEX), false)?;
    let hits = ix.search(q, filter, offset, limit)?;
    let mut results = vec![];
    for id in &hits.ids {
        if let Some(v) = ix.post_view(id)? {
            results.push(SearchHit::of(&v));
        }
    }
    Ok(SearchResults {
        query: q.to_string(),
        page: (offset / limit).saturating_add(1),
        per_page: limit,
        offset,
        total: hits.total,
        capped: hits.capped,
        more: offset.saturating_add(hits.ids.len()) < hits.total,
        results,
        unstemmed: ix.user_version()? < 3,
    })
}

/// The router, for [`serve`] and tests.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/static/style.css", get(style))
        .route("/search", get(search_page))
        .route("/posts", get(posts_page))
        .route("/posts/{id}", get(post_page))
        .route("/accounts/{platform}/{id}", get(account_page))
        .route("/verify", get(verify_page))
        .route("/log", get(log_page))
        .route("/add", get(add_page).post(add_submit))
        .route("/raw/{record}", get(raw))
        .route("/api/posts", get(api_posts))
        .route("/api/posts/{id}", get(api_post))
        .route(
            "/api/posts/{id}/bundle",
            get(api_bundle).options(download_preflight),
        )
        .route(
            "/api/posts/{id}/wacz",
            get(api_wacz).options(download_preflight),
        )
        .route("/api/search", get(api_search))
        .route("/api/accounts/{platform}/{id}", get(api_account))
        .route("/api/log/checkpoint", get(api_checkpoint))
        .route("/api/log/proof/{leaf}", get(api_proof))
        .route("/api/captures", post(api_capture))
        .route("/log/checkpoint", get(log_checkpoint))
        .route("/log/tile/{*path}", get(log_tile))
        .fallback(|| async { Fail(StatusCode::NOT_FOUND, "no such page".into(), false) })
        .layer(axum::middleware::from_fn_with_state(
            std::time::Duration::from_millis(state.config.serve.idle_timeout_ms),
            server::bounded_body,
        ))
        .with_state(state)
}

/// Serves the archive at `root` on `listener` until `shutdown` completes.
pub async fn serve(
    root: PathBuf,
    config: Config,
    config_path: PathBuf,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let token = match &config.serve.token_file {
        None => None,
        Some(f) => {
            let p = if f.is_relative() {
                root.join(f)
            } else {
                f.clone()
            };
            let t = std::fs::read_to_string(&p).map_err(|e| Error::Config {
                path: config_path.clone(),
                message: format!("serve.token_file {}: {e}", p.display()),
            })?;
            let t = t.trim().to_string();
            if t.len() < 16 {
                return Err(Error::Config {
                    path: config_path.clone(),
                    message: format!(
                        "serve.token_file {}: the token must be at least 16 characters",
                        p.display()
                    ),
                });
            }
            Some(t)
        }
    };
    let fetcher = match token {
        Some(_) => Some(Arc::new(
            Fetcher::for_api(&config, &config_path)?
                .with_clock(crate::clock::Clock::from_env_or_system()),
        )),
        None => None,
    };
    // A configured render that cannot happen (no browser) is an error at start, not a
    // quiet gap in every capture.
    let renderer = match &fetcher {
        Some(_) => crate::capture::render::Renderer::new(&config.browser, false)
            .map_err(|message| Error::Config {
                path: config_path.clone(),
                message: format!("[browser] render = {:?}: {message}", config.browser.render),
            })?
            .map(Arc::new),
        None => None,
    };
    let limits = server::Limits::of(&config.serve);
    let sem = |n: usize| Arc::new(Semaphore::new(n));
    let state = Arc::new(AppState {
        exports: sem(config.serve.max_exports),
        searches: sem(config.serve.max_searches),
        raws: sem(config.serve.max_raw),
        root,
        config,
        config_path,
        token,
        fetcher,
        renderer,
        writer: tokio::sync::Mutex::new(None),
        added: Default::default(),
    });
    server::run(listener, router(state.clone()), limits, shutdown).await;
    // Stops the writer thread once what it was given is written, and says whether all
    // of it was (each failed capture was answered with the failure too).
    if let Some((writer, handle)) = state.writer.lock().await.take() {
        drop(writer);
        tokio::task::spawn_blocking(move || handle.shutdown())
            .await
            .map_err(|e| Error::Log(format!("the archive writer did not stop: {e}")))??;
    }
    Ok(())
}

/// The listener `samizdat serve` serves on: `addr`, or `[serve] listen`.
pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Usage(format!("cannot listen on {addr}: {e}")))
}

/// What a server with this configuration allows, for the line that says it started.
pub fn mode(config: &Config) -> &'static str {
    if config.serve.token_file.is_some() {
        "captures allowed with the bearer token"
    } else {
        "read-only"
    }
}

/// `samizdat search QUERY`: `limit` ranked hits from `offset`. Refuses a folder that is
/// not an archive.
pub fn search_archive(
    root: &Path,
    query: &str,
    filter: &search::SearchFilter,
    offset: usize,
    limit: usize,
) -> Result<SearchResults> {
    if !archive::exists(root) {
        return Err(Error::Archive {
            path: root.to_path_buf(),
            message: "no archive here".into(),
        });
    }
    search(root, query, filter, offset, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_html_is_defused() {
        let h = html::sanitize(
            "<p onclick=\"x()\">hi<script>alert(1)</script><img src=x onerror=\"alert(2)\"><a href=\"javascript:alert(3)\">l</a></p>",
            &Default::default(),
        );
        assert!(!h.contains("script") && !h.contains("onerror") && !h.contains("onclick"));
        assert!(!h.contains("javascript:"), "{h}");
        let archived = [(
            "https://img.example/a.png".to_string(),
            "urn:uuid:1".to_string(),
        )]
        .into_iter()
        .collect();
        let h = html::sanitize(
            "<img src=\"https://img.example/a.png\" alt=\"a\"><img src=\"https://tracker.example/t.gif\" alt=\"t\">",
            &archived,
        );
        assert!(h.contains("src=\"/raw/urn%3Auuid%3A1\""), "{h}");
        assert!(!h.contains("tracker.example"), "{h}");
    }

    #[test]
    fn times_read_in_the_readers_terms() {
        let now: jiff::Timestamp = "2026-03-01T16:02:00Z".parse().unwrap();
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(html::ago(t("2026-03-01T13:02:00Z"), now), "3 hours ago");
        assert_eq!(html::ago(t("2026-03-01T16:01:00Z"), now), "1 minute ago");
        assert_eq!(html::ago(t("2026-03-01T16:01:30Z"), now), "just now");
        assert_eq!(html::ago(t("2026-02-27T16:02:00Z"), now), "2 days ago");
        assert_eq!(html::ago(t("2026-03-01T16:07:00Z"), now), "in 5 minutes");
        assert_eq!(
            html::when("2026-03-01T13:02:00.000000Z", now),
            "<time datetime=\"2026-03-01T13:02:00.000000Z\" title=\"UTC 2026-03-01 13:02:00\">2026-03-01 13:02 UTC · 3 hours ago</time>"
        );
        assert_eq!(html::when("<not a time>", now), "&lt;not a time&gt;");
    }

    #[test]
    fn a_title_is_shown_once_and_hashes_in_hex() {
        assert_eq!(
            html::without_title("Frozen\n\nThe bank", "Frozen"),
            "The bank"
        );
        assert_eq!(html::without_title("The bank", "Frozen"), "The bank");
        let p = |html: &str| crate::model::Post {
            title: Some("Frozen & gone".into()),
            html: Some(html.into()),
            ..crate::model::Post::new("web", "x", "https://x.example/")
        };
        let once = html::post_body(
            &p("<article><h1>Frozen &amp; gone</h1><p>t</p></article>"),
            0,
        );
        assert_eq!(once.matches("Frozen &amp; gone").count(), 1, "{once}");
        let both = html::post_body(&p("<p>Intro</p><h1>Frozen &amp; gone</h1>"), 0);
        assert_eq!(both.matches("Frozen &amp; gone").count(), 2, "{both}");
        assert!(!once.contains("· ·") && !once.contains("posted"), "{once}");
        assert_eq!(
            html::b64_hex("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        );
    }

    #[test]
    fn highlight_escapes_and_marks() {
        assert_eq!(
            html::highlight("<b>冻结</b> 卡", "冻结", None),
            "&lt;b&gt;<mark>冻结</mark>&lt;/b&gt; 卡"
        );
    }
}
