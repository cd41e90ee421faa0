//! The BOLT 8 primitives: SHA-256, HKDF, ECDH and ChaCha20-Poly1305 with Noise nonces.
//!
//! Everything secret lives in [`Key`] or [`SecretScalar`], which wipe themselves on drop.

use secp256k1::{ecdh::SharedSecret, PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a ChaCha20-Poly1305 authentication tag.
pub(crate) const TAG_LEN: usize = 16;

/// A 32-byte secret: a chaining key, a cipher key, or an ECDH output.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Key(pub(crate) [u8; 32]);

/// A secp256k1 secret key that is erased when dropped (`SecretKey` is `Copy` and never is).
#[derive(Clone)]
pub(crate) struct SecretScalar(pub(crate) SecretKey);

impl Drop for SecretScalar {
    fn drop(&mut self) {
        self.0.non_secure_erase();
    }
}

/// The tag did not authenticate the ciphertext.
#[derive(Debug)]
pub(crate) struct BadTag;

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// BOLT 8 `HKDF(salt, ikm)`: RFC 5869 with empty `info`, 64 bytes split into two keys.
pub(crate) fn hkdf(salt: &[u8; 32], ikm: &[u8]) -> (Key, Key) {
    let mut okm = [0u8; 64];
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(&[], &mut okm)
        .expect("64 bytes is within HKDF-SHA256's 8160-byte output limit");
    let mut first = [0u8; 32];
    let mut second = [0u8; 32];
    first.copy_from_slice(&okm[..32]);
    second.copy_from_slice(&okm[32..]);
    okm.zeroize();
    (Key(first), Key(second))
}

/// BOLT 8 `ECDH(k, rk)`: SHA-256 of the compressed shared point (what libsecp256k1's default
/// hash function returns), not the bare x coordinate generic Noise libraries use.
pub(crate) fn ecdh(secret: &SecretKey, point: &PublicKey) -> Key {
    Key(SharedSecret::new(point, secret).secret_bytes())
}

/// Noise nonce: 32 zero bits, then the counter as little-endian u64.
fn noise_nonce(counter: u64) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[4..].copy_from_slice(&counter.to_le_bytes());
    nonce
}

/// Name of the compiled-in AEAD backend, for benchmark labels and logs.
#[cfg(feature = "ring")]
pub const AEAD_BACKEND: &str = "ring";
/// Name of the compiled-in AEAD backend, for benchmark labels and logs.
#[cfg(all(feature = "rustcrypto", not(feature = "ring")))]
pub const AEAD_BACKEND: &str = "rustcrypto";

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!("noise-transport needs an AEAD backend: enable feature `ring` or `rustcrypto`");

/// The ring key object is built per call from our zeroizing copy: for ChaCha20 that is a
/// 32-byte copy, and it keeps ring's (never wiped) key state off the heap.
#[cfg(feature = "ring")]
fn ring_key(key: &Key) -> ring::aead::LessSafeKey {
    use ring::aead::{LessSafeKey, UnboundKey, CHACHA20_POLY1305};
    LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, &key.0).expect("ChaCha20 keys are 32 bytes"),
    )
}

/// Encrypts `buf` in place and returns the tag.
#[cfg(feature = "ring")]
pub(crate) fn seal_in_place(key: &Key, counter: u64, ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    use ring::aead::{Aad, Nonce};
    let cipher = ring_key(key);
    let tag = cipher
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(noise_nonce(counter)),
            Aad::from(ad),
            buf,
        )
        .expect("a Lightning frame is far below ChaCha20-Poly1305's 256 GiB limit");
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Decrypts `ciphertext || tag` in place; on success the first `len - 16` bytes are plaintext.
#[cfg(feature = "ring")]
pub(crate) fn open_in_place(
    key: &Key,
    counter: u64,
    ad: &[u8],
    ciphertext_and_tag: &mut [u8],
) -> Result<(), BadTag> {
    use ring::aead::{Aad, Nonce};
    let cipher = ring_key(key);
    cipher
        .open_in_place(
            Nonce::assume_unique_for_key(noise_nonce(counter)),
            Aad::from(ad),
            ciphertext_and_tag,
        )
        .map(|_| ())
        .map_err(|_| BadTag)
}

/// Encrypts `buf` in place and returns the tag.
#[cfg(all(feature = "rustcrypto", not(feature = "ring")))]
pub(crate) fn seal_in_place(key: &Key, counter: u64, ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305, KeyInit};
    let cipher = ChaCha20Poly1305::new((&key.0).into());
    cipher
        .encrypt_in_place_detached((&noise_nonce(counter)).into(), ad, buf)
        .expect("a Lightning frame is far below ChaCha20-Poly1305's 256 GiB limit")
        .into()
}

/// Decrypts `ciphertext || tag` in place; on success the first `len - 16` bytes are plaintext.
#[cfg(all(feature = "rustcrypto", not(feature = "ring")))]
pub(crate) fn open_in_place(
    key: &Key,
    counter: u64,
    ad: &[u8],
    ciphertext_and_tag: &mut [u8],
) -> Result<(), BadTag> {
    use chacha20poly1305::{AeadInPlace, ChaCha20Poly1305, KeyInit};
    let Some(split) = ciphertext_and_tag.len().checked_sub(TAG_LEN) else {
        return Err(BadTag);
    };
    let (ciphertext, tag) = ciphertext_and_tag.split_at_mut(split);
    let cipher = ChaCha20Poly1305::new((&key.0).into());
    cipher
        .decrypt_in_place_detached(
            (&noise_nonce(counter)).into(),
            ad,
            ciphertext,
            (&*tag).into(),
        )
        .map_err(|_| BadTag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn hkdf_matches_bolt8_act_one_step() {
        let salt = hex32("2640f52eebcd9e882958951c794250eedb28002c05d7dc2ea0f195406042caf1");
        let ikm = hex32("1e2fb3c8fe8fb9f262f649f64d26ecf0f2c0a805a767cf02dc2d77a6ef1fdcc3");
        let (ck, k) = hkdf(&salt, &ikm);
        assert_eq!(
            ck.0,
            hex32("b61ec1191326fa240decc9564369dbb3ae2b34341d1e11ad64ed89f89180582f")
        );
        assert_eq!(
            k.0,
            hex32("e68f69b7f096d7917245f5e5cf8ae1595febe4d4644333c99f9c4a1282031c9f")
        );
    }

    #[test]
    fn seal_then_open_round_trips_and_detects_tampering() {
        let key = Key([7u8; 32]);
        let mut buf = b"hello".to_vec();
        let tag = seal_in_place(&key, 3, b"ad", &mut buf);
        buf.extend_from_slice(&tag);
        let mut tampered = buf.clone();
        open_in_place(&key, 3, b"ad", &mut buf).unwrap();
        assert_eq!(&buf[..5], b"hello");
        tampered[0] ^= 1;
        assert!(open_in_place(&key, 3, b"ad", &mut tampered).is_err());
    }

    #[test]
    fn open_rejects_input_shorter_than_a_tag() {
        assert!(open_in_place(&Key([0; 32]), 0, &[], &mut [0u8; 15]).is_err());
    }
}
