//! What each fuzz target does with its input (one function per target, so a crash found
//! by `fuzz_targets/<name>.rs` replays with a plain call).
//!
//! No unsafe code here; the target binaries cannot forbid it (see `src/lib.rs` of samizdat).

#![forbid(unsafe_code)]

use samizdat::platforms::{self, Fetched, Job, PlanContext, Response, Target};
use samizdat::store::warc;

/// The WARC reader: members (with resynchronisation past damage), records, digests.
pub fn warc_reader(data: &[u8]) {
    for item in warc::scan_bytes(data, 1 << 24) {
        if let Ok(warc::Scanned::Member(m)) = item
            && let Ok(rec) = warc::parse_record(&m.bytes)
        {
            let _ = warc::digest_problems(&rec);
            let _ = rec.payload();
        }
    }
}

/// The bundle reader: the whole of `verify-bundle` over one zip file (bounded zip
/// reading, the streamed WARC member, proofs, checkpoint, the post rebuilt from its records).
pub fn bundle_reader(data: &[u8]) {
    let report = samizdat::evidence::check::verify_bundle_bytes(data, None, None);
    let _ = report.verdict();
}

/// Separates the parts of a `platform_answers` input.
pub const SEP: &[u8] = b"\n--answer--\n";

const CONTENT_TYPES: &[&str] = &[
    "application/json; charset=utf-8",
    "text/html; charset=utf-8",
    "application/atom+xml",
    "application/rss+xml",
    "text/plain",
    "text/html; charset=gbk",
];

/// Each platform's readers of fetched answers. Input: `<c|k|t> <url>` then, after each
/// [`SEP`], one answer: 2 bytes of status, 1 byte choosing the Content-Type, the body.
/// `c` captures a post, `k` checks it, `t` reads a timeline page.
pub fn platform_answers(data: &[u8]) {
    let mut parts = split(data, SEP);
    let Some(head) = parts.next() else { return };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let (job, url) = head.split_once(' ').unwrap_or(("c", head));
    let Ok(url) = url::Url::parse(url.trim()) else {
        return;
    };
    let Some((platform, target)) = platforms::recognise(&url) else {
        return;
    };
    let ctx = PlanContext::default();
    let plan = match (job, &target) {
        ("t", Target::Account { .. }) => match platform.timeline_plan(&target, None, &ctx) {
            Some(p) => p,
            None => return,
        },
        ("k", _) => platform.post_plan(&target, Job::Check, &ctx),
        _ => platform.post_plan(&target, Job::Capture, &ctx),
    };
    let answers: Vec<&[u8]> = parts.collect();
    let mut i = 0;
    let _ = platforms::run_offline(
        plan,
        |req| {
            let a = answers.get(i).copied();
            i += 1;
            match a {
                None => Fetched::Failed("no more answers".into()),
                Some(a) if a.len() < 3 => Fetched::Failed("connection reset".into()),
                Some(a) => Fetched::Response(Response {
                    url: req.url.clone(),
                    status: 100 + u16::from_be_bytes([a[0], a[1]]) % 500,
                    headers: vec![(
                        "content-type".into(),
                        CONTENT_TYPES[a[2] as usize % CONTENT_TYPES.len()].into(),
                    )],
                    body: a[3..].to_vec(),
                    truncated: false,
                }),
            }
        },
        16,
    );
}

fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}
