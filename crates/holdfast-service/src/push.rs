//! Web Push: subscriptions (`/api/v1/push/subscription`), the VAPID keys,
//! and the delivery worker. A notification's deliveries are queued in the
//! store by the transaction that writes it; every node's worker claims due
//! rows, encrypts each message for its subscription and hands it to a
//! [`PushTransport`] (HTTP lives in `holdfast-api`). Failures are retried
//! with exponential backoff up to `push_attempts_max`; a push service that
//! says the subscription is gone makes it go.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use holdfast_store::ids::now_ms;
use holdfast_store::{
    Id, NewPushSubscription, NotificationType, PushAlerts, PushDelivery, PushDeliveryEnd,
    PushSubscriptionRow, StoreError, VapidKeys,
};

use crate::push_address::{self, Endpoint};
use crate::push_crypto;
use crate::{Service, ServiceError, ServiceResult};

/// The alert names Mastodon's `data[alerts]` knows, in its order. Those
/// holdfast never sends (polls, edits, admin) are stored and echoed all the same.
pub const ALERT_TYPES: [&str; 10] = [
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
];

const POLICIES: [&str; 4] = ["all", "followed", "follower", "none"];

/// What a client sends to subscribe.
#[derive(Clone, Debug)]
pub struct SubscriptionInput {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub alerts: AlertsInput,
}

/// `data[alerts][<type>]` and `data[policy]`, as sent (unknown alert names are ignored).
#[derive(Clone, Debug, Default)]
pub struct AlertsInput {
    pub enabled: Vec<String>,
    pub policy: Option<String>,
}

/// One encrypted message for a push service.
pub struct PushRequest {
    pub endpoint: Endpoint,
    /// Checked addresses of the endpoint's host; connect only to these.
    pub addrs: Vec<SocketAddr>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub timeout: Duration,
}

/// What the push service said.
#[derive(Debug, PartialEq)]
pub enum PushResponse {
    Accepted,
    /// The subscription does not exist any more (HTTP 404 or 410).
    Gone,
    Failed(String),
}

/// Sends one request to a push service (implemented over HTTP in `holdfast-api`).
pub trait PushTransport: Send + Sync + 'static {
    fn send(&self, request: PushRequest)
        -> Pin<Box<dyn Future<Output = PushResponse> + Send + '_>>;
}

/// Per-node state: the VAPID keys once loaded, and counts for `/metrics`.
#[derive(Default)]
pub struct PushState {
    vapid: tokio::sync::OnceCell<VapidKeys>,
    pub sent: AtomicU64,
    pub retried: AtomicU64,
    /// Given up on after `push_attempts_max` attempts.
    pub dropped: AtomicU64,
    /// Subscriptions removed because their push service said they are gone.
    pub gone: AtomicU64,
}

fn unprocessable(msg: impl Into<String>) -> ServiceError {
    ServiceError::Unprocessable(format!("Validation failed: {}", msg.into()))
}

fn not_found(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound => ServiceError::NotFound("Record not found".into()),
        other => other.into(),
    }
}

impl AlertsInput {
    fn checked(&self) -> ServiceResult<PushAlerts> {
        let policy = self.policy.clone().unwrap_or_else(|| "all".to_owned());
        if !POLICIES.contains(&policy.as_str()) {
            return Err(unprocessable(format!(
                "Policy is not one of {}",
                POLICIES.join(", ")
            )));
        }
        let mut types: Vec<String> = ALERT_TYPES
            .iter()
            .filter(|t| self.enabled.iter().any(|e| e == *t))
            .map(|t| (*t).to_owned())
            .collect();
        types.sort();
        Ok(PushAlerts { types, policy })
    }
}

impl Service {
    /// The instance's VAPID public key (base64url), made and stored on first use.
    pub async fn vapid_public_key(&self) -> ServiceResult<String> {
        Ok(self.vapid_keys().await?.public_key.clone())
    }

    async fn vapid_keys(&self) -> ServiceResult<&VapidKeys> {
        self.push
            .vapid
            .get_or_try_init(|| async {
                let candidate = push_crypto::new_vapid_keys()
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                Ok(self.store.vapid_keys(candidate).await?)
            })
            .await
    }

    /// Subscribes the token `token_id` of the user `account_id` (one subscription per token).
    pub async fn subscribe_push(
        &self,
        account_id: Id,
        token_id: Id,
        input: SubscriptionInput,
    ) -> ServiceResult<PushSubscriptionRow> {
        if input.endpoint.len() > self.limits().push_endpoint_max_bytes {
            return Err(unprocessable("Endpoint is too long"));
        }
        push_address::vet(&input.endpoint, &self.limits().push_allowed_hosts)
            .await
            .map_err(unprocessable)?;
        push_crypto::check_keys(&input.p256dh, &input.auth)
            .map_err(|e| unprocessable(e.to_string()))?;
        let alerts = input.alerts.checked()?;
        self.vapid_keys().await?;
        Ok(self
            .store
            .subscribe_push(NewPushSubscription {
                token_id,
                account_id,
                endpoint: input.endpoint,
                key_p256dh: input.p256dh,
                key_auth: input.auth,
                alerts,
            })
            .await?)
    }

    /// The subscription of a user's token (the caller proved a user at the edge).
    pub async fn push_subscription(&self, token_id: Id) -> ServiceResult<PushSubscriptionRow> {
        self.store
            .push_subscription(token_id)
            .await
            .map_err(not_found)
    }

    pub async fn update_push_alerts(
        &self,
        token_id: Id,
        alerts: AlertsInput,
    ) -> ServiceResult<PushSubscriptionRow> {
        let alerts = alerts.checked()?;
        self.store
            .update_push_alerts(token_id, alerts)
            .await
            .map_err(not_found)
    }

    pub async fn unsubscribe_push(&self, token_id: Id) -> ServiceResult<()> {
        Ok(self.store.unsubscribe_push(token_id).await?)
    }

    /// Claims one batch of due deliveries and sends them all at once;
    /// returns how many were claimed.
    pub async fn deliver_due_pushes(
        &self,
        transport: &Arc<dyn PushTransport>,
    ) -> ServiceResult<usize> {
        let l = self.limits();
        let claimed = self
            .store
            .claim_push_deliveries(now_ms(), l.push_lease_ms as i64, l.push_batch_max)
            .await?;
        let count = claimed.len();
        let mut sending = tokio::task::JoinSet::new();
        for delivery in claimed {
            let service = self.clone();
            let transport = transport.clone();
            sending.spawn(async move {
                let end = service.deliver(&delivery, transport.as_ref()).await;
                if let Err(e) = service.store.finish_push_delivery(delivery, end).await {
                    // The lease runs out and the row is claimed again.
                    tracing::warn!(error = %e, "could not record a push delivery's outcome");
                }
            });
        }
        while sending.join_next().await.is_some() {}
        Ok(count)
    }

    async fn deliver(&self, d: &PushDelivery, transport: &dyn PushTransport) -> PushDeliveryEnd {
        let sub = &d.subscription;
        let request = match self.push_request(d).await {
            Ok(Some(r)) => r,
            // Dismissed, or hidden from the recipient (a block, a mute) since.
            Ok(None) => return PushDeliveryEnd::Finished,
            Err(e) => return self.retry_or_drop(d, &e.to_string()),
        };
        match transport.send(request).await {
            PushResponse::Accepted => {
                self.push.sent.fetch_add(1, Ordering::Relaxed);
                PushDeliveryEnd::Finished
            }
            PushResponse::Gone => {
                self.push.gone.fetch_add(1, Ordering::Relaxed);
                tracing::info!(subscription = sub.id, "push subscription gone; removed");
                PushDeliveryEnd::SubscriptionGone
            }
            PushResponse::Failed(why) => self.retry_or_drop(d, &why),
        }
    }

    fn retry_or_drop(&self, d: &PushDelivery, why: &str) -> PushDeliveryEnd {
        let l = self.limits();
        if d.attempts >= l.push_attempts_max {
            self.push.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                delivery = d.id,
                attempts = d.attempts,
                why,
                "push delivery given up"
            );
            return PushDeliveryEnd::Finished;
        }
        self.push.retried.fetch_add(1, Ordering::Relaxed);
        let factor = 1u64
            .checked_shl(d.attempts.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let wait = l.push_retry_base_ms.saturating_mul(factor);
        PushDeliveryEnd::RetryAt(now_ms().saturating_add(wait as i64))
    }

    /// The encrypted request for one delivery; None when the notification
    /// is no longer there for its recipient.
    async fn push_request(&self, d: &PushDelivery) -> ServiceResult<Option<PushRequest>> {
        let sub = &d.subscription;
        let notification = match self
            .store
            .notification(sub.account_id, d.notification_id)
            .await
        {
            Ok(n) => n,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let from = self.store.account(notification.from_account_id).await?;
        let name = if from.display_name.is_empty() {
            &from.username
        } else {
            &from.display_name
        };
        let title = match notification.kind {
            NotificationType::Mention => format!("{name} mentioned you"),
            NotificationType::Favourite => format!("{name} favourited your post"),
            NotificationType::Reblog => format!("{name} boosted your post"),
            NotificationType::Follow => format!("{name} followed you"),
            NotificationType::FollowRequest => format!("{name} requested to follow you"),
            NotificationType::Status => format!("{name} just posted"),
            NotificationType::Poll => "A poll you voted in or created has ended".to_owned(),
            NotificationType::Update => format!("{name} edited a post you boosted"),
            NotificationType::AdminReport => format!("{name} filed a report"),
        };
        let body = match notification.status_id {
            Some(id) => self
                .store
                .status(id)
                .await
                .map(|s| s.text)
                .unwrap_or_default(),
            None => String::new(),
        };
        let body: String = body
            .chars()
            .take(self.limits().push_body_max_chars)
            .collect();
        let payload = serde_json::json!({
            "notification_id": notification.id.to_string(),
            "notification_type": notification.kind.as_str(),
            "preferred_locale": "en",
            "title": title,
            "body": body,
            "icon": format!("{}/avatars/original/missing.png", self.base_url),
        });

        let l = self.limits();
        let (endpoint, addrs) = push_address::vet(&sub.endpoint, &l.push_allowed_hosts)
            .await
            .map_err(|why| ServiceError::Unavailable(why.into()))?;
        let (public, secret) = push_crypto::check_keys(&sub.key_p256dh, &sub.key_auth)
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let body = push_crypto::encrypt(&public, &secret, payload.to_string().as_bytes())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let subject = if self.config.contact_email.is_empty() {
            self.base_url.to_string()
        } else {
            format!("mailto:{}", self.config.contact_email)
        };
        // The token says who we are for a while, at most a day (RFC 8292 §2).
        let expires = now_ms() / 1000 + l.push_vapid_token_ttl_s as i64;
        let authorization = push_crypto::vapid_authorization(
            self.vapid_keys().await?,
            &endpoint.origin(),
            expires,
            &subject,
        )
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Some(PushRequest {
            endpoint,
            addrs,
            headers: vec![
                ("authorization", authorization),
                ("content-encoding", "aes128gcm".to_owned()),
                ("content-type", "application/octet-stream".to_owned()),
                ("ttl", l.push_ttl_s.to_string()),
                ("urgency", "normal".to_owned()),
            ],
            body,
            timeout: Duration::from_millis(l.push_request_timeout_ms),
        }))
    }

    /// The delivery worker `serve` starts: one batch per tick, at once again
    /// while batches come back full.
    pub fn spawn_push_delivery(&self, transport: Arc<dyn PushTransport>) {
        let service = self.clone();
        let every = Duration::from_millis(self.limits().push_poll_interval_ms.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                loop {
                    match service.deliver_due_pushes(&transport).await {
                        Ok(n) if n as u64 >= u64::from(service.limits().push_batch_max) => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "push delivery failed; will retry");
                            break;
                        }
                    }
                }
            }
        });
    }
}

/// Used by the API's entity: whether `t` is among the alerts.
pub fn alert_on(row: &PushSubscriptionRow, t: &str) -> bool {
    row.alerts.types.iter().any(|a| a == t)
}
