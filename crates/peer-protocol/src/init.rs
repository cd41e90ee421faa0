//! Our `init` and the checks a peer's `init` must pass (BOLT 1 and BOLT 9), with CLN's
//! warnings.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use wire::{
    decode_message, ChainHash, Encode, Features, Init, KnownFeatures, Message, MsgType, NetAddress,
    TlvStream,
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

/// Why a peer's `init` phase failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitFailure {
    /// A message shorter than its type.
    TooShort,
    /// The first message was neither `init` nor an ignorable odd type.
    FirstMessageNotInit(u16),
    /// The `init` did not parse.
    Malformed(String),
    /// The `init` broke a rule; the peer gets a `warning` with this text before we close.
    Rejected(InitRejection),
}

/// What to do with a message received while waiting for the peer's `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitStep {
    /// An odd message that is not a BOLT type, before `init`: skipped, as CLN does.
    Skip,
    /// The peer's `init`, checked.
    Accepted(Init),
    /// The connection cannot go on.
    Failed(InitFailure),
}

/// The phase after the handshake: our `init` is out and the peer's must arrive by a deadline.
#[derive(Debug, Clone)]
pub struct AwaitingInit {
    deadline: Instant,
    chain: ChainHash,
    known: KnownFeatures,
}

impl AwaitingInit {
    /// Waiting from `now` for at most `timeout`, for an `init` compatible with `chain` and the
    /// `known` features.
    pub fn new(now: Instant, timeout: Duration, chain: ChainHash, known: KnownFeatures) -> Self {
        AwaitingInit {
            deadline: now + timeout,
            chain,
            known,
        }
    }

    /// When the connection is closed if no `init` has come.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed at `now`.
    pub fn timed_out(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// One message from the peer.
    pub fn handle_message(&self, message: &[u8]) -> InitStep {
        let Some(&[high, low]) = message.get(..2) else {
            return InitStep::Failed(InitFailure::TooShort);
        };
        let ty = MsgType(u16::from_be_bytes([high, low]));
        if ty != MsgType::INIT {
            return if ty.is_odd() && !ty.is_bolt_defined() {
                InitStep::Skip
            } else {
                InitStep::Failed(InitFailure::FirstMessageNotInit(ty.0))
            };
        }
        let init = match decode_message(message) {
            Ok(Message::Init(init)) => init,
            Ok(_) => return InitStep::Failed(InitFailure::Malformed("not an init".into())),
            Err(error) => return InitStep::Failed(InitFailure::Malformed(error.to_string())),
        };
        match check_remote_init(&init, self.chain, &self.known) {
            Ok(()) => InitStep::Accepted(init),
            Err(rejection) => InitStep::Failed(InitFailure::Rejected(rejection)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn awaiting_init_skips_odd_messages_and_checks_the_init_by_its_deadline() {
        let start = Instant::now();
        let known = known_features(&default_features());
        let waiting = AwaitingInit::new(start, Duration::from_secs(15), ChainHash::REGTEST, known);
        assert_eq!(waiting.deadline(), start + Duration::from_secs(15));
        assert!(!waiting.timed_out(start + Duration::from_millis(14_999)));
        assert!(waiting.timed_out(start + Duration::from_secs(15)));
        assert_eq!(waiting.handle_message(&[0x80, 0x01, 7]), InitStep::Skip);
        assert_eq!(
            waiting.handle_message(&[0, 18, 0, 1, 0, 0]),
            InitStep::Failed(InitFailure::FirstMessageNotInit(18))
        );
        assert_eq!(
            waiting.handle_message(&[0, 17]),
            InitStep::Failed(InitFailure::FirstMessageNotInit(17))
        );
        assert_eq!(
            waiting.handle_message(&[0]),
            InitStep::Failed(InitFailure::TooShort)
        );
        assert!(matches!(
            waiting.handle_message(&[0, 16, 0]),
            InitStep::Failed(InitFailure::Malformed(_))
        ));
        let good = peer_init(&[1, 9], Some(vec![ChainHash::REGTEST]));
        assert_eq!(
            waiting.handle_message(&Message::Init(good.clone()).to_bytes()),
            InitStep::Accepted(good)
        );
        let wrong_chain = peer_init(&[], Some(vec![ChainHash::BITCOIN]));
        assert_eq!(
            waiting.handle_message(&Message::Init(wrong_chain).to_bytes()),
            InitStep::Failed(InitFailure::Rejected(InitRejection::NoCommonNetwork))
        );
    }
}
