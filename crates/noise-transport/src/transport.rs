//! Framed transport after the handshake: one [`CipherState`] per direction, each rotating its
//! key on its own, an [`Encryptor`] that appends frames to the caller's buffer, and a push-style
//! [`Decryptor`] that decrypts in place.
//!
//! A frame is `encrypt(be16(len)) || encrypt(message)`: 18 + len + 16 bytes.

use std::fmt;
use std::sync::Arc;

use secp256k1::PublicKey;

use crate::crypto::{self, Key, TAG_LEN};
use crate::error::{DecryptError, MessageLengthError};
use crate::key_log::{KeyDirection, KeyLog};

/// Shortest message: a 2-byte type with no payload (BOLT 1).
pub const MIN_MESSAGE_LEN: usize = 2;
/// Longest message: BOLT 8's length header is 16 bits.
pub const MAX_MESSAGE_LEN: usize = u16::MAX as usize;
/// The encrypted length header: 2 bytes plus a tag.
pub const LENGTH_HEADER_LEN: usize = 2 + TAG_LEN;
/// Bytes a frame adds to its message: the length header and the body's tag.
pub const FRAME_OVERHEAD: usize = LENGTH_HEADER_LEN + TAG_LEN;

/// BOLT 8: rotate a key once its nonce reaches 1000 (every 500 messages).
const ROTATION_NONCE: u64 = 1000;

/// Free space the decryptor offers a socket read beyond what the current frame needs: large
/// enough to take many small frames per read, small next to the 65569-byte largest frame.
const READ_WINDOW: usize = 16 * 1024;

/// One direction's key, nonce and chaining key.
pub(crate) struct CipherState {
    ck: Key,
    key: Key,
    nonce: u64,
}

impl CipherState {
    pub(crate) fn new(ck: Key, key: Key) -> Self {
        CipherState { ck, key, nonce: 0 }
    }

    fn seal(&mut self, buf: &mut [u8]) -> [u8; TAG_LEN] {
        let tag = crypto::seal_in_place(&self.key, self.nonce, &[], buf);
        self.advance();
        tag
    }

    fn open(&mut self, ciphertext_and_tag: &mut [u8]) -> Result<(), crypto::BadTag> {
        crypto::open_in_place(&self.key, self.nonce, &[], ciphertext_and_tag)?;
        self.advance();
        Ok(())
    }

    /// Moves to the next nonce, rotating `ck, k = HKDF(ck, k)` when it reaches 1000.
    fn advance(&mut self) {
        self.nonce += 1;
        if self.nonce == ROTATION_NONCE {
            let (ck, key) = crypto::hkdf(&self.ck.0, &self.key.0);
            self.ck = ck;
            self.key = key;
            self.nonce = 0;
        }
    }
}

/// A completed handshake: both directions' cipher states and the peer's authenticated key.
pub struct Transport {
    encryptor: Encryptor,
    decryptor: Decryptor,
    remote_static: PublicKey,
}

impl Transport {
    pub(crate) fn new(send: CipherState, recv: CipherState, remote_static: PublicKey) -> Self {
        Transport {
            encryptor: Encryptor {
                cipher: send,
                key_log: None,
            },
            decryptor: Decryptor::with_cipher(recv),
            remote_static,
        }
    }

    /// The peer's static key: its node id, authenticated by the handshake.
    pub fn remote_static(&self) -> &PublicKey {
        &self.remote_static
    }

    /// Reports both directions' keys to `log` from now on, each when it is first used (see
    /// [`KeyLog`]). Set it before the first message, so that no key goes unreported.
    pub fn set_key_log(&mut self, log: Arc<dyn KeyLog>) {
        self.encryptor.key_log = Some(log.clone());
        self.decryptor.key_log = Some(log);
    }

    /// Splits into the sending and receiving halves, for a writer task and a reader task.
    pub fn split(self) -> (Encryptor, Decryptor) {
        (self.encryptor, self.decryptor)
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("remote_static", &self.remote_static)
            .finish_non_exhaustive()
    }
}

/// The sending half: turns messages into frames.
pub struct Encryptor {
    cipher: CipherState,
    /// Told of each key at its first length header ([`Transport::set_key_log`]).
    key_log: Option<Arc<dyn KeyLog>>,
}

impl Encryptor {
    /// An encryptor from raw key material, for the BOLT 8 message vectors and fuzzing.
    #[cfg(feature = "test-vectors")]
    pub fn from_keys(chaining_key: [u8; 32], key: [u8; 32]) -> Self {
        Encryptor {
            cipher: CipherState::new(Key(chaining_key), Key(key)),
            key_log: None,
        }
    }

    /// Reports this direction's keys to `log` from the next frame on (see [`KeyLog`]).
    pub fn set_key_log(&mut self, log: Arc<dyn KeyLog>) {
        self.key_log = Some(log);
    }

    /// Appends one frame carrying `message` (type and payload) to `out`. Call it for several
    /// messages in a row to coalesce them into one socket write.
    ///
    /// # Errors
    /// `message` is shorter than 2 or longer than 65535 bytes; nothing is appended and no nonce
    /// is used.
    pub fn encrypt_into(
        &mut self,
        message: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), MessageLengthError> {
        let len = message.len();
        if !(MIN_MESSAGE_LEN..=MAX_MESSAGE_LEN).contains(&len) {
            return Err(MessageLengthError { len });
        }
        let header_start = out.len();
        out.reserve(FRAME_OVERHEAD + len);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        // Nonce 0 is always a length header: the first use of a new key.
        let new_key = self.cipher.nonce == 0;
        let tag = self.cipher.seal(&mut out[header_start..]);
        out.extend_from_slice(&tag);
        if new_key {
            if let Some(log) = &self.key_log {
                // Still the key just used: rotation happens at nonce 1000, not 1.
                log.log_key(KeyDirection::Sending, &tag, &self.cipher.key.0);
            }
        }

        let body_start = out.len();
        out.extend_from_slice(message);
        let tag = self.cipher.seal(&mut out[body_start..]);
        out.extend_from_slice(&tag);
        Ok(())
    }
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("nonce", &self.cipher.nonce)
            .finish_non_exhaustive()
    }
}

/// The receiving half: a push decoder over the incoming byte stream.
///
/// Feed it bytes, either by copying ([`Decryptor::push`]) or by reading the socket straight
/// into [`Decryptor::read_buffer`] and calling [`Decryptor::commit`]; then call
/// [`Decryptor::next_message`] until it returns `Ok(None)`. Frames are decrypted in place in the
/// decryptor's buffer. The first error is permanent.
pub struct Decryptor {
    cipher: CipherState,
    /// Received bytes live in `buf[start..end]`; the rest is free space for reads.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The authenticated length of the current frame once its header is decrypted.
    body_len: Option<u16>,
    failed: Option<DecryptError>,
    /// Told of each key at its first length header ([`Transport::set_key_log`]).
    key_log: Option<Arc<dyn KeyLog>>,
}

impl Decryptor {
    fn with_cipher(cipher: CipherState) -> Self {
        Decryptor {
            cipher,
            buf: Vec::new(),
            start: 0,
            end: 0,
            body_len: None,
            failed: None,
            key_log: None,
        }
    }

    /// Reports this direction's keys to `log` from the next frame on (see [`KeyLog`]).
    pub fn set_key_log(&mut self, log: Arc<dyn KeyLog>) {
        self.key_log = Some(log);
    }

    /// A decryptor from raw key material, for the BOLT 8 message vectors and fuzzing.
    #[cfg(feature = "test-vectors")]
    pub fn from_keys(chaining_key: [u8; 32], key: [u8; 32]) -> Self {
        Self::with_cipher(CipherState::new(Key(chaining_key), Key(key)))
    }

    /// Bytes still missing to finish the current part of the frame (the 18-byte header, or the
    /// body and its tag). Never zero: after `next_message` returns `Ok(None)`, more input is needed.
    pub fn bytes_needed(&self) -> usize {
        let part = match self.body_len {
            None => LENGTH_HEADER_LEN,
            Some(len) => usize::from(len) + TAG_LEN,
        };
        part.saturating_sub(self.end - self.start).max(1)
    }

    /// Free space to read ciphertext into; at least [`Decryptor::bytes_needed`] long. Report how
    /// much was written with [`Decryptor::commit`].
    pub fn read_buffer(&mut self) -> &mut [u8] {
        self.reserve(self.bytes_needed().max(READ_WINDOW));
        &mut self.buf[self.end..]
    }

    /// Frees the read buffer if it holds no part of a frame, so an idle connection keeps no
    /// buffer; the next [`Decryptor::read_buffer`] allocates one again.
    pub fn release_idle_buffer(&mut self) {
        if self.start == self.end {
            self.buf = Vec::new();
            self.start = 0;
            self.end = 0;
        }
    }

    /// Marks `written` bytes at the start of [`Decryptor::read_buffer`] as received.
    pub fn commit(&mut self, written: usize) {
        debug_assert!(
            written <= self.buf.len() - self.end,
            "commit past the read buffer"
        );
        self.end = (self.end + written).min(self.buf.len());
    }

    /// Copies received ciphertext in.
    pub fn push(&mut self, ciphertext: &[u8]) {
        self.reserve(ciphertext.len());
        self.buf[self.end..self.end + ciphertext.len()].copy_from_slice(ciphertext);
        self.end += ciphertext.len();
    }

    /// Makes room for `free` more bytes after `end`, moving unconsumed bytes to the front first.
    fn reserve(&mut self, free: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.end >= free {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < free {
            self.buf.resize(self.end + free, 0);
        }
    }

    /// Decrypts the next complete message, if one has arrived. The slice is the plaintext
    /// (type and payload) and is valid until the next call that takes `&mut self`.
    ///
    /// # Errors
    /// A tag that does not authenticate, or a length below 2. The error is permanent.
    pub fn next_message(&mut self) -> Result<Option<&[u8]>, DecryptError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let len = match self.body_len {
            Some(len) => len,
            None => {
                if self.end - self.start < LENGTH_HEADER_LEN {
                    return Ok(None);
                }
                let header = &mut self.buf[self.start..self.start + LENGTH_HEADER_LEN];
                // Nonce 0 is always a length header: the first use of a new key. The tag is
                // copied before opening, which may overwrite it.
                let new_key_tag = (self.cipher.nonce == 0 && self.key_log.is_some()).then(|| {
                    let mut tag = [0u8; TAG_LEN];
                    tag.copy_from_slice(&header[2..]);
                    tag
                });
                if self.cipher.open(header).is_err() {
                    return Err(self.fail(DecryptError::BadLengthTag));
                }
                let len = u16::from_be_bytes([header[0], header[1]]);
                if let (Some(tag), Some(log)) = (new_key_tag, &self.key_log) {
                    // Only an authenticated header is logged. The key is still the one just
                    // used: rotation happens at nonce 1000, not 1.
                    log.log_key(KeyDirection::Receiving, &tag, &self.cipher.key.0);
                }
                if usize::from(len) < MIN_MESSAGE_LEN {
                    return Err(self.fail(DecryptError::MessageTooShort { len }));
                }
                self.start += LENGTH_HEADER_LEN;
                self.body_len = Some(len);
                len
            }
        };
        let body_end = self.start + usize::from(len) + TAG_LEN;
        if self.end < body_end {
            return Ok(None);
        }
        if self
            .cipher
            .open(&mut self.buf[self.start..body_end])
            .is_err()
        {
            return Err(self.fail(DecryptError::BadBodyTag));
        }
        let message_start = self.start;
        self.start = body_end;
        self.body_len = None;
        Ok(Some(
            &self.buf[message_start..message_start + usize::from(len)],
        ))
    }

    fn fail(&mut self, error: DecryptError) -> DecryptError {
        self.failed = Some(error.clone());
        error
    }

    /// Call when the connection has ended: an error if it ended inside a frame (or the stream
    /// had already failed).
    ///
    /// # Errors
    /// [`DecryptError::Truncated`] with the bytes of the unfinished frame, or the earlier error.
    pub fn finish(&self) -> Result<(), DecryptError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let header = if self.body_len.is_some() {
            LENGTH_HEADER_LEN
        } else {
            0
        };
        let buffered = header + (self.end - self.start);
        if buffered > 0 {
            return Err(DecryptError::Truncated { buffered });
        }
        Ok(())
    }
}

impl fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decryptor")
            .field("nonce", &self.cipher.nonce)
            .field("buffered", &(self.end - self.start))
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Encryptor, Decryptor) {
        (
            Encryptor {
                cipher: CipherState::new(Key([1; 32]), Key([2; 32])),
                key_log: None,
            },
            Decryptor::with_cipher(CipherState::new(Key([1; 32]), Key([2; 32]))),
        )
    }

    #[test]
    fn rotation_happens_at_nonce_1000_and_resets_the_nonce() {
        let mut cipher = CipherState::new(Key([1; 32]), Key([2; 32]));
        for _ in 0..999 {
            cipher.advance();
        }
        assert_eq!(cipher.nonce, 999);
        assert_eq!(cipher.key.0, [2; 32]);
        cipher.advance();
        assert_eq!(cipher.nonce, 0);
        let (ck, key) = crypto::hkdf(&[1; 32], &[2; 32]);
        assert_eq!((cipher.ck.0, cipher.key.0), (ck.0, key.0));
    }

    #[test]
    fn read_buffer_commit_path_delivers_messages() {
        let (mut enc, mut dec) = pair();
        let mut wire = Vec::new();
        enc.encrypt_into(b"\x00\x12ab", &mut wire).unwrap();
        let window = dec.read_buffer();
        assert!(window.len() >= READ_WINDOW);
        window[..wire.len()].copy_from_slice(&wire);
        dec.commit(wire.len());
        assert_eq!(dec.next_message().unwrap(), Some(&b"\x00\x12ab"[..]));
        assert_eq!(dec.next_message().unwrap(), None);
        assert_eq!(dec.bytes_needed(), LENGTH_HEADER_LEN);
        dec.finish().unwrap();
    }

    #[test]
    fn bytes_needed_tracks_header_then_body() {
        let (mut enc, mut dec) = pair();
        let mut wire = Vec::new();
        enc.encrypt_into(&[0u8; 100], &mut wire).unwrap();
        dec.push(&wire[..10]);
        assert_eq!(dec.bytes_needed(), 8);
        dec.push(&wire[10..20]);
        assert_eq!(dec.next_message().unwrap(), None);
        assert_eq!(dec.bytes_needed(), 100 + TAG_LEN - 2);
    }

    #[test]
    fn buffer_compacts_instead_of_growing_under_steady_small_traffic() {
        let (mut enc, mut dec) = pair();
        let mut wire = Vec::new();
        for _ in 0..10_000 {
            wire.clear();
            enc.encrypt_into(&[7u8; 40], &mut wire).unwrap();
            // Deliver each frame in two pieces so a partial frame is always left behind.
            dec.push(&wire[..30]);
            while dec.next_message().unwrap().is_some() {}
            dec.push(&wire[30..]);
            while dec.next_message().unwrap().is_some() {}
        }
        assert!(dec.buf.len() <= READ_WINDOW + LENGTH_HEADER_LEN + 100);
    }

    /// One report: direction, length header tag, key.
    type Report = (KeyDirection, [u8; 16], [u8; 32]);

    /// Every key reported, in order.
    #[derive(Default)]
    struct Recorded(std::sync::Mutex<Vec<Report>>);

    impl KeyLog for Recorded {
        fn log_key(&self, direction: KeyDirection, length_mac: &[u8; 16], key: &[u8; 32]) {
            self.0.lock().unwrap().push((direction, *length_mac, *key));
        }
    }

    #[test]
    fn key_log_reports_each_key_with_the_tag_of_its_first_length_header() {
        let (mut enc, mut dec) = pair();
        let log = Arc::new(Recorded::default());
        enc.set_key_log(log.clone());
        dec.set_key_log(log.clone());
        // 1001 messages: keys start at messages 0, 500 and 1000.
        let mut frames = Vec::new();
        let mut keys_in_use = Vec::new();
        for i in 0..1001u32 {
            if enc.cipher.nonce == 0 {
                keys_in_use.push(enc.cipher.key.0);
            }
            let mut frame = Vec::new();
            enc.encrypt_into(&i.to_be_bytes(), &mut frame).unwrap();
            dec.push(&frame);
            assert_eq!(dec.next_message().unwrap(), Some(&i.to_be_bytes()[..]));
            frames.push(frame);
        }
        let logged = log.0.lock().unwrap();
        assert_eq!(logged.len(), 6, "three keys, each logged by both halves");
        for (n, first_message) in [0usize, 500, 1000].into_iter().enumerate() {
            let mac: [u8; 16] = frames[first_message][2..18].try_into().unwrap();
            let key = keys_in_use[n];
            assert_eq!(logged[2 * n], (KeyDirection::Sending, mac, key));
            assert_eq!(logged[2 * n + 1], (KeyDirection::Receiving, mac, key));
        }
        assert_ne!(keys_in_use[0], keys_in_use[1]);
    }

    #[test]
    fn key_log_is_silent_for_a_forged_first_header() {
        let (mut enc, mut dec) = pair();
        let log = Arc::new(Recorded::default());
        dec.set_key_log(log.clone());
        let mut frame = Vec::new();
        enc.encrypt_into(b"\x00\x12", &mut frame).unwrap();
        frame[3] ^= 1;
        dec.push(&frame);
        assert_eq!(dec.next_message(), Err(DecryptError::BadLengthTag));
        assert!(log.0.lock().unwrap().is_empty());
    }
}
