//! Statuses and accounts already rendered (by `holdfast-api`, as JSON), kept
//! by row version, and the page type that carries them in place of rows
//! (issue 10, the read side).
//!
//! A home page is mostly statuses whose JSON is already kept: reading their
//! full rows (text, content, counts, authors, mentions, tags, media) only to
//! find the kept JSON was a third of a home request's CPU (bench/perf,
//! session 9). The home read learns each candidate's row `version` and its
//! author's with the home rules (no statement more); for a status whose
//! fragments are all kept at those versions it takes them out of the table
//! right there, in the read, and reads the rows of the others only. So a
//! fragment evicted between the read and the render cannot leave a status
//! with neither rows nor JSON, and a row changed since it was rendered has
//! another version: exact on every node without messages (see `versioned`).
//!
//! The store never looks inside a fragment: what it is, is the API's business.

use std::sync::Arc;

use crate::model::*;
use crate::versioned::{Locked, Versioned};
use crate::CacheCounts;

/// Rendered fragments by row version: a status' shared fields and whole
/// accounts, at most `max` of each (`rendered_json_cache_max`; 0 keeps none).
pub struct KeptJson {
    statuses: Versioned<i64, Arc<str>>,
    accounts: Versioned<i64, Arc<str>>,
}

impl KeptJson {
    pub fn new(max: usize) -> KeptJson {
        KeptJson {
            statuses: Versioned::new(max),
            accounts: Versioned::new(max),
        }
    }

    pub fn status(&self, id: Id, version: i64) -> Option<Arc<str>> {
        self.statuses.get(id, &version)
    }

    pub fn keep_status(&self, id: Id, version: i64, json: Arc<str>) {
        self.statuses.put(id, version, json);
    }

    pub fn account(&self, id: Id, version: i64) -> Option<Arc<str>> {
        self.accounts.get(id, &version)
    }

    pub fn keep_account(&self, id: Id, version: i64, json: Arc<str>) {
        self.accounts.put(id, version, json);
    }

    /// (statuses, accounts), for `/metrics`.
    pub fn counts(&self) -> (CacheCounts, CacheCounts) {
        (self.statuses.counts(), self.accounts.counts())
    }
}

/// A home page as `Store::home_page` reads it.
#[derive(Debug)]
pub struct HomePage {
    pub paged: Vec<Paged<Id>>,
    pub statuses: Vec<PageStatus>,
    /// Whether the viewer has filters (of any context, expired or not), as
    /// the same read found: then every status came as rows, for the filters
    /// (which read the text) to be applied to. Without, none can apply.
    pub filters: bool,
}

/// A status of a page, for one viewer: its rows, or its kept fragments.
#[derive(Clone, Debug)]
pub enum PageStatus {
    Rows(StatusBundle),
    Kept(KeptStatus),
}

/// A status whose shared fields and author were kept at the versions the
/// page read (and so was the status it reblogs, if any): only the viewer's
/// own part was read.
#[derive(Clone, Debug)]
pub struct KeptStatus {
    pub id: Id,
    /// The status' shared fields, as the API rendered them.
    pub shared: Arc<str>,
    /// Its author, as the API rendered it.
    pub account: Arc<str>,
    pub reblog: Option<Box<KeptStatus>>,
    pub poll: Option<PollView>,
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    pub muted: bool,
    pub pinned: bool,
}

impl PageStatus {
    pub fn id(&self) -> Id {
        match self {
            PageStatus::Rows(b) => b.status.id,
            PageStatus::Kept(k) => k.id,
        }
    }

    /// The id of the status it reblogs, if it is a reblog.
    pub fn reblog_id(&self) -> Option<Id> {
        match self {
            PageStatus::Rows(b) => b.reblog.as_ref().map(|r| r.status.id),
            PageStatus::Kept(k) => k.reblog.as_ref().map(|r| r.id),
        }
    }

    /// Its rows, unless it came as kept fragments.
    pub fn into_rows(self) -> Option<StatusBundle> {
        match self {
            PageStatus::Rows(b) => Some(b),
            PageStatus::Kept(_) => None,
        }
    }
}

/// What a page read learnt of a status and its author, with the home rules:
/// enough to look its fragments up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub version: i64,
    pub author: Id,
    pub author_version: i64,
}

/// A page's status as the read saw it: itself, and the status it reblogs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeenStatus {
    pub status: Seen,
    pub original: Option<(Id, Seen)>,
}

/// Both tables of [`KeptJson`] locked for one page's lookups
/// ([`KeptJson::locked`], then [`take`]).
pub(crate) struct LockedKept<'a> {
    statuses: Locked<'a, i64, Arc<str>, Id>,
    accounts: Locked<'a, i64, Arc<str>, Id>,
}

impl KeptJson {
    /// Both tables locked once for a page, not twice to four times per
    /// status (bench/perf, session 13: those locks and their counters were
    /// ~3 % of a home request's samples, contended between the workers). The
    /// only place both are held: always statuses first, then accounts.
    pub(crate) fn locked(&self) -> LockedKept<'_> {
        LockedKept {
            statuses: self.statuses.locked(),
            accounts: self.accounts.locked(),
        }
    }
}

/// A status' kept fragments (and its author's, and the same for the status
/// it reblogs) at the versions the read saw, taken out of the table now so
/// they are what is rendered; None if any one is missing (the status is then
/// read in full). The viewer's part is left empty, for the caller to fill.
pub(crate) fn take(kept: &mut LockedKept<'_>, id: Id, seen: &SeenStatus) -> Option<KeptStatus> {
    let mut one = |id: Id, s: Seen| {
        Some(KeptStatus {
            id,
            shared: kept.statuses.get(&id, &s.version)?,
            account: kept.accounts.get(&s.author, &s.author_version)?,
            reblog: None,
            poll: None,
            favourited: false,
            reblogged: false,
            bookmarked: false,
            muted: false,
            pinned: false,
        })
    };
    let mut status = one(id, seen.status)?;
    if let Some((original, s)) = seen.original {
        status.reblog = Some(Box::new(one(original, s)?));
    }
    Some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(version: i64, author: Id, author_version: i64) -> Seen {
        Seen {
            version,
            author,
            author_version,
        }
    }

    #[test]
    fn a_page_takes_each_status_whole_or_not_at_all_under_one_lock() {
        let kept = KeptJson::new(100);
        let json = |s: &str| -> Arc<str> { Arc::from(s) };
        // Status 1: kept, its author not at the version read (read in full).
        kept.keep_status(1, 1, json("s1"));
        kept.keep_account(10, 1, json("a10v1"));
        // Status 2: a reblog of 3, all kept.
        kept.keep_status(2, 1, json("s2"));
        kept.keep_account(20, 1, json("a20"));
        kept.keep_status(3, 4, json("s3"));
        kept.keep_account(30, 1, json("a30"));
        // Status 4: not kept, its author is.
        kept.keep_account(40, 1, json("a40"));
        // Status 5: a reblog whose original is kept at another version.
        kept.keep_status(5, 1, json("s5"));
        // Status 6: kept, after misses of either table before it.
        kept.keep_status(6, 1, json("s6"));
        let one = |id, s| {
            (
                id,
                SeenStatus {
                    status: s,
                    original: None,
                },
            )
        };
        let wanted = [
            one(1, seen(1, 10, 2)),
            (
                2,
                SeenStatus {
                    status: seen(1, 20, 1),
                    original: Some((3, seen(4, 30, 1))),
                },
            ),
            one(4, seen(1, 40, 1)),
            (
                5,
                SeenStatus {
                    status: seen(1, 20, 1),
                    original: Some((3, seen(5, 30, 1))),
                },
            ),
            one(6, seen(1, 20, 1)),
        ];
        let mut locked = kept.locked();
        let taken: Vec<Option<KeptStatus>> = wanted
            .iter()
            .map(|(id, s)| take(&mut locked, *id, s))
            .collect();
        drop(locked);
        let shape: Vec<Option<(Id, &str, &str, Option<(Id, &str, &str)>)>> = taken
            .iter()
            .map(|k| {
                k.as_ref().map(|k| {
                    (
                        k.id,
                        &*k.shared,
                        &*k.account,
                        k.reblog.as_ref().map(|r| (r.id, &*r.shared, &*r.account)),
                    )
                })
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                None,
                Some((2, "s2", "a20", Some((3, "s3", "a30")))),
                None,
                None,
                Some((6, "s6", "a20", None)),
            ]
        );
    }
}
