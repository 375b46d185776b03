//! Accounts and their log-in credentials.

use super::sql::{account_columns, account_row, like_prefix, ACCOUNT_COLUMNS_N};
use super::{args, Arg, Conn};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Checks before inserting give the friendly Conflict in the common case;
/// the unique constraints decide the race when two PostgreSQL nodes sign up
/// the same name at once (SQLite's one writer has no race).
pub async fn create(c: &dyn Conn, new: &NewAccount) -> StoreResult<AccountRow> {
    let username_lower = new.username.to_lowercase();
    let email_lower = new.email.to_lowercase();
    if c.query_opt(
        "SELECT 1 FROM accounts WHERE username_lower = ?1",
        &args![&username_lower],
    )
    .await?
    .is_some()
    {
        return Err(StoreError::Conflict("username"));
    }
    if c.query_opt(
        "SELECT 1 FROM credentials WHERE email_lower = ?1",
        &args![&email_lower],
    )
    .await?
    .is_some()
    {
        return Err(StoreError::Conflict("email"));
    }
    let id: Id = c
        .query_one(
            "INSERT INTO accounts (id, username, username_lower, approved, default_language, created_at) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5) RETURNING id",
            &args![
                &new.username,
                &username_lower,
                new.approved,
                new.locale.as_deref(),
                now_ms()
            ],
        )
        .await?
        .get(0)?;
    c.execute(
        "INSERT INTO credentials (account_id, email_lower, password_hash) VALUES (?1, ?2, ?3)",
        &args![id, &email_lower, &new.password_hash],
    )
    .await?;
    by_id(c, id).await
}

pub async fn by_id(c: &dyn Conn, id: Id) -> StoreResult<AccountRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {} FROM accounts a WHERE a.id = ?1",
                account_columns()
            ),
            &args![id],
        )
        .await?;
    account_row(&row)
}

pub async fn by_username(c: &dyn Conn, username_lower: &str) -> StoreResult<AccountRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {} FROM accounts a WHERE a.username_lower = ?1",
                account_columns()
            ),
            &args![username_lower],
        )
        .await?;
    account_row(&row)
}

/// Accounts in the order of `ids`; unknown ids are skipped.
pub async fn by_ids(c: &dyn Conn, ids: &[Id]) -> StoreResult<Vec<AccountRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = c
        .query(
            &format!(
                "SELECT {} FROM accounts a WHERE {}",
                account_columns(),
                c.dialect().in_ids("a.id", 1)
            ),
            &[Arg::Ids(ids)],
        )
        .await?;
    let mut found = rows
        .iter()
        .map(|r| account_row(r).map(|a| (a.id, a)))
        .collect::<StoreResult<std::collections::HashMap<Id, AccountRow>>>()?;
    // In the order asked for; a row is moved out where its id is asked for
    // the last time (copied only for an id asked for twice).
    Ok(ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            if ids[i + 1..].contains(id) {
                found.get(id).cloned()
            } else {
                found.remove(id)
            }
        })
        .collect())
}

/// One UPDATE: each column keeps its value where the update has none.
pub async fn update(c: &dyn Conn, id: Id, u: &AccountUpdate) -> StoreResult<AccountRow> {
    c.execute(
        "UPDATE accounts SET display_name = COALESCE(?2, display_name), note = COALESCE(?3, note), \
         locked = COALESCE(?4, locked), bot = COALESCE(?5, bot), discoverable = COALESCE(?6, discoverable), \
         default_visibility = COALESCE(?7, default_visibility), default_sensitive = COALESCE(?8, default_sensitive), \
         default_language = COALESCE(?9, default_language) WHERE id = ?1",
        &args![
            id,
            u.display_name.as_deref(),
            u.note.as_deref(),
            u.locked,
            u.bot,
            u.discoverable,
            u.default_visibility,
            u.default_sensitive,
            u.default_language.as_deref(),
        ],
    )
    .await?;
    by_id(c, id).await
}

pub async fn credentials_by_email(c: &dyn Conn, email_lower: &str) -> StoreResult<Credentials> {
    let r = c
        .query_one(
            "SELECT c.account_id, c.password_hash, a.suspended OR a.disabled, a.approved FROM credentials c \
             JOIN accounts a ON a.id = c.account_id WHERE c.email_lower = ?1",
            &args![email_lower],
        )
        .await?;
    Ok(Credentials {
        account_id: r.get(0)?,
        password_hash: r.get(1)?,
        suspended: r.get(2)?,
        approved: r.get(3)?,
    })
}

pub async fn email_of(c: &dyn Conn, id: Id) -> StoreResult<String> {
    c.query_one(
        "SELECT email_lower FROM credentials WHERE account_id = ?1",
        &args![id],
    )
    .await?
    .get(0)
}

/// Which account flag an operator sets.
#[derive(Clone, Copy)]
pub enum Flag {
    Suspended,
    Approved,
}

pub async fn set_flag(
    c: &dyn Conn,
    username_lower: &str,
    flag: Flag,
    value: bool,
) -> StoreResult<AccountRow> {
    let column = match flag {
        Flag::Suspended => "suspended",
        Flag::Approved => "approved",
    };
    let id: Id = c
        .query_one(
            &format!("UPDATE accounts SET {column} = ?2 WHERE username_lower = ?1 RETURNING id"),
            &args![username_lower, value],
        )
        .await?
        .get(0)?;
    if matches!(flag, Flag::Suspended) && value {
        // A suspended account's sessions end now, not when they expire.
        c.execute(
            "UPDATE tokens SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
            &args![id, now_ms()],
        )
        .await?;
    }
    by_id(c, id).await
}

pub async fn list(c: &dyn Conn, limit: u32) -> StoreResult<Vec<AccountAdminRow>> {
    let rows = c
        .query(
            &format!(
                "SELECT {}, c.email_lower FROM accounts a JOIN credentials c ON c.account_id = a.id ORDER BY a.id LIMIT ?1",
                account_columns()
            ),
            &args![limit],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(AccountAdminRow {
                account: account_row(r)?,
                email: r.get(ACCOUNT_COLUMNS_N)?, // after the account columns
            })
        })
        .collect()
}

/// Active accounts whose name or display name starts with `prefix_lower`;
/// an exact name first, then shorter names.
pub async fn search(
    c: &dyn Conn,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<AccountRow>> {
    let pattern = like_prefix(prefix_lower);
    let rows = c
        .query(
            &format!(
                "SELECT {} FROM accounts a \
                 WHERE (a.username_lower LIKE ?1 ESCAPE '\\' OR lower(a.display_name) LIKE ?1 ESCAPE '\\') \
                   AND NOT a.suspended AND a.approved \
                 ORDER BY (a.username_lower = ?2) DESC, length(a.username_lower), a.id LIMIT ?3 OFFSET ?4",
                account_columns()
            ),
            &args![&pattern, prefix_lower, limit, offset],
        )
        .await?;
    rows.iter().map(account_row).collect()
}

/// (active accounts, statuses) for the instance entity.
pub async fn stats(c: &dyn Conn) -> StoreResult<(i64, i64)> {
    let r = c
        .query_one(
            "SELECT (SELECT COUNT(*) FROM accounts WHERE NOT suspended AND approved), \
                    (SELECT COUNT(*) FROM statuses WHERE reblog_of_id IS NULL)",
            &[],
        )
        .await?;
    Ok((r.get(0)?, r.get(1)?))
}
