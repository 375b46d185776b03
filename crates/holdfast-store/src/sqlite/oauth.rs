use rusqlite::{params, Connection, OptionalExtension, Row};

use super::Tx;
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

const APP_COLUMNS: &str =
    "ap.id, ap.name, ap.website, ap.redirect_uris, ap.scopes, ap.client_id, ap.client_secret_hash";

fn app_row(r: &Row<'_>) -> rusqlite::Result<AppRow> {
    let uris: String = r.get(3)?;
    Ok(AppRow {
        id: r.get(0)?,
        name: r.get(1)?,
        website: r.get(2)?,
        redirect_uris: uris.lines().map(str::to_owned).collect(),
        scopes: r.get(4)?,
        client_id: r.get(5)?,
        client_secret_hash: r.get(6)?,
    })
}

pub fn create_app(t: &mut Tx<'_>, new: NewApp) -> StoreResult<AppRow> {
    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO apps (id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![id, new.name, new.website, new.redirect_uris.join("\n"), new.scopes, new.client_id, new.client_secret_hash, now_ms()],
    )?;
    Ok(AppRow {
        id,
        name: new.name,
        website: new.website,
        redirect_uris: new.redirect_uris,
        scopes: new.scopes,
        client_id: new.client_id,
        client_secret_hash: new.client_secret_hash,
    })
}

pub fn app_by_client_id(c: &Connection, client_id: &str) -> rusqlite::Result<AppRow> {
    c.prepare_cached(&format!(
        "SELECT {APP_COLUMNS} FROM apps ap WHERE ap.client_id = ?1"
    ))?
    .query_row([client_id], app_row)
}

pub fn create_token(
    t: &mut Tx<'_>,
    token_hash: &str,
    app_id: Id,
    account_id: Option<Id>,
    scopes: &str,
) -> StoreResult<Id> {
    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO tokens (id, token_hash, app_id, account_id, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, token_hash, app_id, account_id, scopes, now_ms()],
    )?;
    Ok(id)
}

pub fn token_by_hash(c: &Connection, token_hash: &str) -> rusqlite::Result<TokenRow> {
    c.prepare_cached(&format!(
        "SELECT t.id, t.account_id, t.scopes, t.created_at, IFNULL(a.suspended, 0), IFNULL(a.approved, 1), {APP_COLUMNS} \
         FROM tokens t JOIN apps ap ON ap.id = t.app_id LEFT JOIN accounts a ON a.id = t.account_id \
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL"
    ))?
    .query_row([token_hash], |r| {
        Ok(TokenRow {
            id: r.get(0)?,
            account_id: r.get(1)?,
            scopes: r.get(2)?,
            created_at_ms: r.get(3)?,
            account_suspended: r.get(4)?,
            account_approved: r.get(5)?,
            app: AppRow {
                id: r.get(6)?,
                name: r.get(7)?,
                website: r.get(8)?,
                redirect_uris: r.get::<_, String>(9)?.lines().map(str::to_owned).collect(),
                scopes: r.get(10)?,
                client_id: r.get(11)?,
                client_secret_hash: r.get(12)?,
            },
        })
    })
}

pub fn revoke_token(t: &mut Tx<'_>, token_hash: &str, app_id: Id) -> StoreResult<()> {
    t.tx.execute(
        "UPDATE tokens SET revoked_at = ?3 WHERE token_hash = ?1 AND app_id = ?2 AND revoked_at IS NULL",
        params![token_hash, app_id, now_ms()],
    )?;
    Ok(())
}

pub fn create_auth_code(
    t: &mut Tx<'_>,
    code_hash: &str,
    code: &AuthCode,
    ttl_s: u64,
) -> StoreResult<()> {
    let now = now_ms();
    // Expired codes are swept on the way in, so the table stays small without a janitor.
    t.tx.execute("DELETE FROM auth_codes WHERE expires_at < ?1", [now])?;
    t.tx.execute(
        "INSERT INTO auth_codes (code_hash, app_id, account_id, scopes, redirect_uri, expires_at, code_challenge, code_challenge_method) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![code_hash, code.app_id, code.account_id, code.scopes, code.redirect_uri, now + (ttl_s as i64) * 1000, code.code_challenge, code.code_challenge_method],
    )?;
    Ok(())
}

pub fn take_auth_code(t: &mut Tx<'_>, code_hash: &str) -> StoreResult<AuthCode> {
    let code = t
        .tx
        .query_row(
            "SELECT app_id, account_id, scopes, redirect_uri, code_challenge, code_challenge_method \
             FROM auth_codes WHERE code_hash = ?1 AND expires_at >= ?2",
            params![code_hash, now_ms()],
            |r| {
                Ok(AuthCode {
                    app_id: r.get(0)?,
                    account_id: r.get(1)?,
                    scopes: r.get(2)?,
                    redirect_uri: r.get(3)?,
                    code_challenge: r.get(4)?,
                    code_challenge_method: r.get(5)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    t.tx.execute("DELETE FROM auth_codes WHERE code_hash = ?1", [code_hash])?;
    Ok(code)
}

/// Starts a session; sweeps expired ones and keeps at most `per_account_max` per account
/// (the oldest go), so neither the table nor one account's share of it grows without bound.
pub fn create_session(
    t: &mut Tx<'_>,
    session_hash: &str,
    account_id: Id,
    ttl_s: u64,
    per_account_max: usize,
) -> StoreResult<()> {
    let now = now_ms();
    t.tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [now])?;
    let keep_others = per_account_max.saturating_sub(1) as i64;
    t.tx.execute(
        "DELETE FROM sessions WHERE account_id = ?1 AND session_hash NOT IN \
         (SELECT session_hash FROM sessions WHERE account_id = ?1 ORDER BY created_at DESC, session_hash LIMIT ?2)",
        params![account_id, keep_others],
    )?;
    t.tx.execute(
        "INSERT INTO sessions (session_hash, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![session_hash, account_id, now, now + (ttl_s as i64) * 1000],
    )?;
    Ok(())
}

pub fn session(c: &Connection, session_hash: &str) -> rusqlite::Result<SessionRow> {
    c.prepare_cached(
        "SELECT account_id, created_at, expires_at FROM sessions WHERE session_hash = ?1 AND expires_at >= ?2",
    )?
    .query_row(params![session_hash, now_ms()], |r| {
        Ok(SessionRow {
            account_id: r.get(0)?,
            created_at_ms: r.get(1)?,
            expires_at_ms: r.get(2)?,
        })
    })
}

pub fn delete_session(t: &mut Tx<'_>, session_hash: &str) -> StoreResult<()> {
    t.tx.execute(
        "DELETE FROM sessions WHERE session_hash = ?1",
        [session_hash],
    )?;
    Ok(())
}
