//! Settings: the raw arguments and the environment, validated once into typed values
//! (paths, the clock, durations), so no command re-parses them. A bad value is a usage
//! error (exit 2) that names the option or variable; a bad config file is a config
//! error (exit 2) that names the key (see `samizdat::config`).

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
    pub json: bool,
    pub quiet: bool,
    /// The one clock of this process (`SAMIZDAT_NOW`, else the system's).
    pub clock: Clock,
    /// The one tokio runtime of this process, built when a command first needs it.
    runtime: OnceLock<tokio::runtime::Runtime>,
}

impl Settings {
    pub fn new(cli: &super::args::Cli) -> Result<Settings> {
        Ok(Settings {
            config_path: cli
                .config
                .clone()
                .unwrap_or_else(|| cli.archive.join(layout::CONFIG)),
            archive: cli.archive.clone(),
            json: cli.json,
            quiet: cli.quiet,
            clock: Clock::from_env()?,
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

pub fn load_config(s: &Settings) -> Result<Config> {
    Config::load(&s.config_path)
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

/// URLs from `--from FILE` ('-' for stdin), one per line; `#` starts a comment.
pub fn read_url_list(from: &Path) -> Result<Vec<String>> {
    let text = if from == Path::new("-") {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t).at("<stdin>")?;
        t
    } else {
        std::fs::read_to_string(from).at(from)?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// `list --since`: an RFC 3339 time, or a duration back from now (by `clock`), as a
/// WARC-Date.
pub fn parse_since(v: &str, clock: &Clock) -> Result<String> {
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(samizdat::store::warc::warc_date(t));
    }
    let d = samizdat::config::parse_duration(v)
        .map_err(|e| Error::Usage(format!("--since {e}; or give an RFC 3339 time")))?;
    let t = jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| clock.now().checked_sub(d).ok())
        .ok_or_else(|| Error::Usage(format!("--since {v:?}: too far back")))?;
    Ok(samizdat::store::warc::warc_date(t))
}
