//! Notification, the grouped notifications of `/api/v2/notifications`
//! (GroupedNotificationsResults, NotificationGroup), and Marker.

use std::collections::BTreeMap;

use holdfast_service::lists::NotificationView;
use holdfast_service::notification_groups::{GroupedNotifications, NotificationGroup as Group};
use holdfast_store::{AccountRow, Marker as MarkerRow, ReportRow};
use serde::Serialize;

use super::{id, iso8601, Account, PartialAccountWithAvatar, Report, Status, Urls};

#[derive(Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub group_key: String,
    pub created_at: String,
    pub account: Account,
    /// The status it is about (absent for follows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The report an `admin.report` notification is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl Notification {
    pub fn new(urls: &Urls, n: &NotificationView) -> Notification {
        Notification {
            id: id(n.row.id),
            kind: n.row.kind.as_str(),
            group_key: n
                .row
                .group_key
                .clone()
                .unwrap_or_else(|| format!("ungrouped-{}", n.row.id)),
            created_at: iso8601(n.row.created_at_ms),
            account: Account::new(urls, &n.account),
            status: n.status.as_ref().map(|s| Status::new(urls, s)),
            report: n
                .report
                .as_ref()
                .map(|(r, target)| Report::new(urls, r, target)),
        }
    }
}

/// Mastodon's `GroupedNotificationsResults`.
#[derive(Serialize)]
pub struct GroupedNotificationsResults {
    pub accounts: Vec<Account>,
    /// Only with `expand_accounts=partial_avatars`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_accounts: Option<Vec<PartialAccountWithAvatar>>,
    pub statuses: Vec<Status>,
    pub notification_groups: Vec<NotificationGroup>,
}

/// Ids are strings, as the entity documents (`most_recent_notification_id`
/// too: our ids exceed 2^53).
#[derive(Serialize)]
pub struct NotificationGroup {
    pub group_key: String,
    pub notifications_count: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub most_recent_notification_id: String,
    /// The next three only for a group that comes from a page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_min_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_max_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_page_notification_at: Option<String>,
    pub sample_account_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_id: Option<String>,
    /// An `admin.report` group's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl NotificationGroup {
    fn new(urls: &Urls, g: &Group, reports: &[(ReportRow, AccountRow)]) -> NotificationGroup {
        NotificationGroup {
            group_key: g.group_key.clone(),
            notifications_count: g.count,
            kind: g.kind.as_str(),
            most_recent_notification_id: id(g.most_recent_id),
            page_min_id: g.page.as_ref().map(|p| id(p.min_id)),
            page_max_id: g.page.as_ref().map(|p| id(p.max_id)),
            latest_page_notification_at: g.page.as_ref().map(|p| iso8601(p.latest_at_ms)),
            sample_account_ids: g.sample_account_ids.iter().copied().map(id).collect(),
            status_id: g.status_id.map(id),
            report: g.report_id.and_then(|rid| {
                let (r, target) = reports.iter().find(|(r, _)| r.id == rid)?;
                Some(Report::new(urls, r, target))
            }),
        }
    }
}

impl GroupedNotificationsResults {
    pub fn new(urls: &Urls, g: &GroupedNotifications, partial: bool) -> Self {
        GroupedNotificationsResults {
            accounts: g.accounts.iter().map(|a| Account::new(urls, a)).collect(),
            partial_accounts: partial.then(|| {
                g.partial_accounts
                    .iter()
                    .map(|a| PartialAccountWithAvatar::new(urls, a))
                    .collect()
            }),
            statuses: Status::list(urls, &g.statuses),
            notification_groups: g
                .groups
                .iter()
                .map(|group| NotificationGroup::new(urls, group, &g.reports))
                .collect(),
        }
    }
}

/// A read position (`GET`/`POST /api/v1/markers`).
#[derive(Serialize)]
pub struct Marker {
    pub last_read_id: String,
    pub version: i64,
    pub updated_at: String,
}

impl Marker {
    /// The markers asked for, by timeline name (`home`, `notifications`).
    pub fn by_timeline(list: &[MarkerRow]) -> BTreeMap<String, Marker> {
        list.iter()
            .map(|m| {
                let marker = Marker {
                    last_read_id: id(m.last_read_id),
                    version: m.version,
                    updated_at: iso8601(m.updated_at_ms),
                };
                (m.timeline.clone(), marker)
            })
            .collect()
    }
}

/// `GET /api/v{1,2}/notifications/unread_count`.
#[derive(Serialize)]
pub struct UnreadCount {
    pub count: u32,
}
