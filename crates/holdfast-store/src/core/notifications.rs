//! Notifications: written by the actions that cause them, read as plain or
//! grouped pages, and markers.

use super::notification_policies;
use super::sql::{self, visible};
use super::{args, Arg, Conn, Row};
use crate::groups;
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Tells `to` that `from` did `kind` (on `status`); see [`notify_all`].
pub(crate) async fn notify(
    c: &dyn Conn,
    to: Id,
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<()> {
    notify_all(c, &[to], from, kind, status).await
}

/// Tells each of `recipients` that `from` did `kind` (on `status`). At most
/// once per (recipient, sender, type, status), by the notifications_once
/// index, so a retried or racing action notifies once. What one event asks
/// of all its recipients is asked once: who of them muted the conversation.
pub(crate) async fn notify_all(
    c: &dyn Conn,
    recipients: &[Id],
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<()> {
    // A muted conversation notifies nothing (Mastodon), whoever acts in it.
    let muted = match status {
        Some(status) if !recipients.is_empty() => {
            super::edits::thread_muters(c, status, recipients).await?
        }
        _ => Default::default(),
    };
    for &to in recipients.iter().filter(|to| !muted.contains(to)) {
        notify_one(c, to, from, kind, status).await?;
    }
    Ok(())
}

/// `notify` for a recipient who has not muted the conversation.
async fn notify_one(
    c: &dyn Conn,
    to: Id,
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<()> {
    let now = now_ms();
    // The recipient's notification policy decides first: dropped, or kept
    // aside (filtered, under a request for the sender), or shown.
    let filtered = match notification_policies::decide(c, to, from, kind, status).await? {
        PolicyChoice::Drop => return Ok(()),
        PolicyChoice::Filter => true,
        PolicyChoice::Accept => false,
    };
    let group_key = group_key_for(c, to, kind, status, now).await?;
    let written = c
        .query_opt(
            "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at, group_key, filtered) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING RETURNING id",
            &args![to, from, kind.as_str(), status, now, group_key.as_deref(), filtered],
        )
        .await?;
    // Only a new notification is pushed (a repeated action writes none),
    // and a filtered one is not pushed: it waits in its request.
    if let Some(row) = written {
        if filtered {
            notification_policies::file_request(c, to, from, status, now).await?;
        } else {
            super::push::enqueue(c, row.get(0)?, to, from, kind).await?;
        }
    }
    Ok(())
}

/// Tells moderators and admins (at most `max`, the longest-standing
/// accounts first) of report `report_id` from `reporter`: an `admin.report`
/// notification each, pushed like any other. Their notification policies
/// do not apply: reports are their work (as in Mastodon). The reporter is
/// not told of its own report.
pub(crate) async fn notify_staff_of_report(
    c: &dyn Conn,
    report_id: Id,
    reporter: Id,
    now: i64,
    max: u32,
) -> StoreResult<()> {
    let staff: Vec<Id> = c
        .query(
            "SELECT id FROM accounts WHERE role > 0 AND NOT suspended AND id <> ?1 ORDER BY id LIMIT ?2",
            &args![reporter, i64::from(max)],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    let kind = NotificationType::AdminReport;
    for to in staff {
        let written = c
            .query_opt(
                "INSERT INTO notifications (id, account_id, from_account_id, type, report_id, created_at, filtered) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING RETURNING id",
                &args![to, reporter, kind.as_str(), report_id, now, false],
            )
            .await?;
        if let Some(row) = written {
            super::push::enqueue(c, row.get(0)?, to, reporter, kind).await?;
        }
    }
    Ok(())
}

/// The group a new notification joins: the latest bucket of its prefix if
/// still open, else a new one (see `groups`).
pub async fn group_key_for(
    c: &dyn Conn,
    to: Id,
    kind: NotificationType,
    status: Option<Id>,
    now: i64,
) -> StoreResult<Option<String>> {
    let Some(prefix) = groups::prefix(kind, status) else {
        return Ok(None);
    };
    let (low, high) = groups::range(&prefix);
    // The column compares in byte order on both databases (COLLATE "C" on
    // PostgreSQL); buckets have the same number of digits for centuries, so
    // the greatest key is the latest bucket.
    let previous: Option<String> = match c
        .query_opt(
            "SELECT group_key FROM notifications WHERE account_id = ?1 AND group_key >= ?2 AND group_key < ?3 \
             ORDER BY group_key DESC LIMIT 1",
            &args![to, &low, &high],
        )
        .await?
    {
        Some(r) => r.get(0)?,
        None => None,
    };
    Ok(Some(groups::key(&prefix, now, previous.as_deref())))
}

/// Notifications from accounts the recipient blocks, or mutes with
/// notifications, are kept but not shown; so are those about statuses the
/// recipient may no longer see, and those its notification policy filtered
/// (until their request is accepted). (`?1` is the recipient.)
fn shown() -> String {
    format!(
        "NOT n.filtered AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1 AND b.target_id = n.from_account_id) \
         AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_id = n.from_account_id AND m.notifications AND {}) \
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.from_account_id AND a.suspended) \
         AND (n.status_id IS NULL OR EXISTS (SELECT 1 FROM statuses s WHERE s.id = n.status_id AND {}))",
        super::sql::mute_in_force("m"),
        visible("s")
    )
}

fn notification_row(r: &Row) -> StoreResult<NotificationRow> {
    let kind: String = r.get(1)?;
    Ok(NotificationRow {
        id: r.get(0)?,
        kind: NotificationType::parse(&kind).unwrap_or(NotificationType::Mention),
        created_at_ms: r.get(2)?,
        from_account_id: r.get(3)?,
        status_id: r.get(4)?,
        group_key: r.get(5)?,
        report_id: r.get(6)?,
    })
}

const COLUMNS: &str =
    "n.id, n.type, n.created_at, n.from_account_id, n.status_id, n.group_key, n.report_id";

/// Only notifications from one account when `?3` is not NULL (Mastodon's `account_id`).
const FROM: &str = "(CAST(?3 AS BIGINT) IS NULL OR n.from_account_id = ?3)";

/// The key a notification is grouped under: its stored key when its type is
/// one of `grouped`, else `ungrouped-<id>`. Types come from a closed enum.
fn group_expr(grouped: &[NotificationType]) -> String {
    if grouped.is_empty() {
        return "('ungrouped-' || CAST(n.id AS TEXT))".to_owned();
    }
    let list = grouped
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "(CASE WHEN n.group_key IS NOT NULL AND n.type IN ({list}) THEN n.group_key ELSE 'ungrouped-' || CAST(n.id AS TEXT) END)"
    )
}

fn type_names(types: &[NotificationType]) -> Vec<String> {
    types.iter().map(|t| t.as_str().to_owned()).collect()
}

pub async fn list(
    c: &dyn Conn,
    account_id: Id,
    types: &[NotificationType],
    from: Option<Id>,
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRow>>> {
    let types = type_names(types);
    let select = format!(
        "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = ?1 AND {} AND {FROM} AND {}",
        c.dialect().in_texts("n.type", 2),
        shown()
    );
    let args = [Arg::Int(account_id), Arg::Texts(&types), from.into()];
    sql::paged_rows(c, &select, "n.id", &args, page, notification_row).await
}

pub async fn get(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<NotificationRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = ?1 AND n.id = ?2 AND {}",
                shown()
            ),
            &args![account_id, id],
        )
        .await?;
    notification_row(&row)
}

pub async fn dismiss(c: &dyn Conn, account_id: Id, id: Id) -> StoreResult<()> {
    match c
        .execute(
            "DELETE FROM notifications WHERE account_id = ?1 AND id = ?2",
            &args![account_id, id],
        )
        .await?
    {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub async fn clear(c: &dyn Conn, account_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM notifications WHERE account_id = ?1",
        &args![account_id],
    )
    .await?;
    Ok(())
}

pub async fn group_page(
    c: &dyn Conn,
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
    let types = type_names(types);
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
    let mut params = vec![Arg::Int(account_id), Arg::Texts(&types), from.into()];
    params.extend(window.values.iter().map(|v| Arg::Int(*v)));
    let rows = c
        .query(
            &format!(
                "WITH w AS ( \
                   SELECT n.id AS id, {key} AS k FROM notifications n \
                   WHERE n.account_id = ?1 AND {types} AND {FROM} AND {shown}{window} \
                 ) \
                 SELECT {COLUMNS}, (SELECT COUNT(*) FROM w), (SELECT {edge}(id) FROM w) \
                 FROM notifications n WHERE n.id IN ( \
                   SELECT {pick}(w.id) FROM w GROUP BY w.k ORDER BY {pick}(w.id) {order} LIMIT {limit} \
                 ) ORDER BY n.id DESC",
                key = group_expr(grouped),
                types = c.dialect().in_texts("n.type", 2),
                shown = shown(),
                window = window.sql,
                limit = page.limit,
            ),
            &params,
        )
        .await?;
    let mut out = NotificationGroupPage::default();
    for r in &rows {
        let scanned: i64 = r.get(7)?;
        if scanned >= i64::from(scan) {
            out.scan_stopped_at = r.get(8)?;
        }
        out.rows.push(notification_row(r)?);
    }
    Ok(out)
}

pub async fn group_rows(
    c: &dyn Conn,
    account_id: Id,
    keys: &[String],
    from: Option<Id>,
    until: Option<Id>,
    samples: u32,
) -> StoreResult<Vec<NotificationGroupRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let until = until.unwrap_or(i64::MAX);
    let from = from.unwrap_or(i64::MIN);
    let filter = format!(
        "n.account_id = ?1 AND {} AND n.id <= ?3 AND {}",
        c.dialect().in_texts("n.group_key", 2),
        shown()
    );
    let rows = c
        .query(
            &format!(
                "SELECT n.group_key, COUNT(*), MAX(n.id), MIN(CASE WHEN n.id >= ?4 THEN n.id END) \
                 FROM notifications n WHERE {filter} GROUP BY n.group_key"
            ),
            &[
                Arg::Int(account_id),
                Arg::Texts(keys),
                Arg::Int(until),
                Arg::Int(from),
            ],
        )
        .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(NotificationGroupRow {
                group_key: r.get(0)?,
                count: r.get(1)?,
                most_recent_id: r.get(2)?,
                most_recent_at_ms: 0,
                oldest_in_range_id: r.get(3)?,
                sample_account_ids: Vec::new(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let rows = c
        .query(
            &format!(
                "SELECT k, from_account_id, created_at FROM ( \
                   SELECT n.group_key AS k, n.from_account_id, n.id, n.created_at, \
                          ROW_NUMBER() OVER (PARTITION BY n.group_key ORDER BY n.id DESC) AS rn \
                   FROM notifications n WHERE {filter} \
                 ) x WHERE rn <= ?4 ORDER BY k, id DESC"
            ),
            &[
                Arg::Int(account_id),
                Arg::Texts(keys),
                Arg::Int(until),
                Arg::from(samples),
            ],
        )
        .await?;
    for r in &rows {
        let key: String = r.get(0)?;
        if let Some(g) = out.iter_mut().find(|g| g.group_key == key) {
            if g.sample_account_ids.is_empty() {
                g.most_recent_at_ms = r.get(2)?;
            }
            g.sample_account_ids.push(r.get(1)?);
        }
    }
    Ok(out)
}

pub async fn by_group(
    c: &dyn Conn,
    account_id: Id,
    group_key: &str,
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRow>>> {
    let select = format!(
        "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = ?1 AND n.group_key = ?2 AND {}",
        shown()
    );
    sql::paged_rows(
        c,
        &select,
        "n.id",
        &args![account_id, group_key],
        page,
        notification_row,
    )
    .await
}

pub async fn dismiss_group(c: &dyn Conn, account_id: Id, group_key: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM notifications WHERE account_id = ?1 AND group_key = ?2",
        &args![account_id, group_key],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn unread(
    c: &dyn Conn,
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
    let types = type_names(types);
    let row = c
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT w.k FROM ( \
                   SELECT {key} AS k FROM notifications n \
                   WHERE n.account_id = ?1 AND {types} AND {FROM} AND n.id > ?4 AND {shown} \
                   ORDER BY n.id ASC LIMIT {scan} \
                 ) w LIMIT {limit}) c",
                key = group_expr(grouped),
                types = c.dialect().in_texts("n.type", 2),
                shown = shown(),
                scan = scan_max.max(limit),
            ),
            &[
                Arg::Int(account_id),
                Arg::Texts(&types),
                from.into(),
                Arg::Int(after_id.unwrap_or(0)),
            ],
        )
        .await?;
    let n: i64 = row.get(0)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn marker_row(r: &Row) -> StoreResult<Marker> {
    Ok(Marker {
        timeline: r.get(0)?,
        last_read_id: r.get(1)?,
        version: r.get(2)?,
        updated_at_ms: r.get(3)?,
    })
}

pub async fn markers(c: &dyn Conn, account_id: Id) -> StoreResult<Vec<Marker>> {
    c.query(
        "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = ?1",
        &args![account_id],
    )
    .await?
    .iter()
    .map(marker_row)
    .collect()
}

pub async fn set_marker(
    c: &dyn Conn,
    account_id: Id,
    timeline: &str,
    last_read_id: Id,
) -> StoreResult<Marker> {
    let r = c
        .query_opt(
            "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES (?1, ?2, ?3, 1, ?4) \
             ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = excluded.last_read_id, \
             version = markers.version + 1, updated_at = excluded.updated_at \
             RETURNING timeline, last_read_id, version, updated_at",
            &args![account_id, timeline, last_read_id, now_ms()],
        )
        .await?
        .ok_or_else(|| StoreError::Internal("marker upsert returned no row".into()))?;
    marker_row(&r)
}
