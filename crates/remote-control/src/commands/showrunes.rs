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

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde_json::{json, Value};

    use crate::testing::{cln, Rig, L1_ID};
    use crate::RuneStore;

    fn unrestricted(rune: &str, unique_id: &str) -> Value {
        json!({"rune": rune, "unique_id": unique_id, "restrictions": [], "restrictions_as_english": ""})
    }

    async fn shown(rig: &Rig, rune: &str) -> Value {
        rig.ok("showrunes", json!([rune])).await["runes"][0].clone()
    }

    fn seconds_now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    }

    #[tokio::test]
    async fn every_stored_rune_is_listed_as_cln_lists_it() {
        // CLN's test_showrunes, without the old hsm_secret.
        let rig = Rig::start(1).await;
        assert_eq!(rig.ok("showrunes", json!([])).await, json!({"runes": []}));
        rig.ok("createrune", json!([])).await;
        rig.ok("createrune", json!([])).await;
        let shown = rig.ok("showrunes", json!([])).await;
        assert_eq!(
            shown.to_string(),
            json!({"runes": [unrestricted(cln::RUNE0, "0"), unrestricted(cln::RUNE1_BARE, "1")]})
                .to_string()
        );
    }

    #[tokio::test]
    async fn one_rune_says_whether_it_is_stored_ours_and_blacklisted() {
        let rig = Rig::start(1).await;
        rig.ok("createrune", json!([])).await;
        rig.ok("createrune", json!([])).await;
        // Ours, and stored exactly so: no flag (test_showrune_id).
        assert_eq!(
            rig.ok("showrunes", json!([cln::RUNE0])).await,
            json!({"runes": [unrestricted(cln::RUNE0, "0")]})
        );
        // Ours, never stored.
        let unstored = rig
            .ok("showrunes", json!({"rune": cln::RUNE9_UNSTORED}))
            .await;
        assert_eq!(
            unstored.to_string(),
            json!({"runes": [{"rune": cln::RUNE9_UNSTORED, "stored": false, "unique_id": "9", "restrictions": [], "restrictions_as_english": ""}]})
                .to_string()
        );
        // Ours, stored under its id as another text (a restricted copy).
        let copy = rig
            .ok("createrune", json!([cln::RUNE0, [["method=getinfo"]]]))
            .await;
        let copy = copy["rune"].as_str().unwrap();
        let shown = rig.ok("showrunes", json!([copy])).await;
        assert_eq!(shown["runes"][0]["stored"], false);
        // Someone else's; its unique id 0 is ours too, and blacklisted.
        rig.ok("blacklistrune", json!({"start": 0, "end": 1})).await;
        let foreign = rig.ok("showrunes", json!([cln::FOREIGN])).await;
        assert_eq!(
            foreign.to_string(),
            json!({"runes": [{"rune": cln::FOREIGN, "stored": false, "blacklisted": true, "our_rune": false, "unique_id": "0", "restrictions": [], "restrictions_as_english": ""}]})
                .to_string()
        );
        let all = rig.ok("showrunes", json!([])).await;
        for entry in all["runes"].as_array().unwrap() {
            assert_eq!(entry["blacklisted"], true, "{entry}");
            assert!(entry.get("stored").is_none() && entry.get("our_rune").is_none());
        }
    }

    #[tokio::test]
    async fn restrictions_are_spelt_out_in_english() {
        let rig = Rig::start(1).await;
        rig.ok("createrune", json!({"restrictions": "readonly"}))
            .await;
        let id_method = json!({"restrictions": [[format!("id^{}", &L1_ID[..20])], ["method=listpeers", "pnum<2"], ["f#comment"]]});
        rig.ok("createrune", id_method).await;
        let shown = rig.ok("showrunes", json!([])).await;
        let alternative = |fieldname: &str, condition: &str, value: &str, english: &str| json!({"fieldname": fieldname, "value": value, "condition": condition, "english": english});
        let readonly = &shown["runes"][0];
        assert_eq!(
            readonly["restrictions"].to_string(),
            json!([
                {
                    "alternatives": [
                        alternative("method", "^", "list", "method starts with list"),
                        alternative("method", "^", "get", "method starts with get"),
                        alternative("method", "=", "summary", "method equal to summary"),
                    ],
                    "english": "method starts with list OR method starts with get OR method equal to summary"
                },
                {
                    "alternatives": [alternative("method", "/", "listdatastore", "method unequal to listdatastore")],
                    "english": "method unequal to listdatastore"
                }
            ])
            .to_string()
        );
        assert_eq!(
            readonly["restrictions_as_english"],
            "method starts with list OR method starts with get OR method equal to summary AND method unequal to listdatastore"
        );
        assert_eq!(
            shown["runes"][1]["restrictions_as_english"],
            "id starts with 022d223620a359a47ff7 AND method equal to listpeers OR pnum < 2 AND comment: f comment"
        );
    }

    #[tokio::test]
    async fn last_use_appears_after_a_pass_only() {
        let rig = Rig::start(1).await;
        let created = rig
            .ok("createrune", json!({"restrictions": [["method=getinfo"]]}))
            .await;
        let rune = created["rune"].as_str().unwrap();
        assert!(shown(&rig, rune).await.get("last_used").is_none());
        let refused =
            json!({"rune": rune, "nodeid": L1_ID, "method": "listchannels", "params": {}});
        assert_eq!(rig.err("checkrune", refused).await.0, 1502);
        assert!(shown(&rig, rune).await.get("last_used").is_none());

        let before = seconds_now();
        let passed = json!({"rune": rune, "nodeid": L1_ID, "method": "getinfo", "params": {}});
        rig.ok("checkrune", passed).await;
        let after = seconds_now();
        let entry = shown(&rig, rune).await;
        let last_used = entry["last_used"].as_f64().unwrap();
        // f64 keeps microseconds at this magnitude; allow for that rounding.
        assert!(before - 1e-6 <= last_used && last_used <= after + 1e-6);
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "rune",
                "last_used",
                "unique_id",
                "restrictions",
                "restrictions_as_english"
            ]
        );
    }

    #[tokio::test]
    async fn bad_runes_and_store_failures_are_refused() {
        let rig = Rig::start(1).await;
        for bad in cln::NON_NUMERIC {
            let (code, message) = rig.err("showrunes", json!([bad])).await;
            assert_eq!(code, -32602);
            assert_eq!(
                message,
                format!(r#"rune: should have valid numeric unique_id: invalid token '"{bad}"'"#)
            );
        }
        let (_, message) = rig.err("showrunes", json!({"rune": "%%%"})).await;
        assert_eq!(
            message,
            r#"rune: should be base64 string: invalid token '"%%%"'"#
        );
        rig.store.fail_with("database disk image is malformed");
        let failure = (
            -1,
            "Database failure: database disk image is malformed".to_owned(),
        );
        assert_eq!(rig.err("showrunes", json!([])).await, failure);
        assert_eq!(rig.err("showrunes", json!([cln::RUNE0])).await, failure);
    }

    #[tokio::test]
    async fn a_stored_rune_that_does_not_decode_is_left_out() {
        let rig = Rig::start(1).await;
        rig.ok("createrune", json!([])).await;
        rig.store.insert_rune(1, "not a rune").unwrap();
        rig.ok("createrune", json!([])).await;
        let shown = rig.ok("showrunes", json!([])).await;
        let ids: Vec<&Value> = shown["runes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| &entry["unique_id"])
            .collect();
        assert_eq!(ids, [&json!("0"), &json!("2")]);
    }
}
