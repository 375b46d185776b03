//! A bounded table of values kept by id, each good for one version of the
//! row it was made from (issue 10, the read side): a status' mentions, tags
//! and media by its `edited_at` (`core/status_parts.rs`), a rendered status
//! or account by its row `version` (migration 0024, `holdfast-api`
//! `rendered`).
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::model::Id;
use crate::CacheCounts;

struct Entry<T, V> {
    version: T,
    value: V,
}

struct Generations<T, V> {
    young: HashMap<Id, Entry<T, V>>,
    old: HashMap<Id, Entry<T, V>>,
}

/// Values `V` by id, each for one version `T` of its row.
pub struct Versioned<T, V> {
    table: Mutex<Generations<T, V>>,
    /// Entries in both generations together, at most.
    max: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<T: PartialEq, V: Clone> Versioned<T, V> {
    /// At most `max` entries; 0 keeps nothing.
    pub fn new(max: usize) -> Versioned<T, V> {
        Versioned {
            table: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
            }),
            max,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The value kept for `id` at `version`, if any.
    pub fn get(&self, id: Id, version: &T) -> Option<V> {
        if self.max == 0 {
            return None;
        }
        let mut t = self.lock();
        let found = match t.young.get(&id) {
            Some(e) if e.version == *version => Some(e.value.clone()),
            Some(_) => None,
            None => match t.old.remove(&id) {
                Some(e) if e.version == *version => {
                    let value = e.value.clone();
                    self.insert(&mut t, id, e);
                    Some(value)
                }
                _ => None,
            },
        };
        drop(t);
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value`, made from the row of `id` at `version`.
    pub fn put(&self, id: Id, version: T, value: V) {
        if self.max == 0 {
            return;
        }
        let mut t = self.lock();
        t.old.remove(&id);
        self.insert(&mut t, id, Entry { version, value });
    }

    /// The row of `id` changed or went here: its entry goes at once.
    pub fn forget(&self, id: Id) {
        let mut t = self.lock();
        t.young.remove(&id);
        t.old.remove(&id);
    }

    pub fn counts(&self) -> CacheCounts {
        let t = self.lock();
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: t.young.len() + t.old.len(),
        }
    }

    fn insert(&self, t: &mut Generations<T, V>, id: Id, entry: Entry<T, V>) {
        // Each generation holds at most half the bound (at least one entry).
        let half = (self.max / 2).max(1);
        if t.young.len() >= half && !t.young.contains_key(&id) {
            t.old = std::mem::take(&mut t.young);
        }
        t.young.insert(id, entry);
    }

    fn lock(&self) -> MutexGuard<'_, Generations<T, V>> {
        // Inserts and removals are whole: a panic elsewhere leaves a valid table.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
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
        cache.forget(1);
        assert_eq!(cache.get(1, &1), None);
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses), (2, 2));
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
}
