//! Parsers of Lightning values given as command parameters (node ids, peer messages), with
//! CLN's error texts; the generic binding and parsers are `jsonrpc`'s, re-exported here.

use noise_transport::PublicKey;
use serde_json::value::RawValue;

pub use jsonrpc::params::*;

/// A 33-byte compressed public key in hex.
pub fn node_id(token: &RawValue) -> Result<PublicKey, Refusal> {
    token_text(token)
        .and_then(|text| parse_node_id(&text))
        .ok_or(Refusal::Should("should be a node id"))
}

/// A node id from hex text, if it is one.
pub fn parse_node_id(text: &str) -> Option<PublicKey> {
    if text.len() != 66 {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    PublicKey::from_slice(&bytes).ok()
}

/// A 32-byte channel id in hex.
pub fn channel_id(token: &RawValue) -> Result<[u8; 32], Refusal> {
    token_text(token)
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(Refusal::Should("should be a channel id"))
}

/// The smallest custom message: its 2-byte type.
pub const MIN_MESSAGE_LEN: usize = 2;
/// The largest message BOLT 8 can carry.
pub const MAX_MESSAGE_LEN: usize = 65535;

/// A whole peer message in hex: 2-byte type and payload, no length prefix. Unlike CLN, which
/// lets malformed hex through and then fails later, bad hex and impossible sizes are refused
/// here with the reason.
pub fn message_hex(token: &RawValue) -> Result<Vec<u8>, Refusal> {
    let text = token_text(token).ok_or(Refusal::Should("should be a hex value"))?;
    if text.len() > 2 * MAX_MESSAGE_LEN {
        return Err(Refusal::Other(format!(
            "should be at most {MAX_MESSAGE_LEN} bytes (type and payload), got {} hex digits",
            text.len()
        )));
    }
    if text.len() % 2 == 1 {
        return Err(Refusal::Should(
            "should be a hex value with an even number of digits",
        ));
    }
    let bytes = hex::decode(&text).map_err(|_| Refusal::Should("should be a hex value"))?;
    if bytes.len() < MIN_MESSAGE_LEN {
        return Err(Refusal::Should(
            "should be at least 2 bytes, the message type",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn parse<T>(parser: Parser<T>, name: &str, text: &str) -> Result<T, String> {
        let token = raw(text);
        parser(&token).map_err(|refusal| refuse(name, &token, refusal).message)
    }

    #[test]
    fn node_ids_must_be_valid_compressed_keys() {
        let good = "02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619";
        assert!(parse(node_id, "node_id", &format!("\"{good}\"")).is_ok());
        assert_eq!(
            parse(node_id, "node_id", "\"02abc\""),
            Err("node_id: should be a node id: invalid token '\"02abc\"'".into())
        );
        let not_on_curve = format!("\"04{}\"", &good[2..]);
        assert!(parse(node_id, "node_id", &not_on_curve).is_err());
        assert!(parse(node_id, "node_id", "[1]").is_err());
    }

    #[test]
    fn messages_are_hex_of_2_to_65535_bytes_as_string_or_number() {
        assert_eq!(
            parse(message_hex, "msg", "\"77770012\""),
            Ok(vec![0x77, 0x77, 0, 0x12])
        );
        assert_eq!(
            parse(message_hex, "msg", "77770012"),
            Ok(vec![0x77, 0x77, 0, 0x12])
        );
        // Larger than any JSON number type: still read from the token text.
        let digits = "1234".repeat(20);
        assert_eq!(parse(message_hex, "msg", &digits).unwrap().len(), 40);
        assert_eq!(parse(message_hex, "msg", "\"00FE\""), Ok(vec![0, 0xfe]));
        assert_eq!(
            parse(message_hex, "msg", "\"zz\""),
            Err("msg: should be a hex value: invalid token '\"zz\"'".into())
        );
        assert_eq!(
            parse(message_hex, "msg", "\"777\""),
            Err(
                "msg: should be a hex value with an even number of digits: invalid token '\"777\"'"
                    .into()
            )
        );
        assert_eq!(
            parse(message_hex, "msg", "\"77\""),
            Err("msg: should be at least 2 bytes, the message type: invalid token '\"77\"'".into())
        );
        assert!(parse(message_hex, "msg", "\"\"").is_err());
        let largest = format!("\"{}\"", "ab".repeat(65535));
        assert_eq!(parse(message_hex, "msg", &largest).unwrap().len(), 65535);
        let too_large = format!("\"{}\"", "ab".repeat(65536));
        assert_eq!(
            parse(message_hex, "msg", &too_large),
            Err(
                "msg: should be at most 65535 bytes (type and payload), got 131072 hex digits"
                    .into()
            )
        );
        assert!(parse(message_hex, "msg", "{}").is_err());
    }
}
