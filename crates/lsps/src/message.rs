//! Framing LSPS0 payloads as custom message 37913.

/// `payload` as a custom message: the type, then the payload.
pub(crate) fn framed(payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(2 + payload.len());
    message.extend_from_slice(&lsps0::MESSAGE_TYPE.to_be_bytes());
    message.extend_from_slice(payload);
    message
}

/// The payload of `message` if it is an LSPS0 message.
pub(crate) fn payload(message: &[u8]) -> Option<&[u8]> {
    match message {
        [high, low, payload @ ..] if u16::from_be_bytes([*high, *low]) == lsps0::MESSAGE_TYPE => {
            Some(payload)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_round_trips_and_other_types_are_not_ours() {
        let message = framed(b"{}");
        assert_eq!(message, [0x94, 0x19, b'{', b'}']);
        assert_eq!(payload(&message), Some(&b"{}"[..]));
        assert_eq!(payload(&[0x94, 0x19]), Some(&b""[..]));
        assert_eq!(payload(&[0x94, 0x1b, b'{']), None);
        assert_eq!(payload(&[0x94]), None);
    }
}
