//! Every denial-of-service limit a user can set, in one table: its option, help, default,
//! bounds and where it applies. A new limit is one row of [`limits!`] below; the row gives
//! [`Limits`] a typed field, `--help` a line, and the option parser its checks.
//!
//! Each row's doc comment says where its number comes from. The crates that enforce a limit
//! read it from the [`Limits`] their configuration carries (`PeerManagerConfig::limits`,
//! `RpcConfig::limits`).

use std::time::Duration;

/// Which part of the node enforces a limit (the help text groups by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The peer manager: connections, handshakes, peer traffic.
    Peer,
    /// The JSON-RPC socket.
    Rpc,
    /// Commando: JSON-RPC from peers, and to them.
    Commando,
    /// Custom-message delivery: the durable inbox and messages stored for offline peers.
    Delivery,
    /// The LSPS0 service (`--lsps-service`).
    Lsps,
    /// Onion messages (BOLT 4): received, forwarded and handed to plugins.
    Onion,
}

/// One row of the table, as the option parser and `--help` see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSpec {
    /// The option's name, without dashes.
    pub name: &'static str,
    /// Placeholder for the value in help text, e.g. `<bytes>`.
    pub arg: &'static str,
    /// What the number counts, for errors: `'x' is not a number of <unit>`.
    pub unit: &'static str,
    /// The default.
    pub default: u64,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted beyond what the field's type holds, with the reason.
    pub max: Option<(u64, &'static str)>,
    /// Where it applies.
    pub scope: Scope,
    /// The help line.
    pub help: &'static str,
}

/// A field type of [`Limits`], built from the option's whole number.
pub trait LimitValue: Sized {
    /// The value for `number`, if the type holds it.
    fn from_number(number: u64) -> Option<Self>;
}

impl LimitValue for u32 {
    fn from_number(number: u64) -> Option<Self> {
        u32::try_from(number).ok()
    }
}

impl LimitValue for u64 {
    fn from_number(number: u64) -> Option<Self> {
        Some(number)
    }
}

impl LimitValue for usize {
    fn from_number(number: u64) -> Option<Self> {
        usize::try_from(number).ok()
    }
}

/// Deadlines are whole seconds.
impl LimitValue for Duration {
    fn from_number(number: u64) -> Option<Self> {
        Some(Duration::from_secs(number))
    }
}

/// Why a value was refused; the option parser words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitRefusal {
    /// Below the row's minimum.
    TooSmall {
        /// The minimum.
        min: u64,
    },
    /// Above what the field holds.
    TooLarge,
    /// Above the row's maximum.
    AboveMax {
        /// The maximum.
        max: u64,
        /// Why.
        why: &'static str,
    },
}

macro_rules! limits {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $default:expr;
            option $name:literal $arg:literal, unit $unit:literal,
            min $min:expr, max $max:expr, $scope:ident,
            help $help:literal;
    )*) => {
        /// The limits, with their defaults from the table.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Limits {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for Limits {
            fn default() -> Self {
                Limits {
                    $( $field: from_default::<$ty>($default), )*
                }
            }
        }

        /// Every row, in help order.
        pub const LIMITS: &[LimitSpec] = &[
            $( LimitSpec {
                name: $name,
                arg: $arg,
                unit: $unit,
                default: $default,
                min: $min,
                max: $max,
                scope: Scope::$scope,
                help: $help,
            }, )*
        ];

        impl Limits {
            /// Sets the limit whose option is `name` to `number`, checked against its row.
            /// `None` if no row has that option.
            pub fn set(&mut self, name: &str, number: u64) -> Option<Result<(), LimitRefusal>> {
                match name {
                    $( $name => Some(checked(spec($name)?, number).map(|number| {
                        self.$field = number;
                    })), )*
                    _ => None,
                }
            }
        }
    };
}

/// The row of option `name`.
pub fn spec(name: &str) -> Option<&'static LimitSpec> {
    LIMITS.iter().find(|row| row.name == name)
}

fn checked<T: LimitValue>(row: &LimitSpec, number: u64) -> Result<T, LimitRefusal> {
    if number < row.min {
        return Err(LimitRefusal::TooSmall { min: row.min });
    }
    let value = T::from_number(number).ok_or(LimitRefusal::TooLarge)?;
    match row.max {
        Some((max, why)) if number > max => Err(LimitRefusal::AboveMax { max, why }),
        _ => Ok(value),
    }
}

/// A default from the table; the table's own test checks every default fits its field.
fn from_default<T: LimitValue + Default>(number: u64) -> T {
    T::from_number(number).unwrap_or_default()
}

/// The deepest `--rpc-max-nesting-depth`: members parsed into a `serde_json::Value` on their
/// own (`filter`, some params) sit at least one level down, and serde_json refuses a `Value`
/// nested 128 deep, so under this every member a request can hold still parses.
pub const RPC_NESTING_DEPTH_CEILING: u64 = jsonrpc::framing::SERDE_JSON_DEPTH_LIMIT as u64;

/// The smallest `--peer-send-queue-bytes`: one message of the largest size (BOLT 8's 16-bit
/// length), so that any message can be queued.
const MIN_SEND_QUEUE_BYTES: u64 = 65_535;

/// The smallest `--rpc-max-request-bytes`. Any limit refuses some requests; below this it would
/// refuse everyday ones (a `connect` with its id, host and port is a few hundred bytes), which
/// is a mistake, not a hardening. A `sendcustommsg` of the largest message needs about 128 KiB.
const MIN_RPC_REQUEST_BYTES: u64 = 4096;

limits! {
    /// Pings from one peer answered at once, then [`Limits::pings_per_second`]. lnd allows a
    /// burst of 200 at 10/s; pongs can be 65531 bytes, so we allow a smaller burst at the same
    /// sustained rate. Over the rate pings go unanswered (not fatal: BOLT 1 asks only for
    /// "limited precautions").
    ping_burst: u32 = 20;
        option "ping-burst" "<pings>", unit "pings", min 1, max None, Peer,
        help "Pings from one peer answered at once, before --pings-per-second applies";
    /// See [`Limits::ping_burst`].
    pings_per_second: u32 = 10;
        option "pings-per-second" "<pings>", unit "pings", min 1, max None, Peer,
        help "Pings from one peer answered per second after the burst; others go unanswered";
    /// Custom-message bytes one peer may have waiting to be written: 1 MiB holds 16 messages of
    /// the largest size or tens of thousands of small ones, so a peer that reads keeps its
    /// queue far below it, while one that stops reading costs at most this much memory (lnd
    /// caps its backlog at 16 MiB, LDK pauses reading at 12 queued messages; peers.md §12).
    peer_send_queue_bytes: usize = 1024 * 1024;
        option "peer-send-queue-bytes" "<bytes>", unit "bytes", min MIN_SEND_QUEUE_BYTES,
        max None, Peer,
        help "Custom-message bytes queued for one peer before sends to it fail (at least 65535)";
    /// Inbound connections allowed at once between TCP accept and the peer's `init`. When one
    /// more arrives, the oldest of them is closed (not the newcomer), so a peer that opens
    /// connections and stalls them (slowloris) can shut out an honest peer only by opening
    /// more than this many within the honest peer's handshake round trip. 256 is far above the
    /// handshakes an honest node sees at once, and holding that many costs only a socket and a
    /// small task each. Outgoing dials are not counted: we choose to make them, and they carry
    /// their own deadlines.
    max_pending_handshakes: usize = 256;
        option "max-pending-handshakes" "<count>", unit "connections", min 1, max None, Peer,
        help "Incoming connections in their handshake or init at once; one more closes the oldest";
    /// Time from TCP established to BOLT 8 act three done, either way. The three acts are 50,
    /// 50 and 66 bytes, so an honest peer needs about one and a half round trips. 15 s is what
    /// lnd allows (5 s for each of the three acts) and leaves room for Tor. A peer that stalls
    /// here is dropped.
    handshake_timeout: Duration = 15;
        option "handshake-timeout" "<seconds>", unit "seconds", min 1, max None, Peer,
        help "Close a connection whose BOLT 8 handshake takes longer than this";
    /// Time from the handshake's end until the peer's `init` has arrived (our own `init` goes
    /// out first). lnd waits 15 s for `init` too; an honest peer sends it right after act
    /// three, often in the same packet.
    init_timeout: Duration = 15;
        option "init-timeout" "<seconds>", unit "seconds", min 1, max None, Peer,
        help "Close a connection whose peer sends no init this long after the handshake";
    /// Inbound peers without a channel that may be connected at once; over it, a new one gets
    /// a `warning` and is closed. 250 is LDK's cap on peers without funded channels. Peers with
    /// a channel, peers we dialed, and a peer reconnecting (its new connection replaces the old
    /// one) are always admitted, so the cap only stops strangers from filling the node.
    max_inbound_peers_without_channel: usize = 250;
        option "max-inbound-peers-without-channel" "<count>", unit "peers", min 0, max None,
        Peer,
        help "Incoming peers without a channel at once; more get a warning and are closed";
    /// Bytes per second one peer may send us, read from its socket (0: no limit). Over it, its
    /// reader waits before reading again, so TCP pushes back on the peer; nothing is dropped
    /// and the connection stays up. 32 MiB/s is a few hundred times what gossip and channel
    /// traffic need, yet a few percent of what one core decrypts (benchmarks.md: about 1 GB/s
    /// one way with 60 KB messages), so one peer cannot take a core away from the others.
    peer_inbound_rate: u64 = 32 * 1024 * 1024;
        option "peer-inbound-rate" "<bytes/s>", unit "bytes per second", min 0, max None, Peer,
        help "Bytes per second read from one peer; a faster peer is slowed down (0: no limit)";
    /// Bytes a peer may send at once above [`Limits::peer_inbound_rate`] after a quiet spell:
    /// 8 MiB, a quarter second at that rate and 128 frames of the largest size, so bursts of
    /// ordinary traffic are never slowed.
    peer_inbound_burst: u64 = 8 * 1024 * 1024;
        option "peer-inbound-burst" "<bytes>", unit "bytes", min 1, max None, Peer,
        help "Bytes one peer may send at once above --peer-inbound-rate";
    /// The largest JSON-RPC request accepted. A connection whose next request grows beyond this
    /// is answered with an error (`id` null, -32600 `Request larger than N bytes`) and closed,
    /// without reading the rest. 16 MiB holds any request a command takes many times over.
    rpc_max_request_bytes: usize = 16 << 20;
        option "rpc-max-request-bytes" "<bytes>", unit "bytes", min MIN_RPC_REQUEST_BYTES,
        max None, Rpc,
        help "Largest JSON-RPC request accepted; a larger one closes its connection (at least 4096)";
    /// How deeply arrays and objects may nest in a JSON-RPC request, the request object itself
    /// being level 1. A request that opens one level more is answered with an error (`id` null,
    /// -32600 `Request nested deeper than N levels`) and its connection closed, as soon as that
    /// bracket is read. CLN's requests nest a few levels.
    rpc_max_nesting_depth: usize = 64;
        option "rpc-max-nesting-depth" "<levels>", unit "levels", min 1,
        max Some((
            RPC_NESTING_DEPTH_CEILING,
            "serde_json refuses values nested 128 levels deep, and a request's members sit \
             one level below it",
        )),
        Rpc,
        help "Arrays and objects nested in one JSON-RPC request; deeper is refused (1 to 128)";
    /// JSON-RPC connections open at once. Each holds a read buffer, a queue of responses and a
    /// task, so without a bound a local client could exhaust memory or descriptors; CLN has
    /// none. lightning-cli, pyln-client and each plugin hold one or a few. A connection past
    /// the limit is closed at once, unread, and a warning logged once per burst of refusals.
    rpc_max_connections: usize = 256;
        option "rpc-max-connections" "<count>", unit "connections", min 1, max None, Rpc,
        help "JSON-RPC connections open at once; one more is closed unread (at least 1)";
    /// Commando calls a peer may make at once after being quiet. 10: a wallet or dashboard
    /// opening (lnmessage apps such as Clams) sends a handful of calls together; 10 lets
    /// that through without delay.
    commando_burst: u32 = 10;
        option "commando-burst" "<calls>", unit "calls", min 1, max None, Commando,
        help "Commando calls from one peer answered at once, before --commando-calls-per-second";
    /// Commando calls per second from one peer after the burst (0: no limit). 2 is far above
    /// what a person clicking through an app needs, while a peer looping on large commands
    /// gets two runs a second, not as many as its link carries. Over it a call gets an error.
    commando_calls_per_second: u32 = 2;
        option "commando-calls-per-second" "<calls>", unit "calls", min 0, max None, Commando,
        help "Commando calls from one peer per second after the burst; more get an error (0: no limit)";
    /// How long the `commando` command waits for a peer's reply. CLN waits forever; a minute
    /// is ample for any command lnpeer serves, and a caller is never left hanging.
    commando_timeout: Duration = 60;
        option "commando-timeout" "<seconds>", unit "seconds", min 1, max None, Commando,
        help "Give up a commando call whose reply has not come this long after it was sent";
    /// Received custom messages the inbox keeps; the oldest go first. Any peer can send
    /// custom messages, so without bounds peers would fill the disk. 10,000 covers a day of a
    /// busy protocol's traffic for a plugin that was down.
    custommsg_inbox_max_count: u64 = 10_000;
        option "custommsg-inbox-max-count" "<messages>", unit "messages", min 1, max None, Delivery,
        help "Received custom messages kept in the inbox; the oldest are dropped first";
    /// Payload bytes the inbox keeps. 10,000 messages of 65 kB would be 650 MB; 64 MiB keeps
    /// the database small while holding thousands of typical messages.
    custommsg_inbox_max_bytes: u64 = 64 * 1024 * 1024;
        option "custommsg-inbox-max-bytes" "<bytes>", unit "bytes", min 65_535, max None, Delivery,
        help "Payload bytes kept in the inbox; the oldest messages are dropped first";
    /// How long a received message stays in the inbox: a week, to outlast a plugin that is
    /// down over a weekend.
    custommsg_inbox_max_age: Duration = 7 * 24 * 3600;
        option "custommsg-inbox-max-age" "<seconds>", unit "seconds", min 1, max None, Delivery,
        help "Drop received custom messages from the inbox after this long";
    /// Messages stored for one offline peer (`sendcustommsg` with delivery `stored`) and not
    /// yet sent. 100 is what a protocol needs to catch a peer up, and bounds what a mistyped
    /// node id costs.
    custommsg_stored_per_peer: u32 = 100;
        option "custommsg-stored-per-peer" "<messages>", unit "messages", min 1, max None, Delivery,
        help "Custom messages stored for one offline peer; one more is refused";
    /// How long a stored message waits for its peer unless the call gives a `ttl`: a day.
    custommsg_stored_ttl: Duration = 24 * 3600;
        option "custommsg-stored-ttl" "<seconds>", unit "seconds", min 1, max None, Delivery,
        help "How long a stored custom message waits for its peer before it expires";
    /// The largest LSPS request the service reads. bLIP-50's only limit is the message's,
    /// 65,533 bytes; LSPS0 requests are small (under a kilobyte), so a service may ask less.
    lsps_max_request_bytes: usize = 65_533;
        option "lsps-max-request-bytes" "<bytes>", unit "bytes", min 2,
        max Some((65_533, "bLIP-50 carries one request in one message of at most 65533 bytes")), Lsps,
        help "The largest LSPS request the service reads; larger ones get -32600";
    /// LSPS requests from one peer that a plugin has not answered yet. 10 is LDK's figure for
    /// its LSPS1 and LSPS2 services; more get error 1, "Client rejected".
    lsps_pending_per_peer: usize = 10;
        option "lsps-pending-per-peer" "<requests>", unit "requests", min 1, max None, Lsps,
        help "LSPS requests from one peer awaiting a plugin's answer; more are rejected";
    /// How long the service waits for a plugin to answer an LSPS request before it answers
    /// -32603 itself: two minutes, twice a client's usual timeout.
    lsps_forward_timeout: Duration = 120;
        option "lsps-forward-timeout" "<seconds>", unit "seconds", min 1, max None, Lsps,
        help "Answer an LSPS request with -32603 when its plugin has not answered in this long";
    /// Onion messages one peer may send us at once after a quiet spell. CLN's connectd gives
    /// each peer a bucket of 1000 ms refilled in real time and charges 250 ms per message
    /// (`ONION_MSG_TOKENS_MAX`, `ONION_MSG_MSEC`): a burst of 4, then one every 250 ms. Over
    /// it messages are dropped (BOLT 4: "MAY rate-limit messages by dropping them") and the
    /// peer gets one warning per connection; the connection stays.
    onion_message_burst: u32 = 4;
        option "onion-message-burst" "<messages>", unit "messages", min 1, max None, Onion,
        help "Onion messages from one peer handled at once, before --onion-messages-per-second";
    /// See [`Limits::onion_message_burst`]: CLN's one message per 250 ms.
    onion_messages_per_second: u32 = 4;
        option "onion-messages-per-second" "<messages>", unit "messages", min 1, max None, Onion,
        help "Onion messages from one peer handled per second after the burst; more are dropped";
    /// A forwarded (or sent) onion message is dropped when its next peer already has this many
    /// bytes waiting to be written: 128 KiB is LDK's `OUTBOUND_BUFFER_SIZE_LIMIT_DROP_GOSSIP`,
    /// past which it stops adding forwards to a peer's buffer. A peer that does not read thus
    /// holds at most this much of other peers' onion traffic, and other traffic to it keeps
    /// the rest of `--peer-send-queue-bytes`.
    onion_message_peer_queue_bytes: usize = 128 * 1024;
        option "onion-message-peer-queue-bytes" "<bytes>", unit "bytes", min 65_535, max None, Onion,
        help "Drop an onion message for a peer with more than this many bytes waiting to be written";
    /// Received onion messages waiting for the plugins' `onion_message_recv` hooks. The hooks
    /// run one message at a time; with every peer under its rate limit, 256 covers a burst
    /// from 64 peers at once. More are dropped, with a log line. The same bound applies,
    /// separately, to failed forwards waiting for `onionmessage_forward_fail`.
    onion_message_hook_queue: usize = 256;
        option "onion-message-hook-queue" "<messages>", unit "messages", min 1, max None, Onion,
        help "Received onion messages waiting for plugin hooks; more are dropped";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_fits_its_field_and_its_bounds() {
        let defaults = Limits::default();
        for row in LIMITS {
            assert!(row.default >= row.min, "{}", row.name);
            if let Some((max, _)) = row.max {
                assert!(row.default <= max, "{}", row.name);
            }
            let mut limits = defaults.clone();
            assert_eq!(
                limits.set(row.name, row.default),
                Some(Ok(())),
                "{}",
                row.name
            );
            assert_eq!(
                limits, defaults,
                "{}: the default set again changes nothing",
                row.name
            );
        }
    }

    #[test]
    fn values_are_checked_against_the_row() {
        let mut limits = Limits::default();
        assert_eq!(
            limits.set("ping-burst", 0),
            Some(Err(LimitRefusal::TooSmall { min: 1 }))
        );
        assert_eq!(
            limits.set("ping-burst", u64::from(u32::MAX) + 1),
            Some(Err(LimitRefusal::TooLarge))
        );
        assert!(matches!(
            limits.set("rpc-max-nesting-depth", 129),
            Some(Err(LimitRefusal::AboveMax { max: 128, .. }))
        ));
        assert_eq!(limits.set("handshake-timeout", 3), Some(Ok(())));
        assert_eq!(limits.handshake_timeout, Duration::from_secs(3));
        assert_eq!(limits.set("no-such-limit", 1), None);
        assert_eq!(limits.ping_burst, 20, "a refused value changes nothing");
    }

    #[test]
    fn option_names_are_unique() {
        for (i, row) in LIMITS.iter().enumerate() {
            assert!(
                LIMITS[i + 1..].iter().all(|other| other.name != row.name),
                "{}",
                row.name
            );
        }
    }
}
