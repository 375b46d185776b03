//! Collections (Mastodon 4.6's featured collections): named sets of accounts
//! someone recommends to others. Who may do what, as Mastodon decides it:
//! - anyone may read a collection, unless its owner blocks them (403); an
//!   account's list shows others only its discoverable collections, and
//!   someone the owner blocks gets an empty list;
//! - only the owner changes a collection or its items (403 for anyone else);
//! - an account may be added only if it is discoverable and neither side
//!   blocks the other (403), and may take itself out (`revoke`);
//! - the items a viewer sees leave out accounts it blocks or that block it,
//!   and suspended ones.
//!
//! Every account here is local, so every item is `accepted` at once.

use holdfast_store::{
    AccountRow, CollectionFields, CollectionItemRow, CollectionRow, Id, StoreError,
};

use crate::{FieldError, Service, ServiceError, ServiceResult};

/// What a client sent to make or change a collection (None: not sent).
#[derive(Clone, Debug, Default)]
pub struct CollectionInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub tag_name: Option<String>,
    pub sensitive: Option<bool>,
    pub discoverable: Option<bool>,
}

/// A collection with the items one viewer may see.
#[derive(Clone, Debug)]
pub struct CollectionView {
    pub collection: CollectionRow,
    pub items: Vec<CollectionItemRow>,
}

/// `GET /api/v1/collections/:id`: the collection, and the accounts of its
/// owner (first) and of every item shown.
#[derive(Clone, Debug)]
pub struct CollectionWithAccounts {
    pub view: CollectionView,
    pub accounts: Vec<AccountRow>,
}

/// A page of collections, by offset (as Mastodon pages them): where the
/// next and the previous pages start, if there are any.
#[derive(Clone, Debug)]
pub struct CollectionPage {
    pub items: Vec<CollectionView>,
    pub next_offset: Option<u32>,
    pub prev_offset: Option<u32>,
}

impl CollectionPage {
    /// `fetched` rows were asked for `limit` from `offset`: a full page may have a next one.
    fn new(items: Vec<CollectionView>, fetched: usize, limit: u32, offset: u32) -> CollectionPage {
        CollectionPage {
            items,
            next_offset: (fetched >= limit as usize).then(|| offset.saturating_add(limit)),
            prev_offset: (offset > 0).then(|| offset.saturating_sub(limit)),
        }
    }

    fn empty() -> CollectionPage {
        CollectionPage {
            items: Vec::new(),
            next_offset: None,
            prev_offset: None,
        }
    }
}

fn cannot_feature() -> ServiceError {
    ServiceError::Forbidden("This account cannot be added to collections".into())
}

impl Service {
    /// `fields` (the collection as it is, or the defaults) with `input`
    /// applied, checked; every failing field is listed, as Mastodon does.
    fn collection_fields(
        &self,
        base: CollectionFields,
        input: CollectionInput,
    ) -> ServiceResult<CollectionFields> {
        let l = self.limits();
        let mut errors = Vec::new();
        let name = input.name.map_or(base.name, |n| n.trim().to_owned());
        if name.is_empty() {
            errors.push(FieldError {
                field: "name",
                code: "BLANK",
                description: "can't be blank".into(),
            });
        } else if name.chars().count() > l.collection_name_max_chars {
            errors.push(FieldError {
                field: "name",
                code: "TOO_LONG",
                description: format!(
                    "is too long (maximum is {} characters)",
                    l.collection_name_max_chars
                ),
            });
        }
        let description = input.description.unwrap_or(base.description);
        if description.chars().count() > l.collection_description_max_chars {
            errors.push(FieldError {
                field: "description",
                code: "TOO_LONG",
                description: format!(
                    "is too long (maximum is {} characters)",
                    l.collection_description_max_chars
                ),
            });
        }
        // An empty string clears the language or the tag.
        let language = match input.language {
            None => base.language,
            Some(lang) if lang.is_empty() => None,
            Some(lang) => {
                if !crate::oauth::valid_language(&lang, l.language_max_chars) {
                    errors.push(FieldError {
                        field: "language",
                        code: "INVALID",
                        description: "is not a valid language code".into(),
                    });
                }
                Some(lang)
            }
        };
        let tag_name = match input.tag_name {
            None => base.tag_name,
            Some(tag) if tag.trim().is_empty() => None,
            Some(tag) => {
                let name = crate::tags::tag_name(tag.trim());
                if name.is_none() {
                    errors.push(FieldError {
                        field: "tag_name",
                        code: "INVALID",
                        description: "is invalid".into(),
                    });
                }
                name
            }
        };
        if !errors.is_empty() {
            let message = errors
                .iter()
                .map(|e| format!("{} {}", field_label(e.field), e.description))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ServiceError::Validation {
                message: format!("Validation failed: {message}"),
                details: errors,
            });
        }
        Ok(CollectionFields {
            name,
            description,
            language,
            tag_name,
            sensitive: input.sensitive.unwrap_or(base.sensitive),
            discoverable: input.discoverable.unwrap_or(base.discoverable),
        })
    }

    /// The accounts `me` may add: each exists and is visible (404), is
    /// discoverable, and neither blocks the other (403).
    async fn check_featureable(&self, me: Id, accounts: &[Id]) -> ServiceResult<()> {
        for id in accounts {
            let account = self.account(Some(me), *id).await?;
            if !account.discoverable {
                return Err(cannot_feature());
            }
        }
        let relations = self.store.relationships(me, accounts).await?;
        if relations.iter().any(|r| r.blocking || r.blocked_by) {
            return Err(cannot_feature());
        }
        Ok(())
    }

    /// A collection that exists, and whose owner `viewer` may see (404 otherwise).
    async fn visible_collection(
        &self,
        viewer: Option<Id>,
        id: Id,
    ) -> ServiceResult<(CollectionRow, AccountRow)> {
        let collection = self.store.collection(id).await?;
        let owner = self.account(viewer, collection.account_id).await?;
        Ok((collection, owner))
    }

    /// A collection only its owner may change: 404 if none, 403 if not `me`'s.
    async fn own_collection(&self, me: Id, id: Id) -> ServiceResult<CollectionRow> {
        let collection = self.store.collection(id).await?;
        if collection.account_id != me {
            return Err(ServiceError::forbidden());
        }
        Ok(collection)
    }

    /// Whether `owner` blocks `viewer`.
    async fn blocked_by(&self, viewer: Option<Id>, owner: Id) -> ServiceResult<bool> {
        let Some(me) = viewer else { return Ok(false) };
        if me == owner {
            return Ok(false);
        }
        let relations = self.store.relationships(me, &[owner]).await?;
        Ok(relations.iter().any(|r| r.blocked_by))
    }

    /// `collections` with the items `viewer` may see, and those items' accounts.
    async fn collection_views(
        &self,
        viewer: Option<Id>,
        collections: Vec<CollectionRow>,
    ) -> ServiceResult<(Vec<CollectionView>, Vec<AccountRow>)> {
        let ids: Vec<Id> = collections.iter().map(|c| c.id).collect();
        let items = self.store.collection_items(&ids).await?;
        let mut account_ids: Vec<Id> = items.iter().map(|i| i.account_id).collect();
        account_ids.sort_unstable();
        account_ids.dedup();
        let accounts = self.store.accounts(&account_ids).await?;
        let relations = match viewer {
            Some(me) if !account_ids.is_empty() => {
                self.store.relationships(me, &account_ids).await?
            }
            _ => Vec::new(),
        };
        let shown: Vec<AccountRow> = accounts
            .into_iter()
            .filter(|a| (!a.suspended && a.approved) || viewer == Some(a.id))
            .filter(|a| {
                !relations
                    .iter()
                    .any(|r| r.id == a.id && (r.blocking || r.blocked_by))
            })
            .collect();
        let views = collections
            .into_iter()
            .map(|collection| CollectionView {
                items: items
                    .iter()
                    .filter(|i| i.collection_id == collection.id)
                    .filter(|i| shown.iter().any(|a| a.id == i.account_id))
                    .cloned()
                    .collect(),
                collection,
            })
            .collect();
        Ok((views, shown))
    }

    async fn collection_view(
        &self,
        viewer: Option<Id>,
        collection: CollectionRow,
    ) -> ServiceResult<CollectionView> {
        let (mut views, _) = self.collection_views(viewer, vec![collection]).await?;
        views.pop().ok_or_else(ServiceError::not_found)
    }

    fn collections_page(
        &self,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<(u32, u32)> {
        let l = self.limits();
        let offset = offset.unwrap_or(0);
        if offset > l.collections_offset_max {
            return Err(ServiceError::BadRequest(format!(
                "offset may be at most {}",
                l.collections_offset_max
            )));
        }
        let limit = limit
            .unwrap_or(l.collections_page_default)
            .min(l.collections_page_max)
            .max(1);
        Ok((limit, offset))
    }

    /// `POST /api/v1/collections`: made with its first accounts (distinct).
    pub async fn create_collection(
        &self,
        me: Id,
        input: CollectionInput,
        account_ids: Vec<Id>,
    ) -> ServiceResult<CollectionView> {
        let l = self.limits();
        let defaults = CollectionFields {
            name: String::new(),
            description: String::new(),
            language: None,
            tag_name: None,
            sensitive: false,
            discoverable: true,
        };
        let fields = self.collection_fields(defaults, input)?;
        let mut accounts: Vec<Id> = Vec::with_capacity(account_ids.len());
        for id in account_ids {
            if !accounts.contains(&id) {
                accounts.push(id);
            }
            if accounts.len() > l.collection_items_max as usize {
                return Err(too_many_items(l.collection_items_max));
            }
        }
        self.check_featureable(me, &accounts).await?;
        let collection = self
            .store
            .create_collection(
                me,
                fields,
                accounts,
                l.collections_per_account_max,
                l.collection_items_max,
            )
            .await?;
        self.collection_view(Some(me), collection).await
    }

    /// `GET /api/v1/collections/:id`: 403 for someone its owner blocks.
    pub async fn collection(
        &self,
        viewer: Option<Id>,
        id: Id,
    ) -> ServiceResult<CollectionWithAccounts> {
        let (collection, owner) = self.visible_collection(viewer, id).await?;
        if self.blocked_by(viewer, owner.id).await? {
            return Err(ServiceError::forbidden());
        }
        let (mut views, item_accounts) = self.collection_views(viewer, vec![collection]).await?;
        let view = views.pop().ok_or_else(ServiceError::not_found)?;
        // The owner's first, then each item's, in the items' order.
        let mut accounts = vec![owner];
        accounts.extend(
            view.items
                .iter()
                .filter_map(|i| item_accounts.iter().find(|a| a.id == i.account_id))
                .cloned(),
        );
        Ok(CollectionWithAccounts { view, accounts })
    }

    /// `GET /api/v1/accounts/:id/collections`: the owner sees all of them,
    /// others the discoverable ones, someone the owner blocks none.
    pub async fn account_collections(
        &self,
        viewer: Option<Id>,
        account: Id,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<CollectionPage> {
        let (limit, offset) = self.collections_page(limit, offset)?;
        self.account(viewer, account).await?;
        if self.blocked_by(viewer, account).await? {
            return Ok(CollectionPage::empty());
        }
        let discoverable_only = viewer != Some(account);
        let rows = self
            .store
            .account_collections(account, discoverable_only, limit, offset)
            .await?;
        let fetched = rows.len();
        let items = self.collection_views(viewer, rows).await?.0;
        Ok(CollectionPage::new(items, fetched, limit, offset))
    }

    /// `GET /api/v1/accounts/:id/in_collections`: only about oneself (403
    /// otherwise); collections of suspended owners, or of owners that block
    /// `me`, are left out.
    pub async fn collections_featuring(
        &self,
        me: Id,
        account: Id,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<CollectionPage> {
        let (limit, offset) = self.collections_page(limit, offset)?;
        self.account(Some(me), account).await?;
        if account != me {
            return Err(ServiceError::forbidden());
        }
        let rows = self.store.collections_featuring(me, limit, offset).await?;
        let fetched = rows.len();
        let mut owners: Vec<Id> = rows.iter().map(|c| c.account_id).collect();
        owners.sort_unstable();
        owners.dedup();
        let visible = self.store.accounts(&owners).await?;
        let relations = self.store.relationships(me, &owners).await?;
        let rows = rows
            .into_iter()
            .filter(|c| {
                visible
                    .iter()
                    .any(|a| a.id == c.account_id && !a.suspended && a.approved)
                    && !relations
                        .iter()
                        .any(|r| r.id == c.account_id && r.blocked_by)
            })
            .collect();
        let items = self.collection_views(Some(me), rows).await?.0;
        Ok(CollectionPage::new(items, fetched, limit, offset))
    }

    /// `PATCH /api/v1/collections/:id`: the owner's only.
    pub async fn update_collection(
        &self,
        me: Id,
        id: Id,
        input: CollectionInput,
    ) -> ServiceResult<CollectionView> {
        let collection = self.own_collection(me, id).await?;
        let fields = self.collection_fields(collection.fields, input)?;
        let collection = self.store.update_collection(me, id, fields).await?;
        self.collection_view(Some(me), collection).await
    }

    /// `DELETE /api/v1/collections/:id`: the owner's only; its items go with it.
    pub async fn delete_collection(&self, me: Id, id: Id) -> ServiceResult<()> {
        self.own_collection(me, id).await?;
        Ok(self.store.delete_collection(me, id).await?)
    }

    /// `POST /api/v1/collections/:id/items`: Mastodon's order of refusals:
    /// no such collection 404, no `account_id` 422, no such account 404,
    /// not the owner 403, an account that cannot be featured 403; one in
    /// the collection already, or past `collection_items_max`, 422.
    pub async fn add_collection_item(
        &self,
        me: Id,
        collection: Id,
        account: Option<Id>,
    ) -> ServiceResult<CollectionItemRow> {
        let row = self.store.collection(collection).await?;
        let account = account.ok_or_else(|| {
            ServiceError::Unprocessable("`account_id` parameter is missing".into())
        })?;
        self.account(Some(me), account).await?;
        if row.account_id != me {
            return Err(ServiceError::forbidden());
        }
        self.check_featureable(me, &[account]).await?;
        let max = self.limits().collection_items_max;
        match self
            .store
            .add_collection_item(me, collection, account, max)
            .await
        {
            Err(StoreError::Rejected(_)) => Err(too_many_items(max)),
            other => Ok(other?),
        }
    }

    /// Takes item `item` out of `collection`: `DELETE …/items/:item` by the
    /// collection's owner, or `POST …/items/:item/revoke` by the featured
    /// account itself. 404 for no such collection or item, then 403 for
    /// anyone but the one `by` names.
    pub async fn remove_collection_item(
        &self,
        me: Id,
        collection: Id,
        item: Id,
        by: ItemRemover,
    ) -> ServiceResult<()> {
        let row = self.store.collection(collection).await?;
        let found = self.store.collection_item(collection, item).await?;
        let allowed = match by {
            ItemRemover::Owner => row.account_id,
            ItemRemover::Featured => found.account_id,
        };
        if allowed != me {
            return Err(ServiceError::forbidden());
        }
        Ok(self.store.remove_collection_item(collection, item).await?)
    }
}

/// Who may take an item out of a collection, by the route asked.
#[derive(Clone, Copy, Debug)]
pub enum ItemRemover {
    /// The collection's owner (`DELETE /api/v1/collections/:id/items/:item`).
    Owner,
    /// The featured account (`POST …/items/:item/revoke`).
    Featured,
}

fn too_many_items(max: u32) -> ServiceError {
    ServiceError::Validation {
        message: format!("Validation failed: Collection items are too many (maximum is {max})"),
        details: vec![FieldError {
            field: "collection_items",
            code: "TOO_MANY",
            description: format!("are too many (maximum is {max})"),
        }],
    }
}

/// A field as Rails names it in a message (`tag_name` is "Tag name").
fn field_label(field: &str) -> String {
    let words = field.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}
