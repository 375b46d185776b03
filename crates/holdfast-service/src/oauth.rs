//! Apps, tokens and sign-up: OAuth 2 as Mastodon speaks it.

use holdfast_config::Registrations;
use holdfast_store::{AccountRow, AppRow, AuthCode, Id, NewAccount, NewApp, StoreError};

use sha2::{Digest, Sha256};

use crate::secrets::{digest_secret, hash_secret, hex, random_secret, same_hash, PasswordTurn};
use crate::{FieldError, OAuthError, Principal, Scopes, Service, ServiceError, ServiceResult};

pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// A newly made app with its secret, shown to the client exactly once.
pub struct NewAppResult {
    pub app: AppRow,
    pub client_secret: String,
}

/// A newly issued access token (the secret is never stored).
pub struct IssuedToken {
    pub access_token: String,
    pub scopes: Scopes,
    pub created_at_s: i64,
}

pub struct AppInput {
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Option<String>,
    pub website: Option<String>,
}

/// How a client proved who it is at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// With its client secret (form field or HTTP Basic).
    Secret,
    /// Without a secret: a public client, allowed only for PKCE-bound codes.
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkceMethod {
    S256,
    Plain,
}

impl PkceMethod {
    pub fn parse(s: &str) -> Option<PkceMethod> {
        match s {
            "S256" => Some(PkceMethod::S256),
            "plain" => Some(PkceMethod::Plain),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PkceMethod::S256 => "S256",
            PkceMethod::Plain => "plain",
        }
    }
}

/// The PKCE challenge of an authorization request (RFC 7636).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkce {
    pub challenge: String,
    pub method: PkceMethod,
}

impl Pkce {
    /// From the authorize request's `code_challenge` and `code_challenge_method`:
    /// None without a challenge; the method defaults to `plain` (RFC 7636 §4.3).
    pub fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> ServiceResult<Option<Pkce>> {
        let bad = |why: &str| ServiceError::oauth(OAuthError::InvalidRequest, why.to_owned());
        let method =
            match method {
                None => None,
                Some(m) => Some(PkceMethod::parse(m).ok_or_else(|| {
                    bad("Unsupported code_challenge_method: use S256 (or plain).")
                })?),
            };
        let Some(challenge) = challenge else {
            if method.is_some() {
                return Err(bad(
                    "code_challenge_method was sent without a code_challenge.",
                ));
            }
            return Ok(None);
        };
        let method = method.unwrap_or(PkceMethod::Plain);
        let ok = match method {
            // BASE64URL(SHA-256(verifier)) without padding is always 43 characters.
            PkceMethod::S256 => {
                challenge.len() == 43
                    && challenge
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }
            // The plain challenge is the verifier itself.
            PkceMethod::Plain => valid_code_verifier(challenge),
        };
        if !ok {
            return Err(bad("code_challenge is malformed (RFC 7636 §4.2)."));
        }
        Ok(Some(Pkce {
            challenge: challenge.to_owned(),
            method,
        }))
    }

    /// Whether `verifier` is the one this challenge was made from.
    pub fn verifies(&self, verifier: &str) -> bool {
        if !valid_code_verifier(verifier) {
            return false;
        }
        let derived = match self.method {
            PkceMethod::S256 => crate::secrets::base64url(&Sha256::digest(verifier.as_bytes())),
            PkceMethod::Plain => verifier.to_owned(),
        };
        // Compare digests, so the time taken says nothing about the challenge.
        same_hash(&hash_secret(&derived), &hash_secret(&self.challenge))
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn valid_code_verifier(v: &str) -> bool {
    // fact: RFC 7636's length bounds
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The anti-forgery token of the consent form, bound to the session: derived from
/// the session's secret (which only the browser holds, in an HttpOnly cookie), so a
/// page on another site can neither read nor compute it.
pub fn csrf_token(session_secret: &str) -> String {
    hash_secret(&format!("holdfast consent form\n{session_secret}"))
}

pub fn csrf_token_matches(session_secret: &str, token: &str) -> bool {
    same_hash(&csrf_token(session_secret), token)
}

/// Our secrets are 43 characters of base64url; anything else cannot be one.
fn plausible_secret(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub struct SignUp {
    pub username: String,
    pub email: String,
    pub password: String,
    pub agreement: bool,
    pub locale: Option<String>,
}

impl Service {
    pub async fn authenticate(&self, bearer: &str) -> ServiceResult<Principal> {
        let invalid = || ServiceError::Unauthorized("The access token is invalid".into());
        if bearer.is_empty() || bearer.len() > self.limits().oauth_token_max_bytes {
            return Err(invalid());
        }
        let digest = digest_secret(bearer);
        let hash = hex(&digest);
        // Proved already, and nothing that could end a token has been
        // committed since (token_cache.rs): one one-row read, not the look-up.
        // Without an answer the look-up below fails the same way and the
        // read cache decides.
        if let Ok(epoch) = self.store.auth_epoch().await {
            if let Some(principal) = self.tokens.get(&digest, epoch) {
                self.read_cache.keep_principal(&hash, &principal);
                return Ok(principal);
            }
        }
        let token = match self.store.token_by_hash(&hash).await {
            Err(StoreError::NotFound) => {
                self.tokens.forget(&digest);
                self.read_cache.forget_principal(&hash);
                return Err(invalid());
            }
            // No database answers: a token proved moments ago still reads
            // what the read cache holds (read_cache.rs).
            Err(StoreError::Unavailable(why)) => {
                return self
                    .read_cache
                    .principal(&hash)
                    .ok_or(ServiceError::Unavailable(why))
            }
            other => other?,
        };
        if token.account_id.is_some() && (token.account_suspended || !token.account_approved) {
            self.tokens.forget(&digest);
            self.read_cache.forget_principal(&hash);
            return Err(ServiceError::Unauthorized(
                "Your login is currently disabled".into(),
            ));
        }
        let scopes = Scopes::parse(&token.scopes).map_err(|_| invalid())?;
        let principal = Principal {
            token_id: token.id,
            app_id: token.app.id,
            app_name: token.app.name,
            app_website: token.app.website,
            app_redirect_uris: token.app.redirect_uris,
            app_scopes: token.app.scopes,
            account_id: token.account_id,
            scopes,
        };
        self.read_cache.keep_principal(&hash, &principal);
        self.tokens.keep(digest, &principal, token.auth_epoch);
        Ok(principal)
    }

    pub async fn create_app(&self, input: AppInput) -> ServiceResult<NewAppResult> {
        let limits = self.limits();
        let name = input.client_name.trim().to_owned();
        if name.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Application name can't be blank".into(),
            ));
        }
        if name.chars().count() > limits.app_name_max_chars {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Application name is too long (maximum is {} characters)",
                limits.app_name_max_chars
            )));
        }
        let uris: Vec<String> = input
            .redirect_uris
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        if uris.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Redirect URI can't be blank".into(),
            ));
        }
        if uris.len() > limits.redirect_uris_max {
            return Err(ServiceError::Unprocessable(
                "Validation failed: too many redirect URIs".into(),
            ));
        }
        for uri in &uris {
            if uri.chars().count() > limits.redirect_uri_max_chars {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Redirect URI is too long (maximum is {} characters)",
                    limits.redirect_uri_max_chars
                )));
            }
            if let Err(why) = check_redirect_uri(uri) {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Redirect URI {why}"
                )));
            }
        }
        let website = match input.website.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(w) if w.chars().count() > limits.app_website_max_chars => {
                return Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Website is too long (maximum is {} characters)",
                    limits.app_website_max_chars
                )))
            }
            Some(w) if !valid_web_url(w) => {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Website is not a valid URL (an absolute http or https URL is needed)".into(),
                ))
            }
            Some(w) => Some(w.to_owned()),
        };
        let scopes = Scopes::parse(input.scopes.as_deref().unwrap_or("")).map_err(|bad| {
            ServiceError::Unprocessable(format!("Validation failed: Scopes are invalid ({bad})"))
        })?;
        let client_secret = random_secret();
        let app = self
            .store
            .create_app(NewApp {
                name,
                website,
                redirect_uris: uris,
                scopes: scopes.to_string(),
                client_id: random_secret(),
                client_secret_hash: hash_secret(&client_secret),
            })
            .await?;
        Ok(NewAppResult { app, client_secret })
    }

    /// Checks the client's id and secret (RFC 6749 §2.3).
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> ServiceResult<AppRow> {
        let app = self.app(client_id).await?;
        if !same_hash(&app.client_secret_hash, &hash_secret(client_secret)) {
            return Err(invalid_client());
        }
        Ok(app)
    }

    /// An app by client id, for the authorization page (no secret needed there).
    pub async fn app(&self, client_id: &str) -> ServiceResult<AppRow> {
        match self.store.app_by_client_id(client_id).await {
            Err(StoreError::NotFound) => Err(invalid_client()),
            other => Ok(other?),
        }
    }

    /// Scopes asked for, checked against what the app registered.
    pub fn requested_scopes(&self, app: &AppRow, requested: Option<&str>) -> ServiceResult<Scopes> {
        let app_scopes = Scopes::parse(&app.scopes)
            .map_err(|_| ServiceError::Internal("stored app scopes are invalid".into()))?;
        // Omitted means Mastodon's default, `read`: never more than was asked for.
        let wanted = match requested.map(str::trim).filter(|s| !s.is_empty()) {
            None => Scopes::parse(crate::scopes::DEFAULT).expect("the default scope is valid"),
            Some(s) => Scopes::parse(s).map_err(|bad| {
                ServiceError::oauth(
                    OAuthError::InvalidScope,
                    format!("The requested scope is invalid, unknown, or malformed: {bad}"),
                )
            })?,
        };
        if !wanted.within(&app_scopes) {
            return Err(ServiceError::oauth(
                OAuthError::InvalidScope,
                "The requested scope exceeds the scope granted to the application.",
            ));
        }
        Ok(wanted)
    }

    /// A place at the password-hashing threads, for a log-in or sign-up to
    /// claim before any other work (see [`crate::secrets::PasswordPool::turn`]):
    /// a 503 at once when too many are waiting already.
    pub fn password_turn(&self) -> ServiceResult<PasswordTurn<'_>> {
        self.passwords.turn()
    }

    /// Checks e-mail and password; the same error for unknown e-mail and wrong password.
    pub async fn check_password(&self, email: &str, password: &str) -> ServiceResult<Id> {
        self.check_password_with(None, email, password).await
    }

    /// [`Service::check_password`] on a turn claimed earlier (the token
    /// endpoint claims it before it authenticates the app), or, if `None`,
    /// on one claimed now, before the account is looked up.
    pub async fn check_password_with(
        &self,
        turn: Option<PasswordTurn<'_>>,
        email: &str,
        password: &str,
    ) -> ServiceResult<Id> {
        let turn = match turn {
            Some(turn) => turn,
            None => self.password_turn()?,
        };
        let bad = || {
            ServiceError::oauth(OAuthError::InvalidGrant, "The provided authorization grant is invalid, expired, revoked, or the credentials are wrong.")
        };
        let creds = match self.store.credentials_by_email(email.trim()).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let ok = turn
            .verify(
                password.to_owned(),
                creds.as_ref().map(|c| c.password_hash.clone()),
            )
            .await?;
        let creds = match (ok, creds) {
            (true, Some(c)) => c,
            _ => return Err(bad()),
        };
        if creds.suspended {
            return Err(ServiceError::oauth(
                OAuthError::AccessDenied,
                "Your login is currently disabled",
            ));
        }
        if !creds.approved {
            return Err(ServiceError::oauth(
                OAuthError::AccessDenied,
                "Your login is pending approval",
            ));
        }
        Ok(creds.account_id)
    }

    pub async fn issue_token(
        &self,
        app_id: Id,
        account_id: Option<Id>,
        scopes: Scopes,
    ) -> ServiceResult<IssuedToken> {
        self.check_admin_scopes(account_id, &scopes).await?;
        let access_token = random_secret();
        self.store
            .create_token(
                &hash_secret(&access_token),
                app_id,
                account_id,
                &scopes.to_string(),
            )
            .await?;
        Ok(IssuedToken {
            access_token,
            scopes,
            created_at_s: holdfast_store::ids::now_ms() / 1000,
        })
    }

    /// `admin:` scopes go only to moderators and admins (an app-only token
    /// never gets them): anyone else asking is refused with `invalid_scope`.
    async fn check_admin_scopes(
        &self,
        account_id: Option<Id>,
        scopes: &Scopes,
    ) -> ServiceResult<()> {
        if !scopes.has_admin() {
            return Ok(());
        }
        let staff = match account_id {
            Some(id) => self.role(id).await?.is_staff(),
            None => false,
        };
        if staff {
            Ok(())
        } else {
            Err(ServiceError::oauth(
                OAuthError::InvalidScope,
                "The requested scope is invalid: admin scopes are only for moderators and admins.",
            ))
        }
    }

    /// After a successful log-in form: a one-time code bound to app, account, scopes and redirect URI.
    pub async fn issue_code(
        &self,
        app: &AppRow,
        account_id: Id,
        scopes: &Scopes,
        redirect_uri: &str,
        pkce: Option<&Pkce>,
    ) -> ServiceResult<String> {
        self.check_admin_scopes(Some(account_id), scopes).await?;
        let code = random_secret();
        self.store
            .create_auth_code(
                &hash_secret(&code),
                AuthCode {
                    app_id: app.id,
                    account_id,
                    scopes: scopes.to_string(),
                    redirect_uri: redirect_uri.to_owned(),
                    code_challenge: pkce.map(|p| p.challenge.clone()),
                    code_challenge_method: pkce.map(|p| p.method.as_str().to_owned()),
                },
                self.limits().auth_code_ttl_s,
            )
            .await?;
        Ok(code)
    }

    /// Redeems an authorization code (once: the code is spent whatever the outcome,
    /// so a wrong PKCE verifier cannot be retried). `client` says how the client
    /// authenticated; a public client (no secret) is accepted only for a code
    /// that was bound to a PKCE challenge, since the verifier is then its proof.
    pub async fn exchange_code(
        &self,
        app: &AppRow,
        client: ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> ServiceResult<IssuedToken> {
        let invalid = || {
            ServiceError::oauth(OAuthError::InvalidGrant, "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
        };
        if code.is_empty() || code.len() > self.limits().oauth_token_max_bytes {
            return Err(invalid());
        }
        let code_hash = hash_secret(code);
        let grant = match self.store.take_auth_code(&code_hash).await {
            Err(StoreError::NotFound) => {
                // A code used before is being replayed: whoever holds it now
                // may have stolen it, so the token it gave is revoked too.
                if self.store.revoke_replayed_code(&code_hash).await? {
                    tracing::warn!("authorization code replayed; the token it issued is revoked");
                }
                return Err(invalid());
            }
            other => other?,
        };
        // RFC 6749 §4.1.3: the redirect URI of the authorization request must be
        // sent again, and be the same (Doorkeeper, hence Mastodon, requires it too).
        if grant.app_id != app.id || redirect_uri != Some(grant.redirect_uri.as_str()) {
            return Err(invalid());
        }
        let pkce = match (&grant.code_challenge, &grant.code_challenge_method) {
            (Some(challenge), Some(method)) => Some(Pkce {
                challenge: challenge.clone(),
                method: PkceMethod::parse(method).ok_or_else(invalid)?,
            }),
            _ => None,
        };
        match (&pkce, code_verifier) {
            (None, _) if client == ClientAuth::Public => return Err(invalid_client()),
            (None, None) => {}
            // A verifier for a code that had no challenge: refused (OAuth 2.1 §4.1.3),
            // so PKCE cannot be silently downgraded.
            (None, Some(_)) => return Err(ServiceError::oauth(
                OAuthError::InvalidGrant,
                "A code_verifier was sent, but the authorization request had no code_challenge.",
            )),
            (Some(_), None) => {
                return Err(ServiceError::oauth(
                    OAuthError::InvalidGrant,
                    "The authorization request used PKCE: code_verifier is required.",
                ))
            }
            (Some(p), Some(verifier)) => {
                if !p.verifies(verifier) {
                    return Err(ServiceError::oauth(
                        OAuthError::InvalidGrant,
                        "The code_verifier does not match the code_challenge of the authorization request.",
                    ));
                }
            }
        }
        let scopes = Scopes::parse(&grant.scopes).map_err(|_| invalid())?;
        let issued = self
            .issue_token(app.id, Some(grant.account_id), scopes)
            .await?;
        self.store
            .bind_auth_code_token(&code_hash, &hash_secret(&issued.access_token))
            .await?;
        Ok(issued)
    }

    /// Starts a log-in session for the authorize page; returns the cookie value
    /// (only its hash is stored).
    pub async fn start_session(&self, account_id: Id) -> ServiceResult<String> {
        let secret = random_secret();
        let limits = self.limits();
        self.store
            .create_session(
                &hash_secret(&secret),
                account_id,
                limits.session_ttl_s,
                limits.sessions_per_account_max,
            )
            .await?;
        Ok(secret)
    }

    /// The account of a live session, or None (unknown, expired, malformed, or
    /// the account is suspended or not yet approved).
    pub async fn session_account(&self, secret: &str) -> ServiceResult<Option<AccountRow>> {
        if !plausible_secret(secret) {
            return Ok(None);
        }
        let session = match self.store.session(&hash_secret(secret)).await {
            Err(StoreError::NotFound) => return Ok(None),
            other => other?,
        };
        match self.store.account(session.account_id).await {
            Ok(a) if !a.suspended && a.approved => Ok(Some(a)),
            Ok(_) | Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn end_session(&self, secret: &str) -> ServiceResult<()> {
        if plausible_secret(secret) {
            self.store.delete_session(&hash_secret(secret)).await?;
        }
        Ok(())
    }

    /// Revokes a token of this app. Unknown tokens succeed quietly (RFC 7009);
    /// another app's token is refused, so one client cannot log out another's users.
    pub async fn revoke(&self, app: &AppRow, token: &str) -> ServiceResult<()> {
        let hash = hash_secret(token);
        match self.store.token_by_hash(&hash).await {
            Ok(found) if found.app.id != app.id => {
                return Err(ServiceError::oauth(
                    OAuthError::UnauthorizedClient,
                    "You are not authorized to revoke this token",
                ))
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self.store.revoke_token(&hash, app.id).await?)
    }

    /// `POST /api/v1/accounts`: sign-up through an app token.
    pub async fn sign_up(
        &self,
        caller: &Principal,
        input: SignUp,
    ) -> ServiceResult<(AccountRow, IssuedToken)> {
        self.sign_up_from(caller, input, None).await
    }

    /// `sign_up` from `addr` (see `register_from`).
    pub async fn sign_up_from(
        &self,
        caller: &Principal,
        input: SignUp,
        addr: Option<std::net::IpAddr>,
    ) -> ServiceResult<(AccountRow, IssuedToken)> {
        if !caller.scopes.allows("write:accounts") {
            return Err(ServiceError::Forbidden(
                "This action is outside the authorized scopes".into(),
            ));
        }
        let account = self.register_from(input, addr).await?;
        // A pending account gets its token now, as in Mastodon; `authenticate`
        // refuses it until an operator approves the account.
        let token = self
            .issue_token(caller.app_id, Some(account.id), caller.scopes.clone())
            .await?;
        Ok((account, token))
    }

    /// Creates an account as the server's registration mode allows (open:
    /// approved at once; approval: pending; closed: refused), after checking
    /// every field. Shared by the API's sign-up and the web sign-up page.
    pub async fn register(&self, input: SignUp) -> ServiceResult<AccountRow> {
        self.register_from(input, None).await
    }

    /// `register` from `addr`: the address blocks in force may refuse it or
    /// make it wait for approval; the address is kept for moderators (`ip`).
    pub async fn register_from(
        &self,
        input: SignUp,
        addr: Option<std::net::IpAddr>,
    ) -> ServiceResult<AccountRow> {
        let registrations = self.config.registrations;
        if registrations == Registrations::Closed {
            return Err(ServiceError::Forbidden(
                "Registrations are closed on this server".into(),
            ));
        }
        // Claimed before the checks read the store: a sign-up flood past the
        // rate limits is refused for the price of this.
        let turn = self.password_turn()?;
        let username = input.username.trim();
        let email = input.email.trim();
        self.check_sign_up(username, email, &input).await?;
        let password_hash = turn.hash(input.password).await?;
        let verdict = match addr {
            Some(a) => self.check_sign_up_address(a).await?,
            None => crate::moderation::SignUpAddress::Allowed,
        };
        if verdict == crate::moderation::SignUpAddress::Refused {
            return Err(ServiceError::Forbidden(
                "Sign-ups from your address are not allowed on this server".into(),
            ));
        }
        let approved = registrations == Registrations::Open
            && verdict == crate::moderation::SignUpAddress::Allowed;
        let account = match self
            .store
            .create_account(NewAccount {
                username: username.to_owned(),
                email: email.to_owned(),
                password_hash,
                approved,
                locale: input
                    .locale
                    .filter(|l| valid_language(l, self.limits().language_max_chars)),
            })
            .await
        {
            // Taken between the check and the insert (a race): the same answer as the check.
            Err(StoreError::Conflict(what)) => {
                let field = if what == "email" { "email" } else { "username" };
                return Err(validation(vec![taken(field)]));
            }
            other => other?,
        };
        if let Some(a) = addr {
            self.store
                .set_sign_up_ip(account.id, &a.to_string())
                .await?;
        }
        Ok(account)
    }

    /// Every sign-up field checked at once, as Mastodon does: a 422 naming
    /// each failed field with its `ERR_*` code (`details`), nothing written.
    async fn check_sign_up(
        &self,
        username: &str,
        email: &str,
        input: &SignUp,
    ) -> ServiceResult<()> {
        let limits = self.limits();
        let mut errors = Vec::new();
        let username_chars = username.chars().count();
        if username.is_empty() {
            errors.push(field("username", "BLANK", "can't be blank".into()));
        } else if !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            errors.push(field(
                "username",
                "INVALID",
                "must contain only letters, numbers and underscores".into(),
            ));
        } else if username_chars > limits.username_max_chars {
            errors.push(field(
                "username",
                "TOO_LONG",
                format!(
                    "is too long (maximum is {} characters)",
                    limits.username_max_chars
                ),
            ));
        } else {
            match self.store.account_by_username(username).await {
                Ok(_) => errors.push(taken("username")),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if email.is_empty() {
            errors.push(field("email", "BLANK", "can't be blank".into()));
        } else if !plausible_email(email) {
            errors.push(field("email", "INVALID", "is invalid".into()));
        } else {
            match self.store.credentials_by_email(email).await {
                Ok(_) => errors.push(taken("email")),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let password_chars = input.password.chars().count();
        if input.password.is_empty() {
            errors.push(field("password", "BLANK", "can't be blank".into()));
        } else if password_chars < limits.password_min_chars {
            errors.push(field(
                "password",
                "TOO_SHORT",
                format!(
                    "is too short (minimum is {} characters)",
                    limits.password_min_chars
                ),
            ));
        } else if password_chars > limits.password_max_chars {
            errors.push(field(
                "password",
                "TOO_LONG",
                format!(
                    "is too long (maximum is {} characters)",
                    limits.password_max_chars
                ),
            ));
        }
        if !input.agreement {
            errors.push(field("agreement", "ACCEPTED", "must be accepted".into()));
        }
        if let Some(locale) = input.locale.as_deref().filter(|l| !l.is_empty()) {
            if !valid_language(locale, self.limits().language_max_chars) {
                errors.push(field(
                    "locale",
                    "INCLUSION",
                    "is not included in the list".into(),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(validation(errors))
        }
    }

    /// For operators (`holdfast user create`): the same rules, no app needed.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password: String,
    ) -> ServiceResult<AccountRow> {
        let limits = self.limits();
        if username.is_empty()
            || username.chars().count() > limits.username_max_chars
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ServiceError::Unprocessable(
                "username must be letters, digits and underscores".into(),
            ));
        }
        if !plausible_email(email) {
            return Err(ServiceError::Unprocessable("email is invalid".into()));
        }
        let n = password.chars().count();
        if n < limits.password_min_chars || n > limits.password_max_chars {
            return Err(ServiceError::Unprocessable(format!(
                "password must be between {} and {} characters",
                limits.password_min_chars, limits.password_max_chars
            )));
        }
        let password_hash = self.passwords.hash(password).await?;
        Ok(self
            .store
            .create_account(NewAccount {
                username: username.into(),
                email: email.into(),
                password_hash,
                approved: true,
                locale: None,
            })
            .await?)
    }
}

fn field(field: &'static str, code: &'static str, description: String) -> FieldError {
    FieldError {
        field,
        code,
        description,
    }
}

fn taken(name: &'static str) -> FieldError {
    field(name, "TAKEN", "has already been taken".into())
}

/// Rails' full message: "Validation failed: Username has already been taken, Agreement must be accepted".
fn validation(details: Vec<FieldError>) -> ServiceError {
    let parts: Vec<String> = details
        .iter()
        .map(|d| {
            let mut name = d.field.to_owned();
            if let Some(first) = name.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            format!("{name} {}", d.description)
        })
        .collect();
    ServiceError::Validation {
        message: format!("Validation failed: {}", parts.join(", ")),
        details,
    }
}

fn invalid_client() -> ServiceError {
    ServiceError::oauth(OAuthError::InvalidClient, "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
}

/// The out-of-band URN, or an absolute URI with a scheme (apps use custom schemes like `tusky://`).
pub fn valid_redirect_uri(uri: &str) -> bool {
    check_redirect_uri(uri).is_ok()
}

/// Why a redirect URI is refused, in words that complete "Redirect URI …".
/// An absolute URI (RFC 3986 §4.3: a scheme, then anything but a fragment), without
/// whitespace or control characters; http(s) ones need a host; schemes that run
/// code or embed content in a browser are refused.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri == OOB_REDIRECT {
        return Ok(());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces or control characters.");
    }
    if uri.contains('#') {
        return Err("must not contain a fragment.");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("must be an absolute URI.");
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.');
    if !scheme_ok || rest.is_empty() {
        return Err("must be an absolute URI.");
    }
    let scheme = scheme.to_ascii_lowercase();
    if matches!(
        scheme.as_str(),
        "javascript" | "data" | "vbscript" | "file" | "blob"
    ) {
        return Err("uses a scheme that is not allowed.");
    }
    if (scheme == "http" || scheme == "https") && !has_host(rest) {
        return Err("must be an absolute URI.");
    }
    Ok(())
}

/// `//host…` with a non-empty host.
fn has_host(after_scheme: &str) -> bool {
    after_scheme
        .strip_prefix("//")
        .map(|r| r.split(['/', '?']).next().unwrap_or(""))
        .map(|authority| authority.rsplit('@').next().unwrap_or(""))
        .is_some_and(|host| !host.is_empty() && !host.starts_with(':'))
}

/// An app's website: an absolute http or https URL with a host, no whitespace.
pub fn valid_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[6..]
    } else if lower.starts_with("http://") {
        &url[5..]
    } else {
        return false;
    };
    !url.chars().any(|c| c.is_whitespace() || c.is_control()) && has_host(rest)
}

fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                // fact: RFC 5321 caps an address at 254 octets
                && email.len() <= 254
                && !email.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// ISO 639-1 style: two or three lowercase letters, optionally a region;
/// at most `max_chars` in all (`language_max_chars`).
pub fn valid_language(lang: &str, max_chars: usize) -> bool {
    let base = lang.split(['-', '_']).next().unwrap_or("");
    // fact: an ISO 639 language code has two or three letters
    (2..=3).contains(&base.len())
        && base.chars().all(|c| c.is_ascii_lowercase())
        && lang.chars().count() <= max_chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(valid_redirect_uri(OOB_REDIRECT));
        assert!(valid_redirect_uri("https://app.example/cb"));
        assert!(valid_redirect_uri("tusky://oauth"));
        assert!(!valid_redirect_uri("/relative"));
        assert!(!valid_redirect_uri("https://x/#frag"));
        assert!(valid_redirect_uri("com.example.app:/oauth2redirect"));
        assert!(valid_redirect_uri("http://127.0.0.1:8080/cb?x=1"));
        assert!(!valid_redirect_uri("https:///nohost"));
        assert!(!valid_redirect_uri("https:nohost"));
        assert!(!valid_redirect_uri("javascript:alert(1)"));
        assert!(!valid_redirect_uri("JavaScript:alert(1)"));
        assert!(!valid_redirect_uri("https://a b/"));
        assert!(!valid_redirect_uri("1http://x/"));
        assert!(!valid_redirect_uri(""));
    }

    #[test]
    fn websites() {
        assert!(valid_web_url("https://app.example"));
        assert!(valid_web_url("HTTP://app.example/x?y"));
        assert!(!valid_web_url("ftp://app.example"));
        assert!(!valid_web_url("app.example"));
        assert!(!valid_web_url("https://"));
        assert!(!valid_web_url("https://x y"));
        assert!(!valid_web_url("javascript:alert(1)"));
    }

    #[test]
    fn pkce_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let p = Pkce::from_request(
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
            Some("S256"),
        )
        .unwrap()
        .unwrap();
        assert!(p.verifies(verifier));
        assert!(!p.verifies("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"));
        assert!(!p.verifies("short"));
        let plain = Pkce::from_request(Some(verifier), None).unwrap().unwrap();
        assert_eq!(plain.method, PkceMethod::Plain);
        assert!(plain.verifies(verifier));
        assert!(Pkce::from_request(None, None).unwrap().is_none());
        assert!(Pkce::from_request(Some(verifier), Some("S512")).is_err());
        assert!(Pkce::from_request(None, Some("S256")).is_err());
        assert!(Pkce::from_request(Some("too-short"), Some("S256")).is_err());
        assert!(Pkce::from_request(
            Some("has space and is long enough to pass the length check"),
            None
        )
        .is_err());
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session() {
        let a = random_secret();
        let b = random_secret();
        assert!(csrf_token_matches(&a, &csrf_token(&a)));
        assert!(!csrf_token_matches(&b, &csrf_token(&a)));
        assert!(!csrf_token_matches(&a, ""));
    }

    #[test]
    fn emails_and_languages() {
        assert!(plausible_email("a@example.com"));
        assert!(!plausible_email("nobody"));
        assert!(!plausible_email("a@localhost"));
        assert!(
            valid_language("en", 10)
                && valid_language("pt-BR", 10)
                && !valid_language("English", 10)
        );
        assert!(!valid_language("en-abcdefghi", 10), "over the bound");
    }
}
