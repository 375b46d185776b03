//! /api/v1/accounts: sign-up, profiles, the social graph.

use axum::extract::{Path, State};
use axum::Json;
use holdfast_service::accounts::ProfileUpdate;
use holdfast_service::oauth::SignUp;
use holdfast_store::{Id, ProfileImage};
use serde_json::{json, Value};

use super::helpers::path_id;
use crate::auth::Caller;
use crate::entities;
use crate::error::{ApiError, ApiResult};
use crate::params::{parse_id, Params};
use crate::AppState;

pub async fn sign_up(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let principal = caller.require("write:accounts")?;
    let (_, token) = state
        .service
        .sign_up(
            principal,
            SignUp {
                username: params.str("username")?.unwrap_or_default(),
                email: params.str("email")?.unwrap_or_default(),
                password: params.str("password")?.unwrap_or_default(),
                agreement: params.bool("agreement")?.unwrap_or(false),
                locale: params.str("locale")?,
            },
        )
        .await?;
    Ok(Json(super::helpers::token_json(&token)))
}

/// `GET /api/v1/accounts?id[]=`: several accounts at once; unknown or malformed ids are skipped.
pub async fn index(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:accounts")?;
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let accounts = state.service.accounts_by_ids(viewer, &ids).await?;
    Ok(Json(Value::Array(
        accounts
            .iter()
            .map(|a| entities::account(&state.service, a))
            .collect(),
    )))
}

pub async fn verify_credentials(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let p = caller.0.as_ref().ok_or_else(ApiError::unauthorized)?;
    if !(p.scopes.allows("read:accounts") || p.scopes.allows("profile")) {
        return Err(ApiError::outside_scopes());
    }
    let me = caller.user(if p.scopes.allows("read:accounts") {
        "read:accounts"
    } else {
        "profile"
    })?;
    let account = state.service.account(Some(me), me).await?;
    Ok(Json(entities::credential_account(&state.service, &account)))
}

pub async fn update_credentials(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:accounts")?;
    let source = params.object("source")?.unwrap_or_default();
    let update = ProfileUpdate {
        display_name: params.str("display_name")?,
        note: params.str("note")?,
        locked: params.bool("locked")?,
        bot: params.bool("bot")?,
        discoverable: params.bool("discoverable")?,
        privacy: source.str("privacy")?,
        sensitive: source.bool("sensitive")?,
        language: source.str("language")?,
    };
    // Pictures first: decoded and stored but not yet shown, so a bad picture
    // (422) or a bad field changes nothing visible.
    let mut stored: Vec<(ProfileImage, String)> = Vec::new();
    for (field, which) in [
        ("avatar", ProfileImage::Avatar),
        ("header", ProfileImage::Header),
    ] {
        let Some(upload) = params.file(field) else {
            continue;
        };
        match state
            .service
            .store_profile_image(which, upload.bytes.clone())
            .await
        {
            Ok(key) => stored.push((which, key)),
            Err(e) => {
                forget(&state, &stored).await;
                return Err(e.into());
            }
        }
    }
    let mut account = match state.service.update_profile(me, update).await {
        Ok(a) => a,
        Err(e) => {
            forget(&state, &stored).await;
            return Err(e.into());
        }
    };
    for (which, key) in stored {
        account = state.service.use_profile_image(me, which, key).await?;
    }
    Ok(Json(entities::credential_account(&state.service, &account)))
}

async fn forget(state: &AppState, stored: &[(ProfileImage, String)]) {
    let keys: Vec<String> = stored.iter().map(|(_, k)| k.clone()).collect();
    state.service.forget_media(&keys).await;
}

pub async fn preferences(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let me = caller.user("read:accounts")?;
    let a = state.service.account(Some(me), me).await?;
    Ok(Json(json!({
        "posting:default:visibility": a.default_visibility.as_str(),
        "posting:default:sensitive": a.default_sensitive,
        "posting:default:language": a.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    caller.viewer("read:accounts")?;
    let acct = params.required_str("acct")?;
    let account = state.service.lookup(&acct).await?;
    Ok(Json(entities::account(&state.service, &account)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:accounts")?;
    let account = state.service.account(viewer, path_id(&id)?).await?;
    Ok(Json(entities::account(&state.service, &account)))
}

pub async fn relationships(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("read:follows")?;
    // Unknown or malformed ids are skipped, as Mastodon does.
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let rels = state.service.relationships(me, &ids).await?;
    Ok(Json(Value::Array(
        rels.iter().map(entities::relationship).collect(),
    )))
}

account_page_handler!(followers, followers);
account_page_handler!(following, following);

pub async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:follows")?;
    let rel = state
        .service
        .follow(
            me,
            path_id(&id)?,
            params.bool("reblogs")?,
            params.bool("notify")?,
        )
        .await?;
    Ok(Json(entities::relationship(&rel)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:follows")?;
    Ok(Json(entities::relationship(
        &state.service.unfollow(me, path_id(&id)?).await?,
    )))
}

pub async fn block(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:blocks")?;
    Ok(Json(entities::relationship(
        &state.service.block(me, path_id(&id)?).await?,
    )))
}

pub async fn unblock(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:blocks")?;
    Ok(Json(entities::relationship(
        &state.service.unblock(me, path_id(&id)?).await?,
    )))
}

pub async fn mute(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:mutes")?;
    let rel = state
        .service
        .mute(
            me,
            path_id(&id)?,
            params.bool("notifications")?,
            params.u32("duration")?.map(u64::from),
        )
        .await?;
    Ok(Json(entities::relationship(&rel)))
}

pub async fn unmute(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let me = caller.user("write:mutes")?;
    Ok(Json(entities::relationship(
        &state.service.unmute(me, path_id(&id)?).await?,
    )))
}
