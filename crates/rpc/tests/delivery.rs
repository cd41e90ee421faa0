//! `sendcustommsg`'s `delivery` parameter over the socket: `written` answers once the message
//! is on the peer's socket, and fails with the reason when it cannot be (the connection closed
//! first, or the timeout passed). A scripted peer that does not read keeps messages unwritten.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use common::*;
use serde_json::json;

/// A peer that completed `init` and then reads nothing, and its node id in hex.
async fn silent_peer(h: &Harness, byte: u8) -> (RawPeer, String) {
    let mut events = h.manager().subscribe();
    let peer = RawPeer::connect(&key(byte), h.manager()).await;
    connected(&mut events, node_id(byte)).await;
    (peer, hex_id(&node_id(byte)))
}

/// Queues 60 kB messages to `id` until its queue refuses one: the socket buffers are then
/// full too, so anything queued after stays unwritten while the peer does not read.
async fn fill_queue(client: &mut Client, id: &str) {
    let big = format!("7777{}", "5a".repeat(60_000));
    loop {
        let response = client.call("sendcustommsg", json!([id, big])).await;
        if let Some((code, message)) = error_of(&response) {
            assert_eq!(code, -1, "{message}");
            assert!(
                message.starts_with("Peer's outgoing queue is full"),
                "{message}"
            );
            return;
        }
    }
}

#[tokio::test]
async fn written_answers_once_the_message_is_on_the_socket() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let other = peer(2).await;
    let mut other_inbox = inbox(&other);
    h.connect_rpc(&mut client, &other).await;
    let id = hex_id(&other.node_id());
    let written =
        json!({"status": "Message written to the peer's connection by subdaemon openingd"});
    assert_eq!(
        client
            .ok("sendcustommsg", json!([id, "77770012", "written"]))
            .await,
        written
    );
    assert_eq!(
        custom_from(&mut other_inbox, h.id()).await,
        [0x77, 0x77, 0x00, 0x12]
    );
    // By name, with a timeout; and `queued` is CLN's answer.
    assert_eq!(
        client
            .ok(
                "sendcustommsg",
                json!({"node_id": id, "msg": "77770013", "delivery": "written", "timeout": 5}),
            )
            .await,
        written
    );
    assert_eq!(
        client
            .ok("sendcustommsg", json!([id, "77770014", "queued"]))
            .await,
        json!({"status": "Message sent to subdaemon openingd for delivery"})
    );
    // The usual refusals come first, as for a queued send.
    let unknown = hex_id(&node_id(9));
    assert_eq!(
        client
            .err("sendcustommsg", json!([unknown, "7777", "written"]))
            .await,
        (-32600, format!("No such peer: {unknown}"))
    );
    other.shutdown().await;
    h.shutdown().await;
}

#[tokio::test]
async fn delivery_and_timeout_are_checked() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let id = hex_id(&node_id(9));
    let cases = [
        (
            json!([id, "7777", "sent"]),
            r#"delivery: should be 'queued', 'written' or 'stored': invalid token '"sent"'"#,
        ),
        (
            json!([id, "7777", 1]),
            "delivery: should be a string: invalid token '1'",
        ),
        (
            json!([id, "7777", "written", 0]),
            "timeout: should be a positive number of seconds: invalid token '0'",
        ),
        (
            json!([id, "7777", "written", "soon"]),
            r#"timeout: should be an unsigned 32 bit integer: invalid token '"soon"'"#,
        ),
        (
            json!([id, "7777", null, 5]),
            "timeout: only meaningful with delivery 'written'",
        ),
        (
            json!([id, "7777", "stored", 5]),
            "timeout: only meaningful with delivery 'written'",
        ),
        (
            json!([id, "7777", "written", null, 5]),
            "ttl: only meaningful with delivery 'stored'",
        ),
        (
            json!([id, "7777", "stored", null, 0]),
            "ttl: should be a positive number of seconds: invalid token '0'",
        ),
    ];
    // A node without a stored-send queue says so.
    assert_eq!(
        client
            .err("sendcustommsg", json!([id, "7777", "stored"]))
            .await,
        (
            -1,
            "This node keeps no messages for offline peers".to_owned()
        )
    );
    for (params, expected) in cases {
        assert_eq!(
            client.err("sendcustommsg", params.clone()).await,
            (-32602, expected.to_owned()),
            "{params}"
        );
    }
    h.shutdown().await;
}

#[tokio::test]
async fn written_times_out_while_the_peer_does_not_read() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let (_silent, id) = silent_peer(&h, 7).await;
    fill_queue(&mut client, &id).await;
    let (code, message) = client
        .err("sendcustommsg", json!([id, "7777", "written", 1]))
        .await;
    assert_eq!(code, 2000);
    assert_eq!(
        message,
        format!(
            "Timed out after 1 seconds: the message to {id} is queued but not yet written; it \
             may still be written"
        )
    );
    h.shutdown().await;
}

#[tokio::test]
async fn written_fails_when_the_peer_disconnects_first() {
    let h = Harness::start(false).await;
    let mut client = h.client().await;
    let (silent, id) = silent_peer(&h, 8).await;
    fill_queue(&mut client, &id).await;
    let waiting = tokio::spawn({
        let path = h.path.clone();
        let id = id.clone();
        async move {
            Client::connect(&path)
                .await
                .err("sendcustommsg", json!([id, "7777", "written", 600]))
                .await
        }
    });
    // Only once the send is queued does the peer leave.
    tokio::time::sleep(QUIET).await;
    assert!(!waiting.is_finished());
    drop(silent);
    let (code, message) = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("the waiting send ended with the connection")
        .unwrap();
    assert_eq!(code, -1);
    assert!(
        message.starts_with(&format!(
            "Peer {id} disconnected before the message was written: the connection closed \
             before the message was written ("
        )),
        "{message}"
    );
    h.shutdown().await;
}
