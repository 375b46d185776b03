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
//! That a swap asks for nothing else is a fact of SQLite 3.50's code, not of
//! the pcache2 contract, so the wrapper does not rely on it: before a parked
//! page could be mistaken for another (its parking number asked for or
//! moved onto, a truncation that must drop it, or the page let go without
//! being discarded, after which the default cache may recycle it unseen)
//! it is moved back to the lock page's own number, where the default cache
//! keeps it exactly (only the saving is lost, until a truncation drops it).
//! The tests drive the wrapper with such calls against the real default
//! cache.
//!
//! It is installed for the whole process before SQLite is first initialized
//! (`sqlite3_config` refuses afterwards); if something initialized SQLite
//! first, the default cache stays and only this saving is lost.

use std::os::raw::{c_int, c_uint};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use rusqlite::ffi;

/// fact: SQLite's default `PENDING_BYTE`, the first byte of the lock page
/// (fileformat2.html, "The Lock-Byte Page"). `sqlite3_test_control` can move
/// it at run time; nothing in this process does, and if something did, a
/// real page would only be parked and moved back (exact, no saving).
const PENDING_BYTE: u64 = 0x4000_0000;

/// The default cache's methods, stored before ours are registered, so any
/// call of ours finds them.
static DEFAULT: OnceLock<Methods> = OnceLock::new();
/// Whether ours are registered (decided once, by the first `install`).
static INSTALLED: OnceLock<bool> = OnceLock::new();

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

/// Parked pages moved back to the lock page's number (for the tests: SQLite
/// 3.50 never needs it, so the saving holds).
static MOVED_BACK: AtomicU64 = AtomicU64::new(0);

/// Installs the wrapper for the process, once; true if it is in place.
/// Called before any connection is opened (`Sqlite::open`, the bulk seed):
/// `sqlite3_config` is not thread-safe, and concurrent callers of `install`
/// wait for the first.
pub(crate) fn install() -> bool {
    *INSTALLED.get_or_init(|| {
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
        // cache's, set up on demand) into `default`. Once SQLite is
        // initialized it returns SQLITE_MISUSE and writes nothing
        // (checked below); no other thread uses SQLite yet (see above).
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_GETPCACHE2,
                &mut default as *mut ffi::sqlite3_pcache_methods2,
            )
        };
        if rc != ffi::SQLITE_OK || default.iVersion < 1 || default.xCreate.is_none() {
            return false;
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
        if DEFAULT.set(Methods(default)).is_err() {
            return false;
        }
        // SAFETY: PCACHE2 copies `ours`; it returns SQLITE_MISUSE, and
        // changes nothing, once SQLite has been initialized.
        let rc = unsafe {
            ffi::sqlite3_config(
                ffi::SQLITE_CONFIG_PCACHE2,
                &ours as *const ffi::sqlite3_pcache_methods2,
            )
        };
        rc == ffi::SQLITE_OK
    })
}

/// What the wrapper knows of the page numbers one cache holds, and where it
/// keeps a page numbered as the lock page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Keys {
    /// The lock page's number for this cache's page size.
    lock_page: u32,
    /// No page in the default cache has a number above this one, but for a
    /// parked page and one at the lock page's own number: the largest number
    /// a page was created with or moved to, taken down with each truncation.
    max_key: u32,
    /// While a page is numbered as the lock page and kept elsewhere: the
    /// number it has in the default cache (never the lock page's), and the
    /// page. A parked page is always pinned (`unpinned` moves it back first).
    parked: Option<(u32, usize)>,
    /// The default cache may hold a page under the lock page's own number (a
    /// page moved back there, or the lock page of a database past 1 GiB): it
    /// is then asked for as it is. Cleared by a truncation that drops it.
    at_lock_page: bool,
}

/// A parked page to move back to the lock page's own number in the default
/// cache before the call at hand goes on: the contract lets SQLite ask for
/// the number it is parked under (a real page) or let it go without
/// discarding it (the default cache may then recycle it), and SQLite 3.50
/// does neither, so this costs nothing in practice; it keeps the wrapper
/// exact whatever SQLite does (the saving is then lost until a truncation).
#[derive(Debug, PartialEq)]
pub(crate) struct MoveBack {
    page: usize,
    from: u32,
    to: u32,
}

impl Keys {
    pub(crate) fn new(page_bytes: u32) -> Keys {
        let lock_page =
            u32::try_from(PENDING_BYTE / u64::from(page_bytes.max(1)) + 1).unwrap_or(u32::MAX);
        Keys {
            lock_page,
            max_key: 0,
            parked: None,
            at_lock_page: false,
        }
    }

    /// Before a fetch of `key`: a parked page to move back first, and the
    /// number to ask the default cache for (None: no page can be there, the
    /// lock page with none parked, not to be created).
    pub(crate) fn fetch(&mut self, key: u32, create: bool) -> (Option<MoveBack>, Option<u32>) {
        if key != self.lock_page {
            let back = match self.parked {
                Some((at, _)) if at == key => self.move_back(),
                _ => None,
            };
            return (back, Some(key));
        }
        let at = match self.parked {
            Some((at, _)) => Some(at),
            None if self.at_lock_page => Some(key),
            None => create.then(|| self.parking_key()),
        };
        (None, at)
    }

    /// The default cache answered a fetch of `key` (asked as `fetch` said)
    /// with `page` (0: none).
    pub(crate) fn fetched(&mut self, key: u32, page: usize) {
        if page == 0 {
            return;
        }
        if key != self.lock_page {
            self.max_key = self.max_key.max(key);
        } else if self.parked.is_none() && !self.at_lock_page {
            self.park(page);
        }
    }

    /// `page` moves from `old` to `new`: a parked page to move back first,
    /// and the numbers to move `page` between in the default cache.
    pub(crate) fn rekey(
        &mut self,
        page: usize,
        old: u32,
        new: u32,
    ) -> (Option<MoveBack>, u32, u32) {
        let mut back = None;
        let from = if old != self.lock_page {
            old
        } else if let Some((at, _)) = self.parked.take() {
            at
        } else {
            self.at_lock_page = false;
            old
        };
        let to = if new != self.lock_page {
            if matches!(self.parked, Some((at, _)) if at == new) {
                back = self.move_back();
            }
            self.max_key = self.max_key.max(new);
            new
        } else {
            // SQLite drops what had the number first (`sqlite3PcacheMove`),
            // so nothing is parked now.
            debug_assert!(self.parked.is_none());
            if self.at_lock_page {
                new
            } else {
                self.park(page)
            }
        };
        (back, from, to)
    }

    /// `page` is let go; with `discard` it leaves the cache. A parked page
    /// let go and kept is moved back first: the default cache may recycle
    /// an unpinned page without telling us.
    pub(crate) fn unpinned(&mut self, page: usize, discard: bool) -> Option<MoveBack> {
        if !matches!(self.parked, Some((_, p)) if p == page) {
            return None;
        }
        if discard {
            self.parked = None;
            return None;
        }
        self.move_back()
    }

    /// Every page numbered `limit` or above leaves the cache: a parked page
    /// below `limit` whose real number (the lock page's) is not must be
    /// moved back first, so it goes too.
    pub(crate) fn truncated(&mut self, limit: u32) -> Option<MoveBack> {
        self.max_key = self.max_key.min(limit.saturating_sub(1));
        if self.lock_page < limit {
            return None;
        }
        self.at_lock_page = false;
        match self.parked {
            Some((at, _)) if at < limit => {
                let back = self.move_back();
                self.at_lock_page = false;
                back
            }
            Some(_) => {
                self.parked = None;
                None
            }
            None => None,
        }
    }

    /// Parks `page` (numbered as the lock page) and says where: just past
    /// every page the cache holds (so free in it), or the lock page itself
    /// where that is lower (a database past 1 GiB).
    fn park(&mut self, page: usize) -> u32 {
        let at = self.parking_key();
        if at == self.lock_page {
            self.at_lock_page = true;
        } else {
            self.parked = Some((at, page));
        }
        at
    }

    fn parking_key(&self) -> u32 {
        self.max_key.saturating_add(1).min(self.lock_page)
    }

    fn move_back(&mut self) -> Option<MoveBack> {
        let (at, page) = self.parked.take()?;
        self.at_lock_page = true;
        Some(MoveBack {
            page,
            from: at,
            to: self.lock_page,
        })
    }
}

/// One cache: the default cache's, with its bound.
struct Wrapped {
    inner: *mut ffi::sqlite3_pcache,
    keys: Keys,
}

fn default() -> &'static ffi::sqlite3_pcache_methods2 {
    // Our methods are registered only after the default's are stored.
    &DEFAULT
        .get()
        .expect("pcache wrapper called before install")
        .0
}

/// SAFETY (every method below): SQLite calls them with a cache `create`
/// returned, one call at a time per cache: a cache belongs to one pager,
/// whose calls SQLite serializes (the connection's mutex, or the shared
/// b-tree's; with rusqlite's `NO_MUTEX`, `Connection` is not `Sync`). The
/// default cache's recycling across caches does not go through us, so a
/// `Wrapped` is never reached twice at once. The default cache's methods
/// keep their own contracts.
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
    let (back, at) = w.keys.fetch(key, create != 0);
    move_back(w, back);
    let Some(at) = at else {
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
    let back = w.keys.unpinned(page as usize, discard != 0);
    move_back(w, back);
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
    let (back, from, to) = w.keys.rekey(page as usize, old, new);
    move_back(w, back);
    if to != new {
        PARKED.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(f) = default().xRekey {
        f(w.inner, page, from, to)
    }
}

unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let w = wrapped(p);
    let back = w.keys.truncated(limit);
    move_back(w, back);
    if let Some(f) = default().xTruncate {
        f(w.inner, limit)
    }
}

/// Moves a parked page back to the lock page's own number (`MoveBack`): a
/// pinned page, moved to a number nothing else has.
unsafe fn move_back(w: &mut Wrapped, back: Option<MoveBack>) {
    if let (Some(back), Some(f)) = (back, default().xRekey) {
        MOVED_BACK.fetch_add(1, Ordering::Relaxed);
        f(
            w.inner,
            back.page as *mut ffi::sqlite3_pcache_page,
            back.from,
            back.to,
        )
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

    /// The tests that count parks and moves back run one at a time.
    static COUNTED: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn a_swap_through_the_lock_page_parks_the_page_just_past_the_largest() {
        let mut k = Keys::new(4096);
        for (key, page) in [(1, 0x10), (50, 0x20), (83_000, 0x30), (83_001, 0x40)] {
            assert_eq!(k.fetch(key, true), (None, Some(key)));
            k.fetched(key, page);
        }
        // balance_nonroot's swap of pages 83,001 and 50.
        assert_eq!(k.rekey(0x40, 83_001, LOCK_4K), (None, 83_001, 83_002));
        assert_eq!(
            k.fetch(LOCK_4K, false),
            (None, Some(83_002)),
            "asked for where it is parked"
        );
        assert_eq!(k.rekey(0x20, 50, 83_001), (None, 50, 83_001));
        assert_eq!(k.rekey(0x40, LOCK_4K, 50), (None, 83_002, 50));
        assert_eq!(
            k.fetch(LOCK_4K, false),
            (None, None),
            "nothing is parked any more"
        );
        assert_eq!(k.max_key, 83_001);
        // A commit's truncation takes the bound down; the next park is just past it.
        assert_eq!(k.truncated(80_001), None);
        assert_eq!(k.rekey(0x20, 7, LOCK_4K), (None, 7, 80_001));
        // A truncation below the parked page drops it.
        assert_eq!(k.truncated(70_000), None);
        assert_eq!(k.parked, None);
    }

    #[test]
    fn a_lock_page_created_and_dropped_is_parked_until_it_is_dropped() {
        let mut k = Keys::new(4096);
        k.fetched(10, 0x10);
        // getPageNormal creates the lock page, finds it is the lock page
        // (a corrupt file) and drops it.
        assert_eq!(k.fetch(LOCK_4K, true), (None, Some(11)));
        k.fetched(LOCK_4K, 0x50);
        assert_eq!(k.fetch(LOCK_4K, false), (None, Some(11)));
        assert_eq!(k.unpinned(0x50, true), None);
        assert_eq!(k.fetch(LOCK_4K, false), (None, None));
        // Past 1 GiB the lock page lies below the largest page: used as it is.
        k.fetched(300_000, 0x60);
        assert_eq!(k.fetch(LOCK_4K, true), (None, Some(LOCK_4K)));
    }

    #[test]
    fn a_parked_page_goes_back_to_its_own_number_before_anything_could_mistake_it() {
        let back = |page, from| {
            Some(MoveBack {
                page,
                from,
                to: LOCK_4K,
            })
        };
        let mut k = Keys::new(4096);
        k.fetched(10, 0x10);
        assert_eq!(k.rekey(0x10, 10, LOCK_4K), (None, 10, 11));
        // The real page 11 is asked for: the parked one moves back first.
        assert_eq!(k.fetch(11, true), (back(0x10, 11), Some(11)));
        k.fetched(11, 0x11);
        assert_eq!(
            k.fetch(LOCK_4K, false),
            (None, Some(LOCK_4K)),
            "asked for as it is now"
        );
        // A truncation that drops the lock page's number forgets it.
        assert_eq!(k.truncated(20), None);
        assert_eq!(k.fetch(LOCK_4K, false), (None, None));
        // Let go and kept (the default cache may recycle it): moved back first.
        assert_eq!(k.fetch(LOCK_4K, true), (None, Some(12)));
        k.fetched(LOCK_4K, 0x20);
        assert_eq!(k.unpinned(0x20, false), back(0x20, 12));
        assert_eq!(k.truncated(20), None);
        // Parked below a truncation that drops the lock page: moved back, so it goes too.
        assert_eq!(k.fetch(LOCK_4K, true), (None, Some(12)));
        k.fetched(LOCK_4K, 0x30);
        assert_eq!(k.truncated(13), back(0x30, 12));
        assert_eq!(k.fetch(LOCK_4K, false), (None, None));
        // A page moved onto the parking number: the parked one moves back first.
        assert_eq!(k.rekey(0x40, 5, LOCK_4K), (None, 5, 12));
        assert_eq!(k.rekey(0x11, 11, 12), (back(0x40, 12), 11, 12));
    }

    /// The wrapper driven as a pager may drive it under the pcache2
    /// contract, against the real default cache, and checked after every
    /// call: each number gives its own page or none, and no page answers to
    /// two numbers. Beside what SQLite 3.50 does (swaps through the lock page
    /// with `sqlite3PcacheMove`'s probe-and-drop, the lock page created and
    /// dropped), calls it does not make but the contract allows: a real page
    /// asked for at the number a page is parked under, the parked page let
    /// go without discard, truncations below and above it. The cache is
    /// small enough that the default cache recycles pages.
    #[test]
    fn the_wrapped_cache_never_answers_a_number_with_another_numbers_page() {
        use std::collections::HashMap;
        let _counted = COUNTED.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            install(),
            "installed before this test binary's first connection"
        );
        // SAFETY: every call below is one the pcache2 contract allows, on a
        // cache this test alone uses.
        unsafe {
            assert_eq!(ffi::sqlite3_initialize(), ffi::SQLITE_OK);
            let cache = create(4096, 16, 1);
            assert!(!cache.is_null());
            cachesize(cache, 6);
            let lock = wrapped(cache).keys.lock_page;
            // What each number holds as far as the test knows: the page, and
            // whether it is pinned (an unpinned page may be recycled).
            let mut held: HashMap<u32, (usize, bool)> = HashMap::new();
            let mut x: u64 = 0x2545_f491_4f6c_dd1d;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            let probe_and_drop = |held: &mut HashMap<u32, (usize, bool)>, key: u32| {
                let other = fetch(cache, key, 0);
                if !other.is_null() {
                    unpin(cache, other, 1);
                    held.remove(&key);
                }
            };
            let mut parked_steps = 0;
            for step in 0..20_000u32 {
                match next() % 8 {
                    0 | 1 => {
                        let key = 1 + (next() % 24) as u32;
                        let page = fetch(cache, key, 2);
                        assert!(!page.is_null());
                        held.insert(key, (page as usize, true));
                    }
                    2 => {
                        let pinned: Vec<u32> =
                            held.iter().filter(|(_, h)| h.1).map(|(k, _)| *k).collect();
                        if let Some(&key) = pinned.get((next() % 8) as usize) {
                            let discard = next() % 2 == 0;
                            unpin(cache, held[&key].0 as *mut _, i32::from(discard));
                            if discard {
                                held.remove(&key);
                            } else {
                                held.get_mut(&key).unwrap().1 = false;
                            }
                        }
                    }
                    3 => {
                        // balance_nonroot's swap of two pinned pages through the lock page.
                        let pinned: Vec<u32> = held
                            .iter()
                            .filter(|(k, h)| h.1 && **k != lock)
                            .map(|(k, _)| *k)
                            .collect();
                        if pinned.len() >= 2 {
                            let (a, b) = (pinned[0], pinned[1]);
                            let (pa, pb) = (held[&a].0, held[&b].0);
                            for (page, old, new) in [(pa, a, lock), (pb, b, a), (pa, lock, b)] {
                                probe_and_drop(&mut held, new);
                                rekey(cache, page as *mut _, old, new);
                                held.remove(&old);
                                held.insert(new, (page, true));
                            }
                        }
                    }
                    4 => {
                        // The lock page created (a corrupt file's), then dropped, let go or kept.
                        let page = fetch(cache, lock, 2);
                        assert!(!page.is_null());
                        held.insert(lock, (page as usize, true));
                        match next() % 3 {
                            0 => {
                                unpin(cache, page, 1);
                                held.remove(&lock);
                            }
                            1 => {
                                unpin(cache, page, 0);
                                held.get_mut(&lock).unwrap().1 = false;
                            }
                            _ => {}
                        }
                    }
                    5 => {
                        // A real page at the number a page is parked under.
                        if let Some((at, _)) = wrapped(cache).keys.parked {
                            probe_and_drop(&mut held, at);
                            let page = fetch(cache, at, 2);
                            assert!(!page.is_null());
                            held.insert(at, (page as usize, true));
                        }
                    }
                    _ => {
                        let limit = match next() % 4 {
                            0 => lock,
                            1 => lock + 1,
                            _ => 1 + (next() % 26) as u32,
                        };
                        truncate(cache, limit);
                        held.retain(|&k, _| k < limit);
                    }
                }
                parked_steps += u32::from(wrapped(cache).keys.parked.is_some());
                // Every number the test could have used: its own page or none
                // (asking for the parking number moves a parked page back).
                let mut answered: HashMap<usize, u32> = HashMap::new();
                for key in (1..=40).chain([lock]) {
                    let page = fetch(cache, key, 0);
                    match held.get(&key).copied() {
                        Some((want, pinned)) => {
                            if page.is_null() {
                                assert!(!pinned, "step {step}: pinned page {key} is gone");
                                held.remove(&key);
                                continue;
                            }
                            assert_eq!(
                                page as usize, want,
                                "step {step}: number {key} gave another page"
                            );
                            if !pinned {
                                unpin(cache, page, 0);
                            }
                        }
                        None => {
                            assert!(
                                page.is_null(),
                                "step {step}: number {key} gave a page it never had"
                            );
                            continue;
                        }
                    }
                    if let Some(other) = answered.insert(page as usize, key) {
                        panic!("step {step}: one page answers to {other} and {key}");
                    }
                }
            }
            destroy(cache);
            assert!(
                parked_steps > 200,
                "a page was parked after {parked_steps} steps only"
            );
        }
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
        let _counted = COUNTED.lock().unwrap_or_else(|p| p.into_inner());
        let parked_before = parked();
        let moved_back_before = MOVED_BACK.load(Ordering::Relaxed);
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
        assert_eq!(
            MOVED_BACK.load(Ordering::Relaxed),
            moved_back_before,
            "SQLite never made the wrapper move a parked page back (the saving holds)"
        );
        drop(stmt);
        drop(c);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
