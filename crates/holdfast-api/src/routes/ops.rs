//! Operator endpoints: liveness, readiness, metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use holdfast_store::Readiness;

use crate::AppState;

/// The process is up and answering; says nothing about the database.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// Ready to serve: the store answers a query. `degraded` (still 200, so a
/// load balancer keeps sending reads here) when only reads can be served: no
/// database primary is reachable but a standby answers; writes get 503 with
/// `Retry-After` meanwhile. 503 only when the node can serve nothing.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.store.readiness().await {
        Readiness::Ready => (
            StatusCode::OK,
            Json(json!({"status": "ready", "store": "ok", "writes": "ok"})),
        ),
        Readiness::Degraded(why) => {
            tracing::warn!(reason = %why, "degraded: reads only");
            (
                StatusCode::OK,
                Json(json!({"status": "degraded", "store": why, "writes": "unavailable"})),
            )
        }
        Readiness::Down(why) => {
            tracing::warn!(error = %why, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "store": why, "writes": "unavailable"})),
            )
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.service.store.pool_usage();
    let mut text = state.metrics.render(pool.in_use, pool.size);
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
