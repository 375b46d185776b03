//! Bulk loading for `holdfast bench seed`: a synthetic instance written into
//! an empty, migrated database, on SQLite and PostgreSQL.
//!
//! This is not a `Store` operation and the server never calls it: it fills an
//! empty database with rows the caller made consistent itself (ids unique and
//! time-ordered; every count the schema's triggers would keep already summed:
//! accounts' follower, following and status counts and last status time,
//! statuses' reply, reblog and favourite counts; replies' thread ids; one
//! reblog per account and status). Going through the `Store` trait would cost
//! one transaction per row; a million-user instance would take days.
//!
//! How it is fast (a million users is ~250M rows): for the length of the load
//! the loaded tables lose their secondary indexes, their triggers and (on
//! PostgreSQL) their foreign keys, and get them back at the end from the
//! schema's own definitions, read from the catalog when the load starts; an
//! index built once by sorting costs a fraction of one kept up row by row in
//! random order, and the count triggers would rewrite every account row a
//! hundred times. Rows go in many per statement (SQLite) or by `COPY`
//! (PostgreSQL). SQLite runs without a journal and without syncs: **a seed
//! that fails is not resumable; delete it (or drop the database) and run it
//! again** (the loader refuses a database that already has rows). On
//! PostgreSQL the whole load is one transaction, so a failure leaves the
//! database as empty as it was.

use std::path::Path;

use bytes::Bytes;
use futures_util::SinkExt;
use holdfast_config::Limits;
use rusqlite::{Connection, Statement, ToSql};

use crate::model::Id;
use crate::{StoreError, StoreResult};

pub struct BulkAccount {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub note: String,
    pub created_at_ms: i64,
    /// The counts the triggers of migration 0012 keep, summed by the caller
    /// (the triggers are off during the load).
    pub followers_count: i64,
    pub following_count: i64,
    /// Statuses that are not direct messages, and the newest one's time.
    pub statuses_count: i64,
    pub last_status_at_ms: Option<i64>,
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
    /// A reply's thread: the id of the status at the top of its reply chain.
    pub thread_id: Option<Id>,
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

/// One batch of rows, in any order: nothing is checked until the load ends.
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

/// The tables a seed fills in bulk: these lose their secondary indexes,
/// triggers and foreign keys while it runs. (Tags and apps are a few hundred
/// rows and keep theirs; tokens point at accounts, which come last.)
const LOADED_TABLES: [&str; 8] = [
    "accounts",
    "tokens",
    "follows",
    "statuses",
    "favourites",
    "mentions",
    "status_tags",
    "notifications",
];

pub struct BulkLoader {
    db: Db,
    /// Statements that give the loaded tables back what the load took away,
    /// in order (indexes, then foreign keys, then triggers).
    restore: Vec<String>,
    /// SQLite: `Limits::bulk_sqlite_rows_per_insert_max`.
    rows_per_insert: usize,
}

enum Db {
    Sqlite(Connection),
    Postgres(tokio_postgres::Client),
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// PostgreSQL's own message and detail (the driver's `Display` says only "db error").
fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(d) => StoreError::Internal(format!(
            "{}{}",
            d.message(),
            d.detail().map(|x| format!(" ({x})")).unwrap_or_default()
        )),
        None => internal(e),
    }
}

const NOT_EMPTY: &str = "the database already has accounts, follows or statuses (a seed \
     that failed leaves its rows behind): seed an empty one";

/// Any row in the tables a seed fills first or last.
const HAS_ROWS: &str = "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM follows) \
     OR EXISTS (SELECT 1 FROM statuses)";

impl BulkLoader {
    /// Migrates `holdfast.db` in `data_dir` (as `serve` would), then opens a
    /// connection for loading. The database must hold no accounts yet.
    pub fn sqlite(data_dir: &Path, limits: &Limits) -> StoreResult<BulkLoader> {
        drop(crate::sqlite::SqliteStore::open(data_dir, limits)?);
        let c = Connection::open(data_dir.join("holdfast.db")).map_err(internal)?;
        let busy: bool = c.query_row(HAS_ROWS, [], |r| r.get(0)).map_err(internal)?;
        if busy {
            return Err(StoreError::Rejected(NOT_EMPTY));
        }
        // No journal and no syncs: a seed that fails is run again from an
        // empty database, so it need not survive a crash (`finish` syncs once).
        // The index builds at the end sort in temporary files, on two threads.
        // Leaving WAL needs the only connection: the migrating store's
        // threads close theirs within a moment of its drop.
        let wait_until = std::time::Instant::now()
            + std::time::Duration::from_millis(limits.bulk_sqlite_exclusive_wait_ms);
        loop {
            let mode = c.query_row("PRAGMA journal_mode = OFF", [], |r| r.get::<_, String>(0));
            match mode {
                Ok(m) if m.eq_ignore_ascii_case("off") => break,
                _ if std::time::Instant::now() < wait_until => std::thread::sleep(
                    std::time::Duration::from_millis(limits.bulk_sqlite_exclusive_wait_ms / 50),
                ),
                other => {
                    tracing::warn!(
                        "bulk load: could not leave WAL ({other:?}); loading will be slower"
                    );
                    break;
                }
            }
        }
        c.execute_batch(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -524288; \
             PRAGMA temp_store = FILE; PRAGMA threads = 2;",
        )
        .map_err(internal)?;
        c.set_prepared_statement_cache_capacity(64);
        let mut restore = Vec::new();
        let mut drop_now = Vec::new();
        {
            let mut s = c
                .prepare(
                    "SELECT type, name, sql FROM sqlite_master \
                     WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN \
                     ('accounts', 'tokens', 'follows', 'statuses', 'favourites', 'mentions', 'status_tags', 'notifications') \
                     ORDER BY type, name",
                )
                .map_err(internal)?;
            let rows = s
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(internal)?;
            for row in rows {
                let (kind, name, sql) = row.map_err(internal)?;
                // "index" sorts before "trigger": indexes are rebuilt first.
                drop_now.push(format!("DROP {} \"{name}\"", kind.to_uppercase()));
                restore.push(sql);
            }
        }
        c.execute_batch("BEGIN").map_err(internal)?;
        for d in &drop_now {
            c.execute_batch(d).map_err(internal)?;
        }
        Ok(BulkLoader {
            db: Db::Sqlite(c),
            restore,
            rows_per_insert: limits.bulk_sqlite_rows_per_insert_max.max(1),
        })
    }

    /// Migrates the PostgreSQL database at `url`, then connects and starts the
    /// load's one transaction.
    pub async fn postgres(url: &str, limits: &Limits) -> StoreResult<BulkLoader> {
        drop(crate::postgres::PgStore::open(url, limits).await?);
        let mut config = crate::postgres::connection_config(url, limits)?;
        // Bulk statements run far longer than a request's statement timeout.
        config.options(
            "-c statement_timeout=0 -c synchronous_commit=off -c maintenance_work_mem=256MB",
        );
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(pg)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("bulk loader connection ended: {e}");
            }
        });
        let busy: bool = client.query_one(HAS_ROWS, &[]).await.map_err(pg)?.get(0);
        if busy {
            return Err(StoreError::Rejected(NOT_EMPTY));
        }
        client.batch_execute("BEGIN").await.map_err(pg)?;
        let tables: Vec<&str> = LOADED_TABLES.to_vec();
        let mut restore = Vec::new();
        let mut drop_now = Vec::new();
        // Secondary indexes: those no constraint owns (primary keys and
        // UNIQUE constraints stay; their inserts come in key order anyway).
        for r in client
            .query(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) \
                 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE t.relname = ANY($1) AND t.relnamespace = current_schema()::regnamespace \
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
                 ORDER BY 1",
                &[&tables],
            )
            .await
            .map_err(pg)?
        {
            drop_now.push(format!("DROP INDEX {}", r.get::<_, String>(0)));
            restore.push(r.get::<_, String>(1));
        }
        // Foreign keys: checked once by a join when they come back, instead
        // of a lookup (and a row lock) per row.
        for r in client
            .query(
                "SELECT k.conrelid::regclass::text, quote_ident(k.conname), pg_get_constraintdef(k.oid) \
                 FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid \
                 WHERE k.contype = 'f' AND t.relname = ANY($1) \
                   AND t.relnamespace = current_schema()::regnamespace \
                 ORDER BY 1, 2",
                &[&tables],
            )
            .await
            .map_err(pg)?
        {
            let (table, name, def): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            drop_now.push(format!("ALTER TABLE {table} DROP CONSTRAINT {name}"));
            restore.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
        }
        for t in LOADED_TABLES {
            drop_now.push(format!("ALTER TABLE {t} DISABLE TRIGGER USER"));
            restore.push(format!("ALTER TABLE {t} ENABLE TRIGGER USER"));
        }
        for d in &drop_now {
            client.batch_execute(d).await.map_err(pg)?;
        }
        Ok(BulkLoader {
            db: Db::Postgres(client),
            restore,
            rows_per_insert: 1,
        })
    }

    /// Writes one batch (inside the load's transaction).
    pub async fn write(&mut self, b: &BulkBatch) -> StoreResult<()> {
        match &mut self.db {
            Db::Sqlite(c) => write_sqlite(c, self.rows_per_insert, b).map_err(internal),
            Db::Postgres(c) => write_postgres(c, b).await.map_err(pg),
        }
    }

    /// Indexes the search, gives the tables back their indexes, foreign keys
    /// and triggers, commits, makes the load durable and gives the planner
    /// fresh statistics. Unique indexes check the data as they are built.
    pub async fn finish(&mut self) -> StoreResult<()> {
        match &mut self.db {
            Db::Sqlite(c) => {
                // The statuses' search rows, as posting writes them
                // (`spoiler_text || ' ' || text`; reblogs have none).
                c.execute_batch(
                    "INSERT INTO status_search (rowid, body) \
                     SELECT id, spoiler_text || ' ' || text FROM statuses WHERE reblog_of_id IS NULL",
                )
                .map_err(internal)?;
                for sql in &self.restore {
                    c.execute_batch(sql).map_err(internal)?;
                }
                c.execute_batch("COMMIT").map_err(internal)?;
                // Sampled statistics: a full ANALYZE reads every index, minutes at a million users.
                c.execute_batch(
                    "PRAGMA analysis_limit = 2000; ANALYZE; PRAGMA synchronous = FULL;",
                )
                .map_err(internal)?;
                let _: String = c
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    .map_err(internal)?;
                Ok(())
            }
            Db::Postgres(c) => {
                for sql in &self.restore {
                    c.batch_execute(sql).await.map_err(pg)?;
                }
                c.batch_execute("COMMIT").await.map_err(pg)?;
                c.batch_execute("ANALYZE").await.map_err(pg)
            }
        }
    }
}

/// Inserts `rows` into `table (columns)`, `per` rows per INSERT; `bind` binds
/// one row's values at parameter offset `at` (1-based parameter `at + 1` is
/// its first column).
fn insert_rows<T>(
    c: &Connection,
    per: usize,
    table_columns: &str,
    width: usize,
    rows: &[T],
    bind: impl Fn(&mut Statement, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let sql = |n: usize| {
        let mut s = format!("INSERT INTO {table_columns} VALUES ");
        for r in 0..n {
            s.push_str(if r == 0 { "(" } else { ",(" });
            for k in 1..=width {
                if k > 1 {
                    s.push(',');
                }
                s.push_str(&format!("?{}", r * width + k));
            }
            s.push(')');
        }
        s
    };
    let mut chunks = rows.chunks_exact(per);
    if rows.len() >= per {
        let mut full = c.prepare_cached(&sql(per))?;
        for chunk in &mut chunks {
            for (r, row) in chunk.iter().enumerate() {
                bind(&mut full, r * width, row)?;
            }
            full.raw_execute()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut s = c.prepare(&sql(rest.len()))?;
        for (r, row) in rest.iter().enumerate() {
            bind(&mut s, r * width, row)?;
        }
        s.raw_execute()?;
    }
    Ok(())
}

/// Binds `values` from parameter `at + 1` on.
fn put(s: &mut Statement, at: usize, values: &[&dyn ToSql]) -> rusqlite::Result<()> {
    for (k, v) in values.iter().enumerate() {
        s.raw_bind_parameter(at + k + 1, v)?;
    }
    Ok(())
}

fn write_sqlite(c: &Connection, per: usize, b: &BulkBatch) -> rusqlite::Result<()> {
    insert_rows(
        c,
        per,
        "accounts (id, username, username_lower, display_name, note, created_at, \
         followers_count, following_count, statuses_count, last_status_at)",
        10,
        &b.accounts,
        |s, at, a| {
            put(
                s,
                at,
                &[
                    &a.id,
                    &a.username,
                    &a.username.to_lowercase(),
                    &a.display_name,
                    &a.note,
                    &a.created_at_ms,
                    &a.followers_count,
                    &a.following_count,
                    &a.statuses_count,
                    &a.last_status_at_ms,
                ],
            )
        },
    )?;
    insert_rows(
        c,
        per,
        "tags (id, name)",
        2,
        &b.tags,
        |s, at, (id, name)| put(s, at, &[id, name]),
    )?;
    for (id, name, client_id, secret_hash) in &b.apps {
        c.execute(
            "INSERT INTO apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES (?1, ?2, 'urn:ietf:wg:oauth:2.0:oob', 'read write follow push', ?3, ?4, 0)",
            rusqlite::params![id, name, client_id, secret_hash],
        )?;
    }
    insert_rows(
        c,
        per,
        "tokens (id, token_hash, app_id, account_id, scopes, created_at)",
        6,
        &b.tokens,
        |s, at, (app_id, t)| {
            put(
                s,
                at,
                &[&t.id, &t.token_hash, app_id, &t.account_id, &t.scopes, &0],
            )
        },
    )?;
    insert_rows(
        c,
        per,
        "follows (id, account_id, target_id)",
        3,
        &b.follows,
        |s, at, (id, a, t)| put(s, at, &[id, a, t]),
    )?;
    insert_rows(
        c,
        per,
        "statuses (id, account_id, text, content, visibility, in_reply_to_id, in_reply_to_account_id, \
         thread_id, reblog_of_id, replies_count, reblogs_count, favourites_count, created_at)",
        13,
        &b.statuses,
        |s, at, st| {
            put(
                s,
                at,
                &[
                    &st.id,
                    &st.account_id,
                    &st.text,
                    &st.content,
                    &st.visibility,
                    &st.in_reply_to_id,
                    &st.in_reply_to_account_id,
                    &st.thread_id,
                    &st.reblog_of_id,
                    &st.replies_count,
                    &st.reblogs_count,
                    &st.favourites_count,
                    &st.created_at_ms,
                ],
            )
        },
    )?;
    insert_rows(
        c,
        per,
        "favourites (id, account_id, status_id)",
        3,
        &b.favourites,
        |s, at, (id, a, st)| put(s, at, &[id, a, st]),
    )?;
    insert_rows(
        c,
        per,
        "mentions (status_id, account_id)",
        2,
        &b.mentions,
        |s, at, (st, a)| put(s, at, &[st, a]),
    )?;
    insert_rows(
        c,
        per,
        "status_tags (tag_id, status_id)",
        2,
        &b.status_tags,
        |s, at, (t, st)| put(s, at, &[t, st]),
    )?;
    insert_rows(
        c,
        per,
        "notifications (id, account_id, from_account_id, type, status_id, group_key, created_at)",
        7,
        &b.notifications,
        |s, at, n| {
            put(
                s,
                at,
                &[
                    &n.id,
                    &n.account_id,
                    &n.from_account_id,
                    &n.kind,
                    &n.status_id,
                    &n.group_key,
                    &n.created_at_ms,
                ],
            )
        },
    )
}

/// A value in PostgreSQL's COPY text format.
trait CopyValue {
    fn put(&self, out: &mut Vec<u8>);
}

impl CopyValue for i64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.to_string().as_bytes());
    }
}

impl CopyValue for str {
    fn put(&self, out: &mut Vec<u8>) {
        for &b in self.as_bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
}

impl CopyValue for String {
    fn put(&self, out: &mut Vec<u8>) {
        self.as_str().put(out)
    }
}

impl CopyValue for &str {
    fn put(&self, out: &mut Vec<u8>) {
        (*self).put(out)
    }
}

impl<T: CopyValue> CopyValue for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Some(v) => v.put(out),
            None => out.extend_from_slice(b"\\N"),
        }
    }
}

/// `COPY table (columns) FROM STDIN` with one line per row.
async fn copy_rows<T>(
    c: &tokio_postgres::Client,
    table_columns: &str,
    rows: &[T],
    line: impl Fn(&T) -> Vec<&dyn CopyValue>,
) -> Result<(), tokio_postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut out = Vec::with_capacity(rows.len() * 48);
    for row in rows {
        for (k, v) in line(row).into_iter().enumerate() {
            if k > 0 {
                out.push(b'\t');
            }
            v.put(&mut out);
        }
        out.push(b'\n');
    }
    let sink = c
        .copy_in::<_, Bytes>(&format!("COPY {table_columns} FROM STDIN"))
        .await?;
    let mut sink = std::pin::pin!(sink);
    sink.send(Bytes::from(out)).await?;
    sink.as_mut().finish().await?;
    Ok(())
}

async fn write_postgres(
    c: &tokio_postgres::Client,
    b: &BulkBatch,
) -> Result<(), tokio_postgres::Error> {
    let lower: Vec<String> = b
        .accounts
        .iter()
        .map(|a| a.username.to_lowercase())
        .collect();
    let accounts: Vec<(&BulkAccount, &String)> = b.accounts.iter().zip(&lower).collect();
    copy_rows(
        c,
        "accounts (id, username, username_lower, display_name, note, created_at, \
         followers_count, following_count, statuses_count, last_status_at)",
        &accounts,
        |(a, lower)| {
            vec![
                &a.id as &dyn CopyValue,
                &a.username,
                *lower,
                &a.display_name,
                &a.note,
                &a.created_at_ms,
                &a.followers_count,
                &a.following_count,
                &a.statuses_count,
                &a.last_status_at_ms,
            ]
        },
    )
    .await?;
    copy_rows(c, "tags (id, name)", &b.tags, |(id, name)| {
        vec![id as &dyn CopyValue, name]
    })
    .await?;
    for (id, name, client_id, secret_hash) in &b.apps {
        c.execute(
            "INSERT INTO apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES ($1, $2, 'urn:ietf:wg:oauth:2.0:oob', 'read write follow push', $3, $4, 0)",
            &[id, name, client_id, secret_hash],
        )
        .await?;
    }
    copy_rows(
        c,
        "tokens (id, token_hash, app_id, account_id, scopes, created_at)",
        &b.tokens,
        |(app_id, t)| {
            vec![
                &t.id as &dyn CopyValue,
                &t.token_hash,
                app_id,
                &t.account_id,
                &t.scopes,
                &0i64,
            ]
        },
    )
    .await?;
    copy_rows(
        c,
        "follows (id, account_id, target_id)",
        &b.follows,
        |(id, a, t)| vec![id as &dyn CopyValue, a, t],
    )
    .await?;
    copy_rows(
        c,
        "statuses (id, account_id, text, content, visibility, in_reply_to_id, in_reply_to_account_id, \
         thread_id, reblog_of_id, replies_count, reblogs_count, favourites_count, created_at)",
        &b.statuses,
        |s| {
            vec![
                &s.id as &dyn CopyValue,
                &s.account_id,
                &s.text,
                &s.content,
                &s.visibility,
                &s.in_reply_to_id,
                &s.in_reply_to_account_id,
                &s.thread_id,
                &s.reblog_of_id,
                &s.replies_count,
                &s.reblogs_count,
                &s.favourites_count,
                &s.created_at_ms,
            ]
        },
    )
    .await?;
    copy_rows(
        c,
        "favourites (id, account_id, status_id)",
        &b.favourites,
        |(id, a, s)| vec![id as &dyn CopyValue, a, s],
    )
    .await?;
    copy_rows(
        c,
        "mentions (status_id, account_id)",
        &b.mentions,
        |(s, a)| vec![s as &dyn CopyValue, a],
    )
    .await?;
    copy_rows(
        c,
        "status_tags (tag_id, status_id)",
        &b.status_tags,
        |(t, s)| vec![t as &dyn CopyValue, s],
    )
    .await?;
    copy_rows(
        c,
        "notifications (id, account_id, from_account_id, type, status_id, group_key, created_at)",
        &b.notifications,
        |n| {
            vec![
                &n.id as &dyn CopyValue,
                &n.account_id,
                &n.from_account_id,
                &n.kind,
                &n.status_id,
                &n.group_key,
                &n.created_at_ms,
            ]
        },
    )
    .await
}

/// Rows whose stored counts disagree with a COUNT over the rows they count,
/// each as "table id": accounts' followers, following, statuses and last
/// status time; statuses' replies, reblogs and favourites; replies' thread
/// ids. Empty when a load is consistent. It scans every table, so it is for
/// tests of small seeds.
pub fn sqlite_count_mismatches(data_dir: &Path) -> StoreResult<Vec<String>> {
    let c = Connection::open(data_dir.join("holdfast.db")).map_err(internal)?;
    let mut s = c
        .prepare(
            "SELECT 'accounts ' || a.id FROM accounts a \
             WHERE a.followers_count <> (SELECT COUNT(*) FROM follows f WHERE f.target_id = a.id) \
                OR a.following_count <> (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id) \
                OR a.statuses_count <> (SELECT COUNT(*) FROM statuses s WHERE s.account_id = a.id AND s.visibility <> 3) \
                OR a.last_status_at IS NOT (SELECT MAX(s.created_at) FROM statuses s WHERE s.account_id = a.id AND s.visibility <> 3) \
             UNION ALL \
             SELECT 'statuses ' || p.id FROM statuses p \
             WHERE p.replies_count <> (SELECT COUNT(*) FROM statuses r WHERE r.in_reply_to_id = p.id AND r.visibility IN (0, 1)) \
                OR p.reblogs_count <> (SELECT COUNT(*) FROM statuses r WHERE r.reblog_of_id = p.id) \
                OR p.favourites_count <> (SELECT COUNT(*) FROM favourites f WHERE f.status_id = p.id) \
                OR p.thread_id IS NOT (SELECT COALESCE(q.thread_id, q.id) FROM statuses q WHERE q.id = p.in_reply_to_id)",
        )
        .map_err(internal)?;
    let rows = s.query_map([], |r| r.get(0)).map_err(internal)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(internal)
}

/// Every table, index and trigger of the SQLite database in `data_dir`, as
/// its SQL, sorted, leaving out `ANALYZE`'s statistics tables: a loaded
/// database must end with the schema a migrated one has (for tests).
pub fn sqlite_schema(data_dir: &Path) -> StoreResult<Vec<String>> {
    let c = Connection::open(data_dir.join("holdfast.db")).map_err(internal)?;
    let mut s = c
        .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_stat%' ORDER BY sql")
        .map_err(internal)?;
    let rows = s.query_map([], |r| r.get(0)).map_err(internal)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(internal)
}
