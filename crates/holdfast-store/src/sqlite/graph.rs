use rusqlite::{params, Connection};

use super::statuses::notify;
use super::{sql, Tx};
use crate::model::*;
use crate::StoreResult;

/// Follows, or asks to when the target is locked. Following again only
/// updates the options, so a retried follow is harmless.
pub fn follow(
    t: &mut Tx<'_>,
    account_id: Id,
    target_id: Id,
    reblogs: bool,
    notify_on_post: bool,
) -> StoreResult<FollowOutcome> {
    let updated = t.tx.execute(
        "UPDATE follows SET reblogs = ?3, notify = ?4 WHERE account_id = ?1 AND target_id = ?2",
        params![account_id, target_id, reblogs, notify_on_post],
    )?;
    if updated == 1 {
        return Ok(FollowOutcome::Following);
    }
    let locked: bool = t.tx.query_row(
        "SELECT locked FROM accounts WHERE id = ?1",
        [target_id],
        |r| r.get(0),
    )?;
    if locked {
        let added = t.tx.execute(
            "INSERT OR IGNORE INTO follow_requests (id, account_id, target_id) VALUES (?1, ?2, ?3)",
            params![t.ids.next(), account_id, target_id],
        )?;
        if added == 1 {
            notify(
                t,
                target_id,
                account_id,
                NotificationType::FollowRequest,
                None,
            )?;
        }
        return Ok(FollowOutcome::Requested);
    }
    t.tx.execute(
        "INSERT INTO follows (id, account_id, target_id, reblogs, notify) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![t.ids.next(), account_id, target_id, reblogs, notify_on_post],
    )?;
    notify(t, target_id, account_id, NotificationType::Follow, None)?;
    Ok(FollowOutcome::Following)
}

pub fn unfollow(t: &mut Tx<'_>, account_id: Id, target_id: Id) -> StoreResult<()> {
    let removed = t.tx.execute(
        "DELETE FROM follows WHERE account_id = ?1 AND target_id = ?2",
        [account_id, target_id],
    )? + t.tx.execute(
        "DELETE FROM follow_requests WHERE account_id = ?1 AND target_id = ?2",
        [account_id, target_id],
    )?;
    if removed > 0 {
        t.tx.execute(
            "DELETE FROM notifications WHERE account_id = ?1 AND from_account_id = ?2 AND type IN ('follow', 'follow_request')",
            [target_id, account_id],
        )?;
    }
    Ok(())
}

/// Blocking also ends following in both directions, as in Mastodon.
pub fn block(t: &mut Tx<'_>, account_id: Id, target_id: Id) -> StoreResult<()> {
    t.tx.execute(
        "INSERT OR IGNORE INTO blocks (account_id, target_id) VALUES (?1, ?2)",
        [account_id, target_id],
    )?;
    unfollow(t, account_id, target_id)?;
    unfollow(t, target_id, account_id)?;
    Ok(())
}

pub fn relationships(
    c: &Connection,
    me: Id,
    targets: &[Id],
) -> rusqlite::Result<Vec<Relationship>> {
    let list = sql::id_list(targets);
    let set = |query: String| -> rusqlite::Result<crate::assemble::Flags> {
        let mut stmt = c.prepare(&query)?;
        let rows = stmt.query_map([me], |r| {
            Ok((
                r.get::<_, Id>(0)?,
                (r.get::<_, bool>(1)?, r.get::<_, bool>(2)?),
            ))
        })?;
        rows.collect()
    };
    let following = set(format!("SELECT target_id, reblogs, notify FROM follows WHERE account_id = ?1 AND target_id IN ({list})"))?;
    let followed_by = set(format!(
        "SELECT account_id, 0, 0 FROM follows WHERE target_id = ?1 AND account_id IN ({list})"
    ))?;
    let blocking = set(format!(
        "SELECT target_id, 0, 0 FROM blocks WHERE account_id = ?1 AND target_id IN ({list})"
    ))?;
    let blocked_by = set(format!(
        "SELECT account_id, 0, 0 FROM blocks WHERE target_id = ?1 AND account_id IN ({list})"
    ))?;
    let muting = set(format!("SELECT target_id, notifications, 0 FROM mutes WHERE account_id = ?1 AND target_id IN ({list})"))?;
    let requested = set(format!("SELECT target_id, 0, 0 FROM follow_requests WHERE account_id = ?1 AND target_id IN ({list})"))?;
    let requested_by = set(format!("SELECT account_id, 0, 0 FROM follow_requests WHERE target_id = ?1 AND account_id IN ({list})"))?;
    Ok(crate::assemble::RelationshipSets {
        following,
        followed_by,
        blocking,
        blocked_by,
        muting,
        requested,
        requested_by,
    }
    .into_relationships(targets))
}
