//! Settings of the peer manager, with the defaults and where their numbers come from.

use std::net::SocketAddr;
use std::time::Duration;

use noise_transport::SecretKey;
use wire::{ChainHash, Features};

use crate::protocol;

/// Time for one connection to get from TCP connect through the BOLT 8 handshake to both
/// `init`s: Core Lightning's `connection_timeout_secs`, 60 s for all of it. A peer that stalls
/// anywhere in between is dropped when it runs out.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// Custom-message bytes one peer may have waiting to be written: 1 MiB holds 16 messages of the
/// largest size or tens of thousands of small ones, so a peer that reads keeps its queue far
/// below it, while one that stops reading costs at most this much memory (lnd caps its backlog
/// at 16 MiB, LDK pauses reading at 12 queued messages; peers.md §12).
pub const SEND_QUEUE_BYTES: usize = 1024 * 1024;

/// Control bytes (pongs, pings, warnings, errors) one peer may have waiting: four pongs of the
/// largest size, so pongs never wait for custom traffic to drain from its own budget.
pub const CONTROL_QUEUE_BYTES: usize = 4 * 65_536;

/// Silence after which we ping, and after which an unanswered ping hangs up (CLN: 60 s).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);

/// The keepalive timer fires every `KEEPALIVE_TICK_MIN` plus up to `KEEPALIVE_TICK_JITTER`
/// (CLN: 15 + random(30) s), so thousands of peers don't ping in lockstep.
pub const KEEPALIVE_TICK_MIN: Duration = Duration::from_secs(15);
/// See [`KEEPALIVE_TICK_MIN`].
pub const KEEPALIVE_TICK_JITTER: Duration = Duration::from_secs(30);

/// Pings answered in a burst, then per second. lnd allows a burst of 200 at 10/s; pongs can be
/// 65531 bytes, so we allow a smaller burst at the same sustained rate.
pub const PING_BURST: u32 = 20;
/// See [`PING_BURST`].
pub const PINGS_PER_SECOND: u32 = 10;

/// Redial backoff for peers with channels: start at 1 s, double up to 5 minutes.
pub const REDIAL_BACKOFF_MIN: Duration = Duration::from_secs(1);
/// See [`REDIAL_BACKOFF_MIN`].
pub const REDIAL_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Everything the peer manager needs to know; start from [`PeerManagerConfig::new`].
#[derive(Clone)]
pub struct PeerManagerConfig {
    /// Our node key.
    pub node_secret: SecretKey,
    /// The chain we put in `networks` and require in the peer's.
    pub chain: ChainHash,
    /// The port to dial when an address has none (9735 on bitcoin, 19846 on regtest, ...).
    pub default_port: u16,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Features we offer in `init`.
    pub features: Features,
    /// See [`CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// See [`SEND_QUEUE_BYTES`].
    pub send_queue_bytes: usize,
    /// See [`CONTROL_QUEUE_BYTES`].
    pub control_queue_bytes: usize,
    /// See [`KEEPALIVE_IDLE`].
    pub keepalive_idle: Duration,
    /// See [`KEEPALIVE_TICK_MIN`].
    pub keepalive_tick_min: Duration,
    /// See [`KEEPALIVE_TICK_JITTER`].
    pub keepalive_tick_jitter: Duration,
    /// See [`PING_BURST`].
    pub ping_burst: u32,
    /// See [`PINGS_PER_SECOND`].
    pub pings_per_second: u32,
    /// See [`REDIAL_BACKOFF_MIN`].
    pub redial_backoff_min: Duration,
    /// See [`REDIAL_BACKOFF_MAX`].
    pub redial_backoff_max: Duration,
}

impl PeerManagerConfig {
    /// The defaults above, listening nowhere.
    pub fn new(node_secret: SecretKey, chain: ChainHash, default_port: u16) -> Self {
        PeerManagerConfig {
            node_secret,
            chain,
            default_port,
            listen: Vec::new(),
            features: protocol::default_features(),
            connect_timeout: CONNECT_TIMEOUT,
            send_queue_bytes: SEND_QUEUE_BYTES,
            control_queue_bytes: CONTROL_QUEUE_BYTES,
            keepalive_idle: KEEPALIVE_IDLE,
            keepalive_tick_min: KEEPALIVE_TICK_MIN,
            keepalive_tick_jitter: KEEPALIVE_TICK_JITTER,
            ping_burst: PING_BURST,
            pings_per_second: PINGS_PER_SECOND,
            redial_backoff_min: REDIAL_BACKOFF_MIN,
            redial_backoff_max: REDIAL_BACKOFF_MAX,
        }
    }
}
