//! Documented endpoints whose answer is fixed, or empty because holdfast
//! does not have the feature (listed in the README's known differences):
//! Mastodon's JSON health check, identity proofs (gone from Mastodon since
//! 3.5), annual reports, async refreshes and the trending-link timeline.
//! An app that calls them gets the documented empty form, never a 404 for
//! a route that exists in Mastodon.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::helpers::path_id;
use crate::auth::{scope, Caller, User};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `GET /health`: Mastodon's JSON health check (the process answers).
pub async fn health() -> Json<Value> {
    Json(json!({"status": "UP"}))
}

/// `GET /api/v1/accounts/:id/identity_proofs`: always empty since Mastodon 3.5.
pub async fn identity_proofs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let viewer = caller.viewer("read:accounts")?;
    state.service.account(viewer, path_id(&id)?).await?;
    Ok(Json(json!([])))
}

/// `GET /api/v1/annual_reports`: holdfast makes no annual reports.
pub async fn annual_reports(_user: User<scope::ReadAccounts>) -> Json<Value> {
    Json(json!({"annual_reports": [], "accounts": [], "statuses": []}))
}

/// `GET /api/v1/annual_reports/:year` and `POST …/read`: there is no report.
pub async fn annual_report(
    _user: User<scope::ReadAccounts>,
    Path(_year): Path<String>,
) -> ApiError {
    ApiError::not_found()
}

/// `GET /api/v1/annual_reports/:year/state`: no account is eligible.
pub async fn annual_report_state(
    _user: User<scope::ReadAccounts>,
    Path(_year): Path<String>,
) -> Json<Value> {
    Json(json!({"state": "ineligible"}))
}

/// `POST /api/v1/annual_reports/:year/generate`: 200 means "already
/// generated or ineligible"; here always the latter.
pub async fn generate_annual_report(
    _user: User<scope::WriteAccounts>,
    Path(_year): Path<String>,
) -> Json<Value> {
    Json(json!({}))
}

/// `POST /api/v1/annual_reports/:year/read`: there is no report to mark.
pub async fn read_annual_report(
    _user: User<scope::WriteAccounts>,
    Path(_year): Path<String>,
) -> ApiError {
    ApiError::not_found()
}

/// `GET /api/v1_alpha/async_refreshes/:id`: holdfast starts no background
/// refreshes, so no id names one.
pub async fn async_refresh(_user: User<scope::Read>, Path(_id): Path<String>) -> ApiError {
    ApiError::not_found()
}

/// `GET /api/v1/timelines/link?url=`: statuses linking a trending article;
/// holdfast computes no link trends (`trends/links` is empty), so no URL is
/// one, which Mastodon answers with 404.
pub async fn link_timeline(caller: Caller) -> ApiResult<ApiError> {
    caller.viewer("read:statuses")?;
    Ok(ApiError::not_found())
}
