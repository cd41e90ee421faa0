//! WebSocket peers: a client that speaks BOLT 8 inside binary WebSocket messages, cut at
#![allow(clippy::unwrap_used, missing_docs)]
//! arbitrary places, gets the same peer layer as a TCP peer.

use futures_util::{SinkExt, StreamExt};
use noise_transport::{Decryptor, Encryptor, InitiatorHandshake, PublicKey};
use peer_manager::testing::*;
use peer_manager::{PeerManager, PeerManagerConfig};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;
use wire::{decode_message, ChainHash, Message as Wire};

async fn websocket_node(byte: u8) -> PeerManager {
    let mut config: PeerManagerConfig = config(byte);
    config.websocket_listen = vec!["127.0.0.1:0".parse().unwrap()];
    PeerManager::start(config).await.unwrap()
}

/// A client on the node's WebSocket listener, sending each write in `pieces` messages.
struct WsPeer {
    ws: WebSocketStream<TcpStream>,
    encryptor: Encryptor,
    decryptor: Decryptor,
    pieces: usize,
}

async fn send_bytes(ws: &mut WebSocketStream<TcpStream>, bytes: &[u8], pieces: usize) {
    let size = bytes.len().div_ceil(pieces.max(1)).max(1);
    for piece in bytes.chunks(size) {
        ws.send(Message::Binary(Bytes::copy_from_slice(piece)))
            .await
            .unwrap();
    }
}

/// Reads binary messages until `want` bytes have arrived.
async fn recv_bytes(ws: &mut WebSocketStream<TcpStream>, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Binary(data))) => got.extend_from_slice(&data),
            Some(Ok(_)) => {}
            other => panic!("websocket ended: {other:?}"),
        }
    }
    got
}

impl WsPeer {
    async fn connect(byte: u8, to: &PeerManager, pieces: usize) -> WsPeer {
        let address = to.websocket_addrs()[0];
        let tcp = TcpStream::connect(address).await.unwrap();
        let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{address}/any/path"), tcp)
            .await
            .unwrap();
        let (handshake, act_one) = InitiatorHandshake::new(&key(byte), &to.node_id());
        send_bytes(&mut ws, &act_one, pieces).await;
        let act_two: [u8; 50] = recv_bytes(&mut ws, 50).await.try_into().unwrap();
        let (act_three, transport) = handshake.read_act_two(&act_two).unwrap();
        send_bytes(&mut ws, &act_three, pieces).await;
        let (encryptor, decryptor) = transport.split();
        let mut peer = WsPeer {
            ws,
            encryptor,
            decryptor,
            pieces,
        };
        let their_init = peer.recv().await;
        assert!(matches!(decode_message(&their_init), Ok(Wire::Init(_))));
        peer.send(&init_with(&PEER_FEATURES, ChainHash::REGTEST))
            .await;
        peer
    }

    async fn send(&mut self, message: &[u8]) {
        let mut out = Vec::new();
        self.encryptor.encrypt_into(message, &mut out).unwrap();
        send_bytes(&mut self.ws, &out, self.pieces).await;
    }

    async fn recv(&mut self) -> Vec<u8> {
        loop {
            if let Some(message) = self.decryptor.next_message().unwrap() {
                return message.to_vec();
            }
            match tokio::time::timeout(WAIT, self.ws.next()).await.unwrap() {
                Some(Ok(Message::Binary(data))) => self.decryptor.push(&data),
                Some(Ok(_)) => {}
                other => panic!("websocket ended: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn a_websocket_peer_gets_the_same_peer_layer_as_tcp() {
    let (node, mut node_inbox) = {
        let node = websocket_node(2).await;
        let inbox = inbox(&node);
        (node, inbox)
    };
    let mut events = node.subscribe();
    // Every write cut into three messages: boundaries must not matter.
    let mut peer = WsPeer::connect(1, &node, 3).await;
    let id = PublicKey::from_secret_key_global(&key(1));
    connected(&mut events, id).await;
    assert!(node.peer(&id).and_then(|p| p.connection).is_some());

    // A custom message in, and one out.
    peer.send(&[0xaa, 0xab, 1, 2, 3]).await;
    assert_eq!(
        custom_from(&mut node_inbox, id).await,
        [0xaa, 0xab, 1, 2, 3]
    );
    node.send_custom(&id, &[0x77, 0x77, 0, 0x12]).unwrap();
    let mut message = peer.recv().await;
    while message[..2] == [0, 18] {
        message = peer.recv().await;
    }
    assert_eq!(message, [0x77, 0x77, 0, 0x12]);

    // A ping is answered with exactly the bytes asked for.
    peer.send(&[0, 18, 0, 3, 0, 0]).await;
    let mut pong = peer.recv().await;
    while pong[..2] == [0, 18] {
        pong = peer.recv().await;
    }
    assert_eq!(pong, [0, 19, 0, 3, 0, 0, 0]);

    // Text messages carry nothing; the connection goes on.
    peer.ws.send(Message::text("hello")).await.unwrap();
    peer.send(&[0xaa, 0xad]).await;
    assert_eq!(custom_from(&mut node_inbox, id).await, [0xaa, 0xad]);

    // A largest-size message, and the node closing the connection closes the websocket.
    let largest: Vec<u8> = [&[0xaa, 0xaf][..], &vec![7; 65533]].concat();
    peer.send(&largest).await;
    assert_eq!(custom_from(&mut node_inbox, id).await, largest);
    assert!(node.disconnect(&id));
    disconnected(&mut events, id).await;
    let closed = tokio::time::timeout(WAIT, async {
        loop {
            match peer.ws.next().await {
                Some(Ok(Message::Binary(_))) => {}
                _ => return,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the websocket stays open after the peer was closed"
    );
    node.shutdown().await;
}

#[tokio::test]
async fn a_plain_http_request_is_refused_and_the_listener_goes_on() {
    let node = websocket_node(2).await;
    let address = node.websocket_addrs()[0];
    let mut plain = TcpStream::connect(address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, plain.read_to_end(&mut answer)).await;
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "HTTP/1.1 400 I only speak websocket\r\n\r\nUpgrade: websocket missing"
    );
    // A real client still gets in.
    let peer = WsPeer::connect(1, &node, 1).await;
    drop(peer);
    node.shutdown().await;
}
