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

/// Where a stored send stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendStatus {
    /// Waiting for its peer.
    Pending,
    /// Written to the peer's socket.
    Sent,
    /// Its time to live passed first.
    Expired,
    /// `cancelsendcustommsg` took it back.
    Cancelled,
}

impl SendStatus {
    /// Every status, in the order a send can reach them.
    pub const ALL: [SendStatus; 4] = [
        SendStatus::Pending,
        SendStatus::Sent,
        SendStatus::Expired,
        SendStatus::Cancelled,
    ];

    /// Its name, as the commands show it and the store keeps it.
    pub const fn name(self) -> &'static str {
        match self {
            SendStatus::Pending => "pending",
            SendStatus::Sent => "sent",
            SendStatus::Expired => "expired",
            SendStatus::Cancelled => "cancelled",
        }
    }

    /// The status called `name`.
    pub fn from_name(name: &str) -> Option<SendStatus> {
        SendStatus::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A custom message stored for a peer (`sendcustommsg` with `delivery` `stored`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSend {
    /// Its id: increasing, never reused.
    pub id: u64,
    /// The peer it is for.
    pub peer: [u8; 33],
    /// Type and payload.
    pub payload: Vec<u8>,
    /// When it was stored.
    pub created_at: u64,
    /// When it expires if still pending.
    pub expires_at: u64,
    /// Where it stands.
    pub status: SendStatus,
    /// When it left `Pending`.
    pub resolved_at: Option<u64>,
}

/// The stored sends' records. Every method is one short transaction.
pub trait SendStore: Send + Sync + 'static {
    /// Stores a pending message for `peer`, unless `peer` already has `max_pending` pending
    /// ones: then `Ok(Err(pending))`.
    ///
    /// # Errors
    /// The store failed; nothing was stored.
    fn insert_send(
        &self,
        peer: &[u8; 33],
        payload: &[u8],
        created_at: u64,
        expires_at: u64,
        max_pending: u64,
    ) -> Result<Result<u64, u64>, StoreFailure>;

    /// The send with id `id`.
    ///
    /// # Errors
    /// The store failed.
    fn send(&self, id: u64) -> Result<Option<StoredSend>, StoreFailure>;

    /// `peer`'s pending sends that expire after `now`, oldest first.
    ///
    /// # Errors
    /// The store failed.
    fn pending_sends(&self, peer: &[u8; 33], now: u64) -> Result<Vec<StoredSend>, StoreFailure>;

    /// The peers with pending sends.
    ///
    /// # Errors
    /// The store failed.
    fn peers_with_pending(&self) -> Result<Vec<[u8; 33]>, StoreFailure>;

    /// Moves send `id` from pending to `status` at `at`; false if it was not pending.
    ///
    /// # Errors
    /// The store failed.
    fn resolve_send(&self, id: u64, status: SendStatus, at: u64) -> Result<bool, StoreFailure>;

    /// Marks every pending send whose `expires_at` is at or before `now` expired; returns them.
    ///
    /// # Errors
    /// The store failed.
    fn expire_sends(&self, now: u64) -> Result<Vec<StoredSend>, StoreFailure>;

    /// Sends for `peer` (or all), with `status` (or any), oldest first.
    ///
    /// # Errors
    /// The store failed.
    fn list_sends(
        &self,
        peer: Option<&[u8; 33]>,
        status: Option<SendStatus>,
    ) -> Result<Vec<StoredSend>, StoreFailure>;

    /// Forgets sends resolved before `before`; returns how many.
    ///
    /// # Errors
    /// The store failed.
    fn forget_resolved_sends(&self, before: u64) -> Result<u64, StoreFailure>;
}
