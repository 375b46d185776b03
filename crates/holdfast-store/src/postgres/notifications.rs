use tokio_postgres::Row;

use super::pool::Db;
use super::sql::{self, clean};
use crate::groups;
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
        group_key: r.get(5),
    }
}

const COLUMNS: &str = "n.id, n.type, n.created_at, n.from_account_id, n.status_id, n.group_key";

/// Only notifications from one account when `$3` is not NULL (Mastodon's `account_id`).
const FROM: &str = "($3::BIGINT IS NULL OR n.from_account_id = $3::BIGINT)";

/// The key a notification is grouped under: its stored key when its type is
/// one of `grouped`, else `ungrouped-<id>`. Types come from a closed enum.
fn group_expr(grouped: &[NotificationType]) -> String {
    if grouped.is_empty() {
        return "('ungrouped-' || n.id::TEXT)".to_owned();
    }
    let list = grouped
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "(CASE WHEN n.group_key IS NOT NULL AND n.type IN ({list}) THEN n.group_key ELSE 'ungrouped-' || n.id::TEXT END)"
    )
}

pub async fn list(
    db: Db<'_>,
    account_id: Id,
    types: &[NotificationType],
    from: Option<Id>,
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRow>>> {
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let bounds = sql::page_clause("n.id", page, 4);
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM notifications n \
                 WHERE n.account_id = $1 AND n.type = ANY($2::TEXT[]) AND {FROM} AND {}{}",
                shown(),
                bounds.sql
            ),
            &sql::with_page(&[&account_id, &types, &from], &bounds),
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
                "SELECT {COLUMNS} FROM notifications n \
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

/// The group key for a new notification: reuses the latest group of the same
/// prefix while it is young enough (see `groups::key`).
pub async fn group_key_for(
    db: Db<'_>,
    to: Id,
    kind: NotificationType,
    status: Option<Id>,
    now: i64,
) -> StoreResult<Option<String>> {
    let Some(prefix) = groups::prefix(kind, status) else {
        return Ok(None);
    };
    let (low, high) = groups::range(&prefix);
    // The column is COLLATE "C" (byte order), as in SQLite; buckets have the
    // same number of digits for centuries, so the greatest key is the latest.
    let previous: Option<String> = db
        .query_opt(
            "SELECT group_key FROM notifications WHERE account_id = $1 AND group_key >= $2 AND group_key < $3 \
             ORDER BY group_key DESC LIMIT 1",
            &[&to, &low, &high],
        )
        .await?
        .map(|r| r.get(0));
    Ok(Some(groups::key(&prefix, now, previous.as_deref())))
}

pub async fn group_page(
    db: Db<'_>,
    account_id: Id,
    types: &[NotificationType],
    grouped: &[NotificationType],
    from: Option<Id>,
    page: Page,
    scan_max: u32,
) -> StoreResult<NotificationGroupPage> {
    if types.is_empty() || page.limit == 0 {
        return Ok(NotificationGroupPage::default());
    }
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
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
        4,
    );
    let rows = db
        .query(
            &format!(
                "WITH w AS ( \
                   SELECT n.id AS id, {key} AS k FROM notifications n \
                   WHERE n.account_id = $1 AND n.type = ANY($2::TEXT[]) AND {FROM} AND {shown}{window} \
                 ) \
                 SELECT {COLUMNS}, (SELECT COUNT(*) FROM w), (SELECT {edge}(id) FROM w) \
                 FROM notifications n WHERE n.id IN ( \
                   SELECT {pick}(w.id) FROM w GROUP BY w.k ORDER BY {pick}(w.id) {order} LIMIT {limit} \
                 ) ORDER BY n.id DESC",
                key = group_expr(grouped),
                shown = shown(),
                window = window.sql,
                limit = page.limit,
            ),
            &sql::with_page(&[&account_id, &types, &from], &window),
        )
        .await?;
    let mut out = NotificationGroupPage::default();
    for r in &rows {
        let scanned: i64 = r.get(6);
        if scanned >= i64::from(scan) {
            out.scan_stopped_at = Some(r.get(7));
        }
        out.rows.push(notification_row(r));
    }
    Ok(out)
}

pub async fn group_rows(
    db: Db<'_>,
    account_id: Id,
    keys: &[String],
    from: Option<Id>,
    until: Option<Id>,
    samples: u32,
) -> StoreResult<Vec<NotificationGroupRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = keys.iter().map(|k| clean(k)).collect();
    let until = until.unwrap_or(i64::MAX);
    let from = from.unwrap_or(i64::MIN);
    let filter = format!(
        "n.account_id = $1 AND n.group_key = ANY($2::TEXT[]) AND n.id <= $3 AND {}",
        shown()
    );
    let rows = db
        .query(
            &format!(
                "SELECT n.group_key, COUNT(*), MAX(n.id), MIN(CASE WHEN n.id >= $4 THEN n.id END) \
                 FROM notifications n WHERE {filter} GROUP BY n.group_key"
            ),
            &[&account_id, &keys, &until, &from],
        )
        .await?;
    let mut out: Vec<NotificationGroupRow> = rows
        .iter()
        .map(|r| NotificationGroupRow {
            group_key: r.get(0),
            count: r.get(1),
            most_recent_id: r.get(2),
            most_recent_at_ms: 0,
            oldest_in_range_id: r.get(3),
            sample_account_ids: Vec::new(),
        })
        .collect();
    let samples = samples as i64;
    let rows = db
        .query(
            &format!(
                "SELECT k, from_account_id, created_at FROM ( \
                   SELECT n.group_key AS k, n.from_account_id, n.id, n.created_at, \
                          ROW_NUMBER() OVER (PARTITION BY n.group_key ORDER BY n.id DESC) AS rn \
                   FROM notifications n WHERE {filter} \
                 ) x WHERE rn <= $4 ORDER BY k, id DESC"
            ),
            &[&account_id, &keys, &until, &samples],
        )
        .await?;
    for r in &rows {
        let key: String = r.get(0);
        if let Some(g) = out.iter_mut().find(|g| g.group_key == key) {
            if g.sample_account_ids.is_empty() {
                g.most_recent_at_ms = r.get(2);
            }
            g.sample_account_ids.push(r.get(1));
        }
    }
    Ok(out)
}

pub async fn by_group(
    db: Db<'_>,
    account_id: Id,
    group_key: &str,
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRow>>> {
    let key = clean(group_key);
    let bounds = sql::page_clause("n.id", page, 3);
    let rows = db
        .query(
            &format!(
                "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = $1 AND n.group_key = $2 AND {}{}",
                shown(),
                bounds.sql
            ),
            &sql::with_page(&[&account_id, &key], &bounds),
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

pub async fn dismiss_group(db: Db<'_>, account_id: Id, group_key: &str) -> StoreResult<()> {
    db.execute(
        "DELETE FROM notifications WHERE account_id = $1 AND group_key = $2",
        &[&account_id, &clean(group_key)],
    )
    .await?;
    Ok(())
}

pub async fn unread(
    db: Db<'_>,
    account_id: Id,
    types: &[NotificationType],
    grouped: &[NotificationType],
    from: Option<Id>,
    after_id: Option<Id>,
    limit: u32,
    scan_max: u32,
) -> StoreResult<u32> {
    if types.is_empty() || limit == 0 {
        return Ok(0);
    }
    let types: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let row = db
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT w.k FROM ( \
                   SELECT {key} AS k FROM notifications n \
                   WHERE n.account_id = $1 AND n.type = ANY($2::TEXT[]) AND {FROM} AND n.id > $4 AND {shown} \
                   ORDER BY n.id ASC LIMIT {scan} \
                 ) w LIMIT {limit}) c",
                key = group_expr(grouped),
                shown = shown(),
                scan = scan_max.max(limit),
            ),
            &[&account_id, &types, &from, &after_id.unwrap_or(0)],
        )
        .await?;
    let n: i64 = row.get(0);
    Ok(n as u32)
}
