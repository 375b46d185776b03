//! The auth epoch (`Store::auth_epoch`) on SQLite without a statement per
//! request (issue 10, session 11: the statement was ~10-16 µs of every
//! signed-in request, 6 % of a post).
//!
//! The epoch may only be served from memory while no transaction has been
//! committed to the file since it was read, by this process or any other
//! (`holdfast user suspend` beside a running server writes the same file and
//! tells nobody). SQLite already keeps exactly that fact where every process
//! can see it: each commit rewrites the WAL-index header in the shared memory
//! beside the database (`holdfast.db-shm`), whose `iChange` counter moves
//! with every transaction (the header's layout is part of SQLite's file
//! format, the one all processes on a file agree on: walformat.html). So a
//! request compares that header with the one seen just before the epoch was
//! last read, a few loads of memory; only when it differs (any commit
//! anywhere, a rewritten WAL after a checkpoint) is the epoch read again.
//! `PRAGMA data_version` would not do: it is a statement, and learns of a
//! commit only in a new read transaction, which is what costs.
//!
//! The header has two copies, written one after the other; a reader that
//! finds them different is looking at a commit being published and reads
//! the epoch. The shared memory is reached through SQLite's own VFS call
//! (`xShmMap` on the connection's file), mapped as long as the connection is
//! open; where there is none (a VFS without shared memory, a database not in
//! WAL mode) every request reads the epoch, as before.

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Mutex;

use rusqlite::{ffi, Connection};

use super::lock;
use crate::StoreResult;

/// fact: the WAL-index header is 48 bytes (12 words), stored twice, the
/// second copy right after the first (walformat.html, "The WAL-Index Header").
const HEADER_WORDS: usize = 12;
/// fact: SQLite maps the wal-index in regions of 32 KiB (`WALINDEX_PGSZ`).
const SHM_REGION_BYTES: i32 = 32 * 1024;
/// fact: `iVersion`, the header's first word, is always 3007000.
const WAL_INDEX_VERSION: u32 = 3_007_000;

type Header = [u32; HEADER_WORDS];

/// The one connection that reads the epoch, and what it read last.
pub(super) struct EpochReader {
    conn: Mutex<Connection>,
    shm: Option<WalIndex>,
    /// The epoch read last, with the header as it was just before that read.
    last: Mutex<Option<(Header, i64)>>,
}

impl EpochReader {
    pub(super) fn new(conn: Connection) -> StoreResult<EpochReader> {
        // A first read opens the WAL and its shared memory.
        read_epoch(&conn)?;
        let shm = WalIndex::of(&conn);
        Ok(EpochReader {
            conn: Mutex::new(conn),
            shm,
            last: Mutex::new(None),
        })
    }

    pub(super) fn read(&self) -> StoreResult<i64> {
        let Some(shm) = &self.shm else {
            return read_epoch(&lock(&self.conn));
        };
        if let Some(now) = shm.header() {
            if let Some((seen, n)) = *lock(&self.last) {
                if seen == now {
                    return Ok(n);
                }
            }
        }
        let conn = lock(&self.conn);
        // Seen before the statement's transaction starts: whatever it reads
        // is at least as new as this header.
        let before = shm.header();
        let n = read_epoch(&conn)?;
        // Stored under the connection's lock, so an older read cannot
        // overwrite a newer one.
        *lock(&self.last) = before.map(|h| (h, n));
        Ok(n)
    }
}

fn read_epoch(conn: &Connection) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(crate::core::oauth::AUTH_EPOCH_SQL)?
        .query_row([], |r| r.get(0))?)
}

/// The first region of a connection's WAL-index (shared memory).
struct WalIndex {
    words: *const AtomicU32,
}

// SAFETY: the region is shared memory mapped for as long as the connection
// it came from is open, and `EpochReader` owns that connection; it is only
// ever read, word by word, with atomic loads.
unsafe impl Send for WalIndex {}
unsafe impl Sync for WalIndex {}

impl WalIndex {
    /// The mapped header of `conn`'s database, if it has one that reads as
    /// a WAL-index header.
    fn of(conn: &Connection) -> Option<WalIndex> {
        // SAFETY: SQLite's documented VFS interface on an open connection:
        // the file of its main database, then that file's shared-memory
        // region 0, which the connection's first read already mapped
        // (bExtend = 0: map nothing new). Both checked before use.
        let region = unsafe {
            let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
            let rc = ffi::sqlite3_file_control(
                conn.handle(),
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&mut file as *mut *mut ffi::sqlite3_file).cast(),
            );
            if rc != ffi::SQLITE_OK || file.is_null() || (*file).pMethods.is_null() {
                return None;
            }
            let methods = &*(*file).pMethods;
            let map = if methods.iVersion >= 2 {
                methods.xShmMap?
            } else {
                return None;
            };
            let mut region: *mut std::ffi::c_void = std::ptr::null_mut();
            if map(file, 0, SHM_REGION_BYTES, 0, &mut region) != ffi::SQLITE_OK || region.is_null()
            {
                return None;
            }
            region
        };
        let index = WalIndex {
            words: region.cast::<AtomicU32>(),
        };
        let h = index.header()?;
        // isInit is the low byte of word 3 on this (little- or big-endian)
        // host: the header is in native byte order.
        let is_init = h[3].to_ne_bytes()[0] == 1;
        (h[0] == WAL_INDEX_VERSION && is_init).then_some(index)
    }

    /// The header's first copy, if the second says the same (else a commit
    /// is being published right now).
    fn header(&self) -> Option<Header> {
        let copy = |at: usize| -> Header {
            // SAFETY: the region is 32 KiB, mapped while `self` lives; the
            // two copies are its first 96 bytes, 4-byte aligned.
            std::array::from_fn(|i| unsafe { (*self.words.add(at + i)).load(Ordering::Acquire) })
        };
        let first = copy(0);
        fence(Ordering::Acquire);
        let second = copy(HEADER_WORDS);
        (first == second).then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &std::path::Path) -> Connection {
        super::super::pcache::install();
        let c = Connection::open(dir.join("t.db")).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch(
            "CREATE TABLE IF NOT EXISTS auth_epoch (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); \
             INSERT OR IGNORE INTO auth_epoch VALUES (1, 0); CREATE TABLE IF NOT EXISTS other (x);",
        )
        .unwrap();
        c
    }

    #[test]
    fn a_commit_by_another_connection_is_seen_by_the_next_read() {
        let dir = std::env::temp_dir().join(format!("hf-epoch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let writer = open(&dir);
        let reader = EpochReader::new(open(&dir)).unwrap();
        assert!(reader.shm.is_some(), "a WAL database has its header mapped");
        assert_eq!(reader.read().unwrap(), 0);
        // Kept with the header as it reads now: the next read is served
        // from memory.
        let header = reader.shm.as_ref().unwrap().header();
        assert_eq!(lock(&reader.last).map(|(h, _)| h), header);
        assert_eq!(reader.read().unwrap(), 0);
        for n in 1..=3 {
            writer
                .execute("UPDATE auth_epoch SET n = n + 1 WHERE id = 1", [])
                .unwrap();
            assert_eq!(reader.read().unwrap(), n, "the commit just made");
            // A commit touching something else moves the header too: read
            // again, same answer.
            writer.execute("INSERT INTO other VALUES (1)", []).unwrap();
            assert_eq!(reader.read().unwrap(), n);
        }
        drop(reader);
        drop(writer);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
