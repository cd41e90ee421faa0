//! The `--developer` channel lifecycle without funds: `dev-open-channel id`, then
//! `dev-close-channel`, `dev-spend-funding` and `dev-forget-channel` (`id [channel_id]`; the
//! channel may be left out when the peer has only one).

use noise_transport::PublicKey;
use serde_json::{json, Value};
use subdaemon_state::{ChannelDbId, PeerInput};

use crate::command::{Context, Reply, Signature, TypedCommand};
use crate::control::ChannelRecord;
use crate::params::{self, Params};
use crate::shapes::hex_id;
use jsonrpc::error::RpcError;

static OPEN: Signature = Signature {
    name: "dev-open-channel",
    params: &["id"],
    usage: "id",
    developer: true,
};

/// `dev-open-channel`.
pub(crate) struct DevOpenChannel;

fn channel_json(channel: &ChannelRecord) -> Value {
    json!({
        "channel_id": hex::encode(channel.channel_id),
        "state": channel.state.name(),
        "owner": channel.state.owner().name(),
    })
}

impl TypedCommand for DevOpenChannel {
    /// The peer.
    type Args = PublicKey;

    fn signature(&self) -> &Signature {
        &OPEN
    }

    fn parse(&self, p: &Params<'_>) -> Result<PublicKey, RpcError> {
        p.required(0, params::node_id)
    }

    fn execute(&self, ctx: &Context<'_>, peer: PublicKey) -> Result<Reply, RpcError> {
        let channel = ctx.node.open_channel(&peer)?;
        Ok(Reply::Now(channel_json(&channel)))
    }
}

/// One lifecycle step on an existing channel: the three commands differ only in their name
/// and the step.
pub(crate) struct DevChannelStep {
    signature: Signature,
    step: fn(ChannelDbId) -> PeerInput,
}

impl DevChannelStep {
    /// `dev-close-channel`: closingd takes over.
    pub(crate) const CLOSE: DevChannelStep =
        DevChannelStep::named("dev-close-channel", PeerInput::ClosingStarted);
    /// `dev-spend-funding`: the funding output is spent; onchaind takes over.
    pub(crate) const SPEND_FUNDING: DevChannelStep =
        DevChannelStep::named("dev-spend-funding", PeerInput::FundingSpent);
    /// `dev-forget-channel`: the channel is deleted.
    pub(crate) const FORGET: DevChannelStep =
        DevChannelStep::named("dev-forget-channel", PeerInput::ChannelForgotten);

    const fn named(name: &'static str, step: fn(ChannelDbId) -> PeerInput) -> DevChannelStep {
        DevChannelStep {
            signature: Signature {
                name,
                params: &["id", "channel_id"],
                usage: "id [channel_id]",
                developer: true,
            },
            step,
        }
    }
}

/// The peer, and which of its channels.
#[derive(Debug)]
pub(crate) struct StepArgs {
    id: PublicKey,
    channel_id: Option<[u8; 32]>,
}

/// The channel `args` names: the given one, or the peer's only one.
fn find_channel(ctx: &Context<'_>, args: &StepArgs) -> Result<ChannelRecord, RpcError> {
    let id = args.id;
    let mut channels: Vec<ChannelRecord> = ctx
        .node
        .channels()?
        .into_iter()
        .filter(|channel| channel.peer_id == id.serialize())
        .collect();
    match args.channel_id {
        Some(wanted) => channels
            .into_iter()
            .find(|channel| channel.channel_id == wanted)
            .ok_or_else(|| {
                RpcError::lightningd(format!(
                    "No channel {} with peer {}",
                    hex::encode(wanted),
                    hex_id(&id)
                ))
            }),
        None => match channels.len() {
            0 => Err(RpcError::lightningd(format!(
                "No channel with peer {}",
                hex_id(&id)
            ))),
            1 => Ok(channels.remove(0)),
            several => Err(RpcError::invalid_params(format!(
                "Peer has {several} channels: give channel_id"
            ))),
        },
    }
}

impl TypedCommand for DevChannelStep {
    type Args = StepArgs;

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn parse(&self, p: &Params<'_>) -> Result<StepArgs, RpcError> {
        Ok(StepArgs {
            id: p.required(0, params::node_id)?,
            channel_id: p.optional(1, params::channel_id)?,
        })
    }

    fn validate(&self, ctx: &Context<'_>, args: &StepArgs) -> Result<(), RpcError> {
        find_channel(ctx, args).map(drop)
    }

    fn execute(&self, ctx: &Context<'_>, args: StepArgs) -> Result<Reply, RpcError> {
        let channel = find_channel(ctx, &args)?;
        let input = (self.step)(channel.dbid);
        ctx.node.channel_step(&args.id, input)?;
        if matches!(input, PeerInput::ChannelForgotten(_)) {
            return Ok(Reply::Now(
                json!({ "channel_id": hex::encode(channel.channel_id), "forgotten": true }),
            ));
        }
        let updated = ctx
            .node
            .channels()?
            .into_iter()
            .find(|c| c.dbid == channel.dbid)
            .ok_or_else(|| RpcError::lightningd("the channel vanished from the store"))?;
        Ok(Reply::Now(channel_json(&updated)))
    }
}
