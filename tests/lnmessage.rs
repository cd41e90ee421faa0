//! lnmessage, the JavaScript library Lightning web apps use to reach a node, against lnpeerd:
//! a Node.js script (`tests/js/commando_client.mjs`) connects over the node's WebSocket
//! listener and over plain TCP, runs commands through commando with runes, and has others
//! refused; it prints what happened as JSON, asserted on here, code by code and word by word.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use lnpeer_tests::node::{free_port, Node};
use lnpeer_tests::npm;
use serde_json::{json, Value};

/// Far more than the script needs (well under a second): it bounds each of its steps itself.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn lnmessage_runs_commando_over_websocket_and_tcp() {
    if !npm::node_or_skip("lnmessage_runs_commando_over_websocket_and_tcp") {
        return;
    }
    let ws_port = free_port();
    let node = Node::start(&[&format!("--bind-addr=ws:127.0.0.1:{ws_port}")]);
    let rune = node.rpc("createrune", json!([]))["rune"]
        .as_str()
        .unwrap()
        .to_owned();
    let getinfo_rune = node.rpc("createrune", json!({"restrictions": [["method=getinfo"]]}))
        ["rune"]
        .as_str()
        .unwrap()
        .to_owned();
    let binding = node.rpc("getinfo", json!([]))["binding"].clone();
    assert!(
        binding
            .as_array()
            .unwrap()
            .contains(&json!({"type": "websocket", "subtype": "ipv4", "address": "127.0.0.1", "port": ws_port})),
        "{binding}"
    );

    let mut script = npm::node_script("commando_client.mjs");
    script
        .env("NODE_ID", &node.id)
        .env("TCP_PORT", node.port.to_string())
        .env("WS_PORT", ws_port.to_string())
        .env("RUNE", &rune)
        .env("GETINFO_RUNE", &getinfo_rune);
    let run = npm::run(script, SCRIPT_TIMEOUT);
    assert!(run.status.is_some_and(|s| s.success()), "{}", run.report());
    let outcomes = run.json();
    let refused = |message: &str| json!({"error": {"code": 19537, "message": message}});

    for (transport, url) in [
        ("ws", format!("ws://127.0.0.1:{ws_port}")),
        // lnmessage builds a URL for TCP too (with its default wss:); its socket wrapper only
        // takes the host and port from it.
        ("tcp", format!("wss://127.0.0.1:{}", node.port)),
    ] {
        let at = |field: &str| format!("/{transport}/{field}");
        run.expect(&outcomes, &at("url"), &json!(url));
        run.expect(&outcomes, &at("connected"), &json!(true));
        run.expect(
            &outcomes,
            &at("getinfo"),
            &json!({"ok": {"id": node.id, "binding": binding}}),
        );
        // lnmessage is itself a peer of the node (with the key it made up), connected.
        let our_id = outcomes[transport]["our_id"].clone();
        run.expect(
            &outcomes,
            &at("listpeers"),
            &json!({"ok": [{"id": our_id, "connected": true}]}),
        );
        run.expect(
            &outcomes,
            &at("restricted_getinfo"),
            &json!({"ok": {"id": node.id}}),
        );
        run.expect(
            &outcomes,
            &at("restricted_listpeers"),
            &refused("Invalid rune: Not permitted: method is not equal to getinfo"),
        );
        // The getinfo-only rune with its restriction rewritten to `method=listpeers`, and the
        // unrestricted rune with one bit of its authcode flipped: both decode, and neither
        // authcode is the one the node's master secret gives for those restrictions.
        for forged in ["forged_restriction", "flipped_authcode"] {
            run.expect(
                &outcomes,
                &at(forged),
                &refused("Invalid rune: Not authorized: Not derived from master"),
            );
        }
        // A `*` in the rune: not base64url, so it does not decode. As Core Lightning's
        // commando, lnpeerd refuses it before checking it, with 19536 `Invalid rune`.
        run.expect(
            &outcomes,
            &at("undecodable"),
            &json!({"error": {"code": 19536, "message": "Invalid rune"}}),
        );
        // The refusals leave the connection usable.
        run.expect(
            &outcomes,
            &at("after_refusals"),
            &json!({"ok": {"id": node.id}}),
        );
    }

    // Two connections from lnmessage, one per transport, each with its own key.
    let ids: Vec<&Value> = ["ws", "tcp"]
        .iter()
        .map(|t| &outcomes[*t]["our_id"])
        .collect();
    assert_ne!(ids[0], ids[1], "{}", run.report());
    for id in ids {
        node.wait_for_log(&format!("{}-connectd: Connected", id.as_str().unwrap()));
    }
}
