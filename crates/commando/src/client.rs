//! The client's two ends of a call (notes §4.6): the request it sends, and what it makes of the
//! complete reply. Waiting for the reply's chunks is [`crate::Replies`]'.

use jsonrpc::RpcError;
use serde_json::value::RawValue;

use crate::chunk::{split_messages, Direction, RequestId};
use crate::error::{BuildError, ClientError, ReplyError};
use crate::json::{member, object, Member};
use crate::request::is_object_or_array;

/// A commando request to send.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The remote method.
    pub method: &'a str,
    /// Its params, an object or an array; absent is sent as `{}`.
    pub params: Option<&'a RawValue>,
    /// The rune; a request without one is refused by the server (`Missing rune`), but CLN
    /// lets the caller try.
    pub rune: Option<&'a str>,
    /// The `filter` for the result, an object.
    pub filter: Option<&'a RawValue>,
    /// The request's JSON `id`, sent as a string: CLN sends its own command's id here (a
    /// quoted string since the post-v26.06 change, notes §4.7).
    pub json_id: &'a str,
}

impl ClientRequest<'_> {
    /// The request's JSON text, with CLN's members in CLN's order: `method`, `id`, `params`,
    /// then `rune` and `filter` if given. Every value is written by the serializer or is a
    /// checked JSON token.
    ///
    /// # Errors
    /// `params` that is not an object or an array, or `filter` that is not an object: CLN
    /// pastes both in as they are, so a string there makes broken JSON (notes §7.10).
    pub fn body(&self) -> Result<Vec<u8>, BuildError> {
        let empty = serde_json::Value::Object(serde_json::Map::new());
        let params = match self.params {
            None => Member::Value(&empty),
            Some(params) if is_object_or_array(params) => Member::Raw(params),
            Some(_) => return Err(BuildError::ParamsNotObjectOrArray),
        };
        let mut members = vec![
            ("method", Member::Str(self.method)),
            ("id", Member::Str(self.json_id)),
            ("params", params),
        ];
        if let Some(rune) = self.rune {
            members.push(("rune", Member::Str(rune)));
        }
        if let Some(filter) = self.filter {
            if !filter.get().starts_with('{') {
                return Err(BuildError::FilterNotObject);
            }
            members.push(("filter", Member::Raw(filter)));
        }
        Ok(object(&members))
    }

    /// The messages to send for request `id` (an id the caller picked, not in use for this
    /// peer: register it with [`crate::Replies::expect`] first), in order.
    ///
    /// # Errors
    /// As [`ClientRequest::body`].
    pub fn messages(&self, id: RequestId) -> Result<Vec<Vec<u8>>, BuildError> {
        Ok(split_messages(Direction::Command, id, &self.body()?))
    }
}

/// What a complete reply says, checked as CLN's client checks it: an `error` member wins, and
/// is passed on with its code, message and data; otherwise the `result` member is the call's
/// result. A reply whose JSON `id` differs from the one sent is still accepted (CLN only logs
/// it; the 8-byte id is what matches replies to requests).
///
/// # Errors
/// [`ReplyError::Remote`] for an `error` member with an integer `code` and a string `message`;
/// [`ReplyError::Local`] with CLN's text when the reply cannot be used.
pub fn interpret_reply(json: &[u8]) -> Result<Box<RawValue>, ReplyError> {
    let unparsable = || ClientError::Unparsable(String::from_utf8_lossy(json).into_owned());
    let text = std::str::from_utf8(json).map_err(|_| unparsable())?;
    let whole: &RawValue = serde_json::from_str(text).map_err(|_| unparsable())?;
    if !whole.get().starts_with('{') {
        return Err(ClientError::NoResult.into());
    }
    let members = jsonrpc::params::members(whole.get()).map_err(|_| unparsable())?;
    if let Some(error) = member(&members, "error") {
        return Err(ReplyError::Remote(remote_error(error)?));
    }
    match member(&members, "result") {
        Some(result) => Ok(result.to_owned()),
        None => Err(ClientError::NoResult.into()),
    }
}

/// The remote's error object, or why it is not one.
fn remote_error(error: &RawValue) -> Result<RpcError, ClientError> {
    let no_code = || ClientError::NoValidCode(error.get().to_owned());
    let fields = match error.get().starts_with('{') {
        true => jsonrpc::params::members(error.get()).map_err(|_| no_code())?,
        false => return Err(no_code()),
    };
    let field = |name: &str| member(&fields, name);
    // An integer that fits CLN's `int` (`json_to_int`): "1.0" or "1e3" are not codes.
    let code = field("code")
        .and_then(|code| serde_json::from_str::<i32>(code.get()).ok())
        .ok_or_else(no_code)?;
    let message = field("message")
        .filter(|message| message.get().starts_with('"'))
        .and_then(|message| serde_json::from_str::<String>(message.get()).ok())
        .ok_or(ClientError::NoMessage)?;
    let data = field("data").and_then(|data| serde_json::from_str(data.get()).ok());
    Ok(RpcError {
        code,
        message,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{Chunk, ChunkKind};

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.into()).unwrap()
    }

    fn local(json: &str) -> String {
        match interpret_reply(json.as_bytes()) {
            Err(ReplyError::Local(error)) => RpcError::from(error).message,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn requests_have_clns_members_in_clns_order() {
        let params = raw(r#"{"id": "02aa"}"#);
        let filter = raw(r#"{"peers":[{"id":true}]}"#);
        let request = ClientRequest {
            method: "listpeers",
            params: Some(&params),
            rune: Some("tU-R\"x"),
            filter: Some(&filter),
            json_id: "cli:commando#5/cln:commando#12",
        };
        assert_eq!(
            String::from_utf8(request.body().unwrap()).unwrap(),
            r#"{"method":"listpeers","id":"cli:commando#5/cln:commando#12","params":{"id": "02aa"},"rune":"tU-R\"x","filter":{"peers":[{"id":true}]}}"#
        );
        let bare = ClientRequest {
            method: "getinfo",
            params: None,
            rune: None,
            filter: None,
            json_id: "7",
        };
        assert_eq!(
            bare.body().unwrap(),
            br#"{"method":"getinfo","id":"7","params":{}}"#
        );
        // What we send, our server accepts as sent.
        let with_rune = ClientRequest {
            rune: Some("r"),
            ..request
        };
        let parsed = crate::parse_request(&with_rune.body().unwrap()).unwrap();
        assert_eq!(parsed.params.get(), params.get());
        assert_eq!(parsed.id.get(), r#""cli:commando#5/cln:commando#12""#);
    }

    #[test]
    fn bad_params_or_filter_are_the_callers_error() {
        let string = raw(r#""[1]""#);
        let array = raw("[1]");
        let request = ClientRequest {
            method: "m",
            params: Some(&string),
            rune: None,
            filter: None,
            json_id: "1",
        };
        assert_eq!(request.body(), Err(BuildError::ParamsNotObjectOrArray));
        let request = ClientRequest {
            params: Some(&array),
            filter: Some(&array),
            ..request
        };
        assert_eq!(request.body(), Err(BuildError::FilterNotObject));
    }

    #[test]
    fn a_150_kb_request_is_split_into_command_chunks() {
        let params = raw(&format!(r#"["{}"]"#, "p".repeat(150_000)));
        let request = ClientRequest {
            method: "m",
            params: Some(&params),
            rune: Some("r"),
            filter: None,
            json_id: "1",
        };
        let id = RequestId::from(42);
        let messages = request.messages(id).unwrap();
        let chunks: Vec<_> = messages.iter().map(|m| Chunk::decode(m).unwrap()).collect();
        let kinds: Vec<_> = chunks.iter().map(|c| c.kind).collect();
        use ChunkKind::{CommandContinues as More, CommandTerminal as Last};
        assert_eq!(kinds, [More, More, Last]);
        assert!(chunks.iter().all(|c| c.id == id));
        let whole: Vec<u8> = chunks.iter().flat_map(|c| c.json.iter().copied()).collect();
        assert_eq!(whole, request.body().unwrap());
    }

    #[test]
    fn results_and_remote_errors() {
        let result = interpret_reply(br#"{"jsonrpc":"2.0","id":"x","result":{"n":1.50}}"#);
        assert_eq!(result.unwrap().get(), r#"{"n":1.50}"#);
        let error = interpret_reply(
            br#"{"error":{"code":19537,"message":"Invalid rune: Not authorized: Not derived from master"}}"#,
        );
        assert_eq!(
            error.map(|r| r.get().to_owned()),
            Err(ReplyError::Remote(RpcError::new(
                19537,
                "Invalid rune: Not authorized: Not derived from master"
            )))
        );
        let with_data = interpret_reply(
            br#"{"id":1,"result":5,"error":{"data":{"a":[1]},"message":"m","code":-32601}}"#,
        );
        let mut expected = RpcError::new(-32601, "m");
        expected.data = Some(serde_json::json!({"a": [1]}));
        assert_eq!(
            with_data.map(|r| r.get().to_owned()),
            Err(ReplyError::Remote(expected)),
            "error wins"
        );
    }

    #[test]
    fn unusable_replies_get_clns_texts() {
        assert_eq!(local("{\"result\""), "Reply was unparsable: '{\"result\"'");
        assert_eq!(
            match interpret_reply(b"{\xff}") {
                Err(ReplyError::Local(e)) => e.message(),
                other => panic!("{other:?}"),
            },
            "Reply was unparsable: '{\u{fffd}}'"
        );
        assert_eq!(
            local(r#"{"error":{"message":"m"}}"#),
            r#"Error '{"message":"m"}' had no valid code"#
        );
        assert_eq!(
            local(r#"{"error":{"code":"1","message":"m"}}"#),
            r#"Error '{"code":"1","message":"m"}' had no valid code"#
        );
        assert_eq!(
            local(r#"{"error":{"code":1.0,"message":"m"}}"#),
            r#"Error '{"code":1.0,"message":"m"}' had no valid code"#
        );
        assert_eq!(
            local(r#"{"error":{"code":4294967296,"message":"m"}}"#),
            r#"Error '{"code":4294967296,"message":"m"}' had no valid code"#
        );
        assert_eq!(
            local(r#"{"error":"oops"}"#),
            r#"Error '"oops"' had no valid code"#
        );
        assert_eq!(local(r#"{"error":{"code":1}}"#), "Error had no message");
        assert_eq!(
            local(r#"{"error":{"code":1,"message":7}}"#),
            "Error had no message"
        );
        assert_eq!(local(r#"{"jsonrpc":"2.0","id":1}"#), "Reply had no result");
        assert_eq!(local("[1]"), "Reply had no result");
        let code = match interpret_reply(b"[]") {
            Err(error) => RpcError::from(error).code,
            Ok(_) => panic!(),
        };
        assert_eq!(code, 19535);
    }
}
