//! LDK 0.2.7 side of the benchmark: `lightning`'s `PeerManager` over `lightning-net-tokio` 0.2.0,
//! two or more of them in this process on 127.0.0.1, doing the same work as the lnpeer side.
//!
//! What is measured:
//! - [`handshakes`]: TCP connect, BOLT 8 handshake and `init` both ways, then disconnect, in a
//!   loop, by dialling `PeerManager`s (each its own node id) to one listening `PeerManager`.
//! - [`one_way`]: custom messages (odd type 32769) from A to B on one connection, from the
//!   first send until B's handler has received the last one.
//! - [`echo`]: round trips of one custom message that B's handler echoes, one at a time.
//!
//! How LDK is driven, and why:
//! - LDK sends only what `CustomMessageHandler::get_and_clear_pending_msg` returns when
//!   `process_events` runs, and custom messages are queued without any limit. So the sender
//!   keeps a window: it fills A's outbox up to `window` messages in flight (sent by A's handler,
//!   not yet received by B's handler), calls `process_events`, and sleeps on a `Notify` that B's
//!   handler signals every `window / 4` messages received. Nobody spins (on two cores a spinning
//!   thread takes the CPU LDK needs). The window bounds memory (LDK encrypts and queues all it
//!   is given at once), and traffic both ways must be bounded anyway: LDK stops reading a peer
//!   while 12 or more messages wait in its outbound queue, so two peers with deep queues can
//!   stall each other. The sweep test runs windows of 64 to 16384 to find LDK's best.
//! - lightning-net-tokio does not set `TCP_NODELAY`, and writes once per Lightning message, so
//!   Nagle's algorithm helps it with deep windows and delays small windows and round trips. Each
//!   function therefore takes sockets we connect and accept ourselves, with `TCP_NODELAY` as the
//!   caller asks, and hands them to `setup_outbound` / `setup_inbound`.
//! - Arrival is timestamped in B's (or, for echo, A's) handler, where LDK hands the message
//!   over, not when a waiting task gets around to looking.
//! - Every driving task runs on the runtime's two workers (the caller only blocks on it), so the
//!   benchmark adds no third busy thread. No logger output, no timer ticks (so no pings beyond
//!   the ones LDK adds itself after 32 messages), no channels (`ErroringMessageHandler`).
//!
//! Each call builds its own runtime and `PeerManager`s with fresh random keys, and drops them
//! (connections included) before returning.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::io;
use lightning::ln::msgs::{DecodeError, Init, LightningError};
use lightning::ln::peer_handler::{
    CustomMessageHandler, ErroringMessageHandler, IgnoringMessageHandler, MessageHandler,
    PeerManager,
};
use lightning::ln::wire::{CustomMessageReader, Type};
use lightning::sign::{KeysManager, NodeSigner, Recipient};
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::logger::{Logger, Record};
use lightning::util::ser::{LengthLimitedRead, Writeable, Writer};
use tokio::sync::Notify;

use crate::stats::{Latencies, Throughput};

/// The custom message type (odd, so a peer that does not know it ignores it).
const CUSTOM_TYPE: u16 = 32_769;
/// Bytes of the type field.
const TYPE_LEN: usize = 2;
/// Bytes of the sequence number that starts every payload.
const SEQ_LEN: usize = 8;
/// The largest Lightning message, type included.
const MAX_MESSAGE_LEN: usize = 65_535;
/// The sender is woken every `window / REFILL_FRACTION` messages received: often enough that
/// the window never runs dry, rarely enough that waking costs little next to the messages.
const REFILL_FRACTION: usize = 4;
/// Round trips run and thrown away before the echo samples (connection and caches warm).
const ECHO_WARM_UP: usize = 200;
/// No progress for this long means LDK (or this driver) is stuck: a bench bug, so panic.
const STALL: Duration = Duration::from_secs(30);
/// `TCP_NODELAY` for the handshake loop. LDK writes act three and `init` in two writes, which
/// Nagle could hold back; measured both ways (the sweep test) it makes no difference beyond
/// noise, and set it rules the delay out.
const HANDSHAKE_NODELAY: bool = true;

/// Full connect + BOLT 8 handshake + init exchange, then disconnect, repeated for `duration`,
/// by `connectors` dialling PeerManagers in parallel (each its own node id) to one listening
/// PeerManager. Returns completed handshakes per second (all connectors together).
pub(crate) fn handshakes(connectors: usize, duration: Duration) -> f64 {
    handshakes_with(connectors, duration, HANDSHAKE_NODELAY)
}

/// One connection A -> B; A sends `messages` custom messages of `message_len` bytes in all
/// (2-byte odd type 32769 + payload), keeping at most `window` messages in flight (sent by A's
/// handler but not yet received by B's handler), with TCP_NODELAY `nodelay` on both sockets.
/// Returns the Throughput from the first send until B has received the last one. Every message
/// is counted and checked to arrive in order.
pub(crate) fn one_way(
    message_len: usize,
    messages: u64,
    window: usize,
    nodelay: bool,
) -> Throughput {
    check_len(message_len);
    assert!(messages > 0, "one_way needs at least one message");
    assert!(window > 0, "one_way needs a window of at least one message");
    let runtime = crate::runtime();
    let sink = Arc::new(Sink::new(messages, window));
    let connected = Arc::new(Connected::default());
    let a = Node::new(Hooks {
        connected: connected.hook(),
        ..Hooks::quiet()
    });
    let b = Node::new(Hooks {
        connected: connected.hook(),
        ..sink.hooks()
    });

    let elapsed = runtime
        .block_on(runtime.spawn({
            let (a, b, sink) = (a.clone(), b.clone(), Arc::clone(&sink));
            async move {
                let address = listen(Arc::clone(&b.peers), nodelay).await;
                let _connection = dial(&a, b.id, address, nodelay).await;
                connected.both().await;
                send_windowed(&a, b.id, message_len, messages, window, &sink).await
            }
        }))
        .expect("the one-way task");

    let received = sink.received.load(Ordering::Acquire);
    assert_eq!(received, messages, "B received every message");
    assert!(
        sink.in_order.load(Ordering::Acquire),
        "B received them in order"
    );
    assert_eq!(
        sink.last_seq.load(Ordering::Acquire),
        messages - 1,
        "the last message B received is the last one sent"
    );
    a.peers.disconnect_all_peers();
    b.peers.disconnect_all_peers();
    drop(runtime);
    Throughput {
        messages: received,
        message_len,
        elapsed,
    }
}

/// Echo: A sends one `message_len`-byte custom message, B's handler echoes it back, A measures
/// the round trip; `samples` times, one at a time (after a short warm-up), TCP_NODELAY `nodelay`.
pub(crate) fn echo(message_len: usize, samples: usize, nodelay: bool) -> Latencies {
    check_len(message_len);
    let runtime = crate::runtime();
    let back = Arc::new(Arrival::default());
    let connected = Arc::new(Connected::default());
    let a = Node::new(Hooks {
        connected: connected.hook(),
        ..back.hooks()
    });
    let b = Node::new(Hooks {
        // The echo has the same length and sequence number; its filler is B's own copy.
        message: Box::new(|handler, from, message| handler.queue(from, [message])),
        connected: connected.hook(),
        ..Hooks::quiet()
    });

    let rounds = runtime
        .block_on(runtime.spawn({
            let (a, b) = (a.clone(), b.clone());
            async move {
                let address = listen(Arc::clone(&b.peers), nodelay).await;
                let _connection = dial(&a, b.id, address, nodelay).await;
                connected.both().await;
                let filler = filler();
                let mut rounds = Vec::with_capacity(samples);
                for seq in 0..(ECHO_WARM_UP + samples) as u64 {
                    let message = Numbered::new(seq, message_len, Arc::clone(&filler));
                    let start = Instant::now();
                    a.handler.queue(b.id, [message]);
                    a.peers.process_events();
                    wait(&back.wake, "the echo").await;
                    let (echoed, at) = back.take().expect("the echo's arrival");
                    assert_eq!(echoed, seq, "the echo of the message just sent");
                    if seq >= ECHO_WARM_UP as u64 {
                        rounds.push(at - start);
                    }
                }
                rounds
            }
        }))
        .expect("the echo task");

    a.peers.disconnect_all_peers();
    b.peers.disconnect_all_peers();
    drop(runtime);
    Latencies::new(rounds)
}

/// [`handshakes`] with `TCP_NODELAY` chosen.
fn handshakes_with(connectors: usize, duration: Duration, nodelay: bool) -> f64 {
    assert!(connectors > 0, "handshakes needs at least one connector");
    let runtime = crate::runtime();
    // The listener's `peer_connected` / `peer_disconnected` for each dialler's node id: the
    // dialler may only dial again once the listener has dropped it (LDK refuses a second
    // connection from a node id it still has).
    let signals: Arc<Mutex<HashMap<PublicKey, Arc<DialSignals>>>> = Arc::default();
    let listener = Node::new(DialSignals::listener_hooks(&signals));
    let diallers: Vec<(Node, Arc<DialSignals>)> = (0..connectors)
        .map(|_| {
            let own = Arc::new(DialSignals::default());
            let connected = Arc::clone(&own);
            let node = Node::new(Hooks {
                connected: Box::new(move |_| connected.dialler_connected.notify_one()),
                ..Hooks::quiet()
            });
            (node, own)
        })
        .collect();
    {
        let mut signals = signals.lock().expect("signals lock");
        for (node, own) in &diallers {
            signals.insert(node.id, Arc::clone(own));
        }
    }

    let (completed, elapsed) = runtime
        .block_on(runtime.spawn({
            let listener = listener.clone();
            let diallers = diallers.clone();
            async move {
                let address = listen(Arc::clone(&listener.peers), nodelay).await;
                let start = Instant::now();
                let deadline = start + duration;
                let loops: Vec<_> = diallers
                    .into_iter()
                    .map(|(node, own)| {
                        tokio::spawn(dial_loop(
                            node,
                            own,
                            listener.id,
                            address,
                            nodelay,
                            deadline,
                        ))
                    })
                    .collect();
                let mut completed = 0;
                for one in loops {
                    completed += one.await.expect("a dialler's loop");
                }
                (completed, start.elapsed())
            }
        }))
        .expect("the handshake task");

    listener.peers.disconnect_all_peers();
    drop(runtime);
    completed as f64 / elapsed.as_secs_f64()
}

/// One dialler: connect, wait until `init` went both ways, disconnect, wait until the
/// listener dropped us; until `deadline`. Returns the handshakes completed.
async fn dial_loop(
    node: Node,
    own: Arc<DialSignals>,
    listener_id: PublicKey,
    address: SocketAddr,
    nodelay: bool,
    deadline: Instant,
) -> u64 {
    let mut completed = 0;
    while Instant::now() < deadline {
        let connection = dial(&node, listener_id, address, nodelay).await;
        // `peer_connected` runs when a side has processed the other's `init`: both sides
        // then agree the connection is up.
        wait(&own.dialler_connected, "the dialler's init").await;
        wait(&own.listener_connected, "the listener's init").await;
        completed += 1;
        node.peers.disconnect_by_node_id(listener_id);
        wait(&own.listener_disconnected, "the listener's disconnect").await;
        // The dialler's read task ends once its socket is closed, which the listener has
        // just seen; so this returns at once and no tasks pile up.
        connection.await;
    }
    completed
}

/// Fills A's outbox up to `window` in flight and has LDK send it, until `messages` are sent;
/// returns the time from the first send until B's handler received the last one.
async fn send_windowed(
    a: &Node,
    to: PublicKey,
    message_len: usize,
    messages: u64,
    window: usize,
    sink: &Sink,
) -> Duration {
    let filler = filler();
    let window = window as u64;
    let mut sent = 0;
    let start = Instant::now();
    loop {
        let received = sink.received.load(Ordering::Acquire);
        if received == messages {
            break;
        }
        let room = (window - (sent - received)).min(messages - sent);
        if room > 0 {
            a.handler.queue(
                to,
                (sent..sent + room).map(|seq| Numbered::new(seq, message_len, Arc::clone(&filler))),
            );
            sent += room;
            a.peers.process_events();
        }
        // B signals every window / 4 received and at the last one; a signal sent while we
        // were busy is kept as a permit, so none is lost.
        wait(&sink.wake, "B's progress").await;
    }
    let done = sink
        .done
        .get()
        .expect("B's arrival time of the last message");
    *done - start
}

/// Panics on a message length the benchmark cannot carry.
fn check_len(message_len: usize) {
    assert!(
        (TYPE_LEN + SEQ_LEN..=MAX_MESSAGE_LEN).contains(&message_len),
        "message_len {message_len} outside {}..={MAX_MESSAGE_LEN}",
        TYPE_LEN + SEQ_LEN
    );
}

/// Waits for `notify`, or panics after [`STALL`] naming `what` did not happen.
async fn wait(notify: &Notify, what: &str) {
    if tokio::time::timeout(STALL, notify.notified())
        .await
        .is_err()
    {
        panic!("LDK stalled: no sign of {what} for {STALL:?}");
    }
}

/// Listens on an OS-chosen loopback port and hands every accepted socket (with `TCP_NODELAY`
/// as asked) to `peers`. The accept loop ends with the runtime.
async fn listen(peers: Arc<LdkPeers>, nodelay: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("the listener's address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream
                .set_nodelay(nodelay)
                .expect("TCP_NODELAY on an accepted socket");
            let stream = stream.into_std().expect("a std socket");
            // LDK spawns the connection's tasks itself; the returned future only says when
            // it is gone.
            drop(lightning_net_tokio::setup_inbound(
                Arc::clone(&peers),
                stream,
            ));
        }
    });
    address
}

/// Connects `node` to `their_id` at `address` (with `TCP_NODELAY` as asked) and hands the
/// socket to LDK, which starts the handshake. The future completes when the connection is gone.
async fn dial(
    node: &Node,
    their_id: PublicKey,
    address: SocketAddr,
    nodelay: bool,
) -> impl Future<Output = ()> {
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("a loopback connection");
    stream
        .set_nodelay(nodelay)
        .expect("TCP_NODELAY on a dialled socket");
    let stream = stream.into_std().expect("a std socket");
    lightning_net_tokio::setup_outbound(Arc::clone(&node.peers), their_id, stream)
}

/// 65,535 bytes of filler that every message's payload is cut from, so building a message
/// costs an `Arc` clone, not an allocation: what is measured is LDK, not the generator.
fn filler() -> Arc<[u8]> {
    (0..MAX_MESSAGE_LEN).map(|i| (i % 251) as u8).collect()
}

/// A benchmark message: the type, an 8-byte big-endian sequence number, then filler up to
/// `len` bytes in all.
#[derive(Clone)]
struct Numbered {
    seq: u64,
    len: usize,
    filler: Arc<[u8]>,
}

impl Numbered {
    fn new(seq: u64, len: usize, filler: Arc<[u8]>) -> Numbered {
        Numbered { seq, len, filler }
    }
}

// Short on purpose: LDK's trace logging takes `{:?}` of every message it queues.
impl fmt::Debug for Numbered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Numbered({}, {} bytes)", self.seq, self.len)
    }
}

impl Writeable for Numbered {
    fn write<W: Writer>(&self, writer: &mut W) -> Result<(), io::Error> {
        writer.write_all(&self.seq.to_be_bytes())?;
        writer.write_all(&self.filler[..self.len - TYPE_LEN - SEQ_LEN])
    }
}

impl Type for Numbered {
    fn type_id(&self) -> u16 {
        CUSTOM_TYPE
    }
}

/// What a node does when LDK hands its custom handler a message or a peer comes or goes.
struct Hooks {
    message: MessageHook,
    connected: PeerHook,
    disconnected: PeerHook,
}

impl Hooks {
    /// Ignores everything.
    fn quiet() -> Hooks {
        Hooks {
            message: Box::new(|_, _, _| {}),
            connected: Box::new(|_| {}),
            disconnected: Box::new(|_| {}),
        }
    }
}

/// LDK's custom message handler: an outbox LDK drains on `process_events`, and the hooks.
struct Handler {
    outbox: Mutex<Vec<(PublicKey, Numbered)>>,
    filler: Arc<[u8]>,
    hooks: Hooks,
}

impl Handler {
    fn queue(&self, to: PublicKey, messages: impl IntoIterator<Item = Numbered>) {
        let mut outbox = self.outbox.lock().expect("outbox lock");
        outbox.extend(messages.into_iter().map(|message| (to, message)));
    }
}

impl CustomMessageReader for Handler {
    type CustomMessage = Numbered;

    fn read<R: LengthLimitedRead>(
        &self,
        ty: u16,
        reader: &mut R,
    ) -> Result<Option<Numbered>, DecodeError> {
        if ty != CUSTOM_TYPE {
            return Ok(None);
        }
        let payload_len = reader.remaining_bytes() as usize;
        if payload_len < SEQ_LEN {
            return Err(DecodeError::ShortRead);
        }
        let mut seq = [0; SEQ_LEN];
        reader
            .read_exact(&mut seq)
            .map_err(|_| DecodeError::ShortRead)?;
        // The rest is read (as a consumer would) but not kept: only the sequence number is
        // checked, and an allocation per message would be the driver's cost, not LDK's.
        let mut chunk = [0; 4096];
        let mut left = payload_len - SEQ_LEN;
        while left > 0 {
            let take = left.min(chunk.len());
            reader
                .read_exact(&mut chunk[..take])
                .map_err(|_| DecodeError::ShortRead)?;
            left -= take;
        }
        Ok(Some(Numbered::new(
            u64::from_be_bytes(seq),
            TYPE_LEN + payload_len,
            Arc::clone(&self.filler),
        )))
    }
}

impl CustomMessageHandler for Handler {
    fn handle_custom_message(
        &self,
        message: Numbered,
        from: PublicKey,
    ) -> Result<(), LightningError> {
        (self.hooks.message)(self, from, message);
        Ok(())
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(PublicKey, Numbered)> {
        std::mem::take(&mut *self.outbox.lock().expect("outbox lock"))
    }

    fn peer_disconnected(&self, their_node_id: PublicKey) {
        (self.hooks.disconnected)(their_node_id);
    }

    fn peer_connected(&self, their_node_id: PublicKey, _: &Init, _: bool) -> Result<(), ()> {
        (self.hooks.connected)(their_node_id);
        Ok(())
    }

    fn provided_node_features(&self) -> NodeFeatures {
        NodeFeatures::empty()
    }

    fn provided_init_features(&self, _: PublicKey) -> InitFeatures {
        InitFeatures::empty()
    }
}

/// Drops every record: nothing is formatted or written while measuring.
struct NoLog;

impl Logger for NoLog {
    fn log(&self, _: Record) {}
}

type LdkPeers = PeerManager<
    lightning_net_tokio::SocketDescriptor,
    Arc<ErroringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<NoLog>,
    Arc<Handler>,
    Arc<KeysManager>,
    Arc<IgnoringMessageHandler>,
>;

/// One LDK node: its `PeerManager`, custom handler and node id.
#[derive(Clone)]
struct Node {
    peers: Arc<LdkPeers>,
    handler: Arc<Handler>,
    id: PublicKey,
}

impl Node {
    /// A node with fresh random keys and no channels.
    fn new(hooks: Hooks) -> Node {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("time after 1970");
        let keys = Arc::new(KeysManager::new(
            &crate::random_bytes(),
            now.as_secs(),
            now.subsec_nanos(),
            true,
        ));
        let id = keys.get_node_id(Recipient::Node).expect("LDK's node id");
        let handler = Arc::new(Handler {
            outbox: Mutex::default(),
            filler: filler(),
            hooks,
        });
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
            &crate::random_bytes(),
            Arc::new(NoLog),
            keys,
        ));
        Node { peers, handler, id }
    }
}

/// Called with the handler (to queue a reply), the sender and the message.
type MessageHook = Box<dyn Fn(&Handler, PublicKey, Numbered) + Send + Sync>;
/// Called with the peer's node id.
type PeerHook = Box<dyn Fn(PublicKey) + Send + Sync>;

/// Counts `peer_connected` on both ends of a connection.
#[derive(Default)]
struct Connected {
    count: AtomicU64,
    wake: Notify,
}

impl Connected {
    /// A `connected` hook that counts here.
    fn hook(self: &Arc<Self>) -> PeerHook {
        let this = Arc::clone(self);
        Box::new(move |_| {
            this.count.fetch_add(1, Ordering::AcqRel);
            this.wake.notify_one();
        })
    }

    /// Waits until both ends have processed the other's `init`.
    async fn both(&self) {
        while self.count.load(Ordering::Acquire) < 2 {
            wait(&self.wake, "init on both ends").await;
        }
    }
}

/// B's side of [`one_way`]: counts and checks what arrives, wakes the sender.
struct Sink {
    received: AtomicU64,
    last_seq: AtomicU64,
    in_order: AtomicBool,
    /// All messages: the last one is timestamped and always signalled.
    messages: u64,
    /// Signal the sender every this many messages.
    step: u64,
    wake: Notify,
    done: OnceLock<Instant>,
}

impl Sink {
    fn new(messages: u64, window: usize) -> Sink {
        Sink {
            received: AtomicU64::new(0),
            last_seq: AtomicU64::new(u64::MAX),
            in_order: AtomicBool::new(true),
            messages,
            step: (window / REFILL_FRACTION).max(1) as u64,
            wake: Notify::new(),
            done: OnceLock::new(),
        }
    }

    /// B's hooks: every message counted here.
    fn hooks(self: &Arc<Self>) -> Hooks {
        let this = Arc::clone(self);
        Hooks {
            message: Box::new(move |_, _, message| this.arrived(message.seq)),
            ..Hooks::quiet()
        }
    }

    fn arrived(&self, seq: u64) {
        // LDK hands over one connection's messages one at a time, in order, so the count
        // before this one is the sequence number expected.
        let before = self.received.load(Ordering::Acquire);
        if seq != before {
            self.in_order.store(false, Ordering::Release);
        }
        self.last_seq.store(seq, Ordering::Release);
        let received = before + 1;
        if received == self.messages {
            let _ = self.done.set(Instant::now());
        }
        // The count is published before the signal, so the woken sender sees it.
        self.received.store(received, Ordering::Release);
        if received == self.messages || received % self.step == 0 {
            self.wake.notify_one();
        }
    }
}

/// A's side of [`echo`]: when the echo arrived, and which it was.
#[derive(Default)]
struct Arrival {
    last: Mutex<Option<(u64, Instant)>>,
    wake: Notify,
}

impl Arrival {
    /// A's hooks: every message timestamped here.
    fn hooks(self: &Arc<Self>) -> Hooks {
        let this = Arc::clone(self);
        Hooks {
            message: Box::new(move |_, _, message| {
                let at = Instant::now();
                *this.last.lock().expect("arrival lock") = Some((message.seq, at));
                this.wake.notify_one();
            }),
            ..Hooks::quiet()
        }
    }

    fn take(&self) -> Option<(u64, Instant)> {
        self.last.lock().expect("arrival lock").take()
    }
}

/// One dialler's signals in [`handshakes`]: its own `peer_connected`, and the listener's
/// `peer_connected` and `peer_disconnected` for it.
#[derive(Default)]
struct DialSignals {
    dialler_connected: Notify,
    listener_connected: Notify,
    listener_disconnected: Notify,
}

impl DialSignals {
    /// The listener's hooks: signal the dialler the event concerns.
    fn listener_hooks(signals: &Arc<Mutex<HashMap<PublicKey, Arc<DialSignals>>>>) -> Hooks {
        let find = |signals: &Arc<Mutex<HashMap<PublicKey, Arc<DialSignals>>>>| {
            let signals = Arc::clone(signals);
            move |id: PublicKey| {
                signals
                    .lock()
                    .expect("signals lock")
                    .get(&id)
                    .cloned()
                    .expect("a dialler we know")
            }
        };
        let connected = find(signals);
        let disconnected = find(signals);
        Hooks {
            connected: Box::new(move |id| connected(id).listener_connected.notify_one()),
            disconnected: Box::new(move |id| disconnected(id).listener_disconnected.notify_one()),
            ..Hooks::quiet()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_way_delivers_every_message_in_order() {
        // Small and large messages, a window smaller than the run, Nagle on and off.
        for (len, messages, window, nodelay) in [
            (32, 3_000, 64, true),
            (1_024, 500, 7, false),
            (60_000, 40, 16, true),
        ] {
            let run = one_way(len, messages, window, nodelay);
            assert_eq!(run.messages, messages);
            assert_eq!(run.message_len, len);
            assert!(run.per_second() > 0.0, "{run:?}");
        }
    }

    #[test]
    fn one_way_with_a_window_larger_than_the_run() {
        let run = one_way(100, 50, 4_096, false);
        assert_eq!(run.messages, 50);
    }

    #[test]
    fn handshakes_complete() {
        for connectors in [1, 3] {
            let rate = handshakes(connectors, Duration::from_millis(300));
            assert!(rate > 0.0, "{connectors} connectors: {rate}");
        }
    }

    #[test]
    fn echo_returns_every_sample() {
        for nodelay in [true, false] {
            let latencies = echo(32, 50, nodelay);
            assert_eq!(latencies.len(), 50);
            assert!(latencies.p50() > Duration::ZERO);
        }
    }

    /// [`one_way`] with at most `messages`, fewer where LDK is slow: with Nagle on and a small
    /// window it waits for delayed ACKs and manages only a few thousand messages a second, so a
    /// probe sizes the run to a few seconds.
    fn sized_one_way(len: usize, messages: u64, window: usize, nodelay: bool) -> Throughput {
        let probe = one_way(len, (messages / 200).max(100), window, nodelay);
        let affordable = (probe.per_second() * 4.0) as u64;
        one_way(len, messages.min(affordable.max(1_000)), window, nodelay)
    }

    /// The release sweep: `cargo test --release -p lnpeer-bench ldk -- --nocapture --ignored`.
    #[test]
    #[ignore = "a benchmark sweep of a few minutes; run in release"]
    fn ldk_sweep() {
        for (len, messages) in [(32, 1_000_000), (1_024, 400_000), (60_000, 20_000)] {
            for nodelay in [true, false] {
                for window in [64, 256, 1_024, 4_096, 16_384] {
                    let run = sized_one_way(len, messages, window, nodelay);
                    println!(
                        "one_way {len:>6} B  window {window:>6}  nodelay {nodelay:<5}  \
                         {:>9.0} msgs/s  {:>7.1} MB/s  ({} in {:.2} s)",
                        run.per_second(),
                        run.megabytes_per_second(),
                        run.messages,
                        run.elapsed.as_secs_f64()
                    );
                }
            }
        }
        for connectors in [1, 8] {
            for nodelay in [true, false] {
                let rate = handshakes_with(connectors, Duration::from_secs(3), nodelay);
                println!(
                    "handshakes  {connectors} connectors  nodelay {nodelay:<5}  {rate:>7.0} /s"
                );
            }
        }
        for nodelay in [true, false] {
            let latencies = echo(32, 10_000, nodelay);
            println!(
                "echo 32 B  nodelay {nodelay:<5}  p50 {:.1} us  p99 {:.1} us  ({} samples)",
                crate::stats::micros(latencies.p50()),
                crate::stats::micros(latencies.p99()),
                latencies.len()
            );
        }
    }
}
