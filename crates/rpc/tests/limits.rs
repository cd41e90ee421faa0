//! The RPC server's limits and its splitter through a real socket: nesting depth, open
//! connections, requests cut into odd pieces, and a large request.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use rpc::RpcConfig;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// A `getinfo` whose params nest so that the request is `depth` levels deep: the request
/// object, the params array and `depth - 2` arrays inside it.
fn nested_request(id: u32, depth: usize) -> String {
    let inner = depth - 2;
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"getinfo","params":[{}{}]}}"#,
        "[".repeat(inner),
        "]".repeat(inner)
    )
}

fn refusal(message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": message}})
}

#[tokio::test]
async fn a_request_64_deep_is_served_and_65_deep_is_refused_and_closed() {
    assert_eq!(RpcConfig::new("x".into()).limits.rpc_max_nesting_depth, 64);
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    // Parsed and answered: getinfo takes no parameter, so the one given is refused by id.
    let response = client.call_raw(&nested_request(1, 64)).await;
    assert_eq!(
        error_of(&response),
        Some((-32602, "too many parameters: got 1, expected 0".into())),
        "{response}"
    );
    assert_eq!(response["id"], 1);

    client.write(nested_request(2, 65).as_bytes()).await;
    assert_eq!(
        client.value().await,
        refusal("Request nested deeper than 64 levels")
    );
    client.eof().await;

    // Refused at the 65th bracket, without waiting for the rest of the request.
    let mut client = h.client().await;
    let opened = nested_request(3, 65);
    let head = &opened[..opened.find(']').unwrap()];
    client.write(head.as_bytes()).await;
    assert_eq!(
        client.value().await,
        refusal("Request nested deeper than 64 levels")
    );
    client.eof().await;

    let mut fresh = h.client().await;
    assert!(fresh.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}

#[tokio::test]
async fn the_nesting_limit_comes_from_the_config() {
    let h = Harness::start_with(false, |config| config.limits.rpc_max_nesting_depth = 3).await;
    let mut client = h.client().await;
    let response = client.call_raw(&nested_request(1, 3)).await;
    assert_eq!(response["id"], 1, "{response}");
    client.write(nested_request(2, 4).as_bytes()).await;
    assert_eq!(
        client.value().await,
        refusal("Request nested deeper than 3 levels")
    );
    client.eof().await;
    h.shutdown().await;
}

/// A new connection, if it is served: a `getinfo` on it gets its answer.
async fn served(path: &Path) -> Option<UnixStream> {
    let mut stream = UnixStream::connect(path).await.ok()?;
    let request = request("\"probe\"", "getinfo", "[]");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut buf = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, stream.read_buf(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return None,
            Ok(Ok(_)) if buf.ends_with(b"\n\n") => return Some(stream),
            Ok(Ok(_)) => {}
            Err(_) => panic!("neither an answer nor a close"),
        }
    }
}

#[tokio::test]
async fn connections_past_the_limit_are_closed_unread_until_one_closes() {
    assert_eq!(RpcConfig::new("x".into()).limits.rpc_max_connections, 256);
    let h = Harness::start_with(false, |config| config.limits.rpc_max_connections = 3).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut client = h.client().await;
        // Answered, so the server holds the connection before the next one comes.
        assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
        open.push(client);
    }
    for _ in 0..2 {
        let mut refused = h.client().await;
        refused.eof().await;
    }
    assert!(served(&h.path).await.is_none());
    for client in &mut open {
        assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    }

    // Closing one frees its slot once the server has seen the close.
    drop(open.remove(0));
    let deadline = tokio::time::Instant::now() + WAIT;
    let _replacement = loop {
        if let Some(stream) = served(&h.path).await {
            break stream;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed connection's slot was not freed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // Three open again: the next is refused, the others still served.
    let mut refused = h.client().await;
    refused.eof().await;
    for client in &mut open {
        assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    }
    h.shutdown().await;
}

#[tokio::test]
async fn requests_written_in_odd_pieces_are_all_answered() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    // Ids with braces, brackets and escaped quotes; whitespace of every kind between requests.
    let ids: Vec<String> = (0..40).map(|i| format!(r#""odd{i}}}{{]\"[\\""#)).collect();
    let mut stream = String::new();
    for (i, id) in ids.iter().enumerate() {
        stream.push_str(&request(id, "help", r#"["getinfo"]"#));
        stream.push_str(["", " ", "\n\n", "\t\r\n  "][i % 4]);
    }
    let sizes = [1, 2, 3, 5, 7, 11, 13, 64, 1, 1, 97];
    let mut rest = stream.as_bytes();
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).min(rest.len()));
        client.write(piece).await;
        rest = after;
        // Let the server read most pieces on their own.
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    for id in &ids {
        let response = client.value().await;
        let expected: Value = serde_json::from_str(id).unwrap();
        assert_eq!(response["id"], expected, "{response}");
        assert_eq!(response["result"]["help"], json!([{"command": "getinfo"}]));
    }
    client.silent().await;
    h.shutdown().await;
}

#[tokio::test]
async fn an_8_mib_request_is_served() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let text = request(
        "\"big\"",
        "getinfo",
        &format!(r#"["{}"]"#, "a\\\"{}[ ]".repeat(1 << 20)),
    );
    assert!(text.len() > 8 << 20);
    let started = std::time::Instant::now();
    client.write(text.as_bytes()).await;
    let response = client.value().await;
    eprintln!("8 MiB request answered in {:?}", started.elapsed());
    assert_eq!(response["id"], "big");
    // Parsed whole: its one parameter is too many for getinfo.
    assert_eq!(
        error_of(&response),
        Some((-32602, "too many parameters: got 1, expected 0".into()))
    );
    assert!(client.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}

/// A `help` request exactly `len` bytes long.
fn request_of_length(len: usize) -> String {
    let shortest = request("1", "help", r#"[""]"#).len();
    request(
        "1",
        "help",
        &format!(r#"["{}"]"#, "a".repeat(len - shortest)),
    )
}

#[tokio::test]
async fn a_request_one_byte_past_the_size_limit_is_refused_and_closed() {
    assert_eq!(
        RpcConfig::new("x".into()).limits.rpc_max_request_bytes,
        16 << 20
    );
    let limit = 64 << 10;
    let h = Harness::start_with(false, |config| config.limits.rpc_max_request_bytes = limit).await;
    let mut client = h.client().await;
    let response = client.call_raw(&request_of_length(limit)).await;
    assert_eq!(
        error_of(&response).unwrap().0,
        -32601,
        "served: help names it"
    );

    let (mut reader, mut writer) = client.stream.into_split();
    let text = request_of_length(limit + 1);
    // The server stops reading, perhaps before the last byte, so this write may fail.
    let writing = tokio::spawn(async move { writer.write_all(text.as_bytes()).await.is_ok() });
    let mut buf = Vec::new();
    // A reset after the answer is a close too.
    let _ = tokio::time::timeout(WAIT, reader.read_to_end(&mut buf))
        .await
        .expect("the server did not close the connection");
    let frame = buf
        .strip_suffix(b"\n\n")
        .expect("one frame, then the close");
    assert_eq!(
        serde_json::from_slice::<Value>(frame).unwrap(),
        refusal("Request larger than 65536 bytes")
    );
    let _ = writing.await;
    let mut fresh = h.client().await;
    assert!(fresh.ok("getinfo", json!([])).await.get("id").is_some());
    h.shutdown().await;
}
