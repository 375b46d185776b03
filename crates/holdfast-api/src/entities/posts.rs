//! Poll, StatusEdit, StatusSource and ScheduledStatus: what comes with a
//! status after it is posted.

use holdfast_service::posts::poll_expired;
use holdfast_store::{MediaRow, PollView, ScheduledStatusRow, StatusBundle, StatusVersion};
use serde::Serialize;

use super::{id, iso8601, Account, CustomEmoji, MediaAttachment, Urls};

#[derive(Serialize)]
pub struct Poll {
    pub id: String,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub multiple: bool,
    pub votes_count: i64,
    /// Null for a single-choice poll (the docs), where it equals `votes_count`.
    pub voters_count: Option<i64>,
    pub options: Vec<PollOption>,
    pub emojis: Vec<CustomEmoji>,
    /// Sent always: false and empty for a viewer who has not voted (or anonymous).
    pub voted: Option<bool>,
    pub own_votes: Option<Vec<u32>>,
}

#[derive(Serialize)]
pub struct PollOption {
    pub title: String,
    /// Null while the totals are hidden (`hide_totals`) and the poll runs.
    pub votes_count: Option<i64>,
}

impl Poll {
    pub fn new(p: &PollView) -> Poll {
        let expired = poll_expired(p, holdfast_config::time::now_ms());
        let hidden = p.hide_totals && !expired;
        Poll {
            id: id(p.id),
            expires_at: Some(iso8601(p.expires_at_ms)),
            expired,
            multiple: p.multiple,
            votes_count: p.votes_count,
            voters_count: p.multiple.then_some(p.voters_count),
            options: p
                .options
                .iter()
                .map(|o| PollOption {
                    title: o.title.clone(),
                    votes_count: (!hidden).then_some(o.votes_count),
                })
                .collect(),
            emojis: Vec::new(),
            voted: Some(!p.own_votes.is_empty()),
            own_votes: Some(p.own_votes.clone()),
        }
    }
}

/// One version of a status in its history.
#[derive(Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: String,
    pub account: Account,
    /// Only for a version that had a poll: its options then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poll: Option<StatusEditPoll>,
    pub media_attachments: Vec<MediaAttachment>,
    pub emojis: Vec<CustomEmoji>,
}

#[derive(Serialize)]
pub struct StatusEditPoll {
    pub options: Vec<StatusEditPollOption>,
}

#[derive(Serialize)]
pub struct StatusEditPollOption {
    pub title: String,
}

impl StatusEdit {
    pub fn list(urls: &Urls, status: &StatusBundle, versions: &[StatusVersion]) -> Vec<StatusEdit> {
        versions
            .iter()
            .map(|v| StatusEdit {
                content: v.content.clone(),
                spoiler_text: v.spoiler_text.clone(),
                sensitive: v.sensitive,
                created_at: iso8601(v.created_at_ms),
                account: Account::new(urls, &status.account),
                poll: v.poll_options.as_ref().map(|options| StatusEditPoll {
                    options: options
                        .iter()
                        .map(|title| StatusEditPollOption {
                            title: title.clone(),
                        })
                        .collect(),
                }),
                media_attachments: media(urls, &v.media),
                emojis: Vec::new(),
            })
            .collect()
    }
}

fn media(urls: &Urls, rows: &[MediaRow]) -> Vec<MediaAttachment> {
    rows.iter().map(|m| MediaAttachment::new(urls, m)).collect()
}

/// The text of a status as its author typed it, for editing.
#[derive(Serialize)]
pub struct StatusSource {
    pub id: String,
    pub text: String,
    pub spoiler_text: String,
}

impl StatusSource {
    pub fn new(b: &StatusBundle) -> StatusSource {
        StatusSource {
            id: id(b.status.id),
            text: b.status.text.clone(),
            spoiler_text: b.status.spoiler_text.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct ScheduledStatus {
    pub id: String,
    pub scheduled_at: String,
    pub params: ScheduledParams,
    pub media_attachments: Vec<MediaAttachment>,
}

/// The parameters the status will be posted with, as Mastodon keeps them.
#[derive(Serialize)]
pub struct ScheduledParams {
    pub text: String,
    pub poll: Option<ScheduledPoll>,
    pub media_ids: Option<Vec<String>>,
    pub sensitive: Option<bool>,
    pub spoiler_text: Option<String>,
    pub visibility: &'static str,
    pub in_reply_to_id: Option<String>,
    pub language: Option<String>,
    /// Deprecated in the docs; the app that scheduled it.
    pub application_id: Option<i64>,
    /// Always null: a status is scheduled once (the docs).
    pub scheduled_at: Option<String>,
    pub idempotency: Option<String>,
    /// Deprecated in the docs; holdfast applies no per-status rate limit.
    pub with_rate_limit: bool,
}

#[derive(Serialize)]
pub struct ScheduledPoll {
    pub options: Vec<String>,
    pub expires_in: String,
    pub multiple: bool,
    pub hide_totals: bool,
}

impl ScheduledStatus {
    pub fn new(urls: &Urls, s: &ScheduledStatusRow) -> ScheduledStatus {
        ScheduledStatus {
            id: id(s.id),
            scheduled_at: iso8601(s.scheduled_at_ms),
            params: ScheduledParams {
                text: s.text.clone(),
                poll: s.poll.as_ref().map(|p| ScheduledPoll {
                    options: p.options.clone(),
                    expires_in: p.expires_in_s.to_string(),
                    multiple: p.multiple,
                    hide_totals: p.hide_totals,
                }),
                media_ids: (!s.media_ids.is_empty())
                    .then(|| s.media_ids.iter().map(|m| id(*m)).collect()),
                sensitive: Some(s.sensitive),
                spoiler_text: (!s.spoiler_text.is_empty()).then(|| s.spoiler_text.clone()),
                visibility: s.visibility.as_str(),
                in_reply_to_id: s.in_reply_to_id.map(id),
                language: s.language.clone(),
                application_id: s.app_id,
                scheduled_at: None,
                idempotency: s.idempotency_key.clone(),
                with_rate_limit: false,
            },
            media_attachments: media(urls, &s.media),
        }
    }
}
