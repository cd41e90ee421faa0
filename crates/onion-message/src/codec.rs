//! Reading and writing the field types this crate adds to `wire`'s: `point` (BOLT 1, a
//! 33-byte compressed secp256k1 key) and `short_channel_id` (8 bytes), through `wire`'s
//! bounds-checked [`Reader`].

use secp256k1::PublicKey;
use wire::{DecodeError, Reader};

use crate::ShortChannelId;

/// Length of a BOLT 1 `point`.
pub(crate) const POINT_LEN: usize = 33;

/// Reads a 33-byte compressed point that is on the curve.
pub(crate) fn read_point(
    r: &mut Reader<'_>,
    field: &'static str,
) -> Result<PublicKey, DecodeError> {
    let bytes = r.read_array::<POINT_LEN>(field)?;
    point_from_bytes(&bytes, field)
}

/// A TLV value that must be exactly one point.
pub(crate) fn point_value(value: &[u8], field: &'static str) -> Result<PublicKey, DecodeError> {
    let bytes: [u8; POINT_LEN] = value
        .try_into()
        .map_err(|_| DecodeError::InvalidLength { field })?;
    point_from_bytes(&bytes, field)
}

/// A TLV value that must be exactly one `short_channel_id`.
pub(crate) fn scid_value(value: &[u8], field: &'static str) -> Result<ShortChannelId, DecodeError> {
    let bytes: [u8; 8] = value
        .try_into()
        .map_err(|_| DecodeError::InvalidLength { field })?;
    Ok(ShortChannelId(u64::from_be_bytes(bytes)))
}

fn point_from_bytes(
    bytes: &[u8; POINT_LEN],
    field: &'static str,
) -> Result<PublicKey, DecodeError> {
    // Only the compressed form: `from_slice` would also take 65-byte keys, but never sees one
    // here, and a 33-byte slice must start with 02 or 03.
    PublicKey::from_slice(bytes).map_err(|_| DecodeError::InvalidValue { field })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_must_be_compressed_and_on_the_curve() {
        let good =
            hex::decode("02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619")
                .unwrap();
        assert!(point_value(&good, "p").is_ok());
        let mut bad_prefix = good.clone();
        bad_prefix[0] = 0x04;
        assert_eq!(
            point_value(&bad_prefix, "p"),
            Err(DecodeError::InvalidValue { field: "p" })
        );
        assert_eq!(
            point_value(&good[..32], "p"),
            Err(DecodeError::InvalidLength { field: "p" })
        );
        // x = 5 is not on secp256k1 (5^3 + 7 = 132 is not a square mod p).
        let mut off_curve = [0u8; 33];
        off_curve[0] = 2;
        off_curve[32] = 5;
        assert_eq!(
            point_value(&off_curve, "p"),
            Err(DecodeError::InvalidValue { field: "p" })
        );
        assert_eq!(
            read_point(&mut Reader::new(&good[..20]), "p"),
            Err(DecodeError::Truncated { field: "p" })
        );
    }

    #[test]
    fn scids_are_eight_bytes() {
        assert_eq!(
            scid_value(&[0, 0, 0, 0, 0, 0, 6, 0xc1], "s"),
            Ok(ShortChannelId(0x6c1))
        );
        assert_eq!(
            scid_value(&[0; 7], "s"),
            Err(DecodeError::InvalidLength { field: "s" })
        );
    }
}
