//! The one place alerts leave the process: webhooks over reqwest, mail over lettre.
//!
//! Secrets stay here: a webhook's URL (its path and query often are the token), a bearer
//! token file, the SMTP password file. Errors are reported without them (reqwest's
//! `without_url`), and the URL is never logged.

use super::config::{AlertConfig, Smtp};
use super::format::{self, Alert};
use crate::config::Config;
use lettre::AsyncTransport;
use std::path::Path;
use std::time::Duration;

/// Sends alerts to the configured targets.
pub struct Sender {
    http: reqwest::Client,
    smtp: Option<(
        lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        lettre::message::Mailbox,
    )>,
    timeout: Duration,
}

impl Sender {
    /// The clients, built once: `[http] proxy` and `extra_ca_file` apply to webhooks,
    /// `extra_ca_file` to the SMTP server's certificate too (beside the system's roots).
    pub fn new(config: &Config) -> Result<Sender, String> {
        let timeout = config.watch.alert_timeout;
        let h = &config.http;
        let extra_pem = match &h.extra_ca_file {
            Some(p) => Some(
                std::fs::read(p).map_err(|e| format!("http.extra_ca_file {}: {e}", p.display()))?,
            ),
            None => None,
        };
        let mut b = reqwest::Client::builder()
            // A webhook that redirects is refused: the token could be sent elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_millis(h.connect_timeout_ms.max(1))))
            .user_agent(format!("samizdat/{} (alerts)", env!("CARGO_PKG_VERSION")));
        if let Some(p) = &h.proxy {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("http.proxy: {e}"))?);
        }
        if let Some(pem) = &extra_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("http.extra_ca_file: not PEM certificates: {e}"))?;
            b = b.tls_certs_merge(certs);
        }
        let http = b.build().map_err(|e| format!("alerts: HTTP client: {e}"))?;
        let smtp = match &config.smtp {
            Some(s) if config.alerts.iter().any(|a| a.email.is_some()) => {
                Some(smtp_transport(s, extra_pem.as_deref(), timeout)?)
            }
            _ => None,
        };
        Ok(Sender {
            http,
            smtp,
            timeout,
        })
    }

    /// Sends one alert to one target; `Err` says why, without the target's secrets.
    pub async fn send(&self, target: &AlertConfig, alert: &Alert) -> Result<(), String> {
        if let Some(to) = &target.email {
            return self.mail(to, alert).await;
        }
        let Some(hook) = &target.webhook else {
            return Err("no target".into());
        };
        let mut url = url::Url::parse(hook).map_err(|_| "the webhook is not a URL".to_string())?;
        let format = target.format.as_deref().unwrap_or("json");
        let body = match &target.template {
            Some(t) => {
                let text = read_small(t, "template")?;
                format::Body {
                    content_type: target
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "text/plain; charset=utf-8".into()),
                    bytes: format::template_body(&text, alert)
                        .map_err(|e| format!("template {}: {e}", t.display()))?
                        .into_bytes(),
                }
            }
            None if format == "ntfy" => {
                // The topic is the URL's last segment; the JSON goes to the server's root.
                let topic = url
                    .path_segments()
                    .and_then(|mut s| s.next_back().map(str::to_string))
                    .filter(|t| !t.is_empty())
                    .ok_or("an ntfy webhook is the topic's URL, e.g. https://ntfy.sh/mytopic")?;
                let body = format::webhook_body("ntfy", alert, Some(&topic));
                url.set_path("/");
                url.set_query(None);
                body
            }
            None => format::webhook_body(format, alert, None),
        };
        let mut req = if format == "matrix" && target.template.is_none() {
            // PUT …/send/m.room.message/{txnId}: Matrix drops a repeated transaction.
            let txn = format::matrix_txn(alert, &target.id());
            url.path_segments_mut()
                .map_err(|_| "the webhook cannot take a path".to_string())?
                .pop_if_empty()
                .push(&txn);
            self.http.put(url)
        } else {
            self.http.post(url)
        };
        req = req
            .header("Content-Type", &body.content_type)
            .header("Idempotency-Key", &alert.id)
            .body(body.bytes);
        if let Some(t) = &target.token_file {
            let token = read_small(t, "token_file")?;
            req = req.bearer_auth(token.trim());
        }
        let resp = req.send().await.map_err(|e| describe(e, self.timeout))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        // A few words of the answer (receivers say why), never the request.
        let text = resp.text().await.unwrap_or_default();
        let words: String = text.chars().take(200).collect();
        Err(format!(
            "HTTP {}{}",
            status.as_u16(),
            if words.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", words.trim())
            }
        ))
    }

    async fn mail(&self, to: &str, alert: &Alert) -> Result<(), String> {
        let Some((transport, from)) = &self.smtp else {
            return Err("no [smtp] server".into());
        };
        let to: lettre::message::Mailbox = to.parse().map_err(|e| format!("email {to:?}: {e}"))?;
        let subject: String = alert.summary.chars().take(200).collect();
        let domain = from.email.domain().to_string();
        let msg = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            // The same id for every delivery of the event: mail clients fold repeats.
            .message_id(Some(format!(
                "<{}@{domain}>",
                format::matrix_txn(alert, "mail")
            )))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format::plain(alert))
            .map_err(|e| format!("the mail could not be made: {e}"))?;
        tokio::time::timeout(self.timeout * 3, transport.send(msg))
            .await
            .map_err(|_| {
                format!(
                    "the SMTP server did not finish within {:?}",
                    self.timeout * 3
                )
            })?
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

fn smtp_transport(
    s: &Smtp,
    extra_pem: Option<&[u8]>,
    timeout: Duration,
) -> Result<
    (
        lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        lettre::message::Mailbox,
    ),
    String,
> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let mut params = TlsParameters::builder(s.host.clone());
    if let Some(pem) = extra_pem {
        params = params.add_root_certificate(
            Certificate::from_pem(pem).map_err(|e| format!("http.extra_ca_file: {e}"))?,
        );
    }
    let tls = match s.tls.as_str() {
        "none" => Tls::None,
        other => {
            let p = params
                .build_rustls()
                .map_err(|e| format!("smtp: TLS: {e}"))?;
            if other == "tls" {
                Tls::Wrapper(p)
            } else {
                Tls::Required(p)
            }
        }
    };
    let mut b =
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port())
            .tls(tls)
            .timeout(Some(timeout));
    if let Some(user) = &s.user {
        let password = match &s.password_file {
            Some(p) => read_small(p, "smtp.password_file")?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            None => String::new(),
        };
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    let from = s
        .sender
        .parse()
        .map_err(|e| format!("smtp.sender {:?}: {e}", s.sender))?;
    Ok((b.build(), from))
}

/// A small file the config names (a template, a token): at most 1 MiB.
fn read_small(p: &Path, what: &str) -> Result<String, String> {
    let m = std::fs::metadata(p).map_err(|e| format!("{what} {}: {e}", p.display()))?;
    if m.len() > 1 << 20 {
        return Err(format!("{what} {}: larger than 1 MiB", p.display()));
    }
    std::fs::read_to_string(p).map_err(|e| format!("{what} {}: {e}", p.display()))
}

/// A reqwest error in words, without the URL.
fn describe(e: reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    if e.is_connect() {
        return format!("cannot connect: {}", root_cause(&e.without_url()));
    }
    root_cause(&e.without_url())
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.dedup();
    parts.join(": ")
}
