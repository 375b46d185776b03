//! OAuth 2: app registration, the log-in form, tokens, revocation.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use holdfast_service::oauth::{AppInput, IssuedToken, OOB_REDIRECT};
use holdfast_service::text::escape;
use holdfast_store::AppRow;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::AppState;

fn app_json(app: &AppRow) -> Value {
    json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(' ').collect::<Vec<_>>(),
        "redirect_uri": app.redirect_uris.join("\n"),
        "redirect_uris": app.redirect_uris,
        "vapid_key": "",
    })
}

pub fn token_json(t: &IssuedToken) -> Value {
    json!({
        "access_token": t.access_token,
        "token_type": "Bearer",
        "scope": t.scopes.to_string(),
        "created_at": t.created_at_s,
    })
}

pub async fn create_app(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let redirect_uris = match params.0.get("redirect_uris") {
        Some(Value::Array(_)) => params.list("redirect_uris")?,
        _ => params
            .str("redirect_uris")?
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
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
    let mut body = app_json(&created.app);
    body["client_id"] = json!(created.app.client_id);
    body["client_secret"] = json!(created.client_secret);
    body["client_secret_expires_at"] = json!(0);
    Ok(Json(body))
}

pub async fn verify_app(caller: Caller) -> ApiResult<Json<Value>> {
    let p = caller.0.as_ref().ok_or_else(ApiError::unauthorized)?;
    Ok(Json(json!({
        "id": p.app_id.to_string(),
        "name": p.app_name,
        "website": p.app_website,
        "scopes": p.scopes.as_vec(),
        "vapid_key": "",
    })))
}

/// The parameters of an authorization request, checked against the app.
struct AuthorizeRequest {
    app: AppRow,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
}

async fn authorize_request(
    state: &AppState,
    params: &Params,
) -> Result<AuthorizeRequest, Response> {
    let fail = |status: StatusCode, msg: &str| {
        page(
            status,
            "Authorization failed",
            &format!("<p class=\"error\">{}</p>", escape(msg)),
        )
    };
    let client_id = params.str("client_id").ok().flatten().unwrap_or_default();
    let app = match state.service.app(&client_id).await {
        Ok(app) => app,
        Err(_) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "Unknown client: check client_id.",
            ))
        }
    };
    let redirect_uri = params
        .str("redirect_uri")
        .ok()
        .flatten()
        .unwrap_or_else(|| app.redirect_uris[0].clone());
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not one this app registered.",
        ));
    }
    let response_type = params
        .str("response_type")
        .ok()
        .flatten()
        .unwrap_or_else(|| "code".into());
    if response_type != "code" {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "Only response_type=code is supported.",
        ));
    }
    let scope = params.str("scope").ok().flatten().unwrap_or_default();
    let scopes = match state.service.requested_scopes(&app, Some(&scope)) {
        Ok(s) => s,
        Err(_) => {
            return Err(fail(
                StatusCode::BAD_REQUEST,
                "The requested scope is invalid or exceeds what the app registered.",
            ))
        }
    };
    // Mastodon.py sends the literal strings "None"/"False" for unset options.
    let state_param = params
        .str("state")
        .ok()
        .flatten()
        .filter(|s| !s.is_empty() && s != "None");
    Ok(AuthorizeRequest {
        app,
        redirect_uri,
        scope: scopes.to_string(),
        state: state_param,
    })
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} · holdfast</title><style>{}</style></head><body><main><h1>{}</h1>{}</main></body></html>",
        escape(title),
        crate::routes::web::STYLE,
        escape(title),
        body
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn login_form(req: &AuthorizeRequest, error: Option<&str>) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        )
    };
    format!(
        "<p><strong>{}</strong> wants to use your account with these permissions: <code>{}</code>.</p>{}\
         <form method=\"post\" action=\"/oauth/authorize\">{}{}{}{}{}\
         <label>E-mail <input type=\"email\" name=\"email\" id=\"email\" autocomplete=\"username\" required></label>\
         <label>Password <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"authorize\">Authorize</button></form>",
        escape(&req.app.name),
        escape(&req.scope),
        error.map(|e| format!("<p class=\"error\" id=\"error\">{}</p>", escape(e))).unwrap_or_default(),
        hidden("client_id", &req.app.client_id),
        hidden("redirect_uri", &req.redirect_uri),
        hidden("scope", &req.scope),
        hidden("response_type", "code"),
        req.state.as_deref().map(|s| hidden("state", s)).unwrap_or_default(),
    )
}

pub async fn authorize_form(State(state): State<AppState>, params: Params) -> Response {
    match authorize_request(&state, &params).await {
        Ok(req) => page(StatusCode::OK, "Sign in", &login_form(&req, None)),
        Err(response) => response,
    }
}

pub async fn authorize(State(state): State<AppState>, params: Params) -> Response {
    let req = match authorize_request(&state, &params).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    let email = params.str("email").ok().flatten().unwrap_or_default();
    let password = params.str("password").ok().flatten().unwrap_or_default();
    let account_id = match state.service.check_password(&email, &password).await {
        Ok(id) => id,
        Err(holdfast_service::ServiceError::OAuth { description, .. }) => {
            return page(
                StatusCode::UNAUTHORIZED,
                "Sign in",
                &login_form(&req, Some(&description)),
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let scopes = match state.service.requested_scopes(&req.app, Some(&req.scope)) {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let code = match state
        .service
        .issue_code(&req.app, account_id, &scopes, &req.redirect_uri)
        .await
    {
        Ok(code) => code,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if req.redirect_uri == OOB_REDIRECT {
        return page(
            StatusCode::OK,
            "Authorization code",
            &format!("<p>Copy this code and paste it into the application:</p><p><code id=\"oauth-code\">{}</code></p>", escape(&code)),
        );
    }
    let mut target = form_urlencoded::Serializer::new(String::new());
    target.append_pair("code", &code);
    if let Some(s) = &req.state {
        target.append_pair("state", s);
    }
    let separator = if req.redirect_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    // 302, as Mastodon (Doorkeeper) answers; some app frameworks expect exactly that.
    let location = format!("{}{separator}{}", req.redirect_uri, target.finish());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

pub async fn token(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let svc = &state.service;
    let missing = |what: &str| ApiError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request".into(),
        description: Some(format!(
            "The request is missing a required parameter: {what}"
        )),
        details: None,
    };
    let grant_type = params
        .str("grant_type")?
        .ok_or_else(|| missing("grant_type"))?;
    let client_id = params
        .str("client_id")?
        .ok_or_else(|| missing("client_id"))?;
    let client_secret = params
        .str("client_secret")?
        .ok_or_else(|| missing("client_secret"))?;
    let app = svc.authenticate_client(&client_id, &client_secret).await?;
    let scope = params.str("scope")?;
    let issued =
        match grant_type.as_str() {
            "password" => {
                let scopes = svc.requested_scopes(&app, scope.as_deref())?;
                let username = params.str("username")?.ok_or_else(|| missing("username"))?;
                let password = params.str("password")?.ok_or_else(|| missing("password"))?;
                let account = svc.check_password(&username, &password).await?;
                svc.issue_token(app.id, Some(account), scopes).await?
            }
            "client_credentials" => {
                let scopes = svc.requested_scopes(&app, scope.as_deref())?;
                svc.issue_token(app.id, None, scopes).await?
            }
            "authorization_code" => {
                let code = params.str("code")?.ok_or_else(|| missing("code"))?;
                svc.exchange_code(&app, &code, params.str("redirect_uri")?.as_deref())
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
    Ok(Json(token_json(&issued)))
}

pub async fn revoke(State(state): State<AppState>, params: Params) -> ApiResult<Json<Value>> {
    let client_id = params.required_str("client_id")?;
    let client_secret = params.required_str("client_secret")?;
    let token = params.required_str("token")?;
    let app = state
        .service
        .authenticate_client(&client_id, &client_secret)
        .await?;
    state.service.revoke(&app, &token).await?;
    Ok(Json(json!({})))
}
