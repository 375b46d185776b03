//! The streaming event feed across nodes, on PostgreSQL alone (no second
//! stateful system): each event is a row of `stream_events`, and
//! `NOTIFY holdfast_events` wakes the other nodes, which read every row past
//! their cursor. A missed notification (a failover, a reconnect) is caught up
//! by the next read, or by the periodic one; a cursor plus a small window of
//! seen ids means nothing is delivered twice.
//!
//! Two connections of its own per node, outside the request pool: one that
//! publishes (fed by a bounded queue, so a request never waits on it), one
//! that listens. Both reconnect with backoff; `is_live` says whether the
//! listener is connected and caught up.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use holdfast_config::Limits;
use tokio::sync::{mpsc, Notify};
use tokio_postgres::{AsyncMessage, Client};

use crate::feed::{EventFeed, FeedStats};
use crate::StoreResult;

const CHANNEL: &str = "holdfast_events";

struct Shared {
    /// One config per database host: connections try them all at once.
    hosts: Vec<tokio_postgres::Config>,
    origin: String,
    live: AtomicBool,
    stats: FeedStats,
    connect_timeout: Duration,
    operation_timeout: Duration,
    poll: Duration,
    retention_ms: i64,
    backoff_max: Duration,
    /// Rows read per catch-up query (`streaming_feed_read_batch_max`).
    read_batch: i64,
    /// Ids below the cursor read again (`streaming_feed_gap_window_ids`);
    /// those already seen are skipped.
    gap_window: i64,
    /// Attempts to write one event before it is dropped.
    publish_attempts: u32,
}

pub struct PgFeed {
    shared: Arc<Shared>,
    outgoing: mpsc::Sender<String>,
    incoming: Mutex<Option<mpsc::Receiver<String>>>,
}

impl PgFeed {
    /// Starts the publisher and the listener (they connect in the background).
    pub fn start(url: &str, limits: &Limits) -> StoreResult<PgFeed> {
        let config = super::connection_config(url, limits)?;
        let mut id = [0u8; 8];
        getrandom::getrandom(&mut id)
            .map_err(|e| crate::StoreError::Internal(format!("no randomness: {e}")))?;
        let origin: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let shared = Arc::new(Shared {
            hosts: super::pool::per_host(&config),
            origin,
            live: AtomicBool::new(false),
            stats: FeedStats::default(),
            connect_timeout: Duration::from_millis(limits.pg_connect_timeout_ms),
            operation_timeout: Duration::from_millis(limits.pg_operation_timeout_ms),
            poll: Duration::from_millis(limits.streaming_feed_poll_ms.max(1)),
            retention_ms: (limits.streaming_feed_retention_s * 1000) as i64,
            backoff_max: Duration::from_millis(limits.streaming_feed_reconnect_max_ms.max(1)),
            read_batch: i64::from(limits.streaming_feed_read_batch_max.max(1)),
            gap_window: i64::from(limits.streaming_feed_gap_window_ids),
            publish_attempts: limits.streaming_feed_publish_attempts_max.max(1),
        });
        let (outgoing, to_publish) = mpsc::channel(limits.streaming_feed_queue_max.max(1));
        let (deliver, incoming) = mpsc::channel(limits.streaming_feed_queue_max.max(1));
        tokio::spawn(publisher(shared.clone(), to_publish));
        tokio::spawn(listener(shared.clone(), deliver));
        Ok(PgFeed {
            shared,
            outgoing,
            incoming: Mutex::new(Some(incoming)),
        })
    }
}

impl EventFeed for PgFeed {
    fn publish(&self, payload: String) -> bool {
        if self.outgoing.try_send(payload).is_ok() {
            true
        } else {
            self.shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    fn take_incoming(&self) -> Option<mpsc::Receiver<String>> {
        self.incoming
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    fn is_live(&self) -> bool {
        self.shared.live.load(Ordering::Acquire)
    }

    fn stats(&self) -> &FeedStats {
        &self.shared.stats
    }
}

/// A connection and the task driving it; `wake` fires on every notification,
/// and `ended` once the connection is gone.
struct Connection {
    client: Client,
    wake: Arc<Notify>,
    driver: tokio::task::JoinHandle<()>,
}

async fn connect(shared: &Shared) -> Option<Connection> {
    // Every host at once, first read-write answer wins (as the pools do):
    // after a failover the feed is back as soon as the new primary answers,
    // not after the dead or silent hosts listed before it time out.
    let (client, mut connection) =
        match super::pool::connect_first(&shared.hosts, shared.connect_timeout).await {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "event feed: cannot connect");
                return None;
            }
        };
    let wake = Arc::new(Notify::new());
    let notify = wake.clone();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(_))) => notify.notify_one(),
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "event feed: connection lost");
                    break;
                }
                None => break,
            }
        }
        notify.notify_one();
    });
    shared.stats.connects.fetch_add(1, Ordering::Relaxed);
    Some(Connection {
        client,
        wake,
        driver,
    })
}

fn backoff(attempt: u32, max: Duration) -> Duration {
    // Doubling from a tenth of a second; past 2^63 it is capped by `max` anyway.
    let ms = 100u64.saturating_mul(1u64.checked_shl(attempt).unwrap_or(u64::MAX));
    Duration::from_millis(ms).min(max)
}

async fn publisher(shared: Arc<Shared>, mut queue: mpsc::Receiver<String>) {
    let mut conn: Option<Connection> = None;
    let mut failures = 0u32;
    while let Some(payload) = queue.recv().await {
        let mut attempts = 0;
        loop {
            attempts += 1;
            if conn.as_ref().is_none_or(|c| c.client.is_closed()) {
                conn = connect(&shared).await;
            }
            if let Some(c) = &conn {
                let sent = tokio::time::timeout(
                    shared.operation_timeout,
                    c.client.execute(
                        "WITH e AS (INSERT INTO stream_events (origin, payload, created_at) \
                         VALUES ($1, $2, $3) RETURNING id) \
                         SELECT pg_notify('holdfast_events', id::text) FROM e",
                        &[&shared.origin, &payload, &crate::ids::now_ms()],
                    ),
                )
                .await;
                match sent {
                    Ok(Ok(_)) => {
                        shared.stats.published.fetch_add(1, Ordering::Relaxed);
                        failures = 0;
                        break;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "event feed: publish failed");
                        conn = None;
                    }
                    Err(_) => conn = None,
                }
            }
            failures += 1;
            if attempts >= shared.publish_attempts {
                shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
                break;
            }
            tokio::time::sleep(backoff(failures, shared.backoff_max)).await;
        }
    }
}

async fn listener(shared: Arc<Shared>, deliver: mpsc::Sender<String>) {
    let mut cursor: Option<i64> = None;
    let mut seen: HashSet<i64> = HashSet::new();
    let mut seen_order: VecDeque<i64> = VecDeque::new();
    let mut failures = 0u32;
    let mut last_prune = tokio::time::Instant::now();
    loop {
        if deliver.is_closed() {
            return;
        }
        let Some(conn) = connect(&shared).await else {
            failures += 1;
            tokio::time::sleep(backoff(failures, shared.backoff_max)).await;
            continue;
        };
        let listening = tokio::time::timeout(
            shared.operation_timeout,
            conn.client.batch_execute(&format!("LISTEN {CHANNEL}")),
        )
        .await;
        if !matches!(listening, Ok(Ok(()))) {
            conn.driver.abort();
            failures += 1;
            tokio::time::sleep(backoff(failures, shared.backoff_max)).await;
            continue;
        }
        if cursor.is_none() {
            // A new node starts at the end: what happened before it is history.
            let start = tokio::time::timeout(
                shared.operation_timeout,
                conn.client
                    .query_one("SELECT COALESCE(MAX(id), 0) FROM stream_events", &[]),
            )
            .await;
            match start {
                Ok(Ok(row)) => cursor = Some(row.get(0)),
                _ => {
                    conn.driver.abort();
                    failures += 1;
                    tokio::time::sleep(backoff(failures, shared.backoff_max)).await;
                    continue;
                }
            }
        }
        failures = 0;
        let mut first = true;
        loop {
            let from = cursor.unwrap_or(0).saturating_sub(shared.gap_window);
            // The rows of the gap window already seen are left out, and this
            // node's own events come without their payload (never delivered
            // here): each post's event used to bring back the whole window,
            // payloads and all (bench/perf, session 10 pg: 0.2 ms of
            // PostgreSQL per post). At most `gap_window` ids: `seen` keeps
            // only the ids above the window's floor.
            let already: Vec<i64> = seen_order.iter().copied().filter(|&id| id > from).collect();
            let rows = tokio::time::timeout(
                shared.operation_timeout,
                conn.client.query(
                    "SELECT id, origin, CASE WHEN origin = $4 THEN '' ELSE payload END FROM stream_events \
                     WHERE id > $1 AND id <> ALL($3) ORDER BY id LIMIT $2",
                    &[&from, &shared.read_batch, &already, &shared.origin],
                ),
            )
            .await;
            let rows = match rows {
                Ok(Ok(rows)) => rows,
                _ => break,
            };
            let full = rows.len() as i64 == shared.read_batch;
            for row in rows {
                let id: i64 = row.get(0);
                if !seen.insert(id) {
                    continue;
                }
                seen_order.push_back(id);
                cursor = Some(cursor.unwrap_or(0).max(id));
                let origin: String = row.get(1);
                if origin != shared.origin {
                    shared.stats.received.fetch_add(1, Ordering::Relaxed);
                    if deliver.send(row.get(2)).await.is_err() {
                        return;
                    }
                }
            }
            let floor = cursor.unwrap_or(0).saturating_sub(shared.gap_window);
            while seen_order.front().is_some_and(|id| *id <= floor) {
                if let Some(id) = seen_order.pop_front() {
                    seen.remove(&id);
                }
            }
            if first {
                // Caught up after (re)connecting: from now on this node hears everything.
                first = false;
                shared.live.store(true, Ordering::Release);
                tracing::info!("event feed: listening");
            }
            if full {
                continue;
            }
            if last_prune.elapsed() * 10 >= Duration::from_millis(shared.retention_ms as u64) {
                last_prune = tokio::time::Instant::now();
                let before = crate::ids::now_ms() - shared.retention_ms;
                let _ = tokio::time::timeout(
                    shared.operation_timeout,
                    conn.client.execute(
                        "DELETE FROM stream_events WHERE created_at < $1",
                        &[&before],
                    ),
                )
                .await;
            }
            tokio::select! {
                () = conn.wake.notified() => {}
                () = tokio::time::sleep(shared.poll) => {}
            }
            if conn.driver.is_finished() || conn.client.is_closed() {
                break;
            }
        }
        shared.live.store(false, Ordering::Release);
        conn.driver.abort();
        tracing::warn!("event feed: not listening; reconnecting");
        failures += 1;
        tokio::time::sleep(backoff(failures, shared.backoff_max)).await;
    }
}
