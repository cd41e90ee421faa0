//! The key log file: BOLT 8 keys appended in the format Wireshark's lightning-dissector reads
//! (the `LIGHTNINGKEYLOGFILE` convention of ptarmigan), one line per key and direction:
//! the 16-byte tag of the first length header sealed with the key, a space, the 32-byte key,
//! both in lower-case hex. Anyone who can read the file can decrypt the traffic it covers.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use noise_transport::{KeyDirection, KeyLog};
use zeroize::Zeroizing;

/// The length of one line: 32 hex digits, a space, 64 hex digits, a newline.
const LINE_LEN: usize = 32 + 1 + 64 + 1;

/// A key log file, opened to append; set it as [`crate::PeerManagerConfig::key_log`].
#[derive(Debug)]
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
    /// A write failed; said once, not once per key.
    failed: AtomicBool,
}

impl KeyLogFile {
    /// Opens `path` to append, creating it with mode 0600 (an existing file keeps its mode).
    ///
    /// # Errors
    /// The file cannot be opened or created.
    pub fn open(path: &Path) -> io::Result<KeyLogFile> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        Ok(KeyLogFile {
            path: path.to_owned(),
            file: Mutex::new(file),
            failed: AtomicBool::new(false),
        })
    }

    /// Where the keys go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One line of the log, wiped when dropped.
fn line(length_mac: &[u8; 16], key: &[u8; 32]) -> Zeroizing<Vec<u8>> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    fn push_hex(line: &mut Vec<u8>, bytes: &[u8]) {
        for byte in bytes {
            line.push(HEX[usize::from(byte >> 4)]);
            line.push(HEX[usize::from(byte & 15)]);
        }
    }
    let mut line = Zeroizing::new(Vec::with_capacity(LINE_LEN));
    push_hex(&mut line, length_mac);
    line.push(b' ');
    push_hex(&mut line, key);
    line.push(b'\n');
    line
}

impl KeyLog for KeyLogFile {
    fn log_key(&self, _direction: KeyDirection, length_mac: &[u8; 16], key: &[u8; 32]) {
        let line = line(length_mac, key);
        // One write per line to a file opened with O_APPEND: lines from several connections,
        // or several nodes sharing the file, do not interleave.
        let written = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .write_all(&line);
        if let Err(error) = written {
            if !self.failed.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    "cannot append to the key log {}: {error}",
                    self.path.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn lines_are_the_dissectors_format_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.log");
        let log = KeyLogFile::open(&path).unwrap();
        let mac: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        log.log_key(KeyDirection::Sending, &mac, &[0xab; 32]);
        log.log_key(KeyDirection::Receiving, &[0; 16], &[0x0f; 32]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!(
                "00112233445566778899aabbccddeeff {}\n{} {}\n",
                "ab".repeat(32),
                "00".repeat(16),
                "0f".repeat(32)
            )
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // Reopening appends.
        let again = KeyLogFile::open(&path).unwrap();
        again.log_key(KeyDirection::Sending, &[1; 16], &[2; 32]);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 3);
    }
}
