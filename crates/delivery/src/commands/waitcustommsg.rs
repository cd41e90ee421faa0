//! `waitcustommsg [since] [timeout]`: the first received custom message with an index above
//! `since` (default 0), at once if the inbox has one, else when one arrives; error 2000 if
//! `timeout` seconds pass first. As CLN's `waitanyinvoice`: a client that keeps the last index
//! it handled resumes from there after any restart.

use std::sync::Arc;
use std::time::Duration;

use jsonrpc::error::{code, RpcError};
use jsonrpc::params::{u32_number, u64_number, Params};
use rpc::{Context, Reply, Signature, TypedCommand};

use super::{inbox_disabled, received_json, store_failed};
use crate::inbox::Inbox;

static SIGNATURE: Signature = Signature {
    name: "waitcustommsg",
    params: &["since", "timeout"],
    usage: "[since] [timeout]",
    developer: false,
};

/// `waitcustommsg`; `None` when the inbox is off.
pub(crate) struct WaitCustomMsg(pub(crate) Option<Arc<Inbox>>);

impl TypedCommand for WaitCustomMsg {
    type Args = (u64, Option<u32>);

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<Self::Args, RpcError> {
        Ok((
            p.optional(0, u64_number)?.unwrap_or(0),
            p.optional(1, u32_number)?,
        ))
    }

    fn validate(&self, _: &Context<'_>, _: &Self::Args) -> Result<(), RpcError> {
        self.0.as_ref().map(|_| ()).ok_or_else(inbox_disabled)
    }

    fn execute(&self, _: &Context<'_>, (since, timeout): Self::Args) -> Result<Reply, RpcError> {
        let inbox = self.0.clone().ok_or_else(inbox_disabled)?;
        Ok(Reply::Later(Box::pin(async move {
            let waited = timeout.map(|seconds| Duration::from_secs(u64::from(seconds)));
            match inbox.wait(since, waited).await.map_err(store_failed)? {
                Some(message) => Ok(received_json(&message)),
                None => Err(RpcError::new(
                    code::WAIT_TIMEOUT,
                    format!(
                        "Timed out after {} seconds: no custom message above index {since}",
                        timeout.unwrap_or_default()
                    ),
                )),
            }
        })))
    }
}
