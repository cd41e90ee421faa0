//! `onion_message` (type 513) through the peer manager: who a message may be queued for, the
//! budget that drops one for a peer that is not reading, and the per-peer rate limit on what
//! reaches the handler. The messages' contents are not onions: the manager never looks inside.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use noise_transport::PublicKey;
use peer_manager::testing::*;
use peer_manager::{OnionMessageHandler, PeerManager, SendOnionError};
use tokio::sync::mpsc;

/// Every `onion_message` a node's handler is given, with who sent it.
struct Recorder(mpsc::UnboundedSender<(PublicKey, Vec<u8>)>);

impl OnionMessageHandler for Recorder {
    fn handle(&self, from: &PublicKey, message: &[u8]) -> Option<String> {
        let _ = self.0.send((*from, message.to_vec()));
        None
    }
}

/// A node that offers `option_onion_messages` (bit 39), as lnpeerd does, with `adjust` applied
/// to its configuration, and the channel its onion handler feeds.
async fn onion_node(
    byte: u8,
    adjust: impl FnOnce(&mut peer_manager::PeerManagerConfig),
) -> (PeerManager, mpsc::UnboundedReceiver<(PublicKey, Vec<u8>)>) {
    let mut config = onion_config(byte);
    adjust(&mut config);
    let node = PeerManager::start(config).await.unwrap();
    let (sender, received) = mpsc::unbounded_channel();
    assert!(node.set_onion_message_handler(Arc::new(Recorder(sender))));
    (node, received)
}

/// A 513 with `filler` bytes after the type (not an onion: nothing here decodes it).
fn onion_message(filler: u8, len: usize) -> Vec<u8> {
    let mut message = vec![0x02, 0x01];
    message.resize(2 + len, filler);
    message
}

async fn next_onion(
    received: &mut mpsc::UnboundedReceiver<(PublicKey, Vec<u8>)>,
) -> (PublicKey, Vec<u8>) {
    tokio::time::timeout(WAIT, received.recv())
        .await
        .expect("no onion message arrived")
        .unwrap()
}

#[tokio::test]
async fn onion_messages_go_only_to_connected_peers_that_offered_them() {
    let (a, _) = onion_node(1, |_| {}).await;
    let (b, mut b_received) = onion_node(2, |_| {}).await;
    let plain = node(3).await;
    connect(&a, &b).await;
    connect(&a, &plain).await;

    let message = onion_message(7, 100);
    assert_eq!(a.send_onion_message(&b.node_id(), &message), Ok(()));
    assert_eq!(next_onion(&mut b_received).await, (a.node_id(), message));

    assert_eq!(
        a.send_onion_message(&plain.node_id(), &onion_message(7, 100)),
        Err(SendOnionError::NotOffered)
    );
    assert_eq!(
        a.send_onion_message(&node_id(9), &onion_message(7, 100)),
        Err(SendOnionError::NotConnected)
    );
}

#[tokio::test]
async fn an_onion_message_for_a_peer_that_is_not_reading_is_dropped_not_queued() {
    const BUDGET: usize = 4 * 1024;
    let (a, _) = onion_node(1, |config| {
        config.limits.onion_message_peer_queue_bytes = BUDGET;
    })
    .await;
    // B takes the whole backlog at once when it comes (its rate limit is not under test here).
    let (b, mut b_received) = onion_node(2, |config| {
        config.limits.onion_message_burst = 1000;
    })
    .await;
    connect(&a, &b).await;

    // B stops reading, as far as A can tell: A's writer to B waits a minute before each write.
    a.set_write_delay(&b.node_id(), Duration::from_secs(60))
        .unwrap();
    let mut queued = 0;
    let mut fill = 1;
    let refused = loop {
        match a.send_onion_message(&b.node_id(), &onion_message(fill, 1000)) {
            Ok(()) => {
                queued += 1002;
                fill += 1;
                assert!(queued <= BUDGET + 1002, "queued {queued} past the budget");
            }
            Err(error) => break error,
        }
    };
    let SendOnionError::Busy { queued: waiting } = refused else {
        panic!("expected Busy, got {refused:?}");
    };
    assert!(
        waiting >= BUDGET,
        "refused at {waiting} bytes, under {BUDGET}"
    );
    // Dropped, not waited for: the refusal was immediate, and later ones are too.
    assert!(matches!(
        a.send_onion_message(&b.node_id(), &onion_message(0xee, 10)),
        Err(SendOnionError::Busy { .. })
    ));

    // Once A writes again, B gets every message that was queued, in order, and none of the
    // refused ones.
    a.set_write_delay(&b.node_id(), Duration::ZERO).unwrap();
    for expected in 1..fill {
        let (from, message) = next_onion(&mut b_received).await;
        assert_eq!(from, a.node_id());
        assert_eq!(message[2], expected, "message {expected} out of order");
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(300), b_received.recv())
            .await
            .is_err(),
        "a refused message arrived"
    );
}

#[tokio::test]
async fn a_flooding_peer_is_limited_and_warned_without_costing_another_peer() {
    const BURST: u32 = 5;
    const PER_SECOND: u32 = 2;
    let (b, mut b_received) = onion_node(2, |config| {
        config.limits.onion_message_burst = BURST;
        config.limits.onion_messages_per_second = PER_SECOND;
    })
    .await;
    let (c, _) = onion_node(3, |_| {}).await;
    connect(&c, &b).await;

    let flooder_key = key(4);
    let flooder_id = node_id(4);
    let mut flooder = RawPeer::connect(&flooder_key, &b).await;
    let started = Instant::now();
    const FLOOD: usize = 60;
    for index in 0..FLOOD {
        flooder.send(&onion_message(index as u8, 64)).await;
    }
    // CLN's warning, once, and the connection stays.
    let warning = flooder
        .recv_skipping_pings()
        .await
        .expect("still connected");
    assert_eq!(&warning[..2], &[0, 1], "a warning");
    let text = String::from_utf8_lossy(&warning[36..]).into_owned();
    assert_eq!(text, peer_protocol::ONION_RATE_WARNING);

    // Another peer's message gets through while the flooder is limited.
    let from_c = onion_message(0xcc, 64);
    c.send_onion_message(&b.node_id(), &from_c).unwrap();
    let mut from_flooder = 0usize;
    loop {
        let (from, message) = next_onion(&mut b_received).await;
        if from == c.node_id() {
            assert_eq!(message, from_c);
            break;
        }
        assert_eq!(from, flooder_id);
        from_flooder += 1;
    }
    // The flooder got its burst and at most what the rate refilled while it sent.
    let refilled = (started.elapsed().as_secs_f64() * f64::from(PER_SECOND)).ceil() as usize;
    assert!(from_flooder >= BURST as usize, "only {from_flooder} passed");
    assert!(
        from_flooder <= BURST as usize + refilled,
        "{from_flooder} of {FLOOD} passed (burst {BURST}, refill {refilled})"
    );
    // Still connected: a limited peer is slowed, not dropped.
    flooder.send(&onion_message(0xff, 8)).await;
    assert!(b.peer(&flooder_id).unwrap().connection.is_some());
}
