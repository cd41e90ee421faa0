//! BOLT 8, the Lightning transport: the `Noise_XK_secp256k1_ChaChaPoly_SHA256` handshake and
//! the encrypted, length-prefixed, key-rotating message stream that follows it.
//!
//! # What this crate owns, and what it must not touch
//!
//! It owns the byte-exact BOLT 8 state machines and their key material. It does no IO (no
//! sockets, no tokio), reads no clock and makes no policy decisions: bytes go in, bytes and typed
//! results come out, and the caller (the peer manager) decides what to read next and when to
//! hang up. Message contents (BOLT 1) are the `wire` crate's business; this crate only carries
//! opaque 2..=65535-byte messages.
//!
//! # Calling protocol
//!
//! ```text
//! initiator                                          responder
//! let (hs, act1) = InitiatorHandshake::new(ls, rs)   let hs = ResponderHandshake::new(ls)
//!   send act1 (50)  ------------------------------>  read exactly 50
//!                                                    let (hs, act2) = hs.read_act_one(&act1)?
//!   read exactly 50 <------------------------------  send act2 (50)
//! let (act3, t) = hs.read_act_two(&act2)?
//!   send act3 (66)  ------------------------------>  read exactly 66
//!                                                    let t = hs.read_act_three(&act3)?
//! let (mut enc, mut dec) = t.split();                t.remote_static() is the initiator's node id
//! enc.encrypt_into(msg, &mut out)?  (any number, then one socket write)
//! socket read into dec.read_buffer(); dec.commit(n); while let Some(m) = dec.next_message()? {..}
//! ```
//!
//! A debugging tool can learn every cipher key, each when it is first used, through a
//! [`KeyLog`] set with [`Transport::set_key_log`] (the key log that Wireshark's
//! lightning-dissector reads); this crate writes no log itself.
//!
//! A node that makes many handshakes builds one [`StaticKey`] and starts each with
//! `from_static_key`, so its public key is derived once rather than per handshake.
//!
//! Any error closes the connection without sending anything further. Ephemeral keys come from
//! the thread-local CSPRNG; the `test-vectors` feature adds constructors that take them as
//! arguments, to reproduce BOLT 8 Appendix A byte for byte. All secrets (static and ephemeral
//! keys, chaining and cipher keys) are wiped when dropped.

#![forbid(unsafe_code)]

mod crypto;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod key_log;
mod transport;

pub use crypto::AEAD_BACKEND;
pub use error::{Act, DecryptError, HandshakeError, MessageLengthError};
pub use handshake::{
    AwaitingActThree, InitiatorHandshake, ResponderHandshake, StaticKey, ACT_ONE_LEN,
    ACT_THREE_LEN, ACT_TWO_LEN,
};
pub use key_log::{KeyDirection, KeyLog};
pub use secp256k1::{PublicKey, SecretKey};
pub use transport::{
    Decryptor, Encryptor, Transport, FRAME_OVERHEAD, LENGTH_HEADER_LEN, MAX_MESSAGE_LEN,
    MIN_MESSAGE_LEN,
};
