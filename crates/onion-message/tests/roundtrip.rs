#![allow(clippy::unwrap_used)]
//! Property tests: every encoding round-trips, and every message the builder makes arrives,
//! unchanged, after peeling at each hop.

use onion_message::{
    build_onion_message, create_blinded_path, peel_onion_message, BlindedPath, Destination, Encode,
    EncryptedData, ForwardNode, MessageContents, NextHop, Payload, Peeled, PublicKey, SecretKey,
    SenderSecrets, ShortChannelId, TlvRecord,
};
use proptest::prelude::*;

/// A key of 32 equal bytes; 0xff.. is above the group order.
fn secret(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).unwrap()
}

fn node(byte: u8) -> PublicKey {
    PublicKey::from_secret_key(secp256k1::SECP256K1, &secret(byte))
}

fn odd_records() -> impl Strategy<Value = Vec<TlvRecord>> {
    proptest::collection::btree_map(
        (0u64..100_000).prop_map(|n| n * 2 + 1),
        proptest::collection::vec(any::<u8>(), 0..40),
        0..4,
    )
    .prop_map(|map| {
        map.into_iter()
            .map(|(ty, value)| TlvRecord { ty, value })
            .collect()
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Option<Vec<u8>>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..max))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encrypted_data_round_trips(
        padding in bytes(300),
        scid in proptest::option::of(any::<u64>()),
        next in proptest::option::of(1u8..0xff),
        path_id in bytes(64),
        features in bytes(4),
        unknown in odd_records(),
    ) {
        // Unknown records must not collide with the named types (all below 16).
        let unknown: Vec<TlvRecord> = unknown.into_iter().filter(|r| r.ty > 16).collect();
        let data = EncryptedData {
            padding,
            short_channel_id: scid.map(ShortChannelId),
            next_node_id: next.map(node),
            path_id,
            allowed_features: features,
            unknown_fields: unknown,
            ..EncryptedData::default()
        };
        let encoded = data.to_bytes();
        prop_assert_eq!(EncryptedData::from_bytes(&encoded), Ok(data));
    }

    #[test]
    fn payload_round_trips(
        data in bytes(100),
        invoice_request in bytes(100),
        invoice in bytes(100),
        invoice_error in bytes(100),
        with_reply_path in any::<bool>(),
        unknown in odd_records(),
    ) {
        let reply_path = with_reply_path.then(|| {
            create_blinded_path(&[], &node(0x44), &[1; 32], &secret(7)).unwrap()
        });
        let unknown: Vec<TlvRecord> = unknown.into_iter().filter(|r| ![2, 4, 64, 66, 68].contains(&r.ty)).collect();
        let payload = Payload {
            reply_path,
            encrypted_recipient_data: data,
            invoice_request,
            invoice,
            invoice_error,
            unknown_fields: unknown,
        };
        let encoded = payload.to_bytes();
        prop_assert_eq!(Payload::from_bytes(&encoded), Ok(payload));
    }

}

proptest! {
    // Each case does dozens of EC multiplications and up to 64 KiB of ChaCha20 per hop.
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Through 0 to 3 explicit hops, to a node or into a blinded path of 1 to 3 hops, with
    /// contents small enough for 1300 bytes or large enough for 32768.
    #[test]
    fn built_messages_arrive_unchanged(
        explicit in proptest::collection::vec(0x41u8..0x48, 0..4),
        path_hops in proptest::option::of(proptest::collection::vec(0x51u8..0x58, 0..3)),
        value in proptest::collection::vec(any::<u8>(), 0..3000),
        session in 1u8..0x7f,
        path_secret in 1u8..0xff,
    ) {
        const RECIPIENT: u8 = 0x60;
        let (destination, after_explicit): (Destination, Vec<u8>) = match &path_hops {
            None => (Destination::Node(node(RECIPIENT)), vec![RECIPIENT]),
            Some(hops) => {
                let forward: Vec<ForwardNode> = hops
                    .iter()
                    .map(|&b| ForwardNode { node_id: node(b), next_short_channel_id: None })
                    .collect();
                let path: BlindedPath =
                    create_blinded_path(&forward, &node(RECIPIENT), &[9; 32], &secret(path_secret))
                        .unwrap();
                let mut route = hops.clone();
                route.push(RECIPIENT);
                (Destination::BlindedPath(path), route)
            }
        };
        let contents = MessageContents {
            custom: vec![TlvRecord { ty: 65_555, value: value.clone() }],
            ..MessageContents::default()
        };
        let secrets = SenderSecrets { session_key: secret(session), first_path_secret: secret(session + 0x80) };
        let explicit_ids: Vec<PublicKey> = explicit.iter().map(|&b| node(b)).collect();
        let built = build_onion_message(&explicit_ids, &destination, &contents, &secrets).unwrap();
        let expected_len = built.message.packet().len();
        prop_assert!(expected_len == 1366 || expected_len == 32834);
        if value.len() < 300 {
            prop_assert_eq!(expected_len, 1366);
        } else if value.len() > 1300 {
            prop_assert_eq!(expected_len, 32834);
        }

        let route: Vec<u8> = explicit.iter().chain(&after_explicit).copied().collect();
        prop_assert_eq!(built.first_hop, node(route[0]));
        let mut message = built.message;
        for (index, &hop) in route.iter().enumerate() {
            match peel_onion_message(&secret(hop), &message).unwrap() {
                Peeled::Forward(forward) => {
                    prop_assert_eq!(forward.next_hop, NextHop::NodeId(node(route[index + 1])));
                    prop_assert_eq!(forward.message.packet().len(), expected_len);
                    message = forward.message;
                }
                Peeled::Receive(received) => {
                    prop_assert_eq!(index, route.len() - 1);
                    prop_assert_eq!(&received.payload.unknown_fields, &contents.custom);
                    let path_id = path_hops.as_ref().map(|_| [9u8; 32]);
                    prop_assert_eq!(received.path_secret(), path_id);
                }
            }
        }
    }
}
