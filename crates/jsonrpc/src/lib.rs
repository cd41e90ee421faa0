//! `jsonrpc`: Core Lightning's dialect of JSON-RPC 2.0, without IO, for everything in lnpeer
//! that speaks it: the RPC socket, plugins' stdin and stdout, commando requests carried in
//! peer messages, and the command-line client.
//!
//! # What it owns
//!
//! * [`framing`]: splitting a byte stream into JSON values as the bytes arrive (requests come
//!   back to back, cut anywhere), and response frames (the id echoed byte for byte, each
//!   followed by `"\n\n"`).
//! * [`request`]: the envelope checks in CLN's order with CLN's texts.
//! * [`params`]: parameters by position or by name, bound to a command's parameter list, and
//!   the generic typed parsers.
//! * [`filter`]: the `filter` member, which keeps only the named fields of a result.
//! * [`error`]: [`RpcError`] and CLN's error codes.
//!
//! # What it must not touch
//!
//! Sockets, tasks, clocks, files: callers read and write; this crate only looks at bytes.
//! It knows no command and no Lightning type (node ids, messages): those are the callers'.
//!
//! # Calling protocol
//!
//! ```text
//! bytes ─▶ ValueSplitter::read_buffer / push ─▶ next_value ─▶ request::parse_request
//!        ─▶ params::RawParams::parse ─▶ bind(names) ─▶ Params::required/optional(parser)
//! result ─▶ filter::apply ─▶ framing::result_frame / error_frame ─▶ bytes
//! ```

#![forbid(unsafe_code)]

pub mod compact;
pub mod error;
pub mod filter;
pub mod framing;
pub mod params;
pub mod request;

pub use error::{code, RpcError};
