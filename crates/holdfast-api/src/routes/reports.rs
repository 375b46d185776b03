//! `POST /api/v1/reports`: a user reports an account (and some of its
//! statuses, and the rules they break) to the moderators.

use axum::extract::State;
use axum::Json;
use holdfast_service::moderation::ReportInput;

use crate::auth::{scope, User};
use crate::entities::Report;
use crate::error::{ApiError, ApiResult};
use crate::params::{parse_id, Params};
use crate::AppState;

pub async fn create(
    State(state): State<AppState>,
    user: User<scope::WriteReports>,
    params: Params,
) -> ApiResult<Json<Report>> {
    let account_id = params
        .id("account_id")?
        .ok_or_else(|| ApiError::unprocessable("account_id is required"))?;
    // An id that is not one names no status of the account: the same 422.
    let status_ids = params
        .list("status_ids")?
        .iter()
        .map(|s| {
            parse_id(s).ok_or_else(|| {
                ApiError::unprocessable(
                    "Validation failed: Statuses must be statuses of the reported account",
                )
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let input = ReportInput {
        account_id,
        status_ids,
        comment: params.str("comment")?.unwrap_or_default(),
        forward: params.bool("forward")?.unwrap_or(false),
        category: params.str("category")?,
        rule_ids: params.list("rule_ids")?,
    };
    let me = user.id;
    let report = state.service.file_report(me, input).await?;
    let target = state
        .service
        .account(Some(me), report.target_account_id)
        .await?;
    Ok(Json(Report::new(&state.urls, &report, &target)))
}
