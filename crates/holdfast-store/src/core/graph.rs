//! The social graph: follows (and requests to follow a locked account),
//! blocks, mutes, and the relationship sets built from them.

use std::collections::HashMap;

use super::notifications::{notify, notify_all};
use super::{args, sql, Arg, Conn};
use crate::model::*;
use crate::StoreResult;

/// Follows, or asks to when the target is locked (the request keeps the
/// options, for when it is authorized). Following again only updates the
/// options, so a retried follow is harmless; two concurrent follows meet in
/// `ON CONFLICT` and notify once.
pub async fn follow(
    c: &dyn Conn,
    account_id: Id,
    target_id: Id,
    options: &FollowOptions,
) -> StoreResult<FollowOutcome> {
    // NULL keeps the languages a follow has; "" is all languages.
    let languages = options.languages.as_ref().map(|l| l.join(","));
    let languages = languages.as_deref();
    let (reblogs, notify_on_post) = (options.reblogs, options.notify);
    let updated = c
        .execute(
            "UPDATE follows SET reblogs = ?3, notify = ?4, languages = COALESCE(?5, languages) \
             WHERE account_id = ?1 AND target_id = ?2",
            &args![account_id, target_id, reblogs, notify_on_post, languages],
        )
        .await?;
    if updated == 1 {
        return Ok(FollowOutcome::Following);
    }
    let locked: bool = c
        .query_one(
            "SELECT locked FROM accounts WHERE id = ?1",
            &args![target_id],
        )
        .await?
        .get(0)?;
    if locked {
        let added = c
            .execute(
                "INSERT INTO follow_requests (id, account_id, target_id, reblogs, notify, languages) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account_id, target_id) DO UPDATE SET reblogs = excluded.reblogs, \
                   notify = excluded.notify, languages = COALESCE(excluded.languages, follow_requests.languages)",
                &args![account_id, target_id, reblogs, notify_on_post, languages],
            )
            .await?;
        if added == 1 {
            notify(
                c,
                target_id,
                account_id,
                NotificationType::FollowRequest,
                None,
            )
            .await?;
        }
        return Ok(FollowOutcome::Requested);
    }
    c.execute(
        "INSERT INTO follows (id, account_id, target_id, reblogs, notify, languages) VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (account_id, target_id) DO UPDATE SET reblogs = excluded.reblogs, notify = excluded.notify, \
           languages = COALESCE(excluded.languages, follows.languages)",
        &args![account_id, target_id, reblogs, notify_on_post, languages],
    )
    .await?;
    // Idempotent by the notifications_once index: a racing follow notifies once.
    notify(c, target_id, account_id, NotificationType::Follow, None).await?;
    Ok(FollowOutcome::Following)
}

/// Followers who asked to hear of `author`'s posts (`notify`) get a `status`
/// notification for status `id`, as Mastodon sends it: not for direct
/// messages or replies to others, and only to followers who may see it.
/// At most `max`, the oldest follows first, so one post's transaction stays bounded.
pub async fn notify_subscribers(
    c: &dyn Conn,
    id: Id,
    new: &NewStatus,
    max: u32,
) -> StoreResult<()> {
    if new.visibility == Visibility::Direct {
        return Ok(());
    }
    if let Some(parent) = new.in_reply_to {
        let parent_author: Option<Id> = c
            .query_opt(
                "SELECT account_id FROM statuses WHERE id = ?1",
                &args![parent],
            )
            .await?
            .map(|r| r.get(0))
            .transpose()?;
        if parent_author != Some(new.account_id) {
            return Ok(());
        }
    }
    let subscribers = c
        .query(
            "SELECT f.account_id FROM follows f WHERE f.target_id = ?1 AND f.notify \
             AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = ?1 AND b.target_id = f.account_id) \
             ORDER BY f.id LIMIT ?2",
            &args![new.account_id, max],
        )
        .await?;
    let subscribers: Vec<Id> = subscribers
        .iter()
        .map(|r| r.get(0))
        .collect::<StoreResult<_>>()?;
    notify_all(
        c,
        &subscribers,
        new.account_id,
        NotificationType::Status,
        Some(id),
    )
    .await?;
    Ok(())
}

pub async fn unfollow(c: &dyn Conn, account_id: Id, target_id: Id) -> StoreResult<()> {
    let pair = args![account_id, target_id];
    let removed = c
        .execute(
            "DELETE FROM follows WHERE account_id = ?1 AND target_id = ?2",
            &pair,
        )
        .await?
        + c.execute(
            "DELETE FROM follow_requests WHERE account_id = ?1 AND target_id = ?2",
            &pair,
        )
        .await?;
    if removed > 0 {
        c.execute(
            "DELETE FROM notifications WHERE account_id = ?1 AND from_account_id = ?2 AND type IN ('follow', 'follow_request')",
            &args![target_id, account_id],
        )
        .await?;
        // Lists hold only followed accounts (as in Mastodon).
        c.execute(
            "DELETE FROM list_accounts WHERE account_id = ?2 \
             AND list_id IN (SELECT id FROM lists WHERE account_id = ?1)",
            &pair,
        )
        .await?;
    }
    Ok(())
}

/// Blocking also ends following in both directions, as in Mastodon.
pub async fn block(c: &dyn Conn, account_id: Id, target_id: Id) -> StoreResult<()> {
    c.execute(
        "INSERT INTO blocks (id, account_id, target_id) VALUES (holdfast_next_id(), ?1, ?2) ON CONFLICT DO NOTHING",
        &args![account_id, target_id],
    )
    .await?;
    unfollow(c, account_id, target_id).await?;
    unfollow(c, target_id, account_id).await?;
    Ok(())
}

pub async fn unblock(c: &dyn Conn, account_id: Id, target_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM blocks WHERE account_id = ?1 AND target_id = ?2",
        &args![account_id, target_id],
    )
    .await?;
    Ok(())
}

/// Mutes until `expires_at_ms` (None: until unmuted); muting again
/// replaces the options and the end, and keeps the mute's place in the list.
pub async fn mute(
    c: &dyn Conn,
    account_id: Id,
    target_id: Id,
    notifications: bool,
    expires_at_ms: Option<i64>,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO mutes (id, account_id, target_id, notifications, expires_at) VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4) \
         ON CONFLICT (account_id, target_id) DO UPDATE SET notifications = excluded.notifications, expires_at = excluded.expires_at",
        &args![account_id, target_id, notifications, expires_at_ms],
    )
    .await?;
    Ok(())
}

pub async fn unmute(c: &dyn Conn, account_id: Id, target_id: Id) -> StoreResult<()> {
    c.execute(
        "DELETE FROM mutes WHERE account_id = ?1 AND target_id = ?2",
        &args![account_id, target_id],
    )
    .await?;
    Ok(())
}

pub async fn relationships(c: &dyn Conn, me: Id, targets: &[Id]) -> StoreResult<Vec<Relationship>> {
    let d = c.dialect();
    // Each set: (target, (flag, flag)) for the targets in `?2`, seen from `?1`.
    let set = |table: &str, mine: &str, theirs: &str, flags: &str| {
        format!(
            "SELECT {theirs}, {flags} FROM {table} WHERE {mine} = ?1 AND {}{}",
            d.in_ids(theirs, 2),
            if table == "mutes" {
                format!(" AND {}", sql::mute_in_force(table))
            } else {
                String::new()
            }
        )
    };
    let queries = [
        set("follows", "account_id", "target_id", "reblogs, notify"),
        set("follows", "target_id", "account_id", "FALSE, FALSE"),
        set("blocks", "account_id", "target_id", "FALSE, FALSE"),
        set("blocks", "target_id", "account_id", "FALSE, FALSE"),
        set("mutes", "account_id", "target_id", "notifications, FALSE"),
        set("follow_requests", "account_id", "target_id", "FALSE, FALSE"),
        set("follow_requests", "target_id", "account_id", "FALSE, FALSE"),
    ];
    let mut sets = Vec::with_capacity(queries.len());
    for query in &queries {
        let rows = c.query(query, &[Arg::Int(me), Arg::Ids(targets)]).await?;
        sets.push(
            rows.iter()
                .map(|r| Ok((r.get::<Id>(0)?, (r.get::<bool>(1)?, r.get::<bool>(2)?))))
                .collect::<StoreResult<HashMap<_, _>>>()?,
        );
    }
    let mut sets = sets.into_iter();
    let mut next = || sets.next().unwrap_or_default();
    let mut rels = crate::assemble::RelationshipSets {
        following: next(),
        followed_by: next(),
        blocking: next(),
        blocked_by: next(),
        muting: next(),
        requested: next(),
        requested_by: next(),
    }
    .into_relationships(targets);
    let (notes, endorsed) = super::personal::marks(c, me, targets).await?;
    for r in &mut rels {
        r.note = notes.get(&r.id).cloned().unwrap_or_default();
        r.endorsed = endorsed.contains_key(&r.id);
    }
    Ok(rels)
}

/// Followers of `account_id` (paged by follow), leaving out suspended accounts.
pub async fn followers(c: &dyn Conn, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::accounts_of(c, "follows", "target_id", "account_id", account_id, page).await
}

/// Accounts `account_id` follows (paged by follow), leaving out suspended accounts.
pub async fn following(c: &dyn Conn, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::accounts_of(c, "follows", "account_id", "target_id", account_id, page).await
}
