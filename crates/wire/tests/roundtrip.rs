#![allow(clippy::unwrap_used)]
//! Property tests: every message we can build decodes back to itself, and every input that
//! decodes re-encodes to exactly itself (what the fuzz targets check).

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use wire::{
    decode_message, ChainHash, Encode, ErrorMessage, Features, Hostname, Init, Message, MsgType,
    NetAddress, Ping, Pong, Reader, TlvRecord, TlvStream, Warning,
};

/// Feature maps of up to 8 bytes, padding included (it must survive a round trip).
fn features() -> impl Strategy<Value = Features> {
    vec(any::<u8>(), 0..8).prop_map(|bytes| Features::from_wire(&bytes))
}

/// Streams of unknown odd records, none of the types in `reserved`.
fn odd_tlvs(reserved: &'static [u64]) -> impl Strategy<Value = TlvStream> {
    let ty = any::<u64>()
        .prop_map(|ty| ty | 1)
        .prop_filter("type reserved for a known record", move |ty| {
            !reserved.contains(ty)
        });
    btree_map(ty, vec(any::<u8>(), 0..24), 0..4).prop_map(|records| {
        TlvStream::from_records(
            records
                .into_iter()
                .map(|(ty, value)| TlvRecord { ty, value }),
        )
    })
}

fn net_address() -> impl Strategy<Value = NetAddress> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(octets, port)| NetAddress::Ipv4 {
            addr: Ipv4Addr::from(octets),
            port
        }),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(octets, port)| NetAddress::Ipv6 {
            addr: Ipv6Addr::from(octets),
            port
        }),
        (any::<[u8; 10]>(), any::<u16>()).prop_map(|(addr, port)| NetAddress::TorV2 { addr, port }),
        (vec(any::<u8>(), 35), any::<u16>()).prop_map(|(addr, port)| NetAddress::TorV3 {
            addr: addr.try_into().unwrap(),
            port
        }),
        ("[\\x00-\\x7f]{0,64}", any::<u16>()).prop_map(|(name, port)| NetAddress::Hostname {
            name: Hostname::new(name).unwrap(),
            port
        }),
    ]
}

fn init() -> impl Strategy<Value = Init> {
    (
        features(),
        features(),
        proptest::option::of(vec(any::<[u8; 32]>().prop_map(ChainHash), 0..4)),
        proptest::option::of(net_address()),
        odd_tlvs(&[1, 3]),
    )
        .prop_map(
            |(global_features, features, networks, remote_addr, unknown_tlvs)| Init {
                global_features,
                features,
                networks,
                remote_addr,
                unknown_tlvs,
            },
        )
}

fn message() -> impl Strategy<Value = Message> {
    let notice = || (any::<[u8; 32]>(), vec(any::<u8>(), 0..64), odd_tlvs(&[]));
    prop_oneof![
        init().prop_map(Message::Init),
        notice().prop_map(|(channel_id, data, tlvs)| Message::Error(ErrorMessage {
            channel_id,
            data,
            tlvs
        })),
        notice().prop_map(|(channel_id, data, tlvs)| Message::Warning(Warning {
            channel_id,
            data,
            tlvs
        })),
        (any::<u16>(), vec(any::<u8>(), 0..64), odd_tlvs(&[])).prop_map(
            |(num_pong_bytes, ignored, tlvs)| Message::Ping(Ping {
                num_pong_bytes,
                ignored,
                tlvs
            })
        ),
        (vec(any::<u8>(), 0..64), odd_tlvs(&[]))
            .prop_map(|(ignored, tlvs)| Message::Pong(Pong { ignored, tlvs })),
        (
            any::<u16>().prop_filter("parsed types", |ty| !matches!(ty, 1 | 16..=19)),
            vec(any::<u8>(), 0..64)
        )
            .prop_map(|(ty, payload)| Message::Other {
                ty: MsgType(ty),
                payload
            }),
    ]
}

/// Decoding must not panic, and whatever decodes must re-encode to exactly its input.
fn assert_canonical(bytes: &[u8]) {
    if let Ok(message) = decode_message(bytes) {
        assert_eq!(message.to_bytes(), bytes, "{message:?}");
    }
}

proptest! {
    #[test]
    fn built_messages_decode_to_themselves(message in message()) {
        let bytes = message.to_bytes();
        prop_assert_eq!(decode_message(&bytes), Ok(message));
    }

    #[test]
    fn arbitrary_bytes_decode_canonically_or_not_at_all(bytes in vec(any::<u8>(), 0..128)) {
        assert_canonical(&bytes);
    }

    /// Random payloads behind the parsed types, which random bytes rarely hit.
    #[test]
    fn arbitrary_payloads_of_parsed_types(
        ty in prop_oneof![Just(1u16), 16u16..=19],
        payload in vec(any::<u8>(), 0..128),
    ) {
        assert_canonical(&[&ty.to_be_bytes()[..], &payload].concat());
    }

    /// Valid messages with one byte changed or cut short: near misses exercise every check.
    #[test]
    fn mutated_messages_decode_canonically_or_not_at_all(
        message in message(),
        index in any::<prop::sample::Index>(),
        xor in 1u8..,
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = message.to_bytes();
        let i = index.index(bytes.len());
        bytes[i] ^= xor;
        assert_canonical(&bytes);
        bytes.truncate(cut.index(bytes.len()));
        assert_canonical(&bytes);
    }

    #[test]
    fn tlv_streams_decode_canonically_or_not_at_all(bytes in vec(any::<u8>(), 0..64)) {
        if let Ok(stream) = TlvStream::decode(&mut Reader::new(&bytes), &[0, 2, 4], "fuzz") {
            prop_assert_eq!(stream.to_bytes(), bytes);
        }
    }
}
