//! `help [command]`: every command the node serves, or one, with its usage.

use serde_json::{json, Value};

use crate::command::{Context, Reply, Signature, TypedCommand};
use jsonrpc::error::RpcError;
use jsonrpc::params::{self, Params};

static SIGNATURE: Signature = Signature {
    name: "help",
    params: &["command"],
    usage: "[command]",
    developer: false,
};

/// `help`.
pub(crate) struct Help;

fn entry(name: &str, usage: &str) -> Value {
    let text = match usage {
        "" => name.to_owned(),
        usage => format!("{name} {usage}"),
    };
    json!({ "command": text })
}

fn answer(entries: Vec<Value>) -> Reply {
    Reply::Now(json!({ "help": entries, "format-hint": "simple" }))
}

impl TypedCommand for Help {
    /// `command`.
    type Args = Option<String>;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<Option<String>, RpcError> {
        p.optional(0, params::string)
    }

    fn validate(&self, ctx: &Context<'_>, wanted: &Option<String>) -> Result<(), RpcError> {
        let Some(name) = wanted else {
            return Ok(());
        };
        if ctx.dispatcher.is_external_method(name) {
            return Ok(());
        }
        let command = ctx
            .dispatcher
            .command(name)
            .ok_or_else(|| RpcError::method_not_found(format!("Unknown command {name}")))?;
        if command.signature().developer && !ctx.node.info().developer {
            return Err(RpcError::method_not_found(format!(
                "Developer-only command {name}"
            )));
        }
        Ok(())
    }

    fn execute(&self, ctx: &Context<'_>, wanted: Option<String>) -> Result<Reply, RpcError> {
        let dispatcher = ctx.dispatcher;
        if let Some(name) = wanted {
            let usage = match dispatcher.command(&name) {
                Some(command) => Some(command.signature().usage.to_owned()),
                None => dispatcher
                    .external_methods()
                    .and_then(|methods| methods.usage(&name)),
            };
            // `validate` found it; a plugin method may have gone since.
            let usage = usage
                .ok_or_else(|| RpcError::method_not_found(format!("Unknown command {name}")))?;
            return Ok(answer(vec![entry(&name, &usage)]));
        }
        let developer = ctx.node.info().developer;
        let mut entries: Vec<Value> = dispatcher
            .commands()
            .map(|command| command.signature())
            .filter(|signature| developer || !signature.developer)
            .map(|signature| entry(signature.name, signature.usage))
            .collect();
        if let Some(methods) = dispatcher.external_methods() {
            for (name, usage) in methods.list() {
                entries.push(entry(&name, &usage));
            }
        }
        Ok(answer(entries))
    }
}
