//! /api/v1/notifications, /api/v2/notifications (grouped) and /api/v1/markers.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::notification_groups::GroupFilter;
use holdfast_store::Id;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{
    Account, Empty, GroupedNotificationsResults, Marker, Notification, UnreadCount,
};
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::params::{parse_id, Params};
use crate::AppState;

pub async fn list(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
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
    Ok(paging.each(&page, |n| Notification::new(&state.urls, n)))
}

pub async fn show(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    Path(id): Path<String>,
) -> ApiResult<Json<Notification>> {
    let me = user.id;
    let n = state.service.notification(me, path_id(&id)?).await?;
    Ok(Json(Notification::new(&state.urls, &n)))
}

pub async fn dismiss(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    let me = user.id;
    state
        .service
        .dismiss_notification(me, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}

pub async fn clear(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
) -> ApiResult<Json<Empty>> {
    let me = user.id;
    state.service.clear_notifications(me).await?;
    Ok(Json(Empty {}))
}

pub async fn markers(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    params: Params,
) -> ApiResult<Json<BTreeMap<String, Marker>>> {
    let me = user.id;
    let list = state.service.markers(me, &params.list("timeline")?).await?;
    Ok(Json(Marker::by_timeline(&list)))
}

pub async fn set_markers(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    params: Params,
) -> ApiResult<Json<BTreeMap<String, Marker>>> {
    let me = user.id;
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
    Ok(Json(Marker::by_timeline(&list)))
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
    user: User<scope::ReadNotifications>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
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
        Some(g) => GroupedNotificationsResults::new(&state.urls, &g, partial),
        None => GroupedNotificationsResults::new(&state.urls, &Default::default(), partial),
    };
    Ok(paging.respond(&page, body))
}

pub async fn group(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    Path(key): Path<String>,
) -> ApiResult<Json<GroupedNotificationsResults>> {
    let me = user.id;
    let g = state.service.notification_group(me, &key).await?;
    Ok(Json(GroupedNotificationsResults::new(
        &state.urls,
        &g,
        false,
    )))
}

pub async fn dismiss_group(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    Path(key): Path<String>,
) -> ApiResult<Json<Empty>> {
    let me = user.id;
    state.service.dismiss_notification_group(me, &key).await?;
    Ok(Json(Empty {}))
}

pub async fn group_accounts(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    Path(key): Path<String>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state
        .service
        .notification_group_accounts(me, &key, params.page()?)
        .await?;
    Ok(paging.each(&page, |a| Account::new(&state.urls, a)))
}

async fn unread(
    state: AppState,
    me: Id,
    params: Params,
    grouped: bool,
) -> ApiResult<Json<UnreadCount>> {
    let count = state
        .service
        .unread_notifications(me, &group_filter(&params)?, grouped, params.limit("limit"))
        .await?;
    Ok(Json(UnreadCount { count }))
}

/// `GET /api/v1/notifications/unread_count`: every notification counts.
pub async fn unread_count(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    params: Params,
) -> ApiResult<Json<UnreadCount>> {
    unread(state, user.id, params, false).await
}

/// `GET /api/v2/notifications/unread_count`: a group counts once.
pub async fn unread_group_count(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    params: Params,
) -> ApiResult<Json<UnreadCount>> {
    unread(state, user.id, params, true).await
}
