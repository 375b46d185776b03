//! Lists: an account's named sets of accounts it follows, each with its own
//! timeline. A list and its members are only ever seen by its owner, so every
//! query here is keyed by the owner and an id of someone else's list is
//! NotFound, never a refusal that would tell it exists.

use super::bounded::{self, Children};
use super::sql::{self, vis};
use super::{args, Arg, Conn, Row};
use crate::model::*;
use crate::{StoreError, StoreResult};

const LIST_COLUMNS: &str = "l.id, l.title, l.replies_policy, l.exclusive";

/// An account's lists, and a list's members (both bounded).
const LISTS: Children = Children {
    table: "lists",
    parent_column: "account_id",
};
const MEMBERS: Children = Children {
    table: "list_accounts",
    parent_column: "list_id",
};

fn list_row(r: &Row) -> StoreResult<ListRow> {
    let policy: String = r.get(2)?;
    Ok(ListRow {
        id: r.get(0)?,
        title: r.get(1)?,
        replies_policy: RepliesPolicy::parse(&policy).unwrap_or(RepliesPolicy::List),
        exclusive: r.get(3)?,
    })
}

/// Creates a list; Rejected when the owner has `per_account_max` already.
/// The owner's row is locked first, so two nodes creating at once count in turn.
pub async fn create(
    c: &dyn Conn,
    owner: Id,
    new: &NewList,
    per_account_max: u32,
) -> StoreResult<ListRow> {
    bounded::lock_account(c, owner).await?;
    bounded::within(
        c,
        LISTS,
        owner,
        1,
        per_account_max,
        "You have reached the maximum number of lists",
    )
    .await?;
    let row = c
        .query_one(
            "INSERT INTO lists (id, account_id, title, replies_policy, exclusive) \
             VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4) RETURNING id, title, replies_policy, exclusive",
            &args![owner, &new.title, new.replies_policy.as_str(), new.exclusive],
        )
        .await?;
    list_row(&row)
}

/// The owner's lists, oldest first (as Mastodon orders them).
pub async fn all(c: &dyn Conn, owner: Id) -> StoreResult<Vec<ListRow>> {
    c.query(
        &format!("SELECT {LIST_COLUMNS} FROM lists l WHERE l.account_id = ?1 ORDER BY l.id"),
        &args![owner],
    )
    .await?
    .iter()
    .map(list_row)
    .collect()
}

pub async fn get(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<ListRow> {
    let row = c
        .query_one(
            &format!("SELECT {LIST_COLUMNS} FROM lists l WHERE l.id = ?1 AND l.account_id = ?2"),
            &args![id, owner],
        )
        .await?;
    list_row(&row)
}

pub async fn update(c: &dyn Conn, owner: Id, id: Id, u: &ListUpdate) -> StoreResult<ListRow> {
    let changed = c
        .execute(
            "UPDATE lists SET title = COALESCE(?3, title), replies_policy = COALESCE(?4, replies_policy), \
             exclusive = COALESCE(?5, exclusive) WHERE id = ?1 AND account_id = ?2",
            &args![
                id,
                owner,
                u.title.as_ref(),
                u.replies_policy.map(|p| p.as_str()),
                u.exclusive
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    get(c, owner, id).await
}

/// Deletes a list and its memberships (by cascade).
pub async fn delete(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM lists WHERE id = ?1 AND account_id = ?2",
            &args![id, owner],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Members of the owner's list, newest membership first, paged by membership.
pub async fn members(c: &dyn Conn, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    get(c, owner, id).await?;
    sql::paged(
        c,
        "SELECT la.id, la.account_id FROM list_accounts la JOIN accounts a ON a.id = la.account_id \
         WHERE la.list_id = ?1 AND NOT a.suspended",
        "la.id",
        &args![id],
        page,
    )
    .await
}

/// Adds accounts the owner follows to the owner's list. Adding a member again
/// changes nothing (a retried add is harmless). Rejected, with nothing added,
/// if one is not followed or the list would pass `members_max`.
pub async fn add_members(
    c: &dyn Conn,
    owner: Id,
    id: Id,
    accounts: &[Id],
    members_max: u32,
) -> StoreResult<()> {
    bounded::lock_owned(c, "lists", owner, id).await?;
    let d = c.dialect();
    let followed: i64 = c
        .query_one(
            &format!(
                "SELECT COUNT(*) FROM follows WHERE account_id = ?1 AND {}",
                d.in_ids("target_id", 2)
            ),
            &[Arg::Int(owner), Arg::Ids(accounts)],
        )
        .await?
        .get(0)?;
    let mut distinct = accounts.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if followed != distinct.len() as i64 {
        return Err(StoreError::Rejected(
            "You must follow an account to add it to a list",
        ));
    }
    for account in &distinct {
        c.execute(
            "INSERT INTO list_accounts (id, list_id, account_id) VALUES (holdfast_next_id(), ?1, ?2) \
             ON CONFLICT (list_id, account_id) DO NOTHING",
            &args![id, *account],
        )
        .await?;
    }
    // Counted after adding (a member added again is no new row); Rejected
    // rolls the whole transaction back: nothing was added.
    bounded::within(
        c,
        MEMBERS,
        id,
        0,
        members_max,
        "A list cannot have that many accounts",
    )
    .await
}

/// Removes accounts from the owner's list; accounts not in it are no error.
pub async fn remove_members(c: &dyn Conn, owner: Id, id: Id, accounts: &[Id]) -> StoreResult<()> {
    get(c, owner, id).await?;
    c.execute(
        &format!(
            "DELETE FROM list_accounts WHERE list_id = ?1 AND {}",
            c.dialect().in_ids("account_id", 2)
        ),
        &[Arg::Int(id), Arg::Ids(accounts)],
    )
    .await?;
    Ok(())
}

/// The owner's lists that `member` is in.
pub async fn containing(c: &dyn Conn, owner: Id, member: Id) -> StoreResult<Vec<ListRow>> {
    c.query(
        &format!(
            "SELECT {LIST_COLUMNS} FROM lists l JOIN list_accounts la ON la.list_id = l.id \
             WHERE l.account_id = ?1 AND la.account_id = ?2 ORDER BY l.id"
        ),
        &args![owner, member],
    )
    .await?
    .iter()
    .map(list_row)
    .collect()
}

/// Posts (and reblogs) of the list's members, by the home timeline's rules
/// (visibility, blocks, mutes), with replies as `replies_policy` says: to
/// nobody but oneself (`none`), also to other members (`list`), also to
/// anyone the owner follows (`followed`).
pub async fn timeline(c: &dyn Conn, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
    let list = get(c, owner, id).await?;
    let replies = match list.replies_policy {
        RepliesPolicy::None => "",
        RepliesPolicy::List => {
            " OR s.in_reply_to_account_id IN (SELECT account_id FROM list_accounts WHERE list_id = ?2)"
        }
        RepliesPolicy::Followed => {
            " OR s.in_reply_to_account_id IN (SELECT target_id FROM follows WHERE account_id = ?1) \
             OR s.in_reply_to_account_id = ?1"
        }
    };
    let select = format!(
        "SELECT s.id, s.id FROM statuses s \
         WHERE s.account_id IN (SELECT account_id FROM list_accounts WHERE list_id = ?2) \
           AND s.visibility <> {direct} \
           AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id{replies}) \
           AND {} AND {}",
        sql::visible_with_reblog("s"),
        sql::not_filtered("s"),
        direct = vis(Visibility::Direct),
    );
    sql::paged(c, &select, "s.id", &args![owner, id], page).await
}
