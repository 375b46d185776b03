//! /api/v1/scheduled_statuses: the caller's statuses waiting to be
//! published (someone else's is 404).

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use holdfast_config::time::parse_iso8601;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::ScheduledStatus;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

pub async fn index(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .scheduled_statuses(user.id, params.page()?)
        .await?;
    let items: Vec<ScheduledStatus> = page
        .items
        .iter()
        .map(|s| ScheduledStatus::new(&state.urls, s))
        .collect();
    Ok(crate::paging::page_response(&headers, &uri, &page, items))
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
) -> ApiResult<Json<serde_json::Value>> {
    state
        .service
        .cancel_scheduled_status(user.id, path_id(&id)?)
        .await?;
    Ok(Json(serde_json::Value::Object(Default::default())))
}
