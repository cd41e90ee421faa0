//! Fuzz target bodies, shared by `fuzz/fuzz_targets/*` and the corpus replay tests, so a crash
//! found once stays fixed under a plain `cargo test`. Only built with the `fuzzing` feature.

use secp256k1::{PublicKey, SecretKey};

use crate::{
    Decryptor, Encryptor, InitiatorHandshake, ResponderHandshake, ACT_ONE_LEN, ACT_THREE_LEN,
    MIN_MESSAGE_LEN,
};

const CHAINING_KEY: [u8; 32] = [0x5a; 32];
const KEY: [u8; 32] = [0xa5; 32];
/// Scripted messages stay small so one input can hold many of them and cross a key rotation.
const MAX_FUZZ_MESSAGE_LEN: usize = 512;
/// Enough messages (two nonces each) to cross BOLT 8's rotation at nonce 1000.
const MAX_FUZZ_MESSAGES: usize = 600;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).expect("a repeated nonzero byte is a valid scalar")
}

/// Responder handshake input. The first byte picks where act one comes from: an even byte
/// means the fuzzer's next 50 bytes; an odd byte means a genuine act one from an initiator that
/// dialed us, so that the act-three parsing (the fuzzer's next 66 bytes) is reached too. Any
/// bytes after act three are ciphertext for the completed transport.
pub fn responder_handshake(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let responder = ResponderHandshake::with_ephemeral(&key(0x21), key(0x22));
    let (act_one, rest) = if mode % 2 == 1 {
        let our_id = PublicKey::from_secret_key_global(&key(0x21));
        let (_, act_one) = InitiatorHandshake::with_ephemeral(&key(0x11), &our_id, key(0x12));
        (act_one, rest)
    } else {
        let Some((act_one, rest)) = rest.split_first_chunk::<ACT_ONE_LEN>() else {
            return;
        };
        (*act_one, rest)
    };
    let Ok((waiting, _act_two)) = responder.read_act_one(&act_one) else {
        return;
    };
    let Some((act_three, rest)) = rest.split_first_chunk::<ACT_THREE_LEN>() else {
        return;
    };
    // The keys are BOLT 8 Appendix A's, so the spec's act three completes the handshake; the
    // remaining input is then the first ciphertext from that initiator.
    if let Ok(transport) = waiting.read_act_three(act_three) {
        let (_, mut dec) = transport.split();
        dec.push(rest);
        while let Ok(Some(_)) = dec.next_message() {}
    }
}

/// Frame decryption input. With an even first byte the rest is ciphertext pushed straight into
/// a decryptor (every outcome must be an error or "need more"). With an odd first byte the rest
/// is a script: messages are cut from it, encrypted, the stream is delivered in pieces whose
/// sizes also come from the input, optionally with one byte flipped, and the decryptor must
/// return exactly the messages, or an error from the flipped byte on.
pub fn frame_decryption(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let mut dec = Decryptor::from_keys(CHAINING_KEY, KEY);
        dec.push(rest);
        while let Ok(Some(_)) = dec.next_message() {}
        let _ = dec.finish();
        return;
    }
    round_trip_script(mode, rest);
}

fn round_trip_script(mode: u8, script: &[u8]) {
    // Messages: each takes a 2-byte length from the script (clamped to the legal range), then
    // that many bytes of the script, repeated cyclically.
    let mut enc = Encryptor::from_keys(CHAINING_KEY, KEY);
    let mut messages = Vec::new();
    let mut wire = Vec::new();
    for chunk in script.chunks(2).take(MAX_FUZZ_MESSAGES) {
        let raw = u16::from_be_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        let len = usize::from(raw) % MAX_FUZZ_MESSAGE_LEN + MIN_MESSAGE_LEN;
        let message: Vec<u8> = script
            .iter()
            .chain(&[raw as u8])
            .cycle()
            .take(len)
            .copied()
            .collect();
        enc.encrypt_into(&message, &mut wire)
            .expect("lengths are within 2..=513");
        messages.push(message);
    }
    let flip_at = (mode & 0x02 != 0 && !wire.is_empty()).then(|| {
        let at = u16::from_be_bytes([*script.first().unwrap_or(&0), *script.get(1).unwrap_or(&0)]);
        usize::from(at) % wire.len()
    });
    if let Some(at) = flip_at {
        wire[at] ^= 0x01;
    }

    let mut dec = Decryptor::from_keys(CHAINING_KEY, KEY);
    let mut received = Vec::new();
    let mut failed = false;
    let mut offset = 0;
    let mut piece = script.iter().cycle();
    while offset < wire.len() && !failed {
        let take = (usize::from(*piece.next().unwrap_or(&1)) * 37 + 1).min(wire.len() - offset);
        dec.push(&wire[offset..offset + take]);
        offset += take;
        loop {
            match dec.next_message() {
                Ok(Some(message)) => received.push(message.to_vec()),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    match flip_at {
        None => {
            assert_eq!(received, messages);
            assert!(dec.finish().is_ok());
        }
        Some(_) => {
            // Everything before the damaged frame arrives intact; the damaged one never does.
            assert!(failed);
            assert!(received.len() < messages.len());
            assert_eq!(received[..], messages[..received.len()]);
        }
    }
}
