//! Operator endpoints: liveness, readiness, metrics.

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

/// Ready to serve: the store answers a query.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({"status": "ready", "store": "ok"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "store": e.to_string()})),
            )
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.service.store.pool_usage();
    let mut text = state.metrics.render(pool.in_use, pool.size);
    let decode_slots = state.service.limits().media_decode_concurrency.max(1);
    text.push_str(&format!(
        "# TYPE holdfast_media_decodes_running gauge\nholdfast_media_decodes_running {}\n\
         # TYPE holdfast_media_decode_slots gauge\nholdfast_media_decode_slots {decode_slots}\n",
        state.service.decoder.busy(decode_slots)
    ));
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
