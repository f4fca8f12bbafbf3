//! The one clock: everything that reads "now" (record dates, the watch schedule, WACZ
//! metadata, the age of stored timestamps) asks a [`Clock`] it was handed, so a fixed
//! clock (`SAMIZDAT_NOW=<RFC 3339>`, read once by the command line) moves all of them
//! together and tests move time instead of sleeping.

use crate::error::{Error, Result};

/// The name of the environment variable that fixes the clock.
pub const ENV: &str = "SAMIZDAT_NOW";

/// The system clock, or a fixed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The machine's clock.
    #[default]
    System,
    /// Always this instant (and no random jitter on schedules).
    Fixed(jiff::Timestamp),
}

impl Clock {
    /// [`ENV`] when set (a bad value is a usage error naming it), else the system clock.
    pub fn from_env() -> Result<Clock> {
        match std::env::var(ENV) {
            Ok(v) => Clock::parse(&v),
            Err(std::env::VarError::NotPresent) => Ok(Clock::System),
            Err(e) => Err(Error::Usage(format!("{ENV}: {e}"))),
        }
    }

    /// A fixed clock at an RFC 3339 time.
    pub fn parse(v: &str) -> Result<Clock> {
        v.trim()
            .parse()
            .map(Clock::Fixed)
            .map_err(|e| Error::Usage(format!("{ENV}={v:?}: not an RFC 3339 time: {e}")))
    }

    /// [`Clock::from_env`] for library callers that have no command line to report a bad
    /// value to: a bad value falls back to the system clock (as it always did), with a
    /// warning.
    pub fn from_env_or_system() -> Clock {
        Clock::from_env().unwrap_or_else(|e| {
            tracing::warn!("{e}; using the system clock");
            Clock::System
        })
    }

    /// Now.
    pub fn now(&self) -> jiff::Timestamp {
        match self {
            Clock::System => jiff::Timestamp::now(),
            Clock::Fixed(t) => *t,
        }
    }

    /// Whether the clock is fixed (schedules then carry no random jitter).
    pub fn is_fixed(&self) -> bool {
        matches!(self, Clock::Fixed(_))
    }

    /// Now as a WARC-Date.
    pub fn warc_date(&self) -> String {
        crate::store::warc::warc_date(self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_stands_still() {
        let c = Clock::parse("2024-05-01T12:00:00Z").unwrap();
        assert!(c.is_fixed());
        assert_eq!(c.now(), c.now());
        assert_eq!(c.warc_date(), "2024-05-01T12:00:00.000000Z");
        assert_eq!(c.now().as_second(), 1_714_564_800);
    }

    #[test]
    fn a_bad_fixed_time_is_a_usage_error_naming_the_variable() {
        let e = Clock::parse("yesterday").unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        assert!(e.to_string().contains(ENV), "{e}");
    }

    #[test]
    fn system_clock_moves() {
        let c = Clock::System;
        assert!(!c.is_fixed());
        assert!(c.now() > "2024-01-01T00:00:00Z".parse().unwrap());
    }
}
