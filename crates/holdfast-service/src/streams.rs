//! The questions a live stream asks about one event, answered by the same
//! queries as the REST timelines (narrowed to one id), so streaming has no
//! visibility rule of its own.
//!
//! Public and hashtag streams share their answers per event (`EventMemo`):
//! whether the status is in the timeline for nobody in particular, and who
//! hides its author. For a public status that is exactly the REST rule per
//! viewer (`sql::visible` and `sql::not_filtered` differ from the anonymous
//! case only by blocks and mutes), so 10k subscribers cost two queries, not
//! 10k.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};

use holdfast_store::{AccountRow, Id, Page};
use tokio::sync::OnceCell;

use crate::{Service, ServiceResult};

/// The answers the subscribers of one event share, each asked at most once
/// (the first subscriber asks, the others wait for its answer).
#[derive(Default)]
pub struct EventMemo {
    /// In the public timeline for an anonymous reader; by `only_media`.
    public: [OnceCell<bool>; 2],
    /// In the tag's timeline for an anonymous reader; by lowercased tag.
    tags: Mutex<HashMap<String, Arc<OnceCell<bool>>>>,
    /// `Store::hiders_of` the author; `None`: too many, or not known.
    hiders: OnceCell<Option<HashSet<Id>>>,
    /// The status rendered for no viewer in particular (what public and
    /// hashtag streams send, as Mastodon's do), as the client's JSON text.
    anonymous: OnceCell<Option<Arc<str>>>,
}

impl EventMemo {
    /// The anonymous rendering, made by `render` once per event.
    pub async fn anonymous<F, Fut>(&self, render: F) -> Option<Arc<str>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Option<Arc<str>>>,
    {
        self.anonymous.get_or_init(render).await.clone()
    }
}

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

    /// Whether the public status `id` by `author` is in `viewer`'s public
    /// timeline (`only_media`), from the answers shared per event.
    pub async fn public_holds(
        &self,
        memo: &EventMemo,
        viewer: Option<Id>,
        only_media: bool,
        id: Id,
        author: Id,
    ) -> bool {
        let anyone = *memo.public[usize::from(only_media)]
            .get_or_init(|| {
                self.timeline_holds(
                    StreamTimeline::Public {
                        viewer: None,
                        only_media,
                    },
                    id,
                )
            })
            .await;
        anyone
            && self
                .not_hidden(memo, viewer, author, || {
                    self.timeline_holds(StreamTimeline::Public { viewer, only_media }, id)
                })
                .await
    }

    /// Whether the public status `id` by `author` is in `viewer`'s timeline
    /// of `tag` (lowercased), from the answers shared per event.
    pub async fn tag_holds(
        &self,
        memo: &EventMemo,
        viewer: Option<Id>,
        tag: &str,
        id: Id,
        author: Id,
    ) -> bool {
        let cell = memo
            .tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(tag.to_owned())
            .or_default()
            .clone();
        let anyone = *cell
            .get_or_init(|| self.timeline_holds(StreamTimeline::Tag { viewer: None, tag }, id))
            .await;
        anyone
            && self
                .not_hidden(memo, viewer, author, || {
                    self.timeline_holds(StreamTimeline::Tag { viewer, tag }, id)
                })
                .await
    }

    /// A status anyone sees stays out of `viewer`'s list only if the viewer
    /// is among the author's hiders; when they are not known (too many, or
    /// the store failed), `per_viewer` asks for this viewer alone.
    async fn not_hidden<F, Fut>(
        &self,
        memo: &EventMemo,
        viewer: Option<Id>,
        author: Id,
        per_viewer: F,
    ) -> bool
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = bool>,
    {
        let Some(viewer) = viewer else {
            return true;
        };
        let hiders = memo
            .hiders
            .get_or_init(|| async {
                match self.store.hiders_of(author).await {
                    Ok(h) => h.map(|ids| ids.into_iter().collect()),
                    Err(e) => {
                        tracing::warn!(error = %e, "streaming: hiders not known; asking per viewer");
                        None
                    }
                }
            })
            .await;
        match hiders {
            Some(set) => !set.contains(&viewer),
            None => per_viewer().await,
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
