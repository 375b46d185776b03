//! Private notes (`accounts/:id/note`), endorsements (`accounts/:id/pin`,
//! `unpin`, `/api/v1/endorsements`) and a user's hidden domains (`/api/v1/domain_blocks`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities;
use crate::error::ApiResult;
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

pub async fn note(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .set_account_note(me, path_id(&id)?, params.str("comment")?)
        .await?;
    Ok(Json(entities::Relationship::new(&rel)))
}

pub async fn pin(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    let me = user.id;
    let rel = state.service.endorse(me, path_id(&id)?).await?;
    Ok(Json(entities::Relationship::new(&rel)))
}

pub async fn unpin(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Relationship>> {
    let me = user.id;
    let rel = state.service.unendorse(me, path_id(&id)?).await?;
    Ok(Json(entities::Relationship::new(&rel)))
}

pub async fn endorsements(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state.service.endorsements(me, params.page()?).await?;
    Ok(paging.each(&page, |a| entities::Account::new(&state.urls, a)))
}

/// An array of domain names, paged with `Link`.
pub async fn domain_blocks(
    State(state): State<AppState>,
    user: User<scope::ReadBlocks>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state.service.domain_blocks(me, params.page()?).await?;
    Ok(paging.respond(&page, &page.items))
}

pub async fn block_domain(
    State(state): State<AppState>,
    user: User<scope::WriteBlocks>,
    params: Params,
) -> ApiResult<Json<entities::Empty>> {
    let me = user.id;
    state
        .service
        .block_domain(me, params.str("domain")?)
        .await?;
    Ok(Json(entities::Empty {}))
}

pub async fn unblock_domain(
    State(state): State<AppState>,
    user: User<scope::WriteBlocks>,
    params: Params,
) -> ApiResult<Json<entities::Empty>> {
    let me = user.id;
    state
        .service
        .unblock_domain(me, params.str("domain")?)
        .await?;
    Ok(Json(entities::Empty {}))
}

account_page_handler!(account_endorsements, account_endorsements);
