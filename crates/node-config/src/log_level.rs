//! Log levels, lowest first: what `--log-level` sets, what `listpeers level` asks for and what
//! each remembered log line is (CLN's `enum log_level`).

use std::fmt;
use std::str::FromStr;

/// How important a log line is, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum LogLevel {
    /// Every message's bytes.
    Io,
    /// Finer than debugging detail (CLN's newer level; `listpeers` takes it).
    Trace,
    /// Details mainly useful for debugging.
    Debug,
    /// What is going on; CLN's default.
    #[default]
    Info,
    /// Strange but survivable.
    Unusual,
    /// Something is really wrong.
    Broken,
}

impl LogLevel {
    /// The levels `--log-level` takes, lowest first.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Io,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Unusual,
        LogLevel::Broken,
    ];

    /// The lower-case name: `io`, `trace`, `debug`, `info`, `unusual` or `broken`.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Io => "io",
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Unusual => "unusual",
            LogLevel::Broken => "broken",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--log-level` value that is not one of [`LogLevel::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLogLevel(pub String);

impl fmt::Display for UnknownLogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown log level '{}' (expected io, debug, info, unusual, broken)",
            self.0
        )
    }
}

impl std::error::Error for UnknownLogLevel {}

/// `--log-level`'s values: [`LogLevel::ALL`].
impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogLevel::ALL
            .into_iter()
            .find(|level| level.name() == s)
            .ok_or_else(|| UnknownLogLevel(s.to_owned()))
    }
}
