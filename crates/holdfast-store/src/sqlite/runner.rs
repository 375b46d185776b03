//! SQLite's side of the shared core: runs the core's queries on this
//! backend's connections ([`Conn`]), reads on a pooled read-only connection
//! and writes in one IMMEDIATE transaction on the single writer ([`Db`]).
//!
//! The core's functions are async (PostgreSQL's driver is), but nothing in
//! them waits on anything but the database, and SQLite answers
//! synchronously: so on SQLite each one completes on its first poll, on a
//! blocking thread, never on the async workers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;

use super::{lock, SqliteDb};
use crate::core::{Arg, BoxFut, Conn, Db, Dialect, Row, Value};
use crate::ids::IdGenerator;
use crate::{PoolUsage, StoreError, StoreResult};

/// `holdfast_next_id()` in SQL, as PostgreSQL has it: the core writes new
/// rows' ids the same way on both databases.
pub(super) fn register_next_id(c: &Connection, ids: Arc<IdGenerator>) -> StoreResult<()> {
    c.create_scalar_function(
        "holdfast_next_id",
        0,
        FunctionFlags::SQLITE_UTF8,
        move |_| Ok(ids.next()),
    )
    .map_err(super::internal)
}

/// `holdfast_now_ms()` in SQL, as PostgreSQL has it (migration 0009): the
/// clock ends (a mute's `expires_at`) are compared with, on every connection.
pub(super) fn register_now_ms(c: &Connection) -> StoreResult<()> {
    c.create_scalar_function("holdfast_now_ms", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(crate::ids::now_ms())
    })
    .map_err(super::internal)
}

/// A connection as the core sees it. Behind a mutex only so that it can be
/// shared as the core's `&dyn Conn` (which must be Sync); one thread uses it
/// at a time anyway, so the lock is never contended.
pub(super) struct SqliteConn<'a> {
    conn: &'a Mutex<Connection>,
}

impl SqliteConn<'_> {
    /// One transaction-control statement (BEGIN, SAVEPOINT, COMMIT...),
    /// prepared once: the writer runs three per queued write.
    fn control(&self, sql: &str) -> StoreResult<()> {
        let conn = lock(self.conn);
        conn.prepare_cached(sql)?.raw_execute()?;
        Ok(())
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as V;
        Ok(match *self {
            Arg::Null => ToSqlOutput::Owned(V::Null),
            Arg::Int(v) => ToSqlOutput::Owned(V::Integer(v)),
            Arg::Bool(v) => ToSqlOutput::Owned(V::Integer(v as i64)),
            Arg::Real(v) => ToSqlOutput::Owned(V::Real(v)),
            Arg::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            // Unpacked by `json_each` (see `Dialect::in_ids`).
            // One string written in place: a page binds several id lists.
            Arg::Ids(ids) => {
                use std::fmt::Write;
                let mut list = String::with_capacity(ids.len() * 20 + 2);
                list.push('[');
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        list.push(',');
                    }
                    let _ = write!(list, "{id}");
                }
                list.push(']');
                ToSqlOutput::Owned(V::Text(list))
            }
            Arg::Texts(texts) => {
                let list: Vec<String> = texts.iter().map(|t| json_string(t)).collect();
                ToSqlOutput::Owned(V::Text(format!("[{}]", list.join(","))))
            }
        })
    }
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn prepare<'c>(
    conn: &'c Connection,
    sql: &str,
    args: &[Arg<'_>],
) -> StoreResult<rusqlite::CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql)?;
    if stmt.parameter_count() != args.len() {
        return Err(StoreError::Internal(format!(
            "query takes {} parameters, {} given: {sql}",
            stmt.parameter_count(),
            args.len()
        )));
    }
    for (i, arg) in args.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, arg)?;
    }
    Ok(stmt)
}

fn value(v: ValueRef<'_>) -> StoreResult<Value> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(_) => return Err(StoreError::Internal("unexpected BLOB column".into())),
    })
}

#[async_trait]
impl Conn for SqliteConn<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<Vec<Row>> {
        let conn = lock(self.conn);
        let mut stmt = prepare(&conn, sql, args)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            // Sized once: collecting `Result`s gives no size hint, and a
            // row of a page's statement grew by reallocations, ~5 % of a
            // home request's instructions (bench/perf, session 14).
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(value(r.get_ref(i)?)?);
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    async fn execute(&self, sql: &str, args: &[Arg<'_>]) -> StoreResult<u64> {
        let conn = lock(self.conn);
        let mut stmt = prepare(&conn, sql, args)?;
        Ok(stmt.raw_execute()? as u64)
    }
}

/// Drives a core future that only waits on SQLite, which answers at once.
fn run_now<T>(mut fut: BoxFut<'_, T>) -> StoreResult<T> {
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Internal(
            "a SQLite operation waited on something other than the database".into(),
        )),
    }
}

/// Waits (at most `acquire_timeout`) for a permit and keeps it: the blocking
/// job hands it back when done, even after a panic.
async fn take_permit(
    inner: &super::Inner,
    permits: &tokio::sync::Semaphore,
    what: &str,
) -> StoreResult<()> {
    tokio::time::timeout(inner.acquire_timeout, permits.acquire())
        .await
        .map_err(|_| StoreError::Unavailable(format!("timed out waiting for {what}")))?
        .map_err(|_| StoreError::Unavailable("store is closed".into()))?
        .forget();
    Ok(())
}

fn panicked() -> StoreError {
    StoreError::Internal("a database task panicked".into())
}

#[async_trait]
impl Db for SqliteDb {
    /// A search finds every acknowledged post: when committed entries may
    /// still be queued (see [`SearchFeed`]), a write moves them first. It
    /// joins the writer's next transaction like any write; searches asking
    /// together find the queue empty after the first.
    async fn index_queued_search(&self) -> StoreResult<()> {
        if !self.inner.search_pending.load(Ordering::Acquire) {
            return Ok(());
        }
        self.write((), |c, _| {
            Box::pin(async move {
                c.execute(INDEX_QUEUED_SEARCH, &[]).await?;
                c.execute(EMPTY_SEARCH_QUEUE, &[]).await?;
                Ok(())
            })
        })
        .await
    }

    fn pool_usage(&self) -> PoolUsage {
        let size = self.inner.read_pool_size + 1;
        // The writer counts as in use while any write is queued or running.
        let writer_idle = self.inner.writes.capacity() == self.inner.writes.max_capacity();
        let free = self.inner.read_permits.available_permits() + usize::from(writer_idle);
        PoolUsage {
            in_use: size.saturating_sub(free),
            size,
            ..PoolUsage::default()
        }
    }

    async fn read<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        let inner = self.inner.clone();
        take_permit(&inner, &inner.read_permits, "a read connection").await?;
        let in_place_max = inner.read_in_place_workers_max;
        let job = move || {
            let conn = Mutex::new(
                lock(&inner.readers)
                    .pop()
                    .expect("a read permit guarantees a free connection"),
            );
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let c = SqliteConn { conn: &conn };
                run_now(f(&c, &data))
            }));
            lock(&inner.readers).push(conn.into_inner().unwrap_or_else(|p| p.into_inner()));
            inner.read_permits.add_permits(1);
            result
        };
        // On the server's multi-threaded runtime a read runs right here: the
        // worker hands its other tasks to another worker meanwhile, which is
        // cheaper than a hop to a blocking thread and back (two wake-ups per
        // read; bench/perf, issue 10). With few workers (a one-core server,
        // or one pinned to a core: `sqlite_read_in_place_workers_max`) there
        // is no spare core for those tasks: the thread `block_in_place`
        // starts for them only takes turns with this one, two thread switches
        // per read and the scheduler's time slices between them, which under
        // a flood put legitimate reads behind the attackers' refusals
        // (bench/flood, issue 11); so the read just runs. A current-thread
        // runtime (tests, the CLI) cannot block, so it keeps the blocking thread.
        let runtime = tokio::runtime::Handle::current();
        let outcome = match runtime.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::MultiThread
                if runtime.metrics().num_workers() <= in_place_max =>
            {
                Ok(job())
            }
            tokio::runtime::RuntimeFlavor::MultiThread => Ok(tokio::task::block_in_place(job)),
            _ => tokio::task::spawn_blocking(job).await,
        };
        match outcome {
            Ok(Ok(result)) => result,
            Ok(Err(_)) | Err(_) => Err(panicked()),
        }
    }

    async fn auth_epoch(&self) -> StoreResult<i64> {
        self.inner.epoch_reader.read()
    }

    /// Queued for the writer thread, which commits many writes at once
    /// (see [`writer_loop`]); answers after the commit that made it durable.
    async fn write<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        self.queue(data, f, Priority::Request).await
    }

    /// Queued like [`Db::write`], but the writer runs it only after the
    /// requests' writes waiting with it (see [`writer_loop`]).
    async fn write_background<D, T, F>(&self, data: D, f: F) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        self.queue(data, f, Priority::Background).await
    }
}

impl SqliteDb {
    async fn queue<D, T, F>(&self, data: D, f: F, priority: Priority) -> StoreResult<T>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Box<dyn QueuedWrite> = Box::new(Pending {
            data,
            f,
            priority,
            queued_at: Instant::now(),
            result: None,
            answer,
        });
        match tokio::time::timeout(self.inner.acquire_timeout, self.inner.writes.send(job)).await {
            Err(_) => {
                return Err(StoreError::Unavailable(
                    "timed out waiting for room in the write queue".into(),
                ))
            }
            Ok(Err(_)) => return Err(StoreError::Unavailable("store is closed".into())),
            Ok(Ok(())) => {}
        }
        answered.await.map_err(|_| panicked())?
    }
}

/// Whose write it is: a request waits for it (a post, a follow), or a
/// background worker does (a fan-out batch), which can wait longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Priority {
    Request,
    Background,
}

/// A write waiting for the writer thread, its type erased so that writes of
/// every result type share one queue.
pub(super) trait QueuedWrite: Send {
    /// Runs the write on the writer (inside its savepoint); true if it succeeded.
    fn run(&mut self, c: &SqliteConn<'_>) -> bool;
    /// Answers the caller once the fate of its transaction is known.
    fn answer(self: Box<Self>, committed: &StoreResult<()>);
    fn priority(&self) -> Priority;
    /// When it was queued: a gathering transaction waits for company only
    /// until its oldest write has waited the gather time (see [`writer_loop`]).
    fn queued_at(&self) -> Instant;
}

struct Pending<D, T, F> {
    data: D,
    f: F,
    priority: Priority,
    queued_at: Instant,
    result: Option<StoreResult<T>>,
    answer: tokio::sync::oneshot::Sender<StoreResult<T>>,
}

impl<D, T, F> QueuedWrite for Pending<D, T, F>
where
    D: Send + Sync + 'static,
    T: Send + 'static,
    F: for<'a> Fn(&'a dyn Conn, &'a D) -> BoxFut<'a, T> + Send + Sync + 'static,
{
    fn run(&mut self, c: &SqliteConn<'_>) -> bool {
        let (f, data) = (&self.f, &self.data);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_now(f(c, data))))
            .unwrap_or_else(|_| Err(panicked()));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, committed: &StoreResult<()>) {
        let result = match (self.result, committed) {
            // Its own failure was rolled back to its savepoint: that is its answer.
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)) | None, Err(e)) => Err(e.clone()),
            (None, Ok(())) => Err(StoreError::Internal("a queued write was not run".into())),
        };
        // The caller may have gone (timed out); its write stands all the same.
        let _ = self.answer.send(result);
    }

    fn priority(&self) -> Priority {
        self.priority
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }
}

/// The writer thread: takes the queued writes (up to `group_max` at a time,
/// as many as are waiting), runs them in one IMMEDIATE transaction, each in
/// its own savepoint so that one failing does not undo the others, commits
/// once (one fsync for all), then answers each. Under load the queue fills
/// while a commit syncs, so the batch grows with the load; alone, a write
/// commits at once as before.
///
/// Requests' writes come first: background writes (fan-out batches) are set
/// aside as they are taken from the queue, and one of them joins a
/// transaction, after the requests' writes, only when those did not fill it
/// (or it has waited `background_wait_max` already, so a steady stream of
/// posts cannot starve the fan-out for good; the backlog has a bound of its
/// own, `home_fanout_backlog_age_max_ms`). At most one is set aside per
/// background worker, since each waits for its answer before queuing more.
///
/// With `gather` (`sqlite_group_commit_gather_us`), a transaction that is
/// not full waits for more writes while a queue is building (the one before
/// held more than one write), but only until its oldest write has been
/// queued `gather` in all: fewer, fuller commits (each costs the same
/// whatever it holds), and no write waits more than `gather` for company.
/// Writes that already waited that long behind a busy writer (a high rate,
/// or a machine short of CPU) commit at once: the wait adapts to the load
/// instead of adding to it (a fixed wait after every commit did: session
/// 10, 3,600 posts/s, p50 786 ms against 22 ms).
///
/// Between transactions, when the checkpoint thread asks (`wal_restart`),
/// the writer checkpoints what was committed since that thread's last pass,
/// so that its next transaction starts the WAL over (see [`checkpoint_loop`]).
pub(super) fn writer_loop(
    conn: Mutex<Connection>,
    mut writes: tokio::sync::mpsc::Receiver<Box<dyn QueuedWrite>>,
    group_max: usize,
    background_wait_max: Duration,
    gather: Duration,
    wal_restart: Arc<AtomicBool>,
    mut search: SearchFeed,
) {
    let c = SqliteConn { conn: &conn };
    let group_max = group_max.max(1);
    let mut background: SetAside = VecDeque::new();
    let mut batch: Vec<Box<dyn QueuedWrite>> = Vec::with_capacity(group_max + 1);
    let mut had_company = false;
    loop {
        // Block for work only when nothing is set aside.
        if background.is_empty() {
            match writes.blocking_recv() {
                Some(job) => take(job, &mut batch, &mut background),
                None => return,
            }
        }
        take_waiting(&mut writes, &mut batch, &mut background, group_max);
        if had_company && !gather.is_zero() && batch.len() < group_max {
            gather_company(&mut writes, &mut batch, &mut background, group_max, gather);
        }
        had_company = batch.len() > 1;
        let waited_long = background
            .front()
            .is_some_and(|(since, _)| since.elapsed() >= background_wait_max);
        if batch.len() < group_max || waited_long {
            if let Some((_, job)) = background.pop_front() {
                batch.push(job);
            }
        }
        if batch.is_empty() {
            continue;
        }
        let committed = run_batch(&c, &mut batch, &mut search);
        for job in batch.drain(..) {
            job.answer(&committed);
        }
        if wal_restart.swap(false, Ordering::AcqRel) {
            if let Err(e) = checkpoint(&lock(&conn)) {
                tracing::warn!(error = %e, "WAL checkpoint on the writer failed");
            }
        }
    }
}

/// What the checkpoint thread needs: the store (it stops when the store is
/// dropped), how often it runs, and when it asks the writer to start the WAL over.
pub(super) struct Checkpoints {
    pub open: std::sync::Weak<super::Inner>,
    pub every: Duration,
    /// `sqlite_wal_restart_pages`.
    pub restart_pages: i64,
    pub wal_restart: Arc<AtomicBool>,
    /// The database file, synced by this thread (see [`checkpoint_loop`]).
    pub db_file: std::fs::File,
}

/// A PASSIVE checkpoint (it copies what it can without waiting for anyone):
/// the WAL's frames, and how many of them are in the database file now.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}

/// The checkpoint thread: every `every`, a PASSIVE checkpoint (it copies
/// what it can without waiting for the writer or blocking readers) on its
/// own connection, until the store is dropped.
///
/// The WAL starts over from its beginning only when a write transaction
/// begins with every frame already copied, which a writer committing without
/// pause never finds: the WAL grew until the writer checkpointed itself at
/// `sqlite_writer_checkpoint_pages` frames, copying up to a whole interval's
/// frames and syncing the database file with posts waiting (12–21 ms, about
/// once a second at 3,000 posts/s: bench/perf, session 11). So once the WAL
/// holds `restart_pages` frames this thread copies them and syncs the
/// database file itself (SQLite syncs it only in a checkpoint that reaches
/// the WAL's end, which under constant writes is the writer's), copies
/// again what came meanwhile, and asks the writer to copy the rest between
/// two transactions: a short stall (a few pages copied and synced), and
/// the next transaction starts the WAL over.
pub(super) fn checkpoint_loop(conn: Connection, ck: Checkpoints) {
    loop {
        std::thread::sleep(ck.every);
        if ck.open.upgrade().is_none() {
            return;
        }
        let mut passes = 0;
        loop {
            passes += 1;
            match checkpoint(&conn) {
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
                    break;
                }
                Ok((frames, _)) if frames < ck.restart_pages || ck.restart_pages <= 0 => break,
                // Copied up to where the WAL was: synced, once more for what
                // came meanwhile, then the writer does the last few.
                Ok(_) if passes < 2 => {
                    if let Err(e) = ck.db_file.sync_data() {
                        tracing::warn!(error = %e, "syncing the database file failed");
                    }
                }
                Ok(_) => {
                    ck.wal_restart.store(true, Ordering::Release);
                    break;
                }
            }
        }
    }
}

type SetAside = VecDeque<(Instant, Box<dyn QueuedWrite>)>;

/// Waits for more writes to join `batch` until its oldest write has been
/// queued `gather`, then takes what came (until the batch is full).
fn gather_company(
    writes: &mut tokio::sync::mpsc::Receiver<Box<dyn QueuedWrite>>,
    batch: &mut Vec<Box<dyn QueuedWrite>>,
    set_aside: &mut SetAside,
    group_max: usize,
    gather: Duration,
) {
    // Requests' writes are taken in the order they were queued.
    let Some(oldest) = batch.first().map(|job| job.queued_at()) else {
        return;
    };
    let waited = oldest.elapsed();
    if waited < gather {
        std::thread::sleep(gather - waited);
        take_waiting(writes, batch, set_aside, group_max);
    }
}

/// Takes what is queued now, until the batch is full.
fn take_waiting(
    writes: &mut tokio::sync::mpsc::Receiver<Box<dyn QueuedWrite>>,
    batch: &mut Vec<Box<dyn QueuedWrite>>,
    set_aside: &mut SetAside,
    group_max: usize,
) {
    while batch.len() < group_max {
        match writes.try_recv() {
            Ok(job) => take(job, batch, set_aside),
            Err(_) => break,
        }
    }
}

/// A queued write joins the batch, or is set aside if it is a background one.
fn take(
    job: Box<dyn QueuedWrite>,
    batch: &mut Vec<Box<dyn QueuedWrite>>,
    set_aside: &mut SetAside,
) {
    match job.priority() {
        Priority::Request => batch.push(job),
        Priority::Background => set_aside.push_back((Instant::now(), job)),
    }
}

fn run_batch(
    c: &SqliteConn<'_>,
    batch: &mut [Box<dyn QueuedWrite>],
    search: &mut SearchFeed,
) -> StoreResult<()> {
    c.control("BEGIN IMMEDIATE")?;
    let result = (|| {
        // First without savepoints (a savepoint costs two statements and a
        // copy of every page its write changes into the savepoint's
        // journal: 6.5 % of the writer at 4,200 posts/s, bench/perf session
        // 13). Nearly every write succeeds; `all` stops at the first that
        // does not, and then nothing of the transaction stands.
        if !batch.iter_mut().all(|job| job.run(c)) {
            c.control("ROLLBACK")?;
            if batch.len() == 1 {
                // Alone, its failure is its answer; nothing was written.
                return Ok(());
            }
            // One failed among others: run them all again, each in its own
            // savepoint, so that only the failing one is undone (every
            // write may be run more than once: see `Db`). A failing write
            // costs its transaction a second run, no more.
            c.control("BEGIN IMMEDIATE")?;
            for job in batch.iter_mut() {
                c.control("SAVEPOINT queued_write")?;
                if !job.run(c) {
                    c.control("ROLLBACK TO queued_write")?;
                }
                c.control("RELEASE queued_write")?;
            }
        }
        let still_queued = search.index_if_due(c, batch.len())?;
        c.control("COMMIT")?;
        // Before any write of this batch is answered (the caller returns),
        // so a search that starts after an answer knows to move them.
        search.committed(still_queued, batch.len());
        Ok(())
    })();
    if result.is_err() {
        // An error that ended the transaction itself (I/O, disk full):
        // nothing of the batch stands, and every write in it hears so.
        let _ = c.control("ROLLBACK");
    }
    result
}

/// Moves every queued search entry (migration 0028) into the FTS5 index,
/// in the transaction `conn` holds. On the writer only.
fn index_queued_search_entries(conn: &Connection) -> rusqlite::Result<()> {
    conn.prepare_cached(INDEX_QUEUED_SEARCH)?.raw_execute()?;
    conn.prepare_cached(EMPTY_SEARCH_QUEUE)?.raw_execute()?;
    Ok(())
}

const INDEX_QUEUED_SEARCH: &str =
    "INSERT INTO status_search (rowid, body) SELECT status_id, body FROM status_search_queue";
const EMPTY_SEARCH_QUEUE: &str = "DELETE FROM status_search_queue";

/// How the writer feeds the search index (`sqlite_search_index_batch_writes`,
/// `sqlite_search_index_wait_max_ms`). A write queues its search entry
/// (migration 0028); the writer moves the queue into the FTS5 index not at
/// every commit but once `batch_writes` writes have committed since the
/// queue was last empty, or once it has stood `wait_max`. FTS5 writes one
/// segment per move and its automerge work is in proportion to the leaf
/// pages written, so a post alone in its commit cost about 11 WAL frames of
/// index (bench/perf, session 13) while hundreds of posts share a few
/// pages. Queued entries are committed with their posts (durable) and go
/// with a deleted status (cascade); a search first has them moved
/// (`Db::index_queued_search`, through `pending`), so nothing acknowledged
/// is missing from it.
pub(super) struct SearchFeed {
    batch_writes: usize,
    wait_max: Duration,
    /// When the queue was first left non-empty by a commit, and how many
    /// writes committed since (each queues at most a status' entry or two).
    queued_since: Option<Instant>,
    writes_since: usize,
    /// True while committed entries may be queued: set before the writes
    /// that queued them are answered, cleared after a commit that left the
    /// queue empty. Starts true (the queue may hold entries from before).
    pending: Arc<AtomicBool>,
}

impl SearchFeed {
    pub(super) fn new(batch_writes: usize, wait_max: Duration, pending: Arc<AtomicBool>) -> Self {
        pending.store(true, Ordering::Release);
        SearchFeed {
            batch_writes,
            wait_max,
            queued_since: None,
            writes_since: 0,
            pending,
        }
    }

    /// Before the commit of a transaction of `writes` writes: moves the
    /// queue into the index if it is due; true if entries stay queued.
    fn index_if_due(&self, c: &SqliteConn<'_>, writes: usize) -> StoreResult<bool> {
        let conn = lock(c.conn);
        let queued: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM status_search_queue)")?
            .query_row([], |r| r.get(0))?;
        if !queued {
            return Ok(false);
        }
        let due = self.writes_since + writes >= self.batch_writes
            || self
                .queued_since
                .is_some_and(|t| t.elapsed() >= self.wait_max);
        if due {
            index_queued_search_entries(&conn)?;
        }
        Ok(!due)
    }

    /// After a commit: what stays queued, and since when.
    fn committed(&mut self, still_queued: bool, writes: usize) {
        if still_queued {
            self.queued_since.get_or_insert_with(Instant::now);
            self.writes_since += writes;
            self.pending.store(true, Ordering::Release);
        } else {
            self.queued_since = None;
            self.writes_since = 0;
            self.pending.store(false, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use crate::core::Db;

    #[test]
    fn json_strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(super::json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    /// Reads on a runtime with `workers` worker threads; how many threads
    /// the runtime started for them.
    fn threads_started_by_reads(workers: usize) -> usize {
        let started = Arc::new(AtomicUsize::new(0));
        let runtime = {
            let started = started.clone();
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .enable_all()
                .on_thread_start(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap()
        };
        let dir = std::env::temp_dir().join(format!(
            "holdfast-read-threads-{}-{workers}",
            std::process::id()
        ));
        let db =
            Arc::new(super::SqliteDb::open(&dir, &holdfast_config::Limits::default()).unwrap());
        // Every worker is up (each ran a task) before counting.
        runtime.block_on(async {
            let tasks: Vec<_> = (0..workers * 4)
                .map(|_| {
                    tokio::spawn(async { std::thread::sleep(std::time::Duration::from_millis(20)) })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        let before = started.load(Ordering::SeqCst);
        for _ in 0..3 {
            let db = db.clone();
            let rows = runtime
                .block_on(runtime.spawn(async move {
                    db.read((), |c, _| Box::pin(c.query("SELECT 1", &[]))).await
                }))
                .unwrap()
                .unwrap();
            assert_eq!(rows.len(), 1);
        }
        let after = started.load(Ordering::SeqCst);
        drop(runtime);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
        after - before
    }

    /// Posts made, deleted and edited inside one transaction: the search
    /// index gets, at its end, exactly the entries that stand (migration 0028).
    #[test]
    fn search_entries_queued_in_a_transaction_are_indexed_as_they_stand() {
        use crate::core::{edits, statuses};
        use crate::model::{NewAccount, NewStatus, StatusEdit};
        use crate::Store;
        let dir =
            std::env::temp_dir().join(format!("holdfast-search-queue-{}", std::process::id()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store =
            super::super::SqliteStore::open(&dir, &holdfast_config::Limits::default()).unwrap();
        runtime.block_on(async {
            let author = store
                .create_account(NewAccount {
                    username: "indexed".into(),
                    email: "indexed@example.invalid".into(),
                    password_hash: "h".into(),
                    approved: true,
                    locale: None,
                })
                .await
                .unwrap()
                .id;
            let status = |text: &str| NewStatus::plain(author, text);
            let new = [
                status("kept apple"),
                status("gone apple"),
                status("edited apple"),
            ];
            let (kept, edited) = store
                .db
                .write(new, move |c, new| {
                    Box::pin(async move {
                        let kept = statuses::create(c, &new[0], 3600).await?;
                        let gone = statuses::create(c, &new[1], 3600).await?;
                        statuses::delete(c, author, gone).await?;
                        let edited = statuses::create(c, &new[2], 3600).await?;
                        let edit = StatusEdit {
                            text: "edited pear".into(),
                            content: "<p>edited pear</p>".into(),
                            spoiler_text: String::new(),
                            sensitive: false,
                            language: None,
                            mentions: vec![],
                            tags: vec![],
                            media_ids: vec![],
                            media_attributes: vec![],
                            poll: None,
                        };
                        edits::edit(c, author, edited, &edit, 16).await?;
                        Ok((kept, edited))
                    })
                })
                .await
                .unwrap();
            // What is queued moves at a later commit (`SearchFeed`), or now.
            store.db.index_queued_search().await.unwrap();
            assert_eq!(indexed(&store, "apple").await, vec![kept]);
            assert_eq!(indexed(&store, "pear").await, vec![edited]);
            assert_eq!(
                store.search_statuses(None, "pear", 10, 0).await.unwrap(),
                vec![edited]
            );
        });
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The search index itself, not a search (which joins live statuses):
    /// the rowids matching `word`.
    async fn indexed(store: &super::super::SqliteStore, word: &'static str) -> Vec<i64> {
        store
            .db
            .read(word, |c, word| {
                Box::pin(async move {
                    let rows = c
                        .query(
                            "SELECT rowid FROM status_search WHERE status_search MATCH ?1 ORDER BY rowid",
                            &[crate::core::Arg::Text(word)],
                        )
                        .await?;
                    rows.iter().map(|r| r.get::<i64>(0)).collect::<crate::StoreResult<Vec<i64>>>()
                })
            })
            .await
            .unwrap()
    }

    /// The index is fed in batches after the commits (`SearchFeed`): a
    /// post's entry waits, committed, until `sqlite_search_index_batch_writes`
    /// writes have committed, while a search moves what waits first and so
    /// finds every acknowledged post; an entry deleted while it waits never
    /// reaches the index.
    #[test]
    fn search_entries_wait_for_a_batch_and_a_search_moves_them_first() {
        use crate::core::statuses;
        use crate::model::{NewAccount, NewStatus};
        use crate::Store;
        let dir = std::env::temp_dir().join(format!("holdfast-search-feed-{}", std::process::id()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let limits = holdfast_config::Limits {
            sqlite_search_index_batch_writes: 4,
            sqlite_search_index_wait_max_ms: 3_600_000,
            ..holdfast_config::Limits::default()
        };
        let store = super::super::SqliteStore::open(&dir, &limits).unwrap();
        runtime.block_on(async {
            let author = store
                .create_account(NewAccount {
                    username: "fed".into(),
                    email: "fed@example.invalid".into(),
                    password_hash: "h".into(),
                    approved: true,
                    locale: None,
                })
                .await
                .unwrap()
                .id;
            // One post per transaction, as requests commit when alone.
            let post = |text: &'static str| {
                store.db.write(NewStatus::plain(author, text), |c, new| {
                    Box::pin(statuses::create(c, new, 3600))
                })
            };
            let store = &store;
            let index_and_queue = |word: &'static str| async move {
                let queued = store
                    .db
                    .read((), |c, _| {
                        Box::pin(async move {
                            let rows = c
                                .query(
                                    "SELECT status_id FROM status_search_queue ORDER BY status_id",
                                    &[],
                                )
                                .await?;
                            rows.iter()
                                .map(|r| r.get::<i64>(0))
                                .collect::<crate::StoreResult<Vec<i64>>>()
                        })
                    })
                    .await?;
                crate::StoreResult::Ok((indexed(store, word).await, queued))
            };
            let one = post("plum one").await.unwrap();
            let two = post("plum two").await.unwrap();
            let three = post("plum three").await.unwrap();
            // Acknowledged, committed, and waiting: not in the index yet.
            assert_eq!(
                index_and_queue("plum").await.unwrap(),
                (vec![], vec![one, two, three])
            );
            // The fourth write's commit moves all four.
            let four = post("plum four").await.unwrap();
            let moved = vec![one, two, three, four];
            assert_eq!(
                index_and_queue("plum").await.unwrap(),
                (moved.clone(), vec![])
            );
            // One waiting, one deleted while it waited (three writes): a
            // search finds the first (moved before the search reads) and
            // never the second.
            let five = post("plum five").await.unwrap();
            let gone = post("plum gone").await.unwrap();
            store
                .db
                .write((), move |c, _| Box::pin(statuses::delete(c, author, gone)))
                .await
                .unwrap();
            assert_eq!(
                index_and_queue("plum").await.unwrap(),
                (moved.clone(), vec![five])
            );
            assert_eq!(
                store.search_statuses(None, "plum", 10, 0).await.unwrap(),
                vec![five, four, three, two, one]
            );
            assert_eq!(
                index_and_queue("plum").await.unwrap(),
                (vec![one, two, three, four, five], vec![])
            );
            // Nothing waits now; the deleted post is found by no search.
            assert_eq!(
                store.search_statuses(None, "gone", 10, 0).await.unwrap(),
                Vec::<i64>::new()
            );
        });
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A write of raw SQL, counting its runs (for `run_batch`).
    struct SqlWrite {
        sql: &'static str,
        runs: Arc<AtomicUsize>,
    }

    impl super::QueuedWrite for SqlWrite {
        fn run(&mut self, c: &super::SqliteConn<'_>) -> bool {
            self.runs.fetch_add(1, Ordering::SeqCst);
            super::lock(c.conn).execute_batch(self.sql).is_ok()
        }
        fn answer(self: Box<Self>, _: &crate::StoreResult<()>) {}
        fn priority(&self) -> super::Priority {
            super::Priority::Request
        }
        fn queued_at(&self) -> std::time::Instant {
            std::time::Instant::now()
        }
    }

    /// A transaction's writes run without savepoints; when one fails, the
    /// whole transaction is run again with a savepoint each, so the others
    /// stand and the failing one leaves nothing, not even what it wrote
    /// before its failing statement.
    #[test]
    fn a_failing_write_alone_is_undone_and_the_others_of_its_transaction_stand() {
        let dir = std::env::temp_dir().join(format!("holdfast-batch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        super::super::pcache::install();
        let conn = rusqlite::Connection::open(dir.join("t.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x INTEGER PRIMARY KEY); \
             CREATE TABLE status_search_queue (status_id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        )
        .unwrap();
        let conn = std::sync::Mutex::new(conn);
        let c = super::SqliteConn { conn: &conn };
        let mut search = super::SearchFeed::new(
            0,
            std::time::Duration::ZERO,
            Arc::new(std::sync::atomic::AtomicBool::new(false)),
        );
        let rows = || -> Vec<i64> {
            let conn = super::lock(&conn);
            let mut st = conn.prepare("SELECT x FROM t ORDER BY x").unwrap();
            let rows = st.query_map([], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        let runs: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let job = |sql, i: usize| -> Box<dyn super::QueuedWrite> {
            Box::new(SqlWrite {
                sql,
                runs: runs[i].clone(),
            })
        };
        // All succeed: one run each, all committed.
        let mut batch = vec![
            job("INSERT INTO t VALUES (1)", 0),
            job("INSERT INTO t VALUES (2)", 1),
        ];
        super::run_batch(&c, &mut batch, &mut search).unwrap();
        assert_eq!(rows(), vec![1, 2]);
        assert_eq!(
            runs.iter()
                .map(|r| r.load(Ordering::SeqCst))
                .collect::<Vec<_>>(),
            [1, 1, 0]
        );
        // The second writes 4, then fails (2 is there): the first and third stand.
        let mut batch = vec![
            job("INSERT INTO t VALUES (3)", 0),
            job("INSERT INTO t VALUES (4); INSERT INTO t VALUES (2)", 1),
            job("INSERT INTO t VALUES (5)", 2),
        ];
        super::run_batch(&c, &mut batch, &mut search).unwrap();
        assert_eq!(rows(), vec![1, 2, 3, 5]);
        // The first two ran twice, the third once (the first pass stopped at the failure).
        assert_eq!(
            runs.iter()
                .map(|r| r.load(Ordering::SeqCst))
                .collect::<Vec<_>>(),
            [3, 3, 1]
        );
        // Alone, a failing write is undone whole.
        let mut batch = vec![job("INSERT INTO t VALUES (6); INSERT INTO t VALUES (1)", 2)];
        super::run_batch(&c, &mut batch, &mut search).unwrap();
        assert_eq!(rows(), vec![1, 2, 3, 5]);
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A write standing in for a queued one: only its queuing time matters.
    struct Queued(std::time::Instant);

    impl super::QueuedWrite for Queued {
        fn run(&mut self, _: &super::SqliteConn<'_>) -> bool {
            true
        }
        fn answer(self: Box<Self>, _: &crate::StoreResult<()>) {}
        fn priority(&self) -> super::Priority {
            super::Priority::Request
        }
        fn queued_at(&self) -> std::time::Instant {
            self.0
        }
    }

    /// A transaction gathers company only until its oldest write has been
    /// queued the gather time: a write that already waited that long behind
    /// a busy writer is not held back further.
    #[test]
    fn a_write_waits_for_company_only_until_it_has_waited_the_gather_time() {
        use std::time::{Duration, Instant};
        let (send, mut writes) = tokio::sync::mpsc::channel::<Box<dyn super::QueuedWrite>>(8);
        let mut set_aside = super::SetAside::new();
        let gather = |batch: &mut Vec<Box<dyn super::QueuedWrite>>,
                      writes: &mut tokio::sync::mpsc::Receiver<Box<dyn super::QueuedWrite>>,
                      set_aside: &mut super::SetAside,
                      wait: Duration| {
            let started = Instant::now();
            super::gather_company(writes, batch, set_aside, 64, wait);
            started.elapsed()
        };

        // Queued 2 s ago, gathering 1 s: commits at once.
        let old = Instant::now() - Duration::from_secs(2);
        let mut batch: Vec<Box<dyn super::QueuedWrite>> = vec![Box::new(Queued(old))];
        let waited = gather(
            &mut batch,
            &mut writes,
            &mut set_aside,
            Duration::from_secs(1),
        );
        assert!(waited < Duration::from_millis(500), "waited {waited:?}");

        // Queued now, gathering 80 ms: waits, and takes what came meanwhile.
        let mut batch: Vec<Box<dyn super::QueuedWrite>> = vec![Box::new(Queued(Instant::now()))];
        send.try_send(Box::new(Queued(Instant::now()))).unwrap();
        let waited = gather(
            &mut batch,
            &mut writes,
            &mut set_aside,
            Duration::from_millis(80),
        );
        assert!(waited >= Duration::from_millis(60), "waited {waited:?}");
        assert_eq!(batch.len(), 2);
    }

    /// The WAL's frames after `writers` tasks each made `each` one-page
    /// writes without pause, with the writer's own checkpoint out of reach
    /// and the checkpoint thread asking for a restart past `restart_pages`.
    fn wal_frames_after_writes(restart_pages: u32, writers: usize, each: usize) -> i64 {
        let dir = std::env::temp_dir().join(format!(
            "holdfast-wal-restart-{}-{restart_pages}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let limits = holdfast_config::Limits {
            sqlite_checkpoint_interval_ms: 2,
            sqlite_wal_restart_pages: restart_pages,
            sqlite_writer_checkpoint_pages: 1_000_000,
            sqlite_wal_warm_bytes_max: 0,
            ..holdfast_config::Limits::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let db = Arc::new(super::SqliteDb::open(&dir, &limits).unwrap());
        runtime.block_on(async {
            db.write((), |c, _| {
                Box::pin(c.execute("CREATE TABLE filler (body BLOB NOT NULL)", &[]))
            })
            .await
            .unwrap();
            let tasks: Vec<_> = (0..writers)
                .map(|_| {
                    let db = db.clone();
                    tokio::spawn(async move {
                        for _ in 0..each {
                            db.write((), |c, _| {
                                Box::pin(
                                    c.execute("INSERT INTO filler VALUES (randomblob(3000))", &[]),
                                )
                            })
                            .await
                            .unwrap();
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // The WAL's length as the last writes left it, read while the store
        // is open (closing it checkpoints and removes the WAL).
        // (Busy while the checkpoint thread is at it: asked again.)
        let c = rusqlite::Connection::open(dir.join("holdfast.db")).unwrap();
        let frames = (0..1_000)
            .find_map(|_| {
                let (busy, frames): (bool, i64) = c
                    .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .unwrap();
                if busy {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                (!busy).then_some(frames)
            })
            .expect("a checkpoint that is not busy");
        drop(c);
        drop(runtime);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
        frames
    }

    /// Writes that never pause still let the WAL start over (session 11):
    /// without the checkpoint thread's ask it grows with every write.
    #[test]
    fn the_wal_starts_over_under_writes_that_never_pause() {
        // Without the ask (0), the same writes left 1,056 and 1,090 frames.
        let restarted = wal_frames_after_writes(40, 8, 100);
        assert!(restarted < 400, "{restarted} frames in the WAL");
    }

    #[test]
    fn a_read_on_a_single_worker_starts_no_thread() {
        // Few cores: the read runs on the worker, no thread to take its turns.
        let in_place_max = holdfast_config::Limits::default().sqlite_read_in_place_workers_max;
        assert_eq!(threads_started_by_reads(1), 0);
        assert_eq!(threads_started_by_reads(in_place_max), 0);
        // More: the worker's other tasks move to a thread meanwhile.
        assert!(threads_started_by_reads(in_place_max + 1) >= 1);
    }
}
