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
            // CLN's bad-parameter text, naming the parameter once (the runes crate's error
            // text already starts with it).
            Some(token) => parse_restrictions(token).map_err(|_| {
                super::bad_param(
                    "restrictions",
                    token,
                    "not a valid restriction (should be array)",
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::testing::{cln, Rig};

    #[tokio::test]
    async fn a_new_rune_is_clns_with_and_without_restrictions() {
        let rig = Rig::start(1).await;
        let created = rig.ok("createrune", json!([])).await;
        // Members in CLN's order, the warning only on a rune with no restriction.
        assert_eq!(
            created.to_string(),
            json!({"rune": cln::RUNE0, "unique_id": "0", "warning_unrestricted_rune": cln::WARNING})
                .to_string()
        );
        let readonly = rig
            .ok("createrune", json!({"restrictions": "readonly"}))
            .await;
        assert_eq!(
            readonly.to_string(),
            json!({"rune": cln::RUNE1_READONLY, "unique_id": "1"}).to_string()
        );
        // Positional, with the rune left out by a null.
        let time = json!([null, [["time>1656675211"]]]);
        assert_eq!(rig.ok("createrune", time).await["rune"], cln::RUNE2_TIME);
        let id_method =
            json!({"restrictions": [["id^022d223620a359a47ff7"], ["method=listpeers"]]});
        assert_eq!(
            rig.ok("createrune", id_method).await["rune"],
            cln::RUNE3_ID_METHOD
        );
        assert_eq!(
            rig.store.stored_runes(),
            vec![
                (0, cln::RUNE0.to_owned()),
                (1, cln::RUNE1_READONLY.to_owned()),
                (2, cln::RUNE2_TIME.to_owned()),
                (3, cln::RUNE3_ID_METHOD.to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn restricting_a_rune_appends_and_stores_nothing() {
        let rig = Rig::start(1).await;
        let level = json!({"rune": cln::RUNE3_ID_METHOD, "restrictions": [["pnamelevel!", "pnamelevel/io"]]});
        assert_eq!(
            rig.ok("createrune", level).await,
            json!({"rune": cln::RUNE3_LEVEL, "unique_id": "3"})
        );
        let parr = json!([cln::RUNE3_LEVEL, [["parr1!", "parr1/io"]]]);
        assert_eq!(rig.ok("createrune", parr).await["rune"], cln::RUNE3_PARR);
        let schema = json!({"rune": cln::SCHEMA_BASE, "restrictions": "readonly"});
        assert_eq!(
            rig.ok("createrune", schema).await["rune"],
            cln::SCHEMA_READONLY
        );
        // Nothing appended to an unrestricted rune: it is returned, with the warning.
        assert_eq!(
            rig.ok("createrune", json!([cln::RUNE0])).await,
            json!({"rune": cln::RUNE0, "unique_id": "0", "warning_unrestricted_rune": cln::WARNING})
        );
        assert!(rig.store.stored_runes().is_empty());
        // The next minted rune is still unique id 0.
        assert_eq!(rig.ok("createrune", json!([])).await["unique_id"], "0");
    }

    #[tokio::test]
    async fn bad_restrictions_are_refused_with_clns_text() {
        let rig = Rig::start(1).await;
        // CLN's test_invalid_restrictions: "I meant method! not !method".
        for condition in "!=/^$~<>{}#,".chars() {
            let restrictions = json!([[format!("{condition}method")]]);
            let (code, message) = rig
                .err("createrune", json!({ "restrictions": restrictions }))
                .await;
            assert_eq!(code, -32602);
            assert_eq!(
                message,
                format!(
                    "restrictions: not a valid restriction (should be array): invalid token '{restrictions}'"
                )
            );
        }
        for restrictions in [
            json!("method=getinfo"),
            json!(["method=getinfo"]),
            json!([["method=getinfo"], "method=getinfo"]),
            json!([[]]),
            json!([["method"]]),
            json!({"method": "getinfo"}),
            json!(7),
        ] {
            let (code, message) = rig
                .err("createrune", json!({ "restrictions": restrictions }))
                .await;
            assert_eq!(code, -32602, "{restrictions}");
            assert!(
                message.starts_with("restrictions: not a valid restriction (should be array)"),
                "{restrictions}: {message}"
            );
        }
        assert!(rig.store.stored_runes().is_empty(), "nothing minted");
    }

    #[tokio::test]
    async fn a_bad_base_rune_is_refused_as_cln_refuses_it() {
        let rig = Rig::start(1).await;
        let (code, message) = rig.err("createrune", json!(["junk!"])).await;
        assert_eq!(code, -32602);
        assert_eq!(
            message,
            r#"rune: should be base64 string: invalid token '"junk!"'"#
        );
        let (_, message) = rig.err("createrune", json!([cln::NON_NUMERIC[0]])).await;
        assert_eq!(
            message,
            format!(
                r#"rune: should have valid numeric unique_id: invalid token '"{}"'"#,
                cln::NON_NUMERIC[0]
            )
        );
        let (_, message) = rig.err("createrune", json!([7])).await;
        assert_eq!(message, "rune: should be a string: invalid token '7'");
    }

    #[tokio::test]
    async fn check_createrune_mints_nothing() {
        let rig = Rig::start(1).await;
        let checked = rig
            .ok(
                "check",
                json!({"command_to_check": "createrune", "restrictions": "readonly"}),
            )
            .await;
        assert_eq!(checked, json!({"command_to_check": "createrune"}));
        let (code, _) = rig
            .err("check", json!(["createrune", null, "nonsense"]))
            .await;
        assert_eq!(code, -32602);
        assert!(rig.store.stored_runes().is_empty());
    }

    #[tokio::test]
    async fn a_store_failure_is_a_database_failure() {
        let rig = Rig::start(1).await;
        rig.store.fail_with("attempt to write a readonly database");
        assert_eq!(
            rig.err("createrune", json!([])).await,
            (
                -1,
                "Database failure: attempt to write a readonly database".to_owned()
            )
        );
    }
}
