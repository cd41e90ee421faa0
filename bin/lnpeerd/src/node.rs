//! A running node: the node key, the store, the peer manager, the plugin host and the JSON-RPC
//! server, wired together.
//!
//! The peer manager knows nothing of storage. This module restores what the store remembers at
//! start (peers with channels, which the manager then redials), records the addresses of peers
//! we dial as their connections come up, and writes every channel lifecycle change before
//! reporting it done. It gives the RPC layer what it needs through [`rpc::NodeControl`], whose
//! errors say what failed and leave the wording to `rpc`. The RPC server serves an
//! [`rpc::Dispatcher`]: the built-in commands, then what the plugin host registers (the
//! `plugin` command and the plugins' methods).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use node_config::{parse_bind_addr, Config, ListenAddr, LogLevel, NODE_VERSION};
use plugin_host::{HostConfig, PluginHost};
use rpc::{Dispatcher, LogEntry, NodeControl, NodeInfo, RpcConfig, RpcServer};
use tokio::sync::watch;

use noise_transport::PublicKey;
use peer_manager::{Direction, PeerEvent, PeerManager, PeerManagerConfig};
use subdaemon_state::{ChannelDbId, ChannelState, PeerInput};

/// How long a plugin may take to answer `getmanifest`, then `init` (CLN v25.02+: 120 s).
const PLUGIN_STARTUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
use crate::custom_router::CustomRouter;
use crate::hsm;
use crate::store::{Opener, SharedStore, Store, StoreError, DB_FILE};
use delivery::{Delivery, InboxStore, StoredSends};
use lsps::Lsps;
use onion_messenger::{ForwardFailure, OnionMessenger, ReceivedOnionMessage};
use plugin_host::OnionMessageHook;
use remote_control::RemoteControl;

/// Why the node could not start, or a command could not be carried out.
#[derive(Debug)]
#[non_exhaustive]
pub enum NodeError {
    /// The node key could not be loaded or created.
    Hsm(hsm::HsmError),
    /// The store failed.
    Store(StoreError),
    /// A listen address is malformed or could not be bound.
    Listen(String),
    /// A stored channel state is not one we know (a newer version wrote it?).
    CorruptState(String),
    /// The peer is unknown, or the lifecycle step is impossible in its state.
    Peer(peer_manager::PeerError),
    /// The JSON-RPC socket could not be set up.
    Rpc(rpc::RpcStartError),
    /// A plugin the node cannot start without failed, or an option is unknown.
    Plugins(String),
    /// The rune store could not be read.
    Runes(String),
    /// The inbox could not be opened.
    Inbox(String),
    /// A `--developer` aid could not be set up: the key log, the dev-disconnect file.
    Developer(String),
}

impl std::fmt::Display for NodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NodeError::Hsm(error) => write!(f, "{error}"),
            NodeError::Store(error) => write!(f, "{error}"),
            NodeError::Listen(error) => write!(f, "{error}"),
            NodeError::CorruptState(error) => {
                write!(f, "store holds an unknown channel state: {error}")
            }
            NodeError::Peer(error) => write!(f, "{error}"),
            NodeError::Rpc(error) => write!(f, "{error}"),
            NodeError::Plugins(error) => write!(f, "{error}"),
            NodeError::Runes(error) => write!(f, "rune store: {error}"),
            NodeError::Inbox(error) => write!(f, "custom message inbox: {error}"),
            NodeError::Developer(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for NodeError {}

impl From<StoreError> for NodeError {
    fn from(error: StoreError) -> Self {
        NodeError::Store(error)
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What the RPC commands act on: the manager, the store and the node's facts.
struct Controller {
    manager: PeerManager,
    store: SharedStore,
    info: NodeInfo,
    stop: watch::Sender<bool>,
    /// For `sendcustommsg` with `delivery` `stored`.
    stored_sends: Arc<StoredSends>,
}

/// A started node.
pub struct Node {
    controller: Arc<Controller>,
    plugins: PluginHost,
    rpc: RpcServer,
    persister: tokio::task::JoinHandle<()>,
    /// Tells remote control of disconnects.
    remote_watch: tokio::task::JoinHandle<()>,
    /// The inbox (and its pruning task) lives as long as the node.
    _delivery: Arc<Delivery>,
    /// LSPS0's client calls and service (and their tasks) live as long as the node.
    _lsps: Arc<Lsps>,
    /// Onion messages: the relay the manager calls, the task feeding the hooks, and the one
    /// sending `onionmessage_forward_fail`.
    _onion: Arc<OnionMessenger>,
    onion_hooks: tokio::task::JoinHandle<()>,
    onion_forward_failures: tokio::task::JoinHandle<()>,
    stop: watch::Receiver<bool>,
}

impl Node {
    /// Creates the network directory, loads (or creates) the node key, opens the store,
    /// starts listening and restores the remembered peers.
    ///
    /// # Errors
    /// Any of those steps failed.
    pub async fn start(config: &Config) -> Result<Node, NodeError> {
        let network_dir = config.network_dir();
        // hsm creates the network directory (mode 0700) if it is missing.
        let (mut secrets, created) = hsm::load_or_create(&network_dir).map_err(NodeError::Hsm)?;
        if created {
            tracing::info!(
                "Created a new node key in {}",
                network_dir.join("hsm_secret").display()
            );
        }
        if let Some(privkey) = &config.dev_force_privkey {
            secrets.force_node_key(privkey).map_err(NodeError::Hsm)?;
            tracing::info!("Using the node key given by --dev-force-privkey");
        }
        let store = Store::open(&network_dir.join(DB_FILE))?;

        let network = config.network;
        // Plugins come first: their options are claimed and their feature bits go into our
        // `init` before any peer can connect.
        let plugins = PluginHost::new(HostConfig {
            lightning_dir: config.lightning_dir.clone(),
            network_dir: network_dir.clone(),
            network: network.name().to_owned(),
            rpc_file: config.rpc_file.clone(),
            developer: config.developer,
            version: NODE_VERSION.to_owned(),
            hook_timeout: config.plugin_hook_timeout,
            startup_timeout: PLUGIN_STARTUP_TIMEOUT,
            reserved_methods: Dispatcher::builtin_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        });
        plugins
            .start_configured(
                &config.plugins,
                &config.disabled_plugins,
                config.default_plugin_dir,
            )
            .await
            .map_err(|e| NodeError::Plugins(e.to_string()))?;
        let unclaimed = plugins
            .claim_options(&config.extra)
            .map_err(|e| NodeError::Plugins(e.to_string()))?;
        if let Some(name) = unclaimed.first() {
            plugins.shutdown().await;
            return Err(NodeError::Plugins(format!("--{name}: unrecognized option")));
        }
        let mut peer_config = PeerManagerConfig::new(
            secrets.node_key,
            network.chain_hash(),
            network.default_port(),
        );
        peer_config.limits = config.limits.clone();
        if let Some(key_log) = key_log(config) {
            peer_config.key_log = Some(key_log?);
        }
        if let Some(path) = &config.dev_disconnect {
            peer_config.dev_disconnect = Some(dev_disconnect(path)?);
        }
        // As lightningd's autolisten: with no address given, all interfaces on the default port.
        let wildcard = [format!(":{}", network.default_port())];
        let addresses = if config.addr.is_empty() && config.bind_addr.is_empty() {
            &wildcard[..]
        } else {
            &[][..]
        };
        for address in config.addr.iter().chain(&config.bind_addr).chain(addresses) {
            let parsed = parse_bind_addr(address, network.default_port())
                .map_err(|e| NodeError::Listen(format!("--addr/--bind-addr {address}: {e}")))?;
            match parsed {
                ListenAddr::Tcp(address) => peer_config.listen.push(address),
                ListenAddr::WebSocket(address) => peer_config.websocket_listen.push(address),
            }
        }
        // BOLT 4: we forward and receive onion messages.
        peer_config
            .features
            .set(wire::feature_bits::OPTION_ONION_MESSAGES + 1);
        if config.lsps_service {
            // bLIP-50: an LSP sets `option_supports_lsps`.
            peer_config.features.set(lsps::OPTION_SUPPORTS_LSPS);
        }
        peer_config.features = plugins
            .init_features(&peer_config.features)
            .map_err(|e| NodeError::Plugins(e.to_string()))?;
        // Bound now (so a bad address fails the start), activated once every consumer of peer
        // messages is in place: a peer that connects at once loses nothing.
        let manager = match PeerManager::bind(peer_config).await {
            Ok(manager) => manager,
            Err(error) => {
                plugins.shutdown().await;
                return Err(NodeError::Listen(format!("cannot listen: {error}")));
            }
        };

        for peer in store.peers()? {
            let Ok(id) = PublicKey::from_slice(&peer.node_id) else {
                return Err(NodeError::CorruptState(format!(
                    "bad node id {}",
                    hex::encode(peer.node_id)
                )));
            };
            let mut channels = Vec::new();
            for channel in store.channels_of(peer.node_id)? {
                channels.push((channel.dbid, channel.state));
            }
            // A remembered address that no longer parses is dropped, not fatal: the peer can
            // still reconnect to us.
            let address = peer.address.and_then(|text| match text.parse() {
                Ok(address) => Some(address),
                Err(error) => {
                    tracing::warn!(node_id = %id, "forgetting the stored address '{text}': {error}");
                    None
                }
            });
            manager.restore_peer(id, address, channels);
        }

        let store = SharedStore(Arc::new(Mutex::new(store)));
        let remote = match RemoteControl::new(
            secrets.rune_master,
            Arc::new(store.clone()),
            manager.clone(),
            &config.limits,
        ) {
            Ok(remote) => Arc::new(remote),
            Err(error) => {
                plugins.shutdown().await;
                manager.shutdown().await;
                return Err(NodeError::Runes(error.to_string()));
            }
        };
        let inbox_store = config
            .custommsg_inbox
            .then(|| Arc::new(store.clone()) as Arc<dyn InboxStore>);
        let delivery = match Delivery::new(
            inbox_store,
            Arc::new(store.clone()),
            manager.clone(),
            &config.limits,
        ) {
            Ok(delivery) => Arc::new(delivery),
            Err(error) => {
                plugins.shutdown().await;
                manager.shutdown().await;
                return Err(NodeError::Inbox(error.to_string()));
            }
        };
        let lsps = Arc::new(Lsps::new(
            manager.clone(),
            config.lsps_service,
            &config.limits,
        ));
        let onion = Arc::new(OnionMessenger::new(
            manager.clone(),
            secrets.node_key,
            secrets.onion_path_key,
            &config.limits,
        ));
        let node_id = manager.node_id().serialize();
        // As CLN: the colour defaults to the node id's first three bytes.
        let color = config.rgb.unwrap_or([node_id[1], node_id[2], node_id[3]]);
        let alias = config
            .alias
            .clone()
            .unwrap_or_else(|| format!("lnpeer-{}", hex::encode(&node_id[1..5])));
        let (stop, stopped) = watch::channel(false);
        let controller = Arc::new(Controller {
            manager: manager.clone(),
            store: store.clone(),
            info: NodeInfo {
                alias,
                color,
                network: network.name().to_owned(),
                network_dir: network_dir.clone(),
                version: NODE_VERSION.to_owned(),
                developer: config.developer,
                default_port: network.default_port(),
                announced: Vec::new(),
            },
            stop,
            stored_sends: delivery.stored_sends().clone(),
        });
        let mut dispatcher = Dispatcher::new(controller.clone());
        let registered = remote
            .register(&mut dispatcher)
            .and_then(|()| delivery.register(&mut dispatcher))
            .and_then(|()| lsps.register(&mut dispatcher))
            .and_then(|()| onion.register(&mut dispatcher))
            .and_then(|()| plugins.register(&mut dispatcher));
        if let Err(taken) = registered {
            plugins.shutdown().await;
            manager.shutdown().await;
            return Err(NodeError::Plugins(taken.to_string()));
        }
        let dispatcher = Arc::new(dispatcher);
        remote.serve(&dispatcher);
        lsps.serve(&dispatcher);
        let mut rpc_config = RpcConfig::new(config.rpc_file.clone());
        rpc_config.limits = config.limits.clone();
        let rpc = match RpcServer::start(rpc_config, dispatcher).await {
            Ok(rpc) => rpc,
            Err(error) => {
                plugins.shutdown().await;
                manager.shutdown().await;
                return Err(NodeError::Rpc(error));
            }
        };
        if let Err(error) = plugins.init_all(manager.clone()).await {
            rpc.shutdown().await;
            plugins.shutdown().await;
            manager.shutdown().await;
            return Err(NodeError::Plugins(error.to_string()));
        }
        manager.set_custom_sink(Arc::new(CustomRouter {
            remote: remote.clone(),
            lsps: lsps.clone(),
            inbox: delivery.inbox().cloned(),
            plugins: plugins.custom_message_sink(),
        }));
        let remote_watch = remote.watch_peers();
        lsps.start();
        let onion_hooks = match onion.take_received() {
            Some(received) => tokio::spawn(run_onion_hooks(plugins.clone(), received)),
            None => tokio::spawn(async {}),
        };
        let onion_forward_failures = match onion.take_forward_failures() {
            Some(failures) => tokio::spawn(notify_forward_failures(plugins.clone(), failures)),
            None => tokio::spawn(async {}),
        };
        onion.start();
        manager.activate();
        let persister = tokio::spawn(persist_addresses(manager.clone(), store));
        for address in manager.listen_addrs() {
            tracing::info!("Listening on {address}");
        }
        for address in manager.websocket_addrs() {
            tracing::info!("Listening for WebSocket peers on {address}");
        }
        tracing::info!(
            "Server started with public key {}, network {}",
            manager.node_id(),
            network.name()
        );
        Ok(Node {
            controller,
            plugins,
            rpc,
            persister,
            remote_watch,
            _delivery: delivery,
            _lsps: lsps,
            _onion: onion,
            onion_hooks,
            onion_forward_failures,
            stop: stopped,
        })
    }

    /// The peer manager.
    pub fn manager(&self) -> &PeerManager {
        &self.controller.manager
    }

    /// The JSON-RPC socket's path.
    pub fn rpc_path(&self) -> &std::path::Path {
        self.rpc.path()
    }

    /// Resolves when the `stop` command asked the node to stop (`None`), or an important
    /// plugin died (`Some(why)`).
    pub async fn stop_requested(&self) -> Option<String> {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => None,
            reason = self.plugins.fatal() => Some(reason),
        }
    }

    /// Opens a channel with a connected peer, without funds (`--developer` lifecycle): stored
    /// first, then applied, so a crash can lose the reply but never the channel.
    ///
    /// # Errors
    /// The peer is unknown or not connected, or the store failed.
    pub fn open_channel(&self, peer: &PublicKey) -> Result<ChannelDbId, NodeError> {
        self.controller.open_channel(peer).map(|(dbid, _)| dbid)
    }

    /// Moves a channel along its lifecycle and stores the new state (or deletes the channel
    /// when it is forgotten).
    ///
    /// # Errors
    /// The step is impossible in the channel's state, or the store failed.
    pub fn channel_step(&self, peer: &PublicKey, input: PeerInput) -> Result<(), NodeError> {
        self.controller.channel_step(peer, input)
    }

    /// Closes the RPC socket and every connection, and waits for the peer tasks to end.
    pub async fn shutdown(self) {
        self.rpc.shutdown().await;
        self.plugins.shutdown().await;
        self.controller.manager.shutdown().await;
        self.persister.abort();
        self.remote_watch.abort();
        self.onion_hooks.abort();
        self.onion_forward_failures.abort();
        tracing::info!("lnpeerd shut down");
    }
}

impl Controller {
    /// Opens a channel with a connected peer, without funds (`--developer` lifecycle): stored
    /// first, then applied, so a crash can lose the reply but never the channel.
    ///
    /// # Errors
    /// The peer is unknown or not connected, or the store failed.
    fn open_channel(&self, peer: &PublicKey) -> Result<(ChannelDbId, [u8; 32]), NodeError> {
        let info = self.manager.peer(peer);
        if info.as_ref().and_then(|p| p.connection.as_ref()).is_none() {
            return Err(NodeError::Peer(peer_manager::PeerError::Invalid(
                subdaemon_state::InvalidTransition::NotConnected,
            )));
        }
        let mut channel_id = [0u8; 32];
        secp256k1::rand::RngCore::fill_bytes(&mut secp256k1::rand::thread_rng(), &mut channel_id);
        let address = info.and_then(|p| p.address);
        let dbid = {
            let mut store = self.lock_store();
            store.upsert_peer(
                peer.serialize(),
                address.map(|a| a.to_string()).as_deref(),
                now_unix(),
            )?;
            store.insert_channel(
                peer.serialize(),
                channel_id,
                ChannelState::ChanneldNormal,
                Opener::Local,
                now_unix(),
            )?
        };
        if let Err(error) = self.manager.apply(peer, PeerInput::ChannelOpened(dbid)) {
            self.lock_store().delete_channel(dbid)?;
            return Err(NodeError::Peer(error));
        }
        Ok((dbid, channel_id))
    }

    /// Moves a channel along its lifecycle and stores the new state (or deletes the channel
    /// when it is forgotten).
    ///
    /// # Errors
    /// The step is impossible in the channel's state, or the store failed.
    fn channel_step(&self, peer: &PublicKey, input: PeerInput) -> Result<(), NodeError> {
        // Opening also inserts the channel row, so it has its own method.
        let Some(dbid) = input
            .channel()
            .filter(|_| !matches!(input, PeerInput::ChannelOpened(_)))
        else {
            return Err(NodeError::CorruptState(format!(
                "{} is not a channel step",
                input.name()
            )));
        };
        self.manager.apply(peer, input).map_err(NodeError::Peer)?;
        let mut store = self.lock_store();
        match self
            .manager
            .peer(peer)
            .and_then(|p| p.channels.into_iter().find(|(id, _)| *id == dbid))
        {
            Some((_, state)) => store.set_channel_state(dbid, state)?,
            None => {
                store.delete_channel(dbid)?;
            }
        }
        Ok(())
    }

    fn lock_store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock()
    }
}

/// A failure of the node's own, as the RPC layer classifies it (it words them).
fn control_error(error: NodeError) -> rpc::NodeError {
    match error {
        NodeError::Store(error) => rpc::NodeError::Store(error.to_string()),
        NodeError::Peer(error) => rpc::NodeError::Lifecycle(error),
        // Not a command's doing: a step `channel_step` does not take, a bad stored row.
        other => rpc::NodeError::Internal(other.to_string()),
    }
}

impl NodeControl for Controller {
    fn manager(&self) -> &PeerManager {
        &self.manager
    }

    fn info(&self) -> &NodeInfo {
        &self.info
    }

    fn channels(&self) -> Result<Vec<rpc::ChannelRecord>, rpc::NodeError> {
        self.lock_store()
            .channels()
            .map_err(|e| rpc::NodeError::Store(e.to_string()))
    }

    fn open_channel(&self, peer: &PublicKey) -> Result<rpc::ChannelRecord, rpc::NodeError> {
        let (dbid, channel_id) =
            Controller::open_channel(self, peer).map_err(|error| match error {
                // Not connected, or gone before the channel could be applied.
                NodeError::Peer(_) => rpc::NodeError::PeerNotConnected(*peer),
                other => control_error(other),
            })?;
        Ok(rpc::ChannelRecord {
            peer_id: peer.serialize(),
            dbid,
            channel_id,
            state: ChannelState::ChanneldNormal,
            opener: rpc::Opener::Local,
            created_at: Some(now_unix()),
        })
    }

    fn channel_step(&self, peer: &PublicKey, input: PeerInput) -> Result<(), rpc::NodeError> {
        Controller::channel_step(self, peer, input).map_err(control_error)
    }

    fn peer_log(&self, peer: &PublicKey, level: LogLevel) -> Vec<LogEntry> {
        match crate::logging::book() {
            Some(book) => book.entries(&peer.to_string(), level),
            None => Vec::new(),
        }
    }

    fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    fn stored_sends(&self) -> Option<&dyn rpc::StoredSendQueue> {
        Some(&*self.stored_sends)
    }
}

/// The environment variable that asks for a key log, as ptarmigan reads it and Wireshark's
/// lightning-dissector documents it.
pub const KEY_LOG_ENV: &str = "LIGHTNINGKEYLOGFILE";

/// The key log asked for: `--dev-keylog-file`, else `$LIGHTNINGKEYLOGFILE` (non-empty), opened
/// to append; `None` when neither is set.
fn key_log(config: &Config) -> Option<Result<Arc<dyn noise_transport::KeyLog>, NodeError>> {
    let path = config.dev_keylog_file.clone().or_else(|| {
        std::env::var_os(KEY_LOG_ENV)
            .filter(|value| !value.is_empty())
            .map(std::path::PathBuf::from)
    })?;
    Some(match peer_manager::KeyLogFile::open(&path) {
        Ok(file) => {
            tracing::warn!(
                "Appending every BOLT 8 key to {}: whoever can read it can decrypt this \
                 node's peer traffic",
                path.display()
            );
            Ok(Arc::new(file))
        }
        Err(error) => Err(NodeError::Developer(format!(
            "cannot open the key log {}: {error}",
            path.display()
        ))),
    })
}

/// The `--dev-disconnect` file, read and parsed once.
fn dev_disconnect(path: &std::path::Path) -> Result<peer_protocol::DevDisconnect, NodeError> {
    let refuse = |error: &dyn std::fmt::Display| {
        NodeError::Developer(format!("--dev-disconnect {}: {error}", path.display()))
    };
    let text = std::fs::read_to_string(path).map_err(|error| refuse(&error))?;
    let script = peer_protocol::DevDisconnect::parse(&text).map_err(|error| refuse(&error))?;
    tracing::info!(
        "dev_disconnect: {} points from {}",
        script.points().len(),
        path.display()
    );
    Ok(script)
}

/// Remembers where we reached each peer we dialed, so peers with channels can be redialled
/// after a restart.
async fn persist_addresses(manager: PeerManager, store: SharedStore) {
    let mut events = manager.subscribe();
    loop {
        match events.recv().await {
            Ok(PeerEvent::Connected {
                id,
                direction: Direction::Outbound,
                ..
            }) => {
                let address = manager.peer(&id).and_then(|p| p.address);
                let mut store = store.lock();
                if let Err(error) = store.upsert_peer(
                    id.serialize(),
                    address.map(|a| a.to_string()).as_deref(),
                    now_unix(),
                ) {
                    tracing::error!(node_id = %id, "cannot store the peer's address: {error}");
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!("address persistence missed {missed} peer events");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Hands each onion message for us to the plugins' hook chain, one at a time: a message over
/// a path we issued to `onion_message_recv_secret`, any other to `onion_message_recv`.
async fn run_onion_hooks(
    plugins: PluginHost,
    mut received: tokio::sync::mpsc::Receiver<ReceivedOnionMessage>,
) {
    while let Some(message) = received.recv().await {
        let hook = if message.pathsecret.is_some() {
            OnionMessageHook::RecvSecret
        } else {
            OnionMessageHook::Recv
        };
        plugins.onion_message_hook(hook, &message.params).await;
    }
}

/// Sends `onionmessage_forward_fail` for each peer's onion message we could not pass on; its
/// JSON (two packets in hex) is built only while a plugin subscribes.
async fn notify_forward_failures(
    plugins: PluginHost,
    mut failures: tokio::sync::mpsc::Receiver<ForwardFailure>,
) {
    const TOPIC: &str = "onionmessage_forward_fail";
    while let Some(failure) = failures.recv().await {
        if plugins.has_subscribers(TOPIC) {
            plugins.notify(TOPIC, &failure.params());
        }
    }
}

/// Runs a node until `shutdown` resolves, then stops it cleanly.
///
/// # Errors
/// The node could not start.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    let node = Node::start(&config).await?;
    let fatal = tokio::select! {
        _ = shutdown => None,
        fatal = node.stop_requested() => fatal,
    };
    node.shutdown().await;
    match fatal {
        // As lightningd: the node exits with an error when an important plugin dies.
        Some(reason) => Err(NodeError::Plugins(reason)),
        None => Ok(()),
    }
}
