//! BOLT 4 onion messages without IO: the cryptography and encodings to build, peel and
//! forward `onion_message` (type 513), and to create and read blinded paths.
//!
//! # What this crate owns
//!
//! - [`OnionMessage`]: the 513 wire message (`path_key`, `onion_message_packet`).
//! - Sphinx for `onion_message_packet` (`sphinx.rs`, `packet.rs`): variable-length payloads,
//!   no associated data, built at 1300 or 32768 bytes of payloads ([`SMALL_PAYLOADS_LEN`],
//!   [`BIG_PAYLOADS_LEN`]) and read at any length up to [`MAX_PACKET_LEN`].
//! - Route blinding (`blinding.rs`): blinded node ids, `encrypted_recipient_data` sealed with
//!   ChaCha20-Poly1305, the path-key chain and `next_path_key_override`.
//! - The TLV encodings: [`Payload`] (`onionmsg_tlv`), [`EncryptedData`]
//!   (`encrypted_data_tlv`), [`BlindedPath`] (`blinded_path`, with a `sciddir_or_pubkey`
//!   [`IntroductionNode`]), [`ShortChannelId`]. BOLT 12's `invoice_request`, `invoice` and
//!   `invoice_error` stay opaque bytes. Whatever decodes re-encodes to the same bytes.
//! - The reader's and writer's rules of BOLT 4 "Onion Messages", with CLN's error texts
//!   ([`PeelError`]).
//!
//! # What it must not touch
//!
//! No IO, no async runtime, no clock, no randomness, no peers and no policy: every random
//! key is an argument ([`SenderSecrets`], `first_path_secret`), and the node's secret key is
//! passed in. Whether a next hop is connected, whether to rate-limit, which hook to call and
//! what to log are the caller's decisions. TLV and BigSize rules are `wire`'s ([`wire::TlvStream`]).
//!
//! # Calling protocol (how peer-manager, lnpeerd and the RPC layer use it)
//!
//! ```text
//! peer sends type 513 ──▶ OnionMessage::decode(bytes)        Err ─▶ warning "Bad onion_message"
//!   (after CLN's rate limit)          │
//!                                     ▼
//!                 peel_onion_message(&node_secret, &message)  Err(e) ─▶ drop, log e (CLN's text);
//!                                     │                                 onionmessage_forward_fail
//!   Forward { next_hop: NodeId(id), message } ─▶ id == ours: peel `message` again
//!                                                 a connected peer that offered bit 38/39:
//!                                                   send message.to_bytes() to it
//!                                                 not connected: drop + onionmessage_forward_fail
//!                                                 otherwise (no bit 38/39, busy): drop
//!                                                     + onionmessage_forward_fail
//!   Forward { next_hop: ShortChannelId(scid), .. } ─▶ resolve through our channels, or drop
//!                                                     + onionmessage_forward_fail
//!   Receive(received) ─▶ received.path_secret() is Some: hook onion_message_recv_secret
//!                        otherwise: hook onion_message_recv
//!                        (payload shape: received.payload's fields, CLN's names)
//!
//! injectonionmessage {path_key, message}
//!   ─▶ OnionMessage::new(path_key, packet)   Err ─▶ "onion message too long"
//!   ─▶ peel_onion_message as above           Err(e) ─▶ e.to_string()
//! decryptencrypteddata {encrypted_data, path_key}
//!   ─▶ decrypt_encrypted_data(&node_secret, &path_key, &data)  Err ─▶ "Decryption failed!"
//!   ─▶ {"decrypted": hex(decrypted), "next_path_key": next_path_key}
//!
//! sending: build_onion_message(&hops, &Destination::Node(id) | ::BlindedPath(path),
//!                              &MessageContents { reply_path, custom, .. }, &SenderSecrets)
//!   ─▶ BuiltMessage { first_hop, message }: send message.to_bytes() to first_hop (ourselves:
//!      peel it locally, as CLN's plugins inject onions whose first hop is the node itself)
//! a reply path to us: create_blinded_path(&[ForwardNode..], &our_id, &path_secret, &e0)
//!   ─▶ later, received.came_over_path(&path_secret) tells a reply over it from anything else
//! replying: build_onion_message(&[], &Destination::BlindedPath(reply_path), ..)
//! ```
//!
//! A path whose introduction node is a channel ([`IntroductionNode::Channel`]) must be
//! resolved to a node id by the caller (only a channel's ends can). Dummy hops (LDK's) are not
//! created, and a forwarding hop with no next hop is refused.
//!
//! # Proof
//!
//! `tests/bolt4_vectors.rs` reproduces BOLT 4's `blinded-onion-message-onion-test.json`
//! byte for byte (every blinded hop, the packet, every peeled and forwarded message) and
//! `route-blinding-test.json` (blinded node ids, encrypted data, decryption and the path-key
//! chain, an override included).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod blinded_path;
mod blinding;
mod build;
mod codec;
mod create_path;
mod crypto;
mod encrypted_data;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod message;
mod packet;
mod payload;
mod peel;
mod scid;
mod sphinx;
#[cfg(test)]
mod test_keys;

// The public interface:
pub use blinded_path::{BlindedHop, BlindedPath, Direction, IntroductionNode};
pub use blinding::{blind_path, decrypt_encrypted_data, DecryptedData};
pub use build::{build_onion_message, BuiltMessage, Destination, MessageContents, SenderSecrets};
pub use create_path::{create_blinded_path, ForwardNode};
pub use encrypted_data::{EncryptedData, PaymentConstraints, PaymentRelay};
pub use error::{
    BlindedPathError, BuildError, DecryptError, EncryptedDataError, LayerError, PacketError,
    PacketTooLong, PeelError,
};
pub use message::{OnionMessage, ONION_MESSAGE_TYPE};
pub use packet::{BIG_PAYLOADS_LEN, MAX_PACKET_LEN, PACKET_OVERHEAD, SMALL_PAYLOADS_LEN};
pub use payload::{Payload, FIRST_PAYLOAD_TYPE};
pub use peel::{peel_onion_message, Forward, NextHop, Peeled, Received};
pub use scid::{ParseShortChannelIdError, ShortChannelId};
pub use secp256k1::{PublicKey, SecretKey};
pub use wire::{Encode, TlvRecord};
