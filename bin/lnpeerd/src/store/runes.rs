//! The runes we issued and the blacklist, as CLN's wallet keeps them: one row per unique id
//! with the rune's base64 and when it was last used (for `rate` and `per`), and the
//! blacklisted unique ids as inclusive ranges, rewritten whole on every change.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use remote_control::{RuneStore, StoreFailure, StoredRune};

use super::{unsigned, SharedStore, Store, StoreError};

fn key(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::Corrupt(format!("rune id {id} beyond 2^63")))
}

type RawRune = (i64, String, Option<i64>);

fn stored_rune((id, rune, last_used): RawRune) -> Result<StoredRune, StoreError> {
    Ok(StoredRune {
        id: unsigned(id, "rune id")?,
        rune,
        last_used_nsec: last_used
            .map(|nsec| unsigned(nsec, "rune last_used"))
            .transpose()?,
    })
}

impl Store {
    /// Records a rune we issued with unique id `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] with a constraint violation if `id` is taken.
    pub fn insert_rune(&mut self, id: u64, rune: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO runes (id, rune) VALUES (?1, ?2)",
            params![key(id)?, rune],
        )?;
        Ok(())
    }

    /// The unique id the next rune gets: one past the largest issued, or 0.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn next_rune_id(&self) -> Result<u64, StoreError> {
        let largest: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM runes", [], |row| row.get(0))?;
        match largest {
            None => Ok(0),
            Some(id) => Ok(unsigned(id, "rune id")? + 1),
        }
    }

    /// Every issued rune, by unique id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn runes(&self) -> Result<Vec<StoredRune>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, rune, last_used_nsec FROM runes ORDER BY id")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.map(|row| stored_rune(row?)).collect()
    }

    /// The issued rune with unique id `id`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn rune(&self, id: u64) -> Result<Option<StoredRune>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, rune, last_used_nsec FROM runes WHERE id = ?1",
                params![key(id)?],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?
            .map(stored_rune)
            .transpose()
    }

    /// Records a successful use of unique id `id` at `nsec`; nothing happens for an id we never
    /// issued (as in CLN).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`].
    pub fn set_rune_last_used(&mut self, id: u64, nsec: u64) -> Result<(), StoreError> {
        let nsec = i64::try_from(nsec).map_err(|_| StoreError::TimestampOutOfRange(nsec))?;
        self.conn.execute(
            "UPDATE runes SET last_used_nsec = ?1 WHERE id = ?2",
            params![nsec, key(id)?],
        )?;
        Ok(())
    }

    /// The blacklisted unique ids, as inclusive `(start, end)` ranges.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn rune_blacklist(&self) -> Result<Vec<(u64, u64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT start_index, end_index FROM runes_blacklist ORDER BY start_index",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
        rows.map(|row| {
            let (start, end) = row?;
            Ok((
                unsigned(start, "blacklist start")?,
                unsigned(end, "blacklist end")?,
            ))
        })
        .collect()
    }

    /// Replaces the blacklist with `ranges`, in one transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] (then the old blacklist stays).
    pub fn set_rune_blacklist(&mut self, ranges: &[(u64, u64)]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM runes_blacklist", [])?;
        for &(start, end) in ranges {
            tx.execute(
                "INSERT INTO runes_blacklist (start_index, end_index) VALUES (?1, ?2)",
                params![key(start)?, key(end)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// The node's rune store, for remote control.
impl RuneStore for SharedStore {
    fn next_rune_id(&self) -> Result<u64, StoreFailure> {
        self.lock().next_rune_id().map_err(StoreFailure::from)
    }

    fn insert_rune(&self, id: u64, rune: &str) -> Result<(), StoreFailure> {
        self.lock()
            .insert_rune(id, rune)
            .map_err(StoreFailure::from)
    }

    fn runes(&self) -> Result<Vec<StoredRune>, StoreFailure> {
        self.lock().runes().map_err(StoreFailure::from)
    }

    fn rune(&self, id: u64) -> Result<Option<StoredRune>, StoreFailure> {
        self.lock().rune(id).map_err(StoreFailure::from)
    }

    fn set_last_used(&self, id: u64, nsec: u64) -> Result<(), StoreFailure> {
        self.lock()
            .set_rune_last_used(id, nsec)
            .map_err(StoreFailure::from)
    }

    fn blacklist(&self) -> Result<Vec<(u64, u64)>, StoreFailure> {
        self.lock().rune_blacklist().map_err(StoreFailure::from)
    }

    fn set_blacklist(&self, ranges: &[(u64, u64)]) -> Result<(), StoreFailure> {
        self.lock()
            .set_rune_blacklist(ranges)
            .map_err(StoreFailure::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DB_FILE;

    #[test]
    fn runes_and_the_blacklist_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let mut store = Store::open(&path).unwrap();
        assert_eq!(store.next_rune_id().unwrap(), 0);
        store.insert_rune(0, "rune0").unwrap();
        store.insert_rune(1, "rune1").unwrap();
        assert!(store.insert_rune(1, "again").is_err(), "ids are unique");
        assert_eq!(store.next_rune_id().unwrap(), 2);
        store
            .set_rune_last_used(1, 1_700_000_000_123_456_789)
            .unwrap();
        // An id we never issued has no row to update, and gains none.
        store.set_rune_last_used(9, 1).unwrap();
        store.set_rune_blacklist(&[(0, 0), (3, 6)]).unwrap();
        drop(store);

        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store.runes().unwrap(),
            vec![
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
            ]
        );
        assert_eq!(store.rune(9).unwrap(), None);
        assert_eq!(store.rune_blacklist().unwrap(), vec![(0, 0), (3, 6)]);
        store.set_rune_blacklist(&[]).unwrap();
        assert_eq!(store.rune_blacklist().unwrap(), vec![]);
        // A range whose end is before its start is refused, and the old list stays.
        store.set_rune_blacklist(&[(1, 1)]).unwrap();
        assert!(store.set_rune_blacklist(&[(2, 2), (5, 4)]).is_err());
        assert_eq!(store.rune_blacklist().unwrap(), vec![(1, 1)]);
    }

    #[test]
    fn a_version_1_database_gains_the_rune_tables_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(crate::store::MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO peers (node_id, address) VALUES (?1, 'h:1')",
                params![&[2u8; 33][..]],
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            crate::store::MIGRATIONS.len() as i64
        );
        assert_eq!(store.peers().unwrap().len(), 1);
        store.insert_rune(0, "r").unwrap();
    }
}
