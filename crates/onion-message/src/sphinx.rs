//! Sphinx (BOLT 4 "Packet Construction", "Onion Decryption", "Filler Generation") for
//! `onion_message_packet`: building a packet for a list of hop keys and payloads, and peeling
//! one layer given the hop's shared secret. Onion messages use no associated data.
//!
//! Each hop's frame is `bigsize(len) || payload || hmac`; a frame's `shift` is its length.

use secp256k1::{PublicKey, SecretKey, SECP256K1};
use wire::{BigSize, Decode, Encode, Reader};
use zeroize::Zeroizing;

use crate::crypto::{
    apply_keystream, blinding_factor, derive_key, ecdh, hmac_sha256, hmac_sha256_verify, keystream,
    mul_public, mul_secret, BadScalar, Secret, MU, PAD, RHO,
};
use crate::packet::{Packet, HMAC_LEN};
use crate::LayerError;

/// One hop of a packet to build: the key its layer is encrypted to (for onion messages,
/// always a blinded node id) and its serialized `onionmsg_tlv`.
pub(crate) struct Hop<'a> {
    pub(crate) key: PublicKey,
    pub(crate) payload: &'a [u8],
}

/// The payload length and hmac bytes all frames of `payloads` need.
pub(crate) fn frames_len<'a>(payloads: impl IntoIterator<Item = &'a [u8]>) -> usize {
    payloads.into_iter().map(frame_len).sum()
}

fn frame_len(payload: &[u8]) -> usize {
    BigSize(payload.len() as u64).encoded_len() + payload.len() + HMAC_LEN
}

/// Builds a packet with `payloads_len` bytes of payloads for `hops`, in order, with the
/// sender's `session_key`. The caller has checked that the frames fit (see [`frames_len`])
/// and that there is at least one hop.
///
/// The starting mix header is keyed from `session_key` with `pad`, as BOLT 4's reference
/// does, so the packet is a function of its inputs (any random bytes would do on the wire).
pub(crate) fn construct(
    session_key: &SecretKey,
    hops: &[Hop<'_>],
    payloads_len: usize,
) -> Result<Vec<u8>, BadScalar> {
    debug_assert!(!hops.is_empty());
    debug_assert!(frames_len(hops.iter().map(|hop| hop.payload)) <= payloads_len);

    // Per hop: the shared secret, and the ephemeral key the hop sees.
    let mut secrets: Vec<Secret> = Vec::with_capacity(hops.len());
    let mut first_public_key = None;
    let mut ephemeral = *session_key;
    for hop in hops {
        let public = PublicKey::from_secret_key(SECP256K1, &ephemeral);
        first_public_key.get_or_insert(public);
        let shared = ecdh(&ephemeral, &hop.key);
        let factor = blinding_factor(&public, &shared);
        let next = mul_secret(&ephemeral, &factor);
        ephemeral.non_secure_erase();
        ephemeral = next?;
        secrets.push(shared);
    }
    ephemeral.non_secure_erase();
    let first_public_key = first_public_key.ok_or(BadScalar)?;

    let filler = filler(hops, &secrets, payloads_len);
    let pad_key = derive_key(PAD, &session_key.secret_bytes());
    let mut header = keystream(&pad_key, payloads_len);
    let mut next_hmac = [0u8; HMAC_LEN];
    for (index, (hop, shared)) in hops.iter().zip(&secrets).enumerate().rev() {
        let shift = frame_len(hop.payload);
        header.rotate_right(shift);
        let mut frame = Vec::with_capacity(shift);
        BigSize(hop.payload.len() as u64).encode(&mut frame);
        frame.extend_from_slice(hop.payload);
        frame.extend_from_slice(&next_hmac);
        header[..shift].copy_from_slice(&frame);
        apply_keystream(&derive_key(RHO, shared), &mut header);
        if index == hops.len() - 1 {
            let start = payloads_len - filler.len();
            header[start..].copy_from_slice(&filler);
        }
        next_hmac = *hmac_sha256(&*derive_key(MU, shared), &header);
    }
    Ok(Packet {
        public_key: first_public_key,
        payloads: &header,
        hmac: next_hmac,
    }
    .to_bytes())
}

/// BOLT 4 "Filler Generation": the bytes the last hop's layer must end with so that every
/// earlier hop's HMAC covers exactly what that hop will see after the earlier hops shifted
/// their frames out and appended zeros.
fn filler(hops: &[Hop<'_>], secrets: &[Secret], payloads_len: usize) -> Vec<u8> {
    let Some((_, earlier)) = hops.split_last() else {
        return Vec::new();
    };
    let filler_len: usize = earlier.iter().map(|hop| frame_len(hop.payload)).sum();
    let mut filler = vec![0u8; filler_len];
    let mut used = 0;
    for (hop, shared) in earlier.iter().zip(secrets) {
        let shift = frame_len(hop.payload);
        let stream = keystream(&derive_key(RHO, shared), payloads_len + shift);
        for (byte, key) in filler[..used + shift]
            .iter_mut()
            .zip(&stream[payloads_len - used..])
        {
            *byte ^= key;
        }
        used += shift;
    }
    filler
}

/// One peeled layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    /// This hop's `onionmsg_tlv`, decrypted.
    pub(crate) payload: Vec<u8>,
    /// The packet for the next hop, or `None` at the final hop (an all-zero next hmac).
    pub(crate) next_packet: Option<Vec<u8>>,
}

/// Peels `packet` with the hop's onion `shared_secret` (BOLT 4 "Onion Decryption", with an
/// empty `associated_data`). The next packet keeps the incoming payloads length.
pub(crate) fn peel(packet: &Packet<'_>, shared_secret: &[u8; 32]) -> Result<Layer, LayerError> {
    let mu = derive_key(MU, shared_secret);
    if !hmac_sha256_verify(&*mu, packet.payloads, &packet.hmac) {
        return Err(LayerError::HmacMismatch);
    }
    let len = packet.payloads.len();
    // The payloads followed by as many zeros, decrypted: the hop's frame, then the next
    // hop's payloads.
    let mut unwrapped = Zeroizing::new(Vec::with_capacity(2 * len));
    unwrapped.extend_from_slice(packet.payloads);
    unwrapped.resize(2 * len, 0);
    apply_keystream(&derive_key(RHO, shared_secret), &mut unwrapped);

    let mut reader = Reader::new(&unwrapped[..len]);
    let BigSize(payload_len) = BigSize::decode(&mut reader).map_err(|_| LayerError::BadLength)?;
    if payload_len < 2 {
        return Err(LayerError::TooShort);
    }
    let prefix = len - reader.remaining();
    let payload_len = usize::try_from(payload_len).map_err(|_| LayerError::Overrun)?;
    let payload_end = prefix
        .checked_add(payload_len)
        .filter(|&end| end + HMAC_LEN <= len)
        .ok_or(LayerError::Overrun)?;
    let payload = unwrapped[prefix..payload_end].to_vec();
    let mut next_hmac = [0u8; HMAC_LEN];
    next_hmac.copy_from_slice(&unwrapped[payload_end..payload_end + HMAC_LEN]);
    if next_hmac == [0; HMAC_LEN] {
        return Ok(Layer {
            payload,
            next_packet: None,
        });
    }
    // BOLT 4: the next `public_key` is the *incoming* one (not the path-key-tweaked one)
    // times SHA256(public_key || ss).
    let factor = blinding_factor(&packet.public_key, shared_secret);
    let next_public_key =
        mul_public(&packet.public_key, &factor).map_err(|_| LayerError::InvalidNextKey)?;
    let rest = payload_end + HMAC_LEN;
    let next_packet = Packet {
        public_key: next_public_key,
        payloads: &unwrapped[rest..rest + len],
        hmac: next_hmac,
    }
    .to_bytes();
    Ok(Layer {
        payload,
        next_packet: Some(next_packet),
    })
}

/// The onion shared secret of a hop whose (blinded) private key is `hop_secret`.
pub(crate) fn shared_secret(hop_secret: &SecretKey, packet: &Packet<'_>) -> Secret {
    ecdh(hop_secret, &packet.public_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::*;

    /// Builds a packet to plain (unblinded) keys and peels it hop by hop.
    fn round_trip(payloads: &[Vec<u8>], payloads_len: usize) {
        let secrets: Vec<SecretKey> = (0..payloads.len())
            .map(|i| secret(0x41 + i as u8))
            .collect();
        let hops: Vec<Hop<'_>> = secrets
            .iter()
            .zip(payloads)
            .map(|(key, payload)| Hop {
                key: PublicKey::from_secret_key(SECP256K1, key),
                payload,
            })
            .collect();
        let mut bytes = construct(&secret(3), &hops, payloads_len).unwrap();
        for (index, key) in secrets.iter().enumerate() {
            let packet = Packet::parse(&bytes).unwrap();
            assert_eq!(packet.payloads.len(), payloads_len);
            let layer = peel(&packet, &shared_secret(key, &packet)).unwrap();
            assert_eq!(layer.payload, payloads[index]);
            match layer.next_packet {
                Some(next) => bytes = next,
                None => {
                    assert_eq!(index, secrets.len() - 1, "ended early");
                    return;
                }
            }
        }
        panic!("the last hop was not final");
    }

    #[test]
    fn packets_peel_to_their_payloads() {
        round_trip(&[vec![0x01, 0x00]], 1300);
        round_trip(&[vec![1; 2], vec![2; 300], vec![3; 253], vec![4; 2]], 1300);
        // Exactly full.
        round_trip(&[vec![5; 1300 - 3 - 32]], 1300);
        round_trip(&[vec![6; 1000], vec![7; 2000]], 32768);
        round_trip(&[vec![8; 10]], 100);
    }

    #[test]
    fn any_flipped_bit_fails_the_hmac() {
        let key = secret(0x41);
        let hops = [Hop {
            key: PublicKey::from_secret_key(SECP256K1, &key),
            payload: &[0x01, 0x00],
        }];
        let bytes = construct(&secret(3), &hops, 200).unwrap();
        for index in [34, 100, 233, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[index] ^= 0x10;
            let packet = Packet::parse(&damaged).unwrap();
            assert_eq!(
                peel(&packet, &shared_secret(&key, &packet)),
                Err(LayerError::HmacMismatch)
            );
        }
        let packet = Packet::parse(&bytes).unwrap();
        assert_eq!(
            peel(&packet, &shared_secret(&secret(0x42), &packet)),
            Err(LayerError::HmacMismatch)
        );
    }

    /// Layers with a valid hmac around a bad frame: what a buggy or hostile sender can make.
    #[test]
    fn bad_frames_fail_after_the_hmac() {
        let shared = [7u8; 32];
        let public_key = PublicKey::from_secret_key(SECP256K1, &secret(9));
        let sealed = |plain: &[u8]| {
            let mut payloads = plain.to_vec();
            apply_keystream(&derive_key(RHO, &shared), &mut payloads);
            let hmac = *hmac_sha256(&*derive_key(MU, &shared), &payloads);
            (payloads, hmac)
        };
        let peel_plain = |plain: &[u8]| {
            let (payloads, hmac) = sealed(plain);
            peel(
                &Packet {
                    public_key,
                    payloads: &payloads,
                    hmac,
                },
                &shared,
            )
        };
        let mut plain = vec![0u8; 100];
        assert_eq!(peel_plain(&plain), Err(LayerError::TooShort));
        plain[0] = 1;
        assert_eq!(peel_plain(&plain), Err(LayerError::TooShort));
        plain[0] = 0xfd; // 0xfd 0x00 0x05: a non-minimal 5
        plain[2] = 5;
        assert_eq!(peel_plain(&plain), Err(LayerError::BadLength));
        plain[0] = 100 - 1 - 32 + 1; // one byte too long for the hmac after it
        assert_eq!(peel_plain(&plain), Err(LayerError::Overrun));
        plain[0] = 100 - 1 - 32;
        assert_eq!(peel_plain(&plain).map(|layer| layer.payload.len()), Ok(67));
        plain[0] = 0xff;
        plain[1..9].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(peel_plain(&plain), Err(LayerError::Overrun));
        assert_eq!(peel_plain(&[]), Err(LayerError::BadLength));
    }
}
