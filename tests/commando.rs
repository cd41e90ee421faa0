//! Commando and runes end to end: real nodes, one serving commando, one calling it with the
//! `commando` command; runes issued, checked, blacklisted, kept across a restart, and checked
//! against the Python `runes` package, which was written independently of lnpeer.
#![allow(clippy::unwrap_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;

use lnpeer_tests::node::Node;
use lnpeer_tests::plugins::Wrappers;
use lnpeer_tests::python;
use serde_json::{json, Value};

/// The server's `hsm_secret`, so the Python side can derive the same master secret.
const HSM_SECRET: [u8; 32] = [0x42; 32];

/// A lightning directory holding [`HSM_SECRET`] for regtest.
fn dir_with_secret() -> tempfile::TempDir {
    let dir = Node::new_dir();
    let network = dir.path().join("regtest");
    std::fs::create_dir_all(&network).unwrap();
    std::fs::set_permissions(&network, std::fs::Permissions::from_mode(0o700)).unwrap();
    let secret = network.join("hsm_secret");
    std::fs::write(&secret, HSM_SECRET).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    dir
}

fn commando(
    client: &Node,
    server: &Node,
    method: &str,
    params: Value,
    rune: &str,
) -> Result<Value, Value> {
    client.try_rpc(
        "commando",
        json!({"peer_id": server.id, "method": method, "params": params, "rune": rune}),
    )
}

fn create_rune(node: &Node, restrictions: Value) -> (String, String) {
    let created = node.rpc("createrune", json!({ "restrictions": restrictions }));
    (
        created["rune"].as_str().unwrap().to_owned(),
        created["unique_id"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn our_client_runs_commands_on_our_server_under_runes() {
    let wrappers = Wrappers::new();
    // Many calls back to back: a burst above the default call limit's.
    let server = Node::start(&[&wrappers.plugin("echo_big.py"), "--commando-burst=100"]);
    let client = Node::start(&[]);
    client.connect(&server);

    let created = server.rpc("createrune", json!([]));
    assert_eq!(created["unique_id"], "0");
    assert!(created["warning_unrestricted_rune"]
        .as_str()
        .unwrap()
        .starts_with("WARNING: This rune has no restrictions!"));
    let rune = created["rune"].as_str().unwrap().to_owned();

    let info = commando(&client, &server, "getinfo", json!({}), &rune).unwrap();
    assert_eq!(info["id"], server.id);
    let filtered = client.rpc(
        "commando",
        json!({"peer_id": server.id, "method": "getinfo", "rune": rune, "filter": {"id": true}}),
    );
    assert_eq!(filtered, json!({ "id": server.id }));

    // Requests and replies far over one chunk (65,000 bytes), through a plugin's methods.
    let payload = "x".repeat(200_000);
    let echoed = commando(
        &client,
        &server,
        "echo",
        json!({ "payload": payload }),
        &rune,
    )
    .unwrap();
    assert_eq!(echoed["length"], 200_000);
    assert_eq!(echoed["payload"].as_str().unwrap(), payload);
    let big = commando(
        &client,
        &server,
        "bigreply",
        json!({"size": 300_000}),
        &rune,
    )
    .unwrap();
    assert_eq!(big["data"].as_str().unwrap().len(), 300_000);

    // A remote command's own error comes back as it is.
    let unknown = commando(&client, &server, "nosuchcommand", json!({}), &rune).unwrap_err();
    assert_eq!(unknown["code"], -32601);
    assert_eq!(unknown["message"], "Unknown command 'nosuchcommand'");

    // lnpeer-cli --commando, as lightning-cli has it: the local node relays, the filter
    // travels to the peer, and a refusal comes back as the CLI's error exit.
    let target = format!("--commando={}:{rune}", server.id);
    let via_cli = client.cli_json(&[&target, "-l", r#"{"id":true}"#, "getinfo"]);
    assert_eq!(via_cli, json!({"id": server.id}));
    let peers = client.cli_json(&[&target, "listpeers"]);
    assert_eq!(peers["peers"][0]["id"], client.id);
    let (getinfo_only, _) = create_rune(&server, json!([["method=getinfo"]]));
    let refused = client.cli(&[&format!("-c{}:{getinfo_only}", server.id), "listpeers"]);
    assert_eq!(refused.status.code(), Some(1));
    let refused: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(refused["code"], 19537);

    // A restricted rune, a tampered rune and no rune.
    assert!(commando(&client, &server, "getinfo", json!({}), &getinfo_only).is_ok());
    let refused = commando(&client, &server, "listpeers", json!({}), &getinfo_only).unwrap_err();
    assert_eq!(
        refused,
        json!({"code": 19537, "message": "Invalid rune: Not permitted: method is not equal to getinfo"})
    );
    let mut tampered = rune.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let refused = commando(&client, &server, "getinfo", json!({}), &tampered).unwrap_err();
    assert_eq!(
        refused,
        json!({"code": 19537, "message": "Invalid rune: Not authorized: Not derived from master"})
    );
    let missing = client
        .try_rpc(
            "commando",
            json!({"peer_id": server.id, "method": "getinfo"}),
        )
        .unwrap_err();
    assert_eq!(missing, json!({"code": 19536, "message": "Missing rune"}));

    // A rune for one peer only.
    let (for_client, _) = create_rune(&server, json!([[format!("id={}", client.id)]]));
    assert!(commando(&client, &server, "getinfo", json!({}), &for_client).is_ok());
    let other = "02".to_owned() + &"11".repeat(32);
    let (for_other, _) = create_rune(&server, json!([[format!("id={other}")]]));
    let refused = commando(&client, &server, "getinfo", json!({}), &for_other).unwrap_err();
    assert_eq!(refused["code"], 19537);
    assert_eq!(
        refused["message"],
        format!("Invalid rune: Not permitted: id is not equal to {other}")
    );

    // Blacklisted.
    server.rpc("blacklistrune", json!({"start": 0}));
    let refused = commando(&client, &server, "getinfo", json!({}), &rune).unwrap_err();
    assert_eq!(
        refused,
        json!({"code": 19537, "message": "Invalid rune: Not authorized: Blacklisted rune"})
    );

    // Nor the inbox: commando's messages are the node's, not custom messages for plugins.
    assert_eq!(
        server.rpc("listcustommsgs", json!({})),
        json!({"custommsgs": []})
    );

    // No rune reaches either node's log (the IO records of requests stop at the header).
    for (node, name) in [(&server, "server"), (&client, "client")] {
        let log = node.log();
        assert!(
            log.contains("commando request carries a rune"),
            "{name}: no redacted record"
        );
        for secret in [&rune, &getinfo_only, &for_client] {
            assert!(!log.contains(secret.as_str()), "{name} logged a rune");
            assert!(
                !log.contains(&hex::encode(secret.as_bytes())),
                "{name} logged a rune's hex"
            );
        }
    }
}

#[test]
fn a_peer_over_its_commando_rate_is_refused() {
    let server = Node::start(&["--commando-burst=2", "--commando-calls-per-second=1"]);
    let client = Node::start(&[]);
    client.connect(&server);
    let (rune, _) = create_rune(&server, json!([]));
    let outcomes: Vec<Result<Value, Value>> = (0..4)
        .map(|_| commando(&client, &server, "getinfo", json!({}), &rune))
        .collect();
    assert!(outcomes[0].is_ok() && outcomes[1].is_ok(), "{outcomes:?}");
    let refused: Vec<&Value> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(!refused.is_empty(), "{outcomes:?}");
    for error in refused {
        assert_eq!(
            *error,
            json!({"code": 19536, "message": "Too many commando requests: try again later"})
        );
    }
}

#[test]
fn runes_survive_a_restart_and_agree_with_the_python_runes_package() {
    let server = Node::start_in(dir_with_secret(), true, &[]);
    let (open, open_id) = create_rune(&server, json!([]));
    let (getinfo_only, getinfo_id) = create_rune(&server, json!([["method=getinfo"]]));
    assert_eq!((open_id.as_str(), getinfo_id.as_str()), ("0", "1"));
    server.rpc("blacklistrune", json!({"start": 5, "end": 6}));
    let checked = server.rpc("checkrune", json!({"rune": open, "method": "listpeers"}));
    assert_eq!(checked, json!({"valid": true}));

    let server = Node::start_in(server.stop(), true, &[]);
    let shown = server.rpc("showrunes", json!([]));
    let runes: Vec<&str> = shown["runes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rune"].as_str().unwrap())
        .collect();
    assert_eq!(runes, [open.as_str(), getinfo_only.as_str()]);
    assert!(shown["runes"][0]["last_used"].as_f64().unwrap() > 1.7e9);
    assert_eq!(
        shown["runes"][1]["restrictions_as_english"],
        "method equal to getinfo"
    );
    assert_eq!(
        server.rpc("blacklistrune", json!([])),
        json!({"blacklist": [{"start": 5, "end": 6}]})
    );
    let (_, next_id) = create_rune(&server, json!([]));
    assert_eq!(next_id, "2");

    // Our runes check in the Python package with the same secret ...
    let secret = hex::encode(HSM_SECRET);
    let check = |rune: &str, method: &str| {
        python::run_script("runes_crosscheck.py", &["check", &secret, rune, method])
            .trim()
            .to_owned()
    };
    assert_eq!(check(&open, "listpeers"), "valid");
    assert_eq!(check(&getinfo_only, "getinfo"), "valid");
    assert!(check(&getinfo_only, "listpeers").starts_with("invalid"));
    // ... and a rune the package mints checks here.
    let minted = python::run_script(
        "runes_crosscheck.py",
        &["mint", &secret, "7", "method=getinfo|method=listpeers"],
    );
    let minted = minted.trim();
    assert_eq!(
        server.rpc("checkrune", json!({"rune": minted, "method": "listpeers"})),
        json!({"valid": true})
    );
    let refused = server
        .try_rpc("checkrune", json!({"rune": minted, "method": "stop"}))
        .unwrap_err();
    assert_eq!(refused["code"], 1502);
    assert_eq!(
        refused["message"],
        "Not permitted: method is not equal to getinfo AND method is not equal to listpeers"
    );
}
