//! The technical report of an evidence bundle (issue 16, docs/evidence.md): `report.html`,
//! what was collected, when, how and by whom, every digest, the proofs and timestamps, the
//! custody events, what is and is not proven, and a certification template; and the facts
//! the stamped screenshot and `provenance.json` are made of.
//!
//! Pure and deterministic: the same records make the same bytes, so `verify-bundle` renders
//! the report again from what the bundle's records prove and compares it byte for byte.
//! `report.pdf` is this page printed by the browser ([`crate::capture::browser::print_pdf`]);
//! a PDF is not reproducible byte for byte, so `verify-bundle` only checks its shape.

use super::bundle::{Comments, RecMeta, esc};
use super::tsp::TokenInfo;
use crate::store::bodies::RenderFacts;
use crate::store::views::{CustodyView, PostView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One provenance record of the bundle (`provenance.json` is the list of them, leaf order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvenanceEntry {
    pub record_id: String,
    pub leaf: u64,
    /// The record's body as it is (docs/provenance.md).
    pub provenance: serde_json::Value,
}

/// `provenance.json`'s bytes.
pub fn provenance_json(entries: &[ProvenanceEntry]) -> String {
    serde_json::to_string_pretty(entries).unwrap_or_default()
}

/// The render a bundle shows: the newest.
pub fn newest_render(view: &PostView) -> Option<&RenderFacts> {
    view.renders.last()
}

/// The provenance record of the capture that made `render` (the capture whose records
/// include its screenshot).
pub fn provenance_of<'a>(
    view: &PostView,
    render: &RenderFacts,
    entries: &'a [ProvenanceEntry],
) -> Option<&'a ProvenanceEntry> {
    let cap = view
        .captures
        .iter()
        .find(|c| c.record_ids.contains(&render.screenshot.record_id))?;
    entries
        .iter()
        .find(|e| cap.record_ids.contains(&e.record_id))
}

/// The lines of the strip above the screenshot's pixels (docs/evidence.md).
pub fn stamp_lines(
    post_id: &str,
    render: &RenderFacts,
    prov: Option<&ProvenanceEntry>,
) -> Vec<String> {
    let clock = prov.map(|p| &p.provenance["clock"]);
    let offset = match clock.and_then(|c| c["median_offset_ms"].as_i64()) {
        Some(ms) => format!(
            "clock offset to the servers: median {ms} ms, {} answers",
            clock.and_then(|c| c["samples"].as_u64()).unwrap_or(0)
        ),
        None => "clock offset to the servers: not measured".to_string(),
    };
    vec![
        format!("samizdat evidence: screenshot of {}", render.url),
        format!("captured {} UTC (local clock); {offset}", render.at),
        format!("post {post_id}"),
        format!("screenshot record {}", render.screenshot.record_id),
        format!("SHA-256 of the record's PNG {}", render.screenshot.sha256),
    ]
}

/// What the report is made of: all of it derived from the bundle's records.
pub struct Inputs<'a> {
    pub view: &'a PostView,
    pub comments: Option<&'a Comments>,
    pub recs: &'a [RecMeta],
    pub checkpoint: &'a str,
    pub tokens: &'a [(String, std::result::Result<TokenInfo, String>)],
    pub provenance: &'a [ProvenanceEntry],
    pub custody: &'a [CustodyView],
}

/// Seconds from `a` to `b` (both RFC 3339), when both read.
fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let a: jiff::Timestamp = a.parse().ok()?;
    let b: jiff::Timestamp = b.parse().ok()?;
    Some((b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0)
}

fn row(h: &mut String, k: &str, v: &str) {
    h.push_str(&format!("<tr><th>{}</th><td>{v}</td></tr>\n", esc(k)));
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

/// `report.html`. `screenshot_src` is where the page finds the stamped screenshot
/// (`screenshot.png` in the bundle; the PDF gets it inline).
pub fn render_report(i: &Inputs, screenshot_src: &str) -> String {
    let v = i.view;
    let p = &v.post;
    let render = newest_render(v);
    let prov_of_render = render.and_then(|r| provenance_of(v, r, i.provenance));
    let newest_prov = i.provenance.last();
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'\">\n");
    h.push_str(&format!(
        "<title>Technical report: post {} — samizdat</title>\n",
        esc(&p.id.0)
    ));
    h.push_str("<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;padding:0 1em;line-height:1.45;font-size:11pt}\
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .4em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}code,pre{word-break:break-all;white-space:pre-wrap;font-size:.9em}img{max-width:100%;border:1px solid #888}\
.template{border:3px dashed #a00;padding:1em;margin-top:2em}.template h2{color:#a00}.blank{display:inline-block;min-width:18em;border-bottom:1px solid #000}\
h2{border-bottom:1px solid #ccc;margin-top:1.6em}</style>\n</head><body>\n");
    h.push_str(&format!(
        "<h1>Technical report on the capture of a public post</h1>\n<p>Post <code>{}</code> at <a href=\"{}\">{}</a>. This report was made by samizdat from the records in this bundle; every fact in it is derived from those records, and <code>samizdat verify-bundle</code> makes it again and compares it byte for byte.</p>\n",
        esc(&p.id.0),
        esc(&p.url),
        esc(&p.url)
    ));

    // 1. What was collected.
    h.push_str("<h2>1. What was collected</h2>\n<table>\n");
    row(&mut h, "URL", &code(&p.url));
    row(&mut h, "Platform", &esc(&p.platform));
    row(&mut h, "Post id", &code(&p.id.0));
    row(&mut h, "Author", &esc(p.author_label()));
    row(
        &mut h,
        "Posted (as the platform says)",
        &esc(p.created_at.as_deref().unwrap_or("not given")),
    );
    row(
        &mut h,
        "State in the archive",
        &format!(
            "{}{}",
            v.state.as_str(),
            v.cause
                .map(|c| format!(" (cause {})", c.as_str()))
                .unwrap_or_default()
        ),
    );
    row(&mut h, "Captures", &v.captures.len().to_string());
    row(&mut h, "Later checks", &v.checks.len().to_string());
    row(
        &mut h,
        "Comments, replies, reposts",
        &i.comments.map_or(0, |c| c.comments.len()).to_string(),
    );
    row(&mut h, "Records in this bundle", &i.recs.len().to_string());
    h.push_str("</table>\n<p>The text of the post as captured:</p>\n<blockquote>\n");
    for para in p.text.as_deref().unwrap_or("").split('\n') {
        h.push_str(&format!("<p>{}</p>\n", esc(para)));
    }
    h.push_str("</blockquote>\n");

    // 2. The page as a person saw it.
    h.push_str("<h2>2. The page as the browser showed it</h2>\n");
    match render {
        None => h.push_str("<p>No capture of this post was rendered in a browser: this bundle holds the HTTP exchanges and the post as data, not a screenshot.</p>\n"),
        Some(r) => {
            let lines = stamp_lines(&p.id.0, r, prov_of_render);
            h.push_str(&format!(
                "<p>The newest render, {} UTC. <code>screenshot.png</code> is the screenshot record's pixels, untouched, below a strip that says what they are; the record itself is in <code>records.warc.gz</code>. The strip reads:</p>\n<pre>{}</pre>\n",
                esc(&r.at),
                esc(&lines.join("\n"))
            ));
            h.push_str(&format!(
                "<p><img alt=\"the stamped screenshot\" src=\"{}\"></p>\n<table>\n",
                esc(screenshot_src)
            ));
            row(&mut h, "Address rendered", &code(&r.url));
            row(&mut h, "Screenshot record", &code(&r.screenshot.record_id));
            row(&mut h, "Screenshot SHA-256", &code(&r.screenshot.sha256));
            row(
                &mut h,
                "Screenshot size",
                &format!(
                    "{} × {} pixels, {} bytes",
                    r.screenshot.width.unwrap_or(0),
                    r.screenshot.height.unwrap_or(0),
                    r.screenshot.bytes
                ),
            );
            row(&mut h, "DOM record (rendered.html)", &code(&r.dom.record_id));
            row(&mut h, "DOM SHA-256", &code(&r.dom.sha256));
            row(&mut h, "Requests the browser made (recorded)", &r.exchanges.to_string());
            row(
                &mut h,
                "Page finished loading",
                if r.loaded { "yes" } else { "no: rendered as it stood when the navigation timed out" },
            );
            if r.cut {
                row(&mut h, "Cut", "the page was taller than the configured maximum; the screenshot stops there");
            }
            let w: Vec<String> = r.warnings.iter().map(|w| esc(w)).collect();
            row(&mut h, "Warnings", &if w.is_empty() { "none".to_string() } else { w.join("<br>") });
            h.push_str("</table>\n");
        }
    }

    // 3. How and by whom.
    h.push_str("<h2>3. How, with what, and by whom</h2>\n");
    if i.provenance.is_empty() {
        h.push_str("<p>No provenance record is in this bundle (captures made before samizdat wrote them).</p>\n");
    }
    if let Some(np) = newest_prov {
        let pv = &np.provenance;
        h.push_str("<table>\n");
        let collector = match pv["collector"]["name"].as_str() {
            Some(n) => format!(
                "{}{}",
                esc(n),
                pv["collector"]["organisation"]
                    .as_str()
                    .map(|o| format!(", {}", esc(o)))
                    .unwrap_or_default()
            ),
            None => "not recorded ([collector] name was not set)".into(),
        };
        row(&mut h, "Collector (newest capture)", &collector);
        row(
            &mut h,
            "Tool",
            &format!(
                "{} {}",
                esc(pv["tool"]["name"].as_str().unwrap_or("?")),
                esc(pv["tool"]["version"].as_str().unwrap_or("?"))
            ),
        );
        row(
            &mut h,
            "Operating system",
            &esc(pv["os"].as_str().unwrap_or("?")),
        );
        row(
            &mut h,
            "Asked for through",
            &esc(pv["via"].as_str().unwrap_or("?")),
        );
        h.push_str("</table>\n");
    }
    for e in i.provenance {
        let pv = &e.provenance;
        h.push_str(&format!(
            "<h3>Capture batch of {} (provenance record <code>{}</code>, leaf {})</h3>\n",
            esc(pv["at"].as_str().unwrap_or("?")),
            esc(&e.record_id),
            e.leaf
        ));
        let c = &pv["clock"];
        h.push_str(&format!(
            "<p>Clock: {} answers with a <code>Date</code>; median offset {} ms, spread {} ms, bound {} ms{}.</p>\n",
            c["samples"].as_u64().unwrap_or(0),
            c["median_offset_ms"].as_i64().map_or("—".into(), |x| x.to_string()),
            c["spread_ms"].as_i64().map_or("—".into(), |x| x.to_string()),
            c["bound_ms"].as_u64().unwrap_or(0),
            c["warning"].as_str().map(|w| format!("; <b>warning: {}</b>", esc(w))).unwrap_or_default()
        ));
        if let Some(b) = pv.get("browser").filter(|b| !b.is_null()) {
            h.push_str(&format!(
                "<p>Browser: {} ({}), sandbox {}{}.</p>\n",
                esc(b["version"].as_str().unwrap_or("?")),
                esc(b["path"].as_str().unwrap_or("?")),
                if b["sandboxed"].as_bool() == Some(true) {
                    "on"
                } else {
                    "<b>off</b>"
                },
                b["no_sandbox_reason"]
                    .as_str()
                    .map(|r| format!(" ({})", esc(r)))
                    .unwrap_or_default()
            ));
        }
        let ex = pv["exchanges"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        if !ex.is_empty() {
            h.push_str("<table><tr><th>sent (local clock)</th><th>address</th><th>answered by</th><th>server Date</th><th>offset ms</th></tr>\n");
            for x in ex {
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    esc(x["sent"].as_str().unwrap_or("")),
                    code(x["uri"].as_str().unwrap_or("")),
                    esc(x["peer"].as_str().unwrap_or("not recorded")),
                    esc(x["date_header"].as_str().unwrap_or("none")),
                    x["offset_ms"]
                        .as_i64()
                        .map_or("—".into(), |o| o.to_string())
                ));
            }
            h.push_str("</table>\n");
        }
    }
    h.push_str("<p>Every provenance record is in <code>provenance.json</code> as it was written, and in <code>records.warc.gz</code> as a leaf of the log.</p>\n");

    // 4. Digests.
    h.push_str("<h2>4. Every record and its digest</h2>\n<table><tr><th>leaf</th><th>type</th><th>date (UTC)</th><th>target</th><th>block digest</th><th>record id</th></tr>\n");
    for r in i.recs {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            r.leaf,
            esc(&r.warc_type),
            esc(&r.date),
            code(r.target.as_deref().unwrap_or("")),
            code(r.block_digest.as_deref().unwrap_or("")),
            code(&r.id)
        ));
    }
    h.push_str("</table>\n");

    // 5. Proofs and timestamps.
    h.push_str("<h2>5. The log, its signed checkpoint and the timestamps</h2>\n");
    h.push_str("<p>Each record above is a leaf of samizdat's append-only Merkle log (RFC 6962 hashing); <code>proofs.json</code> holds each leaf's inclusion proof against this signed checkpoint:</p>\n");
    h.push_str(&format!("<pre>{}</pre>\n", esc(i.checkpoint)));
    h.push_str(&format!(
        "<p>SHA-256 of the checkpoint: {}</p>\n",
        code(&hex::encode(Sha256::digest(i.checkpoint.as_bytes())))
    ));
    let newest_capture = v.captures.last().map(|c| c.at.as_str());
    if i.tokens.is_empty() {
        h.push_str("<p>No RFC 3161 timestamp covers this checkpoint: the bundle proves what the log holds, not since when by an outside clock.</p>\n");
    } else {
        h.push_str("<table><tr><th>reply</th><th>time (genTime)</th><th>authority</th><th>serial</th><th>after the newest capture</th></tr>\n");
        for (name, t) in i.tokens {
            match t {
                Ok(t) => {
                    let after = newest_capture
                        .and_then(|c| seconds_between(c, &t.gen_time))
                        .map_or("—".into(), |s| {
                            if s < 0.0 {
                                format!("{s:.3} s: the authority's time is before the capture's by the local clock, which was ahead by at least that")
                            } else {
                                format!("{s:.3} s")
                            }
                        });
                    h.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{after}</td></tr>\n",
                        code(name),
                        esc(&t.gen_time),
                        esc(&t.signer),
                        esc(&t.serial)
                    ))
                }
                Err(e) => h.push_str(&format!(
                    "<tr><td>{}</td><td colspan=\"4\">does not check: {}</td></tr>\n",
                    code(name),
                    esc(e)
                )),
            }
        }
        h.push_str("</table>\n");
    }

    // 6. Custody.
    h.push_str("<h2>6. Chain of custody</h2>\n");
    if i.custody.is_empty() {
        h.push_str("<p>No earlier export or recorded check of this post. (This bundle's own export is recorded in the archive after the file is written, so it cannot be listed in it.)</p>\n");
    } else {
        h.push_str("<table><tr><th>time (UTC)</th><th>action</th><th>by</th><th>file</th><th>SHA-256</th><th>record</th></tr>\n");
        for c in i.custody {
            let b = &c.body;
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(&b.at),
                esc(&b.action),
                esc(b
                    .collector
                    .as_ref()
                    .map_or("not recorded", |c| c.name.as_str())),
                esc(b.artifact.as_ref().map_or("", |a| a.name.as_str())),
                code(b.artifact.as_ref().map_or("", |a| a.sha256.as_str())),
                code(&c.record_id)
            ));
        }
        h.push_str("</table>\n<p>This bundle's own export is recorded in the archive after the file is written, so it is not listed here.</p>\n");
    }

    // 7. What is proven.
    h.push_str("<h2>7. What this proves, and what it does not</h2>\n<ul>\n\
<li><b>Proven, if <code>verify-bundle</code> passes with the log key the archive's operator published:</b> every record listed above was in the log when the checkpoint was signed, byte for byte; the post's text, state and history were derived from those records; <code>screenshot.png</code> is the screenshot record's pixels with the strip above them.</li>\n\
<li><b>Proven, if the timestamps check against the time-stamp authority's own certificate:</b> the checkpoint, and so every record in it, existed at the time in the timestamp.</li>\n\
<li><b>Not proven:</b> that the server that answered was honest or was the platform's; who wrote the post; that the local clock was right (its offset to the servers' clocks is written above); anything about the post after the newest check.</li>\n\
<li><b>Not proven by this file alone:</b> who the collector is: the name is what the collector configured. The certification below is where a person says so.</li>\n</ul>\n");

    // 8. How to check.
    h.push_str("<h2>8. How to check it yourself</h2>\n<pre>unzip bundle.zip -d bundle &amp;&amp; cd bundle\n\
warcio check -v records.warc.gz\n\
openssl ts -verify -data checkpoint -in checkpoint.tsr -CAfile TSA-CA.pem\n\
sha256sum rendered.html   # the DOM record's SHA-256 above\n\
samizdat verify-bundle bundle.zip --vkey LOG.vkey --tsa-ca TSA-CA.pem</pre>\n\
<p>README.txt in the bundle explains each step.</p>\n");

    // 9. The template.
    h.push_str("<div class=\"template\">\n<h2>TEMPLATE — certification of a qualified person (not completed, not signed)</h2>\n\
<p><b>This is a template, not a certification.</b> samizdat wrote it; it says nothing until a qualified person has checked the bundle, completed every blank and signed it. It follows the shape of a certification under US Federal Rules of Evidence 902(13) (records generated by an electronic process) and 902(14) (data copied from an electronic device, identified by hash value), and can serve as the outline of a witness statement elsewhere.</p>\n\
<p>I, <span class=\"blank\"></span> (name), <span class=\"blank\"></span> (position, organisation), declare:</p>\n<ol>\n\
<li>I am qualified by <span class=\"blank\"></span> (knowledge, training, experience) to describe the process samizdat uses to capture and record web content.</li>\n");
    h.push_str(&format!(
        "<li>On <span class=\"blank\"></span> I checked the evidence bundle whose file has SHA-256 <span class=\"blank\"></span> with <code>samizdat verify-bundle</code> against the log key with fingerprint <span class=\"blank\"></span> obtained from <span class=\"blank\"></span>, and the time-stamp authority certificate obtained from <span class=\"blank\"></span>; every check passed.</li>\n\
<li>The records of post <code>{}</code> (URL <code>{}</code>) in that bundle were produced by an electronic process that produces an accurate result: samizdat's capture, which records each HTTP exchange as it was received, hashes it and enters it into an append-only log, as described in sections 3 to 5 of this report.</li>\n\
<li>The screenshot record's SHA-256 is <code>{}</code> and the checkpoint's SHA-256 is <code>{}</code>; the copies I examined have these hash values.</li>\n\
<li>I declare under penalty of perjury (or: I believe the facts stated here are true) that the foregoing is true and correct.</li>\n</ol>\n\
<p>Place and date: <span class=\"blank\"></span></p>\n<p>Signature: <span class=\"blank\"></span></p>\n</div>\n",
        esc(&p.id.0),
        esc(&p.url),
        esc(render.map_or("(no render in this bundle)", |r| r.screenshot.sha256.as_str())),
        hex::encode(Sha256::digest(i.checkpoint.as_bytes()))
    ));
    h.push_str("<p style=\"color:#555;font-size:.85em\">Made by samizdat. report.pdf, when present, is this page printed by a headless browser.</p>\n</body></html>\n");
    h
}

/// The report as the browser prints it: the screenshot inline (the printing page loads
/// nothing).
pub fn report_for_print(i: &Inputs, stamped_png: Option<&[u8]>) -> String {
    use base64::Engine;
    let src = stamped_png
        .map(|b| {
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        })
        .unwrap_or_default();
    render_report(i, &src)
}

/// The shape `verify-bundle` can check of a PDF it cannot reproduce: a PDF header, an end
/// of file marker, and a page.
pub fn pdf_shape(b: &[u8]) -> Result<(), String> {
    if !b.starts_with(b"%PDF-") {
        return Err("does not start with %PDF-: not a PDF".into());
    }
    let tail = &b[b.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err("has no %%EOF at its end: cut short or appended to".into());
    }
    if !b
        .windows(10)
        .any(|w| w == b"/Type /Pag" || w == b"/Type/Page")
    {
        return Err("holds no page".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_must_be_whole_and_hold_a_page() {
        let good = b"%PDF-1.7\n1 0 obj << /Type /Page >> endobj\ntrailer\n%%EOF\n";
        assert!(pdf_shape(good).is_ok());
        assert!(pdf_shape(b"<html>").unwrap_err().contains("not a PDF"));
        assert!(
            pdf_shape(&good[..good.len() - 7])
                .unwrap_err()
                .contains("%%EOF")
        );
        assert!(
            pdf_shape(b"%PDF-1.7\ntrailer\n%%EOF\n")
                .unwrap_err()
                .contains("no page")
        );
    }

    #[test]
    fn the_strip_says_url_time_clock_post_record_and_digest() {
        let r: RenderFacts = serde_json::from_value(serde_json::json!({
            "at": "2026-12-03T07:00:00Z", "url": "https://example.org/p/1",
            "screenshot": {"record_id": "<urn:uuid:s>", "sha256": "ab", "mime": "image/png", "bytes": 1},
            "dom": {"record_id": "<urn:uuid:d>", "sha256": "cd", "mime": "text/html", "bytes": 1},
            "exchanges": 0, "loaded": true
        }))
        .unwrap();
        let prov = ProvenanceEntry {
            record_id: "<urn:uuid:p>".into(),
            leaf: 3,
            provenance: serde_json::json!({"clock": {"median_offset_ms": -120, "samples": 4}}),
        };
        let l = stamp_lines("web:1", &r, Some(&prov)).join("\n");
        for want in [
            "https://example.org/p/1",
            "2026-12-03T07:00:00Z UTC",
            "median -120 ms, 4 answers",
            "post web:1",
            "<urn:uuid:s>",
            "SHA-256 of the record's PNG ab",
        ] {
            assert!(l.contains(want), "{want} in {l}");
        }
        assert!(
            stamp_lines("web:1", &r, None)
                .join("\n")
                .contains("not measured")
        );
    }
}
