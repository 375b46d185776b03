//! The one error type at the HTTP edge. Every failure leaves as Mastodon's
//! JSON shape, `{"error": "…"}` (plus `error_description` for OAuth), with
//! the status that says whose fault it was. Internal detail is logged, not sent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::{OAuthError, ServiceError};

use crate::entities::{Error, ErrorDetail, WrappedError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub description: Option<String>,
    /// Per-field validation errors (`details`), as Mastodon's sign-up answers.
    pub details: Option<BTreeMap<String, Vec<ErrorDetail>>>,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.into(),
            description: None,
            details: None,
        }
    }
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, msg)
    }
    pub fn unprocessable(msg: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, msg)
    }
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Record not found")
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "The access token is invalid")
    }
    /// An app-only token on a route that acts as a user.
    pub fn user_required() -> ApiError {
        ApiError::unprocessable("This method requires an authenticated user")
    }
    pub fn outside_scopes() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "This action is outside the authorized scopes",
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let (status, msg) = match e {
            ServiceError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            ServiceError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            ServiceError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            ServiceError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            ServiceError::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, m),
            ServiceError::Unavailable(m) => {
                log_unavailable(&m);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service temporarily unavailable, please retry".to_owned(),
                )
            }
            ServiceError::OAuth { error, description } => {
                // RFC 6749 §5.2: a client that failed to authenticate is a 401;
                // a refusal by the owner or the server, 403; the rest, 400.
                let status = match error {
                    OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
                    OAuthError::AccessDenied | OAuthError::UnauthorizedClient => {
                        StatusCode::FORBIDDEN
                    }
                    OAuthError::InvalidRequest
                    | OAuthError::InvalidGrant
                    | OAuthError::InvalidScope => StatusCode::BAD_REQUEST,
                };
                return ApiError {
                    status,
                    error: error.as_str().to_owned(),
                    description: Some(description),
                    details: None,
                };
            }
            ServiceError::Validation { message, details } => {
                let mut by_field: BTreeMap<String, Vec<ErrorDetail>> = BTreeMap::new();
                for d in details {
                    by_field
                        .entry(d.field.to_owned())
                        .or_default()
                        .push(ErrorDetail {
                            error: format!("ERR_{}", d.code),
                            description: d.description,
                        });
                }
                return ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    error: message,
                    description: None,
                    details: Some(by_field),
                };
            }
            ServiceError::Internal(m) => {
                tracing::error!(detail = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error".to_owned(),
                )
            }
        };
        ApiError::new(status, msg)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Error {
            error: self.error,
            error_description: self.description,
            details: self.details,
        };
        // `Retry-After` on 503 and 429 is added by the app's outermost layer
        // (`observe_and_bound`), from the one policy, `Limits::retry_after_for`.
        (self.status, Json(body)).into_response()
    }
}

/// An [`ApiError`] whose validation failures (those with `details`) leave
/// nested one level, as Mastodon's collections answer them; every other
/// failure leaves as usual.
pub struct NestedValidation(pub ApiError);

impl From<ApiError> for NestedValidation {
    fn from(e: ApiError) -> NestedValidation {
        NestedValidation(e)
    }
}

impl From<ServiceError> for NestedValidation {
    fn from(e: ServiceError) -> NestedValidation {
        NestedValidation(e.into())
    }
}

impl IntoResponse for NestedValidation {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.details.is_none() {
            return e.into_response();
        }
        let body = WrappedError {
            error: Error {
                error: e.error,
                error_description: e.description,
                details: e.details,
            },
        };
        (e.status, Json(body)).into_response()
    }
}

/// A refusal in Mastodon's shape, for the guard (`holdfast_guard::RefusalBody`):
/// the one place that writes the error body, whoever refuses.
pub fn refusal(status: StatusCode, message: &str) -> Response {
    ApiError::new(status, message).into_response()
}

/// How often a 503 gets a log line (`Limits::unavailable_log_interval_ms`;
/// set by [`crate::app`], 0 until then: every one).
static UNAVAILABLE_LOG_INTERVAL_MS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn set_unavailable_log_interval(every: Duration) {
    let ms = u64::try_from(every.as_millis()).unwrap_or(u64::MAX);
    UNAVAILABLE_LOG_INTERVAL_MS.store(ms, Ordering::Relaxed);
}

/// 503s are logged at most once an interval, each line with how many were
/// answered since the previous one without a line of their own: under a
/// log-in flood they are most answers (5,000 a second on one core), and a
/// line each was a cost of its own and a flood of the log.
fn log_unavailable(reason: &str) {
    static LOG: Mutex<QuietLog> = Mutex::new(QuietLog {
        last_line: None,
        unlogged: 0,
    });
    let every = Duration::from_millis(UNAVAILABLE_LOG_INTERVAL_MS.load(Ordering::Relaxed));
    let line = LOG
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .line_due(Instant::now(), every);
    if let Some(unlogged_since) = line {
        tracing::warn!(reason = %reason, unlogged_since, "answering 503");
    }
}

/// When the last line was written and how many events went unlogged since.
struct QuietLog {
    last_line: Option<Instant>,
    unlogged: u64,
}

impl QuietLog {
    /// `Some(unlogged since the last line)` if this event gets a line.
    fn line_due(&mut self, now: Instant, every: Duration) -> Option<u64> {
        if self
            .last_line
            .is_some_and(|at| now.saturating_duration_since(at) < every)
        {
            self.unlogged += 1;
            return None;
        }
        self.last_line = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_503s_is_a_line_a_second() {
        let mut log = QuietLog {
            last_line: None,
            unlogged: 0,
        };
        let every = Duration::from_secs(1);
        let t0 = Instant::now();
        assert_eq!(log.line_due(t0, every), Some(0), "the first gets its line");
        for i in 1..=4999 {
            assert_eq!(
                log.line_due(t0 + Duration::from_micros(200 * i), every),
                None
            );
        }
        assert_eq!(
            log.line_due(t0 + Duration::from_secs(1), every),
            Some(4999),
            "the next line says how many went without one"
        );
        assert_eq!(log.line_due(t0 + Duration::from_millis(1500), every), None);
        assert_eq!(log.line_due(t0 + Duration::from_secs(3), every), Some(1));
    }
}
