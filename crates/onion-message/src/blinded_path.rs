//! `blinded_path` (BOLT 4 "Route Blinding"): what a recipient hands out so others can reach it
//! without learning who it is, used as an onion message's `reply_path` and as the destination
//! of a send.
//!
//! ```text
//! blinded_path:     [sciddir_or_pubkey: first_node_id] [point: first_path_key]
//!                   [byte: num_hops] [num_hops * blinded_path_hop: path]
//! blinded_path_hop: [point: blinded_node_id] [u16: enclen] [enclen*byte: encrypted_recipient_data]
//! ```

use secp256k1::PublicKey;
use wire::{Decode, DecodeError, Encode, Reader};

use crate::codec::read_point;
use crate::{BlindedPathError, ShortChannelId};

/// Which end of a channel a `sciddir_or_pubkey` means (BOLT 1): BOLT 7's `node_id_1` is the
/// lexicographically lesser of the channel's two node ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `node_id_1`, written as first byte 0.
    NodeOne,
    /// `node_id_2`, written as first byte 1.
    NodeTwo,
}

impl Direction {
    /// The wire byte, and CLN's `first_scid_dir` value: 0 or 1.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::NodeOne => 0,
            Self::NodeTwo => 1,
        }
    }
}

/// `sciddir_or_pubkey` (BOLT 1): a path's introduction node, by node id or as one end of a
/// channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntroductionNode {
    /// A node id (first byte 2 or 3).
    NodeId(PublicKey),
    /// One end of a channel (first byte 0 or 1, then 8 bytes): only resolvable by someone
    /// who knows the channel.
    Channel {
        /// The channel.
        short_channel_id: ShortChannelId,
        /// Which of its ends.
        direction: Direction,
    },
}

impl Encode for IntroductionNode {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::NodeId(id) => out.extend_from_slice(&id.serialize()),
            Self::Channel {
                short_channel_id,
                direction,
            } => {
                out.push(direction.as_u8());
                out.extend_from_slice(&short_channel_id.to_be_bytes());
            }
        }
    }
}

impl Decode for IntroductionNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        const FIELD: &str = "blinded_path.first_node_id";
        let direction = match r.clone().read_u8(FIELD)? {
            0 => Direction::NodeOne,
            1 => Direction::NodeTwo,
            2 | 3 => return read_point(r, FIELD).map(Self::NodeId),
            _ => return Err(DecodeError::InvalidValue { field: FIELD }),
        };
        r.read_u8(FIELD)?;
        Ok(Self::Channel {
            short_channel_id: ShortChannelId(r.read_u64(FIELD)?),
            direction,
        })
    }
}

/// One hop of a blinded path: the key the sender encrypts the hop's onion layer to, and the
/// data only that hop can read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlindedHop {
    /// `B_i`: the hop's node id, blinded.
    pub blinded_node_id: PublicKey,
    /// The hop's `encrypted_data_tlv`, sealed to it (at most 65535 bytes).
    pub encrypted_recipient_data: Vec<u8>,
}

/// A `blinded_path`: an introduction node, the path key for it, and one or more blinded hops.
/// Every value of this type encodes: it has 1 to 255 hops, each with at most 65535 bytes of
/// `encrypted_recipient_data`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlindedPath {
    introduction_node: IntroductionNode,
    first_path_key: PublicKey,
    hops: Vec<BlindedHop>,
}

/// `num_hops` is a byte.
const MAX_HOPS: usize = u8::MAX as usize;

impl BlindedPath {
    /// A path from its parts (CLN's `first_node_id`, `first_path_key` and `path`).
    ///
    /// # Errors
    ///
    /// [`BlindedPathError`] if there are no hops, more than 255, or a hop's data is longer
    /// than 65535 bytes.
    pub fn new(
        introduction_node: IntroductionNode,
        first_path_key: PublicKey,
        hops: Vec<BlindedHop>,
    ) -> Result<Self, BlindedPathError> {
        if hops.is_empty() {
            return Err(BlindedPathError::NoHops);
        }
        if hops.len() > MAX_HOPS {
            return Err(BlindedPathError::TooManyHops(hops.len()));
        }
        if let Some(hop) = hops
            .iter()
            .find(|hop| hop.encrypted_recipient_data.len() > usize::from(u16::MAX))
        {
            return Err(BlindedPathError::EncryptedDataTooLong(
                hop.encrypted_recipient_data.len(),
            ));
        }
        Ok(Self {
            introduction_node,
            first_path_key,
            hops,
        })
    }

    /// `first_node_id`: where a sender delivers the message.
    pub fn introduction_node(&self) -> &IntroductionNode {
        &self.introduction_node
    }

    /// `first_path_key`: the `path_key` that goes with the message to the introduction node.
    pub fn first_path_key(&self) -> &PublicKey {
        &self.first_path_key
    }

    /// The hops, introduction node's first (never empty).
    pub fn hops(&self) -> &[BlindedHop] {
        &self.hops
    }

    /// Decodes exactly one path filling `bytes`.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the field, or [`DecodeError::TrailingBytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader::new(bytes);
        let path = Self::decode(&mut reader)?;
        reader.finish("blinded_path")?;
        Ok(path)
    }
}

impl Encode for BlindedPath {
    fn encode(&self, out: &mut Vec<u8>) {
        self.introduction_node.encode(out);
        out.extend_from_slice(&self.first_path_key.serialize());
        // `new` and `decode` keep 1..=255 hops.
        out.push(u8::try_from(self.hops.len()).unwrap_or(u8::MAX));
        for hop in &self.hops {
            out.extend_from_slice(&hop.blinded_node_id.serialize());
            // `new` and `decode` keep each at most 65535 bytes.
            let len = u16::try_from(hop.encrypted_recipient_data.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&hop.encrypted_recipient_data);
        }
    }
}

impl Decode for BlindedPath {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let introduction_node = IntroductionNode::decode(r)?;
        let first_path_key = read_point(r, "blinded_path.first_path_key")?;
        let num_hops = r.read_u8("blinded_path.num_hops")?;
        if num_hops == 0 {
            return Err(DecodeError::InvalidValue {
                field: "blinded_path.num_hops",
            });
        }
        let mut hops = Vec::with_capacity(usize::from(num_hops));
        for _ in 0..num_hops {
            let blinded_node_id = read_point(r, "blinded_path_hop.blinded_node_id")?;
            let data = r.read_u16_prefixed("blinded_path_hop.encrypted_recipient_data")?;
            hops.push(BlindedHop {
                blinded_node_id,
                encrypted_recipient_data: data.to_vec(),
            });
        }
        Ok(Self {
            introduction_node,
            first_path_key,
            hops,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PublicKey {
        let secret = secp256k1::SecretKey::from_slice(&[byte; 32]).unwrap();
        PublicKey::from_secret_key(secp256k1::SECP256K1, &secret)
    }

    fn hop(byte: u8, data: &[u8]) -> BlindedHop {
        BlindedHop {
            blinded_node_id: key(byte),
            encrypted_recipient_data: data.to_vec(),
        }
    }

    #[test]
    fn node_id_and_channel_introductions_round_trip() {
        for intro in [
            IntroductionNode::NodeId(key(1)),
            IntroductionNode::Channel {
                short_channel_id: ShortChannelId(0x6c1),
                direction: Direction::NodeOne,
            },
            IntroductionNode::Channel {
                short_channel_id: ShortChannelId(u64::MAX),
                direction: Direction::NodeTwo,
            },
        ] {
            let path = BlindedPath::new(intro, key(2), vec![hop(3, b"abc"), hop(4, b"")]).unwrap();
            let bytes = path.to_bytes();
            let expected_len = match intro {
                IntroductionNode::NodeId(_) => 33,
                IntroductionNode::Channel { .. } => 9,
            } + 33
                + 1
                + (33 + 2 + 3)
                + (33 + 2);
            assert_eq!(bytes.len(), expected_len);
            assert_eq!(BlindedPath::from_bytes(&bytes), Ok(path));
        }
    }

    #[test]
    fn every_prefix_is_truncated_and_trailing_bytes_are_refused() {
        let path =
            BlindedPath::new(IntroductionNode::NodeId(key(1)), key(2), vec![hop(3, b"x")]).unwrap();
        let bytes = path.to_bytes();
        for len in 0..bytes.len() {
            assert!(
                matches!(
                    BlindedPath::from_bytes(&bytes[..len]),
                    Err(DecodeError::Truncated { .. })
                ),
                "prefix of {len}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            BlindedPath::from_bytes(&longer),
            Err(DecodeError::TrailingBytes {
                field: "blinded_path"
            })
        );
    }

    #[test]
    fn bad_first_byte_and_zero_hops_are_refused() {
        let path =
            BlindedPath::new(IntroductionNode::NodeId(key(1)), key(2), vec![hop(3, b"x")]).unwrap();
        let mut bytes = path.to_bytes();
        for first in [4, 5, 0xff] {
            bytes[0] = first;
            assert_eq!(
                BlindedPath::from_bytes(&bytes),
                Err(DecodeError::InvalidValue {
                    field: "blinded_path.first_node_id"
                })
            );
        }
        let mut zero_hops = path.to_bytes();
        zero_hops.truncate(33 + 33);
        zero_hops.push(0);
        assert_eq!(
            BlindedPath::from_bytes(&zero_hops),
            Err(DecodeError::InvalidValue {
                field: "blinded_path.num_hops"
            })
        );
    }

    #[test]
    fn construction_keeps_the_encodable_bounds() {
        let intro = IntroductionNode::NodeId(key(1));
        assert_eq!(
            BlindedPath::new(intro, key(2), vec![]),
            Err(BlindedPathError::NoHops)
        );
        assert_eq!(
            BlindedPath::new(intro, key(2), vec![hop(3, b""); 256]),
            Err(BlindedPathError::TooManyHops(256))
        );
        assert_eq!(
            BlindedPath::new(intro, key(2), vec![hop(3, &[0; 65536])]),
            Err(BlindedPathError::EncryptedDataTooLong(65536))
        );
        let widest = BlindedPath::new(intro, key(2), vec![hop(3, &[0; 65535]); 2]).unwrap();
        assert_eq!(BlindedPath::from_bytes(&widest.to_bytes()), Ok(widest));
    }
}
