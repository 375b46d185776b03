//! What an author does to statuses after posting, and what comes with
//! them: editing (with a history), pinning to the profile, muting a
//! conversation, polls, scheduled statuses, and the due-job worker that
//! ends polls and publishes scheduled statuses on every node.

use std::time::Duration;

use holdfast_store::{
    Id, JobDone, NewPoll, NewScheduledStatus, PollView, ScheduleBounds, ScheduledStatusRow,
    StatusBundle, StatusEdit, StatusVersion, Visibility,
};

use crate::events::{Event, StatusEvent};
use crate::statuses::{PollInput, PostInput};
use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// `PUT /api/v1/statuses/:id`: what is not given keeps its value, except
/// the media and the poll, which are replaced (none given: none kept), as
/// in Mastodon.
pub struct EditInput {
    pub status: Option<String>,
    pub spoiler_text: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    pub media_ids: Vec<Id>,
    /// `media_attributes[]`: a new description or focal point for
    /// attachments among `media_ids` (others are ignored, as in Mastodon).
    pub media_attributes: Vec<MediaAttributes>,
    pub poll: Option<PollInput>,
}

/// One `media_attributes[]` entry of an edit, as given.
pub struct MediaAttributes {
    pub id: Id,
    pub description: Option<String>,
    pub focus: Option<String>,
}

/// What `POST /api/v1/statuses` with `scheduled_at` made: a scheduled
/// status, or, for a time already past, the status itself (as Mastodon,
/// which posts at once what was scheduled for the past).
pub enum Scheduling {
    Later(ScheduledStatusRow),
    Now(StatusBundle),
}

/// A status as it was at one version (`StatusEdit`), with its author.
pub struct StatusHistory {
    pub bundle: StatusBundle,
    pub versions: Vec<StatusVersion>,
}

fn invalid(why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unprocessable(format!("Validation failed: {why}"))
}

impl Service {
    /// A poll's options and length, checked against `Limits` (None: no poll).
    pub(crate) fn check_poll(
        &self,
        poll: Option<&PollInput>,
        media_ids: &[Id],
    ) -> ServiceResult<Option<NewPoll>> {
        let Some(poll) = poll else {
            return Ok(None);
        };
        let l = self.limits();
        if !media_ids.is_empty() {
            return Err(invalid("a status cannot have both media and a poll"));
        }
        let options: Vec<String> = poll.options.iter().map(|o| o.trim().to_owned()).collect();
        // fact: a poll is a choice, so between two options at least
        if options.len() < 2 {
            return Err(invalid("Poll options must have more than one item"));
        }
        if options.len() > l.poll_options_max {
            return Err(invalid(format!(
                "Poll options can't contain more than {} items",
                l.poll_options_max
            )));
        }
        if options.iter().any(String::is_empty) {
            return Err(invalid("Poll options can't be blank"));
        }
        if options
            .iter()
            .any(|o| o.chars().count() > l.poll_option_max_chars)
        {
            return Err(invalid(format!(
                "Poll options cannot be longer than {} characters each",
                l.poll_option_max_chars
            )));
        }
        if options
            .iter()
            .enumerate()
            .any(|(i, o)| options[..i].contains(o))
        {
            return Err(invalid("Poll options contain duplicate items"));
        }
        let Some(expires_in_s) = poll.expires_in_s else {
            return Err(invalid("Poll expires_in is required"));
        };
        if expires_in_s < l.poll_expires_in_min_s as i64 {
            return Err(invalid(format!(
                "Poll expires_in must be at least {} seconds",
                l.poll_expires_in_min_s
            )));
        }
        if expires_in_s > l.poll_expires_in_max_s as i64 {
            return Err(invalid(format!(
                "Poll expires_in must be at most {} seconds",
                l.poll_expires_in_max_s
            )));
        }
        Ok(Some(NewPoll {
            options,
            expires_in_s,
            multiple: poll.multiple.unwrap_or(false),
            hide_totals: poll.hide_totals.unwrap_or(false),
        }))
    }

    /// The caller's own status (not a reblog), or 404 as for anything else.
    async fn own_status(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let bundle = self.status(Some(me), id).await?;
        if bundle.status.account_id != me || bundle.status.reblog_of_id.is_some() {
            return Err(ServiceError::not_found());
        }
        Ok(bundle)
    }

    // ---- editing ----

    /// Edits the caller's own status; everyone who may see it gets
    /// `status.update` on their streams, and its reblogs' authors an
    /// `update` notification.
    pub async fn edit_status(
        &self,
        me: Id,
        id: Id,
        input: EditInput,
    ) -> ServiceResult<StatusBundle> {
        let before = self.own_status(me, id).await?;
        let s = &before.status;
        let text = input.status.unwrap_or_else(|| s.text.clone());
        let spoiler_text = input.spoiler_text.unwrap_or_else(|| s.spoiler_text.clone());
        let media_ids = self.check_media_ids(&input.media_ids)?;
        let media_attributes = self.check_media_attributes(input.media_attributes, &media_ids)?;
        let poll = self.check_poll(input.poll.as_ref(), &media_ids)?;
        if text.trim().is_empty() && media_ids.is_empty() {
            return Err(invalid("Text can't be blank"));
        }
        self.check_length(&text, &spoiler_text)?;
        let language = match input.language {
            Some(l) => self.check_language(Some(l))?,
            None => s.language.clone(),
        };
        let composed = self.compose(&text).await;
        let edit = StatusEdit {
            text,
            content: composed.content,
            sensitive: input.sensitive.unwrap_or(s.sensitive),
            spoiler_text,
            language,
            mentions: composed.mentions,
            tags: composed.tags,
            media_ids,
            media_attributes,
            poll,
        };
        let rebloggers = self
            .store
            .edit_status(me, id, edit, self.limits().status_versions_max)
            .await?;
        let after = self.status(Some(me), id).await?;
        for account_id in rebloggers
            .iter()
            .chain(after.mentions.iter().map(|a| &a.id))
        {
            self.announce_notified(me, *account_id);
        }
        self.events.publish(Event::Edited(StatusEvent::of(&after)));
        Ok(after)
    }

    /// Every version of a status the viewer may see, oldest first; a status
    /// never edited has one, itself.
    pub async fn status_history(&self, viewer: Option<Id>, id: Id) -> ServiceResult<StatusHistory> {
        let bundle = self.status(viewer, id).await?;
        let mut versions = self.store.status_history(id).await?;
        if versions.is_empty() {
            let s = &bundle.status;
            versions.push(StatusVersion {
                content: s.content.clone(),
                spoiler_text: s.spoiler_text.clone(),
                sensitive: s.sensitive,
                created_at_ms: s.created_at_ms,
                media: bundle.media.clone(),
                poll_options: bundle
                    .poll
                    .as_ref()
                    .map(|p| p.options.iter().map(|o| o.title.clone()).collect()),
            });
        }
        Ok(StatusHistory { bundle, versions })
    }

    /// The text of the caller's own status as typed, for editing it.
    pub async fn status_source(&self, me: Option<Id>, id: Id) -> ServiceResult<StatusBundle> {
        let bundle = self.status(me, id).await?;
        if me != Some(bundle.status.account_id) {
            return Err(ServiceError::not_found());
        }
        Ok(bundle)
    }

    // ---- pins and conversation mutes ----

    /// Pins the caller's own public, unlisted or private status (422 for
    /// anyone else's, a direct one, or past `pinned_statuses_max`).
    pub async fn pin(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut bundle = self.status(Some(me), id).await?;
        if bundle.status.account_id != me || bundle.status.reblog_of_id.is_some() {
            return Err(invalid("you can only pin your own statuses"));
        }
        self.store
            .pin_status(me, id, self.limits().pinned_statuses_max)
            .await?;
        bundle.pinned = true;
        Ok(bundle)
    }

    pub async fn unpin(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut bundle = self.status(Some(me), id).await?;
        self.store.unpin_status(me, id).await?;
        bundle.pinned = false;
        Ok(bundle)
    }

    /// No more notifications from the thread of a status the caller may see.
    pub async fn mute_conversation(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut bundle = self.status(Some(me), id).await?;
        self.store.mute_conversation(me, id).await?;
        bundle.muted = true;
        Ok(bundle)
    }

    pub async fn unmute_conversation(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut bundle = self.status(Some(me), id).await?;
        self.store.unmute_conversation(me, id).await?;
        bundle.muted = false;
        Ok(bundle)
    }

    /// No translation service is configured: a status the caller may see
    /// cannot be translated (403, as Mastodon answers a status it will not
    /// translate); one it may not see is 404.
    pub async fn translate(&self, viewer: Option<Id>, id: Id) -> ServiceError {
        match self.status(viewer, id).await {
            Ok(_) => ServiceError::forbidden(),
            Err(e) => e,
        }
    }

    /// Quotes of a status the caller may see: holdfast makes no quote posts,
    /// so the list is empty.
    pub async fn quotes(&self, viewer: Option<Id>, id: Id) -> ServiceResult<Vec<StatusBundle>> {
        self.status(viewer, id).await?;
        Ok(Vec::new())
    }

    /// Revoking a quote of the caller's status: no quote exists (404); of
    /// someone else's status, 403 (Mastodon's order).
    pub async fn revoke_quote(&self, me: Id, id: Id) -> ServiceError {
        match self.status(Some(me), id).await {
            Ok(b) if b.status.account_id != me => ServiceError::forbidden(),
            Ok(_) => ServiceError::not_found(),
            Err(e) => e,
        }
    }

    // ---- polls ----

    /// A poll whose status the viewer may see, or 404.
    pub async fn poll(&self, viewer: Option<Id>, poll_id: Id) -> ServiceResult<PollView> {
        let status_id = self.store.poll_status(poll_id).await?;
        self.status(viewer, status_id)
            .await?
            .poll
            .ok_or_else(ServiceError::not_found)
    }

    /// Votes with `choices` (option indexes; repeated ones count once).
    pub async fn vote(&self, me: Id, poll_id: Id, choices: &[u32]) -> ServiceResult<PollView> {
        self.poll(Some(me), poll_id).await?;
        let mut distinct: Vec<u32> = Vec::with_capacity(choices.len());
        for c in choices {
            if !distinct.contains(c) {
                distinct.push(*c);
            }
        }
        if distinct.is_empty() {
            return Err(invalid("choices must name at least one option"));
        }
        let now = holdfast_config::time::now_ms();
        self.store.vote(me, poll_id, &distinct, now).await?;
        self.poll(Some(me), poll_id).await
    }

    // ---- scheduled statuses ----

    fn schedule_bounds(&self) -> ScheduleBounds {
        ScheduleBounds {
            total_max: self.limits().scheduled_statuses_max,
            per_day_max: self.limits().scheduled_statuses_per_day_max,
        }
    }

    /// A publication time at least `scheduled_lead_min_s` ahead, or 422.
    fn check_scheduled_at(&self, at_ms: i64) -> ServiceResult<()> {
        let earliest = holdfast_config::time::now_ms()
            .saturating_add((self.limits().scheduled_lead_min_s as i64).saturating_mul(1000));
        if at_ms < earliest {
            return Err(invalid(format!(
                "Scheduled at The scheduled date must be in the future, at least {} seconds from now",
                self.limits().scheduled_lead_min_s
            )));
        }
        Ok(())
    }

    /// Schedules a post for `at_ms`, checked now as a post is (its
    /// mentions resolved now, as its text is rendered). A time already
    /// past posts it now; a future one sooner than `scheduled_lead_min_s`
    /// is 422 (both as Mastodon).
    pub async fn schedule_status(
        &self,
        me: Id,
        app_id: Id,
        input: PostInput,
        at_ms: i64,
    ) -> ServiceResult<Scheduling> {
        if at_ms <= holdfast_config::time::now_ms() {
            return Ok(Scheduling::Now(self.post_status(me, app_id, input).await?));
        }
        self.check_scheduled_at(at_ms)?;
        let (mut status, defaults) = self.prepare_post(me, app_id, input).await?;
        // A scheduled status keeps the author's preferences as they are now.
        if defaults.any() {
            let author = self.store.account(me).await?;
            defaults.fill(
                &mut status,
                author.default_visibility,
                author.default_sensitive,
                author.default_language,
            );
        }
        let id = self
            .store
            .create_scheduled_status(
                NewScheduledStatus {
                    status,
                    scheduled_at_ms: at_ms,
                },
                self.schedule_bounds(),
            )
            .await?;
        Ok(Scheduling::Later(
            self.store.scheduled_status(me, id).await?,
        ))
    }

    pub async fn scheduled_statuses(
        &self,
        me: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<ScheduledStatusRow>> {
        let page = req.page(
            self.limits().statuses_page_default,
            self.limits().statuses_page_max,
        );
        let paged = self.store.scheduled_statuses(me, page).await?;
        Ok(PageOf::from_paged(paged))
    }

    pub async fn scheduled_status(&self, me: Id, id: Id) -> ServiceResult<ScheduledStatusRow> {
        Ok(self.store.scheduled_status(me, id).await?)
    }

    pub async fn reschedule_status(
        &self,
        me: Id,
        id: Id,
        at_ms: i64,
    ) -> ServiceResult<ScheduledStatusRow> {
        self.store.scheduled_status(me, id).await?;
        self.check_scheduled_at(at_ms)?;
        Ok(self
            .store
            .reschedule_status(me, id, at_ms, self.schedule_bounds())
            .await?)
    }

    pub async fn cancel_scheduled_status(&self, me: Id, id: Id) -> ServiceResult<()> {
        Ok(self.store.cancel_scheduled_status(me, id).await?)
    }

    // ---- the due-job worker ----

    /// Runs up to `due_jobs_per_tick_max` due jobs, each claimed and done in
    /// one store transaction, then tells the streams; returns how many ran.
    pub async fn run_due_jobs(&self) -> ServiceResult<u32> {
        let l = self.limits();
        let mut ran = 0;
        while ran < l.due_jobs_per_tick_max {
            let now = holdfast_config::time::now_ms();
            let Some(done) = self.store.run_due_job(now, l.idempotency_key_ttl_s).await? else {
                break;
            };
            ran += 1;
            match done {
                JobDone::Published {
                    account_id,
                    status_id,
                } => {
                    if let Some(bundle) = self
                        .store
                        .status_bundles(Some(account_id), &[status_id])
                        .await?
                        .pop()
                    {
                        self.announce_post(&bundle);
                    }
                }
                JobDone::PollEnded {
                    status_id: _,
                    notified,
                } => {
                    for account_id in notified {
                        self.events.publish(Event::Notified { account_id });
                    }
                }
                JobDone::Dropped {
                    kind,
                    target_id,
                    why,
                } => tracing::info!(kind, target_id, why, "due job dropped"),
            }
        }
        Ok(ran)
    }

    /// The worker `serve` starts on every node: due jobs each tick, at once
    /// again while a tick ran its whole share.
    pub fn spawn_due_jobs(&self) {
        let service = self.clone();
        let every = Duration::from_millis(self.limits().due_jobs_poll_interval_ms.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                loop {
                    match service.run_due_jobs().await {
                        Ok(n) if n >= service.limits().due_jobs_per_tick_max => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "due jobs failed; will retry");
                            break;
                        }
                    }
                }
            }
        });
    }
}

/// Whether a poll is over at `now_ms`.
pub fn poll_expired(p: &PollView, now_ms: i64) -> bool {
    p.expires_at_ms <= now_ms
}

/// Pins are for what others may see on a profile: not private mentions.
pub fn pinnable(v: Visibility) -> bool {
    v != Visibility::Direct
}

// ---- api: interaction policies (issue 14) ----

/// Who may quote a status (`quote_approval_policy`), as Mastodon names them.
pub const QUOTE_POLICIES: [&str; 3] = ["public", "followers", "nobody"];

impl Service {
    /// `PUT /api/v1/statuses/:id/interaction_policy`: only the author's own
    /// status (404 for anyone else, as Mastodon answers), and only a policy
    /// Mastodon knows (422). holdfast makes no quote posts, so there is
    /// nothing the policy would govern: it is checked, not kept, and the
    /// status is answered as it is.
    pub async fn set_interaction_policy(
        &self,
        me: Id,
        id: Id,
        quote_approval_policy: Option<&str>,
    ) -> ServiceResult<StatusBundle> {
        let bundle = self.status(Some(me), id).await?;
        if bundle.status.account_id != me || bundle.status.reblog_of_id.is_some() {
            return Err(ServiceError::not_found());
        }
        if let Some(policy) = quote_approval_policy {
            if !QUOTE_POLICIES.contains(&policy) {
                return Err(ServiceError::Unprocessable(
                    "Validation failed: Quote approval policy is not included in the list".into(),
                ));
            }
        }
        Ok(bundle)
    }
}
