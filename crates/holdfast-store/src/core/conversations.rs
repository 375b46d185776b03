//! Direct conversations (Mastodon's AccountConversation): each direct status
//! belongs to a thread (its parent's, or a new one), and each participant
//! sees the thread as one conversation per set of other participants, with
//! its newest status and an unread mark. Written in the posting (and
//! deleting) transaction, so a conversation never lags its statuses.

use super::{args, sql, Conn, Row};
use crate::model::*;
use crate::{StoreError, StoreResult};

fn participants_text(ids: &[Id]) -> String {
    ids.iter().map(Id::to_string).collect::<Vec<_>>().join(",")
}

/// A conversation read from `COLUMNS`, starting at column `at`.
fn conversation_row(r: &Row, at: usize) -> StoreResult<ConversationRow> {
    let participants: String = r.get(at + 1)?;
    Ok(ConversationRow {
        id: r.get(at)?,
        participants: participants
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse()
                    .map_err(|_| StoreError::Internal(format!("bad participant id {p:?}")))
            })
            .collect::<StoreResult<_>>()?,
        last_status_id: r.get(at + 2)?,
        unread: r.get(at + 3)?,
    })
}

const COLUMNS: &str = "ac.id, ac.participants, ac.last_status_id, ac.unread";

/// Files direct status `status_id` (by `author`, to `mentions`) under its
/// conversation, for the author (read) and each mentioned account (unread).
/// A mentioned account that blocks or mutes the author, or is blocked by
/// them, gets nothing, as it gets no notification.
pub async fn add_status(
    c: &dyn Conn,
    status_id: Id,
    author: Id,
    in_reply_to: Option<Id>,
    mentions: &[Id],
) -> StoreResult<()> {
    let parent_thread = match in_reply_to {
        Some(parent) => c
            .query_opt(
                "SELECT conversation_id FROM direct_threads WHERE status_id = ?1",
                &args![parent],
            )
            .await?
            .map(|r| r.get::<Id>(0))
            .transpose()?,
        None => None,
    };
    let conversation = parent_thread.unwrap_or(status_id);
    c.execute(
        "INSERT INTO direct_threads (status_id, conversation_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        &args![status_id, conversation],
    )
    .await?;
    let mut everyone: Vec<Id> = std::iter::once(author)
        .chain(mentions.iter().copied())
        .collect();
    everyone.sort_unstable();
    everyone.dedup();
    for &p in &everyone {
        if p != author {
            let shut_out = c
                .query_opt(
                    &format!(
                        "SELECT 1 FROM blocks b WHERE (b.account_id = ?1 AND b.target_id = ?2) OR (b.account_id = ?2 AND b.target_id = ?1) \
                         UNION ALL SELECT 1 FROM mutes m WHERE m.account_id = ?1 AND m.target_id = ?2 AND {}",
                        sql::mute_in_force("m")
                    ),
                    &args![p, author],
                )
                .await?
                .is_some();
            if shut_out {
                continue;
            }
        }
        let others: Vec<Id> = everyone.iter().copied().filter(|&o| o != p).collect();
        c.execute(
            "INSERT INTO account_conversations (id, account_id, conversation_id, participants, last_status_id, unread) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account_id, conversation_id, participants) DO UPDATE SET \
               last_status_id = CASE WHEN excluded.last_status_id > account_conversations.last_status_id \
                                     THEN excluded.last_status_id ELSE account_conversations.last_status_id END, \
               unread = excluded.unread",
            &args![p, conversation, &participants_text(&others), status_id, p != author],
        )
        .await?;
    }
    Ok(())
}

/// Before direct status `status_id` (by `author`) is deleted: conversations
/// whose newest status it was fall back to the newest other status of the
/// thread their owner took part in, or go when there is none.
pub async fn remove_status(c: &dyn Conn, status_id: Id, author: Id) -> StoreResult<()> {
    let owners = "account_id IN (SELECT CAST(?2 AS BIGINT) UNION SELECT account_id FROM mentions WHERE status_id = ?1)";
    c.execute(
        &format!(
            "UPDATE account_conversations SET last_status_id = COALESCE( \
               (SELECT MAX(dt.status_id) FROM direct_threads dt JOIN statuses s ON s.id = dt.status_id \
                WHERE dt.conversation_id = account_conversations.conversation_id AND dt.status_id <> ?1 \
                  AND (s.account_id = account_conversations.account_id \
                       OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = account_conversations.account_id))), 0) \
             WHERE last_status_id = ?1 AND {owners}"
        ),
        &args![status_id, author],
    )
    .await?;
    c.execute(
        &format!("DELETE FROM account_conversations WHERE last_status_id = 0 AND {owners}"),
        &args![status_id, author],
    )
    .await?;
    Ok(())
}

/// `me`'s conversations whose newest status `me` may still see, newest first,
/// paged by that status (as Mastodon pages them).
pub async fn list(c: &dyn Conn, me: Id, page: Page) -> StoreResult<Vec<Paged<ConversationRow>>> {
    sql::paged_rows(
        c,
        &format!(
            "SELECT ac.last_status_id, {COLUMNS} FROM account_conversations ac \
             WHERE ac.account_id = ?1 AND EXISTS (SELECT 1 FROM statuses s WHERE s.id = ac.last_status_id AND {})",
            sql::visible("s")
        ),
        "ac.last_status_id",
        &args![me],
        page,
        |r| conversation_row(r, 1),
    )
    .await
}

pub async fn get(c: &dyn Conn, me: Id, id: Id) -> StoreResult<ConversationRow> {
    let r = c
        .query_one(
            &format!("SELECT {COLUMNS} FROM account_conversations ac WHERE ac.id = ?1 AND ac.account_id = ?2"),
            &args![id, me],
        )
        .await?;
    conversation_row(&r, 0)
}

/// NotFound unless the conversation is `me`'s.
pub async fn mark_read(c: &dyn Conn, me: Id, id: Id) -> StoreResult<ConversationRow> {
    let changed = c
        .execute(
            "UPDATE account_conversations SET unread = FALSE WHERE id = ?1 AND account_id = ?2",
            &args![id, me],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    get(c, me, id).await
}

/// Removes the conversation from `me`'s list (a new message brings it back).
pub async fn remove(c: &dyn Conn, me: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM account_conversations WHERE id = ?1 AND account_id = ?2",
            &args![id, me],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The conversation of `me` that direct status `status_id` is in (the one
/// whose newest status it is, if several), for the streaming event.
pub async fn of_status(
    c: &dyn Conn,
    me: Id,
    status_id: Id,
) -> StoreResult<Option<ConversationRow>> {
    c.query_opt(
        &format!(
            "SELECT {COLUMNS} FROM account_conversations ac JOIN direct_threads dt ON dt.conversation_id = ac.conversation_id \
             WHERE dt.status_id = ?2 AND ac.account_id = ?1 \
             ORDER BY CASE WHEN ac.last_status_id = ?2 THEN 0 ELSE 1 END, ac.last_status_id DESC LIMIT 1"
        ),
        &args![me, status_id],
    )
    .await?
    .map(|r| conversation_row(&r, 0))
    .transpose()
}
