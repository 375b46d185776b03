//! Lists an account makes of accounts it follows (`/api/v1/lists`), each
//! with its own timeline (`Timeline::List`). Only the owner ever sees a list:
//! someone else's list is 404, as in Mastodon.

use holdfast_store::{AccountRow, Id, ListRow, ListUpdate, NewList, RepliesPolicy};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// A list's fields as a client sends them, before checks.
#[derive(Default)]
pub struct ListFields {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

impl Service {
    fn list_title(&self, title: Option<String>) -> ServiceResult<Option<String>> {
        let Some(title) = title else { return Ok(None) };
        let title = title.trim().to_owned();
        if title.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Title can't be blank".into(),
            ));
        }
        let max = self.limits().list_title_max_chars;
        if title.chars().count() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Title is too long (maximum is {max} characters)"
            )));
        }
        Ok(Some(title))
    }

    fn replies_policy(policy: Option<String>) -> ServiceResult<Option<RepliesPolicy>> {
        policy
            .map(|p| {
                RepliesPolicy::parse(&p).ok_or_else(|| {
                    ServiceError::Unprocessable(
                        "Validation failed: Replies policy is not included in the list".into(),
                    )
                })
            })
            .transpose()
    }

    pub async fn create_list(&self, me: Id, f: ListFields) -> ServiceResult<ListRow> {
        let title = self.list_title(Some(f.title.unwrap_or_default()))?;
        let new = NewList {
            title: title.unwrap_or_default(),
            replies_policy: Self::replies_policy(f.replies_policy)?.unwrap_or(RepliesPolicy::List),
            exclusive: f.exclusive.unwrap_or(false),
        };
        Ok(self
            .store
            .create_list(me, new, self.limits().lists_per_account_max)
            .await?)
    }

    pub async fn lists(&self, me: Id) -> ServiceResult<Vec<ListRow>> {
        Ok(self.store.lists(me).await?)
    }

    pub async fn list(&self, me: Id, id: Id) -> ServiceResult<ListRow> {
        Ok(self.store.list(me, id).await?)
    }

    pub async fn update_list(&self, me: Id, id: Id, f: ListFields) -> ServiceResult<ListRow> {
        let update = ListUpdate {
            title: self.list_title(f.title)?,
            replies_policy: Self::replies_policy(f.replies_policy)?,
            exclusive: f.exclusive,
        };
        Ok(self.store.update_list(me, id, update).await?)
    }

    pub async fn delete_list(&self, me: Id, id: Id) -> ServiceResult<()> {
        Ok(self.store.delete_list(me, id).await?)
    }

    /// `limit=0` is every member (up to the list bound), as Mastodon has it.
    pub async fn list_members(
        &self,
        me: Id,
        id: Id,
        mut req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        let limits = self.limits();
        let mut max = limits.accounts_page_max;
        if req.limit == Some(0) {
            req.limit = Some(limits.list_accounts_max);
            max = limits.list_accounts_max;
        }
        let page = req.page(limits.accounts_page_default, max);
        let paged = self.store.list_members(me, id, page).await?;
        self.account_page(paged).await
    }

    /// The ids a members change names: at most `list_accounts_ids_max`, each an account.
    async fn member_ids(&self, me: Id, ids: &[Id]) -> ServiceResult<()> {
        let max = self.limits().list_accounts_ids_max;
        if ids.len() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: at most {max} accounts at once"
            )));
        }
        let mut distinct = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let found = self.store.accounts(&distinct).await?;
        let visible = found
            .iter()
            .filter(|a| (!a.suspended && a.approved) || a.id == me)
            .count();
        if visible != distinct.len() {
            return Err(ServiceError::not_found());
        }
        Ok(())
    }

    pub async fn add_list_members(&self, me: Id, id: Id, ids: &[Id]) -> ServiceResult<()> {
        self.member_ids(me, ids).await?;
        if ids.is_empty() {
            // Nothing to add; still 404 for a list that is not the caller's.
            self.store.list(me, id).await?;
            return Ok(());
        }
        Ok(self
            .store
            .add_list_members(me, id, ids, self.limits().list_accounts_max)
            .await?)
    }

    pub async fn remove_list_members(&self, me: Id, id: Id, ids: &[Id]) -> ServiceResult<()> {
        self.member_ids(me, ids).await?;
        Ok(self.store.remove_list_members(me, id, ids).await?)
    }

    /// The caller's lists that account `id` is in.
    pub async fn lists_containing(&self, me: Id, id: Id) -> ServiceResult<Vec<ListRow>> {
        self.account(Some(me), id).await?;
        Ok(self.store.lists_containing(me, id).await?)
    }
}
