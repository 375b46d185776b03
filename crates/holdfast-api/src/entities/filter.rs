//! Filter (v2, with FilterKeyword and FilterStatus), FilterResult (a
//! status' `filtered`), V1::Filter (one keyword seen as a filter), and the
//! notification policy entities (NotificationPolicy, V1::NotificationPolicy,
//! NotificationRequest).

use holdfast_config::time::iso8601;
use holdfast_service::filters::V1Filter as V1Row;
use holdfast_service::notification_policies::RequestView;
use holdfast_store::{
    FilterKeywordRow, FilterMatch, FilterRow, FilterStatusRow, NotificationPolicyRow,
    PendingSummary, PolicyChoice,
};
use serde::Serialize;

use super::{id, Account, Status, Urls};

#[derive(Serialize)]
pub struct Filter {
    pub id: String,
    pub title: String,
    pub context: Vec<&'static str>,
    pub expires_at: Option<String>,
    pub filter_action: &'static str,
    /// Omitted inside a FilterResult.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<FilterKeyword>>,
    /// Omitted inside a FilterResult.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statuses: Option<Vec<FilterStatus>>,
}

impl Filter {
    fn bare(f: &FilterRow) -> Filter {
        Filter {
            id: id(f.id),
            title: f.title.clone(),
            context: f.contexts.iter().map(|c| c.as_str()).collect(),
            expires_at: f.expires_at_ms.map(iso8601),
            filter_action: f.action.as_str(),
            keywords: None,
            statuses: None,
        }
    }

    pub fn new(f: &FilterRow) -> Filter {
        Filter {
            keywords: Some(f.keywords.iter().map(FilterKeyword::new).collect()),
            statuses: Some(f.statuses.iter().map(FilterStatus::new).collect()),
            ..Filter::bare(f)
        }
    }
}

#[derive(Serialize)]
pub struct FilterKeyword {
    pub id: String,
    pub keyword: String,
    pub whole_word: bool,
}

impl FilterKeyword {
    pub fn new(k: &FilterKeywordRow) -> FilterKeyword {
        FilterKeyword {
            id: id(k.id),
            keyword: k.keyword.clone(),
            whole_word: k.whole_word,
        }
    }
}

#[derive(Serialize)]
pub struct FilterStatus {
    pub id: String,
    pub status_id: String,
}

impl FilterStatus {
    pub fn new(s: &FilterStatusRow) -> FilterStatus {
        FilterStatus {
            id: id(s.id),
            status_id: id(s.status_id),
        }
    }
}

/// One filter that matched a status, in the status' `filtered`.
#[derive(Serialize)]
pub struct FilterResult {
    pub filter: Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<String>>,
}

impl FilterResult {
    pub fn new(m: &FilterMatch) -> FilterResult {
        FilterResult {
            filter: Filter::bare(&m.filter),
            keyword_matches: Some(m.keyword_matches.clone()),
            status_matches: Some(m.status_matches.iter().map(|s| id(*s)).collect()),
        }
    }
}

/// `V1::Filter`: a keyword with its filter's settings; its id is the keyword's.
#[derive(Serialize)]
pub struct V1Filter {
    pub id: String,
    pub phrase: String,
    pub context: Vec<&'static str>,
    pub whole_word: bool,
    pub expires_at: Option<String>,
    /// A `hide` filter: dropped by the server rather than shown with a warning.
    pub irreversible: bool,
}

impl V1Filter {
    pub fn new(v: &V1Row) -> V1Filter {
        V1Filter {
            id: id(v.keyword.id),
            phrase: v.keyword.keyword.clone(),
            context: v.filter.contexts.iter().map(|c| c.as_str()).collect(),
            whole_word: v.keyword.whole_word,
            expires_at: v.filter.expires_at_ms.map(iso8601),
            irreversible: v.filter.action == holdfast_store::FilterAction::Hide,
        }
    }
}

#[derive(Serialize)]
pub struct PolicySummary {
    pub pending_requests_count: i64,
    pub pending_notifications_count: i64,
}

impl PolicySummary {
    fn new(s: &PendingSummary) -> PolicySummary {
        PolicySummary {
            pending_requests_count: s.requests,
            pending_notifications_count: s.notifications,
        }
    }
}

#[derive(Serialize)]
pub struct NotificationPolicy {
    pub for_not_following: &'static str,
    pub for_not_followers: &'static str,
    pub for_new_accounts: &'static str,
    pub for_private_mentions: &'static str,
    pub for_limited_accounts: &'static str,
    pub summary: PolicySummary,
}

impl NotificationPolicy {
    pub fn new(p: &NotificationPolicyRow, s: &PendingSummary) -> NotificationPolicy {
        NotificationPolicy {
            for_not_following: p.for_not_following.as_str(),
            for_not_followers: p.for_not_followers.as_str(),
            for_new_accounts: p.for_new_accounts.as_str(),
            for_private_mentions: p.for_private_mentions.as_str(),
            for_limited_accounts: p.for_limited_accounts.as_str(),
            summary: PolicySummary::new(s),
        }
    }
}

/// `V1::NotificationPolicy`: each choice as "filtered or not" (a `drop` counts as filtered).
#[derive(Serialize)]
pub struct V1NotificationPolicy {
    pub filter_not_following: bool,
    pub filter_not_followers: bool,
    pub filter_new_accounts: bool,
    pub filter_private_mentions: bool,
    pub summary: PolicySummary,
}

impl V1NotificationPolicy {
    pub fn new(p: &NotificationPolicyRow, s: &PendingSummary) -> V1NotificationPolicy {
        let filters = |c: PolicyChoice| c != PolicyChoice::Accept;
        V1NotificationPolicy {
            filter_not_following: filters(p.for_not_following),
            filter_not_followers: filters(p.for_not_followers),
            filter_new_accounts: filters(p.for_new_accounts),
            filter_private_mentions: filters(p.for_private_mentions),
            summary: PolicySummary::new(s),
        }
    }
}

#[derive(Serialize)]
pub struct NotificationRequest {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub account: Account,
    /// A string, as the docs show it.
    pub notifications_count: String,
    /// The latest filtered status, when there is one the caller may see.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<Status>,
}

impl NotificationRequest {
    pub fn new(urls: &Urls, r: &RequestView) -> NotificationRequest {
        NotificationRequest {
            id: id(r.row.id),
            created_at: iso8601(r.row.created_at_ms),
            updated_at: iso8601(r.row.updated_at_ms),
            account: Account::new(urls, &r.account),
            notifications_count: r.row.notifications_count.to_string(),
            last_status: r.last_status.as_ref().map(|s| Status::new(urls, s)),
        }
    }
}
