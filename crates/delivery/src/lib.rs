//! `delivery`: what lnpeer offers beyond `sendcustommsg`'s best effort, for protocols built on
//! custom messages.
//!
//! # What it owns
//!
//! * [`Inbox`] (`inbox.rs`): every received custom message the node hands to plugins is
//!   recorded first, with an increasing index, bounded by count, bytes and age; the commands
//!   `listcustommsgs` and `waitcustommsg` read it.
//! * [`StoredSends`] (`stored.rs`): messages for peers that are not connected
//!   (`sendcustommsg` with `delivery` `stored`), sent in order when the peer connects, with
//!   their fate; `listsendcustommsgs` and `cancelsendcustommsg`.
//! * The commands (`commands/`), registered into the RPC dispatcher by [`Delivery::register`].
//!
//! # What it must not touch
//!
//! The database (the node implements [`InboxStore`] and [`SendStore`]), sockets (it sends
//! through the peer manager) and the routing of received messages (the node's custom-message
//! router calls [`Inbox::record`]).
//!
//! # Wiring
//!
//! ```text
//! Delivery::new(inbox_store or None, send_store, manager, limits)
//!   ─▶ register(&mut dispatcher)    listcustommsgs, waitcustommsg, listsendcustommsgs,
//!                                   cancelsendcustommsg
//!   ─▶ inbox() ─▶ router: record(peer, message) before the plugins see it
//!   ─▶ stored_sends() ─▶ NodeControl::stored_sends, for sendcustommsg's `stored`
//! ```

#![forbid(unsafe_code)]

mod commands;
mod inbox;
mod store;
mod stored;

#[cfg(test)]
mod memory;

use std::sync::Arc;

use node_config::Limits;
use peer_manager::PeerManager;
use rpc::{CommandTaken, Dispatcher};

pub use inbox::{Inbox, InboxConfig};
pub use store::{
    InboxBounds, InboxStore, ReceivedMessage, SendStatus, SendStore, StoreFailure, StoredSend,
};
pub use stored::{CancelError, StoredConfig, StoredSends, SubmitError, RESOLVED_KEPT};

/// Delivery for one node.
#[derive(Debug)]
pub struct Delivery {
    inbox: Option<Arc<Inbox>>,
    stored: Arc<StoredSends>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Delivery {
    /// Delivery with the inbox in `inbox_store` (`None`: `--custommsg-inbox=false`) and
    /// stored sends in `send_store`, sent through `manager`, bounded by `limits`. Starts the
    /// inbox's pruning task and the stored sends' watcher, so it must run inside a tokio
    /// runtime.
    ///
    /// # Errors
    /// The store failed while the inbox was opened.
    pub fn new(
        inbox_store: Option<Arc<dyn InboxStore>>,
        send_store: Arc<dyn SendStore>,
        manager: PeerManager,
        limits: &Limits,
    ) -> Result<Delivery, StoreFailure> {
        let inbox = inbox_store
            .map(|store| Inbox::open(store, InboxConfig::from_limits(limits)).map(Arc::new))
            .transpose()?;
        let stored = StoredSends::new(send_store, manager, StoredConfig::from_limits(limits));
        let mut tasks = vec![stored.watch()];
        tasks.extend(inbox.as_ref().map(Inbox::spawn_pruner));
        Ok(Delivery {
            inbox,
            stored,
            tasks,
        })
    }

    /// The stored sends.
    pub fn stored_sends(&self) -> &Arc<StoredSends> {
        &self.stored
    }

    /// The inbox, unless it is off.
    pub fn inbox(&self) -> Option<&Arc<Inbox>> {
        self.inbox.as_ref()
    }

    /// Adds `listcustommsgs`, `waitcustommsg` (they explain that the inbox is off when it
    /// is), `listsendcustommsgs` and `cancelsendcustommsg` to `dispatcher`.
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
        dispatcher.register(Arc::new(commands::listsendcustommsgs::ListSendCustomMsgs(
            self.stored.clone(),
        )))?;
        dispatcher.register(Arc::new(
            commands::cancelsendcustommsg::CancelSendCustomMsg(self.stored.clone()),
        ))?;
        Ok(())
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
