//! Parameter parsers the onion message commands share, with CLN's texts where CLN has the
//! parameter (`param_pubkey`, `param_bin_from_hex`).

use jsonrpc::params::{token_text, Refusal};
use noise_transport::PublicKey;
use onion_message::{BlindedPath, TlvRecord, FIRST_PAYLOAD_TYPE};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::shapes::parse_blinded_path;

/// A 33-byte compressed point in hex.
pub(crate) fn pubkey(token: &RawValue) -> Result<PublicKey, Refusal> {
    token_text(token)
        .filter(|text| text.len() == 66)
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| PublicKey::from_slice(&bytes).ok())
        .ok_or(Refusal::Should("should be a pubkey"))
}

/// Bytes in hex (any length, even digits).
pub(crate) fn hex_bytes(token: &RawValue) -> Result<Vec<u8>, Refusal> {
    token_text(token)
        .and_then(|text| hex::decode(text).ok())
        .ok_or(Refusal::Should("should be a hex value"))
}

/// A JSON array of node ids (possibly empty).
pub(crate) fn node_ids(token: &RawValue) -> Result<Vec<PublicKey>, Refusal> {
    let values: Vec<Value> = serde_json::from_str(token.get())
        .map_err(|_| Refusal::Should("should be an array of node ids"))?;
    values
        .iter()
        .enumerate()
        .map(|(index, value)| {
            value
                .as_str()
                .and_then(rpc::params::parse_node_id)
                .ok_or_else(|| Refusal::Other(format!("element {index} should be a node id")))
        })
        .collect()
}

/// A blinded path: CLN's JSON object, or the hex of its BOLT 4 bytes.
pub(crate) fn blinded_path(token: &RawValue) -> Result<BlindedPath, Refusal> {
    let value: Value = serde_json::from_str(token.get())
        .map_err(|_| Refusal::Should("should be a blinded path"))?;
    parse_blinded_path(&value).map_err(Refusal::Other)
}

/// `tlvs`: an object from a type (decimal) to its value (hex), each type odd and at least 64,
/// and at most one of them (BOLT 4: a recipient ignores a message with more than one field of
/// type 64 or above).
pub(crate) fn payload_tlvs(token: &RawValue) -> Result<Vec<TlvRecord>, Refusal> {
    let object: serde_json::Map<String, Value> =
        serde_json::from_str(token.get()).map_err(|_| {
            Refusal::Should("should be an object of odd types (64 or more) to hex values")
        })?;
    if object.len() > 1 {
        return Err(Refusal::Other(
            "a recipient ignores a message with more than one field of type 64 or more (BOLT 4); give one"
                .to_owned(),
        ));
    }
    object
        .iter()
        .map(|(key, value)| {
            let ty: u64 = key
                .parse()
                .ok()
                .filter(|_| key.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| Refusal::Other(format!("type '{key}' should be a decimal number")))?;
            if ty < FIRST_PAYLOAD_TYPE || ty % 2 == 0 {
                return Err(Refusal::Other(format!(
                    "type {ty} should be odd and at least {FIRST_PAYLOAD_TYPE} (lower types are BOLT 4's, even ones are refused by every reader that does not know them)"
                )));
            }
            let value = value
                .as_str()
                .and_then(|text| hex::decode(text).ok())
                .ok_or_else(|| Refusal::Other(format!("value of type {ty} should be a hex value")))?;
            Ok(TlvRecord { ty, value })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).expect("valid JSON")
    }

    fn refusal_text(refusal: Refusal) -> String {
        match refusal {
            Refusal::Should(text) => text.to_owned(),
            Refusal::Other(text) => text,
        }
    }

    #[test]
    fn tlvs_take_one_odd_type_of_64_or_more() {
        assert_eq!(
            payload_tlvs(&raw(r#"{"65537": "0102"}"#)).ok(),
            Some(vec![TlvRecord {
                ty: 65_537,
                value: vec![1, 2]
            }])
        );
        assert_eq!(payload_tlvs(&raw("{}")).ok(), Some(vec![]));
        for (tlvs, expected) in [
            (r#"{"64": "00"}"#, "type 64 should be odd"),
            (r#"{"63": "00"}"#, "type 63 should be odd and at least 64"),
            (r#"{"x": "00"}"#, "type 'x' should be a decimal number"),
            (r#"{"-65": "00"}"#, "type '-65' should be a decimal number"),
            (r#"{"65": "0"}"#, "value of type 65 should be a hex value"),
            (r#"{"65": "00", "67": "00"}"#, "more than one field"),
            ("[]", "should be an object"),
        ] {
            let text = refusal_text(payload_tlvs(&raw(tlvs)).unwrap_err());
            assert!(text.contains(expected), "{tlvs}: {text}");
        }
    }

    #[test]
    fn node_id_lists_name_the_bad_element() {
        // The generator point: the public key of secret 1.
        let id = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
        let good = node_ids(&raw(&format!(r#"["{id}", "{id}"]"#))).expect("two node ids");
        assert_eq!(good.len(), 2);
        assert_eq!(node_ids(&raw("[]")).ok(), Some(vec![]));
        let bad = format!(r#"["{id}", "zz"]"#);
        assert_eq!(
            refusal_text(node_ids(&raw(&bad)).unwrap_err()),
            "element 1 should be a node id"
        );
        assert!(node_ids(&raw(r#""abc""#)).is_err());
    }
}
