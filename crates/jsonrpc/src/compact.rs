//! Writing a JSON object whose members come in a fixed order and whose values may be raw
//! tokens kept verbatim (ids, params, results), as protocols on custom messages need (commando
//! replies, LSPS0 messages). Every piece is produced by serde_json's serializer or is a
//! [`RawValue`], which serde_json has already checked is one JSON value, so no text a peer or
//! a caller chose is ever pasted into the output unescaped.

use serde_json::value::RawValue;
use serde_json::Value;

/// One member's value.
#[derive(Debug, Clone, Copy)]
pub enum Member<'a> {
    /// A token written byte for byte.
    Raw(&'a RawValue),
    /// A string, escaped.
    Str(&'a str),
    /// A value, serialized compactly.
    Value(&'a Value),
    /// `null`.
    Null,
}

/// `{"name":value,...}` in the order given, compact.
pub fn object(members: &[(&str, Member<'_>)]) -> Vec<u8> {
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
            Member::Null => out.push_str("null"),
        }
    }
    out.push('}');
    out.into_bytes()
}

/// `text` as a JSON string literal, escaped by serde_json (`Value`'s `Display` cannot fail).
pub fn string(text: &str) -> String {
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
            ("n", Member::Null),
        ]);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            r#"{"z":"quote \" and \\ and \u0001","id":1.50,"a":{"b":[1,"2"]},"n":null}"#
        );
        assert_eq!(object(&[]), b"{}");
    }
}
