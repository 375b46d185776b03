//! /api/v1/instance and /api/v2/instance: what this server is and its limits.

use axum::extract::{Path, State};
use axum::Json;
use holdfast_config::{HOLDFAST_VERSION, MASTODON_COMPAT_VERSION};
use holdfast_store::RuleRow;
use serde_json::{json, Value};

use super::helpers::DESCRIPTION;
use crate::entities::{
    ExtendedDescription, Instance, InstanceFacts, PrivacyPolicy, Rule, TermsOfService, V1Instance,
};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Clients read the leading Mastodon version to decide which API features exist.
pub fn version() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; holdfast {HOLDFAST_VERSION})")
}

/// What either version of the Instance entity is made from; `vapid_public_key`
/// is shown by v2 only.
fn facts<'a>(
    state: &'a AppState,
    users: i64,
    statuses: i64,
    vapid_public_key: String,
    rules: &'a [RuleRow],
) -> InstanceFacts<'a> {
    let svc = &state.service;
    InstanceFacts {
        domain: &svc.config.domain,
        registrations: svc.config.registrations,
        contact_email: &svc.config.contact_email,
        limits: svc.limits(),
        urls: &state.urls,
        version: version(),
        description: DESCRIPTION,
        users,
        statuses,
        vapid_public_key,
        rules,
    }
}

pub async fn v1(State(state): State<AppState>) -> ApiResult<Json<V1Instance>> {
    let (users, statuses) = state.service.stats().await?;
    let rules = state.service.instance_rules().await?;
    Ok(Json(V1Instance::new(&facts(
        &state,
        users,
        statuses,
        String::new(),
        &rules,
    ))))
}

pub async fn v2(State(state): State<AppState>) -> ApiResult<Json<Instance>> {
    let (users, statuses) = state.service.stats().await?;
    let vapid_public_key = state.service.vapid_public_key().await?;
    let rules = state.service.instance_rules().await?;
    Ok(Json(Instance::new(&facts(
        &state,
        users,
        statuses,
        vapid_public_key,
        &rules,
    ))))
}

pub async fn rules_list(State(state): State<AppState>) -> ApiResult<Json<Vec<Rule>>> {
    Ok(Json(Rule::all(&state.service.instance_rules().await?)))
}

pub async fn extended_description(State(state): State<AppState>) -> Json<ExtendedDescription> {
    Json(ExtendedDescription::new(&state.service.config.instance))
}

pub async fn privacy_policy(State(state): State<AppState>) -> Json<PrivacyPolicy> {
    Json(PrivacyPolicy::new(&state.service.config.instance))
}

/// TermsOfService: one version (holdfast keeps no history of them); 404 while none is configured.
pub async fn terms_of_service(State(state): State<AppState>) -> ApiResult<Json<TermsOfService>> {
    terms(&state, None)
}

/// The terms in effect from `date`: only the configured version's date is known.
pub async fn terms_of_service_on(
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> ApiResult<Json<TermsOfService>> {
    terms(&state, Some(&date))
}

fn terms(state: &AppState, date: Option<&str>) -> ApiResult<Json<TermsOfService>> {
    let texts = &state.service.config.instance;
    let effective_date = texts.terms_of_service_effective_date.trim();
    if texts.terms_of_service.trim().is_empty() || date.is_some_and(|d| d != effective_date) {
        return Err(ApiError::not_found());
    }
    Ok(Json(TermsOfService::new(
        texts,
        holdfast_config::time::now_ms(),
    )))
}

/// No translation service: no language pairs (Mastodon's answer when translation is off).
pub async fn translation_languages() -> Json<Value> {
    Json(json!({}))
}

pub async fn empty_list() -> Json<Value> {
    Json(json!([]))
}
