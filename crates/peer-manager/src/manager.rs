//! The peer manager: listener, dialer, per-connection reader and writer tasks, and the
//! registry of known peers.
//!
//! Rules it follows:
//! - **One connection per node id; the newest wins.** When a peer we are connected to connects
//!   again (or we dial it again and it answers), the old connection is closed and the new one
//!   kept, as Core Lightning does: a peer that restarted must not wait for our keepalive to
//!   notice its old connection is dead. `connect` to a peer that is already connected returns
//!   the existing connection without dialing, so two nodes rarely race each other.
//! - **Nothing awaits under the registry lock**, and sending never awaits (see [`Outbox`]).
//! - A disconnected peer with channels stays known and is redialled with backoff; one without
//!   channels is forgotten.
//! - **Strangers are bounded** (see [`PeerManagerConfig`] for the numbers): inbound
//!   connections still in their handshake or `init` are capped, the oldest giving way to a
//!   newcomer; each of those phases has its own deadline; inbound peers without a channel are
//!   capped once their `init` is in; and each peer's reader stays under a byte rate.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasher;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;
use noise_transport::{
    Act, Decryptor, Encryptor, HandshakeError, InitiatorHandshake, PublicKey, ResponderHandshake,
    StaticKey, Transport, ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN,
};
use subdaemon_state::{
    ChannelDbId, ChannelState, Owner, PeerInput, PeerState, SendRefused, Transition,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;
use wire::{
    decode_message, Encode, Features, Init, KnownFeatures, Message, MsgType, NetAddress, Ping,
    TlvStream,
};

use crate::config::PeerManagerConfig;
use crate::error::{ConnectError, PeerError, PingError, SendCustomError};
use crate::outbox::{deferring_flushes, Class, Outbox};
use crate::protocol::{self, Action, InboundRateLimiter, Keepalive, KeepaliveAction, PingLimiter};

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 4096;

/// How long a closing connection may take to flush its last messages (a warning) to a peer.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);

/// Which side opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The peer dialed us.
    Inbound,
    /// We dialed the peer.
    Outbound,
}

/// Something that happened to a peer, for the RPC and plugin layers.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A connection finished `init` and is ready.
    Connected {
        /// The peer.
        id: PublicKey,
        /// Who dialed.
        direction: Direction,
        /// The peer's socket address.
        address: SocketAddr,
    },
    /// The connection ended.
    Disconnected {
        /// The peer.
        id: PublicKey,
        /// Why, for logs.
        reason: String,
    },
    /// A custom (or otherwise unhandled odd) message arrived.
    CustomMessage {
        /// The peer.
        id: PublicKey,
        /// Type and payload.
        message: Vec<u8>,
    },
}

/// A live connection, as callers see it.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The peer.
    pub id: PublicKey,
    /// Who dialed.
    pub direction: Direction,
    /// The peer's socket address.
    pub address: SocketAddr,
    /// The peer's `init` features (global and local combined).
    pub features: Features,
    /// The address the peer says it sees us at (`init`'s `remote_addr`), if it sent one.
    pub remote_addr: Option<NetAddress>,
}

/// Where custom messages go, in order and without loss: each connection's reader asks for a
/// queue before its first custom message and waits for room in it, so a slow consumer slows
/// down only the peer that feeds it (TCP backpressure), never another peer.
///
/// Without a sink (see [`PeerManager::set_custom_sink`]), custom messages are published as
/// [`PeerEvent::CustomMessage`] on the event broadcast, where a lagging subscriber misses some.
pub trait CustomMessageSink: Send + Sync + 'static {
    /// A queue for the custom messages (type and payload) of one connection of `id`. It is
    /// dropped when that connection ends.
    fn open(&self, id: PublicKey) -> mpsc::Sender<Vec<u8>>;
}

/// Receives custom messages on each connection's reader task, as they are decrypted: the
/// message is a slice of the read buffer, with no copy, queue or task switch on the way.
///
/// `handle` must return quickly and must not block: the peer's connection is not read while
/// it runs. What it sends with [`PeerManager::send_custom`] (to this peer or any other) is
/// written when the reader has handled everything it read, in one write per connection, so a
/// request answered here goes back with no task switch. Consumers that need to wait, or
/// backpressure, use a [`CustomMessageSink`] instead. A panic in `handle` is caught and ends
/// that peer's connection only.
pub trait CustomMessageHandler: Send + Sync {
    /// One custom message (type and payload) from `from`.
    fn handle(&self, from: &PublicKey, message: &[u8]);
}

/// A known peer, as callers see it.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// The peer.
    pub id: PublicKey,
    /// Its connection, if connected.
    pub connection: Option<ConnectionInfo>,
    /// The subdaemon that owns it, if any.
    pub owner: Option<Owner>,
    /// Its channels.
    pub channels: Vec<(ChannelDbId, ChannelState)>,
    /// The address we reach it at, if we ever dialed it.
    pub address: Option<String>,
    /// The prefix of its log lines (`openingd`, `channeld-chan#1`).
    pub log_prefix: String,
}

struct Connection {
    id: u64,
    info: ConnectionInfo,
    outbox: Outbox,
    closer: watch::Sender<bool>,
    /// Where the reader hands the next `pong` for a `ping` command.
    pong_waiter: PongWaiter,
}

/// At most one user `ping` awaits its `pong` per connection; the reader completes it with the
/// pong's length (type and length fields included, as CLN's `totlen`).
type PongWaiter = Arc<Mutex<Option<oneshot::Sender<usize>>>>;

#[derive(Default)]
struct PeerEntry {
    state: PeerState,
    connection: Option<Connection>,
    address: Option<String>,
    redialing: bool,
}

struct Inner {
    config: PeerManagerConfig,
    node_id: PublicKey,
    /// Our node key with its public half derived once, for every handshake.
    static_key: StaticKey,
    known: KnownFeatures,
    registry: DashMap<PublicKey, PeerEntry>,
    events: broadcast::Sender<PeerEvent>,
    shutdown: watch::Sender<bool>,
    /// Every task holds a clone; `shutdown` drops ours and waits for the channel to close.
    task_guard: Mutex<Option<mpsc::Sender<()>>>,
    tasks_done: tokio::sync::Mutex<mpsc::Receiver<()>>,
    next_connection: AtomicU64,
    listen_addrs: Vec<SocketAddr>,
    allowed_even: RwLock<HashSet<u16>>,
    custom_sink: std::sync::OnceLock<Arc<dyn CustomMessageSink>>,
    custom_handler: std::sync::OnceLock<Arc<dyn CustomMessageHandler>>,
    /// Inbound connections between accept and the peer's `init` (see
    /// [`PeerManagerConfig::max_pending_handshakes`]).
    pending_handshakes: Mutex<PendingHandshakes>,
    /// Registry entries with an inbound connection and no channel, plus admissions in
    /// progress (see [`NoChannelSlot`]). Kept exact by every change to an entry's connection
    /// or channels, so admitting a peer never scans the registry.
    inbound_without_channel: AtomicUsize,
}

/// The inbound connections still in their handshake or `init`, by arrival (the oldest has the
/// lowest ticket). Dropping a connection's sender tells its task to close it.
#[derive(Default)]
struct PendingHandshakes {
    next_ticket: u64,
    closers: BTreeMap<u64, oneshot::Sender<()>>,
}

/// One inbound connection's place among the pending handshakes; dropping it (the connection
/// got through `init`, failed, timed out or was closed) gives the place back.
struct PendingHandshake {
    inner: Arc<Inner>,
    ticket: u64,
}

impl PendingHandshake {
    /// Takes a place for a connection just accepted, closing the oldest pending connections
    /// beyond the limit. The receiver resolves when this connection is the one evicted.
    fn admit(inner: &Arc<Inner>) -> (PendingHandshake, oneshot::Receiver<()>) {
        let (closer, evicted) = oneshot::channel();
        // A limit of 0 would evict every connection on arrival.
        let limit = inner.config.limits.max_pending_handshakes.max(1);
        let mut pending = inner
            .pending_handshakes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let ticket = pending.next_ticket;
        pending.next_ticket += 1;
        pending.closers.insert(ticket, closer);
        while pending.closers.len() > limit {
            // Dropping the sender resolves the oldest connection's receiver.
            pending.closers.pop_first();
        }
        drop(pending);
        let place = PendingHandshake {
            inner: inner.clone(),
            ticket,
        };
        (place, evicted)
    }
}

impl Drop for PendingHandshake {
    fn drop(&mut self) {
        self.inner
            .pending_handshakes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closers
            .remove(&self.ticket);
    }
}

/// A place held in [`Inner::inbound_without_channel`] while an inbound peer without a channel
/// is being registered, so that two peers admitted at once cannot both take the last place.
/// [`register`] counts the registered entry itself; dropping the slot then gives the hold back.
struct NoChannelSlot {
    inner: Arc<Inner>,
}

/// What [`NoChannelSlot::admit`] decided about a connection.
enum NoChannelAdmission {
    /// The cap does not apply: an outbound connection, a peer with a channel, a reconnect.
    Exempt,
    /// A place was free and is held until the peer is registered.
    Admitted(NoChannelSlot),
    /// The node has as many inbound peers without a channel as it takes.
    Full,
}

impl NoChannelSlot {
    /// Applies [`PeerManagerConfig::max_inbound_peers_without_channel`] to `established`.
    fn admit(inner: &Arc<Inner>, established: &Established) -> NoChannelAdmission {
        if established.direction == Direction::Outbound {
            return NoChannelAdmission::Exempt;
        }
        let exempt = inner
            .registry
            .get(&established.id)
            .is_some_and(|entry| entry.connection.is_some() || has_channel(&entry));
        if exempt {
            return NoChannelAdmission::Exempt;
        }
        let limit = inner.config.limits.max_inbound_peers_without_channel;
        let reserved = inner.inbound_without_channel.fetch_update(
            Ordering::AcqRel,
            Ordering::Acquire,
            |count| (count < limit).then_some(count + 1),
        );
        match reserved {
            Ok(_) => NoChannelAdmission::Admitted(NoChannelSlot {
                inner: inner.clone(),
            }),
            Err(_) => NoChannelAdmission::Full,
        }
    }
}

impl Drop for NoChannelSlot {
    fn drop(&mut self) {
        self.inner
            .inbound_without_channel
            .fetch_sub(1, Ordering::AcqRel);
    }
}

fn has_channel(entry: &PeerEntry) -> bool {
    entry.state.channels().next().is_some()
}

/// Whether `entry` counts toward [`PeerManagerConfig::max_inbound_peers_without_channel`].
fn counts_without_channel(entry: &PeerEntry) -> bool {
    entry
        .connection
        .as_ref()
        .is_some_and(|connection| connection.info.direction == Direction::Inbound)
        && !has_channel(entry)
}

/// Keeps [`Inner::inbound_without_channel`] exact after an entry changed from counting
/// (`before`) to counting (`after`); called under the entry's lock.
fn recount_without_channel(inner: &Inner, before: bool, after: bool) {
    match (before, after) {
        (false, true) => {
            inner.inbound_without_channel.fetch_add(1, Ordering::AcqRel);
        }
        (true, false) => {
            inner.inbound_without_channel.fetch_sub(1, Ordering::AcqRel);
        }
        _ => {}
    }
}

/// The peer manager; cheap to clone.
#[derive(Clone)]
pub struct PeerManager {
    inner: Arc<Inner>,
}

impl PeerManager {
    /// Binds every listen address and starts accepting connections.
    ///
    /// # Errors
    /// A listen address cannot be bound.
    pub async fn start(config: PeerManagerConfig) -> io::Result<PeerManager> {
        let mut listeners = Vec::new();
        let mut listen_addrs = Vec::new();
        for addr in &config.listen {
            let listener = TcpListener::bind(addr).await?;
            listen_addrs.push(listener.local_addr()?);
            listeners.push(listener);
        }
        let (task_guard, tasks_done) = mpsc::channel(1);
        let inner = Arc::new(Inner {
            node_id: PublicKey::from_secret_key_global(&config.node_secret),
            static_key: StaticKey::new(&config.node_secret),
            known: protocol::known_features(&config.features),
            config,
            registry: DashMap::new(),
            events: broadcast::channel(EVENT_BUFFER).0,
            shutdown: watch::channel(false).0,
            task_guard: Mutex::new(Some(task_guard)),
            tasks_done: tokio::sync::Mutex::new(tasks_done),
            next_connection: AtomicU64::new(1),
            listen_addrs,
            allowed_even: RwLock::new(HashSet::new()),
            custom_sink: std::sync::OnceLock::new(),
            custom_handler: std::sync::OnceLock::new(),
            pending_handshakes: Mutex::new(PendingHandshakes::default()),
            inbound_without_channel: AtomicUsize::new(0),
        });
        for listener in listeners {
            spawn_tracked(&inner, accept_loop(inner.clone(), listener));
        }
        Ok(PeerManager { inner })
    }

    /// Our node id.
    pub fn node_id(&self) -> PublicKey {
        self.inner.node_id
    }

    /// The addresses we listen on, with the ports actually bound.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.inner.listen_addrs
    }

    /// The features we offer in `init`.
    pub fn our_features(&self) -> &Features {
        &self.inner.config.features
    }

    /// Peer events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PeerEvent> {
        self.inner.events.subscribe()
    }

    /// Even message types (outside the BOLTs) that peers may send us and we may send, because
    /// a plugin declared them.
    pub fn set_allowed_even_types(&self, types: impl IntoIterator<Item = u16>) {
        let mut allowed = self
            .inner
            .allowed_even
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *allowed = types.into_iter().collect();
    }

    /// Connects to `id` at `host:port` (IPv4, IPv6 or a host name), or returns the existing
    /// connection if there is one.
    ///
    /// # Errors
    /// Resolution, TCP, handshake or `init` failed, or the deadline passed.
    pub async fn connect(
        &self,
        id: PublicKey,
        host: &str,
        port: u16,
    ) -> Result<ConnectionInfo, ConnectError> {
        connect(&self.inner, id, host, port).await
    }

    /// Closes the connection to `id`; false if it was not connected.
    pub fn disconnect(&self, id: &PublicKey) -> bool {
        match self.inner.registry.get(id) {
            Some(entry) => match &entry.connection {
                Some(connection) => {
                    connection.closer.send_replace(true);
                    true
                }
                None => false,
            },
            None => false,
        }
    }

    /// A known peer.
    pub fn peer(&self, id: &PublicKey) -> Option<PeerInfo> {
        self.inner
            .registry
            .get(id)
            .map(|entry| peer_info(*entry.key(), &entry))
    }

    /// Every known peer.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.inner
            .registry
            .iter()
            .map(|entry| peer_info(*entry.key(), &entry))
            .collect()
    }

    /// Queues a custom message for `id` through its owner, without waiting: checks, in CLN's
    /// order, that the peer is known, connected and owned by a subdaemon that talks to it.
    ///
    /// # Errors
    /// The peer is unknown, refused by its state, or its queue is full.
    ///
    /// Called from a [`CustomMessageHandler`], the message is written when the reader has
    /// handled its batch; otherwise the connection's writer task writes it, together with
    /// whatever else was sent meanwhile.
    pub fn send_custom(&self, id: &PublicKey, message: &[u8]) -> Result<Owner, SendCustomError> {
        self.with_custom_gate(id, |owner, outbox, state| {
            outbox.try_send(message).map_err(SendCustomError::Queue)?;
            log_io_as(state, id, "OUT", message);
            Ok(owner)
        })
    }

    /// Queues a custom message like [`PeerManager::send_custom`], but waits for room in the
    /// peer's queue instead of failing when it is full: for embedders that produce traffic
    /// faster than a peer takes it and want backpressure rather than an error.
    ///
    /// # Errors
    /// The peer is unknown or refused by its state, the message is larger than the whole
    /// queue, or the connection closed while waiting.
    pub async fn send_custom_waiting(
        &self,
        id: &PublicKey,
        message: &[u8],
    ) -> Result<Owner, SendCustomError> {
        let (owner, outbox) =
            self.with_custom_gate(id, |owner, outbox, _| Ok((owner, outbox.clone())))?;
        outbox
            .send_waiting(message)
            .await
            .map_err(SendCustomError::Queue)?;
        log_io(&self.inner, id, "OUT", message);
        Ok(owner)
    }

    /// Delivers custom messages to `sink` from now on, with backpressure (see
    /// [`CustomMessageSink`]). Set once; later calls are ignored and return false.
    pub fn set_custom_sink(&self, sink: Arc<dyn CustomMessageSink>) -> bool {
        self.inner.custom_sink.set(sink).is_ok()
    }

    /// Hands custom messages to `handler` on each connection's reader task from now on (see
    /// [`CustomMessageHandler`]); it takes precedence over a sink. Set once; later calls are
    /// ignored and return false.
    pub fn set_custom_handler(&self, handler: Arc<dyn CustomMessageHandler>) -> bool {
        self.inner.custom_handler.set(handler).is_ok()
    }

    /// The checks of [`PeerManager::send_custom`] without sending (the RPC `check` command).
    ///
    /// # Errors
    /// The peer is unknown or refused by its state.
    pub fn check_custom(&self, id: &PublicKey) -> Result<Owner, SendCustomError> {
        self.with_custom_gate(id, |owner, _, _| Ok(owner))
    }

    fn with_custom_gate<T>(
        &self,
        id: &PublicKey,
        then: impl FnOnce(Owner, &Outbox, &PeerState) -> Result<T, SendCustomError>,
    ) -> Result<T, SendCustomError> {
        let entry = self
            .inner
            .registry
            .get(id)
            .ok_or(SendCustomError::NoSuchPeer)?;
        let owner = entry
            .state
            .custom_send_gate()
            .map_err(SendCustomError::Refused)?;
        let connection = entry
            .connection
            .as_ref()
            .ok_or(SendCustomError::Refused(SendRefused::NotConnected))?;
        then(owner, &connection.outbox, &entry.state)
    }

    /// Whether a plugin has allowed the even type `ty` (see
    /// [`PeerManager::set_allowed_even_types`]).
    pub fn is_allowed_even_type(&self, ty: u16) -> bool {
        self.inner
            .allowed_even
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&ty)
    }

    /// Sends `ping` with `len` bytes of padding asking for `pong_bytes` back, and waits for the
    /// `pong`: returns its length including type and length fields (CLN's `totlen`), or 0 at
    /// once when `pong_bytes` is above [`wire::MAX_PONG_BYTES`], since no pong will come.
    ///
    /// # Errors
    /// The peer is not connected, a ping is already pending, the queue is full, or the
    /// connection closed before the pong arrived.
    pub async fn ping(
        &self,
        id: &PublicKey,
        len: u16,
        pong_bytes: u16,
    ) -> Result<usize, PingError> {
        let message = Message::Ping(Ping {
            num_pong_bytes: pong_bytes,
            ignored: vec![0; usize::from(len)],
            tlvs: TlvStream::new(),
        })
        .to_bytes();
        let expects_pong = pong_bytes <= wire::MAX_PONG_BYTES;
        let pong = {
            let entry = self.inner.registry.get(id).ok_or(PingError::NotConnected)?;
            let connection = entry.connection.as_ref().ok_or(PingError::NotConnected)?;
            let pong = if expects_pong {
                let mut slot = connection
                    .pong_waiter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if slot.as_ref().is_some_and(|waiter| !waiter.is_closed()) {
                    return Err(PingError::AlreadyPending);
                }
                let (sender, receiver) = oneshot::channel();
                *slot = Some(sender);
                Some(receiver)
            } else {
                None
            };
            if let Err(error) = connection.outbox.send(&message, Class::Control) {
                connection
                    .pong_waiter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                return Err(PingError::Queue(error));
            }
            log_io_as(&entry.state, id, "OUT", &message);
            pong
        };
        match pong {
            Some(pong) => pong.await.map_err(|_| PingError::Disconnected),
            None => Ok(0),
        }
    }

    /// Applies a lifecycle event to a known peer (the `dev-` commands and the store use this).
    ///
    /// # Errors
    /// The peer is unknown, or the transition is impossible in its state.
    pub fn apply(&self, id: &PublicKey, input: PeerInput) -> Result<Transition, PeerError> {
        let mut entry = self
            .inner
            .registry
            .get_mut(id)
            .ok_or(PeerError::NoSuchPeer)?;
        let counted_before = counts_without_channel(&entry);
        let transition = entry.state.handle(input).map_err(PeerError::Invalid)?;
        // A channel opened or forgotten moves a connected inbound peer out of or into the cap.
        recount_without_channel(&self.inner, counted_before, counts_without_channel(&entry));
        if transition.forget {
            drop(entry);
            self.inner.registry.remove(id);
        }
        Ok(transition)
    }

    /// Adds a peer remembered from the store: disconnected, with its channels; it is redialled
    /// if it has channels and an address.
    pub fn restore_peer(
        &self,
        id: PublicKey,
        address: Option<String>,
        channels: impl IntoIterator<Item = (ChannelDbId, ChannelState)>,
    ) {
        let state = PeerState::restore(channels);
        if state.is_forgettable() {
            return;
        }
        let replaced = self.inner.registry.insert(
            id,
            PeerEntry {
                state,
                connection: None,
                address,
                redialing: false,
            },
        );
        let counted_before = replaced.as_ref().is_some_and(counts_without_channel);
        recount_without_channel(&self.inner, counted_before, false);
        spawn_redial(&self.inner, id);
    }

    /// How many inbound peers without a channel are connected (what
    /// [`PeerManagerConfig::max_inbound_peers_without_channel`] caps), counting any being
    /// admitted at this moment.
    pub fn inbound_peers_without_channel(&self) -> usize {
        self.inner.inbound_without_channel.load(Ordering::Acquire)
    }

    /// Stops listening, closes every connection and waits for all tasks to end.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        for entry in self.inner.registry.iter() {
            if let Some(connection) = &entry.connection {
                connection.closer.send_replace(true);
            }
        }
        drop(
            self.inner
                .task_guard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let mut done = self.inner.tasks_done.lock().await;
        while done.recv().await.is_some() {}
    }
}

fn peer_info(id: PublicKey, entry: &PeerEntry) -> PeerInfo {
    PeerInfo {
        id,
        connection: entry.connection.as_ref().map(|c| c.info.clone()),
        owner: entry.state.owner(),
        channels: entry.state.channels().collect(),
        address: entry.address.clone(),
        log_prefix: entry.state.log_prefix(),
    }
}

/// Resolves once `flag` is true (at once if it already is).
async fn stopped(flag: &mut watch::Receiver<bool>) {
    // A closed sender means its owner is gone: that is a stop too.
    let _ = flag.wait_for(|stop| *stop).await;
}

/// Spawns a task that holds a completion guard; does nothing once shutdown has begun.
fn spawn_tracked<F>(inner: &Arc<Inner>, task: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let guard = inner
        .task_guard
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(guard) = guard {
        tokio::spawn(async move {
            task.await;
            drop(guard);
        });
    }
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    let mut shutdown = inner.shutdown.subscribe();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, address)) => {
                    // Taken here, in accept order, so "oldest" is the first one accepted.
                    let (pending, evicted) = PendingHandshake::admit(&inner);
                    spawn_tracked(&inner, accept(inner.clone(), stream, address, pending, evicted));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(error) => {
                    tracing::warn!(subsystem = "connectd", "accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}

/// One inbound connection: handshake and `init` while it holds a pending place (given up to
/// a newer connection if it is the oldest when the limit is reached), then the no-channel cap,
/// then the registry.
async fn accept(
    inner: Arc<Inner>,
    stream: TcpStream,
    address: SocketAddr,
    pending: PendingHandshake,
    mut evicted: oneshot::Receiver<()>,
) {
    let mut shutdown = inner.shutdown.subscribe();
    // Dropping `establish` drops the socket, which closes the connection.
    let established = tokio::select! {
        established = establish(&inner, stream, None) => established,
        _ = &mut evicted => {
            tracing::debug!(subsystem = "connectd", "Incoming connection from {address} closed: it was the oldest of {} still in their handshake", inner.config.limits.max_pending_handshakes.max(1));
            return;
        }
        _ = stopped(&mut shutdown) => return,
    };
    drop(pending);
    let established = match established {
        Ok(established) => established,
        Err(failure) => {
            tracing::debug!(
                subsystem = "connectd",
                "Incoming connection from {address} failed: {failure}"
            );
            return;
        }
    };
    match NoChannelSlot::admit(&inner, &established) {
        NoChannelAdmission::Exempt => {
            register(&inner, established, None);
        }
        NoChannelAdmission::Admitted(slot) => {
            register(&inner, established, None);
            // Held until the registered entry counts itself.
            drop(slot);
        }
        NoChannelAdmission::Full => {
            let limit = inner.config.limits.max_inbound_peers_without_channel;
            let text = format!("Too many peers without channels (limit {limit}): try again later");
            tracing::debug!(node_id = %established.id, subsystem = "connectd", "Refusing incoming connection from {address}: {text}");
            let Established {
                id,
                mut stream,
                mut encryptor,
                ..
            } = established;
            warn_and_close(&inner, id, &mut stream, &mut encryptor, &text).await;
        }
    }
}

/// Sends `warning` with `text` on a connection that has no writer task yet, giving the peer
/// [`FLUSH_ON_CLOSE`] to take it, then closes our side.
async fn warn_and_close(
    inner: &Inner,
    id: PublicKey,
    stream: &mut TcpStream,
    encryptor: &mut Encryptor,
    text: &str,
) {
    let warning = protocol::warning(text);
    log_io(inner, &id, "OUT", &warning);
    let mut out = Vec::new();
    if encryptor.encrypt_into(&warning, &mut out).is_ok() {
        let _ = tokio::time::timeout(FLUSH_ON_CLOSE, async {
            stream.write_all(&out).await?;
            stream.shutdown().await
        })
        .await;
    }
}

async fn connect(
    inner: &Arc<Inner>,
    id: PublicKey,
    host: &str,
    port: u16,
) -> Result<ConnectionInfo, ConnectError> {
    if let Some(info) = inner
        .registry
        .get(&id)
        .and_then(|e| e.connection.as_ref().map(|c| c.info.clone()))
    {
        return Ok(info);
    }
    // Only resolving and the TCP connect run under the dial deadline; `establish` has its own.
    let deadline = inner.config.dial_timeout;
    let dial = async {
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ConnectError::Resolve(e.to_string()))?
            .collect();
        let mut last_error = ConnectError::Resolve(format!("{host} has no addresses"));
        for address in addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => return Ok(stream),
                Err(error) => last_error = ConnectError::Io(format!("{address}: {error}")),
            }
        }
        Err(last_error)
    };
    let stream = tokio::time::timeout(deadline, dial).await.map_err(|_| {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Dialing {host}:{port} timed out after {deadline:?}");
        ConnectError::Timeout(deadline)
    })??;
    let established = establish(inner, stream, Some(id)).await.map_err(|failure| {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Outgoing connection to {host}:{port} failed: {failure}");
        failure.error
    })?;
    let dialed = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(register(inner, established, Some(dialed)))
}

/// The phase of [`establish`] a connection failed in, for logs.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// From TCP established to act three (deadline: `handshake_timeout`).
    Handshake,
    /// From act three to the peer's `init` (deadline: `init_timeout`), and its checks.
    Init,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Handshake => "in the handshake",
            Stage::Init => "waiting for init",
        })
    }
}

/// Why [`establish`] failed, and in which phase.
struct EstablishError {
    stage: Stage,
    error: ConnectError,
}

/// The error as logged: a timeout names the phase whose deadline passed; other errors say
/// enough by themselves (and their text is what tests and log watchers match).
impl std::fmt::Display for EstablishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            ConnectError::Timeout(after) => write!(f, "timed out {} after {after:?}", self.stage),
            error => write!(f, "{error}"),
        }
    }
}

struct Established {
    id: PublicKey,
    stream: TcpStream,
    encryptor: Encryptor,
    decryptor: Decryptor,
    direction: Direction,
    address: SocketAddr,
    features: Features,
    remote_addr: Option<NetAddress>,
}

async fn read_act<const N: usize>(
    stream: &mut TcpStream,
    act: Act,
) -> Result<[u8; N], ConnectError> {
    let mut buf = [0u8; N];
    let mut received = 0;
    while received < N {
        match stream.read(&mut buf[received..]).await {
            Ok(0) => {
                return Err(ConnectError::Handshake(HandshakeError::Truncated {
                    act,
                    received,
                }))
            }
            Ok(n) => received += n,
            Err(error) => return Err(ConnectError::Io(error.to_string())),
        }
    }
    Ok(buf)
}

/// BOLT 8 handshake within `handshake_timeout`, then both `init`s within `init_timeout`: ours
/// goes out at once, then we wait for theirs.
async fn establish(
    inner: &Arc<Inner>,
    mut stream: TcpStream,
    dial: Option<PublicKey>,
) -> Result<Established, EstablishError> {
    let in_stage = |stage: Stage| move |error: ConnectError| EstablishError { stage, error };
    let io = |e: io::Error| ConnectError::Io(e.to_string());
    let address = stream
        .peer_addr()
        .map_err(io)
        .map_err(in_stage(Stage::Handshake))?;
    // Our writer coalesces frames itself; Nagle would only add latency.
    stream
        .set_nodelay(true)
        .map_err(io)
        .map_err(in_stage(Stage::Handshake))?;
    let handshake_timeout = inner.config.limits.handshake_timeout;
    let (transport, act_three) =
        tokio::time::timeout(handshake_timeout, handshake(inner, &mut stream, dial))
            .await
            .unwrap_or(Err(ConnectError::Timeout(handshake_timeout)))
            .map_err(in_stage(Stage::Handshake))?;
    let id = *transport.remote_static();
    let direction = if dial.is_some() {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let (mut encryptor, mut decryptor) = transport.split();

    let init_timeout = inner.config.limits.init_timeout;
    let exchange = exchange_init(
        inner,
        id,
        &mut stream,
        &mut encryptor,
        &mut decryptor,
        act_three,
        (direction == Direction::Inbound).then_some(address),
    );
    let init = tokio::time::timeout(init_timeout, exchange)
        .await
        .unwrap_or(Err(ConnectError::Timeout(init_timeout)))
        .map_err(in_stage(Stage::Init))?;
    if let Err(rejection) = protocol::check_remote_init(&init, inner.config.chain, &inner.known) {
        warn_and_close(
            inner,
            id,
            &mut stream,
            &mut encryptor,
            &rejection.to_string(),
        )
        .await;
        return Err(in_stage(Stage::Init)(ConnectError::InitRejected(rejection)));
    }
    Ok(Established {
        id,
        stream,
        encryptor,
        decryptor,
        direction,
        address,
        features: init.combined_features(),
        remote_addr: init.remote_addr,
    })
}

/// The three BOLT 8 acts, as initiator when dialing `dial`, else as responder. The initiator's
/// act three is returned unsent, to go out in one write with its `init`: one segment and one
/// wake-up fewer per connection.
async fn handshake(
    inner: &Inner,
    stream: &mut TcpStream,
    dial: Option<PublicKey>,
) -> Result<(Transport, Vec<u8>), ConnectError> {
    let io = |e: io::Error| ConnectError::Io(e.to_string());
    let secret = &inner.static_key;
    let transport = match dial {
        Some(remote) => {
            let (handshake, act_one) = InitiatorHandshake::from_static_key(secret, &remote);
            stream.write_all(&act_one).await.map_err(io)?;
            let act_two = read_act::<ACT_TWO_LEN>(stream, Act::Two).await?;
            let (act_three, transport) = handshake.read_act_two(&act_two)?;
            (transport, act_three.to_vec())
        }
        None => {
            let act_one = read_act::<ACT_ONE_LEN>(stream, Act::One).await?;
            let (waiting, act_two) =
                ResponderHandshake::from_static_key(secret).read_act_one(&act_one)?;
            stream.write_all(&act_two).await.map_err(io)?;
            let act_three = read_act::<ACT_THREE_LEN>(stream, Act::Three).await?;
            (waiting.read_act_three(&act_three)?, Vec::new())
        }
    };
    Ok(transport)
}

/// Sends `unsent` (act three, when we dialed) and our `init` in one write (with `remote_addr`
/// when the peer dialed us from `inbound_from`) and reads the peer's, skipping unknown odd
/// messages before it as CLN does.
async fn exchange_init(
    inner: &Inner,
    id: PublicKey,
    stream: &mut TcpStream,
    encryptor: &mut Encryptor,
    decryptor: &mut Decryptor,
    unsent: Vec<u8>,
    inbound_from: Option<SocketAddr>,
) -> Result<Init, ConnectError> {
    let io = |e: io::Error| ConnectError::Io(e.to_string());
    let our_init = protocol::our_init(&inner.config.features, inner.config.chain, inbound_from);
    log_io(inner, &id, "OUT", &our_init);
    let mut out = unsent;
    encryptor
        .encrypt_into(&our_init, &mut out)
        .map_err(|e| ConnectError::Io(e.to_string()))?;
    stream.write_all(&out).await.map_err(io)?;

    loop {
        let mut found = None;
        while let Some(message) = decryptor.next_message()? {
            log_io(inner, &id, "IN", message);
            let Some(&[high, low]) = message.get(..2) else {
                return Err(ConnectError::BadInit("message shorter than a type".into()));
            };
            let ty = MsgType(u16::from_be_bytes([high, low]));
            if ty == MsgType::INIT {
                found =
                    Some(decode_message(message).map_err(|e| ConnectError::BadInit(e.to_string())));
                break;
            }
            if ty.is_odd() && !ty.is_bolt_defined() {
                continue;
            }
            return Err(ConnectError::FirstMessageNotInit(ty.0));
        }
        match found {
            Some(Ok(Message::Init(init))) => return Ok(init),
            Some(Ok(_)) => return Err(ConnectError::BadInit("not an init".into())),
            Some(Err(error)) => return Err(error),
            None => {}
        }
        let n = stream.read(decryptor.read_buffer()).await.map_err(io)?;
        if n == 0 {
            return Err(ConnectError::ClosedDuringInit);
        }
        decryptor.commit(n);
    }
}

/// Puts an established connection in the registry (closing an older one to the same peer)
/// and starts its reader and writer. Inbound connections pass [`NoChannelSlot::admit`] first.
fn register(
    inner: &Arc<Inner>,
    established: Established,
    dialed: Option<String>,
) -> ConnectionInfo {
    let Established {
        id,
        stream,
        encryptor,
        decryptor,
        direction,
        address,
        features,
        remote_addr,
    } = established;
    let connection_id = inner.next_connection.fetch_add(1, Ordering::Relaxed);
    let (read_half, write_half) = stream.into_split();
    let outbox = Outbox::new(
        write_half,
        encryptor,
        inner.config.limits.peer_send_queue_bytes,
        inner.config.control_queue_bytes,
    );
    let (closer, closed) = watch::channel(false);
    let info = ConnectionInfo {
        id,
        direction,
        address,
        features,
        remote_addr,
    };
    let pong_waiter = PongWaiter::default();
    {
        let mut entry = inner.registry.entry(id).or_default();
        let counted_before = counts_without_channel(&entry);
        let previous = entry.connection.replace(Connection {
            id: connection_id,
            info: info.clone(),
            outbox: outbox.clone(),
            closer,
            pong_waiter: pong_waiter.clone(),
        });
        match previous {
            Some(old) => {
                tracing::debug!(node_id = %id, subsystem = "connectd", "Peer reconnected: closing the older connection");
                old.closer.send_replace(true);
            }
            None => {
                if let Err(error) = entry.state.handle(PeerInput::Connected) {
                    tracing::error!(node_id = %id, subsystem = "connectd", "inconsistent peer state on connect: {error}");
                }
            }
        }
        if dialed.is_some() {
            entry.address = dialed;
        }
        recount_without_channel(inner, counted_before, counts_without_channel(&entry));
    }
    tracing::info!(node_id = %id, subsystem = "connectd", "Connected ({})", match direction {
        Direction::Inbound => "incoming",
        Direction::Outbound => "outgoing",
    });
    let _ = inner.events.send(PeerEvent::Connected {
        id,
        direction,
        address,
    });
    spawn_tracked(
        inner,
        writer(
            Link {
                inner: inner.clone(),
                id,
                connection_id,
                closed: closed.clone(),
            },
            outbox.clone(),
        ),
    );
    spawn_tracked(
        inner,
        reader(
            Link {
                inner: inner.clone(),
                id,
                connection_id,
                closed,
            },
            read_half,
            decryptor,
            outbox,
            pong_waiter,
        ),
    );
    info
}

/// Removes connection `connection_id` of `id`, if it is still the current one.
fn teardown(inner: &Arc<Inner>, id: PublicKey, connection_id: u64, reason: &str) {
    let mut redial = false;
    let removed = match inner.registry.entry(id) {
        Entry::Occupied(mut entry)
            if entry.get().connection.as_ref().map(|c| c.id) == Some(connection_id) =>
        {
            recount_without_channel(inner, counts_without_channel(entry.get()), false);
            if let Some(connection) = entry.get_mut().connection.take() {
                connection.closer.send_replace(true);
            }
            if let Err(error) = entry.get_mut().state.handle(PeerInput::Disconnected) {
                tracing::error!(node_id = %id, subsystem = "connectd", "inconsistent peer state on disconnect: {error}");
            }
            if entry.get().state.is_forgettable() {
                entry.remove();
            } else {
                redial = entry.get().address.is_some();
            }
            true
        }
        _ => false,
    };
    if removed {
        tracing::debug!(node_id = %id, subsystem = "connectd", "Disconnected: {reason}");
        let _ = inner.events.send(PeerEvent::Disconnected {
            id,
            reason: reason.to_owned(),
        });
        if redial && !*inner.shutdown.borrow() {
            spawn_redial(inner, id);
        }
    }
}

/// Redials a disconnected peer that has channels, with doubling backoff, until it is connected,
/// forgotten, or the node stops.
fn spawn_redial(inner: &Arc<Inner>, id: PublicKey) {
    match inner.registry.get_mut(&id) {
        Some(mut entry) if !entry.redialing && entry.address.is_some() => entry.redialing = true,
        _ => return,
    }
    let task_inner = inner.clone();
    spawn_tracked(inner, async move {
        let inner = task_inner;
        let mut shutdown = inner.shutdown.subscribe();
        let mut delay = inner.config.redial_backoff_min;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut shutdown) => break,
            }
            let address = match inner.registry.get(&id) {
                Some(entry)
                    if entry.connection.is_none() && entry.state.channels().next().is_some() =>
                {
                    entry.address.clone()
                }
                _ => break,
            };
            let Some((host, port)) = address.as_deref().and_then(split_host_port) else {
                break;
            };
            match connect(&inner, id, &host, port).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "Reconnect failed, next try in {:?}: {error}", delay * 2)
                }
            }
            delay = (delay * 2).min(inner.config.redial_backoff_max);
        }
        if let Some(mut entry) = inner.registry.get_mut(&id) {
            entry.redialing = false;
        };
    });
}

/// `host:port` or `[v6]:port` into its parts.
pub(crate) fn split_host_port(address: &str) -> Option<(String, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Some((host.to_owned(), port.parse().ok()?))
}

/// Logs a message at the `io` level under its peer's owner (looked up in the registry, so
/// not to be called while holding an entry: use [`log_io_as`] there).
fn log_io(inner: &Inner, id: &PublicKey, direction: &'static str, message: &[u8]) {
    if tracing::enabled!(tracing::Level::TRACE) {
        let prefix = inner
            .registry
            .get(id)
            .map(|entry| entry.state.log_prefix())
            .unwrap_or_else(|| Owner::Openingd.name().to_owned());
        trace_io(&prefix, id, direction, message);
    }
}

/// [`log_io`] for a caller that holds the peer's entry.
fn log_io_as(state: &PeerState, id: &PublicKey, direction: &'static str, message: &[u8]) {
    if tracing::enabled!(tracing::Level::TRACE) {
        trace_io(&state.log_prefix(), id, direction, message);
    }
}

fn trace_io(prefix: &str, id: &PublicKey, direction: &'static str, message: &[u8]) {
    tracing::trace!(node_id = %id, subsystem = %prefix, io = direction, "{}", hex::encode(message));
}

/// What the reader and writer of one connection share.
struct Link {
    inner: Arc<Inner>,
    id: PublicKey,
    connection_id: u64,
    closed: watch::Receiver<bool>,
}

/// Writes what senders queue until the connection closes (see [`Outbox::run_writer`]).
async fn writer(link: Link, outbox: Outbox) {
    let Link {
        inner,
        id,
        connection_id,
        mut closed,
    } = link;
    let reason = tokio::select! {
        reason = outbox.run_writer() => reason,
        _ = stopped(&mut closed) => "closed".to_owned(),
    };
    outbox.close();
    teardown(&inner, id, connection_id, &reason);
}

async fn reader(
    link: Link,
    socket: OwnedReadHalf,
    mut decryptor: Decryptor,
    outbox: Outbox,
    pong_waiter: PongWaiter,
) {
    let Link {
        inner,
        id,
        connection_id,
        mut closed,
    } = link;
    let config = &inner.config;
    let mut keepalive = Keepalive::new(config.keepalive_idle, Instant::now().into_std());
    let mut pings = PingLimiter::new(
        config.limits.ping_burst,
        config.limits.pings_per_second,
        Instant::now().into_std(),
    );
    // None when unlimited: then reading costs no clock reads or arithmetic beyond the above.
    let mut inbound_rate = InboundRateLimiter::new(
        config.limits.peer_inbound_rate,
        config.limits.peer_inbound_burst,
        Instant::now().into_std(),
    );
    let jitter = RandomState::new().hash_one(connection_id);
    let tick_period = |jitter: u64| {
        let spread = config.keepalive_tick_jitter.as_millis().max(1) as u64;
        config.keepalive_tick_min + Duration::from_millis(jitter % spread)
    };
    let tick = tokio::time::sleep(tick_period(jitter));
    tokio::pin!(tick);
    let mut custom_queue: Option<mpsc::Sender<Vec<u8>>> = None;
    // Connections sent to while handling this batch (ours, for pongs; any, for a handler's
    // replies): written once the batch is done, one write each, with no task switch.
    let mut touched: Vec<Outbox> = Vec::new();
    let flush = |touched: &mut Vec<Outbox>| {
        for outbox in touched.drain(..) {
            outbox.flush();
        }
    };
    // True at the start: the buffer that carried `init` is freed unless a frame is half in.
    let mut drained = true;
    let reason = 'run: loop {
        // Frames already buffered go first: those that came in the same read as the peer's
        // `init`, then whatever the last read completed.
        let now = Instant::now().into_std();
        loop {
            let message = match decryptor.next_message() {
                Ok(Some(message)) => message,
                Ok(None) => break,
                Err(error) => break 'run error.to_string(),
            };
            keepalive.on_message(now);
            log_io(&inner, &id, "IN", message);
            // The lock is taken only for an unknown even type, and released inside the closure.
            let action = protocol::dispatch(message, |ty| {
                let allowed = inner.allowed_even.read().unwrap_or_else(|e| e.into_inner());
                allowed.contains(&ty.0)
            });
            match action {
                Action::Ignore => {}
                Action::Reply(reply) => {
                    log_io(&inner, &id, "OUT", &reply);
                    let _ = deferring_flushes(&mut touched, || outbox.send(&reply, Class::Control));
                }
                Action::Pong(pong) => {
                    if pings.allow(now) {
                        log_io(&inner, &id, "OUT", &pong);
                        let _ =
                            deferring_flushes(&mut touched, || outbox.send(&pong, Class::Control));
                    } else {
                        tracing::debug!(node_id = %id, subsystem = "connectd", "Ping rate exceeded: not answering");
                    }
                }
                Action::PongReceived => {
                    keepalive.on_pong();
                    let waiter = pong_waiter.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(waiter) = waiter {
                        let _ = waiter.send(message.len());
                    }
                }
                Action::Custom(_) => {
                    if let Some(handler) = inner.custom_handler.get() {
                        // An embedder's bug must not leave a connection without its reader:
                        // a panic ends this connection, cleanly.
                        let handled = deferring_flushes(&mut touched, || {
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                handler.handle(&id, message)
                            }))
                        });
                        if handled.is_err() {
                            tracing::error!(node_id = %id, subsystem = "connectd", "custom message handler panicked: closing the connection");
                            break 'run "custom message handler panicked".to_owned();
                        }
                        continue;
                    }
                    let message = message.to_vec();
                    let Some(sink) = inner.custom_sink.get() else {
                        let _ = inner.events.send(PeerEvent::CustomMessage { id, message });
                        continue;
                    };
                    let queue = custom_queue.get_or_insert_with(|| sink.open(id));
                    // Waiting here stops reading this peer's socket: backpressure on
                    // this peer only, and nothing is dropped.
                    let delivered = match queue.try_send(message) {
                        Ok(()) => true,
                        Err(mpsc::error::TrySendError::Full(message)) => {
                            // Replies already made must not wait with us.
                            flush(&mut touched);
                            tokio::select! {
                                sent = queue.send(message) => sent.is_ok(),
                                _ = stopped(&mut closed) => break 'run "closed".to_owned(),
                            }
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => false,
                    };
                    if !delivered {
                        tracing::debug!(node_id = %id, subsystem = "connectd", "custom message consumer has gone: message dropped");
                    }
                }
                Action::LogWarning(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Received WIRE_WARNING: {text}");
                }
                Action::CloseOnError(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Received WIRE_ERROR: {text}");
                    break 'run format!("peer sent error: {text}");
                }
                Action::WarnAndClose(text) => {
                    tracing::info!(node_id = %id, subsystem = "connectd", "Sending warning and closing: {text}");
                    let warning = protocol::warning(&text);
                    log_io(&inner, &id, "OUT", &warning);
                    let _ = outbox.send(&warning, Class::Control);
                    flush(&mut touched);
                    // The writer closes once the warning is out; if the peer does not
                    // take it in time, we close anyway.
                    outbox.close_after_flush();
                    let _ = tokio::time::timeout(FLUSH_ON_CLOSE, stopped(&mut closed)).await;
                    break 'run text;
                }
            }
        }
        flush(&mut touched);
        // The socket had no more to give: free the buffer until it has.
        if drained {
            decryptor.release_idle_buffer();
            drained = false;
        }
        // Over its byte rate, the peer's socket goes unread for a while and TCP holds it back.
        let throttle = inbound_rate.as_mut().and_then(|limiter| limiter.wait(now));
        if throttle.is_some() {
            // It sent more than we are reading, so it is alive even if no whole message came.
            keepalive.on_message(now);
        }
        tokio::select! {
            _ = stopped(&mut closed) => break 'run "closed".to_owned(),
            _ = &mut tick => {
                match keepalive.on_timer(Instant::now().into_std()) {
                    KeepaliveAction::Nothing => {}
                    KeepaliveAction::SendPing => {
                        let ping = protocol::keepalive_ping();
                        log_io(&inner, &id, "OUT", &ping);
                        let _ = outbox.send(&ping, Class::Control);
                    }
                    KeepaliveAction::HangUp => break 'run "Last ping unreturned: hanging up".to_owned(),
                }
                tick.as_mut().reset(Instant::now() + tick_period(jitter.rotate_left(7)));
            }
            // An async block, so that no timer is made unless the reader is throttled.
            _ = async {
                if let Some(wait) = throttle {
                    tokio::time::sleep(wait).await;
                }
            }, if throttle.is_some() => {}
            // Waiting for readiness rather than in a read lets an idle connection hold no read
            // buffer (see `release_idle_buffer` above).
            ready = socket.readable(), if throttle.is_none() => {
                if let Err(error) = ready {
                    break 'run format!("read failed: {error}");
                }
                let buffer = decryptor.read_buffer();
                let room = buffer.len();
                match socket.try_read(buffer) {
                    Ok(0) => break 'run match decryptor.finish() {
                        Ok(()) => "peer closed the connection".to_owned(),
                        Err(error) => error.to_string(),
                    },
                    Ok(n) => {
                        decryptor.commit(n);
                        drained = n < room;
                        if let Some(limiter) = inbound_rate.as_mut() {
                            limiter.charge(n, Instant::now().into_std());
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => break 'run format!("read failed: {error}"),
                }
            }
        }
    };
    // What a handler sent to other peers before this one failed must still go out.
    flush(&mut touched);
    teardown(&inner, id, connection_id, &reason);
}
