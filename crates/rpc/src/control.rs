//! What the RPC layer needs from the node beyond the peer manager: identity, the channel
//! store, the peer log book, a way to stop, and (if the node has one) a queue for messages to
//! peers that are not connected. `lnpeerd` implements [`NodeControl`]; tests can
//! implement it over a bare [`PeerManager`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use jsonrpc::error::RpcError;
use node_config::LogLevel;
use noise_transport::PublicKey;
use peer_manager::PeerManager;
pub use subdaemon_state::{ChannelRecord, Opener};
use subdaemon_state::{Owner, PeerInput};

use crate::errors::NodeError;

/// Facts about the node that do not change while it runs.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    /// `alias`.
    pub alias: String,
    /// `color`, three bytes.
    pub color: [u8; 3],
    /// The network's name, e.g. `regtest`.
    pub network: String,
    /// `<lightning-dir>/<network>`, reported as getinfo's `lightning-dir`.
    pub network_dir: PathBuf,
    /// The version string, e.g. `v0.1.0-lnpeer`.
    pub version: String,
    /// `--developer`: `dev-` commands are available.
    pub developer: bool,
    /// The port `connect` uses when none is given.
    pub default_port: u16,
    /// Addresses we announce (getinfo's `address`).
    pub announced: Vec<SocketAddr>,
}

/// What `sendcustommsg` with `delivery` `stored` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredSubmission {
    /// The peer was connected and had nothing stored before it: queued at once through
    /// `owner`, as with `delivery` `queued`.
    Queued(Owner),
    /// Stored, to be sent in order once the peer is connected.
    Stored {
        /// Its id (`listsendcustommsgs`, `cancelsendcustommsg`).
        id: u64,
        /// When it expires if still not sent, in Unix seconds.
        expires_at: u64,
    },
}

/// Where `sendcustommsg` with `delivery` `stored` puts messages (the `delivery` crate's).
pub trait StoredSendQueue: Send + Sync + 'static {
    /// Queues `message` for `peer` now if it can be sent in order now, else stores it for at
    /// most `ttl` (the node's default if `None`).
    ///
    /// # Errors
    /// The peer cannot take messages at all (owned by closingd or onchaind), its stored
    /// queue is full, its connection's queue is full, or the store failed; CLN-style texts.
    fn submit(
        &self,
        peer: &PublicKey,
        message: &[u8],
        ttl: Option<Duration>,
    ) -> Result<StoredSubmission, RpcError>;
}

/// Which way the bytes of an IO log entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoDirection {
    /// Received from the peer.
    In,
    /// Sent to the peer.
    Out,
}

/// One remembered log line about a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Its level ([`LogLevel::Io`] for the bytes of a message).
    pub level: LogLevel,
    /// For an IO entry, which way the bytes went.
    pub io: Option<IoDirection>,
    /// Time since the node started.
    pub time: Duration,
    /// The peer, as hex.
    pub node_id: String,
    /// The subsystem that logged it, e.g. `connectd` or `channeld-chan#1`.
    pub source: String,
    /// The text (empty for IO entries).
    pub log: String,
    /// The bytes of an IO entry, as hex.
    pub data: Option<String>,
}

impl LogEntry {
    /// listpeers' `log[].type`: `IO_IN`, `IO_OUT`, `TRACE`, `DEBUG`, `INFO`, `UNUSUAL` or
    /// `BROKEN`.
    pub fn type_name(&self) -> &'static str {
        match (self.level, self.io) {
            (_, Some(IoDirection::In)) => "IO_IN",
            (_, Some(IoDirection::Out)) => "IO_OUT",
            (LogLevel::Io, None) => "IO",
            (LogLevel::Trace, None) => "TRACE",
            (LogLevel::Debug, None) => "DEBUG",
            (LogLevel::Info, None) => "INFO",
            (LogLevel::Unusual, None) => "UNUSUAL",
            (LogLevel::Broken, None) => "BROKEN",
        }
    }
}

/// The node, as commands see it. Every method is quick (no network waits), so commands can
/// call them from any task.
pub trait NodeControl: Send + Sync + 'static {
    /// The peer manager.
    fn manager(&self) -> &PeerManager;

    /// Facts about the node.
    fn info(&self) -> &NodeInfo;

    /// Every channel in the store.
    ///
    /// # Errors
    /// The store failed, or holds a channel this version cannot read.
    fn channels(&self) -> Result<Vec<ChannelRecord>, NodeError>;

    /// Opens a simulated channel with a connected peer (`--developer`).
    ///
    /// # Errors
    /// [`NodeError::PeerNotConnected`], or the store failed.
    fn open_channel(&self, peer: &PublicKey) -> Result<ChannelRecord, NodeError>;

    /// Moves a channel along its lifecycle and stores the result.
    ///
    /// # Errors
    /// [`NodeError::Lifecycle`] if the step is impossible in the channel's state, or the
    /// store failed.
    fn channel_step(&self, peer: &PublicKey, input: PeerInput) -> Result<(), NodeError>;

    /// The remembered log entries about `peer` of kind `level` or above, oldest first.
    fn peer_log(&self, peer: &PublicKey, level: LogLevel) -> Vec<LogEntry>;

    /// Asks the node to shut down (the `stop` command), after its reply is written.
    fn request_stop(&self);

    /// The queue for messages to peers that are not connected, if the node keeps one.
    fn stored_sends(&self) -> Option<&dyn StoredSendQueue> {
        None
    }
}
