//! The `--developer` fault injection aids, each shown by what the other node sees:
//! `dev-sendrawmsg` (a message `sendcustommsg` refuses, sent anyway), `dev-peer-write-delay`
//! (one peer's writes held back) and `--dev-disconnect` (CLN's file of disconnection points).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use lnpeer_tests::node::{wait_until, Node};
use serde_json::{json, Value};

/// A valid node id no test node has.
const STRANGER: &str = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";

fn error_message(error: &Value) -> &str {
    error["message"].as_str().unwrap_or_default()
}

fn connected(node: &Node, peer: &Node) -> bool {
    node.rpc("listpeers", json!([peer.id]))["peers"][0]["connected"] == json!(true)
}

#[test]
fn dev_sendrawmsg_sends_what_sendcustommsg_refuses() {
    let a = Node::start(&[]);
    let b = Node::start(&[]);
    a.connect(&b);

    // A channel message (commitment_signed, 132) for a channel b does not have: b answers
    // with an error for that channel id, which is all a channel-less node can say, and a,
    // given an error, hangs up.
    let channel_message = format!("0084{}", "11".repeat(32));
    let refused = a
        .try_rpc("sendcustommsg", json!([b.id, channel_message]))
        .unwrap_err();
    assert!(
        error_message(&refused).starts_with("Cannot send messages of type 132"),
        "{refused}"
    );
    let sent = a.rpc("dev-sendrawmsg", json!([b.id, channel_message]));
    assert_eq!(
        sent["status"],
        "Message of type 132 (WIRE_COMMITMENT_SIGNED) sent to connectd for delivery, unchecked"
    );
    b.wait_for_log(&format!("[IN] {channel_message}"));
    a.wait_for_log(&format!("[IN] 0011{}", "11".repeat(32)));
    wait_until(|| !connected(&a, &b));
    a.connect(&b);

    // An even type nobody declared: b warns and hangs up, as BOLT 1 says it must.
    let even = "271000";
    let refused = a.try_rpc("sendcustommsg", json!([b.id, even])).unwrap_err();
    assert!(
        error_message(&refused).starts_with("Cannot send even-typed 10000 custom message"),
        "{refused}"
    );
    a.rpc("dev-sendrawmsg", json!({"node_id": b.id, "msg": even}));
    b.wait_for_log("Invalid unknown even msg 271000");
    a.wait_for_log("Received WIRE_WARNING: WARNING: Invalid unknown even msg 271000");
    wait_until(|| !connected(&a, &b));

    // Clear errors for what cannot be sent.
    let cases = [
        (
            json!([b.id, "zz"]),
            "msg: should be a hex value: invalid token '\"zz\"'",
        ),
        (
            json!([b.id, "012"]),
            "msg: should be a hex value with an even number of digits: invalid token '\"012\"'",
        ),
        (
            json!([b.id, "01"]),
            "msg: should be at least 2 bytes, the message type: invalid token '\"01\"'",
        ),
        (
            json!([b.id, "00".repeat(65_536)]),
            "msg: should be at most 65535 bytes (type and payload), got 131072 hex digits",
        ),
        (
            json!([STRANGER, "8001"]),
            &format!("No such peer: {STRANGER}"),
        ),
        // Disconnected and without a channel, b is forgotten.
        (json!([b.id, "8001"]), &format!("No such peer: {}", b.id)),
    ];
    for (params, message) in cases {
        let error = a.try_rpc("dev-sendrawmsg", params.clone()).unwrap_err();
        assert_eq!(error_message(&error), message, "{params}");
    }

    // Developer only.
    let plain = Node::start_with(false, &[]);
    let error = plain
        .try_rpc("dev-sendrawmsg", json!([a.id, "8001"]))
        .unwrap_err();
    assert_eq!(
        error_message(&error),
        "Command dev-sendrawmsg is developer-only"
    );
}

#[test]
fn dev_peer_write_delay_holds_back_our_writes_to_that_peer() {
    let a = Node::start(&[]);
    let b = Node::start(&[]);
    a.connect(&b);

    let delay = Duration::from_millis(1500);
    assert_eq!(
        a.rpc("dev-peer-write-delay", json!([b.id, 1500])),
        json!({"id": b.id, "delay_ms": 1500})
    );
    // b's ping waits for a's pong, which a writes no sooner than the delay after its queued.
    let start = Instant::now();
    b.rpc("ping", json!([a.id]));
    assert!(
        start.elapsed() >= delay,
        "the pong came after {:?}",
        start.elapsed()
    );
    // Delayed writes still arrive, all of them and in order.
    for index in 0..5u8 {
        a.rpc("sendcustommsg", json!([b.id, format!("8001{index:02x}")]));
    }
    b.wait_for_log("[IN] 800104");
    let log = b.log();
    let arrived: Vec<usize> = (0..5u8)
        .map(|index| log.find(&format!("[IN] 8001{index:02x}")).unwrap())
        .collect();
    assert!(arrived.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(connected(&a, &b));

    assert_eq!(
        a.rpc("dev-peer-write-delay", json!({"id": b.id, "delay_ms": 0})),
        json!({"id": b.id, "delay_ms": 0})
    );
    b.rpc("ping", json!([a.id]));

    let error = a
        .try_rpc("dev-peer-write-delay", json!([STRANGER, 10]))
        .unwrap_err();
    assert_eq!(error_message(&error), format!("No such peer: {STRANGER}"));
    let error = a
        .try_rpc("dev-peer-write-delay", json!([b.id, -1]))
        .unwrap_err();
    assert!(error_message(&error).starts_with("delay_ms: "), "{error}");
}

/// The script the dev-disconnect test follows, point by point.
const SCRIPT: &str = "\
$32769
+UNKNOWN 32771*2
-WIRE_INIT
@32769
-WIRE_PING
";

#[test]
fn dev_disconnect_points_fire_in_order_as_the_peer_sees_them() {
    let files = tempfile::tempdir().unwrap();
    let script = files.path().join("dev_disconnect");
    std::fs::write(&script, SCRIPT).unwrap();
    let a = Node::start(&[&format!("--dev-disconnect={}", script.display())]);
    let b = Node::start(&[]);
    a.wait_for_log("dev_disconnect: 5 points from");
    b.connect(&a);

    // `$32769`: the first 32769 is dropped, silently; the next goes. `+UNKNOWN 32771*2`: the
    // second 32771 is sent, then a closes.
    for message in ["8001aa", "8001bb", "8003cc", "8003dd"] {
        a.rpc("sendcustommsg", json!([b.id, message]));
    }
    b.wait_for_log("[IN] 8003dd");
    wait_until(|| !connected(&b, &a));
    let log = b.log();
    assert!(!log.contains("[IN] 8001aa"), "the dropped message arrived");
    let order: Vec<usize> = ["[IN] 8001bb", "[IN] 8003cc", "[IN] 8003dd"]
        .iter()
        .map(|needle| log.find(needle).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order");
    a.wait_for_log("dev_disconnect: $32769 (UNKNOWN 32769)");
    a.wait_for_log("dev_disconnect: +UNKNOWN 32771 (UNKNOWN 32771)");

    // `-WIRE_INIT`: the next connection ends before a sends its init.
    let refused = b.try_rpc("connect", json!([a.address()])).unwrap_err();
    assert!(!connected(&b, &a), "{refused}");
    a.wait_for_log("dev_disconnect: -WIRE_INIT (WIRE_INIT)");

    // `@32769`: dropped, and the connection closed; the sender is told it was sent.
    b.connect(&a);
    a.rpc("sendcustommsg", json!([b.id, "8001ee"]));
    wait_until(|| !connected(&b, &a));
    assert!(
        !b.log().contains("[IN] 8001ee"),
        "the dropped message arrived"
    );
    a.wait_for_log("dev_disconnect: @32769 (UNKNOWN 32769)");

    // `-WIRE_PING`: a's ping is not sent; the connection closes instead.
    b.connect(&a);
    let error = a.try_rpc("ping", json!([b.id])).unwrap_err();
    assert!(!error_message(&error).is_empty(), "{error}");
    wait_until(|| !connected(&b, &a));
    a.wait_for_log("dev_disconnect: -WIRE_PING (WIRE_PING)");

    // The script is done: everything goes as usual.
    b.connect(&a);
    a.rpc("sendcustommsg", json!([b.id, "8001ff"]));
    b.wait_for_log("[IN] 8001ff");
    b.rpc("ping", json!([a.id]));
    assert!(connected(&b, &a));
}

#[test]
fn a_bad_dev_disconnect_file_stops_the_node_naming_the_line() {
    let dir = Node::new_dir();
    let script = dir.path().join("dev_disconnect");
    std::fs::write(&script, "-WIRE_PING\n-WIRE_PONG*0\n").unwrap();
    let output = std::process::Command::new(lnpeer_tests::node::binary("lnpeerd"))
        .arg(format!("--lightning-dir={}", dir.path().display()))
        .arg("--network=regtest")
        .arg("--bind-addr=127.0.0.1:0")
        .arg("--developer")
        .arg(format!("--dev-disconnect={}", script.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "--dev-disconnect {}: line 2: dev_disconnect invalid count: '-WIRE_PONG*0'",
            script.display()
        )),
        "{stderr}"
    );

    let without_developer = std::process::Command::new(lnpeer_tests::node::binary("lnpeerd"))
        .arg(format!("--lightning-dir={}", dir.path().display()))
        .arg("--network=regtest")
        .arg(format!("--dev-disconnect={}", script.display()))
        .output()
        .unwrap();
    assert!(!without_developer.status.success());
    assert!(
        String::from_utf8_lossy(&without_developer.stderr)
            .contains("--dev-disconnect: requires --developer"),
        "{}",
        String::from_utf8_lossy(&without_developer.stderr)
    );
}
