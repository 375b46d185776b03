//! Web Push: subscriptions (one per access token), the VAPID key pair, and
//! the delivery queue. A delivery row is written in the transaction that
//! writes its notification, so nothing is lost between the two; nodes claim
//! due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so two
//! nodes never send the same row at once and a dead node's claims come back.

use super::{args, Conn, Row};
use crate::ids::now_ms;
use crate::model::*;
use crate::StoreResult;

const SUBSCRIPTION_COLUMNS: &str =
    "p.id, p.token_id, p.account_id, p.endpoint, p.key_p256dh, p.key_auth, p.policy";

async fn subscription_row(
    c: &dyn Conn,
    r: &Row,
    offset: usize,
) -> StoreResult<PushSubscriptionRow> {
    let id: Id = r.get(offset)?;
    let types = c
        .query(
            "SELECT type FROM push_alerts WHERE subscription_id = ?1 ORDER BY type",
            &args![id],
        )
        .await?
        .iter()
        .map(|t| t.get(0))
        .collect::<StoreResult<Vec<String>>>()?;
    Ok(PushSubscriptionRow {
        id,
        token_id: r.get(offset + 1)?,
        account_id: r.get(offset + 2)?,
        endpoint: r.get(offset + 3)?,
        key_p256dh: r.get(offset + 4)?,
        key_auth: r.get(offset + 5)?,
        alerts: PushAlerts {
            types,
            policy: r.get(offset + 6)?,
        },
    })
}

pub async fn by_token(c: &dyn Conn, token_id: Id) -> StoreResult<PushSubscriptionRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions p WHERE p.token_id = ?1"
            ),
            &args![token_id],
        )
        .await?;
    subscription_row(c, &row, 0).await
}

async fn set_alerts(c: &dyn Conn, subscription_id: Id, alerts: &PushAlerts) -> StoreResult<()> {
    c.execute(
        "DELETE FROM push_alerts WHERE subscription_id = ?1",
        &args![subscription_id],
    )
    .await?;
    for t in &alerts.types {
        c.execute(
            "INSERT INTO push_alerts (subscription_id, type) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &args![subscription_id, t],
        )
        .await?;
    }
    c.execute(
        "UPDATE push_subscriptions SET policy = ?1 WHERE id = ?2",
        &args![&alerts.policy, subscription_id],
    )
    .await?;
    Ok(())
}

/// Replaces the token's subscription (and drops the old one's queue).
pub async fn subscribe(
    c: &dyn Conn,
    new: &NewPushSubscription,
) -> StoreResult<PushSubscriptionRow> {
    c.execute(
        "DELETE FROM push_subscriptions WHERE token_id = ?1",
        &args![new.token_id],
    )
    .await?;
    let id: Id = c
        .query_one(
            "INSERT INTO push_subscriptions (id, token_id, account_id, endpoint, key_p256dh, key_auth, policy, created_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            &args![
                new.token_id,
                new.account_id,
                &new.endpoint,
                &new.key_p256dh,
                &new.key_auth,
                &new.alerts.policy,
                now_ms(),
            ],
        )
        .await?
        .get(0)?;
    set_alerts(c, id, &new.alerts).await?;
    by_token(c, new.token_id).await
}

pub async fn update_alerts(
    c: &dyn Conn,
    token_id: Id,
    alerts: &PushAlerts,
) -> StoreResult<PushSubscriptionRow> {
    let existing = by_token(c, token_id).await?;
    set_alerts(c, existing.id, alerts).await?;
    by_token(c, token_id).await
}

pub async fn unsubscribe(c: &dyn Conn, token_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM push_subscriptions WHERE token_id = ?1",
        &args![token_id],
    )
    .await?;
    Ok(())
}

/// The stored key pair; `candidate` is stored first if there is none yet
/// (the first node to get here wins, every node then reads the same pair).
pub async fn vapid_keys(c: &dyn Conn, candidate: &VapidKeys) -> StoreResult<VapidKeys> {
    c.execute(
        "INSERT INTO push_vapid (id, private_key, public_key, created_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
        &args![&candidate.private_key, &candidate.public_key, now_ms()],
    )
    .await?;
    let row = c
        .query_one(
            "SELECT private_key, public_key FROM push_vapid WHERE id = 1",
            &[],
        )
        .await?;
    Ok(VapidKeys {
        private_key: row.get(0)?,
        public_key: row.get(1)?,
    })
}

/// Queues notification `notification_id` (of type `kind`, from `from` to
/// `to`) for each of the recipient's subscriptions that wants it: the type
/// among its alerts, and the sender allowed by its policy. Runs in the
/// transaction that wrote the notification.
pub(crate) async fn enqueue(
    c: &dyn Conn,
    notification_id: Id,
    to: Id,
    from: Id,
    kind: NotificationType,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO push_deliveries (id, subscription_id, notification_id, attempts, due_at) \
         SELECT holdfast_next_id(), p.id, ?1, 0, ?2 FROM push_subscriptions p \
         WHERE p.account_id = ?3 \
           AND EXISTS (SELECT 1 FROM tokens t WHERE t.id = p.token_id AND t.revoked_at IS NULL) \
           AND EXISTS (SELECT 1 FROM push_alerts a WHERE a.subscription_id = p.id AND a.type = ?4) \
           AND (p.policy = 'all' \
             OR (p.policy = 'followed' AND EXISTS \
                  (SELECT 1 FROM follows f WHERE f.account_id = ?3 AND f.target_id = ?5)) \
             OR (p.policy = 'follower' AND EXISTS \
                  (SELECT 1 FROM follows f WHERE f.account_id = ?5 AND f.target_id = ?3)))",
        &args![notification_id, now_ms(), to, kind.as_str(), from],
    )
    .await?;
    Ok(())
}

/// Claims at most `limit` due deliveries for `lease_ms`: each one's due time
/// moves past the lease and its attempt count goes up, in one statement.
pub async fn claim(
    c: &dyn Conn,
    now: i64,
    lease_ms: i64,
    limit: u32,
) -> StoreResult<Vec<PushDelivery>> {
    let claimed = c
        .query(
            &format!(
                "UPDATE push_deliveries SET due_at = ?1, attempts = attempts + 1 WHERE id IN ( \
                   SELECT x.id FROM push_deliveries x WHERE x.due_at <= ?2 ORDER BY x.due_at LIMIT ?3{}) \
                 RETURNING id, attempts, notification_id, subscription_id",
                c.dialect().for_update_skip_locked("x")
            ),
            &args![now + lease_ms, now, limit],
        )
        .await?;
    let mut out = Vec::with_capacity(claimed.len());
    for r in &claimed {
        let subscription_id: Id = r.get(3)?;
        let row = c
            .query_one(
                &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM push_subscriptions p WHERE p.id = ?1"),
                &args![subscription_id],
            )
            .await?;
        out.push(PushDelivery {
            id: r.get(0)?,
            attempts: r.get(1)?,
            notification_id: r.get(2)?,
            subscription: subscription_row(c, &row, 0).await?,
        });
    }
    Ok(out)
}

pub async fn finish(
    c: &dyn Conn,
    delivery: &PushDelivery,
    end: PushDeliveryEnd,
) -> StoreResult<()> {
    match end {
        PushDeliveryEnd::Finished => {
            c.execute(
                "DELETE FROM push_deliveries WHERE id = ?1",
                &args![delivery.id],
            )
            .await?;
        }
        PushDeliveryEnd::RetryAt(at) => {
            c.execute(
                "UPDATE push_deliveries SET due_at = ?1 WHERE id = ?2",
                &args![at, delivery.id],
            )
            .await?;
        }
        PushDeliveryEnd::SubscriptionGone => {
            c.execute(
                "DELETE FROM push_subscriptions WHERE id = ?1",
                &args![delivery.subscription.id],
            )
            .await?;
        }
    }
    Ok(())
}
