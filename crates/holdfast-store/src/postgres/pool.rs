//! A small bounded connection pool for tokio-postgres.
//!
//! Why our own: the pool is ~150 lines, and owning it lets the store decide
//! exactly when a connection is broken (driver task ended, an operation
//! timed out, the server said it is shutting down or read-only) and throw it
//! away, which is what makes a node recover by itself after the database
//! comes back. Bounds: at most `size` connections; waiting for one is capped
//! by the acquire timeout; opening one by the connect timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;
use tokio_postgres::config::{Config, Host};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement, Transaction};

use crate::{StoreError, StoreResult};

pub(crate) struct Pool {
    /// One config per host of the URL (see `connect`).
    host_configs: Vec<tokio_postgres::Config>,
    idle: Mutex<Vec<Conn>>,
    permits: Semaphore,
    pub size: usize,
    acquire_timeout: Duration,
    connect_timeout: Duration,
    /// How often a host that answered but did not qualify (a standby, for
    /// the primary pool) is asked again within one connection attempt, on
    /// the connection it opened (see `await_promotion`).
    requalify: Duration,
    statement_cache_max: usize,
    /// Which of `host_configs` the latest connection was opened to
    /// (`NO_HOST` before the first): for the primary pool, where the primary
    /// is as far as this node knows.
    latest_host: AtomicUsize,
    /// Woken whenever a connection is opened: requests waiting for a host
    /// to qualify (a write waiting for the new primary) try again at once.
    opened: Notify,
    /// Which hosts are not to be read from now (shared by a node's pools).
    fitness: Arc<HostFitness>,
    /// Where connections are opened and their sockets driven (see `PgIo`);
    /// None: on the runtime of whoever opens one.
    io: Option<Arc<PgIo>>,
}

/// The PostgreSQL pools' own small runtime (`pg_io_threads_max` threads):
/// every pooled connection is opened on it, so its socket is registered with
/// this runtime's I/O driver, and its driver task (which writes queries and
/// reads answers) runs here. A request awaits its query through the client's
/// channel from whichever runtime serves it; before, the socket and the
/// driver belonged to the runtime that happened to open the connection, and a
/// request on the signed-in lane waited for its answer to be read until the
/// flooded main runtime got round to that task. This thread mostly sleeps in
/// epoll, so the kernel wakes it ahead of busy threads, as it does the lane's.
pub(crate) struct PgIo {
    /// Taken on drop (see there).
    runtime: Option<tokio::runtime::Runtime>,
}

impl PgIo {
    /// None when `threads` is 0: connections are then driven by the runtime
    /// that opens them.
    pub fn start(threads: usize) -> StoreResult<Option<Arc<PgIo>>> {
        if threads == 0 {
            return Ok(None);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("hf-pg-io")
            .enable_all()
            .build()
            .map_err(|e| {
                StoreError::Internal(format!("cannot start the PostgreSQL I/O runtime: {e}"))
            })?;
        Ok(Some(Arc::new(PgIo {
            runtime: Some(runtime),
        })))
    }

    /// Runs `work` on this runtime and waits for it from the caller's; if the
    /// caller stops waiting (its request was cancelled), `work` is stopped too.
    async fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        let runtime = self
            .runtime
            .as_ref()
            .expect("the runtime is taken only on drop");
        struct AbortOnDrop<T>(JoinHandle<T>);
        impl<T> Drop for AbortOnDrop<T> {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let mut task = AbortOnDrop(runtime.spawn(work));
        match (&mut task.0).await {
            Ok(outcome) => outcome,
            Err(e) => Err(StoreError::Unavailable(format!(
                "the PostgreSQL I/O runtime stopped: {e}"
            ))),
        }
    }
}

impl Drop for PgIo {
    fn drop(&mut self) {
        // Dropping a runtime blocks until its tasks stop, which tokio refuses
        // inside another runtime (where the last pool is usually dropped);
        // its connections' drivers are dropped with it, closing their sockets.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Per host of the URL, whether it is fit to read from, as a node's reads
/// last checked (`PgDb::unfit_for_reads`): shared by the node's pools, so a
/// host found stale is left by both. A host that failed the check past the
/// grace is shunned for a while: its idle connections are closed and no
/// new one is opened to it; once that ends, the next connection is checked
/// before its first read, as every connection is.
pub(crate) struct HostFitness {
    /// Since when (ms since the epoch) the host has failed the check; 0
    /// while it passes.
    unfit_since_ms: Vec<AtomicI64>,
    /// Until when (ms since the epoch) it is shunned; 0: it is not.
    shunned_until_ms: Vec<AtomicI64>,
}

impl HostFitness {
    pub fn new(hosts: usize) -> HostFitness {
        let zeros = || (0..hosts).map(|_| AtomicI64::new(0)).collect();
        HostFitness {
            unfit_since_ms: zeros(),
            shunned_until_ms: zeros(),
        }
    }

    pub fn shunned(&self, host: usize) -> bool {
        self.shunned_until_ms
            .get(host)
            .is_some_and(|until| crate::ids::now_ms() < until.load(Ordering::Relaxed))
    }

    /// Records one check of `host`: `fit` is what the server said of itself;
    /// `excused`, that it may be read from anyway (a standby while no
    /// primary answers). Ok while it may be read from (it passed, or has
    /// failed for less than `grace_ms`); Err(for how long it has failed, in
    /// ms) once it is shunned, for `shun_ms`.
    pub fn record(
        &self,
        host: usize,
        fit: bool,
        excused: bool,
        grace_ms: u64,
        shun_ms: u64,
    ) -> Result<(), i64> {
        let (Some(since), Some(shunned)) = (
            self.unfit_since_ms.get(host),
            self.shunned_until_ms.get(host),
        ) else {
            return Ok(());
        };
        let now = crate::ids::now_ms();
        if fit {
            since.store(0, Ordering::Relaxed);
            return Ok(());
        }
        let _ = since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        let unfit_for = now - since.load(Ordering::Relaxed);
        if excused || unfit_for < grace_ms as i64 {
            return Ok(());
        }
        shunned.store(now + shun_ms as i64, Ordering::Relaxed);
        Err(unfit_for)
    }

    /// The hosts shunned now, and `also` (a host a caller avoids).
    fn shunned_hosts(&self, also: Option<usize>) -> Vec<usize> {
        (0..self.shunned_until_ms.len())
            .filter(|h| Some(*h) == also || self.shunned(*h))
            .collect()
    }
}

const NO_HOST: usize = usize::MAX;

/// One open connection: the client, the task that drives its socket, and
/// the statements prepared on it.
pub(crate) struct Conn {
    pub client: Client,
    /// Which of the pool's hosts it is connected to.
    host: usize,
    driver: JoinHandle<()>,
    pub statements: Mutex<HashMap<String, Statement>>,
    /// When its server was last asked whether it is fit to read from (see
    /// `HostFitness`); None: never.
    pub fitness_checked: Option<Instant>,
    /// Whether its server was seen to have a synchronous standby before
    /// this connection's first write (see `await_sync_standby`). Asked once
    /// per connection: a connection lives on one server, and only a
    /// promotion makes a server a new primary.
    pub sync_standby_seen: bool,
}

impl Conn {
    /// Which of the pool's hosts it is connected to.
    pub fn host(&self) -> usize {
        self.host
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The driver would end by itself once the socket closes, but on a
        // silently dead network that can take minutes; stop it now.
        self.driver.abort();
    }
}

/// A connection lent out by the pool. Goes back on drop only if its user
/// said the work on it ended cleanly (`finished`) and its socket is open;
/// otherwise it is dropped and a fresh one is opened when next needed.
///
/// Why "finished" rather than "not broken": a lease can also be dropped in
/// the middle of a query, when the request holding it is cancelled (the
/// client went away, the request's time budget ran out, a hedged read lost
/// its race). Its server may still be working on the query, or be frozen
/// and never answer; handed out again, the next request would wait behind
/// it (on a frozen primary: until the operation timeout, request after
/// request).
pub(crate) struct Lease<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
    finished: bool,
    /// When the slot was granted (what a caller's own bound counts from).
    pub granted: Instant,
    _permit: SemaphorePermit<'p>,
}

impl Lease<'_> {
    pub fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }

    /// The connection is in an unknown state (timed out mid-request, lost
    /// its server): never hand it out again. Other idle connections probably
    /// died the same way, so they are dropped too rather than each costing
    /// a request its timeout.
    pub fn discard(&mut self) {
        self.finished = false;
        lock(&self.pool.idle).clear();
    }

    /// The work on the connection ended with the server's answer (success
    /// or an error of the operation's own): it may serve the next request.
    pub fn finished(&mut self) {
        self.finished = true;
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.finished && !conn.client.is_closed() {
                lock(&self.pool.idle).push(conn);
            }
        }
    }
}

impl Pool {
    pub fn new(
        config: tokio_postgres::Config,
        size: usize,
        acquire_timeout: Duration,
        connect_timeout: Duration,
        requalify: Duration,
        statement_cache_max: usize,
        fitness: Arc<HostFitness>,
        io: Option<Arc<PgIo>>,
    ) -> Pool {
        let size = size.max(1);
        Pool {
            host_configs: per_host(&config),
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
            size,
            acquire_timeout,
            connect_timeout,
            requalify,
            statement_cache_max: statement_cache_max.max(1),
            latest_host: AtomicUsize::new(NO_HOST),
            opened: Notify::new(),
            fitness,
            io,
        }
    }

    /// Which hosts are fit to read from, as this node's reads last found.
    pub fn fitness(&self) -> &HostFitness {
        &self.fitness
    }

    /// Waits until this pool opens a connection, or `at_most`.
    pub async fn opened_within(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.opened.notified()).await;
    }

    /// The host the latest connection was opened to, if any.
    pub fn latest_host(&self) -> Option<usize> {
        Some(self.latest_host.load(Ordering::Relaxed)).filter(|h| *h != NO_HOST)
    }

    /// Resolves once this pool has opened a connection to a host other than
    /// `host`: for the primary pool, a primary elsewhere (after a failover;
    /// the old one may be silent rather than gone).
    pub async fn opened_elsewhere(&self, host: usize) {
        loop {
            let opened = self.opened.notified();
            if self.latest_host().is_some_and(|h| h != host) {
                return;
            }
            opened.await;
        }
    }

    pub fn in_use(&self) -> usize {
        self.size.saturating_sub(self.permits.available_permits())
    }

    /// Waits (bounded) for a free slot, then reuses an idle live connection
    /// or opens one, with opening a connection bounded by `connect_bound`
    /// too when given (the wait for a slot is not: a saturated node is busy,
    /// not cut off from its database), and never on host `avoid` (for the
    /// standby pool: the host the primary pool is on, which is the one
    /// suspected of not answering when a read goes to a standby; idle
    /// connections to it are closed).
    pub async fn acquire_within(
        &self,
        connect_bound: Option<Duration>,
        avoid: Option<usize>,
    ) -> Result<Lease<'_>, AcquireError> {
        let permit = tokio::time::timeout(self.acquire_timeout, self.permits.acquire())
            .await
            .map_err(|_| AcquireError::Busy)?
            .map_err(|_| AcquireError::Busy)?;
        let granted = Instant::now();
        loop {
            let candidate = lock(&self.idle).pop();
            match candidate {
                Some(conn) if conn.client.is_closed() => continue, // died while idle
                Some(conn) if Some(conn.host) == avoid || self.fitness.shunned(conn.host) => {
                    continue
                }
                Some(conn) => {
                    return Ok(Lease {
                        pool: self,
                        conn: Some(conn),
                        finished: false,
                        granted,
                        _permit: permit,
                    })
                }
                None => break,
            }
        }
        let timeout = connect_bound.map_or(self.connect_timeout, |b| b.min(self.connect_timeout));
        let conn = self
            .connect_within(timeout, avoid)
            .await
            .map_err(AcquireError::Connect)?;
        Ok(Lease {
            pool: self,
            conn: Some(conn),
            finished: false,
            granted,
            _permit: permit,
        })
    }

    /// Opens one connection. With several hosts, every host is tried at
    /// once and the first that qualifies (`target_session_attrs`) wins: a
    /// frozen or cut-off host, which accepts the TCP connection and then
    /// never answers, costs nothing while another host answers. (The driver
    /// would try the hosts one after another and bound only the TCP connect
    /// of each, so such a host listed first would stall every new connection.)
    pub async fn connect(&self) -> StoreResult<Conn> {
        self.connect_within(self.connect_timeout, None).await
    }

    async fn connect_within(&self, timeout: Duration, avoid: Option<usize>) -> StoreResult<Conn> {
        let skip = self.fitness.shunned_hosts(avoid);
        let hosts = self.host_configs.clone();
        let requalify = Some(self.requalify);
        // The socket is registered with the runtime the connect runs on, and
        // the driver spawned there: both on the pool's own runtime if it has one.
        let open = async move {
            let (host, (client, connection)) =
                connect_first_except(&hosts, &skip, requalify, timeout).await?;
            let driver = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "PostgreSQL connection lost");
                }
            });
            Ok((host, client, driver))
        };
        let (host, client, driver) = match &self.io {
            Some(io) => io.run(open).await?,
            None => open.await?,
        };
        self.latest_host.store(host, Ordering::Relaxed);
        self.opened.notify_waiters();
        Ok(Conn {
            client,
            host,
            driver,
            statements: Mutex::new(HashMap::new()),
            fitness_checked: None,
            sync_standby_seen: false,
        })
    }

    pub fn db<'a>(
        &self,
        client: &'a Client,
        statements: &'a Mutex<HashMap<String, Statement>>,
    ) -> Db<'a> {
        Db {
            client: Handle::Client(client),
            statements,
            cache_max: self.statement_cache_max,
        }
    }

    pub fn db_tx<'a>(
        &self,
        tx: &'a Transaction<'a>,
        statements: &'a Mutex<HashMap<String, Statement>>,
    ) -> Db<'a> {
        Db {
            client: Handle::Tx(tx),
            statements,
            cache_max: self.statement_cache_max,
        }
    }
}

/// A connection and the driver's half of it, as `Config::connect` gives them.
pub(crate) type Connected = (
    Client,
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
);

/// Opens one connection to whichever of `hosts` qualifies first: every host
/// is tried at once (see `Pool::connect`), the losers are dropped, and the
/// whole attempt is bounded by `timeout`. Used by the pools and by the event
/// feed, so neither waits on a silent host listed first.
pub(crate) async fn connect_first(hosts: &[Config], timeout: Duration) -> StoreResult<Connected> {
    Ok(connect_first_except(hosts, &[], None, timeout).await?.1)
}

/// As `connect_first`, leaving out the hosts in `skip`; says which host won. With
/// `requalify` (and several hosts), a host that answers but does not
/// qualify (a standby, when a primary is wanted) is watched for its
/// promotion every `requalify`, within `timeout` (`await_promotion`): during
/// a failover the standby promoted is found as soon as it is promoted,
/// rather than when this attempt gives up on a silent old primary (a frozen
/// or cut-off host never refuses, so without this an attempt begun before
/// the promotion waits out its whole timeout).
async fn connect_first_except(
    hosts: &[Config],
    skip: &[usize],
    requalify: Option<Duration>,
    timeout: Duration,
) -> StoreResult<(usize, Connected)> {
    let requalify = requalify.filter(|_| hosts.len() > 1);
    let mut attempts = tokio::task::JoinSet::new();
    for (i, config) in hosts.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        let config = config.clone();
        attempts.spawn(async move {
            loop {
                match (config.connect(NoTls).await, requalify) {
                    (Err(e), Some(every)) if wrong_role(&e) => {
                        if let Some(promoted) = await_promotion(&config, every).await {
                            return (i, Ok(promoted));
                        }
                        tokio::time::sleep(every).await
                    }
                    (outcome, _) => return (i, outcome),
                }
            }
        });
    }
    let mut why = String::from("no host to connect to");
    let connected = tokio::time::timeout(timeout, async {
        while let Some(attempt) = attempts.join_next().await {
            match attempt {
                Ok((i, Ok(connected))) => return Some((i, connected)),
                Ok((_, Err(e))) => why = describe_connect_error(&e),
                Err(e) => why = e.to_string(),
            }
        }
        None
    })
    .await;
    // Dropping the set aborts the attempts still running (the losers).
    drop(attempts);
    match connected {
        Ok(Some(connected)) => Ok(connected),
        Ok(None) => {
            tracing::warn!(error = %why, "cannot connect to PostgreSQL");
            Err(StoreError::Unavailable(format!(
                "cannot connect to PostgreSQL: {why}"
            )))
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = timeout.as_millis() as u64,
                last_error = %why,
                "PostgreSQL connect timed out"
            );
            Err(StoreError::Unavailable(
                "timed out connecting to PostgreSQL".into(),
            ))
        }
    }
}

/// A host answered as a standby: keep one connection to it (any role) and
/// ask it every `every` whether it takes writes now, the check
/// `target_session_attrs=read-write` makes (`transaction_read_only` off);
/// once it does, that connection is a primary's (a session opened during
/// recovery may write once recovery ended). None if the connection fails
/// (the caller connects again). Asking on an open connection costs the
/// standby one tiny query per `every`, not a new backend, so the promotion
/// is noticed within `every` of it.
async fn await_promotion(config: &Config, every: Duration) -> Option<Connected> {
    let mut any_role = config.clone();
    any_role.target_session_attrs(tokio_postgres::config::TargetSessionAttrs::Any);
    let (client, mut connection) = any_role.connect(NoTls).await.ok()?;
    loop {
        // The connection is driven only while a query is in flight; between
        // them the socket just buffers.
        let answer = tokio::select! {
            answer = client.simple_query("SHOW transaction_read_only") => answer.ok()?,
            _ = &mut connection => return None,
        };
        let writable = answer.iter().any(|m| {
            matches!(m, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("off"))
        });
        if writable {
            return Some((client, connection));
        }
        tokio::time::sleep(every).await;
    }
}

/// What a primary says of its synchronous standbys (see `await_sync_standby`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SyncStandbys {
    /// At least as many as wanted are `sync` (or `quorum`) in `pg_stat_replication`.
    Enough,
    /// Fewer (a primary just promoted; or replication is asynchronous:
    /// `synchronous_standby_names` is empty, said by `configured`).
    TooFew { configured: bool },
    /// Fewer seen, but this role cannot see `pg_stat_replication`'s details
    /// (it needs `pg_monitor` or `pg_read_all_stats`).
    Hidden,
}

/// One look at the primary's synchronous standbys, in one round trip, from
/// inside the write's transaction: the WAL senders' function itself, since
/// the `pg_stat_replication` view joins the backends' activity, which a
/// transaction reads once and keeps (a standby attaching later would never
/// show up in it).
pub(crate) async fn sync_standbys(tx: &Transaction<'_>, wanted: u64) -> StoreResult<SyncStandbys> {
    let answer = tx
        .simple_query(
            "SELECT current_setting('synchronous_standby_names') <> '', \
                    count(*) FILTER (WHERE sync_state IN ('sync', 'quorum')), \
                    count(*) FILTER (WHERE sync_state IS NULL) \
               FROM pg_stat_get_wal_senders()",
        )
        .await?;
    let row = answer
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .ok_or_else(|| StoreError::Internal("pg_stat_replication gave no row".into()))?;
    let configured = row.get(0) == Some("t");
    let count = |i| {
        row.get(i)
            .and_then(|v: &str| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (attached, hidden) = (count(1), count(2));
    Ok(if attached >= wanted {
        SyncStandbys::Enough
    } else if hidden > 0 {
        SyncStandbys::Hidden
    } else {
        SyncStandbys::TooFew { configured }
    })
}

/// Waits, asking every `every` for at most `within`, until the primary of
/// `tx` has `wanted` synchronous standbys attached (called just before
/// COMMIT: the write's statements run meanwhile, as they would while
/// PostgreSQL holds a commit for its standbys). Why holdfast asks
/// rather than trusting the server to hold each commit until a standby has
/// it: right after a promotion the new primary has no standby for a moment,
/// and whether its commits wait then depends on the cluster manager's mode
/// (without `synchronous_mode_strict` Patroni empties
/// `synchronous_standby_names` while no standby is attached) and on
/// PostgreSQL having applied the setting (its checkpointer publishes it to
/// the committing backends, after a reload). A write acknowledged in that
/// moment is on one server only, and one more failure loses it. Errors:
/// Unavailable when the time runs out (nothing is committed: the caller
/// rolls back, and the write may be tried again), or at once when the role
/// cannot see the standbys (refusing is the safe side).
pub(crate) async fn await_sync_standby(
    tx: &Transaction<'_>,
    wanted: u64,
    every: Duration,
    within: Duration,
) -> StoreResult<()> {
    let until = Instant::now() + within;
    loop {
        match sync_standbys(tx, wanted).await? {
            SyncStandbys::Enough => return Ok(()),
            SyncStandbys::Hidden => {
                return Err(StoreError::Unavailable(NO_SYNC_STANDBY_VISIBLE.into()))
            }
            SyncStandbys::TooFew { configured } if Instant::now() + every >= until => {
                return Err(StoreError::Unavailable(if configured {
                    NO_SYNC_STANDBY.into()
                } else {
                    NO_SYNC_STANDBY_CONFIGURED.into()
                }))
            }
            SyncStandbys::TooFew { .. } => tokio::time::sleep(every).await,
        }
    }
}

/// Why a write was not run: the primary has no synchronous standby yet.
pub(crate) const NO_SYNC_STANDBY: &str =
    "the PostgreSQL primary has no synchronous standby attached yet";

/// Why a write was not run: the primary replicates asynchronously.
pub(crate) const NO_SYNC_STANDBY_CONFIGURED: &str = "the PostgreSQL primary has no synchronous \
     standby (synchronous_standby_names is empty); pg_sync_standbys_min = 0 accepts that";

/// Why a write was refused: holdfast cannot see the primary's standbys.
pub(crate) const NO_SYNC_STANDBY_VISIBLE: &str =
    "cannot tell whether the PostgreSQL primary has a \
     synchronous standby: holdfast's database role needs pg_monitor (GRANT pg_monitor TO ...)";

/// Why no connection was lent: every slot busy past the acquire timeout (the
/// database may be fine, this node is saturated), or the server could not be
/// reached (for the primary pool: no read-write host answers).
#[derive(Debug)]
pub(crate) enum AcquireError {
    Busy,
    Connect(StoreError),
}

impl From<AcquireError> for StoreError {
    fn from(e: AcquireError) -> StoreError {
        match e {
            AcquireError::Busy => StoreError::Unavailable(
                "timed out waiting for a PostgreSQL connection (pool exhausted)".into(),
            ),
            AcquireError::Connect(e) => e,
        }
    }
}

/// The host answered, but is not what `target_session_attrs` asks for.
fn wrong_role(e: &tokio_postgres::Error) -> bool {
    let why = describe_connect_error(e);
    why.contains("does not allow writes") || why.contains("is not read only")
}

/// tokio-postgres says only "error connecting to server"; the cause
/// (refused, no route, auth failed, not a read-write host) is in the chain.
fn describe_connect_error(e: &tokio_postgres::Error) -> String {
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why += &format!(": {s}");
        source = s.source();
    }
    why
}

/// The config split into one config per host, each with every other
/// setting of the original. A config with one host comes back as it is.
pub(crate) fn per_host(config: &Config) -> Vec<Config> {
    let hosts = config.get_hosts();
    if hosts.len() <= 1 {
        return vec![config.clone()];
    }
    let ports = config.get_ports();
    let hostaddrs = config.get_hostaddrs();
    (0..hosts.len())
        .map(|i| {
            let mut c = Config::new();
            match &hosts[i] {
                Host::Tcp(h) => c.host(h),
                Host::Unix(path) => c.host_path(path),
            };
            if let Some(addr) = hostaddrs.get(i) {
                c.hostaddr(*addr);
            }
            if let Some(port) = ports.get(i).or(ports.first()) {
                c.port(*port);
            }
            if let Some(v) = config.get_user() {
                c.user(v);
            }
            if let Some(v) = config.get_password() {
                c.password(v);
            }
            if let Some(v) = config.get_dbname() {
                c.dbname(v);
            }
            if let Some(v) = config.get_options() {
                c.options(v);
            }
            if let Some(v) = config.get_application_name() {
                c.application_name(v);
            }
            if let Some(v) = config.get_connect_timeout() {
                c.connect_timeout(*v);
            }
            if let Some(v) = config.get_tcp_user_timeout() {
                c.tcp_user_timeout(*v);
            }
            if let Some(v) = config.get_keepalives_interval() {
                c.keepalives_interval(v);
            }
            if let Some(v) = config.get_keepalives_retries() {
                c.keepalives_retries(v);
            }
            c.ssl_mode(config.get_ssl_mode())
                .ssl_negotiation(config.get_ssl_negotiation())
                .keepalives(config.get_keepalives())
                .keepalives_idle(config.get_keepalives_idle())
                .target_session_attrs(config.get_target_session_attrs())
                .channel_binding(config.get_channel_binding());
            c
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Clone, Copy)]
enum Handle<'a> {
    Client(&'a Client),
    Tx(&'a Transaction<'a>),
}

/// What queries run on: a connection or an open transaction on it, with the
/// connection's prepared-statement cache. Every query is prepared once per
/// connection (one round trip saved on every later use); the SQL texts are
/// fixed shapes with parameters, so the cache stays small, and it is bounded anyway.
pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

#[derive(Clone, Copy)]
pub(crate) struct Db<'a> {
    client: Handle<'a>,
    statements: &'a Mutex<HashMap<String, Statement>>,
    cache_max: usize,
}

impl Db<'_> {
    pub async fn statement(&self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = lock(self.statements).get(sql) {
            return Ok(s.clone());
        }
        let s = match self.client {
            Handle::Client(c) => c.prepare(sql).await?,
            Handle::Tx(t) => t.prepare(sql).await?,
        };
        let mut cache = lock(self.statements);
        if cache.len() >= self.cache_max {
            cache.clear();
        }
        cache.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub async fn query(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Vec<Row>> {
        let s = self.statement(sql).await?;
        self.query_prepared(&s, params).await
    }

    pub async fn query_prepared(
        &self,
        s: &Statement,
        params: &[Param<'_>],
    ) -> StoreResult<Vec<Row>> {
        Ok(match self.client {
            Handle::Client(c) => c.query(s, params).await?,
            Handle::Tx(t) => t.query(s, params).await?,
        })
    }

    pub async fn query_opt(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// The first row, or NotFound.
    pub async fn query_one(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<Row> {
        self.query_opt(sql, params)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn execute(&self, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
        let s = self.statement(sql).await?;
        self.execute_prepared(&s, params).await
    }

    pub async fn execute_prepared(&self, s: &Statement, params: &[Param<'_>]) -> StoreResult<u64> {
        Ok(match self.client {
            Handle::Client(c) => c.execute(s, params).await?,
            Handle::Tx(t) => t.execute(s, params).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::TargetSessionAttrs;

    #[test]
    fn a_host_is_shunned_only_after_failing_past_the_grace_and_not_when_excused() {
        let f = HostFitness::new(2);
        assert_eq!(
            f.record(0, false, false, 10_000, 1_000),
            Ok(()),
            "within the grace"
        );
        assert!(!f.shunned(0));
        assert_eq!(f.record(0, false, true, 0, 1_000), Ok(()), "excused");
        assert!(
            f.record(0, false, false, 0, 1_000).is_err(),
            "past the grace"
        );
        assert!(f.shunned(0) && !f.shunned(1));
        assert_eq!(f.shunned_hosts(Some(1)), vec![0, 1]);
        // Passing again clears the failure (the shun runs out by itself).
        assert_eq!(f.record(0, true, false, 0, 1_000), Ok(()));
        assert_eq!(
            f.record(0, false, false, 10_000, 1_000),
            Ok(()),
            "a new grace"
        );
        // Hosts the URL does not have are never shunned.
        assert_eq!(f.record(7, false, false, 0, 1_000), Ok(()));
        assert!(!f.shunned(7));
    }

    #[test]
    fn a_multi_host_config_splits_into_one_config_per_host_with_every_setting() {
        let mut config: Config = "postgres://app:secret@10.0.0.1:5433,10.0.0.2:5434,db3/holdfast?application_name=hf&options=-c%20statement_timeout%3D5000"
            .parse()
            .unwrap();
        config
            .target_session_attrs(TargetSessionAttrs::ReadWrite)
            .connect_timeout(Duration::from_millis(1234))
            .tcp_user_timeout(Duration::from_millis(4321));
        let each = per_host(&config);
        assert_eq!(each.len(), 3);
        let hosts: Vec<_> = each.iter().map(|c| c.get_hosts().to_vec()).collect();
        assert_eq!(
            hosts,
            [
                vec![Host::Tcp("10.0.0.1".into())],
                vec![Host::Tcp("10.0.0.2".into())],
                vec![Host::Tcp("db3".into())]
            ]
        );
        // A host without a port of its own takes the URL's default.
        let ports: Vec<_> = each.iter().map(|c| c.get_ports().to_vec()).collect();
        assert_eq!(ports, [vec![5433], vec![5434], vec![5432]]);
        for c in &each {
            assert_eq!(c.get_user(), Some("app"));
            assert_eq!(c.get_password(), Some(&b"secret"[..]));
            assert_eq!(c.get_dbname(), Some("holdfast"));
            assert_eq!(c.get_application_name(), Some("hf"));
            assert_eq!(c.get_options(), Some("-c statement_timeout=5000"));
            assert_eq!(c.get_target_session_attrs(), TargetSessionAttrs::ReadWrite);
            assert_eq!(c.get_connect_timeout(), Some(&Duration::from_millis(1234)));
            assert_eq!(c.get_tcp_user_timeout(), Some(&Duration::from_millis(4321)));
        }
        // One host: the config as it is.
        let one: Config = "postgres://app@10.0.0.1/holdfast".parse().unwrap();
        assert_eq!(per_host(&one).len(), 1);
    }
}
