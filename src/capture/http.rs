//! One HTTP exchange at a time, recorded: the [`Fetcher`] turns a platform
//! [`Request`] into WARC records (request, response, TLS certificate, one pair per
//! redirect hop and per retry) and the [`Fetched`] answer the plan reads.
//!
//! reqwest runs with its decompression features off, so the archive keeps the bytes as
//! the server sent them; a bounded, decoded copy goes to the plan. Redirects are followed
//! here, hop by hop, so each hop is recorded and host overrides apply to every hop.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::platforms::{Fetched, Request, Response};
use crate::store::spool::StreamedBlock;
use crate::store::warc::{self, Record, kind, mime};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// The largest decoded body a plan gets to read. Decoding is bounded so a gzip bomb
/// costs at most this much memory (and an HTML parse of it a small multiple); the
/// archive keeps the encoded bytes whole. Platform answers and article pages are far
/// smaller; a page cut here is still archived whole, only its reading is partial.
pub const MAX_DECODED_BYTES: usize = 8 << 20;

pub use crate::config::is_secret_header;

/// `<redacted sha256:…>`: lets two captures be compared without keeping the secret.
pub fn redact(value: &[u8]) -> String {
    format!("<redacted sha256:{}>", hex::encode(Sha256::digest(value)))
}

/// The records of one fetch (all hops and retries) and what the plan gets to see.
#[derive(Debug)]
pub struct FetchResult {
    pub records: Vec<Record>,
    pub fetched: Fetched,
    /// The record id of the last response, if any answer came.
    pub response_id: Option<String>,
    /// The last response's stored payload: its sha256 and length, for media.
    pub payload_sha256: Option<String>,
    pub payload_len: Option<u64>,
}

/// Per-host politeness: the earliest moment the next request to each host may start.
/// Shared by every capture of a process; the one place request pacing is decided.
#[derive(Default)]
pub struct Politeness {
    next: Mutex<HashMap<String, Instant>>,
    /// How long requests have waited for each host's turn, summed over the process:
    /// what [`Fetcher::pacing`] reads to say which host set the pace.
    waited: Mutex<HashMap<String, Duration>>,
}

/// What set the pace of a run: the host whose turns requests waited for longest, and
/// the setting that spaces them (docs/cli.md, "Long runs"). A value: the CLI says it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pacing {
    pub host: String,
    /// The time between two requests to `host`.
    pub delay_ms: u64,
    /// Where that delay is set: `[http] per_host_delay_ms` or
    /// `[platforms.NAME] per_host_delay_ms`.
    pub setting: String,
    /// How long requests waited for `host`'s turns, in all.
    pub waited_ms: u64,
}

impl Pacing {
    /// "1 request/s to example.com per [http] per_host_delay_ms".
    pub fn words(&self) -> String {
        let rate = if self.delay_ms == 0 {
            "no delay".to_string()
        } else if self.delay_ms.is_multiple_of(1000) {
            let s = self.delay_ms / 1000;
            if s == 1 {
                "1 request/s".to_string()
            } else {
                format!("1 request every {s} s")
            }
        } else {
            format!("1 request every {} ms", self.delay_ms)
        };
        format!("{rate} to {} per {}", self.host, self.setting)
    }
}

impl Politeness {
    /// Waits for this host's turn, then books the next turn `delay` from now. Returns the
    /// moment the turn was granted (the request's WARC-Date), so two requests to a host
    /// are never dated less than `delay` apart, however late a task wakes.
    pub async fn wait(&self, host: &str, delay: Duration) -> jiff::Timestamp {
        loop {
            let until = {
                let mut next = self.next.lock().expect("politeness lock");
                let now = Instant::now();
                match next.get(host) {
                    Some(t) if *t > now => *t,
                    _ => {
                        if !delay.is_zero() {
                            next.insert(host.to_string(), now + delay);
                        }
                        return jiff::Timestamp::now();
                    }
                }
            };
            let wait = until.saturating_duration_since(Instant::now());
            *self
                .waited
                .lock()
                .expect("politeness lock")
                .entry(host.to_string())
                .or_default() += wait;
            tokio::time::sleep_until(until.into()).await;
        }
    }

    /// The host requests waited for longest so far, and how long in all; `None` when no
    /// request has waited for its turn.
    pub fn most_waited(&self) -> Option<(String, Duration)> {
        let waited = self.waited.lock().expect("politeness lock");
        waited
            .iter()
            .filter(|(_, d)| !d.is_zero())
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(h, d)| (h.clone(), *d))
    }

    /// Pushes a host's next slot out (after a 429 / Retry-After).
    pub fn back_off(&self, host: &str, until: Instant) {
        let mut next = self.next.lock().expect("politeness lock");
        let e = next.entry(host.to_string()).or_insert(until);
        if *e < until {
            *e = until;
        }
    }
}

/// DNS through the system resolver, with a deadline (getaddrinfo has none of its own
/// that we control, and an offline machine can wait a long time for an answer).
/// With the guard on, internal addresses are dropped from every answer (SSRF, see
/// [`Fetcher::for_api`]); a name that resolves only to internal addresses is refused. The
/// guard trusts no name: the override origins the operator configured are reached through
/// the other client, and only through their override (see [`Fetcher::exchange`]).
struct DeadlineResolver {
    limit: Duration,
    guard: bool,
}

impl reqwest::dns::Resolve for DeadlineResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (limit, guard) = (self.limit, self.guard);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs = lookup(&host, limit).await?;
            let addrs = if guard {
                public_only(&host, addrs)?
            } else {
                addrs
            };
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The addresses of `host`, within `limit`.
async fn lookup(host: &str, limit: Duration) -> std::result::Result<Vec<SocketAddr>, String> {
    match tokio::time::timeout(limit, tokio::net::lookup_host((host, 0))).await {
        Ok(Ok(addrs)) => Ok(addrs.collect()),
        Ok(Err(e)) => Err(format!("DNS lookup of {host} failed: {e}")),
        Err(_) => Err(format!("DNS lookup of {host} timed out after {limit:?}")),
    }
}

/// The answer without its internal addresses; refused when nothing else is left.
fn public_only(host: &str, addrs: Vec<SocketAddr>) -> std::result::Result<Vec<SocketAddr>, String> {
    let public: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| !is_internal(a.ip()))
        .collect();
    if public.is_empty() {
        let ips: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        return Err(format!(
            "refused: {host} resolves only to internal addresses ({}); \
             [serve] allow_private_addresses = true allows them",
            ips.join(", ")
        ));
    }
    Ok(public)
}

/// The IPv4 address in the last 32 bits of an IPv6 address.
fn low_v4(s: &[u16; 8]) -> Ipv4Addr {
    Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8)
}

/// Loopback, private, link-local, shared, multicast, reserved and other addresses that
/// are not the public internet. IPv6 forms that carry an IPv4 address are judged by that
/// address: IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64
/// `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::/48`. The IPv4-compatible `::a.b.c.d`
/// (deprecated) and the local-use NAT64 prefix `64:ff9b:1::/48` are internal whatever
/// they carry, and so is the IETF protocol block `2001::/23` (Teredo `2001::/32`
/// tunnels to a host behind a NAT; the rest are benchmarking and ORCHID identifiers).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xC0) == 64) // 100.64/10 shared
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0/24
                || (o[0] == 192 && o[1] == 88 && o[2] == 99) // 6to4 relay anycast
                || (o[0] == 198 && (o[1] & 0xFE) == 18) // 198.18/15 benchmarking
                || o[0] >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            // IPv4-translated (SIIT), ::ffff:0:a.b.c.d.
            if s[..4] == [0, 0, 0, 0] && s[4] == 0xffff && s[5] == 0 {
                return is_internal(IpAddr::V4(low_v4(&s)));
            }
            if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64 well-known prefix 64:ff9b::/96: the embedded address decides.
                // Anything else under 64:ff9b::/32 (the local-use 64:ff9b:1::/48 included)
                // is translated inside someone's network.
                return s[2..6] != [0, 0, 0, 0] || is_internal(IpAddr::V4(low_v4(&s)));
            }
            if s[0] == 0x2002 {
                // 6to4: the IPv4 address of the tunnel end in bits 16..48.
                let v4 =
                    Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
                return is_internal(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || s[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (and :: and ::1)
                || (s[0] & 0xFE00) == 0xFC00 // unique local
                || (s[0] & 0xFFC0) == 0xFE80 // link-local
                || (s[0] & 0xFFC0) == 0xFEC0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] < 0x200) // 2001::/23: Teredo, benchmarking, ORCHID
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x3FFF && s[1] < 0x1000) // 3fff::/20 documentation
                || (s[..4] == [0x100, 0, 0, 0]) // 100::/64 discard-only
        }
    }
}

pub struct Fetcher {
    /// Resolves any name: the command line's fetches, and the override origins.
    client: reqwest::Client,
    /// Refuses internal addresses in every DNS answer (the guard, see [`Fetcher::for_api`]).
    guarded: reqwest::Client,
    http: crate::config::Http,
    /// Host overrides, platform host → origin.
    hosts: BTreeMap<String, Url>,
    /// Per-host delays that differ from `http.per_host_delay_ms` (`[platforms.X]`).
    host_delays: HashMap<String, Duration>,
    /// Configured cookies per platform host (`[platforms.X] cookies`).
    host_cookies: HashMap<String, String>,
    /// Configured extra headers per platform host.
    host_headers: HashMap<String, Vec<(String, String)>>,
    /// Each platform's `[platforms.NAME]` section, as its plans see it.
    platform_settings: HashMap<String, crate::platforms::PlatformSettings>,
    /// Refuse internal addresses (captures asked for over the web API).
    block_internal: bool,
    /// `[serve] allow_private_addresses`: the guard of [`Fetcher::for_api`] is off.
    allow_private: bool,
    /// Shared with [`Fetcher::guarded`] twins: one pacing per host for the process.
    pub politeness: Arc<Politeness>,
    /// Exchanges in flight at once across the whole process (`[http] concurrency`),
    /// whatever mix of captures, checks and polls asks for them.
    in_flight: Arc<tokio::sync::Semaphore>,
    /// Block digests of the TLS certificates this process has written a record for.
    certs_written: Arc<Mutex<HashSet<String>>>,
    /// Dates each exchange: the moment the host's turn came, or a fixed clock's instant
    /// (`SAMIZDAT_NOW`), so that every record of a run under a fixed clock carries it.
    clock: crate::clock::Clock,
}

impl Fetcher {
    pub fn new(config: &Config, config_path: &std::path::Path) -> Result<Fetcher> {
        Fetcher::build(config, config_path, false)
    }

    /// The fetcher for captures asked for over the web API, and for everything that comes
    /// of them later (watch entries, feed entries, their redirects): unless `[serve]
    /// allow_private_addresses`, every connection (the URL, each redirect hop, each media
    /// URL) to a loopback, private, link-local or otherwise internal address is refused
    /// before it is made.
    ///
    /// A host override (`[http.hosts]`, `[platforms.X] base_url`) is the operator's: it
    /// sends one platform host to one origin (scheme, host and port), and only requests
    /// for that platform host go there unguarded. Nothing else is trusted: not the
    /// origin's host name on another port, not a URL naming the origin directly, not a
    /// redirect out of it (a redirect back into the same origin is mapped to the platform
    /// host again, see [`Fetcher::fetch`]).
    pub fn for_api(config: &Config, config_path: &std::path::Path) -> Result<Fetcher> {
        Fetcher::build(config, config_path, !config.serve.allow_private_addresses)
    }

    /// This fetcher as [`Fetcher::for_api`] would build it, sharing pacing, the limit of
    /// exchanges in flight and the certificates written: `watch run` fetches the entries
    /// the API added with it, and the rest with `self`.
    pub fn guarded(&self) -> Fetcher {
        Fetcher {
            client: self.client.clone(),
            guarded: self.guarded.clone(),
            http: self.http.clone(),
            hosts: self.hosts.clone(),
            host_delays: self.host_delays.clone(),
            host_cookies: self.host_cookies.clone(),
            host_headers: self.host_headers.clone(),
            platform_settings: self.platform_settings.clone(),
            block_internal: !self.allow_private,
            allow_private: self.allow_private,
            politeness: self.politeness.clone(),
            in_flight: self.in_flight.clone(),
            certs_written: self.certs_written.clone(),
            clock: self.clock,
        }
    }

    /// This fetcher, dating its exchanges by `clock` (see the field).
    /// The clock this fetcher dates its records by.
    pub fn clock(&self) -> crate::clock::Clock {
        self.clock
    }

    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Fetcher {
        self.clock = clock;
        self
    }

    fn build(
        config: &Config,
        config_path: &std::path::Path,
        block_internal: bool,
    ) -> Result<Fetcher> {
        let h = &config.http;
        let bad = |m: String| Error::Config {
            path: config_path.to_path_buf(),
            message: m,
        };
        let client = |guard: bool| -> Result<reqwest::Client> {
            let mut b = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_millis(h.timeout_ms))
                .connect_timeout(Duration::from_millis(h.connect_timeout_ms))
                .tls_info(true)
                .dns_resolver(DeadlineResolver {
                    limit: Duration::from_millis(h.resolve_timeout_ms),
                    guard,
                })
                .pool_max_idle_per_host(64);
            if let Some(p) = &h.proxy {
                b = b.proxy(
                    reqwest::Proxy::all(p).map_err(|e| bad(format!("http.proxy {p:?}: {e}")))?,
                );
            }
            if let Some(ca) = &h.extra_ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| bad(format!("http.extra_ca_file {}: {e}", ca.display())))?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                    bad(format!(
                        "http.extra_ca_file {}: not PEM certificates: {e}",
                        ca.display()
                    ))
                })?;
                b = b.tls_certs_merge(certs);
            }
            if h.insecure_tls {
                b = b.danger_accept_invalid_certs(true);
            }
            b.build().map_err(|e| bad(format!("HTTP client: {e}")))
        };
        let (open, guarded) = (client(false)?, client(true)?);

        let mut hosts = BTreeMap::new();
        for (host, origin) in &h.hosts {
            hosts.insert(
                host.to_ascii_lowercase(),
                Url::parse(origin).map_err(|e| bad(e.to_string()))?,
            );
        }
        let mut host_delays = HashMap::new();
        let mut host_cookies = HashMap::new();
        let mut host_headers = HashMap::new();
        let mut platform_settings = HashMap::new();
        for (name, pc) in &config.platforms {
            platform_settings.insert(
                name.clone(),
                crate::platforms::PlatformSettings::from_config(pc),
            );
            let platform = crate::platforms::by_name(name)
                .ok_or_else(|| bad(format!("[platforms.{name}]: no such platform")))?;
            let main = platform.hosts();
            if let Some(base) = &pc.base_url {
                let u =
                    Url::parse(base).map_err(|e| bad(format!("platforms.{name}.base_url: {e}")))?;
                if let Some(first) = main.first() {
                    hosts.entry(first.to_string()).or_insert(u);
                }
            }
            for host in main {
                if let Some(d) = pc.per_host_delay_ms {
                    host_delays.insert(host.to_string(), Duration::from_millis(d));
                }
                if let Some(c) = &pc.cookies {
                    host_cookies.insert(host.to_string(), c.clone());
                }
                if !pc.headers.is_empty() {
                    host_headers.insert(
                        host.to_string(),
                        pc.headers
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    );
                }
            }
        }
        Ok(Fetcher {
            client: open,
            guarded,
            http: h.clone(),
            hosts,
            host_delays,
            host_cookies,
            host_headers,
            platform_settings,
            block_internal,
            allow_private: config.serve.allow_private_addresses,
            politeness: Arc::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(h.concurrency.max(1))),
            certs_written: Arc::default(),
            clock: crate::clock::Clock::System,
        })
    }

    pub fn max_body_bytes(&self) -> u64 {
        self.http.max_body_bytes
    }

    /// Platform `name`'s `[platforms.NAME]` settings for its plans (the defaults when the
    /// config has no such section).
    pub fn platform_settings(&self, name: &str) -> crate::platforms::PlatformSettings {
        self.platform_settings
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// Whether cookies are configured for this URL's host.
    pub fn has_cookies_for(&self, host: &str) -> bool {
        self.host_cookies.contains_key(host)
    }

    /// The URL actually fetched: the platform URL with a host override applied.
    pub fn actual_url(&self, url: &Url) -> Url {
        let Some(host) = url.host_str() else {
            return url.clone();
        };
        match self.host_override(host) {
            None => url.clone(),
            Some(origin) => {
                let mut u = origin.clone();
                let base = origin.path().trim_end_matches('/');
                u.set_path(&format!("{base}{}", url.path()));
                u.set_query(url.query());
                u
            }
        }
    }

    /// The platform URL a redirect target `next` stands for, when the hop that led to it
    /// (`from`, in the platform's terms) went to a host override: a target on that
    /// override's origin (the same scheme, host and port, under its base path) is that
    /// platform host again. Nothing is guessed from the address alone: a URL that was asked
    /// for directly, or a target on some other override's origin (several platform hosts
    /// may share one test server), stays as it is, and is fetched as itself (under the
    /// guard, when there is one).
    fn platform_url(&self, from: &Url, next: &Url) -> Url {
        let Some(host) = from.host_str().map(str::to_ascii_lowercase) else {
            return next.clone();
        };
        let Some(origin) = self.host_override(&host) else {
            return next.clone();
        };
        let base = origin.path().trim_end_matches('/');
        let Some(rest) = next.path().strip_prefix(base) else {
            return next.clone();
        };
        if next.scheme() == origin.scheme()
            && next.host_str() == origin.host_str()
            && next.port_or_known_default() == origin.port_or_known_default()
            && (rest.is_empty() || rest.starts_with('/'))
        {
            let mut u = next.clone();
            // The scheme of the URL the hop stood for (the platform host's own).
            let _ = u.set_scheme(from.scheme());
            let _ = u.set_host(Some(&host));
            let _ = u.set_port(from.port());
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_path(if rest.is_empty() { "/" } else { rest });
            return u;
        }
        next.clone()
    }

    /// Which host set the pace so far, and by which setting: `None` when no request
    /// waited for a host's turn (docs/cli.md, "Long runs").
    pub fn pacing(&self) -> Option<Pacing> {
        let (host, waited) = self.politeness.most_waited()?;
        let setting = if self.host_delays.contains_key(&host) {
            self.platform_settings
                .keys()
                .find(|name| {
                    crate::platforms::by_name(name)
                        .is_some_and(|p| p.hosts().contains(&host.as_str()))
                })
                .map_or_else(
                    || "[platforms.NAME] per_host_delay_ms".to_string(),
                    |name| format!("[platforms.{name}] per_host_delay_ms"),
                )
        } else {
            "[http] per_host_delay_ms".to_string()
        };
        Some(Pacing {
            delay_ms: u64::try_from(self.delay_for(&host).as_millis()).unwrap_or(u64::MAX),
            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            host,
            setting,
        })
    }

    /// The `[http.hosts]` origin `host` is sent to: its exact name first, else the most
    /// specific wildcard (`*.sinaimg.cn` covers `wx1.sinaimg.cn` and `a.b.sinaimg.cn`, not
    /// `sinaimg.cn` itself; `*.wx1.sinaimg.cn` wins over it for `x.wx1.sinaimg.cn`).
    fn host_override(&self, host: &str) -> Option<&Url> {
        let host = host.to_ascii_lowercase();
        if let Some(u) = self.hosts.get(&host) {
            return Some(u);
        }
        self.hosts
            .iter()
            .filter_map(|(k, u)| {
                let suffix = k.strip_prefix('*')?;
                (host.len() > suffix.len() && host.ends_with(suffix)).then_some((suffix.len(), u))
            })
            .max_by_key(|(n, _)| *n)
            .map(|(_, u)| u)
    }

    fn delay_for(&self, host: &str) -> Duration {
        self.host_delays
            .get(host)
            .copied()
            .unwrap_or(Duration::from_millis(self.http.per_host_delay_ms))
    }

    /// The client for one exchange to `actual` (the URL of platform host `host` after
    /// its override). Unguarded fetchers, and a platform host's own override origin, use
    /// the open client; everything else under the guard uses the guarded one, after a
    /// literal internal address is refused here (no DNS answer to check) and, when a
    /// proxy may carry the request (the proxy resolves the name, not us), after the name
    /// is resolved here and refused if it is internal.
    async fn client_for(
        &self,
        host: &str,
        actual: &Url,
    ) -> std::result::Result<&reqwest::Client, String> {
        if !self.block_internal || self.host_override(host).is_some() {
            return Ok(&self.client);
        }
        let refused = |ip: IpAddr| {
            format!(
                "refused: {actual} is an internal address ({ip}); \
                 [serve] allow_private_addresses = true allows it"
            )
        };
        match actual.host() {
            Some(url::Host::Ipv4(a)) if is_internal(IpAddr::V4(a)) => Err(refused(a.into())),
            Some(url::Host::Ipv6(a)) if is_internal(IpAddr::V6(a)) => Err(refused(a.into())),
            Some(url::Host::Domain(name)) if self.may_use_proxy() => {
                let limit = Duration::from_millis(self.http.resolve_timeout_ms);
                public_only(name, lookup(name, limit).await?)?;
                Ok(&self.guarded)
            }
            _ => Ok(&self.guarded),
        }
    }

    /// Whether a proxy may carry requests: configured, or named by the environment
    /// (reqwest reads `HTTP_PROXY` and the like).
    fn may_use_proxy(&self) -> bool {
        self.http.proxy.is_some()
            || [
                "HTTP_PROXY",
                "HTTPS_PROXY",
                "ALL_PROXY",
                "http_proxy",
                "https_proxy",
                "all_proxy",
            ]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    }

    /// Makes the request, following redirects when asked, retrying 429/503 with
    /// Retry-After, and records every exchange.
    pub async fn fetch(&self, req: &Request) -> FetchResult {
        let mut records = vec![];
        let mut url = req.url.clone();
        let mut seen = HashSet::new();
        let mut hops = 0usize;
        let mut retries = 0u32;
        let mut method = req.method;
        let mut body = req.body.clone();
        loop {
            if !seen.insert((url.to_string(), retries)) {
                return failed(
                    records,
                    format!("redirect loop at {}", told(&url, &self.actual_url(&url))),
                );
            }
            let hop = self.exchange(method, &url, req, body.as_deref()).await;
            let (resp, mut recs) = match hop {
                Ok(x) => x,
                Err((recs, msg)) => {
                    records.extend(recs);
                    return failed(records, msg);
                }
            };
            let response_id = recs
                .iter()
                .find(|r| r.warc_type() == kind::RESPONSE)
                .map(|r| r.id().to_string());
            let (sha, len) = recs
                .iter()
                .find(|r| r.warc_type() == kind::RESPONSE)
                .map(|r| {
                    // Computed while the body streamed in (the payload may be on disk).
                    let digest = r.field("WARC-Payload-Digest").unwrap_or("");
                    (
                        digest.strip_prefix("sha256:").unwrap_or(digest).to_string(),
                        r.payload_len(),
                    )
                })
                .unzip();
            records.append(&mut recs);
            let status = resp.status;

            if (status == 429 || status == 503) && retries < self.http.max_retries {
                let wait = retry_after(resp.header("retry-after"))
                    .unwrap_or(Duration::from_secs(1 << retries.min(5)));
                if wait.as_millis() as u64 <= self.http.max_retry_after_ms {
                    let host = url.host_str().unwrap_or("").to_string();
                    self.politeness.back_off(&host, Instant::now() + wait);
                    tracing::info!(
                        "{}: HTTP {status}, retrying in {wait:?}",
                        told(&url, &self.actual_url(&url))
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                    continue;
                }
            }
            if (300..400).contains(&status)
                && req.follow_redirects
                && let Some(loc) = resp.header("location")
            {
                if hops >= self.http.max_redirects {
                    return failed(
                        records,
                        format!(
                            "more than {} redirects (last to {loc})",
                            self.http.max_redirects
                        ),
                    );
                }
                let next = match self.actual_url(&url).join(loc) {
                    Ok(n) => self.platform_url(&url, &n),
                    Err(e) => {
                        return failed(records, format!("bad redirect Location {loc:?}: {e}"));
                    }
                };
                if !matches!(next.scheme(), "http" | "https") {
                    return failed(records, format!("redirect to unsupported scheme: {next}"));
                }
                hops += 1;
                retries = 0;
                if status == 303 || ((status == 301 || status == 302) && method == "POST") {
                    method = "GET";
                    body = None;
                }
                url = next;
                continue;
            }
            return FetchResult {
                records,
                fetched: Fetched::Response(resp),
                response_id,
                payload_sha256: sha,
                payload_len: len,
            };
        }
    }

    /// POSTs `body` as `content_type` to `url` and returns the answer (redirects followed,
    /// 429/503 retried), through the same clients as [`Fetcher::fetch`]: `[http] proxy`,
    /// `extra_ca_file`, user agent, timeouts, host overrides and pacing apply. Not
    /// recorded: for requests that are not part of a capture (an RFC 3161 query, whose
    /// reply is stored beside the checkpoint it dates).
    pub async fn post(
        &self,
        url: &Url,
        content_type: &str,
        body: Vec<u8>,
        purpose: &'static str,
    ) -> std::result::Result<Response, String> {
        let req = Request {
            method: "POST",
            url: url.clone(),
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Some(body),
            follow_redirects: true,
            with_user_cookies: false,
            purpose,
            is_page: false,
            paced: true,
        };
        match self.fetch(&req).await.fetched {
            Fetched::Response(r) => Ok(r),
            Fetched::Failed(e) => Err(e),
        }
    }

    /// One request and its answer, recorded.
    async fn exchange(
        &self,
        method: &'static str,
        url: &Url,
        req: &Request,
        body: Option<&[u8]>,
    ) -> std::result::Result<(Response, Vec<Record>), (Vec<Record>, String)> {
        let actual = self.actual_url(url);
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let client = match self.client_for(&host, &actual).await {
            Ok(c) => c,
            Err(e) => return Err((vec![], e)),
        };
        let turn = if req.paced {
            self.politeness.wait(&host, self.delay_for(&host)).await
        } else {
            jiff::Timestamp::now()
        };
        let granted = if self.clock.is_fixed() {
            self.clock.now()
        } else {
            turn
        };
        // Held for this one exchange (request, answer, body), not across retries' waits.
        // Taken after the host's turn, so tasks sleeping for politeness hold no slot and
        // one slow host cannot starve the others.
        let _in_flight = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");

        // The request headers, in the order we send them; reqwest adds Host (and
        // Content-Length for bodies) itself.
        let mut headers: Vec<(String, String)> = vec![
            ("User-Agent".into(), self.http.user_agent.clone()),
            ("Accept".into(), "*/*".into()),
            ("Accept-Encoding".into(), "gzip, deflate, br".into()),
        ];
        for (n, v) in req
            .headers
            .iter()
            .chain(self.host_headers.get(&host).into_iter().flatten())
        {
            if let Some(slot) = headers.iter_mut().find(|(h, _)| h.eq_ignore_ascii_case(n)) {
                slot.1 = v.clone();
            } else {
                headers.push((n.clone(), v.clone()));
            }
        }
        if req.with_user_cookies
            && let Some(c) = self.host_cookies.get(&host)
        {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case("cookie"));
            headers.push(("Cookie".into(), c.clone()));
        }
        let date = warc::warc_date(granted);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut rb = client.request(m, actual.clone());
        for (n, v) in &headers {
            rb = rb.header(n.as_str(), v.as_str());
        }
        if let Some(b) = body {
            rb = rb.body(b.to_vec());
        }
        let started = Instant::now();
        let mut resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return Err((vec![], describe(&e, &told(url, &actual)))),
        };
        let version = resp.version();
        let status = resp.status();
        let remote = resp.remote_addr();
        let cert = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|t| t.peer_certificate().map(<[u8]>::to_vec));
        let resp_headers: Vec<(String, Vec<u8>)> = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect();

        let proto = match version {
            reqwest::Version::HTTP_2 => Some("h2"),
            reqwest::Version::HTTP_3 => Some("h3"),
            _ => None,
        };
        let line_version = if version == reqwest::Version::HTTP_10 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        };
        // The response record's block: status line, headers without Transfer-Encoding,
        // then the de-chunked body as sent (Content-Encoding kept), streamed to a spool
        // up to the size limit with its digests computed on the way: a big body is
        // never held in memory.
        let reason = status.canonical_reason().unwrap_or("");
        let mut rs = format!("{line_version} {} {reason}\r\n", status.as_u16()).into_bytes();
        for (n, v) in &resp_headers {
            if n.eq_ignore_ascii_case("transfer-encoding") {
                continue;
            }
            rs.extend_from_slice(n.as_bytes());
            rs.extend_from_slice(b": ");
            if is_secret_header(n) {
                rs.extend_from_slice(redact(v).as_bytes());
            } else {
                rs.extend_from_slice(v);
            }
            rs.extend_from_slice(b"\r\n");
        }
        rs.extend_from_slice(b"\r\n");
        let mut block = StreamedBlock::new(rs);
        let limit = self.http.max_body_bytes;
        // Room for the body the server announced, up to what stays in memory anyway: one
        // allocation instead of one per doubling.
        if let Some(n) = resp.content_length() {
            let n = n.min(limit).min(crate::store::spool::SPILL_AT as u64);
            block.body.reserve(usize::try_from(n).unwrap_or(0));
        }
        let mut truncated: Option<&'static str> = None;
        let mut body_error = None;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    let room = limit.saturating_sub(block.payload_len());
                    let take = usize::try_from(room).unwrap_or(usize::MAX).min(c.len());
                    if let Err(e) = block.write(&c[..take]) {
                        return Err((
                            vec![],
                            format!(
                                "could not spool the body of {actual} to a temporary file: {e}"
                            ),
                        ));
                    }
                    if take < c.len() {
                        truncated = Some("length");
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    truncated = Some(if e.is_timeout() { "time" } else { "disconnect" });
                    body_error = Some(describe(&e, &told(url, &actual)));
                    break;
                }
            }
        }
        drop(resp);
        let elapsed = started.elapsed();

        // The request record.
        let target = actual.as_str();
        let mut path = actual.path().to_string();
        if let Some(q) = actual.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_header = match actual.port() {
            Some(p) => format!("{}:{p}", actual.host_str().unwrap_or("")),
            None => actual.host_str().unwrap_or("").to_string(),
        };
        // reqwest speaks HTTP/1.1 (or h2, noted in WARC-Protocol) whatever the server answers.
        let mut rq = format!("{method} {path} HTTP/1.1\r\nHost: {host_header}\r\n").into_bytes();
        for (n, v) in &headers {
            let v = if is_secret_header(n) {
                redact(v.as_bytes())
            } else {
                v.clone()
            };
            rq.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        if let Some(b) = body {
            rq.extend_from_slice(format!("Content-Length: {}\r\n", b.len()).as_bytes());
        }
        rq.extend_from_slice(b"\r\n");
        if let Some(b) = body {
            rq.extend_from_slice(b);
        }
        let mut common: Vec<(String, String)> = vec![];
        if let Some(a) = remote {
            common.push(("WARC-IP-Address".into(), a.ip().to_string()));
        }
        if let Some(p) = proto {
            common.push(("WARC-Protocol".into(), p.into()));
        }
        let mut request = Record::build(
            kind::REQUEST,
            &date,
            Some(target),
            mime::HTTP_REQUEST,
            common.clone(),
            rq,
        );

        let mut fields = common.clone();
        fields.push(("WARC-Concurrent-To".into(), request.id().to_string()));
        if let Some(t) = truncated {
            fields.push(("WARC-Truncated".into(), t.into()));
        }
        // What Heritrix keeps in a separate `metadata` record per exchange is carried here
        // as extension fields (WARC 1.1 section 5: unknown fields are ignored by readers):
        // a record less per exchange is a third of what a routine check adds.
        fields.push((
            "Samizdat-Fetch-Time-Ms".into(),
            elapsed.as_millis().to_string(),
        ));
        if url != &actual {
            // The URL in the platform's own terms, when a host override sent it elsewhere.
            fields.push(("Samizdat-Platform-URL".into(), url.to_string()));
        }
        // The server's TLS certificate, by the block digest of the `metadata` record that
        // holds it. That record is written the first time this process sees the
        // certificate, not again for every exchange with the same server.
        let mut cert_record = None;
        if let Some(der) = cert {
            let label = crate::store::warc::sha256_label(&der);
            fields.push(("Samizdat-TLS-Certificate".into(), label.clone()));
            if self
                .certs_written
                .lock()
                .expect("cert set lock")
                .insert(label)
            {
                cert_record = Some(der);
            }
        }
        let response = Record::build_streamed(
            kind::RESPONSE,
            &date,
            Some(target),
            mime::HTTP_RESPONSE,
            fields,
            block,
        );
        request.insert_field("WARC-Concurrent-To", response.id());
        let mut records = vec![request];
        let response_id = response.id().to_string();
        records.push(response);
        if let Some(der) = cert_record {
            records.push(Record::build(
                kind::METADATA,
                &date,
                Some(target),
                "application/pkix-cert",
                vec![("WARC-Refers-To".into(), response_id.clone())],
                der,
            ));
        }
        if let Some(e) = body_error {
            return Err((records, e));
        }

        let headers_lc: Vec<(String, String)> = resp_headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_ascii_lowercase(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect();
        let encoding = headers_lc
            .iter()
            .find(|(n, _)| n == "content-encoding")
            .map(|(_, v)| v.trim().to_ascii_lowercase());
        // The bounded, decoded copy the plan reads (off the async workers when the body
        // is on disk: inflating it is bounded, but not free).
        let (decoded, cut) = match records[1].spooled.clone() {
            Some(sp) if sp.on_disk() => {
                let head = records[1].payload().to_vec();
                let enc = encoding.clone();
                tokio::task::spawn_blocking(move || {
                    decode_bounded(
                        &|| Box::new(std::io::Cursor::new(&head[..]).chain(sp.reader())),
                        enc.as_deref(),
                    )
                })
                .await
                .unwrap_or_else(|_| (Vec::new(), true))
            }
            _ => {
                let r = &records[1];
                let plain = codings(encoding.as_deref()).is_some_and(|c| c.is_empty());
                match r.spooled.as_ref().and_then(|s| s.in_memory()) {
                    // Nothing to undo and all in memory (the common case): one copy of the
                    // right size, cut at the cap like `decode_bounded` cuts it.
                    Some(body) if plain && r.payload().is_empty() => (
                        body[..body.len().min(MAX_DECODED_BYTES)].to_vec(),
                        body.len() > MAX_DECODED_BYTES,
                    ),
                    _ => decode_bounded(&|| r.payload_reader(), encoding.as_deref()),
                }
            }
        };
        Ok((
            Response {
                url: url.clone(),
                status: status.as_u16(),
                headers: headers_lc,
                body: decoded,
                truncated: truncated.is_some() || cut,
            },
            records,
        ))
    }
}

fn failed(records: Vec<Record>, msg: String) -> FetchResult {
    FetchResult {
        records,
        fetched: Fetched::Failed(msg),
        response_id: None,
        payload_sha256: None,
        payload_len: None,
    }
}

/// A fetch error in words a person can act on.
/// A URL as errors and log lines name it: the URL fetched and, when a host override sent
/// it elsewhere, the platform URL it stood for (never one guessed from the address).
fn told(url: &Url, actual: &Url) -> String {
    if url == actual {
        actual.to_string()
    } else {
        format!("{actual} (for {url})")
    }
}

fn describe(e: &reqwest::Error, url: &str) -> String {
    use std::error::Error as _;
    let mut chain = vec![];
    let mut src = e.source();
    while let Some(s) = src {
        chain.push(s.to_string());
        src = s.source();
    }
    let all = chain.join(": ");
    let has = |w: &[&str]| w.iter().any(|w| all.contains(w));
    // One sentence: what failed, for which URL, and the innermost cause (the layers of
    // hyper, reqwest and the resolver each restate the one before).
    // The guard's own refusal travels inside the resolver's error: it is the sentence.
    if let Some(refusal) = chain
        .iter()
        .rev()
        .find_map(|c| c.find("refused: ").map(|i| &c[i..]))
    {
        return format!("{refusal}: {url}");
    }
    if e.is_connect() && has(&["DNS", "dns"]) {
        let host = Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| url.to_string());
        return format!(
            "the name {host} could not be resolved (check the address, or this machine's network and name service): {url}"
        );
    }
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        if has(&["certificate", "Tls", "tls", "TLS"]) {
            "TLS handshake failed"
        } else if has(&["refused"]) {
            "connection refused"
        } else {
            "could not connect"
        }
    } else if has(&["certificate"]) {
        "TLS handshake failed"
    } else {
        "request failed"
    };
    match chain.last() {
        Some(cause) => format!("{what}: {url} ({cause})"),
        None => format!("{what}: {url}"),
    }
}

/// Seconds or an HTTP date.
fn retry_after(v: Option<&str>) -> Option<Duration> {
    let v = v?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let t = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    let d = t.duration_since(jiff::Timestamp::now());
    Some(Duration::from_secs(d.as_secs().max(0) as u64))
}

/// Most codings one `Content-Encoding` may stack (`gzip, br` is two).
const MAX_CODINGS: usize = 4;

/// Removes Content-Encoding from an archived payload held in memory, never inflating
/// past [`MAX_DECODED_BYTES`]. Returns the bytes and whether the cap cut them. Unknown
/// or broken encodings, and none, give the raw bytes whole.
pub fn decode_body(raw: &[u8], encoding: Option<&str>) -> (Vec<u8>, bool) {
    match codings(encoding) {
        Some(c) if !c.is_empty() => decode_bounded(&|| Box::new(raw), encoding),
        _ => (raw.to_vec(), false),
    }
}

/// The codings of a `Content-Encoding` value in the order they were applied, without
/// `identity`; `None` if one is unknown or there are more than [`MAX_CODINGS`].
fn codings(encoding: Option<&str>) -> Option<Vec<String>> {
    let list: Vec<String> = encoding
        .unwrap_or("")
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect();
    let known = |c: &str| matches!(c, "gzip" | "x-gzip" | "deflate" | "br");
    (list.len() <= MAX_CODINGS && list.iter().all(|c| known(c))).then_some(list)
}

/// The body a plan reads: Content-Encoding removed (nested codings too, last applied
/// first undone), at most [`MAX_DECODED_BYTES`] of it whatever the compression ratio:
/// decoders run as a stream and stop when the cap is reached, so a bomb costs the cap,
/// not its inflated size. Returns the bytes and whether they were cut. `open` gives a
/// fresh reader over the payload as stored; unknown or broken encodings give (at most
/// the cap of) the payload as stored: the archive has it either way.
pub fn decode_bounded<'a>(
    open: &dyn Fn() -> Box<dyn Read + 'a>,
    encoding: Option<&str>,
) -> (Vec<u8>, bool) {
    let cap = MAX_DECODED_BYTES as u64;
    let read_capped = |r: Box<dyn Read + 'a>| -> (std::io::Result<usize>, Vec<u8>, bool) {
        let mut out = Vec::new();
        let res = r.take(cap + 1).read_to_end(&mut out);
        let cut = out.len() as u64 > cap;
        out.truncate(MAX_DECODED_BYTES);
        (res, out, cut)
    };
    let raw = || {
        let (_, out, cut) = read_capped(open());
        (out, cut)
    };
    let Some(list) = codings(encoding) else {
        return raw();
    };
    if list.is_empty() {
        return raw();
    }
    let mut r: Box<dyn Read + 'a> = open();
    for c in list.iter().rev() {
        r = match c.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(r)),
            "deflate" => deflate_reader(r),
            _ => Box::new(brotli_decompressor::Decompressor::new(r, 64 * 1024)),
        };
    }
    match read_capped(r) {
        (_, out, true) => (out, true),
        (Ok(_), out, false) => (out, false),
        (Err(_), out, false) if !out.is_empty() => (out, true),
        (Err(_), _, false) => raw(),
    }
}

/// "deflate" is zlib-wrapped by the spec and raw deflate in practice: the first two
/// bytes tell which (RFC 1950: CM 8, and the header is a multiple of 31).
fn deflate_reader<'a>(r: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
    let mut r = std::io::BufReader::new(r);
    let zlib = match std::io::BufRead::fill_buf(&mut r) {
        Ok(b) if b.len() >= 2 => {
            b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
        }
        _ => false,
    };
    if zlib {
        Box::new(flate2::bufread::ZlibDecoder::new(r))
    } else {
        Box::new(flate2::bufread::DeflateDecoder::new(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_bomb_is_cut_at_the_cap() {
        let zeros = vec![0u8; 1 << 20];
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..(MAX_DECODED_BYTES / zeros.len() + 8) {
            std::io::Write::write_all(&mut enc, &zeros).unwrap();
        }
        let bomb = enc.finish().unwrap();
        let (out, cut) = decode_body(&bomb, Some("gzip"));
        assert!(cut);
        assert_eq!(out.len(), MAX_DECODED_BYTES);
    }

    #[test]
    fn internal_addresses_in_every_dress() {
        let internal = |s: &str| is_internal(s.parse::<IpAddr>().unwrap());
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "192.88.99.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "ff02::1",
            // IPv4-mapped and IPv4-translated
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:0:127.0.0.1",
            // IPv4-compatible (deprecated): internal whatever it carries
            "::127.0.0.1",
            "::8.8.8.8",
            // NAT64: the well-known prefix by what it carries, the local-use one always
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::8.8.8.8",
            "64:ff9b:1:2::1",
            // 6to4 embedding an internal IPv4 address
            "2002:7f00:1::",
            "2002:7f00:1::1",
            "2002:a00:1::1",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::1",
            // Teredo and the rest of 2001::/23
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:0:7f00:1::1",
            "2001:2::1",
            "2001:10::1",
            // documentation, discard-only
            "2001:db8::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(internal(a), "{a} should be internal");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "::ffff:8.8.8.8",
            "::ffff:0:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:800::200e",
            "2001:4860:4860::8888",
        ] {
            assert!(!internal(a), "{a} should be public");
        }
    }

    #[test]
    fn redirects_map_back_only_into_the_override_origin() {
        let mut config = Config::default();
        config
            .http
            .hosts
            .insert("m.weibo.cn".into(), "http://localhost:18083/base".into());
        let f = Fetcher::for_api(&config, std::path::Path::new("samizdat.toml")).unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        let from = u("https://m.weibo.cn/detail/1");
        assert_eq!(
            f.platform_url(&from, &u("http://localhost:18083/base/p?q=1"))
                .as_str(),
            "https://m.weibo.cn/p?q=1"
        );
        assert_eq!(
            f.platform_url(&from, &u("http://localhost:18083/base"))
                .as_str(),
            "https://m.weibo.cn/"
        );
        for other in [
            "http://localhost:18081/base/secret",
            "https://localhost:18083/base/p",
            "http://localhost:18083/basement",
            "http://localhost:18083/other",
            "http://127.0.0.1:18083/base/p",
        ] {
            assert_eq!(f.platform_url(&from, &u(other)).as_str(), other);
        }
        // A URL asked for directly is never taken for a platform host's, even when it
        // redirects into an override's origin.
        let direct = u("http://localhost:18083/base/start");
        assert_eq!(
            f.platform_url(&direct, &u("http://localhost:18083/base/p"))
                .as_str(),
            "http://localhost:18083/base/p"
        );
    }

    /// `[http.hosts]` wildcards (issue 14): the exact name wins, then the longest
    /// wildcard; `*.x` does not cover `x`.
    #[test]
    fn wildcard_hosts_map_names_under_them_and_exact_names_win() {
        let mut config = Config::default();
        for (k, v) in [
            ("*.sinaimg.cn", "http://127.0.0.1:9001"),
            ("*.wx1.sinaimg.cn", "http://127.0.0.1:9002"),
            ("wx2.sinaimg.cn", "http://127.0.0.1:9003"),
        ] {
            config.http.hosts.insert(k.into(), v.into());
        }
        let f = Fetcher::new(&config, std::path::Path::new("samizdat.toml")).unwrap();
        let actual = |s: &str| f.actual_url(&Url::parse(s).unwrap()).to_string();
        assert_eq!(
            actual("https://wx3.sinaimg.cn/large/a.jpg?x=1"),
            "http://127.0.0.1:9001/large/a.jpg?x=1"
        );
        assert_eq!(
            actual("https://A.B.SINAIMG.CN/p.jpg"),
            "http://127.0.0.1:9001/p.jpg"
        );
        assert_eq!(
            actual("https://x.wx1.sinaimg.cn/p.jpg"),
            "http://127.0.0.1:9002/p.jpg"
        );
        assert_eq!(
            actual("https://wx2.sinaimg.cn/p.jpg"),
            "http://127.0.0.1:9003/p.jpg"
        );
        // The bare name and look-alikes are not under the wildcard.
        for direct in [
            "https://sinaimg.cn/p.jpg",
            "https://evilsinaimg.cn/p.jpg",
            "https://sinaimg.cn.evil.com/p.jpg",
        ] {
            assert_eq!(actual(direct), direct);
        }
        // A redirect back into a wildcard's origin maps to the host the hop stood for.
        let from = Url::parse("https://wx9.sinaimg.cn/a.jpg").unwrap();
        let next = Url::parse("http://127.0.0.1:9001/b.jpg").unwrap();
        assert_eq!(
            f.platform_url(&from, &next).as_str(),
            "https://wx9.sinaimg.cn/b.jpg"
        );
    }

    /// Several platform hosts sent to one server: a hop maps back to the host it stood
    /// for, never to whichever override comes first.
    #[test]
    fn shared_override_origins_map_back_to_the_host_asked_for() {
        let mut config = Config::default();
        for h in ["f.video.weibocdn.com", "m.weibo.cn", "wx1.sinaimg.cn"] {
            config
                .http
                .hosts
                .insert(h.into(), "http://127.0.0.1:18090".into());
        }
        let f = Fetcher::new(&config, std::path::Path::new("samizdat.toml")).unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        let next = u("http://127.0.0.1:18090/img/hero.png");
        assert_eq!(
            f.platform_url(&u("https://m.weibo.cn/status/1"), &next)
                .as_str(),
            "https://m.weibo.cn/img/hero.png"
        );
        assert_eq!(
            f.platform_url(&u("https://wx1.sinaimg.cn/large/a.jpg"), &next)
                .as_str(),
            "https://wx1.sinaimg.cn/img/hero.png"
        );
        assert_eq!(
            f.platform_url(&u("http://127.0.0.1:18090/page"), &next)
                .as_str(),
            next.as_str()
        );
    }

    #[test]
    fn nested_and_deflate_codings_are_undone_in_order_and_capped() {
        use std::io::Write;
        let text = b"hello, nested world".repeat(1000);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&text).unwrap();
        let zlib = z.finish().unwrap();
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        d.write_all(&text).unwrap();
        let raw_deflate = d.finish().unwrap();
        assert_eq!(decode_body(&zlib, Some("deflate")), (text.clone(), false));
        assert_eq!(
            decode_body(&raw_deflate, Some("deflate")),
            (text.clone(), false)
        );
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        g.write_all(&zlib).unwrap();
        let nested = g.finish().unwrap();
        assert_eq!(
            decode_body(&nested, Some("deflate, gzip")),
            (text.clone(), false)
        );
        // Unknown codings and too many of them: the bytes as stored.
        assert_eq!(decode_body(&nested, Some("zstd")), (nested.clone(), false));
        assert_eq!(
            decode_body(&nested, Some("gzip, gzip, gzip, gzip, gzip")),
            (nested.clone(), false)
        );
        // A plain body read for a plan is capped too.
        let big = vec![b'a'; MAX_DECODED_BYTES + 10];
        let (out, cut) = decode_bounded(&|| Box::new(&big[..]), None);
        assert!(cut);
        assert_eq!(out.len(), MAX_DECODED_BYTES);
    }

    #[test]
    fn redaction_hides_the_value() {
        let r = redact(b"SUB=secret-value");
        assert!(r.starts_with("<redacted sha256:"));
        assert!(!r.contains("secret"));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(
            retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(Some("soon")), None);
    }
}
