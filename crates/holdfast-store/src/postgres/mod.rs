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

mod feed;
mod media;
mod pool;
mod runner;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use holdfast_config::Limits;
use tokio_postgres::config::TargetSessionAttrs;
use tokio_postgres::error::SqlState;

use crate::{PoolUsage, Readiness, StoreError, StoreResult};
pub use feed::PgFeed;
use pool::{AcquireError, Conn, Db, HostFitness, PgIo, Pool};

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
    (
        "0008_web_push",
        include_str!("../../migrations/postgres/0008_web_push.sql"),
    ),
    (
        "0012_account_counts",
        include_str!("../../migrations/postgres/0012_account_counts.sql"),
    ),
    (
        "0009_relationships_lists",
        include_str!("../../migrations/postgres/0009_relationships_lists.sql"),
    ),
    (
        "0013_auth_code_replay",
        include_str!("../../migrations/postgres/0013_auth_code_replay.sql"),
    ),
    (
        "0014_moderation",
        include_str!("../../migrations/postgres/0014_moderation.sql"),
    ),
    (
        "0016_home_feed",
        include_str!("../../migrations/postgres/0016_home_feed.sql"),
    ),
    (
        "0011_filters_notification_policies",
        include_str!("../../migrations/postgres/0011_filters_notification_policies.sql"),
    ),
    (
        "0017_conversations_tags",
        include_str!("../../migrations/postgres/0017_conversations_tags.sql"),
    ),
    (
        "0019_streaming",
        include_str!("../../migrations/postgres/0019_streaming.sql"),
    ),
    (
        "0020_collections",
        include_str!("../../migrations/postgres/0020_collections.sql"),
    ),
    (
        "0010_edits_pins_polls_scheduled",
        include_str!("../../migrations/postgres/0010_edits_pins_polls_scheduled.sql"),
    ),
    (
        "0015_web_moderation",
        include_str!("../../migrations/postgres/0015_web_moderation.sql"),
    ),
    (
        "0022_home_fanout_jobs",
        include_str!("../../migrations/postgres/0022_home_fanout_jobs.sql"),
    ),
    (
        "0021_poll_ends_report_notifications",
        include_str!("../../migrations/postgres/0021_poll_ends_report_notifications.sql"),
    ),
    (
        "0023_instance_rules",
        include_str!("../../migrations/postgres/0023_instance_rules.sql"),
    ),
    (
        "0025_home_feed_built_index",
        include_str!("../../migrations/postgres/0025_home_feed_built_index.sql"),
    ),
    (
        "0018_id_leases",
        include_str!("../../migrations/postgres/0018_id_leases.sql"),
    ),
    (
        "0024_row_versions",
        include_str!("../../migrations/postgres/0024_row_versions.sql"),
    ),
    (
        "0026_auth_epoch",
        include_str!("../../migrations/postgres/0026_auth_epoch.sql"),
    ),
    (
        "0031_home_feed_filled",
        include_str!("../../migrations/postgres/0031_home_feed_filled.sql"),
    ),
    (
        "0032_relation_versions",
        include_str!("../../migrations/postgres/0032_relation_versions.sql"),
    ),
    (
        "0033_action_versions",
        include_str!("../../migrations/postgres/0033_action_versions.sql"),
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

/// The PostgreSQL store: the shared core over this backend's runner.
pub type PgStore = crate::core::Core<PgDb>;

impl PgStore {
    /// Connects, applies pending migrations (under an advisory lock, so
    /// concurrent starts are safe) and returns the store.
    pub async fn open(url: &str, limits: &Limits) -> StoreResult<PgStore> {
        Ok(crate::core::Core {
            db: PgDb::open(url, limits).await?,
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

/// PostgreSQL's runner: pools, failover, transactions with bounded re-runs.
pub struct PgDb {
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
    /// Until when (ms since epoch) reads go to a standby first, because the
    /// primary left a hedged read unanswered (silent, or very slow). Unlike
    /// `primary_down_until_ms` it says nothing about writes: a primary that
    /// is only slow must not get writes refused.
    standby_first_until_ms: AtomicU64,
    primary_recheck_ms: u64,
    write_retry_window_ms: u64,
    /// Pauses between attempts of a write waiting out a failover, within
    /// `write_retry_window_ms` in total: the first, and the most (doubling between).
    write_retry_pause_first: Duration,
    write_retry_pause_max: Duration,
    /// Counters for /metrics: reads a standby served, write attempts re-run.
    standby_reads: AtomicU64,
    write_retries: AtomicU64,
    /// Writes that waited for a synchronous standby (see `pool::await_sync_standby`).
    sync_standby_waits: AtomicU64,
    /// How often a write asks a new primary again for a synchronous standby.
    sync_standby_poll: Duration,
    /// Synchronous standbys a primary must show before a connection's first
    /// write: `pg_sync_standbys_min` with several hosts in the URL, else 0.
    sync_standbys_min: u64,
    operation_timeout: Duration,
    /// The bound on a read on the primary while a standby can take it.
    primary_read_timeout: Duration,
    /// How long a read waits on the primary alone before a standby runs it too.
    read_hedge: Duration,
    tx_retries_max: u32,
    /// How often a connection's server is asked whether it is fit to read
    /// from, and how long it may fail that before it is left (see
    /// `unfit_for_reads`).
    read_fitness_check: Duration,
    read_unfit_grace_ms: u64,
}

/// What `PgDb::unfit_for_reads` asks a server, in one round trip: whether
/// it is in recovery; its synchronous standbys, and WAL senders whose state
/// this role cannot see; whether its WAL receiver streams, and whether this
/// role cannot see that. The functions, not the views: cheap, and the same
/// visibility rules (`pg_monitor` shows the details).
const READ_FITNESS_SQL: &str = "SELECT pg_is_in_recovery(), \
       (SELECT count(*) FROM pg_stat_get_wal_senders() WHERE sync_state IN ('sync', 'quorum')), \
       (SELECT count(*) FROM pg_stat_get_wal_senders() WHERE sync_state IS NULL), \
       (SELECT count(*) FROM pg_stat_get_wal_receiver() r WHERE r.status = 'streaming'), \
       (SELECT count(*) FROM pg_stat_get_wal_receiver() r WHERE r.pid IS NOT NULL AND r.status IS NULL)";

/// Why a write left a silent primary for the one found on another host.
const PRIMARY_MOVED: &str = "PostgreSQL primary found on another host; the old one did not answer";

/// The message of a write refused while no primary is reachable.
const NO_PRIMARY: &str = "no PostgreSQL primary reachable; serving reads from a standby";

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
    config.keepalives_idle(Duration::from_secs(limits.pg_keepalive_idle_s));
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

impl PgDb {
    async fn open(url: &str, limits: &Limits) -> StoreResult<PgDb> {
        let config = connection_config(url, limits)?;
        let fitness = std::sync::Arc::new(HostFitness::new(config.get_hosts().len()));
        // One runtime for both pools' connections, stopped with the last of them.
        let io = PgIo::start(limits.pg_io_threads_max)?;
        let new_pool = |config| {
            Pool::new(
                config,
                limits.pg_pool_size,
                Duration::from_millis(limits.db_acquire_timeout_ms),
                Duration::from_millis(limits.pg_connect_timeout_ms),
                Duration::from_millis(limits.pg_connect_requalify_ms),
                limits.pg_statement_cache_max,
                fitness.clone(),
                io.clone(),
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
        // A lone server (one host in the URL) has no standby to wait for.
        let sync_standbys_min = if standby.is_some() {
            limits.pg_sync_standbys_min
        } else {
            0
        };
        let store = PgDb {
            pool: new_pool(config),
            standby,
            primary_down_until_ms: AtomicU64::new(0),
            primary_down_since_ms: AtomicU64::new(0),
            standby_first_until_ms: AtomicU64::new(0),
            primary_recheck_ms: limits.pg_primary_recheck_ms,
            write_retry_window_ms: limits.pg_write_retry_window_ms,
            write_retry_pause_first: Duration::from_millis(limits.pg_write_retry_pause_first_ms),
            write_retry_pause_max: Duration::from_millis(limits.pg_write_retry_pause_max_ms),
            standby_reads: AtomicU64::new(0),
            write_retries: AtomicU64::new(0),
            sync_standby_waits: AtomicU64::new(0),
            sync_standby_poll: Duration::from_millis(limits.pg_sync_standby_poll_ms.max(1)),
            sync_standbys_min,
            operation_timeout: Duration::from_millis(limits.pg_operation_timeout_ms),
            primary_read_timeout: Duration::from_millis(limits.pg_primary_read_timeout_ms),
            read_hedge: Duration::from_millis(limits.pg_read_hedge_ms),
            tx_retries_max: limits.pg_tx_retries_max,
            read_fitness_check: Duration::from_millis(limits.pg_read_fitness_check_ms),
            read_unfit_grace_ms: limits.pg_read_unfit_grace_ms,
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
        self.mark_primary_down_since(why, crate::ids::now_ms().max(0) as u64);
    }

    /// As `mark_primary_down`, for an outage noticed by an attempt that began
    /// at `since` (ms since epoch; a connection attempt waits for a standby
    /// to be promoted before it gives up, and the outage began when it did).
    fn mark_primary_down_since(&self, why: &str, since: u64) {
        if self.standby.is_none() {
            return;
        }
        let now = crate::ids::now_ms().max(0) as u64;
        let until = now + self.primary_recheck_ms;
        if self.primary_down_until_ms.swap(until, Ordering::Relaxed) == 0 {
            self.primary_down_since_ms
                .store(since.min(now), Ordering::Relaxed);
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

    /// Whether reads go to a standby first (see `standby_first_until_ms`).
    fn standby_first(&self) -> bool {
        crate::ids::now_ms() < self.standby_first_until_ms.load(Ordering::Relaxed) as i64
    }

    fn mark_primary_up(&self) {
        if self.standby_first_until_ms.load(Ordering::Relaxed) != 0 {
            self.standby_first_until_ms.store(0, Ordering::Relaxed);
        }
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
                .read_on(&self.pool, &data, &f, None, None)
                .await
                .map_err(Into::into);
        };
        if !self.primary_down() {
            let avoid = self.pool.latest_host();
            if self.standby_first() {
                // The primary just left a read unanswered: the standby first,
                // without waiting on the primary (whose pool slots may all be
                // held by writes waiting for it); the primary if that fails.
                let bound = Some(self.primary_read_timeout);
                if let Ok(value) = self.read_on(standby, &data, &f, bound, avoid).await {
                    self.standby_reads.fetch_add(1, Ordering::Relaxed);
                    return Ok(value);
                }
            }
            match self.read_hedged(standby, &data, &f).await {
                Hedged::Answered(result) => return result,
                Hedged::PrimaryUnreachable(e) => self.mark_primary_down(&e.to_string()),
            }
        }
        self.standby_reads.fetch_add(1, Ordering::Relaxed);
        let avoid = self.pool.latest_host();
        self.read_on(standby, &data, &f, None, avoid)
            .await
            .map_err(Into::into)
    }

    /// A read on the primary, with the short bound (a frozen or cut-off
    /// primary costs a read that, not the whole operation timeout), hedged:
    /// if the primary has not answered after `read_hedge`, a standby (any
    /// host but the primary's) runs the read too and the first answer wins.
    async fn read_hedged<D, T, F>(&self, standby: &Pool, data: &D, f: &F) -> Hedged<T>
    where
        D: Send + Sync,
        T: Send,
        F: for<'a> Fn(Db<'a>, &'a D) -> BoxFut<'a, T> + Send + Sync,
    {
        let bound = Some(self.primary_read_timeout);
        let on_primary = self.read_on(&self.pool, data, f, bound, None);
        tokio::pin!(on_primary);
        let outcome = match tokio::time::timeout(self.read_hedge, &mut on_primary).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let avoid = self.pool.latest_host();
                let on_standby = self.read_on(standby, data, f, bound, avoid);
                tokio::pin!(on_standby);
                tokio::select! {
                    outcome = &mut on_primary => match outcome {
                        // Gone: the standby's answer (already on its way) it is.
                        Err(ReadError::Unreachable(e)) => {
                            self.mark_primary_down(&e.to_string());
                            self.standby_reads.fetch_add(1, Ordering::Relaxed);
                            return Hedged::Answered(on_standby.await.map_err(Into::into));
                        }
                        outcome => outcome,
                    },
                    outcome = &mut on_standby => match outcome {
                        Ok(value) => {
                            self.standby_reads.fetch_add(1, Ordering::Relaxed);
                            let until = crate::ids::now_ms().max(0) as u64 + self.primary_recheck_ms;
                            self.standby_first_until_ms.store(until, Ordering::Relaxed);
                            return Hedged::Answered(Ok(value));
                        }
                        // The standby could not: the primary's answer, whatever it is.
                        Err(_) => on_primary.await,
                    },
                }
            }
        };
        match outcome {
            Ok(value) => {
                self.mark_primary_up();
                Hedged::Answered(Ok(value))
            }
            // The node is saturated, not the primary gone: a standby would
            // only spread the overload.
            Err(ReadError::Busy(e)) => Hedged::Answered(Err(e)),
            // The primary answered, with an error of the operation's own (not
            // found, a bug) or of load (a statement timeout): that is the
            // answer; a standby would not do better.
            Err(ReadError::Failed(e)) => Hedged::Answered(Err(e)),
            Err(ReadError::Unreachable(e)) => Hedged::PrimaryUnreachable(e),
        }
    }

    /// One read on one pool. A connection that failed is dropped (with the
    /// other idle ones, see `Lease::discard`). `bound`, when given, caps the
    /// read from the moment a pool slot is granted, opening a connection
    /// included (waiting for a slot is saturation, answered Busy as ever);
    /// otherwise the operation timeout caps the query and the pool's own
    /// timeouts the connection.
    async fn read_on<D, T, F>(
        &self,
        pool: &Pool,
        data: &D,
        f: &F,
        bound: Option<Duration>,
        avoid: Option<usize>,
    ) -> Result<T, ReadError>
    where
        D: Send + Sync,
        T: Send,
        F: for<'a> Fn(Db<'a>, &'a D) -> BoxFut<'a, T> + Send + Sync,
    {
        let mut lease = match pool.acquire_within(bound, avoid).await {
            Ok(lease) => lease,
            Err(AcquireError::Busy) => return Err(ReadError::Busy(AcquireError::Busy.into())),
            Err(AcquireError::Connect(e)) => return Err(ReadError::Unreachable(e)),
        };
        // The bound counts from the slot, not from the wait for one.
        let granted = lease.granted;
        let limit = || {
            bound.map_or(self.operation_timeout, |b| {
                b.saturating_sub(granted.elapsed())
            })
        };
        match tokio::time::timeout(limit(), self.unfit_for_reads(lease.conn())).await {
            Ok(None) => {}
            Ok(Some(why)) => {
                lease.discard();
                return Err(ReadError::Unreachable(StoreError::Unavailable(why)));
            }
            Err(_) => {
                lease.discard();
                return Err(ReadError::Unreachable(StoreError::Unavailable(
                    "PostgreSQL did not answer in time".into(),
                )));
            }
        }
        let limit = limit();
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
        } else {
            lease.finished();
        }
        result.map_err(ReadError::Failed)
    }

    /// Why a read must not run on `conn`'s server, if so: in a cluster (a
    /// multi-host URL), a server is read from while it is a standby whose
    /// WAL receiver streams or a primary with its synchronous standbys
    /// (`pg_sync_standbys_min`), or has failed that for less than
    /// `pg_read_unfit_grace_ms` (a primary just promoted, a standby
    /// reconnecting after a failover), or is a standby while no primary
    /// answers (with `remote_apply` it has every acknowledged write). A
    /// server that fails it longer is stale: a primary that was frozen or
    /// cut off while another was promoted wakes with no standby, and answers
    /// without the writes acknowledged since. Asked once per connection per
    /// `pg_read_fitness_check_ms`, in one round trip; a server that hides
    /// the answer (no `pg_monitor`) counts as fit, as nothing better is known.
    async fn unfit_for_reads(&self, conn: &mut Conn) -> Option<String> {
        if self.standby.is_none()
            || conn
                .fitness_checked
                .is_some_and(|at| at.elapsed() < self.read_fitness_check)
        {
            return None;
        }
        // If the server cannot answer this, the read itself finds out.
        let answer = conn.client.simple_query(READ_FITNESS_SQL).await.ok()?;
        conn.fitness_checked = Some(std::time::Instant::now());
        let row = answer.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })?;
        let count = |i| {
            row.get(i)
                .and_then(|v: &str| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let in_recovery = row.get(0) == Some("t");
        let (sync, senders_hidden, streaming, receiver_hidden) =
            (count(1), count(2), count(3), count(4));
        let fit = if in_recovery {
            streaming > 0 || receiver_hidden > 0
        } else {
            sync >= self.sync_standbys_min || senders_hidden > 0
        };
        let excused = in_recovery && self.primary_down();
        let shun_ms = self.read_fitness_check.as_millis() as u64;
        let host = conn.host();
        let unfit_for = self
            .pool
            .fitness()
            .record(host, fit, excused, self.read_unfit_grace_ms, shun_ms)
            .err()?;
        let why = if in_recovery {
            format!("PostgreSQL host {} is a standby whose WAL receiver has not streamed for {unfit_for} ms: not read from", host + 1)
        } else {
            format!("PostgreSQL host {} is a primary without its synchronous standbys for {unfit_for} ms (stale: another may have been promoted): not read from", host + 1)
        };
        tracing::warn!(reason = %why, "leaving a stale PostgreSQL server");
        Some(why)
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
        let mut pause = self.write_retry_pause_first;
        let mut attempt = 0;
        loop {
            if self.writes_refused_at_once() {
                return Err(StoreError::Unavailable(NO_PRIMARY.into()));
            }
            // Opening a connection waits for a standby to be promoted
            // (`pg_connect_requalify_ms`), for at most what is left of the window.
            let attempt_started = crate::ids::now_ms().max(0) as u64;
            let window_left = Duration::from_millis(self.write_retry_window_ms)
                .saturating_sub(started.elapsed())
                .max(self.write_retry_pause_first);
            let mut lease = match self.pool.acquire_within(Some(window_left), None).await {
                Ok(lease) => lease,
                Err(AcquireError::Connect(e)) => {
                    // Nothing was sent: safe to try again, for any write.
                    self.mark_primary_down_since(&e.to_string(), attempt_started);
                    if self.may_retry_write(started, pause) {
                        self.write_retries.fetch_add(1, Ordering::Relaxed);
                        // Or sooner: as soon as another request of this node
                        // has reached the new primary.
                        self.pool.opened_within(pause).await;
                        pause = (pause * 2).min(self.write_retry_pause_max);
                        continue;
                    }
                    return Err(e);
                }
                Err(busy) => return Err(busy.into()),
            };
            let conn = lease.conn();
            let host = conn.host();
            // A primary this connection has not written on yet may be one
            // just promoted, with no synchronous standby for a moment: the
            // write commits only once it has one (see `await_sync_standby`).
            let sync_check = (self.sync_standbys_min > 0 && !conn.sync_standby_seen).then(|| {
                let within = Duration::from_millis(self.write_retry_window_ms)
                    .saturating_sub(started.elapsed())
                    .max(self.write_retry_pause_first)
                    .min(self.operation_timeout / 2);
                (self.sync_standbys_min, self.sync_standby_poll, within)
            });
            let sync_waited = std::sync::Mutex::new(None::<Duration>);
            let (client, statements) = (&mut conn.client, &conn.statements);
            let pool = &self.pool;
            // Set once COMMIT is on its way: from then on a lost connection
            // leaves the outcome unknown, and the write is not retried here.
            let committing = AtomicBool::new(false);
            let run = async {
                let tx = client.transaction().await?;
                let value = f(pool.db_tx(&tx, statements), &data).await?;
                if let Some((wanted, every, within)) = sync_check {
                    let asked = std::time::Instant::now();
                    pool::await_sync_standby(&tx, wanted, every, within).await?;
                    *sync_waited.lock().unwrap_or_else(|p| p.into_inner()) = Some(asked.elapsed());
                }
                committing.store(true, Ordering::Relaxed);
                tx.commit().await?;
                Ok(value)
            };
            // A primary that went silent (cut off, frozen) answers nothing
            // until the operation timeout; once this node has reached a
            // primary on another host, a write that has not sent COMMIT
            // gives up on the silent one and runs again there (nothing of
            // it can commit: the transaction is abandoned before COMMIT).
            let moved_away = async {
                pool.opened_elsewhere(host).await;
                if committing.load(Ordering::Relaxed) {
                    std::future::pending::<()>().await;
                }
            };
            let result = tokio::select! {
                outcome = tokio::time::timeout(self.operation_timeout, run) => match outcome {
                    Ok(result) => result,
                    Err(_) => Err(StoreError::Unavailable(
                        "PostgreSQL did not answer in time".into(),
                    )),
                },
                () = moved_away => Err(StoreError::Unavailable(PRIMARY_MOVED.into())),
            };
            if let Some(waited) = sync_waited.into_inner().unwrap_or_else(|p| p.into_inner()) {
                // Asked on this connection: its server had a synchronous
                // standby (the commit's outcome aside).
                lease.conn().sync_standby_seen = true;
                if waited >= self.sync_standby_poll {
                    self.sync_standby_waits.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        waited_ms = waited.as_millis() as u64,
                        "the primary has a synchronous standby now: writes go on"
                    );
                }
            }
            match result {
                Err(StoreError::Unavailable(why))
                    if why == pool::NO_SYNC_STANDBY || why == pool::NO_SYNC_STANDBY_CONFIGURED =>
                {
                    // Rolled back before COMMIT (the transaction was dropped):
                    // nothing of it is written, and it may run again, here
                    // or on another primary.
                    lease.finished();
                    drop(lease);
                    if self.may_retry_write(started, pause) {
                        self.write_retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(self.write_retry_pause_max);
                        continue;
                    }
                    return Err(StoreError::Unavailable(why));
                }
                Err(StoreError::Unavailable(why))
                    if why.starts_with(TX_CONFLICT) && attempt < self.tx_retries_max =>
                {
                    // Rolled back (the driver sends ROLLBACK when the
                    // transaction is dropped): the connection is fine.
                    lease.finished();
                    attempt += 1;
                    tracing::debug!(attempt, reason = %why, "re-running a transaction that lost a race");
                }
                Err(StoreError::Unavailable(why)) => {
                    if why.starts_with(TX_CONFLICT) {
                        lease.finished();
                        return Err(StoreError::Unavailable(why));
                    }
                    tracing::warn!(reason = %why, "PostgreSQL write failed; dropping the connection");
                    // The primary went away (connection closed, shutting down,
                    // now a standby) before COMMIT was sent: the server rolled
                    // the transaction back, so running it again is safe.
                    let lost = lease.conn().client.is_closed()
                        || lost_primary(&why)
                        || why == PRIMARY_MOVED;
                    lease.discard();
                    drop(lease);
                    if lost && !committing.load(Ordering::Relaxed) {
                        self.mark_primary_down(&why);
                        if self.may_retry_write(started, pause) {
                            self.write_retries.fetch_add(1, Ordering::Relaxed);
                            self.pool.opened_within(pause).await;
                            pause = (pause * 2).min(self.write_retry_pause_max);
                            continue;
                        }
                    }
                    return Err(StoreError::Unavailable(why));
                }
                Ok(value) => {
                    lease.finished();
                    self.mark_primary_up();
                    return Ok(value);
                }
                other => {
                    lease.finished();
                    return other;
                }
            }
        }
    }
}

/// How a hedged read on the primary ended: with the answer (the primary's
/// or a standby's), or with the primary unreachable and no answer yet.
enum Hedged<T> {
    Answered(StoreResult<T>),
    PrimaryUnreachable(StoreError),
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

impl PgDb {
    /// The primary is asked first, always (this is also how the node notices
    /// that a primary is back before the recheck time); without one, a
    /// standby that answers makes the node degraded rather than down.
    pub(crate) async fn readiness_now(&self) -> Readiness {
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
            let why = match self
                .read_on(&self.pool, &(), &select_one, bound, None)
                .await
            {
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
        let avoid = self.pool.latest_host();
        match self.read_on(standby, &(), &select_one, None, avoid).await {
            Ok(()) => Readiness::Degraded(format!("{NO_PRIMARY} ({primary})")),
            Err(e) => Readiness::Down(format!(
                "{primary}; no standby either: {}",
                StoreError::from(e)
            )),
        }
    }

    pub(crate) fn usage(&self) -> PoolUsage {
        PoolUsage {
            in_use: self.pool.in_use(),
            size: self.pool.size,
            // A primary that just left a read unanswered counts too: the
            // store must not start a write inside a read on it (a home feed
            // built on first read would wait out the operation timeout).
            primary_down: self.primary_down() || self.standby_first(),
            standby_reads: self.standby_reads.load(Ordering::Relaxed),
            write_retries: self.write_retries.load(Ordering::Relaxed),
            sync_standby_waits: self.sync_standby_waits.load(Ordering::Relaxed),
        }
    }
}
