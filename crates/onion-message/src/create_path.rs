//! Creating a blinded path to ourselves (BOLT 4 "Route Blinding", the writer of a
//! `blinded_path`): for a `reply_path`, or to publish in an offer. The final hop's data
//! carries our secret `path_id`, so that a message arriving over the path can be told apart
//! from one that merely claims to.

use secp256k1::{PublicKey, SecretKey};
use wire::{BigSize, Encode};

use crate::blinding::blind_path;
use crate::{BlindedPath, BuildError, EncryptedData, ShortChannelId};

/// A node on the way to us, and how it reaches the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ForwardNode {
    /// The node (the first one is the path's introduction node).
    pub node_id: PublicKey,
    /// Forward over this channel of the node's, instead of to the next node's id (BOLT 4
    /// allows either; CLN's `incoming_message_blinded_path` takes the same choice per hop).
    pub next_short_channel_id: Option<ShortChannelId>,
}

/// Creates a blinded path that ends at `recipient` (our node id) after `intermediate_hops`
/// (possibly none: then we are the introduction node too), with `path_id` in our own hop's
/// data and `first_path_secret` as `e_0` (fresh from a CSPRNG for every path).
///
/// `path_id` should be a secret only we can produce: CLN uses 32 random bytes (and calls the
/// `onion_message_recv_secret` hook when a message arrives with a 32-byte `path_id`). Every
/// hop's `encrypted_data_tlv` is padded to the same length (BOLT 4: "SHOULD add padding"), so
/// the hops' data does not tell which hop is ours.
///
/// # Errors
///
/// [`BuildError::Path`] for more than 254 intermediate hops or a `path_id` too long for a
/// hop, [`BuildError::InvalidKey`] (negligibly) for a bad `first_path_secret`.
pub fn create_blinded_path(
    intermediate_hops: &[ForwardNode],
    recipient: &PublicKey,
    path_id: &[u8],
    first_path_secret: &SecretKey,
) -> Result<BlindedPath, BuildError> {
    let mut hops: Vec<(PublicKey, EncryptedData)> = Vec::with_capacity(intermediate_hops.len() + 1);
    for (index, hop) in intermediate_hops.iter().enumerate() {
        let next_node = intermediate_hops
            .get(index + 1)
            .map_or(*recipient, |next| next.node_id);
        let data = match hop.next_short_channel_id {
            Some(scid) => EncryptedData {
                short_channel_id: Some(scid),
                ..EncryptedData::default()
            },
            None => EncryptedData {
                next_node_id: Some(next_node),
                ..EncryptedData::default()
            },
        };
        hops.push((hop.node_id, data));
    }
    hops.push((
        *recipient,
        EncryptedData {
            path_id: Some(path_id.to_vec()),
            ..EncryptedData::default()
        },
    ));
    pad_to_equal_length(hops.iter_mut().map(|(_, data)| data));
    let serialized: Vec<(PublicKey, Vec<u8>)> = hops
        .into_iter()
        .map(|(node, data)| (node, data.to_bytes()))
        .collect();
    blind_path(first_path_secret, &serialized)
}

/// Gives every `encrypted_data_tlv` (none padded yet) a `padding` record so that all encode to
/// the same length.
fn pad_to_equal_length<'a>(data: impl Iterator<Item = &'a mut EncryptedData>) {
    let mut data: Vec<&mut EncryptedData> = data.collect();
    let lengths: Vec<usize> = data.iter().map(|d| d.to_bytes().len()).collect();
    let Some(&longest) = lengths.iter().max() else {
        return;
    };
    // Every hop gets a record (at least 2 bytes), so the target is at least `longest + 2`. A
    // record cannot be 255 or 256 bytes long (nor 65538 or 65539), where its length prefix
    // grows; each hop rules out at most 4 targets this way, so this range always has one.
    let last_target = longest + 2 + 4 * lengths.len() + 4;
    for target in longest + 2..=last_target {
        let paddings: Option<Vec<usize>> = lengths
            .iter()
            .map(|&len| padding_value_len(target - len))
            .collect();
        if let Some(paddings) = paddings {
            for (hop, padding) in data.iter_mut().zip(paddings) {
                hop.padding = Some(vec![0; padding]);
            }
            return;
        }
    }
}

/// The value length of a `padding` record (type 1) that is `record_len` bytes long in all.
fn padding_value_len(record_len: usize) -> Option<usize> {
    [1, 3, 5, 9].into_iter().find_map(|prefix_len| {
        let value_len = record_len.checked_sub(1 + prefix_len)?;
        (BigSize(value_len as u64).encoded_len() == prefix_len).then_some(value_len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decrypt_encrypted_data;
    use crate::test_keys::*;

    /// Opens every hop of `path` with the hops' keys, in order.
    fn open(path: &BlindedPath, keys: &[SecretKey]) -> Vec<EncryptedData> {
        let mut path_key = *path.first_path_key();
        let mut opened = Vec::new();
        for (key, hop) in keys.iter().zip(path.hops()) {
            let decrypted =
                decrypt_encrypted_data(key, &path_key, &hop.encrypted_recipient_data).unwrap();
            opened.push(EncryptedData::from_bytes(&decrypted.decrypted).unwrap());
            path_key = decrypted.next_path_key;
        }
        opened
    }

    #[test]
    fn hops_forward_by_node_or_channel_and_we_get_the_path_id() {
        let path = create_blinded_path(
            &[
                ForwardNode {
                    node_id: node(0x41),
                    next_short_channel_id: Some(ShortChannelId(0x6c1)),
                },
                ForwardNode {
                    node_id: node(0x42),
                    next_short_channel_id: None,
                },
            ],
            &node(0x44),
            b"secret",
            &secret(9),
        )
        .unwrap();
        assert_eq!(
            path.introduction_node(),
            &crate::IntroductionNode::NodeId(node(0x41))
        );
        let data = open(&path, &[secret(0x41), secret(0x42), secret(0x44)]);
        assert_eq!(data[0].short_channel_id, Some(ShortChannelId(0x6c1)));
        assert_eq!(data[0].next_node_id, None);
        assert_eq!(data[1].next_node_id, Some(node(0x44)));
        assert_eq!(data[2].path_id.as_deref(), Some(&b"secret"[..]));
        let lengths: Vec<usize> = path
            .hops()
            .iter()
            .map(|hop| hop.encrypted_recipient_data.len())
            .collect();
        assert!(lengths.windows(2).all(|w| w[0] == w[1]), "{lengths:?}");
    }

    #[test]
    fn a_path_with_no_hops_starts_at_us() {
        let path = create_blinded_path(&[], &node(0x44), &[1; 32], &secret(9)).unwrap();
        assert_eq!(path.hops().len(), 1);
        assert_eq!(
            path.introduction_node(),
            &crate::IntroductionNode::NodeId(node(0x44))
        );
        assert_eq!(open(&path, &[secret(0x44)])[0].path_id, Some(vec![1; 32]));
    }

    #[test]
    fn padding_equalises_any_mix_of_lengths() {
        for path_id_len in [0, 1, 32, 200, 250, 251, 252, 253, 254, 300, 65_000] {
            let mut data = [
                EncryptedData {
                    next_node_id: Some(node(1)),
                    ..EncryptedData::default()
                },
                EncryptedData {
                    short_channel_id: Some(ShortChannelId(1)),
                    ..EncryptedData::default()
                },
                EncryptedData {
                    path_id: Some(vec![0; path_id_len]),
                    ..EncryptedData::default()
                },
            ];
            pad_to_equal_length(data.iter_mut());
            let lengths: Vec<usize> = data.iter().map(|d| d.to_bytes().len()).collect();
            assert!(
                lengths.windows(2).all(|w| w[0] == w[1]),
                "{path_id_len}: {lengths:?}"
            );
            assert!(data.iter().all(|d| d.padding.is_some()));
        }
    }

    #[test]
    fn padding_records_have_exact_lengths() {
        assert_eq!(padding_value_len(0), None);
        assert_eq!(padding_value_len(1), None);
        assert_eq!(padding_value_len(2), Some(0));
        assert_eq!(padding_value_len(254), Some(252));
        assert_eq!(padding_value_len(255), None);
        assert_eq!(padding_value_len(256), None);
        assert_eq!(padding_value_len(257), Some(253));
    }
}
