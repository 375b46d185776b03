//! What is trending here, computed locally from recent public statuses.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::entities;
use crate::error::ApiResult;
use crate::params::Params;
use crate::AppState;

/// `GET /api/v1/trends/tags`: tags of recent public statuses, most authors first.
pub async fn trending_tags(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<entities::Tag>>> {
    let viewer = caller.viewer("read")?;
    let tags = state
        .service
        .trending_tags(params.limit("limit"), params.u32("offset")?)
        .await?;
    let tags = state.service.tag_views(viewer, tags).await?;
    Ok(Json(entities::Tag::list(&state.urls, &tags)))
}

/// `GET /api/v1/trends/statuses`: recent public statuses, most reblogged and favourited first.
pub async fn trending_statuses(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<entities::Status>>> {
    let viewer = caller.viewer("read:statuses")?;
    let statuses = state
        .service
        .trending_statuses(viewer, params.limit("limit"), params.u32("offset")?)
        .await?;
    Ok(Json(
        statuses
            .iter()
            .map(|s| entities::Status::new(&state.urls, s))
            .collect(),
    ))
}

/// `GET /api/v1/trends/links`: always empty, holdfast makes no link previews.
pub async fn trending_links(caller: Caller, params: Params) -> ApiResult<Json<Value>> {
    caller.viewer("read")?;
    // Checked like the other trends, so a bad offset is a 400 here too.
    params.u32("offset")?;
    Ok(Json(json!([])))
}
