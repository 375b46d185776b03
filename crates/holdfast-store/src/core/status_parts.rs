//! The parts of a status that only an edit changes (whom it mentions, its
//! tags, its attachments), kept by status id so that a page of statuses does
//! not read them again on every request (issue 10, the read side).
//!
//! Exact without any invalidation message (see [`crate::versioned`]): every
//! page still reads its statuses' rows, and an entry is used only while the
//! row's `edited_at` is the one it was read with. An edit (the only way
//! these parts change after posting, attachments' descriptions included)
//! sets `edited_at`, so every node sees the new parts as soon as it sees the
//! new row; a deleted status has no row, so its entry is never used again.
//! An edit on this node also drops the entry at once (`forget`), so not even
//! two edits within one millisecond can leave a stale copy here. Bounded by
//! `status_parts_cache_max` entries.

use std::sync::Arc;

use crate::model::{Id, MediaRow, TagRef};
use crate::versioned::Versioned;

/// What a status carries besides its row and its accounts.
#[derive(Clone, Debug, Default)]
pub struct Parts {
    /// Accounts mentioned, by id (their rows are read with the page's authors).
    pub mentions: Vec<Id>,
    pub tags: Vec<TagRef>,
    /// Attachments in the author's order.
    pub media: Vec<MediaRow>,
}

/// Parts by status id, for the row's `edited_at`.
pub type StatusParts = Versioned<Option<i64>, Arc<Parts>>;
