use std::collections::{HashMap, HashSet};

use super::accounts;
use super::pool::Db;
use super::sql::{self, clean, status_row, viewer_param, STATUS_COLUMNS, STATUS_FROM};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Replies deeper than this are not followed when building a thread.
const THREAD_DEPTH_MAX: i64 = 256;

/// Posts a status with its mentions, tags and notifications, in the caller's transaction.
///
/// Idempotency with several nodes: the key row is claimed first, with
/// `ON CONFLICT DO NOTHING`. If another transaction holds the same key, this
/// INSERT waits for it to finish; if it committed, the INSERT does nothing
/// and we return the status it made. So the same Idempotency-Key posted to
/// two nodes at the same moment yields one status.
pub async fn create(db: Db<'_>, new: &NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
    let now = now_ms();
    let mut claimed: Option<Id> = None;
    if let Some(key) = &new.idempotency_key {
        let key = clean(key);
        let oldest_valid = now - (idempotency_ttl_s as i64) * 1000;
        db.execute(
            "DELETE FROM idempotency_keys WHERE account_id = $1 AND created_at < $2",
            &[&new.account_id, &oldest_valid],
        )
        .await?;
        let row = db
            .query_opt(
                "INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES ($1, $2, holdfast_next_id(), $3) \
                 ON CONFLICT (account_id, key) DO NOTHING RETURNING status_id",
                &[&new.account_id, &key, &now],
            )
            .await?;
        match row {
            Some(r) => claimed = Some(r.get(0)),
            None => {
                let earlier = db
                    .query_one(
                        "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2",
                        &[&new.account_id, &key],
                    )
                    .await?;
                return Ok(earlier.get(0));
            }
        }
    }

    let in_reply_to_account_id: Option<Id> = match new.in_reply_to {
        Some(parent) => Some(
            db.query_one(
                "SELECT account_id FROM statuses WHERE id = $1 AND reblog_of_id IS NULL",
                &[&parent],
            )
            .await?
            .get(0),
        ),
        None => None,
    };

    let id: Id = db
        .query_one(
            "INSERT INTO statuses (id, account_id, text, content, spoiler_text, sensitive, visibility, language, \
             in_reply_to_id, in_reply_to_account_id, app_id, created_at) \
             VALUES (COALESCE($1, holdfast_next_id()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            &[
                &claimed,
                &new.account_id,
                &clean(&new.text),
                &clean(&new.content),
                &clean(&new.spoiler_text),
                &new.sensitive,
                &(new.visibility as i32),
                &new.language.as_deref().map(clean),
                &new.in_reply_to,
                &in_reply_to_account_id,
                &new.app_id,
                &now,
            ],
        )
        .await?
        .get(0);
    for account in &new.mentions {
        db.execute(
            "INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, account],
        )
        .await?;
        if *account != new.account_id {
            notify(
                db,
                *account,
                new.account_id,
                NotificationType::Mention,
                Some(id),
            )
            .await?;
        }
    }
    for tag in &new.tags {
        let tag = clean(tag);
        db.execute(
            "INSERT INTO tags (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
            &[&tag],
        )
        .await?;
        db.execute(
            "INSERT INTO status_tags (tag_id, status_id) SELECT id, $2 FROM tags WHERE name = $1 ON CONFLICT DO NOTHING",
            &[&tag, &id],
        )
        .await?;
    }
    // Attach the uploads: each must be the author's and not yet attached.
    // One failure rolls back the whole post (the caller's transaction); the
    // row lock taken by UPDATE makes two posts racing for one upload attach it once.
    for (position, media_id) in new.media_ids.iter().enumerate() {
        let attached = db
            .execute(
                "UPDATE media_attachments SET status_id = $1, position = $2 \
                 WHERE id = $3 AND account_id = $4 AND status_id IS NULL",
                &[&id, &(position as i32), media_id, &new.account_id],
            )
            .await?;
        if attached != 1 {
            return Err(StoreError::Rejected(
                "media_ids must name your own uploads that no status uses yet",
            ));
        }
    }
    if let Some(parent) = new.in_reply_to {
        // Mastodon counts only replies that anyone could see.
        if matches!(new.visibility, Visibility::Public | Visibility::Unlisted) {
            db.execute(
                "UPDATE statuses SET replies_count = replies_count + 1 WHERE id = $1",
                &[&parent],
            )
            .await?;
        }
    }
    Ok(id)
}

pub async fn delete(db: Db<'_>, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
    // FOR UPDATE OF s: two nodes deleting the same status at once delete it once.
    let row = db
        .query_one(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = $1 FOR UPDATE OF s"),
            &[&status_id],
        )
        .await?;
    let row = status_row(&row);
    if row.account_id != account_id {
        return Err(StoreError::NotFound);
    }
    if let Some(original) = row.reblog_of_id {
        db.execute(
            "UPDATE statuses SET reblogs_count = GREATEST(reblogs_count - 1, 0) WHERE id = $1",
            &[&original],
        )
        .await?;
        delete_notification(db, original, account_id, NotificationType::Reblog).await?;
    }
    if let Some(parent) = row.in_reply_to_id {
        if matches!(row.visibility, Visibility::Public | Visibility::Unlisted) {
            db.execute(
                "UPDATE statuses SET replies_count = GREATEST(replies_count - 1, 0) WHERE id = $1",
                &[&parent],
            )
            .await?;
        }
    }
    // Reblogs, favourites, bookmarks, mentions, tags and notifications go by cascade.
    db.execute("DELETE FROM statuses WHERE id = $1", &[&status_id])
        .await?;
    Ok(row)
}

pub async fn row(db: Db<'_>, id: Id) -> StoreResult<StatusRow> {
    Ok(status_row(
        &db.query_one(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = $1"),
            &[&id],
        )
        .await?,
    ))
}

pub async fn visible(db: Db<'_>, viewer: Option<Id>, id: Id) -> StoreResult<bool> {
    let r = db
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM statuses s WHERE s.id = $2 AND {})",
                sql::visible_with_reblog("s")
            ),
            &[&viewer_param(viewer), &id],
        )
        .await?;
    Ok(r.get(0))
}

async fn rows(db: Db<'_>, ids: &[Id]) -> StoreResult<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ANY($1)"),
            &[&ids],
        )
        .await?;
    Ok(rows.iter().map(status_row).collect())
}

/// Loads statuses with authors, mentions, tags, the viewer's flags and the
/// reblogged status, in a fixed number of queries whatever the number of ids.
pub async fn bundles(db: Db<'_>, viewer: Option<Id>, ids: &[Id]) -> StoreResult<Vec<StatusBundle>> {
    let mut all = rows(db, ids).await?;
    let reblogged: Vec<Id> = all.iter().filter_map(|s| s.reblog_of_id).collect();
    all.extend(rows(db, &reblogged).await?);
    let by_id: HashMap<Id, StatusRow> = all.into_iter().map(|s| (s.id, s)).collect();
    let list: Vec<Id> = by_id.keys().copied().collect();

    let mut mentions: HashMap<Id, Vec<Id>> = HashMap::new();
    for r in db
        .query(
            "SELECT status_id, account_id FROM mentions WHERE status_id = ANY($1)",
            &[&list],
        )
        .await?
    {
        mentions.entry(r.get(0)).or_default().push(r.get(1));
    }
    let mut tags: HashMap<Id, Vec<TagRef>> = HashMap::new();
    // COLLATE "C": byte order, as SQLite sorts text.
    for r in db
        .query(
            "SELECT st.status_id, t.name, t.id FROM status_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = ANY($1) \
             ORDER BY t.name COLLATE \"C\"",
            &[&list],
        )
        .await?
    {
        tags.entry(r.get(0)).or_default().push(TagRef {
            name: r.get(1),
            id: r.get(2),
        });
    }
    let mut media: HashMap<Id, Vec<MediaRow>> = HashMap::new();
    for r in db
        .query(
            &format!(
                "SELECT {} FROM media_attachments m WHERE m.status_id = ANY($1) ORDER BY m.status_id, m.position",
                sql::MEDIA_COLUMNS
            ),
            &[&list],
        )
        .await?
    {
        let row = sql::media_row(&r);
        if let Some(status) = row.status_id {
            media.entry(status).or_default().push(row);
        }
    }
    let account_ids = crate::assemble::accounts_needed(&by_id, &mentions);
    let accounts: HashMap<Id, AccountRow> = accounts::by_ids(db, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();

    let id_set =
        |rows: Vec<tokio_postgres::Row>| -> HashSet<Id> { rows.iter().map(|r| r.get(0)).collect() };
    let (favourited, bookmarked, reblogged_by_viewer) = match viewer {
        Some(v) => (
            id_set(db.query("SELECT status_id FROM favourites WHERE account_id = $1 AND status_id = ANY($2)", &[&v, &list]).await?),
            id_set(db.query("SELECT status_id FROM bookmarks WHERE account_id = $1 AND status_id = ANY($2)", &[&v, &list]).await?),
            id_set(
                db.query("SELECT reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id = ANY($2)", &[&v, &list]).await?,
            ),
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
pub async fn context(
    db: Db<'_>,
    viewer: Option<Id>,
    id: Id,
    max_each: u32,
) -> StoreResult<(Vec<Id>, Vec<Id>)> {
    let v = viewer_param(viewer);
    let depth = (max_each as i64).min(THREAD_DEPTH_MAX);
    let ancestors = db
        .query(
            &format!(
                "WITH RECURSIVE up(id, depth) AS ( \
                     SELECT in_reply_to_id, 1::BIGINT FROM statuses WHERE id = $2 AND in_reply_to_id IS NOT NULL \
                     UNION ALL \
                     SELECT s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.id \
                     WHERE s.in_reply_to_id IS NOT NULL AND up.depth < $3::BIGINT) \
                 SELECT s.id FROM up JOIN statuses s ON s.id = up.id WHERE {} ORDER BY s.id ASC",
                sql::visible("s")
            ),
            &[&v, &id, &depth],
        )
        .await?;
    let descendants = db
        .query(
            &format!(
                "WITH RECURSIVE down(id, depth) AS ( \
                     SELECT id, 1::BIGINT FROM statuses WHERE in_reply_to_id = $2 \
                     UNION ALL \
                     SELECT s.id, down.depth + 1 FROM statuses s JOIN down ON s.in_reply_to_id = down.id WHERE down.depth < $4::BIGINT) \
                 SELECT s.id FROM down JOIN statuses s ON s.id = down.id WHERE {} AND {} ORDER BY s.id ASC LIMIT $3",
                sql::visible("s"),
                sql::not_filtered("s")
            ),
            &[&v, &id, &(max_each as i64), &THREAD_DEPTH_MAX],
        )
        .await?;
    Ok((
        ancestors.iter().map(|r| r.get(0)).collect(),
        descendants.iter().map(|r| r.get(0)).collect(),
    ))
}

pub(crate) async fn notify(
    db: Db<'_>,
    to: Id,
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<()> {
    let now = now_ms();
    let group_key = super::notifications::group_key_for(db, to, kind, status, now).await?;
    db.execute(
        "INSERT INTO notifications (account_id, from_account_id, type, status_id, created_at, group_key) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT DO NOTHING",
        &[&to, &from, &kind.as_str(), &status, &now, &group_key],
    )
    .await?;
    Ok(())
}

/// Undoing an action takes back the notification it caused, as Mastodon does.
async fn delete_notification(
    db: Db<'_>,
    status_id: Id,
    from: Id,
    kind: NotificationType,
) -> StoreResult<()> {
    db.execute(
        "DELETE FROM notifications WHERE status_id = $1 AND from_account_id = $2 AND type = $3",
        &[&status_id, &from, &kind.as_str()],
    )
    .await?;
    Ok(())
}

async fn author_of(db: Db<'_>, status_id: Id) -> StoreResult<Id> {
    Ok(db
        .query_one(
            "SELECT account_id FROM statuses WHERE id = $1",
            &[&status_id],
        )
        .await?
        .get(0))
}

pub async fn favourite(db: Db<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let author = author_of(db, status_id).await?;
    let added = db
        .execute(
            "INSERT INTO favourites (account_id, status_id) VALUES ($1, $2) ON CONFLICT (account_id, status_id) DO NOTHING",
            &[&account_id, &status_id],
        )
        .await?;
    if added == 1 {
        db.execute(
            "UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = $1",
            &[&status_id],
        )
        .await?;
        if author != account_id {
            notify(
                db,
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

pub async fn unfavourite(db: Db<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = db
        .execute(
            "DELETE FROM favourites WHERE account_id = $1 AND status_id = $2",
            &[&account_id, &status_id],
        )
        .await?;
    if removed == 1 {
        db.execute("UPDATE statuses SET favourites_count = GREATEST(favourites_count - 1, 0) WHERE id = $1", &[&status_id]).await?;
        delete_notification(db, status_id, account_id, NotificationType::Favourite).await?;
    }
    Ok(())
}

pub async fn reblog(
    db: Db<'_>,
    account_id: Id,
    status_id: Id,
    visibility: Visibility,
) -> StoreResult<Id> {
    let author = author_of(db, status_id).await?;
    // The partial unique index settles two reblogs racing: one inserts, the other finds it.
    let inserted = db
        .query_opt(
            "INSERT INTO statuses (account_id, text, content, visibility, reblog_of_id, created_at) VALUES ($1, '', '', $2, $3, $4) \
             ON CONFLICT (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL DO NOTHING RETURNING id",
            &[&account_id, &(visibility as i32), &status_id, &now_ms()],
        )
        .await?;
    let Some(row) = inserted else {
        let existing = db
            .query_one(
                "SELECT id FROM statuses WHERE account_id = $1 AND reblog_of_id = $2",
                &[&account_id, &status_id],
            )
            .await?;
        return Ok(existing.get(0));
    };
    let id: Id = row.get(0);
    db.execute(
        "UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = $1",
        &[&status_id],
    )
    .await?;
    if author != account_id {
        notify(
            db,
            author,
            account_id,
            NotificationType::Reblog,
            Some(status_id),
        )
        .await?;
    }
    Ok(id)
}

pub async fn unreblog(db: Db<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    let removed = db
        .execute(
            "DELETE FROM statuses WHERE account_id = $1 AND reblog_of_id = $2",
            &[&account_id, &status_id],
        )
        .await?;
    if removed == 1 {
        db.execute(
            "UPDATE statuses SET reblogs_count = GREATEST(reblogs_count - 1, 0) WHERE id = $1",
            &[&status_id],
        )
        .await?;
        delete_notification(db, status_id, account_id, NotificationType::Reblog).await?;
    }
    Ok(())
}

pub async fn bookmark(db: Db<'_>, account_id: Id, status_id: Id) -> StoreResult<()> {
    author_of(db, status_id).await?;
    db.execute(
        "INSERT INTO bookmarks (account_id, status_id) VALUES ($1, $2) ON CONFLICT (account_id, status_id) DO NOTHING",
        &[&account_id, &status_id],
    )
    .await?;
    Ok(())
}
