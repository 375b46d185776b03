//! The admins' pages about the instance as a whole: announcements, domain
//! blocks and address blocks, and the rules (shown; they are set in the
//! config file). As on the other moderation pages, every
//! decision (who may, what is valid, the audit entry) is the service's, the
//! same calls the admin API and `holdfast announce` make; these pages only
//! turn a CSRF-checked form into that call and show the result.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use holdfast_service::moderation::Actor;
use holdfast_store::{
    AnnouncementRow, BlockInput, BlockKind, BlockRow, DomainBlockInput, DomainBlockRow,
    IpBlockInput, IpBlockRow,
};
use maud::{html, Markup};

use super::layout::{csrf_field, see_other, Page, WebError, WebResult};
use super::moderation::tabs;
use super::parts::time;
use super::session::{checked_form, SignedIn, Viewer};
use super::trusted;
use crate::params::{parse_id, Params};
use crate::AppState;

fn actor(viewer: &Viewer) -> Actor {
    Actor::Account(viewer.id())
}

fn id_of(raw: &str) -> WebResult<holdfast_store::Id> {
    parse_id(raw).ok_or_else(WebError::not_found)
}

/// A text field of the form; an empty one counts as not given.
fn field(params: &Params, key: &str) -> Option<String> {
    params
        .str(key)
        .ok()
        .flatten()
        .map(|s| s.replace("\r\n", "\n").trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A checkbox: sent (`value="true"`) when ticked, absent when not.
fn ticked(params: &Params, key: &str) -> bool {
    params.bool(key).ok().flatten().unwrap_or(false)
}

fn delete_button(viewer: &Viewer, action: &str, what: &str, id: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm={ "Delete " (what) "?" } {
            (csrf_field(viewer))
            button.quiet type="submit" id=(id) { "Delete" }
        }
    }
}

// ---------------------------------------------------------------- announcements

/// A `datetime-local` field (`2026-12-07T10:30`, read as UTC, as the page says).
fn instant(params: &Params, key: &str) -> WebResult<Option<i64>> {
    let Some(raw) = field(params, key) else {
        return Ok(None);
    };
    // fact: `datetime-local` leaves out the seconds (16 characters)
    let full = if raw.len() == 16 {
        format!("{raw}:00")
    } else {
        raw
    };
    holdfast_config::time::parse_iso8601(&full)
        .map(Some)
        .ok_or_else(|| WebError::Shown {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("{key} is not a date and time"),
        })
}

/// The value a `datetime-local` field shows for an instant (UTC).
fn local_value(ms: Option<i64>) -> String {
    ms.map(|ms| {
        holdfast_config::time::iso8601(ms)
            .chars()
            .take(16)
            .collect::<String>()
    })
    .unwrap_or_default()
}

fn announcement_fields(prefix: &str, a: Option<&AnnouncementRow>) -> Markup {
    html! {
        label for={ (prefix) "-text" } { "Text" }
        textarea id={ (prefix) "-text" } name="text" required { @if let Some(a) = a { (a.text) } }
        div.row {
            div {
                label for={ (prefix) "-starts" } { "Shown from (UTC, optional)" }
                input id={ (prefix) "-starts" } type="datetime-local" name="starts_at"
                    value=(local_value(a.and_then(|a| a.starts_at_ms)));
            }
            div {
                label for={ (prefix) "-ends" } { "Shown until (UTC, optional)" }
                input id={ (prefix) "-ends" } type="datetime-local" name="ends_at"
                    value=(local_value(a.and_then(|a| a.ends_at_ms)));
            }
        }
        label.check {
            input id={ (prefix) "-all-day" } type="checkbox" name="all_day" value="true" checked[a.is_some_and(|a| a.all_day)];
            "All-day event"
        }
    }
}

fn when_shown(a: &AnnouncementRow) -> &'static str {
    let now = holdfast_config::time::now_ms();
    if !a.published {
        "draft: only admins see it"
    } else if a.starts_at_ms.is_some_and(|s| s > now) {
        "scheduled"
    } else if a.ends_at_ms.is_some_and(|e| e <= now) {
        "ended"
    } else {
        "shown now"
    }
}

/// `GET /admin/announcements`: every announcement, and the form for a new one.
pub async fn announcements(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> WebResult<Response> {
    let all = state.service.all_announcements(actor(&viewer)).await?;
    let main = html! {
        (tabs(&viewer))
        p.hint { "Published announcements are shown to everyone signed in, in apps, between their times. A draft waits here until it is published." }
        form #new-announcement method="post" action="/admin/announcements" {
            (csrf_field(&viewer))
            h2 { "New announcement" }
            (announcement_fields("new-announcement", None))
            button #publish-announcement type="submit" name="publish" value="true" { "Publish" }
            " "
            button.quiet #save-draft type="submit" name="publish" value="false" { "Save as draft" }
        }
        h2 { "Announcements" }
        @if all.is_empty() { p.empty #no-announcements { "No announcements yet." } }
        @for a in &all {
            article.announcement id={ "announcement-" (a.id) } {
                div.content { (trusted::announcement(&a.content)) }
                p.meta {
                    @if a.published { "Published " } @else { "Written " }
                    (time(a.published_at_ms)) " · " strong { (when_shown(a)) }
                    @if let Some(s) = a.starts_at_ms { " · from " (time(s)) }
                    @if let Some(e) = a.ends_at_ms { " · until " (time(e)) }
                }
                details {
                    summary { "Edit" }
                    form method="post" action={ "/admin/announcements/" (a.id) "/update" } {
                        (csrf_field(&viewer))
                        (announcement_fields(&format!("announcement-{}", a.id), Some(a)))
                        button type="submit" { "Save" }
                    }
                }
                @let (verb, label) = if a.published { ("unpublish", "Back to draft") } else { ("publish", "Publish") };
                form.inline method="post" action={ "/admin/announcements/" (a.id) "/" (verb) } {
                    (csrf_field(&viewer))
                    button.quiet type="submit" id={ (verb) "-announcement-" (a.id) } { (label) }
                }
                " "
                (delete_button(&viewer, &format!("/admin/announcements/{}/delete", a.id),
                    "this announcement", &format!("delete-announcement-{}", a.id)))
            }
        }
    };
    Ok(Page::new("Announcements", Some(&viewer)).render(&state, main))
}

/// `POST /admin/announcements`: publishes a new one, or keeps it as a draft
/// (`publish=false`, the "Save as draft" button).
pub async fn create_announcement(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let text = field(&params, "text").unwrap_or_default();
    let a = state
        .service
        .create_announcement(
            actor(&viewer),
            &text,
            instant(&params, "starts_at")?,
            instant(&params, "ends_at")?,
            ticked(&params, "all_day"),
            params.bool("publish").ok().flatten().unwrap_or(true),
        )
        .await?;
    Ok(see_other(&format!(
        "/admin/announcements#announcement-{}",
        a.id
    )))
}

/// `POST /admin/announcements/{id}/{update|publish|unpublish|delete}`
pub async fn act_on_announcement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, what)): Path<(String, String)>,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let id = id_of(&id)?;
    let svc = &state.service;
    match what.as_str() {
        "update" => {
            let text = field(&params, "text").unwrap_or_default();
            svc.update_announcement(
                actor(&viewer),
                id,
                &text,
                instant(&params, "starts_at")?,
                instant(&params, "ends_at")?,
                ticked(&params, "all_day"),
            )
            .await?;
            Ok(see_other(&format!(
                "/admin/announcements#announcement-{id}"
            )))
        }
        "publish" | "unpublish" => {
            svc.publish_announcement(actor(&viewer), id, what == "publish")
                .await?;
            Ok(see_other(&format!(
                "/admin/announcements#announcement-{id}"
            )))
        }
        "delete" => {
            svc.delete_announcement(actor(&viewer), id).await?;
            Ok(see_other("/admin/announcements"))
        }
        _ => Err(WebError::not_found()),
    }
}

// ---------------------------------------------------------------- domain blocks

const DOMAIN_SEVERITY_CHOICES: &[(&str, &str)] = &[
    ("silence", "Silence: hide from public timelines"),
    ("suspend", "Suspend: refuse everything"),
    ("noop", "None: only reject media or reports"),
];

fn domain_block_fields(prefix: &str, b: Option<&DomainBlockRow>) -> Markup {
    let severity = b.map_or("silence", |b| b.severity.as_str());
    let flag = |name: &str, label: &str, on: bool| {
        html! {
            label.check {
                input id={ (prefix) "-" (name) } type="checkbox" name=(name) value="true" checked[on];
                (label)
            }
        }
    };
    html! {
        label for={ (prefix) "-severity" } { "Severity" }
        select id={ (prefix) "-severity" } name="severity" {
            @for (value, label) in DOMAIN_SEVERITY_CHOICES {
                option value=(value) selected[*value == severity] { (label) }
            }
        }
        (flag("reject_media", "Reject its media", b.is_some_and(|b| b.reject_media)))
        (flag("reject_reports", "Reject its reports", b.is_some_and(|b| b.reject_reports)))
        (flag("obfuscate", "Obfuscate the domain in the public list", b.is_some_and(|b| b.obfuscate)))
        label for={ (prefix) "-private" } { "Note for moderators" }
        input id={ (prefix) "-private" } type="text" name="private_comment"
            value=(b.and_then(|b| b.private_comment.as_deref()).unwrap_or(""));
        label for={ (prefix) "-public" } { "Public reason" }
        input id={ (prefix) "-public" } type="text" name="public_comment"
            value=(b.and_then(|b| b.public_comment.as_deref()).unwrap_or(""));
    }
}

fn domain_block_input(params: &Params, domain: String) -> DomainBlockInput {
    DomainBlockInput {
        domain,
        severity: field(params, "severity").unwrap_or_default(),
        reject_media: ticked(params, "reject_media"),
        reject_reports: ticked(params, "reject_reports"),
        private_comment: field(params, "private_comment"),
        public_comment: field(params, "public_comment"),
        obfuscate: ticked(params, "obfuscate"),
    }
}

/// `GET /admin/domain_blocks`
pub async fn domain_blocks(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let page = state
        .service
        .instance_blocks(actor(&viewer), BlockKind::Domain, params.page()?)
        .await?;
    let blocks: Vec<&DomainBlockRow> = page.items.iter().filter_map(BlockRow::as_domain).collect();
    let main = html! {
        (tabs(&viewer))
        p.hint { "holdfast does not federate yet, so no other server reaches this one: a block is kept, listed and applied once federation exists." }
        form #new-domain-block method="post" action="/admin/domain_blocks" {
            (csrf_field(&viewer))
            h2 { "Block a domain" }
            label for="new-domain" { "Domain" }
            input #new-domain type="text" name="domain" required placeholder="spam.example";
            (domain_block_fields("new-domain-block", None))
            button #block-domain type="submit" { "Block" }
        }
        h2 { "Blocked domains" }
        @if blocks.is_empty() { p.empty #no-domain-blocks { "No domain is blocked." } }
        @for b in blocks {
            article.block id={ "domain-block-" (b.id) } {
                h3 { (b.domain) }
                p.meta {
                    strong { (b.severity) }
                    @if b.reject_media { " · rejects media" }
                    @if b.reject_reports { " · rejects reports" }
                    " · since " (time(b.created_at_ms))
                }
                @if let Some(c) = &b.public_comment { p { "Public reason: " (c) } }
                @if let Some(c) = &b.private_comment { p { "Note: " (c) } }
                details {
                    summary { "Edit" }
                    form method="post" action={ "/admin/domain_blocks/" (b.id) "/update" } {
                        (csrf_field(&viewer))
                        (domain_block_fields(&format!("domain-block-{}", b.id), Some(b)))
                        button type="submit" { "Save" }
                    }
                }
                (delete_button(&viewer, &format!("/admin/domain_blocks/{}/delete", b.id),
                    &format!("the block of {}", b.domain), &format!("delete-domain-block-{}", b.id)))
            }
        }
        (super::parts::pager("/admin/domain_blocks", &page))
    };
    Ok(Page::new("Domain blocks", Some(&viewer)).render(&state, main))
}

/// `POST /admin/domain_blocks`
pub async fn create_domain_block(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let domain = field(&params, "domain").unwrap_or_default();
    let input = BlockInput::Domain(domain_block_input(&params, domain));
    let b = state
        .service
        .create_instance_block(actor(&viewer), input)
        .await?;
    Ok(see_other(&format!(
        "/admin/domain_blocks#domain-block-{}",
        b.id()
    )))
}

/// `POST /admin/domain_blocks/{id}/{update|delete}`
pub async fn act_on_domain_block(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, what)): Path<(String, String)>,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let id = id_of(&id)?;
    let svc = &state.service;
    match what.as_str() {
        "update" => {
            // The service keeps the domain; only what the form edits changes.
            let input = BlockInput::Domain(domain_block_input(&params, String::new()));
            svc.update_instance_block(actor(&viewer), id, input).await?;
            Ok(see_other(&format!(
                "/admin/domain_blocks#domain-block-{id}"
            )))
        }
        "delete" => {
            svc.delete_instance_block(actor(&viewer), BlockKind::Domain, id)
                .await?;
            Ok(see_other("/admin/domain_blocks"))
        }
        _ => Err(WebError::not_found()),
    }
}

// ---------------------------------------------------------------- address blocks

const IP_SEVERITY_CHOICES: &[(&str, &str)] = &[
    ("sign_up_requires_approval", "Sign-ups wait for approval"),
    ("sign_up_block", "Sign-ups are refused"),
    ("no_access", "No access (sign-ups refused)"),
];

/// How long a new block lasts, in days ("" never ends).
const IP_EXPIRY_CHOICES: &[(&str, &str)] = &[
    ("", "Never ends"),
    ("1", "A day"),
    ("14", "Two weeks"),
    ("30", "A month"),
    ("365", "A year"),
];

fn ip_block_fields(prefix: &str, b: Option<&IpBlockRow>) -> Markup {
    let severity = b.map_or("sign_up_block", |b| b.severity.as_str());
    html! {
        label for={ (prefix) "-ip" } { "Address or network (CIDR)" }
        input id={ (prefix) "-ip" } type="text" name="ip" required placeholder="192.0.2.0/24"
            value=(b.map_or("", |b| b.ip.as_str()));
        label for={ (prefix) "-severity" } { "What it does" }
        select id={ (prefix) "-severity" } name="severity" {
            @for (value, label) in IP_SEVERITY_CHOICES {
                option value=(value) selected[*value == severity] { (label) }
            }
        }
        label for={ (prefix) "-expires" } { "Lasts" }
        select id={ (prefix) "-expires" } name="expires_in_days" {
            @if b.is_some() { option value="keep" selected { "As it is" } }
            @for (value, label) in IP_EXPIRY_CHOICES {
                option value=(value) { (label) }
            }
        }
        label for={ (prefix) "-comment" } { "Note for moderators" }
        input id={ (prefix) "-comment" } type="text" name="comment"
            value=(b.map_or("", |b| b.comment.as_str()));
    }
}

fn ip_block_input(params: &Params, old: Option<&IpBlockRow>) -> WebResult<IpBlockInput> {
    let expires_at_ms = match params.str("expires_in_days").ok().flatten().as_deref() {
        Some("keep") => old.and_then(|b| b.expires_at_ms),
        None | Some("") => None,
        Some(days) => {
            let days: i64 = days
                .parse()
                .ok()
                .filter(|d| IP_EXPIRY_CHOICES.iter().any(|(v, _)| *v == days) && *d > 0)
                .ok_or_else(|| WebError::Shown {
                    status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    message: "Choose how long the block lasts from the list.".into(),
                })?;
            // fact: a day is 86,400,000 ms
            Some(holdfast_config::time::now_ms() + days * 86_400_000)
        }
    };
    // On an edit, a field left out keeps its value (the page's form sends them all).
    let or_old = |key: &str, old_value: Option<&String>| {
        field(params, key)
            .or_else(|| old_value.cloned())
            .unwrap_or_default()
    };
    Ok(IpBlockInput {
        ip: or_old("ip", old.map(|b| &b.ip)),
        severity: or_old("severity", old.map(|b| &b.severity)),
        comment: field(params, "comment").unwrap_or_default(),
        expires_at_ms,
    })
}

/// `GET /admin/ip_blocks`
pub async fn ip_blocks(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let page = state
        .service
        .instance_blocks(actor(&viewer), BlockKind::Ip, params.page()?)
        .await?;
    let blocks: Vec<&IpBlockRow> = page.items.iter().filter_map(BlockRow::as_ip).collect();
    let main = html! {
        (tabs(&viewer))
        p.hint { "Address blocks are checked when someone signs up, here and through the API." }
        form #new-ip-block method="post" action="/admin/ip_blocks" {
            (csrf_field(&viewer))
            h2 { "Block an address" }
            (ip_block_fields("new-ip-block", None))
            button #block-ip type="submit" { "Block" }
        }
        h2 { "Blocked addresses" }
        @if blocks.is_empty() { p.empty #no-ip-blocks { "No address is blocked." } }
        @for b in blocks {
            article.block id={ "ip-block-" (b.id) } {
                h3 { (b.ip) }
                p.meta {
                    strong { (b.severity) }
                    " · since " (time(b.created_at_ms))
                    @if let Some(e) = b.expires_at_ms { " · until " (time(e)) }
                }
                @if !b.comment.is_empty() { p { "Note: " (b.comment) } }
                details {
                    summary { "Edit" }
                    form method="post" action={ "/admin/ip_blocks/" (b.id) "/update" } {
                        (csrf_field(&viewer))
                        (ip_block_fields(&format!("ip-block-{}", b.id), Some(b)))
                        button type="submit" { "Save" }
                    }
                }
                (delete_button(&viewer, &format!("/admin/ip_blocks/{}/delete", b.id),
                    &format!("the block of {}", b.ip), &format!("delete-ip-block-{}", b.id)))
            }
        }
        (super::parts::pager("/admin/ip_blocks", &page))
    };
    Ok(Page::new("Address blocks", Some(&viewer)).render(&state, main))
}

/// `POST /admin/ip_blocks`
pub async fn create_ip_block(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let input = BlockInput::Ip(ip_block_input(&params, None)?);
    let b = state
        .service
        .create_instance_block(actor(&viewer), input)
        .await?;
    Ok(see_other(&format!("/admin/ip_blocks#ip-block-{}", b.id())))
}

/// `POST /admin/ip_blocks/{id}/{update|delete}`
pub async fn act_on_ip_block(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, what)): Path<(String, String)>,
    params: Params,
) -> WebResult<Response> {
    let viewer = checked_form(&state, &headers, &params).await?;
    let id = id_of(&id)?;
    let svc = &state.service;
    match what.as_str() {
        "update" => {
            let old = svc
                .instance_block(actor(&viewer), BlockKind::Ip, id)
                .await?;
            let input = BlockInput::Ip(ip_block_input(&params, old.as_ip())?);
            svc.update_instance_block(actor(&viewer), id, input).await?;
            Ok(see_other(&format!("/admin/ip_blocks#ip-block-{id}")))
        }
        "delete" => {
            svc.delete_instance_block(actor(&viewer), BlockKind::Ip, id)
                .await?;
            Ok(see_other("/admin/ip_blocks"))
        }
        _ => Err(WebError::not_found()),
    }
}

// ---------------------------------------------------------------- rules

/// `GET /admin/rules`: the server rules as people and reports see them. They
/// live in the config file (`[instance] rules`; a report names them by
/// position), so this page shows them and says where to change them.
pub async fn rules(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> WebResult<Response> {
    state
        .service
        .authorize(actor(&viewer), holdfast_store::Role::Moderator)
        .await?;
    let rules = &state.service.config.instance.rules;
    let main = html! {
        (tabs(&viewer))
        p.hint { "The rules are set by the operator in the config file (" code { "[instance] rules" } ") and read at start; reports name them by their number." }
        @if rules.is_empty() { p.empty #no-rules { "This server has no rules yet." } }
        ol #rules {
            @for r in rules {
                li { (r.text) @if !r.hint.is_empty() { br; span.meta { (r.hint) } } }
            }
        }
    };
    Ok(Page::new("Server rules", Some(&viewer)).render(&state, main))
}
