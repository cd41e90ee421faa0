//! Building an onion message to send (BOLT 4 "Onion Messages", the writer): blinded hops for
//! the explicit route the sender chose, spliced onto the destination's own blinded path if it
//! has one, one `onionmsg_tlv` per hop, and the Sphinx packet around them.

use secp256k1::{PublicKey, SecretKey};
use wire::{Encode, TlvRecord};

use crate::blinding::blind_path;
use crate::packet::{BIG_PAYLOADS_LEN, SMALL_PAYLOADS_LEN};
use crate::sphinx::{self, Hop};
use crate::{
    BlindedHop, BlindedPath, BuildError, EncryptedData, IntroductionNode, OnionMessage, Payload,
};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A node by its id: the sender blinds the last hop itself, with empty
    /// `encrypted_data_tlv` (what LDK does for `Destination::Node`; no `path_id`, which LDK's
    /// reader would refuse as an unknown even type).
    Node(PublicKey),
    /// A blinded path someone gave us (an offer's path, a `reply_path`). Its introduction
    /// node must be a node id.
    BlindedPath(BlindedPath),
}

/// What the final hop's `onionmsg_tlv` carries besides `encrypted_recipient_data`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageContents {
    /// Where the recipient may reply (BOLT 4: "MUST NOT set `reply_path`" unless replies are
    /// allowed).
    pub reply_path: Option<BlindedPath>,
    /// Type 64, a BOLT 12 `tlv_invoice_request`, as bytes.
    pub invoice_request: Option<Vec<u8>>,
    /// Type 66, a BOLT 12 `tlv_invoice`, as bytes.
    pub invoice: Option<Vec<u8>>,
    /// Type 68, a BOLT 12 `tlv_invoice_error`, as bytes.
    pub invoice_error: Option<Vec<u8>>,
    /// Application records. Types must be odd (an even type kills the message at every
    /// reader that does not know it) and should be 64 or more (BOLT 4 keeps that range for
    /// final-hop payloads; LDK only sends such types, CLN hands them to plugins as
    /// `unknown_fields`). BOLT 4 readers ignore a message with more than one payload field,
    /// so send one record of type 64 or more per message.
    pub custom: Vec<TlvRecord>,
}

/// The sender's randomness for one message, passed in so that tests and the spec's vectors
/// reproduce byte for byte. Both must be fresh from a CSPRNG for every message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderSecrets {
    /// The Sphinx session key: the first hop's ephemeral onion key, and the seed of the
    /// starting mix header.
    pub session_key: SecretKey,
    /// `e_0` of the blinded hops the sender builds itself (unused when the message goes
    /// straight into a destination path with no hops before it).
    pub first_path_secret: SecretKey,
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltMessage {
    /// The node to send `message` to. It may be ourselves (our node is the destination path's
    /// introduction node, or the first explicit hop): then peel `message` locally, as CLN's
    /// plugins do with `injectonionmessage`.
    pub first_hop: PublicKey,
    /// The `onion_message`, with the first hop's `path_key`.
    pub message: OnionMessage,
}

/// Builds an onion message that travels through `intermediate_hops` (node ids, in order,
/// each forwarding to the next by node id) and then to `destination`, whose final hop reads
/// `contents`.
///
/// The packet has 1300 bytes of payloads if they fit and 32768 otherwise (what CLN and LDK
/// send; BOLT 4 recommends these two sizes).
///
/// # Errors
///
/// [`BuildError`]: an even or duplicate custom type, a destination path whose introduction
/// node is a channel, payloads too big for 32768 bytes, or (negligibly) an invalid key.
pub fn build_onion_message(
    intermediate_hops: &[PublicKey],
    destination: &Destination,
    contents: &MessageContents,
    secrets: &SenderSecrets,
) -> Result<BuiltMessage, BuildError> {
    let final_payload = final_payload(contents)?;
    let (first_hop, path_key, hops) = route(intermediate_hops, destination, secrets)?;

    let mut payloads: Vec<Vec<u8>> = Vec::with_capacity(hops.len());
    let last = hops.len().saturating_sub(1);
    for (index, hop) in hops.iter().enumerate() {
        let mut payload = if index == last {
            final_payload.clone()
        } else {
            Payload::default()
        };
        payload.encrypted_recipient_data = Some(hop.encrypted_recipient_data.clone());
        payloads.push(payload.to_bytes());
    }

    let needed = sphinx::frames_len(payloads.iter().map(Vec::as_slice));
    let payloads_len = if needed <= SMALL_PAYLOADS_LEN {
        SMALL_PAYLOADS_LEN
    } else if needed <= BIG_PAYLOADS_LEN {
        BIG_PAYLOADS_LEN
    } else {
        return Err(BuildError::TooBig { needed });
    };
    let sphinx_hops: Vec<Hop<'_>> = hops
        .iter()
        .zip(&payloads)
        .map(|(hop, payload)| Hop {
            key: hop.blinded_node_id,
            payload,
        })
        .collect();
    let packet = sphinx::construct(&secrets.session_key, &sphinx_hops, payloads_len)
        .map_err(|_| BuildError::InvalidKey)?;
    let message = OnionMessage::new(path_key, packet).map_err(|_| BuildError::TooBig { needed })?;
    Ok(BuiltMessage { first_hop, message })
}

/// The final hop's payload without its `encrypted_recipient_data`.
fn final_payload(contents: &MessageContents) -> Result<Payload, BuildError> {
    let mut custom = contents.custom.clone();
    custom.sort_by_key(|record| record.ty);
    for pair in custom.windows(2) {
        if let [a, b] = pair {
            if a.ty == b.ty {
                return Err(BuildError::DuplicateCustomType(a.ty));
            }
        }
    }
    if let Some(even) = custom.iter().find(|record| record.ty % 2 == 0) {
        return Err(BuildError::EvenCustomType(even.ty));
    }
    Ok(Payload {
        reply_path: contents.reply_path.clone(),
        encrypted_recipient_data: None,
        invoice_request: contents.invoice_request.clone(),
        invoice: contents.invoice.clone(),
        invoice_error: contents.invoice_error.clone(),
        unknown_fields: custom,
    })
}

/// The first node to send to, the `path_key` that goes with the message, and every onion hop
/// (all blinded).
fn route(
    intermediate_hops: &[PublicKey],
    destination: &Destination,
    secrets: &SenderSecrets,
) -> Result<(PublicKey, PublicKey, Vec<BlindedHop>), BuildError> {
    // Each explicit hop forwards to the next by node id.
    let forward_to = |next: &PublicKey| EncryptedData {
        next_node_id: Some(*next),
        ..EncryptedData::default()
    };
    match destination {
        Destination::Node(recipient) => {
            let nodes: Vec<PublicKey> = intermediate_hops
                .iter()
                .chain(std::iter::once(recipient))
                .copied()
                .collect();
            let mut hops: Vec<(PublicKey, Vec<u8>)> = nodes
                .windows(2)
                .filter_map(|pair| match pair {
                    [node, next] => Some((*node, forward_to(next).to_bytes())),
                    _ => None,
                })
                .collect();
            hops.push((*recipient, EncryptedData::default().to_bytes()));
            let path = blind_path(&secrets.first_path_secret, &hops)?;
            let first_hop = nodes.first().copied().unwrap_or(*recipient);
            Ok((first_hop, *path.first_path_key(), path.hops().to_vec()))
        }
        Destination::BlindedPath(path) => {
            let IntroductionNode::NodeId(introduction) = path.introduction_node() else {
                return Err(BuildError::UnresolvedIntroductionNode);
            };
            let Some((&first_hop, _)) = intermediate_hops.split_first() else {
                return Ok((*introduction, *path.first_path_key(), path.hops().to_vec()));
            };
            // Our hops lead to the introduction node; the last of them hands it the path's
            // own first path key (BOLT 4: "MUST set `next_path_key_override` in the prior
            // onion payload to `first_path_key`").
            let mut hops: Vec<(PublicKey, Vec<u8>)> = Vec::with_capacity(intermediate_hops.len());
            for (index, node) in intermediate_hops.iter().enumerate() {
                let data = match intermediate_hops.get(index + 1) {
                    Some(next) => forward_to(next),
                    None => EncryptedData {
                        next_path_key_override: Some(*path.first_path_key()),
                        ..forward_to(introduction)
                    },
                };
                hops.push((*node, data.to_bytes()));
            }
            let ours = blind_path(&secrets.first_path_secret, &hops)?;
            let mut all = ours.hops().to_vec();
            all.extend_from_slice(path.hops());
            Ok((first_hop, *ours.first_path_key(), all))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::*;
    use crate::{peel_onion_message, NextHop, Peeled, ShortChannelId};
    use secp256k1::SECP256K1;

    fn secrets() -> SenderSecrets {
        SenderSecrets {
            session_key: secret(3),
            first_path_secret: secret(0x63),
        }
    }

    fn custom(ty: u64, value: &[u8]) -> TlvRecord {
        TlvRecord {
            ty,
            value: value.to_vec(),
        }
    }

    /// Peels `built` at each of `keys` in turn, checking each forward names the next key's
    /// node, and returns what the last one received.
    fn deliver(built: &BuiltMessage, keys: &[SecretKey]) -> crate::Received {
        let mut message = built.message.clone();
        assert_eq!(
            built.first_hop,
            PublicKey::from_secret_key(SECP256K1, &keys[0])
        );
        for (index, key) in keys.iter().enumerate() {
            match peel_onion_message(key, &message).unwrap() {
                Peeled::Forward(forward) => {
                    let next = PublicKey::from_secret_key(SECP256K1, &keys[index + 1]);
                    assert_eq!(forward.next_hop, NextHop::NodeId(next));
                    message = forward.message;
                }
                Peeled::Receive(received) => {
                    assert_eq!(index, keys.len() - 1);
                    return *received;
                }
            }
        }
        panic!("never received");
    }

    #[test]
    fn to_a_node_directly_and_through_hops() {
        let contents = MessageContents {
            custom: vec![custom(65_555, b"hello")],
            ..MessageContents::default()
        };
        for route in [vec![], vec![0x41], vec![0x41, 0x42, 0x43]] {
            let hops: Vec<PublicKey> = route.iter().map(|&b| node(b)).collect();
            let built =
                build_onion_message(&hops, &Destination::Node(node(0x44)), &contents, &secrets())
                    .unwrap();
            assert_eq!(built.message.packet().len(), 1366);
            let keys: Vec<SecretKey> = route.iter().chain(&[0x44]).map(|&b| secret(b)).collect();
            let received = deliver(&built, &keys);
            assert_eq!(received.payload.unknown_fields, contents.custom);
            // LDK's shape for a node destination: empty final data, so no path id.
            assert_eq!(received.encrypted_data, Some(EncryptedData::default()));
            assert_eq!(received.path_id(), None);
        }
    }

    #[test]
    fn into_a_blinded_path_with_and_without_hops_before_it() {
        let path = crate::create_blinded_path(
            &[crate::ForwardNode {
                node_id: node(0x42),
                next_short_channel_id: None,
            }],
            &node(0x44),
            &[7; 32],
            &secret(0x01),
        )
        .unwrap();
        let contents = MessageContents {
            invoice_request: Some(vec![1, 2, 3]),
            ..MessageContents::default()
        };
        let destination = Destination::BlindedPath(path);
        let direct = build_onion_message(&[], &destination, &contents, &secrets()).unwrap();
        let received = deliver(&direct, &[secret(0x42), secret(0x44)]);
        assert_eq!(received.path_id(), Some(&[7u8; 32][..]));
        assert_eq!(received.payload.invoice_request, Some(vec![1, 2, 3]));

        let routed =
            build_onion_message(&[node(0x41)], &destination, &contents, &secrets()).unwrap();
        let received = deliver(&routed, &[secret(0x41), secret(0x42), secret(0x44)]);
        assert_eq!(received.path_secret(), Some([7; 32]));
    }

    #[test]
    fn large_contents_take_the_big_packet_and_huge_ones_fail() {
        let big = MessageContents {
            custom: vec![custom(65_555, &[0xab; 5000])],
            ..MessageContents::default()
        };
        let built =
            build_onion_message(&[], &Destination::Node(node(0x44)), &big, &secrets()).unwrap();
        assert_eq!(built.message.packet().len(), 32834);
        assert_eq!(
            deliver(&built, &[secret(0x44)]).payload.unknown_fields,
            big.custom
        );

        let huge = MessageContents {
            custom: vec![custom(65_555, &[0xab; 40_000])],
            ..MessageContents::default()
        };
        assert!(matches!(
            build_onion_message(&[], &Destination::Node(node(0x44)), &huge, &secrets()),
            Err(BuildError::TooBig { .. })
        ));
    }

    #[test]
    fn custom_types_must_be_odd_and_unique() {
        let to = Destination::Node(node(0x44));
        let even = MessageContents {
            custom: vec![custom(65_554, b"")],
            ..MessageContents::default()
        };
        assert_eq!(
            build_onion_message(&[], &to, &even, &secrets()),
            Err(BuildError::EvenCustomType(65_554))
        );
        let twice = MessageContents {
            custom: vec![custom(65_555, b"a"), custom(65_555, b"b")],
            ..MessageContents::default()
        };
        assert_eq!(
            build_onion_message(&[], &to, &twice, &secrets()),
            Err(BuildError::DuplicateCustomType(65_555))
        );
    }

    #[test]
    fn a_channel_introduction_node_must_be_resolved_first() {
        let path = BlindedPath::new(
            IntroductionNode::Channel {
                short_channel_id: ShortChannelId(1),
                direction: crate::Direction::NodeOne,
            },
            node(1),
            vec![BlindedHop {
                blinded_node_id: node(2),
                encrypted_recipient_data: vec![0; 16],
            }],
        )
        .unwrap();
        assert_eq!(
            build_onion_message(
                &[],
                &Destination::BlindedPath(path),
                &MessageContents::default(),
                &secrets()
            ),
            Err(BuildError::UnresolvedIntroductionNode)
        );
    }
}
