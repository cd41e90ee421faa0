//! The JSON shapes CLN gives onion messages: a blinded path (`reply_blindedpath` in the hooks,
//! and what `createonionreplypath` returns and `sendonionmessage` takes) and the hooks'
//! `onion_message` object (`lightningd/onion_message.c`: `pathsecret`, `reply_blindedpath`,
//! `invoice_request`, `invoice`, `invoice_error`, `unknown_fields` as `{number, value}`), and
//! the `onionmessage_forward_fail` notification (`lightningd/notification.c`).
//!
//! ```text
//! blinded path: {"first_node_id": pubkey}  or  {"first_scid": "BxTxO", "first_scid_dir": 0|1},
//!               "first_path_key": pubkey,
//!               "hops": [{"blinded_node_id": pubkey, "encrypted_recipient_data": hex}, ...]
//! ```

use onion_message::{
    BlindedHop, BlindedPath, Direction, Encode, Forward, IntroductionNode, NextHop, OnionMessage,
    Payload, PublicKey, ShortChannelId,
};
use serde_json::{json, Map, Value};

/// A blinded path in CLN's JSON shape.
pub fn blinded_path_json(path: &BlindedPath) -> Value {
    let mut object = Map::new();
    match path.introduction_node() {
        IntroductionNode::NodeId(id) => {
            object.insert("first_node_id".into(), hex::encode(id.serialize()).into());
        }
        IntroductionNode::Channel {
            short_channel_id,
            direction,
        } => {
            object.insert("first_scid".into(), short_channel_id.to_string().into());
            object.insert("first_scid_dir".into(), direction.as_u8().into());
        }
    }
    object.insert(
        "first_path_key".into(),
        hex::encode(path.first_path_key().serialize()).into(),
    );
    let hops: Vec<Value> = path
        .hops()
        .iter()
        .map(|hop| {
            json!({
                "blinded_node_id": hex::encode(hop.blinded_node_id.serialize()),
                "encrypted_recipient_data": hex::encode(&hop.encrypted_recipient_data),
            })
        })
        .collect();
    object.insert("hops".into(), hops.into());
    Value::Object(object)
}

/// The hooks' params: `{"onion_message": {...}}`, with `pathsecret` when the message came over
/// a path of ours.
pub fn hook_params(payload: &Payload, pathsecret: Option<&[u8]>) -> Value {
    let mut message = Map::new();
    if let Some(secret) = pathsecret {
        message.insert("pathsecret".into(), hex::encode(secret).into());
    }
    if let Some(path) = &payload.reply_path {
        message.insert("reply_blindedpath".into(), blinded_path_json(path));
    }
    for (name, field) in [
        ("invoice_request", &payload.invoice_request),
        ("invoice", &payload.invoice),
        ("invoice_error", &payload.invoice_error),
    ] {
        if let Some(bytes) = field {
            message.insert(name.into(), hex::encode(bytes).into());
        }
    }
    let unknown: Vec<Value> = payload
        .unknown_fields
        .iter()
        .map(|record| json!({"number": record.ty, "value": hex::encode(&record.value)}))
        .collect();
    message.insert("unknown_fields".into(), unknown.into());
    json!({ "onion_message": message })
}

/// Reads a blinded path given as CLN's JSON object, or as the hex of its BOLT 4 encoding.
///
/// # Errors
/// What is wrong, naming the member.
pub fn parse_blinded_path(value: &Value) -> Result<BlindedPath, String> {
    if let Some(text) = value.as_str() {
        let bytes = hex::decode(text).map_err(|_| "should be a hex value".to_owned())?;
        return BlindedPath::from_bytes(&bytes).map_err(|error| error.to_string());
    }
    let Some(object) = value.as_object() else {
        return Err("should be a blinded path object or its hex".to_owned());
    };
    let introduction = match (
        object.get("first_node_id"),
        object.get("first_scid"),
        object.get("first_scid_dir"),
    ) {
        (Some(id), None, None) => IntroductionNode::NodeId(point(id, "first_node_id")?),
        (None, Some(scid), Some(dir)) => {
            let short_channel_id: ShortChannelId = scid
                .as_str()
                .and_then(|text| text.parse().ok())
                .ok_or("first_scid should be a short channel id")?;
            let direction = match dir.as_u64() {
                Some(0) => Direction::NodeOne,
                Some(1) => Direction::NodeTwo,
                _ => return Err("first_scid_dir should be 0 or 1".to_owned()),
            };
            IntroductionNode::Channel {
                short_channel_id,
                direction,
            }
        }
        _ => return Err("should have first_node_id, or first_scid and first_scid_dir".to_owned()),
    };
    let first_path_key = point(
        object
            .get("first_path_key")
            .ok_or("first_path_key is missing")?,
        "first_path_key",
    )?;
    let hops = object
        .get("hops")
        .and_then(Value::as_array)
        .ok_or("hops should be an array")?
        .iter()
        .map(|hop| {
            let blinded_node_id = point(
                hop.get("blinded_node_id")
                    .ok_or("hops: blinded_node_id is missing")?,
                "blinded_node_id",
            )?;
            let encrypted_recipient_data = hop
                .get("encrypted_recipient_data")
                .and_then(Value::as_str)
                .and_then(|text| hex::decode(text).ok())
                .ok_or("hops: encrypted_recipient_data should be hex")?;
            Ok(BlindedHop {
                blinded_node_id,
                encrypted_recipient_data,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    BlindedPath::new(introduction, first_path_key, hops).map_err(|error| error.to_string())
}

/// `{"onionmessage_forward_fail": {...}}`: `source` (the peer that sent it), `incoming` (the
/// packet we could not pass on) and `path_key` (its path key, so `injectonionmessage` takes
/// the two as they are); when peeling got that far, `outgoing` (the whole next
/// `onion_message`) and `next_node_id`, or `next_short_channel_id_dir` (an
/// `encrypted_data_tlv` names a channel without a direction; CLN writes it as direction 0).
pub fn forward_fail_params(
    source: &PublicKey,
    incoming: &OnionMessage,
    outgoing: Option<&Forward>,
) -> Value {
    let mut about = Map::new();
    about.insert("source".into(), hex::encode(source.serialize()).into());
    about.insert("incoming".into(), hex::encode(incoming.packet()).into());
    about.insert(
        "path_key".into(),
        hex::encode(incoming.path_key().serialize()).into(),
    );
    if let Some(forward) = outgoing {
        about.insert(
            "outgoing".into(),
            hex::encode(forward.message.to_bytes()).into(),
        );
        match forward.next_hop {
            NextHop::NodeId(id) => {
                about.insert("next_node_id".into(), hex::encode(id.serialize()).into());
            }
            NextHop::ShortChannelId(scid) => {
                about.insert(
                    "next_short_channel_id_dir".into(),
                    format!("{scid}/0").into(),
                );
            }
        }
    }
    json!({ "onionmessage_forward_fail": about })
}

/// The BOLT 4 bytes of `path`, as hex.
pub fn blinded_path_hex(path: &BlindedPath) -> String {
    hex::encode(path.to_bytes())
}

fn point(value: &Value, name: &str) -> Result<PublicKey, String> {
    value
        .as_str()
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| PublicKey::from_slice(&bytes).ok())
        .ok_or_else(|| format!("{name} should be a public key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onion_message::{create_blinded_path, ForwardNode, SecretKey, TlvRecord};
    use secp256k1::SECP256K1;

    fn key(byte: u8) -> PublicKey {
        PublicKey::from_secret_key(SECP256K1, &secret(byte))
    }

    fn secret(byte: u8) -> SecretKey {
        SecretKey::from_slice(&[byte; 32]).expect("a valid key")
    }

    fn path() -> BlindedPath {
        create_blinded_path(
            &[ForwardNode {
                node_id: key(2),
                next_short_channel_id: None,
            }],
            &key(3),
            &[9; 32],
            &secret(4),
        )
        .expect("a path")
    }

    #[test]
    fn paths_round_trip_through_json_and_hex() {
        let path = path();
        let json = blinded_path_json(&path);
        assert_eq!(json["first_node_id"], hex::encode(key(2).serialize()));
        assert_eq!(json["hops"].as_array().map(Vec::len), Some(2));
        assert_eq!(parse_blinded_path(&json), Ok(path.clone()));
        assert_eq!(
            parse_blinded_path(&Value::String(blinded_path_hex(&path))),
            Ok(path)
        );
    }

    #[test]
    fn channel_introductions_use_first_scid() {
        let path = path();
        let channel = BlindedPath::new(
            IntroductionNode::Channel {
                short_channel_id: ShortChannelId::new(1, 2, 3).expect("in range"),
                direction: Direction::NodeTwo,
            },
            *path.first_path_key(),
            path.hops().to_vec(),
        )
        .expect("a path");
        let json = blinded_path_json(&channel);
        assert_eq!(json["first_scid"], "1x2x3");
        assert_eq!(json["first_scid_dir"], 1);
        assert!(json.get("first_node_id").is_none());
        assert_eq!(parse_blinded_path(&json), Ok(channel));
    }

    #[test]
    fn bad_paths_say_what_is_wrong() {
        let mut json = blinded_path_json(&path());
        json["hops"] = json!([]);
        assert_eq!(
            parse_blinded_path(&json),
            Err("blinded path has no hops".to_owned())
        );
        assert!(parse_blinded_path(&json!({"first_path_key": "02"}))
            .unwrap_err()
            .contains("first_node_id"));
        assert_eq!(
            parse_blinded_path(&json!(12)),
            Err("should be a blinded path object or its hex".to_owned())
        );
        assert!(parse_blinded_path(&json!("00")).is_err());
    }

    #[test]
    fn hook_params_have_clns_shape() {
        let payload = Payload {
            reply_path: Some(path()),
            invoice_error: Some(vec![1]),
            unknown_fields: vec![TlvRecord {
                ty: 65_537,
                value: b"hi".to_vec(),
            }],
            ..Payload::default()
        };
        let params = hook_params(&payload, Some(&[5; 32]));
        let message = &params["onion_message"];
        assert_eq!(message["pathsecret"], hex::encode([5; 32]));
        assert_eq!(message["invoice_error"], "01");
        assert_eq!(
            message["unknown_fields"],
            json!([{"number": 65_537, "value": "6869"}])
        );
        assert!(message["reply_blindedpath"]["first_path_key"].is_string());
        let plain = hook_params(&Payload::default(), None);
        assert_eq!(plain, json!({"onion_message": {"unknown_fields": []}}));
    }

    #[test]
    fn forward_failures_have_clns_fields_for_each_case() {
        let incoming =
            onion_message::OnionMessage::new(key(5), vec![0xab; 1366]).expect("a message");
        let next = onion_message::OnionMessage::new(key(6), vec![0xcd; 1366]).expect("a message");
        let source = key(7);
        // Did not peel: no next hop, no outgoing.
        let params = forward_fail_params(&source, &incoming, None);
        let about = &params["onionmessage_forward_fail"];
        assert_eq!(about["source"], hex::encode(key(7).serialize()));
        assert_eq!(about["incoming"], hex::encode(incoming.packet()));
        assert_eq!(about["path_key"], hex::encode(key(5).serialize()));
        assert_eq!(about.as_object().map(Map::len), Some(3), "{about}");

        let to_node = onion_message::Forward {
            next_hop: NextHop::NodeId(key(8)),
            message: next.clone(),
        };
        let params = forward_fail_params(&source, &incoming, Some(&to_node));
        let about = &params["onionmessage_forward_fail"];
        // The whole next message, type first, as CLN hands it on.
        assert_eq!(about["outgoing"], hex::encode(next.to_bytes()));
        assert!(about["outgoing"]
            .as_str()
            .is_some_and(|o| o.starts_with("0201")));
        assert_eq!(about["next_node_id"], hex::encode(key(8).serialize()));
        assert!(about.get("next_short_channel_id_dir").is_none());

        let to_channel = onion_message::Forward {
            next_hop: NextHop::ShortChannelId(ShortChannelId::new(700, 3, 1).expect("in range")),
            message: next,
        };
        let params = forward_fail_params(&source, &incoming, Some(&to_channel));
        let about = &params["onionmessage_forward_fail"];
        assert_eq!(about["next_short_channel_id_dir"], "700x3x1/0");
        assert!(about.get("next_node_id").is_none());
    }
}
