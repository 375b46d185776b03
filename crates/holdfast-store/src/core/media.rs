//! Media attachment rows and profile images. The bytes are in the media
//! store (files beside SQLite, `media_blobs` in PostgreSQL); these rows say
//! who owns them and where they are used.

use super::sql::{media_row, MEDIA_COLUMNS};
use super::{accounts, args, Conn};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

const ATTACHED: &str = "Media attachment is currently used by a status";

pub async fn create(c: &dyn Conn, new: &NewMedia) -> StoreResult<MediaRow> {
    let id: Id = c
        .query_one(
            "INSERT INTO media_attachments (id, account_id, kind, description, focus_x, focus_y, meta, blurhash, \
             file_key, preview_key, created_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
            &args![
                new.account_id,
                &new.kind,
                new.description.as_deref(),
                new.focus.map(|f| f.0),
                new.focus.map(|f| f.1),
                &new.meta,
                new.blurhash.as_deref(),
                &new.file_key,
                &new.preview_key,
                now_ms(),
            ],
        )
        .await?
        .get(0)?;
    by_id(c, id).await
}

async fn by_id(c: &dyn Conn, id: Id) -> StoreResult<MediaRow> {
    let row = c
        .query_one(
            &format!("SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = ?1"),
            &args![id],
        )
        .await?;
    media_row(&row)
}

pub async fn owned(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = ?1 AND m.account_id = ?2"
            ),
            &args![id, account_id],
        )
        .await?;
    media_row(&row)
}

/// The row locked for this transaction (on PostgreSQL), so an attach racing
/// with an update or delete on another node is decided once.
async fn owned_for_update(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = ?1 AND m.account_id = ?2{}",
                c.dialect().for_update("m")
            ),
            &args![id, account_id],
        )
        .await?;
    media_row(&row)
}

pub async fn update(
    c: &dyn Conn,
    account_id: Id,
    id: Id,
    update: &MediaUpdate,
) -> StoreResult<MediaRow> {
    let row = owned_for_update(c, account_id, id).await?;
    if row.status_id.is_some() {
        return Err(StoreError::NotFound);
    }
    apply_update(c, row, update).await
}

/// Changes the description, focal point or preview of the caller's
/// attachment `id` on its status `status_id` (a status edit's
/// `media_attributes[]`); None when it is not on that status.
pub async fn update_attached(
    c: &dyn Conn,
    account_id: Id,
    status_id: Id,
    id: Id,
    update: &MediaUpdate,
) -> StoreResult<Option<MediaRow>> {
    let row = match owned_for_update(c, account_id, id).await {
        Ok(row) if row.status_id == Some(status_id) => row,
        Ok(_) | Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(apply_update(c, row, update).await?))
}

/// Writes `update` over `row` (what it leaves out keeps its value).
async fn apply_update(c: &dyn Conn, row: MediaRow, update: &MediaUpdate) -> StoreResult<MediaRow> {
    let id = row.id;
    // An empty description clears it.
    let description = update
        .description
        .clone()
        .or(row.description)
        .filter(|d| !d.is_empty());
    let focus = update.focus.or(row.focus);
    let (preview_key, meta) = update
        .preview
        .clone()
        .unwrap_or((row.preview_key, row.meta));
    c.execute(
        "UPDATE media_attachments SET description = ?1, focus_x = ?2, focus_y = ?3, preview_key = ?4, meta = ?5 \
         WHERE id = ?6",
        &args![
            description.as_deref(),
            focus.map(|f| f.0),
            focus.map(|f| f.1),
            &preview_key,
            &meta,
            id,
        ],
    )
    .await?;
    by_id(c, id).await
}

pub async fn delete(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = owned_for_update(c, account_id, id).await?;
    if row.status_id.is_some() {
        return Err(StoreError::Rejected(ATTACHED));
    }
    c.execute("DELETE FROM media_attachments WHERE id = ?1", &args![id])
        .await?;
    Ok(row)
}

/// Deletes at most `limit` uploads never attached and created before
/// `before_ms`, oldest first, and returns them.
pub async fn take_expired(c: &dyn Conn, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
    let rows = c
        .query(
            &format!(
                "DELETE FROM media_attachments WHERE id IN ( \
                   SELECT x.id FROM media_attachments x WHERE x.status_id IS NULL AND x.scheduled_status_id IS NULL \
                   AND x.created_at < ?1 \
                   ORDER BY x.created_at LIMIT ?2{}) \
                 RETURNING {}",
                c.dialect().for_update_skip_locked("x"),
                MEDIA_COLUMNS.replace("m.", "")
            ),
            &args![before_ms, limit],
        )
        .await?;
    let mut out = rows
        .iter()
        .map(media_row)
        .collect::<StoreResult<Vec<_>>>()?;
    out.sort_by_key(|m| m.created_at_ms);
    Ok(out)
}

pub async fn set_profile_image(
    c: &dyn Conn,
    account_id: Id,
    which: ProfileImage,
    key: Option<String>,
) -> StoreResult<(AccountRow, Option<String>)> {
    // The column name comes from an enum, never from input.
    let column = match which {
        ProfileImage::Avatar => "avatar_key",
        ProfileImage::Header => "header_key",
    };
    let old: Option<String> = c
        .query_one(
            &format!(
                "SELECT a.{column} FROM accounts a WHERE a.id = ?1{}",
                c.dialect().for_update("a")
            ),
            &args![account_id],
        )
        .await?
        .get(0)?;
    c.execute(
        &format!("UPDATE accounts SET {column} = ?1 WHERE id = ?2"),
        &args![key.as_deref(), account_id],
    )
    .await?;
    Ok((accounts::by_id(c, account_id).await?, old))
}
