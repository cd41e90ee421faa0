//! The LSP side: every payload a peer sends becomes an answer to send back, or a request to
//! forward to the method's owner, whose reply later becomes the answer (bLIP §Message
//! Payload Format, §Error Handling, §LSPS Extension And Versioning; notes §1.2–§1.7).
//!
//! The answers the service gives itself:
//!
//! | what came | code | `message` | `data` | `id` |
//! |---|---|---|---|---|
//! | a bad message format | `-32700` | `Parse error` | none | `null` |
//! | an invalid request (see [`crate::parse`]) | `-32600` | `Invalid Request: <reason>` | none | the request's, if a string |
//! | a payload over [`ServiceConfig::max_request_bytes`] | `-32600` | `Invalid Request: request too large` | none | the request's, if it can be read |
//! | an unknown method | `-32601` | `Method not found` | none | the request's |
//! | `lsps0.list_protocols` with params | `-32602` | `Invalid params` | `{"unrecognized":[…]}` | the request's |
//! | a forwarded request while the peer has [`ServiceConfig::max_pending_per_peer`] pending | `1` | `Client rejected` | `{"message":"Too many pending requests: try again later"}` | the request's |
//! | a forwarded request whose owner went away, did not answer in time, or answered with something unsendable | `-32603` | `Internal error` | none | the request's |
//!
//! The limit on pending requests follows LDK, whose LSPS1 and LSPS2 services refuse an 11th
//! pending request per peer with LSPS0's `1` "Client rejected" (`data` left out, as LDK's
//! client cannot read a `data` object). The bLIP gives `1` a `data` object with a
//! `message`, so ours has one. Requests stay counted across a reconnection until they are
//! answered or expire, so reconnecting does not buy a peer more work from the owners.
//!
//! Errors carry no `data` except where the bLIP defines one: LDK's client refuses an error
//! whose `data` is an object (notes §2.5), so extra detail would cost LDK clients their
//! connection.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};

use jsonrpc::RpcError;
use serde_json::value::RawValue;

use crate::error::{code, message, BadMessage, InvalidRequest};
use crate::list_protocols;
use crate::message::{is_object, Id, Request, Response};
use crate::parse::{parse_for_service, RequestRejected};
use crate::registry::{RegisterError, Registry};
use crate::MAX_PAYLOAD_BYTES;

/// LDK's per-peer limit on pending requests (`MAX_PENDING_REQUESTS_PER_PEER`, LSPS1 and
/// LSPS2 services).
pub const DEFAULT_MAX_PENDING_PER_PEER: usize = 10;

/// How long an owner has to answer. Twice CLN's client timeout (60 s): an owner's late
/// answer still reaches clients that wait longer (LDK's never give up), and a stuck owner
/// frees the peer's slot within the minutes the bLIP's clients wait.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(120);

/// The text in the `data.message` of the "too many pending requests" refusal.
pub const TOO_MANY_PENDING: &str = "Too many pending requests: try again later";

/// The service's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The largest payload taken as a request. Default: [`MAX_PAYLOAD_BYTES`], the bLIP's only
    /// size limit (no smaller limit exists in LDK or CLN). A payload up to
    /// [`MAX_PAYLOAD_BYTES`] is read first, so the refusal carries its id; a larger one
    /// cannot come in one BOLT 8 message and is refused unread.
    pub max_request_bytes: usize,
    /// Forwarded requests a peer may have unanswered at once.
    pub max_pending_per_peer: usize,
    /// How long a forwarded request waits for its owner.
    pub forward_timeout: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            max_request_bytes: MAX_PAYLOAD_BYTES,
            max_pending_per_peer: DEFAULT_MAX_PENDING_PER_PEER,
            forward_timeout: DEFAULT_FORWARD_TIMEOUT,
        }
    }
}

/// Names a forwarded request, for [`Service::complete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(u64);

/// Why the service refused a payload itself: log it (a bad message format as unusual).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `-32700`.
    BadMessage(BadMessage),
    /// `-32600`.
    InvalidRequest(InvalidRequest),
    /// `-32601`, for this method.
    MethodNotFound(String),
    /// `-32602`, for these names.
    UnrecognizedParams(Vec<String>),
    /// `1`: the peer has the most pending requests it may.
    TooManyPending,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadMessage(bad) => write!(f, "bad message format: {bad}"),
            Refusal::InvalidRequest(invalid) => invalid.fmt(f),
            Refusal::MethodNotFound(method) => write!(f, "method not found: {method:?}"),
            Refusal::UnrecognizedParams(names) => write!(f, "unrecognized params: {names:?}"),
            Refusal::TooManyPending => f.write_str("too many pending requests"),
        }
    }
}

/// A request for a method's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward<O> {
    /// Pass it to [`Service::complete`] with the owner's answer.
    pub handle: Handle,
    /// Whose method it is.
    pub owner: O,
    /// The request (its params are an object).
    pub request: Request,
}

/// What to do with a payload a peer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAction<O> {
    /// Send this payload back: the answer to `lsps0.list_protocols`.
    Answer(Vec<u8>),
    /// Send this error payload back, and log why.
    Refuse {
        /// The error response.
        payload: Vec<u8>,
        /// Why.
        refusal: Refusal,
    },
    /// Give the request to its owner; its answer goes to [`Service::complete`].
    Forward(Forward<O>),
}

/// Why the reply to a forwarded request is `-32603` rather than the owner's answer: log it
/// against the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerFault {
    /// The result is not a JSON object (bLIP: results are objects).
    ResultNotAnObject,
    /// The response would not fit in one message.
    TooLarge {
        /// Its size.
        bytes: usize,
    },
}

impl fmt::Display for OwnerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerFault::ResultNotAnObject => f.write_str("result is not a JSON object"),
            OwnerFault::TooLarge { bytes } => write!(
                f,
                "response of {bytes} bytes is over the {MAX_PAYLOAD_BYTES}-byte message limit"
            ),
        }
    }
}

/// The reply to a forwarded request, to send to its peer (if it is connected: the bLIP treats
/// an undeliverable response as delivered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<P> {
    /// Who asked.
    pub peer: P,
    /// The request's id.
    pub id: Id,
    /// The response payload.
    pub payload: Vec<u8>,
    /// Set when the payload is `-32603` instead of the owner's answer.
    pub fault: Option<OwnerFault>,
}

/// [`Service::complete`] was given a handle that is not pending: already completed, expired,
/// or its owner unregistered. Drop the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownHandle;

impl fmt::Display for UnknownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no such pending LSPS request")
    }
}

impl std::error::Error for UnknownHandle {}

#[derive(Debug)]
struct Pending<P, O> {
    peer: P,
    owner: O,
    id: Id,
    /// `None`: a timeout too long for `Instant` never expires.
    deadline: Option<Instant>,
}

/// The LSP for all peers: the registered methods and the forwarded requests awaiting their
/// owners. Peers are any `P: Eq + Hash + Clone` (a node id), owners any `O: Eq + Clone` (a
/// plugin).
#[derive(Debug)]
pub struct Service<P, O> {
    config: ServiceConfig,
    registry: Registry<O>,
    pending: HashMap<Handle, Pending<P, O>>,
    pending_per_peer: HashMap<P, usize>,
    next_handle: u64,
}

impl<P: Eq + Hash + Clone, O: Eq + Clone> Service<P, O> {
    /// No methods but `lsps0.list_protocols`, nothing pending.
    pub fn new(config: ServiceConfig) -> Self {
        Service {
            config,
            registry: Registry::default(),
            pending: HashMap::new(),
            pending_per_peer: HashMap::new(),
            next_handle: 0,
        }
    }

    /// Registers `method` for `owner`, as part of LSPS `protocol`, which
    /// `lsps0.list_protocols` then reports (rules: [`Registry::register`]).
    ///
    /// # Errors
    /// [`RegisterError`]; nothing changes then.
    pub fn register(&mut self, method: &str, owner: O, protocol: u16) -> Result<(), RegisterError> {
        self.registry.register(method, owner, protocol)
    }

    /// Removes `owner`'s methods (it stopped) and answers its pending requests with
    /// `-32603`. Returns the replies, by handle.
    pub fn unregister_owner(&mut self, owner: &O) -> Vec<Reply<P>> {
        self.registry.remove_owner(owner);
        let handles: Vec<Handle> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.owner == *owner)
            .map(|(handle, _)| *handle)
            .collect();
        self.abandon(handles)
    }

    /// The methods served and their owners.
    pub fn registry(&self) -> &Registry<O> {
        &self.registry
    }

    /// Takes a payload of message 37913 that `peer` sent, arrived at `now`.
    pub fn receive(&mut self, peer: &P, payload: &[u8], now: Instant) -> ServiceAction<O> {
        let too_large = payload.len() > self.config.max_request_bytes;
        if too_large && payload.len() > MAX_PAYLOAD_BYTES {
            return invalid_request(None, InvalidRequest::TooLarge);
        }
        let request = match parse_for_service(payload) {
            Ok(request) => request,
            Err(RequestRejected::BadMessage(bad)) => {
                let error = RpcError::new(code::PARSE_ERROR, message::PARSE_ERROR);
                return refuse(None, error, Refusal::BadMessage(bad));
            }
            Err(RequestRejected::Invalid { id, reason }) => return invalid_request(id, reason),
        };
        if too_large {
            return invalid_request(Some(request.id().clone()), InvalidRequest::TooLarge);
        }
        if request.method() == list_protocols::METHOD {
            return self.list_protocols(request);
        }
        let Some(owner) = self.registry.owner_of(request.method()).cloned() else {
            let error = RpcError::new(code::METHOD_NOT_FOUND, message::METHOD_NOT_FOUND);
            let refusal = Refusal::MethodNotFound(request.method().to_owned());
            return refuse(Some(request.id().clone()), error, refusal);
        };
        if self.pending_for(peer) >= self.config.max_pending_per_peer {
            let mut error = RpcError::new(code::CLIENT_REJECTED, message::CLIENT_REJECTED);
            error.data = Some(serde_json::json!({ "message": TOO_MANY_PENDING }));
            return refuse(Some(request.id().clone()), error, Refusal::TooManyPending);
        }
        *self.pending_per_peer.entry(peer.clone()).or_default() += 1;
        let handle = Handle(self.next_handle);
        self.next_handle += 1;
        let pending = Pending {
            peer: peer.clone(),
            owner: owner.clone(),
            id: request.id().clone(),
            deadline: now.checked_add(self.config.forward_timeout),
        };
        self.pending.insert(handle, pending);
        ServiceAction::Forward(Forward {
            handle,
            owner,
            request,
        })
    }

    /// The owner's answer to a forwarded request: a result (a JSON object) or an error
    /// object, sent as it is. Returns the reply for the peer.
    ///
    /// # Errors
    /// [`UnknownHandle`] if the request is no longer pending.
    pub fn complete(
        &mut self,
        handle: Handle,
        outcome: Result<&RawValue, RpcError>,
    ) -> Result<Reply<P>, UnknownHandle> {
        let pending = self.take(handle).ok_or(UnknownHandle)?;
        let response = match outcome {
            Ok(result) if !is_object(result) => {
                return Ok(internal_error(pending, OwnerFault::ResultNotAnObject))
            }
            Ok(result) => Ok(result.to_owned()),
            Err(error) => Err(error),
        };
        let payload = Response {
            id: Some(pending.id.clone()),
            outcome: response,
        }
        .to_payload();
        if payload.len() > MAX_PAYLOAD_BYTES {
            let fault = OwnerFault::TooLarge {
                bytes: payload.len(),
            };
            return Ok(internal_error(pending, fault));
        }
        Ok(Reply {
            peer: pending.peer,
            id: pending.id,
            payload,
            fault: None,
        })
    }

    /// Answers the forwarded requests whose owner's time is up at `now` with `-32603`, by
    /// handle. A later [`Service::complete`] for them gets [`UnknownHandle`].
    pub fn expire(&mut self, now: Instant) -> Vec<Reply<P>> {
        let due: Vec<Handle> = self
            .pending
            .iter()
            .filter(|(_, pending)| pending.deadline.is_some_and(|deadline| deadline <= now))
            .map(|(handle, _)| *handle)
            .collect();
        self.abandon(due)
    }

    /// The earliest owner deadline: call [`Service::expire`] then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().filter_map(|p| p.deadline).min()
    }

    /// How many forwarded requests from `peer` await their owners.
    pub fn pending_for(&self, peer: &P) -> usize {
        self.pending_per_peer.get(peer).copied().unwrap_or(0)
    }

    fn list_protocols(&self, request: Request) -> ServiceAction<O> {
        let unrecognized = list_protocols::unrecognized_params(request.params());
        let id = Some(request.id().clone());
        if !unrecognized.is_empty() {
            let mut error = RpcError::new(code::INVALID_PARAMS, message::INVALID_PARAMS);
            error.data = Some(serde_json::json!({ "unrecognized": unrecognized }));
            return refuse(id, error, Refusal::UnrecognizedParams(unrecognized));
        }
        let result = list_protocols::result(&self.registry.protocols());
        ServiceAction::Answer(
            Response {
                id,
                outcome: Ok(result),
            }
            .to_payload(),
        )
    }

    /// Removes a pending request and gives back its peer's slot.
    fn take(&mut self, handle: Handle) -> Option<Pending<P, O>> {
        let pending = self.pending.remove(&handle)?;
        if let Some(count) = self.pending_per_peer.get_mut(&pending.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.pending_per_peer.remove(&pending.peer);
            }
        }
        Some(pending)
    }

    /// `-32603` for each of these requests, by handle.
    fn abandon(&mut self, mut handles: Vec<Handle>) -> Vec<Reply<P>> {
        handles.sort_unstable();
        handles
            .into_iter()
            .filter_map(|handle| self.take(handle))
            .map(|pending| Reply {
                payload: internal_error_payload(&pending.id),
                peer: pending.peer,
                id: pending.id,
                fault: None,
            })
            .collect()
    }
}

fn refuse<O>(id: Option<Id>, error: RpcError, refusal: Refusal) -> ServiceAction<O> {
    let payload = Response {
        id,
        outcome: Err(error),
    }
    .to_payload();
    ServiceAction::Refuse { payload, refusal }
}

fn invalid_request<O>(id: Option<Id>, reason: InvalidRequest) -> ServiceAction<O> {
    let error = RpcError::new(code::INVALID_REQUEST, reason.to_string());
    refuse(id, error, Refusal::InvalidRequest(reason))
}

fn internal_error_payload(id: &Id) -> Vec<u8> {
    let error = RpcError::new(code::INTERNAL_ERROR, message::INTERNAL_ERROR);
    Response {
        id: Some(id.clone()),
        outcome: Err(error),
    }
    .to_payload()
}

fn internal_error<P, O>(pending: Pending<P, O>, fault: OwnerFault) -> Reply<P> {
    Reply {
        payload: internal_error_payload(&pending.id),
        peer: pending.peer,
        id: pending.id,
        fault: Some(fault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_for_client, LspMessage};

    const PEER: u8 = 1;
    const OTHER: u8 = 2;
    const PLUGIN: &str = "lsps2-plugin";

    fn service() -> Service<u8, &'static str> {
        Service::new(ServiceConfig::default())
    }

    fn request(id: &str, method: &str, params: &str) -> Vec<u8> {
        format!(r#"{{"jsonrpc":"2.0","id":"{id}","method":"{method}","params":{params}}}"#)
            .into_bytes()
    }

    fn text(payload: &[u8]) -> &str {
        std::str::from_utf8(payload).unwrap()
    }

    /// The payload of an answer or refusal, checked to be a response a client accepts.
    fn reply_of(action: ServiceAction<&str>) -> String {
        let payload = match action {
            ServiceAction::Answer(payload) | ServiceAction::Refuse { payload, .. } => payload,
            ServiceAction::Forward(forward) => panic!("forwarded: {forward:?}"),
        };
        assert!(matches!(
            parse_for_client(&payload),
            Ok(LspMessage::Response(_))
        ));
        text(&payload).to_owned()
    }

    fn refusal_of(action: &ServiceAction<&str>) -> Refusal {
        match action {
            ServiceAction::Refuse { refusal, .. } => refusal.clone(),
            other => panic!("not refused: {other:?}"),
        }
    }

    fn forward_of(action: ServiceAction<&'static str>) -> Forward<&'static str> {
        match action {
            ServiceAction::Forward(forward) => forward,
            other => panic!("not forwarded: {other:?}"),
        }
    }

    #[test]
    fn list_protocols_answers_with_the_registered_protocols_sorted() {
        let now = Instant::now();
        let mut service = service();
        let ask = request(
            "example#3cad6a54d302edba4c9ade2f7ffac098",
            list_protocols::METHOD,
            "{}",
        );
        assert_eq!(
            reply_of(service.receive(&PEER, &ask, now)),
            r#"{"jsonrpc":"2.0","id":"example#3cad6a54d302edba4c9ade2f7ffac098","result":{"protocols":[]}}"#
        );
        service.register("lsps5.set_webhook", "lsps5", 5).unwrap();
        service.register("lsps2.get_info", PLUGIN, 2).unwrap();
        service.register("lsps2.buy", PLUGIN, 2).unwrap();
        service.register("acme.lsps1_extra", "acme", 1).unwrap();
        assert_eq!(service.registry().protocols(), vec![1, 2, 5]);
        let ask = request("a", list_protocols::METHOD, "{}");
        assert_eq!(
            reply_of(service.receive(&PEER, &ask, now)),
            r#"{"jsonrpc":"2.0","id":"a","result":{"protocols":[1,2,5]}}"#
        );
        // No params at all is the same as `{}`.
        let bare = br#"{"jsonrpc":"2.0","id":"b","method":"lsps0.list_protocols"}"#;
        assert!(matches!(
            service.receive(&PEER, bare, now),
            ServiceAction::Answer(_)
        ));
    }

    #[test]
    fn list_protocols_with_params_is_invalid_params_naming_them() {
        let now = Instant::now();
        let mut service = service();
        let ask = request(
            "42",
            list_protocols::METHOD,
            r#"{"future_feature1_param":"value1"}"#,
        );
        let action = service.receive(&PEER, &ask, now);
        assert_eq!(
            refusal_of(&action),
            Refusal::UnrecognizedParams(vec!["future_feature1_param".into()])
        );
        assert_eq!(
            reply_of(action),
            r#"{"jsonrpc":"2.0","id":"42","error":{"code":-32602,"message":"Invalid params","data":{"unrecognized":["future_feature1_param"]}}}"#
        );
    }

    #[test]
    fn bad_message_formats_get_a_parse_error_with_a_null_id() {
        let now = Instant::now();
        let mut service = service();
        let parse_error =
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#;
        for payload in [
            &b"{"[..],
            b" [ ] ",
            b" { } { ",
            b" { } { }",
            b" { } ",
            b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"m\"}\0",
            br#"{"jsonrpc":"2.0","id":"a","result":{}}"#,
            br#"{"jsonrpc":"2.0","method":"lsps0.list_protocols","params":{}}"#,
            b"\xff",
        ] {
            let action = service.receive(&PEER, payload, now);
            assert!(matches!(refusal_of(&action), Refusal::BadMessage(_)));
            assert_eq!(reply_of(action), parse_error);
        }
    }

    #[test]
    fn invalid_requests_get_invalid_request_with_their_id_when_it_is_a_string() {
        let now = Instant::now();
        let mut service = service();
        let positional =
            br#"{"jsonrpc":"2.0","id":"a","method":"lsps0.list_protocols","params":[]}"#;
        let action = service.receive(&PEER, positional, now);
        assert_eq!(
            refusal_of(&action),
            Refusal::InvalidRequest(InvalidRequest::ParamsNotObject)
        );
        assert_eq!(
            reply_of(action),
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32600,"message":"Invalid Request: params must be an object (by name)"}}"#
        );
        let numeric = br#"{"jsonrpc":"2.0","id":1,"method":"lsps0.list_protocols"}"#;
        assert_eq!(
            reply_of(service.receive(&PEER, numeric, now)),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: id must be a string"}}"#
        );
    }

    #[test]
    fn unknown_methods_are_method_not_found() {
        let now = Instant::now();
        let mut service = service();
        let action = service.receive(&PEER, &request("a", "lsps1.get_info", "{}"), now);
        assert_eq!(
            refusal_of(&action),
            Refusal::MethodNotFound("lsps1.get_info".into())
        );
        assert_eq!(
            reply_of(action),
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"Method not found"}}"#
        );
    }

    #[test]
    fn registered_methods_are_forwarded_and_completed_with_the_owners_answer() {
        let now = Instant::now();
        let mut service = service();
        service.register("lsps2.get_info", PLUGIN, 2).unwrap();
        let ask = request("a", "lsps2.get_info", r#"{"token":"t"}"#);
        let forward = forward_of(service.receive(&PEER, &ask, now));
        assert_eq!(forward.owner, PLUGIN);
        assert_eq!(forward.request.method(), "lsps2.get_info");
        assert_eq!(forward.request.params().get(), r#"{"token":"t"}"#);
        assert_eq!(service.pending_for(&PEER), 1);
        let result = RawValue::from_string(r#"{"opening_fee_params_menu":[]}"#.into()).unwrap();
        let reply = service.complete(forward.handle, Ok(&result)).unwrap();
        assert_eq!(
            (reply.peer, reply.id.as_str(), reply.fault),
            (PEER, "a", None)
        );
        assert_eq!(
            text(&reply.payload),
            r#"{"jsonrpc":"2.0","id":"a","result":{"opening_fee_params_menu":[]}}"#
        );
        assert_eq!(service.pending_for(&PEER), 0);
        assert_eq!(
            service.complete(forward.handle, Ok(&result)),
            Err(UnknownHandle)
        );
        // The owner's error object goes back as it is, data and all.
        let forward = forward_of(service.receive(&PEER, &ask, now));
        let mut error = RpcError::new(200, "Unrecognized or stale token");
        error.data = Some(serde_json::json!({"token": "t"}));
        let reply = service.complete(forward.handle, Err(error)).unwrap();
        assert_eq!(
            text(&reply.payload),
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":200,"message":"Unrecognized or stale token","data":{"token":"t"}}}"#
        );
    }

    #[test]
    fn unsendable_owner_answers_become_internal_errors() {
        let now = Instant::now();
        let mut service = service();
        service.register("lsps2.buy", PLUGIN, 2).unwrap();
        let internal =
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32603,"message":"Internal error"}}"#;
        let ask = request("a", "lsps2.buy", "{}");
        let forward = forward_of(service.receive(&PEER, &ask, now));
        let list = RawValue::from_string("[1]".into()).unwrap();
        let reply = service.complete(forward.handle, Ok(&list)).unwrap();
        assert_eq!(reply.fault, Some(OwnerFault::ResultNotAnObject));
        assert_eq!(text(&reply.payload), internal);
        let forward = forward_of(service.receive(&PEER, &ask, now));
        let huge = format!(r#"{{"blob":"{}"}}"#, "z".repeat(MAX_PAYLOAD_BYTES));
        let huge = RawValue::from_string(huge).unwrap();
        let reply = service.complete(forward.handle, Ok(&huge)).unwrap();
        assert!(matches!(reply.fault, Some(OwnerFault::TooLarge { .. })));
        assert_eq!(text(&reply.payload), internal);
        assert_eq!(service.pending_for(&PEER), 0);
    }

    #[test]
    fn a_peer_over_its_pending_limit_is_rejected_until_one_is_answered() {
        let now = Instant::now();
        let mut service = Service::new(ServiceConfig {
            max_pending_per_peer: 2,
            ..ServiceConfig::default()
        });
        service.register("lsps2.get_info", PLUGIN, 2).unwrap();
        let ask = request("a", "lsps2.get_info", "{}");
        let first = forward_of(service.receive(&PEER, &ask, now));
        forward_of(service.receive(&PEER, &ask, now));
        let action = service.receive(&PEER, &request("c", "lsps2.get_info", "{}"), now);
        assert_eq!(refusal_of(&action), Refusal::TooManyPending);
        assert_eq!(
            reply_of(action),
            r#"{"jsonrpc":"2.0","id":"c","error":{"code":1,"message":"Client rejected","data":{"message":"Too many pending requests: try again later"}}}"#
        );
        // Other peers, and the built-in method, are unaffected.
        forward_of(service.receive(&OTHER, &ask, now));
        let list = request("l", list_protocols::METHOD, "{}");
        assert!(matches!(
            service.receive(&PEER, &list, now),
            ServiceAction::Answer(_)
        ));
        let result = RawValue::from_string("{}".into()).unwrap();
        service.complete(first.handle, Ok(&result)).unwrap();
        forward_of(service.receive(&PEER, &ask, now));
        assert_eq!(service.pending_for(&PEER), 2);
    }

    #[test]
    fn requests_over_the_size_limit_are_refused_with_their_id() {
        let now = Instant::now();
        let mut service = Service::new(ServiceConfig {
            max_request_bytes: 100,
            ..ServiceConfig::default()
        });
        service.register("lsps2.buy", PLUGIN, 2).unwrap();
        let params = format!(r#"{{"x":"{}"}}"#, "y".repeat(100));
        let action = service.receive(&PEER, &request("a", "lsps2.buy", &params), now);
        assert_eq!(
            refusal_of(&action),
            Refusal::InvalidRequest(InvalidRequest::TooLarge)
        );
        assert_eq!(
            reply_of(action),
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32600,"message":"Invalid Request: request too large"}}"#
        );
        assert_eq!(service.pending_for(&PEER), 0);
        // Past what one message can carry, the payload is not read at all.
        let beyond = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        assert_eq!(
            reply_of(service.receive(&PEER, &beyond, now)),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: request too large"}}"#
        );
        // Within the limit, the same request is forwarded.
        forward_of(service.receive(&PEER, &request("a", "lsps2.buy", "{}"), now));
    }

    #[test]
    fn owners_that_do_not_answer_in_time_free_the_slot_with_an_internal_error() {
        let start = Instant::now();
        let mut service = service();
        service.register("lsps2.get_info", PLUGIN, 2).unwrap();
        assert_eq!(service.poll_timeout(), None);
        let first =
            forward_of(service.receive(&PEER, &request("a", "lsps2.get_info", "{}"), start));
        let later = start + Duration::from_secs(30);
        forward_of(service.receive(&OTHER, &request("b", "lsps2.get_info", "{}"), later));
        assert_eq!(
            service.poll_timeout(),
            Some(start + DEFAULT_FORWARD_TIMEOUT)
        );
        assert!(service
            .expire(start + DEFAULT_FORWARD_TIMEOUT - Duration::from_nanos(1))
            .is_empty());
        let expired = service.expire(start + DEFAULT_FORWARD_TIMEOUT);
        assert_eq!(expired.len(), 1);
        assert_eq!((expired[0].peer, expired[0].id.as_str()), (PEER, "a"));
        assert_eq!(
            text(&expired[0].payload),
            r#"{"jsonrpc":"2.0","id":"a","error":{"code":-32603,"message":"Internal error"}}"#
        );
        assert_eq!(service.pending_for(&PEER), 0);
        let result = RawValue::from_string("{}".into()).unwrap();
        assert_eq!(
            service.complete(first.handle, Ok(&result)),
            Err(UnknownHandle)
        );
        assert_eq!(
            service.poll_timeout(),
            Some(later + DEFAULT_FORWARD_TIMEOUT)
        );
    }

    #[test]
    fn an_owner_that_stops_loses_its_methods_and_its_requests_are_answered() {
        let now = Instant::now();
        let mut service = service();
        service.register("lsps2.get_info", PLUGIN, 2).unwrap();
        service.register("lsps5.set_webhook", "lsps5", 5).unwrap();
        let a = forward_of(service.receive(&PEER, &request("a", "lsps2.get_info", "{}"), now));
        let b = forward_of(service.receive(&PEER, &request("b", "lsps5.set_webhook", "{}"), now));
        let replies = service.unregister_owner(&PLUGIN);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].id.as_str(), "a");
        assert_eq!(service.registry().protocols(), vec![5]);
        assert_eq!(service.pending_for(&PEER), 1);
        let result = RawValue::from_string("{}".into()).unwrap();
        assert_eq!(service.complete(a.handle, Ok(&result)), Err(UnknownHandle));
        assert!(service.complete(b.handle, Ok(&result)).is_ok());
        let action = service.receive(&PEER, &request("c", "lsps2.get_info", "{}"), now);
        assert!(matches!(refusal_of(&action), Refusal::MethodNotFound(_)));
    }
}
