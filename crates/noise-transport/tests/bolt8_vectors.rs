//! BOLT 8 Appendix A, every vector: initiator and responder handshakes with their failures,
//! and the message encryption test (outputs 0, 1, 500, 501, 1000, 1001) in both directions.
#![allow(clippy::unwrap_used, missing_docs)]

use noise_transport::{
    Act, Decryptor, Encryptor, HandshakeError, InitiatorHandshake, PublicKey, ResponderHandshake,
    SecretKey, Transport, ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN,
};

const INITIATOR_STATIC: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const INITIATOR_EPHEMERAL: &str =
    "1212121212121212121212121212121212121212121212121212121212121212";
const INITIATOR_STATIC_PUB: &str =
    "034f355bdcb7cc0af728ef3cceb9615d90684bb5b2ca5f859ab0f0b704075871aa";
const RESPONDER_STATIC: &str = "2121212121212121212121212121212121212121212121212121212121212121";
const RESPONDER_EPHEMERAL: &str =
    "2222222222222222222222222222222222222222222222222222222222222222";
const RESPONDER_STATIC_PUB: &str =
    "028d7500dd4c12685d1f568b4c2b5048e8534b873319f3a8daa612b469132ec7f7";

const ACT_ONE: &str = "00036360e856310ce5d294e8be33fc807077dc56ac80d95d9cd4ddbd21325eff73f70df6086551151f58b8afe6c195782c6a";
const ACT_TWO: &str = "0002466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f276e2470b93aac583c9ef6eafca3f730ae";
const ACT_THREE: &str = "00b9e3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa22355361aa02e55a8fc28fef5bd6d71ad0c38228dc68b1c466263b47fdf31e560e139ba";

/// The final chaining key both sides start the message phase with.
const FINAL_CK: &str = "919219dbb2920afa8db80f9a51787a840bcf111ed8d588caf9ab4be716e42b01";
/// The initiator's sending key (= the responder's receiving key).
const INITIATOR_SK: &str = "969ab31b4d288cedf6218839b27a3e2140827047f2c0f01bf5c04435d43511a9";
/// The initiator's receiving key (= the responder's sending key).
const INITIATOR_RK: &str = "bb9020b8965f4df047e07f955f3c4b88418984aadc5cdb35096b9ea8fa5c3442";

fn secret(s: &str) -> SecretKey {
    SecretKey::from_slice(&hex::decode(s).unwrap()).unwrap()
}

fn public(s: &str) -> PublicKey {
    PublicKey::from_slice(&hex::decode(s).unwrap()).unwrap()
}

fn array<const N: usize>(s: &str) -> [u8; N] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn start_initiator() -> (InitiatorHandshake, [u8; ACT_ONE_LEN]) {
    InitiatorHandshake::with_ephemeral(
        &secret(INITIATOR_STATIC),
        &public(RESPONDER_STATIC_PUB),
        secret(INITIATOR_EPHEMERAL),
    )
}

fn start_responder() -> ResponderHandshake {
    ResponderHandshake::with_ephemeral(&secret(RESPONDER_STATIC), secret(RESPONDER_EPHEMERAL))
}

/// The spec's "short read" vectors are a 49- or 65-byte act: a stream that ended early. The
/// IO layer turns that into `Truncated`; this is the same conversion it makes.
fn exact_act<const N: usize>(act: Act, bytes: &[u8]) -> Result<[u8; N], HandshakeError> {
    bytes.try_into().map_err(|_| HandshakeError::Truncated {
        act,
        received: bytes.len(),
    })
}

/// Runs the initiator against a given act two.
fn initiator_with_act_two(
    act_two_hex: &str,
) -> Result<([u8; ACT_THREE_LEN], Transport), HandshakeError> {
    let (initiator, act_one) = start_initiator();
    assert_eq!(hex::encode(act_one), ACT_ONE);
    let act_two = hex::decode(act_two_hex).unwrap();
    initiator.read_act_two(&exact_act::<ACT_TWO_LEN>(Act::Two, &act_two)?)
}

/// Runs the responder against the spec's act one and a given act three.
fn responder_with_act_three(act_three_hex: &str) -> Result<Transport, HandshakeError> {
    let (waiting, act_two) = start_responder().read_act_one(&array(ACT_ONE)).unwrap();
    assert_eq!(hex::encode(act_two), ACT_TWO);
    let act_three = hex::decode(act_three_hex).unwrap();
    waiting.read_act_three(&exact_act::<ACT_THREE_LEN>(Act::Three, &act_three)?)
}

fn responder_with_act_one(act_one_hex: &str) -> Result<[u8; ACT_TWO_LEN], HandshakeError> {
    let act_one = hex::decode(act_one_hex).unwrap();
    start_responder()
        .read_act_one(&exact_act::<ACT_ONE_LEN>(Act::One, &act_one)?)
        .map(|(_, act_two)| act_two)
}

/// Encrypts one message with both transports and checks the keys the spec gives, by
/// comparing against transports built directly from them.
fn assert_transport_keys(transport: Transport, send_key: &str, recv_key: &str) {
    let (mut enc, mut dec) = transport.split();
    let mut expected_enc = Encryptor::from_keys(array(FINAL_CK), array(send_key));
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    enc.encrypt_into(b"probe", &mut ours).unwrap();
    expected_enc.encrypt_into(b"probe", &mut theirs).unwrap();
    assert_eq!(ours, theirs, "sending key");

    let mut peer_enc = Encryptor::from_keys(array(FINAL_CK), array(recv_key));
    let mut frame = Vec::new();
    peer_enc.encrypt_into(b"probe", &mut frame).unwrap();
    dec.push(&frame);
    assert_eq!(
        dec.next_message().unwrap(),
        Some(&b"probe"[..]),
        "receiving key"
    );
}

#[test]
fn initiator_successful_handshake() {
    let (act_three, transport) = initiator_with_act_two(ACT_TWO).unwrap();
    assert_eq!(hex::encode(act_three), ACT_THREE);
    assert_eq!(transport.remote_static(), &public(RESPONDER_STATIC_PUB));
    assert_transport_keys(transport, INITIATOR_SK, INITIATOR_RK);
}

#[test]
fn initiator_act2_short_read() {
    let err = initiator_with_act_two(&ACT_TWO[..ACT_TWO.len() - 2]).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::Truncated {
            act: Act::Two,
            received: 49
        }
    );
}

#[test]
fn initiator_act2_bad_version() {
    let err = initiator_with_act_two("0102466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f276e2470b93aac583c9ef6eafca3f730ae").unwrap_err();
    assert_eq!(
        err,
        HandshakeError::BadVersion {
            act: Act::Two,
            version: 1
        }
    );
}

#[test]
fn initiator_act2_bad_key_serialization() {
    let err = initiator_with_act_two("0004466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f276e2470b93aac583c9ef6eafca3f730ae").unwrap_err();
    assert_eq!(err, HandshakeError::BadPublicKey { act: Act::Two });
}

#[test]
fn initiator_act2_bad_mac() {
    let err = initiator_with_act_two("0002466d7fcae563e5cb09a0d1870bb580344804617879a14949cf22285f1bae3f276e2470b93aac583c9ef6eafca3f730af").unwrap_err();
    assert_eq!(err, HandshakeError::BadTag { act: Act::Two });
}

#[test]
fn responder_successful_handshake() {
    let transport = responder_with_act_three(ACT_THREE).unwrap();
    assert_eq!(transport.remote_static(), &public(INITIATOR_STATIC_PUB));
    // The responder's rk, sk are the initiator's sk, rk.
    assert_transport_keys(transport, INITIATOR_RK, INITIATOR_SK);
}

#[test]
fn responder_act1_short_read() {
    let err = responder_with_act_one(&ACT_ONE[..ACT_ONE.len() - 2]).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::Truncated {
            act: Act::One,
            received: 49
        }
    );
}

#[test]
fn responder_act1_bad_version() {
    let err = responder_with_act_one("01036360e856310ce5d294e8be33fc807077dc56ac80d95d9cd4ddbd21325eff73f70df6086551151f58b8afe6c195782c6a").unwrap_err();
    assert_eq!(
        err,
        HandshakeError::BadVersion {
            act: Act::One,
            version: 1
        }
    );
}

#[test]
fn responder_act1_bad_key_serialization() {
    let err = responder_with_act_one("00046360e856310ce5d294e8be33fc807077dc56ac80d95d9cd4ddbd21325eff73f70df6086551151f58b8afe6c195782c6a").unwrap_err();
    assert_eq!(err, HandshakeError::BadPublicKey { act: Act::One });
}

#[test]
fn responder_act1_bad_mac() {
    let err = responder_with_act_one("00036360e856310ce5d294e8be33fc807077dc56ac80d95d9cd4ddbd21325eff73f70df6086551151f58b8afe6c195782c6b").unwrap_err();
    assert_eq!(err, HandshakeError::BadTag { act: Act::One });
}

#[test]
fn responder_act3_bad_version() {
    let err = responder_with_act_three("01b9e3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa22355361aa02e55a8fc28fef5bd6d71ad0c38228dc68b1c466263b47fdf31e560e139ba").unwrap_err();
    assert_eq!(
        err,
        HandshakeError::BadVersion {
            act: Act::Three,
            version: 1
        }
    );
}

#[test]
fn responder_act3_short_read() {
    let err = responder_with_act_three("00b9e3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa22355361aa02e55a8fc28fef5bd6d71ad0c38228dc68b1c466263b47fdf31e560e139").unwrap_err();
    assert_eq!(
        err,
        HandshakeError::Truncated {
            act: Act::Three,
            received: 65
        }
    );
}

#[test]
fn responder_act3_bad_mac_for_ciphertext() {
    let err = responder_with_act_three("00c9e3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa22355361aa02e55a8fc28fef5bd6d71ad0c38228dc68b1c466263b47fdf31e560e139ba").unwrap_err();
    assert_eq!(err, HandshakeError::BadStaticKeyTag);
}

#[test]
fn responder_act3_bad_rs() {
    // The static key authenticates but decrypts to 0x05 || …, not a compressed point.
    let err = responder_with_act_three("00bfe3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa2235536ad09a8ee351870c2bb7f78b754a26c6cef79a98d25139c856d7efd252c2ae73c").unwrap_err();
    assert_eq!(err, HandshakeError::BadPublicKey { act: Act::Three });
}

#[test]
fn responder_act3_bad_mac() {
    let err = responder_with_act_three("00b9e3a702e93e3a9948c2ed6e5fd7590a6e1c3a0344cfc9d5b57357049aa22355361aa02e55a8fc28fef5bd6d71ad0c38228dc68b1c466263b47fdf31e560e139bb").unwrap_err();
    assert_eq!(err, HandshakeError::BadTag { act: Act::Three });
}

/// The spec's six sample outputs of "hello" sent 1001+ times from the initiator.
const MESSAGE_OUTPUTS: [(usize, &str); 6] = [
    (
        0,
        "cf2b30ddf0cf3f80e7c35a6e6730b59fe802473180f396d88a8fb0db8cbcf25d2f214cf9ea1d95",
    ),
    (
        1,
        "72887022101f0b6753e0c7de21657d35a4cb2a1f5cde2650528bbc8f837d0f0d7ad833b1a256a1",
    ),
    (
        500,
        "178cb9d7387190fa34db9c2d50027d21793c9bc2d40b1e14dcf30ebeeeb220f48364f7a4c68bf8",
    ),
    (
        501,
        "1b186c57d44eb6de4c057c49940d79bb838a145cb528d6e8fd26dbe50a60ca2c104b56b60e45bd",
    ),
    (
        1000,
        "4a2f3cc3b5e78ddb83dcb426d9863d9d9a723b0337c89dd0b005d89f8d3c05c52b76b29b740f09",
    ),
    (
        1001,
        "2ecd8c8a5629d0d02ab457a0fdd0f7b90a192cd46be5ecb6ca570bfc5e268338b1a16cf4ef2d36",
    ),
];

/// The "hello" stream as the initiator's transport from the real handshake produces it.
fn hello_frames(count: usize) -> Vec<Vec<u8>> {
    let (_, transport) = initiator_with_act_two(ACT_TWO).unwrap();
    let (mut enc, _) = transport.split();
    (0..count)
        .map(|_| {
            let mut frame = Vec::new();
            enc.encrypt_into(b"hello", &mut frame).unwrap();
            frame
        })
        .collect()
}

#[test]
fn message_vectors_0_1_500_501_1000_1001() {
    let frames = hello_frames(1002);
    for (index, expected) in MESSAGE_OUTPUTS {
        assert_eq!(hex::encode(&frames[index]), expected, "output {index}");
    }
}

#[test]
fn responder_decrypts_the_message_stream_across_two_rotations() {
    let frames = hello_frames(1002);
    let (_, mut dec) = responder_with_act_three(ACT_THREE).unwrap().split();
    for (index, frame) in frames.iter().enumerate() {
        dec.push(frame);
        assert_eq!(
            dec.next_message().unwrap(),
            Some(&b"hello"[..]),
            "message {index}"
        );
        assert_eq!(dec.next_message().unwrap(), None);
    }
    dec.finish().unwrap();
}

#[test]
fn vector_keys_drive_the_same_stream_as_the_handshake() {
    let frames = hello_frames(2);
    let mut enc = Encryptor::from_keys(array(FINAL_CK), array(INITIATOR_SK));
    let mut out = Vec::new();
    enc.encrypt_into(b"hello", &mut out).unwrap();
    assert_eq!(out, frames[0]);
    let mut dec = Decryptor::from_keys(array(FINAL_CK), array(INITIATOR_SK));
    dec.push(&frames[0]);
    assert_eq!(dec.next_message().unwrap(), Some(&b"hello"[..]));
}
