//! The commando client: the `commando` command sends a request to a peer in chunks, under a
//! random 64-bit request id, and waits for the reply chunks with that id from that peer
//! (`commando::Replies`), at most `--commando-timeout`. A peer that disconnects fails its
//! pending calls at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use commando::{
    interpret_reply, Chunk, ClientConfig, ClientError, ClientRequest, Replies, ReplyPushed,
    RequestId, COMMANDO_ERROR_LOCAL,
};
use jsonrpc::error::RpcError;
use noise_transport::PublicKey;
use peer_manager::PeerManager;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::oneshot;

/// What a pending call hears back: the complete reply's JSON, or why there is none.
type Outcome = Result<Vec<u8>, RpcError>;

struct Pending {
    replies: Replies<PublicKey>,
    waiting: HashMap<(PublicKey, RequestId), oneshot::Sender<Outcome>>,
}

/// One `commando` call, as the command passes it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) peer: PublicKey,
    pub(crate) method: String,
    pub(crate) params: Option<Box<RawValue>>,
    pub(crate) rune: Option<String>,
    pub(crate) filter: Option<Box<RawValue>>,
    /// The JSON id the request carries (the local command's).
    pub(crate) json_id: String,
}

/// The client side of commando.
pub(crate) struct CommandoClient {
    pending: Mutex<Pending>,
    manager: PeerManager,
    timeout: Duration,
}

impl CommandoClient {
    pub(crate) fn new(config: ClientConfig, manager: PeerManager, timeout: Duration) -> Self {
        CommandoClient {
            pending: Mutex::new(Pending {
                replies: Replies::new(config),
                waiting: HashMap::new(),
            }),
            manager,
            timeout,
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `call` and waits for its reply: the remote result, the remote error as it came,
    /// or ours (CLN's client texts; the send refused; no reply in time; the peer left).
    pub(crate) async fn call(&self, call: Call) -> Result<Value, RpcError> {
        let request = ClientRequest {
            method: &call.method,
            params: call.params.as_deref(),
            rune: call.rune.as_deref(),
            filter: call.filter.as_deref(),
            json_id: &call.json_id,
        };
        let body = request.body()?;
        let (id, reply) = self.expect(call.peer);
        let messages = commando::split_messages(commando::Direction::Command, id, &body);
        for message in messages {
            if let Err(error) = self.manager.send_custom_waiting(&call.peer, &message).await {
                self.cancel(&call.peer, id);
                return Err(rpc::errors::send_custom_error(&call.peer, error));
            }
        }
        let outcome = match tokio::time::timeout(self.timeout, reply).await {
            Ok(Ok(outcome)) => outcome,
            // The sender went with the client: the node is stopping.
            Ok(Err(_)) => Err(RpcError::new(COMMANDO_ERROR_LOCAL, "Node is stopping")),
            Err(_) => {
                self.cancel(&call.peer, id);
                Err(RpcError::new(
                    COMMANDO_ERROR_LOCAL,
                    format!(
                        "No reply from the peer within {} seconds",
                        self.timeout.as_secs()
                    ),
                ))
            }
        };
        let json = outcome?;
        let result = interpret_reply(&json)?;
        serde_json::from_str(result.get())
            .map_err(|_| ClientError::Unparsable(result.get().to_owned()).into())
    }

    /// Picks a request id no other call to `peer` uses and registers a waiter for it.
    fn expect(&self, peer: PublicKey) -> (RequestId, oneshot::Receiver<Outcome>) {
        let (sender, receiver) = oneshot::channel();
        let mut pending = self.pending();
        loop {
            let id = RequestId::from(secp256k1::rand::random::<u64>());
            if pending.replies.expect(peer, id).is_ok() {
                pending.waiting.insert((peer, id), sender);
                return (id, receiver);
            }
        }
    }

    fn cancel(&self, peer: &PublicKey, id: RequestId) {
        let mut pending = self.pending();
        pending.replies.cancel(peer, id);
        pending.waiting.remove(&(*peer, id));
    }

    /// A reply chunk from `peer`: completes its call once the terminal chunk is in. Chunks of
    /// requests we did not send are ignored.
    pub(crate) fn handle(&self, peer: PublicKey, chunk: &Chunk<'_>) {
        let now = Instant::now();
        let mut pending = self.pending();
        for (gone_peer, gone_id) in pending.replies.handle_timeout(now) {
            if let Some(waiter) = pending.waiting.remove(&(gone_peer, gone_id)) {
                let _ = waiter.send(Err(ClientError::TimedOut.into()));
            }
        }
        let (id, outcome) = match pending.replies.push(&peer, chunk, now) {
            ReplyPushed::Ignored | ReplyPushed::Pending => return,
            ReplyPushed::Complete { id, json } => (id, Ok(json)),
            ReplyPushed::Oversize { id } => (id, Err(ClientError::Oversize.into())),
        };
        if let Some(waiter) = pending.waiting.remove(&(peer, id)) {
            let _ = waiter.send(outcome);
        }
    }

    /// Fails every call waiting on `peer`.
    pub(crate) fn peer_disconnected(&self, peer: &PublicKey) {
        let mut pending = self.pending();
        for id in pending.replies.forget_peer(peer) {
            if let Some(waiter) = pending.waiting.remove(&(*peer, id)) {
                let _ = waiter.send(Err(RpcError::new(
                    COMMANDO_ERROR_LOCAL,
                    "Peer disconnected before replying",
                )));
            }
        }
    }
}
