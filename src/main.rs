//! The `samizdat` command line: parses arguments into settings, wires the library
//! together, prints results (JSON on stdout with `--json`, words on stderr), and maps
//! outcomes to exit codes (SPEC section 1: 0 done, 1 some failed, 2 usage, 3 damage).

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use samizdat::capture::{self, CaptureOptions, Fetcher, Writer};
use samizdat::config::Config;
use samizdat::error::{Error, IoContext, Result};
use samizdat::log::merkle::Hash;
use samizdat::store::archive::{self, Archive, layout};
use samizdat::store::index::{Index, ListFilter};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "samizdat",
    version,
    about = "Capture public posts into a tamper-evident WARC archive, and prove it."
)]
struct Cli {
    /// The archive folder.
    #[arg(
        long,
        global = true,
        env = "SAMIZDAT_ARCHIVE",
        default_value = "archive"
    )]
    archive: PathBuf,
    /// The config file (default: ARCHIVE/samizdat.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// More detail on stderr (-vv for debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the archive (config, signing key, index); prints the log's verifier key.
    Init,
    /// Capture each post or page now.
    Capture {
        /// URLs of posts or pages.
        urls: Vec<String>,
        /// Read URLs from a file, one per line ('-' for stdin; # starts a comment).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Skip pictures and videos.
        #[arg(long)]
        no_media: bool,
        /// Afterwards, timestamp the new checkpoint with every configured TSA.
        #[arg(long)]
        timestamp: bool,
        /// Also put each captured post on the watchlist.
        #[arg(long)]
        watch: bool,
    },
    /// One post with its whole history.
    Show {
        /// A post URL in any form, or a post id like weibo:5020313482168415.
        post: String,
    },
    /// List posts.
    List {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        state: Option<String>,
        /// RFC 3339 time, or a duration back from now (e.g. 24h, 7d).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        author: Option<String>,
        /// 0 = all.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Re-hash every record, rebuild the tree, check every checkpoint and the index.
    Verify,
    /// The transparency log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Watch posts and accounts; re-check them on a schedule.
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Rebuild the index and the tree hashes from the WARC files alone.
    Reindex,
    /// RFC 3161 tokens for the latest checkpoint from every configured TSA.
    Timestamp,
    /// Export a post as an evidence bundle, or posts as a WACZ package.
    Export {
        /// Posts (URL or post id).
        posts: Vec<String>,
        /// Evidence bundle (zip) for one post.
        #[arg(long, conflicts_with = "wacz")]
        bundle: Option<PathBuf>,
        /// WACZ 1.1.1 package.
        #[arg(long)]
        wacz: Option<PathBuf>,
        /// Posts whose text, author or URL contains Q (with --wacz).
        #[arg(long)]
        query: Option<String>,
        /// The whole archive (with --wacz).
        #[arg(long)]
        all: bool,
    },
    /// Serve the archive on the web: pages, JSON API, the public log.
    Serve {
        /// Address to listen on (default: [serve] listen, 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Full-text search over post text and author names.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Check an evidence bundle (or a WACZ) offline, with no archive present.
    VerifyBundle {
        file: PathBuf,
        /// The log's verifier key, as published (else the bundle's own: identity unchecked).
        #[arg(long)]
        vkey: Option<PathBuf>,
        /// The TSA's CA certificate(s), PEM (else the bundle's own: identity unchecked).
        #[arg(long)]
        tsa_ca: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum WatchCommand {
    /// Watch a post, or an account / channel / feed whose new posts are captured and watched.
    Add {
        urls: Vec<String>,
        /// Read URLs from a file, one per line ('-' for stdin; # starts a comment).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Own interval for these entries (e.g. 30m), instead of the decaying schedule.
        #[arg(long)]
        every: Option<String>,
        /// For an account: capture its N most recent posts too.
        #[arg(long)]
        backfill: Option<u32>,
    },
    /// The watchlist.
    List,
    /// Stop watching.
    Remove { urls: Vec<String> },
    /// The monitor: runs until SIGINT/SIGTERM.
    Run {
        /// Do what is due and exit.
        #[arg(long)]
        once: bool,
    },
    /// Check now, whatever the schedule says.
    Check {
        urls: Vec<String>,
        #[arg(long)]
        all: bool,
    },
    /// Posts per state, checks due, last error per host.
    Status,
}

#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Print the latest signed checkpoint, exactly as stored.
    Checkpoint,
    /// Inclusion proof for a leaf.
    Proof {
        leaf: u64,
        /// Tree size (default: the latest checkpoint's).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two tree sizes.
    Consistency { old_size: u64, new_size: u64 },
}

/// Settings derived once from the raw arguments and the config file.
struct Settings {
    archive: PathBuf,
    config_path: PathBuf,
    json: bool,
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_tracing(cli.quiet, cli.verbose);
    let settings = Settings {
        config_path: cli
            .config
            .clone()
            .unwrap_or_else(|| cli.archive.join(layout::CONFIG)),
        archive: cli.archive.clone(),
        json: cli.json,
        quiet: cli.quiet,
    };
    match run(cli.command, &settings) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if settings.json {
                println!("{}", json!({"error": e.to_string()}));
            }
            eprintln!("samizdat: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn init_tracing(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAMIZDAT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("samizdat={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn run(cmd: Command, s: &Settings) -> Result<u8> {
    match cmd {
        Command::Init => init(s),
        Command::Capture {
            urls,
            from,
            no_media,
            timestamp,
            watch,
        } => {
            let code = if watch {
                let mut urls = urls;
                if let Some(f) = &from {
                    urls.extend(read_url_list(f)?);
                }
                watch_cmd::run(
                    s,
                    WatchCommand::Add {
                        urls,
                        from: None,
                        every: None,
                        backfill: None,
                    },
                )?
            } else {
                capture_cmd(s, urls, from, no_media)?
            };
            if timestamp {
                samizdat::evidence::timestamp_after_capture(&evidence_ctx(s), code)
            } else {
                Ok(code)
            }
        }
        Command::Show { post } => show(s, &post),
        Command::List {
            platform,
            state,
            since,
            author,
            limit,
        } => {
            let since = since.map(|v| parse_since(&v)).transpose()?;
            list(
                s,
                ListFilter {
                    platform,
                    state,
                    since,
                    author,
                    limit,
                },
            )
        }
        Command::Verify => verify(s),
        Command::Log(l) => log_cmd(s, l),
        Command::Watch(w) => watch_cmd::run(s, w),
        Command::Reindex => reindex(s),
        Command::Timestamp => samizdat::evidence::timestamp_cmd(&evidence_ctx(s)),
        Command::Export {
            posts,
            bundle,
            wacz,
            query,
            all,
        } => samizdat::evidence::export_cmd(
            &evidence_ctx(s),
            &posts,
            bundle.as_deref(),
            wacz.as_deref(),
            query.as_deref(),
            all,
        ),
        Command::Serve { listen } => samizdat::web::serve_cmd(&s.archive, &s.config_path, listen),
        Command::Search { query, limit } => {
            samizdat::web::search_cmd(&s.archive, &query, limit, s.json)
        }
        Command::VerifyBundle { file, vkey, tsa_ca } => {
            samizdat::evidence::bundle::verify_bundle_cmd(
                &evidence_ctx(s),
                &file,
                vkey.as_deref(),
                tsa_ca.as_deref(),
            )
        }
    }
}

fn evidence_ctx(s: &Settings) -> samizdat::evidence::Ctx {
    samizdat::evidence::Ctx {
        archive: s.archive.clone(),
        config_path: s.config_path.clone(),
        json: s.json,
        quiet: s.quiet,
    }
}

fn load_config(s: &Settings) -> Result<Config> {
    Config::load(&s.config_path)
}

/// Human words on stderr unless --quiet.
fn say(s: &Settings, msg: impl AsRef<str>) {
    if !s.quiet {
        eprintln!("{}", msg.as_ref());
    }
}

fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", serde_json::to_string(v).expect("JSON"));
}

fn init(s: &Settings) -> Result<u8> {
    let existed = archive::exists(&s.archive);
    let config = load_config(s)?;
    let a = Archive::open(&s.archive, config)?;
    let vkey = a.vkey();
    if s.json {
        print_json(&json!({"archive": s.archive, "created": !existed, "vkey": vkey}));
    } else {
        say(
            s,
            format!(
                "{} archive at {}",
                if existed { "existing" } else { "created" },
                s.archive.display()
            ),
        );
        say(
            s,
            "verifier key (publish it so others can check your checkpoints):",
        );
        println!("{vkey}");
    }
    Ok(0)
}

fn read_url_list(from: &Path) -> Result<Vec<String>> {
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

fn capture_cmd(
    s: &Settings,
    mut urls: Vec<String>,
    from: Option<PathBuf>,
    no_media: bool,
) -> Result<u8> {
    if let Some(f) = &from {
        urls.extend(read_url_list(f)?);
    }
    if urls.is_empty() {
        return Err(Error::Usage(
            "nothing to capture: give URLs or --from FILE".into(),
        ));
    }
    let config = load_config(s)?;
    let fetcher = Arc::new(Fetcher::new(&config, &s.config_path)?);
    let concurrency = config.http.concurrency;
    let archive = Archive::open(&s.archive, config)?;
    let (writer, handle) = Writer::start(archive);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .at("tokio runtime")?;
    let bar = progress_bar(s, urls.len() as u64, "capturing");
    let opts = CaptureOptions { no_media };
    let results = rt.block_on(capture::capture_all(
        urls,
        &opts,
        fetcher,
        writer,
        concurrency,
        |r| {
            bar.inc(1);
            if s.json {
                print_json(&serde_json::to_value(r).expect("JSON"));
            } else if !s.quiet {
                let line = match (&r.post_id, &r.error) {
                    (Some(id), None) => format!(
                        "captured {} -> {id} ({} records)",
                        r.url,
                        r.record_ids.len()
                    ),
                    (_, Some(e)) => format!("{} {}: {e}", r.status.to_uppercase(), r.url),
                    (None, None) => format!("{} {}", r.status, r.url),
                };
                bar.suspend(|| eprintln!("{line}"));
                for w in &r.warnings {
                    bar.suspend(|| eprintln!("  warning: {w}"));
                }
            }
        },
    ));
    bar.finish_and_clear();
    drop(rt);
    let _ = handle.join();
    let failed = results.iter().filter(|r| !r.ok()).count();
    if !s.json && results.len() > 1 {
        say(
            s,
            format!("{} captured, {failed} not", results.len() - failed),
        );
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

fn progress_bar(s: &Settings, len: u64, what: &str) -> indicatif::ProgressBar {
    if s.quiet || s.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Opens the index of an existing archive, read-only.
fn open_index(s: &Settings) -> Result<Index> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here: run `samizdat init` or `samizdat capture URL`, or pass --archive DIR".into(),
        });
    }
    Index::open(&s.archive.join(layout::INDEX), false)
}

/// A post id from a post id or any URL form.
fn resolve_post(ix: &Index, key: &str) -> Result<String> {
    if let Some(id) = ix.resolve(key)? {
        return Ok(id);
    }
    if let Ok(u) = samizdat::capture::parse_url(key)
        && let Some((p, samizdat::platforms::Target::Post { platform_id, url })) =
            samizdat::platforms::recognise(&u)
    {
        let id = format!("{}:{platform_id}", p.name());
        if let Some(found) = ix.resolve(&id)?.or(ix.resolve(&url)?) {
            return Ok(found);
        }
    }
    Err(Error::NotFound(format!(
        "no post {key:?} in this archive (try `samizdat list`)"
    )))
}

fn show(s: &Settings, key: &str) -> Result<u8> {
    let ix = open_index(s)?;
    let id = resolve_post(&ix, key)?;
    let mut v = ix
        .post_json(&id)?
        .ok_or_else(|| Error::NotFound(id.clone()))?;
    let conflicts = ix.url_conflicts(&id)?;
    if !conflicts.is_empty() {
        v["url_conflicts"] = json!(conflicts);
    }
    if s.json {
        print_json(&v);
        return Ok(0);
    }
    let mut out = String::new();
    render_post(&v, 0, &mut out);
    out.push_str(&format!("\nstate: {}", v["state"].as_str().unwrap_or("?")));
    if let Some(c) = v["cause"].as_str() {
        out.push_str(&format!(" (cause {c})"));
    }
    out.push('\n');
    for c in v["captures"].as_array().into_iter().flatten() {
        let leaves = c["leaf_indexes"].as_array().map(|l| l.len()).unwrap_or(0);
        out.push_str(&format!(
            "captured {}  {} records, leaves {}..{}\n",
            c["at"].as_str().unwrap_or("?"),
            leaves,
            c["leaf_indexes"][0],
            c["leaf_indexes"][leaves.saturating_sub(1)]
        ));
    }
    for k in [
        ("last_seen_live", "last seen live"),
        ("first_seen_gone", "first seen gone"),
    ] {
        if let Some(t) = v[k.0].as_str() {
            out.push_str(&format!("{}: {t}\n", k.1));
        }
    }
    for c in v["checks"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "checked {}  {}{}{}{}\n",
            c["at"].as_str().unwrap_or("?"),
            c["outcome"].as_str().unwrap_or("?"),
            c["event"]
                .as_str()
                .map(|e| format!(" [{e}]"))
                .unwrap_or_default(),
            c["cause"]
                .as_str()
                .map(|e| format!(" (cause {e})"))
                .unwrap_or_default(),
            c["message"]
                .as_str()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
        ));
    }
    // A URL claimed by two posts resolves to the first (see `store::index`).
    for c in &conflicts {
        let (url, holder, other) = (
            c["url"].as_str().unwrap_or("?"),
            c["belongs_to"].as_str().unwrap_or("?"),
            c["also_claimed_by"].as_str().unwrap_or("?"),
        );
        if holder == id {
            out.push_str(&format!(
                "URL conflict: {url} belongs to this post; post {other} names it too\n"
            ));
        } else {
            out.push_str(&format!(
                "URL conflict: {url}, named by this post, belongs to post {holder} (claimed first)\n"
            ));
        }
    }
    // Human output goes to stderr (SPEC section 1); `--json` is the stdout interface.
    eprint!("{out}");
    Ok(0)
}

/// A post as a person reads it in a terminal.
fn render_post(v: &serde_json::Value, depth: usize, out: &mut String) {
    let pad = "    ".repeat(depth);
    let author = v["author"]["name"]
        .as_str()
        .or(v["author"]["handle"].as_str())
        .unwrap_or("(unknown author)");
    out.push_str(&format!(
        "{pad}{}  {}\n",
        v["id"].as_str().unwrap_or(""),
        v["url"].as_str().unwrap_or("")
    ));
    out.push_str(&format!(
        "{pad}{author}  {}\n",
        v["created_at"].as_str().unwrap_or("")
    ));
    if let Some(t) = v["title"].as_str() {
        out.push_str(&format!("{pad}# {t}\n"));
    }
    if let Some(t) = v["text"].as_str() {
        for line in t.lines() {
            out.push_str(&format!("{pad}  {line}\n"));
        }
    }
    for m in v["media"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "{pad}  [{}] {}{}\n",
            m["kind"].as_str().unwrap_or("media"),
            m["url"].as_str().unwrap_or(""),
            m["sha256"]
                .as_str()
                .map(|h| format!("  sha256:{h}"))
                .unwrap_or_else(|| "  (not fetched)".into())
        ));
    }
    if let Some(c) = v["counts"].as_object() {
        let f = |k: &str| {
            c.get(k)
                .and_then(|x| x.as_u64())
                .map(|n| format!("{k} {n}"))
        };
        let parts: Vec<String> = ["reposts", "comments", "likes"]
            .iter()
            .filter_map(|k| f(k))
            .collect();
        if !parts.is_empty() {
            out.push_str(&format!("{pad}  {}\n", parts.join(" · ")));
        }
    }
    if v["repost_of"].is_object() {
        out.push_str(&format!("{pad}  reposting:\n"));
        render_post(&v["repost_of"], depth + 1, out);
    }
    if v["quote_of"].is_object() {
        out.push_str(&format!("{pad}  quoting:\n"));
        render_post(&v["quote_of"], depth + 1, out);
    }
}

fn parse_since(v: &str) -> Result<String> {
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(samizdat::store::warc::warc_date(t));
    }
    let d = samizdat::config::parse_duration(v)
        .map_err(|e| Error::Usage(format!("--since {e}; or give an RFC 3339 time")))?;
    let t = jiff::Timestamp::now()
        - jiff::SignedDuration::try_from(d).map_err(|e| Error::Usage(e.to_string()))?;
    Ok(samizdat::store::warc::warc_date(t))
}

fn list(s: &Settings, f: ListFilter) -> Result<u8> {
    let ix = open_index(s)?;
    let rows = ix.list(&f)?;
    for r in &rows {
        if s.json {
            print_json(r);
        } else {
            let text: String = r["text"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect::<String>()
                .replace('\n', " ");
            eprintln!(
                "{}  {}  {}  {}  {}",
                r["last_captured"].as_str().unwrap_or(""),
                r["state"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or(""),
                r["author"].as_str().unwrap_or("-"),
                text
            );
        }
    }
    if !s.json {
        say(s, format!("{} posts", rows.len()));
    }
    Ok(0)
}

fn verify(s: &Settings) -> Result<u8> {
    let bar = if s.quiet || s.json || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("verifying {bytes} {bytes_per_sec}")
                .expect("template"),
        );
        b
    };
    let report = samizdat::verify::verify(&s.archive, |n| bar.set_position(n))?;
    bar.finish_and_clear();
    if s.json {
        print_json(&serde_json::to_value(&report).expect("JSON"));
    } else {
        for n in &report.notes {
            say(s, format!("note: {n}"));
        }
        for p in &report.problems {
            eprintln!("DAMAGE: {p}");
        }
        say(
            s,
            format!(
                "{} records in {} files ({} MB), {} checkpoints; tree size {} root {}",
                report.records,
                report.files,
                report.bytes / 1_000_000,
                report.checkpoints,
                report.tree_size,
                report.root
            ),
        );
        say(
            s,
            if report.ok() {
                "verify: OK".to_string()
            } else {
                format!("verify: {} problems", report.problems.len())
            },
        );
    }
    Ok(if report.ok() { 0 } else { 3 })
}

fn log_cmd(s: &Settings, cmd: LogCommand) -> Result<u8> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here".into(),
        });
    }
    let verifier = archive::read_verifier(&s.archive)?;
    let latest = archive::latest_checkpoint(&s.archive, &verifier)?;
    let hashes = samizdat::log::hashes::HashStore::open_read_only(&s.archive.join(layout::HASHES))?;
    let b64 = |h: &[Hash]| h.iter().map(|x| x.to_base64()).collect::<Vec<_>>();
    match cmd {
        LogCommand::Checkpoint => {
            let p = s.archive.join(layout::CHECKPOINT);
            let text = std::fs::read_to_string(&p).map_err(|_| {
                Error::NotFound("no checkpoint yet: capture something first".into())
            })?;
            if s.json {
                let cp = latest.expect("a stored checkpoint verified above");
                print_json(
                    &json!({"origin": cp.origin, "size": cp.size, "root": cp.root.to_base64(), "note": text, "vkey": verifier.to_vkey()}),
                );
            } else {
                print!("{text}");
            }
        }
        LogCommand::Proof { leaf, size } => {
            let cp = latest
                .as_ref()
                .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
            let size = size.unwrap_or(cp.size);
            if leaf >= size || size > cp.size {
                return Err(Error::Usage(format!(
                    "leaf {leaf} is not in a tree of size {size} (the latest signed checkpoint \
                     covers {} leaves)",
                    cp.size
                )));
            }
            // Checked against the signed checkpoint: a damaged cache is refused (exit 3).
            let c = hashes.checked_inclusion(leaf, size, cp)?;
            let (proof, lh, root) = (c.proof, c.leaf_hash, c.root);
            if s.json {
                print_json(
                    &json!({"leaf_index": leaf, "tree_size": size, "leaf_hash": lh.to_base64(), "root": root.to_base64(), "proof": b64(&proof)}),
                );
            } else {
                eprintln!(
                    "leaf {leaf} of {size}\nleaf hash {}\nroot {}",
                    lh.to_base64(),
                    root.to_base64()
                );
                for p in b64(&proof) {
                    eprintln!("{p}");
                }
            }
        }
        LogCommand::Consistency { old_size, new_size } => {
            let cp = latest
                .as_ref()
                .ok_or_else(|| Error::NotFound("no checkpoint yet".into()))?;
            if old_size == 0 || old_size > new_size || new_size > cp.size {
                return Err(Error::Usage(format!(
                    "need 0 < OLD_SIZE <= NEW_SIZE <= {} (the latest signed checkpoint)",
                    cp.size
                )));
            }
            let (r1, r2, proof) = hashes.checked_consistency(old_size, new_size, cp)?;
            if s.json {
                print_json(
                    &json!({"old_size": old_size, "new_size": new_size, "old_root": r1.to_base64(), "new_root": r2.to_base64(), "proof": b64(&proof)}),
                );
            } else {
                eprintln!(
                    "{old_size} -> {new_size}\nold root {}\nnew root {}",
                    r1.to_base64(),
                    r2.to_base64()
                );
                for p in b64(&proof) {
                    eprintln!("{p}");
                }
            }
        }
    }
    Ok(0)
}

fn reindex(s: &Settings) -> Result<u8> {
    if !archive::exists(&s.archive) {
        return Err(Error::Archive {
            path: s.archive.clone(),
            message: "no archive here".into(),
        });
    }
    // The config is checked as for any writer, but the index is not opened: it may be
    // the damaged thing reindex is here to replace.
    let _config = load_config(s)?;
    let r = archive::reindex(&s.archive, |_| {})?;
    if s.json {
        print_json(&serde_json::to_value(&r).expect("JSON"));
    } else {
        for n in &r.notes {
            say(s, format!("note: {n}"));
        }
        for d in &r.damaged {
            eprintln!("DAMAGE: {d}");
        }
        for u in &r.unapplied {
            eprintln!(
                "DAMAGE: {u}: indexed as a leaf, but its post/check/watch rows could not be derived"
            );
        }
        for m in &r.moved {
            eprintln!("moved the damaged old file to {}", m.display());
        }
        if !r.unknown_leaf_hashes.is_empty() {
            eprintln!(
                "DAMAGE: no leaf hash is known for leaves {:?} (their records are unreadable and \
                 neither the old index nor the stored tree hashes vouch for them): the log \
                 cannot be extended until they are restored from a backup",
                r.unknown_leaf_hashes
            );
        }
        say(
            s,
            format!(
                "reindexed {} records{}",
                r.records,
                if r.damaged.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} damaged ranges skipped (every readable record is indexed)",
                        r.damaged.len()
                    )
                }
            ),
        );
    }
    Ok(if r.damage_found() { 3 } else { 0 })
}

/// `samizdat watch ...`.
mod watch_cmd {
    use super::*;
    use samizdat::watch::{Report, Watcher};

    fn report(s: &Settings, r: &Report, failed: &mut usize) {
        if r.action == "failed" {
            *failed += 1;
        }
        if s.json {
            print_json(&serde_json::to_value(r).expect("JSON"));
        } else if !s.quiet {
            let mut line = format!("{} {}", r.action, r.url);
            if let Some(id) = &r.post_id {
                line += &format!(" -> {id}");
            }
            if let Some(o) = r.outcome {
                line += &format!(": {}", o.as_str());
            }
            if let Some(c) = r.cause {
                line += &format!(" (cause {})", c.as_str());
            }
            if let Some(m) = &r.message {
                line += &format!(" \"{m}\"");
            }
            if let Some(e) = &r.error {
                line += &format!(": {e}");
            }
            if let Some(n) = &r.next_check {
                line += &format!("; next {n}");
            }
            eprintln!("{line}");
        }
    }

    pub fn run(s: &Settings, cmd: WatchCommand) -> Result<u8> {
        match cmd {
            WatchCommand::List => return list(s),
            WatchCommand::Status => return status(s),
            _ => {}
        }
        let config = load_config(s)?;
        let ts_config = config.clone();
        let fetcher = Arc::new(Fetcher::new(&config, &s.config_path)?);
        let archive = Archive::open(&s.archive, config.clone())?;
        let (writer, handle) = Writer::start(archive);
        let w = Watcher::new(&config, fetcher, writer, s.archive.join(layout::INDEX));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .at("tokio runtime")?;
        let mut failed = 0usize;
        let res: Result<()> = rt.block_on(async {
            match cmd {
                WatchCommand::Add {
                    mut urls,
                    from,
                    every,
                    backfill,
                } => {
                    if let Some(f) = &from {
                        urls.extend(read_url_list(f)?);
                    }
                    if urls.is_empty() {
                        return Err(Error::Usage("watch add: give URLs (or --from FILE)".into()));
                    }
                    w.add_many(&urls, every, backfill, |r| report(s, r, &mut failed))
                        .await;
                }
                WatchCommand::Remove { urls } => {
                    for u in urls {
                        let r = w.remove(&u).await;
                        report(s, &r, &mut failed);
                    }
                }
                WatchCommand::Check { urls, all } => {
                    if urls.is_empty() && !all {
                        return Err(Error::Usage("watch check: give URLs or --all".into()));
                    }
                    w.check_now(&urls, all, |r| report(s, r, &mut failed))
                        .await?;
                }
                WatchCommand::Run { once } => {
                    if once {
                        let mut gone = false;
                        let sum = w
                            .run_once(|r| {
                                gone |= r.outcome.is_some_and(|o| o.is_gone());
                                report(s, r, &mut failed)
                            })
                            .await?;
                        say_summary(s, &sum);
                        auto_timestamp(s, &ts_config, gone, &mut failed).await;
                    } else {
                        run_forever(s, &w, &ts_config, &mut failed).await?;
                    }
                }
                WatchCommand::List | WatchCommand::Status => unreachable!(),
            }
            Ok(())
        });
        drop(w);
        drop(rt);
        let _ = handle.join();
        res?;
        Ok(if failed > 0 { 1 } else { 0 })
    }

    /// Timestamps the latest checkpoint when it is due (see `evidence::auto_timestamp`).
    async fn auto_timestamp(s: &Settings, config: &Config, gone: bool, failed: &mut usize) {
        let (root, config, path) = (s.archive.clone(), config.clone(), s.config_path.clone());
        let res = tokio::task::spawn_blocking(move || {
            samizdat::evidence::auto_timestamp(&root, &config, &path, gone)
        })
        .await;
        match res {
            Ok(None) => {}
            Ok(Some(Ok((cp, outcomes)))) => {
                for o in outcomes {
                    if o.error.is_some() {
                        *failed += 1;
                    }
                    if s.json {
                        print_json(
                            &json!({"action": "timestamped", "checkpoint_size": cp.size, "tsa": o}),
                        );
                    } else if !s.quiet {
                        eprintln!(
                            "timestamp of checkpoint {} from {}: {}",
                            cp.size,
                            o.tsa,
                            o.error.as_deref().unwrap_or("ok")
                        );
                    }
                }
            }
            Ok(Some(Err(e))) => {
                *failed += 1;
                eprintln!("samizdat: timestamp failed: {e}");
            }
            Err(e) => {
                *failed += 1;
                eprintln!("samizdat: timestamp failed: {e}");
            }
        }
    }

    /// Batches until SIGINT or SIGTERM. A signal stops new checks and polls from starting;
    /// those in flight finish and are written whole, so no capture or check is cut in half,
    /// and what was not started stays due for the next start.
    async fn run_forever(
        s: &Settings,
        w: &Watcher,
        config: &Config,
        failed: &mut usize,
    ) -> Result<()> {
        let stop = w.stop.clone();
        let notify = Arc::new(tokio::sync::Notify::new());
        {
            let stop = stop.clone();
            let notify = notify.clone();
            tokio::spawn(async move {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                notify.notify_waiters();
            });
        }
        say(s, "watching; stop with Ctrl-C or SIGTERM");
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let mut gone = false;
            let sum = w
                .run_once(|r| {
                    gone |= r.outcome.is_some_and(|o| o.is_gone());
                    report(s, r, failed)
                })
                .await?;
            say_summary(s, &sum);
            auto_timestamp(s, config, gone, failed).await;
            if stop.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            // Work left that a batch could do now: go on at once (politeness paces it);
            // otherwise wait a little for the next due item.
            let pause = if sum.more_due() {
                std::time::Duration::from_millis(10)
            } else {
                std::time::Duration::from_secs(5)
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = notify.notified() => {}
            }
        }
        say(s, "stopped cleanly");
        Ok(())
    }

    fn list(s: &Settings) -> Result<u8> {
        let ix = open_index(s)?;
        for r in ix.watchlist(None)? {
            if s.json {
                print_json(&serde_json::to_value(&r).expect("JSON"));
            } else {
                eprintln!(
                    "{}  {}  {}  next {}{}  from {}",
                    r.kind,
                    r.url,
                    r.state
                        .as_deref()
                        .or(r.last_error.as_deref())
                        .unwrap_or("-"),
                    r.next_due,
                    r.every.map(|e| format!(" (every {e})")).unwrap_or_default(),
                    r.origin
                );
            }
        }
        Ok(0)
    }

    /// One line on what a batch left for later, when it left anything.
    fn say_summary(s: &Settings, sum: &samizdat::watch::RunSummary) {
        if s.json {
            return;
        }
        let left = sum.backing_off + sum.over_host_budget + sum.over_batch + sum.stopped;
        if left > 0 {
            say(
                s,
                format!(
                    "ran {}; left due for later: {} (hosts backing off {}, over the per-host budget {}, over the batch {}, not started because of the stop {})",
                    sum.ran,
                    left,
                    sum.backing_off,
                    sum.over_host_budget,
                    sum.over_batch,
                    sum.stopped
                ),
            );
        }
    }

    fn status(s: &Settings) -> Result<u8> {
        let ix = open_index(s)?;
        let config = load_config(s)?;
        let v = samizdat::watch::status(&ix, &config)?;
        if s.json {
            print_json(&v);
        } else {
            eprintln!("posts by state:");
            for (k, n) in v["posts_by_state"].as_object().into_iter().flatten() {
                eprintln!("  {k}: {n}");
            }
            eprintln!(
                "due now: {} posts, {} accounts",
                v["due"]["posts"], v["due"]["accounts"]
            );
            let b = &v["next_batch"];
            eprintln!(
                "a batch now would run {} and leave {} for later ({} hosts backing off, {} over the per-host budget of {}, {} over the batch of {})",
                b["would_run"],
                b["backing_off"].as_u64().unwrap_or(0)
                    + b["over_host_budget"].as_u64().unwrap_or(0)
                    + b["over_batch"].as_u64().unwrap_or(0),
                b["backing_off"],
                b["over_host_budget"],
                b["host_budget"],
                b["over_batch"],
                b["batch"]
            );
            for h in v["hosts"].as_array().into_iter().flatten() {
                if h["failures_in_a_row"].as_u64().unwrap_or(0) == 0 {
                    continue;
                }
                eprintln!(
                    "host {}: {} failures in a row, last at {}: {}{}",
                    h["host"].as_str().unwrap_or("?"),
                    h["failures_in_a_row"],
                    h["last_failure"].as_str().unwrap_or("?"),
                    h["last_error"].as_str().unwrap_or(""),
                    h["backing_off_until"]
                        .as_str()
                        .map(|u| format!("; left alone until {u}"))
                        .unwrap_or_default()
                );
            }
            for (h, e) in v["last_error_per_host"].as_object().into_iter().flatten() {
                eprintln!(
                    "last error {h} at {}: {}",
                    e["at"].as_str().unwrap_or("?"),
                    e["message"].as_str().unwrap_or("")
                );
            }
        }
        Ok(0)
    }
}
