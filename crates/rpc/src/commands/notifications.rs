//! `notifications enable`: the connection's notification switch.

use std::sync::atomic::Ordering;

use serde_json::json;

use crate::command::{Context, Reply, Signature, TypedCommand};
use jsonrpc::error::RpcError;
use jsonrpc::params::{self, Params};

static SIGNATURE: Signature = Signature {
    name: "notifications",
    params: &["enable"],
    usage: "enable",
    developer: false,
};

/// `notifications`.
pub(crate) struct Notifications;

impl TypedCommand for Notifications {
    /// `enable`.
    type Args = bool;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<bool, RpcError> {
        p.required(0, params::boolean)
    }

    fn execute(&self, ctx: &Context<'_>, enable: bool) -> Result<Reply, RpcError> {
        ctx.session.notifications.store(enable, Ordering::Relaxed);
        Ok(Reply::Now(json!({})))
    }
}
