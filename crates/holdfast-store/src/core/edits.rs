//! Editing a status (with its history of versions), pinning statuses to a
//! profile, and muting a conversation (a thread: the replies under one
//! top status, `COALESCE(thread_id, id)`).

use std::collections::{HashMap, HashSet};

use super::notifications::notify_all;
use super::sql::{self, media_row, status_row, MEDIA_COLUMNS, STATUS_COLUMNS, STATUS_FROM};
use super::{args, Arg, Conn};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Ids written as text (`1 2 3`): how a version keeps its attachments.
pub(crate) fn ids_text(ids: &[Id]) -> String {
    ids.iter().map(Id::to_string).collect::<Vec<_>>().join(" ")
}

pub(crate) fn ids_from_text(text: &str) -> Vec<Id> {
    text.split_whitespace()
        .filter_map(|i| i.parse().ok())
        .collect()
}

/// Records the status as it is now as one version in its history.
async fn record_version(c: &dyn Conn, s: &StatusRow, at_ms: i64) -> StoreResult<()> {
    let media: Vec<Id> = c
        .query(
            "SELECT id FROM media_attachments WHERE status_id = ?1 ORDER BY position",
            &args![s.id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    let poll: Option<Id> = match c
        .query_opt("SELECT id FROM polls WHERE status_id = ?1", &args![s.id])
        .await?
    {
        Some(r) => Some(r.get(0)?),
        None => None,
    };
    let edit: Id = c
        .query_one(
            "INSERT INTO status_edits (id, status_id, text, content, spoiler_text, sensitive, media_ids, has_poll, created_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            &args![
                s.id,
                &s.text,
                &s.content,
                &s.spoiler_text,
                s.sensitive,
                &ids_text(&media),
                poll.is_some(),
                at_ms
            ],
        )
        .await?
        .get(0)?;
    if let Some(poll) = poll {
        c.execute(
            "INSERT INTO status_edit_poll_options (edit_id, position, title) \
             SELECT ?1, position, title FROM poll_options WHERE poll_id = ?2",
            &args![edit, poll],
        )
        .await?;
    }
    Ok(())
}

/// Edits a status of `account_id` (NotFound for anyone else's, and for a
/// reblog); returns the accounts that reblogged it, each told with an
/// `update` notification. The first edit records the original as the first
/// version; a status may have at most `versions_max` versions.
pub async fn edit(
    c: &dyn Conn,
    account_id: Id,
    status_id: Id,
    edit: &StatusEdit,
    versions_max: u32,
) -> StoreResult<Vec<Id>> {
    let now = now_ms();
    let row = c
        .query_one(
            &format!(
                "SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1{}",
                c.dialect().for_update("s")
            ),
            &args![status_id],
        )
        .await?;
    let before = status_row(&row)?;
    if before.account_id != account_id || before.reblog_of_id.is_some() {
        return Err(StoreError::NotFound);
    }
    let versions: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM status_edits WHERE status_id = ?1",
            &args![status_id],
        )
        .await?
        .get(0)?;
    // The first edit writes two versions (the original and the new one).
    let after = if versions == 0 { 2 } else { versions + 1 };
    if after > i64::from(versions_max) {
        return Err(StoreError::Rejected(
            "this status has been edited as many times as it may be",
        ));
    }
    if versions == 0 {
        record_version(c, &before, before.created_at_ms).await?;
    }

    // Attachments: the new list, in order; each must be the author's and
    // either unattached or already on this status. The rest are let go.
    for (position, media_id) in edit.media_ids.iter().enumerate() {
        let attached = c
            .execute(
                "UPDATE media_attachments SET status_id = ?1, position = ?2 \
                 WHERE id = ?3 AND account_id = ?4 AND (status_id IS NULL OR status_id = ?1) \
                 AND scheduled_status_id IS NULL",
                &args![status_id, position as i64, *media_id, account_id],
            )
            .await?;
        if attached != 1 {
            return Err(StoreError::Rejected(
                "media_ids must name your own uploads that no other status uses",
            ));
        }
    }
    c.execute(
        &format!(
            "UPDATE media_attachments SET status_id = NULL WHERE status_id = ?1 AND NOT ({})",
            c.dialect().in_ids("id", 2)
        ),
        &[Arg::Int(status_id), Arg::Ids(&edit.media_ids)],
    )
    .await?;
    for (media_id, update) in &edit.media_attributes {
        super::media::update_attached(c, account_id, status_id, *media_id, update).await?;
    }

    c.execute(
        "UPDATE statuses SET text = ?2, content = ?3, spoiler_text = ?4, sensitive = ?5, language = ?6, edited_at = ?7 \
         WHERE id = ?1",
        &args![
            status_id,
            &edit.text,
            &edit.content,
            &edit.spoiler_text,
            edit.sensitive,
            edit.language.as_deref(),
            now
        ],
    )
    .await?;
    if let (Some(remove), Some(add)) = (
        c.dialect().search_index_remove(),
        c.dialect().search_index_add(),
    ) {
        c.execute(remove, &args![status_id]).await?;
        let body = format!("{} {}", edit.spoiler_text, edit.text);
        c.execute(add, &args![status_id, &body]).await?;
    }

    // Mentions and tags follow the new text; a newly mentioned account is
    // notified (one already mentioned was, and is not again).
    c.execute(
        &format!(
            "DELETE FROM mentions WHERE status_id = ?1 AND NOT ({})",
            c.dialect().in_ids("account_id", 2)
        ),
        &[Arg::Int(status_id), Arg::Ids(&edit.mentions)],
    )
    .await?;
    // Only the newly mentioned hear of it.
    let mut newly_mentioned = Vec::new();
    for account in &edit.mentions {
        let added = c
            .execute(
                "INSERT INTO mentions (status_id, account_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                &args![status_id, *account],
            )
            .await?;
        if added == 1 && *account != account_id {
            newly_mentioned.push(*account);
        }
    }
    notify_all(
        c,
        &newly_mentioned,
        account_id,
        NotificationType::Mention,
        Some(status_id),
    )
    .await?;
    c.execute(
        "DELETE FROM status_tags WHERE status_id = ?1",
        &args![status_id],
    )
    .await?;
    for tag in &edit.tags {
        c.execute(
            "INSERT INTO tags (id, name) VALUES (holdfast_next_id(), ?1) ON CONFLICT (name) DO NOTHING",
            &args![tag],
        )
        .await?;
        c.execute(
            "INSERT INTO status_tags (tag_id, status_id) SELECT id, ?2 FROM tags WHERE name = ?1 ON CONFLICT DO NOTHING",
            &args![tag, status_id],
        )
        .await?;
    }
    super::polls::replace(c, status_id, account_id, edit.poll.as_ref(), now).await?;

    let after = status_row(
        &c.query_one(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1"),
            &args![status_id],
        )
        .await?,
    )?;
    record_version(c, &after, now).await?;

    // Everyone who reblogged it hears of each edit (Mastodon's `update`):
    // the notification of an earlier edit makes way for this one.
    let rebloggers: Vec<Id> = c
        .query(
            "SELECT account_id FROM statuses WHERE reblog_of_id = ?1 AND account_id <> ?2",
            &args![status_id, account_id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    for to in &rebloggers {
        c.execute(
            "DELETE FROM notifications WHERE account_id = ?1 AND status_id = ?2 AND type = ?3",
            &args![*to, status_id, NotificationType::Update.as_str()],
        )
        .await?;
    }
    notify_all(
        c,
        &rebloggers,
        account_id,
        NotificationType::Update,
        Some(status_id),
    )
    .await?;
    Ok(rebloggers)
}

/// The versions of an edited status, oldest first (empty if never edited).
pub async fn history(c: &dyn Conn, status_id: Id) -> StoreResult<Vec<StatusVersion>> {
    let d = c.dialect();
    let rows = c
        .query(
            "SELECT id, content, spoiler_text, sensitive, media_ids, has_poll, created_at \
             FROM status_edits WHERE status_id = ?1 ORDER BY id",
            &args![status_id],
        )
        .await?;
    let mut edit_ids = Vec::with_capacity(rows.len());
    let mut media_ids: Vec<Id> = Vec::new();
    for r in &rows {
        edit_ids.push(r.get::<Id>(0)?);
        media_ids.extend(ids_from_text(&r.get::<String>(4)?));
    }
    let mut options: HashMap<Id, Vec<String>> = HashMap::new();
    for r in c
        .query(
            &format!(
                "SELECT edit_id, title FROM status_edit_poll_options WHERE {} ORDER BY edit_id, position",
                d.in_ids("edit_id", 1)
            ),
            &[Arg::Ids(&edit_ids)],
        )
        .await?
    {
        options.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    let media: HashMap<Id, MediaRow> = c
        .query(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE {}",
                d.in_ids("m.id", 1)
            ),
            &[Arg::Ids(&media_ids)],
        )
        .await?
        .iter()
        .map(|r| media_row(r).map(|m| (m.id, m)))
        .collect::<StoreResult<_>>()?;
    rows.iter()
        .map(|r| {
            let id: Id = r.get(0)?;
            let has_poll: bool = r.get(5)?;
            Ok(StatusVersion {
                content: r.get(1)?,
                spoiler_text: r.get(2)?,
                sensitive: r.get(3)?,
                media: ids_from_text(&r.get::<String>(4)?)
                    .iter()
                    .filter_map(|m| media.get(m).cloned())
                    .collect(),
                poll_options: has_poll.then(|| options.get(&id).cloned().unwrap_or_default()),
                created_at_ms: r.get(6)?,
            })
        })
        .collect()
}

/// Pins a status of `account_id` to its profile (pinning twice is one pin).
/// Rejected for anyone else's status, a reblog, a private mention, or past
/// `max` pins; the account's row is locked so two pins racing count right.
pub async fn pin(c: &dyn Conn, account_id: Id, status_id: Id, max: u32) -> StoreResult<()> {
    super::bounded::lock_account(c, account_id).await?;
    let s = status_row(
        &c.query_one(
            &format!("SELECT {STATUS_COLUMNS} FROM {STATUS_FROM} WHERE s.id = ?1"),
            &args![status_id],
        )
        .await?,
    )?;
    if s.account_id != account_id || s.reblog_of_id.is_some() {
        return Err(StoreError::Rejected("only your own statuses can be pinned"));
    }
    if s.visibility == Visibility::Direct {
        return Err(StoreError::Rejected("private mentions cannot be pinned"));
    }
    let r = c
        .query_one(
            "SELECT COUNT(*), EXISTS (SELECT 1 FROM status_pins WHERE account_id = ?1 AND status_id = ?2) \
             FROM status_pins WHERE account_id = ?1",
            &args![account_id, status_id],
        )
        .await?;
    let (pinned, already): (i64, bool) = (r.get(0)?, r.get(1)?);
    if already {
        return Ok(());
    }
    if pinned >= i64::from(max) {
        return Err(StoreError::Rejected(
            "you have already pinned the maximum number of statuses",
        ));
    }
    c.execute(
        "INSERT INTO status_pins (id, account_id, status_id) VALUES (holdfast_next_id(), ?1, ?2) \
         ON CONFLICT (account_id, status_id) DO NOTHING",
        &args![account_id, status_id],
    )
    .await?;
    Ok(())
}

pub async fn unpin(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM status_pins WHERE account_id = ?1 AND status_id = ?2",
        &args![account_id, status_id],
    )
    .await?;
    Ok(())
}

/// The statuses `account_id` pinned that `viewer` may see, newest pin first.
pub async fn pinned(
    c: &dyn Conn,
    viewer: Option<Id>,
    account_id: Id,
    page: Page,
) -> StoreResult<Vec<Paged<Id>>> {
    let select = format!(
        "SELECT p.id, s.id FROM status_pins p JOIN statuses s ON s.id = p.status_id \
         WHERE p.account_id = ?2 AND {}",
        sql::visible("s")
    );
    sql::paged(
        c,
        &select,
        "p.id",
        &args![sql::viewer_param(viewer), account_id],
        page,
    )
    .await
}

/// `account_id` gets no more notifications from the thread of `status_id`.
pub async fn mute_conversation(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    let thread: Id = c
        .query_one(
            "SELECT COALESCE(thread_id, id) FROM statuses WHERE id = ?1",
            &args![status_id],
        )
        .await?
        .get(0)?;
    c.execute(
        "INSERT INTO conversation_mutes (account_id, thread_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![account_id, thread],
    )
    .await?;
    Ok(())
}

pub async fn unmute_conversation(c: &dyn Conn, account_id: Id, status_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM conversation_mutes WHERE account_id = ?1 AND thread_id = \
         (SELECT COALESCE(thread_id, id) FROM statuses WHERE id = ?2)",
        &args![account_id, status_id],
    )
    .await?;
    Ok(())
}

/// Of `accounts`, those who muted the thread `status_id` is in (they are
/// not notified of it). One query, however many accounts.
pub(crate) async fn thread_muters(
    c: &dyn Conn,
    status_id: Id,
    accounts: &[Id],
) -> StoreResult<HashSet<Id>> {
    c.query(
        &format!(
            "SELECT cm.account_id FROM statuses s JOIN conversation_mutes cm \
             ON cm.thread_id = COALESCE(s.thread_id, s.id) WHERE s.id = ?1 AND {}",
            c.dialect().in_ids("cm.account_id", 2)
        ),
        &[Arg::Int(status_id), Arg::Ids(accounts)],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
