//! /api/v1/push/subscription: one Web Push subscription per access token
//! (`push` scope), as Mastodon has it. Delivery is `holdfast_service::push`.

use axum::extract::State;
use axum::Json;
use holdfast_service::push::{AlertsInput, SubscriptionInput, ALERT_TYPES};

use crate::auth::{scope, User};
use crate::entities::{Empty, WebPushSubscription};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

/// `data[alerts][<type>]=true` and `data[policy]`; absent means none and `all`.
fn alerts(params: &Params) -> ApiResult<AlertsInput> {
    let Some(data) = params.object("data")? else {
        return Ok(AlertsInput::default());
    };
    let mut enabled = Vec::new();
    if let Some(alerts) = data.object("alerts")? {
        for t in ALERT_TYPES {
            if alerts.bool(t)?.unwrap_or(false) {
                enabled.push(t.to_owned());
            }
        }
    }
    Ok(AlertsInput {
        enabled,
        policy: data.str("policy")?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    user: User<scope::Push>,
    params: Params,
) -> ApiResult<Json<WebPushSubscription>> {
    let subscription = params
        .object("subscription")?
        .ok_or_else(|| ApiError::unprocessable("subscription is required"))?;
    let keys = subscription
        .object("keys")?
        .ok_or_else(|| ApiError::unprocessable("subscription[keys] is required"))?;
    let input = SubscriptionInput {
        endpoint: subscription.required_str("endpoint")?,
        p256dh: keys.required_str("p256dh")?,
        auth: keys.required_str("auth")?,
        alerts: alerts(&params)?,
    };
    let row = state
        .service
        .subscribe_push(user.id, user.principal.token_id, input)
        .await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(WebPushSubscription::new(&row, &key)))
}

pub async fn show(
    State(state): State<AppState>,
    user: User<scope::Push>,
) -> ApiResult<Json<WebPushSubscription>> {
    let row = state
        .service
        .push_subscription(user.principal.token_id)
        .await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(WebPushSubscription::new(&row, &key)))
}

/// Replaces the alerts and the policy (the endpoint and keys stay).
pub async fn update(
    State(state): State<AppState>,
    user: User<scope::Push>,
    params: Params,
) -> ApiResult<Json<WebPushSubscription>> {
    let row = state
        .service
        .update_push_alerts(user.principal.token_id, alerts(&params)?)
        .await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(WebPushSubscription::new(&row, &key)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::Push>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .unsubscribe_push(user.principal.token_id)
        .await?;
    Ok(Json(Empty {}))
}
