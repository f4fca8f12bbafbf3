//! Post ids: the numeric **mid** and the base62 **bid** (`KktFEsjrO`), and the URLs made of them.

use super::API;

const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn b62_encode(mut n: u64) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    out.reverse();
    // The alphabet is ASCII: each byte is one char.
    out.into_iter().map(char::from).collect()
}

fn b62_decode(s: &str) -> Option<u64> {
    let mut n: u64 = 0;
    for c in s.bytes() {
        let d = ALPHABET.iter().position(|&a| a == c)? as u64;
        n = n.checked_mul(62)?.checked_add(d)?;
    }
    Some(n)
}

/// The base62 bid (`KktFEsjrO`) of a numeric mid (`4648806186747944`).
pub fn mid_to_bid(mid: &str) -> Option<String> {
    if mid.is_empty() || mid.len() > 40 || !mid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = mid.as_bytes();
    let mut groups = Vec::new();
    let mut end = bytes.len();
    while end > 0 {
        let start = end.saturating_sub(7);
        groups.push(&mid[start..end]);
        end = start;
    }
    groups.reverse();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        let enc = b62_encode(g.parse().ok()?);
        if i > 0 {
            out.push_str(&"0".repeat(4usize.saturating_sub(enc.len())));
        }
        out.push_str(&enc);
    }
    Some(out)
}

/// The numeric mid of a base62 bid.
pub fn bid_to_mid(bid: &str) -> Option<String> {
    if bid.is_empty() || bid.len() > 24 || !bid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut groups = Vec::new();
    let mut end = bid.len();
    while end > 0 {
        let start = end.saturating_sub(4);
        groups.push(&bid[start..end]);
        end = start;
    }
    groups.reverse();
    let mut out = String::new();
    for (i, g) in groups.iter().enumerate() {
        let n = b62_decode(g)?;
        if i > 0 {
            if n > 9_999_999 {
                return None;
            }
            out.push_str(&format!("{n:07}"));
        } else {
            out.push_str(&n.to_string());
        }
    }
    Some(out)
}

pub(super) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A mid from either a mid or a bid.
pub(super) fn to_mid(id: &str) -> Option<String> {
    if is_digits(id) {
        Some(id.to_string())
    } else {
        bid_to_mid(id)
    }
}

pub fn detail_url(mid: &str) -> String {
    format!("{API}/detail/{mid}")
}

pub(super) fn account_url(uid: &str) -> String {
    format!("https://weibo.com/u/{uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIRS: &[(&str, &str)] = &[
        ("4645748019299849", "Kjc77D1jz"),
        ("4649031014551911", "Kkzwhj69V"),
        ("4648806186747944", "KktFEsjrO"),
        ("3439466943518422", "ygyImeLiK"),
        ("4607741009594608", "K3fnuEfZK"),
        ("4387933362623405", "HATy0b0sZ"),
        ("5224958596222067", "QathNq6DV"),
        ("5232630992732508", "QdGSDbsQI"),
    ];

    #[test]
    fn mid_bid_pairs_both_ways() {
        for (mid, bid) in PAIRS {
            assert_eq!(mid_to_bid(mid).as_deref(), Some(*bid), "mid {mid}");
            assert_eq!(bid_to_mid(bid).as_deref(), Some(*mid), "bid {bid}");
        }
    }

    #[test]
    fn mid_bid_rejects_garbage() {
        assert_eq!(mid_to_bid(""), None);
        assert_eq!(mid_to_bid("12a"), None);
        assert_eq!(bid_to_mid("Kk-zw"), None);
        assert_eq!(bid_to_mid(""), None);
        // A 4-char group above 9999999 is no bid.
        assert_eq!(bid_to_mid("KZZZZ"), None);
        // Groups of zeros keep their padding.
        assert_eq!(mid_to_bid("10000000").as_deref(), Some("10000"));
        assert_eq!(bid_to_mid("10000").as_deref(), Some("10000000"));
    }
}
