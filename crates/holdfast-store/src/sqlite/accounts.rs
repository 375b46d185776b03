use rusqlite::{params, Connection, OptionalExtension};

use super::sql::{self, account_row, ACCOUNT_COLUMNS};
use super::Tx;
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

pub fn create(t: &mut Tx<'_>, new: &NewAccount) -> StoreResult<AccountRow> {
    let username_lower = new.username.to_lowercase();
    let email_lower = new.email.to_lowercase();
    let taken: bool = t.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE username_lower = ?1)",
        [&username_lower],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::Conflict("username"));
    }
    let taken: bool = t.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM credentials WHERE email_lower = ?1)",
        [&email_lower],
        |r| r.get(0),
    )?;
    if taken {
        return Err(StoreError::Conflict("email"));
    }
    let id = t.ids.next();
    t.tx.execute(
        "INSERT INTO accounts (id, username, username_lower, approved, default_language, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, new.username, username_lower, new.approved, new.locale, now_ms()],
    )?;
    t.tx.execute(
        "INSERT INTO credentials (account_id, email_lower, password_hash) VALUES (?1, ?2, ?3)",
        params![id, email_lower, new.password_hash],
    )?;
    Ok(by_id(&t.tx, id)?)
}

pub fn by_id(c: &Connection, id: Id) -> rusqlite::Result<AccountRow> {
    c.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ?1"
    ))?
    .query_row([id], account_row)
}

pub fn by_username(c: &Connection, username_lower: &str) -> rusqlite::Result<AccountRow> {
    c.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username_lower = ?1"
    ))?
    .query_row([username_lower], account_row)
}

/// Accounts in the order of `ids`; unknown ids are skipped.
pub fn by_ids(c: &Connection, ids: &[Id]) -> rusqlite::Result<Vec<AccountRow>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id IN ({})",
        sql::id_list(ids)
    );
    let mut stmt = c.prepare(&sql)?;
    let found = stmt
        .query_map([], account_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|a| a.id == *id).cloned())
        .collect())
}

pub fn update(t: &mut Tx<'_>, id: Id, u: &AccountUpdate) -> StoreResult<AccountRow> {
    let tx = &t.tx;
    if let Some(v) = &u.display_name {
        tx.execute(
            "UPDATE accounts SET display_name = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    if let Some(v) = &u.note {
        tx.execute(
            "UPDATE accounts SET note = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    if let Some(v) = u.locked {
        tx.execute(
            "UPDATE accounts SET locked = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    if let Some(v) = u.bot {
        tx.execute("UPDATE accounts SET bot = ?2 WHERE id = ?1", params![id, v])?;
    }
    if let Some(v) = u.discoverable {
        tx.execute(
            "UPDATE accounts SET discoverable = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    if let Some(v) = u.default_visibility {
        tx.execute(
            "UPDATE accounts SET default_visibility = ?2 WHERE id = ?1",
            params![id, v as i64],
        )?;
    }
    if let Some(v) = u.default_sensitive {
        tx.execute(
            "UPDATE accounts SET default_sensitive = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    if let Some(v) = &u.default_language {
        tx.execute(
            "UPDATE accounts SET default_language = ?2 WHERE id = ?1",
            params![id, v],
        )?;
    }
    Ok(by_id(tx, id)?)
}

pub fn credentials_by_email(c: &Connection, email_lower: &str) -> rusqlite::Result<Credentials> {
    c.query_row(
        "SELECT c.account_id, c.password_hash, a.suspended, a.approved FROM credentials c \
         JOIN accounts a ON a.id = c.account_id WHERE c.email_lower = ?1",
        [email_lower],
        |r| {
            Ok(Credentials {
                account_id: r.get(0)?,
                password_hash: r.get(1)?,
                suspended: r.get(2)?,
                approved: r.get(3)?,
            })
        },
    )
}

/// Sets `suspended` or `approved`; the column name is one of two constants, never user input.
pub fn set_flag(
    t: &mut Tx<'_>,
    username_lower: &str,
    column: &'static str,
    value: bool,
) -> StoreResult<AccountRow> {
    debug_assert!(column == "suspended" || column == "approved");
    let id: Id =
        t.tx.query_row(
            "SELECT id FROM accounts WHERE username_lower = ?1",
            [username_lower],
            |r| r.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound)?;
    t.tx.execute(
        &format!("UPDATE accounts SET {column} = ?2 WHERE id = ?1"),
        params![id, value],
    )?;
    if column == "suspended" && value {
        // A suspended account's sessions end now, not when they expire.
        t.tx.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
            params![id, now_ms()],
        )?;
    }
    Ok(by_id(&t.tx, id)?)
}

pub fn list(c: &Connection, limit: u32) -> rusqlite::Result<Vec<AccountAdminRow>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {ACCOUNT_COLUMNS}, c.email_lower FROM accounts a JOIN credentials c ON c.account_id = a.id ORDER BY a.id LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AccountAdminRow {
            account: account_row(r)?,
            email: r.get(19)?, // after the 19 account columns
        })
    })?;
    rows.collect()
}

pub fn search(
    c: &Connection,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<Vec<AccountRow>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
         WHERE (a.username_lower LIKE ?1 ESCAPE '\\' OR lower(a.display_name) LIKE ?1 ESCAPE '\\') \
           AND a.suspended = 0 AND a.approved = 1 \
         ORDER BY (a.username_lower = ?2) DESC, length(a.username_lower), a.id LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        params![sql::like_prefix(prefix_lower), prefix_lower, limit, offset],
        account_row,
    )?;
    rows.collect()
}
