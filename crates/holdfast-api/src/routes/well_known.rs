//! How other software finds this server and its people: WebFinger,
//! host-meta and NodeInfo.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_config::{Registrations, HOLDFAST_VERSION};
use serde_json::{json, Value};

use super::helpers::DESCRIPTION;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

const NODEINFO_SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/2.0";

fn typed(content_type: &'static str, body: String) -> Response {
    ([(CONTENT_TYPE, content_type)], body).into_response()
}

/// The username a WebFinger `resource` names on this server: `acct:name@domain`
/// (or without `acct:`), or the account's URL (`/@name`, `/users/name`).
/// None for a resource that is not one of ours.
fn webfinger_username<'r>(state: &AppState, resource: &'r str) -> Option<&'r str> {
    let svc = &state.service;
    if let Some(path) = resource.strip_prefix(&*svc.base_url) {
        let name = path
            .strip_prefix("/@")
            .or_else(|| path.strip_prefix("/users/"))?;
        return Some(name);
    }
    let acct = resource.strip_prefix("acct:").unwrap_or(resource);
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (name, domain) = acct.split_once('@')?;
    domain
        .eq_ignore_ascii_case(&svc.config.domain)
        .then_some(name)
}

/// `GET /.well-known/webfinger?resource=`: 400 without a resource, 404 for
/// anyone not a local account (holdfast does not federate, so no `self` link).
pub async fn webfinger(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let resource = params.str("resource")?.unwrap_or_default();
    let resource = resource.trim();
    if resource.is_empty() {
        return Err(ApiError::bad_request("resource is required"));
    }
    let username = webfinger_username(&state, resource).ok_or_else(ApiError::not_found)?;
    if username.is_empty() || username.contains(['/', '@', '?', '#']) {
        return Err(ApiError::not_found());
    }
    let account = state.service.lookup(username).await?;
    let url = state.urls.account(&account.username);
    let body = json!({
        "subject": format!("acct:{}@{}", account.username, state.service.config.domain),
        "aliases": [url],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": url},
        ],
    });
    Ok(typed(
        "application/jrd+json; charset=utf-8",
        body.to_string(),
    ))
}

/// `GET /.well-known/host-meta`: where WebFinger answers, as XRD.
pub async fn host_meta(State(state): State<AppState>) -> Response {
    let base_html = holdfast_service::text::escape(&state.service.base_url);
    typed(
        "application/xrd+xml; charset=utf-8",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
             <Link rel=\"lrdd\" template=\"{base_html}/.well-known/webfinger?resource={{uri}}\"/>\n\
             </XRD>\n"
        ),
    )
}

/// `GET /.well-known/nodeinfo`: where the NodeInfo document is.
pub async fn nodeinfo_index(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "links": [{"rel": NODEINFO_SCHEMA, "href": format!("{}/nodeinfo/2.0", state.service.base_url)}],
    }))
}

/// `GET /nodeinfo/2.0` with real counts. `protocols` is empty: holdfast speaks
/// no federation protocol (a README "Known difference").
pub async fn nodeinfo(State(state): State<AppState>) -> ApiResult<Response> {
    let svc = &state.service;
    let usage = svc.usage().await?;
    let body = json!({
        "version": "2.0",
        "software": {"name": "holdfast", "version": HOLDFAST_VERSION},
        "protocols": [],
        "services": {"outbound": [], "inbound": []},
        "usage": {
            "users": {
                "total": usage.users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "openRegistrations": svc.config.registrations == Registrations::Open,
        "metadata": {"nodeName": "holdfast", "nodeDescription": DESCRIPTION},
    });
    Ok(typed(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"",
        body.to_string(),
    ))
}
