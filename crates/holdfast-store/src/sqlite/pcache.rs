//! SQLite's own page cache, wrapped so that a commit does not walk the whole
//! cache after a b-tree split (issue 10, session 14: `pcache1TruncateUnsafe`
//! was ~18 % of the writer thread's samples while posting on the 10k seed).
//!
//! Why it walked: when a split leaves its new pages out of page-number order,
//! `balance_nonroot` swaps two pages' numbers through a temporary number, the
//! database's lock page (`PENDING_BYTE / page size + 1`, page 262,145 with
//! 4 KiB pages). The default cache (`pcache1`) remembers the largest number it
//! was ever given until its next truncation, and every commit truncates the
//! cache to the database's size. On a database under 1 GiB the lock page lies
//! past its end, so that commit's truncation finds a "page" far past the end
//! and walks every hash slot and every cached page (the writer keeps up to
//! `sqlite_writer_cache_kib` of them) to drop pages that are not there: the
//! swapped page was given its real number back within the same split.
//!
//! The wrapper forwards every call to the default cache, with one change: a
//! page that SQLite numbers as the lock page is kept in the default cache
//! under the number just past the largest page it holds instead (a number no
//! page has, and none gets while the swap lasts: a swap allocates nothing),
//! and asked for under that number while it is there. So the default cache
//! never sees a number far past the database's end, and a commit's
//! truncation looks at a slot or two, as when nothing was swapped. What the
//! cache holds and returns is otherwise exactly what SQLite's own would.
//!
//! It is installed for the whole process before SQLite is first initialized
//! (`sqlite3_config` refuses afterwards); if something initialized SQLite
//! first, the default cache stays and only this saving is lost.

use std::os::raw::{c_int, c_uint};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use rusqlite::ffi;

/// fact: SQLite's default `PENDING_BYTE`, the first byte of the lock page
/// (fileformat2.html, "The Lock-Byte Page"); only its test builds move it.
const PENDING_BYTE: u64 = 0x4000_0000;

/// The default cache's methods, taken once before ours were installed.
static DEFAULT: OnceLock<Option<Methods>> = OnceLock::new();

/// The methods table: function pointers and `pArg`, which the default cache
/// leaves unused (null); SQLite calls the methods from any thread.
struct Methods(ffi::sqlite3_pcache_methods2);
// SAFETY: written once before use, then only read; nothing in it is tied to
// a thread.
unsafe impl Send for Methods {}
unsafe impl Sync for Methods {}

/// Pages moved to the lock page's number and parked elsewhere (for the tests).
static PARKED: AtomicU64 = AtomicU64::new(0);

#[cfg(test)]
pub(crate) fn parked() -> u64 {
    PARKED.load(Ordering::Relaxed)
}

/// Installs the wrapper for the process, once; true if it is in place.
/// Called before any connection is opened (`Sqlite::open`, the bulk seed).
pub(crate) fn install() -> bool {
    DEFAULT
        .get_or_init(|| {
            let mut default = ffi::sqlite3_pcache_methods2 {
                iVersion: 0,
                pArg: std::ptr::null_mut(),
                xInit: None,
                xShutdown: None,
                xCreate: None,
                xCachesize: None,
                xPagecount: None,
                xFetch: None,
                xUnpin: None,
                xRekey: None,
                xTruncate: None,
                xDestroy: None,
                xShrink: None,
            };
            // SAFETY: GETPCACHE2 copies the configured methods (the default
            // cache's, set up on demand) into `default`; it is allowed at
            // any time.
            let rc = unsafe {
                ffi::sqlite3_config(
                    ffi::SQLITE_CONFIG_GETPCACHE2,
                    &mut default as *mut ffi::sqlite3_pcache_methods2,
                )
            };
            if rc != ffi::SQLITE_OK || default.iVersion < 1 || default.xCreate.is_none() {
                return None;
            }
            let ours = ffi::sqlite3_pcache_methods2 {
                iVersion: 1,
                pArg: default.pArg,
                xInit: default.xInit,
                xShutdown: default.xShutdown,
                xCreate: Some(create),
                xCachesize: Some(cachesize),
                xPagecount: Some(pagecount),
                xFetch: Some(fetch),
                xUnpin: Some(unpin),
                xRekey: Some(rekey),
                xTruncate: Some(truncate),
                xDestroy: Some(destroy),
                xShrink: Some(shrink),
            };
            // SAFETY: PCACHE2 copies `ours`; it returns SQLITE_MISUSE, and
            // changes nothing, once SQLite has been initialized.
            let rc = unsafe {
                ffi::sqlite3_config(
                    ffi::SQLITE_CONFIG_PCACHE2,
                    &ours as *const ffi::sqlite3_pcache_methods2,
                )
            };
            (rc == ffi::SQLITE_OK).then_some(Methods(default))
        })
        .is_some()
}

/// What the wrapper knows of the page numbers one cache holds, and where it
/// keeps a page numbered as the lock page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Keys {
    /// The lock page's number for this cache's page size.
    lock_page: u32,
    /// No page in the default cache has a number above this one: the
    /// largest number a page was created with or moved to, taken down with
    /// each truncation.
    max_key: u32,
    /// While a page is numbered as the lock page: the number it has in the
    /// default cache, and the page (to see it dropped).
    parked: Option<(u32, usize)>,
}

impl Keys {
    pub(crate) fn new(page_bytes: u32) -> Keys {
        let lock_page =
            u32::try_from(PENDING_BYTE / u64::from(page_bytes.max(1)) + 1).unwrap_or(u32::MAX);
        Keys {
            lock_page,
            max_key: 0,
            parked: None,
        }
    }

    /// The number to ask the default cache for in place of `key`; None when
    /// no page can be there (the lock page, none parked, not to be created).
    pub(crate) fn to_fetch(&self, key: u32, create: bool) -> Option<u32> {
        if key != self.lock_page {
            return Some(key);
        }
        match self.parked {
            Some((at, _)) => Some(at),
            None => create.then(|| self.parking_key()),
        }
    }

    /// The default cache answered a fetch of `key` (asked as `to_fetch`
    /// said) with `page` (0: none).
    pub(crate) fn fetched(&mut self, key: u32, page: usize) {
        if page == 0 {
            return;
        }
        if key == self.lock_page {
            if self.parked.is_none() {
                self.parked = Some((self.parking_key(), page));
            }
        } else {
            self.max_key = self.max_key.max(key);
        }
    }

    /// `page` moves from `old` to `new`: the numbers to move it between in
    /// the default cache.
    pub(crate) fn rekey(&mut self, page: usize, old: u32, new: u32) -> (u32, u32) {
        let from = match self.parked {
            Some((at, _)) if old == self.lock_page => {
                self.parked = None;
                at
            }
            _ => old,
        };
        let to = if new == self.lock_page {
            let at = self.parked.map_or_else(|| self.parking_key(), |(at, _)| at);
            self.parked = Some((at, page));
            at
        } else {
            self.max_key = self.max_key.max(new);
            new
        };
        (from, to)
    }

    /// `page` is let go; with `discard` it leaves the cache.
    pub(crate) fn unpinned(&mut self, page: usize, discard: bool) {
        if discard && matches!(self.parked, Some((_, p)) if p == page) {
            self.parked = None;
        }
    }

    /// Every page numbered `limit` or above leaves the cache.
    pub(crate) fn truncated(&mut self, limit: u32) {
        self.max_key = self.max_key.min(limit.saturating_sub(1));
        if matches!(self.parked, Some((at, _)) if at >= limit) {
            self.parked = None;
        }
    }

    /// Just past every page the cache holds (so free in it), or the lock
    /// page itself where that is lower (a database past 1 GiB).
    fn parking_key(&self) -> u32 {
        self.max_key.saturating_add(1).min(self.lock_page)
    }
}

/// One cache: the default cache's, with its bound.
struct Wrapped {
    inner: *mut ffi::sqlite3_pcache,
    keys: Keys,
}

fn default() -> &'static ffi::sqlite3_pcache_methods2 {
    // Our methods are only ever called once `install` put them in place,
    // which it does only after storing the default's.
    &DEFAULT
        .get()
        .and_then(Option::as_ref)
        .expect("pcache wrapper called before install")
        .0
}

/// SAFETY (every method below): SQLite calls them with a cache `create`
/// returned, from one connection at a time (a cache belongs to one pager),
/// and the default cache's methods keep their own contracts.
unsafe fn wrapped<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Wrapped {
    &mut *(p as *mut Wrapped)
}

unsafe extern "C" fn create(
    page: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let inner = (default().xCreate.expect("checked at install"))(page, extra, purgeable);
    if inner.is_null() {
        return inner;
    }
    let keys = Keys::new(u32::try_from(page).unwrap_or(0));
    Box::into_raw(Box::new(Wrapped { inner, keys })) as *mut ffi::sqlite3_pcache
}

unsafe extern "C" fn cachesize(p: *mut ffi::sqlite3_pcache, n: c_int) {
    if let Some(f) = default().xCachesize {
        f(wrapped(p).inner, n)
    }
}

unsafe extern "C" fn pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    default().xPagecount.map_or(0, |f| f(wrapped(p).inner))
}

unsafe extern "C" fn fetch(
    p: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut ffi::sqlite3_pcache_page {
    let w = wrapped(p);
    let Some(at) = w.keys.to_fetch(key, create != 0) else {
        return std::ptr::null_mut();
    };
    let page = (default().xFetch.expect("checked at install"))(w.inner, at, create);
    w.keys.fetched(key, page as usize);
    page
}

unsafe extern "C" fn unpin(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    discard: c_int,
) {
    let w = wrapped(p);
    w.keys.unpinned(page as usize, discard != 0);
    if let Some(f) = default().xUnpin {
        f(w.inner, page, discard)
    }
}

unsafe extern "C" fn rekey(
    p: *mut ffi::sqlite3_pcache,
    page: *mut ffi::sqlite3_pcache_page,
    old: c_uint,
    new: c_uint,
) {
    let w = wrapped(p);
    let (from, to) = w.keys.rekey(page as usize, old, new);
    if to != new {
        PARKED.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(f) = default().xRekey {
        f(w.inner, page, from, to)
    }
}

unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let w = wrapped(p);
    w.keys.truncated(limit);
    if let Some(f) = default().xTruncate {
        f(w.inner, limit)
    }
}

unsafe extern "C" fn destroy(p: *mut ffi::sqlite3_pcache) {
    let w = Box::from_raw(p as *mut Wrapped);
    if let Some(f) = default().xDestroy {
        f(w.inner)
    }
}

unsafe extern "C" fn shrink(p: *mut ffi::sqlite3_pcache) {
    if let Some(f) = default().xShrink {
        f(wrapped(p).inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // fact: the lock page's number with 4 KiB pages (2^30 / 2^12 + 1).
    const LOCK_4K: u32 = 262_145;

    #[test]
    fn a_swap_through_the_lock_page_parks_the_page_just_past_the_largest() {
        let mut k = Keys::new(4096);
        for (key, page) in [(1, 0x10), (50, 0x20), (83_000, 0x30), (83_001, 0x40)] {
            assert_eq!(k.to_fetch(key, true), Some(key));
            k.fetched(key, page);
        }
        // balance_nonroot's swap of pages 83,001 and 50.
        assert_eq!(k.rekey(0x40, 83_001, LOCK_4K), (83_001, 83_002));
        assert_eq!(
            k.to_fetch(LOCK_4K, false),
            Some(83_002),
            "asked for where it is parked"
        );
        assert_eq!(k.rekey(0x20, 50, 83_001), (50, 83_001));
        assert_eq!(k.rekey(0x40, LOCK_4K, 50), (83_002, 50));
        assert_eq!(
            k.to_fetch(LOCK_4K, false),
            None,
            "nothing is parked any more"
        );
        assert_eq!(k.max_key, 83_001);
        // A commit's truncation takes the bound down; the next park is just past it.
        k.truncated(80_001);
        assert_eq!(k.rekey(0x20, 7, LOCK_4K), (7, 80_001));
        // A truncation below the parked page drops it.
        k.truncated(70_000);
        assert_eq!(k.parked, None);
    }

    #[test]
    fn a_lock_page_created_and_dropped_is_parked_until_it_is_dropped() {
        let mut k = Keys::new(4096);
        k.fetched(10, 0x10);
        // getPageNormal creates the lock page, finds it is the lock page
        // (a corrupt file) and drops it.
        assert_eq!(k.to_fetch(LOCK_4K, true), Some(11));
        k.fetched(LOCK_4K, 0x50);
        assert_eq!(k.to_fetch(LOCK_4K, false), Some(11));
        k.unpinned(0x50, false);
        assert_eq!(
            k.to_fetch(LOCK_4K, false),
            Some(11),
            "let go but still cached"
        );
        k.unpinned(0x50, true);
        assert_eq!(k.to_fetch(LOCK_4K, false), None);
        // Past 1 GiB the lock page lies below the largest page: used as it is.
        k.fetched(300_000, 0x60);
        assert_eq!(k.to_fetch(LOCK_4K, true), Some(LOCK_4K));
    }

    /// SQLite itself, on the wrapped cache: a table and index filled in an
    /// order that makes splits swap page numbers, with pages freed and
    /// reused, inside transactions that commit and roll back; the file must
    /// stay intact and hold exactly what was committed.
    #[test]
    fn sqlite_on_the_wrapped_cache_keeps_exactly_what_was_committed() {
        assert!(
            install(),
            "installed before this test binary's first connection"
        );
        let dir = std::env::temp_dir().join(format!("holdfast-pcache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let parked_before = parked();
        let c = rusqlite::Connection::open(dir.join("t.db")).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA cache_size = -64; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB); CREATE INDEX t_v ON t (v);")
            .unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut committed = std::collections::BTreeSet::new();
        for round in 0..60 {
            c.execute_batch("BEGIN").unwrap();
            let mut keys = Vec::new();
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = (x % 1_000_000) as i64;
                c.execute(
                    "INSERT OR REPLACE INTO t (k, v) VALUES (?1, randomblob(300))",
                    [k],
                )
                .unwrap();
                keys.push(k);
            }
            // Free pages for later splits to reuse.
            c.execute("DELETE FROM t WHERE k % 7 = ?1", [round % 7])
                .unwrap();
            if round % 5 == 4 {
                c.execute_batch("ROLLBACK").unwrap();
            } else {
                c.execute_batch("COMMIT").unwrap();
                committed.extend(keys);
                committed.retain(|k| k % 7 != round % 7);
            }
        }
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let mut stmt = c.prepare("SELECT k FROM t ORDER BY k").unwrap();
        let stored: std::collections::BTreeSet<i64> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(stored, committed);
        assert!(
            parked() > parked_before,
            "some split swapped pages through the lock page"
        );
        drop(stmt);
        drop(c);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
