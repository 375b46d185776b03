//! Settings: the profile (name, bio, pictures, locked), the password, the
//! log-in sessions and authorized apps (each revocable), and deleting the account.

use axum::extract::{Path, State};
use axum::response::Response;
use holdfast_service::accounts::ProfileUpdate;
use holdfast_service::secrets::hash_secret;
use holdfast_store::ProfileImage;
use maud::html;

use super::layout::{csrf_field, see_other, Page, WebError, WebResult};
use super::parts::{action, time};
use super::session::{clear_session_cookie, FormPost, SignedIn};
use crate::params::{parse_id, Params};
use crate::AppState;

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "profile" => Some("Profile saved."),
        "password" => Some("Password changed. Your other sessions have ended."),
        "session" => Some("Session ended."),
        "app" => Some("App access revoked."),
        _ => None,
    }
}

/// `GET /settings`
pub async fn page(
    State(state): State<AppState>,
    SignedIn(viewer): SignedIn,
    params: Params,
) -> WebResult<Response> {
    let svc = &state.service;
    let me = &viewer.account;
    let sessions = svc.web_sessions(me.id).await?;
    let apps = svc.authorized_apps(me.id).await?;
    let this_session = hash_secret(viewer.secret());
    let limits = svc.limits();
    let notice = params.str("notice").ok().flatten();
    let main = html! {
        @if let Some(n) = notice.as_deref().and_then(notice_text) {
            p.notice role="status" { (n) }
        }
        section aria-labelledby="profile-settings" {
            h2 #profile-settings { "Profile" }
            form #profile-form method="post" action="/settings/profile" enctype="multipart/form-data" {
                (csrf_field(&viewer))
                label for="display-name" { "Display name" }
                input #display-name type="text" name="display_name" value=(me.display_name) maxlength=(limits.display_name_max_chars);
                label for="note" { "Bio" }
                textarea #note name="note" maxlength=(limits.note_max_chars) { (me.note) }
                label for="avatar" { "Avatar (PNG, JPEG, GIF or WebP)" }
                input #avatar type="file" name="avatar" accept="image/png,image/jpeg,image/gif,image/webp";
                label for="header" { "Header picture" }
                input #header type="file" name="header" accept="image/png,image/jpeg,image/gif,image/webp";
                label.check for="locked" {
                    input #locked type="checkbox" name="locked" value="true" checked[me.locked];
                    "Approve followers by hand (locked account)"
                }
                button #save-profile type="submit" { "Save profile" }
            }
        }
        section aria-labelledby="password-settings" {
            h2 #password-settings { "Password" }
            form #password-form method="post" action="/settings/password" {
                (csrf_field(&viewer))
                label for="current-password" { "Current password" }
                input #current-password type="password" name="current_password" autocomplete="current-password" required;
                label for="new-password" { "New password" }
                input #new-password type="password" name="password" autocomplete="new-password" required minlength=(limits.password_min_chars);
                button #change-password type="submit" { "Change password" }
            }
        }
        section aria-labelledby="sessions" {
            h2 #sessions { "Where you are logged in" }
            table {
                thead { tr { th scope="col" { "Started" } th scope="col" { "Ends" } th scope="col" { span.visually-hidden { "Action" } } } }
                tbody {
                    @for s in &sessions {
                        tr {
                            td { (time(s.created_at_ms)) @if s.session_hash == this_session { " " strong { "(this browser)" } } }
                            td { (time(s.expires_at_ms)) }
                            td {
                                @if s.session_hash != this_session {
                                    (action(&viewer, &format!("/settings/sessions/{}/revoke", s.session_hash), "/settings", html! { "End" }, None, "quiet"))
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="apps" {
            h2 #apps { "Authorized apps" }
            @if apps.is_empty() { p.empty { "No app has access to your account." } }
            ul.plain {
                @for a in &apps {
                    li {
                        strong { (a.name) }
                        @if let Some(w) = &a.website { " " span.meta { (w) } }
                        " · last authorized " (time(a.last_authorized_at_ms))
                        " "
                        (action(&viewer, &format!("/settings/apps/{}/revoke", a.app_id), "/settings", html! { "Revoke access" }, None, "quiet"))
                    }
                }
            }
        }
        section aria-labelledby="delete-account" {
            h2 #delete-account { "Delete your account" }
            p { "This removes your account and everything you posted, at once and for good." }
            form #delete-form method="post" action="/settings/delete" data-confirm="Delete your account and all your posts for good?" {
                (csrf_field(&viewer))
                label for="delete-password" { "Your password" }
                input #delete-password type="password" name="password" autocomplete="current-password" required;
                button.danger #delete-account-button type="submit" { "Delete my account" }
            }
        }
    };
    Ok(Page::new("Settings", Some(&viewer)).render(&state, main))
}

/// `POST /settings/profile` (multipart: the pictures)
pub async fn save_profile(
    State(state): State<AppState>,
    FormPost(viewer, mut params): FormPost,
) -> WebResult<Response> {
    let svc = &state.service;
    let text = |p: &Params, k: &str| p.str(k).ok().flatten();
    svc.update_profile(
        viewer.id(),
        ProfileUpdate {
            display_name: text(&params, "display_name"),
            note: text(&params, "note").map(|n| n.replace("\r\n", "\n")),
            // An unchecked box is not sent at all.
            locked: Some(text(&params, "locked").is_some_and(|v| v == "true")),
            ..Default::default()
        },
    )
    .await?;
    for (field, which) in [
        ("avatar", ProfileImage::Avatar),
        ("header", ProfileImage::Header),
    ] {
        if let Some(file) = params.take_file(field).filter(|f| !f.bytes.is_empty()) {
            let key = svc.store_profile_image(which, file.bytes).await?;
            svc.use_profile_image(viewer.id(), which, key).await?;
        }
    }
    Ok(see_other("/settings?notice=profile"))
}

/// `POST /settings/password`
pub async fn change_password(
    State(state): State<AppState>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let text = |k: &str| params.str(k).ok().flatten().unwrap_or_default();
    state
        .service
        .change_password(
            viewer.id(),
            &text("current_password"),
            text("password"),
            viewer.secret(),
        )
        .await?;
    Ok(see_other("/settings?notice=password"))
}

/// `POST /settings/sessions/{hash}/revoke`
pub async fn end_session(
    State(state): State<AppState>,
    Path(hash): Path<String>,
    FormPost(viewer, _): FormPost,
) -> WebResult<Response> {
    state.service.end_web_session(viewer.id(), &hash).await?;
    Ok(see_other("/settings?notice=session"))
}

/// `POST /settings/apps/{id}/revoke`
pub async fn revoke_app(
    State(state): State<AppState>,
    Path(id): Path<String>,
    FormPost(viewer, _): FormPost,
) -> WebResult<Response> {
    let app_id = parse_id(&id).ok_or_else(WebError::not_found)?;
    state
        .service
        .revoke_app_authorization(viewer.id(), app_id)
        .await?;
    Ok(see_other("/settings?notice=app"))
}

/// `POST /settings/delete`: with the password, the account is gone.
pub async fn delete_account(
    State(state): State<AppState>,
    FormPost(viewer, params): FormPost,
) -> WebResult<Response> {
    let password = params.str("password").ok().flatten().unwrap_or_default();
    state
        .service
        .delete_own_account(viewer.id(), &password)
        .await?;
    let mut response = see_other("/");
    clear_session_cookie(&state, &mut response);
    Ok(response)
}
