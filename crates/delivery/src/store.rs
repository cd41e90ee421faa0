//! Where delivery keeps its records: the node implements these traits over its database, so
//! this crate never touches SQLite. Node ids are compressed public keys (`[u8; 33]`) and times
//! are seconds since the Unix epoch.

pub use rpc::StoreFailure;

/// A received custom message, as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Its place in the inbox: strictly increasing, never reused, even after pruning.
    pub index: u64,
    /// Who sent it.
    pub peer: [u8; 33],
    /// Type and payload, as it came (what the `custommsg` hook calls `payload`).
    pub payload: Vec<u8>,
    /// When it was recorded.
    pub received_at: u64,
}

/// What the inbox may hold; the oldest messages go first when any bound is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxBounds {
    /// Messages kept.
    pub max_count: u64,
    /// Payload bytes kept.
    pub max_bytes: u64,
    /// Messages received before this time are dropped.
    pub received_after: u64,
}

/// The durable inbox's records. Every method is one short transaction.
pub trait InboxStore: Send + Sync + 'static {
    /// Records a message and, in the same transaction, drops the oldest until `bounds` hold.
    /// Returns the new message's index.
    ///
    /// # Errors
    /// The store failed; nothing was recorded.
    fn append_received(
        &self,
        peer: &[u8; 33],
        payload: &[u8],
        received_at: u64,
        bounds: &InboxBounds,
    ) -> Result<u64, StoreFailure>;

    /// Drops the oldest messages until `bounds` hold; returns how many went.
    ///
    /// # Errors
    /// The store failed.
    fn prune_received(&self, bounds: &InboxBounds) -> Result<u64, StoreFailure>;

    /// Messages with an index above `since`, oldest first, from `peer` only if given, at most
    /// `limit` of them if given.
    ///
    /// # Errors
    /// The store failed.
    fn list_received(
        &self,
        peer: Option<&[u8; 33]>,
        since: u64,
        limit: Option<u64>,
    ) -> Result<Vec<ReceivedMessage>, StoreFailure>;

    /// The largest index ever given, 0 if none (kept across pruning).
    ///
    /// # Errors
    /// The store failed.
    fn last_received_index(&self) -> Result<u64, StoreFailure>;
}
