//! Settings of the peer manager, with the defaults and where their numbers come from.

use std::net::SocketAddr;
use std::time::Duration;

use noise_transport::SecretKey;
use wire::{ChainHash, Features};

use crate::protocol;

/// Time an outgoing dial may take to resolve the host and open the TCP connection. 60 s is
/// Core Lightning's `connection_timeout_secs`, which CLN applies to the whole connection; here
/// the handshake and `init` that follow have their own deadlines ([`HANDSHAKE_TIMEOUT`],
/// [`INIT_TIMEOUT`]), so this one only covers what a slow resolver or a lossy route delays.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(60);

/// Time from TCP established to BOLT 8 act three done, either way. The three acts are 50, 50
/// and 66 bytes, so an honest peer needs about one and a half round trips. 15 s is what lnd
/// allows (5 s for each of the three acts) and leaves room for Tor. A peer that stalls here is
/// dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);

/// Time from the handshake's end until the peer's `init` has arrived (our own `init` goes out
/// first). lnd waits 15 s for `init` too; an honest peer sends it right after act three, often
/// in the same packet.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(15);

/// Inbound connections allowed at once between TCP accept and the peer's `init`. When one more
/// arrives, the oldest of them is closed (not the newcomer), so a peer that opens connections
/// and stalls them (slowloris) can shut out an honest peer only by opening more than this many
/// within the honest peer's handshake round trip. 256 is far above the handshakes an honest
/// node sees at once, and holding that many costs only a socket and a small task each.
/// Outgoing dials are not counted: we choose to make them, and they carry their own deadlines.
pub const MAX_PENDING_HANDSHAKES: usize = 256;

/// Inbound peers without a channel that may be connected at once; over it, a new one gets a
/// `warning` and is closed. 250 is LDK's cap on peers without funded channels. Peers with a
/// channel, peers we dialed, and a peer reconnecting (its new connection replaces the old
/// one) are always admitted, so the cap only stops strangers from filling the node.
pub const MAX_INBOUND_PEERS_WITHOUT_CHANNEL: usize = 250;

/// Bytes per second one peer may send us, read from its socket (0: no limit). Over it, its
/// reader waits before reading again, so TCP pushes back on the peer; nothing is dropped and
/// the connection stays up. 32 MiB/s is a few hundred times what gossip and channel traffic
/// need, yet a few percent of what one core decrypts (benchmarks.md: about 1 GB/s one way with
/// 60 KB messages), so one peer cannot take a core away from the others.
pub const INBOUND_BYTES_PER_SECOND: u64 = 32 * 1024 * 1024;

/// Bytes a peer may send at once above [`INBOUND_BYTES_PER_SECOND`] after a quiet spell: 8 MiB,
/// a quarter second at that rate and 128 frames of the largest size, so bursts of ordinary
/// traffic are never slowed.
pub const INBOUND_BURST_BYTES: u64 = 8 * 1024 * 1024;

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
    /// See [`DIAL_TIMEOUT`].
    pub dial_timeout: Duration,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`INIT_TIMEOUT`].
    pub init_timeout: Duration,
    /// See [`MAX_PENDING_HANDSHAKES`]; 0 counts as 1.
    pub max_pending_handshakes: usize,
    /// See [`MAX_INBOUND_PEERS_WITHOUT_CHANNEL`].
    pub max_inbound_peers_without_channel: usize,
    /// See [`INBOUND_BYTES_PER_SECOND`]; 0 means no limit.
    pub inbound_bytes_per_second: u64,
    /// See [`INBOUND_BURST_BYTES`]; 0 counts as 1.
    pub inbound_burst_bytes: u64,
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
            dial_timeout: DIAL_TIMEOUT,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            init_timeout: INIT_TIMEOUT,
            max_pending_handshakes: MAX_PENDING_HANDSHAKES,
            max_inbound_peers_without_channel: MAX_INBOUND_PEERS_WITHOUT_CHANNEL,
            inbound_bytes_per_second: INBOUND_BYTES_PER_SECOND,
            inbound_burst_bytes: INBOUND_BURST_BYTES,
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
