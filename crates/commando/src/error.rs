//! Commando's error codes and every error this crate returns, with CLN's texts where CLN has
//! one (`plugins/commando.c`; notes §4.3, §4.5, §4.6).
//!
//! The server's refusals are the peer's fault and go back to it as an error reply
//! ([`Refusal`]). The client's are split by whose fault they are: the remote node's answer
//! ([`ReplyError::Remote`]), a reply we could not use ([`ClientError`]), or our own caller's
//! arguments ([`BuildError`], [`IdInUse`]).

use std::fmt;

use jsonrpc::RpcError;

/// The client detected the error: the reply was unusable (CLN `COMMANDO_ERROR_LOCAL`,
/// `0x4c4f`; the clash with the terminal command type is CLN's and harmless).
pub const COMMANDO_ERROR_LOCAL: i32 = 0x4c4f;
/// The server refused the request before running it (CLN `COMMANDO_ERROR_REMOTE`, `0x4c50`).
pub const COMMANDO_ERROR_REMOTE: i32 = 0x4c50;
/// The server refused the rune (CLN `COMMANDO_ERROR_REMOTE_AUTH`, `0x4c51`).
pub const COMMANDO_ERROR_REMOTE_AUTH: i32 = 0x4c51;

/// Why the server answers a request with an error instead of running it. All are
/// [`COMMANDO_ERROR_REMOTE`]; the rune's own verdict (19537) is the runes crate's.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Not JSON text (CLN step 1).
    InvalidJson,
    /// JSON, but not an object (step 2).
    NotAnObject,
    /// No `method` member (step 3).
    NoMethod,
    /// `method` is not a string. CLN has no such check and runs the token's raw text as the
    /// method name (notes §7.10); we refuse it, since the name the rune is checked against
    /// must be the one that runs.
    MethodNotString,
    /// `params` present but neither an object nor an array (step 4).
    ParamsNotObjectOrArray,
    /// No `id` member (step 5).
    MissingId,
    /// No `rune` member (step 6).
    MissingRune,
    /// `rune` is not a string, so it cannot be a rune's base64 (step 7's text: CLN reaches
    /// the same answer by failing to decode the token's raw text).
    InvalidRune,
    /// The request passed the size cap. CLN drops it without a word (notes §7.6); a client
    /// is better off knowing, and the reply is as small as any other refusal.
    TooLarge,
    /// The peer is over its per-peer call rate ([`crate::CallLimiter`]); CLN has no such
    /// limit (rune `rate` restrictions are separate and checked by the runes crate).
    RateLimited,
}

impl Refusal {
    /// The code of the error reply.
    pub fn code(self) -> i32 {
        COMMANDO_ERROR_REMOTE
    }

    /// The text of the error reply: CLN's for CLN's checks.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::InvalidJson => "Invalid JSON",
            Refusal::NotAnObject => "Not a JSON object",
            Refusal::NoMethod => "No method",
            Refusal::MethodNotString => "Method must be a string",
            Refusal::ParamsNotObjectOrArray => "Params must be object or array",
            Refusal::MissingId => "missing id field",
            Refusal::MissingRune => "Missing rune",
            Refusal::InvalidRune => "Invalid rune",
            Refusal::TooLarge => "Request too large",
            Refusal::RateLimited => "Too many commando requests: try again later",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Refusal {}

/// A reply the client cannot use, or none at all. All are [`COMMANDO_ERROR_LOCAL`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The reply passed the client's size cap.
    Oversize,
    /// The reply is not JSON; holds the reply's text (invalid UTF-8 replaced).
    Unparsable(String),
    /// The reply's `error` has no integer `code`; holds the `error` member's JSON text.
    NoValidCode(String),
    /// The reply's `error` has no string `message`.
    NoMessage,
    /// The reply has neither `error` nor `result`.
    NoResult,
    /// The reply started but its next chunk did not come in time. CLN has no such timeout
    /// (its partial replies are kept until the peer finishes them).
    TimedOut,
}

impl ClientError {
    /// CLN's text for the error (ours for [`ClientError::TimedOut`]).
    pub fn message(&self) -> String {
        match self {
            ClientError::Oversize => "Reply was oversize".into(),
            ClientError::Unparsable(text) => format!("Reply was unparsable: '{text}'"),
            ClientError::NoValidCode(error) => format!("Error '{error}' had no valid code"),
            ClientError::NoMessage => "Error had no message".into(),
            ClientError::NoResult => "Reply had no result".into(),
            ClientError::TimedOut => "Reply timed out".into(),
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for RpcError {
    fn from(error: ClientError) -> RpcError {
        RpcError::new(COMMANDO_ERROR_LOCAL, error.message())
    }
}

/// Why a commando call failed, seen from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyError {
    /// The remote node answered with this error (its code, message and data, passed on).
    Remote(RpcError),
    /// The reply was unusable.
    Local(ClientError),
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Remote(error) => error.fmt(f),
            ReplyError::Local(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for ReplyError {}

impl From<ClientError> for ReplyError {
    fn from(error: ClientError) -> ReplyError {
        ReplyError::Local(error)
    }
}

impl From<ReplyError> for RpcError {
    /// What the `commando` RPC returns: the remote error as it came, or ours.
    fn from(error: ReplyError) -> RpcError {
        match error {
            ReplyError::Remote(error) => error,
            ReplyError::Local(error) => error.into(),
        }
    }
}

/// A request the client refuses to build: the caller's mistake, never the peer's. CLN pastes
/// these tokens into the request as they are, so a string `params` makes broken JSON
/// (notes §7.10).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildError {
    /// `params` is neither an object nor an array.
    ParamsNotObjectOrArray,
    /// `filter` is not an object.
    FilterNotObject,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildError::ParamsNotObjectOrArray => "params: should be an object or array",
            BuildError::FilterNotObject => "filter: should be an object",
        })
    }
}

impl std::error::Error for BuildError {}

impl From<BuildError> for RpcError {
    /// -32602, as for any malformed parameter of the `commando` RPC.
    fn from(error: BuildError) -> RpcError {
        RpcError::invalid_params(error.to_string())
    }
}

/// The caller asked to await a reply under a (peer, id) that another call is already using;
/// the caller picks ids, so it picks another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdInUse;

impl fmt::Display for IdInUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request id already in use for this peer")
    }
}

impl std::error::Error for IdInUse {}

/// [`crate::reply::rewrite_response`] was given something that is not a JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAResponse;

impl fmt::Display for NotAResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a JSON-RPC response object")
    }
}

impl std::error::Error for NotAResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_clns() {
        assert_eq!(COMMANDO_ERROR_LOCAL, 19535);
        assert_eq!(COMMANDO_ERROR_REMOTE, 19536);
        assert_eq!(COMMANDO_ERROR_REMOTE_AUTH, 19537);
    }

    #[test]
    fn client_errors_have_clns_texts() {
        let rpc = |e: ClientError| RpcError::from(e);
        assert_eq!(
            rpc(ClientError::Oversize),
            RpcError::new(19535, "Reply was oversize")
        );
        assert_eq!(
            rpc(ClientError::Unparsable("{x".into())).message,
            "Reply was unparsable: '{x'"
        );
        assert_eq!(
            rpc(ClientError::NoValidCode(r#"{"message":"m"}"#.into())).message,
            r#"Error '{"message":"m"}' had no valid code"#
        );
        assert_eq!(rpc(ClientError::NoMessage).message, "Error had no message");
        assert_eq!(rpc(ClientError::NoResult).message, "Reply had no result");
        let remote = RpcError::new(19537, "Invalid rune: Not authorized: Blacklisted rune");
        assert_eq!(RpcError::from(ReplyError::Remote(remote.clone())), remote);
        assert_eq!(
            RpcError::from(BuildError::FilterNotObject).code,
            jsonrpc::code::INVALID_PARAMS
        );
    }
}
