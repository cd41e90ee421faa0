//! The server's reassembly of command chunks into whole requests (notes §4.3), with CLN's
//! bounds and two deliberate differences:
//!
//! * **Partial requests expire** ([`IncomingConfig::partial_timeout`], 60 s from their first
//!   chunk). CLN keeps them until they are replaced or evicted (notes §7.7). Clients never see
//!   this: a request that takes a minute to arrive was abandoned.
//! * **An oversize request gets an error reply** ([`Pushed::TooLarge`], answered with 19536
//!   `Request too large`). CLN drops it silently and leaves the client waiting forever (notes
//!   §7.6). CLN also keeps refusing a request id once it went oversize; here the id is free
//!   again after the terminal chunk.
//!
//! Memory is bounded whatever peers send: at most [`IncomingConfig::max_partials`] partial
//! requests, each holding at most [`IncomingConfig::max_request_bytes`] bytes of buffer.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

use crate::assembly::Assembly;
use crate::chunk::{Chunk, Direction, RequestId};

/// The server's reassembly bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingConfig {
    /// Partial requests kept across all peers; when one more starts, the oldest is dropped.
    /// 16: CLN's.
    pub max_partials: usize,
    /// The most JSON bytes one request may have. 1 MiB (1,048,576): CLN's; a request of
    /// exactly this size is accepted.
    pub max_request_bytes: usize,
    /// How long after its first chunk a partial request is dropped. 60 s: CLN's own client
    /// sends all chunks back to back, and lnmessage never splits a request, so a minute is
    /// ample on any link that can carry a 1 MiB request at all.
    pub partial_timeout: Duration,
}

impl Default for IncomingConfig {
    fn default() -> Self {
        IncomingConfig {
            max_partials: 16,
            max_request_bytes: 1024 * 1024,
            partial_timeout: Duration::from_secs(60),
        }
    }
}

/// What a pushed chunk did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing to do yet: the chunk was buffered (or, for a request already over the cap,
    /// dropped), or it was a reply chunk, which is the client side's business.
    Pending,
    /// A whole request: the JSON slices of this peer's chunks for `id`, in order.
    Complete {
        /// The request id, for the reply.
        id: RequestId,
        /// The request's JSON text, not yet checked in any way.
        json: Vec<u8>,
    },
    /// The terminal chunk of a request that passed the size cap: reply with
    /// [`crate::Refusal::TooLarge`].
    TooLarge {
        /// The request id, for the reply.
        id: RequestId,
    },
}

/// One peer's partial request.
#[derive(Debug)]
struct Partial {
    id: RequestId,
    json: Assembly,
    /// When its first chunk came: it expires `partial_timeout` later.
    started: Instant,
    /// Order of creation, for "drop the oldest" (several may start at the same `now`).
    seq: u64,
}

/// Partial requests by peer: at most one per peer, so nothing one peer sends can land in
/// another peer's request.
#[derive(Debug)]
pub struct Incoming<P> {
    config: IncomingConfig,
    // Keyed by peer ids the peers chose: the default SipHash with a random key keeps them from
    // choosing colliding ones; the order it iterates in never decides anything below.
    partials: HashMap<P, Partial>,
    next_seq: u64,
}

impl<P: Eq + Hash + Clone> Incoming<P> {
    /// No partial requests.
    pub fn new(config: IncomingConfig) -> Self {
        Incoming {
            config,
            partials: HashMap::new(),
            next_seq: 0,
        }
    }

    /// Takes one chunk `peer` sent, arrived at `now`. Partial requests whose time is up are
    /// dropped first, so a chunk for one of those starts afresh.
    ///
    /// A chunk whose id is not the peer's pending one drops the pending request (CLN: `New cmd
    /// from <peer>, replacing old`); if it is terminal it is a whole request by itself, and
    /// otherwise it starts a new partial request, dropping the oldest of all peers' partial
    /// requests if there are already `max_partials`.
    pub fn push(&mut self, peer: &P, chunk: &Chunk<'_>, now: Instant) -> Pushed {
        if chunk.kind.direction() != Direction::Command {
            return Pushed::Pending;
        }
        self.handle_timeout(now);
        let terminal = chunk.kind.is_terminal();
        let continues_pending = self
            .partials
            .get(peer)
            .is_some_and(|partial| partial.id == chunk.id);
        if !continues_pending {
            self.partials.remove(peer);
            if terminal {
                // The common case (lnmessage never splits): nothing is buffered.
                return match chunk.json.len() > self.config.max_request_bytes {
                    true => Pushed::TooLarge { id: chunk.id },
                    false => Pushed::Complete {
                        id: chunk.id,
                        json: chunk.json.to_vec(),
                    },
                };
            }
            if !self.make_room() {
                return Pushed::Pending;
            }
            self.next_seq += 1;
            let partial = Partial {
                id: chunk.id,
                json: Assembly::default(),
                started: now,
                seq: self.next_seq,
            };
            self.partials.insert(peer.clone(), partial);
        }
        let max = self.config.max_request_bytes;
        let Some(partial) = self.partials.get_mut(peer) else {
            return Pushed::Pending;
        };
        partial.json.push(chunk.json, max);
        if !terminal {
            return Pushed::Pending;
        }
        match self.partials.remove(peer).and_then(|p| p.json.finish()) {
            Some(json) => Pushed::Complete { id: chunk.id, json },
            None => Pushed::TooLarge { id: chunk.id },
        }
    }

    /// Drops the partial requests whose time is up at `now`. Call it when
    /// [`Incoming::poll_timeout`] has passed, to free their memory even if no chunk comes.
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.config.partial_timeout;
        self.partials
            .retain(|_, partial| now.saturating_duration_since(partial.started) < timeout);
    }

    /// When the next partial request expires, if any is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timeout = self.config.partial_timeout;
        self.partials
            .values()
            // An expiry past the end of `Instant` never comes.
            .filter_map(|partial| partial.started.checked_add(timeout))
            .min()
    }

    /// Drops `peer`'s partial request, if any: for a peer that disconnected (CLN keeps it
    /// until it is replaced or evicted; it could never be completed).
    pub fn forget_peer(&mut self, peer: &P) {
        self.partials.remove(peer);
    }

    /// Partial requests held.
    pub fn len(&self) -> usize {
        self.partials.len()
    }

    /// Whether no partial request is held.
    pub fn is_empty(&self) -> bool {
        self.partials.is_empty()
    }

    /// Bytes of buffer held by partial requests: at most `max_partials × max_request_bytes`.
    pub fn buffered_bytes(&self) -> usize {
        self.partials.values().map(|p| p.json.capacity()).sum()
    }

    /// Whether `peer` has a partial request, and its id.
    pub fn pending_id(&self, peer: &P) -> Option<RequestId> {
        self.partials.get(peer).map(|partial| partial.id)
    }

    /// Before one more partial request: drops the oldest while there are `max_partials`.
    /// `false` if none may be kept at all (`max_partials` 0).
    fn make_room(&mut self) -> bool {
        if self.config.max_partials == 0 {
            return false;
        }
        while self.partials.len() >= self.config.max_partials {
            let oldest = self
                .partials
                .iter()
                .min_by_key(|(_, partial)| partial.seq)
                .map(|(peer, _)| peer.clone());
            match oldest {
                Some(peer) => self.partials.remove(&peer),
                None => break,
            };
        }
        true
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
        chunk(ChunkKind::CommandContinues, id, json)
    }

    fn last(id: RequestId, json: &[u8]) -> Chunk<'_> {
        chunk(ChunkKind::CommandTerminal, id, json)
    }

    fn complete(id: RequestId, json: &[u8]) -> Pushed {
        Pushed::Complete {
            id,
            json: json.to_vec(),
        }
    }

    #[test]
    fn a_single_terminal_chunk_is_a_whole_request_and_buffers_nothing() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        assert_eq!(incoming.push(&1, &last(A, b"{}"), now), complete(A, b"{}"));
        assert!(incoming.is_empty());
        assert_eq!(incoming.poll_timeout(), None);
    }

    #[test]
    fn interleaved_chunks_from_two_peers_stay_apart() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        // Both peers use the same request id: ids are per peer.
        assert_eq!(
            incoming.push(&1, &more(A, b"{\"a\":"), now),
            Pushed::Pending
        );
        assert_eq!(incoming.push(&2, &more(A, b"[1,"), now), Pushed::Pending);
        assert_eq!(incoming.push(&1, &more(A, b"\"x"), now), Pushed::Pending);
        assert_eq!(incoming.push(&2, &more(A, b"2,"), now), Pushed::Pending);
        assert_eq!(incoming.len(), 2);
        assert_eq!(
            incoming.push(&2, &last(A, b"3]"), now),
            complete(A, b"[1,2,3]")
        );
        assert_eq!(
            incoming.push(&1, &last(A, b"\"}"), now),
            complete(A, b"{\"a\":\"x\"}")
        );
        assert!(incoming.is_empty());
    }

    #[test]
    fn reply_chunks_are_not_the_servers() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        let reply = chunk(ChunkKind::ReplyTerminal, A, b"{}");
        assert_eq!(incoming.push(&1, &reply, now), Pushed::Pending);
        incoming.push(&1, &more(A, b"x"), now);
        let reply = chunk(ChunkKind::ReplyContinues, A, b"y");
        assert_eq!(incoming.push(&1, &reply, now), Pushed::Pending);
        assert_eq!(incoming.push(&1, &last(A, b"z"), now), complete(A, b"xz"));
    }

    #[test]
    fn a_new_id_replaces_the_pending_request() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        incoming.push(&1, &more(A, b"old "), now);
        assert_eq!(incoming.pending_id(&1), Some(A));
        // A continues chunk with another id starts afresh...
        incoming.push(&1, &more(B, b"new "), now);
        assert_eq!(incoming.pending_id(&1), Some(B));
        assert_eq!(incoming.len(), 1);
        assert_eq!(
            incoming.push(&1, &last(B, b"end"), now),
            complete(B, b"new end")
        );
        // ...and a terminal chunk with another id is a whole request by itself (CLN's
        // spurious "Invalid JSON" for interleaved requests, notes §7.6).
        incoming.push(&1, &more(A, b"old "), now);
        assert_eq!(incoming.push(&1, &last(B, b"{}"), now), complete(B, b"{}"));
        assert!(incoming.is_empty(), "the old request is gone");
        assert_eq!(incoming.push(&1, &last(A, b"!"), now), complete(A, b"!"));
    }

    #[test]
    fn a_seventeenth_partial_request_drops_the_oldest() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        for peer in 0..16 {
            incoming.push(&peer, &more(A, &[b'0' + peer as u8]), now);
        }
        assert_eq!(incoming.len(), 16);
        // Continuing or replacing its own request does not make a peer new.
        incoming.push(&0, &more(A, b"+"), now);
        incoming.push(&1, &more(B, b"b"), now);
        assert_eq!(incoming.len(), 16);
        incoming.push(&16, &more(A, b"g"), now);
        assert_eq!(incoming.len(), 16);
        // Peer 0 was the oldest: its request is gone, so its terminal chunk stands alone.
        assert_eq!(incoming.pending_id(&0), None);
        assert_eq!(incoming.push(&0, &last(A, b"."), now), complete(A, b"."));
        // Peer 1's replacement counts from when it was made, so peer 2 is now the oldest.
        incoming.push(&17, &more(A, b"h"), now);
        assert_eq!(incoming.pending_id(&2), None);
        assert_eq!(incoming.push(&1, &last(B, b"."), now), complete(B, b"b."));
        assert_eq!(incoming.push(&3, &last(A, b"."), now), complete(A, b"3."));
        assert_eq!(incoming.push(&16, &last(A, b"."), now), complete(A, b"g."));
    }

    #[test]
    fn one_mebibyte_is_accepted_and_one_byte_more_refused() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        let max = 1_048_576;
        for size in [max, max + 1] {
            let json: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
            let mut outcome = Pushed::Pending;
            for chunk in split(Direction::Command, A, &json) {
                outcome = incoming.push(&1, &chunk, now);
                assert!(
                    incoming.buffered_bytes() <= max,
                    "never holds more than the cap"
                );
            }
            match size == max {
                true => assert_eq!(outcome, Pushed::Complete { id: A, json }),
                false => assert_eq!(outcome, Pushed::TooLarge { id: A }),
            }
            assert!(incoming.is_empty());
        }
        // The cap applies to one-chunk requests too.
        let mut small = Incoming::new(IncomingConfig {
            max_request_bytes: 3,
            ..IncomingConfig::default()
        });
        assert_eq!(small.push(&1, &last(A, b"abc"), now), complete(A, b"abc"));
        assert_eq!(
            small.push(&1, &last(A, b"abcd"), now),
            Pushed::TooLarge { id: A }
        );
        // An oversize request holds no memory while the rest of it arrives, and its id is
        // free again afterwards (CLN keeps refusing it).
        small.push(&1, &more(A, b"ab"), now);
        small.push(&1, &more(A, b"cd"), now);
        assert_eq!((small.len(), small.buffered_bytes()), (1, 0));
        assert_eq!(small.push(&1, &more(A, b"e"), now), Pushed::Pending);
        assert_eq!(
            small.push(&1, &last(A, b""), now),
            Pushed::TooLarge { id: A }
        );
        assert_eq!(small.push(&1, &last(A, b"ok"), now), complete(A, b"ok"));
    }

    #[test]
    fn partial_requests_expire_a_minute_after_their_first_chunk() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut incoming = Incoming::new(IncomingConfig::default());
        incoming.push(&1, &more(A, b"a"), start);
        incoming.push(&2, &more(A, b"x"), start + 10 * second);
        assert_eq!(incoming.poll_timeout(), Some(start + 60 * second));
        // Still alive just before its time, however recently it last grew.
        incoming.push(&1, &more(A, b"b"), start + 59 * second);
        incoming.handle_timeout(start + 60 * second - Duration::from_nanos(1));
        assert_eq!(incoming.len(), 2);
        incoming.handle_timeout(start + 60 * second);
        assert_eq!(incoming.pending_id(&1), None);
        assert_eq!(incoming.poll_timeout(), Some(start + 70 * second));
        // A chunk arriving after the expiry starts afresh; push expires by itself too.
        let late = start + 70 * second;
        assert_eq!(incoming.push(&1, &last(A, b"c"), late), complete(A, b"c"));
        assert!(incoming.is_empty(), "peer 2's request expired at 70 s");
        assert_eq!(incoming.poll_timeout(), None);
        // A clock going backwards expires nothing.
        incoming.push(&3, &more(A, b"q"), late);
        incoming.handle_timeout(start);
        assert_eq!(incoming.len(), 1);
    }

    #[test]
    fn forgetting_a_peer_and_degenerate_configs() {
        let now = Instant::now();
        let mut incoming = Incoming::new(IncomingConfig::default());
        incoming.push(&1, &more(A, b"a"), now);
        incoming.forget_peer(&1);
        assert!(incoming.is_empty());
        let mut none = Incoming::new(IncomingConfig {
            max_partials: 0,
            partial_timeout: Duration::MAX,
            ..IncomingConfig::default()
        });
        assert_eq!(none.push(&1, &more(A, b"a"), now), Pushed::Pending);
        assert!(none.is_empty());
        assert_eq!(none.push(&1, &last(A, b"b"), now), complete(A, b"b"));
        let mut forever = Incoming::new(IncomingConfig {
            partial_timeout: Duration::MAX,
            ..IncomingConfig::default()
        });
        forever.push(&1, &more(A, b"a"), now);
        assert_eq!(forever.poll_timeout(), None, "no overflow, no expiry");
        forever.handle_timeout(now + Duration::from_secs(86_400));
        assert_eq!(forever.len(), 1);
    }
}
