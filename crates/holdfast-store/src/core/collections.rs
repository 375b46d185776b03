//! Collections (Mastodon 4.6's featured collections): named sets of accounts
//! an account recommends to others, each with its items. Who may see or change
//! them is the service's decision; here every write that names an owner is
//! keyed by it, and the bounds (collections per account, items per
//! collection) are counted inside the writing transaction, under a lock on the
//! row they belong to, so two nodes adding at once count in turn.

use super::bounded::{self, Children};
use super::{args, Arg, Conn, Row};
use crate::model::*;
use crate::{StoreError, StoreResult};

const COLLECTION_COLUMNS: &str = "c.id, c.account_id, c.name, c.description, c.language, \
     c.tag_name, c.sensitive, c.discoverable, c.created_at, c.updated_at";
/// The same, unqualified, for `RETURNING` (no table alias in INSERT or UPDATE).
const COLLECTION_RETURNING: &str = "id, account_id, name, description, language, \
     tag_name, sensitive, discoverable, created_at, updated_at";

const ITEM_COLUMNS: &str = "i.id, i.collection_id, i.account_id, i.created_at";
const ITEM_RETURNING: &str = "id, collection_id, account_id, created_at";

/// An account's collections, and a collection's items (both bounded).
const COLLECTIONS: Children = Children {
    table: "collections",
    parent_column: "account_id",
};
const ITEMS: Children = Children {
    table: "collection_items",
    parent_column: "collection_id",
};
const TOO_MANY_ITEMS: &str = "too many accounts in the collection";

fn collection_row(r: &Row) -> StoreResult<CollectionRow> {
    Ok(CollectionRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        fields: CollectionFields {
            name: r.get(2)?,
            description: r.get(3)?,
            language: r.get(4)?,
            tag_name: r.get(5)?,
            sensitive: r.get(6)?,
            discoverable: r.get(7)?,
        },
        created_at_ms: r.get(8)?,
        updated_at_ms: r.get(9)?,
    })
}

fn item_row(r: &Row) -> StoreResult<CollectionItemRow> {
    Ok(CollectionItemRow {
        id: r.get(0)?,
        collection_id: r.get(1)?,
        account_id: r.get(2)?,
        created_at_ms: r.get(3)?,
    })
}

/// Makes `owner`'s collection with its first `accounts` (distinct, in the
/// given order); Rejected when the owner has `per_account_max` collections
/// already or `accounts` exceeds `items_max`. The owner's row is locked first.
pub async fn create(
    c: &dyn Conn,
    owner: Id,
    fields: &CollectionFields,
    accounts: &[Id],
    per_account_max: u32,
    items_max: u32,
) -> StoreResult<CollectionRow> {
    if accounts.len() > items_max as usize {
        return Err(StoreError::Rejected(TOO_MANY_ITEMS));
    }
    bounded::lock_account(c, owner).await?;
    bounded::within(
        c,
        COLLECTIONS,
        owner,
        1,
        per_account_max,
        "You have reached the maximum number of collections",
    )
    .await?;
    let now = crate::ids::now_ms();
    let row = c
        .query_one(
            &format!(
                "INSERT INTO collections (id, account_id, name, description, language, tag_name, \
                 sensitive, discoverable, created_at, updated_at) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING {COLLECTION_RETURNING}"
            ),
            &args![
                owner,
                &fields.name,
                &fields.description,
                fields.language.as_ref(),
                fields.tag_name.as_ref(),
                fields.sensitive,
                fields.discoverable,
                now
            ],
        )
        .await?;
    let collection = collection_row(&row)?;
    for account in accounts {
        insert_item(c, collection.id, *account, now).await?;
    }
    Ok(collection)
}

async fn insert_item(
    c: &dyn Conn,
    collection: Id,
    account: Id,
    now: i64,
) -> StoreResult<CollectionItemRow> {
    let row = c
        .query_opt(
            &format!(
                "INSERT INTO collection_items (id, collection_id, account_id, created_at) \
                 VALUES (holdfast_next_id(), ?1, ?2, ?3) \
                 ON CONFLICT (collection_id, account_id) DO NOTHING RETURNING {ITEM_RETURNING}"
            ),
            &args![collection, account, now],
        )
        .await?;
    match row {
        Some(r) => item_row(&r),
        None => Err(StoreError::Conflict("Account")),
    }
}

pub async fn get(c: &dyn Conn, id: Id) -> StoreResult<CollectionRow> {
    let row = c
        .query_one(
            &format!("SELECT {COLLECTION_COLUMNS} FROM collections c WHERE c.id = ?1"),
            &args![id],
        )
        .await?;
    collection_row(&row)
}

/// Writes `fields` over `owner`'s collection `id`, and its `updated_at`.
pub async fn update(
    c: &dyn Conn,
    owner: Id,
    id: Id,
    fields: &CollectionFields,
) -> StoreResult<CollectionRow> {
    let row = c
        .query_opt(
            &format!(
                "UPDATE collections SET name = ?3, description = ?4, language = ?5, tag_name = ?6, \
                 sensitive = ?7, discoverable = ?8, updated_at = ?9 \
                 WHERE id = ?1 AND account_id = ?2 RETURNING {COLLECTION_RETURNING}"
            ),
            &args![
                id,
                owner,
                &fields.name,
                &fields.description,
                fields.language.as_ref(),
                fields.tag_name.as_ref(),
                fields.sensitive,
                fields.discoverable,
                crate::ids::now_ms()
            ],
        )
        .await?;
    match row {
        Some(r) => collection_row(&r),
        None => Err(StoreError::NotFound),
    }
}

/// Deletes `owner`'s collection and its items (by cascade).
pub async fn delete(c: &dyn Conn, owner: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM collections WHERE id = ?1 AND account_id = ?2",
            &args![id, owner],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// `account`'s collections, newest first, from `offset`; with
/// `discoverable_only`, those it shows others.
pub async fn of_account(
    c: &dyn Conn,
    account: Id,
    discoverable_only: bool,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<CollectionRow>> {
    c.query(
        &format!(
            "SELECT {COLLECTION_COLUMNS} FROM collections c WHERE c.account_id = ?1 \
             AND (c.discoverable OR NOT ?2) ORDER BY c.id DESC LIMIT ?3 OFFSET ?4"
        ),
        &args![account, discoverable_only, limit, offset],
    )
    .await?
    .iter()
    .map(collection_row)
    .collect()
}

/// The collections `account` is an item of, newest inclusion first, from `offset`.
pub async fn featuring(
    c: &dyn Conn,
    account: Id,
    limit: u32,
    offset: u32,
) -> StoreResult<Vec<CollectionRow>> {
    c.query(
        &format!(
            "SELECT {COLLECTION_COLUMNS} FROM collection_items i JOIN collections c ON c.id = i.collection_id \
             WHERE i.account_id = ?1 ORDER BY i.id DESC LIMIT ?2 OFFSET ?3"
        ),
        &args![account, limit, offset],
    )
    .await?
    .iter()
    .map(collection_row)
    .collect()
}

/// The items of `collections`, oldest first within each.
pub async fn items(c: &dyn Conn, collections: &[Id]) -> StoreResult<Vec<CollectionItemRow>> {
    if collections.is_empty() {
        return Ok(Vec::new());
    }
    c.query(
        &format!(
            "SELECT {ITEM_COLUMNS} FROM collection_items i WHERE {} ORDER BY i.collection_id, i.id",
            c.dialect().in_ids("i.collection_id", 1)
        ),
        &[Arg::Ids(collections)],
    )
    .await?
    .iter()
    .map(item_row)
    .collect()
}

/// Adds `account` to `owner`'s collection: Conflict if it is in already,
/// Rejected past `items_max` items. The collection's row is locked first.
pub async fn add_item(
    c: &dyn Conn,
    owner: Id,
    collection: Id,
    account: Id,
    items_max: u32,
) -> StoreResult<CollectionItemRow> {
    bounded::lock_owned(c, "collections", owner, collection).await?;
    bounded::within(c, ITEMS, collection, 1, items_max, TOO_MANY_ITEMS).await?;
    let now = crate::ids::now_ms();
    let item = insert_item(c, collection, account, now).await?;
    touch(c, collection, now).await?;
    Ok(item)
}

pub async fn item(c: &dyn Conn, collection: Id, id: Id) -> StoreResult<CollectionItemRow> {
    let row = c
        .query_one(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM collection_items i WHERE i.id = ?1 AND i.collection_id = ?2"
            ),
            &args![id, collection],
        )
        .await?;
    item_row(&row)
}

/// Removes item `id` of `collection`; NotFound if it is not there.
pub async fn remove_item(c: &dyn Conn, collection: Id, id: Id) -> StoreResult<()> {
    let removed = c
        .execute(
            "DELETE FROM collection_items WHERE id = ?1 AND collection_id = ?2",
            &args![id, collection],
        )
        .await?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    touch(c, collection, crate::ids::now_ms()).await
}

/// A collection's items changed: its `updated_at` says so.
async fn touch(c: &dyn Conn, collection: Id, now: i64) -> StoreResult<()> {
    c.execute(
        "UPDATE collections SET updated_at = ?2 WHERE id = ?1",
        &args![collection, now],
    )
    .await?;
    Ok(())
}
