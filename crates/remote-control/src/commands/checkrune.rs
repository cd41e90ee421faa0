//! `checkrune rune [nodeid] [method] [params]`: whether `rune` allows calling `method` with
//! `params` as `nodeid`; a pass counts as a use of the rune (for `rate` and `per`).

use std::sync::Arc;
use std::time::SystemTime;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use rpc::{Context, Reply, Signature, TypedCommand};
use runes::CheckRuneError;
use serde_json::json;
use serde_json::value::RawValue;

use crate::authority::{store_error, Asking, CheckFailure, RuneAuthority};

static SIGNATURE: Signature = Signature {
    name: "checkrune",
    params: &["rune", "nodeid", "method", "params"],
    usage: "rune [nodeid] [method] [params]",
    developer: false,
};

/// `checkrune`.
pub(crate) struct CheckRune(pub(crate) Arc<RuneAuthority>);

/// What to check.
pub(crate) struct CheckArgs {
    rune: String,
    rune_token: Box<RawValue>,
    nodeid: Option<[u8; 33]>,
    method: Option<String>,
    params: Option<Box<RawValue>>,
}

fn object_or_array(token: &RawValue) -> Result<Box<RawValue>, Refusal> {
    match token.get().as_bytes().first() {
        Some(b'{' | b'[') => Ok(token.to_owned()),
        _ => Err(Refusal::Other("must be object or array".to_owned())),
    }
}

impl TypedCommand for CheckRune {
    type Args = CheckArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<CheckArgs, RpcError> {
        // Decoded here, not only when checked, so that a bad rune is the first error (CLN's
        // `param_rune`) and `check checkrune` reports it.
        let (_, _, rune) = p.required(0, super::rune_param)?;
        let rune_token = match p.raw(0) {
            Some(token) => token.to_owned(),
            None => serde_json::value::to_raw_value(&rune)
                .map_err(|_| RpcError::invalid_params("rune: should be a string"))?,
        };
        let nodeid = p
            .optional(1, rpc::params::node_id)?
            .map(|id| id.serialize());
        let method = p.optional(2, jsonrpc::params::string)?;
        let params = p.optional(3, object_or_array)?;
        Ok(CheckArgs {
            rune,
            rune_token,
            nodeid,
            method,
            params,
        })
    }

    fn execute(&self, _: &Context<'_>, args: CheckArgs) -> Result<Reply, RpcError> {
        let asking = Asking {
            node_id: args.nodeid.as_ref(),
            method: args.method.as_deref(),
            params: args.params.as_deref(),
        };
        match self.0.check(&args.rune, asking, SystemTime::now()) {
            Ok(_) => Ok(Reply::Now(json!({ "valid": true }))),
            Err(CheckFailure::Store(failure)) => Err(store_error(failure)),
            Err(CheckFailure::Refused(refused)) => Err(check_error(&refused, &args.rune_token)),
        }
    }
}

/// A refused check as checkrune's caller sees it: the parameter errors in the usual form, the
/// rest with CLN's codes and texts.
pub(crate) fn check_error(refused: &CheckRuneError, rune_token: &RawValue) -> RpcError {
    match refused {
        CheckRuneError::InvalidRune(e) => super::bad_param("rune", rune_token, e.message()),
        other => RpcError::new(other.code(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::testing::{cln, Rig, L1_ID};

    /// Mints one rune per restriction list on `rig`, unique ids from 0 up.
    async fn mint(rig: &Rig, restrictions: &[Value]) -> Vec<String> {
        let mut runes = Vec::new();
        for restrictions in restrictions {
            let created = rig
                .ok("createrune", json!({ "restrictions": restrictions }))
                .await;
            runes.push(created["rune"].as_str().unwrap().to_owned());
        }
        runes
    }

    /// Valid, or the error's code and message.
    type Verdict = Result<(), (i32, String)>;

    /// checkrune's verdict on `rune` with the other parameters of `ask` (an object).
    async fn verdict(rig: &Rig, rune: &str, mut ask: Value) -> Verdict {
        ask["rune"] = rune.into();
        match rig.rpc("checkrune", ask).await {
            Ok(value) => {
                assert_eq!(value, json!({"valid": true}));
                Ok(())
            }
            Err(error) => Err((error.code, error.message)),
        }
    }

    fn not_permitted(text: &str) -> Verdict {
        Err((1502, format!("Not permitted: {text}")))
    }

    #[tokio::test]
    async fn restrictions_on_method_id_and_params_give_clns_verdicts() {
        let rig = Rig::start(1).await;
        let runes = mint(
            &rig,
            &[
                json!([]),
                json!("readonly"),
                json!([["method=getinfo"]]),
                json!([[format!("id={L1_ID}")]]),
                json!([["method!"]]),
                json!([["id!"]]),
                json!([["method/getinfo"]]),
                json!([["method=pay"], ["pnum=1"]]),
                json!([["method=pay"], ["parr1=17"]]),
                json!([["method=pay"], ["pnamebolt11=xxx"]]),
                json!([["method=pay"], ["pnameamount_msat<10000"]]),
                json!([
                    ["method=invoice"],
                    ["pnamedescription=@tipjar|jb55@sendsats.lol"]
                ]),
                json!([["pnameamountmsat<10000"]]),
                json!([["time<1656675211"]]),
                json!([["time>1656675211"]]),
            ],
        )
        .await;
        let pay = |params: Value| json!({"nodeid": L1_ID, "method": "pay", "params": params});
        let other = peer_manager::testing::node_id(7).to_string();
        let cases: Vec<(usize, Value, Verdict)> = vec![
            // CLN's test_checkrune.
            (0, json!({"nodeid": L1_ID, "method": "invoice", "params": {"amount_msat": "10000"}}), Ok(())),
            (1, json!({"nodeid": L1_ID, "method": "invoice", "params": {"amount_msat": "1000", "label": "lbl", "description": "tipjar"}}),
                not_permitted("method does not start with list AND method does not start with get AND method is not equal to summary")),
            (1, json!({"method": "listdatastore"}), not_permitted("method is equal to listdatastore")),
            (1, json!({"method": "listpeers", "params": {}}), Ok(())),
            // test_missing_method_or_nodeid.
            (2, json!({"nodeid": L1_ID, "method": "getinfo"}), Ok(())),
            (2, json!({"method": "getinfo"}), Ok(())),
            (2, json!({}), not_permitted("method not present")),
            (3, json!({"nodeid": L1_ID}), Ok(())),
            (3, json!({}), not_permitted("id not present")),
            (3, json!({"nodeid": other}), not_permitted(&format!("id is not equal to {L1_ID}"))),
            (4, json!({"nodeid": L1_ID}), Ok(())),
            (4, json!({"method": "getinfo"}), not_permitted("method is present")),
            (5, json!({"method": "getinfo"}), Ok(())),
            (5, json!({"nodeid": L1_ID}), not_permitted("id is present")),
            // test_rune_method_missing.
            (6, json!({"method": "getinfo"}), not_permitted("method is equal to getinfo")),
            (6, json!({"method": "invoice"}), Ok(())),
            (6, json!({}), not_permitted("method not present")),
            (4, json!({"method": ""}), not_permitted("method is present")),
            // test_rune_error_messages.
            (7, pay(json!(["xxx", 12000])), not_permitted("number of parameters is not equal to 1")),
            (7, pay(json!({"bolt11": "xxx", "amount_msat": 17})), not_permitted("number of parameters is not equal to 1")),
            (7, pay(json!(["xxx"])), Ok(())),
            (8, pay(json!(["xxx", 12000])), not_permitted("parameter #1 is not equal to 17")),
            (8, pay(json!({"bolt11": "xxx", "amount_msat": 12000})), not_permitted("parameter #1 not present")),
            (8, pay(json!(["xxx", 17])), Ok(())),
            (9, pay(json!({"bolt11": "yyy", "amount_msat": 12000})), not_permitted("parameter bolt11 is not equal to xxx")),
            (9, pay(json!(["xxx", 12000])), not_permitted("parameter bolt11 not present")),
            (9, pay(json!({"bolt11": "xxx"})), Ok(())),
            // test_rune_pay_amount.
            (10, pay(json!({"bolt11": "lnbcrt1"})), not_permitted("parameter amount_msat not present")),
            (10, pay(json!(["lnbcrt1", 12000])), not_permitted("parameter amount_msat not present")),
            (10, pay(json!({"bolt11": "lnbcrt1", "amount_msat": "10000sat"})), not_permitted("parameter amount_msat is not an integer field")),
            (10, pay(json!({"bolt11": "lnbcrt1", "amount_msat": 12000})), not_permitted("parameter amount_msat is greater or equal to 10000")),
            (10, pay(json!({"bolt11": "lnbcrt1", "amount_msat": 9999})), Ok(())),
            // test_createrune's `\|` rune: values are compared as JSON text, escapes and all.
            (11, json!({"method": "invoice", "params": {"amount_msat": "any", "label": "lbl", "description": "@tipjar\\|jb55@sendsats.lol"}}),
                not_permitted("parameter description is not equal to @tipjar|jb55@sendsats.lol")),
            (11, json!({"method": "invoice", "params": {"amount_msat": "any", "label": "lbl", "description": "@tipjar|jb55@sendsats.lol"}}), Ok(())),
            // A key's punctuation-free form names it too.
            (12, json!({"params": {"amount_msat": 9999}}), Ok(())),
            (12, json!({"params": {"amount_msat": 10000}}), not_permitted("parameter amountmsat is greater or equal to 10000")),
            // Time is now.
            (13, json!({}), not_permitted("time is greater or equal to 1656675211")),
            (14, json!({}), Ok(())),
        ];
        for (index, ask, expected) in cases {
            let got = verdict(&rig, &runes[index], ask.clone()).await;
            assert_eq!(got, expected, "rune {index} with {ask}");
        }
    }

    #[tokio::test]
    async fn ours_blacklisted_foreign_and_unstored_runes() {
        let rig = Rig::start(1).await;
        let runes = mint(&rig, &[json!([]), json!([])]).await;
        assert_eq!(verdict(&rig, &runes[1], json!({})).await, Ok(()));
        // A rune of ours whose id was never stored (or stored as another text) passes.
        assert_eq!(verdict(&rig, cln::RUNE9_UNSTORED, json!({})).await, Ok(()));
        assert_eq!(
            verdict(&rig, cln::FOREIGN, json!({})).await,
            Err((1501, "Not authorized: Not derived from master".into()))
        );
        rig.ok("blacklistrune", json!({"start": 1})).await;
        assert_eq!(
            verdict(&rig, &runes[1], json!({"method": "getinfo"})).await,
            Err((1503, "Not authorized: Blacklisted rune".into()))
        );
        assert_eq!(verdict(&rig, &runes[0], json!({})).await, Ok(()));
    }

    #[tokio::test]
    async fn a_pass_counts_as_a_use_for_rate() {
        let rig = Rig::start(1).await;
        let rune = mint(&rig, &[json!([["rate=1"]])]).await.remove(0);
        assert_eq!(rig.store.stored(0).unwrap().last_used_nsec, None);
        assert_eq!(verdict(&rig, &rune, json!({})).await, Ok(()));
        let used = rig.store.stored(0).unwrap().last_used_nsec.unwrap();
        assert!(used > 1_700_000_000_000_000_000, "{used}");
        assert_eq!(
            verdict(&rig, &rune, json!({})).await,
            not_permitted("too soon")
        );
        assert_eq!(rig.store.stored(0).unwrap().last_used_nsec, Some(used));
    }

    #[tokio::test]
    async fn bad_parameters_are_refused_in_parameter_order() {
        let rig = Rig::start(1).await;
        let rune = mint(&rig, &[json!([])]).await.remove(0);
        let refused = |message: String| Err((-32602, message));
        assert_eq!(
            rig.rpc("checkrune", json!({})).await.map_err(|e| e.message),
            Err("missing required parameter: rune".to_owned())
        );
        assert_eq!(
            verdict(&rig, "junk!", json!({"params": "x"})).await,
            refused(r#"rune: should be base64 string: invalid token '"junk!"'"#.into())
        );
        for bad in cln::NON_NUMERIC {
            assert_eq!(
                verdict(&rig, bad, json!({})).await,
                refused(format!(
                    r#"rune: should have valid numeric unique_id: invalid token '"{bad}"'"#
                ))
            );
        }
        assert_eq!(
            verdict(&rig, &rune, json!({"nodeid": "02zz"})).await,
            refused(r#"nodeid: should be a node id: invalid token '"02zz"'"#.into())
        );
        assert_eq!(
            verdict(&rig, &rune, json!({"method": 7})).await,
            refused("method: should be a string: invalid token '7'".into())
        );
        for params in [json!("x"), json!(7), json!(true)] {
            assert_eq!(
                verdict(&rig, &rune, json!({ "params": params })).await,
                refused("params: must be object or array".into())
            );
        }
        // Positional, as lightning-cli sends them.
        let positional = json!([rune, L1_ID, "getinfo", {}]);
        assert_eq!(
            rig.ok("checkrune", positional).await,
            json!({"valid": true})
        );
    }

    #[tokio::test]
    async fn check_checkrune_reads_the_rune_and_uses_nothing() {
        let rig = Rig::start(1).await;
        let rune = mint(&rig, &[json!([["rate=1"]])]).await.remove(0);
        let (code, message) = rig
            .err(
                "check",
                json!({"command_to_check": "checkrune", "rune": "junk!"}),
            )
            .await;
        assert_eq!(code, -32602);
        assert!(
            message.starts_with("rune: should be base64 string"),
            "{message}"
        );
        let checked = json!({"command_to_check": "checkrune", "rune": rune});
        assert_eq!(
            rig.ok("check", checked).await,
            json!({"command_to_check": "checkrune"})
        );
        assert_eq!(rig.store.stored(0).unwrap().last_used_nsec, None);
        assert_eq!(verdict(&rig, &rune, json!({})).await, Ok(()));
    }

    #[tokio::test]
    async fn a_store_failure_is_a_database_failure() {
        let rig = Rig::start(1).await;
        let rune = mint(&rig, &[json!([])]).await.remove(0);
        rig.store.fail_with("database is locked");
        assert_eq!(
            verdict(&rig, &rune, json!({})).await,
            Err((-1, "Database failure: database is locked".into()))
        );
    }
}
