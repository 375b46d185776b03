//! /api/v1/statuses: posting, reading, deleting, and acting on statuses.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use holdfast_service::statuses::PostInput;
use serde_json::{json, Value};

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Value>> {
    let principal = caller.require("write:statuses")?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::unprocessable("Idempotency-Key must be visible ASCII"))?
                .to_owned(),
        ),
    };
    if params.has("scheduled_at") {
        return Err(ApiError::unprocessable(
            "Scheduled statuses are not supported yet",
        ));
    }
    let input = PostInput {
        status: params.str("status")?,
        in_reply_to_id: params.id("in_reply_to_id")?,
        visibility: params.str("visibility")?,
        spoiler_text: params.str("spoiler_text")?,
        sensitive: params.bool("sensitive")?,
        language: params.str("language")?,
        idempotency_key,
        media_ids: params
            .list("media_ids")?
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                crate::params::parse_id(s).ok_or_else(|| {
                    ApiError::unprocessable("Validation failed: media_ids must be ids")
                })
            })
            .collect::<ApiResult<Vec<_>>>()?,
        has_poll: params.has("poll"),
    };
    let bundle = state.service.post_status(principal, input).await?;
    Ok(Json(entities::status(&state.service, &bundle)))
}

/// `GET /api/v1/statuses?id[]=`: several statuses at once; unknown, invisible
/// or malformed ids are skipped.
pub async fn index(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:statuses")?;
    let ids: Vec<holdfast_store::Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| crate::params::parse_id(s))
        .collect();
    let bundles = state.service.statuses_by_ids(viewer, &ids).await?;
    Ok(Json(Value::Array(
        bundles
            .iter()
            .map(|b| entities::status(&state.service, b))
            .collect(),
    )))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:statuses")?;
    let bundle = state.service.status(viewer, path_id(&id)?).await?;
    Ok(Json(entities::status(&state.service, &bundle)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:statuses")?;
    let bundle = state.service.delete_status(me, path_id(&id)?).await?;
    Ok(Json(entities::deleted_status(&state.service, &bundle)))
}

pub async fn context(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:statuses")?;
    let (ancestors, descendants) = state.service.context(viewer, path_id(&id)?).await?;
    let render = |list: &[holdfast_store::StatusBundle]| {
        list.iter()
            .map(|b| entities::status(&state.service, b))
            .collect::<Vec<_>>()
    };
    Ok(Json(
        json!({"ancestors": render(&ancestors), "descendants": render(&descendants)}),
    ))
}

/// The shape every status action shares: scope, id, one service call, the status back.
macro_rules! status_action {
    ($name:ident, $scope:literal, $op:ident) => {
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Value>> {
            let me = caller.user($scope)?;
            let bundle = state.service.$op(me, path_id(&id)?).await?;
            Ok(Json(entities::status(&state.service, &bundle)))
        }
    };
}

status_action!(favourite, "write:favourites", favourite);
status_action!(unfavourite, "write:favourites", unfavourite);
status_action!(unreblog, "write:statuses", unreblog);
status_action!(bookmark, "write:bookmarks", bookmark);
status_action!(unbookmark, "write:bookmarks", unbookmark);

pub async fn reblog(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:statuses")?;
    let visibility = params.str("visibility")?;
    let bundle = state
        .service
        .reblog(me, path_id(&id)?, visibility.as_deref())
        .await?;
    Ok(Json(entities::status(&state.service, &bundle)))
}

account_page_handler!(favourited_by, favourited_by);
account_page_handler!(reblogged_by, reblogged_by);
