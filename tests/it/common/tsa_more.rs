//! More for the TSA tests: a TSA that signs with RSASSA-PSS, a loopback HTTP proxy that
//! records what it carries, and a DER re-encoder that writes chosen lengths in a
//! non-minimal form.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::common::tempdir;
use crate::common::tsa::{Tsa, make_pki, sh};

/// One HTTP/1.1 request read from `c`: its head (request line and headers, as sent) and
/// its body (by Content-Length). `None` when the peer closed first.
pub fn read_request(c: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = vec![];
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let k = c.read(&mut tmp).ok()?;
        if k == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..k]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let k = c.read(&mut tmp).ok()?;
        if k == 0 {
            break;
        }
        buf.extend_from_slice(&tmp[..k]);
    }
    Some((head, buf[head_end..].to_vec()))
}

/// How the PSS TSA's key is made.
#[derive(Clone, Copy, Debug)]
pub enum PssKey {
    /// An id-RSASSA-PSS key (`genpkey -algorithm RSA-PSS`): it can only sign with PSS.
    RsaPss,
    /// An rsaEncryption key told to sign with PSS padding.
    Rsa,
    /// An rsaEncryption key signing with PKCS#1 v1.5, made the same way (for comparison).
    RsaPkcs1,
}

/// Starts a TSA on 127.0.0.1 that signs with RSASSA-PSS (MGF1 over `md`, salt as long
/// as the hash). `openssl ts -reply` cannot sign with PSS (OpenSSL 3.0: "signing not
/// supported for this key type"), so each query is answered in three steps:
/// `openssl ts -reply -token_out` makes a TSTInfo (signed by a throwaway EC key, that
/// signature thrown away), `openssl cms -verify -noverify` takes the TSTInfo out, and
/// `openssl cms -sign -keyopt rsa_padding_mode:pss -cades` signs it again with the PSS
/// key (`-cades` adds the ESS signing-certificate-v2 attribute RFC 3161 needs). The
/// token is then wrapped in a TimeStampResp with status granted. `ca()` is the root
/// that issued the PSS key's certificate. With [`PssKey::RsaPkcs1`] the same steps sign
/// with PKCS#1 v1.5 instead.
pub fn start_pss_tsa(key: PssKey, md: &'static str) -> Tsa {
    let dir = tempdir();
    let d = dir.path();
    make_pki(d);
    // The TSTInfo must not name the EC certificate as the TSA: openssl ts -verify
    // compares that name with the signer's.
    let cnf = std::fs::read_to_string(d.join("tsa.cnf")).unwrap();
    std::fs::write(
        d.join("tsa.cnf"),
        cnf.replace("tsa_name = yes", "tsa_name = no"),
    )
    .unwrap();
    let algorithm = match key {
        PssKey::RsaPss => "RSA-PSS",
        PssKey::Rsa | PssKey::RsaPkcs1 => "RSA",
    };
    sh(
        d,
        &[
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "pss.key",
        ],
    );
    sh(
        d,
        &[
            "req",
            "-new",
            "-key",
            "pss.key",
            "-out",
            "pss.csr",
            "-subj",
            "/CN=Evidence Test PSS TSA/O=Throwaway",
        ],
    );
    sh(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "pss.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "pss.crt",
            "-days",
            "825",
            "-sha256",
            "-extfile",
            "tsa_ext.cnf",
        ],
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", listener.local_addr().unwrap());
    let d = d.to_path_buf();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut c) = conn else { continue };
            let Some((_, query)) = read_request(&mut c) else {
                continue;
            };
            let body = pss_reply(&d, n, &query, key, md);
            let status = if body.is_some() {
                "200 OK"
            } else {
                "500 Internal Server Error"
            };
            let body = body.unwrap_or_default();
            let _ = write!(
                c,
                "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = c.write_all(&body);
        }
    });
    Tsa { dir, url }
}

/// The PSS-signed TimeStampResp for one query (see [`start_pss_tsa`]).
fn pss_reply(d: &Path, n: usize, query: &[u8], key: PssKey, md: &str) -> Option<Vec<u8>> {
    let f = |s: &str| -> PathBuf { d.join(format!("{s}{n}")) };
    std::fs::write(f("q"), query).ok()?;
    let run = |args: &[&std::ffi::OsStr]| {
        Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let pss = [
        "-keyopt",
        "rsa_padding_mode:pss",
        "-keyopt",
        "rsa_pss_saltlen:digest",
    ]
    .map(std::ffi::OsStr::new);
    let padding: &[&std::ffi::OsStr] = match key {
        PssKey::RsaPkcs1 => &[],
        PssKey::RsaPss | PssKey::Rsa => &pss,
    };
    let ok = run(&[
        "ts".as_ref(),
        "-reply".as_ref(),
        "-config".as_ref(),
        "tsa.cnf".as_ref(),
        "-section".as_ref(),
        "tsa_config1".as_ref(),
        "-queryfile".as_ref(),
        f("q").as_os_str(),
        "-token_out".as_ref(),
        "-out".as_ref(),
        f("ec-token").as_os_str(),
    ]) && run(&[
        "cms".as_ref(),
        "-verify".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        f("ec-token").as_os_str(),
        "-noverify".as_ref(),
        "-out".as_ref(),
        f("tstinfo").as_os_str(),
    ]) && run(&[
        &[
            "cms".as_ref(),
            "-sign".as_ref(),
            "-binary".as_ref(),
            "-nodetach".as_ref(),
            "-nosmimecap".as_ref(),
            "-cades".as_ref(),
            "-in".as_ref(),
            f("tstinfo").as_os_str(),
            "-econtent_type".as_ref(),
            "1.2.840.113549.1.9.16.1.4".as_ref(),
            "-signer".as_ref(),
            "pss.crt".as_ref(),
            "-inkey".as_ref(),
            "pss.key".as_ref(),
            "-md".as_ref(),
            md.as_ref(),
            "-certfile".as_ref(),
            "ca.crt".as_ref(),
            "-outform".as_ref(),
            "DER".as_ref(),
            "-out".as_ref(),
            f("pss-token").as_os_str(),
        ][..],
        padding,
    ]
    .concat());
    if !ok {
        return None;
    }
    let token = std::fs::read(f("pss-token")).ok()?;
    // TimeStampResp ::= SEQUENCE { PKIStatusInfo { status 0 }, token }
    let status = der_tlv(0x30, &der_tlv(0x02, &[0]));
    Some(der_tlv(0x30, &[status, token].concat()))
}

/// One DER element with a minimal length.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len(), false));
    out.extend_from_slice(content);
    out
}

/// A DER length; `padded`: in the long form with one byte more than needed (BER allows
/// it, DER does not).
fn der_len(n: usize, padded: bool) -> Vec<u8> {
    if n < 0x80 && !padded {
        return vec![n as u8];
    }
    let bytes = (n as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let mut body = bytes[skip..].to_vec();
    // `81 05` already pads a short length; a long one needs a leading zero byte.
    if body.is_empty() || (padded && n >= 0x80) {
        body.insert(0, 0);
    }
    let mut out = vec![0x80 | body.len() as u8];
    out.extend(body);
    out
}

/// A BER/DER element tree: enough to re-encode what openssl wrote.
#[derive(Debug)]
pub enum Node {
    Prim(u8, Vec<u8>),
    Cons(u8, Vec<Node>),
}

impl Node {
    pub fn tag(&self) -> u8 {
        match self {
            Node::Prim(t, _) | Node::Cons(t, _) => *t,
        }
    }
}

/// The elements of `b`, in order (single-byte tags, definite lengths).
pub fn parse_tlvs(mut b: &[u8]) -> Vec<Node> {
    let mut out = vec![];
    while !b.is_empty() {
        let tag = b[0];
        let (len, hdr) = if b[1] < 0x80 {
            (b[1] as usize, 2)
        } else {
            let k = (b[1] & 0x7f) as usize;
            let len = b[2..2 + k]
                .iter()
                .fold(0usize, |l, x| (l << 8) | *x as usize);
            (len, 2 + k)
        };
        let content = &b[hdr..hdr + len];
        out.push(if tag & 0x20 != 0 {
            Node::Cons(tag, parse_tlvs(content))
        } else {
            Node::Prim(tag, content.to_vec())
        });
        b = &b[hdr + len..];
    }
    out
}

/// Encodes `nodes` again; the elements for which `pad` answers true (asked in document
/// order, each element once) get a non-minimal length.
pub fn encode_tlvs(nodes: &[Node], pad: &mut dyn FnMut(&Node) -> bool) -> Vec<u8> {
    let mut out = vec![];
    for n in nodes {
        let padded = pad(n);
        let content = match n {
            Node::Prim(_, c) => c.clone(),
            Node::Cons(_, kids) => encode_tlvs(kids, pad),
        };
        out.push(n.tag());
        out.extend(der_len(content.len(), padded));
        out.extend(content);
    }
    out
}

/// A loopback HTTP proxy for plain-HTTP targets: each request (absolute-form, as a
/// client sends it to a proxy) is recorded head and all, sent on to its origin in
/// origin-form, and the answer carried back. `seen` holds the heads in order.
pub struct Proxy {
    pub url: String,
    pub seen: Arc<Mutex<Vec<String>>>,
}

pub fn start_proxy() -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(vec![]));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                // One request per connection: the answer goes back with the origin's
                // close.
                let Some((head, body)) = read_request(&mut c) else {
                    return;
                };
                log.lock().unwrap().push(head.clone());
                let answer = forward(&head, &body).unwrap_or_else(|| {
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                });
                let _ = c.write_all(&answer);
            });
        }
    });
    Proxy { url, seen }
}

/// Sends one proxied request to its origin; the whole answer (the origin closes).
fn forward(head: &str, body: &[u8]) -> Option<Vec<u8>> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    let rest = target.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut up = TcpStream::connect(authority).ok()?;
    let mut out = format!("{method} {path} {version}\r\n");
    for l in lines.filter(|l| !l.is_empty()) {
        let name = l.split(':').next().unwrap_or("").to_ascii_lowercase();
        if name != "proxy-connection" && name != "connection" {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    up.write_all(out.as_bytes()).ok()?;
    up.write_all(body).ok()?;
    let mut answer = vec![];
    up.read_to_end(&mut answer).ok()?;
    Some(answer)
}
