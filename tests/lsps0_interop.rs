//! LSPS0 (bLIP-50) between a real lnpeerd and implementations nobody here wrote:
//!
//! * LDK's `lightning-liquidity` 0.2.7 (through `tests/ldk-peer`, in this process) as the
//!   client of lnpeerd's service (`--lsps-service`): the protocol list LDK reads, and bit 729
//!   in lnpeerd's `init` as LDK sees it, whichever side dials.
//! * The same LDK as the LSP, with LSPS2 and LSPS5, and lnpeerd's client commands against it:
//!   `lsps-listprotocols`, and `lsps0-request` with params LDK does not take and with a method
//!   it does not know, which LDK answers with `-32700` and `"id": null` and then ignores us
//!   until we reconnect.
//! * A scripted client on pyln-proto (`tests/python/lsps0_peer.py`) sending hand-built
//!   payloads of message 37913 to lnpeerd's service: every refusal the service gives itself,
//!   the request size limit and the per-peer limit on pending requests (with
//!   `tests/plugins/lsps_hold.py`, whose method answers only when told to).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use ldk_peer::{advertises_lsps, LdkConfig, LiquidityConfig, LspsServiceConfig};
use lnpeer_tests::ldk::{public_key, Ldk};
use lnpeer_tests::node::Node;
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use lnpeer_tests::scripted_peer;
use serde_json::{json, Value};

/// `option_supports_lsps`.
const LSPS_BIT: usize = 729;

/// Whether feature bit `bit` is set in the hex of a `features` field (BOLT 9 big-endian).
fn has_bit(features: &str, bit: usize) -> bool {
    let bytes = hex::decode(features).unwrap();
    let index = bytes.len().checked_sub(1 + bit / 8);
    index.is_some_and(|i| bytes[i] & (1 << (bit % 8)) != 0)
}

/// A listening LDK node: an LSPS0 client, and an LSP too with `service`.
fn start_ldk(label: &str, service: Option<LspsServiceConfig>) -> Ldk {
    Ldk::start(LdkConfig {
        label: label.to_owned(),
        liquidity: LiquidityConfig { service },
        ..LdkConfig::default()
    })
}

/// What these tests ask of LDK's LSPS0 client.
trait Lsps0Client {
    /// `lsps0.list_protocols` from LDK's client to `node`.
    fn list_protocols(&self, node: &Node) -> Vec<u16>;
    /// Whether the `init` `node` sent LDK has bit 729.
    fn sees_lsps_bit(&self, node: &Node) -> bool;
}

impl Lsps0Client for Ldk {
    fn list_protocols(&self, node: &Node) -> Vec<u16> {
        let asked = self.node().lsps0_list_protocols(public_key(node));
        self.block_on("LDK's list_protocols", asked)
            .unwrap_or_else(|error| panic!("LDK's list_protocols failed: {error}"))
    }

    fn sees_lsps_bit(&self, node: &Node) -> bool {
        let features = self
            .node()
            .peer_init_features(&public_key(node))
            .expect("lnpeerd is connected");
        advertises_lsps(&features)
    }
}

/// The `features` lnpeerd's `listpeers` shows for `peer`.
fn peer_features(node: &Node, peer: &str) -> String {
    let peers = node.rpc("listpeers", json!({"id": peer}));
    peers["peers"][0]["features"].as_str().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------
// LDK as the client.

/// LDK dials an lnpeerd LSP whose plugin serves LSPS2 methods: LDK reads `[2]` and sees bit
/// 729 in lnpeerd's `init`; LDK, a client, sets no bit 729 itself.
#[test]
fn ldk_client_reads_the_protocols_of_an_lnpeerd_lsp() {
    let wrappers = Wrappers::new();
    let lsp = Node::start(&["--lsps-service", &wrappers.plugin("lsps2_service.py")]);
    wait_for_plugins(&lsp, &["lsps2_service.py"]);
    let ldk = start_ldk("ldk-client", None);
    ldk.dial(&lsp);

    assert!(ldk.sees_lsps_bit(&lsp), "lnpeerd's init lacks bit 729");
    assert!(!has_bit(&peer_features(&lsp, &ldk.id()), LSPS_BIT));
    assert_eq!(ldk.list_protocols(&lsp), vec![2]);
    // The request and the answer went through the service, not to the inbox.
    let inbox = lsp.rpc("listcustommsgs", json!({"peer_id": ldk.id()}));
    assert_eq!(inbox["custommsgs"], json!([]), "{inbox}");
    assert_eq!(lsp.rpc("getinfo", json!([]))["id"], lsp.id);
}

/// lnpeerd dials LDK this time; its service has no plugin: LDK reads `[]`.
#[test]
fn ldk_client_reads_an_empty_list_from_a_bare_lnpeerd_lsp() {
    let lsp = Node::start(&["--lsps-service"]);
    let ldk = start_ldk("ldk-client", None);
    ldk.dialled_by(&lsp);

    assert!(ldk.sees_lsps_bit(&lsp), "lnpeerd's init lacks bit 729");
    assert_eq!(ldk.list_protocols(&lsp), Vec::<u16>::new());
    // Asked again on the same connection: the same answer.
    assert_eq!(ldk.list_protocols(&lsp), Vec::<u16>::new());
}

// ---------------------------------------------------------------------------------------
// LDK as the LSP.

fn ldk_lsp() -> Ldk {
    start_ldk(
        "ldk-lsp",
        Some(LspsServiceConfig {
            advertise_service: true,
            lsps2_promise_secret: Some([42; 32]),
            lsps5: true,
        }),
    )
}

fn lsps0_request(client: &Node, lsp: &Ldk, method: &str, params: Value, timeout: u32) -> Value {
    let request =
        json!({"peer_id": lsp.id(), "method": method, "params": params, "timeout": timeout});
    match client.try_rpc("lsps0-request", request) {
        Ok(result) => result,
        Err(error) => error,
    }
}

/// lnpeerd's client against LDK's service (LSPS2 and LSPS5, advertised):
/// * `lsps-listprotocols` gives `{"protocols":[2,5]}`, and LDK's `init` carries bit 729.
/// * `lsps0.list_protocols` with a param LDK does not take is answered as if it had none
///   (the bLIP asks for `-32602`; LDK ignores params).
/// * A method LDK does not know: LDK answers `-32700` with `"id": null` (no `-32601`), which
///   matches no request by id; our client fails the calls waiting on LDK with that error at
///   once rather than let them time out. LDK then ignores every message from us until we
///   reconnect, so even `lsps0.list_protocols` times out.
/// * After a reconnection LDK answers again.
#[test]
fn lnpeerd_client_against_an_ldk_lsp() {
    let lsp = ldk_lsp();
    let client = Node::start(&[]);
    lsp.dialled_by(&client);

    assert!(has_bit(&peer_features(&client, &lsp.id()), LSPS_BIT));
    let protocols = json!({"protocols": [2, 5]});
    assert_eq!(
        client.rpc("lsps-listprotocols", json!({"lsp_id": lsp.id()})),
        protocols
    );
    assert_eq!(
        lsps0_request(
            &client,
            &lsp,
            "lsps0.list_protocols",
            json!({"future_feature1_param": 1}),
            5
        ),
        json!({"result": protocols})
    );

    let timed_out = |seconds: u32| {
        let message = format!(
            "Timeout: {} did not answer within {seconds} seconds",
            lsp.id()
        );
        json!({"code": 2000, "message": message})
    };
    let answers_from_lsp = || client.log().matches("[IN] 9419").count();
    assert_eq!(
        lsps0_request(&client, &lsp, "lsps99.no_such_method", json!({}), 30),
        json!({"error": {"code": -32700, "message": "parse error", "data": null}})
    );
    client.wait_for_log("LSP answered an error without an id");
    assert_eq!(answers_from_lsp(), 3, "two results and the -32700");
    assert_eq!(
        lsps0_request(&client, &lsp, "lsps0.list_protocols", json!({}), 1),
        timed_out(1)
    );
    assert_eq!(answers_from_lsp(), 3, "LDK answered after ignoring us");

    client.rpc("disconnect", json!([lsp.id()]));
    lsp.block_on(
        "LDK sees the disconnection",
        lsp.node().wait_disconnected(public_key(&client)),
    );
    lsp.dialled_by(&client);
    assert_eq!(
        client.rpc("lsps-listprotocols", json!([lsp.id()])),
        protocols
    );
}

// ---------------------------------------------------------------------------------------
// A scripted pyln-proto client.

const SCRIPT: &str = "lsps0_peer.py";

/// A backstop only: the script bounds its own reads (10 s) and whole run (50 s).
const SCRIPT_LIMIT: Duration = Duration::from_secs(90);

fn parse_error() -> Value {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}})
}

fn invalid_request(id: Value, reason: &str) -> Value {
    let message = format!("Invalid Request: {reason}");
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": message}})
}

fn error(id: &str, code: i32, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn protocols(id: &str, protocols: &[u16]) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": {"protocols": protocols}})
}

/// A reply text from the script, parsed.
#[track_caller]
fn parsed(reply: &Value) -> Value {
    let text = reply
        .as_str()
        .unwrap_or_else(|| panic!("not a UTF-8 reply: {reply}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// After a case: the node answers RPC and logged no panic.
#[track_caller]
fn assert_still_up(node: &Node) {
    assert_eq!(node.rpc("getinfo", json!([]))["id"], node.id);
    assert!(!node.log().contains("panicked"), "a panic was logged");
}

/// Every payload the service refuses by itself, on one connection, and what it accepts:
/// * the bLIP's bad message format (`{`, `[ ]`, `{ } { }`, `{ } {`, nothing, whitespace, a
///   string, invalid UTF-8, a batch, NUL bytes, a notification, a response, a member twice):
///   `-32700` with `"id": null`;
/// * requests JSON-RPC or LSPS0 refuses (an id that is a number or null, no or another
///   `jsonrpc`, a method that is not a string, params by position or null): `-32600` with the
///   id when it is a string;
/// * unknown methods: `-32601` with the id; `lsps0.list_protocols` with params: `-32602` with
///   `data.unrecognized`, each name once;
/// * accepted: no `params`, whitespace around the object, a member JSON-RPC does not define.
///
/// The node sets bit 729 in its `init`, keeps the connection, records nothing in the inbox
/// and still answers a good request.
#[test]
fn a_scripted_client_gets_the_blips_errors() {
    let node = Node::start(&["--lsps-service"]);
    let result = scripted_peer::run_case(SCRIPT, "errors", &node, SCRIPT_LIMIT);
    assert!(has_bit(result["node_features"].as_str().unwrap(), LSPS_BIT));
    let replies = result["replies"].as_object().unwrap();
    // Byte for byte, the compact shape: `id` null, no `data`.
    assert_eq!(
        replies["open_brace"],
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
    );
    assert_eq!(
        replies["good"],
        r#"{"jsonrpc":"2.0","id":"good","result":{"protocols":[]}}"#
    );
    let bad_format = [
        "open_brace",
        "empty_array",
        "two_objects",
        "object_and_a_half",
        "empty",
        "whitespace",
        "string",
        "not_utf8",
        "overlong_utf8",
        "batch",
        "nul_at_end",
        "nul_in_string",
        "notification",
        "response",
        "duplicate_id",
    ];
    let mut expected: Vec<(&str, Value)> = bad_format
        .iter()
        .map(|label| (*label, parse_error()))
        .collect();
    let version = "jsonrpc must be \"2.0\"";
    let by_name = "params must be an object (by name)";
    expected.extend([
        ("numeric_id", invalid_request(json!(null), "id must be a string")),
        ("null_id", invalid_request(json!(null), "id must be a string")),
        ("no_jsonrpc", invalid_request(json!("nv"), version)),
        ("jsonrpc_1", invalid_request(json!("v1"), version)),
        ("method_not_string", invalid_request(json!("ms"), "method must be a string")),
        ("params_array", invalid_request(json!("pa"), by_name)),
        ("params_null", invalid_request(json!("pn"), by_name)),
        ("unknown_method", error("um", -32601, "Method not found")),
        ("unknown_lsps0_method", error("u0", -32601, "Method not found")),
        (
            "extra_params",
            json!({"jsonrpc": "2.0", "id": "xp", "error": {"code": -32602, "message": "Invalid params",
                "data": {"unrecognized": ["x", "future_feature1_param"]}}}),
        ),
        ("no_params", protocols("np", &[])),
        ("whitespace_around", protocols("ws", &[])),
        ("unknown_member", protocols("um2", &[])),
        ("good", protocols("good", &[])),
    ]);
    assert_eq!(replies.len(), expected.len(), "cases: {result}");
    let mut wrong = Vec::new();
    for (label, want) in &expected {
        let got = parsed(&replies[*label]);
        if &got != want {
            wrong.push(format!("{label}:\n  got  {got}\n  want {want}"));
        }
    }
    assert!(wrong.is_empty(), "wrong replies:\n{}", wrong.join("\n"));
    assert_eq!(result["stray"], json!([]));
    assert_eq!(result["still_connected"], json!(true));
    let peer = result["peer_id"].as_str().unwrap();
    let inbox = node.rpc("listcustommsgs", json!({"peer_id": peer}));
    assert_eq!(inbox["custommsgs"], json!([]), "{inbox}");
    node.wait_for_log("LSPS request refused: bad message format: NUL byte at offset");
    assert_still_up(&node);
}

/// The replies in `texts`, parsed and sorted by id (forwarded requests are answered in the
/// order their plugin calls finish).
fn by_id(texts: &Value) -> Vec<Value> {
    let mut replies: Vec<Value> = texts.as_array().unwrap().iter().map(parsed).collect();
    replies.sort_by_key(|reply| reply["id"].as_str().unwrap_or_default().to_owned());
    replies
}

fn released(id: &str, n: u32) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": {"released": true, "params": {"n": n}}})
}

/// The held calls in `held`, as (peer, n), sorted.
fn held(held: &Value) -> Vec<(String, u64)> {
    let mut calls: Vec<(String, u64)> = held
        .as_array()
        .unwrap()
        .iter()
        .map(|call| {
            let peer = call["peer_id"].as_str().unwrap().to_owned();
            (peer, call["params"]["n"].as_u64().unwrap())
        })
        .collect();
    calls.sort_by_key(|(_, n)| *n);
    calls
}

/// With `--lsps-max-request-bytes=300` and `--lsps-pending-per-peer=2`, and a plugin method
/// that answers only when told to:
/// * a request of exactly 300 bytes is answered; one of 301 gets `-32600` "request too
///   large" with its id; 301 bytes that are not a request get `-32700`;
/// * a peer with two requests pending gets `1` "Client rejected" (with `data.message`) for a
///   third, while another peer's request is still passed on, and `lsps0.list_protocols`,
///   which the service answers itself, still works;
/// * once the plugin answers, each reply reaches its peer with its id, and the freed slots
///   take new requests;
/// * when the plugin stops with a call held, that call gets `-32603` "Internal error", and
///   its method `-32601` from then on.
#[test]
fn a_scripted_client_meets_the_size_and_pending_limits() {
    let wrappers = Wrappers::new();
    let node = Node::start(&[
        "--lsps-service",
        "--lsps-max-request-bytes=300",
        "--lsps-pending-per-peer=2",
        &wrappers.plugin("lsps_hold.py"),
    ]);
    wait_for_plugins(&node, &["lsps_hold.py"]);
    let result = scripted_peer::run_case(SCRIPT, "limits", &node, SCRIPT_LIMIT);
    let first = result["first_id"].as_str().unwrap().to_owned();
    let second = result["second_id"].as_str().unwrap().to_owned();

    let size = &result["size"];
    assert_eq!(parsed(&size["at_limit"]), protocols("s300", &[99]));
    assert_eq!(
        parsed(&size["over_limit"]),
        invalid_request(json!("s301"), "request too large")
    );
    assert_eq!(parsed(&size["over_limit_unreadable"]), parse_error());

    assert_eq!(result["held_quiet"], json!([]));
    assert_eq!(
        parsed(&result["third"]),
        json!({"jsonrpc": "2.0", "id": "h3", "error": {"code": 1, "message": "Client rejected",
            "data": {"message": "Too many pending requests: try again later"}}})
    );
    assert_eq!(
        held(&result["held"]),
        [(first.clone(), 1), (first.clone(), 2), (second.clone(), 4)]
    );
    assert_eq!(result["other_quiet"], json!([]));
    assert_eq!(parsed(&result["list_while_full"]), protocols("good", &[99]));
    assert_eq!(result["released"], json!(3));
    assert_eq!(
        by_id(&result["first_answers"]),
        [released("h1", 1), released("h2", 2)]
    );
    assert_eq!(by_id(&result["second_answers"]), [released("h4", 4)]);

    assert_eq!(
        held(&result["held_again"]),
        [(first.clone(), 5), (first, 6)]
    );
    assert_eq!(result["released_again"], json!(2));
    assert_eq!(
        by_id(&result["first_answers_again"]),
        [released("h5", 5), released("h6", 6)]
    );
    assert_eq!(parsed(&result["good"]), protocols("good", &[99]));
    // A plugin stopped with a call held: `-32603` (not the plugin host's `-4`), then its
    // method and protocol are gone.
    assert_eq!(
        parsed(&result["owner_stopped"]),
        error("h7", -32603, "Internal error")
    );
    assert_eq!(
        parsed(&result["method_gone"]),
        error("h8", -32601, "Method not found")
    );
    assert_eq!(parsed(&result["list_after_stop"]), protocols("after", &[]));
    assert_eq!(result["stray"], json!([[], []]));
    assert_still_up(&node);
}
