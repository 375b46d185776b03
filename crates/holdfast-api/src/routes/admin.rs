//! The admin API moderation apps use (`/api/v1/admin/...`): accounts,
//! reports, domain blocks and address blocks. Each route needs its `admin:`
//! scope (403), and the service refuses anyone below the role it needs (403:
//! moderators for accounts and reports, admins for blocks).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use holdfast_service::moderation::{AccountAction, Actor};
use holdfast_service::PageOf;
use holdfast_store::{
    AccountChange, AccountState, AdminAccountFilter, BlockInput, BlockKind, BlockRow,
    DomainBlockInput, IpBlockInput, ReportFilter,
};

use super::helpers::path_id;
use crate::auth::{scope, Scope, User};
use crate::entities::{AdminAccount, AdminBlock, AdminReport, Empty, Urls};
use crate::error::{ApiError, ApiResult};
use crate::paging::Paging;
use crate::params::Params;
use crate::AppState;

fn actor<S>(user: &User<S>) -> Actor {
    Actor::Account(user.id)
}

fn accounts_page(
    urls: &Urls,
    paging: &Paging,
    page: &PageOf<holdfast_store::AdminAccountRow>,
) -> Response {
    paging.each(page, |a| AdminAccount::new(urls, a))
}

/// The filters both list versions share. `None`: the filters ask for remote
/// accounts (or another domain), of which holdfast has none.
fn account_filter(params: &Params, state: &AppState) -> ApiResult<Option<AdminAccountFilter>> {
    if let Some(domain) = params.str("by_domain")?.filter(|d| !d.is_empty()) {
        if !domain.eq_ignore_ascii_case(&state.service.config.domain) {
            return Ok(None);
        }
    }
    Ok(Some(AdminAccountFilter {
        state: None,
        staff: false,
        username: params.str("username")?.filter(|s| !s.is_empty()),
        display_name: params.str("display_name")?.filter(|s| !s.is_empty()),
        email: params.str("email")?.filter(|s| !s.is_empty()),
        ip: params.str("ip")?.filter(|s| !s.is_empty()),
    }))
}

fn empty_page() -> PageOf<holdfast_store::AdminAccountRow> {
    PageOf {
        items: Vec::new(),
        next_max_id: None,
        prev_min_id: None,
    }
}

/// `GET /api/v1/admin/accounts` (v1: one boolean per state).
pub async fn accounts_v1(
    State(state): State<AppState>,
    user: User<scope::AdminReadAccounts>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let Some(mut filter) = account_filter(&params, &state)? else {
        return Ok(accounts_page(&state.urls, &paging, &empty_page()));
    };
    if params.bool("remote")?.unwrap_or(false) {
        return Ok(accounts_page(&state.urls, &paging, &empty_page()));
    }
    for (key, s) in [
        ("active", AccountState::Active),
        ("pending", AccountState::Pending),
        ("disabled", AccountState::Disabled),
        ("silenced", AccountState::Silenced),
        ("suspended", AccountState::Suspended),
    ] {
        if params.bool(key)?.unwrap_or(false) {
            filter.state = Some(s);
        }
    }
    filter.staff = params.bool("staff")?.unwrap_or(false);
    let page = state
        .service
        .admin_accounts(actor(&user), filter, params.page()?)
        .await?;
    Ok(accounts_page(&state.urls, &paging, &page))
}

/// `GET /api/v2/admin/accounts` (v2: `origin`, `status`, `permissions`).
pub async fn accounts_v2(
    State(state): State<AppState>,
    user: User<scope::AdminReadAccounts>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let Some(mut filter) = account_filter(&params, &state)? else {
        return Ok(accounts_page(&state.urls, &paging, &empty_page()));
    };
    match params.str("origin")?.as_deref() {
        None | Some("") | Some("local") => {}
        Some("remote") => return Ok(accounts_page(&state.urls, &paging, &empty_page())),
        Some(_) => return Err(ApiError::unprocessable("origin must be local or remote")),
    }
    filter.state = match params.str("status")?.as_deref() {
        None | Some("") => None,
        Some("active") => Some(AccountState::Active),
        Some("pending") => Some(AccountState::Pending),
        Some("disabled") => Some(AccountState::Disabled),
        Some("silenced") => Some(AccountState::Silenced),
        Some("suspended") => Some(AccountState::Suspended),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "status must be active, pending, disabled, silenced or suspended",
            ))
        }
    };
    match params.str("permissions")?.as_deref() {
        None | Some("") => {}
        Some("staff") => filter.staff = true,
        Some(_) => return Err(ApiError::unprocessable("permissions must be staff")),
    }
    let page = state
        .service
        .admin_accounts(actor(&user), filter, params.page()?)
        .await?;
    Ok(accounts_page(&state.urls, &paging, &page))
}

pub async fn account(
    State(state): State<AppState>,
    user: User<scope::AdminReadAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminAccount>> {
    let a = state
        .service
        .admin_account(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminAccount::new(&state.urls, &a)))
}

/// `POST /api/v1/admin/accounts/:id/action`: `type` is none, sensitive,
/// disable, silence or suspend; `report_id` resolves that report too.
pub async fn action(
    State(state): State<AppState>,
    user: User<scope::AdminWriteAccounts>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Empty>> {
    let id = path_id(&id)?;
    let kind = params.str("type")?.unwrap_or_else(|| "none".to_owned());
    let action = AccountAction::parse(&kind).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "type must be none, sensitive, disable, silence or suspend, not {kind}"
        ))
    })?;
    let report_id = params.id("report_id")?;
    let text = params.str("text")?.unwrap_or_default();
    state
        .service
        .act_on_account(actor(&user), id, action, report_id, &text)
        .await?;
    Ok(Json(Empty {}))
}

async fn change(
    state: &AppState,
    actor: Actor,
    id: &str,
    change: AccountChange,
) -> ApiResult<Json<AdminAccount>> {
    let a = state
        .service
        .change_account(actor, path_id(id)?, change)
        .await?;
    Ok(Json(AdminAccount::new(&state.urls, &a)))
}

macro_rules! account_change_handler {
    ($name:ident, $change:expr) => {
        pub async fn $name(
            State(state): State<AppState>,
            user: User<scope::AdminWriteAccounts>,
            Path(id): Path<String>,
        ) -> ApiResult<Json<AdminAccount>> {
            change(&state, actor(&user), &id, $change).await
        }
    };
}

account_change_handler!(approve, AccountChange::Approved);
account_change_handler!(enable, AccountChange::Disabled(false));
account_change_handler!(unsilence, AccountChange::Silenced(false));
account_change_handler!(unsuspend, AccountChange::Suspended(false));
account_change_handler!(unsensitive, AccountChange::Sensitized(false));

/// Rejects a pending sign-up (the account is deleted); answers the account as it was.
pub async fn reject(
    State(state): State<AppState>,
    user: User<scope::AdminWriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminAccount>> {
    let a = state
        .service
        .reject_account(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminAccount::new(&state.urls, &a)))
}

/// Deletes a suspended account's data (admins).
pub async fn delete_account(
    State(state): State<AppState>,
    user: User<scope::AdminWriteAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminAccount>> {
    let a = state
        .service
        .delete_account_data(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminAccount::new(&state.urls, &a)))
}

// ---------------------------------------------------------------- reports

pub async fn reports(
    State(state): State<AppState>,
    user: User<scope::AdminReadReports>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let filter = ReportFilter {
        resolved: params.bool("resolved")?,
        account_id: params.id("account_id")?,
        target_account_id: params.id("target_account_id")?,
    };
    let page = state
        .service
        .admin_reports(actor(&user), filter, params.page()?)
        .await?;
    Ok(paging.each(&page, |r| AdminReport::new(&state.urls, r)))
}

pub async fn report(
    State(state): State<AppState>,
    user: User<scope::AdminReadReports>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminReport>> {
    let r = state
        .service
        .admin_report(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

/// `PUT /api/v1/admin/reports/:id`: `category` and/or `rule_ids[]`.
pub async fn update_report(
    State(state): State<AppState>,
    user: User<scope::AdminWriteReports>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<AdminReport>> {
    let rule_ids = if params.has("rule_ids") {
        Some(params.list("rule_ids")?)
    } else {
        None
    };
    let r = state
        .service
        .update_report(
            actor(&user),
            path_id(&id)?,
            params.str("category")?,
            rule_ids,
        )
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

pub async fn assign_to_self(
    State(state): State<AppState>,
    user: User<scope::AdminWriteReports>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminReport>> {
    let r = state
        .service
        .assign_report_to_self(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

pub async fn unassign(
    State(state): State<AppState>,
    user: User<scope::AdminWriteReports>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminReport>> {
    let r = state
        .service
        .unassign_report(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

/// Marks the report resolved; `note` (a holdfast addition) says how.
pub async fn resolve(
    State(state): State<AppState>,
    user: User<scope::AdminWriteReports>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<AdminReport>> {
    let note = params.str("note")?.unwrap_or_default();
    let r = state
        .service
        .resolve_report(actor(&user), path_id(&id)?, &note)
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

pub async fn reopen(
    State(state): State<AppState>,
    user: User<scope::AdminWriteReports>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminReport>> {
    let r = state
        .service
        .reopen_report(actor(&user), path_id(&id)?)
        .await?;
    Ok(Json(AdminReport::new(&state.urls, &r)))
}

// ---------------------------------------------------------------- instance blocks

/// One kind of instance block as its routes see it (`/admin/domain_blocks`,
/// `/admin/ip_blocks`): which kind, and the scopes reading and writing it
/// need. The handlers below serve both kinds.
pub trait BlockRoutes: Send + Sync + 'static {
    const KIND: BlockKind;
    type Read: Scope;
    type Write: Scope;
}

pub struct DomainBlocks;

impl BlockRoutes for DomainBlocks {
    const KIND: BlockKind = BlockKind::Domain;
    type Read = scope::AdminReadDomainBlocks;
    type Write = scope::AdminWriteDomainBlocks;
}

pub struct IpBlocks;

impl BlockRoutes for IpBlocks {
    const KIND: BlockKind = BlockKind::Ip;
    type Read = scope::AdminReadIpBlocks;
    type Write = scope::AdminWriteIpBlocks;
}

/// `expires_in` (seconds from now) to an instant.
fn expires_at(params: &Params) -> ApiResult<Option<i64>> {
    Ok(params
        .u32("expires_in")?
        .map(|s| holdfast_config::time::now_ms() + i64::from(s) * 1000))
}

/// A new block of the kind, from the request's parameters.
fn new_block(kind: BlockKind, params: &Params) -> ApiResult<BlockInput> {
    Ok(match kind {
        BlockKind::Domain => BlockInput::Domain(DomainBlockInput {
            domain: params.required_str("domain")?,
            severity: params
                .str("severity")?
                .unwrap_or_else(|| "silence".to_owned()),
            reject_media: params.bool("reject_media")?.unwrap_or(false),
            reject_reports: params.bool("reject_reports")?.unwrap_or(false),
            private_comment: params.str("private_comment")?,
            public_comment: params.str("public_comment")?,
            obfuscate: params.bool("obfuscate")?.unwrap_or(false),
        }),
        BlockKind::Ip => BlockInput::Ip(IpBlockInput {
            ip: params.required_str("ip")?,
            severity: params.required_str("severity")?,
            comment: params.str("comment")?.unwrap_or_default(),
            expires_at_ms: expires_at(params)?,
        }),
    })
}

/// `old` changed by the request's parameters: fields left out keep their values.
fn changed_block(old: BlockRow, params: &Params) -> ApiResult<BlockInput> {
    Ok(match old {
        BlockRow::Domain(old) => BlockInput::Domain(DomainBlockInput {
            domain: old.domain,
            severity: params.str("severity")?.unwrap_or(old.severity),
            reject_media: params.bool("reject_media")?.unwrap_or(old.reject_media),
            reject_reports: params.bool("reject_reports")?.unwrap_or(old.reject_reports),
            private_comment: params.str("private_comment")?.or(old.private_comment),
            public_comment: params.str("public_comment")?.or(old.public_comment),
            obfuscate: params.bool("obfuscate")?.unwrap_or(old.obfuscate),
        }),
        BlockRow::Ip(old) => BlockInput::Ip(IpBlockInput {
            ip: params.str("ip")?.unwrap_or(old.ip),
            severity: params.str("severity")?.unwrap_or(old.severity),
            comment: params.str("comment")?.unwrap_or(old.comment),
            expires_at_ms: if params.has("expires_in") {
                expires_at(params)?
            } else {
                old.expires_at_ms
            },
        }),
    })
}

pub async fn blocks<K: BlockRoutes>(
    State(state): State<AppState>,
    user: User<K::Read>,
    paging: Paging,
    params: Params,
) -> ApiResult<Response> {
    let page = state
        .service
        .instance_blocks(actor(&user), K::KIND, params.page()?)
        .await?;
    Ok(paging.each(&page, AdminBlock::new))
}

pub async fn block<K: BlockRoutes>(
    State(state): State<AppState>,
    user: User<K::Read>,
    Path(id): Path<String>,
) -> ApiResult<Json<AdminBlock>> {
    let b = state
        .service
        .instance_block(actor(&user), K::KIND, path_id(&id)?)
        .await?;
    Ok(Json(AdminBlock::new(&b)))
}

pub async fn create_block<K: BlockRoutes>(
    State(state): State<AppState>,
    user: User<K::Write>,
    params: Params,
) -> ApiResult<Json<AdminBlock>> {
    let input = new_block(K::KIND, &params)?;
    let b = state
        .service
        .create_instance_block(actor(&user), input)
        .await?;
    Ok(Json(AdminBlock::new(&b)))
}

pub async fn update_block<K: BlockRoutes>(
    State(state): State<AppState>,
    user: User<K::Write>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<AdminBlock>> {
    let id = path_id(&id)?;
    let old = state
        .service
        .instance_block(actor(&user), K::KIND, id)
        .await?;
    let input = changed_block(old, &params)?;
    let b = state
        .service
        .update_instance_block(actor(&user), id, input)
        .await?;
    Ok(Json(AdminBlock::new(&b)))
}

pub async fn delete_block<K: BlockRoutes>(
    State(state): State<AppState>,
    user: User<K::Write>,
    Path(id): Path<String>,
) -> ApiResult<Json<Empty>> {
    state
        .service
        .delete_instance_block(actor(&user), K::KIND, path_id(&id)?)
        .await?;
    Ok(Json(Empty {}))
}
