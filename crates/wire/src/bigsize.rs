//! BigSize (BOLT 1 "Appendix A"): Bitcoin's CompactSize with big-endian integers. Decoding
//! rejects every non-minimal form, so each value has exactly one encoding.

use crate::{Decode, DecodeError, Encode, Reader};

/// BOLT 1: prefix of a 3-byte BigSize (`0xfd` + `u16`); values below it are a single byte.
const PREFIX_U16: u8 = 0xfd;
/// BOLT 1: prefix of a 5-byte BigSize (`0xfe` + `u32`).
const PREFIX_U32: u8 = 0xfe;
/// BOLT 1: prefix of a 9-byte BigSize (`0xff` + `u64`).
const PREFIX_U64: u8 = 0xff;

/// A BOLT 1 BigSize integer: 1, 3, 5 or 9 bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BigSize(pub u64);

impl BigSize {
    /// How many bytes the minimal encoding of this value takes.
    pub const fn encoded_len(self) -> usize {
        match self.0 {
            0..0xfd => 1,
            0xfd..0x1_0000 => 3,
            0x1_0000..0x1_0000_0000 => 5,
            _ => 9,
        }
    }
}

impl Encode for BigSize {
    fn encode(&self, out: &mut Vec<u8>) {
        let x = self.0;
        match (u8::try_from(x), u16::try_from(x), u32::try_from(x)) {
            (Ok(byte), _, _) if byte < PREFIX_U16 => out.push(byte),
            (_, Ok(v), _) => {
                out.push(PREFIX_U16);
                out.extend_from_slice(&v.to_be_bytes());
            }
            (_, _, Ok(v)) => {
                out.push(PREFIX_U32);
                out.extend_from_slice(&v.to_be_bytes());
            }
            _ => {
                out.push(PREFIX_U64);
                out.extend_from_slice(&x.to_be_bytes());
            }
        }
    }
}

impl Decode for BigSize {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        read_bigsize(r, "bigsize").map(BigSize)
    }
}

/// Reads a minimally encoded BigSize, naming `field` in errors.
///
/// Empty input is [`DecodeError::Empty`] (a TLV stream may legitimately end there); input that
/// stops inside the integer is [`DecodeError::Truncated`].
pub(crate) fn read_bigsize(r: &mut Reader<'_>, field: &'static str) -> Result<u64, DecodeError> {
    if r.is_empty() {
        return Err(DecodeError::Empty { field });
    }
    let (value, minimum) = match r.read_u8(field)? {
        PREFIX_U16 => (u64::from(r.read_u16(field)?), 0xfd),
        PREFIX_U32 => (u64::from(r.read_u32(field)?), 0x1_0000),
        PREFIX_U64 => (r.read_u64(field)?, 0x1_0000_0000),
        small => return Ok(u64::from(small)),
    };
    if value < minimum {
        return Err(DecodeError::NonCanonicalBigSize { field });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<u64, DecodeError> {
        let mut r = Reader::new(bytes);
        let value = BigSize::decode(&mut r)?.0;
        assert!(r.is_empty(), "{bytes:02x?} left bytes unread");
        Ok(value)
    }

    /// Every width boundary, both directions (rust-bitcoin's compact-size table, in BigSize).
    #[test]
    fn boundaries_round_trip() {
        let cases: [(u64, &[u8]); 9] = [
            (0, &[0x00]),
            (0xfc, &[0xfc]),
            (0xfd, &[0xfd, 0x00, 0xfd]),
            (0xffff, &[0xfd, 0xff, 0xff]),
            (0x1_0000, &[0xfe, 0x00, 0x01, 0x00, 0x00]),
            (0xffff_ffff, &[0xfe, 0xff, 0xff, 0xff, 0xff]),
            (0x1_0000_0000, &[0xff, 0, 0, 0, 1, 0, 0, 0, 0]),
            (
                u64::MAX - 1,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe],
            ),
            (u64::MAX, &[0xff; 9]),
        ];
        for (value, bytes) in cases {
            assert_eq!(BigSize(value).to_bytes(), bytes, "encode {value:#x}");
            assert_eq!(BigSize(value).encoded_len(), bytes.len(), "len {value:#x}");
            assert_eq!(decode(bytes), Ok(value), "decode {value:#x}");
        }
    }

    /// The largest value of each narrower width, re-encoded one width up, is rejected.
    #[test]
    fn every_non_minimal_width_is_rejected() {
        let non_canonical: [&[u8]; 6] = [
            &[0xfd, 0x00, 0x00],
            &[0xfd, 0x00, 0xfc],
            &[0xfe, 0x00, 0x00, 0xff, 0xff],
            &[0xfe, 0x00, 0x00, 0x00, 0xfc],
            &[0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
            &[0xff, 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        for bytes in non_canonical {
            assert_eq!(
                decode(bytes),
                Err(DecodeError::NonCanonicalBigSize { field: "bigsize" }),
                "{bytes:02x?}"
            );
        }
    }

    #[test]
    fn every_prefix_of_every_width_is_truncated() {
        for value in [0xfd, 0x1_0000, 0x1_0000_0000] {
            let bytes = BigSize(value).to_bytes();
            for len in 1..bytes.len() {
                assert_eq!(
                    decode(&bytes[..len]),
                    Err(DecodeError::Truncated { field: "bigsize" })
                );
            }
        }
        assert_eq!(decode(&[]), Err(DecodeError::Empty { field: "bigsize" }));
    }
}
