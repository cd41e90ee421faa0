//! The node key: `<network-dir>/hsm_secret` and the node private key derived from it.
//!
//! The file is 32 random bytes, created once with mode 0600 and never overwritten, the
//! plain (legacy, unencrypted) format of Core Lightning's `hsm_secret`. The node key is
//! derived exactly as CLN's `hsmd/libhsmd.c:node_key()` does, so the same `hsm_secret`
//! gives the same node id under both daemons:
//!
//! ```text
//! for salt in 0u32.. {                       // CLN: `u32 salt`, hashed in host byte order
//!     key = HKDF-SHA256(salt = salt.to_le_bytes(), ikm = hsm_secret, info = "nodeid", L = 32)
//!     if key is a valid secp256k1 secret key { return key }
//! }
//! ```
//!
//! CLN passes `&salt, sizeof(salt)`, i.e. the in-memory bytes of a `u32`; every platform CLN
//! supports is little-endian (its own comments say as much), so we use little-endian. The
//! loop practically never runs twice (an invalid key has probability about 2^-128).
//!
//! CLN also accepts encrypted (`--encrypted-hsm`) and mnemonic-based `hsm_secret` files; we
//! don't, and say so when we meet one.
//!
//! `--dev-force-privkey` replaces the derived node key with a given one, as CLN's hsmd does
//! ([`NodeSecrets::force_node_key`]); everything else still comes from `hsm_secret`.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use secp256k1::rand::RngCore;
use secp256k1::SecretKey;
use sha2::Sha256;

/// The file name inside the network directory, as CLN names it.
pub const HSM_SECRET_FILE: &str = "hsm_secret";

/// The only `hsm_secret` length we accept: CLN's plain format.
pub const HSM_SECRET_LEN: usize = 32;

/// The HKDF `info` CLN's hsmd uses for the node key.
const NODE_KEY_INFO: &[u8] = b"nodeid";

/// Why the node key could not be loaded or created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HsmError {
    /// Reading, creating or syncing a file or directory failed.
    Io {
        /// What we were doing, e.g. "create".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        problem: String,
    },
    /// The file is readable by group or others; we refuse to use a leaked secret.
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a regular file.
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// The file is not exactly 32 bytes: empty, truncated, or one of CLN's other formats.
    WrongLength {
        /// The file.
        path: PathBuf,
        /// How many bytes it has (reading stops a little past 32).
        len: usize,
    },
    /// `--dev-force-privkey` is not a valid secp256k1 secret key (zero, or not below the
    /// curve order).
    ForcedKeyInvalid,
}

impl fmt::Display for HsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HsmError::Io {
                action,
                path,
                problem,
            } => write!(f, "cannot {action} {}: {problem}", path.display()),
            HsmError::TooOpen { path, mode } => write!(
                f,
                "permissions {mode:04o} for '{}' are too open: the node secret must not be \
                 accessible by group or others (chmod 600 it)",
                path.display()
            ),
            HsmError::NotAFile { path } => {
                write!(f, "'{}' is not a regular file", path.display())
            }
            HsmError::WrongLength { path, len } => {
                write!(
                    f,
                    "'{}' is {len} bytes, but lnpeer only reads a plain {HSM_SECRET_LEN}-byte \
                     hsm_secret (Core Lightning's encrypted and mnemonic formats are not \
                     supported)",
                    path.display()
                )?;
                if *len == 0 {
                    // The one way we can leave this behind: a crash between create and write.
                    f.write_str("; an empty file may be left by an interrupted first start")?;
                }
                Ok(())
            }
            // CLN's hsmd wording.
            HsmError::ForcedKeyInvalid => {
                f.write_str("Failed to derive pubkey for dev_force_privkey")
            }
        }
    }
}

impl std::error::Error for HsmError {}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> HsmError + 'a {
    move |e| HsmError::Io {
        action,
        path: path.to_owned(),
        problem: e.to_string(),
    }
}

/// Loads `<network_dir>/hsm_secret`, creating it (and `network_dir`, mode 0700) first if
/// it does not exist, and returns the node key and whether the file was created now.
///
/// # Errors
///
/// [`HsmError::TooOpen`] if an existing file grants any group or other permission;
/// [`HsmError::WrongLength`] if it is not exactly 32 bytes; [`HsmError::NotAFile`] for
/// directories and the like; [`HsmError::Io`] for anything the OS refuses.
pub fn load_or_create(network_dir: &Path) -> Result<(NodeSecrets, bool), HsmError> {
    let path = network_dir.join(HSM_SECRET_FILE);
    let (mut secret, created) = match read_secret(&path)? {
        Some(secret) => (secret, false),
        None => match create_secret(network_dir, &path) {
            Ok(secret) => (secret, true),
            // Another process won the race to create it: use theirs.
            Err(CreateError::Exists) => match read_secret(&path)? {
                Some(secret) => (secret, false),
                None => {
                    return Err(HsmError::Io {
                        action: "open",
                        path,
                        problem: "it vanished while being created".to_owned(),
                    })
                }
            },
            Err(CreateError::Other(e)) => return Err(e),
        },
    };
    let secrets = NodeSecrets {
        node_key: node_key_from_secret(&secret),
        rune_master: runes::master_rune(&secret),
        onion_path_key: onion_path_key_from_secret(&secret),
    };
    wipe(&mut secret);
    Ok((secrets, created))
}

/// What the node derives from its `hsm_secret`.
pub struct NodeSecrets {
    /// The node key (its public half is the node id).
    pub node_key: SecretKey,
    /// The master rune: every rune the node issues derives from it (CLN's derivation, so the
    /// same `hsm_secret` issues the same runes; docs/security.md).
    pub rune_master: runes::Rune,
    /// The key of our blinded paths' `path_id`s (`createonionreplypath`), so a reply over a
    /// path we issued is recognised after a restart too (onion-messenger's `path_secret.rs`).
    pub onion_path_key: [u8; 32],
}

impl NodeSecrets {
    /// `--dev-force-privkey`: use `privkey` as the node key instead of the derived one, as
    /// CLN's hsmd `node_key()` does. The node id, the BOLT 8 static key and node signatures
    /// follow; the master rune still derives from `hsm_secret`, as in CLN.
    ///
    /// # Errors
    /// [`HsmError::ForcedKeyInvalid`] if it is not a valid secp256k1 secret key; the derived
    /// key is then kept.
    pub fn force_node_key(&mut self, privkey: &[u8; 32]) -> Result<(), HsmError> {
        self.node_key = SecretKey::from_slice(privkey).map_err(|_| HsmError::ForcedKeyInvalid)?;
        Ok(())
    }
}

impl std::fmt::Debug for NodeSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeSecrets").finish_non_exhaustive()
    }
}

/// Derives the node private key from an `hsm_secret` as CLN's hsmd does (see the module
/// documentation).
pub fn node_key_from_secret(secret: &[u8; HSM_SECRET_LEN]) -> SecretKey {
    let mut okm = [0u8; 32];
    for salt in 0..=u32::MAX {
        let hkdf = Hkdf::<Sha256>::new(Some(&salt.to_le_bytes()), secret);
        hkdf.expand(NODE_KEY_INFO, &mut okm)
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
        if let Ok(key) = SecretKey::from_slice(&okm) {
            wipe(&mut okm);
            return key;
        }
    }
    // Each try fails with probability ~2^-128; 2^32 failures in a row cannot happen.
    unreachable!("no valid node key for any of 2^32 salts")
}

/// The HKDF `info` of the onion path key: ours, so no key CLN derives can collide with it.
const ONION_PATH_KEY_INFO: &[u8] = b"lnpeer onion path_id key";

/// `HKDF-SHA256(salt = none, ikm = hsm_secret, info = "lnpeer onion path_id key", L = 32)`.
pub fn onion_path_key_from_secret(secret: &[u8; HSM_SECRET_LEN]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    Hkdf::<Sha256>::new(None, secret)
        .expand(ONION_PATH_KEY_INFO, &mut okm)
        .expect("32 bytes is far below HKDF-SHA256's 8160-byte output limit");
    okm
}

/// Overwrites secret material we no longer need. Best effort: without `zeroize` the
/// compiler may still keep copies, but `black_box` stops it dropping the writes outright.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

/// Reads an existing secret, checking permissions and length before trusting it; `None` if
/// there is no file yet.
fn read_secret(path: &Path) -> Result<Option<[u8; HSM_SECRET_LEN]>, HsmError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("open", path)(e)),
    };
    let meta = file.metadata().map_err(io_error("stat", path))?;
    if !meta.is_file() {
        return Err(HsmError::NotAFile {
            path: path.to_owned(),
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(HsmError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    // Read one byte more than we want, so a longer file is caught without reading it all.
    let mut buf = Vec::with_capacity(HSM_SECRET_LEN + 1);
    (&mut file)
        .take(HSM_SECRET_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io_error("read", path))?;
    let secret = <[u8; HSM_SECRET_LEN]>::try_from(buf.as_slice());
    let len = buf.len();
    wipe(&mut buf);
    secret.map(Some).map_err(|_| HsmError::WrongLength {
        path: path.to_owned(),
        len,
    })
}

enum CreateError {
    Exists,
    Other(HsmError),
}

impl From<HsmError> for CreateError {
    fn from(e: HsmError) -> Self {
        CreateError::Other(e)
    }
}

/// Creates a fresh secret with `create_new` (so an existing file is never overwritten), then
/// syncs the file and its directory so the secret survives a crash once we have used it.
fn create_secret(network_dir: &Path, path: &Path) -> Result<[u8; HSM_SECRET_LEN], CreateError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(network_dir)
        .map_err(io_error("create directory", network_dir))?;
    let mut file = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(CreateError::Exists),
        Err(e) => return Err(io_error("create", path)(e).into()),
    };
    let mut secret = [0u8; HSM_SECRET_LEN];
    secp256k1::rand::thread_rng().fill_bytes(&mut secret);
    let written = file
        .write_all(&secret)
        .and_then(|()| file.sync_all())
        .map_err(io_error("write", path));
    if let Err(e) = written {
        wipe(&mut secret);
        // A partial file would be refused on the next start; remove it so a retry works.
        let _ = fs::remove_file(path);
        return Err(e.into());
    }
    File::open(network_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("sync directory", network_dir))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secp256k1::{PublicKey, SECP256K1};
    use std::os::unix::fs::PermissionsExt;

    fn node_id(key: &SecretKey) -> String {
        PublicKey::from_secret_key(SECP256K1, key).to_string()
    }

    /// pyln-testing writes `hsm_secret` = the node directory's name (`lightning-1`,
    /// `lightning-2`, …) zero-padded to 32 bytes, and CLN's tests quote the resulting ids:
    /// `tests/autogenerate-rpc-examples.py` lists l1..l6, `tests/test_db.py` asserts l2's.
    #[test]
    fn cln_test_vectors() {
        let cases = [
            (
                "lightning-1",
                "0266e4598d1d3c415f572a8488830b60f7e744ed9235eb0b1ba93283b315c03518",
            ),
            (
                "lightning-2",
                "022d223620a359a47ff7f7ac447c85c46c923da53389221a0054c11c1e3ca31d59",
            ),
            (
                "lightning-3",
                "035d2b1192dfba134e10e540875d366ebc8bc353d5aa766b80c090b39c3a5d885d",
            ),
            (
                "lightning-4",
                "0382ce59ebf18be7d84677c2e35f23294b9992ceca95491fcf8a56c6cb2d9de199",
            ),
            (
                "lightning-5",
                "032cf15d1ad9c4a08d26eab1918f732d8ef8fdc6abb9640bf3db174372c491304e",
            ),
            (
                "lightning-6",
                "0265b6ab5ec860cd257865d61ef0bbf5b3339c36cbda8b26b74e7f1dca490b6518",
            ),
        ];
        for (dir_name, want) in cases {
            let mut secret = [0u8; 32];
            secret[..dir_name.len()].copy_from_slice(dir_name.as_bytes());
            assert_eq!(node_id(&node_key_from_secret(&secret)), want, "{dir_name}");
        }
    }

    /// CLN's runner for lnprototest starts lightningd with `--dev-force-privkey=00..01` and
    /// dials node id `0279be66..1798`, the generator point: the public key of secret 1.
    #[test]
    fn forced_node_key_replaces_the_derived_one() {
        let dir = tempfile::tempdir().unwrap();
        let (mut secrets, _) = load_or_create(dir.path()).unwrap();
        let rune_master = secrets.rune_master.clone();
        let mut one = [0u8; 32];
        one[31] = 1;
        secrets.force_node_key(&one).unwrap();
        assert_eq!(
            node_id(&secrets.node_key),
            "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        );
        assert!(
            secrets.rune_master == rune_master,
            "runes keep hsm_secret's master"
        );
        // The file is untouched, so a start without the option gets the derived key back.
        let (again, created) = load_or_create(dir.path()).unwrap();
        assert!(!created);
        let secret: [u8; 32] = fs::read(dir.path().join(HSM_SECRET_FILE))
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(again.node_key, node_key_from_secret(&secret));
    }

    #[test]
    fn forced_node_key_must_be_a_valid_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (mut secrets, _) = load_or_create(dir.path()).unwrap();
        let derived = secrets.node_key;
        // Zero, the curve order n, and all ones (above n).
        let order = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
            .unwrap();
        for bad in [[0u8; 32], <[u8; 32]>::try_from(order).unwrap(), [0xff; 32]] {
            let err = secrets.force_node_key(&bad).unwrap_err();
            assert_eq!(err, HsmError::ForcedKeyInvalid);
            assert_eq!(
                err.to_string(),
                "Failed to derive pubkey for dev_force_privkey"
            );
            assert_eq!(secrets.node_key, derived, "a refused key changes nothing");
        }
    }

    #[test]
    fn created_private_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("regtest");
        let (key, created) = load_or_create(&net).unwrap();
        assert!(created);
        let path = net.join(HSM_SECRET_FILE);
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        assert_eq!(
            fs::metadata(&net).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let contents = fs::read(&path).unwrap();

        let (again, created) = load_or_create(&net).unwrap();
        assert!(!created);
        assert_eq!(again.node_key, key.node_key);
        assert!(again.rune_master == key.rune_master);
        assert_eq!(fs::read(&path).unwrap(), contents, "never rewritten");
        let secret: [u8; 32] = contents.try_into().unwrap();
        assert_eq!(node_key_from_secret(&secret), key.node_key);
        assert!(runes::master_rune(&secret) == key.rune_master);
    }

    #[test]
    fn wrong_lengths_refused() {
        for len in [0, 31, 33, 64, 73] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(HSM_SECRET_FILE);
            fs::write(&path, vec![7u8; len]).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let err = load_or_create(dir.path()).unwrap_err();
            let shown_len = len.min(33);
            assert_eq!(
                err,
                HsmError::WrongLength {
                    path: path.clone(),
                    len: shown_len
                }
            );
            assert!(err.to_string().contains("not supported"), "{err}");
            // Refusing must not replace the file.
            assert_eq!(fs::read(&path).unwrap().len(), len);
        }
    }

    #[test]
    fn loose_modes_refused_strict_ones_accepted() {
        for (mode, ok) in [
            (0o644, false),
            (0o640, false),
            (0o604, false),
            (0o660, false),
            (0o600, true),
            (0o400, true),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(HSM_SECRET_FILE);
            fs::write(&path, [1u8; 32]).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let result = load_or_create(dir.path());
            if ok {
                let (secrets, created) = result.unwrap();
                assert_eq!(secrets.node_key, node_key_from_secret(&[1u8; 32]));
                assert!(!created);
            } else {
                let err = result.unwrap_err();
                assert_eq!(
                    err,
                    HsmError::TooOpen {
                        path: path.clone(),
                        mode
                    }
                );
                assert!(err.to_string().contains(&format!("{mode:04o}")), "{err}");
            }
        }
    }

    #[test]
    fn directory_in_the_way_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(HSM_SECRET_FILE)).unwrap();
        fs::set_permissions(
            dir.path().join(HSM_SECRET_FILE),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(HsmError::NotAFile { .. })
        ));
    }
}
