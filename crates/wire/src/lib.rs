//! The BOLT 1 message codec: bytes in, typed messages out, and back.
//!
//! # What this crate owns
//!
//! - BigSize integers and TLV streams (BOLT 1), with BOLT 1's canonical-encoding rules: a
//!   non-minimal BigSize, a TLV stream out of order, an unknown even TLV type or a short field
//!   is a [`DecodeError`] naming the field, never a panic.
//! - The BOLT 1 messages a transport node handles itself: [`Init`], [`ErrorMessage`],
//!   [`Warning`], [`Ping`], [`Pong`]. Every other type is [`Message::Other`] with its raw
//!   payload.
//! - BOLT 9 feature bitmaps ([`Features`], [`KnownFeatures`], [`feature_bits`]) and BOLT 7
//!   address descriptors ([`NetAddress`]).
//! - The message-type registry ([`MsgType`]): which types the BOLTs define, which ones Core
//!   Lightning keeps internal, and CLN's `WIRE_*` names.
//!
//! # What it must not touch
//!
//! No IO, no async runtime, no clock, no cryptography: it sees only the plaintext of one
//! BOLT 8 frame (`noise-transport` produces it). And no policy: it reports an unknown even
//! message type, an unknown even feature bit or a missing feature dependency as data, and the
//! peer layer decides whether to send a `warning` and close.
//!
//! # Round trips
//!
//! Whatever [`decode_message`] accepts, [`Encode`] writes back byte for byte: unknown odd TLV
//! records and padded feature maps are kept as received. That is what lets the fuzz targets
//! check `encode(decode(bytes)) == bytes`.
//!
//! ```
//! use wire::{decode_message, Encode, Message};
//!
//! let bytes = [0x00, 0x12, 0x00, 0x04, 0x00, 0x00]; // ping asking for a 4-byte pong
//! let Ok(Message::Ping(ping)) = decode_message(&bytes) else { panic!("not a ping") };
//! let pong = Message::Pong(ping.pong().expect("4 <= 65531"));
//! assert_eq!(pong.to_bytes(), [0x00, 0x13, 0x00, 0x04, 0, 0, 0, 0]);
//! assert_eq!(Message::Ping(ping).to_bytes(), bytes);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod address;
mod bigsize;
mod chain;
mod codec;
mod error;
mod features;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod init;
mod message;
mod msg_type;
mod tlv;

// The public interface:
pub use address::{Hostname, NetAddress};
pub use bigsize::BigSize;
pub use chain::ChainHash;
pub use codec::{Decode, Encode, Reader};
pub use error::DecodeError;
pub use features::bits as feature_bits;
pub use features::{Features, KnownFeatures, MAX_FEATURE_BIT};
pub use init::Init;
pub use message::{decode_message, ErrorMessage, Message, Ping, Pong, Warning, MAX_PONG_BYTES};
pub use msg_type::MsgType;
pub use tlv::{
    decode_tu16, decode_tu32, decode_tu64, encode_tu16, encode_tu32, encode_tu64, TlvRecord,
    TlvStream,
};
