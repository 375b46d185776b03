//! Counts of everything the guard refused, by reason and class: exported
//! in `/metrics`, and logged once per interval as one line per kind of
//! refusal, so a flood of a million requests is a handful of log lines.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::admission::Class;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// 429: a rate limit was spent.
    RateLimited,
    /// 429: a token's short window (its burst) was spent; its other budgets were not.
    TokenBurst,
    /// 503: the class' waiting room was full.
    QueueFull,
    /// 503: not admitted within the class' deadline.
    QueueTimeout,
    /// 503: one signed-in principal already held its share of the admission
    /// slots (with what it had waiting).
    PrincipalShare,
    /// 408: the request body came slower than the minimum data rate (it held
    /// no admission slot meanwhile).
    SlowBody,
}

const REASONS: usize = Reason::ALL.len();

impl Reason {
    const ALL: [Reason; 6] = [
        Reason::RateLimited,
        Reason::TokenBurst,
        Reason::QueueFull,
        Reason::QueueTimeout,
        Reason::PrincipalShare,
        Reason::SlowBody,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Reason::RateLimited => "rate_limited",
            Reason::TokenBurst => "token_burst",
            Reason::QueueFull => "queue_full",
            Reason::QueueTimeout => "queue_timeout",
            Reason::PrincipalShare => "principal_share",
            Reason::SlowBody => "slow_body",
        }
    }
}

/// Refusals before a request exists: at the connection level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionReason {
    /// Closed at accept: the address already had its share of connections.
    PerIpCap,
    /// Closed because the request head did not arrive in time (slowloris, idle keep-alive).
    HeaderTimeout,
    /// Closed because the TLS handshake failed or did not finish in time.
    TlsHandshake,
    /// Closed because a trusted proxy's PROXY header was malformed or late.
    ProxyHeader,
    /// A request (or HTTP/2 stream) refused with 429 at once: its address
    /// already had its share of requests in flight.
    PerIpRequests,
    /// Closed because a write to the client made no progress in time (see `write_stall`).
    WriteStall,
}

const CONNECTION_REASONS: usize = ConnectionReason::ALL.len();

impl ConnectionReason {
    const ALL: [ConnectionReason; 6] = [
        ConnectionReason::PerIpCap,
        ConnectionReason::HeaderTimeout,
        ConnectionReason::TlsHandshake,
        ConnectionReason::ProxyHeader,
        ConnectionReason::PerIpRequests,
        ConnectionReason::WriteStall,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ConnectionReason::PerIpCap => "per_ip_cap",
            ConnectionReason::HeaderTimeout => "header_timeout",
            ConnectionReason::TlsHandshake => "tls_handshake",
            ConnectionReason::ProxyHeader => "proxy_header",
            ConnectionReason::PerIpRequests => "per_ip_requests",
            ConnectionReason::WriteStall => "write_stall",
        }
    }
}

#[derive(Default)]
pub struct Refusals {
    requests: [[AtomicU64; 3]; REASONS],
    connections: [AtomicU64; CONNECTION_REASONS],
    open_connections: AtomicU64,
    /// Connections served on the signed-in lane (see `listener`).
    lane_connections: AtomicU64,
    /// Totals at the last log line, to log only what is new.
    logged: Mutex<([[u64; 3]; REASONS], [u64; CONNECTION_REASONS])>,
}

impl Refusals {
    pub fn count(&self, reason: Reason, class: Class) {
        self.requests[reason as usize][class as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_connection(&self, reason: ConnectionReason) {
        self.connections[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_on_lane(&self) {
        self.lane_connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn lane_connections(&self) -> u64 {
        self.lane_connections.load(Ordering::Relaxed)
    }

    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn total(&self, reason: Reason, class: Class) -> u64 {
        self.requests[reason as usize][class as usize].load(Ordering::Relaxed)
    }

    /// Every counter by name (`refused:<reason>:<class>`, `closed:<reason>`),
    /// for the status page's window over the last minutes.
    pub fn totals(&self) -> Vec<(String, u64)> {
        let mut out = Vec::with_capacity(REASONS * Class::ALL.len() + CONNECTION_REASONS);
        for reason in Reason::ALL {
            for class in Class::ALL {
                out.push((
                    format!("refused:{}:{}", reason.as_str(), class.as_str()),
                    self.total(reason, class),
                ));
            }
        }
        for reason in ConnectionReason::ALL {
            out.push((
                format!("closed:{}", reason.as_str()),
                self.connections[reason as usize].load(Ordering::Relaxed),
            ));
        }
        out
    }

    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP holdfast_guard_refusals_total Requests refused by the guard, by reason and class.\n");
        out.push_str("# TYPE holdfast_guard_refusals_total counter\n");
        for reason in Reason::ALL {
            for class in Class::ALL {
                let _ = writeln!(
                    out,
                    "holdfast_guard_refusals_total{{reason=\"{}\",class=\"{}\"}} {}",
                    reason.as_str(),
                    class.as_str(),
                    self.total(reason, class)
                );
            }
        }
        out.push_str("# HELP holdfast_guard_connection_refusals_total Connections closed by the listener, by reason.\n");
        out.push_str("# TYPE holdfast_guard_connection_refusals_total counter\n");
        for reason in ConnectionReason::ALL {
            let n = self.connections[reason as usize].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "holdfast_guard_connection_refusals_total{{reason=\"{}\"}} {n}",
                reason.as_str()
            );
        }
        let _ = writeln!(
            out,
            "# TYPE holdfast_guard_connections_open gauge\nholdfast_guard_connections_open {}",
            self.open_connections.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP holdfast_guard_signed_in_lane_connections_total Connections served on the signed-in lane (their address had signed-in users served lately).\n\
             # TYPE holdfast_guard_signed_in_lane_connections_total counter\n\
             holdfast_guard_signed_in_lane_connections_total {}",
            self.lane_connections()
        );
    }

    /// One warning per kind of refusal that happened since the last call.
    pub fn log_since_last(&self) {
        let mut logged = self.logged.lock().unwrap_or_else(|p| p.into_inner());
        for reason in Reason::ALL {
            for class in Class::ALL {
                let now = self.total(reason, class);
                let before = std::mem::replace(&mut logged.0[reason as usize][class as usize], now);
                if now > before {
                    tracing::warn!(
                        reason = reason.as_str(),
                        class = class.as_str(),
                        refused = now - before,
                        "guard refused requests"
                    );
                }
            }
        }
        for reason in ConnectionReason::ALL {
            let now = self.connections[reason as usize].load(Ordering::Relaxed);
            let before = std::mem::replace(&mut logged.1[reason as usize], now);
            if now > before {
                tracing::warn!(
                    reason = reason.as_str(),
                    closed = now - before,
                    "guard closed connections"
                );
            }
        }
    }
}
