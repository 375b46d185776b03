//! /api/v1/polls: a poll as the caller sees it, and voting.

use axum::extract::{Path, State};
use axum::Json;

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::Poll;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Poll>> {
    let viewer = caller.viewer("read:statuses")?;
    let poll = state.service.poll(viewer, path_id(&id)?).await?;
    Ok(Json(Poll::new(&poll)))
}

/// `choices[]`: option indexes, from 0.
pub async fn vote(
    State(state): State<AppState>,
    user: User<scope::WriteStatuses>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Poll>> {
    let choices = params
        .list("choices")?
        .iter()
        .map(|c| {
            c.trim().parse::<u32>().map_err(|_| {
                ApiError::unprocessable("Validation failed: choices must be option indexes")
            })
        })
        .collect::<ApiResult<Vec<u32>>>()?;
    let poll = state.service.vote(user.id, path_id(&id)?, &choices).await?;
    Ok(Json(Poll::new(&poll)))
}
