//! Notification policies and requests: an account says what happens to
//! notifications from senders it does not follow, who do not follow it, new
//! accounts, limited (silenced) accounts and unasked private mentions: accepted, filtered (kept aside as
//! one request per sender, until accepted or dismissed) or dropped. The
//! decision is made once, when the notification is written (`notify`).

use super::{args, sql, Arg, Conn, Row};
use crate::model::*;
use crate::StoreResult;

/// fact: Mastodon's "new account" is one younger than 30 days.
const NEW_ACCOUNT_AGE_MS: i64 = 30 * 24 * 3600 * 1000;

fn choice(r: &Row, i: usize) -> StoreResult<PolicyChoice> {
    let s: String = r.get(i)?;
    Ok(PolicyChoice::parse(&s).unwrap_or(PolicyChoice::Accept))
}

pub async fn policy(c: &dyn Conn, account: Id) -> StoreResult<NotificationPolicyRow> {
    let Some(r) = c
        .query_opt(
            "SELECT for_not_following, for_not_followers, for_new_accounts, for_private_mentions, \
             for_limited_accounts FROM notification_policies WHERE account_id = ?1",
            &args![account],
        )
        .await?
    else {
        return Ok(NotificationPolicyRow::default());
    };
    Ok(NotificationPolicyRow {
        for_not_following: choice(&r, 0)?,
        for_not_followers: choice(&r, 1)?,
        for_new_accounts: choice(&r, 2)?,
        for_private_mentions: choice(&r, 3)?,
        for_limited_accounts: choice(&r, 4)?,
    })
}

pub async fn set_policy(c: &dyn Conn, account: Id, p: &NotificationPolicyRow) -> StoreResult<()> {
    c.execute(
        "INSERT INTO notification_policies (account_id, for_not_following, for_not_followers, \
         for_new_accounts, for_private_mentions, for_limited_accounts) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (account_id) DO UPDATE SET for_not_following = excluded.for_not_following, \
         for_not_followers = excluded.for_not_followers, for_new_accounts = excluded.for_new_accounts, \
         for_private_mentions = excluded.for_private_mentions, for_limited_accounts = excluded.for_limited_accounts",
        &args![
            account,
            p.for_not_following.as_str(),
            p.for_not_followers.as_str(),
            p.for_new_accounts.as_str(),
            p.for_private_mentions.as_str(),
            p.for_limited_accounts.as_str()
        ],
    )
    .await?;
    Ok(())
}

/// What `to`'s policy does with a notification of `kind` from `from`: the
/// strictest choice among the conditions that hold (drop over filter over
/// accept). Follow requests are always accepted (a locked account must see
/// them to answer), and so is a sender whose request `to` accepted.
pub(crate) async fn decide(
    c: &dyn Conn,
    to: Id,
    from: Id,
    kind: NotificationType,
    status: Option<Id>,
) -> StoreResult<PolicyChoice> {
    if kind == NotificationType::FollowRequest || to == from {
        return Ok(PolicyChoice::Accept);
    }
    let p = policy(c, to).await?;
    // Most accounts keep the defaults, where only a private mention, or
    // anything from a limited (silenced) account not followed, can be
    // filtered: the rest is accepted after one look at the sender.
    let sender_blind = [p.for_not_following, p.for_not_followers, p.for_new_accounts]
        .iter()
        .all(|c| *c == PolicyChoice::Accept);
    if sender_blind
        && (kind != NotificationType::Mention || p.for_private_mentions == PolicyChoice::Accept)
        && (p.for_limited_accounts == PolicyChoice::Accept || !limited(c, from).await?)
    {
        return Ok(PolicyChoice::Accept);
    }
    let r = c
        .query_one(
            "SELECT NOT EXISTS (SELECT 1 FROM follows WHERE account_id = ?1 AND target_id = ?2), \
             NOT EXISTS (SELECT 1 FROM follows WHERE account_id = ?2 AND target_id = ?1), \
             (SELECT a.created_at FROM accounts a WHERE a.id = ?2), \
             EXISTS (SELECT 1 FROM notification_permissions WHERE account_id = ?1 AND from_account_id = ?2), \
             EXISTS (SELECT 1 FROM statuses s WHERE s.id = ?3 AND s.visibility = ?4 \
                     AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id <> ?1)), \
             (SELECT a.silenced FROM accounts a WHERE a.id = ?2)",
            &args![to, from, status, Visibility::Direct],
        )
        .await?;
    let not_following: bool = r.get(0)?;
    let not_follower: bool = r.get(1)?;
    let created_at: i64 = r.get(2)?;
    let permitted: bool = r.get(3)?;
    let unasked_direct: bool = r.get(4)?;
    let silenced: bool = r.get(5)?;
    if permitted {
        return Ok(PolicyChoice::Accept);
    }
    let now = crate::ids::now_ms();
    let mut applies = Vec::new();
    if not_following {
        applies.push(p.for_not_following);
    }
    if not_follower {
        applies.push(p.for_not_followers);
    }
    if now - created_at < NEW_ACCOUNT_AGE_MS {
        applies.push(p.for_new_accounts);
    }
    if kind == NotificationType::Mention && unasked_direct && not_following {
        applies.push(p.for_private_mentions);
    }
    // A limited account is one moderators silenced; one the recipient
    // follows is not limited for it (Mastodon).
    if silenced && not_following {
        applies.push(p.for_limited_accounts);
    }
    Ok(if applies.contains(&PolicyChoice::Drop) {
        PolicyChoice::Drop
    } else if applies.contains(&PolicyChoice::Filter) {
        PolicyChoice::Filter
    } else {
        PolicyChoice::Accept
    })
}

/// Whether `account` is limited (silenced by moderators).
async fn limited(c: &dyn Conn, account: Id) -> StoreResult<bool> {
    Ok(
        match c
            .query_opt(
                "SELECT silenced FROM accounts WHERE id = ?1",
                &args![account],
            )
            .await?
        {
            Some(r) => r.get(0)?,
            None => false,
        },
    )
}

/// Files a just-written filtered notification under the request for its
/// sender (made on the first one).
pub(crate) async fn file_request(
    c: &dyn Conn,
    to: Id,
    from: Id,
    status: Option<Id>,
    now: i64,
) -> StoreResult<()> {
    c.execute(
        "INSERT INTO notification_requests (id, account_id, from_account_id, last_status_id, created_at, updated_at) \
         VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (account_id, from_account_id) DO UPDATE SET updated_at = excluded.updated_at, \
         last_status_id = COALESCE(excluded.last_status_id, notification_requests.last_status_id)",
        &args![to, from, status, now],
    )
    .await?;
    Ok(())
}

pub async fn summary(c: &dyn Conn, account: Id) -> StoreResult<PendingSummary> {
    let r = c
        .query_one(
            "SELECT (SELECT COUNT(*) FROM notification_requests WHERE account_id = ?1), \
             (SELECT COUNT(*) FROM notifications WHERE account_id = ?1 AND filtered)",
            &args![account],
        )
        .await?;
    Ok(PendingSummary {
        requests: r.get(0)?,
        notifications: r.get(1)?,
    })
}

const REQUEST_COLUMNS: &str = "r.id, r.from_account_id, r.last_status_id, \
     (SELECT COUNT(*) FROM notifications n WHERE n.account_id = r.account_id \
      AND n.from_account_id = r.from_account_id AND n.filtered), r.created_at, r.updated_at";

fn request_row(r: &Row) -> StoreResult<NotificationRequestRow> {
    Ok(NotificationRequestRow {
        id: r.get(0)?,
        from_account_id: r.get(1)?,
        last_status_id: r.get(2)?,
        notifications_count: r.get(3)?,
        created_at_ms: r.get(4)?,
        updated_at_ms: r.get(5)?,
    })
}

/// The account's pending requests, newest first, without suspended senders.
pub async fn requests(
    c: &dyn Conn,
    account: Id,
    page: Page,
) -> StoreResult<Vec<Paged<NotificationRequestRow>>> {
    let select = format!(
        "SELECT {REQUEST_COLUMNS} FROM notification_requests r JOIN accounts a ON a.id = r.from_account_id \
         WHERE r.account_id = ?1 AND NOT a.suspended"
    );
    sql::paged_rows(c, &select, "r.id", &args![account], page, request_row).await
}

pub async fn request(c: &dyn Conn, account: Id, id: Id) -> StoreResult<NotificationRequestRow> {
    let r = c
        .query_one(
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM notification_requests r WHERE r.id = ?1 AND r.account_id = ?2"
            ),
            &args![id, account],
        )
        .await?;
    request_row(&r)
}

/// The senders of the account's requests among `ids` (others' ids are skipped).
async fn senders(c: &dyn Conn, account: Id, ids: &[Id]) -> StoreResult<Vec<(Id, Id)>> {
    c.query(
        &format!(
            "SELECT id, from_account_id FROM notification_requests WHERE account_id = ?1 AND {}",
            c.dialect().in_ids("id", 2)
        ),
        &[Arg::Int(account), Arg::Ids(ids)],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// Accepts the account's requests among `ids`: their notifications join the
/// lists and their senders are not filtered again. Returns how many there were.
pub async fn accept(c: &dyn Conn, account: Id, ids: &[Id]) -> StoreResult<usize> {
    let found = senders(c, account, ids).await?;
    for (id, from) in &found {
        c.execute(
            "UPDATE notifications SET filtered = FALSE WHERE account_id = ?1 AND from_account_id = ?2 AND filtered",
            &args![account, *from],
        )
        .await?;
        c.execute(
            "INSERT INTO notification_permissions (account_id, from_account_id) VALUES (?1, ?2) \
             ON CONFLICT DO NOTHING",
            &args![account, *from],
        )
        .await?;
        c.execute(
            "DELETE FROM notification_requests WHERE id = ?1",
            &args![*id],
        )
        .await?;
    }
    Ok(found.len())
}

/// Dismisses the account's requests among `ids`, with their filtered
/// notifications. Returns how many there were.
pub async fn dismiss(c: &dyn Conn, account: Id, ids: &[Id]) -> StoreResult<usize> {
    let found = senders(c, account, ids).await?;
    for (id, from) in &found {
        c.execute(
            "DELETE FROM notifications WHERE account_id = ?1 AND from_account_id = ?2 AND filtered",
            &args![account, *from],
        )
        .await?;
        c.execute(
            "DELETE FROM notification_requests WHERE id = ?1",
            &args![*id],
        )
        .await?;
    }
    Ok(found.len())
}
