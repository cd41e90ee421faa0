//! The BOLT 8 `Noise_XK` handshake as typestates: each state owns exactly what the next act
//! needs, and reading an act consumes the state, so no act can be processed twice or out of order.
//!
//! ```text
//! initiator                                     responder
//! InitiatorHandshake::new  --- act one (50) -->  ResponderHandshake::read_act_one
//! read_act_two            <--- act two (50) ---  AwaitingActThree
//!        |                 --- act three (66) -> AwaitingActThree::read_act_three
//!    Transport                                      Transport
//! ```

use secp256k1::{PublicKey, SecretKey};

use crate::crypto::{self, Key, SecretScalar, TAG_LEN};
use crate::error::{Act, HandshakeError};
use crate::transport::{CipherState, Transport};

/// Length of act one: version, compressed ephemeral key, tag.
pub const ACT_ONE_LEN: usize = 1 + 33 + TAG_LEN;
/// Length of act two: version, compressed ephemeral key, tag.
pub const ACT_TWO_LEN: usize = 1 + 33 + TAG_LEN;
/// Length of act three: version, encrypted static key with its tag, final tag.
pub const ACT_THREE_LEN: usize = 1 + 33 + TAG_LEN + TAG_LEN;

/// The only handshake version BOLT 8 defines; anything else must be rejected.
const HANDSHAKE_VERSION: u8 = 0;

/// `SHA256("Noise_XK_secp256k1_ChaChaPoly_SHA256")`: the initial chaining key and hash.
const PROTOCOL_NAME_HASH: [u8; 32] = [
    0x26, 0x40, 0xf5, 0x2e, 0xeb, 0xcd, 0x9e, 0x88, 0x29, 0x58, 0x95, 0x1c, 0x79, 0x42, 0x50, 0xee,
    0xdb, 0x28, 0x00, 0x2c, 0x05, 0xd7, 0xdc, 0x2e, 0xa0, 0xf1, 0x95, 0x40, 0x60, 0x42, 0xca, 0xf1,
];

/// `SHA256(PROTOCOL_NAME_HASH || "lightning")`: the hash after mixing in the BOLT 8 prologue.
const PROLOGUE_HASH: [u8; 32] = [
    0xd1, 0xfb, 0xf6, 0xde, 0xe4, 0xf6, 0x86, 0xf1, 0x32, 0xfd, 0x70, 0x2c, 0x4a, 0xbf, 0x8f, 0xba,
    0x4b, 0xb4, 0x20, 0xd8, 0x9d, 0x2a, 0x04, 0x8a, 0x3c, 0x4f, 0x4c, 0x09, 0x2e, 0x37, 0xb6, 0x76,
];

/// The Noise symmetric state: chaining key and handshake transcript hash.
struct SymmetricState {
    ck: Key,
    h: [u8; 32],
}

impl SymmetricState {
    /// Both sides start by mixing in the responder's static key (the `<- s` pre-message).
    fn new(responder_static: &PublicKey) -> Self {
        Self::from_initial_hash(initial_hash(responder_static))
    }

    fn from_initial_hash(h: [u8; 32]) -> Self {
        SymmetricState {
            ck: Key(PROTOCOL_NAME_HASH),
            h,
        }
    }

    fn mix_hash(&mut self, data: &[u8]) {
        self.h = crypto::sha256(&[&self.h, data]);
    }

    /// `ck, temp_k = HKDF(ck, ss)`; returns `temp_k`.
    fn mix_key(&mut self, shared_secret: &Key) -> Key {
        let (ck, temp_k) = crypto::hkdf(&self.ck.0, &shared_secret.0);
        self.ck = ck;
        temp_k
    }

    /// Encrypts `buf[..buf.len() - 16]` with the transcript as AD, writes the tag into the last
    /// 16 bytes, and mixes the ciphertext into the transcript.
    fn encrypt_and_hash(&mut self, temp_k: &Key, nonce: u64, buf: &mut [u8]) {
        let split = buf.len() - TAG_LEN;
        let tag = crypto::seal_in_place(temp_k, nonce, &self.h, &mut buf[..split]);
        buf[split..].copy_from_slice(&tag);
        self.mix_hash(buf);
    }

    /// Authenticates `ciphertext || tag` against the transcript and mixes it in; returns the
    /// plaintext (which may be empty).
    fn decrypt_and_hash(
        &mut self,
        temp_k: &Key,
        nonce: u64,
        ciphertext_and_tag: &[u8],
    ) -> Result<Vec<u8>, crypto::BadTag> {
        let mut buf = ciphertext_and_tag.to_vec();
        crypto::open_in_place(temp_k, nonce, &self.h, &mut buf)?;
        self.mix_hash(ciphertext_and_tag);
        buf.truncate(buf.len() - TAG_LEN);
        Ok(buf)
    }

    /// `HKDF(ck, "")` into the two transport keys, in initiator order (send, receive).
    fn split(self, we_initiated: bool, remote_static: PublicKey) -> Transport {
        let (first, second) = crypto::hkdf(&self.ck.0, &[]);
        let (send_key, recv_key) = if we_initiated {
            (first, second)
        } else {
            (second, first)
        };
        Transport::new(
            CipherState::new(Key(self.ck.0), send_key),
            CipherState::new(Key(self.ck.0), recv_key),
            remote_static,
        )
    }
}

/// The transcript hash once the responder's static key is mixed in.
fn initial_hash(responder_static: &PublicKey) -> [u8; 32] {
    crypto::sha256(&[&PROLOGUE_HASH, &responder_static.serialize()])
}

/// Our node's static key with what every handshake derives from it computed once: the public
/// key is an elliptic-curve multiplication, about a fifth of a handshake's work on each side.
/// Build one per node and start every handshake from it.
#[derive(Clone)]
pub struct StaticKey {
    secret: SecretScalar,
    public: PublicKey,
    /// Our serialized public key, sent in act three when we dial.
    public_bytes: [u8; 33],
    /// The responder's starting transcript hash, which depends only on our public key.
    responder_hash: [u8; 32],
}

impl StaticKey {
    /// Derives the public half of `secret`.
    pub fn new(secret: &SecretKey) -> Self {
        let public = PublicKey::from_secret_key_global(secret);
        StaticKey {
            secret: SecretScalar(*secret),
            public,
            public_bytes: public.serialize(),
            responder_hash: initial_hash(&public),
        }
    }

    /// Our node id.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl std::fmt::Debug for StaticKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

fn generate_ephemeral() -> SecretScalar {
    SecretScalar(SecretKey::new(&mut secp256k1::rand::thread_rng()))
}

/// Checks the version byte and parses the compressed ephemeral key of act one or two.
fn read_ephemeral(act_id: Act, act: &[u8; ACT_ONE_LEN]) -> Result<PublicKey, HandshakeError> {
    if act[0] != HANDSHAKE_VERSION {
        return Err(HandshakeError::BadVersion {
            act: act_id,
            version: act[0],
        });
    }
    parse_compressed_key(&act[1..34]).ok_or(HandshakeError::BadPublicKey { act: act_id })
}

/// BOLT 8 keys are always 33-byte compressed points; `04…` (uncompressed prefix) is invalid.
fn parse_compressed_key(bytes: &[u8]) -> Option<PublicKey> {
    match bytes.first() {
        Some(0x02 | 0x03) if bytes.len() == 33 => PublicKey::from_slice(bytes).ok(),
        _ => None,
    }
}

/// The dialing side, after sending act one and waiting for act two.
pub struct InitiatorHandshake {
    state: SymmetricState,
    local_static: StaticKey,
    ephemeral: SecretScalar,
    remote_static: PublicKey,
}

impl InitiatorHandshake {
    /// Starts a handshake with the node whose static key is `remote_static`, using a fresh
    /// ephemeral key from the thread-local CSPRNG. Send the returned act one to the responder.
    pub fn new(local_static: &SecretKey, remote_static: &PublicKey) -> (Self, [u8; ACT_ONE_LEN]) {
        Self::from_static_key(&StaticKey::new(local_static), remote_static)
    }

    /// Like [`InitiatorHandshake::new`], from a [`StaticKey`] built once for many handshakes.
    pub fn from_static_key(
        local_static: &StaticKey,
        remote_static: &PublicKey,
    ) -> (Self, [u8; ACT_ONE_LEN]) {
        Self::start(local_static.clone(), remote_static, generate_ephemeral())
    }

    /// Like [`InitiatorHandshake::new`] with a caller-chosen ephemeral key, to reproduce the
    /// BOLT 8 test vectors. Reusing an ephemeral key breaks the handshake's secrecy.
    #[cfg(feature = "test-vectors")]
    pub fn with_ephemeral(
        local_static: &SecretKey,
        remote_static: &PublicKey,
        ephemeral: SecretKey,
    ) -> (Self, [u8; ACT_ONE_LEN]) {
        Self::start(
            StaticKey::new(local_static),
            remote_static,
            SecretScalar(ephemeral),
        )
    }

    fn start(
        local_static: StaticKey,
        remote_static: &PublicKey,
        ephemeral: SecretScalar,
    ) -> (Self, [u8; ACT_ONE_LEN]) {
        let mut state = SymmetricState::new(remote_static);
        let ephemeral_pub = PublicKey::from_secret_key_global(&ephemeral.0).serialize();
        state.mix_hash(&ephemeral_pub);
        let temp_k1 = state.mix_key(&crypto::ecdh(&ephemeral.0, remote_static));

        let mut act = [0u8; ACT_ONE_LEN];
        act[0] = HANDSHAKE_VERSION;
        act[1..34].copy_from_slice(&ephemeral_pub);
        state.encrypt_and_hash(&temp_k1, 0, &mut act[34..]);
        let handshake = InitiatorHandshake {
            state,
            local_static,
            ephemeral,
            remote_static: *remote_static,
        };
        (handshake, act)
    }

    /// Processes act two and produces act three (send it, then the connection is ready) and
    /// the transport.
    ///
    /// # Errors
    /// A wrong version byte, an invalid ephemeral key, or a tag that does not authenticate. The
    /// connection must then be closed without sending anything.
    pub fn read_act_two(
        mut self,
        act: &[u8; ACT_TWO_LEN],
    ) -> Result<([u8; ACT_THREE_LEN], Transport), HandshakeError> {
        let remote_ephemeral = read_ephemeral(Act::Two, act)?;
        self.state.mix_hash(&act[1..34]);
        let temp_k2 = self
            .state
            .mix_key(&crypto::ecdh(&self.ephemeral.0, &remote_ephemeral));
        self.state
            .decrypt_and_hash(&temp_k2, 0, &act[34..])
            .map_err(|_| HandshakeError::BadTag { act: Act::Two })?;

        let mut reply = [0u8; ACT_THREE_LEN];
        reply[0] = HANDSHAKE_VERSION;
        reply[1..34].copy_from_slice(&self.local_static.public_bytes);
        self.state.encrypt_and_hash(&temp_k2, 1, &mut reply[1..50]);
        let temp_k3 = self.state.mix_key(&crypto::ecdh(
            &self.local_static.secret.0,
            &remote_ephemeral,
        ));
        self.state.encrypt_and_hash(&temp_k3, 0, &mut reply[50..]);
        Ok((reply, self.state.split(true, self.remote_static)))
    }
}

/// The listening side, waiting for act one.
pub struct ResponderHandshake {
    state: SymmetricState,
    local_static: StaticKey,
    ephemeral: SecretScalar,
}

impl ResponderHandshake {
    /// Prepares to accept one handshake for the node key `local_static`, with a fresh ephemeral
    /// key from the thread-local CSPRNG.
    pub fn new(local_static: &SecretKey) -> Self {
        Self::from_static_key(&StaticKey::new(local_static))
    }

    /// Like [`ResponderHandshake::new`], from a [`StaticKey`] built once for many handshakes.
    pub fn from_static_key(local_static: &StaticKey) -> Self {
        Self::start(local_static.clone(), generate_ephemeral())
    }

    /// Like [`ResponderHandshake::new`] with a caller-chosen ephemeral key, to reproduce the
    /// BOLT 8 test vectors. Reusing an ephemeral key breaks the handshake's secrecy.
    #[cfg(feature = "test-vectors")]
    pub fn with_ephemeral(local_static: &SecretKey, ephemeral: SecretKey) -> Self {
        Self::start(StaticKey::new(local_static), SecretScalar(ephemeral))
    }

    fn start(local_static: StaticKey, ephemeral: SecretScalar) -> Self {
        ResponderHandshake {
            state: SymmetricState::from_initial_hash(local_static.responder_hash),
            local_static,
            ephemeral,
        }
    }

    /// Processes act one and produces act two, to be sent to the initiator.
    ///
    /// # Errors
    /// A wrong version byte, an invalid ephemeral key, or a tag that does not authenticate (for
    /// example because the initiator dialed a different node key). Close without replying.
    pub fn read_act_one(
        mut self,
        act: &[u8; ACT_ONE_LEN],
    ) -> Result<(AwaitingActThree, [u8; ACT_TWO_LEN]), HandshakeError> {
        let remote_ephemeral = read_ephemeral(Act::One, act)?;
        self.state.mix_hash(&act[1..34]);
        let temp_k1 = self.state.mix_key(&crypto::ecdh(
            &self.local_static.secret.0,
            &remote_ephemeral,
        ));
        self.state
            .decrypt_and_hash(&temp_k1, 0, &act[34..])
            .map_err(|_| HandshakeError::BadTag { act: Act::One })?;

        let mut reply = [0u8; ACT_TWO_LEN];
        reply[0] = HANDSHAKE_VERSION;
        reply[1..34]
            .copy_from_slice(&PublicKey::from_secret_key_global(&self.ephemeral.0).serialize());
        self.state.mix_hash(&reply[1..34]);
        let temp_k2 = self
            .state
            .mix_key(&crypto::ecdh(&self.ephemeral.0, &remote_ephemeral));
        self.state.encrypt_and_hash(&temp_k2, 0, &mut reply[34..]);
        let next = AwaitingActThree {
            state: self.state,
            ephemeral: self.ephemeral,
            temp_k2,
        };
        Ok((next, reply))
    }
}

/// The listening side after sending act two.
pub struct AwaitingActThree {
    state: SymmetricState,
    ephemeral: SecretScalar,
    temp_k2: Key,
}

impl AwaitingActThree {
    /// Processes act three and returns the transport; [`Transport::remote_static`] is the
    /// authenticated node id of the initiator.
    ///
    /// # Errors
    /// A wrong version byte, a static key that does not authenticate or is not a valid point,
    /// or a final tag that does not authenticate. Close without replying.
    pub fn read_act_three(
        mut self,
        act: &[u8; ACT_THREE_LEN],
    ) -> Result<Transport, HandshakeError> {
        if act[0] != HANDSHAKE_VERSION {
            return Err(HandshakeError::BadVersion {
                act: Act::Three,
                version: act[0],
            });
        }
        let static_key = self
            .state
            .decrypt_and_hash(&self.temp_k2, 1, &act[1..50])
            .map_err(|_| HandshakeError::BadStaticKeyTag)?;
        let remote_static = parse_compressed_key(&static_key)
            .ok_or(HandshakeError::BadPublicKey { act: Act::Three })?;
        let temp_k3 = self
            .state
            .mix_key(&crypto::ecdh(&self.ephemeral.0, &remote_static));
        self.state
            .decrypt_and_hash(&temp_k3, 0, &act[50..])
            .map_err(|_| HandshakeError::BadTag { act: Act::Three })?;
        Ok(self.state.split(false, remote_static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precomputed_hashes_match_their_definitions() {
        assert_eq!(
            crypto::sha256(&[b"Noise_XK_secp256k1_ChaChaPoly_SHA256"]),
            PROTOCOL_NAME_HASH
        );
        assert_eq!(
            crypto::sha256(&[&PROTOCOL_NAME_HASH, b"lightning"]),
            PROLOGUE_HASH
        );
    }

    #[test]
    fn act_lengths_are_bolt8s() {
        assert_eq!((ACT_ONE_LEN, ACT_TWO_LEN, ACT_THREE_LEN), (50, 50, 66));
    }

    #[test]
    fn uncompressed_and_hybrid_prefixes_are_not_keys() {
        let key = PublicKey::from_secret_key_global(&SecretKey::from_slice(&[1; 32]).unwrap());
        let mut bytes = key.serialize();
        assert!(parse_compressed_key(&bytes).is_some());
        for prefix in [0x00, 0x04, 0x05, 0x06, 0x07] {
            bytes[0] = prefix;
            assert!(parse_compressed_key(&bytes).is_none(), "prefix {prefix:#x}");
        }
    }
}
