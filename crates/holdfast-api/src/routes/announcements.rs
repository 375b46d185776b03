//! Announcements admins publish (`holdfast announce`, or the web UI's
//! moderation pages): the active ones, each with the caller's read state
//! and reactions; dismissing marks one read.

use axum::extract::{Path, State};
use axum::Json;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{Announcement, Empty};
use crate::error::ApiResult;
use crate::params::Params;
use crate::AppState;

/// `GET /api/v1/announcements`: a user token with `read` (as Mastodon);
/// dismissed ones only with `with_dismissed=true`.
pub async fn list(
    State(state): State<AppState>,
    user: User<scope::Read>,
    params: Params,
) -> ApiResult<Json<Vec<Announcement>>> {
    let with_dismissed = params.bool("with_dismissed")?.unwrap_or(false);
    let all = state.service.announcements(user.id, with_dismissed).await?;
    Ok(Json(all.iter().map(Announcement::new).collect()))
}

/// `POST /api/v1/announcements/:id/dismiss`.
pub async fn dismiss(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .dismiss_announcement(user.id, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}

/// `PUT /api/v1/announcements/:id/reactions/:name`.
pub async fn add_reaction(
    State(state): State<AppState>,
    user: User<scope::WriteFavourites>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .react_to_announcement(user.id, path_id(&id)?, &name, true)
        .await?;
    Ok(Json(Empty {}))
}

/// `DELETE /api/v1/announcements/:id/reactions/:name`.
pub async fn remove_reaction(
    State(state): State<AppState>,
    user: User<scope::WriteFavourites>,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .react_to_announcement(user.id, path_id(&id)?, &name, false)
        .await?;
    Ok(Json(Empty {}))
}
