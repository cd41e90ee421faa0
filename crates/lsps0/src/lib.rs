//! `lsps0`: bLIP-50 (LSPS0), the transport of the LSP specifications, without IO: JSON-RPC
//! 2.0 objects carried as the payload of Lightning custom message 37913 between a client and
//! an LSP (the lnpeer notes `lsps0.md`).
//!
//! # What it owns
//!
//! * The constants: [`MESSAGE_TYPE`], [`MAX_PAYLOAD_BYTES`], [`OPTION_SUPPORTS_LSPS`].
//! * [`parse`]: the bLIP's "bad message format" checks, for each side, into the typed
//!   messages of [`message`] ([`Request`], [`Response`], [`Notification`]), which are written
//!   back as payloads by their `to_payload`.
//! * [`Client`]: our requests to LSPs, by id, with deadlines; what each payload an LSP sends
//!   means for them; which LSPs are muted after a bad message.
//! * [`Service`]: the LSP side. It answers `lsps0.list_protocols` ([`list_protocols`]) and
//!   every error the bLIP gives it, forwards the other methods to the owners that registered
//!   them, and turns their answers into replies, within per-peer limits.
//! * [`error`]: the JSON-RPC and LSPS0 codes and texts, and every reason for a refusal.
//!
//! # What it must not touch
//!
//! Sockets, tasks, the clock, randomness, plugins and RPC. Every function that depends on
//! time takes `now: Instant` (as `peer-protocol` and `commando` do) and says when to call it
//! again (`poll_timeout`); request ids are made from 16 bytes the caller draws from a
//! cryptographically secure source; peers are any `P: Eq + Hash + Clone` (a node id) and
//! method owners any `O: Eq + Clone` (a plugin). Payloads are the bytes after the 2-byte
//! message type; framing them in message 37913, and the odd/even and size rules of BOLT 1
//! and 8, are the peer layer's.
//!
//! # Calling protocol
//!
//! One [`Client`] and one [`Service`] per node, kept by the driver (lnpeerd), which reads
//! the clock once per event and passes it in.
//!
//! ```text
//! custom message 37913 from peer P, payload B (after the type):
//!   our request to P pending, or P is an LSP we use ─▶ Client::receive(P, B, now)
//!       Answered { request, outcome } ─▶ finish that call: result object, or the LSP's error
//!                                         (list_protocols::parse_result reads that method's)
//!       Notification(n)               ─▶ hand to whoever enabled it; unknown methods: log
//!       Ignored(why)                  ─▶ log
//!       BadMessage(why)               ─▶ log as unusual; P is muted (Client::is_muted)
//!   otherwise, if we serve LSPS        ─▶ Service::receive(P, B, now)
//!       Answer(bytes) / Refuse { bytes, refusal } ─▶ send bytes to P (log a refusal)
//!       Forward { handle, owner, request }        ─▶ give the request to its owner
//!           owner answers ─▶ Service::complete(handle, Ok(result) | Err(error)) ─▶ Reply
//!           owner stops   ─▶ Service::unregister_owner(owner) ─▶ Replies
//!           Reply { peer, payload, fault } ─▶ send payload to peer if connected (log a fault)
//! our call (an RPC command) ─▶ Client::start(P, method, params, now, timeout, 16 random bytes)
//!       Ok(Started { id, payload }) ─▶ remember id for the caller, send payload to P
//!       Err(StartError::PeerMuted)  ─▶ fail the call now
//! a plugin registers a method ─▶ Service::register(method, owner, protocol)
//! timer at min(Client::poll_timeout, Service::poll_timeout):
//!       Client::expire(now)  ─▶ fail those calls (timeout)
//!       Service::expire(now) ─▶ Replies (-32603) to send
//! peer P disconnects ─▶ Client::peer_disconnected(P) ─▶ fail those calls; P is unmuted
//! ```
//!
//! Which side takes a payload is the driver's choice: a node can be both a client and an
//! LSP. A sound rule is "Client first when the payload's peer has our requests pending or is
//! an LSP we asked before; Service when we serve LSPS". A client must not answer requests,
//! and an LSP must not take responses: each side's parser refuses the other's messages.
//! The service keeps no per-connection state: forwarded requests stay counted against their
//! peer until answered or expired, across a reconnection. An LSP should send message 37913
//! (a [`Notification`]) only to a peer that has sent one before; remembering which is the
//! driver's.
//!
//! # Deliberate differences from LDK (`lightning-liquidity` 0.2.7) and CLN
//!
//! Each is documented where it is made:
//!
//! * The bLIP's checks are applied as written: trailing text and NUL bytes are refused (LDK
//!   accepts both), and so are JSON-RPC members given twice ([`parse`]).
//! * The LSP answers unknown methods with `-32601` and `lsps0.list_protocols` with params with
//!   `-32602` and `data.unrecognized`, as the bLIP requires; LDK answers the first with
//!   `-32700` and ignores the second, CLN answers the first with an empty message and ignores
//!   the second. Invalid requests get `-32600` with their id ([`parse`]).
//! * The LSP limits pending forwarded requests per peer (as LDK's LSPS1 and LSPS2 services
//!   do) and the size of a request, and gives owners a deadline ([`Service`]).
//! * The client ignores answers from a peer other than the one asked (CLN takes them), and
//!   answers with unknown ids (LDK mutes the peer) ([`Client`]).

#![forbid(unsafe_code)]

pub mod error;
pub mod list_protocols;
pub mod message;
pub mod parse;

mod client;
mod registry;
mod service;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use client::{
    Client, ClientEvent, Ignored, Outstanding, StartError, Started, DEFAULT_REQUEST_TIMEOUT,
};
pub use error::{BadMessage, InvalidRequest, Kind};
pub use message::{Id, Notification, ParamsNotObject, Request, Response};
pub use parse::{parse_for_client, parse_for_service, LspMessage, RequestRejected};
pub use registry::{RegisterError, Registry};
pub use service::{
    Forward, Handle, OwnerFault, Refusal, Reply, Service, ServiceAction, ServiceConfig,
    UnknownHandle, DEFAULT_FORWARD_TIMEOUT, DEFAULT_MAX_PENDING_PER_PEER, TOO_MANY_PENDING,
};

/// The Lightning message type of every LSPS message (`lsps0_message_id`, hex `0x9419`): odd,
/// so a peer that does not speak LSPS ignores it, and in the extension range 32768–65535.
pub const MESSAGE_TYPE: u16 = 37913;

/// The most payload bytes one message carries: a BOLT 8 message is at most 65535 bytes, two
/// of which are the type. LSPS has no chunking, so this is the bLIP's only size limit.
pub const MAX_PAYLOAD_BYTES: usize = 65533;

/// Feature bit 729, `option_supports_lsps`: an LSP may set it in `init` and in its
/// `node_announcement`; a client must not. It is odd (optional), and nothing depends on it:
/// LDK and CLN talk LSPS0 to peers without it, and CLN's LSP does not set it (notes §1.8,
/// §3.3). In the big-endian `features` field it is mask `0x02` of the first byte of 92.
pub const OPTION_SUPPORTS_LSPS: usize = 729;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_blips() {
        assert_eq!(MESSAGE_TYPE, 0x9419);
        assert_eq!(MAX_PAYLOAD_BYTES, 65535 - 2);
        assert_eq!(OPTION_SUPPORTS_LSPS % 2, 1, "optional bits are odd");
        assert_eq!(
            (OPTION_SUPPORTS_LSPS / 8, OPTION_SUPPORTS_LSPS % 8),
            (91, 1)
        );
    }
}
