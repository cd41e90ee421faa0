//! Errors. Handshake and decryption errors are the peer's fault (close the connection, send
//! nothing); [`MessageLengthError`] is the caller's.

use std::fmt;

/// Which handshake act an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Act one (initiator to responder).
    One,
    /// Act two (responder to initiator).
    Two,
    /// Act three (initiator to responder).
    Three,
}

impl fmt::Display for Act {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Act::One => "act one",
            Act::Two => "act two",
            Act::Three => "act three",
        })
    }
}

/// Why a handshake failed. BOLT 8: the connection is then closed without further messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The act's version byte is not 0.
    BadVersion {
        /// The act.
        act: Act,
        /// The version byte received.
        version: u8,
    },
    /// The act's public key is not a valid compressed secp256k1 point.
    BadPublicKey {
        /// The act.
        act: Act,
    },
    /// The act's (final) tag did not authenticate: wrong key, or tampered bytes.
    BadTag {
        /// The act.
        act: Act,
    },
    /// Act three's encrypted static key did not authenticate.
    BadStaticKeyTag,
    /// The connection ended before a whole act arrived (raised by the IO layer on EOF).
    Truncated {
        /// The act.
        act: Act,
        /// How many of the act's bytes did arrive.
        received: usize,
    },
}

impl HandshakeError {
    /// The act this error belongs to.
    pub fn act(&self) -> Act {
        match self {
            HandshakeError::BadVersion { act, .. }
            | HandshakeError::BadPublicKey { act }
            | HandshakeError::BadTag { act }
            | HandshakeError::Truncated { act, .. } => *act,
            HandshakeError::BadStaticKeyTag => Act::Three,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandshakeError::BadVersion { act, version } => {
                write!(f, "{act}: unknown handshake version {version}")
            }
            HandshakeError::BadPublicKey { act } => write!(f, "{act}: invalid public key"),
            HandshakeError::BadTag { act } => write!(f, "{act}: bad authentication tag"),
            HandshakeError::BadStaticKeyTag => {
                f.write_str("act three: bad authentication tag on the static key")
            }
            HandshakeError::Truncated { act, received } => {
                write!(f, "{act}: connection closed after {received} bytes")
            }
        }
    }
}

impl std::error::Error for HandshakeError {}

/// Why decrypting the incoming stream failed. Errors are permanent: the stream is unusable and
/// every later call returns the same error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecryptError {
    /// The encrypted length header did not authenticate.
    BadLengthTag,
    /// The message body did not authenticate.
    BadBodyTag,
    /// The authenticated length is below 2, too short to hold a message type.
    MessageTooShort {
        /// The length the peer announced.
        len: u16,
    },
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes of the unfinished frame that had arrived.
        buffered: usize,
    },
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::BadLengthTag => f.write_str("bad authentication tag on a length header"),
            DecryptError::BadBodyTag => f.write_str("bad authentication tag on a message body"),
            DecryptError::MessageTooShort { len } => {
                write!(f, "message length {len} cannot hold a message type")
            }
            DecryptError::Truncated { buffered } => {
                write!(
                    f,
                    "connection closed inside a frame ({buffered} bytes of it received)"
                )
            }
        }
    }
}

impl std::error::Error for DecryptError {}

/// A plaintext message to encrypt is outside 2..=65535 bytes (a 2-byte type, and the 16-bit
/// length field of BOLT 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageLengthError {
    /// The length that was refused.
    pub len: usize,
}

impl fmt::Display for MessageLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message of {} bytes is outside the allowed 2..=65535",
            self.len
        )
    }
}

impl std::error::Error for MessageLengthError {}
