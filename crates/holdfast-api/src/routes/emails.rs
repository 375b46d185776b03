//! `/api/v1/emails`: holdfast sends no e-mail and asks for no confirmation,
//! so every account's address counts as confirmed, and asking for the
//! confirmation e-mail again gets Mastodon's answer for a confirmed one.

use axum::http::StatusCode;
use axum::Json;

use crate::auth::{scope, User};
use crate::error::{ApiError, ApiResult};

/// `POST /api/v1/emails/confirmations`: 403, as for an address already confirmed.
pub async fn resend_confirmation(_user: User<scope::WriteAccounts>) -> ApiResult<Json<()>> {
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "This method is only available while the e-mail is awaiting confirmation",
    ))
}

/// `GET /api/v1/emails/check_confirmation`: always confirmed.
pub async fn check_confirmation(_user: User<scope::ReadAccounts>) -> ApiResult<Json<bool>> {
    Ok(Json(true))
}
