//! Statuses and accounts rendered to JSON once and kept between pages
//! (issue 10, the read side): a page of statuses is written as bytes from
//! kept fragments, with each viewer's own part (flags, poll, filter matches)
//! written in between, instead of building every `Status` and serializing it
//! again on every request.
//!
//! A status' shared part ([`StatusShared`]) and an [`Account`] depend only
//! on their row, whose `version` a trigger bumps on every change (migration
//! 0024: counts, edits, attachments, mentions, profile fields). Each
//! fragment is kept by id with the version of the row it was rendered from
//! ([`Versioned`]), and used only while the row a page read has that
//! version: exact on every node of a cluster without invalidation messages.
//! Bounded by `rendered_json_cache_max` entries per kind; hits and misses
//! are in `/metrics`.

use std::sync::Arc;

use holdfast_store::{AccountRow, CacheCounts, FilterMatch, KeptJson, KeptStatus, PageStatus};
use holdfast_store::{PollView, StatusBundle};

use crate::entities::{to_json, Account, FilterResult, Poll, StatusShared, Urls};

pub struct Rendered {
    /// A status' shared fields, as the inside of a JSON object (no braces),
    /// and whole `Account` objects. Shared with the service, whose home
    /// page read takes them in place of rows (`holdfast_store::kept`).
    kept: Arc<KeptJson>,
}

impl Rendered {
    /// At most `max` statuses and `max` accounts (0: keep nothing).
    pub fn new(max: usize) -> Rendered {
        Rendered::sharing(Arc::new(KeptJson::new(max)))
    }

    /// Keeping what it renders in `kept` (`Service::kept_json`).
    pub fn sharing(kept: Arc<KeptJson>) -> Rendered {
        Rendered { kept }
    }

    /// (statuses, accounts), for `/metrics`.
    pub fn counts(&self) -> (CacheCounts, CacheCounts) {
        self.kept.counts()
    }

    /// A page of statuses as a JSON array: the same JSON as
    /// `Status::list(urls, bundles)` serialized, written from kept fragments.
    pub fn statuses_json(&self, urls: &Urls, bundles: &[StatusBundle]) -> Vec<u8> {
        array(bundles, |out, b| self.write_status(out, urls, b))
    }

    /// A page read with kept fragments (`Service::timeline_shared`): the
    /// same JSON, statuses that came as fragments written from them.
    pub fn page_json(&self, urls: &Urls, page: &[PageStatus]) -> Vec<u8> {
        array(page, |out, s| match s {
            PageStatus::Rows(b) => self.write_status(out, urls, b),
            PageStatus::Kept(k) => write_kept(out, k),
        })
    }

    /// One `Status` object: the fields in `Status`'s order (the shared ones
    /// first, as `#[serde(flatten)]` writes them).
    fn write_status(&self, out: &mut Vec<u8>, urls: &Urls, b: &StatusBundle) {
        out.push(b'{');
        out.extend_from_slice(self.shared(urls, b).as_bytes());
        out.extend_from_slice(b",\"account\":");
        out.extend_from_slice(self.account(urls, &b.account).as_bytes());
        out.extend_from_slice(b",\"reblog\":");
        match b.reblog.as_deref() {
            Some(original) => self.write_status(out, urls, original),
            None => out.extend_from_slice(b"null"),
        }
        let flags = [b.favourited, b.reblogged, b.muted, b.bookmarked, b.pinned];
        write_own(out, b.poll.as_ref(), flags, &b.filtered);
        out.push(b'}');
    }

    /// The shared fields of status `b`, without the object's braces.
    fn shared(&self, urls: &Urls, b: &StatusBundle) -> Arc<str> {
        let s = &b.status;
        if let Some(hit) = self.kept.status(s.id, s.version) {
            return hit;
        }
        let object = to_json(&StatusShared::new(urls, b));
        let inside: Arc<str> = object
            .strip_prefix('{')
            .and_then(|o| o.strip_suffix('}'))
            .unwrap_or_default()
            .into();
        self.kept.keep_status(s.id, s.version, inside.clone());
        inside
    }

    fn account(&self, urls: &Urls, a: &AccountRow) -> Arc<str> {
        if let Some(hit) = self.kept.account(a.id, a.version) {
            return hit;
        }
        let json: Arc<str> = to_json(&Account::new(urls, a)).into();
        self.kept.keep_account(a.id, a.version, json.clone());
        json
    }
}

/// `[` items `]`, each written by `write`.
fn array<T>(items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * 2_048 + 2);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(&mut out, item);
    }
    out.push(b']');
    out
}

/// A status that came as kept fragments: as `write_status` writes it.
fn write_kept(out: &mut Vec<u8>, k: &KeptStatus) {
    out.push(b'{');
    out.extend_from_slice(k.shared.as_bytes());
    out.extend_from_slice(b",\"account\":");
    out.extend_from_slice(k.account.as_bytes());
    out.extend_from_slice(b",\"reblog\":");
    match k.reblog.as_deref() {
        Some(original) => write_kept(out, original),
        None => out.extend_from_slice(b"null"),
    }
    let flags = [k.favourited, k.reblogged, k.muted, k.bookmarked, k.pinned];
    // Fragments are taken only for viewers without filters: no matches.
    write_own(out, k.poll.as_ref(), flags, &[]);
    out.push(b'}');
}

/// The viewer's own part of a status, after its reblog: the poll (it shows
/// the viewer's votes, and counts that move without the status' row), the
/// flags (favourited, reblogged, muted, bookmarked, pinned) and the filter
/// matches, rendered for each page.
fn write_own(
    out: &mut Vec<u8>,
    poll: Option<&PollView>,
    flags: [bool; 5],
    filtered: &[FilterMatch],
) {
    out.extend_from_slice(b",\"poll\":");
    match poll {
        Some(p) => out.extend_from_slice(to_json(&Poll::new(p)).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    for (name, on) in ["favourited", "reblogged", "muted", "bookmarked", "pinned"]
        .into_iter()
        .zip(flags)
    {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(if on { b"\":true" } else { b"\":false" });
    }
    out.extend_from_slice(b",\"filtered\":");
    if filtered.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        let matches: Vec<FilterResult> = filtered.iter().map(FilterResult::new).collect();
        out.extend_from_slice(to_json(&matches).as_bytes());
    }
}
