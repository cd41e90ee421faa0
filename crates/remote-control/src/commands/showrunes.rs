//! `showrunes [rune]`: the runes we issued (or `rune`, anyone's), with their restrictions in
//! English, whether they are stored, blacklisted, ours, and when last used.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::Params;
use rpc::{Context, Reply, Signature, TypedCommand};
use runes::Rune;

use super::rune_param;
use crate::authority::RuneAuthority;

static SIGNATURE: Signature = Signature {
    name: "showrunes",
    params: &["rune"],
    usage: "[rune]",
    developer: false,
};

/// `showrunes`.
pub(crate) struct ShowRunes(pub(crate) Arc<RuneAuthority>);

impl TypedCommand for ShowRunes {
    type Args = Option<(Rune, u64, String)>;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<Self::Args, RpcError> {
        p.optional(0, rune_param)
    }

    fn execute(&self, _: &Context<'_>, args: Self::Args) -> Result<Reply, RpcError> {
        let shown = self.0.show(
            args.as_ref()
                .map(|(rune, id, text)| (rune.clone(), *id, text.as_str())),
        )?;
        Ok(Reply::Now(shown))
    }
}
