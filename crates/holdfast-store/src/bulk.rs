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
//! PostgreSQL) their foreign keys and the primary keys and UNIQUE constraints
//! no other table's foreign key needs, and get them back at the end from the
//! schema's own definitions, read from the catalog when the load starts; an
//! index built once by sorting costs a fraction of one kept up row by row in
//! random order, and the count triggers would rewrite every account row a
//! hundred times. Rows go in many per statement (SQLite) or by `COPY`
//! (PostgreSQL). SQLite runs without a journal and without syncs: **a seed
//! that fails is not resumable; delete it (or drop the database) and run it
//! again** (the loader refuses a database that already has rows). On
//! PostgreSQL the whole load is one transaction, so a failure leaves the
//! database as empty as it was.

use std::io::Write as _;
use std::path::Path;

use bytes::Bytes;
use futures_util::SinkExt;
use holdfast_config::Limits;
use rusqlite::{Connection, Statement};

use crate::core::Arg;
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
        // Index and key builds sort in memory up to the bound (else on disk).
        config.options(&format!(
            "-c statement_timeout=0 -c synchronous_commit=off -c maintenance_work_mem={}kB",
            limits.bulk_pg_maintenance_work_mem_bytes / 1024
        ));
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
        // Given back in this order: indexes, keys, foreign keys, triggers.
        let (mut indexes, mut keys, mut foreign, mut triggers) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // Secondary indexes: those no constraint owns.
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
            client
                .batch_execute(&format!("DROP INDEX {}", r.get::<_, String>(0)))
                .await
                .map_err(pg)?;
            indexes.push(r.get::<_, String>(1));
        }
        // Foreign keys, then the primary keys and UNIQUE constraints no
        // remaining foreign key (of a table not loaded) depends on: each is
        // checked once, by a join or a sorted index build, when it comes back,
        // instead of an index probe in random order per row (the follows'
        // UNIQUE (account_id, target_id) alone is ~1 GB at a million users,
        // far beyond the buffer cache) and a lookup per foreign key.
        for (kinds, into) in [("f", &mut foreign), ("pu", &mut keys)] {
            for r in client
                .query(
                    "SELECT k.conrelid::regclass::text, quote_ident(k.conname), pg_get_constraintdef(k.oid) \
                     FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid \
                     WHERE strpos($2, k.contype::text) > 0 AND t.relname = ANY($1) \
                       AND t.relnamespace = current_schema()::regnamespace \
                       AND NOT EXISTS (SELECT 1 FROM pg_constraint f \
                                       WHERE f.contype = 'f' AND f.conindid = k.conindid AND k.contype <> 'f') \
                     ORDER BY 1, 2",
                    &[&tables, &kinds],
                )
                .await
                .map_err(pg)?
            {
                let (table, name, def): (String, String, String) = (r.get(0), r.get(1), r.get(2));
                client
                    .batch_execute(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}"))
                    .await
                    .map_err(pg)?;
                into.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}"));
            }
        }
        for t in LOADED_TABLES {
            client
                .batch_execute(&format!("ALTER TABLE {t} DISABLE TRIGGER USER"))
                .await
                .map_err(pg)?;
            triggers.push(format!("ALTER TABLE {t} ENABLE TRIGGER USER"));
        }
        let restore = [indexes, keys, foreign, triggers].concat();
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

    /// Indexes the search, gives the tables back their indexes, keys, foreign
    /// keys and triggers, commits, makes the load durable and gives the planner
    /// fresh statistics (PostgreSQL: and vacuums). Unique indexes check the data as they are built.
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
                // VACUUM too: it sets every loaded row's hint bits and the
                // visibility map now (else the first reads of each page write
                // it, and index-only scans visit the heap), and keeps
                // autovacuum from doing the same in the middle of a benchmark.
                c.batch_execute("VACUUM (ANALYZE)").await.map_err(pg)
            }
        }
    }
}

/// A value of a loaded row in PostgreSQL's COPY text format (a seed's rows
/// hold only numbers, text and NULLs; SQLite binds the same `Arg`s).
fn copy_text(v: &Arg, out: &mut Vec<u8>) {
    match *v {
        Arg::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Arg::Real(v) => {
            let _ = write!(out, "{v}");
        }
        Arg::Bool(v) => out.push(if v { b't' } else { b'f' }),
        Arg::Null | Arg::Ids(_) | Arg::Texts(_) => out.extend_from_slice(b"\\N"),
        Arg::Text(v) => {
            for &b in v.as_bytes() {
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
}

/// One table's rows of a batch, as both databases take them: `into` is
/// `table (columns)`, and `values` holds the rows one after the other, each
/// `width` values in the columns' order.
struct TableRows<'a> {
    into: &'static str,
    width: usize,
    values: Vec<Arg<'a>>,
}

impl<'a> TableRows<'a> {
    fn new<I: ExactSizeIterator, const N: usize>(
        into: &'static str,
        rows: I,
        row: impl Fn(I::Item) -> [Arg<'a>; N],
    ) -> Self {
        let mut values = Vec::with_capacity(rows.len() * N);
        for r in rows {
            values.extend(row(r));
        }
        TableRows {
            into,
            width: N,
            values,
        }
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, Arg<'a>> {
        self.values.chunks_exact(self.width)
    }
}

/// Every table of a batch, in the order they are written (the one list of
/// what a seed writes where, for both databases). `lower` holds the accounts'
/// lower-cased usernames, in order.
fn batch_tables<'a>(b: &'a BulkBatch, lower: &'a [String]) -> [TableRows<'a>; 10] {
    let accounts = TableRows::new(
        "accounts (id, username, username_lower, display_name, note, created_at, \
         followers_count, following_count, statuses_count, last_status_at)",
        b.accounts.iter().zip(lower),
        |(a, lower)| {
            [
                a.id.into(),
                (&a.username).into(),
                lower.into(),
                (&a.display_name).into(),
                (&a.note).into(),
                a.created_at_ms.into(),
                a.followers_count.into(),
                a.following_count.into(),
                a.statuses_count.into(),
                a.last_status_at_ms.into(),
            ]
        },
    );
    [
        accounts,
        TableRows::new("tags (id, name)", b.tags.iter(), |(id, name)| {
            [(*id).into(), name.into()]
        }),
        TableRows::new(
            "apps (id, name, redirect_uris, scopes, client_id, client_secret_hash, created_at)",
            b.apps.iter(),
            |(id, name, client_id, secret_hash)| {
                [
                    (*id).into(),
                    name.into(),
                    "urn:ietf:wg:oauth:2.0:oob".into(),
                    "read write follow push".into(),
                    client_id.into(),
                    secret_hash.into(),
                    Arg::Int(0),
                ]
            },
        ),
        TableRows::new(
            "tokens (id, token_hash, app_id, account_id, scopes, created_at)",
            b.tokens.iter(),
            |(app_id, t)| {
                [
                    t.id.into(),
                    (&t.token_hash).into(),
                    (*app_id).into(),
                    t.account_id.into(),
                    (&t.scopes).into(),
                    Arg::Int(0),
                ]
            },
        ),
        TableRows::new(
            "follows (id, account_id, target_id)",
            b.follows.iter(),
            |&(id, a, t)| [id.into(), a.into(), t.into()],
        ),
        TableRows::new(
            "statuses (id, account_id, text, content, visibility, in_reply_to_id, \
             in_reply_to_account_id, thread_id, reblog_of_id, replies_count, reblogs_count, \
             favourites_count, created_at)",
            b.statuses.iter(),
            |s| {
                [
                    s.id.into(),
                    s.account_id.into(),
                    (&s.text).into(),
                    (&s.content).into(),
                    s.visibility.into(),
                    s.in_reply_to_id.into(),
                    s.in_reply_to_account_id.into(),
                    s.thread_id.into(),
                    s.reblog_of_id.into(),
                    s.replies_count.into(),
                    s.reblogs_count.into(),
                    s.favourites_count.into(),
                    s.created_at_ms.into(),
                ]
            },
        ),
        TableRows::new(
            "favourites (id, account_id, status_id)",
            b.favourites.iter(),
            |&(id, a, s)| [id.into(), a.into(), s.into()],
        ),
        TableRows::new(
            "mentions (status_id, account_id)",
            b.mentions.iter(),
            |&(s, a)| [s.into(), a.into()],
        ),
        TableRows::new(
            "status_tags (tag_id, status_id)",
            b.status_tags.iter(),
            |&(t, s)| [t.into(), s.into()],
        ),
        TableRows::new(
            "notifications (id, account_id, from_account_id, type, status_id, group_key, created_at)",
            b.notifications.iter(),
            |n| {
                [
                    n.id.into(),
                    n.account_id.into(),
                    n.from_account_id.into(),
                    n.kind.into(),
                    n.status_id.into(),
                    n.group_key.as_ref().into(),
                    n.created_at_ms.into(),
                ]
            },
        ),
    ]
}

/// The accounts' lower-cased usernames (`username_lower`), in order.
fn lower_usernames(b: &BulkBatch) -> Vec<String> {
    b.accounts
        .iter()
        .map(|a| a.username.to_lowercase())
        .collect()
}

/// Inserts a table's rows, `per` rows per INSERT.
fn insert_rows(c: &Connection, per: usize, t: &TableRows) -> rusqlite::Result<()> {
    let sql = |n: usize| {
        let mut s = format!("INSERT INTO {} VALUES ", t.into);
        for r in 0..n {
            s.push_str(if r == 0 { "(" } else { ",(" });
            for k in 1..=t.width {
                if k > 1 {
                    s.push(',');
                }
                s.push_str(&format!("?{}", r * t.width + k));
            }
            s.push(')');
        }
        s
    };
    let bind = |s: &mut Statement, rows: &[Arg]| -> rusqlite::Result<()> {
        for (k, v) in rows.iter().enumerate() {
            s.raw_bind_parameter(k + 1, v)?;
        }
        Ok(())
    };
    let mut chunks = t.values.chunks_exact(per * t.width);
    if t.values.len() >= per * t.width {
        let mut full = c.prepare_cached(&sql(per))?;
        for chunk in &mut chunks {
            bind(&mut full, chunk)?;
            full.raw_execute()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut s = c.prepare(&sql(rest.len() / t.width))?;
        bind(&mut s, rest)?;
        s.raw_execute()?;
    }
    Ok(())
}

fn write_sqlite(c: &Connection, per: usize, b: &BulkBatch) -> rusqlite::Result<()> {
    let lower = lower_usernames(b);
    for t in batch_tables(b, &lower) {
        insert_rows(c, per, &t)?;
    }
    Ok(())
}

/// `COPY table (columns) FROM STDIN`, one line per row.
async fn copy_rows(
    c: &tokio_postgres::Client,
    t: &TableRows<'_>,
) -> Result<(), tokio_postgres::Error> {
    if t.values.is_empty() {
        return Ok(());
    }
    let mut out = Vec::with_capacity(t.values.len() * 8);
    for row in t.rows() {
        for (k, v) in row.iter().enumerate() {
            if k > 0 {
                out.push(b'\t');
            }
            copy_text(v, &mut out);
        }
        out.push(b'\n');
    }
    let sink = c
        .copy_in::<_, Bytes>(&format!("COPY {} FROM STDIN", t.into))
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
    let lower = lower_usernames(b);
    for t in batch_tables(b, &lower) {
        copy_rows(c, &t).await?;
    }
    Ok(())
}

/// Rows whose stored counts disagree with a COUNT over the rows they count,
/// each as "table id": accounts' followers, following, statuses and last
/// status time; statuses' replies, reblogs and favourites; replies' thread
/// ids. Empty when a load is consistent. It scans every table, so it is for
/// tests of small seeds.
pub fn sqlite_count_mismatches(data_dir: &Path) -> StoreResult<Vec<String>> {
    crate::sqlite::install_page_cache();
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
    crate::sqlite::install_page_cache();
    let c = Connection::open(data_dir.join("holdfast.db")).map_err(internal)?;
    let mut s = c
        .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_stat%' ORDER BY sql")
        .map_err(internal)?;
    let rows = s.query_map([], |r| r.get(0)).map_err(internal)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(internal)
}
