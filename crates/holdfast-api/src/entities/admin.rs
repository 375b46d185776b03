//! Moderation: Report (what the reporter sees), Admin::Account,
//! Admin::Report, Admin::DomainBlock, Admin::IpBlock, and Announcement.

use holdfast_service::moderation::ReportView;
use holdfast_store::{
    AdminAccountRow, AnnouncementRow, BlockRow, DomainBlockRow, IpBlockRow, ReportRow,
};
use serde::Serialize;

use super::{id, iso8601, Account, Role, Rule, Status, Urls};

/// What a report says, as both its reporter (`Report`) and moderators
/// (`Admin::Report`) see it: the fields the two entities share, first in each.
#[derive(Serialize)]
pub struct ReportFields {
    pub id: String,
    pub action_taken: bool,
    pub action_taken_at: Option<String>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    pub created_at: String,
}

impl ReportFields {
    pub fn new(r: &ReportRow) -> ReportFields {
        ReportFields {
            id: id(r.id),
            action_taken: r.action_taken_at_ms.is_some(),
            action_taken_at: r.action_taken_at_ms.map(iso8601),
            category: r.category.clone(),
            comment: r.comment.clone(),
            forwarded: r.forwarded,
            created_at: iso8601(r.created_at_ms),
        }
    }
}

/// `POST /api/v1/reports`' answer.
#[derive(Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub fields: ReportFields,
    pub status_ids: Option<Vec<String>>,
    pub rule_ids: Option<Vec<String>>,
    pub target_account: Account,
}

impl Report {
    pub fn new(urls: &Urls, r: &ReportRow, target: &holdfast_store::AccountRow) -> Report {
        Report {
            fields: ReportFields::new(r),
            status_ids: Some(r.status_ids.iter().map(|s| id(*s)).collect()),
            rule_ids: Some(r.rule_ids.clone()),
            target_account: Account::new(urls, target),
        }
    }
}

/// An address an account used (only the sign-up address is kept).
#[derive(Serialize)]
pub struct AdminIp {
    pub ip: String,
    pub used_at: String,
}

#[derive(Serialize)]
pub struct AdminAccount {
    pub id: String,
    pub username: String,
    /// Always null: every account is local.
    pub domain: Option<String>,
    pub created_at: String,
    pub email: String,
    pub ip: Option<String>,
    pub ips: Vec<AdminIp>,
    pub locale: Option<String>,
    /// holdfast does not ask for a reason at sign-up.
    pub invite_request: Option<String>,
    pub role: Role,
    /// No e-mail is ever sent, so nothing waits for a confirmation.
    pub confirmed: bool,
    pub approved: bool,
    pub disabled: bool,
    pub sensitized: bool,
    pub silenced: bool,
    pub suspended: bool,
    pub account: Account,
}

impl AdminAccount {
    pub fn new(urls: &Urls, a: &AdminAccountRow) -> AdminAccount {
        let row = &a.account;
        AdminAccount {
            id: id(row.id),
            username: row.username.clone(),
            domain: None,
            created_at: iso8601(row.created_at_ms),
            email: a.email.clone(),
            ip: a.sign_up_ip.clone(),
            ips: a
                .sign_up_ip
                .iter()
                .map(|ip| AdminIp {
                    ip: ip.clone(),
                    used_at: iso8601(row.created_at_ms),
                })
                .collect(),
            locale: row.default_language.clone(),
            invite_request: None,
            role: Role::of(row.role),
            confirmed: true,
            approved: row.approved,
            disabled: a.disabled,
            sensitized: a.sensitized,
            silenced: a.silenced,
            suspended: row.suspended,
            account: Account::new(urls, row),
        }
    }
}

#[derive(Serialize)]
pub struct AdminReport {
    #[serde(flatten)]
    pub fields: ReportFields,
    pub updated_at: String,
    pub account: AdminAccount,
    pub target_account: AdminAccount,
    pub assigned_account: Option<AdminAccount>,
    pub action_taken_by_account: Option<AdminAccount>,
    pub statuses: Vec<Status>,
    pub rules: Vec<Rule>,
}

impl AdminReport {
    pub fn new(urls: &Urls, v: &ReportView) -> AdminReport {
        let r = &v.report;
        AdminReport {
            fields: ReportFields::new(r),
            updated_at: iso8601(r.updated_at_ms),
            account: AdminAccount::new(urls, &v.account),
            target_account: AdminAccount::new(urls, &v.target),
            assigned_account: v.assigned.as_ref().map(|a| AdminAccount::new(urls, a)),
            action_taken_by_account: v
                .action_taken_by
                .as_ref()
                .map(|a| AdminAccount::new(urls, a)),
            statuses: Status::list(urls, &v.statuses),
            rules: Rule::all(&v.rules),
        }
    }
}

#[derive(Serialize)]
pub struct AdminDomainBlock {
    pub id: String,
    pub domain: String,
    /// SHA-256 of the domain, hex (lets others check a domain without the list naming it).
    pub digest: String,
    pub created_at: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

impl AdminDomainBlock {
    pub fn new(b: &DomainBlockRow) -> AdminDomainBlock {
        AdminDomainBlock {
            id: id(b.id),
            domain: b.domain.clone(),
            digest: holdfast_service::secrets::hash_secret(&b.domain),
            created_at: iso8601(b.created_at_ms),
            severity: b.severity.clone(),
            reject_media: b.reject_media,
            reject_reports: b.reject_reports,
            private_comment: b.private_comment.clone(),
            public_comment: b.public_comment.clone(),
            obfuscate: b.obfuscate,
        }
    }
}

#[derive(Serialize)]
pub struct AdminIpBlock {
    pub id: String,
    pub ip: String,
    pub severity: String,
    pub comment: String,
    pub created_at: String,
    pub expires_at: Option<String>,
}

impl AdminIpBlock {
    pub fn new(b: &IpBlockRow) -> AdminIpBlock {
        AdminIpBlock {
            id: id(b.id),
            ip: b.ip.clone(),
            severity: b.severity.clone(),
            comment: b.comment.clone(),
            created_at: iso8601(b.created_at_ms),
            expires_at: b.expires_at_ms.map(iso8601),
        }
    }
}

/// An instance block as its kind's entity (Admin::DomainBlock or Admin::IpBlock).
#[derive(Serialize)]
#[serde(untagged)]
pub enum AdminBlock {
    Domain(AdminDomainBlock),
    Ip(AdminIpBlock),
}

impl AdminBlock {
    pub fn new(b: &BlockRow) -> AdminBlock {
        match b {
            BlockRow::Domain(b) => AdminBlock::Domain(AdminDomainBlock::new(b)),
            BlockRow::Ip(b) => AdminBlock::Ip(AdminIpBlock::new(b)),
        }
    }
}

/// A reaction to an announcement (emoji only: holdfast has no custom emojis,
/// so `url` and `static_url` are never sent).
#[derive(Serialize)]
pub struct Reaction {
    pub name: String,
    pub count: i64,
    pub me: bool,
}

#[derive(Serialize)]
pub struct Announcement {
    pub id: String,
    pub content: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub all_day: bool,
    pub published_at: String,
    pub updated_at: String,
    pub read: bool,
    pub mentions: Vec<super::Mention>,
    pub statuses: Vec<AnnouncementStatus>,
    pub tags: Vec<super::StatusTag>,
    pub emojis: Vec<super::CustomEmoji>,
    pub reactions: Vec<Reaction>,
}

/// A status an announcement links to (none yet: links stay links).
#[derive(Serialize)]
pub struct AnnouncementStatus {
    pub id: String,
    pub url: String,
}

impl Announcement {
    pub fn new(a: &AnnouncementRow) -> Announcement {
        Announcement {
            id: id(a.id),
            content: a.content.clone(),
            starts_at: a.starts_at_ms.map(iso8601),
            ends_at: a.ends_at_ms.map(iso8601),
            all_day: a.all_day,
            published_at: iso8601(a.published_at_ms),
            updated_at: iso8601(a.updated_at_ms),
            read: a.read,
            mentions: Vec::new(),
            statuses: Vec::new(),
            tags: Vec::new(),
            emojis: Vec::new(),
            reactions: a
                .reactions
                .iter()
                .map(|(name, count, me)| Reaction {
                    name: name.clone(),
                    count: *count,
                    me: *me,
                })
                .collect(),
        }
    }
}
