//! Writing a JSON object whose members come in a fixed order and whose values may be raw
//! tokens kept verbatim (ids, params, results). Every piece is either produced by serde_json's
//! serializer or a [`RawValue`], which serde_json has already checked is one JSON value, so no
//! text a peer or a caller chose is ever pasted into the output unescaped (CLN's
//! `commando_error` does paste, notes §7.11).

use serde_json::value::RawValue;
use serde_json::Value;

/// One member's value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Member<'a> {
    /// A token written byte for byte.
    Raw(&'a RawValue),
    /// A string, escaped.
    Str(&'a str),
    /// A value, serialized compactly.
    Value(&'a Value),
}

/// `{"name":value,...}` in the order given, compact.
pub(crate) fn object(members: &[(&str, Member<'_>)]) -> Vec<u8> {
    let mut out = String::from("{");
    for (n, (name, value)) in members.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&string(name));
        out.push(':');
        match value {
            Member::Raw(raw) => out.push_str(raw.get()),
            Member::Str(text) => out.push_str(&string(text)),
            Member::Value(value) => out.push_str(&value.to_string()),
        }
    }
    out.push('}');
    out.into_bytes()
}

/// The first member named `name` (CLN's `json_get_member`: later duplicates are ignored).
pub(crate) fn member<'a>(members: &[(String, &'a RawValue)], name: &str) -> Option<&'a RawValue> {
    members
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| *value)
}

/// `text` as a JSON string literal, escaped by serde_json.
fn string(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_members_in_order_with_raw_tokens_verbatim() {
        let id = RawValue::from_string("1.50".into()).unwrap();
        let data = serde_json::json!({"b": [1, "2"]});
        let text = object(&[
            ("z", Member::Str("quote \" and \\ and \u{1}")),
            ("id", Member::Raw(&id)),
            ("a", Member::Value(&data)),
        ]);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"z":"quote \" and \\ and \u0001","id":1.50,"a":{"b":[1,"2"]}}"#
        );
        assert_eq!(object(&[]), b"{}");
    }
}
