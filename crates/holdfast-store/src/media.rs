//! Where media bytes live. The contract is the store's: once `put` returns
//! Ok, the bytes survive a crash, and nothing half-written is ever served.
//!
//! Two implementations, chosen with the database:
//! - [`FileMediaStore`] (single node, SQLite): one file per key under
//!   `<data_dir>/media/`, written to a temporary file in the same directory,
//!   fsynced, renamed into place, and the directory fsynced; a crash leaves
//!   either no file or the whole file (plus perhaps a temporary one that is
//!   never served and is swept at start).
//! - `PgStore` (cluster): bytes in the `media_blobs` table, so every node
//!   serves them and they fail over with the rest of the data under
//!   synchronous replication (see postgres/media.rs).
//!
//! Keys are made by the service (random hex plus an extension); they are
//! checked here again with [`valid_key`], so a key can never name a path
//! outside the media directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::{StoreError, StoreResult};

#[async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Stores `bytes` under `key`, durably, replacing nothing: keys are unique.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> StoreResult<()>;
    /// The bytes under `key`; NotFound if there are none.
    async fn get(&self, key: &str) -> StoreResult<Vec<u8>>;
    /// How many bytes are under `key`; NotFound if there are none.
    async fn size(&self, key: &str) -> StoreResult<u64>;
    /// Up to `len` bytes under `key` from `start` (fewer at the end), so a
    /// file is served in bounded chunks rather than loaded whole.
    async fn read_range(&self, key: &str, start: u64, len: usize) -> StoreResult<Vec<u8>>;
    /// Removes the keys; missing ones are not an error.
    async fn delete(&self, keys: &[String]) -> StoreResult<()>;
}

/// A media key: 1 to 64 lower-case letters, digits or dashes, a dot, and a short
/// lower-case extension. Nothing else (no slash, no `..`) is ever a key.
pub fn valid_key(key: &str) -> bool {
    let Some((stem, ext)) = key.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        // fact: the key format holdfast writes (and so the only one it reads)
        && stem.len() <= 64
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
        // fact: extensions of the formats holdfast stores are 1 to 4 letters
        && (1..=4).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_lowercase())
}

fn bad_key() -> StoreError {
    StoreError::NotFound
}

/// Files under one directory, written atomically.
pub struct FileMediaStore {
    dir: PathBuf,
}

impl FileMediaStore {
    /// Creates the directory if needed and removes temporary files left by a
    /// crash mid-write (they were never renamed, so never served).
    pub fn open(dir: &Path) -> StoreResult<FileMediaStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create media directory {}: {e}",
                dir.display()
            ))
        })?;
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(".tmp-") {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(FileMediaStore {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> StoreResult<PathBuf> {
        if valid_key(key) {
            Ok(self.dir.join(key))
        } else {
            Err(bad_key())
        }
    }
}

fn io(e: std::io::Error) -> StoreError {
    // A full or failing disk is not the client's fault and may pass: 503.
    StoreError::Unavailable(format!("media storage: {e}"))
}

fn not_found_or_io(e: std::io::Error) -> StoreError {
    match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::NotFound,
        _ => io(e),
    }
}

/// temp file in the same directory → write → fsync → rename → fsync directory.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut nonce = [0u8; 8];
    getrandom::getrandom(&mut nonce).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".tmp-{}", u64::from_le_bytes(nonce)));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[async_trait]
impl MediaStore for FileMediaStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> StoreResult<()> {
        let path = self.path(key)?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &path, &bytes))
            .await
            .map_err(|_| StoreError::Internal("a media write panicked".into()))?
            .map_err(io)
    }

    async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|_| StoreError::Internal("a media read panicked".into()))?
            .map_err(not_found_or_io)
    }

    async fn size(&self, key: &str) -> StoreResult<u64> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || std::fs::metadata(path).map(|m| m.len()))
            .await
            .map_err(|_| StoreError::Internal("a media read panicked".into()))?
            .map_err(not_found_or_io)
    }

    async fn read_range(&self, key: &str, start: u64, len: usize) -> StoreResult<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || {
            let mut f = std::fs::File::open(path)?;
            f.seek(SeekFrom::Start(start))?;
            let mut buf = Vec::with_capacity(len);
            f.take(len as u64).read_to_end(&mut buf)?;
            Ok(buf)
        })
        .await
        .map_err(|_| StoreError::Internal("a media read panicked".into()))?
        .map_err(not_found_or_io)
    }

    async fn delete(&self, keys: &[String]) -> StoreResult<()> {
        let paths = keys
            .iter()
            .filter(|k| valid_key(k))
            .map(|k| self.dir.join(k))
            .collect::<Vec<_>>();
        if paths.is_empty() {
            return Ok(());
        }
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            for p in paths {
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            std::fs::File::open(dir)?.sync_all()
        })
        .await
        .map_err(|_| StoreError::Internal("a media delete panicked".into()))?
        .map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_directory() {
        assert!(valid_key("0123abcd-original.jpg"));
        assert!(valid_key("ff.png"));
        assert!(!valid_key("../etc/passwd"));
        assert!(!valid_key("a/b.png"));
        assert!(!valid_key(".png"));
        assert!(!valid_key("abc"));
        assert!(!valid_key("ABC.png"));
        assert!(!valid_key("abc.PNG"));
        assert!(!valid_key("abc.jpeg5"));
        assert!(!valid_key(".tmp-123.png"));
    }
}
