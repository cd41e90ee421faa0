//! The server's replies (notes §4.3, §4.4): an error body for a refused request, or the local
//! JSON-RPC response with the request's `id` token put back verbatim, cut into reply chunks.

use jsonrpc::RpcError;
use serde_json::value::RawValue;

use crate::chunk::{split_messages, Direction, RequestId};
use crate::error::{NotAResponse, Refusal};
use crate::json::{object, Member};

/// `{"error":{"code":<code>,"message":<message>}}`, compact, with no `jsonrpc`, `id` or `data`
/// member (CLN's refusal body, steps 1–8). `message` is escaped by the serializer: CLN pastes
/// it in as it is (notes §7.11), which is only safe while every caller escapes first.
pub fn error_body(code: i32, message: &str) -> Vec<u8> {
    serde_json::json!({"error": {"code": code, "message": message}})
        .to_string()
        .into_bytes()
}

/// [`error_body`] as reply messages for request `id`: what a refusal, or the runes crate's
/// verdict (code 19537, `Invalid rune: <reason>`), sends back.
pub fn error_reply(id: RequestId, code: i32, message: &str) -> Vec<Vec<u8>> {
    reply_messages(id, &error_body(code, message))
}

impl Refusal {
    /// The reply messages refusing request `id`.
    pub fn reply(self, id: RequestId) -> Vec<Vec<u8>> {
        error_reply(id, self.code(), self.message())
    }
}

/// The JSON-RPC response for a command that ran: `{"jsonrpc":"2.0","id":<id>,"result":..}` or
/// `{"jsonrpc":"2.0","id":<id>,"error":{"code":..,"message":..[,"data":..]}}`, where `<id>` is
/// the request's `id` token byte for byte (a string keeps its quotes and escapes, a number its
/// spelling). Apply the request's `filter` to the result before calling this.
pub fn response_body(id: &RawValue, response: Result<&RawValue, &RpcError>) -> Vec<u8> {
    let version = Member::Str("2.0");
    match response {
        Ok(result) => object(&[
            ("jsonrpc", version),
            ("id", Member::Raw(id)),
            ("result", Member::Raw(result)),
        ]),
        Err(error) => object(&[
            ("jsonrpc", version),
            ("id", Member::Raw(id)),
            ("error", Member::Value(&error.to_json())),
        ]),
    }
}

/// A complete local JSON-RPC response (as read from the RPC socket) with its `id` replaced by
/// the request's token `id`, every other member kept in order and verbatim. A response with
/// no `id` gets one first.
///
/// # Errors
/// [`NotAResponse`] if `response` is not a JSON object.
pub fn rewrite_response(id: &RawValue, response: &[u8]) -> Result<Vec<u8>, NotAResponse> {
    let text = std::str::from_utf8(response).map_err(|_| NotAResponse)?;
    let whole: &RawValue = serde_json::from_str(text).map_err(|_| NotAResponse)?;
    if !whole.get().starts_with('{') {
        return Err(NotAResponse);
    }
    let members = jsonrpc::params::members(whole.get()).map_err(|_| NotAResponse)?;
    let mut out: Vec<(&str, Member<'_>)> = Vec::with_capacity(members.len() + 1);
    if !members.iter().any(|(name, _)| name == "id") {
        out.push(("id", Member::Raw(id)));
    }
    for (name, value) in &members {
        let value = match name.as_str() {
            "id" => id,
            _ => value,
        };
        out.push((name, Member::Raw(value)));
    }
    Ok(object(&out))
}

/// Cuts a reply body into the messages for request `id` (at most 65000 JSON bytes each, the
/// last one terminal), in sending order.
pub fn reply_messages(id: RequestId, body: &[u8]) -> Vec<Vec<u8>> {
    split_messages(Direction::Reply, id, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{Chunk, ChunkKind};

    const ID: RequestId = RequestId([1, 2, 3, 4, 5, 6, 7, 8]);

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.into()).unwrap()
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn error_bodies_are_clns_and_escaped_by_the_serializer() {
        assert_eq!(
            text(error_body(19536, "Missing rune")),
            r#"{"error":{"code":19536,"message":"Missing rune"}}"#
        );
        assert_eq!(
            text(error_body(19537, "Invalid rune: \"x\"\\\n")),
            r#"{"error":{"code":19537,"message":"Invalid rune: \"x\"\\\n"}}"#
        );
        // Notes §9.7: the auth failure reply, byte for byte.
        let messages = error_reply(
            ID,
            19537,
            "Invalid rune: Not authorized: Not derived from master",
        );
        let mut expected = vec![0x59, 0x4d, 1, 2, 3, 4, 5, 6, 7, 8];
        expected.extend_from_slice(
            br#"{"error":{"code":19537,"message":"Invalid rune: Not authorized: Not derived from master"}}"#,
        );
        assert_eq!(messages, [expected]);
        let refused = Refusal::TooLarge.reply(ID);
        assert_eq!(
            Chunk::decode(&refused[0]).unwrap().json,
            br#"{"error":{"code":19536,"message":"Request too large"}}"#
        );
    }

    #[test]
    fn the_response_carries_the_request_id_verbatim() {
        let result = raw(r#"{"id":"02aa","alias":"x"}"#);
        assert_eq!(
            text(response_body(
                &raw(r#""lnmessage:getinfo#01\u0041""#),
                Ok(&result)
            )),
            r#"{"jsonrpc":"2.0","id":"lnmessage:getinfo#01\u0041","result":{"id":"02aa","alias":"x"}}"#
        );
        assert_eq!(
            text(response_body(&raw("12.0"), Ok(&result))),
            r#"{"jsonrpc":"2.0","id":12.0,"result":{"id":"02aa","alias":"x"}}"#
        );
        let mut error = RpcError::method_not_found("Unknown command 'foo'");
        assert_eq!(
            text(response_body(&raw("7"), Err(&error))),
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Unknown command 'foo'"}}"#
        );
        error.data = Some(serde_json::json!({"why": 1}));
        assert_eq!(
            text(response_body(&raw("7"), Err(&error))),
            r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"Unknown command 'foo'","data":{"why":1}}}"#
        );
    }

    #[test]
    fn a_local_response_gets_the_request_id() {
        let local = br#"{"jsonrpc":"2.0","id":"cli:commando#5/cln:getinfo#9","result":{"a":1.10}}"#;
        assert_eq!(
            text(rewrite_response(&raw(r#""client-7""#), local).unwrap()),
            r#"{"jsonrpc":"2.0","id":"client-7","result":{"a":1.10}}"#
        );
        assert_eq!(
            text(
                rewrite_response(
                    &raw("42"),
                    br#" {"jsonrpc":"2.0","id":"x","error":{"code":-1,"message":"m"}} "#
                )
                .unwrap()
            ),
            r#"{"jsonrpc":"2.0","id":42,"error":{"code":-1,"message":"m"}}"#
        );
        assert_eq!(
            text(rewrite_response(&raw("42"), br#"{"result":[]}"#).unwrap()),
            r#"{"id":42,"result":[]}"#
        );
        assert_eq!(rewrite_response(&raw("1"), b"[]"), Err(NotAResponse));
        assert_eq!(rewrite_response(&raw("1"), b"{"), Err(NotAResponse));
    }

    #[test]
    fn a_150_kb_reply_is_chunked_and_reassembles_byte_exact() {
        let big = format!(r#"{{"blob":"{}"}}"#, "ab".repeat(75_000));
        let body = response_body(&raw(r#""id-1""#), Ok(&raw(&big)));
        assert!(body.len() > 150_000);
        let messages = reply_messages(ID, &body);
        assert_eq!(messages.len(), 3);
        let mut whole = Vec::new();
        for (n, message) in messages.iter().enumerate() {
            let chunk = Chunk::decode(message).unwrap();
            let kind = match n {
                2 => ChunkKind::ReplyTerminal,
                _ => ChunkKind::ReplyContinues,
            };
            assert_eq!((chunk.kind, chunk.id), (kind, ID));
            whole.extend_from_slice(chunk.json);
        }
        assert_eq!(whole, body);
        let value: serde_json::Value = serde_json::from_slice(&whole).unwrap();
        assert_eq!(value["id"], "id-1");
    }
}
