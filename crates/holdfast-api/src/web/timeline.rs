//! The front page, home, hashtags, a status with its thread, and everything
//! done to statuses: post, reply, favourite, boost, bookmark, delete. Every
//! read and write goes through the same Service operations as the API, so
//! the same visibility rules and limits hold.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use holdfast_service::lists::Timeline;
use holdfast_service::media::UploadInput;
use holdfast_service::statuses::PostInput;
use holdfast_service::PageRequest;
use maud::html;

use super::layout::{see_other, Page, WebError, WebResult};
use super::parts::{compose, pager, status, statuses};
use super::session::{local_path, FormPost, MaybeViewer, SignedIn};
use crate::params::{parse_id, Params};
use crate::streaming::SseClient;
use crate::AppState;

/// A web page of statuses: the page's `max_id`/`min_id`, the web page size.
fn page_request(state: &AppState, params: &Params) -> WebResult<PageRequest> {
    let mut req = params.page()?;
    req.limit = Some(state.service.limits().web_statuses_page);
    Ok(req)
}

/// `GET /`: the local public timeline and the way in; signed in, home.
pub async fn landing(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    params: Params,
) -> WebResult<Response> {
    if viewer.is_some() {
        return Ok(see_other("/home"));
    }
    let svc = &state.service;
    let page = svc
        .timeline(
            Timeline::Public {
                viewer: None,
                only_media: false,
            },
            page_request(&state, &params)?,
        )
        .await?;
    let main = html! {
        p.lead { "A holdfast server: a place to post, follow people and talk. Use it here, or with any Mastodon app (Tusky, Elk, toot, …) and this server's address." }
        p {
            a.button #sign-up-link href="/auth/sign_up" { "Sign up" }
            " "
            a.button #log-in-link href="/auth/sign_in" { "Log in" }
        }
        h2 { "Public timeline" }
        (statuses(&page.items, None, "/"))
        (pager("/", &page))
    };
    Ok(Page::new(&svc.config.domain, None).render(&state, main))
}

/// `GET /home`: the compose box and the home timeline.
pub async fn home(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let svc = &state.service;
    let page = svc
        .timeline(
            Timeline::Home { me: viewer.id() },
            page_request(&state, &params)?,
        )
        .await?;
    let notice = params.str("notice").ok().flatten();
    // Only the newest page takes live updates: an older page stays as it was.
    let newest = !params.has("max_id") && !params.has("min_id");
    let main = html! {
        @if let Some(n) = notice.as_deref().and_then(notice_text) {
            p.notice role="status" { (n) }
        }
        (compose(&viewer, "/home", None, svc.limits().status_max_chars))
        h2 { "Your timeline" }
        @if newest {
            p.hint #live-status aria-live="polite" {}
            div #timeline data-live="/home/live" data-page="/home" {
                (statuses(&page.items, Some(&viewer), "/home"))
            }
        } @else {
            (statuses(&page.items, Some(&viewer), "/home"))
        }
        (pager("/home", &page))
    };
    Ok(Page::new("Home", Some(&viewer)).render(&state, main))
}

/// `GET /home/live`: the home timeline's events for the page's script, which
/// then fetches `/home` and adds the posts it does not show yet (see
/// `enhance.js`). The same stream and rules as `/api/v1/streaming/user`.
pub async fn live(
    State(state): State<AppState>,
    client: SseClient,
    MaybeViewer(viewer): MaybeViewer,
) -> WebResult<Response> {
    // Not a redirect to the log-in page: an event stream cannot follow one.
    let viewer = viewer.ok_or(WebError::Shown {
        status: StatusCode::UNAUTHORIZED,
        message: "Log in to see your home timeline.".into(),
    })?;
    let (id, secret) = (viewer.id(), viewer.secret().to_owned());
    Ok(crate::streaming::web_user_sse(state, client, id, secret).await)
}

/// Short notices a redirect may ask for (never text from the query itself).
fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "posted" => Some("Posted."),
        "deleted" => Some("Deleted."),
        _ => None,
    }
}

/// `GET /tags/{name}`
pub async fn tag(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path(name): Path<String>,
    params: Params,
) -> WebResult<Response> {
    let name = name.to_lowercase();
    let page = state
        .service
        .timeline(
            Timeline::Tag {
                viewer: viewer.as_ref().map(|v| v.id()),
                name: &name,
            },
            page_request(&state, &params)?,
        )
        .await?;
    let path = format!("/tags/{name}");
    let title = format!("#{name}");
    let main = html! {
        (statuses(&page.items, viewer.as_ref(), &path))
        (pager(&path, &page))
    };
    Ok(Page::new(&title, viewer.as_ref()).render(&state, main))
}

/// `GET /@{username}/{id}`: the status, what it replies to, the replies, and
/// a reply box.
pub async fn thread(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Path((username, id)): Path<(String, String)>,
) -> WebResult<Response> {
    let id = parse_id(&id).ok_or_else(WebError::not_found)?;
    let me = viewer.as_ref().map(|v| v.id());
    let svc = &state.service;
    let focused = svc.status(me, id).await?;
    if !focused
        .account
        .username
        .eq_ignore_ascii_case(username.trim_start_matches('@'))
    {
        return Err(WebError::not_found());
    }
    let (ancestors, descendants) = svc.context(me, id).await?;
    let here = format!("/@{}/{}", focused.account.username, id);
    let title = format!("Post by {}", super::parts::display_name(&focused.account));
    let main = html! {
        @if !ancestors.is_empty() {
            section aria-label="Earlier in the thread" { (statuses(&ancestors, viewer.as_ref(), &here)) }
        }
        (status(&focused, viewer.as_ref(), &here, true))
        @if let Some(v) = &viewer {
            (compose(v, &here, Some(&focused), svc.limits().status_max_chars))
        }
        @if !descendants.is_empty() {
            section aria-labelledby="replies" {
                h2 #replies { "Replies" }
                (statuses(&descendants, viewer.as_ref(), &here))
            }
        }
    };
    Ok(Page::new(&title, viewer.as_ref()).render(&state, main))
}

/// `POST /statuses` (multipart: the picture): posts through the web UI's
/// app, attaching the picture with its description first.
pub async fn post(
    State(state): State<AppState>,
    FormPost(viewer, mut params): FormPost,
) -> WebResult<Response> {
    let svc = &state.service;
    let text = |p: &Params, k: &str| p.str(k).ok().flatten().filter(|s| !s.is_empty());
    let mut media_ids = Vec::new();
    if let Some(file) = params.take_file("image").filter(|f| !f.bytes.is_empty()) {
        let row = svc
            .upload_media(
                viewer.id(),
                UploadInput {
                    file: file.bytes,
                    thumbnail: None,
                    description: text(&params, "image_description"),
                    focus: None,
                },
            )
            .await?;
        media_ids.push(row.id);
    }
    let in_reply_to_id = match text(&params, "in_reply_to_id") {
        Some(raw) => Some(parse_id(&raw).ok_or_else(WebError::not_found)?),
        None => None,
    };
    svc.post_status(
        viewer.id(),
        svc.web_app_id().await?,
        PostInput {
            status: text(&params, "status"),
            in_reply_to_id,
            visibility: text(&params, "visibility"),
            spoiler_text: text(&params, "spoiler_text"),
            sensitive: None,
            language: None,
            idempotency_key: None,
            media_ids,
            poll: None,
        },
    )
    .await?;
    let back = if in_reply_to_id.is_some() {
        local_path(text(&params, "back"), "/home")
    } else {
        "/home?notice=posted".to_owned()
    };
    Ok(see_other(&back))
}

/// `POST /statuses/{id}/{action}`: one small form per action, back to where it was.
pub async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = parse_id(&id).ok_or_else(WebError::not_found)?;
    let me = viewer.id();
    let svc = &state.service;
    match action.as_str() {
        "favourite" => drop(svc.favourite(me, id).await?),
        "unfavourite" => drop(svc.unfavourite(me, id).await?),
        "reblog" => drop(svc.reblog(me, id, None).await?),
        "unreblog" => drop(svc.unreblog(me, id).await?),
        "bookmark" => drop(svc.bookmark(me, id).await?),
        "unbookmark" => drop(svc.unbookmark(me, id).await?),
        "delete" => {
            svc.delete_status(me, id).await?;
            return Ok(see_other("/home?notice=deleted"));
        }
        _ => return Err(WebError::not_found()),
    }
    let back = local_path(params.str("back").ok().flatten(), "/home");
    Ok(see_other(&format!("{back}#status-{id}")))
}

/// `POST /polls/{id}/vote`: the chosen options (`choices[]`, by index), checked
/// by the service as for `POST /api/v1/polls/:id/votes`.
pub async fn vote(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = parse_id(&id).ok_or_else(WebError::not_found)?;
    let choices = params
        .list("choices")?
        .iter()
        .map(|c| c.parse::<u32>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| WebError::Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "Choose one of the poll's options.".into(),
        })?;
    let poll = state.service.vote(viewer.id(), id, &choices).await?;
    let back = local_path(params.str("back").ok().flatten(), "/home");
    Ok(see_other(&format!("{back}#status-{}", poll.status_id)))
}
