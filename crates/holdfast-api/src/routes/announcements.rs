//! Announcements: holdfast has no way for admins to write one yet, so the
//! list is honestly empty and every announcement id names nothing (404).

use axum::extract::Path;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

/// `GET /api/v1/announcements`: a user token with `read` (as Mastodon).
pub async fn list(caller: Caller) -> ApiResult<Json<Value>> {
    caller.user("read")?;
    Ok(Json(json!([])))
}

/// `POST /api/v1/announcements/:id/dismiss`: no announcement exists to dismiss.
pub async fn dismiss(caller: Caller, Path(_id): Path<String>) -> ApiResult<Json<Value>> {
    caller.user("write:accounts")?;
    Err(ApiError::not_found())
}

/// `PUT`/`DELETE /api/v1/announcements/:id/reactions/:name`: nothing to react to.
pub async fn reaction(
    caller: Caller,
    Path((_id, _name)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.user("write:favourites")?;
    Err(ApiError::not_found())
}
