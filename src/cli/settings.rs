//! Settings: the raw arguments and the environment, validated once into typed values
//! (paths, the clock, durations), so no command re-parses them. A bad value is a usage
//! error (exit 2) that names the option or variable; a bad config file is a config
//! error (exit 2) that names the key (see `samizdat::config`).
//!
//! The config is read and validated here, once, for every command alike, before the
//! command runs: a broken `samizdat.toml` stops `list` as it stops `capture`, and a
//! `--config FILE` that does not exist is an error, never the defaults.

use samizdat::clock::Clock;
use samizdat::config::Config;
use samizdat::error::{Error, IoContext, Result};
use samizdat::store::archive::{self, layout};
use samizdat::store::index::Index;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Settings derived once from the raw arguments, the environment and (when a command
/// needs it) the config file.
pub struct Settings {
    pub archive: PathBuf,
    pub config_path: PathBuf,
    /// The config, read and validated once (see the module's head).
    pub config: Config,
    pub json: bool,
    pub quiet: bool,
    /// The one clock of this process (`SAMIZDAT_NOW`, else the system's).
    pub clock: Clock,
    /// The one tokio runtime of this process, built when a command first needs it.
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl Settings {
    pub fn new(cli: &super::args::Cli) -> Result<Settings> {
        let clock = Clock::from_env()?;
        let (config_path, config) = match &cli.config {
            Some(p) => (p.clone(), Config::load_named(p)?),
            None => {
                let p = cli.archive.join(layout::CONFIG);
                let c = Config::load(&p)?;
                (p, c)
            }
        };
        Ok(Settings {
            config_path,
            config,
            archive: cli.archive.clone(),
            json: cli.json,
            quiet: cli.quiet,
            clock,
            runtime: OnceLock::new(),
        })
    }

    /// The process's tokio runtime (multi-threaded; built on first use).
    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        if let Some(rt) = self.runtime.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .at("tokio runtime")?;
        Ok(self.runtime.get_or_init(|| rt))
    }

    /// Ends the runtime, dropping whatever tasks are left (so no task still holds the
    /// archive's writer when it is joined).
    pub fn end_runtime(&mut self) {
        drop(self.runtime.take());
    }
}

/// The config every command runs with (read and validated in [`Settings::new`]).
pub fn load_config(s: &Settings) -> Result<Config> {
    Ok(s.config.clone())
}

pub fn evidence_ctx(s: &Settings) -> samizdat::evidence::Ctx {
    samizdat::evidence::Ctx {
        archive: s.archive.clone(),
        config_path: s.config_path.clone(),
        json: s.json,
        quiet: s.quiet,
    }
}

/// Opens the index of an existing archive, read-only.
pub fn open_index(s: &Settings) -> Result<Index> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here: run `samizdat init` or `samizdat capture URL`, or pass --archive DIR".into(),
        });
    }
    Index::open(&s.archive.join(layout::INDEX), false)
}

/// Refuses, before anything is opened, to let the writer `command` (capture, watch,
/// timestamp, reindex, init) at an archive this process may not write: a read-only mount,
/// read-only media, another user's archive, files made read-only. One line says so; the
/// readers (show, list, search, verify, serve, export) read such an archive as it is.
/// A folder that is no archive yet is left to the writer (which creates it).
pub fn writable_archive(s: &Settings, command: &str) -> Result<()> {
    if !archive::exists(&s.archive) {
        return Ok(());
    }
    let mut paths: Vec<PathBuf> = [
        "",
        layout::WARC_DIR,
        layout::LOG_DIR,
        layout::CHECKPOINTS_DIR,
        layout::KEYS_DIR,
        layout::QUARANTINE,
        layout::INDEX,
        layout::HASHES,
        layout::CHECKPOINT,
        layout::LOCK,
    ]
    .iter()
    .map(|p| {
        if p.is_empty() {
            s.archive.clone()
        } else {
            s.archive.join(p)
        }
    })
    .collect();
    // The newest WARC file is the one appended to.
    if let Ok(Some(last)) = archive::warc_files(&s.archive).map(|mut f| f.pop()) {
        paths.push(s.archive.join(layout::WARC_DIR).join(last));
    }
    for p in paths {
        match rustix::fs::access(&p, rustix::fs::Access::WRITE_OK) {
            Ok(()) => {}
            Err(rustix::io::Errno::NOENT) => {}
            Err(e) => {
                return Err(Error::Archive {
                    path: s.archive.clone(),
                    message: format!(
                        "read-only ({}: {}): `{command}` writes to the archive and was not \
                         started; show, list, search, verify, serve and export read it as it is",
                        p.display(),
                        std::io::Error::from(e)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// URLs from `--from FILE` ('-' for stdin), one per line: blank lines and lines whose
/// first character (after blanks) is `#` are skipped, and a `#` after a blank starts a
/// comment (`https://x.example/a  # from the tip line`; a `#` inside a URL is its
/// fragment). Anything else left on a line must be one URL: a line that is not is a usage
/// error naming the file and line number, before anything is fetched.
pub fn read_url_list(from: &Path) -> Result<Vec<String>> {
    let text = if from == Path::new("-") {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t).at("<stdin>")?;
        t
    } else {
        // A list that cannot be read is the command line's mistake (exit 2), said in one
        // sentence with the path as given.
        std::fs::read_to_string(from).map_err(|e| {
            Error::Usage(format!(
                "--from {}: cannot read it ({}); give a file of URLs, one a line, or - for stdin",
                from.display(),
                io_words(&e)
            ))
        })?
    };
    parse_url_list(&text, from)
}

/// An I/O error in a few words ("no such file", not "No such file or directory (os error 2)").
fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "a folder, not a file".into(),
        _ => e.to_string(),
    }
}

/// The URLs given on the command line, each checked before anything is opened or
/// fetched: one that is not a URL samizdat can capture is a usage error (exit 2) that
/// says so in one sentence, and nothing is captured.
pub fn check_urls(urls: &[String]) -> Result<()> {
    for u in urls {
        if let Err(m) = samizdat::platforms::read_url(u) {
            let t = u.trim();
            return Err(Error::Usage(
                if t.is_empty() || t.contains(char::is_whitespace) || !t.contains(['.', ':']) {
                    format!(
                        "{u:?} is not a URL: give the post's full address, such as https://example.org/post/1"
                    )
                } else {
                    format!("{u:?} is not a URL samizdat can capture: {m}")
                },
            ));
        }
    }
    Ok(())
}

fn parse_url_list(text: &str, from: &Path) -> Result<Vec<String>> {
    let name = if from == Path::new("-") {
        "<stdin>".to_string()
    } else {
        from.display().to_string()
    };
    let mut urls = vec![];
    for (i, line) in text.lines().enumerate() {
        let bad = |what: String| Error::Usage(format!("--from {name}, line {}: {what}", i + 1));
        let line = line.trim_start_matches('\u{feff}');
        // A comment starts at a `#` that begins the line or follows a blank.
        let cut = line
            .char_indices()
            .find(|&(j, c)| {
                c == '#'
                    && line[..j]
                        .chars()
                        .next_back()
                        .is_none_or(char::is_whitespace)
            })
            .map_or(line, |(j, _)| &line[..j]);
        let entry = cut.trim();
        if entry.is_empty() {
            continue;
        }
        if entry.contains(char::is_whitespace) {
            return Err(bad(format!(
                "{entry:?} is not one URL (one URL a line; `#` after a blank starts a comment)"
            )));
        }
        samizdat::platforms::read_url(entry)
            .map_err(|e| bad(format!("{entry:?} is not a URL: {e}")))?;
        urls.push(entry.to_string());
    }
    Ok(urls)
}

/// `list --since` (and `search --since` / `--until`), as a WARC-Date: the library's one
/// parser (`samizdat::store::since`, which the web UI uses too); a bad value is a usage
/// error whose sentence starts with `flag` and lists the forms.
pub fn parse_since(v: &str, clock: &Clock) -> Result<String> {
    parse_time_bound("--since", v, clock)
}

/// [`parse_since`] for any flag (`--until`).
pub fn parse_time_bound(flag: &str, v: &str, clock: &Clock) -> Result<String> {
    samizdat::store::since::parse(flag, v, clock).map_err(Error::Usage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_dates_days_and_durations() {
        let clock = Clock::parse("2026-03-10T15:30:00Z").unwrap();
        let at = |v: &str| parse_since(v, &clock);
        assert_eq!(
            at("2026-03-01T12:00:00Z").unwrap(),
            "2026-03-01T12:00:00.000000Z"
        );
        assert_eq!(at("2026-03-01").unwrap(), "2026-03-01T00:00:00.000000Z");
        assert_eq!(at("today").unwrap(), "2026-03-10T00:00:00.000000Z");
        assert_eq!(at("Yesterday").unwrap(), "2026-03-09T00:00:00.000000Z");
        assert_eq!(at("90m").unwrap(), "2026-03-10T14:00:00.000000Z");
        assert_eq!(at("7d").unwrap(), "2026-03-03T15:30:00.000000Z");
        for bad in ["last week", "soon", "2026-13-01", "7 parsecs"] {
            let e = at(bad).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad}: {e:?}");
            assert!(e.to_string().contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_command_line_url_is_checked_first() {
        assert!(check_urls(&["https://example.org/a".into()]).is_ok());
        let e = check_urls(&["not a url".into()]).unwrap_err().to_string();
        assert!(e.contains("\"not a url\" is not a URL"), "{e}");
        let e = check_urls(&["ftp://example.org/f".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported scheme"), "{e}");
    }

    #[test]
    fn url_lists_take_comments_and_name_a_bad_line() {
        let f = Path::new("list.txt");
        let text = "\u{feff}# tips\n\nhttps://a.example/x  # from the tip line\n   \n  # indented comment\nhttps://b.example/y#frag\t#c\nhttps://c.example/z#frag\n";
        assert_eq!(
            parse_url_list(text, f).unwrap(),
            [
                "https://a.example/x",
                "https://b.example/y#frag",
                "https://c.example/z#frag"
            ]
        );
        for (text, line) in [
            ("https://a.example/x\nnot a url\n", "line 2"),
            ("https://a.example/x\n\n\nwww\n", "line 4"),
            ("ftp://a.example/x\n", "line 1"),
            ("https://a.example/x https://b.example/y\n", "line 1"),
        ] {
            let e = parse_url_list(text, f).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{e:?}");
            let m = e.to_string();
            assert!(m.contains(line) && m.contains("list.txt"), "{text:?}: {m}");
        }
    }
}
