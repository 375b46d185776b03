//! What the web UI's settings page reads and changes: the account's log-in
//! sessions, the apps it has authorized, its password, and the account itself.

use super::{args, Conn};
use crate::ids::now_ms;
use crate::model::*;
use crate::StoreResult;

/// The account's live sessions, newest first (at most `sessions_per_account_max` exist).
pub async fn sessions_of(c: &dyn Conn, account_id: Id) -> StoreResult<Vec<WebSession>> {
    let rows = c
        .query(
            "SELECT session_hash, created_at, expires_at FROM sessions \
             WHERE account_id = ?1 AND expires_at >= ?2 ORDER BY created_at DESC, session_hash",
            &args![account_id, now_ms()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(WebSession {
                session_hash: r.get(0)?,
                created_at_ms: r.get(1)?,
                expires_at_ms: r.get(2)?,
            })
        })
        .collect()
}

/// Ends one of the account's sessions (another account's is left alone).
pub async fn end_account_session(
    c: &dyn Conn,
    account_id: Id,
    session_hash: &str,
) -> StoreResult<()> {
    c.execute(
        "DELETE FROM sessions WHERE account_id = ?1 AND session_hash = ?2",
        &args![account_id, session_hash],
    )
    .await?;
    Ok(())
}

/// Apps holding live tokens for the account, one row per app, most recent first.
pub async fn authorized_apps(
    c: &dyn Conn,
    account_id: Id,
    limit: u32,
) -> StoreResult<Vec<AuthorizedApp>> {
    let rows = c
        .query(
            "SELECT ap.id, ap.name, ap.website, MAX(t.created_at), COUNT(*) \
             FROM tokens t JOIN apps ap ON ap.id = t.app_id \
             WHERE t.account_id = ?1 AND t.revoked_at IS NULL \
             GROUP BY ap.id, ap.name, ap.website ORDER BY MAX(t.created_at) DESC LIMIT ?2",
            &args![account_id, limit as i64],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AuthorizedApp {
                app_id: r.get(0)?,
                name: r.get(1)?,
                website: r.get(2)?,
                last_authorized_at_ms: r.get(3)?,
                tokens: r.get(4)?,
            })
        })
        .collect()
}

/// Revokes every token the app holds for the account.
pub async fn revoke_app_authorization(c: &dyn Conn, account_id: Id, app_id: Id) -> StoreResult<()> {
    c.execute(
        "UPDATE tokens SET revoked_at = ?3 WHERE account_id = ?1 AND app_id = ?2 AND revoked_at IS NULL",
        &args![account_id, app_id, now_ms()],
    )
    .await?;
    Ok(())
}

/// A new password hash; every other session of the account ends with it.
pub async fn set_password_hash(
    c: &dyn Conn,
    account_id: Id,
    password_hash: &str,
    keep_session_hash: &str,
) -> StoreResult<()> {
    c.execute(
        "UPDATE credentials SET password_hash = ?2 WHERE account_id = ?1",
        &args![account_id, password_hash],
    )
    .await?;
    c.execute(
        "DELETE FROM sessions WHERE account_id = ?1 AND session_hash <> ?2",
        &args![account_id, keep_session_hash],
    )
    .await?;
    // Apps signed in with the old password lose their tokens too (issue 14:
    // a password change ends every other session).
    c.execute(
        "UPDATE tokens SET revoked_at = holdfast_now_ms() WHERE account_id = ?1 AND revoked_at IS NULL",
        &args![account_id],
    )
    .await?;
    Ok(())
}

/// Deletes the account and everything it made, the way moderation does
/// (counts on others' statuses and the search index kept right).
pub async fn delete_account(c: &dyn Conn, account_id: Id) -> StoreResult<()> {
    super::moderation::purge(c, account_id).await
}
