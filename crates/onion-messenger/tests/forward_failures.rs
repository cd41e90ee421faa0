//! Which forwards end in `onionmessage_forward_fail`: a node B relays real onions from A and
//! reports, with the peeled message and its next hop, every one it could not pass on. That is
//! a next node that is not connected (CLN's case), and a connected next peer that refused the
//! message, for want of bit 38/39 or for having too much waiting (cases where CLN would have
//! sent it). A message B could send is not reported.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use node_config::Limits;
use noise_transport::PublicKey;
use onion_message::{
    build_onion_message, Destination, Encode, MessageContents, NextHop, OnionMessage, SenderSecrets,
};
use onion_messenger::{ForwardFailure, OnionMessenger};
use peer_manager::testing::*;
use peer_manager::{PeerManager, PeerManagerConfig};
use tokio::sync::mpsc;

/// A manager offering `option_onion_messages`, as lnpeerd does, with `adjust` applied.
async fn onion_node(byte: u8, adjust: impl FnOnce(&mut PeerManagerConfig)) -> PeerManager {
    let mut config = onion_config(byte);
    adjust(&mut config);
    PeerManager::start(config).await.unwrap()
}

/// B, the relay under test, and the queue its forward failures go to.
struct Relay {
    manager: PeerManager,
    failures: mpsc::Receiver<ForwardFailure>,
    _messenger: OnionMessenger,
}

async fn relay(byte: u8, adjust: impl FnOnce(&mut PeerManagerConfig)) -> Relay {
    let manager = onion_node(byte, |config| {
        // Every message A sends is relayed: B's rate limit for A is not under test here.
        config.limits.onion_message_burst = 1000;
        adjust(config);
    })
    .await;
    let messenger = OnionMessenger::new(manager.clone(), key(byte), [7; 32], &Limits::default());
    assert!(messenger.start());
    let failures = messenger.take_forward_failures().unwrap();
    Relay {
        manager,
        failures,
        _messenger: messenger,
    }
}

/// An onion message from A through `relay` to `recipient`; `nonce` keeps each one distinct.
fn through(relay: &PublicKey, recipient: &PublicKey, nonce: u8) -> OnionMessage {
    let secrets = SenderSecrets {
        session_key: key(100 + nonce),
        first_path_secret: key(200 - nonce),
    };
    let built = build_onion_message(
        &[*relay],
        &Destination::Node(*recipient),
        &MessageContents::default(),
        &secrets,
    )
    .unwrap();
    assert_eq!(built.first_hop, *relay);
    built.message
}

/// The next forward failure reported within `wait`.
async fn failure_within(
    failures: &mut mpsc::Receiver<ForwardFailure>,
    wait: Duration,
) -> Option<ForwardFailure> {
    tokio::time::timeout(wait, failures.recv())
        .await
        .ok()
        .flatten()
}

async fn next_failure(failures: &mut mpsc::Receiver<ForwardFailure>) -> ForwardFailure {
    failure_within(failures, WAIT)
        .await
        .expect("no forward failure was reported")
}

async fn no_failure(failures: &mut mpsc::Receiver<ForwardFailure>) {
    let late = failure_within(failures, Duration::from_millis(300)).await;
    assert!(late.is_none(), "unexpected failure: {late:?}");
}

/// Checks that `failure` is A's `sent` message, peeled and headed for `next`, and that the
/// notification says so in CLN's fields.
fn assert_reported(
    failure: &ForwardFailure,
    a: &PeerManager,
    sent: &OnionMessage,
    next: &PublicKey,
) {
    assert_eq!(failure.source, a.node_id());
    assert_eq!(&failure.incoming, sent);
    let outgoing = failure.outgoing.as_ref().expect("it peeled");
    assert_eq!(outgoing.next_hop, NextHop::NodeId(*next));
    let params = &failure.params()["onionmessage_forward_fail"];
    assert_eq!(params["next_node_id"], next.to_string());
    assert_eq!(params["source"], a.node_id().to_string());
    assert_eq!(params["outgoing"], hex::encode(outgoing.message.to_bytes()));
}

#[tokio::test]
async fn a_forward_to_a_next_node_that_is_not_a_peer_is_reported() {
    let a = onion_node(1, |_| {}).await;
    let mut b = relay(2, |_| {}).await;
    let c = onion_node(3, |_| {}).await;
    connect(&a, &b.manager).await;
    connect(&b.manager, &c).await;

    // To a connected next peer with bit 39: sent, nothing reported.
    let sent = through(&b.manager.node_id(), &c.node_id(), 1);
    a.send_onion_message(&b.manager.node_id(), &sent.to_bytes())
        .unwrap();
    no_failure(&mut b.failures).await;

    let stranger = node_id(9);
    let sent = through(&b.manager.node_id(), &stranger, 2);
    a.send_onion_message(&b.manager.node_id(), &sent.to_bytes())
        .unwrap();
    assert_reported(&next_failure(&mut b.failures).await, &a, &sent, &stranger);
}

#[tokio::test]
async fn a_forward_its_next_peer_refuses_is_reported() {
    let a = onion_node(1, |_| {}).await;
    // B lets only a little wait for each peer, so one stalled message makes D busy.
    let mut b = relay(2, |config| {
        config.limits.onion_message_peer_queue_bytes = 1024;
    })
    .await;
    let without_onions = node(3).await;
    let stalled = onion_node(4, |_| {}).await;
    connect(&a, &b.manager).await;
    connect(&b.manager, &without_onions).await;
    connect(&b.manager, &stalled).await;

    // A peer that did not offer onion messages.
    let sent = through(&b.manager.node_id(), &without_onions.node_id(), 1);
    a.send_onion_message(&b.manager.node_id(), &sent.to_bytes())
        .unwrap();
    let failure = next_failure(&mut b.failures).await;
    assert_reported(&failure, &a, &sent, &without_onions.node_id());

    // A peer B cannot write to: the first messages wait, then one is refused as busy.
    b.manager
        .set_write_delay(&stalled.node_id(), Duration::from_secs(60))
        .unwrap();
    for nonce in 2..20 {
        let sent = through(&b.manager.node_id(), &stalled.node_id(), nonce);
        a.send_onion_message(&b.manager.node_id(), &sent.to_bytes())
            .unwrap();
        if let Some(failure) = failure_within(&mut b.failures, Duration::from_millis(300)).await {
            assert_reported(&failure, &a, &sent, &stalled.node_id());
            return;
        }
    }
    panic!("no message to the stalled peer was refused");
}
