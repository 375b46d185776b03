use super::pool::Db;
use super::sql::{account_row, clean, like_prefix, ACCOUNT_COLUMNS};
use crate::ids::now_ms;
use crate::model::*;
use crate::{StoreError, StoreResult};

/// Checks before inserting give the friendly Conflict in the common case;
/// the unique constraints (mapped to the same Conflict in `From<Error>`)
/// decide the race when two nodes sign up the same name at once.
pub async fn create(db: Db<'_>, new: &NewAccount) -> StoreResult<AccountRow> {
    let username_lower = new.username.to_lowercase();
    let email_lower = clean(&new.email.to_lowercase());
    if db
        .query_opt(
            "SELECT 1 FROM accounts WHERE username_lower = $1",
            &[&username_lower],
        )
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict("username"));
    }
    if db
        .query_opt(
            "SELECT 1 FROM credentials WHERE email_lower = $1",
            &[&email_lower],
        )
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict("email"));
    }
    let id: Id = db
        .query_one(
            "INSERT INTO accounts (username, username_lower, approved, default_language, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
            &[&clean(&new.username), &clean(&username_lower), &new.approved, &new.locale.as_deref().map(clean), &now_ms()],
        )
        .await?
        .get(0);
    db.execute(
        "INSERT INTO credentials (account_id, email_lower, password_hash) VALUES ($1, $2, $3)",
        &[&id, &email_lower, &new.password_hash],
    )
    .await?;
    by_id(db, id).await
}

pub async fn by_id(db: Db<'_>, id: Id) -> StoreResult<AccountRow> {
    Ok(account_row(
        &db.query_one(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1"),
            &[&id],
        )
        .await?,
    ))
}

pub async fn by_username(db: Db<'_>, username_lower: &str) -> StoreResult<AccountRow> {
    let row = db
        .query_one(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.username_lower = $1"),
            &[&clean(username_lower)],
        )
        .await?;
    Ok(account_row(&row))
}

/// Accounts in the order of `ids`; unknown ids are skipped.
pub async fn by_ids(db: Db<'_>, ids: &[Id]) -> StoreResult<Vec<AccountRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = db
        .query(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = ANY($1)"),
            &[&ids],
        )
        .await?;
    let found: Vec<AccountRow> = rows.iter().map(account_row).collect();
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|a| a.id == *id).cloned())
        .collect())
}

/// One UPDATE: each column keeps its value where the update has none.
pub async fn update(db: Db<'_>, id: Id, u: &AccountUpdate) -> StoreResult<AccountRow> {
    let visibility = u.default_visibility.map(|v| v as i32);
    db.execute(
        "UPDATE accounts SET display_name = COALESCE($2, display_name), note = COALESCE($3, note), \
         locked = COALESCE($4, locked), bot = COALESCE($5, bot), discoverable = COALESCE($6, discoverable), \
         default_visibility = COALESCE($7, default_visibility), default_sensitive = COALESCE($8, default_sensitive), \
         default_language = COALESCE($9, default_language) WHERE id = $1",
        &[
            &id,
            &u.display_name.as_deref().map(clean),
            &u.note.as_deref().map(clean),
            &u.locked,
            &u.bot,
            &u.discoverable,
            &visibility,
            &u.default_sensitive,
            &u.default_language.as_deref().map(clean),
        ],
    )
    .await?;
    by_id(db, id).await
}

pub async fn credentials_by_email(db: Db<'_>, email_lower: &str) -> StoreResult<Credentials> {
    let r = db
        .query_one(
            "SELECT c.account_id, c.password_hash, a.suspended, a.approved FROM credentials c \
             JOIN accounts a ON a.id = c.account_id WHERE c.email_lower = $1",
            &[&clean(email_lower)],
        )
        .await?;
    Ok(Credentials {
        account_id: r.get(0),
        password_hash: r.get(1),
        suspended: r.get(2),
        approved: r.get(3),
    })
}

/// Sets `suspended` or `approved`; the column name is one of two constants, never user input.
pub async fn set_flag(
    db: Db<'_>,
    username_lower: &str,
    column: &'static str,
    value: bool,
) -> StoreResult<AccountRow> {
    assert!(column == "suspended" || column == "approved");
    let id: Id = db
        .query_one(
            &format!("UPDATE accounts SET {column} = $2 WHERE username_lower = $1 RETURNING id"),
            &[&clean(username_lower), &value],
        )
        .await?
        .get(0);
    if column == "suspended" && value {
        // A suspended account's sessions end now, not when they expire.
        db.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
            &[&id, &now_ms()],
        )
        .await?;
    }
    by_id(db, id).await
}

pub async fn list(db: Db<'_>, limit: u32) -> StoreResult<Vec<AccountAdminRow>> {
    let rows = db
        .query(
            &format!("SELECT {ACCOUNT_COLUMNS}, c.email_lower FROM accounts a JOIN credentials c ON c.account_id = a.id ORDER BY a.id LIMIT $1"),
            &[&(limit as i64)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AccountAdminRow {
            account: account_row(r),
            email: r.get(19), // after the 19 account columns
        })
        .collect())
}

pub async fn search(
    db: Db<'_>,
    prefix_lower: &str,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<AccountRow>> {
    let prefix_lower = clean(prefix_lower);
    let rows = db
        .query(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts a \
                 WHERE (a.username_lower LIKE $1 ESCAPE '\\' OR lower(a.display_name) LIKE $1 ESCAPE '\\') \
                   AND NOT a.suspended AND a.approved \
                 ORDER BY (a.username_lower = $2) DESC, length(a.username_lower), a.id LIMIT $3 OFFSET $4"
            ),
            &[&like_prefix(&prefix_lower), &prefix_lower, &(limit as i64), &(offset as i64)],
        )
        .await?;
    Ok(rows.iter().map(account_row).collect())
}
