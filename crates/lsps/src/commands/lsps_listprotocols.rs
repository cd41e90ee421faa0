//! `lsps-listprotocols lsp_id`: asks a connected LSP which LSPS protocols it supports
//! (`lsps0.list_protocols`), as CLN's LSPS client plugin does: the result is the LSP's,
//! `{"protocols": [...]}`; when the LSP answers with an error, the result is that error
//! object, as CLN returns it.

use std::sync::Arc;
use std::time::Duration;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use lsps0::list_protocols;
use noise_transport::PublicKey;
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::json;

use super::{call_failed, DEFAULT_TIMEOUT_SECONDS};
use crate::client::LspsClient;

static SIGNATURE: Signature = Signature {
    name: "lsps-listprotocols",
    params: &["lsp_id"],
    usage: "lsp_id",
    developer: false,
};

/// `lsps-listprotocols`.
pub(crate) struct LspsListProtocols(pub(crate) Arc<LspsClient>);

impl TypedCommand for LspsListProtocols {
    type Args = PublicKey;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<PublicKey, RpcError> {
        p.required(0, rpc::params::node_id)
    }

    fn execute(&self, _: &Context<'_>, lsp: PublicKey) -> Result<Reply, RpcError> {
        let client = self.0.clone();
        Ok(Reply::Later(Box::pin(async move {
            let timeout = Duration::from_secs(u64::from(DEFAULT_TIMEOUT_SECONDS));
            let answer = client
                .call(
                    lsp,
                    list_protocols::METHOD,
                    &list_protocols::params(),
                    timeout,
                )
                .await
                .map_err(|error| call_failed(&lsp, error))?;
            match answer {
                Ok(result) => {
                    let protocols = list_protocols::parse_result(&result).map_err(|error| {
                        RpcError::lightningd(format!(
                            "{} answered something else: {error}",
                            hex::encode(lsp.serialize())
                        ))
                    })?;
                    Ok(json!({ "protocols": protocols }))
                }
                Err(error) => Ok(error.to_json()),
            }
        })))
    }
}
