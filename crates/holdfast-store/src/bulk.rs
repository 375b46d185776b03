//! Bulk loading for `holdfast bench seed`: a synthetic instance written many
//! rows per statement and thousands per transaction, on SQLite and PostgreSQL.
//!
//! This is not a `Store` operation and the server never calls it: it fills an
//! empty, migrated database with rows the caller made consistent itself (ids
//! unique and time-ordered, per-status counts already summed, one reblog per
//! account and status). Going through the `Store` trait would cost one
//! transaction (one fsync) per row; a million-user instance would take hours.

use std::path::Path;

use holdfast_config::Limits;
use rusqlite::{params, Connection};

use crate::model::Id;
use crate::{StoreError, StoreResult};

pub struct BulkAccount {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub note: String,
    pub created_at_ms: i64,
}

pub struct BulkStatus {
    pub id: Id,
    pub account_id: Id,
    pub text: String,
    pub content: String,
    /// 0 public, 1 unlisted, 2 private, 3 direct (`Visibility`'s numbering).
    pub visibility: i64,
    pub in_reply_to_id: Option<Id>,
    pub in_reply_to_account_id: Option<Id>,
    pub reblog_of_id: Option<Id>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub created_at_ms: i64,
}

pub struct BulkNotification {
    pub id: Id,
    pub account_id: Id,
    pub from_account_id: Id,
    pub kind: &'static str,
    pub status_id: Option<Id>,
    pub group_key: Option<String>,
    pub created_at_ms: i64,
}

pub struct BulkToken {
    pub id: Id,
    pub token_hash: String,
    pub account_id: Id,
    pub scopes: String,
}

/// One transaction's worth of rows. Written in foreign-key order: accounts,
/// tags, apps, tokens, follows, statuses, favourites, mentions, status tags,
/// notifications.
#[derive(Default)]
pub struct BulkBatch {
    pub accounts: Vec<BulkAccount>,
    /// (id, name)
    pub tags: Vec<(Id, String)>,
    /// (id, name, client_id, client_secret_hash)
    pub apps: Vec<(Id, String, String, String)>,
    /// Tokens of the one app in `apps` of an earlier or this batch.
    pub tokens: Vec<(Id, BulkToken)>,
    /// (id, follower, followed)
    pub follows: Vec<(Id, Id, Id)>,
    pub statuses: Vec<BulkStatus>,
    /// (id, account, status)
    pub favourites: Vec<(Id, Id, Id)>,
    /// (status, mentioned account)
    pub mentions: Vec<(Id, Id)>,
    /// (tag, status)
    pub status_tags: Vec<(Id, Id)>,
    pub notifications: Vec<BulkNotification>,
}

impl BulkBatch {
    pub fn rows(&self) -> usize {
        self.accounts.len()
            + self.tags.len()
            + self.apps.len()
            + self.tokens.len()
            + self.follows.len()
            + self.statuses.len()
            + self.favourites.len()
            + self.mentions.len()
            + self.status_tags.len()
            + self.notifications.len()
    }
}

pub enum BulkLoader {
    Sqlite(Connection),
    Postgres(tokio_postgres::Client),
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

impl BulkLoader {
    /// Migrates `holdfast.db` in `data_dir` (as `serve` would), then opens a
    /// connection for loading. The database must hold no accounts yet.
    pub fn sqlite(data_dir: &Path, limits: &Limits) -> StoreResult<BulkLoader> {
        drop(crate::sqlite::SqliteStore::open(data_dir, limits)?);
        let c = Connection::open(data_dir.join("holdfast.db")).map_err(internal)?;
        // A seed that crashes is simply run again, so it need not be durable
        // row by row; `finish` checkpoints and syncs once at the end.
        c.execute_batch(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
        )
        .map_err(internal)?;
        let loader = BulkLoader::Sqlite(c);
        loader.check_empty_sqlite()?;
        Ok(loader)
    }

    /// Migrates the PostgreSQL database at `url`, then connects for loading.
    pub async fn postgres(url: &str, limits: &Limits) -> StoreResult<BulkLoader> {
        drop(crate::postgres::PgStore::open(url, limits).await?);
        let mut config = crate::postgres::connection_config(url, limits)?;
        // Bulk statements run far longer than a request's statement timeout.
        config.options("-c statement_timeout=0 -c synchronous_commit=off");
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(internal)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("bulk loader connection ended: {e}");
            }
        });
        let n: i64 = client
            .query_one("SELECT COUNT(*) FROM accounts", &[])
            .await
            .map_err(internal)?
            .get(0);
        if n > 0 {
            return Err(StoreError::Rejected(
                "the database already has accounts; seed an empty one",
            ));
        }
        Ok(BulkLoader::Postgres(client))
    }

    fn check_empty_sqlite(&self) -> StoreResult<()> {
        let BulkLoader::Sqlite(c) = self else {
            return Ok(());
        };
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .map_err(internal)?;
        if n > 0 {
            return Err(StoreError::Rejected(
                "the database already has accounts; seed an empty one",
            ));
        }
        Ok(())
    }

    /// Writes one batch in one transaction.
    pub async fn write(&mut self, b: &BulkBatch) -> StoreResult<()> {
        match self {
            BulkLoader::Sqlite(c) => write_sqlite(c, b).map_err(internal),
            BulkLoader::Postgres(c) => write_postgres(c, b).await.map_err(internal),
        }
    }

    /// Makes the load durable and gives the planner fresh statistics.
    pub async fn finish(&mut self) -> StoreResult<()> {
        match self {
            BulkLoader::Sqlite(c) => c
                .execute_batch(
                    "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE); PRAGMA synchronous = FULL;",
                )
                .map_err(internal),
            BulkLoader::Postgres(c) => c.batch_execute("ANALYZE").await.map_err(internal),
        }
    }
}

fn write_sqlite(c: &mut Connection, b: &BulkBatch) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    {
        let mut s = tx.prepare_cached(
            "INSERT INTO accounts (id, username, username_lower, display_name, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for a in &b.accounts {
            s.execute(params![
                a.id,
                a.username,
                a.username.to_lowercase(),
                a.display_name,
                a.note,
                a.created_at_ms
            ])?;
        }
        let mut s = tx.prepare_cached("INSERT INTO tags (id, name) VALUES (?1, ?2)")?;
        for (id, name) in &b.tags {
            s.execute(params![id, name])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES (?1, ?2, 'urn:ietf:wg:oauth:2.0:oob', 'read write follow push', ?3, ?4, 0)",
        )?;
        for (id, name, client_id, secret_hash) in &b.apps {
            s.execute(params![id, name, client_id, secret_hash])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO tokens (id, token_hash, app_id, account_id, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 0)",
        )?;
        for (app_id, t) in &b.tokens {
            s.execute(params![t.id, t.token_hash, app_id, t.account_id, t.scopes])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO follows (id, account_id, target_id) VALUES (?1, ?2, ?3)",
        )?;
        for (id, a, t) in &b.follows {
            s.execute(params![id, a, t])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO statuses (id, account_id, text, content, visibility, in_reply_to_id, in_reply_to_account_id, \
             reblog_of_id, replies_count, reblogs_count, favourites_count, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut fts =
            tx.prepare_cached("INSERT INTO status_search (rowid, body) VALUES (?1, ?2)")?;
        for st in &b.statuses {
            s.execute(params![
                st.id,
                st.account_id,
                st.text,
                st.content,
                st.visibility,
                st.in_reply_to_id,
                st.in_reply_to_account_id,
                st.reblog_of_id,
                st.replies_count,
                st.reblogs_count,
                st.favourites_count,
                st.created_at_ms
            ])?;
            if st.reblog_of_id.is_none() {
                fts.execute(params![st.id, st.text])?;
            }
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO favourites (id, account_id, status_id) VALUES (?1, ?2, ?3)",
        )?;
        for (id, a, st) in &b.favourites {
            s.execute(params![id, a, st])?;
        }
        let mut s =
            tx.prepare_cached("INSERT INTO mentions (status_id, account_id) VALUES (?1, ?2)")?;
        for (st, a) in &b.mentions {
            s.execute(params![st, a])?;
        }
        let mut s =
            tx.prepare_cached("INSERT INTO status_tags (tag_id, status_id) VALUES (?1, ?2)")?;
        for (t, st) in &b.status_tags {
            s.execute(params![t, st])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, group_key, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for n in &b.notifications {
            s.execute(params![
                n.id,
                n.account_id,
                n.from_account_id,
                n.kind,
                n.status_id,
                n.group_key,
                n.created_at_ms
            ])?;
        }
    }
    tx.commit()
}

/// Each table is one `INSERT … SELECT FROM unnest(arrays)`: a handful of
/// round trips per batch whatever its size.
async fn write_postgres(
    c: &mut tokio_postgres::Client,
    b: &BulkBatch,
) -> Result<(), tokio_postgres::Error> {
    let tx = c.transaction().await?;
    if !b.accounts.is_empty() {
        let ids: Vec<i64> = b.accounts.iter().map(|a| a.id).collect();
        let names: Vec<&str> = b.accounts.iter().map(|a| a.username.as_str()).collect();
        let lower: Vec<String> = b
            .accounts
            .iter()
            .map(|a| a.username.to_lowercase())
            .collect();
        let display: Vec<&str> = b.accounts.iter().map(|a| a.display_name.as_str()).collect();
        let notes: Vec<&str> = b.accounts.iter().map(|a| a.note.as_str()).collect();
        let at: Vec<i64> = b.accounts.iter().map(|a| a.created_at_ms).collect();
        tx.execute(
            "INSERT INTO accounts (id, username, username_lower, display_name, note, created_at) \
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])",
            &[&ids, &names, &lower, &display, &notes, &at],
        )
        .await?;
    }
    if !b.tags.is_empty() {
        let ids: Vec<i64> = b.tags.iter().map(|t| t.0).collect();
        let names: Vec<&str> = b.tags.iter().map(|t| t.1.as_str()).collect();
        tx.execute(
            "INSERT INTO tags (id, name) SELECT * FROM unnest($1::bigint[], $2::text[])",
            &[&ids, &names],
        )
        .await?;
    }
    for (id, name, client_id, secret_hash) in &b.apps {
        tx.execute(
            "INSERT INTO apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES ($1, $2, 'urn:ietf:wg:oauth:2.0:oob', 'read write follow push', $3, $4, 0)",
            &[id, name, client_id, secret_hash],
        )
        .await?;
    }
    if !b.tokens.is_empty() {
        let ids: Vec<i64> = b.tokens.iter().map(|t| t.1.id).collect();
        let hashes: Vec<&str> = b.tokens.iter().map(|t| t.1.token_hash.as_str()).collect();
        let apps: Vec<i64> = b.tokens.iter().map(|t| t.0).collect();
        let accounts: Vec<i64> = b.tokens.iter().map(|t| t.1.account_id).collect();
        let scopes: Vec<&str> = b.tokens.iter().map(|t| t.1.scopes.as_str()).collect();
        tx.execute(
            "INSERT INTO tokens (id, token_hash, app_id, account_id, scopes, created_at) \
             SELECT *, 0 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])",
            &[&ids, &hashes, &apps, &accounts, &scopes],
        )
        .await?;
    }
    if !b.follows.is_empty() {
        let (ids, a, t) = split3(&b.follows);
        tx.execute(
            "INSERT INTO follows (id, account_id, target_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])",
            &[&ids, &a, &t],
        )
        .await?;
    }
    if !b.statuses.is_empty() {
        let s = &b.statuses;
        let ids: Vec<i64> = s.iter().map(|x| x.id).collect();
        let acc: Vec<i64> = s.iter().map(|x| x.account_id).collect();
        let text: Vec<&str> = s.iter().map(|x| x.text.as_str()).collect();
        let content: Vec<&str> = s.iter().map(|x| x.content.as_str()).collect();
        let vis: Vec<i32> = s.iter().map(|x| x.visibility as i32).collect();
        let reply: Vec<Option<i64>> = s.iter().map(|x| x.in_reply_to_id).collect();
        let reply_acc: Vec<Option<i64>> = s.iter().map(|x| x.in_reply_to_account_id).collect();
        let reblog: Vec<Option<i64>> = s.iter().map(|x| x.reblog_of_id).collect();
        let rc: Vec<i64> = s.iter().map(|x| x.replies_count).collect();
        let bc: Vec<i64> = s.iter().map(|x| x.reblogs_count).collect();
        let fc: Vec<i64> = s.iter().map(|x| x.favourites_count).collect();
        let at: Vec<i64> = s.iter().map(|x| x.created_at_ms).collect();
        tx.execute(
            "INSERT INTO statuses (id, account_id, text, content, visibility, in_reply_to_id, in_reply_to_account_id, \
             reblog_of_id, replies_count, reblogs_count, favourites_count, created_at) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::bigint[], \
             $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[])",
            &[&ids, &acc, &text, &content, &vis, &reply, &reply_acc, &reblog, &rc, &bc, &fc, &at],
        )
        .await?;
    }
    if !b.favourites.is_empty() {
        let (ids, a, s) = split3(&b.favourites);
        tx.execute(
            "INSERT INTO favourites (id, account_id, status_id) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])",
            &[&ids, &a, &s],
        )
        .await?;
    }
    if !b.mentions.is_empty() {
        let s: Vec<i64> = b.mentions.iter().map(|m| m.0).collect();
        let a: Vec<i64> = b.mentions.iter().map(|m| m.1).collect();
        tx.execute("INSERT INTO mentions (status_id, account_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])", &[&s, &a])
            .await?;
    }
    if !b.status_tags.is_empty() {
        let t: Vec<i64> = b.status_tags.iter().map(|m| m.0).collect();
        let s: Vec<i64> = b.status_tags.iter().map(|m| m.1).collect();
        tx.execute("INSERT INTO status_tags (tag_id, status_id) SELECT * FROM unnest($1::bigint[], $2::bigint[])", &[&t, &s])
            .await?;
    }
    if !b.notifications.is_empty() {
        let n = &b.notifications;
        let ids: Vec<i64> = n.iter().map(|x| x.id).collect();
        let acc: Vec<i64> = n.iter().map(|x| x.account_id).collect();
        let from: Vec<i64> = n.iter().map(|x| x.from_account_id).collect();
        let kind: Vec<&str> = n.iter().map(|x| x.kind).collect();
        let status: Vec<Option<i64>> = n.iter().map(|x| x.status_id).collect();
        let group: Vec<Option<&str>> = n.iter().map(|x| x.group_key.as_deref()).collect();
        let at: Vec<i64> = n.iter().map(|x| x.created_at_ms).collect();
        tx.execute(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, group_key, created_at) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[])",
            &[&ids, &acc, &from, &kind, &status, &group, &at],
        )
        .await?;
    }
    tx.commit().await
}

fn split3(rows: &[(Id, Id, Id)]) -> (Vec<i64>, Vec<i64>, Vec<i64>) {
    let mut out = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for (a, b, c) in rows {
        out.0.push(*a);
        out.1.push(*b);
        out.2.push(*c);
    }
    out
}
