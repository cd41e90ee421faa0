//! The optional top-level `filter` of a request: only the fields it names come back.

use serde_json::Value;

/// Keeps the parts of `value` that `filter` names with `true` (or with a nested filter).
/// Arrays are filtered element by element, by a nested object or, in CLN's syntax, by a
/// one-element array holding it; any other filter keeps everything.
pub fn apply(value: Value, filter: &Value) -> Value {
    match (value, filter) {
        (Value::Array(items), Value::Array(element)) if element.len() == 1 => {
            Value::Array(items.into_iter().map(|v| apply(v, &element[0])).collect())
        }
        (Value::Array(items), Value::Object(_)) => {
            Value::Array(items.into_iter().map(|v| apply(v, filter)).collect())
        }
        (Value::Object(object), Value::Object(wanted)) => Value::Object(
            object
                .into_iter()
                .filter_map(|(key, inner)| match wanted.get(&key)? {
                    Value::Bool(true) => Some((key, inner)),
                    nested @ (Value::Object(_) | Value::Array(_)) => {
                        Some((key, apply(inner, nested)))
                    }
                    _ => None,
                })
                .collect(),
        ),
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_named_fields_through_arrays() {
        let value = json!({"peers": [{"id": "a", "connected": true, "features": "08"},
                                     {"id": "b", "connected": false}], "other": 1});
        let filter = json!({"peers": {"id": true}});
        assert_eq!(
            apply(value, &filter),
            json!({"peers": [{"id": "a"}, {"id": "b"}]})
        );
        assert_eq!(apply(json!({"a": 1}), &json!(true)), json!({"a": 1}));
        let clns_syntax = json!({"peers": [{"connected": true}]});
        assert_eq!(
            apply(
                json!({"peers": [{"id": "a", "connected": true}]}),
                &clns_syntax
            ),
            json!({"peers": [{"connected": true}]})
        );
        assert_eq!(
            apply(json!({"a": 1, "b": 2}), &json!({"b": true, "c": true})),
            json!({"b": 2})
        );
    }
}
