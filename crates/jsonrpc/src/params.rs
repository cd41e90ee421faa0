//! Parameters by position or by name, bound to a command's parameter list, and the generic
//! typed parsers (strings, numbers, booleans, ports) with CLN's error texts
//! (`common/json_param.c`). Parsers of Lightning values (node ids, peer messages) live with the
//! commands that take them.
//!
//! Values stay raw JSON tokens until a command asks for them, so a parser sees exactly what
//! the client wrote: `msg` may be a bare number token (lightning-cli sends all-digit hex
//! unquoted) and is decoded from its text, whatever its length.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::RpcError;

/// The params member as given: a list or name/value pairs in the order written (duplicates
/// kept, so they can be reported).
#[derive(Debug)]
pub enum RawParams<'a> {
    /// `[...]`.
    Positional(Vec<&'a RawValue>),
    /// `{...}`.
    Named(Vec<(String, &'a RawValue)>),
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry::<String, &'de RawValue>()? {
            pairs.push(pair);
        }
        Ok(pairs)
    }
}

/// The members of a JSON object in the order written, duplicates kept, values raw.
///
/// # Errors
/// `text` is not a JSON object.
pub fn members(text: &str) -> Result<Vec<(String, &RawValue)>, serde_json::Error> {
    serde_json::Deserializer::from_str(text).deserialize_map(PairsVisitor)
}

impl<'a> RawParams<'a> {
    /// Splits the params token.
    ///
    /// # Errors
    /// -32602 `Expected array or object for params`.
    pub fn parse(params: &'a RawValue) -> Result<RawParams<'a>, RpcError> {
        let text = params.get();
        let wrong = || RpcError::invalid_params("Expected array or object for params");
        if text.starts_with('[') {
            serde_json::from_str(text)
                .map(RawParams::Positional)
                .map_err(|_| wrong())
        } else if text.starts_with('{') {
            members(text).map(RawParams::Named).map_err(|_| wrong())
        } else {
            Err(wrong())
        }
    }

    /// Binds to a command's parameter names.
    ///
    /// # Errors
    /// CLN's `too many parameters`, `unknown parameter` and `duplicate json names`.
    pub fn bind(self, names: &'static [&'static str]) -> Result<Params<'a>, RpcError> {
        let mut slots = vec![None; names.len()];
        match self {
            RawParams::Positional(values) => {
                if values.len() > names.len() {
                    return Err(RpcError::invalid_params(format!(
                        "too many parameters: got {}, expected {}",
                        values.len(),
                        names.len()
                    )));
                }
                for (slot, value) in slots.iter_mut().zip(values) {
                    // A positional null means "not given".
                    if value.get() != "null" {
                        *slot = Some(value);
                    }
                }
            }
            RawParams::Named(pairs) => {
                let mut seen = vec![false; names.len()];
                for (name, value) in pairs {
                    let Some(index) = names.iter().position(|n| *n == name) else {
                        return Err(RpcError::invalid_params(format!(
                            "unknown parameter: {name}, this may be caused by a failure to \
                             autodetect key=value-style parameters. Please try using the -k \
                             flag and explicit key=value pairs of parameters."
                        )));
                    };
                    if std::mem::replace(&mut seen[index], true) {
                        return Err(RpcError::invalid_params(format!(
                            "duplicate json names: {name}"
                        )));
                    }
                    slots[index] = Some(value);
                }
            }
        }
        Ok(Params { names, slots })
    }
}

/// Parameters bound to names; commands take them out in order with typed parsers.
#[derive(Debug)]
pub struct Params<'a> {
    names: &'static [&'static str],
    slots: Vec<Option<&'a RawValue>>,
}

/// Why a parser refused a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Reported as `<name>: <what>: invalid token '<token>'`, CLN's `command_fail_badparam`.
    Should(&'static str),
    /// Reported as `<name>: <text>`, for tokens too large to quote.
    Other(String),
}

/// A typed parser of one token.
pub type Parser<T> = fn(&RawValue) -> Result<T, Refusal>;

impl Params<'_> {
    /// The value at `index` (in the command's list), parsed.
    ///
    /// # Errors
    /// -32602 `missing required parameter: <name>`, or the parser's refusal.
    pub fn required<T>(&self, index: usize, parse: Parser<T>) -> Result<T, RpcError> {
        self.optional(index, parse)?.ok_or_else(|| {
            RpcError::invalid_params(format!(
                "missing required parameter: {}",
                self.names.get(index).copied().unwrap_or("?")
            ))
        })
    }

    /// The value at `index` if given, parsed.
    ///
    /// # Errors
    /// The parser's refusal, as -32602.
    pub fn optional<T>(&self, index: usize, parse: Parser<T>) -> Result<Option<T>, RpcError> {
        let Some(Some(token)) = self.slots.get(index) else {
            return Ok(None);
        };
        let name = self.names.get(index).copied().unwrap_or("?");
        parse(token)
            .map(Some)
            .map_err(|refusal| refuse(name, token, refusal))
    }

    /// The raw token at `index`, if given.
    pub fn raw(&self, index: usize) -> Option<&RawValue> {
        self.slots.get(index).copied().flatten()
    }
}

/// The -32602 error for `token` refused as parameter `name`.
pub fn refuse(name: &str, token: &RawValue, refusal: Refusal) -> RpcError {
    RpcError::invalid_params(match refusal {
        Refusal::Should(what) => format!("{name}: {what}: invalid token '{}'", token.get()),
        Refusal::Other(text) => format!("{name}: {text}"),
    })
}

/// The text of a token: a string's contents, or a primitive's raw text (CLN's parsers work on
/// the token text, so `"123"` and `123` read the same). Objects and arrays have none.
pub fn token_text(token: &RawValue) -> Option<String> {
    let raw = token.get();
    match raw.as_bytes().first() {
        Some(b'"') => serde_json::from_str(raw).ok(),
        Some(b'{' | b'[') | None => None,
        Some(_) => Some(raw.to_owned()),
    }
}

/// A string token.
pub fn string(token: &RawValue) -> Result<String, Refusal> {
    if !token.get().starts_with('"') {
        return Err(Refusal::Should("should be a string"));
    }
    token_text(token).ok_or(Refusal::Should("should be a string"))
}

/// `true` or `false`.
pub fn boolean(token: &RawValue) -> Result<bool, Refusal> {
    match token_text(token).as_deref() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        _ => Err(Refusal::Should("should be 'true' or 'false'")),
    }
}

/// An unsigned 32-bit integer.
pub fn u32_number(token: &RawValue) -> Result<u32, Refusal> {
    token_text(token)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Refusal::Should("should be an unsigned 32 bit integer"))
}

/// An unsigned 64-bit integer (indexes, timestamps).
pub fn u64_number(token: &RawValue) -> Result<u64, Refusal> {
    token_text(token)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Refusal::Should("should be an unsigned 64 bit integer"))
}

/// A non-zero port.
pub fn port(token: &RawValue) -> Result<u16, Refusal> {
    let port: u16 = token_text(token)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Refusal::Should("should be a 16-bit integer"))?;
    match port {
        0 => Err(Refusal::Should("should be non-zero")),
        port => Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn bind(params: &str, names: &'static [&'static str]) -> Result<Vec<Option<String>>, String> {
        let params = raw(params);
        let bound = RawParams::parse(&params)
            .and_then(|p| p.bind(names))
            .map_err(|e| e.message)?;
        Ok((0..names.len())
            .map(|i| bound.raw(i).map(|t| t.get().to_owned()))
            .collect())
    }

    const NAMES: &[&str] = &["node_id", "msg"];

    #[test]
    fn binds_by_position_and_by_name() {
        assert_eq!(
            bind(r#"["a", 1]"#, NAMES),
            Ok(vec![Some("\"a\"".into()), Some("1".into())])
        );
        assert_eq!(
            bind(r#"{"msg": 77770012, "node_id": "a"}"#, NAMES),
            Ok(vec![Some("\"a\"".into()), Some("77770012".into())])
        );
        assert_eq!(bind("[null]", NAMES), Ok(vec![None, None]));
        assert_eq!(bind("{}", NAMES), Ok(vec![None, None]));
    }

    #[test]
    fn binding_errors_have_clns_texts() {
        assert_eq!(
            bind("[1,2,3]", NAMES),
            Err("too many parameters: got 3, expected 2".into())
        );
        assert!(bind(r#"{"node":1}"#, NAMES)
            .unwrap_err()
            .starts_with("unknown parameter: node, this may be caused by a failure to autodetect key=value-style parameters."));
        assert_eq!(
            bind(r#"{"msg":1,"msg":2}"#, NAMES),
            Err("duplicate json names: msg".into())
        );
        let params = raw("\"x\"");
        assert_eq!(
            RawParams::parse(&params).unwrap_err().message,
            "Expected array or object for params"
        );
    }

    fn parse<T>(parser: Parser<T>, name: &str, text: &str) -> Result<T, String> {
        let token = raw(text);
        parser(&token).map_err(|refusal| refuse(name, &token, refusal).message)
    }

    #[test]
    fn numbers_booleans_ports_and_strings() {
        assert_eq!(parse(u32_number, "len", "128"), Ok(128));
        assert_eq!(parse(u32_number, "len", "\"128\""), Ok(128));
        assert_eq!(
            parse(u32_number, "len", "-1"),
            Err("len: should be an unsigned 32 bit integer: invalid token '-1'".into())
        );
        assert!(parse(u32_number, "len", "4294967296").is_err());
        assert!(parse(u32_number, "len", "1.5").is_err());
        assert_eq!(parse(boolean, "force", "true"), Ok(true));
        assert!(parse(boolean, "force", "1").is_err());
        assert_eq!(parse(port, "port", "9735"), Ok(9735));
        assert_eq!(
            parse(port, "port", "0"),
            Err("port: should be non-zero: invalid token '0'".into())
        );
        assert_eq!(
            parse(port, "port", "65536"),
            Err("port: should be a 16-bit integer: invalid token '65536'".into())
        );
        assert_eq!(parse(string, "id", "\"a\\\"b\""), Ok("a\"b".into()));
        assert!(parse(string, "id", "12").is_err());
    }
}
