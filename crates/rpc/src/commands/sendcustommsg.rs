//! `sendcustommsg node_id msg [delivery] [timeout] [ttl]` (and `dev-sendcustommsg`, its
//! developer-mode name): queues a custom message to a peer, with CLN's checks in CLN's order:
//! the type, then the peer.
//!
//! `delivery` is ours (CLN has only the first two parameters): `queued`, the default, answers
//! as CLN does once the message is in the peer's queue; `written` answers once it has been
//! written to the peer's socket, or fails saying why (the connection closed first, or
//! `timeout` seconds passed, 60 by default); `stored` also accepts a peer that is not
//! connected (or not known), keeps the message for `ttl` seconds and sends it, in order, when
//! the peer connects.

use std::time::Duration;

use noise_transport::PublicKey;
use serde_json::json;
use wire::MsgType;

use peer_manager::SendCustomError;
use subdaemon_state::SendRefused;

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::control::StoredSubmission;
use crate::errors;
use crate::params::{self, Params};
use jsonrpc::error::RpcError;

/// `sendcustommsg` under either of its names.
pub(crate) struct SendCustomMsg {
    signature: Signature,
}

impl SendCustomMsg {
    /// `sendcustommsg`.
    pub(crate) const PUBLIC: SendCustomMsg = SendCustomMsg::named("sendcustommsg", false);
    /// `dev-sendcustommsg`, its name before CLN v0.10.2, kept under `--developer`.
    pub(crate) const DEVELOPER: SendCustomMsg = SendCustomMsg::named("dev-sendcustommsg", true);

    const fn named(name: &'static str, developer: bool) -> SendCustomMsg {
        SendCustomMsg {
            signature: Signature {
                name,
                params: &["node_id", "msg", "delivery", "timeout", "ttl"],
                usage: "node_id msg [delivery] [timeout] [ttl]",
                developer,
            },
        }
    }
}

/// How long a `written` send waits by default.
const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// When `sendcustommsg` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Once the message is queued (CLN's behaviour and answer).
    Queued,
    /// Once it is written to the socket, waiting at most this long.
    Written(Duration),
    /// Once it is queued, or stored for a peer that is not connected (for this long, or the
    /// node's default).
    Stored(Option<Duration>),
}

/// A message for a peer.
#[derive(Debug)]
pub(crate) struct SendArgs {
    pub(crate) id: PublicKey,
    /// Type and payload, at least 2 bytes.
    pub(crate) message: Vec<u8>,
    pub(crate) ty: MsgType,
    pub(crate) delivery: Delivery,
}

fn delivery_name(token: &serde_json::value::RawValue) -> Result<String, params::Refusal> {
    match jsonrpc::params::string(token)?.as_str() {
        name @ ("queued" | "written" | "stored") => Ok(name.to_owned()),
        _ => Err(params::Refusal::Should(
            "should be 'queued', 'written' or 'stored'",
        )),
    }
}

fn timeout_seconds(token: &serde_json::value::RawValue) -> Result<u32, params::Refusal> {
    match jsonrpc::params::u32_number(token)? {
        0 => Err(params::Refusal::Should(
            "should be a positive number of seconds",
        )),
        seconds => Ok(seconds),
    }
}

impl TypedCommand for SendCustomMsg {
    type Args = SendArgs;

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn parse(&self, p: &Params<'_>) -> Result<SendArgs, RpcError> {
        let id = p.required(0, params::node_id)?;
        let message = p.required(1, params::message_hex)?;
        let ty = MsgType(u16::from_be_bytes([message[0], message[1]]));
        if ty.is_cln_internal() {
            return Err(RpcError::invalid_request(format!(
                "Cannot send messages of type {} ({}). It is not possible to send messages that \
                 have a type managed internally since that might cause issues with the internal \
                 state tracking.",
                ty.0,
                ty.name()
            )));
        }
        let name = p.optional(2, delivery_name)?;
        let seconds = |s: u32| Duration::from_secs(u64::from(s));
        let timeout = p.optional(3, timeout_seconds)?.map(seconds);
        let ttl = p.optional(4, timeout_seconds)?.map(seconds);
        if timeout.is_some() && name.as_deref() != Some("written") {
            return Err(RpcError::invalid_params(
                "timeout: only meaningful with delivery 'written'",
            ));
        }
        if ttl.is_some() && name.as_deref() != Some("stored") {
            return Err(RpcError::invalid_params(
                "ttl: only meaningful with delivery 'stored'",
            ));
        }
        let delivery = match name.as_deref() {
            Some("written") => Delivery::Written(timeout.unwrap_or(DEFAULT_WRITE_TIMEOUT)),
            Some("stored") => Delivery::Stored(ttl),
            _ => Delivery::Queued,
        };
        Ok(SendArgs {
            id,
            message,
            ty,
            delivery,
        })
    }

    fn validate(&self, ctx: &Context<'_>, args: &SendArgs) -> Result<(), RpcError> {
        let manager = ctx.node.manager();
        let ty = args.ty;
        // An even type is allowed only while a running plugin declared it.
        if !ty.is_odd() && !manager.is_allowed_even_type(ty.0) {
            return Err(RpcError::invalid_request(format!(
                "Cannot send even-typed {} custom message. Currently custom messages are limited \
                 to odd-numbered message types, as even-numbered types might result in \
                 disconnections.",
                ty.0
            )));
        }
        if let Delivery::Stored(_) = args.delivery {
            if ctx.node.stored_sends().is_none() {
                return Err(RpcError::lightningd(
                    "This node keeps no messages for offline peers",
                ));
            }
            // Not connected, or not known yet, is what `stored` is for.
            return match manager.check_custom(&args.id) {
                Ok(_)
                | Err(SendCustomError::NoSuchPeer)
                | Err(SendCustomError::Refused(SendRefused::NotConnected)) => Ok(()),
                Err(error) => Err(errors::send_custom_error(&args.id, error)),
            };
        }
        manager
            .check_custom(&args.id)
            .map_err(|error| errors::send_custom_error(&args.id, error))?;
        Ok(())
    }

    fn execute(&self, ctx: &Context<'_>, args: SendArgs) -> Result<Reply, RpcError> {
        let manager = ctx.node.manager();
        let sent = |error| errors::send_custom_error(&args.id, error);
        let timeout = match args.delivery {
            Delivery::Queued => {
                let owner = manager.send_custom(&args.id, &args.message).map_err(sent)?;
                return Ok(Reply::Now(json!({
                    "status": format!("Message sent to subdaemon {owner} for delivery")
                })));
            }
            Delivery::Written(timeout) => timeout,
            Delivery::Stored(ttl) => {
                let queue = ctx.node.stored_sends().ok_or_else(|| {
                    RpcError::lightningd("This node keeps no messages for offline peers")
                })?;
                return Ok(Reply::Now(
                    match queue.submit(&args.id, &args.message, ttl)? {
                        StoredSubmission::Queued(owner) => json!({
                            "status": format!("Message sent to subdaemon {owner} for delivery")
                        }),
                        StoredSubmission::Stored { id, expires_at } => json!({
                            "status": "Message stored: it is sent, in order, when the peer is connected",
                            "id": id,
                            "expires_at": expires_at,
                        }),
                    },
                ));
            }
        };
        let (owner, receipt) = manager
            .send_custom_tracked(&args.id, &args.message)
            .map_err(sent)?;
        let peer = args.id;
        Ok(Reply::Later(Box::pin(async move {
            match tokio::time::timeout(timeout, receipt.written()).await {
                Ok(Ok(())) => Ok(json!({
                    "status": format!("Message written to the peer's connection by subdaemon {owner}")
                })),
                Ok(Err(not_written)) => Err(errors::not_written(&peer, &not_written)),
                Err(_) => Err(errors::write_timed_out(&peer, timeout)),
            }
        })))
    }
}
