//! /api/v1/statuses: posting, reading, deleting, and acting on statuses.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_config::time::parse_iso8601;
use holdfast_service::posts::{EditInput, MediaAttributes, Scheduling};
use holdfast_service::statuses::{PollInput, PostInput};
use holdfast_store::Id;

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::{Context, ScheduledStatus, Status, StatusEdit, StatusSource};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

/// `media_ids[]` as ids, or 422.
fn media_ids(params: &Params) -> ApiResult<Vec<Id>> {
    params
        .list("media_ids")?
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            crate::params::parse_id(s)
                .ok_or_else(|| ApiError::unprocessable("Validation failed: media_ids must be ids"))
        })
        .collect()
}

/// `media_attributes[][id]`, `[description]`, `[focus]` of an edit
/// (`[thumbnail]` is not taken: a new preview is uploaded through
/// `PUT /api/v1/media/:id` before the media is attached).
fn media_attributes(params: &Params) -> ApiResult<Vec<MediaAttributes>> {
    params
        .object_list("media_attributes")?
        .iter()
        .map(|a| {
            let id = a.id("id")?.ok_or_else(|| {
                ApiError::unprocessable("Validation failed: media_attributes[][id] is required")
            })?;
            Ok(MediaAttributes {
                id,
                description: a.str("description")?,
                focus: a.str("focus")?,
            })
        })
        .collect()
}

/// `poll[options][]`, `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]`.
fn poll_input(params: &Params) -> ApiResult<Option<PollInput>> {
    let Some(poll) = params.object("poll")? else {
        return Ok(None);
    };
    let expires_in_s = match poll.str("expires_in")? {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(s.trim().parse::<i64>().map_err(|_| {
            ApiError::unprocessable(
                "Validation failed: poll[expires_in] must be a number of seconds",
            )
        })?),
    };
    Ok(Some(PollInput {
        options: poll.list("options")?,
        expires_in_s,
        multiple: poll.bool("multiple")?,
        hide_totals: poll.bool("hide_totals")?,
    }))
}

/// `POST /api/v1/statuses`: a Status, or with `scheduled_at` a ScheduledStatus.
pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Response> {
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::unprocessable("Idempotency-Key must be visible ASCII"))?
                .to_owned(),
        ),
    };
    let scheduled_at = match params.str("scheduled_at")?.filter(|s| !s.is_empty()) {
        None => None,
        Some(at) => Some(parse_iso8601(&at).ok_or_else(|| {
            ApiError::unprocessable("Validation failed: Scheduled at is not a valid date-time")
        })?),
    };
    let input = PostInput {
        status: params.str("status")?,
        in_reply_to_id: params.id("in_reply_to_id")?,
        visibility: params.str("visibility")?,
        spoiler_text: params.str("spoiler_text")?,
        sensitive: params.bool("sensitive")?,
        language: params.str("language")?,
        idempotency_key,
        media_ids: media_ids(&params)?,
        poll: poll_input(&params)?,
    };
    let (me, app) = (user.id, user.principal.app_id);
    Ok(match scheduled_at {
        Some(at) => match state.service.schedule_status(me, app, input, at).await? {
            Scheduling::Later(row) => Json(ScheduledStatus::new(&state.urls, &row)).into_response(),
            Scheduling::Now(bundle) => Json(Status::new(&state.urls, &bundle)).into_response(),
        },
        None => {
            let bundle = state.service.post_status(me, app, input).await?;
            Json(Status::new(&state.urls, &bundle)).into_response()
        }
    })
}

/// `PUT /api/v1/statuses/:id`: the author edits it.
pub async fn update(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Status>> {
    let input = EditInput {
        status: params.str("status")?,
        spoiler_text: params.str("spoiler_text")?,
        sensitive: params.bool("sensitive")?,
        language: params.str("language")?,
        media_ids: media_ids(&params)?,
        media_attributes: media_attributes(&params)?,
        poll: poll_input(&params)?,
    };
    let bundle = state
        .service
        .edit_status(user.id, path_id(&id)?, input)
        .await?;
    Ok(Json(Status::new(&state.urls, &bundle)))
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<StatusEdit>>> {
    let viewer = caller.viewer("read:statuses")?;
    let h = state.service.status_history(viewer, path_id(&id)?).await?;
    Ok(Json(StatusEdit::list(&state.urls, &h.bundle, &h.versions)))
}

pub async fn source(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StatusSource>> {
    let viewer = caller.viewer("read:statuses")?;
    let bundle = state.service.status_source(viewer, path_id(&id)?).await?;
    Ok(Json(StatusSource::new(&bundle)))
}

/// No translation service is configured: always an error (403 or 404).
pub async fn translate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Status>> {
    let viewer = caller.viewer("read:statuses")?;
    Err(state.service.translate(viewer, path_id(&id)?).await.into())
}

/// Quotes of a status: holdfast makes no quote posts, so an empty page.
pub async fn quotes(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Status>>> {
    let quotes = state.service.quotes(Some(user.id), path_id(&id)?).await?;
    Ok(Json(Status::list(&state.urls, &quotes)))
}

pub async fn revoke_quote(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path((id, _quoting)): Path<(String, String)>,
) -> ApiResult<Json<Status>> {
    Err(state
        .service
        .revoke_quote(user.id, path_id(&id)?)
        .await
        .into())
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
    let bundle = state.service.show_status(viewer, path_id(&id)?).await?;
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
status_action!(pin, WriteAccounts, pin);
status_action!(unpin, WriteAccounts, unpin);
status_action!(mute, WriteMutes, mute_conversation);
status_action!(unmute, WriteMutes, unmute_conversation);

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

// ---- api: interaction policies (issue 14) ----

/// `PUT /api/v1/statuses/:id/interaction_policy`: the author's own status
/// (404 otherwise), with a known `quote_approval_policy` (422 otherwise).
pub async fn interaction_policy(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Status>> {
    let policy = params.str("quote_approval_policy")?;
    let bundle = state
        .service
        .set_interaction_policy(user.id, path_id(&id)?, policy.as_deref())
        .await?;
    Ok(Json(Status::new(&state.urls, &bundle)))
}
