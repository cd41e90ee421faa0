//! The server side in one place: reassembly, the per-peer call limit and the request checks,
//! turning each command chunk a peer sends into "nothing yet", "send this refusal" or "check
//! this rune and run this command".

use std::hash::Hash;
use std::time::Instant;

use crate::chunk::{Chunk, RequestId};
use crate::error::Refusal;
use crate::incoming::{Incoming, IncomingConfig, Pushed};
use crate::limit::{CallLimitConfig, CallLimiter};
use crate::request::{parse_request, Request};

/// The server's bounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerConfig {
    /// Reassembly: partial requests, request size, expiry.
    pub incoming: IncomingConfig,
    /// Calls per peer.
    pub calls: CallLimitConfig,
}

/// A request ready for its rune check, from one peer.
#[derive(Debug, Clone)]
pub struct Command {
    /// The request id: every reply chunk carries it.
    pub id: RequestId,
    /// The checked request.
    pub request: Request,
}

/// What the driver does after a chunk.
#[derive(Debug, Clone)]
pub enum ServerAction {
    /// Nothing (more chunks are awaited, or the chunk was not a command chunk).
    Nothing,
    /// Send these reply messages to the peer, in order: a refusal.
    Reply(Vec<Vec<u8>>),
    /// Check the rune (`checkrune` with the peer's node id, the method and the params): if it
    /// fails, reply with [`crate::error_reply`] (19537, `Invalid rune: <reason>`, or 19536
    /// `Invalid rune` if it does not decode); else run the method and reply with
    /// [`crate::response_body`] cut by [`crate::reply_messages`].
    Execute(Command),
}

/// The commando server for all peers.
///
/// Every complete request, refused or not, counts as one call against the peer's limit, and
/// the limit is checked before the JSON is parsed, so a peer over its limit costs us no
/// parsing. Refusals are answered: each is a reply of under 100 bytes to the peer that asked,
/// through its own bounded send queue, so a flood of bad requests only fills the flooder's.
#[derive(Debug)]
pub struct Server<P> {
    incoming: Incoming<P>,
    limiter: CallLimiter<P>,
}

impl<P: Eq + Hash + Clone> Server<P> {
    /// A server with no partial requests and every peer's bucket full.
    pub fn new(config: ServerConfig) -> Self {
        Server {
            incoming: Incoming::new(config.incoming),
            limiter: CallLimiter::new(config.calls),
        }
    }

    /// Takes one command chunk from `peer`, arrived at `now` (reply chunks are the client's
    /// and give [`ServerAction::Nothing`]). Call [`Server::handle_timeout`] as well once
    /// [`Server::poll_timeout`] has passed.
    pub fn handle_chunk(&mut self, peer: &P, chunk: &Chunk<'_>, now: Instant) -> ServerAction {
        let (id, json) = match self.incoming.push(peer, chunk, now) {
            Pushed::Pending => return ServerAction::Nothing,
            Pushed::TooLarge { id } => (id, None),
            Pushed::Complete { id, json } => (id, Some(json)),
        };
        if !self.limiter.allow(peer, now) {
            return ServerAction::Reply(Refusal::RateLimited.reply(id));
        }
        let Some(json) = json else {
            return ServerAction::Reply(Refusal::TooLarge.reply(id));
        };
        match parse_request(&json) {
            Ok(request) => ServerAction::Execute(Command { id, request }),
            Err(refusal) => ServerAction::Reply(refusal.reply(id)),
        }
    }

    /// Drops partial requests whose time is up at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.incoming.handle_timeout(now);
    }

    /// When [`Server::handle_timeout`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.incoming.poll_timeout()
    }

    /// Drops the partial request of a peer that disconnected. Its call bucket stays, so
    /// reconnecting does not refill it.
    pub fn peer_disconnected(&mut self, peer: &P) {
        self.incoming.forget_peer(peer);
    }

    /// The reassembly state, for metrics and tests.
    pub fn incoming(&self) -> &Incoming<P> {
        &self.incoming
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::{split, ChunkKind, Direction};
    use std::time::Duration;

    const ID: RequestId = RequestId([9; 8]);

    fn refusal(action: ServerAction) -> String {
        let ServerAction::Reply(messages) = action else {
            panic!("expected a reply, got {action:?}");
        };
        assert_eq!(messages.len(), 1);
        let chunk = Chunk::decode(&messages[0]).unwrap();
        assert_eq!((chunk.kind, chunk.id), (ChunkKind::ReplyTerminal, ID));
        String::from_utf8(chunk.json.to_vec()).unwrap()
    }

    fn terminal(json: &[u8]) -> Chunk<'_> {
        Chunk {
            kind: ChunkKind::CommandTerminal,
            id: ID,
            json,
        }
    }

    #[test]
    fn a_good_request_is_executed_and_a_bad_one_refused() {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        let json = br#"{"id":"lnmessage:getinfo#0909090909090909","rune":"r","method":"getinfo","params":[]}"#;
        let ServerAction::Execute(command) = server.handle_chunk(&1, &terminal(json), now) else {
            panic!("not executed");
        };
        assert_eq!(command.id, ID);
        assert_eq!(command.request.method, "getinfo");
        assert_eq!(
            refusal(server.handle_chunk(&1, &terminal(br#"{"method":"getinfo","id":1}"#), now)),
            r#"{"error":{"code":19536,"message":"Missing rune"}}"#
        );
        assert_eq!(
            refusal(server.handle_chunk(&1, &terminal(b"{"), now)),
            r#"{"error":{"code":19536,"message":"Invalid JSON"}}"#
        );
        let reply = Chunk {
            kind: ChunkKind::ReplyTerminal,
            id: ID,
            json: b"{}",
        };
        assert!(matches!(
            server.handle_chunk(&1, &reply, now),
            ServerAction::Nothing
        ));
    }

    #[test]
    fn a_150_kb_request_is_reassembled_byte_exact() {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        let params = format!(r#"{{"blob":"{}"}}"#, "z".repeat(150_000));
        let json = format!(r#"{{"method":"m","id":"big","rune":"r","params":{params}}}"#);
        let mut actions = Vec::new();
        for chunk in split(Direction::Command, ID, json.as_bytes()) {
            actions.push(server.handle_chunk(&1, &chunk, now));
        }
        assert_eq!(actions.len(), 3);
        assert!(matches!(actions[0], ServerAction::Nothing));
        assert!(matches!(actions[1], ServerAction::Nothing));
        let Some(ServerAction::Execute(command)) = actions.pop() else {
            panic!("not executed");
        };
        assert_eq!(command.request.params.get(), params);
    }

    #[test]
    fn an_oversize_request_is_answered() {
        let now = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        let json = vec![b' '; 1_048_577];
        let mut last = ServerAction::Nothing;
        for chunk in split(Direction::Command, ID, &json) {
            last = server.handle_chunk(&1, &chunk, now);
        }
        assert_eq!(
            refusal(last),
            r#"{"error":{"code":19536,"message":"Request too large"}}"#
        );
    }

    #[test]
    fn calls_over_the_peer_limit_are_refused() {
        let start = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        let json = br#"{"method":"getinfo","id":1,"rune":"r"}"#;
        for _ in 0..10 {
            let action = server.handle_chunk(&1, &terminal(json), start);
            assert!(matches!(action, ServerAction::Execute(_)));
        }
        let limited =
            r#"{"error":{"code":19536,"message":"Too many commando requests: try again later"}}"#;
        assert_eq!(
            refusal(server.handle_chunk(&1, &terminal(json), start)),
            limited
        );
        // Refused requests count too, checked before parsing.
        assert_eq!(
            refusal(server.handle_chunk(&1, &terminal(b"{"), start)),
            limited
        );
        assert!(matches!(
            server.handle_chunk(&2, &terminal(json), start),
            ServerAction::Execute(_)
        ));
        let later = start + Duration::from_millis(500);
        assert!(matches!(
            server.handle_chunk(&1, &terminal(json), later),
            ServerAction::Execute(_)
        ));
    }

    #[test]
    fn timeouts_and_disconnects_free_partial_requests() {
        let start = Instant::now();
        let mut server = Server::new(ServerConfig::default());
        let more = Chunk {
            kind: ChunkKind::CommandContinues,
            id: ID,
            json: b"{",
        };
        server.handle_chunk(&1, &more, start);
        server.handle_chunk(&2, &more, start);
        assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(60)));
        server.peer_disconnected(&1);
        assert_eq!(server.incoming().len(), 1);
        server.handle_timeout(start + Duration::from_secs(60));
        assert!(server.incoming().is_empty());
        assert_eq!(server.poll_timeout(), None);
    }
}
