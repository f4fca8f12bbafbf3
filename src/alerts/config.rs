//! `[[alerts]]` and `[smtp]` of `samizdat.toml` (docs/alerts.md): read with the rest of
//! the config, validated once at load, so a typo in an event name or a target is an
//! error before anything runs.

use serde::Deserialize;
use std::path::PathBuf;

/// What an alert can be about (the `on` list).
pub const EVENTS: &[&str] = &[
    "deleted",
    "censored",
    "restricted",
    "account_gone",
    "edited",
    "restored",
    "new_post",
    "watch_failing",
];

/// The shapes a webhook's body can take.
pub const FORMATS: &[&str] = &["json", "slack", "discord", "matrix", "ntfy"];

/// One `[[alerts]]` entry: what it is about, which posts, and one target.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertConfig {
    /// Names the target in records, logs and `watch status` (default: `alert-` and a
    /// digest of the entry, never its URL, which may hold a token).
    pub name: Option<String>,
    /// Any of [`EVENTS`].
    pub on: Vec<String>,
    /// Only posts of these platforms (empty: any).
    pub platform: Vec<String>,
    /// Only posts by these accounts: an author id, a handle, or the URL of a watched
    /// account the post was found through (empty: any).
    pub account: Vec<String>,
    /// Only posts watched with one of these tags (`watch add --tag`), or found through an
    /// account watched with one (empty: any).
    pub tag: Vec<String>,
    /// A webhook: alerts are POSTed to it (PUT for `matrix`).
    pub webhook: Option<String>,
    /// The webhook's body: one of [`FORMATS`] (default `json`).
    pub format: Option<String>,
    /// A template file for the body instead of a format: `{{field}}` is replaced by the
    /// alert's field as text, `{{field|json}}` by it as a JSON string.
    pub template: Option<PathBuf>,
    /// The Content-Type of a template's body (default `text/plain; charset=utf-8`).
    pub content_type: Option<String>,
    /// A file holding a bearer token sent as `Authorization` (e.g. a Matrix access token).
    pub token_file: Option<PathBuf>,
    /// An address mailed through `[smtp]`.
    pub email: Option<String>,
}

/// `[smtp]`: the mail server of `email` alerts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    /// Default 587 for `starttls`, 465 for `tls`, 25 for `none`.
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS), or `none` (a relay on this machine only).
    #[serde(default = "default_tls")]
    pub tls: String,
    pub user: Option<String>,
    /// A file holding the password (never the password itself in the config).
    pub password_file: Option<PathBuf>,
    /// The From address.
    pub sender: String,
}

fn default_tls() -> String {
    "starttls".into()
}

impl Smtp {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls.as_str() {
            "tls" => 465,
            "none" => 25,
            _ => 587,
        })
    }
}

impl AlertConfig {
    /// The name records and logs use: the `name`, or `alert-` and 12 hex digits of a
    /// SHA-256 over the entry's target and events (stable while the entry is unchanged,
    /// and no way back to a token in the URL).
    pub fn id(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [
            self.webhook.as_deref().unwrap_or(""),
            self.email.as_deref().unwrap_or(""),
            &self.on.join(","),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let d = h.finalize();
        format!("alert-{}", hex::encode(&d[..6]))
    }

    /// The target in words without secrets: a webhook's scheme and host (its path and
    /// query may hold a token), or the mail address.
    pub fn target_words(&self) -> String {
        if let Some(w) = &self.webhook {
            return match url::Url::parse(w) {
                Ok(u) => format!(
                    "{} webhook {}://{}/…",
                    self.format
                        .as_deref()
                        .unwrap_or(if self.template.is_some() {
                            "template"
                        } else {
                            "json"
                        }),
                    u.scheme(),
                    u.host_str().unwrap_or("?")
                ),
                Err(_) => "webhook".into(),
            };
        }
        match &self.email {
            Some(e) => format!("email {e}"),
            None => "nothing".into(),
        }
    }

    /// Whether this entry wants events of `kind` (`censored` is a `deleted` with cause
    /// `platform`; `deleted` covers it too).
    pub fn wants(&self, kind: &str, cause: Option<&str>) -> bool {
        self.on.iter().any(|o| {
            o == kind || (o == "censored" && kind == "deleted" && cause == Some("platform"))
        })
    }
}

/// Checks every entry: known events, exactly one target, a usable format, `[smtp]` for
/// mail. The error names the entry and what is wrong.
pub fn validate(alerts: &[AlertConfig], smtp: Option<&Smtp>) -> Result<(), String> {
    let mut names = std::collections::HashSet::new();
    for (i, a) in alerts.iter().enumerate() {
        let at = format!(
            "alerts[{i}]{}",
            a.name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        if a.on.is_empty() {
            return Err(format!(
                "{at}: `on` is empty: give any of {}",
                EVENTS.join(", ")
            ));
        }
        for o in &a.on {
            if !EVENTS.contains(&o.as_str()) {
                return Err(format!(
                    "{at}: unknown event {o:?}: want any of {}",
                    EVENTS.join(", ")
                ));
            }
        }
        for p in &a.platform {
            if crate::platforms::by_name(p).is_none() {
                return Err(format!("{at}: unknown platform {p:?}"));
            }
        }
        if let Some(n) = &a.name
            && (n.is_empty()
                || n.len() > 64
                || !n
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
        {
            return Err(format!(
                "{at}: name {n:?}: want 1 to 64 letters, digits, '-', '_' or '.'"
            ));
        }
        if !names.insert(a.id()) {
            return Err(format!(
                "{at}: another entry has the same name; give each a `name`"
            ));
        }
        match (&a.webhook, &a.email) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "{at}: give one target: `webhook` or `email`, not both"
                ));
            }
            (None, None) => {
                return Err(format!(
                    "{at}: no target: give `webhook = URL` or `email = ADDRESS`"
                ));
            }
            (Some(w), None) => {
                match url::Url::parse(w) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
                    // The URL itself is not repeated: it may hold a token.
                    _ => return Err(format!("{at}: webhook is not an http(s) URL")),
                }
                if let Some(f) = &a.format
                    && !FORMATS.contains(&f.as_str())
                {
                    return Err(format!(
                        "{at}: unknown format {f:?}: want one of {}",
                        FORMATS.join(", ")
                    ));
                }
                if a.format.is_some() && a.template.is_some() {
                    return Err(format!("{at}: give `format` or `template`, not both"));
                }
            }
            (None, Some(e)) => {
                if e.parse::<lettre::Address>().is_err() {
                    return Err(format!("{at}: email {e:?} is not a mail address"));
                }
                if smtp.is_none() {
                    return Err(format!("{at}: email alerts need an [smtp] section"));
                }
                if a.format.is_some() || a.template.is_some() || a.token_file.is_some() {
                    return Err(format!(
                        "{at}: format, template and token_file are for webhooks"
                    ));
                }
            }
        }
    }
    if let Some(s) = smtp {
        if !matches!(s.tls.as_str(), "starttls" | "tls" | "none") {
            return Err(format!(
                "smtp.tls {:?}: want \"starttls\", \"tls\" or \"none\"",
                s.tls
            ));
        }
        if s.sender.parse::<lettre::Address>().is_err() {
            return Err(format!("smtp.sender {:?} is not a mail address", s.sender));
        }
        if s.password_file.is_some() && s.user.is_none() {
            return Err("smtp.password_file needs smtp.user".into());
        }
        if s.tls == "none" && s.user.is_some() {
            return Err(
                "smtp: a password is never sent without TLS: use tls = \"starttls\" or \"tls\""
                    .into(),
            );
        }
    }
    Ok(())
}
