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
        let failing = failing_alerts(st)?;
        Ok(home_html(&recent, &gone, &failing, now()))
    })
    .await
}

/// Now, by the clock the command line uses (`SAMIZDAT_NOW`, else the system's): what
/// "3 hours ago" on a page is counted from.
pub(super) fn now() -> jiff::Timestamp {
    crate::clock::Clock::from_env_or_system().now()
}

/// The states a post is gone in (docs/states.md), the unconfirmed one included.
pub(super) const GONE_STATES: [&str; 4] =
    ["deleted", "restricted", "account_gone", "gone_unconfirmed"];

/// A gone post on the home page, with when it was first seen gone.
pub(super) struct Gone {
    pub(super) summary: PostSummary,
    pub(super) first_seen_gone: Option<String>,
}

/// The home page's lists: the newest captures, and the posts seen gone, the most
/// recently gone first.
pub(super) fn home_lists(st: &AppState) -> Result<(Vec<PostSummary>, Vec<Gone>)> {
    if !archive::exists(&st.root) {
        return Ok((vec![], vec![]));
    }
    let ix = st.index()?;
    let recent = ix.list(&ListFilter {
        limit: 20,
        ..Default::default()
    })?;
    let mut gone = vec![];
    for state in GONE_STATES {
        for summary in ix.list(&ListFilter {
            state: Some(state.into()),
            limit: 20,
            ..Default::default()
        })? {
            let first_seen_gone = ix.post_view(&summary.id)?.and_then(|v| v.first_seen_gone);
            gone.push(Gone {
                summary,
                first_seen_gone,
            });
        }
    }
    // RFC 3339 UTC times of one form sort as text; a post without one goes last.
    gone.sort_by(|a, b| b.first_seen_gone.cmp(&a.first_seen_gone));
    gone.truncate(20);
    Ok((recent, gone))
}

/// The configured alert targets whose alerts fail (docs/alerts.md): the home page says so.
fn failing_alerts(st: &AppState) -> Result<Vec<crate::store::index::Failing>> {
    if st.config.alerts.is_empty() || !archive::exists(&st.root) {
        return Ok(vec![]);
    }
    let ids: Vec<String> = st.config.alerts.iter().map(|a| a.id()).collect();
    Ok(st
        .index()?
        .failing_alert_targets()?
        .into_iter()
        .filter(|f| ids.contains(&f.target))
        .collect())
}

pub(super) fn home_html(
    recent: &[PostSummary],
    gone: &[Gone],
    failing: &[crate::store::index::Failing],
    now: jiff::Timestamp,
) -> Response {
    let mut b = String::new();
    if !failing.is_empty() {
        b += "<section id=\"alerts-failing\" class=\"warning\"><h1>Alerts are not getting through</h1>";
        for f in failing {
            b += &format!(
                "<p>Alert target <b>{}</b>: {} alert(s) not delivered after {} attempt(s), failing since {}: {}</p>",
                html::esc(&f.target),
                f.waiting,
                f.attempts,
                html::when(&f.first_failed, now),
                html::esc(f.last_error.as_deref().unwrap_or("?"))
            );
        }
        b += "<p class=\"meta\">They are retried; <code>samizdat alerts status</code> tells more.</p></section>";
    }
    b += &String::from(
        "<section id=\"gone\"><h1>Recently gone</h1><p class=\"meta\">Posts the platform no \
longer shows (deleted, restricted, the account gone, or gone when first captured and not yet \
confirmed), the most recently gone first.</p>",
    );
    if gone.is_empty() {
        b += "<p>No captured post has gone missing.</p>";
    }
    for g in gone {
        if let Some(t) = &g.first_seen_gone {
            b += &format!(
                "<p class=\"meta gone-at\">Seen gone {}</p>",
                html::when(t, now)
            );
        }
        b += &summary(&g.summary, None);
    }
    b += "</section><section id=\"recent\"><h1>Recently captured</h1>";
    if recent.is_empty() {
        b += "<p>Nothing captured yet.</p>";
    }
    for v in recent {
        b += &summary(v, None);
    }
    b += "</section>";
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

/// Everything the post page shows: the post, its records, the proof; and the leaf of
/// each check record (by record id), for the timeline's proofs.
/// The newest render of the post, its screenshot shown from the archive (docs/render.md);
/// older renders listed by time. Nothing when no capture was rendered.
fn renders_html(v: &crate::store::views::PostView, now: jiff::Timestamp) -> String {
    let Some(r) = v.renders.last() else {
        return String::new();
    };
    let mut b = format!(
        "<section id=\"render\"><h2>As the browser showed it</h2><p class=\"meta\">Rendered {} in headless Chromium; \
the screenshot is a record in the log (SHA-256 <code>{}</code>), the DOM after scripts ran is <a href=\"/raw/{}\">another</a>.{}</p>\
<p><a href=\"/raw/{s}\"><img id=\"screenshot\" src=\"/raw/{s}\" alt=\"The page as the browser showed it, {}\" width=\"{}\" loading=\"lazy\"></a></p>",
        html::when(&r.at, now),
        esc(&r.screenshot.sha256),
        enc(&r.dom.record_id),
        if r.loaded {
            ""
        } else {
            " The page had not finished loading: it is shown as it stood."
        },
        esc(&r.at),
        r.screenshot.width.unwrap_or(0),
        s = enc(&r.screenshot.record_id),
    );
    if v.renders.len() > 1 {
        b += "<p class=\"meta\">Earlier renders: ";
        let older: Vec<String> = v.renders[..v.renders.len() - 1]
            .iter()
            .rev()
            .map(|o| {
                format!(
                    "<a href=\"/raw/{}\">{}</a>",
                    enc(&o.screenshot.record_id),
                    esc(&o.at)
                )
            })
            .collect();
        b += &older.join(", ");
        b += "</p>";
    }
    b + "</section>"
}

pub(super) fn post_page_view(
    st: &AppState,
    key: &str,
) -> Result<(PostPage, std::collections::HashMap<String, u64>)> {
    let ix = st.index()?;
    let id = st.resolve(&ix, key)?;
    let view = ix
        .post_view(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;
    let mut check_leaves = std::collections::HashMap::new();
    for c in &view.checks {
        if let Some(row) = ix.record_by_id(&c.record_id)? {
            check_leaves.insert(c.record_id.clone(), row.leaf);
        }
    }
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
    let (conversation, comments) = ix.thread(&id)?;
    Ok((
        PostPage {
            view,
            records,
            inclusion,
            conversation,
            comments,
        },
        check_leaves,
    ))
}

pub(super) async fn post_page(
    State(st): St,
    UrlPath(key): UrlPath<String>,
) -> std::result::Result<Response, Fail> {
    blocking(&st, false, move |st| {
        let (page, leaves) = post_page_view(st, &key)?;
        Ok(post_html(&page, &leaves, now()))
    })
    .await
}

/// A leaf index with the link to its inclusion proof.
fn leaf_link(leaf: u64) -> String {
    format!(
        "<a class=\"leaf\" href=\"/api/log/proof/{leaf}\" title=\"inclusion proof of leaf {leaf} in the latest signed checkpoint\">leaf {leaf}</a>"
    )
}

/// What a check found, in words: the outcome (with `confirmed` or `restored` when the
/// check changed the post's state), the cause, the HTTP status and the platform's words.
fn check_words(c: &crate::store::views::CheckView) -> String {
    use crate::model::Outcome;
    let mut o = badge(c.outcome.as_str());
    if let Some(e) = c.event {
        o += &format!(" <b class=\"event\">{}</b>", e.as_str());
    }
    let said = match c.outcome {
        Outcome::Live => "the post was there, as captured",
        Outcome::Edited => "the post was there, changed: a new version was recorded",
        Outcome::Deleted => "the platform says the post is gone",
        Outcome::Restricted => "the platform hides the post",
        Outcome::AccountGone => "the author's account is closed, suspended or banned",
        Outcome::NotFound => "nothing is at the address",
        Outcome::NotListed => {
            "the comment was not in its post's listing (an observation, not a deletion)"
        }
        Outcome::Unreachable => "the platform could not be reached, so nothing is known",
    };
    o += &format!(" <span class=\"said\">{said}</span>");
    let mut why = vec![];
    if let Some(cause) = c.cause
        && c.outcome != Outcome::Live
    {
        why.push(format!("cause: {}", cause.as_str()));
    }
    if let Some(code) = c.http_status {
        why.push(format!("HTTP {code}"));
    }
    if !why.is_empty() {
        o += &format!(" ({})", esc(&why.join(", ")));
    }
    if let Some(m) = c.message.as_deref().filter(|m| !m.is_empty()) {
        let label = if c.outcome == Outcome::Unreachable {
            "reason"
        } else {
            "the platform's words"
        };
        o += &format!(
            "<br><span class=\"meta\">{label}:</span> <q{}>{}</q>",
            html::lang_of(m)
                .map(|l| format!(" lang=\"{l}\""))
                .unwrap_or_default(),
            esc(m)
        );
    }
    o
}

pub(super) fn post_html(
    page: &PostPage,
    check_leaves: &std::collections::HashMap<String, u64>,
    now: jiff::Timestamp,
) -> Response {
    let v = &page.view;
    let id = v.post.id.0.as_str();
    let state = v.state.as_str();
    let mut b = format!(
        "<article class=\"post\" id=\"post\">{}</article>",
        post_body(&v.post, 0)
    );
    b += &format!("<h2>Status {}</h2>", badge(state));
    let thread = thread_html(page, now);
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
            b += &format!("<p>{label}: {}</p>", html::when(t, now));
        }
    }
    b += &format!(
        "<p><a class=\"button\" href=\"/api/posts/{e}/bundle\">Download the evidence bundle</a> \
<a class=\"button\" href=\"/api/posts/{e}/wacz\">Download WACZ</a> \
<a class=\"button\" href=\"/api/posts/{e}\">JSON</a></p>",
        e = enc(id)
    );
    b += &renders_html(v, now);
    b += &thread;
    b += "<h2>Timeline</h2><p class=\"meta\">Every capture and every later check of the post, oldest first. \
Each is a record in the log: its leaf links to the proof that the log holds it.</p>\
<table id=\"timeline\" class=\"stack\"><colgroup><col style=\"width:30%\"><col><col style=\"width:22%\"></colgroup>\
<tr><th>When</th><th>What it found</th><th>Proof</th></tr>";
    // (time, kind order, what, proof)
    let mut events: Vec<(String, u8, String, String)> = vec![];
    for c in &v.captures {
        let proof = match c.leaf_indexes.last() {
            Some(l) => format!(
                "{} <span class=\"meta\">(post record; {} records)</span>",
                leaf_link(*l),
                c.leaf_indexes.len()
            ),
            None => String::new(),
        };
        let what = "<span class=\"badge captured\">captured</span> <span class=\"said\">the post and what it rests on were recorded</span>".to_string();
        events.push((c.at.clone(), 0, what, proof));
    }
    for c in &v.checks {
        let proof = check_leaves
            .get(&c.record_id)
            .map(|l| {
                format!(
                    "{} <span class=\"meta\">(check record)</span>",
                    leaf_link(*l)
                )
            })
            .unwrap_or_default();
        events.push((c.at.clone(), 1, check_words(c), proof));
    }
    events.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    for (at, kind, what, proof) in events {
        let class = if kind == 0 { "capture" } else { "check" };
        b += &format!(
            "<tr class=\"{class}\"><td>{}</td><td>{what}</td><td>{proof}</td></tr>",
            html::when(&at, now),
        );
    }
    b += "</table><h2>Records</h2><p class=\"meta\">The WARC records this post rests on. \
A <abbr title=\"the SHA-256 of the record's whole block: for a response, the HTTP headers and body as received\">block digest</abbr> \
is the SHA-256 of the record block, a <abbr title=\"the SHA-256 of the body alone, after transfer decoding\">payload digest</abbr> \
that of the body alone, both in hex; recompute them from the WARC file to check it.</p>\
<table id=\"records\" class=\"stack\"><colgroup><col style=\"width:15%\"><col style=\"width:35%\"><col></colgroup>\
<tr><th>Leaf</th><th>Record</th><th>Digests</th></tr>";
    for r in &page.records {
        let mut digests = String::new();
        if let Some(d) = &r.block_digest {
            digests += &html::digest(
                "Block digest",
                "SHA-256 of the record block (headers and body as recorded)",
                d,
            );
        }
        if let Some(d) = &r.payload_digest {
            digests += &html::digest(
                "Payload digest",
                "SHA-256 of the payload (the body alone)",
                d,
            );
        }
        b += &format!(
            "<tr><td>{}</td><td>{} <code>{}</code><br><a href=\"/raw/{}\">raw</a> {}</td><td>{digests}</td></tr>",
            leaf_link(r.leaf_index),
            esc(&r.warc_type),
            esc(&r.id),
            enc(&r.id),
            esc(r.target.as_deref().unwrap_or("")),
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
            let proof: Vec<String> = inc.proof.iter().map(|h| html::b64_hex(h)).collect();
            b += &format!(
                "<p id=\"inclusion\">The post record is leaf {} of the log's tree of {} leaves. \
Hashing the <abbr title=\"RFC 6962 leaf hash: SHA-256 of 0x00 and the record's bytes\">leaf hash</abbr> \
with the {} hashes below, in order (RFC 6962 inclusion proof), gives the \
<abbr title=\"the Merkle tree hash the checkpoint signs\">root hash</abbr> of the signed checkpoint. \
<a href=\"/api/log/proof/{}?size={}\">The proof as JSON</a> (base64, as the checkpoint writes hashes).</p>\
<dl class=\"digest\"><dt>Leaf hash (SHA-256, hex)</dt><dd><code>{}</code></dd>\
<dt>Root hash (SHA-256, hex)</dt><dd><code>{}</code></dd>\
<dt>Proof hashes, leaf to root (hex)</dt><dd><pre>{}</pre></dd></dl>\
<h3>Signed checkpoint</h3><pre>{}</pre><p><a href=\"/log\">About the log</a></p>",
                inc.leaf_index,
                inc.tree_size,
                inc.proof.len(),
                inc.leaf_index,
                inc.tree_size,
                esc(&html::b64_hex(&inc.leaf_hash)),
                esc(&html::b64_hex(&inc.root)),
                esc(&proof.join("\n")),
                esc(&inc.checkpoint),
            );
        }
    }
    let title: String = v
        .post
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .or(v.post.text.as_deref())
        .unwrap_or(id)
        .chars()
        .take(60)
        .collect();
    html_page(&title, "", &b)
}

/// Replies deeper than this are folded (a `<details>` a reader opens).
const OPEN_LEVELS: usize = 3;

/// The conversation under a post (docs/comments.md): every comment with its own state,
/// nested by what it answers; a comment of a gone post keeps showing, with the post's
/// state beside its own.
fn thread_html(page: &PostPage, now: jiff::Timestamp) -> String {
    let Some(c) = &page.conversation else {
        return String::new();
    };
    let total: usize = page.comments.iter().map(|c| c.count()).sum();
    let mut b = format!(
        "<section id=\"comments\"><h2>Comments <span class=\"meta\">{total}</span></h2>\
<p class=\"meta\">Last read {}: {}{}; {} listed.</p>",
        html::when(&c.at, now),
        esc(c.status.as_str()),
        c.message
            .as_deref()
            .map(|m| format!(", the platform's words: <q>{}</q>", esc(m)))
            .unwrap_or_default(),
        c.count
    );
    let gone = page
        .view
        .state
        .is_gone()
        .then_some(page.view.state.as_str());
    b += "<ol class=\"thread\">";
    for c in &page.comments {
        comment_html(c, 1, gone, now, &mut b);
    }
    b += "</ol></section>";
    b
}

fn comment_html(
    c: &crate::store::views::CommentView,
    level: usize,
    post_gone: Option<&str>,
    now: jiff::Timestamp,
    b: &mut String,
) {
    let p = &c.post;
    let author = p.author_label();
    let kind = p.thread.as_ref().map_or("comment", |t| t.kind.as_str());
    *b += &format!(
        "<li class=\"comment\" id=\"{}\"><p class=\"meta\"><b>{}</b> {}{}{}{} {}{}</p>",
        esc(&p.id.0),
        esc(author),
        p.created_at
            .as_deref()
            .map(|t| html::when(t, now))
            .unwrap_or_default(),
        p.extra
            .get("region")
            .and_then(|r| r.as_str())
            .map(|r| format!(" · {}", esc(r)))
            .unwrap_or_default(),
        p.counts
            .as_ref()
            .and_then(|c| c.likes)
            .map(|l| format!(" · {l} likes"))
            .unwrap_or_default(),
        if kind == "comment" {
            String::new()
        } else {
            format!(" · {kind}")
        },
        badge(c.state.as_str()),
        post_gone
            .map(|s| format!(" <span class=\"meta\">(the post is {s})</span>"))
            .unwrap_or_default(),
    );
    let text = p.text.as_deref().unwrap_or("");
    *b += &format!(
        "<p class=\"text\"{}>{}</p>",
        html::lang_of(text)
            .map(|l| format!(" lang=\"{l}\""))
            .unwrap_or_default(),
        esc(text).replace('\n', "<br>")
    );
    if !c.replies.is_empty() {
        let n: usize = c.replies.iter().map(|r| r.count()).sum();
        let fold = level >= OPEN_LEVELS;
        if fold {
            *b += &format!("<details><summary>{n} more replies</summary>");
        }
        *b += "<ol class=\"thread\">";
        for r in &c.replies {
            comment_html(r, level + 1, post_gone, now, b);
        }
        *b += "</ol>";
        if fold {
            *b += "</details>";
        }
    }
    *b += "</li>";
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
