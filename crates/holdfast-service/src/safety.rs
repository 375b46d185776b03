//! What an account keeps others out with: its blocks and mutes (with an
//! end), follow requests to a locked account, and removing a follower.

use holdfast_store::{AccountRow, Id, Muted, Relationship};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// One entry of `GET /api/v1/mutes`.
pub struct MutedAccount {
    pub account: AccountRow,
    pub expires_at_ms: Option<i64>,
}

impl Service {
    pub async fn blocks(&self, me: Id, req: PageRequest) -> ServiceResult<PageOf<AccountRow>> {
        let paged = self
            .store
            .blocks(me, self.accounts_page_bounds(req))
            .await?;
        self.account_page(paged).await
    }

    pub async fn mutes(&self, me: Id, req: PageRequest) -> ServiceResult<PageOf<MutedAccount>> {
        let paged = self.store.mutes(me, self.accounts_page_bounds(req)).await?;
        let ids: Vec<Id> = paged.iter().map(|p| p.item.account_id).collect();
        let accounts = self.store.accounts(&ids).await?;
        let items = accounts
            .into_iter()
            .filter_map(|account| {
                let Muted { expires_at_ms, .. } =
                    paged.iter().find(|p| p.item.account_id == account.id)?.item;
                Some(MutedAccount {
                    account,
                    expires_at_ms,
                })
            })
            .collect();
        Ok(PageOf::map_from(&paged, items))
    }

    /// `duration_s`: how long the mute lasts; 0 or None is until unmuted (Mastodon's default).
    pub(crate) fn mute_end(&self, duration_s: Option<u64>) -> ServiceResult<Option<i64>> {
        match duration_s {
            None | Some(0) => Ok(None),
            Some(s) if s > self.limits().mute_duration_max_s => {
                Err(ServiceError::Unprocessable(format!(
                    "Validation failed: Duration must be at most {} seconds",
                    self.limits().mute_duration_max_s
                )))
            }
            Some(s) => Ok(Some(holdfast_store::ids::now_ms() + (s as i64) * 1000)),
        }
    }

    pub async fn follow_requests(
        &self,
        me: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        let paged = self
            .store
            .follow_requests(me, self.accounts_page_bounds(req))
            .await?;
        self.account_page(paged).await
    }

    /// 404 when `from` is unknown or did not ask, as Mastodon answers.
    pub async fn authorize_follow_request(&self, me: Id, from: Id) -> ServiceResult<Relationship> {
        self.account(Some(me), from).await?;
        self.store.authorize_follow_request(me, from).await?;
        self.relationship(me, from).await
    }

    pub async fn reject_follow_request(&self, me: Id, from: Id) -> ServiceResult<Relationship> {
        self.account(Some(me), from).await?;
        self.store.reject_follow_request(me, from).await?;
        self.relationship(me, from).await
    }

    pub async fn remove_from_followers(&self, me: Id, follower: Id) -> ServiceResult<Relationship> {
        self.account(Some(me), follower).await?;
        self.store.remove_from_followers(me, follower).await?;
        self.relationship(me, follower).await
    }
}
