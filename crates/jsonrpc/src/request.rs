//! Validating a request envelope in CLN's order (`lightningd/jsonrpc.c:parse_request`).

use serde_json::value::RawValue;

use crate::error::RpcError;

/// A request whose envelope is valid. Borrowed from the connection's buffer.
#[derive(Debug)]
pub struct Request<'a> {
    /// The id token, echoed byte for byte.
    pub id: &'a str,
    /// The method name.
    pub method: String,
    /// The params token (array or object once [`crate::params::RawParams::parse`] agrees).
    pub params: &'a RawValue,
    /// The optional top-level `filter`.
    pub filter: Option<&'a RawValue>,
}

/// A request that cannot be served: the error goes back with `id` (`None` → `null`).
#[derive(Debug, PartialEq)]
pub struct Rejected<'a> {
    /// The request's id token, if it got that far.
    pub id: Option<&'a str>,
    /// Why.
    pub error: RpcError,
}

/// Checks the envelope of one JSON value: an object with an id, `"jsonrpc": "2.0"`, a string
/// method and params. Errors before the id is known go back with a `null` id, as CLN's do.
pub fn parse_request(text: &str) -> Result<Request<'_>, Rejected<'_>> {
    let malformed = |message: &str| Rejected {
        id: None,
        error: RpcError::invalid_request(message),
    };
    if !text.starts_with('{') {
        return Err(malformed("Expected {} for json command"));
    }
    let members = crate::params::members(text)
        .map_err(|e| malformed(&format!("Expected {{}} for json command: {e}")))?;
    // As CLN's `json_get_member`: the first member of a name counts.
    let member = |name: &str| {
        members
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    };
    let id = member("id").ok_or_else(|| malformed("No id"))?.get();
    if id.starts_with('{') || id.starts_with('[') {
        return Err(malformed("Expected string/primitive for id"));
    }
    if member("jsonrpc").map(RawValue::get) != Some("\"2.0\"") {
        return Err(malformed(
            "jsonrpc: \"2.0\" must be specified in the request",
        ));
    }
    let with_id = |message: &str| Rejected {
        id: Some(id),
        error: RpcError::invalid_request(message),
    };
    let (method, params) = match (member("method"), member("params")) {
        (Some(method), Some(params)) => (method, params),
        (None, _) => return Err(with_id("No method")),
        (Some(_), None) => return Err(with_id("No params")),
    };
    let method = match method.get().starts_with('"') {
        true => serde_json::from_str::<String>(method.get()).ok(),
        false => None,
    }
    .ok_or_else(|| with_id("Expected string for method"))?;
    Ok(Request {
        id,
        method,
        params,
        filter: member("filter"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(text: &str) -> (Option<&str>, String) {
        let rejected = parse_request(text).unwrap_err();
        assert_eq!(rejected.error.code, -32600);
        (rejected.id, rejected.error.message)
    }

    #[test]
    fn a_good_request_keeps_its_raw_id_and_params() {
        let text = r#"{"jsonrpc":"2.0","id":"cli:getinfo#7","method":"getinfo","params":[]}"#;
        let request = parse_request(text).unwrap();
        assert_eq!(request.id, "\"cli:getinfo#7\"");
        assert_eq!(request.method, "getinfo");
        assert_eq!(request.params.get(), "[]");
        let request =
            parse_request(r#"{"id":12.0,"params":{},"method":"x\u0079","jsonrpc":"2.0"}"#).unwrap();
        assert_eq!(request.id, "12.0");
        assert_eq!(request.method, "xy");
    }

    #[test]
    fn malformed_envelopes_get_clns_errors_in_clns_order() {
        assert_eq!(
            rejected("[1]"),
            (None, "Expected {} for json command".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","method":"x","params":[]}"#),
            (None, "No id".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":{},"method":"x","params":[]}"#),
            (None, "Expected string/primitive for id".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":[1],"method":"x","params":[]}"#),
            (None, "Expected string/primitive for id".into())
        );
        let no_version = "jsonrpc: \"2.0\" must be specified in the request".to_string();
        assert_eq!(
            rejected(r#"{"id":1,"method":"x","params":[]}"#),
            (None, no_version.clone())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"1.0","id":1,"method":"x","params":[]}"#),
            (None, no_version.clone())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":2.0,"id":1,"method":"x","params":[]}"#),
            (None, no_version)
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":1,"params":[]}"#),
            (Some("1"), "No method".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":1}"#),
            (Some("1"), "No method".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":"a","method":"x"}"#),
            (Some("\"a\""), "No params".into())
        );
        assert_eq!(
            rejected(r#"{"jsonrpc":"2.0","id":1,"method":7,"params":[]}"#),
            (Some("1"), "Expected string for method".into())
        );
    }
}
