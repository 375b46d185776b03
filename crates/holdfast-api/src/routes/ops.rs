//! Operator endpoints: liveness, readiness, metrics, the status page.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::AppState;

/// The process is up and answering; says nothing about the database.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready to serve, `degraded` (200: reads or REST are served) or not ready
/// (503: the node can serve nothing); see `status::readiness`.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (serves, body) = crate::status::readiness(&state).await;
    let code = if serves {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// The status page for operators: readable without logging in, no secrets.
pub async fn status_page(State(state): State<AppState>) -> impl IntoResponse {
    let report = crate::status::report(&state).await;
    crate::status::render_page(&state, &report)
}

/// The status page's figures as JSON.
pub async fn status_json(State(state): State<AppState>) -> impl IntoResponse {
    let report = crate::status::report(&state).await;
    ([(header::CACHE_CONTROL, "no-store")], Json(report))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.service.pool_usage();
    let mut text = state.metrics.render(pool.in_use, pool.size);
    let decode_slots = state.service.limits().media_decode_concurrency.max(1);
    text.push_str(&format!(
        "# TYPE holdfast_media_decodes_running gauge\nholdfast_media_decodes_running {}\n\
         # TYPE holdfast_media_decode_slots gauge\nholdfast_media_decode_slots {decode_slots}\n",
        state.service.decoder.busy()
    ));
    streaming_metrics(&state, &mut text);
    push_metrics(&state, &mut text);
    fanout_metrics(&state, &mut text);
    status_parts_metrics(&state, &mut text);
    rendered_metrics(&state, &mut text);
    token_cache_metrics(&state, &mut text);
    text.push_str(&format!(
        "# HELP holdfast_store_primary_reachable 0 while in degraded mode: no database primary, reads from a standby.\n\
         # TYPE holdfast_store_primary_reachable gauge\nholdfast_store_primary_reachable {}\n\
         # TYPE holdfast_store_standby_reads_total counter\nholdfast_store_standby_reads_total {}\n\
         # TYPE holdfast_store_write_retries_total counter\nholdfast_store_write_retries_total {}\n\
         # HELP holdfast_store_sync_standby_waits_total Writes that waited for a new primary to have a synchronous standby.\n\
         # TYPE holdfast_store_sync_standby_waits_total counter\nholdfast_store_sync_standby_waits_total {}\n",
        u8::from(!pool.primary_down),
        pool.standby_reads,
        pool.write_retries,
        pool.sync_standby_waits
    ));
    let cluster = match &state.cluster {
        Some(watch) => Some(watch.view().await),
        None => None,
    };
    crate::status::render_metrics(&state, cluster.as_ref(), &mut text);
    if let Some(extra) = &state.extra_metrics {
        extra(&mut text);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// Web Push deliveries by this node, by how they ended.
fn push_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let p = &state.service.push;
    out.push_str("# TYPE holdfast_push_deliveries_total counter\n");
    for (outcome, n) in [
        ("sent", p.sent.load(Relaxed)),
        ("retried", p.retried.load(Relaxed)),
        ("dropped", p.dropped.load(Relaxed)),
        ("gone", p.gone.load(Relaxed)),
    ] {
        let _ = writeln!(
            out,
            "holdfast_push_deliveries_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
}

/// The home fan-out workers' counts and lag (from a post to its job's last batch).
fn fanout_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let f = &state.service.fanout;
    for (name, kind, v) in [
        ("batches_total", "counter", f.batches.load(Relaxed)),
        ("rows_total", "counter", f.rows.load(Relaxed)),
        ("jobs_total", "counter", f.jobs.load(Relaxed)),
        ("lag_ms_last", "gauge", f.lag_ms_last.load(Relaxed)),
        ("lag_ms_max", "gauge", f.lag_ms_max.load(Relaxed)),
    ] {
        let _ = writeln!(
            out,
            "# TYPE holdfast_home_fanout_{name} {kind}\nholdfast_home_fanout_{name} {v}"
        );
    }
}

/// The cache of statuses' mentions, tags and media (home, issue 10).
fn status_parts_metrics(state: &AppState, out: &mut String) {
    cache_metrics(
        out,
        "status_parts_cache",
        state.service.status_parts_counts(),
    );
    // What accounts are to each viewer, kept for the home rules (session 12).
    cache_metrics(
        out,
        "home_relation_facts_cache",
        state.service.home_relation_facts_counts(),
    );
    // The viewer's own flags on statuses, kept for home pages (session 14).
    cache_metrics(
        out,
        "home_viewer_flags_cache",
        state.service.home_viewer_flags_counts(),
    );
}

/// A kept table's hits, misses and entries as `holdfast_{name}_total` and
/// `holdfast_{name}_entries`.
fn cache_metrics(out: &mut String, name: &str, c: holdfast_store::CacheCounts) {
    use std::fmt::Write;
    let _ = writeln!(out, "# TYPE holdfast_{name}_total counter");
    for (outcome, n) in [("hit", c.hits), ("miss", c.misses)] {
        let _ = writeln!(out, "holdfast_{name}_total{{outcome=\"{outcome}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# TYPE holdfast_{name}_entries gauge\nholdfast_{name}_entries {}",
        c.entries
    );
}

/// The kept rendered statuses and accounts (home, issue 10).
fn rendered_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    let (statuses, accounts) = state.rendered.counts();
    out.push_str("# TYPE holdfast_rendered_json_cache_total counter\n");
    for (kind, c) in [("status", statuses), ("account", accounts)] {
        for (outcome, n) in [("hit", c.hits), ("miss", c.misses)] {
            let _ = writeln!(
                out,
                "holdfast_rendered_json_cache_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
    }
    out.push_str("# TYPE holdfast_rendered_json_cache_entries gauge\n");
    for (kind, c) in [("status", statuses), ("account", accounts)] {
        let _ = writeln!(
            out,
            "holdfast_rendered_json_cache_entries{{kind=\"{kind}\"}} {}",
            c.entries
        );
    }
}

/// The cache of proved bearer tokens (post, issue 10).
fn token_cache_metrics(state: &AppState, out: &mut String) {
    use std::fmt::Write;
    let c = state.service.tokens.counts();
    out.push_str("# TYPE holdfast_token_cache_total counter\n");
    for (outcome, n) in [("hit", c.hits), ("miss", c.misses)] {
        let _ = writeln!(
            out,
            "holdfast_token_cache_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# TYPE holdfast_token_cache_entries gauge\nholdfast_token_cache_entries {}",
        c.entries
    );
}

/// The streaming API's gauges and counters.
fn streaming_metrics(state: &AppState, out: &mut String) {
    use holdfast_service::events::{DropReason, Refusal};
    use std::fmt::Write;
    use std::sync::atomic::Ordering::Relaxed;
    let hub = &state.service.events;
    let s = hub.stats();
    out.push_str("# TYPE holdfast_streaming_connections gauge\n");
    let _ = writeln!(
        out,
        "holdfast_streaming_connections{{transport=\"sse\"}} {}",
        s.connections_sse.load(Relaxed)
    );
    let _ = writeln!(
        out,
        "holdfast_streaming_connections{{transport=\"websocket\"}} {}",
        s.connections_ws.load(Relaxed)
    );
    sample(
        out,
        "holdfast_streaming_slots",
        "gauge",
        hub.open_connections(),
    );
    sample(
        out,
        "holdfast_streaming_subscriptions",
        "gauge",
        s.subscriptions.load(Relaxed),
    );
    sample(
        out,
        "holdfast_streaming_queued_bytes",
        "gauge",
        s.bytes_queued.load(Relaxed),
    );
    sample(
        out,
        "holdfast_streaming_events_total",
        "counter",
        s.events_published.load(Relaxed),
    );
    sample(
        out,
        "holdfast_streaming_messages_total",
        "counter",
        s.messages_sent.load(Relaxed),
    );
    out.push_str("# TYPE holdfast_streaming_dropped_total counter\n");
    for r in DropReason::ALL {
        let _ = writeln!(
            out,
            "holdfast_streaming_dropped_total{{reason=\"{}\"}} {}",
            r.as_str(),
            s.dropped(r)
        );
    }
    if let Some(feed) = hub.feed() {
        let f = feed.stats();
        sample(
            out,
            "holdfast_streaming_feed_live",
            "gauge",
            u8::from(feed.is_live()),
        );
        out.push_str("# TYPE holdfast_streaming_feed_events_total counter\n");
        for (what, n) in [
            ("published", &f.published),
            ("received", &f.received),
            ("dropped", &f.dropped),
        ] {
            let _ = writeln!(
                out,
                "holdfast_streaming_feed_events_total{{direction=\"{what}\"}} {}",
                n.load(Relaxed)
            );
        }
        sample(
            out,
            "holdfast_streaming_feed_connects_total",
            "counter",
            f.connects.load(Relaxed),
        );
    }
    out.push_str("# TYPE holdfast_streaming_refused_total counter\n");
    for r in Refusal::ALL {
        let _ = writeln!(
            out,
            "holdfast_streaming_refused_total{{reason=\"{}\"}} {}",
            r.as_str(),
            s.refused(r)
        );
    }
}

/// One unlabelled Prometheus sample with its `# TYPE` line.
fn sample(out: &mut String, name: &str, kind: &str, value: impl std::fmt::Display) {
    use std::fmt::Write;
    let _ = writeln!(out, "# TYPE {name} {kind}\n{name} {value}");
}
