//! Lists: the signed-in person's own lists of accounts, each with its
//! timeline. The same service calls as `/api/v1/lists` (only the owner ever
//! sees a list; someone else's is 404).

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_service::lists::Timeline;
use holdfast_service::user_lists::ListFields;
use maud::html;

use super::layout::{csrf_field, see_other, Page, WebError, WebResult};
use super::parts::{account_line, action, pager, statuses};
use super::session::{FormPost, SignedIn};
use crate::params::{parse_id, Params};
use crate::AppState;

fn title_of(params: &Params) -> Option<String> {
    params.str("title").ok().flatten()
}

/// `GET /lists`: the lists, and a form for a new one.
pub async fn index(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
) -> WebResult<Response> {
    let lists = state.service.lists(viewer.id()).await?;
    let main = html! {
        form #new-list method="post" action="/lists" {
            (csrf_field(&viewer))
            label for="list-title" { "New list" }
            input #list-title type="text" name="title" required;
            button #create-list type="submit" { "Create" }
        }
        @if lists.is_empty() { p.empty #no-lists { "No lists yet." } }
        @for l in &lists {
            article.list id={ "list-" (l.id) } {
                h2 { a href={ "/lists/" (l.id) } { (l.title) } }
                details {
                    summary { "Rename" }
                    form method="post" action={ "/lists/" (l.id) "/rename" } {
                        (csrf_field(&viewer))
                        label for={ "title-" (l.id) } { "Title" }
                        input id={ "title-" (l.id) } type="text" name="title" value=(l.title) required;
                        button type="submit" { "Save" }
                    }
                }
                form.inline method="post" action={ "/lists/" (l.id) "/delete" } data-confirm={ "Delete the list " (l.title) "?" } {
                    (csrf_field(&viewer))
                    button.quiet type="submit" { "Delete" }
                }
            }
        }
    };
    Ok(Page::new("Lists", Some(&viewer)).render(&state, main))
}

/// `GET /lists/{id}`: the list's timeline and its members.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    Path(id): Path<String>,
    params: Params,
) -> WebResult<Response> {
    let id = parse_id(&id).ok_or_else(WebError::not_found)?;
    let svc = &state.service;
    let list = svc.list(viewer.id(), id).await?;
    let mut req = params.page()?;
    req.limit = Some(svc.limits().web_statuses_page);
    let page = svc
        .timeline(
            Timeline::List {
                me: viewer.id(),
                id,
            },
            req,
        )
        .await?;
    let members_req = holdfast_service::PageRequest {
        limit: Some(svc.limits().web_accounts_page),
        ..Default::default()
    };
    let members = svc.list_members(viewer.id(), id, members_req).await?;
    let here = format!("/lists/{id}");
    let main = html! {
        details #members {
            summary { "Members" }
            form method="post" action={ (here) "/add" } {
                (csrf_field(&viewer))
                label for="member" { "Add someone you follow (username)" }
                input #member type="text" name="username" required;
                button #add-member type="submit" { "Add" }
            }
            ul.plain {
                @for a in &members.items {
                    li {
                        (account_line(a))
                        (action(&viewer, &format!("{here}/remove?account_id={}", a.id), &here, html! { "Remove" }, None, "quiet"))
                    }
                }
            }
        }
        (statuses(&page.items, Some(&viewer), &here))
        (pager(&here, &page))
    };
    Ok(Page::new(&list.title, Some(&viewer)).render(&state, main))
}

/// `POST /lists`
pub async fn create(
    State(state): State<AppState>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let fields = ListFields {
        title: title_of(&params),
        ..Default::default()
    };
    let list = state.service.create_list(viewer.id(), fields).await?;
    Ok(see_other(&format!("/lists#list-{}", list.id)))
}

/// `POST /lists/{id}/{rename|delete|add|remove}`
pub async fn act(
    State(state): State<AppState>,
    Path((id, what)): Path<(String, String)>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let id = parse_id(&id).ok_or_else(WebError::not_found)?;
    let (me, svc) = (viewer.id(), &state.service);
    match what.as_str() {
        "rename" => {
            let fields = ListFields {
                title: Some(title_of(&params).unwrap_or_default()),
                ..Default::default()
            };
            svc.update_list(me, id, fields).await?;
            Ok(see_other(&format!("/lists#list-{id}")))
        }
        "delete" => {
            svc.delete_list(me, id).await?;
            Ok(see_other("/lists"))
        }
        "add" => {
            let username = params.str("username").ok().flatten().unwrap_or_default();
            let account = svc.lookup(&username).await?;
            svc.add_list_members(me, id, &[account.id]).await?;
            Ok(see_other(&format!("/lists/{id}")))
        }
        "remove" => {
            let account = params
                .str("account_id")
                .ok()
                .flatten()
                .and_then(|raw| parse_id(&raw))
                .ok_or_else(WebError::not_found)?;
            svc.remove_list_members(me, id, &[account]).await?;
            Ok(see_other(&format!("/lists/{id}")))
        }
        _ => Err(WebError::not_found()),
    }
}
