use tokio_postgres::Row;

use super::pool::Db;
use super::sql::{self, clean};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Notifications from accounts the recipient blocks, or mutes with
/// notifications, are kept but not shown; so are those about statuses the
/// recipient may no longer see. (`$1` is the recipient.)
fn shown() -> String {
    "NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = $1::BIGINT AND b.target_id = n.from_account_id) \
     AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $1::BIGINT AND m.target_id = n.from_account_id AND m.notifications) \
     AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.from_account_id AND a.suspended)"
        .to_owned()
        + &format!(" AND (n.status_id IS NULL OR EXISTS (SELECT 1 FROM statuses s WHERE s.id = n.status_id AND {}))", sql::visible("s"))
}

fn notification_row(r: &Row) -> NotificationRow {
    let kind: String = r.get(1);
    NotificationRow {
        id: r.get(0),
        kind: NotificationType::parse(&kind).unwrap_or(NotificationType::Mention),
        created_at_ms: r.get(2),
        from_account_id: r.get(3),
        status_id: r.get(4),
    }
}

pub async fn list(
    db: Db<'_>,
    account_id: Id,
    types: &[NotificationType],
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRow>>> {
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let bounds = sql::page_clause("n.id", page, 3);
    let rows = db
        .query(
            &format!(
                "SELECT n.id, n.type, n.created_at, n.from_account_id, n.status_id FROM notifications n \
                 WHERE n.account_id = $1 AND n.type = ANY($2::TEXT[]) AND {}{}",
                shown(),
                bounds.sql
            ),
            &sql::with_page(&[&account_id, &types], &bounds),
        )
        .await?;
    let mut out: Vec<Paged<NotificationRow>> = rows
        .iter()
        .map(|r| Paged {
            cursor: r.get(0),
            item: notification_row(r),
        })
        .collect();
    if bounds.ascending {
        out.reverse();
    }
    Ok(out)
}

pub async fn get(db: Db<'_>, account_id: Id, id: Id) -> StoreResult<NotificationRow> {
    let row = db
        .query_one(
            &format!(
                "SELECT n.id, n.type, n.created_at, n.from_account_id, n.status_id FROM notifications n \
                 WHERE n.account_id = $1 AND n.id = $2 AND {}",
                shown()
            ),
            &[&account_id, &id],
        )
        .await?;
    Ok(notification_row(&row))
}

pub async fn markers(db: Db<'_>, account_id: Id) -> StoreResult<Vec<Marker>> {
    let rows = db
        .query(
            "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = $1",
            &[&account_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Marker {
            timeline: r.get(0),
            last_read_id: r.get(1),
            version: r.get(2),
            updated_at_ms: r.get(3),
        })
        .collect())
}

pub async fn set_marker(
    db: Db<'_>,
    account_id: Id,
    timeline: &str,
    last_read_id: Id,
) -> StoreResult<Marker> {
    let r = db
        .query_opt(
            "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, \
             version = markers.version + 1, updated_at = excluded.updated_at \
             RETURNING timeline, last_read_id, version, updated_at",
            &[&account_id, &clean(timeline), &last_read_id, &now_ms()],
        )
        .await?
        .ok_or_else(|| StoreError::Internal("marker upsert returned no row".into()))?;
    Ok(Marker {
        timeline: r.get(0),
        last_read_id: r.get(1),
        version: r.get(2),
        updated_at_ms: r.get(3),
    })
}
