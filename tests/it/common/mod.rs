//! Shared helpers for samizdat's integration tests (`mod common;` in each test file).
//!
//! One file per purpose; every helper is re-exported here, so tests reach it as `common::name`
//! (or through `use common::*`):
//!
//! * [`fixtures`]: the content the test servers send (GBK page, article page, images,
//!   compressed bodies, the gzip bomb), public so tests can assert on it.
//! * [`servers`]: [`TestServer`], a real HTTP/1.1 loopback server (hyper 1) with built-in
//!   routes for encodings, charsets, redirects, errors, slow and endless bodies, politeness,
//!   cookies and header echo, plus runtime fixture routes; [`tls_server`] over HTTPS.
//! * [`client`]: a tiny blocking HTTP/1.1 client ([`http_get`]) and [`free_port`].
//! * [`process`]: [`samizdat`], [`run_ok`], [`run_code`], [`json_lines`]: drive the built
//!   binary against a temporary archive folder.
//! * [`archive`]: [`write_config`], [`warc_files`]: the archive folder a test drives.
//! * [`validators`]: independent validators from the Python venv made by
//!   `scripts/setup-validators.sh` ([`warcio_check`], [`cdxj_index`], [`pywb_replay`],
//!   [`wacz_validate`]). A missing venv is a panic, never a skip.
//! * [`serve`]: `samizdat serve` on a loopback port; [`tsa`]: a throwaway RFC 3161 TSA.
//!
//! Everything binds 127.0.0.1 only; tests never reach the internet.
#![allow(dead_code)]

pub mod archive;
pub mod client;
pub mod fixtures;
pub mod process;
pub mod serve;
pub mod servers;
pub mod tsa;
pub mod tsa_more;
pub mod validators;

// Each test binary uses only some of these; an unused glob is not a mistake here.
#[allow(unused_imports)]
pub use archive::*;
#[allow(unused_imports)]
pub use client::*;
#[allow(unused_imports)]
pub use fixtures::*;
#[allow(unused_imports)]
pub use process::*;
#[allow(unused_imports)]
pub use servers::*;
#[allow(unused_imports)]
pub use validators::*;
