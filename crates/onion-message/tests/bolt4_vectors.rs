#![allow(clippy::unwrap_used, clippy::expect_used)]
//! BOLT 4's JSON test vectors, verbatim from lightning/bolts `bolt04/` (master `a3772650`):
//!
//! - `blinded-onion-message-onion-test.json`: a sender prepends its own blinded hop (Alice) to
//!   Dave's path Bob -> Carol -> Dave and sends "hello" (type 1) to Dave. We rebuild every
//!   blinded hop and the packet byte for byte through the public builder, then peel it at each
//!   hop and compare each forwarded `onion_message` byte for byte.
//! - `route-blinding-test.json`: two paths spliced with `next_path_key_override` (payment
//!   data, but the blinding is the same): blinded node ids, encrypted data, decryption and the
//!   path-key chain.

use onion_message::{
    blind_path, build_onion_message, decrypt_encrypted_data, peel_onion_message, BlindedPath,
    Destination, EncryptedData, IntroductionNode, MessageContents, NextHop, OnionMessage,
    PaymentConstraints, PaymentRelay, Peeled, PublicKey, SecretKey, SenderSecrets, ShortChannelId,
    TlvRecord,
};
use serde_json::Value;
use wire::Encode;

const ONION_MESSAGE_VECTOR: &str = include_str!("vectors/blinded-onion-message-onion-test.json");
const ROUTE_BLINDING_VECTOR: &str = include_str!("vectors/route-blinding-test.json");

fn bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("a hex string")).unwrap()
}

fn point(value: &Value) -> PublicKey {
    PublicKey::from_slice(&bytes(value)).unwrap()
}

fn secret(value: &Value) -> SecretKey {
    // `next_e` values carry CLN's trailing compressed-key flag byte; the others do not.
    SecretKey::from_slice(&bytes(value)[..32]).unwrap()
}

fn node_id(key: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key(secp256k1::SECP256K1, key)
}

fn hops(vector: &Value, section: &str) -> Vec<Value> {
    vector[section]["hops"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// blinded-onion-message-onion-test.json
// ---------------------------------------------------------------------------------------------

fn onion_message_vector() -> Value {
    serde_json::from_str(ONION_MESSAGE_VECTOR).unwrap()
}

/// Node ids of Alice, Bob, Carol and Dave, from their private keys in `decrypt`.
fn onion_message_node_ids(vector: &Value) -> Vec<PublicKey> {
    hops(vector, "decrypt")
        .iter()
        .map(|hop| node_id(&secret(&hop["privkey"])))
        .collect()
}

#[test]
fn onion_message_encrypted_data_tlvs_are_the_readable_tlvs() {
    let vector = onion_message_vector();
    let generate = hops(&vector, "generate");
    let ids = onion_message_node_ids(&vector);
    let expected = [
        EncryptedData {
            next_node_id: Some(ids[1]),
            next_path_key_override: Some(point(&generate[0]["tlvs"]["next_path_key_override"])),
            ..EncryptedData::default()
        },
        EncryptedData {
            next_node_id: Some(ids[2]),
            unknown_fields: vec![TlvRecord {
                ty: 561,
                value: vec![0x12, 0x34, 0x56],
            }],
            ..EncryptedData::default()
        },
        EncryptedData {
            padding: Some(vec![0; 5]),
            next_node_id: Some(ids[3]),
            ..EncryptedData::default()
        },
        EncryptedData {
            padding: Some(vec![]),
            path_id: Some(bytes(&generate[3]["tlvs"]["path_id"])),
            unknown_fields: vec![TlvRecord {
                ty: 65535,
                value: vec![0x06, 0xc1],
            }],
            ..EncryptedData::default()
        },
    ];
    for (hop, data) in generate.iter().zip(expected) {
        let serialized = bytes(&hop["encrypted_data_tlv"]);
        assert_eq!(data.to_bytes(), serialized, "{}", hop["alias"]);
        assert_eq!(EncryptedData::from_bytes(&serialized), Ok(data));
    }
    // The override is the path key Dave gave Bob: 0x01.. times G.
    assert_eq!(
        point(&generate[0]["tlvs"]["next_path_key_override"]),
        node_id(&secret(&generate[0]["tlvs"]["path_key_override_secret"]))
    );
}

#[test]
fn onion_message_blinded_hops_are_reproduced() {
    let vector = onion_message_vector();
    let generate = hops(&vector, "generate");
    let route = &vector["route"];
    let ids = onion_message_node_ids(&vector);
    let data = |i: usize| (ids[i], bytes(&generate[i]["encrypted_data_tlv"]));

    // The sender's own hop for Alice, and Dave's path Bob -> Carol -> Dave.
    let alice = blind_path(&secret(&generate[0]["path_key_secret"]), &[data(0)]).unwrap();
    let dave = blind_path(
        &secret(&generate[1]["path_key_secret"]),
        &[data(1), data(2), data(3)],
    )
    .unwrap();
    assert_eq!(alice.introduction_node(), &IntroductionNode::NodeId(ids[0]));
    assert_eq!(
        alice.introduction_node(),
        &IntroductionNode::NodeId(point(&route["first_node_id"]))
    );
    assert_eq!(alice.first_path_key(), &point(&route["first_path_key"]));
    assert_eq!(alice.first_path_key(), &point(&generate[0]["E"]));
    assert_eq!(dave.first_path_key(), &point(&generate[1]["E"]));
    let blinded: Vec<_> = alice.hops().iter().chain(dave.hops()).collect();
    for ((hop, expected), generated) in blinded.iter().zip(hops(&vector, "route")).zip(&generate) {
        assert_eq!(hop.blinded_node_id, point(&expected["blinded_node_id"]));
        assert_eq!(hop.blinded_node_id, point(&generated["blinded_node_id"]));
        assert_eq!(
            hop.encrypted_recipient_data,
            bytes(&expected["encrypted_recipient_data"]),
            "{}",
            generated["alias"]
        );
    }
}

/// Dave's path as he would hand it out: introduction node Bob, Bob's path key, three hops.
fn daves_path(vector: &Value) -> BlindedPath {
    let route_hops = hops(vector, "route");
    let ids = onion_message_node_ids(vector);
    BlindedPath::new(
        IntroductionNode::NodeId(ids[1]),
        point(&hops(vector, "generate")[1]["E"]),
        route_hops[1..]
            .iter()
            .map(|hop| onion_message::BlindedHop {
                blinded_node_id: point(&hop["blinded_node_id"]),
                encrypted_recipient_data: bytes(&hop["encrypted_recipient_data"]),
            })
            .collect(),
    )
    .unwrap()
}

#[test]
fn onion_message_is_built_byte_for_byte() {
    let vector = onion_message_vector();
    let generate = hops(&vector, "generate");
    let ids = onion_message_node_ids(&vector);
    let contents = MessageContents {
        custom: vec![TlvRecord {
            ty: 1,
            value: bytes(&vector["onionmessage"]["unknown_tag_1"]),
        }],
        ..MessageContents::default()
    };
    let built = build_onion_message(
        &[ids[0]],
        &Destination::BlindedPath(daves_path(&vector)),
        &contents,
        &SenderSecrets {
            session_key: secret(&vector["generate"]["session_key"]),
            first_path_secret: secret(&generate[0]["path_key_secret"]),
        },
    )
    .unwrap();
    assert_eq!(built.first_hop, ids[0]);
    assert_eq!(
        built.message.packet(),
        bytes(&vector["onionmessage"]["onion_message_packet"])
    );
    assert_eq!(
        built.message.to_bytes(),
        bytes(&hops(&vector, "decrypt")[0]["onion_message"])
    );
}

#[test]
fn onion_message_is_peeled_hop_by_hop() {
    let vector = onion_message_vector();
    let decrypt = hops(&vector, "decrypt");
    let generate = hops(&vector, "generate");
    for (index, hop) in decrypt.iter().enumerate() {
        let wire = bytes(&hop["onion_message"]);
        let message = OnionMessage::decode(&wire).unwrap();
        assert_eq!(message.to_bytes(), wire);
        let key = secret(&hop["privkey"]);

        // decryptencrypteddata on this hop's data gives the generator's plaintext.
        let data = bytes(&hops(&vector, "route")[index]["encrypted_recipient_data"]);
        let decrypted = decrypt_encrypted_data(&key, message.path_key(), &data).unwrap();
        assert_eq!(
            decrypted.decrypted,
            bytes(&generate[index]["encrypted_data_tlv"])
        );

        match peel_onion_message(&key, &message).unwrap() {
            Peeled::Forward(forward) => {
                assert_eq!(
                    forward.next_hop,
                    NextHop::NodeId(point(&hop["next_node_id"]))
                );
                let next = bytes(&decrypt[index + 1]["onion_message"]);
                assert_eq!(forward.message.to_bytes(), next, "{}", hop["alias"]);
            }
            Peeled::Receive(received) => {
                assert_eq!(index, 3, "only Dave receives");
                assert_eq!(
                    received.payload.unknown_fields,
                    [TlvRecord {
                        ty: 1,
                        value: bytes(&hop["tlvs"]["unknown_tag_1"]),
                    }]
                );
                assert_eq!(
                    received.payload.encrypted_recipient_data,
                    Some(bytes(&hop["tlvs"]["encrypted_recipient_data"]))
                );
                assert_eq!(received.payload.reply_path, None);
                let path_id = bytes(&generate[3]["tlvs"]["path_id"]);
                assert_eq!(received.path_id(), Some(path_id.as_slice()));
                assert_eq!(received.path_secret().map(Vec::from), Some(path_id.clone()));
                assert!(received.came_over_path(&path_id));
                assert_eq!(
                    received.encrypted_data.unwrap().unknown_fields,
                    [TlvRecord {
                        ty: 65535,
                        value: vec![0x06, 0xc1]
                    }]
                );
            }
        }
    }
}

#[test]
fn onion_message_at_the_wrong_node_or_damaged_is_ignored() {
    let vector = onion_message_vector();
    let decrypt = hops(&vector, "decrypt");
    let message = OnionMessage::decode(&bytes(&decrypt[0]["onion_message"])).unwrap();
    // Bob's key cannot peel Alice's layer.
    assert!(peel_onion_message(&secret(&decrypt[1]["privkey"]), &message).is_err());
    let mut packet = message.packet().to_vec();
    packet[500] ^= 1;
    let damaged = OnionMessage::new(*message.path_key(), packet).unwrap();
    assert_eq!(
        peel_onion_message(&secret(&decrypt[0]["privkey"]), &damaged)
            .unwrap_err()
            .to_string(),
        "onion_message_parse: can't process onionpacket: hmac mismatch"
    );
}

// ---------------------------------------------------------------------------------------------
// route-blinding-test.json
// ---------------------------------------------------------------------------------------------

fn route_blinding_vector() -> Value {
    serde_json::from_str(ROUTE_BLINDING_VECTOR).unwrap()
}

#[test]
fn route_blinding_paths_are_reproduced() {
    let vector = route_blinding_vector();
    let generate = hops(&vector, "generate");
    let data = |hop: &Value| (point(&hop["node_id"]), bytes(&hop["encoded_tlvs"]));
    // Bob's path Bob -> Carol, and Eve's Dave -> Eve, each from its own session key.
    let bob = blind_path(
        &secret(&generate[0]["session_key"]),
        &[data(&generate[0]), data(&generate[1])],
    )
    .unwrap();
    let eve = blind_path(
        &secret(&generate[2]["session_key"]),
        &[data(&generate[2]), data(&generate[3])],
    )
    .unwrap();
    assert_eq!(
        bob.introduction_node(),
        &IntroductionNode::NodeId(point(&vector["route"]["first_node_id"]))
    );
    assert_eq!(
        bob.first_path_key(),
        &point(&vector["route"]["first_path_key"])
    );
    assert_eq!(bob.first_path_key(), &point(&generate[0]["path_key"]));
    assert_eq!(eve.first_path_key(), &point(&generate[2]["path_key"]));
    let blinded: Vec<_> = bob.hops().iter().chain(eve.hops()).collect();
    for ((hop, expected), generated) in blinded.iter().zip(hops(&vector, "route")).zip(&generate) {
        assert_eq!(hop.blinded_node_id, point(&expected["blinded_node_id"]));
        assert_eq!(hop.blinded_node_id, point(&generated["blinded_node_id"]));
        assert_eq!(
            hop.encrypted_recipient_data,
            bytes(&expected["encrypted_data"]),
            "{}",
            generated["alias"]
        );
        assert_eq!(
            hop.encrypted_recipient_data,
            bytes(&generated["encrypted_data"])
        );
    }
}

#[test]
fn route_blinding_hops_decrypt_and_chain_their_path_keys() {
    let vector = route_blinding_vector();
    let unblind = hops(&vector, "unblind");
    let route = hops(&vector, "route");
    let generate = hops(&vector, "generate");
    for (index, hop) in unblind.iter().enumerate() {
        let path_key = point(&hop["path_key"]);
        assert_eq!(path_key, point(&generate[index]["path_key"]));
        let decrypted = decrypt_encrypted_data(
            &secret(&hop["node_privkey"]),
            &path_key,
            &bytes(&route[index]["encrypted_data"]),
        )
        .unwrap();
        assert_eq!(decrypted.decrypted, bytes(&hop["decrypted_data"]));
        // The computed next key, as decryptencrypteddata returns it.
        assert_eq!(
            decrypted.next_path_key,
            point(&hop["next_path_key"]),
            "{}",
            hop["alias"]
        );
        let data = EncryptedData::from_bytes(&decrypted.decrypted).unwrap();
        assert_eq!(data.to_bytes(), decrypted.decrypted);
        // The key actually sent on: the override where there is one (Carol), and it is the
        // next hop's path key.
        let sent_on = data
            .next_path_key_override
            .unwrap_or(decrypted.next_path_key);
        if let Some(next) = unblind.get(index + 1) {
            assert_eq!(sent_on, point(&next["path_key"]));
        }
        if let Some(expected) = hop.get("next_path_key_override") {
            assert_eq!(data.next_path_key_override, Some(point(expected)));
        }
    }
}

#[test]
fn route_blinding_readable_tlvs_are_the_encoded_ones() {
    let vector = route_blinding_vector();
    let generate = hops(&vector, "generate");
    let scid = |hop: &Value| -> ShortChannelId {
        hop["tlvs"]["short_channel_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let relay = |hop: &Value| {
        let relay = &hop["tlvs"]["payment_relay"];
        PaymentRelay {
            cltv_expiry_delta: relay["cltv_expiry_delta"].as_u64().unwrap() as u16,
            fee_proportional_millionths: relay["fee_proportional_millionths"].as_u64().unwrap()
                as u32,
            fee_base_msat: relay["fee_base_msat"].as_u64().unwrap_or(0) as u32,
        }
    };
    let constraints = |hop: &Value| {
        let constraints = &hop["tlvs"]["payment_constraints"];
        PaymentConstraints {
            max_cltv_expiry: constraints["max_cltv_expiry"].as_u64().unwrap() as u32,
            htlc_minimum_msat: constraints["htlc_minimum_msat"].as_u64().unwrap(),
        }
    };
    // BOLT 9 bitmap with bit 113 set: 15 bytes, big-endian, bit 1 of the first byte.
    let mut bit_113 = vec![0u8; 15];
    bit_113[0] = 0x02;
    let expected = [
        EncryptedData {
            padding: Some(bytes(&generate[0]["tlvs"]["padding"])),
            short_channel_id: Some(scid(&generate[0])),
            payment_relay: Some(relay(&generate[0])),
            payment_constraints: Some(constraints(&generate[0])),
            allowed_features: Some(vec![]),
            unknown_fields: vec![TlvRecord {
                ty: 561,
                value: vec![0x12, 0x34, 0x56],
            }],
            ..EncryptedData::default()
        },
        EncryptedData {
            short_channel_id: Some(scid(&generate[1])),
            next_path_key_override: Some(point(&generate[1]["tlvs"]["next_path_key_override"])),
            payment_relay: Some(relay(&generate[1])),
            payment_constraints: Some(constraints(&generate[1])),
            allowed_features: Some(vec![]),
            ..EncryptedData::default()
        },
        EncryptedData {
            padding: Some(bytes(&generate[2]["tlvs"]["padding"])),
            short_channel_id: Some(scid(&generate[2])),
            payment_relay: Some(relay(&generate[2])),
            payment_constraints: Some(constraints(&generate[2])),
            allowed_features: Some(vec![]),
            ..EncryptedData::default()
        },
        EncryptedData {
            padding: Some(bytes(&generate[3]["tlvs"]["padding"])),
            path_id: Some(bytes(&generate[3]["tlvs"]["path_id"])),
            payment_constraints: Some(constraints(&generate[3])),
            allowed_features: Some(bit_113),
            unknown_fields: vec![TlvRecord {
                ty: 65535,
                value: vec![0x06, 0xc1],
            }],
            ..EncryptedData::default()
        },
    ];
    assert_eq!(scid(&generate[0]).to_string(), "0x0x1729");
    for (hop, data) in generate.iter().zip(expected) {
        let encoded = bytes(&hop["encoded_tlvs"]);
        assert_eq!(
            EncryptedData::from_bytes(&encoded).as_ref(),
            Ok(&data),
            "{}",
            hop["alias"]
        );
        assert_eq!(data.to_bytes(), encoded, "{}", hop["alias"]);
    }
}
