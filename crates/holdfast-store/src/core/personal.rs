//! What an account keeps about others for itself: private notes on
//! accounts, the accounts it endorses (features on its profile), and the
//! domains it hides. None of it is shown to anyone else.

use std::collections::HashMap;

use super::{args, sql, Arg, Conn};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Sets `me`'s note on `target`; an empty note removes it.
pub async fn set_note(c: &dyn Conn, me: Id, target: Id, comment: &str) -> StoreResult<()> {
    if comment.is_empty() {
        c.execute(
            "DELETE FROM account_notes WHERE account_id = ?1 AND target_id = ?2",
            &args![me, target],
        )
        .await?;
    } else {
        c.execute(
            "INSERT INTO account_notes (account_id, target_id, comment) VALUES (?1, ?2, ?3) \
             ON CONFLICT (account_id, target_id) DO UPDATE SET comment = excluded.comment",
            &args![me, target, comment],
        )
        .await?;
    }
    Ok(())
}

/// Endorses an account `me` follows; again is harmless. Rejected if `me`
/// does not follow it or already endorses `max` accounts.
pub async fn endorse(c: &dyn Conn, me: Id, target: Id, max: u32) -> StoreResult<()> {
    let following = c
        .query_opt(
            "SELECT 1 FROM follows WHERE account_id = ?1 AND target_id = ?2",
            &args![me, target],
        )
        .await?
        .is_some();
    if !following {
        return Err(StoreError::Rejected(
            "You must be already following the person you want to endorse",
        ));
    }
    c.execute(
        "INSERT INTO endorsements (id, account_id, target_id) VALUES (holdfast_next_id(), ?1, ?2) \
         ON CONFLICT (account_id, target_id) DO NOTHING",
        &args![me, target],
    )
    .await?;
    let count: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM endorsements WHERE account_id = ?1",
            &args![me],
        )
        .await?
        .get(0)?;
    if count > max as i64 {
        return Err(StoreError::Rejected("You cannot endorse more accounts"));
    }
    Ok(())
}

pub async fn unendorse(c: &dyn Conn, me: Id, target: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM endorsements WHERE account_id = ?1 AND target_id = ?2",
        &args![me, target],
    )
    .await?;
    Ok(())
}

/// Accounts `me` endorses, newest endorsement first.
pub async fn endorsements(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::paged(
        c,
        "SELECT e.id, e.target_id FROM endorsements e JOIN accounts a ON a.id = e.target_id \
         WHERE e.account_id = ?1 AND NOT a.suspended",
        "e.id",
        &args![me],
        page,
    )
    .await
}

/// Hides `domain` for `me` (`domain` already normalized); again is harmless.
/// Rejected past `max` domains.
pub async fn block_domain(c: &dyn Conn, me: Id, domain: &str, max: u32) -> StoreResult<()> {
    c.execute(
        "INSERT INTO user_domain_blocks (id, account_id, domain) VALUES (holdfast_next_id(), ?1, ?2) \
         ON CONFLICT (account_id, domain) DO NOTHING",
        &args![me, domain],
    )
    .await?;
    let count: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM user_domain_blocks WHERE account_id = ?1",
            &args![me],
        )
        .await?
        .get(0)?;
    if count > max as i64 {
        return Err(StoreError::Rejected("You cannot block more domains"));
    }
    Ok(())
}

pub async fn unblock_domain(c: &dyn Conn, me: Id, domain: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM user_domain_blocks WHERE account_id = ?1 AND domain = ?2",
        &args![me, domain],
    )
    .await?;
    Ok(())
}

/// Domains `me` hides, newest first, paged by the block.
pub async fn domain_blocks(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<String>>> {
    sql::paged_rows(
        c,
        "SELECT d.id, d.domain FROM user_domain_blocks d WHERE d.account_id = ?1",
        "d.id",
        &args![me],
        page,
        |r| r.get(1),
    )
    .await
}

/// `me`'s notes on and endorsements of `targets`, for relationships.
pub async fn marks(
    c: &dyn Conn,
    me: Id,
    targets: &[Id],
) -> StoreResult<(HashMap<Id, String>, HashMap<Id, ()>)> {
    let d = c.dialect();
    let notes = c
        .query(
            &format!(
                "SELECT target_id, comment FROM account_notes WHERE account_id = ?1 AND {}",
                d.in_ids("target_id", 2)
            ),
            &[Arg::Int(me), Arg::Ids(targets)],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect::<StoreResult<HashMap<_, _>>>()?;
    let endorsed = c
        .query(
            &format!(
                "SELECT target_id FROM endorsements WHERE account_id = ?1 AND {}",
                d.in_ids("target_id", 2)
            ),
            &[Arg::Int(me), Arg::Ids(targets)],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, ())))
        .collect::<StoreResult<HashMap<_, _>>>()?;
    Ok((notes, endorsed))
}
