//! The parts of a status that only an edit changes (whom it mentions, its
//! tags, its attachments), kept by status id so that a page of statuses does
//! not read them again on every request (issue 10, the read side).
//!
//! Exact without any invalidation message: every page still reads its
//! statuses' rows (counts, text, flags move all the time), and an entry is
//! used only while the row's `edited_at` is the one it was read with. An
//! edit (the only way these parts change after posting, attachments'
//! descriptions included) sets `edited_at`, so every node sees the new
//! parts as soon as it sees the new row; a deleted status has no row, so its
//! entry is never used again. An edit on this node also drops the entry at
//! once (`forget`), so not even two edits within one millisecond can leave
//! a stale copy here.
//!
//! Bounded by `status_parts_cache_max` entries in two generations: lookups
//! go to the young one (a hit in the old one moves there); when the young
//! one holds half the bound, it becomes the old one and the old one goes.
//! So the recently used stay, memory never passes the bound, and nothing on
//! the read path scans the table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::{Id, MediaRow, TagRef};
use crate::CacheCounts;

/// What a status carries besides its row and its accounts.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// Accounts mentioned, by id (their rows are read with the page's authors).
    pub mentions: Vec<Id>,
    pub tags: Vec<TagRef>,
    /// Attachments in the author's order.
    pub media: Vec<MediaRow>,
}

struct Entry {
    edited_at: Option<i64>,
    parts: Arc<Parts>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<Id, Entry>,
    old: HashMap<Id, Entry>,
}

pub struct StatusParts {
    table: Mutex<Generations>,
    /// Entries in both generations together, at most.
    max: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl StatusParts {
    pub fn new(max: usize) -> StatusParts {
        StatusParts {
            table: Mutex::new(Generations::default()),
            max,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The parts of status `id` as of the row's `edited_at`, if kept.
    pub fn get(&self, id: Id, edited_at: Option<i64>) -> Option<Arc<Parts>> {
        if self.max == 0 {
            return None;
        }
        let mut t = self.lock();
        let found = match t.young.get(&id) {
            Some(e) if e.edited_at == edited_at => Some(e.parts.clone()),
            Some(_) => None,
            None => match t.old.remove(&id) {
                Some(e) if e.edited_at == edited_at => {
                    let parts = e.parts.clone();
                    self.insert(&mut t, id, e);
                    Some(parts)
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

    /// Keeps the parts read for status `id` with its row's `edited_at`.
    pub fn put(&self, id: Id, edited_at: Option<i64>, parts: Parts) {
        if self.max == 0 {
            return;
        }
        let entry = Entry {
            edited_at,
            parts: Arc::new(parts),
        };
        let mut t = self.lock();
        t.old.remove(&id);
        self.insert(&mut t, id, entry);
    }

    /// Status `id` was edited or deleted here: its entry goes at once.
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

    fn insert(&self, t: &mut Generations, id: Id, entry: Entry) {
        // Each generation holds at most half the bound (at least one entry).
        let half = (self.max / 2).max(1);
        if t.young.len() >= half && !t.young.contains_key(&id) {
            t.old = std::mem::take(&mut t.young);
        }
        t.young.insert(id, entry);
    }

    fn lock(&self) -> MutexGuard<'_, Generations> {
        // Inserts and removals are whole: a panic elsewhere leaves a valid table.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(mention: Id) -> Parts {
        Parts {
            mentions: vec![mention],
            ..Parts::default()
        }
    }

    #[test]
    fn an_entry_is_used_only_with_the_edited_at_it_was_read_with() {
        let cache = StatusParts::new(10);
        cache.put(1, None, parts(7));
        assert_eq!(cache.get(1, None).unwrap().mentions, vec![7]);
        // Edited since (another node, or a row read after the edit): a miss.
        assert!(cache.get(1, Some(5)).is_none());
        cache.put(1, Some(5), parts(8));
        assert_eq!(cache.get(1, Some(5)).unwrap().mentions, vec![8]);
        cache.forget(1);
        assert!(cache.get(1, Some(5)).is_none());
        let counts = cache.counts();
        assert_eq!((counts.hits, counts.misses), (2, 2));
    }

    #[test]
    fn never_holds_more_than_the_bound_and_keeps_the_recently_used() {
        let cache = StatusParts::new(4);
        for id in 0..100 {
            cache.put(id, None, parts(id));
            // Status 0 is read all the time: it stays.
            assert!(cache.get(0, None).is_some(), "lost the hot entry at {id}");
            assert!(cache.counts().entries <= 4);
        }
        assert!(cache.get(1, None).is_none(), "a cold entry went");
    }

    #[test]
    fn zero_disables_it() {
        let cache = StatusParts::new(0);
        cache.put(1, None, parts(1));
        assert!(cache.get(1, None).is_none());
        assert_eq!(cache.counts().entries, 0);
    }
}
