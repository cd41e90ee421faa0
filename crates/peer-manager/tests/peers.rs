//! Two and three nodes on loopback, and scripted peers that misbehave.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use noise_transport::PublicKey;
use peer_manager::testing::*;
use peer_manager::{Direction, PeerManager, SendCustomError, SendError};
use subdaemon_state::{Owner, PeerInput, SendRefused};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use wire::{decode_message, ChainHash, Encode, Message, Ping, TlvStream};

#[tokio::test]
async fn two_nodes_connect_exchange_init_and_custom_messages_both_ways() {
    let a = node(1).await;
    let b = node(2).await;
    let mut a_inbox = inbox(&a);
    let mut b_events = b.subscribe();
    let mut b_inbox = inbox(&b);
    connect(&a, &b).await;
    connected(&mut b_events, a.node_id()).await;

    let seen_by_a = a.peer(&b.node_id()).unwrap();
    let connection = seen_by_a.connection.unwrap();
    assert_eq!(connection.direction, Direction::Outbound);
    assert_eq!(
        connection.features.iter_set_bits().collect::<Vec<_>>(),
        vec![1, 9, 13, 15, 45]
    );
    assert_eq!(seen_by_a.owner, Some(Owner::Openingd));
    let seen_by_b = b.peer(&a.node_id()).unwrap();
    assert_eq!(seen_by_b.connection.unwrap().direction, Direction::Inbound);

    assert_eq!(
        a.send_custom(&b.node_id(), &[0xff, 0xff, 1, 2, 3]),
        Ok(Owner::Openingd)
    );
    assert_eq!(
        custom_from(&mut b_inbox, a.node_id()).await,
        vec![0xff, 0xff, 1, 2, 3]
    );
    b.send_custom(&a.node_id(), &[0x80, 0x01]).unwrap();
    assert_eq!(
        custom_from(&mut a_inbox, b.node_id()).await,
        vec![0x80, 0x01]
    );

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn many_messages_of_every_size_arrive_in_order() {
    let a = node(1).await;
    let b = node(2).await;
    let mut b_inbox = inbox(&b);
    connect(&a, &b).await;
    let messages: Vec<Vec<u8>> = (0..1_500u32)
        .map(|i| {
            let mut message = vec![0x80, 0x03];
            message.extend_from_slice(&i.to_be_bytes());
            message.resize(6 + (i as usize * 37) % 3000, 7);
            message
        })
        .collect();
    for message in &messages {
        while let Err(SendCustomError::Queue(SendError::QueueFull { .. })) =
            a.send_custom(&b.node_id(), message)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    for message in &messages {
        assert_eq!(&custom_from(&mut b_inbox, a.node_id()).await, message);
    }
    let mut largest = vec![0x80, 0x81];
    largest.resize(65535, 0x5a);
    a.send_custom(&b.node_id(), &largest).unwrap();
    assert_eq!(custom_from(&mut b_inbox, a.node_id()).await, largest);
}

#[tokio::test]
async fn three_nodes_route_custom_messages_to_the_right_peer() {
    let hub = node(1).await;
    let left = node(2).await;
    let right = node(3).await;
    let mut left_inbox = inbox(&left);
    let mut right_events = right.subscribe();
    let mut right_inbox = inbox(&right);
    connect(&hub, &left).await;
    connect(&right, &hub).await;
    connected(&mut right_events, hub.node_id()).await;
    assert_eq!(hub.peers().len(), 2);
    hub.send_custom(&left.node_id(), &[0x80, 0x05, b'L'])
        .unwrap();
    hub.send_custom(&right.node_id(), &[0x80, 0x05, b'R'])
        .unwrap();
    assert_eq!(
        custom_from(&mut left_inbox, hub.node_id()).await,
        vec![0x80, 0x05, b'L']
    );
    assert_eq!(
        custom_from(&mut right_inbox, hub.node_id()).await,
        vec![0x80, 0x05, b'R']
    );
}

#[tokio::test]
async fn disconnect_forgets_a_channelless_peer_and_reconnect_works() {
    let a = node(1).await;
    let b = node(2).await;
    let mut a_events = a.subscribe();
    let mut b_events = b.subscribe();
    let mut b_inbox = inbox(&b);
    connect(&a, &b).await;
    assert!(a.disconnect(&b.node_id()));
    disconnected(&mut a_events, b.node_id()).await;
    disconnected(&mut b_events, a.node_id()).await;
    assert!(a.peer(&b.node_id()).is_none());
    assert_eq!(
        a.send_custom(&b.node_id(), &[0x80, 0x01]),
        Err(SendCustomError::NoSuchPeer)
    );

    connect(&a, &b).await;
    connected(&mut b_events, a.node_id()).await;
    a.send_custom(&b.node_id(), &[0x80, 0x07]).unwrap();
    assert_eq!(
        custom_from(&mut b_inbox, a.node_id()).await,
        vec![0x80, 0x07]
    );
}

#[tokio::test]
async fn connecting_twice_reuses_the_connection_and_a_second_socket_replaces_the_first() {
    let a = node(1).await;
    let b = node(2).await;
    let mut b_events = b.subscribe();
    connect(&a, &b).await;
    connected(&mut b_events, a.node_id()).await;
    // Dialing a connected peer returns the live connection without a new one.
    connect(&a, &b).await;
    assert!(tokio::time::timeout(
        Duration::from_millis(300),
        connected(&mut b_events, a.node_id())
    )
    .await
    .is_err());

    // The same node id arriving on a new socket: newest wins, the old one is closed.
    let mut a_events = a.subscribe();
    let mut duplicate = RawPeer::connect(&key(1), &b).await;
    disconnected(&mut a_events, b.node_id()).await;
    let info = b.peer(&a.node_id()).unwrap();
    assert!(info.connection.is_some());
    b.send_custom(&a.node_id(), &[0x80, 0x09]).unwrap();
    assert_eq!(
        duplicate.recv_skipping_pings().await,
        Some(vec![0x80, 0x09])
    );
}

#[tokio::test]
async fn a_peer_that_stalls_mid_handshake_is_dropped_at_the_deadline() {
    let mut config = config(2);
    config.limits.handshake_timeout = Duration::from_millis(300);
    let b = PeerManager::start(config).await.unwrap();
    let mut stalled = TcpStream::connect(addr(&b)).await.unwrap();
    let mut buf = [0u8; 64];
    // We send nothing; the node must hang up by itself, without a reply.
    let read = tokio::time::timeout(WAIT, stalled.read(&mut buf))
        .await
        .expect("not dropped");
    assert!(matches!(read, Ok(0) | Err(_)));
    // And a well-behaved peer still gets in.
    let a = node(1).await;
    connect(&a, &b).await;
}

#[tokio::test]
async fn a_wrong_node_id_fails_the_handshake() {
    let a = node(1).await;
    let b = node(2).await;
    let address = addr(&b);
    let impostor = PublicKey::from_secret_key_global(&key(9));
    let error = a
        .connect(impostor, &dial_address(address))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("handshake failed"), "{error}");
}

#[tokio::test]
async fn pings_are_answered_exactly_and_no_reply_pings_ignored() {
    let b = node(2).await;
    let mut peer = RawPeer::connect(&key(1), &b).await;
    for (asked, expect_reply) in [(65532u16, false), (65535, false), (10, true), (0, true)] {
        let ping = Message::Ping(Ping {
            num_pong_bytes: asked,
            ignored: vec![0; 4],
            tlvs: TlvStream::new(),
        });
        peer.send(&ping.to_bytes()).await;
        if expect_reply {
            // Any no-reply ping sent before produced nothing, so this is the next message.
            let reply = peer.recv_skipping_pings().await.unwrap();
            let Ok(Message::Pong(pong)) = decode_message(&reply) else {
                panic!("not a pong: {reply:?}")
            };
            assert_eq!(pong.ignored, vec![0; usize::from(asked)]);
        }
    }
}

#[tokio::test]
async fn a_ping_flood_is_rate_limited_and_the_connection_survives() {
    let b = node(2).await;
    let mut peer = RawPeer::connect(&key(1), &b).await;
    let ping = Message::Ping(Ping {
        num_pong_bytes: 4,
        ignored: vec![],
        tlvs: TlvStream::new(),
    })
    .to_bytes();
    for _ in 0..200 {
        peer.send(&ping).await;
    }
    peer.send(&[0x80, 0x01]).await;
    // A custom message after the flood proves the reader kept up; count pongs before it.
    let mut b_inbox = inbox(&b);
    peer.send(&[0x80, 0x03]).await;
    custom_from(&mut b_inbox, PublicKey::from_secret_key_global(&key(1))).await;
    let mut pongs = 0;
    while let Ok(Some(message)) =
        tokio::time::timeout(Duration::from_millis(300), peer.recv()).await
    {
        if message[..2] == [0, 19] {
            pongs += 1;
        }
    }
    assert!((20..200).contains(&pongs), "{pongs} pongs for 200 pings");
}

#[tokio::test]
async fn keepalive_pings_an_idle_peer_and_hangs_up_when_unanswered() {
    let mut config = config(2);
    config.keepalive_idle = Duration::from_millis(200);
    config.keepalive_tick_min = Duration::from_millis(100);
    config.keepalive_tick_jitter = Duration::from_millis(50);
    let b = PeerManager::start(config).await.unwrap();
    let mut events = b.subscribe();
    let mut peer = RawPeer::connect(&key(1), &b).await;
    let ping = peer.recv().await.unwrap();
    assert_eq!(ping, [0, 18, 0, 1, 0, 0], "CLN's keepalive ping");
    // We never answer: the node hangs up.
    let reason = disconnected(&mut events, PublicKey::from_secret_key_global(&key(1))).await;
    assert_eq!(reason, "Last ping unreturned: hanging up");
}

#[tokio::test]
async fn an_unknown_even_message_gets_a_warning_and_a_disconnect() {
    let b = node(2).await;
    let mut peer = RawPeer::connect(&key(1), &b).await;
    peer.send(&[0x80, 0x00, 0xab, 0xcd]).await;
    let warning = peer.recv_skipping_pings().await.unwrap();
    let Ok(Message::Warning(warning)) = decode_message(&warning) else {
        panic!()
    };
    assert_eq!(warning.data, b"Invalid unknown even msg 8000abcd");
    assert_eq!(peer.recv_skipping_pings().await, None, "connection closed");
}

#[tokio::test]
async fn the_largest_unknown_even_message_is_refused_without_harm() {
    let b = node(2).await;
    let mut peer = RawPeer::connect(&key(1), &b).await;
    let mut huge = vec![0x80, 0x80];
    huge.resize(65_535, 0xee);
    peer.send(&huge).await;
    let warning = peer.recv_skipping_pings().await.unwrap();
    assert!(matches!(decode_message(&warning), Ok(Message::Warning(_))));
    assert_eq!(peer.recv_skipping_pings().await, None, "connection closed");
    // The node is still serving.
    let a = node(1).await;
    connect(&a, &b).await;
}

#[tokio::test]
async fn a_plugin_declared_even_type_is_delivered() {
    let b = node(2).await;
    b.set_allowed_even_types([32768]);
    let mut b_inbox = inbox(&b);
    let mut peer = RawPeer::connect(&key(1), &b).await;
    peer.send(&[0x80, 0x00, 0xab]).await;
    assert_eq!(
        custom_from(&mut b_inbox, PublicKey::from_secret_key_global(&key(1))).await,
        [0x80, 0x00, 0xab]
    );
}

#[tokio::test]
async fn init_rules_close_with_clns_warnings() {
    let b = node(2).await;
    for (features, chain, expected) in [
        (vec![1usize], ChainHash::BITCOIN, "No common network"),
        (vec![34], ChainHash::REGTEST, "Unsupported feature 34"),
        (
            vec![17],
            ChainHash::REGTEST,
            "Feature 17 requires feature 14",
        ),
    ] {
        let mut peer = RawPeer::handshake(&key(1), &b).await;
        peer.send(&init_with(&features, chain)).await;
        let _their_init = peer.recv().await.unwrap();
        let reply = peer.recv().await.unwrap();
        let Ok(Message::Warning(warning)) = decode_message(&reply) else {
            panic!("{reply:?}")
        };
        assert_eq!(String::from_utf8(warning.data).unwrap(), expected);
        assert_eq!(peer.recv().await, None);
    }
    // A first message that is not init closes without a warning; unknown odd ones are skipped.
    let mut peer = RawPeer::handshake(&key(1), &b).await;
    peer.send(&[0x80, 0x01]).await;
    peer.send(&[0x00, 0x12, 0, 1, 0, 0]).await;
    let _their_init = peer.recv().await.unwrap();
    assert_eq!(peer.recv().await, None);
    // A second init closes.
    let mut peer = RawPeer::connect(&key(1), &b).await;
    peer.send(&init_with(&[1], ChainHash::REGTEST)).await;
    let reply = peer.recv_skipping_pings().await.unwrap();
    assert!(matches!(decode_message(&reply), Ok(Message::Warning(_))));
    assert_eq!(peer.recv_skipping_pings().await, None);
}

#[tokio::test]
async fn channel_messages_get_an_error_and_error_closes() {
    let b = node(2).await;
    let mut peer = RawPeer::connect(&key(1), &b).await;
    let mut shutdown = vec![0, 38];
    shutdown.extend_from_slice(&[0x42; 32]);
    shutdown.extend_from_slice(&[0, 0]);
    peer.send(&shutdown).await;
    let reply = peer.recv_skipping_pings().await.unwrap();
    let Ok(Message::Error(error)) = decode_message(&reply) else {
        panic!()
    };
    assert_eq!(error.channel_id, [0x42; 32]);
    let mut events = b.subscribe();
    let mut error_message = vec![0, 17];
    error_message.extend_from_slice(&[0; 32]);
    error_message.extend_from_slice(&[0, 3]);
    error_message.extend_from_slice(b"bye");
    peer.send(&error_message).await;
    let reason = disconnected(&mut events, PublicKey::from_secret_key_global(&key(1))).await;
    assert_eq!(reason, "peer sent error: ERROR: bye");
}

#[tokio::test]
async fn ownership_gates_custom_messages() {
    let a = node(1).await;
    let b = node(2).await;
    connect(&a, &b).await;
    let id = b.node_id();
    a.apply(&id, PeerInput::ChannelOpened(1)).unwrap();
    assert_eq!(a.send_custom(&id, &[0x80, 0x01]), Ok(Owner::Channeld));
    assert_eq!(a.peer(&id).unwrap().log_prefix, "channeld-chan#1");
    a.apply(&id, PeerInput::ClosingStarted(1)).unwrap();
    assert_eq!(
        a.send_custom(&id, &[0x80, 0x01]),
        Err(SendCustomError::Refused(SendRefused::OwnedBy(
            Owner::Closingd
        )))
    );
    a.apply(&id, PeerInput::FundingSpent(1)).unwrap();
    assert_eq!(
        a.send_custom(&id, &[0x80, 0x01]),
        Err(SendCustomError::Refused(SendRefused::OwnedBy(
            Owner::Onchaind
        )))
    );
}

#[tokio::test]
async fn a_peer_with_a_channel_stays_known_and_is_redialled() {
    let mut config = config(1);
    config.redial_backoff_min = Duration::from_millis(50);
    let a = PeerManager::start(config).await.unwrap();
    let b = node(2).await;
    let mut a_events = a.subscribe();
    connect(&a, &b).await;
    a.apply(&b.node_id(), PeerInput::ChannelOpened(7)).unwrap();
    // The remote end drops us; we keep the peer and dial it again.
    b.disconnect(&a.node_id());
    disconnected(&mut a_events, b.node_id()).await;
    let info = a.peer(&b.node_id()).unwrap();
    assert_eq!(info.channels.len(), 1);
    assert_eq!(
        a.send_custom(&b.node_id(), &[0x80, 0x01]),
        Err(SendCustomError::Refused(SendRefused::NotConnected))
    );
    connected(&mut a_events, b.node_id()).await;
    assert_eq!(
        a.send_custom(&b.node_id(), &[0x80, 0x01]),
        Ok(Owner::Channeld)
    );
}

#[tokio::test]
async fn a_peer_that_never_reads_fills_only_its_own_queue() {
    let mut config = config(2);
    config.limits.peer_send_queue_bytes = 256 * 1024;
    let b = PeerManager::start(config).await.unwrap();
    let c = node(3).await;
    let mut c_inbox = inbox(&c);
    connect(&b, &c).await;
    // A raw peer that completes init and then never reads again.
    let stuck = RawPeer::connect(&key(1), &b).await;
    let stuck_id = PublicKey::from_secret_key_global(&key(1));
    let mut sent = 0usize;
    let full = loop {
        match b.send_custom(&stuck_id, &[0x80; 65_000]) {
            Ok(_) => sent += 1,
            Err(SendCustomError::Queue(error @ SendError::QueueFull { .. })) => break error,
            Err(other) => panic!("{other}"),
        }
        // Let the writer move what the socket buffers accept.
        tokio::task::yield_now().await;
        assert!(sent < 10_000, "the queue never filled");
    };
    assert!(full.to_string().contains("outgoing queue full"), "{full}");
    // Another peer is unaffected.
    b.send_custom(&c.node_id(), &[0x80, 0x0b]).unwrap();
    assert_eq!(
        custom_from(&mut c_inbox, b.node_id()).await,
        vec![0x80, 0x0b]
    );
    drop(stuck);
}

#[tokio::test]
async fn a_peer_that_stops_reading_and_misbehaves_is_still_dropped() {
    let b = node(2).await;
    let mut events = b.subscribe();
    let mut stuck = RawPeer::connect(&key(1), &b).await;
    let stuck_id = PublicKey::from_secret_key_global(&key(1));
    // Fill the socket buffers and the queue: the writer is now blocked in a write.
    while b.send_custom(&stuck_id, &[0x80; 65_000]).is_ok() {
        tokio::task::yield_now().await;
    }
    // The warning can never be flushed; the node must close anyway.
    stuck.send(&[0x80, 0x00]).await;
    let reason = disconnected(&mut events, stuck_id).await;
    assert_eq!(reason, "Invalid unknown even msg 8000");
}

#[tokio::test]
async fn ping_command_waits_for_the_pong_and_reports_its_length() {
    let a = node(1).await;
    let b = node(2).await;
    connect(&a, &b).await;
    // totlen counts the pong's type and length fields, as CLN's does.
    assert_eq!(a.ping(&b.node_id(), 128, 128).await, Ok(132));
    assert_eq!(a.ping(&b.node_id(), 0, 0).await, Ok(4));
    assert_eq!(a.ping(&b.node_id(), 65529, 65531).await, Ok(65535));
    // No pong is due above 65531 bytes, so the command returns at once.
    assert_eq!(a.ping(&b.node_id(), 10, 65532).await, Ok(0));
    assert_eq!(
        a.ping(&PublicKey::from_secret_key_global(&key(9)), 1, 1)
            .await,
        Err(peer_manager::PingError::NotConnected)
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_second_ping_while_one_is_pending_is_refused() {
    let a = node(1).await;
    let secret = key(7);
    let mut peer = RawPeer::connect(&secret, &a).await;
    let peer_id = PublicKey::from_secret_key_global(&secret);
    let first = {
        let a = a.clone();
        tokio::spawn(async move { a.ping(&peer_id, 4, 10).await })
    };
    // The scripted peer holds its pong until the second ping has been refused.
    let ping = peer.ping_asking_for(10).await;
    assert_eq!(
        a.ping(&peer_id, 4, 10).await,
        Err(peer_manager::PingError::AlreadyPending)
    );
    let Message::Ping(ping) = decode_message(&ping).unwrap() else {
        panic!("not a ping")
    };
    peer.send(&Message::Pong(ping.pong().unwrap()).to_bytes())
        .await;
    assert_eq!(first.await.unwrap(), Ok(14));
    drop(peer);
    a.shutdown().await;
}

/// A sink whose queues the test drains by hand, to hold a consumer back.
struct HeldSink(std::sync::Mutex<Vec<tokio::sync::mpsc::Receiver<Vec<u8>>>>);

impl peer_manager::CustomMessageSink for HeldSink {
    fn open(&self, _: PublicKey) -> tokio::sync::mpsc::Sender<Vec<u8>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        self.0.lock().unwrap().push(receiver);
        sender
    }
}

#[tokio::test]
async fn a_slow_custom_sink_holds_back_its_peer_and_loses_nothing() {
    let a = node(1).await;
    let b = node(2).await;
    let sink = std::sync::Arc::new(HeldSink(std::sync::Mutex::new(Vec::new())));
    assert!(b.set_custom_sink(sink.clone()));
    connect(&a, &b).await;
    // Far more than the sink's queue of 4 holds: the reader must wait, not drop.
    let sent: Vec<Vec<u8>> = (0..2_000u32)
        .map(|i| [&[0x80, 0x01][..], &i.to_be_bytes()].concat())
        .collect();
    for message in &sent {
        a.send_custom_waiting(&b.node_id(), message).await.unwrap();
    }
    let mut queue = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(queue) = sink.0.lock().unwrap().pop() {
                break queue;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    tokio::time::timeout(WAIT, async {
        while queue.len() < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    // While b's reader waits on the sink, b still serves its RPC-facing API and other peers.
    let c = node(3).await;
    connect(&c, &b).await;
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let message = tokio::time::timeout(WAIT, queue.recv())
            .await
            .unwrap()
            .unwrap();
        received.push(message);
    }
    assert_eq!(received, sent);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
}

/// A sink handing every connection's messages to one queue.
struct OneQueue(tokio::sync::mpsc::Sender<Vec<u8>>);

impl peer_manager::CustomMessageSink for OneQueue {
    fn open(&self, _: PublicKey) -> tokio::sync::mpsc::Sender<Vec<u8>> {
        self.0.clone()
    }
}

/// Echoes every custom message back from inside the reader, as a request/response protocol
/// built on the handler would.
struct Echo;

impl peer_manager::CustomMessageHandler for Echo {
    fn handle(&self, from: &PublicKey, message: &[u8], replies: &mut peer_manager::SendBatch<'_>) {
        replies.send_custom(from, message).unwrap();
    }
}

#[tokio::test]
async fn a_handler_answers_inside_the_reader_in_order_and_loses_nothing() {
    let a = node(1).await;
    let b = node(2).await;
    assert!(b.set_custom_handler(std::sync::Arc::new(Echo)));
    let (to_a, mut at_a) = tokio::sync::mpsc::channel(64);
    assert!(a.set_custom_sink(std::sync::Arc::new(OneQueue(to_a))));
    connect(&a, &b).await;
    // Enough to fill many reads, so replies made in one batch go out together.
    let sent: Vec<Vec<u8>> = (0..3_000u32)
        .map(|i| [&[0x80, 0x21][..], &i.to_be_bytes(), &[0x5a; 100]].concat())
        .collect();
    let sender = tokio::spawn({
        let (a, b_id, sent) = (a.clone(), b.node_id(), sent.clone());
        async move {
            for message in &sent {
                a.send_custom_waiting(&b_id, message).await.unwrap();
            }
        }
    });
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let message = tokio::time::timeout(WAIT, at_a.recv()).await.unwrap();
        received.push(message.unwrap());
    }
    sender.await.unwrap();
    assert_eq!(received, sent);
    a.shutdown().await;
    b.shutdown().await;
}

/// Panics on every message: an embedder's bug.
struct Panics;

impl peer_manager::CustomMessageHandler for Panics {
    fn handle(&self, _: &PublicKey, _: &[u8], _: &mut peer_manager::SendBatch<'_>) {
        panic!("a handler's bug");
    }
}

#[tokio::test]
async fn a_panicking_handler_ends_only_that_connection() {
    let a = node(1).await;
    let b = node(2).await;
    assert!(b.set_custom_handler(std::sync::Arc::new(Panics)));
    let mut a_events = a.subscribe();
    connect(&a, &b).await;
    a.send_custom(&b.node_id(), &[0x80, 0x23]).unwrap();
    disconnected(&mut a_events, b.node_id()).await;
    // b is still whole: it takes a new connection and answers a ping on it.
    connect(&a, &b).await;
    assert!(a.ping(&b.node_id(), 4, 4).await.is_ok());
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn a_bound_manager_accepts_and_redials_nobody_until_activated() {
    // B is bound but not active: A's connection waits in the listen backlog, unanswered.
    let b = PeerManager::bind(config(2)).await.unwrap();
    let a = node(1).await;
    let mut a_events = a.subscribe();
    let b_address = dial_address(addr(&b));
    let dialing = {
        let a = a.clone();
        let b_id = b.node_id();
        tokio::spawn(async move { a.connect(b_id, &b_address).await })
    };
    // A restored peer with a channel and an address is not redialled yet either.
    let c = node(3).await;
    let mut c_events = c.subscribe();
    b.restore_peer(
        c.node_id(),
        Some(dial_address(addr(&c))),
        [(1, subdaemon_state::ChannelState::ChanneldNormal)],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!dialing.is_finished(), "B answered before it was activated");
    assert!(
        c.peer(&b.node_id()).is_none(),
        "B redialled before it was activated"
    );

    // With its consumer set first, B misses nothing that A sends once connected.
    let mut b_inbox = inbox(&b);
    b.activate();
    dialing.await.unwrap().unwrap();
    connected(&mut a_events, b.node_id()).await;
    a.send_custom(&b.node_id(), &[0xff, 0xff, 7]).unwrap();
    assert_eq!(
        custom_from(&mut b_inbox, a.node_id()).await,
        vec![0xff, 0xff, 7]
    );
    connected(&mut c_events, b.node_id()).await;
    // Activating again changes nothing.
    b.activate();
}

#[tokio::test]
async fn custom_messages_on_a_connection_dialled_before_activation_wait_for_the_consumer() {
    // B dials out before it is active (as a plugin may from its `init`) and before it has a
    // consumer for custom messages; A sends at once.
    let b = PeerManager::bind(config(2)).await.unwrap();
    let a = node(1).await;
    let mut a_events = a.subscribe();
    b.connect(a.node_id(), &dial_address(addr(&a)))
        .await
        .unwrap();
    connected(&mut a_events, b.node_id()).await;
    a.send_custom(&b.node_id(), &[0xff, 0xff, 1]).unwrap();
    a.send_custom(&b.node_id(), &[0xff, 0xff, 2]).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The consumer comes, then activation: both messages arrive, in order.
    let mut b_inbox = inbox(&b);
    b.activate();
    assert_eq!(
        custom_from(&mut b_inbox, a.node_id()).await,
        vec![0xff, 0xff, 1]
    );
    assert_eq!(
        custom_from(&mut b_inbox, a.node_id()).await,
        vec![0xff, 0xff, 2]
    );
}
