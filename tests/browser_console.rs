//! The browser console (`console/`) in a real Chromium, driven by playwright-core
//! (`tests/js/console_test.mjs`): its bundle built by `console/build.sh` as a user would, the
//! page served over HTTP on 127.0.0.1, connected to lnpeerd's WebSocket listener with a rune;
//! it must show getinfo and the peers, send a custom message that arrives at the peer, and show
//! the node's refusal of a bad rune. Screenshots go to `<target>/console-screenshot.png` (and
//! `-error.png` beside it).
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use lnpeer_tests::node::{free_port, Node};
use lnpeer_tests::npm;
use lnpeer_tests::provision::target_dir;
use serde_json::{json, Value};

/// The script bounds its own steps and its whole run (90 s); this is the last resort.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The node's alias: it looks like an HTML tag, and the page must show it as it is.
const ALIAS: &str = "lnpeer <console>";

/// An odd type (0x7777), then a payload.
const MESSAGE: &str = "77770012c0ffee";

/// Builds the console's bundle with `console/build.sh` and the provisioned packages, into
/// `<target>/console`; returns that directory.
fn build_bundle() -> std::path::PathBuf {
    let out = target_dir().join("console");
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/build.sh");
    let output = Command::new("bash")
        .arg(&build)
        .arg(&out)
        .env("NODE_MODULES", npm::packages_dir().join("node_modules"))
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{} failed: {}{}",
        build.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.join("console.bundle.js").is_file());
    out
}

/// A rune the node did not make: `rune` with one bit of its authcode flipped (base64url).
fn flip_authcode_bit(rune: &str) -> String {
    // Byte 3 of the authcode is carried by characters 4 and 5; flipping its lowest bit changes
    // character 5 only, by one place in the alphabet.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = rune.as_bytes().to_vec();
    let at = alphabet.iter().position(|&c| c == bytes[5]).unwrap();
    bytes[5] = alphabet[at ^ 0b1_0000];
    String::from_utf8(bytes).unwrap()
}

#[test]
fn the_browser_console_runs_commands_and_sends_a_custom_message() {
    if !npm::chromium_or_skip("the_browser_console_runs_commands_and_sends_a_custom_message") {
        return;
    }
    let ws_port = free_port();
    let node = Node::start(&[
        &format!("--bind-addr=ws:127.0.0.1:{ws_port}"),
        // Markup in what the node says must show as text.
        &format!("--alias={ALIAS}"),
    ]);
    let peer = Node::start(&[]);
    peer.connect(&node);
    let rune = node.rpc("createrune", json!([]))["rune"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad_rune = flip_authcode_bit(&rune);
    assert_ne!(bad_rune, rune);
    let peer_features = node.rpc("listpeers", json!([peer.id]))["peers"][0]["features"].clone();
    let bundle = build_bundle();
    let screenshot = target_dir().join("console-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);

    let mut script = npm::node_script("console_test.mjs");
    script
        .env("CHROMIUM", npm::CHROMIUM)
        .env(
            "CONSOLE_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../console"),
        )
        .env("BUNDLE_DIR", &bundle)
        .env("NODE_ID", &node.id)
        .env("WS_ADDRESS", format!("127.0.0.1:{ws_port}"))
        .env("RUNE", &rune)
        .env("BAD_RUNE", &bad_rune)
        .env("PEER_ID", &peer.id)
        .env("MESSAGE", MESSAGE)
        .env("SCREENSHOT", &screenshot);
    let run = npm::run(script, SCRIPT_TIMEOUT);
    let page = run.json();
    assert!(
        run.status.is_some_and(|s| s.success()) && page.get("failed").is_none(),
        "{}",
        run.report()
    );

    run.expect(&page, "/title", &json!("lnpeer console"));
    run.expect(&page, "/page_errors", &Value::Null);
    run.expect(
        &page,
        "/info",
        &json!({
            "id": node.id,
            "alias": ALIAS,
            "alias_elements": 0,
            "version": node.rpc("getinfo", json!([]))["version"],
            // The peer, and the console's own connection.
            "num_peers": "2",
            "bindings": [
                format!("ipv4 127.0.0.1:{}", node.port),
                format!("websocket ipv4 127.0.0.1:{ws_port}"),
            ],
        }),
    );
    run.expect(&page, "/errors_after_connect", &Value::Null);
    let peers = page["peers"].as_array().unwrap();
    let shown = |id: &str| peers.iter().find(|p| p["id"] == id).cloned();
    assert_eq!(
        shown(&peer.id),
        Some(
            json!({"id": peer.id, "this_console": false, "connected": "yes", "features": peer_features})
        ),
        "{}",
        run.report()
    );
    let console_peer = peers.iter().find(|p| p["this_console"] == true);
    assert!(
        console_peer.is_some_and(|p| p["connected"] == "yes"),
        "{}",
        run.report()
    );

    let sent = page["sent"].as_str().unwrap_or_default();
    assert!(
        sent.starts_with(&format!(
            "Sent 7 bytes (type 30583) to {}: Message sent to subdaemon",
            peer.id
        )),
        "{sent:?}\n{}",
        run.report()
    );
    let line = peer.wait_for_log(&format!("[IN] {MESSAGE}"));
    assert!(line.contains(&node.id), "{line}");

    // The bad rune: connected, but both commands refused, each shown with the node's code and
    // message, and no stale results.
    let refused = |what: &str| json!({"what": what, "code": "code 19537", "message": "Invalid rune: Not authorized: Not derived from master"});
    run.expect(
        &page,
        "/bad_rune",
        &json!([refused("getinfo failed"), refused("listpeers failed")]),
    );
    run.expect(&page, "/bad_rune_info_hidden", &json!(true));
    assert!(screenshot.is_file(), "no screenshot: {}", run.report());
}
