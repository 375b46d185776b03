//! The store: one trait, one implementation per database.
//!
//! Invariant: this is the only crate that contains SQL. Everything above it
//! talks in terms of the `Store` trait and the rows in [`model`], so a second
//! backend (PostgreSQL) slots in without touching the service or the API.
//!
//! Every write method is one transaction: it either happens whole or not at
//! all, and the retry-safe ones (follow, favourite, reblog, bookmark and their
//! undo, posting with an idempotency key) are idempotent here, in the store,
//! where the uniqueness constraints live.

mod assemble;
pub mod bulk;
pub mod core;
pub mod feed;
pub mod groups;
pub mod ids;
pub mod kept;
pub mod media;
pub mod model;
pub mod postgres;
pub mod sqlite;
pub mod versioned;

use async_trait::async_trait;
pub use feed::{EventFeed, FeedStats};
pub use kept::{HomePage, KeptJson, KeptStatus, PageStatus};
pub use media::{FileMediaStore, MediaStore};
pub use model::*;

#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the string names what was taken.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// The database cannot serve right now (pool exhausted, locked, down). Retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
    /// The write breaks a rule the store checks in its transaction (media
    /// already attached, not the caller's); the string says which, for a 422.
    #[error("{0}")]
    Rejected(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// See `Store::readiness`. The strings say why, for operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Reads are served (from a standby); writes are refused with 503.
    Degraded(String),
    Down(String),
}

/// Everything holdfast keeps. `viewer` is the account looking (None when anonymous);
/// every method that returns statuses returns only those the viewer may see.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
    /// What the store can do now, for `/readyz`: everything, only reads (no
    /// primary, but a standby answers), or nothing. A backend without
    /// standbys is ready or down, as `ping` says.
    async fn readiness(&self) -> Readiness {
        match self.ping().await {
            Ok(()) => Readiness::Ready,
            Err(e) => Readiness::Down(e.to_string()),
        }
    }
    /// Connections in use and the pool size, for `/metrics`.
    fn pool_usage(&self) -> PoolUsage;
    /// (active accounts, statuses) for the instance entity.
    async fn stats(&self) -> StoreResult<(i64, i64)>;

    // ---- discovery (nodeinfo, trends) ----
    /// Accounts, those that posted since each of the two instants, and posts.
    async fn usage(&self, month_start_ms: i64, halfyear_start_ms: i64) -> StoreResult<Usage>;
    /// Tags of the newest `scan_max` public statuses after `since_id`, most accounts first.
    async fn trending_tags(
        &self,
        since_id: Id,
        scan_max: u32,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<TagRow>>;
    /// Of those statuses, the most reblogged and favourited (at least once) first.
    async fn trending_statuses(
        &self,
        since_id: Id,
        scan_max: u32,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>>;

    // ---- accounts ----
    async fn create_account(&self, new: NewAccount) -> StoreResult<AccountRow>;
    async fn account(&self, id: Id) -> StoreResult<AccountRow>;
    async fn account_by_username(&self, username: &str) -> StoreResult<AccountRow>;
    async fn accounts(&self, ids: &[Id]) -> StoreResult<Vec<AccountRow>>;
    async fn update_account(&self, id: Id, update: AccountUpdate) -> StoreResult<AccountRow>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Credentials>;
    async fn email_of(&self, id: Id) -> StoreResult<String>;
    async fn set_suspended(&self, username: &str, suspended: bool) -> StoreResult<AccountRow>;
    async fn set_approved(&self, username: &str) -> StoreResult<AccountRow>;
    async fn list_accounts(&self, limit: u32) -> StoreResult<Vec<AccountAdminRow>>;
    async fn search_accounts(
        &self,
        prefix: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>>;

    // ---- OAuth ----
    async fn create_app(&self, new: NewApp) -> StoreResult<AppRow>;
    async fn app_by_client_id(&self, client_id: &str) -> StoreResult<AppRow>;
    async fn create_token(
        &self,
        token_hash: &str,
        app_id: Id,
        account_id: Option<Id>,
        scopes: &str,
    ) -> StoreResult<Id>;
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<TokenRow>;
    /// Revokes the token if it belongs to the app; unknown tokens are not an error (RFC 7009).
    async fn revoke_token(&self, token_hash: &str, app_id: Id) -> StoreResult<()>;
    async fn create_auth_code(
        &self,
        code_hash: &str,
        code: AuthCode,
        ttl_s: u64,
    ) -> StoreResult<()>;
    /// Returns the code once; a second use, or an expired code, is NotFound.
    /// A used code is kept (marked used) until it expires, for `revoke_replayed_code`.
    async fn take_auth_code(&self, code_hash: &str) -> StoreResult<AuthCode>;
    /// Records the token a code was exchanged for.
    async fn bind_auth_code_token(&self, code_hash: &str, token_hash: &str) -> StoreResult<()>;
    /// A used code came back: revokes the token its first use issued (RFC 6749
    /// §4.1.2). True if a token was revoked; nothing happens for unknown codes.
    async fn revoke_replayed_code(&self, code_hash: &str) -> StoreResult<bool>;
    /// Starts a log-in session (keyed by the hash of its cookie) that ends after `ttl_s`;
    /// expired sessions are swept and the account keeps at most `per_account_max`
    /// (its oldest ones are ended to make room).
    async fn create_session(
        &self,
        session_hash: &str,
        account_id: Id,
        ttl_s: u64,
        per_account_max: usize,
    ) -> StoreResult<()>;
    /// A live session; unknown or expired is NotFound.
    async fn session(&self, session_hash: &str) -> StoreResult<SessionRow>;
    /// Ends a session; unknown sessions are not an error.
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;

    // ---- statuses ----
    /// Posts in one transaction with its mentions, tags, search entry and
    /// notifications. With an idempotency key already used by this account in
    /// the last `idempotency_ttl_s`, returns the first status' id and writes nothing.
    async fn create_status(&self, new: NewStatus, idempotency_ttl_s: u64) -> StoreResult<Id>;
    /// Deletes a status of `account_id` (its reblogs go with it); returns the row as it was.
    async fn delete_status(&self, account_id: Id, status_id: Id) -> StoreResult<StatusRow>;
    async fn status(&self, id: Id) -> StoreResult<StatusRow>;
    async fn status_visible(&self, viewer: Option<Id>, id: Id) -> StoreResult<bool>;
    /// Statuses with everything needed to render them, in the order of `ids`;
    /// ids that do not exist are skipped.
    async fn status_bundles(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> StoreResult<Vec<StatusBundle>>;
    /// Ancestors oldest first and descendants in thread order, both only what the viewer may see.
    async fn context(
        &self,
        viewer: Option<Id>,
        id: Id,
        max_each: u32,
    ) -> StoreResult<(Vec<Id>, Vec<Id>)>;

    async fn favourite(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    async fn unfavourite(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    /// Returns the id of the reblog (existing or new).
    async fn reblog(
        &self,
        account_id: Id,
        status_id: Id,
        visibility: Visibility,
    ) -> StoreResult<Id>;
    async fn unreblog(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    async fn bookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    async fn unbookmark(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    async fn favourited_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    async fn reblogged_by(&self, status_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;

    // ---- timelines (ids of statuses, newest first) ----
    async fn home_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// Public statuses; with `only_media`, only those with attachments.
    async fn public_timeline(
        &self,
        viewer: Option<Id>,
        only_media: bool,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>>;
    async fn tag_timeline(
        &self,
        viewer: Option<Id>,
        tag: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>>;
    async fn account_statuses(
        &self,
        viewer: Option<Id>,
        account_id: Id,
        filter: AccountStatusesFilter,
        tagged: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<Paged<Id>>>;
    async fn favourites(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    async fn bookmarks(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    async fn search_statuses(
        &self,
        viewer: Option<Id>,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<Id>>;
    async fn search_tags(&self, prefix: &str, limit: u32, offset: u32) -> StoreResult<Vec<TagRow>>;
    async fn tag(&self, name: &str) -> StoreResult<TagRow>;

    // ---- social graph ----
    /// `follow_with`, leaving the languages of an existing follow as they are.
    async fn follow(
        &self,
        account_id: Id,
        target_id: Id,
        reblogs: bool,
        notify: bool,
    ) -> StoreResult<FollowOutcome> {
        let options = FollowOptions {
            reblogs,
            notify,
            languages: None,
        };
        self.follow_with(account_id, target_id, options).await
    }
    async fn unfollow(&self, account_id: Id, target_id: Id) -> StoreResult<()>;
    async fn block(&self, account_id: Id, target_id: Id) -> StoreResult<()>;
    async fn unblock(&self, account_id: Id, target_id: Id) -> StoreResult<()>;
    /// Mutes until `expires_at_ms` (None: for good); an ended mute hides nothing.
    async fn mute(
        &self,
        account_id: Id,
        target_id: Id,
        notifications: bool,
        expires_at_ms: Option<i64>,
    ) -> StoreResult<()>;
    async fn unmute(&self, account_id: Id, target_id: Id) -> StoreResult<()>;
    async fn relationships(&self, account_id: Id, targets: &[Id])
        -> StoreResult<Vec<Relationship>>;
    async fn followers(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    async fn following(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;

    // ---- lists (only ever the owner's: someone else's list is NotFound) ----
    /// Rejected when `owner` has `per_account_max` lists already.
    async fn create_list(
        &self,
        owner: Id,
        new: NewList,
        per_account_max: u32,
    ) -> StoreResult<ListRow>;
    async fn lists(&self, owner: Id) -> StoreResult<Vec<ListRow>>;
    async fn list(&self, owner: Id, id: Id) -> StoreResult<ListRow>;
    async fn update_list(&self, owner: Id, id: Id, update: ListUpdate) -> StoreResult<ListRow>;
    async fn delete_list(&self, owner: Id, id: Id) -> StoreResult<()>;
    async fn list_members(&self, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// All or nothing: Rejected if one account is not followed by `owner`, or
    /// the list would pass `members_max`; members already in are no error.
    async fn add_list_members(
        &self,
        owner: Id,
        id: Id,
        accounts: &[Id],
        members_max: u32,
    ) -> StoreResult<()>;
    async fn remove_list_members(&self, owner: Id, id: Id, accounts: &[Id]) -> StoreResult<()>;
    /// `owner`'s lists that `member` is in.
    async fn lists_containing(&self, owner: Id, member: Id) -> StoreResult<Vec<ListRow>>;
    /// The list's timeline (status ids, newest first), seen by its owner.
    async fn list_timeline(&self, owner: Id, id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;

    // ---- discovery, from the local follow graph ----
    /// Discoverable accounts in `order`.
    async fn directory(
        &self,
        order: DirectoryOrder,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<AccountRow>>;
    /// At most `limit` accounts `account_id` might follow, best first.
    async fn suggestions(&self, account_id: Id, limit: u32) -> StoreResult<Vec<Suggestion>>;
    /// For each target, at most `each_max` accounts `account_id` follows that follow it.
    async fn familiar_followers(
        &self,
        account_id: Id,
        targets: &[Id],
        each_max: u32,
    ) -> StoreResult<Vec<(Id, Vec<Id>)>>;

    // ---- personal marks: notes, endorsements, domain blocks ----
    /// Sets `account_id`'s private note on `target`; "" removes it.
    async fn set_account_note(&self, account_id: Id, target: Id, comment: &str) -> StoreResult<()>;
    /// Rejected if `account_id` does not follow `target` or endorses `max` already.
    async fn endorse(&self, account_id: Id, target: Id, max: u32) -> StoreResult<()>;
    async fn unendorse(&self, account_id: Id, target: Id) -> StoreResult<()>;
    async fn endorsements(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// `domain` normalized (lowercase); Rejected past `max` domains.
    async fn block_domain(&self, account_id: Id, domain: &str, max: u32) -> StoreResult<()>;
    async fn unblock_domain(&self, account_id: Id, domain: &str) -> StoreResult<()>;
    async fn domain_blocks(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<String>>>;

    // ---- safety: blocks, mutes, follow requests ----
    /// Accounts `account_id` blocks, paged by the block.
    async fn blocks(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// Mutes of `account_id` still in force, paged by the mute.
    async fn mutes(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Muted>>>;
    /// Accounts asking to follow `account_id`, paged by the request.
    async fn follow_requests(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// `from` follows `account_id` now; NotFound if `from` did not ask.
    async fn authorize_follow_request(&self, account_id: Id, from: Id) -> StoreResult<()>;
    /// `from`'s request is dropped; NotFound if `from` did not ask.
    async fn reject_follow_request(&self, account_id: Id, from: Id) -> StoreResult<()>;
    /// `follower` stops following `account_id`; not following is not an error.
    async fn remove_from_followers(&self, account_id: Id, follower: Id) -> StoreResult<()>;

    // ---- notifications ----
    async fn notifications(
        &self,
        account_id: Id,
        types: &[NotificationType],
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>> {
        self.notifications_from(account_id, types, None, page).await
    }
    /// `notifications`, only those sent by `from` when given (Mastodon's `account_id`).
    async fn notifications_from(
        &self,
        account_id: Id,
        types: &[NotificationType],
        from: Option<Id>,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>>;
    async fn notification(&self, account_id: Id, id: Id) -> StoreResult<NotificationRow>;
    async fn dismiss_notification(&self, account_id: Id, id: Id) -> StoreResult<()>;
    async fn clear_notifications(&self, account_id: Id) -> StoreResult<()>;
    /// Grouped paging (Mastodon's `/api/v2/notifications`; `from` as in
    /// `notifications_from`): among at most
    /// `scan_max` notifications of `types` inside the page bounds (the newest,
    /// or with `min_id` the oldest), the first `page.limit` groups in walking
    /// order, each by the notification that opened it (its newest, or with
    /// `min_id` its oldest); returned newest first. A notification whose type
    /// is not in `grouped` (or that has no key) is a group of its own.
    async fn notification_group_page(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        page: Page,
        scan_max: u32,
    ) -> StoreResult<NotificationGroupPage>;
    /// The groups with these keys, summed up over notifications with ids up to
    /// `until` (all when None); `oldest_in_range_id` counts from `from`.
    /// Keys with nothing visible are left out. At most `samples` sample accounts each.
    async fn notification_groups(
        &self,
        account_id: Id,
        keys: &[String],
        from: Option<Id>,
        until: Option<Id>,
        samples: u32,
    ) -> StoreResult<Vec<NotificationGroupRow>>;
    /// The notifications of one group (by stored key), paged by id, newest first.
    async fn group_notifications(
        &self,
        account_id: Id,
        group_key: &str,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRow>>>;
    /// Deletes every notification of the group; an unknown key is not an error.
    async fn dismiss_notification_group(&self, account_id: Id, group_key: &str) -> StoreResult<()>;
    /// How many notifications of `types` newer than `after_id` there are,
    /// counting a group (of `grouped` types) once; at most `limit`, looking at
    /// no more than `scan_max` notifications (oldest first).
    async fn unread_notifications(
        &self,
        account_id: Id,
        types: &[NotificationType],
        grouped: &[NotificationType],
        from: Option<Id>,
        after_id: Option<Id>,
        limit: u32,
        scan_max: u32,
    ) -> StoreResult<u32>;

    // ---- media ----
    /// Records an upload whose bytes are already durable in the media store.
    async fn create_media(&self, new: NewMedia) -> StoreResult<MediaRow>;
    /// The upload if it is `account_id`'s (attached or not); NotFound otherwise.
    async fn media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow>;
    /// Changes description and focus of an unattached upload of `account_id`
    /// (NotFound if not theirs or already attached, as Mastodon does).
    async fn update_media(
        &self,
        account_id: Id,
        id: Id,
        update: MediaUpdate,
    ) -> StoreResult<MediaRow>;
    /// Deletes an unattached upload of `account_id` and returns it (its keys are
    /// the caller's to remove); Rejected if a status uses it.
    async fn delete_media(&self, account_id: Id, id: Id) -> StoreResult<MediaRow>;
    /// Deletes at most `limit` uploads never attached and created before
    /// `before_ms`, oldest first, and returns them.
    async fn take_expired_media(&self, before_ms: i64, limit: u32) -> StoreResult<Vec<MediaRow>>;
    /// Sets (or with None clears) an account's avatar or header; returns the
    /// account and the key it replaced, for the caller to remove.
    async fn set_profile_image(
        &self,
        account_id: Id,
        which: ProfileImage,
        key: Option<String>,
    ) -> StoreResult<(AccountRow, Option<String>)>;

    // ---- web push ----
    /// Replaces the token's push subscription with this one.
    async fn subscribe_push(&self, new: NewPushSubscription) -> StoreResult<PushSubscriptionRow>;
    /// The token's subscription, or NotFound.
    async fn push_subscription(&self, token_id: Id) -> StoreResult<PushSubscriptionRow>;
    /// Replaces the alerts and policy of the token's subscription (NotFound if none).
    async fn update_push_alerts(
        &self,
        token_id: Id,
        alerts: PushAlerts,
    ) -> StoreResult<PushSubscriptionRow>;
    /// Removes the token's subscription, if any, with its queued deliveries.
    async fn unsubscribe_push(&self, token_id: Id) -> StoreResult<()>;
    /// The instance's VAPID keys; `candidate` becomes them if none are stored yet.
    async fn vapid_keys(&self, candidate: VapidKeys) -> StoreResult<VapidKeys>;
    /// Claims up to `limit` deliveries due at `now_ms`, hidden from other
    /// claims for `lease_ms`.
    async fn claim_push_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<PushDelivery>>;
    async fn finish_push_delivery(
        &self,
        delivery: PushDelivery,
        end: PushDeliveryEnd,
    ) -> StoreResult<()>;

    // ---- markers ----
    async fn markers(&self, account_id: Id) -> StoreResult<Vec<Marker>>;
    async fn set_marker(
        &self,
        account_id: Id,
        timeline: &str,
        last_read_id: Id,
    ) -> StoreResult<Marker>;

    // ---- social: followed and featured tags, conversations, suggestions (issue 14) ----
    /// `account_id` follows the tag (made if new); following it again is no
    /// error. Rejected past `max` followed tags.
    async fn follow_tag(&self, account_id: Id, name: &str, max: u32) -> StoreResult<()>;
    /// Not following it is no error.
    async fn unfollow_tag(&self, account_id: Id, name: &str) -> StoreResult<()>;
    /// The tags `account_id` follows, paged by the follow.
    async fn followed_tags(&self, account_id: Id, page: Page) -> StoreResult<Vec<Paged<TagRef>>>;
    /// Of `tags`, those `account_id` follows.
    async fn followed_among(&self, account_id: Id, tags: &[Id]) -> StoreResult<Vec<Id>>;
    /// Public uses of `tags` per day since `since_ms` (days with none are left out).
    async fn tag_history(&self, tags: &[Id], since_ms: i64) -> StoreResult<Vec<TagDay>>;
    /// Conflict if featured already, Rejected past `max`.
    async fn feature_tag(
        &self,
        account_id: Id,
        name: &str,
        max: u32,
    ) -> StoreResult<FeaturedTagRow>;
    /// NotFound unless it is `account_id`'s.
    async fn unfeature_tag(&self, account_id: Id, id: Id) -> StoreResult<()>;
    async fn featured_tags(&self, account_id: Id) -> StoreResult<Vec<FeaturedTagRow>>;
    /// Tags `account_id` used most in its newest `scan_max` statuses, not featured yet.
    async fn featured_tag_suggestions(
        &self,
        account_id: Id,
        scan_max: u32,
        limit: u32,
    ) -> StoreResult<Vec<TagRef>>;
    /// Follows (or asks to follow a locked account, keeping `options` on the
    /// request until it is authorized).
    async fn follow_with(
        &self,
        account_id: Id,
        target_id: Id,
        options: FollowOptions,
    ) -> StoreResult<FollowOutcome>;
    /// `account_id`'s direct conversations, paged by their newest status.
    async fn conversations(
        &self,
        account_id: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<ConversationRow>>>;
    /// NotFound unless it is `account_id`'s.
    async fn conversation(&self, account_id: Id, id: Id) -> StoreResult<ConversationRow>;
    async fn mark_conversation_read(&self, account_id: Id, id: Id) -> StoreResult<ConversationRow>;
    async fn remove_conversation(&self, account_id: Id, id: Id) -> StoreResult<()>;
    /// `account_id`'s conversation that direct status `status_id` is in, if any.
    async fn conversation_of_status(
        &self,
        account_id: Id,
        status_id: Id,
    ) -> StoreResult<Option<ConversationRow>>;
    /// `target` is not suggested to `account_id` again.
    async fn dismiss_suggestion(&self, account_id: Id, target: Id) -> StoreResult<()>;
    // ---- admin (moderation, issue 14) ----
    async fn admin_account(&self, id: Id) -> StoreResult<AdminAccountRow>;
    /// Accounts matching every given filter, newest first.
    async fn admin_accounts(
        &self,
        filter: AdminAccountFilter,
        page: Page,
    ) -> StoreResult<Vec<Paged<AdminAccountRow>>>;
    /// One change and its audit entry, in one transaction; suspending or
    /// disabling also ends every token and session of the account.
    async fn change_account(
        &self,
        id: Id,
        change: AccountChange,
        audit: NewAudit,
    ) -> StoreResult<AdminAccountRow>;
    /// Deletes the account and all it owns, with its audit entry; with
    /// `pending_only`, Rejected unless the account awaits approval.
    async fn remove_account(&self, id: Id, pending_only: bool, audit: NewAudit) -> StoreResult<()>;
    async fn set_sign_up_ip(&self, id: Id, ip: &str) -> StoreResult<()>;
    async fn audit_log(&self, page: Page) -> StoreResult<Vec<Paged<AuditRow>>>;
    /// An audit entry for an action that changes nothing else (a warning).
    async fn record_audit(&self, audit: NewAudit) -> StoreResult<()>;
    /// Rejected if a status is not the target's, or the reporter has
    /// `open_max` unresolved reports.
    async fn create_report(&self, new: NewReport, open_max: u32) -> StoreResult<ReportRow>;
    async fn report(&self, id: Id) -> StoreResult<ReportRow>;
    async fn reports(&self, filter: ReportFilter, page: Page)
        -> StoreResult<Vec<Paged<ReportRow>>>;
    async fn change_report(
        &self,
        id: Id,
        change: ReportChange,
        audit: NewAudit,
    ) -> StoreResult<ReportRow>;
    // Instance blocks, by domain and by address (`BlockKind`): one code path.
    /// Conflict if the key (domain, address) is blocked already; Rejected
    /// past `max` blocks of its kind in force.
    async fn create_instance_block(
        &self,
        block: BlockInput,
        max: u32,
        audit: NewAudit,
    ) -> StoreResult<BlockRow>;
    /// A block in force (an ended address block is NotFound).
    async fn instance_block(&self, kind: BlockKind, id: Id) -> StoreResult<BlockRow>;
    async fn instance_blocks(
        &self,
        kind: BlockKind,
        page: Page,
    ) -> StoreResult<Vec<Paged<BlockRow>>>;
    /// Every block of the kind in force, at most `limit`.
    async fn live_instance_blocks(&self, kind: BlockKind, limit: u32)
        -> StoreResult<Vec<BlockRow>>;
    /// NotFound if there is no such block; the answer is the block as written.
    async fn update_instance_block(
        &self,
        id: Id,
        block: BlockInput,
        audit: NewAudit,
    ) -> StoreResult<BlockRow>;
    async fn delete_instance_block(
        &self,
        kind: BlockKind,
        id: Id,
        audit: NewAudit,
    ) -> StoreResult<()>;
    /// Whether the domain, or one it is under, is blocked.
    async fn domain_blocked(&self, domain: &str) -> StoreResult<bool>;
    /// Rejected past `max` announcements.
    async fn create_announcement(
        &self,
        announcement: AnnouncementInput,
        max: u32,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow>;
    async fn announcement(&self, id: Id, viewer: Option<Id>) -> StoreResult<AnnouncementRow>;
    /// Newest first, at most `limit`; with `active_only` those begun and not ended.
    async fn announcements(
        &self,
        viewer: Option<Id>,
        active_only: bool,
        limit: u32,
    ) -> StoreResult<Vec<AnnouncementRow>>;
    async fn update_announcement(
        &self,
        id: Id,
        announcement: AnnouncementInput,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow>;
    async fn delete_announcement(&self, id: Id, audit: NewAudit) -> StoreResult<()>;
    async fn dismiss_announcement(&self, account_id: Id, id: Id) -> StoreResult<()>;
    /// Adds or removes a reaction; Rejected past `max` distinct names.
    async fn react_to_announcement(
        &self,
        account_id: Id,
        id: Id,
        name: &str,
        add: bool,
        max: u32,
    ) -> StoreResult<()>;
    // ---- web ----
    /// The account's live log-in sessions, newest first.
    async fn sessions_of(&self, account_id: Id) -> StoreResult<Vec<WebSession>>;
    /// Ends one of the account's sessions; another account's session is left alone.
    async fn end_account_session(&self, account_id: Id, session_hash: &str) -> StoreResult<()>;
    /// Apps holding live tokens for the account (at most `limit`), most recent first.
    async fn authorized_apps(&self, account_id: Id, limit: u32) -> StoreResult<Vec<AuthorizedApp>>;
    /// Revokes every token `app_id` holds for the account.
    async fn revoke_app_authorization(&self, account_id: Id, app_id: Id) -> StoreResult<()>;
    /// Sets a new password hash and ends every session but `keep_session_hash`, and every token.
    async fn set_password_hash(
        &self,
        account_id: Id,
        password_hash: &str,
        keep_session_hash: &str,
    ) -> StoreResult<()>;
    /// Deletes the account and everything it made (the schema cascades).
    async fn delete_account(&self, account_id: Id) -> StoreResult<()>;

    // ---- filters (only ever the owner's: someone else's filter, keyword
    // or filtered status is NotFound) ----
    /// Rejected past `bounds` (filters per account, keywords per filter).
    async fn create_filter(
        &self,
        owner: Id,
        new: NewFilter,
        bounds: FilterBounds,
    ) -> StoreResult<FilterRow>;
    /// Every filter of `owner`, expired ones too, oldest first.
    async fn filters(&self, owner: Id) -> StoreResult<Vec<FilterRow>>;
    async fn filter(&self, owner: Id, id: Id) -> StoreResult<FilterRow>;
    /// All or nothing; a keyword id not of this filter is NotFound.
    async fn update_filter(
        &self,
        owner: Id,
        id: Id,
        update: FilterUpdate,
        bounds: FilterBounds,
    ) -> StoreResult<FilterRow>;
    async fn delete_filter(&self, owner: Id, id: Id) -> StoreResult<()>;
    async fn filter_keyword(&self, owner: Id, id: Id) -> StoreResult<FilterKeywordRow>;
    async fn add_filter_keyword(
        &self,
        owner: Id,
        filter: Id,
        keyword: NewKeyword,
        max: u32,
    ) -> StoreResult<FilterKeywordRow>;
    async fn update_filter_keyword(
        &self,
        owner: Id,
        id: Id,
        keyword: Option<String>,
        whole_word: Option<bool>,
    ) -> StoreResult<FilterKeywordRow>;
    /// Returns the keyword as it was.
    async fn delete_filter_keyword(&self, owner: Id, id: Id) -> StoreResult<FilterKeywordRow>;
    async fn filter_status(&self, owner: Id, id: Id) -> StoreResult<FilterStatusRow>;
    /// Adding a status again returns the first row; Rejected past `max`.
    async fn add_filter_status(
        &self,
        owner: Id,
        filter: Id,
        status: Id,
        max: u32,
    ) -> StoreResult<FilterStatusRow>;
    async fn delete_filter_status(&self, owner: Id, id: Id) -> StoreResult<()>;

    // ---- notification policies and requests ----
    /// The account's policy (Mastodon's defaults if never set) and what waits.
    async fn notification_policy(
        &self,
        account: Id,
    ) -> StoreResult<(NotificationPolicyRow, PendingSummary)>;
    async fn set_notification_policy(
        &self,
        account: Id,
        policy: NotificationPolicyRow,
    ) -> StoreResult<()>;
    async fn notification_requests(
        &self,
        account: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<NotificationRequestRow>>>;
    async fn notification_request(
        &self,
        account: Id,
        id: Id,
    ) -> StoreResult<NotificationRequestRow>;
    /// Accepts the account's requests among `ids` (others' are skipped):
    /// their notifications are shown, their senders no longer filtered.
    /// Returns how many were the account's.
    async fn accept_notification_requests(&self, account: Id, ids: &[Id]) -> StoreResult<usize>;
    /// Dismisses the account's requests among `ids`, with their notifications.
    async fn dismiss_notification_requests(&self, account: Id, ids: &[Id]) -> StoreResult<usize>;

    // ---- posts: edits, pins, conversation mutes, polls, scheduled statuses ----
    /// Edits a status of `account_id` (NotFound for anyone else's); returns
    /// the accounts that reblogged it (each got an `update` notification).
    /// Rejected past `versions_max` versions in its history.
    async fn edit_status(
        &self,
        account_id: Id,
        status_id: Id,
        edit: StatusEdit,
        versions_max: u32,
    ) -> StoreResult<Vec<Id>>;
    /// The versions of an edited status, oldest first; empty if never edited.
    async fn status_history(&self, status_id: Id) -> StoreResult<Vec<StatusVersion>>;
    /// Rejected for a status not `account_id`'s, a direct one, or past `max` pins.
    async fn pin_status(&self, account_id: Id, status_id: Id, max: u32) -> StoreResult<()>;
    async fn unpin_status(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    /// No notifications for `account_id` from the thread of `status_id` any more.
    async fn mute_conversation(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    async fn unmute_conversation(&self, account_id: Id, status_id: Id) -> StoreResult<()>;
    /// The status a poll is attached to.
    async fn poll_status(&self, poll_id: Id) -> StoreResult<Id>;
    /// Votes; Rejected (with the reason) if the poll ended at `now_ms`, is the
    /// voter's own, was voted on already, or a choice does not fit.
    async fn vote(
        &self,
        account_id: Id,
        poll_id: Id,
        choices: &[u32],
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Schedules a status (its uploads reserved); with an idempotency key
    /// already used by a waiting scheduled status, returns that one.
    async fn create_scheduled_status(
        &self,
        new: NewScheduledStatus,
        bounds: ScheduleBounds,
    ) -> StoreResult<Id>;
    async fn scheduled_statuses(
        &self,
        account_id: Id,
        page: Page,
    ) -> StoreResult<Vec<Paged<ScheduledStatusRow>>>;
    /// One of `account_id`'s scheduled statuses; anyone else's is NotFound.
    async fn scheduled_status(&self, account_id: Id, id: Id) -> StoreResult<ScheduledStatusRow>;
    async fn reschedule_status(
        &self,
        account_id: Id,
        id: Id,
        at_ms: i64,
        bounds: ScheduleBounds,
    ) -> StoreResult<ScheduledStatusRow>;
    async fn cancel_scheduled_status(&self, account_id: Id, id: Id) -> StoreResult<()>;
    /// Claims one job due at `now_ms` and does it, claim and work in one
    /// transaction: exactly once across restarts and nodes. None: nothing due.
    async fn run_due_job(
        &self,
        now_ms: i64,
        idempotency_ttl_s: u64,
    ) -> StoreResult<Option<JobDone>>;

    // ---- stream ----
    /// Who does not see `author`'s public posts in public and hashtag
    /// timelines (blocks either way, mutes in force), asked once per event by
    /// the live streams; `None` when more than `streaming_event_hiders_max`.
    async fn hiders_of(&self, author: Id) -> StoreResult<Option<Vec<Id>>>;

    // ---- web ----
    /// Publishes a draft announcement (its `published_at` becomes now), or
    /// takes a published one back to a draft; with its audit entry.
    async fn publish_announcement(
        &self,
        id: Id,
        published: bool,
        audit: NewAudit,
    ) -> StoreResult<AnnouncementRow>;

    // ---- fanout ----
    /// Runs one batch of home fan-out: the oldest jobs in turn until
    /// `home_fanout_batch_max` followers were walked, copying each status into
    /// those followers' feeds in one transaction with the jobs' progress:
    /// exactly once across restarts and nodes. One entry per job worked on,
    /// oldest first (only the last may be unfinished); empty: no job is waiting.
    async fn run_fanout_batch(&self) -> StoreResult<Vec<FanoutBatch>>;

    // ---- api: direct timeline, collections (issue 14) ----
    /// The viewer's direct statuses, written or received, newest first.
    async fn direct_timeline(&self, viewer: Id, page: Page) -> StoreResult<Vec<Paged<Id>>>;
    /// Makes `owner`'s collection with its first `accounts`, in one
    /// transaction; Rejected past `per_account_max` collections of the owner
    /// or `items_max` accounts.
    async fn create_collection(
        &self,
        owner: Id,
        fields: CollectionFields,
        accounts: Vec<Id>,
        per_account_max: u32,
        items_max: u32,
    ) -> StoreResult<CollectionRow>;
    async fn collection(&self, id: Id) -> StoreResult<CollectionRow>;
    /// NotFound unless the collection is `owner`'s.
    async fn update_collection(
        &self,
        owner: Id,
        id: Id,
        fields: CollectionFields,
    ) -> StoreResult<CollectionRow>;
    /// NotFound unless the collection is `owner`'s; its items go with it.
    async fn delete_collection(&self, owner: Id, id: Id) -> StoreResult<()>;
    /// `account`'s collections, newest first; only the discoverable ones
    /// with `discoverable_only`.
    async fn account_collections(
        &self,
        account: Id,
        discoverable_only: bool,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CollectionRow>>;
    /// The collections `account` is in, newest inclusion first.
    async fn collections_featuring(
        &self,
        account: Id,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CollectionRow>>;
    /// The items of `collections`, oldest first within each.
    async fn collection_items(&self, collections: &[Id]) -> StoreResult<Vec<CollectionItemRow>>;
    /// Adds `account` to `owner`'s collection (NotFound if not `owner`'s):
    /// Conflict if it is in already, Rejected past `items_max` items.
    async fn add_collection_item(
        &self,
        owner: Id,
        collection: Id,
        account: Id,
        items_max: u32,
    ) -> StoreResult<CollectionItemRow>;
    async fn collection_item(&self, collection: Id, id: Id) -> StoreResult<CollectionItemRow>;
    /// NotFound unless item `id` is in `collection`.
    async fn remove_collection_item(&self, collection: Id, id: Id) -> StoreResult<()>;

    // ---- webui: server rules (issue 13) ----
    /// Writes the configured rules as ids 1..n unless the table has ever
    /// held a rule; safe for several nodes at once.
    async fn seed_rules(&self, rules: Vec<NewRule>) -> StoreResult<()>;
    /// The rules in order; the deleted ones too with `include_deleted`.
    async fn rules(&self, include_deleted: bool) -> StoreResult<Vec<RuleRow>>;
    /// Adds a rule after the others, with its audit entry (its `target_id`
    /// set to the new rule); Rejected past the bounds.
    async fn create_rule(
        &self,
        rule: NewRule,
        bounds: RuleBounds,
        audit: NewAudit,
    ) -> StoreResult<RuleRow>;
    /// NotFound for a deleted or unknown rule.
    async fn update_rule(&self, id: Id, rule: NewRule, audit: NewAudit) -> StoreResult<RuleRow>;
    /// One place earlier (or later) among the rules in force; at an end, nothing changes.
    async fn move_rule(&self, id: Id, earlier: bool, audit: NewAudit) -> StoreResult<()>;
    /// Marks it deleted (the row stays for reports); NotFound if already deleted.
    async fn delete_rule(&self, id: Id, audit: NewAudit) -> StoreResult<()>;

    // ---- home (issue 10, the read side) ----
    /// A home page (as `home_timeline`) with its statuses loaded for the
    /// viewer (as `status_bundles`), in one read: one pool connection and,
    /// on SQLite, one hop to a blocking thread per page instead of two.
    /// With `kept`, a status whose rendered fragments it holds at the row
    /// versions this read sees comes as them, and only the others' rows
    /// are read (`kept.rs`), unless the viewer has filters; without, every
    /// status comes as its rows.
    async fn home_page(
        &self,
        viewer: Id,
        page: Page,
        kept: Option<std::sync::Arc<kept::KeptJson>>,
    ) -> StoreResult<HomePage>;
    /// The kept mentions, tags and media of statuses (`status_parts_cache_max`).
    fn status_parts_counts(&self) -> CacheCounts;
    /// What accounts are to each viewer for the home rules, kept by the
    /// viewer's relationship version (`home_relation_facts_cache_max`).
    fn home_relation_facts_counts(&self) -> CacheCounts;
    /// The viewer's own flags on statuses, kept for home pages by the
    /// viewer's actions version and the status' row version
    /// (`home_viewer_flags_cache_max`).
    fn home_viewer_flags_counts(&self) -> CacheCounts;

    // ---- post ----
    /// The auth epoch (migration 0026): it moves in the same transaction as
    /// anything that may end a token (revocation, suspension, deletion), on
    /// every node and from every process, so a token proved at the epoch
    /// read now is still good. One tiny read: on SQLite a connection of its
    /// own, read in place.
    async fn auth_epoch(&self) -> StoreResult<i64>;
    /// `create_status`, answering with the status as its author sees it
    /// when the post's own transaction knows it (a plain new status: no
    /// media, poll or reply, not a repeated Idempotency-Key); None means
    /// read it as any other. What `defaults` names is taken from the
    /// author's preferences in the same transaction.
    async fn create_status_answered(
        &self,
        new: NewStatus,
        defaults: AuthorDefaults,
        idempotency_ttl_s: u64,
    ) -> StoreResult<(Id, Option<StatusBundle>)>;
    /// The status as `viewer` sees it (as `status_bundles`), or None when
    /// they may not see it (as `status_visible`): both in one read, one
    /// pool connection (a favourite, a bookmark, a status page read it first).
    async fn visible_status_bundle(
        &self,
        viewer: Option<Id>,
        id: Id,
    ) -> StoreResult<Option<StatusBundle>>;
}

/// A cache's hits and misses since start, and the entries it holds now (for `/metrics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PoolUsage {
    pub in_use: usize,
    pub size: usize,
    /// True while a PostgreSQL node is in degraded mode (no primary
    /// reachable), or reads go to a standby first because the primary just
    /// left one unanswered.
    pub primary_down: bool,
    /// Reads served by a standby because no primary answered (since start).
    pub standby_reads: u64,
    /// Write attempts run again while waiting out a failover (since start).
    pub write_retries: u64,
    /// Times a write waited for a primary (just promoted) to have a
    /// synchronous standby attached before running (since start).
    pub sync_standby_waits: u64,
}
