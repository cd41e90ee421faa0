//! `blacklistrune [start] [end] [relist]`: blacklist (or with `relist` take back) the unique
//! ids `start..=end`, and list the blacklist.

use std::sync::Arc;

use jsonrpc::error::RpcError;
use jsonrpc::params::{Params, Refusal};
use rpc::{Context, Reply, Signature, TypedCommand};
use serde_json::value::RawValue;

use crate::authority::RuneAuthority;

static SIGNATURE: Signature = Signature {
    name: "blacklistrune",
    params: &["start", "end", "relist"],
    usage: "[start] [end] [relist]",
    developer: false,
};

/// `blacklistrune`.
pub(crate) struct BlacklistRune(pub(crate) Arc<RuneAuthority>);

/// The range and the direction.
pub(crate) struct BlacklistArgs {
    start: Option<u64>,
    end: Option<u64>,
    relist: bool,
}

/// An unsigned 64-bit integer, as CLN's `param_u64`.
fn u64_number(token: &RawValue) -> Result<u64, Refusal> {
    jsonrpc::params::token_text(token)
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse().ok())
        .ok_or(Refusal::Should("should be an unsigned 64 bit integer"))
}

impl TypedCommand for BlacklistRune {
    type Args = BlacklistArgs;

    fn signature(&self) -> &Signature {
        &SIGNATURE
    }

    fn parse(&self, p: &Params<'_>) -> Result<BlacklistArgs, RpcError> {
        let args = BlacklistArgs {
            start: p.optional(0, u64_number)?,
            end: p.optional(1, u64_number)?,
            relist: p.optional(2, jsonrpc::params::boolean)?.unwrap_or(false),
        };
        // CLN refuses a bad range while reading the parameters (`param_check`), so that
        // `check blacklistrune` reports it too: the range is tried on an empty list.
        runes::Blacklist::new()
            .apply(args.start, args.end, args.relist)
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        Ok(args)
    }

    fn execute(&self, _: &Context<'_>, args: BlacklistArgs) -> Result<Reply, RpcError> {
        Ok(Reply::Now(self.0.blacklist(
            args.start,
            args.end,
            args.relist,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::testing::Rig;

    fn ranges(list: &[(u64, u64)]) -> Value {
        let list: Vec<Value> = list
            .iter()
            .map(|(start, end)| json!({"start": start, "end": end}))
            .collect();
        json!({ "blacklist": list })
    }

    async fn valid(rig: &Rig, rune: &str) -> bool {
        let asked = json!({"rune": rune, "method": "getinfo"});
        match rig.rpc("checkrune", asked).await {
            Ok(_) => true,
            Err(error) => {
                assert_eq!(
                    (error.code, error.message.as_str()),
                    (1503, "Not authorized: Blacklisted rune")
                );
                false
            }
        }
    }

    #[tokio::test]
    async fn clns_blacklist_sequence_with_relist_and_a_restart() {
        // CLN's test_blacklistrune, step by step.
        let rig = Rig::start(1).await;
        let rune0 = rig.ok("createrune", json!([])).await["rune"].clone();
        let rune1 = rig.ok("createrune", json!([])).await["rune"].clone();
        let (rune0, rune1) = (rune0.as_str().unwrap(), rune1.as_str().unwrap());
        assert!(valid(&rig, rune0).await && valid(&rig, rune1).await);

        let steps: Vec<(Value, Vec<(u64, u64)>)> = vec![
            (json!({"start": 1}), vec![(1, 1)]),
            (json!({"start": 2}), vec![(1, 2)]),
            (json!({"start": 6}), vec![(1, 2), (6, 6)]),
            (json!({"start": 3, "end": 5}), vec![(1, 6)]),
            (json!({"start": 9}), vec![(1, 6), (9, 9)]),
            (json!({"start": 0}), vec![(0, 6), (9, 9)]),
            (json!({}), vec![(0, 6), (9, 9)]),
            // `relist` takes ids off the list; ids not on it are left alone.
            (json!({"start": 10, "relist": true}), vec![(0, 6), (9, 9)]),
            (json!({"start": 9, "end": 9, "relist": true}), vec![(0, 6)]),
            (
                json!({"start": 1, "end": 2, "relist": true}),
                vec![(0, 0), (3, 6)],
            ),
            (
                json!({"start": 4, "relist": true}),
                vec![(0, 0), (3, 3), (5, 6)],
            ),
            (json!({"start": 0, "end": 3, "relist": true}), vec![(5, 6)]),
        ];
        for (params, expected) in steps {
            let listed = rig.ok("blacklistrune", params.clone()).await;
            assert_eq!(listed, ranges(&expected), "after {params}");
            assert_eq!(
                rig.store.stored_blacklist(),
                expected,
                "stored after {params}"
            );
            if params == json!({"start": 1}) {
                assert!(valid(&rig, rune0).await && !valid(&rig, rune1).await);
            }
            if params == json!({"start": 0}) {
                assert!(!valid(&rig, rune0).await && !valid(&rig, rune1).await);
            }
        }
        assert!(valid(&rig, rune0).await && valid(&rig, rune1).await);

        // The blacklist survives a restart.
        let rig = rig.restart().await;
        assert_eq!(rig.ok("blacklistrune", json!([])).await, ranges(&[(5, 6)]));
        let last = json!({"start": 0, "end": 99_999_999, "relist": true});
        assert_eq!(rig.ok("blacklistrune", last).await, ranges(&[]));
        assert!(rig.store.stored_blacklist().is_empty());
    }

    #[tokio::test]
    async fn positional_and_string_numbers() {
        let rig = Rig::start(1).await;
        assert_eq!(
            rig.ok("blacklistrune", json!([3, 5])).await,
            ranges(&[(3, 5)])
        );
        assert_eq!(
            rig.ok("blacklistrune", json!(["4", null, true])).await,
            ranges(&[(3, 3), (5, 5)])
        );
        assert_eq!(
            rig.ok("blacklistrune", json!([7, 7, "false"])).await,
            ranges(&[(3, 3), (5, 5), (7, 7)])
        );
    }

    #[tokio::test]
    async fn bad_ranges_are_refused_with_clns_texts_and_change_nothing() {
        let rig = Rig::start(1).await;
        rig.ok("blacklistrune", json!({"start": 1})).await;
        let cases = [
            (
                json!({"end": 5}),
                "Can not specify end without start".to_owned(),
            ),
            (
                json!({"start": 100_000_000, "relist": true}),
                "Cannot blacklist beyond 100000000".to_owned(),
            ),
            (
                json!({"start": 5, "end": 100_000_000}),
                "Cannot blacklist beyond 100000000".to_owned(),
            ),
            (
                json!({"start": 5, "end": 4}),
                "Can not specify start 5 greater than end 4".to_owned(),
            ),
            (
                json!({"start": -1}),
                "start: should be an unsigned 64 bit integer: invalid token '-1'".to_owned(),
            ),
            (
                json!({"start": 1, "end": "x"}),
                r#"end: should be an unsigned 64 bit integer: invalid token '"x"'"#.to_owned(),
            ),
            (
                json!({"start": 1, "relist": "yes"}),
                r#"relist: should be 'true' or 'false': invalid token '"yes"'"#.to_owned(),
            ),
        ];
        for (params, message) in cases {
            assert_eq!(
                rig.err("blacklistrune", params.clone()).await,
                (-32602, message.clone()),
                "{params}"
            );
            // `check blacklistrune` refuses what running it would (CLN's param_check).
            let mut checked = params.clone();
            checked["command_to_check"] = "blacklistrune".into();
            assert_eq!(
                rig.err("check", checked).await,
                (-32602, message),
                "check {params}"
            );
        }
        assert_eq!(rig.ok("blacklistrune", json!([])).await, ranges(&[(1, 1)]));
        assert_eq!(rig.store.blacklist_writes(), 1);
    }

    #[tokio::test]
    async fn check_blacklistrune_changes_nothing() {
        let rig = Rig::start(1).await;
        let checked = json!({"command_to_check": "blacklistrune", "start": 3});
        assert_eq!(
            rig.ok("check", checked).await,
            json!({"command_to_check": "blacklistrune"})
        );
        assert_eq!(rig.ok("blacklistrune", json!([])).await, ranges(&[]));
        assert_eq!(rig.store.blacklist_writes(), 0);
    }

    #[tokio::test]
    async fn a_store_failure_leaves_the_blacklist_as_it_was() {
        let rig = Rig::start(1).await;
        rig.ok("blacklistrune", json!({"start": 2})).await;
        rig.store.fail_with("disk full");
        assert_eq!(
            rig.err("blacklistrune", json!({"start": 3})).await,
            (-1, "Database failure: disk full".to_owned())
        );
        rig.store.heal();
        assert_eq!(rig.ok("blacklistrune", json!([])).await, ranges(&[(2, 2)]));
    }
}
