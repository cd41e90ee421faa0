//! The three LSPS0 messages as types, and writing them as payloads (bLIP §Message Payload
//! Format). Reading them, with the bLIP's checks, is [`crate::parse`].
//!
//! Parameters and results stay raw JSON text ([`RawValue`]) from the bytes a peer sent to the
//! bytes an owner receives and back: numbers keep their exact spelling (a `serde_json::Value`
//! would round large ones through `f64`) and nothing is re-encoded on the way.
//!
//! Payloads are compact JSON with the members in the order `jsonrpc`, `id`, then `method` and
//! `params` or `result` or `error` (LDK's order). Every piece of text is written by
//! serde_json's serializer or is a [`RawValue`] serde_json has already checked, so no text a
//! peer or a caller chose is pasted in unescaped, and a payload never holds a 0 byte.

use std::fmt;

use jsonrpc::compact::{object, Member};
use jsonrpc::RpcError;
use serde_json::value::RawValue;

/// A request id: a JSON string (bLIP §Disconnection Handling; LSPS0 has no other ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(String);

impl Id {
    /// An id with this text. Our client makes its ids with [`Id::random`]; this is for ids
    /// that arrive, and for tests.
    pub fn new(text: impl Into<String>) -> Self {
        Id(text.into())
    }

    /// The lowercase hex of 16 random bytes (32 characters, 128 bits). The bLIP asks for at
    /// least 80 bits from a cryptographically secure source; LDK's ids are the same size.
    /// The caller supplies the bytes, so the crate reads no randomness of its own.
    pub fn random(entropy: [u8; 16]) -> Self {
        Id(hex::encode(entropy))
    }

    /// The id's text, without quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `params` was not a JSON object; LSPS0 passes parameters by name only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamsNotObject;

impl fmt::Display for ParamsNotObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("params must be a JSON object (parameters by name)")
    }
}

impl std::error::Error for ParamsNotObject {}

/// Whether a raw token is a JSON object. Its first non-whitespace byte tells, since
/// serde_json has checked it is one JSON value.
pub(crate) fn is_object(raw: &RawValue) -> bool {
    raw.get()
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
}

/// `{}`, the params of a request or notification that has none.
pub(crate) fn empty_object() -> Box<RawValue> {
    // A literal that is valid JSON: this cannot fail.
    RawValue::from_string("{}".to_owned()).expect("{} is a JSON object")
}

/// A client's request: `{"jsonrpc":"2.0","id":…,"method":…,"params":{…}}`.
#[derive(Debug, Clone)]
pub struct Request {
    id: Id,
    method: String,
    params: Box<RawValue>,
}

impl Request {
    /// A request. `params` must be an object.
    ///
    /// # Errors
    /// [`ParamsNotObject`] otherwise.
    pub fn new(
        id: Id,
        method: impl Into<String>,
        params: Box<RawValue>,
    ) -> Result<Self, ParamsNotObject> {
        if !is_object(&params) {
            return Err(ParamsNotObject);
        }
        Ok(Request {
            id,
            method: method.into(),
            params,
        })
    }

    /// The id the response must carry.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// The method name.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The parameters: always a JSON object (`{}` when the request had none).
    pub fn params(&self) -> &RawValue {
        &self.params
    }

    /// Takes the parameters out, for handing them on.
    pub fn into_parts(self) -> (Id, String, Box<RawValue>) {
        (self.id, self.method, self.params)
    }

    /// The payload of message 37913.
    pub fn to_payload(&self) -> Vec<u8> {
        object(&[
            ("jsonrpc", Member::Str("2.0")),
            ("id", Member::Str(self.id.as_str())),
            ("method", Member::Str(&self.method)),
            ("params", Member::Raw(&self.params)),
        ])
    }
}

/// The LSP's answer to a request: a result or an error object.
#[derive(Debug, Clone)]
pub struct Response {
    /// The request's id; `None` is `"id": null`, which only error responses have (the LSP
    /// could not read the request's id: a bad message format, or an id that is not a string).
    pub id: Option<Id>,
    /// `result` (LSPS methods' results are objects; a client checks that when it reads the
    /// method's result) or `error`. `error.data` is whatever the LSP sent: the bLIP makes it
    /// an object, LDK sends a string or `null`.
    pub outcome: Result<Box<RawValue>, RpcError>,
}

impl Response {
    /// The payload of message 37913. An error's `data` is written only when present
    /// (JSON-RPC 2.0 lets it be left out; LDK and CLN write `null`, which means the same).
    pub fn to_payload(&self) -> Vec<u8> {
        let id = match &self.id {
            Some(id) => Member::Str(id.as_str()),
            None => Member::Null,
        };
        match &self.outcome {
            Ok(result) => object(&[
                ("jsonrpc", Member::Str("2.0")),
                ("id", id),
                ("result", Member::Raw(result)),
            ]),
            Err(error) => object(&[
                ("jsonrpc", Member::Str("2.0")),
                ("id", id),
                ("error", Member::Value(&error.to_json())),
            ]),
        }
    }
}

/// A notification, which only the LSP sends: `{"jsonrpc":"2.0","method":…,"params":{…}}`.
/// It has no id and is never answered.
#[derive(Debug, Clone)]
pub struct Notification {
    method: String,
    params: Box<RawValue>,
}

impl Notification {
    /// A notification. `params` must be an object.
    ///
    /// # Errors
    /// [`ParamsNotObject`] otherwise.
    pub fn new(method: impl Into<String>, params: Box<RawValue>) -> Result<Self, ParamsNotObject> {
        if !is_object(&params) {
            return Err(ParamsNotObject);
        }
        Ok(Notification {
            method: method.into(),
            params,
        })
    }

    /// The method name (`lsps<N>.<what_happened>`).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The parameters: always a JSON object (`{}` when the notification had none).
    pub fn params(&self) -> &RawValue {
        &self.params
    }

    /// The payload of message 37913. An LSP sends it only to a peer that has sent it message
    /// 37913 before (bLIP: "SHOULD NOT send … unless the peer had already sent" one); that
    /// memory is the caller's.
    pub fn to_payload(&self) -> Vec<u8> {
        object(&[
            ("jsonrpc", Member::Str("2.0")),
            ("method", Member::Str(&self.method)),
            ("params", Member::Raw(&self.params)),
        ])
    }
}

// Raw values compare by their text: equal text is equal JSON, and that is all the tests and
// callers need (serde_json's `RawValue` has no `PartialEq`).
impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.method == other.method
            && self.params.get() == other.params.get()
    }
}

impl Eq for Request {}

impl PartialEq for Response {
    fn eq(&self, other: &Self) -> bool {
        let outcome = match (&self.outcome, &other.outcome) {
            (Ok(a), Ok(b)) => a.get() == b.get(),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        self.id == other.id && outcome
    }
}

impl PartialEq for Notification {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method && self.params.get() == other.params.get()
    }
}

impl Eq for Notification {}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn text(payload: Vec<u8>) -> String {
        String::from_utf8(payload).unwrap()
    }

    #[test]
    fn a_request_is_written_compactly_in_ldks_member_order() {
        let request = Request::new(
            Id::new("example#3cad6a54d302edba4c9ade2f7ffac098"),
            "lsps0.list_protocols",
            raw("{}"),
        )
        .unwrap();
        assert_eq!(
            text(request.to_payload()),
            r#"{"jsonrpc":"2.0","id":"example#3cad6a54d302edba4c9ade2f7ffac098","method":"lsps0.list_protocols","params":{}}"#
        );
        assert_eq!(
            Request::new(Id::new("1"), "m", raw("[1]")),
            Err(ParamsNotObject)
        );
        assert_eq!(
            Request::new(Id::new("1"), "m", raw("null")),
            Err(ParamsNotObject)
        );
    }

    #[test]
    fn raw_params_and_results_are_kept_byte_for_byte() {
        let params = raw(r#"{"amount_msat":"546000","big":123456789012345678901234567890}"#);
        let request = Request::new(Id::new("x"), "lsps2.buy", params).unwrap();
        assert!(text(request.to_payload()).ends_with(
            r#""params":{"amount_msat":"546000","big":123456789012345678901234567890}}"#
        ));
        let response = Response {
            id: Some(Id::new("x")),
            outcome: Ok(raw(r#"{"n":1.50}"#)),
        };
        assert_eq!(
            text(response.to_payload()),
            r#"{"jsonrpc":"2.0","id":"x","result":{"n":1.50}}"#
        );
    }

    #[test]
    fn errors_carry_data_only_when_present_and_null_ids_are_null() {
        let mut error = RpcError::new(-32602, "Invalid params");
        error.data = Some(serde_json::json!({"unrecognized": ["future_feature1_param"]}));
        let response = Response {
            id: Some(Id::new("42")),
            outcome: Err(error),
        };
        // The bLIP's own example, compacted, with LDK's member order.
        assert_eq!(
            text(response.to_payload()),
            r#"{"jsonrpc":"2.0","id":"42","error":{"code":-32602,"message":"Invalid params","data":{"unrecognized":["future_feature1_param"]}}}"#
        );
        let parse_error = Response {
            id: None,
            outcome: Err(RpcError::new(-32700, "Parse error")),
        };
        assert_eq!(
            text(parse_error.to_payload()),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#
        );
    }

    #[test]
    fn text_is_escaped_so_payloads_hold_no_nul_or_quote_breakout() {
        let request = Request::new(Id::new("a\"b\0c"), "m\n", raw("{}")).unwrap();
        let payload = request.to_payload();
        assert!(!payload.contains(&0));
        assert_eq!(
            text(payload),
            r#"{"jsonrpc":"2.0","id":"a\"b\u0000c","method":"m\n","params":{}}"#
        );
    }

    #[test]
    fn a_notification_has_no_id() {
        let notification = Notification::new("lsps5.webhook_registered", raw("{}")).unwrap();
        assert_eq!(
            text(notification.to_payload()),
            r#"{"jsonrpc":"2.0","method":"lsps5.webhook_registered","params":{}}"#
        );
        assert_eq!(Notification::new("m", raw("[]")), Err(ParamsNotObject));
    }

    #[test]
    fn random_ids_are_32_hex_digits_of_the_given_bytes() {
        let id = Id::random([0xab; 16]);
        assert_eq!(id.as_str(), "ab".repeat(16));
        assert_ne!(Id::random([1; 16]), Id::random([2; 16]));
        assert_eq!(empty_object().get(), "{}");
    }
}
