//! Chain hashes, as `init`'s `networks` TLV carries them.

use std::fmt;

use crate::{Decode, DecodeError, Encode, Reader};

/// A chain's genesis block hash in the byte order Lightning puts on the wire (BOLT 0
/// `chain_hash`): the raw SHA256d output, i.e. the reverse of the hex that block explorers
/// and `bitcoin-cli` display.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// Bitcoin mainnet; genesis `000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f`.
    pub const BITCOIN: ChainHash =
        from_hex("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000");
    /// Bitcoin testnet3; genesis `000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943`.
    pub const TESTNET: ChainHash =
        from_hex("43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000");
    /// Bitcoin testnet4 (BIP 94); genesis
    /// `00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043`.
    pub const TESTNET4: ChainHash =
        from_hex("43f08bdab050e35b567c864b91f47f50ae725ae2de53bcfbbaf284da00000000");
    /// Bitcoin's default signet (BIP 325); genesis
    /// `00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6`.
    pub const SIGNET: ChainHash =
        from_hex("f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000");
    /// Bitcoin Core's regtest; genesis
    /// `0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206`.
    pub const REGTEST: ChainHash =
        from_hex("06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f");

    /// The chain for a network name as Core Lightning and `bitcoind` spell it: `bitcoin`,
    /// `testnet`, `testnet4`, `signet` or `regtest`.
    pub fn for_network(name: &str) -> Option<ChainHash> {
        match name {
            "bitcoin" => Some(Self::BITCOIN),
            "testnet" => Some(Self::TESTNET),
            "testnet4" => Some(Self::TESTNET4),
            "signet" => Some(Self::SIGNET),
            "regtest" => Some(Self::REGTEST),
            _ => None,
        }
    }
}

impl fmt::Debug for ChainHash {
    /// Hex in wire order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainHash(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

impl Encode for ChainHash {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for ChainHash {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_array("chain_hash").map(ChainHash)
    }
}

/// Parses 64 hex digits at compile time; a bad digit fails the build, not the node.
const fn from_hex(hex: &str) -> ChainHash {
    const fn nibble(digit: u8) -> u8 {
        match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => panic!("chain hash constants are lower-case hex"),
        }
    }
    let digits = hex.as_bytes();
    assert!(digits.len() == 64, "a chain hash is 64 hex digits");
    let mut bytes = [0; 32];
    let mut i = 0;
    while i < 32 {
        bytes[i] = (nibble(digits[2 * i]) << 4) | nibble(digits[2 * i + 1]);
        i += 1;
    }
    ChainHash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Display-order genesis hashes, as `bitcoin-cli getblockhash 0` prints them.
    const GENESIS_DISPLAY_ORDER: [(&str, &str); 5] = [
        (
            "bitcoin",
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        ),
        (
            "testnet",
            "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
        ),
        (
            "testnet4",
            "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
        ),
        (
            "signet",
            "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
        ),
        (
            "regtest",
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
        ),
    ];

    #[test]
    fn wire_order_is_the_reverse_of_display_order() {
        for (network, display) in GENESIS_DISPLAY_ORDER {
            let mut wire = from_hex(display).0;
            wire.reverse();
            assert_eq!(
                ChainHash::for_network(network),
                Some(ChainHash(wire)),
                "{network}"
            );
        }
        assert_eq!(ChainHash::for_network("mainnet"), None);
    }

    #[test]
    fn mainnet_matches_bolt0() {
        // BOLT 0 quotes the mainnet chain_hash bytes directly.
        assert_eq!(
            format!("{:?}", ChainHash::BITCOIN),
            "ChainHash(6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000)"
        );
    }

    #[test]
    fn round_trips_and_rejects_short_input() {
        let bytes = ChainHash::SIGNET.to_bytes();
        assert_eq!(
            ChainHash::decode(&mut Reader::new(&bytes)),
            Ok(ChainHash::SIGNET)
        );
        assert_eq!(
            ChainHash::decode(&mut Reader::new(&bytes[..31])),
            Err(DecodeError::Truncated {
                field: "chain_hash"
            })
        );
    }
}
