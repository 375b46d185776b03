//! Notification policies (/api/v2/notifications/policy and v1's) and the
//! requests filtered notifications wait in (/api/v1/notifications/requests).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::notification_policies::PolicyFields;
use holdfast_store::Id;
use serde_json::{json, Value};

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{Empty, NotificationPolicy, NotificationRequest, V1NotificationPolicy};
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::params::{parse_id, Params};
use crate::AppState;

pub async fn policy(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
) -> ApiResult<Json<NotificationPolicy>> {
    let (p, s) = state.service.notification_policy(user.id).await?;
    Ok(Json(NotificationPolicy::new(&p, &s)))
}

pub async fn update_policy(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    params: Params,
) -> ApiResult<Json<NotificationPolicy>> {
    let fields = PolicyFields {
        for_not_following: params.str("for_not_following")?,
        for_not_followers: params.str("for_not_followers")?,
        for_new_accounts: params.str("for_new_accounts")?,
        for_private_mentions: params.str("for_private_mentions")?,
        for_limited_accounts: params.str("for_limited_accounts")?,
    };
    let (p, s) = state
        .service
        .update_notification_policy(user.id, fields)
        .await?;
    Ok(Json(NotificationPolicy::new(&p, &s)))
}

pub async fn v1_policy(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
) -> ApiResult<Json<V1NotificationPolicy>> {
    let (p, s) = state.service.notification_policy(user.id).await?;
    Ok(Json(V1NotificationPolicy::new(&p, &s)))
}

/// v1 takes booleans: true filters, false accepts.
pub async fn v1_update_policy(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    params: Params,
) -> ApiResult<Json<V1NotificationPolicy>> {
    let choice = |key: &str| -> ApiResult<Option<String>> {
        Ok(params
            .bool(key)?
            .map(|b| if b { "filter" } else { "accept" }.to_owned()))
    };
    let fields = PolicyFields {
        for_not_following: choice("filter_not_following")?,
        for_not_followers: choice("filter_not_followers")?,
        for_new_accounts: choice("filter_new_accounts")?,
        for_private_mentions: choice("filter_private_mentions")?,
        for_limited_accounts: None,
    };
    let (p, s) = state
        .service
        .update_notification_policy(user.id, fields)
        .await?;
    Ok(Json(V1NotificationPolicy::new(&p, &s)))
}

pub async fn requests(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .notification_requests(user.id, params.page()?)
        .await?;
    Ok(paging.each(&page, |r| NotificationRequest::new(&state.urls, r)))
}

pub async fn request(
    State(state): State<AppState>,
    user: User<scope::ReadNotifications>,
    Path(id): Path<String>,
) -> ApiResult<Json<NotificationRequest>> {
    let r = state
        .service
        .notification_request(user.id, path_id(&id)?)
        .await?;
    Ok(Json(NotificationRequest::new(&state.urls, &r)))
}

pub async fn accept(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    let id = path_id(&id)?;
    state
        .service
        .accept_notification_requests(user.id, &[id], true)
        .await?;
    Ok(Json(Empty {}))
}

pub async fn dismiss(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    let id = path_id(&id)?;
    state
        .service
        .dismiss_notification_requests(user.id, &[id], true)
        .await?;
    Ok(Json(Empty {}))
}

/// `id[]`; an id that is not one names no request (skipped, as others' are).
fn ids(params: &Params) -> ApiResult<Vec<Id>> {
    let raw = params.list("id")?;
    if raw.is_empty() {
        return Err(ApiError::unprocessable("id[] is required"));
    }
    Ok(raw.iter().filter_map(|s| parse_id(s)).collect())
}

pub async fn accept_many(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    params: Params,
) -> ApiResult<Json<Empty>> {
    let ids = ids(&params)?;
    state
        .service
        .accept_notification_requests(user.id, &ids, false)
        .await?;
    Ok(Json(Empty {}))
}

pub async fn dismiss_many(
    State(state): State<AppState>,
    user: User<scope::WriteNotifications>,
    params: Params,
) -> ApiResult<Json<Empty>> {
    let ids = ids(&params)?;
    state
        .service
        .dismiss_notification_requests(user.id, &ids, false)
        .await?;
    Ok(Json(Empty {}))
}

/// Accepting merges at once here (no background job), so it is always merged.
pub async fn merged(_user: User<scope::ReadNotifications>) -> Json<Value> {
    Json(json!({"merged": true}))
}
