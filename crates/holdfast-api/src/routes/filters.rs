//! /api/v2/filters (with their keywords and statuses) and /api/v1/filters,
//! v1's view of each keyword as a filter. Someone else's filter is 404.

use axum::extract::{Path, State};
use axum::Json;
use holdfast_service::filters::{ExpiresIn, FilterFields, KeywordFields, V1FilterFields};
use serde_json::Value;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

/// `expires_in`: seconds as a number or digits; empty (or null) is "never".
fn expires_in(params: &Params) -> ApiResult<Option<ExpiresIn>> {
    if !params.0.contains_key("expires_in") {
        return Ok(None);
    }
    let bad =
        || ApiError::unprocessable("Validation failed: expires_in must be a number of seconds");
    match params.0.get("expires_in") {
        None | Some(Value::Null) => Ok(Some(ExpiresIn::Never)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(ExpiresIn::Never)),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(|n| Some(ExpiresIn::Seconds(n)))
            .map_err(|_| bad()),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|n| Some(ExpiresIn::Seconds(n)))
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// `context[]`, or None when the request does not name it.
fn contexts(params: &Params) -> ApiResult<Option<Vec<String>>> {
    if params.has("context") {
        Ok(Some(params.list("context")?))
    } else {
        Ok(None)
    }
}

fn keyword_fields(k: &Params) -> ApiResult<KeywordFields> {
    Ok(KeywordFields {
        id: k.id("id")?,
        keyword: k.str("keyword")?,
        whole_word: k.bool("whole_word")?,
        destroy: k.bool("_destroy")?.unwrap_or(false),
    })
}

fn fields(params: &Params) -> ApiResult<FilterFields> {
    Ok(FilterFields {
        title: params.str("title")?,
        contexts: contexts(params)?,
        action: params.str("filter_action")?,
        expires_in: expires_in(params)?,
        keywords: params
            .object_list("keywords_attributes")?
            .iter()
            .map(keyword_fields)
            .collect::<ApiResult<_>>()?,
    })
}

pub async fn index(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
) -> ApiResult<Json<Vec<entities::Filter>>> {
    let filters = state.service.filters(user.id).await?;
    Ok(Json(filters.iter().map(entities::Filter::new).collect()))
}

pub async fn show(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Filter>> {
    let f = state.service.filter(user.id, path_id(&id)?).await?;
    Ok(Json(entities::Filter::new(&f)))
}

pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    params: Params,
) -> ApiResult<Json<entities::Filter>> {
    let f = state
        .service
        .create_filter(user.id, fields(&params)?)
        .await?;
    Ok(Json(entities::Filter::new(&f)))
}

pub async fn update(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::Filter>> {
    let id = path_id(&id)?;
    let f = state
        .service
        .update_filter(user.id, id, fields(&params)?)
        .await?;
    Ok(Json(entities::Filter::new(&f)))
}

pub async fn delete(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state.service.delete_filter(user.id, path_id(&id)?).await?;
    Ok(Json(entities::Empty {}))
}

pub async fn keywords(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<entities::FilterKeyword>>> {
    let rows = state
        .service
        .filter_keywords(user.id, path_id(&id)?)
        .await?;
    Ok(Json(
        rows.iter().map(entities::FilterKeyword::new).collect(),
    ))
}

pub async fn add_keyword(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::FilterKeyword>> {
    let id = path_id(&id)?;
    let k = state
        .service
        .add_filter_keyword(user.id, id, keyword_fields(&params)?)
        .await?;
    Ok(Json(entities::FilterKeyword::new(&k)))
}

pub async fn keyword(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::FilterKeyword>> {
    let k = state
        .service
        .filter_keyword_row(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::FilterKeyword::new(&k)))
}

pub async fn update_keyword(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::FilterKeyword>> {
    let id = path_id(&id)?;
    let k = state
        .service
        .update_filter_keyword(user.id, id, keyword_fields(&params)?)
        .await?;
    Ok(Json(entities::FilterKeyword::new(&k)))
}

pub async fn delete_keyword(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state
        .service
        .delete_filter_keyword(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::Empty {}))
}

pub async fn statuses(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<entities::FilterStatus>>> {
    let rows = state
        .service
        .filter_statuses(user.id, path_id(&id)?)
        .await?;
    Ok(Json(rows.iter().map(entities::FilterStatus::new).collect()))
}

pub async fn add_status(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::FilterStatus>> {
    let id = path_id(&id)?;
    // A status id that is not an id names no status the caller can see.
    let status = params.id("status_id").map_err(|_| ApiError::not_found())?;
    let s = state.service.add_filter_status(user.id, id, status).await?;
    Ok(Json(entities::FilterStatus::new(&s)))
}

pub async fn status(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::FilterStatus>> {
    let s = state
        .service
        .filter_status_row(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::FilterStatus::new(&s)))
}

pub async fn delete_status(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state
        .service
        .delete_filter_status(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::Empty {}))
}

// ---- v1 ----

fn v1_fields(params: &Params) -> ApiResult<V1FilterFields> {
    Ok(V1FilterFields {
        phrase: params.str("phrase")?,
        contexts: contexts(params)?,
        irreversible: params.bool("irreversible")?,
        whole_word: params.bool("whole_word")?,
        expires_in: expires_in(params)?,
    })
}

pub async fn v1_index(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
) -> ApiResult<Json<Vec<entities::V1Filter>>> {
    let rows = state.service.v1_filters(user.id).await?;
    Ok(Json(rows.iter().map(entities::V1Filter::new).collect()))
}

pub async fn v1_show(
    State(state): State<AppState>,
    user: User<scope::ReadFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::V1Filter>> {
    let v = state.service.v1_filter(user.id, path_id(&id)?).await?;
    Ok(Json(entities::V1Filter::new(&v)))
}

pub async fn v1_create(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    params: Params,
) -> ApiResult<Json<entities::V1Filter>> {
    let v = state
        .service
        .create_v1_filter(user.id, v1_fields(&params)?)
        .await?;
    Ok(Json(entities::V1Filter::new(&v)))
}

pub async fn v1_update(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<entities::V1Filter>> {
    let id = path_id(&id)?;
    let v = state
        .service
        .update_v1_filter(user.id, id, v1_fields(&params)?)
        .await?;
    Ok(Json(entities::V1Filter::new(&v)))
}

pub async fn v1_delete(
    State(state): State<AppState>,
    user: User<scope::WriteFilters>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state
        .service
        .delete_v1_filter(user.id, path_id(&id)?)
        .await?;
    Ok(Json(entities::Empty {}))
}
