//! [`PeerManager`], the public face of the crate: it starts the listeners, and answers and
//! acts for its callers (connect, disconnect, send, ping, peer queries, lifecycle events).
//!
//! Rules it follows:
//! - **One connection per node id; the newest wins.** When a peer we are connected to connects
//!   again (or we dial it again and it answers), the old connection is closed and the new one
//!   kept, as Core Lightning does: a peer that restarted must not wait for our keepalive to
//!   notice its old connection is dead. `connect` to a peer that is already connected returns
//!   the existing connection without dialing, so two nodes rarely race each other.
//! - **Nothing awaits under the registry lock**, and sending never awaits (see
//!   [`crate::Outbox`]).
//! - A disconnected peer with channels stays known and is redialled with backoff; one without
//!   channels is forgotten.
//! - **Strangers are bounded** (see `node_config::Limits` for the numbers): inbound
//!   connections still in their handshake or `init` are capped, the oldest giving way to a
//!   newcomer; each of those phases has its own deadline; inbound peers without a channel are
//!   capped once their `init` is in; and each peer's reader stays under a byte rate.

use std::collections::HashSet;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use node_config::DialAddress;
use noise_transport::{PublicKey, StaticKey};
use subdaemon_state::{ChannelDbId, ChannelState, Owner, PeerInput, Transition};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot, watch};
use wire::{Encode, Features, KnownFeatures, Message, Ping, TlvStream};

use crate::admission::PendingHandshakes;
use crate::config::PeerManagerConfig;
use crate::custom::{CustomMessageHandler, CustomMessageSink, CustomRoute};
use crate::error::{ConnectError, PeerError, PingError, SendCustomError};
use crate::events::{ConnectionInfo, PeerEvent, PeerInfo};
use crate::io_log::{log_io, log_io_as};
use crate::listener::Listening;
use crate::onion::{OnionMessageHandler, SendOnionError};
use crate::outbox::{Class, WriteReceipt};
use crate::registry::Registry;
use crate::tasks::Tasks;

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 4096;

/// What every task of the manager shares.
pub(crate) struct Inner {
    pub(crate) config: PeerManagerConfig,
    pub(crate) node_id: PublicKey,
    /// Our node key with its public half derived once, for every handshake.
    pub(crate) static_key: StaticKey,
    pub(crate) known: KnownFeatures,
    pub(crate) registry: Registry,
    pub(crate) events: broadcast::Sender<PeerEvent>,
    pub(crate) tasks: Tasks,
    pub(crate) next_connection: AtomicU64,
    pub(crate) listen_addrs: Vec<SocketAddr>,
    pub(crate) websocket_addrs: Vec<SocketAddr>,
    /// Even types outside the BOLTs that a plugin declared.
    pub(crate) allowed_even: RwLock<HashSet<u16>>,
    pub(crate) custom: OnceLock<CustomRoute>,
    /// Where `onion_message`s go; unset, they are dropped.
    pub(crate) onion: OnceLock<Arc<dyn OnionMessageHandler>>,
    pub(crate) pending_handshakes: Arc<Mutex<PendingHandshakes>>,
    /// The `--dev-disconnect` script as the connections consume it.
    pub(crate) dev_disconnect: Option<Arc<Mutex<peer_protocol::DevDisconnect>>>,
    /// Before [`PeerManager::activate`]: the bound listeners and the restored peers to redial,
    /// held so that no peer reaches us before our consumers are in place. Watched by readers:
    /// until activation a reader holds custom messages that have no consumer yet (a connection
    /// dialled meanwhile, e.g. by a plugin's `init`), rather than drop them.
    pub(crate) activation: watch::Sender<Activation>,
}

/// Whether the manager accepts and redials yet.
pub(crate) enum Activation {
    /// Bound, not accepting: what `activate` will start.
    Waiting {
        listeners: Vec<(TcpListener, Listening)>,
        redials: Vec<PublicKey>,
    },
    /// Accepting connections and redialling.
    Active,
}

impl Activation {
    pub(crate) fn is_active(&self) -> bool {
        matches!(self, Activation::Active)
    }
}

impl Inner {
    /// The `--dev-disconnect` script, for a connection to `peer`.
    pub(crate) fn dev_disconnect_hook(
        &self,
        peer: PublicKey,
    ) -> Option<crate::outbox::DevDisconnectHook> {
        let script = self.dev_disconnect.clone()?;
        Some(crate::outbox::DevDisconnectHook { script, peer })
    }

    /// Whether a plugin allowed the even type `ty`.
    pub(crate) fn allows_even(&self, ty: u16) -> bool {
        self.allowed_even
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&ty)
    }
}

/// The peer manager; cheap to clone.
#[derive(Clone)]
pub struct PeerManager {
    inner: Arc<Inner>,
}

impl PeerManager {
    /// Binds every listen address and starts accepting connections: [`PeerManager::bind`] and
    /// [`PeerManager::activate`] at once. Messages that arrive before a consumer is set (the
    /// custom sink or handler, the onion handler) are dropped, so a node that sets them should
    /// bind, set them, then activate.
    ///
    /// # Errors
    /// A listen address cannot be bound.
    pub async fn start(config: PeerManagerConfig) -> io::Result<PeerManager> {
        let manager = PeerManager::bind(config).await?;
        manager.activate();
        Ok(manager)
    }

    /// Binds every listen address, but accepts no connection and redials no restored peer
    /// until [`PeerManager::activate`] (as lightningd activates connectd only once its plugins
    /// are ready). Dialling out with [`PeerManager::connect`] works at once; custom messages
    /// on such a connection wait for activation if no consumer is set yet.
    ///
    /// # Errors
    /// A listen address cannot be bound.
    pub async fn bind(config: PeerManagerConfig) -> io::Result<PeerManager> {
        let mut listeners = Vec::new();
        let mut listen_addrs = Vec::new();
        let mut websocket_addrs = Vec::new();
        for addr in &config.listen {
            let listener = TcpListener::bind(addr).await?;
            listen_addrs.push(listener.local_addr()?);
            listeners.push((listener, Listening::Tcp));
        }
        for addr in &config.websocket_listen {
            let listener = TcpListener::bind(addr).await?;
            websocket_addrs.push(listener.local_addr()?);
            listeners.push((listener, Listening::WebSocket));
        }
        let dev_disconnect = config
            .dev_disconnect
            .clone()
            .map(|script| Arc::new(Mutex::new(script)));
        let inner = Arc::new(Inner {
            dev_disconnect,
            node_id: PublicKey::from_secret_key_global(&config.node_secret),
            static_key: StaticKey::new(&config.node_secret),
            known: peer_protocol::known_features(&config.features),
            config,
            registry: Registry::new(),
            events: broadcast::channel(EVENT_BUFFER).0,
            tasks: Tasks::new(),
            next_connection: AtomicU64::new(1),
            listen_addrs,
            websocket_addrs,
            allowed_even: RwLock::new(HashSet::new()),
            custom: OnceLock::new(),
            onion: OnceLock::new(),
            pending_handshakes: Arc::default(),
            activation: watch::Sender::new(Activation::Waiting {
                listeners,
                redials: Vec::new(),
            }),
        });
        Ok(PeerManager { inner })
    }

    /// Starts accepting on the bound addresses and redialling the restored peers. Once only;
    /// later calls do nothing.
    pub fn activate(&self) {
        let Activation::Waiting { listeners, redials } =
            self.inner.activation.send_replace(Activation::Active)
        else {
            return;
        };
        for (listener, listening) in listeners {
            self.inner.tasks.spawn(crate::listener::accept_loop(
                self.inner.clone(),
                listener,
                listening,
            ));
        }
        for id in redials {
            crate::dialer::spawn_redial(&self.inner, id);
        }
    }

    /// Our node id.
    pub fn node_id(&self) -> PublicKey {
        self.inner.node_id
    }

    /// The addresses we listen on, with the ports actually bound.
    pub fn listen_addrs(&self) -> &[SocketAddr] {
        &self.inner.listen_addrs
    }

    /// The addresses we listen on for WebSocket peers, with the ports actually bound.
    pub fn websocket_addrs(&self) -> &[SocketAddr] {
        &self.inner.websocket_addrs
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

    /// Whether a plugin has allowed the even type `ty` (see
    /// [`PeerManager::set_allowed_even_types`]).
    pub fn is_allowed_even_type(&self, ty: u16) -> bool {
        self.inner.allows_even(ty)
    }

    /// Connects to `id` at `address` (IPv4, IPv6 or a host name; the network's port when it
    /// has none), or returns the existing connection if there is one.
    ///
    /// # Errors
    /// Resolution, TCP, handshake or `init` failed, or a deadline passed.
    pub async fn connect(
        &self,
        id: PublicKey,
        address: &DialAddress,
    ) -> Result<ConnectionInfo, ConnectError> {
        crate::dialer::connect(&self.inner, id, address).await
    }

    /// Closes the connection to `id`; false if it was not connected.
    pub fn disconnect(&self, id: &PublicKey) -> bool {
        self.inner.registry.close(id)
    }

    /// A known peer.
    pub fn peer(&self, id: &PublicKey) -> Option<PeerInfo> {
        self.inner.registry.info(id)
    }

    /// Every known peer.
    pub fn peers(&self) -> Vec<PeerInfo> {
        self.inner.registry.all()
    }

    /// Queues a custom message for `id` through its owner, without waiting: checks, in CLN's
    /// order, that the peer is known, connected and owned by a subdaemon that talks to it.
    /// The connection's writer task writes it, together with whatever else was sent meanwhile
    /// (a handler on a reader sends through its `SendBatch` instead).
    ///
    /// # Errors
    /// The peer is unknown, refused by its state, or its queue is full.
    pub fn send_custom(&self, id: &PublicKey, message: &[u8]) -> Result<Owner, SendCustomError> {
        self.inner.registry.custom_gate(id, |owner, outbox, state| {
            outbox.try_send(message).map_err(SendCustomError::Queue)?;
            log_io_as(state, id, "OUT", message);
            Ok(owner)
        })
    }

    /// Queues a custom message like [`PeerManager::send_custom`], and returns a receipt that
    /// resolves once the message has been written to the peer's socket, or fails if the
    /// connection closes first ([`WriteReceipt::written`]).
    ///
    /// # Errors
    /// As [`PeerManager::send_custom`].
    pub fn send_custom_tracked(
        &self,
        id: &PublicKey,
        message: &[u8],
    ) -> Result<(Owner, WriteReceipt), SendCustomError> {
        self.inner.registry.custom_gate(id, |owner, outbox, state| {
            let receipt = outbox
                .send_tracked(message)
                .map_err(SendCustomError::Queue)?;
            log_io_as(state, id, "OUT", message);
            Ok((owner, receipt))
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
        let (owner, outbox) = self
            .inner
            .registry
            .custom_gate(id, |owner, outbox, _| Ok((owner, outbox.clone())))?;
        outbox
            .send_waiting(message)
            .await
            .map_err(SendCustomError::Queue)?;
        log_io(&self.inner.registry, id, "OUT", message);
        Ok(owner)
    }

    /// The checks of [`PeerManager::send_custom`] without sending (the RPC `check` command).
    ///
    /// # Errors
    /// The peer is unknown or refused by its state.
    pub fn check_custom(&self, id: &PublicKey) -> Result<Owner, SendCustomError> {
        self.inner.registry.custom_gate(id, |owner, _, _| Ok(owner))
    }

    /// Queues `message` (type and payload) for `id` exactly as given, for testing a peer
    /// (`dev-sendrawmsg`): no type is refused (even, channel, `init`, internal ones all go)
    /// and no owner is consulted; only a live connection is needed.
    ///
    /// # Errors
    /// The peer is unknown or not connected, or its queue refused the message.
    pub fn send_raw(&self, id: &PublicKey, message: &[u8]) -> Result<(), SendCustomError> {
        self.connected(id, |state, connection| {
            connection
                .outbox
                .try_send(message)
                .map_err(SendCustomError::Queue)?;
            log_io_as(state, id, "OUT", message);
            Ok(())
        })
    }

    /// Makes the writer of `id`'s connection wait `delay` before each write, until the
    /// connection closes or this is called again (zero: no delay). For testing how a peer
    /// copes with a slow one (`dev-peer-write-delay`).
    ///
    /// # Errors
    /// The peer is unknown or not connected.
    pub fn set_write_delay(
        &self,
        id: &PublicKey,
        delay: std::time::Duration,
    ) -> Result<(), SendCustomError> {
        self.connected(id, |_, connection| {
            connection.outbox.set_write_delay(delay);
            Ok(())
        })
    }

    /// The checks of [`PeerManager::send_raw`] and [`PeerManager::set_write_delay`] without
    /// acting (the RPC `check` command).
    ///
    /// # Errors
    /// The peer is unknown or not connected.
    pub fn check_connected(&self, id: &PublicKey) -> Result<(), SendCustomError> {
        self.connected(id, |_, _| Ok(()))
    }

    /// `then` on `id`'s live connection; the peer must be known and connected.
    fn connected<T>(
        &self,
        id: &PublicKey,
        then: impl FnOnce(
            &subdaemon_state::PeerState,
            &crate::registry::Connection,
        ) -> Result<T, SendCustomError>,
    ) -> Result<T, SendCustomError> {
        self.inner
            .registry
            .with_connection(id, then)
            .unwrap_or_else(|| {
                Err(match self.inner.registry.info(id) {
                    None => SendCustomError::NoSuchPeer,
                    Some(_) => SendCustomError::Refused(subdaemon_state::SendRefused::NotConnected),
                })
            })
    }

    /// Delivers custom messages to `sink` from now on, with backpressure (see
    /// [`CustomMessageSink`]). Custom messages have one consumer, set once: a later call, or
    /// one after [`PeerManager::set_custom_handler`], is ignored and returns false.
    pub fn set_custom_sink(&self, sink: Arc<dyn CustomMessageSink>) -> bool {
        self.inner.custom.set(CustomRoute::Sink(sink)).is_ok()
    }

    /// Hands custom messages to `handler` on each connection's reader task from now on (see
    /// [`CustomMessageHandler`]). Custom messages have one consumer, set once: a later call,
    /// or one after [`PeerManager::set_custom_sink`], is ignored and returns false.
    pub fn set_custom_handler(&self, handler: Arc<dyn CustomMessageHandler>) -> bool {
        self.inner.custom.set(CustomRoute::Handler(handler)).is_ok()
    }

    /// Hands received `onion_message`s to `handler` on each connection's reader from now on
    /// (see [`OnionMessageHandler`]). Set once: a later call is ignored and returns false.
    pub fn set_onion_message_handler(&self, handler: Arc<dyn OnionMessageHandler>) -> bool {
        self.inner.onion.set(handler).is_ok()
    }

    /// Queues an `onion_message` (type included) for `to`, without waiting: only if it is
    /// connected, offered `option_onion_messages`, and has fewer than the limits'
    /// `onion_message_peer_queue_bytes` waiting to be written. Its subdaemon owner does not
    /// matter (onion messages are connectd's, as in CLN).
    ///
    /// # Errors
    /// [`SendOnionError`]: the message is not queued (callers drop it).
    pub fn send_onion_message(&self, to: &PublicKey, message: &[u8]) -> Result<(), SendOnionError> {
        crate::onion::send_onion_message(
            &self.inner.registry,
            to,
            message,
            self.inner.config.limits.onion_message_peer_queue_bytes,
        )
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
        let pong = self
            .inner
            .registry
            .with_connection(id, |state, connection| {
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
                log_io_as(state, id, "OUT", &message);
                Ok(pong)
            })
            .ok_or(PingError::NotConnected)??;
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
        self.inner.registry.apply(id, input)
    }

    /// Adds a peer remembered from the store: disconnected, with its channels; it is redialled
    /// (from [`PeerManager::activate`] on) if it has channels and an address.
    pub fn restore_peer(
        &self,
        id: PublicKey,
        address: Option<DialAddress>,
        channels: impl IntoIterator<Item = (ChannelDbId, ChannelState)>,
    ) {
        if !self.inner.registry.restore(id, address, channels) {
            return;
        }
        let mut redial_now = false;
        // Not a change readers wait for, so they are not woken.
        self.inner.activation.send_if_modified(|activation| {
            match activation {
                Activation::Waiting { redials, .. } => redials.push(id),
                Activation::Active => redial_now = true,
            }
            false
        });
        if redial_now {
            crate::dialer::spawn_redial(&self.inner, id);
        }
    }

    /// How many inbound peers without a channel are connected (what
    /// `Limits::max_inbound_peers_without_channel` caps), counting any being admitted at this
    /// moment.
    pub fn inbound_peers_without_channel(&self) -> usize {
        self.inner.registry.inbound_without_channel()
    }

    /// Stops listening, closes every connection and waits for all tasks to end.
    pub async fn shutdown(&self) {
        self.inner.tasks.begin_stop();
        self.inner.registry.close_all();
        self.inner.tasks.wait().await;
    }
}
