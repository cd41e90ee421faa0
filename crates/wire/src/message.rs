//! BOLT 1's control messages (`error`, `warning`, `ping`, `pong`) and the [`Message`] enum
//! that [`decode_message`] returns.

use std::fmt::Write as _;

use crate::codec::put_u16_prefixed;
use crate::{Decode, DecodeError, Encode, Init, MsgType, Reader, TlvStream};

/// The highest `num_pong_bytes` that gets a `pong`: 65535 (largest message) − 2 (type) −
/// 2 (`byteslen`). BOLT 1: a `ping` asking for more "MUST" be ignored; senders use that for
/// padding and cover traffic.
pub const MAX_PONG_BYTES: u16 = 65531;

/// `error` (BOLT 1, type 17): the sender is failing `channel_id`, or every channel if it is
/// all zeros.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorMessage {
    /// The channel concerned; all zeros means all channels.
    pub channel_id: [u8; 32],
    /// Free-form, usually ASCII text. Render it with [`ErrorMessage::data_for_log`].
    pub data: Vec<u8>,
    /// The extension TLV stream (BOLT 1 defines no types for it; unknown odd ones are kept).
    pub tlvs: TlvStream,
}

/// `warning` (BOLT 1, type 1): same layout as `error`, but the sender fails nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warning {
    /// The channel concerned; all zeros means the connection as a whole.
    pub channel_id: [u8; 32],
    /// Free-form, usually ASCII text. Render it with [`Warning::data_for_log`].
    pub data: Vec<u8>,
    /// The extension TLV stream (BOLT 1 defines no types for it; unknown odd ones are kept).
    pub tlvs: TlvStream,
}

impl ErrorMessage {
    /// Whether `channel_id` is all zeros, which BOLT 1 reads as "all channels".
    pub fn applies_to_all_channels(&self) -> bool {
        self.channel_id == [0; 32]
    }

    /// `data` for a log line: verbatim if it is all printable ASCII, else hex (BOLT 1: a
    /// receiver "SHOULD NOT print out `data` verbatim" otherwise).
    pub fn data_for_log(&self) -> String {
        printable_or_hex(&self.data)
    }
}

impl Warning {
    /// Whether `channel_id` is all zeros: the warning is about the connection, not a channel.
    pub fn applies_to_all_channels(&self) -> bool {
        self.channel_id == [0; 32]
    }

    /// `data` for a log line: verbatim if it is all printable ASCII, else hex (BOLT 1: a
    /// receiver "SHOULD NOT print out `data` verbatim" otherwise).
    pub fn data_for_log(&self) -> String {
        printable_or_hex(&self.data)
    }
}

/// BOLT 1's printable range is ASCII 32 to 126; anything else could forge log lines or
/// terminal escapes, so the whole field is shown as hex instead.
fn printable_or_hex(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) if data.iter().all(|byte| (32..=126).contains(byte)) => text.to_owned(),
        _ => data
            .iter()
            .fold(String::with_capacity(data.len() * 2), |mut hex, byte| {
                let _ = write!(hex, "{byte:02x}");
                hex
            }),
    }
}

/// Field names for the two messages that share `error`'s layout.
struct NoticeFields {
    channel_id: &'static str,
    data: &'static str,
    tlvs: &'static str,
}

const ERROR_FIELDS: NoticeFields = NoticeFields {
    channel_id: "error.channel_id",
    data: "error.data",
    tlvs: "error.tlvs",
};

const WARNING_FIELDS: NoticeFields = NoticeFields {
    channel_id: "warning.channel_id",
    data: "warning.data",
    tlvs: "warning.tlvs",
};

/// `[channel_id][u16:len][len*byte:data][tlvs]`, shared by `error` and `warning`.
fn decode_notice(
    r: &mut Reader<'_>,
    fields: &NoticeFields,
) -> Result<([u8; 32], Vec<u8>, TlvStream), DecodeError> {
    let channel_id = r.read_array(fields.channel_id)?;
    let data = r.read_u16_prefixed(fields.data)?.to_vec();
    let tlvs = TlvStream::decode(r, &[], fields.tlvs)?;
    Ok((channel_id, data, tlvs))
}

fn encode_notice(
    out: &mut Vec<u8>,
    channel_id: &[u8; 32],
    data: &[u8],
    tlvs: &TlvStream,
    fields: &NoticeFields,
) {
    out.extend_from_slice(channel_id);
    put_u16_prefixed(out, data, fields.data);
    tlvs.encode(out);
}

impl Encode for ErrorMessage {
    /// # Panics
    ///
    /// If `data` is longer than 65535 bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        encode_notice(out, &self.channel_id, &self.data, &self.tlvs, &ERROR_FIELDS);
    }
}

impl Decode for ErrorMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (channel_id, data, tlvs) = decode_notice(r, &ERROR_FIELDS)?;
        Ok(Self {
            channel_id,
            data,
            tlvs,
        })
    }
}

impl Encode for Warning {
    /// # Panics
    ///
    /// If `data` is longer than 65535 bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        encode_notice(
            out,
            &self.channel_id,
            &self.data,
            &self.tlvs,
            &WARNING_FIELDS,
        );
    }
}

impl Decode for Warning {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (channel_id, data, tlvs) = decode_notice(r, &WARNING_FIELDS)?;
        Ok(Self {
            channel_id,
            data,
            tlvs,
        })
    }
}

/// `ping` (BOLT 1, type 18). `ignored` is kept byte for byte (rather than as a length) so a
/// decoded ping re-encodes exactly, even if the sender did not zero it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ping {
    /// How long a `pong` the sender wants; above [`MAX_PONG_BYTES`] it wants none.
    pub num_pong_bytes: u16,
    /// Padding; BOLT 1 says senders "SHOULD set `ignored` to 0s".
    pub ignored: Vec<u8>,
    /// The extension TLV stream.
    pub tlvs: TlvStream,
}

impl Ping {
    /// The `pong` BOLT 1 requires in reply (`num_pong_bytes` zeros), or `None` if
    /// `num_pong_bytes` is above [`MAX_PONG_BYTES`] and the ping must be ignored.
    pub fn pong(&self) -> Option<Pong> {
        (self.num_pong_bytes <= MAX_PONG_BYTES).then(|| Pong {
            ignored: vec![0; usize::from(self.num_pong_bytes)],
            tlvs: TlvStream::new(),
        })
    }
}

impl Encode for Ping {
    /// # Panics
    ///
    /// If `ignored` is longer than 65535 bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.num_pong_bytes.to_be_bytes());
        put_u16_prefixed(out, &self.ignored, "ping.ignored");
        self.tlvs.encode(out);
    }
}

impl Decode for Ping {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            num_pong_bytes: r.read_u16("ping.num_pong_bytes")?,
            ignored: r.read_u16_prefixed("ping.ignored")?.to_vec(),
            tlvs: TlvStream::decode(r, &[], "ping.tlvs")?,
        })
    }
}

/// `pong` (BOLT 1, type 19).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pong {
    /// Padding whose length answers a ping's `num_pong_bytes`.
    pub ignored: Vec<u8>,
    /// The extension TLV stream.
    pub tlvs: TlvStream,
}

impl Encode for Pong {
    /// # Panics
    ///
    /// If `ignored` is longer than 65535 bytes.
    fn encode(&self, out: &mut Vec<u8>) {
        put_u16_prefixed(out, &self.ignored, "pong.ignored");
        self.tlvs.encode(out);
    }
}

impl Decode for Pong {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ignored: r.read_u16_prefixed("pong.ignored")?.to_vec(),
            tlvs: TlvStream::decode(r, &[], "pong.tlvs")?,
        })
    }
}

/// One Lightning message: a 2-byte type and its payload (BOLT 1).
///
/// Only the five BOLT 1 control messages are parsed. Every other type, BOLT-defined or
/// custom, odd or even, is [`Message::Other`] with its raw payload: whether an unknown even
/// type closes the connection is the peer layer's decision (a plugin may have claimed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `init` (16).
    Init(Init),
    /// `error` (17).
    Error(ErrorMessage),
    /// `warning` (1).
    Warning(Warning),
    /// `ping` (18).
    Ping(Ping),
    /// `pong` (19).
    Pong(Pong),
    /// Any other type. `ty` should not be one of the five above: such a value encodes fine,
    /// but decodes back as the parsed variant.
    Other {
        /// The message type.
        ty: MsgType,
        /// Everything after the type, unparsed.
        payload: Vec<u8>,
    },
}

impl Message {
    /// The message's type.
    pub fn msg_type(&self) -> MsgType {
        match self {
            Self::Init(_) => MsgType::INIT,
            Self::Error(_) => MsgType::ERROR,
            Self::Warning(_) => MsgType::WARNING,
            Self::Ping(_) => MsgType::PING,
            Self::Pong(_) => MsgType::PONG,
            Self::Other { ty, .. } => *ty,
        }
    }
}

impl Encode for Message {
    /// The type, then the payload.
    ///
    /// # Panics
    ///
    /// As the inner message's [`Encode`] (only for `u16`-prefixed fields over 65535 bytes).
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.msg_type().0.to_be_bytes());
        match self {
            Self::Init(init) => init.encode(out),
            Self::Error(error) => error.encode(out),
            Self::Warning(warning) => warning.encode(out),
            Self::Ping(ping) => ping.encode(out),
            Self::Pong(pong) => pong.encode(out),
            Self::Other { payload, .. } => out.extend_from_slice(payload),
        }
    }
}

impl Decode for Message {
    /// Reads the rest of `r` as one message.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let ty = MsgType(r.read_u16("message.type")?);
        let message = match ty {
            MsgType::INIT => Self::Init(Init::decode(r)?),
            MsgType::ERROR => Self::Error(ErrorMessage::decode(r)?),
            MsgType::WARNING => Self::Warning(Warning::decode(r)?),
            MsgType::PING => Self::Ping(Ping::decode(r)?),
            MsgType::PONG => Self::Pong(Pong::decode(r)?),
            _ => Self::Other {
                ty,
                payload: r.read_rest().to_vec(),
            },
        };
        Ok(message)
    }
}

/// Decodes one whole message (the plaintext of one BOLT 8 frame): a 2-byte type, then its
/// payload. Re-encoding the result gives back exactly `bytes`.
///
/// # Errors
///
/// [`DecodeError::Truncated`] for fewer than 2 bytes or a known message too short for its
/// fields; any error of the message's extension TLV stream (an unknown even record, bad
/// ordering, ...); any error of `init`'s `networks` or `remote_addr`.
pub fn decode_message(bytes: &[u8]) -> Result<Message, DecodeError> {
    Message::decode(&mut Reader::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TlvRecord;

    fn odd_tlv() -> TlvStream {
        TlvStream::from_records([TlvRecord {
            ty: 0xc9,
            value: vec![0x2a],
        }])
    }

    fn examples() -> Vec<Message> {
        vec![
            Message::Init(Init::default()),
            Message::Error(ErrorMessage {
                channel_id: [7; 32],
                data: b"bad".to_vec(),
                tlvs: TlvStream::new(),
            }),
            Message::Warning(Warning {
                channel_id: [0; 32],
                data: b"careful".to_vec(),
                tlvs: odd_tlv(),
            }),
            Message::Ping(Ping {
                num_pong_bytes: 1,
                ignored: vec![0; 3],
                tlvs: TlvStream::new(),
            }),
            Message::Pong(Pong {
                ignored: vec![0; 2],
                tlvs: odd_tlv(),
            }),
            Message::Other {
                ty: MsgType(32769),
                payload: vec![1, 2, 3],
            },
        ]
    }

    #[test]
    fn examples_round_trip() {
        for message in examples() {
            let bytes = message.to_bytes();
            assert_eq!(decode_message(&bytes), Ok(message));
        }
    }

    #[test]
    fn every_prefix_fails_or_re_encodes_to_itself() {
        for message in examples() {
            let bytes = message.to_bytes();
            for len in 0..bytes.len() {
                match decode_message(&bytes[..len]) {
                    Ok(decoded) => assert_eq!(decoded.to_bytes(), &bytes[..len]),
                    Err(DecodeError::Truncated { .. }) => {}
                    Err(other) => panic!("{message:?} cut to {len}: {other}"),
                }
            }
        }
    }

    /// Cut anywhere before the extension, a known message is an error, never a panic.
    #[test]
    fn prefixes_inside_fixed_fields_are_truncated() {
        for message in examples() {
            let bytes = message.to_bytes();
            let fixed_len = match &message {
                Message::Warning(w) => bytes.len() - w.tlvs.to_bytes().len(),
                Message::Pong(p) => bytes.len() - p.tlvs.to_bytes().len(),
                Message::Other { .. } => 2,
                _ => bytes.len(),
            };
            for len in 0..fixed_len {
                assert!(
                    matches!(
                        decode_message(&bytes[..len]),
                        Err(DecodeError::Truncated { .. })
                    ),
                    "{message:?} cut to {len}"
                );
            }
        }
        assert_eq!(
            decode_message(&[0x00]),
            Err(DecodeError::Truncated {
                field: "message.type"
            })
        );
    }

    #[test]
    fn pinned_bytes() {
        // CLN's keepalive ping: num_pong_bytes = 1, no ignored bytes.
        let keepalive = Message::Ping(Ping {
            num_pong_bytes: 1,
            ..Ping::default()
        });
        assert_eq!(keepalive.to_bytes(), [0x00, 0x12, 0x00, 0x01, 0x00, 0x00]);
        let warning = Message::Warning(Warning {
            data: b"hi".to_vec(),
            ..Warning::default()
        });
        let mut expected = vec![0x00, 0x01];
        expected.extend([0; 32]);
        expected.extend([0x00, 0x02, b'h', b'i']);
        assert_eq!(warning.to_bytes(), expected);
    }

    #[test]
    fn unknown_even_extension_is_an_error() {
        let mut bytes = Message::Pong(Pong::default()).to_bytes();
        bytes.extend([0x02, 0x00]);
        assert_eq!(
            decode_message(&bytes),
            Err(DecodeError::UnknownEvenTlv {
                field: "pong.tlvs",
                ty: 2
            })
        );
    }

    #[test]
    fn other_types_keep_their_payload_even_when_even() {
        for ty in [0, 2, 32, 256, 32768, 65535] {
            let bytes = [&u16::to_be_bytes(ty)[..], &[0xde, 0xad]].concat();
            let message = decode_message(&bytes).unwrap();
            assert_eq!(
                message,
                Message::Other {
                    ty: MsgType(ty),
                    payload: vec![0xde, 0xad]
                }
            );
            assert_eq!(message.msg_type(), MsgType(ty));
        }
    }

    #[test]
    fn pong_is_required_up_to_65531_bytes() {
        let ping = |num_pong_bytes| Ping {
            num_pong_bytes,
            ..Ping::default()
        };
        assert_eq!(ping(0).pong(), Some(Pong::default()));
        assert_eq!(
            ping(MAX_PONG_BYTES).pong().map(|p| p.ignored.len()),
            Some(65531)
        );
        assert_eq!(ping(65532).pong(), None);
        assert_eq!(ping(u16::MAX).pong(), None);
    }

    #[test]
    fn data_for_log_is_verbatim_only_when_printable() {
        let error = |data: &[u8]| ErrorMessage {
            data: data.to_vec(),
            ..ErrorMessage::default()
        };
        assert_eq!(
            error(b"Unknown channel ~!").data_for_log(),
            "Unknown channel ~!"
        );
        assert_eq!(error(b"line\nbreak").data_for_log(), "6c696e650a627265616b");
        assert_eq!(error(&[0x7f]).data_for_log(), "7f");
        assert_eq!(error(&[0xc3, 0xa9]).data_for_log(), "c3a9");
        assert_eq!(error(b"").data_for_log(), "");
        assert!(error(b"").applies_to_all_channels());
        let warning = Warning {
            channel_id: [1; 32],
            data: b"\x1b[31m".to_vec(),
            ..Warning::default()
        };
        assert!(!warning.applies_to_all_channels());
        assert_eq!(warning.data_for_log(), "1b5b33316d");
    }
}
