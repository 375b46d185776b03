//! /api/v1/lists: an account's lists, their members, and which lists hold an
//! account (`/api/v1/accounts/:id/lists`). The list timeline is in timelines.rs.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::user_lists::ListFields;
use holdfast_store::{Id, ListRow};

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::params::{parse_id, Params};
use crate::AppState;

fn lists_json(lists: &[ListRow]) -> Json<Vec<entities::List>> {
    Json(lists.iter().map(entities::List::new).collect())
}

fn fields(params: &Params) -> ApiResult<ListFields> {
    Ok(ListFields {
        title: params.str("title")?,
        replies_policy: params.str("replies_policy")?,
        exclusive: params.bool("exclusive")?,
    })
}

/// `account_ids[]`; an id that is not one names no account (404).
fn account_ids(params: &Params) -> ApiResult<Vec<Id>> {
    params
        .list("account_ids")?
        .iter()
        .map(|s| parse_id(s).ok_or_else(ApiError::not_found))
        .collect()
}

pub async fn index(
    State(state): State<AppState>,
    user: User<scope::ReadLists>,
) -> ApiResult<Json<Vec<entities::List>>> {
    let me = user.id;
    Ok(lists_json(&state.service.lists(me).await?))
}

pub async fn show(
    State(state): State<AppState>,
    user: User<scope::ReadLists>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::List>> {
    let me = user.id;
    Ok(Json(entities::List::new(
        &state.service.list(me, path_id(&id)?).await?,
    )))
}

pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteLists>,
    params: Params,
) -> ApiResult<Json<entities::List>> {
    let me = user.id;
    let list = state.service.create_list(me, fields(&params)?).await?;
    Ok(Json(entities::List::new(&list)))
}

pub async fn update(
    State(state): State<AppState>,
    user: User<scope::WriteLists>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::List>> {
    let me = user.id;
    let list = state
        .service
        .update_list(me, path_id(&id)?, fields(&params)?)
        .await?;
    Ok(Json(entities::List::new(&list)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::WriteLists>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    let me = user.id;
    state.service.delete_list(me, path_id(&id)?).await?;
    Ok(Json(entities::Empty {}))
}

pub async fn members(
    State(state): State<AppState>,
    user: User<scope::ReadLists>,
    Path(id): Path<String>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let me = user.id;
    let page = state
        .service
        .list_members(me, path_id(&id)?, params.page()?)
        .await?;
    Ok(paging.each(&page, |a| entities::Account::new(&state.urls, a)))
}

pub async fn add_members(
    State(state): State<AppState>,
    user: User<scope::WriteLists>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::Empty>> {
    let me = user.id;
    let id = path_id(&id)?;
    state
        .service
        .add_list_members(me, id, &account_ids(&params)?)
        .await?;
    Ok(Json(entities::Empty {}))
}

pub async fn remove_members(
    State(state): State<AppState>,
    user: User<scope::WriteLists>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::Empty>> {
    let me = user.id;
    let id = path_id(&id)?;
    state
        .service
        .remove_list_members(me, id, &account_ids(&params)?)
        .await?;
    Ok(Json(entities::Empty {}))
}

pub async fn containing(
    State(state): State<AppState>,
    user: User<scope::ReadLists>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<entities::List>>> {
    let me = user.id;
    Ok(lists_json(
        &state.service.lists_containing(me, path_id(&id)?).await?,
    ))
}
