//! Onion messages (BOLT 4) between real lnpeerd processes: three nodes in a line, A–B–C. A sends
//! to C through B with a reply path through B back to itself; C's plugin hook
//! (`onion_message_recv`) gets it and answers along the reply path with `sendonionmessage
//! ... blinded_path`; A's `onion_message_recv_secret` hook gets the answer with the path's
//! secret. Also: the feature bit, the commands' refusals, injecting and decrypting, what a
//! peer gets for a malformed 513, and `onionmessage_forward_fail` for a message whose next
//! node is not connected, which a plugin can use to connect and inject it again.
#![allow(clippy::unwrap_used, missing_docs)]

use lnpeer_tests::node::Node;
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use onion_message::{
    create_blinded_path, Encode, ForwardNode, PublicKey, SecretKey, ShortChannelId,
};
use serde_json::{json, Value};

const PLUGIN: &str = "onion_echo.py";

/// The JSON a plugin logged after `prefix` on `node` (waits for the line).
#[track_caller]
fn logged_json(node: &Node, prefix: &str) -> Value {
    let line = node.wait_for_log(prefix);
    let start = line.find(prefix).unwrap() + prefix.len();
    serde_json::from_str(&line[start..]).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Starts a node with the echo plugin.
fn start(plugins: &Wrappers) -> Node {
    let node = Node::start(&[plugins.plugin(PLUGIN).as_str()]);
    wait_for_plugins(&node, &[PLUGIN]);
    node
}

#[test]
fn three_nodes_request_and_reply_along_a_reply_path() {
    let plugins = Wrappers::new();
    let (a, b, c) = (start(&plugins), Node::start(&[]), start(&plugins));
    a.connect(&b);
    b.connect(&c);

    // option_onion_messages (bit 39) in init and node features.
    let features = a.rpc("getinfo", json!([]))["our_features"].clone();
    let init = hex::decode(features["init"].as_str().unwrap()).unwrap();
    assert_ne!(init[init.len() - 5] & 0x80, 0, "bit 39: {features}");
    assert_eq!(features["init"], features["node"]);

    let reply = a.rpc("createonionreplypath", json!({"hops": [b.id]}));
    assert_eq!(reply["blindedpath"]["first_node_id"], json!(b.id));
    assert_eq!(reply["blindedpath"]["hops"].as_array().unwrap().len(), 2);
    let pathsecret = reply["pathsecret"].as_str().unwrap().to_owned();
    assert_eq!(pathsecret.len(), 64);

    let sent = a.rpc(
        "sendonionmessage",
        json!({
            "hops": [b.id, c.id],
            "tlvs": {"65537": "68656c6c6f"},
            "reply_path": reply["blindedpath"],
        }),
    );
    assert_eq!(sent["first_hop"], json!(b.id));

    // C gets it unsolicited, with A's reply path (its introduction node is B).
    let got = logged_json(&c, "onion_message_recv: ");
    assert_eq!(
        got["unknown_fields"],
        json!([{"number": 65537, "value": "68656c6c6f"}])
    );
    assert_eq!(got["reply_blindedpath"], reply["blindedpath"]);
    assert!(got.get("pathsecret").is_none());
    c.wait_for_log("onion reply sent");

    // A gets the answer over its own path: the secret hook, with the path's secret.
    let answer = logged_json(&a, "onion_message_recv_secret: ");
    assert_eq!(answer["pathsecret"], json!(pathsecret));
    assert_eq!(
        answer["unknown_fields"],
        json!([{"number": 65539, "value": "68656c6c6f"}])
    );
    assert!(!a.log().contains("onion_message_recv: "));
    // B only forwarded, both ways.
    assert_eq!(
        b.log().matches("onion msg: forwarded").count(),
        2,
        "{}",
        b.log()
    );
}

#[test]
fn a_path_id_we_did_not_issue_is_not_a_secret_reply() {
    let plugins = Wrappers::new();
    let (a, b) = (start(&plugins), start(&plugins));
    a.connect(&b);
    // B made this path, so a message over it to B goes to B's secret hook...
    let path = b.rpc("createonionreplypath", json!([]));
    a.rpc(
        "sendonionmessage",
        json!({"hops": [], "tlvs": {"65541": "01"}, "blinded_path": path["blindedpath_hex"]}),
    );
    let got = logged_json(&b, "onion_message_recv_secret: ");
    assert_eq!(got["pathsecret"], path["pathsecret"]);
    // ...but a path to B with a path_id B did not issue (anyone can make a path to any node)
    // is an unsolicited message: the plain hook, without a pathsecret.
    let forged = create_blinded_path(
        &[],
        &PublicKey::from_slice(&hex::decode(&b.id).unwrap()).unwrap(),
        &[7; 32],
        &SecretKey::from_slice(&[9; 32]).unwrap(),
    )
    .unwrap();
    a.rpc(
        "sendonionmessage",
        json!({"hops": [], "tlvs": {"65541": "02"}, "blinded_path": hex::encode(forged.to_bytes())}),
    );
    let got = logged_json(&b, "onion_message_recv: ");
    assert!(got.get("pathsecret").is_none(), "{got}");
    assert_eq!(
        got["unknown_fields"],
        json!([{"number": 65541, "value": "02"}])
    );
}

#[test]
fn commands_refuse_clearly() {
    let plugins = Wrappers::new();
    let (a, b, c) = (start(&plugins), Node::start(&[]), Node::start(&[]));
    a.connect(&b);

    let not_connected = a
        .try_rpc("sendonionmessage", json!([[c.id], {"65537": "00"}]))
        .unwrap_err();
    assert_eq!(not_connected["code"], -1);
    assert_eq!(
        not_connected["message"],
        format!("First hop {} is not a connected peer", c.id)
    );
    for (tlvs, text) in [
        (
            json!({"64": "00"}),
            "tlvs: type 64 should be odd and at least 64",
        ),
        (json!({"63": "00"}), "tlvs: type 63 should be odd"),
        (
            json!({"65537": "zz"}),
            "tlvs: value of type 65537 should be a hex value",
        ),
        (
            json!({"65537": "00", "65539": "00"}),
            "tlvs: a recipient ignores",
        ),
    ] {
        let error = a
            .try_rpc("sendonionmessage", json!([[b.id], tlvs]))
            .unwrap_err();
        assert_eq!(error["code"], -32602, "{error}");
        assert!(
            error["message"].as_str().unwrap().starts_with(text),
            "{error}"
        );
    }
    let no_recipient = a
        .try_rpc("sendonionmessage", json!([[], {"65537": "00"}]))
        .unwrap_err();
    assert_eq!(no_recipient["code"], -32602);
    let too_big = a
        .try_rpc(
            "sendonionmessage",
            json!([[b.id], {"65537": "ab".repeat(40_000)}]),
        )
        .unwrap_err();
    assert_eq!(too_big["message"], "Creating onion failed (tlvs too long?)");
    let bad_path = a
        .try_rpc(
            "sendonionmessage",
            json!({"hops": [], "tlvs": {}, "blinded_path": {"first_node_id": b.id}}),
        )
        .unwrap_err();
    assert_eq!(
        bad_path["message"],
        "blinded_path: first_path_key is missing"
    );

    // CLN's texts for injectonionmessage and decryptencrypteddata.
    let path_key = &b.id;
    let garbage = a
        .try_rpc("injectonionmessage", json!([path_key, "00".repeat(100)]))
        .unwrap_err();
    assert_eq!(garbage["code"], -1);
    assert!(
        garbage["message"]
            .as_str()
            .unwrap()
            .starts_with("onion_message_parse:"),
        "{garbage}"
    );
    let too_long = a
        .try_rpc("injectonionmessage", json!([path_key, "00".repeat(65_499)]))
        .unwrap_err();
    assert_eq!(too_long["message"], "onion message too long");
    let undecryptable = a
        .try_rpc("decryptencrypteddata", json!(["00".repeat(40), path_key]))
        .unwrap_err();
    assert_eq!(undecryptable["code"], -32602);
    assert_eq!(undecryptable["message"], "Decryption failed!");
}

#[test]
fn injected_onions_and_decrypted_data_follow_the_path() {
    let plugins = Wrappers::new();
    let (a, b) = (start(&plugins), Node::start(&[]));
    a.connect(&b);
    // A path B → A: B can decrypt its own hop's data, which names A as the next node.
    let path = a.rpc("createonionreplypath", json!([[b.id]]))["blindedpath"].clone();
    let first = &path["hops"][0];
    let decrypted = b.rpc(
        "decryptencrypteddata",
        json!([first["encrypted_recipient_data"], path["first_path_key"]]),
    )["decryptencrypteddata"]
        .clone();
    let data = hex::decode(decrypted["decrypted"].as_str().unwrap()).unwrap();
    let a_id = hex::decode(&a.id).unwrap();
    assert!(
        data.windows(33).any(|w| w == a_id.as_slice()),
        "next_node_id A in {decrypted}"
    );
    assert_eq!(decrypted["next_path_key"].as_str().unwrap().len(), 66);

    // A message to ourselves is peeled here: the first hop of a send may be this node.
    a.rpc("sendonionmessage", json!([[a.id], {"65543": "0102"}]));
    let got = logged_json(&a, "onion_message_recv: ");
    assert_eq!(
        got["unknown_fields"],
        json!([{"number": 65543, "value": "0102"}])
    );
}

#[test]
fn a_message_for_an_unconnected_next_node_is_reported_and_can_be_injected_again() {
    let plugins = Wrappers::new();
    let (a, b, c) = (Node::start(&[]), start(&plugins), start(&plugins));
    a.connect(&b);
    // B is not connected to C: B cannot forward A's message.
    a.rpc(
        "sendonionmessage",
        json!({"hops": [b.id, c.id], "tlvs": {"65537": "6c61746572"}}),
    );
    let failed = logged_json(&b, "onionmessage_forward_fail: ");
    assert_eq!(failed["source"], json!(a.id));
    assert_eq!(failed["next_node_id"], json!(c.id));
    assert!(failed.get("next_short_channel_id_dir").is_none());
    // `outgoing` is the whole next message (type 513 first); `incoming` is the packet we got.
    let outgoing = failed["outgoing"].as_str().unwrap();
    assert!(outgoing.starts_with("0201"), "{failed}");
    let incoming = failed["incoming"].as_str().unwrap();
    assert_eq!(
        incoming.len(),
        outgoing.len() - 2 * (2 + 33 + 2),
        "{failed}"
    );
    assert!(!c.log().contains("onion_message_recv"));

    // What CLN's plugins do with it: connect to the next node and inject the message again.
    b.connect(&c);
    b.rpc("injectonionmessage", json!([failed["path_key"], incoming]));
    let got = logged_json(&c, "onion_message_recv: ");
    assert_eq!(
        got["unknown_fields"],
        json!([{"number": 65537, "value": "6c61746572"}])
    );

    // A 513 that does not peel: reported without a next hop.
    let mut garbage = "0201".to_owned();
    garbage.push_str(&b.id);
    garbage.push_str(&format!("{:04x}", 1366));
    garbage.push_str(&"00".repeat(1366));
    a.rpc("dev-sendrawmsg", json!([b.id, garbage]));
    let unpeeled = notifications(&b, 2)[1].clone();
    assert_eq!(unpeeled["source"], json!(a.id));
    assert_eq!(unpeeled["path_key"], json!(b.id));
    assert_eq!(unpeeled["incoming"], json!("00".repeat(1366)));
    assert!(unpeeled.get("outgoing").is_none(), "{unpeeled}");
    assert!(unpeeled.get("next_node_id").is_none(), "{unpeeled}");

    // A path whose hop at B names a channel: B has none, so it reports the short channel id.
    let to_c = create_blinded_path(
        &[ForwardNode {
            node_id: PublicKey::from_slice(&hex::decode(&b.id).unwrap()).unwrap(),
            next_short_channel_id: ShortChannelId::new(700_000, 12, 1),
        }],
        &PublicKey::from_slice(&hex::decode(&c.id).unwrap()).unwrap(),
        &[3; 32],
        &SecretKey::from_slice(&[4; 32]).unwrap(),
    )
    .unwrap();
    a.rpc(
        "sendonionmessage",
        json!({"hops": [], "tlvs": {"65537": "00"}, "blinded_path": hex::encode(to_c.to_bytes())}),
    );
    b.wait_for_log("onion msg: unknown next scid 700000x12x1");
    let scid = &notifications(&b, 3)[2];
    assert_eq!(scid["next_short_channel_id_dir"], "700000x12x1/0", "{scid}");
    assert!(scid.get("next_node_id").is_none(), "{scid}");
    assert!(scid["outgoing"].as_str().unwrap().starts_with("0201"));
}

/// The `onionmessage_forward_fail` notifications the echo plugin logged on `node`, in order,
/// once there are `count` of them.
#[track_caller]
fn notifications(node: &Node, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let logged: Vec<Value> = node
            .log()
            .lines()
            .filter_map(|line| line.split_once("onionmessage_forward_fail: "))
            .map(|(_, json)| serde_json::from_str(json).unwrap())
            .collect();
        if logged.len() >= count {
            assert_eq!(logged.len(), count, "more notifications than expected");
            return logged;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {count} notifications: {}",
            logged.len(),
            node.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
