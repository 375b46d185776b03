//! /api/v1/notifications and /api/v1/markers.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::paging::page_response;
use crate::params::{parse_id, Params};
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:notifications")?;
    let page = state
        .service
        .notifications(
            me,
            &params.list("types")?,
            &params.list("exclude_types")?,
            params.page()?,
        )
        .await?;
    let items = page
        .items
        .iter()
        .map(|n| entities::notification(&state.service, n))
        .collect();
    Ok(page_response(&headers, &uri, &page, items))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:notifications")?;
    let n = state.service.notification(me, path_id(&id)?).await?;
    Ok(Json(entities::notification(&state.service, &n)))
}

pub async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:notifications")?;
    state
        .service
        .dismiss_notification(me, path_id(&id)?)
        .await?;
    Ok(Json(json!({})))
}

pub async fn clear(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let me = caller.user("write:notifications")?;
    state.service.clear_notifications(me).await?;
    Ok(Json(json!({})))
}

pub async fn markers(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:statuses")?;
    let list = state.service.markers(me, &params.list("timeline")?).await?;
    Ok(Json(entities::markers(&list)))
}

pub async fn set_markers(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:statuses")?;
    let mut updates = Vec::new();
    for timeline in holdfast_service::lists::MARKER_TIMELINES {
        if let Some(obj) = params.object(timeline)? {
            let raw = obj.str("last_read_id")?.ok_or_else(|| {
                ApiError::unprocessable(format!("{timeline}[last_read_id] is required"))
            })?;
            let id = parse_id(&raw).ok_or_else(|| {
                ApiError::unprocessable(format!("{timeline}[last_read_id] must be an id"))
            })?;
            updates.push((timeline.to_owned(), id));
        }
    }
    let list = state.service.set_markers(me, &updates).await?;
    Ok(Json(entities::markers(&list)))
}
