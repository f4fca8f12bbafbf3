//! The stamped screenshot of an evidence bundle (docs/evidence.md, issue 16): the
//! screenshot record's pixels, untouched, below a strip that says what they are (URL,
//! capture time in UTC, the clock's offset, the post id, the screenshot record's id and
//! SHA-256). The strip is added above the page, never drawn on it, so the page pixels of
//! `screenshot.png` are the record's pixels row for row, and `verify-bundle` makes the
//! stamp again from the record and the same lines and compares every pixel.
//!
//! Written by hand: no crate stamps text onto a PNG deterministically without a font
//! rasteriser whose output varies by version and platform; an 8x8 public-domain bitmap font
//! (font8x8) drawn at an integer scale is the same pixels everywhere.

use font8x8::legacy::BASIC_LEGACY;
use std::io::Cursor;

/// Decoded pixels at most this big (a 1280 x 16384 full-page screenshot is 80 MiB).
pub const MAX_PIXEL_BYTES: usize = 512 << 20;

/// An RGBA8 image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    /// `width * height * 4` bytes, row after row.
    pub pixels: Vec<u8>,
}

/// Decodes a PNG of any colour type and depth into RGBA8, within [`MAX_PIXEL_BYTES`].
pub fn decode(png_bytes: &[u8]) -> Result<Rgba, String> {
    let mut dec = png::Decoder::new_with_limits(
        Cursor::new(png_bytes),
        png::Limits {
            bytes: MAX_PIXEL_BYTES,
        },
    );
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec
        .read_info()
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let size = reader
        .output_buffer_size()
        .filter(|s| *s <= MAX_PIXEL_BYTES)
        .ok_or_else(|| {
            format!(
                "the PNG is larger than {} MiB of pixels",
                MAX_PIXEL_BYTES >> 20
            )
        })?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("an indexed PNG was not expanded".into()),
    };
    let mut pixels = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        let row = &buf[y * info.line_size..][..w * channels];
        for px in row.chunks_exact(channels) {
            pixels.extend_from_slice(&match channels {
                1 => [px[0], px[0], px[0], 255],
                2 => [px[0], px[0], px[0], px[1]],
                3 => [px[0], px[1], px[2], 255],
                _ => [px[0], px[1], px[2], px[3]],
            });
        }
    }
    Ok(Rgba {
        width: info.width,
        height: info.height,
        pixels,
    })
}

/// Encodes RGBA8 as a PNG (the encoder's defaults: the same bytes for the same pixels with
/// the same crate version; [`check`] compares pixels, not bytes).
pub fn encode(img: &Rgba) -> Result<Vec<u8>, String> {
    let mut out = vec![];
    {
        let mut enc = png::Encoder::new(&mut out, img.width, img.height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&img.pixels).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The glyph scale for an image `width` pixels wide: large screenshots get larger text.
fn scale(width: u32) -> u32 {
    if width >= 1000 { 2 } else { 1 }
}

/// `lines` wrapped to what fits in `width` pixels at `scale`; non-ASCII shown as `?` (the
/// font has ASCII only; the report and `provenance.json` carry the exact text).
fn wrap(lines: &[String], width: u32, scale: u32) -> Vec<Vec<u8>> {
    let per_line = ((width.saturating_sub(16 * scale)) / (8 * scale)).max(1) as usize;
    let mut out = vec![];
    for l in lines {
        let bytes: Vec<u8> = l
            .chars()
            .map(|c| {
                if c.is_ascii() && !c.is_ascii_control() {
                    c as u8
                } else {
                    b'?'
                }
            })
            .collect();
        if bytes.is_empty() {
            out.push(vec![]);
        }
        for chunk in bytes.chunks(per_line) {
            out.push(chunk.to_vec());
        }
    }
    out
}

/// The screenshot `png_bytes` with a strip above it carrying `lines`.
pub fn stamp(png_bytes: &[u8], lines: &[String]) -> Result<Vec<u8>, String> {
    encode(&stamped(&decode(png_bytes)?, lines)?)
}

/// [`stamp`] on decoded pixels.
pub fn stamped(page: &Rgba, lines: &[String]) -> Result<Rgba, String> {
    let s = scale(page.width);
    let text = wrap(lines, page.width, s);
    let line_h = 10 * s;
    let pad = 8 * s;
    let strip_h = pad * 2 + line_h * text.len() as u32 + s; // + the rule under the strip
    let height = page
        .height
        .checked_add(strip_h)
        .ok_or("the screenshot is too tall to stamp")?;
    let row = page.width as usize * 4;
    let total = row
        .checked_mul(height as usize)
        .filter(|t| *t <= MAX_PIXEL_BYTES + (strip_h as usize * row))
        .ok_or("the screenshot is too large to stamp")?;
    let mut px = vec![255u8; total];
    let mut put = |x: u32, y: u32, c: [u8; 4]| {
        if x < page.width && y < strip_h {
            let i = y as usize * row + x as usize * 4;
            px[i..i + 4].copy_from_slice(&c);
        }
    };
    for (li, l) in text.iter().enumerate() {
        for (ci, ch) in l.iter().enumerate() {
            let glyph = BASIC_LEGACY[(*ch as usize) & 0x7f];
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits >> gx & 1 == 1 {
                        for dy in 0..s {
                            for dx in 0..s {
                                put(
                                    pad + (ci as u32 * 8 + gx) * s + dx,
                                    pad + li as u32 * line_h + gy as u32 * s + dy,
                                    [0, 0, 0, 255],
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    // A rule between the strip and the page.
    for y in strip_h - s..strip_h {
        for x in 0..page.width {
            put(x, y, [128, 128, 128, 255]);
        }
    }
    px[strip_h as usize * row..].copy_from_slice(&page.pixels);
    Ok(Rgba {
        width: page.width,
        height,
        pixels: px,
    })
}

/// Checks that `stamped_png` is `record_png` stamped with `lines`: pixel for pixel, page
/// and strip.
pub fn check(stamped_png: &[u8], record_png: &[u8], lines: &[String]) -> Result<(), String> {
    let got = decode(stamped_png).map_err(|e| format!("screenshot.png: {e}"))?;
    let page = decode(record_png).map_err(|e| format!("the screenshot record: {e}"))?;
    let want = stamped(&page, lines)?;
    if (got.width, got.height) != (want.width, want.height) {
        return Err(format!(
            "screenshot.png is {}x{}, the record stamped is {}x{}",
            got.width, got.height, want.width, want.height
        ));
    }
    let row = want.width as usize * 4;
    let strip = want.pixels.len() - page.pixels.len();
    if got.pixels[strip..] != page.pixels[..] {
        let bad = got.pixels[strip..]
            .chunks(row)
            .zip(page.pixels.chunks(row))
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(format!(
            "screenshot.png's page pixels differ from the screenshot record's (first at page row {bad})"
        ));
    }
    if got.pixels[..strip] != want.pixels[..strip] {
        return Err("screenshot.png's strip does not say what the bundle says".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: u32, h: u32) -> Rgba {
        let mut pixels = vec![];
        for y in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(&[(x % 251) as u8, (y % 241) as u8, 7, 255]);
            }
        }
        Rgba {
            width: w,
            height: h,
            pixels,
        }
    }

    fn lines() -> Vec<String> {
        vec![
            "URL: https://weibo.com/1234567890/Nabcdef".into(),
            "Captured (UTC): 2026-12-03T05:00:00Z  clock offset +0.2 s".into(),
            "SHA-256: ".to_string() + &"ab".repeat(32),
        ]
    }

    #[test]
    fn the_page_pixels_are_kept_row_for_row_below_the_strip() {
        let p = page(320, 40);
        let png = encode(&p).unwrap();
        let out = decode(&stamp(&png, &lines()).unwrap()).unwrap();
        assert_eq!(out.width, 320);
        assert!(out.height > 40);
        let strip = out.pixels.len() - p.pixels.len();
        assert_eq!(&out.pixels[strip..], &p.pixels[..]);
        // The strip has text: black pixels somewhere in it.
        assert!(out.pixels[..strip].chunks(4).any(|c| c == [0, 0, 0, 255]));
        check(&encode(&out).unwrap(), &png, &lines()).unwrap();
    }

    #[test]
    fn a_changed_pixel_or_a_changed_line_is_found() {
        let p = page(200, 30);
        let png = encode(&p).unwrap();
        let mut out = decode(&stamp(&png, &lines()).unwrap()).unwrap();
        let n = out.pixels.len();
        out.pixels[n - 4] ^= 0xff;
        let e = check(&encode(&out).unwrap(), &png, &lines()).unwrap_err();
        assert!(e.contains("page pixels"), "{e}");
        let mut other = lines();
        other[0] = "URL: https://weibo.com/1234567890/Nzzzzzz".into();
        let e = check(&stamp(&png, &lines()).unwrap(), &png, &other).unwrap_err();
        assert!(e.contains("strip"), "{e}");
    }

    #[test]
    fn long_lines_wrap_and_wide_pages_get_larger_text() {
        let narrow = stamped(&page(100, 1), &lines()).unwrap();
        let wide = stamped(&page(1280, 1), &lines()).unwrap();
        // 100 px holds 10 glyphs a line: the 9-char prefix + 64 hex digits wrap to 8 lines.
        assert!(
            narrow.height > wide.height / 2,
            "{} {}",
            narrow.height,
            wide.height
        );
        assert_eq!(scale(1280), 2);
        assert_eq!(wrap(&["é".into()], 100, 1), vec![b"?".to_vec()]);
    }

    #[test]
    fn what_is_not_a_png_is_refused() {
        assert!(
            decode(b"GIF89a....")
                .unwrap_err()
                .contains("not a readable PNG")
        );
    }
}
