//! `createrune [rune] [restrictions]`: a new rune from the master (stored, with the next unique
//! id), or `restrictions` appended to `rune`.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use rpc::{Context, Reply, Signature, TypedCommand};
use runes::{parse_restrictions, Restriction, Rune};

use super::rune_param;
use crate::authority::RuneAuthority;

static SIGNATURE: Signature = Signature {
    name: "createrune",
    params: &["rune", "restrictions"],
    usage: "[rune] [restrictions]",
    developer: false,
};

/// `createrune`.
pub(crate) struct CreateRune(pub(crate) Arc<RuneAuthority>);

/// What to create.
pub(crate) struct CreateArgs {
    base: Option<Rune>,
    restrictions: Vec<Restriction>,
}

impl TypedCommand for CreateRune {
    type Args = CreateArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<CreateArgs, RpcError> {
        let base = p.optional(0, rune_param)?.map(|(rune, _, _)| rune);
        let restrictions = match p.raw(1) {
            None => Vec::new(),
            Some(token) => parse_restrictions(token).map_err(|e| {
                jsonrpc::params::refuse(
                    "restrictions",
                    token,
                    jsonrpc::params::Refusal::Other(e.to_string()),
                )
            })?,
        };
        Ok(CreateArgs { base, restrictions })
    }

    fn execute(&self, _: &Context<'_>, args: CreateArgs) -> Result<Reply, RpcError> {
        let created = self.0.create(args.base, args.restrictions)?;
        Ok(Reply::Now(created.to_json()))
    }
}
