//! Moderation pages for moderators and admins: the reports queue, account
//! actions (approve or reject sign-ups, silence, suspend, unsuspend) and the
//! audit log (the instance's own pages are in `instance_admin`). Every decision is the service's (`authorize` and the moderation
//! methods); these pages only show it and post CSRF-checked forms to it, so a
//! person without the role gets the service's 403 here as in the admin API.

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_service::moderation::{AccountAction, Actor, ReportView};
use holdfast_store::{AccountChange, AccountState, AdminAccountFilter, ReportFilter, Role};
use maud::{html, Markup};

use super::layout::{csrf_field, see_other, Page, WebError, WebResult};
use super::parts::{account_line, action, pager, statuses, time};
use super::session::{FormPost, SignedIn, Viewer};
use crate::params::{parse_id, Params};
use crate::AppState;

/// Whether the navigation shows the moderation link (the pages check again).
pub fn is_staff(viewer: &Viewer) -> bool {
    viewer.account.role >= Role::Moderator
}

pub(super) fn actor(viewer: &Viewer) -> Actor {
    Actor::Account(viewer.id())
}

/// Whether the navigation offers the admins' pages (the service checks again).
pub fn is_admin(viewer: &Viewer) -> bool {
    viewer.account.role >= Role::Admin
}

/// The moderation pages' own links, under the page title; the instance's
/// pages (`instance_admin`) only for admins.
pub fn tabs(viewer: &Viewer) -> Markup {
    html! {
        nav.tabs aria-label="Moderation" {
            a href="/admin/reports" { "Reports" }
            a href="/admin/accounts" { "Accounts" }
            a href="/admin/audit" { "Audit log" }
            a href="/admin/rules" { "Rules" }
            @if is_admin(viewer) {
                a href="/admin/announcements" { "Announcements" }
                a href="/admin/domain_blocks" { "Domain blocks" }
                a href="/admin/ip_blocks" { "Address blocks" }
            }
        }
    }
}

pub(super) fn id_of(raw: &str) -> WebResult<holdfast_store::Id> {
    parse_id(raw).ok_or_else(WebError::not_found)
}

// ---------------------------------------------------------------- forms
// The moderation pages' forms all have one of three shapes; these make them,
// so each page only says what differs (where it posts, its fields, its words).

/// A one-button form: posts the CSRF token and `hidden` fields to `action`;
/// with `confirm`, the page's script asks that question first.
pub(super) fn button_form(
    viewer: &Viewer,
    action: &str,
    id: &str,
    label: &str,
    confirm: Option<&str>,
    hidden: &[(&str, &str)],
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            (csrf_field(viewer))
            @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
            button.quiet type="submit" id=(id) { (label) }
        }
    }
}

/// The form that makes something new: a heading, its fields, its buttons.
pub(super) fn new_form(
    viewer: &Viewer,
    form_id: &str,
    action: &str,
    heading: &str,
    fields: Markup,
    buttons: Markup,
) -> Markup {
    html! {
        form id=(form_id) method="post" action=(action) {
            (csrf_field(viewer))
            h2 { (heading) }
            (fields)
            (buttons)
        }
    }
}

/// The folded "Edit" form under an item: its fields, filled in, and Save.
pub(super) fn edit_form(viewer: &Viewer, action: &str, fields: Markup) -> Markup {
    html! {
        details {
            summary { "Edit" }
            form method="post" action=(action) {
                (csrf_field(viewer))
                (fields)
                button type="submit" { "Save" }
            }
        }
    }
}

/// A text field of a posted form, trimmed, with the browser's line ends
/// made `\n`; an empty one counts as not given.
pub(super) fn field(params: &Params, key: &str) -> Option<String> {
    params
        .str(key)
        .ok()
        .flatten()
        .map(|s| s.replace("\r\n", "\n").trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A checkbox: sent (`value="true"`) when ticked, absent when not.
pub(super) fn ticked(params: &Params, key: &str) -> bool {
    params.bool(key).ok().flatten().unwrap_or(false)
}

// ---------------------------------------------------------------- reports

/// `GET /admin/reports` (`?resolved=true` for the resolved ones)
pub async fn reports(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let resolved = params.str("resolved").ok().flatten().as_deref() == Some("true");
    let filter = ReportFilter {
        resolved: Some(resolved),
        ..Default::default()
    };
    let page = state
        .service
        .admin_reports(actor(&viewer), filter, params.page()?)
        .await?;
    let path = if resolved {
        "/admin/reports?resolved=true"
    } else {
        "/admin/reports"
    };
    let main = html! {
        (tabs(&viewer))
        p {
            @if resolved { a href="/admin/reports" { "Open reports" } " · " strong { "Resolved" } }
            @else { strong { "Open" } " · " a href="/admin/reports?resolved=true" { "Resolved reports" } }
        }
        @if page.items.is_empty() { p.empty #no-reports { "No reports here." } }
        @for r in &page.items { (report(&viewer, r, path)) }
        (pager(path, &page))
    };
    Ok(Page::new("Reports", Some(&viewer)).render(&state, main))
}

fn report(viewer: &Viewer, v: &ReportView, back: &str) -> Markup {
    let r = &v.report;
    let base = format!("/admin/reports/{}", r.id);
    html! {
        article.report id={ "report-" (r.id) } {
            h2 { "Report #" (r.id) " about @" (v.target.account.username) }
            p.meta {
                "Filed " (time(r.created_at_ms)) " by @" (v.account.account.username)
                " · " (r.category)
                @if let Some(a) = &v.assigned { " · assigned to @" (a.account.username) }
            }
            (account_line(&v.target.account))
            @if !r.comment.is_empty() { blockquote.comment { (r.comment) } }
            @if !v.rules.is_empty() {
                h3 { "Rules it cites" }
                ul.rules-cited {
                    @for rule in &v.rules {
                        li id={ "report-" (r.id) "-rule-" (rule.id) } {
                            (rule.text)
                            @if rule.deleted_at_ms.is_some() { " " span.meta { "(rule deleted since)" } }
                        }
                    }
                }
            }
            @if !v.statuses.is_empty() {
                h3 { "Reported posts" }
                (statuses(&v.statuses, Some(viewer), back))
            }
            @if let Some(at) = r.action_taken_at_ms {
                p.resolved {
                    "Resolved " (time(at))
                    @if let Some(by) = &v.action_taken_by { " by @" (by.account.username) }
                }
                @if !r.resolution_note.is_empty() { blockquote.note { (r.resolution_note) } }
                (action(viewer, &format!("{base}/reopen"), back, html! { "Reopen" }, None, "quiet"))
            } @else {
                @if r.assigned_account_id != Some(viewer.id()) {
                    (action(viewer, &format!("{base}/assign"), back, html! { "Assign to me" }, None, "quiet"))
                }
                form method="post" action={ (base) "/resolve" } {
                    (csrf_field(viewer))
                    label for={ "note-" (r.id) } { "Resolution note" }
                    textarea id={ "note-" (r.id) } name="note" {}
                    button type="submit" { "Resolve" }
                }
                p { a href={ "/admin/accounts?username=" (v.target.account.username) } { "Act on @" (v.target.account.username) } }
            }
        }
    }
}

/// `POST /admin/reports/{id}/{action}`: assign (to me), resolve (with a note), reopen.
pub async fn act_on_report(
    State(state): State<AppState>,
    Path((id, what)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let svc = &state.service;
    let who = actor(&viewer);
    let view = match what.as_str() {
        "assign" => svc.assign_report_to_self(who, id).await?,
        "resolve" => {
            let note = params.str("note").ok().flatten().unwrap_or_default();
            svc.resolve_report(who, id, note.replace("\r\n", "\n").trim())
                .await?
        }
        "reopen" => svc.reopen_report(who, id).await?,
        _ => return Err(WebError::not_found()),
    };
    let resolved = view.report.action_taken_at_ms.is_some();
    Ok(see_other(&format!(
        "/admin/reports{}#report-{id}",
        if resolved { "?resolved=true" } else { "" }
    )))
}

// ---------------------------------------------------------------- accounts

fn state_word(s: AccountState) -> &'static str {
    match s {
        AccountState::Active => "active",
        AccountState::Pending => "pending",
        AccountState::Disabled => "disabled",
        AccountState::Silenced => "silenced",
        AccountState::Suspended => "suspended",
    }
}

/// `GET /admin/accounts` (`?state=pending|active|silenced|suspended`, `?username=` prefix)
pub async fn accounts(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let shown = match params.str("state").ok().flatten().as_deref() {
        Some("active") => Some(AccountState::Active),
        Some("silenced") => Some(AccountState::Silenced),
        Some("suspended") => Some(AccountState::Suspended),
        Some("pending") => Some(AccountState::Pending),
        _ => None,
    };
    let username = params
        .str("username")
        .ok()
        .flatten()
        .filter(|u| !u.is_empty());
    let filter = AdminAccountFilter {
        state: shown,
        username: username.clone(),
        ..Default::default()
    };
    let page = state
        .service
        .admin_accounts(actor(&viewer), filter, params.page()?)
        .await?;
    // Where the page's forms come back to: this same view (state, name).
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = shown {
        query.append_pair("state", state_word(s));
    }
    if let Some(u) = &username {
        query.append_pair("username", u);
    }
    let query = query.finish();
    let path = if query.is_empty() {
        "/admin/accounts".to_owned()
    } else {
        format!("/admin/accounts?{query}")
    };
    let main = html! {
        (tabs(&viewer))
        p {
            a href="/admin/accounts" { "All" }
            @for s in [AccountState::Pending, AccountState::Active, AccountState::Silenced, AccountState::Suspended] {
                " · " a href={ "/admin/accounts?state=" (state_word(s)) } aria-current=[(shown == Some(s)).then_some("page")] { (state_word(s)) }
            }
        }
        @if page.items.is_empty() { p.empty #no-accounts { "No accounts here." } }
        ul.plain {
            @for a in &page.items {
                li id={ "account-" (a.account.id) } {
                    (account_line(&a.account))
                    p.meta {
                        (a.email)
                        @if !a.account.approved { " · pending" }
                        @if a.silenced { " · silenced" }
                        @if a.account.suspended { " · suspended" }
                    }
                    @if a.account.id != viewer.id() {
                        (account_actions(&viewer, a.account.id, &a.account.username, a.account.approved, a.silenced, a.account.suspended, &path))
                    }
                }
            }
        }
        (pager(&path, &page))
    };
    Ok(Page::new("Accounts", Some(&viewer)).render(&state, main))
}

/// The buttons that fit the account's state; each asks first.
fn account_actions(
    viewer: &Viewer,
    id: holdfast_store::Id,
    username: &str,
    approved: bool,
    silenced: bool,
    suspended: bool,
    back: &str,
) -> Markup {
    let mut offered: Vec<&str> = Vec::new();
    if !approved {
        offered.extend(["approve", "reject"]);
    }
    offered.push(if silenced { "unsilence" } else { "silence" });
    offered.push(if suspended { "unsuspend" } else { "suspend" });
    html! {
        @for what in offered {
            (button_form(viewer, &format!("/admin/accounts/{id}/{what}"), &format!("{what}-{id}"),
                what, Some(&format!("{what} @{username}?")), &[("back", back)]))
        }
    }
}

/// `POST /admin/accounts/{id}/{action}`: approve, reject, silence,
/// unsilence, suspend, unsuspend; each written to the audit log by the service.
pub async fn act_on_account(
    State(state): State<AppState>,
    Path((id, what)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let svc = &state.service;
    let who = actor(&viewer);
    match what.as_str() {
        "approve" => drop(svc.change_account(who, id, AccountChange::Approved).await?),
        "reject" => drop(svc.reject_account(who, id).await?),
        "silence" => {
            svc.act_on_account(who, id, AccountAction::Silence, None, "")
                .await?
        }
        "suspend" => {
            svc.act_on_account(who, id, AccountAction::Suspend, None, "")
                .await?
        }
        "unsilence" => drop(
            svc.change_account(who, id, AccountChange::Silenced(false))
                .await?,
        ),
        "unsuspend" => drop(
            svc.change_account(who, id, AccountChange::Suspended(false))
                .await?,
        ),
        _ => return Err(WebError::not_found()),
    }
    let back = params.str("back").ok().flatten();
    Ok(see_other(&super::session::local_path(
        back,
        "/admin/accounts",
    )))
}

// ---------------------------------------------------------------- audit log

/// `GET /admin/audit`: who did what, newest first.
pub async fn audit(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let page = state
        .service
        .audit_log(actor(&viewer), params.page()?)
        .await?;
    let main = html! {
        (tabs(&viewer))
        @if page.items.is_empty() { p.empty #no-audit { "Nothing has been done yet." } }
        table #audit-log {
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Target" } th scope="col" { "Note" } } }
            tbody {
                @for e in &page.items {
                    tr {
                        td { (time(e.created_at_ms)) }
                        td { @match &e.actor_username { Some(u) => { "@" (u) }, None => "operator" } }
                        td { (e.action) }
                        td { (e.target_type) " " (e.target_name) }
                        td { (e.detail) }
                    }
                }
            }
        }
        (pager("/admin/audit", &page))
    };
    Ok(Page::new("Audit log", Some(&viewer)).render(&state, main))
}
