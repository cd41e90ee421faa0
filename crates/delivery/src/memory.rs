//! An in-memory store for the unit tests, with the same rules as the node's SQLite one:
//! indexes never reused, the oldest dropped first.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::store::{InboxBounds, InboxStore, ReceivedMessage, StoreFailure};

#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    received: Mutex<(VecDeque<ReceivedMessage>, u64)>,
    /// When set, every call fails with this text.
    pub(crate) failing: Mutex<Option<String>>,
}

impl MemoryStore {
    fn check(&self) -> Result<(), StoreFailure> {
        match &*self.failing.lock().unwrap() {
            Some(text) => Err(StoreFailure(text.clone())),
            None => Ok(()),
        }
    }
}

fn prune(messages: &mut VecDeque<ReceivedMessage>, bounds: &InboxBounds) -> u64 {
    let mut bytes: u64 = messages.iter().map(|m| m.payload.len() as u64).sum();
    let mut removed = 0;
    while let Some(oldest) = messages.front() {
        let over = messages.len() as u64 > bounds.max_count
            || bytes > bounds.max_bytes
            || oldest.received_at < bounds.received_after;
        if !over {
            break;
        }
        bytes -= oldest.payload.len() as u64;
        messages.pop_front();
        removed += 1;
    }
    removed
}

impl InboxStore for MemoryStore {
    fn append_received(
        &self,
        peer: &[u8; 33],
        payload: &[u8],
        received_at: u64,
        bounds: &InboxBounds,
    ) -> Result<u64, StoreFailure> {
        self.check()?;
        let mut guard = self.received.lock().unwrap();
        let (messages, last) = &mut *guard;
        *last += 1;
        messages.push_back(ReceivedMessage {
            index: *last,
            peer: *peer,
            payload: payload.to_vec(),
            received_at,
        });
        prune(messages, bounds);
        Ok(*last)
    }

    fn prune_received(&self, bounds: &InboxBounds) -> Result<u64, StoreFailure> {
        self.check()?;
        Ok(prune(&mut self.received.lock().unwrap().0, bounds))
    }

    fn list_received(
        &self,
        peer: Option<&[u8; 33]>,
        since: u64,
        limit: Option<u64>,
    ) -> Result<Vec<ReceivedMessage>, StoreFailure> {
        self.check()?;
        let guard = self.received.lock().unwrap();
        Ok(guard
            .0
            .iter()
            .filter(|m| m.index > since && peer.is_none_or(|p| *p == m.peer))
            .take(limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX)))
            .cloned()
            .collect())
    }

    fn last_received_index(&self) -> Result<u64, StoreFailure> {
        self.check()?;
        Ok(self.received.lock().unwrap().1)
    }
}
