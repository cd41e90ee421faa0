//! What the peer manager tells its users: peer events, and the views of peers and connections
//! that its queries return.

use std::net::SocketAddr;

use node_config::DialAddress;
use noise_transport::PublicKey;
use subdaemon_state::{ChannelDbId, ChannelState, Owner};
use wire::{Features, NetAddress};

/// Which side opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The peer dialed us.
    Inbound,
    /// We dialed the peer.
    Outbound,
}

/// Something that happened to a peer, for the RPC and plugin layers. Custom messages are not
/// events: they go to the one consumer set with [`crate::PeerManager::set_custom_sink`] (or
/// [`crate::PeerManager::set_custom_handler`]), without loss.
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
    pub address: Option<DialAddress>,
    /// The prefix of its log lines (`openingd`, `channeld-chan#1`).
    pub log_prefix: String,
}
