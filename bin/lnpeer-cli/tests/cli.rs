//! Runs the real `lnpeer-cli` binary against a fake lnpeerd: a Unix socket in a temporary
//! directory, served by a thread that records each request's text and answers with canned
//! responses, written in several pieces with pauses so the client sees them split across
//! reads, sometimes with notifications in between.
//!
//! Every server thread gives up by itself (accept and read deadlines), so a client bug
//! fails a test instead of hanging it.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{ErrorKind, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_lnpeer-cli");

/// How long a fake server waits for the client to connect or to send something.
const PATIENCE: Duration = Duration::from_secs(20);

/// One canned reply: `text` with `{ID}` replaced by the request's raw id token, written in
/// `pieces` roughly equal parts.
struct Reply {
    text: String,
    pieces: usize,
}

fn reply(text: &str, pieces: usize) -> Reply {
    Reply {
        text: text.to_owned(),
        pieces,
    }
}

/// The daemon's answer to the notifications request.
fn enabled() -> Reply {
    reply(r#"{"jsonrpc":"2.0","id":{ID},"result":{}}"#, 2).with_end()
}

impl Reply {
    /// Appends the daemon's `"\n\n"` separator.
    fn with_end(mut self) -> Self {
        self.text.push_str("\n\n");
        self
    }
}

/// A result response for whatever id the request had.
fn result(body: &str) -> Reply {
    reply(
        &format!("{{\"jsonrpc\":\"2.0\",\"id\":{{ID}},\"result\":{body}}}\n\n"),
        3,
    )
}

fn message(level: &str, text: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"message\",\"params\":{{\"id\":\"x\",\"level\":\"{level}\",\"message\":\"{text}\"}}}}\n\n"
    )
}

struct Fake {
    dir: TempDir,
    socket: PathBuf,
    server: Option<JoinHandle<Vec<String>>>,
}

impl Fake {
    /// Serves `replies` in order at `<tempdir>/<socket>`, one per request received.
    fn at(socket: &str, replies: Vec<Reply>) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(socket);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let listener = UnixListener::bind(&path).unwrap();
        let server = thread::spawn(move || serve(listener, replies));
        Fake {
            dir,
            socket: path,
            server: Some(server),
        }
    }

    fn new(replies: Vec<Reply>) -> Fake {
        Fake::at("sock", replies)
    }

    /// Runs the client with `--lightning-dir` and `--rpc-file` pointing here.
    fn cli(&self, args: &[&str]) -> Run {
        let mut all = vec![
            format!("--lightning-dir={}", self.dir.path().display()),
            format!("--rpc-file={}", self.socket.display()),
        ];
        all.extend(args.iter().map(|&a| a.to_owned()));
        run_cli(self.dir.path(), &all)
    }

    /// The requests the server received, once the client has gone.
    fn requests(mut self) -> Vec<String> {
        self.server.take().unwrap().join().unwrap()
    }
}

/// Accepts one connection, records each request and answers with the next reply; hangs up
/// when a request arrives after the last reply, or when the client does.
fn serve(listener: UnixListener, replies: Vec<Reply>) -> Vec<String> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + PATIENCE;
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return Vec::new(),
        }
    };
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut replies = replies.into_iter();
    let mut requests = Vec::new();
    let incoming = serde_json::Deserializer::from_reader(stream).into_iter::<Box<RawValue>>();
    for request in incoming {
        let Ok(request) = request else { break };
        let text = request.get().to_owned();
        let id = field(&text, "id").unwrap_or_else(|| "null".to_owned());
        requests.push(text);
        // Out of replies: hang up, as a daemon that dies would.
        let Some(reply) = replies.next() else {
            break;
        };
        let bytes = reply.text.replace("{ID}", &id).into_bytes();
        let size = bytes.len().div_ceil(reply.pieces.max(1)).max(1);
        for piece in bytes.chunks(size) {
            if writer
                .write_all(piece)
                .and_then(|()| writer.flush())
                .is_err()
            {
                return requests;
            }
            thread::sleep(Duration::from_millis(15));
        }
    }
    requests
}

/// A top-level member's raw JSON text.
fn field(request: &str, name: &str) -> Option<String> {
    let members: HashMap<String, Box<RawValue>> = serde_json::from_str(request).ok()?;
    members.get(name).map(|v| v.get().to_owned())
}

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
    pid: u32,
}

fn run_cli(home: &Path, args: &[String]) -> Run {
    let child = Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env_remove("POSIXLY_CORRECT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
        pid,
    }
}

#[test]
fn getinfo_sends_notifications_first_and_prints_json() {
    let getinfo = format!(
        "{}{}{}",
        message("info", "hello from the daemon"),
        message("debug", "too quiet to show"),
        r#"{"jsonrpc":"2.0","id":{ID},"result":{"id":"02ab","alias":"ALIAS","num_peers":0,"blockheight":123456789012345678901234567890,"address":[],"our_features":{"init":"08a0"}}}"#,
    );
    let fake = Fake::new(vec![enabled(), reply(&getinfo, 7).with_end()]);
    let run = fake.cli(&["getinfo"]);
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        requests,
        [
            format!(
                r#"{{"jsonrpc":"2.0","method":"notifications","id":"cli:notifications#{}","params":{{"enable":true}}}}"#,
                run.pid
            ),
            format!(
                r#"{{"jsonrpc":"2.0","method":"getinfo","id":"cli:getinfo#{}","params":[]}}"#,
                run.pid
            ),
        ]
    );
    assert_eq!(
        run.stdout,
        "# hello from the daemon\n\
         {\n   \"id\": \"02ab\",\n   \"alias\": \"ALIAS\",\n   \"num_peers\": 0,\n   \
         \"blockheight\": 123456789012345678901234567890,\n   \"address\": [],\n   \
         \"our_features\": {\n      \"init\": \"08a0\"\n   }\n}\n"
    );
}

#[test]
fn notification_before_the_enable_reply_and_in_the_same_write() {
    let enable = format!(
        "{}{}",
        message("unusual", "early"),
        r#"{"jsonrpc":"2.0","id":{ID},"result":{}}"#
    );
    let response = format!(
        "{}{}",
        message("broken", "late"),
        r#"{"jsonrpc":"2.0","id":{ID},"result":{"totlen":132}}"#
    );
    let fake = Fake::new(vec![
        reply(&enable, 1).with_end(),
        reply(&response, 1).with_end(),
    ]);
    let run = fake.cli(&["-N", "unusual", "ping", "02ab"]);
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "# early\n# late\n{\n   \"totlen\": 132\n}\n");
    assert_eq!(field(&requests[1], "params").unwrap(), r#"["02ab"]"#);
}

#[test]
fn notifications_none_skips_the_enable_request() {
    let response = format!(
        "{}{}",
        message("info", "ignored"),
        r#"{"jsonrpc":"2.0","id":{ID},"result":{}}"#
    );
    let fake = Fake::new(vec![reply(&response, 4).with_end()]);
    let run = fake.cli(&["-N", "none", "disconnect", "02ab"]);
    let requests = fake.requests();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "{}\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        requests,
        [format!(
            r#"{{"jsonrpc":"2.0","method":"disconnect","id":"cli:disconnect#{}","params":["02ab"]}}"#,
            run.pid
        )]
    );
}

/// The `params` text the daemon receives for this command line (with `-N none`).
fn sent_params(args: &[&str]) -> String {
    let fake = Fake::new(vec![result("{}")]);
    let mut all = vec!["-N", "none"];
    all.extend_from_slice(args);
    let run = fake.cli(&all);
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    assert_eq!(requests.len(), 1, "{requests:?}");
    field(&requests[0], "params").unwrap()
}

#[test]
fn positional_params_and_literals() {
    assert_eq!(
        sent_params(&["sendcustommsg", "02ab", "77770012"]),
        r#"["02ab",77770012]"#
    );
    assert_eq!(
        sent_params(&[
            "x",
            "0012",
            "abc",
            "0",
            "1.5",
            "--",
            "-1",
            "true",
            "null",
            r#"{"a": 1}"#,
            "[1,2]",
            r#""quoted""#,
            "123456789012345678901234567890",
        ]),
        r#"["0012","abc",0,1.5,"-1",true,null,{"a": 1},[1,2],"quoted",123456789012345678901234567890]"#
    );
    assert_eq!(
        sent_params(&["x", "say \"hi\" \\o/", "tab\there\nnl", "ünï ⚡", "\u{1}"]),
        r#"["say \"hi\" \\o/","tab\there\nnl","ünï ⚡","\u0001"]"#
    );
    assert_eq!(sent_params(&["getinfo"]), "[]");
}

#[test]
fn keyword_params() {
    assert_eq!(
        sent_params(&["ping", "id=02ab", "len=0012", "pongbytes=10"]),
        r#"{"id":"02ab","len":"0012","pongbytes":10}"#
    );
    assert_eq!(
        sent_params(&["-k", "sendcustommsg", "node_id=02ab", "msg=77770012"]),
        r#"{"node_id":"02ab","msg":77770012}"#
    );
    assert_eq!(sent_params(&["-o", "x", "a=b", "c=1"]), r#"["a=b","c=1"]"#);
    // Only the first word decides.
    assert_eq!(sent_params(&["x", "a", "b=c"]), r#"["a","b=c"]"#);
}

#[test]
fn filter_is_sent_raw() {
    let fake = Fake::new(vec![result(r#"{"peers":[]}"#)]);
    let run = fake.cli(&[
        "-N",
        "none",
        "-l",
        r#"{"peers":[{"id":true}]}"#,
        "listpeers",
    ]);
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        field(&requests[0], "filter").unwrap(),
        r#"{"peers":[{"id":true}]}"#
    );
}

const PEERS: &str = r#"{"peers":[{"id":"02ab","connected":true,"netaddr":["127.0.0.1:9735"],"features":"08a0"},{"id":"03cd","connected":false,"features":""}]}"#;

fn output_of(args: &[&str], body: &str) -> Run {
    let fake = Fake::new(vec![enabled(), result(body)]);
    let run = fake.cli(args);
    fake.requests();
    run
}

#[test]
fn human_flat_and_raw_output() {
    let run = output_of(&["-H", "listpeers"], PEERS);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "id=02ab\nconnected=true\nnetaddr=127.0.0.1:9735\nfeatures=08a0\n\
         id=03cd\nconnected=false\nfeatures=\n"
    );
    let run = output_of(&["-F", "listpeers"], PEERS);
    assert_eq!(
        run.stdout,
        "peers[0].id=02ab\npeers[0].connected=true\npeers[0].netaddr[0]=127.0.0.1:9735\n\
         peers[0].features=08a0\npeers[1].id=03cd\npeers[1].connected=false\npeers[1].features=\n"
    );
    let run = output_of(&["-R", "listpeers"], PEERS);
    assert_eq!(run.stdout, format!("{PEERS}\n"));
    let run = output_of(&["-H", "ping", "02ab"], r#"{"totlen":132}"#);
    assert_eq!(run.stdout, "132\n");
    // Options may follow the method, as with lightning-cli.
    let run = output_of(&["ping", "02ab", "-H"], r#"{"totlen":132}"#);
    assert_eq!(run.stdout, "132\n");
}

const HELP: &str = r#"{"help":[{"command":"stop"},{"command":"connect id [host] [port]"},{"command":"getinfo"}],"format-hint":"simple"}"#;

#[test]
fn help_defaults_to_the_list_and_hints_to_human() {
    let run = output_of(&["help"], HELP);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "connect id [host] [port]\n\ngetinfo\n\nstop\n\n---\n\
         run `lnpeer-cli help <command>` for more information on a specific command\n"
    );
    let run = output_of(
        &["help", "getinfo"],
        r#"{"help":[{"command":"getinfo"}],"format-hint":"simple"}"#,
    );
    assert_eq!(run.stdout, "getinfo\n");
    let run = output_of(&["-J", "help"], HELP);
    assert!(
        run.stdout
            .ends_with("   ],\n   \"format-hint\": \"simple\"\n}\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_method_asks_for_help() {
    let fake = Fake::new(vec![enabled(), result(HELP)]);
    let run = fake.cli(&[]);
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Usage: lnpeer-cli"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("(\"lnpeer-cli help\"):\n\nconnect id [host] [port]\n\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        field(&requests[1], "id").unwrap(),
        format!("\"cli:help#{}\"", run.pid)
    );
}

#[test]
fn daemon_error_is_printed_and_exits_1() {
    let fake = Fake::new(vec![
        enabled(),
        reply(
            r#"{"jsonrpc":"2.0","id":{ID},"error":{"code":-32602,"message":"Unknown peer '02ab'"}}"#,
            4,
        )
        .with_end(),
    ]);
    let run = fake.cli(&["disconnect", "02ab"]);
    fake.requests();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "{\n   \"code\": -32602,\n   \"message\": \"Unknown peer '02ab'\"\n}\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn wrong_id_exits_2() {
    let fake = Fake::new(vec![
        enabled(),
        reply(r#"{"jsonrpc":"2.0","id":"cli:other#1","result":{}}"#, 2).with_end(),
    ]);
    let run = fake.cli(&["getinfo"]);
    fake.requests();
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "lnpeer-cli: Incorrect 'id' (\"cli:other#1\") in response: \
         {\"jsonrpc\":\"2.0\",\"id\":\"cli:other#1\",\"result\":{}}\n"
    );
}

#[test]
fn closed_connection_and_malformed_response_exit_2() {
    let fake = Fake::new(vec![enabled()]);
    let run = fake.cli(&["getinfo"]);
    fake.requests();
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "lnpeer-cli: reading response: socket closed\n");

    let fake = Fake::new(vec![enabled(), reply("{\"id\":]\n\n", 1)]);
    let run = fake.cli(&["getinfo"]);
    fake.requests();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("lnpeer-cli: Malformed response '{\"id\":]"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_daemon_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let args = |rpc: &str| {
        vec![
            format!("--lightning-dir={}", home.display()),
            format!("--rpc-file={}", home.join(rpc).display()),
            "getinfo".to_owned(),
        ]
    };
    let run = run_cli(home, &args("lightning-rpc"));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "lnpeer-cli: Connecting to 'lightning-rpc': No such file or directory\n"
    );
    // A socket file nobody listens on any more.
    drop(UnixListener::bind(home.join("stale")).unwrap());
    let run = run_cli(home, &args("stale"));
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "lnpeer-cli: Connecting to 'stale': Connection refused\n"
    );
    // The network directory does not exist.
    let run = run_cli(
        home,
        &[
            format!("--lightning-dir={}", home.display()),
            "--regtest".to_owned(),
            "getinfo".to_owned(),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with(&format!(
            "lnpeer-cli: Moving into '{}': ",
            home.join("regtest").display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn default_socket_is_found_through_the_config() {
    let fake = Fake::at("regtest/lightning-rpc", vec![enabled(), result("{}")]);
    std::fs::write(fake.dir.path().join("config"), "network=regtest\nalias=x\n").unwrap();
    let run = run_cli(
        fake.dir.path(),
        &[
            format!("--lightning-dir={}", fake.dir.path().display()),
            "stop".to_owned(),
        ],
    );
    let requests = fake.requests();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(requests.len(), 2);
}

#[test]
fn usage_errors_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let ldir = format!("--lightning-dir={}", home.display());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--bogus", "getinfo"],
            "lnpeer-cli: --bogus: unrecognized option\n",
        ),
        (&["-x", "getinfo"], "lnpeer-cli: -x: unrecognized option\n"),
        (
            &["ping", "02ab", "-5"],
            "lnpeer-cli: -5: unrecognized option\n",
        ),
        (
            &["-N", "loud", "getinfo"],
            "lnpeer-cli: --notifications: invalid level 'loud' \
             (expected none, io, trace, debug, info, unusual or broken)\n",
        ),
        (
            &["--network=moon", "getinfo"],
            "lnpeer-cli: --network: unknown network 'moon' \
             (expected bitcoin, testnet, testnet4, signet, regtest)\n",
        ),
        (
            &["-k", "ping", "id=02ab", "oops"],
            "lnpeer-cli: Expected key=value in 'oops'\n",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec![ldir.clone()];
        all.extend(args.iter().map(|&a| a.to_owned()));
        let run = run_cli(home, &all);
        assert_eq!((run.code, run.stderr.as_str()), (3, *want), "{args:?}");
        assert_eq!(run.stdout, "");
    }
    // A malformed literal.
    let run = run_cli(home, &[ldir.clone(), "x".to_owned(), "1.2.3".to_owned()]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr
            .starts_with("lnpeer-cli: Some parameters are malformed"),
        "{}",
        run.stderr
    );
    // A bad config file.
    std::fs::write(home.join("config"), "rgb=red\n").unwrap();
    let run = run_cli(home, &[ldir, "getinfo".to_owned()]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("line 1: rgb:"), "{}", run.stderr);
}

#[test]
fn help_and_version_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_cli(dir.path(), &["--help".to_owned()]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("Usage: lnpeer-cli"),
        "{}",
        run.stdout
    );
    let run = run_cli(dir.path(), &["-V".to_owned()]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "v0.1.0\n"));
}
