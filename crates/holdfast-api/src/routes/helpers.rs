//! What several handlers share. Handlers import from here, never from the
//! router file (`routes/mod.rs`), which only lists routes.

/// A paged list of accounts about one account or status (followers,
/// favourited_by, …): same scope, same paging, one service call apart.
macro_rules! account_page_handler {
    ($name:ident, $op:ident) => {
        pub async fn $name(
            axum::extract::State(state): axum::extract::State<crate::AppState>,
            caller: crate::auth::Caller,
            axum::extract::Path(id): axum::extract::Path<String>,
            paging: crate::paging::Paging,
            params: crate::params::Params,
        ) -> crate::error::ApiResult<axum::response::Response> {
            let viewer = caller.viewer("read:accounts")?;
            let page = state
                .service
                .$op(viewer, super::helpers::path_id(&id)?, params.page()?)
                .await?;
            Ok(paging.each(&page, |a| crate::entities::Account::new(&state.urls, a)))
        }
    };
}

use holdfast_store::Id;

use crate::error::{ApiError, ApiResult};

/// What this server says about itself (instance entities, NodeInfo).
pub const DESCRIPTION: &str = "A holdfast server: Mastodon-compatible microblogging that stays up.";

/// Ids in paths: anything that is not an id names nothing (404).
pub fn path_id(raw: &str) -> ApiResult<Id> {
    crate::params::parse_id(raw).ok_or_else(ApiError::not_found)
}
