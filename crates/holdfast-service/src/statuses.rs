//! Posting and acting on statuses. The rule that runs through all of it:
//! a status the caller may not see does not exist for them (404), whatever
//! they try to do with it.

use holdfast_store::{AccountRow, AuthorDefaults, Id, NewStatus, StatusBundle, Visibility};

use crate::events::{Event, StatusEvent};
use crate::text::{self, ResolvedMention};
use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

pub struct PostInput {
    pub status: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub visibility: Option<String>,
    pub spoiler_text: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    pub idempotency_key: Option<String>,
    /// Uploads to attach, in order (`media_ids[]`).
    pub media_ids: Vec<Id>,
    pub poll: Option<PollInput>,
}

/// `poll[...]` of a post or an edit, as the client sent it.
#[derive(Clone, Debug, Default)]
pub struct PollInput {
    pub options: Vec<String>,
    pub expires_in_s: Option<i64>,
    pub multiple: Option<bool>,
    pub hide_totals: Option<bool>,
}

/// What the text of a status becomes once checked: its HTML, the local
/// accounts it mentions and its tags.
pub(crate) struct Composed {
    pub content: String,
    pub mentions: Vec<Id>,
    pub tags: Vec<String>,
}

impl Service {
    /// Posts as `me`, through the app `app_id` (shown as the status' `application`).
    pub async fn post_status(
        &self,
        me: Id,
        app_id: Id,
        input: PostInput,
    ) -> ServiceResult<StatusBundle> {
        let (new, defaults) = self.prepare_post(me, app_id, input).await?;
        let (id, answered) = self
            .store
            .create_status_answered(new, defaults, self.limits().idempotency_key_ttl_s)
            .await?;
        // Our own new status: visible to us, so no visibility check first.
        let bundle = match answered {
            Some(bundle) => bundle,
            None => self
                .store
                .status_bundles(Some(me), &[id])
                .await?
                .pop()
                .ok_or_else(ServiceError::not_found)?,
        };
        self.announce_post(&bundle);
        Ok(bundle)
    }

    /// Checks a post and prepares it for the store (rendered, mentions
    /// resolved): the same for posting now and for scheduling. What the
    /// caller left unsaid (visibility, sensitivity, language) is named in
    /// the `AuthorDefaults`, to be taken from the author's preferences: by
    /// the post's own transaction, so nothing is read before it.
    pub(crate) async fn prepare_post(
        &self,
        me: Id,
        app_id: Id,
        input: PostInput,
    ) -> ServiceResult<(NewStatus, AuthorDefaults)> {
        let limits = self.limits();
        let text = input.status.unwrap_or_default();
        let media_ids = self.check_media_ids(&input.media_ids)?;
        let poll = self.check_poll(input.poll.as_ref(), &media_ids)?;
        // With media, the text may be empty (a picture alone is a post).
        if text.trim().is_empty() && media_ids.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: Text can't be blank".into(),
            ));
        }
        let spoiler_text = input.spoiler_text.unwrap_or_default();
        self.check_length(&text, &spoiler_text)?;
        let visibility = match input.visibility.as_deref().filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(Visibility::parse(v)
                .ok_or_else(|| ServiceError::Unprocessable(format!("Validation failed: Visibility is not one of public, unlisted, private, direct ({v})")))?),
        };
        let language = self.check_language(input.language)?;
        let defaults = AuthorDefaults {
            visibility: visibility.is_none(),
            sensitive: input.sensitive.is_none(),
            language: language.is_none(),
        };
        if let Some(key) = &input.idempotency_key {
            if key.is_empty() || key.chars().count() > limits.idempotency_key_max_chars {
                return Err(ServiceError::Unprocessable(format!(
                    "Idempotency-Key must be 1 to {} characters",
                    limits.idempotency_key_max_chars
                )));
            }
        }
        if let Some(parent) = input.in_reply_to_id {
            // Replying to what you may not see is replying to nothing.
            if !self.store.status_visible(Some(me), parent).await? {
                return Err(ServiceError::NotFound(
                    "Record not found: the status you are replying to".into(),
                ));
            }
        }
        let composed = self.compose(&text).await;
        let new = NewStatus {
            account_id: me,
            text,
            content: composed.content,
            spoiler_text,
            // Until `defaults` fills in what was left unsaid.
            sensitive: input.sensitive.unwrap_or(false),
            visibility: visibility.unwrap_or(Visibility::Public),
            language,
            in_reply_to: input.in_reply_to_id,
            app_id: Some(app_id),
            mentions: composed.mentions,
            tags: composed.tags,
            idempotency_key: input.idempotency_key,
            media_ids,
            poll,
        };
        Ok((new, defaults))
    }

    /// The uploads, each once (the same upload twice in one post is one
    /// attachment, as in Mastodon), at most `statuses_media_max`.
    pub(crate) fn check_media_ids(&self, ids: &[Id]) -> ServiceResult<Vec<Id>> {
        let mut media_ids: Vec<Id> = Vec::with_capacity(ids.len());
        for id in ids {
            if !media_ids.contains(id) {
                media_ids.push(*id);
            }
        }
        let max = self.limits().statuses_media_max;
        if media_ids.len() > max {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: at most {max} media attachments per status"
            )));
        }
        Ok(media_ids)
    }

    /// Mastodon counts the content warning against the same limit as the text.
    pub(crate) fn check_length(&self, text: &str, spoiler_text: &str) -> ServiceResult<()> {
        let limits = self.limits();
        let length =
            text::mastodon_length(text, limits.status_url_chars) + spoiler_text.chars().count();
        if length > limits.status_max_chars {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: Text character limit of {} exceeded",
                limits.status_max_chars
            )));
        }
        Ok(())
    }

    /// A language code as given (None for none or empty), or 422.
    pub(crate) fn check_language(&self, language: Option<String>) -> ServiceResult<Option<String>> {
        match language.filter(|l| !l.is_empty()) {
            Some(l) if !crate::oauth::valid_language(&l, self.limits().language_max_chars) => {
                Err(ServiceError::Unprocessable(
                    "Validation failed: Language is not a valid language code".into(),
                ))
            }
            other => Ok(other),
        }
    }

    /// Renders the text once and resolves its mentions (local accounts
    /// only; unknown names stay plain text) and hashtags, within the limits.
    pub(crate) async fn compose(&self, text: &str) -> Composed {
        let limits = self.limits();
        let mut mentioned: Vec<AccountRow> = Vec::new();
        for (username, domain) in text::mentions(text)
            .into_iter()
            .take(limits.mentions_per_status_max)
        {
            if domain
                .as_deref()
                .is_some_and(|d| !d.eq_ignore_ascii_case(&self.config.domain))
            {
                continue;
            }
            if let Ok(a) = self.store.account_by_username(&username).await {
                if !a.suspended && a.approved {
                    mentioned.push(a);
                }
            }
        }
        let resolve = |username: &str, domain: Option<&str>| -> Option<ResolvedMention> {
            if domain.is_some_and(|d| !d.eq_ignore_ascii_case(&self.config.domain)) {
                return None;
            }
            mentioned
                .iter()
                .find(|a| a.username.eq_ignore_ascii_case(username))
                .map(|a| ResolvedMention {
                    username: a.username.clone(),
                })
        };
        let content = text::render_html(text, &self.base_url, &resolve);
        let mut tags = text::hashtags(text);
        tags.truncate(limits.tags_per_status_max);
        let mut mentions: Vec<Id> = Vec::with_capacity(mentioned.len());
        for a in &mentioned {
            if !mentions.contains(&a.id) {
                mentions.push(a.id);
            }
        }
        Composed {
            content,
            mentions,
            tags,
        }
    }

    /// Streams a new status, pokes everyone it notified, and wakes a home
    /// fan-out worker for the job the post queued.
    pub(crate) fn announce_post(&self, bundle: &StatusBundle) {
        self.wake_fanout();
        let event = StatusEvent::of(bundle);
        for account_id in &event.mentions {
            if *account_id != event.account_id {
                self.events.publish(Event::Notified {
                    account_id: *account_id,
                });
            }
        }
        if let Some(author) = event.reblog_of_account_id {
            if author != event.account_id {
                self.events.publish(Event::Notified { account_id: author });
            }
        }
        self.events.publish(Event::Posted(event));
    }

    /// Pokes `account_id`'s streams to fetch its new notifications (not for one's own actions).
    pub(crate) fn announce_notified(&self, me: Id, account_id: Id) {
        if me != account_id {
            self.events.publish(Event::Notified { account_id });
        }
    }

    /// One status as the viewer sees it, or 404.
    pub async fn status(&self, viewer: Option<Id>, id: Id) -> ServiceResult<StatusBundle> {
        self.store
            .visible_status_bundle(viewer, id)
            .await?
            .ok_or_else(ServiceError::not_found)
    }

    /// `GET /api/v1/statuses/:id`: the status with the viewer's filter
    /// matches in every context (`annotate_filters`).
    pub async fn show_status(&self, viewer: Option<Id>, id: Id) -> ServiceResult<StatusBundle> {
        let bundle = self.status(viewer, id).await?;
        self.annotate_filters(viewer, vec![bundle])
            .await?
            .pop()
            .ok_or_else(ServiceError::not_found)
    }

    pub async fn bundles(
        &self,
        viewer: Option<Id>,
        ids: &[Id],
    ) -> ServiceResult<Vec<StatusBundle>> {
        Ok(self.store.status_bundles(viewer, ids).await?)
    }

    /// Deletes the caller's own status and returns it as it was, with its source text.
    pub async fn delete_status(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let before = self.status(Some(me), id).await?;
        if before.status.account_id != me {
            return Err(ServiceError::not_found());
        }
        // Its reblogs go with it; streams are told about each.
        let reblogs = if before.status.reblog_of_id.is_none() {
            self.reblogs_of(id, None).await
        } else {
            Vec::new()
        };
        self.store.delete_status(me, id).await?;
        let gone = StatusEvent::of(&before);
        for (reblog_id, by) in reblogs {
            self.events
                .publish(Event::Deleted(gone.reblog_by(reblog_id, by)));
        }
        self.events.publish(Event::Deleted(gone));
        // The rows went with the status (cascade); now the bytes.
        let keys: Vec<String> = before
            .media
            .iter()
            .flat_map(|m| [m.file_key.clone(), m.preview_key.clone()])
            .collect();
        self.forget_media(&keys).await;
        Ok(before)
    }

    pub async fn context(
        &self,
        viewer: Option<Id>,
        id: Id,
    ) -> ServiceResult<(Vec<StatusBundle>, Vec<StatusBundle>)> {
        self.status(viewer, id).await?;
        let (up, down) = self
            .store
            .context(viewer, id, self.limits().context_statuses_max)
            .await?;
        let thread = holdfast_store::FilterContext::Thread;
        let up = self.bundles(viewer, &up).await?;
        let down = self.bundles(viewer, &down).await?;
        Ok((
            self.apply_filters(viewer, thread, up).await?,
            self.apply_filters(viewer, thread, down).await?,
        ))
    }

    /// The status an action acts on, as `me` sees it, loaded once: a reblog
    /// stands for the status it reblogged, as in Mastodon. The action writes,
    /// then [`acted`] brings this copy up to date instead of loading it again.
    async fn action_target(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let bundle = self.status(Some(me), id).await?;
        Ok(match bundle.reblog {
            Some(original) => *original,
            None => bundle,
        })
    }

    pub async fn favourite(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut target = self.action_target(me, id).await?;
        self.store.favourite(me, target.status.id).await?;
        let s = &mut target.status;
        acted(&mut target.favourited, true, &mut s.favourites_count);
        self.announce_notified(me, target.status.account_id);
        Ok(target)
    }

    pub async fn unfavourite(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut target = self.action_target(me, id).await?;
        self.store.unfavourite(me, target.status.id).await?;
        let s = &mut target.status;
        acted(&mut target.favourited, false, &mut s.favourites_count);
        Ok(target)
    }

    pub async fn reblog(
        &self,
        me: Id,
        id: Id,
        visibility: Option<&str>,
    ) -> ServiceResult<StatusBundle> {
        let started_ms = holdfast_config::time::now_ms();
        let mut target = self.action_target(me, id).await?;
        let original = &target.status;
        // Only what anyone may see can be boosted; a private post may be boosted by its author only.
        let allowed = match original.visibility {
            Visibility::Public | Visibility::Unlisted => true,
            Visibility::Private => original.account_id == me,
            Visibility::Direct => false,
        };
        if !allowed {
            return Err(ServiceError::forbidden());
        }
        let requested = match visibility.filter(|v| !v.is_empty()) {
            None => Visibility::Public,
            Some(v) => Visibility::parse(v)
                .filter(|v| *v != Visibility::Direct)
                .ok_or_else(|| {
                    ServiceError::Unprocessable(
                        "Validation failed: Visibility is invalid for a reblog".into(),
                    )
                })?,
        };
        // A reblog is never more visible than what it reblogs.
        let visibility = if (requested as i64) < (original.visibility as i64) {
            original.visibility
        } else {
            requested
        };
        let reblog_id = self.store.reblog(me, original.id, visibility).await?;
        // The reblog is a new status (or the one made before): its own row
        // and author, wrapped around the original we already hold.
        let row = self.store.status(reblog_id).await?;
        let author = self.store.account(me).await?;
        let s = &mut target.status;
        acted(&mut target.reblogged, true, &mut s.reblogs_count);
        let bundle = StatusBundle {
            status: row,
            account: author,
            mentions: Vec::new(),
            tags: Vec::new(),
            favourited: false,
            reblogged: false,
            bookmarked: false,
            muted: target.muted,
            media: Vec::new(),
            pinned: false,
            poll: None,
            reblog: Some(Box::new(target)),
            filtered: Vec::new(),
        };
        // Reblogging again returns the existing reblog: announced once, when it was made.
        if bundle.status.created_at_ms >= started_ms {
            self.announce_post(&bundle);
        }
        Ok(bundle)
    }

    pub async fn unreblog(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut target = self.action_target(me, id).await?;
        let mine = self.reblogs_of(target.status.id, Some(me)).await;
        self.store.unreblog(me, target.status.id).await?;
        let s = &mut target.status;
        acted(&mut target.reblogged, false, &mut s.reblogs_count);
        let original = StatusEvent::of(&target);
        for (reblog_id, by) in mine {
            self.events
                .publish(Event::Deleted(original.reblog_by(reblog_id, by)));
        }
        Ok(target)
    }

    /// (reblog id, reblogger) of the reblogs of `status_id` (only `by`'s when
    /// given), for announcing their deletion; bounded, best effort.
    async fn reblogs_of(&self, status_id: Id, by: Option<Id>) -> Vec<(Id, Id)> {
        let (page_size, pages_max) = (
            self.limits().reblog_deletions_page,
            self.limits().reblog_deletions_pages_max,
        );
        let mut out = Vec::new();
        let mut max_id = None;
        for _ in 0..pages_max {
            let page = holdfast_store::Page {
                max_id,
                since_id: None,
                min_id: None,
                limit: page_size,
            };
            let Ok(rows) = self.store.reblogged_by(status_id, page).await else {
                break;
            };
            for r in &rows {
                if by.is_none_or(|b| b == r.item) {
                    out.push((r.cursor, r.item));
                }
            }
            if rows.len() < page_size as usize || (by.is_some() && !out.is_empty()) {
                break;
            }
            max_id = rows.last().map(|r| r.cursor);
        }
        out
    }

    pub async fn bookmark(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut target = self.action_target(me, id).await?;
        self.store.bookmark(me, target.status.id).await?;
        target.bookmarked = true;
        Ok(target)
    }

    pub async fn unbookmark(&self, me: Id, id: Id) -> ServiceResult<StatusBundle> {
        let mut target = self.action_target(me, id).await?;
        self.store.unbookmark(me, target.status.id).await?;
        target.bookmarked = false;
        Ok(target)
    }

    pub async fn favourited_by(
        &self,
        viewer: Option<Id>,
        id: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        self.status(viewer, id).await?;
        let page = self.accounts_page_bounds(req);
        let paged = self.store.favourited_by(id, page).await?;
        self.account_page(paged).await
    }

    pub async fn reblogged_by(
        &self,
        viewer: Option<Id>,
        id: Id,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        self.status(viewer, id).await?;
        let page = self.accounts_page_bounds(req);
        let paged = self.store.reblogged_by(id, page).await?;
        self.account_page(paged).await
    }
}

/// Brings a loaded status up to date after an idempotent action wrote
/// `now` for the caller: the caller's flag, and the count only if the flag
/// changed (favouriting twice counts once, as the store does).
fn acted(flag: &mut bool, now: bool, count: &mut i64) {
    if *flag != now {
        *flag = now;
        *count = if now { *count + 1 } else { (*count - 1).max(0) };
    }
}
