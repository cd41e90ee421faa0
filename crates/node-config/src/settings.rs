//! Reading settings: the command line and config files (with `include`) into `name[=value]`
//! settings that remember where they came from, the way `lightningd` reads them
//! (`common/configdir.c`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{ConfigError, Origin};
use crate::network::{Network, UnknownNetwork};
use crate::options::{kind_of, usage, Kind};
use crate::VERSION;

/// CLN's include depth limit (`gather_file_configvars`): deep enough for any real setup,
/// shallow enough to stop an include loop quickly.
const MAX_INCLUDE_DEPTH: usize = 100;

/// One `name[=value]` from the command line or a config file.
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
    pub(crate) origin: Origin,
}

impl Setting {
    pub(crate) fn invalid(&self, problem: &str) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin.clone(),
            option: self.name.clone(),
            problem: problem.to_owned(),
        }
    }

    pub(crate) fn value(&self) -> Result<&str, ConfigError> {
        self.value
            .as_deref()
            .ok_or_else(|| self.invalid("requires an argument"))
    }

    /// Refuses a developer option (CLN's `OPT_DEV`) unless `--developer` is given, in any
    /// source and in any order, as lightningd reads `--developer` before the other options.
    pub(crate) fn require_developer(&self, developer: bool) -> Result<(), ConfigError> {
        if developer {
            Ok(())
        } else {
            Err(self.invalid("requires --developer"))
        }
    }

    /// The network this setting selects, if it is `network` or one of its aliases.
    pub(crate) fn network(&self) -> Result<Option<Network>, ConfigError> {
        let alias = match self.name.as_str() {
            "network" => {
                let value = self.value()?;
                return value
                    .parse()
                    .map(Some)
                    .map_err(|e: UnknownNetwork| self.invalid(&e.to_string()));
            }
            "mainnet" => Network::Bitcoin,
            "testnet" => Network::Testnet,
            "testnet4" => Network::Testnet4,
            "signet" => Network::Signet,
            "regtest" => Network::Regtest,
            _ => return Ok(None),
        };
        if self.value.is_some() {
            return Err(self.invalid("does not take an argument"));
        }
        Ok(Some(alias))
    }
}

pub(crate) fn exit_request(setting: &Setting) -> Option<ConfigError> {
    match setting.name.as_str() {
        "help" => Some(ConfigError::HelpRequested(usage())),
        "version" => Some(ConfigError::VersionRequested(VERSION.to_owned())),
        _ => None,
    }
}

/// Splits the command line into settings, consuming `--name value` pairs.
pub(crate) fn command_line_settings(
    args: impl IntoIterator<Item = String>,
) -> Result<Vec<Setting>, ConfigError> {
    let mut settings = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--" {
            // Options end here, and we take no positional arguments.
            return match args.next() {
                Some(extra) => Err(ConfigError::UnexpectedArgument(extra)),
                None => Ok(settings),
            };
        }
        if arg == "-h" {
            settings.push(Setting {
                name: "help".to_owned(),
                value: None,
                origin: Origin::CommandLine,
            });
            continue;
        }
        let Some(long) = arg.strip_prefix("--") else {
            if arg.starts_with('-') {
                return Err(ConfigError::UnknownOption(arg));
            }
            return Err(ConfigError::UnexpectedArgument(arg));
        };
        let (name, mut value) = match long.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (long.to_owned(), None),
        };
        if name.is_empty() {
            return Err(ConfigError::UnknownOption(arg));
        }
        if value.is_none() {
            value = match kind_of(&name) {
                Some(Kind::Flag) => None,
                Some(Kind::Value) => match args.next() {
                    Some(next) => Some(next),
                    None => {
                        return Err(ConfigError::Invalid {
                            origin: Origin::CommandLine,
                            option: name,
                            problem: "requires an argument".to_owned(),
                        })
                    }
                },
                // Unknown: CLN guesses that a following non-option word is its value.
                None => args.next_if(|next| !next.starts_with('-')),
            };
        }
        settings.push(Setting {
            name,
            value,
            origin: Origin::CommandLine,
        });
    }
    Ok(settings)
}

/// Reads one config file (and what it includes) into settings. A missing file is empty
/// unless `required` (included files must exist, as in CLN).
pub(crate) fn read_config_file(
    path: &Path,
    required: bool,
    depth: usize,
) -> Result<Vec<Setting>, ConfigError> {
    let contents = match fs::read_to_string(path) {
        Ok(contents) => contents,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !required => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError::ReadFile {
                path: path.to_owned(),
                problem: e.to_string(),
            })
        }
    };
    let mut settings = Vec::new();
    for (index, raw) in contents.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin::File {
            path: path.to_owned(),
            line: index + 1,
        };
        if let Some(included) = line.strip_prefix("include ") {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ConfigError::Invalid {
                    origin,
                    option: "include".to_owned(),
                    problem: format!("includes nest deeper than {MAX_INCLUDE_DEPTH} (a loop?)"),
                });
            }
            let dir = path.parent().unwrap_or(Path::new(""));
            settings.extend(read_config_file(
                &dir.join(included.trim()),
                true,
                depth + 1,
            )?);
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().to_owned())),
            None => (line, None),
        };
        if name.starts_with('-') {
            return Err(ConfigError::Invalid {
                origin,
                option: name.to_owned(),
                problem: "config file options are written without leading dashes".to_owned(),
            });
        }
        settings.push(Setting {
            name: name.to_owned(),
            value,
            origin,
        });
    }
    Ok(settings)
}

/// Expands a leading `~` (alone or before `/`) to `home`; other paths are returned as is.
pub(crate) fn expand_home(value: &str, home: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let rest = match value.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => return Ok(PathBuf::from(value)),
    };
    Ok(home.ok_or(ConfigError::NoHome)?.join(rest))
}

/// The length of a private key in `--dev-force-privkey`.
const PRIVKEY_LEN: usize = 32;

/// `--dev-force-privkey`'s value: exactly 64 hex digits, in either case (CLN's `hex_decode`
/// wants the exact length). Whether it is a valid secp256k1 secret is for whoever uses the key
/// to check, as CLN's hsmd does.
pub(crate) fn parse_privkey(
    setting: &Setting,
    value: &str,
) -> Result<[u8; PRIVKEY_LEN], ConfigError> {
    let mut key = [0u8; PRIVKEY_LEN];
    hex::decode_to_slice(value, &mut key)
        .map_err(|_| setting.invalid(&format!("Unable to parse privkey '{value}'")))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, value: &str) -> Setting {
        Setting {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            origin: Origin::CommandLine,
        }
    }

    #[test]
    fn developer_options_need_developer() {
        let forced = setting("dev-force-privkey", "00");
        assert_eq!(forced.require_developer(true), Ok(()));
        assert_eq!(
            forced.require_developer(false).unwrap_err().to_string(),
            "--dev-force-privkey: requires --developer"
        );
    }

    #[test]
    fn privkey_is_exactly_64_hex_digits_in_either_case() {
        let one = format!("{}1", "0".repeat(63));
        let mut want = [0u8; 32];
        want[31] = 1;
        assert_eq!(parse_privkey(&setting("k", &one), &one), Ok(want));
        let mixed = "aB".repeat(32);
        assert_eq!(parse_privkey(&setting("k", &mixed), &mixed), Ok([0xab; 32]));
        let long = "1".repeat(66);
        let odd = "1".repeat(63);
        let not_hex = format!("{}g", "0".repeat(63));
        let prefixed = format!("0x{}", "0".repeat(62));
        for bad in [
            "",
            "01",
            odd.as_str(),
            long.as_str(),
            not_hex.as_str(),
            prefixed.as_str(),
        ] {
            let forced = setting("dev-force-privkey", bad);
            assert_eq!(
                parse_privkey(&forced, bad).unwrap_err().to_string(),
                format!("--dev-force-privkey: Unable to parse privkey '{bad}'"),
            );
        }
    }
}
