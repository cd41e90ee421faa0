//! The BOLT 1 peer rules, without IO: what our `init` says, whether a peer's `init` is
//! acceptable, what to do with each incoming message, when to ping, how fast to answer pings,
//! and how fast to read a peer's bytes. The reader task feeds these functions and carries out
//! what they return.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use wire::{
    decode_message, ChainHash, Encode, ErrorMessage, Features, Init, KnownFeatures, Message,
    MsgType, NetAddress, Ping, TlvStream, Warning,
};

/// Odd (optional) bits we offer: data_loss_protect, var_onion_optin, static_remotekey,
/// payment_secret and channel_type. LND and Eclair disconnect peers that offer none of their
/// mandatory bits 0, 8, 12, 14, 44, and LDK's ChannelManager requires 12/13 (peers.md §3.2),
/// so a channel-less node offers the optional halves. We never set 3 (initial_routing_sync) or
/// 6/7 (gossip_queries): they make peers dump or sync gossip at us.
pub const OFFERED_FEATURE_BITS: [usize; 5] = [1, 9, 13, 15, 45];

/// Even bits peers commonly require and that BOLT 9 marks ASSUMED; treating the pairs as known
/// lets CLN, LND, Eclair and LDK connect to us.
pub const KNOWN_REQUIRED_BITS: [usize; 5] = [0, 8, 12, 14, 44];

/// Our `init`: empty legacy global features, `features` as given, `networks` with our chain,
/// and `remote_addr` when the connection is inbound (BOLT 1 "SHOULD set remote_addr").
pub fn our_init(
    features: &Features,
    chain: ChainHash,
    inbound_from: Option<SocketAddr>,
) -> Vec<u8> {
    Message::Init(Init {
        global_features: Features::new(),
        features: features.clone(),
        networks: Some(vec![chain]),
        remote_addr: inbound_from.map(NetAddress::from),
        unknown_tlvs: TlvStream::new(),
    })
    .to_bytes()
}

/// The default set of features we put in `init`.
pub fn default_features() -> Features {
    OFFERED_FEATURE_BITS.into_iter().collect()
}

/// The feature pairs we understand: the ones we offer and the assumed ones.
pub fn known_features(offered: &Features) -> KnownFeatures {
    let mut known = KnownFeatures::new();
    for bit in KNOWN_REQUIRED_BITS
        .into_iter()
        .chain(offered.iter_set_bits())
    {
        known.insert(bit);
    }
    known
}

/// Why a peer's `init` was refused; the text is what we send in the `warning` before closing
/// (Core Lightning's wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitRejection {
    /// `networks` is present and shares no chain with ours.
    NoCommonNetwork,
    /// The peer requires a feature we do not know.
    UnsupportedFeature(usize),
    /// The peer sets a feature without one it depends on.
    MissingDependency {
        /// The feature set.
        feature: usize,
        /// The feature it requires.
        requires: usize,
    },
}

impl std::fmt::Display for InitRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InitRejection::NoCommonNetwork => f.write_str("No common network"),
            InitRejection::UnsupportedFeature(bit) => write!(f, "Unsupported feature {bit}"),
            InitRejection::MissingDependency { feature, requires } => {
                write!(f, "Feature {feature} requires feature {requires}")
            }
        }
    }
}

/// Checks a peer's `init` against our chain and known features (BOLT 1 and BOLT 9).
///
/// # Errors
/// The first rule the `init` breaks, in CLN's order: networks, unknown even bits, dependencies.
pub fn check_remote_init(
    init: &Init,
    chain: ChainHash,
    known: &KnownFeatures,
) -> Result<(), InitRejection> {
    if let Some(networks) = &init.networks {
        if !networks.contains(&chain) {
            return Err(InitRejection::NoCommonNetwork);
        }
    }
    let features = init.combined_features();
    if let Some(&bit) = features.unknown_required_bits(known).first() {
        return Err(InitRejection::UnsupportedFeature(bit));
    }
    if let Some(&(feature, requires)) = features.missing_dependencies().first() {
        return Err(InitRejection::MissingDependency { feature, requires });
    }
    Ok(())
}

/// What the reader must do with one incoming message after `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do (gossip, unsolicited pong, an ignorable ping, unknown odd BOLT types).
    Ignore,
    /// Send this reply to the peer (a pong, or an `error` for a channel message).
    Reply(Vec<u8>),
    /// A ping that deserves a pong, if the rate limit allows: the pong's bytes.
    Pong(Vec<u8>),
    /// The pong to our ping arrived.
    PongReceived,
    /// A custom (or otherwise unhandled odd) message for plugins and subscribers.
    Custom(MsgType),
    /// The peer sent `warning`: log it, keep the connection.
    LogWarning(String),
    /// The peer sent `error`: log it and close.
    CloseOnError(String),
    /// Send this `warning` text, then close.
    WarnAndClose(String),
}

/// Bytes of an offending message quoted (as hex) in a warning; enough to identify it, and far
/// below what a `warning` can carry.
const QUOTED_BYTES: usize = 256;

/// Longest `warning` text: the message is at most 65535 bytes, less type, channel id, length.
const MAX_WARNING_TEXT: usize = 65_535 - 2 - 32 - 2;

/// Hex of `bytes`, cut to [`QUOTED_BYTES`] with a marker when longer.
fn quoted_hex(bytes: &[u8]) -> String {
    match bytes.get(..QUOTED_BYTES) {
        Some(head) if bytes.len() > QUOTED_BYTES => format!("{}...", hex::encode(head)),
        _ => hex::encode(bytes),
    }
}

/// Text for channel messages, which a channel-less node answers with an `error`.
const NO_CHANNELS: &str = "lnpeer does not support channels";

/// Decides what to do with a message received after `init`. `allow_even` tells whether a
/// plugin claimed an even type that is not BOLT-defined; it is only called for such types.
pub fn dispatch(message: &[u8], allow_even: impl Fn(MsgType) -> bool) -> Action {
    let Some(&[high, low]) = message.get(..2) else {
        return Action::WarnAndClose(format!("Message too short: {}", quoted_hex(message)));
    };
    let ty = MsgType(u16::from_be_bytes([high, low]));
    // Only the five BOLT 1 messages we handle are parsed; everything else is classified by
    // its type, so a custom message is not copied just to be looked at.
    if !matches!(
        ty,
        MsgType::INIT | MsgType::ERROR | MsgType::WARNING | MsgType::PING | MsgType::PONG
    ) {
        return dispatch_other(ty, &message[2..], &allow_even);
    }
    let decoded = match decode_message(message) {
        Ok(decoded) => decoded,
        Err(error) => {
            return Action::WarnAndClose(if ty == MsgType::PING {
                format!("Invalid ping {}", quoted_hex(message))
            } else {
                format!("Invalid {}: {error}", ty.name())
            })
        }
    };
    match decoded {
        Message::Init(_) => Action::WarnAndClose("Unexpected second init".to_owned()),
        Message::Ping(ping) => match ping.pong() {
            Some(pong) => Action::Pong(Message::Pong(pong).to_bytes()),
            None => Action::Ignore,
        },
        Message::Pong(_) => Action::PongReceived,
        Message::Error(error) => {
            Action::CloseOnError(sanitized("ERROR", &error.channel_id, &error.data_for_log()))
        }
        Message::Warning(warning) => Action::LogWarning(sanitized(
            "WARNING",
            &warning.channel_id,
            &warning.data_for_log(),
        )),
        // decode_message returns Other only for types filtered out above.
        Message::Other { ty, payload } => dispatch_other(ty, &payload, &allow_even),
    }
}

fn dispatch_other(ty: MsgType, payload: &[u8], allow_even: &impl Fn(MsgType) -> bool) -> Action {
    // Peer storage (7, 9) is odd and left to plugins, as in CLN.
    if matches!(ty.0, 7 | 9) {
        return Action::Custom(ty);
    }
    if ty.is_bolt_defined() {
        // stfu (2) and the channel range 32-255 belong to a channel we cannot have.
        if ty.0 == 2 || (32..=255).contains(&ty.0) {
            return match channel_id_of(ty, payload) {
                Some(channel_id) => Action::Reply(
                    Message::Error(ErrorMessage {
                        channel_id,
                        data: NO_CHANNELS.as_bytes().to_vec(),
                        tlvs: TlvStream::new(),
                    })
                    .to_bytes(),
                ),
                None => Action::WarnAndClose(format!("Invalid {}: too short", ty.name())),
            };
        }
        // Gossip and onion messages: nothing for a transport node to do.
        return Action::Ignore;
    }
    if ty.is_odd() || allow_even(ty) {
        Action::Custom(ty)
    } else {
        let mut whole = ty.0.to_be_bytes().to_vec();
        whole.extend_from_slice(payload);
        Action::WarnAndClose(format!("Invalid unknown even msg {}", quoted_hex(&whole)))
    }
}

/// The channel a channel message is about: `open_channel` and `open_channel2` carry the chain
/// hash first and the temporary channel id second; all others start with the channel id.
fn channel_id_of(ty: MsgType, payload: &[u8]) -> Option<[u8; 32]> {
    let offset = if matches!(ty.0, 32 | 64) { 32 } else { 0 };
    payload.get(offset..offset + 32)?.try_into().ok()
}

/// CLN's form for logging a received error or warning: `ERROR: text` or
/// `WARNING channel <cid>: text`.
fn sanitized(kind: &str, channel_id: &[u8; 32], text: &str) -> String {
    if channel_id == &[0u8; 32] {
        format!("{kind}: {text}")
    } else {
        format!("{kind} channel {}: {text}", hex::encode(channel_id))
    }
}

/// A `warning` for all channels with `text` (cut to what a message can carry), as bytes.
pub fn warning(text: &str) -> Vec<u8> {
    let data = &text.as_bytes()[..text.len().min(MAX_WARNING_TEXT)];
    Message::Warning(Warning {
        channel_id: [0; 32],
        data: data.to_vec(),
        tlvs: TlvStream::new(),
    })
    .to_bytes()
}

/// Our keepalive ping, as CLN sends it: one pong byte asked for, nothing ignored.
pub fn keepalive_ping() -> Vec<u8> {
    Message::Ping(Ping {
        num_pong_bytes: 1,
        ignored: Vec::new(),
        tlvs: TlvStream::new(),
    })
    .to_bytes()
}

/// CLN's keepalive: on each timer tick, if nothing has arrived for `idle`, ping; if our last
/// ping is still unanswered by then, hang up. Any received message counts as liveness, so a
/// peer busy sending bulk traffic is never pinged, and a late pong is not fatal.
#[derive(Debug, Clone)]
pub struct Keepalive {
    idle: Duration,
    last_received: Instant,
    ping_outstanding: bool,
}

/// What the keepalive timer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveAction {
    /// The peer is alive.
    Nothing,
    /// Send a ping.
    SendPing,
    /// The last ping went unanswered for a whole idle period: close.
    HangUp,
}

impl Keepalive {
    /// Starts the clock at `now` with no ping outstanding.
    pub fn new(idle: Duration, now: Instant) -> Self {
        Keepalive {
            idle,
            last_received: now,
            ping_outstanding: false,
        }
    }

    /// Any message arrived.
    pub fn on_message(&mut self, now: Instant) {
        self.last_received = now;
    }

    /// A pong arrived.
    pub fn on_pong(&mut self) {
        self.ping_outstanding = false;
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now: Instant) -> KeepaliveAction {
        if now.duration_since(self.last_received) < self.idle {
            return KeepaliveAction::Nothing;
        }
        if self.ping_outstanding {
            return KeepaliveAction::HangUp;
        }
        self.ping_outstanding = true;
        KeepaliveAction::SendPing
    }
}

/// A token bucket: `tokens` refill at `per_second` up to `burst`. The limiters below differ
/// only in what they charge and what they do when it is empty.
#[derive(Debug, Clone)]
struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    fn new(burst: f64, per_second: f64, now: Instant) -> Self {
        TokenBucket {
            per_second,
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        // An earlier `now` than the last one (callers' clocks are monotonic, but tests may
        // pass any) refills nothing.
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
    }
}

/// A token bucket for answering pings: pongs can be 65531 bytes, so an unlimited responder
/// amplifies a flood of small pings. Over the rate, pings go unanswered (not fatal: the
/// connection stays, as BOLT 1 only asks for "limited precautions").
#[derive(Debug, Clone)]
pub struct PingLimiter(TokenBucket);

impl PingLimiter {
    /// A full bucket of `burst` pings, refilled at `per_second`.
    pub fn new(burst: u32, per_second: u32, now: Instant) -> Self {
        PingLimiter(TokenBucket::new(
            f64::from(burst),
            f64::from(per_second),
            now,
        ))
    }

    /// Whether a ping arriving at `now` may be answered.
    pub fn allow(&mut self, now: Instant) -> bool {
        let bucket = &mut self.0;
        bucket.refill(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A token bucket over the bytes one peer sends us, refilled at `bytes_per_second` up to
/// `burst_bytes`. The reader charges each read after the fact (it cannot know a read's size
/// before making it), so the balance can go below zero; while it is not positive the reader
/// waits for [`InboundRateLimiter::wait`] before reading again. Over any span the peer gets at
/// most the burst, plus the rate times the span, plus one read.
#[derive(Debug, Clone)]
pub struct InboundRateLimiter(TokenBucket);

impl InboundRateLimiter {
    /// A full bucket of `burst_bytes` (at least 1), refilled at `bytes_per_second`; `None` for
    /// a rate of 0, which means no limit.
    pub fn new(bytes_per_second: u64, burst_bytes: u64, now: Instant) -> Option<Self> {
        if bytes_per_second == 0 {
            return None;
        }
        // Reading waits for a positive balance, which an empty bucket never reaches.
        let burst_bytes = burst_bytes.max(1) as f64;
        Some(InboundRateLimiter(TokenBucket::new(
            burst_bytes,
            bytes_per_second as f64,
            now,
        )))
    }

    /// `bytes` were read at `now`.
    pub fn charge(&mut self, bytes: usize, now: Instant) {
        self.0.refill(now);
        self.0.tokens -= bytes as f64;
    }

    /// How long to wait at `now` before reading again: `None` to read at once, else the time
    /// until the balance is back above zero (one byte's worth, so one wait is enough).
    pub fn wait(&mut self, now: Instant) -> Option<Duration> {
        let bucket = &mut self.0;
        bucket.refill(now);
        if bucket.tokens > 0.0 {
            return None;
        }
        // Positive and finite, as the debt is at most one read; at rates above 1 GB/s a byte's
        // worth rounds to no time at all, so wait at least a nanosecond.
        let seconds = (1.0 - bucket.tokens) / bucket.per_second;
        let wait = Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX);
        Some(wait.max(Duration::from_nanos(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_even(_: MsgType) -> bool {
        false
    }

    fn peer_init(features: &[usize], networks: Option<Vec<ChainHash>>) -> Init {
        Init {
            global_features: Features::new(),
            features: features.iter().copied().collect(),
            networks,
            remote_addr: None,
            unknown_tlvs: TlvStream::new(),
        }
    }

    #[test]
    fn our_init_offers_the_optional_bits_and_our_chain() {
        let bytes = our_init(
            &default_features(),
            ChainHash::REGTEST,
            Some("127.0.0.1:9735".parse().unwrap()),
        );
        let Message::Init(init) = decode_message(&bytes).unwrap() else {
            panic!("not init")
        };
        assert_eq!(
            init.features.iter_set_bits().collect::<Vec<_>>(),
            vec![1, 9, 13, 15, 45]
        );
        assert_eq!(init.networks, Some(vec![ChainHash::REGTEST]));
        assert_eq!(init.remote_addr.unwrap().to_string(), "127.0.0.1:9735");
        let outbound = our_init(&default_features(), ChainHash::REGTEST, None);
        let Message::Init(init) = decode_message(&outbound).unwrap() else {
            panic!("not init")
        };
        assert_eq!(init.remote_addr, None);
    }

    #[test]
    fn init_checks_follow_clns_order_and_wording() {
        let known = known_features(&default_features());
        let ok = peer_init(&[0, 8, 12, 14, 44, 99], Some(vec![ChainHash::REGTEST]));
        assert_eq!(check_remote_init(&ok, ChainHash::REGTEST, &known), Ok(()));
        let no_networks = peer_init(&[], None);
        assert_eq!(
            check_remote_init(&no_networks, ChainHash::REGTEST, &known),
            Ok(())
        );
        let wrong_chain = peer_init(&[34], Some(vec![ChainHash::BITCOIN]));
        let err = check_remote_init(&wrong_chain, ChainHash::REGTEST, &known).unwrap_err();
        assert_eq!(err.to_string(), "No common network");
        let unknown_even = peer_init(&[34], None);
        let err = check_remote_init(&unknown_even, ChainHash::REGTEST, &known).unwrap_err();
        assert_eq!(err.to_string(), "Unsupported feature 34");
        let missing_dependency = peer_init(&[17], None);
        let err = check_remote_init(&missing_dependency, ChainHash::REGTEST, &known).unwrap_err();
        assert_eq!(err.to_string(), "Feature 17 requires feature 14");
    }

    #[test]
    fn pings_are_answered_with_exactly_the_asked_bytes_below_65532() {
        for asked in [0u16, 1, 100, 65531] {
            let ping = Message::Ping(Ping {
                num_pong_bytes: asked,
                ignored: vec![1; 3],
                tlvs: TlvStream::new(),
            });
            let Action::Pong(pong) = dispatch(&ping.to_bytes(), no_even) else {
                panic!("no pong for {asked}")
            };
            let Message::Pong(pong) = decode_message(&pong).unwrap() else {
                panic!()
            };
            assert_eq!(pong.ignored, vec![0; usize::from(asked)]);
        }
        for asked in [65532u16, 65535] {
            let ping = Message::Ping(Ping {
                num_pong_bytes: asked,
                ignored: vec![],
                tlvs: TlvStream::new(),
            });
            assert_eq!(dispatch(&ping.to_bytes(), no_even), Action::Ignore);
        }
        assert_eq!(
            dispatch(&[0, 18, 0], no_even),
            Action::WarnAndClose("Invalid ping 001200".into())
        );
    }

    #[test]
    fn unknown_types_follow_the_odd_even_rule() {
        assert_eq!(
            dispatch(&[0x80, 0x01, 1, 2], no_even),
            Action::Custom(MsgType(32769))
        );
        assert_eq!(
            dispatch(&[0x00, 0x07, 0, 0], no_even),
            Action::Custom(MsgType(7))
        );
        assert_eq!(
            dispatch(&[0x80, 0x00, 0xab], no_even),
            Action::WarnAndClose("Invalid unknown even msg 8000ab".into())
        );
        assert_eq!(
            dispatch(&[0x80, 0x00, 0xab], |ty| ty == MsgType(32768)),
            Action::Custom(MsgType(32768))
        );
        // BOLT-defined even types are known: gossip is ignored, never a reason to close.
        assert_eq!(dispatch(&[0x01, 0x00, 0, 0], no_even), Action::Ignore);
        assert_eq!(dispatch(&[0x02, 0x01, 0], no_even), Action::Ignore);
    }

    #[test]
    fn the_largest_unknown_even_message_yields_a_warning_that_fits() {
        let mut huge = vec![0x80, 0x80];
        huge.resize(65_535, 0xee);
        let Action::WarnAndClose(text) = dispatch(&huge, no_even) else {
            panic!()
        };
        assert!(text.starts_with("Invalid unknown even msg 8080eeee"));
        assert!(text.ends_with("..."));
        assert_eq!(
            text.len(),
            "Invalid unknown even msg ".len() + 2 * QUOTED_BYTES + 3
        );
        let bytes = warning(&text);
        assert!(decode_message(&bytes).is_ok());
        let longest = warning(&"x".repeat(100_000));
        assert_eq!(longest.len(), 65_535);
    }

    #[test]
    fn channel_messages_get_an_error_for_their_channel() {
        let mut open_channel = vec![0, 32];
        open_channel.extend_from_slice(&[0xcc; 32]); // chain hash
        open_channel.extend_from_slice(&[0x11; 32]); // temporary channel id
        let Action::Reply(reply) = dispatch(&open_channel, no_even) else {
            panic!()
        };
        let Message::Error(error) = decode_message(&reply).unwrap() else {
            panic!()
        };
        assert_eq!(error.channel_id, [0x11; 32]);
        let mut shutdown = vec![0, 38];
        shutdown.extend_from_slice(&[0x22; 32]);
        shutdown.extend_from_slice(&[0, 0]);
        let Action::Reply(reply) = dispatch(&shutdown, no_even) else {
            panic!()
        };
        let Message::Error(error) = decode_message(&reply).unwrap() else {
            panic!()
        };
        assert_eq!(error.channel_id, [0x22; 32]);
        assert!(matches!(
            dispatch(&[0, 38, 1], no_even),
            Action::WarnAndClose(_)
        ));
    }

    #[test]
    fn error_closes_and_warning_is_logged_in_clns_form() {
        let error = Message::Error(ErrorMessage {
            channel_id: [0; 32],
            data: b"bye".to_vec(),
            tlvs: TlvStream::new(),
        });
        assert_eq!(
            dispatch(&error.to_bytes(), no_even),
            Action::CloseOnError("ERROR: bye".into())
        );
        let warning_bytes = warning("careful");
        assert_eq!(
            dispatch(&warning_bytes, no_even),
            Action::LogWarning("WARNING: careful".into())
        );
        let second_init = our_init(&default_features(), ChainHash::REGTEST, None);
        assert!(matches!(
            dispatch(&second_init, no_even),
            Action::WarnAndClose(_)
        ));
    }

    #[test]
    fn keepalive_pings_when_idle_and_hangs_up_when_unanswered() {
        let start = Instant::now();
        let idle = Duration::from_secs(60);
        let mut keepalive = Keepalive::new(idle, start);
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(59)),
            KeepaliveAction::Nothing
        );
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(61)),
            KeepaliveAction::SendPing
        );
        // Traffic other than the pong still counts as liveness.
        keepalive.on_message(start + Duration::from_secs(70));
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(100)),
            KeepaliveAction::Nothing
        );
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(131)),
            KeepaliveAction::HangUp
        );
        keepalive.on_pong();
        assert_eq!(
            keepalive.on_timer(start + Duration::from_secs(131)),
            KeepaliveAction::SendPing
        );
    }

    #[test]
    fn ping_limiter_allows_a_burst_then_the_rate() {
        let start = Instant::now();
        let mut limiter = PingLimiter::new(3, 2, start);
        assert!((0..3).all(|_| limiter.allow(start)));
        assert!(!limiter.allow(start));
        assert!(limiter.allow(start + Duration::from_millis(500)));
        assert!(!limiter.allow(start + Duration::from_millis(500)));
    }

    /// Whether `wait` is `millis` ms, give or take the float rounding of a nanosecond or so.
    fn waits_about(wait: Option<Duration>, millis: u64) -> bool {
        wait.is_some_and(|wait| {
            wait.abs_diff(Duration::from_millis(millis)) < Duration::from_micros(1)
        })
    }

    #[test]
    fn inbound_rate_limiter_lets_a_burst_through_then_waits_for_the_rate() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        assert!(
            InboundRateLimiter::new(0, 100, start).is_none(),
            "0 is no limit"
        );
        // 1000 bytes/s, a burst of 500.
        let mut limiter = InboundRateLimiter::new(1000, 500, start).unwrap();
        assert_eq!(limiter.wait(start), None);
        limiter.charge(499, start);
        assert_eq!(limiter.wait(start), None, "one byte of the burst is left");
        limiter.charge(1, start);
        // Empty: one byte's worth of refill (1 ms) before the next read.
        assert!(waits_about(limiter.wait(start), 1));
        assert_eq!(limiter.wait(start + ms(1)), None);
    }

    #[test]
    fn inbound_rate_limiter_charges_a_read_larger_than_the_balance_as_debt() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut limiter = InboundRateLimiter::new(1000, 100, start).unwrap();
        // One read of 1100 bytes: 1000 bytes of debt, so one second (and a byte) of waiting.
        limiter.charge(1100, start);
        assert!(waits_about(limiter.wait(start), 1001));
        assert!(waits_about(limiter.wait(start + ms(500)), 501));
        assert_eq!(limiter.wait(start + ms(1001)), None);
        // The bucket refills to its burst, never beyond, however long the peer is quiet.
        let later = start + Duration::from_secs(3600);
        assert_eq!(limiter.wait(later), None);
        limiter.charge(100, later);
        assert!(waits_about(limiter.wait(later), 1));
    }

    #[test]
    fn inbound_rate_limiter_over_time_allows_the_burst_plus_the_rate() {
        let start = Instant::now();
        let mut limiter = InboundRateLimiter::new(64 * 1024, 16 * 1024, start).unwrap();
        // A reader that reads 4 KiB whenever allowed, else sleeps as told.
        let mut now = start;
        let mut read = 0usize;
        while now < start + Duration::from_secs(2) {
            match limiter.wait(now) {
                None => {
                    limiter.charge(4096, now);
                    read += 4096;
                }
                Some(wait) => now += wait,
            }
        }
        let allowed = 16 * 1024 + 2 * 64 * 1024 + 4096;
        assert!(read <= allowed, "{read} > {allowed}");
        assert!(read >= 2 * 64 * 1024, "{read} is below the rate");
    }

    #[test]
    fn inbound_rate_limiter_with_an_empty_burst_still_reads() {
        let start = Instant::now();
        let mut limiter = InboundRateLimiter::new(10, 0, start).unwrap();
        assert_eq!(limiter.wait(start), None);
        limiter.charge(1, start);
        assert!(waits_about(limiter.wait(start), 100));
        // A clock that goes backwards refills nothing and does not panic.
        assert!(waits_about(
            limiter.wait(start - Duration::from_millis(1)),
            100
        ));
    }
}
