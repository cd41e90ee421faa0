//! `lnpeer-cli`: the command-line client for lnpeerd's JSON-RPC socket, with Core
//! Lightning `lightning-cli`'s conventions (options, parameter encoding, request ids,
//! notifications, output formats and exit codes), so scripts written for `lightning-cli`
//! work against lnpeerd.
//!
//! This crate owns the client side of the socket and nothing else; it finds the socket
//! through lnpeerd's own config parser ([`node_config::Config`]).
//!
//! # Layout
//!
//! * [`args`]: the command line.
//! * [`params`]: literal detection and the request text.
//! * [`client`]: reading responses, notifications, the exchange with the daemon.
//! * [`json`]: a JSON tree that keeps the daemon's token text.
//! * [`output`]: the `-J`, `-H`, `-F` and help-list printers.
//! * [`run`] ties them together; `main` only calls it.
//!
//! # Exit codes
//!
//! As `lightning-cli`: [`EXIT_OK`], [`EXIT_FROM_DAEMON`] (the daemon returned an error,
//! printed to stdout), [`EXIT_TALKING`] (no socket, a broken connection, a malformed
//! response or a wrong id; message on stderr), [`EXIT_USAGE`] (bad command line or config;
//! message on stderr).

pub mod args;
pub mod client;
pub mod json;
pub mod output;
pub mod params;

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use node_config::{Config, VERSION};

use crate::args::{Command, Format, Options};
use crate::client::Notifier;
use crate::json::Json;

/// The call succeeded.
pub const EXIT_OK: u8 = 0;
/// The daemon answered with an error (`ERROR_FROM_LIGHTNINGD`).
pub const EXIT_FROM_DAEMON: u8 = 1;
/// Talking to the daemon failed (`ERROR_TALKING_TO_LIGHTNINGD`).
pub const EXIT_TALKING: u8 = 2;
/// The command line or the config is wrong (`ERROR_USAGE`).
pub const EXIT_USAGE: u8 = 3;

/// The name messages on stderr start with.
pub const PROGRAM: &str = "lnpeer-cli";

/// The longest socket path `connect` takes (`sizeof(sun_path)` minus the NUL on Linux).
const MAX_SOCKET_NAME: usize = 107;

/// What the user sees: text for stdout and stderr, and the exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// For standard output.
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
    /// The exit code.
    pub code: u8,
}

impl Outcome {
    fn stdout(text: String, code: u8) -> Self {
        Outcome {
            stdout: text,
            stderr: String::new(),
            code,
        }
    }

    fn error(message: impl std::fmt::Display, code: u8) -> Self {
        Outcome {
            stdout: String::new(),
            stderr: format!("{PROGRAM}: {message}\n"),
            code,
        }
    }
}

/// Runs the client: `args` without the program name, `home` standing in for `$HOME`.
/// Notifications are written to `out` as they arrive; the result (or the daemon's error)
/// follows on `out`, failures go to `err`. Returns the exit code.
///
/// This changes the working directory to the socket's directory before connecting, as
/// `lightning-cli` does, so a long path still fits in a socket address.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    home: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut preamble = String::new();
    let outcome = match prepare(args, home, &mut preamble) {
        Ok(call) => {
            let _ = out.write_all(preamble.as_bytes());
            let _ = out.flush();
            call.perform(out)
        }
        Err(outcome) => outcome,
    };
    let _ = out.write_all(outcome.stdout.as_bytes());
    let _ = out.flush();
    let _ = err.write_all(outcome.stderr.as_bytes());
    let _ = err.flush();
    outcome.code
}

/// A call ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The socket, resolved by lnpeerd's config.
    pub rpc_file: PathBuf,
    /// The method.
    pub method: String,
    /// The request id, `cli:<method>#<pid>`.
    pub id: String,
    /// The notifications request, unless `-N none`.
    pub enable: Option<String>,
    /// The request text.
    pub request: String,
    /// The parsed options.
    pub options: Options,
}

/// Parses the command line and config and builds the request. Text to print before the
/// call (the usage, when no method is given) is appended to `preamble`.
///
/// # Errors
///
/// The [`Outcome`] to report instead: help or version (exit 0), or a usage or config
/// error (exit 3).
pub fn prepare(
    args: impl IntoIterator<Item = OsString>,
    home: Option<&Path>,
    preamble: &mut String,
) -> Result<Call, Outcome> {
    let posixly_correct = std::env::var_os("POSIXLY_CORRECT").is_some();
    let mut options = match args::parse(args, posixly_correct) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => return Err(Outcome::stdout(args::usage(), EXIT_OK)),
        Ok(Command::Version) => return Err(Outcome::stdout(format!("{VERSION}\n"), EXIT_OK)),
        Err(e) => return Err(Outcome::error(e, EXIT_USAGE)),
    };
    let config = Config::parse_allowing_unknown(options.config_args.clone(), home)
        .map_err(|e| Outcome::error(e, EXIT_USAGE))?;
    let method = match options.method.clone() {
        Some(method) => method,
        None => {
            preamble.push_str(&args::usage());
            preamble.push_str(
                "\nQuerying lnpeerd for available RPC commands (\"lnpeer-cli help\"):\n\n",
            );
            options.method = Some("help".to_owned());
            "help".to_owned()
        }
    };
    let pid = std::process::id();
    let id = params::request_id(&method, pid);
    let filter = options.filter.as_deref();
    let request = params::params(&options.params, options.input)
        .and_then(|p| match &options.commando {
            Some(target) => {
                let wrapped = params::commando_params(target, &method, filter, &p);
                params::request("commando", &id, None, &wrapped)
            }
            None => params::request(&method, &id, filter, &p),
        })
        .map_err(|e| Outcome::error(e, EXIT_USAGE))?;
    // The remote node's notifications cannot reach us, and the local ones are about the
    // relay, so `lightning-cli --commando` asks for none; neither do we.
    let notifications = options.notifications.filter(|_| options.commando.is_none());
    Ok(Call {
        rpc_file: config.rpc_file,
        enable: notifications.map(|_| params::notifications_request(pid)),
        method,
        id,
        request,
        options,
    })
}

impl Call {
    /// Connects, sends the call, prints notifications to `out` as they come, and returns
    /// what to print for the response.
    pub fn perform(&self, out: &mut dyn Write) -> Outcome {
        let stream = match self.connect() {
            Ok(stream) => stream,
            Err(outcome) => return outcome,
        };
        let mut notifier = Notifier::new(out, self.options.notifications);
        let response =
            client::exchange(stream, self.enable.as_deref(), &self.request, &mut notifier);
        notifier.finish();
        match response {
            Ok(text) => respond(&text, self),
            Err(e) => Outcome::error(e, EXIT_TALKING),
        }
    }

    /// `chdir`s into the socket's directory and connects to its file name, with
    /// `lightning-cli`'s messages.
    fn connect(&self) -> Result<UnixStream, Outcome> {
        let name = match (self.rpc_file.parent(), self.rpc_file.file_name()) {
            (Some(dir), Some(name)) => {
                if !dir.as_os_str().is_empty() {
                    std::env::set_current_dir(dir).map_err(|e| {
                        Outcome::error(
                            format!(
                                "Moving into '{}': {}",
                                dir.display(),
                                client::os_message(&e)
                            ),
                            EXIT_TALKING,
                        )
                    })?;
                }
                PathBuf::from(name)
            }
            _ => self.rpc_file.clone(),
        };
        if name.as_os_str().len() > MAX_SOCKET_NAME {
            return Err(Outcome::error(
                format!("rpc filename '{}' too long", name.display()),
                EXIT_USAGE,
            ));
        }
        UnixStream::connect(&name).map_err(|e| {
            Outcome::error(
                format!(
                    "Connecting to '{}': {}",
                    name.display(),
                    client::os_message(&e)
                ),
                EXIT_TALKING,
            )
        })
    }
}

/// The output chosen for a result: a format, or the help list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    Forced(Format),
    HelpList,
}

/// Turns the daemon's response text into what to print, as `lightning-cli` does:
///
/// * a response that is not an object, has neither `result` nor `error`, has no `id`, or
///   whose `id` is not the call's, is a failure (exit 2);
/// * a `result` (or an `error` that is `null`) is printed in the chosen format (exit 0);
/// * an `error` is printed as indented JSON (raw with `-R`), exit 1.
///
/// The format: `-J`/`-H`/`-F`/`-R` if given; otherwise the help list for `help` without a
/// command, else human-readable if the result has `"format-hint":"simple"`, else JSON.
/// The hint is removed from the result unless a format other than `-H` was forced.
pub fn respond(text: &str, call: &Call) -> Outcome {
    let talking = |message: String| Outcome::error(message, EXIT_TALKING);
    let mut response = match Json::parse(text) {
        Ok(response) if response.is_object() => response,
        _ => return talking(format!("Non-object response '{text}'")),
    };
    let help_list = call.method == "help" && call.options.params.is_empty();
    let chosen = match call.options.format {
        Some(Format::Human) => {
            remove_format_hint(&mut response);
            Chosen::Forced(Format::Human)
        }
        Some(format) => Chosen::Forced(format),
        None if help_list => Chosen::HelpList,
        None => match remove_format_hint(&mut response) {
            Some(true) => Chosen::Forced(Format::Human),
            _ => Chosen::Forced(Format::Json),
        },
    };
    let (result, error) = (response.get("result"), response.get("error"));
    if result.is_none() && error.is_none() {
        return talking(format!(
            "Either 'result' or 'error' must be returned in response '{text}'"
        ));
    }
    let Some(id) = response.get("id") else {
        return talking(format!("Missing 'id' in response '{text}'"));
    };
    if !id.content_eq(&call.id) {
        return talking(format!("Incorrect 'id' ({}) in response: {text}", id.text));
    }
    match (result, error) {
        (Some(result), None) => Outcome::stdout(print_result(result, chosen), EXIT_OK),
        (Some(result), Some(error)) if error.is_null() => {
            Outcome::stdout(print_result(result, chosen), EXIT_OK)
        }
        (_, Some(error)) if !error.is_null() => {
            let text = match call.options.format {
                Some(Format::Raw) => format!("{}\n", error.text),
                _ => output::json(error),
            };
            Outcome::stdout(text, EXIT_FROM_DAEMON)
        }
        _ => talking(format!(
            "Either 'result' or 'error' must be returned in response '{text}'"
        )),
    }
}

/// Removes `format-hint` from the response's result; `Some(true)` if it was `"simple"`.
fn remove_format_hint(response: &mut Json<'_>) -> Option<bool> {
    let hint = response.get_mut("result")?.remove("format-hint")?;
    Some(hint.content_eq("simple"))
}

fn print_result(result: &Json<'_>, chosen: Chosen) -> String {
    match chosen {
        Chosen::HelpList => output::help_list(result).unwrap_or_else(|| output::human(result)),
        Chosen::Forced(Format::Json) => output::json(result),
        Chosen::Forced(Format::Human) => output::human(result),
        Chosen::Forced(Format::Flat) => output::flat(result),
        Chosen::Forced(Format::Raw) => format!("{}\n", result.text),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn call(method: &str, params: &[&str], format: Option<Format>) -> Call {
        Call {
            rpc_file: PathBuf::from("/nowhere/lightning-rpc"),
            method: method.to_owned(),
            id: format!("cli:{method}#7"),
            enable: None,
            request: String::new(),
            options: Options {
                format,
                method: Some(method.to_owned()),
                params: params.iter().map(|&p| p.to_owned()).collect(),
                ..Options::default()
            },
        }
    }

    #[test]
    fn results_in_each_format() {
        let text = r#"{"jsonrpc":"2.0","id":"cli:getinfo#7","result":{"id":"02ab","num_peers":0,"address":[]}}"#;
        let json = respond(text, &call("getinfo", &[], None));
        assert_eq!(
            json,
            Outcome::stdout(
                "{\n   \"id\": \"02ab\",\n   \"num_peers\": 0,\n   \"address\": []\n}\n".into(),
                0
            )
        );
        assert_eq!(
            respond(text, &call("getinfo", &[], Some(Format::Json))),
            json
        );
        assert_eq!(
            respond(text, &call("getinfo", &[], Some(Format::Human))).stdout,
            "id=02ab\nnum_peers=0\naddress="
        );
        assert_eq!(
            respond(text, &call("getinfo", &[], Some(Format::Flat))).stdout,
            "id=02ab\nnum_peers=0\n"
        );
        assert_eq!(
            respond(text, &call("getinfo", &[], Some(Format::Raw))).stdout,
            "{\"id\":\"02ab\",\"num_peers\":0,\"address\":[]}\n"
        );
    }

    #[test]
    fn format_hint() {
        let text = r#"{"jsonrpc":"2.0","id":"cli:help#7","result":{"help":[{"command":"stop"},{"command":"getinfo"}],"format-hint":"simple"}}"#;
        // help without a command: the list.
        assert_eq!(
            respond(text, &call("help", &[], None)).stdout,
            format!("getinfo\n\nstop\n\n{}", output::HELP_TRAILER)
        );
        // Forced formats: -H drops the hint, -J and -F keep it.
        assert_eq!(
            respond(text, &call("help", &[], Some(Format::Human))).stdout,
            "stop\ngetinfo\n"
        );
        assert!(respond(text, &call("help", &[], Some(Format::Json)))
            .stdout
            .contains("\"format-hint\": \"simple\""));
        assert!(respond(text, &call("help", &[], Some(Format::Flat)))
            .stdout
            .ends_with("format-hint=simple\n"));
        // help <command>: the hint makes it human.
        let text = r#"{"jsonrpc":"2.0","id":"cli:help#7","result":{"help":[{"command":"stop"}],"format-hint":"simple"}}"#;
        assert_eq!(
            respond(text, &call("help", &["stop"], None)).stdout,
            "stop\n"
        );
        // Another method with the hint.
        let text =
            r#"{"jsonrpc":"2.0","id":"cli:x#7","result":{"a":"1","b":"2","format-hint":"simple"}}"#;
        assert_eq!(respond(text, &call("x", &[], None)).stdout, "a=1\nb=2\n");
        // Another hint value is removed but leaves JSON.
        let text = r#"{"jsonrpc":"2.0","id":"cli:x#7","result":{"a":1,"format-hint":"fancy"}}"#;
        assert_eq!(
            respond(text, &call("x", &[], None)).stdout,
            "{\n   \"a\": 1\n}\n"
        );
    }

    #[test]
    fn daemon_errors_exit_1() {
        let text = r#"{"jsonrpc":"2.0","id":"cli:ping#7","error":{"code":-32602,"message":"Unknown peer"}}"#;
        let outcome = respond(text, &call("ping", &[], None));
        assert_eq!(
            outcome,
            Outcome::stdout(
                "{\n   \"code\": -32602,\n   \"message\": \"Unknown peer\"\n}\n".into(),
                EXIT_FROM_DAEMON
            )
        );
        assert_eq!(
            respond(text, &call("ping", &[], Some(Format::Raw))).stdout,
            "{\"code\":-32602,\"message\":\"Unknown peer\"}\n"
        );
        // Even with -H, errors are JSON.
        assert_eq!(
            respond(text, &call("ping", &[], Some(Format::Human))).code,
            EXIT_FROM_DAEMON
        );
        // A null error is success.
        let text = r#"{"jsonrpc":"2.0","id":"cli:ping#7","error":null,"result":{"totlen":132}}"#;
        assert_eq!(
            respond(text, &call("ping", &[], None)).stdout,
            "{\n   \"totlen\": 132\n}\n"
        );
    }

    #[test]
    fn bad_responses_exit_2() {
        let cases = [
            ("[1]", "Non-object response '[1]'"),
            (
                r#"{"jsonrpc":"2.0","id":"cli:x#7"}"#,
                r#"Either 'result' or 'error' must be returned in response '{"jsonrpc":"2.0","id":"cli:x#7"}'"#,
            ),
            (
                r#"{"result":{}}"#,
                r#"Missing 'id' in response '{"result":{}}'"#,
            ),
            (
                r#"{"id":"cli:x#8","result":{}}"#,
                r#"Incorrect 'id' ("cli:x#8") in response: {"id":"cli:x#8","result":{}}"#,
            ),
            (
                r#"{"id":7,"result":{}}"#,
                r#"Incorrect 'id' (7) in response: {"id":7,"result":{}}"#,
            ),
        ];
        for (text, message) in cases {
            let outcome = respond(text, &call("x", &[], None));
            assert_eq!(outcome, Outcome::error(message, EXIT_TALKING), "{text}");
            assert_eq!(outcome.stderr, format!("lnpeer-cli: {message}\n"));
        }
    }

    fn prep(list: &[&str], home: &Path) -> Result<Call, Outcome> {
        let mut preamble = String::new();
        prepare(list.iter().map(OsString::from), Some(home), &mut preamble)
    }

    #[test]
    fn prepare_resolves_the_socket_with_lnpeerd_config() {
        let home = tempfile::tempdir().unwrap();
        let call = prep(&["getinfo"], home.path()).unwrap();
        assert_eq!(
            call.rpc_file,
            home.path().join(".lnpeer/bitcoin/lightning-rpc")
        );
        let ldir = home.path().join("l");
        let flag = format!("--lightning-dir={}", ldir.display());
        let call = prep(&[&flag, "--regtest", "getinfo"], home.path()).unwrap();
        assert_eq!(call.rpc_file, ldir.join("regtest/lightning-rpc"));
        let call = prep(
            &[&flag, "--network=signet", "--rpc-file=sock", "x"],
            home.path(),
        )
        .unwrap();
        assert_eq!(call.rpc_file, ldir.join("signet/sock"));
        let call = prep(&[&flag, "--rpc-file=/abs/sock", "x"], home.path()).unwrap();
        assert_eq!(call.rpc_file, PathBuf::from("/abs/sock"));
        // The config files count too.
        std::fs::create_dir_all(ldir.join("testnet")).unwrap();
        std::fs::write(ldir.join("config"), "network=testnet\nplugin-opt=1\n").unwrap();
        std::fs::write(ldir.join("testnet/config"), "rpc-file=other\n").unwrap();
        let call = prep(&[&flag, "x"], home.path()).unwrap();
        assert_eq!(call.rpc_file, ldir.join("testnet/other"));
    }

    #[test]
    fn prepare_builds_the_request() {
        let home = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        let call = prep(&["sendcustommsg", "02ab", "77770012"], home.path()).unwrap();
        assert_eq!(call.id, format!("cli:sendcustommsg#{pid}"));
        assert_eq!(
            call.request,
            format!(
                r#"{{"jsonrpc":"2.0","method":"sendcustommsg","id":"cli:sendcustommsg#{pid}","params":["02ab",77770012]}}"#
            )
        );
        assert_eq!(
            call.enable.as_deref(),
            Some(params::notifications_request(pid).as_str())
        );
        let call = prep(&["-N", "none", "getinfo"], home.path()).unwrap();
        assert_eq!(call.enable, None);
        // No method: help, after the usage.
        let mut preamble = String::new();
        let call = prepare(Vec::<OsString>::new(), Some(home.path()), &mut preamble).unwrap();
        assert_eq!(call.method, "help");
        assert!(preamble.starts_with("Usage: lnpeer-cli"), "{preamble}");
        assert!(
            preamble.ends_with("(\"lnpeer-cli help\"):\n\n"),
            "{preamble}"
        );
    }

    #[test]
    fn prepare_wraps_a_commando_call() {
        let home = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        let peer = format!("02{}", "ab".repeat(32));
        let flag = format!("--commando={peer}:tok-en=");
        let call = prep(&[&flag, "-l", r#"{"id":true}"#, "getinfo"], home.path()).unwrap();
        assert_eq!(call.method, "getinfo");
        assert_eq!(
            call.enable, None,
            "a commando call asks for no notifications"
        );
        assert_eq!(
            call.request,
            format!(
                r#"{{"jsonrpc":"2.0","method":"commando","id":"cli:getinfo#{pid}","params":{{"peer_id":"{peer}","method":"getinfo","filter":{{"id":true}},"rune":"tok-en=","params":[]}}}}"#
            )
        );
        // Keyword parameters stay an object, and no rune means no "rune" member.
        let call = prep(&["-c", &peer, "-k", "listpeers", "id=03"], home.path()).unwrap();
        assert_eq!(
            call.request,
            format!(
                r#"{{"jsonrpc":"2.0","method":"commando","id":"cli:listpeers#{pid}","params":{{"peer_id":"{peer}","method":"listpeers","params":{{"id":"03"}}}}}}"#
            )
        );
        let err = prep(&["-c", "02ab:rune", "getinfo"], home.path()).unwrap_err();
        assert_eq!(err, Outcome::error("Invalid peer id", EXIT_USAGE));
    }

    #[test]
    fn prepare_failures() {
        let home = tempfile::tempdir().unwrap();
        let err = prep(&["--bogus", "x"], home.path()).unwrap_err();
        assert_eq!(
            err,
            Outcome::error("--bogus: unrecognized option", EXIT_USAGE)
        );
        let err = prep(&["--network=moon", "x"], home.path()).unwrap_err();
        assert_eq!(err.code, EXIT_USAGE);
        assert!(err
            .stderr
            .starts_with("lnpeer-cli: --network: unknown network 'moon'"));
        let err = prep(&["-k", "x", "novalue"], home.path()).unwrap_err();
        assert_eq!(
            err,
            Outcome::error("Expected key=value in 'novalue'", EXIT_USAGE)
        );
        let err = prep(&["x", "1.2.3"], home.path()).unwrap_err();
        assert_eq!(err.code, EXIT_USAGE);
        let help = prep(&["-h"], home.path()).unwrap_err();
        assert_eq!((help.code, help.stdout), (EXIT_OK, args::usage()));
        let version = prep(&["-V"], home.path()).unwrap_err();
        assert_eq!(version, Outcome::stdout(format!("{VERSION}\n"), EXIT_OK));
        // Without $HOME, the default lightning directory cannot be found.
        let mut preamble = String::new();
        let err = prepare([OsString::from("x")], None, &mut preamble).unwrap_err();
        assert_eq!(err.code, EXIT_USAGE);
    }
}
