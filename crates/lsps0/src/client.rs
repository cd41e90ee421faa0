//! The client side: the requests we sent to LSPs, by id, and what each payload an LSP sends
//! back means for them (bLIP §Message Payload Format, §Disconnection Handling; notes §1.2,
//! §1.4).
//!
//! * A request waits for a response from **the peer it was sent to**. CLN's client takes an
//!   answer from any peer (notes §3.5); here an answer from another peer is ignored, so no
//!   peer can answer for another.
//! * A response with an id we do not remember is ignored, as the bLIP requires (LDK answers it
//!   with `-32700` and stops listening to the peer).
//! * Every request has a deadline; [`Client::expire`] gives back those past it, to be failed
//!   as a temporary LSP failure. The bLIP asks for a timeout "on the scale of minutes";
//!   [`DEFAULT_REQUEST_TIMEOUT`] is CLN's 60 s. LDK's client has none.
//! * After a bad message format the peer is **muted**: [`Client::start`] refuses to send it
//!   anything until [`Client::peer_disconnected`]. Its pending requests keep waiting: the
//!   bLIP says to ignore the bad message, and a valid answer may still come (or the deadline).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};

use jsonrpc::RpcError;
use serde_json::value::RawValue;

use crate::error::BadMessage;
use crate::message::{Id, Notification, ParamsNotObject, Request, Response};
use crate::parse::{parse_for_client, LspMessage};
use crate::MAX_PAYLOAD_BYTES;

/// CLN's client timeout (`DEFAULT_REQUEST_TIMEOUT`, notes §3.5).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A request we sent and no longer wait for: answered, timed out, cancelled, or its peer
/// went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outstanding<P> {
    /// Its id.
    pub id: Id,
    /// The LSP it was sent to.
    pub peer: P,
    /// Its method.
    pub method: String,
}

/// A request ready to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    /// Its id: what the caller matches [`ClientEvent::Answered`] and the expiry lists to.
    pub id: Id,
    /// The payload of message 37913 to send to the peer.
    pub payload: Vec<u8>,
}

/// Why [`Client::start`] sent nothing. All are the caller's to handle; none changes state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The peer sent a bad message format on this connection: nothing more goes to it until
    /// it reconnects.
    PeerMuted,
    /// `params` is not an object.
    ParamsNotObject,
    /// The payload would not fit in one message.
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// A request with this id is pending: use other random bytes.
    IdInUse,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::PeerMuted => f.write_str(
                "the LSP sent a malformed message; not sending to it until it reconnects",
            ),
            StartError::ParamsNotObject => ParamsNotObject.fmt(f),
            StartError::TooLarge { bytes } => write!(
                f,
                "request of {bytes} bytes is over the {MAX_PAYLOAD_BYTES}-byte message limit"
            ),
            StartError::IdInUse => f.write_str("request id already in use"),
        }
    }
}

impl std::error::Error for StartError {}

/// Why a payload from an LSP was ignored. None of these mutes the peer; log them.
#[derive(Debug, Clone, PartialEq)]
pub enum Ignored {
    /// No request of ours has this id (answered already, expired, or never sent).
    UnknownId(Id),
    /// The id is a request of ours to another peer.
    WrongPeer(Id),
    /// The answer came at or after the request's deadline; [`Client::expire`] reports it.
    Late(Id),
    /// An error with `"id": null`: the LSP could not read something we sent, and cannot say
    /// what. LDK sends `-32700` so for methods it does not know, and then ignores us until we
    /// reconnect (notes §2.5); our requests to it will time out.
    NullId(Response),
}

/// What a payload from an LSP meant.
#[derive(Debug, Clone)]
pub enum ClientEvent<P> {
    /// The answer to one of our requests, which is finished.
    Answered {
        /// The request.
        request: Outstanding<P>,
        /// Its result (an object, by the bLIP; the method's reader checks the rest), or the
        /// LSP's error object. The bLIP asks clients to word errors themselves from `code`
        /// and to filter `message` before showing it.
        outcome: Result<Box<RawValue>, RpcError>,
    },
    /// A notification from the LSP, for whoever enabled it. Unknown methods must be
    /// ignored (and should be logged).
    Notification(Notification),
    /// Nothing to do but log it.
    Ignored(Ignored),
    /// A bad message format: ignore it, log it as unusual. The peer is now muted.
    BadMessage(BadMessage),
}

/// A pending request.
#[derive(Debug)]
struct Pending<P> {
    peer: P,
    method: String,
    /// `None`: a timeout too long for `Instant` never expires.
    deadline: Option<Instant>,
}

/// The client's pending requests to all LSPs, and which peers are muted. Peers are any
/// `P: Eq + Hash + Clone` (a node id).
#[derive(Debug)]
pub struct Client<P> {
    pending: HashMap<Id, Pending<P>>,
    muted: HashSet<P>,
}

impl<P> Default for Client<P> {
    fn default() -> Self {
        Client {
            pending: HashMap::new(),
            muted: HashSet::new(),
        }
    }
}

impl<P: Eq + Hash + Clone> Client<P> {
    /// No requests, no muted peers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a request to `peer`: its id is the hex of `entropy`, which must come from a
    /// cryptographically secure source (the bLIP forbids counters). Send the payload as
    /// message 37913; the request waits until `now + timeout`.
    ///
    /// # Errors
    /// [`StartError`]; nothing is pending then.
    pub fn start(
        &mut self,
        peer: P,
        method: &str,
        params: &RawValue,
        now: Instant,
        timeout: Duration,
        entropy: [u8; 16],
    ) -> Result<Started, StartError> {
        if self.muted.contains(&peer) {
            return Err(StartError::PeerMuted);
        }
        let id = Id::random(entropy);
        if self.pending.contains_key(&id) {
            return Err(StartError::IdInUse);
        }
        let request = Request::new(id.clone(), method, params.to_owned())
            .map_err(|_| StartError::ParamsNotObject)?;
        let payload = request.to_payload();
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(StartError::TooLarge {
                bytes: payload.len(),
            });
        }
        let pending = Pending {
            peer,
            method: method.to_owned(),
            deadline: now.checked_add(timeout),
        };
        self.pending.insert(id.clone(), pending);
        Ok(Started { id, payload })
    }

    /// Takes a payload of message 37913 that `peer` sent, arrived at `now`.
    pub fn receive(&mut self, peer: &P, payload: &[u8], now: Instant) -> ClientEvent<P> {
        let response = match parse_for_client(payload) {
            Err(bad) => {
                self.muted.insert(peer.clone());
                return ClientEvent::BadMessage(bad);
            }
            Ok(LspMessage::Notification(notification)) => {
                return ClientEvent::Notification(notification)
            }
            Ok(LspMessage::Response(response)) => response,
        };
        let Some(id) = response.id.clone() else {
            return ClientEvent::Ignored(Ignored::NullId(response));
        };
        let ignored = match self.pending.get(&id) {
            None => Some(Ignored::UnknownId(id.clone())),
            Some(pending) if pending.peer != *peer => Some(Ignored::WrongPeer(id.clone())),
            Some(pending) if pending.deadline.is_some_and(|deadline| now >= deadline) => {
                Some(Ignored::Late(id.clone()))
            }
            Some(_) => None,
        };
        if let Some(ignored) = ignored {
            return ClientEvent::Ignored(ignored);
        }
        match self.cancel(&id) {
            Some(request) => ClientEvent::Answered {
                request,
                outcome: response.outcome,
            },
            None => ClientEvent::Ignored(Ignored::UnknownId(id)),
        }
    }

    /// Removes the requests whose deadline is at or before `now` and returns them, earliest
    /// first: fail each as a temporary LSP failure (CLN's client says `Timeout`).
    pub fn expire(&mut self, now: Instant) -> Vec<Outstanding<P>> {
        let mut due: Vec<(Instant, Id)> = self
            .pending
            .iter()
            .filter_map(|(id, pending)| pending.deadline.map(|deadline| (deadline, id)))
            .filter(|(deadline, _)| *deadline <= now)
            .map(|(deadline, id)| (deadline, id.clone()))
            .collect();
        due.sort();
        due.into_iter()
            .filter_map(|(_, id)| self.cancel(&id))
            .collect()
    }

    /// The earliest deadline: call [`Client::expire`] then. A scan of the pending requests,
    /// which are few (each is a call someone is waiting on).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().filter_map(|p| p.deadline).min()
    }

    /// The peer disconnected: its pending requests fail (returned, by id), and it is no
    /// longer muted, so the next connection starts afresh (bLIP: "SHOULD re-attempt this on
    /// reconnection").
    pub fn peer_disconnected(&mut self, peer: &P) -> Vec<Outstanding<P>> {
        self.muted.remove(peer);
        self.cancel_peer(peer)
    }

    /// Stops waiting for every request to `peer`, by id: for an LSP that answered an error
    /// with a null id ([`Ignored::NullId`]), which cannot say which request it could not read,
    /// and which may (as LDK does) ignore everything else we send on this connection.
    pub fn cancel_peer(&mut self, peer: &P) -> Vec<Outstanding<P>> {
        let mut ids: Vec<Id> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.peer == *peer)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids.iter().filter_map(|id| self.cancel(id)).collect()
    }

    /// Stops waiting for a request (its caller gave up, or sending it failed).
    pub fn cancel(&mut self, id: &Id) -> Option<Outstanding<P>> {
        let pending = self.pending.remove(id)?;
        Some(outstanding(id.clone(), pending))
    }

    /// Whether `peer` sent a bad message format on this connection, so nothing may be sent
    /// to it until it reconnects.
    pub fn is_muted(&self, peer: &P) -> bool {
        self.muted.contains(peer)
    }

    /// Whether request `id` is pending.
    pub fn is_pending(&self, id: &Id) -> bool {
        self.pending.contains_key(id)
    }

    /// How many requests are pending, to all peers.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

fn outstanding<P>(id: Id, pending: Pending<P>) -> Outstanding<P> {
    Outstanding {
        id,
        peer: pending.peer,
        method: pending.method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::list_protocols;

    const LSP: u8 = 1;
    const OTHER: u8 = 2;
    const MINUTE: Duration = Duration::from_secs(60);

    fn start(client: &mut Client<u8>, peer: u8, now: Instant, entropy: u8) -> Started {
        let params = list_protocols::params();
        client
            .start(
                peer,
                list_protocols::METHOD,
                &params,
                now,
                MINUTE,
                [entropy; 16],
            )
            .unwrap()
    }

    fn ignored(event: ClientEvent<u8>) -> Ignored {
        match event {
            ClientEvent::Ignored(ignored) => ignored,
            other => panic!("not ignored: {other:?}"),
        }
    }

    fn result_for(id: &Id, result: &str) -> Vec<u8> {
        format!(r#"{{"jsonrpc":"2.0","id":"{id}","result":{result}}}"#).into_bytes()
    }

    #[test]
    fn a_request_is_answered_by_its_peer() {
        let now = Instant::now();
        let mut client = Client::new();
        let started = start(&mut client, LSP, now, 7);
        assert_eq!(started.id.as_str(), "07".repeat(16));
        assert_eq!(
            String::from_utf8(started.payload).unwrap(),
            format!(
                r#"{{"jsonrpc":"2.0","id":"{}","method":"lsps0.list_protocols","params":{{}}}}"#,
                started.id
            )
        );
        let answer = result_for(&started.id, r#"{"protocols":[1,3],"x":true}"#);
        let ClientEvent::Answered { request, outcome } = client.receive(&LSP, &answer, now) else {
            panic!("not answered");
        };
        assert_eq!(
            request,
            Outstanding {
                id: started.id.clone(),
                peer: LSP,
                method: list_protocols::METHOD.into()
            }
        );
        assert_eq!(
            list_protocols::parse_result(&outcome.unwrap()),
            Ok(vec![1, 3])
        );
        assert_eq!(client.pending_len(), 0);
        // A second answer to the same id is one we no longer remember.
        assert_eq!(
            ignored(client.receive(&LSP, &answer, now)),
            Ignored::UnknownId(started.id)
        );
    }

    #[test]
    fn an_error_response_finishes_the_request_with_the_lsps_error() {
        let now = Instant::now();
        let mut client = Client::new();
        let started = start(&mut client, LSP, now, 1);
        let answer = format!(
            r#"{{"jsonrpc":"2.0","id":"{}","error":{{"code":-32601,"message":"Method not found"}}}}"#,
            started.id
        );
        let ClientEvent::Answered { outcome, .. } = client.receive(&LSP, answer.as_bytes(), now)
        else {
            panic!("not answered");
        };
        assert_eq!(
            outcome.unwrap_err(),
            RpcError::new(-32601, "Method not found")
        );
    }

    #[test]
    fn answers_from_another_peer_or_with_unknown_or_null_ids_are_ignored() {
        let now = Instant::now();
        let mut client = Client::new();
        let started = start(&mut client, LSP, now, 1);
        let answer = result_for(&started.id, "{}");
        assert_eq!(
            ignored(client.receive(&OTHER, &answer, now)),
            Ignored::WrongPeer(started.id.clone())
        );
        let unknown = Id::new("ffff");
        assert_eq!(
            ignored(client.receive(&LSP, &result_for(&unknown, "{}"), now)),
            Ignored::UnknownId(unknown)
        );
        // LDK's answer to a method it does not know.
        let ldk = br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error","data":null}}"#;
        assert!(matches!(
            client.receive(&LSP, ldk, now),
            ClientEvent::Ignored(Ignored::NullId(_))
        ));
        // None of these muted anyone or finished the request.
        assert!(!client.is_muted(&LSP) && !client.is_muted(&OTHER));
        assert!(client.is_pending(&started.id));
        assert!(matches!(
            client.receive(&LSP, &answer, now),
            ClientEvent::Answered { .. }
        ));
    }

    #[test]
    fn a_bad_message_mutes_the_peer_until_it_reconnects() {
        let now = Instant::now();
        let mut client = Client::new();
        let started = start(&mut client, LSP, now, 1);
        for bad in [
            &b" { } { }"[..],
            b"{\0}",
            br#"{"jsonrpc":"2.0","id":"a","method":"m"}"#,
        ] {
            assert!(matches!(
                client.receive(&LSP, bad, now),
                ClientEvent::BadMessage(_)
            ));
        }
        assert!(client.is_muted(&LSP));
        let params = list_protocols::params();
        assert_eq!(
            client.start(LSP, "m", &params, now, MINUTE, [2; 16]),
            Err(StartError::PeerMuted)
        );
        // Other peers are unaffected, and the pending request may still be answered.
        assert!(!client.is_muted(&OTHER));
        start(&mut client, OTHER, now, 3);
        assert!(matches!(
            client.receive(&LSP, &result_for(&started.id, "{}"), now),
            ClientEvent::Answered { .. }
        ));
        assert!(client.peer_disconnected(&LSP).is_empty());
        assert!(!client.is_muted(&LSP));
        start(&mut client, LSP, now, 4);
    }

    #[test]
    fn notifications_are_handed_on() {
        let now = Instant::now();
        let mut client = Client::<u8>::new();
        let payload = br#"{"jsonrpc":"2.0","method":"lsps5.webhook_registered","params":{"a":1}}"#;
        let ClientEvent::Notification(notification) = client.receive(&LSP, payload, now) else {
            panic!("not a notification");
        };
        assert_eq!(notification.method(), "lsps5.webhook_registered");
        assert_eq!(notification.params().get(), r#"{"a":1}"#);
    }

    #[test]
    fn requests_expire_at_their_deadline_in_virtual_time() {
        let start_time = Instant::now();
        let mut client = Client::new();
        assert_eq!(client.poll_timeout(), None);
        let first = start(&mut client, LSP, start_time, 1);
        let second = start(&mut client, LSP, start_time + Duration::from_secs(30), 2);
        assert_eq!(client.poll_timeout(), Some(start_time + MINUTE));
        assert!(client
            .expire(start_time + MINUTE - Duration::from_nanos(1))
            .is_empty());
        // An answer at the deadline is late; expire reports the request.
        let late = result_for(&first.id, "{}");
        assert_eq!(
            ignored(client.receive(&LSP, &late, start_time + MINUTE)),
            Ignored::Late(first.id.clone())
        );
        let expired = client.expire(start_time + MINUTE);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].id, first.id);
        assert_eq!(
            client.poll_timeout(),
            Some(start_time + Duration::from_secs(90))
        );
        let expired = client.expire(start_time + Duration::from_secs(3600));
        assert_eq!(expired[0].id, second.id);
        assert_eq!(client.poll_timeout(), None);
    }

    #[test]
    fn a_disconnect_fails_that_peers_requests_only() {
        let now = Instant::now();
        let mut client = Client::new();
        let a = start(&mut client, LSP, now, 1);
        let b = start(&mut client, LSP, now, 2);
        let c = start(&mut client, OTHER, now, 3);
        let failed = client.peer_disconnected(&LSP);
        let ids: Vec<Id> = failed.into_iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![a.id, b.id]);
        assert!(client.is_pending(&c.id));
        assert_eq!(client.cancel(&c.id).map(|o| o.peer), Some(OTHER));
        assert_eq!(client.cancel(&c.id), None);
    }

    #[test]
    fn cancelling_a_peer_fails_its_requests_only_and_mutes_nothing() {
        let now = Instant::now();
        let mut client = Client::new();
        let a = start(&mut client, LSP, now, 1);
        let b = start(&mut client, OTHER, now, 2);
        let cancelled: Vec<Id> = client.cancel_peer(&LSP).into_iter().map(|o| o.id).collect();
        assert_eq!(cancelled, vec![a.id]);
        assert!(client.is_pending(&b.id));
        assert!(!client.is_muted(&LSP));
        assert!(client.cancel_peer(&LSP).is_empty());
    }

    #[test]
    fn start_refuses_bad_arguments_and_leaves_nothing_pending() {
        let now = Instant::now();
        let mut client = Client::new();
        let started = start(&mut client, LSP, now, 1);
        let params = list_protocols::params();
        assert_eq!(
            client.start(OTHER, "m", &params, now, MINUTE, [1; 16]),
            Err(StartError::IdInUse)
        );
        let positional = RawValue::from_string("[1]".into()).unwrap();
        assert_eq!(
            client.start(LSP, "m", &positional, now, MINUTE, [2; 16]),
            Err(StartError::ParamsNotObject)
        );
        let huge = format!(r#"{{"blob":"{}"}}"#, "z".repeat(MAX_PAYLOAD_BYTES));
        let huge = RawValue::from_string(huge).unwrap();
        assert!(matches!(
            client.start(LSP, "m", &huge, now, MINUTE, [3; 16]),
            Err(StartError::TooLarge { .. })
        ));
        assert_eq!(client.pending_len(), 1);
        assert!(client.is_pending(&started.id));
        // A timeout past what `Instant` holds never expires.
        let forever = client
            .start(LSP, "m", &params, now, Duration::MAX, [4; 16])
            .unwrap();
        let expired = client.expire(now + Duration::from_secs(1 << 40));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].id, started.id);
        assert!(client.is_pending(&forever.id));
        assert_eq!(client.poll_timeout(), None);
    }
}
