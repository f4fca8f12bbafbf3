//! Just enough DER to read RFC 3161 replies and X.509 certificates, and to write a
//! TimeStampReq. Single-byte tags only (all that CMS, TSP and X.509 need here); definite
//! lengths only (DER forbids the indefinite form).

/// One tag-length-value.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    /// The value bytes.
    pub content: &'a [u8],
    /// Tag, length and value: the element exactly as encoded.
    pub raw: &'a [u8],
}

pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[n]` constructed context tag.
    pub const fn ctx(n: u8) -> u8 {
        0xa0 | n
    }
}

/// Reads the elements of one DER value's content, in order.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    data: &'a [u8],
}

pub type DerResult<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self) -> DerResult<Tlv<'a>> {
        let d = self.data;
        if d.len() < 2 {
            return Err("truncated DER element".into());
        }
        let tag = d[0];
        if tag & 0x1f == 0x1f {
            return Err("multi-byte DER tags are not supported".into());
        }
        let (len, hdr) = if d[1] < 0x80 {
            (d[1] as usize, 2)
        } else {
            let n = (d[1] & 0x7f) as usize;
            if n == 0 || n > 4 || d.len() < 2 + n {
                return Err("bad DER length".into());
            }
            let mut l = 0usize;
            for b in &d[2..2 + n] {
                l = (l << 8) | *b as usize;
            }
            (l, 2 + n)
        };
        if d.len() < hdr + len {
            return Err("DER element runs past its container".into());
        }
        let raw = &d[..hdr + len];
        self.data = &d[hdr + len..];
        Ok(Tlv {
            tag,
            content: &raw[hdr..],
            raw,
        })
    }

    /// The next element, which must have tag `t`.
    pub fn expect(&mut self, t: u8) -> DerResult<Tlv<'a>> {
        let e = self.any()?;
        if e.tag != t {
            return Err(format!("DER: expected tag {t:#04x}, found {:#04x}", e.tag));
        }
        Ok(e)
    }

    /// The next element if it has tag `t`.
    pub fn optional(&mut self, t: u8) -> DerResult<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(t) {
            self.expect(t).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A SEQUENCE's content as a reader.
    pub fn seq(&mut self) -> DerResult<Reader<'a>> {
        Ok(Reader::new(self.expect(tag::SEQUENCE)?.content))
    }
}

/// Parses `data` as exactly one element.
pub fn one(data: &[u8]) -> DerResult<Tlv<'_>> {
    let mut r = Reader::new(data);
    let e = r.any()?;
    if !r.is_empty() {
        return Err("trailing bytes after a DER element".into());
    }
    Ok(e)
}

/// Encodes one element.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Dotted form of OID content bytes, for messages.
pub fn oid_string(c: &[u8]) -> String {
    let mut parts = vec![];
    let mut v: u64 = 0;
    for (i, b) in c.iter().enumerate() {
        v = (v << 7) | (*b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() && i < c.len() {
                let (a, b) = if v < 40 {
                    (0, v)
                } else if v < 80 {
                    (1, v - 40)
                } else {
                    (2, v - 80)
                };
                parts.push(a.to_string());
                parts.push(b.to_string());
            } else {
                parts.push(v.to_string());
            }
            v = 0;
        }
    }
    parts.join(".")
}

/// OID content bytes used here.
pub mod oid {
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    pub const SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
    pub const SHA512: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03];
    pub const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
    pub const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    pub const TST_INFO: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
    ];
    pub const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
    pub const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
    pub const SIGNING_CERT: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
    ];
    pub const SIGNING_CERT_V2: &[u8] = &[
        0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
    ];
    pub const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    pub const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    pub const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    pub const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    pub const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
    pub const TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let v = vec![7u8; n];
            let enc = tlv(tag::OCTET_STRING, &v);
            let e = one(&enc).unwrap();
            assert_eq!(e.content.len(), n);
            assert_eq!(e.raw, &enc[..]);
        }
        assert!(one(&[0x04, 0x05, 1, 2]).is_err());
        assert_eq!(oid_string(oid::TIME_STAMPING), "1.3.6.1.5.5.7.3.8");
        assert_eq!(oid_string(oid::SHA256), "2.16.840.1.101.3.4.2.1");
    }
}
