//! LDK's generic types, spelled out once for this node's choices: one `KeysManager` for keys,
//! entropy and signing; the fakes of `chain.rs`; LDK's default routers over an empty network
//! graph; our own handlers for LSPS and custom onion messages.

use std::sync::{Arc, RwLock};

use lightning::chain::chainmonitor::ChainMonitor;
use lightning::chain::Filter;
use lightning::ln::channelmanager::ChannelManager;
use lightning::ln::peer_handler::{IgnoringMessageHandler, PeerManager};
use lightning::onion_message::messenger::{DefaultMessageRouter, OnionMessenger};
use lightning::routing::gossip::NetworkGraph;
use lightning::routing::router::DefaultRouter;
use lightning::routing::scoring::{ProbabilisticScorer, ProbabilisticScoringFeeParameters};
use lightning::sign::{InMemorySigner, KeysManager};
use lightning::util::persist::KVStoreSyncWrapper;
use lightning_liquidity::utils::time::DefaultTimeProvider;
use lightning_liquidity::LiquidityManager;
use lightning_net_tokio::SocketDescriptor;

use crate::chain::{ConstantFeeEstimator, DroppingBroadcaster, MemoryStore};
use crate::connections::PeerWatch;
use crate::liquidity::LspsHandler;
use crate::log::NodeLogger;
use crate::onion::CustomOnionHandler;

/// A chain source; the node registers none (`None` of this type).
pub(crate) type ChainSource = Arc<dyn Filter + Send + Sync>;

pub(crate) type LdkChainMonitor = ChainMonitor<
    InMemorySigner,
    ChainSource,
    Arc<DroppingBroadcaster>,
    Arc<ConstantFeeEstimator>,
    Arc<NodeLogger>,
    Arc<MemoryStore>,
    Arc<KeysManager>,
>;

pub(crate) type Graph = NetworkGraph<Arc<NodeLogger>>;

pub(crate) type Scorer = ProbabilisticScorer<Arc<Graph>, Arc<NodeLogger>>;

pub(crate) type LdkRouter = DefaultRouter<
    Arc<Graph>,
    Arc<NodeLogger>,
    Arc<KeysManager>,
    Arc<RwLock<Scorer>>,
    ProbabilisticScoringFeeParameters,
    Scorer,
>;

pub(crate) type LdkMessageRouter =
    DefaultMessageRouter<Arc<Graph>, Arc<NodeLogger>, Arc<KeysManager>>;

pub(crate) type LdkChannelManager = ChannelManager<
    Arc<LdkChainMonitor>,
    Arc<DroppingBroadcaster>,
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<ConstantFeeEstimator>,
    Arc<LdkRouter>,
    Arc<LdkMessageRouter>,
    Arc<NodeLogger>,
>;

/// The store as the (async) liquidity manager wants it.
pub(crate) type LiquidityStore = KVStoreSyncWrapper<Arc<MemoryStore>>;

pub(crate) type LdkLiquidityManager = LiquidityManager<
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<LdkChannelManager>,
    ChainSource,
    LiquidityStore,
    DefaultTimeProvider,
    Arc<DroppingBroadcaster>,
>;

/// Offers, async payments and DNS resolution are not wired (`IgnoringMessageHandler`); the
/// `ChannelManager` resolves short channel ids for forwarding (it has no channels, so none).
pub(crate) type LdkOnionMessenger = OnionMessenger<
    Arc<KeysManager>,
    Arc<KeysManager>,
    Arc<NodeLogger>,
    Arc<LdkChannelManager>,
    Arc<LdkMessageRouter>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<IgnoringMessageHandler>,
    Arc<CustomOnionHandler>,
>;

/// Gossip is ignored (`IgnoringMessageHandler`): the node keeps no network graph of its own.
pub(crate) type LdkPeerManager = PeerManager<
    SocketDescriptor,
    Arc<LdkChannelManager>,
    Arc<IgnoringMessageHandler>,
    Arc<LdkOnionMessenger>,
    Arc<NodeLogger>,
    Arc<LspsHandler>,
    Arc<KeysManager>,
    Arc<PeerWatch>,
>;
