//! JSON shapes Core Lightning gives the same things wherever they appear: in command results
//! and in the notifications and hook calls plugins get. One definition each, so `connect`'s
//! result and the `connect` notification cannot drift apart.

use std::net::SocketAddr;

use noise_transport::PublicKey;
use peer_manager::Direction;
use serde_json::{json, Value};

/// A node id as lowercase hex of its 33-byte compressed form.
pub fn hex_id(id: &PublicKey) -> String {
    hex::encode(id.serialize())
}

/// A socket address as CLN's address objects show it:
/// `{"type": "ipv4"|"ipv6", "address": ..., "port": ...}`.
pub fn address_json(address: &SocketAddr) -> Value {
    let kind = match address {
        SocketAddr::V4(_) => "ipv4",
        SocketAddr::V6(_) => "ipv6",
    };
    json!({ "type": kind, "address": address.ip().to_string(), "port": address.port() })
}

/// A WebSocket listen address as CLN's `getinfo.binding` shows it: `{"type": "websocket",
/// "subtype": "ipv4"|"ipv6", "address": ..., "port": ...}`, or with `"subtype": "any
/// protocol"` and no address for a wildcard.
pub fn websocket_address_json(address: &SocketAddr) -> Value {
    if address.ip().is_unspecified() {
        return json!({ "type": "websocket", "subtype": "any protocol", "port": address.port() });
    }
    let subtype = match address {
        SocketAddr::V4(_) => "ipv4",
        SocketAddr::V6(_) => "ipv6",
    };
    json!({
        "type": "websocket",
        "subtype": subtype,
        "address": address.ip().to_string(),
        "port": address.port(),
    })
}

/// `in` or `out`, as CLN spells a connection's direction.
pub fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_directions_in_clns_words() {
        let v4: SocketAddr = "127.0.0.1:9735".parse().unwrap();
        assert_eq!(
            address_json(&v4),
            json!({"type": "ipv4", "address": "127.0.0.1", "port": 9735})
        );
        let v6: SocketAddr = "[::1]:19846".parse().unwrap();
        assert_eq!(
            address_json(&v6),
            json!({"type": "ipv6", "address": "::1", "port": 19846})
        );
        assert_eq!(
            websocket_address_json(&v4),
            json!({"type": "websocket", "subtype": "ipv4", "address": "127.0.0.1", "port": 9735})
        );
        let any: SocketAddr = "0.0.0.0:9736".parse().unwrap();
        assert_eq!(
            websocket_address_json(&any),
            json!({"type": "websocket", "subtype": "any protocol", "port": 9736})
        );
        assert_eq!(direction_name(Direction::Inbound), "in");
        assert_eq!(direction_name(Direction::Outbound), "out");
    }
}
