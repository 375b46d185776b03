//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a committed write has
//! reached the disk before the caller hears "ok". Concurrency: SQLite allows
//! one writer at a time, so there is exactly one writer connection (behind a
//! semaphore of one) and a small pool of read-only connections; both are
//! acquired with a timeout, and the blocking work runs on tokio's blocking
//! threads, never on the async workers.

mod accounts;
mod graph;
mod media;
mod notifications;
mod oauth;
mod sql;
mod statuses;
mod timelines;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use holdfast_config::Limits;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::ids::IdGenerator;
use crate::model::*;
use crate::{PoolUsage, Store, StoreError, StoreResult};

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        "0002_oauth_pkce_sessions",
        include_str!("../../migrations/sqlite/0002_oauth_pkce_sessions.sql"),
    ),
    (
        "0003_media",
        include_str!("../../migrations/sqlite/0003_media.sql"),
    ),
    (
        "0004_notification_groups",
        include_str!("../../migrations/sqlite/0004_notification_groups.sql"),
    ),
];

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    write_permit: Semaphore,
    readers: Mutex<Vec<Connection>>,
    read_permits: Semaphore,
    read_pool_size: usize,
    acquire_timeout: Duration,
    ids: IdGenerator,
}

/// What a write closure gets: the open transaction and the id generator.
pub(crate) struct Tx<'a> {
    pub tx: rusqlite::Transaction<'a>,
    pub ids: &'a IdGenerator,
}

impl SqliteStore {
    /// Opens (creating if needed) `holdfast.db` in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path, limits: &Limits) -> StoreResult<SqliteStore> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("holdfast.db");
        let busy = Duration::from_millis(limits.db_busy_timeout_ms);

        let mut writer = Connection::open(&path).map_err(internal)?;
        configure(&writer, busy)?;
        migrate(&mut writer)?;

        let readers = (0..limits.db_read_connections.max(1))
            .map(|_| {
                let c = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(internal)?;
                configure(&c, busy)?;
                Ok(c)
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let ids = IdGenerator::default();
        let max_id: i64 = writer
            .query_row(
                "SELECT MAX(m) FROM (SELECT MAX(id) m FROM statuses UNION ALL SELECT MAX(id) FROM accounts \
                 UNION ALL SELECT MAX(id) FROM notifications UNION ALL SELECT MAX(id) FROM follows \
                 UNION ALL SELECT MAX(id) FROM media_attachments)",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(internal)?
            .unwrap_or(0);
        ids.observe(max_id);

        let read_pool_size = readers.len();
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                write_permit: Semaphore::new(1),
                readers: Mutex::new(readers),
                read_permits: Semaphore::new(read_pool_size),
                read_pool_size,
                acquire_timeout: Duration::from_millis(limits.db_acquire_timeout_ms),
                ids,
            }),
        })
    }

    /// Runs `f` on a read-only connection from the pool.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let permit = tokio::time::timeout(inner.acquire_timeout, inner.read_permits.acquire())
            .await
            .map_err(|_| StoreError::Unavailable("timed out waiting for a read connection".into()))?
            .map_err(|_| StoreError::Unavailable("store is closed".into()))?;
        permit.forget(); // handed back by the blocking closure below, even on panic
        let job = tokio::task::spawn_blocking(move || {
            let conn = lock(&inner.readers)
                .pop()
                .expect("a read permit guarantees a free connection");
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&conn)));
            lock(&inner.readers).push(conn);
            inner.read_permits.add_permits(1);
            result
        });
        flatten(job.await)
    }

    /// Runs `f` inside one IMMEDIATE transaction on the single writer connection;
    /// commits if `f` returns Ok, rolls back otherwise.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let permit = tokio::time::timeout(inner.acquire_timeout, inner.write_permit.acquire())
            .await
            .map_err(|_| {
                StoreError::Unavailable("timed out waiting for the write connection".into())
            })?
            .map_err(|_| StoreError::Unavailable("store is closed".into()))?;
        permit.forget();
        let job = tokio::task::spawn_blocking(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut conn = lock(&inner.writer);
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(classify)?;
                let mut tx = Tx {
                    tx,
                    ids: &inner.ids,
                };
                let value = f(&mut tx)?;
                tx.tx.commit().map_err(classify)?;
                Ok(value)
            }));
            inner.write_permit.add_permits(1);
            result
        });
        match job.await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => Err(StoreError::Internal("a database task panicked".into())),
        }
    }
}

fn flatten<T>(
    joined: Result<std::thread::Result<rusqlite::Result<T>>, tokio::task::JoinError>,
) -> StoreResult<T> {
    match joined {
        Ok(Ok(result)) => result.map_err(classify),
        Ok(Err(_)) | Err(_) => Err(StoreError::Internal("a database task panicked".into())),
    }
}

/// A poisoned lock only means a closure panicked while holding it; the
/// connection itself is still usable (SQLite rolls back unfinished work).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(c: &Connection, busy: Duration) -> StoreResult<()> {
    c.busy_timeout(busy).map_err(internal)?;
    c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(internal)?;
    Ok(())
}

fn migrate(c: &mut Connection) -> StoreResult<()> {
    // WAL is persistent in the file; setting it needs the write connection.
    c.pragma_update(None, "journal_mode", "WAL")
        .map_err(internal)?;
    c.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .map_err(internal)?;
    for (name, sql) in MIGRATIONS {
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(internal)?;
        let applied: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(internal)?;
        if !applied {
            tx.execute_batch(sql)
                .map_err(|e| StoreError::Internal(format!("migration {name} failed: {e}")))?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                rusqlite::params![name, crate::ids::now_ms()],
            )
            .map_err(internal)?;
            tracing::info!(migration = name, "applied migration");
        }
        tx.commit().map_err(internal)?;
    }
    Ok(())
}

pub(crate) fn internal(e: rusqlite::Error) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Busy and locked mean "try again later" (503), not a bug (500).
pub(crate) fn classify(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Internal(e.to_string()),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        classify(e)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    fn pool_usage(&self) -> PoolUsage {
        let size = self.inner.read_pool_size + 1;
        let free = self.inner.read_permits.available_permits()
            + self.inner.write_permit.available_permits();
        PoolUsage {
            in_use: size.saturating_sub(free),
            size,
            ..PoolUsage::default()
        }
    }

    async fn stats(&self) -> StoreResult<(i64, i64)> {
        self.read(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM accounts WHERE suspended = 0 AND approved = 1), \
                        (SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
    }

    // ---- accounts ----
    async fn create_account(&self, new: NewAccount) -> StoreResult<AccountRow> {
        self.write(move |t| accounts::create(t, &new)).await
    }
    async fn account(&self, id: Id) -> StoreResult<AccountRow> {
        self.read(move |c| accounts::by_id(c, id)).await
    }
    async fn account_by_username(&self, username: &str) -> StoreResult<AccountRow> {
        let username = username.to_lowercase();
        self.read(move |c| accounts::by_username(c, &username))
            .await
    }
    async fn accounts(&self, ids: &[Id]) -> StoreResult<Vec<AccountRow>> {
        let ids = ids.to_vec();
        self.read(move |c| accounts::by_ids(c, &ids)).await
    }
    async fn update_account(&self, id: Id, update: AccountUpdate) -> StoreResult<AccountRow> {
        self.write(move |t| accounts::update(t, id, &update)).await
    }
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials> {
        let email = email.to_lowercase();
        self.read(move |c| accounts::credentials_by_email(c, &email))
            .await
    }
    async fn email_of(&self, id: Id) -> StoreResult<String> {
        self.read(move |c| {
            c.query_row(
                "SELECT email_lower FROM credentials WHERE account_id = ?1",
                [id],
                |r| r.get(0),
            )
        })
        .await
    }
    async fn set_suspended(&self, username: &str, suspended: bool) -> StoreResult<AccountRow> {
        let username = username.to_lowercase();
        self.write(move |t| accounts::set_flag(t, &username, "suspended", suspended))
            .await
    }
    async fn set_approved(&self, username: &str) -> StoreResult<AccountRow> {
        let username = username.to_lowercase();
        self.write(move |t| accounts::set_flag(t, &username, "approved", true))
            .await
    }
    async fn list_accounts(&self, limit: u32) -> StoreResult<Vec<AccountAdminRow>> {
        self.read(move |c| accounts::list(c, limit)).await
    }
    async fn search_accounts(
        &self,
        prefix: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>> {
        let prefix = prefix.to_lowercase();
        self.read(move |c| accounts::search(c, &prefix, limit, offset))
            .await
    }

    // ---- OAuth ----
    async fn create_app(&self, new: NewApp) -> StoreResult<AppRow> {
        self.write(move |t| oauth::create_app(t, new)).await
    }
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<AppRow> {
        let client_id = client_id.to_owned();
        self.read(move |c| oauth::app_by_client_id(c, &client_id))
            .await
    }
    async fn create_token(
        &self,
        token_hash: &str,
        app_id: Id,
        account_id: Option<Id>,
        scopes: &str,
    ) -> StoreResult<Id> {
        let (token_hash, scopes) = (token_hash.to_owned(), scopes.to_owned());
        self.write(move |t| oauth::create_token(t, &token_hash, app_id, account_id, &scopes))
            .await
    }
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<TokenRow> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| oauth::token_by_hash(c, &token_hash))
            .await
    }
    async fn revoke_token(&self, token_hash: &str, app_id: Id) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |t| oauth::revoke_token(t, &token_hash, app_id))
            .await
    }
    async fn create_auth_code(
        &self,
        code_hash: &str,
        code: AuthCode,
        ttl_s: u64,
    ) -> StoreResult<()> {
        let code_hash = code_hash.to_owned();
        self.write(move |t| oauth::create_auth_code(t, &code_hash, &code, ttl_s))
            .await
    }
    async fn take_auth_code(&self, code_hash: &str) -> StoreResult<AuthCode> {
        let code_hash = code_hash.to_owned();
        self.write(move |t| oauth::take_auth_code(t, &code_hash))
            .await
    }
    async fn create_session(
        &self,
        session_hash: &str,
        account_id: Id,
        ttl_s: u64,
        per_account_max: usize,
    ) -> StoreResult<()> {
        let session_hash = session_hash.to_owned();
        self.write(move |t| {
            oauth::create_session(t, &session_hash, account_id, ttl_s, per_account_max)
        })
        .await
    }
    async fn session(&self, session_hash: &str) -> StoreResult<SessionRow> {
        let session_hash = session_hash.to_owned();
        self.read(move |c| oauth::session(c, &session_hash)).await
    }
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        let session_hash = session_hash.to_owned();
        self.write(move |t| oauth::delete_session(t, &session_hash))
            .await
    }

    // ---- statuses ----
    async fn create_status(&self, new: NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
        self.write(move |t| statuses::create(t, &new, idempotency_ttl_s))
            .await
    }
    async fn delete_status(&self, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
        self.write(move |t| statuses::delete(t, account_id, status_id))
            .await
    }
    async fn status(&self, id: Id) -> StoreResult<StatusRow> {
        self.read(move |c| statuses::row(c, id)).await
    }
    async fn status_visible(&self, viewer: Option<Id>, id: Id) -> StoreResult<bool> {
        self.read(move |c| statuses::visible(c, viewer, id)).await
    }
    async fn status_bundles(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> StoreResult<Vec<StatusBundle>> {
        let ids = ids.to_vec();
        self.read(move |c| statuses::bundles(c, viewer, &ids)).await
    }
    async fn context(
        &self,
        viewer: Option<Id>,
        id: Id,
        max_each: u32,
    ) -> StoreResult<(Vec<Id>, Vec<Id>)> {
        self.read(move |c| statuses::context(c, viewer, id, max_each))
            .await
    }
    async fn favourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write(move |t| statuses::favourite(t, account_id, status_id))
            .await
    }
    async fn unfavourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write(move |t| statuses::unfavourite(t, account_id, status_id))
            .await
    }
    async fn reblog(
        &self,
        account_id: Id,
        status_id: Id,
        visibility: Visibility,
    ) -> StoreResult<Id> {
        self.write(move |t| statuses::reblog(t, account_id, status_id, visibility))
            .await
    }
    async fn unreblog(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write(move |t| statuses::unreblog(t, account_id, status_id))
            .await
    }
    async fn bookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write(move |t| statuses::bookmark(t, account_id, status_id))
            .await
    }
    async fn unbookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write(move |t| {
            t.tx.execute(
                "DELETE FROM bookmarks WHERE account_id = ?1 AND status_id = ?2",
                [account_id, status_id],
            )?;
            Ok(())
        })
        .await
    }
    async fn favourited_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| {
            sql::paged(c, "SELECT f.id, f.account_id FROM favourites f JOIN accounts a ON a.id = f.account_id \
                           WHERE f.status_id = ?1 AND a.suspended = 0", "f.id", [status_id], page)
        })
        .await
    }
    async fn reblogged_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| {
            sql::paged(
                c,
                "SELECT s.id, s.account_id FROM statuses s JOIN accounts a ON a.id = s.account_id \
                           WHERE s.reblog_of_id = ?1 AND a.suspended = 0",
                "s.id",
                [status_id],
                page,
            )
        })
        .await
    }

    // ---- timelines ----
    async fn home_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| timelines::home(c, viewer, page)).await
    }
    async fn public_timeline(
        &self,
        viewer: Option<Id>,
        only_media: bool,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| timelines::public(c, viewer, only_media, page))
            .await
    }
    async fn tag_timeline(
        &self,
        viewer: Option<Id>,
        tag: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        let tag = tag.to_lowercase();
        self.read(move |c| timelines::tag(c, viewer, &tag, page))
            .await
    }
    async fn account_statuses(
        &self,
        viewer: Option<Id>,
        account_id: Id,
        filter: AccountStatusesFilter,
        tagged: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        let tagged = tagged.map(str::to_lowercase);
        self.read(move |c| {
            timelines::account(c, viewer, account_id, filter, tagged.as_deref(), page)
        })
        .await
    }
    async fn favourites(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| timelines::favourites(c, viewer, page))
            .await
    }
    async fn bookmarks(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| timelines::bookmarks(c, viewer, page))
            .await
    }
    async fn search_statuses(
        &self,
        viewer: Option<Id>,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>> {
        let query = query.to_owned();
        self.read(move |c| timelines::search(c, viewer, &query, limit, offset))
            .await
    }
    async fn search_tags(&self, prefix: &str, limit: u32, offset: u32) -> StoreResult<Vec<TagRow>> {
        let prefix = prefix.to_lowercase();
        self.read(move |c| timelines::search_tags(c, &prefix, limit, offset))
            .await
    }
    async fn tag(&self, name: &str) -> StoreResult<TagRow> {
        let name = name.to_lowercase();
        self.read(move |c| timelines::tag_row(c, &name)).await
    }

    // ---- social graph ----
    async fn follow(
        &self,
        account_id: Id,
        target_id: Id,
        reblogs: bool,
        notify: bool,
    ) -> StoreResult<FollowOutcome> {
        self.write(move |t| graph::follow(t, account_id, target_id, reblogs, notify))
            .await
    }
    async fn unfollow(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write(move |t| graph::unfollow(t, account_id, target_id))
            .await
    }
    async fn block(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write(move |t| graph::block(t, account_id, target_id))
            .await
    }
    async fn unblock(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write(move |t| {
            t.tx.execute(
                "DELETE FROM blocks WHERE account_id = ?1 AND target_id = ?2",
                [account_id, target_id],
            )?;
            Ok(())
        })
        .await
    }
    async fn mute(&self, account_id: Id, target_id: Id, notifications: bool) -> StoreResult<()> {
        self.write(move |t| {
            t.tx.execute(
                "INSERT INTO mutes (account_id, target_id, notifications) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id, target_id) DO UPDATE SET notifications = excluded.notifications",
                rusqlite::params![account_id, target_id, notifications],
            )?;
            Ok(())
        })
        .await
    }
    async fn unmute(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write(move |t| {
            t.tx.execute(
                "DELETE FROM mutes WHERE account_id = ?1 AND target_id = ?2",
                [account_id, target_id],
            )?;
            Ok(())
        })
        .await
    }
    async fn relationships(
        &self,
        account_id: Id,
        targets: &[Id],
    ) -> StoreResult<Vec<Relationship>> {
        let targets = targets.to_vec();
        self.read(move |c| graph::relationships(c, account_id, &targets))
            .await
    }
    async fn followers(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| {
            sql::paged(
                c,
                "SELECT f.id, f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
                           WHERE f.target_id = ?1 AND a.suspended = 0",
                "f.id",
                [account_id],
                page,
            )
        })
        .await
    }
    async fn following(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(move |c| {
            sql::paged(
                c,
                "SELECT f.id, f.target_id FROM follows f JOIN accounts a ON a.id = f.target_id \
                           WHERE f.account_id = ?1 AND a.suspended = 0",
                "f.id",
                [account_id],
                page,
            )
        })
        .await
    }

    // ---- notifications ----
    async fn notifications_from(
        &self,
        account_id: Id,
        types: &[NotificationType],
        from: Option<Id>,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        let types = types.to_vec();
        self.read(move |c| notifications::list(c, account_id, &types, from, page))
            .await
    }
    async fn notification(&self, account_id: Id, id: Id) -> StoreResult<NotificationRow> {
        self.read(move |c| notifications::get(c, account_id, id))
            .await
    }
    async fn dismiss_notification(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.write(move |t| {
            match t.tx.execute(
                "DELETE FROM notifications WHERE account_id = ?1 AND id = ?2",
                [account_id, id],
            )? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }
    async fn clear_notifications(&self, account_id: Id) -> StoreResult<()> {
        self.write(move |t| {
            t.tx.execute(
                "DELETE FROM notifications WHERE account_id = ?1",
                [account_id],
            )?;
            Ok(())
        })
        .await
    }
    async fn notification_group_page(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        page: Page,
        scan_max: u32,
    ) -> StoreResult<NotificationGroupPage> {
        let (types, grouped) = (types.to_vec(), grouped.to_vec());
        self.read(move |c| {
            notifications::group_page(c, account_id, &types, &grouped, from, page, scan_max)
        })
        .await
    }
    async fn notification_groups(
        &self,
        account_id: Id,
        keys: &[String],
        from: Option<Id>,
        until: Option<Id>,
        samples: u32,
    ) -> StoreResult<Vec<NotificationGroupRow>> {
        let keys = keys.to_vec();
        self.read(move |c| notifications::group_rows(c, account_id, &keys, from, until, samples))
            .await
    }
    async fn group_notifications(
        &self,
        account_id: Id,
        group_key: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        let key = group_key.to_owned();
        self.read(move |c| notifications::by_group(c, account_id, &key, page))
            .await
    }
    async fn dismiss_notification_group(&self, account_id: Id, group_key: &str) -> StoreResult<()> {
        let key = group_key.to_owned();
        self.write(move |t| {
            t.tx.execute(
                "DELETE FROM notifications WHERE account_id = ?1 AND group_key = ?2",
                rusqlite::params![account_id, key],
            )?;
            Ok(())
        })
        .await
    }
    async fn unread_notifications(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        after_id: Option<Id>,
        limit: u32,
        scan_max: u32,
    ) -> StoreResult<u32> {
        let (types, grouped) = (types.to_vec(), grouped.to_vec());
        self.read(move |c| {
            notifications::unread(
                c, account_id, &types, &grouped, from, after_id, limit, scan_max,
            )
        })
        .await
    }

    // ---- media ----
    async fn create_media(&self, new: NewMedia) -> StoreResult<MediaRow> {
        self.write(move |t| media::create(t, &new)).await
    }
    async fn media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.read(move |c| media::owned(c, account_id, id)).await
    }
    async fn update_media(
        &self,
        account_id: Id,
        id: Id,
        update: MediaUpdate,
    ) -> StoreResult<MediaRow> {
        self.write(move |t| media::update(t, account_id, id, &update))
            .await
    }
    async fn delete_media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.write(move |t| media::delete(t, account_id, id)).await
    }
    async fn take_expired_media(&self, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
        self.write(move |t| media::take_expired(t, before_ms, limit))
            .await
    }
    async fn set_profile_image(
        &self,
        account_id: Id,
        which: ProfileImage,
        key: Option<String>,
    ) -> StoreResult<(AccountRow, Option<String>)> {
        self.write(move |t| media::set_profile_image(t, account_id, which, key))
            .await
    }

    // ---- markers ----
    async fn markers(&self, account_id: Id) -> StoreResult<Vec<Marker>> {
        self.read(move |c| notifications::markers(c, account_id))
            .await
    }
    async fn set_marker(
        &self,
        account_id: Id,
        timeline: &str,
        last_read_id: Id,
    ) -> StoreResult<Marker> {
        let timeline = timeline.to_owned();
        self.write(move |t| notifications::set_marker(t, account_id, &timeline, last_read_id))
            .await
    }
}
