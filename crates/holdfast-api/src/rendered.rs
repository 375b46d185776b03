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

use holdfast_store::versioned::Versioned;
use holdfast_store::{AccountRow, CacheCounts, StatusBundle};

use crate::entities::{to_json, Account, FilterResult, Poll, StatusShared, Urls};

pub struct Rendered {
    /// A status' shared fields, as the inside of a JSON object (no braces).
    statuses: Versioned<i64, Arc<str>>,
    /// A whole `Account` object.
    accounts: Versioned<i64, Arc<str>>,
}

impl Rendered {
    /// At most `max` statuses and `max` accounts (0: keep nothing).
    pub fn new(max: usize) -> Rendered {
        Rendered {
            statuses: Versioned::new(max),
            accounts: Versioned::new(max),
        }
    }

    /// (statuses, accounts), for `/metrics`.
    pub fn counts(&self) -> (CacheCounts, CacheCounts) {
        (self.statuses.counts(), self.accounts.counts())
    }

    /// A page of statuses as a JSON array: the same JSON as
    /// `Status::list(urls, bundles)` serialized, written from kept fragments.
    pub fn statuses_json(&self, urls: &Urls, bundles: &[StatusBundle]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bundles.len() * 2_048 + 2);
        out.push(b'[');
        for (i, b) in bundles.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write_status(&mut out, urls, b);
        }
        out.push(b']');
        out
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
        // The poll shows the viewer's own votes, and counts that move
        // without the status' row: rendered for each page.
        out.extend_from_slice(b",\"poll\":");
        let poll = b.poll.as_ref().map(Poll::new);
        out.extend_from_slice(to_json(&poll).as_bytes());
        for (name, on) in [
            ("favourited", b.favourited),
            ("reblogged", b.reblogged),
            ("muted", b.muted),
            ("bookmarked", b.bookmarked),
            ("pinned", b.pinned),
        ] {
            out.extend_from_slice(format!(",\"{name}\":{on}").as_bytes());
        }
        out.extend_from_slice(b",\"filtered\":");
        if b.filtered.is_empty() {
            out.extend_from_slice(b"[]");
        } else {
            let matches: Vec<FilterResult> = b.filtered.iter().map(FilterResult::new).collect();
            out.extend_from_slice(to_json(&matches).as_bytes());
        }
        out.push(b'}');
    }

    /// The shared fields of status `b`, without the object's braces.
    fn shared(&self, urls: &Urls, b: &StatusBundle) -> Arc<str> {
        let s = &b.status;
        if let Some(hit) = self.statuses.get(s.id, &s.version) {
            return hit;
        }
        let object = to_json(&StatusShared::new(urls, b));
        let inside: Arc<str> = object
            .strip_prefix('{')
            .and_then(|o| o.strip_suffix('}'))
            .unwrap_or_default()
            .into();
        self.statuses.put(s.id, s.version, inside.clone());
        inside
    }

    fn account(&self, urls: &Urls, a: &AccountRow) -> Arc<str> {
        if let Some(hit) = self.accounts.get(a.id, &a.version) {
            return hit;
        }
        let json: Arc<str> = to_json(&Account::new(urls, a)).into();
        self.accounts.put(a.id, a.version, json.clone());
        json
    }
}
