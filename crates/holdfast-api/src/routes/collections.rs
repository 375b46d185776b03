//! Collections (Mastodon 4.6's featured collections): `/api/v1/collections`,
//! their items, and `accounts/:id/collections|in_collections`. Validation
//! failures leave nested (`NestedValidation`), as Mastodon's collections
//! answer them. Pages go by `offset`, with a `Link` header.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::collections::{CollectionInput, CollectionPage, ItemRemover};
use holdfast_store::Id;

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::{
    self, CollectionWithAccounts, Collections, WrappedCollection, WrappedCollectionItem,
};
use crate::error::{ApiError, ApiResult, NestedValidation};
use crate::paging::offset_link_header;
use crate::params::{parse_id, Params};
use crate::AppState;

type Nested<T> = Result<T, NestedValidation>;

fn input(params: &Params) -> ApiResult<CollectionInput> {
    Ok(CollectionInput {
        name: params.str("name")?,
        description: params.str("description")?,
        language: params.str("language")?,
        tag_name: params.str("tag_name")?,
        sensitive: params.bool("sensitive")?,
        discoverable: params.bool("discoverable")?,
    })
}

/// `{"collections": […]}` with a `Link` header by offset.
fn collections_page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    page: &CollectionPage,
) -> Response {
    let mut response = Json(Collections::new(&state.urls, &page.items)).into_response();
    if let Some(link) = offset_link_header(headers, uri, page.next_offset, page.prev_offset) {
        response
            .headers_mut()
            .insert(axum::http::header::LINK, link);
    }
    response
}

/// `POST /api/v1/collections`.
pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    params: Params,
) -> Nested<Json<WrappedCollection>> {
    let accounts: Vec<Id> = params
        .list("account_ids")?
        .iter()
        .map(|raw| parse_id(raw).ok_or_else(ApiError::not_found))
        .collect::<ApiResult<_>>()?;
    let view = state
        .service
        .create_collection(user.id, input(&params)?, accounts)
        .await?;
    Ok(Json(WrappedCollection::new(&state.urls, &view)))
}

/// `GET /api/v1/collections/:id`: public, or `read:collections`.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CollectionWithAccounts>> {
    let viewer = caller.viewer("read:collections")?;
    let found = state.service.collection(viewer, path_id(&id)?).await?;
    Ok(Json(CollectionWithAccounts::new(&state.urls, &found)))
}

/// `PATCH /api/v1/collections/:id`: the owner's only (403).
pub async fn update(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    Path(id): Path<String>,
    params: Params,
) -> Nested<Json<WrappedCollection>> {
    let view = state
        .service
        .update_collection(user.id, path_id(&id)?, input(&params)?)
        .await?;
    Ok(Json(WrappedCollection::new(&state.urls, &view)))
}

/// `DELETE /api/v1/collections/:id`: `{}`.
pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state
        .service
        .delete_collection(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::Empty {}))
}

/// `POST /api/v1/collections/:id/items` with `account_id`.
pub async fn add_item(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<WrappedCollectionItem>> {
    let collection = path_id(&id)?;
    // An id that names no account is "not found", as Mastodon's lookup answers.
    let account = match params.str("account_id")? {
        Some(raw) if !raw.is_empty() => Some(parse_id(&raw).ok_or_else(ApiError::not_found)?),
        _ => None,
    };
    let item = state
        .service
        .add_collection_item(user.id, collection, account)
        .await?;
    Ok(Json(WrappedCollectionItem::new(&item)))
}

/// `DELETE /api/v1/collections/:id/items/:item`: `{}`.
pub async fn remove_item(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<entities::Empty>> {
    take_out(&state, user.id, ids, ItemRemover::Owner).await
}

/// `POST /api/v1/collections/:id/items/:item/revoke`: the featured account
/// takes itself out; `{}`.
pub async fn revoke_item(
    State(state): State<AppState>,
    user: User<scope::WriteCollections>,
    Path(ids): Path<(String, String)>,
) -> ApiResult<Json<entities::Empty>> {
    take_out(&state, user.id, ids, ItemRemover::Featured).await
}

async fn take_out(
    state: &AppState,
    me: Id,
    (collection, item): (String, String),
    by: ItemRemover,
) -> ApiResult<Json<entities::Empty>> {
    state
        .service
        .remove_collection_item(me, path_id(&collection)?, path_id(&item)?, by)
        .await?;
    Ok(Json(entities::Empty {}))
}

/// `GET /api/v1/accounts/:id/collections`: public, or `read:collections`.
pub async fn of_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let viewer = caller.viewer("read:collections")?;
    let page = state
        .service
        .account_collections(
            viewer,
            path_id(&id)?,
            params.u32("limit")?,
            params.u32("offset")?,
        )
        .await?;
    Ok(collections_page(&state, &headers, &uri, &page))
}

/// `GET /api/v1/accounts/:id/in_collections`: only one's own (403).
pub async fn featuring(
    State(state): State<AppState>,
    user: User<scope::ReadCollections>,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .collections_featuring(
            user.id,
            path_id(&id)?,
            params.u32("limit")?,
            params.u32("offset")?,
        )
        .await?;
    Ok(collections_page(&state, &headers, &uri, &page))
}
