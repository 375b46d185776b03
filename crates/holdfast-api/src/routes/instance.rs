//! /api/v1/instance and /api/v2/instance: what this server is and its limits.

use axum::extract::{Path, State};
use axum::Json;
use holdfast_config::time::iso8601;
use holdfast_config::{Registrations, HOLDFAST_VERSION, MASTODON_COMPAT_VERSION};
use serde_json::{json, Value};

use super::helpers::DESCRIPTION;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Clients read the leading Mastodon version to decide which API features exist.
pub fn version() -> String {
    format!("{MASTODON_COMPAT_VERSION} (compatible; holdfast {HOLDFAST_VERSION})")
}

/// What uploads may be: images only (no video or audio yet, so their limits are 0).
fn media_config(state: &AppState) -> Value {
    let l = state.service.limits();
    json!({
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
        "description_limit": l.media_description_max_chars,
        "image_size_limit": l.media_image_max_bytes,
        "image_matrix_limit": l.media_image_max_pixels,
        "video_size_limit": 0,
        "video_frame_rate_limit": 0,
        "video_matrix_limit": 0,
    })
}

fn statuses_config(state: &AppState) -> Value {
    let l = state.service.limits();
    json!({
        "max_characters": l.status_max_chars,
        "max_media_attachments": l.statuses_media_max,
        "characters_reserved_per_url": l.status_url_chars,
    })
}

/// Where the streaming API answers: the base URL with `ws`/`wss`, no path
/// (clients append `/api/v1/streaming`), as Mastodon advertises it.
fn streaming_url(svc: &holdfast_service::Service) -> String {
    let base = &*svc.base_url;
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    }
}

pub async fn v1(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let svc = &state.service;
    let (users, statuses) = svc.stats().await?;
    let reg = svc.config.registrations;
    Ok(Json(json!({
        "uri": svc.config.domain,
        "title": "holdfast",
        "short_description": DESCRIPTION,
        "description": DESCRIPTION,
        "email": svc.config.contact_email,
        "version": version(),
        "urls": {"streaming_api": streaming_url(svc)},
        "stats": {"user_count": users, "status_count": statuses, "domain_count": 0},
        "thumbnail": null,
        "languages": ["en"],
        "registrations": reg != Registrations::Closed,
        "approval_required": reg == Registrations::Approval,
        "invites_enabled": false,
        "configuration": {
            "accounts": {"max_featured_tags": 0},
            "statuses": statuses_config(&state),
            "media_attachments": media_config(&state),
            "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        },
        "contact_account": null,
        "rules": rules(&state),
    })))
}

pub async fn v2(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let svc = &state.service;
    let (users, _) = svc.stats().await?;
    let reg = svc.config.registrations;
    Ok(Json(json!({
        "domain": svc.config.domain,
        "title": "holdfast",
        "version": version(),
        "source_url": "https://github.com/holdfast-social/holdfast",
        "description": DESCRIPTION,
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": format!("{}/avatars/original/missing.png", svc.base_url)},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": streaming_url(svc)},
            "vapid": {"public_key": svc.vapid_public_key().await?},
            "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
            "statuses": statuses_config(&state),
            "media_attachments": media_config(&state),
            "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
            "translation": {"enabled": false},
        },
        "registrations": {"enabled": reg != Registrations::Closed, "approval_required": reg == Registrations::Approval, "message": null},
        "api_versions": {"mastodon": 2},
        "contact": {"email": svc.config.contact_email, "account": null},
        "rules": rules(&state),
    })))
}

/// The operator's rules (`[instance] rules`), ids their positions from 1.
fn rules(state: &AppState) -> Value {
    let texts = &state.service.config.instance;
    Value::Array(
        texts
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| json!({"id": (i + 1).to_string(), "text": r.text, "hint": r.hint}))
            .collect(),
    )
}

pub async fn rules_list(State(state): State<AppState>) -> Json<Value> {
    Json(rules(&state))
}

/// An operator's plain text as HTML: paragraphs at blank lines, line breaks kept.
fn text_html(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(holdfast_service::text::escape).collect();
            let paragraph_html = lines.join("<br>");
            format!("<p>{paragraph_html}</p>")
        })
        .collect()
}

/// ExtendedDescription; `content` is "" when the operator wrote none (Mastodon's empty form).
pub async fn extended_description(State(state): State<AppState>) -> Json<Value> {
    let texts = &state.service.config.instance;
    Json(json!({
        "updated_at": iso8601(texts.loaded_at_ms),
        "content": text_html(&texts.extended_description),
    }))
}

/// PrivacyPolicy; `content` is "" when the operator wrote none.
pub async fn privacy_policy(State(state): State<AppState>) -> Json<Value> {
    let texts = &state.service.config.instance;
    Json(json!({
        "updated_at": iso8601(texts.loaded_at_ms),
        "content": text_html(&texts.privacy_policy),
    }))
}

/// TermsOfService: one version (holdfast keeps no history of them); 404 while none is configured.
pub async fn terms_of_service(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    terms(&state, None)
}

/// The terms in effect from `date`: only the configured version's date is known.
pub async fn terms_of_service_on(
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> ApiResult<Json<Value>> {
    terms(&state, Some(&date))
}

fn terms(state: &AppState, date: Option<&str>) -> ApiResult<Json<Value>> {
    let texts = &state.service.config.instance;
    let effective_date = texts.terms_of_service_effective_date.trim();
    if texts.terms_of_service.trim().is_empty() || date.is_some_and(|d| d != effective_date) {
        return Err(ApiError::not_found());
    }
    // ISO dates compare as strings; today's is the first 10 characters of an ISO time.
    let today = iso8601(holdfast_config::time::now_ms());
    Ok(Json(json!({
        "effective_date": effective_date,
        "effective": effective_date <= &today[..10],
        "content": text_html(&texts.terms_of_service),
        "succeeded_by": null,
    })))
}

/// No translation service: no language pairs (Mastodon's answer when translation is off).
pub async fn translation_languages() -> Json<Value> {
    Json(json!({}))
}

pub async fn empty_list() -> Json<Value> {
    Json(json!([]))
}
