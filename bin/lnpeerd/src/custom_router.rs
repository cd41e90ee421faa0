//! Where received custom messages go: the node's own protocols first, by message type
//! (commando's four types to remote control; LSPS0's 37913 to the LSPS client when it awaits
//! an answer from that peer, or to the LSPS service when it is on), and everything else to the
//! durable inbox and then the plugins (the `custommsg` notification and hook chain). A message is in the inbox
//! before any plugin sees it, so a plugin that reads the inbox after a hook finds it there. It is the peer manager's one custom-message
//! sink: per connection, one task takes the connection's messages in order and routes each.
//! Waiting for room in the plugins' queue holds the connection's reader back (backpressure on
//! that peer only); the node's protocols never wait, they hand work to tasks of their own.

use std::sync::Arc;

use delivery::Inbox;
use lsps::Lsps;
use noise_transport::PublicKey;
use peer_manager::CustomMessageSink;
use remote_control::RemoteControl;
use tokio::sync::mpsc;

/// Custom messages a connection may have waiting for the router before its reader waits.
const ROUTER_QUEUE_MESSAGES: usize = 64;

/// The node's custom-message sink.
pub(crate) struct CustomRouter {
    pub(crate) remote: Arc<RemoteControl>,
    pub(crate) lsps: Arc<Lsps>,
    /// `None` with `--custommsg-inbox=false`.
    pub(crate) inbox: Option<Arc<Inbox>>,
    pub(crate) plugins: Arc<dyn CustomMessageSink>,
}

impl CustomMessageSink for CustomRouter {
    fn open(&self, id: PublicKey) -> mpsc::Sender<Vec<u8>> {
        let (sender, mut queue) = mpsc::channel::<Vec<u8>>(ROUTER_QUEUE_MESSAGES);
        let remote = self.remote.clone();
        let lsps = self.lsps.clone();
        let inbox = self.inbox.clone();
        let plugins = self.plugins.clone();
        tokio::spawn(async move {
            // Opened on the first message for the plugins, so a connection that only speaks
            // commando starts no plugin worker.
            let mut to_plugins = None;
            while let Some(message) = queue.recv().await {
                let ty = message
                    .get(..2)
                    .map(|t| u16::from_be_bytes([t[0], t[1]]))
                    .unwrap_or_default();
                if RemoteControl::claims(ty) {
                    remote.handle_custom(id, &message);
                    continue;
                }
                if lsps.handle_custom(id, &message) {
                    continue;
                }
                if let Some(inbox) = &inbox {
                    // A store failure loses the record, not the message: plugins still get it.
                    if let Err(failure) = inbox.record(&id, &message) {
                        tracing::warn!(node_id = %id, subsystem = "inbox", "custom message not recorded: {failure}");
                    }
                }
                let to_plugins = to_plugins.get_or_insert_with(|| plugins.open(id));
                if to_plugins.send(message).await.is_err() {
                    tracing::debug!(node_id = %id, subsystem = "connectd", "plugin worker gone: custom message dropped");
                }
            }
        });
        sender
    }
}
