//! Who is calling: the bearer token, resolved once per request.
//!
//! Two extractors: [`Caller`] for routes anyone may call (optional token),
//! and [`User`] for routes only a signed-in user may call. `User<S>` proves
//! once, before the handler runs, that the token is valid, grants the scope
//! `S` and belongs to an account; handlers and the service then take the
//! account id as a plain `Id`, never an `Option`.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use holdfast_service::{Principal, Scopes};
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

/// A scope a route demands, named by a type so the [`User`] extractor checks
/// it before the handler runs (see [`scope`]).
pub trait Scope: 'static {
    /// Whether the token's granted scopes cover this one.
    fn allowed_by(granted: &Scopes) -> bool;
}

/// A signed-in user whose token grants `S`: the account acting (`id`) and
/// the token it acts with. Refusals in Mastodon's order: no or invalid token
/// 401, scope not granted 403, an app-only token 422.
pub struct User<S> {
    pub id: Id,
    pub principal: Principal,
    scope: PhantomData<fn() -> S>,
}

impl<S: Scope> FromRequestParts<AppState> for User<S> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        let principal = principal.ok_or_else(ApiError::unauthorized)?;
        if !S::allowed_by(&principal.scopes) {
            return Err(ApiError::outside_scopes());
        }
        let id = principal.account_id.ok_or_else(ApiError::user_required)?;
        Ok(User {
            id,
            principal,
            scope: PhantomData,
        })
    }
}

/// The scopes routes demand of a [`User`], one type each.
pub mod scope {
    use super::{Scope, Scopes};

    macro_rules! scopes {
        ($($ty:ident => $name:literal),* $(,)?) => {$(
            #[doc = concat!("`", $name, "`")]
            pub struct $ty;
            impl Scope for $ty {
                fn allowed_by(granted: &Scopes) -> bool {
                    granted.allows($name)
                }
            }
        )*};
    }

    scopes! {
        AdminReadAccounts => "admin:read:accounts",
        AdminReadDomainBlocks => "admin:read:domain_blocks",
        AdminReadIpBlocks => "admin:read:ip_blocks",
        AdminReadReports => "admin:read:reports",
        AdminWriteAccounts => "admin:write:accounts",
        AdminWriteDomainBlocks => "admin:write:domain_blocks",
        AdminWriteIpBlocks => "admin:write:ip_blocks",
        AdminWriteReports => "admin:write:reports",
        Push => "push",
        Read => "read",
        ReadAccounts => "read:accounts",
        ReadBlocks => "read:blocks",
        ReadBookmarks => "read:bookmarks",
        ReadCollections => "read:collections",
        ReadFavourites => "read:favourites",
        ReadFilters => "read:filters",
        ReadFollows => "read:follows",
        ReadLists => "read:lists",
        ReadMutes => "read:mutes",
        ReadNotifications => "read:notifications",
        ReadStatuses => "read:statuses",
        WriteAccounts => "write:accounts",
        WriteBlocks => "write:blocks",
        WriteBookmarks => "write:bookmarks",
        WriteCollections => "write:collections",
        WriteConversations => "write:conversations",
        WriteFavourites => "write:favourites",
        WriteFilters => "write:filters",
        WriteFollows => "write:follows",
        WriteLists => "write:lists",
        WriteMedia => "write:media",
        WriteMutes => "write:mutes",
        WriteNotifications => "write:notifications",
        WriteReports => "write:reports",
        WriteStatuses => "write:statuses",
    }

    /// `read:accounts` or `profile`: what `verify_credentials` accepts.
    pub struct Profile;
    impl Scope for Profile {
        fn allowed_by(granted: &Scopes) -> bool {
            granted.allows("read:accounts") || granted.allows("profile")
        }
    }
}
