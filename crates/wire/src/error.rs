//! The one error type of this crate. Every variant is the peer's fault: bytes that do not
//! decode. What to do about it (send a `warning`, close the connection) is the peer layer's call.

use std::fmt;

/// Why bytes did not decode. Each variant names the field (or TLV stream) it was reading, as a
/// dotted path such as `init.features` or `init.tlvs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside the field.
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// There were no bytes at all where a BigSize had to start (BOLT 1 Appendix A's "EOF",
    /// as opposed to "unexpected EOF" part way through).
    Empty {
        /// The field being read.
        field: &'static str,
    },
    /// A BigSize used more bytes than its value needs (BOLT 1: "MUST minimally encode").
    NonCanonicalBigSize {
        /// The field being read.
        field: &'static str,
    },
    /// A truncated integer (`tu16`/`tu32`/`tu64`) had a leading zero byte.
    NonMinimalInteger {
        /// The field being read.
        field: &'static str,
    },
    /// A field's length is not one its type allows (too long for a truncated integer, not
    /// the fixed size of a TLV value, `networks` not a multiple of 32, ...).
    InvalidLength {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes were left over after a field that must fill its container exactly.
    TrailingBytes {
        /// The field being read.
        field: &'static str,
    },
    /// A field's value is outside what the spec allows (a hostname that is not ASCII, a
    /// point that is not on the curve, ...).
    InvalidValue {
        /// The field being read.
        field: &'static str,
    },
    /// A TLV record's type was not greater than the previous record's (BOLT 1: "MUST fail to
    /// parse" unless types are strictly increasing; this includes duplicates).
    TlvNotIncreasing {
        /// The TLV stream being read.
        field: &'static str,
        /// The previous record's type.
        previous: u64,
        /// The offending record's type.
        ty: u64,
    },
    /// A TLV record had an even type this stream does not define (BOLT 1: "it's ok to be
    /// odd", so unknown odd types are kept instead).
    UnknownEvenTlv {
        /// The TLV stream being read.
        field: &'static str,
        /// The record's type.
        ty: u64,
    },
    /// A BOLT 7 address descriptor had a type this crate does not know.
    UnknownAddressType {
        /// The descriptor's type byte.
        ty: u8,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { field } => write!(f, "truncated {field}"),
            Self::Empty { field } => write!(f, "missing {field}"),
            Self::NonCanonicalBigSize { field } => write!(f, "non-canonical bigsize in {field}"),
            Self::NonMinimalInteger { field } => write!(f, "non-minimal integer in {field}"),
            Self::InvalidLength { field } => write!(f, "invalid {field} length"),
            Self::TrailingBytes { field } => write!(f, "trailing bytes after {field}"),
            Self::InvalidValue { field } => write!(f, "invalid {field}"),
            Self::TlvNotIncreasing {
                field,
                previous,
                ty,
            } => write!(
                f,
                "tlv types not strictly increasing in {field}: {ty} after {previous}"
            ),
            Self::UnknownEvenTlv { field, ty } => {
                write!(f, "unknown even tlv type {ty} in {field}")
            }
            Self::UnknownAddressType { ty } => write!(f, "unknown address descriptor type {ty}"),
        }
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod tests {
    use super::DecodeError;

    #[test]
    fn messages_are_lower_case_and_name_the_field() {
        let cases = [
            (
                DecodeError::Truncated {
                    field: "init.features",
                },
                "truncated init.features",
            ),
            (DecodeError::Empty { field: "bigsize" }, "missing bigsize"),
            (
                DecodeError::NonCanonicalBigSize { field: "bigsize" },
                "non-canonical bigsize in bigsize",
            ),
            (
                DecodeError::InvalidLength {
                    field: "init.networks",
                },
                "invalid init.networks length",
            ),
            (
                DecodeError::TlvNotIncreasing {
                    field: "init.tlvs",
                    previous: 201,
                    ty: 201,
                },
                "tlv types not strictly increasing in init.tlvs: 201 after 201",
            ),
            (
                DecodeError::UnknownEvenTlv {
                    field: "init.tlvs",
                    ty: 202,
                },
                "unknown even tlv type 202 in init.tlvs",
            ),
            (
                DecodeError::UnknownAddressType { ty: 9 },
                "unknown address descriptor type 9",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
