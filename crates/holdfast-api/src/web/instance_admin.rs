//! The admins' pages about the instance as a whole: announcements, and
//! domain and address blocks (one page shape for both kinds, as the service
//! and the admin API have one path: `BlockKind`); the rules are in `rules`.
//! As on the other moderation pages, every decision (who may, what is valid,
//! the audit entry) is the service's, the same calls the admin API and
//! `holdfast announce` make; these pages only turn a CSRF-checked form into
//! that call and show the result.

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_store::{
    AnnouncementRow, BlockInput, BlockKind, BlockRow, DomainBlockInput, DomainBlockRow,
    IpBlockInput, IpBlockRow,
};
use maud::{html, Markup};

use super::layout::{see_other, Page, WebError, WebResult};
use super::moderation::{actor, button_form, edit_form, field, id_of, new_form, tabs, ticked};
use super::parts::time;
use super::session::{FormPost, SignedIn, Viewer};
use super::trusted;
use crate::params::Params;
use crate::AppState;

/// A form's "Delete" button, which asks first.
pub(super) fn delete_button(viewer: &Viewer, action: &str, what: &str, id: &str) -> Markup {
    button_form(
        viewer,
        action,
        id,
        "Delete",
        Some(&format!("Delete {what}?")),
        &[],
    )
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
        (new_form(&viewer, "new-announcement", "/admin/announcements", "New announcement",
            announcement_fields("new-announcement", None),
            html! {
                button #publish-announcement type="submit" name="publish" value="true" { "Publish" }
                " "
                button.quiet #save-draft type="submit" name="publish" value="false" { "Save as draft" }
            }))
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
                (edit_form(&viewer, &format!("/admin/announcements/{}/update", a.id),
                    announcement_fields(&format!("announcement-{}", a.id), Some(a))))
                @let (verb, label) = if a.published { ("unpublish", "Back to draft") } else { ("publish", "Publish") };
                (button_form(&viewer, &format!("/admin/announcements/{}/{verb}", a.id),
                    &format!("{verb}-announcement-{}", a.id), label, None, &[]))
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
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
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
    Path((id, what)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
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

// ---------------------------------------------------------------- blocks

/// What the domain-block and address-block pages say and where they live:
/// all that differs between them beyond their fields.
struct BlockPage {
    /// The page, and the stem of its forms' actions.
    path: &'static str,
    title: &'static str,
    /// The element ids' stem: `domain-block`, `ip-block`.
    stem: &'static str,
    hint: &'static str,
    new_heading: &'static str,
    list_heading: &'static str,
    /// The new form's button id (`block-domain`, `block-ip`).
    button_id: &'static str,
    /// The empty list's id and words.
    empty_id: &'static str,
    empty: &'static str,
}

const DOMAIN_PAGE: BlockPage = BlockPage {
    path: "/admin/domain_blocks",
    title: "Domain blocks",
    stem: "domain-block",
    hint: "holdfast does not federate yet, so no other server reaches this one: a block is kept, listed and applied once federation exists.",
    new_heading: "Block a domain",
    list_heading: "Blocked domains",
    button_id: "block-domain",
    empty_id: "no-domain-blocks",
    empty: "No domain is blocked.",
};

const IP_PAGE: BlockPage = BlockPage {
    path: "/admin/ip_blocks",
    title: "Address blocks",
    stem: "ip-block",
    hint: "Address blocks are checked when someone signs up, here and through the API.",
    new_heading: "Block an address",
    list_heading: "Blocked addresses",
    button_id: "block-ip",
    empty_id: "no-ip-blocks",
    empty: "No address is blocked.",
};

fn page_of(kind: BlockKind) -> &'static BlockPage {
    match kind {
        BlockKind::Domain => &DOMAIN_PAGE,
        BlockKind::Ip => &IP_PAGE,
    }
}

const DOMAIN_SEVERITY_CHOICES: &[(&str, &str)] = &[
    ("silence", "Silence: hide from public timelines"),
    ("suspend", "Suspend: refuse everything"),
    ("noop", "None: only reject media or reports"),
];

const IP_SEVERITY_CHOICES: &[(&str, &str)] = &[
    ("sign_up_requires_approval", "Sign-ups wait for approval"),
    ("sign_up_block", "Sign-ups are refused"),
    ("no_access", "No access (sign-ups refused)"),
];

/// How long a new address block lasts, in days ("" never ends).
const IP_EXPIRY_CHOICES: &[(&str, &str)] = &[
    ("", "Never ends"),
    ("1", "A day"),
    ("14", "Two weeks"),
    ("30", "A month"),
    ("365", "A year"),
];

fn severity_select(prefix: &str, label: &str, choices: &[(&str, &str)], chosen: &str) -> Markup {
    html! {
        label for={ (prefix) "-severity" } { (label) }
        select id={ (prefix) "-severity" } name="severity" {
            @for (value, label) in choices {
                option value=(value) selected[*value == chosen] { (label) }
            }
        }
    }
}

/// The block's own fields, filled in from `b` when editing. A domain is
/// given once, in the new form (the service keeps it on an edit); an address
/// may be changed.
fn block_fields(prefix: &str, kind: BlockKind, b: Option<&BlockRow>) -> Markup {
    match kind {
        BlockKind::Domain => domain_block_fields(prefix, b.and_then(BlockRow::as_domain)),
        BlockKind::Ip => ip_block_fields(prefix, b.and_then(BlockRow::as_ip)),
    }
}

fn domain_block_fields(prefix: &str, b: Option<&DomainBlockRow>) -> Markup {
    let flag = |name: &str, label: &str, on: bool| {
        html! {
            label.check {
                input id={ (prefix) "-" (name) } type="checkbox" name=(name) value="true" checked[on];
                (label)
            }
        }
    };
    html! {
        @if b.is_none() {
            label for={ (prefix) "-domain" } { "Domain" }
            input id={ (prefix) "-domain" } type="text" name="domain" required placeholder="spam.example";
        }
        (severity_select(prefix, "Severity", DOMAIN_SEVERITY_CHOICES, b.map_or("silence", |b| b.severity.as_str())))
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

fn ip_block_fields(prefix: &str, b: Option<&IpBlockRow>) -> Markup {
    html! {
        label for={ (prefix) "-ip" } { "Address or network (CIDR)" }
        input id={ (prefix) "-ip" } type="text" name="ip" required placeholder="192.0.2.0/24"
            value=(b.map_or("", |b| b.ip.as_str()));
        (severity_select(prefix, "What it does", IP_SEVERITY_CHOICES, b.map_or("sign_up_block", |b| b.severity.as_str())))
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

/// What a block's list entry says under its name.
fn block_summary(b: &BlockRow) -> Markup {
    match b {
        BlockRow::Domain(b) => html! {
            p.meta {
                strong { (b.severity) }
                @if b.reject_media { " · rejects media" }
                @if b.reject_reports { " · rejects reports" }
                " · since " (time(b.created_at_ms))
            }
            @if let Some(c) = &b.public_comment { p { "Public reason: " (c) } }
            @if let Some(c) = &b.private_comment { p { "Note: " (c) } }
        },
        BlockRow::Ip(b) => html! {
            p.meta {
                strong { (b.severity) }
                " · since " (time(b.created_at_ms))
                @if let Some(e) = b.expires_at_ms { " · until " (time(e)) }
            }
            @if !b.comment.is_empty() { p { "Note: " (b.comment) } }
        },
    }
}

/// The posted form as the service's input; on an edit, `old` is the block
/// as it is (a field the form leaves out keeps its value).
fn block_input(kind: BlockKind, params: &Params, old: Option<&BlockRow>) -> WebResult<BlockInput> {
    Ok(match kind {
        // On an edit the domain is empty: the service keeps the block's own.
        BlockKind::Domain => BlockInput::Domain(DomainBlockInput {
            domain: field(params, "domain").unwrap_or_default(),
            severity: field(params, "severity").unwrap_or_default(),
            reject_media: ticked(params, "reject_media"),
            reject_reports: ticked(params, "reject_reports"),
            private_comment: field(params, "private_comment"),
            public_comment: field(params, "public_comment"),
            obfuscate: ticked(params, "obfuscate"),
        }),
        BlockKind::Ip => BlockInput::Ip(ip_block_input(params, old.and_then(BlockRow::as_ip))?),
    })
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

/// `GET /admin/domain_blocks` and `GET /admin/ip_blocks`: the blocks, and the form for a new one.
async fn blocks_page(
    state: AppState,
    viewer: Viewer,
    params: Params,
    kind: BlockKind,
) -> WebResult<Response> {
    let p = page_of(kind);
    let page = state
        .service
        .instance_blocks(actor(&viewer), kind, params.page()?)
        .await?;
    let main = html! {
        (tabs(&viewer))
        p.hint { (p.hint) }
        (new_form(&viewer, &format!("new-{}", p.stem), p.path, p.new_heading,
            block_fields(&format!("new-{}", p.stem), kind, None),
            html! { button id=(p.button_id) type="submit" { "Block" } }))
        h2 { (p.list_heading) }
        @if page.items.is_empty() { p.empty id=(p.empty_id) { (p.empty) } }
        @for b in &page.items {
            article.block id={ (p.stem) "-" (b.id()) } {
                h3 { (b.key()) }
                (block_summary(b))
                (edit_form(&viewer, &format!("{}/{}/update", p.path, b.id()),
                    block_fields(&format!("{}-{}", p.stem, b.id()), kind, Some(b))))
                (delete_button(&viewer, &format!("{}/{}/delete", p.path, b.id()),
                    &format!("the block of {}", b.key()), &format!("delete-{}-{}", p.stem, b.id())))
            }
        }
        (super::parts::pager(p.path, &page))
    };
    Ok(Page::new(p.title, Some(&viewer)).render(&state, main))
}

/// `POST /admin/domain_blocks` and `POST /admin/ip_blocks`
async fn create_block(
    state: AppState,
    FormPost(viewer, params): FormPost,
    kind: BlockKind,
) -> WebResult<Response> {
    let input = block_input(kind, &params, None)?;
    let b = state
        .service
        .create_instance_block(actor(&viewer), input)
        .await?;
    let p = page_of(kind);
    Ok(see_other(&format!("{}#{}-{}", p.path, p.stem, b.id())))
}

/// `POST /admin/{domain_blocks|ip_blocks}/{id}/{update|delete}`
async fn act_on_block(
    state: AppState,
    (id, what): (String, String),
    FormPost(viewer, params): FormPost,
    kind: BlockKind,
) -> WebResult<Response> {
    let id = id_of(&id)?;
    let svc = &state.service;
    let p = page_of(kind);
    match what.as_str() {
        "update" => {
            let old = svc.instance_block(actor(&viewer), kind, id).await?;
            let input = block_input(kind, &params, Some(&old))?;
            svc.update_instance_block(actor(&viewer), id, input).await?;
            Ok(see_other(&format!("{}#{}-{id}", p.path, p.stem)))
        }
        "delete" => {
            svc.delete_instance_block(actor(&viewer), kind, id).await?;
            Ok(see_other(p.path))
        }
        _ => Err(WebError::not_found()),
    }
}

// The routes' handlers: one per path, each the shared one with its kind.

pub async fn domain_blocks(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    blocks_page(state, viewer, params, BlockKind::Domain).await
}

pub async fn create_domain_block(
    State(state): State<AppState>,
    form: FormPost,
) -> WebResult<Response> {
    create_block(state, form, BlockKind::Domain).await
}

pub async fn act_on_domain_block(
    State(state): State<AppState>,
    Path(target): Path<(String, String)>,
    form: FormPost,
) -> WebResult<Response> {
    act_on_block(state, target, form, BlockKind::Domain).await
}

pub async fn ip_blocks(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    blocks_page(state, viewer, params, BlockKind::Ip).await
}

pub async fn create_ip_block(State(state): State<AppState>, form: FormPost) -> WebResult<Response> {
    create_block(state, form, BlockKind::Ip).await
}

pub async fn act_on_ip_block(
    State(state): State<AppState>,
    Path(target): Path<(String, String)>,
    form: FormPost,
) -> WebResult<Response> {
    act_on_block(state, target, form, BlockKind::Ip).await
}
