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
        self.wait(call.peer, id, reply).await
    }

    /// Waits at most the timeout for the reply to request `id` sent to `peer`, and reads it.
    async fn wait(
        &self,
        peer: PublicKey,
        id: RequestId,
        reply: oneshot::Receiver<Outcome>,
    ) -> Result<Value, RpcError> {
        let outcome = match tokio::time::timeout(self.timeout, reply).await {
            Ok(Ok(outcome)) => outcome,
            // The sender went with the client: the node is stopping.
            Ok(Err(_)) => Err(RpcError::new(COMMANDO_ERROR_LOCAL, "Node is stopping")),
            Err(_) => {
                self.cancel(&peer, id);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use commando::{ChunkKind, COMMANDO_ERROR_REMOTE_AUTH};
    use serde_json::json;

    use super::*;
    use crate::testing::{idle_manager, raw};

    const TIMEOUT: Duration = Duration::from_secs(60);

    fn peer(byte: u8) -> PublicKey {
        peer_manager::testing::node_id(byte)
    }

    async fn client(config: ClientConfig) -> Arc<CommandoClient> {
        Arc::new(CommandoClient::new(config, idle_manager(1).await, TIMEOUT))
    }

    fn chunk(id: RequestId, terminal: bool, json: &[u8]) -> Chunk<'_> {
        let kind = match terminal {
            true => ChunkKind::ReplyTerminal,
            false => ChunkKind::ReplyContinues,
        };
        Chunk { kind, id, json }
    }

    /// `json` from `from` as the reply to `id`, in one terminal chunk.
    fn reply(client: &CommandoClient, from: PublicKey, id: RequestId, json: &str) {
        client.handle(from, &chunk(id, true, json.as_bytes()));
    }

    fn nothing_pending(client: &CommandoClient) -> bool {
        let pending = client.pending();
        pending.replies.is_empty() && pending.waiting.is_empty()
    }

    #[tokio::test]
    async fn replies_are_matched_by_peer_and_request_id() {
        let client = client(ClientConfig::default()).await;
        let (a, wait_a) = client.expect(peer(7));
        let (b, wait_b) = client.expect(peer(7));
        let (c, wait_c) = client.expect(peer(8));
        assert_ne!(a, b);

        // B's reply in two chunks, with others' chunks in between that must not count:
        // the right id from the wrong peer, and an id nobody awaits.
        client.handle(
            peer(7),
            &chunk(b, false, br#"{"jsonrpc":"2.0","id":"x","res"#),
        );
        reply(&client, peer(8), b, r#"{"result":"from the wrong peer"}"#);
        reply(
            &client,
            peer(7),
            RequestId([0xee; 8]),
            r#"{"result":"nobody's"}"#,
        );
        client.handle(peer(7), &chunk(b, true, br#"ult":{"b":1}}"#));
        assert_eq!(client.wait(peer(7), b, wait_b).await, Ok(json!({"b": 1})));

        // A's reply is the remote's error, passed on as it came, data and all.
        let error = r#"{"error":{"code":19537,"message":"Invalid rune: Not permitted: too soon","data":{"x":1}}}"#;
        reply(&client, peer(7), a, error);
        let error = client.wait(peer(7), a, wait_a).await.unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str(), error.data),
            (
                COMMANDO_ERROR_REMOTE_AUTH,
                "Invalid rune: Not permitted: too soon",
                Some(json!({"x": 1}))
            )
        );

        reply(
            &client,
            peer(8),
            c,
            r#"{"jsonrpc":"2.0","id":"y","result":[1,"two"]}"#,
        );
        assert_eq!(client.wait(peer(8), c, wait_c).await, Ok(json!([1, "two"])));
        assert!(nothing_pending(&client));
    }

    #[tokio::test]
    async fn unusable_replies_get_clns_client_errors() {
        let client = client(ClientConfig::default()).await;
        let cases = [
            ("not json", "Reply was unparsable: 'not json'"),
            (r#"{"jsonrpc":"2.0","id":1}"#, "Reply had no result"),
            (
                r#"{"error":{"message":"x"}}"#,
                r#"Error '{"message":"x"}' had no valid code"#,
            ),
            (r#"{"error":{"code":1}}"#, "Error had no message"),
        ];
        for (json, message) in cases {
            let (id, waiting) = client.expect(peer(7));
            reply(&client, peer(7), id, json);
            let error = client.wait(peer(7), id, waiting).await.unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                (19535, message),
                "{json}"
            );
        }
        assert!(nothing_pending(&client));
    }

    #[tokio::test]
    async fn an_oversize_reply_fails_at_once() {
        let config = ClientConfig {
            max_reply_bytes: 100,
            ..ClientConfig::default()
        };
        let client = client(config).await;
        let (id, waiting) = client.expect(peer(7));
        client.handle(peer(7), &chunk(id, false, &[b' '; 101]));
        let error = client.wait(peer(7), id, waiting).await.unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (19535, "Reply was oversize")
        );
        // The rest of it is ignored.
        reply(&client, peer(7), id, "{}");
        assert!(nothing_pending(&client));
    }

    #[tokio::test]
    async fn a_reply_that_stops_arriving_is_given_up() {
        let config = ClientConfig {
            partial_reply_timeout: Duration::ZERO,
            ..ClientConfig::default()
        };
        let client = client(config).await;
        let (stalled, waiting) = client.expect(peer(7));
        client.handle(peer(7), &chunk(stalled, false, b"{"));
        // The next chunk to arrive, from anyone, finds it overdue.
        reply(&client, peer(8), RequestId([0; 8]), "{}");
        let error = client.wait(peer(7), stalled, waiting).await.unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (19535, "Reply timed out")
        );
        assert!(nothing_pending(&client));
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_waits_up_to_the_timeout_and_no_longer() {
        let client = client(ClientConfig::default()).await;
        // A reply just in time is taken.
        let (id, waiting) = client.expect(peer(7));
        let replier = client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(TIMEOUT - Duration::from_millis(1)).await;
            reply(&replier, peer(7), id, r#"{"result":{"late":false}}"#);
        });
        assert_eq!(
            client.wait(peer(7), id, waiting).await,
            Ok(json!({"late": false}))
        );

        // None at all: the call fails once the timeout passes, and is forgotten.
        let started = tokio::time::Instant::now();
        let (id, waiting) = client.expect(peer(7));
        let error = client.wait(peer(7), id, waiting).await.unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (19535, "No reply from the peer within 60 seconds")
        );
        assert!(started.elapsed() >= TIMEOUT, "gave up early");
        assert!(nothing_pending(&client));
        // A reply that comes after all is ignored.
        reply(&client, peer(7), id, r#"{"result":{}}"#);
        assert!(nothing_pending(&client));
    }

    #[tokio::test]
    async fn a_disconnect_fails_that_peers_calls_only() {
        let client = client(ClientConfig::default()).await;
        let (a, wait_a) = client.expect(peer(7));
        let (b, wait_b) = client.expect(peer(7));
        let (c, wait_c) = client.expect(peer(8));
        client.peer_disconnected(&peer(7));
        for (id, waiting) in [(a, wait_a), (b, wait_b)] {
            let error = client.wait(peer(7), id, waiting).await.unwrap_err();
            assert_eq!(
                (error.code, error.message.as_str()),
                (19535, "Peer disconnected before replying")
            );
        }
        reply(&client, peer(8), c, r#"{"result":"still here"}"#);
        assert_eq!(
            client.wait(peer(8), c, wait_c).await,
            Ok(json!("still here"))
        );
    }

    #[tokio::test]
    async fn a_call_whose_waiter_is_gone_reports_the_node_stopping() {
        let client = client(ClientConfig::default()).await;
        let (id, waiting) = client.expect(peer(7));
        client.pending().waiting.clear();
        let error = client.wait(peer(7), id, waiting).await.unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (19535, "Node is stopping")
        );
    }

    #[tokio::test]
    async fn a_call_that_cannot_be_sent_leaves_nothing_waiting() {
        let client = client(ClientConfig::default()).await;
        let call = Call {
            peer: peer(7),
            method: "getinfo".into(),
            params: None,
            rune: Some("rune".into()),
            filter: None,
            json_id: "cli:commando#1".into(),
        };
        let error = client.call(call.clone()).await.unwrap_err();
        assert_eq!(
            (error.code, error.message),
            (-32600, format!("No such peer: {}", peer(7)))
        );
        assert!(nothing_pending(&client));
        // A request that cannot be built is refused before anything is sent.
        let bad = Call {
            params: Some(raw(r#""x""#)),
            ..call
        };
        let error = client.call(bad).await.unwrap_err();
        assert_eq!(error.code, -32602);
        assert!(nothing_pending(&client));
    }
}
