//! The `path_id`s of the blinded paths we issue (`createonionreplypath`): 32 bytes that only
//! this node can make, so a message that arrives carrying one came over a path we handed out
//! (CLN's `pathsecret`; its plugins derive theirs from `hsm_secret` with `makesecret`).
//!
//! ```text
//! base    = the node's onion path key, derived from hsm_secret by lnpeerd
//! path_id = nonce (16 random bytes) || HMAC-SHA256(base, "lnpeer onion path" || nonce)[..16]
//! ```
//!
//! No state is kept: whether a received `path_id` is ours is one HMAC, compared in constant
//! time. A message over a path of ours therefore goes to `onion_message_recv_secret`, and one
//! whose `path_id` we did not make (a forger's, or someone else's path) does not.

use hmac::{Hmac, Mac};
use secp256k1::rand::RngCore;
use sha2::Sha256;

/// What the HMAC covers before the nonce, so the base key signs nothing else by accident.
const DOMAIN: &[u8] = b"lnpeer onion path";

/// Bytes of randomness in a `path_id`.
const NONCE_LEN: usize = 16;

/// The length of our `path_id`s (CLN's `pathsecret` is a 32-byte secret too).
pub const PATH_SECRET_LEN: usize = 32;

/// Issues and recognises our paths' `path_id`s.
pub struct PathSecrets {
    base: [u8; 32],
}

impl PathSecrets {
    /// From the node's onion path key (derived from `hsm_secret`).
    pub fn new(base: [u8; 32]) -> Self {
        PathSecrets { base }
    }

    fn tag(&self, nonce: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.base)
            .expect("HMAC takes keys of any length");
        mac.update(DOMAIN);
        mac.update(nonce);
        mac.finalize().into_bytes().into()
    }

    /// A fresh `path_id` for a new path.
    pub fn issue(&self) -> [u8; PATH_SECRET_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        secp256k1::rand::thread_rng().fill_bytes(&mut nonce);
        self.with_nonce(nonce)
    }

    fn with_nonce(&self, nonce: [u8; NONCE_LEN]) -> [u8; PATH_SECRET_LEN] {
        let mut path_id = [0u8; PATH_SECRET_LEN];
        path_id[..NONCE_LEN].copy_from_slice(&nonce);
        path_id[NONCE_LEN..].copy_from_slice(&self.tag(&nonce)[..PATH_SECRET_LEN - NONCE_LEN]);
        path_id
    }

    /// Whether `path_id` is one [`PathSecrets::issue`] made (constant time in its contents).
    pub fn is_ours(&self, path_id: &[u8]) -> bool {
        let Ok(path_id) = <&[u8; PATH_SECRET_LEN]>::try_from(path_id) else {
            return false;
        };
        let (nonce, tag) = path_id.split_at(NONCE_LEN);
        let expected = self.tag(nonce);
        tag.iter()
            .zip(&expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ids_are_recognised_and_others_are_not() {
        let secrets = PathSecrets::new([7; 32]);
        let id = secrets.issue();
        assert!(secrets.is_ours(&id));
        assert_ne!(secrets.issue(), id, "each path gets its own id");
        let mut forged = id;
        forged[31] ^= 1;
        assert!(!secrets.is_ours(&forged));
        forged = id;
        forged[0] ^= 1;
        assert!(!secrets.is_ours(&forged), "the nonce is covered");
        assert!(!secrets.is_ours(&id[..31]));
        assert!(!secrets.is_ours(&[]));
        assert!(
            !PathSecrets::new([8; 32]).is_ours(&id),
            "another node's key"
        );
    }

    #[test]
    fn the_derivation_is_fixed() {
        let id = PathSecrets::new([1; 32]).with_nonce([2; NONCE_LEN]);
        assert_eq!(&id[..NONCE_LEN], &[2; NONCE_LEN]);
        assert_eq!(id, PathSecrets::new([1; 32]).with_nonce([2; NONCE_LEN]));
        assert_ne!(id, PathSecrets::new([3; 32]).with_nonce([2; NONCE_LEN]));
    }
}
