//! The client's reassembly of reply chunks, for the requests it sent (notes §4.6).
//!
//! Replies are matched by (peer, 8-byte id), as CLN and lnmessage match them; chunks for any
//! other (peer, id) are ignored, so a peer can only fill the replies we await from it. Two
//! differences from CLN, both in the memory a peer can make us hold:
//!
//! * **The size cap is 64 MiB** ([`ClientConfig::max_reply_bytes`]), not 500 MiB.
//! * **A reply that stops arriving expires** ([`ClientConfig::partial_reply_timeout`], 60 s
//!   after its last chunk; the caller fails the call with [`crate::ClientError::TimedOut`]).
//!   Before the first chunk there is no timeout, as in CLN: the remote command may rightly
//!   take as long as it likes (`waitinvoice`), and holds no memory meanwhile.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::assembly::Assembly;
use crate::chunk::{Chunk, Direction, RequestId};
use crate::error::IdInUse;

/// The client's reassembly bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The most JSON bytes one reply may have. 64 MiB: a peer can make us hold this much per
    /// call we have outstanding with it, so CLN's 500 MiB (sized for a whole-graph
    /// `listchannels`, 71 MB in CLN's comment) is too generous for a default. The usual large
    /// replies (`listpeers`, `listfunds`, `listinvoices` of a busy node) are far below it; a
    /// caller that wants the whole graph passes a `filter` or raises this.
    pub max_reply_bytes: usize,
    /// How long after its last chunk a partly received reply is given up.
    /// 60 s, as for the server's partial requests: a node sends a reply's chunks back to back.
    pub partial_reply_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_reply_bytes: 64 * 1024 * 1024,
            partial_reply_timeout: Duration::from_secs(60),
        }
    }
}

/// What a pushed reply chunk did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyPushed {
    /// Not for us: a command chunk, or no request of ours has this (peer, id). CLN logs these
    /// at debug level.
    Ignored,
    /// Buffered; more to come.
    Pending,
    /// The whole reply: read it with [`crate::interpret_reply`]. The request is finished.
    Complete {
        /// The request id.
        id: RequestId,
        /// The reply's JSON text, unchecked.
        json: Vec<u8>,
    },
    /// The reply passed the size cap: the call fails with [`crate::ClientError::Oversize`] at
    /// once, and the rest of the reply is ignored.
    Oversize {
        /// The request id.
        id: RequestId,
    },
}

/// A reply we await.
#[derive(Debug, Default)]
struct Awaiting {
    json: Assembly,
    /// When the last chunk came; `None` until the first.
    last_chunk: Option<Instant>,
}

/// The replies the client awaits, by (peer, request id).
#[derive(Debug)]
pub struct Replies<P> {
    config: ClientConfig,
    awaiting: HashMap<(P, RequestId), Awaiting>,
}

impl<P: Eq + Hash + Clone> Replies<P> {
    /// Awaiting nothing.
    pub fn new(config: ClientConfig) -> Self {
        Replies {
            config,
            awaiting: HashMap::new(),
        }
    }

    /// Starts awaiting the reply to request `id` sent to `peer`. Call it before sending, so a
    /// quick reply cannot arrive unexpected.
    ///
    /// # Errors
    /// [`IdInUse`] if a call to `peer` already uses `id`: pick another.
    pub fn expect(&mut self, peer: P, id: RequestId) -> Result<(), IdInUse> {
        match self.awaiting.entry((peer, id)) {
            std::collections::hash_map::Entry::Occupied(_) => Err(IdInUse),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Awaiting::default());
                Ok(())
            }
        }
    }

    /// Whether the reply to `id` from `peer` is awaited.
    pub fn is_awaiting(&self, peer: &P, id: RequestId) -> bool {
        self.awaiting.contains_key(&(peer.clone(), id))
    }

    /// Stops awaiting a reply (the caller gave up, or the send failed). `false` if it was not
    /// awaited.
    pub fn cancel(&mut self, peer: &P, id: RequestId) -> bool {
        self.awaiting.remove(&(peer.clone(), id)).is_some()
    }

    /// Takes one chunk `peer` sent, arrived at `now`.
    pub fn push(&mut self, peer: &P, chunk: &Chunk<'_>, now: Instant) -> ReplyPushed {
        if chunk.kind.direction() != Direction::Reply {
            return ReplyPushed::Ignored;
        }
        let key = (peer.clone(), chunk.id);
        let Some(awaiting) = self.awaiting.get_mut(&key) else {
            return ReplyPushed::Ignored;
        };
        awaiting.json.push(chunk.json, self.config.max_reply_bytes);
        awaiting.last_chunk = Some(now);
        if awaiting.json.is_oversize() {
            self.awaiting.remove(&key);
            return ReplyPushed::Oversize { id: chunk.id };
        }
        if !chunk.kind.is_terminal() {
            return ReplyPushed::Pending;
        }
        match self.awaiting.remove(&key).and_then(|a| a.json.finish()) {
            Some(json) => ReplyPushed::Complete { id: chunk.id, json },
            None => ReplyPushed::Oversize { id: chunk.id },
        }
    }

    /// Gives up the partly received replies whose next chunk is overdue at `now`, and returns
    /// their calls, to be failed with [`crate::ClientError::TimedOut`].
    pub fn handle_timeout(&mut self, now: Instant) -> Vec<(P, RequestId)> {
        let timeout = self.config.partial_reply_timeout;
        let overdue = |awaiting: &Awaiting| {
            awaiting
                .last_chunk
                .is_some_and(|last| now.saturating_duration_since(last) >= timeout)
        };
        let expired: Vec<(P, RequestId)> = self
            .awaiting
            .iter()
            .filter(|(_, awaiting)| overdue(awaiting))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &expired {
            self.awaiting.remove(key);
        }
        expired
    }

    /// When [`Replies::handle_timeout`] next has something to do, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.config.partial_reply_timeout;
        self.awaiting
            .values()
            .filter_map(|awaiting| awaiting.last_chunk?.checked_add(timeout))
            .min()
    }

    /// Stops awaiting every reply from `peer` (it disconnected, so none can come; CLN's
    /// client waits forever) and returns their ids, so the caller can fail those calls.
    pub fn forget_peer(&mut self, peer: &P) -> Vec<RequestId> {
        let ids: Vec<RequestId> = self
            .awaiting
            .keys()
            .filter(|(p, _)| p == peer)
            .map(|(_, id)| *id)
            .collect();
        for id in &ids {
            self.awaiting.remove(&(peer.clone(), *id));
        }
        ids
    }

    /// Replies awaited.
    pub fn len(&self) -> usize {
        self.awaiting.len()
    }

    /// Whether no reply is awaited.
    pub fn is_empty(&self) -> bool {
        self.awaiting.is_empty()
    }

    /// Bytes of buffer held by partly received replies: at most `max_reply_bytes` each.
    pub fn buffered_bytes(&self) -> usize {
        self.awaiting.values().map(|a| a.json.capacity()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{split, ChunkKind};

    const A: RequestId = RequestId([0xaa; 8]);
    const B: RequestId = RequestId([0xbb; 8]);

    fn chunk(kind: ChunkKind, id: RequestId, json: &[u8]) -> Chunk<'_> {
        Chunk { kind, id, json }
    }

    fn more(id: RequestId, json: &[u8]) -> Chunk<'_> {
        chunk(ChunkKind::ReplyContinues, id, json)
    }

    fn last(id: RequestId, json: &[u8]) -> Chunk<'_> {
        chunk(ChunkKind::ReplyTerminal, id, json)
    }

    #[test]
    fn only_awaited_replies_are_assembled() {
        let now = Instant::now();
        let mut replies = Replies::new(ClientConfig::default());
        replies.expect(1, A).unwrap();
        assert_eq!(replies.expect(1, A), Err(IdInUse));
        replies.expect(2, A).unwrap();
        assert_eq!(replies.push(&1, &more(B, b"x"), now), ReplyPushed::Ignored);
        assert_eq!(replies.push(&3, &more(A, b"x"), now), ReplyPushed::Ignored);
        let command = chunk(ChunkKind::CommandTerminal, A, b"x");
        assert_eq!(replies.push(&1, &command, now), ReplyPushed::Ignored);
        // Two peers answering the same id, interleaved.
        assert_eq!(
            replies.push(&1, &more(A, b"{\"result\":"), now),
            ReplyPushed::Pending
        );
        assert_eq!(
            replies.push(&2, &more(A, b"{\"error\":"), now),
            ReplyPushed::Pending
        );
        assert_eq!(
            replies.push(&1, &last(A, b"1}"), now),
            ReplyPushed::Complete {
                id: A,
                json: b"{\"result\":1}".to_vec()
            }
        );
        assert!(!replies.is_awaiting(&1, A), "finished");
        assert_eq!(replies.push(&1, &last(A, b"1}"), now), ReplyPushed::Ignored);
        assert!(replies.cancel(&2, A));
        assert!(!replies.cancel(&2, A));
        assert!(replies.is_empty());
    }

    #[test]
    fn a_150_kb_reply_reassembles_byte_exact() {
        let now = Instant::now();
        let mut replies = Replies::new(ClientConfig::default());
        replies.expect("peer", A).unwrap();
        let json: Vec<u8> = (0..150_000u32).map(|i| (i % 241) as u8).collect();
        let mut outcome = ReplyPushed::Ignored;
        for chunk in split(Direction::Reply, A, &json) {
            outcome = replies.push(&"peer", &chunk, now);
        }
        assert_eq!(outcome, ReplyPushed::Complete { id: A, json });
    }

    #[test]
    fn an_oversize_reply_fails_at_once() {
        let now = Instant::now();
        let mut replies = Replies::new(ClientConfig {
            max_reply_bytes: 4,
            ..ClientConfig::default()
        });
        replies.expect(1, A).unwrap();
        replies.expect(1, B).unwrap();
        assert_eq!(
            replies.push(&1, &more(A, b"abcd"), now),
            ReplyPushed::Pending
        );
        assert!(replies.buffered_bytes() <= 4);
        assert_eq!(
            replies.push(&1, &more(A, b"e"), now),
            ReplyPushed::Oversize { id: A }
        );
        assert_eq!(replies.push(&1, &last(A, b"}"), now), ReplyPushed::Ignored);
        assert_eq!(
            replies.push(&1, &last(B, b"abcde"), now),
            ReplyPushed::Oversize { id: B }
        );
        assert!(replies.is_empty());
    }

    #[test]
    fn a_reply_that_stops_arriving_expires() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut replies = Replies::new(ClientConfig::default());
        replies.expect(1, A).unwrap();
        replies.expect(1, B).unwrap();
        // Nothing expires before a first chunk, however long the command runs.
        assert_eq!(replies.poll_timeout(), None);
        assert!(replies.handle_timeout(start + 3600 * second).is_empty());
        replies.push(&1, &more(A, b"x"), start);
        replies.push(&1, &more(A, b"y"), start + 50 * second);
        assert_eq!(replies.poll_timeout(), Some(start + 110 * second));
        assert!(replies.handle_timeout(start + 109 * second).is_empty());
        assert_eq!(replies.handle_timeout(start + 110 * second), [(1, A)]);
        assert_eq!(
            replies.push(&1, &last(A, b"z"), start),
            ReplyPushed::Ignored
        );
        assert!(replies.is_awaiting(&1, B));
    }

    #[test]
    fn a_disconnected_peer_fails_its_calls() {
        let mut replies = Replies::new(ClientConfig::default());
        replies.expect(1, A).unwrap();
        replies.expect(1, B).unwrap();
        replies.expect(2, A).unwrap();
        let mut gone = replies.forget_peer(&1);
        gone.sort();
        assert_eq!(gone, [A, B]);
        assert_eq!(replies.len(), 1);
    }
}
