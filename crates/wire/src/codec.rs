//! The encoding traits and the bounds-checked cursor every decoder reads through.
//!
//! All Lightning integers are unsigned big-endian (BOLT 1). Every read names its field, so a
//! short input reports e.g. `truncated init.features` rather than a bare "unexpected EOF".
//! A read checks that the bytes are there before it copies or allocates anything.

use crate::DecodeError;

/// A value with a wire encoding. Encoding cannot fail: every value this crate can hold has
/// one (see each type's `# Panics` section for the few lengths that must fit a `u16`).
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// The encoding of `self` as a fresh buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// A value that can be read from untrusted bytes.
pub trait Decode: Sized {
    /// Reads one value from `r`, leaving any bytes after it unread.
    ///
    /// # Errors
    ///
    /// Returns a [`DecodeError`] naming the field that is short or invalid.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// A cursor over a byte slice. It never panics and never reads past the end: each read either
/// returns the bytes it asked for or a [`DecodeError`] naming `field`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, positioned at the start.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads the next `n` bytes.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than `n` bytes are left.
    pub fn read_bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let (bytes, rest) = self
            .rest
            .split_at_checked(n)
            .ok_or(DecodeError::Truncated { field })?;
        self.rest = rest;
        Ok(bytes)
    }

    /// Reads the next `N` bytes into an array.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than `N` bytes are left.
    pub fn read_array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let (bytes, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated { field })?;
        self.rest = rest;
        Ok(*bytes)
    }

    /// Reads a `u8`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if no byte is left.
    pub fn read_u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.read_array::<1>(field).map(u8::from_be_bytes)
    }

    /// Reads a big-endian `u16`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than 2 bytes are left.
    pub fn read_u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.read_array(field).map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than 4 bytes are left.
    pub fn read_u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.read_array(field).map(u32::from_be_bytes)
    }

    /// Reads a big-endian `u64`.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than 8 bytes are left.
    pub fn read_u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        self.read_array(field).map(u64::from_be_bytes)
    }

    /// Reads a `u16` length followed by that many bytes (BOLT 1's `[u16:len][len*byte:data]`).
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if the length or the bytes it announces are not all there.
    pub fn read_u16_prefixed(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.read_u16(field)?;
        self.read_bytes(usize::from(len), field)
    }

    /// Splits off the next `len` bytes as their own reader, for a length-prefixed field whose
    /// contents must not run into what follows.
    ///
    /// # Errors
    ///
    /// [`DecodeError::Truncated`] if fewer than `len` bytes are left.
    pub fn sub(&mut self, len: usize, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        self.read_bytes(len, field).map(Reader::new)
    }

    /// Reads everything that is left (possibly nothing).
    pub fn read_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// Checks that every byte has been read.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TrailingBytes`] if any are left.
    pub fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { field })
        }
    }
}

/// Appends `bytes` with a `u16` length prefix.
///
/// # Panics
///
/// If `bytes` is longer than `u16::MAX`. Decoded values always fit (a Lightning message is at
/// most 65535 bytes), so this only fires on a value the caller built too large.
pub(crate) fn put_u16_prefixed(out: &mut Vec<u8>, bytes: &[u8], field: &'static str) {
    let Ok(len) = u16::try_from(bytes.len()) else {
        panic!(
            "{field} is {} bytes; its u16 length prefix allows at most 65535",
            bytes.len()
        );
    };
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_u8("a"), Ok(0x01));
        assert_eq!(r.read_u16("b"), Ok(0x0203));
        assert_eq!(r.read_u32("c"), Ok(0x0405_0607));
        assert_eq!(r.read_u64("d"), Ok(0x0809_0a0b_0c0d_0e0f));
        assert!(r.is_empty());
        assert_eq!(r.read_u8("e"), Err(DecodeError::Truncated { field: "e" }));
    }

    #[test]
    fn short_reads_fail_without_consuming() {
        let bytes = [1, 2, 3];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.read_u32("x"), Err(DecodeError::Truncated { field: "x" }));
        assert_eq!(
            r.read_bytes(4, "y"),
            Err(DecodeError::Truncated { field: "y" })
        );
        assert_eq!(
            r.read_array::<4>("z"),
            Err(DecodeError::Truncated { field: "z" })
        );
        assert_eq!(r.remaining(), 3);
        assert_eq!(
            r.read_bytes(usize::MAX, "huge"),
            Err(DecodeError::Truncated { field: "huge" })
        );
        assert_eq!(r.read_rest(), &[1, 2, 3]);
        assert_eq!(r.read_rest(), &[] as &[u8]);
    }

    #[test]
    fn sub_reader_is_bounded() {
        let bytes = [1, 2, 3, 4];
        let mut r = Reader::new(&bytes);
        let mut sub = r.sub(2, "s").unwrap();
        assert_eq!(sub.read_u16("v"), Ok(0x0102));
        assert_eq!(sub.read_u8("w"), Err(DecodeError::Truncated { field: "w" }));
        assert_eq!(r.remaining(), 2);
        assert_eq!(
            r.finish("r"),
            Err(DecodeError::TrailingBytes { field: "r" })
        );
        assert!(r.sub(3, "t").is_err());
    }

    #[test]
    fn u16_prefixed_round_trip() {
        let mut out = Vec::new();
        put_u16_prefixed(&mut out, b"abc", "data");
        assert_eq!(out, [0, 3, b'a', b'b', b'c']);
        assert_eq!(Reader::new(&out).read_u16_prefixed("data"), Ok(&b"abc"[..]));
        assert_eq!(
            Reader::new(&out[..4]).read_u16_prefixed("data"),
            Err(DecodeError::Truncated { field: "data" })
        );
    }

    #[test]
    #[should_panic(expected = "at most 65535")]
    fn oversized_u16_prefixed_field_panics() {
        put_u16_prefixed(&mut Vec::new(), &[0; 65536], "data");
    }
}
