//! The media bytes (`media_blobs`): in a cluster they live in PostgreSQL,
//! so every node serves them and synchronous replication keeps them through
//! a failover. (The attachment rows are the shared core's, `core/media.rs`.)

use async_trait::async_trait;

use super::PgStore;
use crate::ids::now_ms;
use crate::media::{valid_key, MediaStore};
use crate::{StoreError, StoreResult};

#[async_trait]
impl MediaStore for PgStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> StoreResult<()> {
        if !valid_key(key) {
            return Err(StoreError::NotFound);
        }
        self.db
            .write((key.to_owned(), bytes), |db, (key, bytes)| {
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
        self.db
            .read(key.to_owned(), |db, key| {
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
        self.db
            .read(key.to_owned(), |db, key| {
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
        self.db.read((key.to_owned(), from, count), |db, (key, from, count)| {
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
        self.db
            .write(keys, |db, keys| {
                Box::pin(async move {
                    db.execute("DELETE FROM media_blobs WHERE key = ANY($1)", &[keys])
                        .await?;
                    Ok(())
                })
            })
            .await
    }
}
