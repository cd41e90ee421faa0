//! What to do with each message a peer sends after `init`: the odd/even rule, pings and
//! pongs, `error` and `warning`, channel messages a channel-less node refuses.

use wire::{decode_message, Encode, ErrorMessage, Message, MsgType, TlvStream, Warning};

/// What the reader must do with one incoming message after `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do (gossip, unsolicited pong, an ignorable ping, unknown odd BOLT types).
    Ignore,
    /// Send this reply to the peer (a pong, or an `error` for a channel message).
    Reply(Vec<u8>),
    /// A ping that deserves a pong, if the rate limit allows: the pong's bytes.
    Pong(Vec<u8>),
    /// The pong to our ping arrived.
    PongReceived,
    /// A custom (or otherwise unhandled odd) message for plugins and subscribers.
    Custom(MsgType),
    /// An `onion_message` (513, BOLT 4): for the node's onion messenger, if it has one.
    OnionMessage,
    /// The peer sent `warning`: log it, keep the connection.
    LogWarning(String),
    /// The peer sent `error`: log it and close.
    CloseOnError(String),
    /// Send this `warning` text, then close.
    WarnAndClose(String),
}

/// Bytes of an offending message quoted (as hex) in a warning; enough to identify it, and far
/// below what a `warning` can carry.
const QUOTED_BYTES: usize = 256;

/// Longest `warning` text: the message is at most 65535 bytes, less type, channel id, length.
const MAX_WARNING_TEXT: usize = 65_535 - 2 - 32 - 2;

/// Hex of `bytes`, cut to [`QUOTED_BYTES`] with a marker when longer.
fn quoted_hex(bytes: &[u8]) -> String {
    match bytes.get(..QUOTED_BYTES) {
        Some(head) if bytes.len() > QUOTED_BYTES => format!("{}...", hex::encode(head)),
        _ => hex::encode(bytes),
    }
}

/// BOLT 4's `onion_message`.
const ONION_MESSAGE: u16 = 513;

/// Text for channel messages, which a channel-less node answers with an `error`.
const NO_CHANNELS: &str = "lnpeer does not support channels";

/// Decides what to do with a message received after `init`. `allow_even` tells whether a
/// plugin claimed an even type that is not BOLT-defined; it is only called for such types.
pub fn dispatch(message: &[u8], allow_even: impl Fn(MsgType) -> bool) -> Action {
    let Some(&[high, low]) = message.get(..2) else {
        return Action::WarnAndClose(format!("Message too short: {}", quoted_hex(message)));
    };
    let ty = MsgType(u16::from_be_bytes([high, low]));
    // Only the five BOLT 1 messages we handle are parsed; everything else is classified by
    // its type, so a custom message is not copied just to be looked at.
    if !matches!(
        ty,
        MsgType::INIT | MsgType::ERROR | MsgType::WARNING | MsgType::PING | MsgType::PONG
    ) {
        return dispatch_other(ty, &message[2..], &allow_even);
    }
    let decoded = match decode_message(message) {
        Ok(decoded) => decoded,
        Err(error) => {
            return Action::WarnAndClose(if ty == MsgType::PING {
                format!("Invalid ping {}", quoted_hex(message))
            } else {
                format!("Invalid {}: {error}", ty.name())
            })
        }
    };
    match decoded {
        Message::Init(_) => Action::WarnAndClose("Unexpected second init".to_owned()),
        Message::Ping(ping) => match ping.pong() {
            Some(pong) => Action::Pong(Message::Pong(pong).to_bytes()),
            None => Action::Ignore,
        },
        Message::Pong(_) => Action::PongReceived,
        Message::Error(error) => {
            Action::CloseOnError(sanitized("ERROR", &error.channel_id, &error.data_for_log()))
        }
        Message::Warning(warning) => Action::LogWarning(sanitized(
            "WARNING",
            &warning.channel_id,
            &warning.data_for_log(),
        )),
        // decode_message returns Other only for types filtered out above.
        Message::Other { ty, payload } => dispatch_other(ty, &payload, &allow_even),
    }
}

fn dispatch_other(ty: MsgType, payload: &[u8], allow_even: &impl Fn(MsgType) -> bool) -> Action {
    // Peer storage (7, 9) is odd and left to plugins, as in CLN.
    if matches!(ty.0, 7 | 9) {
        return Action::Custom(ty);
    }
    if ty.is_bolt_defined() {
        // stfu (2) and the channel range 32-255 belong to a channel we cannot have.
        if ty.0 == 2 || (32..=255).contains(&ty.0) {
            return match channel_id_of(ty, payload) {
                Some(channel_id) => Action::Reply(
                    Message::Error(ErrorMessage {
                        channel_id,
                        data: NO_CHANNELS.as_bytes().to_vec(),
                        tlvs: TlvStream::new(),
                    })
                    .to_bytes(),
                ),
                None => Action::WarnAndClose(format!("Invalid {}: too short", ty.name())),
            };
        }
        if ty.0 == ONION_MESSAGE {
            return Action::OnionMessage;
        }
        // Gossip: nothing for a transport node to do.
        return Action::Ignore;
    }
    if ty.is_odd() || allow_even(ty) {
        Action::Custom(ty)
    } else {
        let mut whole = ty.0.to_be_bytes().to_vec();
        whole.extend_from_slice(payload);
        Action::WarnAndClose(format!("Invalid unknown even msg {}", quoted_hex(&whole)))
    }
}

/// The channel a channel message is about: `open_channel` and `open_channel2` carry the chain
/// hash first and the temporary channel id second; all others start with the channel id.
fn channel_id_of(ty: MsgType, payload: &[u8]) -> Option<[u8; 32]> {
    let offset = if matches!(ty.0, 32 | 64) { 32 } else { 0 };
    payload.get(offset..offset + 32)?.try_into().ok()
}

/// CLN's form for logging a received error or warning: `ERROR: text` or
/// `WARNING channel <cid>: text`.
fn sanitized(kind: &str, channel_id: &[u8; 32], text: &str) -> String {
    if channel_id == &[0u8; 32] {
        format!("{kind}: {text}")
    } else {
        format!("{kind} channel {}: {text}", hex::encode(channel_id))
    }
}

/// A `warning` for all channels with `text` (cut to what a message can carry), as bytes.
pub fn warning(text: &str) -> Vec<u8> {
    let data = &text.as_bytes()[..text.len().min(MAX_WARNING_TEXT)];
    Message::Warning(Warning {
        channel_id: [0; 32],
        data: data.to_vec(),
        tlvs: TlvStream::new(),
    })
    .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::{default_features, our_init};
    use wire::{ChainHash, Ping};

    fn no_even(_: MsgType) -> bool {
        false
    }

    #[test]
    fn pings_are_answered_with_exactly_the_asked_bytes_below_65532() {
        for asked in [0u16, 1, 100, 65531] {
            let ping = Message::Ping(Ping {
                num_pong_bytes: asked,
                ignored: vec![1; 3],
                tlvs: TlvStream::new(),
            });
            let Action::Pong(pong) = dispatch(&ping.to_bytes(), no_even) else {
                panic!("no pong for {asked}")
            };
            let Message::Pong(pong) = decode_message(&pong).unwrap() else {
                panic!()
            };
            assert_eq!(pong.ignored, vec![0; usize::from(asked)]);
        }
        for asked in [65532u16, 65535] {
            let ping = Message::Ping(Ping {
                num_pong_bytes: asked,
                ignored: vec![],
                tlvs: TlvStream::new(),
            });
            assert_eq!(dispatch(&ping.to_bytes(), no_even), Action::Ignore);
        }
        assert_eq!(
            dispatch(&[0, 18, 0], no_even),
            Action::WarnAndClose("Invalid ping 001200".into())
        );
    }

    #[test]
    fn unknown_types_follow_the_odd_even_rule() {
        assert_eq!(
            dispatch(&[0x80, 0x01, 1, 2], no_even),
            Action::Custom(MsgType(32769))
        );
        assert_eq!(
            dispatch(&[0x00, 0x07, 0, 0], no_even),
            Action::Custom(MsgType(7))
        );
        assert_eq!(
            dispatch(&[0x80, 0x00, 0xab], no_even),
            Action::WarnAndClose("Invalid unknown even msg 8000ab".into())
        );
        assert_eq!(
            dispatch(&[0x80, 0x00, 0xab], |ty| ty == MsgType(32768)),
            Action::Custom(MsgType(32768))
        );
        // BOLT-defined even types are known: gossip is ignored, never a reason to close; an
        // onion message goes to the session, which knows whether we offer them.
        assert_eq!(dispatch(&[0x01, 0x00, 0, 0], no_even), Action::Ignore);
        assert_eq!(dispatch(&[0x02, 0x01, 0], no_even), Action::OnionMessage);
    }

    #[test]
    fn the_largest_unknown_even_message_yields_a_warning_that_fits() {
        let mut huge = vec![0x80, 0x80];
        huge.resize(65_535, 0xee);
        let Action::WarnAndClose(text) = dispatch(&huge, no_even) else {
            panic!()
        };
        assert!(text.starts_with("Invalid unknown even msg 8080eeee"));
        assert!(text.ends_with("..."));
        assert_eq!(
            text.len(),
            "Invalid unknown even msg ".len() + 2 * QUOTED_BYTES + 3
        );
        let bytes = warning(&text);
        assert!(decode_message(&bytes).is_ok());
        let longest = warning(&"x".repeat(100_000));
        assert_eq!(longest.len(), 65_535);
    }

    #[test]
    fn channel_messages_get_an_error_for_their_channel() {
        let mut open_channel = vec![0, 32];
        open_channel.extend_from_slice(&[0xcc; 32]); // chain hash
        open_channel.extend_from_slice(&[0x11; 32]); // temporary channel id
        let Action::Reply(reply) = dispatch(&open_channel, no_even) else {
            panic!()
        };
        let Message::Error(error) = decode_message(&reply).unwrap() else {
            panic!()
        };
        assert_eq!(error.channel_id, [0x11; 32]);
        let mut shutdown = vec![0, 38];
        shutdown.extend_from_slice(&[0x22; 32]);
        shutdown.extend_from_slice(&[0, 0]);
        let Action::Reply(reply) = dispatch(&shutdown, no_even) else {
            panic!()
        };
        let Message::Error(error) = decode_message(&reply).unwrap() else {
            panic!()
        };
        assert_eq!(error.channel_id, [0x22; 32]);
        assert!(matches!(
            dispatch(&[0, 38, 1], no_even),
            Action::WarnAndClose(_)
        ));
    }

    #[test]
    fn error_closes_and_warning_is_logged_in_clns_form() {
        let error = Message::Error(ErrorMessage {
            channel_id: [0; 32],
            data: b"bye".to_vec(),
            tlvs: TlvStream::new(),
        });
        assert_eq!(
            dispatch(&error.to_bytes(), no_even),
            Action::CloseOnError("ERROR: bye".into())
        );
        let warning_bytes = warning("careful");
        assert_eq!(
            dispatch(&warning_bytes, no_even),
            Action::LogWarning("WARNING: careful".into())
        );
        let second_init = our_init(&default_features(), ChainHash::REGTEST, None);
        assert!(matches!(
            dispatch(&second_init, no_even),
            Action::WarnAndClose(_)
        ));
    }
}
