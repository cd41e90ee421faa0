//! The node's rune authority: the master rune (from `hsm_secret`), the runes it issued, their
//! last uses and the blacklist, kept in a [`RuneStore`]. The rune RPCs and the commando server
//! ask it; the rules themselves are the `runes` crate's.

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
    /// one rune cannot both pass a `rate` that allows one.
    checking: Mutex<()>,
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
            checking: Mutex::new(()),
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
        let _checking = lock(&self.checking);
        let mut store_failure = None;
        let verdict = {
            let blacklist = lock(&self.blacklist);
            checkrune(&self.master, &blacklist, rune, &request, |id| {
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
        self.store
            .set_last_used(authorized.unique_id, nanos)
            .map_err(CheckFailure::Store)?;
        Ok(authorized)
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
        if let Some(nsec) = stored
            .and_then(|stored| stored.last_used_nsec)
            .filter(|nsec| *nsec > 0)
        {
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
