//! The fake chain under the `ChannelManager`: what LDK needs to run without a blockchain, and
//! nothing that pretends to be one.
//!
//! - [`ConstantFeeEstimator`]: every confirmation target gets LDK's floor feerate.
//! - [`DroppingBroadcaster`]: transactions are logged and dropped; no chain will see them.
//! - [`MemoryStore`]: LDK's key-value store in memory. It persists the `ChainMonitor`'s channel
//!   monitors (LDK's blanket `Persist` impl for any `KVStoreSync`), the `ChannelManager`, and the
//!   liquidity manager's state, and is gone with the node.
//!
//! No chain source is registered (`ChainMonitor` and `LiquidityManager` take `None`) and no block
//! is ever connected, so a channel can never confirm; the node refuses inbound channels for that
//! reason (`node.rs`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use lightning::bitcoin::Transaction;
use lightning::chain::chaininterface::{
    BroadcasterInterface, ConfirmationTarget, FeeEstimator, FEERATE_FLOOR_SATS_PER_KW,
};
use lightning::io;
use lightning::util::logger::Logger;
use lightning::util::persist::KVStoreSync;
use lightning::{log_info, log_trace};

use crate::log::NodeLogger;

/// Fee estimates without a chain: LDK's floor (253 sat per 1000 weight units) for every target.
pub(crate) struct ConstantFeeEstimator;

impl FeeEstimator for ConstantFeeEstimator {
    fn get_est_sat_per_1000_weight(&self, _target: ConfirmationTarget) -> u32 {
        FEERATE_FLOOR_SATS_PER_KW
    }
}

/// A broadcaster with no network behind it: each transaction is logged, then dropped.
pub(crate) struct DroppingBroadcaster {
    logger: Arc<NodeLogger>,
}

impl DroppingBroadcaster {
    pub(crate) fn new(logger: Arc<NodeLogger>) -> Self {
        DroppingBroadcaster { logger }
    }
}

impl BroadcasterInterface for DroppingBroadcaster {
    fn broadcast_transactions(&self, txs: &[&Transaction]) {
        for tx in txs {
            log_info!(
                self.logger,
                "Dropping transaction {}: this node has no chain",
                tx.compute_txid()
            );
        }
    }
}

/// Where a value lives: primary namespace, secondary namespace, key.
type StoreKey = (String, String, String);

/// LDK's key-value store, in memory.
#[derive(Default)]
pub(crate) struct MemoryStore {
    entries: Mutex<BTreeMap<StoreKey, Vec<u8>>>,
    logger: Option<Arc<NodeLogger>>,
}

impl MemoryStore {
    pub(crate) fn new(logger: Arc<NodeLogger>) -> Self {
        MemoryStore {
            entries: Mutex::default(),
            logger: Some(logger),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, BTreeMap<StoreKey, Vec<u8>>> {
        // A panic elsewhere while holding the lock leaves a consistent map (every write is one
        // insert or remove), so the store stays usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn store_key(primary: &str, secondary: &str, key: &str) -> StoreKey {
    (primary.to_owned(), secondary.to_owned(), key.to_owned())
}

impl KVStoreSync for MemoryStore {
    fn read(&self, primary: &str, secondary: &str, key: &str) -> Result<Vec<u8>, io::Error> {
        self.entries()
            .get(&store_key(primary, secondary, key))
            .cloned()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "no such key in the in-memory store",
                )
            })
    }

    fn write(
        &self,
        primary: &str,
        secondary: &str,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), io::Error> {
        if let Some(logger) = &self.logger {
            log_trace!(
                logger,
                "Storing {} bytes at {primary}/{secondary}/{key}",
                value.len()
            );
        }
        self.entries()
            .insert(store_key(primary, secondary, key), value);
        Ok(())
    }

    fn remove(
        &self,
        primary: &str,
        secondary: &str,
        key: &str,
        _lazy: bool,
    ) -> Result<(), io::Error> {
        self.entries().remove(&store_key(primary, secondary, key));
        Ok(())
    }

    fn list(&self, primary: &str, secondary: &str) -> Result<Vec<String>, io::Error> {
        Ok(self
            .entries()
            .keys()
            .filter(|(p, s, _)| p == primary && s == secondary)
            .map(|(_, _, key)| key.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_reads_back_lists_and_removes_per_namespace() {
        let store = MemoryStore::default();
        store.write("a", "", "k1", vec![1]).expect("write");
        store.write("a", "", "k2", vec![2]).expect("write");
        store.write("a", "s", "k3", vec![3]).expect("write");
        assert_eq!(store.read("a", "", "k1").expect("read"), vec![1]);
        assert_eq!(store.list("a", "").expect("list"), vec!["k1", "k2"]);
        assert_eq!(store.list("a", "s").expect("list"), vec!["k3"]);
        store.remove("a", "", "k1", false).expect("remove");
        let missing = store.read("a", "", "k1").expect_err("removed");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn fees_are_the_floor_for_every_target() {
        let fees = ConstantFeeEstimator;
        for target in [
            ConfirmationTarget::UrgentOnChainSweep,
            ConfirmationTarget::MinAllowedAnchorChannelRemoteFee,
            ConfirmationTarget::ChannelCloseMinimum,
        ] {
            assert_eq!(fees.get_est_sat_per_1000_weight(target), 253);
        }
    }
}
