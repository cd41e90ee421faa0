//! The BOLT 4 primitives shared by Sphinx and route blinding: ECDH, SHA-256, HMAC-SHA256 key
//! derivation, the ChaCha20 keystream and ChaCha20-Poly1305 for `encrypted_recipient_data`.
//!
//! Every 32-byte secret (shared secrets, derived keys) is a [`Secret`], wiped when dropped.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use hmac::{Hmac, Mac};
use secp256k1::ecdh::SharedSecret;
use secp256k1::{PublicKey, Scalar, SecretKey, SECP256K1};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// A 32-byte secret: an ECDH shared secret or a key derived from one.
pub(crate) type Secret = Zeroizing<[u8; 32]>;

/// BOLT 4 "Key Generation": the key type is the HMAC key, without a NUL terminator.
pub(crate) const RHO: &[u8] = b"rho";
/// BOLT 4 "Key Generation": the key of the per-hop HMAC.
pub(crate) const MU: &[u8] = b"mu";
/// BOLT 4 "Key Generation": the key of the starting mix header's filler bytes.
pub(crate) const PAD: &[u8] = b"pad";
/// BOLT 4 "Route Blinding": `B_i = HMAC256("blinded_node_id", ss_i) * N_i`.
pub(crate) const BLINDED_NODE_ID: &[u8] = b"blinded_node_id";

/// Length of a Poly1305 tag: an empty `encrypted_data_tlv` encrypts to exactly this many bytes.
pub(crate) const TAG_LEN: usize = 16;

/// A blinding or tweak factor was not a valid secp256k1 scalar, or a tweak made the point at
/// infinity. Only a hash colliding with the group order does this (probability about 2^-128),
/// but the inputs can come from a peer, so it is an error and not a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadScalar;

pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> Secret {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// Checks `tag == HMAC(key, message)` in constant time (BOLT 4 "Onion Decryption": "MUST use a
/// constant time comparison").
pub(crate) fn hmac_sha256_verify(key: &[u8], message: &[u8], tag: &[u8; 32]) -> bool {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac.verify_slice(tag).is_ok()
}

/// BOLT 4 "Key Generation": `HMAC256(key_type, secret)`.
pub(crate) fn derive_key(key_type: &[u8], secret: &[u8; 32]) -> Secret {
    hmac_sha256(key_type, secret)
}

/// BOLT 4 "Shared Secret": SHA-256 of the compressed point `secret * point`, which is
/// libsecp256k1's default ECDH hash.
pub(crate) fn ecdh(secret: &SecretKey, point: &PublicKey) -> Secret {
    Zeroizing::new(SharedSecret::new(point, secret).secret_bytes())
}

/// A 32-byte big-endian number as a scalar for `mul_tweak`.
pub(crate) fn scalar(bytes: &[u8; 32]) -> Result<Scalar, BadScalar> {
    Scalar::from_be_bytes(*bytes).map_err(|_| BadScalar)
}

pub(crate) fn mul_public(point: &PublicKey, factor: &[u8; 32]) -> Result<PublicKey, BadScalar> {
    point
        .mul_tweak(SECP256K1, &scalar(factor)?)
        .map_err(|_| BadScalar)
}

pub(crate) fn mul_secret(secret: &SecretKey, factor: &[u8; 32]) -> Result<SecretKey, BadScalar> {
    secret.mul_tweak(&scalar(factor)?).map_err(|_| BadScalar)
}

/// BOLT 4 "Blinding Ephemeral Onion Keys" and "Route Blinding": the factor
/// `SHA256(ser(point) || ss)` by which both the next onion key and the next path key are
/// derived from the current one.
pub(crate) fn blinding_factor(point: &PublicKey, shared_secret: &[u8; 32]) -> [u8; 32] {
    sha256(&[&point.serialize(), shared_secret])
}

/// XORs `buf` with the ChaCha20 keystream of `key` (BOLT 4 "Pseudo Random Byte Stream": a
/// 96-bit zero nonce, counter from 0).
pub(crate) fn apply_keystream(key: &[u8; 32], buf: &mut [u8]) {
    let mut cipher = ChaCha20::new(key.into(), &[0u8; 12].into());
    cipher.apply_keystream(buf);
}

/// The first `len` bytes of `key`'s keystream.
pub(crate) fn keystream(key: &[u8; 32], len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    apply_keystream(key, &mut out);
    out
}

/// ChaCha20-Poly1305 with an all-zero nonce and no associated data: `ciphertext || tag`
/// (BOLT 4 "Route Blinding").
pub(crate) fn aead_seal(key: &[u8; 32], plaintext: &[u8]) -> Vec<u8> {
    ChaCha20Poly1305::new(key.into())
        .encrypt(&[0u8; 12].into(), plaintext)
        .expect("an encrypted_data_tlv is far below ChaCha20-Poly1305's 256 GiB limit")
}

/// Opens what [`aead_seal`] made; `None` if it is shorter than a tag or does not authenticate.
pub(crate) fn aead_open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < TAG_LEN {
        return None;
    }
    ChaCha20Poly1305::new(key.into())
        .decrypt(&[0u8; 12].into(), sealed)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8439 §2.4.2's keystream starts at block 1; block 0 of the same key and nonce is
    /// §2.3.2's first serialized block. With an all-zero key and nonce, block 0 is the
    /// well-known ChaCha20 test vector (RFC 8439 A.1, test vector #1).
    #[test]
    fn keystream_of_zero_key_is_rfc8439_a1() {
        let stream = keystream(&[0; 32], 64);
        assert_eq!(
            hex::encode(&stream[..32]),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
        );
    }

    #[test]
    fn aead_round_trips_and_rejects_damage() {
        let key = [7; 32];
        let sealed = aead_seal(&key, b"tlv");
        assert_eq!(sealed.len(), 3 + TAG_LEN);
        assert_eq!(aead_open(&key, &sealed).as_deref(), Some(&b"tlv"[..]));
        let mut damaged = sealed.clone();
        damaged[0] ^= 1;
        assert_eq!(aead_open(&key, &damaged), None);
        assert_eq!(aead_open(&key, &sealed[..TAG_LEN - 1]), None);
        assert_eq!(
            aead_open(&key, &aead_seal(&key, b"")).as_deref(),
            Some(&[][..])
        );
    }

    #[test]
    fn hmac_verify_is_hmac() {
        let tag = hmac_sha256(MU, b"data");
        assert!(hmac_sha256_verify(MU, b"data", &tag));
        assert!(!hmac_sha256_verify(MU, b"datb", &tag));
    }

    #[test]
    fn scalars_at_or_above_the_group_order_are_refused() {
        assert_eq!(scalar(&[0xff; 32]), Err(BadScalar));
        let key = SecretKey::from_slice(&[1; 32]).unwrap();
        assert_eq!(mul_secret(&key, &[0; 32]), Err(BadScalar));
    }
}
