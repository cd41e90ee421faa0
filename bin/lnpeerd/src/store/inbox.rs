//! The durable inbox's table: received custom messages with an increasing index, bounded on
//! every append (the oldest go first) and by age.

use delivery::{InboxBounds, InboxStore, ReceivedMessage, StoreFailure};
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::{blob, to_sql_time, unsigned, SharedStore, Store, StoreError};

/// The inbox's message count and payload bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Totals {
    count: u64,
    bytes: u64,
}

/// Rows read at a time while looking for the oldest to drop.
const PRUNE_BATCH: i64 = 256;

fn totals(tx: &Transaction<'_>) -> Result<Totals, StoreError> {
    let (count, bytes): (i64, i64) = tx.query_row(
        "SELECT count(*), coalesce(sum(length(payload)), 0) FROM custommsgs",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    Ok(Totals {
        count: unsigned(count, "inbox count")?,
        bytes: unsigned(bytes, "inbox bytes")?,
    })
}

/// Drops the oldest rows until `bounds` hold; returns the totals after and how many went.
fn prune(
    tx: &Transaction<'_>,
    mut totals: Totals,
    bounds: &InboxBounds,
) -> Result<(Totals, u64), StoreError> {
    let cutoff = to_sql_time(bounds.received_after)?;
    let mut removed = 0;
    loop {
        // Within the count and bytes (the common case, and after dropping the excess): one
        // indexed row read tells whether anything aged out.
        if totals.count <= bounds.max_count && totals.bytes <= bounds.max_bytes {
            let oldest: Option<i64> = tx
                .prepare_cached("SELECT received_at FROM custommsgs ORDER BY idx LIMIT 1")?
                .query_row([], |row| row.get(0))
                .optional()?;
            if oldest.is_none_or(|received_at| received_at >= cutoff) {
                return Ok((totals, removed));
            }
        }
        // Over by count alone (a full inbox taking one more), read only the rows to drop.
        let excess = totals.count.saturating_sub(bounds.max_count);
        let batch = if excess > 0 && totals.bytes <= bounds.max_bytes {
            i64::try_from(excess)
                .unwrap_or(PRUNE_BATCH)
                .min(PRUNE_BATCH)
        } else {
            PRUNE_BATCH
        };
        let mut stmt = tx.prepare_cached(
            "SELECT idx, length(payload), received_at FROM custommsgs ORDER BY idx LIMIT ?1",
        )?;
        let oldest = stmt
            .query_map(params![batch], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get(2)?))
            })?
            .collect::<Result<Vec<(i64, i64, i64)>, _>>()?;
        let mut last_dropped = None;
        for &(idx, len, received_at) in &oldest {
            let over = totals.count > bounds.max_count
                || totals.bytes > bounds.max_bytes
                || received_at < cutoff;
            if !over {
                break;
            }
            totals.count -= 1;
            totals.bytes = totals
                .bytes
                .saturating_sub(unsigned(len, "payload length")?);
            removed += 1;
            last_dropped = Some(idx);
        }
        let Some(last) = last_dropped else {
            return Ok((totals, removed));
        };
        tx.prepare_cached("DELETE FROM custommsgs WHERE idx <= ?1")?
            .execute(params![last])?;
        if oldest.last().map(|row| row.0) != Some(last) {
            return Ok((totals, removed));
        }
    }
}

impl Store {
    /// See [`InboxStore::append_received`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`], [`StoreError::TimestampOutOfRange`] or [`StoreError::Corrupt`];
    /// nothing changed.
    pub fn append_received(
        &mut self,
        peer: &[u8; 33],
        payload: &[u8],
        received_at: u64,
        bounds: &InboxBounds,
    ) -> Result<u64, StoreError> {
        // The cached totals are only trusted once the transaction that changes them commits.
        let cached = self.inbox_totals.take();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut totals = match cached {
            Some(totals) => totals,
            None => totals(&tx)?,
        };
        tx.prepare_cached(
            "INSERT INTO custommsgs (peer_id, payload, received_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![&peer[..], payload, to_sql_time(received_at)?])?;
        let index = unsigned(tx.last_insert_rowid(), "inbox index")?;
        totals.count += 1;
        totals.bytes += payload.len() as u64;
        let (totals, _) = prune(&tx, totals, bounds)?;
        tx.commit()?;
        self.inbox_totals = Some(totals);
        Ok(index)
    }

    /// See [`InboxStore::prune_received`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`]; nothing changed.
    pub fn prune_received(&mut self, bounds: &InboxBounds) -> Result<u64, StoreError> {
        let cached = self.inbox_totals.take();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let totals = match cached {
            Some(totals) => totals,
            None => totals(&tx)?,
        };
        let (totals, removed) = prune(&tx, totals, bounds)?;
        tx.commit()?;
        self.inbox_totals = Some(totals);
        Ok(removed)
    }

    /// See [`InboxStore::list_received`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn list_received(
        &self,
        peer: Option<&[u8; 33]>,
        since: u64,
        limit: Option<u64>,
    ) -> Result<Vec<ReceivedMessage>, StoreError> {
        // SQLite integers are signed: anything past i64::MAX means "everything" or "nothing".
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let limit = limit.map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, peer_id, payload, received_at FROM custommsgs
             WHERE idx > ?1 AND (?2 IS NULL OR peer_id = ?2)
             ORDER BY idx LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![since, peer.map(|p| &p[..]), limit], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (index, peer, payload, received_at) = row?;
            Ok(ReceivedMessage {
                index: unsigned(index, "inbox index")?,
                peer: blob(peer, "custommsg peer_id")?,
                payload,
                received_at: unsigned(received_at, "received_at")?,
            })
        })
        .collect()
    }

    /// See [`InboxStore::last_received_index`]: AUTOINCREMENT's counter, which pruning
    /// does not lower.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn last_received_index(&self) -> Result<u64, StoreError> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'custommsgs'",
                [],
                |row| row.get(0),
            )
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                error => Err(error),
            })?;
        seq.map_or(Ok(0), |seq| unsigned(seq, "inbox sequence"))
    }
}

/// The node's inbox store, for delivery.
impl InboxStore for SharedStore {
    fn append_received(
        &self,
        peer: &[u8; 33],
        payload: &[u8],
        received_at: u64,
        bounds: &InboxBounds,
    ) -> Result<u64, StoreFailure> {
        Ok(self
            .lock()
            .append_received(peer, payload, received_at, bounds)?)
    }

    fn prune_received(&self, bounds: &InboxBounds) -> Result<u64, StoreFailure> {
        Ok(self.lock().prune_received(bounds)?)
    }

    fn list_received(
        &self,
        peer: Option<&[u8; 33]>,
        since: u64,
        limit: Option<u64>,
    ) -> Result<Vec<ReceivedMessage>, StoreFailure> {
        Ok(self.lock().list_received(peer, since, limit)?)
    }

    fn last_received_index(&self) -> Result<u64, StoreFailure> {
        Ok(self.lock().last_received_index()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DB_FILE;

    fn bounds(max_count: u64, max_bytes: u64, received_after: u64) -> InboxBounds {
        InboxBounds {
            max_count,
            max_bytes,
            received_after,
        }
    }

    fn indexes(store: &Store) -> Vec<u64> {
        store
            .list_received(None, 0, None)
            .unwrap()
            .iter()
            .map(|m| m.index)
            .collect()
    }

    #[test]
    fn messages_survive_a_reopen_with_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let wide = bounds(100, 1 << 20, 0);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.last_received_index().unwrap(), 0);
        assert_eq!(
            store
                .append_received(&[2; 33], &[0x77, 0x77, 1], 10, &wide)
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .append_received(&[3; 33], &[0x77, 0x77, 2], 11, &wide)
                .unwrap(),
            2
        );
        drop(store);
        let mut store = Store::open(&path).unwrap();
        let listed = store.list_received(None, 0, None).unwrap();
        assert_eq!(
            listed,
            [
                ReceivedMessage {
                    index: 1,
                    peer: [2; 33],
                    payload: vec![0x77, 0x77, 1],
                    received_at: 10
                },
                ReceivedMessage {
                    index: 2,
                    peer: [3; 33],
                    payload: vec![0x77, 0x77, 2],
                    received_at: 11
                },
            ]
        );
        assert_eq!(
            store.list_received(Some(&[3; 33]), 0, None).unwrap().len(),
            1
        );
        assert_eq!(store.list_received(None, 1, None).unwrap()[0].index, 2);
        assert_eq!(store.list_received(None, 0, Some(1)).unwrap().len(), 1);
        assert!(store
            .list_received(None, u64::MAX, None)
            .unwrap()
            .is_empty());
        assert_eq!(
            store
                .append_received(&[2; 33], &[0x77, 0x77, 3], 12, &wide)
                .unwrap(),
            3
        );
    }

    #[test]
    fn every_bound_drops_the_oldest_and_indexes_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join(DB_FILE)).unwrap();
        // By count.
        for i in 0..600u64 {
            store
                .append_received(&[2; 33], &[0x77, 0x77], 100 + i, &bounds(500, 1 << 20, 0))
                .unwrap();
        }
        let kept = indexes(&store);
        assert_eq!((kept.len(), kept[0], kept[499]), (500, 101, 600));
        // By bytes: 500 × 2 bytes; a bound of 100 bytes keeps 50.
        assert_eq!(store.prune_received(&bounds(500, 100, 0)).unwrap(), 450);
        assert_eq!(indexes(&store)[0], 551);
        // By age: everything received before 680 goes.
        assert_eq!(store.prune_received(&bounds(500, 100, 680)).unwrap(), 30);
        assert_eq!(indexes(&store)[0], 581);
        // Emptied, the next index still follows the last one given.
        store
            .prune_received(&bounds(500, 100, u64::MAX >> 2))
            .unwrap();
        assert!(indexes(&store).is_empty());
        assert_eq!(store.last_received_index().unwrap(), 600);
        assert_eq!(
            store
                .append_received(&[2; 33], &[0x77, 0x77], 1000, &bounds(500, 100, 0))
                .unwrap(),
            601
        );
        // The kept totals match the table after all this.
        let tx = store.conn.transaction().unwrap();
        assert_eq!(totals(&tx).unwrap(), Totals { count: 1, bytes: 2 });
        drop(tx);
        assert_eq!(store.inbox_totals, Some(Totals { count: 1, bytes: 2 }));
    }

    #[test]
    fn an_append_over_the_count_also_drops_what_aged_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join(DB_FILE)).unwrap();
        // Index k is received at 99 + k.
        for k in 1..=500u64 {
            store
                .append_received(&[2; 33], &[1], 99 + k, &bounds(500, 1 << 20, 0))
                .unwrap();
        }
        // One over the count (index 1 goes), and everything received before 300 has aged out
        // (indexes up to 200).
        store
            .append_received(&[2; 33], &[1], 700, &bounds(500, 1 << 20, 300))
            .unwrap();
        let kept = indexes(&store);
        assert_eq!((kept.len(), kept[0], kept[300]), (301, 201, 501));
        assert_eq!(
            store.inbox_totals,
            Some(Totals {
                count: 301,
                bytes: 301
            })
        );
    }
}
