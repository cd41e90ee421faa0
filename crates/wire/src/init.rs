//! The `init` message (BOLT 1, type 16).

use crate::codec::put_u16_prefixed;
use crate::{ChainHash, Decode, DecodeError, Encode, Features, NetAddress, Reader};
use crate::{TlvRecord, TlvStream};

/// BOLT 1 `init_tlvs` type 1, `networks`: the chains the sender gossips or opens channels for.
const TLV_NETWORKS: u64 = 1;
/// BOLT 1 `init_tlvs` type 3, `remote_addr`: the receiver's address as the sender sees it.
const TLV_REMOTE_ADDR: u64 = 3;
/// The `init_tlvs` types BOLT 1 defines.
const KNOWN_TLVS: &[u64] = &[TLV_NETWORKS, TLV_REMOTE_ADDR];
/// Size of one `chain_hash` in `networks`: a SHA256d block hash (BOLT 0).
const CHAIN_HASH_LEN: usize = 32;

/// `init`: the first message on every connection, carrying the sender's features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Init {
    /// `globalfeatures`: legacy map, kept because BOLT 1 says to OR it into `features`.
    pub global_features: Features,
    /// `features`.
    pub features: Features,
    /// TLV 1 `networks`; `None` if absent (which is not the same as present and empty).
    pub networks: Option<Vec<ChainHash>>,
    /// TLV 3 `remote_addr`, one BOLT 7 address descriptor.
    pub remote_addr: Option<NetAddress>,
    /// The TLV records other than 1 and 3: unknown odd types, kept so the message re-encodes
    /// exactly. On encoding, `networks` and `remote_addr` win over records of types 1 and 3
    /// here.
    pub unknown_tlvs: TlvStream,
}

impl Init {
    /// The feature map BOLT 1 tells a receiver to act on: `globalfeatures` OR `features`.
    pub fn combined_features(&self) -> Features {
        self.global_features.union(&self.features)
    }
}

impl Encode for Init {
    /// # Panics
    ///
    /// If a feature map is longer than 65535 bytes (impossible for a decoded message, and
    /// [`Features::set`] refuses such bits).
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16_prefixed(out, self.global_features.as_wire(), "init.globalfeatures");
        put_u16_prefixed(out, self.features.as_wire(), "init.features");
        let mut tlvs = self.unknown_tlvs.clone();
        if let Some(networks) = &self.networks {
            tlvs.insert(TlvRecord {
                ty: TLV_NETWORKS,
                value: networks.iter().flat_map(|chain| chain.0).collect(),
            });
        }
        if let Some(address) = &self.remote_addr {
            tlvs.insert(TlvRecord {
                ty: TLV_REMOTE_ADDR,
                value: address.to_bytes(),
            });
        }
        tlvs.encode(out);
    }
}

impl Decode for Init {
    /// Reads the rest of `r`: whatever follows the feature maps is the TLV stream.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] for a short feature map, any TLV stream error under
    /// `init.tlvs`, [`DecodeError::InvalidLength`] for `networks` that is not whole chain
    /// hashes, and any address error for `remote_addr` (including
    /// [`DecodeError::TrailingBytes`] after the descriptor).
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let global_features = Features::from_wire(r.read_u16_prefixed("init.globalfeatures")?);
        let features = Features::from_wire(r.read_u16_prefixed("init.features")?);
        let mut tlvs = TlvStream::decode(r, KNOWN_TLVS, "init.tlvs")?;
        let networks = tlvs
            .remove(TLV_NETWORKS)
            .map(|record| decode_networks(&record.value))
            .transpose()?;
        let remote_addr = tlvs
            .remove(TLV_REMOTE_ADDR)
            .map(|record| decode_remote_addr(&record.value))
            .transpose()?;
        Ok(Init {
            global_features,
            features,
            networks,
            remote_addr,
            unknown_tlvs: tlvs,
        })
    }
}

fn decode_networks(value: &[u8]) -> Result<Vec<ChainHash>, DecodeError> {
    let chains = value.chunks_exact(CHAIN_HASH_LEN);
    if !chains.remainder().is_empty() {
        return Err(DecodeError::InvalidLength {
            field: "init.networks",
        });
    }
    let mut r = Reader::new(value);
    chains.map(|_| ChainHash::decode(&mut r)).collect()
}

fn decode_remote_addr(value: &[u8]) -> Result<NetAddress, DecodeError> {
    let mut r = Reader::new(value);
    let address = NetAddress::decode(&mut r)?;
    r.finish("init.remote_addr")?;
    Ok(address)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn decode(bytes: &[u8]) -> Result<Init, DecodeError> {
        Init::decode(&mut Reader::new(bytes))
    }

    fn full_init() -> Init {
        Init {
            global_features: Features::from_wire(&[0x22, 0x00]),
            features: [0, 9, 13, 45].into_iter().collect(),
            networks: Some(vec![ChainHash::BITCOIN, ChainHash::REGTEST]),
            remote_addr: Some(NetAddress::Ipv4 {
                addr: Ipv4Addr::new(127, 0, 0, 1),
                port: 9735,
            }),
            unknown_tlvs: TlvStream::from_records([TlvRecord {
                ty: 0xc9,
                value: vec![0x2a],
            }]),
        }
    }

    #[test]
    fn full_init_round_trips() {
        let init = full_init();
        let bytes = init.to_bytes();
        assert_eq!(decode(&bytes), Ok(init));
    }

    #[test]
    fn empty_init_is_four_zero_bytes() {
        assert_eq!(Init::default().to_bytes(), [0, 0, 0, 0]);
        assert_eq!(decode(&[0, 0, 0, 0]), Ok(Init::default()));
    }

    #[test]
    fn prefixes_inside_the_feature_maps_are_truncated() {
        let bytes = full_init().to_bytes();
        let fixed_len = 2 + 2 + 2 + full_init().features.as_wire().len();
        for len in 0..fixed_len {
            let expected = if len < 4 {
                "init.globalfeatures"
            } else {
                "init.features"
            };
            assert_eq!(
                decode(&bytes[..len]),
                Err(DecodeError::Truncated { field: expected }),
                "prefix {len}"
            );
        }
    }

    #[test]
    fn every_prefix_fails_or_re_encodes_to_itself() {
        let bytes = full_init().to_bytes();
        for len in 0..bytes.len() {
            if let Ok(init) = decode(&bytes[..len]) {
                assert_eq!(init.to_bytes(), &bytes[..len]);
            }
        }
    }

    #[test]
    fn combined_features_is_the_or_of_both_maps() {
        let init = Init {
            global_features: Features::from_wire(&[0x22, 0x00]),
            features: [0, 9, 45].into_iter().collect(),
            ..Init::default()
        };
        let combined: Vec<usize> = init.combined_features().iter_set_bits().collect();
        assert_eq!(combined, [0, 9, 13, 45]);
    }

    #[test]
    fn padded_feature_maps_round_trip_exactly() {
        let bytes = [0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x02];
        let init = decode(&bytes).unwrap();
        assert_eq!(init.features, [1].into_iter().collect());
        assert!(init.global_features.is_empty());
        assert_eq!(init.to_bytes(), bytes);
    }

    #[test]
    fn networks_must_be_whole_chain_hashes() {
        let mut bytes = vec![0, 0, 0, 0, TLV_NETWORKS as u8, 33];
        bytes.extend([0; 33]);
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::InvalidLength {
                field: "init.networks"
            })
        );
        let empty = decode(&[0, 0, 0, 0, TLV_NETWORKS as u8, 0]).unwrap();
        assert_eq!(empty.networks, Some(vec![]));
        assert_eq!(empty.to_bytes(), [0, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn remote_addr_must_be_exactly_one_descriptor() {
        let ipv4 = [1, 127, 0, 0, 1, 0x26, 0x07];
        let with = |value: &[u8]| {
            let mut bytes = vec![0, 0, 0, 0, TLV_REMOTE_ADDR as u8, value.len() as u8];
            bytes.extend_from_slice(value);
            decode(&bytes)
        };
        assert_eq!(
            with(&ipv4).unwrap().remote_addr.map(|a| a.to_string()),
            Some("127.0.0.1:9735".to_owned())
        );
        assert_eq!(
            with(&[ipv4.as_slice(), &[0]].concat()),
            Err(DecodeError::TrailingBytes {
                field: "init.remote_addr"
            })
        );
        assert_eq!(
            with(&ipv4[..6]),
            Err(DecodeError::Truncated {
                field: "address.port"
            })
        );
        assert_eq!(
            with(&[7, 0, 0]),
            Err(DecodeError::UnknownAddressType { ty: 7 })
        );
    }

    #[test]
    fn typed_fields_win_over_raw_records_of_their_type() {
        let mut init = Init {
            networks: Some(vec![ChainHash::SIGNET]),
            ..Init::default()
        };
        init.unknown_tlvs.insert(TlvRecord {
            ty: TLV_NETWORKS,
            value: vec![1, 2, 3],
        });
        assert_eq!(decode(&init.to_bytes()).unwrap().networks, init.networks);
    }
}
