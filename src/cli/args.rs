//! The command line's grammar (clap): what `samizdat --help` shows. Parsing only; the
//! values are validated into typed settings by [`super::settings`]. Commands, options
//! and exit codes are described in docs/cli.md.

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The values `--platform` takes: every platform's name, from the library's one table
/// (`samizdat::platforms::PLATFORMS`), so a new platform needs no line here.
fn platforms() -> PossibleValuesParser {
    PossibleValuesParser::new(samizdat::platforms::PLATFORMS.iter().map(|p| p.name()))
}

/// The values `list --state` and `search --state` take: the library's one list of state
/// names (`samizdat::store::state::State`).
pub use samizdat::store::search::STATES;

#[derive(Parser, Debug)]
#[command(
    name = "samizdat",
    version,
    about = "Capture public posts into a tamper-evident WARC archive, and prove it."
)]
pub struct Cli {
    /// The archive folder.
    #[arg(
        long,
        global = true,
        env = "SAMIZDAT_ARCHIVE",
        default_value = "archive"
    )]
    pub archive: PathBuf,
    /// The config file (default: ARCHIVE/samizdat.toml).
    #[arg(long, global = true, env = "SAMIZDAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detail on stderr (-vv for debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the archive (config, signing key, index); prints the log's verifier key.
    Init {
        /// The log's name (its C2SP origin line and key name), e.g.
        /// `archive.example.org/samizdat`: fixed for the life of the log (default: a random
        /// `samizdat.local/<hex>`, or `[log] origin`).
        #[arg(long, value_name = "NAME")]
        origin: Option<String>,
    },
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
        /// Read at most N comments, replies and reposts with each post (0 = none;
        /// default `[capture] comments`, 200).
        #[arg(long, value_name = "N")]
        comments: Option<usize>,
        /// Afterwards, timestamp the new checkpoint with every configured TSA.
        #[arg(long)]
        timestamp: bool,
        /// Also put each captured post on the watchlist.
        #[arg(long)]
        watch: bool,
        /// Also render each capture in headless Chromium: a full-page screenshot, the DOM
        /// after scripts ran and every exchange the browser made (docs/render.md). Needs
        /// Chromium (`[browser] path`, or on PATH).
        #[arg(long)]
        render: bool,
    },
    /// One post with its whole history.
    Show {
        /// A post URL in any form, or a post id like weibo:5020313482168415.
        post: String,
    },
    /// List posts, newest capture first: one line each on stdout (captured, state, id,
    /// author, text). Filters combine: a post is listed when it matches every one given.
    List {
        /// Only posts of this platform.
        #[arg(long, value_parser = platforms())]
        platform: Option<String>,
        /// Only posts in this state (see docs/states.md): live and edited are there;
        /// deleted, restricted and account_gone are confirmed gone; gone_unconfirmed has
        /// one gone answer so far; not_found is an address with nothing at it.
        #[arg(long, value_parser = PossibleValuesParser::new(STATES))]
        state: Option<String>,
        /// Only posts whose latest capture is at or after this time: an RFC 3339 time
        /// (2026-01-02T15:04:05Z), a date (2026-01-02, midnight UTC), today or yesterday
        /// (midnight UTC), or a duration back from now (90s, 10m, 24h, 7d, 2w).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only posts by this author: the author's name or platform id, exactly.
        #[arg(long)]
        author: Option<String>,
        /// At most N posts; 0 = all.
        #[arg(long, value_name = "N", default_value_t = 100)]
        limit: usize,
    },
    /// Re-hash every record, rebuild the tree, check every checkpoint and the index.
    Verify {
        /// Write what was found into the log as a custody record (docs/provenance.md).
        #[arg(long)]
        record: bool,
    },
    /// The transparency log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Watch posts and accounts; re-check them on a schedule.
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Alerts (`[[alerts]]` in samizdat.toml): test the targets, send what is waiting.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// samizdat as a witness of other logs (C2SP tlog-witness): make its key, serve
    /// `add-checkpoint` for `[[witness.logs]]`.
    #[command(subcommand)]
    Witness(WitnessCommand),
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
        /// Posts whose text, author or URL contains Q (with --wacz, --csv or --jsonl).
        #[arg(long)]
        query: Option<String>,
        /// The whole archive (with --wacz).
        #[arg(long)]
        all: bool,
        /// Print the bundle's report to report.pdf with the browser (else only when
        /// `[browser] render` is not `never`); no browser is an error.
        #[arg(long, requires = "bundle")]
        pdf: bool,
        /// Posts as CSV for research, one row a post, their checks in FILE's
        /// `<stem>.checks.csv`, what was done in `FILE.meta.json` (docs/exports.md).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["bundle", "wacz", "jsonl"])]
        csv: Option<PathBuf>,
        /// The same as JSON lines.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["bundle", "wacz"])]
        jsonl: Option<PathBuf>,
        /// Only posts of this platform (with --csv or --jsonl).
        #[arg(long, value_parser = platforms())]
        platform: Option<String>,
        /// Only posts in this state (with --csv or --jsonl; the states of `list`).
        #[arg(long, value_parser = PossibleValuesParser::new(STATES))]
        state: Option<String>,
        /// Only posts captured at or after this time (with --csv or --jsonl; as `list`).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only posts by this author, name or platform id (with --csv or --jsonl).
        #[arg(long)]
        author: Option<String>,
        /// Replace authors by a keyed hash (HMAC-SHA-256, key in keys/pseudonym.key).
        #[arg(long)]
        pseudonymise: bool,
        /// No text, URL, media or names: ids, states and times (authors pseudonymised).
        #[arg(long)]
        ids_only: bool,
    },
    /// Serve the archive on the web: pages, JSON API, the public log.
    Serve {
        /// Address to listen on (default: [serve] listen, 127.0.0.1:8080).
        #[arg(long, env = "SAMIZDAT_LISTEN")]
        listen: Option<String>,
    },
    /// Full-text search over post text and author names, best match first (equal matches
    /// newest capture first): one line each on stdout (id, state, author, text), the count
    /// on stderr. Every word must match; English words match their inflections ("bank
    /// card" finds "bank cards"); Chinese, Japanese and Korean match by one or two
    /// characters. Filters combine, as `list`'s.
    Search {
        /// Words to find (at most 256 characters and 16 terms).
        query: String,
        /// Only posts of this platform.
        #[arg(long, value_parser = platforms())]
        platform: Option<String>,
        /// Only posts in this state (see `list --help` and docs/states.md).
        #[arg(long, value_parser = PossibleValuesParser::new(STATES))]
        state: Option<String>,
        /// Only posts last captured at or after this time: an RFC 3339 time, a date
        /// (2026-01-02, midnight UTC), today or yesterday (midnight UTC), or a duration
        /// back from now (90s, 10m, 24h, 7d, 2w).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only posts last captured before this time (the same forms as --since).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Skip the first N hits (the next page: --offset 20 with the default --limit).
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: usize,
        /// At most N hits; 0 = all (the 1,000 ranked at most).
        #[arg(long, value_name = "N", default_value_t = 20)]
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
        /// A C2SP tlog-policy: the log keys and witnesses you trust and the quorum that
        /// must have cosigned (else the bundle's own `policy`: identities unchecked, and a
        /// missing quorum is reported, not failed).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum WatchCommand {
    /// Watch a post, or an account / channel / feed whose new posts are captured and watched.
    Add {
        urls: Vec<String>,
        /// Read URLs from a file, one per line ('-' for stdin; # starts a comment).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Own interval for these entries (e.g. 30m), instead of the decaying schedule.
        #[arg(long)]
        every: Option<String>,
        /// For an account or feed: capture its N most recent posts too, now, during the add.
        #[arg(long)]
        backfill: Option<u32>,
        /// A tag for these entries (repeatable), which `[[alerts]] tag` filters on; posts
        /// found through a tagged account have its tags.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// The watchlist.
    List,
    /// Stop watching.
    Remove { urls: Vec<String> },
    /// The monitor: runs until SIGINT/SIGTERM. Says what is due next at start, with each
    /// batch on a non-terminal, and every SAMIZDAT_WATCH_NEXT_SECS (300) on a terminal.
    Run {
        /// Do what is due and exit.
        #[arg(long)]
        once: bool,
    },
    /// Check posts now, whatever the schedule says; a watched account or feed is polled
    /// (its new posts captured and watched).
    Check {
        urls: Vec<String>,
        /// Every watched post.
        #[arg(long)]
        all: bool,
    },
    /// Posts per state, checks due, last error per host.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Send a sample alert to every target now (nothing is recorded); exit 1 if any fails.
    Test,
    /// Send the alerts that are waiting (those `watch run` would send), then exit.
    Send,
    /// Each target: since when, what was delivered, what is waiting or failing.
    Status,
}

#[derive(Subcommand, Debug)]
pub enum WitnessCommand {
    /// Make the witness's Ed25519 key (keys/witness.key, 0600) when it is missing, and
    /// print its verifier key: the line a log operator puts in `[[log.witnesses]] vkey`.
    Init {
        /// The witness's name (its key name in cosignatures), e.g. `witness.example.org/1`.
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// Cosign the checkpoints of `[[witness.logs]]` that extend what this witness cosigned
    /// before: `POST /add-checkpoint`, until SIGINT or SIGTERM.
    Serve {
        /// Address to listen on (default: [witness] listen, 127.0.0.1:8081).
        #[arg(long)]
        listen: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
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
    /// Each witness (`[[log.witnesses]]`): the size it last cosigned and when; with
    /// `--now`, the latest checkpoint is submitted to every witness first.
    Witness {
        #[arg(long)]
        now: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_values_are_the_librarys() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        let list = cmd.find_subcommand("list").expect("list");
        let arg = list
            .get_arguments()
            .find(|a| a.get_id() == "platform")
            .expect("--platform");
        let ours: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        let known: Vec<String> = samizdat::platforms::PLATFORMS
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(ours, known);
        for s in STATES {
            let st = samizdat::store::state::State::parse(s).expect(s);
            assert_eq!(st.as_str(), s);
        }
        assert!(samizdat::store::state::State::parse("gone").is_none());
    }
}
