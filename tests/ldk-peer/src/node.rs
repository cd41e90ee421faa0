//! [`LdkNode`]: builds LDK's stack for one node, listens, connects, and shuts down.
//!
//! The node runs on the caller's tokio runtime, which must be multi-threaded (LDK's
//! `lightning-net-tokio` spawns a task per connection and processes events from them). Its
//! own tasks (`driver.rs`) and every connection are tracked, and [`LdkNode::shutdown`] ends
//! them all; dropping the node aborts its tasks and disconnects every peer too.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lightning::bitcoin::secp256k1::{self, PublicKey, Secp256k1};
use lightning::bitcoin::Network;
use lightning::chain::chainmonitor::ChainMonitor;
use lightning::chain::BestBlock;
use lightning::ln::channelmanager::{ChainParameters, ChannelManager};
use lightning::ln::peer_handler::{IgnoringMessageHandler, MessageHandler, PeerManager};
use lightning::onion_message::messenger::{DefaultMessageRouter, OnionMessenger};
use lightning::routing::gossip::NetworkGraph;
use lightning::routing::router::DefaultRouter;
use lightning::routing::scoring::{
    ProbabilisticScorer, ProbabilisticScoringDecayParameters, ProbabilisticScoringFeeParameters,
};
use lightning::sign::{EntropySource, KeysManager, NodeSigner, Recipient};
use lightning::types::features::InitFeatures;
use lightning::util::config::UserConfig;
use lightning::util::logger::Level;
use lightning::util::persist::KVStoreSyncWrapper;
use lightning_liquidity::LiquidityManager;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::chain::{ConstantFeeEstimator, DroppingBroadcaster, MemoryStore};
use crate::connections::PeerWatch;
use crate::driver::{self, EventLoop};
use crate::liquidity::{LiquidityConfig, LspsHandler};
use crate::log::NodeLogger;
use crate::onion::{CustomOnionHandler, ReceivedOnionMessage};
use crate::types::{ChainSource, LdkChannelManager, LdkOnionMessenger, LdkPeerManager};

/// How long [`LdkNode::connect`] waits for the BOLT 8 handshake and the `init` exchange after
/// the TCP connection (which lightning-net-tokio bounds at 10 s by itself).
const INIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`LdkNode::shutdown`] waits for LDK's connection tasks to end once every peer is
/// told to disconnect (they end at their next wake-up, which the disconnect triggers).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where the node's key comes from.
#[derive(Debug, Clone, Copy)]
pub enum NodeKey {
    /// A fresh random seed: a new node id each run.
    Random,
    /// `KeysManager`'s seed: the same seed gives the same node id (derived from it by LDK).
    Seed([u8; 32]),
}

/// How to build a node.
#[derive(Debug, Clone)]
pub struct LdkConfig {
    /// The node key.
    pub key: NodeKey,
    /// Listen on 127.0.0.1 at a free port ([`LdkNode::listen_addr`]).
    pub listen: bool,
    /// The chain the `ChannelManager` is on; it is named in `init`'s `networks`, which lnpeer
    /// checks (the test harness runs lnpeerd on regtest).
    pub network: Network,
    /// LSPS roles.
    pub liquidity: LiquidityConfig,
    /// Run LDK's timer ticks (peer pings and stale handshakes every 10 s, the onion messenger's
    /// buffers every 10 s, the `ChannelManager` every 60 s). A benchmark may turn them off.
    pub timer_ticks: bool,
    /// Received custom onion messages kept unread before more are dropped.
    pub onion_inbox_capacity: usize,
    /// The node's name in log lines.
    pub label: String,
    /// LDK log records at this level or above go to stderr; `None` for none.
    pub log_level: Option<Level>,
}

impl Default for LdkConfig {
    fn default() -> Self {
        LdkConfig {
            key: NodeKey::Random,
            listen: true,
            network: Network::Regtest,
            liquidity: LiquidityConfig::default(),
            timer_ticks: true,
            onion_inbox_capacity: 1024,
            label: "ldk".to_owned(),
            log_level: Some(Level::Warn),
        }
    }
}

/// Why a node did not start.
#[derive(Debug)]
pub enum StartError {
    /// Binding 127.0.0.1:0 failed.
    Listen(std::io::Error),
    /// The liquidity manager could not read its state from the store.
    Liquidity(lightning::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(error) => write!(f, "cannot listen on 127.0.0.1: {error}"),
            StartError::Liquidity(error) => {
                write!(f, "cannot start the liquidity manager: {error}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// Why [`LdkNode::connect`] did not end with a connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No TCP connection to this address (refused, or no answer within 10 s).
    Unreachable(SocketAddr),
    /// The connection closed before the `init` exchange completed (wrong node id, or the peer
    /// refused our `init`).
    Closed,
    /// The handshake and `init` exchange took longer than 30 s. LDK drops the half-open
    /// connection at its next timer tick.
    Timeout,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Unreachable(address) => write!(f, "cannot reach {address}"),
            ConnectError::Closed => write!(f, "connection closed before init completed"),
            ConnectError::Timeout => write!(f, "no init exchange within {INIT_TIMEOUT:?}"),
        }
    }
}

impl std::error::Error for ConnectError {}

/// An LDK node in this process.
pub struct LdkNode {
    node_id: PublicKey,
    listen_addr: Option<SocketAddr>,
    pub(crate) keys: Arc<KeysManager>,
    pub(crate) secp: Secp256k1<secp256k1::All>,
    pub(crate) channel_manager: Arc<LdkChannelManager>,
    pub(crate) messenger: Arc<LdkOnionMessenger>,
    pub(crate) peer_manager: Arc<LdkPeerManager>,
    pub(crate) lsps: Arc<LspsHandler>,
    pub(crate) onion_inbox: tokio::sync::Mutex<mpsc::Receiver<ReceivedOnionMessage>>,
    peers: Arc<PeerWatch>,
    /// The listener, the event loop, the liquidity events.
    services: Mutex<JoinSet<()>>,
    /// One future per connection, which ends when LDK's tasks for it have ended.
    connections: Arc<Mutex<JoinSet<()>>>,
}

/// Locks a task set; a panic while holding it cannot leave it inconsistent.
pub(crate) fn lock(tasks: &Mutex<JoinSet<()>>) -> MutexGuard<'_, JoinSet<()>> {
    tasks.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LdkNode {
    /// Builds the node and starts its tasks on the current runtime.
    pub async fn start(config: LdkConfig) -> Result<LdkNode, StartError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let seed = match config.key {
            NodeKey::Random => secp256k1::rand::random(),
            NodeKey::Seed(seed) => seed,
        };
        // The time only seeds LDK's other randomness; the node key comes from the seed alone.
        let keys = Arc::new(KeysManager::new(
            &seed,
            now.as_secs(),
            now.subsec_nanos(),
            true,
        ));
        let node_id = keys
            .get_node_id(Recipient::Node)
            .unwrap_or_else(|()| unreachable!("KeysManager always has a node key"));
        let logger = Arc::new(NodeLogger::new(config.label.clone(), config.log_level));

        // The channel stack on the fake chain.
        let fees = Arc::new(ConstantFeeEstimator);
        let broadcaster = Arc::new(DroppingBroadcaster::new(Arc::clone(&logger)));
        let store = Arc::new(MemoryStore::new(Arc::clone(&logger)));
        let chain_monitor = Arc::new(ChainMonitor::new(
            None::<ChainSource>,
            Arc::clone(&broadcaster),
            Arc::clone(&logger),
            Arc::clone(&fees),
            Arc::clone(&store),
            Arc::clone(&keys),
            keys.get_peer_storage_key(),
        ));
        // LDK's default routers over a graph that stays empty (gossip is ignored): payments
        // find no route, and onion messages go to peers or along paths we give.
        let graph = Arc::new(NetworkGraph::new(config.network, Arc::clone(&logger)));
        let scorer = Arc::new(RwLock::new(ProbabilisticScorer::new(
            ProbabilisticScoringDecayParameters::default(),
            Arc::clone(&graph),
            Arc::clone(&logger),
        )));
        let router = Arc::new(DefaultRouter::new(
            Arc::clone(&graph),
            Arc::clone(&logger),
            Arc::clone(&keys),
            scorer,
            ProbabilisticScoringFeeParameters::default(),
        ));
        let message_router = Arc::new(DefaultMessageRouter::new(graph, Arc::clone(&keys)));
        let chain_params = ChainParameters {
            network: config.network,
            best_block: BestBlock::from_network(config.network),
        };
        let user_config = UserConfig {
            // Without a chain no channel can ever be funded, so say no at once.
            accept_inbound_channels: false,
            ..UserConfig::default()
        };
        let channel_manager: Arc<LdkChannelManager> = Arc::new(ChannelManager::new(
            fees,
            chain_monitor,
            Arc::clone(&broadcaster),
            router,
            Arc::clone(&message_router),
            Arc::clone(&logger),
            Arc::clone(&keys),
            Arc::clone(&keys),
            Arc::clone(&keys),
            user_config,
            chain_params,
            now.as_secs() as u32,
        ));

        let liquidity_manager = LiquidityManager::new(
            Arc::clone(&keys),
            Arc::clone(&keys),
            Arc::clone(&channel_manager),
            None::<ChainSource>,
            Some(chain_params),
            KVStoreSyncWrapper(Arc::clone(&store)),
            broadcaster,
            config.liquidity.service_config(),
            Some(config.liquidity.client_config()),
        )
        .await
        .map_err(StartError::Liquidity)?;
        let lsps = Arc::new(LspsHandler::new(
            Arc::new(liquidity_manager),
            Arc::clone(&logger),
        ));

        let (onion_handler, onion_inbox) =
            CustomOnionHandler::new(config.onion_inbox_capacity, Arc::clone(&logger));
        let ignoring = Arc::new(IgnoringMessageHandler {});
        let messenger: Arc<LdkOnionMessenger> = Arc::new(OnionMessenger::new(
            Arc::clone(&keys),
            Arc::clone(&keys),
            Arc::clone(&logger),
            Arc::clone(&channel_manager),
            message_router,
            Arc::clone(&ignoring),
            Arc::clone(&ignoring),
            Arc::clone(&ignoring),
            Arc::new(onion_handler),
        ));

        let peers = Arc::new(PeerWatch::new());
        let peer_manager: Arc<LdkPeerManager> = Arc::new(PeerManager::new(
            MessageHandler {
                chan_handler: Arc::clone(&channel_manager),
                route_handler: ignoring,
                onion_message_handler: Arc::clone(&messenger),
                custom_message_handler: Arc::clone(&lsps),
                send_only_message_handler: Arc::clone(&peers),
            },
            now.as_secs() as u32,
            &keys.get_secure_random_bytes(),
            Arc::clone(&logger),
            Arc::clone(&keys),
        ));

        let listener = if config.listen {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(StartError::Listen)?;
            Some(listener)
        } else {
            None
        };
        let listen_addr = match &listener {
            Some(listener) => Some(listener.local_addr().map_err(StartError::Listen)?),
            None => None,
        };

        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let mut services = JoinSet::new();
        if let Some(listener) = listener {
            services.spawn(driver::accept(
                listener,
                Arc::clone(&peer_manager),
                Arc::clone(&connections),
                Arc::clone(&logger),
            ));
        }
        services.spawn(
            EventLoop {
                peer_manager: Arc::clone(&peer_manager),
                channel_manager: Arc::clone(&channel_manager),
                messenger: Arc::clone(&messenger),
                lsps: Arc::clone(&lsps),
                store,
                logger,
                timer_ticks: config.timer_ticks,
            }
            .run(),
        );
        services.spawn(Arc::clone(&lsps).run_events());

        Ok(LdkNode {
            node_id,
            listen_addr,
            keys,
            secp: Secp256k1::new(),
            channel_manager,
            messenger,
            peer_manager,
            lsps,
            onion_inbox: tokio::sync::Mutex::new(onion_inbox),
            peers,
            services: Mutex::new(services),
            connections,
        })
    }

    /// This node's id.
    pub fn node_id(&self) -> PublicKey {
        self.node_id
    }

    /// Where the node accepts connections (127.0.0.1), if it listens.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_addr
    }

    /// Dials `peer` at `address` and returns once both `init`s are exchanged (at once if the
    /// peer is already connected).
    pub async fn connect(&self, peer: PublicKey, address: SocketAddr) -> Result<(), ConnectError> {
        if self.is_connected(&peer) {
            return Ok(());
        }
        let connection =
            lightning_net_tokio::connect_outbound(Arc::clone(&self.peer_manager), peer, address)
                .await
                .ok_or(ConnectError::Unreachable(address))?;
        let (ended, ended_signal) = oneshot::channel();
        spawn_connection(&self.connections, async move {
            connection.await;
            let _ = ended.send(());
        });
        tokio::select! {
            biased;
            () = self.peers.connected(peer) => Ok(()),
            _ = ended_signal => Err(ConnectError::Closed),
            () = tokio::time::sleep(INIT_TIMEOUT) => Err(ConnectError::Timeout),
        }
    }

    /// Whether `peer` is connected (its `init` accepted).
    pub fn is_connected(&self, peer: &PublicKey) -> bool {
        self.peers.is_connected(peer)
    }

    /// Returns once `peer` is connected, e.g. after it dialled this node.
    pub async fn wait_connected(&self, peer: PublicKey) {
        self.peers.connected(peer).await;
    }

    /// Returns once `peer` is not connected.
    pub async fn wait_disconnected(&self, peer: PublicKey) {
        self.peers.disconnected(peer).await;
    }

    /// Closes the connection to `peer`, if any.
    pub fn disconnect(&self, peer: PublicKey) {
        self.peer_manager.disconnect_by_node_id(peer);
    }

    /// The features `peer` sent in its `init`, if it is connected.
    pub fn peer_init_features(&self, peer: &PublicKey) -> Option<InitFeatures> {
        self.peer_manager
            .peer_by_node_id(peer)
            .map(|details| details.init_features)
    }

    /// Stops accepting, disconnects every peer, and waits until every task of this node, and
    /// every LDK task serving one of its connections, has ended.
    pub async fn shutdown(self) {
        let mut services = std::mem::take(&mut *lock(&self.services));
        services.shutdown().await;
        self.peer_manager.disconnect_all_peers();
        let mut connections = std::mem::take(&mut *lock(&self.connections));
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            eprintln!(
                "ldk-peer: {} connection task(s) still running {SHUTDOWN_GRACE:?} after disconnecting",
                connections.len()
            );
        }
        connections.shutdown().await;
    }
}

impl Drop for LdkNode {
    fn drop(&mut self) {
        // Without `shutdown`: stop accepting first, then close every connection so LDK's tasks
        // end; the task sets abort whatever is left when they drop.
        lock(&self.services).abort_all();
        self.peer_manager.disconnect_all_peers();
    }
}

/// Tracks a connection's future, after reaping the ones that have ended.
pub(crate) fn spawn_connection(
    connections: &Mutex<JoinSet<()>>,
    connection: impl Future<Output = ()> + Send + 'static,
) {
    let mut connections = lock(connections);
    while connections.try_join_next().is_some() {}
    connections.spawn(connection);
}
