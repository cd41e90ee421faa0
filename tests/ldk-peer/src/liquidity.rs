//! bLIP-50 / LSPS0 through LDK's own `lightning-liquidity`, so tests meet LDK's exact LSPS
//! behaviour, including its quirks.
//!
//! - The LSPS0 client is always on (LDK always builds it). The service is on when
//!   [`LiquidityConfig::service`] is set; it then answers `lsps0.list_protocols` by itself, with
//!   the numbers of the services configured (2 for LSPS2, 5 for LSPS5, never 0), and sets feature
//!   bit 729 in `init` and `node_announcement` only if [`LspsServiceConfig::advertise_service`].
//! - [`LdkNode::lsps0_list_protocols`] makes LDK's fire-and-forget request one awaitable call.
//!   LDK reports a success as an event, but an error response, a `-32700` from the LSP or an
//!   LSP it has decided to ignore only as an `Err` from its message handler. [`LspsHandler`]
//!   therefore wraps the liquidity manager as the `PeerManager`'s custom message handler,
//!   delegates everything, and turns those errors into the waiting call's error.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lightning::bitcoin::secp256k1::PublicKey;
use lightning::ln::msgs::{DecodeError, Init, LightningError};
use lightning::ln::peer_handler::CustomMessageHandler;
use lightning::ln::wire::CustomMessageReader;
use lightning::types::features::{InitFeatures, NodeFeatures};
use lightning::util::logger::Logger;
use lightning::util::ser::LengthLimitedRead;
use lightning::{log_debug, log_info};
use lightning_liquidity::events::LiquidityEvent;
use lightning_liquidity::lsps0::event::LSPS0ClientEvent;
use lightning_liquidity::lsps0::ser::RawLSPSMessage;
use lightning_liquidity::lsps2::service::LSPS2ServiceConfig;
use lightning_liquidity::lsps5::service::LSPS5ServiceConfig;
use lightning_liquidity::{LiquidityClientConfig, LiquidityServiceConfig};
use tokio::sync::oneshot;

use crate::log::NodeLogger;
use crate::node::LdkNode;
use crate::types::LdkLiquidityManager;

/// `option_supports_lsps` (bLIP-50): odd, set by an LSP, never by a client.
pub const LSPS_FEATURE_BIT: usize = 729;

/// The BOLT 1 message type that carries every LSPS message (`lsps0_message_id`).
pub const LSPS_MESSAGE_TYPE: u16 = 37913;

/// How long [`LdkNode::lsps0_list_protocols`] waits for the answer. bLIP-50 asks clients to
/// time out after minutes; CLN's client waits 60 s; LDK's own client never gives up.
const LIST_PROTOCOLS_TIMEOUT: Duration = Duration::from_secs(60);

/// The LSPS roles of a node.
#[derive(Debug, Clone, Default)]
pub struct LiquidityConfig {
    /// `None`: client only. `Some`: client and service.
    pub service: Option<LspsServiceConfig>,
}

/// The LSPS service side.
#[derive(Debug, Clone, Default)]
pub struct LspsServiceConfig {
    /// Set feature bit 729 in `init` and `node_announcement` (LDK's `advertise_service`).
    pub advertise_service: bool,
    /// Offer LSPS2 (JIT channels) with this promise secret: `list_protocols` then reports 2.
    /// The node has no chain, so no JIT channel can actually open.
    pub lsps2_promise_secret: Option<[u8; 32]>,
    /// Offer LSPS5 (webhooks) with LDK's default limits: `list_protocols` then reports 5.
    pub lsps5: bool,
}

impl LiquidityConfig {
    pub(crate) fn service_config(&self) -> Option<LiquidityServiceConfig> {
        self.service.as_ref().map(|service| LiquidityServiceConfig {
            lsps2_service_config: service
                .lsps2_promise_secret
                .map(|promise_secret| LSPS2ServiceConfig { promise_secret }),
            lsps5_service_config: service.lsps5.then(LSPS5ServiceConfig::default),
            advertise_service: service.advertise_service,
        })
    }

    pub(crate) fn client_config(&self) -> LiquidityClientConfig {
        // LSPS0's client needs no configuration; the others are not used here.
        LiquidityClientConfig {
            lsps1_client_config: None,
            lsps2_client_config: None,
            lsps5_client_config: None,
        }
    }
}

/// Whether `features` carry `option_supports_lsps` (bit 729, either parity).
pub fn advertises_lsps(features: &InitFeatures) -> bool {
    let flags = features.le_flags();
    let has = |bit: usize| {
        flags
            .get(bit / 8)
            .is_some_and(|byte| byte & (1 << (bit % 8)) != 0)
    };
    has(LSPS_FEATURE_BIT) || has(LSPS_FEATURE_BIT - 1)
}

/// Why [`LdkNode::lsps0_list_protocols`] has no list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListProtocolsError {
    /// The peer is not connected (nothing was sent).
    NotConnected(PublicKey),
    /// The peer disconnected before answering.
    Disconnected(PublicKey),
    /// LDK refused the answer; the text is LDK's, e.g. `ListProtocols error received. code =
    /// -32601, ...` for an error response, or `Failed to deserialize invalid LSPS message. ...`.
    Rejected(String),
    /// No answer within the timeout (LDK drops a request that reaches a node without the
    /// service, so this is what asking a non-LSP looks like).
    Timeout,
}

impl std::fmt::Display for ListProtocolsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListProtocolsError::NotConnected(peer) => write!(f, "peer {peer} is not connected"),
            ListProtocolsError::Disconnected(peer) => {
                write!(f, "peer {peer} disconnected before answering")
            }
            ListProtocolsError::Rejected(why) => write!(f, "LDK rejected the answer: {why}"),
            ListProtocolsError::Timeout => write!(f, "no answer to lsps0.list_protocols"),
        }
    }
}

impl std::error::Error for ListProtocolsError {}

type ListProtocolsResult = Result<Vec<u16>, ListProtocolsError>;

/// Per LSP, the calls waiting for its answer, oldest first.
type Calls = HashMap<PublicKey, VecDeque<oneshot::Sender<ListProtocolsResult>>>;

/// The `list_protocols` calls waiting for an answer. LDK's event names
/// the LSP but not the request, so an answer completes the oldest call to that LSP (all of them
/// ask the same question).
#[derive(Default)]
struct PendingCalls {
    calls: Mutex<Calls>,
}

impl PendingCalls {
    fn calls(&self) -> MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new call to `lsp`; its answer arrives on the receiver.
    fn register(&self, lsp: PublicKey) -> oneshot::Receiver<ListProtocolsResult> {
        let (sender, receiver) = oneshot::channel();
        self.calls().entry(lsp).or_default().push_back(sender);
        receiver
    }

    /// Hands `result` to the oldest call to `lsp` that is still waiting.
    fn complete_oldest(&self, lsp: &PublicKey, mut result: ListProtocolsResult) {
        let mut calls = self.calls();
        let Some(queue) = calls.get_mut(lsp) else {
            return;
        };
        while let Some(call) = queue.pop_front() {
            // A call that has given up (timed out) hands the result back.
            match call.send(result) {
                Ok(()) => break,
                Err(unclaimed) => result = unclaimed,
            }
        }
        if queue.is_empty() {
            calls.remove(lsp);
        }
    }

    /// Ends every call to `lsp` with `error`.
    fn fail_all(&self, lsp: &PublicKey, error: ListProtocolsError) {
        for call in self.calls().remove(lsp).unwrap_or_default() {
            let _ = call.send(Err(error.clone()));
        }
    }
}

/// The liquidity manager as the `PeerManager`'s custom message handler, and the calls waiting
/// for its answers.
pub(crate) struct LspsHandler {
    manager: Arc<LdkLiquidityManager>,
    pending: PendingCalls,
    logger: Arc<NodeLogger>,
}

impl LspsHandler {
    pub(crate) fn new(manager: Arc<LdkLiquidityManager>, logger: Arc<NodeLogger>) -> Self {
        LspsHandler {
            manager,
            pending: PendingCalls::default(),
            logger,
        }
    }

    pub(crate) fn manager(&self) -> &LdkLiquidityManager {
        &self.manager
    }

    /// Dispatches the liquidity manager's events until the task is aborted.
    pub(crate) async fn run_events(self: Arc<Self>) {
        loop {
            match self.manager.next_event_async().await {
                LiquidityEvent::LSPS0Client(LSPS0ClientEvent::ListProtocolsResponse {
                    counterparty_node_id,
                    protocols,
                }) => self
                    .pending
                    .complete_oldest(&counterparty_node_id, Ok(protocols)),
                other => log_debug!(self.logger, "Unhandled liquidity event: {other:?}"),
            }
        }
    }
}

/// Whether an LSPS payload is a request (`method` and `id`): the one kind of message whose
/// failure says nothing about our own requests to the sender.
fn is_request(payload: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|value| {
            value
                .as_object()
                .map(|o| o.contains_key("method") && o.contains_key("id"))
        })
        .unwrap_or(false)
}

impl CustomMessageReader for LspsHandler {
    type CustomMessage = RawLSPSMessage;

    fn read<R: LengthLimitedRead>(
        &self,
        message_type: u16,
        buffer: &mut R,
    ) -> Result<Option<RawLSPSMessage>, DecodeError> {
        self.manager.read(message_type, buffer)
    }
}

impl CustomMessageHandler for LspsHandler {
    fn handle_custom_message(
        &self,
        message: RawLSPSMessage,
        sender: PublicKey,
    ) -> Result<(), LightningError> {
        let request = is_request(&message.payload);
        let handled = self.manager.handle_custom_message(message, sender);
        if let Err(error) = &handled {
            // An error response, a `-32700`, an answer LDK could not parse (after which it
            // ignores the peer until reconnection) or a message from an ignored peer: none of
            // our calls to this LSP will get an answer now.
            if !request {
                log_info!(
                    self.logger,
                    "LSPS answer from {sender} refused: {}",
                    error.err
                );
                self.pending
                    .fail_all(&sender, ListProtocolsError::Rejected(error.err.clone()));
            }
        }
        handled
    }

    fn get_and_clear_pending_msg(&self) -> Vec<(PublicKey, RawLSPSMessage)> {
        self.manager.get_and_clear_pending_msg()
    }

    fn peer_disconnected(&self, their_node_id: PublicKey) {
        self.manager.peer_disconnected(their_node_id);
        self.pending.fail_all(
            &their_node_id,
            ListProtocolsError::Disconnected(their_node_id),
        );
    }

    fn peer_connected(
        &self,
        their_node_id: PublicKey,
        init: &Init,
        inbound: bool,
    ) -> Result<(), ()> {
        self.manager.peer_connected(their_node_id, init, inbound)
    }

    fn provided_node_features(&self) -> NodeFeatures {
        self.manager.provided_node_features()
    }

    fn provided_init_features(&self, their_node_id: PublicKey) -> InitFeatures {
        self.manager.provided_init_features(their_node_id)
    }
}

impl LdkNode {
    /// Asks `lsp` for the LSPS protocols it supports (`lsps0.list_protocols`) and waits for the
    /// answer: the list as LDK parsed it, or why there is none. Bounded by a 60 s timeout.
    pub async fn lsps0_list_protocols(&self, lsp: PublicKey) -> ListProtocolsResult {
        if !self.is_connected(&lsp) {
            return Err(ListProtocolsError::NotConnected(lsp));
        }
        let answer = self.lsps.pending.register(lsp);
        self.lsps
            .manager()
            .lsps0_client_handler()
            .list_protocols(&lsp);
        // LDK only queues the request; send it now rather than at the driver's next wake-up.
        self.peer_manager.process_events();
        match tokio::time::timeout(LIST_PROTOCOLS_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            // The handler dropped our sender without an answer: only on shutdown.
            Ok(Err(_)) => Err(ListProtocolsError::Disconnected(lsp)),
            Err(_) => Err(ListProtocolsError::Timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lsp(byte: u8) -> PublicKey {
        use lightning::bitcoin::secp256k1::{Secp256k1, SecretKey};
        let secret = SecretKey::from_slice(&[byte; 32]).expect("a valid secret");
        PublicKey::from_secret_key(&Secp256k1::signing_only(), &secret)
    }

    #[test]
    fn an_answer_completes_the_oldest_live_call_to_that_lsp() {
        let pending = PendingCalls::default();
        let gave_up = pending.register(lsp(1));
        let mut first = pending.register(lsp(1));
        let mut second = pending.register(lsp(1));
        let mut other = pending.register(lsp(2));
        drop(gave_up);

        pending.complete_oldest(&lsp(1), Ok(vec![2]));
        assert_eq!(first.try_recv(), Ok(Ok(vec![2])));
        assert!(second.try_recv().is_err(), "still waiting");
        pending.complete_oldest(&lsp(1), Ok(vec![5]));
        assert_eq!(second.try_recv(), Ok(Ok(vec![5])));
        assert!(other.try_recv().is_err(), "another LSP's call is untouched");
        // An answer nobody waits for is dropped.
        pending.complete_oldest(&lsp(1), Ok(vec![]));
        assert!(pending.calls().get(&lsp(1)).is_none());
    }

    #[test]
    fn a_failure_ends_every_call_to_that_lsp() {
        let pending = PendingCalls::default();
        let mut first = pending.register(lsp(1));
        let mut second = pending.register(lsp(1));
        let mut other = pending.register(lsp(2));
        pending.fail_all(&lsp(1), ListProtocolsError::Disconnected(lsp(1)));
        for call in [&mut first, &mut second] {
            assert_eq!(
                call.try_recv(),
                Ok(Err(ListProtocolsError::Disconnected(lsp(1))))
            );
        }
        assert!(other.try_recv().is_err(), "another LSP's call is untouched");
    }

    #[test]
    fn requests_are_told_from_answers() {
        assert!(is_request(
            r#"{"jsonrpc":"2.0","id":"ab","method":"lsps0.list_protocols","params":{}}"#
        ));
        assert!(!is_request(
            r#"{"jsonrpc":"2.0","id":"ab","result":{"protocols":[]}}"#
        ));
        assert!(!is_request(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}"#
        ));
        // A notification has a method but no id.
        assert!(!is_request(
            r#"{"jsonrpc":"2.0","method":"lsps5.x","params":{}}"#
        ));
        assert!(!is_request("not json"));
        assert!(!is_request("[]"));
    }

    #[test]
    fn bit_729_is_found_in_either_parity() {
        let mut features = InitFeatures::empty();
        assert!(!advertises_lsps(&features));
        features
            .set_optional_custom_bit(LSPS_FEATURE_BIT)
            .expect("729 is a custom bit");
        assert!(advertises_lsps(&features));
        let mut required = InitFeatures::empty();
        required
            .set_required_custom_bit(LSPS_FEATURE_BIT - 1)
            .expect("728 is a custom bit");
        assert!(advertises_lsps(&required));
    }

    #[test]
    fn service_config_maps_to_ldk() {
        let none = LiquidityConfig::default();
        assert!(none.service_config().is_none());
        let all = LiquidityConfig {
            service: Some(LspsServiceConfig {
                advertise_service: true,
                lsps2_promise_secret: Some([7; 32]),
                lsps5: true,
            }),
        };
        let ldk = all.service_config().expect("a service");
        assert!(ldk.advertise_service);
        assert_eq!(
            ldk.lsps2_service_config.map(|c| c.promise_secret),
            Some([7; 32])
        );
        assert!(ldk.lsps5_service_config.is_some());
    }
}
