//! `delivery`: what lnpeer offers beyond `sendcustommsg`'s best effort, for protocols built on
//! custom messages.
//!
//! # What it owns
//!
//! * [`Inbox`] (`inbox.rs`): every received custom message the node hands to plugins is
//!   recorded first, with an increasing index, bounded by count, bytes and age; the commands
//!   `listcustommsgs` and `waitcustommsg` read it.
//! * The commands (`commands/`), registered into the RPC dispatcher by [`Delivery::register`].
//!
//! # What it must not touch
//!
//! The database (the node implements [`InboxStore`]), sockets (it sends through the peer
//! manager) and the routing of received messages (the node's custom-message router calls
//! [`Inbox::record`]).
//!
//! # Wiring
//!
//! ```text
//! Delivery::new(inbox_store or None, limits)
//!   ─▶ register(&mut dispatcher)           listcustommsgs, waitcustommsg
//!   ─▶ inbox() ─▶ router: record(peer, message) before the plugins see it
//! ```

mod commands;
mod inbox;
mod store;

#[cfg(test)]
mod memory;

use std::sync::Arc;

use node_config::Limits;
use rpc::{CommandTaken, Dispatcher};

pub use inbox::{Inbox, InboxConfig};
pub use store::{InboxBounds, InboxStore, ReceivedMessage, StoreFailure};

/// Delivery for one node.
#[derive(Debug)]
pub struct Delivery {
    inbox: Option<Arc<Inbox>>,
    pruner: Option<tokio::task::JoinHandle<()>>,
}

impl Delivery {
    /// Delivery with the inbox in `inbox_store` (`None`: `--custommsg-inbox=false`), bounded
    /// by `limits`. Starts the inbox's pruning task, so it must run inside a tokio runtime.
    ///
    /// # Errors
    /// The store failed while the inbox was opened.
    pub fn new(
        inbox_store: Option<Arc<dyn InboxStore>>,
        limits: &Limits,
    ) -> Result<Delivery, StoreFailure> {
        let inbox = inbox_store
            .map(|store| Inbox::open(store, InboxConfig::from_limits(limits)).map(Arc::new))
            .transpose()?;
        let pruner = inbox.as_ref().map(Inbox::spawn_pruner);
        Ok(Delivery { inbox, pruner })
    }

    /// The inbox, unless it is off.
    pub fn inbox(&self) -> Option<&Arc<Inbox>> {
        self.inbox.as_ref()
    }

    /// Adds `listcustommsgs` and `waitcustommsg` to `dispatcher` (they explain that the inbox
    /// is off when it is).
    ///
    /// # Errors
    /// One of those names is taken.
    pub fn register(&self, dispatcher: &mut Dispatcher) -> Result<(), CommandTaken> {
        dispatcher.register(Arc::new(commands::listcustommsgs::ListCustomMsgs(
            self.inbox.clone(),
        )))?;
        dispatcher.register(Arc::new(commands::waitcustommsg::WaitCustomMsg(
            self.inbox.clone(),
        )))?;
        Ok(())
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(pruner) = self.pruner.take() {
            pruner.abort();
        }
    }
}
