//! Timelines, favourites, bookmarks, tags and search.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Json;
use holdfast_service::lists::Timeline;
use holdfast_service::PageOf;
use holdfast_store::{AccountStatusesFilter, Id, StatusBundle};
use serde_json::Value;

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::ApiResult;
use crate::paging::page_response;
use crate::params::Params;
use crate::AppState;

fn statuses(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    page: PageOf<StatusBundle>,
) -> Response {
    let items = page
        .items
        .iter()
        .map(|b| entities::status(&state.service, b))
        .collect();
    page_response(headers, uri, &page, items)
}

async fn timeline(
    state: &AppState,
    viewer: Option<Id>,
    which: Timeline<'_>,
    headers: &HeaderMap,
    uri: &Uri,
    params: &Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .timeline(viewer, which, params.page()?)
        .await?;
    Ok(statuses(state, headers, uri, page))
}

pub async fn home(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:statuses")?;
    timeline(&state, Some(me), Timeline::Home, &headers, &uri, &params).await
}

/// `/api/v1/timelines/list/:id`: one of the caller's lists.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:lists")?;
    let which = Timeline::List(path_id(&id)?);
    timeline(&state, Some(me), which, &headers, &uri, &params).await
}

pub async fn public(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let viewer = caller.viewer("read:statuses")?;
    params.bool("local")?; // every status here is local, so `local` changes nothing, but it must be well-formed
    let only_media = params.bool("only_media")?.unwrap_or(false);
    // No remote statuses exist, so that filter selects nothing.
    if params.bool("remote")?.unwrap_or(false) {
        params.page()?;
        return Ok(statuses(
            &state,
            &headers,
            &uri,
            PageOf {
                items: Vec::new(),
                next_max_id: None,
                prev_min_id: None,
            },
        ));
    }
    timeline(
        &state,
        viewer,
        Timeline::Public { only_media },
        &headers,
        &uri,
        &params,
    )
    .await
}

pub async fn tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(hashtag): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let viewer = caller.viewer("read:statuses")?;
    timeline(
        &state,
        viewer,
        Timeline::Tag(hashtag.trim_start_matches('#')),
        &headers,
        &uri,
        &params,
    )
    .await
}

pub async fn tag_info(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.viewer("read:statuses")?;
    let tag = state.service.tag(&name).await?;
    Ok(Json(entities::tag(&state.service, &tag)))
}

pub async fn account_statuses(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let viewer = caller.viewer("read:statuses")?;
    let filter = AccountStatusesFilter {
        exclude_replies: params.bool("exclude_replies")?.unwrap_or(false),
        exclude_reblogs: params.bool("exclude_reblogs")?.unwrap_or(false),
        only_media: params.bool("only_media")?.unwrap_or(false),
        pinned: params.bool("pinned")?.unwrap_or(false),
    };
    let tagged = params.str("tagged")?;
    let which = Timeline::Account {
        id: path_id(&id)?,
        filter,
        tagged: tagged.as_deref().map(|t| t.trim_start_matches('#')),
    };
    timeline(&state, viewer, which, &headers, &uri, &params).await
}

pub async fn favourites(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:favourites")?;
    timeline(
        &state,
        Some(me),
        Timeline::Favourites,
        &headers,
        &uri,
        &params,
    )
    .await
}

pub async fn bookmarks(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let me = caller.user("read:bookmarks")?;
    timeline(
        &state,
        Some(me),
        Timeline::Bookmarks,
        &headers,
        &uri,
        &params,
    )
    .await
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:search")?;
    let q = params.str("q")?.unwrap_or_default();
    let kind = params.str("type")?;
    let results = state
        .service
        .search(
            viewer,
            &q,
            kind.as_deref(),
            params.limit("limit"),
            params.u32("offset")?,
        )
        .await?;
    Ok(Json(entities::search(&state.service, &results)))
}
