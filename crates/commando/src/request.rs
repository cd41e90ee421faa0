//! Checking a complete request in CLN's order, up to "it has a rune string" (notes §4.2, §4.3
//! steps 1–6). Decoding and checking the rune (steps 7–8) is the runes crate's job, and
//! running the method (step 9) the caller's.

use serde_json::value::RawValue;

use crate::error::Refusal;

/// A request that passed every check before the rune's.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method to run, unescaped: the same text the rune is checked against.
    pub method: String,
    /// `params` as sent (an object or an array), or `{}` when absent (allowed since v23.08).
    pub params: Box<RawValue>,
    /// The `id` token as sent, any JSON value: the reply carries it back byte for byte.
    pub id: Box<RawValue>,
    /// The rune, unescaped; not yet decoded.
    pub rune: String,
    /// `filter` as sent, if present; the local RPC applies it, as CLN forwards it there.
    pub filter: Option<Box<RawValue>>,
}

/// Checks one request's JSON text (every byte of it from the peer) in CLN's order:
/// JSON, an object, `method`, `params`, `id`, `rune`. Members are looked up by their unescaped
/// name, the first of a name counting (CLN's `json_get_member`); unknown members are ignored.
///
/// # Errors
/// The first check that fails, as a [`Refusal`] whose text is CLN's.
pub fn parse_request(json: &[u8]) -> Result<Request, Refusal> {
    // serde_json refuses invalid UTF-8, trailing bytes, and nesting past 128 levels (so the
    // peer cannot exhaust our stack); each is "Invalid JSON".
    let text = std::str::from_utf8(json).map_err(|_| Refusal::InvalidJson)?;
    let whole: &RawValue = serde_json::from_str(text).map_err(|_| Refusal::InvalidJson)?;
    if !whole.get().starts_with('{') {
        return Err(Refusal::NotAnObject);
    }
    let members = jsonrpc::params::members(whole.get()).map_err(|_| Refusal::InvalidJson)?;
    let member = |name: &str| crate::json::member(&members, name);

    let method = member("method").ok_or(Refusal::NoMethod)?;
    let method = string(method).ok_or(Refusal::MethodNotString)?;
    let params = match member("params") {
        None => empty_object(),
        Some(params) if is_object_or_array(params) => params.to_owned(),
        Some(_) => return Err(Refusal::ParamsNotObjectOrArray),
    };
    let id = member("id").ok_or(Refusal::MissingId)?.to_owned();
    let rune = member("rune").ok_or(Refusal::MissingRune)?;
    let rune = string(rune).ok_or(Refusal::InvalidRune)?;
    Ok(Request {
        method,
        params,
        id,
        rune,
        filter: member("filter").map(ToOwned::to_owned),
    })
}

/// The token's string value, if it is a string.
fn string(token: &RawValue) -> Option<String> {
    match token.get().starts_with('"') {
        true => serde_json::from_str(token.get()).ok(),
        false => None,
    }
}

/// Whether a token is an object or an array (a [`RawValue`] is one value, without leading
/// whitespace, so its first byte says which kind).
pub(crate) fn is_object_or_array(token: &RawValue) -> bool {
    matches!(token.get().as_bytes().first(), Some(b'{' | b'['))
}

/// `{}`, the params of a request that has none.
fn empty_object() -> Box<RawValue> {
    // `{}` is one JSON value, so this cannot fail; the fallback only keeps a panic out.
    RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(json: &str) -> Refusal {
        parse_request(json.as_bytes()).unwrap_err()
    }

    #[test]
    fn lnmessage_request_parses() {
        // Notes §6.4: lnmessage's member order, no filter, array params.
        let json = br#"{"id":"lnmessage:getinfo#0102030405060708","rune":"tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRiOWExZmE4ZTAwNmYxZTM5MzdmNjVmNjZjNDA4ZTZkYThlMWNhNzI4ZWE0MzIyMmE3MzgxZGYxY2M0NDk2MDUmbWV0aG9kPWxpc3RwZWVycyZwbnVtPTEmcG5hbWVpZF4wMjRiOWExZmE4ZTAwNmYxZTM5M3xwYXJyMF4wMjRiOWExZmE4ZTAwNmYxZTM5MyZ0aW1lPDE2NTY5MjA1MzgmcmF0ZT0y","method":"getinfo","params":[]}"#;
        let request = parse_request(json).unwrap();
        assert_eq!(request.method, "getinfo");
        assert_eq!(request.params.get(), "[]");
        assert_eq!(request.id.get(), r#""lnmessage:getinfo#0102030405060708""#);
        assert!(request.rune.starts_with("tU-RLjMi"));
        assert!(request.filter.is_none());
    }

    #[test]
    fn clns_request_parses_and_absent_params_are_an_empty_object() {
        // Notes §4.6: CLN's member order, with a filter.
        let json = br#"{"method":"listpeers","id":"cli:commando#5/cln:commando#12","params":{"id":"02aa"},"rune":"a\u0062c","filter":{"peers":[{"id":true}]}}"#;
        let request = parse_request(json).unwrap();
        assert_eq!(request.method, "listpeers");
        assert_eq!(request.params.get(), r#"{"id":"02aa"}"#);
        assert_eq!(request.rune, "abc", "unescaped");
        assert_eq!(
            request.filter.as_deref().map(RawValue::get),
            Some(r#"{"peers":[{"id":true}]}"#)
        );
        let request = parse_request(br#" {"method":"getinfo","id":7,"rune":""} "#).unwrap();
        assert_eq!(request.params.get(), "{}");
        assert_eq!(request.id.get(), "7");
    }

    #[test]
    fn ids_stay_verbatim_whatever_their_kind() {
        for id in [
            "1.50",
            "-0",
            "1e400",
            r#""a\"b\u00e9""#,
            "null",
            r#"{"x":[1]}"#,
        ] {
            let json = format!(r#"{{"method":"m","id":{id},"rune":"r"}}"#);
            assert_eq!(parse_request(json.as_bytes()).unwrap().id.get(), id);
        }
    }

    #[test]
    fn every_refusal_has_clns_text_in_clns_order() {
        let cases = [
            ("", "Invalid JSON"),
            ("{", "Invalid JSON"),
            (r#"{"method":"m"} x"#, "Invalid JSON"),
            ("[1]", "Not a JSON object"),
            (r#""method""#, "Not a JSON object"),
            ("7", "Not a JSON object"),
            (r#"{"params":7,"id":1}"#, "No method"),
            (r#"{"method":7,"params":7}"#, "Method must be a string"),
            (
                r#"{"method":"m","params":7}"#,
                "Params must be object or array",
            ),
            (
                r#"{"method":"m","params":"[]"}"#,
                "Params must be object or array",
            ),
            (
                r#"{"method":"m","params":null,"id":1}"#,
                "Params must be object or array",
            ),
            (r#"{"method":"m","params":[]}"#, "missing id field"),
            (r#"{"method":"m","id":1,"runes":"r"}"#, "Missing rune"),
            (r#"{"method":"m","id":1,"rune":7}"#, "Invalid rune"),
            (r#"{"method":"m","id":1,"rune":null}"#, "Invalid rune"),
        ];
        for (json, message) in cases {
            let refusal = refused(json);
            assert_eq!(refusal.message(), message, "{json}");
            assert_eq!(refusal.code(), 19536);
        }
        assert_eq!(
            parse_request(&[b'{', 0xff, b'}']).unwrap_err(),
            Refusal::InvalidJson
        );
        assert_eq!(
            parse_request(b"{\"method\":\"\xff\"}").unwrap_err(),
            Refusal::InvalidJson
        );
        let deep = "[".repeat(100_000);
        assert_eq!(refused(&deep), Refusal::InvalidJson, "no stack overflow");
    }

    #[test]
    fn the_first_member_of_a_name_counts() {
        let request =
            parse_request(br#"{"method":"a","method":"b","id":1,"rune":"r","rune":7}"#).unwrap();
        assert_eq!(request.method, "a");
        assert_eq!(request.rune, "r");
    }
}
