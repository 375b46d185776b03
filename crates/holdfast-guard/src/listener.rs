//! The listener: accepts connections under caps and serves them with hyper,
//! with the timers that `axum::serve` does not set.
//!
//! - A global cap: a permit is acquired *before* `accept`, so at the cap the
//!   server stops accepting (the kernel backlog absorbs, then refuses) instead
//!   of taking on connections it cannot serve.
//! - A per-address cap (IPv6 by /64): one client cannot hold all the slots;
//!   past it, a connection is closed straight after accept, which costs nothing.
//! - hyper's header-read timeout, with a timer installed so it actually fires:
//!   a client that does not deliver a request head in time (slowloris, or an
//!   idle keep-alive connection) is disconnected.
//! - Bounded head size and HTTP/2 concurrent streams, and a per-address cap
//!   on requests in flight (until their response head): HTTP/1.1 requests and
//!   HTTP/2 streams count alike, so many streams on a few connections cannot
//!   hold more than one address' share either.
//! - Optional TLS (see `tls`): the handshake runs under its own timeout while
//!   the connection holds its slots; ALPN picks HTTP/2 or HTTP/1.1.
//! - Behind a trusted proxy (see `forwarded`): the client's address comes from
//!   the PROXY protocol header or `X-Forwarded-For`, and the per-address cap
//!   applies to that client, not to the proxy that carries everyone.
//! - A write timeout (see `write_stall`): a client that stops reading (an
//!   SSE stream above all) is dropped, not kept with its slots forever.
//! - Graceful shutdown that waits for in-flight requests, but not forever.
//! - The guard may end a connection (`CloseConnection`): at once, or with a
//!   goodbye (HTTP/2 GOAWAY: no new streams, those in flight finish) that
//!   turns into a cut after `goodbye_grace`.
//! - The signed-in lane: a connection from an address where the guard served
//!   a signed-in user lately (see `offenders`) is served on a runtime of its
//!   own (`signed_in_lane`). A one-core server under a flood otherwise reads
//!   and answers its connections in arrival order, every signed-in request
//!   behind the flood's ready tasks; the lane's thread mostly sleeps, and the
//!   kernel runs a thread that wakes from sleep ahead of one that has been
//!   busy, so signed-in requests are read and served first. Decided at
//!   accept, by address: a signed-in user's first connection from an address
//!   not yet marked is served in the shared lane until its first signed-in
//!   answer, which closes it (HTTP/1.1 only), so the next one is on the lane.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, CONNECTION, COOKIE};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::forwarded;
use crate::linger::{linger, LingerBounds, LingerBudget, Reclaim};
use crate::netaddr::{client_key, Cidr};
use crate::offenders::{AtAccept, BannedAddress, Offenders, Standing};
use crate::refusals::{ConnectionReason, Refusals};
use crate::write_stall::WriteStall;

// fact: hyper's smallest allowed read buffer; the head cap cannot go below it.
const HYPER_MIN_BUF_BYTES: usize = 8192;

/// TLS for every accepted connection, with the handshake's time bound.
#[derive(Clone)]
pub struct TlsConfig {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct ListenerConfig {
    /// None: plain HTTP (HTTP/1.1, and HTTP/2 with prior knowledge).
    pub tls: Option<TlsConfig>,
    /// Peers believed about the client: who it is (PROXY header,
    /// `X-Forwarded-For`) and how it reached them (`X-Forwarded-Proto`).
    pub trusted_proxies: Arc<Vec<Cidr>>,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub header_read_timeout: Duration,
    pub header_max_bytes: usize,
    pub h2_max_concurrent_streams: u32,
    /// A write that makes no progress for this long ends the connection.
    pub write_stall_timeout: Duration,
    /// Requests (HTTP/2 streams included) from one address in flight at once.
    pub requests_in_flight_per_ip_max: usize,
    pub shutdown_grace: Duration,
    /// Bounds of the lingering close after each connection (see `linger`).
    pub linger: LingerBounds,
    /// Bytes all lingering connections together may discard per second.
    pub linger_budget: Arc<LingerBudget>,
    /// After `accept` fails (out of descriptors, say), the listener pauses this long.
    pub accept_error_pause: Duration,
    /// The PROXY header reader's pause before peeking again at a partial header.
    pub proxy_peek_retry: Duration,
    /// Addresses banned for flooding after 429 (see `offenders`): refused at
    /// accept, unless signed-in users were served from them lately.
    pub offenders: Option<Arc<Offenders>>,
    /// The body of the listener's own refusals (`holdfast_api::refusal`);
    /// None: an empty body.
    pub refusal_body: Option<crate::RefusalBody>,
    /// `Retry-After` of those refusals (the one policy, `Limits::retry_after_for`).
    pub retry_after_s: u64,
    /// How long a connection told goodbye (`CloseConnection::goodbye`) may
    /// still finish its requests in flight before it is cut.
    pub goodbye_grace: Duration,
    /// The runtime that serves connections from addresses where signed-in
    /// users were served lately (needs `offenders`); None: every connection
    /// is served on the runtime `serve` runs on.
    pub signed_in_lane: Option<tokio::runtime::Handle>,
}

impl ListenerConfig {
    pub fn from_limits(l: &holdfast_config::Limits) -> ListenerConfig {
        ListenerConfig {
            tls: None,
            trusted_proxies: Arc::default(),
            max_connections: l.max_connections,
            max_connections_per_ip: l.max_connections_per_ip,
            header_read_timeout: Duration::from_millis(l.header_read_timeout_ms),
            header_max_bytes: l.header_max_bytes,
            h2_max_concurrent_streams: l.h2_max_concurrent_streams,
            write_stall_timeout: Duration::from_millis(l.write_stall_timeout_ms),
            requests_in_flight_per_ip_max: l.requests_in_flight_per_ip_max,
            shutdown_grace: Duration::from_millis(l.shutdown_grace_ms),
            linger: LingerBounds {
                total: Duration::from_millis(l.linger_time_ms),
                idle: Duration::from_millis(l.linger_idle_ms),
                max_bytes: l.linger_bytes_max,
                buffer_bytes: l.linger_buffer_bytes,
            },
            linger_budget: Arc::new(LingerBudget::new(
                l.linger_bytes_per_s_max,
                l.linger_burst_bytes,
                Duration::from_millis(l.linger_turn_wait_max_ms),
            )),
            accept_error_pause: Duration::from_millis(l.accept_error_pause_ms),
            proxy_peek_retry: Duration::from_millis(l.proxy_header_peek_retry_ms),
            offenders: None,
            refusal_body: None,
            retry_after_s: l.retry_after_for(None),
            goodbye_grace: Duration::from_millis(l.banned_goodbye_grace_ms),
            signed_in_lane: None,
        }
    }
}

type PerIp = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// In every request's extensions: lets the guard end the connection the
/// request came on (HTTP/1.1 and HTTP/2 alike).
#[derive(Clone, Default)]
pub struct CloseConnection(Arc<CloseSignals>);

#[derive(Default)]
struct CloseSignals {
    now: tokio::sync::Notify,
    goodbye: tokio::sync::Notify,
}

impl CloseConnection {
    /// Cuts the connection at once, whatever is in flight on it.
    pub fn close(&self) {
        self.0.now.notify_one();
    }

    /// Takes no new requests on the connection (on HTTP/2 a GOAWAY, so other
    /// streams in flight, a signed-in user's say, still finish; on HTTP/1.1
    /// it closes after the answer in flight) and cuts it after the grace.
    pub fn goodbye(&self) {
        self.0.goodbye.notify_one();
    }
}

/// One connection's claim on its address' share; released on drop.
struct IpSlot {
    table: PerIp,
    key: IpAddr,
}

impl IpSlot {
    fn take(table: &PerIp, key: IpAddr, cap: usize) -> Option<IpSlot> {
        let mut map = table.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            table: table.clone(),
            key,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains for at most the grace period.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: ListenerConfig,
    refusals: Arc<Refusals>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let global = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let per_ip: PerIp = Arc::default();
    let requests_per_ip: PerIp = Arc::default();
    // Connections watch this to drain at shutdown; each holds a receiver, so
    // the sender knows how many are left and when the last one is gone.
    let (drain, drain_watch) = tokio::sync::watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_buf_size(config.header_max_bytes.max(HYPER_MIN_BUF_BYTES))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(config.h2_max_concurrent_streams)
        .keep_alive_interval(Some(config.header_read_timeout))
        .keep_alive_timeout(config.header_read_timeout);

    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = global.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; pausing");
                    // Pausing so the loop does not spin.
                    tokio::time::sleep(config.accept_error_pause).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A trusted proxy carries many clients: its connections are counted
        // against the client it names (below), or only against the global cap.
        let from_proxy = forwarded::is_trusted(addr.ip(), &config.trusted_proxies);
        let offenders = config.offenders.clone();
        let seen = match &offenders {
            Some(o) if !from_proxy => o.at_accept(client_key(addr.ip())),
            _ => AtAccept {
                standing: Standing::Clear,
                signed_in_lately: false,
            },
        };
        if seen.standing == Standing::Refused {
            drop(stream);
            drop(permit);
            continue;
        }
        let mut slot = None;
        if !from_proxy {
            let Some(taken) = IpSlot::take(
                &per_ip,
                client_key(addr.ip()),
                config.max_connections_per_ip,
            ) else {
                refusals.count_connection(ConnectionReason::PerIpCap);
                drop(stream);
                continue;
            };
            slot = Some(taken);
        }
        let _ = stream.set_nodelay(true);
        let lane = config
            .signed_in_lane
            .clone()
            .filter(|_| seen.signed_in_lately);
        let Some(stream) = Placed::for_lane(stream, lane.is_some()) else {
            continue;
        };
        if lane.is_some() {
            refusals.connection_on_lane();
        }
        // A connection in the shared lane from an address that may yet be
        // marked (not through a proxy: its connections are never moved).
        let may_move = config.signed_in_lane.is_some() && lane.is_none() && !from_proxy;
        let app = app.clone();
        let is_tls = config.tls.is_some();
        let trusted = config.trusted_proxies.clone();
        let per_ip = per_ip.clone();
        let max_per_ip = config.max_connections_per_ip;
        let requests_per_ip = requests_per_ip.clone();
        let max_requests_per_ip = config.requests_in_flight_per_ip_max;
        let (refusal_body, retry_after_s) = (config.refusal_body, config.retry_after_s);
        let header_read_timeout = config.header_read_timeout;
        let write_stall = config.write_stall_timeout;
        let proxy_peek_retry = config.proxy_peek_retry;
        let builder = builder.clone();
        let drain_watch = drain_watch.clone();
        let goodbye_grace = config.goodbye_grace;
        let refusals = refusals.clone();
        let tls = config.tls.clone();
        let bounds = config.linger;
        let linger_budget = config.linger_budget.clone();
        let connection = async move {
            let Some(mut stream) = stream.settle() else {
                return;
            };
            refusals.connection_opened();
            // Who is on the other end: the peer, or the client a trusted
            // proxy names in a PROXY header (read before TLS or HTTP starts).
            let mut client = addr;
            if from_proxy {
                match forwarded::read_proxy_header(
                    &mut stream,
                    header_read_timeout,
                    proxy_peek_retry,
                )
                .await
                {
                    Ok(None) => {}
                    Ok(Some(source)) => {
                        client = SocketAddr::new(source.ip().to_canonical(), source.port());
                        match IpSlot::take(&per_ip, client_key(client.ip()), max_per_ip) {
                            Some(taken) => slot = Some(taken),
                            None => {
                                refusals.count_connection(ConnectionReason::PerIpCap);
                                refusals.connection_closed();
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!(peer = %addr, error = %e, "PROXY header refused");
                        refusals.count_connection(ConnectionReason::ProxyHeader);
                        refusals.connection_closed();
                        return;
                    }
                }
            }
            let refusals_for_requests = refusals.clone();
            let close = CloseConnection::default();
            let ending = Ending {
                drain: drain_watch,
                close: close.clone(),
                goodbye_grace,
            };
            let refusal = ListenerRefusal {
                body: refusal_body,
                retry_after_s,
            };
            let service =
                TowerToHyperService::new(tower::service_fn(move |mut req: Request<Incoming>| {
                    // Per request: a trusted proxy may name the client in
                    // X-Forwarded-For and the scheme in X-Forwarded-Proto. The
                    // peer judged is the one the PROXY header named, if any:
                    // behind a TCP-mode proxy, the headers are the client's own.
                    let ip = forwarded::client_address(req.headers(), client.ip(), &trusted);
                    normalize_origin_headers(&mut req, client.ip(), is_tls, &trusted);
                    req.extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(SocketAddr::new(
                            ip,
                            client.port(),
                        )));
                    req.extensions_mut().insert(close.clone());
                    // Behind a proxy the client is only known now: a banned
                    // one is turned away here, before any routing. One that
                    // signed-in users share goes on, marked: the guard judges
                    // each of its requests by its token.
                    let standing = offenders
                        .as_ref()
                        .map_or(Standing::Clear, |o| o.standing(client_key(ip)));
                    let banned = standing == Standing::Refused;
                    if banned {
                        close.close();
                    } else if standing == Standing::TokensOnly {
                        req.extensions_mut().insert(BannedAddress);
                    }
                    let slot = IpSlot::take(&requests_per_ip, client_key(ip), max_requests_per_ip);
                    let app = app.clone();
                    let refusals = refusals_for_requests.clone();
                    let offenders = offenders.clone().filter(|_| may_move);
                    async move {
                        let refuse = |message| cheap_429(&refusal, req.version(), message);
                        if banned {
                            return Ok(refuse("This address is banned for a while"));
                        }
                        let Some(slot) = slot else {
                            refusals.count_connection(ConnectionReason::PerIpRequests);
                            return Ok(refuse("Too many requests in flight"));
                        };
                        let version = req.version();
                        let signs_in = req.headers().contains_key(AUTHORIZATION)
                            || req.headers().contains_key(COOKIE);
                        // Held until the response head is ready: a stream's
                        // long body (SSE) does not count, a slow request body does.
                        let response = app.oneshot(req).await;
                        drop(slot);
                        let Ok(mut response) = response;
                        // A signed-in user's keep-alive connection that was
                        // opened before its address was marked: closed after
                        // this answer, so the client's next one is on the lane
                        // (`offenders` is kept only while that may happen).
                        if signs_in
                            && version <= axum::http::Version::HTTP_11
                            && response.status() != StatusCode::SWITCHING_PROTOCOLS
                            && offenders
                                .as_ref()
                                .is_some_and(|o| o.signed_in_lately(client_key(ip)))
                        {
                            response
                                .headers_mut()
                                .insert(CONNECTION, HeaderValue::from_static("close"));
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                }));
            match tls {
                None => {
                    let (stream, back) = Reclaim::new(stream);
                    let stream = WriteStall::new(stream, write_stall, Some(refusals.clone()));
                    serve_connection(TokioIo::new(stream), &builder, service, ending, &refusals)
                        .await;
                    linger_if_returned(back, bounds, &linger_budget).await;
                }
                Some(tls) => {
                    match tokio::time::timeout(tls.handshake_timeout, tls.acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(stream)) => {
                            let (stream, back) = Reclaim::new(stream);
                            let stream =
                                WriteStall::new(stream, write_stall, Some(refusals.clone()));
                            serve_connection(
                                TokioIo::new(stream),
                                &builder,
                                service,
                                ending,
                                &refusals,
                            )
                            .await;
                            linger_if_returned(back, bounds, &linger_budget).await;
                        }
                        Ok(Err(_)) | Err(_) => {
                            refusals.count_connection(ConnectionReason::TlsHandshake)
                        }
                    }
                }
            }
            refusals.connection_closed();
            drop(slot);
            drop(permit);
        };
        match lane {
            Some(lane) => drop(lane.spawn(connection)),
            None => drop(tokio::spawn(connection)),
        }
    }
    drop(listener);
    drop(drain_watch);
    tracing::info!(
        connections = drain.receiver_count(),
        "listener closed; draining connections"
    );
    let _ = drain.send(true);
    tokio::select! {
        () = drain.closed() => {}
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!("shutdown grace expired; closing connections with requests still in flight");
        }
    }
}

/// An accepted connection on its way to the runtime that serves it.
enum Placed {
    /// Served on the accepting runtime: registered with its I/O driver.
    Here(tokio::net::TcpStream),
    /// For the signed-in lane: taken off the accepting runtime's I/O driver,
    /// to be registered with the lane's, so the lane's own thread notices
    /// its requests (the busy runtime polls its driver only between tasks).
    Moving(std::net::TcpStream),
}

impl Placed {
    /// None: the socket could not be taken off the driver (it is closed).
    fn for_lane(stream: tokio::net::TcpStream, to_lane: bool) -> Option<Placed> {
        if !to_lane {
            return Some(Placed::Here(stream));
        }
        stream.into_std().ok().map(Placed::Moving)
    }

    /// The stream, registered with the runtime this runs on; None if that fails.
    fn settle(self) -> Option<tokio::net::TcpStream> {
        match self {
            Placed::Here(stream) => Some(stream),
            Placed::Moving(stream) => tokio::net::TcpStream::from_std(stream).ok(),
        }
    }
}

/// How the listener words its own refusals.
#[derive(Clone, Copy)]
struct ListenerRefusal {
    body: Option<crate::RefusalBody>,
    retry_after_s: u64,
}

/// The listener's own refusal (past the per-address cap on requests in
/// flight, or from a banned address): cheap, and on HTTP/1.1 it closes the
/// connection (the client is holding or sending too much already).
fn cheap_429(
    refusal: &ListenerRefusal,
    version: axum::http::Version,
    message: &str,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    let mut response = match refusal.body {
        Some(body) => body(StatusCode::TOO_MANY_REQUESTS, message),
        None => {
            let mut r = axum::response::Response::new(axum::body::Body::empty());
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            r
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from(refusal.retry_after_s),
    );
    if version <= axum::http::Version::HTTP_11 {
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Lingers on the stream if hyper has let go of it. An upgraded connection
/// (WebSocket) still holds its stream and is left alone: it ends on its own.
async fn linger_if_returned<T>(
    back: tokio::sync::oneshot::Receiver<T>,
    bounds: LingerBounds,
    budget: &LingerBudget,
) where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut back = back;
    if let Ok(stream) = back.try_recv() {
        let discarded = linger(stream, bounds, budget).await;
        if discarded > 0 {
            tracing::debug!(discarded, "lingering close discarded unread request bytes");
        }
    }
}

/// How a connection may end other than by itself.
struct Ending {
    /// Becomes true (or its sender goes) when the server shuts down: drain.
    drain: tokio::sync::watch::Receiver<bool>,
    close: CloseConnection,
    goodbye_grace: Duration,
}

/// Serves one connection (plain or TLS) until it closes, shutdown drains it,
/// or the guard ends it.
async fn serve_connection<I, S>(
    io: I,
    builder: &auto::Builder<TokioExecutor>,
    service: S,
    mut ending: Ending,
    refusals: &Refusals,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = axum::response::Response>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connection = builder
        .serve_connection_with_upgrades(io, service)
        .into_owned();
    tokio::pin!(connection);
    let mut draining = false;
    let mut cut_at: Option<tokio::time::Instant> = None;
    let result = loop {
        let cut = async {
            match cut_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = connection.as_mut() => break result,
            // Shutdown (or the listener gone): finish what is in flight, take nothing new.
            _ = ending.drain.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            // The guard cut this connection off (its address is banned).
            () = ending.close.0.now.notified() => return,
            // The guard said goodbye: GOAWAY now, cut after the grace.
            () = ending.close.0.goodbye.notified(), if cut_at.is_none() => {
                connection.as_mut().graceful_shutdown();
                cut_at = Some(tokio::time::Instant::now() + ending.goodbye_grace);
            }
            () = cut => return,
        }
    };
    if let Err(e) = result {
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_timeout)
        {
            refusals.count_connection(ConnectionReason::HeaderTimeout);
        }
    }
}

/// What handlers may trust about how the client reached us, settled at the
/// edge so that URLs built per request (`Link` headers) are right:
/// - `X-Forwarded-Proto` is kept only from a trusted proxy; from anyone else
///   it is replaced by the truth of this connection (`https` under TLS) or
///   removed, so a client cannot make us write links with a scheme of its choosing.
/// - An HTTP/2 request carries its host in `:authority`, not `Host`; it is
///   copied into `Host` so code reading `Host` sees the same on both versions.
fn normalize_origin_headers<B>(
    req: &mut Request<B>,
    peer: IpAddr,
    is_tls: bool,
    trusted_proxies: &[Cidr],
) {
    use axum::http::{header, HeaderValue};
    const FORWARDED_PROTO: &str = "x-forwarded-proto";
    // Canonical form, as for X-Forwarded-For: on a dual-stack socket an IPv4
    // proxy arrives as ::ffff:a.b.c.d.
    let trusted = forwarded::is_trusted(peer, trusted_proxies);
    if !trusted {
        req.headers_mut().remove(FORWARDED_PROTO);
        if is_tls {
            req.headers_mut()
                .insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
        }
    } else if is_tls && !req.headers().contains_key(FORWARDED_PROTO) {
        req.headers_mut()
            .insert(FORWARDED_PROTO, HeaderValue::from_static("https"));
    }
    if !req.headers().contains_key(header::HOST) {
        if let Some(v) = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        {
            req.headers_mut().insert(header::HOST, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], uri: &str) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap()
    }

    fn proto(r: &Request<()>) -> Option<&str> {
        r.headers()
            .get("x-forwarded-proto")
            .map(|v| v.to_str().unwrap())
    }

    #[test]
    fn forwarded_proto_only_from_trusted_proxies() {
        let proxies = [Cidr::parse("10.0.0.0/8").unwrap()];
        let stranger: IpAddr = "192.0.2.7".parse().unwrap();
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();

        let mut r = request(&[("x-forwarded-proto", "https")], "/");
        normalize_origin_headers(&mut r, stranger, false, &proxies);
        assert_eq!(proto(&r), None, "a stranger cannot claim https");

        let mut r = request(&[("x-forwarded-proto", "http")], "/");
        normalize_origin_headers(&mut r, stranger, true, &proxies);
        assert_eq!(proto(&r), Some("https"), "nor http over TLS");

        let mut r = request(&[("x-forwarded-proto", "https")], "/");
        normalize_origin_headers(&mut r, proxy, false, &proxies);
        assert_eq!(proto(&r), Some("https"), "a trusted proxy is believed");

        let mut r = request(&[], "/");
        normalize_origin_headers(&mut r, proxy, true, &proxies);
        assert_eq!(proto(&r), Some("https"));
    }

    #[test]
    fn http2_authority_becomes_host() {
        let mut r = request(&[], "https://social.example:8443/api/v1/x");
        normalize_origin_headers(&mut r, "127.0.0.1".parse().unwrap(), true, &[]);
        assert_eq!(r.headers()["host"], "social.example:8443");
        let mut r = request(&[("host", "a.example")], "https://b.example/");
        normalize_origin_headers(&mut r, "127.0.0.1".parse().unwrap(), true, &[]);
        assert_eq!(r.headers()["host"], "a.example", "an explicit Host is kept");
    }
}
