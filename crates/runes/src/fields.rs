//! CLN's request fields (`lightningd/runes.c` `check_condition`): what `time`, `id`,
//! `method`, `pnum`, `pname…`, `parr…`, `rate` and `per` mean when a request is checked.

use std::collections::HashMap;
use std::time::Duration;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::condition::FieldValue;
use crate::error::ParamsError;
use crate::rate;
use crate::restriction::{Alternative, Unmet};

/// What is known about a request when its rune is checked. Plain data: [`RequestFields::new`]
/// validates it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The node asking (commando's peer; checkrune's `nodeid`), if any: the `id` field.
    pub node_id: Option<&'a [u8; 33]>,
    /// The method, if any: the `method` field. As CLN, this is the JSON string's raw text
    /// between the quotes, escapes kept.
    pub method: Option<&'a str>,
    /// The method's params, if any: a JSON object or array, as sent (raw text matters: CLN
    /// compares string values still JSON-escaped).
    pub params: Option<&'a RawValue>,
    /// The current time since the UNIX epoch: `time`, and the clock for `rate` and `per`.
    pub now: Duration,
}

/// A request's fields, ready to test alternatives against.
///
/// `pinv…` fields (invoice parameters decoded as BOLT11/BOLT12, CLN v24.05+) are not
/// supported: they are missing, so `pinvX!` passes and other conditions fail with
/// `invoice parameter X not present`.
#[derive(Debug, Clone)]
pub struct RequestFields<'a> {
    now: Duration,
    id: Option<String>,
    method: Option<&'a str>,
    pnum: i64,
    /// `pname<key>`, `pname<key without punctuation>` and `parr<index>`, each to its value's
    /// raw JSON. The first parameter to claim a name keeps it (CLN's `strmap_add`).
    params: HashMap<String, &'a str>,
}

impl<'a> RequestFields<'a> {
    /// The fields of `request`.
    ///
    /// # Errors
    ///
    /// If `params` is neither a JSON object nor an array.
    pub fn new(request: &Request<'a>) -> Result<Self, ParamsError> {
        let mut params = HashMap::new();
        let mut pnum = 0;
        if let Some(raw) = request.params {
            let text = raw.get().trim_start_matches(json_whitespace);
            let mut claim = |name: String, value: &'a str| {
                params.entry(name).or_insert(value);
            };
            if text.starts_with('{') {
                let members = object_members(text)?;
                pnum = members.len();
                for (key, value) in members {
                    // The key as written (escapes kept), then with every ASCII punctuation
                    // character removed, `_` included (`pnameamountmsat`).
                    let key = unquote(key);
                    claim(format!("pname{key}"), value);
                    let stripped: String =
                        key.chars().filter(|c| !c.is_ascii_punctuation()).collect();
                    claim(format!("pname{stripped}"), value);
                }
            } else if text.starts_with('[') {
                let elements: Vec<&'a RawValue> =
                    serde_json::from_str(text).map_err(|_| ParamsError)?;
                pnum = elements.len();
                for (i, value) in elements.into_iter().enumerate() {
                    claim(format!("parr{i}"), value.get());
                }
            } else {
                return Err(ParamsError);
            }
        }
        Ok(RequestFields {
            now: request.now,
            id: request.node_id.map(hex::encode),
            method: request.method,
            pnum: i64::try_from(pnum).unwrap_or(i64::MAX),
            params,
        })
    }

    /// The value of an ordinary field (everything but `rate`, `per` and `pinv…`, which are
    /// not values: see [`RequestFields::check`]).
    pub fn field(&self, name: &str) -> FieldValue<'_> {
        match name {
            "time" => FieldValue::Int(i64::try_from(self.now.as_secs()).unwrap_or(i64::MAX)),
            "id" => self
                .id
                .as_deref()
                .map_or(FieldValue::Missing, FieldValue::Str),
            "method" => self.method.map_or(FieldValue::Missing, FieldValue::Str),
            "pnum" => FieldValue::Int(self.pnum),
            _ if name.starts_with("pinv") => FieldValue::Missing,
            _ => self
                .params
                .get(name)
                .map_or(FieldValue::Missing, |raw| token_value(raw)),
        }
    }

    /// Tests one alternative against this request, in CLN's order: `time`, `id`, `method`,
    /// `pnum`, `rate`, `per`, then parameters. `last_used` gives the last successful check of
    /// the rune's unique id (`None`: no stored rune), and is called only for `rate`/`per`.
    ///
    /// # Errors
    ///
    /// CLN's text for the failure.
    pub fn check(
        &self,
        alternative: &Alternative,
        last_used: impl FnOnce() -> Option<Duration>,
    ) -> Result<(), Unmet> {
        let interval = match alternative.fieldname() {
            "rate" => rate::rate_interval(alternative),
            "per" => rate::per_interval(alternative),
            name => return alternative.test(self.field(name)),
        };
        let interval = interval.map_err(Unmet::new)?;
        rate::check_interval(self.now, last_used(), interval).map_err(Unmet::new)
    }

    /// The time the request is checked at.
    pub fn now(&self) -> Duration {
        self.now
    }
}

/// How CLN types a parameter: a primitive that parses as an `s64` is an integer; anything
/// else is a string of its raw JSON text, strings without their quotes but still escaped.
fn token_value(raw: &str) -> FieldValue<'_> {
    if raw.starts_with('"') {
        FieldValue::Str(unquote(raw))
    } else if raw.starts_with(['{', '[']) {
        FieldValue::Str(raw)
    } else {
        // JSON numbers have no `+`, no leading zeros and no spaces, so Rust's parse agrees
        // with CLN's `strtoll` on every token that can get here.
        raw.parse().map_or(FieldValue::Str(raw), FieldValue::Int)
    }
}

/// A JSON string token's text between its quotes (escapes kept).
fn unquote(token: &str) -> &str {
    token
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(token)
}

fn json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// An object's members in order, duplicates kept, keys and values as raw JSON.
fn object_members(text: &str) -> Result<Vec<(&str, &str)>, ParamsError> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(&'de str, &'de str)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members = Vec::new();
            while let Some((key, value)) = map.next_entry::<&'de RawValue, &'de RawValue>()? {
                members.push((key.get(), value.get()));
            }
            Ok(members)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let members = de.deserialize_map(Members).map_err(|_| ParamsError)?;
    de.end().map_err(|_| ParamsError)?;
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(params: Option<&'a RawValue>, now: Duration) -> RequestFields<'a> {
        let request = Request {
            node_id: None,
            method: None,
            params,
            now,
        };
        RequestFields::new(&request).unwrap()
    }

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[test]
    fn fixed_fields() {
        let id = [2u8; 33];
        let request = Request {
            node_id: Some(&id),
            method: Some("getinfo"),
            params: None,
            now: Duration::new(1_700_000_000, 999_999_999),
        };
        let f = RequestFields::new(&request).unwrap();
        assert_eq!(f.field("time"), FieldValue::Int(1_700_000_000));
        assert_eq!(f.field("id"), FieldValue::Str(&"02".repeat(33)));
        assert_eq!(f.field("method"), FieldValue::Str("getinfo"));
        assert_eq!(f.field("pnum"), FieldValue::Int(0));
        assert_eq!(f.field("parr0"), FieldValue::Missing);
        assert_eq!(f.field("other"), FieldValue::Missing);
        let none = fields(None, Duration::ZERO);
        assert_eq!(none.field("id"), FieldValue::Missing);
        assert_eq!(none.field("method"), FieldValue::Missing);
    }

    #[test]
    fn object_params_by_name_as_written_and_stripped() {
        let params = raw(
            r#" {"amount_msat": 1000, "a-b.c": "x", "label": "a\"b", "n": null, "f": 1.5, "o": {"k": [1, 2]}} "#,
        );
        let f = fields(Some(&params), Duration::ZERO);
        assert_eq!(f.field("pnum"), FieldValue::Int(6));
        assert_eq!(f.field("pnameamount_msat"), FieldValue::Int(1000));
        assert_eq!(f.field("pnameamountmsat"), FieldValue::Int(1000));
        assert_eq!(f.field("pnameabc"), FieldValue::Str("x"));
        assert_eq!(f.field("pnamelabel"), FieldValue::Str("a\\\"b"));
        assert_eq!(f.field("pnamen"), FieldValue::Str("null"));
        assert_eq!(f.field("pnamef"), FieldValue::Str("1.5"));
        assert_eq!(f.field("pnameo"), FieldValue::Str(r#"{"k": [1, 2]}"#));
        assert_eq!(f.field("parr0"), FieldValue::Missing);
    }

    #[test]
    fn the_first_parameter_to_claim_a_name_keeps_it() {
        let params = raw(r#"{"a_b": 1, "ab": 2, "a\"b": 3, "a_b": 4}"#);
        let f = fields(Some(&params), Duration::ZERO);
        assert_eq!(f.field("pnum"), FieldValue::Int(4));
        assert_eq!(f.field("pnamea_b"), FieldValue::Int(1));
        assert_eq!(f.field("pnameab"), FieldValue::Int(1));
        // Keys are matched as written: with the escape, not unescaped.
        assert_eq!(f.field("pnamea\\\"b"), FieldValue::Int(3));
    }

    #[test]
    fn array_params_by_index() {
        let params = raw(r#"[17, "-5", -5, true, "", 9223372036854775808]"#);
        let f = fields(Some(&params), Duration::ZERO);
        assert_eq!(f.field("pnum"), FieldValue::Int(6));
        assert_eq!(f.field("parr0"), FieldValue::Int(17));
        assert_eq!(f.field("parr1"), FieldValue::Str("-5"));
        assert_eq!(f.field("parr2"), FieldValue::Int(-5));
        assert_eq!(f.field("parr3"), FieldValue::Str("true"));
        assert_eq!(f.field("parr4"), FieldValue::Str(""));
        assert_eq!(f.field("parr5"), FieldValue::Str("9223372036854775808"));
        assert_eq!(f.field("parr6"), FieldValue::Missing);
    }

    #[test]
    fn params_must_be_object_or_array() {
        for bad in ["1", "\"x\"", "null", "true"] {
            let params = raw(bad);
            let request = Request {
                node_id: None,
                method: None,
                params: Some(&params),
                now: Duration::ZERO,
            };
            assert_eq!(
                RequestFields::new(&request).unwrap_err(),
                ParamsError,
                "{bad}"
            );
        }
        let empty = raw("{}");
        assert_eq!(
            fields(Some(&empty), Duration::ZERO).field("pnum"),
            FieldValue::Int(0)
        );
    }

    #[test]
    fn invoice_fields_are_missing() {
        let params = raw(r#"{"bolt11": "lnbc1"}"#);
        let f = fields(Some(&params), Duration::ZERO);
        assert_eq!(f.field("pinvbolt11_amount"), FieldValue::Missing);
    }
}
