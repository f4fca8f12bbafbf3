//! The provenance record of a capture (issue 16, docs/provenance.md): who collected it, with
//! what tool and settings, through which addresses, and how far the local clock was from
//! the servers' clocks. One per capture batch, a leaf like every record, written just before
//! the record the batch comes to (the post, check or thread record), which names it among
//! the records it rests on, so an evidence bundle of the post carries it.
//!
//! Secrets never enter it: the settings are an allow-list ([`Settings::of`]), cookies and
//! header values are only said to be set, and every URL loses its user, password and query.
//!
//! Pure: built from the config and the batch's records, no I/O.

use crate::config::Config;
use crate::store::warc::{self, Record, kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format marker of the record's body.
pub const PROVENANCE_FORMAT: &str = "provenance/1";

/// What is the same for every capture of one run: built once from the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    pub tool: Tool,
    /// The operating system family and architecture (nothing that names the machine).
    pub os: String,
    /// `[collector]`: who collected (a pseudonym is fine), absent when not configured.
    pub collector: Option<Collector>,
    /// `[warcinfo] hostname` and `ip`, when configured (nothing by default).
    pub machine: Option<Machine>,
    /// How the capture was asked for: `cli`, `api` or `watch`.
    pub via: String,
    /// The settings in force, secrets never.
    pub settings: Settings,
    /// `[collector] max_clock_offset_ms`: past it the capture warns.
    pub max_clock_offset_ms: u64,
}

impl Default for RunFacts {
    fn default() -> Self {
        RunFacts::of(&Config::default(), "cli")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collector {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub hostname: Option<String>,
    pub ip: Option<String>,
}

/// The settings a capture ran under, by allow-list: what changes what is fetched and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    /// `[capture] comments`.
    pub comments: usize,
    /// `[storage] gzip_level`.
    pub gzip_level: u32,
    /// Per platform: what was configured (never a cookie or header value).
    pub platforms: BTreeMap<String, PlatformSettings>,
    /// `[timestamp] tsa`, each without user, password or query.
    pub tsa: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpSettings {
    pub concurrency: usize,
    pub per_host_delay_ms: u64,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub max_retries: u32,
    pub user_agent: String,
    /// Without user, password or query.
    pub proxy: Option<String>,
    pub extra_ca_file: Option<String>,
    pub insecure_tls: bool,
    /// `[http.hosts]`: hosts whose requests went elsewhere (tests, mirrors), each target
    /// without user, password or query.
    pub hosts: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformSettings {
    pub base_url: Option<String>,
    /// Whether a `cookies` value was configured (the value is never written).
    pub cookies: bool,
    /// The names of configured extra headers (their values are never written).
    pub headers: Vec<String>,
    pub per_host_delay_ms: Option<u64>,
}

/// A URL as provenance may show it: scheme, host, port and path; no user, password, query
/// or fragment (any of which may carry a token). Not a URL: `(not a URL)`.
pub fn redact_url(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "(not a URL)".into(),
    }
}

impl Settings {
    pub fn of(c: &Config) -> Settings {
        let h = &c.http;
        Settings {
            http: HttpSettings {
                concurrency: h.concurrency,
                per_host_delay_ms: h.per_host_delay_ms,
                timeout_ms: h.timeout_ms,
                connect_timeout_ms: h.connect_timeout_ms,
                max_body_bytes: h.max_body_bytes,
                max_redirects: h.max_redirects,
                max_retries: h.max_retries,
                user_agent: h.user_agent.clone(),
                proxy: h.proxy.as_deref().map(redact_url),
                extra_ca_file: h.extra_ca_file.as_ref().map(|p| p.display().to_string()),
                insecure_tls: h.insecure_tls,
                hosts: h
                    .hosts
                    .iter()
                    .map(|(k, v)| (k.clone(), redact_url(v)))
                    .collect(),
            },
            comments: c.capture.comments,
            gzip_level: c.storage.gzip_level,
            platforms: c
                .platforms
                .iter()
                .map(|(k, p)| {
                    (
                        k.clone(),
                        PlatformSettings {
                            base_url: p.base_url.as_deref().map(redact_url),
                            cookies: p.cookies.is_some(),
                            headers: p.headers.keys().cloned().collect(),
                            per_host_delay_ms: p.per_host_delay_ms,
                        },
                    )
                })
                .collect(),
            tsa: c.timestamp.tsa.iter().map(|u| redact_url(u)).collect(),
        }
    }
}

impl RunFacts {
    /// The facts of a run under `config`, asked for `via` (`cli`, `api` or `watch`).
    pub fn of(config: &Config, via: &str) -> RunFacts {
        let w = &config.warcinfo;
        RunFacts {
            tool: Tool {
                name: "samizdat".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            collector: config.collector.name.as_ref().map(|n| Collector {
                name: n.clone(),
                organisation: config.collector.organisation.clone(),
            }),
            machine: (w.hostname.is_some() || w.ip.is_some()).then(|| Machine {
                hostname: w.hostname.clone(),
                ip: w.ip.clone(),
            }),
            via: via.into(),
            settings: Settings::of(config),
            max_clock_offset_ms: config.collector.max_clock_offset_ms,
        }
    }
}

/// The choices of this capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Options {
    pub no_media: bool,
    pub comments: usize,
}

/// One exchange of the batch, as provenance tells it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeFacts {
    pub response_id: String,
    pub uri: String,
    /// The address that answered (`WARC-IP-Address`).
    pub peer: Option<String>,
    /// When the request went out, by the local clock (`WARC-Date`).
    pub sent: String,
    /// The answer's `Date` header, as the server wrote it.
    pub date_header: Option<String>,
    /// `sent` minus `date_header`, in milliseconds (see [`ClockFacts`]).
    pub offset_ms: Option<i64>,
}

/// The local clock against the servers' `Date` headers. A `Date` is whole seconds and
/// stamped when the answer was made, after the request was sent: for a right clock the
/// offset lies between minus the answer's latency and plus one second. The check allows
/// that second: the clock is off when the median is below `-bound` or above `bound + 1000`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockFacts {
    /// Answers with a readable `Date`.
    pub samples: usize,
    pub median_offset_ms: Option<i64>,
    /// Largest minus smallest offset.
    pub spread_ms: Option<i64>,
    pub bound_ms: u64,
    /// The warning the capture gave, in words; absent when the clock was within the bound
    /// (or nothing could be compared).
    pub warning: Option<String>,
}

/// The body of a provenance record (docs/provenance.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvenanceRecord {
    /// Format marker, `provenance/1`.
    pub samizdat: String,
    /// The post this batch is about.
    pub post_id: String,
    /// When the record was made (WARC-Date form).
    pub at: String,
    #[serde(flatten)]
    pub run: RunFacts,
    pub options: Options,
    pub exchanges: Vec<ExchangeFacts>,
    pub clock: ClockFacts,
    /// The browser that rendered the page, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<serde_json::Value>,
}

impl ProvenanceRecord {
    /// The provenance of the batch `records` (the exchanges of a capture so far) of
    /// `post_id`, made at `at`.
    pub fn of(
        run: &RunFacts,
        options: Options,
        post_id: &str,
        records: &[Record],
        at: &str,
    ) -> ProvenanceRecord {
        let exchanges: Vec<ExchangeFacts> = records
            .iter()
            .filter(|r| r.warc_type() == kind::RESPONSE)
            .map(|r| {
                let date_header = date_header(r);
                let offset_ms = date_header.as_deref().and_then(|d| offset_ms(r.date(), d));
                ExchangeFacts {
                    response_id: r.id().to_string(),
                    uri: r.target_uri().unwrap_or("").to_string(),
                    peer: r.field("WARC-IP-Address").map(str::to_string),
                    sent: r.date().to_string(),
                    date_header,
                    offset_ms,
                }
            })
            .collect();
        let clock = clock_facts(
            exchanges.iter().filter_map(|e| e.offset_ms).collect(),
            run.max_clock_offset_ms,
        );
        ProvenanceRecord {
            samizdat: PROVENANCE_FORMAT.into(),
            post_id: post_id.to_string(),
            at: at.to_string(),
            run: run.clone(),
            options,
            exchanges,
            clock,
            browser: None,
        }
    }

    /// The `resource` record, `urn:samizdat:provenance:<post id>`.
    pub fn to_record(&self) -> Record {
        Record::build(
            kind::RESOURCE,
            &self.at,
            Some(&format!("urn:samizdat:provenance:{}", self.post_id)),
            warc::mime::PROVENANCE,
            vec![],
            serde_json::to_vec(self).expect("a provenance record serialises"),
        )
    }
}

/// The `Date` header of a response record's HTTP head.
fn date_header(r: &Record) -> Option<String> {
    let block = r.block.get(..warc::find_header_end(&r.block)?)?;
    let head = std::str::from_utf8(block).ok()?;
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case("date")
            .then(|| v.trim().to_string())
    })
}

/// `warc_date` minus the HTTP date `http`, in milliseconds.
fn offset_ms(warc_date: &str, http: &str) -> Option<i64> {
    let local: jiff::Timestamp = warc_date.parse().ok()?;
    let server = jiff::fmt::rfc2822::parse(http).ok()?.timestamp();
    i64::try_from(local.duration_since(server).as_millis()).ok()
}

fn clock_facts(mut offsets: Vec<i64>, bound_ms: u64) -> ClockFacts {
    offsets.sort_unstable();
    let n = offsets.len();
    let median = (n > 0).then(|| {
        if n % 2 == 1 {
            offsets[n / 2]
        } else {
            (offsets[n / 2 - 1] + offsets[n / 2]) / 2
        }
    });
    let spread = (n > 0).then(|| offsets[n - 1] - offsets[0]);
    let bound = i64::try_from(bound_ms).unwrap_or(i64::MAX);
    let warning = median.and_then(|m| {
        let ahead = m.saturating_sub(1000);
        if m < -bound {
            Some(format!(
                "the local clock is {} ms behind the servers' Date headers (median of {n} answers), more than [collector] max_clock_offset_ms = {bound_ms}",
                -m
            ))
        } else if ahead > bound {
            Some(format!(
                "the local clock is {ahead} ms or more ahead of the servers' Date headers (median of {n} answers), more than [collector] max_clock_offset_ms = {bound_ms}"
            ))
        } else {
            None
        }
    });
    ClockFacts {
        samples: n,
        median_offset_ms: median,
        spread_ms: spread,
        bound_ms,
        warning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(date: &str, http_date: Option<&str>) -> Record {
        let mut head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n".to_string();
        if let Some(d) = http_date {
            head.push_str(&format!("date: {d}\r\n"));
        }
        head.push_str("\r\nhi");
        Record::build(
            kind::RESPONSE,
            date,
            Some("https://example.org/"),
            warc::mime::HTTP_RESPONSE,
            vec![("WARC-IP-Address".into(), "192.0.2.7".into())],
            head.into_bytes(),
        )
    }

    #[test]
    fn the_clock_is_read_against_the_date_headers() {
        let recs = [
            response(
                "2026-03-01T12:00:00.400000Z",
                Some("Sun, 01 Mar 2026 12:00:00 GMT"),
            ),
            response(
                "2026-03-01T12:00:05.900000Z",
                Some("Sun, 01 Mar 2026 12:00:05 GMT"),
            ),
            response("2026-03-01T12:00:09.000000Z", None),
        ];
        let p = ProvenanceRecord::of(
            &RunFacts::default(),
            Options {
                no_media: true,
                comments: 0,
            },
            "web:x",
            &recs,
            "2026-03-01T12:00:10.000000Z",
        );
        assert_eq!(p.exchanges.len(), 3);
        assert_eq!(p.exchanges[0].offset_ms, Some(400));
        assert_eq!(p.exchanges[0].peer.as_deref(), Some("192.0.2.7"));
        assert_eq!(p.exchanges[2].offset_ms, None);
        assert_eq!(p.clock.samples, 2);
        assert_eq!(p.clock.median_offset_ms, Some(650));
        assert_eq!(p.clock.spread_ms, Some(500));
        assert_eq!(p.clock.warning, None);
    }

    #[test]
    fn a_clock_past_the_bound_is_a_warning_either_way() {
        let behind = clock_facts(vec![-9000, -8000, -7000], 5000);
        assert!(
            behind
                .warning
                .as_deref()
                .unwrap()
                .contains("8000 ms behind")
        );
        let ahead = clock_facts(vec![7500], 5000);
        assert!(
            ahead
                .warning
                .as_deref()
                .unwrap()
                .contains("6500 ms or more ahead")
        );
        // The Date header's whole second is allowed for.
        assert_eq!(clock_facts(vec![5900], 5000).warning, None);
        assert_eq!(clock_facts(vec![-5000], 5000).warning, None);
        assert_eq!(clock_facts(vec![], 5000).median_offset_ms, None);
    }

    #[test]
    fn urls_lose_what_may_carry_a_secret() {
        assert_eq!(
            redact_url("http://user:pw@proxy.example:3128/p?token=abc#f"),
            "http://proxy.example:3128/p"
        );
        assert_eq!(redact_url("not a url"), "(not a URL)");
    }

    #[test]
    fn settings_name_secrets_but_never_hold_them() {
        let mut c = Config::default();
        c.http.proxy = Some("http://u:hunter2@proxy:8080".into());
        c.timestamp.tsa = vec!["https://tsa.example/ts?key=s3cret".into()];
        let mut p = crate::config::PlatformConfig {
            cookies: Some("SUB=cookie-secret".into()),
            ..Default::default()
        };
        p.headers
            .insert("Authorization".into(), "Bearer header-secret".into());
        c.platforms.insert("weibo".into(), p);
        let json = serde_json::to_string(&RunFacts::of(&c, "cli")).unwrap();
        for secret in ["hunter2", "s3cret", "cookie-secret", "header-secret"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(json.contains("\"cookies\":true"), "{json}");
        assert!(json.contains("Authorization"), "{json}");
    }
}
