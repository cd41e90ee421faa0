//! The `plugin` RPC command: `plugin subcommand [plugin|directory] [key=value ...]`, or by
//! name with `subcommand`, `plugin` (or `directory`), `options` (a list of `key=value`) and
//! any other names taken as plugin options. The host registers it into the dispatcher.

use serde_json::value::RawValue;

use crate::host::PluginHost;
use jsonrpc::error::RpcError;
use jsonrpc::params::{self, RawParams, Refusal};
use rpc::{Command, Context, Reply, Signature};

static SIGNATURE: Signature = Signature {
    name: "plugin",
    params: &["subcommand", "plugin", "options"],
    usage: "subcommand [plugin|directory] [options]",
    developer: false,
};

/// `plugin`. Not a typed command: any parameter name may be a plugin option.
pub struct PluginCommand {
    host: PluginHost,
}

impl PluginCommand {
    /// The command, acting on `host`.
    pub fn new(host: PluginHost) -> PluginCommand {
        PluginCommand { host }
    }
}

/// What `plugin` was asked to do.
#[derive(Debug, PartialEq, Eq)]
struct PluginArgs {
    subcommand: String,
    /// The plugin or directory.
    target: Option<String>,
    /// Options for `plugin start`, in order.
    options: Vec<(String, String)>,
}

fn text(name: &str, token: &RawValue) -> Result<String, RpcError> {
    params::token_text(token)
        .ok_or_else(|| params::refuse(name, token, Refusal::Should("should be a string")))
}

fn split_option(entry: String) -> Result<(String, String), RpcError> {
    match entry.split_once('=') {
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(RpcError::invalid_params(format!(
            "options: should be key=value: invalid token '{entry}'"
        ))),
    }
}

/// The parameters, typed; pure.
fn parse(raw: RawParams<'_>) -> Result<PluginArgs, RpcError> {
    let mut subcommand = None;
    let mut target = None;
    let mut options: Vec<(String, String)> = Vec::new();
    match raw {
        RawParams::Positional(values) => {
            for (index, token) in values.into_iter().enumerate() {
                match index {
                    0 => subcommand = Some(text("subcommand", token)?),
                    1 => target = Some(text("plugin", token)?),
                    _ => options.push(split_option(text("options", token)?)?),
                }
            }
        }
        RawParams::Named(pairs) => {
            for (name, token) in pairs {
                match name.as_str() {
                    "subcommand" => subcommand = Some(text("subcommand", token)?),
                    "plugin" | "directory" => target = Some(text(&name, token)?),
                    "options" => {
                        let entries: Vec<String> =
                            serde_json::from_str(token.get()).map_err(|_| {
                                params::refuse(
                                    "options",
                                    token,
                                    Refusal::Should("should be an array of key=value"),
                                )
                            })?;
                        for entry in entries {
                            options.push(split_option(entry)?);
                        }
                    }
                    _ => options.push((name.clone(), text(&name, token)?)),
                }
            }
        }
    }
    let subcommand = subcommand
        .ok_or_else(|| RpcError::invalid_params("missing required parameter: subcommand"))?;
    Ok(PluginArgs {
        subcommand,
        target,
        options,
    })
}

impl Command for PluginCommand {
    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn check(&self, _: &Context<'_>, params: RawParams<'_>) -> Result<(), RpcError> {
        parse(params).map(drop)
    }

    fn run(&self, _: &Context<'_>, params: RawParams<'_>) -> Result<Reply, RpcError> {
        let PluginArgs {
            subcommand,
            target,
            options,
        } = parse(params)?;
        let host = self.host.clone();
        Ok(Reply::Later(Box::pin(async move {
            host.command(&subcommand, target, options).await
        })))
    }
}
