//! The per-peer outgoing queue: bounded in bytes, never blocking the sender.
//!
//! Policy: a message is accepted only if the bytes already queued plus its own stay within the
//! budget; otherwise the send fails at once with [`SendError::QueueFull`], and nothing is
//! dropped silently. Sending never awaits, so a peer that stops reading can fill only its own
//! queue and can never stall the RPC caller, another peer's reader, or anyone else. Control
//! traffic (pongs, pings, warnings, errors) has its own smaller budget, so custom traffic
//! cannot starve liveness. Bytes are released after the writer has written them to the socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

/// Why a message could not be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The peer's queue holds `queued` bytes of its `limit`; this message of `len` would exceed it.
    QueueFull {
        /// Bytes already queued.
        queued: usize,
        /// The message's length.
        len: usize,
        /// The queue's budget.
        limit: usize,
    },
    /// The connection is closing or closed.
    Closed,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::QueueFull { queued, len, limit } => write!(
                f,
                "outgoing queue full: {queued} bytes queued, a {len}-byte message would exceed the {limit}-byte limit"
            ),
            SendError::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for SendError {}

/// Which budget a message is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Custom,
    Control,
}

/// What the writer task receives.
#[derive(Debug)]
pub(crate) enum Outbound {
    Message {
        bytes: Vec<u8>,
        class: Class,
    },
    /// Write everything queued before this, then close the connection.
    CloseAfterFlush,
}

/// One byte budget.
#[derive(Debug)]
pub(crate) struct Budget {
    queued: AtomicUsize,
    limit: usize,
    /// Woken when bytes are released, for senders waiting for room.
    freed: Notify,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget {
            queued: AtomicUsize::new(0),
            limit,
            freed: Notify::new(),
        }
    }

    fn reserve(&self, len: usize) -> Result<(), SendError> {
        self.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                queued.checked_add(len).filter(|&total| total <= self.limit)
            })
            .map(|_| ())
            .map_err(|queued| SendError::QueueFull {
                queued,
                len,
                limit: self.limit,
            })
    }

    pub(crate) fn release(&self, len: usize) {
        if len > 0 {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            self.freed.notify_waiters();
        }
    }

    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }
}

/// The sending side of a peer's queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Outbound>,
    pub(crate) budgets: Arc<Budgets>,
}

/// The custom and control budgets of one connection.
#[derive(Debug)]
pub(crate) struct Budgets {
    pub(crate) custom: Budget,
    pub(crate) control: Budget,
}

impl Budgets {
    pub(crate) fn of(&self, class: Class) -> &Budget {
        match class {
            Class::Custom => &self.custom,
            Class::Control => &self.control,
        }
    }
}

impl Outbox {
    /// A queue with the given budgets and the receiver for the writer task.
    pub(crate) fn new(
        custom_limit: usize,
        control_limit: usize,
    ) -> (Self, mpsc::UnboundedReceiver<Outbound>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let budgets = Arc::new(Budgets {
            custom: Budget::new(custom_limit),
            control: Budget::new(control_limit),
        });
        (Outbox { tx, budgets }, rx)
    }

    /// Queues a message (type and payload) charged to the custom budget.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] if it does not fit in the budget, [`SendError::Closed`] if the
    /// writer has gone.
    pub fn try_send(&self, bytes: Vec<u8>) -> Result<(), SendError> {
        self.send(bytes, Class::Custom)
    }

    /// Queues a message charged to the custom budget, waiting for room when the queue is full.
    ///
    /// # Errors
    /// [`SendError::QueueFull`] only for a message larger than the whole budget (it would wait
    /// forever); [`SendError::Closed`] if the writer has gone, also while waiting.
    pub async fn send_waiting(&self, bytes: Vec<u8>) -> Result<(), SendError> {
        let budget = &self.budgets.custom;
        if bytes.len() > budget.limit {
            return budget.reserve(bytes.len());
        }
        loop {
            // Registered before the check, so a release between the check and the wait is seen.
            let freed = budget.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if budget.reserve(bytes.len()).is_ok() {
                break;
            }
            tokio::select! {
                () = freed => {}
                () = self.tx.closed() => return Err(SendError::Closed),
            }
        }
        let len = bytes.len();
        self.tx
            .send(Outbound::Message {
                bytes,
                class: Class::Custom,
            })
            .map_err(|_| {
                budget.release(len);
                SendError::Closed
            })
    }

    pub(crate) fn send(&self, bytes: Vec<u8>, class: Class) -> Result<(), SendError> {
        let budget = self.budgets.of(class);
        budget.reserve(bytes.len())?;
        let len = bytes.len();
        self.tx
            .send(Outbound::Message { bytes, class })
            .map_err(|_| {
                budget.release(len);
                SendError::Closed
            })
    }

    /// Asks the writer to close once everything queued so far is written.
    pub(crate) fn close_after_flush(&self) {
        let _ = self.tx.send(Outbound::CloseAfterFlush);
    }

    /// Bytes of custom traffic waiting to be written.
    pub fn queued_bytes(&self) -> usize {
        self.budgets.custom.queued()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_instead_of_growing_and_frees_after_release() {
        let (outbox, mut rx) = Outbox::new(100, 10);
        outbox.try_send(vec![0; 60]).unwrap();
        assert_eq!(
            outbox.try_send(vec![0; 41]),
            Err(SendError::QueueFull {
                queued: 60,
                len: 41,
                limit: 100
            })
        );
        outbox.try_send(vec![0; 40]).unwrap();
        // Control traffic has its own budget and still fits.
        outbox.send(vec![0; 10], Class::Control).unwrap();
        assert!(outbox.send(vec![0; 1], Class::Control).is_err());
        let Some(Outbound::Message { bytes, class }) = rx.try_recv().ok() else {
            panic!()
        };
        outbox.budgets.of(class).release(bytes.len());
        outbox.try_send(vec![0; 60]).unwrap();
        assert_eq!(outbox.queued_bytes(), 100);
    }

    #[tokio::test]
    async fn a_waiting_send_resumes_when_the_writer_frees_room() {
        let (outbox, mut rx) = Outbox::new(100, 10);
        outbox.try_send(vec![0; 80]).unwrap();
        let waiting = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.send_waiting(vec![1; 50]).await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "no room yet: it must wait");
        let Some(Outbound::Message { bytes, class }) = rx.recv().await else {
            panic!()
        };
        outbox.budgets.of(class).release(bytes.len());
        waiting.await.unwrap().unwrap();
        assert_eq!(outbox.queued_bytes(), 50);
        // Larger than the whole budget: refused at once rather than waiting forever.
        assert!(matches!(
            outbox.send_waiting(vec![0; 101]).await,
            Err(SendError::QueueFull { .. })
        ));
        // A writer that goes away ends the wait.
        outbox.try_send(vec![0; 50]).unwrap();
        let blocked = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.send_waiting(vec![0; 10]).await }
        });
        tokio::task::yield_now().await;
        drop(rx);
        assert_eq!(blocked.await.unwrap(), Err(SendError::Closed));
    }

    #[test]
    fn sending_to_a_gone_writer_is_closed_and_costs_nothing() {
        let (outbox, rx) = Outbox::new(100, 10);
        drop(rx);
        assert_eq!(outbox.try_send(vec![0; 5]), Err(SendError::Closed));
        assert_eq!(outbox.queued_bytes(), 0);
    }
}
