use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{sql, Tx};
use crate::groups;
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
        group_key: r.get(5)?,
    })
}

const COLUMNS: &str = "n.id, n.type, n.created_at, n.from_account_id, n.status_id, n.group_key";

/// Only notifications from one account when `?2` is not NULL (Mastodon's `account_id`).
const FROM: &str = "(?2 IS NULL OR n.from_account_id = ?2)";

/// The key a notification is grouped under: its stored key when its type is
/// one of `grouped`, else `ungrouped-<id>`. Types come from a closed enum.
fn group_expr(grouped: &[NotificationType]) -> String {
    if grouped.is_empty() {
        return "('ungrouped-' || n.id)".to_owned();
    }
    format!(
        "(CASE WHEN n.group_key IS NOT NULL AND n.type IN ({}) THEN n.group_key ELSE 'ungrouped-' || n.id END)",
        type_list(grouped)
    )
}

fn type_list(types: &[NotificationType]) -> String {
    types
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn list(
    c: &Connection,
    account_id: Id,
    types: &[NotificationType],
    from: Option<Id>,
    page: Page,
) -> rusqlite::Result<Vec<Paged<NotificationRow>>> {
    // Types come from a closed enum, so their names are safe to inline.
    let types = type_list(types);
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications n \
         WHERE n.account_id = ?1 AND n.type IN ({types}) AND {FROM} AND {} {}",
        shown(),
        sql::page_clause("n.id", page)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account_id, from], |r| {
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
        "SELECT {COLUMNS} FROM notifications n \
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

/// The group key for a new notification: reuses the latest group of the same
/// prefix while it is young enough (see `groups::key`).
pub fn group_key_for(
    c: &Connection,
    to: Id,
    kind: NotificationType,
    status: Option<Id>,
    now: i64,
) -> rusqlite::Result<Option<String>> {
    let Some(prefix) = groups::prefix(kind, status) else {
        return Ok(None);
    };
    let (low, high) = groups::range(&prefix);
    // Buckets have the same number of digits for centuries, so the greatest
    // key in byte order is the latest bucket.
    let previous: Option<String> = c
        .prepare_cached(
            "SELECT group_key FROM notifications WHERE account_id = ?1 AND group_key >= ?2 AND group_key < ?3 \
             ORDER BY group_key DESC LIMIT 1",
        )?
        .query_row(params![to, low, high], |r| r.get(0))
        .optional()?;
    Ok(Some(groups::key(&prefix, now, previous.as_deref())))
}

pub fn group_page(
    c: &Connection,
    account_id: Id,
    types: &[NotificationType],
    grouped: &[NotificationType],
    from: Option<Id>,
    page: Page,
    scan_max: u32,
) -> rusqlite::Result<NotificationGroupPage> {
    if types.is_empty() || page.limit == 0 {
        return Ok(NotificationGroupPage::default());
    }
    let ascending = page.min_id.is_some();
    let (pick, edge, order) = if ascending {
        ("MIN", "MAX", "ASC")
    } else {
        ("MAX", "MIN", "DESC")
    };
    let scan = scan_max.max(page.limit);
    let window = sql::page_clause(
        "n.id",
        Page {
            limit: scan,
            ..page
        },
    );
    let sql = format!(
        "WITH w AS ( \
           SELECT n.id AS id, {key} AS k FROM notifications n \
           WHERE n.account_id = ?1 AND n.type IN ({types}) AND {FROM} AND {shown}{window} \
         ) \
         SELECT {COLUMNS}, (SELECT COUNT(*) FROM w), (SELECT {edge}(id) FROM w) \
         FROM notifications n WHERE n.id IN ( \
           SELECT {pick}(w.id) FROM w GROUP BY w.k ORDER BY {pick}(w.id) {order} LIMIT {limit} \
         ) ORDER BY n.id DESC",
        key = group_expr(grouped),
        types = type_list(types),
        shown = shown(),
        limit = page.limit,
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut out = NotificationGroupPage::default();
    let rows = stmt.query_map(params![account_id, from], |r| {
        Ok((
            notification_row(r)?,
            r.get::<_, i64>(6)?,
            r.get::<_, Id>(7)?,
        ))
    })?;
    for row in rows {
        let (n, scanned, edge) = row?;
        if scanned >= i64::from(scan) {
            out.scan_stopped_at = Some(edge);
        }
        out.rows.push(n);
    }
    Ok(out)
}

pub fn group_rows(
    c: &Connection,
    account_id: Id,
    keys: &[String],
    from: Option<Id>,
    until: Option<Id>,
    samples: u32,
) -> rusqlite::Result<Vec<NotificationGroupRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    use rusqlite::types::Value;
    let until = until.unwrap_or(i64::MAX);
    let from = from.unwrap_or(i64::MIN);
    let placeholders = (0..keys.len())
        .map(|i| format!("?{}", i + 4))
        .collect::<Vec<_>>()
        .join(",");
    let filter = format!(
        "n.account_id = ?1 AND n.id <= ?2 AND n.group_key IN ({placeholders}) AND {}",
        shown()
    );
    let values = |third: i64| -> Vec<Value> {
        let mut v = vec![
            Value::Integer(account_id),
            Value::Integer(until),
            Value::Integer(third),
        ];
        v.extend(keys.iter().map(|k| Value::Text(k.clone())));
        v
    };
    let mut out: Vec<NotificationGroupRow> = Vec::new();
    {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT n.group_key, COUNT(*), MAX(n.id), MIN(CASE WHEN n.id >= ?3 THEN n.id END) \
             FROM notifications n WHERE {filter} GROUP BY n.group_key"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values(from)), |r| {
            Ok(NotificationGroupRow {
                group_key: r.get(0)?,
                count: r.get(1)?,
                most_recent_id: r.get(2)?,
                most_recent_at_ms: 0,
                oldest_in_range_id: r.get(3)?,
                sample_account_ids: Vec::new(),
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT k, from_account_id, created_at FROM ( \
           SELECT n.group_key AS k, n.from_account_id, n.id, n.created_at, \
                  ROW_NUMBER() OVER (PARTITION BY n.group_key ORDER BY n.id DESC) AS rn \
           FROM notifications n WHERE {filter} \
         ) WHERE rn <= ?3 ORDER BY k, id DESC"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values(samples as i64)), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Id>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (key, from_account, at) = row?;
        if let Some(g) = out.iter_mut().find(|g| g.group_key == key) {
            if g.sample_account_ids.is_empty() {
                g.most_recent_at_ms = at;
            }
            g.sample_account_ids.push(from_account);
        }
    }
    Ok(out)
}

pub fn by_group(
    c: &Connection,
    account_id: Id,
    group_key: &str,
    page: Page,
) -> rusqlite::Result<Vec<Paged<NotificationRow>>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = ?1 AND n.group_key = ?2 AND {} {}",
        shown(),
        sql::page_clause("n.id", page)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![account_id, group_key], |r| {
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

pub fn unread(
    c: &Connection,
    account_id: Id,
    types: &[NotificationType],
    grouped: &[NotificationType],
    from: Option<Id>,
    after_id: Option<Id>,
    limit: u32,
    scan_max: u32,
) -> rusqlite::Result<u32> {
    if types.is_empty() || limit == 0 {
        return Ok(0);
    }
    let sql = format!(
        "SELECT COUNT(*) FROM (SELECT DISTINCT w.k FROM ( \
           SELECT {key} AS k FROM notifications n \
           WHERE n.account_id = ?1 AND n.type IN ({types}) AND {FROM} AND n.id > ?3 AND {shown} \
           ORDER BY n.id ASC LIMIT {scan} \
         ) w LIMIT {limit})",
        key = group_expr(grouped),
        types = type_list(types),
        shown = shown(),
        scan = scan_max.max(limit),
    );
    let n: i64 = c
        .prepare_cached(&sql)?
        .query_row(params![account_id, from, after_id.unwrap_or(0)], |r| {
            r.get(0)
        })?;
    Ok(n as u32)
}
