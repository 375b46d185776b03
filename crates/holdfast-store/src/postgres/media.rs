//! Media attachment rows, profile images, and the media bytes themselves
//! (`media_blobs`): in a cluster the bytes live in PostgreSQL, so every node
//! serves them and synchronous replication keeps them through a failover.

use async_trait::async_trait;

use super::accounts;
use super::pool::Db;
use super::sql::{clean, media_row, MEDIA_COLUMNS};
use super::PgStore;
use crate::ids::now_ms;
use crate::media::{valid_key, MediaStore};
use crate::model::*;
use crate::{StoreError, StoreResult};

const ATTACHED: &str = "Media attachment is currently used by a status";

pub async fn create(db: Db<'_>, new: &NewMedia) -> StoreResult<MediaRow> {
    let row = db
        .query_one(
            &format!(
                "INSERT INTO media_attachments AS m (kind, account_id, description, focus_x, focus_y, meta, blurhash, \
                 file_key, preview_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {MEDIA_COLUMNS}"
            ),
            &[
                &new.kind,
                &new.account_id,
                &new.description.as_deref().map(clean),
                &new.focus.map(|f| f.0),
                &new.focus.map(|f| f.1),
                &new.meta,
                &new.blurhash,
                &new.file_key,
                &new.preview_key,
                &now_ms(),
            ],
        )
        .await?;
    Ok(media_row(&row))
}

pub async fn owned(db: Db<'_>, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = db
        .query_one(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = $1 AND m.account_id = $2"
            ),
            &[&id, &account_id],
        )
        .await?;
    Ok(media_row(&row))
}

/// The row locked for this transaction, so an attach racing with an update
/// or delete on another node is decided once.
async fn owned_for_update(db: Db<'_>, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = db
        .query_one(
            &format!(
                "SELECT {MEDIA_COLUMNS} FROM media_attachments m WHERE m.id = $1 AND m.account_id = $2 FOR UPDATE"
            ),
            &[&id, &account_id],
        )
        .await?;
    Ok(media_row(&row))
}

pub async fn update(
    db: Db<'_>,
    account_id: Id,
    id: Id,
    update: &MediaUpdate,
) -> StoreResult<MediaRow> {
    let row = owned_for_update(db, account_id, id).await?;
    if row.status_id.is_some() {
        return Err(StoreError::NotFound);
    }
    // An empty description clears it.
    let description = update
        .description
        .as_deref()
        .map(clean)
        .or(row.description)
        .filter(|d| !d.is_empty());
    let focus = update.focus.or(row.focus);
    let (preview_key, meta) = update
        .preview
        .clone()
        .unwrap_or((row.preview_key, row.meta));
    let row = db
        .query_one(
            &format!(
                "UPDATE media_attachments m SET description = $1, focus_x = $2, focus_y = $3, preview_key = $4, meta = $5 \
                 WHERE m.id = $6 RETURNING {MEDIA_COLUMNS}"
            ),
            &[
                &description,
                &focus.map(|f| f.0),
                &focus.map(|f| f.1),
                &preview_key,
                &meta,
                &id,
            ],
        )
        .await?;
    Ok(media_row(&row))
}

pub async fn delete(db: Db<'_>, account_id: Id, id: Id) -> StoreResult<MediaRow> {
    let row = owned_for_update(db, account_id, id).await?;
    if row.status_id.is_some() {
        return Err(StoreError::Rejected(ATTACHED));
    }
    db.execute("DELETE FROM media_attachments WHERE id = $1", &[&id])
        .await?;
    Ok(row)
}

pub async fn take_expired(db: Db<'_>, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
    // SKIP LOCKED: two nodes sweeping at once take different rows.
    let rows = db
        .query(
            &format!(
                "DELETE FROM media_attachments WHERE id IN ( \
                   SELECT id FROM media_attachments WHERE status_id IS NULL AND created_at < $1 \
                   ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING {}",
                MEDIA_COLUMNS.replace("m.", "")
            ),
            &[&before_ms, &(limit as i64)],
        )
        .await?;
    let mut out: Vec<MediaRow> = rows.iter().map(media_row).collect();
    out.sort_by_key(|m| m.created_at_ms);
    Ok(out)
}

pub async fn set_profile_image(
    db: Db<'_>,
    account_id: Id,
    which: ProfileImage,
    key: Option<String>,
) -> StoreResult<(AccountRow, Option<String>)> {
    // The column name comes from an enum, never from input.
    let column = match which {
        ProfileImage::Avatar => "avatar_key",
        ProfileImage::Header => "header_key",
    };
    let old: Option<String> = db
        .query_one(
            &format!("SELECT {column} FROM accounts WHERE id = $1 FOR UPDATE"),
            &[&account_id],
        )
        .await?
        .get(0);
    db.execute(
        &format!("UPDATE accounts SET {column} = $1 WHERE id = $2"),
        &[&key, &account_id],
    )
    .await?;
    Ok((accounts::by_id(db, account_id).await?, old))
}

#[async_trait]
impl MediaStore for PgStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> StoreResult<()> {
        if !valid_key(key) {
            return Err(StoreError::NotFound);
        }
        self.write((key.to_owned(), bytes), |db, (key, bytes)| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO media_blobs (key, bytes, created_at) VALUES ($1, $2, $3)",
                    &[key, bytes, &now_ms()],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn get(&self, key: &str) -> StoreResult<Vec<u8>> {
        if !valid_key(key) {
            return Err(StoreError::NotFound);
        }
        self.read(key.to_owned(), |db, key| {
            Box::pin(async move {
                let row = db
                    .query_one("SELECT bytes FROM media_blobs WHERE key = $1", &[key])
                    .await?;
                Ok(row.get(0))
            })
        })
        .await
    }

    async fn size(&self, key: &str) -> StoreResult<u64> {
        if !valid_key(key) {
            return Err(StoreError::NotFound);
        }
        self.read(key.to_owned(), |db, key| {
            Box::pin(async move {
                let row = db
                    .query_one(
                        "SELECT octet_length(bytes)::BIGINT FROM media_blobs WHERE key = $1",
                        &[key],
                    )
                    .await?;
                Ok(row.get::<_, i64>(0).max(0) as u64)
            })
        })
        .await
    }

    async fn read_range(&self, key: &str, start: u64, len: usize) -> StoreResult<Vec<u8>> {
        if !valid_key(key) {
            return Err(StoreError::NotFound);
        }
        // substring() on uncompressed (STORAGE EXTERNAL) bytea reads only the
        // TOAST chunks it needs. Positions are 1-based.
        let from = i64::try_from(start).unwrap_or(i64::MAX).saturating_add(1);
        let count = i64::try_from(len).unwrap_or(i64::MAX);
        self.read((key.to_owned(), from, count), |db, (key, from, count)| {
            Box::pin(async move {
                let row = db
                    .query_one(
                        "SELECT substring(bytes FROM $2::BIGINT::INT FOR $3::BIGINT::INT) FROM media_blobs WHERE key = $1",
                        &[key, from, count],
                    )
                    .await?;
                Ok(row.get(0))
            })
        })
        .await
    }

    async fn delete(&self, keys: &[String]) -> StoreResult<()> {
        let keys: Vec<String> = keys.iter().filter(|k| valid_key(k)).cloned().collect();
        if keys.is_empty() {
            return Ok(());
        }
        self.write(keys, |db, keys| {
            Box::pin(async move {
                db.execute("DELETE FROM media_blobs WHERE key = ANY($1)", &[keys])
                    .await?;
                Ok(())
            })
        })
        .await
    }
}
