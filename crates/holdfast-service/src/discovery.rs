//! Finding people: the profile directory, follow suggestions (v1 and v2),
//! familiar followers and account search, all from the local follow graph.

use holdfast_store::{AccountRow, DirectoryOrder, Id, SuggestionSource};

use crate::{Service, ServiceError, ServiceResult};

pub struct SuggestedAccount {
    pub account: AccountRow,
    pub source: SuggestionSource,
}

impl Service {
    fn accounts_limit(&self, limit: Option<u32>) -> u32 {
        limit
            .unwrap_or(self.limits().accounts_page_default)
            .min(self.limits().accounts_page_max)
    }

    /// `order`: `active` (the default) or `new`; `offset` is bounded.
    pub async fn directory(
        &self,
        order: Option<&str>,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<Vec<AccountRow>> {
        let order = match order {
            None | Some("") | Some("active") => DirectoryOrder::Active,
            Some("new") => DirectoryOrder::New,
            Some(other) => {
                return Err(ServiceError::BadRequest(format!(
                    "order must be active or new, not {other}"
                )))
            }
        };
        let offset = offset.unwrap_or(0);
        if offset > self.limits().directory_offset_max {
            return Err(ServiceError::BadRequest(format!(
                "offset may be at most {}",
                self.limits().directory_offset_max
            )));
        }
        Ok(self
            .store
            .directory(order, self.accounts_limit(limit), offset)
            .await?)
    }

    pub async fn suggestions(
        &self,
        me: Id,
        limit: Option<u32>,
    ) -> ServiceResult<Vec<SuggestedAccount>> {
        let found = self
            .store
            .suggestions(me, self.accounts_limit(limit))
            .await?;
        let ids: Vec<Id> = found.iter().map(|s| s.account_id).collect();
        let accounts = self.store.accounts(&ids).await?;
        Ok(found
            .iter()
            .filter_map(|s| {
                let account = accounts.iter().find(|a| a.id == s.account_id)?.clone();
                Some(SuggestedAccount {
                    account,
                    source: s.source,
                })
            })
            .collect())
    }

    /// For each id (unknown ones skipped, as relationships do), the accounts
    /// `me` follows that follow it.
    pub async fn familiar_followers(
        &self,
        me: Id,
        ids: &[Id],
    ) -> ServiceResult<Vec<(Id, Vec<AccountRow>)>> {
        if ids.len() > self.limits().relationships_ids_max {
            return Err(ServiceError::BadRequest(format!(
                "at most {} ids at once",
                self.limits().relationships_ids_max
            )));
        }
        let found = self
            .store
            .familiar_followers(me, ids, self.limits().familiar_followers_each_max)
            .await?;
        let mut out = Vec::with_capacity(found.len());
        for (id, followers) in found {
            out.push((id, self.store.accounts(&followers).await?));
        }
        Ok(out)
    }

    /// `GET /api/v1/accounts/search`: the accounts part of search; with
    /// `following`, only accounts `me` follows (among the page found).
    pub async fn search_accounts(
        &self,
        me: Option<Id>,
        query: &str,
        limit: Option<u32>,
        offset: Option<u32>,
        following: bool,
    ) -> ServiceResult<Vec<AccountRow>> {
        let mut accounts = self
            .search(me, query, Some("accounts"), limit, offset)
            .await?
            .accounts;
        if following {
            let me =
                me.ok_or_else(|| ServiceError::Unauthorized("The access token is invalid".into()))?;
            let ids: Vec<Id> = accounts.iter().map(|a| a.id).collect();
            let rels = self.store.relationships(me, &ids).await?;
            accounts.retain(|a| rels.iter().any(|r| r.id == a.id && r.following));
        }
        Ok(accounts)
    }
}
