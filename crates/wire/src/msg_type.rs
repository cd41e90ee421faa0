//! The message-type registry: which types the BOLTs define, which ones Core Lightning keeps for
//! itself, and CLN's names for them (so our logs and RPC errors read like CLN's).

use std::borrow::Cow;

/// A Lightning message type: the first two bytes of every message (BOLT 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgType(pub u16);

impl MsgType {
    /// `warning` (BOLT 1).
    pub const WARNING: MsgType = MsgType(1);
    /// `init` (BOLT 1).
    pub const INIT: MsgType = MsgType(16);
    /// `error` (BOLT 1).
    pub const ERROR: MsgType = MsgType(17);
    /// `ping` (BOLT 1).
    pub const PING: MsgType = MsgType(18);
    /// `pong` (BOLT 1).
    pub const PONG: MsgType = MsgType(19);
    /// First type of BOLT 1's "Custom" range `32768`-`65535` ("experimental and
    /// application-specific messages").
    pub const FIRST_CUSTOM: MsgType = MsgType(32768);

    /// Whether the type is odd: BOLT 1's "it's ok to be odd" rule lets a receiver ignore an
    /// odd type it does not know, while an unknown even type closes the connection.
    pub fn is_odd(self) -> bool {
        self.0 % 2 == 1
    }

    /// Whether the type is in BOLT 1's custom range (32768 and up).
    pub fn is_custom(self) -> bool {
        self >= Self::FIRST_CUSTOM
    }

    /// Whether a BOLT defines this type (BOLTs 1, 2, 4 and 7, as of lightning/bolts master
    /// `a3772650`). A node must treat all of them as known, even those it does not implement,
    /// or it would close on e.g. `open_channel` (32), which is even.
    pub fn is_bolt_defined(self) -> bool {
        matches!(
            self.0,
            1 | 2 | 7 | 9 | 16..=19
                | 32..=36 | 38..=41
                | 64..=74 | 77 | 80 | 81 | 127
                | 128 | 130..=136
                | 256..=259 | 261..=265
                | 513
        )
    }

    /// Whether Core Lightning (HEAD) treats the type as internal: `peer_wire_is_internal`,
    /// which refuses it in `sendcustommsg` and never hands it to `custommsg` hooks. It is the
    /// BOLT set plus CLN's own 0 (`protocol_batch_element`) and 137 (`update_blockheight`),
    /// minus 7 and 9 (peer storage, which CLN leaves to plugins).
    pub fn is_cln_internal(self) -> bool {
        self.0 != 7 && self.0 != 9 && (self.is_bolt_defined() || matches!(self.0, 0 | 137))
    }

    /// CLN's generated name, `WIRE_` and the upper-cased spec name (`WIRE_PING`), or
    /// `UNKNOWN <n>` for a type CLN does not define (CLN v24.11+; older releases said
    /// `INVALID <n>`).
    pub fn name(self) -> Cow<'static, str> {
        match cln_name(self.0) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("UNKNOWN {}", self.0)),
        }
    }

    /// The type [`MsgType::name`] calls `name` (`WIRE_PING`, `UNKNOWN 32769`), if any.
    pub fn from_name(name: &str) -> Option<MsgType> {
        if let Some(number) = name.strip_prefix("UNKNOWN ") {
            // Only the form `name` gives: no sign, no leading zero, not a named type.
            let ty: u16 = number.parse().ok()?;
            let canonical = ty.to_string() == number && cln_name(ty).is_none();
            return canonical.then_some(MsgType(ty));
        }
        // Every named type is below 1024.
        (0..1024u16)
            .find(|&ty| cln_name(ty) == Some(name))
            .map(MsgType)
    }
}

/// CLN HEAD's names: every BOLT type plus CLN's two private ones.
fn cln_name(ty: u16) -> Option<&'static str> {
    Some(match ty {
        0 => "WIRE_PROTOCOL_BATCH_ELEMENT",
        1 => "WIRE_WARNING",
        2 => "WIRE_STFU",
        7 => "WIRE_PEER_STORAGE",
        9 => "WIRE_PEER_STORAGE_RETRIEVAL",
        16 => "WIRE_INIT",
        17 => "WIRE_ERROR",
        18 => "WIRE_PING",
        19 => "WIRE_PONG",
        32 => "WIRE_OPEN_CHANNEL",
        33 => "WIRE_ACCEPT_CHANNEL",
        34 => "WIRE_FUNDING_CREATED",
        35 => "WIRE_FUNDING_SIGNED",
        36 => "WIRE_CHANNEL_READY",
        38 => "WIRE_SHUTDOWN",
        39 => "WIRE_CLOSING_SIGNED",
        40 => "WIRE_CLOSING_COMPLETE",
        41 => "WIRE_CLOSING_SIG",
        64 => "WIRE_OPEN_CHANNEL2",
        65 => "WIRE_ACCEPT_CHANNEL2",
        66 => "WIRE_TX_ADD_INPUT",
        67 => "WIRE_TX_ADD_OUTPUT",
        68 => "WIRE_TX_REMOVE_INPUT",
        69 => "WIRE_TX_REMOVE_OUTPUT",
        70 => "WIRE_TX_COMPLETE",
        71 => "WIRE_TX_SIGNATURES",
        72 => "WIRE_TX_INIT_RBF",
        73 => "WIRE_TX_ACK_RBF",
        74 => "WIRE_TX_ABORT",
        77 => "WIRE_SPLICE_LOCKED",
        80 => "WIRE_SPLICE_INIT",
        81 => "WIRE_SPLICE_ACK",
        127 => "WIRE_START_BATCH",
        128 => "WIRE_UPDATE_ADD_HTLC",
        130 => "WIRE_UPDATE_FULFILL_HTLC",
        131 => "WIRE_UPDATE_FAIL_HTLC",
        132 => "WIRE_COMMITMENT_SIGNED",
        133 => "WIRE_REVOKE_AND_ACK",
        134 => "WIRE_UPDATE_FEE",
        135 => "WIRE_UPDATE_FAIL_MALFORMED_HTLC",
        136 => "WIRE_CHANNEL_REESTABLISH",
        137 => "WIRE_UPDATE_BLOCKHEIGHT",
        256 => "WIRE_CHANNEL_ANNOUNCEMENT",
        257 => "WIRE_NODE_ANNOUNCEMENT",
        258 => "WIRE_CHANNEL_UPDATE",
        259 => "WIRE_ANNOUNCEMENT_SIGNATURES",
        261 => "WIRE_QUERY_SHORT_CHANNEL_IDS",
        262 => "WIRE_REPLY_SHORT_CHANNEL_IDS_END",
        263 => "WIRE_QUERY_CHANNEL_RANGE",
        264 => "WIRE_REPLY_CHANNEL_RANGE",
        265 => "WIRE_GOSSIP_TIMESTAMP_FILTER",
        513 => "WIRE_ONION_MESSAGE",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_types_where(predicate: impl Fn(MsgType) -> bool) -> Vec<u16> {
        (0..=u16::MAX)
            .filter(|&ty| predicate(MsgType(ty)))
            .collect()
    }

    /// peers.md §2.1: every BOLT-defined wire type.
    #[test]
    fn bolt_defined_set_is_exact() {
        let expected = [
            1, 2, 7, 9, 16, 17, 18, 19, 32, 33, 34, 35, 36, 38, 39, 40, 41, 64, 65, 66, 67, 68, 69,
            70, 71, 72, 73, 74, 77, 80, 81, 127, 128, 130, 131, 132, 133, 134, 135, 136, 256, 257,
            258, 259, 261, 262, 263, 264, 265, 513,
        ];
        assert_eq!(all_types_where(MsgType::is_bolt_defined), expected);
    }

    /// cln.md §1.3: "HEAD's complete internal set".
    #[test]
    fn cln_internal_set_is_exact() {
        let expected = [
            0, 1, 2, 16, 17, 18, 19, 32, 33, 34, 35, 36, 38, 39, 40, 41, 64, 65, 66, 67, 68, 69,
            70, 71, 72, 73, 74, 77, 80, 81, 127, 128, 130, 131, 132, 133, 134, 135, 136, 137, 256,
            257, 258, 259, 261, 262, 263, 264, 265, 513,
        ];
        assert_eq!(all_types_where(MsgType::is_cln_internal), expected);
        assert!(!MsgType(7).is_cln_internal() && !MsgType(9).is_cln_internal());
    }

    #[test]
    fn exactly_the_bolt_and_cln_types_have_names() {
        let named = all_types_where(|ty| cln_name(ty.0).is_some());
        let expected = all_types_where(|ty| ty.is_bolt_defined() || ty.is_cln_internal());
        assert_eq!(named, expected);
    }

    #[test]
    fn names_follow_cln() {
        let cases = [
            (18, "WIRE_PING"),
            (7, "WIRE_PEER_STORAGE"),
            (9, "WIRE_PEER_STORAGE_RETRIEVAL"),
            (36, "WIRE_CHANNEL_READY"),
            (80, "WIRE_SPLICE_INIT"),
            (0, "WIRE_PROTOCOL_BATCH_ELEMENT"),
            (137, "WIRE_UPDATE_BLOCKHEIGHT"),
            (127, "WIRE_START_BATCH"),
            (72, "WIRE_TX_INIT_RBF"),
            (43775, "UNKNOWN 43775"),
            (75, "UNKNOWN 75"),
        ];
        for (ty, name) in cases {
            assert_eq!(MsgType(ty).name(), name);
        }
    }

    #[test]
    fn from_name_inverts_name() {
        for ty in 0..=u16::MAX {
            assert_eq!(MsgType::from_name(&MsgType(ty).name()), Some(MsgType(ty)));
        }
        for name in [
            "WIRE_NOPE",
            "wire_ping",
            "UNKNOWN 18",
            "UNKNOWN 075",
            "UNKNOWN -1",
            "",
        ] {
            assert_eq!(MsgType::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn parity_and_custom_range() {
        assert!(MsgType(1).is_odd() && !MsgType(16).is_odd() && MsgType(65535).is_odd());
        assert!(!MsgType(32767).is_custom() && MsgType(32768).is_custom());
        assert!(MsgType(u16::MAX).is_custom());
    }
}
