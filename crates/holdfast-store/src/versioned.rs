//! Bounded tables kept in two generations ([`Generations`]), and the one
//! most of them are: values kept by id, each good for one version of the
//! row it was made from ([`Versioned`], issue 10, the read side): a status'
//! mentions, tags and media by its `edited_at` (`core/status_parts.rs`), a
//! rendered status or account by its row `version` (migration 0024,
//! `holdfast-api` `rendered`), a proved bearer token by the auth epoch
//! (migration 0026, `holdfast-service` `token_cache`).
//!
//! Exact without any invalidation message: a reader always has the row's
//! current version from its own read, and an entry is used only while that
//! version is the one it was made with. A row that changes gets a new
//! version (on every node, as soon as they read the new row); a deleted row
//! is never read again, so its entry is never used again.
//!
//! Bounded by `max` entries in two generations: lookups go to the young one
//! (a hit in the old one moves there); when the young one holds half the
//! bound, it becomes the old one and the old one goes. So the recently used
//! stay, memory never passes the bound, and nothing on the read path scans
//! the table.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::model::Id;
use crate::CacheCounts;

/// A map hashed with foldhash (seeded per map) rather than SipHash: the kept
/// tables and a home page's maps are keyed by ids the server made, and a
/// page does ~180 lookups in them, where SipHash cost ~13 % of a home
/// request's instructions (bench/perf, session 14).
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// A map of at most `max` entries in two generations (see the module's
/// comment): inserting never scans, and what was used lately stays. Not
/// locked: callers keep it behind their own lock.
pub struct Generations<K, V> {
    young: FastMap<K, V>,
    old: FastMap<K, V>,
    /// Entries per generation, at most (half the bound, at least one).
    half: usize,
}

impl<K: Hash + Eq, V> Generations<K, V> {
    /// At most `max` entries in all (callers treat 0 as "keep nothing").
    pub fn new(max: usize) -> Generations<K, V> {
        Generations {
            young: FastMap::default(),
            old: FastMap::default(),
            half: (max / 2).max(1),
        }
    }

    /// The entry of `key`, moved to the young generation if it was old.
    pub fn get<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        if !self.young.contains_key(key) {
            let (key, value) = self.old.remove_entry(key)?;
            self.insert(key, value);
        }
        self.young.get_mut(key)
    }

    /// Keeps `value` for `key` (in the young generation), replacing any.
    pub fn insert(&mut self, key: K, value: V) {
        self.old.remove(&key);
        if self.young.len() >= self.half && !self.young.contains_key(&key) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, value);
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let young = self.young.remove(key);
        let old = self.old.remove(key);
        young.or(old)
    }

    /// Keeps only the entries `keep` says yes to (it may change them).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.young.retain(&mut keep);
        self.old.retain(&mut keep);
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.young.values().chain(self.old.values())
    }

    pub fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
    }
}

struct Entry<T, V> {
    version: T,
    value: V,
}

/// Values `V` by key `K` (a row's id unless said otherwise), each for one
/// version `T` of what it was made from. Locked, counted, and 0 keeps nothing.
pub struct Versioned<T, V, K = Id> {
    table: Mutex<Generations<K, Entry<T, V>>>,
    /// Entries in both generations together, at most.
    max: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<T: PartialEq, V: Clone, K: Hash + Eq> Versioned<T, V, K> {
    /// At most `max` entries; 0 keeps nothing.
    pub fn new(max: usize) -> Versioned<T, V, K> {
        Versioned {
            table: Mutex::new(Generations::new(max)),
            max,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The value kept for `key` at `version`, if any (one lock, nothing
    /// allocated).
    pub fn get(&self, key: K, version: &T) -> Option<V> {
        self.locked().get(&key, version)
    }

    /// The values kept for each `(key, version)`, in order (None where there
    /// is none), under one lock: a home page asks for a few dozen at once.
    pub fn get_each(&self, wanted: impl IntoIterator<Item = (K, T)>) -> Vec<Option<V>> {
        let mut table = self.locked();
        wanted
            .into_iter()
            .map(|(key, version)| table.get(&key, &version))
            .collect()
    }

    /// The table locked for several lookups (a page's), counted once when
    /// it is let go: one lock and two counter updates, not one per lookup
    /// (bench/perf, session 13).
    pub fn locked(&self) -> Locked<'_, T, V, K> {
        Locked {
            table: (self.max > 0).then(|| self.lock()),
            owner: self,
            hits: 0,
            asked: 0,
        }
    }

    /// Keeps each value, made from what its key names at `version`, under one lock.
    pub fn put_each(&self, entries: impl IntoIterator<Item = (K, V)>, version: T)
    where
        T: Clone,
    {
        self.put_all(
            entries
                .into_iter()
                .map(|(key, value)| (key, version.clone(), value)),
        );
    }

    /// Keeps each value, made from what its key names at the version beside
    /// it, under one lock.
    pub fn put_all(&self, entries: impl IntoIterator<Item = (K, T, V)>) {
        if self.max == 0 {
            return;
        }
        let mut table = self.lock();
        for (key, version, value) in entries {
            table.insert(key, Entry { version, value });
        }
    }

    /// Keeps `value`, made from what `key` names at `version`.
    pub fn put(&self, key: K, version: T, value: V) {
        if self.max == 0 {
            return;
        }
        self.lock().insert(key, Entry { version, value });
    }

    /// What `key` names changed or went: its entry goes at once.
    pub fn forget(&self, key: &K) {
        self.lock().remove(key);
    }

    pub fn counts(&self) -> CacheCounts {
        let entries = self.lock().len();
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Generations<K, Entry<T, V>>> {
        // Inserts and removals are whole: a panic elsewhere leaves a valid table.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// [`Versioned`] locked for a few lookups ([`Versioned::locked`]); counts
/// its hits and misses when dropped. Hold it only around lookups: every
/// other reader of the table waits for it.
pub struct Locked<'a, T, V, K> {
    /// None when the table keeps nothing (`max` 0).
    table: Option<MutexGuard<'a, Generations<K, Entry<T, V>>>>,
    owner: &'a Versioned<T, V, K>,
    hits: u64,
    asked: u64,
}

impl<T: PartialEq, V: Clone, K: Hash + Eq> Locked<'_, T, V, K> {
    /// The value kept for `key` at `version`: an entry is used only at the
    /// version it was made with (the one rule of the table).
    pub fn get(&mut self, key: &K, version: &T) -> Option<V> {
        let table = self.table.as_mut()?;
        self.asked += 1;
        let found = match table.get(key) {
            Some(e) if e.version == *version => Some(e.value.clone()),
            _ => None,
        };
        self.hits += found.is_some() as u64;
        found
    }
}

impl<T, V, K> Drop for Locked<'_, T, V, K> {
    fn drop(&mut self) {
        // The lock goes first: counting needs none.
        self.table = None;
        if self.hits > 0 {
            self.owner.hits.fetch_add(self.hits, Ordering::Relaxed);
        }
        if self.asked > self.hits {
            self.owner
                .misses
                .fetch_add(self.asked - self.hits, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_only_at_the_version_it_was_made_with() {
        let cache: Versioned<i64, u32> = Versioned::new(10);
        cache.put(1, 0, 7);
        assert_eq!(cache.get(1, &0), Some(7));
        // Changed since (another node, or a row read after the change): a miss.
        assert_eq!(cache.get(1, &1), None);
        cache.put(1, 1, 8);
        assert_eq!(cache.get(1, &1), Some(8));
        cache.forget(&1);
        assert_eq!(cache.get(1, &1), None);
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses), (2, 2));
        // Many at once: the same rule, counted the same.
        cache.put_each([(1, 10), (2, 20)], 3);
        assert_eq!(
            cache.get_each([(1, 3), (2, 3), (3, 3)]),
            vec![Some(10), Some(20), None]
        );
        assert_eq!(cache.get_each([(1, 4)]), vec![None], "another version");
        // Each key at its own version (a page's statuses): the same rule.
        assert_eq!(cache.get_each([(2, 3), (1, 2)]), vec![Some(20), None]);
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses), (5, 5));
    }

    #[test]
    fn never_holds_more_than_the_bound_and_keeps_the_recently_used() {
        let cache: Versioned<i64, i64> = Versioned::new(4);
        for id in 0..100 {
            cache.put(id, 0, id);
            // Entry 0 is read all the time: it stays.
            assert!(cache.get(0, &0).is_some(), "lost the hot entry at {id}");
            assert!(cache.counts().entries <= 4);
        }
        assert!(cache.get(1, &0).is_none(), "a cold entry went");
    }

    #[test]
    fn zero_disables_it() {
        let cache: Versioned<i64, i64> = Versioned::new(0);
        cache.put(1, 0, 1);
        assert!(cache.get(1, &0).is_none());
        assert_eq!(cache.counts().entries, 0);
    }

    #[test]
    fn generations_keep_what_is_used_drop_what_is_not_and_never_scan() {
        let mut g: Generations<&str, u32> = Generations::new(4);
        g.insert("a", 1);
        g.insert("b", 2);
        // The young generation is full: a and b become the old one.
        g.insert("c", 3);
        // a is used: back to the young generation (c, a), b stays old.
        assert_eq!(g.get(&"a").copied(), Some(1));
        // Full again: (c, a) become old, b goes.
        g.insert("d", 4);
        assert!(g.get(&"b").is_none());
        assert_eq!(g.get(&"a").copied(), Some(1));
        assert!(g.len() <= 4);
        g.retain(|_, v| *v != 1);
        assert!(g.get(&"a").is_none());
        assert_eq!(g.remove(&"d"), Some(4));
        g.clear();
        assert!(g.is_empty());
    }
}
