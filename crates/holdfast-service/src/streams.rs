//! The questions a live stream asks about one event, answered by the same
//! queries as the REST timelines (narrowed to one id), so streaming has no
//! visibility rule of its own.

use holdfast_store::{AccountRow, Id, Page};

use crate::{Service, ServiceResult};

/// A timeline a stream shows.
pub enum StreamTimeline<'a> {
    Home(Id),
    Public {
        viewer: Option<Id>,
        only_media: bool,
    },
    Tag {
        viewer: Option<Id>,
        tag: &'a str,
    },
}

impl Service {
    /// Whether status `id` is in `timeline` as its reader sees it. A failed
    /// check is logged and answers no: the event is skipped, never leaked.
    pub async fn timeline_holds(&self, timeline: StreamTimeline<'_>, id: Id) -> bool {
        let around = Page {
            max_id: Some(id.saturating_add(1)),
            since_id: Some(id.saturating_sub(1)),
            min_id: None,
            limit: 1,
        };
        let page = match timeline {
            StreamTimeline::Home(me) => self.store.home_timeline(me, around).await,
            StreamTimeline::Public { viewer, only_media } => {
                self.store.public_timeline(viewer, only_media, around).await
            }
            StreamTimeline::Tag { viewer, tag } => {
                self.store.tag_timeline(viewer, tag, around).await
            }
        };
        match page {
            Ok(page) => page.iter().any(|p| p.item == id),
            Err(e) => {
                tracing::warn!(error = %e, "streaming: visibility check failed; event skipped");
                false
            }
        }
    }

    /// A direct message reaches a participant who may see it, unless they
    /// block or mute its author (or are blocked by them).
    pub async fn may_see_direct(&self, viewer: Id, status_id: Id, author: Id) -> bool {
        if !self
            .store
            .status_visible(Some(viewer), status_id)
            .await
            .unwrap_or(false)
        {
            return false;
        }
        if author == viewer {
            return true;
        }
        match self.store.relationships(viewer, &[author]).await {
            Ok(rels) => !rels
                .first()
                .is_some_and(|r| r.blocking || r.blocked_by || r.muting),
            Err(_) => false,
        }
    }

    /// Whether `viewer` follows `author` (false when it cannot be told).
    pub async fn follows(&self, viewer: Id, author: Id) -> bool {
        self.store
            .relationships(viewer, &[author])
            .await
            .ok()
            .and_then(|r| r.first().map(|r| r.following))
            .unwrap_or(false)
    }

    /// The accounts taking part in a conversation (author and mentions,
    /// already bounded by `mentions_per_status_max`).
    pub async fn participants(&self, ids: &[Id]) -> ServiceResult<Vec<AccountRow>> {
        Ok(self.store.accounts(ids).await?)
    }
}
