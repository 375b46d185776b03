//! Moderation: roles and account actions, reports, the audit log and
//! announcements. The instance's domain and address blocks are in
//! `instance_blocks.rs`.
//!
//! Every change a moderator makes writes its audit entry in the same
//! transaction, so the log cannot miss a change nor record one that failed.

use super::sql::{self, account_columns, account_row, like_prefix, ACCOUNT_COLUMNS_N};
use super::{args, Arg, Conn, Row};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

// ---------------------------------------------------------------- accounts

fn admin_account_select() -> String {
    format!(
        "SELECT {}, c.email_lower, a.silenced, a.sensitized, a.disabled, a.sign_up_ip \
         FROM accounts a JOIN credentials c ON c.account_id = a.id",
        account_columns()
    )
}

/// After the account columns.
fn admin_account_row(r: &Row) -> StoreResult<AdminAccountRow> {
    let n = ACCOUNT_COLUMNS_N;
    Ok(AdminAccountRow {
        account: account_row(r)?,
        email: r.get(n)?,
        silenced: r.get(n + 1)?,
        sensitized: r.get(n + 2)?,
        disabled: r.get(n + 3)?,
        sign_up_ip: r.get(n + 4)?,
    })
}

pub async fn admin_account(c: &dyn Conn, id: Id) -> StoreResult<AdminAccountRow> {
    let row = c
        .query_one(
            &format!("{} WHERE a.id = ?1", admin_account_select()),
            &args![id],
        )
        .await?;
    admin_account_row(&row)
}

/// Accounts matching every given filter, newest first, paged by id.
pub async fn admin_accounts(
    c: &dyn Conn,
    f: &AdminAccountFilter,
    page: Page,
) -> StoreResult<Vec<Paged<AdminAccountRow>>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    match f.state {
        None => {}
        Some(AccountState::Active) => {
            conditions.push("a.approved AND NOT a.suspended AND NOT a.disabled".into())
        }
        Some(AccountState::Pending) => conditions.push("NOT a.approved".into()),
        Some(AccountState::Disabled) => conditions.push("a.disabled".into()),
        Some(AccountState::Silenced) => conditions.push("a.silenced".into()),
        Some(AccountState::Suspended) => conditions.push("a.suspended".into()),
    }
    if f.staff {
        conditions.push(format!("a.role >= {}", Role::Moderator as i64));
    }
    let mut like = |column: &str, value: &Option<String>, texts: &mut Vec<String>| {
        if let Some(v) = value {
            texts.push(like_prefix(&v.to_lowercase()));
            conditions.push(format!("{column} LIKE ?{} ESCAPE '\\'", texts.len()));
        }
    };
    like("a.username_lower", &f.username, &mut texts);
    like("lower(a.display_name)", &f.display_name, &mut texts);
    like("c.email_lower", &f.email, &mut texts);
    if let Some(ip) = &f.ip {
        texts.push(ip.clone());
        conditions.push(format!("a.sign_up_ip = ?{}", texts.len()));
    }
    let where_clause = if conditions.is_empty() {
        "TRUE".to_owned()
    } else {
        conditions.join(" AND ")
    };
    let select = format!(
        "SELECT a.id, {}, c.email_lower, a.silenced, a.sensitized, a.disabled, a.sign_up_ip \
         FROM accounts a JOIN credentials c ON c.account_id = a.id WHERE {where_clause}",
        account_columns()
    );
    let args: Vec<Arg> = texts.iter().map(|t| Arg::Text(t)).collect();
    sql::paged_rows(c, &select, "a.id", &args, page, |r| {
        admin_account_row(&Row(r.0[1..].to_vec()))
    })
    .await
}

/// Applies one change; suspending or disabling ends every token and session.
pub async fn change_account(
    c: &dyn Conn,
    id: Id,
    change: AccountChange,
    audit: &NewAudit,
) -> StoreResult<AdminAccountRow> {
    let (column, value): (&str, Arg) = match change {
        AccountChange::Suspended(v) => ("suspended", Arg::Bool(v)),
        AccountChange::Silenced(v) => ("silenced", Arg::Bool(v)),
        AccountChange::Sensitized(v) => ("sensitized", Arg::Bool(v)),
        AccountChange::Disabled(v) => ("disabled", Arg::Bool(v)),
        AccountChange::Approved => ("approved", Arg::Bool(true)),
        AccountChange::Role(r) => ("role", Arg::Int(r as i64)),
    };
    let changed = c
        .execute(
            &format!("UPDATE accounts SET {column} = ?2 WHERE id = ?1"),
            &[Arg::Int(id), value],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    if matches!(
        change,
        AccountChange::Suspended(true) | AccountChange::Disabled(true)
    ) {
        end_sessions(c, id).await?;
    }
    record(c, audit).await?;
    admin_account(c, id).await
}

/// Ends every token and log-in session of the account.
pub async fn end_sessions(c: &dyn Conn, id: Id) -> StoreResult<()> {
    c.execute(
        "UPDATE tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
        &args![id, now_ms()],
    )
    .await?;
    c.execute("DELETE FROM sessions WHERE account_id = ?1", &args![id])
        .await?;
    Ok(())
}

/// Deletes the account and everything it owns (the foreign keys cascade);
/// with `pending_only`, only an account not yet approved (a rejected sign-up).
pub async fn delete_account(
    c: &dyn Conn,
    id: Id,
    pending_only: bool,
    audit: &NewAudit,
) -> StoreResult<()> {
    let approved: bool = c
        .query_one("SELECT approved FROM accounts WHERE id = ?1", &args![id])
        .await?
        .get(0)?;
    if pending_only && approved {
        return Err(StoreError::Rejected("the account is not pending"));
    }
    purge(c, id).await?;
    record(c, audit).await
}

/// Deletes the account and everything it made. Each status goes the way a
/// deletion by its author goes, so the counts on others' statuses and the
/// search index stay right; the rest goes by the schema's cascades.
pub async fn purge(c: &dyn Conn, id: Id) -> StoreResult<()> {
    // One that went already (a reblog of one of its own) is no error.
    let ids: Vec<Id> = c
        .query(
            "SELECT id FROM statuses WHERE account_id = ?1 ORDER BY id DESC",
            &args![id],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    for status_id in ids {
        match super::statuses::delete(c, id, status_id).await {
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    c.execute("DELETE FROM accounts WHERE id = ?1", &args![id])
        .await?;
    Ok(())
}

pub async fn set_sign_up_ip(c: &dyn Conn, id: Id, ip: &str) -> StoreResult<()> {
    c.execute(
        "UPDATE accounts SET sign_up_ip = ?2 WHERE id = ?1",
        &args![id, ip],
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- audit log

pub async fn record(c: &dyn Conn, a: &NewAudit) -> StoreResult<()> {
    c.execute(
        "INSERT INTO audit_log (id, account_id, action, target_type, target_id, target_name, detail, created_at) \
         VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &args![
            a.actor,
            &a.action,
            a.target_type,
            a.target_id,
            &a.target_name,
            &a.detail,
            now_ms()
        ],
    )
    .await?;
    Ok(())
}

/// Records the audit entry of a change that wrote `changed` rows. None means
/// there was nothing to change: NotFound, and no entry (the caller's
/// transaction rolls back).
pub async fn record_change(c: &dyn Conn, changed: u64, audit: &NewAudit) -> StoreResult<()> {
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    record(c, audit).await
}

pub async fn audit_log(c: &dyn Conn, page: Page) -> StoreResult<Vec<Paged<AuditRow>>> {
    sql::paged_rows(
        c,
        "SELECT l.id, l.id, l.account_id, a.username, l.action, l.target_type, l.target_id, \
                l.target_name, l.detail, l.created_at \
         FROM audit_log l LEFT JOIN accounts a ON a.id = l.account_id WHERE TRUE",
        "l.id",
        &[],
        page,
        |r| {
            Ok(AuditRow {
                id: r.get(1)?,
                actor: r.get(2)?,
                actor_username: r.get(3)?,
                action: r.get(4)?,
                target_type: r.get(5)?,
                target_id: r.get(6)?,
                target_name: r.get(7)?,
                detail: r.get(8)?,
                created_at_ms: r.get(9)?,
            })
        },
    )
    .await
}

// ---------------------------------------------------------------- reports

const REPORT_COLUMNS: &str =
    "r.id, r.account_id, r.target_account_id, r.comment, r.category, r.forwarded, \
    r.rule_ids, r.assigned_account_id, r.action_taken_at, r.action_taken_by_account_id, \
    r.resolution_note, r.created_at, r.updated_at";

fn report_row(r: &Row, status_ids: Vec<Id>) -> StoreResult<ReportRow> {
    let rule_ids: String = r.get(6)?;
    Ok(ReportRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        target_account_id: r.get(2)?,
        comment: r.get(3)?,
        category: r.get(4)?,
        forwarded: r.get(5)?,
        rule_ids: rule_ids.split_whitespace().map(str::to_owned).collect(),
        assigned_account_id: r.get(7)?,
        action_taken_at_ms: r.get(8)?,
        action_taken_by_account_id: r.get(9)?,
        resolution_note: r.get(10)?,
        created_at_ms: r.get(11)?,
        updated_at_ms: r.get(12)?,
        status_ids,
    })
}

async fn report_status_ids(c: &dyn Conn, report_id: Id) -> StoreResult<Vec<Id>> {
    c.query(
        "SELECT status_id FROM report_statuses WHERE report_id = ?1 ORDER BY status_id",
        &args![report_id],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Files a report, and tells moderators and admins (at most `staff_max`)
/// with an `admin.report` notification. Rejected if a status is not the
/// target's, or the reporter has `open_max` unresolved reports already.
pub async fn create_report(
    c: &dyn Conn,
    new: &NewReport,
    open_max: u32,
    staff_max: u32,
) -> StoreResult<ReportRow> {
    if !new.status_ids.is_empty() {
        let theirs: i64 = c
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM statuses s WHERE {} AND s.account_id = ?2",
                    c.dialect().in_ids("s.id", 1)
                ),
                &[Arg::Ids(&new.status_ids), Arg::Int(new.target_account_id)],
            )
            .await?
            .get(0)?;
        if theirs != new.status_ids.len() as i64 {
            return Err(StoreError::Rejected(
                "Statuses must be statuses of the reported account",
            ));
        }
    }
    let open: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM reports WHERE account_id = ?1 AND action_taken_at IS NULL",
            &args![new.account_id],
        )
        .await?
        .get(0)?;
    if open >= open_max as i64 {
        return Err(StoreError::Rejected(
            "you have too many open reports; wait until moderators resolve some",
        ));
    }
    let now = now_ms();
    let id: Id = c
        .query_one(
            "INSERT INTO reports (id, account_id, target_account_id, comment, category, forwarded, rule_ids, created_at, updated_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
            &args![
                new.account_id,
                new.target_account_id,
                &new.comment,
                &new.category,
                new.forwarded,
                &new.rule_ids.join(" "),
                now
            ],
        )
        .await?
        .get(0)?;
    for status_id in &new.status_ids {
        c.execute(
            "INSERT INTO report_statuses (report_id, status_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &args![id, *status_id],
        )
        .await?;
    }
    super::notifications::notify_staff_of_report(c, id, new.account_id, now, staff_max).await?;
    report(c, id).await
}

pub async fn report(c: &dyn Conn, id: Id) -> StoreResult<ReportRow> {
    let row = c
        .query_one(
            &format!("SELECT {REPORT_COLUMNS} FROM reports r WHERE r.id = ?1"),
            &args![id],
        )
        .await?;
    let statuses = report_status_ids(c, id).await?;
    report_row(&row, statuses)
}

pub async fn reports(
    c: &dyn Conn,
    f: &ReportFilter,
    page: Page,
) -> StoreResult<Vec<Paged<ReportRow>>> {
    let mut conditions = vec!["TRUE".to_owned()];
    let mut ids: Vec<i64> = Vec::new();
    match f.resolved {
        Some(true) => conditions.push("r.action_taken_at IS NOT NULL".into()),
        Some(false) => conditions.push("r.action_taken_at IS NULL".into()),
        None => {}
    }
    if let Some(a) = f.account_id {
        ids.push(a);
        conditions.push(format!("r.account_id = ?{}", ids.len()));
    }
    if let Some(t) = f.target_account_id {
        ids.push(t);
        conditions.push(format!("r.target_account_id = ?{}", ids.len()));
    }
    let select = format!(
        "SELECT r.id, {REPORT_COLUMNS} FROM reports r WHERE {}",
        conditions.join(" AND ")
    );
    let args: Vec<Arg> = ids.iter().map(|i| Arg::Int(*i)).collect();
    let mut page_rows = sql::paged_rows(c, &select, "r.id", &args, page, |r| {
        report_row(&Row(r.0[1..].to_vec()), Vec::new())
    })
    .await?;
    for p in &mut page_rows {
        p.item.status_ids = report_status_ids(c, p.item.id).await?;
    }
    Ok(page_rows)
}

pub async fn change_report(
    c: &dyn Conn,
    id: Id,
    change: &ReportChange,
    audit: &NewAudit,
) -> StoreResult<ReportRow> {
    let now = now_ms();
    let changed = match change {
        ReportChange::Assign(who) => {
            c.execute(
                "UPDATE reports SET assigned_account_id = ?2, updated_at = ?3 WHERE id = ?1",
                &args![id, *who, now],
            )
            .await?
        }
        ReportChange::Resolve { by, note } => {
            c.execute(
                "UPDATE reports SET action_taken_at = ?2, action_taken_by_account_id = ?3, \
                 resolution_note = ?4, updated_at = ?2 WHERE id = ?1",
                &args![id, now, *by, note.as_str()],
            )
            .await?
        }
        ReportChange::Reopen => {
            c.execute(
                "UPDATE reports SET action_taken_at = NULL, action_taken_by_account_id = NULL, \
                 updated_at = ?2 WHERE id = ?1",
                &args![id, now],
            )
            .await?
        }
        ReportChange::Update { category, rule_ids } => {
            let rules = rule_ids.as_ref().map(|r| r.join(" "));
            c.execute(
                "UPDATE reports SET category = COALESCE(?2, category), rule_ids = COALESCE(?3, rule_ids), \
                 updated_at = ?4 WHERE id = ?1",
                &args![id, category.as_deref(), rules.as_deref(), now],
            )
            .await?
        }
    };
    record_change(c, changed, audit).await?;
    report(c, id).await
}

// ---------------------------------------------------------------- announcements

const ANNOUNCEMENT_COLUMNS: &str = "n.id, n.text, n.content, n.starts_at, n.ends_at, n.all_day, \
    n.published_at, n.updated_at, n.published";

async fn announcement_row(
    c: &dyn Conn,
    r: &Row,
    viewer: Option<Id>,
) -> StoreResult<AnnouncementRow> {
    let id: Id = r.get(0)?;
    let me = sql::viewer_param(viewer);
    let read = c
        .query_opt(
            "SELECT 1 FROM announcement_reads WHERE announcement_id = ?1 AND account_id = ?2",
            &args![id, me],
        )
        .await?
        .is_some();
    let reactions = c
        .query(
            "SELECT name, COUNT(*), MAX(CASE WHEN account_id = ?2 THEN 1 ELSE 0 END) \
             FROM announcement_reactions WHERE announcement_id = ?1 \
             GROUP BY name ORDER BY COUNT(*) DESC, name",
            &args![id, me],
        )
        .await?
        .iter()
        .map(|r| {
            let mine: i64 = r.get(2)?;
            Ok((r.get(0)?, r.get(1)?, mine == 1))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(AnnouncementRow {
        id,
        text: r.get(1)?,
        content: r.get(2)?,
        starts_at_ms: r.get(3)?,
        ends_at_ms: r.get(4)?,
        all_day: r.get(5)?,
        published: r.get(8)?,
        published_at_ms: r.get(6)?,
        updated_at_ms: r.get(7)?,
        read,
        reactions,
    })
}

pub async fn create_announcement(
    c: &dyn Conn,
    a: &AnnouncementInput,
    max: u32,
    audit: &NewAudit,
) -> StoreResult<AnnouncementRow> {
    let count: i64 = c
        .query_one("SELECT COUNT(*) FROM announcements", &[])
        .await?
        .get(0)?;
    if count >= max as i64 {
        return Err(StoreError::Rejected(
            "too many announcements; delete old ones first",
        ));
    }
    let now = now_ms();
    let id: Id = c
        .query_one(
            "INSERT INTO announcements (id, text, content, starts_at, ends_at, all_day, published_at, updated_at, \
             published) VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) RETURNING id",
            &args![&a.text, &a.content, a.starts_at_ms, a.ends_at_ms, a.all_day, now, a.published],
        )
        .await?
        .get(0)?;
    record(
        c,
        &NewAudit {
            target_id: Some(id),
            ..audit.clone()
        },
    )
    .await?;
    announcement(c, id, None).await
}

pub async fn announcement(
    c: &dyn Conn,
    id: Id,
    viewer: Option<Id>,
) -> StoreResult<AnnouncementRow> {
    let row = c
        .query_one(
            &format!("SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements n WHERE n.id = ?1"),
            &args![id],
        )
        .await?;
    announcement_row(c, &row, viewer).await
}

/// Announcements newest first (at most `limit`): with `active_only`, those
/// published whose time has come and not yet ended.
pub async fn announcements(
    c: &dyn Conn,
    viewer: Option<Id>,
    active_only: bool,
    limit: u32,
) -> StoreResult<Vec<AnnouncementRow>> {
    let filter = if active_only {
        "n.published AND (n.starts_at IS NULL OR n.starts_at <= holdfast_now_ms()) \
         AND (n.ends_at IS NULL OR n.ends_at > holdfast_now_ms())"
    } else {
        "TRUE"
    };
    let rows = c
        .query(
            &format!(
                "SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements n WHERE {filter} ORDER BY n.id DESC LIMIT ?1"
            ),
            &args![limit],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(announcement_row(c, r, viewer).await?);
    }
    Ok(out)
}

pub async fn update_announcement(
    c: &dyn Conn,
    id: Id,
    a: &AnnouncementInput,
    audit: &NewAudit,
) -> StoreResult<AnnouncementRow> {
    let changed = c
        .execute(
            "UPDATE announcements SET text = ?2, content = ?3, starts_at = ?4, ends_at = ?5, all_day = ?6, \
             updated_at = ?7 WHERE id = ?1",
            &args![id, &a.text, &a.content, a.starts_at_ms, a.ends_at_ms, a.all_day, now_ms()],
        )
        .await?;
    record_change(c, changed, audit).await?;
    announcement(c, id, None).await
}

/// Publishes a draft (as of now) or takes a published one back to a draft.
pub async fn publish_announcement(
    c: &dyn Conn,
    id: Id,
    published: bool,
    audit: &NewAudit,
) -> StoreResult<AnnouncementRow> {
    let now = now_ms();
    let changed = if published {
        c.execute(
            "UPDATE announcements SET published = ?2, published_at = ?3, updated_at = ?3 WHERE id = ?1",
            &args![id, published, now],
        )
        .await?
    } else {
        c.execute(
            "UPDATE announcements SET published = ?2, updated_at = ?3 WHERE id = ?1",
            &args![id, published, now],
        )
        .await?
    };
    record_change(c, changed, audit).await?;
    announcement(c, id, None).await
}

pub async fn delete_announcement(c: &dyn Conn, id: Id, audit: &NewAudit) -> StoreResult<()> {
    let changed = c
        .execute("DELETE FROM announcements WHERE id = ?1", &args![id])
        .await?;
    record_change(c, changed, audit).await
}

/// Marks an active announcement read by `me`; again is harmless.
pub async fn dismiss_announcement(c: &dyn Conn, me: Id, id: Id) -> StoreResult<()> {
    announcement(c, id, None).await?;
    c.execute(
        "INSERT INTO announcement_reads (announcement_id, account_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![id, me],
    )
    .await?;
    Ok(())
}

/// Adds (or removes) `me`'s reaction; Rejected past `max` distinct names.
pub async fn react_to_announcement(
    c: &dyn Conn,
    me: Id,
    id: Id,
    name: &str,
    add: bool,
    max: u32,
) -> StoreResult<()> {
    announcement(c, id, None).await?;
    if !add {
        c.execute(
            "DELETE FROM announcement_reactions WHERE announcement_id = ?1 AND account_id = ?2 AND name = ?3",
            &args![id, me, name],
        )
        .await?;
        return Ok(());
    }
    c.execute(
        "INSERT INTO announcement_reactions (announcement_id, account_id, name) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
        &args![id, me, name],
    )
    .await?;
    let distinct: i64 = c
        .query_one(
            "SELECT COUNT(DISTINCT name) FROM announcement_reactions WHERE announcement_id = ?1",
            &args![id],
        )
        .await?
        .get(0)?;
    if distinct > max as i64 {
        return Err(StoreError::Rejected("too many different reactions"));
    }
    Ok(())
}
