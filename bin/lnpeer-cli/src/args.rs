//! The command line: `lightning-cli`'s options, the method, and its parameters.
//!
//! Options are parsed the way `lightning-cli`'s option library (`ccan/opt`) does, which
//! is GNU-style: an option may appear anywhere, before or after the method, and the words
//! that are not options are, in order, the method and its parameters. `--` ends the
//! options, so a parameter that starts with `-` is written after it
//! (`lnpeer-cli mymethod -- -5`). With `POSIXLY_CORRECT` set in the environment, options
//! end at the first non-option word instead, as with `ccan/opt`.
//!
//! Short flags may be grouped (`-kH`), and `-N`/`-l`/`-c` take their value either attached
//! (`-Nnone`) or as the next word. Long options take `--name=value` or `--name value`.
//!
//! `-c`/`--commando=PEER_ID[:RUNE]` sends the call to a peer through the local node's
//! `commando` command, as `lightning-cli` does (see [`CommandoTarget`]).
//!
//! The options that locate the daemon (`--lightning-dir`, `--network`, the network flags
//! and `--rpc-file`) are not interpreted here: they are collected in
//! [`Options::config_args`] and handed to lnpeerd's own config parser, so the client finds
//! the socket exactly where the daemon put it.

use std::ffi::OsString;
use std::fmt;
use std::str::FromStr;

/// How a successful result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `-J`: the result as indented JSON.
    Json,
    /// `-H`: `key=value` lines, single-member objects elided.
    Human,
    /// `-F`: one `path=value` line per leaf.
    Flat,
    /// `-R`: the result's text exactly as the daemon sent it.
    Raw,
}

/// How parameters are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// `-k`: `key=value` words, sent as an object.
    Keywords,
    /// `-o`: words in order, sent as an array.
    Ordered,
}

/// Log levels of `message` notifications, lowest first (CLN's `enum log_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Message bytes.
    Io,
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal information; the default threshold.
    Info,
    /// Strange but survivable.
    Unusual,
    /// Something is really wrong.
    Broken,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 6] = [
        Level::Io,
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Unusual,
        Level::Broken,
    ];

    /// The name used on the command line and in notifications.
    pub fn name(self) -> &'static str {
        match self {
            Level::Io => "io",
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Unusual => "unusual",
            Level::Broken => "broken",
        }
    }
}

impl FromStr for Level {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL.into_iter().find(|l| l.name() == s).ok_or(())
    }
}

/// Everything the command line asked for, when it asks for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-J`, `-H`, `-F` or `-R`, the last one given; `None` lets the method and the
    /// result's `format-hint` decide.
    pub format: Option<Format>,
    /// `-k` or `-o`, the last one given; `None` autodetects.
    pub input: Option<Input>,
    /// `-N`: the lowest level of `message` notification printed; `None` for `-N none`,
    /// which also skips enabling notifications. Default [`Level::Info`].
    pub notifications: Option<Level>,
    /// `-l`/`--filter`: JSON sent as the request's `filter`, as given.
    pub filter: Option<String>,
    /// `-c`/`--commando`: run the method on this peer instead of the local node.
    pub commando: Option<CommandoTarget>,
    /// The daemon-locating options, as `--name[=value]` words for lnpeerd's config parser.
    pub config_args: Vec<String>,
    /// The method; `None` when the command line has none (the caller then asks for `help`).
    pub method: Option<String>,
    /// The words after the method.
    pub params: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            input: None,
            notifications: Some(Level::Info),
            filter: None,
            commando: None,
            config_args: Vec::new(),
            method: None,
            params: Vec::new(),
        }
    }
}

/// `--commando=PEER_ID[:RUNE]`: the peer that runs the method, and the rune it is run
/// with. The local node must be connected to the peer; it sends the request as a
/// `commando` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandoTarget {
    /// The peer's node id, 66 hex characters.
    pub peer_id: String,
    /// The rune, when one is given after the `:`.
    pub rune: Option<String>,
}

impl FromStr for CommandoTarget {
    type Err = UsageError;

    /// As `lightning-cli` checks it: exactly 66 characters before an optional `:`, here
    /// also required to be hex so a typo is caught before the daemon sees it.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let (peer_id, rune) = match value.split_once(':') {
            Some((peer_id, rune)) => (peer_id, Some(rune.to_owned())),
            None => (value, None),
        };
        if peer_id.len() != 66 || !peer_id.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(UsageError("Invalid peer id".to_owned()));
        }
        Ok(CommandoTarget {
            peer_id: peer_id.to_owned(),
            rune,
        })
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Call a method.
    Run(Options),
    /// `-h`/`--help`: print [`usage`] and exit 0.
    Help,
    /// `-V`/`--version`: print the version and exit 0.
    Version,
}

/// A command line we cannot use; the text follows `lnpeer-cli: ` on stderr, exit code 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Long options that locate the daemon and take a value.
const CONFIG_VALUE_OPTIONS: &[&str] = &["lightning-dir", "network", "rpc-file"];

/// Long options that locate the daemon and take no value (the network shortcuts lnpeerd's
/// config accepts).
const CONFIG_FLAGS: &[&str] = &["mainnet", "testnet", "testnet4", "signet", "regtest"];

/// Parses the command line, without the program name. `posixly_correct` (the
/// `POSIXLY_CORRECT` environment variable is set) stops option parsing at the first word
/// that is not an option.
///
/// Error texts follow `ccan/opt`'s: the option as written, then the problem
/// (`--bogus=1: unrecognized option`, `-N: requires an argument`).
///
/// # Errors
///
/// [`UsageError`] for an unknown option, a missing or unexpected option value, a bad `-N`
/// level, or an argument that is not UTF-8 (parameters become JSON text, which must be).
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    posixly_correct: bool,
) -> Result<Command, UsageError> {
    let args = args
        .into_iter()
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| UsageError(format!("argument {arg:?} is not valid UTF-8")))
        })
        .collect::<Result<Vec<String>, UsageError>>()?;
    let mut options = Options::default();
    let mut positional = Vec::new();
    let mut words = args.into_iter();
    while let Some(arg) = words.next() {
        if arg == "--" {
            positional.extend(words.by_ref());
            break;
        }
        if !arg.starts_with('-') {
            positional.push(arg);
            if posixly_correct {
                positional.extend(words.by_ref());
                break;
            }
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (long, None),
            };
            let mut value = |inline: Option<String>| {
                inline
                    .or_else(|| words.next())
                    .ok_or_else(|| UsageError(format!("--{name}: requires an argument")))
            };
            let no_value = |inline: &Option<String>| match inline {
                Some(_) => Err(UsageError(format!("--{name}: doesn't allow an argument"))),
                None => Ok(()),
            };
            match name {
                _ if CONFIG_VALUE_OPTIONS.contains(&name) => {
                    let value = value(inline)?;
                    options.config_args.push(format!("--{name}={value}"));
                }
                _ if CONFIG_FLAGS.contains(&name) => {
                    no_value(&inline)?;
                    options.config_args.push(format!("--{name}"));
                }
                "notifications" => options.notifications = parse_level(&value(inline)?)?,
                "filter" => options.filter = Some(value(inline)?),
                "commando" => options.commando = Some(value(inline)?.parse()?),
                "help" => return Ok(Command::Help),
                "version" => return Ok(Command::Version),
                _ => {
                    let flag = match name {
                        "keywords" => 'k',
                        "order" => 'o',
                        "json" => 'J',
                        "human-readable" => 'H',
                        "flat" => 'F',
                        "raw" => 'R',
                        _ => return Err(UsageError(format!("{arg}: unrecognized option"))),
                    };
                    no_value(&inline)?;
                    apply_flag(&mut options, flag);
                }
            }
            continue;
        }
        let shorts = &arg[1..];
        if shorts.is_empty() {
            return Err(UsageError(format!("{arg}: unrecognized option")));
        }
        for (index, flag) in shorts.char_indices() {
            match flag {
                'k' | 'o' | 'J' | 'H' | 'F' | 'R' => apply_flag(&mut options, flag),
                'h' => return Ok(Command::Help),
                'V' => return Ok(Command::Version),
                'N' | 'l' | 'c' => {
                    let attached = &shorts[index + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        words
                            .next()
                            .ok_or_else(|| UsageError(format!("-{flag}: requires an argument")))?
                    } else {
                        attached.to_owned()
                    };
                    match flag {
                        'N' => options.notifications = parse_level(&value)?,
                        'l' => options.filter = Some(value),
                        _ => options.commando = Some(value.parse()?),
                    }
                    break;
                }
                _ => return Err(UsageError(format!("{arg}: unrecognized option"))),
            }
        }
    }
    let mut positional = positional.into_iter();
    options.method = positional.next();
    options.params = positional.collect();
    Ok(Command::Run(options))
}

fn apply_flag(options: &mut Options, flag: char) {
    match flag {
        'k' => options.input = Some(Input::Keywords),
        'o' => options.input = Some(Input::Ordered),
        'J' => options.format = Some(Format::Json),
        'H' => options.format = Some(Format::Human),
        'F' => options.format = Some(Format::Flat),
        'R' => options.format = Some(Format::Raw),
        _ => {}
    }
}

/// `none` disables notifications; otherwise a [`Level`] name.
fn parse_level(value: &str) -> Result<Option<Level>, UsageError> {
    if value == "none" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|()| {
        UsageError(format!(
            "--notifications: invalid level '{value}' \
             (expected none, io, trace, debug, info, unusual or broken)"
        ))
    })
}

/// The text `-h`/`--help` prints, and that a bare `lnpeer-cli` prints before asking the
/// daemon for `help`.
pub fn usage() -> String {
    const OPTIONS: &[(&str, &str)] = &[
        (
            "--lightning-dir=<dir>",
            "lnpeerd's base directory [default: ~/.lnpeer]",
        ),
        (
            "--network=<network>",
            "bitcoin, testnet, testnet4, signet or regtest [default: bitcoin]",
        ),
        (
            "--mainnet, --testnet, --testnet4, --signet, --regtest",
            "Shortcuts for --network",
        ),
        (
            "--rpc-file=<path>",
            "The JSON-RPC socket, relative to the network directory [default: lightning-rpc]",
        ),
        ("-k, --keywords", "Parameters are key=value words"),
        ("-o, --order", "Parameters are sent in the order given"),
        (
            "-J, --json",
            "Print the result as JSON (the default, except for help)",
        ),
        (
            "-H, --human-readable",
            "Print the result as key=value lines",
        ),
        (
            "-F, --flat",
            "Print one path=value line per field (a.b[0].c=...)",
        ),
        ("-R, --raw", "Print the result exactly as lnpeerd sent it"),
        (
            "-N, --notifications=<level>",
            "Print notifications at this level or above (io, trace, debug, info,\n        \
             unusual, broken), or none [default: info]",
        ),
        (
            "-l, --filter=<json>",
            "Ask lnpeerd to return only these fields",
        ),
        (
            "-c, --commando=<peer_id>[:<rune>]",
            "Run <command> on this connected peer, through lnpeerd's commando",
        ),
        ("-h, --help", "Print this message and exit"),
        ("-V, --version", "Print the version and exit"),
    ];
    let mut out = String::from(
        "Usage: lnpeer-cli [OPTIONS] <command> [<params>...]\n\n\
         Sends <command> to lnpeerd over its JSON-RPC socket and prints the reply. Options may\n\
         come before or after <command>; put parameters that start with '-' after `--`.\n\
         Run `lnpeer-cli help` for the list of commands.\n\nOptions:\n",
    );
    for (synopsis, help) in OPTIONS {
        out.push_str(&format!("  {synopsis}\n        {help}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn run(list: &[&str]) -> Options {
        match parse(list.iter().map(OsString::from), false).unwrap() {
            Command::Run(options) => options,
            other => panic!("{list:?} gave {other:?}"),
        }
    }

    fn error(list: &[&str]) -> String {
        parse(list.iter().map(OsString::from), false).unwrap_err().0
    }

    #[test]
    fn defaults() {
        let options = run(&["getinfo"]);
        assert_eq!(
            options,
            Options {
                method: Some("getinfo".into()),
                ..Options::default()
            }
        );
        assert_eq!(options.notifications, Some(Level::Info));
        assert_eq!(run(&[]).method, None);
    }

    #[test]
    fn options_anywhere_until_double_dash() {
        let options = run(&["-k", "ping", "-H", "a=1", "--json", "b=2"]);
        assert_eq!(options.input, Some(Input::Keywords));
        assert_eq!(options.format, Some(Format::Json));
        assert_eq!(options.method.as_deref(), Some("ping"));
        assert_eq!(options.params, ["a=1", "b=2"]);
        let options = run(&["x", "--", "-5", "--json"]);
        assert_eq!(options.method.as_deref(), Some("x"));
        assert_eq!(options.params, ["-5", "--json"]);
        assert_eq!(options.format, None);
        let options = run(&["--", "-weird", "x"]);
        assert_eq!(options.method.as_deref(), Some("-weird"));
        assert_eq!(options.params, ["x"]);
        // An option's value is the next word, whatever it looks like.
        let options = run(&["getinfo", "--filter", "-x", "-N", "debug"]);
        assert_eq!(options.filter.as_deref(), Some("-x"));
        assert_eq!(options.params, Vec::<String>::new());
        // A parameter that looks like an option is one.
        assert_eq!(error(&["x", "-5"]), "-5: unrecognized option");
        assert_eq!(error(&["-"]), "-: unrecognized option");
    }

    #[test]
    fn posixly_correct_stops_at_the_method() {
        let list = ["-H", "ping", "-k", "--json", "-5"];
        let Command::Run(options) = parse(list.iter().map(OsString::from), true).unwrap() else {
            panic!("not a run");
        };
        assert_eq!(options.format, Some(Format::Human));
        assert_eq!(options.input, None);
        assert_eq!(options.method.as_deref(), Some("ping"));
        assert_eq!(options.params, ["-k", "--json", "-5"]);
    }

    #[test]
    fn last_format_and_input_win() {
        let options = run(&["-H", "-F", "--raw", "-o", "--keywords", "--order", "x"]);
        assert_eq!(options.format, Some(Format::Raw));
        assert_eq!(options.input, Some(Input::Ordered));
        assert_eq!(run(&["-J", "x"]).format, Some(Format::Json));
        assert_eq!(run(&["--human-readable", "x"]).format, Some(Format::Human));
        assert_eq!(run(&["--flat", "x"]).format, Some(Format::Flat));
    }

    #[test]
    fn grouped_short_flags_and_values() {
        let options = run(&["-kF", "-Nnone", "-l", r#"{"id":true}"#, "x"]);
        assert_eq!(options.input, Some(Input::Keywords));
        assert_eq!(options.format, Some(Format::Flat));
        assert_eq!(options.notifications, None);
        assert_eq!(options.filter.as_deref(), Some(r#"{"id":true}"#));
        assert_eq!(
            run(&["-HN", "debug", "x"]).notifications,
            Some(Level::Debug)
        );
        assert_eq!(run(&["-l{}", "x"]).filter.as_deref(), Some("{}"));
        let options = run(&["--notifications=broken", "--filter", "[]", "x"]);
        assert_eq!(options.notifications, Some(Level::Broken));
        assert_eq!(options.filter.as_deref(), Some("[]"));
        assert_eq!(run(&["-N", "io", "x"]).notifications, Some(Level::Io));
        assert_eq!(run(&["--notifications", "none", "x"]).notifications, None);
    }

    #[test]
    fn daemon_options_go_to_the_config_parser() {
        let options = run(&[
            "--lightning-dir",
            "/tmp/l",
            "--network=regtest",
            "--signet",
            "--rpc-file=/abs/sock",
            "--mainnet",
            "--testnet",
            "--testnet4",
            "--regtest",
            "getinfo",
        ]);
        assert_eq!(
            options.config_args,
            [
                "--lightning-dir=/tmp/l",
                "--network=regtest",
                "--signet",
                "--rpc-file=/abs/sock",
                "--mainnet",
                "--testnet",
                "--testnet4",
                "--regtest",
            ]
        );
    }

    #[test]
    fn help_and_version() {
        for list in [
            &["-h"][..],
            &["--help"],
            &["-kh"],
            &["-H", "--help", "--bogus"],
        ] {
            assert_eq!(
                parse(list.iter().map(OsString::from), false).unwrap(),
                Command::Help,
                "{list:?}"
            );
        }
        for list in [&["-V"][..], &["--version"]] {
            assert_eq!(
                parse(list.iter().map(OsString::from), false).unwrap(),
                Command::Version
            );
        }
        // After the method too, but not after `--`.
        assert_eq!(
            parse(["getinfo", "--help"].map(OsString::from), false).unwrap(),
            Command::Help
        );
        assert_eq!(run(&["getinfo", "--", "--help"]).params, ["--help"]);
        let text = usage();
        for option in [
            "--lightning-dir",
            "--network",
            "--rpc-file",
            "--keywords",
            "--order",
            "--json",
            "--human-readable",
            "--flat",
            "--raw",
            "--notifications",
            "--filter",
            "--help",
            "--version",
            "--regtest",
        ] {
            assert!(text.contains(option), "{option}");
        }
    }

    #[test]
    fn commando_target() {
        let peer = format!("03{}", "0F".repeat(32));
        let with_rune = CommandoTarget {
            peer_id: peer.clone(),
            rune: Some("a:b=c".to_owned()),
        };
        let bare = CommandoTarget {
            peer_id: peer.clone(),
            rune: None,
        };
        // The rune is everything after the first ':', so it may hold ':' itself.
        assert_eq!(
            run(&[&format!("--commando={peer}:a:b=c"), "x"]).commando,
            Some(with_rune.clone())
        );
        assert_eq!(
            run(&["--commando", &peer, "x"]).commando,
            Some(bare.clone())
        );
        assert_eq!(
            run(&[&format!("-Hc{peer}:a:b=c"), "x"]).commando,
            Some(with_rune)
        );
        assert_eq!(run(&["x", "-c", &peer]).commando, Some(bare));
        for bad in [
            &peer[..65],
            &format!("{peer}0"),
            &format!("{}zz", &peer[..64]),
        ] {
            assert_eq!(error(&["-c", bad, "x"]), "Invalid peer id");
        }
        assert_eq!(error(&["--commando"]), "--commando: requires an argument");
    }

    #[test]
    fn usage_errors() {
        assert_eq!(error(&["--bogus"]), "--bogus: unrecognized option");
        assert_eq!(error(&["--bogus=1", "x"]), "--bogus=1: unrecognized option");
        assert_eq!(error(&["-x"]), "-x: unrecognized option");
        assert_eq!(error(&["-kz"]), "-kz: unrecognized option");
        assert_eq!(error(&["-N"]), "-N: requires an argument");
        assert_eq!(error(&["--filter"]), "--filter: requires an argument");
        assert_eq!(
            error(&["--lightning-dir"]),
            "--lightning-dir: requires an argument"
        );
        assert_eq!(error(&["--json=yes"]), "--json: doesn't allow an argument");
        assert_eq!(
            error(&["--regtest=1"]),
            "--regtest: doesn't allow an argument"
        );
        assert!(error(&["-N", "loud"]).starts_with("--notifications: invalid level 'loud'"));
    }

    #[test]
    fn non_utf8_arguments_are_usage_errors() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![b'a', 0xff]);
        let err = parse([OsString::from("echo"), bad], false).unwrap_err();
        assert!(err.0.contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn levels() {
        for level in Level::ALL {
            assert_eq!(level.name().parse(), Ok(level));
        }
        assert!(Level::Io < Level::Trace && Level::Info < Level::Unusual);
        assert_eq!("INFO".parse::<Level>(), Err(()));
    }
}
