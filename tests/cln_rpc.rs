//! The `cln-rpc` crate's typed client against a running lnpeerd: every response must
//! deserialize into cln-rpc's models, and errors must carry CLN's codes.
#![allow(clippy::unwrap_used, missing_docs)]

use std::str::FromStr;

use cln_rpc::model::requests::{
    ConnectRequest, DisconnectRequest, GetinfoRequest, ListpeerchannelsRequest, ListpeersLevel,
    ListpeersRequest, PingRequest, SendcustommsgRequest,
};
use cln_rpc::model::responses::ConnectDirection;
use cln_rpc::primitives::{ChannelState, PublicKey};
use cln_rpc::ClnRpc;
use lnpeer_tests::node::Node;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_requests_deserialize_every_response() {
    let l1 = Node::start(&[]);
    let l2 = Node::start(&[]);
    let l2_id = PublicKey::from_str(&l2.id).unwrap();
    let mut rpc = ClnRpc::new(l1.rpc_path()).await.unwrap();

    let info = rpc.call_typed(&GetinfoRequest {}).await.unwrap();
    assert_eq!(info.id.to_string(), l1.id);
    assert_eq!(info.network, "regtest");
    assert_eq!(info.num_peers, 0);
    assert_eq!(info.binding.unwrap()[0].port, Some(l1.port));
    assert!(!info.our_features.unwrap().init.is_empty());

    let connected = rpc
        .call_typed(&ConnectRequest {
            id: l2.id.clone(),
            host: Some("127.0.0.1".into()),
            port: Some(l2.port),
        })
        .await
        .unwrap();
    assert_eq!(connected.id, l2_id);
    assert!(matches!(connected.direction, ConnectDirection::OUT));
    assert_eq!(connected.address.port, Some(l2.port));

    let peers = rpc
        .call_typed(&ListpeersRequest {
            id: Some(l2_id),
            level: Some(ListpeersLevel::IO),
        })
        .await
        .unwrap();
    assert_eq!(peers.peers.len(), 1);
    assert!(peers.peers[0].connected);
    assert_eq!(peers.peers[0].num_channels, 0);
    assert!(!peers.peers[0].log.as_ref().unwrap().is_empty());

    let pong = rpc
        .call_typed(&PingRequest {
            id: l2_id,
            len: Some(10),
            pongbytes: Some(20),
        })
        .await
        .unwrap();
    assert_eq!(pong.totlen, 24);

    let sent = rpc
        .call_typed(&SendcustommsgRequest {
            node_id: l2_id,
            msg: "77770012".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        sent.status,
        "Message sent to subdaemon openingd for delivery"
    );
    l2.wait_for_log(&format!("{}-openingd: [IN] 77770012", l1.id));

    let refused = rpc
        .call_typed(&SendcustommsgRequest {
            node_id: l2_id,
            msg: "0012".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, Some(-32600));
    assert!(refused
        .message
        .starts_with("Cannot send messages of type 18 (WIRE_PING)."));

    // A simulated channel: listpeerchannels must fit cln-rpc's channel model too.
    l1.rpc("dev-open-channel", json!([l2.id]));
    let channels = rpc
        .call_typed(&ListpeerchannelsRequest {
            id: Some(l2_id),
            short_channel_id: None,
            channel_id: None,
        })
        .await
        .unwrap();
    assert_eq!(channels.channels.len(), 1);
    assert!(matches!(
        channels.channels[0].state,
        ChannelState::CHANNELD_NORMAL
    ));
    assert_eq!(channels.channels[0].owner.as_deref(), Some("channeld"));
    let refused = rpc
        .call_typed(&DisconnectRequest {
            id: l2_id,
            force: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code, Some(-1));
    rpc.call_typed(&DisconnectRequest {
        id: l2_id,
        force: Some(true),
    })
    .await
    .unwrap();
    let peers = rpc
        .call_typed(&ListpeersRequest {
            id: Some(l2_id),
            level: None,
        })
        .await
        .unwrap();
    // With a channel, the peer stays known while disconnected (and is redialled).
    assert_eq!(peers.peers.len(), 1);
}
