//! The HTTP edge: the Mastodon client API, OAuth 2, the web pages and the
//! operator endpoints. Invariant: only this crate knows Mastodon's JSON
//! shapes and HTTP; handlers parse, call one service operation, and render.

pub mod auth;
pub mod cluster_view;
pub mod entities;
pub mod error;
pub mod metrics;
pub mod paging;
pub mod params;
pub mod push_client;
pub mod recent;
pub mod rendered;
mod routes;
pub mod status;
pub mod streaming;
pub mod web;

pub use error::refusal;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use holdfast_service::Service;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Appends more Prometheus text to `/metrics` (the guard's counters, say).
pub type ExtraMetrics = Arc<dyn Fn(&mut String) + Send + Sync>;

/// Totals of counters that only grow, by name (the guard's refusals:
/// `refused:<reason>:<class>`, `closed:<reason>`), for the status page's window.
pub type CounterSource = Arc<dyn Fn() -> Vec<(String, u64)> + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// Every URL a response carries is built here, from the base URL.
    pub urls: entities::Urls,
    pub metrics: Arc<Metrics>,
    pub extra_metrics: Option<ExtraMetrics>,
    /// The last few minutes, for the status page.
    pub recent: Arc<recent::Recent>,
    /// The guard's refusal counters (None when the guard is off).
    pub guard_counters: Option<CounterSource>,
    /// The rest of the cluster (None on a single node).
    pub cluster: Option<Arc<cluster_view::ClusterWatch>>,
    /// Statuses and accounts rendered once, kept by row version.
    pub rendered: Arc<rendered::Rendered>,
}

/// The whole HTTP application, with its per-request limits applied.
pub fn app(
    service: Service,
    extra_metrics: Option<ExtraMetrics>,
    guard_counters: Option<CounterSource>,
) -> Router {
    let limits = service.limits().clone();
    error::set_unavailable_log_interval(Duration::from_millis(limits.unavailable_log_interval_ms));
    let state = AppState {
        urls: entities::Urls::new(&service.base_url, service.rendered_notes.clone()),
        recent: Arc::new(recent::Recent::new(
            limits.status_window_s,
            limits.status_slot_s,
        )),
        cluster: cluster_view::ClusterWatch::new(&service.config.cluster, &limits).map(Arc::new),
        rendered: Arc::new(rendered::Rendered::sharing(service.kept_json.clone())),
        service,
        metrics: Arc::new(Metrics::default()),
        extra_metrics,
        guard_counters,
    };
    spawn_status_snapshots(&state);
    routes::router(&limits, &state)
        .fallback(|| async { ApiError::not_found() })
        // A known path with a method it does not take: JSON like every other
        // refusal (axum's default is an empty body); axum adds `Allow`.
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            )
        })
        .layer(DefaultBodyLimit::max(limits.request_body_max_bytes))
        .layer(middleware::from_fn_with_state(
            limits.refusal_text_max_bytes,
            json_refusals,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe_and_bound,
        ))
        .with_state(state)
}

/// Every refusal leaves as Mastodon's `{"error": …}`: the framework's own
/// rejections (a path segment that is not UTF-8, say) are plain text or
/// empty, and are rewritten here with the same status and their message.
/// axum's own rejections are one line of text; one longer than
/// `refusal_text_max_bytes` is not read (its status still leaves as JSON).
async fn json_refusals(
    State(text_max_bytes): State<usize>,
    request: Request,
    next: Next,
) -> Response {
    use axum::http::{header, HeaderValue};
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let plain = content_type.starts_with("text/plain");
    let bare =
        content_type.is_empty() && http_body::Body::size_hint(response.body()).exact() == Some(0);
    if !(plain || bare) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, text_max_bytes)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = entities::to_json(&entities::Error {
        error: message,
        error_description: None,
        details: None,
    });
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Times every request, bounds it by `request_timeout_ms` (503 past it), and records metrics.
async fn observe_and_bound(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let budget = Duration::from_millis(state.service.limits().request_timeout_ms);
    let response = match tokio::time::timeout(budget, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%method, %route, "request exceeded its time budget");
            ApiError::from(holdfast_service::ServiceError::Unavailable(
                "request timed out".into(),
            ))
            .into_response()
        }
    };
    let mut response = response;
    retry_after_if_missing(&mut response, state.service.limits());
    let status = response.status().as_u16();
    state
        .metrics
        .record(&method, &route, status, started.elapsed());
    // The status page describes client traffic, not its own polling or the
    // load balancer's health checks.
    if !is_ops_route(&route) {
        state.recent.record(status, started.elapsed());
    }
    tracing::debug!(%method, %route, status, elapsed_ms = started.elapsed().as_millis() as u64, "request");
    response
}

/// Every 503 and 429 says when to come back: a refusal that did not say
/// (a database outage, a timeout, too many streams) gets the one policy's
/// answer for an unknown wait.
fn retry_after_if_missing(response: &mut Response, limits: &holdfast_config::Limits) {
    use axum::http::{header, HeaderValue, StatusCode};
    let status = response.status();
    if (status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS)
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(limits.retry_after_for(None)),
        );
    }
}

fn is_ops_route(route: &str) -> bool {
    matches!(
        route,
        "/healthz" | "/readyz" | "/metrics" | "/status" | "/status.json"
    )
}

/// Every `status_slot_s`, the totals of the growing counters are kept, so the
/// status page can say what grew within its window. Only inside a runtime
/// (`serve`); the task ends with it.
fn spawn_status_snapshots(state: &AppState) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let state = state.clone();
    let every = Duration::from_secs(state.service.limits().status_slot_s.max(1));
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            state.recent.snapshot(status::counter_totals(&state));
        }
    });
}
