//! The one renderer: every value a command returns becomes either one JSON line on
//! stdout (`--json`, the machine interface) or [`Line`]s for a person (docs/cli.md,
//! "Where output goes"). A type says both in its [`Render`] impl; [`emit`] prints them.
//!
//! The split is made here, once: what a command is for (its result: a list, a post, a
//! report, a key, a checkpoint, one line per item done) is [`Line::Out`] and goes to
//! stdout, so it pipes; notes about the run (progress, summaries, warnings) are
//! [`Line::Say`] on stderr, silenced by `--quiet`; the error that stops a command goes
//! to stderr always, through [`err`]. Every write goes through [`out`] / [`err`], which
//! never panic: a reader that closed the pipe (`samizdat list | head -1`) ends stdout
//! quietly ([`stdout_closed`]) and the command finishes its work with its own exit code.

use super::settings::Settings;
use samizdat::capture::CaptureResult;
use samizdat::evidence::check::{self, Kind};
use samizdat::evidence::{Exported, Timestamped, TsaOutcome};
use samizdat::store::archive::Reindexed;
use samizdat::store::index::WatchRow;
use samizdat::watch::{Event, Report, RunSummary};
use serde_json::{Value, json};
use std::io::Write;

/// One line for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A note about the run (progress, a summary, a warning): stderr, unless `--quiet`.
    Say(String),
    /// The result, what the command is for: stdout, with a newline.
    Out(String),
    /// The result, exactly as given (a stored checkpoint, byte for byte): stdout.
    OutRaw(String),
}

/// Set once a write to stdout found the reader gone (`EPIPE`): nothing more is written
/// there, and nothing is said about it.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether stdout's reader has gone away.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes `text` to stdout and flushes it. A closed pipe (or any other failure to
/// write) is not an error and never a panic: stdout is marked closed and later writes
/// are skipped, so the command ends quietly (docs/cli.md, "A closed pipe").
pub fn out(text: &str) {
    if stdout_closed() {
        return;
    }
    let mut o = std::io::stdout().lock();
    if o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .is_err()
    {
        STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Writes one line to stderr; a stderr that cannot be written is no reason to panic.
pub fn err(line: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{line}");
}

/// Hex digits a long id keeps in human output, like git's short hashes.
pub const SHORT_HEX: usize = 12;

/// An id as a person's line shows it (docs/cli.md, "Short ids"): a post id whose part
/// after the platform is 32 or more hex digits (`web:<64 hex>`) becomes its first
/// [`SHORT_HEX`] digits; any other id (`weibo:4983123456789012`) stays whole. `show`
/// and the other commands that take a post accept the short form back.
pub fn short_id(id: &str) -> String {
    match id.split_once(':') {
        Some((platform, rest))
            if rest.len() >= 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            format!("{platform}:{}", &rest[..SHORT_HEX])
        }
        _ => id.to_string(),
    }
}

/// The width a human line is kept within (docs/cli.md, "Short ids").
pub const COLUMNS: usize = 120;

/// Terminal columns of one character: 2 for East Asian wide and full-width characters
/// (CJK, Hangul, full-width forms, most emoji), 0 for combining marks, else 1.
fn char_cols(c: char) -> usize {
    let u = c as u32;
    if matches!(u, 0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F) {
        0
    } else if matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0xA4CF | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
    {
        2
    } else {
        1
    }
}

/// Terminal columns of `s`.
pub fn cols(s: &str) -> usize {
    s.chars().map(char_cols).sum()
}

/// `s` on one line (newlines and tabs as spaces) cut to at most `max` columns, with
/// `…` when something was cut.
pub fn fit(s: &str, max: usize) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cols(&one) <= max {
        return one;
    }
    let mut out = String::new();
    let mut used = 0;
    for c in one.chars() {
        let w = char_cols(c);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// A result the command line shows.
pub trait Render {
    /// The `--json` value (one line on stdout).
    fn json(&self) -> Value;
    /// The words for a person.
    fn human(&self) -> Vec<Line>;
}

/// Prints `r` as `--json` asks: its JSON line, or its words.
pub fn emit(s: &Settings, r: &impl Render) {
    if s.json {
        print_json(&r.json());
    } else {
        print_lines(s, &r.human());
    }
}

/// Prints lines for a person.
pub fn print_lines(s: &Settings, lines: &[Line]) {
    for l in lines {
        match l {
            Line::Say(m) => say(s, m),
            Line::Out(m) => out(&format!("{m}\n")),
            Line::OutRaw(m) => out(m),
        }
    }
}

/// Human words on stderr unless --quiet.
pub fn say(s: &Settings, msg: impl AsRef<str>) {
    if !s.quiet {
        err(msg.as_ref());
    }
}

/// One JSON line on stdout.
pub fn print_json(v: &Value) {
    out(&format!("{v}\n"));
}

/// A serialisable library value as JSON (these types cannot fail to serialise; if one
/// ever did, the JSON line says so rather than the process panicking).
pub fn to_json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or_else(|e| json!({"error": e.to_string()}))
}

/// `init`.
pub struct Initialised {
    pub archive: std::path::PathBuf,
    pub existed: bool,
    /// The log's name (C2SP origin), fixed for its life.
    pub origin: String,
    pub vkey: String,
    /// Hex SHA-256 of the public key: the one form `verify` and `verify-bundle` print.
    pub fingerprint: String,
}

impl Initialised {
    pub fn of(
        a: &samizdat::store::archive::Archive,
        root: &std::path::Path,
        existed: bool,
    ) -> Self {
        let v = a.log_verifier();
        Initialised {
            archive: root.to_path_buf(),
            existed,
            origin: v.name().to_string(),
            vkey: v.to_vkey(),
            fingerprint: v.fingerprint(),
        }
    }

    /// What the key is and what to do with it, said once when an archive is made.
    pub fn explain(&self) -> Vec<String> {
        vec![
            format!("log origin: {} (the log's name, fixed for its life)", self.origin),
            format!(
                "verifier key (also in {}): anyone checks your checkpoints and evidence bundles with it.",
                self.archive.join("keys/log.vkey").display()
            ),
            "Publish it where people can find it without a bundle (your website, a repository, a report),".into(),
            "and keep keys/log.key secret and backed up: it signs in your log's name.".into(),
            format!("key fingerprint: {}", self.fingerprint),
        ]
    }
}

impl Render for Initialised {
    fn json(&self) -> Value {
        json!({"archive": self.archive, "created": !self.existed, "origin": self.origin, "vkey": self.vkey, "vkey_fingerprint": self.fingerprint})
    }
    fn human(&self) -> Vec<Line> {
        let mut v = vec![Line::Say(format!(
            "{} archive at {}",
            if self.existed { "existing" } else { "created" },
            self.archive.display()
        ))];
        v.extend(self.explain().into_iter().map(Line::Say));
        v.push(Line::Out(self.vkey.clone()));
        v
    }
}

impl Render for CaptureResult {
    fn json(&self) -> Value {
        to_json(self)
    }
    fn human(&self) -> Vec<Line> {
        let line = match (&self.post_id, &self.error) {
            (Some(id), None) => format!(
                "captured {} -> {} ({} records)",
                self.url,
                short_id(id),
                self.record_ids.len()
            ),
            (_, Some(e)) => format!(
                "{} {}: {e}",
                self.status.to_uppercase().replace('_', " "),
                self.url
            ),
            (None, None) => format!("{} {}", self.status, self.url),
        };
        let mut out = vec![Line::Out(line)];
        if let Some(c) = &self.comments {
            use samizdat::store::bodies::ThreadStatus;
            let how = match c.status {
                ThreadStatus::Complete => "all there were".to_string(),
                ThreadStatus::Limit => {
                    "stopped at the limit, [capture] comments or --comments".into()
                }
                s => format!(
                    "{}{}",
                    s.as_str(),
                    c.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            };
            let gone = if c.gone > 0 {
                format!(", {} listed as gone", c.gone)
            } else {
                String::new()
            };
            out.push(Line::Out(format!(
                "  comments: {} read ({how}){gone}",
                c.listed
            )));
        }
        out.extend(
            self.warnings
                .iter()
                .map(|w| Line::Say(format!("  warning: {w}"))),
        );
        out
    }
}

impl Render for samizdat::verify::Report {
    fn json(&self) -> Value {
        to_json(self)
    }
    fn human(&self) -> Vec<Line> {
        let mut out: Vec<Line> = self
            .notes
            .iter()
            .map(|n| Line::Out(format!("note: {n}")))
            .collect();
        out.extend(
            self.problems
                .iter()
                .map(|p| Line::Out(format!("DAMAGE: {p}"))),
        );
        out.push(Line::Out(format!(
            "log {}, key fingerprint: {}",
            self.origin, self.vkey_fingerprint
        )));
        out.push(Line::Out(format!(
            "{} records in {} files ({} MB), {} checkpoints; tree size {} root {}",
            self.records,
            self.files,
            self.bytes / 1_000_000,
            self.checkpoints,
            self.tree_size,
            self.root
        )));
        out.push(Line::Out(if self.ok() {
            "verify: OK".to_string()
        } else {
            format!("verify: {} problems", self.problems.len())
        }));
        out
    }
}

impl Render for Reindexed {
    fn json(&self) -> Value {
        to_json(self)
    }
    fn human(&self) -> Vec<Line> {
        let mut out: Vec<Line> = self
            .notes
            .iter()
            .map(|n| Line::Out(format!("note: {n}")))
            .collect();
        out.extend(
            self.damaged
                .iter()
                .map(|d| Line::Out(format!("DAMAGE: {d}"))),
        );
        out.extend(self.unapplied.iter().map(|u| {
            Line::Out(format!(
                "DAMAGE: {u}: indexed as a leaf, but its post/check/watch rows could not be derived"
            ))
        }));
        out.extend(
            self.moved
                .iter()
                .map(|m| Line::Out(format!("moved the damaged old file to {}", m.display()))),
        );
        if !self.unknown_leaf_hashes.is_empty() {
            out.push(Line::Out(format!(
                "DAMAGE: no leaf hash is known for leaves {:?} (their records are unreadable and \
                 neither the old index nor the stored tree hashes vouch for them): the log \
                 cannot be extended until they are restored from a backup",
                self.unknown_leaf_hashes
            )));
        }
        out.push(Line::Out(format!(
            "reindexed {} records{}",
            self.records,
            if self.damaged.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} damaged ranges skipped (every readable record is indexed)",
                    self.damaged.len()
                )
            }
        )));
        out
    }
}

/// The words for one TSA's answer of `timestamp` / `capture --timestamp`.
fn tsa_line(size: u64, o: &TsaOutcome) -> Option<Line> {
    match (&o.token, &o.error) {
        (Some(t), _) => Some(Line::Out(format!(
            "timestamped checkpoint {} by {}: {} (signer {}{}{}) -> {}{}",
            size,
            o.tsa,
            t.gen_time,
            t.signer,
            if t.chain_checked {
                ", chain checked against tsa_ca"
            } else {
                ", chain NOT checked: no tsa_ca configured"
            },
            o.clock_offset_ms
                .map(|ms| format!(", local clock {ms:+} ms"))
                .unwrap_or_default(),
            o.file.as_deref().unwrap_or(""),
            o.clock_warning
                .as_deref()
                .map(|w| format!("\nwarning: {w}"))
                .unwrap_or_default()
        ))),
        (_, Some(e)) => Some(Line::Out(format!("FAILED {}: {e}", o.tsa))),
        _ => None,
    }
}

impl Render for Timestamped {
    fn json(&self) -> Value {
        json!({"checkpoint_size": self.checkpoint.size, "tokens": self.outcomes})
    }
    fn human(&self) -> Vec<Line> {
        self.outcomes
            .iter()
            .filter_map(|o| tsa_line(self.checkpoint.size, o))
            .collect()
    }
}

impl Render for Exported {
    fn json(&self) -> Value {
        match self {
            Exported::Bundle(b) => to_json(b),
            Exported::Wacz(w) => to_json(w),
        }
    }
    fn human(&self) -> Vec<Line> {
        match self {
            Exported::Bundle(b) => {
                let mut out = vec![Line::Out(format!(
                    "wrote {} ({} records, checkpoint {}, {} timestamps)",
                    b.bundle.display(),
                    b.records,
                    b.checkpoint_size,
                    b.timestamps
                ))];
                if b.timestamps == 0 {
                    out.push(Line::Say("note: no timestamped checkpoint covers this post yet: run `samizdat timestamp` and export again".into()));
                }
                out
            }
            Exported::Wacz(w) => vec![Line::Out(format!(
                "wrote {} ({} posts, {} records, {} pages)",
                w.wacz.display(),
                w.posts,
                w.records,
                w.pages
            ))],
        }
    }
}

/// `s` with control characters escaped: member names and record fields come from the
/// file, and must not print lines (or terminal escapes) of their own.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

impl Render for check::Report {
    fn json(&self) -> Value {
        let facts = &self.facts;
        let (proven, not_proven) = check::conclusions(self);
        json!({"ok": self.verdict() == check::Verdict::Evidence, "kind": self.kind, "consistent": self.consistent(), "findings": self.findings,
            "vkey_fingerprint": facts.fingerprint, "vkey_checked": facts.key_given,
            "tsa_checked": facts.tsa_given, "timestamps": facts.times, "proven": proven, "not_proven": not_proven})
    }
    fn human(&self) -> Vec<Line> {
        let facts = &self.facts;
        let (proven, not_proven) = check::conclusions(self);
        let mut out: Vec<Line> = self
            .findings
            .iter()
            .map(|f| {
                Line::Out(format!(
                    "{} {}: {}",
                    if f.ok { "ok  " } else { "FAIL" },
                    printable(&f.file),
                    printable(&f.what)
                ))
            })
            .collect();
        out.push(Line::Out(String::new()));
        if self.kind == Kind::Bundle {
            out.push(Line::Out(format!(
                "log key fingerprint: {}",
                facts.fingerprint.as_deref().unwrap_or("(unreadable)")
            )));
            if !facts.key_given {
                out.push(Line::Out(
                    "  IDENTITY NOT CHECKED: the key was taken from inside the bundle; pass --vkey with the key the archive published.".into(),
                ));
            }
            if !facts.tsa_given && facts.tokens > 0 {
                out.push(Line::Out(
                    "  TSA IDENTITY NOT CHECKED: the TSA certificates were taken from inside the bundle; pass --tsa-ca with the authority's own CA certificate.".into(),
                ));
            }
            out.push(Line::Out(String::new()));
        }
        out.push(Line::Out(
            match (self.consistent(), self.kind) {
                (false, _) | (_, Kind::Unreadable) => {
                    "verify-bundle: TAMPERING OR DAMAGE FOUND (see FAIL lines)"
                }
                (true, Kind::Wacz) => {
                    "verify-bundle: a consistent WACZ package, NOT EVIDENCE: it carries no log proofs, checkpoint or timestamp (exit 1)"
                }
                (true, Kind::Bundle) => "verify-bundle: every check passed",
            }
            .into(),
        ));
        out.push(Line::Out("What this proves:".into()));
        out.extend(proven.iter().map(|p| Line::Out(format!("  - {p}"))));
        out.push(Line::Out("What this does not prove:".into()));
        out.extend(not_proven.iter().map(|p| Line::Out(format!("  - {p}"))));
        out
    }
}

impl Render for Report {
    fn json(&self) -> Value {
        to_json(self)
    }
    fn human(&self) -> Vec<Line> {
        let mut line = format!("{} {}", self.action, self.url);
        if let Some(id) = &self.post_id {
            line += &format!(" -> {}", short_id(id));
        }
        if let Some(o) = self.outcome {
            line += &format!(": {}", o.as_str());
        }
        if let Some(c) = self.cause {
            line += &format!(" (cause {})", c.as_str());
        }
        if let Some(m) = &self.message {
            line += &format!(" \"{m}\"");
        }
        if let Some(e) = &self.error {
            line += &format!(": {e}");
        }
        if let Some(n) = &self.next_check {
            line += &format!("; next {n}");
        }
        if let Some(c) = &self.comments {
            line += &format!(
                "; comments re-read: {} listed, {} new ({}{})",
                c.listed,
                c.new,
                c.status.as_str(),
                c.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
        }
        vec![Line::Out(line)]
    }
}

impl Render for RunSummary {
    /// A batch's summary is words only: `--json` prints nothing for it.
    fn json(&self) -> Value {
        Value::Null
    }
    /// One line on what a batch left for later, when it left anything.
    fn human(&self) -> Vec<Line> {
        let left = self.backing_off + self.over_host_budget + self.over_batch + self.stopped;
        if left == 0 {
            return vec![];
        }
        vec![Line::Say(format!(
            "ran {}; left due for later: {} (hosts backing off {}, over the per-host budget {}, over the batch {}, not started because of the stop {})",
            self.ran, left, self.backing_off, self.over_host_budget, self.over_batch, self.stopped
        ))]
    }
}

impl Render for WatchRow {
    fn json(&self) -> Value {
        to_json(self)
    }
    fn human(&self) -> Vec<Line> {
        vec![Line::Out(format!(
            "{}  {}  {}  next {}{}  from {}",
            self.kind,
            self.url,
            self.state
                .as_deref()
                .or(self.last_error.as_deref())
                .unwrap_or("-"),
            self.next_due,
            self.every
                .as_ref()
                .map(|e| format!(" (every {e})"))
                .unwrap_or_default(),
            self.origin
        ))]
    }
}

/// What the monitor said, and how many failures it counts.
pub fn event(s: &Settings, e: &Event<'_>, failed: &mut usize) {
    match e {
        Event::Watching => say(s, "watching; stop with Ctrl-C or SIGTERM"),
        Event::Stopped => say(s, "stopped cleanly"),
        Event::Report(r) => {
            if r.action == "failed" {
                *failed += 1;
            }
            emit(s, *r);
        }
        Event::Batch(sum) => {
            if !s.json {
                print_lines(s, &sum.human());
            }
        }
        Event::Timestamped {
            checkpoint_size,
            outcomes,
        } => {
            for o in outcomes.iter() {
                if o.error.is_some() {
                    *failed += 1;
                }
                if s.json {
                    print_json(
                        &json!({"action": "timestamped", "checkpoint_size": checkpoint_size, "tsa": o}),
                    );
                } else {
                    say(
                        s,
                        format!(
                            "timestamp of checkpoint {} from {}: {}",
                            checkpoint_size,
                            o.tsa,
                            o.error.as_deref().unwrap_or("ok")
                        ),
                    );
                }
            }
        }
        // A failure to timestamp is said even with --json (on stderr).
        Event::TimestampFailed(m) => {
            *failed += 1;
            err(&format!("samizdat: timestamp failed: {m}"));
        }
    }
}

/// `watch status`, in words.
impl Render for samizdat::alerts::Sent {
    fn json(&self) -> Value {
        let mut v = to_json(self);
        v["action"] = Value::String("alert".into());
        v
    }
    fn human(&self) -> Vec<Line> {
        let post = self
            .post_id
            .as_deref()
            .map(|p| format!(" {p}"))
            .unwrap_or_default();
        vec![match (&self.ok, &self.error) {
            (true, None) => Line::Out(format!(
                "alert {}{post} sent to {} ({})",
                self.event, self.target, self.to
            )),
            (true, Some(e)) => Line::Out(format!(
                "alert {}{post} sent to {} ({}), but {e}",
                self.event, self.target, self.to
            )),
            (false, e) => Line::Out(format!(
                "alert {}{post} to {} ({}) FAILED: {}; it is tried again",
                self.event,
                self.target,
                self.to,
                e.as_deref().unwrap_or("?")
            )),
        }]
    }
}

/// One witness submission, in words or as a JSON line.
pub fn witnessed(s: &Settings, sub: &samizdat::evidence::witness::Submitted) {
    if s.json {
        let mut v = to_json(sub);
        v["action"] = Value::String("witness".into());
        print_json(&v);
    } else if let Some(e) = &sub.error {
        say(
            s,
            format!(
                "witness {} ({}) FAILED to cosign size {}: {e}",
                sub.witness, sub.host, sub.size
            ),
        );
    } else {
        say(
            s,
            format!(
                "witness {} ({}) cosigned size {}",
                sub.witness, sub.host, sub.size
            ),
        );
    }
}

/// The alert targets, in words (`alerts status`, and the end of `watch status`).
pub fn alert_targets(v: &[samizdat::store::views::AlertTargetStatus]) -> Vec<Line> {
    let mut out = vec![];
    for t in v {
        out.push(Line::Out(format!(
            "alerts {} ({}) on {}: {}; {} delivered, {} waiting",
            t.target,
            t.to,
            t.on.join(", "),
            match &t.since {
                Some(s) => format!("since {s}"),
                None => "not begun (it begins at the next `watch run` or `alerts send`)".into(),
            },
            t.delivered,
            t.waiting
        )));
        if let Some(f) = &t.failing {
            out.push(Line::Out(format!(
                "  FAILING: {} alerts not delivered after {} attempts, failing since {}, last at {}: {}",
                f.waiting,
                f.attempts,
                f.first_failed,
                f.last_failed,
                f.last_error.as_deref().unwrap_or("?")
            )));
        }
    }
    out
}

pub fn watch_status(v: &samizdat::store::views::WatchStatus) -> Vec<Line> {
    let c = &v.counts;
    let mut out = vec![Line::Out("posts by state:".into())];
    for (k, n) in &c.posts_by_state {
        out.push(Line::Out(format!("  {k}: {n}")));
    }
    out.push(Line::Out(format!(
        "due now: {} posts, {} accounts",
        c.due.posts, c.due.accounts
    )));
    let b = &v.next_batch;
    out.push(Line::Out(format!(
        "a batch now would run {} and leave {} for later ({} hosts backing off, {} over the per-host budget of {}, {} over the batch of {})",
        b.would_run,
        b.backing_off + b.over_host_budget + b.over_batch,
        b.backing_off,
        b.over_host_budget,
        b.host_budget,
        b.over_batch,
        b.batch
    )));
    for h in v.hosts.iter().filter(|h| h.failures_in_a_row > 0) {
        out.push(Line::Out(format!(
            "host {}: {} failures in a row, last at {}: {}{}",
            h.host,
            h.failures_in_a_row,
            h.last_failure.as_deref().unwrap_or("?"),
            h.last_error.as_deref().unwrap_or(""),
            h.backing_off_until
                .as_deref()
                .map(|u| format!("; left alone until {u}"))
                .unwrap_or_default()
        )));
    }
    for (h, e) in &c.last_error_per_host {
        out.push(Line::Out(format!(
            "last error {h} at {}: {}",
            e.at,
            e.message.as_deref().unwrap_or("")
        )));
    }
    out.extend(alert_targets(&v.alerts));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_hex_ids_are_shortened_and_others_kept() {
        let web = format!("web:{}", "ab12".repeat(16));
        assert_eq!(short_id(&web), "web:ab12ab12ab12");
        assert_eq!(short_id("weibo:4983123456789012"), "weibo:4983123456789012");
        assert_eq!(short_id("bluesky:did:plc:abc/3k"), "bluesky:did:plc:abc/3k");
    }

    #[test]
    fn fit_counts_wide_characters_twice() {
        assert_eq!(fit("abc", 5), "abc");
        assert_eq!(fit("abcdef", 5), "abcd…");
        let cut = fit("微博微博微博", 7);
        assert_eq!(cut, "微博微…");
        assert!(cols(&cut) <= 7);
        assert_eq!(fit("a\nb", 5), "a b");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\u{a}b\\u{1b}[31m");
    }

    #[test]
    fn a_batch_that_left_nothing_says_nothing() {
        assert!(RunSummary::default().human().is_empty());
        let sum = RunSummary {
            ran: 3,
            over_batch: 2,
            ..RunSummary::default()
        };
        assert_eq!(
            sum.human(),
            vec![Line::Say("ran 3; left due for later: 2 (hosts backing off 0, over the per-host budget 0, over the batch 2, not started because of the stop 0)".into())]
        );
    }
}
