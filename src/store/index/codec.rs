//! How the index stores record ids, digests, dates, file names, record types and content
//! types (schema 2, docs/archive.md "The index"): as the bytes or numbers they stand for
//! (a record id as its 16 UUID bytes, a digest as its 32 bytes, a WARC date as
//! microseconds since 1970, a file name as its serial, a type as a small number), and as
//! the text itself whenever the value is not in exactly that form. Every encoding is
//! checked to give back the very same text before it is used, so what the index answers
//! is unchanged; only its size is.
//!
//! The columns holding these are declared `BLOB` (no type affinity), so SQLite keeps a
//! blob, an integer or a text as given.

use crate::store::warc::{kind, mime};
use rusqlite::types::{FromSqlError, Value, ValueRef};

/// A record id: `<urn:uuid:…>` in lowercase hyphenated form as its 16 bytes.
pub fn id(s: &str) -> Value {
    match uuid_of(s) {
        Some(b) => Value::Blob(b.to_vec()),
        None => Value::Text(s.to_string()),
    }
}

fn uuid_of(s: &str) -> Option<[u8; 16]> {
    let inner = s.strip_prefix("<urn:uuid:")?.strip_suffix('>')?;
    let u = uuid::Uuid::parse_str(inner).ok()?;
    (u.hyphenated().to_string() == inner).then(|| *u.as_bytes())
}

fn uuid_text(b: &[u8]) -> Option<String> {
    let u = uuid::Uuid::from_slice(b).ok()?;
    Some(format!("<urn:uuid:{}>", u.hyphenated()))
}

/// A stored record id back as text.
pub fn id_text(v: ValueRef) -> Result<String, FromSqlError> {
    match v {
        ValueRef::Blob(b) if b.len() == 16 => uuid_text(b).ok_or(FromSqlError::InvalidType),
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// An optional record id back as text.
pub fn id_text_opt(v: ValueRef) -> Result<Option<String>, FromSqlError> {
    match v {
        ValueRef::Null => Ok(None),
        v => id_text(v).map(Some),
    }
}

/// A list of record ids: the ids' 16 bytes one after another when every one has that
/// form (an empty list is an empty blob), else the list as JSON text.
pub fn ids(list: &[String]) -> Value {
    let mut out = Vec::with_capacity(list.len() * 16);
    for s in list {
        match uuid_of(s) {
            Some(b) => out.extend_from_slice(&b),
            None => return Value::Text(serde_json::to_string(list).unwrap_or_default()),
        }
    }
    Value::Blob(out)
}

/// A stored list of record ids back as text.
pub fn ids_text(v: ValueRef) -> Result<Vec<String>, FromSqlError> {
    match v {
        ValueRef::Blob(b) if b.len() % 16 == 0 => b
            .chunks(16)
            .map(|c| uuid_text(c).ok_or(FromSqlError::InvalidType))
            .collect(),
        ValueRef::Text(t) => serde_json::from_slice(t).map_err(|e| FromSqlError::Other(e.into())),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// A digest: `sha256:<64 lowercase hex>` as its 32 bytes.
pub fn digest(s: Option<&str>) -> Value {
    let Some(s) = s else { return Value::Null };
    match s
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && !h.bytes().any(|c| c.is_ascii_uppercase()))
        .and_then(|h| hex::decode(h).ok())
    {
        Some(b) => Value::Blob(b),
        None => Value::Text(s.to_string()),
    }
}

/// A stored digest back as text.
pub fn digest_text(v: ValueRef) -> Result<Option<String>, FromSqlError> {
    match v {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) if b.len() == 32 => Ok(Some(format!("sha256:{}", hex::encode(b)))),
        ValueRef::Text(t) => Ok(Some(String::from_utf8_lossy(t).into_owned())),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// A date: a WARC date in samizdat's form (`2026-11-25T20:03:55.772434Z`) as
/// microseconds since 1970-01-01.
pub fn date(s: &str) -> Value {
    match s.parse::<jiff::Timestamp>() {
        Ok(t) if crate::store::warc::warc_date(t) == s => Value::Integer(t.as_microsecond()),
        _ => Value::Text(s.to_string()),
    }
}

/// A stored date back as text.
pub fn date_text(v: ValueRef) -> Result<String, FromSqlError> {
    match v {
        ValueRef::Integer(n) => jiff::Timestamp::from_microsecond(n)
            .map(crate::store::warc::warc_date)
            .map_err(|e| FromSqlError::Other(e.into())),
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// A stored date back as text, or None for NULL.
pub fn date_text_opt(v: ValueRef) -> Result<Option<String>, FromSqlError> {
    match v {
        ValueRef::Null => Ok(None),
        v => date_text(v).map(Some),
    }
}

/// A WARC file name: `samizdat-<8 digits>.warc.gz` as its serial.
pub fn file(s: &str) -> Value {
    match s
        .strip_prefix("samizdat-")
        .and_then(|r| r.strip_suffix(".warc.gz"))
        .filter(|d| d.len() == 8 && d.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|d| d.parse::<i64>().ok())
    {
        Some(n) => Value::Integer(n),
        None => Value::Text(s.to_string()),
    }
}

/// A stored file name back as text.
pub fn file_text(v: ValueRef) -> Result<String, FromSqlError> {
    match v {
        ValueRef::Integer(n) if (0..100_000_000).contains(&n) => {
            Ok(format!("samizdat-{n:08}.warc.gz"))
        }
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// The record types samizdat writes, by number (never renumbered: stored).
const TYPES: &[&str] = &[
    kind::WARCINFO,
    kind::REQUEST,
    kind::RESPONSE,
    kind::RESOURCE,
    kind::METADATA,
    kind::REVISIT,
];

/// The content types samizdat writes, by number (never renumbered: stored).
const CONTENT_TYPES: &[&str] = &[
    mime::WARC_FIELDS,
    mime::HTTP_REQUEST,
    mime::HTTP_RESPONSE,
    mime::POST,
    mime::CHECK,
    mime::WATCH,
    "application/pkix-cert",
];

fn coded(table: &[&str], s: &str) -> Value {
    match table.iter().position(|t| *t == s) {
        Some(i) => Value::Integer(i as i64 + 1),
        None => Value::Text(s.to_string()),
    }
}

fn coded_text(table: &[&str], v: ValueRef) -> Result<String, FromSqlError> {
    match v {
        ValueRef::Integer(n) => usize::try_from(n - 1)
            .ok()
            .and_then(|i| table.get(i))
            .map(|s| s.to_string())
            .ok_or(FromSqlError::OutOfRange(n)),
        ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
        _ => Err(FromSqlError::InvalidType),
    }
}

/// A record type.
pub fn warc_type(s: &str) -> Value {
    coded(TYPES, s)
}

/// A stored record type back as text.
pub fn warc_type_text(v: ValueRef) -> Result<String, FromSqlError> {
    coded_text(TYPES, v)
}

/// A content type.
pub fn content_type(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| coded(CONTENT_TYPES, s))
}

/// A stored content type back as text.
pub fn content_type_text(v: ValueRef) -> Result<Option<String>, FromSqlError> {
    match v {
        ValueRef::Null => Ok(None),
        v => coded_text(CONTENT_TYPES, v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back<T>(v: Value, f: impl Fn(ValueRef) -> Result<T, FromSqlError>) -> T {
        f(ValueRef::from(&v)).unwrap()
    }

    #[test]
    fn every_encoding_gives_back_the_same_text_and_odd_forms_stay_text() {
        let id_ = "<urn:uuid:0f8e9a6c-1b2d-4e3f-8a9b-0c1d2e3f4a5b>";
        assert!(matches!(id(id_), Value::Blob(ref b) if b.len() == 16));
        assert_eq!(back(id(id_), id_text), id_);
        for odd in [
            "<urn:uuid:0F8E9A6C-1B2D-4E3F-8A9B-0C1D2E3F4A5B>",
            "<urn:uuid:0f8e9a6c1b2d4e3f8a9b0c1d2e3f4a5b>",
            "<urn:uuid:a>",
            "urn:uuid:0f8e9a6c-1b2d-4e3f-8a9b-0c1d2e3f4a5b",
        ] {
            assert!(matches!(id(odd), Value::Text(_)), "{odd}");
            assert_eq!(back(id(odd), id_text), odd);
        }
        let list = vec![id_.to_string(), id_.replace("0f8e", "1f8e")];
        assert!(matches!(ids(&list), Value::Blob(ref b) if b.len() == 32));
        assert_eq!(back(ids(&list), ids_text), list);
        assert_eq!(back(ids(&[]), ids_text), Vec::<String>::new());
        let mixed = vec![id_.to_string(), "<urn:uuid:a>".to_string()];
        assert!(matches!(ids(&mixed), Value::Text(_)));
        assert_eq!(back(ids(&mixed), ids_text), mixed);

        let d = format!("sha256:{}", "ab".repeat(32));
        assert!(matches!(digest(Some(&d)), Value::Blob(ref b) if b.len() == 32));
        assert_eq!(back(digest(Some(&d)), digest_text), Some(d.clone()));
        for odd in [
            d.to_uppercase(),
            "sha1:ABC".into(),
            format!("sha256:{}", "ab".repeat(31)),
        ] {
            assert!(matches!(digest(Some(&odd)), Value::Text(_)), "{odd}");
            assert_eq!(back(digest(Some(&odd)), digest_text), Some(odd));
        }
        assert_eq!(back(digest(None), digest_text), None);

        let t = "2026-11-25T20:03:55.772434Z";
        assert!(matches!(date(t), Value::Integer(_)));
        assert_eq!(back(date(t), date_text), t);
        for odd in [
            "2026-11-25T20:03:55Z",
            "2026-11-25T20:03:55.7724Z",
            "yesterday",
        ] {
            assert!(matches!(date(odd), Value::Text(_)), "{odd}");
            assert_eq!(back(date(odd), date_text), odd);
        }

        let f = "samizdat-00000012.warc.gz";
        assert_eq!(file(f), Value::Integer(12));
        assert_eq!(back(file(f), file_text), f);
        for odd in ["samizdat-12.warc.gz", "other.warc.gz"] {
            assert!(matches!(file(odd), Value::Text(_)));
            assert_eq!(back(file(odd), file_text), odd);
        }

        // The partial index `records_warcinfo` and `Index::warcinfo_of` name it by number.
        assert_eq!(warc_type(kind::WARCINFO), Value::Integer(1));
        for t in TYPES.iter().chain(["damaged"].iter()) {
            assert_eq!(back(warc_type(t), warc_type_text), *t);
        }
        for c in CONTENT_TYPES.iter().chain(["text/html"].iter()) {
            assert_eq!(
                back(content_type(Some(c)), content_type_text),
                Some(c.to_string())
            );
        }
        assert_eq!(back(content_type(None), content_type_text), None);
    }
}
