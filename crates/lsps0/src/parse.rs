//! Reading a payload of message 37913 with the bLIP's checks (bLIP §Message Payload Format;
//! notes §1.2), for the side that receives it.
//!
//! # What is a "bad message format"
//!
//! Checks 1–3 are about bytes and JSON: no 0 byte, UTF-8, exactly one JSON object with only
//! space, tab, LF or CR around it (serde_json's whitespace is exactly those four). So `" { } "`
//! passes and `"{"`, `" [ ] "`, `" { } { "` and `" { } { }"` fail. An object in which one of
//! the JSON-RPC members (`jsonrpc`, `id`, `method`, `params`, `result`, `error`) appears twice
//! fails too: it has no single meaning.
//!
//! Checks 4 and 5 are about roles, and this is where a reading has to be chosen:
//!
//! * **The LSP** ([`parse_for_service`]) must receive a request. An object is taken as a
//!   request when it has a `method` and an `id` and neither `result` nor `error`; anything
//!   else (a response, a notification, neither) has a bad message format and gets `-32700`
//!   with `"id": null`. A request-shaped object that JSON-RPC 2.0 or LSPS0 then refuses
//!   (`jsonrpc` not `"2.0"`, `method` or `id` not a string, `params` not an object) gets
//!   `-32600` "Invalid Request", with its `id` when that is a string: JSON-RPC's answer to an
//!   invalid request, and one the client can match to what it sent, where a `-32700` with a
//!   null id would leave it waiting for its timeout. CLN's service does the same for a wrong
//!   `jsonrpc`; LDK ignores `jsonrpc` and answers everything else it cannot read with
//!   `-32700` (notes §2.5, §3.6).
//! * **The client** ([`parse_for_client`]) must receive a response or a notification, and
//!   cannot answer anything, so every way of failing is a bad message format: the wrong
//!   kind, and a response or notification that is not valid JSON-RPC 2.0 as LSPS0 uses it.
//!   A response's `id` must be a string (or `null`, on an error): our requests only carry
//!   string ids, so a number can be the answer to none of them (LDK and CLN refuse it too).

use serde_json::value::RawValue;

use jsonrpc::RpcError;

use crate::error::{BadMessage, InvalidRequest, Kind};
use crate::message::{empty_object, is_object, Id, Notification, Request, Response};

/// Why the LSP will not take a payload as a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRejected {
    /// A bad message format: answer `-32700` with `"id": null`, ignore it, log it.
    BadMessage(BadMessage),
    /// A request JSON-RPC 2.0 or LSPS0 does not accept: answer `-32600` with `id` (`None`
    /// is `null`).
    Invalid {
        /// The request's id, if it is a string.
        id: Option<Id>,
        /// What is wrong.
        reason: InvalidRequest,
    },
}

/// What an LSP may send a client.
#[derive(Debug, Clone, PartialEq)]
pub enum LspMessage {
    /// The answer to a request.
    Response(Response),
    /// A notification.
    Notification(Notification),
}

/// Reads a payload an LSP received.
///
/// # Errors
/// [`RequestRejected`]: a bad message format, or an invalid request.
pub fn parse_for_service(payload: &[u8]) -> Result<Request, RequestRejected> {
    let envelope = read_object(payload).map_err(RequestRejected::BadMessage)?;
    match envelope.kind() {
        Kind::Request => {}
        other => return Err(RequestRejected::BadMessage(BadMessage::WrongKind(other))),
    }
    let id = envelope.id.and_then(string_of).map(Id::new);
    let invalid = |reason| RequestRejected::Invalid {
        id: id.clone(),
        reason,
    };
    if envelope.jsonrpc.and_then(string_of).as_deref() != Some("2.0") {
        return Err(invalid(InvalidRequest::Version));
    }
    let method = envelope
        .method
        .and_then(string_of)
        .ok_or_else(|| invalid(InvalidRequest::MethodNotString))?;
    let Some(request_id) = id.clone() else {
        return Err(invalid(InvalidRequest::IdNotString));
    };
    let params = match envelope.params {
        None => empty_object(),
        Some(params) if is_object(params) => params.to_owned(),
        Some(_) => return Err(invalid(InvalidRequest::ParamsNotObject)),
    };
    Request::new(request_id, method, params).map_err(|_| invalid(InvalidRequest::ParamsNotObject))
}

/// Reads a payload a client received.
///
/// # Errors
/// [`BadMessage`]: the client ignores the payload and sends the peer nothing more until it
/// reconnects.
pub fn parse_for_client(payload: &[u8]) -> Result<LspMessage, BadMessage> {
    let envelope = read_object(payload)?;
    match envelope.kind() {
        Kind::Response => response(&envelope).map(LspMessage::Response),
        Kind::Notification => notification(&envelope).map(LspMessage::Notification),
        other => Err(BadMessage::WrongKind(other)),
    }
}

/// The JSON-RPC members of the one object in a payload, each at most once.
#[derive(Debug, Default)]
struct Envelope<'a> {
    jsonrpc: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    method: Option<&'a RawValue>,
    params: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
}

impl Envelope<'_> {
    fn kind(&self) -> Kind {
        let answer = self.result.is_some() || self.error.is_some();
        match (self.method.is_some(), answer, self.id.is_some()) {
            (true, true, _) => Kind::Ambiguous,
            (true, false, true) => Kind::Request,
            (true, false, false) => Kind::Notification,
            (false, true, _) => Kind::Response,
            (false, false, _) => Kind::Neither,
        }
    }
}

/// Checks 1–3, then the JSON-RPC members.
fn read_object(payload: &[u8]) -> Result<Envelope<'_>, BadMessage> {
    if let Some(offset) = payload.iter().position(|&byte| byte == 0) {
        return Err(BadMessage::NulByte { offset });
    }
    let text = std::str::from_utf8(payload).map_err(|e| BadMessage::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
    let first = match values.next() {
        None => return Err(BadMessage::Empty),
        Some(Err(e)) => return Err(BadMessage::NotJson(e.to_string())),
        Some(Ok(first)) => first,
    };
    match first.get().as_bytes().first() {
        Some(b'{') => {}
        Some(b'[') => return Err(BadMessage::Batch),
        _ => return Err(BadMessage::NotAnObject),
    }
    let end = values.byte_offset();
    let rest = text.get(end..).unwrap_or_default();
    if let Some(extra) = rest.find(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')) {
        return Err(BadMessage::MoreThanOneValue {
            offset: end + extra,
        });
    }
    let members =
        jsonrpc::params::members(first.get()).map_err(|e| BadMessage::NotJson(e.to_string()))?;
    let mut envelope = Envelope::default();
    for (name, value) in members {
        let slot = match name.as_str() {
            "jsonrpc" => &mut envelope.jsonrpc,
            "id" => &mut envelope.id,
            "method" => &mut envelope.method,
            "params" => &mut envelope.params,
            "result" => &mut envelope.result,
            "error" => &mut envelope.error,
            // Members JSON-RPC does not define are ignored, as LDK and CLN ignore them.
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(BadMessage::DuplicateMember(name));
        }
    }
    Ok(envelope)
}

/// The text of a JSON string token; `None` for any other token.
fn string_of(raw: &RawValue) -> Option<String> {
    match raw.get().starts_with('"') {
        true => serde_json::from_str(raw.get()).ok(),
        false => None,
    }
}

fn check_version(envelope: &Envelope<'_>) -> Result<(), &'static str> {
    match envelope.jsonrpc.and_then(string_of).as_deref() {
        Some("2.0") => Ok(()),
        _ => Err("jsonrpc must be \"2.0\""),
    }
}

fn response(envelope: &Envelope<'_>) -> Result<Response, BadMessage> {
    let invalid = BadMessage::InvalidResponse;
    check_version(envelope).map_err(invalid)?;
    let id = match envelope.id {
        None => return Err(invalid("no id")),
        Some(raw) if raw.get() == "null" => None,
        Some(raw) => Some(Id::new(
            string_of(raw).ok_or(invalid("id must be a string or null"))?,
        )),
    };
    let outcome = match (envelope.result, envelope.error) {
        (Some(_), Some(_)) => return Err(invalid("both result and error")),
        (Some(_), None) if id.is_none() => return Err(invalid("a result with a null id")),
        (Some(result), None) => Ok(result.to_owned()),
        (None, Some(error)) => Err(error_object(error)?),
        (None, None) => return Err(invalid("neither result nor error")),
    };
    Ok(Response { id, outcome })
}

/// JSON-RPC 2.0's error object: an integer `code`, a string `message`, any `data`.
fn error_object(raw: &RawValue) -> Result<RpcError, BadMessage> {
    let invalid = BadMessage::InvalidResponse;
    if !is_object(raw) {
        return Err(invalid("error must be an object"));
    }
    let members =
        jsonrpc::params::members(raw.get()).map_err(|_| invalid("error must be an object"))?;
    let (mut code, mut message, mut data) = (None, None, None);
    for (name, value) in members {
        let slot = match name.as_str() {
            "code" => &mut code,
            "message" => &mut message,
            "data" => &mut data,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(BadMessage::DuplicateMember(format!("error.{name}")));
        }
    }
    let code = code
        .and_then(|code| serde_json::from_str::<i64>(code.get()).ok())
        .and_then(|code| i32::try_from(code).ok())
        .ok_or(invalid("error.code must be an integer"))?;
    let message = message
        .and_then(string_of)
        .ok_or(invalid("error.message must be a string"))?;
    let data = match data {
        None => None,
        // serde_json refuses nesting past 128 levels when building a value.
        Some(data) => {
            Some(serde_json::from_str(data.get()).map_err(|_| invalid("error.data is too deep"))?)
        }
    };
    Ok(RpcError {
        code,
        message,
        data,
    })
}

fn notification(envelope: &Envelope<'_>) -> Result<Notification, BadMessage> {
    let invalid = BadMessage::InvalidNotification;
    check_version(envelope).map_err(invalid)?;
    let method = envelope
        .method
        .and_then(string_of)
        .ok_or(invalid("method must be a string"))?;
    let params = match envelope.params {
        None => empty_object(),
        Some(params) => params.to_owned(),
    };
    Notification::new(method, params).map_err(|_| invalid("params must be an object"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    fn bad_for_service(payload: &[u8]) -> BadMessage {
        match parse_for_service(payload) {
            Err(RequestRejected::BadMessage(bad)) => bad,
            other => panic!("{:?}: expected a bad message, got {other:?}", payload),
        }
    }

    fn invalid(payload: &str) -> (Option<Id>, InvalidRequest) {
        match parse_for_service(payload.as_bytes()) {
            Err(RequestRejected::Invalid { id, reason }) => (id, reason),
            other => panic!("{payload}: expected an invalid request, got {other:?}"),
        }
    }

    fn response_of(payload: &str) -> Response {
        match parse_for_client(payload.as_bytes()) {
            Ok(LspMessage::Response(response)) => response,
            other => panic!("{payload}: expected a response, got {other:?}"),
        }
    }

    const REQUEST: &str = r#"{"jsonrpc":"2.0","id":"a","method":"m","params":{}}"#;

    #[test]
    fn the_blips_own_examples() {
        // " { } " passes checks 1-3 (and is then the wrong kind: it is not a request).
        assert_eq!(
            bad_for_service(b" { } "),
            BadMessage::WrongKind(Kind::Neither)
        );
        assert_eq!(
            parse_for_client(b" { } "),
            Err(BadMessage::WrongKind(Kind::Neither))
        );
        assert!(matches!(bad_for_service(b"{"), BadMessage::NotJson(_)));
        assert_eq!(bad_for_service(b" [ ] "), BadMessage::Batch);
        assert_eq!(
            bad_for_service(b" { } { "),
            BadMessage::MoreThanOneValue { offset: 5 }
        );
        assert_eq!(
            bad_for_service(b" { } { }"),
            BadMessage::MoreThanOneValue { offset: 5 }
        );
        for payload in [&b"{"[..], b" [ ] ", b" { } { ", b" { } { }"] {
            assert!(parse_for_client(payload).is_err());
        }
        // The same checks let a real request through with the allowed whitespace around it.
        let padded = format!(" \t\r\n{REQUEST}\n\r\t ");
        assert!(parse_for_service(padded.as_bytes()).is_ok());
    }

    #[test]
    fn only_json_whitespace_may_surround_the_object() {
        for padding in ["\u{b}", "\u{c}", "\u{a0}", "\u{feff}", "x"] {
            let before = format!("{padding}{REQUEST}");
            let after = format!("{REQUEST}{padding}");
            assert!(parse_for_service(before.as_bytes()).is_err(), "{before:?}");
            assert!(parse_for_service(after.as_bytes()).is_err(), "{after:?}");
        }
        assert_eq!(bad_for_service(b""), BadMessage::Empty);
        assert_eq!(bad_for_service(b" \n "), BadMessage::Empty);
    }

    #[test]
    fn nul_bytes_fail_wherever_they_are() {
        let mut trailing = REQUEST.as_bytes().to_vec();
        trailing.push(0);
        assert_eq!(
            bad_for_service(&trailing),
            BadMessage::NulByte {
                offset: REQUEST.len()
            }
        );
        assert_eq!(
            parse_for_client(b"\0{}"),
            Err(BadMessage::NulByte { offset: 0 })
        );
        let inside = b"{\"jsonrpc\":\"2.0\",\"id\":\"a\0\",\"method\":\"m\"}";
        assert_eq!(bad_for_service(inside), BadMessage::NulByte { offset: 24 });
        // An escaped NUL is six ASCII bytes, not a 0 byte: the bLIP's check does not apply.
        assert!(parse_for_service(br#"{"jsonrpc":"2.0","id":"a\u0000","method":"m"}"#).is_ok());
    }

    #[test]
    fn invalid_utf8_and_other_values_fail() {
        assert_eq!(
            bad_for_service(b"{\"id\":\"\xff\"}"),
            BadMessage::NotUtf8 { valid_up_to: 7 }
        );
        assert_eq!(bad_for_service(b"\"{}\""), BadMessage::NotAnObject);
        assert_eq!(bad_for_service(b"null"), BadMessage::NotAnObject);
        assert_eq!(bad_for_service(b"42"), BadMessage::NotAnObject);
        assert_eq!(
            bad_for_service(format!("[{REQUEST}]").as_bytes()),
            BadMessage::Batch
        );
        assert!(matches!(
            bad_for_service(b"{\"a\":}"),
            BadMessage::NotJson(_)
        ));
        assert!(matches!(
            bad_for_service(b"{'a':1}"),
            BadMessage::NotJson(_)
        ));
    }

    #[test]
    fn duplicate_json_rpc_members_fail_and_other_duplicates_do_not() {
        let twice = r#"{"jsonrpc":"2.0","id":"a","id":"b","method":"m"}"#;
        assert_eq!(
            bad_for_service(twice.as_bytes()),
            BadMessage::DuplicateMember("id".into())
        );
        // An escaped name is the same name.
        let escaped = r#"{"jsonrpc":"2.0","id":"a","\u0069d":"b","method":"m"}"#;
        assert_eq!(
            bad_for_service(escaped.as_bytes()),
            BadMessage::DuplicateMember("id".into())
        );
        let extra = r#"{"jsonrpc":"2.0","id":"a","method":"m","x":1,"x":2}"#;
        assert!(parse_for_service(extra.as_bytes()).is_ok());
        let error = r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"code":2,"message":""}}"#;
        assert_eq!(
            parse_for_client(error.as_bytes()),
            Err(BadMessage::DuplicateMember("error.code".into()))
        );
    }

    #[test]
    fn the_lsp_takes_only_requests() {
        let response = r#"{"jsonrpc":"2.0","id":"a","result":{}}"#;
        assert_eq!(
            bad_for_service(response.as_bytes()),
            BadMessage::WrongKind(Kind::Response)
        );
        let notification = r#"{"jsonrpc":"2.0","method":"lsps0.list_protocols","params":{}}"#;
        assert_eq!(
            bad_for_service(notification.as_bytes()),
            BadMessage::WrongKind(Kind::Notification)
        );
        let both = r#"{"jsonrpc":"2.0","id":"a","method":"m","result":{}}"#;
        assert_eq!(
            bad_for_service(both.as_bytes()),
            BadMessage::WrongKind(Kind::Ambiguous)
        );
    }

    #[test]
    fn a_request_is_read_with_its_id_method_and_params() {
        let blip = r#"{
          "method": "lsps0.list_protocols",
          "jsonrpc": "2.0",
          "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
          "params": {}
        }"#;
        let request = parse_for_service(blip.as_bytes()).unwrap();
        assert_eq!(
            request.id().as_str(),
            "example#3cad6a54d302edba4c9ade2f7ffac098"
        );
        assert_eq!(request.method(), "lsps0.list_protocols");
        assert_eq!(request.params().get(), "{}");
        // No params means none (LDK and CLN read it so too); unknown members are ignored.
        let bare = r#"{"jsonrpc":"2.0","id":"b","method":"m","x":[1]}"#;
        assert_eq!(
            parse_for_service(bare.as_bytes()).unwrap().params().get(),
            "{}"
        );
        // Escapes are read: the id is the string, not its spelling.
        let escaped = r#"{"jsonrpc":"2.0","id":"\u0041","method":"m","params":{"k" : 1}}"#;
        let request = parse_for_service(escaped.as_bytes()).unwrap();
        assert_eq!(request.id().as_str(), "A");
        assert_eq!(request.params().get(), r#"{"k" : 1}"#);
    }

    #[test]
    fn request_shaped_objects_json_rpc_refuses_are_invalid_requests() {
        let a = Some(Id::new("a"));
        assert_eq!(
            invalid(r#"{"id":"a","method":"m","params":{}}"#),
            (a.clone(), InvalidRequest::Version)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"1.0","id":"a","method":"m"}"#),
            (a.clone(), InvalidRequest::Version)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":2.0,"id":"a","method":"m"}"#),
            (a.clone(), InvalidRequest::Version)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":"a","method":7}"#),
            (a.clone(), InvalidRequest::MethodNotString)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":"a","method":"m","params":["x"]}"#),
            (a.clone(), InvalidRequest::ParamsNotObject)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":"a","method":"m","params":null}"#),
            (a, InvalidRequest::ParamsNotObject)
        );
        // Ids that are not strings are not LSPS0 ids, and are not echoed.
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":42,"method":"m","params":{}}"#),
            (None, InvalidRequest::IdNotString)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":null,"method":"m","params":{}}"#),
            (None, InvalidRequest::IdNotString)
        );
        assert_eq!(
            invalid(r#"{"jsonrpc":"2.0","id":{"a":1},"method":7}"#),
            (None, InvalidRequest::MethodNotString)
        );
    }

    #[test]
    fn the_client_takes_responses_and_notifications_only() {
        assert_eq!(
            parse_for_client(REQUEST.as_bytes()),
            Err(BadMessage::WrongKind(Kind::Request))
        );
        let blip = r#"{
          "jsonrpc": "2.0",
          "id": "example#3cad6a54d302edba4c9ade2f7ffac098",
          "result": {
            "protocols": [1, 3],
            "example-undefined-key-that-clients-should-ignore": true
          }
        }"#;
        let response = response_of(blip);
        assert_eq!(
            response.id,
            Some(Id::new("example#3cad6a54d302edba4c9ade2f7ffac098"))
        );
        assert!(response.outcome.unwrap().get().contains("[1, 3]"));
        let notification = r#"{"jsonrpc":"2.0","method":"lsps5.webhook_registered"}"#;
        let Ok(LspMessage::Notification(notification)) = parse_for_client(notification.as_bytes())
        else {
            panic!("not a notification");
        };
        assert_eq!(notification.method(), "lsps5.webhook_registered");
        assert_eq!(notification.params().get(), "{}");
    }

    #[test]
    fn error_responses_as_the_blip_ldk_and_cln_write_them() {
        // The bLIP's -32602 example.
        let blip = r#"{"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params","data":{"unrecognized":["future_feature1_param"]}},"id":"42"}"#;
        let error = response_of(blip).outcome.unwrap_err();
        assert_eq!(error.code, code::INVALID_PARAMS);
        assert_eq!(
            error.data,
            Some(serde_json::json!({"unrecognized": ["future_feature1_param"]}))
        );
        // LDK: data always written, null when absent; or a string.
        let ldk = r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error","data":null}}"#;
        let response = response_of(ldk);
        assert_eq!(response.id, None);
        assert_eq!(
            response.outcome.unwrap_err().data,
            Some(serde_json::Value::Null)
        );
        let text = r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"Client rejected","data":"no"}}"#;
        assert_eq!(response_of(text).outcome.unwrap_err().code, 1);
        // CLN: empty message.
        let cln = r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":""}}"#;
        assert_eq!(response_of(cln).outcome.unwrap_err().message, "");
    }

    #[test]
    fn responses_json_rpc_refuses_are_bad_messages() {
        let cases = [
            (r#"{"id":"a","result":{}}"#, "jsonrpc must be \"2.0\""),
            (r#"{"jsonrpc":"2.0","result":{}}"#, "no id"),
            (
                r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
                "id must be a string or null",
            ),
            (
                r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
                "a result with a null id",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","result":{},"error":{"code":1,"message":""}}"#,
                "both result and error",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","error":"x"}"#,
                "error must be an object",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","error":{"code":1.5,"message":""}}"#,
                "error.code must be an integer",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","error":{"code":4294967296,"message":""}}"#,
                "error.code must be an integer",
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","error":{"code":1}}"#,
                "error.message must be a string",
            ),
        ];
        for (payload, why) in cases {
            assert_eq!(
                parse_for_client(payload.as_bytes()),
                Err(BadMessage::InvalidResponse(why)),
                "{payload}"
            );
        }
        let deep = format!(
            r#"{{"jsonrpc":"2.0","id":"a","error":{{"code":1,"message":"","data":{}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(
            parse_for_client(deep.as_bytes()),
            Err(BadMessage::InvalidResponse("error.data is too deep"))
        );
        let positional = r#"{"jsonrpc":"2.0","method":"m","params":[1]}"#;
        assert_eq!(
            parse_for_client(positional.as_bytes()),
            Err(BadMessage::InvalidNotification("params must be an object"))
        );
        let unnamed = r#"{"jsonrpc":"2.0","method":null}"#;
        assert_eq!(
            parse_for_client(unnamed.as_bytes()),
            Err(BadMessage::InvalidNotification("method must be a string"))
        );
    }

    #[test]
    fn deep_nesting_in_params_is_carried_without_recursion() {
        // serde_json skips raw values without recursing, so the largest payload BOLT 8 can
        // carry, nested as deep as it can be, is read without exhausting the stack.
        let depth = (crate::MAX_PAYLOAD_BYTES - 100) / 2;
        let payload = format!(
            r#"{{"jsonrpc":"2.0","id":"a","method":"m","params":{{"x":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(payload.len() <= crate::MAX_PAYLOAD_BYTES);
        assert!(parse_for_service(payload.as_bytes()).is_ok());
        let unclosed = format!("{{\"a\":{}", "[".repeat(depth));
        assert!(matches!(
            bad_for_service(unclosed.as_bytes()),
            BadMessage::NotJson(_)
        ));
    }

    #[test]
    fn what_we_write_we_read_back() {
        let request = parse_for_service(REQUEST.as_bytes()).unwrap();
        assert_eq!(parse_for_service(&request.to_payload()), Ok(request));
        let response = response_of(r#"{"jsonrpc":"2.0","id":"a","result":{"protocols":[]}}"#);
        assert_eq!(
            parse_for_client(&response.to_payload()),
            Ok(LspMessage::Response(response))
        );
    }
}
