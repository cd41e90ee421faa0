//! Settings of the peer manager, with the defaults and where their numbers come from. The
//! limits users can set are `node_config`'s table ([`Limits`]); the rest are here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use node_config::Limits;
use noise_transport::{KeyLog, SecretKey};
use wire::{ChainHash, Features};

/// Time an outgoing dial may take to resolve the host and open the TCP connection. 60 s is
/// Core Lightning's `connection_timeout_secs`, which CLN applies to the whole connection; here
/// the handshake and `init` that follow have their own deadlines ([`Limits::handshake_timeout`],
/// [`Limits::init_timeout`]), so this one only covers what a slow resolver or a lossy route delays.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Addresses to listen on for WebSocket peers (`--bind-addr=ws:`).
    pub websocket_listen: Vec<SocketAddr>,
    /// Features we offer in `init`.
    pub features: Features,
    /// See [`DIAL_TIMEOUT`].
    pub dial_timeout: Duration,
    /// The limits users set: handshakes, pings, queues, rates (`node_config`'s table).
    pub limits: Limits,
    /// See [`CONTROL_QUEUE_BYTES`].
    pub control_queue_bytes: usize,
    /// See [`KEEPALIVE_IDLE`].
    pub keepalive_idle: Duration,
    /// See [`KEEPALIVE_TICK_MIN`].
    pub keepalive_tick_min: Duration,
    /// See [`KEEPALIVE_TICK_JITTER`].
    pub keepalive_tick_jitter: Duration,
    /// See [`REDIAL_BACKOFF_MIN`].
    pub redial_backoff_min: Duration,
    /// See [`REDIAL_BACKOFF_MAX`].
    pub redial_backoff_max: Duration,
    /// Told every BOLT 8 key of every connection (a [`crate::KeyLogFile`] for Wireshark);
    /// `None`, the default, logs no key.
    pub key_log: Option<Arc<dyn KeyLog>>,
    /// `--dev-disconnect`: CLN's script of points where our side closes a connection or
    /// drops a message on purpose, shared by all connections; `None`, the default, is none.
    pub dev_disconnect: Option<peer_protocol::DevDisconnect>,
}

impl PeerManagerConfig {
    /// The defaults above, listening nowhere.
    pub fn new(node_secret: SecretKey, chain: ChainHash, default_port: u16) -> Self {
        PeerManagerConfig {
            node_secret,
            chain,
            default_port,
            listen: Vec::new(),
            websocket_listen: Vec::new(),
            features: peer_protocol::default_features(),
            dial_timeout: DIAL_TIMEOUT,
            limits: Limits::default(),
            control_queue_bytes: CONTROL_QUEUE_BYTES,
            keepalive_idle: KEEPALIVE_IDLE,
            keepalive_tick_min: KEEPALIVE_TICK_MIN,
            keepalive_tick_jitter: KEEPALIVE_TICK_JITTER,
            redial_backoff_min: REDIAL_BACKOFF_MIN,
            redial_backoff_max: REDIAL_BACKOFF_MAX,
            key_log: None,
            dev_disconnect: None,
        }
    }
}
