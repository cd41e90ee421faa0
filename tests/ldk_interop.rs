//! LDK as an independent peer of a real lnpeerd: `lightning` 0.2.7's `PeerManager` over
//! `lightning-net-tokio` 0.2.0, in this process, with a custom message handler and no channels
//! (`ErroringMessageHandler`, as `../shared/reference/peers.md` §6.8 stands one up).
//!
//! Each direction of dialling is checked: `init` accepted by both sides, pings answered by both,
//! custom messages both ways (RPC `sendcustommsg` arriving at LDK's handler, LDK's message
//! arriving at lnpeerd's `custommsg` hook with LDK's node id), thousands of messages each way on
//! one connection across several BOLT 8 key rotations, the largest message both ways, and the
//! `error` messages each side sends the other.
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::io;
use lightning::ln::msgs::{DecodeError, ErrorAction, ErrorMessage, Init, LightningError};
use lightning::ln::peer_handler::{
    CustomMessageHandler, ErroringMessageHandler, IgnoringMessageHandler, MessageHandler,
    PeerManager,
};
use lightning::ln::types::ChannelId;
use lightning::ln::wire::{CustomMessageReader, Type};
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::logger::{Logger, Record};
use lightning::util::ser::{LengthLimitedRead, Writeable, Writer};
use lnpeer_tests::node::{wait_until, Node};
use lnpeer_tests::plugins::{wait_for_plugins, Wrappers};
use serde_json::json;

/// The custom message type both sides use (odd, so a peer that does not know it ignores it).
const CUSTOM_TYPE: u16 = 0x8001;
/// A custom type LDK's handler answers with an `error` for all channels, as a peer does when our
/// side breaks its custom protocol.
const PROTOCOL_VIOLATION_TYPE: u16 = 0x8003;
/// What LDK's handler puts in that `error`.
const PROTOCOL_VIOLATION_TEXT: &str = "custom protocol violation";
/// The largest Lightning message: type and payload in 65535 bytes.
const MAX_MESSAGE: usize = 65_535;
/// Messages sent each way in the long run: BOLT 8 rotates keys every 500 messages (1000 nonces,
/// two per message), so this crosses five rotations in each direction.
const MANY: u32 = 2_500;

/// A custom message as LDK's handler reads and writes it: the type, then the payload.
#[derive(Debug, Clone)]
struct Custom {
    ty: u16,
    payload: Vec<u8>,
}

impl Writeable for Custom {
    fn write<W: Writer>(&self, writer: &mut W) -> Result<(), io::Error> {
        writer.write_all(&self.payload)
    }
}

impl Type for Custom {
    fn type_id(&self) -> u16 {
        self.ty
    }
}

/// LDK's custom message handler: queues what the test wants sent, records what arrives.
#[derive(Default)]
struct Handler {
    outbox: Mutex<Vec<(PublicKey, Custom)>>,
    inbox: Mutex<Vec<(PublicKey, Custom)>>,
}

impl CustomMessageReader for Handler {
    type CustomMessage = Custom;

    fn read<R: LengthLimitedRead>(
        &self,
        ty: u16,
        reader: &mut R,
    ) -> Result<Option<Custom>, DecodeError> {
        // The custom range only; anything else is "unknown" to LDK (odd ignored, even fatal).
        if ty < 32_768 {
            return Ok(None);
        }
        let mut payload = vec![0; reader.remaining_bytes() as usize];
        reader
            .read_exact(&mut payload)
            .map_err(|_| DecodeError::ShortRead)?;
        Ok(Some(Custom { ty, payload }))
    }
}

impl CustomMessageHandler for Handler {
    fn handle_custom_message(
        &self,
        message: Custom,
        from: PublicKey,
    ) -> Result<(), LightningError> {
        let violation = message.ty == PROTOCOL_VIOLATION_TYPE;
        self.inbox.lock().expect("inbox lock").push((from, message));
        if violation {
            return Err(LightningError {
                err: PROTOCOL_VIOLATION_TEXT.to_owned(),
                action: ErrorAction::SendErrorMessage {
                    msg: ErrorMessage {
                        channel_id: ChannelId([0; 32]),
                        data: PROTOCOL_VIOLATION_TEXT.to_owned(),
                    },
                },
            });
        }
        Ok(())
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(PublicKey, Custom)> {
        std::mem::take(&mut *self.outbox.lock().expect("outbox lock"))
    }

    fn peer_disconnected(&self, _: PublicKey) {}

    fn peer_connected(&self, _: PublicKey, _: &Init, _: bool) -> Result<(), ()> {
        Ok(())
    }

    fn provided_node_features(&self) -> NodeFeatures {
        NodeFeatures::empty()
    }

    fn provided_init_features(&self, _: PublicKey) -> InitFeatures {
        InitFeatures::empty()
    }
}

/// LDK's log lines (with the peer they concern), kept to assert on what LDK saw.
#[derive(Default)]
struct LogLines(Mutex<Vec<String>>);

impl Logger for LogLines {
    fn log(&self, record: Record) {
        let peer = record.peer_id.map(|id| id.to_string()).unwrap_or_default();
        let line = format!("{peer} {}", record.args);
        self.0.lock().expect("log lock").push(line);
    }
}

impl LogLines {
    fn contains(&self, needle: &str) -> bool {
        self.count(needle) > 0
    }

    fn count(&self, needle: &str) -> usize {
        let lines = self.0.lock().expect("log lock");
        lines.iter().filter(|line| line.contains(needle)).count()
    }
}

type LdkPeerManager = PeerManager<
    lightning_net_tokio::SocketDescriptor,
    Arc<ErroringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<LogLines>,
    Arc<Handler>,
    Arc<KeysManager>,
    Arc<IgnoringMessageHandler>,
>;

/// An LDK node listening on 127.0.0.1, with its own runtime (dropped with it, which stops its
/// listener and connections).
struct Ldk {
    runtime: tokio::runtime::Runtime,
    peers: Arc<LdkPeerManager>,
    handler: Arc<Handler>,
    log: Arc<LogLines>,
    id: PublicKey,
    address: SocketAddr,
}

impl Ldk {
    fn start() -> Ldk {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time after 1970");
        let seed: [u8; 32] = rand_bytes();
        let keys = Arc::new(KeysManager::new(
            &seed,
            now.as_secs(),
            now.subsec_nanos(),
            true,
        ));
        let id = keys.get_node_id(Recipient::Node).expect("LDK's node id");
        let handler = Arc::new(Handler::default());
        let log = Arc::new(LogLines::default());
        let handlers = MessageHandler {
            chan_handler: Arc::new(ErroringMessageHandler::new()),
            route_handler: Arc::new(IgnoringMessageHandler {}),
            onion_message_handler: Arc::new(IgnoringMessageHandler {}),
            custom_message_handler: Arc::clone(&handler),
            send_only_message_handler: Arc::new(IgnoringMessageHandler {}),
        };
        let peers = Arc::new(PeerManager::new(
            handlers,
            u32::try_from(now.as_secs()).expect("a 32-bit timestamp"),
            &rand_bytes(),
            Arc::clone(&log),
            keys,
        ));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("LDK binds a port");
        let address = listener.local_addr().expect("the listener's address");
        let accepting = Arc::clone(&peers);
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let Ok(stream) = stream.into_std() else {
                    continue;
                };
                tokio::spawn(lightning_net_tokio::setup_inbound(
                    Arc::clone(&accepting),
                    stream,
                ));
            }
        });
        Ldk {
            runtime,
            peers,
            handler,
            log,
            id,
            address,
        }
    }

    /// `id@127.0.0.1:port`, as lnpeerd's `connect` takes it.
    fn uri(&self) -> String {
        format!("{}@{}", self.id, self.address)
    }

    /// Dials `node` and waits until both `init`s are exchanged.
    fn dial(&self, node: &Node) {
        let their_id = node_id(node);
        let address: SocketAddr = ([127, 0, 0, 1], node.port).into();
        let connected = self.runtime.block_on(lightning_net_tokio::connect_outbound(
            Arc::clone(&self.peers),
            their_id,
            address,
        ));
        assert!(
            connected.is_some(),
            "LDK could not reach lnpeerd at {address}"
        );
        wait_until(|| self.peers.peer_by_node_id(&their_id).is_some());
        // LDK lists the peer once lnpeerd's `init` has arrived; lnpeerd lists LDK once LDK's
        // has, which on a busy machine can be a moment later.
        let ours = self.id.to_string();
        wait_until(|| node.rpc("listpeers", json!([ours]))["peers"][0]["connected"] == true);
    }

    /// Queues `messages` for `to` and has LDK send them now.
    fn send(&self, to: &Node, messages: impl IntoIterator<Item = Custom>) {
        let to = node_id(to);
        self.handler
            .outbox
            .lock()
            .expect("outbox lock")
            .extend(messages.into_iter().map(|message| (to, message)));
        self.peers.process_events();
    }

    /// The custom messages LDK received so far, with their sender.
    fn received(&self) -> Vec<(PublicKey, Custom)> {
        self.handler.inbox.lock().expect("inbox lock").clone()
    }
}

/// 32 random bytes from the kernel (LDK's seed and ephemeral-key entropy).
fn rand_bytes() -> [u8; 32] {
    use std::io::Read;
    let mut bytes = [0; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .expect("/dev/urandom");
    bytes
}

fn node_id(node: &Node) -> PublicKey {
    node.id.parse().expect("lnpeerd's node id")
}

/// lnpeerd running the `custommsg_a.py` hook plugin, which logs
/// `Got custommessage_a <payload> from peer <id>` for every custom message.
fn lnpeerd(wrappers: &Wrappers) -> Node {
    let node = Node::start(&[&wrappers.plugin("custommsg_a.py")]);
    wait_for_plugins(&node, &["custommsg_a.py"]);
    node
}

/// A custom message of `len` bytes in all (type included) carrying `seq` first.
fn numbered(seq: u32, len: usize) -> Custom {
    let mut payload = seq.to_be_bytes().to_vec();
    payload.resize(len - 2, (seq % 251) as u8);
    Custom {
        ty: CUSTOM_TYPE,
        payload,
    }
}

/// The message as hex, type first: what `sendcustommsg` takes, the io log and the hook show.
fn wire_hex(message: &Custom) -> String {
    format!("{:04x}{}", message.ty, hex::encode(&message.payload))
}

/// lnpeerd sends `message` to LDK over RPC.
fn sendcustommsg(node: &Node, ldk: &Ldk, message: &Custom) {
    let reply = node.rpc(
        "sendcustommsg",
        json!([ldk.id.to_string(), wire_hex(message)]),
    );
    assert_eq!(
        reply["status"],
        "Message sent to subdaemon openingd for delivery"
    );
}

/// The payloads lnpeerd's `custommsg_a.py` hook logged for messages from `from`, in order.
fn hooked_from(node: &Node, from: &Ldk) -> Vec<String> {
    let suffix = format!(" from peer {}", from.id);
    node.log()
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("Got custommessage_a ")?;
            rest.strip_suffix(&suffix).map(str::to_owned)
        })
        .collect()
}

/// Checks a connected lnpeerd and LDK on every small exchange: init seen both ways, pings
/// answered both ways, a custom message each way with the right sender, and channel messages.
fn exercise(node: &Node, ldk: &Ldk) {
    // Both inits were accepted: LDK lists lnpeerd with the features lnpeerd sent, and lnpeerd
    // lists LDK as connected with LDK's features.
    let details = ldk
        .peers
        .peer_by_node_id(&node_id(node))
        .expect("LDK lists lnpeerd");
    assert!(
        details.init_features.supports_variable_length_onion(),
        "lnpeerd's init offers var_onion_optin: {:?}",
        details.init_features
    );
    let listed = node.rpc("listpeers", json!([ldk.id.to_string()]));
    let peer = &listed["peers"][0];
    assert_eq!(peer["connected"], true, "{listed}");
    assert!(
        peer["features"].as_str().is_some_and(|f| !f.is_empty()),
        "{listed}"
    );

    // lnpeerd pings LDK: CLN's `totlen` is the pong's length, type and length prefix included.
    let pong = node.rpc(
        "ping",
        json!({"id": ldk.id.to_string(), "len": 200, "pongbytes": 100}),
    );
    assert_eq!(pong["totlen"], 104, "{pong}");
    // LDK pings lnpeerd on its timer (64 ignored bytes, asking for an empty pong).
    let pongs = ldk.log.count("Received message Pong");
    ldk.peers.timer_tick_occurred();
    wait_until(|| ldk.log.count("Received message Pong") > pongs);

    // lnpeerd -> LDK over RPC, arriving from lnpeerd's node id.
    let before = ldk.received().len();
    let to_ldk = numbered(1, 40);
    sendcustommsg(node, ldk, &to_ldk);
    wait_until(|| ldk.received().len() > before);
    let (from, got) = ldk.received().remove(before);
    assert_eq!(from, node_id(node));
    assert_eq!((got.ty, &got.payload), (to_ldk.ty, &to_ldk.payload));

    // LDK -> lnpeerd's custommsg hook, with LDK's node id and the whole message as payload.
    let to_node = numbered(2, 40);
    ldk.send(node, [to_node.clone()]);
    node.wait_for_log(&format!(
        "Got custommessage_a {} from peer {}",
        wire_hex(&to_node),
        ldk.id
    ));

    // A channel message from LDK (open_channel: chain hash, then the temporary channel id) is
    // answered with an `error` for that channel, which LDK accepts without hanging up.
    let temporary_channel_id = [0x77; 32];
    let mut open_channel = vec![0; 32];
    open_channel.extend_from_slice(&temporary_channel_id);
    open_channel.resize(300, 0);
    ldk.send(
        node,
        [Custom {
            ty: 32,
            payload: open_channel,
        }],
    );
    wait_until(|| ldk.log.contains("Got Err message from"));
    assert!(ldk.log.contains("lnpeer does not support channels"));
    let after_error = numbered(3, 40);
    sendcustommsg(node, ldk, &after_error);
    wait_until(|| ldk.received().len() > before + 1);
    assert_eq!(ldk.received()[before + 1].1.payload, after_error.payload);
}

#[test]
fn ldk_dials_lnpeerd() {
    let wrappers = Wrappers::new();
    let node = lnpeerd(&wrappers);
    let ldk = Ldk::start();
    ldk.dial(&node);
    node.wait_for_log(&format!("{}-connectd: Connected (incoming)", ldk.id));
    exercise(&node, &ldk);
}

#[test]
fn lnpeerd_dials_ldk() {
    let wrappers = Wrappers::new();
    let node = lnpeerd(&wrappers);
    let ldk = Ldk::start();
    let connected = node.rpc("connect", json!([ldk.uri()]));
    assert_eq!(connected["id"], ldk.id.to_string(), "{connected}");
    assert_eq!(connected["direction"], "out", "{connected}");
    wait_until(|| ldk.peers.peer_by_node_id(&node_id(&node)).is_some());
    exercise(&node, &ldk);
}

/// Thousands of messages each way on one connection, crossing key rotation in both
/// directions, each checked in order; then the largest message each way.
#[test]
fn thousands_of_messages_and_the_largest_both_ways() {
    let wrappers = Wrappers::new();
    let node = lnpeerd(&wrappers);
    let ldk = Ldk::start();
    ldk.dial(&node);

    // Sizes vary so the frames straddle TCP reads differently.
    let size = |seq: u32| 6 + (seq as usize * 37) % 300;
    let to_node: Vec<Custom> = (0..MANY).map(|seq| numbered(seq, size(seq))).collect();
    ldk.send(&node, to_node.iter().cloned());
    for seq in 0..MANY {
        sendcustommsg(&node, &ldk, &numbered(seq, size(seq)));
    }

    wait_until(|| ldk.received().len() == MANY as usize);
    for (index, (from, got)) in ldk.received().iter().enumerate() {
        let sent = numbered(index as u32, size(index as u32));
        assert_eq!(*from, node_id(&node));
        assert_eq!(
            (got.ty, &got.payload),
            (sent.ty, &sent.payload),
            "message {index}"
        );
    }
    let expected: Vec<String> = to_node.iter().map(wire_hex).collect();
    wait_until(|| hooked_from(&node, &ldk).len() >= expected.len());
    assert_eq!(
        hooked_from(&node, &ldk),
        expected,
        "LDK's messages at lnpeerd's hook"
    );
    // The io log shows them in the same order (after LDK's init, which is logged too).
    let marker = format!("{}-openingd: [IN] {CUSTOM_TYPE:04x}", ldk.id);
    let logged: Vec<String> = node
        .log()
        .lines()
        .filter_map(|line| {
            line.split_once(&marker)
                .map(|(_, payload)| format!("{CUSTOM_TYPE:04x}{payload}"))
        })
        .collect();
    assert_eq!(logged, expected, "LDK's messages in lnpeerd's io log");

    // 65535 bytes, type included, each way.
    let largest = numbered(u32::MAX, MAX_MESSAGE);
    sendcustommsg(&node, &ldk, &largest);
    wait_until(|| ldk.received().len() == MANY as usize + 1);
    let (_, got) = ldk.received().pop().expect("the largest message");
    assert_eq!(got.payload.len() + 2, MAX_MESSAGE);
    assert_eq!(got.payload, largest.payload);

    ldk.send(&node, [largest.clone()]);
    wait_until(|| hooked_from(&node, &ldk).len() == expected.len() + 1);
    assert_eq!(hooked_from(&node, &ldk).last(), Some(&wire_hex(&largest)));
}

/// An `error` from LDK (here for all channels, as LDK sends when a handler rejects a message)
/// makes lnpeerd log it in CLN's form and close the connection; lnpeerd serves LDK again after.
#[test]
fn an_error_from_ldk_closes_the_connection() {
    let wrappers = Wrappers::new();
    let node = lnpeerd(&wrappers);
    let ldk = Ldk::start();
    ldk.dial(&node);

    let violation = Custom {
        ty: PROTOCOL_VIOLATION_TYPE,
        payload: b"not what LDK expects".to_vec(),
    };
    sendcustommsg(&node, &ldk, &violation);
    node.wait_for_log(&format!(
        "{}-connectd: Received WIRE_ERROR: ERROR: {PROTOCOL_VIOLATION_TEXT}",
        ldk.id
    ));
    wait_until(|| {
        node.rpc("listpeers", json!([ldk.id.to_string()]))["peers"]
            .as_array()
            .is_some_and(Vec::is_empty)
    });
    wait_until(|| ldk.peers.peer_by_node_id(&node_id(&node)).is_none());

    ldk.dial(&node);
    exercise(&node, &ldk);
}
