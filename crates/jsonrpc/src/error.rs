//! JSON-RPC errors with Core Lightning's codes.

use serde_json::Value;

/// The error codes CLN's JSON-RPC uses (`common/jsonrpc_errors.h`), as far as lnpeer needs them.
pub mod code {
    /// The request is malformed, or a command refused it (`JSONRPC2_INVALID_REQUEST`).
    pub const INVALID_REQUEST: i32 = -32600;
    /// Unknown, deprecated or developer-only command (`JSONRPC2_METHOD_NOT_FOUND`).
    pub const METHOD_NOT_FOUND: i32 = -32601;
    /// A parameter is missing, extra or malformed (`JSONRPC2_INVALID_PARAMS`).
    pub const INVALID_PARAMS: i32 = -32602;
    /// A generic daemon-side failure (`LIGHTNINGD`).
    pub const LIGHTNINGD: i32 = -1;
    /// A plugin stopped, or broke the plugin protocol, before answering a call passed to it
    /// (`PLUGIN_TERMINATED`).
    pub const PLUGIN_TERMINATED: i32 = -4;
    /// `connect`: no address is known for the peer.
    pub const CONNECT_NO_KNOWN_ADDRESS: i32 = 400;
    /// `connect`: every address failed.
    pub const CONNECT_ALL_ADDRESSES_FAILED: i32 = 401;
    /// `connect`: the peer went away while the connection was coming up.
    pub const CONNECT_DISCONNECTED_DURING: i32 = 402;
    /// A wait gave up (`WAIT_TIMEOUT`, what CLN's `wait` returns): `sendcustommsg` with
    /// `delivery` `written`, `waitcustommsg`.
    pub const WAIT_TIMEOUT: i32 = 2000;
}

/// An error object for a JSON-RPC response.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// One of [`code`]'s values.
    pub code: i32,
    /// The human-readable text, CLN's wording where CLN has one.
    pub message: String,
    /// Extra structured detail; most errors have none.
    pub data: Option<Value>,
}

impl RpcError {
    /// An error without `data`.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(code::INVALID_REQUEST, message)
    }

    /// -32601.
    pub fn method_not_found(message: impl Into<String>) -> Self {
        RpcError::new(code::METHOD_NOT_FOUND, message)
    }

    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(code::INVALID_PARAMS, message)
    }

    /// -1.
    pub fn lightningd(message: impl Into<String>) -> Self {
        RpcError::new(code::LIGHTNINGD, message)
    }

    /// The error as a JSON object.
    pub fn to_json(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("code".into(), self.code.into());
        object.insert("message".into(), self.message.clone().into());
        if let Some(data) = &self.data {
            object.insert("data".into(), data.clone());
        }
        Value::Object(object)
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}
