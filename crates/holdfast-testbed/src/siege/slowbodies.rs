//! Slow bodies: requests whose head arrives whole and whose body then stalls,
//! trickling a byte now and then. Half are HTTP/1.1 requests (one per
//! connection), half HTTP/2 streams with prior knowledge (`H2_STREAMS_PER_CONN`
//! per connection). A server that admits a request before reading its body
//! gives each of them an admission slot until its request timeout; one that
//! reads bodies first under a minimum rate holds only the sockets.

use std::time::Duration;

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::slowloris::{hold_slot, Stats};
use super::target::Target;

/// Streams one HTTP/2 connection stalls at once (the server allows 64).
pub const H2_STREAMS_PER_CONN: usize = 16;
/// The body every stalled request announces; only its first bytes are sent.
const DECLARED_BODY_BYTES: usize = 1_000;
/// Stalled bodies open over this long at the start rather than all in one burst.
const RAMP_MS: u64 = 2_000;
/// Largest frame siege reads from the server (its own SETTINGS allow 16 KiB).
const H2_FRAME_MAX_BYTES: usize = 1 << 20;

/// Opens `bodies` stalled bodies (half HTTP/1.1, half HTTP/2) until `deadline`.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    target: &Target,
    bodies: usize,
    deadline: Instant,
    trickle: Duration,
    stats: Arc<Stats>,
) {
    let h1 = bodies / 2;
    let h2_conns = (bodies - h1).div_ceil(H2_STREAMS_PER_CONN);
    let slots = h1 + h2_conns;
    let start = Instant::now();
    for slot in 0..slots {
        let (target, stats) = (target.clone(), stats.clone());
        let opens_at = start + Duration::from_millis(RAMP_MS * slot as u64 / slots.max(1) as u64);
        let streams = (slot >= h1).then_some(H2_STREAMS_PER_CONN);
        tasks.spawn(async move {
            tokio::time::sleep_until(opens_at).await;
            let host = target.host.clone();
            hold_slot(&target, slot, deadline, &stats, |stream| {
                let host = host.clone();
                Box::pin(async move {
                    match streams {
                        None => hold_h1(stream, &host, deadline, trickle).await,
                        Some(n) => hold_h2(stream, &host, n, deadline, trickle).await,
                    }
                })
            })
            .await;
        });
    }
}

/// True if the request was still unanswered at the deadline.
async fn hold_h1(stream: &mut TcpStream, host: &str, deadline: Instant, trickle: Duration) -> bool {
    let head = format!(
        "POST /api/v1/statuses HTTP/1.1\r\nHost: {host}\r\nUser-Agent: holdfast-siege-slow-body\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {DECLARED_BODY_BYTES}\r\n\r\nstatus="
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    loop {
        let tick = (Instant::now() + trickle).min(deadline);
        tokio::select! {
            () = tokio::time::sleep_until(tick) => {
                if Instant::now() >= deadline {
                    return true;
                }
                if stream.write_all(b"a").await.is_err() {
                    return false;
                }
            }
            // Any answer (408, 429) or end of stream: the server let go of us.
            _ = stream.read(&mut buf) => return false,
        }
    }
}

fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(9 + payload.len());
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A header as HPACK "literal without indexing, new name" (short strings only).
fn hpack_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    assert!(name.len() < 127 && value.len() < 127);
    out.push(0);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out.push(value.len() as u8);
    out.extend_from_slice(value.as_bytes());
}

/// True if at least one stream was still unanswered at the deadline.
async fn hold_h2(
    stream: &mut TcpStream,
    host: &str,
    streams: usize,
    deadline: Instant,
    trickle: Duration,
) -> bool {
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(h2_frame(4, 0, 0, &[]));
    let ids: Vec<u32> = (0..streams as u32).map(|i| 1 + 2 * i).collect();
    for &id in &ids {
        let mut block = Vec::new();
        for (n, v) in [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", host),
            (":path", "/api/v1/statuses"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", &DECLARED_BODY_BYTES.to_string()),
        ] {
            hpack_literal(&mut block, n, v);
        }
        out.extend(h2_frame(1, 0x4, id, &block));
        out.extend(h2_frame(0, 0, id, b"status="));
    }
    if stream.write_all(&out).await.is_err() {
        return false;
    }
    let mut answered = 0usize;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let tick = (Instant::now() + trickle).min(deadline);
        tokio::select! {
            () = tokio::time::sleep_until(tick) => {
                if Instant::now() >= deadline {
                    return true;
                }
                let mut trickled = Vec::new();
                for &id in &ids {
                    trickled.extend(h2_frame(0, 0, id, b"a"));
                }
                if stream.write_all(&trickled).await.is_err() {
                    return false;
                }
            }
            read = stream.read(&mut chunk) => {
                let n = match read { Ok(0) | Err(_) => return false, Ok(n) => n };
                buf.extend_from_slice(&chunk[..n]);
                // Frames: answer SETTINGS and PING, count answered streams.
                while buf.len() >= 9 {
                    let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
                    if len > H2_FRAME_MAX_BYTES {
                        return false;
                    }
                    if buf.len() < 9 + len {
                        break;
                    }
                    let (kind, flags) = (buf[3], buf[4]);
                    let id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                    let payload = buf[9..9 + len].to_vec();
                    buf.drain(..9 + len);
                    let reply = match (kind, flags & 1) {
                        (4, 0) => Some(h2_frame(4, 1, 0, &[])),
                        (6, 0) => Some(h2_frame(6, 1, 0, &payload)),
                        _ => None,
                    };
                    if let Some(reply) = reply {
                        if stream.write_all(&reply).await.is_err() {
                            return false;
                        }
                    }
                    if (kind == 1 || kind == 3) && id != 0 {
                        answered += 1;
                    }
                    // GOAWAY, or every stream answered: the server let go of us.
                    if kind == 7 || answered >= streams {
                        return false;
                    }
                }
            }
        }
    }
}
