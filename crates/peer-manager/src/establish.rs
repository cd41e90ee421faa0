//! Establishing a connection on a TCP stream, either way: the BOLT 8 handshake under the
//! handshake deadline, then both `init`s under the init deadline (ours goes out at once; the
//! peer's is judged by [`AwaitingInit`]). What comes out is an [`Established`] connection,
//! ready to be admitted and registered.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use noise_transport::{
    Act, Decryptor, Encryptor, HandshakeError, InitiatorHandshake, PublicKey, ResponderHandshake,
    Transport, ACT_ONE_LEN, ACT_THREE_LEN, ACT_TWO_LEN,
};
use peer_protocol::{AwaitingInit, DisconnectAction, InitFailure, InitStep};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wire::{Features, Init, NetAddress};

use crate::error::ConnectError;
use crate::events::Direction;
use crate::io_log::log_io;
use crate::manager::Inner;
use crate::stream::PeerStream;

/// How long a closing connection may take to flush its last messages (a warning) to a peer.
pub(crate) const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);

/// A connection through the handshake and both `init`s.
pub(crate) struct Established {
    pub(crate) id: PublicKey,
    pub(crate) stream: PeerStream,
    pub(crate) encryptor: Encryptor,
    pub(crate) decryptor: Decryptor,
    pub(crate) direction: Direction,
    pub(crate) address: SocketAddr,
    pub(crate) features: Features,
    pub(crate) remote_addr: Option<NetAddress>,
}

/// The phase of [`establish`] a connection failed in, for logs.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// From TCP established to act three (deadline: `handshake_timeout`).
    Handshake,
    /// From act three to the peer's `init` (deadline: `init_timeout`), and its checks.
    Init,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Handshake => "in the handshake",
            Stage::Init => "waiting for init",
        })
    }
}

/// Why [`establish`] failed, and in which phase.
pub(crate) struct EstablishError {
    stage: Stage,
    pub(crate) error: ConnectError,
}

impl EstablishError {
    /// A failure before BOLT 8 was done (a WebSocket upgrade counts as part of the handshake).
    pub(crate) fn in_handshake(error: ConnectError) -> Self {
        EstablishError {
            stage: Stage::Handshake,
            error,
        }
    }
}

/// The error as logged: a timeout names the phase whose deadline passed; other errors say
/// enough by themselves (and their text is what tests and log watchers match).
impl std::fmt::Display for EstablishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            ConnectError::Timeout(after) => write!(f, "timed out {} after {after:?}", self.stage),
            error => write!(f, "{error}"),
        }
    }
}

fn io_error(error: io::Error) -> ConnectError {
    ConnectError::Io(error.to_string())
}

/// BOLT 8 handshake within `handshake_timeout`, then both `init`s within `init_timeout`: ours
/// goes out at once, then we wait for theirs. `address` is the peer's socket address, `dial`
/// the node we dialed, if we did.
pub(crate) async fn establish(
    inner: &Inner,
    mut stream: PeerStream,
    address: SocketAddr,
    dial: Option<PublicKey>,
) -> Result<Established, EstablishError> {
    let in_stage = |stage: Stage| move |error: ConnectError| EstablishError { stage, error };
    // Our writer coalesces frames itself; Nagle would only add latency.
    stream
        .set_nodelay()
        .map_err(io_error)
        .map_err(in_stage(Stage::Handshake))?;
    let handshake_timeout = inner.config.limits.handshake_timeout;
    let (mut transport, act_three) =
        tokio::time::timeout(handshake_timeout, handshake(inner, &mut stream, dial))
            .await
            .unwrap_or(Err(ConnectError::Timeout(handshake_timeout)))
            .map_err(in_stage(Stage::Handshake))?;
    let id = *transport.remote_static();
    let direction = if dial.is_some() {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    if let Some(key_log) = &inner.config.key_log {
        // Before the first frame either way, so no key goes unlogged.
        transport.set_key_log(key_log.clone());
    }
    let (mut encryptor, mut decryptor) = transport.split();

    let init_timeout = inner.config.limits.init_timeout;
    let waiting = AwaitingInit::new(
        Instant::now().into_std(),
        init_timeout,
        inner.config.chain,
        inner.known.clone(),
    );
    let deadline = Instant::from_std(waiting.deadline());
    let exchange = exchange_init(
        inner,
        id,
        &mut stream,
        &mut encryptor,
        &mut decryptor,
        act_three,
        (direction == Direction::Inbound).then_some(address),
        &waiting,
    );
    let init = match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => Err(ConnectError::Timeout(init_timeout)),
        Ok(Err(InitError::Connect(error))) => Err(error),
        Ok(Err(InitError::Refused(failure))) => {
            if let InitFailure::Rejected(rejection) = &failure {
                warn_and_close(
                    inner,
                    id,
                    &mut stream,
                    &mut encryptor,
                    &rejection.to_string(),
                )
                .await;
            }
            Err(ConnectError::from(failure))
        }
        Ok(Ok(init)) => Ok(init),
    }
    .map_err(in_stage(Stage::Init))?;
    Ok(Established {
        id,
        stream,
        encryptor,
        decryptor,
        direction,
        address,
        features: init.combined_features(),
        remote_addr: init.remote_addr,
    })
}

async fn read_act<const N: usize>(
    stream: &mut PeerStream,
    act: Act,
) -> Result<[u8; N], ConnectError> {
    let mut buf = [0u8; N];
    let mut received = 0;
    while received < N {
        match stream.read(&mut buf[received..]).await {
            Ok(0) => {
                return Err(ConnectError::Handshake(HandshakeError::Truncated {
                    act,
                    received,
                }))
            }
            Ok(n) => received += n,
            Err(error) => return Err(io_error(error)),
        }
    }
    Ok(buf)
}

/// The three BOLT 8 acts, as initiator when dialing `dial`, else as responder. The initiator's
/// act three is returned unsent, to go out in one write with its `init`: one segment and one
/// wake-up fewer per connection.
async fn handshake(
    inner: &Inner,
    stream: &mut PeerStream,
    dial: Option<PublicKey>,
) -> Result<(Transport, Vec<u8>), ConnectError> {
    let secret = &inner.static_key;
    let transport = match dial {
        Some(remote) => {
            let (handshake, act_one) = InitiatorHandshake::from_static_key(secret, &remote);
            stream.write_all(&act_one).await.map_err(io_error)?;
            let act_two = read_act::<ACT_TWO_LEN>(stream, Act::Two).await?;
            let (act_three, transport) = handshake.read_act_two(&act_two)?;
            (transport, act_three.to_vec())
        }
        None => {
            let act_one = read_act::<ACT_ONE_LEN>(stream, Act::One).await?;
            let (waiting, act_two) =
                ResponderHandshake::from_static_key(secret).read_act_one(&act_one)?;
            stream.write_all(&act_two).await.map_err(io_error)?;
            let act_three = read_act::<ACT_THREE_LEN>(stream, Act::Three).await?;
            (waiting.read_act_three(&act_three)?, Vec::new())
        }
    };
    Ok(transport)
}

/// Why the `init` exchange stopped: the socket or the stream failed, or the peer's messages
/// were refused.
enum InitError {
    Connect(ConnectError),
    Refused(InitFailure),
}

impl From<ConnectError> for InitError {
    fn from(error: ConnectError) -> Self {
        InitError::Connect(error)
    }
}

impl From<noise_transport::DecryptError> for InitError {
    fn from(error: noise_transport::DecryptError) -> Self {
        InitError::Connect(error.into())
    }
}

/// Sends `unsent` (act three, when we dialed) and our `init` in one write (with `remote_addr`
/// when the peer dialed us from `inbound_from`), then reads until `waiting` accepts the peer's
/// `init` or refuses the connection.
#[allow(clippy::too_many_arguments)]
async fn exchange_init(
    inner: &Inner,
    id: PublicKey,
    stream: &mut PeerStream,
    encryptor: &mut Encryptor,
    decryptor: &mut Decryptor,
    unsent: Vec<u8>,
    inbound_from: Option<SocketAddr>,
    waiting: &AwaitingInit,
) -> Result<Init, InitError> {
    let our_init =
        peer_protocol::our_init(&inner.config.features, inner.config.chain, inbound_from);
    let fired = inner
        .dev_disconnect_hook(id)
        .and_then(|hook| hook.on_send(&our_init));
    let (send_init, close_after) = match &fired {
        None | Some((DisconnectAction::Pass, _)) => (true, false),
        Some((DisconnectAction::After, _)) => (true, true),
        Some((DisconnectAction::Drop, _)) => (false, false),
        Some((DisconnectAction::Before | DisconnectAction::DropAndClose, _)) => (false, true),
    };
    let mut out = unsent;
    if send_init {
        log_io(&inner.registry, &id, "OUT", &our_init);
        encryptor
            .encrypt_into(&our_init, &mut out)
            .map_err(|e| ConnectError::Io(e.to_string()))?;
    }
    // Act three, when we dialed, goes out even when `init` does not.
    if !out.is_empty() {
        stream.write_all(&out).await.map_err(io_error)?;
    }
    if let (true, Some((_, reason))) = (close_after, fired) {
        let _ = stream.shutdown().await;
        return Err(InitError::Connect(ConnectError::Io(reason)));
    }
    loop {
        while let Some(message) = decryptor.next_message()? {
            log_io(&inner.registry, &id, "IN", message);
            match waiting.handle_message(message) {
                InitStep::Skip => {}
                InitStep::Accepted(init) => return Ok(init),
                InitStep::Failed(failure) => return Err(InitError::Refused(failure)),
            }
        }
        let n = stream
            .read(decryptor.read_buffer())
            .await
            .map_err(io_error)?;
        if n == 0 {
            return Err(InitError::Connect(ConnectError::ClosedDuringInit));
        }
        decryptor.commit(n);
    }
}

/// Sends `warning` with `text` on a connection that has no writer task yet, giving the peer
/// [`FLUSH_ON_CLOSE`] to take it, then closes our side.
pub(crate) async fn warn_and_close(
    inner: &Inner,
    id: PublicKey,
    stream: &mut PeerStream,
    encryptor: &mut Encryptor,
    text: &str,
) {
    let warning = peer_protocol::warning(text);
    log_io(&inner.registry, &id, "OUT", &warning);
    let mut out = Vec::new();
    if encryptor.encrypt_into(&warning, &mut out).is_ok() {
        let _ = tokio::time::timeout(FLUSH_ON_CLOSE, async {
            stream.write_all(&out).await?;
            stream.shutdown().await
        })
        .await;
    }
}
