//! The bare AEAD limit: how many messages per second one core could seal if sealing were all
//! a transport did. BOLT 8 makes two AEAD calls per message (the 2-byte length, then the body),
//! each with a 16-byte tag, using the AEAD backend the build uses (ring's ChaCha20-Poly1305).

use std::time::Instant;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};

/// Messages of `message_len` bytes (type included) one core seals per second: length header
/// and body, as BOLT 8 frames them, for about a quarter of a second.
pub(crate) fn messages_per_second(message_len: usize) -> f64 {
    let key = LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, &[7; 32]).expect("a 32-byte ChaCha20 key"),
    );
    let mut header = [0u8; 2];
    let mut body = vec![0u8; message_len];
    let mut nonce = 0u64;
    let mut seal = |data: &mut [u8]| {
        let mut bytes = [0u8; 12];
        bytes[4..].copy_from_slice(&nonce.to_le_bytes());
        nonce += 1;
        let tag = key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(bytes), Aad::empty(), data)
            .expect("sealing cannot fail below 256 GiB");
        let _ = std::hint::black_box(tag);
    };
    let started = Instant::now();
    let mut messages = 0u64;
    while started.elapsed().as_millis() < 250 {
        for _ in 0..64 {
            seal(&mut header);
            seal(&mut body);
        }
        messages += 64;
    }
    messages as f64 / started.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    #[test]
    fn small_messages_seal_faster_than_large_ones() {
        assert!(super::messages_per_second(32) > super::messages_per_second(60_000));
    }
}
