//! Blocks, mutes, follow requests and removing followers
//! (`/api/v1/blocks`, `/mutes`, `/follow_requests`, `accounts/:id/remove_from_followers`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::PageOf;
use holdfast_store::AccountRow;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{Account, MutedAccount, Relationship, Urls};
use crate::error::ApiResult;
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

fn accounts_response(urls: &Urls, paging: &Paging, page: &PageOf<AccountRow>) -> Response {
    paging.each(page, |a| Account::new(urls, a))
}

pub async fn blocks(
    State(state): State<AppState>,
    user: User<scope::ReadBlocks>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state.service.blocks(me, params.page()?).await?;
    Ok(accounts_response(&state.urls, &paging, &page))
}

/// Accounts, each with `mute_expires_at` (null for a mute without end).
pub async fn mutes(
    State(state): State<AppState>,
    user: User<scope::ReadMutes>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state.service.mutes(me, params.page()?).await?;
    Ok(paging.each(&page, |m| {
        MutedAccount::new(&state.urls, &m.account, m.expires_at_ms)
    }))
}

pub async fn follow_requests(
    State(state): State<AppState>,
    user: User<scope::ReadFollows>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state.service.follow_requests(me, params.page()?).await?;
    Ok(accounts_response(&state.urls, &paging, &page))
}

pub async fn authorize_follow_request(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .authorize_follow_request(me, path_id(&id)?)
        .await?;
    Ok(Json(Relationship::new(&rel)))
}

pub async fn reject_follow_request(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .reject_follow_request(me, path_id(&id)?)
        .await?;
    Ok(Json(Relationship::new(&rel)))
}

pub async fn remove_from_followers(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .remove_from_followers(me, path_id(&id)?)
        .await?;
    Ok(Json(Relationship::new(&rel)))
}
