//! The HTML pages: home, search, post lists, a post, an account, how to verify.

use super::html::{self, badge, enc, esc, post_body, summary};
use super::state::*;
use super::{PAGE_SIZE, search};
use crate::error::{Error, Result};
use crate::log::hashes::HashStore;
use crate::store::archive::{self, layout};
use crate::store::index::ListFilter;
use crate::store::search::SearchFilter;
use crate::store::views::{InclusionView, PostPage, PostSummary, RecordView, SearchResults};
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::CSS,
    )
        .into_response()
}

pub(super) async fn home(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| {
        let (recent, gone) = home_lists(st)?;
        Ok(home_html(&recent, &gone))
    })
    .await
}

pub(super) fn home_lists(st: &AppState) -> Result<(Vec<PostSummary>, Vec<PostSummary>)> {
    {
        if !archive::exists(&st.root) {
            return Ok((vec![], vec![]));
        }
        let ix = st.index()?;
        let recent = ix.list(&ListFilter {
            limit: 20,
            ..Default::default()
        })?;
        let mut gone = vec![];
        for state in [
            "deleted",
            "restricted",
            "account_gone",
            "gone_unconfirmed",
            "unreachable",
        ] {
            gone.extend(ix.list(&ListFilter {
                state: Some(state.into()),
                limit: 20,
                ..Default::default()
            })?);
        }
        gone.sort_by(|a, b| b.last_captured.cmp(&a.last_captured));
        gone.truncate(20);
        Ok((recent, gone))
    }
}

pub(super) fn home_html(recent: &[PostSummary], gone: &[PostSummary]) -> Response {
    let mut b = String::from("<h1>Recently captured</h1>");
    if recent.is_empty() {
        b += "<p>Nothing captured yet.</p>";
    }
    for v in recent {
        b += &summary(v, None);
    }
    b += "<h1>Recently gone</h1>";
    if gone.is_empty() {
        b += "<p>No captured post has gone missing.</p>";
    }
    for v in gone {
        b += &summary(v, None);
    }
    html_page("Archive", "", &b)
}

#[derive(Deserialize, Default)]
pub(super) struct SearchQ {
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    pub(super) page: Option<usize>,
    /// Hits to skip (the API's; the page's links use `page`).
    #[serde(default)]
    pub(super) offset: Option<usize>,
    #[serde(default)]
    pub(super) limit: Option<usize>,
    #[serde(default)]
    pub(super) platform: Option<String>,
    #[serde(default)]
    pub(super) state: Option<String>,
    #[serde(default)]
    pub(super) since: Option<String>,
    #[serde(default)]
    pub(super) until: Option<String>,
}

impl SearchQ {
    /// The filter, checked as the command line checks it (the same parser for times:
    /// `store::since`); a bad value is the sentence to show with a `400`.
    pub(super) fn filter(&self) -> std::result::Result<SearchFilter, String> {
        SearchFilter::parse(
            self.platform.as_deref(),
            self.state.as_deref(),
            self.since.as_deref(),
            self.until.as_deref(),
            &crate::clock::Clock::from_env_or_system(),
        )
    }

    /// The query string of this search (filters as typed) at another `page`.
    fn link(&self, page: usize) -> String {
        let mut l = format!("/search?q={}", enc(self.q.trim()));
        for (k, v) in [
            ("platform", &self.platform),
            ("state", &self.state),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                l += &format!("&{k}={}", enc(v));
            }
        }
        if page > 1 {
            l += &format!("&page={page}");
        }
        l
    }
}

pub(super) async fn search_page(
    State(st): St,
    Query(sq): Query<SearchQ>,
) -> std::result::Result<Response, Fail> {
    let page_no = sq.page.unwrap_or(1).max(1);
    let filter = sq
        .filter()
        .map_err(|m| Fail(StatusCode::BAD_REQUEST, m, false))?;
    if sq.q.trim().is_empty() {
        let b = format!(
            "<h1>Search</h1><p>Search the text and authors of every captured post. Every word must match; English words match their other forms (\"bank card\" finds \"bank cards\"); Chinese, Japanese and Korean queries of one or two characters work.</p>{}",
            search_filter_form(&sq)
        );
        return Ok(html_page("Search", "", &b));
    }
    search::check_query(&sq.q).map_err(|m| Fail(StatusCode::BAD_REQUEST, m, false))?;
    let permit = admit(&st.searches, SEARCHES, false)?;
    blocking(&st, false, move |st| {
        let _permit = permit;
        if !archive::exists(&st.root) {
            return Ok(search_html(&sq, &SearchResults::none(&sq.q, PAGE_SIZE)));
        }
        let offset = (page_no - 1).saturating_mul(PAGE_SIZE);
        let r = search(&st.root, &sq.q, &filter, offset, PAGE_SIZE)?;
        Ok(search_html(&sq, &r))
    })
    .await
}

/// The search page's filters: the words, platform, state, since and until, as typed.
fn search_filter_form(sq: &SearchQ) -> String {
    let typed = |v: &Option<String>| esc(v.as_deref().unwrap_or("").trim());
    let select = |name: &str, label: &str, values: &[&str], chosen: &Option<String>| {
        let chosen = chosen.as_deref().unwrap_or("").trim();
        let mut o =
            format!("<label>{label} <select name=\"{name}\"><option value=\"\">any</option>");
        for v in values {
            o += &format!(
                "<option{}>{}</option>",
                if *v == chosen { " selected" } else { "" },
                esc(v)
            );
        }
        o + "</select></label> "
    };
    let platforms: Vec<&str> = crate::platforms::PLATFORMS
        .iter()
        .map(|p| p.name())
        .collect();
    format!(
        "<form method=\"get\" action=\"/search\" id=\"filters\"><p>\
<label>Words <input name=\"q\" value=\"{}\" size=\"20\"></label> {}{}\
<label>Since <input name=\"since\" value=\"{}\" size=\"12\" placeholder=\"yesterday, 7d, 2026-01-01\"></label> \
<label>Until <input name=\"until\" value=\"{}\" size=\"12\" placeholder=\"2026-02-01\"></label> \
<button type=\"submit\">Filter</button></p></form>",
        esc(sq.q.trim()),
        select("platform", "Platform", &platforms, &sq.platform),
        select("state", "State", &crate::store::search::STATES, &sq.state),
        typed(&sq.since),
        typed(&sq.until),
    )
}

pub(super) fn search_html(sq: &SearchQ, r: &SearchResults) -> Response {
    let q = sq.q.trim();
    let mut b = String::new();
    let total = r.total;
    let plus = if r.capped { "+" } else { "" };
    let shown = if r.results.is_empty() {
        String::new()
    } else {
        format!("; {}–{} shown", r.offset + 1, r.offset + r.results.len())
    };
    b += &format!(
        "<h1>Search: <span{}>{}</span></h1>{}<p class=\"meta\" id=\"count\">{total}{plus} posts found{shown}</p>",
        html::lang_of(q)
            .map(|l| format!(" lang=\"{l}\""))
            .unwrap_or_default(),
        esc(q),
        search_filter_form(sq)
    );
    for v in &r.results {
        b += &summary(v, Some(q));
    }
    b += "<nav class=\"pages\">";
    if r.page > 1 {
        b += &format!(
            "<a rel=\"prev\" href=\"{}\">Previous</a> ",
            esc(&sq.link(r.page - 1))
        );
    }
    if r.more {
        b += &format!(
            "<a rel=\"next\" href=\"{}\">Next</a>",
            esc(&sq.link(r.page + 1))
        );
    }
    b += "</nav>";
    html_page(&format!("Search: {q}"), q, &b)
}

#[derive(Deserialize, Default)]
pub(super) struct ListQ {
    platform: Option<String>,
    state: Option<String>,
    since: Option<String>,
    author: Option<String>,
    limit: Option<usize>,
}

impl ListQ {
    /// The filter, checked as `list` checks it: a known platform and state, `since` in
    /// the command line's forms (`store::since`: yesterday, 7d, a date...). A bad value
    /// is the sentence to show with a `400`, never an empty list.
    pub(super) fn filter(self) -> std::result::Result<ListFilter, String> {
        let checked = SearchFilter::parse(
            self.platform.as_deref(),
            self.state.as_deref(),
            self.since.as_deref(),
            None,
            &crate::clock::Clock::from_env_or_system(),
        )?;
        let nz = |o: Option<String>| o.filter(|s| !s.trim().is_empty());
        Ok(ListFilter {
            platform: checked.platform,
            state: checked.state,
            since: checked.since,
            author: nz(self.author),
            limit: self.limit.unwrap_or(100).min(1000),
        })
    }
}

pub(super) async fn posts_page(
    State(st): St,
    Query(lq): Query<ListQ>,
) -> std::result::Result<Response, Fail> {
    let typed_since = lq.since.clone();
    let f = lq
        .filter()
        .map_err(|m| Fail(StatusCode::BAD_REQUEST, m, false))?;
    blocking(&st, false, move |st| {
        let list = st.index()?.list(&f)?;
        // The form shows `since` as it was typed ("yesterday"), not as parsed.
        let shown = ListFilter {
            since: typed_since,
            ..f
        };
        Ok(posts_html(&shown, &list))
    })
    .await
}

pub(super) fn posts_html(f: &ListFilter, list: &[PostSummary]) -> Response {
    let opt = |v: &Option<String>| esc(v.as_deref().unwrap_or(""));
    let mut b = format!(
        "<h1>Posts</h1><form method=\"get\" action=\"/posts\"><p>\
<label>Platform <input name=\"platform\" value=\"{}\" size=\"8\"></label> \
<label>State <input name=\"state\" value=\"{}\" size=\"8\"></label> \
<label>Since <input name=\"since\" value=\"{}\" size=\"12\" placeholder=\"2026-01-01\"></label> \
<label>Author <input name=\"author\" value=\"{}\" size=\"10\"></label> \
<button type=\"submit\">Filter</button></p></form><p class=\"meta\">{} posts</p>",
        opt(&f.platform),
        opt(&f.state),
        opt(&f.since),
        opt(&f.author),
        list.len()
    );
    for v in list {
        b += &summary(v, None);
    }
    html_page("Posts", "", &b)
}

/// Everything the post page shows: the post, its records, the proof.
pub(super) fn post_page_view(st: &AppState, key: &str) -> Result<PostPage> {
    let ix = st.index()?;
    let id = st.resolve(&ix, key)?;
    let view = ix
        .post_view(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;
    let mut records = vec![];
    for c in &view.captures {
        for r in &c.record_ids {
            if let Some(row) = ix.record_by_id(r)? {
                records.push(RecordView::from(row));
            }
        }
    }
    // A post gone at its first capture has no capture: its records are its checks'.
    if view.captures.is_empty() {
        for c in &view.checks {
            for r in c.record_ids.iter().chain(std::iter::once(&c.record_id)) {
                if let Some(row) = ix.record_by_id(r)? {
                    records.push(RecordView::from(row));
                }
            }
        }
    }
    let mut inclusion = None;
    let cp_text = std::fs::read_to_string(st.root.join(layout::CHECKPOINT)).ok();
    if let (Some(leaf), Some(text)) = (view.post_leaf(), &cp_text) {
        let verifier = archive::read_verifier(&st.root)?;
        if let Some(cp) = archive::latest_checkpoint(&st.root, &verifier)? {
            let hs = HashStore::open_read_only(&st.root.join(layout::HASHES))?;
            // A proof that does not check against the checkpoint is left out (the page
            // still shows the post; `verify` names the damaged cache).
            let checked = if leaf < cp.size && cp.size <= hs.tree_size() {
                match hs.checked_inclusion(leaf, cp.size, &cp) {
                    Err(Error::Damage(e)) => {
                        tracing::warn!("{e}");
                        None
                    }
                    r => Some(r?),
                }
            } else {
                None
            };
            if let Some(c) = checked {
                inclusion = Some(InclusionView {
                    leaf_index: leaf,
                    tree_size: cp.size,
                    leaf_hash: c.leaf_hash.to_base64(),
                    root: cp.root.to_base64(),
                    proof: c.proof.iter().map(|h| h.to_base64()).collect(),
                    checkpoint: text.clone(),
                });
            }
        }
    }
    Ok(PostPage {
        view,
        records,
        inclusion,
    })
}

pub(super) async fn post_page(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, false, move |st| {
        Ok(post_html(&post_page_view(st, &key)?))
    })
    .await
}

pub(super) fn post_html(page: &PostPage) -> Response {
    let v = &page.view;
    let id = v.post.id.0.as_str();
    let state = v.state.as_str();
    let mut b = format!(
        "<article class=\"post\" id=\"post\">{}</article>",
        post_body(&v.post, 0)
    );
    b += &format!("<h2>Status {}</h2>", badge(state));
    if let Some(why) = v.state_in_words() {
        b += &format!("<p id=\"state-words\">{}</p>", esc(&why));
    }
    if let Some(m) = &v.message {
        b += &format!(
            "<p>The platform's words: <q{}>{}</q></p>",
            html::lang_of(m)
                .map(|l| format!(" lang=\"{l}\""))
                .unwrap_or_default(),
            esc(m)
        );
    }
    for (t, label) in [
        (&v.last_seen_live, "Last seen live"),
        (&v.first_seen_gone, "First seen gone"),
    ] {
        if let Some(t) = t {
            b += &format!("<p>{label}: {}</p>", esc(t));
        }
    }
    b += &format!(
        "<p><a class=\"button\" href=\"/api/posts/{e}/bundle\">Download the evidence bundle</a> \
<a class=\"button\" href=\"/api/posts/{e}/wacz\">Download WACZ</a> \
<a class=\"button\" href=\"/api/posts/{e}\">JSON</a></p>",
        e = enc(id)
    );
    b += "<h2>Timeline</h2><table><tr><th>When</th><th>What</th><th>Leaf indexes</th></tr>";
    let mut events: Vec<(String, String, String)> = vec![];
    for c in &v.captures {
        let leaves: Vec<String> = c.leaf_indexes.iter().map(u64::to_string).collect();
        events.push((c.at.clone(), "captured".into(), leaves.join(", ")));
    }
    for c in &v.checks {
        // The badge slot stays empty, as it always has: a check has an outcome, not a
        // state (the page read a `state` key checks never had).
        let what = format!(
            "checked: {} {}",
            badge(""),
            esc(c.message.as_deref().unwrap_or(""))
        );
        events.push((c.at.clone(), what, String::new()));
    }
    events.sort();
    for (at, what, leaves) in events {
        let what = if what == "captured" {
            badge("live").replace("live</span>", "captured</span>")
        } else {
            what
        };
        b += &format!(
            "<tr><td>{}</td><td>{what}</td><td>{}</td></tr>",
            esc(&at),
            esc(&leaves)
        );
    }
    b += "</table><h2>Records</h2><table><tr><th>Leaf</th><th>Record</th><th>Digests</th></tr>";
    for r in &page.records {
        b += &format!(
            "<tr><td>{}</td><td>{} <code>{}</code><br><a href=\"/raw/{}\">raw</a> {}</td><td><code>{}</code><br><code>{}</code></td></tr>",
            r.leaf_index,
            esc(&r.warc_type),
            esc(&r.id),
            enc(&r.id),
            esc(r.target.as_deref().unwrap_or("")),
            esc(r.block_digest.as_deref().unwrap_or("")),
            esc(r.payload_digest.as_deref().unwrap_or("")),
        );
    }
    b += "</table><h2>Inclusion proof</h2>";
    match &page.inclusion {
        // Known only from gone answers: no post record to prove; the checks are its
        // evidence (listed above, proven in its evidence bundle).
        None if v.captures.is_empty() => {
            b += "<p>Nothing of this post was captured, so no post record is proven here: its check records (listed above) are its evidence, and its evidence bundle carries their inclusion proofs.</p>"
        }
        None => b += "<p>No signed checkpoint covers this post yet.</p>",
        Some(inc) => {
            b += &format!(
                "<p>The post record is leaf {} of the tree of size {}; leaf hash <code>{}</code>, root <code>{}</code>. \
<a href=\"/api/log/proof/{}?size={}\">Proof as JSON</a>.</p><pre>{}</pre><h3>Checkpoint</h3><pre>{}</pre>",
                inc.leaf_index,
                inc.tree_size,
                esc(&inc.leaf_hash),
                esc(&inc.root),
                inc.leaf_index,
                inc.tree_size,
                esc(&inc.proof.join("\n")),
                esc(&inc.checkpoint),
            );
        }
    }
    let title: String = v
        .post
        .text
        .as_deref()
        .or(v.post.title.as_deref())
        .unwrap_or(id)
        .chars()
        .take(60)
        .collect();
    html_page(&title, "", &b)
}

pub(super) fn account_posts(st: &AppState, platform: &str, id: &str) -> Result<Vec<PostSummary>> {
    st.index()?.list(&ListFilter {
        platform: Some(platform.into()),
        author: Some(id.into()),
        limit: 1000,
        ..Default::default()
    })
}

pub(super) async fn account_page(
    State(st): St,
    UrlPath((platform, id)): UrlPath<(String, String)>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, false, move |st| {
        let list = account_posts(st, &platform, &id)?;
        Ok(account_html(&platform, &id, &list))
    })
    .await
}

pub(super) fn account_html(platform: &str, id: &str, list: &[PostSummary]) -> Response {
    let mut b = format!(
        "<h1>{} on {}</h1><p class=\"meta\">{} captured posts</p>",
        esc(id),
        esc(platform),
        list.len()
    );
    for v in list {
        b += &summary(v, None);
    }
    html_page(&format!("{id} on {platform}"), "", &b)
}

pub(super) async fn verify_page(State(st): St) -> std::result::Result<Response, Fail> {
    blocking(&st, false, |st| {
        let vkey = std::fs::read_to_string(st.root.join(layout::VERIFIER_KEY)).unwrap_or_default();
        Ok(verify_html(&vkey))
    })
    .await
}

/// The fingerprint of a C2SP vkey, or what is wrong with it.
fn fingerprint_of(vkey: &str) -> String {
    crate::log::note::NoteVerifier::from_vkey(vkey)
        .map(|v| v.fingerprint())
        .unwrap_or_else(|e| format!("(unreadable key: {e})"))
}

pub(super) fn verify_html(vkey: &str) -> Response {
    let b = format!(
        "<h1>How to check anything here</h1>\
<p>Every capture is a set of WARC records (the HTTP requests and responses, pictures, TLS certificates) \
and a post record. Each record is a leaf of an append-only Merkle tree (RFC 6962), and the archive signs \
checkpoints of that tree (C2SP signed notes). Nothing here asks you to trust this server:</p><ol>\
<li>Download a post's <b>evidence bundle</b> (button on each post page) and run \
<code>samizdat verify-bundle bundle.zip --vkey log.vkey</code>. It re-hashes every record, checks the \
inclusion proof against the signed checkpoint and any RFC 3161 timestamps, offline.</li>\
<li>The log is public: the latest checkpoint is at <a href=\"/log/checkpoint\">/log/checkpoint</a> and the \
tree tiles at <code>/log/tile/…</code> (C2SP tlog-tiles), so any tlog client or witness can follow it and \
check that it only ever grows.</li>\
<li>Each post page lists its records' digests and leaf indexes and an inclusion proof; \
<code>/api/log/proof/LEAF?size=N</code> gives the same as JSON.</li>\
<li>The WACZ download replays in any WACZ viewer (ReplayWeb.page, pywb).</li></ol>\
<h2>The log's verifier key</h2><pre>{}</pre><p>Key fingerprint (hex SHA-256 of the public key, \
as <code>samizdat init</code>, <code>verify</code> and <code>verify-bundle</code> print it): \
<code>{}</code>. Compare it with the one the archive published.</p>",
        esc(vkey.trim()),
        esc(&fingerprint_of(vkey.trim()))
    );
    html_page("Verify", "", &b)
}
