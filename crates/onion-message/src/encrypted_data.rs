//! `encrypted_data_tlv` (BOLT 4 "Inside `encrypted_recipient_data`"): what a blinded path's
//! creator tells each hop, sealed to that hop. Onion messages use `next_node_id` or
//! `short_channel_id` (where to forward), `next_path_key_override` (to splice two paths),
//! `path_id` (the creator's secret, final hop only) and `padding`; the payment fields are
//! decoded too, so a payment path's data reads, and the onion-message rules refuse them.

use secp256k1::PublicKey;
use wire::{
    decode_tu32, decode_tu64, encode_tu32, encode_tu64, DecodeError, Encode, Reader, TlvRecord,
    TlvStream,
};

use crate::codec::{point_value, scid_value};
use crate::ShortChannelId;

const PADDING: u64 = 1;
const SHORT_CHANNEL_ID: u64 = 2;
const NEXT_NODE_ID: u64 = 4;
const PATH_ID: u64 = 6;
const NEXT_PATH_KEY_OVERRIDE: u64 = 8;
const PAYMENT_RELAY: u64 = 10;
const PAYMENT_CONSTRAINTS: u64 = 12;
const ALLOWED_FEATURES: u64 = 14;

/// The even types BOLT 4 defines in `encrypted_data_tlv`; any other even type fails.
const KNOWN: &[u64] = &[
    SHORT_CHANNEL_ID,
    NEXT_NODE_ID,
    PATH_ID,
    NEXT_PATH_KEY_OVERRIDE,
    PAYMENT_RELAY,
    PAYMENT_CONSTRAINTS,
    ALLOWED_FEATURES,
];

/// `payment_relay` (type 10): a blinded payment hop's fee and delta. Onion messages must not
/// carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentRelay {
    /// `u16 cltv_expiry_delta`.
    pub cltv_expiry_delta: u16,
    /// `u32 fee_proportional_millionths`.
    pub fee_proportional_millionths: u32,
    /// `tu32 fee_base_msat`.
    pub fee_base_msat: u32,
}

/// `payment_constraints` (type 12): a blinded payment hop's limits. Onion messages must not
/// carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentConstraints {
    /// `u32 max_cltv_expiry`.
    pub max_cltv_expiry: u32,
    /// `tu64 htlc_minimum_msat`.
    pub htlc_minimum_msat: u64,
}

/// A decoded `encrypted_data_tlv`. Decoding then encoding gives back the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct EncryptedData {
    /// Type 1: filler so that every hop's data has the same length.
    pub padding: Option<Vec<u8>>,
    /// Type 2: forward over this channel of ours.
    pub short_channel_id: Option<ShortChannelId>,
    /// Type 4: forward to this node.
    pub next_node_id: Option<PublicKey>,
    /// Type 6: the path creator's private data, for itself at the final hop.
    pub path_id: Option<Vec<u8>>,
    /// Type 8: the `path_key` to send on, instead of the computed one.
    pub next_path_key_override: Option<PublicKey>,
    /// Type 10 (payments only).
    pub payment_relay: Option<PaymentRelay>,
    /// Type 12 (payments only).
    pub payment_constraints: Option<PaymentConstraints>,
    /// Type 14: a feature bitmap (big-endian, as BOLT 9's).
    pub allowed_features: Option<Vec<u8>>,
    /// Records of types not named above (as decoded, all odd), in type order.
    pub unknown_fields: Vec<TlvRecord>,
}

impl EncryptedData {
    /// Decodes a whole `encrypted_data_tlv` (a decrypted `encrypted_recipient_data`).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the stream or field: BOLT 1's TLV rules (an unknown even type
    /// included), a point that is not a valid key, a field of the wrong size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let stream = TlvStream::decode(&mut Reader::new(bytes), KNOWN, "encrypted_data_tlv")?;
        let mut data = Self::default();
        for record in stream.into_records() {
            let value = record.value.as_slice();
            match record.ty {
                PADDING => data.padding = Some(record.value),
                SHORT_CHANNEL_ID => {
                    data.short_channel_id =
                        Some(scid_value(value, "encrypted_data_tlv.short_channel_id")?);
                }
                NEXT_NODE_ID => {
                    data.next_node_id =
                        Some(point_value(value, "encrypted_data_tlv.next_node_id")?);
                }
                PATH_ID => data.path_id = Some(record.value),
                NEXT_PATH_KEY_OVERRIDE => {
                    data.next_path_key_override = Some(point_value(
                        value,
                        "encrypted_data_tlv.next_path_key_override",
                    )?);
                }
                PAYMENT_RELAY => data.payment_relay = Some(decode_payment_relay(value)?),
                PAYMENT_CONSTRAINTS => {
                    data.payment_constraints = Some(decode_payment_constraints(value)?);
                }
                ALLOWED_FEATURES => data.allowed_features = Some(record.value),
                _ => data.unknown_fields.push(record),
            }
        }
        Ok(data)
    }

    /// Whether `allowed_features` sets any bit. Onion messages use no feature, so any set bit
    /// is one we do not know, and BOLT 4 says to ignore the message; an absent or all-zero
    /// field allows nothing, which is all we need.
    pub fn allows_unknown_features(&self) -> bool {
        self.allowed_features
            .as_deref()
            .is_some_and(|bits| bits.iter().any(|&byte| byte != 0))
    }
}

impl Encode for EncryptedData {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut stream = TlvStream::from_records(self.unknown_fields.iter().cloned());
        let mut put = |ty, value: Vec<u8>| {
            stream.insert(TlvRecord { ty, value });
        };
        if let Some(padding) = &self.padding {
            put(PADDING, padding.clone());
        }
        if let Some(scid) = self.short_channel_id {
            put(SHORT_CHANNEL_ID, scid.to_be_bytes().to_vec());
        }
        if let Some(id) = &self.next_node_id {
            put(NEXT_NODE_ID, id.serialize().to_vec());
        }
        if let Some(path_id) = &self.path_id {
            put(PATH_ID, path_id.clone());
        }
        if let Some(key) = &self.next_path_key_override {
            put(NEXT_PATH_KEY_OVERRIDE, key.serialize().to_vec());
        }
        if let Some(relay) = &self.payment_relay {
            let mut value = Vec::with_capacity(10);
            value.extend_from_slice(&relay.cltv_expiry_delta.to_be_bytes());
            value.extend_from_slice(&relay.fee_proportional_millionths.to_be_bytes());
            encode_tu32(relay.fee_base_msat, &mut value);
            put(PAYMENT_RELAY, value);
        }
        if let Some(constraints) = &self.payment_constraints {
            let mut value = Vec::with_capacity(12);
            value.extend_from_slice(&constraints.max_cltv_expiry.to_be_bytes());
            encode_tu64(constraints.htlc_minimum_msat, &mut value);
            put(PAYMENT_CONSTRAINTS, value);
        }
        if let Some(features) = &self.allowed_features {
            put(ALLOWED_FEATURES, features.clone());
        }
        stream.encode(out);
    }
}

fn decode_payment_relay(value: &[u8]) -> Result<PaymentRelay, DecodeError> {
    const FIELD: &str = "encrypted_data_tlv.payment_relay";
    let mut r = Reader::new(value);
    Ok(PaymentRelay {
        cltv_expiry_delta: r.read_u16(FIELD)?,
        fee_proportional_millionths: r.read_u32(FIELD)?,
        fee_base_msat: decode_tu32(r.read_rest(), FIELD)?,
    })
}

fn decode_payment_constraints(value: &[u8]) -> Result<PaymentConstraints, DecodeError> {
    const FIELD: &str = "encrypted_data_tlv.payment_constraints";
    let mut r = Reader::new(value);
    Ok(PaymentConstraints {
        max_cltv_expiry: r.read_u32(FIELD)?,
        htlc_minimum_msat: decode_tu64(r.read_rest(), FIELD)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dave's `encrypted_data_tlv` in `blinded-onion-message-onion-test.json`: empty padding,
    /// a 32-byte `path_id` and an unknown odd type 65535.
    const DAVE: &str =
        "01000620deadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0ffeedeadbeefbadc0fdffff0206c1";

    #[test]
    fn vector_data_decodes_and_re_encodes() {
        let bytes = hex::decode(DAVE).unwrap();
        let data = EncryptedData::from_bytes(&bytes).unwrap();
        assert_eq!(data.padding.as_deref(), Some(&[][..]));
        assert_eq!(data.path_id.as_ref().map(Vec::len), Some(32));
        assert_eq!(
            data.unknown_fields,
            [TlvRecord {
                ty: 65535,
                value: vec![0x06, 0xc1]
            }]
        );
        assert_eq!(data.to_bytes(), bytes);
    }

    #[test]
    fn payment_fields_decode_strictly() {
        let data = EncryptedData {
            payment_relay: Some(PaymentRelay {
                cltv_expiry_delta: 144,
                fee_proportional_millionths: 500,
                fee_base_msat: 0,
            }),
            payment_constraints: Some(PaymentConstraints {
                max_cltv_expiry: 1000,
                htlc_minimum_msat: 1,
            }),
            allowed_features: Some(vec![]),
            ..EncryptedData::default()
        };
        let bytes = data.to_bytes();
        assert_eq!(EncryptedData::from_bytes(&bytes), Ok(data.clone()));
        assert!(!data.allows_unknown_features());
        // A fee_base_msat with a leading zero byte is not a minimal tu32.
        let non_minimal = [0x0a, 0x07, 0, 144, 0, 0, 1, 244, 0];
        assert_eq!(
            EncryptedData::from_bytes(&non_minimal),
            Err(DecodeError::NonMinimalInteger {
                field: "encrypted_data_tlv.payment_relay"
            })
        );
    }

    #[test]
    fn unknown_even_types_and_bad_fields_fail() {
        assert_eq!(
            EncryptedData::from_bytes(&[0x10, 0x00]),
            Err(DecodeError::UnknownEvenTlv {
                field: "encrypted_data_tlv",
                ty: 16
            })
        );
        assert_eq!(
            EncryptedData::from_bytes(&[0x04, 0x01, 0x02]),
            Err(DecodeError::InvalidLength {
                field: "encrypted_data_tlv.next_node_id"
            })
        );
        assert_eq!(
            EncryptedData::from_bytes(&[0x02, 0x01, 0x00]),
            Err(DecodeError::InvalidLength {
                field: "encrypted_data_tlv.short_channel_id"
            })
        );
        assert_eq!(EncryptedData::from_bytes(&[]), Ok(EncryptedData::default()));
    }

    #[test]
    fn any_allowed_feature_bit_is_unknown() {
        let with = |bits: Vec<u8>| EncryptedData {
            allowed_features: Some(bits),
            ..EncryptedData::default()
        };
        assert!(!with(vec![0, 0]).allows_unknown_features());
        assert!(with(vec![0x02, 0, 0]).allows_unknown_features());
        assert!(!EncryptedData::default().allows_unknown_features());
    }
}
