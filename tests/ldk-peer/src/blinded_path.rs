//! Blinded paths for onion messages: made by this node (for an lnpeer node to send along), and
//! moved as the BOLT 4 `blinded_path` bytes both sides speak:
//!
//! ```text
//! first_node_id: 33-byte point (or 1 direction byte + 8-byte scid)
//! first_path_key: 33-byte point
//! num_hops: u8 (≥ 1)
//! num_hops × { blinded_node_id: 33-byte point, enclen: u16, encrypted_recipient_data }
//! ```
//!
//! LDK's own `Writeable`/`Readable` for `BlindedMessagePath` is this encoding; decoding here adds
//! the check that nothing follows the path.

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::blinded_path::message::{BlindedMessagePath, MessageContext, MessageForwardNode};
use lightning::blinded_path::BlindedHop;
use lightning::ln::msgs::DecodeError;
use lightning::sign::NodeSigner;
use lightning::util::ser::{Readable, Writeable};

use crate::node::LdkNode;

/// Why bytes are not a `blinded_path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlindedPathError {
    /// LDK's decoder refused them (short, a bad point, a first byte other than 0-3, no hops).
    Decode(DecodeError),
    /// A whole path was read and this many bytes were left over.
    TrailingBytes(usize),
}

impl std::fmt::Display for BlindedPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlindedPathError::Decode(error) => write!(f, "not a blinded_path: {error}"),
            BlindedPathError::TrailingBytes(n) => {
                write!(f, "{n} bytes after the blinded_path")
            }
        }
    }
}

impl std::error::Error for BlindedPathError {}

/// The BOLT 4 `blinded_path` bytes of `path`.
pub fn encode_blinded_path(path: &BlindedMessagePath) -> Vec<u8> {
    path.encode()
}

/// Reads one BOLT 4 `blinded_path` that fills `bytes` exactly.
pub fn decode_blinded_path(bytes: &[u8]) -> Result<BlindedMessagePath, BlindedPathError> {
    let mut rest = bytes;
    let path = BlindedMessagePath::read(&mut rest).map_err(BlindedPathError::Decode)?;
    if !rest.is_empty() {
        return Err(BlindedPathError::TrailingBytes(rest.len()));
    }
    Ok(path)
}

/// A blinded path from its parts: the introduction node, the first path key, and each hop's
/// blinded node id and encrypted recipient data.
pub fn blinded_path_from_parts(
    first_node_id: PublicKey,
    first_path_key: PublicKey,
    hops: Vec<(PublicKey, Vec<u8>)>,
) -> BlindedMessagePath {
    let hops = hops
        .into_iter()
        .map(|(blinded_node_id, encrypted_payload)| BlindedHop {
            blinded_node_id,
            encrypted_payload,
        })
        .collect();
    BlindedMessagePath::from_blinded_path(first_node_id, first_path_key, hops)
}

impl LdkNode {
    /// A blinded path to this node through `intermediate` (node ids in order, the first being
    /// the introduction node; empty makes this node the introduction node). Messages arriving
    /// on it carry `context` (see [`crate::ReceivedOnionMessage::context`]). The last hop's
    /// encrypted data is LDK's own (TLV 65537, authenticated with this node's receive key); a
    /// sender only copies it.
    pub fn blinded_path_to_self(
        &self,
        intermediate: &[PublicKey],
        context: Vec<u8>,
    ) -> BlindedMessagePath {
        let hops: Vec<MessageForwardNode> = intermediate
            .iter()
            .map(|&node_id| MessageForwardNode {
                node_id,
                short_channel_id: None,
            })
            .collect();
        BlindedMessagePath::new(
            &hops,
            self.node_id(),
            self.keys.get_receive_auth_key(),
            MessageContext::Custom(context),
            &*self.keys,
            &self.secp,
        )
    }
}

#[cfg(test)]
mod tests {
    use lightning::bitcoin::secp256k1::{Secp256k1, SecretKey};

    use super::*;

    fn point(byte: u8) -> PublicKey {
        let secret = SecretKey::from_slice(&[byte; 32]).expect("a valid secret");
        PublicKey::from_secret_key(&Secp256k1::signing_only(), &secret)
    }

    #[test]
    fn parts_encode_as_bolt4_and_decode_back() {
        let path = blinded_path_from_parts(
            point(1),
            point(2),
            vec![(point(3), vec![0xaa; 3]), (point(4), Vec::new())],
        );
        let bytes = encode_blinded_path(&path);
        let mut expected = Vec::new();
        expected.extend_from_slice(&point(1).serialize());
        expected.extend_from_slice(&point(2).serialize());
        expected.push(2);
        expected.extend_from_slice(&point(3).serialize());
        expected.extend_from_slice(&[0, 3, 0xaa, 0xaa, 0xaa]);
        expected.extend_from_slice(&point(4).serialize());
        expected.extend_from_slice(&[0, 0]);
        assert_eq!(bytes, expected);
        assert_eq!(decode_blinded_path(&bytes), Ok(path));
    }

    #[test]
    fn decoding_refuses_trailing_bytes_no_hops_and_short_input() {
        let path = blinded_path_from_parts(point(1), point(2), vec![(point(3), vec![1])]);
        let mut bytes = encode_blinded_path(&path);
        bytes.push(0);
        assert_eq!(
            decode_blinded_path(&bytes),
            Err(BlindedPathError::TrailingBytes(1))
        );

        let mut no_hops = Vec::new();
        no_hops.extend_from_slice(&point(1).serialize());
        no_hops.extend_from_slice(&point(2).serialize());
        no_hops.push(0);
        assert_eq!(
            decode_blinded_path(&no_hops),
            Err(BlindedPathError::Decode(DecodeError::InvalidValue))
        );

        assert_eq!(
            decode_blinded_path(&no_hops[..40]),
            Err(BlindedPathError::Decode(DecodeError::ShortRead))
        );
        assert_eq!(
            decode_blinded_path(&[4; 80]),
            Err(BlindedPathError::Decode(DecodeError::InvalidValue))
        );
    }
}
