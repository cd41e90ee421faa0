//! Test support, behind the `test-support` feature: peer managers on loopback, waiting for
//! their events, and a scripted raw BOLT 8 peer. Shared by this crate's tests and the RPC
//! crate's, so the scripted peer exists once.
//!
//! Everything here panics on failure (with a message), as test helpers should.
#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Duration;

use node_config::DialAddress;
use noise_transport::{Decryptor, Encryptor, InitiatorHandshake, PublicKey, SecretKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use wire::{decode_message, ChainHash, Encode, Features, Init, Message, TlvStream};

use crate::{CustomMessageSink, PeerEvent, PeerManager, PeerManagerConfig};

/// Long enough for a loaded CI machine, short enough to fail fast.
pub const WAIT: Duration = Duration::from_secs(10);

/// The features our scripted peers offer (the node's own defaults).
pub const PEER_FEATURES: [usize; 5] = [1, 9, 13, 15, 45];

/// A fixed secret key `[byte; 32]`.
pub fn key(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).unwrap()
}

/// The node id of [`key`]`(byte)`.
pub fn node_id(byte: u8) -> PublicKey {
    PublicKey::from_secret_key_global(&key(byte))
}

/// A regtest peer manager listening on 127.0.0.1, port 0.
pub fn config(byte: u8) -> PeerManagerConfig {
    let mut config = PeerManagerConfig::new(key(byte), ChainHash::REGTEST, 19846);
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    config
}

/// [`config`]`(byte)` offering `option_onion_messages` (bit 39), as lnpeerd does.
pub fn onion_config(byte: u8) -> PeerManagerConfig {
    let mut config = config(byte);
    config
        .features
        .set(wire::feature_bits::OPTION_ONION_MESSAGES + 1);
    config
}

/// A started [`config`]`(byte)`.
pub async fn node(byte: u8) -> PeerManager {
    PeerManager::start(config(byte)).await.unwrap()
}

/// Every custom message a node receives, from any peer, in arrival order per peer: a
/// [`CustomMessageSink`] feeding one channel that the test reads.
pub struct Inbox(mpsc::UnboundedReceiver<(PublicKey, Vec<u8>)>);

struct InboxSink(mpsc::UnboundedSender<(PublicKey, Vec<u8>)>);

impl CustomMessageSink for InboxSink {
    fn open(&self, id: PublicKey) -> mpsc::Sender<Vec<u8>> {
        let (sender, mut queue) = mpsc::channel(64);
        let inbox = self.0.clone();
        tokio::spawn(async move {
            while let Some(message) = queue.recv().await {
                if inbox.send((id, message)).is_err() {
                    return;
                }
            }
        });
        sender
    }
}

/// Gives `node`'s custom messages to the returned [`Inbox`].
pub fn inbox(node: &PeerManager) -> Inbox {
    let (sender, receiver) = mpsc::unbounded_channel();
    assert!(node.set_custom_sink(std::sync::Arc::new(InboxSink(sender))));
    Inbox(receiver)
}

/// A started [`config`]`(byte)` whose custom messages go to an [`Inbox`].
pub async fn node_with_inbox(byte: u8) -> (PeerManager, Inbox) {
    let node = node(byte).await;
    let inbox = inbox(&node);
    (node, inbox)
}

/// Where `node` listens.
pub fn addr(node: &PeerManager) -> SocketAddr {
    node.listen_addrs()[0]
}

/// Dials `to` from `from`.
pub async fn connect(from: &PeerManager, to: &PeerManager) {
    from.connect(to.node_id(), &dial_address(addr(to)))
        .await
        .unwrap();
}

/// `address` as a dial address.
pub fn dial_address(address: SocketAddr) -> DialAddress {
    DialAddress::new(address.ip().to_string(), Some(address.port()))
}

/// Waits for the first event that `pick` accepts.
pub async fn next_event<T>(
    events: &mut broadcast::Receiver<PeerEvent>,
    mut pick: impl FnMut(PeerEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Some(found) = pick(events.recv().await.unwrap()) {
                return found;
            }
        }
    })
    .await
    .expect("event did not arrive in time")
}

/// The next custom message from `from` (messages from other peers are skipped).
pub async fn custom_from(inbox: &mut Inbox, from: PublicKey) -> Vec<u8> {
    tokio::time::timeout(WAIT, async {
        loop {
            match inbox.0.recv().await {
                Some((id, message)) if id == from => return message,
                Some(_) => {}
                None => panic!("the node's inbox closed"),
            }
        }
    })
    .await
    .expect("custom message did not arrive in time")
}

/// Waits until `who` disconnects, and returns why.
pub async fn disconnected(events: &mut broadcast::Receiver<PeerEvent>, who: PublicKey) -> String {
    next_event(events, |event| match event {
        PeerEvent::Disconnected { id, reason } if id == who => Some(reason),
        _ => None,
    })
    .await
}

/// Waits until `who` connects.
pub async fn connected(events: &mut broadcast::Receiver<PeerEvent>, who: PublicKey) {
    next_event(events, |event| match event {
        PeerEvent::Connected { id, .. } if id == who => Some(()),
        _ => None,
    })
    .await
}

/// An `init` with `features` and one network.
pub fn init_with(features: &[usize], chain: ChainHash) -> Vec<u8> {
    Message::Init(Init {
        global_features: Features::new(),
        features: features.iter().copied().collect::<Features>(),
        networks: Some(vec![chain]),
        remote_addr: None,
        unknown_tlvs: TlvStream::new(),
    })
    .to_bytes()
}

/// A peer we script byte by byte: it does the BOLT 8 handshake and then sends and reads
/// whatever the test says (in particular, it answers no ping unless told to).
pub struct RawPeer {
    pub stream: TcpStream,
    pub encryptor: Encryptor,
    pub decryptor: Decryptor,
}

impl RawPeer {
    /// Handshake only.
    pub async fn handshake(secret: &SecretKey, to: &PeerManager) -> RawPeer {
        let mut stream = TcpStream::connect(addr(to)).await.unwrap();
        let (handshake, act_one) = InitiatorHandshake::new(secret, &to.node_id());
        stream.write_all(&act_one).await.unwrap();
        let mut act_two = [0u8; 50];
        tokio::time::timeout(WAIT, stream.read_exact(&mut act_two))
            .await
            .expect("act two did not arrive")
            .unwrap();
        let (act_three, transport) = handshake.read_act_two(&act_two).unwrap();
        stream.write_all(&act_three).await.unwrap();
        let (encryptor, decryptor) = transport.split();
        RawPeer {
            stream,
            encryptor,
            decryptor,
        }
    }

    /// Handshake and a good `init` both ways.
    pub async fn connect(secret: &SecretKey, to: &PeerManager) -> RawPeer {
        let mut peer = RawPeer::handshake(secret, to).await;
        peer.send(&init_with(&PEER_FEATURES, ChainHash::REGTEST))
            .await;
        let their_init = peer.recv().await.expect("the node sends init");
        assert!(matches!(decode_message(&their_init), Ok(Message::Init(_))));
        peer
    }

    /// Encrypts and writes one message.
    pub async fn send(&mut self, message: &[u8]) {
        let mut out = Vec::new();
        self.encryptor.encrypt_into(message, &mut out).unwrap();
        self.stream.write_all(&out).await.unwrap();
    }

    /// The next message, or None when the node closed the connection.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(message) = self.decryptor.next_message().unwrap() {
                    return Some(message.to_vec());
                }
                let n = self.stream.read(self.decryptor.read_buffer()).await.ok()?;
                if n == 0 {
                    return None;
                }
                self.decryptor.commit(n);
            }
        })
        .await
        .expect("nothing arrived in time")
    }

    /// The next message that is not a ping (the node may ping us at any time).
    pub async fn recv_skipping_pings(&mut self) -> Option<Vec<u8>> {
        loop {
            let message = self.recv().await?;
            if message[..2] != [0, 18] {
                return Some(message);
            }
        }
    }

    /// The next ping that asks for `pong_bytes` (keepalive pings ask for 1).
    pub async fn ping_asking_for(&mut self, pong_bytes: u16) -> Vec<u8> {
        loop {
            let message = self.recv().await.expect("connection closed");
            if message[..2] == [0, 18] && message[2..4] == pong_bytes.to_be_bytes() {
                return message;
            }
        }
    }
}
