//! Backend-neutral assembly. Each backend fetches the same pieces with its
//! own SQL; turning those pieces into the rows the `Store` trait returns is
//! the same for both, so it lives here once.

use std::collections::HashMap;

use crate::versioned::FastSet;

use crate::model::*;

/// Everything fetched for a page of statuses, keyed by status id.
#[derive(Default)]
pub struct BundleParts {
    /// The statuses asked for and the statuses they reblog.
    pub statuses: HashMap<Id, StatusRow>,
    pub mentions: HashMap<Id, Vec<Id>>,
    pub tags: HashMap<Id, Vec<TagRef>>,
    /// Attachments per status, in the author's order.
    pub media: HashMap<Id, Vec<MediaRow>>,
    pub accounts: HashMap<Id, AccountRow>,
    pub favourited: FastSet<Id>,
    pub bookmarked: FastSet<Id>,
    pub reblogged: FastSet<Id>,
    /// The viewer's pinned statuses, and those in threads the viewer muted.
    pub pinned: FastSet<Id>,
    pub muted: FastSet<Id>,
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
    ///
    /// Each row is moved into the bundle that uses it last and copied only
    /// for the uses before (an author of several statuses, a status both on
    /// the page and reblogged on it): a page's rows are most of what it
    /// allocates (bench/perf, session 9).
    pub fn into_bundles(mut self, ids: &[Id]) -> Vec<StatusBundle> {
        let mut uses = self.uses(ids);
        ids.iter()
            .filter_map(|id| {
                let mut bundle = self.build(*id, &mut uses)?;
                if let Some(original) = bundle.status.reblog_of_id {
                    bundle.reblog = Some(Box::new(self.build(original, &mut uses)?));
                }
                Some(bundle)
            })
            .collect()
    }

    /// How many times `build` may ask for each status and each account
    /// (never fewer than it will: a row moved out early would be missing).
    fn uses(&self, ids: &[Id]) -> Uses {
        let mut uses = Uses::default();
        let status = |id: Id, uses: &mut Uses| {
            *uses.statuses.entry(id).or_default() += 1;
            if let Some(s) = self.statuses.get(&id) {
                *uses.accounts.entry(s.account_id).or_default() += 1;
            }
            for a in self.mentions.get(&id).into_iter().flatten() {
                *uses.accounts.entry(*a).or_default() += 1;
            }
        };
        for &id in ids {
            status(id, &mut uses);
            if let Some(original) = self.statuses.get(&id).and_then(|s| s.reblog_of_id) {
                status(original, &mut uses);
            }
        }
        uses
    }

    fn build(&mut self, id: Id, uses: &mut Uses) -> Option<StatusBundle> {
        let status_last = last_use(&mut uses.statuses, id);
        let status = take(&mut self.statuses, id, status_last)?;
        let account = match take(
            &mut self.accounts,
            status.account_id,
            last_use(&mut uses.accounts, status.account_id),
        ) {
            Some(a) => a,
            None => {
                // Skipped: its row stays for a later use.
                self.statuses.insert(id, status);
                return None;
            }
        };
        let mention_ids = take(&mut self.mentions, id, status_last).unwrap_or_default();
        let mentions = mention_ids
            .into_iter()
            .filter_map(|a| {
                let last = last_use(&mut uses.accounts, a);
                take(&mut self.accounts, a, last)
            })
            .collect();
        Some(StatusBundle {
            mentions,
            tags: take(&mut self.tags, id, status_last).unwrap_or_default(),
            media: take(&mut self.media, id, status_last).unwrap_or_default(),
            favourited: self.favourited.contains(&id),
            reblogged: self.reblogged.contains(&id),
            bookmarked: self.bookmarked.contains(&id),
            muted: self.muted.contains(&id),
            pinned: self.pinned.contains(&id),
            poll: take(&mut self.polls, id, status_last),
            reblog: None,
            filtered: Vec::new(),
            status,
            account,
        })
    }
}

/// Uses left, per status and per account (see `BundleParts::uses`).
#[derive(Default)]
struct Uses {
    statuses: HashMap<Id, usize>,
    accounts: HashMap<Id, usize>,
}

/// Counts one use of `id` down; whether it was the last one counted.
fn last_use(uses: &mut HashMap<Id, usize>, id: Id) -> bool {
    match uses.get_mut(&id) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        _ => true,
    }
}

/// `id`'s value: moved out on its last use, copied before.
fn take<V: Clone>(map: &mut HashMap<Id, V>, id: Id, last: bool) -> Option<V> {
    if last {
        map.remove(&id)
    } else {
        map.get(&id).cloned()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: Id) -> AccountRow {
        AccountRow {
            id,
            username: format!("user{id}"),
            display_name: String::new(),
            note: String::new(),
            locked: false,
            bot: false,
            discoverable: true,
            created_at_ms: 0,
            suspended: false,
            approved: true,
            followers_count: 0,
            following_count: 0,
            statuses_count: 0,
            last_status_at_ms: None,
            default_visibility: Visibility::Public,
            default_sensitive: false,
            default_language: None,
            avatar_key: None,
            header_key: None,
            role: Role::default(),
            version: id,
        }
    }

    fn status(id: Id, author: Id, reblog_of_id: Option<Id>) -> StatusRow {
        StatusRow {
            id,
            account_id: author,
            text: format!("status {id}"),
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: Visibility::Public,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id,
            app_name: None,
            app_website: None,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            created_at_ms: 0,
            edited_at_ms: None,
            version: id,
        }
    }

    /// (status, author, mentioned accounts, reblogged status) of each bundle.
    type Shape = Vec<(Id, Id, Vec<Id>, Option<(Id, Id, Vec<Id>)>)>;

    fn shape(bundles: &[StatusBundle]) -> Shape {
        let one = |b: &StatusBundle| {
            assert_eq!(b.status.account_id, b.account.id);
            assert_eq!(b.tags.len(), 1);
            assert_eq!(b.tags[0].id, b.status.id);
            (
                b.status.id,
                b.account.id,
                b.mentions.iter().map(|a| a.id).collect::<Vec<_>>(),
            )
        };
        bundles
            .iter()
            .map(|b| {
                let (s, a, m) = one(b);
                (s, a, m, b.reblog.as_deref().map(one))
            })
            .collect()
    }

    #[test]
    fn rows_used_several_times_are_in_every_bundle_that_uses_them() {
        // Author 1 writes 10 and 11; 12 (by 2) reblogs 10; 13's author is
        // gone; 14 reblogs 13 (so it goes too); 11 is asked for twice; 10
        // and 11 mention 2, 11 also 3.
        let rows = [
            status(10, 1, None),
            status(11, 1, None),
            status(12, 2, Some(10)),
            status(13, 9, None),
            status(14, 2, Some(13)),
        ];
        let parts = BundleParts {
            statuses: rows.iter().map(|s| (s.id, s.clone())).collect(),
            mentions: [(10, vec![2]), (11, vec![2, 3])].into_iter().collect(),
            tags: rows
                .iter()
                .map(|s| {
                    let tag = TagRef {
                        name: "t".into(),
                        id: s.id,
                    };
                    (s.id, vec![tag])
                })
                .collect(),
            accounts: [1, 2, 3].into_iter().map(|a| (a, account(a))).collect(),
            ..BundleParts::default()
        };
        let bundles = parts.into_bundles(&[11, 12, 10, 13, 14, 11]);
        assert_eq!(
            shape(&bundles),
            vec![
                (11, 1, vec![2, 3], None),
                (12, 2, vec![], Some((10, 1, vec![2]))),
                (10, 1, vec![2], None),
                (11, 1, vec![2, 3], None),
            ]
        );
    }
}
