//! The key log hook: a way for a debugging tool to learn each cipher key of a connection, so
//! that a capture of its traffic can be decrypted (Wireshark with the lightning-dissector).
//!
//! Each direction of a connection uses a new key every 500 messages (BOLT 8 rotates at nonce
//! 1000, and a message uses two nonces), so the first use of every key is the length header
//! of a frame, sealed with nonce 0. That header's 16-byte tag is on the wire (bytes 2..18 of
//! the frame), which is what lets a reader of a capture find the key for a frame: the
//! dissector looks up the tag of a frame it cannot decrypt with the key it has.
//!
//! This crate only calls the hook; writing the log (a file, with its permissions) is the
//! caller's business. Nothing is logged unless a hook is set.

/// Which half of a connection a logged key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDirection {
    /// The key we encrypt with (BOLT 8's `sk`).
    Sending,
    /// The key we decrypt with (BOLT 8's `rk`).
    Receiving,
}

/// Told about every cipher key of the connections it is set on, once, when the key is first
/// used: with the tag of the length header it sealed (or opened) at nonce 0, and the key.
///
/// It is called from inside [`crate::Encryptor::encrypt_into`] and
/// [`crate::Decryptor::next_message`], once per 500 messages per direction, so it must be
/// quick and must not call back into the connection.
pub trait KeyLog: Send + Sync {
    /// One new key: `length_mac` is the 16-byte tag of the first length header under `key`.
    fn log_key(&self, direction: KeyDirection, length_mac: &[u8; 16], key: &[u8; 32]);
}
