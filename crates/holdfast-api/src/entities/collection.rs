//! Collection (and its wrappers WrappedCollection and Collections),
//! CollectionItem (and WrappedCollectionItem), CollectionWithAccounts and
//! ShallowTag: Mastodon 4.6's featured collections.

use holdfast_service::collections::{CollectionView, CollectionWithAccounts as View};
use holdfast_store::CollectionItemRow;
use serde::Serialize;

use super::{id, iso8601, Account, Urls};

#[derive(Serialize)]
pub struct Collection {
    pub id: String,
    pub account_id: String,
    pub uri: String,
    /// No web page shows a collection yet.
    pub url: Option<String>,
    pub name: String,
    pub description: String,
    pub language: Option<String>,
    pub local: bool,
    pub sensitive: bool,
    pub discoverable: bool,
    pub tag: Option<ShallowTag>,
    /// The items this viewer is shown.
    pub item_count: usize,
    pub items: Vec<CollectionItem>,
    pub created_at: String,
    pub updated_at: String,
}

/// A hashtag by name and page only.
#[derive(Serialize)]
pub struct ShallowTag {
    pub name: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct CollectionItem {
    pub id: String,
    pub account_id: Option<String>,
    /// Every account is local, so every item is `accepted`.
    pub state: &'static str,
    pub created_at: String,
}

#[derive(Serialize)]
pub struct WrappedCollection {
    pub collection: Collection,
}

#[derive(Serialize)]
pub struct Collections {
    pub collections: Vec<Collection>,
}

#[derive(Serialize)]
pub struct WrappedCollectionItem {
    pub collection_item: CollectionItem,
}

#[derive(Serialize)]
pub struct CollectionWithAccounts {
    /// The owner's first, then each item's.
    pub accounts: Vec<Account>,
    pub collection: Collection,
}

impl Collection {
    pub fn new(urls: &Urls, v: &CollectionView) -> Collection {
        let c = &v.collection;
        Collection {
            id: id(c.id),
            account_id: id(c.account_id),
            uri: urls.collection(c.id),
            url: None,
            name: c.fields.name.clone(),
            description: c.fields.description.clone(),
            language: c.fields.language.clone(),
            local: true,
            sensitive: c.fields.sensitive,
            discoverable: c.fields.discoverable,
            tag: c.fields.tag_name.as_ref().map(|name| ShallowTag {
                name: name.clone(),
                url: urls.tag(name),
            }),
            item_count: v.items.len(),
            items: v.items.iter().map(CollectionItem::new).collect(),
            created_at: iso8601(c.created_at_ms),
            updated_at: iso8601(c.updated_at_ms),
        }
    }
}

impl CollectionItem {
    pub fn new(i: &CollectionItemRow) -> CollectionItem {
        CollectionItem {
            id: id(i.id),
            account_id: Some(id(i.account_id)),
            state: "accepted",
            created_at: iso8601(i.created_at_ms),
        }
    }
}

impl WrappedCollection {
    pub fn new(urls: &Urls, v: &CollectionView) -> WrappedCollection {
        WrappedCollection {
            collection: Collection::new(urls, v),
        }
    }
}

impl Collections {
    pub fn new(urls: &Urls, views: &[CollectionView]) -> Collections {
        Collections {
            collections: views.iter().map(|v| Collection::new(urls, v)).collect(),
        }
    }
}

impl WrappedCollectionItem {
    pub fn new(i: &CollectionItemRow) -> WrappedCollectionItem {
        WrappedCollectionItem {
            collection_item: CollectionItem::new(i),
        }
    }
}

impl CollectionWithAccounts {
    pub fn new(urls: &Urls, v: &View) -> CollectionWithAccounts {
        CollectionWithAccounts {
            accounts: v.accounts.iter().map(|a| Account::new(urls, a)).collect(),
            collection: Collection::new(urls, &v.view),
        }
    }
}
