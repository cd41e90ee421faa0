//! The RPC server end to end: a real `PeerManager` behind a test `NodeControl`, clients that
//! speak raw bytes over the Unix socket, and CLN's texts and shapes (the CLN reference,
//! `cln.md` §1 and §4).
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::Duration;

use common::*;
use node_config::LogLevel;
use rpc::{IoDirection, LogEntry, NodeControl, RpcConfig, RpcServer, RpcStartError};
use serde_json::{json, Value};

const INTERNAL_18: &str = "Cannot send messages of type 18 (WIRE_PING). It is not possible to \
     send messages that have a type managed internally since that might cause issues with the \
     internal state tracking.";

fn even_refusal(ty: u16) -> String {
    format!(
        "Cannot send even-typed {ty} custom message. Currently custom messages are limited to \
         odd-numbered message types, as even-numbered types might result in disconnections."
    )
}

fn unknown_parameter(name: &str) -> String {
    format!(
        "unknown parameter: {name}, this may be caused by a failure to autodetect key=value-style \
         parameters. Please try using the -k flag and explicit key=value pairs of parameters."
    )
}

fn bad_params(message: &str) -> (i64, String) {
    (-32602, message.to_owned())
}

fn invalid_request(message: &str) -> (i64, String) {
    (-32600, message.to_owned())
}

/// `result["channels"]` holds exactly these channels, each with at least the given members;
/// `owner` must be absent where the expectation has none.
fn assert_channels(result: &Value, expected: &[Value]) {
    let channels = result["channels"].as_array().unwrap();
    assert_eq!(channels.len(), expected.len(), "{result}");
    for (channel, expected) in channels.iter().zip(expected) {
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&channel[key], value, "{key} in {channel}");
        }
        if expected.get("owner").is_none() {
            assert!(channel.get("owner").is_none(), "{channel}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Framing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn concatenated_requests_and_whitespace_get_one_frame_each() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let getinfo = request("1", "getinfo", "[]");
    let help = request("2", "help", r#"["getinfo"]"#);
    // Two requests in one write, with no delimiter.
    client.write(format!("{getinfo}{help}").as_bytes()).await;
    let first = client.value().await;
    assert_eq!(first["id"], 1);
    assert_eq!(first["result"]["id"], hex_id(&h.id()));
    let second = client.value().await;
    assert_eq!(second["id"], 2);
    assert_eq!(second["result"]["help"], json!([{"command": "getinfo"}]));
    // Whitespace before, between and after requests is skipped.
    client
        .write(format!(" \n\t\r\n{getinfo} \n\n\t {help}\n\n  ").as_bytes())
        .await;
    assert_eq!(client.value().await["id"], 1);
    assert_eq!(client.value().await["id"], 2);
    client.silent().await;
    // Whitespace alone is not a request.
    client.write(b"\n\n\n   \t").await;
    client.silent().await;
    assert_eq!(client.call_raw(&getinfo).await["id"], 1);
    h.shutdown().await;
}

#[tokio::test]
async fn a_request_written_one_byte_at_a_time_is_served_once_whole() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let text = request(r#""cli:getinfo#4242""#, "getinfo", "{}");
    let (last, head) = text.as_bytes().split_last().unwrap();
    for byte in head {
        client.write(std::slice::from_ref(byte)).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    client.silent().await;
    client.write(&[*last]).await;
    let frame = client.frame().await;
    assert!(
        frame.starts_with(r#"{"jsonrpc":"2.0","id":"cli:getinfo#4242","result":{"#),
        "{frame}"
    );
    client.silent().await;
    h.shutdown().await;
}

#[tokio::test]
async fn ids_are_echoed_byte_for_byte() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let ids = [
        r#""a\"b""#,
        "12.50",
        "-0",
        "1e3",
        "true",
        r#""\u00e9\n""#,
        r#""cli:sendcustommsg#1234""#,
        "18446744073709551616",
    ];
    for id in ids {
        client.write(request(id, "getinfo", "[]").as_bytes()).await;
        let frame = client.frame().await;
        let prefix = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{"#);
        assert!(frame.starts_with(&prefix), "id {id}: {frame}");
        client.write(request(id, "nosuch", "[]").as_bytes()).await;
        assert_eq!(
            client.frame().await,
            format!(
                r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32601,"message":"Unknown command 'nosuch'"}}}}"#
            )
        );
    }
    h.shutdown().await;
}

/// CLN's jsmn sees `null` as a primitive: `"id": null` is a present id and is echoed.
#[tokio::test]
async fn a_null_id_is_a_primitive_id() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let response = client.call_raw(&request("null", "getinfo", "[]")).await;
    assert_eq!(error_of(&response), None, "{response}");
    assert_eq!(response["id"], Value::Null, "{response}");
    assert_eq!(response["result"]["id"], hex_id(&h.id()));
    h.shutdown().await;
}

/// `"method": null` and `"params": null` are present members of the wrong type in CLN.
#[tokio::test]
async fn null_method_and_params_are_present_but_of_the_wrong_type() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let response = client
        .call_raw(r#"{"jsonrpc":"2.0","id":5,"method":null,"params":[]}"#)
        .await;
    assert_eq!(
        error_of(&response),
        Some(invalid_request("Expected string for method"))
    );
    let response = client
        .call_raw(r#"{"jsonrpc":"2.0","id":6,"method":"getinfo","params":null}"#)
        .await;
    assert_eq!(
        error_of(&response),
        Some(bad_params("Expected array or object for params"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn responses_come_back_in_completion_order() {
    let h = Harness::start(false).await;
    let mut raw = RawPeer::connect(&key(3), h.manager()).await;
    let raw_id = hex_id(&node_id(3));
    // Our side registers the inbound connection just after the raw peer's init.
    tokio::time::timeout(WAIT, async {
        while h
            .manager()
            .peer(&node_id(3))
            .and_then(|p| p.connection)
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();

    let mut client = h.client().await;
    let mut other_client = h.client().await;
    // The ping waits for a pong the raw peer does not send yet; getinfo, written after it on
    // the same connection (in the same write, even), is answered first.
    let ping = request("\"ping-1\"", "ping", &format!(r#"["{raw_id}"]"#));
    let getinfo = request("\"getinfo-2\"", "getinfo", "[]");
    client.write(format!("{ping}{getinfo}").as_bytes()).await;
    let first = client.value().await;
    assert_eq!(first["id"], "getinfo-2", "{first}");
    assert!(first.get("result").is_some(), "{first}");
    // Another connection is not held up either, and a second ping to the same peer is refused.
    assert_eq!(
        other_client.err("ping", json!([raw_id])).await,
        (-1, "Ping already pending".into())
    );
    assert!(other_client
        .ok("getinfo", json!([]))
        .await
        .get("id")
        .is_some());
    client.silent().await;

    raw.ping_asking_for(128).await;
    raw.send(&pong(128)).await;
    let second = client.value().await;
    assert_eq!(
        second,
        json!({"jsonrpc": "2.0", "id": "ping-1", "result": {"totlen": 132}})
    );
    h.shutdown().await;
}

#[tokio::test]
async fn several_connections_are_served_independently() {
    let h = Harness::start(false).await;
    let mut a = h.client().await;
    let mut b = h.client().await;
    a.write(request("\"a\"", "getinfo", "[]").as_bytes()).await;
    b.write(request("\"b\"", "help", "[]").as_bytes()).await;
    assert_eq!(b.value().await["id"], "b");
    assert_eq!(a.value().await["id"], "a");
    a.silent().await;
    b.silent().await;
    drop(a);
    assert_eq!(
        b.ok("help", json!(["stop"])).await["help"][0]["command"],
        "stop"
    );
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 2. Malformed requests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_envelopes_get_clns_errors_with_a_null_id() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let no_version = r#"jsonrpc: "2.0" must be specified in the request"#;
    let cases = [
        ("[1]", "Expected {} for json command"),
        (r#""getinfo""#, "Expected {} for json command"),
        ("17 ", "Expected {} for json command"),
        (
            r#"{"jsonrpc":"2.0","method":"getinfo","params":[]}"#,
            "No id",
        ),
        (
            r#"{"jsonrpc":"2.0","id":{"a":1},"method":"getinfo","params":[]}"#,
            "Expected string/primitive for id",
        ),
        (
            r#"{"jsonrpc":"2.0","id":[1],"method":"getinfo","params":[]}"#,
            "Expected string/primitive for id",
        ),
        (r#"{"id":1,"method":"getinfo","params":[]}"#, no_version),
        (
            r#"{"jsonrpc":"1.0","id":1,"method":"getinfo","params":[]}"#,
            no_version,
        ),
        (
            r#"{"jsonrpc":2.0,"id":1,"method":"getinfo","params":[]}"#,
            no_version,
        ),
    ];
    for (text, message) in cases {
        client.write(text.as_bytes()).await;
        let frame = client.frame().await;
        let expected = json!({"jsonrpc": "2.0", "id": null,
                              "error": {"code": -32600, "message": message}});
        assert_eq!(
            serde_json::from_str::<Value>(&frame).unwrap(),
            expected,
            "request {text}"
        );
        assert!(
            frame.starts_with(r#"{"jsonrpc":"2.0","id":null,"error":"#),
            "{frame}"
        );
    }
    // None of these closes the connection.
    assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn request_errors_go_back_with_the_requests_id() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let peer = hex_id(&node_id(9));
    let cases: Vec<(String, (i64, String))> = vec![
        (
            r#"{"jsonrpc":"2.0","id":"x1","params":[]}"#.into(),
            invalid_request("No method"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x2"}"#.into(),
            invalid_request("No method"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x3","method":"getinfo"}"#.into(),
            invalid_request("No params"),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"x4","method":7,"params":[]}"#.into(),
            invalid_request("Expected string for method"),
        ),
        (
            request(r#""x5""#, "x", "[]"),
            (-32601, "Unknown command 'x'".into()),
        ),
        (
            request(r#""x6""#, "dev-open-channel", &format!(r#"["{peer}"]"#)),
            (-32601, "Command dev-open-channel is developer-only".into()),
        ),
        (
            request(r#""x7""#, "getinfo", r#""all""#),
            bad_params("Expected array or object for params"),
        ),
        (
            request(r#""x8""#, "getinfo", "5"),
            bad_params("Expected array or object for params"),
        ),
        (
            request(r#""x9""#, "getinfo", "[1]"),
            bad_params("too many parameters: got 1, expected 0"),
        ),
        (
            request(
                r#""x10""#,
                "sendcustommsg",
                &format!(r#"["{peer}","77770012","queued",null,null,3]"#),
            ),
            bad_params("too many parameters: got 6, expected 5"),
        ),
        (
            request(r#""x11""#, "getinfo", r#"{"verbose":true}"#),
            bad_params(&unknown_parameter("verbose")),
        ),
        (
            request(
                r#""x12""#,
                "sendcustommsg",
                &format!(r#"{{"node_id":"{peer}","msg":"7777","msg":"7779"}}"#),
            ),
            bad_params("duplicate json names: msg"),
        ),
        (
            request(r#""x13""#, "sendcustommsg", "[]"),
            bad_params("missing required parameter: node_id"),
        ),
        (
            request(r#""x14""#, "sendcustommsg", &format!(r#"["{peer}"]"#)),
            bad_params("missing required parameter: msg"),
        ),
        (
            request(r#""x15""#, "sendcustommsg", &format!(r#"["{peer}", null]"#)),
            bad_params("missing required parameter: msg"),
        ),
        (
            request(
                r#""x16""#,
                "sendcustommsg",
                &format!(r#"{{"node_id":"{peer}"}}"#),
            ),
            bad_params("missing required parameter: msg"),
        ),
    ];
    for (i, (text, expected)) in cases.into_iter().enumerate() {
        let response = client.call_raw(&text).await;
        assert_eq!(
            response["id"],
            format!("x{}", i + 1),
            "{text} -> {response}"
        );
        assert_eq!(error_of(&response), Some(expected), "{text}");
    }
    assert!(client.ok("getinfo", json!({})).await.get("id").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn unparseable_json_gets_an_error_and_the_connection_is_closed() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    // The good request before the garbage is still answered.
    let getinfo = request("1", "getinfo", "[]");
    client
        .write(format!(r#"{getinfo}{{"jsonrpc":"2.0","id":2,:"#).as_bytes())
        .await;
    assert_eq!(client.value().await["id"], 1);
    let response = client.value().await;
    assert_eq!(response["id"], Value::Null, "{response}");
    let (code, message) = error_of(&response).unwrap();
    assert_eq!(code, -32600);
    assert!(
        message.starts_with("Failed to parse RPC JSON response '"),
        "{message}"
    );
    client.eof().await;
    // The server itself is fine.
    let mut again = h.client().await;
    assert!(again.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 3. sendcustommsg
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sendcustommsg_parameter_errors() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let too_long = "ab".repeat(65536);
    let cases = [
        (
            json!(["02abc", "77770012"]),
            r#"node_id: should be a node id: invalid token '"02abc"'"#.to_owned(),
        ),
        (
            // Not on the curve.
            json!([format!("04{}", &id[2..]), "77770012"]),
            format!(
                r#"node_id: should be a node id: invalid token '"04{}"'"#,
                &id[2..]
            ),
        ),
        (
            json!([42, "77770012"]),
            "node_id: should be a node id: invalid token '42'".to_owned(),
        ),
        (
            // node_id is checked before msg.
            json!(["zz", "zz"]),
            r#"node_id: should be a node id: invalid token '"zz"'"#.to_owned(),
        ),
        (
            json!([id, "7777zz"]),
            r#"msg: should be a hex value: invalid token '"7777zz"'"#.to_owned(),
        ),
        (
            json!([id, "77770"]),
            r#"msg: should be a hex value with an even number of digits: invalid token '"77770"'"#
                .to_owned(),
        ),
        (
            json!([id, "77"]),
            r#"msg: should be at least 2 bytes, the message type: invalid token '"77"'"#.to_owned(),
        ),
        (
            json!([id, too_long]),
            "msg: should be at most 65535 bytes (type and payload), got 131072 hex digits"
                .to_owned(),
        ),
    ];
    let mut messages = Vec::new();
    for (params, expected) in cases {
        let got = client.err("sendcustommsg", params.clone()).await;
        assert_eq!(got, bad_params(&expected), "{params}");
        messages.push(got.1);
    }
    // Bad hex, odd length, too short and too long each say what is wrong.
    let msg_errors: std::collections::HashSet<_> = messages[4..].iter().collect();
    assert_eq!(msg_errors.len(), 4);
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn sendcustommsg_checks_the_type_before_the_peer() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let unknown = hex_id(&node_id(9));
    // An unknown peer: the type errors come first.
    assert_eq!(
        client.err("sendcustommsg", json!([unknown, "0012"])).await,
        invalid_request(INTERNAL_18)
    );
    assert_eq!(
        client
            .err("sendcustommsg", json!([unknown, "aaaa0102"]))
            .await,
        invalid_request(&even_refusal(0xaaaa))
    );
    assert_eq!(
        client
            .err("sendcustommsg", json!([unknown, "0012ffff"]))
            .await,
        invalid_request(INTERNAL_18)
    );
    let internal = client.err("sendcustommsg", json!([unknown, "0101"])).await;
    assert_eq!(internal.0, -32600);
    assert!(
        internal
            .1
            .starts_with("Cannot send messages of type 257 (WIRE_NODE_ANNOUNCEMENT)."),
        "{internal:?}"
    );
    // Odd, or peer storage (7 and 9 are not internal): on to the peer lookup.
    for msg in ["77770012", "0007", "0009aa", "ffff"] {
        assert_eq!(
            client.err("sendcustommsg", json!([unknown, msg])).await,
            invalid_request(&format!("No such peer: {unknown}")),
            "{msg}"
        );
    }
    // An even type a plugin declared is allowed.
    h.manager().set_allowed_even_types([0xaaaa]);
    assert_eq!(
        client
            .err("sendcustommsg", json!([unknown, "aaaa0102"]))
            .await,
        invalid_request(&format!("No such peer: {unknown}"))
    );
    // The type check also comes before the owner check.
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    client.ok("dev-open-channel", json!([id])).await;
    client.ok("dev-close-channel", json!([id])).await;
    assert_eq!(
        client.err("sendcustommsg", json!([id, "0012"])).await,
        invalid_request(INTERNAL_18)
    );
    assert_eq!(
        client.err("sendcustommsg", json!([id, "bbbc"])).await,
        invalid_request(&even_refusal(0xbbbc))
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn sendcustommsg_delivers_through_openingd_and_channeld() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut other_inbox = inbox(&other);
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let us = h.id();

    // No channel: openingd owns the peer.
    let openingd = json!({"status": "Message sent to subdaemon openingd for delivery"});
    assert_eq!(
        client.ok("sendcustommsg", json!([id, "77770012"])).await,
        openingd
    );
    assert_eq!(
        custom_from(&mut other_inbox, us).await,
        [0x77, 0x77, 0x00, 0x12]
    );
    // Upper-case hex.
    assert_eq!(
        client.ok("sendcustommsg", json!([id, "FFFF00AB"])).await,
        openingd
    );
    assert_eq!(
        custom_from(&mut other_inbox, us).await,
        [0xff, 0xff, 0x00, 0xab]
    );
    // The bare number lightning-cli sends for all-digit hex, positional and named.
    let response = client
        .call_raw(&request(
            r#""cli:sendcustommsg#1""#,
            "sendcustommsg",
            &format!(r#"["{id}", 77770013]"#),
        ))
        .await;
    assert_eq!(response["result"], openingd, "{response}");
    assert_eq!(
        custom_from(&mut other_inbox, us).await,
        [0x77, 0x77, 0x00, 0x13]
    );
    let response = client
        .call_raw(&request(
            r#""cli:sendcustommsg#2""#,
            "sendcustommsg",
            &format!(r#"{{"msg": 77770015, "node_id": "{id}"}}"#),
        ))
        .await;
    assert_eq!(response["result"], openingd, "{response}");
    assert_eq!(
        custom_from(&mut other_inbox, us).await,
        [0x77, 0x77, 0x00, 0x15]
    );
    // Named, as strings; peer storage (type 7) is deliverable.
    assert_eq!(
        client
            .ok("sendcustommsg", json!({"node_id": id, "msg": "000701"}))
            .await,
        openingd
    );
    assert_eq!(custom_from(&mut other_inbox, us).await, [0x00, 0x07, 0x01]);

    // With a channel: channeld.
    let opened = client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(opened["owner"], "channeld");
    assert_eq!(
        client.ok("sendcustommsg", json!([id, "7777beef"])).await,
        json!({"status": "Message sent to subdaemon channeld for delivery"})
    );
    assert_eq!(
        custom_from(&mut other_inbox, us).await,
        [0x77, 0x77, 0xbe, 0xef]
    );
    // The largest message BOLT 8 carries.
    let mut largest = vec![0x77, 0x79];
    largest.resize(65535, 0x5a);
    assert_eq!(
        client
            .ok("sendcustommsg", json!([id, hex::encode(&largest)]))
            .await["status"],
        "Message sent to subdaemon channeld for delivery"
    );
    assert_eq!(custom_from(&mut other_inbox, us).await, largest);
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn sendcustommsg_is_refused_while_closingd_or_onchaind_owns_the_peer() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client.ok("dev-close-channel", json!([id])).await["owner"],
        "closingd"
    );
    assert_eq!(
        client.err("sendcustommsg", json!([id, "77770012"])).await,
        invalid_request(
            "Peer is currently owned by closingd which does not support injecting custom messages."
        )
    );
    assert_eq!(
        client.ok("dev-spend-funding", json!([id])).await["owner"],
        "onchaind"
    );
    assert_eq!(
        client.err("sendcustommsg", json!([id, "77770012"])).await,
        invalid_request(
            "Peer is currently owned by onchaind which does not support injecting custom messages."
        )
    );
    // A new channel makes channeld the owner again.
    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client.ok("sendcustommsg", json!([id, "77770012"])).await,
        json!({"status": "Message sent to subdaemon channeld for delivery"})
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn sendcustommsg_to_a_disconnected_peer_with_a_channel() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client
            .ok("disconnect", json!({"id": id, "force": true}))
            .await,
        json!({})
    );
    assert_eq!(
        client.err("sendcustommsg", json!([id, "77770012"])).await,
        invalid_request(&format!("Peer is not connected: {id}"))
    );
    // Forgetting the channel forgets the peer.
    client.ok("dev-forget-channel", json!([id])).await;
    assert_eq!(
        client.err("sendcustommsg", json!([id, "77770012"])).await,
        invalid_request(&format!("No such peer: {id}"))
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn dev_sendcustommsg_needs_developer_mode() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut other_inbox = inbox(&other);
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    assert_eq!(
        client
            .ok("dev-sendcustommsg", json!([id, "77770777"]))
            .await,
        json!({"status": "Message sent to subdaemon openingd for delivery"})
    );
    assert_eq!(
        custom_from(&mut other_inbox, h.id()).await,
        [0x77, 0x77, 0x07, 0x77]
    );
    // Same checks as sendcustommsg.
    assert_eq!(
        client.err("dev-sendcustommsg", json!([id, "0012"])).await,
        invalid_request(INTERNAL_18)
    );
    other.shutdown().await;
    h.shutdown().await;

    let h = Harness::start(false).await;
    let mut client = h.client().await;
    assert_eq!(
        client
            .err(
                "dev-sendcustommsg",
                json!([hex_id(&node_id(9)), "77770777"])
            )
            .await,
        (-32601, "Command dev-sendcustommsg is developer-only".into())
    );
    h.shutdown().await;
}

#[tokio::test]
async fn check_sendcustommsg_validates_without_sending() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut other_inbox = inbox(&other);
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let unknown = hex_id(&node_id(9));
    let checked = json!({"command_to_check": "sendcustommsg"});

    assert_eq!(
        client
            .ok(
                "check",
                json!({"command_to_check": "sendcustommsg", "node_id": id, "msg": "77770001"})
            )
            .await,
        checked
    );
    assert_eq!(
        client
            .ok("check", json!(["sendcustommsg", id, "77770002"]))
            .await,
        checked
    );
    // Invalid ones fail exactly as the real command does.
    let invalid = [
        json!([id, "0012"]),
        json!([id, "aaaa"]),
        json!([unknown, "77770012"]),
        json!(["zz", "77770012"]),
        json!([id, "777"]),
        json!([id]),
        json!([id, "7777", 1]),
    ];
    for params in invalid {
        let real = client.err("sendcustommsg", params.clone()).await;
        let mut with_name = vec![json!("sendcustommsg")];
        with_name.extend(params.as_array().unwrap().iter().cloned());
        assert_eq!(
            client.err("check", Value::Array(with_name)).await,
            real,
            "{params}"
        );
    }
    // The owner check runs too.
    client.ok("dev-open-channel", json!([id])).await;
    client.ok("dev-close-channel", json!([id])).await;
    let owned = client.err("sendcustommsg", json!([id, "77770003"])).await;
    assert_eq!(
        client
            .err("check", json!(["sendcustommsg", id, "77770003"]))
            .await,
        owned
    );
    client.ok("dev-forget-channel", json!([id])).await;
    // Nothing was sent by check: the first message the peer gets is this one.
    client.ok("sendcustommsg", json!([id, "77770004"])).await;
    assert_eq!(
        custom_from(&mut other_inbox, h.id()).await,
        [0x77, 0x77, 0x00, 0x04]
    );

    assert_eq!(
        client.err("check", json!(["nosuch"])).await,
        (-32601, "Unknown command 'nosuch'".into())
    );
    assert_eq!(
        client.err("check", json!([])).await,
        bad_params("missing required parameter: command_to_check")
    );
    other.shutdown().await;
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 4. Commands
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn getinfo_describes_the_node() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let info = client.ok("getinfo", json!([])).await;
    let port = addr(h.manager()).port();
    let features = hex::encode(h.manager().our_features().as_wire());
    assert!(!features.is_empty());
    assert_eq!(info["id"], hex_id(&h.id()));
    assert_eq!(info["alias"], "LNPEER-TEST");
    assert_eq!(info["color"], "010203");
    assert_eq!(info["num_peers"], 0);
    assert_eq!(info["num_pending_channels"], 0);
    assert_eq!(info["num_active_channels"], 0);
    assert_eq!(info["num_inactive_channels"], 0);
    assert_eq!(info["address"], json!([]));
    assert_eq!(
        info["binding"],
        json!([{"type": "ipv4", "address": "127.0.0.1", "port": port}])
    );
    assert_eq!(info["version"], "v0.1.0-test");
    assert_eq!(info["blockheight"], 0);
    assert_eq!(info["network"], "regtest");
    assert_eq!(info["fees_collected_msat"], 0);
    assert_eq!(
        info["lightning-dir"],
        h.dir.path().join("regtest").display().to_string()
    );
    assert_eq!(info["our_features"]["init"], features);
    for field in ["node", "channel", "invoice"] {
        assert!(info["our_features"][field].is_string(), "{field}");
    }

    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    assert_eq!(client.ok("getinfo", json!({})).await["num_peers"], 1);
    client.ok("dev-open-channel", json!([id])).await;
    let info = client.ok("getinfo", json!({})).await;
    assert_eq!(
        (
            info["num_active_channels"].clone(),
            info["num_inactive_channels"].clone()
        ),
        (json!(1), json!(0))
    );
    client.ok("dev-spend-funding", json!([id])).await;
    let info = client.ok("getinfo", json!({})).await;
    assert_eq!(
        (
            info["num_active_channels"].clone(),
            info["num_inactive_channels"].clone()
        ),
        (json!(0), json!(1))
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn connect_by_id_at_host_and_by_separate_arguments() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let a = peer(2).await;
    let b = peer(3).await;
    let c = peer(4).await;
    let features = hex::encode(a.our_features().as_wire());
    let expected = |m: &peer_manager::PeerManager| {
        json!({
            "id": hex_id(&m.node_id()),
            "features": features,
            "direction": "out",
            "address": {"type": "ipv4", "address": "127.0.0.1", "port": addr(m).port()},
        })
    };
    assert_eq!(client.ok("connect", json!([id_at(&a)])).await, expected(&a));
    assert_eq!(
        client
            .ok(
                "connect",
                json!([hex_id(&b.node_id()), "127.0.0.1", addr(&b).port()])
            )
            .await,
        expected(&b)
    );
    assert_eq!(
        client
            .ok(
                "connect",
                json!({"id": hex_id(&c.node_id()), "host": "127.0.0.1", "port": addr(&c).port()})
            )
            .await,
        expected(&c)
    );
    // `id@host` without a port uses the network's default port: nothing listens there for
    // the test, but the peer is already connected, so nothing is dialed.
    assert_eq!(
        client
            .ok(
                "connect",
                json!([format!("{}@127.0.0.1", hex_id(&a.node_id()))])
            )
            .await,
        expected(&a)
    );
    // Already connected: the same answer, with or without an address.
    assert_eq!(client.ok("connect", json!([id_at(&a)])).await, expected(&a));
    assert_eq!(
        client.ok("connect", json!([hex_id(&a.node_id())])).await,
        expected(&a)
    );
    assert!(h
        .manager()
        .peer(&a.node_id())
        .and_then(|p| p.connection)
        .is_some());
    assert_eq!(client.ok("getinfo", json!([])).await["num_peers"], 3);
    for m in [a, b, c] {
        m.shutdown().await;
    }
    h.shutdown().await;
}

#[tokio::test]
async fn connect_to_a_peer_that_dialed_us_reports_it_inbound() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut events = h.manager().subscribe();
    other
        .connect(h.id(), &dial_address(addr(h.manager())))
        .await
        .unwrap();
    connected(&mut events, other.node_id()).await;
    let result = client
        .ok("connect", json!([hex_id(&other.node_id())]))
        .await;
    assert_eq!(result["direction"], "in", "{result}");
    assert_eq!(result["id"], hex_id(&other.node_id()));
    assert_eq!(result["address"]["type"], "ipv4");
    assert_eq!(result["address"]["address"], "127.0.0.1");
    // Still in, even when an address is given.
    let again = client.ok("connect", json!([id_at(&other)])).await;
    assert_eq!(again, result);
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn connect_parameter_errors() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let id = hex_id(&other.node_id());
    let at = id_at(&other);
    let cases = [
        (
            json!([at, "127.0.0.1"]),
            "Can't specify host as both xxx@yyy and separate argument",
        ),
        (
            json!({"id": at, "host": "127.0.0.1"}),
            "Can't specify host as both xxx@yyy and separate argument",
        ),
        (
            json!([at, null, 1234]),
            "Can't specify port as both xxx@yyy:port and separate argument",
        ),
        (json!([id, null, 1234]), "Can't specify port without host"),
        (
            json!({"id": id, "port": 1234}),
            "Can't specify port without host",
        ),
        (
            json!([id, "127.0.0.1", 0]),
            "port: should be non-zero: invalid token '0'",
        ),
        (
            json!([id, "127.0.0.1", 65536]),
            "port: should be a 16-bit integer: invalid token '65536'",
        ),
        (
            json!(["zz"]),
            r#"id: should be a node id: invalid token '"zz"'"#,
        ),
        (json!([format!("{id}@")]), "malformed host @part"),
        (json!([format!("{id}@127.0.0.1:0")]), "malformed host @part"),
        (json!([]), "missing required parameter: id"),
    ];
    for (params, message) in cases {
        assert_eq!(
            client.err("connect", params.clone()).await,
            bad_params(message),
            "{params}"
        );
    }
    assert_eq!(client.ok("getinfo", json!([])).await["num_peers"], 0);
    other.shutdown().await;
    h.shutdown().await;
}

/// CLN parses `id` first (`param_id_maybe_addr`), so a bad id wins over the host/port checks.
#[tokio::test]
async fn connect_reports_a_bad_id_before_host_and_port_errors() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    assert_eq!(
        client.err("connect", json!(["zz", null, 1234])).await,
        bad_params(r#"id: should be a node id: invalid token '"zz"'"#)
    );
    assert_eq!(
        client
            .err("connect", json!(["zz@127.0.0.1", "127.0.0.1"]))
            .await,
        bad_params(r#"id: should be a node id: invalid token '"zz@127.0.0.1"'"#)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn connect_failures_have_clns_codes() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let unknown = hex_id(&node_id(9));
    assert_eq!(
        client.err("connect", json!([unknown])).await,
        (400, "Unable to connect, no address known for peer".into())
    );
    // A port nobody listens on.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (code, message) = client
        .err("connect", json!([unknown, "127.0.0.1", closed_port]))
        .await;
    assert_eq!(code, 401, "{message}");
    assert!(
        message.starts_with(&format!("All addresses failed: 127.0.0.1:{closed_port}: ")),
        "{message}"
    );
    assert!(message.ends_with(". "), "{message:?}");
    // Someone listens, but with another key: the handshake fails.
    let other = peer(2).await;
    let (code, message) = client
        .err("connect", json!([format!("{unknown}@{}", addr(&other))]))
        .await;
    assert_eq!(code, 401, "{message}");
    assert!(message.starts_with("All addresses failed: "), "{message}");
    assert_eq!(client.ok("getinfo", json!([])).await["num_peers"], 0);
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn listpeers_shows_connections_and_the_log() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    assert_eq!(
        client.ok("listpeers", json!([])).await,
        json!({"peers": []})
    );
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let log = vec![
        LogEntry {
            level: LogLevel::Debug,
            io: None,
            time: Duration::new(12, 5),
            node_id: id.clone(),
            source: "connectd".into(),
            log: "Connected (outgoing)".into(),
            data: None,
        },
        LogEntry {
            level: LogLevel::Io,
            io: Some(IoDirection::Out),
            time: Duration::new(13, 0),
            node_id: id.clone(),
            source: "openingd".into(),
            log: String::new(),
            data: Some("77770012".into()),
        },
        LogEntry {
            level: LogLevel::Unusual,
            io: None,
            time: Duration::new(14, 500_000_000),
            node_id: id.clone(),
            source: "connectd".into(),
            log: "Peer sent something odd".into(),
            data: None,
        },
        LogEntry {
            level: LogLevel::Broken,
            io: None,
            time: Duration::new(15, 0),
            node_id: hex_id(&node_id(9)),
            source: "connectd".into(),
            log: "Someone else".into(),
            data: None,
        },
    ];
    h.node.inject_log(log);

    let peers = client.ok("listpeers", json!([])).await;
    let entry = &peers["peers"][0];
    assert_eq!(peers["peers"].as_array().unwrap().len(), 1, "{peers}");
    assert_eq!(entry["id"], id);
    assert_eq!(entry["connected"], true);
    assert_eq!(entry["num_channels"], 0);
    assert_eq!(entry["netaddr"], json!([addr(&other).to_string()]));
    assert_eq!(
        entry["features"],
        hex::encode(other.our_features().as_wire())
    );
    assert!(entry.get("log").is_none(), "{entry}");
    // The other node saw us dial in, and told us our address in its init.
    let remote_addr = entry["remote_addr"].as_str().unwrap();
    assert!(remote_addr.starts_with("127.0.0.1:"), "{remote_addr}");

    // By id, and by an id nobody knows.
    assert_eq!(client.ok("listpeers", json!([id])).await, peers);
    assert_eq!(client.ok("listpeers", json!({"id": id})).await, peers);
    assert_eq!(
        client.ok("listpeers", json!([hex_id(&node_id(9))])).await,
        json!({"peers": []})
    );

    let debug = json!({"type": "DEBUG", "time": "12.000000005", "node_id": id,
                       "source": "connectd", "log": "Connected (outgoing)"});
    let io = json!({"type": "IO_OUT", "time": "13.000000000", "node_id": id,
                    "source": "openingd", "log": "", "data": "77770012"});
    let unusual = json!({"type": "UNUSUAL", "time": "14.500000000", "node_id": id,
                         "source": "connectd", "log": "Peer sent something odd"});
    let levels = [
        ("io", json!([debug, io, unusual])),
        ("debug", json!([debug, unusual])),
        ("info", json!([unusual])),
        ("unusual", json!([unusual])),
        ("broken", json!([])),
    ];
    for (level, expected) in levels {
        let peers = client.ok("listpeers", json!([id, level])).await;
        assert_eq!(peers["peers"][0]["log"], expected, "level {level}");
        let named = client
            .ok("listpeers", json!({"id": id, "level": level}))
            .await;
        assert_eq!(named, peers, "level {level}");
    }
    let (code, message) = client.err("listpeers", json!([id, "loud"])).await;
    assert_eq!(code, -32602);
    assert!(message.starts_with("level: "), "{message}");
    assert_eq!(
        client.err("listpeers", json!(["zz"])).await,
        bad_params(r#"id: should be a node id: invalid token '"zz"'"#)
    );

    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client.ok("listpeers", json!([id])).await["peers"][0]["num_channels"],
        1
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn listpeerchannels_follows_the_dev_lifecycle() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    assert_eq!(
        client.ok("listpeerchannels", json!([])).await,
        json!({"channels": []})
    );

    let opened = client.ok("dev-open-channel", json!([id])).await;
    let channel_id = opened["channel_id"].as_str().unwrap().to_owned();
    assert_eq!(channel_id.len(), 64);
    assert_eq!(
        opened,
        json!({"channel_id": channel_id, "state": "CHANNELD_NORMAL", "owner": "channeld"})
    );
    let listed = |state: &str, owner: Option<&str>, connected: bool| {
        let mut channel = json!({"peer_id": id, "peer_connected": connected, "state": state,
                                 "channel_id": channel_id, "opener": "local"});
        if let Some(owner) = owner {
            channel["owner"] = json!(owner);
        }
        channel
    };
    assert_channels(
        &client.ok("listpeerchannels", json!([])).await,
        &[listed("CHANNELD_NORMAL", Some("channeld"), true)],
    );
    assert_channels(
        &client.ok("listpeerchannels", json!([id])).await,
        &[listed("CHANNELD_NORMAL", Some("channeld"), true)],
    );
    assert_eq!(
        client
            .ok("listpeerchannels", json!([hex_id(&node_id(9))]))
            .await,
        json!({"channels": []})
    );

    assert_eq!(
        client.ok("dev-close-channel", json!([id])).await,
        json!({"channel_id": channel_id, "state": "CLOSINGD_SIGEXCHANGE", "owner": "closingd"})
    );
    assert_channels(
        &client.ok("listpeerchannels", json!([])).await,
        &[listed("CLOSINGD_SIGEXCHANGE", Some("closingd"), true)],
    );
    // Named channel_id.
    assert_eq!(
        client
            .ok(
                "dev-spend-funding",
                json!({"id": id, "channel_id": channel_id})
            )
            .await,
        json!({"channel_id": channel_id, "state": "FUNDING_SPEND_SEEN", "owner": "onchaind"})
    );
    assert_channels(
        &client.ok("listpeerchannels", json!([])).await,
        &[listed("FUNDING_SPEND_SEEN", Some("onchaind"), true)],
    );
    // A step the state does not allow.
    let (code, _) = client.err("dev-close-channel", json!([id])).await;
    assert_eq!(code, -1);
    assert_channels(
        &client.ok("listpeerchannels", json!([])).await,
        &[listed("FUNDING_SPEND_SEEN", Some("onchaind"), true)],
    );
    assert_eq!(
        client.ok("dev-forget-channel", json!([id])).await,
        json!({"channel_id": channel_id, "forgotten": true})
    );
    assert_eq!(
        client.ok("listpeerchannels", json!([])).await,
        json!({"channels": []})
    );

    // Two channels: the step needs to know which.
    let first = client.ok("dev-open-channel", json!([id])).await["channel_id"].clone();
    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client.err("dev-close-channel", json!([id])).await,
        bad_params("Peer has 2 channels: give channel_id")
    );
    assert_eq!(
        client.ok("dev-close-channel", json!([id, first])).await["state"],
        "CLOSINGD_SIGEXCHANGE"
    );
    let (code, message) = client
        .err("dev-close-channel", json!([id, "00".repeat(32)]))
        .await;
    assert_eq!(code, -1);
    assert!(message.starts_with("No channel "), "{message}");
    assert_eq!(
        client.ok("listpeers", json!([id])).await["peers"][0]["num_channels"],
        2
    );

    // A disconnected peer's channel has no owner (but onchaind always runs).
    client
        .ok("disconnect", json!({"id": id, "force": true}))
        .await;
    let channels = client.ok("listpeerchannels", json!([])).await["channels"].clone();
    for channel in channels.as_array().unwrap() {
        assert_eq!(channel["peer_connected"], false, "{channel}");
        assert!(channel.get("owner").is_none(), "{channel}");
    }
    // dev-open-channel needs the peer connected.
    let (code, _) = client.err("dev-open-channel", json!([id])).await;
    assert_eq!(code, -1);
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn disconnect_errors_and_force() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut their_events = other.subscribe();
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let unknown = hex_id(&node_id(9));

    assert_eq!(
        client.err("disconnect", json!([unknown])).await,
        bad_params(&format!("Unknown peer '{unknown}'"))
    );
    assert_eq!(
        client.err("disconnect", json!(["zz"])).await,
        bad_params(r#"id: invalid peer id: invalid token '"zz"'"#)
    );
    client.ok("dev-open-channel", json!([id])).await;
    assert_eq!(
        client.err("disconnect", json!([id])).await,
        (
            -1,
            "Peer has (at least one) channel in state CHANNELD_NORMAL".into()
        )
    );
    assert_eq!(
        client.err("disconnect", json!([id, false])).await,
        (
            -1,
            "Peer has (at least one) channel in state CHANNELD_NORMAL".into()
        )
    );
    // Still connected.
    assert_eq!(
        client.ok("listpeers", json!([id])).await["peers"][0]["connected"],
        true
    );

    assert_eq!(client.ok("disconnect", json!([id, true])).await, json!({}));
    // The reply came once the connection was gone.
    let peer = h.manager().peer(&other.node_id()).unwrap();
    assert!(peer.connection.is_none());
    disconnected(&mut their_events, h.id()).await;
    let listed = client.ok("listpeers", json!([id])).await["peers"][0].clone();
    assert_eq!(listed["connected"], false, "{listed}");
    assert_eq!(listed["num_channels"], 1, "{listed}");
    assert!(listed.get("netaddr").is_none(), "{listed}");
    assert!(
        listed["features"].is_string(),
        "features is always present: {listed}"
    );
    assert_eq!(
        client.err("disconnect", json!([id, true])).await,
        (-1, "Peer not connected".into())
    );

    // Without channels, a plain disconnect works and the peer is forgotten.
    client.ok("dev-forget-channel", json!([id])).await;
    h.connect_rpc(&mut client, &other).await;
    assert_eq!(client.ok("disconnect", json!({"id": id})).await, json!({}));
    assert_eq!(
        client.ok("listpeers", json!([id])).await,
        json!({"peers": []})
    );
    assert_eq!(
        client.err("disconnect", json!([id])).await,
        bad_params(&format!("Unknown peer '{id}'"))
    );
    other.shutdown().await;
    h.shutdown().await;
}

/// CLN's `channel_state_wants_peercomms` is true for CHANNELD_SHUTTING_DOWN and
/// CLOSINGD_SIGEXCHANGE too: closingd negotiates with the peer.
#[tokio::test]
async fn disconnect_refuses_a_channel_in_closingd_sigexchange_without_force() {
    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    client.ok("dev-open-channel", json!([id])).await;
    client.ok("dev-close-channel", json!([id])).await;
    let response = client.call("disconnect", json!([id])).await;
    assert_eq!(
        error_of(&response),
        Some((
            -1,
            "Peer has (at least one) channel in state CLOSINGD_SIGEXCHANGE".into()
        )),
        "{response}"
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn ping_reports_the_pong_length() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    assert_eq!(client.ok("ping", json!([id])).await, json!({"totlen": 132}));
    assert_eq!(
        client
            .ok("ping", json!({"id": id, "len": 10, "pongbytes": 0}))
            .await,
        json!({"totlen": 4})
    );
    // The largest ping, and the largest pong.
    assert_eq!(
        client.ok("ping", json!([id, 65529, 65531])).await,
        json!({"totlen": 65535})
    );
    // No pong is asked for.
    assert_eq!(
        client
            .ok("ping", json!({"id": id, "pongbytes": 65532}))
            .await,
        json!({"totlen": 0})
    );
    assert_eq!(
        client.ok("ping", json!([id, 0, 65535])).await,
        json!({"totlen": 0})
    );
    assert_eq!(
        client.err("ping", json!([id, 65530])).await,
        bad_params("65530 would result in oversize ping")
    );
    assert_eq!(
        client.err("ping", json!([id, 10, 65536])).await,
        bad_params("pongbytes 65536 > 65535")
    );
    assert_eq!(
        client.err("ping", json!([hex_id(&node_id(9))])).await,
        (-1, "Peer not connected".into())
    );
    assert_eq!(
        client.err("ping", json!([])).await,
        bad_params("missing required parameter: id")
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn help_lists_commands_and_hides_dev_ones() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let help = client.ok("help", json!([])).await;
    assert_eq!(help["format-hint"], "simple");
    let commands: Vec<&str> = help["help"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["command"].as_str().unwrap())
        .collect();
    for expected in [
        "sendcustommsg node_id msg [delivery] [timeout] [ttl]",
        "getinfo",
        "connect id [host] [port]",
        "disconnect id [force]",
        "listpeers [id] [level]",
        "ping id [len] [pongbytes]",
        "stop",
    ] {
        assert!(commands.contains(&expected), "{expected} in {commands:?}");
    }
    assert!(
        commands.iter().all(|c| !c.starts_with("dev-")),
        "{commands:?}"
    );
    assert_eq!(
        client.ok("help", json!(["sendcustommsg"])).await,
        json!({
            "help": [{"command": "sendcustommsg node_id msg [delivery] [timeout] [ttl]"}],
            "format-hint": "simple"
        })
    );
    assert_eq!(
        client.ok("help", json!({"command": "ping"})).await["help"],
        json!([{"command": "ping id [len] [pongbytes]"}])
    );
    assert_eq!(
        client.err("help", json!(["dev-open-channel"])).await,
        (-32601, "Developer-only command dev-open-channel".into())
    );
    assert_eq!(
        client.err("help", json!(["nosuch"])).await,
        (-32601, "Unknown command nosuch".into())
    );
    h.shutdown().await;

    let h = Harness::start(true).await;
    let mut client = h.client().await;
    let help = client.ok("help", json!([])).await;
    let commands: Vec<&str> = help["help"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["command"].as_str().unwrap())
        .collect();
    assert!(commands.contains(&"dev-open-channel id"), "{commands:?}");
    assert!(
        commands.contains(&"dev-sendcustommsg node_id msg [delivery] [timeout] [ttl]"),
        "{commands:?}"
    );
    assert_eq!(
        client.ok("help", json!(["dev-open-channel"])).await["help"],
        json!([{"command": "dev-open-channel id"}])
    );
    h.shutdown().await;
}

#[tokio::test]
async fn notifications_enable_answers_an_empty_object() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    // lightning-cli's first request, and its wait for a reply ending in "\n\n".
    client
        .write(
            br#"{"jsonrpc":"2.0","method":"notifications","id":"cli:notifications#77","params":{"enable":true}}"#,
        )
        .await;
    assert_eq!(
        client.frame().await,
        r#"{"jsonrpc":"2.0","id":"cli:notifications#77","result":{}}"#
    );
    assert_eq!(client.ok("notifications", json!([false])).await, json!({}));
    let (code, _) = client.err("notifications", json!(["yes"])).await;
    assert_eq!(code, -32602);
    assert_eq!(
        client.err("notifications", json!({})).await,
        bad_params("missing required parameter: enable")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn stop_replies_before_the_node_is_asked_to_stop() {
    let h = Harness::start(false).await;
    let (mut client, probe) = Client::connect_with_probe(&h.path);
    h.node.set_stop_probe(probe);
    assert_eq!(h.node.stops(), 0);
    let expected = r#"{"jsonrpc":"2.0","id":"cli:stop#1","result":{"result":"Shutdown complete"}}"#;
    client
        .write(request(r#""cli:stop#1""#, "stop", "[]").as_bytes())
        .await;
    h.node.stop_requested().await;
    // Everything the client could read when request_stop ran: the whole reply already.
    let seen = h
        .node
        .seen_at_stop()
        .expect("request_stop ran without the probe");
    assert_eq!(String::from_utf8(seen).unwrap(), format!("{expected}\n\n"));
    assert_eq!(h.node.stops(), 1);
    // check stop does not stop.
    let mut other = h.client().await;
    assert_eq!(
        other.ok("check", json!(["stop"])).await,
        json!({"command_to_check": "stop"})
    );
    other.silent().await;
    assert_eq!(h.node.stops(), 1);
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// 5. The socket
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_socket_is_private_and_removed_on_shutdown() {
    let mut h = Harness::start(false).await;
    let metadata = std::fs::metadata(&h.path).unwrap();
    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let server = h.server.take().unwrap();
    assert_eq!(server.path(), h.path.as_path());
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("server shutdown hung");
    assert!(!h.path.exists(), "socket file left behind");
    h.shutdown().await;
}

#[tokio::test]
async fn a_second_server_on_a_live_socket_is_refused() {
    let h = Harness::start(false).await;
    let second = RpcServer::start(RpcConfig::new(h.path.clone()), dispatcher(&h.node)).await;
    match second.err() {
        Some(error @ RpcStartError::InUse(_)) => assert_eq!(
            error.to_string(),
            format!("rpc filename '{}' in use", h.path.display())
        ),
        Some(other) => panic!("expected in use, got {other}"),
        None => panic!("a second server started on a live socket"),
    }
    // The first one still serves.
    let mut client = h.client().await;
    assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn a_stale_socket_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lightning-rpc");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(
        path.exists(),
        "the stale socket file stays after its listener is gone"
    );
    let node = std::sync::Arc::new(TestNode::new(peer(1).await, node_info(false, dir.path())));
    let server = RpcServer::start(RpcConfig::new(path.clone()), dispatcher(&node))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut client = Client::connect(&path).await;
    assert_eq!(
        client.ok("getinfo", json!([])).await["id"],
        hex_id(&node_id(1))
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    tokio::time::timeout(WAIT, server.shutdown()).await.unwrap();
    tokio::time::timeout(WAIT, node.manager().shutdown())
        .await
        .unwrap();
}

#[tokio::test]
async fn socket_paths_longer_than_107_bytes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().as_os_str().len();
    assert!(
        base + 2 < 100,
        "temporary directory path too long for this test"
    );
    let node = std::sync::Arc::new(TestNode::new(peer(1).await, node_info(false, dir.path())));
    let at_length = |len: usize| dir.path().join("s".repeat(len - base - 1));

    let too_long = at_length(108);
    assert_eq!(too_long.as_os_str().len(), 108);
    match RpcServer::start(RpcConfig::new(too_long.clone()), dispatcher(&node))
        .await
        .err()
    {
        Some(error @ RpcStartError::TooLong(_)) => assert_eq!(
            error.to_string(),
            format!("rpc filename '{}' too long", too_long.display())
        ),
        Some(other) => panic!("expected too long, got {other}"),
        None => panic!("a 108-byte socket path was accepted"),
    }
    assert!(!too_long.exists());

    let longest = at_length(107);
    let server = RpcServer::start(RpcConfig::new(longest.clone()), dispatcher(&node))
        .await
        .unwrap_or_else(|e| panic!("a 107-byte path must work: {e}"));
    let mut client = Client::connect(&longest).await;
    assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    tokio::time::timeout(WAIT, server.shutdown()).await.unwrap();
    tokio::time::timeout(WAIT, node.manager().shutdown())
        .await
        .unwrap();
}

#[tokio::test]
async fn filter_keeps_only_the_named_fields() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let response = client
        .call_raw(
            r#"{"jsonrpc":"2.0","id":1,"method":"getinfo","params":[],"filter":{"id":true,"alias":true,"our_features":{"init":true}}}"#,
        )
        .await;
    let result = &response["result"];
    assert_eq!(
        result,
        &json!({
            "id": hex_id(&h.id()),
            "alias": "LNPEER-TEST",
            "our_features": {"init": hex::encode(h.manager().our_features().as_wire())},
        }),
        "{response}"
    );
    // A filter on a whole member keeps it whole.
    let response = client
        .call_raw(
            r#"{"jsonrpc":"2.0","id":2,"method":"listpeers","params":{},"filter":{"peers":true}}"#,
        )
        .await;
    assert_eq!(
        response["result"],
        client.ok("listpeers", json!({})).await,
        "{response}"
    );
    // The filter applies to results only, never to errors.
    let response = client
        .call_raw(
            r#"{"jsonrpc":"2.0","id":3,"method":"listpeers","params":["zz"],"filter":{"peers":true}}"#,
        )
        .await;
    assert_eq!(error_of(&response).unwrap().0, -32602);
    other.shutdown().await;
    h.shutdown().await;
}

/// CLN filters arrays with a one-element array: `{"peers":[{"id":true}]}` (lightningd-rpc(7),
/// `common/json_filter.c`).
#[tokio::test]
async fn filter_uses_clns_array_syntax() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    h.connect_rpc(&mut client, &other).await;
    let response = client
        .call_raw(
            r#"{"jsonrpc":"2.0","id":1,"method":"listpeers","params":[],"filter":{"peers":[{"id":true,"connected":true}]}}"#,
        )
        .await;
    assert_eq!(
        response["result"],
        json!({"peers": [{"id": hex_id(&other.node_id()), "connected": true}]}),
        "{response}"
    );
    other.shutdown().await;
    h.shutdown().await;
}
