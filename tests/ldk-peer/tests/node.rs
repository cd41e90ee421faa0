//! The node itself, LDK to LDK on loopback: connecting, what each side sees of the other,
//! keys, connection failures, and a shutdown that leaves nothing running.

mod common;

use common::{connect, start, start_default, within};
use ldk_peer::{ConnectError, LdkConfig, LdkNode, NodeKey};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_connect_and_offer_onion_messages_and_channels() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    connect(&a, &b).await;
    assert!(a.is_connected(&b.node_id()));
    assert!(b.is_connected(&a.node_id()));

    for (node, peer) in [(&a, &b), (&b, &a)] {
        let features = node
            .peer_init_features(&peer.node_id())
            .expect("the peer's init");
        assert!(
            features.supports_onion_messages(),
            "bit 39 from the messenger"
        );
        // The real ChannelManager's features, e.g. static_remote_key and channel_type required.
        assert!(features.requires_static_remote_key());
        assert!(features.requires_channel_type());
    }

    // Dialling a connected peer again is a no-op.
    let address = b.listen_addr().expect("b listens");
    within("reconnect", a.connect(b.node_id(), address))
        .await
        .expect("already connected");

    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_fixes_the_node_id() {
    let seeded = |seed| LdkConfig {
        key: NodeKey::Seed(seed),
        listen: false,
        ..LdkConfig::default()
    };
    let first = start("first", seeded([7; 32])).await;
    let again = start("again", seeded([7; 32])).await;
    let other = start("other", seeded([8; 32])).await;
    assert_eq!(first.node_id(), again.node_id());
    assert_ne!(first.node_id(), other.node_id());
    assert_eq!(first.listen_addr(), None);

    let random = start_default("random").await;
    let random_too = start_default("random-too").await;
    assert_ne!(random.node_id(), random_too.node_id());

    for node in [first, again, other, random, random_too] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialling_the_wrong_node_id_fails_in_the_handshake() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    let stranger = start(
        "stranger",
        LdkConfig {
            listen: false,
            ..LdkConfig::default()
        },
    )
    .await;
    let address = b.listen_addr().expect("b listens");
    // b cannot decrypt act one, which is made for the stranger's key, and hangs up.
    let result = within("connect", a.connect(stranger.node_id(), address)).await;
    assert_eq!(result, Err(ConnectError::Closed));
    assert!(!a.is_connected(&stranger.node_id()));
    for node in [a, b, stranger] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connections_and_the_listener() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    let c = start_default("c").await;
    connect(&a, &b).await;
    connect(&c, &a).await;
    let (a_id, a_address) = (a.node_id(), a.listen_addr().expect("a listens"));

    within("a's shutdown", a.shutdown()).await;

    // Both a's peers, the one it dialled and the one that dialled it, see it go.
    within("b sees a go", b.wait_disconnected(a_id)).await;
    within("c sees a go", c.wait_disconnected(a_id)).await;
    // And nothing listens at its address any more.
    let result = within("connect", c.connect(a_id, a_address)).await;
    assert_eq!(result, Err(ConnectError::Unreachable(a_address)));

    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_closes_one_peer() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    let c = start_default("c").await;
    connect(&a, &b).await;
    connect(&a, &c).await;
    a.disconnect(b.node_id());
    within("b sees a go", b.wait_disconnected(a.node_id())).await;
    assert!(!a.is_connected(&b.node_id()));
    assert!(a.is_connected(&c.node_id()));
    for node in [a, b, c] {
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_node_disconnects_its_peers() {
    let a = start_default("a").await;
    let b = start_default("b").await;
    connect(&a, &b).await;
    let a_id = a.node_id();
    drop::<LdkNode>(a);
    within("b sees a go", b.wait_disconnected(a_id)).await;
    b.shutdown().await;
}
