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
