//! Backend-neutral assembly. Each backend fetches the same pieces with its
//! own SQL; turning those pieces into the rows the `Store` trait returns is
//! the same for both, so it lives here once.

use std::collections::{HashMap, HashSet};

use crate::model::*;

/// Everything fetched for a page of statuses, keyed by status id.
pub struct BundleParts {
    /// The statuses asked for and the statuses they reblog.
    pub statuses: HashMap<Id, StatusRow>,
    pub mentions: HashMap<Id, Vec<Id>>,
    pub tags: HashMap<Id, Vec<TagRef>>,
    /// Attachments per status, in the author's order.
    pub media: HashMap<Id, Vec<MediaRow>>,
    pub accounts: HashMap<Id, AccountRow>,
    pub favourited: HashSet<Id>,
    pub bookmarked: HashSet<Id>,
    pub reblogged: HashSet<Id>,
    /// The viewer's pinned statuses, and those in threads the viewer muted.
    pub pinned: HashSet<Id>,
    pub muted: HashSet<Id>,
    /// Polls by status id, as the viewer sees them.
    pub polls: HashMap<Id, PollView>,
}

/// Authors and mentioned accounts of `statuses`: the accounts a page needs, each once.
pub fn accounts_needed(
    statuses: &HashMap<Id, StatusRow>,
    mentions: &HashMap<Id, Vec<Id>>,
) -> Vec<Id> {
    let mut ids: Vec<Id> = statuses.values().map(|s| s.account_id).collect();
    ids.extend(mentions.values().flatten().copied());
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl BundleParts {
    /// Bundles in the order of `ids`; a status (or the status it reblogs) that
    /// was not found, or whose author was not, is skipped.
    pub fn into_bundles(self, ids: &[Id]) -> Vec<StatusBundle> {
        let build = |id: Id| -> Option<StatusBundle> {
            let status = self.statuses.get(&id)?.clone();
            let account = self.accounts.get(&status.account_id)?.clone();
            Some(StatusBundle {
                mentions: self
                    .mentions
                    .get(&id)
                    .into_iter()
                    .flatten()
                    .filter_map(|a| self.accounts.get(a).cloned())
                    .collect(),
                tags: self.tags.get(&id).cloned().unwrap_or_default(),
                media: self.media.get(&id).cloned().unwrap_or_default(),
                favourited: self.favourited.contains(&id),
                reblogged: self.reblogged.contains(&id),
                bookmarked: self.bookmarked.contains(&id),
                muted: self.muted.contains(&id),
                pinned: self.pinned.contains(&id),
                poll: self.polls.get(&id).cloned(),
                reblog: None,
                filtered: Vec::new(),
                status,
                account,
            })
        };
        ids.iter()
            .filter_map(|id| {
                let mut bundle = build(*id)?;
                if let Some(original) = bundle.status.reblog_of_id {
                    bundle.reblog = Some(Box::new(build(original)?));
                }
                Some(bundle)
            })
            .collect()
    }
}

/// Per target account: present in a relation, with two flags where the relation has them.
pub type Flags = HashMap<Id, (bool, bool)>;

/// The seven relations a relationship is made of, as fetched by a backend.
pub struct RelationshipSets {
    /// Flags: (show reblogs, notify).
    pub following: Flags,
    pub followed_by: Flags,
    pub blocking: Flags,
    pub blocked_by: Flags,
    /// Flags: (mute notifications, -).
    pub muting: Flags,
    pub requested: Flags,
    pub requested_by: Flags,
}

impl RelationshipSets {
    pub fn into_relationships(self, targets: &[Id]) -> Vec<Relationship> {
        targets
            .iter()
            .map(|&id| Relationship {
                id,
                following: self.following.contains_key(&id),
                showing_reblogs: self.following.get(&id).is_some_and(|f| f.0),
                notifying: self.following.get(&id).is_some_and(|f| f.1),
                followed_by: self.followed_by.contains_key(&id),
                blocking: self.blocking.contains_key(&id),
                blocked_by: self.blocked_by.contains_key(&id),
                muting: self.muting.contains_key(&id),
                muting_notifications: self.muting.get(&id).is_some_and(|m| m.0),
                requested: self.requested.contains_key(&id),
                requested_by: self.requested_by.contains_key(&id),
                // Filled in by the caller (core::personal::marks).
                ..Default::default()
            })
            .collect()
    }
}
