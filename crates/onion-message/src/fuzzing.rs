//! Fuzz target bodies, shared by `fuzz/fuzz_targets/onion_message_*` and
//! `blinded_path_decoding` and the corpus replay tests, so a crash found once stays fixed
//! under a plain `cargo test`. Only built with the `fuzzing` feature.

use secp256k1::{PublicKey, SecretKey, SECP256K1};
use wire::{Encode, Reader, TlvRecord};

use crate::blinding::{blind_hops, HopBlinding};
use crate::packet::{BIG_PAYLOADS_LEN, SMALL_PAYLOADS_LEN};
use crate::sphinx::{self, Hop};
use crate::{
    decrypt_encrypted_data, peel_onion_message, BlindedPath, EncryptedData, NextHop, OnionMessage,
    Payload, Peeled,
};

/// The fuzzed node's key: Dave's in BOLT 4's onion-message vector, so the vector's last
/// message (a seed) peels all the way to a received message.
const NODE_SECRET: [u8; 32] = [0x44; 32];
/// The path key of the fixed-key decryptions: Dave's in the same vector, so his
/// `encrypted_recipient_data` (a seed) decrypts.
const PATH_KEY: [u8; 33] = [
    0x02, 0x5a, 0xac, 0xa6, 0x2d, 0xb7, 0xce, 0x6b, 0x46, 0x38, 0x62, 0x06, 0xef, 0x99, 0x30, 0xda,
    0xa3, 0x2e, 0x97, 0x9a, 0x35, 0xcb, 0x18, 0x5a, 0x41, 0xcb, 0x95, 0x1a, 0xa7, 0xd2, 0x54, 0xb0,
    0x3c,
];
/// The sender's keys when the target builds a valid onion around fuzzed contents.
const SESSION_KEY: [u8; 32] = [0x03; 32];
const FIRST_PATH_SECRET: [u8; 32] = [0x63; 32];
/// Hops at most in a built onion (each is our own node, forwarding to itself).
const MAX_HOPS: usize = 8;

fn key(bytes: &[u8; 32]) -> SecretKey {
    SecretKey::from_slice(bytes).expect("the fixed keys are valid")
}

/// Peeling onion messages with a fixed node key. The first byte picks the mode:
///
/// * even: the rest is a whole `onion_message` (type first). What decodes must re-encode to
///   the input; peeling must not panic; a forward keeps the packet length and re-decodes to
///   itself; a received payload re-encodes to a payload that decodes the same.
/// * odd: the rest is a script of hops, each `[u16 len][encrypted_data_tlv]
///   [u16 len][onionmsg_tlv records before type 4][u16 len][records after type 4]`. The
///   target builds a valid onion through our own node once per hop (blinded path, payloads
///   with the sealed data spliced in as type 4, Sphinx), so the crypto passes and the
///   parsers see fuzzed plaintext, then peels it as a node would, following forwards to
///   ourselves. Each layer must come out exactly as built: a forward where a hop followed,
///   naming what that hop's data names; a receive at the last hop, with its payload and data
///   re-encoding to the built bytes.
pub fn onion_message_decoding(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(message) = OnionMessage::decode(rest) {
            assert_eq!(message.to_bytes(), rest, "re-encoding changed the message");
            check_peel(&message);
        }
    } else {
        built_onion(rest);
    }
}

fn check_peel(message: &OnionMessage) {
    match peel_onion_message(&key(&NODE_SECRET), message) {
        Ok(Peeled::Forward(forward)) => {
            assert_eq!(forward.message.packet().len(), message.packet().len());
            let bytes = forward.message.to_bytes();
            assert_eq!(OnionMessage::decode(&bytes).as_ref(), Ok(&forward.message));
        }
        Ok(Peeled::Receive(received)) => {
            let payload = received.payload.to_bytes();
            assert_eq!(
                Payload::from_bytes(&payload).as_ref(),
                Ok(&received.payload)
            );
            assert!(received.payload.payload_field_types().len() <= 1);
            if let Some(data) = &received.encrypted_data {
                assert_eq!(
                    EncryptedData::from_bytes(&data.to_bytes()).as_ref(),
                    Ok(data)
                );
            }
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

/// One hop of a fuzzed script.
struct ScriptHop<'a> {
    encrypted_data: &'a [u8],
    before: &'a [u8],
    after: &'a [u8],
}

fn read_script(data: &[u8]) -> Vec<ScriptHop<'_>> {
    let mut reader = Reader::new(data);
    let mut hops = Vec::new();
    while hops.len() < MAX_HOPS {
        let (Ok(encrypted_data), Ok(before), Ok(after)) = (
            reader.read_u16_prefixed("fuzz"),
            reader.read_u16_prefixed("fuzz"),
            reader.read_u16_prefixed("fuzz"),
        ) else {
            break;
        };
        hops.push(ScriptHop {
            encrypted_data,
            before,
            after,
        });
    }
    hops
}

fn built_onion(data: &[u8]) {
    let script = read_script(data);
    if script.is_empty() {
        return;
    }
    let node_secret = key(&NODE_SECRET);
    let node_id = PublicKey::from_secret_key(SECP256K1, &node_secret);
    let plain: Vec<(PublicKey, Vec<u8>)> = script
        .iter()
        .map(|hop| (node_id, hop.encrypted_data.to_vec()))
        .collect();
    let Ok(blinded) = blind_hops(&key(&FIRST_PATH_SECRET), &plain) else {
        return;
    };
    let payloads: Vec<Vec<u8>> = script
        .iter()
        .zip(&blinded)
        .map(|(hop, blinded)| {
            let mut payload = hop.before.to_vec();
            TlvRecord {
                ty: 4,
                value: blinded.encrypted_recipient_data.clone(),
            }
            .encode(&mut payload);
            payload.extend_from_slice(hop.after);
            payload
        })
        .collect();
    let needed = sphinx::frames_len(payloads.iter().map(Vec::as_slice));
    let payloads_len = match needed {
        0..=SMALL_PAYLOADS_LEN => SMALL_PAYLOADS_LEN,
        _ if needed <= BIG_PAYLOADS_LEN => BIG_PAYLOADS_LEN,
        _ => return,
    };
    let sphinx_hops: Vec<Hop<'_>> = blinded
        .iter()
        .zip(&payloads)
        .map(|(hop, payload)| Hop {
            key: hop.blinded_node_id,
            payload,
        })
        .collect();
    let Ok(packet) = sphinx::construct(&key(&SESSION_KEY), &sphinx_hops, payloads_len) else {
        return;
    };
    let first_path_key = PublicKey::from_secret_key(SECP256K1, &key(&FIRST_PATH_SECRET));
    let Ok(mut message) = OnionMessage::new(first_path_key, packet) else {
        return;
    };

    // The layers were built along the computed path-key chain; a `next_path_key_override`
    // (unless it happens to equal the computed key) leaves the next layer unreadable.
    let mut chain_intact = true;
    for (index, hop) in script.iter().enumerate() {
        let is_last = index + 1 == script.len();
        let result = peel_onion_message(&node_secret, &message);
        // BOLT 4's reader rules, restated: whether this layer must be accepted. The rules
        // apply to the payload as the node reads it: the fuzzed records around the sealed
        // type 4 can swallow it (a `before` record whose length covers it), and then the
        // layer simply has no encrypted data.
        let Ok(payload) = Payload::from_bytes(&payloads[index]) else {
            assert!(
                result.is_err(),
                "an undecodable payload was accepted at {index}"
            );
            return;
        };
        let data = match payload.encrypted_recipient_data.as_deref() {
            None => None,
            Some(value) if value == blinded[index].encrypted_recipient_data.as_slice() => {
                let Ok(data) = EncryptedData::from_bytes(hop.encrypted_data) else {
                    assert!(
                        result.is_err(),
                        "undecodable encrypted data was accepted at {index}"
                    );
                    return;
                };
                Some(data)
            }
            Some(_) => {
                // A type 4 of the fuzzer's own: no tag it could write opens.
                assert!(
                    result.is_err(),
                    "encrypted data we did not seal was accepted at {index}"
                );
                return;
            }
        };
        let acceptable = if is_last {
            payload.payload_field_types().len() <= 1
                && data.as_ref().is_none_or(|data| {
                    !data.allows_unknown_features()
                        && data.next_node_id.is_none()
                        && data.short_channel_id.is_none()
                })
        } else {
            payload.is_forward_only()
                && data.as_ref().is_some_and(|data| {
                    let next_hops = usize::from(data.next_node_id.is_some())
                        + usize::from(data.short_channel_id.is_some());
                    !data.allows_unknown_features() && next_hops == 1 && data.path_id.is_none()
                })
        };
        match result {
            Ok(Peeled::Forward(forward)) => {
                assert!(
                    !is_last && acceptable,
                    "forwarded a hop it must drop: {index}"
                );
                let Some(data) = &data else {
                    unreachable!("acceptable forwards have encrypted data")
                };
                let expected = match (data.next_node_id, data.short_channel_id) {
                    (Some(id), _) => NextHop::NodeId(id),
                    (None, Some(scid)) => NextHop::ShortChannelId(scid),
                    (None, None) => unreachable!("acceptable forwards have a next hop"),
                };
                assert_eq!(forward.next_hop, expected);
                if let Some(key) = data.next_path_key_override {
                    assert_eq!(forward.message.path_key(), &key);
                    chain_intact = false;
                }
                assert_eq!(forward.message.packet().len(), message.packet().len());
                // The next layer was built for our node whatever the data names; peel it as
                // if it had named us.
                message = forward.message;
            }
            Ok(Peeled::Receive(received)) => {
                assert!(
                    is_last && acceptable,
                    "received at a hop it must not: {index}"
                );
                assert_eq!(received.payload, payload);
                assert_eq!(received.payload.to_bytes(), payloads[index]);
                assert_eq!(received.encrypted_data, data);
                return;
            }
            Err(error) => {
                assert!(
                    !acceptable || !chain_intact,
                    "dropped an acceptable hop {index}: {error}"
                );
                return;
            }
        }
    }
}

/// Blinded paths and the TLVs inside them. The first byte picks what the rest is:
///
/// * 0: a `blinded_path`; 1: an `encrypted_data_tlv`; 2: an `onionmsg_tlv`. What decodes must
///   re-encode to the input.
/// * 3: `encrypted_recipient_data` for the fixed node key and path key, through
///   `decryptencrypteddata`; what decrypts is decoded as above.
/// * 4 and up: an `encrypted_data_tlv` sealed to the fixed node by the path creator's code,
///   then opened by the hop's: it must come back unchanged, and is decoded as above.
pub fn blinded_path_decoding(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => {
            if let Ok(path) = BlindedPath::from_bytes(rest) {
                assert_eq!(path.to_bytes(), rest, "re-encoding changed the path");
                assert!(!path.hops().is_empty());
            }
        }
        1 => encrypted_data(rest),
        2 => {
            if let Ok(payload) = Payload::from_bytes(rest) {
                assert_eq!(payload.to_bytes(), rest, "re-encoding changed the payload");
                let _ = payload.payload_field_types();
                let _ = payload.is_forward_only();
            }
        }
        3 => {
            let path_key = PublicKey::from_slice(&PATH_KEY).expect("the fixed path key is valid");
            if let Ok(decrypted) = decrypt_encrypted_data(&key(&NODE_SECRET), &path_key, rest) {
                encrypted_data(&decrypted.decrypted);
            }
        }
        _ => {
            let node_secret = key(&NODE_SECRET);
            let node_id = PublicKey::from_secret_key(SECP256K1, &node_secret);
            let Ok(sealed) = blind_hops(&key(&FIRST_PATH_SECRET), &[(node_id, rest.to_vec())])
            else {
                return;
            };
            let Some(hop) = sealed.first() else {
                return;
            };
            let first_path_key = PublicKey::from_secret_key(SECP256K1, &key(&FIRST_PATH_SECRET));
            let blinding = HopBlinding::new(&node_secret, &first_path_key);
            let blinded = blinding
                .blinded_secret(&node_secret)
                .expect("a fixed key blinds");
            assert_eq!(
                PublicKey::from_secret_key(SECP256K1, &blinded),
                hop.blinded_node_id
            );
            let opened = blinding.open(&hop.encrypted_recipient_data);
            assert_eq!(opened.as_deref(), Some(rest), "sealed data did not open");
            encrypted_data(rest);
        }
    }
}

fn encrypted_data(bytes: &[u8]) {
    if let Ok(data) = EncryptedData::from_bytes(bytes) {
        assert_eq!(data.to_bytes(), bytes, "re-encoding changed the data");
        let _ = data.allows_unknown_features();
    }
}
