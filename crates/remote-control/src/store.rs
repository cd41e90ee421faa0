//! Where runes are kept: the node implements [`RuneStore`] over its database, so this crate
//! never touches SQLite.

/// A rune we issued, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRune {
    /// Its unique id.
    pub id: u64,
    /// The rune as `createrune` returned it (base64).
    pub rune: String,
    /// Nanoseconds since the Unix epoch of its last successful check, if any.
    pub last_used_nsec: Option<u64>,
}

pub use rpc::StoreFailure;

/// The runes we issued and the blacklist, persisted (CLN's `runes` and `runes_blacklist`
/// tables). Every method is quick: no network waits.
pub trait RuneStore: Send + Sync + 'static {
    /// The unique id the next rune gets: one past the largest issued, or 0.
    ///
    /// # Errors
    /// The store failed.
    fn next_rune_id(&self) -> Result<u64, StoreFailure>;

    /// Records a rune we issued.
    ///
    /// # Errors
    /// The store failed (or the id is taken).
    fn insert_rune(&self, id: u64, rune: &str) -> Result<(), StoreFailure>;

    /// Every issued rune, by unique id.
    ///
    /// # Errors
    /// The store failed.
    fn runes(&self) -> Result<Vec<StoredRune>, StoreFailure>;

    /// The issued rune with unique id `id`, if any.
    ///
    /// # Errors
    /// The store failed.
    fn rune(&self, id: u64) -> Result<Option<StoredRune>, StoreFailure>;

    /// Records a successful check of unique id `id` at `nsec` (no-op for an id never issued).
    ///
    /// # Errors
    /// The store failed.
    fn set_last_used(&self, id: u64, nsec: u64) -> Result<(), StoreFailure>;

    /// The blacklisted unique ids, as inclusive ranges.
    ///
    /// # Errors
    /// The store failed.
    fn blacklist(&self) -> Result<Vec<(u64, u64)>, StoreFailure>;

    /// Replaces the blacklist.
    ///
    /// # Errors
    /// The store failed (the old blacklist stays).
    fn set_blacklist(&self, ranges: &[(u64, u64)]) -> Result<(), StoreFailure>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryRuneStore;

    /// The rules every store keeps (lnpeerd's SQLite store has the same test), checked on the
    /// double the other tests use, so that it stands in faithfully.
    #[test]
    fn the_test_store_keeps_the_stores_rules() {
        let store = MemoryRuneStore::new();
        assert_eq!(store.next_rune_id(), Ok(0));
        store.insert_rune(0, "rune0").unwrap();
        store.insert_rune(1, "rune1").unwrap();
        assert!(store.insert_rune(1, "again").is_err(), "ids are unique");
        assert_eq!(store.next_rune_id(), Ok(2));
        store.set_last_used(1, 1_700_000_000_123_456_789).unwrap();
        // An id never issued has no row to update, and gains none.
        store.set_last_used(9, 1).unwrap();
        assert_eq!(store.rune(9), Ok(None));
        assert_eq!(
            store.runes(),
            Ok(vec![
                StoredRune {
                    id: 0,
                    rune: "rune0".into(),
                    last_used_nsec: None
                },
                StoredRune {
                    id: 1,
                    rune: "rune1".into(),
                    last_used_nsec: Some(1_700_000_000_123_456_789)
                },
            ])
        );
        store.set_blacklist(&[(0, 0), (3, 6)]).unwrap();
        assert_eq!(store.blacklist(), Ok(vec![(0, 0), (3, 6)]));
        store.set_blacklist(&[]).unwrap();
        assert_eq!(store.blacklist(), Ok(vec![]));
    }

    #[test]
    fn a_failing_store_says_so_and_keeps_what_it_had() {
        let store = MemoryRuneStore::new();
        store.insert_rune(0, "rune0").unwrap();
        store.fail_with("disk I/O error");
        let failure = StoreFailure("disk I/O error".into());
        assert_eq!(store.next_rune_id(), Err(failure.clone()));
        assert_eq!(store.insert_rune(1, "rune1"), Err(failure.clone()));
        assert_eq!(store.set_blacklist(&[(1, 1)]), Err(failure.clone()));
        assert_eq!(failure.to_string(), "disk I/O error");
        store.heal();
        assert_eq!(store.next_rune_id(), Ok(1));
        assert_eq!(store.blacklist(), Ok(vec![]));
    }
}
