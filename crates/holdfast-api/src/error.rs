//! The one error type at the HTTP edge. Every failure leaves as Mastodon's
//! JSON shape, `{"error": "…"}` (plus `error_description` for OAuth), with
//! the status that says whose fault it was. Internal detail is logged, not sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::{OAuthError, ServiceError};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub description: Option<String>,
    /// Per-field validation errors (`details`), as Mastodon's sign-up answers.
    pub details: Option<serde_json::Value>,
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
                tracing::warn!(reason = %m, "answering 503");
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
                let mut by_field = serde_json::Map::new();
                for d in details {
                    let entry = by_field
                        .entry(d.field.to_owned())
                        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                    if let serde_json::Value::Array(list) = entry {
                        list.push(json!({"error": format!("ERR_{}", d.code), "description": d.description}));
                    }
                }
                return ApiError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    error: message,
                    description: None,
                    details: Some(serde_json::Value::Object(by_field)),
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
        let mut body = match &self.description {
            Some(d) => json!({ "error": self.error, "error_description": d }),
            None => json!({ "error": self.error }),
        };
        if let Some(details) = self.details {
            body["details"] = details;
        }
        // `Retry-After` on 503 and 429 is added by the app's outermost layer
        // (`observe_and_bound`), from the one policy, `Limits::retry_after_for`.
        (self.status, Json(body)).into_response()
    }
}

/// A refusal in Mastodon's shape, for the guard (`holdfast_guard::RefusalBody`):
/// the one place that writes the error body, whoever refuses.
pub fn refusal(status: StatusCode, message: &str) -> Response {
    ApiError::new(status, message).into_response()
}
