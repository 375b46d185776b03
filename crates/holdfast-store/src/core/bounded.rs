//! Owned, bounded rows: an account's lists, filters, collections, pins,
//! scheduled statuses, and the child rows of each of those (list members,
//! filter keywords, collection items). Every such bound is counted inside the
//! writing transaction, after locking the row the counted rows belong to, so
//! two nodes adding at once count in turn on PostgreSQL (SQLite writes one
//! transaction at a time anyway).
//!
//! A write that adds bounded rows: lock the parent ([`lock_account`] or
//! [`lock_owned`]), then check the bound with [`within`], either before
//! inserting (with the number of rows about to be added) or after (with 0,
//! when the number added is only known then: the `Rejected` rolls the whole
//! write back).

use super::{args, Conn};
use crate::model::Id;
use crate::{StoreError, StoreResult};

/// Locks account `id`'s row; NotFound when there is none.
pub(crate) async fn lock_account(c: &dyn Conn, id: Id) -> StoreResult<()> {
    c.query_one(
        &format!(
            "SELECT a.id FROM accounts a WHERE a.id = ?1{}",
            c.dialect().for_update("a")
        ),
        &args![id],
    )
    .await?;
    Ok(())
}

/// Locks row `id` of `table` (one with `id` and `account_id` columns) if
/// `owner` owns it; NotFound otherwise, so someone else's row is never told
/// apart from a missing one. `table` is always a literal, never input.
pub(crate) async fn lock_owned(
    c: &dyn Conn,
    table: &'static str,
    owner: Id,
    id: Id,
) -> StoreResult<()> {
    c.query_one(
        &format!(
            "SELECT t.id FROM {table} t WHERE t.id = ?1 AND t.account_id = ?2{}",
            c.dialect().for_update("t")
        ),
        &args![id, owner],
    )
    .await?;
    Ok(())
}

/// The rows of one kind that belong to one parent row: `table`'s rows whose
/// `parent_column` names the parent. Both are literals, never input.
#[derive(Clone, Copy)]
pub(crate) struct Children {
    pub table: &'static str,
    pub parent_column: &'static str,
}

/// Rejected with `full` unless `parent`'s `children`, with `adding` more,
/// number at most `max`. Call it under the parent's lock.
pub(crate) async fn within(
    c: &dyn Conn,
    children: Children,
    parent: Id,
    adding: usize,
    max: u32,
    full: &'static str,
) -> StoreResult<()> {
    let Children {
        table,
        parent_column,
    } = children;
    let count: i64 = c
        .query_one(
            &format!("SELECT COUNT(*) FROM {table} WHERE {parent_column} = ?1"),
            &args![parent],
        )
        .await?
        .get(0)?;
    let after = count.saturating_add(i64::try_from(adding).unwrap_or(i64::MAX));
    if after > i64::from(max) {
        return Err(StoreError::Rejected(full));
    }
    Ok(())
}
