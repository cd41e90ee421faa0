//! Why a configuration could not be built, and where the offending setting came from.

use std::fmt;
use std::path::PathBuf;

/// Where a setting came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The command line.
    CommandLine,
    /// A line of a config file.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
}

/// Why the configuration could not be built. [`ConfigError::HelpRequested`] and
/// [`ConfigError::VersionRequested`] are not failures: print their text and exit 0.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `--help` or `-h`: the usage text, listing every option with its default.
    HelpRequested(String),
    /// `--version`: the version string.
    VersionRequested(String),
    /// An option nobody claimed, e.g. `unknown option: --foo`.
    UnknownOption(String),
    /// A command-line word that is not an option; we take no positional arguments.
    UnexpectedArgument(String),
    /// An option with a bad or missing value, or one not allowed where it was found.
    Invalid {
        /// Where it was.
        origin: Origin,
        /// The option's name, without dashes.
        option: String,
        /// What is wrong, e.g. `unknown network 'foo' (expected …)`.
        problem: String,
    },
    /// A config file exists but cannot be read (or an included one is missing).
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// No `--lightning-dir` and no home directory to put the default one in.
    NoHome,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::HelpRequested(text) | ConfigError::VersionRequested(text) => {
                f.write_str(text)
            }
            ConfigError::UnknownOption(option) => write!(f, "unknown option: {option}"),
            ConfigError::UnexpectedArgument(arg) => {
                write!(f, "unexpected argument '{arg}': lnpeerd takes only options")
            }
            ConfigError::Invalid {
                origin: Origin::CommandLine,
                option,
                problem,
            } => write!(f, "--{option}: {problem}"),
            ConfigError::Invalid {
                origin: Origin::File { path, line },
                option,
                problem,
            } => write!(
                f,
                "config file {} line {line}: {option}: {problem}",
                path.display()
            ),
            ConfigError::ReadFile { path, problem } => {
                write!(f, "cannot read config file {}: {problem}", path.display())
            }
            ConfigError::NoHome => f.write_str(
                "cannot find the default lightning directory: $HOME is not set \
                 (use --lightning-dir)",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
