//! The node's rune authority: the master rune (from `hsm_secret`), the runes it issued, their
//! last uses and the blacklist, kept in a [`RuneStore`]. The rune RPCs and the commando server
//! ask it; the rules themselves are the `runes` crate's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonrpc::error::RpcError;
use runes::{
    checkrune, describe, is_unrestricted, parse_rune_param, Authorized, Blacklist, CheckRuneError,
    Restriction, Rune, WARNING_UNRESTRICTED_RUNE,
};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::store::{RuneStore, StoreFailure};

/// Who asks for a check: the peer (for commando), the method and its params.
#[derive(Debug, Clone, Copy)]
pub struct Asking<'a> {
    /// The calling node's compressed public key, if the call came from a peer.
    pub node_id: Option<&'a [u8; 33]>,
    /// The method, if given.
    pub method: Option<&'a str>,
    /// The params (an object or array), if given.
    pub params: Option<&'a RawValue>,
}

/// A rune `createrune` made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The rune, base64.
    pub rune: String,
    /// Its unique id.
    pub unique_id: String,
    /// It has no restriction beyond its unique id.
    pub unrestricted: bool,
}

impl Created {
    /// createrune's result, in CLN's member order.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("rune".into(), self.rune.clone().into());
        object.insert("unique_id".into(), self.unique_id.clone().into());
        if self.unrestricted {
            object.insert(
                "warning_unrestricted_rune".into(),
                WARNING_UNRESTRICTED_RUNE.into(),
            );
        }
        Value::Object(object)
    }
}

/// A store failure as the RPC caller sees it.
pub(crate) fn store_error(failure: StoreFailure) -> RpcError {
    RpcError::lightningd(format!("Database failure: {failure}"))
}

/// The node's rune authority; share it behind an `Arc`.
pub struct RuneAuthority {
    master: Rune,
    store: Arc<dyn RuneStore>,
    /// The blacklist as stored: changed (and persisted) under this lock.
    blacklist: Mutex<Blacklist>,
    /// Held from taking the next unique id to storing the rune, so no id is issued twice.
    issuing: Mutex<()>,
    /// Held from reading a unique id's last use to recording the new one, so two checks of
    /// one rune cannot both pass a `rate` that allows one. Also guards the uses not yet
    /// written to the store.
    checking: Mutex<LastUses>,
}

/// How often, at most, the last use of a rune without `rate` or `per` is written to the
/// store. Its last use is only shown (`showrunes`), so it may lag in the store by this much;
/// writing every use cost a third of a busy commando server's CPU.
const LAST_USE_WRITE_INTERVAL: Duration = Duration::from_secs(1);

/// The last uses of runes without `rate` or `per` not yet written to the store, and when each
/// unique id's last use was last written, in nanoseconds since the epoch.
#[derive(Debug, Default)]
struct LastUses {
    unwritten: HashMap<u64, u64>,
    written_at: HashMap<u64, u64>,
}

impl std::fmt::Debug for RuneAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The master rune's authcode is the secret: never printed.
        f.debug_struct("RuneAuthority").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn since_epoch(now: SystemTime) -> Duration {
    now.duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl RuneAuthority {
    /// The authority of `master` (see `runes::master_rune`) over `store`, with the stored
    /// blacklist.
    ///
    /// # Errors
    /// The store failed, or holds a blacklist range that cannot be (a corrupt store).
    pub fn new(master: Rune, store: Arc<dyn RuneStore>) -> Result<RuneAuthority, StoreFailure> {
        let ranges = store.blacklist()?;
        let blacklist = Blacklist::from_ranges(
            ranges
                .into_iter()
                .map(|(start, end)| runes::BlacklistRange { start, end }),
        )
        .map_err(|e| StoreFailure(format!("stored rune blacklist: {e}")))?;
        Ok(RuneAuthority {
            master,
            store,
            blacklist: Mutex::new(blacklist),
            issuing: Mutex::new(()),
            checking: Mutex::new(LastUses::default()),
        })
    }

    /// createrune: `restrictions` appended to `base` (a rune of anyone's, left unstored), or
    /// to a new rune minted from the master with the next unique id (stored).
    ///
    /// # Errors
    /// The store failed, or a restriction cannot be appended.
    pub fn create(
        &self,
        base: Option<Rune>,
        restrictions: Vec<Restriction>,
    ) -> Result<Created, RpcError> {
        let append = |mut rune: Rune| -> Result<Rune, RpcError> {
            for restriction in restrictions {
                rune.append(restriction)
                    .map_err(|e| RpcError::invalid_params(format!("restrictions: {e}")))?;
            }
            Ok(rune)
        };
        let created = |rune: &Rune| Created {
            rune: rune.to_base64(),
            unique_id: rune.unique_id().unwrap_or_default().to_owned(),
            unrestricted: is_unrestricted(rune),
        };
        if let Some(base) = base {
            return Ok(created(&append(base)?));
        }
        let _issuing = lock(&self.issuing);
        let id = self.store.next_rune_id().map_err(store_error)?;
        let minted = self
            .master
            .derive(id)
            .map_err(|e| RpcError::lightningd(format!("cannot mint rune {id}: {e}")))?;
        let rune = append(minted)?;
        let created = created(&rune);
        self.store
            .insert_rune(id, &created.rune)
            .map_err(store_error)?;
        Ok(created)
    }

    /// checkrune at `now`: CLN's checks in CLN's order; on success the rune's unique id is
    /// recorded as used now.
    ///
    /// # Errors
    /// The check's failure with CLN's code and text; a store failure as -1.
    pub fn check(
        &self,
        rune: &str,
        asking: Asking<'_>,
        now: SystemTime,
    ) -> Result<Authorized, CheckFailure> {
        let now = since_epoch(now);
        let request = runes::Request {
            node_id: asking.node_id,
            method: asking.method,
            params: asking.params,
            now,
        };
        let mut last_uses = lock(&self.checking);
        let mut store_failure = None;
        // checkrune asks for a last use only for a rune with `rate` or `per`.
        let mut rate_limited = false;
        let verdict = {
            let blacklist = lock(&self.blacklist);
            checkrune(&self.master, &blacklist, rune, &request, |id| {
                rate_limited = true;
                match self.store.rune(id) {
                    // An issued rune never used counts as used at the epoch: any interval has
                    // passed. One never issued has no last use, and passes (CLN's rule).
                    Ok(Some(stored)) => Some(Duration::from_nanos(
                        stored.last_used_nsec.unwrap_or_default(),
                    )),
                    Ok(None) => None,
                    Err(failure) => {
                        store_failure = Some(failure);
                        None
                    }
                }
            })
        };
        if let Some(failure) = store_failure {
            return Err(CheckFailure::Store(failure));
        }
        let authorized = verdict.map_err(CheckFailure::Refused)?;
        let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        let id = authorized.unique_id;
        let interval = u64::try_from(LAST_USE_WRITE_INTERVAL.as_nanos()).unwrap_or(u64::MAX);
        let due = last_uses
            .written_at
            .get(&id)
            .is_none_or(|at| nanos.saturating_sub(*at) >= interval);
        // A rune with `rate` or `per` is judged by its last use, so that is written at once,
        // as CLN does; so is any rune's first use, and then one use a second.
        if rate_limited || due {
            self.store
                .set_last_used(id, nanos)
                .map_err(CheckFailure::Store)?;
            last_uses.written_at.insert(id, nanos);
            last_uses.unwritten.remove(&id);
        } else {
            last_uses.unwritten.insert(id, nanos);
        }
        Ok(authorized)
    }

    /// `stored`'s last use, or a later one not yet written.
    fn last_used(&self, id: u64, stored: Option<&crate::store::StoredRune>) -> Option<u64> {
        let unwritten = lock(&self.checking).unwritten.get(&id).copied();
        let stored = stored.and_then(|stored| stored.last_used_nsec);
        unwritten.max(stored)
    }

    /// showrunes: `rune` (anyone's), or every rune we issued, as CLN lists them.
    ///
    /// # Errors
    /// The store failed.
    pub fn show(&self, rune: Option<(Rune, u64, &str)>) -> Result<Value, RpcError> {
        let entries = match rune {
            Some((rune, id, text)) => {
                let stored = self.store.rune(id).map_err(store_error)?;
                vec![self.entry(&rune, id, text, stored.as_ref())]
            }
            None => {
                let mut entries = Vec::new();
                for stored in self.store.runes().map_err(store_error)? {
                    // A stored rune that no longer decodes is shown as nothing rather than
                    // failing the whole list; it cannot be one we minted.
                    if let Ok((rune, id)) = parse_rune_param(&stored.rune) {
                        entries.push(self.entry(&rune, id, &stored.rune, Some(&stored)));
                    }
                }
                entries
            }
        };
        Ok(json!({ "runes": entries }))
    }

    /// One showrunes entry, members in CLN's order.
    fn entry(
        &self,
        rune: &Rune,
        id: u64,
        text: &str,
        stored: Option<&crate::store::StoredRune>,
    ) -> Value {
        let mut object = Map::new();
        object.insert("rune".into(), text.into());
        if stored.is_none_or(|stored| stored.rune != text) {
            object.insert("stored".into(), false.into());
        }
        if lock(&self.blacklist).contains(id) {
            object.insert("blacklisted".into(), true.into());
        }
        if rune.check_derivation(&self.master).is_err() {
            object.insert("our_rune".into(), false.into());
        }
        if let Some(nsec) = self.last_used(id, stored).filter(|nsec| *nsec > 0) {
            // CLN prints seconds with nine decimals; a JSON number as f64 keeps microseconds.
            let seconds = nsec / 1_000_000_000;
            let fraction = (nsec % 1_000_000_000) as f64 / 1e9;
            object.insert("last_used".into(), json!(seconds as f64 + fraction));
        }
        object.insert(
            "unique_id".into(),
            rune.unique_id().unwrap_or_default().into(),
        );
        let english = describe(rune);
        object.insert(
            "restrictions".into(),
            serde_json::to_value(&english.restrictions).unwrap_or(Value::Null),
        );
        object.insert(
            "restrictions_as_english".into(),
            english.restrictions_as_english.into(),
        );
        Value::Object(object)
    }

    /// blacklistrune: marks (or with `relist` unmarks) `start..=end`, persists, and lists.
    ///
    /// # Errors
    /// CLN's refusals (-32602), or the store failed (the blacklist is then unchanged).
    pub fn blacklist(
        &self,
        start: Option<u64>,
        end: Option<u64>,
        relist: bool,
    ) -> Result<Value, RpcError> {
        let mut blacklist = lock(&self.blacklist);
        let mut changed = blacklist.clone();
        changed
            .apply(start, end, relist)
            .map_err(|e| RpcError::invalid_params(e.to_string()))?;
        if changed != *blacklist {
            let ranges: Vec<(u64, u64)> =
                changed.ranges().iter().map(|r| (r.start, r.end)).collect();
            self.store.set_blacklist(&ranges).map_err(store_error)?;
            *blacklist = changed;
        }
        Ok(json!({ "blacklist": blacklist.ranges() }))
    }
}

/// Why [`RuneAuthority::check`] refused.
#[derive(Debug)]
pub enum CheckFailure {
    /// The rune does not allow it (CLN's code and text).
    Refused(CheckRuneError),
    /// The store failed.
    Store(StoreFailure),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, authority, cln, cln_master, node_id_bytes, raw, MemoryRuneStore};
    use runes::{parse_restrictions, readonly_restrictions};

    fn restrictions(json: &str) -> Vec<Restriction> {
        parse_restrictions(&raw(json)).unwrap()
    }

    fn mint(authority: &RuneAuthority, json: &str) -> Created {
        authority.create(None, restrictions(json)).unwrap()
    }

    fn base(rune: &str) -> Option<Rune> {
        Some(Rune::from_base64(rune).unwrap())
    }

    const GETINFO: Asking<'static> = Asking {
        node_id: None,
        method: Some("getinfo"),
        params: None,
    };

    fn refused(result: Result<Authorized, CheckFailure>) -> (i32, String) {
        match result {
            Err(CheckFailure::Refused(refused)) => (refused.code(), refused.to_string()),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn minted_runes_are_clns_and_take_the_next_unique_id_from_the_store() {
        let (authority, store) = authority();
        let created = mint(&authority, "[]");
        assert_eq!(
            created,
            Created {
                rune: cln::RUNE0.into(),
                unique_id: "0".into(),
                unrestricted: true,
            }
        );
        let created = authority.create(None, readonly_restrictions()).unwrap();
        assert_eq!(
            (created.rune.as_str(), created.unrestricted),
            (cln::RUNE1_READONLY, false)
        );
        assert_eq!(
            mint(&authority, r#"[["time>1656675211"]]"#).rune,
            cln::RUNE2_TIME
        );
        let id_method = r#"[["id^022d223620a359a47ff7"],["method=listpeers"]]"#;
        assert_eq!(mint(&authority, id_method).rune, cln::RUNE3_ID_METHOD);
        assert_eq!(mint(&authority, r#"[["pnum=0"]]"#).rune, cln::RUNE4_PNUM);
        assert_eq!(
            store.stored_runes(),
            vec![
                (0, cln::RUNE0.to_owned()),
                (1, cln::RUNE1_READONLY.to_owned()),
                (2, cln::RUNE2_TIME.to_owned()),
                (3, cln::RUNE3_ID_METHOD.to_owned()),
                (4, cln::RUNE4_PNUM.to_owned()),
            ]
        );
        assert_eq!(store.stored(0).unwrap().last_used_nsec, None);

        // A restarted node (a new authority over the same store) carries on from the store.
        let restarted = RuneAuthority::new(cln_master(), store.clone()).unwrap();
        assert_eq!(mint(&restarted, "[]").unique_id, "5");
    }

    #[test]
    fn the_next_unique_id_is_one_past_the_largest_stored() {
        let (authority, store) = authority();
        store.insert_rune(7, "written by an older run").unwrap();
        let created = mint(&authority, "[]");
        assert_eq!(created.unique_id, "8");
        assert_eq!(store.stored(8).unwrap().rune, created.rune);
    }

    #[test]
    fn a_store_failure_issues_no_rune_and_uses_up_no_id() {
        let (authority, store) = authority();
        store.fail_with("disk I/O error");
        let error = authority.create(None, Vec::new()).unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (-1, "Database failure: disk I/O error")
        );
        store.heal();
        assert_eq!(mint(&authority, "[]").rune, cln::RUNE0);
        assert_eq!(store.stored_runes().len(), 1);
    }

    #[test]
    fn restricting_a_rune_keeps_its_id_and_stores_nothing() {
        let (authority, store) = authority();
        let level = authority
            .create(
                base(cln::RUNE3_ID_METHOD),
                restrictions(r#"[["pnamelevel!","pnamelevel/io"]]"#),
            )
            .unwrap();
        assert_eq!(
            level,
            Created {
                rune: cln::RUNE3_LEVEL.into(),
                unique_id: "3".into(),
                unrestricted: false,
            }
        );
        let parr = restrictions(r#"[["parr1!","parr1/io"]]"#);
        let parr = authority.create(base(&level.rune), parr).unwrap();
        assert_eq!(parr.rune, cln::RUNE3_PARR);
        let rate3 = restrictions(r#"[["rate=3"]]"#);
        let rate3 = authority.create(base(cln::RUNE4_PNUM), rate3).unwrap();
        assert_eq!(rate3.rune, cln::RUNE4_RATE3);
        let rate1 = restrictions(r#"[["rate=1"]]"#);
        assert_eq!(
            authority.create(base(&rate3.rune), rate1).unwrap().rune,
            cln::RUNE4_RATE1
        );
        // Anyone's rune can be restricted: no secret is needed to append.
        let schema = authority
            .create(base(cln::SCHEMA_BASE), readonly_restrictions())
            .unwrap();
        assert_eq!(
            (schema.rune.as_str(), schema.unique_id.as_str()),
            (cln::SCHEMA_READONLY, "0")
        );
        // No restriction added: the rune comes back as it was, still unrestricted.
        let same = authority.create(base(cln::RUNE0), Vec::new()).unwrap();
        assert_eq!((same.rune.as_str(), same.unrestricted), (cln::RUNE0, true));
        assert!(store.stored_runes().is_empty());
    }

    #[test]
    fn a_pass_is_recorded_as_the_runes_last_use_and_a_refusal_is_not() {
        let (authority, store) = authority();
        let getinfo_only = mint(&authority, r#"[["method=getinfo"]]"#).rune;
        let listpeers = Asking {
            method: Some("listpeers"),
            ..GETINFO
        };
        assert_eq!(
            refused(authority.check(&getinfo_only, listpeers, at(1_700_000_000))),
            (1502, "Not permitted: method is not equal to getinfo".into())
        );
        assert_eq!(store.stored(0).unwrap().last_used_nsec, None);
        let now = at(1_700_000_000) + Duration::from_nanos(123_456_789);
        let authorized = authority.check(&getinfo_only, GETINFO, now).unwrap();
        assert_eq!(authorized.unique_id, 0);
        assert_eq!(
            store.stored(0).unwrap().last_used_nsec,
            Some(1_700_000_000_123_456_789)
        );
    }

    #[test]
    fn a_rune_of_ours_never_stored_passes_and_gains_no_row() {
        let (authority, store) = authority();
        let authorized = authority
            .check(cln::RUNE9_UNSTORED, GETINFO, at(1_700_000_000))
            .unwrap();
        assert_eq!(authorized.unique_id, 9);
        assert_eq!(store.stored(9), None);
        // Not even `rate` holds it back: with no row there is no last use (CLN's FIXME).
        let rate1 = authority
            .create(base(cln::RUNE9_UNSTORED), restrictions(r#"[["rate=1"]]"#))
            .unwrap()
            .rune;
        for _ in 0..3 {
            assert!(authority.check(&rate1, GETINFO, at(1_700_000_000)).is_ok());
        }
    }

    #[test]
    fn refusals_have_clns_codes_in_clns_order() {
        let (authority, _store) = authority();
        let now = at(1_700_000_000);
        // Another node's rune, and ours with its authcode changed.
        assert_eq!(
            refused(authority.check(cln::FOREIGN, GETINFO, now)),
            (1501, "Not authorized: Not derived from master".into())
        );
        let mut bytes = cln::RUNE0.as_bytes().to_vec();
        bytes[0] = b'J';
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(refused(authority.check(&tampered, GETINFO, now)).0, 1501);
        // The blacklist is looked at before the derivation.
        authority.blacklist(Some(0), None, false).unwrap();
        assert_eq!(
            refused(authority.check(cln::FOREIGN, GETINFO, now)),
            (1503, "Not authorized: Blacklisted rune".into())
        );
        assert_eq!(refused(authority.check(cln::RUNE0, GETINFO, now)).0, 1503);
        for rune in cln::NON_NUMERIC {
            assert_eq!(
                refused(authority.check(rune, GETINFO, now)),
                (-32602, "rune: should have valid numeric unique_id".into()),
                "{rune}"
            );
        }
        assert_eq!(
            refused(authority.check("not a rune", GETINFO, now)),
            (-32602, "rune: should be base64 string".into())
        );
    }

    #[test]
    fn restrictions_see_the_peer_the_method_the_params_and_the_time() {
        let (authority, _store) = authority();
        let now = at(1_700_000_000);
        let l1 = node_id_bytes(crate::testing::L1_ID);
        let other = node_id_bytes(&format!("03{}", "11".repeat(32)));
        let listpeers = |node_id, params| Asking {
            node_id,
            method: Some("listpeers"),
            params,
        };
        // Rune 3: `id^022d223620a359a47ff7` and `method=listpeers`.
        let rune3 = cln::RUNE3_ID_METHOD;
        assert!(authority
            .check(rune3, listpeers(Some(&l1), None), now)
            .is_ok());
        assert_eq!(
            refused(authority.check(rune3, listpeers(Some(&other), None), now)).1,
            "Not permitted: id does not start with 022d223620a359a47ff7"
        );
        assert_eq!(
            refused(authority.check(rune3, listpeers(None, None), now)).1,
            "Not permitted: id not present"
        );
        let listnodes = Asking {
            method: Some("listnodes"),
            ..listpeers(Some(&l1), None)
        };
        assert_eq!(
            refused(authority.check(rune3, listnodes, now)).1,
            "Not permitted: method is not equal to listpeers"
        );
        // Its descendants add `level` and `parr1` conditions.
        let level_io = raw(r#"{"id":"x","level":"io"}"#);
        assert_eq!(
            refused(authority.check(cln::RUNE3_LEVEL, listpeers(Some(&l1), Some(&level_io)), now))
                .1,
            "Not permitted: parameter level is present AND pnamelevel is equal to io"
        );
        let array = raw(r#"["x","io"]"#);
        assert_eq!(
            refused(authority.check(cln::RUNE3_PARR, listpeers(Some(&l1), Some(&array)), now)).1,
            "Not permitted: parameter #1 is present AND parr1 is equal to io"
        );
        let debug = raw(r#"["x","debug"]"#);
        assert!(authority
            .check(cln::RUNE3_PARR, listpeers(Some(&l1), Some(&debug)), now)
            .is_ok());
        // Rune 2: `time>1656675211`; one for the past fails.
        assert!(authority.check(cln::RUNE2_TIME, GETINFO, now).is_ok());
        let expired = mint(&authority, r#"[["time<1656675211"]]"#).rune;
        assert_eq!(
            refused(authority.check(&expired, GETINFO, now)).1,
            "Not permitted: time is greater or equal to 1656675211"
        );
        assert!(authority
            .check(&expired, GETINFO, at(1_656_675_210))
            .is_ok());
    }

    #[test]
    fn rate_allows_one_pass_per_interval_shared_by_the_unique_id() {
        // CLN's test_createrune: rune 4 (`pnum=0`) and its descendants with `rate=3` (one use
        // per 20 s) and then `rate=1` (one per 60 s) share unique id 4 and its last use.
        let (authority, store) = authority();
        for json in ["[]", "[]", "[]", "[]"] {
            mint(&authority, json);
        }
        assert_eq!(mint(&authority, r#"[["pnum=0"]]"#).unique_id, "4");
        let start = 1_700_000_000;
        assert!(authority.check(cln::RUNE4_PNUM, GETINFO, at(start)).is_ok());
        let too_soon = (1502, "Not permitted: too soon".to_owned());
        assert_eq!(
            refused(authority.check(cln::RUNE4_RATE3, GETINFO, at(start + 19))),
            too_soon
        );
        // The refusal did not count as a use.
        assert_eq!(
            store.stored(4).unwrap().last_used_nsec,
            Some(start * 1_000_000_000)
        );
        assert!(authority
            .check(cln::RUNE4_RATE3, GETINFO, at(start + 20))
            .is_ok());
        assert_eq!(
            refused(authority.check(cln::RUNE4_RATE1, GETINFO, at(start + 41))),
            too_soon
        );
        assert_eq!(
            refused(authority.check(cln::RUNE4_RATE1, GETINFO, at(start + 79))),
            too_soon
        );
        assert!(authority
            .check(cln::RUNE4_RATE1, GETINFO, at(start + 80))
            .is_ok());
        // A clock that went back counts as "just used".
        assert_eq!(
            refused(authority.check(cln::RUNE4_RATE3, GETINFO, at(start))),
            too_soon
        );
    }

    #[test]
    fn per_allows_one_pass_per_period() {
        let (authority, _store) = authority();
        let rune = mint(&authority, r#"[["per=2sec"]]"#).rune;
        let start = at(1_700_000_000);
        assert!(authority.check(&rune, GETINFO, start).is_ok());
        let just_before = start + Duration::from_millis(1_999);
        assert_eq!(
            refused(authority.check(&rune, GETINFO, just_before)).1,
            "Not permitted: too soon"
        );
        assert!(authority
            .check(&rune, GETINFO, start + Duration::from_secs(2))
            .is_ok());
        let malformed = mint(&authority, r#"[["per=5m"]]"#).rune;
        assert_eq!(
            refused(authority.check(&malformed, GETINFO, start)).1,
            "Not permitted: malformed suffix"
        );
    }

    #[test]
    fn last_uses_of_runes_without_rate_are_written_at_most_once_a_second() {
        let (authority, store) = authority();
        let open = mint(&authority, "[]").rune;
        let rate = mint(&authority, r#"[["rate=1000"]]"#).rune;
        let nanos = |t: SystemTime| since_epoch(t).as_nanos() as u64;
        let t0 = at(1_700_000_000);
        let t1 = t0 + Duration::from_millis(300);
        let t2 = t0 + Duration::from_millis(1_100);
        // The first use is written; one 300 ms later is only kept in memory, and showrunes
        // shows it; one a second after the write is written.
        authority.check(&open, GETINFO, t0).unwrap();
        assert_eq!(store.stored(0).unwrap().last_used_nsec, Some(nanos(t0)));
        authority.check(&open, GETINFO, t1).unwrap();
        assert_eq!(store.stored(0).unwrap().last_used_nsec, Some(nanos(t0)));
        let shown = authority.show(None).unwrap();
        let last_used = shown["runes"][0]["last_used"].as_f64().unwrap();
        assert!((last_used - 1_700_000_000.3).abs() < 1e-3, "{last_used}");
        authority.check(&open, GETINFO, t2).unwrap();
        assert_eq!(store.stored(0).unwrap().last_used_nsec, Some(nanos(t2)));
        // A rune with `rate` is judged by its last use: every use is written at once.
        authority.check(&rate, GETINFO, t0).unwrap();
        authority.check(&rate, GETINFO, t1).unwrap();
        assert_eq!(store.stored(1).unwrap().last_used_nsec, Some(nanos(t1)));
    }

    #[test]
    fn a_store_failure_during_a_check_is_not_a_pass() {
        let (authority, store) = authority();
        let rate = mint(&authority, r#"[["rate=1"]]"#).rune;
        let open = mint(&authority, "[]").rune;
        let now = at(1_700_000_000);
        store.fail_with("database is locked");
        // Reading the last use, for `rate`, fails ...
        let Err(CheckFailure::Store(failure)) = authority.check(&rate, GETINFO, now) else {
            panic!("a rate check passed without its last use");
        };
        assert_eq!(failure.0, "database is locked");
        // ... and so does recording a pass.
        assert!(matches!(
            authority.check(&open, GETINFO, now),
            Err(CheckFailure::Store(_))
        ));
        store.heal();
        assert!(authority.check(&rate, GETINFO, now).is_ok());
    }

    #[test]
    fn the_blacklist_is_written_on_change_and_read_back_on_restart() {
        let (authority, store) = authority();
        let listed = |value: Value| value["blacklist"].clone();
        assert_eq!(
            listed(authority.blacklist(Some(3), Some(5), false).unwrap()),
            json!([{"start": 3, "end": 5}])
        );
        assert_eq!(store.stored_blacklist(), vec![(3, 5)]);
        assert_eq!(store.blacklist_writes(), 1);
        // Listing, and changes that change nothing, write nothing.
        authority.blacklist(None, None, false).unwrap();
        authority.blacklist(Some(4), None, false).unwrap();
        authority.blacklist(Some(9), None, true).unwrap();
        assert_eq!(store.blacklist_writes(), 1);
        authority.blacklist(Some(6), None, false).unwrap();
        assert_eq!(store.stored_blacklist(), vec![(3, 6)]);

        let restarted = RuneAuthority::new(cln_master(), store.clone()).unwrap();
        assert_eq!(
            listed(restarted.blacklist(None, None, false).unwrap()),
            json!([{"start": 3, "end": 6}])
        );
        let rune3 = cln::RUNE3_ID_METHOD;
        assert_eq!(refused(restarted.check(rune3, GETINFO, at(1))).0, 1503);
    }

    #[test]
    fn a_failed_blacklist_write_changes_nothing() {
        let (authority, store) = authority();
        authority.blacklist(Some(1), None, false).unwrap();
        store.fail_with("disk full");
        let error = authority.blacklist(Some(2), Some(8), false).unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str()),
            (-1, "Database failure: disk full")
        );
        store.heal();
        assert_eq!(
            authority.blacklist(None, None, false).unwrap(),
            json!({"blacklist": [{"start": 1, "end": 1}]})
        );
        assert!(authority.check(cln::RUNE1_BARE, GETINFO, at(1)).is_err());
        assert!(authority.check(cln::RUNE9_UNSTORED, GETINFO, at(1)).is_ok());
    }

    #[test]
    fn a_stored_blacklist_is_merged_and_a_corrupt_one_refused() {
        let store = MemoryRuneStore::with_blacklist(&[(5, 6), (1, 2), (3, 4)]);
        let authority = RuneAuthority::new(cln_master(), store).unwrap();
        assert_eq!(
            authority.blacklist(None, None, false).unwrap(),
            json!({"blacklist": [{"start": 1, "end": 6}]})
        );
        for corrupt in [(4, 3), (0, 100_000_000)] {
            let store = MemoryRuneStore::with_blacklist(&[corrupt]);
            let failure = RuneAuthority::new(cln_master(), store).unwrap_err();
            assert!(
                failure.0.starts_with("stored rune blacklist: "),
                "{failure}"
            );
        }
        let store = MemoryRuneStore::new();
        store.fail_with("no such table: runes_blacklist");
        let failure = RuneAuthority::new(cln_master(), store).unwrap_err();
        assert_eq!(failure.0, "no such table: runes_blacklist");
    }

    #[test]
    fn last_use_is_shown_in_seconds_and_only_once_there_is_one() {
        let (authority, store) = authority();
        let rune = mint(&authority, "[]").rune;
        let shown = authority.show(None).unwrap();
        assert!(shown["runes"][0].get("last_used").is_none());
        store.set_last_used(0, 1_700_000_000_123_456_789).unwrap();
        let shown = authority.show(None).unwrap();
        let last_used = shown["runes"][0]["last_used"].as_f64().unwrap();
        assert!(
            (last_used - 1_700_000_000.123_456_8).abs() < 1e-6,
            "{last_used}"
        );
        let (parsed, id) = parse_rune_param(&rune).unwrap();
        let one = authority.show(Some((parsed, id, &rune))).unwrap();
        assert_eq!(one["runes"][0]["last_used"], shown["runes"][0]["last_used"]);
    }
}
