//! Log in, log out, sign up. The same credentials and password hashing as the
//! API (`Service::check_password`, `Service::register_from`, so address blocks
//! apply to web sign-ups too); the log-in form is
//! the one the OAuth authorize page shows too.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use holdfast_config::Registrations;
use holdfast_service::oauth::SignUp;
use holdfast_service::ServiceError;
use maud::{html, Markup};

use super::layout::{see_other, Page, WebError, WebResult};
use super::session::{
    anonymous_form_ok, anonymous_form_token, clear_session_cookie, local_path, session_secret,
    set_form_cookie, set_session_cookie, viewer_of, FormPost, MaybeViewer, CSRF_FIELD,
};
use crate::params::Params;
use crate::streaming::ClientAddr;
use crate::AppState;

/// The log-in form, shared with the OAuth authorize page: `action` is where
/// it posts, `hidden` what it carries along (the OAuth request, a CSRF token).
pub fn log_in_form(
    action: &str,
    hidden: &[(&str, String)],
    error: Option<&str>,
    email: &str,
) -> Markup {
    html! {
        @if let Some(e) = error {
            p.error #error role="alert" { (e) }
        }
        form #log-in-form method="post" action=(action) {
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            label for="email" { "E-mail" }
            input #email type="email" name="email" value=(email) autocomplete="username" required;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button #log-in type="submit" { "Log in" }
        }
    }
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    back: &str,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
) -> Response {
    let (token, fresh) = anonymous_form_token(headers);
    let hidden = [(CSRF_FIELD, token), ("back", back.to_owned())];
    let main = html! {
        (log_in_form("/auth/sign_in", &hidden, error, email))
        p { "No account yet? " a href="/auth/sign_up" { "Sign up" } }
    };
    let mut response = Page::new("Log in", None)
        .status(status)
        .private()
        .render(state, main);
    set_form_cookie(state, &mut response, fresh);
    response
}

/// `GET /auth/sign_in`
pub async fn sign_in_form(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let back = local_path(params.str("back").ok().flatten(), "/home");
    if viewer.is_some() {
        return see_other(&back);
    }
    sign_in_page(&state, &headers, &back, StatusCode::OK, None, "")
}

/// `POST /auth/sign_in`: a new session (the old one, if any, ends: rotation).
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> WebResult<Response> {
    if !anonymous_form_ok(&headers, &params) {
        return Err(WebError::forged());
    }
    let back = local_path(params.str("back").ok().flatten(), "/home");
    let email = params.str("email").ok().flatten().unwrap_or_default();
    let password = params.str("password").ok().flatten().unwrap_or_default();
    let account_id = match state.service.check_password(&email, &password).await {
        Ok(id) => id,
        Err(ServiceError::OAuth { description, .. }) => {
            let shown = if description.contains("credentials are wrong") {
                "That e-mail and password do not match an account here."
            } else {
                description.as_str()
            };
            return Ok(sign_in_page(
                &state,
                &headers,
                &back,
                StatusCode::UNAUTHORIZED,
                Some(shown),
                &email,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(old) = session_secret(&headers) {
        state.service.end_session(&old).await?;
    }
    let secret = state.service.start_session(account_id).await?;
    let mut response = see_other(&back);
    set_session_cookie(&state, &mut response, &secret);
    Ok(response)
}

/// `POST /auth/sign_out`: ends the session row and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    FormPost(viewer, _): FormPost,
) -> WebResult<Response> {
    state.service.end_session(viewer.secret()).await?;
    let mut response = see_other("/");
    clear_session_cookie(&state, &mut response);
    Ok(response)
}

/// The server rules a person agrees to by signing up. A store that cannot
/// answer now shows the form without them (signing up then fails anyway,
/// with its own message).
async fn rules_to_agree_to(state: &AppState) -> Vec<holdfast_store::RuleRow> {
    state.service.instance_rules().await.unwrap_or_default()
}

fn sign_up_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    (username, email): (&str, &str),
    rules: &[holdfast_store::RuleRow],
) -> Response {
    let registrations = state.service.config.registrations;
    let (token, fresh) = anonymous_form_token(headers);
    let limits = state.service.limits();
    let main = html! {
        @match registrations {
            Registrations::Closed => {
                p.notice #closed { "Sign-ups are closed on this server." }
            }
            _ => {
                @if registrations == Registrations::Approval {
                    p.notice #approval { "A moderator reviews each new account before it can log in." }
                }
                @if let Some(e) = error {
                    p.error #error role="alert" { (e) }
                }
                form #sign-up-form method="post" action="/auth/sign_up" {
                    input type="hidden" name=(CSRF_FIELD) value=(token);
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(username) autocomplete="username"
                        required maxlength=(limits.username_max_chars) pattern="[A-Za-z0-9_]+" aria-describedby="username-hint";
                    p.hint #username-hint { "Letters, digits and underscores." }
                    label for="email" { "E-mail" }
                    input #email type="email" name="email" value=(email) autocomplete="email" required;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="new-password" required
                        minlength=(limits.password_min_chars) aria-describedby="password-hint";
                    p.hint #password-hint { "At least " (limits.password_min_chars) " characters." }
                    @if !rules.is_empty() {
                        h2 #rules-heading { "This server's rules" }
                        ol #sign-up-rules aria-labelledby="rules-heading" {
                            @for r in rules {
                                li { (r.text) @if !r.hint.is_empty() { br; span.meta { (r.hint) } } }
                            }
                        }
                    }
                    label.check for="agreement" {
                        input #agreement type="checkbox" name="agreement" value="true" required;
                        "I agree to this server's rules"
                    }
                    button #sign-up type="submit" { "Sign up" }
                }
            }
        }
        p { "Already have an account? " a href="/auth/sign_in" { "Log in" } }
    };
    let mut response = Page::new("Sign up", None)
        .status(status)
        .private()
        .render(state, main);
    set_form_cookie(state, &mut response, fresh);
    response
}

/// `GET /auth/sign_up`
pub async fn sign_up_form(
    State(state): State<AppState>,
    MaybeViewer(viewer): MaybeViewer,
    headers: HeaderMap,
) -> Response {
    if viewer.is_some() {
        return see_other("/home");
    }
    let rules = rules_to_agree_to(&state).await;
    sign_up_page(&state, &headers, StatusCode::OK, None, ("", ""), &rules)
}

/// `POST /auth/sign_up`: open registrations log the new account in at once;
/// with approval it waits for a moderator; closed refuses (403).
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(addr): ClientAddr,
    params: Params,
) -> WebResult<Response> {
    if !anonymous_form_ok(&headers, &params) {
        return Err(WebError::forged());
    }
    let text = |k: &str| params.str(k).ok().flatten().unwrap_or_default();
    let (username, email) = (text("username"), text("email"));
    let input = SignUp {
        username: username.clone(),
        email: email.clone(),
        password: text("password"),
        agreement: matches!(text("agreement").as_str(), "true" | "on" | "1"),
        locale: None,
    };
    let account = match state.service.register_from(input, Some(addr)).await {
        Ok(a) => a,
        Err(
            e @ (ServiceError::Validation { .. }
            | ServiceError::Unprocessable(_)
            | ServiceError::Forbidden(_)),
        ) => {
            let status = if matches!(e, ServiceError::Forbidden(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let message = e.to_string();
            let rules = rules_to_agree_to(&state).await;
            return Ok(sign_up_page(
                &state,
                &headers,
                status,
                Some(&message),
                (&username, &email),
                &rules,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !account.approved {
        let main = html! {
            p #pending { "Thank you, @" (account.username) ". A moderator will review your account; you can log in once it is approved." }
        };
        return Ok(Page::new("Almost there", None)
            .private()
            .render(&state, main));
    }
    // Signed up and signed in: a fresh session, any earlier one ended.
    if let Some(old) = viewer_of(&state, &headers).await? {
        state.service.end_session(old.secret()).await?;
    }
    let secret = state.service.start_session(account.id).await?;
    let mut response = see_other("/home");
    set_session_cookie(&state, &mut response, &secret);
    Ok(response.into_response())
}
