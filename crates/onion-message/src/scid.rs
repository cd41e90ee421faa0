//! `short_channel_id` (BOLT 7): a channel's funding output as block height, transaction index
//! and output index, packed into 8 bytes. Onion messages use it in two places: a blinded
//! path's `sciddir_or_pubkey` introduction node and an `encrypted_data_tlv`'s next hop.

use std::fmt;
use std::str::FromStr;

/// A BOLT 7 `short_channel_id`: 3 bytes of block height, 3 of transaction index and 2 of
/// output index, big-endian.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShortChannelId(pub u64);

impl ShortChannelId {
    /// The id of the output `output` of transaction `tx` in block `block`, or `None` if a part
    /// does not fit its field (block and transaction index have 24 bits each).
    pub fn new(block: u32, tx: u32, output: u16) -> Option<Self> {
        if block >= 1 << 24 || tx >= 1 << 24 {
            return None;
        }
        Some(Self(
            u64::from(block) << 40 | u64::from(tx) << 16 | u64::from(output),
        ))
    }

    /// The block height of the funding transaction.
    pub fn block(self) -> u32 {
        // 24 bits always fit.
        (self.0 >> 40) as u32
    }

    /// The funding transaction's index in its block.
    pub fn tx_index(self) -> u32 {
        ((self.0 >> 16) & 0xff_ffff) as u32
    }

    /// The funding output's index in its transaction.
    pub fn output_index(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The 8-byte wire form.
    pub fn to_be_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

/// CLN's and BOLT 7's human form, `BLOCKxTXxOUTPUT` (e.g. `0x0x1729`).
impl fmt::Display for ShortChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{}x{}",
            self.block(),
            self.tx_index(),
            self.output_index()
        )
    }
}

/// A text that is not `BLOCKxTXxOUTPUT` with each part in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseShortChannelIdError;

impl fmt::Display for ParseShortChannelIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("should be a short_channel_id of form NxNxN")
    }
}

impl std::error::Error for ParseShortChannelIdError {}

impl FromStr for ShortChannelId {
    type Err = ParseShortChannelIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.split('x');
        let (Some(block), Some(tx), Some(output), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseShortChannelIdError);
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !(digits(block) && digits(tx) && digits(output)) {
            return Err(ParseShortChannelIdError);
        }
        let block = block.parse().map_err(|_| ParseShortChannelIdError)?;
        let tx = tx.parse().map_err(|_| ParseShortChannelIdError)?;
        let output = output.parse().map_err(|_| ParseShortChannelIdError)?;
        Self::new(block, tx, output).ok_or(ParseShortChannelIdError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_text_round_trip() {
        // The route-blinding vector's `0x0x1729`, and the widest values.
        let scid: ShortChannelId = "0x0x1729".parse().unwrap();
        assert_eq!(scid.0, 0x6c1);
        assert_eq!(scid.to_string(), "0x0x1729");
        let max = ShortChannelId::new(0xff_ffff, 0xff_ffff, 0xffff).unwrap();
        assert_eq!(max.0, u64::MAX);
        assert_eq!(max.to_string().parse(), Ok(max));
        assert_eq!(ShortChannelId(0x0102_0304_0506_0708).block(), 0x010203);
        assert_eq!(ShortChannelId(0x0102_0304_0506_0708).tx_index(), 0x040506);
        assert_eq!(ShortChannelId(0x0102_0304_0506_0708).output_index(), 0x0708);
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in [
            "",
            "1x2",
            "1x2x3x4",
            "1xx3",
            "ax2x3",
            "+1x2x3",
            "16777216x0x0",
            "0x16777216x0",
            "0x0x65536",
            "1X2X3",
        ] {
            assert_eq!(
                text.parse::<ShortChannelId>(),
                Err(ParseShortChannelIdError),
                "{text}"
            );
        }
        assert_eq!(ShortChannelId::new(1 << 24, 0, 0), None);
    }
}
