//! Posts as a person or a program reads them: `show` and `list`, and finding a post
//! from any URL form or id.
//!
//! They read the typed views of `store::views`; the JSON is the views' own serialisation.

use super::render::{COLUMNS, SHORT_HEX, cols, fit, out, print_json, say, short_id};
use super::settings::{Settings, open_index};
use samizdat::error::{Error, Result};
use samizdat::store::index::{Index, ListFilter};

/// A post id from a post id, any URL form (`Index::find_post`), or a short id as human
/// output prints it (`web:` and at least 8 hex digits, a unique prefix of one id: see
/// `render::short_id`). A prefix two posts share is a usage error naming them.
pub fn resolve_post(ix: &Index, key: &str) -> Result<String> {
    if let Some(id) = ix.find_post(key)? {
        return Ok(id);
    }
    if let Some((platform, hex)) = key.split_once(':')
        && (8..64).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let rows = ix.list(&ListFilter {
            platform: Some(platform.to_string()),
            ..ListFilter::default()
        })?;
        let lower = key.to_ascii_lowercase();
        let hits: Vec<&str> = rows
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| id.starts_with(&lower))
            .collect();
        match hits.as_slice() {
            [one] => return Ok((*one).to_string()),
            [] => {}
            many => {
                return Err(Error::Usage(format!(
                    "{key:?} is the start of {} post ids ({}): give more of it (at least {} hex digits are shown)",
                    many.len(),
                    many.iter().take(3).copied().collect::<Vec<_>>().join(", "),
                    SHORT_HEX
                )));
            }
        }
    }
    ix.resolve_post(key)
}

pub fn show(s: &Settings, key: &str) -> Result<u8> {
    let ix = open_index(s)?;
    let id = resolve_post(&ix, key)?;
    let conflicts = ix.url_conflicts(&id)?;
    let v = ix
        .post_view(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?
        .with_conflicts(conflicts);
    let (conversation, comments) = ix.thread(&id)?;
    let custody = ix.custody_of(&id)?;
    if s.json {
        // The conversation goes with the post (docs/comments.md); left out when none was read.
        let all = samizdat::store::views::PostWithThread {
            view: v,
            conversation,
            comments,
            custody,
        };
        print_json(&serde_json::to_value(&all).map_err(|e| Error::Log(e.to_string()))?);
        return Ok(0);
    }
    let mut text = String::new();
    render_post(&v.post, 0, &mut text);
    text.push_str(&format!("\nstate: {}", v.state.as_str()));
    if let Some(c) = v.cause {
        text.push_str(&format!(" (cause {})", c.as_str()));
    }
    text.push('\n');
    if let Some(why) = v.state_in_words() {
        text.push_str(&format!("  {why}\n"));
    }
    if let Some(m) = &v.message {
        text.push_str(&format!("the platform's words: {m}\n"));
    }
    // `null` for a capture whose records the index no longer knows, as before.
    let leaf = |l: Option<&u64>| l.map_or_else(|| "null".to_string(), u64::to_string);
    for c in &v.captures {
        let leaves = c.leaf_indexes.len();
        text.push_str(&format!(
            "captured {}  {} records, leaves {}..{}\n",
            c.at,
            leaves,
            leaf(c.leaf_indexes.first()),
            leaf(c.leaf_indexes.get(leaves.saturating_sub(1)))
        ));
    }
    // What the browser showed (docs/render.md).
    for r in &v.renders {
        text.push_str(&format!(
            "rendered {}  screenshot {}x{} sha256 {}, DOM sha256 {}, {} browser requests{}\n",
            r.at,
            r.screenshot.width.unwrap_or(0),
            r.screenshot.height.unwrap_or(0),
            r.screenshot.sha256,
            r.dom.sha256,
            r.exchanges,
            if r.loaded { "" } else { " (not fully loaded)" }
        ));
    }
    for (t, label) in [
        (&v.last_seen_live, "last seen live"),
        (&v.first_seen_gone, "first seen gone"),
    ] {
        if let Some(t) = t {
            text.push_str(&format!("{label}: {t}\n"));
        }
    }
    for c in &v.checks {
        text.push_str(&format!(
            "checked {}  {}{}{}{}\n",
            c.at,
            c.outcome.as_str(),
            c.event
                .map(|e| format!(" [{}]", e.as_str()))
                .unwrap_or_default(),
            c.cause
                .map(|e| format!(" (cause {})", e.as_str()))
                .unwrap_or_default(),
            c.message
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
        ));
    }
    // Where copies went, and recorded checks (docs/provenance.md).
    for c in &custody {
        let b = &c.body;
        let who = b
            .collector
            .as_ref()
            .map(|c| format!(" by {}", c.name))
            .unwrap_or_default();
        let what = match (&b.artifact, &b.result) {
            (Some(a), _) => format!(" {} (sha256 {})", a.name, a.sha256),
            (None, Some(r)) => format!(": {r}"),
            (None, None) => String::new(),
        };
        text.push_str(&format!("custody {}  {}{what}{who}\n", b.at, b.action));
    }
    // A URL claimed by two posts resolves to the first (see `store::index`).
    for c in &v.url_conflicts {
        if c.belongs_to == id {
            text.push_str(&format!(
                "URL conflict: {} belongs to this post; post {} names it too\n",
                c.url, c.also_claimed_by
            ));
        } else {
            text.push_str(&format!(
                "URL conflict: {}, named by this post, belongs to post {} (claimed first)\n",
                c.url, c.belongs_to
            ));
        }
    }
    if let Some(c) = &conversation {
        let total: usize = comments.iter().map(|c| c.count()).sum();
        text.push_str(&format!(
            "\ncomments: {total} archived; last read {} ({}{}), {} listed\n",
            c.at,
            c.status.as_str(),
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default(),
            c.count
        ));
        for c in &comments {
            render_comment(c, 1, &v.state, &mut text);
        }
    }
    // The post is the result: stdout (docs/cli.md, "Where output goes").
    out(&text);
    Ok(0)
}

/// A comment and its replies, indented by level, under the post they belong to. A
/// comment of a gone post is shown with the post's state beside its own.
fn render_comment(
    c: &samizdat::store::views::CommentView,
    depth: usize,
    post_state: &samizdat::store::state::State,
    out: &mut String,
) {
    let pad = "  ".repeat(depth);
    let p = &c.post;
    let author = p.author_label();
    let kind = p.thread.as_ref().map_or("comment", |t| t.kind.as_str());
    let mut head = format!("{pad}{kind} {}  {author}", short_id(&p.id.0));
    if let Some(at) = &p.created_at {
        head.push_str(&format!("  {at}"));
    }
    if let Some(r) = p.extra.get("region").and_then(|r| r.as_str()) {
        head.push_str(&format!("  {r}"));
    }
    if let Some(l) = p.counts.as_ref().and_then(|c| c.likes) {
        head.push_str(&format!("  {l} likes"));
    }
    head.push_str(&format!("  [{}", c.state.as_str()));
    if post_state.is_gone() {
        head.push_str(&format!("; the post is {}", post_state.as_str()));
    }
    head.push_str("]\n");
    out.push_str(&head);
    for line in p.text.as_deref().unwrap_or("").lines() {
        out.push_str(&format!("{pad}  {line}\n"));
    }
    for r in &c.replies {
        render_comment(r, depth + 1, post_state, out);
    }
}

/// A post as a person reads it in a terminal.
pub fn render_post(p: &samizdat::model::Post, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    let author = p.author_label();
    out.push_str(&format!(
        "{pad}{}  {}\n",
        short_id(&p.id.to_string()),
        p.url
    ));
    match p.created_at.as_deref() {
        Some(at) => out.push_str(&format!("{pad}{author}  {at}\n")),
        None => out.push_str(&format!("{pad}{author}\n")),
    }
    if let Some(t) = &p.title {
        out.push_str(&format!("{pad}# {t}\n"));
    }
    if let Some(t) = &p.text {
        // The title once: not again as the text's first line.
        let t = samizdat::web::html::without_title(t, p.title.as_deref().unwrap_or(""));
        for line in t.lines() {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    for m in &p.media {
        out.push_str(&format!(
            "{pad}  [{}] {}{}\n",
            serde_json::to_value(m.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_string))
                .unwrap_or_else(|| "media".into()),
            m.url,
            m.sha256
                .as_deref()
                .map(|h| format!("  sha256:{h}"))
                .unwrap_or_else(|| "  (not fetched)".into())
        ));
    }
    if let Some(c) = &p.counts {
        let parts: Vec<String> = [
            ("reposts", c.reposts),
            ("comments", c.comments),
            ("likes", c.likes),
        ]
        .iter()
        .filter_map(|(k, n)| n.map(|n| format!("{k} {n}")))
        .collect();
        if !parts.is_empty() {
            out.push_str(&format!("{pad}  {}\n", parts.join(" · ")));
        }
    }
    if let Some(r) = &p.repost_of {
        out.push_str(&format!("{pad}  reposting:\n"));
        render_post(r, depth + 1, out);
    }
    if let Some(q) = &p.quote_of {
        out.push_str(&format!("{pad}  quoting:\n"));
        render_post(q, depth + 1, out);
    }
}

pub fn list(s: &Settings, f: ListFilter) -> Result<u8> {
    let ix = open_index(s)?;
    let rows = ix.list(&f)?;
    for r in &rows {
        if s.json {
            print_json(&serde_json::to_value(r).map_err(|e| Error::Log(e.to_string()))?);
        } else {
            // Kept within COLUMNS: a short id, the author cut to 24 columns, and the
            // text to what is left of the line.
            let head = format!(
                "{}  {}  {}  {}  ",
                r.last_captured,
                r.state,
                short_id(&r.id),
                fit(r.author.as_deref().unwrap_or("-"), 24)
            );
            let room = COLUMNS.saturating_sub(cols(&head)).max(10);
            out(&format!("{head}{}\n", fit(&r.text, room).trim_end()));
        }
    }
    if !s.json {
        say(s, format!("{} posts", rows.len()));
    }
    Ok(0)
}
