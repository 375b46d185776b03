//! Everything that returns a page: timelines, favourites, bookmarks,
//! notifications, search; and the read markers that go with them.

use holdfast_store::{
    AccountRow, AccountStatusesFilter, FilterContext, Id, Marker, NotificationRow,
    NotificationType, PageStatus, Paged, ReportRow, StatusBundle, StoreError, TagRow,
};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// Which list of statuses, and who reads it: the user-only lists carry
/// their reader's account id (`me`), the public ones an optional viewer.
pub enum Timeline<'a> {
    Home {
        me: Id,
    },
    Favourites {
        me: Id,
    },
    Bookmarks {
        me: Id,
    },
    Public {
        viewer: Option<Id>,
        only_media: bool,
    },
    Tag {
        viewer: Option<Id>,
        name: &'a str,
    },
    /// One of the reader's lists (someone else's is 404).
    List {
        me: Id,
        id: Id,
    },
    Account {
        viewer: Option<Id>,
        id: Id,
        filter: AccountStatusesFilter,
        tagged: Option<&'a str>,
    },
    /// The reader's direct statuses, written or received (`timelines/direct`,
    /// which Mastodon removed in 3.0 for conversations; apps may still ask).
    Direct {
        me: Id,
    },
}

impl Timeline<'_> {
    /// The filter context a timeline is shown in; favourites and bookmarks
    /// have none (their statuses carry every context's matches and none is
    /// hidden, as in Mastodon: `Service::annotate_filters`).
    pub fn filter_context(&self) -> Option<FilterContext> {
        match self {
            Timeline::Home { .. } | Timeline::List { .. } => Some(FilterContext::Home),
            Timeline::Public { .. } | Timeline::Tag { .. } => Some(FilterContext::Public),
            Timeline::Account { .. } => Some(FilterContext::Account),
            // Private conversations: no filter context applies, as in conversations.
            Timeline::Favourites { .. } | Timeline::Bookmarks { .. } | Timeline::Direct { .. } => {
                None
            }
        }
    }

    /// Whose eyes the statuses are rendered for (visibility, `favourited`, …).
    pub fn viewer(&self) -> Option<Id> {
        match *self {
            Timeline::Home { me }
            | Timeline::Favourites { me }
            | Timeline::Bookmarks { me }
            | Timeline::List { me, .. }
            | Timeline::Direct { me } => Some(me),
            Timeline::Public { viewer, .. }
            | Timeline::Tag { viewer, .. }
            | Timeline::Account { viewer, .. } => viewer,
        }
    }
}

pub struct NotificationView {
    pub row: NotificationRow,
    pub account: AccountRow,
    pub status: Option<StatusBundle>,
    /// An `admin.report` notification's report, with the reported account.
    pub report: Option<(ReportRow, AccountRow)>,
}

#[derive(Default)]
pub struct SearchResults {
    pub accounts: Vec<AccountRow>,
    pub statuses: Vec<StatusBundle>,
    pub hashtags: Vec<TagRow>,
}

pub const MARKER_TIMELINES: [&str; 2] = ["home", "notifications"];

fn rows(bundles: Vec<StatusBundle>) -> Vec<PageStatus> {
    bundles.into_iter().map(PageStatus::Rows).collect()
}

impl Service {
    /// A page of a timeline from the store (`Service::timeline` adds the
    /// read cache for database outages, `read_cache.rs`). With `fragments`,
    /// home statuses whose rendered JSON is kept come as it (`kept_json`).
    pub(crate) async fn timeline_from_store(
        &self,
        which: Timeline<'_>,
        req: PageRequest,
        fragments: bool,
    ) -> ServiceResult<PageOf<PageStatus>> {
        let page = req.page(
            self.limits().statuses_page_default,
            self.limits().statuses_page_max,
        );
        let viewer = which.viewer();
        let context = which.filter_context();
        if let Timeline::Home { me } = which {
            // The page and its statuses in one read of the store. Filters
            // read the text: a viewer with home filters takes rows.
            let unfiltered = fragments && !self.has_filters(viewer, FilterContext::Home).await;
            let kept = unfiltered.then(|| self.kept_json.clone());
            let (paged, statuses) = self.store.home_page(me, page, kept).await?;
            if unfiltered {
                return Ok(PageOf::map_from(&paged, statuses));
            }
            let bundles = statuses
                .into_iter()
                .filter_map(PageStatus::into_rows)
                .collect();
            let bundles = self
                .apply_filters(viewer, FilterContext::Home, bundles)
                .await?;
            return Ok(PageOf::map_from(&paged, rows(bundles)));
        }
        let paged: Vec<Paged<Id>> = match which {
            Timeline::Home { me } => self.store.home_timeline(me, page).await?,
            Timeline::Public { only_media, .. } => {
                self.store.public_timeline(viewer, only_media, page).await?
            }
            Timeline::Tag { name, .. } => self.store.tag_timeline(viewer, name, page).await?,
            Timeline::Favourites { me } => self.store.favourites(me, page).await?,
            Timeline::Bookmarks { me } => self.store.bookmarks(me, page).await?,
            Timeline::List { me, id } => self.store.list_timeline(me, id, page).await?,
            Timeline::Direct { me } => self.store.direct_timeline(me, page).await?,
            Timeline::Account {
                id, filter, tagged, ..
            } => {
                self.account(viewer, id).await?;
                self.store
                    .account_statuses(viewer, id, filter, tagged, page)
                    .await?
            }
        };
        let ids: Vec<Id> = paged.iter().map(|p| p.item).collect();
        let mut bundles = self.bundles(viewer, &ids).await?;
        bundles = match context {
            Some(context) => self.apply_filters(viewer, context, bundles).await?,
            None => self.annotate_filters(viewer, bundles).await?,
        };
        // The cursors are the fetched page's, so hiding never breaks paging.
        Ok(PageOf::map_from(&paged, rows(bundles)))
    }

    /// `types` and `exclude_types` as Mastodon takes them; unknown names are ignored, as Mastodon does.
    pub async fn notifications(
        &self,
        me: Id,
        types: &[String],
        exclude_types: &[String],
        from_account: Option<Id>,
        req: PageRequest,
    ) -> ServiceResult<PageOf<NotificationView>> {
        let wanted: Vec<NotificationType> = NotificationType::ALL
            .into_iter()
            .filter(|t| types.is_empty() || types.iter().any(|x| x == t.as_str()))
            .filter(|t| !exclude_types.iter().any(|x| x == t.as_str()))
            .collect();
        if wanted.is_empty() {
            return Ok(PageOf {
                items: Vec::new(),
                next_max_id: None,
                prev_min_id: None,
            });
        }
        let page = req.page(
            self.limits().notifications_page_default,
            self.limits().notifications_page_max,
        );
        let paged = self
            .store
            .notifications_from(me, &wanted, from_account, page)
            .await?;
        let rows: Vec<NotificationRow> = paged.iter().map(|p| p.item.clone()).collect();
        let items = self.notification_views(me, rows).await?;
        Ok(PageOf::map_from(&paged, items))
    }

    pub async fn notification(&self, me: Id, id: Id) -> ServiceResult<NotificationView> {
        let row = self.store.notification(me, id).await?;
        self.notification_views(me, vec![row])
            .await?
            .pop()
            .ok_or_else(ServiceError::not_found)
    }

    async fn notification_views(
        &self,
        me: Id,
        rows: Vec<NotificationRow>,
    ) -> ServiceResult<Vec<NotificationView>> {
        let account_ids: Vec<Id> = rows.iter().map(|r| r.from_account_id).collect();
        let status_ids: Vec<Id> = rows.iter().filter_map(|r| r.status_id).collect();
        let accounts = self.store.accounts(&account_ids).await?;
        // A notification whose status the reader's filters hide goes with it.
        let statuses = self.bundles(Some(me), &status_ids).await?;
        let statuses = self
            .apply_filters(Some(me), FilterContext::Notifications, statuses)
            .await?;
        let report_ids: Vec<Id> = rows.iter().filter_map(|r| r.report_id).collect();
        let reports = self.notified_reports(&report_ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let account = accounts
                    .iter()
                    .find(|a| a.id == row.from_account_id)?
                    .clone();
                let status = match row.status_id {
                    Some(sid) => Some(statuses.iter().find(|s| s.status.id == sid)?.clone()),
                    None => None,
                };
                let report = match row.report_id {
                    Some(rid) => Some(reports.iter().find(|(r, _)| r.id == rid)?.clone()),
                    None => None,
                };
                Some(NotificationView {
                    row,
                    account,
                    status,
                    report,
                })
            })
            .collect())
    }

    /// The reports `admin.report` notifications name (a page's worth at
    /// most), each with the reported account; a deleted one is left out.
    pub(crate) async fn notified_reports(
        &self,
        ids: &[Id],
    ) -> ServiceResult<Vec<(ReportRow, AccountRow)>> {
        let mut out: Vec<(ReportRow, AccountRow)> = Vec::with_capacity(ids.len());
        for id in ids {
            if out.iter().any(|(r, _)| r.id == *id) {
                continue;
            }
            let report = match self.store.report(*id).await {
                Ok(r) => r,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            let target = self.store.account(report.target_account_id).await?;
            out.push((report, target));
        }
        Ok(out)
    }

    pub async fn dismiss_notification(&self, me: Id, id: Id) -> ServiceResult<()> {
        Ok(self.store.dismiss_notification(me, id).await?)
    }

    pub async fn clear_notifications(&self, me: Id) -> ServiceResult<()> {
        Ok(self.store.clear_notifications(me).await?)
    }

    /// `type` narrows to accounts, hashtags or statuses; `offset` pages (bounded).
    pub async fn search(
        &self,
        viewer: Option<Id>,
        query: &str,
        kind: Option<&str>,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ServiceResult<SearchResults> {
        let limits = self.limits();
        // Control characters mean nothing in a search and some break a
        // database's query parser (a NUL was a 500 on SQLite): each becomes a space.
        let cleaned: String = query
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let query = cleaned.trim();
        if query.is_empty() {
            return Err(ServiceError::BadRequest("q is required".into()));
        }
        if query.chars().count() > limits.status_max_chars {
            return Err(ServiceError::BadRequest("q is too long".into()));
        }
        let limit = limit
            .unwrap_or(limits.search_page_default)
            .clamp(1, limits.search_page_max);
        let offset = offset.unwrap_or(0);
        if offset > limits.search_offset_max {
            return Err(ServiceError::BadRequest(format!(
                "offset may be at most {}",
                limits.search_offset_max
            )));
        }
        let (accounts, hashtags, statuses) = match kind {
            None | Some("") => (true, true, true),
            Some("accounts") => (true, false, false),
            Some("hashtags") => (false, true, false),
            Some("statuses") => (false, false, true),
            Some(other) => {
                return Err(ServiceError::BadRequest(format!(
                    "type must be accounts, hashtags or statuses, not {other}"
                )))
            }
        };
        let mut out = SearchResults::default();
        if accounts {
            let prefix = query.trim_start_matches('@');
            let prefix = prefix.split_once('@').map_or(prefix, |(name, _)| name);
            if !prefix.is_empty() {
                out.accounts = self.store.search_accounts(prefix, limit, offset).await?;
            }
        }
        if hashtags {
            let prefix = query.trim_start_matches('#');
            if !prefix.is_empty() && prefix.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.hashtags = self.store.search_tags(prefix, limit, offset).await?;
            }
        }
        if statuses {
            let ids = self
                .store
                .search_statuses(viewer, query, limit, offset)
                .await?;
            let found = self.bundles(viewer, &ids).await?;
            // Search has no context of its own: the public one applies.
            out.statuses = self
                .apply_filters(viewer, FilterContext::Public, found)
                .await?;
        }
        Ok(out)
    }

    /// (active accounts, statuses), for the instance entity.
    pub async fn stats(&self) -> ServiceResult<(i64, i64)> {
        Ok(self.store.stats().await?)
    }

    pub async fn markers(&self, me: Id, timelines: &[String]) -> ServiceResult<Vec<Marker>> {
        let all = self.store.markers(me).await?;
        Ok(all
            .into_iter()
            .filter(|m| timelines.is_empty() || timelines.contains(&m.timeline))
            .collect())
    }

    pub async fn set_markers(
        &self,
        me: Id,
        updates: &[(String, Id)],
    ) -> ServiceResult<Vec<Marker>> {
        if updates.is_empty() {
            return Err(ServiceError::Unprocessable(
                "Validation failed: give home[last_read_id] or notifications[last_read_id]".into(),
            ));
        }
        if let Some((bad, _)) = updates
            .iter()
            .find(|(t, _)| !MARKER_TIMELINES.contains(&t.as_str()))
        {
            return Err(ServiceError::Unprocessable(format!(
                "Validation failed: unknown timeline {bad}"
            )));
        }
        let mut out = Vec::new();
        for (timeline, id) in updates {
            out.push(self.store.set_marker(me, timeline, *id).await?);
        }
        Ok(out)
    }
}
