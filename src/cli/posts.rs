//! Posts as a person or a program reads them: `show` and `list`, and finding a post
//! from any URL form or id.
//!
//! (These four functions are kept together and as they were in `main.rs`, so the typed
//! read model can replace their bodies in one place.)

use super::render::{print_json, say};
use super::settings::{Settings, open_index};
use samizdat::error::{Error, Result};
use samizdat::store::index::{Index, ListFilter};
use serde_json::json;

/// A post id from a post id or any URL form.
pub fn resolve_post(ix: &Index, key: &str) -> Result<String> {
    if let Some(id) = ix.resolve(key)? {
        return Ok(id);
    }
    if let Ok(u) = samizdat::capture::parse_url(key)
        && let Some((p, samizdat::platforms::Target::Post { platform_id, url })) =
            samizdat::platforms::recognise(&u)
    {
        let id = format!("{}:{platform_id}", p.name());
        if let Some(found) = ix.resolve(&id)?.or(ix.resolve(&url)?) {
            return Ok(found);
        }
    }
    Err(Error::NotFound(format!(
        "no post {key:?} in this archive (try `samizdat list`)"
    )))
}

pub fn show(s: &Settings, key: &str) -> Result<u8> {
    let ix = open_index(s)?;
    let id = resolve_post(&ix, key)?;
    let mut v = ix
        .post_json(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;
    let conflicts = ix.url_conflicts(&id)?;
    if !conflicts.is_empty() {
        v["url_conflicts"] = json!(conflicts);
    }
    if s.json {
        print_json(&v);
        return Ok(0);
    }
    let mut out = String::new();
    render_post(&v, 0, &mut out);
    out.push_str(&format!("\nstate: {}", v["state"].as_str().unwrap_or("?")));
    if let Some(c) = v["cause"].as_str() {
        out.push_str(&format!(" (cause {c})"));
    }
    out.push('\n');
    for c in v["captures"].as_array().into_iter().flatten() {
        let leaves = c["leaf_indexes"].as_array().map(|l| l.len()).unwrap_or(0);
        out.push_str(&format!(
            "captured {}  {} records, leaves {}..{}\n",
            c["at"].as_str().unwrap_or("?"),
            leaves,
            c["leaf_indexes"][0],
            c["leaf_indexes"][leaves.saturating_sub(1)]
        ));
    }
    for k in [
        ("last_seen_live", "last seen live"),
        ("first_seen_gone", "first seen gone"),
    ] {
        if let Some(t) = v[k.0].as_str() {
            out.push_str(&format!("{}: {t}\n", k.1));
        }
    }
    for c in v["checks"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "checked {}  {}{}{}{}\n",
            c["at"].as_str().unwrap_or("?"),
            c["outcome"].as_str().unwrap_or("?"),
            c["event"]
                .as_str()
                .map(|e| format!(" [{e}]"))
                .unwrap_or_default(),
            c["cause"]
                .as_str()
                .map(|e| format!(" (cause {e})"))
                .unwrap_or_default(),
            c["message"]
                .as_str()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
        ));
    }
    // A URL claimed by two posts resolves to the first (see `store::index`).
    for c in &conflicts {
        let (url, holder, other) = (
            c["url"].as_str().unwrap_or("?"),
            c["belongs_to"].as_str().unwrap_or("?"),
            c["also_claimed_by"].as_str().unwrap_or("?"),
        );
        if holder == id {
            out.push_str(&format!(
                "URL conflict: {url} belongs to this post; post {other} names it too\n"
            ));
        } else {
            out.push_str(&format!(
                "URL conflict: {url}, named by this post, belongs to post {holder} (claimed first)\n"
            ));
        }
    }
    // Human output goes to stderr (docs/cli.md, "Output"); `--json` is the stdout interface.
    eprint!("{out}");
    Ok(0)
}

/// A post as a person reads it in a terminal.
pub fn render_post(v: &serde_json::Value, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    let author = v["author"]["name"]
        .as_str()
        .or(v["author"]["handle"].as_str())
        .unwrap_or("(unknown author)");
    out.push_str(&format!(
        "{pad}{}  {}\n",
        v["id"].as_str().unwrap_or(""),
        v["url"].as_str().unwrap_or("")
    ));
    out.push_str(&format!(
        "{pad}{author}  {}\n",
        v["created_at"].as_str().unwrap_or("")
    ));
    if let Some(t) = v["title"].as_str() {
        out.push_str(&format!("{pad}# {t}\n"));
    }
    if let Some(t) = v["text"].as_str() {
        for line in t.lines() {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    for m in v["media"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{pad}  [{}] {}{}\n",
            m["kind"].as_str().unwrap_or("media"),
            m["url"].as_str().unwrap_or(""),
            m["sha256"]
                .as_str()
                .map(|h| format!("  sha256:{h}"))
                .unwrap_or_else(|| "  (not fetched)".into())
        ));
    }
    if let Some(c) = v["counts"].as_object() {
        let f = |k: &str| {
            c.get(k)
                .and_then(|x| x.as_u64())
                .map(|n| format!("{k} {n}"))
        };
        let parts: Vec<String> = ["reposts", "comments", "likes"]
            .iter()
            .filter_map(|k| f(k))
            .collect();
        if !parts.is_empty() {
            out.push_str(&format!("{pad}  {}\n", parts.join(" · ")));
        }
    }
    if v["repost_of"].is_object() {
        out.push_str(&format!("{pad}  reposting:\n"));
        render_post(&v["repost_of"], depth + 1, out);
    }
    if v["quote_of"].is_object() {
        out.push_str(&format!("{pad}  quoting:\n"));
        render_post(&v["quote_of"], depth + 1, out);
    }
}

pub fn list(s: &Settings, f: ListFilter) -> Result<u8> {
    let ix = open_index(s)?;
    let rows = ix.list(&f)?;
    for r in &rows {
        if s.json {
            print_json(r);
        } else {
            let text: String = r["text"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>()
                .replace('\n', " ");
            eprintln!(
                "{}  {}  {}  {}  {}",
                r["last_captured"].as_str().unwrap_or(""),
                r["state"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or(""),
                r["author"].as_str().unwrap_or("-"),
                text
            );
        }
    }
    if !s.json {
        say(s, format!("{} posts", rows.len()));
    }
    Ok(0)
}
