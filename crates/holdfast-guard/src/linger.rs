//! Lingering close: when the server is done with a connection while the client
//! may still be sending its request body (a 404 or 413 answered before the body
//! was read, a handler that ignores its body), closing the socket with unread
//! bytes in its receive buffer makes the kernel send RST, and the client loses
//! the answer it was about to read. Instead, the write side is shut down (the
//! answer is flushed and the client sees FIN), then whatever still arrives is
//! read and thrown away, within a total time, an idle time and a byte bound,
//! and only then is the socket closed.
//!
//! Lingering is a courtesy to well-behaved clients, and a flood must not turn
//! it into work: a client that sends megabyte bodies as fast as it is refused
//! would otherwise make the server read every byte. All connections together
//! may discard at most `LingerBudget`'s bytes per second; once it is spent, a
//! connection is closed at once (the client gets a reset, as without lingering).
//!
//! hyper owns the stream while it serves it and drops it when done; the
//! stream is wrapped in `Reclaim`, whose drop hands the stream back through a
//! one-shot channel so the connection task can linger on it while it still
//! holds its connection slots.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::oneshot;

/// Bounds of one lingering close.
#[derive(Clone, Copy, Debug)]
pub struct LingerBounds {
    pub total: Duration,
    pub idle: Duration,
    pub max_bytes: usize,
    /// Read (and discarded) in chunks of this size.
    pub buffer_bytes: usize,
}

/// Bytes all lingering connections together may discard per second, paced:
/// every read takes its turn on one schedule (GCRA, as the rate limits), so
/// the discarding is spread evenly over time. A bucket that held a second's
/// worth (64 MiB) let that much be read in one go whenever it had filled up,
/// holding a one-core server for ~50 ms (a stall every user saw; bench/flood,
/// session 9). Now at most `burst` is read at once; a read whose turn is more
/// than `wait_max` away is refused, and its connection closes at once.
#[derive(Debug)]
pub struct LingerBudget {
    bytes_per_s: u64,
    /// What the budget may be ahead of its rate (`burst_bytes` at that rate).
    burst: Duration,
    wait_max: Duration,
    /// When the budget is all spent (its theoretical arrival time); None
    /// until the first read.
    spent_until: Mutex<Option<Instant>>,
}

impl LingerBudget {
    pub fn new(bytes_per_s: u64, burst_bytes: u64, wait_max: Duration) -> LingerBudget {
        let bytes_per_s = bytes_per_s.max(1);
        LingerBudget {
            bytes_per_s,
            burst: duration_of(burst_bytes, bytes_per_s),
            wait_max,
            spent_until: Mutex::new(None),
        }
    }

    /// Takes a turn to read `want` bytes: how long to wait before reading,
    /// or None when the turn is more than `wait_max` away (nothing is taken).
    fn turn(&self, want: usize) -> Option<Duration> {
        self.turn_at(want, Instant::now())
    }

    fn turn_at(&self, want: usize, now: Instant) -> Option<Duration> {
        let mut spent_until = self.spent_until.lock().unwrap_or_else(|p| p.into_inner());
        let from = spent_until.map_or(now, |at| at.max(now));
        let until = from + duration_of(want as u64, self.bytes_per_s);
        let wait = until
            .checked_sub(self.burst)
            .map_or(Duration::ZERO, |start| start.saturating_duration_since(now));
        if wait > self.wait_max {
            return None;
        }
        *spent_until = Some(until);
        Some(wait)
    }
}

/// How long `bytes` take at `bytes_per_s`.
fn duration_of(bytes: u64, bytes_per_s: u64) -> Duration {
    // fact: nanoseconds per second; u128 so no product overflows
    let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(bytes_per_s);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// A stream that returns itself through `back` when dropped.
pub struct Reclaim<T> {
    inner: Option<T>,
    back: Option<oneshot::Sender<T>>,
}

impl<T> Reclaim<T> {
    pub fn new(inner: T) -> (Reclaim<T>, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (
            Reclaim {
                inner: Some(inner),
                back: Some(tx),
            },
            rx,
        )
    }

    fn get(&mut self) -> &mut T {
        self.inner.as_mut().expect("stream present until drop")
    }
}

impl<T> Drop for Reclaim<T> {
    fn drop(&mut self) {
        if let (Some(inner), Some(back)) = (self.inner.take(), self.back.take()) {
            // The receiver may be gone (e.g. an upgraded connection outlived
            // the task): then the stream is simply dropped.
            let _ = back.send(inner);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Reclaim<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().get()).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Reclaim<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().get()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().get()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().get()).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().get()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}

/// Shuts down the write side, then reads and discards until the client closes,
/// a bound is reached or the shared budget is spent. Returns the bytes discarded.
pub async fn linger<T: AsyncRead + AsyncWrite + Unpin>(
    mut stream: T,
    bounds: LingerBounds,
    budget: &LingerBudget,
) -> usize {
    let deadline = tokio::time::Instant::now() + bounds.total;
    let mut discarded = 0usize;
    let work = async {
        let _ = tokio::time::timeout(bounds.idle, stream.shutdown()).await;
        // Most clients send nothing more (they read the answer and close):
        // a one-byte first read sees that without the buffer, which is made
        // (and zeroed) only for a client that keeps sending.
        let mut first = [0u8; 1];
        let mut buf = Vec::new();
        loop {
            if discarded >= bounds.max_bytes {
                return "byte bound";
            }
            let want = if discarded == 0 {
                first.len()
            } else {
                bounds.buffer_bytes.max(1)
            };
            match budget.turn(want) {
                None => return "budget spent",
                Some(wait) if !wait.is_zero() => tokio::time::sleep(wait).await,
                Some(_) => {}
            }
            let into = if discarded == 0 {
                &mut first[..]
            } else {
                if buf.is_empty() {
                    buf = vec![0u8; want];
                }
                &mut buf[..]
            };
            match tokio::time::timeout(bounds.idle, stream.read(into)).await {
                Ok(Ok(n)) if n > 0 => discarded += n,
                Ok(Ok(_)) => return "client closed",
                Ok(Err(_)) => return "read error",
                Err(_) => return "idle bound",
            }
        }
    };
    let end = tokio::time::timeout_at(deadline, work)
        .await
        .unwrap_or("total time bound");
    // Which bound ended it says whether the bounds suit real clients.
    tracing::debug!(discarded, end, "lingering close ended");
    discarded
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn bounds(max_bytes: usize) -> LingerBounds {
        LingerBounds {
            total: Duration::from_millis(300),
            idle: Duration::from_millis(100),
            max_bytes,
            buffer_bytes: 16 * 1024,
        }
    }

    #[tokio::test]
    async fn endless_sender_is_cut_off_at_the_total_time() {
        let (server, mut client) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let chunk = [7u8; 256];
            loop {
                if client.write_all(&chunk).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let start = Instant::now();
        linger(server, bounds(usize::MAX), &plenty()).await;
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert!(took < Duration::from_millis(1000), "{took:?}");
    }

    #[tokio::test]
    async fn byte_bound_and_idle_bound_end_it_early() {
        let (server, mut client) = tokio::io::duplex(1 << 16);
        client.write_all(&[1u8; 40_000]).await.unwrap();
        let discarded = linger(server, bounds(10_000), &plenty()).await;
        assert!((10_000..40_000).contains(&discarded), "{discarded}");

        // A silent client: the idle bound ends it before the total bound.
        let (server, _client) = tokio::io::duplex(1024);
        let start = Instant::now();
        assert_eq!(linger(server, bounds(usize::MAX), &plenty()).await, 0);
        assert!(start.elapsed() < Duration::from_millis(250));
    }

    fn plenty() -> LingerBudget {
        LingerBudget::new(u64::MAX / 2, u64::MAX / 2, Duration::ZERO)
    }

    #[tokio::test]
    async fn a_spent_budget_ends_lingering_at_once() {
        // The one-byte first read and two 16 KiB reads are the whole burst;
        // the next turn is further away than the wait allowed (none).
        let burst = 1 + 32 * 1024;
        let budget = LingerBudget::new(burst, burst, Duration::ZERO);
        let (server, mut client) = tokio::io::duplex(1 << 17);
        client.write_all(&[1u8; 100_000]).await.unwrap();
        let discarded = linger(server, bounds(usize::MAX), &budget).await;
        assert_eq!(discarded, 1 + 32 * 1024, "reads stop where the budget ends");

        let (server, mut client) = tokio::io::duplex(1 << 16);
        client.write_all(&[1u8; 1_000]).await.unwrap();
        assert_eq!(linger(server, bounds(usize::MAX), &budget).await, 0);
    }

    #[tokio::test]
    async fn a_lingering_client_waits_its_turn_and_is_drained_at_the_rate() {
        // 160 KiB/s with a 16 KiB burst: 64 KiB take about 300 ms, read in
        // turns, and none is refused while its turn is within the wait allowed.
        let budget = LingerBudget::new(160 * 1024, 16 * 1024, Duration::from_millis(200));
        let (server, mut client) = tokio::io::duplex(1 << 17);
        client.write_all(&[1u8; 64 * 1024]).await.unwrap();
        drop(client);
        let start = Instant::now();
        let bounds = LingerBounds {
            total: Duration::from_secs(5),
            ..bounds(usize::MAX)
        };
        assert_eq!(linger(server, bounds, &budget).await, 64 * 1024);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(250),
            "paced, not at once: {took:?}"
        );
        assert!(took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn the_budget_is_paced_not_a_second_at_once() {
        // 1,000 bytes a second, at most 100 ahead: 100-byte turns come 100 ms
        // apart, however long the budget has been unused.
        let budget = LingerBudget::new(1_000, 100, Duration::from_millis(500));
        let t0 = Instant::now() + Duration::from_secs(60);
        let ms = Duration::from_millis;
        let turns: Vec<_> = (0..7).map(|_| budget.turn_at(100, t0)).collect();
        assert_eq!(
            turns,
            [0, 100, 200, 300, 400, 500]
                .map(|w| Some(ms(w)))
                .into_iter()
                .chain([None])
                .collect::<Vec<_>>(),
            "the seventh turn is further than the wait allowed: refused, and nothing taken"
        );
        assert_eq!(budget.turn_at(100, t0 + ms(100)), Some(ms(500)));
        // A minute unused: still only the burst is free at once.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(budget.turn_at(100, later), Some(Duration::ZERO));
        assert_eq!(budget.turn_at(100, later), Some(ms(100)));
    }

    #[tokio::test]
    async fn reclaim_hands_the_stream_back_on_drop() {
        let (server, _client) = tokio::io::duplex(16);
        let (wrapped, mut back) = Reclaim::new(server);
        assert!(back.try_recv().is_err(), "not before drop");
        drop(wrapped);
        assert!(back.try_recv().is_ok());
    }
}
