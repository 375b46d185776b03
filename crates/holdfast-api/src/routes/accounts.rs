//! /api/v1/accounts: sign-up, profiles, the social graph.

use axum::extract::{Path, State};
use axum::Json;
use holdfast_service::accounts::ProfileUpdate;
use holdfast_service::oauth::SignUp;
use holdfast_store::{Id, ProfileImage};

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::entities::{Account, CredentialAccount, Preferences, Profile, Relationship, Token};
use crate::error::ApiResult;
use crate::params::{parse_id, Params};
use crate::streaming::ClientAddr;
use crate::AppState;

/// Sign-up, checked against the address blocks in force (by the client's
/// address as the listener resolved it).
pub async fn sign_up(
    State(state): State<AppState>,
    caller: Caller,
    ClientAddr(addr): ClientAddr,
    params: Params,
) -> ApiResult<Json<Token>> {
    let principal = caller.require("write:accounts")?;
    let (_, token) = state
        .service
        .sign_up_from(
            principal,
            SignUp {
                username: params.str("username")?.unwrap_or_default(),
                email: params.str("email")?.unwrap_or_default(),
                password: params.str("password")?.unwrap_or_default(),
                agreement: params.bool("agreement")?.unwrap_or(false),
                locale: params.str("locale")?,
            },
            Some(addr),
        )
        .await?;
    Ok(Json(Token::new(&token)))
}

/// `GET /api/v1/accounts?id[]=`: several accounts at once; unknown or malformed ids are skipped.
pub async fn index(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Vec<Account>>> {
    let viewer = caller.viewer("read:accounts")?;
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let accounts = state.service.accounts_by_ids(viewer, &ids).await?;
    Ok(Json(
        accounts
            .iter()
            .map(|a| Account::new(&state.urls, a))
            .collect(),
    ))
}

pub async fn verify_credentials(
    State(state): State<AppState>,
    user: User<scope::Profile>,
) -> ApiResult<Json<CredentialAccount>> {
    let me = user.id;
    let account = state.service.account(Some(me), me).await?;
    Ok(Json(CredentialAccount::new(&state.urls, &account)))
}

pub async fn update_credentials(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    params: Params,
) -> ApiResult<Json<CredentialAccount>> {
    let account = apply_profile_update(&state, user.id, &params).await?;
    Ok(Json(CredentialAccount::new(&state.urls, &account)))
}

/// The one way a profile changes, for `update_credentials` and
/// `PATCH /api/v1/profile` alike: the same fields, the same checks.
async fn apply_profile_update(
    state: &AppState,
    me: Id,
    params: &Params,
) -> ApiResult<holdfast_store::AccountRow> {
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
                forget(state, &stored).await;
                return Err(e.into());
            }
        }
    }
    let mut account = match state.service.update_profile(me, update).await {
        Ok(a) => a,
        Err(e) => {
            forget(state, &stored).await;
            return Err(e.into());
        }
    };
    for (which, key) in stored {
        account = state.service.use_profile_image(me, which, key).await?;
    }
    Ok(account)
}

// ---- api: `GET/PATCH /api/v1/profile` (issue 14) ----

/// `GET /api/v1/profile`: the caller's profile as typed (`profile` or `read:accounts`).
pub async fn profile(
    State(state): State<AppState>,
    user: User<scope::Profile>,
) -> ApiResult<Json<Profile>> {
    let account = state.service.account(Some(user.id), user.id).await?;
    Ok(Json(Profile::new(&state.urls, &account)))
}

/// `PATCH /api/v1/profile`: `update_credentials`' change, answered as the Profile.
pub async fn update_profile(
    State(state): State<AppState>,
    user: User<scope::WriteAccounts>,
    params: Params,
) -> ApiResult<Json<Profile>> {
    let account = apply_profile_update(&state, user.id, &params).await?;
    Ok(Json(Profile::new(&state.urls, &account)))
}

async fn forget(state: &AppState, stored: &[(ProfileImage, String)]) {
    let keys: Vec<String> = stored.iter().map(|(_, k)| k.clone()).collect();
    state.service.forget_media(&keys).await;
}

pub async fn preferences(
    State(state): State<AppState>,
    user: User<scope::ReadAccounts>,
) -> ApiResult<Json<Preferences>> {
    let me = user.id;
    let a = state.service.account(Some(me), me).await?;
    Ok(Json(Preferences::new(&a)))
}

pub async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> ApiResult<Json<Account>> {
    caller.viewer("read:accounts")?;
    let acct = params.required_str("acct")?;
    let account = state.service.lookup(&acct).await?;
    Ok(Json(Account::new(&state.urls, &account)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    let viewer = caller.viewer("read:accounts")?;
    let account = state.service.account(viewer, path_id(&id)?).await?;
    Ok(Json(Account::new(&state.urls, &account)))
}

pub async fn relationships(
    State(state): State<AppState>,
    user: User<scope::ReadFollows>,
    params: Params,
) -> ApiResult<Json<Vec<Relationship>>> {
    let me = user.id;
    // Unknown or malformed ids are skipped, as Mastodon does.
    let ids: Vec<Id> = params
        .list("id")?
        .iter()
        .filter_map(|s| parse_id(s))
        .collect();
    let rels = state.service.relationships(me, &ids).await?;
    Ok(Json(rels.iter().map(Relationship::new).collect()))
}

account_page_handler!(followers, followers);
account_page_handler!(following, following);

pub async fn follow(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .follow(
            me,
            path_id(&id)?,
            params.bool("reblogs")?,
            params.bool("notify")?,
            if params.has("languages") {
                Some(params.list("languages")?)
            } else {
                None
            },
        )
        .await?;
    Ok(Json(Relationship::new(&rel)))
}

pub async fn unfollow(
    State(state): State<AppState>,
    user: User<scope::WriteFollows>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    Ok(Json(Relationship::new(
        &state.service.unfollow(me, path_id(&id)?).await?,
    )))
}

pub async fn block(
    State(state): State<AppState>,
    user: User<scope::WriteBlocks>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    Ok(Json(Relationship::new(
        &state.service.block(me, path_id(&id)?).await?,
    )))
}

pub async fn unblock(
    State(state): State<AppState>,
    user: User<scope::WriteBlocks>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    Ok(Json(Relationship::new(
        &state.service.unblock(me, path_id(&id)?).await?,
    )))
}

pub async fn mute(
    State(state): State<AppState>,
    user: User<scope::WriteMutes>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    let rel = state
        .service
        .mute(
            me,
            path_id(&id)?,
            params.bool("notifications")?,
            params.u32("duration")?.map(u64::from),
        )
        .await?;
    Ok(Json(Relationship::new(&rel)))
}

pub async fn unmute(
    State(state): State<AppState>,
    user: User<scope::WriteMutes>,
    Path(id): Path<String>,
) -> ApiResult<Json<Relationship>> {
    let me = user.id;
    Ok(Json(Relationship::new(
        &state.service.unmute(me, path_id(&id)?).await?,
    )))
}
