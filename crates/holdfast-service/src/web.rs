//! What the server-rendered web UI needs beyond the API's operations.

use holdfast_store::{Id, NewApp, StoreError};

use crate::secrets::{hash_secret, random_secret};
use crate::{Service, ServiceResult};

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
}
