//! Apps, tokens and sign-up: OAuth 2 as Mastodon speaks it.

use holdfast_config::Registrations;
use holdfast_store::{AccountRow, AppRow, AuthCode, Id, NewAccount, NewApp, StoreError};

use crate::secrets::{hash_secret, random_secret, same_hash};
use crate::{FieldError, Principal, Scopes, Service, ServiceError, ServiceResult};

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
        if bearer.is_empty() || bearer.len() > 512 {
            return Err(invalid());
        }
        let token = match self.store.token_by_hash(&hash_secret(bearer)).await {
            Err(StoreError::NotFound) => return Err(invalid()),
            other => other?,
        };
        if token.account_id.is_some() && (token.account_suspended || !token.account_approved) {
            return Err(ServiceError::Unauthorized(
                "Your login is currently disabled".into(),
            ));
        }
        let scopes = Scopes::parse(&token.scopes).map_err(|_| invalid())?;
        Ok(Principal {
            token_id: token.id,
            app_id: token.app.id,
            app_name: token.app.name,
            app_website: token.app.website,
            account_id: token.account_id,
            scopes,
        })
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
            if uri.chars().count() > limits.redirect_uri_max_chars || !valid_redirect_uri(uri) {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Redirect URI must be an absolute URI.".into(),
                ));
            }
        }
        let scopes = Scopes::parse(input.scopes.as_deref().unwrap_or("")).map_err(|bad| {
            ServiceError::Unprocessable(format!("Validation failed: Scopes are invalid ({bad})"))
        })?;
        let client_secret = random_secret();
        let app = self
            .store
            .create_app(NewApp {
                name,
                website: input.website.filter(|w| !w.trim().is_empty()),
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
                    400,
                    "invalid_scope",
                    format!("The requested scope is invalid, unknown, or malformed: {bad}"),
                )
            })?,
        };
        if !wanted.within(&app_scopes) {
            return Err(ServiceError::oauth(
                400,
                "invalid_scope",
                "The requested scope exceeds the scope granted to the application.",
            ));
        }
        Ok(wanted)
    }

    /// Checks e-mail and password; the same error for unknown e-mail and wrong password.
    pub async fn check_password(&self, email: &str, password: &str) -> ServiceResult<Id> {
        let bad = || {
            ServiceError::oauth(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, or the credentials are wrong.")
        };
        let creds = match self.store.credentials_by_email(email.trim()).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        let ok = self
            .passwords
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
                403,
                "access_denied",
                "Your login is currently disabled",
            ));
        }
        if !creds.approved {
            return Err(ServiceError::oauth(
                403,
                "access_denied",
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

    /// After a successful log-in form: a one-time code bound to app, account, scopes and redirect URI.
    pub async fn issue_code(
        &self,
        app: &AppRow,
        account_id: Id,
        scopes: &Scopes,
        redirect_uri: &str,
    ) -> ServiceResult<String> {
        let code = random_secret();
        self.store
            .create_auth_code(
                &hash_secret(&code),
                AuthCode {
                    app_id: app.id,
                    account_id,
                    scopes: scopes.to_string(),
                    redirect_uri: redirect_uri.to_owned(),
                },
                self.limits().auth_code_ttl_s,
            )
            .await?;
        Ok(code)
    }

    pub async fn exchange_code(
        &self,
        app: &AppRow,
        code: &str,
        redirect_uri: Option<&str>,
    ) -> ServiceResult<IssuedToken> {
        let invalid = || {
            ServiceError::oauth(400, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
        };
        let grant = match self.store.take_auth_code(&hash_secret(code)).await {
            Err(StoreError::NotFound) => return Err(invalid()),
            other => other?,
        };
        if grant.app_id != app.id || redirect_uri.is_some_and(|r| r != grant.redirect_uri) {
            return Err(invalid());
        }
        let scopes = Scopes::parse(&grant.scopes).map_err(|_| invalid())?;
        self.issue_token(app.id, Some(grant.account_id), scopes)
            .await
    }

    /// Revokes a token of this app. Unknown tokens succeed quietly (RFC 7009);
    /// another app's token is refused, so one client cannot log out another's users.
    pub async fn revoke(&self, app: &AppRow, token: &str) -> ServiceResult<()> {
        let hash = hash_secret(token);
        match self.store.token_by_hash(&hash).await {
            Ok(found) if found.app.id != app.id => {
                return Err(ServiceError::oauth(
                    403,
                    "unauthorized_client",
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
        if !caller.scopes.allows("write:accounts") {
            return Err(ServiceError::Forbidden(
                "This action is outside the authorized scopes".into(),
            ));
        }
        let registrations = self.config.registrations;
        if registrations == Registrations::Closed {
            return Err(ServiceError::Forbidden(
                "Registrations are closed on this server".into(),
            ));
        }
        let username = input.username.trim();
        let email = input.email.trim();
        self.check_sign_up(username, email, &input).await?;
        let password_hash = self.passwords.hash(input.password).await?;
        let approved = registrations == Registrations::Open;
        let account = match self
            .store
            .create_account(NewAccount {
                username: username.to_owned(),
                email: email.to_owned(),
                password_hash,
                approved,
                locale: input.locale.filter(|l| valid_language(l)),
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
        // A pending account gets its token now, as in Mastodon; `authenticate`
        // refuses it until an operator approves the account.
        let token = self
            .issue_token(caller.app_id, Some(account.id), caller.scopes.clone())
            .await?;
        Ok((account, token))
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
            if !valid_language(locale) {
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
    ServiceError::oauth(401, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
}

/// The out-of-band URN, or an absolute URI with a scheme (apps use custom schemes like `tusky://`).
pub fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB_REDIRECT {
        return true;
    }
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
                && !rest.is_empty()
                && !uri.contains(char::is_whitespace)
                && !uri.contains('#')
        }
        None => false,
    }
}

fn plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && email.len() <= 254
                && !email.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// ISO 639-1 style: two or three lowercase letters, optionally a region.
pub fn valid_language(lang: &str) -> bool {
    let base = lang.split(['-', '_']).next().unwrap_or("");
    (2..=3).contains(&base.len())
        && base.chars().all(|c| c.is_ascii_lowercase())
        && lang.len() <= 10
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
    }

    #[test]
    fn emails_and_languages() {
        assert!(plausible_email("a@example.com"));
        assert!(!plausible_email("nobody"));
        assert!(!plausible_email("a@localhost"));
        assert!(valid_language("en") && valid_language("pt-BR") && !valid_language("English"));
    }
}
