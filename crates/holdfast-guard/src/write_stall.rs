//! A write deadline for every connection: a client that stops reading is
//! dropped once the server's writes to it make no progress for `timeout`.
//!
//! hyper has no write timeout. A response the client does not read (a Server-
//! Sent Events stream, above all, which never ends on its own) fills the
//! socket's send buffer, and then hyper waits for room forever: TCP keeps a
//! zero window open indefinitely. The connection would hold its slots (the
//! streaming caps, the per-address cap) and its queued bytes for as long as
//! the client likes. This wrapper fails a write, flush or shutdown that has
//! been pending for `timeout` with `TimedOut`, which ends the connection; a
//! slow client that still takes some bytes in time is never cut.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::refusals::{ConnectionReason, Refusals};

pub struct WriteStall<T> {
    inner: T,
    timeout: Duration,
    /// Runs while a write is pending; progress clears it.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
    refusals: Option<Arc<Refusals>>,
}

impl<T> WriteStall<T> {
    pub fn new(inner: T, timeout: Duration, refusals: Option<Arc<Refusals>>) -> WriteStall<T> {
        WriteStall {
            inner,
            timeout,
            stalled: None,
            refusals,
        }
    }

    /// Passes on a write's outcome, unless it has been pending for too long.
    fn judge<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let deadline = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(refusals) = &self.refusals {
            refusals.count_connection(ConnectionReason::WriteStall);
        }
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client took nothing for the write timeout",
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteStall<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteStall<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.judge(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.judge(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.judge(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.judge(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_client_that_stops_reading_is_cut_off() {
        let (server, _client) = tokio::io::duplex(1024);
        let mut server = WriteStall::new(server, Duration::from_millis(200), None);
        let started = std::time::Instant::now();
        let err = server.write_all(&[0u8; 4096]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_taking_bytes_is_not() {
        let (server, mut client) = tokio::io::duplex(64);
        let mut server = WriteStall::new(server, Duration::from_millis(200), None);
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 64];
            let mut total = 0;
            while total < 1024 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                total += client.read(&mut buf).await.unwrap();
            }
        });
        // 1 KiB at 64 bytes per 50 ms: ~0.8 s in all, never 200 ms without progress.
        server.write_all(&[0u8; 1024]).await.unwrap();
        reader.await.unwrap();
    }
}
