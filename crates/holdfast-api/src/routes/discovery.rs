//! Finding people: `/api/v1/directory`, `/api/v1|v2/suggestions`,
//! `/api/v1/accounts/familiar_followers`, `/api/v1/accounts/search`.

use axum::extract::State;
use axum::Json;
use holdfast_store::{AccountRow, Id};

use crate::auth::{scope, Caller, User};
use crate::entities;
use crate::error::ApiResult;
use crate::params::{parse_id, Params};
use crate::AppState;

fn accounts_json(state: &AppState, accounts: &[AccountRow]) -> Json<Vec<entities::Account>> {
    Json(
        accounts
            .iter()
            .map(|a| entities::Account::new(&state.urls, a))
            .collect(),
    )
}

pub async fn directory(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<entities::Account>>> {
    caller.viewer("read:accounts")?;
    let order = params.str("order")?;
    let accounts = state
        .service
        .directory(
            order.as_deref(),
            params.u32("limit")?,
            params.u32("offset")?,
        )
        .await?;
    Ok(accounts_json(&state, &accounts))
}

pub async fn suggestions_v1(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
    params: Params,
) -> ApiResult<Json<Vec<entities::Account>>> {
    let me = user.id;
    let found = state.service.suggestions(me, params.u32("limit")?).await?;
    let accounts: Vec<AccountRow> = found.into_iter().map(|s| s.account).collect();
    Ok(accounts_json(&state, &accounts))
}

pub async fn suggestions_v2(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
    params: Params,
) -> ApiResult<Json<Vec<entities::Suggestion>>> {
    let me = user.id;
    let found = state.service.suggestions(me, params.u32("limit")?).await?;
    Ok(Json(
        found
            .iter()
            .map(|s| entities::Suggestion::new(&state.urls, s))
            .collect(),
    ))
}

pub async fn familiar_followers(
    State(state): State<AppState>,
    user: User<scope::ReadFollows>,
    params: Params,
) -> ApiResult<Json<Vec<entities::FamiliarFollowers>>> {
    let me = user.id;
    // Unknown or malformed ids are skipped, as relationships does.
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let found = state.service.familiar_followers(me, &ids).await?;
    Ok(Json(
        found
            .iter()
            .map(|(id, accounts)| entities::FamiliarFollowers::new(&state.urls, *id, accounts))
            .collect(),
    ))
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<entities::Account>>> {
    let viewer = caller.viewer("read:accounts")?;
    let q = params.required_str("q")?;
    let accounts = state
        .service
        .search_accounts(
            viewer,
            &q,
            params.u32("limit")?,
            params.u32("offset")?,
            params.bool("following")?.unwrap_or(false),
        )
        .await?;
    Ok(accounts_json(&state, &accounts))
}
