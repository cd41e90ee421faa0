//! Every error of this crate, grouped by whose fault it is.
//!
//! - [`PeelError`] (with [`PacketError`], [`LayerError`], [`EncryptedDataError`]): a received
//!   onion message we must ignore. The peer's (or the sender's) fault; BOLT 4 says to drop the
//!   message and send nothing back. Its texts are CLN's (`common/onion_message_parse.c`), so
//!   `injectonionmessage` can return them as CLN does.
//! - [`DecryptError`]: `decryptencrypteddata`'s input does not decrypt (CLN: `Decryption
//!   failed!`).
//! - [`BuildError`], [`BlindedPathError`], [`PacketTooLong`]: the caller asked for something
//!   that cannot be built or sent.
//!
//! Malformed bytes are `wire`'s [`DecodeError`], naming the field.

use std::fmt;

use wire::DecodeError;

/// Why the bytes of an `onion_message_packet` do not even parse (CLN: `can't parse
/// onionpacket: <BOLT 4 failure name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketError {
    /// `version` is not 0 (BOLT 4: "MUST abort processing the packet and fail").
    InvalidVersion(u8),
    /// `public_key` is missing or not a valid point.
    InvalidKey,
    /// The packet is too short for its 32-byte `hmac` after the key.
    Truncated,
}

impl PacketError {
    /// The BOLT 4 failure CLN names for this (`onion_wire_name`).
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::InvalidVersion(_) => "WIRE_INVALID_ONION_VERSION",
            Self::InvalidKey => "WIRE_INVALID_ONION_KEY",
            Self::Truncated => "WIRE_INVALID_ONION_HMAC",
        }
    }
}

/// Why one Sphinx layer did not peel (BOLT 4 "Onion Decryption"; CLN: `can't process
/// onionpacket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerError {
    /// The packet's `hmac` is not ours: it was damaged, or not built for us.
    HmacMismatch,
    /// The payload length is not a minimal BigSize.
    BadLength,
    /// The payload length is 0 or 1 (BOLT 4: "If the `payload_length` is less than two: MUST
    /// abort processing").
    TooShort,
    /// The payload and its `hmac` run past the end of `onionmsg_payloads`.
    Overrun,
    /// The next hop's onion key could not be derived (a blinding factor outside the group
    /// order; probability about 2^-128).
    InvalidNextKey,
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HmacMismatch => "hmac mismatch",
            Self::BadLength => "bad payload length",
            Self::TooShort => "payload shorter than 2 bytes",
            Self::Overrun => "payload longer than the packet",
            Self::InvalidNextKey => "invalid next onion key",
        })
    }
}

/// What is wrong with a hop's `encrypted_recipient_data` (BOLT 4 "Route Blinding" and the
/// onion-message reader's rules).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncryptedDataError {
    /// A hop that must forward got no `encrypted_recipient_data`.
    Missing,
    /// It does not decrypt with our key and the `path_key`.
    Decrypt,
    /// It decrypts, but not into a valid `encrypted_data_tlv` (unknown even type, bad field).
    Decode(DecodeError),
    /// A forwarding hop's data holds a `path_id` (BOLT 4: "MUST ignore the message").
    PathIdWhenForwarding,
    /// A forwarding hop's data names neither `next_node_id` nor `short_channel_id`.
    NoNextHop,
    /// A forwarding hop's data names both `next_node_id` and `short_channel_id` (BOLT 4 makes
    /// this an error for payments; LDK drops such messages too).
    TwoNextHops,
    /// The final hop's data names a next hop: the path goes on past us, so it is not a path to
    /// us (LDK drops these; CLN ignores the fields).
    NextHopAtFinalHop,
    /// `allowed_features` has a bit set: onion messages use no features, so every bit is one
    /// we do not know (BOLT 4: "MUST ignore the message if ... contains an unknown feature bit
    /// (even if it is odd)").
    UnknownFeature,
}

impl fmt::Display for EncryptedDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::Decrypt => f.write_str("does not decrypt"),
            Self::Decode(error) => write!(f, "{error}"),
            Self::PathIdWhenForwarding => f.write_str("path_id on a forwarding hop"),
            Self::NoNextHop => f.write_str("no next hop"),
            Self::TwoNextHops => f.write_str("both next_node_id and short_channel_id"),
            Self::NextHopAtFinalHop => f.write_str("next hop at the final hop"),
            Self::UnknownFeature => f.write_str("unknown allowed_features bit"),
        }
    }
}

/// Why a received onion message must be ignored. [`Display`](fmt::Display) gives CLN's text
/// for the same failure (the hex it appends is the hop's decrypted payload or data, never a
/// secret; CLN also prints the shared secret after `can't process onionpacket`, which we
/// leave out).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeelError {
    /// The `onion_message_packet` does not parse.
    Packet(PacketError),
    /// The `path_key` tweak could not be applied to the packet's key.
    Unblind,
    /// The Sphinx layer did not peel.
    Layer(LayerError),
    /// The hop's `onionmsg_tlv` does not decode (unknown even type, bad `reply_path`, ...).
    InvalidPayload {
        /// The decrypted payload.
        payload: Vec<u8>,
        /// What is wrong with it.
        error: DecodeError,
    },
    /// A forwarding hop's `onionmsg_tlv` holds more than `encrypted_recipient_data` (BOLT 4:
    /// "MUST ignore the message").
    DisallowedField,
    /// A forwarding hop's `encrypted_recipient_data` is unusable.
    InvalidEncryptedData {
        /// The `encrypted_recipient_data` as received (empty if missing).
        data: Vec<u8>,
        /// What is wrong with it.
        reason: EncryptedDataError,
    },
    /// The final hop's `encrypted_recipient_data` is unusable.
    FinalEncryptedData {
        /// The `encrypted_recipient_data` as received.
        data: Vec<u8>,
        /// What is wrong with it.
        reason: EncryptedDataError,
    },
    /// The final hop's `onionmsg_tlv` holds more than one payload field (a type of 64 or
    /// more; BOLT 4: "MUST ignore the message").
    MultiplePayloadFields {
        /// The first payload field's type.
        first: u64,
        /// The second one's.
        second: u64,
    },
}

impl fmt::Display for PeelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIX: &str = "onion_message_parse:";
        match self {
            Self::Packet(error) => {
                write!(f, "{PREFIX} can't parse onionpacket: {}", error.wire_name())
            }
            Self::Unblind => write!(f, "{PREFIX} can't unblind onionpacket"),
            Self::Layer(error) => write!(f, "{PREFIX} can't process onionpacket: {error}"),
            Self::InvalidPayload { payload, .. } => {
                write!(f, "{PREFIX} invalid onionmsg_tlv {}", Hex(payload))
            }
            Self::DisallowedField => write!(f, "{PREFIX} disallowed tlv field"),
            Self::InvalidEncryptedData { data, .. } => {
                write!(f, "{PREFIX} invalid encrypted_recipient_data {}", Hex(data))
            }
            Self::FinalEncryptedData { data, .. } => write!(
                f,
                "{PREFIX} failed to decrypt encrypted_recipient_data {}",
                Hex(data)
            ),
            Self::MultiplePayloadFields { first, second } => write!(
                f,
                "{PREFIX} more than one payload field ({first} and {second})"
            ),
        }
    }
}

impl std::error::Error for PeelError {}

/// `decryptencrypteddata`'s input did not decrypt with our key and the `path_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecryptError;

/// CLN's text (`lightningd/onion_message.c`, code -32602).
impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Decryption failed!")
    }
}

impl std::error::Error for DecryptError {}

/// Why a [`BlindedPath`](crate::BlindedPath) cannot be made from the given parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlindedPathError {
    /// A path has at least one hop (BOLT 4; LDK and CLN refuse `num_hops == 0`).
    NoHops,
    /// `num_hops` is one byte.
    TooManyHops(usize),
    /// A hop's `encrypted_recipient_data` has a `u16` length.
    EncryptedDataTooLong(usize),
}

impl fmt::Display for BlindedPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoHops => f.write_str("blinded path has no hops"),
            Self::TooManyHops(n) => write!(f, "blinded path has {n} hops, at most 255 fit"),
            Self::EncryptedDataTooLong(n) => write!(
                f,
                "encrypted_recipient_data is {n} bytes, at most 65535 fit"
            ),
        }
    }
}

impl std::error::Error for BlindedPathError {}

/// An `onion_message_packet` too long for a 513 message (at most [`MAX_PACKET_LEN`] bytes;
/// CLN's `injectonionmessage`: `onion message too long`).
///
/// [`MAX_PACKET_LEN`]: crate::MAX_PACKET_LEN
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketTooLong(pub usize);

impl fmt::Display for PacketTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "onion message too long ({} bytes)", self.0)
    }
}

impl std::error::Error for PacketTooLong {}

/// Why an onion message or a blinded path could not be built. Never caused by a peer: the
/// caller's inputs are wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A custom record has an even type. Every reader that does not know it drops the whole
    /// message (BOLT 1), so custom types must be odd (and should be 64 or more, the final-hop
    /// range).
    EvenCustomType(u64),
    /// Two custom records have the same type.
    DuplicateCustomType(u64),
    /// The destination path's introduction node is a `short_channel_id`, which only the
    /// channel's ends can resolve; resolve it to a node id first.
    UnresolvedIntroductionNode,
    /// The payloads do not fit the largest packet BOLT 4 recommends (32768 bytes of
    /// payloads; CLN: `Creating onion failed (tlvs too long?)`).
    TooBig {
        /// Bytes the hops' payloads, lengths and hmacs need.
        needed: usize,
    },
    /// The blinded path (ours or the destination's) is not valid.
    Path(BlindedPathError),
    /// A session or path key led to an invalid blinding factor (probability about 2^-128;
    /// pick another random key).
    InvalidKey,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EvenCustomType(ty) => write!(f, "custom tlv type {ty} is even"),
            Self::DuplicateCustomType(ty) => write!(f, "custom tlv type {ty} appears twice"),
            Self::UnresolvedIntroductionNode => {
                f.write_str("blinded path starts at a short_channel_id, not a node id")
            }
            Self::TooBig { needed } => write!(
                f,
                "Creating onion failed (tlvs too long?): {needed} bytes of payloads"
            ),
            Self::Path(error) => write!(f, "{error}"),
            Self::InvalidKey => f.write_str("invalid blinding factor; use another random key"),
        }
    }
}

impl std::error::Error for BuildError {}

impl From<BlindedPathError> for BuildError {
    fn from(error: BlindedPathError) -> Self {
        Self::Path(error)
    }
}

/// Lower-case hex, as CLN's `tal_hex` prints.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peel_errors_read_as_cln_writes_them() {
        let cases = [
            (
                PeelError::Packet(PacketError::InvalidVersion(1)),
                "onion_message_parse: can't parse onionpacket: WIRE_INVALID_ONION_VERSION",
            ),
            (
                PeelError::Packet(PacketError::InvalidKey),
                "onion_message_parse: can't parse onionpacket: WIRE_INVALID_ONION_KEY",
            ),
            (
                PeelError::Packet(PacketError::Truncated),
                "onion_message_parse: can't parse onionpacket: WIRE_INVALID_ONION_HMAC",
            ),
            (
                PeelError::Unblind,
                "onion_message_parse: can't unblind onionpacket",
            ),
            (
                PeelError::Layer(LayerError::HmacMismatch),
                "onion_message_parse: can't process onionpacket: hmac mismatch",
            ),
            (
                PeelError::InvalidPayload {
                    payload: vec![0x02, 0x00],
                    error: DecodeError::Truncated { field: "x" },
                },
                "onion_message_parse: invalid onionmsg_tlv 0200",
            ),
            (
                PeelError::DisallowedField,
                "onion_message_parse: disallowed tlv field",
            ),
            (
                PeelError::InvalidEncryptedData {
                    data: vec![0xab],
                    reason: EncryptedDataError::Decrypt,
                },
                "onion_message_parse: invalid encrypted_recipient_data ab",
            ),
            (
                PeelError::FinalEncryptedData {
                    data: vec![0xcd, 0x01],
                    reason: EncryptedDataError::Decrypt,
                },
                "onion_message_parse: failed to decrypt encrypted_recipient_data cd01",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
        assert_eq!(DecryptError.to_string(), "Decryption failed!");
    }
}
