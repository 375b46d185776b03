//! Direct conversations as a participant sees them: listed newest first,
//! marked read, removed from the list. The conversations are written with
//! the statuses (in the store's posting transaction); here they are only read.

use holdfast_store::{AccountRow, ConversationRow, Id, StatusBundle};

use crate::{PageOf, PageRequest, Service, ServiceResult};

/// Mastodon's Conversation: the other participants and the newest status.
#[derive(Clone, Debug)]
pub struct ConversationView {
    pub id: Id,
    pub unread: bool,
    pub accounts: Vec<AccountRow>,
    /// None if the viewer may no longer see it.
    pub last_status: Option<StatusBundle>,
}

impl Service {
    /// Builds the views of `rows` for `me`: one query for the accounts, one
    /// batch for the statuses.
    async fn conversation_views(
        &self,
        me: Id,
        rows: Vec<ConversationRow>,
    ) -> ServiceResult<Vec<ConversationView>> {
        let mut account_ids: Vec<Id> = rows
            .iter()
            .flat_map(|r| r.participants.iter().copied())
            .collect();
        account_ids.sort_unstable();
        account_ids.dedup();
        let accounts = self.store.accounts(&account_ids).await?;
        let status_ids: Vec<Id> = rows.iter().map(|r| r.last_status_id).collect();
        let bundles = self.bundles(Some(me), &status_ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| ConversationView {
                id: r.id,
                unread: r.unread,
                accounts: r
                    .participants
                    .iter()
                    .filter_map(|p| accounts.iter().find(|a| a.id == *p).cloned())
                    .collect(),
                last_status: bundles
                    .iter()
                    .find(|b| b.status.id == r.last_status_id)
                    .cloned(),
            })
            .collect())
    }

    pub async fn conversations(
        &self,
        me: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<ConversationView>> {
        let page = req.page(
            self.limits().conversations_page_default,
            self.limits().conversations_page_max,
        );
        let paged = self.store.conversations(me, page).await?;
        let rows = paged.iter().map(|p| p.item.clone()).collect();
        let items = self.conversation_views(me, rows).await?;
        Ok(PageOf::map_from(&paged, items))
    }

    /// Marks `me`'s conversation read (404 if it is not `me`'s).
    pub async fn read_conversation(&self, me: Id, id: Id) -> ServiceResult<ConversationView> {
        let row = self.store.mark_conversation_read(me, id).await?;
        let mut views = self.conversation_views(me, vec![row]).await?;
        views.pop().ok_or_else(crate::ServiceError::not_found)
    }

    /// Removes the conversation from `me`'s list (404 if it is not `me`'s).
    pub async fn remove_conversation(&self, me: Id, id: Id) -> ServiceResult<()> {
        Ok(self.store.remove_conversation(me, id).await?)
    }

    /// The conversation direct status `status_id` belongs to, as `me` sees it
    /// (for the `conversation` streaming event); None when `me` has none.
    pub async fn conversation_of_status(
        &self,
        me: Id,
        status_id: Id,
    ) -> ServiceResult<Option<ConversationView>> {
        let Some(row) = self.store.conversation_of_status(me, status_id).await? else {
            return Ok(None);
        };
        Ok(self.conversation_views(me, vec![row]).await?.pop())
    }
}
