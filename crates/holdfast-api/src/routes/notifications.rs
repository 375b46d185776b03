//! /api/v1/notifications, /api/v2/notifications (grouped) and /api/v1/markers.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::notification_groups::GroupFilter;
use serde_json::{json, Value};

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::paging::{link_header, page_response};
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
            from_account(&params),
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

/// `account_id`: only notifications from that account (blank: no filter, as
/// in Mastodon). A value that is not an id names no account, so nothing matches.
fn from_account(params: &Params) -> Option<holdfast_store::Id> {
    match params.str("account_id") {
        Ok(Some(raw)) if !raw.trim().is_empty() => Some(parse_id(raw.trim()).unwrap_or(-1)),
        Ok(_) => None,
        Err(_) => Some(-1),
    }
}

fn group_filter(params: &Params) -> ApiResult<GroupFilter> {
    Ok(GroupFilter {
        types: params.list("types")?,
        exclude_types: params.list("exclude_types")?,
        grouped_types: if params.has("grouped_types") {
            Some(params.list("grouped_types")?)
        } else {
            None
        },
        from_account: from_account(params),
    })
}

/// `GET /api/v2/notifications`: grouped, with `Link` headers.
pub async fn grouped(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:notifications")?;
    let partial = match params.str("expand_accounts")?.as_deref() {
        None | Some("full") => false,
        Some("partial_avatars") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid value for 'expand_accounts': '{other}', allowed values are 'full' and 'partial_avatars'"
            )))
        }
    };
    let mut page = state
        .service
        .notification_groups(me, &group_filter(&params)?, params.page()?, partial)
        .await?;
    let body = match page.items.pop() {
        Some(g) => entities::grouped_notifications(&state.service, &g, partial),
        None => entities::grouped_notifications(&state.service, &Default::default(), partial),
    };
    let mut response = Json(body).into_response();
    if let Some(link) = link_header(&headers, &uri, page.next_max_id, page.prev_min_id) {
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

pub async fn group(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:notifications")?;
    let g = state.service.notification_group(me, &key).await?;
    Ok(Json(entities::grouped_notifications(
        &state.service,
        &g,
        false,
    )))
}

pub async fn dismiss_group(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:notifications")?;
    state.service.dismiss_notification_group(me, &key).await?;
    Ok(Json(json!({})))
}

pub async fn group_accounts(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:notifications")?;
    let page = state
        .service
        .notification_group_accounts(me, &key, params.page()?)
        .await?;
    let items = page
        .items
        .iter()
        .map(|a| entities::account(&state.service, a))
        .collect();
    Ok(page_response(&headers, &uri, &page, items))
}

async fn unread(
    state: AppState,
    caller: Caller,
    params: Params,
    grouped: bool,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:notifications")?;
    let count = state
        .service
        .unread_notifications(me, &group_filter(&params)?, grouped, params.limit("limit"))
        .await?;
    Ok(Json(json!({ "count": count })))
}

/// `GET /api/v1/notifications/unread_count`: every notification counts.
pub async fn unread_count(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    unread(state, caller, params, false).await
}

/// `GET /api/v2/notifications/unread_count`: a group counts once.
pub async fn unread_group_count(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    unread(state, caller, params, true).await
}
