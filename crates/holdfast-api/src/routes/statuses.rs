//! /api/v1/statuses: posting, reading, deleting, and acting on statuses.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use holdfast_service::statuses::PostInput;

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::{Context, Status};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Status>> {
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
    let bundle = state
        .service
        .post_status(user.id, user.principal.app_id, input)
        .await?;
    Ok(Json(Status::new(&state.urls, &bundle)))
}

/// `GET /api/v1/statuses?id[]=`: several statuses at once; unknown, invisible
/// or malformed ids are skipped.
pub async fn index(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<Status>>> {
    let viewer = caller.viewer("read:statuses")?;
    let ids: Vec<holdfast_store::Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| crate::params::parse_id(s))
        .collect();
    let bundles = state.service.statuses_by_ids(viewer, &ids).await?;
    Ok(Json(Status::list(&state.urls, &bundles)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Status>> {
    let viewer = caller.viewer("read:statuses")?;
    let bundle = state.service.status(viewer, path_id(&id)?).await?;
    Ok(Json(Status::new(&state.urls, &bundle)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
) -> ApiResult<Json<Status>> {
    let bundle = state.service.delete_status(user.id, path_id(&id)?).await?;
    Ok(Json(Status::deleted(&state.urls, &bundle)))
}

pub async fn context(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Context>> {
    let viewer = caller.viewer("read:statuses")?;
    let (ancestors, descendants) = state.service.context(viewer, path_id(&id)?).await?;
    Ok(Json(Context {
        ancestors: Status::list(&state.urls, &ancestors),
        descendants: Status::list(&state.urls, &descendants),
    }))
}

/// The shape every status action shares: scope, id, one service call, the status back.
macro_rules! status_action {
    ($name:ident, $scope:ident, $op:ident) => {
        pub async fn $name(
            State(state): State<AppState>,
            user: User<scope::$scope>,
            Path(id): Path<String>,
        ) -> ApiResult<Json<Status>> {
            let bundle = state.service.$op(user.id, path_id(&id)?).await?;
            Ok(Json(Status::new(&state.urls, &bundle)))
        }
    };
}

status_action!(favourite, WriteFavourites, favourite);
status_action!(unfavourite, WriteFavourites, unfavourite);
status_action!(unreblog, WriteStatuses, unreblog);
status_action!(bookmark, WriteBookmarks, bookmark);
status_action!(unbookmark, WriteBookmarks, unbookmark);

pub async fn reblog(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Status>> {
    let me = user.id;
    let visibility = params.str("visibility")?;
    let bundle = state
        .service
        .reblog(me, path_id(&id)?, visibility.as_deref())
        .await?;
    Ok(Json(Status::new(&state.urls, &bundle)))
}

account_page_handler!(favourited_by, favourited_by);
account_page_handler!(reblogged_by, reblogged_by);
