//! /api/v1/scheduled_statuses: the caller's statuses waiting to be
//! published (someone else's is 404).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_config::time::parse_iso8601;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{Empty, ScheduledStatus};
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

pub async fn index(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .scheduled_statuses(user.id, params.page()?)
        .await?;
    Ok(paging.each(&page, |s| ScheduledStatus::new(&state.urls, s)))
}

pub async fn show(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    Path(id): Path<String>,
) -> ApiResult<Json<ScheduledStatus>> {
    let row = state
        .service
        .scheduled_status(user.id, path_id(&id)?)
        .await?;
    Ok(Json(ScheduledStatus::new(&state.urls, &row)))
}

/// Moves the publication (`scheduled_at`, at least the lead time ahead).
pub async fn update(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<ScheduledStatus>> {
    let id = path_id(&id)?;
    let at = params
        .str("scheduled_at")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Scheduled at can't be blank"))?;
    let at = parse_iso8601(&at).ok_or_else(|| {
        ApiError::unprocessable("Validation failed: Scheduled at is not a valid date-time")
    })?;
    let row = state.service.reschedule_status(user.id, id, at).await?;
    Ok(Json(ScheduledStatus::new(&state.urls, &row)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .cancel_scheduled_status(user.id, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}
