//! Exports for research (issue 17, docs/exports.md): `export --csv FILE` and `--jsonl FILE`,
//! one row per post and a second file of its checks, with `list`'s selectors, and two ways
//! to publish without exposing people: `--pseudonymise` (authors replaced by a keyed hash)
//! and `--ids-only` (no text, no media, no names, no URL).
//!
//! Streaming: posts are read from the index one at a time and written as they come, so an
//! export of a million posts runs in flat memory.
//!
//! The pseudonym is HMAC-SHA-256 over `platform:author id` (the name when there is no id)
//! with a 32-byte key kept in `keys/pseudonym.key`, made on first use: the same author maps
//! to the same pseudonym across exports, and nobody without the key can reverse it or test a
//! guess.

use crate::error::{Error, IoContext, Result};
use crate::store::index::{Index, ListFilter};
use crate::store::views::PostView;
use hmac::{KeyInit, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the pseudonym key lives in an archive.
pub const PSEUDONYM_KEY: &str = "keys/pseudonym.key";

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
}

/// What to export and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    pub filter: ListFilter,
    /// Posts whose text, author or URL contains this.
    pub query: Option<String>,
    pub pseudonymise: bool,
    pub ids_only: bool,
}

/// What an export wrote (its JSON is the command's `--json` line).
#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    pub posts_file: PathBuf,
    pub checks_file: PathBuf,
    pub meta_file: PathBuf,
    pub posts: u64,
    pub checks: u64,
    pub format: Format,
    pub pseudonymised: bool,
    pub ids_only: bool,
}

/// The columns of the posts file, in order.
pub const POST_COLUMNS: &[&str] = &[
    "post_id",
    "platform",
    "platform_id",
    "url",
    "author_id",
    "author_name",
    "author_handle",
    "created_at",
    "state",
    "cause",
    "platform_words",
    "last_seen_live",
    "first_seen_gone",
    "captures",
    "checks",
    "reposts",
    "comments",
    "likes",
    "media",
    "text",
    "record_ids",
];

/// The columns of the checks file, in order.
pub const CHECK_COLUMNS: &[&str] = &[
    "post_id",
    "at",
    "outcome",
    "cause",
    "http_status",
    "platform_words",
    "record_id",
];

/// The keyed hash that stands for an author.
pub struct Pseudonyms {
    key: [u8; 32],
}

impl Pseudonyms {
    /// The archive's key, made (and kept, mode 0600) on first use.
    pub fn of_archive(root: &Path) -> Result<Pseudonyms> {
        let p = root.join(PSEUDONYM_KEY);
        let key = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = [0u8; 32];
                getrandom::fill(&mut k).map_err(|e| Error::Log(format!("randomness: {e}")))?;
                let tmp = p.with_extension("key.tmp");
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(&tmp)
                        .at(&tmp)?;
                    f.write_all(&k).at(&tmp)?;
                    f.sync_all().at(&tmp)?;
                }
                std::fs::rename(&tmp, &p).at(&p)?;
                k.to_vec()
            }
            Err(e) => return Err(Error::io(&p, e)),
        };
        let key: [u8; 32] = key.try_into().map_err(|_| Error::Archive {
            path: p.clone(),
            message: "the pseudonym key is not 32 bytes: restore it from a backup (pseudonyms made with another key will not match)".into(),
        })?;
        Ok(Pseudonyms { key })
    }

    /// `p:` and 32 hex digits (the first 128 bits of the HMAC).
    pub fn of(&self, platform: &str, who: &str) -> String {
        let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        m.update(platform.as_bytes());
        m.update(b":");
        m.update(who.as_bytes());
        format!("p:{}", hex::encode(&m.finalize().into_bytes()[..16]))
    }
}

/// The checks file beside `posts` (`posts.csv` gives `posts.checks.csv`).
pub fn checks_path(posts: &Path, format: Format) -> PathBuf {
    let ext = match format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    let stem = posts
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "posts".into());
    posts.with_file_name(format!("{stem}.checks.{ext}"))
}

/// The metadata file beside `posts` (`posts.csv` gives `posts.csv.meta.json`).
pub fn meta_path(posts: &Path) -> PathBuf {
    let mut s = posts.as_os_str().to_os_string();
    s.push(".meta.json");
    PathBuf::from(s)
}

/// One row of the posts file, as strings (empty for none).
fn post_row(v: &PostView, opts: &Options, ps: Option<&Pseudonyms>) -> Vec<String> {
    let p = &v.post;
    let o = |x: Option<&str>| x.unwrap_or("").to_string();
    let n = |x: Option<u64>| x.map(|n| n.to_string()).unwrap_or_default();
    let author = p.author.as_ref();
    let (aid, aname, ahandle) = match (ps, author) {
        (Some(ps), Some(a)) => {
            let who =
                a.id.as_deref()
                    .or(a.handle.as_deref())
                    .or(a.name.as_deref())
                    .unwrap_or("");
            let pseudo = if who.is_empty() {
                String::new()
            } else {
                ps.of(&p.platform, who)
            };
            (pseudo, String::new(), String::new())
        }
        (None, Some(a)) => (
            o(a.id.as_deref()),
            o(a.name.as_deref()),
            o(a.handle.as_deref()),
        ),
        (_, None) => Default::default(),
    };
    let counts = p.counts.as_ref();
    let record_ids: Vec<&str> = v
        .captures
        .iter()
        .flat_map(|c| c.record_ids.last().map(String::as_str))
        .collect();
    vec![
        p.id.0.clone(),
        p.platform.clone(),
        p.platform_id.clone(),
        if opts.ids_only {
            String::new()
        } else {
            p.url.clone()
        },
        aid,
        aname,
        ahandle,
        o(p.created_at.as_deref()),
        v.state.as_str().to_string(),
        v.cause.map(|c| c.as_str().to_string()).unwrap_or_default(),
        if opts.ids_only {
            String::new()
        } else {
            o(v.message.as_deref())
        },
        o(v.last_seen_live.as_deref()),
        o(v.first_seen_gone.as_deref()),
        v.captures.len().to_string(),
        v.checks.len().to_string(),
        n(counts.and_then(|c| c.reposts)),
        n(counts.and_then(|c| c.comments)),
        n(counts.and_then(|c| c.likes)),
        if opts.ids_only {
            String::new()
        } else {
            p.media.len().to_string()
        },
        if opts.ids_only {
            String::new()
        } else {
            o(p.text.as_deref())
        },
        record_ids.join(" "),
    ]
}

/// Rows written one at a time, as CSV (RFC 4180, a header row) or JSON lines.
enum Sink {
    Csv(Box<csv::Writer<std::io::BufWriter<std::fs::File>>>),
    Jsonl(std::io::BufWriter<std::fs::File>, &'static [&'static str]),
}

impl Sink {
    fn create(path: &Path, format: Format, columns: &'static [&'static str]) -> Result<Sink> {
        let f = std::io::BufWriter::new(std::fs::File::create(path).at(path)?);
        Ok(match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(f);
                w.write_record(columns)
                    .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
                Sink::Csv(Box::new(w))
            }
            Format::Jsonl => Sink::Jsonl(f, columns),
        })
    }

    fn row(&mut self, path: &Path, row: &[String]) -> Result<()> {
        match self {
            Sink::Csv(w) => w
                .write_record(row)
                .map_err(|e| Error::io(path, std::io::Error::other(e))),
            Sink::Jsonl(f, cols) => {
                let obj: serde_json::Map<String, serde_json::Value> = cols
                    .iter()
                    .zip(row)
                    .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str())))
                    .collect();
                serde_json::to_writer(&mut *f, &obj)
                    .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
                f.write_all(b"\n").at(path)
            }
        }
    }

    fn finish(self, path: &Path) -> Result<()> {
        let f = match self {
            Sink::Csv(w) => w
                .into_inner()
                .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?,
            Sink::Jsonl(f, _) => f,
        };
        f.into_inner()
            .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?
            .sync_all()
            .at(path)
    }
}

/// `export --csv FILE` / `--jsonl FILE`: the posts `opts` selects, into `out`, its checks
/// beside it, and a metadata file saying what was done.
pub fn export_dataset(
    root: &Path,
    ix: &Index,
    opts: &Options,
    out: &Path,
) -> Result<DatasetSummary> {
    let ps = if opts.pseudonymise || opts.ids_only {
        Some(Pseudonyms::of_archive(root)?)
    } else {
        None
    };
    let checks_file = checks_path(out, opts.format);
    let meta_file = meta_path(out);
    let mut posts = Sink::create(out, opts.format, POST_COLUMNS)?;
    let mut checks = Sink::create(&checks_file, opts.format, CHECK_COLUMNS)?;
    let (mut n_posts, mut n_checks) = (0u64, 0u64);
    ix.for_each_post_id(&opts.filter, opts.query.as_deref(), &mut |id| {
        let Some(v) = ix.post_view(&id)? else {
            return Ok(());
        };
        posts.row(out, &post_row(&v, opts, ps.as_ref()))?;
        n_posts += 1;
        for c in &v.checks {
            let row = vec![
                v.post.id.0.clone(),
                c.at.clone(),
                c.outcome.as_str().to_string(),
                c.cause.map(|x| x.as_str().to_string()).unwrap_or_default(),
                c.http_status.map(|s| s.to_string()).unwrap_or_default(),
                if opts.ids_only {
                    String::new()
                } else {
                    c.message.clone().unwrap_or_default()
                },
                c.record_id.clone(),
            ];
            checks.row(&checks_file, &row)?;
            n_checks += 1;
        }
        Ok(())
    })?;
    posts.finish(out)?;
    checks.finish(&checks_file)?;
    let summary = DatasetSummary {
        posts_file: out.to_path_buf(),
        checks_file: checks_file.clone(),
        meta_file: meta_file.clone(),
        posts: n_posts,
        checks: n_checks,
        format: opts.format,
        pseudonymised: ps.is_some(),
        ids_only: opts.ids_only,
    };
    let f = &opts.filter;
    let meta = serde_json::json!({
        "samizdat": "dataset/1",
        "tool_version": env!("CARGO_PKG_VERSION"),
        "format": opts.format,
        "posts": n_posts,
        "checks": n_checks,
        "post_columns": POST_COLUMNS,
        "check_columns": CHECK_COLUMNS,
        "selectors": {"platform": f.platform, "state": f.state, "since": f.since, "author": f.author, "query": opts.query},
        "pseudonymised": ps.is_some(),
        "pseudonyms": ps.as_ref().map(|_| "author_id is p: and the first 128 bits of HMAC-SHA-256(key, platform:author id) in hex; author_name and author_handle are left empty; the key is the archive's keys/pseudonym.key and is not in this export"),
        "ids_only": opts.ids_only,
        "ids_only_means": opts.ids_only.then_some("no text, no URL, no media count, no platform words, no names: ids, states and times only (authors pseudonymised)"),
    });
    std::fs::write(
        &meta_file,
        serde_json::to_string_pretty(&meta).unwrap_or_default() + "\n",
    )
    .at(&meta_file)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_stable_and_distinct() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("keys")).unwrap();
        let a = Pseudonyms::of_archive(d.path()).unwrap();
        let b = Pseudonyms::of_archive(d.path()).unwrap();
        assert_eq!(
            a.of("weibo", "123"),
            b.of("weibo", "123"),
            "one key, one pseudonym"
        );
        assert_ne!(a.of("weibo", "123"), a.of("weibo", "124"));
        assert_ne!(a.of("weibo", "123"), a.of("x", "123"), "per platform");
        assert!(a.of("weibo", "123").starts_with("p:") && a.of("weibo", "123").len() == 34);
        let other = Pseudonyms { key: [7; 32] };
        assert_ne!(
            other.of("weibo", "123"),
            a.of("weibo", "123"),
            "another key, another pseudonym"
        );
        std::fs::write(d.path().join(PSEUDONYM_KEY), b"short").unwrap();
        assert!(Pseudonyms::of_archive(d.path()).is_err());
    }

    #[test]
    fn the_side_files_are_named_after_the_posts_file() {
        let p = Path::new("/tmp/out/posts.csv");
        assert_eq!(
            checks_path(p, Format::Csv),
            Path::new("/tmp/out/posts.checks.csv")
        );
        assert_eq!(
            checks_path(Path::new("d.jsonl"), Format::Jsonl),
            Path::new("d.checks.jsonl")
        );
        assert_eq!(meta_path(p), Path::new("/tmp/out/posts.csv.meta.json"));
    }
}
