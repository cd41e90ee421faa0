//! `commando`: Core Lightning's commando without IO: JSON-RPC requests carried to a node in
//! Lightning custom messages, authorised by runes, and their replies carried back (CLN
//! `plugins/commando.c`; the lnpeer notes `runes-commando.md` §4).
//!
//! # What it owns
//!
//! * [`chunk`]: the four odd message types, the 10-byte header, and cutting a text into
//!   chunks of at most 65,000 JSON bytes.
//! * Server side: [`Incoming`] puts each peer's command chunks back together (one partial
//!   request per peer, 16 in all, 1 MiB each, expiring after 60 s); [`CallLimiter`] bounds
//!   each peer's calls; [`parse_request`] checks a request in CLN's order with CLN's texts;
//!   [`reply`] builds the replies; [`Server`] holds all of it together.
//! * Client side: [`ClientRequest`] builds a request's chunks, [`Replies`] puts the reply
//!   chunks of our requests back together, and [`interpret_reply`] reads a complete reply as
//!   CLN's client does.
//! * [`error`]: the three commando error codes, and every error with its text.
//!
//! # What it must not touch
//!
//! Sockets, tasks, the clock, randomness and secp256k1. Every function that depends on time
//! takes `now: Instant`; request ids are chosen by the caller; peers are any `P: Eq + Hash +
//! Clone` (a node id, a connection id). It does not decode or check runes (the runes crate)
//! and does not run commands (the RPC layer).
//!
//! # Calling protocol
//!
//! ```text
//! custom message (peer, bytes) ─▶ Chunk::decode ─▶ None: not commando
//!   command chunk ─▶ Server::handle_chunk(peer, chunk, now)
//!       Nothing ─▶ wait for more
//!       Reply(messages) ─▶ send them to the peer (a refusal, 19536)
//!       Execute(Command { id, request }) ─▶ checkrune(peer, rune, method, params)
//!           refused ─▶ error_reply(id, 19537, "Invalid rune: <why>")
//!           allowed ─▶ run method ─▶ response_body(&request.id, result) ─▶ reply_messages(id, ..)
//!   reply chunk ─▶ Replies::push(peer, chunk, now) ─▶ Complete { json } ─▶ interpret_reply
//! commando call ─▶ Replies::expect(peer, id) ─▶ ClientRequest::messages(id) ─▶ send
//! timer ─▶ Server::handle_timeout / Replies::handle_timeout(now) when poll_timeout() passes
//! ```
//!
//! # Deliberate differences from CLN
//!
//! Each is documented where it is made: partial requests expire ([`Incoming`]); an oversize
//! request gets an error reply, and its id is usable again ([`Refusal::TooLarge`]); a per-peer
//! call limit ([`CallLimiter`]); a non-string `method` is refused and a non-string `rune` is
//! `Invalid rune` ([`Refusal`]); every reply is built by a serializer ([`reply`]); the client
//! validates `params` and `filter` ([`BuildError`]), caps replies at 64 MiB and gives up
//! replies that stop arriving ([`Replies`]).

#![forbid(unsafe_code)]

pub mod chunk;
pub mod error;
pub mod reply;

mod assembly;
mod client;
mod incoming;
mod json;
mod limit;
mod replies;
mod request;
mod server;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use chunk::{split, split_messages, Chunk, ChunkKind, Direction, RequestId, MAX_CHUNK_JSON};
pub use client::{interpret_reply, ClientRequest};
pub use error::{
    BuildError, ClientError, IdInUse, NotAResponse, Refusal, ReplyError, COMMANDO_ERROR_LOCAL,
    COMMANDO_ERROR_REMOTE, COMMANDO_ERROR_REMOTE_AUTH,
};
pub use incoming::{Incoming, IncomingConfig, Pushed};
pub use limit::{CallLimitConfig, CallLimiter};
pub use replies::{ClientConfig, Replies, ReplyPushed};
pub use reply::{error_body, error_reply, reply_messages, response_body, rewrite_response};
pub use request::{parse_request, Request};
pub use server::{Command, Server, ServerAction, ServerConfig};
