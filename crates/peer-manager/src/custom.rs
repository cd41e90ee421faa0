//! The one way out for received custom messages: a consumer set once on the manager, which is
//! either a [`CustomMessageSink`] (a bounded queue per connection, with backpressure: what
//! lnpeerd's plugin host uses) or a [`CustomMessageHandler`] called on the reader itself (what
//! embedders that answer at once use, such as the benchmark). A handler sends its answers into
//! an explicit [`SendBatch`], which the reader writes when its batch of messages is done.

use std::sync::Arc;

use noise_transport::PublicKey;
use subdaemon_state::Owner;
use tokio::sync::{mpsc, watch};

use crate::error::SendCustomError;
use crate::io_log::log_io_as;
use crate::outbox::{Class, Outbox};
use crate::registry::Registry;

/// Where custom messages go, in order and without loss: each connection's reader asks for a
/// queue before its first custom message and waits for room in it, so a slow consumer slows
/// down only the peer that feeds it (TCP backpressure), never another peer.
pub trait CustomMessageSink: Send + Sync + 'static {
    /// A queue for the custom messages (type and payload) of one connection of `id`. It is
    /// dropped when that connection ends.
    fn open(&self, id: PublicKey) -> mpsc::Sender<Vec<u8>>;
}

/// Receives custom messages on each connection's reader task, as they are decrypted: the
/// message is a slice of the read buffer, with no copy, queue or task switch on the way.
///
/// `handle` must return quickly and must not block: the peer's connection is not read while
/// it runs. What it sends into `replies` (to this peer or any other) is encrypted at once and
/// written when the reader has handled everything it read, in one write per connection, so a
/// request answered here goes back with no task switch. Consumers that need to wait, or
/// backpressure, use a [`CustomMessageSink`] instead. A panic in `handle` is caught and ends
/// that peer's connection only.
pub trait CustomMessageHandler: Send + Sync {
    /// One custom message (type and payload) from `from`.
    fn handle(&self, from: &PublicKey, message: &[u8], replies: &mut SendBatch<'_>);
}

/// The consumer of custom messages, set once.
#[derive(Clone)]
pub(crate) enum CustomRoute {
    Sink(Arc<dyn CustomMessageSink>),
    Handler(Arc<dyn CustomMessageHandler>),
}

/// What a [`CustomMessageHandler`] sends while the reader handles a batch: each message is
/// queued on its connection at once (so sending fails at once if the queue is full), and each
/// connection sent to is written once, when the batch is done.
pub struct SendBatch<'a> {
    registry: &'a Registry,
    touched: &'a mut Vec<Outbox>,
}

impl<'a> SendBatch<'a> {
    pub(crate) fn new(registry: &'a Registry, touched: &'a mut Vec<Outbox>) -> Self {
        SendBatch { registry, touched }
    }

    /// Queues a custom message for `to` through its owner, as
    /// [`crate::PeerManager::send_custom`] does, to be written when the batch is done.
    ///
    /// # Errors
    /// The peer is unknown, refused by its state, or its queue is full.
    pub fn send_custom(
        &mut self,
        to: &PublicKey,
        message: &[u8],
    ) -> Result<Owner, SendCustomError> {
        let touched = &mut *self.touched;
        self.registry.custom_gate(to, |owner, outbox, state| {
            outbox
                .send_deferred(message, Class::Custom, touched)
                .map_err(SendCustomError::Queue)?;
            log_io_as(state, to, "OUT", message);
            Ok(owner)
        })
    }
}

/// Why a connection must close while delivering a custom message.
pub(crate) enum DeliveryFailure {
    /// The handler panicked.
    HandlerPanicked,
    /// The connection was closed while the reader waited for room in the sink's queue.
    Closed,
}

/// One connection's side of the route: its queue into the sink, opened on first use.
pub(crate) struct Delivery {
    id: PublicKey,
    queue: Option<mpsc::Sender<Vec<u8>>>,
}

impl Delivery {
    pub(crate) fn new(id: PublicKey) -> Self {
        Delivery { id, queue: None }
    }

    /// Hands `message` to `route`. With a sink whose queue is full, the batch so far is
    /// written and the reader waits for room (backpressure on this peer only), unless the
    /// connection is closed meanwhile.
    pub(crate) async fn deliver(
        &mut self,
        route: Option<&CustomRoute>,
        registry: &Registry,
        message: &[u8],
        touched: &mut Vec<Outbox>,
        closed: &mut watch::Receiver<bool>,
    ) -> Result<(), DeliveryFailure> {
        let id = self.id;
        match route {
            None => {
                tracing::debug!(node_id = %id, subsystem = "connectd", "no consumer for custom messages: message dropped");
                Ok(())
            }
            Some(CustomRoute::Handler(handler)) => {
                // An embedder's bug must not leave a connection without its reader: a panic
                // ends this connection, cleanly.
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handler.handle(&id, message, &mut SendBatch::new(registry, touched))
                }));
                handled.map_err(|_| DeliveryFailure::HandlerPanicked)
            }
            Some(CustomRoute::Sink(sink)) => {
                let queue = self.queue.get_or_insert_with(|| sink.open(id));
                let delivered = match queue.try_send(message.to_vec()) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(message)) => {
                        // Replies already made must not wait with us.
                        flush(touched);
                        tokio::select! {
                            sent = queue.send(message) => sent.is_ok(),
                            _ = crate::tasks::stopped(closed) => return Err(DeliveryFailure::Closed),
                        }
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                };
                if !delivered {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "custom message consumer has gone: message dropped");
                }
                Ok(())
            }
        }
    }
}

/// Writes every connection in `touched` once, and empties it.
pub(crate) fn flush(touched: &mut Vec<Outbox>) {
    for outbox in touched.drain(..) {
        outbox.flush();
    }
}
