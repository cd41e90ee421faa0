//! The rune master secret, derived from the node's seed as CLN's hsmd does
//! (`hsmd/libhsmd.c` `hsmd_init`, `handle_derive_secret`; `lightningd/runes.c`).
//!
//! ```text
//! seed ──HKDF-SHA256(salt "", info "derived secrets")──▶ derived_secret
//! derived_secret ──HKDF-SHA256(salt "", info "commando")──▶ rune master secret
//! ```

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::rune::Rune;

/// hsmd's `derived_secret` from its seed: the 32 bytes of a legacy `hsm_secret`, or the
/// 64-byte BIP39 seed of a mnemonic one (CLN v25.12+; not its first 32 bytes, which is
/// `hsmtool`'s bug).
pub fn derived_secret(seed: &[u8]) -> Zeroizing<[u8; 32]> {
    hkdf_sha256(seed, b"derived secrets")
}

/// hsmd's `derive_secret(info)`, which also backs the `makesecret` RPC.
pub fn derive_secret(derived_secret: &[u8; 32], info: &[u8]) -> Zeroizing<[u8; 32]> {
    hkdf_sha256(derived_secret, info)
}

/// The rune master secret from the seed (`makesecret string=commando`: runes came out of
/// commando, hence the info string).
pub fn master_secret(seed: &[u8]) -> Zeroizing<[u8; 32]> {
    derive_secret(&derived_secret(seed), b"commando")
}

/// The master rune of a node with this seed: no restrictions, no version, as CLN makes it.
/// It is as secret as the seed: anyone holding it can mint runes.
pub fn master_rune(seed: &[u8]) -> Rune {
    Rune::master(master_secret(seed).as_slice())
        .expect("a 32-byte secret is within the 55-byte limit")
}

/// RFC 5869 HKDF-SHA256 with an empty salt (the same as a zero salt of hash length) and a
/// 32-byte output.
fn hkdf_sha256(ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&[]), ikm)
        .expand(info, okm.as_mut_slice())
        .expect("32 bytes is within HKDF-SHA256's 8160-byte limit");
    okm
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pyln-testing's legacy `hsm_secret` for node l1: `"lightning-1"` padded with zeros.
    fn l1_legacy() -> [u8; 32] {
        let mut seed = [0u8; 32];
        seed[..11].copy_from_slice(b"lightning-1");
        seed
    }

    #[test]
    fn legacy_hsm_secret_vector() {
        assert_eq!(
            hex::encode(derived_secret(&l1_legacy()).as_slice()),
            "7fd892a807993c78edec3da25f125bb36ac740a1fe1f1ae7318ef4fa30a5d625"
        );
        assert_eq!(
            hex::encode(master_secret(&l1_legacy()).as_slice()),
            "edb8893c04fdeef8f5f06ed70edef309a5c83f20624594e136e392504a270c40"
        );
    }

    #[test]
    fn mnemonic_seed_vector() {
        let seed = hex::decode(
            "dee14e98289eff18336fe0ec363158e30db13cc46c5bf4dfbf93304a3b9c5217\
             84e4716fe0add18b260fe5695d01efee8ef09e0ef95be0b11dce6ae1ea7d5354",
        )
        .unwrap();
        assert_eq!(
            hex::encode(derived_secret(&seed).as_slice()),
            "344dec7f7fc1d165c5e92e96a4347af1ff0b751083d92fd46d32a6d3f405313b"
        );
        assert_eq!(
            hex::encode(master_secret(&seed).as_slice()),
            "4ac018131e70b044e17891e67960f59b9d602525d3aef9956e900189f456e595"
        );
    }

    #[test]
    fn master_rune_is_made_from_the_master_secret() {
        let master = master_rune(&l1_legacy());
        assert_eq!(
            master,
            Rune::master(master_secret(&l1_legacy()).as_slice()).unwrap()
        );
    }
}
