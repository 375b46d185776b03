//! The server rules, edited by admins (webui, issue 13).
//!
//! A rule's id is stable: reports name rules by id (Mastodon's `rule_ids`),
//! so a rule is never renumbered, and a deleted rule stays as a row with
//! `deleted_at` set (as Mastodon discards it) for the reports that cited it.
//! The config file's rules seed the table once, with ids 1..n: before the
//! table existed reports named rules by their position, and these ids keep
//! such reports pointing at the same rules. Rules are listed by `priority`,
//! then id. Every change writes its audit entry in the same transaction.

use super::moderation::{record, record_change};
use super::{args, Conn, Row};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

const COLUMNS: &str = "id, priority, text, hint, created_at, updated_at, deleted_at";

fn rule_row(r: &Row) -> StoreResult<RuleRow> {
    Ok(RuleRow {
        id: r.get(0)?,
        priority: r.get(1)?,
        text: r.get(2)?,
        hint: r.get(3)?,
        created_at_ms: r.get(4)?,
        updated_at_ms: r.get(5)?,
        deleted_at_ms: r.get(6)?,
    })
}

/// Writes the configured rules as ids 1..n, unless the table has ever held a
/// rule (deleted ones count: the table then belongs to the admins). Several
/// nodes seeding at once write the same rows; the first one's stay.
pub async fn seed(c: &dyn Conn, rules: &[NewRule]) -> StoreResult<()> {
    if c.query_opt("SELECT 1 FROM instance_rules LIMIT 1", &[])
        .await?
        .is_some()
    {
        return Ok(());
    }
    let now = now_ms();
    for (i, r) in (1_i64..).zip(rules) {
        c.execute(
            "INSERT INTO instance_rules (id, priority, text, hint, created_at, updated_at) \
             VALUES (?1, ?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO NOTHING",
            &args![i, &r.text, &r.hint, now],
        )
        .await?;
    }
    Ok(())
}

/// The rules in order; deleted ones too with `include_deleted` (reports name them).
pub async fn all(c: &dyn Conn, include_deleted: bool) -> StoreResult<Vec<RuleRow>> {
    let live = if include_deleted {
        ""
    } else {
        "WHERE deleted_at IS NULL"
    };
    c.query(
        &format!("SELECT {COLUMNS} FROM instance_rules {live} ORDER BY priority, id"),
        &[],
    )
    .await?
    .iter()
    .map(rule_row)
    .collect()
}

async fn live_rule(c: &dyn Conn, id: Id) -> StoreResult<RuleRow> {
    let row = c
        .query_one(
            &format!("SELECT {COLUMNS} FROM instance_rules WHERE id = ?1 AND deleted_at IS NULL"),
            &args![id],
        )
        .await?;
    rule_row(&row)
}

/// Adds a rule after the others. Rejected past `bounds.live_max` rules in
/// force, or `bounds.kept_max` rows with the deleted ones.
pub async fn create(
    c: &dyn Conn,
    rule: &NewRule,
    bounds: RuleBounds,
    audit: &NewAudit,
) -> StoreResult<RuleRow> {
    let counts = c
        .query_one(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(MAX(priority), 0) FROM instance_rules",
            &[],
        )
        .await?;
    let (kept, live, last): (i64, i64, i64) = (counts.get(0)?, counts.get(1)?, counts.get(2)?);
    if live >= i64::from(bounds.live_max) {
        return Err(StoreError::Rejected(
            "too many rules; delete or merge some first",
        ));
    }
    if kept >= i64::from(bounds.kept_max) {
        return Err(StoreError::Rejected(
            "too many rules kept (deleted rules are kept for the reports that cite them)",
        ));
    }
    let now = now_ms();
    let row = c
        .query_one(
            &format!(
                "INSERT INTO instance_rules (id, priority, text, hint, created_at, updated_at) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?4) RETURNING {COLUMNS}"
            ),
            &args![last + 1, &rule.text, &rule.hint, now],
        )
        .await?;
    let made = rule_row(&row)?;
    record(
        c,
        &NewAudit {
            target_id: Some(made.id),
            ..audit.clone()
        },
    )
    .await?;
    Ok(made)
}

/// New text and hint for a rule in force (a deleted one is NotFound).
pub async fn update(
    c: &dyn Conn,
    id: Id,
    rule: &NewRule,
    audit: &NewAudit,
) -> StoreResult<RuleRow> {
    let changed = c
        .execute(
            "UPDATE instance_rules SET text = ?2, hint = ?3, updated_at = ?4 \
             WHERE id = ?1 AND deleted_at IS NULL",
            &args![id, &rule.text, &rule.hint, now_ms()],
        )
        .await?;
    record_change(c, changed, audit).await?;
    live_rule(c, id).await
}

/// Moves a rule in force one place earlier or later among the rules in
/// force; at either end it stays where it is (and nothing is recorded).
/// The rules in force are numbered 1..n again, so ties left by seeding
/// or by deletions never make a move ambiguous.
pub async fn move_rule(c: &dyn Conn, id: Id, earlier: bool, audit: &NewAudit) -> StoreResult<()> {
    live_rule(c, id).await?;
    let mut order: Vec<Id> = all(c, false).await?.iter().map(|r| r.id).collect();
    let Some(at) = order.iter().position(|r| *r == id) else {
        return Err(StoreError::NotFound);
    };
    let to = if earlier {
        at.checked_sub(1)
    } else {
        Some(at + 1).filter(|to| *to < order.len())
    };
    let Some(to) = to else {
        return Ok(());
    };
    order.swap(at, to);
    let now = now_ms();
    for (priority, rule) in (1_i64..).zip(&order) {
        c.execute(
            "UPDATE instance_rules SET priority = ?2, updated_at = CASE WHEN id = ?3 THEN ?4 ELSE updated_at END \
             WHERE id = ?1",
            &args![*rule, priority, id, now],
        )
        .await?;
    }
    record(c, audit).await
}

/// Marks a rule in force deleted; its row stays for the reports that cite it.
pub async fn delete(c: &dyn Conn, id: Id, audit: &NewAudit) -> StoreResult<()> {
    let now = now_ms();
    let changed = c
        .execute(
            "UPDATE instance_rules SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
            &args![id, now],
        )
        .await?;
    record_change(c, changed, audit).await
}
