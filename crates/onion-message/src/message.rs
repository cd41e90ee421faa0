//! The `onion_message` wire message (BOLT 4, type 513): a `path_key` and an
//! `onion_message_packet`, as peers exchange them.
//!
//! ```text
//! [u16: type = 513] [point: path_key] [u16: len] [len*byte: onion_message_packet] [extension tlvs]
//! ```

use secp256k1::PublicKey;
use wire::{DecodeError, Encode, Reader, TlvStream};

use crate::codec::read_point;
use crate::packet::MAX_PACKET_LEN;
use crate::PacketTooLong;

/// BOLT 4: `type: 513 (onion_message) (option_onion_messages)`.
pub const ONION_MESSAGE_TYPE: u16 = 513;

/// One `onion_message`. Every value of this type encodes to at most 65535 bytes (a BOLT 1
/// message) as long as its extension stays empty, which it is unless decoded with one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OnionMessage {
    path_key: PublicKey,
    packet: Vec<u8>,
    /// BOLT 1's message extension: a TLV stream after the fields. `onion_message` defines no
    /// type in it, so it is kept only to re-encode what was received byte for byte.
    extension: TlvStream,
}

impl OnionMessage {
    /// A message carrying `packet` with `path_key` (`injectonionmessage`'s two parameters).
    ///
    /// # Errors
    ///
    /// [`PacketTooLong`] if `packet` is longer than [`MAX_PACKET_LEN`], which would not fit a
    /// Lightning message (CLN: `onion message too long`). The packet is otherwise checked
    /// only when peeled.
    pub fn new(path_key: PublicKey, packet: Vec<u8>) -> Result<Self, PacketTooLong> {
        if packet.len() > MAX_PACKET_LEN {
            return Err(PacketTooLong(packet.len()));
        }
        Ok(Self {
            path_key,
            packet,
            extension: TlvStream::new(),
        })
    }

    /// A peeled packet with its next path key. The packet has the length of one we received
    /// in an `OnionMessage`, so it fits.
    pub(crate) fn forwarded(path_key: PublicKey, packet: Vec<u8>) -> Self {
        debug_assert!(packet.len() <= MAX_PACKET_LEN);
        Self {
            path_key,
            packet,
            extension: TlvStream::new(),
        }
    }

    /// The `path_key`: what the receiving node combines with its key to unblind the packet.
    pub fn path_key(&self) -> &PublicKey {
        &self.path_key
    }

    /// The `onion_message_packet` (version, public key, payloads, hmac).
    pub fn packet(&self) -> &[u8] {
        &self.packet
    }

    /// Decodes a whole message, its 2-byte type first (what a peer sends, and the vectors'
    /// `onion_message`).
    ///
    /// # Errors
    ///
    /// [`DecodeError::InvalidValue`] on `onion_message.type` if the type is not 513, or the
    /// errors of [`decode_body`](Self::decode_body).
    pub fn decode(message: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(message);
        if r.read_u16("onion_message.type")? != ONION_MESSAGE_TYPE {
            return Err(DecodeError::InvalidValue {
                field: "onion_message.type",
            });
        }
        Self::decode_body(r.read_rest())
    }

    /// Decodes what follows the type (`wire::Message::Other`'s `payload`).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the field: a short message, a `path_key` that is not a valid
    /// point, a packet longer than [`MAX_PACKET_LEN`], or an extension that breaks BOLT 1's
    /// TLV rules. CLN answers any of these with the
    /// warning `Bad onion_message`.
    pub fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let path_key = read_point(&mut r, "onion_message.path_key")?;
        let packet = r
            .read_u16_prefixed("onion_message.onion_message_packet")?
            .to_vec();
        // Only possible outside a Lightning message, whose 65535 bytes leave 65498 for it;
        // refused so that every forwarded message fits one.
        if packet.len() > MAX_PACKET_LEN {
            return Err(DecodeError::InvalidLength {
                field: "onion_message.onion_message_packet",
            });
        }
        let extension = TlvStream::decode(&mut r, &[], "onion_message.tlvs")?;
        Ok(Self {
            path_key,
            packet,
            extension,
        })
    }
}

impl Encode for OnionMessage {
    /// The whole message, type first.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&ONION_MESSAGE_TYPE.to_be_bytes());
        out.extend_from_slice(&self.path_key.serialize());
        // `new` keeps the packet within MAX_PACKET_LEN and `decode_body` read it through a
        // u16 length, so this never saturates.
        let len = u16::try_from(self.packet.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.packet);
        self.extension.encode(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::{SecretKey, SECP256K1};

    fn key() -> PublicKey {
        PublicKey::from_secret_key(SECP256K1, &SecretKey::from_slice(&[1; 32]).unwrap())
    }

    #[test]
    fn round_trips_with_and_without_extension() {
        let message = OnionMessage::new(key(), vec![0; 1366]).unwrap();
        let bytes = message.to_bytes();
        assert_eq!(bytes.len(), 2 + 33 + 2 + 1366);
        assert_eq!(&bytes[..2], &[0x02, 0x01]);
        assert_eq!(OnionMessage::decode(&bytes), Ok(message));

        let mut extended = bytes.clone();
        extended.extend_from_slice(&[0x01, 0x00]);
        let decoded = OnionMessage::decode(&extended).unwrap();
        assert_eq!(decoded.to_bytes(), extended);
        extended.extend_from_slice(&[0x02, 0x00]);
        assert_eq!(
            OnionMessage::decode(&extended),
            Err(DecodeError::UnknownEvenTlv {
                field: "onion_message.tlvs",
                ty: 2
            })
        );
    }

    #[test]
    fn wrong_type_short_input_and_bad_key_fail() {
        let bytes = OnionMessage::new(key(), vec![7; 100]).unwrap().to_bytes();
        let mut wrong_type = bytes.clone();
        wrong_type[1] = 0x03;
        assert_eq!(
            OnionMessage::decode(&wrong_type),
            Err(DecodeError::InvalidValue {
                field: "onion_message.type"
            })
        );
        for len in 0..bytes.len() {
            assert!(OnionMessage::decode(&bytes[..len]).is_err(), "prefix {len}");
        }
        let mut bad_key = bytes.clone();
        bad_key[2] = 0x05;
        assert_eq!(
            OnionMessage::decode(&bad_key),
            Err(DecodeError::InvalidValue {
                field: "onion_message.path_key"
            })
        );
    }

    #[test]
    fn packets_must_fit_a_lightning_message() {
        assert!(OnionMessage::new(key(), vec![0; MAX_PACKET_LEN]).is_ok());
        assert_eq!(
            OnionMessage::new(key(), vec![0; MAX_PACKET_LEN + 1]),
            Err(PacketTooLong(MAX_PACKET_LEN + 1))
        );
        let widest = OnionMessage::new(key(), vec![0; MAX_PACKET_LEN]).unwrap();
        assert_eq!(widest.to_bytes().len(), 65535);
        let mut body = key().serialize().to_vec();
        body.extend_from_slice(&u16::MAX.to_be_bytes());
        body.extend_from_slice(&[0; 65535]);
        assert_eq!(
            OnionMessage::decode_body(&body),
            Err(DecodeError::InvalidLength {
                field: "onion_message.onion_message_packet"
            })
        );
    }
}
