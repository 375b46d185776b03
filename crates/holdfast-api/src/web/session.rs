//! Who is looking at a page: the session cookie, resolved once per request,
//! and the CSRF token every form carries.
//!
//! The session is a server-side row keyed by the SHA-256 of a random secret
//! that only the browser holds (an `HttpOnly` cookie), so a session can be
//! listed and revoked, and each account keeps a bounded number of them
//! (`sessions_per_account_max`). Log-in always starts a new session and ends
//! the one the browser had (rotation). The same session serves the OAuth
//! authorize page.
//!
//! CSRF: a signed-in form carries a token derived from the session secret;
//! forms shown before log-in (log in, sign up) carry one derived from a
//! separate random `holdfast_form` cookie. A page on another site can neither
//! read those cookies nor compute the tokens. A POST whose token is missing or
//! wrong is refused with 403 before anything is read or written.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use holdfast_guard::cookies::cookie;
use holdfast_service::oauth::{csrf_token, csrf_token_matches};
use holdfast_store::{AccountRow, Id};

use super::layout::WebError;
use crate::params::Params;
use crate::AppState;

/// The log-in session cookie (web pages and the OAuth authorize page).
pub const SESSION_COOKIE: &str = "holdfast_session";
/// The anonymous forms' CSRF cookie (log in, sign up), set when such a form is shown.
pub const FORM_COOKIE: &str = "holdfast_form";
/// The hidden field every form's CSRF token travels in.
pub const CSRF_FIELD: &str = "csrf_token";

/// A signed-in browser: its account and its session secret.
pub struct Viewer {
    pub account: AccountRow,
    secret: String,
}

impl Viewer {
    pub fn id(&self) -> Id {
        self.account.id
    }

    /// The CSRF token of this session, for the forms on its pages.
    pub fn csrf(&self) -> String {
        csrf_token(&self.secret)
    }

    /// The session's secret, to end it at log-out.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// The log-in cookie's value (the session secret), if the browser sent one.
pub fn session_secret(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// `Set-Cookie` for the session: `HttpOnly`, `SameSite=Lax`, for the whole
/// site, and `Secure` whenever the instance is served over https, so it never
/// travels in the clear.
pub fn session_cookie_header(secret: &str, max_age_s: u64, https: bool) -> String {
    cookie_header(SESSION_COOKIE, secret, max_age_s, https)
}

fn cookie_header(name: &str, value: &str, max_age_s: u64, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{secure}")
}

fn https(state: &AppState) -> bool {
    state.service.base_url.starts_with("https://")
}

/// Gives the browser its new session (log-in).
pub fn set_session_cookie(state: &AppState, response: &mut Response, secret: &str) {
    let value = session_cookie_header(secret, state.service.limits().session_ttl_s, https(state));
    append_cookie(response, &value);
}

/// Forgets the session in the browser (log-out); the row is ended separately.
pub fn clear_session_cookie(state: &AppState, response: &mut Response) {
    append_cookie(response, &session_cookie_header("", 0, https(state)));
}

fn append_cookie(response: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The logged-in account of this browser, if its session is live.
pub async fn viewer_of(state: &AppState, headers: &HeaderMap) -> Result<Option<Viewer>, WebError> {
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    Ok(state
        .service
        .session_account(&secret)
        .await?
        .map(|account| Viewer { account, secret }))
}

/// Anyone: the viewer when signed in.
pub struct MaybeViewer(pub Option<Viewer>);

impl FromRequestParts<AppState> for MaybeViewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        Ok(MaybeViewer(viewer_of(state, &parts.headers).await?))
    }
}

/// Pages only a signed-in person sees; anyone else is sent to log in and
/// brought back afterwards.
pub struct SignedIn(pub Viewer);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match viewer_of(state, &parts.headers).await? {
            Some(v) => Ok(SignedIn(v)),
            None => {
                let back = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair("back", back);
                Err(WebError::Redirect(format!("/auth/sign_in?{}", q.finish())))
            }
        }
    }
}

/// A signed-in form post whose CSRF token matched: the viewer and the fields.
/// Every signed-in form handler takes one, so none can forget the check. The
/// body is read first (a bad body is the params' 400, as for any handler);
/// then a browser not signed in is sent to log in, and a missing or wrong
/// token is a 403, before the handler reads or writes anything.
pub struct FormPost(pub Viewer, pub Params);

impl FromRequest<AppState> for FormPost {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let headers = req.headers().clone();
        let params = Params::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let viewer = viewer_of(state, &headers)
            .await
            .map_err(IntoResponse::into_response)?
            .ok_or_else(|| WebError::Redirect("/auth/sign_in".into()).into_response())?;
        let token = params.str(CSRF_FIELD).ok().flatten().unwrap_or_default();
        if !csrf_token_matches(&viewer.secret, &token) {
            return Err(WebError::forged().into_response());
        }
        Ok(FormPost(viewer, params))
    }
}

/// The CSRF token for an anonymous form, and the cookie value it is bound to
/// (reused when the browser already has one, so two open tabs both work).
pub fn anonymous_form_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, FORM_COOKIE).filter(|c| plausible(c)) {
        Some(c) => (csrf_token(&c), None),
        None => {
            let fresh = holdfast_service::secrets::random_secret();
            (csrf_token(&fresh), Some(fresh))
        }
    }
}

/// Sets the anonymous forms' cookie, when a new one was made for this page.
pub fn set_form_cookie(state: &AppState, response: &mut Response, fresh: Option<String>) {
    if let Some(value) = fresh {
        let header = cookie_header(
            FORM_COOKIE,
            &value,
            state.service.limits().session_ttl_s,
            https(state),
        );
        append_cookie(response, &header);
    }
}

/// Whether an anonymous form's token matches the browser's form cookie.
pub fn anonymous_form_ok(headers: &HeaderMap, params: &Params) -> bool {
    let token = params.str(CSRF_FIELD).ok().flatten().unwrap_or_default();
    cookie(headers, FORM_COOKIE).is_some_and(|c| plausible(&c) && csrf_token_matches(&c, &token))
}

/// Our secrets are 43 characters of base64url.
fn plausible(s: &str) -> bool {
    // fact: 32 random bytes in unpadded base64url are 43 characters
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A local path to come back to after a form (`back`), never another site.
pub fn local_path(back: Option<String>, fallback: &str) -> String {
    match back {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p,
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_secure_on_https_only() {
        assert_eq!(
            session_cookie_header("abc", 60, true),
            "holdfast_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!session_cookie_header("abc", 60, false).contains("Secure"));
    }

    #[test]
    fn the_session_is_the_log_in_cookie() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; holdfast_session=abc"),
        );
        assert_eq!(session_secret(&h).as_deref(), Some("abc"));
    }

    #[test]
    fn back_goes_only_to_local_paths() {
        assert_eq!(
            local_path(Some("/home?max_id=1".into()), "/"),
            "/home?max_id=1"
        );
        assert_eq!(local_path(Some("//evil.example/".into()), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example/".into()), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example".into()), "/"), "/");
        assert_eq!(local_path(None, "/home"), "/home");
    }
}
