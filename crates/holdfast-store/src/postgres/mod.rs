//! The PostgreSQL backend: for clusters of stateless holdfast nodes over a
//! highly available PostgreSQL (Patroni).
//!
//! Behaviour is the SQLite backend's (the reference), checked by the one
//! conformance suite in tests/conformance.rs. What differs is how it stays
//! correct with several writers and an unreliable network:
//! - ids come from the database (`holdfast_next_id()`), one clock and one
//!   sequence for every node;
//! - uniqueness and idempotency lean on constraints with `ON CONFLICT`, so
//!   two nodes doing the same thing at the same moment do it once;
//! - every write is one transaction; a deadlock or serialization failure
//!   re-runs it (bounded), anything else rolls it back whole;
//! - every operation is bounded in time on the client side too, and a
//!   connection that timed out or lost its server is thrown away, so a
//!   database outage is a quick 503 and the node heals when it returns;
//! - with several hosts in the URL (a Patroni cluster), reads outlive the
//!   primary: while no read-write host answers, reads run on whichever host
//!   does (a standby) and writes are refused at once with 503, until a
//!   primary is back (`pg_primary_recheck_ms` between attempts). A read on
//!   the primary gives up after `pg_primary_read_timeout_ms` (a frozen or
//!   cut-off primary does not refuse, it stays silent) and goes to a standby;
//!   new connections try every host at once (see `Pool::connect`).

mod accounts;
mod feed;
mod graph;
mod media;
mod notifications;
mod oauth;
mod pool;
mod sql;
mod statuses;
mod timelines;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use holdfast_config::Limits;
use tokio_postgres::config::TargetSessionAttrs;
use tokio_postgres::error::SqlState;

use crate::model::*;
use crate::{PoolUsage, Readiness, Store, StoreError, StoreResult};
pub use feed::PgFeed;
use pool::{AcquireError, Db, Pool};

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_oauth_pkce_sessions",
        include_str!("../../migrations/postgres/0002_oauth_pkce_sessions.sql"),
    ),
    (
        "0003_media",
        include_str!("../../migrations/postgres/0003_media.sql"),
    ),
    (
        "0004_notification_groups",
        include_str!("../../migrations/postgres/0004_notification_groups.sql"),
    ),
    (
        "0005_id_floor",
        include_str!("../../migrations/postgres/0005_id_floor.sql"),
    ),
    (
        "0006_stream_events",
        include_str!("../../migrations/postgres/0006_stream_events.sql"),
    ),
];

/// Key of the session advisory lock that serializes migrations when several
/// nodes start at once (an arbitrary constant: "holdfast" in ASCII, truncated).
const MIGRATION_LOCK_KEY: i64 = 0x686f_6c64_6661_7374;

/// Marks an Unavailable that means "this transaction lost a race, run it
/// again" (deadlock, serialization failure), as opposed to a database that
/// cannot serve. StoreError has no room for the distinction and the service
/// need not know it: only `write` below looks.
const TX_CONFLICT: &str = "transaction conflict";

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

pub struct PgStore {
    /// Connections to the primary (`target_session_attrs=read-write`).
    pool: Pool,
    /// Connections to any host of a multi-host URL, for reads while no
    /// primary answers (during a failover, or with the primary lost).
    standby: Option<Pool>,
    /// Until when (ms since epoch) the primary counts as unreachable: reads
    /// go to `standby`, writes are refused at once. 0: the primary is fine.
    /// Only ever set when `standby` exists.
    primary_down_until_ms: AtomicU64,
    /// When (ms since epoch) the current outage of the primary began.
    primary_down_since_ms: AtomicU64,
    primary_recheck_ms: u64,
    write_retry_window_ms: u64,
    /// Counters for /metrics: reads a standby served, write attempts re-run.
    standby_reads: AtomicU64,
    write_retries: AtomicU64,
    operation_timeout: Duration,
    /// The bound on a read on the primary while a standby can take it.
    primary_read_timeout: Duration,
    tx_retries_max: u32,
}

/// The message of a write refused while no primary is reachable.
const NO_PRIMARY: &str = "no PostgreSQL primary reachable; serving reads from a standby";
/// Pauses between attempts of a write waiting out a failover: short at first
/// (a switchover takes about a second), then at most this (a crash takes a
/// few seconds to detect). Within `pg_write_retry_window_ms` in total.
const WRITE_RETRY_PAUSE_FIRST_MS: u64 = 100;
const WRITE_RETRY_PAUSE_MAX_MS: u64 = 1_000;

/// Turns the operator's URL into a connection config with holdfast's bounds
/// applied. Always `target_session_attrs=read-write`: holdfast writes, so a
/// node must land on the current primary, whichever of the listed hosts it is.
pub fn connection_config(url: &str, limits: &Limits) -> StoreResult<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Internal(format!("invalid PostgreSQL URL: {e}")))?;
    config.target_session_attrs(TargetSessionAttrs::ReadWrite);
    config.connect_timeout(Duration::from_millis(limits.pg_connect_timeout_ms));
    // A peer that vanished without a FIN is noticed by TCP within the
    // operation timeout, not after the kernel's default of many minutes.
    config.tcp_user_timeout(Duration::from_millis(limits.pg_operation_timeout_ms));
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(10));
    if config.get_application_name().is_none() {
        config.application_name("holdfast");
    }
    let statement_timeout = format!("-c statement_timeout={}", limits.pg_statement_timeout_ms);
    let options = match config.get_options() {
        Some(o) if !o.is_empty() => format!("{o} {statement_timeout}"),
        _ => statement_timeout,
    };
    config.options(options);
    Ok(config)
}

impl PgStore {
    /// Connects, applies pending migrations (under an advisory lock, so
    /// concurrent starts are safe) and returns the store.
    pub async fn open(url: &str, limits: &Limits) -> StoreResult<PgStore> {
        let config = connection_config(url, limits)?;
        let new_pool = |config| {
            Pool::new(
                config,
                limits.pg_pool_size,
                Duration::from_millis(limits.db_acquire_timeout_ms),
                Duration::from_millis(limits.pg_connect_timeout_ms),
                limits.pg_statement_cache_max,
            )
        };
        // Several hosts: a cluster, where some host may serve reads while none
        // is primary. The standby pool takes any host (a standby, or the
        // primary if it answers there); it opens connections only when used.
        let standby = (config.get_hosts().len() > 1).then(|| {
            let mut any = config.clone();
            any.target_session_attrs(TargetSessionAttrs::Any);
            new_pool(any)
        });
        let store = PgStore {
            pool: new_pool(config),
            standby,
            primary_down_until_ms: AtomicU64::new(0),
            primary_down_since_ms: AtomicU64::new(0),
            primary_recheck_ms: limits.pg_primary_recheck_ms,
            write_retry_window_ms: limits.pg_write_retry_window_ms,
            standby_reads: AtomicU64::new(0),
            write_retries: AtomicU64::new(0),
            operation_timeout: Duration::from_millis(limits.pg_operation_timeout_ms),
            primary_read_timeout: Duration::from_millis(limits.pg_primary_read_timeout_ms),
            tx_retries_max: limits.pg_tx_retries_max,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.connect().await?;
        // Migrations may take longer than one request's statement timeout.
        conn.client
            .batch_execute("SET statement_timeout = 0")
            .await?;
        conn.client
            .query("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
            .await?;
        let result = async {
            conn.client
                .batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
                .await?;
            for (name, migration) in MIGRATIONS {
                let tx = conn.client.transaction().await?;
                let applied = tx.query_opt("SELECT 1 FROM schema_migrations WHERE name = $1", &[name]).await?.is_some();
                if !applied {
                    tx.batch_execute(migration)
                        .await
                        .map_err(|e| StoreError::Internal(format!("migration {name} failed: {}", describe(&e))))?;
                    tx.execute("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)", &[name, &crate::ids::now_ms()])
                        .await?;
                    tracing::info!(migration = name, "applied migration");
                }
                tx.commit().await?;
            }
            Ok::<(), StoreError>(())
        }
        .await;
        // Closing the connection would release the lock too; unlocking keeps it prompt.
        let _ = conn
            .client
            .query("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
            .await;
        result
    }

    /// Whether the primary was found unreachable less than
    /// `pg_primary_recheck_ms` ago (never without a standby pool).
    fn primary_down(&self) -> bool {
        let until = self.primary_down_until_ms.load(Ordering::Relaxed);
        until != 0 && crate::ids::now_ms() < until as i64
    }

    /// The primary could not be reached: until the recheck, reads go to a
    /// standby and writes are refused at once. Logged once per outage.
    fn mark_primary_down(&self, why: &str) {
        if self.standby.is_none() {
            return;
        }
        let now = crate::ids::now_ms().max(0) as u64;
        let until = now + self.primary_recheck_ms;
        if self.primary_down_until_ms.swap(until, Ordering::Relaxed) == 0 {
            self.primary_down_since_ms.store(now, Ordering::Relaxed);
            tracing::warn!(reason = %why, "no PostgreSQL primary reachable: reads from a standby, writes refused");
        }
    }

    /// A write waits out a failover for at most `pg_write_retry_window_ms`
    /// (from its start, and from the outage's start): the failover usually
    /// fits, and the client sees a slower answer instead of an error. Past
    /// it, the outage is long and writes are refused at once (503) until the
    /// next recheck finds a primary.
    fn writes_refused_at_once(&self) -> bool {
        if !self.primary_down() {
            return false;
        }
        let since = self.primary_down_since_ms.load(Ordering::Relaxed) as i64;
        crate::ids::now_ms() - since >= self.write_retry_window_ms as i64
    }

    fn may_retry_write(&self, started: std::time::Instant, pause: Duration) -> bool {
        self.standby.is_some()
            && !self.writes_refused_at_once()
            && started.elapsed() + pause < Duration::from_millis(self.write_retry_window_ms)
    }

    fn mark_primary_up(&self) {
        if self.primary_down_until_ms.load(Ordering::Relaxed) != 0
            && self.primary_down_until_ms.swap(0, Ordering::Relaxed) != 0
        {
            tracing::info!("PostgreSQL primary reachable again: writes resume");
        }
    }

    /// Runs one read (autocommit), bounded in time: on the primary, or on a
    /// standby while no primary answers (multi-host URLs only).
    async fn read<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync,
        T: Send,
        F: for<'a> Fn(Db<'a>, &'a D) -> BoxFut<'a, T> + Send + Sync,
    {
        let Some(standby) = &self.standby else {
            return self
                .read_on(&self.pool, &data, &f, None)
                .await
                .map_err(Into::into);
        };
        if !self.primary_down() {
            // A standby to fall back on: the primary gets the short bound, so
            // a frozen or cut-off primary costs a read that, not the whole
            // operation timeout.
            let bound = Some(self.primary_read_timeout);
            match self.read_on(&self.pool, &data, &f, bound).await {
                Ok(value) => {
                    self.mark_primary_up();
                    return Ok(value);
                }
                // The node is saturated, not the primary gone: a standby
                // would only spread the overload.
                Err(ReadError::Busy(e)) => return Err(e),
                // The primary answered, with an error of the operation's own
                // (not found, a bug) or of load (a statement timeout): that
                // is the answer; a standby would not do better.
                Err(ReadError::Failed(e)) => return Err(e),
                Err(ReadError::Unreachable(e)) => {
                    self.mark_primary_down(&e.to_string());
                }
            }
        }
        self.standby_reads.fetch_add(1, Ordering::Relaxed);
        self.read_on(standby, &data, &f, None)
            .await
            .map_err(Into::into)
    }

    /// One read on one pool. A connection that failed is dropped (with the
    /// other idle ones, see `Lease::discard`). `bound`, when given, caps the
    /// whole read, getting a connection included; otherwise the operation
    /// timeout caps the query (and the pool's own timeouts the connection).
    async fn read_on<D, T, F>(
        &self,
        pool: &Pool,
        data: &D,
        f: &F,
        bound: Option<Duration>,
    ) -> Result<T, ReadError>
    where
        D: Send + Sync,
        T: Send,
        F: for<'a> Fn(Db<'a>, &'a D) -> BoxFut<'a, T> + Send + Sync,
    {
        let started = std::time::Instant::now();
        let acquired = match bound {
            Some(bound) => tokio::time::timeout(bound, pool.acquire()).await,
            None => Ok(pool.acquire().await),
        };
        let mut lease = match acquired {
            Ok(Ok(lease)) => lease,
            Ok(Err(AcquireError::Busy)) => return Err(ReadError::Busy(AcquireError::Busy.into())),
            Ok(Err(AcquireError::Connect(e))) => return Err(ReadError::Unreachable(e)),
            Err(_) => {
                return Err(ReadError::Unreachable(StoreError::Unavailable(
                    "PostgreSQL did not answer in time (getting a connection)".into(),
                )))
            }
        };
        let limit = bound.map_or(self.operation_timeout, |b| {
            b.saturating_sub(started.elapsed())
        });
        let conn = lease.conn();
        let db = pool.db(&conn.client, &conn.statements);
        let (result, timed_out) = match tokio::time::timeout(limit, f(db, data)).await {
            Ok(result) => (result, false),
            Err(_) => (
                Err(StoreError::Unavailable(
                    "PostgreSQL did not answer in time".into(),
                )),
                true,
            ),
        };
        if let Err(StoreError::Unavailable(why)) = &result {
            tracing::warn!(reason = %why, "PostgreSQL read failed; dropping the connection");
            // The server went away under us (closed, shutting down, demoted),
            // or stopped answering at all (a frozen or cut-off host looks the
            // same as a very slow one): as good as unreachable, so the read
            // is tried on a standby. A statement timeout (the server said
            // so) is the server's answer, not a lost server.
            let lost = timed_out || lease.conn().client.is_closed() || lost_primary(why);
            lease.discard();
            if lost {
                return Err(ReadError::Unreachable(result.err().expect("an error")));
            }
        }
        result.map_err(ReadError::Failed)
    }

    /// Runs `f` in one transaction: committed if it returns Ok, rolled back
    /// otherwise (or if the connection dies: the server rolls back what it
    /// never saw committed). A transaction that lost a deadlock or a
    /// serialization race is re-run, at most `pg_tx_retries_max` times.
    async fn write<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync,
        T: Send,
        F: for<'a> Fn(Db<'a>, &'a D) -> BoxFut<'a, T> + Send + Sync,
    {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(WRITE_RETRY_PAUSE_FIRST_MS);
        let mut attempt = 0;
        loop {
            if self.writes_refused_at_once() {
                return Err(StoreError::Unavailable(NO_PRIMARY.into()));
            }
            let mut lease = match self.pool.acquire().await {
                Ok(lease) => lease,
                Err(AcquireError::Connect(e)) => {
                    // Nothing was sent: safe to try again, for any write.
                    self.mark_primary_down(&e.to_string());
                    if self.may_retry_write(started, pause) {
                        self.write_retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_millis(WRITE_RETRY_PAUSE_MAX_MS));
                        continue;
                    }
                    return Err(e);
                }
                Err(busy) => return Err(busy.into()),
            };
            let conn = lease.conn();
            let (client, statements) = (&mut conn.client, &conn.statements);
            let pool = &self.pool;
            // Set once COMMIT is on its way: from then on a lost connection
            // leaves the outcome unknown, and the write is not retried here.
            let committing = AtomicBool::new(false);
            let run = async {
                let tx = client.transaction().await?;
                let value = f(pool.db_tx(&tx, statements), &data).await?;
                committing.store(true, Ordering::Relaxed);
                tx.commit().await?;
                Ok(value)
            };
            let result = match tokio::time::timeout(self.operation_timeout, run).await {
                Ok(result) => result,
                Err(_) => Err(StoreError::Unavailable(
                    "PostgreSQL did not answer in time".into(),
                )),
            };
            match result {
                Err(StoreError::Unavailable(why))
                    if why.starts_with(TX_CONFLICT) && attempt < self.tx_retries_max =>
                {
                    attempt += 1;
                    tracing::debug!(attempt, reason = %why, "re-running a transaction that lost a race");
                }
                Err(StoreError::Unavailable(why)) => {
                    if why.starts_with(TX_CONFLICT) {
                        return Err(StoreError::Unavailable(why));
                    }
                    tracing::warn!(reason = %why, "PostgreSQL write failed; dropping the connection");
                    // The primary went away (connection closed, shutting down,
                    // now a standby) before COMMIT was sent: the server rolled
                    // the transaction back, so running it again is safe.
                    let lost = lease.conn().client.is_closed() || lost_primary(&why);
                    lease.discard();
                    drop(lease);
                    if lost && !committing.load(Ordering::Relaxed) {
                        self.mark_primary_down(&why);
                        if self.may_retry_write(started, pause) {
                            self.write_retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(pause).await;
                            pause =
                                (pause * 2).min(Duration::from_millis(WRITE_RETRY_PAUSE_MAX_MS));
                            continue;
                        }
                    }
                    return Err(StoreError::Unavailable(why));
                }
                Ok(value) => {
                    self.mark_primary_up();
                    return Ok(value);
                }
                other => return other,
            }
        }
    }
}

/// How one read on one pool failed: no free slot (this node is saturated),
/// the server could not be reached or went away mid-read, or the operation
/// itself failed (including a timeout: the server is there but slow).
enum ReadError {
    Busy(StoreError),
    Unreachable(StoreError),
    Failed(StoreError),
}

impl From<ReadError> for StoreError {
    fn from(e: ReadError) -> StoreError {
        match e {
            ReadError::Busy(e) | ReadError::Unreachable(e) | ReadError::Failed(e) => e,
        }
    }
}

/// Whether an error says this server is no longer a primary that can take
/// the write (as opposed to the write's own failure or a timeout): SQLSTATE
/// read_only_sql_transaction (a demoted primary) and the shutdown codes.
fn lost_primary(why: &str) -> bool {
    ["(25006)", "(57P01)", "(57P02)", "(57P03)"]
        .iter()
        .any(|code| why.contains(code))
}

/// The message and SQLSTATE of a database error, or the client-side error.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// What a PostgreSQL error means for the caller: a taken name (422), a row
/// that vanished under us (404), a database that cannot serve now (503),
/// or a bug (500).
impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // Not an answer from the server. A closed socket, an I/O error or
            // a garbled stream means the database is unreachable from here;
            // anything else (a value that does not convert) is our bug.
            let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
            let text = e.to_string();
            if e.is_closed()
                || io
                || text.starts_with("error communicating")
                || text.starts_with("unexpected message")
                || text.contains("timeout")
            {
                return StoreError::Unavailable(format!("PostgreSQL connection failed: {text}"));
            }
            return StoreError::Internal(format!("PostgreSQL client error: {text}"));
        };
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            return StoreError::Conflict(match db.constraint() {
                Some("media_blobs_pkey") => "media key",
                Some("accounts_username_lower_key") => "username",
                Some("credentials_email_lower_key") => "email",
                Some("apps_client_id_key") => "client_id",
                Some("tokens_token_hash_key") => "token",
                _ => "record",
            });
        }
        if *code == SqlState::FOREIGN_KEY_VIOLATION {
            // A row this write refers to was deleted concurrently.
            return StoreError::NotFound;
        }
        if *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            return StoreError::Unavailable(format!("{TX_CONFLICT}: {}", describe(&e)));
        }
        let class = &code.code()[..2];
        match class {
            // connection exception, insufficient resources, operator
            // intervention (shutdown, cancel, statement timeout), system error
            "08" | "53" | "57" | "58" => StoreError::Unavailable(describe(&e)),
            // read_only_sql_transaction: this server became a standby in a failover.
            _ if *code == SqlState::READ_ONLY_SQL_TRANSACTION => {
                StoreError::Unavailable(describe(&e))
            }
            // lock_not_available and the like: busy, not broken.
            "55" => StoreError::Unavailable(describe(&e)),
            _ => StoreError::Internal(describe(&e)),
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read((), |db, _| {
            Box::pin(async move {
                db.query("SELECT 1", &[]).await?;
                Ok(())
            })
        })
        .await
    }

    /// The primary is asked first, always (this is also how the node notices
    /// that a primary is back before the recheck time); without one, a
    /// standby that answers makes the node degraded rather than down.
    async fn readiness(&self) -> Readiness {
        fn select_one<'a>(db: Db<'a>, _: &'a ()) -> BoxFut<'a, ()> {
            Box::pin(async move {
                db.query("SELECT 1", &[]).await?;
                Ok(())
            })
        }
        let bound = self.standby.as_ref().map(|_| self.primary_read_timeout);
        // Known unreachable a moment ago: answer from the standby at once
        // (health checks come often; the next one after the recheck tries
        // the primary again).
        let primary = if self.primary_down() {
            "unreachable a moment ago".to_owned()
        } else {
            let why = match self.read_on(&self.pool, &(), &select_one, bound).await {
                Ok(()) => {
                    self.mark_primary_up();
                    return Readiness::Ready;
                }
                // Saturated: as before standbys existed, not ready (the balancer
                // sends new work elsewhere until slots free up).
                Err(ReadError::Busy(e)) => return Readiness::Down(e.to_string()),
                Err(ReadError::Unreachable(e) | ReadError::Failed(e)) => e.to_string(),
            };
            self.mark_primary_down(&why);
            why
        };
        let Some(standby) = &self.standby else {
            return Readiness::Down(primary);
        };
        match self.read_on(standby, &(), &select_one, None).await {
            Ok(()) => Readiness::Degraded(format!("{NO_PRIMARY} ({primary})")),
            Err(e) => Readiness::Down(format!(
                "{primary}; no standby either: {}",
                StoreError::from(e)
            )),
        }
    }

    fn pool_usage(&self) -> PoolUsage {
        PoolUsage {
            in_use: self.pool.in_use(),
            size: self.pool.size,
            primary_down: self.primary_down(),
            standby_reads: self.standby_reads.load(Ordering::Relaxed),
            write_retries: self.write_retries.load(Ordering::Relaxed),
        }
    }

    async fn stats(&self) -> StoreResult<(i64, i64)> {
        self.read((), |db, _| {
            Box::pin(async move {
                let r = db
                    .query_one(
                        "SELECT (SELECT COUNT(*) FROM accounts WHERE NOT suspended AND approved), \
                                (SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL)",
                        &[],
                    )
                    .await?;
                Ok((r.get(0), r.get(1)))
            })
        })
        .await
    }

    // ---- accounts ----
    async fn create_account(&self, new: NewAccount) -> StoreResult<AccountRow> {
        self.write(new, |db, new| Box::pin(accounts::create(db, new)))
            .await
    }
    async fn account(&self, id: Id) -> StoreResult<AccountRow> {
        self.read(id, |db, id| Box::pin(accounts::by_id(db, *id)))
            .await
    }
    async fn account_by_username(&self, username: &str) -> StoreResult<AccountRow> {
        self.read(username.to_lowercase(), |db, u| {
            Box::pin(accounts::by_username(db, u))
        })
        .await
    }
    async fn accounts(&self, ids: &[Id]) -> StoreResult<Vec<AccountRow>> {
        self.read(ids.to_vec(), |db, ids| Box::pin(accounts::by_ids(db, ids)))
            .await
    }
    async fn update_account(&self, id: Id, update: AccountUpdate) -> StoreResult<AccountRow> {
        self.write((id, update), |db, (id, u)| {
            Box::pin(accounts::update(db, *id, u))
        })
        .await
    }
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials> {
        self.read(email.to_lowercase(), |db, e| {
            Box::pin(accounts::credentials_by_email(db, e))
        })
        .await
    }
    async fn email_of(&self, id: Id) -> StoreResult<String> {
        self.read(id, |db, id| {
            Box::pin(async move {
                Ok(db
                    .query_one(
                        "SELECT email_lower FROM credentials WHERE account_id = $1",
                        &[id],
                    )
                    .await?
                    .get(0))
            })
        })
        .await
    }
    async fn set_suspended(&self, username: &str, suspended: bool) -> StoreResult<AccountRow> {
        self.write(username.to_lowercase(), move |db, u| {
            Box::pin(accounts::set_flag(db, u, "suspended", suspended))
        })
        .await
    }
    async fn set_approved(&self, username: &str) -> StoreResult<AccountRow> {
        self.write(username.to_lowercase(), |db, u| {
            Box::pin(accounts::set_flag(db, u, "approved", true))
        })
        .await
    }
    async fn list_accounts(&self, limit: u32) -> StoreResult<Vec<AccountAdminRow>> {
        self.read(limit, |db, limit| Box::pin(accounts::list(db, *limit)))
            .await
    }
    async fn search_accounts(
        &self,
        prefix: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>> {
        self.read(prefix.to_lowercase(), move |db, p| {
            Box::pin(accounts::search(db, p, limit, offset))
        })
        .await
    }

    // ---- OAuth ----
    async fn create_app(&self, new: NewApp) -> StoreResult<AppRow> {
        self.write(new, |db, new| Box::pin(oauth::create_app(db, new)))
            .await
    }
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<AppRow> {
        self.read(client_id.to_owned(), |db, c| {
            Box::pin(oauth::app_by_client_id(db, c))
        })
        .await
    }
    async fn create_token(
        &self,
        token_hash: &str,
        app_id: Id,
        account_id: Option<Id>,
        scopes: &str,
    ) -> StoreResult<Id> {
        self.write(
            (token_hash.to_owned(), scopes.to_owned()),
            move |db, (h, s)| Box::pin(oauth::create_token(db, h, app_id, account_id, s)),
        )
        .await
    }
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<TokenRow> {
        self.read(token_hash.to_owned(), |db, h| {
            Box::pin(oauth::token_by_hash(db, h))
        })
        .await
    }
    async fn revoke_token(&self, token_hash: &str, app_id: Id) -> StoreResult<()> {
        self.write(token_hash.to_owned(), move |db, h| {
            Box::pin(oauth::revoke_token(db, h, app_id))
        })
        .await
    }
    async fn create_auth_code(
        &self,
        code_hash: &str,
        code: AuthCode,
        ttl_s: u64,
    ) -> StoreResult<()> {
        self.write((code_hash.to_owned(), code), move |db, (h, c)| {
            Box::pin(oauth::create_auth_code(db, h, c, ttl_s))
        })
        .await
    }
    async fn take_auth_code(&self, code_hash: &str) -> StoreResult<AuthCode> {
        self.write(code_hash.to_owned(), |db, h| {
            Box::pin(oauth::take_auth_code(db, h))
        })
        .await
    }
    async fn create_session(
        &self,
        session_hash: &str,
        account_id: Id,
        ttl_s: u64,
        per_account_max: usize,
    ) -> StoreResult<()> {
        self.write(session_hash.to_owned(), move |db, h| {
            Box::pin(oauth::create_session(
                db,
                h,
                account_id,
                ttl_s,
                per_account_max,
            ))
        })
        .await
    }
    async fn session(&self, session_hash: &str) -> StoreResult<SessionRow> {
        self.read(session_hash.to_owned(), |db, h| {
            Box::pin(oauth::session(db, h))
        })
        .await
    }
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        self.write(session_hash.to_owned(), |db, h| {
            Box::pin(oauth::delete_session(db, h))
        })
        .await
    }

    // ---- statuses ----
    async fn create_status(&self, new: NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
        self.write(new, move |db, new| {
            Box::pin(statuses::create(db, new, idempotency_ttl_s))
        })
        .await
    }
    async fn delete_status(&self, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
        self.write((), move |db, _| {
            Box::pin(statuses::delete(db, account_id, status_id))
        })
        .await
    }
    async fn status(&self, id: Id) -> StoreResult<StatusRow> {
        self.read(id, |db, id| Box::pin(statuses::row(db, *id)))
            .await
    }
    async fn status_visible(&self, viewer: Option<Id>, id: Id) -> StoreResult<bool> {
        self.read((), move |db, _| Box::pin(statuses::visible(db, viewer, id)))
            .await
    }
    async fn status_bundles(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> StoreResult<Vec<StatusBundle>> {
        self.read(ids.to_vec(), move |db, ids| {
            Box::pin(statuses::bundles(db, viewer, ids))
        })
        .await
    }
    async fn context(
        &self,
        viewer: Option<Id>,
        id: Id,
        max_each: u32,
    ) -> StoreResult<(Vec<Id>, Vec<Id>)> {
        self.read((), move |db, _| {
            Box::pin(statuses::context(db, viewer, id, max_each))
        })
        .await
    }
    async fn favourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(statuses::favourite(db, account_id, status_id))
        })
        .await
    }
    async fn unfavourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(statuses::unfavourite(db, account_id, status_id))
        })
        .await
    }
    async fn reblog(
        &self,
        account_id: Id,
        status_id: Id,
        visibility: Visibility,
    ) -> StoreResult<Id> {
        self.write((), move |db, _| {
            Box::pin(statuses::reblog(db, account_id, status_id, visibility))
        })
        .await
    }
    async fn unreblog(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(statuses::unreblog(db, account_id, status_id))
        })
        .await
    }
    async fn bookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(statuses::bookmark(db, account_id, status_id))
        })
        .await
    }
    async fn unbookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.write((account_id, status_id), |db, (a, s)| {
            Box::pin(async move {
                db.execute(
                    "DELETE FROM bookmarks WHERE account_id = $1 AND status_id = $2",
                    &[a, s],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
    async fn favourited_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(status_id, move |db, s| {
            Box::pin(async move {
                sql::paged(
                db,
                "SELECT f.id, f.account_id FROM favourites f JOIN accounts a ON a.id = f.account_id \
                 WHERE f.status_id = $1 AND NOT a.suspended",
                "f.id",
                &[s],
                page,
                ).await
            })
        })
        .await
    }
    async fn reblogged_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(status_id, move |db, s| {
            Box::pin(async move {
                sql::paged(
                db,
                "SELECT s.id, s.account_id FROM statuses s JOIN accounts a ON a.id = s.account_id \
                 WHERE s.reblog_of_id = $1 AND NOT a.suspended",
                "s.id",
                &[s],
                page,
                ).await
            })
        })
        .await
    }

    // ---- timelines ----
    async fn home_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read((), move |db, _| Box::pin(timelines::home(db, viewer, page)))
            .await
    }
    async fn public_timeline(
        &self,
        viewer: Option<Id>,
        only_media: bool,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.read((), move |db, _| {
            Box::pin(timelines::public(db, viewer, only_media, page))
        })
        .await
    }
    async fn tag_timeline(
        &self,
        viewer: Option<Id>,
        tag: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.read(tag.to_lowercase(), move |db, t| {
            Box::pin(timelines::tag(db, viewer, t, page))
        })
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
        self.read(tagged.map(str::to_lowercase), move |db, t| {
            Box::pin(timelines::account(
                db,
                viewer,
                account_id,
                filter,
                t.as_deref(),
                page,
            ))
        })
        .await
    }
    async fn favourites(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read((), move |db, _| {
            Box::pin(timelines::favourites(db, viewer, page))
        })
        .await
    }
    async fn bookmarks(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read((), move |db, _| {
            Box::pin(timelines::bookmarks(db, viewer, page))
        })
        .await
    }
    async fn search_statuses(
        &self,
        viewer: Option<Id>,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>> {
        self.read(query.to_owned(), move |db, q| {
            Box::pin(timelines::search(db, viewer, q, limit, offset))
        })
        .await
    }
    async fn search_tags(&self, prefix: &str, limit: u32, offset: u32) -> StoreResult<Vec<TagRow>> {
        self.read(prefix.to_lowercase(), move |db, p| {
            Box::pin(timelines::search_tags(db, p, limit, offset))
        })
        .await
    }
    async fn tag(&self, name: &str) -> StoreResult<TagRow> {
        self.read(name.to_lowercase(), |db, n| {
            Box::pin(timelines::tag_row_by_name(db, n))
        })
        .await
    }

    // ---- social graph ----
    async fn follow(
        &self,
        account_id: Id,
        target_id: Id,
        reblogs: bool,
        notify: bool,
    ) -> StoreResult<FollowOutcome> {
        self.write((), move |db, _| {
            Box::pin(graph::follow(db, account_id, target_id, reblogs, notify))
        })
        .await
    }
    async fn unfollow(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(graph::unfollow(db, account_id, target_id))
        })
        .await
    }
    async fn block(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write((), move |db, _| {
            Box::pin(graph::block(db, account_id, target_id))
        })
        .await
    }
    async fn unblock(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write((account_id, target_id), |db, (a, t)| {
            Box::pin(async move {
                db.execute(
                    "DELETE FROM blocks WHERE account_id = $1 AND target_id = $2",
                    &[a, t],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
    async fn mute(&self, account_id: Id, target_id: Id, notifications: bool) -> StoreResult<()> {
        self.write((account_id, target_id, notifications), |db, (a, t, n)| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO mutes (account_id, target_id, notifications) VALUES ($1, $2, $3) \
                     ON CONFLICT (account_id, target_id) DO UPDATE SET notifications = excluded.notifications",
                    &[a, t, n],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
    async fn unmute(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.write((account_id, target_id), |db, (a, t)| {
            Box::pin(async move {
                db.execute(
                    "DELETE FROM mutes WHERE account_id = $1 AND target_id = $2",
                    &[a, t],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }
    async fn relationships(
        &self,
        account_id: Id,
        targets: &[Id],
    ) -> StoreResult<Vec<Relationship>> {
        self.read(targets.to_vec(), move |db, t| {
            Box::pin(graph::relationships(db, account_id, t))
        })
        .await
    }
    async fn followers(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(account_id, move |db, a| {
            Box::pin(async move {
                sql::paged(
                db,
                "SELECT f.id, f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
                 WHERE f.target_id = $1 AND NOT a.suspended",
                "f.id",
                &[a],
                page,
                ).await
            })
        })
        .await
    }
    async fn following(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.read(account_id, move |db, a| {
            Box::pin(async move {
                sql::paged(
                db,
                "SELECT f.id, f.target_id FROM follows f JOIN accounts a ON a.id = f.target_id \
                 WHERE f.account_id = $1 AND NOT a.suspended",
                "f.id",
                &[a],
                page,
                ).await
            })
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
        self.read(types.to_vec(), move |db, t| {
            Box::pin(notifications::list(db, account_id, t, from, page))
        })
        .await
    }
    async fn notification(&self, account_id: Id, id: Id) -> StoreResult<NotificationRow> {
        self.read((), move |db, _| {
            Box::pin(notifications::get(db, account_id, id))
        })
        .await
    }
    async fn dismiss_notification(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.write((account_id, id), |db, (a, n)| {
            Box::pin(async move {
                match db
                    .execute(
                        "DELETE FROM notifications WHERE account_id = $1 AND id = $2",
                        &[a, n],
                    )
                    .await?
                {
                    0 => Err(StoreError::NotFound),
                    _ => Ok(()),
                }
            })
        })
        .await
    }
    async fn clear_notifications(&self, account_id: Id) -> StoreResult<()> {
        self.write(account_id, |db, a| {
            Box::pin(async move {
                db.execute("DELETE FROM notifications WHERE account_id = $1", &[a])
                    .await?;
                Ok(())
            })
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
        self.read((types.to_vec(), grouped.to_vec()), move |db, (t, g)| {
            Box::pin(notifications::group_page(
                db, account_id, t, g, from, page, scan_max,
            ))
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
        self.read(keys.to_vec(), move |db, k| {
            Box::pin(notifications::group_rows(
                db, account_id, k, from, until, samples,
            ))
        })
        .await
    }
    async fn group_notifications(
        &self,
        account_id: Id,
        group_key: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        self.read(group_key.to_owned(), move |db, k| {
            Box::pin(notifications::by_group(db, account_id, k, page))
        })
        .await
    }
    async fn dismiss_notification_group(&self, account_id: Id, group_key: &str) -> StoreResult<()> {
        self.write(group_key.to_owned(), move |db, k| {
            Box::pin(notifications::dismiss_group(db, account_id, k))
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
        self.read((types.to_vec(), grouped.to_vec()), move |db, (t, g)| {
            Box::pin(notifications::unread(
                db, account_id, t, g, from, after_id, limit, scan_max,
            ))
        })
        .await
    }

    // ---- media ----
    async fn create_media(&self, new: NewMedia) -> StoreResult<MediaRow> {
        self.write(new, |db, new| Box::pin(media::create(db, new)))
            .await
    }
    async fn media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.read((), move |db, _| Box::pin(media::owned(db, account_id, id)))
            .await
    }
    async fn update_media(
        &self,
        account_id: Id,
        id: Id,
        update: MediaUpdate,
    ) -> StoreResult<MediaRow> {
        self.write(update, move |db, u| {
            Box::pin(media::update(db, account_id, id, u))
        })
        .await
    }
    async fn delete_media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.write((), move |db, _| Box::pin(media::delete(db, account_id, id)))
            .await
    }
    async fn take_expired_media(&self, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
        self.write((), move |db, _| {
            Box::pin(media::take_expired(db, before_ms, limit))
        })
        .await
    }
    async fn set_profile_image(
        &self,
        account_id: Id,
        which: ProfileImage,
        key: Option<String>,
    ) -> StoreResult<(AccountRow, Option<String>)> {
        self.write(key, move |db, key| {
            Box::pin(media::set_profile_image(db, account_id, which, key.clone()))
        })
        .await
    }

    // ---- markers ----
    async fn markers(&self, account_id: Id) -> StoreResult<Vec<Marker>> {
        self.read(account_id, |db, a| Box::pin(notifications::markers(db, *a)))
            .await
    }
    async fn set_marker(
        &self,
        account_id: Id,
        timeline: &str,
        last_read_id: Id,
    ) -> StoreResult<Marker> {
        self.write(timeline.to_owned(), move |db, t| {
            Box::pin(notifications::set_marker(db, account_id, t, last_read_id))
        })
        .await
    }
}
