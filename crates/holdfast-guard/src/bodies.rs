//! Request bodies bounded in time, read before admission.
//!
//! A client that sends a request head and then its body slowly (or not at
//! all) must not hold anything scarce. So the guard reads a request's body
//! *before* asking for an admission slot, up to `prebuffer_max` bytes (every
//! form and JSON body of the API fits), and only then admits the request
//! with the body in memory. A larger body (an upload) keeps streaming after
//! admission, from the prefix read so far.
//!
//! Either way the body must keep a minimum data rate: after a grace period,
//! at least `min_rate` bytes per second on average since the first byte was
//! asked for. This bounds a stalled or trickled body in time, per request and
//! so per HTTP/2 stream (hyper's header timer does not cover bodies).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use tokio::time::{Instant, Sleep};

#[derive(Clone, Copy, Debug)]
pub struct BodyBounds {
    /// Bodies up to this many bytes are read whole before admission.
    pub prebuffer_max: usize,
    /// How long a body may take before the rate is judged at all.
    pub grace: Duration,
    /// The slowest average rate accepted after the grace, in bytes per second.
    pub min_rate_bytes_per_s: u64,
}

impl BodyBounds {
    /// When `bytes` received since `start` stop being enough.
    fn deadline(&self, start: Instant, bytes: u64) -> Instant {
        let rate = self.min_rate_bytes_per_s.max(1);
        start + self.grace + Duration::from_millis(bytes.saturating_mul(1000) / rate)
    }
}

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyFailure {
    /// It arrived slower than the minimum rate.
    TooSlow,
    /// The client broke off, or sent something malformed.
    Broken,
}

/// A body that fails with `TooSlow` once it falls behind the minimum rate.
pub struct MinRateBody {
    inner: Body,
    bounds: BodyBounds,
    start: Instant,
    bytes: u64,
    timer: Pin<Box<Sleep>>,
}

impl MinRateBody {
    pub fn new(inner: Body, bounds: BodyBounds) -> MinRateBody {
        MinRateBody::resumed(inner, bounds, Instant::now(), 0)
    }

    fn resumed(inner: Body, bounds: BodyBounds, start: Instant, bytes: u64) -> MinRateBody {
        MinRateBody {
            inner,
            bounds,
            start,
            bytes,
            timer: Box::pin(tokio::time::sleep_until(bounds.deadline(start, bytes))),
        }
    }
}

/// The error a `MinRateBody` fails with; handlers see it as a broken body.
#[derive(Debug)]
pub struct TooSlow;

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body arrived below the minimum data rate")
    }
}

impl std::error::Error for TooSlow {}

impl HttpBody for MinRateBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                    let next = this.bounds.deadline(this.start, this.bytes);
                    this.timer.as_mut().reset(next);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(TooSlow)))),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Reads `body` up to `bounds.prebuffer_max` bytes under the minimum rate.
/// Returns the whole body if it fit; otherwise a body that replays the
/// prefix and streams the rest, still under the same rate.
pub async fn prebuffer(body: Body, bounds: BodyBounds) -> Result<Body, BodyFailure> {
    if body.is_end_stream() {
        return Ok(body);
    }
    if body
        .size_hint()
        .upper()
        .is_some_and(|n| n > bounds.prebuffer_max as u64)
        || body.size_hint().lower() > bounds.prebuffer_max as u64
    {
        // Declared larger than the prefix: an upload (or a 413 to be); stream it.
        return Ok(Body::new(MinRateBody::new(body, bounds)));
    }
    let start = Instant::now();
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let deadline = bounds.deadline(start, buf.len() as u64);
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyFailure::TooSlow),
            Ok(None) => return Ok(Body::from(buf)),
            Ok(Some(Err(_))) => return Err(BodyFailure::Broken),
            Ok(Some(Ok(frame))) => {
                // Trailers are not used by any route; they are dropped.
                if let Ok(data) = frame.into_data() {
                    buf.extend_from_slice(&data);
                }
                if buf.len() > bounds.prebuffer_max {
                    let bytes = buf.len() as u64;
                    let prefix = Body::from(buf);
                    let rest = MinRateBody::resumed(body, bounds, start, bytes);
                    return Ok(Body::new(Chain {
                        first: Some(prefix),
                        rest,
                    }));
                }
            }
        }
    }
}

/// The prefix read before admission, then the rest of the stream.
struct Chain {
    first: Option<Body>,
    rest: MinRateBody,
}

impl HttpBody for Chain {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.as_mut() {
            match Pin::new(first).poll_frame(cx) {
                Poll::Ready(None) => this.first = None,
                other => return other,
            }
        }
        Pin::new(&mut this.rest).poll_frame(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds() -> BodyBounds {
        BodyBounds {
            prebuffer_max: 16,
            grace: Duration::from_millis(100),
            min_rate_bytes_per_s: 1_000,
        }
    }

    /// A body fed by hand through a channel, like a slow client.
    fn channel_body() -> (tokio::sync::mpsc::Sender<Bytes>, Body) {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        (tx, Body::new(ChannelBody(rx)))
    }

    struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

    impl HttpBody for ChannelBody {
        type Data = Bytes;
        type Error = axum::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
            self.get_mut()
                .0
                .poll_recv(cx)
                .map(|b| b.map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn a_small_body_is_read_whole() {
        let (tx, body) = channel_body();
        tx.send(Bytes::from_static(b"status=hi")).await.unwrap();
        drop(tx);
        let body = prebuffer(body, bounds()).await.unwrap();
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"status=hi");
    }

    #[tokio::test]
    async fn a_stalled_body_fails_after_the_grace() {
        let (tx, body) = channel_body();
        tx.send(Bytes::from_static(b"status=")).await.unwrap();
        let started = std::time::Instant::now();
        assert_eq!(
            prebuffer(body, bounds()).await.err(),
            Some(BodyFailure::TooSlow)
        );
        let waited = started.elapsed();
        // 100 ms grace + 7 bytes at 1000 B/s.
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_millis(1_000), "{waited:?}");
        drop(tx);
    }

    #[tokio::test]
    async fn a_large_body_streams_on_and_is_still_bounded() {
        let (tx, body) = channel_body();
        tx.send(Bytes::from(vec![b'x'; 20])).await.unwrap();
        let body = prebuffer(body, bounds()).await.unwrap();
        tx.send(Bytes::from(vec![b'y'; 5])).await.unwrap();
        // Then nothing: the rest of the stream fails once it falls behind.
        let mut body = body;
        let mut got = 0;
        let failure = loop {
            match body.frame().await {
                Some(Ok(f)) => got += f.into_data().map(|d| d.len()).unwrap_or(0),
                Some(Err(e)) => break e,
                None => panic!("the body cannot end while the sender is open"),
            }
        };
        assert_eq!(got, 25, "the prefix and what followed are all delivered");
        assert!(failure.to_string().contains("minimum data rate"));
        drop(tx);
    }
}
