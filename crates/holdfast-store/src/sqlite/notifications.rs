use rusqlite::{params, Connection, Row};

use super::{sql, Tx};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Notifications from accounts the recipient blocks, or mutes with
/// notifications, are kept but not shown; so are those about statuses the
/// recipient may no longer see.
fn shown() -> String {
    "NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1 AND b.target_id = n.from_account_id) \
     AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_id = n.from_account_id AND m.notifications = 1) \
     AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.from_account_id AND a.suspended = 1)"
        .to_owned()
        + &format!(" AND (n.status_id IS NULL OR EXISTS (SELECT 1 FROM statuses s WHERE s.id = n.status_id AND {}))", sql::visible("s"))
}

fn notification_row(r: &Row<'_>) -> rusqlite::Result<NotificationRow> {
    let kind: String = r.get(1)?;
    Ok(NotificationRow {
        id: r.get(0)?,
        kind: NotificationType::parse(&kind).unwrap_or(NotificationType::Mention),
        created_at_ms: r.get(2)?,
        from_account_id: r.get(3)?,
        status_id: r.get(4)?,
    })
}

pub fn list(
    c: &Connection,
    account_id: Id,
    types: &[NotificationType],
    page: Page,
) -> rusqlite::Result<Vec<Paged<NotificationRow>>> {
    // Types come from a closed enum, so their names are safe to inline.
    let types = types
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT n.id, n.type, n.created_at, n.from_account_id, n.status_id FROM notifications n \
         WHERE n.account_id = ?1 AND n.type IN ({types}) AND {} {}",
        shown(),
        sql::page_clause("n.id", page)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([account_id], |r| {
        Ok(Paged {
            cursor: r.get(0)?,
            item: notification_row(r)?,
        })
    })?;
    let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    if page.min_id.is_some() {
        out.reverse();
    }
    Ok(out)
}

pub fn get(c: &Connection, account_id: Id, id: Id) -> rusqlite::Result<NotificationRow> {
    c.prepare_cached(&format!(
        "SELECT n.id, n.type, n.created_at, n.from_account_id, n.status_id FROM notifications n \
         WHERE n.account_id = ?1 AND n.id = ?2 AND {}",
        shown()
    ))?
    .query_row([account_id, id], notification_row)
}

pub fn markers(c: &Connection, account_id: Id) -> rusqlite::Result<Vec<Marker>> {
    let mut stmt = c.prepare_cached(
        "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = ?1",
    )?;
    let rows = stmt.query_map([account_id], |r| {
        Ok(Marker {
            timeline: r.get(0)?,
            last_read_id: r.get(1)?,
            version: r.get(2)?,
            updated_at_ms: r.get(3)?,
        })
    })?;
    rows.collect()
}

pub fn set_marker(
    t: &mut Tx<'_>,
    account_id: Id,
    timeline: &str,
    last_read_id: Id,
) -> StoreResult<Marker> {
    t.tx.execute(
        "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES (?1, ?2, ?3, 1, ?4) \
         ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, \
         version = markers.version + 1, updated_at = excluded.updated_at",
        params![account_id, timeline, last_read_id, now_ms()],
    )?;
    markers(&t.tx, account_id)?
        .into_iter()
        .find(|m| m.timeline == timeline)
        .ok_or_else(|| StoreError::Internal("marker vanished inside its own transaction".into()))
}
