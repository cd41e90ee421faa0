//! The README's quick start, run for real: two nodes, `lnpeer-cli` connects them and sends a
//! custom message, which shows as `[OUT]` on one node and `[IN]` on the other.
#![allow(clippy::unwrap_used, missing_docs)]

use std::process::Command;

use lnpeer_tests::node::{binary, Node};
use serde_json::{json, Value};

#[test]
fn two_nodes_exchange_a_custom_message_with_lnpeer_cli() {
    let alice = Node::start(&[]);
    let bob = Node::start(&[]);

    let connected = alice.cli_json(&["connect", &bob.address()]);
    assert_eq!(connected["direction"], json!("out"));

    // All-digit hex goes out as a bare JSON number; the node reads the token's text.
    let sent = alice.cli_json(&["sendcustommsg", &bob.id, "77770012"]);
    assert_eq!(
        sent,
        json!({"status": "Message sent to subdaemon openingd for delivery"})
    );
    alice.wait_for_log(&format!("{}-openingd: [OUT] 77770012", bob.id));
    bob.wait_for_log(&format!("{}-openingd: [IN] 77770012", alice.id));

    // Keyword form, and a channel so the owner is channeld.
    alice.cli_json(&["dev-open-channel", &bob.id]);
    let sent = alice.cli_json(&[
        "sendcustommsg",
        &format!("node_id={}", bob.id),
        "msg=7777beef",
    ]);
    assert_eq!(
        sent,
        json!({"status": "Message sent to subdaemon channeld for delivery"})
    );
    bob.wait_for_log("[IN] 7777beef");

    // An error from the node: printed, exit code 1.
    let refused = alice.cli(&["sendcustommsg", &bob.id, "0012"]);
    assert_eq!(refused.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(error["code"], json!(-32600));

    // Human output of a listing, and the help list.
    let human = alice.cli(&["-H", "listpeers"]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains(&format!("id={}", bob.id)));
    let help = alice.cli(&["help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("sendcustommsg node_id msg"));

    // No node behind the socket: exit code 2.
    let nowhere = tempfile::tempdir().unwrap();
    let failed = Command::new(binary("lnpeer-cli"))
        .arg(format!("--lightning-dir={}", nowhere.path().display()))
        .args(["--regtest", "getinfo"])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));

    // stop through the CLI ends the node.
    let stopped = bob.cli_json(&["stop"]);
    assert_eq!(stopped, json!({"result": "Shutdown complete"}));
    let mut bob = bob;
    assert!(bob.wait_exit(std::time::Duration::from_secs(10)));
}
