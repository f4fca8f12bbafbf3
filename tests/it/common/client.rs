//! A tiny blocking HTTP/1.1 client (for pywb and sync tests; no TLS, no decompression),
//! and free loopback ports.

use std::io::{Read, Write};
use std::net::{TcpListener as StdTcpListener, TcpStream};
use std::time::Duration;

/// Status, headers (names as sent), body (de-chunked, never decompressed).
pub type HttpResult = (u16, Vec<(String, String)>, Vec<u8>);

/// GET `url` (http only) with `Connection: close`; returns raw status/headers/body.
pub fn http_get(url: &str) -> std::io::Result<HttpResult> {
    http_request("GET", url, &[])
}

/// The value of header `name` (case-insensitive) in a [`HttpResult`]'s headers.
pub fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `method url` with `extra` request headers, like [`http_get`].
pub fn http_request(
    method: &str,
    url: &str,
    extra: &[(&str, &str)],
) -> std::io::Result<HttpResult> {
    let u = url::Url::parse(url).map_err(|e| std::io::Error::other(e.to_string()))?;
    if u.scheme() != "http" {
        return Err(std::io::Error::other("http_get: only http:// URLs"));
    }
    let host = u.host_str().unwrap_or("127.0.0.1").to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let mut path = u.path().to_string();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut s = TcpStream::connect((host.as_str(), port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut more = String::new();
    for (k, v) in extra {
        more.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nAccept-Encoding: identity\r\n{more}\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_http_response(&raw)
}

/// POST `body` to `url` (http only) with `Connection: close`, like [`http_get`].
pub fn http_post(url: &str, content_type: &str, body: &[u8]) -> std::io::Result<HttpResult> {
    let u = url::Url::parse(url).map_err(|e| std::io::Error::other(e.to_string()))?;
    let host = u.host_str().unwrap_or("127.0.0.1").to_string();
    let port = u.port_or_known_default().unwrap_or(80);
    let mut s = TcpStream::connect((host.as_str(), port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        u.path(),
        body.len()
    )?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_http_response(&raw)
}

/// Parses a complete HTTP/1.x response (as read until close).
pub fn parse_http_response(raw: &[u8]) -> std::io::Result<HttpResult> {
    let bad = |m: &str| std::io::Error::other(format!("bad HTTP response: {m}"));
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty"))?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(status_line))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("chunked framing"))?;
    }
    Ok((status, headers, body))
}

/// Removes HTTP/1.1 chunked framing; None if the framing is broken.
pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; tiny race window).
pub fn free_port() -> u16 {
    StdTcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
