//! The one implementation of `Store`: each method runs its topic function
//! on the backend's runner, as a read or as one write transaction.

use async_trait::async_trait;

use super::accounts::{self, Flag};
use super::collections;
use super::fanout;
use super::home_feed::{self, FeedLimits};
use super::instance_blocks;
use super::moderation;
use super::push;
use super::rules;
use super::{
    conversations, discovery, graph, lists, media, notifications, oauth, personal, safety,
    statuses, streams, tags, timelines, trends, web, Core, Db,
};
use super::{edits, polls, scheduled};
use super::{filters, notification_policies};
use crate::model::*;
use crate::{PoolUsage, Readiness, Store, StoreResult};

#[async_trait]
impl<B: Db> Store for Core<B> {
    async fn ping(&self) -> StoreResult<()> {
        self.db.read((), |c, _| Box::pin(ping(c))).await
    }
    async fn readiness(&self) -> Readiness {
        self.db.readiness().await
    }
    fn pool_usage(&self) -> PoolUsage {
        self.db.pool_usage()
    }

    // ---- social graph ----
    async fn unfollow(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(graph::unfollow(c, account_id, target_id))
            })
            .await
    }
    async fn block(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(graph::block(c, account_id, target_id))
            })
            .await
    }
    async fn unblock(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(graph::unblock(c, account_id, target_id))
            })
            .await
    }
    async fn mute(
        &self,
        account_id: Id,
        target_id: Id,
        notifications: bool,
        expires_at_ms: Option<i64>,
    ) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(graph::mute(
                    c,
                    account_id,
                    target_id,
                    notifications,
                    expires_at_ms,
                ))
            })
            .await
    }
    async fn unmute(&self, account_id: Id, target_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(graph::unmute(c, account_id, target_id))
            })
            .await
    }
    async fn relationships(
        &self,
        account_id: Id,
        targets: &[Id],
    ) -> StoreResult<Vec<Relationship>> {
        self.db
            .read(targets.to_vec(), move |c, targets| {
                Box::pin(graph::relationships(c, account_id, targets))
            })
            .await
    }
    async fn followers(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(graph::followers(c, account_id, page))
            })
            .await
    }
    async fn following(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(graph::following(c, account_id, page))
            })
            .await
    }

    // ---- lists ----
    async fn create_list(
        &self,
        owner: Id,
        new: NewList,
        per_account_max: u32,
    ) -> StoreResult<ListRow> {
        self.db
            .write(new, move |c, new| {
                Box::pin(lists::create(c, owner, new, per_account_max))
            })
            .await
    }
    async fn lists(&self, owner: Id) -> StoreResult<Vec<ListRow>> {
        self.db
            .read((), move |c, _| Box::pin(lists::all(c, owner)))
            .await
    }
    async fn list(&self, owner: Id, id: Id) -> StoreResult<ListRow> {
        self.db
            .read((), move |c, _| Box::pin(lists::get(c, owner, id)))
            .await
    }
    async fn update_list(&self, owner: Id, id: Id, update: ListUpdate) -> StoreResult<ListRow> {
        self.db
            .write(update, move |c, u| Box::pin(lists::update(c, owner, id, u)))
            .await
    }
    async fn delete_list(&self, owner: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(lists::delete(c, owner, id)))
            .await
    }
    async fn list_members(&self, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| Box::pin(lists::members(c, owner, id, page)))
            .await
    }
    async fn add_list_members(
        &self,
        owner: Id,
        id: Id,
        accounts: &[Id],
        members_max: u32,
    ) -> StoreResult<()> {
        self.db
            .write(accounts.to_vec(), move |c, accounts| {
                Box::pin(lists::add_members(c, owner, id, accounts, members_max))
            })
            .await
    }
    async fn remove_list_members(&self, owner: Id, id: Id, accounts: &[Id]) -> StoreResult<()> {
        self.db
            .write(accounts.to_vec(), move |c, accounts| {
                Box::pin(lists::remove_members(c, owner, id, accounts))
            })
            .await
    }
    async fn lists_containing(&self, owner: Id, member: Id) -> StoreResult<Vec<ListRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(lists::containing(c, owner, member))
            })
            .await
    }
    async fn list_timeline(&self, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(lists::timeline(c, owner, id, page))
            })
            .await
    }

    // ---- discovery ----
    async fn directory(
        &self,
        order: DirectoryOrder,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(discovery::directory(c, order, limit, offset))
            })
            .await
    }
    async fn suggestions(&self, account_id: Id, limit: u32) -> StoreResult<Vec<Suggestion>> {
        self.db
            .read((), move |c, _| {
                Box::pin(discovery::suggestions(c, account_id, limit))
            })
            .await
    }
    async fn familiar_followers(
        &self,
        account_id: Id,
        targets: &[Id],
        each_max: u32,
    ) -> StoreResult<Vec<(Id, Vec<Id>)>> {
        self.db
            .read(targets.to_vec(), move |c, targets| {
                Box::pin(discovery::familiar_followers(
                    c, account_id, targets, each_max,
                ))
            })
            .await
    }

    // ---- personal marks ----
    async fn set_account_note(&self, account_id: Id, target: Id, comment: &str) -> StoreResult<()> {
        self.db
            .write(comment.to_owned(), move |c, comment| {
                Box::pin(personal::set_note(c, account_id, target, comment))
            })
            .await
    }
    async fn endorse(&self, account_id: Id, target: Id, max: u32) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(personal::endorse(c, account_id, target, max))
            })
            .await
    }
    async fn unendorse(&self, account_id: Id, target: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(personal::unendorse(c, account_id, target))
            })
            .await
    }
    async fn endorsements(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(personal::endorsements(c, account_id, page))
            })
            .await
    }
    async fn block_domain(&self, account_id: Id, domain: &str, max: u32) -> StoreResult<()> {
        self.db
            .write(domain.to_owned(), move |c, domain| {
                Box::pin(personal::block_domain(c, account_id, domain, max))
            })
            .await
    }
    async fn unblock_domain(&self, account_id: Id, domain: &str) -> StoreResult<()> {
        self.db
            .write(domain.to_owned(), move |c, domain| {
                Box::pin(personal::unblock_domain(c, account_id, domain))
            })
            .await
    }
    async fn domain_blocks(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<String>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(personal::domain_blocks(c, account_id, page))
            })
            .await
    }

    // ---- safety ----
    async fn blocks(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(safety::blocks(c, account_id, page))
            })
            .await
    }
    async fn mutes(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Muted>>> {
        self.db
            .read((), move |c, _| Box::pin(safety::mutes(c, account_id, page)))
            .await
    }
    async fn follow_requests(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(safety::follow_requests(c, account_id, page))
            })
            .await
    }
    async fn authorize_follow_request(&self, account_id: Id, from: Id) -> StoreResult<()> {
        let feed = FeedLimits::new(&self.limits);
        self.db
            .write((), move |c, _| {
                Box::pin(async move {
                    safety::authorize_follow_request(c, account_id, from).await?;
                    home_feed::backfill(c, from, account_id, feed).await
                })
            })
            .await
    }
    async fn reject_follow_request(&self, account_id: Id, from: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(safety::reject_follow_request(c, account_id, from))
            })
            .await
    }
    async fn remove_from_followers(&self, account_id: Id, follower: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(safety::remove_from_followers(c, account_id, follower))
            })
            .await
    }

    async fn stats(&self) -> StoreResult<(i64, i64)> {
        self.db.read((), |c, _| Box::pin(accounts::stats(c))).await
    }

    // ---- discovery ----
    async fn usage(&self, month_start_ms: i64, halfyear_start_ms: i64) -> StoreResult<Usage> {
        self.db
            .read((), move |c, _| {
                Box::pin(trends::usage(c, month_start_ms, halfyear_start_ms))
            })
            .await
    }
    async fn trending_tags(
        &self,
        since_id: Id,
        scan_max: u32,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<TagRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(trends::trending_tags(c, since_id, scan_max, limit, offset))
            })
            .await
    }
    async fn trending_statuses(
        &self,
        since_id: Id,
        scan_max: u32,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>> {
        self.db
            .read((), move |c, _| {
                Box::pin(trends::trending_statuses(
                    c, since_id, scan_max, limit, offset,
                ))
            })
            .await
    }

    // ---- accounts ----
    async fn create_account(&self, new: NewAccount) -> StoreResult<AccountRow> {
        self.db
            .write(new, |c, new| Box::pin(accounts::create(c, new)))
            .await
    }
    async fn account(&self, id: Id) -> StoreResult<AccountRow> {
        self.db
            .read((), move |c, _| Box::pin(accounts::by_id(c, id)))
            .await
    }
    async fn account_by_username(&self, username: &str) -> StoreResult<AccountRow> {
        self.db
            .read(username.to_lowercase(), |c, u| {
                Box::pin(accounts::by_username(c, u))
            })
            .await
    }
    async fn accounts(&self, ids: &[Id]) -> StoreResult<Vec<AccountRow>> {
        self.db
            .read(ids.to_vec(), |c, ids| Box::pin(accounts::by_ids(c, ids)))
            .await
    }
    async fn update_account(&self, id: Id, update: AccountUpdate) -> StoreResult<AccountRow> {
        self.db
            .write(update, move |c, u| Box::pin(accounts::update(c, id, u)))
            .await
    }
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials> {
        self.db
            .read(email.to_lowercase(), |c, e| {
                Box::pin(accounts::credentials_by_email(c, e))
            })
            .await
    }
    async fn email_of(&self, id: Id) -> StoreResult<String> {
        self.db
            .read((), move |c, _| Box::pin(accounts::email_of(c, id)))
            .await
    }
    async fn set_suspended(&self, username: &str, suspended: bool) -> StoreResult<AccountRow> {
        self.db
            .write(username.to_lowercase(), move |c, u| {
                Box::pin(accounts::set_flag(c, u, Flag::Suspended, suspended))
            })
            .await
    }
    async fn set_approved(&self, username: &str) -> StoreResult<AccountRow> {
        self.db
            .write(username.to_lowercase(), |c, u| {
                Box::pin(accounts::set_flag(c, u, Flag::Approved, true))
            })
            .await
    }
    async fn list_accounts(&self, limit: u32) -> StoreResult<Vec<AccountAdminRow>> {
        self.db
            .read((), move |c, _| Box::pin(accounts::list(c, limit)))
            .await
    }
    async fn search_accounts(
        &self,
        prefix: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>> {
        self.db
            .read(prefix.to_lowercase(), move |c, p| {
                Box::pin(accounts::search(c, p, limit, offset))
            })
            .await
    }

    // ---- statuses ----
    async fn create_status(&self, new: NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id> {
        let subscribers_max = self.limits.status_subscribers_notified_max;
        let feed = FeedLimits::new(&self.limits);
        self.db
            .write(new, move |c, new| {
                Box::pin(async move {
                    let id = statuses::create(c, new, idempotency_ttl_s).await?;
                    home_feed::fan_out(c, new.account_id, id, feed).await?;
                    graph::notify_subscribers(c, id, new, subscribers_max).await?;
                    Ok(id)
                })
            })
            .await
    }
    async fn delete_status(&self, account_id: Id, status_id: Id) -> StoreResult<StatusRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::delete(c, account_id, status_id))
            })
            .await
    }
    async fn status(&self, id: Id) -> StoreResult<StatusRow> {
        self.db
            .read((), move |c, _| Box::pin(statuses::row(c, id)))
            .await
    }
    async fn status_visible(&self, viewer: Option<Id>, id: Id) -> StoreResult<bool> {
        self.db
            .read((), move |c, _| Box::pin(statuses::visible(c, viewer, id)))
            .await
    }
    async fn status_bundles(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> StoreResult<Vec<StatusBundle>> {
        self.db
            .read(
                (ids.to_vec(), self.parts.clone()),
                move |c, (ids, parts)| Box::pin(statuses::bundles(c, viewer, ids, parts)),
            )
            .await
    }
    async fn context(
        &self,
        viewer: Option<Id>,
        id: Id,
        max_each: u32,
    ) -> StoreResult<(Vec<Id>, Vec<Id>)> {
        let depth_max = self.limits.thread_depth_max;
        self.db
            .read((), move |c, _| {
                Box::pin(statuses::context(c, viewer, id, max_each, depth_max))
            })
            .await
    }
    async fn favourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::favourite(c, account_id, status_id))
            })
            .await
    }
    async fn unfavourite(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::unfavourite(c, account_id, status_id))
            })
            .await
    }
    async fn reblog(
        &self,
        account_id: Id,
        status_id: Id,
        visibility: Visibility,
    ) -> StoreResult<Id> {
        let feed = FeedLimits::new(&self.limits);
        self.db
            .write((), move |c, _| {
                Box::pin(async move {
                    let id = statuses::reblog(c, account_id, status_id, visibility).await?;
                    home_feed::fan_out(c, account_id, id, feed).await?;
                    Ok(id)
                })
            })
            .await
    }
    async fn unreblog(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::unreblog(c, account_id, status_id))
            })
            .await
    }
    async fn bookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::bookmark(c, account_id, status_id))
            })
            .await
    }
    async fn unbookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(statuses::unbookmark(c, account_id, status_id))
            })
            .await
    }
    async fn favourited_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(statuses::favourited_by(c, status_id, page))
            })
            .await
    }
    async fn reblogged_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(statuses::reblogged_by(c, status_id, page))
            })
            .await
    }

    // ---- timelines ----
    /// From the materialized feed; a viewer without one gets it built first
    /// (once). If it cannot be written (no primary), the page is computed on
    /// read, which finds the same statuses, only slower.
    async fn home_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        let feed = FeedLimits::new(&self.limits);
        let rounds_max = self.limits.home_page_rounds_max;
        let read = move || {
            self.db.read(self.relations.clone(), move |c, relations| {
                Box::pin(async move {
                    let read = home_feed::page(
                        c,
                        relations,
                        viewer,
                        page,
                        rounds_max,
                        feed.pending_merge_max,
                    )
                    .await?;
                    Ok(read.map(|r| r.ids))
                })
            })
        };
        if let Some(found) = read().await? {
            return Ok(found);
        }
        // With no primary (a failover under way), building the feed would
        // wait out the write retry window (seconds) inside a read, and make
        // the outage look older than it is to the writes that follow: the
        // page is computed on read instead, which finds the same statuses.
        let primary_down = self.db.pool_usage().primary_down;
        let built = if primary_down {
            Err(crate::StoreError::Unavailable("no primary".into()))
        } else {
            self.build_home_feed(viewer, feed).await
        };
        match built {
            Ok(()) => {
                if let Some(found) = read().await? {
                    return Ok(found);
                }
            }
            Err(e) => tracing::warn!(error = %e, "home feed not built; computing the page on read"),
        }
        self.db
            .read((), move |c, _| {
                Box::pin(timelines::home(c, viewer, page, feed.scan_from_followees))
            })
            .await
    }
    async fn public_timeline(
        &self,
        viewer: Option<Id>,
        only_media: bool,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(timelines::public(c, viewer, only_media, page))
            })
            .await
    }
    async fn tag_timeline(
        &self,
        viewer: Option<Id>,
        tag: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read(tag.to_lowercase(), move |c, tag| {
                Box::pin(timelines::tag(c, viewer, tag, page))
            })
            .await
    }
    async fn account_statuses(
        &self,
        viewer: Option<Id>,
        account_id: Id,
        filter: AccountStatusesFilter,
        tagged: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read(tagged.map(str::to_lowercase), move |c, tagged| {
                Box::pin(timelines::account(
                    c,
                    viewer,
                    account_id,
                    filter,
                    tagged.as_deref(),
                    page,
                ))
            })
            .await
    }
    async fn favourites(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(timelines::favourites(c, viewer, page))
            })
            .await
    }
    async fn bookmarks(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(timelines::bookmarks(c, viewer, page))
            })
            .await
    }
    async fn search_statuses(
        &self,
        viewer: Option<Id>,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>> {
        self.db.index_queued_search().await?;
        self.db
            .read(query.to_owned(), move |c, q| {
                Box::pin(timelines::search(c, viewer, q, limit, offset))
            })
            .await
    }
    async fn search_tags(&self, prefix: &str, limit: u32, offset: u32) -> StoreResult<Vec<TagRow>> {
        let window_s = self.limits.tag_usage_window_s;
        self.db
            .read(prefix.to_lowercase(), move |c, p| {
                Box::pin(timelines::search_tags(c, p, limit, offset, window_s))
            })
            .await
    }
    async fn tag(&self, name: &str) -> StoreResult<TagRow> {
        let window_s = self.limits.tag_usage_window_s;
        self.db
            .read(name.to_lowercase(), move |c, n| {
                Box::pin(timelines::tag_row_by_name(c, n, window_s))
            })
            .await
    }

    // ---- OAuth ----
    async fn create_app(&self, new: NewApp) -> StoreResult<AppRow> {
        self.db
            .write(new, |c, new| Box::pin(oauth::create_app(c, new)))
            .await
    }
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<AppRow> {
        self.db
            .read(client_id.to_owned(), |c, id| {
                Box::pin(oauth::app_by_client_id(c, id))
            })
            .await
    }
    async fn create_token(
        &self,
        token_hash: &str,
        app_id: Id,
        account_id: Option<Id>,
        scopes: &str,
    ) -> StoreResult<Id> {
        self.db
            .write(
                (token_hash.to_owned(), scopes.to_owned()),
                move |c, (hash, scopes)| {
                    Box::pin(oauth::create_token(c, hash, app_id, account_id, scopes))
                },
            )
            .await
    }
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<TokenRow> {
        self.db
            .read(token_hash.to_owned(), |c, hash| {
                Box::pin(oauth::token_by_hash(c, hash))
            })
            .await
    }
    async fn revoke_token(&self, token_hash: &str, app_id: Id) -> StoreResult<()> {
        self.db
            .write(token_hash.to_owned(), move |c, hash| {
                Box::pin(oauth::revoke_token(c, hash, app_id))
            })
            .await
    }
    async fn create_auth_code(
        &self,
        code_hash: &str,
        code: AuthCode,
        ttl_s: u64,
    ) -> StoreResult<()> {
        self.db
            .write((code_hash.to_owned(), code), move |c, (hash, code)| {
                Box::pin(oauth::create_auth_code(c, hash, code, ttl_s))
            })
            .await
    }
    async fn take_auth_code(&self, code_hash: &str) -> StoreResult<AuthCode> {
        self.db
            .write(code_hash.to_owned(), |c, hash| {
                Box::pin(oauth::take_auth_code(c, hash))
            })
            .await
    }
    async fn bind_auth_code_token(&self, code_hash: &str, token_hash: &str) -> StoreResult<()> {
        self.db
            .write(
                (code_hash.to_owned(), token_hash.to_owned()),
                |c, (code, token)| Box::pin(oauth::bind_auth_code_token(c, code, token)),
            )
            .await
    }
    async fn revoke_replayed_code(&self, code_hash: &str) -> StoreResult<bool> {
        self.db
            .write(code_hash.to_owned(), |c, hash| {
                Box::pin(oauth::revoke_replayed_code(c, hash))
            })
            .await
    }
    async fn create_session(
        &self,
        session_hash: &str,
        account_id: Id,
        ttl_s: u64,
        per_account_max: usize,
    ) -> StoreResult<()> {
        self.db
            .write(session_hash.to_owned(), move |c, hash| {
                Box::pin(oauth::create_session(
                    c,
                    hash,
                    account_id,
                    ttl_s,
                    per_account_max,
                ))
            })
            .await
    }
    async fn session(&self, session_hash: &str) -> StoreResult<SessionRow> {
        self.db
            .read(session_hash.to_owned(), |c, hash| {
                Box::pin(oauth::session(c, hash))
            })
            .await
    }
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        self.db
            .write(session_hash.to_owned(), |c, hash| {
                Box::pin(oauth::delete_session(c, hash))
            })
            .await
    }

    // ---- notifications ----
    async fn notifications_from(
        &self,
        account_id: Id,
        types: &[NotificationType],
        from: Option<Id>,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        self.db
            .read(types.to_vec(), move |c, types| {
                Box::pin(notifications::list(c, account_id, types, from, page))
            })
            .await
    }
    async fn notification(&self, account_id: Id, id: Id) -> StoreResult<NotificationRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(notifications::get(c, account_id, id))
            })
            .await
    }
    async fn dismiss_notification(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(notifications::dismiss(c, account_id, id))
            })
            .await
    }
    async fn clear_notifications(&self, account_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(notifications::clear(c, account_id))
            })
            .await
    }
    async fn notification_group_page(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        page: Page,
        scan_max: u32,
    ) -> StoreResult<NotificationGroupPage> {
        self.db
            .read(
                (types.to_vec(), grouped.to_vec()),
                move |c, (types, grouped)| {
                    Box::pin(notifications::group_page(
                        c, account_id, types, grouped, from, page, scan_max,
                    ))
                },
            )
            .await
    }
    async fn notification_groups(
        &self,
        account_id: Id,
        keys: &[String],
        from: Option<Id>,
        until: Option<Id>,
        samples: u32,
    ) -> StoreResult<Vec<NotificationGroupRow>> {
        self.db
            .read(keys.to_vec(), move |c, keys| {
                Box::pin(notifications::group_rows(
                    c, account_id, keys, from, until, samples,
                ))
            })
            .await
    }
    async fn group_notifications(
        &self,
        account_id: Id,
        group_key: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        self.db
            .read(group_key.to_owned(), move |c, key| {
                Box::pin(notifications::by_group(c, account_id, key, page))
            })
            .await
    }
    async fn dismiss_notification_group(&self, account_id: Id, group_key: &str) -> StoreResult<()> {
        self.db
            .write(group_key.to_owned(), move |c, key| {
                Box::pin(notifications::dismiss_group(c, account_id, key))
            })
            .await
    }
    async fn unread_notifications(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        after_id: Option<Id>,
        limit: u32,
        scan_max: u32,
    ) -> StoreResult<u32> {
        self.db
            .read(
                (types.to_vec(), grouped.to_vec()),
                move |c, (types, grouped)| {
                    Box::pin(notifications::unread(
                        c, account_id, types, grouped, from, after_id, limit, scan_max,
                    ))
                },
            )
            .await
    }

    // ---- media ----
    async fn create_media(&self, new: NewMedia) -> StoreResult<MediaRow> {
        self.db
            .write(new, |c, new| Box::pin(media::create(c, new)))
            .await
    }
    async fn media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.db
            .read((), move |c, _| Box::pin(media::owned(c, account_id, id)))
            .await
    }
    async fn update_media(
        &self,
        account_id: Id,
        id: Id,
        update: MediaUpdate,
    ) -> StoreResult<MediaRow> {
        self.db
            .write(update, move |c, u| {
                Box::pin(media::update(c, account_id, id, u))
            })
            .await
    }
    async fn delete_media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow> {
        self.db
            .write((), move |c, _| Box::pin(media::delete(c, account_id, id)))
            .await
    }
    async fn take_expired_media(&self, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>> {
        self.db
            .write((), move |c, _| {
                Box::pin(media::take_expired(c, before_ms, limit))
            })
            .await
    }
    async fn set_profile_image(
        &self,
        account_id: Id,
        which: ProfileImage,
        key: Option<String>,
    ) -> StoreResult<(AccountRow, Option<String>)> {
        self.db
            .write(key, move |c, key| {
                Box::pin(media::set_profile_image(c, account_id, which, key.clone()))
            })
            .await
    }

    // ---- web push ----
    async fn subscribe_push(&self, new: NewPushSubscription) -> StoreResult<PushSubscriptionRow> {
        self.db
            .write(new, |c, new| Box::pin(push::subscribe(c, new)))
            .await
    }
    async fn push_subscription(&self, token_id: Id) -> StoreResult<PushSubscriptionRow> {
        self.db
            .read((), move |c, _| Box::pin(push::by_token(c, token_id)))
            .await
    }
    async fn update_push_alerts(
        &self,
        token_id: Id,
        alerts: PushAlerts,
    ) -> StoreResult<PushSubscriptionRow> {
        self.db
            .write(alerts, move |c, alerts| {
                Box::pin(push::update_alerts(c, token_id, alerts))
            })
            .await
    }
    async fn unsubscribe_push(&self, token_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(push::unsubscribe(c, token_id)))
            .await
    }
    async fn vapid_keys(&self, candidate: VapidKeys) -> StoreResult<VapidKeys> {
        self.db
            .write(candidate, |c, k| Box::pin(push::vapid_keys(c, k)))
            .await
    }
    async fn claim_push_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<PushDelivery>> {
        self.db
            .write((), move |c, _| {
                Box::pin(push::claim(c, now_ms, lease_ms, limit))
            })
            .await
    }
    async fn finish_push_delivery(
        &self,
        delivery: PushDelivery,
        end: PushDeliveryEnd,
    ) -> StoreResult<()> {
        self.db
            .write(delivery, move |c, d| Box::pin(push::finish(c, d, end)))
            .await
    }

    // ---- markers ----
    async fn markers(&self, account_id: Id) -> StoreResult<Vec<Marker>> {
        self.db
            .read((), move |c, _| {
                Box::pin(notifications::markers(c, account_id))
            })
            .await
    }
    async fn set_marker(
        &self,
        account_id: Id,
        timeline: &str,
        last_read_id: Id,
    ) -> StoreResult<Marker> {
        self.db
            .write(timeline.to_owned(), move |c, timeline| {
                Box::pin(notifications::set_marker(
                    c,
                    account_id,
                    timeline,
                    last_read_id,
                ))
            })
            .await
    }

    // ---- social: followed and featured tags, conversations, suggestions (issue 14) ----
    async fn follow_tag(&self, account_id: Id, name: &str, max: u32) -> StoreResult<()> {
        self.db
            .write(name.to_lowercase(), move |c, n| {
                Box::pin(tags::follow(c, account_id, n, max))
            })
            .await
    }
    async fn unfollow_tag(&self, account_id: Id, name: &str) -> StoreResult<()> {
        self.db
            .write(name.to_lowercase(), move |c, n| {
                Box::pin(tags::unfollow(c, account_id, n))
            })
            .await
    }
    async fn followed_tags(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<TagRef>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(tags::followed(c, account_id, page))
            })
            .await
    }
    async fn followed_among(&self, account_id: Id, tag_ids: &[Id]) -> StoreResult<Vec<Id>> {
        self.db
            .read(tag_ids.to_vec(), move |c, t| {
                Box::pin(tags::followed_among(c, account_id, t))
            })
            .await
    }
    async fn tag_history(&self, tag_ids: &[Id], since_ms: i64) -> StoreResult<Vec<TagDay>> {
        self.db
            .read(tag_ids.to_vec(), move |c, t| {
                Box::pin(tags::history(c, t, since_ms))
            })
            .await
    }
    async fn feature_tag(
        &self,
        account_id: Id,
        name: &str,
        max: u32,
    ) -> StoreResult<FeaturedTagRow> {
        self.db
            .write(name.to_lowercase(), move |c, n| {
                Box::pin(tags::feature(c, account_id, n, max))
            })
            .await
    }
    async fn unfeature_tag(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(tags::unfeature(c, account_id, id)))
            .await
    }
    async fn featured_tags(&self, account_id: Id) -> StoreResult<Vec<FeaturedTagRow>> {
        self.db
            .read((), move |c, _| Box::pin(tags::featured(c, account_id)))
            .await
    }
    async fn featured_tag_suggestions(
        &self,
        account_id: Id,
        scan_max: u32,
        limit: u32,
    ) -> StoreResult<Vec<TagRef>> {
        self.db
            .read((), move |c, _| {
                Box::pin(tags::suggestions(c, account_id, scan_max, limit))
            })
            .await
    }
    async fn follow_with(
        &self,
        account_id: Id,
        target_id: Id,
        options: FollowOptions,
    ) -> StoreResult<FollowOutcome> {
        let feed = FeedLimits::new(&self.limits);
        self.db
            .write(options, move |c, o| {
                Box::pin(async move {
                    let outcome = graph::follow(c, account_id, target_id, o).await?;
                    if outcome == FollowOutcome::Following {
                        home_feed::backfill(c, account_id, target_id, feed).await?;
                    }
                    Ok(outcome)
                })
            })
            .await
    }
    async fn conversations(
        &self,
        account_id: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<ConversationRow>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(conversations::list(c, account_id, page))
            })
            .await
    }
    async fn conversation(&self, account_id: Id, id: Id) -> StoreResult<ConversationRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(conversations::get(c, account_id, id))
            })
            .await
    }
    async fn mark_conversation_read(&self, account_id: Id, id: Id) -> StoreResult<ConversationRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(conversations::mark_read(c, account_id, id))
            })
            .await
    }
    async fn remove_conversation(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(conversations::remove(c, account_id, id))
            })
            .await
    }
    async fn conversation_of_status(
        &self,
        account_id: Id,
        status_id: Id,
    ) -> StoreResult<Option<ConversationRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(conversations::of_status(c, account_id, status_id))
            })
            .await
    }
    async fn dismiss_suggestion(&self, account_id: Id, target: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(discovery::dismiss(c, account_id, target))
            })
            .await
    }
    // ---- admin (moderation, issue 14) ----
    async fn admin_account(&self, id: Id) -> StoreResult<AdminAccountRow> {
        self.db
            .read((), move |c, _| Box::pin(moderation::admin_account(c, id)))
            .await
    }
    async fn admin_accounts(
        &self,
        filter: AdminAccountFilter,
        page: Page,
    ) -> StoreResult<Vec<Paged<AdminAccountRow>>> {
        self.db
            .read(filter, move |c, f| {
                Box::pin(moderation::admin_accounts(c, f, page))
            })
            .await
    }
    async fn change_account(
        &self,
        id: Id,
        change: AccountChange,
        audit: NewAudit,
    ) -> StoreResult<AdminAccountRow> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(moderation::change_account(c, id, change, audit))
            })
            .await
    }
    async fn remove_account(&self, id: Id, pending_only: bool, audit: NewAudit) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(moderation::delete_account(c, id, pending_only, audit))
            })
            .await
    }
    async fn set_sign_up_ip(&self, id: Id, ip: &str) -> StoreResult<()> {
        self.db
            .write(ip.to_owned(), move |c, ip| {
                Box::pin(moderation::set_sign_up_ip(c, id, ip))
            })
            .await
    }
    async fn audit_log(&self, page: Page) -> StoreResult<Vec<Paged<AuditRow>>> {
        self.db
            .read((), move |c, _| Box::pin(moderation::audit_log(c, page)))
            .await
    }
    async fn record_audit(&self, audit: NewAudit) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(moderation::record(c, audit))
            })
            .await
    }
    async fn create_report(&self, new: NewReport, open_max: u32) -> StoreResult<ReportRow> {
        let staff_max = self.limits.report_staff_notified_max;
        self.db
            .write(new, move |c, new| {
                Box::pin(moderation::create_report(c, new, open_max, staff_max))
            })
            .await
    }
    async fn report(&self, id: Id) -> StoreResult<ReportRow> {
        self.db
            .read((), move |c, _| Box::pin(moderation::report(c, id)))
            .await
    }
    async fn reports(
        &self,
        filter: ReportFilter,
        page: Page,
    ) -> StoreResult<Vec<Paged<ReportRow>>> {
        self.db
            .read(filter, move |c, f| {
                Box::pin(moderation::reports(c, f, page))
            })
            .await
    }
    async fn change_report(
        &self,
        id: Id,
        change: ReportChange,
        audit: NewAudit,
    ) -> StoreResult<ReportRow> {
        self.db
            .write((change, audit), move |c, (change, audit)| {
                Box::pin(moderation::change_report(c, id, change, audit))
            })
            .await
    }
    async fn create_instance_block(
        &self,
        block: BlockInput,
        max: u32,
        audit: NewAudit,
    ) -> StoreResult<BlockRow> {
        self.db
            .write((block, audit), move |c, (block, audit)| {
                Box::pin(instance_blocks::create(c, block, max, audit))
            })
            .await
    }
    async fn instance_block(&self, kind: BlockKind, id: Id) -> StoreResult<BlockRow> {
        self.db
            .read((), move |c, _| Box::pin(instance_blocks::get(c, kind, id)))
            .await
    }
    async fn instance_blocks(
        &self,
        kind: BlockKind,
        page: Page,
    ) -> StoreResult<Vec<Paged<BlockRow>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(instance_blocks::page(c, kind, page))
            })
            .await
    }
    async fn live_instance_blocks(
        &self,
        kind: BlockKind,
        limit: u32,
    ) -> StoreResult<Vec<BlockRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(instance_blocks::live(c, kind, limit))
            })
            .await
    }
    async fn update_instance_block(
        &self,
        id: Id,
        block: BlockInput,
        audit: NewAudit,
    ) -> StoreResult<BlockRow> {
        self.db
            .write((block, audit), move |c, (block, audit)| {
                Box::pin(instance_blocks::update(c, id, block, audit))
            })
            .await
    }
    async fn delete_instance_block(
        &self,
        kind: BlockKind,
        id: Id,
        audit: NewAudit,
    ) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(instance_blocks::delete(c, kind, id, audit))
            })
            .await
    }
    async fn domain_blocked(&self, domain: &str) -> StoreResult<bool> {
        self.db
            .read(domain.to_owned(), move |c, d| {
                Box::pin(instance_blocks::domain_blocked(c, d))
            })
            .await
    }
    async fn create_announcement(
        &self,
        announcement: AnnouncementInput,
        max: u32,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow> {
        self.db
            .write((announcement, audit), move |c, (a, audit)| {
                Box::pin(moderation::create_announcement(c, a, max, audit))
            })
            .await
    }
    async fn announcement(&self, id: Id, viewer: Option<Id>) -> StoreResult<AnnouncementRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(moderation::announcement(c, id, viewer))
            })
            .await
    }
    async fn announcements(
        &self,
        viewer: Option<Id>,
        active_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<AnnouncementRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(moderation::announcements(c, viewer, active_only, limit))
            })
            .await
    }
    async fn update_announcement(
        &self,
        id: Id,
        announcement: AnnouncementInput,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow> {
        self.db
            .write((announcement, audit), move |c, (a, audit)| {
                Box::pin(moderation::update_announcement(c, id, a, audit))
            })
            .await
    }
    async fn delete_announcement(&self, id: Id, audit: NewAudit) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(moderation::delete_announcement(c, id, audit))
            })
            .await
    }
    async fn dismiss_announcement(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(moderation::dismiss_announcement(c, account_id, id))
            })
            .await
    }
    async fn react_to_announcement(
        &self,
        account_id: Id,
        id: Id,
        name: &str,
        add: bool,
        max: u32,
    ) -> StoreResult<()> {
        self.db
            .write(name.to_owned(), move |c, name| {
                Box::pin(moderation::react_to_announcement(
                    c, account_id, id, name, add, max,
                ))
            })
            .await
    }
    // ---- web ----
    async fn sessions_of(&self, account_id: Id) -> StoreResult<Vec<WebSession>> {
        self.db
            .read((), move |c, _| Box::pin(web::sessions_of(c, account_id)))
            .await
    }
    async fn end_account_session(&self, account_id: Id, session_hash: &str) -> StoreResult<()> {
        self.db
            .write(session_hash.to_owned(), move |c, hash| {
                Box::pin(web::end_account_session(c, account_id, hash))
            })
            .await
    }
    async fn authorized_apps(&self, account_id: Id, limit: u32) -> StoreResult<Vec<AuthorizedApp>> {
        self.db
            .read((), move |c, _| {
                Box::pin(web::authorized_apps(c, account_id, limit))
            })
            .await
    }
    async fn revoke_app_authorization(&self, account_id: Id, app_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(web::revoke_app_authorization(c, account_id, app_id))
            })
            .await
    }
    async fn set_password_hash(
        &self,
        account_id: Id,
        password_hash: &str,
        keep_session_hash: &str,
    ) -> StoreResult<()> {
        self.db
            .write(
                (password_hash.to_owned(), keep_session_hash.to_owned()),
                move |c, (hash, keep)| Box::pin(web::set_password_hash(c, account_id, hash, keep)),
            )
            .await
    }
    async fn delete_account(&self, account_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(web::delete_account(c, account_id)))
            .await
    }

    // ---- filters ----
    async fn create_filter(
        &self,
        owner: Id,
        new: NewFilter,
        bounds: FilterBounds,
    ) -> StoreResult<FilterRow> {
        self.db
            .write(new, move |c, new| {
                Box::pin(filters::create(c, owner, new, bounds))
            })
            .await
    }
    async fn filters(&self, owner: Id) -> StoreResult<Vec<FilterRow>> {
        self.db
            .read((), move |c, _| Box::pin(filters::all(c, owner)))
            .await
    }
    async fn filter(&self, owner: Id, id: Id) -> StoreResult<FilterRow> {
        self.db
            .read((), move |c, _| Box::pin(filters::get(c, owner, id)))
            .await
    }
    async fn update_filter(
        &self,
        owner: Id,
        id: Id,
        update: FilterUpdate,
        bounds: FilterBounds,
    ) -> StoreResult<FilterRow> {
        self.db
            .write(update, move |c, u| {
                Box::pin(filters::update(c, owner, id, u, bounds))
            })
            .await
    }
    async fn delete_filter(&self, owner: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(filters::delete(c, owner, id)))
            .await
    }
    async fn filter_keyword(&self, owner: Id, id: Id) -> StoreResult<FilterKeywordRow> {
        self.db
            .read((), move |c, _| Box::pin(filters::keyword(c, owner, id)))
            .await
    }
    async fn add_filter_keyword(
        &self,
        owner: Id,
        filter: Id,
        keyword: NewKeyword,
        max: u32,
    ) -> StoreResult<FilterKeywordRow> {
        self.db
            .write(keyword, move |c, k| {
                Box::pin(filters::add_keyword(c, owner, filter, k, max))
            })
            .await
    }
    async fn update_filter_keyword(
        &self,
        owner: Id,
        id: Id,
        keyword: Option<String>,
        whole_word: Option<bool>,
    ) -> StoreResult<FilterKeywordRow> {
        self.db
            .write(keyword, move |c, k| {
                Box::pin(filters::update_keyword(
                    c,
                    owner,
                    id,
                    k.as_deref(),
                    whole_word,
                ))
            })
            .await
    }
    async fn delete_filter_keyword(&self, owner: Id, id: Id) -> StoreResult<FilterKeywordRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(filters::delete_keyword(c, owner, id))
            })
            .await
    }
    async fn filter_status(&self, owner: Id, id: Id) -> StoreResult<FilterStatusRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(filters::filter_status(c, owner, id))
            })
            .await
    }
    async fn add_filter_status(
        &self,
        owner: Id,
        filter: Id,
        status: Id,
        max: u32,
    ) -> StoreResult<FilterStatusRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(filters::add_status(c, owner, filter, status, max))
            })
            .await
    }
    async fn delete_filter_status(&self, owner: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(filters::delete_status(c, owner, id))
            })
            .await
    }

    // ---- notification policies and requests ----
    async fn notification_policy(
        &self,
        account: Id,
    ) -> StoreResult<(NotificationPolicyRow, PendingSummary)> {
        self.db
            .read((), move |c, _| {
                Box::pin(async move {
                    Ok((
                        notification_policies::policy(c, account).await?,
                        notification_policies::summary(c, account).await?,
                    ))
                })
            })
            .await
    }
    async fn set_notification_policy(
        &self,
        account: Id,
        policy: NotificationPolicyRow,
    ) -> StoreResult<()> {
        self.db
            .write(policy, move |c, p| {
                Box::pin(notification_policies::set_policy(c, account, p))
            })
            .await
    }
    async fn notification_requests(
        &self,
        account: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRequestRow>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(notification_policies::requests(c, account, page))
            })
            .await
    }
    async fn notification_request(
        &self,
        account: Id,
        id: Id,
    ) -> StoreResult<NotificationRequestRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(notification_policies::request(c, account, id))
            })
            .await
    }
    async fn accept_notification_requests(&self, account: Id, ids: &[Id]) -> StoreResult<usize> {
        self.db
            .write(ids.to_vec(), move |c, ids| {
                Box::pin(notification_policies::accept(c, account, ids))
            })
            .await
    }
    async fn dismiss_notification_requests(&self, account: Id, ids: &[Id]) -> StoreResult<usize> {
        self.db
            .write(ids.to_vec(), move |c, ids| {
                Box::pin(notification_policies::dismiss(c, account, ids))
            })
            .await
    }

    // ---- posts ----
    async fn edit_status(
        &self,
        account_id: Id,
        status_id: Id,
        edit: StatusEdit,
        versions_max: u32,
    ) -> StoreResult<Vec<Id>> {
        let edited = self
            .db
            .write(edit, move |c, edit| {
                Box::pin(edits::edit(c, account_id, status_id, edit, versions_max))
            })
            .await;
        // Its new `edited_at` makes the old parts unusable anyway; this
        // also covers two edits within one millisecond (status_parts.rs).
        self.parts.forget(&status_id);
        edited
    }
    async fn status_history(&self, status_id: Id) -> StoreResult<Vec<StatusVersion>> {
        self.db
            .read((), move |c, _| Box::pin(edits::history(c, status_id)))
            .await
    }
    async fn pin_status(&self, account_id: Id, status_id: Id, max: u32) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(edits::pin(c, account_id, status_id, max))
            })
            .await
    }
    async fn unpin_status(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(edits::unpin(c, account_id, status_id))
            })
            .await
    }
    async fn mute_conversation(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(edits::mute_conversation(c, account_id, status_id))
            })
            .await
    }
    async fn unmute_conversation(&self, account_id: Id, status_id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(edits::unmute_conversation(c, account_id, status_id))
            })
            .await
    }
    async fn poll_status(&self, poll_id: Id) -> StoreResult<Id> {
        self.db
            .read((), move |c, _| Box::pin(polls::status_of(c, poll_id)))
            .await
    }
    async fn vote(
        &self,
        account_id: Id,
        poll_id: Id,
        choices: &[u32],
        now_ms: i64,
    ) -> StoreResult<()> {
        self.db
            .write(choices.to_vec(), move |c, choices| {
                Box::pin(polls::vote(c, account_id, poll_id, choices, now_ms))
            })
            .await
    }
    async fn create_scheduled_status(
        &self,
        new: NewScheduledStatus,
        bounds: ScheduleBounds,
    ) -> StoreResult<Id> {
        self.db
            .write(new, move |c, new| {
                Box::pin(scheduled::create(c, new, bounds))
            })
            .await
    }
    async fn scheduled_statuses(
        &self,
        account_id: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<ScheduledStatusRow>>> {
        self.db
            .read((), move |c, _| {
                Box::pin(scheduled::list(c, account_id, page))
            })
            .await
    }
    async fn scheduled_status(&self, account_id: Id, id: Id) -> StoreResult<ScheduledStatusRow> {
        self.db
            .read((), move |c, _| Box::pin(scheduled::get(c, account_id, id)))
            .await
    }
    async fn reschedule_status(
        &self,
        account_id: Id,
        id: Id,
        at_ms: i64,
        bounds: ScheduleBounds,
    ) -> StoreResult<ScheduledStatusRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(scheduled::reschedule(c, account_id, id, at_ms, bounds))
            })
            .await
    }
    async fn cancel_scheduled_status(&self, account_id: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(scheduled::cancel(c, account_id, id))
            })
            .await
    }
    async fn run_due_job(
        &self,
        now_ms: i64,
        idempotency_ttl_s: u64,
    ) -> StoreResult<Option<JobDone>> {
        // A due job has nobody to tell "try again": it publishes whatever the backlog.
        let feed = FeedLimits {
            backlog_age_max_ms: i64::MAX,
            ..FeedLimits::new(&self.limits)
        };
        let poll_batch = self.limits.poll_end_notified_per_job_max;
        self.db
            .write((), move |c, _| {
                Box::pin(async move {
                    let done =
                        scheduled::run_due_job(c, now_ms, idempotency_ttl_s, poll_batch).await?;
                    // A published status reaches home feeds like any post (perf).
                    if let Some(JobDone::Published {
                        account_id,
                        status_id,
                    }) = &done
                    {
                        home_feed::fan_out(c, *account_id, *status_id, feed).await?;
                    }
                    Ok(done)
                })
            })
            .await
    }

    // ---- stream ----
    async fn hiders_of(&self, author: Id) -> StoreResult<Option<Vec<Id>>> {
        let max = self.limits.streaming_event_hiders_max;
        self.db
            .read((), move |c, _| Box::pin(streams::hiders(c, author, max)))
            .await
    }

    // ---- web ----
    async fn publish_announcement(
        &self,
        id: Id,
        published: bool,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(moderation::publish_announcement(c, id, published, audit))
            })
            .await
    }

    // ---- fanout ----
    async fn run_fanout_batch(&self) -> StoreResult<Vec<FanoutBatch>> {
        let feed = FeedLimits::new(&self.limits);
        self.db
            .write_background((), move |c, _| {
                Box::pin(fanout::run_batch(c, feed.fanout_batch_max, feed.max))
            })
            .await
    }

    // ---- api: direct timeline, collections (issue 14) ----
    async fn direct_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>> {
        self.db
            .read((), move |c, _| Box::pin(timelines::direct(c, viewer, page)))
            .await
    }
    async fn create_collection(
        &self,
        owner: Id,
        fields: CollectionFields,
        accounts: Vec<Id>,
        per_account_max: u32,
        items_max: u32,
    ) -> StoreResult<CollectionRow> {
        self.db
            .write((fields, accounts), move |c, d| {
                Box::pin(collections::create(
                    c,
                    owner,
                    &d.0,
                    &d.1,
                    per_account_max,
                    items_max,
                ))
            })
            .await
    }
    async fn collection(&self, id: Id) -> StoreResult<CollectionRow> {
        self.db
            .read((), move |c, _| Box::pin(collections::get(c, id)))
            .await
    }
    async fn update_collection(
        &self,
        owner: Id,
        id: Id,
        fields: CollectionFields,
    ) -> StoreResult<CollectionRow> {
        self.db
            .write(fields, move |c, f| {
                Box::pin(collections::update(c, owner, id, f))
            })
            .await
    }
    async fn delete_collection(&self, owner: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| Box::pin(collections::delete(c, owner, id)))
            .await
    }
    async fn account_collections(
        &self,
        account: Id,
        discoverable_only: bool,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CollectionRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(collections::of_account(
                    c,
                    account,
                    discoverable_only,
                    limit,
                    offset,
                ))
            })
            .await
    }
    async fn collections_featuring(
        &self,
        account: Id,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CollectionRow>> {
        self.db
            .read((), move |c, _| {
                Box::pin(collections::featuring(c, account, limit, offset))
            })
            .await
    }
    async fn collection_items(&self, ids: &[Id]) -> StoreResult<Vec<CollectionItemRow>> {
        self.db
            .read(ids.to_vec(), move |c, ids| {
                Box::pin(collections::items(c, ids))
            })
            .await
    }
    async fn add_collection_item(
        &self,
        owner: Id,
        collection: Id,
        account: Id,
        items_max: u32,
    ) -> StoreResult<CollectionItemRow> {
        self.db
            .write((), move |c, _| {
                Box::pin(collections::add_item(
                    c, owner, collection, account, items_max,
                ))
            })
            .await
    }
    async fn collection_item(&self, collection: Id, id: Id) -> StoreResult<CollectionItemRow> {
        self.db
            .read((), move |c, _| {
                Box::pin(collections::item(c, collection, id))
            })
            .await
    }
    async fn remove_collection_item(&self, collection: Id, id: Id) -> StoreResult<()> {
        self.db
            .write((), move |c, _| {
                Box::pin(collections::remove_item(c, collection, id))
            })
            .await
    }

    // ---- webui: server rules (issue 13) ----
    async fn seed_rules(&self, rules: Vec<NewRule>) -> StoreResult<()> {
        self.db
            .write(rules, move |c, given| Box::pin(rules::seed(c, given)))
            .await
    }
    async fn rules(&self, include_deleted: bool) -> StoreResult<Vec<RuleRow>> {
        self.db
            .read((), move |c, _| Box::pin(rules::all(c, include_deleted)))
            .await
    }
    async fn create_rule(
        &self,
        rule: NewRule,
        bounds: RuleBounds,
        audit: NewAudit,
    ) -> StoreResult<RuleRow> {
        self.db
            .write((rule, audit), move |c, (rule, audit)| {
                Box::pin(rules::create(c, rule, bounds, audit))
            })
            .await
    }
    async fn update_rule(&self, id: Id, rule: NewRule, audit: NewAudit) -> StoreResult<RuleRow> {
        self.db
            .write((rule, audit), move |c, (rule, audit)| {
                Box::pin(rules::update(c, id, rule, audit))
            })
            .await
    }
    async fn move_rule(&self, id: Id, earlier: bool, audit: NewAudit) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| {
                Box::pin(rules::move_rule(c, id, earlier, audit))
            })
            .await
    }
    async fn delete_rule(&self, id: Id, audit: NewAudit) -> StoreResult<()> {
        self.db
            .write(audit, move |c, audit| Box::pin(rules::delete(c, id, audit)))
            .await
    }

    // ---- home ----
    async fn home_page(
        &self,
        viewer: Id,
        page: Page,
        kept: Option<std::sync::Arc<crate::kept::KeptJson>>,
    ) -> StoreResult<crate::HomePage> {
        let feed = FeedLimits::new(&self.limits);
        let rounds_max = self.limits.home_page_rounds_max;
        let found = self
            .db
            .read(
                (
                    self.parts.clone(),
                    self.relations.clone(),
                    self.flags.clone(),
                    kept,
                ),
                move |c, (parts, relations, flags, kept)| {
                    Box::pin(async move {
                        let Some(read) = home_feed::page(
                            c,
                            relations,
                            viewer,
                            page,
                            rounds_max,
                            feed.pending_merge_max,
                        )
                        .await?
                        else {
                            return Ok(None);
                        };
                        let ids: Vec<Id> = read.ids.iter().map(|p| p.item).collect();
                        // Filters read the text: a viewer with any takes rows.
                        let kept = kept.as_ref().filter(|_| !read.filters);
                        let statuses = match kept {
                            Some(kept) => {
                                let viewed = statuses::PageViewer {
                                    id: viewer,
                                    actions: read.actions,
                                    kept: flags,
                                };
                                statuses::page_statuses(c, &viewed, &ids, &read.seen, kept, parts)
                                    .await?
                            }
                            None => statuses::bundles(c, Some(viewer), &ids, parts)
                                .await?
                                .into_iter()
                                .map(crate::PageStatus::Rows)
                                .collect(),
                        };
                        Ok(Some(crate::HomePage {
                            paged: read.ids,
                            statuses,
                            filters: read.filters,
                        }))
                    })
                },
            )
            .await?;
        if let Some(found) = found {
            return Ok(found);
        }
        // No feed yet: `home_timeline` builds it (a write) first, once.
        let paged = self.home_timeline(viewer, page).await?;
        let ids: Vec<Id> = paged.iter().map(|p| p.item).collect();
        let bundles = self.status_bundles(Some(viewer), &ids).await?;
        Ok(crate::HomePage {
            paged,
            statuses: bundles.into_iter().map(crate::PageStatus::Rows).collect(),
            // Not read here: the caller applies whatever filters there are.
            filters: true,
        })
    }
    fn status_parts_counts(&self) -> crate::CacheCounts {
        self.parts.counts()
    }
    fn home_relation_facts_counts(&self) -> crate::CacheCounts {
        self.relations.counts()
    }
    fn home_viewer_flags_counts(&self) -> crate::CacheCounts {
        self.flags.counts()
    }

    // ---- post ----
    async fn auth_epoch(&self) -> StoreResult<i64> {
        self.db.auth_epoch().await
    }
    async fn create_status_answered(
        &self,
        new: NewStatus,
        defaults: AuthorDefaults,
        idempotency_ttl_s: u64,
    ) -> StoreResult<(Id, Option<StatusBundle>)> {
        let subscribers_max = self.limits.status_subscribers_notified_max;
        let feed = FeedLimits::new(&self.limits);
        let (id, fresh) = self
            .db
            .write(new, move |c, new| {
                Box::pin(async move {
                    let mut created =
                        statuses::create_returning(c, new, defaults, idempotency_ttl_s).await?;
                    let id = created.id;
                    let filled = created.filled.take();
                    // The post as it was made (`Created::filled`), worked out once.
                    let new = filled.as_ref().unwrap_or(new);
                    // The author's row, read once: the fan-out decision, then the answer.
                    let author = home_feed::fan_out(c, new.account_id, id, feed).await?;
                    graph::notify_subscribers(c, id, new, subscribers_max).await?;
                    let fresh = statuses::fresh_bundle(c, new, created, author).await?;
                    Ok((id, fresh))
                })
            })
            .await?;
        Ok(match fresh {
            Some((bundle, parts)) => {
                // Committed: later pages find its parts without reading them.
                self.parts.put(id, None, std::sync::Arc::new(parts));
                (id, Some(bundle))
            }
            None => (id, None),
        })
    }
    async fn visible_status_bundle(
        &self,
        viewer: Option<Id>,
        id: Id,
    ) -> StoreResult<Option<StatusBundle>> {
        self.db
            .read(self.parts.clone(), move |c, parts| {
                Box::pin(async move {
                    if !statuses::visible(c, viewer, id).await? {
                        return Ok(None);
                    }
                    Ok(statuses::bundles(c, viewer, &[id], parts).await?.pop())
                })
            })
            .await
    }
}

/// A cheap round trip, for `/readyz`.
pub(crate) async fn ping(c: &dyn super::Conn) -> StoreResult<()> {
    c.query("SELECT 1", &[]).await?;
    Ok(())
}

// ---- pg ----
impl<B: Db> Core<B> {
    /// Builds `viewer`'s home feed in three transactions (see
    /// `home_feed::open`): open it to fan-out, pass the barrier that waits
    /// for the posts that decided before it opened, fill it from history.
    async fn build_home_feed(&self, viewer: Id, feed: FeedLimits) -> StoreResult<()> {
        let barrier = self
            .db
            .write((), move |c, _| Box::pin(home_feed::open(c, viewer)))
            .await?;
        if let Some(barrier) = barrier {
            self.db
                .write((), move |c, _| {
                    Box::pin(async move { c.execute(barrier, &[]).await.map(drop) })
                })
                .await?;
        }
        self.db
            .write((), move |c, _| Box::pin(home_feed::fill(c, viewer, feed)))
            .await
    }
}
