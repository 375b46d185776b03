//! Statuses: posting (with mentions, tags, media, search entry and
//! notifications), deleting, loading for rendering, threads, and the
//! actions on a status (favourite, reblog, bookmark).

use std::collections::HashMap;

use super::notifications::{notify, notify_all};
use super::sql::{
    self, media_row, status_row, viewer_param, MEDIA_COLUMNS, STATUS_COLUMNS, STATUS_FROM,
};
use super::status_parts::{Parts, StatusParts};
use super::{accounts, args, Arg, Conn};
use crate::ids::now_ms;
use crate::kept::{KeptJson, KeptStatus, PageStatus, SeenStatus};
use crate::model::*;
use crate::versioned::{FastMap, FastSet, Versioned};
use crate::{StoreError, StoreResult};

/// Mastodon counts in `replies_count` only replies that anyone could see.
fn counts_as_reply(visibility: Visibility) -> bool {
    matches!(visibility, Visibility::Public | Visibility::Unlisted)
}

/// `col = col - 1`, never below zero, for a counter on status `?1`.
///
/// Every counter's UPDATE moves the row's version itself: the version
/// trigger (migration 0024) leaves such a statement alone, so on SQLite the
/// row is written once instead of twice (a favourite, a reply, a reblog).
fn decrement(col: &str) -> String {
    format!(
        "UPDATE statuses SET {col} = CASE WHEN {col} > 0 THEN {col} - 1 ELSE 0 END, \
         version = version + 1 WHERE id = ?1"
    )
}

/// Posts a status with its mentions, tags and notifications, in the caller's transaction.
///
/// Idempotency: the key row is claimed first, with `ON CONFLICT DO NOTHING`.
/// On PostgreSQL, if another transaction holds the same key, this INSERT
/// waits for it to finish; if it committed, the INSERT does nothing and we
/// return the status it made. So the same Idempotency-Key posted to two
/// nodes at the same moment yields one status.
pub async fn create(c: &dyn Conn, new: &NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
    Ok(
        create_returning(c, new, AuthorDefaults::default(), idempotency_ttl_s)
            .await?
            .id,
    )
}

/// What posting a status wrote, for answering without reading it again.
pub struct Created {
    pub id: Id,
    /// The status' row as inserted, with what `AuthorDefaults` named taken
    /// from the author's preferences; None when an Idempotency-Key named a
    /// status posted before (nothing was inserted).
    pub row: Option<StatusRow>,
    /// The tags as linked, in the order a read gives them (by name's bytes).
    pub tags: Vec<TagRef>,
    /// The post as it was made, when `AuthorDefaults` named something and a
    /// row was inserted: what it named is what the row took from the
    /// author's preferences. None means the post as given.
    pub filled: Option<NewStatus>,
}

/// `new` with what `defaults` named taken from the inserted `row`; None
/// when nothing was named (the post as given).
fn filled_from(new: &NewStatus, defaults: AuthorDefaults, row: &StatusRow) -> Option<NewStatus> {
    defaults.any().then(|| {
        let mut filled = new.clone();
        defaults.fill(
            &mut filled,
            row.visibility,
            row.sensitive,
            row.language.clone(),
        );
        filled
    })
}

/// The columns of [`STATUS_COLUMNS`], in its order (one list, `sql::status_columns!`),
/// as an INSERT into `statuses` returns them: the app's name and website from
/// the app row (`?11`, the status' `app_id`), since RETURNING sees only the new row.
const STATUS_RETURNING: &str = sql::status_columns!(
    "",
    "(SELECT name FROM apps WHERE id = ?11)",
    "(SELECT website FROM apps WHERE id = ?11)"
);

/// [`create`], telling also whether the status is new, its row as inserted
/// and its tags' rows. What `defaults` names (visibility, sensitivity,
/// language) is taken from the author's row by the INSERT itself: the
/// author's preferences are not read by a statement of their own
/// (bench/perf, session 12: the author's row was read three times per post).
pub async fn create_returning(
    c: &dyn Conn,
    new: &NewStatus,
    defaults: AuthorDefaults,
    idempotency_ttl_s: u64,
) -> StoreResult<Created> {
    let now = now_ms();
    let mut claimed: Option<Id> = None;
    if let Some(key) = &new.idempotency_key {
        let oldest_valid = now - (idempotency_ttl_s as i64).saturating_mul(1000);
        c.execute(
            "DELETE FROM idempotency_keys WHERE account_id = ?1 AND created_at < ?2",
            &args![new.account_id, oldest_valid],
        )
        .await?;
        let row = c
            .query_opt(
                "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES (?1, ?2, holdfast_next_id(), ?3) \
                 ON CONFLICT (account_id, key) DO NOTHING RETURNING status_id",
                &args![new.account_id, key, now],
            )
            .await?;
        match row {
            Some(r) => claimed = Some(r.get(0)?),
            None => {
                let id = c
                    .query_one(
                        "SELECT status_id FROM idempotency_keys WHERE account_id = ?1 AND key = ?2",
                        &args![new.account_id, key],
                    )
                    .await?
                    .get(0)?;
                return Ok(Created {
                    id,
                    row: None,
                    tags: Vec::new(),
                    filled: None,
                });
            }
        }
    }

    // A reply joins its parent's thread (see `thread_id` in migration 0010).
    let (in_reply_to_account_id, thread_id): (Option<Id>, Option<Id>) = match new.in_reply_to {
        Some(parent) => {
            let r = c
                .query_one(
                    "SELECT account_id, COALESCE(thread_id, id) FROM statuses WHERE id = ?1 AND reblog_of_id IS NULL",
                    &args![parent],
                )
                .await?;
            (Some(r.get(0)?), Some(r.get(1)?))
        }
        None => (None, None),
    };

    // From the author's row: no row, no status (the account must exist).
    let row = c
        .query_one(
            &format!(
                "INSERT INTO statuses (id, account_id, text, content, spoiler_text, sensitive, visibility, language, \
                 in_reply_to_id, in_reply_to_account_id, app_id, created_at, thread_id) \
                 SELECT COALESCE(?1, holdfast_next_id()), a.id, ?3, ?4, ?5, \
                 CASE WHEN ?14 THEN a.default_sensitive ELSE ?6 END, \
                 CASE WHEN ?15 THEN a.default_visibility ELSE ?7 END, \
                 CASE WHEN ?16 THEN a.default_language ELSE ?8 END, \
                 ?9, ?10, ?11, ?12, ?13 FROM accounts a WHERE a.id = ?2 RETURNING {STATUS_RETURNING}"
            ),
            &args![
                claimed,
                new.account_id,
                &new.text,
                &new.content,
                &new.spoiler_text,
                new.sensitive,
                new.visibility,
                new.language.as_deref(),
                new.in_reply_to,
                in_reply_to_account_id,
                new.app_id,
                now,
                thread_id,
                defaults.sensitive,
                defaults.visibility,
                defaults.language,
            ],
        )
        .await?;
    let row = status_row(&row)?;
    let id = row.id;
    let filled = filled_from(new, defaults, &row);
    // The post as it was made (`Created::filled`).
    let new = filled.as_ref().unwrap_or(new);
    for account in &new.mentions {
        c.execute(
            "INSERT INTO mentions (status_id, account_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &args![id, *account],
        )
        .await?;
    }
    let mentioned: Vec<Id> = new
        .mentions
        .iter()
        .copied()
        .filter(|a| *a != new.account_id)
        .collect();
    notify_all(
        c,
        &mentioned,
        new.account_id,
        NotificationType::Mention,
        Some(id),
    )
    .await?;
    let mut tags: Vec<TagRef> = Vec::with_capacity(new.tags.len());
    // Linked first, the tag created only when that found none: most tags
    // exist, and creating one mints an id even when it is there (on
    // PostgreSQL a function call and a read; bench/perf, session 10 pg).
    for tag in &new.tags {
        let mut linked = link_tag(c, tag, id).await?;
        if linked.is_none() {
            c.execute(
                "INSERT INTO tags (id, name) VALUES (holdfast_next_id(), ?1) ON CONFLICT (name) DO NOTHING",
                &args![tag],
            )
            .await?;
            linked = link_tag(c, tag, id).await?;
        }
        if let Some(r) = linked {
            tags.push(TagRef {
                id: r.get(0)?,
                name: tag.clone(),
            });
        }
    }
    tags.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    // Attach the uploads: each must be the author's and not yet attached
    // (nor reserved by a scheduled status).
    // One failure rolls back the whole post (the caller's transaction); on
    // PostgreSQL the row lock taken by UPDATE makes two posts racing for one
    // upload attach it once.
    for (position, media_id) in new.media_ids.iter().enumerate() {
        let attached = c
            .execute(
                "UPDATE media_attachments SET status_id = ?1, position = ?2 \
                 WHERE id = ?3 AND account_id = ?4 AND status_id IS NULL AND scheduled_status_id IS NULL",
                &args![id, position as i64, *media_id, new.account_id],
            )
            .await?;
        if attached != 1 {
            return Err(StoreError::Rejected(
                "media_ids must name your own uploads that no status uses yet",
            ));
        }
    }
    if let Some(add) = c.dialect().search_index_add() {
        let body = format!("{} {}", new.spoiler_text, new.text);
        c.execute(add, &args![id, &body]).await?;
    }
    if let Some(poll) = &new.poll {
        super::polls::create(c, id, new.account_id, poll, now).await?;
    }
    if let Some(parent) = new.in_reply_to {
        if counts_as_reply(new.visibility) {
            c.execute(
                "UPDATE statuses SET replies_count = replies_count + 1, version = version + 1 WHERE id = ?1",
                &args![parent],
            )
            .await?;
        }
    }
    if new.visibility == Visibility::Direct {
        super::conversations::add_status(c, id, new.account_id, new.in_reply_to, &new.mentions)
            .await?;
    }
    Ok(Created {
        id,
        row: Some(row),
        tags,
        filled,
    })
}

/// Links status `id` to the existing tag `name`: its row (the tag's id), or
/// None when there is no such tag (or the link was there).
async fn link_tag(c: &dyn Conn, name: &str, id: Id) -> StoreResult<Option<super::Row>> {
    c.query_opt(
        "INSERT INTO status_tags (tag_id, status_id) SELECT id, ?2 FROM tags WHERE name = ?1 \
         ON CONFLICT DO NOTHING RETURNING tag_id",
        &args![name, id],
    )
    .await
}

/// A status just posted as its author sees it, from what the post wrote
/// (bench/perf, issue 10: reading it again after the commit cost the
/// request a second trip through the store and eight statements). Only
/// for a plain new status: one with media or a poll, a reply (the author
/// may have muted the thread) or a repeated Idempotency-Key is read as any
/// other (None). What a fresh status cannot have yet (favourites, reblogs,
/// bookmarks, a pin, a mute) is empty; its row is the one the INSERT
/// returned, its author the row the fan-out decision read in this
/// transaction after the INSERT (`author`, None when that row has changed
/// since), and only what is missing (mentioned accounts, the author when
/// None) is read here.
pub async fn fresh_bundle(
    c: &dyn Conn,
    new: &NewStatus,
    created: Created,
    author: Option<AccountRow>,
) -> StoreResult<Option<(StatusBundle, Parts)>> {
    let Created { id, row, tags, .. } = created;
    let Some(status) = row else {
        return Ok(None);
    };
    if !new.media_ids.is_empty() || new.poll.is_some() || new.in_reply_to.is_some() {
        return Ok(None);
    }
    let mut mentions = new.mentions.clone();
    mentions.sort_unstable();
    mentions.dedup();
    let author = author.filter(|a| a.id == status.account_id);
    // The accounts still to read: none for a post without mentions.
    let mut account_ids = mentions.clone();
    match &author {
        Some(author) => account_ids.retain(|a| *a != author.id),
        None => account_ids.push(status.account_id),
    }
    account_ids.sort_unstable();
    account_ids.dedup();
    let mut accounts: HashMap<Id, AccountRow> = accounts::by_ids(c, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    if let Some(author) = author {
        accounts.insert(author.id, author);
    }
    let parts = Parts {
        mentions,
        tags,
        media: Vec::new(),
    };
    let bundle = crate::assemble::BundleParts {
        statuses: HashMap::from([(id, status)]),
        mentions: HashMap::from([(id, parts.mentions.clone())]),
        tags: HashMap::from([(id, parts.tags.clone())]),
        media: HashMap::new(),
        accounts,
        favourited: FastSet::default(),
        bookmarked: FastSet::default(),
        reblogged: FastSet::default(),
        pinned: FastSet::default(),
        muted: FastSet::default(),
        polls: HashMap::new(),
    }
    .into_bundles(&[id])
    .pop();
    Ok(bundle.map(|b| (b, parts)))
}

/// Deletes a status of `account_id` (its reblogs go with it); returns the row as it was.
pub async fn delete(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
    // Locked on PostgreSQL: two nodes deleting the same status at once delete it once.
    let row = c
        .query_one(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1{}",
                c.dialect().for_update("s")
            ),
            &args![status_id],
        )
        .await?;
    let row = status_row(&row)?;
    if row.account_id != account_id {
        return Err(StoreError::NotFound);
    }
    if let Some(original) = row.reblog_of_id {
        c.execute(&decrement("reblogs_count"), &args![original])
            .await?;
        delete_notification(c, original, account_id, NotificationType::Reblog).await?;
    }
    if let Some(parent) = row.in_reply_to_id {
        if counts_as_reply(row.visibility) {
            c.execute(&decrement("replies_count"), &args![parent])
                .await?;
        }
    }
    if let Some(remove) = c.dialect().search_index_remove() {
        c.execute(remove, &args![status_id]).await?;
    }
    if row.visibility == Visibility::Direct {
        super::conversations::remove_status(c, status_id, account_id).await?;
    }
    // Reblogs, favourites, bookmarks, mentions, tags and notifications go by cascade.
    c.execute("DELETE FROM statuses WHERE id = ?1", &args![status_id])
        .await?;
    Ok(row)
}

pub async fn row(c: &dyn Conn, id: Id) -> StoreResult<StatusRow> {
    let r = c
        .query_one(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1"),
            &args![id],
        )
        .await?;
    status_row(&r)
}

pub async fn visible(c: &dyn Conn, viewer: Option<Id>, id: Id) -> StoreResult<bool> {
    c.query_one(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM statuses s WHERE s.id = ?2 AND {})",
            sql::visible_with_reblog("s")
        ),
        &args![viewer_param(viewer), id],
    )
    .await?
    .get(0)
}

async fn rows(c: &dyn Conn, ids: &[Id]) -> StoreResult<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    c.query(
        &format!(
            "SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE {}",
            c.dialect().in_ids("s.id", 1)
        ),
        &[Arg::Ids(ids)],
    )
    .await?
    .iter()
    .map(status_row)
    .collect()
}

/// Loads statuses with authors, mentions, tags, media, the viewer's flags
/// and the reblogged status, in a fixed number of queries whatever the number
/// of ids. Mentions, tags and media come from `cache` where it holds them for
/// the row's `edited_at` (see `status_parts`); only the others are read.
pub async fn bundles(
    c: &dyn Conn,
    viewer: Option<Id>,
    ids: &[Id],
    cache: &StatusParts,
) -> StoreResult<Vec<StatusBundle>> {
    let rows = page_rows(c, ids, cache).await?;
    let list: Vec<Id> = rows.statuses.keys().copied().collect();
    let viewed = viewed(c, viewer, &list).await?;
    Ok(rows.with(viewed).into_bundles(ids))
}

/// The viewer of a home page, and what its flags are kept by.
pub(crate) struct PageViewer<'a> {
    pub id: Id,
    /// The viewer's actions version as the page's read found it
    /// (`home_feed::FeedPage::actions`); None: no kept flag is used.
    pub actions: Option<i64>,
    pub kept: &'a ViewerFlagsKept,
}

/// A home page's statuses for `viewer` (issue 10, the read side): a status
/// whose fragments `kept` holds at the versions the page read saw (`seen`)
/// comes as them, taken now (`kept::take`, both tables locked once); only the others' rows are read.
/// The viewer's flags come from those kept by its actions version where they
/// are ([`page_viewed`]); the rest, and polls, are read for all at once.
pub(crate) async fn page_statuses(
    c: &dyn Conn,
    viewer: &PageViewer<'_>,
    ids: &[Id],
    seen: &FastMap<Id, SeenStatus>,
    kept: &KeptJson,
    cache: &StatusParts,
) -> StoreResult<Vec<PageStatus>> {
    let mut taken: FastMap<Id, KeptStatus> =
        FastMap::with_capacity_and_hasher(ids.len(), Default::default());
    let mut missing: Vec<Id> = Vec::new();
    {
        // Let go before any statement (the block's end): other pages wait
        // for these tables.
        let mut locked = kept.locked();
        for &id in ids {
            match seen
                .get(&id)
                .and_then(|s| crate::kept::take(&mut locked, id, s))
            {
                Some(k) => {
                    taken.insert(id, k);
                }
                None => missing.push(id),
            }
        }
    }
    let rows = page_rows(c, &missing, cache).await?;
    // Each status with its row version as read: the one the page's rules
    // read for those taken, the row's for those read.
    let mut list: Vec<(Id, i64)> = rows.statuses.values().map(|s| (s.id, s.version)).collect();
    for k in taken.values() {
        let s = &seen[&k.id];
        list.push((k.id, s.status.version));
        if let Some(((_, o), r)) = s.original.zip(k.reblog.as_ref()) {
            list.push((r.id, o.version));
        }
    }
    list.sort_unstable();
    list.dedup();
    let viewed = page_viewed(c, viewer, &list).await?;
    for k in taken.values_mut() {
        viewed.fill(k);
        if let Some(original) = k.reblog.as_deref_mut() {
            viewed.fill(original);
        }
    }
    let mut read: FastMap<Id, StatusBundle> = rows
        .with(viewed)
        .into_bundles(&missing)
        .into_iter()
        .map(|b| (b.status.id, b))
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| match taken.remove(id) {
            Some(k) => Some(PageStatus::Kept(k)),
            None => read.remove(id).map(PageStatus::Rows),
        })
        .collect())
}

/// The rows of some statuses and of those they reblog, with their
/// mentions, tags, media and accounts: all of a bundle but the viewer's part.
struct PageRows {
    statuses: HashMap<Id, StatusRow>,
    mentions: HashMap<Id, Vec<Id>>,
    tags: HashMap<Id, Vec<TagRef>>,
    media: HashMap<Id, Vec<MediaRow>>,
    accounts: HashMap<Id, AccountRow>,
}

impl PageRows {
    fn with(self, viewed: Viewed) -> crate::assemble::BundleParts {
        crate::assemble::BundleParts {
            statuses: self.statuses,
            mentions: self.mentions,
            tags: self.tags,
            media: self.media,
            accounts: self.accounts,
            favourited: viewed.flags.favourited,
            bookmarked: viewed.flags.bookmarked,
            reblogged: viewed.flags.reblogged,
            pinned: viewed.flags.pinned,
            muted: viewed.flags.muted,
            polls: viewed.polls,
        }
    }
}

/// The rows of `ids` and of the statuses they reblog (no statement for none).
async fn page_rows(c: &dyn Conn, ids: &[Id], cache: &StatusParts) -> StoreResult<PageRows> {
    let mut all = rows(c, ids).await?;
    let reblogged: Vec<Id> = all.iter().filter_map(|s| s.reblog_of_id).collect();
    all.extend(rows(c, &reblogged).await?);
    let by_id: HashMap<Id, StatusRow> = all.into_iter().map(|s| (s.id, s)).collect();

    let mut mentions: HashMap<Id, Vec<Id>> = HashMap::new();
    let mut tags: HashMap<Id, Vec<TagRef>> = HashMap::new();
    let mut media: HashMap<Id, Vec<MediaRow>> = HashMap::new();
    let mut unknown: Vec<Id> = Vec::new();
    for s in by_id.values() {
        match cache.get(s.id, &s.edited_at_ms) {
            Some(p) => {
                mentions.insert(s.id, p.mentions.clone());
                tags.insert(s.id, p.tags.clone());
                media.insert(s.id, p.media.clone());
            }
            None => unknown.push(s.id),
        }
    }
    if !unknown.is_empty() {
        let read = read_parts(c, &unknown).await?;
        for id in unknown {
            let p = Parts {
                mentions: read.mentions.get(&id).cloned().unwrap_or_default(),
                tags: read.tags.get(&id).cloned().unwrap_or_default(),
                media: read.media.get(&id).cloned().unwrap_or_default(),
            };
            mentions.insert(id, p.mentions.clone());
            tags.insert(id, p.tags.clone());
            media.insert(id, p.media.clone());
            cache.put(id, by_id[&id].edited_at_ms, std::sync::Arc::new(p));
        }
    }
    let account_ids = crate::assemble::accounts_needed(&by_id, &mentions);
    let accounts: HashMap<Id, AccountRow> = accounts::by_ids(c, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(PageRows {
        statuses: by_id,
        mentions,
        tags,
        media,
        accounts,
    })
}

/// The viewer's part of some statuses: their flags and polls as the viewer
/// sees them (no statement for none).
#[derive(Default)]
struct Viewed {
    flags: ViewerFlags,
    polls: HashMap<Id, PollView>,
}

async fn viewed(c: &dyn Conn, viewer: Option<Id>, list: &[Id]) -> StoreResult<Viewed> {
    if list.is_empty() {
        return Ok(Viewed::default());
    }
    // With a viewer, the flags' statement also says which have a poll
    // (few do): the polls are read only for those.
    let (flags, with_poll) = match viewer {
        Some(v) => {
            let mut flags = viewer_flags(c, v, list).await?;
            let with_poll = std::mem::take(&mut flags.with_poll);
            (flags, with_poll)
        }
        None => (ViewerFlags::default(), list.to_vec()),
    };
    let polls = if with_poll.is_empty() {
        HashMap::new()
    } else {
        super::polls::for_statuses(c, viewer, &with_poll).await?
    };
    Ok(Viewed { flags, polls })
}

/// The viewer's flags on one status, and whether it has a poll: what
/// [`ViewerFlagsKept`] keeps.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub(crate) struct Flags {
    favourited: bool,
    reblogged: bool,
    bookmarked: bool,
    pinned: bool,
    muted: bool,
    poll: bool,
}

/// [`Flags`] by (viewer, status), each good for one viewer's actions version
/// (migration 0033: moved by triggers on favourites, bookmarks, reblogs,
/// pins and thread mutes) and one status row version (a poll or a thread
/// changes only with the row): the versions a page read before it read the
/// flags (`home_viewer_flags_cache_max`). A page uses an entry only at the
/// versions its own read found, so whatever changes a flag, on any node,
/// changes the next page's.
///
/// Why the page's versions, not ones read with the flags: every change to
/// a flag moves one of the two in its own transaction, and the flags are
/// read after the versions on the same connection, so a kept entry is never
/// older than the versions it is kept at. A page that reads those versions
/// later started before any change the entry already shows; one that
/// starts after a change reads a moved version and misses. Reading the row
/// versions again in the flags' statement cost a probe per status (a miss
/// went from 238k to 394k instructions: bench/perf, session 14).
pub(crate) type ViewerFlagsKept = Versioned<(i64, i64), Flags, (Id, Id)>;

/// The viewer's part of a home page's statuses (`list`: each with the row
/// version the page read): flags kept at the page's actions version and the
/// status' version are taken, only the others are read (no statement when
/// none is missing) and kept at those versions; then the polls of those
/// that have one.
async fn page_viewed(
    c: &dyn Conn,
    viewer: &PageViewer<'_>,
    list: &[(Id, i64)],
) -> StoreResult<Viewed> {
    let mut flags = ViewerFlags::default();
    let mut missing: Vec<(Id, i64)> = Vec::new();
    match viewer.actions {
        Some(actions) => {
            let kept = viewer
                .kept
                .get_each(list.iter().map(|&(id, v)| ((viewer.id, id), (actions, v))));
            for (&(id, v), k) in list.iter().zip(kept) {
                match k {
                    Some(f) => flags.add(id, f),
                    None => missing.push((id, v)),
                }
            }
        }
        None => missing.extend_from_slice(list),
    }
    if !missing.is_empty() {
        // One id may be listed at two versions (read by two statements).
        let mut ids: Vec<Id> = missing.iter().map(|&(id, _)| id).collect();
        ids.dedup();
        let read = viewer_flags(c, viewer.id, &ids).await?;
        for &id in &ids {
            flags.add(id, read.of(id));
        }
        if let Some(actions) = viewer.actions {
            viewer.kept.put_all(
                missing
                    .iter()
                    .map(|&(id, v)| ((viewer.id, id), (actions, v), read.of(id))),
            );
        }
    }
    flags.with_poll.sort_unstable();
    flags.with_poll.dedup();
    let polls = if flags.with_poll.is_empty() {
        HashMap::new()
    } else {
        super::polls::for_statuses(c, Some(viewer.id), &flags.with_poll).await?
    };
    Ok(Viewed { flags, polls })
}

impl Viewed {
    /// A kept status' own part (a status may be on a page twice, as itself
    /// and reblogged: its poll is copied, not moved).
    fn fill(&self, k: &mut KeptStatus) {
        let f = &self.flags;
        k.favourited = f.favourited.contains(&k.id);
        k.reblogged = f.reblogged.contains(&k.id);
        k.bookmarked = f.bookmarked.contains(&k.id);
        k.muted = f.muted.contains(&k.id);
        k.pinned = f.pinned.contains(&k.id);
        k.poll = self.polls.get(&k.id).cloned();
    }
}

/// Mentions, tags and media of some statuses, as read.
#[derive(Default)]
struct ReadParts {
    mentions: HashMap<Id, Vec<Id>>,
    tags: HashMap<Id, Vec<TagRef>>,
    media: HashMap<Id, Vec<MediaRow>>,
}

async fn read_parts(c: &dyn Conn, list: &[Id]) -> StoreResult<ReadParts> {
    let d = c.dialect();
    let mut read = ReadParts::default();
    for r in c
        .query(
            &format!(
                "SELECT status_id, account_id FROM mentions WHERE {}",
                d.in_ids("status_id", 1)
            ),
            &[Arg::Ids(list)],
        )
        .await?
    {
        read.mentions.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    for r in c
        .query(
            &format!(
                "SELECT st.status_id, t.name, t.id FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE {} ORDER BY {}",
                d.in_ids("st.status_id", 1),
                d.byte_order("t.name")
            ),
            &[Arg::Ids(list)],
        )
        .await?
    {
        read.tags.entry(r.get(0)?).or_default().push(TagRef {
            name: r.get(1)?,
            id: r.get(2)?,
        });
    }
    for r in c
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE {} ORDER BY m.status_id, m.position",
                d.in_ids("m.status_id", 1)
            ),
            &[Arg::Ids(list)],
        )
        .await?
    {
        let row = media_row(&r)?;
        if let Some(status) = row.status_id {
            read.media.entry(status).or_default().push(row);
        }
    }
    Ok(read)
}

/// Which of `ids` the viewer favourited, bookmarked, reblogged, pinned, or
/// sees in a thread it muted; and which have a poll.
#[derive(Default)]
struct ViewerFlags {
    favourited: FastSet<Id>,
    bookmarked: FastSet<Id>,
    reblogged: FastSet<Id>,
    pinned: FastSet<Id>,
    muted: FastSet<Id>,
    with_poll: Vec<Id>,
}

impl ViewerFlags {
    /// One status' flags (`with_poll` is looked through: a page has few).
    fn of(&self, id: Id) -> Flags {
        Flags {
            favourited: self.favourited.contains(&id),
            reblogged: self.reblogged.contains(&id),
            bookmarked: self.bookmarked.contains(&id),
            pinned: self.pinned.contains(&id),
            muted: self.muted.contains(&id),
            poll: self.with_poll.contains(&id),
        }
    }

    fn add(&mut self, id: Id, f: Flags) {
        for (set, on) in [
            (&mut self.favourited, f.favourited),
            (&mut self.reblogged, f.reblogged),
            (&mut self.bookmarked, f.bookmarked),
            (&mut self.pinned, f.pinned),
            (&mut self.muted, f.muted),
        ] {
            if on {
                set.insert(id);
            }
        }
        if f.poll {
            self.with_poll.push(id);
        }
    }
}

/// The viewer's flags for a page in one statement (one round trip on
/// PostgreSQL, one prepared statement on SQLite), each row tagged with its flag.
/// Each arm walks the ids and probes its table (a join, not `IN`: see
/// `Dialect::ids_table`); the arms of what few viewers have at all
/// (bookmarks, pins, muted threads) first ask whether this one has any, once.
async fn viewer_flags(c: &dyn Conn, viewer: Id, ids: &[Id]) -> StoreResult<ViewerFlags> {
    let j = c.dialect().ids_table(2, "j");
    let sql = format!(
        "SELECT CAST(1 AS BIGINT), f.status_id FROM {j} CROSS JOIN favourites f \
           WHERE f.account_id = ?1 AND f.status_id = j.value \
         UNION ALL SELECT CAST(2 AS BIGINT), b.status_id FROM {j} CROSS JOIN bookmarks b \
           WHERE EXISTS (SELECT 1 FROM bookmarks WHERE account_id = ?1) \
             AND b.account_id = ?1 AND b.status_id = j.value \
         UNION ALL SELECT CAST(3 AS BIGINT), r.reblog_of_id FROM {j} CROSS JOIN statuses r \
           WHERE r.account_id = ?1 AND r.reblog_of_id = j.value \
         UNION ALL SELECT CAST(4 AS BIGINT), p.status_id FROM {j} CROSS JOIN status_pins p \
           WHERE EXISTS (SELECT 1 FROM status_pins WHERE account_id = ?1) \
             AND p.account_id = ?1 AND p.status_id = j.value \
         UNION ALL SELECT CAST(5 AS BIGINT), s.id FROM {j} CROSS JOIN statuses s CROSS JOIN conversation_mutes cm \
           WHERE EXISTS (SELECT 1 FROM conversation_mutes WHERE account_id = ?1) \
             AND s.id = j.value AND cm.account_id = ?1 AND cm.thread_id = COALESCE(s.thread_id, s.id) \
         UNION ALL SELECT CAST(6 AS BIGINT), p.status_id FROM {j} CROSS JOIN polls p WHERE p.status_id = j.value"
    );
    let mut flags = ViewerFlags::default();
    for r in c.query(&sql, &[Arg::Int(viewer), Arg::Ids(ids)]).await? {
        let set = match r.get::<i64>(0)? {
            1 => &mut flags.favourited,
            2 => &mut flags.bookmarked,
            3 => &mut flags.reblogged,
            4 => &mut flags.pinned,
            5 => &mut flags.muted,
            _ => {
                flags.with_poll.push(r.get(1)?);
                continue;
            }
        };
        set.insert(r.get(1)?);
    }
    // A status on the page twice (itself and reblogged) was probed twice.
    flags.with_poll.sort_unstable();
    flags.with_poll.dedup();
    Ok(flags)
}

/// Ancestors oldest first; descendants in the order they were posted. Reply
/// chains are followed at most `depth_max` deep either way (`thread_depth_max`).
///
/// `CROSS JOIN` makes SQLite walk the (small) chain and look each status up by
/// id. With a plain join, SQLite 3.50 knows nothing of the chain's size and,
/// to save the sort, scans every status in id order probing the chain: 200 to
/// 400 ms per request on 100k statuses, even for a status with no replies.
/// PostgreSQL plans a `CROSS JOIN … WHERE` like any inner join.
pub async fn context(
    c: &dyn Conn,
    viewer: Option<Id>,
    id: Id,
    max_each: u32,
    depth_max: u32,
) -> StoreResult<(Vec<Id>, Vec<Id>)> {
    let v = viewer_param(viewer);
    let ancestors = c
        .query(
            &format!(
                "WITH RECURSIVE up(id, depth) AS ( \
                     SELECT in_reply_to_id, CAST(1 AS BIGINT) FROM statuses WHERE id = ?2 AND in_reply_to_id IS NOT NULL \
                     UNION ALL \
                     SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id \
                     WHERE s.in_reply_to_id IS NOT NULL AND up.depth < ?3) \
                 SELECT s.id FROM up CROSS JOIN statuses s WHERE s.id = up.id AND {} ORDER BY s.id ASC",
                sql::visible("s")
            ),
            &args![v, id, max_each.min(depth_max)],
        )
        .await?;
    let descendants = c
        .query(
            &format!(
                "WITH RECURSIVE down(id, depth) AS ( \
                     SELECT id, CAST(1 AS BIGINT) FROM statuses WHERE in_reply_to_id = ?2 \
                     UNION ALL \
                     SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < ?4) \
                 SELECT s.id FROM down CROSS JOIN statuses s WHERE s.id = down.id AND {} AND {} ORDER BY s.id ASC LIMIT ?3",
                sql::visible("s"),
                sql::not_filtered("s")
            ),
            &args![v, id, max_each, depth_max],
        )
        .await?;
    Ok((
        ancestors
            .iter()
            .map(|r| r.get(0))
            .collect::<StoreResult<_>>()?,
        descendants
            .iter()
            .map(|r| r.get(0))
            .collect::<StoreResult<_>>()?,
    ))
}

/// Undoing an action takes back the notification it caused, as Mastodon does.
async fn delete_notification(
    c: &dyn Conn,
    status_id: Id,
    from: Id,
    kind: NotificationType,
) -> StoreResult<()> {
    c.execute(
        "DELETE FROM notifications WHERE status_id = ?1 AND from_account_id = ?2 AND type = ?3",
        &args![status_id, from, kind.as_str()],
    )
    .await?;
    Ok(())
}

async fn author_of(c: &dyn Conn, status_id: Id) -> StoreResult<Id> {
    c.query_one(
        "SELECT account_id FROM statuses WHERE id = ?1",
        &args![status_id],
    )
    .await?
    .get(0)
}

pub async fn favourite(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    let author = author_of(c, status_id).await?;
    let added = c
        .execute(
            "INSERT INTO favourites (id, account_id, status_id) VALUES (holdfast_next_id(), ?1, ?2) \
             ON CONFLICT (account_id, status_id) DO NOTHING",
            &args![account_id, status_id],
        )
        .await?;
    if added == 1 {
        c.execute(
            "UPDATE statuses SET favourites_count = favourites_count + 1, version = version + 1 WHERE id = ?1",
            &args![status_id],
        )
        .await?;
        if author != account_id {
            notify(
                c,
                author,
                account_id,
                NotificationType::Favourite,
                Some(status_id),
            )
            .await?;
        }
    }
    Ok(())
}

pub async fn unfavourite(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM favourites WHERE account_id = ?1 AND status_id = ?2",
            &args![account_id, status_id],
        )
        .await?;
    if removed == 1 {
        c.execute(&decrement("favourites_count"), &args![status_id])
            .await?;
        delete_notification(c, status_id, account_id, NotificationType::Favourite).await?;
    }
    Ok(())
}

/// Returns the id of the reblog, existing or new.
pub async fn reblog(
    c: &dyn Conn,
    account_id: Id,
    status_id: Id,
    visibility: Visibility,
) -> StoreResult<Id> {
    let author = author_of(c, status_id).await?;
    // The partial unique index settles two reblogs racing: one inserts, the other finds it.
    let inserted = c
        .query_opt(
            "INSERT INTO statuses (id, account_id, text, content, visibility, reblog_of_id, created_at) \
             VALUES (holdfast_next_id(), ?1, '', '', ?2, ?3, ?4) \
             ON CONFLICT (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL DO NOTHING RETURNING id",
            &args![account_id, visibility, status_id, now_ms()],
        )
        .await?;
    let Some(row) = inserted else {
        return c
            .query_one(
                "SELECT id FROM statuses WHERE account_id = ?1 AND reblog_of_id = ?2",
                &args![account_id, status_id],
            )
            .await?
            .get(0);
    };
    let id: Id = row.get(0)?;
    c.execute(
        "UPDATE statuses SET reblogs_count = reblogs_count + 1, version = version + 1 WHERE id = ?1",
        &args![status_id],
    )
    .await?;
    if author != account_id {
        notify(
            c,
            author,
            account_id,
            NotificationType::Reblog,
            Some(status_id),
        )
        .await?;
    }
    Ok(id)
}

pub async fn unreblog(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM statuses WHERE account_id = ?1 AND reblog_of_id = ?2",
            &args![account_id, status_id],
        )
        .await?;
    if removed == 1 {
        c.execute(&decrement("reblogs_count"), &args![status_id])
            .await?;
        delete_notification(c, status_id, account_id, NotificationType::Reblog).await?;
    }
    Ok(())
}

pub async fn bookmark(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    author_of(c, status_id).await?;
    c.execute(
        "INSERT INTO bookmarks (id, account_id, status_id) VALUES (holdfast_next_id(), ?1, ?2) \
         ON CONFLICT (account_id, status_id) DO NOTHING",
        &args![account_id, status_id],
    )
    .await?;
    Ok(())
}

pub async fn unbookmark(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM bookmarks WHERE account_id = ?1 AND status_id = ?2",
        &args![account_id, status_id],
    )
    .await?;
    Ok(())
}

/// Accounts that favourited the status (paged by favourite), leaving out suspended ones.
pub async fn favourited_by(c: &dyn Conn, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::accounts_of(c, "favourites", "status_id", "account_id", status_id, page).await
}

/// Accounts that reblogged the status (paged by reblog), leaving out suspended ones.
pub async fn reblogged_by(c: &dyn Conn, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::accounts_of(c, "statuses", "reblog_of_id", "account_id", status_id, page).await
}
