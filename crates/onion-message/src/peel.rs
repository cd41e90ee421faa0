//! Peeling a received onion message (BOLT 4 "Onion Messages", the reader): unblind the packet
//! with the `path_key`, peel our Sphinx layer, read our `onionmsg_tlv` and our
//! `encrypted_data_tlv`, and say where the message goes next or what it brings us.
//!
//! The rules are BOLT 4's, with CLN's error texts ([`PeelError`]). Where the spec is silent
//! we follow LDK's stricter reading: a forwarding hop's data naming both a node and a channel,
//! and a final hop's data naming a next hop, are refused.

use secp256k1::{PublicKey, SecretKey};

use crate::blinding::HopBlinding;
use crate::packet::Packet;
use crate::sphinx;
use crate::{EncryptedData, EncryptedDataError, OnionMessage, Payload, PeelError, ShortChannelId};

/// What to do with a message we peeled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peeled {
    /// Send it on.
    Forward(Forward),
    /// It is for us (boxed: a payload is much larger than a forward).
    Receive(Box<Received>),
}

/// Where a forwarded message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// The peer with this node id (possibly ourselves: then peel the message again).
    NodeId(PublicKey),
    /// The peer at the other end of this channel of ours (an announced id or a local
    /// alias); a node without channels drops the message (CLN: `onion msg: unknown next scid`).
    ShortChannelId(ShortChannelId),
}

/// A message to forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The next peer.
    pub next_hop: NextHop,
    /// The `onion_message` for it: the next `path_key` (the override if our data had one,
    /// else the computed one) and the peeled packet, the same length as the one we got.
    pub message: OnionMessage,
}

/// A message for us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Our `onionmsg_tlv`: the reply path, the BOLT 12 fields and every other record
    /// (`unknown_fields`), as CLN's `onion_message_recv` hooks show them. At most one payload
    /// field (type 64 or more) is set.
    pub payload: Payload,
    /// Our decrypted `encrypted_data_tlv`, or `None` if the sender gave none (CLN accepts
    /// that: "Final enctlv is actually optional"; then the message did not come over any
    /// blinded path, ours or another's).
    pub encrypted_data: Option<EncryptedData>,
}

impl Received {
    /// The `path_id` of the blinded path the message came over, if it had one. A path we
    /// created carries the `path_id` we chose; anything else is someone else's (or nobody's)
    /// path, and BOLT 4 says to act exactly as if we had never sent a message with a
    /// `reply_path` of ours.
    pub fn path_id(&self) -> Option<&[u8]> {
        self.encrypted_data.as_ref()?.path_id.as_deref()
    }

    /// The `path_id` if it is exactly 32 bytes: CLN's "path secret", which selects the
    /// `onion_message_recv_secret` hook (its `pathsecret`) over `onion_message_recv`.
    pub fn path_secret(&self) -> Option<[u8; 32]> {
        self.path_id()?.try_into().ok()
    }

    /// Whether the message came over a path we created with `path_id` (compared in constant
    /// time, as the `path_id` is a secret).
    pub fn came_over_path(&self, path_id: &[u8]) -> bool {
        self.path_id().is_some_and(|got| {
            got.len() == path_id.len()
                && got
                    .iter()
                    .zip(path_id)
                    .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                    == 0
        })
    }
}

/// Peels `message` with our node's private key.
///
/// Pure and total: any bytes give `Ok` or a [`PeelError`], never a panic. A forward to our
/// own node id is returned as such; the caller peels the returned message again (at most as
/// many times as the sender built layers, each of which costs it at least 50 bytes of the
/// packet).
///
/// # Errors
///
/// [`PeelError`]: the message must be ignored (BOLT 4 sends no error back). Its text is CLN's,
/// for logs and for `injectonionmessage`'s error.
pub fn peel_onion_message(
    node_secret: &SecretKey,
    message: &OnionMessage,
) -> Result<Peeled, PeelError> {
    let packet = Packet::parse(message.packet()).map_err(PeelError::Packet)?;
    // BOLT 4 "Onion Decryption": tweak our key by the path key's blinding, then ECDH with the
    // packet's key (CLN tweaks the packet's key instead; the shared secret is the same).
    let blinding = HopBlinding::new(node_secret, message.path_key());
    let blinded_secret = blinding
        .blinded_secret(node_secret)
        .map_err(|_| PeelError::Unblind)?;
    let onion_secret = sphinx::shared_secret(&blinded_secret, &packet);
    let layer = sphinx::peel(&packet, &onion_secret).map_err(PeelError::Layer)?;
    let payload =
        Payload::from_bytes(&layer.payload).map_err(|error| PeelError::InvalidPayload {
            payload: layer.payload.clone(),
            error,
        })?;
    match layer.next_packet {
        Some(next_packet) => forward(&blinding, message.path_key(), payload, next_packet),
        None => receive(&blinding, payload),
    }
}

fn forward(
    blinding: &HopBlinding,
    path_key: &PublicKey,
    payload: Payload,
    next_packet: Vec<u8>,
) -> Result<Peeled, PeelError> {
    let Some(data) = payload.encrypted_recipient_data.clone() else {
        // A payload of 2 bytes or more always holds a record, and it is not this one.
        return Err(PeelError::DisallowedField);
    };
    if !payload.is_forward_only() {
        return Err(PeelError::DisallowedField);
    }
    let invalid = |reason| PeelError::InvalidEncryptedData {
        data: data.clone(),
        reason,
    };
    let plain = blinding
        .open(&data)
        .ok_or_else(|| invalid(EncryptedDataError::Decrypt))?;
    let decoded = EncryptedData::from_bytes(&plain)
        .map_err(|error| invalid(EncryptedDataError::Decode(error)))?;
    if decoded.path_id.is_some() {
        return Err(invalid(EncryptedDataError::PathIdWhenForwarding));
    }
    if decoded.allows_unknown_features() {
        return Err(invalid(EncryptedDataError::UnknownFeature));
    }
    let next_hop = match (decoded.next_node_id, decoded.short_channel_id) {
        (Some(node_id), None) => NextHop::NodeId(node_id),
        (None, Some(scid)) => NextHop::ShortChannelId(scid),
        (Some(_), Some(_)) => return Err(invalid(EncryptedDataError::TwoNextHops)),
        (None, None) => return Err(invalid(EncryptedDataError::NoNextHop)),
    };
    let next_path_key = match decoded.next_path_key_override {
        Some(key) => key,
        None => blinding
            .next_path_key(path_key)
            .map_err(|_| PeelError::Unblind)?,
    };
    Ok(Peeled::Forward(Forward {
        next_hop,
        message: OnionMessage::forwarded(next_path_key, next_packet),
    }))
}

fn receive(blinding: &HopBlinding, payload: Payload) -> Result<Peeled, PeelError> {
    if let [first, second, ..] = payload.payload_field_types()[..] {
        return Err(PeelError::MultiplePayloadFields { first, second });
    }
    let encrypted_data = match &payload.encrypted_recipient_data {
        None => None,
        Some(data) => {
            let invalid = |reason| PeelError::FinalEncryptedData {
                data: data.clone(),
                reason,
            };
            let plain = blinding
                .open(data)
                .ok_or_else(|| invalid(EncryptedDataError::Decrypt))?;
            let decoded = EncryptedData::from_bytes(&plain)
                .map_err(|error| invalid(EncryptedDataError::Decode(error)))?;
            if decoded.next_node_id.is_some() || decoded.short_channel_id.is_some() {
                return Err(invalid(EncryptedDataError::NextHopAtFinalHop));
            }
            if decoded.allows_unknown_features() {
                return Err(invalid(EncryptedDataError::UnknownFeature));
            }
            Some(decoded)
        }
    };
    Ok(Peeled::Receive(Box::new(Received {
        payload,
        encrypted_data,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blinding::blind_path;
    use crate::sphinx::Hop;
    use crate::test_keys::*;
    use crate::{LayerError, PacketError};
    use secp256k1::SECP256K1;
    use wire::{Encode, TlvRecord};

    /// A message whose hops' data and payloads are given raw (bypassing the builder's
    /// checks), to the nodes with keys `0x41..`, `path_key` secret 0x63, session key 3.
    fn raw_message(hops: &[(EncryptedData, Payload)]) -> OnionMessage {
        let data: Vec<(PublicKey, Vec<u8>)> = hops
            .iter()
            .enumerate()
            .map(|(i, (data, _))| (node(0x41 + i as u8), data.to_bytes()))
            .collect();
        let path = blind_path(&secret(0x63), &data).unwrap();
        let payloads: Vec<Vec<u8>> = hops
            .iter()
            .zip(path.hops())
            .map(|((_, payload), hop)| {
                let mut payload = payload.clone();
                payload
                    .encrypted_recipient_data
                    .get_or_insert_with(|| hop.encrypted_recipient_data.clone());
                payload.to_bytes()
            })
            .collect();
        let sphinx_hops: Vec<Hop<'_>> = path
            .hops()
            .iter()
            .zip(&payloads)
            .map(|(hop, payload)| Hop {
                key: hop.blinded_node_id,
                payload,
            })
            .collect();
        let packet = sphinx::construct(&secret(3), &sphinx_hops, 1300).unwrap();
        OnionMessage::new(*path.first_path_key(), packet).unwrap()
    }

    fn to(next: u8) -> EncryptedData {
        EncryptedData {
            next_node_id: Some(node(next)),
            ..EncryptedData::default()
        }
    }

    fn reason(result: Result<Peeled, PeelError>) -> EncryptedDataError {
        match result {
            Err(PeelError::InvalidEncryptedData { reason, .. })
            | Err(PeelError::FinalEncryptedData { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forwarding_hops_need_exactly_one_next_hop_and_no_path_id() {
        let final_hop = (EncryptedData::default(), Payload::default());
        let peel_first = |data: EncryptedData| {
            peel_onion_message(
                &secret(0x41),
                &raw_message(&[(data, Payload::default()), final_hop.clone()]),
            )
        };
        assert_eq!(
            reason(peel_first(EncryptedData::default())),
            EncryptedDataError::NoNextHop
        );
        let both = EncryptedData {
            short_channel_id: Some(ShortChannelId(5)),
            ..to(0x42)
        };
        assert_eq!(reason(peel_first(both)), EncryptedDataError::TwoNextHops);
        let with_path_id = EncryptedData {
            path_id: Some(vec![1]),
            ..to(0x42)
        };
        assert_eq!(
            reason(peel_first(with_path_id)),
            EncryptedDataError::PathIdWhenForwarding
        );
        let featured = EncryptedData {
            allowed_features: Some(vec![0x80]),
            ..to(0x42)
        };
        assert_eq!(
            reason(peel_first(featured)),
            EncryptedDataError::UnknownFeature
        );
        let by_channel = EncryptedData {
            short_channel_id: Some(ShortChannelId(5)),
            allowed_features: Some(vec![0]),
            ..EncryptedData::default()
        };
        match peel_first(by_channel).unwrap() {
            Peeled::Forward(forward) => {
                assert_eq!(forward.next_hop, NextHop::ShortChannelId(ShortChannelId(5)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn forwarding_payloads_hold_only_encrypted_recipient_data() {
        let extra = Payload {
            unknown_fields: vec![TlvRecord {
                ty: 65_555,
                value: vec![],
            }],
            ..Payload::default()
        };
        let message = raw_message(&[
            (to(0x42), extra),
            (EncryptedData::default(), Payload::default()),
        ]);
        assert_eq!(
            peel_onion_message(&secret(0x41), &message),
            Err(PeelError::DisallowedField)
        );
        let no_data = Payload {
            encrypted_recipient_data: Some(vec![0; 16]),
            ..Payload::default()
        };
        let message = raw_message(&[
            (to(0x42), no_data),
            (EncryptedData::default(), Payload::default()),
        ]);
        assert_eq!(
            reason(peel_onion_message(&secret(0x41), &message)),
            EncryptedDataError::Decrypt
        );
    }

    #[test]
    fn override_replaces_the_computed_path_key() {
        let override_key = node(0x01);
        let data = EncryptedData {
            next_path_key_override: Some(override_key),
            ..to(0x42)
        };
        let message = raw_message(&[
            (data, Payload::default()),
            (EncryptedData::default(), Payload::default()),
        ]);
        let Peeled::Forward(forward) = peel_onion_message(&secret(0x41), &message).unwrap() else {
            panic!("not a forward");
        };
        assert_eq!(forward.message.path_key(), &override_key);
        assert_eq!(forward.message.packet().len(), message.packet().len());
    }

    #[test]
    fn final_hops_take_one_payload_field_and_no_next_hop() {
        let two_fields = Payload {
            invoice: Some(vec![1]),
            unknown_fields: vec![TlvRecord {
                ty: 65_555,
                value: vec![],
            }],
            ..Payload::default()
        };
        assert_eq!(
            peel_onion_message(
                &secret(0x41),
                &raw_message(&[(EncryptedData::default(), two_fields)])
            ),
            Err(PeelError::MultiplePayloadFields {
                first: 66,
                second: 65_555
            })
        );
        assert_eq!(
            reason(peel_onion_message(
                &secret(0x41),
                &raw_message(&[(to(0x42), Payload::default())])
            )),
            EncryptedDataError::NextHopAtFinalHop
        );
        // Odd types below 64 are not payload fields.
        let low_odd = Payload {
            invoice_request: Some(vec![]),
            unknown_fields: vec![TlvRecord {
                ty: 1,
                value: vec![],
            }],
            ..Payload::default()
        };
        assert!(matches!(
            peel_onion_message(
                &secret(0x41),
                &raw_message(&[(EncryptedData::default(), low_odd)])
            ),
            Ok(Peeled::Receive(_))
        ));
    }

    #[test]
    fn final_encrypted_data_is_optional() {
        // Sender-built without type 4 at the final hop: CLN accepts it, so do we.
        let key = secret(0x41);
        let payload = Payload {
            unknown_fields: vec![TlvRecord {
                ty: 65_555,
                value: b"hi".to_vec(),
            }],
            ..Payload::default()
        }
        .to_bytes();
        let blinded = HopBlinding::new(&key, &node(0x63))
            .blinded_secret(&key)
            .unwrap();
        let hop = Hop {
            key: PublicKey::from_secret_key(SECP256K1, &blinded),
            payload: &payload,
        };
        let packet = sphinx::construct(&secret(3), &[hop], 1300).unwrap();
        let message = OnionMessage::new(node(0x63), packet).unwrap();
        let Peeled::Receive(received) = peel_onion_message(&key, &message).unwrap() else {
            panic!("not received");
        };
        assert_eq!(received.encrypted_data, None);
        assert_eq!(received.path_id(), None);
        assert!(!received.came_over_path(&[]));
    }

    #[test]
    fn path_ids_are_recognised() {
        let data = EncryptedData {
            path_id: Some(vec![5; 32]),
            ..EncryptedData::default()
        };
        let message = raw_message(&[(data, Payload::default())]);
        let Peeled::Receive(received) = peel_onion_message(&secret(0x41), &message).unwrap() else {
            panic!("not received");
        };
        assert!(received.came_over_path(&[5; 32]));
        assert!(!received.came_over_path(&[5; 31]));
        assert!(!received.came_over_path(&[6; 32]));
        assert_eq!(received.path_secret(), Some([5; 32]));
    }

    #[test]
    fn broken_packets_and_wrong_keys_fail_cleanly() {
        let message = raw_message(&[(EncryptedData::default(), Payload::default())]);
        assert_eq!(
            peel_onion_message(&secret(0x42), &message),
            Err(PeelError::Layer(LayerError::HmacMismatch))
        );
        let mut version = message.packet().to_vec();
        version[0] = 1;
        let bad = OnionMessage::new(*message.path_key(), version).unwrap();
        assert_eq!(
            peel_onion_message(&secret(0x41), &bad),
            Err(PeelError::Packet(PacketError::InvalidVersion(1)))
        );
        let short =
            OnionMessage::new(*message.path_key(), message.packet()[..50].to_vec()).unwrap();
        assert_eq!(
            peel_onion_message(&secret(0x41), &short),
            Err(PeelError::Packet(PacketError::Truncated))
        );
        // The right key with another path key unblinds to the wrong layer key.
        let other_path_key = OnionMessage::new(node(0x64), message.packet().to_vec()).unwrap();
        assert_eq!(
            peel_onion_message(&secret(0x41), &other_path_key),
            Err(PeelError::Layer(LayerError::HmacMismatch))
        );
    }
}
