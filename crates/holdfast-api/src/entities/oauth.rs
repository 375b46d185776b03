//! Application, CredentialApplication, Token and Error: what OAuth and
//! every refusal answer.

use std::collections::BTreeMap;

use holdfast_service::oauth::IssuedToken;
use serde::Serialize;

use super::id;

/// An app as `POST /api/v1/apps` and `GET /api/v1/apps/verify_credentials` show it (Mastodon 4.3).
#[derive(Serialize)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uris: Vec<String>,
    /// Deprecated by Mastodon but still sent: the URIs joined by newlines.
    pub redirect_uri: String,
    /// Deprecated by Mastodon but still sent (clients of Mastodon before 4.3
    /// read it): the server's VAPID public key, as instance v2 shows it.
    pub vapid_key: String,
}

impl Application {
    pub fn new(
        app_id: holdfast_store::Id,
        name: &str,
        website: Option<&str>,
        scopes: &str,
        redirect_uris: &[String],
        vapid_key: String,
    ) -> Application {
        Application {
            id: id(app_id),
            name: name.to_owned(),
            website: website.map(str::to_owned),
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            redirect_uri: redirect_uris.join("\n"),
            redirect_uris: redirect_uris.to_vec(),
            vapid_key,
        }
    }
}

/// The answer to registering an app: the app and its client credentials.
#[derive(Serialize)]
pub struct CredentialApplication {
    #[serde(flatten)]
    pub application: Application,
    pub client_id: String,
    pub client_secret: String,
    /// 0: client secrets do not expire.
    pub client_secret_expires_at: i64,
}

#[derive(Serialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: &'static str,
    pub scope: String,
    /// UNIX seconds.
    pub created_at: i64,
}

impl Token {
    pub fn new(t: &IssuedToken) -> Token {
        Token {
            access_token: t.access_token.clone(),
            token_type: "Bearer",
            scope: t.scopes.to_string(),
            created_at: t.created_at_s,
        }
    }
}

/// Every refusal: `{"error": …}`, plus `error_description` for OAuth and
/// `details` (each failed field's `ERR_*` codes) for a validation failure.
#[derive(Serialize)]
pub struct Error {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Not in the Error entity's docs, but what Mastodon's sign-up sends
    /// (`ValidationErrorFormatter`), and what clients show per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<BTreeMap<String, Vec<ErrorDetail>>>,
}

/// An Error one level down, `{"error": {"error": …, "details": …}}`: how
/// Mastodon's collections answer a validation failure.
#[derive(Serialize)]
pub struct WrappedError {
    pub error: Error,
}

#[derive(Serialize, Clone, Debug)]
pub struct ErrorDetail {
    /// `ERR_TAKEN`, `ERR_BLANK`, …
    pub error: String,
    pub description: String,
}
