//! Announcements: holdfast has no way for admins to write one yet, so the
//! list is honestly empty and every announcement id names nothing (404).

use axum::extract::Path;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::{scope, User};
use crate::error::{ApiError, ApiResult};

/// `GET /api/v1/announcements`: a user token with `read` (as Mastodon).
pub async fn list(_user: User<scope::Read>) -> ApiResult<Json<Value>> {
    Ok(Json(json!([])))
}

/// `POST /api/v1/announcements/:id/dismiss`: no announcement exists to dismiss.
pub async fn dismiss(
    _user: User<scope::WriteAccounts>,
    Path(_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Err(ApiError::not_found())
}

/// `PUT`/`DELETE /api/v1/announcements/:id/reactions/:name`: nothing to react to.
pub async fn reaction(
    _user: User<scope::WriteFavourites>,
    Path((_id, _name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Err(ApiError::not_found())
}
