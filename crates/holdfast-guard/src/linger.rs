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

/// Bytes all lingering connections together may discard per second: a token
/// bucket holding at most one second's worth.
#[derive(Debug)]
pub struct LingerBudget {
    bytes_per_s: u64,
    /// Bytes left, and when they were last topped up.
    state: Mutex<(u64, Instant)>,
}

impl LingerBudget {
    pub fn new(bytes_per_s: u64) -> LingerBudget {
        LingerBudget {
            bytes_per_s,
            state: Mutex::new((bytes_per_s, Instant::now())),
        }
    }

    /// Takes `want` bytes if the budget has them all; false when it does not.
    /// All or nothing: a nearly spent budget granting crumbs would have every
    /// lingering connection spin on tiny reads, the very work it is there to stop.
    fn take(&self, want: usize) -> bool {
        self.take_at(want, Instant::now())
    }

    fn take_at(&self, want: usize, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (left, since) = *state;
        let earned =
            (now.saturating_duration_since(since).as_secs_f64() * self.bytes_per_s as f64) as u64;
        let left = left.saturating_add(earned).min(self.bytes_per_s);
        let since = if earned > 0 { now } else { since };
        let granted = left >= want as u64;
        *state = (if granted { left - want as u64 } else { left }, since);
        granted
    }
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
        let mut buf = vec![0u8; bounds.buffer_bytes.max(1)];
        loop {
            if discarded >= bounds.max_bytes {
                return "byte bound";
            }
            if !budget.take(buf.len()) {
                return "budget spent";
            }
            match tokio::time::timeout(bounds.idle, stream.read(&mut buf)).await {
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
        LingerBudget::new(u64::MAX / 2)
    }

    #[tokio::test]
    async fn a_spent_budget_ends_lingering_at_once() {
        // Two 16 KiB chunks fit in the budget, the third does not.
        let budget = LingerBudget::new(40 * 1024);
        let (server, mut client) = tokio::io::duplex(1 << 17);
        client.write_all(&[1u8; 100_000]).await.unwrap();
        let discarded = linger(server, bounds(usize::MAX), &budget).await;
        assert_eq!(discarded, 32 * 1024, "reads stop where the budget ends");

        let (server, mut client) = tokio::io::duplex(1 << 16);
        client.write_all(&[1u8; 1_000]).await.unwrap();
        assert_eq!(linger(server, bounds(usize::MAX), &budget).await, 0);
    }

    #[test]
    fn the_budget_refills_with_time_up_to_one_second_all_or_nothing() {
        let budget = LingerBudget::new(1_000);
        let start = Instant::now();
        assert!(budget.take_at(600, start));
        assert!(!budget.take_at(600, start), "400 left: no crumbs");
        assert!(budget.take_at(400, start));
        assert!(!budget.take_at(500, start + Duration::from_millis(400)));
        assert!(budget.take_at(500, start + Duration::from_millis(500)));
        assert!(budget.take_at(1_000, start + Duration::from_secs(60)));
        assert!(
            !budget.take_at(1_001, start + Duration::from_secs(120)),
            "never more than a second's worth"
        );
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
