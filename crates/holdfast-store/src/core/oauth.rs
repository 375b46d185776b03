//! OAuth apps, tokens, authorization codes, and log-in sessions. Secrets
//! are stored as hashes only; the caller hashes.

use super::{args, Conn, Row};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

const APP_COLUMNS: &str =
    "ap.id, ap.name, ap.website, ap.redirect_uris, ap.scopes, ap.client_id, ap.client_secret_hash";

/// An app from APP_COLUMNS starting at column `at`.
fn app_row(r: &Row, at: usize) -> StoreResult<AppRow> {
    Ok(AppRow {
        id: r.get(at)?,
        name: r.get(at + 1)?,
        website: r.get(at + 2)?,
        redirect_uris: r
            .get::<String>(at + 3)?
            .lines()
            .map(str::to_owned)
            .collect(),
        scopes: r.get(at + 4)?,
        client_id: r.get(at + 5)?,
        client_secret_hash: r.get(at + 6)?,
    })
}

pub async fn create_app(c: &dyn Conn, new: &NewApp) -> StoreResult<AppRow> {
    let id: Id = c
        .query_one(
            "INSERT INTO apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            &args![
                &new.name,
                new.website.as_deref(),
                &new.redirect_uris.join("\n"),
                &new.scopes,
                &new.client_id,
                &new.client_secret_hash,
                now_ms(),
            ],
        )
        .await?
        .get(0)?;
    // Read back, so the row is what was stored (PostgreSQL replaces U+0000).
    let row = c
        .query_one(
            &format!("SELECT {APP_COLUMNS} FROM apps ap WHERE ap.id = ?1"),
            &args![id],
        )
        .await?;
    app_row(&row, 0)
}

pub async fn app_by_client_id(c: &dyn Conn, client_id: &str) -> StoreResult<AppRow> {
    let row = c
        .query_one(
            &format!("SELECT {APP_COLUMNS} FROM apps ap WHERE ap.client_id = ?1"),
            &args![client_id],
        )
        .await?;
    app_row(&row, 0)
}

pub async fn create_token(
    c: &dyn Conn,
    token_hash: &str,
    app_id: Id,
    account_id: Option<Id>,
    scopes: &str,
) -> StoreResult<Id> {
    c.query_one(
        "INSERT INTO tokens (id, token_hash, app_id, account_id, scopes, created_at) \
         VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) RETURNING id",
        &args![token_hash, app_id, account_id, scopes, now_ms()],
    )
    .await?
    .get(0)
}

pub async fn token_by_hash(c: &dyn Conn, token_hash: &str) -> StoreResult<TokenRow> {
    let r = c
        .query_one(
            &format!(
                "SELECT t.id, t.account_id, t.scopes, t.created_at, COALESCE(a.suspended OR a.disabled, FALSE), COALESCE(a.approved, TRUE), \
                 (SELECT n FROM auth_epoch WHERE id = 1), {APP_COLUMNS} \
                 FROM tokens t JOIN apps ap ON ap.id = t.app_id LEFT JOIN accounts a ON a.id = t.account_id \
                 WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
            ),
            &args![token_hash],
        )
        .await?;
    Ok(TokenRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        scopes: r.get(2)?,
        created_at_ms: r.get(3)?,
        account_suspended: r.get(4)?,
        account_approved: r.get(5)?,
        auth_epoch: r.get(6)?,
        app: app_row(&r, 7)?,
    })
}

/// The auth epoch (migration 0026): it moves whenever a token may have
/// stopped being good, so a token proved at this epoch is still good.
pub async fn auth_epoch(c: &dyn Conn) -> StoreResult<i64> {
    c.query_one(AUTH_EPOCH_SQL, &[]).await?.get(0)
}

pub(crate) const AUTH_EPOCH_SQL: &str = "SELECT n FROM auth_epoch WHERE id = 1";

/// Revokes the token if it belongs to the app; unknown tokens are not an error (RFC 7009).
pub async fn revoke_token(c: &dyn Conn, token_hash: &str, app_id: Id) -> StoreResult<()> {
    c.execute(
        "UPDATE tokens SET revoked_at = ?3 WHERE token_hash = ?1 AND app_id = ?2 AND revoked_at IS NULL",
        &args![token_hash, app_id, now_ms()],
    )
    .await?;
    Ok(())
}

pub async fn create_auth_code(
    c: &dyn Conn,
    code_hash: &str,
    code: &AuthCode,
    ttl_s: u64,
) -> StoreResult<()> {
    let now = now_ms();
    // Expired codes are swept on the way in, so the table stays small without a janitor.
    c.execute("DELETE FROM auth_codes WHERE expires_at < ?1", &args![now])
        .await?;
    c.execute(
        "INSERT INTO auth_codes (code_hash, app_id, account_id, scopes, redirect_uri, expires_at, code_challenge, code_challenge_method) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &args![
            code_hash,
            code.app_id,
            code.account_id,
            &code.scopes,
            &code.redirect_uri,
            now.saturating_add((ttl_s as i64).saturating_mul(1000)),
            code.code_challenge.as_deref(),
            code.code_challenge_method.as_deref(),
        ],
    )
    .await?;
    Ok(())
}

/// One statement: of two PostgreSQL nodes redeeming the same code at once,
/// exactly one gets it. The row stays, marked used, until it expires, so a
/// replay can be recognised (`revoke_replayed_code`).
pub async fn take_auth_code(c: &dyn Conn, code_hash: &str) -> StoreResult<AuthCode> {
    let r = c
        .query_opt(
            "UPDATE auth_codes SET used_at = ?2 \
             WHERE code_hash = ?1 AND expires_at >= ?2 AND used_at IS NULL \
             RETURNING app_id, account_id, scopes, redirect_uri, code_challenge, code_challenge_method",
            &args![code_hash, now_ms()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(AuthCode {
        app_id: r.get(0)?,
        account_id: r.get(1)?,
        scopes: r.get(2)?,
        redirect_uri: r.get(3)?,
        code_challenge: r.get(4)?,
        code_challenge_method: r.get(5)?,
    })
}

pub async fn bind_auth_code_token(
    c: &dyn Conn,
    code_hash: &str,
    token_hash: &str,
) -> StoreResult<()> {
    c.execute(
        "UPDATE auth_codes SET token_hash = ?2 WHERE code_hash = ?1",
        &args![code_hash, token_hash],
    )
    .await?;
    Ok(())
}

pub async fn revoke_replayed_code(c: &dyn Conn, code_hash: &str) -> StoreResult<bool> {
    let revoked = c
        .execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE revoked_at IS NULL AND token_hash = \
             (SELECT token_hash FROM auth_codes WHERE code_hash = ?1 AND used_at IS NOT NULL)",
            &args![code_hash, now_ms()],
        )
        .await?;
    Ok(revoked > 0)
}

/// Starts a session; sweeps expired ones and keeps at most `per_account_max` per account
/// (the oldest go), so neither the table nor one account's share of it grows without bound.
pub async fn create_session(
    c: &dyn Conn,
    session_hash: &str,
    account_id: Id,
    ttl_s: u64,
    per_account_max: usize,
) -> StoreResult<()> {
    let now = now_ms();
    c.execute("DELETE FROM sessions WHERE expires_at < ?1", &args![now])
        .await?;
    let keep_others = per_account_max.saturating_sub(1) as i64;
    c.execute(
        "DELETE FROM sessions WHERE account_id = ?1 AND session_hash NOT IN \
         (SELECT session_hash FROM sessions WHERE account_id = ?1 ORDER BY created_at DESC, session_hash LIMIT ?2)",
        &args![account_id, keep_others],
    )
    .await?;
    c.execute(
        "INSERT INTO sessions (session_hash, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        &args![
            session_hash,
            account_id,
            now,
            now.saturating_add((ttl_s as i64).saturating_mul(1000))
        ],
    )
    .await?;
    Ok(())
}

pub async fn session(c: &dyn Conn, session_hash: &str) -> StoreResult<SessionRow> {
    let r = c
        .query_opt(
            "SELECT account_id, created_at, expires_at FROM sessions WHERE session_hash = ?1 AND expires_at >= ?2",
            &args![session_hash, now_ms()],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(SessionRow {
        account_id: r.get(0)?,
        created_at_ms: r.get(1)?,
        expires_at_ms: r.get(2)?,
    })
}

pub async fn delete_session(c: &dyn Conn, session_hash: &str) -> StoreResult<()> {
    c.execute(
        "DELETE FROM sessions WHERE session_hash = ?1",
        &args![session_hash],
    )
    .await?;
    Ok(())
}
