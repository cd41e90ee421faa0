//! Keys the unit tests use: secret `[byte; 32]` and its node id.
#![allow(clippy::unwrap_used)]

use secp256k1::{PublicKey, SecretKey, SECP256K1};

pub(crate) fn secret(byte: u8) -> SecretKey {
    SecretKey::from_slice(&[byte; 32]).unwrap()
}

pub(crate) fn node(byte: u8) -> PublicKey {
    PublicKey::from_secret_key(SECP256K1, &secret(byte))
}
