//! Our requests to LSPs: `lsps0::Client` behind a lock, a waiter per request, and the sends.
//! A call fails on its own (timeout, disconnection) or with the LSP's answer.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use lsps0::{ClientEvent, Id, Ignored, Outstanding, StartError};
use noise_transport::PublicKey;
use peer_manager::{PeerManager, SendCustomError};
use serde_json::value::RawValue;
use tokio::sync::{oneshot, Notify};

use crate::message;

/// How a call ended, when it did not get an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The peer is not connected.
    NotConnected,
    /// The request could not be built or the peer is muted.
    Start(StartError),
    /// The send failed.
    Send(SendCustomError),
    /// No answer within the timeout.
    TimedOut(Duration),
    /// The peer disconnected first.
    Disconnected,
    /// The node is stopping.
    Stopping,
}

/// The LSP's answer: its result, or its error object.
pub(crate) type Answer = Result<Box<RawValue>, jsonrpc::error::RpcError>;

enum Waited {
    Answer(Answer),
    TimedOut,
    Disconnected,
}

#[derive(Default)]
struct State {
    client: lsps0::Client<PublicKey>,
    waiters: HashMap<Id, oneshot::Sender<Waited>>,
    /// Peers we sent requests to on their current connection: their 37913 messages are
    /// answers for us, not requests for the service.
    asked: HashSet<PublicKey>,
}

/// The client side of LSPS0 for the node.
pub(crate) struct LspsClient {
    state: Mutex<State>,
    manager: PeerManager,
    /// Woken when a new deadline may be earlier than the timer's.
    pub(crate) deadlines: Notify,
}

impl LspsClient {
    pub(crate) fn new(manager: PeerManager) -> Self {
        LspsClient {
            state: Mutex::new(State::default()),
            manager,
            deadlines: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `method` with `params` (an object) to `peer` and waits for the answer.
    pub(crate) async fn call(
        &self,
        peer: PublicKey,
        method: &str,
        params: &RawValue,
        timeout: Duration,
    ) -> Result<Answer, CallError> {
        let connected = self
            .manager
            .peer(&peer)
            .is_some_and(|info| info.connection.is_some());
        if !connected {
            return Err(CallError::NotConnected);
        }
        let (id, payload, waiter) = {
            let mut state = self.state();
            let started = loop {
                let entropy: [u8; 16] = secp256k1::rand::random();
                match state
                    .client
                    .start(peer, method, params, Instant::now(), timeout, entropy)
                {
                    Err(StartError::IdInUse) => continue,
                    other => break other.map_err(CallError::Start)?,
                }
            };
            let (sender, waiter) = oneshot::channel();
            state.waiters.insert(started.id.clone(), sender);
            state.asked.insert(peer);
            (started.id, started.payload, waiter)
        };
        self.deadlines.notify_one();
        if let Err(error) = self
            .manager
            .send_custom_waiting(&peer, &message::framed(&payload))
            .await
        {
            let mut state = self.state();
            state.client.cancel(&id);
            state.waiters.remove(&id);
            return Err(CallError::Send(error));
        }
        match waiter.await {
            Ok(Waited::Answer(answer)) => Ok(answer),
            Ok(Waited::TimedOut) => Err(CallError::TimedOut(timeout)),
            Ok(Waited::Disconnected) => Err(CallError::Disconnected),
            Err(_) => Err(CallError::Stopping),
        }
    }

    /// Whether a 37913 message from `peer` is for us (we asked it something on this
    /// connection) rather than a request for the service.
    pub(crate) fn expects(&self, peer: &PublicKey) -> bool {
        self.state().asked.contains(peer)
    }

    /// A 37913 payload from `peer`, which [`LspsClient::expects`].
    pub(crate) fn receive(&self, peer: &PublicKey, payload: &[u8]) {
        let mut state = self.state();
        match state.client.receive(peer, payload, Instant::now()) {
            ClientEvent::Answered { request, outcome } => {
                if let Some(waiter) = state.waiters.remove(&request.id) {
                    let _ = waiter.send(Waited::Answer(outcome));
                }
            }
            ClientEvent::Notification(notification) => {
                tracing::debug!(node_id = %peer, subsystem = "lsps", "LSPS notification {} ignored: nothing enabled it", notification.method());
            }
            ClientEvent::Ignored(Ignored::NullId(response)) => {
                // The LSP could not read something we sent and cannot say what; LDK then
                // ignores the connection. Fail every call to it now with its error rather
                // than let each wait for its timeout.
                tracing::info!(node_id = %peer, subsystem = "lsps", "LSP answered an error without an id; failing the calls waiting on it");
                let error = match response.outcome {
                    Err(error) => error,
                    Ok(_) => jsonrpc::error::RpcError::new(
                        lsps0::error::code::PARSE_ERROR,
                        "the LSP answered without an id",
                    ),
                };
                let gone = state.client.cancel_peer(peer);
                for request in gone {
                    if let Some(waiter) = state.waiters.remove(&request.id) {
                        let _ = waiter.send(Waited::Answer(Err(error.clone())));
                    }
                }
            }
            ClientEvent::Ignored(why) => {
                tracing::debug!(node_id = %peer, subsystem = "lsps", "LSPS message ignored: {why:?}");
            }
            ClientEvent::BadMessage(bad) => {
                tracing::warn!(node_id = %peer, subsystem = "lsps", "LSP sent a malformed message ({bad}); not sending to it until it reconnects");
            }
        }
    }

    fn finish(state: &mut State, gone: Vec<Outstanding<PublicKey>>, how: fn() -> Waited) {
        for request in gone {
            if let Some(waiter) = state.waiters.remove(&request.id) {
                let _ = waiter.send(how());
            }
        }
    }

    /// Fails the calls whose time is up.
    pub(crate) fn expire(&self, now: Instant) {
        let mut state = self.state();
        let gone = state.client.expire(now);
        Self::finish(&mut state, gone, || Waited::TimedOut);
    }

    /// The next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.state().client.poll_timeout()
    }

    /// Fails the calls waiting on `peer`, which left.
    pub(crate) fn peer_disconnected(&self, peer: &PublicKey) {
        let mut state = self.state();
        state.asked.remove(peer);
        let gone = state.client.peer_disconnected(peer);
        Self::finish(&mut state, gone, || Waited::Disconnected);
    }
}
