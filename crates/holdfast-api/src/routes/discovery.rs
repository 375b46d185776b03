//! Finding people: `/api/v1/directory`, `/api/v1|v2/suggestions`,
//! `/api/v1/accounts/familiar_followers`, `/api/v1/accounts/search`.

use axum::extract::State;
use axum::Json;
use holdfast_service::discovery::SuggestedAccount;
use holdfast_store::{AccountRow, Id, SuggestionSource};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::entities;
use crate::error::ApiResult;
use crate::params::{parse_id, Params};
use crate::AppState;

fn accounts_json(state: &AppState, accounts: &[AccountRow]) -> Json<Value> {
    Json(Value::Array(
        accounts
            .iter()
            .map(|a| entities::account(&state.service, a))
            .collect(),
    ))
}

pub async fn directory(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
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
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:accounts")?;
    let found = state.service.suggestions(me, params.u32("limit")?).await?;
    let accounts: Vec<AccountRow> = found.into_iter().map(|s| s.account).collect();
    Ok(accounts_json(&state, &accounts))
}

/// Mastodon's Suggestion entity: `source` (deprecated) and `sources`.
fn suggestion_json(state: &AppState, s: &SuggestedAccount) -> Value {
    let (source, sources) = match s.source {
        SuggestionSource::FriendsOfFriends => ("past_interactions", "friends_of_friends"),
        SuggestionSource::MostFollowed => ("global", "most_followed"),
    };
    json!({
        "source": source,
        "sources": [sources],
        "account": entities::account(&state.service, &s.account),
    })
}

pub async fn suggestions_v2(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:accounts")?;
    let found = state.service.suggestions(me, params.u32("limit")?).await?;
    Ok(Json(Value::Array(
        found.iter().map(|s| suggestion_json(&state, s)).collect(),
    )))
}

pub async fn familiar_followers(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:follows")?;
    // Unknown or malformed ids are skipped, as relationships does.
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let found = state.service.familiar_followers(me, &ids).await?;
    Ok(Json(Value::Array(
        found
            .iter()
            .map(|(id, accounts)| {
                json!({
                    "id": id.to_string(),
                    "accounts": accounts
                        .iter()
                        .map(|a| entities::account(&state.service, a))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )))
}

pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
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
