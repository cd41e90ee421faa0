//! BOLT 9 feature bitmaps: the mechanics only. Which features to offer, and whether a peer's
//! map is acceptable, is the peer layer's decision; this module answers the questions it asks
//! ("which even bits don't we know?", "which dependencies are missing?").

use std::fmt;
use std::hash::{Hash, Hasher};

/// Named BOLT 9 feature bits. Each constant is the even ("compulsory") bit of its pair; the odd
/// ("optional") bit is the constant plus one. Numbers and names are BOLT 9's table
/// (lightning/bolts `09-features.md`), except where a constant's doc says otherwise.
pub mod bits {
    /// `option_data_loss_protect`, bits 0/1 (ASSUMED).
    pub const OPTION_DATA_LOSS_PROTECT: usize = 0;
    /// `initial_routing_sync`, bit 3. Odd only: it never had a compulsory bit, and it has
    /// since been dropped from BOLT 9's table, but LDK still answers it with a full
    /// routing-table dump.
    pub const INITIAL_ROUTING_SYNC: usize = 3;
    /// `option_upfront_shutdown_script`, bits 4/5.
    pub const OPTION_UPFRONT_SHUTDOWN_SCRIPT: usize = 4;
    /// `gossip_queries`, bits 6/7.
    pub const GOSSIP_QUERIES: usize = 6;
    /// `var_onion_optin`, bits 8/9 (ASSUMED).
    pub const VAR_ONION_OPTIN: usize = 8;
    /// `gossip_queries_ex`, bits 10/11.
    pub const GOSSIP_QUERIES_EX: usize = 10;
    /// `option_static_remotekey`, bits 12/13 (ASSUMED).
    pub const OPTION_STATIC_REMOTEKEY: usize = 12;
    /// `payment_secret`, bits 14/15 (ASSUMED).
    pub const PAYMENT_SECRET: usize = 14;
    /// `basic_mpp`, bits 16/17; depends on `payment_secret`.
    pub const BASIC_MPP: usize = 16;
    /// `option_support_large_channel` ("wumbo"), bits 18/19.
    pub const OPTION_SUPPORT_LARGE_CHANNEL: usize = 18;
    /// `option_anchors` (zero-fee HTLC anchors), bits 22/23.
    pub const OPTION_ANCHORS: usize = 22;
    /// `option_route_blinding`, bits 24/25.
    pub const OPTION_ROUTE_BLINDING: usize = 24;
    /// `option_shutdown_anysegwit`, bits 26/27.
    pub const OPTION_SHUTDOWN_ANYSEGWIT: usize = 26;
    /// `option_dual_fund`, bits 28/29.
    pub const OPTION_DUAL_FUND: usize = 28;
    /// `option_quiesce`, bits 34/35.
    pub const OPTION_QUIESCE: usize = 34;
    /// `option_attribution_data`, bits 36/37.
    pub const OPTION_ATTRIBUTION_DATA: usize = 36;
    /// `option_onion_messages`, bits 38/39.
    pub const OPTION_ONION_MESSAGES: usize = 38;
    /// `option_provide_storage`, bits 42/43.
    pub const OPTION_PROVIDE_STORAGE: usize = 42;
    /// `option_channel_type`, bits 44/45 (ASSUMED).
    pub const OPTION_CHANNEL_TYPE: usize = 44;
    /// `option_scid_alias`, bits 46/47.
    pub const OPTION_SCID_ALIAS: usize = 46;
    /// `option_payment_metadata`, bits 48/49 (BOLT 11 invoices only).
    pub const OPTION_PAYMENT_METADATA: usize = 48;
    /// `option_zeroconf`, bits 50/51; depends on `option_scid_alias`.
    pub const OPTION_ZEROCONF: usize = 50;
    /// `option_simple_close`, bits 60/61; depends on `option_shutdown_anysegwit`.
    pub const OPTION_SIMPLE_CLOSE: usize = 60;
    /// `option_splice`, bits 62/63.
    pub const OPTION_SPLICE: usize = 62;

    /// BOLT 9's "Dependencies" column as `(feature, depends_on)` pairs, both given by their
    /// even bit. Rows of older BOLT 9 revisions whose target is now ASSUMED
    /// (`gossip_queries_ex` → `gossip_queries`, `payment_secret` → `var_onion_optin`) are left
    /// out on purpose: current peers need not set them, and BOLT 1 says to close on a missing
    /// dependency, so enforcing stale rows would drop good peers.
    pub const DEPENDENCIES: &[(usize, usize)] = &[
        (BASIC_MPP, PAYMENT_SECRET),
        (OPTION_ZEROCONF, OPTION_SCID_ALIAS),
        (OPTION_SIMPLE_CLOSE, OPTION_SHUTDOWN_ANYSEGWIT),
    ];
}

/// The highest bit a feature field can hold: `init` gives each map a `u16` byte length
/// (BOLT 1), so at most 65535 bytes of 8 bits.
pub const MAX_FEATURE_BIT: usize = 65535 * 8 - 1;

/// A feature bitmap, held as its wire bytes: big-endian, bit 0 is the least significant bit
/// of the last byte (BOLT 1 / BOLT 9).
///
/// [`Features::from_wire`] keeps the bytes exactly as received, including any leading zero
/// padding (BOLT 1 only says the sender "SHOULD use the minimum length"), so a decoded message
/// re-encodes byte for byte. Every mutation leaves the minimal encoding. Equality and hashing
/// compare the bits, not the padding.
#[derive(Clone, Default)]
pub struct Features {
    wire: Vec<u8>,
}

impl Features {
    /// A map with no bits set (encoded as zero bytes).
    pub fn new() -> Self {
        Self::default()
    }

    /// The map whose wire encoding is `bytes`, kept verbatim.
    pub fn from_wire(bytes: &[u8]) -> Self {
        Self {
            wire: bytes.to_vec(),
        }
    }

    /// The wire encoding: what was decoded, or the minimal bytes after any mutation.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// Whether `bit` is set.
    pub fn is_set(&self, bit: usize) -> bool {
        self.byte_from_end(bit / 8) & mask(bit) != 0
    }

    /// Sets `bit`.
    ///
    /// # Panics
    ///
    /// If `bit` is above [`MAX_FEATURE_BIT`], which no `init` could carry.
    pub fn set(&mut self, bit: usize) {
        assert!(
            bit <= MAX_FEATURE_BIT,
            "feature bit {bit} does not fit a feature field (max {MAX_FEATURE_BIT})"
        );
        let needed = bit / 8 + 1;
        if self.wire.len() < needed {
            let mut widened = vec![0; needed - self.wire.len()];
            widened.extend_from_slice(&self.wire);
            self.wire = widened;
        }
        if let Some(byte) = self.byte_from_end_mut(bit / 8) {
            *byte |= mask(bit);
        }
        self.trim();
    }

    /// Clears `bit`.
    pub fn clear(&mut self, bit: usize) {
        if let Some(byte) = self.byte_from_end_mut(bit / 8) {
            *byte &= !mask(bit);
        }
        self.trim();
    }

    /// The bitwise OR of two maps, as BOLT 1 asks for `globalfeatures` and `features`.
    pub fn union(&self, other: &Features) -> Features {
        let len = self.wire.len().max(other.wire.len());
        let mut wire = vec![0; len];
        for (index_from_end, byte) in wire.iter_mut().rev().enumerate() {
            *byte = self.byte_from_end(index_from_end) | other.byte_from_end(index_from_end);
        }
        let mut union = Features { wire };
        union.trim();
        union
    }

    /// Whether no bit is set.
    pub fn is_empty(&self) -> bool {
        self.wire.iter().all(|&byte| byte == 0)
    }

    /// The set bits, lowest first.
    pub fn iter_set_bits(&self) -> impl Iterator<Item = usize> + '_ {
        self.wire
            .iter()
            .rev()
            .enumerate()
            .filter(|(_, &byte)| byte != 0)
            .flat_map(|(index_from_end, &byte)| {
                (0..8)
                    .filter(move |shift| byte & (1 << shift) != 0)
                    .map(move |shift| index_from_end * 8 + shift)
            })
    }

    /// Whether either bit of `bit`'s pair is set: the feature is offered (BOLT 1), as
    /// optional or as compulsory.
    pub fn offers(&self, bit: usize) -> bool {
        let even = bit & !1;
        self.is_set(even) || self.is_set(even + 1)
    }

    /// Whether the even (compulsory) bit of `bit`'s pair is set.
    pub fn requires(&self, bit: usize) -> bool {
        self.is_set(bit & !1)
    }

    /// The even bits set here whose pair `known` does not list, lowest first. BOLT 1: a node
    /// receiving unknown even bits "MUST close the connection"; odd ones it ignores.
    pub fn unknown_required_bits(&self, known: &KnownFeatures) -> Vec<usize> {
        self.iter_set_bits()
            .filter(|&bit| bit % 2 == 0 && !known.knows(bit))
            .collect()
    }

    /// Features offered here whose dependency ([`bits::DEPENDENCIES`]) is not, as
    /// `(feature, depends_on)`: `feature` is the bit actually set (the even one if both are),
    /// `depends_on` is the even bit of the missing pair. Either bit of a pair satisfies a
    /// dependency. Checking every row also catches broken transitive chains.
    pub fn missing_dependencies(&self) -> Vec<(usize, usize)> {
        bits::DEPENDENCIES
            .iter()
            .filter_map(|&(feature, depends_on)| {
                let set_bit = [feature, feature + 1]
                    .into_iter()
                    .find(|&bit| self.is_set(bit))?;
                (!self.offers(depends_on)).then_some((set_bit, depends_on))
            })
            .collect()
    }

    /// The bytes without leading zero padding.
    fn significant(&self) -> &[u8] {
        let padding = self.wire.iter().take_while(|&&byte| byte == 0).count();
        self.wire.get(padding..).unwrap_or_default()
    }

    fn trim(&mut self) {
        let padding = self.wire.iter().take_while(|&&byte| byte == 0).count();
        self.wire.drain(..padding);
    }

    /// The byte holding bits `8 * index_from_end ..`, or 0 past the end.
    fn byte_from_end(&self, index_from_end: usize) -> u8 {
        self.wire
            .len()
            .checked_sub(index_from_end + 1)
            .and_then(|i| self.wire.get(i))
            .copied()
            .unwrap_or(0)
    }

    fn byte_from_end_mut(&mut self, index_from_end: usize) -> Option<&mut u8> {
        let i = self.wire.len().checked_sub(index_from_end + 1)?;
        self.wire.get_mut(i)
    }
}

fn mask(bit: usize) -> u8 {
    1 << (bit % 8)
}

impl FromIterator<usize> for Features {
    /// # Panics
    ///
    /// As [`Features::set`].
    fn from_iter<I: IntoIterator<Item = usize>>(bits: I) -> Self {
        let mut features = Features::new();
        for bit in bits {
            features.set(bit);
        }
        features
    }
}

impl PartialEq for Features {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Features {}

impl Hash for Features {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.significant().hash(state);
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Features")
            .field(&self.iter_set_bits().collect::<Vec<_>>())
            .finish()
    }
}

/// The feature pairs a node understands. Knowing either bit of a pair means knowing the pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFeatures {
    /// The even bit of every known pair.
    pairs: Features,
}

impl KnownFeatures {
    /// Knows nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `bit`'s pair as known.
    ///
    /// # Panics
    ///
    /// As [`Features::set`].
    pub fn insert(&mut self, bit: usize) {
        self.pairs.set(bit & !1);
    }

    /// Whether `bit`'s pair is known.
    pub fn knows(&self, bit: usize) -> bool {
        self.pairs.is_set(bit & !1)
    }
}

impl FromIterator<usize> for KnownFeatures {
    /// # Panics
    ///
    /// As [`Features::set`].
    fn from_iter<I: IntoIterator<Item = usize>>(bits: I) -> Self {
        let mut known = KnownFeatures::new();
        for bit in bits {
            known.insert(bit);
        }
        known
    }
}

#[cfg(test)]
mod tests {
    use super::bits::*;
    use super::*;

    #[test]
    fn bit_zero_is_the_lsb_of_the_last_byte() {
        let features: Features = [0, 9, 15].into_iter().collect();
        assert_eq!(features.as_wire(), [0x82, 0x01]);
        assert_eq!(features.iter_set_bits().collect::<Vec<_>>(), [0, 9, 15]);
        assert!(features.is_set(9) && !features.is_set(8) && !features.is_set(1000));
    }

    #[test]
    fn mutations_keep_the_encoding_minimal() {
        let mut features = Features::new();
        assert_eq!(features.as_wire(), [] as [u8; 0]);
        features.set(17);
        assert_eq!(features.as_wire(), [0x02, 0x00, 0x00]);
        features.set(1);
        features.clear(17);
        assert_eq!(features.as_wire(), [0x02]);
        features.clear(1);
        assert!(features.is_empty());
        assert_eq!(features.as_wire(), [] as [u8; 0]);
        features.clear(5000);
        features.set(MAX_FEATURE_BIT);
        assert_eq!(features.as_wire().len(), 65535);
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn setting_a_bit_beyond_any_feature_field_panics() {
        Features::new().set(MAX_FEATURE_BIT + 1);
    }

    #[test]
    fn padding_is_kept_on_the_wire_but_ignored_by_equality() {
        let padded = Features::from_wire(&[0x00, 0x00, 0x02]);
        assert_eq!(padded.as_wire(), [0x00, 0x00, 0x02]);
        assert_eq!(padded, [1].into_iter().collect());
        assert_eq!(Features::from_wire(&[0, 0]), Features::new());
        let hash = |f: &Features| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            f.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&padded), hash(&Features::from_wire(&[0x02])));
    }

    #[test]
    fn union_is_bitwise_or_across_lengths() {
        let global = Features::from_wire(&[0x00, 0x22]);
        let local = Features::from_wire(&[0x80, 0x00, 0x01]);
        let combined = global.union(&local);
        assert_eq!(combined.as_wire(), [0x80, 0x00, 0x23]);
        assert_eq!(local.union(&global), combined);
        assert_eq!(
            Features::new().union(&Features::from_wire(&[0])).as_wire(),
            [] as [u8; 0]
        );
    }

    #[test]
    fn offers_and_requires_look_at_the_pair() {
        let features: Features = [PAYMENT_SECRET + 1, OPTION_CHANNEL_TYPE]
            .into_iter()
            .collect();
        assert!(features.offers(PAYMENT_SECRET) && features.offers(PAYMENT_SECRET + 1));
        assert!(!features.requires(PAYMENT_SECRET));
        assert!(features.requires(OPTION_CHANNEL_TYPE + 1));
        assert!(!features.offers(BASIC_MPP));
    }

    #[test]
    fn unknown_required_bits_are_the_even_bits_of_unknown_pairs() {
        let known: KnownFeatures = [OPTION_DATA_LOSS_PROTECT + 1, VAR_ONION_OPTIN]
            .into_iter()
            .collect();
        assert!(known.knows(OPTION_DATA_LOSS_PROTECT) && known.knows(VAR_ONION_OPTIN + 1));
        let peer: Features = [0, 8, 13, 100, 101, 255, 256].into_iter().collect();
        assert_eq!(peer.unknown_required_bits(&known), [100, 256]);
        assert!(Features::new()
            .unknown_required_bits(&KnownFeatures::new())
            .is_empty());
    }

    #[test]
    fn missing_dependencies_follow_bolt9() {
        let mpp_alone: Features = [BASIC_MPP + 1].into_iter().collect();
        assert_eq!(
            mpp_alone.missing_dependencies(),
            [(BASIC_MPP + 1, PAYMENT_SECRET)]
        );

        let satisfied: Features = [
            BASIC_MPP,
            PAYMENT_SECRET + 1,
            OPTION_ZEROCONF + 1,
            OPTION_SCID_ALIAS,
        ]
        .into_iter()
        .collect();
        assert!(satisfied.missing_dependencies().is_empty());

        let both_bits: Features = [
            OPTION_SIMPLE_CLOSE,
            OPTION_SIMPLE_CLOSE + 1,
            OPTION_ZEROCONF,
        ]
        .into_iter()
        .collect();
        assert_eq!(
            both_bits.missing_dependencies(),
            [
                (OPTION_ZEROCONF, OPTION_SCID_ALIAS),
                (OPTION_SIMPLE_CLOSE, OPTION_SHUTDOWN_ANYSEGWIT)
            ]
        );
    }

    #[test]
    fn named_bits_match_bolt9() {
        let table = [
            (OPTION_DATA_LOSS_PROTECT, 0),
            (INITIAL_ROUTING_SYNC, 3),
            (OPTION_UPFRONT_SHUTDOWN_SCRIPT, 4),
            (GOSSIP_QUERIES, 6),
            (VAR_ONION_OPTIN, 8),
            (GOSSIP_QUERIES_EX, 10),
            (OPTION_STATIC_REMOTEKEY, 12),
            (PAYMENT_SECRET, 14),
            (BASIC_MPP, 16),
            (OPTION_SUPPORT_LARGE_CHANNEL, 18),
            (OPTION_ANCHORS, 22),
            (OPTION_ROUTE_BLINDING, 24),
            (OPTION_SHUTDOWN_ANYSEGWIT, 26),
            (OPTION_DUAL_FUND, 28),
            (OPTION_QUIESCE, 34),
            (OPTION_ATTRIBUTION_DATA, 36),
            (OPTION_ONION_MESSAGES, 38),
            (OPTION_PROVIDE_STORAGE, 42),
            (OPTION_CHANNEL_TYPE, 44),
            (OPTION_SCID_ALIAS, 46),
            (OPTION_PAYMENT_METADATA, 48),
            (OPTION_ZEROCONF, 50),
            (OPTION_SIMPLE_CLOSE, 60),
            (OPTION_SPLICE, 62),
        ];
        for (constant, bit) in table {
            assert_eq!(constant, bit);
        }
        assert_eq!(DEPENDENCIES, [(16, 14), (50, 46), (60, 26)]);
    }
}
