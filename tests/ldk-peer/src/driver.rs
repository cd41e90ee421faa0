//! The node's background tasks: accepting connections, and the event loop that does what
//! LDK's `lightning-background-processor` would (events, persistence, timer ticks, flushing
//! queued messages), cut down to what this node has.
//!
//! Both run until aborted (`LdkNode::shutdown` or drop).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lightning::events::{Event, EventsProvider, ReplayEvent};
use lightning::ln::msgs::OnionMessageHandler;
use lightning::util::logger::Logger;
use lightning::util::persist::{
    KVStoreSync, CHANNEL_MANAGER_PERSISTENCE_KEY, CHANNEL_MANAGER_PERSISTENCE_PRIMARY_NAMESPACE,
    CHANNEL_MANAGER_PERSISTENCE_SECONDARY_NAMESPACE,
};
use lightning::util::ser::Writeable;
use lightning::{log_debug, log_warn};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::chain::MemoryStore;
use crate::liquidity::LspsHandler;
use crate::log::NodeLogger;
use crate::node::spawn_connection;
use crate::types::{LdkChannelManager, LdkOnionMessenger, LdkPeerManager};

/// LDK's period for `PeerManager` and `OnionMessenger` ticks (its background processor's).
const PEER_TICK: Duration = Duration::from_secs(10);
/// LDK's period for `ChannelManager` ticks (its background processor's `FRESHNESS_TIMER`).
const CHANNEL_MANAGER_TICK: Duration = Duration::from_secs(60);
/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` and hands each to LDK.
pub(crate) async fn accept(
    listener: TcpListener,
    peer_manager: Arc<LdkPeerManager>,
    connections: Arc<Mutex<JoinSet<()>>>,
    logger: Arc<NodeLogger>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                log_warn!(logger, "Accepting a connection failed: {error}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match stream.into_std() {
            Ok(stream) => spawn_connection(
                &connections,
                lightning_net_tokio::setup_inbound(Arc::clone(&peer_manager), stream),
            ),
            Err(error) => log_warn!(logger, "Dropping an accepted connection: {error}"),
        }
    }
}

/// What the event loop drives.
pub(crate) struct EventLoop {
    pub(crate) peer_manager: Arc<LdkPeerManager>,
    pub(crate) channel_manager: Arc<LdkChannelManager>,
    pub(crate) messenger: Arc<LdkOnionMessenger>,
    pub(crate) lsps: Arc<LspsHandler>,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) logger: Arc<NodeLogger>,
    pub(crate) timer_ticks: bool,
}

impl EventLoop {
    /// Waits for LDK to have work, does it, and writes out whatever it queued.
    pub(crate) async fn run(self) {
        let mut peer_tick = interval_at(Instant::now() + PEER_TICK, PEER_TICK);
        peer_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut channel_tick =
            interval_at(Instant::now() + CHANNEL_MANAGER_TICK, CHANNEL_MANAGER_TICK);
        channel_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = self.channel_manager.get_event_or_persistence_needed_future() => {
                    self.channel_manager_events();
                }
                () = self.lsps.manager().get_pending_msgs_or_needs_persist_future() => {
                    if let Err(error) = self.lsps.manager().persist().await {
                        log_warn!(self.logger, "Persisting the liquidity manager failed: {error}");
                    }
                }
                _ = peer_tick.tick(), if self.timer_ticks => {
                    self.peer_manager.timer_tick_occurred();
                    self.messenger.timer_tick_occurred();
                }
                _ = channel_tick.tick(), if self.timer_ticks => {
                    self.channel_manager.timer_tick_occurred();
                }
            }
            self.peer_manager.process_events();
        }
    }

    /// The `ChannelManager`'s events are logged and dropped: with no chain and no inbound
    /// channels, none asks for an action this node could take. Its state goes to the store
    /// when it asks, as a real node's would.
    fn channel_manager_events(&self) {
        let logger = &self.logger;
        self.channel_manager
            .process_pending_events(&|event: Event| -> Result<(), ReplayEvent> {
                log_debug!(logger, "Ignoring ChannelManager event {event:?}");
                Ok(())
            });
        if self.channel_manager.get_and_clear_needs_persistence() {
            let written = self.store.write(
                CHANNEL_MANAGER_PERSISTENCE_PRIMARY_NAMESPACE,
                CHANNEL_MANAGER_PERSISTENCE_SECONDARY_NAMESPACE,
                CHANNEL_MANAGER_PERSISTENCE_KEY,
                self.channel_manager.encode(),
            );
            if let Err(error) = written {
                log_warn!(self.logger, "Persisting the ChannelManager failed: {error}");
            }
        }
    }
}
