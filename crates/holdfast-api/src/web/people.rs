//! Profiles, followers and following, follow requests, notifications and
//! search, and the small forms that follow, block and mute.

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_service::lists::Timeline;
use holdfast_service::{PageOf, PageRequest};
use holdfast_store::{AccountRow, AccountStatusesFilter, NotificationType, Relationship};
use maud::{html, Markup};

use super::layout::{see_other, Page, WebError, WebResult};
use super::parts::{
    account_line, action, avatar_path, display_name, header_path, pager, profile_path, status,
    statuses, time,
};
use super::session::{local_path, FormPost, MaybeViewer, SignedIn, Viewer};
use super::trusted;
use crate::params::{parse_id, Params};
use crate::AppState;

/// A local account by name; suspended and pending accounts are 404 (`lookup`).
async fn account_named(state: &AppState, username: &str) -> WebResult<AccountRow> {
    Ok(state
        .service
        .lookup(username.trim_start_matches('@'))
        .await?)
}

fn relationship_forms(viewer: &Viewer, a: &AccountRow, rel: &Relationship, back: &str) -> Markup {
    let base = format!("/accounts/{}", a.id);
    html! {
        div.actions #relationship {
            @if rel.following {
                (action(viewer, &format!("{base}/unfollow"), back, html! { "Unfollow" }, None, ""))
            } @else if rel.requested {
                (action(viewer, &format!("{base}/unfollow"), back, html! { "Cancel follow request" }, None, ""))
            } @else if !rel.blocking {
                (action(viewer, &format!("{base}/follow"), back, html! { "Follow" }, None, ""))
            }
            @if rel.muting {
                (action(viewer, &format!("{base}/unmute"), back, html! { "Unmute" }, None, "quiet"))
            } @else {
                (action(viewer, &format!("{base}/mute"), back, html! { "Mute" }, None, "quiet"))
            }
            @if rel.blocking {
                (action(viewer, &format!("{base}/unblock"), back, html! { "Unblock" }, None, "quiet"))
            } @else {
                (action(viewer, &format!("{base}/block"), back, html! { "Block" }, None, "quiet"))
            }
            a.meta #report-link href={ (profile_path(a)) "/report" } { "Report" }
            @if rel.followed_by { span.meta { "Follows you" } }
        }
    }
}

fn profile_head(state: &AppState, a: &AccountRow) -> Markup {
    let note = state.urls.note_html(&a.note);
    html! {
        img.profile-header src=(header_path(a)) alt="";
        div.account {
            img.avatar.big src=(avatar_path(a)) alt={ "Avatar of " (display_name(a)) } width="96" height="96";
            p { span.meta { "@" (a.username) } @if a.locked { " · " span.meta { "Approves followers" } } @if a.bot { " · " span.meta { "Bot" } } }
        }
        @if !note.is_empty() {
            div.bio { (trusted::note(&note)) }
        }
        ul.counts {
            li { strong #statuses-count { (a.statuses_count) } " posts" }
            li { a href={ (profile_path(a)) "/following" } { strong #following-count { (a.following_count) } " following" } }
            li { a href={ (profile_path(a)) "/followers" } { strong #followers-count { (a.followers_count) } " followers" } }
        }
    }
}

/// `GET /@{username}`: who they are and what they posted.
pub async fn profile(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(username): Path<String>,
    params: Params,
) -> WebResult<Response> {
    let a = account_named(&state, &username).await?;
    let me = viewer.as_ref().map(|v| v.id());
    let svc = &state.service;
    let mut req = params.page()?;
    req.limit = Some(svc.limits().web_statuses_page);
    let page = svc
        .timeline(
            Timeline::Account {
                viewer: me,
                id: a.id,
                filter: AccountStatusesFilter::default(),
                tagged: None,
            },
            req,
        )
        .await?;
    let here = profile_path(&a);
    let rel = match &viewer {
        Some(v) if v.id() != a.id => svc.relationships(v.id(), &[a.id]).await?.pop(),
        _ => None,
    };
    let main = html! {
        (profile_head(&state, &a))
        @if let (Some(v), Some(rel)) = (&viewer, &rel) {
            (relationship_forms(v, &a, rel, &here))
        }
        h2 { "Posts" }
        (statuses(&page.items, viewer.as_ref(), &here))
        (pager(&here, &page))
    };
    Ok(Page::new(display_name(&a), viewer.as_ref()).render(&state, main))
}

fn accounts_list(items: &[AccountRow]) -> Markup {
    html! {
        @if items.is_empty() { p.empty { "No one yet." } }
        ul.plain { @for a in items { li { (account_line(a)) } } }
    }
}

async fn people_page(
    state: &AppState,
    viewer: Option<&Viewer>,
    username: &str,
    params: &Params,
    followers: bool,
) -> WebResult<Response> {
    let a = account_named(state, username).await?;
    let mut req: PageRequest = params.page()?;
    req.limit = Some(state.service.limits().web_accounts_page);
    let me = viewer.map(|v| v.id());
    let page: PageOf<AccountRow> = if followers {
        state.service.followers(me, a.id, req).await?
    } else {
        state.service.following(me, a.id, req).await?
    };
    let what = if followers { "followers" } else { "following" };
    let path = format!("{}/{what}", profile_path(&a));
    let title = if followers {
        format!("People following {}", display_name(&a))
    } else {
        format!("People {} follows", display_name(&a))
    };
    let main = html! {
        p { a href=(profile_path(&a)) { "← " (display_name(&a)) } }
        (accounts_list(&page.items))
        (pager(&path, &page))
    };
    Ok(Page::new(&title, viewer).render(state, main))
}

/// `GET /@{username}/followers`
pub async fn followers(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(username): Path<String>,
    params: Params,
) -> WebResult<Response> {
    people_page(&state, viewer.as_ref(), &username, &params, true).await
}

/// `GET /@{username}/following`
pub async fn following(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(username): Path<String>,
    params: Params,
) -> WebResult<Response> {
    people_page(&state, viewer.as_ref(), &username, &params, false).await
}

/// `POST /accounts/{id}/{action}`: follow, unfollow, block, unblock, mute, unmute.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let target = parse_id(&id).ok_or_else(WebError::not_found)?;
    let (me, svc) = (viewer.id(), &state.service);
    match action.as_str() {
        "follow" => svc.follow(me, target, None, None, None).await?,
        "unfollow" => svc.unfollow(me, target).await?,
        "block" => svc.block(me, target).await?,
        "unblock" => svc.unblock(me, target).await?,
        "mute" => svc.mute(me, target, None, None).await?,
        "unmute" => svc.unmute(me, target).await?,
        _ => return Err(WebError::not_found()),
    };
    Ok(see_other(&local_path(
        params.str("back").ok().flatten(),
        "/home",
    )))
}

/// `GET /follow_requests`: who asked to follow a locked account.
pub async fn follow_requests(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let mut req = params.page()?;
    req.limit = Some(state.service.limits().web_accounts_page);
    let page = state.service.follow_requests(viewer.id(), req).await?;
    let main = html! {
        @if page.items.is_empty() { p.empty { "No one is waiting." } }
        ul.plain {
            @for a in &page.items {
                li {
                    (account_line(a))
                    div.actions {
                        (action(&viewer, &format!("/follow_requests/{}/authorize", a.id), "/follow_requests", html! { "Accept" }, None, ""))
                        (action(&viewer, &format!("/follow_requests/{}/reject", a.id), "/follow_requests", html! { "Reject" }, None, "quiet"))
                    }
                }
            }
        }
        (pager("/follow_requests", &page))
    };
    Ok(Page::new("Follow requests", Some(&viewer)).render(&state, main))
}

/// `POST /follow_requests/{id}/{authorize|reject}`
pub async fn answer_follow_request(
    State(state): State<AppState>,
    Path((id, answer)): Path<(String, String)>,
    FormPost(viewer, _): FormPost,
) -> WebResult<Response> {
    let from = parse_id(&id).ok_or_else(WebError::not_found)?;
    match answer.as_str() {
        "authorize" => {
            state
                .service
                .authorize_follow_request(viewer.id(), from)
                .await?
        }
        "reject" => {
            state
                .service
                .reject_follow_request(viewer.id(), from)
                .await?
        }
        _ => return Err(WebError::not_found()),
    };
    Ok(see_other("/follow_requests"))
}

fn notification_words(kind: NotificationType) -> &'static str {
    match kind {
        NotificationType::Follow => "followed you",
        NotificationType::FollowRequest => "asked to follow you",
        NotificationType::Mention => "mentioned you",
        NotificationType::Favourite => "favourited your post",
        NotificationType::Reblog => "boosted your post",
        NotificationType::Status => "just posted",
        NotificationType::Poll => "ended a poll you voted in or made",
        NotificationType::Update => "edited a post you boosted",
        NotificationType::AdminReport => "filed a report",
    }
}

/// `GET /notifications`
pub async fn notifications(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let page = state
        .service
        .notifications(viewer.id(), &[], &[], None, params.page()?)
        .await?;
    let main = html! {
        p { a href="/follow_requests" { "Follow requests" } }
        @if page.items.is_empty() { p.empty { "Nothing new." } }
        ul.plain #notifications {
            @for n in &page.items {
                li {
                    p {
                        a href=(profile_path(&n.account)) { strong { (display_name(&n.account)) } }
                        " " (notification_words(n.row.kind)) " · " (time(n.row.created_at_ms))
                    }
                    @if let Some(s) = &n.status {
                        (status(s, Some(&viewer), "/notifications", false))
                    }
                }
            }
        }
        (pager("/notifications", &page))
    };
    Ok(Page::new("Notifications", Some(&viewer)).render(&state, main))
}

/// `GET /search?q=`: accounts, hashtags and posts.
pub async fn search(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    params: Params,
) -> WebResult<Response> {
    let q = params.str("q").ok().flatten().unwrap_or_default();
    let me = viewer.as_ref().map(|v| v.id());
    let results = if q.trim().is_empty() {
        None
    } else {
        Some(state.service.search(me, &q, None, None, None).await?)
    };
    let main = html! {
        form role="search" method="get" action="/search" {
            label for="q" { "Search for people, hashtags and posts" }
            input #q type="search" name="q" value=(q);
            button type="submit" { "Search" }
        }
        @if let Some(r) = &results {
            section aria-labelledby="found-people" {
                h2 #found-people { "People" }
                (accounts_list(&r.accounts))
            }
            section aria-labelledby="found-tags" {
                h2 #found-tags { "Hashtags" }
                @if r.hashtags.is_empty() { p.empty { "None." } }
                ul.plain { @for t in &r.hashtags { li { a href={ "/tags/" (t.name) } { "#" (t.name) } } } }
            }
            section aria-labelledby="found-posts" {
                h2 #found-posts { "Posts" }
                (statuses(&r.statuses, viewer.as_ref(), "/search"))
            }
        }
    };
    let mut page = Page::new("Search", viewer.as_ref());
    if results.is_some() {
        page = page.private();
    }
    Ok(page.render(&state, main))
}

// ---------------------------------------------------------------- reports

/// What a person may report an account for (Mastodon's categories; ticking
/// a server rule makes the report a rule violation, as in the API).
const REPORT_CATEGORIES: &[(&str, &str)] = &[
    ("spam", "Spam"),
    ("legal", "Something illegal"),
    ("other", "Something else"),
];

/// `GET /@{username}/report` (`?status=` a post of theirs to include): the
/// form that tells the moderators.
pub async fn report_form(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(username): Path<String>,
    params: Params,
) -> WebResult<Response> {
    let a = account_named(&state, &username).await?;
    let here = format!("{}/report", profile_path(&a));
    if params.str("sent").ok().flatten().is_some() {
        let main = html! {
            p.notice #report-sent role="status" { "Thank you: the moderators will look at it." }
            p { a href=(profile_path(&a)) { "← " (display_name(&a)) } }
        };
        return Ok(Page::new("Report sent", Some(&viewer)).render(&state, main));
    }
    let reported = match params
        .str("status")
        .ok()
        .flatten()
        .and_then(|s| parse_id(&s))
    {
        Some(id) => Some(state.service.status(Some(viewer.id()), id).await?)
            .filter(|b| b.account.id == a.id),
        None => None,
    };
    let rules = state.service.instance_rules().await?;
    let main = html! {
        (account_line(&a))
        @if let Some(b) = &reported { (status(b, None, &here, false)) }
        form #report-form method="post" action=(here) {
            (super::layout::csrf_field(&viewer))
            @if let Some(b) = &reported { input type="hidden" name="status_ids[]" value=(b.status.id); }
            label for="report-category" { "What is wrong?" }
            select #report-category name="category" {
                @for (value, label) in REPORT_CATEGORIES { option value=(value) { (label) } }
            }
            @if !rules.is_empty() {
                fieldset #report-rules {
                    legend { "Server rules it breaks, if any" }
                    @for r in &rules {
                        label.check {
                            input id={ "report-rule-" (r.id) } type="checkbox" name="rule_ids[]" value=(r.id);
                            (r.text)
                        }
                    }
                }
            }
            label for="report-comment" { "Anything the moderators should know" }
            textarea #report-comment name="comment" {}
            button #send-report type="submit" { "Send to the moderators" }
        }
    };
    let title = format!("Report {}", display_name(&a));
    Ok(Page::new(&title, Some(&viewer)).render(&state, main))
}

/// `POST /@{username}/report`: files it through the same checks as `POST /api/v1/reports`.
pub async fn report(
    State(state): State<AppState>,
    Path(username): Path<String>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let a = account_named(&state, &username).await?;
    let status_ids = params
        .list("status_ids")?
        .iter()
        .map(|raw| parse_id(raw).ok_or_else(WebError::not_found))
        .collect::<WebResult<Vec<_>>>()?;
    let input = holdfast_service::moderation::ReportInput {
        account_id: a.id,
        status_ids,
        comment: params
            .str("comment")
            .ok()
            .flatten()
            .unwrap_or_default()
            .replace("\r\n", "\n"),
        forward: false,
        category: params.str("category").ok().flatten(),
        rule_ids: params.list("rule_ids")?,
    };
    state.service.file_report(viewer.id(), input).await?;
    Ok(see_other(&format!("{}/report?sent=1", profile_path(&a))))
}
