//! The denial-of-service limits of `PeerManagerConfig`, each set small on a loopback node: the
//! cap on pending inbound handshakes (the oldest is evicted), the handshake and `init`
//! deadlines, the cap on inbound peers without a channel, and the inbound byte rate. After
//! each, a well-behaved peer must still get in.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use noise_transport::InitiatorHandshake;
use peer_manager::testing::*;
use peer_manager::{PeerEvent, PeerManager};
use subdaemon_state::{ChannelState, PeerInput};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use wire::{decode_message, Message};

/// How long a connection must stay silent for us to believe the node is holding it open.
const QUIET: Duration = Duration::from_millis(200);

/// Whether the node closes `stream` (EOF or reset) within [`WAIT`], skipping anything it sends
/// first.
async fn closed_by_node(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    tokio::time::timeout(WAIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return true,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or(false)
}

/// Whether `stream` gets neither bytes nor a close for [`QUIET`].
async fn held_open(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    tokio::time::timeout(QUIET, stream.read(&mut buf))
        .await
        .is_err()
}

/// `from` dials `to` and a custom message goes through on the new connection.
async fn serves_a_good_peer(from: &PeerManager, to: &PeerManager) {
    let mut to_inbox = inbox(to);
    connect(from, to).await;
    from.send_custom(&to.node_id(), &[0x80, 0x11, 0xaa])
        .unwrap();
    assert_eq!(
        custom_from(&mut to_inbox, from.node_id()).await,
        vec![0x80, 0x11, 0xaa]
    );
}

#[tokio::test]
async fn the_oldest_pending_handshakes_are_evicted_and_a_good_peer_gets_in() {
    const LIMIT: usize = 4;
    const STALLED: usize = 10;
    let mut config = config(2);
    config.limits.max_pending_handshakes = LIMIT;
    let b = PeerManager::start(config).await.unwrap();
    // Connections that never send act one, opened one after the other (accepted in order).
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(TcpStream::connect(addr(&b)).await.unwrap());
    }
    let (evicted, pending) = stalled.split_at_mut(STALLED - LIMIT);
    for (i, stream) in evicted.iter_mut().enumerate() {
        assert!(
            closed_by_node(stream).await,
            "connection {i} was not evicted"
        );
    }
    for (i, stream) in pending.iter_mut().enumerate() {
        assert!(
            held_open(stream).await,
            "connection {} was closed",
            STALLED - LIMIT + i
        );
    }
    // A newcomer takes the place of the oldest still pending, and gets all the way in.
    let a = node(1).await;
    serves_a_good_peer(&a, &b).await;
    assert!(
        closed_by_node(&mut pending[0]).await,
        "the oldest was not evicted"
    );
    for stream in &mut pending[1..] {
        assert!(held_open(stream).await);
    }
}

#[tokio::test]
async fn a_peer_that_stops_after_act_one_is_dropped_at_the_handshake_deadline() {
    let mut config = config(2);
    config.limits.handshake_timeout = Duration::from_millis(200);
    let b = PeerManager::start(config).await.unwrap();
    let mut stalled = TcpStream::connect(addr(&b)).await.unwrap();
    let (_, act_one) = InitiatorHandshake::new(&key(1), &b.node_id());
    stalled.write_all(&act_one).await.unwrap();
    // The node answers act one, then waits in vain for act three.
    let mut act_two = [0u8; 50];
    tokio::time::timeout(WAIT, stalled.read_exact(&mut act_two))
        .await
        .expect("act two did not arrive")
        .unwrap();
    let started = Instant::now();
    assert!(closed_by_node(&mut stalled).await);
    // The init deadline (15 s by default) is not the one that fired.
    assert!(started.elapsed() < Duration::from_secs(10));
    let a = node(1).await;
    serves_a_good_peer(&a, &b).await;
}

#[tokio::test]
async fn a_peer_that_never_sends_init_is_dropped_at_the_init_deadline() {
    let mut config = config(2);
    config.limits.init_timeout = Duration::from_millis(200);
    let b = PeerManager::start(config).await.unwrap();
    let mut silent = RawPeer::handshake(&key(3), &b).await;
    let their_init = silent.recv().await.expect("the node sends init");
    assert!(matches!(decode_message(&their_init), Ok(Message::Init(_))));
    assert_eq!(silent.recv().await, None, "closed without another message");
    assert!(b.peer(&node_id(3)).is_none());
    let a = node(1).await;
    serves_a_good_peer(&a, &b).await;
}

/// Waits until `who` has connected (its `init` accepted and the peer registered).
async fn registered(events: &mut broadcast::Receiver<PeerEvent>, who: u8) {
    connected(events, node_id(who)).await;
}

/// A raw peer with `key(who)` that the node admits, once it is registered.
async fn admitted(
    b: &PeerManager,
    events: &mut broadcast::Receiver<PeerEvent>,
    who: u8,
) -> RawPeer {
    let peer = RawPeer::connect(&key(who), b).await;
    registered(events, who).await;
    peer
}

/// A raw peer with `key(who)` gets the node's `init`, then the no-channel warning and a close.
async fn refused_for_no_channel(b: &PeerManager, who: u8, limit: usize) {
    let mut peer = RawPeer::connect(&key(who), b).await;
    let message = peer
        .recv_skipping_pings()
        .await
        .expect("a warning before the close");
    let Ok(Message::Warning(warning)) = decode_message(&message) else {
        panic!("not a warning: {message:02x?}");
    };
    assert_eq!(
        String::from_utf8_lossy(&warning.data),
        format!("Too many peers without channels (limit {limit}): try again later")
    );
    assert_eq!(peer.recv().await, None, "closed after the warning");
    assert!(
        b.peer(&node_id(who)).is_none(),
        "a refused peer is not kept"
    );
}

#[tokio::test]
async fn inbound_peers_without_channels_are_capped_but_channel_peers_and_reconnects_get_in() {
    const LIMIT: usize = 2;
    let mut config = config(2);
    config.limits.max_inbound_peers_without_channel = LIMIT;
    let b = PeerManager::start(config).await.unwrap();
    let mut events = b.subscribe();
    let _first = admitted(&b, &mut events, 11).await;
    let second = admitted(&b, &mut events, 12).await;
    assert_eq!(b.inbound_peers_without_channel(), 2);
    refused_for_no_channel(&b, 13, LIMIT).await;

    // A reconnect replaces the older connection and is not refused.
    let mut again = admitted(&b, &mut events, 11).await;
    b.send_custom(&node_id(11), &[0x80, 0x13]).unwrap();
    assert_eq!(again.recv_skipping_pings().await, Some(vec![0x80, 0x13]));
    assert_eq!(b.inbound_peers_without_channel(), 2);

    // A peer the node has a channel with is always admitted.
    b.restore_peer(node_id(14), None, [(1, ChannelState::ChanneldNormal)]);
    let mut channel_peer = admitted(&b, &mut events, 14).await;
    b.send_custom(&node_id(14), &[0x80, 0x15]).unwrap();
    assert_eq!(
        channel_peer.recv_skipping_pings().await,
        Some(vec![0x80, 0x15])
    );
    assert_eq!(b.inbound_peers_without_channel(), 2);

    // A connected peer that opens a channel leaves a place for a stranger...
    b.apply(&node_id(11), PeerInput::ChannelOpened(2)).unwrap();
    assert_eq!(b.inbound_peers_without_channel(), 1);
    let _fifth = admitted(&b, &mut events, 15).await;
    // ... and one that forgets its channel counts again (over the cap: nobody is dropped).
    b.apply(&node_id(11), PeerInput::ChannelForgotten(2))
        .unwrap();
    assert_eq!(b.inbound_peers_without_channel(), 3);
    refused_for_no_channel(&b, 16, LIMIT).await;

    // Once two strangers leave, another gets in.
    drop(second);
    disconnected(&mut events, node_id(12)).await;
    b.disconnect(&node_id(11));
    disconnected(&mut events, node_id(11)).await;
    assert_eq!(b.inbound_peers_without_channel(), 1);
    let _sixth = admitted(&b, &mut events, 16).await;
    assert_eq!(b.inbound_peers_without_channel(), 2);

    // Outbound connections are not capped: the node dials a peer without a channel.
    let c = node(3).await;
    serves_a_good_peer(&b, &c).await;
    assert_eq!(b.inbound_peers_without_channel(), 2);
}

#[tokio::test]
async fn a_peer_over_its_inbound_rate_is_slowed_but_loses_nothing() {
    const RATE: u64 = 64 * 1024;
    const BURST: u64 = 64 * 1024;
    const MESSAGES: usize = 32;
    const MESSAGE_LEN: usize = 8 * 1024;
    let mut config = config(2);
    config.limits.peer_inbound_rate = RATE;
    config.limits.peer_inbound_burst = BURST;
    let b = PeerManager::start(config).await.unwrap();
    let a = node(1).await;
    let mut b_events = b.subscribe();
    let mut b_inbox = inbox(&b);
    connect(&a, &b).await;
    connected(&mut b_events, a.node_id()).await;

    let messages: Vec<Vec<u8>> = (0..MESSAGES)
        .map(|i| {
            let mut message = vec![0x80, 0x17, i as u8];
            message.resize(MESSAGE_LEN, i as u8);
            message
        })
        .collect();
    let started = Instant::now();
    // 256 KiB fit in a's 1 MiB queue: a sends them as fast as TCP lets it.
    for message in &messages {
        a.send_custom(&b.node_id(), message).unwrap();
    }
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(
            &custom_from(&mut b_inbox, a.node_id()).await,
            message,
            "message {i}"
        );
    }
    // A lower bound only: past the burst, b reads at the rate, give or take one read (at most a
    // largest frame plus the decryptor's 16 KiB window, so say 128 KiB).
    let total = (MESSAGES * MESSAGE_LEN) as u64;
    let least = Duration::from_secs_f64((total - BURST - 128 * 1024) as f64 / RATE as f64);
    assert!(
        started.elapsed() >= least,
        "{total} bytes in {:?}, under {least:?}",
        started.elapsed()
    );
    // The connection is still up, and both ways work.
    assert!(b.peer(&a.node_id()).unwrap().connection.is_some());
    assert_eq!(a.ping(&b.node_id(), 0, 4).await, Ok(8));
    let mut a_inbox = inbox(&a);
    b.send_custom(&a.node_id(), &[0x80, 0x19]).unwrap();
    assert_eq!(
        custom_from(&mut a_inbox, b.node_id()).await,
        vec![0x80, 0x19]
    );
}
