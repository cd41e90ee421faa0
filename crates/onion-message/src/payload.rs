//! `onionmsg_tlv` (BOLT 4 "Onion Messages"): one hop's payload inside the onion. A forwarding
//! hop's holds only `encrypted_recipient_data`; the final hop's may add a `reply_path` and one
//! payload field: BOLT 12's `invoice_request`, `invoice` or `invoice_error` (kept here as
//! opaque bytes), or an application's own odd type of 64 or more.

use wire::{DecodeError, Encode, Reader, TlvRecord, TlvStream};

use crate::BlindedPath;

const REPLY_PATH: u64 = 2;
const ENCRYPTED_RECIPIENT_DATA: u64 = 4;
const INVOICE_REQUEST: u64 = 64;
const INVOICE: u64 = 66;
const INVOICE_ERROR: u64 = 68;

/// The even types `onionmsg_tlv` defines; any other even type fails the whole message.
const KNOWN: &[u64] = &[
    REPLY_PATH,
    ENCRYPTED_RECIPIENT_DATA,
    INVOICE_REQUEST,
    INVOICE,
    INVOICE_ERROR,
];

/// BOLT 4: "Field numbers 64 and above are reserved for payloads for the final hop".
pub const FIRST_PAYLOAD_TYPE: u64 = 64;

/// A decoded `onionmsg_tlv`. Decoding then encoding gives back the same bytes.
///
/// Field names follow CLN's `onion_message_recv` hook payload: `reply_path` is its
/// `reply_blindedpath`, and `unknown_fields` are exactly the records it lists there (every
/// type other than 2, 4, 64, 66 and 68, in wire order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Payload {
    /// Type 2: where the recipient may reply.
    pub reply_path: Option<BlindedPath>,
    /// Type 4: the hop's sealed `encrypted_data_tlv`.
    pub encrypted_recipient_data: Option<Vec<u8>>,
    /// Type 64: a BOLT 12 `tlv_invoice_request`, undecoded.
    pub invoice_request: Option<Vec<u8>>,
    /// Type 66: a BOLT 12 `tlv_invoice`, undecoded.
    pub invoice: Option<Vec<u8>>,
    /// Type 68: a BOLT 12 `tlv_invoice_error`, undecoded.
    pub invoice_error: Option<Vec<u8>>,
    /// Records of every other type (as decoded, all odd), in type order: custom messages
    /// (odd, 64 or more) and odd types the spec may define later.
    pub unknown_fields: Vec<TlvRecord>,
}

impl Payload {
    /// Decodes a whole `onionmsg_tlv`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`]: BOLT 1's TLV rules (an unknown even type included), or a
    /// `reply_path` that is not exactly one valid `blinded_path`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let stream = TlvStream::decode(&mut Reader::new(bytes), KNOWN, "onionmsg_tlv")?;
        let mut payload = Self::default();
        for record in stream.into_records() {
            match record.ty {
                REPLY_PATH => {
                    let path = BlindedPath::from_bytes(&record.value).map_err(|error| {
                        // Name the record as well as the field inside it.
                        match error {
                            DecodeError::TrailingBytes { .. } => DecodeError::TrailingBytes {
                                field: "onionmsg_tlv.reply_path",
                            },
                            other => other,
                        }
                    })?;
                    payload.reply_path = Some(path);
                }
                ENCRYPTED_RECIPIENT_DATA => payload.encrypted_recipient_data = Some(record.value),
                INVOICE_REQUEST => payload.invoice_request = Some(record.value),
                INVOICE => payload.invoice = Some(record.value),
                INVOICE_ERROR => payload.invoice_error = Some(record.value),
                _ => payload.unknown_fields.push(record),
            }
        }
        Ok(payload)
    }

    /// The types of the payload fields (64 and above), in wire order. BOLT 4's final hop must
    /// ignore a message with more than one.
    pub fn payload_field_types(&self) -> Vec<u64> {
        let named = [
            (INVOICE_REQUEST, self.invoice_request.is_some()),
            (INVOICE, self.invoice.is_some()),
            (INVOICE_ERROR, self.invoice_error.is_some()),
        ];
        let mut types: Vec<u64> = named
            .into_iter()
            .filter_map(|(ty, present)| present.then_some(ty))
            .chain(
                self.unknown_fields
                    .iter()
                    .map(|record| record.ty)
                    .filter(|&ty| ty >= FIRST_PAYLOAD_TYPE),
            )
            .collect();
        types.sort_unstable();
        types
    }

    /// Whether this payload holds `encrypted_recipient_data` and nothing else, as a
    /// forwarding hop's must (BOLT 4: "MUST ignore the message" otherwise; odd types count).
    pub fn is_forward_only(&self) -> bool {
        self.encrypted_recipient_data.is_some()
            && self.reply_path.is_none()
            && self.invoice_request.is_none()
            && self.invoice.is_none()
            && self.invoice_error.is_none()
            && self.unknown_fields.is_empty()
    }
}

impl Encode for Payload {
    fn encode(&self, out: &mut Vec<u8>) {
        let mut stream = TlvStream::from_records(self.unknown_fields.iter().cloned());
        let mut put = |ty, value: &Option<Vec<u8>>| {
            if let Some(value) = value {
                stream.insert(TlvRecord {
                    ty,
                    value: value.clone(),
                });
            }
        };
        put(REPLY_PATH, &self.reply_path.as_ref().map(Encode::to_bytes));
        put(ENCRYPTED_RECIPIENT_DATA, &self.encrypted_recipient_data);
        put(INVOICE_REQUEST, &self.invoice_request);
        put(INVOICE, &self.invoice);
        put(INVOICE_ERROR, &self.invoice_error);
        stream.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BlindedHop, IntroductionNode};
    use secp256k1::{PublicKey, SecretKey, SECP256K1};

    fn key(byte: u8) -> PublicKey {
        PublicKey::from_secret_key(SECP256K1, &SecretKey::from_slice(&[byte; 32]).unwrap())
    }

    fn record(ty: u64, value: &[u8]) -> TlvRecord {
        TlvRecord {
            ty,
            value: value.to_vec(),
        }
    }

    #[test]
    fn every_field_round_trips() {
        let reply_path = BlindedPath::new(
            IntroductionNode::NodeId(key(1)),
            key(2),
            vec![BlindedHop {
                blinded_node_id: key(3),
                encrypted_recipient_data: vec![9; 20],
            }],
        )
        .unwrap();
        let payload = Payload {
            reply_path: Some(reply_path),
            encrypted_recipient_data: Some(vec![1, 2, 3]),
            invoice_request: Some(vec![4]),
            invoice: Some(vec![]),
            invoice_error: Some(vec![5, 6]),
            unknown_fields: vec![record(1, b"hello"), record(65_555, b"custom")],
        };
        let bytes = payload.to_bytes();
        assert_eq!(Payload::from_bytes(&bytes), Ok(payload.clone()));
        assert_eq!(payload.payload_field_types(), [64, 66, 68, 65_555]);
        assert!(!payload.is_forward_only());
    }

    #[test]
    fn the_vector_final_payload_decodes() {
        // Dave's payload: "hello" as type 1, then type 4.
        let mut bytes = hex::decode("010568656c6c6f").unwrap();
        bytes.extend_from_slice(&[0x04, 0x02, 0xaa, 0xbb]);
        let payload = Payload::from_bytes(&bytes).unwrap();
        assert_eq!(payload.unknown_fields, [record(1, b"hello")]);
        assert_eq!(payload.encrypted_recipient_data, Some(vec![0xaa, 0xbb]));
        assert!(payload.payload_field_types().is_empty());
        assert_eq!(payload.to_bytes(), bytes);
    }

    #[test]
    fn forward_only_means_exactly_encrypted_recipient_data() {
        let forward = Payload {
            encrypted_recipient_data: Some(vec![0; 16]),
            ..Payload::default()
        };
        assert!(forward.is_forward_only());
        let mut with_odd = forward.clone();
        with_odd.unknown_fields.push(record(3, b""));
        assert!(!with_odd.is_forward_only());
        assert!(!Payload::default().is_forward_only());
    }

    #[test]
    fn unknown_even_and_bad_reply_paths_fail() {
        assert_eq!(
            Payload::from_bytes(&[0x06, 0x00]),
            Err(DecodeError::UnknownEvenTlv {
                field: "onionmsg_tlv",
                ty: 6
            })
        );
        assert_eq!(
            Payload::from_bytes(&[0xfd, 0x01, 0x02, 0x00]),
            Err(DecodeError::UnknownEvenTlv {
                field: "onionmsg_tlv",
                ty: 258
            })
        );
        assert!(matches!(
            Payload::from_bytes(&[0x02, 0x01, 0x02]),
            Err(DecodeError::Truncated { .. })
        ));
    }
}
