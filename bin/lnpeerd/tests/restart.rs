//! A node restarted on the same lightning-dir keeps its node id and its channels, and dials its
//! channel peers again.
#![allow(clippy::unwrap_used, missing_docs)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use lnpeerd::node::Node;
use node_config::{Config, DialAddress};
use noise_transport::SecretKey;
use peer_manager::{PeerEvent, PeerManager, PeerManagerConfig};
use subdaemon_state::{ChannelState, Owner, PeerInput};
use wire::ChainHash;

fn config(dir: &std::path::Path) -> Config {
    Config::parse(
        [
            format!("--lightning-dir={}", dir.display()),
            "--network=regtest".to_owned(),
            "--bind-addr=127.0.0.1:0".to_owned(),
        ],
        None,
    )
    .unwrap()
}

async fn wait_connected(node: &Node, peer: &noise_transport::PublicKey) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while node
            .manager()
            .peer(peer)
            .and_then(|p| p.connection)
            .is_none()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the node did not reconnect to its channel peer");
}

#[tokio::test]
async fn restart_keeps_node_id_channels_and_redials_the_channel_peer() {
    let dir = tempfile::tempdir().unwrap();
    let mut remote_config = PeerManagerConfig::new(
        SecretKey::from_slice(&[7; 32]).unwrap(),
        ChainHash::REGTEST,
        19846,
    );
    remote_config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let remote = PeerManager::start(remote_config).await.unwrap();
    let remote_id = remote.node_id();
    let remote_addr = remote.listen_addrs()[0];

    let node = Node::start(&config(dir.path())).await.unwrap();
    let node_id = node.manager().node_id();
    node.manager()
        .connect(
            remote_id,
            &DialAddress::new("127.0.0.1", Some(remote_addr.port())),
        )
        .await
        .unwrap();
    let open = node.open_channel(&remote_id).unwrap();
    let closing = node.open_channel(&remote_id).unwrap();
    node.channel_step(&remote_id, PeerInput::ShutdownStarted(closing))
        .unwrap();
    assert_eq!(
        node.manager().send_custom(&remote_id, &[0x80, 0x01]),
        Ok(Owner::Channeld)
    );
    node.shutdown().await;

    let hsm = dir.path().join("regtest/hsm_secret");
    assert_eq!(
        std::fs::metadata(&hsm).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let mut remote_events = remote.subscribe();
    let node = Node::start(&config(dir.path())).await.unwrap();
    assert_eq!(
        node.manager().node_id(),
        node_id,
        "same node id after restart"
    );
    let peer = node
        .manager()
        .peer(&remote_id)
        .expect("channel peer remembered");
    assert_eq!(
        peer.channels,
        vec![
            (open, ChannelState::ChanneldNormal),
            (closing, ChannelState::ChanneldShuttingDown)
        ]
    );
    wait_connected(&node, &remote_id).await;
    // The remote may first report the old connection's end; the redial must follow.
    loop {
        match remote_events.recv().await.unwrap() {
            PeerEvent::Connected { id, .. } if id == node_id => break,
            PeerEvent::Connected { id, .. } => panic!("unexpected connection from {id}"),
            _ => {}
        }
    }
    assert_eq!(
        node.manager().send_custom(&remote_id, &[0x80, 0x01]),
        Ok(Owner::Channeld)
    );
    node.shutdown().await;
    remote.shutdown().await;
}

#[tokio::test]
async fn forgotten_channels_stay_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let mut remote_config = PeerManagerConfig::new(
        SecretKey::from_slice(&[8; 32]).unwrap(),
        ChainHash::REGTEST,
        19846,
    );
    remote_config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    let remote = PeerManager::start(remote_config).await.unwrap();
    let remote_id = remote.node_id();
    let node = Node::start(&config(dir.path())).await.unwrap();
    node.manager()
        .connect(
            remote_id,
            &DialAddress::new("127.0.0.1", Some(remote.listen_addrs()[0].port())),
        )
        .await
        .unwrap();
    let dbid = node.open_channel(&remote_id).unwrap();
    node.channel_step(&remote_id, PeerInput::FundingSpent(dbid))
        .unwrap();
    node.channel_step(&remote_id, PeerInput::SpendConfirmed(dbid))
        .unwrap();
    node.channel_step(&remote_id, PeerInput::ChannelForgotten(dbid))
        .unwrap();
    node.shutdown().await;

    let node = Node::start(&config(dir.path())).await.unwrap();
    assert!(
        node.manager().peer(&remote_id).is_none(),
        "no channels, nothing to remember"
    );
    node.shutdown().await;
}
