//! An LDK 0.2.7 node inside the test process, on the caller's tokio runtime: the peer lnpeer's
//! interop tests and benchmark run against when they need more of LDK than a bare
//! `PeerManager`.
//!
//! It owns a complete LDK message stack on a fake chain: a real `ChannelManager` (which
//! `lightning-liquidity` insists on), a `LiquidityManager` speaking bLIP-50 / LSPS0 as client and,
//! when configured, as service, and an `OnionMessenger` with a handler for custom onion messages.
//! It must not touch lnpeer's own crates: it is test support, and LDK is never a building block
//! of lnpeer itself (docs/decisions.md).
//!
//! ```text
//!   LdkNode ── PeerManager (lightning-net-tokio, 127.0.0.1)
//!                ├─ channel messages ─▶ ChannelManager ─▶ ChainMonitor ─▶ fake chain (chain.rs)
//!                ├─ onion messages ───▶ OnionMessenger ─▶ custom onion handler (onion.rs)
//!                ├─ custom messages ──▶ LiquidityManager, LSPS0 on type 37913 (liquidity.rs)
//!                └─ connect/disconnect ─▶ PeerWatch (connections.rs)
//! ```
//!
//! # Layout
//! - `node.rs`: [`LdkNode`] and [`LdkConfig`]: building the stack, listening, connecting,
//!   shutting down.
//! - `driver.rs`: the node's background tasks (accepting, the event loop, timer ticks).
//! - `chain.rs`: the fakes under the `ChannelManager`: constant fees, a broadcaster that drops,
//!   an in-memory store.
//! - `types.rs`: the long LDK generic types, spelled out once.
//! - `connections.rs`: which peers have finished the `init` exchange, for `connect` to await.
//! - `liquidity.rs`: LSPS0: [`LiquidityConfig`], `list_protocols` as one awaitable call.
//! - `onion.rs`: custom onion messages: send along explicit hops or to a blinded path, receive,
//!   reply.
//! - `blinded_path.rs`: blinded paths to this node, and their BOLT 4 `blinded_path` bytes.
//! - `log.rs`: LDK's log records, labelled per node, to stderr.
//!
//! # Example
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ldk_peer::{LdkConfig, LdkNode, LiquidityConfig, LspsServiceConfig};
//!
//! let lsp = LdkNode::start(LdkConfig {
//!     liquidity: LiquidityConfig { service: Some(LspsServiceConfig::default()) },
//!     ..LdkConfig::default()
//! })
//! .await?;
//! let client = LdkNode::start(LdkConfig { listen: false, ..LdkConfig::default() }).await?;
//! let address = lsp.listen_addr().expect("the LSP listens");
//! client.connect(lsp.node_id(), address).await?;
//! let protocols = client.lsps0_list_protocols(lsp.node_id()).await?;
//! # let _ = protocols;
//! client.shutdown().await;
//! lsp.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod blinded_path;
mod chain;
mod connections;
mod driver;
mod liquidity;
mod log;
mod node;
mod onion;
mod types;

pub use blinded_path::{
    blinded_path_from_parts, decode_blinded_path, encode_blinded_path, BlindedPathError,
};
pub use liquidity::{
    advertises_lsps, LiquidityConfig, ListProtocolsError, LspsServiceConfig, LSPS_FEATURE_BIT,
    LSPS_MESSAGE_TYPE,
};
pub use node::{ConnectError, LdkConfig, LdkNode, NodeKey, StartError};
pub use onion::{
    CustomOnionMessage, OnionDestination, OnionSendError, ReceivedOnionMessage, ReplyPath,
};

/// The LDK crates this node is built on, re-exported so users name the same versions
/// (`PublicKey`, `BlindedMessagePath`, `InitFeatures`, `Network`, ...).
pub use lightning;
pub use lightning_liquidity;
