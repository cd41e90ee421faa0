//! The dispatcher: from a parsed request to a [`Reply`], with no socket in sight, so commands
//! that arrive another way (over Lightning, one day) go through the same table and rules.
//!
//! It owns the command table (the built-ins, then what other crates registered) and the
//! methods served elsewhere ([`ExternalMethods`]: plugins' `rpcmethods`). For each request it
//! finds the command, applies the developer-only rule, splits the params and runs it; `check`
//! is a command like the others, which asks a command to [`Command::check`] instead.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::command::{Command, Context, Reply, ReplyFuture, Session};
use crate::commands;
use crate::control::NodeControl;
use jsonrpc::error::RpcError;
use jsonrpc::params::RawParams;
use jsonrpc::request::Request;

/// RPC methods served outside this crate (the plugin host serves plugins' `rpcmethods`), as
/// far as the dispatcher needs them. A command in the table wins over a method of the same
/// name; the server of the methods should refuse such names ([`Dispatcher::builtin_names`]).
pub trait ExternalMethods: Send + Sync {
    /// The usage `help` shows for method `name` (`""` for none), if it is served.
    fn usage(&self, name: &str) -> Option<String>;

    /// Every method served, `(name, usage)`, in the order `help` lists them.
    fn list(&self) -> Vec<(String, String)>;

    /// Starts a call of method `name`, or `None` if no such method is served. `caller_id` is
    /// the request's id token as written; `params` and `filter` are the request's raw JSON.
    fn call(
        &self,
        caller_id: &str,
        name: &str,
        params: &str,
        filter: Option<&str>,
    ) -> Option<ReplyFuture>;
}

/// A command could not be registered: the dispatcher already has one by that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTaken(pub String);

impl std::fmt::Display for CommandTaken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a command named {} is already registered", self.0)
    }
}

impl std::error::Error for CommandTaken {}

/// Every command and method the node serves, and the node they act on. Built before the
/// server starts, then shared read-only.
pub struct Dispatcher {
    node: Arc<dyn NodeControl>,
    /// The built-ins in name order, then registered commands in registration order: the
    /// order `help` lists them.
    commands: Vec<Arc<dyn Command>>,
    external: Option<Arc<dyn ExternalMethods>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.commands().map(|c| c.signature().name).collect();
        f.debug_struct("Dispatcher")
            .field("commands", &names)
            .field("external", &self.external.is_some())
            .finish_non_exhaustive()
    }
}

impl Dispatcher {
    /// The built-in commands acting on `node`, and no external methods.
    pub fn new(node: Arc<dyn NodeControl>) -> Dispatcher {
        Dispatcher {
            node,
            commands: commands::builtins(),
            external: None,
        }
    }

    /// The names of the built-in commands: what external methods must not be called.
    pub fn builtin_names() -> Vec<&'static str> {
        commands::builtins()
            .iter()
            .map(|command| command.signature().name)
            .collect()
    }

    /// Adds a command from outside this crate.
    ///
    /// # Errors
    /// A command by that name is already in the table.
    pub fn register(&mut self, command: Arc<dyn Command>) -> Result<(), CommandTaken> {
        let name = command.signature().name;
        if self.command(name).is_some() {
            return Err(CommandTaken(name.to_owned()));
        }
        self.commands.push(command);
        Ok(())
    }

    /// Serves the methods no command claims from `methods`.
    pub fn set_external_methods(&mut self, methods: Arc<dyn ExternalMethods>) {
        self.external = Some(methods);
    }

    /// The node commands act on.
    pub fn node(&self) -> &Arc<dyn NodeControl> {
        &self.node
    }

    /// The command called `name`, developer-only or not.
    pub fn command(&self, name: &str) -> Option<&dyn Command> {
        self.commands
            .iter()
            .find(|command| command.signature().name == name)
            .map(|command| &**command)
    }

    /// Every command, in `help`'s order.
    pub fn commands(&self) -> impl Iterator<Item = &dyn Command> {
        self.commands.iter().map(|command| &**command)
    }

    /// The external methods, if any are served.
    pub fn external_methods(&self) -> Option<&dyn ExternalMethods> {
        self.external.as_deref()
    }

    /// Whether `name` is an external method no command shadows.
    pub fn is_external_method(&self, name: &str) -> bool {
        self.command(name).is_none()
            && self
                .external_methods()
                .is_some_and(|methods| methods.usage(name).is_some())
    }

    /// The command `name`, if this node may run it.
    ///
    /// # Errors
    /// -32601 `Unknown command '<name>'`, or `Command <name> is developer-only` without
    /// `--developer`.
    pub fn runnable(&self, name: &str) -> Result<&dyn Command, RpcError> {
        let command = self
            .command(name)
            .ok_or_else(|| RpcError::method_not_found(format!("Unknown command '{name}'")))?;
        if command.signature().developer && !self.node.info().developer {
            return Err(RpcError::method_not_found(format!(
                "Command {name} is developer-only"
            )));
        }
        Ok(command)
    }

    /// Answers one request: a command in the table, else an external method (its params and
    /// filter passed on untouched), else `Unknown command`.
    ///
    /// # Errors
    /// Unknown or developer-only command, bad parameters, or the command's own failure.
    pub fn dispatch(&self, session: &Session, request: &Request<'_>) -> Result<Reply, RpcError> {
        if self.command(&request.method).is_none() {
            let call = self.external_methods().and_then(|methods| {
                methods.call(
                    request.id,
                    &request.method,
                    request.params.get(),
                    request.filter.map(RawValue::get),
                )
            });
            if let Some(call) = call {
                return Ok(Reply::Later(call));
            }
        }
        let command = self.runnable(&request.method)?;
        let params = RawParams::parse(request.params)?;
        let ctx = Context {
            node: &self.node,
            dispatcher: self,
            session,
            request_id: request.id,
        };
        command.run(&ctx, params)
    }
}
