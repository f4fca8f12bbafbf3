//! Runs platform plans over HTTP (to be written).

/// Request and response headers whose values are secrets: stored redacted.
pub fn is_secret_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "cookie" | "authorization" | "proxy-authorization" | "set-cookie" | "x-xsrf-token"
    )
}
