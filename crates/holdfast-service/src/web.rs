//! What the server-rendered web UI needs beyond the API's operations.

use holdfast_store::{AuthorizedApp, Id, NewApp, StoreError, WebSession};

use crate::secrets::{hash_secret, random_secret};
use crate::{Service, ServiceError, ServiceResult};

/// The client id of the built-in web UI's app: statuses posted from the web
/// pages show this app, as Mastodon's show "Web". No one holds its secret.
pub const WEB_APP_CLIENT_ID: &str = "holdfast-web-ui";

impl Service {
    // ---- web ----

    /// The web UI's app (made on first use; a concurrent first use by another
    /// node finds the one that won).
    pub async fn web_app_id(&self) -> ServiceResult<Id> {
        match self.store.app_by_client_id(WEB_APP_CLIENT_ID).await {
            Ok(app) => return Ok(app.id),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        let created = self
            .store
            .create_app(NewApp {
                name: "Web".into(),
                website: None,
                redirect_uris: vec![crate::oauth::OOB_REDIRECT.into()],
                scopes: "read write follow".into(),
                client_id: WEB_APP_CLIENT_ID.into(),
                client_secret_hash: hash_secret(&random_secret()),
            })
            .await;
        match created {
            Ok(app) => Ok(app.id),
            Err(StoreError::Conflict(_)) => {
                Ok(self.store.app_by_client_id(WEB_APP_CLIENT_ID).await?.id)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The account's live log-in sessions, newest first.
    pub async fn web_sessions(&self, me: Id) -> ServiceResult<Vec<WebSession>> {
        Ok(self.store.sessions_of(me).await?)
    }

    /// Ends one of the account's own sessions, named by its hash.
    pub async fn end_web_session(&self, me: Id, session_hash: &str) -> ServiceResult<()> {
        Ok(self.store.end_account_session(me, session_hash).await?)
    }

    /// Apps the account has authorized (with live tokens), most recent first.
    pub async fn authorized_apps(&self, me: Id) -> ServiceResult<Vec<AuthorizedApp>> {
        Ok(self
            .store
            .authorized_apps(me, self.limits().web_authorized_apps_max)
            .await?)
    }

    /// Revokes every token an app holds for the account.
    pub async fn revoke_app_authorization(&self, me: Id, app_id: Id) -> ServiceResult<()> {
        Ok(self.store.revoke_app_authorization(me, app_id).await?)
    }

    /// Whether `password` is the account's password (on the bounded hashing pool).
    async fn password_matches(&self, me: Id, password: &str) -> ServiceResult<bool> {
        let email = self.store.email_of(me).await?;
        let creds = self.store.credentials_by_email(&email).await?;
        self.passwords
            .verify(password.to_owned(), Some(creds.password_hash))
            .await
    }

    /// A new password, given the current one; every other session of the
    /// account ends (the browser that changed it stays logged in).
    pub async fn change_password(
        &self,
        me: Id,
        current: &str,
        new: String,
        keep_session_secret: &str,
    ) -> ServiceResult<()> {
        let limits = self.limits();
        if !self.password_matches(me, current).await? {
            return Err(ServiceError::Forbidden(
                "The current password is not right".into(),
            ));
        }
        let n = new.chars().count();
        if n < limits.password_min_chars || n > limits.password_max_chars {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Password must be between {} and {} characters",
                limits.password_min_chars, limits.password_max_chars
            )));
        }
        let hash = self.passwords.hash(new).await?;
        Ok(self
            .store
            .set_password_hash(me, &hash, &hash_secret(keep_session_secret))
            .await?)
    }

    /// Deletes the account and everything it posted, given its password.
    pub async fn delete_own_account(&self, me: Id, password: &str) -> ServiceResult<()> {
        if !self.password_matches(me, password).await? {
            return Err(ServiceError::Forbidden("The password is not right".into()));
        }
        Ok(self.store.delete_account(me).await?)
    }
}
