use std::collections::HashMap;

use super::pool::Db;
use super::statuses::notify;
use crate::model::*;
use crate::StoreResult;

/// Follows, or asks to when the target is locked. Following again only
/// updates the options, so a retried follow is harmless; two concurrent
/// follows meet in `ON CONFLICT` and notify once.
pub async fn follow(
    db: Db<'_>,
    account_id: Id,
    target_id: Id,
    reblogs: bool,
    notify_on_post: bool,
) -> StoreResult<FollowOutcome> {
    let updated = db
        .execute(
            "UPDATE follows SET reblogs = $3, notify = $4 WHERE account_id = $1 AND target_id = $2",
            &[&account_id, &target_id, &reblogs, &notify_on_post],
        )
        .await?;
    if updated == 1 {
        return Ok(FollowOutcome::Following);
    }
    let locked: bool = db
        .query_one("SELECT locked FROM accounts WHERE id = $1", &[&target_id])
        .await?
        .get(0);
    if locked {
        let added = db
            .execute(
                "INSERT INTO follow_requests (account_id, target_id) VALUES ($1, $2) ON CONFLICT (account_id, target_id) DO NOTHING",
                &[&account_id, &target_id],
            )
            .await?;
        if added == 1 {
            notify(
                db,
                target_id,
                account_id,
                NotificationType::FollowRequest,
                None,
            )
            .await?;
        }
        return Ok(FollowOutcome::Requested);
    }
    db.execute(
        "INSERT INTO follows (account_id, target_id, reblogs, notify) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, target_id) DO UPDATE SET reblogs = excluded.reblogs, notify = excluded.notify",
        &[&account_id, &target_id, &reblogs, &notify_on_post],
    )
    .await?;
    // Idempotent by the notifications_once index: a racing follow notifies once.
    notify(db, target_id, account_id, NotificationType::Follow, None).await?;
    Ok(FollowOutcome::Following)
}

pub async fn unfollow(db: Db<'_>, account_id: Id, target_id: Id) -> StoreResult<()> {
    let removed = db
        .execute(
            "DELETE FROM follows WHERE account_id = $1 AND target_id = $2",
            &[&account_id, &target_id],
        )
        .await?
        + db.execute(
            "DELETE FROM follow_requests WHERE account_id = $1 AND target_id = $2",
            &[&account_id, &target_id],
        )
        .await?;
    if removed > 0 {
        db.execute(
            "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type IN ('follow', 'follow_request')",
            &[&target_id, &account_id],
        )
        .await?;
    }
    Ok(())
}

/// Blocking also ends following in both directions, as in Mastodon.
pub async fn block(db: Db<'_>, account_id: Id, target_id: Id) -> StoreResult<()> {
    db.execute(
        "INSERT INTO blocks (account_id, target_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[&account_id, &target_id],
    )
    .await?;
    unfollow(db, account_id, target_id).await?;
    unfollow(db, target_id, account_id).await?;
    Ok(())
}

pub async fn relationships(db: Db<'_>, me: Id, targets: &[Id]) -> StoreResult<Vec<Relationship>> {
    let set = |sql: &'static str| async move {
        let rows = db.query(sql, &[&me, &targets]).await?;
        Ok::<_, crate::StoreError>(
            rows.iter()
                .map(|r| {
                    (
                        r.get::<_, Id>(0),
                        (r.get::<_, bool>(1), r.get::<_, bool>(2)),
                    )
                })
                .collect::<HashMap<_, _>>(),
        )
    };
    let following = set("SELECT target_id, reblogs, notify FROM follows WHERE account_id = $1 AND target_id = ANY($2)").await?;
    let followed_by = set("SELECT account_id, FALSE, FALSE FROM follows WHERE target_id = $1 AND account_id = ANY($2)").await?;
    let blocking = set(
        "SELECT target_id, FALSE, FALSE FROM blocks WHERE account_id = $1 AND target_id = ANY($2)",
    )
    .await?;
    let blocked_by = set(
        "SELECT account_id, FALSE, FALSE FROM blocks WHERE target_id = $1 AND account_id = ANY($2)",
    )
    .await?;
    let muting = set("SELECT target_id, notifications, FALSE FROM mutes WHERE account_id = $1 AND target_id = ANY($2)").await?;
    let requested = set("SELECT target_id, FALSE, FALSE FROM follow_requests WHERE account_id = $1 AND target_id = ANY($2)").await?;
    let requested_by = set("SELECT account_id, FALSE, FALSE FROM follow_requests WHERE target_id = $1 AND account_id = ANY($2)").await?;
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
