//! The Core Lightning plugin host, end to end: real lnpeerd processes started with `--plugin=`
//! options, running the test plugins in `tests/plugins/` (pyln-client plugins run by the
//! provisioned venv's Python, and `lnpeer-test-plugin`, built with the `cln-plugin` crate).
//!
//! Each Python plugin is started through a generated wrapper script named like the plugin
//! (`custommsg_a.py`, ...), since `--plugin` takes an executable: the wrapper's file name is the
//! plugin's name in logs (`plugin-custommsg_a.py: ...`) and in hook `before`/`after` lists.
//!
//! `manifests_over_stdio` checks the plugins themselves, without a node: each answers
//! `getmanifest` and `init` over stdin/stdout as the tests below rely on.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lnpeer_tests::node::{Node, WAIT};
use lnpeer_tests::plugins::{plugin_entry, plugins_dir, wait_for_plugins, write_wrapper, Wrappers};
use lnpeer_tests::python;
use serde_json::{json, Value};

/// `lightningd`'s text for a plugin that exits while it handles an RPC call.
const PLUGIN_TERMINATED: &str = "Plugin terminated before replying to RPC call.";

/// The Rust test plugin's file name, which is its plugin name.
const RUST_PLUGIN: &str = "lnpeer-test-plugin";

/// The Rust test plugin's executable (bin `lnpeer-test-plugin` of this package).
fn rust_plugin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lnpeer-test-plugin"))
}

/// Starts a node with `options`, then waits until `plugin list` shows each of `plugins` (plugin
/// names: file names) active, i.e. past `init`.
#[track_caller]
fn start(options: &[String], plugins: &[&str]) -> Node {
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let node = Node::start(&options);
    wait_for_plugins(&node, plugins);
    node
}

/// Polls `condition` until it holds; on timeout the panic names `what` and quotes `node`'s log.
#[track_caller]
fn wait_for(node: &Node, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "not in time: {what}\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The index of the first line of `log` containing `needle`.
#[track_caller]
fn line_index(log: &str, needle: &str) -> usize {
    log.lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("no log line contains {needle:?}:\n{log}"))
}

/// How many lines of `log` contain `needle`.
fn count_lines(log: &str, needle: &str) -> usize {
    log.lines().filter(|line| line.contains(needle)).count()
}

/// Whether feature `bit` is set in a big-endian feature bitmap given in hex.
fn has_feature(features: &Value, bit: usize) -> bool {
    let bytes = hex::decode(features.as_str().expect("features are a hex string")).unwrap();
    let index = bit / 8;
    index < bytes.len() && bytes[bytes.len() - 1 - index] & (1 << (bit % 8)) != 0
}

/// Sends custom message `msg` (hex) from `from` to `to` and waits until `to` logs it as `[IN]`.
#[track_caller]
fn send_custom(from: &Node, to: &Node, msg: &str) {
    from.rpc("sendcustommsg", json!([to.id, msg]));
    to.wait_for_log(&format!("[IN] {msg}"));
}

/// Two custommsg hooks (CLN's custommsg_a.py and custommsg_b.py, the latter filtered to 0xaaff
/// and ordered after the former): both see a 0xaaff message, in order; only a sees 0xaafd.
#[test]
fn custommsg_hook_chain_in_order_with_filters() {
    let plugins = Wrappers::new();
    let l1 = Node::start(&[]);
    // b is registered first: only its `after` puts it behind a.
    let l2 = start(
        &[
            plugins.plugin("custommsg_b.py"),
            plugins.plugin("custommsg_a.py"),
        ],
        &["custommsg_a.py", "custommsg_b.py"],
    );
    l1.connect(&l2);

    let msg = format!("aa{}bb", "ff".repeat(30));
    send_custom(&l1, &l2, &msg);
    let a = format!(
        "plugin-custommsg_a.py: Got custommessage_a {msg} from peer {}",
        l1.id
    );
    let b = format!(
        "plugin-custommsg_b.py: Got custommessage_b {msg} from peer {}",
        l1.id
    );
    let a_line = l2.wait_for_log(&a);
    l2.wait_for_log(&b);
    assert!(
        a_line.contains(" INFO    plugin-custommsg_a.py: "),
        "a plugin's log line: {a_line}"
    );
    let log = l2.log();
    assert!(
        line_index(&log, &a) < line_index(&log, &b),
        "a must run before b:\n{log}"
    );

    // 0xaafd: not in b's filters.
    let msg2 = format!("aa{}bb", "fd".repeat(30));
    send_custom(&l1, &l2, &msg2);
    l2.wait_for_log(&format!("Got custommessage_a {msg2} from peer {}", l1.id));
    // A later 0xaaff message reaches b, so b has had every chance to see msg2.
    let msg3 = format!("aaff{}", "01".repeat(8));
    send_custom(&l1, &l2, &msg3);
    l2.wait_for_log(&format!("Got custommessage_b {msg3} from peer {}", l1.id));
    let log = l2.log();
    assert!(
        !log.contains(&format!("Got custommessage_b {msg2}")),
        "b is filtered to 0xaaff:\n{log}"
    );
    assert!(
        line_index(&log, &format!("Got custommessage_a {msg3}"))
            < line_index(&log, &format!("Got custommessage_b {msg3}"))
    );
    // Nothing went wrong on the node for this.
    assert!(!log.contains("**BROKEN**"), "{log}");
}

/// A subscriber sees connect, custommsg (before the hook chain runs), a custom notification
/// from another plugin, disconnect, and shutdown.
#[test]
fn notifications_reach_subscribers() {
    let plugins = Wrappers::new();
    let l1 = Node::start(&[]);
    let mut l2 = start(
        &[
            plugins.plugin("notify_listener.py"),
            plugins.plugin("custommsg_a.py"),
            plugins.plugin("greeter.py"),
        ],
        &["notify_listener.py", "custommsg_a.py", "greeter.py"],
    );
    let listener = "plugin-notify_listener.py: ";

    l1.connect(&l2);
    l2.wait_for_log(&format!(
        "{listener}Got connect notification id={} direction=in address=",
        l1.id
    ));

    // The notification goes out before the hook chain starts: the listener (which also sits on
    // the hook, before custommsg_a.py) logs the notification, then its hook call, then a runs.
    let msg = format!("aa{}bb", "ff".repeat(30));
    send_custom(&l1, &l2, &msg);
    let notified = format!(
        "{listener}Got custommsg notification peer_id={} payload={msg}",
        l1.id
    );
    let hooked = format!(
        "{listener}Got custommsg hook peer_id={} payload={msg}",
        l1.id
    );
    let a = format!("Got custommessage_a {msg} from peer {}", l1.id);
    l2.wait_for_log(&a);
    l2.wait_for_log(&notified);
    l2.wait_for_log(&hooked);
    let log = l2.log();
    assert!(
        line_index(&log, &notified) < line_index(&log, &hooked)
            && line_index(&log, &hooked) < line_index(&log, &a),
        "notification, then the hook chain:\n{log}"
    );

    // A custom notification: declared and sent by greeter.py, forwarded with its origin.
    let said = l2.rpc("hello", json!({"name": "bob"}));
    assert_eq!(said, json!({"greeting": "Hello bob"}));
    l2.wait_for_log(&format!(
        "{listener}Got hello_said notification origin=greeter.py name=bob greeting=Hello bob"
    ));

    l1.rpc("disconnect", json!([l2.id]));
    l2.wait_for_log(&format!(
        "{listener}Got disconnect notification id={}",
        l1.id
    ));

    // `stop`: subscribers get `shutdown` (the listener logs, then exits by itself).
    l2.rpc("stop", json!([]));
    assert!(l2.wait_exit(WAIT), "l2 did not stop");
    assert!(
        l2.log()
            .contains(&format!("{listener}Got shutdown notification")),
        "{}",
        l2.log()
    );
}

/// `custommessages`: an even type is accepted from a peer (and may be sent) only while a plugin
/// that declared it runs.
#[test]
fn custommessages_allow_an_even_type_while_the_plugin_runs() {
    let plugins = Wrappers::new();
    let allow = "allow_even_msgs.py";
    let l1 = start(&[plugins.plugin(allow)], &[allow]);
    let l2 = start(&[plugins.plugin(allow)], &[allow]);
    l1.connect(&l2);

    // 0x8888 = 34952, declared on both sides: delivered to the hook, and the peers stay connected.
    let even = format!("8888{}", "ee".repeat(8));
    send_custom(&l1, &l2, &even);
    l2.wait_for_log(&format!(
        "plugin-{allow}: Got message 34952 payload={even} from peer {}",
        l1.id
    ));
    assert_eq!(
        l1.rpc("listpeers", json!([l2.id]))["peers"][0]["connected"],
        json!(true)
    );

    // Stopped on l2: l2 may no longer send it...
    let stopped = l2.rpc("plugin", json!(["stop", allow]));
    assert_eq!(
        stopped,
        json!({"command": "stop", "result": format!("Successfully stopped {allow}.")})
    );
    let refused = l2
        .try_rpc("sendcustommsg", json!([l1.id, even]))
        .unwrap_err();
    assert_eq!(refused["code"], json!(-32600), "{refused}");
    assert_eq!(
        refused["message"],
        json!(
            "Cannot send even-typed 34952 custom message. Currently custom messages are limited \
             to odd-numbered message types, as even-numbered types might result in disconnections."
        )
    );
    // ...odd types still go...
    send_custom(&l2, &l1, "7777beef");
    // ...and when l1 (which still allows it) sends it, l2 warns and hangs up.
    let even2 = format!("8888{}", "dd".repeat(8));
    send_custom(&l1, &l2, &even2);
    l1.wait_for_log(&format!("Invalid unknown even msg {even2}"));
    wait_for(&l1, "l2 hangs up", || {
        let peers = l1.rpc("listpeers", json!([l2.id]));
        peers["peers"] == json!([]) || peers["peers"][0]["connected"] == json!(false)
    });
    assert!(
        !l2.log().contains(&format!("payload={even2}")),
        "no hook may see an undeclared even type"
    );

    // Started again (dynamically): accepted again.
    let path = plugins.path(allow);
    let started = l2.rpc("plugin", json!(["start", path]));
    assert_eq!(started["command"], json!("start"));
    assert_eq!(plugin_entry(&started, allow)["active"], json!(true));
    l1.connect(&l2);
    let even3 = format!("8888{}", "cc".repeat(8));
    send_custom(&l1, &l2, &even3);
    l2.wait_for_log(&format!(
        "Got message 34952 payload={even3} from peer {}",
        l1.id
    ));
    assert_eq!(
        l1.rpc("listpeers", json!([l2.id]))["peers"][0]["connected"],
        json!(true)
    );
}

/// A plugin's rpcmethod through the node's RPC and through lnpeer-cli; its option from the
/// command line; its errors passed through.
#[test]
fn plugin_rpcmethod_through_rpc_and_lnpeer_cli() {
    let plugins = Wrappers::new();
    let l1 = start(
        &[plugins.plugin("greeter.py"), "--greeting=Howdy".to_owned()],
        &["greeter.py"],
    );
    l1.wait_for_log("plugin-greeter.py: greeter initialised with greeting=Howdy");

    assert_eq!(
        l1.rpc("hello", json!({"name": "world"})),
        json!({"greeting": "Howdy world"})
    );
    assert_eq!(
        l1.rpc("hello", json!(["alice"])),
        json!({"greeting": "Howdy alice"})
    );
    assert_eq!(
        l1.rpc("hello", json!([])),
        json!({"greeting": "Howdy world"})
    );
    l1.wait_for_log("plugin-greeter.py: Said Howdy alice");

    // The plugin's error object comes back as it sent it.
    let error = l1.try_rpc("hello", json!({"name": ""})).unwrap_err();
    assert_eq!(error["code"], json!(1001), "{error}");
    assert_eq!(error["message"], json!("name must not be empty"));

    // The caller gets its own id back (the plugin saw "my-id/cln:hello#<n>").
    let raw = l1
        .raw_rpc(r#"{"jsonrpc":"2.0","id":"my-id","method":"hello","params":["raw"]}"#)
        .unwrap();
    let raw: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw["id"], json!("my-id"));
    assert_eq!(raw["result"], json!({"greeting": "Howdy raw"}));

    // lnpeer-cli: positional and keyword.
    assert_eq!(
        l1.cli_json(&["hello", "world"]),
        json!({"greeting": "Howdy world"})
    );
    assert_eq!(
        l1.cli_json(&["hello", "name=carol"]),
        json!({"greeting": "Howdy carol"})
    );

    // `help` lists it.
    let help = l1.rpc("help", json!([]));
    assert!(
        help["help"]
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["command"]
                .as_str()
                .is_some_and(|c| c.starts_with("hello"))),
        "{help}"
    );
}

/// A plugin that exits while it handles an RPC call: the caller gets -4, the node stays up and
/// the plugin's methods are gone.
#[test]
fn plugin_dying_in_an_rpc_call_gives_minus_4() {
    let plugins = Wrappers::new();
    let l1 = start(&[plugins.plugin("greeter.py")], &["greeter.py"]);
    let error = l1.try_rpc("crash", json!([])).unwrap_err();
    assert_eq!(
        error,
        json!({"code": -4, "message": PLUGIN_TERMINATED}),
        "{error}"
    );
    l1.wait_for_log("plugin-greeter.py: crash: exiting without a reply");
    // The node still answers; the dead plugin's methods are unregistered.
    l1.rpc("getinfo", json!([]));
    let deadline = Instant::now() + WAIT;
    loop {
        match l1.try_rpc("hello", json!([])) {
            Err(e) if e["code"] == json!(-32601) => break,
            other => assert!(
                Instant::now() < deadline,
                "hello is still there after its plugin died: {other:?}\n{}",
                l1.log()
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let list = l1.rpc("plugin", json!(["list"]));
    assert_ne!(plugin_entry(&list, "greeter.py")["active"], json!(true));
}

/// Plugins that die in the custommsg hook, or answer it with garbage, are skipped: the node
/// stays up and the next plugin in the chain still gets every message.
#[test]
fn misbehaving_hook_plugins_do_not_stop_the_chain() {
    let plugins = Wrappers::new();
    let l1 = Node::start(&[]);
    // custommsg_a.py first on the command line: only the others' `before` puts them ahead.
    let l2 = start(
        &[
            plugins.plugin("custommsg_a.py"),
            plugins.plugin("hook_crash.py"),
            plugins.plugin("hook_garbage.py"),
            plugins.plugin("notify_listener.py"),
        ],
        &[
            "custommsg_a.py",
            "hook_crash.py",
            "hook_garbage.py",
            "notify_listener.py",
        ],
    );
    let listener = "plugin-notify_listener.py: ";
    l1.connect(&l2);

    let msg1 = format!("7777{}", "01".repeat(16));
    send_custom(&l1, &l2, &msg1);
    let a1 = format!("Got custommessage_a {msg1} from peer {}", l1.id);
    let crash1 =
        format!("plugin-hook_crash.py: hook_crash: exiting in the custommsg hook for {msg1}");
    let garbage1 = format!("plugin-hook_garbage.py: hook_garbage: answering garbage for {msg1}");
    l2.wait_for_log(&a1);
    let log = l2.log();
    assert!(
        line_index(&log, &crash1) < line_index(&log, &a1)
            && line_index(&log, &garbage1) < line_index(&log, &a1),
        "the misbehaving plugins run first:\n{log}"
    );
    // The node is up, and the crashed plugin is gone.
    l2.rpc("getinfo", json!([]));
    wait_for(&l2, "hook_crash.py leaves `plugin list`", || {
        plugin_entry(&l2.rpc("plugin", json!(["list"])), "hook_crash.py")["active"] != json!(true)
    });
    // Subscribers hear of both: `plugin_stopped` for the dead plugin, and a `warning` for the
    // invalid answer (logged UNUSUAL by lnpeer, where lightningd would abort).
    l2.wait_for_log(&format!(
        "{listener}Got plugin_stopped notification plugin_name=hook_crash.py"
    ));
    wait_for(&l2, "a warning notification about the garbage", || {
        l2.log().lines().any(|line| {
            line.contains(&format!("{listener}Got warning notification level=warn"))
                && line.contains("invalid response to the custommsg hook")
        })
    });
    assert_eq!(
        l2.rpc("listpeers", json!([l1.id]))["peers"][0]["connected"],
        json!(true)
    );

    // The next message: garbage again, a again, no crash plugin any more.
    let msg2 = format!("7777{}", "02".repeat(16));
    send_custom(&l1, &l2, &msg2);
    l2.wait_for_log(&format!("Got custommessage_a {msg2} from peer {}", l1.id));
    let log = l2.log();
    assert_eq!(
        count_lines(&log, &format!("hook_garbage: answering garbage for {msg2}")),
        1
    );
    assert!(!log.contains(&format!("exiting in the custommsg hook for {msg2}")));
    l2.rpc("getinfo", json!([]));
}

/// A hook that is never answered is skipped after `--plugin-hook-timeout`.
#[test]
fn silent_hook_is_skipped_after_the_hook_timeout() {
    let plugins = Wrappers::new();
    let l1 = Node::start(&[]);
    let l2 = start(
        &[
            plugins.plugin("custommsg_a.py"),
            plugins.plugin("hook_silent.py"),
            "--plugin-hook-timeout=2".to_owned(),
        ],
        &["custommsg_a.py", "hook_silent.py"],
    );
    l1.connect(&l2);
    for n in 1..=2 {
        let msg = format!("7777{}", format!("{n:02x}").repeat(8));
        let sent = Instant::now();
        send_custom(&l1, &l2, &msg);
        l2.wait_for_log(&format!(
            "plugin-hook_silent.py: hook_silent: not answering the custommsg hook for {msg}"
        ));
        // Well within WAIT (30 s), far below the default timeout (60 s).
        l2.wait_for_log(&format!("Got custommessage_a {msg} from peer {}", l1.id));
        assert!(
            sent.elapsed() >= Duration::from_secs(1),
            "a ran before the timeout"
        );
    }
    l2.rpc("getinfo", json!([]));
}

/// A plugin's `featurebits`: in the node's `getinfo.our_features` and in the `init` the peer
/// receives; an odd (optional) unknown bit does not break the connection.
#[test]
fn plugin_featurebits_reach_our_init() {
    const BIT: usize = 103;
    let plugins = Wrappers::new();
    let l1 = start(&[plugins.plugin("featurebits.py")], &["featurebits.py"]);
    let l2 = Node::start(&[]);

    let ours = l1.rpc("getinfo", json!([]))["our_features"].clone();
    assert!(has_feature(&ours["init"], BIT), "{ours}");
    assert!(has_feature(&ours["node"], BIT), "{ours}");
    let plain = l2.rpc("getinfo", json!([]))["our_features"].clone();
    assert!(!has_feature(&plain["init"], BIT), "{plain}");

    // l2 dials l1 and reads l1's init.
    let connected = l2.connect(&l1);
    assert!(has_feature(&connected["features"], BIT), "{connected}");
    let peer = l2.rpc("listpeers", json!([l1.id]))["peers"][0].clone();
    assert!(has_feature(&peer["features"], BIT), "{peer}");
    // The other way round the bit is not there.
    let peer = l1.rpc("listpeers", json!([l2.id]))["peers"][0].clone();
    assert!(!has_feature(&peer["features"], BIT), "{peer}");

    // The connection works.
    send_custom(&l1, &l2, "7777cafe");
    send_custom(&l2, &l1, "7777f00d");
    assert_eq!(
        l2.rpc("listpeers", json!([l1.id]))["peers"][0]["connected"],
        json!(true)
    );
    assert_eq!(
        plugin_entry(&l1.rpc("plugin", json!(["list"])), "featurebits.py")["dynamic"],
        json!(false)
    );
}

/// The `peer_connected` hook sees each new peer (id, direction, address, features), and its
/// `disconnect` answer sends a peer away while others stay.
#[test]
fn peer_connected_hook_admits_or_disconnects() {
    let plugins = Wrappers::new();
    let l1 = Node::start(&[]);
    let l2 = start(&[plugins.plugin("peer_gate.py")], &["peer_gate.py"]);
    let l3 = Node::start(&[]);
    let gate = "plugin-peer_gate.py: peer_gate: ";

    l1.connect(&l2);
    let seen = l2.wait_for_log(&format!(
        "{gate}peer_connected id={} direction=in addr=127.0.0.1:",
        l1.id
    ));
    let features = l2.rpc("listpeers", json!([l1.id]))["peers"][0]["features"].clone();
    assert!(
        seen.ends_with(&format!("features={}", features.as_str().unwrap())),
        "{seen} vs {features}"
    );

    let rejecting = l2.rpc("peer-gate-reject", json!([l3.id]));
    assert_eq!(rejecting, json!({"rejecting": [l3.id]}));
    // Whether l3's `connect` succeeds before the hook answers is not the point.
    let _ = l3.try_rpc("connect", json!([l2.address()]));
    l2.wait_for_log(&format!("{gate}rejecting {}", l3.id));
    let gone = |node: &Node, peer: &Node| {
        let peers = node.rpc("listpeers", json!([peer.id]));
        peers["peers"] == json!([]) || peers["peers"][0]["connected"] == json!(false)
    };
    wait_for(&l2, "l2 sends l3 away", || gone(&l2, &l3));
    wait_for(&l3, "l3 is sent away", || gone(&l3, &l2));
    assert_eq!(
        l2.rpc("listpeers", json!([l1.id]))["peers"][0]["connected"],
        json!(true)
    );
    send_custom(&l1, &l2, "7777abcd");
}

/// The Rust plugin (cln-plugin crate): its custommsg hook and its rpcmethod.
#[test]
fn rust_cln_plugin_hook_and_rpcmethod() {
    let l1 = Node::start(&[]);
    let l2 = start(
        &[format!("--plugin={}", rust_plugin().display())],
        &[RUST_PLUGIN],
    );
    l1.connect(&l2);

    let msg = format!("7777{}", "42".repeat(8));
    send_custom(&l1, &l2, &msg);
    l2.wait_for_log(&format!(
        "plugin-{RUST_PLUGIN}: Rust plugin got custommsg {msg} from {}",
        l1.id
    ));

    assert_eq!(
        l2.rpc("rusthello", json!({"name": "lnpeer"})),
        json!({"greeting": "Hello from Rust, lnpeer"})
    );
    assert_eq!(
        l2.rpc("rusthello", json!([])),
        json!({"greeting": "Hello from Rust, world"})
    );
    assert_eq!(
        l2.cli_json(&["rusthello", "cli"]),
        json!({"greeting": "Hello from Rust, cli"})
    );
    l2.wait_for_log(&format!("plugin-{RUST_PLUGIN}: rusthello called for cli"));
}

/// `plugin list`, `stop` and `start` (positional options and named ones), with the
/// `plugin_started`/`plugin_stopped` notifications; a non-dynamic plugin cannot be stopped.
#[test]
fn plugin_list_stop_start_round_trip() {
    let plugins = Wrappers::new();
    let greeter = "greeter.py";
    let l1 = start(
        &[
            plugins.plugin("notify_listener.py"),
            plugins.plugin(greeter),
            plugins.plugin("featurebits.py"),
        ],
        &["notify_listener.py", greeter, "featurebits.py"],
    );
    let path = plugins.path(greeter);
    let path_str = path.to_str().unwrap();

    let list = l1.rpc("plugin", json!(["list"]));
    assert_eq!(list["command"], json!("list"));
    assert_eq!(
        plugin_entry(&list, greeter),
        json!({"name": path_str, "active": true, "dynamic": true})
    );
    assert_eq!(
        plugin_entry(&list, "featurebits.py")["dynamic"],
        json!(false)
    );

    // stop
    let stopped = l1.rpc("plugin", json!({"subcommand": "stop", "plugin": greeter}));
    assert_eq!(
        stopped,
        json!({"command": "stop", "result": format!("Successfully stopped {greeter}.")})
    );
    l1.wait_for_log(&format!(
        "plugin-notify_listener.py: Got plugin_stopped notification plugin_name={greeter}"
    ));
    assert_ne!(
        plugin_entry(&l1.rpc("plugin", json!(["list"])), greeter)["active"],
        json!(true)
    );
    let gone = l1.try_rpc("hello", json!([])).unwrap_err();
    assert_eq!(gone["code"], json!(-32601), "{gone}");

    // start, with an option as key=value
    let started = l1.rpc("plugin", json!(["start", path_str, "greeting=Hi"]));
    assert_eq!(started["command"], json!("start"));
    assert_eq!(
        plugin_entry(&started, greeter),
        json!({"name": path_str, "active": true, "dynamic": true})
    );
    l1.wait_for_log(&format!(
        "plugin-notify_listener.py: Got plugin_started notification plugin_name={greeter}"
    ));
    assert_eq!(l1.rpc("hello", json!([])), json!({"greeting": "Hi world"}));

    // stop by path, start with a named option (as pyln's `plugin_start(path, greeting=...)`)
    let stopped = l1.rpc("plugin", json!(["stop", path_str]));
    assert_eq!(stopped["command"], json!("stop"));
    let started = l1.rpc(
        "plugin",
        json!({"subcommand": "start", "plugin": path_str, "greeting": "Hey"}),
    );
    assert_eq!(plugin_entry(&started, greeter)["active"], json!(true));
    assert_eq!(
        l1.rpc("hello", json!({"name": "you"})),
        json!({"greeting": "Hey you"})
    );

    // A plugin that is not dynamic stays.
    let refused = l1
        .try_rpc("plugin", json!(["stop", "featurebits.py"]))
        .unwrap_err();
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot be managed when lightningd is up")),
        "{refused}"
    );
    assert_eq!(
        plugin_entry(&l1.rpc("plugin", json!(["list"])), "featurebits.py")["active"],
        json!(true)
    );
}

/// `--plugin-dir` and `--disable-plugin` at start; `plugin rescan` (the default directory
/// `<lightning-dir>/plugins`) and `plugin startdir` later.
#[test]
fn plugin_directories_disable_rescan_and_startdir() {
    let at_start = Wrappers::new();
    at_start.path("greeter.py");
    at_start.path("custommsg_a.py");
    let l1 = start(
        &[
            format!("--plugin-dir={}", at_start.dir().display()),
            "--disable-plugin=custommsg_a.py".to_owned(),
        ],
        &["greeter.py"],
    );
    let list = l1.rpc("plugin", json!(["list"]));
    assert_eq!(plugin_entry(&list, "custommsg_a.py"), Value::Null, "{list}");
    assert_eq!(
        l1.rpc("hello", json!([])),
        json!({"greeting": "Hello world"})
    );

    // The default directory, created after start, then rescanned.
    let default_dir = l1.lightning_dir().join("plugins");
    std::fs::create_dir(&default_dir).unwrap();
    write_wrapper(&default_dir, "allow_even_msgs.py");
    let rescanned = l1.rpc("plugin", json!(["rescan"]));
    assert_eq!(rescanned["command"], json!("rescan"));
    wait_for_plugins(&l1, &["allow_even_msgs.py"]);

    // startdir
    let later = Wrappers::new();
    later.path("notify_listener.py");
    let started = l1.rpc("plugin", json!(["startdir", later.dir().to_str().unwrap()]));
    assert_eq!(started["command"], json!("startdir"));
    wait_for_plugins(
        &l1,
        &["notify_listener.py", "greeter.py", "allow_even_msgs.py"],
    );
}

/// A plugin process driven over stdin/stdout as lightningd drives it, without a node.
struct StdioPlugin {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl StdioPlugin {
    fn spawn(mut command: Command) -> StdioPlugin {
        let mut child = command
            .env("LIGHTNINGD_PLUGIN", "1")
            .env("LIGHTNINGD_VERSION", "v26.06")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buffer.extend_from_slice(&chunk[..n]);
                while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                    let frame: Vec<u8> = buffer.drain(..end + 2).collect();
                    let text = String::from_utf8_lossy(&frame[..end]).trim().to_owned();
                    if !text.is_empty() {
                        let value = serde_json::from_str(&text)
                            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
                        if sender.send(value).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        StdioPlugin {
            stdin: child.stdin.take(),
            child,
            messages,
            seen: Vec::new(),
        }
    }

    /// Sends a request (followed by "\n\n", as lightningd does) and returns its response.
    #[track_caller]
    fn call(&mut self, id: &str, method: &str, params: Value) -> Value {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{request}\n\n").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        self.expect(|m| m["id"] == json!(id))
    }

    /// Waits for a message matching `matches` (seen already or arriving) and returns it.
    #[track_caller]
    fn expect(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|m| matches(m)) {
            return found.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    self.seen.push(message.clone());
                    if matches(&message) {
                        return message;
                    }
                }
                Err(e) => panic!("no matching message ({e}); got {:?}", self.seen),
            }
        }
    }

    /// Waits for a `log` notification containing `text`.
    #[track_caller]
    fn expect_log(&mut self, text: &str) {
        self.expect(|m| {
            m["method"] == json!("log")
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains(text))
        });
    }

    /// `getmanifest`, then `init` with no options; returns the manifest.
    #[track_caller]
    fn handshake(&mut self, dir: &Path) -> Value {
        let manifest = self.call(
            "cln:getmanifest#1",
            "getmanifest",
            json!({"allow-deprecated-apis": false}),
        );
        assert!(manifest.get("result").is_some(), "{manifest}");
        let init = self.call(
            "cln:init#2",
            "init",
            json!({
                "options": {},
                "configuration": {
                    "lightning-dir": dir,
                    "rpc-file": "lightning-rpc",
                    "startup": true,
                    "network": "regtest",
                    "feature_set": {"init": "", "node": "", "channel": "", "invoice": ""},
                },
            }),
        );
        assert!(init.get("result").is_some(), "{init}");
        manifest["result"].clone()
    }

    /// Closes stdin (as lightningd does when it goes) and waits for the process to exit.
    #[track_caller]
    fn finish(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the plugin did not exit on EOF");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for StdioPlugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_plugin(name: &str) -> StdioPlugin {
    let mut command = Command::new(python::python());
    command.arg(plugins_dir().join(name));
    StdioPlugin::spawn(command)
}

/// The hook registrations of a manifest, by hook name.
fn hook(manifest: &Value, name: &str) -> Value {
    manifest["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == json!(name))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Each test plugin, alone over stdio: the manifest the tests rely on, and its answers.
#[test]
fn manifests_over_stdio() {
    let dir = tempfile::tempdir().unwrap();
    let peer = format!("02{}", "11".repeat(32));
    let custommsg = |payload: &str| json!({"payload": payload, "peer_id": peer});

    for (name, before, after, filters) in [
        ("custommsg_a.py", json!([]), json!([]), Value::Null),
        (
            "custommsg_b.py",
            json!([]),
            json!(["custommsg_a.py"]),
            json!([0xaaff]),
        ),
        (
            "hook_crash.py",
            json!(["custommsg_a.py"]),
            json!([]),
            Value::Null,
        ),
        (
            "hook_garbage.py",
            json!(["custommsg_a.py"]),
            json!([]),
            Value::Null,
        ),
        (
            "hook_silent.py",
            json!(["custommsg_a.py"]),
            json!([]),
            Value::Null,
        ),
        (
            "notify_listener.py",
            json!(["custommsg_a.py"]),
            json!([]),
            Value::Null,
        ),
    ] {
        let mut plugin = python_plugin(name);
        let manifest = plugin.handshake(dir.path());
        let registration = hook(&manifest, "custommsg");
        assert_eq!(registration["before"], before, "{name}: {manifest}");
        assert_eq!(registration["after"], after, "{name}: {manifest}");
        assert_eq!(
            registration.get("filters").cloned().unwrap_or(Value::Null),
            filters
        );
        assert_eq!(manifest["nonnumericids"], json!(true));
        plugin.finish();
    }

    // custommsg_a answers continue and logs CLN's text.
    let mut a = python_plugin("custommsg_a.py");
    a.handshake(dir.path());
    let reply = a.call("cln:custommsg#3", "custommsg", custommsg("aaff00"));
    assert_eq!(reply["result"], json!({"result": "continue"}));
    a.expect_log(&format!("Got custommessage_a aaff00 from peer {peer}"));
    a.finish();

    // The garbage plugin's answer.
    let mut garbage = python_plugin("hook_garbage.py");
    garbage.handshake(dir.path());
    let reply = garbage.call("cln:custommsg#3", "custommsg", custommsg("7777"));
    assert_eq!(reply["result"]["result"], json!("garbage"));
    garbage.finish();

    // The listener: its subscriptions, and one line per notification.
    let mut listener = python_plugin("notify_listener.py");
    let manifest = listener.handshake(dir.path());
    let mut subscriptions: Vec<&str> = manifest["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    subscriptions.sort_unstable();
    assert_eq!(
        subscriptions,
        [
            "connect",
            "custommsg",
            "disconnect",
            "hello_said",
            "plugin_started",
            "plugin_stopped",
            "shutdown",
            "warning"
        ]
    );
    let stdin = listener.stdin.as_mut().unwrap();
    for notification in [
        json!({"method": "connect", "params": {"connect": {"id": peer, "direction": "in", "address": {"type": "ipv4", "address": "127.0.0.1", "port": 9735}}}}),
        json!({"method": "custommsg", "params": {"custommsg": {"peer_id": peer, "payload": "7777"}}}),
        json!({"method": "hello_said", "params": {"origin": "greeter.py", "payload": {"name": "bob", "greeting": "Hi bob", "hello_said": {"name": "bob", "greeting": "Hi bob"}}}}),
        json!({"method": "plugin_started", "params": {"plugin_started": {"plugin_name": "greeter.py", "plugin_path": "/p/greeter.py", "methods": ["hello"]}}}),
        json!({"method": "disconnect", "params": {"disconnect": {"id": peer}}}),
    ] {
        let mut notification = notification;
        notification["jsonrpc"] = json!("2.0");
        stdin
            .write_all(format!("{notification}\n\n").as_bytes())
            .unwrap();
    }
    stdin.flush().unwrap();
    listener.expect_log(&format!(
        "Got connect notification id={peer} direction=in address="
    ));
    listener.expect_log(&format!(
        "Got custommsg notification peer_id={peer} payload=7777"
    ));
    listener.expect_log("Got hello_said notification origin=greeter.py name=bob greeting=Hi bob");
    listener.expect_log("Got plugin_started notification plugin_name=greeter.py");
    listener.expect_log(&format!("Got disconnect notification id={peer}"));
    listener.finish();

    // greeter: option, methods, topic; hello emits the topic; crash exits without a reply.
    let mut greeter = python_plugin("greeter.py");
    let manifest = greeter.handshake(dir.path());
    assert_eq!(manifest["options"][0]["name"], json!("greeting"));
    assert_eq!(manifest["options"][0]["default"], json!("Hello"));
    assert_eq!(manifest["notifications"], json!([{"method": "hello_said"}]));
    let methods: Vec<&Value> = manifest["rpcmethods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["name"])
        .collect();
    assert_eq!(methods, [&json!("hello"), &json!("crash")]);
    let reply = greeter.call("x/cln:hello#3", "hello", json!(["bob"]));
    assert_eq!(reply["result"], json!({"greeting": "Hello bob"}));
    greeter.expect(|m| m["method"] == json!("hello_said") && m["params"]["name"] == json!("bob"));
    let reply = greeter.call("cln:hello#4", "hello", json!({"name": ""}));
    assert_eq!(reply["error"]["code"], json!(1001));
    let stdin = greeter.stdin.as_mut().unwrap();
    stdin
        .write_all(
            b"{\"jsonrpc\":\"2.0\",\"id\":\"cln:crash#5\",\"method\":\"crash\",\"params\":[]}\n\n",
        )
        .unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = greeter.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "crash did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(1));
    assert!(!greeter.seen.iter().any(|m| m["id"] == json!("cln:crash#5")));

    // allow_even_msgs: custommessages.
    let mut allow = python_plugin("allow_even_msgs.py");
    let manifest = allow.handshake(dir.path());
    assert_eq!(manifest["custommessages"], json!([0x8888]));
    assert_eq!(manifest["dynamic"], json!(true));
    let reply = allow.call("cln:custommsg#3", "custommsg", custommsg("8888ab"));
    assert_eq!(reply["result"], json!({"result": "continue"}));
    allow.expect_log(&format!(
        "Got message 34952 payload=8888ab from peer {peer}"
    ));
    allow.finish();

    // featurebits: bit 103 in init and node, not dynamic.
    let mut features = python_plugin("featurebits.py");
    let manifest = features.handshake(dir.path());
    let bit = json!(format!("80{}", "00".repeat(12)));
    assert_eq!(manifest["featurebits"]["init"], bit);
    assert_eq!(manifest["featurebits"]["node"], bit);
    assert!(has_feature(&bit, 103));
    assert_eq!(manifest["dynamic"], json!(false));
    features.finish();

    // peer_gate: the peer_connected hook and its method.
    let mut gate = python_plugin("peer_gate.py");
    let manifest = gate.handshake(dir.path());
    assert_eq!(
        hook(&manifest, "peer_connected")["name"],
        json!("peer_connected")
    );
    assert_eq!(manifest["rpcmethods"][0]["name"], json!("peer-gate-reject"));
    let connected = |id: &str| json!({"peer": {"id": id, "direction": "in", "addr": "127.0.0.1:1", "features": "02"}});
    let reply = gate.call("cln:peer_connected#3", "peer_connected", connected(&peer));
    assert_eq!(reply["result"], json!({"result": "continue"}));
    gate.expect_log(&format!(
        "peer_gate: peer_connected id={peer} direction=in addr=127.0.0.1:1 features=02"
    ));
    gate.call("cln:peer-gate-reject#4", "peer-gate-reject", json!([peer]));
    let reply = gate.call("cln:peer_connected#5", "peer_connected", connected(&peer));
    assert_eq!(
        reply["result"],
        json!({"result": "disconnect", "error_message": "peer_gate says no"})
    );
    gate.finish();

    // The Rust plugin.
    let mut rust = StdioPlugin::spawn(Command::new(rust_plugin()));
    let manifest = rust.handshake(dir.path());
    assert_eq!(hook(&manifest, "custommsg")["name"], json!("custommsg"));
    assert_eq!(manifest["rpcmethods"][0]["name"], json!("rusthello"));
    let reply = rust.call("cln:custommsg#3", "custommsg", custommsg("7777ab"));
    assert_eq!(reply["result"], json!({"result": "continue"}));
    rust.expect_log(&format!("Rust plugin got custommsg 7777ab from {peer}"));
    let reply = rust.call("x/cln:rusthello#4", "rusthello", json!({"name": "stdio"}));
    assert_eq!(
        reply["result"],
        json!({"greeting": "Hello from Rust, stdio"})
    );
    let reply = rust.call("cln:rusthello#5", "rusthello", json!(["pos"]));
    assert_eq!(reply["result"], json!({"greeting": "Hello from Rust, pos"}));
    rust.finish();
}
