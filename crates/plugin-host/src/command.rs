//! The `plugin` RPC command: `plugin subcommand [plugin|directory] [key=value ...]`, or by
//! name with `subcommand`, `plugin` (or `directory`), `options` (a list of `key=value`) and
//! any other names taken as plugin options. The host registers it into the dispatcher.

use std::path::PathBuf;
use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{self, RawParams, Refusal};
use rpc::{Command, CommandTaken, Context, Dispatcher, Reply, Signature};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::host::PluginHost;
use crate::supervisor::scan_dir;

static SIGNATURE: Signature = Signature {
    name: "plugin",
    params: &["subcommand", "plugin", "options"],
    usage: "subcommand [plugin|directory] [options]",
    developer: false,
};

/// `plugin`. Not a typed command: any parameter name may be a plugin option.
struct PluginCommand {
    host: PluginHost,
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

impl PluginHost {
    /// Gives `dispatcher` the `plugin` command and the plugins' RPC methods.
    ///
    /// # Errors
    /// The dispatcher already has a command called `plugin`.
    pub fn register(&self, dispatcher: &mut Dispatcher) -> Result<(), CommandTaken> {
        dispatcher.register(Arc::new(PluginCommand { host: self.clone() }))?;
        dispatcher.set_external_methods(Arc::new(self.clone()));
        Ok(())
    }

    /// The `plugin` command.
    ///
    /// # Errors
    /// Unknown subcommand, unknown or non-dynamic plugin, or a plugin that failed to start.
    async fn command(
        &self,
        subcommand: &str,
        target: Option<String>,
        options: Vec<(String, String)>,
    ) -> Result<Value, RpcError> {
        match subcommand {
            "list" => Ok(self.list("list")),
            "stop" => {
                let target = target.ok_or_else(|| {
                    RpcError::invalid_params("missing required parameter: plugin")
                })?;
                let plugin = self
                    .plugins()
                    .into_iter()
                    .find(|p| p.is_named(&target))
                    .ok_or_else(|| {
                        RpcError::lightningd(format!("Could not find plugin {target}"))
                    })?;
                if !plugin.manifest.dynamic {
                    return Err(RpcError::lightningd(format!(
                        "{} cannot be managed when lightningd is up",
                        plugin.name
                    )));
                }
                self.stop_plugin(&plugin, "Killing plugin: stopped by the plugin command");
                Ok(json!({"command": "stop", "result": format!("Successfully stopped {}.", plugin.name)}))
            }
            "start" => {
                let target = target.ok_or_else(|| {
                    RpcError::invalid_params("missing required parameter: plugin")
                })?;
                let path = std::fs::canonicalize(&target)
                    .map_err(|e| RpcError::lightningd(format!("{target}: {e}")))?;
                self.start_dynamic(&path, &options).await?;
                Ok(self.list("start"))
            }
            "startdir" | "rescan" => {
                let dir = match (subcommand, target) {
                    ("startdir", Some(dir)) => PathBuf::from(dir),
                    ("startdir", None) => {
                        return Err(RpcError::invalid_params(
                            "missing required parameter: directory",
                        ))
                    }
                    _ => self.config().lightning_dir.join("plugins"),
                };
                for path in scan_dir(&dir) {
                    let path = std::fs::canonicalize(&path).unwrap_or(path);
                    if self.plugins().iter().any(|p| p.path == path) {
                        continue;
                    }
                    if let Err(error) = self.start_dynamic(&path, &[]).await {
                        self.warn("plugin-manager", &error.message);
                    }
                }
                Ok(self.list(subcommand))
            }
            other => Err(RpcError::invalid_params(format!(
                "subcommand: should be one of start, stop, startdir, rescan, list: invalid token '{other}'"
            ))),
        }
    }

    /// Every plugin, as `plugin <command>` answers.
    fn list(&self, command: &str) -> Value {
        let plugins: Vec<Value> = self
            .plugins()
            .iter()
            .map(|p| {
                json!({
                    "name": p.path.display().to_string(),
                    "active": p.is_active(),
                    "dynamic": p.manifest.dynamic,
                })
            })
            .collect();
        json!({"command": command, "plugins": plugins})
    }
}
