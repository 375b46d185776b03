//! Prometheus metrics, kept in memory: requests by route and status, a
//! latency histogram per route, and database pool use. Labels come only
//! from matched route templates and status codes, so the set is bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS_S: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        drop(requests);
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry(route.to_owned()).or_default();
        for (i, bound) in BUCKETS_S.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum_s += secs;
    }

    pub fn render(&self, pool_in_use: usize, pool_size: usize) -> String {
        let mut out = String::new();
        out += "# HELP holdfast_http_requests_total HTTP requests by method, route and status.\n";
        out += "# TYPE holdfast_http_requests_total counter\n";
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "holdfast_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out += "# HELP holdfast_http_request_duration_seconds Time from request to response, by route.\n";
        out += "# TYPE holdfast_http_request_duration_seconds histogram\n";
        for (route, h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            for (i, bound) in BUCKETS_S.iter().enumerate() {
                let _ = writeln!(out, "holdfast_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum_s
            );
            let _ = writeln!(
                out,
                "holdfast_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out +=
            "# HELP holdfast_db_connections_in_use Database connections checked out right now.\n";
        out += "# TYPE holdfast_db_connections_in_use gauge\n";
        let _ = writeln!(out, "holdfast_db_connections_in_use {pool_in_use}");
        out += "# HELP holdfast_db_connections_max Size of the database connection pool.\n";
        out += "# TYPE holdfast_db_connections_max gauge\n";
        let _ = writeln!(out, "holdfast_db_connections_max {pool_size}");
        out
    }
}
