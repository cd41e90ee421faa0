//! Fuzz target bodies, shared by `fuzz/fuzz_targets/commando_*` and the corpus replay tests,
//! so a crash found once stays fixed under a plain `cargo test`. Only built with the `fuzzing`
//! feature.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::chunk::{Chunk, ChunkKind, Direction, RequestId};
use crate::client::interpret_reply;
use crate::incoming::{Incoming, IncomingConfig, Pushed};
use crate::replies::{ClientConfig, Replies, ReplyPushed};
use crate::reply::response_body;
use crate::request::parse_request;

/// Peers in a run: more than the largest `max_partials` below, so eviction happens.
const PEERS: u8 = 6;
/// Partial requests and replies expire after this in the fuzz runs.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Chunk reassembly on both sides. The first byte picks small bounds (1 to 4 partial requests,
/// 16 to 128 bytes per request or reply) so that eviction and the size cap are reached. Then
/// each event is a header byte (the peer is its low five bits mod 6, the operation its top
/// three bits), a time step byte (0 to 15 s, low four bits), and the operation's bytes:
///
/// * 0–1: a raw custom message (a length byte, then that many bytes) through
///   [`Chunk::decode`];
/// * 2–4: a commando chunk: a selector byte (kind in bits 0–1, one of four ids in bits 2–3),
///   then a length-prefixed JSON slice;
/// * 5: the client starts awaiting a reply from the peer (id from the next byte);
/// * 6: both sides' timers fire;
/// * 7: the peer disconnects.
///
/// Server-side invariants: partial requests and their buffers stay within their bounds and
/// expire on time; a complete request is the concatenation of a suffix of that peer's chunks
/// for that id since it last started a request (all of them unless the reassembler dropped
/// its partial request meanwhile, by eviction or expiry), never longer than the cap; an
/// oversize one really was; nothing of another peer's ever appears. A complete request that
/// parses makes a response that carries its id. Client-side, a model predicts every outcome
/// exactly: which chunks are ignored, each complete reply's bytes, oversize, and expiries.
pub fn chunk_reassembly(data: &[u8]) {
    let mut input = Input(data);
    let Some(bounds) = input.byte() else {
        return;
    };
    let cap = 16usize << ((bounds >> 2) & 3);
    let max_partials = 1 + usize::from(bounds & 3);
    let mut server = ServerModel::new(IncomingConfig {
        max_partials,
        max_request_bytes: cap,
        partial_timeout: TIMEOUT,
    });
    let mut client = ClientModel::new(ClientConfig {
        max_reply_bytes: cap,
        partial_reply_timeout: TIMEOUT,
    });
    let mut now = Instant::now();
    while let (Some(header), Some(step)) = (input.byte(), input.byte()) {
        now += Duration::from_secs(u64::from(step & 15));
        let peer = (header & 0x1f) % PEERS;
        match header >> 5 {
            0 | 1 => {
                let message = input.slice();
                if let Some(chunk) = Chunk::decode(message) {
                    assert_eq!(chunk.to_bytes(), message, "re-encoding changed the message");
                    server.push(peer, &chunk, now);
                    client.push(peer, &chunk, now);
                }
            }
            2..=4 => {
                let selector = input.byte().unwrap_or(0);
                let chunk = Chunk {
                    kind: ChunkKind::ALL[usize::from(selector & 3)],
                    id: small_id(selector >> 2),
                    json: input.slice(),
                };
                server.push(peer, &chunk, now);
                client.push(peer, &chunk, now);
            }
            5 => client.expect(peer, small_id(input.byte().unwrap_or(0))),
            6 => {
                server.handle_timeout(now);
                client.handle_timeout(now);
            }
            _ => {
                server.incoming.forget_peer(&peer);
                server.runs.remove(&peer);
                client.forget_peer(peer);
            }
        }
        assert!(server.incoming.len() <= max_partials);
        assert_eq!(
            server.incoming.poll_timeout().is_some(),
            !server.incoming.is_empty()
        );
        assert!(server.incoming.buffered_bytes() <= max_partials * cap);
        assert!(client.replies.buffered_bytes() <= client.replies.len() * cap);
    }
}

/// One of four ids, so chunks of one request often meet.
fn small_id(selector: u8) -> RequestId {
    RequestId([0, 0, 0, 0, 0, 0, 0, selector & 3])
}

/// The fuzz input, read front to back; reading past the end gives nothing.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    /// A length byte, then up to that many bytes.
    fn slice(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte().unwrap_or(0));
        let (slice, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        slice
    }
}

/// What one peer has sent since it last started a request: the CLN rule (a new id starts
/// afresh) without the bounds, so anything the bounds did can only shorten a request.
struct Run {
    id: RequestId,
    chunks: Vec<Vec<u8>>,
    started: Instant,
    /// The reassembler dropped this peer's partial request (evicted, or expired) at some
    /// point, so the request it completes may lack a prefix.
    disturbed: bool,
}

struct ServerModel {
    incoming: Incoming<u8>,
    config: IncomingConfig,
    runs: HashMap<u8, Run>,
}

impl ServerModel {
    fn new(config: IncomingConfig) -> Self {
        ServerModel {
            incoming: Incoming::new(config.clone()),
            config,
            runs: HashMap::new(),
        }
    }

    fn push(&mut self, peer: u8, chunk: &Chunk<'_>, now: Instant) {
        if chunk.kind.direction() != Direction::Command {
            assert_eq!(self.incoming.push(&peer, chunk, now), Pushed::Pending);
            return;
        }
        let continues = self.runs.get(&peer).is_some_and(|run| run.id == chunk.id);
        if !continues {
            let run = Run {
                id: chunk.id,
                chunks: Vec::new(),
                started: now,
                disturbed: false,
            };
            self.runs.insert(peer, run);
        }
        let Some(run) = self.runs.get_mut(&peer) else {
            return;
        };
        run.chunks.push(chunk.json.to_vec());
        let before = self.pending();
        let pushed = self.incoming.push(&peer, chunk, now);
        self.mark_dropped(&before, Some(peer));
        if let Some(run) = self.runs.get_mut(&peer) {
            // Its own partial request expired inside this push, and may have restarted.
            if now.saturating_duration_since(run.started) >= TIMEOUT {
                run.disturbed = true;
            }
        }
        if !chunk.kind.is_terminal() {
            assert_eq!(pushed, Pushed::Pending);
            return;
        }
        let Some(run) = self.runs.remove(&peer) else {
            return;
        };
        let total: usize = run.chunks.iter().map(Vec::len).sum();
        match pushed {
            Pushed::Complete { id, json } => {
                assert_eq!(id, chunk.id);
                assert!(json.len() <= self.config.max_request_bytes);
                let suffixes = (0..run.chunks.len()).map(|k| run.chunks[k..].concat());
                match run.disturbed {
                    false => assert_eq!(json, run.chunks.concat(), "the whole request"),
                    true => assert!(suffixes.into_iter().any(|s| s == json), "a suffix"),
                }
                check_request(&json);
            }
            Pushed::TooLarge { id } => {
                assert_eq!(id, chunk.id);
                assert!(
                    total > self.config.max_request_bytes,
                    "refused within the cap"
                );
            }
            Pushed::Pending => panic!("a terminal chunk left the request pending"),
        }
    }

    /// Each peer's partial request id.
    fn pending(&self) -> Vec<Option<RequestId>> {
        (0..PEERS).map(|p| self.incoming.pending_id(&p)).collect()
    }

    /// Marks the runs whose partial request the reassembler dropped (evicted or expired)
    /// since `before`, other than `pusher`'s (which its own chunk may replace).
    fn mark_dropped(&mut self, before: &[Option<RequestId>], pusher: Option<u8>) {
        for (peer, id) in (0..PEERS).zip(before) {
            let dropped = id.is_some() && self.incoming.pending_id(&peer).is_none();
            if dropped && Some(peer) != pusher {
                if let Some(run) = self.runs.get_mut(&peer) {
                    run.disturbed = true;
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        let before = self.pending();
        self.incoming.handle_timeout(now);
        self.mark_dropped(&before, None);
        for (peer, run) in &self.runs {
            let due = run.started + TIMEOUT;
            let pending = self.incoming.pending_id(peer) == Some(run.id);
            if !run.disturbed && pending {
                assert!(due > now, "a partial request outlived its time");
                let next = self.incoming.poll_timeout();
                assert!(next.is_some_and(|next| next <= due), "poll_timeout is late");
            }
        }
    }
}

/// A request that parses gets a response carrying its id; refusals have their code.
fn check_request(json: &[u8]) {
    match parse_request(json) {
        Ok(request) => {
            let body = response_body(&request.id, Ok(&request.params));
            let value: serde_json::Value = match serde_json::from_slice(&body) {
                Ok(value) => value,
                Err(e) => panic!("response is not JSON: {e}"),
            };
            let id: serde_json::Value = serde_json::from_str(request.id.get()).unwrap_or_default();
            // Numbers past f64 may read differently twice; everything else must match.
            if !id.is_number() {
                assert_eq!(value["id"], id);
            }
        }
        Err(refusal) => {
            let messages = refusal.reply(RequestId([0; 8]));
            assert_eq!(messages.len(), 1);
            assert_eq!(refusal.code(), crate::COMMANDO_ERROR_REMOTE);
        }
    }
}

/// A reply awaited, as the model sees it.
struct Awaited {
    json: Vec<u8>,
    last_chunk: Option<Instant>,
}

struct ClientModel {
    replies: Replies<u8>,
    config: ClientConfig,
    awaited: HashMap<(u8, RequestId), Awaited>,
}

impl ClientModel {
    fn new(config: ClientConfig) -> Self {
        ClientModel {
            replies: Replies::new(config.clone()),
            config,
            awaited: HashMap::new(),
        }
    }

    fn expect(&mut self, peer: u8, id: RequestId) {
        let fresh = !self.awaited.contains_key(&(peer, id));
        assert_eq!(self.replies.expect(peer, id).is_ok(), fresh);
        let awaited = Awaited {
            json: Vec::new(),
            last_chunk: None,
        };
        self.awaited.entry((peer, id)).or_insert(awaited);
    }

    fn push(&mut self, peer: u8, chunk: &Chunk<'_>, now: Instant) {
        let pushed = self.replies.push(&peer, chunk, now);
        let key = (peer, chunk.id);
        let awaited = match self.awaited.get_mut(&key) {
            Some(awaited) if chunk.kind.direction() == Direction::Reply => awaited,
            _ => return assert_eq!(pushed, ReplyPushed::Ignored),
        };
        awaited.json.extend_from_slice(chunk.json);
        awaited.last_chunk = Some(now);
        if awaited.json.len() > self.config.max_reply_bytes {
            self.awaited.remove(&key);
            return assert_eq!(pushed, ReplyPushed::Oversize { id: chunk.id });
        }
        if !chunk.kind.is_terminal() {
            return assert_eq!(pushed, ReplyPushed::Pending);
        }
        let Some(awaited) = self.awaited.remove(&key) else {
            return;
        };
        let expected = ReplyPushed::Complete {
            id: chunk.id,
            json: awaited.json.clone(),
        };
        assert_eq!(pushed, expected);
        if let Ok(result) = interpret_reply(&awaited.json) {
            assert!(serde_json::from_str::<serde_json::Value>(result.get()).is_ok());
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        let mut expired = self.replies.handle_timeout(now);
        expired.sort();
        let mut expected: Vec<(u8, RequestId)> = self
            .awaited
            .iter()
            .filter(|(_, awaited)| {
                awaited
                    .last_chunk
                    .is_some_and(|last| now.saturating_duration_since(last) >= TIMEOUT)
            })
            .map(|(key, _)| *key)
            .collect();
        expected.sort();
        assert_eq!(expired, expected);
        expected.iter().for_each(|key| {
            self.awaited.remove(key);
        });
    }

    fn forget_peer(&mut self, peer: u8) {
        let mut gone = self.replies.forget_peer(&peer);
        gone.sort();
        let mut expected: Vec<RequestId> = self
            .awaited
            .keys()
            .filter(|(p, _)| *p == peer)
            .map(|(_, id)| *id)
            .collect();
        expected.sort();
        assert_eq!(gone, expected);
        self.awaited.retain(|(p, _), _| *p != peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_inputs_run_clean() {
        // Bounds: 2 partials, 32 bytes. Peer 1 sends a request in two chunks; peer 2 awaits
        // and gets a reply in two chunks.
        let mut script = vec![0b0000_0101];
        let mut chunk = |peer: u8, kind: u8, json: &[u8]| {
            script.extend([(2 << 5) | peer, 0, kind, json.len() as u8]);
            script.extend_from_slice(json);
        };
        chunk(1, 0, br#"{"method":"m","#);
        chunk(1, 1, br#""id":1,"rune":"r"}"#);
        chunk(2, 2, b"{\"result\":");
        script.extend([(5 << 5) | 2, 0, 0]);
        let mut chunk = |peer: u8, kind: u8, json: &[u8]| {
            script.extend([(2 << 5) | peer, 1, kind, json.len() as u8]);
            script.extend_from_slice(json);
        };
        chunk(2, 2, b"{\"result\":");
        chunk(2, 3, b"[1]}");
        script.extend([(6 << 5), 15, (7 << 5) | 1, 0]);
        chunk_reassembly(&script);
        for len in 0..script.len() {
            chunk_reassembly(&script[..len]);
        }
    }

    /// A script of well-formed events: each peer sends whole requests (and replies, for the
    /// client side) cut at random points, peers interleave, time moves, timers fire.
    fn script(next: &mut impl FnMut() -> u8) -> Vec<u8> {
        let texts: [&[u8]; 2] = [
            br#"{"method":"getinfo","id":"x","rune":"r","params":[1,2]}"#,
            br#"{"jsonrpc":"2.0","id":"x","result":{"a":1}}"#,
        ];
        let mut out = vec![next()];
        // Per peer, direction and id: the rest of the text being sent. A peer sometimes
        // switches ids mid-text, as CLN's stress test does, which replaces its request.
        let mut sending: HashMap<(u8, usize, u8), &[u8]> = HashMap::new();
        for _ in 0..next() % 48 {
            let peer = next() % PEERS;
            let step = if next() % 8 == 0 { 15 } else { next() & 1 };
            match next() % 10 {
                0 => out.extend([peer, step, 3, 0x4c, 0x4f, next()]),
                1 => out.extend([(5 << 5) | peer, step, next() & 1]),
                2 => out.extend([6 << 5, step]),
                3 if next() % 4 == 0 => out.extend([(7 << 5) | peer, step]),
                _ => {
                    let direction = usize::from(next() & 1);
                    let id = next() & 1;
                    let rest = sending
                        .remove(&(peer, direction, id))
                        .unwrap_or(texts[direction]);
                    let cut = match next() % 3 {
                        0 => rest.len(),
                        _ => usize::from(next()) % (rest.len() + 1),
                    };
                    let (piece, rest) = rest.split_at(cut);
                    let terminal = u8::from(rest.is_empty());
                    let selector = (id << 2) | ((direction as u8) << 1) | terminal;
                    out.extend([(2 << 5) | peer, step, selector, piece.len() as u8]);
                    out.extend_from_slice(piece);
                    if !rest.is_empty() {
                        sending.insert((peer, direction, id), rest);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn pseudo_random_inputs_run_clean() {
        // A stand-in for the fuzzer on stable (xorshift): scripts of well-formed events, and
        // the same scripts with a byte changed.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        for _ in 0..3000 {
            let mut input = script(&mut next);
            chunk_reassembly(&input);
            let at = usize::from(next()) % input.len();
            input[at] = next();
            chunk_reassembly(&input);
        }
    }
}
