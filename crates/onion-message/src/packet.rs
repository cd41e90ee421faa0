//! `onion_message_packet` (BOLT 4): the layout of the onion itself and its sizes.
//!
//! ```text
//! [byte: version = 0] [point: public_key] [...*byte: onionmsg_payloads] [32*byte: hmac]
//! ```
//!
//! Unlike a payment onion, the payloads' length is whatever the packet's length leaves
//! (BOLT 4: "the payload length is implied by the total length (minus 66 bytes for the
//! header and trailing bytes)"); a reader takes any length.

use secp256k1::PublicKey;

use crate::codec::POINT_LEN;
use crate::PacketError;

/// `version`, `public_key` and `hmac` around the payloads (LDK: "1 (version) + 33 (pubkey) +
/// 32 (HMAC) = 66").
pub const PACKET_OVERHEAD: usize = 1 + POINT_LEN + HMAC_LEN;

/// The payloads length of an HTLC-sized onion message, so it looks like one (BOLT 4: "SHOULD
/// set `onion_message_packet` `len` to 1366 or 32834").
pub const SMALL_PAYLOADS_LEN: usize = 1300;

/// The payloads length of a large onion message (BOLT 4's 32834-byte packet). Eclair drops
/// onion messages larger than that, so we build nothing larger.
pub const BIG_PAYLOADS_LEN: usize = 32768;

/// The longest packet a Lightning message can carry: 65535 bytes less the 2-byte type, the
/// 33-byte `path_key` and the 2-byte `len`.
pub const MAX_PACKET_LEN: usize = u16::MAX as usize - 2 - POINT_LEN - 2;

/// The only packet version BOLT 4 defines.
const VERSION: u8 = 0;

/// Length of the packet's and each hop's HMAC-SHA256.
pub(crate) const HMAC_LEN: usize = 32;

/// A parsed packet, borrowing its payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Packet<'a> {
    /// The sender's ephemeral key for this hop.
    pub(crate) public_key: PublicKey,
    /// `onionmsg_payloads`, still encrypted.
    pub(crate) payloads: &'a [u8],
    /// The hop's HMAC over `payloads`.
    pub(crate) hmac: [u8; HMAC_LEN],
}

impl<'a> Packet<'a> {
    /// Splits `bytes` into its parts, in CLN's order of checks (`parse_onionpacket`).
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, PacketError> {
        // CLN reads a missing version byte as 0 and then fails on the key.
        let (version, rest) = bytes.split_first().ok_or(PacketError::InvalidKey)?;
        if *version != VERSION {
            return Err(PacketError::InvalidVersion(*version));
        }
        let (key, rest) = rest
            .split_first_chunk::<POINT_LEN>()
            .ok_or(PacketError::InvalidKey)?;
        let public_key = PublicKey::from_slice(key).map_err(|_| PacketError::InvalidKey)?;
        let (payloads, hmac) = rest
            .split_last_chunk::<HMAC_LEN>()
            .ok_or(PacketError::Truncated)?;
        Ok(Self {
            public_key,
            payloads,
            hmac: *hmac,
        })
    }

    /// The packet's bytes.
    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PACKET_OVERHEAD + self.payloads.len());
        out.push(VERSION);
        out.extend_from_slice(&self.public_key.serialize());
        out.extend_from_slice(self.payloads);
        out.extend_from_slice(&self.hmac);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::{SecretKey, SECP256K1};

    #[test]
    fn sizes_are_the_specs() {
        assert_eq!(PACKET_OVERHEAD, 66);
        assert_eq!(SMALL_PAYLOADS_LEN + PACKET_OVERHEAD, 1366);
        assert_eq!(BIG_PAYLOADS_LEN + PACKET_OVERHEAD, 32834);
        assert_eq!(MAX_PACKET_LEN, 65498);
    }

    #[test]
    fn parse_checks_in_clns_order() {
        let key = PublicKey::from_secret_key(SECP256K1, &SecretKey::from_slice(&[3; 32]).unwrap());
        let packet = Packet {
            public_key: key,
            payloads: &[1, 2, 3],
            hmac: [9; 32],
        };
        let bytes = packet.to_bytes();
        assert_eq!(Packet::parse(&bytes), Ok(packet));

        assert_eq!(Packet::parse(&[]), Err(PacketError::InvalidKey));
        let mut version = bytes.clone();
        version[0] = 1;
        assert_eq!(Packet::parse(&version), Err(PacketError::InvalidVersion(1)));
        assert_eq!(Packet::parse(&bytes[..20]), Err(PacketError::InvalidKey));
        let mut bad_key = bytes.clone();
        bad_key[1] = 4;
        assert_eq!(Packet::parse(&bad_key), Err(PacketError::InvalidKey));
        assert_eq!(
            Packet::parse(&bytes[..34 + 31]),
            Err(PacketError::Truncated)
        );
        // No payloads at all still parses; peeling it fails.
        assert_eq!(
            Packet::parse(&bytes[..34 + 32]).map(|p| p.payloads.len()),
            Ok(0)
        );
    }
}
