//! Direct conversations: `GET /api/v1/conversations`, `POST …/:id/read`,
//! `DELETE …/:id`; and dismissing a follow suggestion.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;

use super::helpers::path_id;
use crate::auth::{scope, User};
use crate::entities::{Conversation, Empty};
use crate::error::ApiResult;
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

/// Newest first, paged by each conversation's newest status, with `Link`.
pub async fn index(
    State(state): State<AppState>,
    user: User<scope::ReadStatuses>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let page = state.service.conversations(user.id, params.page()?).await?;
    Ok(paging.each(&page, |c| Conversation::new(&state.urls, c)))
}

pub async fn read(
    State(state): State<AppState>,
    user: User<scope::WriteConversations>,
    Path(id): Path<String>,
) -> ApiResult<Json<Conversation>> {
    let view = state
        .service
        .read_conversation(user.id, path_id(&id)?)
        .await?;
    Ok(Json(Conversation::new(&state.urls, &view)))
}

/// An empty object; the conversation comes back with its next message.
pub async fn remove(
    State(state): State<AppState>,
    user: User<scope::WriteConversations>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .remove_conversation(user.id, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}

/// `DELETE /api/v1/suggestions/:account_id`: an empty object; remembered.
pub async fn dismiss_suggestion(
    State(state): State<AppState>,
    user: User<scope::Read>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .dismiss_suggestion(user.id, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}
