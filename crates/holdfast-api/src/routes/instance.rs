//! /api/v1/instance and /api/v2/instance: what this server is and its limits.

use axum::extract::State;
use axum::Json;
use holdfast_config::{HOLDFAST_VERSION, MASTODON_COMPAT_VERSION};

use crate::entities::{Instance, InstanceFacts, V1Instance};
use crate::error::ApiResult;
use crate::AppState;

/// Clients read the leading Mastodon version to decide which API features exist.
pub fn version() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; holdfast {HOLDFAST_VERSION})")
}

const DESCRIPTION: &str = "A holdfast server: Mastodon-compatible microblogging that stays up.";

async fn facts(state: &AppState) -> ApiResult<InstanceFacts<'_>> {
    let (users, statuses) = state.service.stats().await?;
    let config = &state.service.config;
    Ok(InstanceFacts {
        domain: &config.domain,
        registrations: config.registrations,
        contact_email: &config.contact_email,
        limits: &config.limits,
        urls: &state.urls,
        version: version(),
        description: DESCRIPTION,
        users,
        statuses,
        vapid_public_key: state.service.vapid_public_key().await?,
    })
}

pub async fn v1(State(state): State<AppState>) -> ApiResult<Json<V1Instance>> {
    Ok(Json(V1Instance::new(&facts(&state).await?)))
}

pub async fn v2(State(state): State<AppState>) -> ApiResult<Json<Instance>> {
    Ok(Json(Instance::new(&facts(&state).await?)))
}

/// Lists holdfast has nothing in yet (peers, rules, custom emojis, …).
pub async fn empty_list() -> Json<[(); 0]> {
    Json([])
}
