//! The page around every page: landmarks, navigation, the one stylesheet and
//! script, and the headers every page leaves with (a strict
//! Content-Security-Policy: nothing inline, nothing from elsewhere, never framed).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use holdfast_service::ServiceError;
use maud::{html, Markup, DOCTYPE};

use super::assets;
use super::session::{Viewer, CSRF_FIELD};
use crate::error::ApiError;
use crate::AppState;

/// Only our own stylesheet, script and pictures; the script talks only to
/// this site (the live home timeline); forms post only here; no frames
/// anywhere (clickjacking); no `<base>` games.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The OAuth authorize page's consent form ends in a redirect to the app's own
/// URI (another origin, or a custom scheme), which `form-action 'self'` would block.
const CSP_OAUTH: &str =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                         frame-ancestors 'none'; base-uri 'none'";

/// What a page is about, for the shell.
pub struct Page<'a> {
    pub title: &'a str,
    pub viewer: Option<&'a Viewer>,
    pub status: StatusCode,
    /// Answered fresh each time and never kept by a cache (forms with tokens, private pages).
    pub private: bool,
    pub lang: &'a str,
    csp: &'static str,
}

impl<'a> Page<'a> {
    pub fn new(title: &'a str, viewer: Option<&'a Viewer>) -> Page<'a> {
        Page {
            title,
            viewer,
            status: StatusCode::OK,
            private: viewer.is_some(),
            lang: "en",
            csp: CSP,
        }
    }

    /// A page of the OAuth authorize flow, in the language the app asked for.
    pub fn oauth(mut self, lang: &'a str) -> Page<'a> {
        self.lang = lang;
        self.csp = CSP_OAUTH;
        self.private = true;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Page<'a> {
        self.status = status;
        self
    }

    pub fn private(mut self) -> Page<'a> {
        self.private = true;
        self
    }

    /// The whole document around `main`.
    pub fn render(self, state: &AppState, main: Markup) -> Response {
        let domain = state.service.config.domain.clone();
        self.render_for(&domain, main)
    }

    /// The document, where the server's name is not at hand (the OAuth pages).
    pub fn render_bare(self, main: Markup) -> Response {
        self.render_for("holdfast", main)
    }

    fn render_for(self, domain: &str, main: Markup) -> Response {
        let doc = html! {
            (DOCTYPE)
            html lang=(self.lang) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · " (domain) }
                    link rel="stylesheet" href=(assets::STYLE_URL.as_str());
                    script src=(assets::SCRIPT_URL.as_str()) defer {}
                }
                body {
                    a.skip href="#main" { "Skip to content" }
                    header.top {
                        a.brand href="/" { (domain) }
                        (navigation(self.viewer))
                    }
                    main #main tabindex="-1" {
                        h1 { (self.title) }
                        (main)
                    }
                    footer { p { "Powered by holdfast · works with any Mastodon app" } }
                }
            }
        };
        let mut response = (self.status, doc.into_string()).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        secure_headers(&mut response);
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(self.csp),
        );
        if self.private {
            no_store(&mut response);
        }
        response
    }
}

fn navigation(viewer: Option<&Viewer>) -> Markup {
    html! {
        nav aria-label="Main" {
            ul {
                @if let Some(v) = viewer {
                    li { a href="/home" { "Home" } }
                    li { a href="/notifications" { "Notifications" } }
                    li { a href="/search" { "Search" } }
                    li { a href="/lists" { "Lists" } }
                    li { a href={ "/@" (v.account.username) } { "Profile" } }
                    li { a href="/settings" { "Settings" } }
                    @if super::moderation::is_staff(v) { li { a href="/admin/reports" { "Moderation" } } }
                    li {
                        form.inline method="post" action="/auth/sign_out" {
                            (csrf_field(v))
                            button.link type="submit" { "Log out" }
                        }
                    }
                } @else {
                    li { a href="/search" { "Search" } }
                    li { a href="/auth/sign_in" { "Log in" } }
                    li { a href="/auth/sign_up" { "Sign up" } }
                }
            }
        }
    }
}

/// The hidden CSRF field of a signed-in form.
pub fn csrf_field(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(viewer.csrf()); }
}

/// Headers every page leaves with.
pub fn secure_headers(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: with it, browsers send `Origin: null` on the pages' own
    // form posts, and the OAuth page's origin check could no longer tell them apart.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

pub fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// 303 See Other to a local path (Post/Redirect/Get).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut response);
    response
}

/// A page that could not be shown, as a page (never JSON: a person reads it).
#[derive(Debug)]
pub enum WebError {
    /// Go there instead (log in first, say).
    Redirect(String),
    /// A page saying what went wrong.
    Shown { status: StatusCode, message: String },
}

impl WebError {
    pub fn forged() -> WebError {
        WebError::Shown {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired or did not come from this site. Go back, reload the page and try again.".into(),
        }
    }

    pub fn not_found() -> WebError {
        WebError::Shown {
            status: StatusCode::NOT_FOUND,
            message: "There is nothing here, or it is not yours to see.".into(),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        WebError::Shown {
            status: e.status,
            message: e.description.unwrap_or(e.error),
        }
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> WebError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Redirect(to) => see_other(&to),
            WebError::Shown { status, message } => {
                let title = if status == StatusCode::NOT_FOUND {
                    "Not found"
                } else if status.is_client_error() {
                    "That did not work"
                } else {
                    "Something went wrong"
                };
                let body = html! {
                    (DOCTYPE)
                    html lang="en" {
                        head {
                            meta charset="utf-8";
                            meta name="viewport" content="width=device-width, initial-scale=1";
                            title { (title) }
                            link rel="stylesheet" href=(assets::STYLE_URL.as_str());
                        }
                        body {
                            main #main {
                                h1 { (title) }
                                p.error #error role="alert" { (message) }
                                p { a href="/" { "Back to the front page" } }
                            }
                        }
                    }
                };
                let mut response = (status, body.into_string()).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                secure_headers(&mut response);
                no_store(&mut response);
                response
            }
        }
    }
}

pub type WebResult<T> = Result<T, WebError>;
