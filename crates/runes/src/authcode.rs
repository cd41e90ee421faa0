//! The authcode: a SHA-256 state that is always block-aligned, and the byte count behind it.
//!
//! A rune's authcode is `SHA256(secret ‖ endpad ‖ r1 ‖ endpad ‖ … ‖ rN)`, where each `endpad`
//! is SHA-256's own final padding for the bytes hashed so far (ccan `rune_sha256_endmarker`).
//! Because every step ends block-aligned, the 8 state words *are* the authcode, and anyone
//! holding a rune can append a restriction by running the compression function on, without
//! the secret. Nobody can remove one: that would mean inverting the compression.

use sha2::digest::generic_array::GenericArray;

/// SHA-256's block size in bytes.
const BLOCK: usize = 64;

/// SHA-256's initial state (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The longest secret that fits one block with its padding (ccan asserts
/// `secret_len + 1 + 8 <= 64`; CLN's secret is 32 bytes).
pub(crate) const MAX_SECRET_LEN: usize = BLOCK - 1 - 8;

/// A block-aligned SHA-256 state and the number of bytes compressed into it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct AuthState {
    words: [u32; 8],
    bytes: u64,
}

impl AuthState {
    /// The master state: the secret and its padding. `None` if the secret is longer than
    /// [`MAX_SECRET_LEN`].
    pub(crate) fn from_secret(secret: &[u8]) -> Option<Self> {
        if secret.len() > MAX_SECRET_LEN {
            return None;
        }
        let mut state = AuthState {
            words: IV,
            bytes: 0,
        };
        state.append(secret);
        Some(state)
    }

    /// The state a decoded rune claims: its authcode, after `bytes` bytes.
    pub(crate) fn from_authcode(authcode: &[u8; 32], bytes: u64) -> Self {
        let mut words = [0u32; 8];
        for (word, chunk) in words.iter_mut().zip(authcode.chunks_exact(4)) {
            *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        AuthState { words, bytes }
    }

    /// The authcode: the state words, big-endian (what plain SHA-256 would output).
    pub(crate) fn authcode(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.words) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// The byte count.
    #[cfg(test)]
    fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Compresses `data` and its end padding into the state.
    pub(crate) fn append(&mut self, data: &[u8]) {
        let mut stream = Vec::with_capacity(data.len() + BLOCK + 8);
        stream.extend_from_slice(data);
        stream.extend_from_slice(&endpad(self.bytes.wrapping_add(data.len() as u64)));
        let blocks: Vec<_> = stream
            .chunks_exact(BLOCK)
            .map(GenericArray::clone_from_slice)
            .collect();
        sha2::compress256(&mut self.words, &blocks);
        self.bytes = self.bytes.wrapping_add(stream.len() as u64);
    }

    /// Counts `len` bytes and their padding without hashing them: how a decoded rune's count
    /// is rebuilt (its state came with the authcode).
    pub(crate) fn count(&mut self, len: usize) {
        let total = self.bytes.wrapping_add(len as u64);
        self.bytes = total.wrapping_add(endpad_len(total) as u64);
    }

    /// Whether two states hold the same authcode, in time that does not depend on where
    /// they differ: a remote peer presents the authcode, and an early exit would tell it
    /// how many leading bytes it guessed right.
    pub(crate) fn same_authcode(&self, other: &AuthState) -> bool {
        let diff = self
            .words
            .iter()
            .zip(other.words.iter())
            .fold(0u32, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

/// The length of SHA-256's end padding after `n` bytes: `0x80`, zeros, and the 8-byte bit
/// count, so that `n` plus the padding is a whole number of blocks.
fn endpad_len(n: u64) -> usize {
    let used = (n % BLOCK as u64) as usize;
    // 1 byte of 0x80 and 8 of length must fit after `used`; otherwise spill into a new block.
    1 + (BLOCK + BLOCK - 8 - 1 - used) % BLOCK + 8
}

/// SHA-256's end padding after `n` bytes (the bit count wraps at 2^64, as SHA-256 defines).
fn endpad(n: u64) -> Vec<u8> {
    let len = endpad_len(n);
    let mut pad = vec![0u8; len];
    pad[0] = 0x80;
    pad[len - 8..].copy_from_slice(&n.wrapping_mul(8).to_be_bytes());
    pad
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn padding_fills_to_a_block_boundary() {
        for n in 0..200u64 {
            let len = endpad_len(n);
            assert_eq!((n + len as u64) % 64, 0, "n = {n}");
            assert!((9..=72).contains(&len), "n = {n}: {len}");
        }
        assert_eq!(endpad_len(55), 9);
        assert_eq!(endpad_len(56), 72);
        assert_eq!(endpad_len(64), 64);
    }

    #[test]
    fn master_authcode_is_plain_sha256_of_the_secret() {
        let state = AuthState::from_secret(&[0u8; 16]).unwrap();
        assert_eq!(
            state.authcode().to_vec(),
            Sha256::digest([0u8; 16]).to_vec()
        );
        assert_eq!(state.bytes(), 64);
    }

    #[test]
    fn appending_equals_sha256_of_the_padded_stream() {
        // Lengths around the 55/56-byte edge, where the padding needs an extra block.
        for len in [0usize, 1, 54, 55, 56, 63, 64, 100, 119, 120] {
            let secret = [7u8; 32];
            let data = vec![b'x'; len];
            let mut state = AuthState::from_secret(&secret).unwrap();
            state.append(&data);
            let mut stream = secret.to_vec();
            stream.extend(endpad(32));
            stream.extend(&data);
            assert_eq!(state.authcode().to_vec(), Sha256::digest(&stream).to_vec());

            let mut counted = AuthState::from_secret(&secret).unwrap();
            counted.count(len);
            assert_eq!(counted.bytes(), state.bytes(), "len = {len}");
        }
    }

    #[test]
    fn secrets_longer_than_one_block_are_refused() {
        assert!(AuthState::from_secret(&[0u8; MAX_SECRET_LEN]).is_some());
        assert!(AuthState::from_secret(&[0u8; MAX_SECRET_LEN + 1]).is_none());
    }

    #[test]
    fn authcode_round_trips_and_compares() {
        let state = AuthState::from_secret(b"secret").unwrap();
        let copy = AuthState::from_authcode(&state.authcode(), state.bytes());
        assert!(copy == state);
        assert!(copy.same_authcode(&state));
        let other = AuthState::from_secret(b"secreT").unwrap();
        assert!(!other.same_authcode(&state));
    }
}
