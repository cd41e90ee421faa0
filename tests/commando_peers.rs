//! Commando's server against hand-built chunks: a scripted peer on pyln-proto
//! (`tests/python/commando_peer.py`) connects to a real `lnpeerd` over BOLT 8 and sends
//! command chunks (0x4c4d continues, 0x4c4f terminal) it builds byte by byte, with runes the
//! script makes through the node's RPC. These tests check every reply byte for byte (or that
//! none came), then that the node is still up and that no rune reached its log.
//!
//! Covered: single-chunk requests with string and numeric ids; requests cut inside UTF-8
//! characters, escapes and the rune, down to one byte per chunk; CLN's refusals, in CLN's
//! order with CLN's codes and texts; 1 MiB exactly and one byte over; one peer interleaving
//! two request ids (the replacement rule); requests never finished; two peers using the same
//! request id at once; the per-peer call limit; and what the server must ignore (short
//! chunks, unknown odd types, reply chunks, garbage after a terminal chunk).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use lnpeer_tests::node::Node;
use lnpeer_tests::scripted_peer;
use serde_json::{json, Value};

const SCRIPT: &str = "commando_peer.py";

/// A backstop only: the script bounds its own reads (10 s) and whole run (50 s).
const SCRIPT_LIMIT: Duration = Duration::from_secs(90);

/// Enough calls for every case but the rate limit's: the default burst (10) is below what
/// `validation` sends from one peer.
const MANY_CALLS: &str = "--commando-burst=1000";

/// A node for the cases that do not test the call limit.
fn start() -> Node {
    Node::start(&[MANY_CALLS])
}

/// Runs one case of the script against `node` and returns its result (see
/// [`scripted_peer::run_case`]).
fn run(node: &Node, case: &str) -> Value {
    scripted_peer::run_case(SCRIPT, case, node, SCRIPT_LIMIT)
}

/// A refusal's exact reply body.
fn refusal(code: i32, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

/// Checks that `reply` is exactly `{"jsonrpc":"2.0","id":<id_token>,"result":<result>}`:
/// byte for byte up to the result (the id token verbatim), and the result equal to
/// `expected` (what the node's RPC answered for the same call).
#[track_caller]
fn assert_response(reply: &Value, id_token: &str, expected: &Value) {
    let reply = reply
        .as_str()
        .unwrap_or_else(|| panic!("not a text reply: {reply}"));
    let head = format!(r#"{{"jsonrpc":"2.0","id":{id_token},"result":"#);
    assert!(
        reply.starts_with(&head) && reply.ends_with('}'),
        "expected a response starting {head}, got {reply}"
    );
    let result: Value = serde_json::from_str(&reply[head.len()..reply.len() - 1])
        .unwrap_or_else(|e| panic!("the result does not parse ({e}): {reply}"));
    assert_eq!(&result, expected, "the result of {reply}");
}

#[track_caller]
fn assert_no_stray(result: &Value) {
    let stray = &result["stray"];
    let none = match stray {
        Value::Array(all) => all.iter().all(|s| s == &json!({})),
        other => other == &json!({}),
    };
    assert!(none, "replies that should not have come: {stray}");
}

/// After a case: the node still answers RPC, the redacted record of a commando request is in
/// its log, and no rune it issued is: neither its base64, nor the hex of its bytes (IO
/// records are hex), nor any 16-character piece of it (a request cut inside the rune).
#[track_caller]
fn assert_survived_without_logging_runes(node: &Node) {
    let info = node.rpc("getinfo", json!([]));
    assert_eq!(info["id"], node.id, "getinfo after the case");
    let log = node.log();
    assert!(
        log.contains("commando request carries a rune"),
        "no redacted commando request in the log"
    );
    assert!(!log.contains("panicked"), "a panic was logged");
    let shown = node.rpc("showrunes", json!([]));
    let runes = shown["runes"].as_array().unwrap();
    assert!(!runes.is_empty(), "the case made runes");
    for rune in runes {
        let rune = rune["rune"].as_str().unwrap();
        let bytes = rune.as_bytes();
        for start in (0..bytes.len().saturating_sub(16)).step_by(8) {
            let piece = &bytes[start..start + 16];
            let text = std::str::from_utf8(piece).unwrap();
            assert!(
                !log.contains(text),
                "the log has a piece of rune {rune}: {text}"
            );
            assert!(
                !log.contains(&hex::encode(piece)),
                "the log has the hex of a piece of rune {rune}: {text}"
            );
        }
    }
}

/// getinfo in one terminal chunk: the reply is the whole JSON-RPC response with the id token
/// as sent, a string with its quotes, a number with its spelling (`1.50`, `-7e2`).
#[test]
fn a_single_chunk_request_gets_the_full_response_with_its_id() {
    let node = start();
    let result = run(&node, "single_chunk");
    let replies = result["replies"].as_array().unwrap();
    let tokens: Vec<&str> = replies
        .iter()
        .map(|r| r["id_token"].as_str().unwrap())
        .collect();
    assert_eq!(
        tokens,
        [
            r#""lnmessage:getinfo#0102030405060708""#,
            "42",
            "1.50",
            "-7e2"
        ]
    );
    for reply in replies {
        assert_response(
            &reply["reply"],
            reply["id_token"].as_str().unwrap(),
            &result["rpc_getinfo"],
        );
    }
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// A request cut inside an escape (`\u00e9`), inside 2-, 3- and 4-byte UTF-8 characters,
/// between a backslash and the quote it escapes and inside the rune, with an empty continues
/// chunk; and the same request one byte per chunk with an empty terminal chunk. Both are put
/// back byte for byte: the id token, with its escapes, comes back verbatim.
#[test]
fn a_request_cut_anywhere_is_put_back_byte_for_byte() {
    let node = start();
    let result = run(&node, "multi_chunk");
    let id_token = result["id_token"].as_str().unwrap();
    assert_eq!(id_token, r#""chunk:caf\u00e9/é/☕/🦀/\"q\"/\\""#);
    let chunks: Vec<u64> = result["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert_eq!(chunks.len(), 10, "{chunks:?}");
    assert!(chunks.contains(&0), "an empty continues chunk: {chunks:?}");
    assert_eq!(
        chunks.last(),
        Some(&1),
        "the terminal chunk is the closing brace"
    );
    assert_response(&result["cut_reply"], id_token, &result["rpc_getinfo"]);
    let bytes = result["request_bytes"].as_u64().unwrap();
    assert!(bytes > 100, "{bytes}");
    assert_eq!(result["bytewise_chunks"], json!(bytes + 1));
    assert_response(&result["bytewise_reply"], id_token, &result["rpc_getinfo"]);
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// Every refusal before a command runs, with CLN's code and text (notes §4.3), and lnpeer's
/// own where it checks more than CLN (a non-string `method`).
#[test]
fn bad_requests_get_clns_refusals() {
    let node = start();
    let result = run(&node, "validation");
    let replies = result["replies"].as_object().unwrap();
    let remote = |message: &str| refusal(19536, message);
    let auth = |message: &str| refusal(19537, &format!("Invalid rune: {message}"));
    let expected = [
        ("invalid_json", remote("Invalid JSON")),
        ("empty", remote("Invalid JSON")),
        ("trailing_garbage", remote("Invalid JSON")),
        ("invalid_utf8", remote("Invalid JSON")),
        ("array", remote("Not a JSON object")),
        ("string", remote("Not a JSON object")),
        ("no_method", remote("No method")),
        ("method_not_string", remote("Method must be a string")),
        ("params_string", remote("Params must be object or array")),
        ("params_null", remote("Params must be object or array")),
        ("no_id", remote("missing id field")),
        ("no_rune", remote("Missing rune")),
        ("rune_not_string", remote("Invalid rune")),
        ("rune_not_base64", remote("Invalid rune")),
        ("rune_too_short", remote("Invalid rune")),
        // CLN adds its bad-parameter suffix, ": invalid token (see logs for details)", or with
        // --developer the rune itself; lnpeer sends neither, so no rune is echoed (and logged).
        (
            "rune_without_id",
            auth("rune: should have valid numeric unique_id"),
        ),
        (
            "rune_restricted_without_id",
            auth("rune: should have valid numeric unique_id"),
        ),
        (
            "rune_tampered",
            auth("Not authorized: Not derived from master"),
        ),
        (
            "rune_for_other_method",
            auth("Not permitted: method is not equal to getinfo"),
        ),
        // checkrune's text is JSON-escaped before it is sent (CLN's json_escape), so the
        // message a client decodes still has the backslash.
        (
            "rune_with_quote",
            auth(r#"Not permitted: method is not equal to say\"hi"#),
        ),
        ("rune_blacklisted", auth("Not authorized: Blacklisted rune")),
        (
            "unknown_method",
            r#"{"jsonrpc":"2.0","id":"u","error":{"code":-32601,"message":"Unknown command 'nosuchmethod'"}}"#.to_owned(),
        ),
        // lnpeer unescapes the method name, and checks the rune against the name it runs.
        (
            "escaped_method",
            format!(r#"{{"jsonrpc":"2.0","id":"e","result":{{"id":"{}"}}}}"#, node.id),
        ),
    ];
    assert_eq!(replies.len(), expected.len(), "cases: {result}");
    let mut wrong = Vec::new();
    for (label, want) in &expected {
        let got = &replies[*label];
        if got.as_str() != Some(want.as_str()) {
            wrong.push(format!("{label}:\n  got  {got}\n  want {want}"));
        }
    }
    assert!(wrong.is_empty(), "wrong replies:\n{}", wrong.join("\n"));
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// Chunks of 65000 bytes totalling 1 MiB + 1 get `Request too large` (CLN: no reply at all);
/// the same request id then works again (CLN keeps refusing it) for exactly 1 MiB (a getinfo
/// padded with spaces), and for one byte less.
#[test]
fn one_mebibyte_is_accepted_and_one_byte_more_refused() {
    let node = start();
    let result = run(&node, "oversize");
    let mib = 1024 * 1024;
    for (label, size) in [("over", mib + 1), ("exact", mib), ("under", mib - 1)] {
        assert_eq!(result[label]["size"], json!(size), "{label}");
        assert_eq!(result[label]["chunks"], json!(17), "{label}");
    }
    assert_eq!(
        result["over"]["reply"],
        json!(refusal(19536, "Request too large"))
    );
    assert_response(
        &result["exact"]["reply"],
        r#""mib""#,
        &result["rpc_getinfo"],
    );
    assert_response(
        &result["under"]["reply"],
        r#""mib""#,
        &result["rpc_getinfo"],
    );
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// One peer, two request ids A and B, chunks interleaved. A chunk with another id than the
/// pending request's replaces it (CLN: "New cmd from <peer>, replacing old"), and a terminal
/// chunk with no pending request of its id is a request by itself:
/// * A1 B1 A2 A3: B1 drops A1, A2 drops B1, so A is A2+A3 (`Invalid JSON`); then B2 B3 make
///   B2+B3 (`Invalid JSON`). Each reply carries its own request id.
/// * A1 A2 B1 B2 B3 A3: B is whole and runs; A3 alone is `Invalid JSON`.
#[test]
fn interleaved_request_ids_from_one_peer_replace_each_other() {
    let node = start();
    let result = run(&node, "interleaved_ids");
    let piece = |name: &str, i: usize| result[name][i].as_str().unwrap().to_owned();
    // The pieces the cases are built from.
    assert_eq!(piece("a_pieces", 0), r#"{"method":"#);
    assert_eq!(piece("a_pieces", 1), r#""getinfo","id":"#);
    assert!(piece("a_pieces", 2).starts_with(r#""a","params":{},"rune":""#));
    assert_eq!(piece("b_pieces", 0), r#"{"method":"g"#);
    assert_eq!(piece("b_pieces", 1), r#"etinfo","id":"b",""#);
    assert!(piece("b_pieces", 2).starts_with(r#"params":{},"rune":""#));
    let invalid = json!(refusal(19536, "Invalid JSON"));
    assert_eq!(result["alternating"]["a"], invalid);
    assert_eq!(result["alternating"]["b"], invalid);
    assert_eq!(result["b_inside_a"]["a"], invalid);
    assert_response(&result["b_inside_a"]["b"], r#""b""#, &result["rpc_getinfo"]);
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// Continues chunks with no terminal chunk get no reply; a new request on the same
/// connection (another id, so it replaces the unfinished one) is answered, and the
/// unfinished one never is.
#[test]
fn an_unfinished_request_gets_no_reply_and_blocks_nothing() {
    let node = start();
    let result = run(&node, "unfinished");
    assert_eq!(result["after_continues"], json!({}));
    assert_response(&result["fresh"], r#""fresh""#, &result["rpc_getinfo"]);
    assert_eq!(result["after_fresh"], json!({}));
    assert_survived_without_logging_runes(&node);
}

/// Two connections with different node keys send interleaved chunks under the same request
/// id. Each rune allows only its own peer (`id=<node id>`) and each asks `listpeers` for
/// itself: each gets exactly one reply, its own, so no chunk of one ended up in the other's
/// request.
#[test]
fn two_peers_using_the_same_request_id_stay_apart() {
    let node = start();
    let result = run(&node, "two_peers_same_id");
    for n in 0..2 {
        let expected = &result["rpc_listpeers"][n];
        assert_eq!(expected["peers"][0]["id"], result["ids"][n], "peer {n}");
        assert_response(&result["replies"][n], &format!(r#""peer-{n}""#), expected);
    }
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// A peer sending 8 getinfo calls and a broken request back to back, against a limit of 3 at
/// once and 1 a second: the first 3 run, the other 6 get the call-limit refusal (the broken
/// one too: the limit is checked before parsing), and another peer calling meanwhile is not
/// affected.
#[test]
fn a_flood_is_refused_per_peer() {
    let node = Node::start(&["--commando-burst=3", "--commando-calls-per-second=1"]);
    let result = run(&node, "rate_limit");
    let sent_in = result["sent_in_seconds"].as_f64().unwrap();
    assert!(
        sent_in < 0.5,
        "the flood took {sent_in} s: a token refilled"
    );
    let info = &result["rpc_getinfo"];
    let flood = result["flood"].as_array().unwrap();
    assert_eq!(flood.len(), 9, "{result}");
    let limited = json!(refusal(
        19536,
        "Too many commando requests: try again later"
    ));
    for (n, reply) in flood.iter().enumerate() {
        assert_eq!(reply["n"], json!(n));
        match n < 3 {
            true => assert_response(&reply["reply"], &n.to_string(), info),
            false => assert_eq!(reply["reply"], limited, "call {n}"),
        }
    }
    assert_response(&result["other"], r#""other""#, info);
    assert_no_stray(&result);
    assert_survived_without_logging_runes(&node);
}

/// Chunks shorter than the 10-byte header, unknown odd types (0x4c4b, 0x4c51, 0x594f, 0x5949,
/// 0x8001, 0xffff), reply chunks sent to the server, and a garbage continues chunk after a
/// request's terminal chunk: all read (the io log has each), none answered, the connection
/// stays up and answers pings. A terminal chunk of exactly 10 bytes is a (empty) request.
#[test]
fn short_chunks_odd_types_and_garbage_are_ignored() {
    let node = start();
    let result = run(&node, "ignored");
    let info = &result["rpc_getinfo"];
    assert_response(&result["before"], r#""before""#, info);
    assert_eq!(result["after_garbage"], json!({}));
    assert_eq!(result["ten_bytes"], json!(refusal(19536, "Invalid JSON")));
    assert_response(&result["after"], r#""after""#, info);
    assert_no_stray(&result);
    assert_eq!(result["ping"], json!(true));
    assert_eq!(result["still_connected"], json!(true));

    let sent: Vec<&str> = result["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(sent.len(), 3 * 8 + 6 + 3);
    let log = node.log();
    for hex in &sent {
        // Command chunks of over 10 bytes are logged up to their header only.
        let logged = match hex.starts_with("4c4d") && hex.len() > 20 {
            true => format!("[IN] {}... (", &hex[..20]),
            false => format!("[IN] {hex}\n"),
        };
        assert!(log.contains(&logged), "the node did not read {hex}:\n{log}");
    }
    assert!(
        !log.contains("Sending warning"),
        "the node warned the peer:\n{log}"
    );
    assert_survived_without_logging_runes(&node);
}
