//! The commands: parameter lists, CLN's result shapes and error texts.
//!
//! A command parses its parameters at once (borrowing the connection's buffer) and then
//! either answers ([`Reply::Now`]) or hands back a future that owns what it needs
//! ([`Reply::Later`]), so slow commands (`connect`, `ping`, `disconnect`) never hold up the
//! requests behind them on the same connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use noise_transport::PublicKey;
use peer_manager::{ConnectionInfo, PeerEvent, PeerInfo};
use serde_json::{json, Map, Value};
use subdaemon_state::{Owner, PeerInput};
use wire::MsgType;

use node_config::LogLevel;

use crate::control::{ChannelRecord, NodeControl};
use crate::errors;
use crate::params::{self, Params, RawParams, Refusal};
use crate::shapes::{address_json, direction_name, hex_id};
use jsonrpc::error::RpcError;
use jsonrpc::request::Request;

/// The answer to a request.
pub enum Reply {
    /// The result, ready.
    Now(Value),
    /// The result, once the future resolves.
    Later(Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>),
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

/// Per-connection settings that commands change (`notifications`).
#[derive(Debug, Default)]
pub struct Session {
    /// `notifications enable=true` was called on this connection.
    pub notifications: AtomicBool,
}

/// What a command runs with.
pub struct Context<'a> {
    /// The node.
    pub node: &'a Arc<dyn NodeControl>,
    /// The connection's settings.
    pub session: &'a Session,
    /// Under `check`: validate only, change nothing.
    pub check: Option<&'static str>,
    /// The request's id token (for log lines).
    pub request_id: &'a str,
}

impl Context<'_> {
    /// `check`'s result, once a command has validated everything it can.
    fn checked(&self) -> Option<Reply> {
        self.check
            .map(|name| Reply::Now(json!({ "command_to_check": name })))
    }
}

type Run = fn(&Context<'_>, &Params<'_>) -> Result<Reply, RpcError>;

/// A command in the table.
pub struct Command {
    /// Its name.
    pub name: &'static str,
    /// Its parameter names, in positional order.
    pub params: &'static [&'static str],
    /// What `help` shows after the name; optional parameters in brackets.
    pub usage: &'static str,
    /// Only with `--developer`.
    pub developer: bool,
    run: Run,
}

const DEV_CHANNEL_PARAMS: &[&str] = &["id", "channel_id"];
const DEV_CHANNEL_USAGE: &str = "id [channel_id]";

/// Every command, by name.
pub static COMMANDS: &[Command] = &[
    Command {
        name: "check",
        params: &["command_to_check"],
        usage: "command_to_check",
        developer: false,
        run: |_, _| {
            Err(RpcError::invalid_request(
                "check is dispatched before binding",
            ))
        },
    },
    Command {
        name: "connect",
        params: &["id", "host", "port"],
        usage: "id [host] [port]",
        developer: false,
        run: connect,
    },
    Command {
        name: "dev-close-channel",
        params: DEV_CHANNEL_PARAMS,
        usage: DEV_CHANNEL_USAGE,
        developer: true,
        run: |ctx, p| dev_channel_step(ctx, p, PeerInput::ClosingStarted),
    },
    Command {
        name: "dev-forget-channel",
        params: DEV_CHANNEL_PARAMS,
        usage: DEV_CHANNEL_USAGE,
        developer: true,
        run: |ctx, p| dev_channel_step(ctx, p, PeerInput::ChannelForgotten),
    },
    Command {
        name: "dev-open-channel",
        params: &["id"],
        usage: "id",
        developer: true,
        run: dev_open_channel,
    },
    Command {
        name: "dev-sendcustommsg",
        params: &["node_id", "msg"],
        usage: "node_id msg",
        developer: true,
        run: sendcustommsg,
    },
    Command {
        name: "dev-spend-funding",
        params: DEV_CHANNEL_PARAMS,
        usage: DEV_CHANNEL_USAGE,
        developer: true,
        run: |ctx, p| dev_channel_step(ctx, p, PeerInput::FundingSpent),
    },
    Command {
        name: "disconnect",
        params: &["id", "force"],
        usage: "id [force]",
        developer: false,
        run: disconnect,
    },
    Command {
        name: "getinfo",
        params: &[],
        usage: "",
        developer: false,
        run: getinfo,
    },
    Command {
        name: "help",
        params: &["command"],
        usage: "[command]",
        developer: false,
        run: help,
    },
    Command {
        name: "listpeerchannels",
        params: &["id", "short_channel_id", "channel_id"],
        usage: "[id] [short_channel_id] [channel_id]",
        developer: false,
        run: listpeerchannels,
    },
    Command {
        name: "listpeers",
        params: &["id", "level"],
        usage: "[id] [level]",
        developer: false,
        run: listpeers,
    },
    Command {
        name: "notifications",
        params: &["enable"],
        usage: "enable",
        developer: false,
        run: notifications,
    },
    Command {
        name: "ping",
        params: &["id", "len", "pongbytes"],
        usage: "id [len] [pongbytes]",
        developer: false,
        run: ping,
    },
    Command {
        name: "sendcustommsg",
        params: &["node_id", "msg"],
        usage: "node_id msg",
        developer: false,
        run: sendcustommsg,
    },
    Command {
        name: "stop",
        params: &[],
        usage: "",
        developer: false,
        run: stop,
    },
];

/// The command called `name`.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().find(|command| command.name == name)
}

/// Finds the request's command, checks it may run, binds its parameters and runs it.
///
/// # Errors
/// Unknown or developer-only command, bad parameters, or the command's own failure.
pub fn dispatch(
    node: &Arc<dyn NodeControl>,
    session: &Session,
    request: &Request<'_>,
) -> Result<Reply, RpcError> {
    if find(&request.method).is_none() {
        if let Some(host) = node.plugins() {
            if request.method == "plugin" {
                return plugin_command(host, RawParams::parse(request.params)?);
            }
            if let Some((plugin, method)) = host.method(&request.method) {
                let id = request.id.to_owned();
                let params = request.params.get().to_owned();
                let filter = request.filter.map(|f| f.get().to_owned());
                return Ok(Reply::Later(Box::pin(async move {
                    crate::plugin::PluginHost::forward(
                        plugin,
                        &id,
                        &method.name,
                        &params,
                        filter.as_deref(),
                    )
                    .await
                })));
            }
        }
    }
    let command = runnable(node, &request.method)?;
    let raw = RawParams::parse(request.params)?;
    if command.name == "check" {
        return check(node, session, request.id, raw);
    }
    let params = raw.bind(command.params)?;
    let ctx = Context {
        node,
        session,
        check: None,
        request_id: request.id,
    };
    (command.run)(&ctx, &params)
}

/// `plugin subcommand [plugin|directory] [key=value ...]`, or by name with `subcommand`,
/// `plugin` (or `directory`), `options` (a list of `key=value`) and any other names taken as
/// plugin options.
fn plugin_command(host: &crate::plugin::PluginHost, raw: RawParams<'_>) -> Result<Reply, RpcError> {
    let text = |name: &str, token: &serde_json::value::RawValue| {
        params::token_text(token)
            .ok_or_else(|| params::refuse(name, token, Refusal::Should("should be a string")))
    };
    let mut subcommand = None;
    let mut target = None;
    let mut options: Vec<(String, String)> = Vec::new();
    let split = |entry: String| match entry.split_once('=') {
        Some((key, value)) => Ok((key.to_owned(), value.to_owned())),
        None => Err(RpcError::invalid_params(format!(
            "options: should be key=value: invalid token '{entry}'"
        ))),
    };
    match raw {
        RawParams::Positional(values) => {
            for (index, token) in values.into_iter().enumerate() {
                match index {
                    0 => subcommand = Some(text("subcommand", token)?),
                    1 => target = Some(text("plugin", token)?),
                    _ => options.push(split(text("options", token)?)?),
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
                            options.push(split(entry)?);
                        }
                    }
                    _ => options.push((name.clone(), text(&name, token)?)),
                }
            }
        }
    }
    let subcommand = subcommand
        .ok_or_else(|| RpcError::invalid_params("missing required parameter: subcommand"))?;
    let host = host.clone();
    Ok(Reply::Later(Box::pin(async move {
        host.command(&subcommand, target, options).await
    })))
}

fn runnable(node: &Arc<dyn NodeControl>, name: &str) -> Result<&'static Command, RpcError> {
    let command = find(name)
        .ok_or_else(|| RpcError::method_not_found(format!("Unknown command '{name}'")))?;
    if command.developer && !node.info().developer {
        return Err(RpcError::method_not_found(format!(
            "Command {name} is developer-only"
        )));
    }
    Ok(command)
}

/// `check command_to_check ...`: the named command's parameters (and, for `sendcustommsg`,
/// its peer checks) are validated, and nothing is done.
fn check(
    node: &Arc<dyn NodeControl>,
    session: &Session,
    request_id: &str,
    raw: RawParams<'_>,
) -> Result<Reply, RpcError> {
    let missing = || RpcError::invalid_params("missing required parameter: command_to_check");
    let (name_token, rest) = match raw {
        RawParams::Positional(mut values) => {
            if values.is_empty() {
                return Err(missing());
            }
            let name = values.remove(0);
            (name, RawParams::Positional(values))
        }
        RawParams::Named(mut pairs) => {
            let index = pairs
                .iter()
                .position(|(name, _)| name == "command_to_check")
                .ok_or_else(missing)?;
            let (_, name) = pairs.remove(index);
            (name, RawParams::Named(pairs))
        }
    };
    let name = params::string(name_token)
        .map_err(|refusal| params::refuse("command_to_check", name_token, refusal))?;
    let is_plugin_method = find(&name).is_none()
        && node
            .plugins()
            .is_some_and(|host| host.method(&name).is_some());
    if is_plugin_method {
        // Not forwarded to the plugin (CLN's `cancheck`): the method exists, that is all.
        return Ok(Reply::Now(json!({ "command_to_check": name })));
    }
    let command = runnable(node, &name)?;
    if command.name == "check" {
        return Ok(Reply::Now(json!({ "command_to_check": "check" })));
    }
    let params = rest.bind(command.params)?;
    let ctx = Context {
        node,
        session,
        check: Some(command.name),
        request_id,
    };
    (command.run)(&ctx, &params)
}

fn getinfo(ctx: &Context<'_>, _: &Params<'_>) -> Result<Reply, RpcError> {
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let info = ctx.node.info();
    let manager = ctx.node.manager();
    let channels = ctx.node.channels().map_err(RpcError::from)?;
    // CLN counts a channel active until its close is settled (`channel_active`).
    let active = channels.iter().filter(|c| c.state.is_active()).count();
    let features = hex::encode(manager.our_features().as_wire());
    let mut result = Map::new();
    result.insert("id".into(), hex_id(&manager.node_id()).into());
    result.insert("alias".into(), info.alias.clone().into());
    result.insert("color".into(), hex::encode(info.color).into());
    result.insert("num_peers".into(), manager.peers().len().into());
    result.insert("num_pending_channels".into(), 0.into());
    result.insert("num_active_channels".into(), active.into());
    result.insert(
        "num_inactive_channels".into(),
        (channels.len() - active).into(),
    );
    result.insert(
        "address".into(),
        info.announced.iter().map(address_json).collect(),
    );
    if !manager.listen_addrs().is_empty() {
        result.insert(
            "binding".into(),
            manager.listen_addrs().iter().map(address_json).collect(),
        );
    }
    result.insert("version".into(), info.version.clone().into());
    // No chain backend: there is no block height to report, and no fees (no funds).
    result.insert("blockheight".into(), 0.into());
    result.insert("network".into(), info.network.clone().into());
    result.insert("fees_collected_msat".into(), 0.into());
    result.insert(
        "lightning-dir".into(),
        info.network_dir.display().to_string().into(),
    );
    result.insert(
        "our_features".into(),
        json!({ "init": features, "node": features, "channel": "", "invoice": "" }),
    );
    Ok(Reply::Now(Value::Object(result)))
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address has no port.
fn split_host(address: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            port => Some(port.strip_prefix(':')?.parse().ok().filter(|p| *p != 0)?),
        };
        return (!host.is_empty()).then(|| (host.to_owned(), port));
    }
    match address.matches(':').count() {
        0 => (!address.is_empty()).then(|| (address.to_owned(), None)),
        1 => {
            let (host, port) = address.split_once(':')?;
            let port = port.parse().ok().filter(|p| *p != 0)?;
            (!host.is_empty()).then(|| (host.to_owned(), Some(port)))
        }
        _ => Some((address.to_owned(), None)),
    }
}

fn connection_json(connection: &ConnectionInfo) -> Value {
    json!({
        "id": hex_id(&connection.id),
        "features": hex::encode(connection.features.as_wire()),
        "direction": direction_name(connection.direction),
        "address": address_json(&connection.address),
    })
}

fn connect(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id_text = p.required(0, params::string)?;
    // The id is checked first, as CLN parses `id` before `host` and `port`.
    let (id_part, at_address) = match id_text.split_once('@') {
        Some((id_part, address)) => (id_part, Some(address)),
        None => (id_text.as_str(), None),
    };
    let id = params::parse_node_id(id_part).ok_or_else(|| {
        let token = p.raw(0).map(|t| t.get()).unwrap_or_default();
        RpcError::invalid_params(format!("id: should be a node id: invalid token '{token}'"))
    })?;
    let host = p.optional(1, params::string)?;
    let port = p.optional(2, params::port)?;
    let (mut host, mut port) = match at_address {
        Some(address) => {
            if host.is_some() {
                return Err(RpcError::invalid_params(
                    "Can't specify host as both xxx@yyy and separate argument",
                ));
            }
            let (at_host, at_port) = split_host(address)
                .ok_or_else(|| RpcError::invalid_params("malformed host @part"))?;
            if at_port.is_some() && port.is_some() {
                return Err(RpcError::invalid_params(
                    "Can't specify port as both xxx@yyy:port and separate argument",
                ));
            }
            (Some(at_host), at_port.or(port))
        }
        None => (host, port),
    };
    if host.is_none() && port.is_some() {
        return Err(RpcError::invalid_params("Can't specify port without host"));
    }
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let node = ctx.node.clone();
    Ok(Reply::Later(Box::pin(async move {
        let manager = node.manager();
        if let Some(connection) = manager.peer(&id).and_then(|peer| peer.connection) {
            return Ok(connection_json(&connection));
        }
        if host.is_none() {
            // A peer we dialed before: use the address we reached it at.
            if let Some((known_host, known_port)) = manager
                .peer(&id)
                .and_then(|peer| peer.address)
                .and_then(|address| split_host(&address))
            {
                host = Some(known_host);
                port = known_port;
            }
        }
        let Some(host) = host else {
            return Err(errors::connect_no_known_address());
        };
        let port = port.unwrap_or(node.info().default_port);
        match manager.connect(id, &host, port).await {
            Ok(connection) => Ok(connection_json(&connection)),
            Err(error) => Err(errors::connect_error(&host, port, error)),
        }
    })))
}

/// How long `disconnect` waits for the connection's tasks to confirm it closed.
const DISCONNECT_CONFIRMATION: Duration = Duration::from_secs(30);

fn peer_id(token: &serde_json::value::RawValue) -> Result<PublicKey, Refusal> {
    params::node_id(token).map_err(|_| Refusal::Should("invalid peer id"))
}

fn disconnect(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id = p.required(0, peer_id)?;
    let force = p.optional(1, params::boolean)?.unwrap_or(false);
    let manager = ctx.node.manager();
    let peer = manager
        .peer(&id)
        .ok_or_else(|| RpcError::invalid_params(format!("Unknown peer '{}'", hex_id(&id))))?;
    if peer.connection.is_none() {
        return Err(RpcError::lightningd("Peer not connected"));
    }
    if !force {
        if let Some((_, state)) = peer
            .channels
            .iter()
            // channeld and closingd still talk to the peer; onchaind does not need it.
            .find(|(_, state)| state.owner() != Owner::Onchaind)
        {
            return Err(RpcError::lightningd(format!(
                "Peer has (at least one) channel in state {}",
                state.name()
            )));
        }
    }
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    // Subscribed before closing, so the confirmation cannot be missed.
    let mut events = manager.subscribe();
    if !manager.disconnect(&id) {
        return Err(RpcError::lightningd("Peer not connected"));
    }
    Ok(Reply::Later(Box::pin(async move {
        let confirmed = tokio::time::timeout(DISCONNECT_CONFIRMATION, async {
            loop {
                match events.recv().await {
                    Ok(PeerEvent::Disconnected { id: gone, .. }) if gone == id => return,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .await;
        match confirmed {
            Ok(()) => Ok(json!({})),
            Err(_) => Err(RpcError::lightningd(
                "Disconnection was not confirmed in time",
            )),
        }
    })))
}

fn log_level(token: &serde_json::value::RawValue) -> Result<LogLevel, Refusal> {
    match params::token_text(token).as_deref() {
        Some("io") => Ok(LogLevel::Io),
        Some("trace") => Ok(LogLevel::Trace),
        Some("debug") => Ok(LogLevel::Debug),
        Some("info") => Ok(LogLevel::Info),
        Some("unusual") => Ok(LogLevel::Unusual),
        Some("broken") => Ok(LogLevel::Broken),
        _ => Err(Refusal::Should(
            "should be 'io', 'trace', 'debug', 'info', 'unusual' or 'broken'",
        )),
    }
}

fn peer_json(node: &Arc<dyn NodeControl>, peer: &PeerInfo, level: Option<LogLevel>) -> Value {
    let mut object = Map::new();
    object.insert("id".into(), hex_id(&peer.id).into());
    object.insert("connected".into(), peer.connection.is_some().into());
    object.insert("num_channels".into(), peer.channels.len().into());
    let features = match &peer.connection {
        Some(connection) => {
            object.insert("netaddr".into(), json!([connection.address.to_string()]));
            if let Some(remote_addr) = &connection.remote_addr {
                object.insert("remote_addr".into(), remote_addr.to_string().into());
            }
            hex::encode(connection.features.as_wire())
        }
        None => String::new(),
    };
    object.insert("features".into(), features.into());
    if let Some(level) = level {
        let log = node
            .peer_log(&peer.id, level)
            .into_iter()
            .map(|entry| {
                let mut line = Map::new();
                line.insert("type".into(), entry.type_name().into());
                line.insert(
                    "time".into(),
                    format!("{}.{:09}", entry.time.as_secs(), entry.time.subsec_nanos()).into(),
                );
                line.insert("node_id".into(), entry.node_id.into());
                line.insert("source".into(), entry.source.into());
                line.insert("log".into(), entry.log.into());
                if let Some(data) = entry.data {
                    line.insert("data".into(), data.into());
                }
                Value::Object(line)
            })
            .collect();
        object.insert("log".into(), Value::Array(log));
    }
    Value::Object(object)
}

fn listpeers(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id = p.optional(0, params::node_id)?;
    let level = p.optional(1, log_level)?;
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let manager = ctx.node.manager();
    let mut peers = match id {
        Some(id) => manager.peer(&id).into_iter().collect(),
        None => manager.peers(),
    };
    peers.sort_by_key(|peer| peer.id.serialize());
    let peers: Vec<Value> = peers
        .iter()
        .map(|peer| peer_json(ctx.node, peer, level))
        .collect();
    Ok(Reply::Now(json!({ "peers": peers })))
}

fn channel_json(channel: &ChannelRecord, peer: Option<&PeerInfo>) -> Value {
    let connected = peer.is_some_and(|peer| peer.connection.is_some());
    let owner = channel.state.owner();
    let mut object = Map::new();
    object.insert("peer_id".into(), hex_id(&channel.peer_id).into());
    object.insert("peer_connected".into(), connected.into());
    object.insert("state".into(), channel.state.name().into());
    // channeld and closingd run only while the peer is connected; onchaind always.
    if connected || owner == Owner::Onchaind {
        object.insert("owner".into(), owner.name().into());
    }
    object.insert("channel_id".into(), hex::encode(channel.channel_id).into());
    object.insert("opener".into(), channel.opener.name().into());
    // No channel type is negotiated for a simulated channel.
    object.insert("features".into(), json!([]));
    Value::Object(object)
}

fn listpeerchannels(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id = p.optional(0, params::node_id)?;
    let short_channel_id = p.optional(1, params::string)?;
    let wanted = p.optional(2, channel_id)?;
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let manager = ctx.node.manager();
    let channels: Vec<Value> = ctx
        .node
        .channels()
        .map_err(RpcError::from)?
        .iter()
        // Simulated channels have no funding output, hence no short channel id to match.
        .filter(|_| short_channel_id.is_none())
        .filter(|channel| id.is_none_or(|id| channel.peer_id == id))
        .filter(|channel| wanted.is_none_or(|wanted| channel.channel_id == wanted))
        .map(|channel| channel_json(channel, manager.peer(&channel.peer_id).as_ref()))
        .collect();
    Ok(Reply::Now(json!({ "channels": channels })))
}

/// The largest `len`: type, `num_pong_bytes` and `byteslen` leave 65529 bytes of padding.
const MAX_PING_PADDING: u32 = 65529;

fn ping(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id = p.required(0, params::node_id)?;
    let len = p.optional(1, params::u32_number)?.unwrap_or(128);
    let pong_bytes = p.optional(2, params::u32_number)?.unwrap_or(128);
    if len > MAX_PING_PADDING {
        return Err(RpcError::invalid_params(format!(
            "{len} would result in oversize ping"
        )));
    }
    let (Ok(len), Ok(pong_bytes)) = (u16::try_from(len), u16::try_from(pong_bytes)) else {
        return Err(RpcError::invalid_params(format!(
            "pongbytes {pong_bytes} > 65535"
        )));
    };
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let node = ctx.node.clone();
    Ok(Reply::Later(Box::pin(async move {
        match node.manager().ping(&id, len, pong_bytes).await {
            Ok(totlen) => Ok(json!({ "totlen": totlen })),
            Err(error) => Err(errors::ping_error(error)),
        }
    })))
}

fn sendcustommsg(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
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
    let manager = ctx.node.manager();
    if !ty.is_odd() && !manager.is_allowed_even_type(ty.0) {
        return Err(RpcError::invalid_request(format!(
            "Cannot send even-typed {} custom message. Currently custom messages are limited \
             to odd-numbered message types, as even-numbered types might result in \
             disconnections.",
            ty.0
        )));
    }
    let sent = match ctx.check {
        Some(_) => manager.check_custom(&id),
        None => manager.send_custom(&id, &message),
    };
    let owner = sent.map_err(|error| errors::send_custom_error(&id, error))?;
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    Ok(Reply::Now(json!({
        "status": format!("Message sent to subdaemon {owner} for delivery")
    })))
}

fn stop(ctx: &Context<'_>, _: &Params<'_>) -> Result<Reply, RpcError> {
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    tracing::warn!("JSON-RPC shutdown");
    Ok(Reply::ThenStop(json!({ "result": "Shutdown complete" })))
}

fn notifications(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let enable = p.required(0, params::boolean)?;
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    ctx.session.notifications.store(enable, Ordering::Relaxed);
    Ok(Reply::Now(json!({})))
}

fn help_entry(command: &Command) -> Value {
    let text = match command.usage {
        "" => command.name.to_owned(),
        usage => format!("{} {usage}", command.name),
    };
    json!({ "command": text })
}

fn help(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let wanted = p.optional(0, params::string)?;
    let developer = ctx.node.info().developer;
    let entries: Vec<Value> = match wanted {
        Some(name) => {
            let plugin_method = ctx
                .node
                .plugins()
                .and_then(|host| host.method(&name))
                .map(|(_, method)| method);
            if let Some(method) = plugin_method {
                let text = match method.usage.as_str() {
                    "" => method.name,
                    usage => format!("{} {usage}", method.name),
                };
                return Ok(Reply::Now(
                    json!({ "help": [{ "command": text }], "format-hint": "simple" }),
                ));
            }
            let command = find(&name)
                .ok_or_else(|| RpcError::method_not_found(format!("Unknown command {name}")))?;
            if command.developer && !developer {
                return Err(RpcError::method_not_found(format!(
                    "Developer-only command {name}"
                )));
            }
            vec![help_entry(command)]
        }
        None => {
            let mut entries: Vec<Value> = COMMANDS
                .iter()
                .filter(|command| developer || !command.developer)
                .map(help_entry)
                .collect();
            if let Some(host) = ctx.node.plugins() {
                entries
                    .push(json!({ "command": "plugin subcommand [plugin|directory] [options]" }));
                for (name, usage) in host.methods() {
                    let text = match usage.as_str() {
                        "" => name,
                        usage => format!("{name} {usage}"),
                    };
                    entries.push(json!({ "command": text }));
                }
            }
            entries
        }
    };
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    Ok(Reply::Now(
        json!({ "help": entries, "format-hint": "simple" }),
    ))
}

fn channel_id(token: &serde_json::value::RawValue) -> Result<[u8; 32], Refusal> {
    params::token_text(token)
        .and_then(|text| hex::decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(Refusal::Should("should be a channel id"))
}

fn dev_open_channel(ctx: &Context<'_>, p: &Params<'_>) -> Result<Reply, RpcError> {
    let id = p.required(0, params::node_id)?;
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let channel = ctx.node.open_channel(&id).map_err(RpcError::from)?;
    Ok(Reply::Now(dev_channel_json(&channel)))
}

fn dev_channel_json(channel: &ChannelRecord) -> Value {
    json!({
        "channel_id": hex::encode(channel.channel_id),
        "state": channel.state.name(),
        "owner": channel.state.owner().name(),
    })
}

/// One lifecycle step on a peer's channel; `channel_id` may be left out when the peer has
/// only one.
fn dev_channel_step(
    ctx: &Context<'_>,
    p: &Params<'_>,
    step: fn(u64) -> PeerInput,
) -> Result<Reply, RpcError> {
    let id = p.required(0, params::node_id)?;
    let wanted = p.optional(1, channel_id)?;
    let channels: Vec<ChannelRecord> = ctx
        .node
        .channels()
        .map_err(RpcError::from)?
        .into_iter()
        .filter(|channel| channel.peer_id == id)
        .collect();
    let channel = match (wanted, channels.as_slice()) {
        (Some(wanted), _) => channels
            .iter()
            .find(|channel| channel.channel_id == wanted)
            .ok_or_else(|| {
                RpcError::lightningd(format!(
                    "No channel {} with peer {}",
                    hex::encode(wanted),
                    hex_id(&id)
                ))
            })?,
        (None, [only]) => only,
        (None, []) => {
            return Err(RpcError::lightningd(format!(
                "No channel with peer {}",
                hex_id(&id)
            )))
        }
        (None, several) => {
            return Err(RpcError::invalid_params(format!(
                "Peer has {} channels: give channel_id",
                several.len()
            )))
        }
    };
    if let Some(checked) = ctx.checked() {
        return Ok(checked);
    }
    let input = step(channel.dbid);
    ctx.node.channel_step(&id, input).map_err(RpcError::from)?;
    if matches!(input, PeerInput::ChannelForgotten(_)) {
        return Ok(Reply::Now(
            json!({ "channel_id": hex::encode(channel.channel_id), "forgotten": true }),
        ));
    }
    let updated = ctx
        .node
        .channels()
        .map_err(RpcError::from)?
        .into_iter()
        .find(|c| c.dbid == channel.dbid)
        .ok_or_else(|| RpcError::lightningd("the channel vanished from the store"))?;
    Ok(Reply::Now(dev_channel_json(&updated)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parts_split_like_clns_connect() {
        assert_eq!(
            split_host("example.com"),
            Some(("example.com".into(), None))
        );
        assert_eq!(
            split_host("1.2.3.4:9735"),
            Some(("1.2.3.4".into(), Some(9735)))
        );
        assert_eq!(split_host("[::1]:19846"), Some(("::1".into(), Some(19846))));
        assert_eq!(split_host("[::1]"), Some(("::1".into(), None)));
        assert_eq!(split_host("::1"), Some(("::1".into(), None)));
        assert_eq!(split_host(""), None);
        assert_eq!(split_host(":9735"), None);
        assert_eq!(split_host("host:0"), None);
        assert_eq!(split_host("host:x"), None);
        assert_eq!(split_host("[::1]x"), None);
    }

    #[test]
    fn the_table_is_sorted_and_usages_match_parameters() {
        let names: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "help lists commands in table order");
        for command in COMMANDS {
            let usage: Vec<_> = command
                .usage
                .split_whitespace()
                .map(|word| word.trim_matches(|c| c == '[' || c == ']'))
                .collect();
            assert_eq!(usage, command.params, "{}", command.name);
        }
    }
}
