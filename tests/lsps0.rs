//! LSPS0 (bLIP-50) between lnpeerd nodes: the client commands against the service, methods
//! served by a plugin, the bLIP's errors, feature bit 729, and what happens when the service
//! is off.
#![allow(clippy::unwrap_used, missing_docs)]

use lnpeer_tests::node::Node;
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use serde_json::{json, Value};

/// Whether feature bit `bit` is set in the hex of a `features` field (BOLT 9 big-endian).
fn has_bit(features: &str, bit: usize) -> bool {
    let bytes = hex::decode(features).unwrap();
    let index = bytes.len().checked_sub(1 + bit / 8);
    index.is_some_and(|i| bytes[i] & (1 << (bit % 8)) != 0)
}

fn peer_features(node: &Node, of: &Node) -> String {
    let peers = node.rpc("listpeers", json!({"id": of.id}));
    peers["peers"][0]["features"].as_str().unwrap().to_owned()
}

fn request(client: &Node, lsp: &Node, method: &str, params: Value) -> Value {
    client.rpc(
        "lsps0-request",
        json!({"peer_id": lsp.id, "method": method, "params": params}),
    )
}

#[test]
fn a_client_asks_an_lsp_whose_methods_a_plugin_serves() {
    let wrappers = Wrappers::new();
    let lsp = Node::start(&["--lsps-service", &wrappers.plugin("lsps2_service.py")]);
    wait_for_plugins(&lsp, &["lsps2_service.py"]);
    let client = Node::start(&[]);
    client.connect(&lsp);
    // bLIP-50: the LSP sets bit 729; the client does not.
    assert!(has_bit(&peer_features(&client, &lsp), 729));
    assert!(!has_bit(&peer_features(&lsp, &client), 729));

    assert_eq!(
        client.rpc("lsps-listprotocols", json!({"lsp_id": lsp.id})),
        json!({"protocols": [2]})
    );
    // A method the plugin serves: it sees who asked and the params.
    assert_eq!(
        request(&client, &lsp, "lsps2.get_info", json!({"token": "t0k"})),
        json!({"result": {"opening_fee_params_menu": [], "asked_by": client.id, "token": "t0k"}})
    );
    // The plugin's error is the LSP's error.
    assert_eq!(
        request(&client, &lsp, "lsps2.buy", json!({})),
        json!({"error": {"code": 201, "message": "invalid_opening_fee_params"}})
    );
    // The bLIP's own errors.
    assert_eq!(
        request(&client, &lsp, "lsps5.list_webhooks", json!({}))["error"]["code"],
        -32601
    );
    assert_eq!(
        request(
            &client,
            &lsp,
            "lsps0.list_protocols",
            json!({"x": 1, "y": 2})
        ),
        json!({"error": {"code": -32602, "message": "Invalid params", "data": {"unrecognized": ["x", "y"]}}})
    );

    // A plugin stopped at run time takes its protocol with it.
    lsp.rpc("plugin", json!(["stop", "lsps2_service.py"]));
    assert_eq!(
        client.rpc("lsps-listprotocols", json!([lsp.id])),
        json!({"protocols": []})
    );
}

#[test]
fn client_failures_are_local_errors() {
    let lsp = Node::start(&["--lsps-service"]);
    let client = Node::start(&[]);
    assert_eq!(
        client
            .try_rpc("lsps-listprotocols", json!([lsp.id]))
            .unwrap_err(),
        json!({"code": -1, "message": format!("Not connected to peer {}", lsp.id)})
    );
    client.connect(&lsp);
    let bad = client
        .try_rpc("lsps0-request", json!([lsp.id, "lsps2.get_info", "x"]))
        .unwrap_err();
    assert_eq!(
        bad,
        json!({"code": -32602, "message": "params: should be an object: invalid token '\"x\"'"})
    );
    // A peer that is not an LSP never answers.
    let not_lsp = Node::start(&[]);
    client.connect(&not_lsp);
    let timed_out = client
        .try_rpc(
            "lsps0-request",
            json!({"peer_id": not_lsp.id, "method": "lsps0.list_protocols", "timeout": 1}),
        )
        .unwrap_err();
    assert_eq!(
        timed_out,
        json!({"code": 2000, "message": format!("Timeout: {} did not answer within 1 seconds", not_lsp.id)})
    );
    // Without --lsps-service, the request is an ordinary custom message for the plugins and
    // the inbox.
    let inbox = not_lsp.rpc("listcustommsgs", json!({"peer_id": client.id}));
    let payload = inbox["custommsgs"][0]["payload"].as_str().unwrap();
    assert!(payload.starts_with("9419"), "{inbox}");
    let json = String::from_utf8(hex::decode(&payload[4..]).unwrap()).unwrap();
    assert!(
        json.contains(r#""method":"lsps0.list_protocols""#),
        "{json}"
    );
}
