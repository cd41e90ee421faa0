//! The durable inbox: every custom message the node hands to plugins is first recorded with an
//! increasing index, so a plugin (or any RPC client) can list what came and wait for what
//! comes next, and resume after a restart of its own or of the node from the last index it
//! saw, as CLN's `waitanyinvoice` does with `lastpay_index`.
//!
//! Bounds: count, payload bytes and age (the `custommsg-inbox-*` limits). Any peer can send
//! custom messages, so the inbox drops its oldest messages rather than grow; a client that
//! falls further behind than the bounds loses the oldest, and sees the gap in the indexes.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use node_config::Limits;
use noise_transport::PublicKey;
use tokio::sync::watch;

use crate::store::{InboxBounds, InboxStore, ReceivedMessage, StoreFailure};

/// How the inbox is bounded, from the `custommsg-inbox-*` limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxConfig {
    /// Messages kept.
    pub max_count: u64,
    /// Payload bytes kept.
    pub max_bytes: u64,
    /// How long a message is kept.
    pub max_age: Duration,
}

impl InboxConfig {
    /// The bounds `limits` set.
    pub fn from_limits(limits: &Limits) -> InboxConfig {
        InboxConfig {
            max_count: limits.custommsg_inbox_max_count,
            max_bytes: limits.custommsg_inbox_max_bytes,
            max_age: limits.custommsg_inbox_max_age,
        }
    }

    fn bounds(&self, now: u64) -> InboxBounds {
        InboxBounds {
            max_count: self.max_count,
            max_bytes: self.max_bytes,
            received_after: now.saturating_sub(self.max_age.as_secs()),
        }
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The inbox of one node.
pub struct Inbox {
    store: Arc<dyn InboxStore>,
    config: InboxConfig,
    /// The largest index recorded; waiters watch it.
    latest: watch::Sender<u64>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("config", &self.config)
            .field("latest", &*self.latest.borrow())
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// The inbox kept in `store`, bounded by `config`; drops what is already out of bounds.
    ///
    /// # Errors
    /// The store failed.
    pub fn open(store: Arc<dyn InboxStore>, config: InboxConfig) -> Result<Inbox, StoreFailure> {
        store.prune_received(&config.bounds(unix_now()))?;
        let latest = store.last_received_index()?;
        Ok(Inbox {
            store,
            config,
            latest: watch::Sender::new(latest),
        })
    }

    /// Records a message from `peer` and wakes the waiters; returns its index.
    ///
    /// # Errors
    /// The store failed; the message is not in the inbox.
    pub fn record(&self, peer: &PublicKey, payload: &[u8]) -> Result<u64, StoreFailure> {
        let now = unix_now();
        let index = self.store.append_received(
            &peer.serialize(),
            payload,
            now,
            &self.config.bounds(now),
        )?;
        self.latest.send_replace(index);
        Ok(index)
    }

    /// Drops what has aged out (messages also go when newer ones push them out); returns how
    /// many went.
    ///
    /// # Errors
    /// The store failed.
    pub fn prune(&self) -> Result<u64, StoreFailure> {
        self.store.prune_received(&self.config.bounds(unix_now()))
    }

    /// Messages after index `since`, oldest first (see [`InboxStore::list_received`]).
    ///
    /// # Errors
    /// The store failed.
    pub fn list(
        &self,
        peer: Option<&PublicKey>,
        since: u64,
        limit: Option<u64>,
    ) -> Result<Vec<ReceivedMessage>, StoreFailure> {
        let peer = peer.map(PublicKey::serialize);
        self.store.list_received(peer.as_ref(), since, limit)
    }

    /// The first message with an index above `since`, waiting for one to arrive; `None` if
    /// `timeout` passes first.
    ///
    /// # Errors
    /// The store failed.
    pub async fn wait(
        &self,
        since: u64,
        timeout: Option<Duration>,
    ) -> Result<Option<ReceivedMessage>, StoreFailure> {
        let deadline = timeout.map(|timeout| tokio::time::Instant::now() + timeout);
        let mut latest = self.latest.subscribe();
        loop {
            // Marked seen before the store is read, so a message recorded after the read
            // wakes the wait below.
            latest.borrow_and_update();
            if let Some(first) = self.store.list_received(None, since, Some(1))?.pop() {
                return Ok(Some(first));
            }
            let changed = latest.changed();
            let woke = match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, changed).await.ok(),
                None => Some(changed.await),
            };
            match woke {
                None => return Ok(None),
                // The inbox is gone: nothing more will come.
                Some(Err(_)) => return Ok(None),
                Some(Ok(())) => {}
            }
        }
    }

    /// Every minute, drops what has aged out, until the task is aborted.
    pub fn spawn_pruner(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let inbox = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(60));
            loop {
                ticks.tick().await;
                let Some(inbox) = inbox.upgrade() else { return };
                if let Err(failure) = inbox.prune() {
                    tracing::warn!(subsystem = "inbox", "could not prune the inbox: {failure}");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::memory::MemoryStore;
    use peer_manager::testing::node_id;

    fn config(max_count: u64, max_bytes: u64) -> InboxConfig {
        InboxConfig {
            max_count,
            max_bytes,
            max_age: Duration::from_secs(3600),
        }
    }

    fn inbox(config: InboxConfig) -> (Arc<MemoryStore>, Inbox) {
        let store = Arc::new(MemoryStore::default());
        let inbox = Inbox::open(store.clone(), config).unwrap();
        (store, inbox)
    }

    #[test]
    fn indexes_increase_and_survive_pruning() {
        let (_, inbox) = inbox(config(3, 1 << 20));
        let indexes: Vec<u64> = (0..5u8)
            .map(|i| inbox.record(&node_id(1), &[0x77, 0x77, i]).unwrap())
            .collect();
        assert_eq!(indexes, [1, 2, 3, 4, 5]);
        // Only the newest three are kept, with their original indexes.
        let kept: Vec<u64> = inbox
            .list(None, 0, None)
            .unwrap()
            .iter()
            .map(|m| m.index)
            .collect();
        assert_eq!(kept, [3, 4, 5]);
    }

    #[test]
    fn bytes_bound_drops_the_oldest() {
        let (_, inbox) = inbox(config(100, 10));
        inbox.record(&node_id(1), &[1; 6]).unwrap();
        inbox.record(&node_id(1), &[2; 6]).unwrap();
        let kept = inbox.list(None, 0, None).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].payload, [2; 6]);
    }

    #[test]
    fn list_filters_by_peer_since_and_limit() {
        let (_, inbox) = inbox(config(100, 1 << 20));
        for i in 0..6u8 {
            let peer = node_id(1 + i % 2);
            inbox.record(&peer, &[0x77, 0x77, i]).unwrap();
        }
        let from_2: Vec<u64> = inbox
            .list(Some(&node_id(2)), 0, None)
            .unwrap()
            .iter()
            .map(|m| m.index)
            .collect();
        assert_eq!(from_2, [2, 4, 6]);
        let page: Vec<u64> = inbox
            .list(None, 2, Some(2))
            .unwrap()
            .iter()
            .map(|m| m.index)
            .collect();
        assert_eq!(page, [3, 4]);
        let message = &inbox.list(None, 4, Some(1)).unwrap()[0];
        assert_eq!(message.peer, node_id(1).serialize());
        assert_eq!(message.payload, [0x77, 0x77, 4]);
    }

    #[tokio::test]
    async fn wait_returns_what_is_there_or_what_comes() {
        let (_, inbox) = inbox(config(100, 1 << 20));
        let inbox = Arc::new(inbox);
        inbox.record(&node_id(1), &[0x77, 0x77, 1]).unwrap();
        // Already there.
        let first = inbox.wait(0, None).await.unwrap().unwrap();
        assert_eq!(first.index, 1);
        // Not yet: it comes while we wait.
        let waiting = tokio::spawn({
            let inbox = inbox.clone();
            async move { inbox.wait(1, Some(Duration::from_secs(10))).await }
        });
        tokio::task::yield_now().await;
        inbox.record(&node_id(2), &[0x77, 0x77, 2]).unwrap();
        let second = waiting.await.unwrap().unwrap().unwrap();
        assert_eq!((second.index, second.payload), (2, vec![0x77, 0x77, 2]));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_gives_up_after_its_timeout() {
        let (_, inbox) = inbox(config(100, 1 << 20));
        assert_eq!(
            inbox.wait(0, Some(Duration::from_secs(5))).await.unwrap(),
            None
        );
    }

    #[test]
    fn a_store_failure_is_reported_and_nothing_is_recorded() {
        let (store, inbox) = inbox(config(100, 1 << 20));
        *store.failing.lock().unwrap() = Some("disk full".into());
        assert_eq!(
            inbox.record(&node_id(1), &[0x77, 0x77]),
            Err(StoreFailure("disk full".into()))
        );
        *store.failing.lock().unwrap() = None;
        assert!(inbox.list(None, 0, None).unwrap().is_empty());
        assert_eq!(*inbox.latest.borrow(), 0);
    }

    #[test]
    fn opening_drops_what_aged_out_and_finds_the_last_index() {
        let store = Arc::new(MemoryStore::default());
        let far_bounds = InboxBounds {
            max_count: 100,
            max_bytes: 1 << 20,
            received_after: 0,
        };
        let old = unix_now() - 7200;
        store
            .append_received(&[2; 33], &[1, 1], old, &far_bounds)
            .unwrap();
        store
            .append_received(&[2; 33], &[2, 2], unix_now(), &far_bounds)
            .unwrap();
        let inbox = Inbox::open(store, config(100, 1 << 20)).unwrap();
        let kept = inbox.list(None, 0, None).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].index, 2);
        assert_eq!(*inbox.latest.borrow(), 2);
    }
}
