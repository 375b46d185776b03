//! Grouped notifications (Mastodon's `/api/v2/notifications`, API version 2)
//! and unread counts. Grouping follows Mastodon: favourites and reblogs of one
//! status, and follows, arriving within 12 hours share a group (the key is
//! set by the store when the notification is written); everything else is a
//! group of one, `ungrouped-<id>`.

use std::collections::HashSet;

use holdfast_store::groups::{ungrouped_id, GROUPABLE};
use holdfast_store::{
    AccountRow, FilterContext, Id, NotificationGroupRow, NotificationRow, NotificationType, Page,
    ReportRow, StatusBundle, StoreError,
};

use crate::{PageOf, PageRequest, Service, ServiceError, ServiceResult};

/// Which notifications a grouped query looks at, as the client said it.
#[derive(Clone, Debug, Default)]
pub struct GroupFilter {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    /// `grouped_types[]`: None (or empty) means every type Mastodon groups.
    pub grouped_types: Option<Vec<String>>,
    /// `account_id`: only notifications from this account.
    pub from_account: Option<Id>,
}

/// Where a group sits in the page it was returned in.
#[derive(Clone, Debug)]
pub struct GroupPageData {
    pub min_id: Id,
    pub max_id: Id,
    pub latest_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct NotificationGroup {
    pub group_key: String,
    pub kind: NotificationType,
    pub count: i64,
    pub most_recent_id: Id,
    /// Present when the group comes from a page (`GET /api/v2/notifications`).
    pub page: Option<GroupPageData>,
    pub sample_account_ids: Vec<Id>,
    pub status_id: Option<Id>,
    /// An `admin.report` group's report.
    pub report_id: Option<Id>,
}

/// What `/api/v2/notifications` renders: groups plus the accounts and
/// statuses they refer to, each once.
#[derive(Debug, Default)]
pub struct GroupedNotifications {
    pub groups: Vec<NotificationGroup>,
    /// Accounts rendered in full.
    pub accounts: Vec<AccountRow>,
    /// With `expand_accounts=partial_avatars`: the other sample accounts, rendered in part.
    pub partial_accounts: Vec<AccountRow>,
    pub statuses: Vec<StatusBundle>,
    /// The reports of `admin.report` groups, with the reported accounts.
    pub reports: Vec<(ReportRow, AccountRow)>,
}

impl GroupFilter {
    fn wanted(&self) -> Vec<NotificationType> {
        NotificationType::ALL
            .into_iter()
            .filter(|t| self.types.is_empty() || self.types.iter().any(|x| x == t.as_str()))
            .filter(|t| !self.exclude_types.iter().any(|x| x == t.as_str()))
            .collect()
    }

    fn grouped(&self) -> Vec<NotificationType> {
        match &self.grouped_types {
            Some(list) if !list.is_empty() => GROUPABLE
                .into_iter()
                .filter(|t| list.iter().any(|x| x == t.as_str()))
                .collect(),
            _ => GROUPABLE.to_vec(),
        }
    }
}

impl Service {
    /// `GET /api/v2/notifications`: one page of groups, newest first.
    pub async fn notification_groups(
        &self,
        me: Id,
        filter: &GroupFilter,
        req: PageRequest,
        partial_avatars: bool,
    ) -> ServiceResult<PageOf<GroupedNotifications>> {
        let limits = self.limits();
        let page = req.page(
            limits.notifications_page_default,
            limits.notifications_page_max,
        );
        let grouped = filter.grouped();
        let found = self
            .store
            .notification_group_page(
                me,
                &filter.wanted(),
                &grouped,
                filter.from_account,
                page,
                limits.notification_groups_scan_max,
            )
            .await?;
        let rows = found.rows;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(PageOf {
                items: vec![GroupedNotifications::default()],
                next_max_id: None,
                prev_min_id: None,
            });
        };
        let (first_id, last_id) = (first.id, last.id);
        // The ids the page's group data is counted over (Mastodon's
        // pagination range): the page itself, reaching past it on the side
        // where the page ran out (nothing more lies there).
        let ascending = page.min_id.is_some();
        let mut from = Some(last_id);
        let mut until = Some(first_id);
        let mut next_max_id = last_id;
        let mut prev_min_id = first_id;
        if rows.len() < page.limit as usize {
            match (found.scan_stopped_at, ascending) {
                (Some(edge), false) => {
                    from = Some(edge.min(last_id));
                    next_max_id = edge.min(last_id);
                }
                (Some(edge), true) => {
                    until = Some(edge.max(first_id));
                    prev_min_id = edge.max(first_id);
                }
                (None, false) => from = page.since_id.map(|s| s + 1),
                (None, true) => until = page.max_id.map(|m| m - 1),
            }
        }
        let groups = self
            .assemble_groups(me, rows, &grouped, from, until, true)
            .await?;
        let out = self.with_references(me, groups, partial_avatars).await?;
        Ok(PageOf {
            items: vec![out],
            next_max_id: Some(next_max_id),
            prev_min_id: Some(prev_min_id),
        })
    }

    /// `GET /api/v2/notifications/:group_key`: one group, whole.
    pub async fn notification_group(
        &self,
        me: Id,
        group_key: &str,
    ) -> ServiceResult<GroupedNotifications> {
        let row = match ungrouped_id(group_key) {
            Some(id) => self.store.notification(me, id).await?,
            None => {
                self.store
                    .group_notifications(
                        me,
                        group_key,
                        Page {
                            limit: 1,
                            ..Page::default()
                        },
                    )
                    .await?
                    .pop()
                    .ok_or_else(ServiceError::not_found)?
                    .item
            }
        };
        let groups = self
            .assemble_groups(me, vec![row], &GROUPABLE, None, None, false)
            .await?;
        self.with_references(me, groups, false).await
    }

    /// `POST /api/v2/notifications/:group_key/dismiss`: nothing to dismiss is not an error.
    pub async fn dismiss_notification_group(&self, me: Id, group_key: &str) -> ServiceResult<()> {
        match ungrouped_id(group_key) {
            Some(id) => match self.store.dismiss_notification(me, id).await {
                Ok(()) | Err(StoreError::NotFound) => Ok(()),
                Err(e) => Err(e.into()),
            },
            None => Ok(self.store.dismiss_notification_group(me, group_key).await?),
        }
    }

    /// `GET /api/v2/notifications/:group_key/accounts`: who is behind a group, newest first.
    pub async fn notification_group_accounts(
        &self,
        me: Id,
        group_key: &str,
        req: PageRequest,
    ) -> ServiceResult<PageOf<AccountRow>> {
        let page = self.accounts_page_bounds(req);
        let paged = match ungrouped_id(group_key) {
            Some(id) => match self.store.notification(me, id).await {
                Ok(n) if page.limit > 0 && within(&page, n.id) => vec![holdfast_store::Paged {
                    cursor: n.id,
                    item: n.from_account_id,
                }],
                Ok(_) | Err(StoreError::NotFound) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            None => self
                .store
                .group_notifications(me, group_key, page)
                .await?
                .into_iter()
                .map(|p| holdfast_store::Paged {
                    cursor: p.cursor,
                    item: p.item.from_account_id,
                })
                .collect(),
        };
        self.account_page(paged).await
    }

    /// Unread notifications (newer than the `notifications` marker), counted up
    /// to `limit`; `grouped` counts each group once (`/api/v2/...`).
    pub async fn unread_notifications(
        &self,
        me: Id,
        filter: &GroupFilter,
        grouped: bool,
        limit: Option<u32>,
    ) -> ServiceResult<u32> {
        let limits = self.limits();
        let limit = limit
            .unwrap_or(limits.unread_count_default)
            .min(limits.unread_count_max);
        let marker = self
            .store
            .markers(me)
            .await?
            .into_iter()
            .find(|m| m.timeline == "notifications")
            .map(|m| m.last_read_id);
        let grouped_types = if grouped {
            filter.grouped()
        } else {
            Vec::new()
        };
        Ok(self
            .store
            .unread_notifications(
                me,
                &filter.wanted(),
                &grouped_types,
                filter.from_account,
                marker,
                limit,
                limits.notification_groups_scan_max,
            )
            .await?)
    }

    async fn assemble_groups(
        &self,
        me: Id,
        rows: Vec<NotificationRow>,
        grouped: &[NotificationType],
        from: Option<Id>,
        until: Option<Id>,
        paged: bool,
    ) -> ServiceResult<Vec<NotificationGroup>> {
        let key_of = |n: &NotificationRow| -> Option<String> {
            n.group_key.clone().filter(|_| grouped.contains(&n.kind))
        };
        let keys: Vec<String> = rows.iter().filter_map(key_of).collect();
        let data: Vec<NotificationGroupRow> = self
            .store
            .notification_groups(
                me,
                &keys,
                from,
                until,
                self.limits().notification_group_samples_max,
            )
            .await?;
        Ok(rows
            .iter()
            .map(|n| {
                let found = key_of(n).and_then(|k| data.iter().find(|d| d.group_key == k));
                match found {
                    Some(d) => NotificationGroup {
                        group_key: d.group_key.clone(),
                        kind: n.kind,
                        count: d.count,
                        most_recent_id: d.most_recent_id,
                        page: paged.then(|| GroupPageData {
                            min_id: d.oldest_in_range_id.unwrap_or(n.id),
                            max_id: d.most_recent_id,
                            latest_at_ms: d.most_recent_at_ms,
                        }),
                        sample_account_ids: d.sample_account_ids.clone(),
                        status_id: n.status_id,
                        report_id: n.report_id,
                    },
                    None => NotificationGroup {
                        group_key: format!("ungrouped-{}", n.id),
                        kind: n.kind,
                        count: 1,
                        most_recent_id: n.id,
                        page: paged.then_some(GroupPageData {
                            min_id: n.id,
                            max_id: n.id,
                            latest_at_ms: n.created_at_ms,
                        }),
                        sample_account_ids: vec![n.from_account_id],
                        status_id: n.status_id,
                        report_id: n.report_id,
                    },
                }
            })
            .collect())
    }

    /// Loads the accounts and statuses the groups refer to, each once.
    async fn with_references(
        &self,
        me: Id,
        groups: Vec<NotificationGroup>,
        partial_avatars: bool,
    ) -> ServiceResult<GroupedNotifications> {
        let mut seen = HashSet::new();
        let mut full_ids = Vec::new();
        let mut partial_ids = Vec::new();
        for g in &groups {
            for (i, id) in g.sample_account_ids.iter().enumerate() {
                if partial_avatars && i > 0 {
                    continue;
                }
                if seen.insert(*id) {
                    full_ids.push(*id);
                }
            }
        }
        if partial_avatars {
            for g in &groups {
                for id in g.sample_account_ids.iter().skip(1) {
                    if seen.insert(*id) {
                        partial_ids.push(*id);
                    }
                }
            }
        }
        let mut status_ids: Vec<Id> = Vec::new();
        for id in groups.iter().filter_map(|g| g.status_id) {
            if !status_ids.contains(&id) {
                status_ids.push(id);
            }
        }
        let accounts = self.store.accounts(&full_ids).await?;
        let partial_accounts = self.store.accounts(&partial_ids).await?;
        let statuses = self.bundles(Some(me), &status_ids).await?;
        // A group about a status the reader's filters hide goes with it.
        let statuses = self
            .apply_filters(Some(me), FilterContext::Notifications, statuses)
            .await?;
        let report_ids: Vec<Id> = groups.iter().filter_map(|g| g.report_id).collect();
        let reports = self.notified_reports(&report_ids).await?;
        let groups = groups
            .into_iter()
            .filter(|g| {
                g.status_id
                    .is_none_or(|id| statuses.iter().any(|s| s.status.id == id))
                    && g.report_id
                        .is_none_or(|id| reports.iter().any(|(r, _)| r.id == id))
            })
            .collect();
        Ok(GroupedNotifications {
            groups,
            accounts,
            partial_accounts,
            statuses,
            reports,
        })
    }
}

fn within(page: &Page, id: Id) -> bool {
    page.max_id.is_none_or(|m| id < m)
        && page.since_id.is_none_or(|s| id > s)
        && page.min_id.is_none_or(|m| id > m)
}
