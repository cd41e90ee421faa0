//! The wire chunk: one Lightning custom message carrying a slice of a request's or a reply's
//! JSON text (CLN `plugins/commando.c`; notes §4.1, §4.4).
//!
//! ```text
//! u16 type (big-endian) ‖ 8-byte request id ‖ JSON bytes
//! ```
//!
//! A request (or reply) is the concatenation of the JSON slices of zero or more "continues"
//! chunks and one terminal chunk, all with the same id. The four types are odd, so a node that
//! knows nothing of commando ignores them, as BOLT 1 asks.

use std::fmt;

/// The most JSON bytes one chunk carries (CLN's piece size): 65000 + 10 header bytes fit
/// BOLT 8's 65535-byte message limit.
pub const MAX_CHUNK_JSON: usize = 65000;

/// Type and request id: the bytes before the JSON slice.
pub const HEADER_LEN: usize = 10;

/// The 8-byte id every chunk of one request and of its reply carries.
///
/// CLN reads it as a big-endian `u64` and lnmessage as 16 hex digits; here it is opaque bytes,
/// chosen by whoever sends the request (the client side takes it as an argument, so this crate
/// needs no randomness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub [u8; 8]);

impl From<u64> for RequestId {
    /// The id as CLN writes a `u64` one: big-endian.
    fn from(id: u64) -> Self {
        RequestId(id.to_be_bytes())
    }
}

impl fmt::Display for RequestId {
    /// 16 lower-case hex digits, as lnmessage writes ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Which way a chunk goes: a command to the node that runs it, or a reply back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server.
    Command,
    /// Server to client.
    Reply,
}

/// The four commando message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkKind {
    /// `0x4c4d`: part of a command, more follow.
    CommandContinues,
    /// `0x4c4f`: the last (or only) part of a command.
    CommandTerminal,
    /// `0x594b`: part of a reply, more follow.
    ReplyContinues,
    /// `0x594d`: the last (or only) part of a reply.
    ReplyTerminal,
}

impl ChunkKind {
    /// Every kind, for callers that claim the message types (e.g. a custom-message filter).
    pub const ALL: [ChunkKind; 4] = [
        ChunkKind::CommandContinues,
        ChunkKind::CommandTerminal,
        ChunkKind::ReplyContinues,
        ChunkKind::ReplyTerminal,
    ];

    /// The BOLT 1 message type.
    pub const fn msg_type(self) -> u16 {
        match self {
            ChunkKind::CommandContinues => 0x4c4d,
            ChunkKind::CommandTerminal => 0x4c4f,
            ChunkKind::ReplyContinues => 0x594b,
            ChunkKind::ReplyTerminal => 0x594d,
        }
    }

    /// The kind of a message type; `None` for any other type.
    pub const fn from_msg_type(msg_type: u16) -> Option<ChunkKind> {
        match msg_type {
            0x4c4d => Some(ChunkKind::CommandContinues),
            0x4c4f => Some(ChunkKind::CommandTerminal),
            0x594b => Some(ChunkKind::ReplyContinues),
            0x594d => Some(ChunkKind::ReplyTerminal),
            _ => None,
        }
    }

    /// Command or reply.
    pub const fn direction(self) -> Direction {
        match self {
            ChunkKind::CommandContinues | ChunkKind::CommandTerminal => Direction::Command,
            ChunkKind::ReplyContinues | ChunkKind::ReplyTerminal => Direction::Reply,
        }
    }

    /// Whether this chunk ends its request or reply.
    pub const fn is_terminal(self) -> bool {
        matches!(self, ChunkKind::CommandTerminal | ChunkKind::ReplyTerminal)
    }

    /// The kind going `direction`, terminal or not.
    pub const fn new(direction: Direction, terminal: bool) -> ChunkKind {
        match (direction, terminal) {
            (Direction::Command, false) => ChunkKind::CommandContinues,
            (Direction::Command, true) => ChunkKind::CommandTerminal,
            (Direction::Reply, false) => ChunkKind::ReplyContinues,
            (Direction::Reply, true) => ChunkKind::ReplyTerminal,
        }
    }
}

/// One commando message, borrowing its JSON slice from the message (decoding) or from the
/// whole text being split (encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The message type.
    pub kind: ChunkKind,
    /// The request id.
    pub id: RequestId,
    /// This chunk's slice of the JSON text: any bytes at all, as the peer sent them.
    pub json: &'a [u8],
}

impl<'a> Chunk<'a> {
    /// Reads a custom message (type included). `None` if it is not a commando message: another
    /// type, or shorter than the 10-byte header (CLN ignores those too).
    pub fn decode(message: &'a [u8]) -> Option<Chunk<'a>> {
        let (header, json) = message.split_first_chunk::<HEADER_LEN>()?;
        let (msg_type, id) = header.split_first_chunk::<2>()?;
        let kind = ChunkKind::from_msg_type(u16::from_be_bytes(*msg_type))?;
        let id = RequestId(id.try_into().ok()?);
        Some(Chunk { kind, id, json })
    }

    /// Appends the message (type, id, JSON slice) to `out`. Callers that build chunks
    /// themselves keep `json` within [`MAX_CHUNK_JSON`]; [`split`] always does.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(HEADER_LEN + self.json.len());
        out.extend_from_slice(&self.kind.msg_type().to_be_bytes());
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(self.json);
    }

    /// The message as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Cuts a whole request or reply into chunks of at most [`MAX_CHUNK_JSON`] bytes: every one
/// but the last "continues", the last is terminal. As in CLN, text of a multiple of 65000 bytes
/// ends with a full terminal chunk (no empty chunk follows it), and empty text is one empty
/// terminal chunk.
pub fn split(direction: Direction, id: RequestId, json: &[u8]) -> Split<'_> {
    Split {
        direction,
        id,
        rest: json,
        done: false,
    }
}

/// Cuts `json` and encodes every chunk: the messages to send, in order.
pub fn split_messages(direction: Direction, id: RequestId, json: &[u8]) -> Vec<Vec<u8>> {
    split(direction, id, json)
        .map(|chunk| chunk.to_bytes())
        .collect()
}

/// The chunks of one text, in sending order (see [`split`]).
#[derive(Debug, Clone)]
pub struct Split<'a> {
    direction: Direction,
    id: RequestId,
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Split<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        if self.done {
            return None;
        }
        let (json, rest) = self
            .rest
            .split_at_checked(MAX_CHUNK_JSON)
            .unwrap_or((self.rest, &[]));
        self.rest = rest;
        self.done = rest.is_empty();
        Some(Chunk {
            kind: ChunkKind::new(self.direction, self.done),
            id: self.id,
            json,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = match self.done {
            true => 0,
            false => self.rest.len().div_ceil(MAX_CHUNK_JSON).max(1),
        };
        (left, Some(left))
    }
}

impl ExactSizeIterator for Split<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: RequestId = RequestId([1, 2, 3, 4, 5, 6, 7, 8]);

    #[test]
    fn types_are_clns_and_odd() {
        let types: Vec<u16> = ChunkKind::ALL.iter().map(|k| k.msg_type()).collect();
        assert_eq!(types, [0x4c4d, 0x4c4f, 0x594b, 0x594d]);
        for kind in ChunkKind::ALL {
            assert_eq!(kind.msg_type() % 2, 1, "{kind:?} must be odd");
            assert_eq!(ChunkKind::from_msg_type(kind.msg_type()), Some(kind));
            assert_eq!(ChunkKind::new(kind.direction(), kind.is_terminal()), kind);
        }
        assert_eq!(ChunkKind::from_msg_type(0x4c4e), None);
    }

    #[test]
    fn decodes_the_notes_request_vector() {
        // Notes §9.7: 0x4c4f ‖ 0102030405060708 ‖ JSON.
        let json = br#"{"id":"lnmessage:getinfo#0102030405060708","rune":"x","method":"getinfo","params":[]}"#;
        let mut message = vec![0x4c, 0x4f, 1, 2, 3, 4, 5, 6, 7, 8];
        message.extend_from_slice(json);
        let chunk = Chunk::decode(&message).unwrap();
        assert_eq!(chunk.kind, ChunkKind::CommandTerminal);
        assert_eq!(chunk.id, ID);
        assert_eq!(chunk.id, RequestId::from(0x0102030405060708));
        assert_eq!(chunk.id.to_string(), "0102030405060708");
        assert_eq!(chunk.json, json);
        assert_eq!(chunk.to_bytes(), message);
    }

    #[test]
    fn short_or_foreign_messages_are_not_commando() {
        assert_eq!(Chunk::decode(&[]), None);
        assert_eq!(Chunk::decode(&[0x4c, 0x4f, 1, 2, 3, 4, 5, 6, 7]), None);
        assert_eq!(
            Chunk::decode(&[0x4c, 0x4f, 1, 2, 3, 4, 5, 6, 7, 8]),
            Some(Chunk {
                kind: ChunkKind::CommandTerminal,
                id: ID,
                json: &[]
            }),
            "a bare header is an empty slice"
        );
        assert_eq!(
            Chunk::decode(&[0x80, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, b'{']),
            None
        );
    }

    fn sizes(json: &[u8]) -> Vec<(ChunkKind, usize)> {
        let chunks = split(Direction::Reply, ID, json);
        let expected = chunks.len();
        let sizes: Vec<_> = chunks.map(|c| (c.kind, c.json.len())).collect();
        assert_eq!(sizes.len(), expected, "size_hint is exact");
        sizes
    }

    #[test]
    fn split_matches_the_notes_examples() {
        use ChunkKind::{ReplyContinues as More, ReplyTerminal as Last};
        // Notes §9.7.
        assert_eq!(
            sizes(&[b'x'; 130_001]),
            [(More, 65000), (More, 65000), (Last, 1)]
        );
        assert_eq!(sizes(&[b'x'; 130_000]), [(More, 65000), (Last, 65000)]);
        assert_eq!(sizes(&[b'x'; 65_000]), [(Last, 65000)]);
        assert_eq!(sizes(&[b'x'; 65_001]), [(More, 65000), (Last, 1)]);
        assert_eq!(sizes(b"{}"), [(Last, 2)]);
        assert_eq!(sizes(b""), [(Last, 0)]);
    }

    #[test]
    fn split_messages_reassemble_byte_exact() {
        let json: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let messages = split_messages(Direction::Command, ID, &json);
        assert_eq!(messages.len(), 3);
        let mut whole = Vec::new();
        for (n, message) in messages.iter().enumerate() {
            assert!(message.len() <= HEADER_LEN + MAX_CHUNK_JSON);
            assert!(message.len() <= 65535, "fits a BOLT 8 message");
            let chunk = Chunk::decode(message).unwrap();
            assert_eq!(chunk.id, ID);
            assert_eq!(chunk.kind.is_terminal(), n == 2);
            assert_eq!(chunk.kind.direction(), Direction::Command);
            whole.extend_from_slice(chunk.json);
        }
        assert_eq!(whole, json);
    }
}
