//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! Durability: WAL journal with `synchronous=FULL`, so a committed write has
//! reached the disk before the caller hears "ok". Concurrency: SQLite allows
//! one writer at a time, so there is exactly one writer connection, owned by
//! a writer thread that takes writes from a bounded queue and commits as many
//! as are waiting in one transaction (group commit: one fsync for many
//! writes, run without savepoints, and again each in its own savepoint only
//! when one of them failed; each answered only after the commit);
//! and a small pool of read-only connections, acquired with a timeout, whose
//! work runs on tokio's blocking threads, never on the async workers.
//!
//! The queries themselves are the shared core's (`crate::core`); this
//! module holds what only SQLite has: connections, transactions, migrations.

mod epoch;
mod pcache;
mod runner;

pub(crate) use pcache::install as install_page_cache;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use holdfast_config::Limits;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::ids::IdGenerator;
use crate::{StoreError, StoreResult};

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
    (
        "0008_web_push",
        include_str!("../../migrations/sqlite/0008_web_push.sql"),
    ),
    (
        "0012_account_counts",
        include_str!("../../migrations/sqlite/0012_account_counts.sql"),
    ),
    (
        "0009_relationships_lists",
        include_str!("../../migrations/sqlite/0009_relationships_lists.sql"),
    ),
    (
        "0013_auth_code_replay",
        include_str!("../../migrations/sqlite/0013_auth_code_replay.sql"),
    ),
    (
        "0014_moderation",
        include_str!("../../migrations/sqlite/0014_moderation.sql"),
    ),
    (
        "0016_home_feed",
        include_str!("../../migrations/sqlite/0016_home_feed.sql"),
    ),
    (
        "0011_filters_notification_policies",
        include_str!("../../migrations/sqlite/0011_filters_notification_policies.sql"),
    ),
    (
        "0017_conversations_tags",
        include_str!("../../migrations/sqlite/0017_conversations_tags.sql"),
    ),
    (
        "0019_streaming",
        include_str!("../../migrations/sqlite/0019_streaming.sql"),
    ),
    (
        "0020_collections",
        include_str!("../../migrations/sqlite/0020_collections.sql"),
    ),
    (
        "0010_edits_pins_polls_scheduled",
        include_str!("../../migrations/sqlite/0010_edits_pins_polls_scheduled.sql"),
    ),
    (
        "0015_web_moderation",
        include_str!("../../migrations/sqlite/0015_web_moderation.sql"),
    ),
    (
        "0022_home_fanout_jobs",
        include_str!("../../migrations/sqlite/0022_home_fanout_jobs.sql"),
    ),
    (
        "0021_poll_ends_report_notifications",
        include_str!("../../migrations/sqlite/0021_poll_ends_report_notifications.sql"),
    ),
    (
        "0023_instance_rules",
        include_str!("../../migrations/sqlite/0023_instance_rules.sql"),
    ),
    (
        "0025_home_feed_built_index",
        include_str!("../../migrations/sqlite/0025_home_feed_built_index.sql"),
    ),
    (
        "0024_row_versions",
        include_str!("../../migrations/sqlite/0024_row_versions.sql"),
    ),
    (
        "0026_auth_epoch",
        include_str!("../../migrations/sqlite/0026_auth_epoch.sql"),
    ),
    (
        "0028_post_writes",
        include_str!("../../migrations/sqlite/0028_post_writes.sql"),
    ),
    (
        "0031_home_feed_filled",
        include_str!("../../migrations/sqlite/0031_home_feed_filled.sql"),
    ),
    (
        "0032_relation_versions",
        include_str!("../../migrations/sqlite/0032_relation_versions.sql"),
    ),
    (
        "0033_action_versions",
        include_str!("../../migrations/sqlite/0033_action_versions.sql"),
    ),
];

/// The SQLite store: the shared core over this backend's runner.
pub type SqliteStore = crate::core::Core<SqliteDb>;

impl SqliteStore {
    /// Opens (creating if needed) `holdfast.db` in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path, limits: &Limits) -> StoreResult<SqliteStore> {
        Ok(crate::core::Core {
            db: SqliteDb::open(data_dir, limits)?,
            limits: limits.clone(),
            parts: std::sync::Arc::new(crate::core::status_parts::StatusParts::new(
                limits.status_parts_cache_max,
            )),
            relations: std::sync::Arc::new(crate::core::home_rules::RelationFacts::new(
                limits.home_relation_facts_cache_max,
            )),
            flags: std::sync::Arc::new(crate::core::statuses::ViewerFlagsKept::new(
                limits.home_viewer_flags_cache_max,
            )),
        })
    }
}

/// SQLite's runner: one writer connection, a pool of readers.
pub struct SqliteDb {
    inner: Arc<Inner>,
}

struct Inner {
    /// Writes queued for the writer thread (`runner::writer_loop`), which
    /// owns the one write connection.
    writes: tokio::sync::mpsc::Sender<Box<dyn runner::QueuedWrite>>,
    readers: Mutex<Vec<Connection>>,
    read_permits: Semaphore,
    read_pool_size: usize,
    acquire_timeout: Duration,
    /// The auth epoch (`Store::auth_epoch`) asked on every authenticated
    /// request: read again only after a commit (`epoch.rs`), in place under
    /// its own lock rather than through the pool and `block_in_place`.
    epoch_reader: epoch::EpochReader,
    /// Reads run on the asking worker with at most this many workers
    /// (`sqlite_read_in_place_workers_max`, see `runner`'s `read`).
    read_in_place_workers_max: usize,
    /// True while committed search entries may wait in the queue (set by
    /// the writer, `runner::SearchFeed`; read before every search).
    search_pending: Arc<std::sync::atomic::AtomicBool>,
}

impl SqliteDb {
    fn open(data_dir: &Path, limits: &Limits) -> StoreResult<SqliteDb> {
        // Before the process's first connection (`pcache.rs`).
        pcache::install();
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("holdfast.db");

        let mut writer = Connection::open(&path).map_err(internal)?;
        configure(&writer, limits)?;
        migrate(&mut writer)?;
        warm_wal(&writer, &path, limits)?;

        let readers = (0..limits.db_read_connections.max(1))
            .map(|_| {
                let c = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(internal)?;
                configure(&c, limits)?;
                Ok(c)
            })
            .collect::<StoreResult<Vec<_>>>()?;

        let ids = Arc::new(IdGenerator::default());
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
        runner::register_next_id(&writer, ids)?;

        // WAL checkpoints (copying committed pages into the database file and
        // syncing it) run on a connection of their own, off the writer, so a
        // commit never waits behind one (a p99 spike every ~1,000 pages);
        // the writer still checkpoints itself if the WAL grows far past that
        // (`sqlite_writer_checkpoint_pages`), say if the checkpointer stalls.
        writer
            .pragma_update(
                None,
                "wal_autocheckpoint",
                limits.sqlite_writer_checkpoint_pages,
            )
            .map_err(internal)?;
        // A queued write run again with company after a failure runs in a savepoint (and a statement
        // that may fail halfway in a statement journal), whose journal (the original
        // of every page it changes) otherwise spills to a temporary file past
        // 64 KiB: a fan-out batch did, in pwrite calls (bench/perf, issue 10).
        // And the writer's page cache holds the index pages posts and fan-out
        // batches touch, instead of reading them again from the OS.
        writer
            .execute_batch("PRAGMA temp_store = MEMORY")
            .map_err(internal)?;
        writer
            .pragma_update(
                None,
                "cache_size",
                -i64::from(limits.sqlite_writer_cache_kib),
            )
            .map_err(internal)?;
        let epoch_reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(internal)?;
        configure(&epoch_reader, limits)?;
        let checkpointer = Connection::open(&path).map_err(internal)?;
        configure(&checkpointer, limits)?;

        let read_pool_size = readers.len();
        let (writes, queued) = tokio::sync::mpsc::channel(limits.sqlite_write_queue_max.max(1));
        let group_max = limits.sqlite_group_commit_max;
        let background_wait_max = Duration::from_millis(limits.sqlite_background_write_wait_max_ms);
        let gather = Duration::from_micros(limits.sqlite_group_commit_gather_us);
        // Set by the checkpoint thread when the WAL should start over (see
        // `runner::checkpoint_loop`), cleared by the writer.
        let wal_restart = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let restart_asked = wal_restart.clone();
        let search_pending = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let search = runner::SearchFeed::new(
            limits.sqlite_search_index_batch_writes,
            Duration::from_millis(limits.sqlite_search_index_wait_max_ms),
            search_pending.clone(),
        );
        // Thread names are cut to 15 bytes in `/proc` and `perf`: these
        // stay apart there (bench/perf measures the writer's CPU by name).
        std::thread::Builder::new()
            .name("hf-sqlite-write".into())
            .spawn(move || {
                runner::writer_loop(
                    Mutex::new(writer),
                    queued,
                    group_max,
                    background_wait_max,
                    gather,
                    restart_asked,
                    search,
                )
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        let inner = Arc::new(Inner {
            writes,
            readers: Mutex::new(readers),
            read_permits: Semaphore::new(read_pool_size),
            read_pool_size,
            acquire_timeout: Duration::from_millis(limits.db_acquire_timeout_ms),
            epoch_reader: epoch::EpochReader::new(epoch_reader)?,
            read_in_place_workers_max: limits.sqlite_read_in_place_workers_max,
            search_pending,
        });
        let checkpoints = runner::Checkpoints {
            open: Arc::downgrade(&inner),
            every: Duration::from_millis(limits.sqlite_checkpoint_interval_ms.max(1)),
            restart_pages: i64::from(limits.sqlite_wal_restart_pages),
            wal_restart,
            db_file: std::fs::File::open(&path).map_err(|e| {
                StoreError::Internal(format!("cannot open {}: {e}", path.display()))
            })?,
        };
        std::thread::Builder::new()
            .name("hf-sqlite-ckpt".into())
            .spawn(move || runner::checkpoint_loop(checkpointer, checkpoints))
            .map_err(|e| {
                StoreError::Internal(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(SqliteDb { inner })
    }
}

/// Makes the WAL ready for writes before the server takes any (bench/perf,
/// issue 10: the first 10 s of posting after a start had a p99 of 147 ms,
/// the next rounds 13–15 ms). Two things were cold:
///
/// - Frames an earlier process left in the WAL (a `holdfast migrate` run
///   before, a crash): the checkpoint thread's first pass copied them all
///   into the database file and synced it while the first posts were
///   syncing theirs. They are copied now (PASSIVE: a CLI command opening
///   the database beside a running server waits for nobody), and the
///   first write starts the WAL over.
/// - The WAL's size: it grows until the writer checkpoints itself at
///   `sqlite_writer_checkpoint_pages` frames and starts over from its
///   beginning, keeping the file's size. Until then every commit appends,
///   and its sync must also record the file's new size (an ext4 journal
///   commit); after, commits overwrite old frames in place. So the file is
///   grown now, with zeros, to that size (never past
///   `sqlite_wal_warm_bytes_max` nor the database's own size: a small
///   database has few writes to make room for). Safe with SQLite's format:
///   readers and recovery stop at the first frame whose salt and checksum
///   do not match the WAL header, which zeros never do; and only appended
///   (`O_APPEND`), so no byte SQLite wrote is ever overwritten, even by a
///   CLI command beside a running server.
fn warm_wal(writer: &Connection, db: &Path, limits: &Limits) -> StoreResult<()> {
    use std::io::Write;
    writer
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        .map_err(internal)?;
    let page_bytes: u64 = writer
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(internal)?;
    // fact: a WAL frame is a 24-byte header and a page; the WAL header is 32 bytes.
    let in_use = 32 + u64::from(limits.sqlite_writer_checkpoint_pages) * (24 + page_bytes);
    let io = |e: std::io::Error| StoreError::Internal(format!("cannot warm the WAL: {e}"));
    let db_bytes = std::fs::metadata(db).map_err(io)?.len();
    let bytes = in_use.min(limits.sqlite_wal_warm_bytes_max).min(db_bytes);
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    let mut wal = match std::fs::OpenOptions::new().append(true).open(&name) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    let mut len = wal.metadata().map_err(io)?.len();
    if len >= bytes {
        return Ok(());
    }
    // Written a MiB at a time.
    let zeros = vec![0u8; 1 << 20];
    while len < bytes {
        let n = (bytes - len).min(zeros.len() as u64) as usize;
        wal.write_all(&zeros[..n]).map_err(io)?;
        len += n as u64;
    }
    wal.sync_all().map_err(io)
}

/// A poisoned lock only means a closure panicked while holding it; the
/// connection itself is still usable (SQLite rolls back unfinished work).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(c: &Connection, limits: &Limits) -> StoreResult<()> {
    c.busy_timeout(Duration::from_millis(limits.db_busy_timeout_ms))
        .map_err(internal)?;
    // The shared core prepares every query through the cache.
    c.set_prepared_statement_cache_capacity(limits.sqlite_statement_cache_max);
    // Plans that do not depend on the values bound (the query planner
    // stability guarantee). Without it SQLite marks a cached statement stale
    // whenever a parameter it planned with (a `LIMIT ?`, a bound compared
    // with a partial index's terms) is bound again, and parses it anew on
    // every run: `sqlite3Reprepare` was 5 % of a home page's CPU (bench/perf).
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(internal)?;
    c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
        .map_err(internal)?;
    runner::register_now_ms(c)
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
    drop_value_samples(c)
}

/// Keeps `ANALYZE`'s row counts (`sqlite_stat1`) but not its per-value
/// samples (`sqlite_stat4`, which `holdfast bench seed` or an operator's
/// ANALYZE leave behind). With samples, a plan depends on the values bound,
/// so SQLite re-prepares a cached statement whenever such a parameter
/// changes: on nearly every query here (an account id, a token hash), 23 % of
/// a home request's CPU in bench/perf. Row counts are all the plans need.
fn drop_value_samples(c: &Connection) -> StoreResult<()> {
    let sampled: bool = c
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_stat4)", [], |r| {
            r.get(0)
        })
        .unwrap_or(false);
    if sampled {
        // `ANALYZE sqlite_schema` reloads the statistics this connection planned with.
        c.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")
            .map_err(internal)?;
        tracing::info!("dropped ANALYZE's per-value samples (sqlite_stat4)");
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
