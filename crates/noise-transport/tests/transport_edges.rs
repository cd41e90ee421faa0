//! Edges of the framed transport beyond the spec vectors: full handshakes with random keys,
//! rotation in both directions, size limits, fragmentation and coalescing, tampering, EOF.
#![allow(clippy::unwrap_used, missing_docs)]

use noise_transport::{
    Act, DecryptError, Decryptor, Encryptor, HandshakeError, InitiatorHandshake,
    MessageLengthError, PublicKey, ResponderHandshake, SecretKey, FRAME_OVERHEAD,
    LENGTH_HEADER_LEN, MAX_MESSAGE_LEN,
};
use proptest::prelude::*;

fn node_key(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).unwrap()
}

/// Two transports from a real handshake with fresh random ephemeral keys:
/// (initiator encryptor, initiator decryptor, responder encryptor, responder decryptor).
fn connected_pair() -> (Encryptor, Decryptor, Encryptor, Decryptor) {
    let initiator_key = node_key(0x31);
    let responder_key = node_key(0x32);
    let responder_id = PublicKey::from_secret_key_global(&responder_key);
    let (initiator, act_one) = InitiatorHandshake::new(&initiator_key, &responder_id);
    let (responder, act_two) = ResponderHandshake::new(&responder_key)
        .read_act_one(&act_one)
        .unwrap();
    let (act_three, initiator_transport) = initiator.read_act_two(&act_two).unwrap();
    let responder_transport = responder.read_act_three(&act_three).unwrap();
    assert_eq!(
        responder_transport.remote_static(),
        &PublicKey::from_secret_key_global(&initiator_key)
    );
    assert_eq!(initiator_transport.remote_static(), &responder_id);
    let (ie, id) = initiator_transport.split();
    let (re, rd) = responder_transport.split();
    (ie, id, re, rd)
}

fn frame(enc: &mut Encryptor, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    enc.encrypt_into(message, &mut out).unwrap();
    out
}

fn numbered_message(i: usize) -> Vec<u8> {
    let mut message = vec![0x80, 0x01];
    message.extend_from_slice(&(i as u64).to_be_bytes());
    message.resize(2 + 8 + i % 97, (i % 251) as u8);
    message
}

#[test]
fn random_ephemeral_keys_differ_per_handshake() {
    let responder_id = PublicKey::from_secret_key_global(&node_key(2));
    let (_, first) = InitiatorHandshake::new(&node_key(1), &responder_id);
    let (_, second) = InitiatorHandshake::new(&node_key(1), &responder_id);
    assert_ne!(first[1..34], second[1..34]);
}

#[test]
fn handshake_to_the_wrong_static_key_fails_at_act_one() {
    let dialed = PublicKey::from_secret_key_global(&node_key(9));
    let (_, act_one) = InitiatorHandshake::new(&node_key(1), &dialed);
    let err = ResponderHandshake::new(&node_key(2))
        .read_act_one(&act_one)
        .err()
        .unwrap();
    assert_eq!(err, HandshakeError::BadTag { act: Act::One });
}

#[test]
fn rotation_past_2002_messages_each_way() {
    let (mut ie, mut id, mut re, mut rd) = connected_pair();
    for i in 0..2_600 {
        let message = numbered_message(i);
        rd.push(&frame(&mut ie, &message));
        assert_eq!(
            rd.next_message().unwrap(),
            Some(&message[..]),
            "initiator->responder {i}"
        );
        id.push(&frame(&mut re, &message));
        assert_eq!(
            id.next_message().unwrap(),
            Some(&message[..]),
            "responder->initiator {i}"
        );
    }
}

#[test]
fn largest_message_is_accepted_and_one_more_byte_refused() {
    let (mut ie, _, _, mut rd) = connected_pair();
    let largest = vec![0xa5; MAX_MESSAGE_LEN];
    let wire = frame(&mut ie, &largest);
    assert_eq!(wire.len(), MAX_MESSAGE_LEN + FRAME_OVERHEAD);
    rd.push(&wire);
    assert_eq!(rd.next_message().unwrap(), Some(&largest[..]));

    let mut out = vec![1, 2, 3];
    for len in [0, 1, MAX_MESSAGE_LEN + 1, 1 << 20] {
        assert_eq!(
            ie.encrypt_into(&vec![0; len], &mut out),
            Err(MessageLengthError { len })
        );
    }
    assert_eq!(out, [1, 2, 3], "a refused message appends nothing");
    // …and uses no nonce: the stream continues in step.
    let next = frame(&mut ie, b"\x00\x13ok");
    rd.push(&next);
    assert_eq!(rd.next_message().unwrap(), Some(&b"\x00\x13ok"[..]));
}

#[test]
fn byte_at_a_time_input() {
    let (mut ie, _, _, mut rd) = connected_pair();
    let messages: Vec<Vec<u8>> = (0..40).map(numbered_message).collect();
    let mut wire = Vec::new();
    for message in &messages {
        ie.encrypt_into(message, &mut wire).unwrap();
    }
    let mut received = Vec::new();
    for byte in wire {
        rd.push(&[byte]);
        while let Some(message) = rd.next_message().unwrap() {
            received.push(message.to_vec());
        }
    }
    assert_eq!(received, messages);
    rd.finish().unwrap();
}

#[test]
fn many_frames_in_one_read() {
    let (mut ie, _, _, mut rd) = connected_pair();
    let messages: Vec<Vec<u8>> = (0..1_200).map(numbered_message).collect();
    let mut wire = Vec::new();
    for message in &messages {
        ie.encrypt_into(message, &mut wire).unwrap();
    }
    let window = rd.read_buffer();
    let first = window.len().min(wire.len());
    window[..first].copy_from_slice(&wire[..first]);
    rd.commit(first);
    rd.push(&wire[first..]);
    let mut received = Vec::new();
    while let Some(message) = rd.next_message().unwrap() {
        received.push(message.to_vec());
    }
    assert_eq!(received, messages);
}

#[test]
fn every_flipped_bit_in_a_length_tag_is_detected() {
    for bit in 0..(LENGTH_HEADER_LEN * 8) {
        let (mut ie, _, _, mut rd) = connected_pair();
        let mut wire = frame(&mut ie, b"\x80\x01payload");
        wire[bit / 8] ^= 1 << (bit % 8);
        rd.push(&wire);
        assert_eq!(
            rd.next_message(),
            Err(DecryptError::BadLengthTag),
            "bit {bit}"
        );
        // Errors are permanent, even when good data follows.
        rd.push(&frame(&mut ie, b"\x80\x01more"));
        assert_eq!(rd.next_message(), Err(DecryptError::BadLengthTag));
        assert_eq!(rd.finish(), Err(DecryptError::BadLengthTag));
    }
}

#[test]
fn every_flipped_bit_in_a_body_or_its_tag_is_detected() {
    let message = b"\x80\x01payload";
    for bit in (LENGTH_HEADER_LEN * 8)..((LENGTH_HEADER_LEN + message.len() + 16) * 8) {
        let (mut ie, _, _, mut rd) = connected_pair();
        let mut wire = frame(&mut ie, message);
        wire[bit / 8] ^= 1 << (bit % 8);
        rd.push(&wire);
        assert_eq!(
            rd.next_message(),
            Err(DecryptError::BadBodyTag),
            "bit {bit}"
        );
    }
}

#[test]
fn eof_mid_frame_is_reported_with_what_arrived() {
    let (mut ie, _, _, mut rd) = connected_pair();
    let wire = frame(&mut ie, b"\x80\x01twelve bytes");
    rd.push(&wire[..5]);
    assert_eq!(rd.next_message().unwrap(), None);
    assert_eq!(rd.finish(), Err(DecryptError::Truncated { buffered: 5 }));
    rd.push(&wire[5..LENGTH_HEADER_LEN + 3]);
    assert_eq!(rd.next_message().unwrap(), None);
    assert_eq!(
        rd.finish(),
        Err(DecryptError::Truncated {
            buffered: LENGTH_HEADER_LEN + 3
        })
    );
    rd.push(&wire[LENGTH_HEADER_LEN + 3..]);
    assert!(rd.next_message().unwrap().is_some());
    assert_eq!(rd.finish(), Ok(()));
}

#[test]
fn a_length_below_two_is_refused_after_authentication() {
    // The tag covers the length, so a short length can only come from a peer that encrypts
    // it on purpose: seal the header with a raw AEAD call under the stream's first nonce.
    let ck = [3u8; 32];
    let key = [4u8; 32];
    let mut header = [0u8, 1];
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&0u64.to_le_bytes());
    let cipher = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::CHACHA20_POLY1305, &key).unwrap(),
    );
    let tag = cipher
        .seal_in_place_separate_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::empty(),
            &mut header,
        )
        .unwrap();
    let mut wire = header.to_vec();
    wire.extend_from_slice(tag.as_ref());
    let mut dec = Decryptor::from_keys(ck, key);
    dec.push(&wire);
    assert_eq!(
        dec.next_message(),
        Err(DecryptError::MessageTooShort { len: 1 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_random_sizes_and_read_splits(
        sizes in prop::collection::vec(2usize..=3000, 1..60),
        big in prop::option::of(60_000usize..=MAX_MESSAGE_LEN),
        splits in prop::collection::vec(1usize..5000, 1..200),
        fill in any::<u8>(),
    ) {
        let (mut ie, _, _, mut rd) = connected_pair();
        let mut messages: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &len)| vec![fill.wrapping_add(i as u8); len])
            .collect();
        if let Some(len) = big {
            messages.insert(messages.len() / 2, vec![fill; len]);
        }
        let mut wire = Vec::new();
        for message in &messages {
            ie.encrypt_into(message, &mut wire).unwrap();
        }
        let mut received = Vec::new();
        let mut offset = 0;
        let mut split = splits.iter().cycle();
        while offset < wire.len() {
            let take = (*split.next().unwrap()).min(wire.len() - offset);
            // Alternate the two input paths.
            if take % 2 == 0 {
                rd.push(&wire[offset..offset + take]);
            } else {
                let window = rd.read_buffer();
                let n = take.min(window.len());
                window[..n].copy_from_slice(&wire[offset..offset + n]);
                rd.commit(n);
                offset += n;
                while let Some(message) = rd.next_message().unwrap() {
                    received.push(message.to_vec());
                }
                continue;
            }
            offset += take;
            while let Some(message) = rd.next_message().unwrap() {
                received.push(message.to_vec());
            }
        }
        prop_assert_eq!(received, messages);
        prop_assert_eq!(rd.finish(), Ok(()));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decryptor(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut dec = Decryptor::from_keys([1; 32], [2; 32]);
        dec.push(&data);
        // Random bytes authenticate with negligible probability.
        prop_assert!(dec.next_message().is_err() || data.len() < LENGTH_HEADER_LEN);
    }

    #[test]
    fn arbitrary_acts_never_panic_the_handshake(
        act_one in prop::collection::vec(any::<u8>(), 50),
        act_three in prop::collection::vec(any::<u8>(), 66),
    ) {
        let act_one: [u8; 50] = act_one.try_into().unwrap();
        let act_three: [u8; 66] = act_three.try_into().unwrap();
        match ResponderHandshake::new(&node_key(7)).read_act_one(&act_one) {
            Ok((waiting, _)) => prop_assert!(waiting.read_act_three(&act_three).is_err()),
            Err(err) => prop_assert_eq!(err.act(), Act::One),
        }
    }
}
