//! The operator's view of this node (and of its cluster): `/readyz`'s
//! decision, and the report behind `/status` (HTML) and `/status.json`.
//! Readable without logging in, so it shows figures and reasons only: no
//! tokens, addresses of clients, database URLs or credentials.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;

use axum::response::Response;
use holdfast_store::Readiness;
use maud::{html, Markup};
use serde::Serialize;
use serde_json::{json, Value};

use crate::cluster_view::ClusterView;
use crate::recent::RequestFigures;
use crate::web::layout::Page;
use crate::AppState;

/// Why a node whose store is fine says `degraded`.
const FEED_DOWN: &str = "the cross-node event feed is reconnecting: streams on this node miss other nodes' events meanwhile";

/// What `/readyz` says, and whether it is 200 (`serves`) or 503. `degraded`
/// (still 200, so a load balancer keeps sending requests here) when the
/// node serves only part of what it should: no database primary is
/// reachable but a standby answers (reads are served; writes wait out a
/// failover, then get 503 with `Retry-After`), or the event feed is
/// reconnecting (REST is whole; this node's streams miss other nodes'
/// events meanwhile). After a failover every node's feed reconnects at
/// about the same moment: answering 503 then took every node out of the
/// balancer at once, and clients got the balancer's 503 instead of reads
/// this node could serve. With no database host at all but recent timeline
/// pages in the read cache, still degraded: those pages are served. Not
/// serving (503) only when the node can serve nothing.
pub async fn readiness(state: &AppState) -> (bool, Value) {
    let feed_live = state.service.events.feed().map(|f| f.is_live());
    let events = |body: &mut Value| {
        if let Some(live) = feed_live {
            body["events"] = json!(if live { "live" } else { "down" });
        }
    };
    match state.service.readiness().await {
        Readiness::Ready if feed_live == Some(false) => {
            tracing::warn!("degraded: the event feed is reconnecting");
            (
                true,
                json!({"status": "degraded", "store": "ok", "writes": "ok", "events": "down",
                       "reason": FEED_DOWN}),
            )
        }
        Readiness::Ready => {
            let mut body = json!({"status": "ready", "store": "ok", "writes": "ok"});
            events(&mut body);
            (true, body)
        }
        Readiness::Degraded(why) => {
            tracing::warn!(reason = %why, "degraded: reads only");
            let mut body =
                json!({"status": "degraded", "store": why, "writes": "unavailable", "reason": why});
            events(&mut body);
            (true, body)
        }
        Readiness::Down(why) if state.service.read_cache.fresh_pages() > 0 => {
            let why = format!(
                "no database host answers ({why}): answering the {} most recent timeline pages from memory, at most {} s old; everything else gets 503",
                state.service.read_cache.fresh_pages(),
                state.service.limits().read_cache_stale_max_s
            );
            tracing::warn!(reason = %why, "degraded: read cache only");
            let mut body = json!({"status": "degraded", "store": "unavailable", "writes": "unavailable",
                                  "reason": why});
            events(&mut body);
            (true, body)
        }
        Readiness::Down(why) => {
            tracing::warn!(error = %why, "readiness check failed");
            let mut body = json!({"status": "not ready", "store": why, "writes": "unavailable",
                                  "reason": why});
            events(&mut body);
            (false, body)
        }
    }
}

/// Counters that only grow, by name, for the window's snapshots: the
/// guard's refusals (`refused:<reason>:<class>`, `closed:<reason>`), reads a
/// standby served, writes retried, the event feed's traffic.
pub fn counter_totals(state: &AppState) -> BTreeMap<String, u64> {
    let mut totals: BTreeMap<String, u64> = state
        .guard_counters
        .as_ref()
        .map(|source| source().into_iter().collect())
        .unwrap_or_default();
    let pool = state.service.pool_usage();
    totals.insert("store:standby_reads".into(), pool.standby_reads);
    totals.insert("store:write_retries".into(), pool.write_retries);
    totals.insert(
        "store:read_cache_served".into(),
        state.service.read_cache.served.load(Relaxed),
    );
    if let Some(feed) = state.service.events.feed() {
        let f = feed.stats();
        totals.insert("feed:connects".into(), f.connects.load(Relaxed));
        totals.insert("feed:received".into(), f.received.load(Relaxed));
        totals.insert("feed:published".into(), f.published.load(Relaxed));
        totals.insert("feed:dropped".into(), f.dropped.load(Relaxed));
    }
    totals
}

#[derive(Serialize)]
pub struct StatusReport {
    /// `ok`, `degraded` or `down`: this node, as `/readyz` decides.
    pub status: &'static str,
    /// Why, when not `ok` (this node's, then the cluster's).
    pub reasons: Vec<String>,
    pub node: NodeFigures,
    pub store: StoreFigures,
    pub requests: WindowedRequests,
    pub guard: GuardFigures,
    pub streaming: StreamingFigures,
    pub events: EventFigures,
    /// None on a single node (no `[cluster]` in the config).
    pub cluster: Option<ClusterView>,
}

#[derive(Serialize)]
pub struct NodeFigures {
    pub version: &'static str,
    pub uptime_s: u64,
    pub domain: String,
}

#[derive(Serialize)]
pub struct StoreFigures {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// `/readyz`'s word: `ready`, `degraded`, `not ready`.
    pub readiness: String,
    /// Can this node reach a database primary (writes possible)?
    pub primary_reachable: bool,
    /// Is this node reading from a standby because no primary answers?
    pub standby_in_use: bool,
    pub writes: String,
    pub pool_in_use: usize,
    pub pool_size: usize,
    /// Within the window.
    pub standby_reads: u64,
    pub write_retries: u64,
    /// Timeline pages answered from the read cache because no database host answered.
    pub cached_pages: u64,
}

#[derive(Serialize)]
pub struct WindowedRequests {
    pub window_s: u64,
    #[serde(flatten)]
    pub figures: RequestFigures,
}

#[derive(Serialize)]
pub struct Refused {
    pub reason: String,
    /// The admission class (`interactive`, `anonymous`, `expensive`), or
    /// `connection` for connections the listener closed.
    pub class: String,
    pub count: u64,
}

#[derive(Serialize)]
pub struct GuardFigures {
    pub enabled: bool,
    pub window_s: u64,
    /// Requests refused and connections closed within the window.
    pub refused: u64,
    /// Every reason and class with a refusal in the window, most first.
    pub by_reason: Vec<Refused>,
}

#[derive(Serialize)]
pub struct StreamingFigures {
    pub connections: usize,
    pub sse: usize,
    pub websocket: usize,
}

#[derive(Serialize)]
pub struct EventFigures {
    /// `live`, `down`, or `none` (a single node needs no feed).
    pub feed: &'static str,
    /// Within the window.
    pub connects: u64,
    pub received: u64,
    pub published: u64,
    pub dropped: u64,
}

pub async fn report(state: &AppState) -> StatusReport {
    let svc = &state.service;
    let limits = svc.limits();
    let window_s = limits.status_window_s;
    let ((serves, ready), cluster) = tokio::join!(readiness(state), async {
        match &state.cluster {
            Some(watch) => Some(watch.view().await),
            None => None,
        }
    });
    let word = ready["status"].as_str().unwrap_or("unknown").to_owned();
    let mut reasons = Vec::new();
    if let Some(why) = ready["reason"].as_str() {
        reasons.push(why.to_owned());
    }
    if let Some(c) = &cluster {
        reasons.extend(cluster_problems(c));
    }
    let status = match (serves, word.as_str()) {
        (false, _) => "down",
        (true, "ready") if reasons.is_empty() => "ok",
        _ => "degraded",
    };
    let pool = svc.pool_usage();
    let growth = state.recent.growth(&counter_totals(state));
    let grew = |k: &str| growth.get(k).copied().unwrap_or(0);
    let mut by_reason: Vec<Refused> = growth
        .iter()
        .filter(|(_, n)| **n > 0)
        .filter_map(|(k, n)| {
            let mut parts = k.split(':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("refused"), Some(reason), Some(class)) => Some(Refused {
                    reason: reason.into(),
                    class: class.into(),
                    count: *n,
                }),
                (Some("closed"), Some(reason), None) => Some(Refused {
                    reason: reason.into(),
                    class: "connection".into(),
                    count: *n,
                }),
                _ => None,
            }
        })
        .collect();
    by_reason.sort_by(|a, b| b.count.cmp(&a.count));
    let hub = &svc.events;
    let s = hub.stats();
    StatusReport {
        status,
        reasons,
        node: NodeFigures {
            version: holdfast_config::HOLDFAST_VERSION,
            uptime_s: state.recent.uptime().as_secs(),
            domain: svc.config.domain.clone(),
        },
        store: StoreFigures {
            backend: if svc.config.database_url.is_some() {
                "postgres"
            } else {
                "sqlite"
            },
            primary_reachable: ready["writes"] == "ok",
            standby_in_use: pool.primary_down,
            writes: ready["writes"].as_str().unwrap_or("unknown").to_owned(),
            readiness: word,
            pool_in_use: pool.in_use,
            pool_size: pool.size,
            standby_reads: grew("store:standby_reads"),
            write_retries: grew("store:write_retries"),
            cached_pages: grew("store:read_cache_served"),
        },
        requests: WindowedRequests {
            window_s,
            figures: state.recent.requests(),
        },
        guard: GuardFigures {
            enabled: state.guard_counters.is_some(),
            window_s,
            refused: by_reason.iter().map(|r| r.count).sum(),
            by_reason,
        },
        streaming: StreamingFigures {
            connections: hub.open_connections(),
            sse: s.connections_sse.load(Relaxed),
            websocket: s.connections_ws.load(Relaxed),
        },
        events: EventFigures {
            feed: match hub.feed() {
                None => "none",
                Some(f) if f.is_live() => "live",
                Some(_) => "down",
            },
            connects: grew("feed:connects"),
            received: grew("feed:received"),
            published: grew("feed:published"),
            dropped: grew("feed:dropped"),
        },
        cluster,
    }
}

/// What is wrong elsewhere in the cluster, in words.
fn cluster_problems(c: &ClusterView) -> Vec<String> {
    let mut out: Vec<String> = c
        .nodes
        .iter()
        .filter(|n| n.status != "ready")
        .map(|n| match &n.reason {
            Some(why) => format!("node {} is {}: {why}", n.address, n.status),
            None => format!("node {} is {}", n.address, n.status),
        })
        .collect();
    if let Some(db) = &c.database {
        if db.answered_by.is_none() {
            out.push(
                "no Patroni REST API answered: the database cluster's state is unknown".into(),
            );
        } else if db.primary.is_none() {
            out.push("Patroni names no running primary: a failover is under way or the database cluster is down".into());
        }
        for m in db
            .members
            .iter()
            .filter(|m| m.role != "leader" && !matches!(m.state.as_str(), "streaming" | "running"))
        {
            out.push(format!("database member {} is {}", m.name, m.state));
        }
        for u in &db.unreachable {
            out.push(format!(
                "Patroni at {} did not answer: {}",
                u.address,
                u.reason.as_deref().unwrap_or("")
            ));
        }
    }
    out
}

/// Prometheus lines for the window's figures and the cluster view.
pub fn render_metrics(state: &AppState, cluster: Option<&ClusterView>, out: &mut String) {
    use std::fmt::Write;
    let f = state.recent.requests();
    let _ = writeln!(
        out,
        "# HELP holdfast_build_info This node's version.\n# TYPE holdfast_build_info gauge\n\
         holdfast_build_info{{version=\"{}\"}} 1\n\
         # TYPE holdfast_uptime_seconds gauge\nholdfast_uptime_seconds {}\n\
         # HELP holdfast_recent_requests_per_second Requests answered per second over the status window (ops endpoints excluded).\n\
         # TYPE holdfast_recent_requests_per_second gauge\nholdfast_recent_requests_per_second {}\n\
         # HELP holdfast_recent_error_ratio Share of 5xx answers over the status window.\n\
         # TYPE holdfast_recent_error_ratio gauge\nholdfast_recent_error_ratio {}\n\
         # HELP holdfast_read_cache_served_total Timeline pages answered from the read cache (no database host answered).\n\
         # TYPE holdfast_read_cache_served_total counter\nholdfast_read_cache_served_total {}\n\
         # HELP holdfast_read_cache_invalidated_total Cached timeline pages changed or dropped because a status in them was deleted or edited (on any node).\n\
         # TYPE holdfast_read_cache_invalidated_total counter\nholdfast_read_cache_invalidated_total {}\n\
         # HELP holdfast_recent_latency_seconds Latency quantiles over the status window.\n\
         # TYPE holdfast_recent_latency_seconds gauge",
        holdfast_config::HOLDFAST_VERSION,
        state.recent.uptime().as_secs(),
        f.per_second,
        f.error_ratio,
        state.service.read_cache.served.load(Relaxed),
        state.service.read_cache.invalidated.load(Relaxed),
    );
    for (q, v) in [("0.5", f.p50_ms), ("0.99", f.p99_ms)] {
        if let Some(ms) = v {
            let _ = writeln!(
                out,
                "holdfast_recent_latency_seconds{{quantile=\"{q}\"}} {}",
                ms / 1000.0
            );
        }
    }
    if let Some(view) = cluster {
        out.push_str("# HELP holdfast_cluster_node_ready Each configured node's /readyz: 1 ready, 0.5 degraded, 0 otherwise.\n# TYPE holdfast_cluster_node_ready gauge\n");
        for n in &view.nodes {
            let v = match n.status.as_str() {
                "ready" => "1",
                "degraded" => "0.5",
                _ => "0",
            };
            let _ = writeln!(
                out,
                "holdfast_cluster_node_ready{{node=\"{}\"}} {v}",
                n.address
            );
        }
        if let Some(db) = &view.database {
            let _ = writeln!(
                out,
                "# HELP holdfast_cluster_db_primary 1 when Patroni names a running primary.\n# TYPE holdfast_cluster_db_primary gauge\nholdfast_cluster_db_primary {}",
                u8::from(db.primary.is_some())
            );
            out.push_str("# TYPE holdfast_cluster_db_member_lag_bytes gauge\n");
            for m in &db.members {
                if let Some(lag) = m.lag.as_ref().and_then(Value::as_u64) {
                    let _ = writeln!(
                        out,
                        "holdfast_cluster_db_member_lag_bytes{{member=\"{}\",role=\"{}\"}} {lag}",
                        m.name, m.role
                    );
                }
            }
        }
    }
}

// ---- HTML ----

/// A table whose every cell is plain text (maud escapes it).
fn table(head: &[&str], rows: &[Vec<String>]) -> Markup {
    html! {
        table {
            thead { tr { @for h in head { th scope="col" { (h) } } } }
            tbody { @for row in rows { tr { @for cell in row { td { (cell) } } } } }
        }
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or("–".into(), |ms| format!("{ms:.1} ms"))
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

/// The status page: every figure of the report, server-rendered in the web
/// UI's page shell (its stylesheet and Content-Security-Policy), never cached.
pub fn render_page(state: &AppState, r: &StatusReport) -> Response {
    let q = &r.requests.figures;
    let window = format!("last {} s", r.requests.window_s);
    // `data-refresh`: the page's script fetches the page again now and then and
    // puts the new figures in (progressive enhancement; without it, reload).
    let main = html! {
        div #status-report data-refresh="/status" {
        p.(r.status) { strong { "This node is " (r.status) "." } }
        @if !r.reasons.is_empty() {
            ul.reasons { @for why in &r.reasons { li { (why) } } }
        }
        h2 { "This node" }
        (table(
            &["version", "uptime", "store", "readiness", "primary reachable", "standby in use", "writes", "connections in use"],
            &[vec![
                r.node.version.into(),
                format!("{} s", r.node.uptime_s),
                r.store.backend.into(),
                r.store.readiness.clone(),
                yes_no(r.store.primary_reachable),
                yes_no(r.store.standby_in_use),
                r.store.writes.clone(),
                format!("{} of {}", r.store.pool_in_use, r.store.pool_size),
            ]],
        ))
        h2 { "Requests (" (window) ")" }
        (table(
            &["requests", "per second", "5xx answers", "error rate", "p50", "p99", "standby reads", "write retries", "pages from the read cache"],
            &[vec![
                q.requests.to_string(),
                format!("{:.2}", q.per_second),
                q.server_errors.to_string(),
                format!("{:.2} %", q.error_ratio * 100.0),
                ms(q.p50_ms),
                ms(q.p99_ms),
                r.store.standby_reads.to_string(),
                r.store.write_retries.to_string(),
                r.store.cached_pages.to_string(),
            ]],
        ))
        h2 { "Refused by the guard (" (window) ")" }
        @if !r.guard.enabled {
            p { "The guard is off (measurement mode): nothing is refused for load." }
        } @else if r.guard.by_reason.is_empty() {
            p { "Nothing refused." }
        } @else {
            (table(
                &["reason", "class", "refused"],
                &r.guard.by_reason.iter().map(|x| vec![x.reason.clone(), x.class.clone(), x.count.to_string()]).collect::<Vec<_>>(),
            ))
        }
        h2 { "Streaming" }
        (table(
            &["stream connections", "SSE", "WebSocket", "event feed", "feed (re)connects", "events received", "events published", "events dropped"],
            &[vec![
                r.streaming.connections.to_string(),
                r.streaming.sse.to_string(),
                r.streaming.websocket.to_string(),
                r.events.feed.into(),
                r.events.connects.to_string(),
                r.events.received.to_string(),
                r.events.published.to_string(),
                r.events.dropped.to_string(),
            ]],
        ))
        h2 { "Cluster" }
        @match &r.cluster {
            None => p { "A single node (no " code { "[cluster]" } " configured)." },
            Some(c) => (cluster_markup(c)),
        }
        p { a href="/status.json" { "The same as JSON" } " · reload for fresh figures (with JavaScript on, they refresh by themselves)" }
        }
    };
    let title = format!("Status: {}", r.status);
    Page::new(&title, None).private().render(state, main)
}

fn cluster_markup(c: &ClusterView) -> Markup {
    let nodes: Vec<Vec<String>> = c
        .nodes
        .iter()
        .map(|n| {
            vec![
                n.address.clone(),
                n.status.clone(),
                n.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    html! {
        (table(&["node", "status", "why"], &nodes))
        @if let Some(db) = &c.database {
            h3 {
                "Database (Patroni, as " (db.answered_by.as_deref().unwrap_or("no member"))
                " sees it; primary: " (db.primary.as_deref().unwrap_or("none")) ")"
            }
            (table(
                &["member", "address", "role", "state", "lag (bytes)", "timeline"],
                &db.members.iter().map(|m| vec![
                    m.name.clone(),
                    m.address.clone(),
                    m.role.clone(),
                    m.state.clone(),
                    m.lag.as_ref().map_or(String::new(), Value::to_string),
                    m.timeline.map_or(String::new(), |t| t.to_string()),
                ]).collect::<Vec<_>>(),
            ))
            @if !db.unreachable.is_empty() {
                (table(
                    &["Patroni REST API not answering", "why"],
                    &db.unreachable.iter().map(|u| vec![u.address.clone(), u.reason.clone().unwrap_or_default()]).collect::<Vec<_>>(),
                ))
            }
        }
        p.meta { "fetched " (c.age_ms) " ms ago" }
    }
}
