//! pyln-client's `LightningRpc` against running lnpeerd processes: every command and every
//! `sendcustommsg` error (tests/python/rpc_suite.py), then the io logs of both ends.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use lnpeer_tests::node::{free_port, Node};
use lnpeer_tests::python;
use serde_json::json;

#[test]
fn every_command_through_pyln_client() {
    let l1 = Node::start(&[]);
    let l2 = Node::start(&[]);
    let plain = Node::start_with(false, &[]);
    // l3: a peer l1 has a channel with, then gone, so l1 knows it but is not connected.
    let l3_id = {
        let l3 = Node::start(&[]);
        l1.connect(&l3);
        l1.rpc("dev-open-channel", json!([l3.id]));
        l3.id.clone()
    };
    lnpeer_tests::node::wait_until(|| {
        l1.rpc("listpeers", json!([l3_id]))["peers"][0]["connected"] == json!(false)
    });

    let setup = json!({
        "l1_rpc": l1.rpc_path(),
        "l2_rpc": l2.rpc_path(),
        "plain_rpc": plain.rpc_path(),
        "l2_id": l2.id,
        "l2_port": l2.port,
        "l3_id": l3_id,
        "closed_port": free_port(),
    });
    let setup_file = l1.lightning_dir().join("setup.json");
    std::fs::write(&setup_file, setup.to_string()).unwrap();
    let output = python::script("rpc_suite.py")
        .arg(&setup_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("ALL OK"),
        "rpc_suite.py failed:\n{stdout}\n{}\n--- l1 log ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        l1.log()
    );

    // What sendcustommsg queued went out through the owner and arrived at l2.
    for (hex, owner) in [
        ("77770012", "openingd"),
        ("77770013", "openingd"),
        ("0007beef", "openingd"),
        ("77770017", "channeld-chan#2"),
        ("7777001b", "openingd"),
    ] {
        l1.wait_for_log(&format!("{}-{owner}: [OUT] {hex}", l2.id));
        l2.wait_for_log(&format!("{}-openingd: [IN] {hex}", l1.id));
    }
    // Refused messages never reached the wire.
    assert!(!l2.log().contains("[IN] 77770019"));
    assert!(!l2.log().contains("[IN] 7777aaaa"), "check must not send");
    // `stop` ended l1 by itself.
    let mut l1 = l1;
    assert!(l1.wait_exit(Duration::from_secs(10)), "l1 did not stop");
    assert!(l1.log().contains("UNUSUAL lightningd: JSON-RPC shutdown"));
}
