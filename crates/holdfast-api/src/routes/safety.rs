//! Blocks, mutes, follow requests and removing followers
//! (`/api/v1/blocks`, `/mutes`, `/follow_requests`, `accounts/:id/remove_from_followers`).

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use holdfast_service::{PageOf, Service};
use holdfast_store::AccountRow;
use serde_json::Value;

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::ApiResult;
use crate::params::Params;
use crate::AppState;

fn accounts_response(
    svc: &Service,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    page: &PageOf<AccountRow>,
) -> Response {
    let items = page
        .items
        .iter()
        .map(|a| entities::account(svc, a))
        .collect();
    crate::paging::page_response(headers, uri, page, items)
}

pub async fn blocks(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:blocks")?;
    let page = state.service.blocks(me, params.page()?).await?;
    Ok(accounts_response(&state.service, &headers, &uri, &page))
}

/// Accounts, each with `mute_expires_at` (null for a mute without end).
pub async fn mutes(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:mutes")?;
    let page = state.service.mutes(me, params.page()?).await?;
    let items = page
        .items
        .iter()
        .map(|m| {
            let mut account = entities::account(&state.service, &m.account);
            account["mute_expires_at"] = m
                .expires_at_ms
                .map_or(Value::Null, |ms| Value::String(entities::iso8601(ms)));
            account
        })
        .collect();
    Ok(crate::paging::page_response(&headers, &uri, &page, items))
}

pub async fn follow_requests(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:follows")?;
    let page = state.service.follow_requests(me, params.page()?).await?;
    Ok(accounts_response(&state.service, &headers, &uri, &page))
}

pub async fn authorize_follow_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:follows")?;
    let rel = state
        .service
        .authorize_follow_request(me, path_id(&id)?)
        .await?;
    Ok(Json(entities::relationship(&rel)))
}

pub async fn reject_follow_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:follows")?;
    let rel = state
        .service
        .reject_follow_request(me, path_id(&id)?)
        .await?;
    Ok(Json(entities::relationship(&rel)))
}

pub async fn remove_from_followers(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:follows")?;
    let rel = state
        .service
        .remove_from_followers(me, path_id(&id)?)
        .await?;
    Ok(Json(entities::relationship(&rel)))
}
