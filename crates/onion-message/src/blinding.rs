//! Route blinding (BOLT 4 "Route Blinding"): the path creator's side (blinded node ids and
//! sealed `encrypted_data_tlv`s from a chain of path keys) and a hop's side (its shared secret
//! with the `path_key`, its blinded private key, opening its data, the next `path_key`).
//!
//! ```text
//! ss_i = SHA256(e_i * N_i) = SHA256(k_i * E_i)       B_i = HMAC256("blinded_node_id", ss_i) * N_i
//! rho_i = HMAC256("rho", ss_i)                      encrypted_recipient_data_i = AEAD(rho_i, tlv_i)
//! e_{i+1} = SHA256(E_i || ss_i) * e_i               E_{i+1} = SHA256(E_i || ss_i) * E_i
//! ```

use secp256k1::{PublicKey, SecretKey, SECP256K1};

use crate::crypto::{
    aead_open, aead_seal, blinding_factor, derive_key, ecdh, mul_public, mul_secret, BadScalar,
    Secret, BLINDED_NODE_ID, RHO,
};
use crate::{BlindedHop, BlindedPath, BuildError, DecryptError, IntroductionNode};

/// Blinds a path through `hops` (each a node id and the serialized `encrypted_data_tlv` for
/// it, introduction node first, recipient last), starting the path-key chain at
/// `first_path_secret` (`e_0`, fresh from a CSPRNG for each path).
///
/// This is the primitive under [`create_blinded_path`](crate::create_blinded_path), for
/// callers that write each hop's data themselves (and for the spec's vectors).
///
/// # Errors
///
/// [`BuildError::Path`] if the hops do not make a valid path (none, more than 255, data too
/// long), [`BuildError::InvalidKey`] if `first_path_secret` leads to an invalid factor.
pub fn blind_path(
    first_path_secret: &SecretKey,
    hops: &[(PublicKey, Vec<u8>)],
) -> Result<BlindedPath, BuildError> {
    let introduction = hops
        .first()
        .map(|(node_id, _)| IntroductionNode::NodeId(*node_id))
        .ok_or(BuildError::Path(crate::BlindedPathError::NoHops))?;
    let first_path_key = PublicKey::from_secret_key(SECP256K1, first_path_secret);
    let blinded = blind_hops(first_path_secret, hops).map_err(|_| BuildError::InvalidKey)?;
    Ok(BlindedPath::new(introduction, first_path_key, blinded)?)
}

/// The blinded hops of [`blind_path`].
pub(crate) fn blind_hops(
    first_path_secret: &SecretKey,
    hops: &[(PublicKey, Vec<u8>)],
) -> Result<Vec<BlindedHop>, BadScalar> {
    let mut path_secret = *first_path_secret;
    let mut blinded = Vec::with_capacity(hops.len());
    for (node_id, tlv) in hops {
        let path_key = PublicKey::from_secret_key(SECP256K1, &path_secret);
        let shared = ecdh(&path_secret, node_id);
        blinded.push(BlindedHop {
            blinded_node_id: mul_public(node_id, &derive_key(BLINDED_NODE_ID, &shared))?,
            encrypted_recipient_data: aead_seal(&derive_key(RHO, &shared), tlv),
        });
        let next = mul_secret(&path_secret, &blinding_factor(&path_key, &shared));
        path_secret.non_secure_erase();
        path_secret = next?;
    }
    path_secret.non_secure_erase();
    Ok(blinded)
}

/// What a hop shares with the path's creator: `ss_i = SHA256(k_i * E_i)`.
pub(crate) struct HopBlinding {
    shared: Secret,
}

impl HopBlinding {
    /// The hop with private key `node_secret` that was handed `path_key`.
    pub(crate) fn new(node_secret: &SecretKey, path_key: &PublicKey) -> Self {
        Self {
            shared: ecdh(node_secret, path_key),
        }
    }

    /// `b_i = HMAC256("blinded_node_id", ss_i) * k_i`: the private key of the hop's blinded
    /// node id, to which its onion layer is encrypted.
    pub(crate) fn blinded_secret(&self, node_secret: &SecretKey) -> Result<SecretKey, BadScalar> {
        mul_secret(node_secret, &derive_key(BLINDED_NODE_ID, &self.shared))
    }

    /// Opens the hop's `encrypted_recipient_data`; `None` if it does not authenticate.
    pub(crate) fn open(&self, encrypted_recipient_data: &[u8]) -> Option<Vec<u8>> {
        aead_open(&derive_key(RHO, &self.shared), encrypted_recipient_data)
    }

    /// The computed next path key `E_{i+1} = SHA256(E_i || ss_i) * E_i` (which a
    /// `next_path_key_override` replaces).
    pub(crate) fn next_path_key(&self, path_key: &PublicKey) -> Result<PublicKey, BadScalar> {
        mul_public(path_key, &blinding_factor(path_key, &self.shared))
    }
}

/// `decryptencrypteddata`'s result: the hop's `encrypted_data_tlv` and the computed next
/// path key (CLN's field names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedData {
    /// The `encrypted_data_tlv`, not decoded (CLN returns it as hex);
    /// [`EncryptedData::from_bytes`](crate::EncryptedData::from_bytes) reads it.
    pub decrypted: Vec<u8>,
    /// `E_{i+1} = SHA256(E_i || ss_i) * E_i`, ignoring any `next_path_key_override` in the
    /// data, as CLN's command does.
    pub next_path_key: PublicKey,
}

/// Decrypts a hop's `encrypted_recipient_data` with our `node_secret` and the `path_key` that
/// came with it (CLN's `decryptencrypteddata`).
///
/// # Errors
///
/// [`DecryptError`] (CLN: `Decryption failed!`) if the data is shorter than its tag or does not
/// authenticate with our key and this `path_key`.
pub fn decrypt_encrypted_data(
    node_secret: &SecretKey,
    path_key: &PublicKey,
    encrypted_recipient_data: &[u8],
) -> Result<DecryptedData, DecryptError> {
    let hop = HopBlinding::new(node_secret, path_key);
    let decrypted = hop.open(encrypted_recipient_data).ok_or(DecryptError)?;
    let next_path_key = hop.next_path_key(path_key).map_err(|_| DecryptError)?;
    Ok(DecryptedData {
        decrypted,
        next_path_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn secret(hex_key: &str) -> SecretKey {
        SecretKey::from_slice(&hex::decode(hex_key).unwrap()).unwrap()
    }

    /// `route-blinding-test.json` `unblind.hops[*].blinded_privkey`: `b_i` from each hop's key
    /// and the `path_key` it is handed. (The public API checks of the same vector are in
    /// `tests/bolt4_vectors.rs`.)
    #[test]
    fn blinded_private_keys_match_the_route_blinding_vector() {
        let vector: Value =
            serde_json::from_str(include_str!("../tests/vectors/route-blinding-test.json"))
                .unwrap();
        let hops = vector["unblind"]["hops"].as_array().unwrap();
        assert_eq!(hops.len(), 4);
        for hop in hops {
            let node_secret = secret(hop["node_privkey"].as_str().unwrap());
            let path_key =
                PublicKey::from_slice(&hex::decode(hop["path_key"].as_str().unwrap()).unwrap())
                    .unwrap();
            let blinded = HopBlinding::new(&node_secret, &path_key)
                .blinded_secret(&node_secret)
                .unwrap();
            assert_eq!(
                hex::encode(blinded.secret_bytes()),
                hop["blinded_privkey"].as_str().unwrap(),
                "{}",
                hop["alias"]
            );
        }
    }

    #[test]
    fn the_recipient_reads_what_the_creator_sealed() {
        let e0 = SecretKey::from_slice(&[0x63; 32]).unwrap();
        let nodes: Vec<SecretKey> = (0x41..0x44)
            .map(|b| SecretKey::from_slice(&[b; 32]).unwrap())
            .collect();
        let hops: Vec<(PublicKey, Vec<u8>)> = nodes
            .iter()
            .enumerate()
            .map(|(i, k)| (PublicKey::from_secret_key(SECP256K1, k), vec![1, i as u8]))
            .collect();
        let path = blind_path(&e0, &hops).unwrap();
        let mut path_key = *path.first_path_key();
        for (i, (node, hop)) in nodes.iter().zip(path.hops()).enumerate() {
            let blinding = HopBlinding::new(node, &path_key);
            let blinded = blinding.blinded_secret(node).unwrap();
            assert_eq!(
                PublicKey::from_secret_key(SECP256K1, &blinded),
                hop.blinded_node_id
            );
            let decrypted =
                decrypt_encrypted_data(node, &path_key, &hop.encrypted_recipient_data).unwrap();
            assert_eq!(decrypted.decrypted, [1, i as u8]);
            path_key = decrypted.next_path_key;
        }
        // Another node cannot read hop 0.
        assert_eq!(
            decrypt_encrypted_data(
                &nodes[1],
                path.first_path_key(),
                &path.hops()[0].encrypted_recipient_data
            ),
            Err(DecryptError)
        );
        assert_eq!(
            decrypt_encrypted_data(&nodes[0], path.first_path_key(), &[0; 15]),
            Err(DecryptError)
        );
        assert!(matches!(
            blind_path(&e0, &[]),
            Err(BuildError::Path(crate::BlindedPathError::NoHops))
        ));
    }
}
