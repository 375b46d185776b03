//! Mastodon's JSON entities (content/en/entities in the Mastodon docs), as
//! typed structs built from store rows. Only this module decides how things
//! look on the wire: a field's name is a struct field's name, so a misspelt
//! one does not compile, and `tests/entity_fields.rs` checks every struct's
//! fields against the documentation's. One file per entity family.
//!
//! `Option` fields serialize as `null`: the docs' nullable fields. Fields
//! the docs mark optional (present only sometimes) are skipped when `None`.

mod account;
mod admin;
mod collection;
mod discovery;
mod embed;
mod filter;
mod instance;
mod list;
mod notification;
mod oauth;
mod posts;
mod push;
mod status;

pub use account::*;
pub use admin::*;
pub use collection::*;
pub use discovery::*;
pub use embed::*;
pub use filter::*;
pub use instance::*;
pub use list::*;
pub use notification::*;
pub use oauth::*;
pub use posts::*;
pub use push::*;
pub use status::*;

use std::sync::Arc;

use holdfast_service::rendered::RenderedNotes;
use holdfast_service::text;

pub use holdfast_config::time::{date_only, iso8601};

/// Every URL holdfast renders, built from the base URL (`https://domain`),
/// and the bios rendered as HTML (through the service's bounded cache of
/// rendered notes, shared, so a page does not render one bio per status).
/// Only the API layer builds URLs; the service hands over rows and keys.
#[derive(Clone)]
pub struct Urls {
    base: Arc<str>,
    notes: Arc<RenderedNotes>,
}

impl Urls {
    pub fn new(base: &str, notes: Arc<RenderedNotes>) -> Urls {
        Urls {
            base: base.trim_end_matches('/').into(),
            notes,
        }
    }

    /// An account's bio as HTML (`text::note_html`), rendered once per distinct text.
    pub fn note_html(&self, note: &str) -> Arc<str> {
        if note.trim().is_empty() {
            return "".into();
        }
        self.notes
            .get_or_render(note, |n| text::note_html(n, &self.base))
    }

    /// `https://domain`, no trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// An account's profile page, also its `uri` (`/@name`).
    pub fn account(&self, username: &str) -> String {
        format!("{}/@{}", self.base, username)
    }

    pub fn status(&self, username: &str, id: holdfast_store::Id) -> String {
        format!("{}/@{}/{}", self.base, username, id)
    }

    /// A collection's identifier (`uri`); no page answers there yet.
    pub fn collection(&self, id: holdfast_store::Id) -> String {
        format!("{}/collections/{}", self.base, id)
    }

    /// Where a media key is served (`/system/media/<key>`).
    pub fn media(&self, key: &str) -> String {
        format!("{}/system/media/{}", self.base, key)
    }

    /// A hashtag's page; a name with letters outside ASCII is
    /// percent-encoded, so the URL is a valid URI (as Mastodon's are).
    pub fn tag(&self, name: &str) -> String {
        format!("{}/tags/{}", self.base, path_segment(name))
    }

    /// The picture shown for an account without an avatar.
    pub fn missing_avatar(&self) -> String {
        format!("{}/avatars/original/missing.png", self.base)
    }

    /// The picture shown for an account without a header.
    pub fn missing_header(&self) -> String {
        format!("{}/headers/original/missing.png", self.base)
    }

    /// Where the streaming API answers: the base URL with `ws`/`wss`, no path
    /// (clients append `/api/v1/streaming`), as Mastodon advertises it.
    pub fn streaming(&self) -> String {
        if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.base.to_string()
        }
    }
}

/// Ids leave as strings: ours exceed 2^53, which JavaScript clients would round.
pub fn id(id: holdfast_store::Id) -> String {
    id.to_string()
}

/// A JSON object with nothing in it (`{}`), the answer of several actions.
#[derive(serde::Serialize, Default)]
pub struct Empty {}

/// An entity as JSON text (a streaming payload). Our entities are plain
/// structs with string keys, which always serialize; `null` is the
/// unreachable fallback rather than a panic.
pub fn to_json<T: serde::Serialize>(entity: &T) -> String {
    serde_json::to_string(entity).unwrap_or_else(|_| "null".to_owned())
}

/// `raw` as one URL path segment: RFC 3986 unreserved characters as they
/// are, every other byte of its UTF-8 as `%XX`.
fn path_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod url_tests {
    #[test]
    fn tag_urls_are_valid_uris() {
        assert_eq!(super::path_segment("rust_2024"), "rust_2024");
        assert_eq!(super::path_segment("æu"), "%C3%A6u");
    }
}
