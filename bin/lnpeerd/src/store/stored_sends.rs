//! Custom messages stored for peers that are not connected, and what became of them.

use delivery::{SendStatus, SendStore, StoreFailure, StoredSend};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};

use super::{blob, to_sql_time, unsigned, SharedStore, Store, StoreError};

fn key(id: u64) -> i64 {
    // Ids are SQLite rowids, so one beyond i64 names no row.
    i64::try_from(id).unwrap_or(-1)
}

type RawSend = (i64, Vec<u8>, Vec<u8>, i64, i64, String, Option<i64>);

const COLUMNS: &str = "id, peer_id, payload, created_at, expires_at, status, resolved_at";

fn raw(row: &Row<'_>) -> rusqlite::Result<RawSend> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn stored_send(
    (id, peer, payload, created_at, expires_at, status, resolved_at): RawSend,
) -> Result<StoredSend, StoreError> {
    Ok(StoredSend {
        id: unsigned(id, "stored send id")?,
        peer: blob(peer, "stored send peer_id")?,
        payload,
        created_at: unsigned(created_at, "created_at")?,
        expires_at: unsigned(expires_at, "expires_at")?,
        status: SendStatus::from_name(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("stored send status '{status}'")))?,
        resolved_at: resolved_at
            .map(|at| unsigned(at, "resolved_at"))
            .transpose()?,
    })
}

impl Store {
    fn query_sends(
        &self,
        condition: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredSend>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM stored_sends WHERE {condition} ORDER BY id"
        ))?;
        let rows = stmt.query_map(values, raw)?;
        rows.map(|row| stored_send(row?)).collect()
    }

    /// See [`SendStore::insert_send`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::TimestampOutOfRange`]; nothing stored.
    pub fn insert_send(
        &mut self,
        peer: &[u8; 33],
        payload: &[u8],
        created_at: u64,
        expires_at: u64,
        max_pending: u64,
    ) -> Result<Result<u64, u64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending: i64 = tx.query_row(
            "SELECT count(*) FROM stored_sends WHERE status = 'pending' AND peer_id = ?1",
            params![&peer[..]],
            |row| row.get(0),
        )?;
        let pending = unsigned(pending, "pending count")?;
        if pending >= max_pending {
            return Ok(Err(pending));
        }
        tx.execute(
            "INSERT INTO stored_sends (peer_id, payload, created_at, expires_at, status)
             VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![
                &peer[..],
                payload,
                to_sql_time(created_at)?,
                to_sql_time(expires_at)?
            ],
        )?;
        let id = unsigned(tx.last_insert_rowid(), "stored send id")?;
        tx.commit()?;
        Ok(Ok(id))
    }

    /// See [`SendStore::send`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn stored_send(&self, id: u64) -> Result<Option<StoredSend>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM stored_sends WHERE id = ?1"),
                params![key(id)],
                raw,
            )
            .optional()?
            .map(stored_send)
            .transpose()
    }

    /// See [`SendStore::pending_sends`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn pending_sends(&self, peer: &[u8; 33], now: u64) -> Result<Vec<StoredSend>, StoreError> {
        self.query_sends(
            "status = 'pending' AND peer_id = ?1 AND expires_at > ?2",
            &[&&peer[..], &to_sql_time(now)?],
        )
    }

    /// See [`SendStore::peers_with_pending`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn peers_with_pending(&self) -> Result<Vec<[u8; 33]>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT peer_id FROM stored_sends WHERE status = 'pending' ORDER BY peer_id",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
        rows.map(|row| blob(row?, "stored send peer_id")).collect()
    }

    /// See [`SendStore::resolve_send`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::TimestampOutOfRange`].
    pub fn resolve_send(
        &mut self,
        id: u64,
        status: SendStatus,
        at: u64,
    ) -> Result<bool, StoreError> {
        let changed = self.conn.execute(
            "UPDATE stored_sends SET status = ?2, resolved_at = ?3
             WHERE id = ?1 AND status = 'pending'",
            params![key(id), status.name(), to_sql_time(at)?],
        )?;
        Ok(changed > 0)
    }

    /// See [`SendStore::expire_sends`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`], [`StoreError::TimestampOutOfRange`] or [`StoreError::Corrupt`];
    /// nothing changed.
    pub fn expire_sends(&mut self, now: u64) -> Result<Vec<StoredSend>, StoreError> {
        let now = to_sql_time(now)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let expired = {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE stored_sends SET status = 'expired', resolved_at = ?1
                 WHERE status = 'pending' AND expires_at <= ?1 RETURNING {COLUMNS}"
            ))?;
            let rows = stmt.query_map(params![now], raw)?;
            rows.map(|row| stored_send(row?))
                .collect::<Result<Vec<_>, StoreError>>()?
        };
        tx.commit()?;
        Ok(expired)
    }

    /// See [`SendStore::list_sends`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn list_sends(
        &self,
        peer: Option<&[u8; 33]>,
        status: Option<SendStatus>,
    ) -> Result<Vec<StoredSend>, StoreError> {
        self.query_sends(
            "(?1 IS NULL OR peer_id = ?1) AND (?2 IS NULL OR status = ?2)",
            &[&peer.map(|p| &p[..]), &status.map(SendStatus::name)],
        )
    }

    /// See [`SendStore::forget_resolved_sends`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::TimestampOutOfRange`].
    pub fn forget_resolved_sends(&mut self, before: u64) -> Result<u64, StoreError> {
        let removed = self.conn.execute(
            "DELETE FROM stored_sends WHERE status != 'pending' AND resolved_at < ?1",
            params![to_sql_time(before)?],
        )?;
        Ok(removed as u64)
    }
}

/// The node's stored sends, for delivery.
impl SendStore for SharedStore {
    fn insert_send(
        &self,
        peer: &[u8; 33],
        payload: &[u8],
        created_at: u64,
        expires_at: u64,
        max_pending: u64,
    ) -> Result<Result<u64, u64>, StoreFailure> {
        Ok(self
            .lock()
            .insert_send(peer, payload, created_at, expires_at, max_pending)?)
    }

    fn send(&self, id: u64) -> Result<Option<StoredSend>, StoreFailure> {
        Ok(self.lock().stored_send(id)?)
    }

    fn pending_sends(&self, peer: &[u8; 33], now: u64) -> Result<Vec<StoredSend>, StoreFailure> {
        Ok(self.lock().pending_sends(peer, now)?)
    }

    fn peers_with_pending(&self) -> Result<Vec<[u8; 33]>, StoreFailure> {
        Ok(self.lock().peers_with_pending()?)
    }

    fn resolve_send(&self, id: u64, status: SendStatus, at: u64) -> Result<bool, StoreFailure> {
        Ok(self.lock().resolve_send(id, status, at)?)
    }

    fn expire_sends(&self, now: u64) -> Result<Vec<StoredSend>, StoreFailure> {
        Ok(self.lock().expire_sends(now)?)
    }

    fn list_sends(
        &self,
        peer: Option<&[u8; 33]>,
        status: Option<SendStatus>,
    ) -> Result<Vec<StoredSend>, StoreFailure> {
        Ok(self.lock().list_sends(peer, status)?)
    }

    fn forget_resolved_sends(&self, before: u64) -> Result<u64, StoreFailure> {
        Ok(self.lock().forget_resolved_sends(before)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DB_FILE;

    const PEER: [u8; 33] = [2; 33];
    const OTHER: [u8; 33] = [3; 33];

    fn statuses(store: &Store) -> Vec<(u64, &'static str)> {
        store
            .list_sends(None, None)
            .unwrap()
            .iter()
            .map(|s| (s.id, s.status.name()))
            .collect()
    }

    #[test]
    fn sends_move_from_pending_once_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store
                .insert_send(&PEER, &[0x77, 0x77, 1], 100, 200, 2)
                .unwrap(),
            Ok(1)
        );
        assert_eq!(
            store
                .insert_send(&PEER, &[0x77, 0x77, 2], 101, 150, 2)
                .unwrap(),
            Ok(2)
        );
        // The per-peer bound counts pending sends only, per peer.
        assert_eq!(
            store
                .insert_send(&PEER, &[0x77, 0x77, 3], 102, 200, 2)
                .unwrap(),
            Err(2)
        );
        assert_eq!(
            store
                .insert_send(&OTHER, &[0x77, 0x77, 4], 102, 200, 2)
                .unwrap(),
            Ok(3)
        );
        assert_eq!(store.peers_with_pending().unwrap(), [PEER, OTHER]);
        let pending: Vec<u64> = store
            .pending_sends(&PEER, 120)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(pending, [1, 2]);
        // Past its time to live a send is no longer pending for sending...
        let pending: Vec<u64> = store
            .pending_sends(&PEER, 150)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(pending, [1]);
        // ...and expiring marks it so.
        let expired = store.expire_sends(150).unwrap();
        assert_eq!(expired.len(), 1);
        assert_eq!(
            (expired[0].id, expired[0].status, expired[0].resolved_at),
            (2, SendStatus::Expired, Some(150))
        );
        assert!(store.resolve_send(1, SendStatus::Sent, 160).unwrap());
        // Once resolved, never again.
        assert!(!store.resolve_send(1, SendStatus::Cancelled, 161).unwrap());
        assert!(!store.resolve_send(2, SendStatus::Sent, 161).unwrap());
        assert!(store.resolve_send(3, SendStatus::Cancelled, 162).unwrap());
        assert!(!store.resolve_send(99, SendStatus::Sent, 162).unwrap());
        drop(store);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            statuses(&store),
            [(1, "sent"), (2, "expired"), (3, "cancelled")]
        );
        let sent = store.stored_send(1).unwrap().unwrap();
        assert_eq!(
            sent,
            StoredSend {
                id: 1,
                peer: PEER,
                payload: vec![0x77, 0x77, 1],
                created_at: 100,
                expires_at: 200,
                status: SendStatus::Sent,
                resolved_at: Some(160),
            }
        );
        assert_eq!(store.list_sends(Some(&OTHER), None).unwrap().len(), 1);
        assert_eq!(
            store.list_sends(None, Some(SendStatus::Expired)).unwrap()[0].id,
            2
        );
        assert!(store.peers_with_pending().unwrap().is_empty());
        // Resolved long enough ago, they are forgotten; ids are not reused.
        assert_eq!(store.forget_resolved_sends(161).unwrap(), 2);
        assert_eq!(statuses(&store), [(3, "cancelled")]);
        assert_eq!(
            store
                .insert_send(&PEER, &[0x77, 0x77], 300, 400, 2)
                .unwrap(),
            Ok(4)
        );
    }
}
