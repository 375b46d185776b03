//! Hashtags an account follows (`tags/:name/follow`, `followed_tags`) or
//! features on its profile (`featured_tags`), and `tags/:name` itself.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::{self, FeaturedTag, Tag};
use crate::error::ApiResult;
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

/// `GET /api/v1/tags/:name`: any valid name, with history and `following`.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Tag>> {
    let viewer = caller.viewer("read:statuses")?;
    let tag = state.service.tag_info(viewer, &name).await?;
    Ok(Json(Tag::new(&state.urls, &tag)))
}

pub async fn follow(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(name): Path<String>,
) -> ApiResult<Json<Tag>> {
    let tag = state.service.follow_tag(user.id, &name).await?;
    Ok(Json(Tag::new(&state.urls, &tag)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(name): Path<String>,
) -> ApiResult<Json<Tag>> {
    let tag = state.service.unfollow_tag(user.id, &name).await?;
    Ok(Json(Tag::new(&state.urls, &tag)))
}

/// `GET /api/v1/followed_tags`, paged by the follow with `Link`.
pub async fn followed(
    State(state): State<AppState>,
    user: User<scope::ReadFollows>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let page = state.service.followed_tags(user.id, params.page()?).await?;
    let items = Tag::list(&state.urls, &page.items);
    Ok(paging.respond(&page, items))
}

/// `GET /api/v1/featured_tags`: the caller's own.
pub async fn featured(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
) -> ApiResult<Json<Vec<FeaturedTag>>> {
    let (owner, tags) = state.service.featured_tags(Some(user.id), user.id).await?;
    Ok(Json(
        tags.iter()
            .map(|t| FeaturedTag::new(&state.urls, &owner.username, t))
            .collect(),
    ))
}

/// `GET /api/v1/accounts/:id/featured_tags`: anyone's, as public as the account.
pub async fn of_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<FeaturedTag>>> {
    let viewer = caller.viewer("read:accounts")?;
    let (owner, tags) = state.service.featured_tags(viewer, path_id(&id)?).await?;
    Ok(Json(
        tags.iter()
            .map(|t| FeaturedTag::new(&state.urls, &owner.username, t))
            .collect(),
    ))
}

/// `POST /api/v1/featured_tags` with `name`.
pub async fn feature(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    params: Params,
) -> ApiResult<Json<FeaturedTag>> {
    let (owner, tag) = state
        .service
        .feature_tag(user.id, params.str("name")?)
        .await?;
    Ok(Json(FeaturedTag::new(&state.urls, &owner.username, &tag)))
}

/// `DELETE /api/v1/featured_tags/:id`: an empty object; someone else's is 404.
pub async fn unfeature(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<entities::Empty>> {
    state.service.unfeature_tag(user.id, path_id(&id)?).await?;
    Ok(Json(entities::Empty {}))
}

/// `GET /api/v1/featured_tags/suggestions`: tags the caller used most lately.
pub async fn suggestions(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
) -> ApiResult<Json<Vec<Tag>>> {
    let tags = state.service.featured_tag_suggestions(user.id).await?;
    Ok(Json(Tag::list(&state.urls, &tags)))
}

// ---- api: `tags/:name/feature` and `unfeature` (issue 14) ----

/// `POST /api/v1/tags/:name/feature`: the Tag, `featuring: true`.
pub async fn feature_by_name(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(name): Path<String>,
) -> ApiResult<Json<Tag>> {
    let tag = state.service.feature_tag_named(user.id, &name).await?;
    Ok(Json(Tag::new(&state.urls, &tag)))
}

/// `POST /api/v1/tags/:name/unfeature`: the Tag, `featuring: false`.
pub async fn unfeature_by_name(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    Path(name): Path<String>,
) -> ApiResult<Json<Tag>> {
    let tag = state.service.unfeature_tag_named(user.id, &name).await?;
    Ok(Json(Tag::new(&state.urls, &tag)))
}
