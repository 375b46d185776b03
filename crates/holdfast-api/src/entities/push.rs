//! WebPushSubscription (`/api/v1/push/subscription`).

use std::collections::BTreeMap;

use holdfast_service::push::{alert_on, ALERT_TYPES};
use holdfast_store::PushSubscriptionRow;
use serde::Serialize;

use super::id;

/// `standard` is true: holdfast sends RFC 8291 (`aes128gcm`) messages only,
/// never the legacy `aesgcm` draft.
#[derive(Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    /// Every alert type, on or off.
    pub alerts: BTreeMap<&'static str, bool>,
    pub policy: String,
    pub server_key: String,
}

impl WebPushSubscription {
    pub fn new(row: &PushSubscriptionRow, server_key: &str) -> WebPushSubscription {
        WebPushSubscription {
            id: id(row.id),
            endpoint: row.endpoint.clone(),
            standard: true,
            alerts: ALERT_TYPES.iter().map(|t| (*t, alert_on(row, t))).collect(),
            policy: row.alerts.policy.clone(),
            server_key: server_key.to_owned(),
        }
    }
}
