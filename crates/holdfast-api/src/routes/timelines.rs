//! Timelines, favourites, bookmarks, tags and search.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::lists::Timeline;
use holdfast_service::PageOf;
use holdfast_store::{AccountStatusesFilter, StatusBundle};

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::Search;
use crate::error::ApiResult;
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

/// A page of statuses, written from the kept rendered statuses and accounts.
fn statuses(state: &AppState, paging: &Paging, page: PageOf<StatusBundle>) -> Response {
    let json = state.rendered.statuses_json(&state.urls, &page.items);
    paging.respond_json(page.next_max_id, page.prev_min_id, json)
}

async fn timeline(
    state: &AppState,
    which: Timeline<'_>,
    paging: &Paging,
    params: &Params,
) -> ApiResult<Response> {
    let page = state.service.timeline_shared(which, params.page()?).await?;
    let json = state.rendered.page_json(&state.urls, &page.items);
    Ok(paging.respond_json(page.next_max_id, page.prev_min_id, json))
}

pub async fn home(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let which = Timeline::Home { me: user.id };
    timeline(&state, which, &paging, &params).await
}

/// `/api/v1/timelines/list/:id`: one of the caller's lists.
pub async fn list(
    State(state): State<AppState>,
    user: User<scope::ReadLists>,
    Path(id): Path<String>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let which = Timeline::List {
        me: user.id,
        id: path_id(&id)?,
    };
    timeline(&state, which, &paging, &params).await
}

pub async fn public(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
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
            &paging,
            PageOf {
                items: Vec::new(),
                next_max_id: None,
                prev_min_id: None,
            },
        ));
    }
    let which = Timeline::Public { viewer, only_media };
    timeline(&state, which, &paging, &params).await
}

pub async fn tag(
    State(state): State<AppState>,
    caller: Caller,
    Path(hashtag): Path<String>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let viewer = caller.viewer("read:statuses")?;
    let which = Timeline::Tag {
        viewer,
        name: hashtag.trim_start_matches('#'),
    };
    timeline(&state, which, &paging, &params).await
}

pub async fn account_statuses(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    paging: Paging,
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
        viewer,
        id: path_id(&id)?,
        filter,
        tagged: tagged.as_deref().map(|t| t.trim_start_matches('#')),
    };
    timeline(&state, which, &paging, &params).await
}

pub async fn favourites(
    State(state): State<AppState>,
    user: User<scope::ReadFavourites>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let which = Timeline::Favourites { me: user.id };
    timeline(&state, which, &paging, &params).await
}

pub async fn bookmarks(
    State(state): State<AppState>,
    user: User<scope::ReadBookmarks>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let which = Timeline::Bookmarks { me: user.id };
    timeline(&state, which, &paging, &params).await
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Search>> {
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
    let hashtags = state
        .service
        .tag_views(viewer, results.hashtags.clone())
        .await?;
    Ok(Json(Search::new(&state.urls, &results, &hashtags)))
}

// ---- api: `timelines/direct` (issue 14) ----

/// `GET /api/v1/timelines/direct`: the caller's direct statuses, written or
/// received, paged like the other timelines (removed from Mastodon in 3.0,
/// still asked for by older apps).
pub async fn direct(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let which = Timeline::Direct { me: user.id };
    timeline(&state, which, &paging, &params).await
}
