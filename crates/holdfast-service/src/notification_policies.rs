//! Notification policies (`/api/v2/notifications/policy`, and v1's
//! booleans) and the requests filtered notifications wait in
//! (`/api/v1/notifications/requests`). The store decides, when it writes a
//! notification, whether the policy accepts, filters or drops it.

use holdfast_store::{
    AccountRow, Id, NotificationPolicyRow, NotificationRequestRow, PendingSummary, PolicyChoice,
    StatusBundle,
};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// A policy change as sent: each field an `accept`/`filter`/`drop` word, or
/// absent (unchanged).
#[derive(Clone, Debug, Default)]
pub struct PolicyFields {
    pub for_not_following: Option<String>,
    pub for_not_followers: Option<String>,
    pub for_new_accounts: Option<String>,
    pub for_private_mentions: Option<String>,
    pub for_limited_accounts: Option<String>,
}

/// A request with what it renders: the sender and its latest status, if
/// the caller may still see it.
#[derive(Clone, Debug)]
pub struct RequestView {
    pub row: NotificationRequestRow,
    pub account: AccountRow,
    pub last_status: Option<StatusBundle>,
}

fn choice(field: &str, value: Option<String>) -> ServiceResult<Option<PolicyChoice>> {
    value
        .map(|v| {
            PolicyChoice::parse(&v).ok_or_else(|| {
                ServiceError::Unprocessable(format!(
                    "Validation failed: {field} must be accept, filter or drop"
                ))
            })
        })
        .transpose()
}

impl Service {
    pub async fn notification_policy(
        &self,
        me: Id,
    ) -> ServiceResult<(NotificationPolicyRow, PendingSummary)> {
        Ok(self.store.notification_policy(me).await?)
    }

    /// Checks every field before changing any.
    pub async fn update_notification_policy(
        &self,
        me: Id,
        f: PolicyFields,
    ) -> ServiceResult<(NotificationPolicyRow, PendingSummary)> {
        let not_following = choice("for_not_following", f.for_not_following)?;
        let not_followers = choice("for_not_followers", f.for_not_followers)?;
        let new_accounts = choice("for_new_accounts", f.for_new_accounts)?;
        let private_mentions = choice("for_private_mentions", f.for_private_mentions)?;
        let limited = choice("for_limited_accounts", f.for_limited_accounts)?;
        let (mut p, _) = self.store.notification_policy(me).await?;
        p.for_not_following = not_following.unwrap_or(p.for_not_following);
        p.for_not_followers = not_followers.unwrap_or(p.for_not_followers);
        p.for_new_accounts = new_accounts.unwrap_or(p.for_new_accounts);
        p.for_private_mentions = private_mentions.unwrap_or(p.for_private_mentions);
        p.for_limited_accounts = limited.unwrap_or(p.for_limited_accounts);
        self.store.set_notification_policy(me, p).await?;
        self.notification_policy(me).await
    }

    async fn request_views(
        &self,
        me: Id,
        rows: Vec<NotificationRequestRow>,
    ) -> ServiceResult<Vec<RequestView>> {
        let account_ids: Vec<Id> = rows.iter().map(|r| r.from_account_id).collect();
        let status_ids: Vec<Id> = rows.iter().filter_map(|r| r.last_status_id).collect();
        let accounts = self.store.accounts(&account_ids).await?;
        let statuses = self.bundles(Some(me), &status_ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let account = accounts
                    .iter()
                    .find(|a| a.id == row.from_account_id)?
                    .clone();
                let last_status = row
                    .last_status_id
                    .and_then(|id| statuses.iter().find(|s| s.status.id == id).cloned());
                Some(RequestView {
                    row,
                    account,
                    last_status,
                })
            })
            .collect())
    }

    pub async fn notification_requests(
        &self,
        me: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<RequestView>> {
        let page = req.page(
            self.limits().notifications_page_default,
            self.limits().notifications_page_max,
        );
        let paged = self.store.notification_requests(me, page).await?;
        let rows = paged.iter().map(|p| p.item.clone()).collect();
        let items = self.request_views(me, rows).await?;
        Ok(PageOf::map_from(&paged, items))
    }

    pub async fn notification_request(&self, me: Id, id: Id) -> ServiceResult<RequestView> {
        let row = self.store.notification_request(me, id).await?;
        self.request_views(me, vec![row])
            .await?
            .pop()
            .ok_or_else(ServiceError::not_found)
    }

    fn request_ids(&self, ids: &[Id]) -> ServiceResult<()> {
        let max = self.limits().notification_requests_ids_max;
        if ids.len() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: at most {max} requests at once"
            )));
        }
        Ok(())
    }

    /// One request (404 when it is not the caller's) or many (others' skipped).
    pub async fn accept_notification_requests(
        &self,
        me: Id,
        ids: &[Id],
        one: bool,
    ) -> ServiceResult<()> {
        self.request_ids(ids)?;
        let n = self.store.accept_notification_requests(me, ids).await?;
        if one && n == 0 {
            return Err(ServiceError::not_found());
        }
        if n > 0 {
            // The accepted notifications join the lists: streams fetch them.
            self.events
                .publish(crate::events::Event::Notified { account_id: me });
        }
        Ok(())
    }

    pub async fn dismiss_notification_requests(
        &self,
        me: Id,
        ids: &[Id],
        one: bool,
    ) -> ServiceResult<()> {
        self.request_ids(ids)?;
        let n = self.store.dismiss_notification_requests(me, ids).await?;
        if one && n == 0 {
            return Err(ServiceError::not_found());
        }
        Ok(())
    }
}
