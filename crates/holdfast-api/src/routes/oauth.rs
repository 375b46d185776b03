//! OAuth 2: app registration, the authorize page (log-in step, then consent
//! step), tokens (with PKCE), revocation and the server metadata.
//!
//! The authorize page keeps a person logged in with a cookie session (only
//! its hash is stored; HttpOnly, SameSite=Lax, Secure on https) so they are
//! not asked for their password twice; the consent form carries a CSRF token
//! derived from that session. Every page here is `Cache-Control: no-store`
//! and may not be framed.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use holdfast_service::oauth::{
    csrf_token, csrf_token_matches, valid_language, AppInput, ClientAuth, Pkce, OOB_REDIRECT,
};
use holdfast_service::{OAuthError, Scopes, ServiceError};
use holdfast_store::{AccountRow, AppRow};
use serde_json::{json, Value};

use crate::auth::{scope, Caller, User};
use crate::entities::{Account, Application, CredentialApplication, Empty, Token};
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::web::auth::log_in_form;
use crate::web::layout::Page;
use crate::web::session::{session_secret, set_session_cookie};
use crate::AppState;
use maud::{html, Markup};

pub async fn create_app(
    State(state): State<AppState>,
    params: Params,
) -> ApiResult<Json<CredentialApplication>> {
    // A list (`redirect_uris[]=…`, a JSON array) or one string of URIs separated by
    // whitespace (newlines, as Mastodon stores them).
    let redirect_uris = match params.0.get("redirect_uris") {
        Some(Value::Array(_)) => params.list("redirect_uris")?,
        Some(Value::String(_)) | Some(Value::Null) | None => params
            .str("redirect_uris")?
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: Redirect URI must be a string or a list of strings",
            ))
        }
    };
    let created = state
        .service
        .create_app(AppInput {
            client_name: params.str("client_name")?.unwrap_or_default(),
            redirect_uris,
            scopes: params.str("scopes")?,
            website: params.str("website")?,
        })
        .await?;
    let app = &created.app;
    Ok(Json(CredentialApplication {
        application: Application::new(
            app.id,
            &app.name,
            app.website.as_deref(),
            &app.scopes,
            &app.redirect_uris,
            state.service.vapid_public_key().await?,
        ),
        client_id: app.client_id.clone(),
        client_secret: created.client_secret,
        client_secret_expires_at: 0,
    }))
}

pub async fn verify_app(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Application>> {
    let p = caller.0.as_ref().ok_or_else(ApiError::unauthorized)?;
    Ok(Json(Application::new(
        p.app_id,
        &p.app_name,
        p.app_website.as_deref(),
        &p.app_scopes,
        &p.app_redirect_uris,
        state.service.vapid_public_key().await?,
    )))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414), with the fields
/// Mastodon 4.3 publishes, listing what holdfast really supports.
pub async fn server_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = state.service.base_url.trim_end_matches('/');
    Json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "scopes_supported": holdfast_service::scopes::all(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}

/// `GET`/`POST /oauth/userinfo` (Mastodon 4.4): the OpenID Connect claims
/// of the signed-in user; `iss` is the metadata's `issuer`.
pub async fn userinfo(
    State(state): State<AppState>,
    user: User<scope::Profile>,
) -> ApiResult<Json<Value>> {
    let row = state.service.account(Some(user.id), user.id).await?;
    let account = Account::new(&state.urls, &row);
    let base = state.service.base_url.trim_end_matches('/');
    Ok(Json(json!({
        "iss": format!("{base}/"),
        "sub": account.uri,
        "name": account.display_name,
        "preferred_username": account.username,
        "profile": account.url,
        "picture": account.avatar,
    })))
}

// ---------------------------------------------------------------- authorize

/// The parameters of an authorization request, checked against the app.
struct AuthorizeRequest {
    app: AppRow,
    redirect_uri: String,
    scopes: Scopes,
    state: Option<String>,
    pkce: Option<Pkce>,
    /// The page's language (validated; `en` when absent or malformed).
    lang: String,
    force_login: bool,
}

/// A parameter as a string; absent, empty, and the literal "None" that
/// Mastodon.py sends for unset options all count as absent.
fn opt(params: &Params, key: &str) -> Option<String> {
    params
        .str(key)
        .ok()
        .flatten()
        .filter(|s| !s.is_empty() && s != "None")
}

fn page_lang(params: &Params, max_chars: usize) -> String {
    opt(params, "lang")
        .filter(|l| valid_language(l, max_chars))
        .unwrap_or_else(|| "en".into())
}

/// Checks an authorization request. Until the client and its redirect URI are
/// known good, problems are shown on a page (never redirected, RFC 6749 §4.1.2.1);
/// after that, they go back to the client as `error=…` on its redirect URI.
async fn authorize_request(
    state: &AppState,
    params: &Params,
) -> Result<AuthorizeRequest, Response> {
    let lang = page_lang(params, state.service.limits().language_max_chars);
    let fail = |msg: &str| error_page(&lang, StatusCode::BAD_REQUEST, msg);
    let client_id = opt(params, "client_id").unwrap_or_default();
    let app = match state.service.app(&client_id).await {
        Ok(app) => app,
        Err(ServiceError::OAuth { .. }) => return Err(fail("Unknown client: check client_id.")),
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    // Exact match against the registered list; only an app with exactly one
    // registered URI may leave it out.
    let redirect_uri = match opt(params, "redirect_uri") {
        Some(uri) => uri,
        None if app.redirect_uris.len() == 1 => app.redirect_uris[0].clone(),
        None => {
            return Err(fail(
                "redirect_uri is required: this app registered several.",
            ))
        }
    };
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(fail("The redirect URI is not one this app registered."));
    }
    let state_param = opt(params, "state");
    if state_param
        .as_deref()
        .is_some_and(|s| s.chars().count() > state.service.limits().oauth_state_max_chars)
    {
        return Err(fail("The state parameter is too long."));
    }
    // From here on, the client learns what went wrong through its redirect URI.
    let refuse = |error: &str, description: &str| {
        if redirect_uri == OOB_REDIRECT {
            return fail(description);
        }
        redirect_to(
            &redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state_param.as_deref().unwrap_or_default()),
            ],
        )
    };
    let response_type = opt(params, "response_type").unwrap_or_else(|| "code".into());
    if response_type != "code" {
        return Err(refuse(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        ));
    }
    let scope = opt(params, "scope");
    let scopes = match state.service.requested_scopes(&app, scope.as_deref()) {
        Ok(s) => s,
        Err(_) => {
            return Err(refuse(
                "invalid_scope",
                "The requested scope is invalid, unknown, or exceeds what the app registered.",
            ))
        }
    };
    let pkce = match Pkce::from_request(
        opt(params, "code_challenge").as_deref(),
        opt(params, "code_challenge_method").as_deref(),
    ) {
        Ok(p) => p,
        Err(ServiceError::OAuth { description, .. }) => {
            return Err(refuse("invalid_request", &description))
        }
        Err(e) => return Err(ApiError::from(e).into_response()),
    };
    let force_login = params.bool("force_login").ok().flatten().unwrap_or(false);
    Ok(AuthorizeRequest {
        app,
        redirect_uri,
        scopes,
        state: state_param,
        pkce,
        lang,
        force_login,
    })
}

impl AuthorizeRequest {
    /// The request's parameters (without `force_login`), to carry to the next step.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.app.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scopes.to_string()),
            ("lang", self.lang.clone()),
        ];
        if let Some(s) = &self.state {
            out.push(("state", s.clone()));
        }
        if let Some(p) = &self.pkce {
            out.push(("code_challenge", p.challenge.clone()));
            out.push(("code_challenge_method", p.method.as_str().to_owned()));
        }
        out
    }

    /// `/oauth/authorize?…` for this request, with extra pairs.
    fn url(&self, extra: &[(&str, &str)]) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.pairs() {
            q.append_pair(k, &v);
        }
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        format!("/oauth/authorize?{}", q.finish())
    }
}

/// 302 to the client's redirect URI with `pairs` added to its query (empty values left out).
fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{}", q.finish());
    // 302, as Mastodon (Doorkeeper) answers; some app frameworks expect exactly that.
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return ApiError::bad_request("The redirect URI cannot be used").into_response(),
    }
    no_store(&mut response);
    response
}

fn no_store(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// A page of the authorize flow: the web UI's shell, never cached, never framed.
fn page(lang: &str, status: StatusCode, title: &str, main: Markup) -> Response {
    Page::new(title, None)
        .status(status)
        .oauth(lang)
        .render_bare(main)
}

fn error_page(lang: &str, status: StatusCode, msg: &str) -> Response {
    page(
        lang,
        status,
        "Authorization failed",
        html! { p.error #error role="alert" { (msg) } },
    )
}

/// A scope in words, for the consent step.
fn scope_in_words(scope: &str) -> &'static str {
    match scope {
        "read" => "read all your account's data",
        "write" => "change all your account's data",
        "follow" => "see and change who you follow, block and mute",
        "push" => "receive your push notifications",
        "profile" => "see only your profile's basic information",
        "read:accounts" => "see accounts' information",
        "read:blocks" => "see your blocks",
        "read:bookmarks" => "see your bookmarks",
        "read:collections" => "see your collections of accounts",
        "read:favourites" => "see your favourites",
        "read:filters" => "see your filters",
        "read:follows" => "see who you follow",
        "read:lists" => "see your lists",
        "read:mutes" => "see your mutes",
        "read:notifications" => "see your notifications",
        "read:search" => "search on your behalf",
        "read:statuses" => "see all posts you can see",
        "write:accounts" => "change your profile",
        "write:blocks" => "block accounts and domains",
        "write:bookmarks" => "bookmark posts",
        "write:collections" => "create and change your collections of accounts",
        "write:conversations" => "mute and delete conversations",
        "write:favourites" => "favourite posts",
        "write:filters" => "create filters",
        "write:follows" => "follow people",
        "write:lists" => "create lists",
        "write:media" => "upload media files",
        "write:mutes" => "mute people and conversations",
        "write:notifications" => "clear your notifications",
        "write:reports" => "report other people",
        "write:statuses" => "publish posts",
        "admin:read" => "see every moderation record (moderators and admins)",
        "admin:write" => "take moderation actions (moderators and admins)",
        "admin:read:accounts" => "see accounts' moderation records",
        "admin:read:reports" => "see reports",
        "admin:read:domain_allows" => "see the allowed domains",
        "admin:read:domain_blocks" => "see the blocked domains",
        "admin:read:ip_blocks" => "see the blocked addresses",
        "admin:read:email_domain_blocks" => "see the blocked e-mail domains",
        "admin:read:canonical_email_blocks" => "see the blocked e-mail addresses",
        "admin:write:accounts" => "take moderation actions on accounts",
        "admin:write:reports" => "handle reports",
        "admin:write:domain_allows" => "allow domains",
        "admin:write:domain_blocks" => "block domains",
        "admin:write:ip_blocks" => "block addresses",
        "admin:write:email_domain_blocks" => "block e-mail domains",
        "admin:write:canonical_email_blocks" => "block e-mail addresses",
        _ => "a permission holdfast does not know",
    }
}

fn login_page(req: &AuthorizeRequest, status: StatusCode, error: Option<&str>) -> Response {
    let mut hidden = req.pairs();
    hidden.push(("step", "log-in".to_owned()));
    let main = html! {
        p { strong #app-name { (req.app.name) } " wants to use your account. Log in to continue." }
        (log_in_form("/oauth/authorize", &hidden, error, ""))
    };
    page(&req.lang, status, "Log in", main)
}

fn consent_page(req: &AuthorizeRequest, account: &AccountRow, session: &str) -> Response {
    let mut hidden = req.pairs();
    hidden.push(("csrf_token", csrf_token(session)));
    let main = html! {
        p { strong #app-name { (req.app.name) } " wants to use your account " strong { "@" (account.username) } "." }
        @if let Some(w) = &req.app.website {
            p.meta { "App website: " (w) }
        }
        p { "It asks for permission to:" }
        ul #scopes {
            @for s in req.scopes.as_vec() {
                li { (scope_in_words(&s)) " " code { (s) } }
            }
        }
        form #consent-form method="post" action="/oauth/authorize" {
            @for (name, value) in &hidden {
                input type="hidden" name=(name) value=(value);
            }
            button #authorize type="submit" name="decision" value="authorize" { "Authorize" }
            " "
            button #deny type="submit" name="decision" value="deny" { "Deny" }
        }
        p.meta { a #switch-account href=(req.url(&[("force_login", "true")])) { "Not @" (account.username) "? Log in with another account" } }
    };
    page(&req.lang, StatusCode::OK, "Authorize", main)
}

/// Whether a form post comes from our own pages, as far as the browser says.
/// Browsers with fetch metadata say it outright (`Sec-Fetch-Site`: only
/// `same-origin` passes); otherwise an `Origin` for another host, or `null`,
/// is a form elsewhere posting here (log-in CSRF, or a forged consent).
/// Clients that send neither header (scripts) are let through; the consent
/// step is guarded by its CSRF token either way.
fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    let Some(origin) = header("origin") else {
        return true;
    };
    let Some(authority) = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
    else {
        return false; // `null`, or not a URL at all
    };
    // Our own host as the browser addressed it, or as the base URL names it (a
    // proxy in front may pass on another Host).
    let ours = base_url.split_once("://").map(|(_, rest)| rest);
    header("host").is_some_and(|h| authority.eq_ignore_ascii_case(h))
        || ours.is_some_and(|o| authority.eq_ignore_ascii_case(o.trim_end_matches('/')))
}

/// The logged-in account of this browser, if its session is live.
async fn session_account(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(AccountRow, String)>, Response> {
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    match state.service.session_account(&secret).await {
        Ok(Some(account)) => Ok(Some((account, secret))),
        Ok(None) => Ok(None),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// `GET /oauth/authorize`: the consent step for a logged-in browser, else the log-in step.
pub async fn authorize_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let req = match authorize_request(&state, &params).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    if req.force_login {
        return login_page(&req, StatusCode::OK, None);
    }
    match session_account(&state, &headers).await {
        Ok(Some((account, secret))) => consent_page(&req, &account, &secret),
        Ok(None) => login_page(&req, StatusCode::OK, None),
        Err(response) => response,
    }
}

/// `POST /oauth/authorize`: either the log-in step (`email`, `password`) or the
/// consent step (`decision`, `csrf_token`, with the session cookie).
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let req = match authorize_request(&state, &params).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    if !same_origin(&headers, &state.service.base_url) {
        return error_page(
            &req.lang,
            StatusCode::FORBIDDEN,
            "This form was sent from another site. Open the authorization page again.",
        );
    }
    match opt(&params, "decision") {
        Some(decision) => consent_step(&state, &headers, &params, &req, &decision).await,
        None if params.has("password")
            || params.has("email")
            || opt(&params, "step").as_deref() == Some("log-in") =>
        {
            login_step(&state, &headers, &params, &req).await
        }
        None => error_page(
            &req.lang,
            StatusCode::BAD_REQUEST,
            "Log in, then choose Authorize or Deny.",
        ),
    }
}

async fn login_step(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    req: &AuthorizeRequest,
) -> Response {
    let email = opt(params, "email").unwrap_or_default();
    let password = params.str("password").ok().flatten().unwrap_or_default();
    let account_id = match state.service.check_password(&email, &password).await {
        Ok(id) => id,
        Err(ServiceError::OAuth { description, .. }) => {
            return login_page(req, StatusCode::UNAUTHORIZED, Some(&description));
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    // A new log-in (another account, or `force_login`) ends the session it replaces.
    if let Some(old) = session_secret(headers) {
        if let Err(e) = state.service.end_session(&old).await {
            return ApiError::from(e).into_response();
        }
    }
    let secret = match state.service.start_session(account_id).await {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Post/Redirect/Get: the consent step is a page of its own, so reloading it
    // never sends the password again.
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&req.url(&[])) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut response);
    set_session_cookie(state, &mut response, &secret);
    response
}

async fn consent_step(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
    req: &AuthorizeRequest,
    decision: &str,
) -> Response {
    let (account, secret) = match session_account(state, headers).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return login_page(
                req,
                StatusCode::UNAUTHORIZED,
                Some("Your log-in has expired. Log in again to continue."),
            )
        }
        Err(response) => return response,
    };
    let token = params.str("csrf_token").ok().flatten().unwrap_or_default();
    if !csrf_token_matches(&secret, &token) {
        return error_page(
            &req.lang,
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        );
    }
    match decision {
        "authorize" => {}
        "deny" => {
            if req.redirect_uri == OOB_REDIRECT {
                return page(
                    &req.lang,
                    StatusCode::OK,
                    "Authorization denied",
                    html! { p #denied { "You did not allow " strong { (req.app.name) } " to use your account. You can close this page." } },
                );
            }
            return redirect_to(
                &req.redirect_uri,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        "The resource owner or authorization server denied the request.",
                    ),
                    ("state", req.state.as_deref().unwrap_or_default()),
                ],
            );
        }
        _ => {
            return error_page(
                &req.lang,
                StatusCode::BAD_REQUEST,
                "Choose Authorize or Deny.",
            )
        }
    }
    let code = match state
        .service
        .issue_code(
            &req.app,
            account.id,
            &req.scopes,
            &req.redirect_uri,
            req.pkce.as_ref(),
        )
        .await
    {
        Ok(code) => code,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if req.redirect_uri == OOB_REDIRECT {
        return page(
            &req.lang,
            StatusCode::OK,
            "Authorization code",
            html! {
                p { "Copy this code and paste it into the application:" }
                p { code #oauth-code { (code) } }
            },
        );
    }
    redirect_to(
        &req.redirect_uri,
        &[
            ("code", &code),
            ("state", req.state.as_deref().unwrap_or_default()),
        ],
    )
}

// ---------------------------------------------------------------- tokens

fn missing(what: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request".into(),
        description: Some(format!(
            "The request is missing a required parameter: {what}"
        )),
        details: None,
    }
}

fn invalid_client() -> ApiError {
    ApiError::from(ServiceError::oauth(
        OAuthError::InvalidClient,
        "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    ))
}

/// `client_id` and `client_secret` from HTTP Basic (RFC 6749 §2.3.1) or the form.
/// A Basic header that is malformed, or names another client than the form, fails.
fn client_credentials(
    headers: &HeaderMap,
    params: &Params,
    limits: &holdfast_config::Limits,
) -> ApiResult<(Option<String>, Option<String>)> {
    let form_id = params.str("client_id")?.filter(|s| !s.is_empty());
    let form_secret = params.str("client_secret")?.filter(|s| !s.is_empty());
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok((form_id, form_secret));
    };
    let value = value.to_str().map_err(|_| invalid_client())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok((form_id, form_secret));
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok((form_id, form_secret));
    }
    let decoded =
        decode_base64(encoded.trim(), limits.basic_auth_max_bytes).ok_or_else(invalid_client)?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid_client())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
    let unescape = |s: &str| -> String {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (id, secret) = (unescape(id), unescape(secret));
    if form_id.as_deref().is_some_and(|f| f != id) {
        return Err(invalid_client());
    }
    Ok((Some(id), Some(secret)))
}

/// Standard base64 (with or without padding); None when malformed or over `max_bytes`.
fn decode_base64(s: &str, max_bytes: usize) -> Option<Vec<u8>> {
    if s.len() > max_bytes {
        return None;
    }
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Response> {
    let svc = &state.service;
    let grant_type = params
        .str("grant_type")?
        .ok_or_else(|| missing("grant_type"))?;
    // A log-in's place at the password threads comes first: when they are
    // busy, a flood of log-ins is refused before any look-up (the app, the
    // account), as cheaply as by a rate limit.
    let mut password_turn = match grant_type.as_str() {
        "password" => Some(svc.password_turn()?),
        _ => None,
    };
    let (client_id, client_secret) = client_credentials(&headers, &params, svc.limits())?;
    let client_id = client_id.ok_or_else(|| missing("client_id"))?;
    let (app, client) = match client_secret {
        Some(secret) => (
            svc.authenticate_client(&client_id, &secret).await?,
            ClientAuth::Secret,
        ),
        // A public client may only redeem a PKCE-bound code (checked with the code).
        None if grant_type == "authorization_code" => {
            (svc.app(&client_id).await?, ClientAuth::Public)
        }
        None => return Err(missing("client_secret")),
    };
    let scope = params.str("scope")?;
    let issued =
        match grant_type.as_str() {
            "password" => {
                let scopes = svc.requested_scopes(&app, scope.as_deref())?;
                let username = params.str("username")?.ok_or_else(|| missing("username"))?;
                let password = params.str("password")?.ok_or_else(|| missing("password"))?;
                let account = svc
                    .check_password_with(password_turn.take(), &username, &password)
                    .await?;
                svc.issue_token(app.id, Some(account), scopes).await?
            }
            "client_credentials" => {
                let scopes = svc.requested_scopes(&app, scope.as_deref())?;
                svc.issue_token(app.id, None, scopes).await?
            }
            "authorization_code" => {
                let code = params.str("code")?.ok_or_else(|| missing("code"))?;
                svc.exchange_code(
                    &app,
                    client,
                    &code,
                    params.str("redirect_uri")?.as_deref(),
                    params.str("code_verifier")?.as_deref(),
                )
                .await?
            }
            _ => return Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type".into(),
                description: Some(
                    "The authorization grant type is not supported by the authorization server."
                        .into(),
                ),
                details: None,
            }),
        };
    // RFC 6749 §5.1: token responses are never cached.
    let mut response = Json(Token::new(&issued)).into_response();
    no_store(&mut response);
    Ok(response)
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Empty>> {
    let (client_id, client_secret) = client_credentials(&headers, &params, state.service.limits())?;
    let client_id = client_id.ok_or_else(|| ApiError::unprocessable("client_id is required"))?;
    let client_secret =
        client_secret.ok_or_else(|| ApiError::unprocessable("client_secret is required"))?;
    let token = params.required_str("token")?;
    let app = state
        .service
        .authenticate_client(&client_id, &client_secret)
        .await?;
    state.service.revoke(&app, &token).await?;
    Ok(Json(Empty {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_standard_and_url_alphabets() {
        assert_eq!(decode_base64("aWQ6c2VjcmV0", 4096).unwrap(), b"id:secret");
        assert_eq!(decode_base64("YQ==", 4096).unwrap(), b"a");
        assert_eq!(decode_base64("YWI", 4096).unwrap(), b"ab");
        assert!(decode_base64("not base64!", 4096).is_none());
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_checks_origin_and_fetch_metadata() {
        let base = "https://social.example";
        assert!(same_origin(&headers(&[]), base));
        assert!(same_origin(
            &headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            base
        ));
        // Behind a proxy that rewrites Host, the base URL still counts as ours.
        assert!(same_origin(
            &headers(&[
                ("host", "10.0.0.5:3000"),
                ("origin", "https://social.example")
            ]),
            base
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "social.example"),
                ("origin", "https://evil.example")
            ]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("host", "social.example"), ("origin", "null")]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            base
        ));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            base
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            base
        ));
        // Fetch metadata is the browser's own word; it wins over a privacy-blanked Origin.
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")]),
            base
        ));
    }

    #[test]
    fn every_known_scope_has_words() {
        for s in holdfast_service::scopes::all() {
            assert_ne!(
                scope_in_words(&s),
                "a permission holdfast does not know",
                "{s}"
            );
        }
    }
}
