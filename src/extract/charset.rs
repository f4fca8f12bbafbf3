//! Picking and applying a page's character encoding.
//!
//! Order (WHATWG "encoding sniffing", simplified): byte order mark, HTTP `charset`,
//! a `<meta>` prescan of the first 1024 bytes, then chardetng. A declared label that
//! does not fit the bytes (GBK served as `charset=utf-8` or `iso-8859-1`) is overruled by
//! detection when the detected encoding decodes the bytes cleanly.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{
    BIG5, EUC_JP, EUC_KR, Encoding, GB18030, GBK, ISO_2022_JP, SHIFT_JIS, UTF_8, UTF_16BE,
    UTF_16LE, WINDOWS_1252, X_USER_DEFINED,
};

/// How many bytes chardetng looks at. Detection is linear, but there is no need to
/// read a whole 20 MB page to recognise its encoding.
const DETECT_LIMIT: usize = 256 * 1024;

/// A body decoded to UTF-8, and how its encoding was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    /// `"bom"`, `"http"`, `"meta"`, `"detected"` or `"default"`.
    pub source: &'static str,
    /// The chosen decoder met malformed bytes (replaced with U+FFFD).
    pub had_errors: bool,
}

/// Decodes an HTML (or text) body to UTF-8. `content_type` is the raw `Content-Type`
/// header value, if any.
pub fn decode_text(body: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, had_errors) = enc.decode_without_bom_handling(&body[bom_len..]);
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            source: "bom",
            had_errors,
        };
    }

    let declared = content_type
        .and_then(charset_param)
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .map(|e| (fix_declared(e, false), "http"))
        .or_else(|| {
            prescan_meta(&body[..body.len().min(1024)]).map(|e| (fix_declared(e, true), "meta"))
        });

    if let Some((enc, source)) = declared {
        let (text, had_errors) = enc.decode_without_bom_handling(body);
        let suspicious = if had_errors {
            // A body cut by the size limit may end inside a character: that alone is
            // not a sign of a wrong label.
            !decodes_cleanly(enc, body)
        } else {
            is_single_byte(enc) && !body.is_ascii()
        };
        if suspicious {
            let guess = detect(body);
            if guess != enc
                && (had_errors || !is_single_byte(guess))
                && decodes_cleanly(guess, body)
            {
                let (text, errs) = guess.decode_without_bom_handling(body);
                return Decoded {
                    text: text.into_owned(),
                    encoding: guess,
                    source: "detected",
                    had_errors: errs,
                };
            }
        }
        return Decoded {
            text: text.into_owned(),
            encoding: enc,
            source,
            had_errors,
        };
    }

    if body.is_ascii() {
        // Nothing to detect; UTF-8 is the honest name for plain ASCII.
        return Decoded {
            text: String::from_utf8_lossy(body).into_owned(),
            encoding: UTF_8,
            source: "default",
            had_errors: false,
        };
    }
    let guess = detect(body);
    let (text, had_errors) = guess.decode_without_bom_handling(body);
    Decoded {
        text: text.into_owned(),
        encoding: guess,
        source: "detected",
        had_errors,
    }
}

/// chardetng's guess over the first [`DETECT_LIMIT`] bytes.
fn detect(body: &[u8]) -> &'static Encoding {
    let mut det = EncodingDetector::new(Iso2022JpDetection::Deny);
    let n = body.len().min(DETECT_LIMIT);
    det.feed(&body[..n], true);
    det.guess(None, Utf8Detection::Allow)
}

/// Whether `bytes` decode without a single malformed sequence. An incomplete character
/// at the very end (a body cut by the size limit) is not counted.
fn decodes_cleanly(enc: &'static Encoding, bytes: &[u8]) -> bool {
    if enc == UTF_8 {
        return match std::str::from_utf8(bytes) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        };
    }
    let mut dec = enc.new_decoder_without_bom_handling();
    let Some(cap) = dec.max_utf8_buffer_length_without_replacement(bytes.len()) else {
        return false;
    };
    let mut dst = String::with_capacity(cap);
    let (res, _) = dec.decode_to_string_without_replacement(bytes, &mut dst, false);
    matches!(res, encoding_rs::DecoderResult::InputEmpty)
}

/// Encodings where every byte is one character: they never report errors, so a wrong
/// label can only be noticed by detection.
fn is_single_byte(enc: &'static Encoding) -> bool {
    !(enc == UTF_8
        || enc == GBK
        || enc == GB18030
        || enc == BIG5
        || enc == SHIFT_JIS
        || enc == EUC_JP
        || enc == EUC_KR
        || enc == ISO_2022_JP
        || enc == UTF_16LE
        || enc == UTF_16BE)
}

/// WHATWG rules for declared encodings: a `<meta>` cannot declare UTF-16 (the page was
/// readable as ASCII to find it), and `x-user-defined` means windows-1252.
fn fix_declared(enc: &'static Encoding, from_meta: bool) -> &'static Encoding {
    if from_meta && (enc == UTF_16LE || enc == UTF_16BE) {
        UTF_8
    } else if from_meta && enc == X_USER_DEFINED {
        WINDOWS_1252
    } else {
        enc
    }
}

/// The `charset` parameter of a Content-Type value (`text/html; charset="gbk"`), or of
/// a `<meta http-equiv content>` value.
pub(crate) fn charset_param(ct: &str) -> Option<&str> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = &ct[at + "charset".len()..];
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| c == ';' || c == '"' || c == '\'' || c.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let label = &rest[..end];
    (!label.is_empty()).then_some(label)
}

/// A simplified WHATWG `<meta>` prescan: `<meta charset=...>` or
/// `<meta http-equiv=content-type content="...charset=...">`, skipping comments.
fn prescan_meta(head: &[u8]) -> Option<&'static Encoding> {
    let mut i = 0;
    while i < head.len() {
        if head[i..].starts_with(b"<!--") {
            i = match find(&head[i + 4..], b"-->") {
                Some(p) => i + 4 + p + 3,
                None => return None,
            };
            continue;
        }
        if head[i] == b'<'
            && head.len() >= i + 6
            && head[i + 1..i + 5].eq_ignore_ascii_case(b"meta")
            && matches!(head[i + 5], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/')
        {
            let (attrs, next) = parse_attrs(head, i + 5);
            i = next;
            let mut charset = None;
            let mut http_equiv_ct = false;
            let mut content = None;
            for (name, value) in attrs {
                match name.as_str() {
                    "charset" if charset.is_none() => charset = Some(value),
                    "http-equiv" => http_equiv_ct = value.eq_ignore_ascii_case("content-type"),
                    "content" if content.is_none() => content = Some(value),
                    _ => {}
                }
            }
            let label = charset.or_else(|| {
                if http_equiv_ct {
                    content
                        .as_deref()
                        .and_then(charset_param)
                        .map(str::to_string)
                } else {
                    None
                }
            });
            if let Some(enc) = label.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
                return Some(enc);
            }
            continue;
        }
        i += 1;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads attributes after a tag name up to `>`; returns them (names lower-cased) and
/// the index after the tag.
fn parse_attrs(b: &[u8], mut i: usize) -> (Vec<(String, String)>, usize) {
    let mut out = Vec::new();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/');
    loop {
        while i < b.len() && ws(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return (out, i);
        }
        if b[i] == b'>' {
            return (out, i + 1);
        }
        let start = i;
        while i < b.len() && !ws(b[i]) && b[i] != b'=' && b[i] != b'>' {
            i += 1;
        }
        let name = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vs..i]).into_owned();
                i = (i + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>')
                {
                    i += 1;
                }
                value = String::from_utf8_lossy(&b[vs..i]).into_owned();
            }
        }
        if !name.is_empty() {
            out.push((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charset_param_forms() {
        assert_eq!(charset_param("text/html; charset=GBK"), Some("GBK"));
        assert_eq!(charset_param("text/html;charset=\"utf-8\""), Some("utf-8"));
        assert_eq!(charset_param("text/html"), None);
    }

    #[test]
    fn meta_prescan_both_forms() {
        assert_eq!(
            prescan_meta(b"<html><head><meta charset=\"gb2312\">"),
            Some(GBK)
        );
        assert_eq!(
            prescan_meta(b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\">"),
            Some(BIG5)
        );
        assert_eq!(prescan_meta(b"<!-- <meta charset=big5> --><p>hi"), None);
    }

    #[test]
    fn truncated_utf8_is_not_mislabelled() {
        let mut body = "<p>反诈中心冻结了我的银行卡</p>".repeat(10).into_bytes();
        body.truncate(body.len() - 6); // cut inside a character
        let d = decode_text(&body, Some("text/html; charset=utf-8"));
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.source, "http");
    }
}
