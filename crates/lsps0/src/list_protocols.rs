//! `lsps0.list_protocols` (bLIP §LSPS Specification Support Query; notes §1.7), LSPS0's one
//! method: the LSP's side ([`result`], [`unrecognized_params`]) and the client's
//! ([`params`], [`parse_result`]).

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::message::empty_object;

/// The method name.
pub const METHOD: &str = "lsps0.list_protocols";

/// The params a client sends: `{}` (the method takes none).
pub fn params() -> Box<RawValue> {
    empty_object()
}

/// The LSP's result, `{"protocols":[…]}`, with `protocols` as given (the service passes its
/// registered protocol numbers, sorted, without duplicates and without 0, which the bLIP
/// forbids here since bit 729 already says LSPS0).
pub fn result(protocols: &[u16]) -> Box<RawValue> {
    let numbers: Vec<String> = protocols.iter().map(u16::to_string).collect();
    let text = format!("{{\"protocols\":[{}]}}", numbers.join(","));
    // Digits, commas and fixed punctuation: always one JSON object.
    RawValue::from_string(text).expect("a list of numbers is JSON")
}

/// The names in `params` the method does not take: all of them, since it takes none. Each
/// name once, in the order first written. The LSP answers a non-empty list with `-32602`
/// and `data.unrecognized` (bLIP §LSPS Extension And Versioning). LDK and CLN accept and
/// ignore extra params here (notes §2.5, §3.6).
pub fn unrecognized_params(params: &RawValue) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    // `params` is an object (the parser makes sure), so this only fails on other input,
    // which has no names to report.
    for (name, _) in jsonrpc::params::members(params.get()).unwrap_or_default() {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The result a client received did not have a list of protocol numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidResult(String);

impl fmt::Display for InvalidResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {METHOD} result: {}", self.0)
    }
}

impl std::error::Error for InvalidResult {}

#[derive(Deserialize)]
struct ListProtocolsResult {
    protocols: Vec<u16>,
}

/// The protocol numbers in an LSP's result, in the LSP's order. Keys other than `protocols`
/// are ignored, as the bLIP requires of clients. Numbers are read as `u16`, as LDK reads them
/// (CLN's client reads `u8`, which an LSPS numbered past 255 would break).
///
/// # Errors
/// [`InvalidResult`] when the result is not an object with a `protocols` list of integers
/// from 0 to 65535.
pub fn parse_result(result: &RawValue) -> Result<Vec<u16>, InvalidResult> {
    serde_json::from_str::<ListProtocolsResult>(result.get())
        .map(|result| result.protocols)
        .map_err(|e| InvalidResult(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn the_result_lists_the_numbers() {
        assert_eq!(result(&[]).get(), r#"{"protocols":[]}"#);
        assert_eq!(result(&[1, 2, 5]).get(), r#"{"protocols":[1,2,5]}"#);
        assert_eq!(result(&[65535]).get(), r#"{"protocols":[65535]}"#);
        assert_eq!(params().get(), "{}");
    }

    #[test]
    fn every_param_is_unrecognized_once() {
        assert!(unrecognized_params(&raw("{}")).is_empty());
        assert_eq!(
            unrecognized_params(&raw(r#"{"b":1,"a":2,"b":3}"#)),
            vec!["b".to_string(), "a".to_string()]
        );
    }

    #[test]
    fn a_client_reads_the_blips_example_and_ignores_extra_keys() {
        let blip =
            raw(r#"{"protocols":[1,3],"example-undefined-key-that-clients-should-ignore":true}"#);
        assert_eq!(parse_result(&blip), Ok(vec![1, 3]));
        assert_eq!(parse_result(&raw(r#"{"protocols":[]}"#)), Ok(vec![]));
        assert_eq!(
            parse_result(&raw(r#"{"protocols":[2,300]}"#)),
            Ok(vec![2, 300])
        );
    }

    #[test]
    fn a_result_without_numbers_is_refused() {
        for bad in [
            "{}",
            "[]",
            r#"{"protocols":"1"}"#,
            r#"{"protocols":["1"]}"#,
            r#"{"protocols":[1.5]}"#,
            r#"{"protocols":[-1]}"#,
            r#"{"protocols":[65536]}"#,
        ] {
            let error = parse_result(&raw(bad)).unwrap_err();
            assert!(error
                .to_string()
                .starts_with("invalid lsps0.list_protocols result: "));
        }
    }
}
