//! Who is calling: the bearer token, resolved once per request.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use holdfast_service::Principal;
use holdfast_store::Id;

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The caller, if a token was sent. A token that was sent but is invalid is
/// a 401 right here: it never silently degrades to anonymous.
pub struct Caller(pub Option<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already resolved for this request (the upload routes do it before the body).
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(Caller(Some(principal.clone())));
        }
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let value = value.to_str().map_err(|_| ApiError::unauthorized())?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::unauthorized()),
        };
        let principal = state.service.authenticate(token).await?;
        Ok(Caller(Some(principal)))
    }
}

impl Caller {
    /// Any valid token (app or user) with `scope`.
    pub fn require(&self, scope: &str) -> ApiResult<&Principal> {
        let p = self.0.as_ref().ok_or_else(ApiError::unauthorized)?;
        if !p.scopes.allows(scope) {
            return Err(ApiError::outside_scopes());
        }
        Ok(p)
    }

    /// A user token with `scope`: the account acting.
    pub fn user(&self, scope: &str) -> ApiResult<Id> {
        let p = self.require(scope)?;
        p.account_id
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))
    }

    /// Optional authentication for public reads: anonymous is fine, but a
    /// token that lacks `scope` is refused rather than ignored.
    pub fn viewer(&self, scope: &str) -> ApiResult<Option<Id>> {
        match &self.0 {
            None => Ok(None),
            Some(p) if !p.scopes.allows(scope) => Err(ApiError::outside_scopes()),
            Some(p) => Ok(p.account_id),
        }
    }
}
