//! Media attachment rows and profile images. The bytes are in the media
//! store (files); these rows say who owns them and where they are used.

use rusqlite::{params, Connection, OptionalExtension};

use super::sql::{media_row, MEDIA_COLUMNS};
use super::{accounts, Tx};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

const ATTACHED: &str = "Media attachment is currently used by a status";

pub fn create(t: &mut Tx<'_>, new: &NewMedia) -> StoreResult<MediaRow> {
    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO media_attachments (id, account_id, kind, description, focus_x, focus_y, meta, blurhash, \
         file_key, preview_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id,
            new.account_id,
            new.kind,
            new.description,
            new.focus.map(|f| f.0),
            new.focus.map(|f| f.1),
            new.meta,
            new.blurhash,
            new.file_key,
            new.preview_key,
            now_ms()
        ],
    )?;
    Ok(by_id(&t.tx, id)?)
}

fn by_id(c: &Connection, id: Id) -> rusqlite::Result<MediaRow> {
    c.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = ?1"
    ))?
    .query_row([id], media_row)
}

pub fn owned(c: &Connection, account_id: Id, id: Id) -> rusqlite::Result<MediaRow> {
    c.prepare_cached(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = ?1 AND m.account_id = ?2"
    ))?
    .query_row([id, account_id], media_row)
}

pub fn update(
    t: &mut Tx<'_>,
    account_id: Id,
    id: Id,
    update: &MediaUpdate,
) -> StoreResult<MediaRow> {
    let row = owned(&t.tx, account_id, id)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if row.status_id.is_some() {
        return Err(StoreError::NotFound);
    }
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
    t.tx.execute(
        "UPDATE media_attachments SET description = ?1, focus_x = ?2, focus_y = ?3, preview_key = ?4, meta = ?5 \
         WHERE id = ?6",
        params![description, focus.map(|f| f.0), focus.map(|f| f.1), preview_key, meta, id],
    )?;
    Ok(by_id(&t.tx, id)?)
}

pub fn delete(t: &mut Tx<'_>, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = owned(&t.tx, account_id, id)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if row.status_id.is_some() {
        return Err(StoreError::Rejected(ATTACHED));
    }
    t.tx.execute("DELETE FROM media_attachments WHERE id = ?1", [id])?;
    Ok(row)
}

pub fn take_expired(t: &mut Tx<'_>, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
    let rows = {
        let mut stmt = t.tx.prepare_cached(&format!(
            "SELECT {MEDIA_COLUMNS} FROM media_attachments m \
             WHERE m.status_id IS NULL AND m.created_at < ?1 ORDER BY m.created_at LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![before_ms, limit], media_row)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for row in &rows {
        t.tx.execute("DELETE FROM media_attachments WHERE id = ?1", [row.id])?;
    }
    Ok(rows)
}

pub fn set_profile_image(
    t: &mut Tx<'_>,
    account_id: Id,
    which: ProfileImage,
    key: Option<String>,
) -> StoreResult<(AccountRow, Option<String>)> {
    // The column name comes from an enum, never from input.
    let column = match which {
        ProfileImage::Avatar => "avatar_key",
        ProfileImage::Header => "header_key",
    };
    let old: Option<String> =
        t.tx.query_row(
            &format!("SELECT {column} FROM accounts WHERE id = ?1"),
            [account_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    t.tx.execute(
        &format!("UPDATE accounts SET {column} = ?1 WHERE id = ?2"),
        params![key, account_id],
    )?;
    Ok((accounts::by_id(&t.tx, account_id)?, old))
}
