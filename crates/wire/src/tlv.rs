//! TLV streams (BOLT 1 "Type-Length-Value Format") and truncated integers.
//!
//! A [`TlvStream`] keeps every record it decoded, known or not, in wire order, so re-encoding
//! a decoded stream gives back its exact bytes: unknown odd records (extensions we do not
//! understand, which may be covered by a signature) survive a round trip.

use crate::bigsize::read_bigsize;
use crate::{BigSize, DecodeError, Encode, Reader};

/// One TLV record, with its value left as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TlvRecord {
    /// The record type. BOLT 1: types below 2^16 are the spec's, the rest are custom; even
    /// types must be understood, odd ones may be ignored.
    pub ty: u64,
    /// The record value.
    pub value: Vec<u8>,
}

impl Encode for TlvRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        BigSize(self.ty).encode(out);
        // A `usize` always fits a `u64` on the platforms Rust supports.
        BigSize(self.value.len() as u64).encode(out);
        out.extend_from_slice(&self.value);
    }
}

/// A TLV stream: records with strictly increasing types.
///
/// Decoding enforces BOLT 1's reader rules; every way of building one keeps the records sorted
/// and unique, so [`Encode`] always writes a valid stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlvStream {
    records: Vec<TlvRecord>,
}

impl TlvStream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// A stream holding `records`, sorted by type. A later record replaces an earlier one of
    /// the same type.
    pub fn from_records(records: impl IntoIterator<Item = TlvRecord>) -> Self {
        let mut stream = Self::new();
        for record in records {
            stream.insert(record);
        }
        stream
    }

    /// Decodes the rest of `r` as one TLV stream.
    ///
    /// `known` lists the types this stream's namespace defines. An unknown even type is an
    /// error; unknown odd types are kept, like known ones. Checking that a known record's
    /// value is well formed is the caller's job, since only it knows the record's layout.
    ///
    /// # Errors
    ///
    /// Naming `field` (the stream):
    /// - [`DecodeError::NonCanonicalBigSize`]: a type or length is not minimally encoded;
    /// - [`DecodeError::TlvNotIncreasing`]: a type is not above the previous one;
    /// - [`DecodeError::Truncated`]: a type, length or value runs past the end;
    /// - [`DecodeError::UnknownEvenTlv`]: an even type not in `known`.
    pub fn decode(
        r: &mut Reader<'_>,
        known: &[u64],
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let mut records: Vec<TlvRecord> = Vec::new();
        // BOLT 1: "if zero bytes remain before parsing a `type`: MUST stop parsing".
        while !r.is_empty() {
            let ty = read_bigsize(r, field)?;
            if let Some(previous) = records.last().map(|record| record.ty) {
                if ty <= previous {
                    return Err(DecodeError::TlvNotIncreasing {
                        field,
                        previous,
                        ty,
                    });
                }
            }
            // Past the type, running out of bytes is truncation, not the end of the stream.
            let len = read_bigsize(r, field).map_err(|error| match error {
                DecodeError::Empty { field } => DecodeError::Truncated { field },
                other => other,
            })?;
            let len = usize::try_from(len).map_err(|_| DecodeError::Truncated { field })?;
            let value = r.read_bytes(len, field)?;
            if ty % 2 == 0 && !known.contains(&ty) {
                return Err(DecodeError::UnknownEvenTlv { field, ty });
            }
            records.push(TlvRecord {
                ty,
                value: value.to_vec(),
            });
        }
        Ok(Self { records })
    }

    /// The records, in increasing type order.
    pub fn records(&self) -> &[TlvRecord] {
        &self.records
    }

    /// Consumes the stream, returning its records in increasing type order.
    pub fn into_records(self) -> Vec<TlvRecord> {
        self.records
    }

    /// The value of the record of type `ty`, if present.
    pub fn get(&self, ty: u64) -> Option<&[u8]> {
        self.position(ty)
            .ok()
            .and_then(|i| self.records.get(i))
            .map(|record| record.value.as_slice())
    }

    /// Adds `record` in type order, returning the record of the same type it replaced.
    pub fn insert(&mut self, record: TlvRecord) -> Option<TlvRecord> {
        match self.position(record.ty) {
            Ok(i) => self
                .records
                .get_mut(i)
                .map(|slot| std::mem::replace(slot, record)),
            Err(i) => {
                self.records.insert(i, record);
                None
            }
        }
    }

    /// Removes and returns the record of type `ty`, if present.
    pub fn remove(&mut self, ty: u64) -> Option<TlvRecord> {
        self.position(ty).ok().map(|i| self.records.remove(i))
    }

    /// Whether the stream has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// How many records the stream has.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    fn position(&self, ty: u64) -> Result<usize, usize> {
        self.records.binary_search_by_key(&ty, |record| record.ty)
    }
}

impl Encode for TlvStream {
    fn encode(&self, out: &mut Vec<u8>) {
        for record in &self.records {
            record.encode(out);
        }
    }
}

/// Appends `value` as a `tu16`: big-endian with leading zero bytes omitted (0 is no bytes).
pub fn encode_tu16(value: u16, out: &mut Vec<u8>) {
    put_truncated(&value.to_be_bytes(), out);
}

/// Appends `value` as a `tu32`: big-endian with leading zero bytes omitted (0 is no bytes).
pub fn encode_tu32(value: u32, out: &mut Vec<u8>) {
    put_truncated(&value.to_be_bytes(), out);
}

/// Appends `value` as a `tu64`: big-endian with leading zero bytes omitted (0 is no bytes).
pub fn encode_tu64(value: u64, out: &mut Vec<u8>) {
    put_truncated(&value.to_be_bytes(), out);
}

/// Decodes a `tu16` that fills `bytes` (a truncated integer is always a TLV value's last
/// field, so its length is what is left of the value).
///
/// # Errors
///
/// [`DecodeError::InvalidLength`] if `bytes` is longer than 2, [`DecodeError::NonMinimalInteger`]
/// if it starts with a zero byte (BOLT 1: truncated integers "MUST omit leading zeros").
pub fn decode_tu16(bytes: &[u8], field: &'static str) -> Result<u16, DecodeError> {
    read_truncated(bytes, field).map(u16::from_be_bytes)
}

/// Decodes a `tu32` that fills `bytes`.
///
/// # Errors
///
/// As [`decode_tu16`], with a limit of 4 bytes.
pub fn decode_tu32(bytes: &[u8], field: &'static str) -> Result<u32, DecodeError> {
    read_truncated(bytes, field).map(u32::from_be_bytes)
}

/// Decodes a `tu64` that fills `bytes`.
///
/// # Errors
///
/// As [`decode_tu16`], with a limit of 8 bytes.
pub fn decode_tu64(bytes: &[u8], field: &'static str) -> Result<u64, DecodeError> {
    read_truncated(bytes, field).map(u64::from_be_bytes)
}

fn put_truncated(be_bytes: &[u8], out: &mut Vec<u8>) {
    out.extend(be_bytes.iter().skip_while(|&&byte| byte == 0));
}

/// Left-pads a minimal big-endian integer of at most `N` bytes to `N` bytes.
fn read_truncated<const N: usize>(
    bytes: &[u8],
    field: &'static str,
) -> Result<[u8; N], DecodeError> {
    if bytes.len() > N {
        return Err(DecodeError::InvalidLength { field });
    }
    if bytes.first() == Some(&0) {
        return Err(DecodeError::NonMinimalInteger { field });
    }
    let mut padded = [0; N];
    for (slot, byte) in padded.iter_mut().rev().zip(bytes.iter().rev()) {
        *slot = *byte;
    }
    Ok(padded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ty: u64, value: &[u8]) -> TlvRecord {
        TlvRecord {
            ty,
            value: value.to_vec(),
        }
    }

    fn decode(bytes: &[u8], known: &[u64]) -> Result<TlvStream, DecodeError> {
        TlvStream::decode(&mut Reader::new(bytes), known, "s")
    }

    #[test]
    fn decoded_streams_re_encode_exactly() {
        let bytes = [
            0x01, 0x00, 0x03, 0x02, 0xaa, 0xbb, 0xfd, 0x01, 0x01, 0x01, 0x2a,
        ];
        let stream = decode(&bytes, &[]).unwrap();
        assert_eq!(
            stream.records(),
            [
                record(1, &[]),
                record(3, &[0xaa, 0xbb]),
                record(257, &[0x2a])
            ]
        );
        assert_eq!(stream.to_bytes(), bytes);
    }

    #[test]
    fn known_even_types_are_kept_and_unknown_even_types_fail() {
        let bytes = [0x02, 0x01, 0x07];
        assert_eq!(decode(&bytes, &[2]).unwrap().get(2), Some(&[7][..]));
        assert_eq!(
            decode(&bytes, &[4]),
            Err(DecodeError::UnknownEvenTlv { field: "s", ty: 2 })
        );
    }

    #[test]
    fn every_proper_prefix_of_a_record_fails() {
        let bytes = record(0x1_0001, &[1, 2, 3]).to_bytes();
        for len in 1..bytes.len() {
            assert_eq!(
                decode(&bytes[..len], &[]),
                Err(DecodeError::Truncated { field: "s" }),
                "prefix of length {len}"
            );
        }
        assert_eq!(decode(&[], &[]), Ok(TlvStream::new()));
    }

    #[test]
    fn huge_length_fails_without_allocating() {
        let bytes = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            decode(&bytes, &[]),
            Err(DecodeError::Truncated { field: "s" })
        );
    }

    #[test]
    fn building_a_stream_keeps_types_sorted_and_unique() {
        let mut stream =
            TlvStream::from_records([record(5, &[1]), record(1, &[]), record(5, &[2])]);
        assert_eq!(stream.records(), [record(1, &[]), record(5, &[2])]);
        assert_eq!(stream.insert(record(3, &[3])), None);
        assert_eq!(stream.insert(record(3, &[4])), Some(record(3, &[3])));
        assert_eq!(stream.remove(1), Some(record(1, &[])));
        assert_eq!(stream.remove(1), None);
        assert_eq!(stream.len(), 2);
        assert_eq!(stream.to_bytes(), [0x03, 0x01, 0x04, 0x05, 0x01, 0x02]);
        assert_eq!(stream.into_records().len(), 2);
    }

    #[test]
    fn truncated_integers_round_trip_at_every_width() {
        for shift in 0..64 {
            for value in [1u64 << shift, (1u64 << shift) - 1, u64::MAX >> shift] {
                let mut out = Vec::new();
                encode_tu64(value, &mut out);
                let significant_bytes = 8 - value.leading_zeros() as usize / 8;
                assert_eq!(out.len(), significant_bytes, "{value:#x}");
                assert_eq!(decode_tu64(&out, "v"), Ok(value));
            }
        }
        for value in [0, 1, 0xff, 0x100, u32::MAX] {
            let mut out = Vec::new();
            encode_tu32(value, &mut out);
            assert_eq!(decode_tu32(&out, "v"), Ok(value));
        }
        for value in [0, 1, 0xff, 0x100, u16::MAX] {
            let mut out = Vec::new();
            encode_tu16(value, &mut out);
            assert_eq!(decode_tu16(&out, "v"), Ok(value));
        }
    }

    #[test]
    fn truncated_integers_reject_leading_zeros_and_excess_length() {
        assert_eq!(
            decode_tu16(&[0], "v"),
            Err(DecodeError::NonMinimalInteger { field: "v" })
        );
        assert_eq!(
            decode_tu32(&[0, 1], "v"),
            Err(DecodeError::NonMinimalInteger { field: "v" })
        );
        assert_eq!(
            decode_tu16(&[1, 0, 0], "v"),
            Err(DecodeError::InvalidLength { field: "v" })
        );
        assert_eq!(
            decode_tu32(&[1; 5], "v"),
            Err(DecodeError::InvalidLength { field: "v" })
        );
        assert_eq!(
            decode_tu64(&[1; 9], "v"),
            Err(DecodeError::InvalidLength { field: "v" })
        );
        assert_eq!(decode_tu64(&[], "v"), Ok(0));
    }
}
