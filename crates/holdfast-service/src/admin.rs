//! What operators do, through the service like everything else: the CLI's
//! `holdfast user` commands and the ops endpoints' view of the store.

use holdfast_store::{AccountAdminRow, AccountRow, PoolUsage, Readiness};

use crate::{Service, ServiceResult};

impl Service {
    /// Accounts with their e-mail and state, at most `limit` (default
    /// `cli_user_list_default`).
    pub async fn list_accounts(&self, limit: Option<u32>) -> ServiceResult<Vec<AccountAdminRow>> {
        let limit = limit.unwrap_or(self.limits().cli_user_list_default);
        Ok(self.store.list_accounts(limit).await?)
    }

    /// Suspends (or lifts the suspension of) an account: its sessions end and
    /// it disappears from view. Recorded in the audit log as the operator's.
    pub async fn set_suspended(
        &self,
        username: &str,
        suspended: bool,
    ) -> ServiceResult<AccountRow> {
        let change = holdfast_store::AccountChange::Suspended(suspended);
        Ok(self.change_account_by_name(username, change).await?.account)
    }

    /// Approves a pending sign-up: the account may log in.
    pub async fn approve(&self, username: &str) -> ServiceResult<AccountRow> {
        let change = holdfast_store::AccountChange::Approved;
        Ok(self.change_account_by_name(username, change).await?.account)
    }

    /// Whether the store answers, and whether it can take writes (`/readyz`).
    pub async fn readiness(&self) -> Readiness {
        self.store.readiness().await
    }

    /// The store's connections in use, for `/metrics`.
    pub fn pool_usage(&self) -> PoolUsage {
        self.store.pool_usage()
    }

    /// The store's cache of statuses' mentions, tags and media, for `/metrics`.
    pub fn status_parts_counts(&self) -> holdfast_store::CacheCounts {
        self.store.status_parts_counts()
    }
    pub fn home_relation_facts_counts(&self) -> holdfast_store::CacheCounts {
        self.store.home_relation_facts_counts()
    }
    pub fn home_viewer_flags_counts(&self) -> holdfast_store::CacheCounts {
        self.store.home_viewer_flags_counts()
    }
}
