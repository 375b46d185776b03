//! What an account keeps about others for itself: private notes, endorsed
//! accounts, hidden domains. holdfast has only local accounts, so a hidden
//! domain hides nothing yet; the list is kept for apps (and federation).

use holdfast_store::{AccountRow, Id, Relationship};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

impl Service {
    pub async fn set_account_note(
        &self,
        me: Id,
        target: Id,
        comment: Option<String>,
    ) -> ServiceResult<Relationship> {
        let comment = comment.unwrap_or_default();
        let max = self.limits().account_note_max_chars;
        if comment.chars().count() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Comment is too long (maximum is {max} characters)"
            )));
        }
        self.account(Some(me), target).await?;
        self.store
            .set_account_note(me, target, comment.trim())
            .await?;
        self.relationship(me, target).await
    }

    /// 422 unless `me` follows `target` (Mastodon's rule), or past the bound.
    pub async fn endorse(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        self.account(Some(me), target).await?;
        self.store
            .endorse(me, target, self.limits().endorsements_max)
            .await?;
        self.relationship(me, target).await
    }

    pub async fn unendorse(&self, me: Id, target: Id) -> ServiceResult<Relationship> {
        self.account(Some(me), target).await?;
        self.store.unendorse(me, target).await?;
        self.relationship(me, target).await
    }

    pub async fn endorsements(
        &self,
        me: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        let page = self.accounts_page_bounds(req);
        let paged = self.store.endorsements(me, page).await?;
        self.account_page(paged).await
    }

    /// The accounts `id` features on its profile, as anyone may see them
    /// (`GET /api/v1/accounts/:id/endorsements`, Mastodon 4.4).
    pub async fn account_endorsements(
        &self,
        viewer: Option<Id>,
        id: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        self.account(viewer, id).await?;
        self.endorsements(id, req).await
    }

    /// A domain as a client names it, lowercased: labels of letters, digits
    /// and hyphens between dots. 422 otherwise.
    fn domain(&self, raw: Option<String>) -> ServiceResult<String> {
        let domain = raw
            .unwrap_or_default()
            .trim()
            .trim_end_matches('.')
            .to_lowercase();
        if domain.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Domain can't be blank".into(),
            ));
        }
        let valid = domain.chars().count() <= self.limits().domain_max_chars
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Domain is not a valid domain name".into(),
            ));
        }
        Ok(domain)
    }

    pub async fn block_domain(&self, me: Id, domain: Option<String>) -> ServiceResult<()> {
        let domain = self.domain(domain)?;
        Ok(self
            .store
            .block_domain(me, &domain, self.limits().user_domain_blocks_max)
            .await?)
    }

    pub async fn unblock_domain(&self, me: Id, domain: Option<String>) -> ServiceResult<()> {
        let domain = self.domain(domain)?;
        Ok(self.store.unblock_domain(me, &domain).await?)
    }

    pub async fn domain_blocks(&self, me: Id, req: PageRequest) -> ServiceResult<PageOf<String>> {
        let page = self.accounts_page_bounds(req);
        let paged = self.store.domain_blocks(me, page).await?;
        Ok(PageOf::from_paged(paged))
    }
}
