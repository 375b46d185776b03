//! The last resort of degraded mode: the most recent timeline pages served,
//! kept in memory, answered again when no database host answers at all (no
//! primary and no standby), so readers keep seeing their timelines through a
//! total database outage instead of 503s.
//!
//! Bounded: at most `read_cache_entries_max` pages, in the two generations
//! of `holdfast_store::versioned::Generations` (keeping a page never scans
//! the others; the pages not read again lately go first), and a page older
//! than `read_cache_stale_max_s` is never served. Every
//! successful read of a page replaces its copy, so what is served is what
//! that reader last saw, at most that old. Stale by design: a status deleted
//! or a block made after the copy was taken still shows in it until the
//! database is back (while no database answers, nothing new can be written).
//! Home timelines, public and tag timelines, and profiles are kept; a
//! page's key includes its reader, so nobody is served someone else's view.
//!
//! A status deleted or edited on any node leaves the cached pages as soon as
//! its event arrives (this node's own events, and the other nodes' through
//! the cluster's event feed, `events::Hub::on_status_changed`): a deleted
//! status is taken out of every page that holds it, a page holding an edited
//! one is dropped (its copy shows the old text). A read in flight when the
//! event arrives may bring back a page taken before the change, so the
//! changed ids are remembered (tombstones) for `request_timeout_ms`, the
//! longest a read can be in flight, and such a page is kept without them
//! (or not at all). Past `read_cache_tombstones_max` remembered changes the
//! whole cache is dropped rather than forget one.
//!
//! Signed-in readers need their token proved, which also takes the database:
//! the principals of recently proved tokens (by the token's hash) are kept
//! alongside, with the same bounds, and used only while the store cannot
//! answer. A token revoked (or an account suspended) on another node just
//! before the outage may so read its cached pages for at most
//! `read_cache_stale_max_s`; nothing can be written meanwhile.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use holdfast_store::versioned::Generations;
use holdfast_store::{AccountStatusesFilter, Id, PageStatus, StatusBundle};

use crate::events::StatusChange;
use crate::lists::Timeline;
use crate::{PageOf, PageRequest, Principal, Service, ServiceError, ServiceResult};

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Which {
    Home(Id),
    Public(Option<Id>, bool),
    Tag(Option<Id>, String),
    /// Viewer, account, the filter's four switches, tag.
    Account(Option<Id>, Id, [bool; 4], Option<String>),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    which: Which,
    page: (Option<Id>, Option<Id>, Option<Id>, Option<u32>),
    /// Asked for with kept fragments (the API's JSON) rather than rows only
    /// (the web UI's pages): each keeps its own copy.
    fragments: bool,
}

struct Copy {
    taken: Instant,
    items: Arc<Vec<PageStatus>>,
    next_max_id: Option<Id>,
    prev_min_id: Option<Id>,
}

pub struct ReadCache {
    entries: Mutex<Generations<Key, Copy>>,
    /// Token hash -> when proved, and whose it is.
    principals: Mutex<Generations<String, (Instant, Principal)>>,
    entries_max: usize,
    stale_max: Duration,
    /// Statuses deleted or edited lately, and when we learnt it (see the
    /// module's comment): at most `tombstones_max`, each for `tombstone_life`.
    tombstones: Mutex<HashMap<Id, (Instant, StatusChange)>>,
    tombstones_max: usize,
    tombstone_life: Duration,
    /// Pages answered from here (since start), for the status page and `/metrics`.
    pub served: AtomicU64,
    /// Pages changed or dropped because a status in them was deleted or
    /// edited (since start), for `/metrics`.
    pub invalidated: AtomicU64,
}

impl ReadCache {
    pub fn new(
        entries_max: usize,
        stale_max_s: u64,
        tombstones_max: usize,
        tombstone_life: Duration,
    ) -> ReadCache {
        ReadCache {
            entries: Mutex::new(Generations::new(entries_max)),
            principals: Mutex::new(Generations::new(entries_max)),
            entries_max,
            stale_max: Duration::from_secs(stale_max_s),
            tombstones: Mutex::new(HashMap::new()),
            tombstones_max,
            tombstone_life,
            served: AtomicU64::new(0),
            invalidated: AtomicU64::new(0),
        }
    }

    /// A status was deleted or edited (here or on another node): no page
    /// this cache answers with may show it as it was.
    pub fn status_changed(&self, change: StatusChange) {
        if self.entries_max == 0 {
            return;
        }
        let id = match change {
            StatusChange::Deleted(id) | StatusChange::Edited(id) => id,
        };
        let overflow = {
            let mut tombstones = self.tombstones.lock().unwrap_or_else(|p| p.into_inner());
            let life = self.tombstone_life;
            tombstones.retain(|_, (at, _)| at.elapsed() <= life);
            tombstones.insert(id, (Instant::now(), change));
            tombstones.len() > self.tombstones_max
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if overflow {
            // More changes at once than we can remember: forget every page
            // rather than risk keeping one with a change forgotten.
            let dropped = entries.len() as u64;
            entries.clear();
            drop(entries);
            self.tombstones
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            self.invalidated.fetch_add(dropped, Ordering::Relaxed);
            return;
        }
        let mut changed = 0;
        entries.retain(|_, copy| match apply(&copy.items, id, change) {
            Applied::Untouched => true,
            Applied::Dropped => {
                changed += 1;
                false
            }
            Applied::Without(items) => {
                changed += 1;
                copy.items = Arc::new(items);
                true
            }
        });
        self.invalidated.fetch_add(changed, Ordering::Relaxed);
    }

    /// The page as it may be kept: without statuses deleted since it was
    /// read, and not at all if one of them was edited. Shared with the
    /// answer unless a change touched it (no copy on the read path).
    fn without_tombstones(&self, items: &Arc<Vec<PageStatus>>) -> Option<Arc<Vec<PageStatus>>> {
        let tombstones = self.tombstones.lock().unwrap_or_else(|p| p.into_inner());
        let mut items = items.clone();
        for (id, (at, change)) in tombstones.iter() {
            if at.elapsed() > self.tombstone_life {
                continue;
            }
            match apply(&items, *id, *change) {
                Applied::Untouched => {}
                Applied::Dropped => return None,
                Applied::Without(rest) => items = Arc::new(rest),
            }
        }
        Some(items)
    }

    fn key(which: &Timeline<'_>, req: &PageRequest, fragments: bool) -> Option<Key> {
        let which = match which {
            Timeline::Home { me } => Which::Home(*me),
            Timeline::Public { viewer, only_media } => Which::Public(*viewer, *only_media),
            Timeline::Tag { viewer, name } => Which::Tag(*viewer, (*name).to_owned()),
            Timeline::Account {
                viewer,
                id,
                filter,
                tagged,
            } => Which::Account(*viewer, *id, filter_key(filter), tagged.map(str::to_owned)),
            _ => return None,
        };
        Some(Key {
            which,
            page: (req.max_id, req.since_id, req.min_id, req.limit),
            fragments,
        })
    }

    fn keep(&self, key: Key, page: &SharedPage) {
        if self.entries_max == 0 {
            return;
        }
        let Some(items) = self.without_tombstones(&page.items) else {
            // Holds a status edited while it was read: no copy of it.
            self.entries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(
            key,
            Copy {
                taken: Instant::now(),
                items,
                next_max_id: page.next_max_id,
                prev_min_id: page.prev_min_id,
            },
        );
    }

    /// A token just proved against the store.
    pub(crate) fn keep_principal(&self, token_hash: &str, principal: &Principal) {
        if self.entries_max == 0 {
            return;
        }
        let mut principals = self.principals.lock().unwrap_or_else(|p| p.into_inner());
        // Proved moments ago: the copy is as good (spares a clone per request).
        if principals
            .get(token_hash)
            .is_some_and(|(at, _)| at.elapsed() * 10 < self.stale_max)
        {
            return;
        }
        principals.insert(token_hash.to_owned(), (Instant::now(), principal.clone()));
    }

    /// A token the store says is no longer good (unknown, suspended).
    pub(crate) fn forget_principal(&self, token_hash: &str) {
        let mut principals = self.principals.lock().unwrap_or_else(|p| p.into_inner());
        principals.remove(token_hash);
    }

    /// Whose a token was when last proved, if recently enough (store down only).
    pub(crate) fn principal(&self, token_hash: &str) -> Option<Principal> {
        let mut principals = self.principals.lock().unwrap_or_else(|p| p.into_inner());
        principals
            .get(token_hash)
            .filter(|(at, _)| at.elapsed() <= self.stale_max)
            .map(|(_, p)| p.clone())
    }

    /// Pages young enough to be answered: while there are any, a node
    /// without a database can still serve something (`/readyz` says degraded).
    pub fn fresh_pages(&self) -> usize {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .values()
            .filter(|c| c.taken.elapsed() <= self.stale_max)
            .count()
    }

    fn copy_of(&self, key: &Key) -> Option<SharedPage> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let copy = entries
            .get(key)
            .filter(|c| c.taken.elapsed() <= self.stale_max)?;
        self.served.fetch_add(1, Ordering::Relaxed);
        Some(SharedPage {
            items: copy.items.clone(),
            next_max_id: copy.next_max_id,
            prev_min_id: copy.prev_min_id,
        })
    }
}

/// What a change to status `id` does to one page of the cache.
enum Applied {
    /// Not in the page.
    Untouched,
    /// Edited: the page's copy is stale as a whole.
    Dropped,
    /// Deleted: the page without it (and without reblogs of it).
    Without(Vec<PageStatus>),
}

fn apply(items: &[PageStatus], id: Id, change: StatusChange) -> Applied {
    let shows = |b: &PageStatus| b.id() == id || b.reblog_id() == Some(id);
    if !items.iter().any(shows) {
        return Applied::Untouched;
    }
    match change {
        StatusChange::Edited(_) => Applied::Dropped,
        StatusChange::Deleted(_) => {
            Applied::Without(items.iter().filter(|b| !shows(b)).cloned().collect())
        }
    }
}

fn filter_key(f: &AccountStatusesFilter) -> [bool; 4] {
    [f.exclude_replies, f.exclude_reblogs, f.only_media, f.pinned]
}

/// A page of statuses shared with the read cache (`Service::timeline_shared`).
pub struct SharedPage {
    /// Rows, or kept fragments where they were asked for
    /// (`timeline_shared`); only rows from `timeline`.
    pub items: Arc<Vec<PageStatus>>,
    /// `max_id` of the next (older) page, if this page had anything.
    pub next_max_id: Option<Id>,
    /// `min_id` of the previous (newer) page, if this page had anything.
    pub prev_min_id: Option<Id>,
}

impl Service {
    /// A page of a timeline. When the store cannot answer at all (no
    /// database host), the last copy of the same page this node served is
    /// answered instead, if it is recent enough (see the module's comment).
    pub async fn timeline(
        &self,
        which: Timeline<'_>,
        req: PageRequest,
    ) -> ServiceResult<PageOf<StatusBundle>> {
        let page = self.timeline_kept(which, req, false).await?;
        Ok(PageOf {
            // Asked without fragments: every status came as its rows.
            items: Arc::unwrap_or_clone(page.items)
                .into_iter()
                .filter_map(PageStatus::into_rows)
                .collect(),
            next_max_id: page.next_max_id,
            prev_min_id: page.prev_min_id,
        })
    }

    /// `timeline` for rendering as the API's JSON: statuses whose rendered
    /// fragments are kept (`Service::kept_json`) may come as them, and the
    /// page is shared with the read cache's copy rather than copied for it.
    pub async fn timeline_shared(
        &self,
        which: Timeline<'_>,
        req: PageRequest,
    ) -> ServiceResult<SharedPage> {
        self.timeline_kept(which, req, true).await
    }

    async fn timeline_kept(
        &self,
        which: Timeline<'_>,
        req: PageRequest,
        fragments: bool,
    ) -> ServiceResult<SharedPage> {
        let key = ReadCache::key(&which, &req, fragments);
        match self.timeline_from_store(which, req, fragments).await {
            Ok(page) => {
                let page = SharedPage {
                    items: Arc::new(page.items),
                    next_max_id: page.next_max_id,
                    prev_min_id: page.prev_min_id,
                };
                if let Some(key) = key {
                    self.read_cache.keep(key, &page);
                }
                Ok(page)
            }
            Err(ServiceError::Unavailable(why)) => {
                match key.and_then(|k| self.read_cache.copy_of(&k)) {
                    Some(page) => {
                        tracing::debug!(reason = %why, "served a timeline page from the read cache");
                        Ok(page)
                    }
                    None => Err(ServiceError::Unavailable(why)),
                }
            }
            Err(e) => Err(e),
        }
    }
}
