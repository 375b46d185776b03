//! /api/v1/push/subscription: one Web Push subscription per access token
//! (`push` scope), as Mastodon has it. Delivery is `holdfast_service::push`.

use axum::extract::State;
use axum::Json;
use holdfast_service::push::{AlertsInput, SubscriptionInput, ALERT_TYPES};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::entities;
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
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let p = caller.require("push")?;
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
    let row = state.service.subscribe_push(p, input).await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(entities::web_push_subscription(&row, &key)))
}

pub async fn show(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let p = caller.require("push")?;
    let row = state.service.push_subscription(p).await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(entities::web_push_subscription(&row, &key)))
}

/// Replaces the alerts and the policy (the endpoint and keys stay).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let p = caller.require("push")?;
    let row = state
        .service
        .update_push_alerts(p, alerts(&params)?)
        .await?;
    let key = state.service.vapid_public_key().await?;
    Ok(Json(entities::web_push_subscription(&row, &key)))
}

pub async fn delete(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let p = caller.require("push")?;
    state.service.unsubscribe_push(p).await?;
    Ok(Json(json!({})))
}
