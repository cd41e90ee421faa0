//! The node's database: peers we know and channels we track, in SQLite.
//!
//! One file, `<network-dir>/lnpeer.sqlite3` ([`DB_FILE`]), opened in WAL mode with
//! `synchronous=NORMAL` (a committed transaction survives a process crash; a power cut may
//! lose the last few, never corrupt the file) and `foreign_keys=ON`.
//!
//! The schema is versioned with `PRAGMA user_version`: [`MIGRATIONS`]`[i]` takes the schema
//! from version `i` to `i + 1`, each in its own transaction together with the version bump,
//! so a crash mid-upgrade leaves the old version intact. A database newer than this build
//! is refused rather than guessed at.
//!
//! Every write below is one statement or one transaction. Node ids are plain `[u8; 33]`
//! (compressed public keys), so this module does not depend on secp256k1. Channels are
//! `subdaemon-state`'s [`ChannelRecord`], whose state names are what the column holds.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use subdaemon_state::ChannelState;
pub use subdaemon_state::{ChannelRecord, Opener};

/// The database file's name inside the network directory.
pub const DB_FILE: &str = "lnpeer.sqlite3";

/// How long a statement waits for another connection's lock before failing. Only our own
/// process opens the file, so contention is brief; five seconds rides out a checkpoint.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations; entry `i` upgrades `user_version` `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // Version 1: peers and the channels we have with them.
    "CREATE TABLE peers (
        node_id   BLOB PRIMARY KEY CHECK (length(node_id) = 33),
        address   TEXT,
        last_seen INTEGER
    );
    CREATE TABLE channels (
        dbid       INTEGER PRIMARY KEY AUTOINCREMENT,
        peer_id    BLOB NOT NULL REFERENCES peers(node_id),
        channel_id BLOB NOT NULL UNIQUE CHECK (length(channel_id) = 32),
        state      TEXT NOT NULL,
        opener     TEXT NOT NULL CHECK (opener IN ('local', 'remote')),
        created_at INTEGER
    );
    CREATE INDEX channels_peer_id ON channels(peer_id);",
    // Version 2: runes we issued (by unique id, with when each was last used, for `rate` and
    // `per`) and the blacklisted unique ids, as CLN's wallet keeps them.
    "CREATE TABLE runes (
        id             INTEGER PRIMARY KEY CHECK (id >= 0),
        rune           TEXT NOT NULL,
        last_used_nsec INTEGER
    );
    CREATE TABLE runes_blacklist (
        start_index INTEGER NOT NULL CHECK (start_index >= 0),
        end_index   INTEGER NOT NULL CHECK (end_index >= start_index)
    );",
    // Version 3: the durable inbox of received custom messages. AUTOINCREMENT so an index is
    // never given twice, even once its row is pruned.
    "CREATE TABLE custommsgs (
        idx         INTEGER PRIMARY KEY AUTOINCREMENT,
        peer_id     BLOB NOT NULL CHECK (length(peer_id) = 33),
        payload     BLOB NOT NULL,
        received_at INTEGER NOT NULL
    );
    CREATE INDEX custommsgs_peer_id ON custommsgs(peer_id, idx);",
    // Version 4: custom messages stored for peers that are not connected, with their fate.
    "CREATE TABLE stored_sends (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        peer_id     BLOB NOT NULL CHECK (length(peer_id) = 33),
        payload     BLOB NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'expired', 'cancelled')),
        resolved_at INTEGER
    );
    CREATE INDEX stored_sends_by_status ON stored_sends(status, peer_id, id);",
];

mod inbox;
mod runes;
mod stored_sends;

/// The store shared by the node's tasks: one connection behind a mutex (statements are short,
/// and nothing awaits under it).
#[derive(Debug, Clone)]
pub struct SharedStore(pub std::sync::Arc<std::sync::Mutex<Store>>);

impl SharedStore {
    /// The store, for one short use.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a store operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused: I/O error, constraint violation, corrupt file, ….
    Sqlite(rusqlite::Error),
    /// The file's schema is newer than this build understands.
    SchemaTooNew {
        /// The file's `user_version`.
        found: i64,
        /// The newest version we know.
        supported: usize,
    },
    /// `journal_mode=WAL` did not take (e.g. an in-memory or read-only database).
    WalUnavailable {
        /// The journal mode SQLite reported instead.
        mode: String,
    },
    /// `delete_peer` on a peer that still has channels.
    PeerHasChannels {
        /// How many channels reference it.
        channels: u64,
    },
    /// No channel with this dbid.
    NoSuchChannel(u64),
    /// A timestamp does not fit SQLite's signed 64-bit integer.
    TimestampOutOfRange(u64),
    /// A row holds something our own writes never produce.
    Corrupt(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "database error: {e}"),
            StoreError::SchemaTooNew { found, supported } => write!(
                f,
                "database schema version {found} is newer than this lnpeerd supports \
                 ({supported}); refusing to touch it"
            ),
            StoreError::WalUnavailable { mode } => {
                write!(f, "could not enable WAL journal mode (got '{mode}')")
            }
            StoreError::PeerHasChannels { channels } => {
                write!(f, "peer still has {channels} channel(s)")
            }
            StoreError::NoSuchChannel(dbid) => write!(f, "no channel with dbid {dbid}"),
            StoreError::TimestampOutOfRange(t) => write!(f, "timestamp {t} is out of range"),
            StoreError::Corrupt(what) => write!(f, "corrupt database: {what}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Sqlite(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

/// How the crates that see the store only through a trait (runes, delivery) hear of a failure.
impl From<StoreError> for rpc::StoreFailure {
    fn from(error: StoreError) -> Self {
        rpc::StoreFailure(error.to_string())
    }
}

/// A row of `peers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRecord {
    /// The peer's compressed public key.
    pub node_id: [u8; 33],
    /// The last address we reached them at or they connected from (`host:port`).
    pub address: Option<String>,
    /// Unix seconds when we last saw them; `None` if only known through a channel.
    pub last_seen: Option<u64>,
}

/// An open database. Not `Sync`: give it one owner (or a mutex).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The inbox's message count and payload bytes, read once and kept in step, so bounding
    /// the inbox on every message costs no table scan.
    inbox_totals: Option<inbox::Totals>,
}

fn to_sql_time(t: u64) -> Result<i64, StoreError> {
    i64::try_from(t).map_err(|_| StoreError::TimestampOutOfRange(t))
}

fn from_sql_time(t: Option<i64>) -> Result<Option<u64>, StoreError> {
    t.map(|t| u64::try_from(t).map_err(|_| StoreError::Corrupt(format!("timestamp {t}"))))
        .transpose()
}

/// A non-negative SQLite integer; `what` names it in the corruption error.
fn unsigned(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
}

fn blob<const N: usize>(bytes: Vec<u8>, what: &str) -> Result<[u8; N], StoreError> {
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt(format!("{what} of {} bytes", bytes.len())))
}

/// Raw column values; converted outside rusqlite's row callback so our errors stay typed.
type RawPeer = (Vec<u8>, Option<String>, Option<i64>);
type RawChannel = (i64, Vec<u8>, Vec<u8>, String, String, Option<i64>);

fn raw_peer(row: &Row<'_>) -> rusqlite::Result<RawPeer> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn raw_channel(row: &Row<'_>) -> rusqlite::Result<RawChannel> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn peer_record((node_id, address, last_seen): RawPeer) -> Result<PeerRecord, StoreError> {
    Ok(PeerRecord {
        node_id: blob(node_id, "node_id")?,
        address,
        last_seen: from_sql_time(last_seen)?,
    })
}

fn channel_record(
    (dbid, peer_id, channel_id, state, opener, created_at): RawChannel,
) -> Result<ChannelRecord, StoreError> {
    Ok(ChannelRecord {
        dbid: u64::try_from(dbid).map_err(|_| StoreError::Corrupt(format!("dbid {dbid}")))?,
        peer_id: blob(peer_id, "peer_id")?,
        channel_id: blob(channel_id, "channel_id")?,
        state: state
            .parse::<ChannelState>()
            .map_err(|e| StoreError::Corrupt(format!("channel {dbid}: {e}")))?,
        opener: Opener::from_name(&opener)
            .ok_or_else(|| StoreError::Corrupt(format!("channel opener '{opener}'")))?,
        created_at: from_sql_time(created_at)?,
    })
}

const CHANNEL_COLUMNS: &str = "dbid, peer_id, channel_id, state, opener, created_at";

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// [`StoreError::SchemaTooNew`] for a database from a newer lnpeerd,
    /// [`StoreError::WalUnavailable`] if WAL cannot be enabled, [`StoreError::Sqlite`] for
    /// anything SQLite refuses (unreadable file, not a database, failed migration).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { mode });
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Store {
            conn,
            inbox_totals: None,
        })
    }

    /// The schema version the file is at (equal to `MIGRATIONS.len()` once opened).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] if the pragma cannot be read.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// Records that we saw `node_id` at `now_unix`, and where, if we know. A `None` address
    /// keeps the one stored before, so a reconnect through an unknown path forgets nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::TimestampOutOfRange`] past year 292 billion, or [`StoreError::Sqlite`].
    pub fn upsert_peer(
        &mut self,
        node_id: [u8; 33],
        address: Option<&str>,
        now_unix: u64,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO peers (node_id, address, last_seen) VALUES (?1, ?2, ?3)
             ON CONFLICT (node_id) DO UPDATE SET
                 address = coalesce(excluded.address, peers.address),
                 last_seen = excluded.last_seen",
            params![&node_id[..], address, to_sql_time(now_unix)?],
        )?;
        Ok(())
    }

    /// The stored row for `node_id`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn peer(&self, node_id: [u8; 33]) -> Result<Option<PeerRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT node_id, address, last_seen FROM peers WHERE node_id = ?1",
                params![&node_id[..]],
                raw_peer,
            )
            .optional()?
            .map(peer_record)
            .transpose()
    }

    /// Every stored peer, ordered by node id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn peers(&self) -> Result<Vec<PeerRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT node_id, address, last_seen FROM peers ORDER BY node_id")?;
        let rows = stmt.query_map([], raw_peer)?;
        rows.map(|row| peer_record(row?)).collect()
    }

    /// Forgets a peer that has no channels; returns whether it existed.
    ///
    /// # Errors
    ///
    /// [`StoreError::PeerHasChannels`] if any channel still references it (the foreign key
    /// would refuse too; checking first gives the caller a clear reason).
    pub fn delete_peer(&mut self, node_id: [u8; 33]) -> Result<bool, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let channels: i64 = tx.query_row(
            "SELECT count(*) FROM channels WHERE peer_id = ?1",
            params![&node_id[..]],
            |row| row.get(0),
        )?;
        if channels > 0 {
            return Err(StoreError::PeerHasChannels {
                channels: channels.unsigned_abs(),
            });
        }
        let deleted = tx.execute(
            "DELETE FROM peers WHERE node_id = ?1",
            params![&node_id[..]],
        )?;
        tx.commit()?;
        Ok(deleted > 0)
    }

    /// Records a new channel with `peer_id` (adding a bare peer row if we had none) and
    /// returns its dbid. `now_unix` becomes `created_at`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] with a constraint violation if `channel_id` is already stored.
    pub fn insert_channel(
        &mut self,
        peer_id: [u8; 33],
        channel_id: [u8; 32],
        state: ChannelState,
        opener: Opener,
        now_unix: u64,
    ) -> Result<u64, StoreError> {
        let created_at = to_sql_time(now_unix)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR IGNORE INTO peers (node_id) VALUES (?1)",
            params![&peer_id[..]],
        )?;
        tx.execute(
            "INSERT INTO channels (peer_id, channel_id, state, opener, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                &peer_id[..],
                &channel_id[..],
                state.name(),
                opener.name(),
                created_at
            ],
        )?;
        let dbid = tx.last_insert_rowid();
        tx.commit()?;
        u64::try_from(dbid).map_err(|_| StoreError::Corrupt(format!("dbid {dbid}")))
    }

    /// Sets a channel's state.
    ///
    /// # Errors
    ///
    /// [`StoreError::NoSuchChannel`] if `dbid` is unknown.
    pub fn set_channel_state(&mut self, dbid: u64, state: ChannelState) -> Result<(), StoreError> {
        let Ok(key) = i64::try_from(dbid) else {
            return Err(StoreError::NoSuchChannel(dbid));
        };
        let updated = self.conn.execute(
            "UPDATE channels SET state = ?1 WHERE dbid = ?2",
            params![state.name(), key],
        )?;
        if updated == 0 {
            return Err(StoreError::NoSuchChannel(dbid));
        }
        Ok(())
    }

    /// Forgets a channel; returns whether it existed. The peer row stays.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`].
    pub fn delete_channel(&mut self, dbid: u64) -> Result<bool, StoreError> {
        let Ok(key) = i64::try_from(dbid) else {
            return Ok(false);
        };
        let deleted = self
            .conn
            .execute("DELETE FROM channels WHERE dbid = ?1", params![key])?;
        Ok(deleted > 0)
    }

    /// Every channel, ordered by dbid.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn channels(&self) -> Result<Vec<ChannelRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY dbid"
        ))?;
        let rows = stmt.query_map([], raw_channel)?;
        rows.map(|row| channel_record(row?)).collect()
    }

    /// The channels with one peer, ordered by dbid.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] or [`StoreError::Corrupt`].
    pub fn channels_of(&self, peer_id: [u8; 33]) -> Result<Vec<ChannelRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE peer_id = ?1 ORDER BY dbid"
        ))?;
        let rows = stmt.query_map(params![&peer_id[..]], raw_channel)?;
        rows.map(|row| channel_record(row?)).collect()
    }
}

/// Applies every migration past the file's `user_version`, one transaction each.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = MIGRATIONS.len();
    let start = usize::try_from(found)
        .ok()
        .filter(|&v| v <= supported)
        .ok_or(StoreError::SchemaTooNew { found, supported })?;
    // Pair each migration with the version it produces.
    for (version, sql) in (1i64..).zip(MIGRATIONS).skip(start) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        // user_version lives in the file header and commits with the transaction.
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: [u8; 33] = [2; 33];
    const BOB: [u8; 33] = [3; 33];

    fn open_temp() -> (tempfile::TempDir, std::path::PathBuf, Store) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let store = Store::open(&path).unwrap();
        (dir, path, store)
    }

    #[test]
    fn migrates_an_empty_database_and_uses_wal() {
        let (_dir, path, store) = open_temp();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        // synchronous=NORMAL is 1.
        let sync: i64 = store
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 1);
        drop(store);
        // Reopening an up-to-date file runs nothing and changes nothing.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn migrates_a_preexisting_empty_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        // A valid database someone created without our schema (user_version 0).
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE unrelated (x); DROP TABLE unrelated;")
            .unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(store.peers().unwrap(), vec![]);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 7)
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::SchemaTooNew {
                    found: 7,
                    supported
                } if supported == MIGRATIONS.len()
            ),
            "{err}"
        );
    }

    #[test]
    fn peers_upsert_read_and_delete() {
        let (_dir, _path, mut store) = open_temp();
        assert_eq!(store.peer(ALICE).unwrap(), None);
        store
            .upsert_peer(ALICE, Some("127.0.0.1:9735"), 100)
            .unwrap();
        store.upsert_peer(BOB, None, 50).unwrap();
        // Seen again without an address: the old address stays, the time moves.
        store.upsert_peer(ALICE, None, 200).unwrap();
        assert_eq!(
            store.peer(ALICE).unwrap(),
            Some(PeerRecord {
                node_id: ALICE,
                address: Some("127.0.0.1:9735".into()),
                last_seen: Some(200)
            })
        );
        store.upsert_peer(ALICE, Some("[::1]:1"), 300).unwrap();
        let peers = store.peers().unwrap();
        assert_eq!(peers.len(), 2);
        assert_eq!(peers[0].address.as_deref(), Some("[::1]:1"));
        assert_eq!(peers[1].node_id, BOB);
        assert!(store.delete_peer(BOB).unwrap());
        assert!(!store.delete_peer(BOB).unwrap());
        assert!(matches!(
            store.upsert_peer(ALICE, None, u64::MAX),
            Err(StoreError::TimestampOutOfRange(u64::MAX))
        ));
    }

    #[test]
    fn channels_lifecycle() {
        let (_dir, _path, mut store) = open_temp();
        // Inserting a channel creates the peer row.
        let a1 = store
            .insert_channel(
                ALICE,
                [1; 32],
                ChannelState::ChanneldNormal,
                Opener::Local,
                10,
            )
            .unwrap();
        let a2 = store
            .insert_channel(
                ALICE,
                [2; 32],
                ChannelState::ChanneldNormal,
                Opener::Remote,
                11,
            )
            .unwrap();
        let b1 = store
            .insert_channel(
                BOB,
                [3; 32],
                ChannelState::ChanneldNormal,
                Opener::Remote,
                12,
            )
            .unwrap();
        assert!(a1 < a2 && a2 < b1);
        assert_eq!(
            store.peer(ALICE).unwrap(),
            Some(PeerRecord {
                node_id: ALICE,
                address: None,
                last_seen: None
            })
        );
        // channel_id is unique.
        assert!(matches!(
            store.insert_channel(
                BOB,
                [1; 32],
                ChannelState::ChanneldNormal,
                Opener::Local,
                13
            ),
            Err(StoreError::Sqlite(_))
        ));

        store
            .set_channel_state(a1, ChannelState::ChanneldShuttingDown)
            .unwrap();
        assert!(matches!(
            store.set_channel_state(999, ChannelState::Onchain),
            Err(StoreError::NoSuchChannel(999))
        ));
        let alice_channels = store.channels_of(ALICE).unwrap();
        assert_eq!(
            alice_channels[0],
            ChannelRecord {
                dbid: a1,
                peer_id: ALICE,
                channel_id: [1; 32],
                state: ChannelState::ChanneldShuttingDown,
                opener: Opener::Local,
                created_at: Some(10)
            }
        );
        assert_eq!(alice_channels.len(), 2);
        assert_eq!(store.channels().unwrap().len(), 3);

        // A peer with channels cannot be forgotten.
        assert!(matches!(
            store.delete_peer(ALICE),
            Err(StoreError::PeerHasChannels { channels: 2 })
        ));
        assert!(store.delete_channel(a1).unwrap());
        assert!(!store.delete_channel(a1).unwrap());
        assert!(store.delete_channel(a2).unwrap());
        assert!(store.delete_peer(ALICE).unwrap());
        assert_eq!(store.channels().unwrap().len(), 1);
        // AUTOINCREMENT: dbids are never reused, so log prefixes stay unambiguous.
        let b2 = store
            .insert_channel(
                BOB,
                [4; 32],
                ChannelState::ChanneldNormal,
                Opener::Local,
                14,
            )
            .unwrap();
        assert!(b2 > b1);
    }

    #[test]
    fn reopen_keeps_data() {
        let (_dir, path, mut store) = open_temp();
        store.upsert_peer(ALICE, Some("host:1"), 5).unwrap();
        let dbid = store
            .insert_channel(
                ALICE,
                [9; 32],
                ChannelState::ChanneldNormal,
                Opener::Local,
                6,
            )
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.peer(ALICE).unwrap().unwrap().address.as_deref(),
            Some("host:1")
        );
        assert_eq!(store.channels().unwrap()[0].dbid, dbid);
    }

    #[test]
    fn foreign_key_enforced() {
        let (_dir, _path, store) = open_temp();
        // Bypass insert_channel, which would create the peer.
        let err = store
            .conn
            .execute(
                "INSERT INTO channels (peer_id, channel_id, state, opener) VALUES (?1, ?2, 'X', 'local')",
                params![&ALICE[..], &[1u8; 32][..]],
            )
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        // And deleting a referenced peer directly is refused by SQLite too.
        let mut store = store;
        store
            .insert_channel(
                ALICE,
                [1; 32],
                ChannelState::ChanneldNormal,
                Opener::Local,
                0,
            )
            .unwrap();
        let err = store
            .conn
            .execute("DELETE FROM peers WHERE node_id = ?1", params![&ALICE[..]])
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
    }

    #[test]
    fn check_constraints_reject_bad_rows() {
        let (_dir, _path, store) = open_temp();
        for sql in [
            "INSERT INTO peers (node_id) VALUES (x'02')",
            "INSERT INTO peers (node_id) VALUES (zeroblob(33));
             INSERT INTO channels (peer_id, channel_id, state, opener)
                 VALUES (zeroblob(33), zeroblob(32), 'X', 'both')",
        ] {
            assert!(store.conn.execute_batch(sql).is_err(), "{sql}");
        }
    }

    #[test]
    fn uncommitted_transaction_is_absent_after_reopen() {
        let (_dir, path, mut store) = open_temp();
        store.upsert_peer(ALICE, None, 1).unwrap();
        // A writer that dies mid-transaction: begin, write, drop without commit.
        {
            let tx = store.conn.transaction().unwrap();
            tx.execute(
                "INSERT INTO peers (node_id, last_seen) VALUES (?1, 2)",
                params![&BOB[..]],
            )
            .unwrap();
            tx.execute(
                "UPDATE peers SET address = 'x:1' WHERE node_id = ?1",
                params![&ALICE[..]],
            )
            .unwrap();
            // Make the transaction's pages hit the WAL before the "crash".
            tx.cache_flush().unwrap();
        }
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.peer(BOB).unwrap(), None);
        assert_eq!(store.peer(ALICE).unwrap().unwrap().address, None);
    }

    #[test]
    fn connection_lost_mid_transaction_leaves_committed_state() {
        // Closer to a crash: the connection is never closed, its transaction never rolled
        // back, and a new connection opens the file meanwhile, as a restarted process would.
        let (_dir, path, mut store) = open_temp();
        store.upsert_peer(ALICE, None, 1).unwrap();
        let mut raw = Connection::open(&path).unwrap();
        let tx = raw.transaction().unwrap();
        tx.execute(
            "INSERT INTO peers (node_id, last_seen) VALUES (?1, 2)",
            params![&BOB[..]],
        )
        .unwrap();
        tx.cache_flush().unwrap();
        std::mem::forget(tx);
        std::mem::forget(raw);
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.peer(BOB).unwrap(), None);
        assert!(store.peer(ALICE).unwrap().is_some());
    }
}
