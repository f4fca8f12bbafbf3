//! The one map from what happened to the process exit code (docs/cli.md, "Exit codes"):
//! 0 done, 1 some item failed, 2 usage or config error, 3 damage or tampering found.

use samizdat::error::Error;
use samizdat::evidence::check::Verdict;

/// Everything asked for was done.
pub const OK: u8 = 0;
/// Some item failed (a capture, a check, a TSA); the rest was done.
pub const FAILED: u8 = 1;
/// The command line or the config file is wrong; nothing was done.
pub const USAGE: u8 = 2;
/// Damage or tampering was found.
pub const DAMAGE: u8 = 3;

/// The exit code of a command that stopped with `e`.
pub fn for_error(e: &Error) -> u8 {
    match e {
        Error::Config { .. } | Error::Usage(_) | Error::BadUrl { .. } => USAGE,
        Error::Damage(_) => DAMAGE,
        _ => FAILED,
    }
}

/// A command over many items: 1 when any failed.
pub fn for_failures(failed: usize) -> u8 {
    if failed > 0 { FAILED } else { OK }
}

/// `verify` and `reindex`: 3 when damage was found.
pub fn for_damage(found: bool) -> u8 {
    if found { DAMAGE } else { OK }
}

/// `verify-bundle`: a WACZ is a package, not evidence, so it exits 1 even when sound.
pub fn for_verdict(v: Verdict) -> u8 {
    match v {
        Verdict::Evidence => OK,
        Verdict::NotEvidence => FAILED,
        Verdict::Damaged => DAMAGE,
    }
}

/// A step after the main work (`capture --timestamp`) that failed makes the exit at
/// least 1; the work itself is kept.
pub fn and_failed(code: u8) -> u8 {
    code.max(FAILED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_their_codes() {
        assert_eq!(for_error(&Error::Usage("x".into())), USAGE);
        assert_eq!(
            for_error(&Error::Config {
                path: "c".into(),
                message: "m".into()
            }),
            USAGE
        );
        assert_eq!(for_error(&Error::Damage("d".into())), DAMAGE);
        assert_eq!(for_error(&Error::NotFound("n".into())), FAILED);
        assert_eq!(
            for_error(&Error::BadUrl {
                url: "x".into(),
                message: "m".into()
            }),
            USAGE
        );
    }

    #[test]
    fn outcomes_map_to_their_codes() {
        assert_eq!(for_failures(0), OK);
        assert_eq!(for_failures(2), FAILED);
        assert_eq!(for_damage(true), DAMAGE);
        assert_eq!(for_verdict(Verdict::Evidence), OK);
        assert_eq!(for_verdict(Verdict::NotEvidence), FAILED);
        assert_eq!(for_verdict(Verdict::Damaged), DAMAGE);
        assert_eq!(and_failed(OK), FAILED);
        assert_eq!(and_failed(DAMAGE), DAMAGE);
    }
}
