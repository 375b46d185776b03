//! What an account keeps others out with, and the requests it answers:
//! the lists of its blocks and mutes, follow requests to a locked account
//! (authorize, reject), and removing a follower.

use super::{args, graph, sql, Conn};
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Accounts `me` blocks, newest block first, paged by the block.
pub async fn blocks(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::paged(
        c,
        "SELECT b.id, b.target_id FROM blocks b JOIN accounts a ON a.id = b.target_id \
         WHERE b.account_id = ?1 AND NOT a.suspended",
        "b.id",
        &args![me],
        page,
    )
    .await
}

/// Accounts `me` mutes (mutes that ended are left out), newest first, paged by the mute.
pub async fn mutes(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<Muted>>> {
    sql::paged_rows(
        c,
        &format!(
            "SELECT m.id, m.target_id, m.expires_at FROM mutes m JOIN accounts a ON a.id = m.target_id \
             WHERE m.account_id = ?1 AND NOT a.suspended AND {}",
            sql::mute_in_force("m")
        ),
        "m.id",
        &args![me],
        page,
        |r| {
            Ok(Muted {
                account_id: r.get(1)?,
                expires_at_ms: r.get(2)?,
            })
        },
    )
    .await
}

/// Accounts asking to follow `me`, newest request first.
pub async fn follow_requests(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    sql::paged(
        c,
        "SELECT r.id, r.account_id FROM follow_requests r JOIN accounts a ON a.id = r.account_id \
         WHERE r.target_id = ?1 AND NOT a.suspended",
        "r.id",
        &args![me],
        page,
    )
    .await
}

/// Takes `from`'s request to follow `me` out (with the notification that
/// announced it) and returns the options it kept; NotFound if there is none.
async fn take_request(c: &dyn Conn, me: Id, from: Id) -> StoreResult<(bool, bool, Option<String>)> {
    let Some(row) = c
        .query_opt(
            "DELETE FROM follow_requests WHERE account_id = ?1 AND target_id = ?2 RETURNING reblogs, notify, languages",
            &args![from, me],
        )
        .await?
    else {
        return Err(StoreError::NotFound);
    };
    c.execute(
        "DELETE FROM notifications WHERE account_id = ?1 AND from_account_id = ?2 AND type = 'follow_request'",
        &args![me, from],
    )
    .await?;
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

/// `from` now follows `me`, with the options it asked with (reblogs, post
/// notifications, languages). Accepting notifies nobody and the request's
/// notification goes, as in Mastodon. NotFound if `from` did not ask; so a
/// retried authorize answers 404 once the first went through, also as in Mastodon.
pub async fn authorize_follow_request(c: &dyn Conn, me: Id, from: Id) -> StoreResult<()> {
    let (reblogs, notify, languages) = take_request(c, me, from).await?;
    c.execute(
        "INSERT INTO follows (id, account_id, target_id, reblogs, notify, languages) \
         VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (account_id, target_id) DO NOTHING",
        &args![from, me, reblogs, notify, languages.as_deref()],
    )
    .await?;
    Ok(())
}

pub async fn reject_follow_request(c: &dyn Conn, me: Id, from: Id) -> StoreResult<()> {
    take_request(c, me, from).await.map(|_| ())
}

/// `follower` no longer follows `me` (nothing happens if it did not): the
/// follower's unfollow, done by `me`, as Mastodon does it.
pub async fn remove_from_followers(c: &dyn Conn, me: Id, follower: Id) -> StoreResult<()> {
    graph::unfollow(c, follower, me).await
}
