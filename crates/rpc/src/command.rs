//! What a command is, to the dispatcher and to whoever writes one.
//!
//! [`Command`] is object-safe: the [`Dispatcher`] holds commands as trait objects, so crates
//! outside this one register their own (the plugin host registers `plugin`). Most commands
//! implement [`TypedCommand`] instead and get [`Command`] from it, once, here:
//!
//! ```text
//! check: bind ─▶ parse (pure) ─▶ validate (reads the node)
//! run:   bind ─▶ parse (pure) ─▶ validate (reads the node) ─▶ execute (acts)
//! ```
//!
//! so nothing a command does under `check` can reach `execute`, whatever the command forgets.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde_json::Value;

use crate::control::NodeControl;
use crate::dispatch::Dispatcher;
use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, RawParams};

/// A result still being computed; it owns everything it needs.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;

/// The answer to a request.
pub enum Reply {
    /// The result, ready.
    Now(Value),
    /// The result, once the future resolves: slow commands (`connect`, `ping`, plugin
    /// methods) never hold up the requests behind them on the same connection.
    Later(ReplyFuture),
    /// The result; once it is written, the node stops (`stop`).
    ThenStop(Value),
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Now(value) => f.debug_tuple("Now").field(value).finish(),
            Reply::Later(_) => f.write_str("Later(..)"),
            Reply::ThenStop(value) => f.debug_tuple("ThenStop").field(value).finish(),
        }
    }
}

/// Per-connection settings that commands change (`notifications`). A caller without a
/// connection (a command arriving another way) uses a fresh one per request.
#[derive(Debug, Default)]
pub struct Session {
    /// `notifications enable=true` was called on this connection.
    pub notifications: AtomicBool,
}

/// What a command runs with.
pub struct Context<'a> {
    /// The node.
    pub node: &'a Arc<dyn NodeControl>,
    /// Every command and external method (for `check` and `help`).
    pub dispatcher: &'a Dispatcher,
    /// The caller's settings.
    pub session: &'a Session,
    /// The request's id token, as written.
    pub request_id: &'a str,
}

/// What `help` and the dispatcher know of a command without running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Its name.
    pub name: &'static str,
    /// Its parameter names, in positional order.
    pub params: &'static [&'static str],
    /// What `help` shows after the name; optional parameters in brackets.
    pub usage: &'static str,
    /// Only with `--developer`.
    pub developer: bool,
}

/// A command as the dispatcher holds it.
///
/// Implement [`TypedCommand`] rather than this, unless the parameters cannot be bound to a
/// fixed list of names (`check` takes another command's, `plugin` takes plugin options). An
/// implementation's `check` must not act: it is all `check <command>` runs.
pub trait Command: Send + Sync {
    /// Name, parameters, usage, developer-only.
    fn signature(&self) -> &Signature;

    /// Validates `params` as `run` would, and does nothing.
    ///
    /// # Errors
    /// What `run` would refuse before acting.
    fn check(&self, ctx: &Context<'_>, params: RawParams<'_>) -> Result<(), RpcError>;

    /// Validates `params` and acts.
    ///
    /// # Errors
    /// Bad parameters, or the command's own failure.
    fn run(&self, ctx: &Context<'_>, params: RawParams<'_>) -> Result<Reply, RpcError>;
}

/// A command whose parameters bind to [`Signature::params`]: parsed into [`Self::Args`]
/// without the node, validated against it, then executed. `check` runs the first two only.
pub trait TypedCommand: Send + Sync {
    /// The parameters, typed.
    type Args;

    /// Name, parameters, usage, developer-only.
    fn signature(&self) -> &Signature;

    /// The bound parameters, typed. Pure: no node, no clock, nothing shared.
    ///
    /// # Errors
    /// A parameter is missing or malformed (CLN's texts).
    fn parse(&self, params: &Params<'_>) -> Result<Self::Args, RpcError>;

    /// What `check` must still report that needs the node (`No such peer`, ...). Reads only.
    ///
    /// # Errors
    /// The node's state refuses the command.
    fn validate(&self, ctx: &Context<'_>, args: &Self::Args) -> Result<(), RpcError> {
        let _ = (ctx, args);
        Ok(())
    }

    /// Does the work; never reached under `check`.
    ///
    /// # Errors
    /// The command's own failure.
    fn execute(&self, ctx: &Context<'_>, args: Self::Args) -> Result<Reply, RpcError>;
}

/// The one place `check` and `run` are told apart for typed commands.
impl<C: TypedCommand> Command for C {
    fn signature(&self) -> &Signature {
        TypedCommand::signature(self)
    }

    fn check(&self, ctx: &Context<'_>, params: RawParams<'_>) -> Result<(), RpcError> {
        let args = self.parse(&params.bind(TypedCommand::signature(self).params)?)?;
        self.validate(ctx, &args)
    }

    fn run(&self, ctx: &Context<'_>, params: RawParams<'_>) -> Result<Reply, RpcError> {
        let args = self.parse(&params.bind(TypedCommand::signature(self).params)?)?;
        self.validate(ctx, &args)?;
        self.execute(ctx, args)
    }
}
