//! `samizdat.toml` (docs/config.md): read once, validated once, then passed around as
//! plain settings. Every key is optional; unknown keys are an error so a typo does not
//! silently fall back to a default.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Deserialisers of duration keys: each parses its text once, at load, and a bad value
/// is an error that names the key (never a silent zero).
macro_rules! duration_key {
    ($name:ident, $key:literal) => {
        fn $name<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> std::result::Result<Duration, D::Error> {
            let s = String::deserialize(d)?;
            parse_duration(&s).map_err(|e| serde::de::Error::custom(format!("{}: {e}", $key)))
        }
    };
}
duration_key!(de_checkpoint_interval, "log.checkpoint_interval");
duration_key!(de_timestamp_interval, "timestamp.interval");
duration_key!(de_witness_interval, "log.witness_interval");
duration_key!(de_daily_until, "watch.daily_until");
duration_key!(de_then_every, "watch.then_every");
duration_key!(de_follow_up, "watch.follow_up");
duration_key!(de_comments_every, "watch.comments_every");
duration_key!(de_account_interval, "watch.account_interval");
duration_key!(de_backoff, "watch.backoff");
duration_key!(de_backoff_max, "watch.backoff_max");
duration_key!(de_failing_after, "watch.failing_after");
duration_key!(de_alert_timeout, "watch.alert_timeout");
duration_key!(de_alert_retry, "watch.alert_retry");
duration_key!(de_alert_retry_max, "watch.alert_retry_max");

fn de_schedule<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<Duration>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| {
            parse_duration(s).map_err(|e| serde::de::Error::custom(format!("watch.schedule: {e}")))
        })
        .collect()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub http: Http,
    pub capture: Capture,
    pub platforms: BTreeMap<String, PlatformConfig>,
    pub log: Log,
    pub storage: Storage,
    pub warcinfo: Warcinfo,
    pub watch: Watch,
    pub timestamp: Timestamp,
    pub serve: Serve,
    pub collector: CollectorConfig,
    pub browser: BrowserConfig,
    /// `[[alerts]]`: who is told of what (docs/alerts.md).
    pub alerts: Vec<crate::alerts::config::AlertConfig>,
    /// `[smtp]`: the mail server `email` alerts go through.
    pub smtp: Option<crate::alerts::config::Smtp>,
    /// `[witness]`: samizdat as a witness of other logs (`witness serve`).
    pub witness: WitnessSide,
}

/// `[witness]`: what `witness serve` witnesses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WitnessSide {
    /// Address to listen on (`witness serve --listen` overrides it).
    pub listen: String,
    /// `[[witness.logs]]`: the logs it cosigns.
    pub logs: Vec<WitnessedLog>,
}

impl Default for WitnessSide {
    fn default() -> Self {
        WitnessSide {
            listen: "127.0.0.1:8081".into(),
            logs: vec![],
        }
    }
}

/// One log a witness cosigns: its verifier key, and its origin when that is not the key's
/// name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessedLog {
    pub vkey: String,
    pub origin: Option<String>,
}

/// `[capture]`: what one capture reads besides the post.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capture {
    /// Most comments, replies and reposts one capture reads (docs/comments.md); 0 = none.
    pub comments: usize,
}

impl Default for Capture {
    fn default() -> Self {
        Capture { comments: 200 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    /// Exchanges in flight at once, across all hosts.
    pub concurrency: usize,
    /// Pause between two requests to one host (politeness). 0 = none.
    pub per_host_delay_ms: u64,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    /// How long a DNS lookup may take before the fetch fails.
    pub resolve_timeout_ms: u64,
    /// Bodies longer than this are stored up to here with `WARC-Truncated: length`.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    pub user_agent: String,
    pub proxy: Option<String>,
    pub extra_ca_file: Option<PathBuf>,
    pub insecure_tls: bool,
    /// How often a 429 or 503 with Retry-After is retried before giving up.
    pub max_retries: u32,
    /// The longest Retry-After samizdat will wait for (longer: the fetch fails).
    pub max_retry_after_ms: u64,
    /// Host overrides: `"m.weibo.cn" = "http://127.0.0.1:8080"`.
    pub hosts: BTreeMap<String, String>,
}

impl Default for Http {
    fn default() -> Self {
        Http {
            concurrency: 8,
            per_host_delay_ms: 1000,
            timeout_ms: 30_000,
            connect_timeout_ms: 10_000,
            resolve_timeout_ms: 5_000,
            max_body_bytes: 256 * 1024 * 1024,
            max_redirects: 10,
            user_agent: format!(
                "samizdat/{} (+https://github.com/samizdat-archive/samizdat)",
                env!("CARGO_PKG_VERSION")
            ),
            proxy: None,
            extra_ca_file: None,
            insecure_tls: false,
            max_retries: 3,
            max_retry_after_ms: 120_000,
            hosts: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformConfig {
    /// Shorthand for an override of the platform's main API host.
    pub base_url: Option<String>,
    /// A `Cookie` header value (secret: stored redacted, never logged).
    pub cookies: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub per_host_delay_ms: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// The log's origin line and key name; unique per archive.
    pub origin: Option<String>,
    /// How often `watch run` signs a checkpoint while leaves are added, e.g. "10m".
    #[serde(deserialize_with = "de_checkpoint_interval")]
    pub checkpoint_interval: Duration,
    /// `[[log.witnesses]]`: who cosigns the log's checkpoints (docs/evidence.md
    /// "Witnesses").
    pub witnesses: Vec<WitnessConfig>,
    /// Cosignatures a checkpoint needs to count as witnessed (default: every witness).
    pub witness_quorum: Option<usize>,
    /// At most one submission per witness this often in `watch run` (at once after a
    /// post is found gone).
    #[serde(deserialize_with = "de_witness_interval")]
    pub witness_interval: Duration,
}

/// One witness of the log: its C2SP verifier key (signature type 0x04) and the URL
/// prefix its `add-checkpoint` endpoint is under.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    pub vkey: String,
    pub url: String,
}

impl Default for Log {
    fn default() -> Self {
        Log {
            origin: None,
            checkpoint_interval: Duration::from_secs(600),
            witnesses: vec![],
            witness_quorum: None,
            witness_interval: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// The active WARC file rotates once it is this big.
    pub warc_max_bytes: u64,
    /// gzip level of each record's member (1 fast .. 9 small).
    pub gzip_level: u32,
}

impl Default for Storage {
    fn default() -> Self {
        Storage {
            warc_max_bytes: 1 << 30,
            gzip_level: 6,
        }
    }
}

/// `[timestamp]`: RFC 3161 time-stamp authorities.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timestamp {
    /// TSA URLs; every checkpoint timestamped is sent to each.
    pub tsa: Vec<String>,
    /// PEM file of the CA certificate(s) the TSAs' chains must reach.
    pub tsa_ca: Option<PathBuf>,
    /// Least time between two automatic timestamps, e.g. "10m".
    #[serde(deserialize_with = "de_timestamp_interval")]
    pub interval: Duration,
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp {
            tsa: vec![],
            tsa_ca: None,
            interval: Duration::from_secs(600),
        }
    }
}

/// `[serve]`: the web archive (`samizdat serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Serve {
    /// Address to listen on, e.g. "127.0.0.1:8080".
    pub listen: String,
    /// File holding the bearer token for `POST /api/captures` (none: read-only server).
    pub token_file: Option<PathBuf>,
    /// Let API-initiated captures reach loopback, private and link-local addresses.
    pub allow_private_addresses: bool,
    /// Connections open at once; past it new ones wait in the listen backlog.
    pub max_connections: usize,
    /// A request head (request line and headers) must arrive within this time, counted
    /// from when the connection is ready for a request (so idle keep-alive connections
    /// are closed after it too).
    pub header_read_timeout_ms: u64,
    /// A connection whose response makes no progress (the client does not read) or
    /// whose request body does not arrive for this long is closed.
    pub idle_timeout_ms: u64,
    /// Bundle and WACZ downloads made at once; past it: 503 with Retry-After.
    pub max_exports: usize,
    /// Searches run at once; past it: 503 with Retry-After.
    pub max_searches: usize,
    /// Raw archived bodies (`/raw/…`) sent at once; past it: 503 with Retry-After.
    pub max_raw: usize,
    /// Where the web archive is reached from outside (e.g. "https://archive.example.org"):
    /// alerts link to the archived copy under it. None: alerts carry no link.
    pub public_url: Option<String>,
}

impl Default for Serve {
    fn default() -> Self {
        Serve {
            listen: "127.0.0.1:8080".into(),
            token_file: None,
            allow_private_addresses: false,
            max_connections: 512,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            max_exports: 2,
            max_searches: 4,
            max_raw: 8,
            public_url: None,
        }
    }
}

impl Serve {
    fn validate(&self) -> std::result::Result<(), String> {
        for (k, v) in [
            ("max_connections", self.max_connections),
            ("max_exports", self.max_exports),
            ("max_searches", self.max_searches),
            ("max_raw", self.max_raw),
        ] {
            if v == 0 {
                return Err(format!("{k} must be at least 1"));
            }
        }
        // tokio's semaphores hold at most this many permits.
        if self.max_connections > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(format!(
                "max_connections must be at most {}",
                tokio::sync::Semaphore::MAX_PERMITS
            ));
        }
        for (k, v) in [
            ("header_read_timeout_ms", self.header_read_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
        ] {
            if v == 0 {
                return Err(format!("{k} must be more than 0"));
            }
        }
        Ok(())
    }
}

/// `[collector]`: who collects, for every capture's provenance record (docs/provenance.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectorConfig {
    /// The collector's name; a pseudonym is fine. None: the provenance says none was set.
    pub name: Option<String>,
    pub organisation: Option<String>,
    /// How far the local clock may be from the servers' `Date` headers (median) before a
    /// capture warns.
    pub max_clock_offset_ms: u64,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            name: None,
            organisation: None,
            max_clock_offset_ms: 5_000,
        }
    }
}

/// When captures are rendered in a browser (`[browser] render`, docs/render.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RenderMode {
    /// Only with `capture --render`.
    #[default]
    Never,
    /// Every capture of a page of the `web` reader (any page that is not a known
    /// platform's), where scripts most often make what a person sees.
    Pages,
    /// Every capture.
    Always,
}

/// `[browser]`: the headless Chromium that renders captures (docs/render.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrowserConfig {
    /// The Chromium executable; unset: `chromium`, `chromium-browser`, `google-chrome`
    /// looked up on `PATH`.
    pub path: Option<PathBuf>,
    pub render: RenderMode,
    /// The viewport, CSS pixels (the screenshot is the whole page at this width).
    pub width: u32,
    pub height: u32,
    /// Render as a phone (a 412x915 viewport, touch, a mobile user agent) instead.
    pub mobile: bool,
    /// How long the page may take to reach its `load` event; past it the page is
    /// rendered as it stands, with a warning.
    pub nav_timeout_secs: u64,
    /// How long one whole render may take (start, load, screenshot, DOM); past it the
    /// render is given up with a warning and the capture goes on without it.
    pub render_timeout_secs: u64,
    /// Who the browser runs as when samizdat runs as root (its sandbox refuses root).
    pub user: String,
    /// Most renders at once (each is a browser of its own).
    pub concurrency: usize,
    /// Most pixels tall a full-page screenshot may be (longer pages are cut there, and the
    /// render says so).
    pub max_height: u32,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        BrowserConfig {
            path: None,
            render: RenderMode::Never,
            width: 1280,
            height: 800,
            mobile: false,
            nav_timeout_secs: 20,
            render_timeout_secs: 60,
            user: "nobody".into(),
            concurrency: 2,
            max_height: 16_384,
        }
    }
}

/// What warcinfo may say about the capturing machine. Nothing by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Warcinfo {
    pub operator: Option<String>,
    pub hostname: Option<String>,
    pub ip: Option<String>,
}

impl Config {
    /// Reads the config file; a missing file is the default config (an archive's own
    /// `samizdat.toml` is optional).
    pub fn load(path: &Path) -> Result<Config> {
        Config::read(path, false)
    }

    /// Reads a config file that was named (`--config FILE`): a missing file is an error,
    /// never the defaults in its place.
    pub fn load_named(path: &Path) -> Result<Config> {
        Config::read(path, true)
    }

    fn read(path: &Path, named: bool) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
                return Ok(Config::default());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: "no such file (named by --config)".into(),
                });
            }
            Err(e) => {
                return Err(Error::Config {
                    path: path.to_path_buf(),
                    message: format!("cannot read it: {e}"),
                });
            }
        };
        let config: Config = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<()> {
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        if self.http.concurrency == 0 {
            return Err(bad("http.concurrency must be at least 1".into()));
        }
        let b = &self.browser;
        for (k, v) in [
            ("browser.width", b.width as u64),
            ("browser.height", b.height as u64),
            ("browser.nav_timeout_secs", b.nav_timeout_secs),
            ("browser.render_timeout_secs", b.render_timeout_secs),
            ("browser.concurrency", b.concurrency as u64),
            ("browser.max_height", b.max_height as u64),
        ] {
            if v == 0 {
                return Err(bad(format!("{k} must be at least 1")));
            }
        }
        if b.width > 10_000 || b.height > 10_000 {
            return Err(bad(
                "browser.width and browser.height are at most 10000".into()
            ));
        }
        if b.max_height > 100_000 {
            return Err(bad("browser.max_height is at most 100000".into()));
        }
        for (host, origin) in &self.http.hosts {
            if !host_pattern_ok(host) {
                return Err(bad(format!(
                    "http.hosts.{host:?}: want a host name like \"m.weibo.cn\" or a wildcard \
                     like \"*.sinaimg.cn\" (one leading \"*.\", which does not cover the bare name)"
                )));
            }
            let u = url::Url::parse(origin)
                .map_err(|e| bad(format!("http.hosts.{host:?} = {origin:?}: {e}")))?;
            if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                return Err(bad(format!(
                    "http.hosts.{host:?} = {origin:?}: want an http(s) origin like \"http://127.0.0.1:8080\""
                )));
            }
        }
        if !(1..=9).contains(&self.storage.gzip_level) {
            return Err(bad("storage.gzip_level must be 1..9".into()));
        }
        if let Some(o) = &self.log.origin {
            check_origin(o).map_err(|m| bad(format!("log.origin {m}")))?;
        }
        let mut witness_names = std::collections::HashSet::new();
        for (i, w) in self.log.witnesses.iter().enumerate() {
            let v = crate::log::cosignature::CosignatureVerifier::from_vkey(&w.vkey)
                .map_err(|e| bad(format!("log.witnesses[{i}].vkey: {e}")))?;
            if !witness_names.insert(v.name().to_string()) {
                return Err(bad(format!(
                    "log.witnesses[{i}]: a second witness named {:?}",
                    v.name()
                )));
            }
            match url::Url::parse(&w.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(bad(format!(
                        "log.witnesses[{i}].url: {:?} is not an http(s) URL",
                        w.url
                    )));
                }
            }
        }
        if let Some(q) = self.log.witness_quorum
            && (q == 0 || q > self.log.witnesses.len())
        {
            return Err(bad(format!(
                "log.witness_quorum = {q}: want 1 to the number of witnesses ({})",
                self.log.witnesses.len()
            )));
        }
        for (i, l) in self.witness.logs.iter().enumerate() {
            crate::log::note::NoteVerifier::from_vkey(&l.vkey)
                .map_err(|e| bad(format!("witness.logs[{i}].vkey: {e}")))?;
        }
        if self.log.witness_interval.is_zero() {
            return Err(bad("log.witness_interval must be more than 0".into()));
        }
        for u in &self.timestamp.tsa {
            match url::Url::parse(u) {
                Ok(x) if matches!(x.scheme(), "http" | "https") => {}
                _ => return Err(bad(format!("timestamp.tsa: {u:?} is not an http(s) URL"))),
            }
        }
        self.watch
            .validate()
            .map_err(|e| bad(format!("watch.{e}")))?;
        self.serve
            .validate()
            .map_err(|e| bad(format!("serve.{e}")))?;
        if let Some(u) = &self.serve.public_url {
            match url::Url::parse(u) {
                Ok(x) if matches!(x.scheme(), "http" | "https") => {}
                _ => {
                    return Err(bad(format!(
                        "serve.public_url: {u:?} is not an http(s) URL"
                    )));
                }
            }
        }
        crate::alerts::config::validate(&self.alerts, self.smtp.as_ref()).map_err(bad)?;
        Ok(())
    }

    /// Every secret value in the config (cookies, secret headers), so tests and
    /// redaction can make sure none of them is written anywhere.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = vec![];
        for p in self.platforms.values() {
            if let Some(c) = &p.cookies {
                out.push(c.clone());
                for part in c.split(';') {
                    if let Some((_, v)) = part.split_once('=')
                        && v.trim().len() >= 4
                    {
                        out.push(v.trim().to_string());
                    }
                }
            }
            for (name, value) in &p.headers {
                if is_secret_header(name) {
                    out.push(value.clone());
                }
            }
        }
        out
    }
}

/// `[watch]`: the re-check schedule, account polls, batch size.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Watch {
    /// Checks at these offsets from when a post was first seen.
    #[serde(deserialize_with = "de_schedule")]
    pub schedule: Vec<Duration>,
    /// After the schedule: one check a day until this age ...
    #[serde(deserialize_with = "de_daily_until")]
    pub daily_until: Duration,
    /// ... then one every `then_every`.
    #[serde(deserialize_with = "de_then_every")]
    pub then_every: Duration,
    /// A follow-up check this soon after a first gone answer (to confirm it).
    #[serde(deserialize_with = "de_follow_up")]
    pub follow_up: Duration,
    /// A watched post's comments are re-read this often in the first day after its
    /// capture, then daily until `daily_until` (docs/comments.md); 0 = never.
    #[serde(deserialize_with = "de_comments_every")]
    pub comments_every: Duration,
    /// How often a watched account is polled (unless its entry says `--every`).
    #[serde(deserialize_with = "de_account_interval")]
    pub account_interval: Duration,
    /// Random spread of each due time, as a fraction of the interval (0 = none).
    /// Off when `SAMIZDAT_NOW` is set.
    pub jitter: f64,
    /// Most checks and polls per batch; account polls and posts younger than 24 h first.
    pub batch: usize,
    /// Most checks and polls of one host per batch; 0 = what `[http] per_host_delay_ms`
    /// allows in a minute (no limit when politeness is off). Keeps a batch short, so
    /// account polls come round again soon even while a backlog is worked down.
    pub host_budget: usize,
    /// A host that failed (unreachable, a wall, 429, 5xx) is left alone this long, doubled
    /// with each failure in a row up to `backoff_max`; any definite answer resets it.
    #[serde(deserialize_with = "de_backoff")]
    pub backoff: Duration,
    #[serde(deserialize_with = "de_backoff_max")]
    pub backoff_max: Duration,
    /// Most timeline pages read in one account poll (for `--backfill`, or when the account
    /// posted more than a page since the last poll).
    pub max_pages: usize,
    /// A host unreachable (every answer `unreachable`) for this long raises a
    /// `watch_failing` alert.
    #[serde(deserialize_with = "de_failing_after")]
    pub failing_after: Duration,
    /// An alert's webhook or SMTP exchange must finish within this.
    #[serde(deserialize_with = "de_alert_timeout")]
    pub alert_timeout: Duration,
    /// After a target fails, its next try waits this long, doubling per failure in a row
    /// up to `alert_retry_max`.
    #[serde(deserialize_with = "de_alert_retry")]
    pub alert_retry: Duration,
    #[serde(deserialize_with = "de_alert_retry_max")]
    pub alert_retry_max: Duration,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            schedule: [5 * 60, 15 * 60, 3600, 3 * 3600, 12 * 3600, 24 * 3600]
                .map(Duration::from_secs)
                .to_vec(),
            daily_until: Duration::from_secs(30 * 86400),
            then_every: Duration::from_secs(7 * 86400),
            follow_up: Duration::from_secs(2 * 60),
            comments_every: Duration::from_secs(3600),
            account_interval: Duration::from_secs(10 * 60),
            jitter: 0.1,
            batch: 200,
            host_budget: 0,
            backoff: Duration::from_secs(60),
            backoff_max: Duration::from_secs(3600),
            max_pages: 10,
            failing_after: Duration::from_secs(6 * 3600),
            alert_timeout: Duration::from_secs(10),
            alert_retry: Duration::from_secs(30),
            alert_retry_max: Duration::from_secs(3600),
        }
    }
}

impl Watch {
    fn validate(&self) -> std::result::Result<(), String> {
        // Durations are parsed at load (see `duration_key!`); here only their ranges.
        for (k, d) in [
            ("then_every", self.then_every),
            ("follow_up", self.follow_up),
            ("account_interval", self.account_interval),
            ("backoff", self.backoff),
            ("backoff_max", self.backoff_max),
            ("failing_after", self.failing_after),
            ("alert_timeout", self.alert_timeout),
            ("alert_retry", self.alert_retry),
            ("alert_retry_max", self.alert_retry_max),
        ] {
            if d.is_zero() {
                return Err(format!("{k} must be more than 0"));
            }
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err("jitter must be between 0 and 1".into());
        }
        if self.batch == 0 {
            return Err("batch must be at least 1".into());
        }
        if self.max_pages == 0 {
            return Err("max_pages must be at least 1".into());
        }
        Ok(())
    }
}

const MAX_DURATION_SECS: f64 = 100.0 * 365.0 * 86400.0;

/// "90s", "10m", "1h", "2d", "1500ms", or plain seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 10m, 1h, 2d"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        "w" => n * 7.0 * 86400.0,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use ms, s, m, h, d, w)"
            ));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?} is not a duration"));
    }
    // Past this, adding it to a date overflows the calendar; no schedule needs it.
    if secs > MAX_DURATION_SECS {
        return Err(format!("{s:?} is longer than 100 years"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// Request and response headers whose values are secrets: stored redacted (by capture), and refused as
/// plain values in `[platforms.NAME] headers` (here). Config owns the list so that
/// config does not depend on capture.
pub fn is_secret_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "cookie" | "authorization" | "proxy-authorization" | "set-cookie" | "x-xsrf-token"
    )
}

/// A log origin (its C2SP checkpoint's first line and its key's name): non-empty, without
/// spaces or '+' (the note format's separators). The error names the value.
pub fn check_origin(o: &str) -> std::result::Result<(), String> {
    if o.is_empty() || o.contains(char::is_whitespace) || o.contains('+') {
        return Err(format!(
            "{o:?}: must be non-empty, without spaces or '+' (e.g. archive.example.org/samizdat)"
        ));
    }
    Ok(())
}

/// A `[http.hosts]` key: a host name, or `*.` and a host name (every name under it, not
/// the name itself). Names are DNS labels (letters, digits, `-`, `_`), case-insensitive.
pub fn host_pattern_ok(key: &str) -> bool {
    let name = key.strip_prefix("*.").unwrap_or(key);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m").unwrap().as_secs(), 600);
        assert_eq!(parse_duration("1500ms").unwrap().as_millis(), 1500);
        assert_eq!(parse_duration("2d").unwrap().as_secs(), 172_800);
        assert_eq!(parse_duration("45").unwrap().as_secs(), 45);
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("1e30d").is_err());
        assert!(parse_duration("36500d").is_ok());
        assert!(parse_duration("36501d").is_err());
    }

    /// A bad duration is an error at load that names its key, never a silent zero.
    #[test]
    fn bad_durations_name_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("samizdat.toml");
        for (toml, key) in [
            ("[watch]\ndaily_until = \"soon\"\n", "watch.daily_until"),
            ("[watch]\nschedule = [\"5m\", \"1x\"]\n", "watch.schedule"),
            ("[watch]\nbackoff = \"0s\"\n", "backoff must be more than 0"),
            ("[timestamp]\ninterval = \"later\"\n", "timestamp.interval"),
            (
                "[log]\ncheckpoint_interval = \"-1m\"\n",
                "log.checkpoint_interval",
            ),
        ] {
            std::fs::write(&p, toml).unwrap();
            let e = Config::load(&p).unwrap_err();
            assert!(matches!(e, Error::Config { .. }), "{e:?}");
            assert!(e.to_string().contains(key), "{key}: {e}");
        }
        std::fs::write(
            &p,
            "[watch]\nschedule = [\"90s\", \"2h\"]\nfollow_up = \"3m\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(
            c.watch.schedule,
            vec![Duration::from_secs(90), Duration::from_secs(7200)]
        );
        assert_eq!(c.watch.follow_up, Duration::from_secs(180));
    }

    #[test]
    fn a_named_config_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing.toml");
        assert!(Config::load(&p).is_ok());
        let e = Config::load_named(&p).unwrap_err();
        assert!(matches!(e, Error::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("missing.toml"), "{e}");
        std::fs::write(&p, "[http]\nconcurrency = 2\n").unwrap();
        assert_eq!(Config::load_named(&p).unwrap().http.concurrency, 2);
    }

    #[test]
    fn unknown_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("samizdat.toml");
        std::fs::write(&p, "[http]\nconcurency = 3\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("concurency"), "{e}");
    }

    #[test]
    fn host_keys_are_names_or_one_leading_wildcard() {
        for ok in ["m.weibo.cn", "*.sinaimg.cn", "WX1.Sinaimg.CN", "localhost"] {
            assert!(host_pattern_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "*",
            "*.",
            "*sinaimg.cn",
            "a.*.cn",
            "**.cn",
            "x..cn",
            "h:80",
            "a/b",
        ] {
            assert!(!host_pattern_ok(bad), "{bad:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("samizdat.toml");
        std::fs::write(&p, "[http.hosts]\n\"a.*.cn\" = \"http://127.0.0.1:9\"\n").unwrap();
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("http.hosts.\"a.*.cn\""), "{e}");
        std::fs::write(
            &p,
            "[http.hosts]\n\"*.sinaimg.cn\" = \"http://127.0.0.1:9\"\n",
        )
        .unwrap();
        assert!(Config::load(&p).is_ok());
    }

    #[test]
    fn host_override_must_be_an_origin() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("samizdat.toml");
        std::fs::write(&p, "[http.hosts]\n\"m.weibo.cn\" = \"ftp://x\"\n").unwrap();
        assert!(Config::load(&p).is_err());
        std::fs::write(
            &p,
            "[http.hosts]\n\"m.weibo.cn\" = \"http://127.0.0.1:9\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.http.hosts["m.weibo.cn"], "http://127.0.0.1:9");
    }
}
