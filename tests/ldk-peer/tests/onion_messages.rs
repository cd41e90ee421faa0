//! Custom onion messages between LDK nodes on loopback: straight to a peer, through a
//! forwarding node, back along reply paths, and to a blinded path handed over as bytes.

mod common;

use common::{connect, start_default, within};
use ldk_peer::lightning::onion_message::messenger::SendError;
use ldk_peer::{
    decode_blinded_path, encode_blinded_path, CustomOnionMessage, LdkNode, OnionDestination,
    OnionSendError, ReceivedOnionMessage, ReplyPath,
};

/// Odd custom types ≥ 64, clear of offers (64-68) and LDK's other handlers.
const PING: u64 = 65_555;
const PONG: u64 = 65_557;

async fn next(node: &LdkNode, what: &str) -> ReceivedOnionMessage {
    within(what, node.next_onion_message())
        .await
        .expect("the node is running")
}

/// Three nodes in a line, a - b - c: a and c are not connected.
async fn line() -> (LdkNode, LdkNode, LdkNode) {
    let a = start_default("a").await;
    let b = start_default("b").await;
    let c = start_default("c").await;
    connect(&a, &b).await;
    connect(&c, &b).await;
    assert!(!a.is_connected(&c.node_id()));
    (a, b, c)
}

async fn shutdown(nodes: impl IntoIterator<Item = LdkNode>) {
    for node in nodes {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_a_direct_peer() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    connect(&a, &b).await;

    let ping = CustomOnionMessage::new(PING, b"hello".to_vec());
    a.send_onion_message(
        ping.clone(),
        &[],
        OnionDestination::Node(b.node_id()),
        ReplyPath::None,
    )
    .expect("queued");

    let received = next(&b, "b receives").await;
    assert_eq!(received.message, ping);
    assert!(!received.has_reply_path);
    assert_eq!(received.context, None, "a path a made, not b");
    // Without a reply path there is nothing to answer along.
    assert_eq!(
        b.reply_onion_message(&received, CustomOnionMessage::new(PONG, Vec::new())),
        Err(OnionSendError::NoReplyPath)
    );
    shutdown([a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_forwarded_by_the_node_in_between() {
    let (a, b, c) = line().await;
    let ping = CustomOnionMessage::new(PING, vec![0xab; 600]);
    a.send_onion_message(
        ping.clone(),
        &[b.node_id()],
        OnionDestination::Node(c.node_id()),
        ReplyPath::None,
    )
    .expect("queued");

    let received = next(&c, "c receives").await;
    assert_eq!(received.message, ping);
    // b only forwarded: it had handled the message before c could receive it, and kept nothing.
    assert!(b.try_next_onion_message().is_none());
    shutdown([a, b, c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_comes_back_along_the_reply_path_with_its_context() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    connect(&a, &b).await;

    a.send_onion_message(
        CustomOnionMessage::new(PING, b"ping".to_vec()),
        &[],
        OnionDestination::Node(b.node_id()),
        ReplyPath::Through {
            intermediate: Vec::new(),
            context: b"ctx-1".to_vec(),
        },
    )
    .expect("queued");
    let ping = next(&b, "b receives the ping").await;
    assert!(ping.has_reply_path);

    let pong = CustomOnionMessage::new(PONG, b"pong".to_vec());
    b.reply_onion_message(&ping, pong.clone())
        .expect("reply queued");
    let reply = next(&a, "a receives the pong").await;
    assert_eq!(reply.message, pong);
    assert_eq!(reply.context.as_deref(), Some(&b"ctx-1"[..]));
    shutdown([a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_path_through_the_middle_node_brings_the_answer_back() {
    let (a, b, c) = line().await;
    a.send_onion_message(
        CustomOnionMessage::new(PING, b"ping".to_vec()),
        &[b.node_id()],
        OnionDestination::Node(c.node_id()),
        // c is not a's peer, so the reply path starts at b.
        ReplyPath::Through {
            intermediate: vec![b.node_id()],
            context: b"ctx-2".to_vec(),
        },
    )
    .expect("queued");
    let ping = next(&c, "c receives the ping").await;
    assert!(ping.has_reply_path);

    c.reply_onion_message(&ping, CustomOnionMessage::new(PONG, b"pong".to_vec()))
        .expect("reply queued");
    let reply = next(&a, "a receives the pong").await;
    assert_eq!(reply.message.tlv_type, PONG);
    assert_eq!(reply.context.as_deref(), Some(&b"ctx-2"[..]));
    assert!(b.try_next_onion_message().is_none());
    shutdown([a, b, c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blinded_path_survives_its_bytes_and_delivers() {
    let (a, b, c) = line().await;
    let path = c.blinded_path_to_self(&[b.node_id()], b"from-bytes".to_vec());
    let bytes = encode_blinded_path(&path);
    // BOLT 4 `blinded_path`: first_node_id (b, in the clear), first_path_key, num_hops (b, c).
    assert_eq!(&bytes[..33], &b.node_id().serialize()[..]);
    assert_eq!(bytes[66], 2);

    let decoded = decode_blinded_path(&bytes).expect("our own bytes decode");
    assert_eq!(decoded, path);
    let ping = CustomOnionMessage::new(PING, b"to a blinded path".to_vec());
    a.send_onion_message(
        ping.clone(),
        &[],
        OnionDestination::BlindedPath(decoded),
        ReplyPath::None,
    )
    .expect("queued");

    let received = next(&c, "c receives").await;
    assert_eq!(received.message, ping);
    assert_eq!(received.context.as_deref(), Some(&b"from-bytes"[..]));
    shutdown([a, b, c]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_that_cannot_go_say_why() {
    let (a, b, c) = line().await;
    let message = || CustomOnionMessage::new(PING, Vec::new());

    let not_a_peer = a.send_onion_message(
        message(),
        &[],
        OnionDestination::Node(c.node_id()),
        ReplyPath::None,
    );
    assert_eq!(
        not_a_peer,
        Err(OnionSendError::FirstHopNotConnected(c.node_id()))
    );

    let reserved_type = a.send_onion_message(
        CustomOnionMessage::new(63, Vec::new()),
        &[],
        OnionDestination::Node(b.node_id()),
        ReplyPath::None,
    );
    assert_eq!(
        reserved_type,
        Err(OnionSendError::Ldk(SendError::InvalidMessage))
    );
    shutdown([a, b, c]).await;
}
