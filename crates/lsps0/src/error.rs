//! The error codes LSPS0 uses, and every reason this crate refuses a payload, by whose fault
//! it is: the bLIP's "bad message format" ([`BadMessage`], either side), a request the LSP
//! answers with `-32600` ([`InvalidRequest`]), and our own caller's mistakes
//! ([`crate::StartError`], [`crate::RegisterError`]).

use std::fmt;

/// JSON-RPC 2.0's standard codes and LSPS0's own, as the bLIP uses them (notes §1.5).
pub mod code {
    /// The payload has the bLIP's "bad message format"; always sent with `"id": null`.
    pub const PARSE_ERROR: i32 = -32700;
    /// A request object that JSON-RPC 2.0 or LSPS0 does not accept.
    pub const INVALID_REQUEST: i32 = jsonrpc::code::INVALID_REQUEST;
    /// No such method here.
    pub const METHOD_NOT_FOUND: i32 = jsonrpc::code::METHOD_NOT_FOUND;
    /// A known method with a parameter it does not know; `data.unrecognized` lists them.
    pub const INVALID_PARAMS: i32 = jsonrpc::code::INVALID_PARAMS;
    /// The LSP failed to answer (the method's owner went away or did not answer in time, or
    /// answered with something that cannot be sent).
    pub const INTERNAL_ERROR: i32 = -32603;
    /// LSPS0's only error of its own, `001` "Client rejected", with `data.message`.
    pub const CLIENT_REJECTED: i32 = 1;
}

/// The standard `message` texts that go with [`code`]'s values. JSON-RPC 2.0's wording,
/// which is also what the bLIP quotes ("Invalid params", "Method not found", "Internal
/// error", "Client rejected"). CLN's service sends `"failed to parse request"` and empty
/// messages for `-32600` and `-32601`; LDK sends `"parse error"`. Clients must not rely on the
/// text (bLIP §Error Handling), so the standard one is the least surprising.
pub mod message {
    /// With [`super::code::PARSE_ERROR`].
    pub const PARSE_ERROR: &str = "Parse error";
    /// With [`super::code::INVALID_REQUEST`]; our replies add the reason after a colon.
    pub const INVALID_REQUEST: &str = "Invalid Request";
    /// With [`super::code::METHOD_NOT_FOUND`].
    pub const METHOD_NOT_FOUND: &str = "Method not found";
    /// With [`super::code::INVALID_PARAMS`].
    pub const INVALID_PARAMS: &str = "Invalid params";
    /// With [`super::code::INTERNAL_ERROR`].
    pub const INTERNAL_ERROR: &str = "Internal error";
    /// With [`super::code::CLIENT_REJECTED`] (bLIP §Error Codes).
    pub const CLIENT_REJECTED: &str = "Client rejected";
}

/// What a JSON object looks like as JSON-RPC 2.0, judged by which members it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `method` and `id`.
    Request,
    /// `method` without `id`.
    Notification,
    /// `result` or `error`, without `method`.
    Response,
    /// Both `method` and `result` or `error`.
    Ambiguous,
    /// None of `method`, `result` and `error`.
    Neither,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Request => "a request",
            Kind::Notification => "a notification",
            Kind::Response => "a response",
            Kind::Ambiguous => "both a request and a response",
            Kind::Neither => "neither a request nor a response",
        }
    }
}

/// Why a payload has the bLIP's "bad message format" (bLIP §Message Payload Format). The LSP
/// answers it with `-32700` and `"id": null`; the client ignores it and stops sending to the
/// peer until it reconnects. Either side should log it as unusual: [`fmt::Display`] is the
/// log text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadMessage {
    /// The payload holds a 0 byte (check 3), at this offset.
    NulByte {
        /// Where the first one is.
        offset: usize,
    },
    /// The payload is not UTF-8 (check 1).
    NotUtf8 {
        /// The length of the valid prefix.
        valid_up_to: usize,
    },
    /// Nothing but whitespace (check 1).
    Empty,
    /// Not JSON text (check 1): serde_json's description, with line and column.
    NotJson(String),
    /// A top-level array (check 1): JSON-RPC batches are not allowed.
    Batch,
    /// A JSON value that is not an object (check 1).
    NotAnObject,
    /// A complete object followed by more than whitespace (check 2), from this offset.
    MoreThanOneValue {
        /// Where the extra text starts.
        offset: usize,
    },
    /// A JSON-RPC member appears twice, so the object has no single meaning. JSON allows
    /// duplicate names but leaves their meaning open (RFC 8259 §4), and implementations pick
    /// the first or the last, so a request read two ways is refused rather than guessed at.
    DuplicateMember(String),
    /// An object this side must not receive (checks 4 and 5): the client takes responses and
    /// notifications, the LSP takes requests.
    WrongKind(Kind),
    /// The client's check 4: a response that is not a JSON-RPC 2.0 response as LSPS0 uses it.
    InvalidResponse(&'static str),
    /// The client's check 4: a notification that is not a JSON-RPC 2.0 notification as LSPS0
    /// uses it.
    InvalidNotification(&'static str),
}

impl fmt::Display for BadMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadMessage::NulByte { offset } => write!(f, "NUL byte at offset {offset}"),
            BadMessage::NotUtf8 { valid_up_to } => {
                write!(f, "not UTF-8 after {valid_up_to} bytes")
            }
            BadMessage::Empty => f.write_str("no JSON object"),
            BadMessage::NotJson(why) => write!(f, "not JSON: {why}"),
            BadMessage::Batch => f.write_str("a batch (JSON array), which LSPS0 forbids"),
            BadMessage::NotAnObject => f.write_str("a JSON value that is not an object"),
            BadMessage::MoreThanOneValue { offset } => {
                write!(
                    f,
                    "more than one JSON value (extra text at offset {offset})"
                )
            }
            BadMessage::DuplicateMember(name) => write!(f, "member {name:?} appears twice"),
            BadMessage::WrongKind(kind) => write!(f, "unexpected object: {}", kind.describe()),
            BadMessage::InvalidResponse(why) => write!(f, "invalid response: {why}"),
            BadMessage::InvalidNotification(why) => write!(f, "invalid notification: {why}"),
        }
    }
}

impl std::error::Error for BadMessage {}

/// Why the LSP answers a request-shaped object (a `method` and an `id`) with `-32600`
/// "Invalid Request": JSON-RPC 2.0 or LSPS0 does not accept it as a request. The reply
/// carries the request's `id` when that is a string; otherwise `null`, since only strings
/// are LSPS0 ids (bLIP §Disconnection Handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvalidRequest {
    /// `jsonrpc` is missing or not `"2.0"`.
    Version,
    /// `method` is not a string.
    MethodNotString,
    /// `id` is not a string (a number or `null`: JSON-RPC allows them, LSPS0 does not).
    IdNotString,
    /// `params` is not an object: LSPS0 requires parameters by name.
    ParamsNotObject,
    /// The payload is over the LSP's request size limit.
    TooLarge,
}

impl InvalidRequest {
    /// The reason, as the reply's message gives it after "Invalid Request: ".
    pub fn reason(self) -> &'static str {
        match self {
            InvalidRequest::Version => "jsonrpc must be \"2.0\"",
            InvalidRequest::MethodNotString => "method must be a string",
            InvalidRequest::IdNotString => "id must be a string",
            InvalidRequest::ParamsNotObject => "params must be an object (by name)",
            InvalidRequest::TooLarge => "request too large",
        }
    }
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", message::INVALID_REQUEST, self.reason())
    }
}

impl std::error::Error for InvalidRequest {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_json_rpc_and_lsps0_values() {
        assert_eq!(code::PARSE_ERROR, -32700);
        assert_eq!(code::INVALID_REQUEST, -32600);
        assert_eq!(code::METHOD_NOT_FOUND, -32601);
        assert_eq!(code::INVALID_PARAMS, -32602);
        assert_eq!(code::INTERNAL_ERROR, -32603);
        assert_eq!(code::CLIENT_REJECTED, 1);
    }

    #[test]
    fn log_texts_say_what_was_wrong() {
        assert_eq!(
            BadMessage::NulByte { offset: 3 }.to_string(),
            "NUL byte at offset 3"
        );
        assert_eq!(
            BadMessage::WrongKind(Kind::Response).to_string(),
            "unexpected object: a response"
        );
        assert_eq!(
            BadMessage::DuplicateMember("id".into()).to_string(),
            "member \"id\" appears twice"
        );
        assert_eq!(
            InvalidRequest::IdNotString.to_string(),
            "Invalid Request: id must be a string"
        );
    }
}
