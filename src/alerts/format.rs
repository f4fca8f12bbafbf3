//! What an alert says, and the body each kind of target gets (pure: no I/O).
//!
//! Every body carries the same facts; they differ only in the shape a receiver wants:
//! `json` (the [`Alert`] itself), Slack's and Discord's incoming webhooks, a Matrix
//! `m.room.message`, an ntfy JSON publish, a template file, or a mail.

use serde::Serialize;

/// One alert: what happened, in words and in fields (docs/alerts.md "Fields").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Alert {
    /// The idempotency key: the same for every delivery of this event to any target.
    pub id: String,
    /// `deleted`, `censored` (deleted, cause `platform`), `restricted`, `account_gone`,
    /// `edited`, `restored`, `new_post`, `watch_failing`, or `test`.
    pub event: String,
    /// What happened, in a sentence.
    pub summary: String,
    /// When (WARC-Date form): the check that found it, the poll, or when the host had
    /// failed for `[watch] failing_after`.
    pub at: String,
    pub post_id: Option<String>,
    pub url: Option<String>,
    pub platform: Option<String>,
    /// The author's name, handle or id, as the archive knows them.
    pub author: Option<String>,
    /// The post's text (for `edited`: the new text).
    pub text: Option<String>,
    /// For `edited`: the text before.
    pub old_text: Option<String>,
    /// The post's state now (docs/states.md), its cause, and the platform's own words.
    pub state: Option<String>,
    pub cause: Option<String>,
    pub platform_words: Option<String>,
    pub last_seen_live: Option<String>,
    pub first_seen_gone: Option<String>,
    /// The archived copy under `[serve] public_url`.
    pub archived_url: Option<String>,
    /// The check record the event rests on, its leaf, and the signed checkpoint that
    /// covers it (the first one whose tree holds the leaf).
    pub check_record: Option<String>,
    pub leaf: Option<u64>,
    pub checkpoint: Option<CheckpointRef>,
    /// For `watch_failing`: the host.
    pub host: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckpointRef {
    pub origin: String,
    pub size: u64,
    /// Base64, as in the checkpoint's text.
    pub root: String,
}

/// A body to send: its Content-Type and bytes, and extra headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The sentence of an alert.
pub fn summary(
    event: &str,
    post: Option<&str>,
    author: Option<&str>,
    host: Option<&str>,
    since: Option<&str>,
) -> String {
    let post = post.unwrap_or("a post");
    let by = author.map(|a| format!(" by {a}")).unwrap_or_default();
    match event {
        "censored" => format!("Censored: post {post}{by} was removed by the platform"),
        "deleted" => format!("Deleted: post {post}{by} is gone"),
        "restricted" => format!("Restricted: post {post}{by} is hidden from the public"),
        "account_gone" => format!(
            "Account gone: the account behind post {post}{by} is closed, suspended or banned"
        ),
        "edited" => format!("Edited: post {post}{by} was changed"),
        "restored" => format!("Restored: post {post}{by} is visible again"),
        "new_post" => format!("New post{by}: {post}"),
        "watch_failing" => format!(
            "Watch failing: {} has been unreachable since {}",
            host.unwrap_or("a host"),
            since.unwrap_or("?")
        ),
        "test" => "Test alert from samizdat: this target works".to_string(),
        other => format!("{other}: {post}"),
    }
}

/// The alert as lines of plain text: the sentence, then each field that is set.
pub fn plain(a: &Alert) -> String {
    let mut out = vec![a.summary.clone(), String::new()];
    let mut field = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push(format!("{k}: {v}"));
        }
    };
    field("event", Some(&a.event));
    field("at", Some(&a.at));
    field("post", a.post_id.as_deref());
    field("url", a.url.as_deref());
    field("platform", a.platform.as_deref());
    field("author", a.author.as_deref());
    field("state", a.state.as_deref());
    field("cause", a.cause.as_deref());
    field("the platform's words", a.platform_words.as_deref());
    field("last seen live", a.last_seen_live.as_deref());
    field("first seen gone", a.first_seen_gone.as_deref());
    field("host", a.host.as_deref());
    field("archived copy", a.archived_url.as_deref());
    field("check record", a.check_record.as_deref());
    let cp = a.checkpoint.as_ref().map(|c| {
        format!(
            "{} size {} root {} (leaf {})",
            c.origin,
            c.size,
            c.root,
            a.leaf.unwrap_or(0)
        )
    });
    field("checkpoint", cp.as_deref());
    field("alert id", Some(&a.id));
    if let Some(t) = &a.old_text {
        out.push(String::new());
        out.push("text before:".into());
        out.push(t.clone());
    }
    if let Some(t) = &a.text {
        out.push(String::new());
        out.push(
            if a.old_text.is_some() {
                "text now:"
            } else {
                "text:"
            }
            .into(),
        );
        out.push(t.clone());
    }
    out.join("\n")
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Slack's mrkdwn escapes (`&`, `<`, `>`): a post's text can never make a link or a
/// mention.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn json(v: serde_json::Value) -> Body {
    Body {
        content_type: "application/json".into(),
        bytes: serde_json::to_vec(&v).unwrap_or_default(),
    }
}

/// The body of a webhook in `format` (one of `config::FORMATS`). For `ntfy`, `topic`
/// is the last segment of the webhook's path (the body is posted to the server's root).
pub fn webhook_body(format: &str, a: &Alert, topic: Option<&str>) -> Body {
    match format {
        // Slack: a message of at most 40,000 characters; ours are far shorter.
        "slack" => json(serde_json::json!({
            "text": cut(&slack_escape(&plain(a)), 3900),
            "unfurl_links": false,
        })),
        // Discord: `content` of at most 2000 characters; no mention in a post's text
        // pings anyone.
        "discord" => json(serde_json::json!({
            "content": cut(&plain(a), 1990),
            "allowed_mentions": {"parse": []},
        })),
        "matrix" => {
            let text = plain(a);
            json(serde_json::json!({
                "msgtype": "m.text",
                "body": text,
                "format": "org.matrix.custom.html",
                "formatted_body": format!("<pre>{}</pre>", html_escape(&text)),
            }))
        }
        // ntfy's JSON publish: https://docs.ntfy.sh/publish/#publish-as-json
        "ntfy" => {
            let mut v = serde_json::json!({
                "topic": topic.unwrap_or(""),
                "title": cut(&a.summary, 250),
                "message": cut(&plain(a), 4000),
                "tags": [match a.event.as_str() {
                    "deleted" | "censored" | "account_gone" | "restricted" => "warning",
                    "watch_failing" => "rotating_light",
                    _ => "memo",
                }],
            });
            if let Some(u) = a.archived_url.as_deref().or(a.url.as_deref()) {
                v["click"] = serde_json::Value::String(u.to_string());
            }
            json(v)
        }
        _ => json(serde_json::to_value(a).unwrap_or_default()),
    }
}

/// A template's body: `{{field}}` becomes the field as text (empty when unset),
/// `{{field|json}}` a JSON string (or `null`); `{{plain}}` is the whole alert in lines.
/// An unknown field is an error naming it. Hand-written: a template engine crate would
/// bring a language where two substitutions are needed.
pub fn template_body(template: &str, a: &Alert) -> Result<String, String> {
    let v = serde_json::to_value(a).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            return Err("a `{{` without its `}}`".into());
        };
        let spec = after[..j].trim();
        let (name, as_json) = match spec.strip_suffix("|json") {
            Some(n) => (n.trim(), true),
            None => (spec, false),
        };
        let value = if name == "plain" {
            serde_json::Value::String(plain(a))
        } else {
            match v.get(name) {
                Some(x) => x.clone(),
                None => return Err(format!("unknown field {{{{{name}}}}}")),
            }
        };
        if as_json {
            out.push_str(&serde_json::to_string(&value).unwrap_or_default());
        } else {
            match value {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => out.push_str(&s),
                other => out.push_str(&other.to_string()),
            }
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A Matrix transaction id from the alert's key (letters and digits only), so a retry
/// of the same event is the same transaction and Matrix drops the repeat.
pub fn matrix_txn(a: &Alert, target: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("{target}\0{}", a.id).as_bytes());
    format!("samizdat{}", hex::encode(&d[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: "deleted:urn:uuid:1".into(),
            event: "censored".into(),
            summary: summary(
                "censored",
                Some("weibo:1"),
                Some("<@everyone> 张三"),
                None,
                None,
            ),
            at: "2026-03-01T12:00:00.000000Z".into(),
            post_id: Some("weibo:1".into()),
            url: Some("https://m.weibo.cn/detail/1".into()),
            platform: Some("weibo".into()),
            author: Some("<@everyone> 张三".into()),
            text: Some("银行卡被冻结 & <b>".into()),
            old_text: None,
            state: Some("deleted".into()),
            cause: Some("platform".into()),
            platform_words: Some("该微博因被投诉违反法律法规已被删除".into()),
            last_seen_live: Some("2026-03-01T11:00:00.000000Z".into()),
            first_seen_gone: Some("2026-03-01T11:30:00.000000Z".into()),
            archived_url: Some("https://archive.example.org/posts/weibo:1".into()),
            check_record: Some("urn:uuid:1".into()),
            leaf: Some(7),
            checkpoint: Some(CheckpointRef {
                origin: "o".into(),
                size: 8,
                root: "abc=".into(),
            }),
            host: None,
        }
    }

    #[test]
    fn every_format_carries_the_facts() {
        let a = alert();
        for f in crate::alerts::config::FORMATS {
            let b = webhook_body(f, &a, Some("desk"));
            let text = String::from_utf8(b.bytes).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let all = v.to_string();
            for want in ["weibo:1", "该微博因被投诉违反法律法规已被删除", "censored"]
            {
                assert!(
                    all.contains(want) || text.contains(want),
                    "{f}: {want} in {text}"
                );
            }
            assert_eq!(b.content_type, "application/json");
        }
    }

    #[test]
    fn slack_and_discord_cannot_be_made_to_mention() {
        let a = alert();
        let s = String::from_utf8(webhook_body("slack", &a, None).bytes).unwrap();
        assert!(!s.contains("<@everyone>"), "{s}");
        assert!(s.contains("&lt;@everyone&gt;"), "{s}");
        let d: serde_json::Value =
            serde_json::from_slice(&webhook_body("discord", &a, None).bytes).unwrap();
        assert_eq!(d["allowed_mentions"]["parse"], serde_json::json!([]));
        let m: serde_json::Value =
            serde_json::from_slice(&webhook_body("matrix", &a, None).bytes).unwrap();
        assert!(m["formatted_body"].as_str().unwrap().contains("&lt;b&gt;"));
        let n: serde_json::Value =
            serde_json::from_slice(&webhook_body("ntfy", &a, Some("desk")).bytes).unwrap();
        assert_eq!(n["topic"], "desk");
        assert_eq!(n["click"], "https://archive.example.org/posts/weibo:1");
    }

    #[test]
    fn templates_fill_fields_and_name_unknown_ones() {
        let a = alert();
        let t = template_body(
            "{{event}} {{post_id}} {{leaf}} {{old_text}}|{{text|json}}",
            &a,
        )
        .unwrap();
        assert_eq!(t, "censored weibo:1 7 |\"银行卡被冻结 & <b>\"");
        let e = template_body("{{nope}}", &a).unwrap_err();
        assert!(e.contains("nope"), "{e}");
        assert!(template_body("{{event", &a).is_err());
    }

    #[test]
    fn long_texts_are_cut_at_a_character() {
        let mut a = alert();
        a.text = Some("冻".repeat(3000));
        let d: serde_json::Value =
            serde_json::from_slice(&webhook_body("discord", &a, None).bytes).unwrap();
        let c = d["content"].as_str().unwrap();
        assert!(c.len() <= 1990 && c.ends_with('…'), "{}", c.len());
    }

    #[test]
    fn a_matrix_transaction_is_stable_per_event_and_target() {
        let a = alert();
        assert_eq!(matrix_txn(&a, "t"), matrix_txn(&a, "t"));
        assert_ne!(matrix_txn(&a, "t"), matrix_txn(&a, "u"));
        assert!(
            matrix_txn(&a, "t")
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        );
    }
}
