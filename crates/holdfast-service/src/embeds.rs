//! What other sites may embed: a status found by its public URL, for
//! `GET /api/oembed`. The API parses the URL (only it knows URL shapes); the
//! rule of what may be embedded is here.

use holdfast_store::{Id, StatusBundle, Visibility};

use crate::{Service, ServiceError, ServiceResult};

impl Service {
    /// Status `id` of `username`, if anyone may embed it: public or unlisted
    /// (what an anonymous reader may see), not a reblog, by that account.
    /// Anything else is 404, as Mastodon answers.
    pub async fn embeddable_status(&self, username: &str, id: Id) -> ServiceResult<StatusBundle> {
        let bundle = self.status(None, id).await?;
        let s = &bundle.status;
        let embeddable = matches!(s.visibility, Visibility::Public | Visibility::Unlisted)
            && s.reblog_of_id.is_none()
            && bundle.account.username.eq_ignore_ascii_case(username);
        if !embeddable {
            return Err(ServiceError::not_found());
        }
        Ok(bundle)
    }
}
