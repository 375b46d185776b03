use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::sql::{self, status_row, viewer_param, STATUS_COLUMNS, STATUS_FROM};
use super::{accounts, Tx};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Replies deeper than this are not followed when building a thread.
const THREAD_DEPTH_MAX: u32 = 256;

pub fn create(t: &mut Tx<'_>, new: &NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
    let now = now_ms();
    if let Some(key) = &new.idempotency_key {
        let oldest_valid = now - (idempotency_ttl_s as i64) * 1000;
        t.tx.execute(
            "DELETE FROM idempotency_keys WHERE account_id = ?1 AND created_at < ?2",
            params![new.account_id, oldest_valid],
        )?;
        let earlier: Option<Id> =
            t.tx.query_row(
                "SELECT status_id FROM idempotency_keys WHERE account_id = ?1 AND key = ?2",
                params![new.account_id, key],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = earlier {
            return Ok(id);
        }
    }

    let in_reply_to_account_id: Option<Id> = match new.in_reply_to {
        Some(parent) => Some(
            t.tx.query_row(
                "SELECT account_id FROM statuses WHERE id = ?1 AND reblog_of_id IS NULL",
                [parent],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NotFound)?,
        ),
        None => None,
    };

    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO statuses (id, account_id, text, content, spoiler_text, sensitive, visibility, language, \
         in_reply_to_id, in_reply_to_account_id, app_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            new.account_id,
            new.text,
            new.content,
            new.spoiler_text,
            new.sensitive,
            new.visibility as i64,
            new.language,
            new.in_reply_to,
            in_reply_to_account_id,
            new.app_id,
            now
        ],
    )?;
    for account in &new.mentions {
        t.tx.execute(
            "INSERT OR IGNORE INTO mentions (status_id, account_id) VALUES (?1, ?2)",
            [id, *account],
        )?;
        if *account != new.account_id {
            notify(
                t,
                *account,
                new.account_id,
                NotificationType::Mention,
                Some(id),
            )?;
        }
    }
    for tag in &new.tags {
        t.tx.execute(
            "INSERT OR IGNORE INTO tags (id, name) VALUES (?1, ?2)",
            params![t.ids.next(), tag],
        )?;
        t.tx.execute(
            "INSERT OR IGNORE INTO status_tags (tag_id, status_id) SELECT id, ?2 FROM tags WHERE name = ?1",
            params![tag, id],
        )?;
    }
    // Attach the uploads: each must be the author's and not yet attached.
    // One failure rolls back the whole post (the caller's transaction).
    for (position, media_id) in new.media_ids.iter().enumerate() {
        let attached = t.tx.execute(
            "UPDATE media_attachments SET status_id = ?1, position = ?2 \
             WHERE id = ?3 AND account_id = ?4 AND status_id IS NULL",
            params![id, position as i64, media_id, new.account_id],
        )?;
        if attached != 1 {
            return Err(StoreError::Rejected(
                "media_ids must name your own uploads that no status uses yet",
            ));
        }
    }
    t.tx.execute(
        "INSERT INTO status_search (rowid, body) VALUES (?1, ?2)",
        params![id, format!("{} {}", new.spoiler_text, new.text)],
    )?;
    if let Some(parent) = new.in_reply_to {
        // Mastodon counts only replies that anyone could see.
        if matches!(new.visibility, Visibility::Public | Visibility::Unlisted) {
            t.tx.execute(
                "UPDATE statuses SET replies_count = replies_count + 1 WHERE id = ?1",
                [parent],
            )?;
        }
    }
    if let Some(key) = &new.idempotency_key {
        t.tx.execute(
            "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![new.account_id, key, id, now],
        )?;
    }
    Ok(id)
}

pub fn delete(t: &mut Tx<'_>, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
    let row = row(&t.tx, status_id)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if row.account_id != account_id {
        return Err(StoreError::NotFound);
    }
    if let Some(original) = row.reblog_of_id {
        t.tx.execute(
            "UPDATE statuses SET reblogs_count = MAX(reblogs_count - 1, 0) WHERE id = ?1",
            [original],
        )?;
        delete_notification(t, original, account_id, NotificationType::Reblog)?;
    }
    if let Some(parent) = row.in_reply_to_id {
        if matches!(row.visibility, Visibility::Public | Visibility::Unlisted) {
            t.tx.execute(
                "UPDATE statuses SET replies_count = MAX(replies_count - 1, 0) WHERE id = ?1",
                [parent],
            )?;
        }
    }
    t.tx.execute("DELETE FROM status_search WHERE rowid = ?1", [status_id])?;
    // Reblogs, favourites, bookmarks, mentions, tags and notifications go by cascade.
    t.tx.execute("DELETE FROM statuses WHERE id = ?1", [status_id])?;
    Ok(row)
}

pub fn row(c: &Connection, id: Id) -> rusqlite::Result<StatusRow> {
    c.prepare_cached(&format!(
        "SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1"
    ))?
    .query_row([id], status_row)
}

pub fn visible(c: &Connection, viewer: Option<Id>, id: Id) -> rusqlite::Result<bool> {
    c.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM statuses s WHERE s.id = ?2 AND {})",
        sql::visible_with_reblog("s")
    ))?
    .query_row([viewer_param(viewer), id], |r| r.get(0))
}

fn rows(c: &Connection, ids: &[Id]) -> rusqlite::Result<Vec<StatusRow>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id IN ({})",
        sql::id_list(ids)
    ))?;
    let rows = stmt.query_map([], status_row)?;
    rows.collect()
}

fn id_pairs(c: &Connection, query: &str) -> rusqlite::Result<Vec<(Id, Id)>> {
    let mut stmt = c.prepare(query)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

fn id_set(c: &Connection, query: &str, p: Id) -> rusqlite::Result<HashSet<Id>> {
    let mut stmt = c.prepare(query)?;
    let rows = stmt.query_map([p], |r| r.get(0))?;
    rows.collect()
}

/// Loads statuses with authors, mentions, tags, the viewer's flags and the
/// reblogged status, in nine queries whatever the number of ids.
pub fn bundles(
    c: &Connection,
    viewer: Option<Id>,
    ids: &[Id],
) -> rusqlite::Result<Vec<StatusBundle>> {
    let mut all = rows(c, ids)?;
    let reblogged: Vec<Id> = all.iter().filter_map(|s| s.reblog_of_id).collect();
    all.extend(rows(c, &reblogged)?);
    let by_id: HashMap<Id, StatusRow> = all.into_iter().map(|s| (s.id, s)).collect();
    let list = sql::id_list(&by_id.keys().copied().collect::<Vec<_>>());

    let mut mentions: HashMap<Id, Vec<Id>> = HashMap::new();
    for (status, account) in id_pairs(
        c,
        &format!("SELECT status_id, account_id FROM mentions WHERE status_id IN ({list})"),
    )? {
        mentions.entry(status).or_default().push(account);
    }
    let mut tags: HashMap<Id, Vec<TagRef>> = HashMap::new();
    {
        let mut stmt = c.prepare(&format!(
            "SELECT st.status_id, t.name, t.id FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id IN ({list}) ORDER BY t.name"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Id>(0)?,
                TagRef {
                    name: r.get(1)?,
                    id: r.get(2)?,
                },
            ))
        })?;
        for row in rows {
            let (status, tag) = row?;
            tags.entry(status).or_default().push(tag);
        }
    }
    let mut media: HashMap<Id, Vec<MediaRow>> = HashMap::new();
    {
        let mut stmt = c.prepare(&format!(
            "SELECT {} FROM media_attachments m WHERE m.status_id IN ({list}) ORDER BY m.status_id, m.position",
            sql::MEDIA_COLUMNS
        ))?;
        let rows = stmt.query_map([], sql::media_row)?;
        for row in rows {
            let row = row?;
            if let Some(status) = row.status_id {
                media.entry(status).or_default().push(row);
            }
        }
    }
    let account_ids = crate::assemble::accounts_needed(&by_id, &mentions);
    let accounts: HashMap<Id, AccountRow> = accounts::by_ids(c, &account_ids)?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();

    let (favourited, bookmarked, reblogged_by_viewer) = match viewer {
        Some(v) => (
            id_set(c, &format!("SELECT status_id FROM favourites WHERE account_id = ?1 AND status_id IN ({list})"), v)?,
            id_set(c, &format!("SELECT status_id FROM bookmarks WHERE account_id = ?1 AND status_id IN ({list})"), v)?,
            id_set(c, &format!("SELECT reblog_of_id FROM statuses WHERE account_id = ?1 AND reblog_of_id IN ({list})"), v)?,
        ),
        None => Default::default(),
    };

    Ok(crate::assemble::BundleParts {
        statuses: by_id,
        mentions,
        tags,
        media,
        accounts,
        favourited,
        bookmarked,
        reblogged: reblogged_by_viewer,
    }
    .into_bundles(ids))
}

/// Ancestors oldest first; descendants in the order they were posted.
pub fn context(
    c: &Connection,
    viewer: Option<Id>,
    id: Id,
    max_each: u32,
) -> rusqlite::Result<(Vec<Id>, Vec<Id>)> {
    let v = viewer_param(viewer);
    let ancestors = {
        let mut stmt = c.prepare_cached(&format!(
            "WITH RECURSIVE up(id, depth) AS ( \
                 SELECT in_reply_to_id, 1 FROM statuses WHERE id = ?2 AND in_reply_to_id IS NOT NULL \
                 UNION ALL \
                 SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id \
                 WHERE s.in_reply_to_id IS NOT NULL AND up.depth < ?3) \
             SELECT s.id FROM up JOIN statuses s ON s.id = up.id WHERE {} ORDER BY s.id ASC",
            sql::visible("s")
        ))?;
        let rows = stmt.query_map(params![v, id, max_each.min(THREAD_DEPTH_MAX)], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<Id>>>()?
    };
    let descendants = {
        let mut stmt = c.prepare_cached(&format!(
            "WITH RECURSIVE down(id, depth) AS ( \
                 SELECT id, 1 FROM statuses WHERE in_reply_to_id = ?2 \
                 UNION ALL \
                 SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < ?4) \
             SELECT s.id FROM down JOIN statuses s ON s.id = down.id WHERE {} AND {} ORDER BY s.id ASC LIMIT ?3",
            sql::visible("s"),
            sql::not_filtered("s")
        ))?;
        let rows = stmt.query_map(params![v, id, max_each, THREAD_DEPTH_MAX], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<Vec<Id>>>()?
    };
    Ok((ancestors, descendants))
}

pub(crate) fn notify(
    t: &Tx<'_>,
    to: Id,
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<()> {
    let now = now_ms();
    let group_key = super::notifications::group_key_for(&t.tx, to, kind, status, now)?;
    t.tx.execute(
        "INSERT OR IGNORE INTO notifications (id, account_id, from_account_id, type, status_id, created_at, group_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.ids.next(), to, from, kind.as_str(), status, now, group_key],
    )?;
    Ok(())
}

/// Undoing an action takes back the notification it caused, as Mastodon does.
fn delete_notification(
    t: &Tx<'_>,
    status_id: Id,
    from: Id,
    kind: NotificationType,
) -> StoreResult<()> {
    t.tx.execute(
        "DELETE FROM notifications WHERE status_id = ?1 AND from_account_id = ?2 AND type = ?3",
        params![status_id, from, kind.as_str()],
    )?;
    Ok(())
}

fn author_of(t: &Tx<'_>, status_id: Id) -> StoreResult<Id> {
    t.tx.query_row(
        "SELECT account_id FROM statuses WHERE id = ?1",
        [status_id],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

pub fn favourite(t: &mut Tx<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let author = author_of(t, status_id)?;
    let added = t.tx.execute(
        "INSERT OR IGNORE INTO favourites (id, account_id, status_id) VALUES (?1, ?2, ?3)",
        params![t.ids.next(), account_id, status_id],
    )?;
    if added == 1 {
        t.tx.execute(
            "UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = ?1",
            [status_id],
        )?;
        if author != account_id {
            notify(
                t,
                author,
                account_id,
                NotificationType::Favourite,
                Some(status_id),
            )?;
        }
    }
    Ok(())
}

pub fn unfavourite(t: &mut Tx<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = t.tx.execute(
        "DELETE FROM favourites WHERE account_id = ?1 AND status_id = ?2",
        [account_id, status_id],
    )?;
    if removed == 1 {
        t.tx.execute(
            "UPDATE statuses SET favourites_count = MAX(favourites_count - 1, 0) WHERE id = ?1",
            [status_id],
        )?;
        delete_notification(t, status_id, account_id, NotificationType::Favourite)?;
    }
    Ok(())
}

pub fn reblog(
    t: &mut Tx<'_>,
    account_id: Id,
    status_id: Id,
    visibility: Visibility,
) -> StoreResult<Id> {
    let author = author_of(t, status_id)?;
    let existing: Option<Id> =
        t.tx.query_row(
            "SELECT id FROM statuses WHERE account_id = ?1 AND reblog_of_id = ?2",
            [account_id, status_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO statuses (id, account_id, text, content, visibility, reblog_of_id, created_at) VALUES (?1, ?2, '', '', ?3, ?4, ?5)",
        params![id, account_id, visibility as i64, status_id, now_ms()],
    )?;
    t.tx.execute(
        "UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = ?1",
        [status_id],
    )?;
    if author != account_id {
        notify(
            t,
            author,
            account_id,
            NotificationType::Reblog,
            Some(status_id),
        )?;
    }
    Ok(id)
}

pub fn unreblog(t: &mut Tx<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = t.tx.execute(
        "DELETE FROM statuses WHERE account_id = ?1 AND reblog_of_id = ?2",
        [account_id, status_id],
    )?;
    if removed == 1 {
        t.tx.execute(
            "UPDATE statuses SET reblogs_count = MAX(reblogs_count - 1, 0) WHERE id = ?1",
            [status_id],
        )?;
        delete_notification(t, status_id, account_id, NotificationType::Reblog)?;
    }
    Ok(())
}

pub fn bookmark(t: &mut Tx<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    author_of(t, status_id)?;
    t.tx.execute(
        "INSERT OR IGNORE INTO bookmarks (id, account_id, status_id) VALUES (?1, ?2, ?3)",
        params![t.ids.next(), account_id, status_id],
    )?;
    Ok(())
}
