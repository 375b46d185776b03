//! Instance (`/api/v2/instance`) and V1_Instance (`/api/v1/instance`): what
//! this server is and its limits, which clients read to size their forms.
//! Also the operator's texts: Rule, ExtendedDescription, PrivacyPolicy and
//! TermsOfService.

use holdfast_config::{InstanceTexts, Limits, Registrations};
use holdfast_store::RuleRow;
use serde::Serialize;

use super::{iso8601, Account, Urls};

/// What a rendering of either version is made from.
pub struct InstanceFacts<'a> {
    /// The bare domain (`uri`, `domain`).
    pub domain: &'a str,
    pub registrations: Registrations,
    pub contact_email: &'a str,
    pub limits: &'a Limits,
    pub urls: &'a Urls,
    /// `version`: the Mastodon version clients should assume, then ours.
    pub version: String,
    pub description: &'static str,
    pub users: i64,
    pub statuses: i64,
    /// The server's VAPID public key, for Web Push (`configuration[vapid][public_key]`).
    pub vapid_public_key: String,
    /// The server rules in force, in order.
    pub rules: &'a [RuleRow],
}

#[derive(Serialize)]
pub struct StatusesConfig {
    pub max_characters: usize,
    pub max_media_attachments: usize,
    pub characters_reserved_per_url: usize,
}

/// What uploads may be: images only (no video or audio yet, so their limits are 0).
#[derive(Serialize)]
pub struct MediaConfig {
    pub supported_mime_types: [&'static str; 4],
    pub description_limit: usize,
    pub image_size_limit: usize,
    pub image_matrix_limit: u64,
    pub video_size_limit: u64,
    pub video_frame_rate_limit: u64,
    pub video_matrix_limit: u64,
}

/// The bounds a poll must keep (`Limits`).
#[derive(Serialize)]
pub struct PollsConfig {
    pub max_options: usize,
    pub max_characters_per_option: usize,
    pub min_expiration: u64,
    pub max_expiration: u64,
}

impl PollsConfig {
    fn new(l: &Limits) -> PollsConfig {
        PollsConfig {
            max_options: l.poll_options_max,
            max_characters_per_option: l.poll_option_max_chars,
            min_expiration: l.poll_expires_in_min_s,
            max_expiration: l.poll_expires_in_max_s,
        }
    }
}

impl StatusesConfig {
    fn new(l: &Limits) -> StatusesConfig {
        StatusesConfig {
            max_characters: l.status_max_chars,
            max_media_attachments: l.statuses_media_max,
            characters_reserved_per_url: l.status_url_chars,
        }
    }
}

impl MediaConfig {
    fn new(l: &Limits) -> MediaConfig {
        MediaConfig {
            supported_mime_types: ["image/jpeg", "image/png", "image/gif", "image/webp"],
            description_limit: l.media_description_max_chars,
            image_size_limit: l.media_image_max_bytes,
            image_matrix_limit: l.media_image_max_pixels,
            video_size_limit: 0,
            video_frame_rate_limit: 0,
            video_matrix_limit: 0,
        }
    }
}

// ------------------------------------------------------------------ v2

#[derive(Serialize)]
pub struct Instance {
    pub domain: String,
    pub title: &'static str,
    pub version: String,
    pub source_url: &'static str,
    pub description: &'static str,
    pub usage: Usage,
    pub thumbnail: Thumbnail,
    pub icon: Vec<Thumbnail>,
    pub languages: Vec<&'static str>,
    pub configuration: Configuration,
    pub registrations: RegistrationsV2,
    pub api_versions: ApiVersions,
    pub contact: Contact,
    pub rules: Vec<Rule>,
}

#[derive(Serialize)]
pub struct Usage {
    pub users: UsageUsers,
}

#[derive(Serialize)]
pub struct UsageUsers {
    pub active_month: i64,
}

#[derive(Serialize)]
pub struct Thumbnail {
    pub url: String,
}

#[derive(Serialize)]
pub struct Configuration {
    pub urls: ConfigurationUrls,
    pub vapid: Vapid,
    pub accounts: AccountsConfig,
    pub statuses: StatusesConfig,
    pub media_attachments: MediaConfig,
    pub polls: PollsConfig,
    pub translation: Translation,
}

#[derive(Serialize)]
pub struct ConfigurationUrls {
    pub streaming: String,
}

#[derive(Serialize)]
pub struct Vapid {
    pub public_key: String,
}

#[derive(Serialize)]
pub struct AccountsConfig {
    pub max_featured_tags: u32,
    pub max_pinned_statuses: u32,
}

#[derive(Serialize)]
pub struct Translation {
    pub enabled: bool,
}

#[derive(Serialize)]
pub struct RegistrationsV2 {
    pub enabled: bool,
    pub approval_required: bool,
    pub message: Option<String>,
}

#[derive(Serialize)]
pub struct ApiVersions {
    pub mastodon: u32,
}

#[derive(Serialize)]
pub struct Contact {
    pub email: String,
    pub account: Option<Account>,
}

/// A server rule (admins edit them on the moderation pages).
#[derive(Serialize)]
pub struct Rule {
    /// Stable: reports cite rules by it.
    pub id: String,
    pub text: String,
    pub hint: String,
}

impl Rule {
    pub fn new(r: &RuleRow) -> Rule {
        Rule {
            id: r.id.to_string(),
            text: r.text.clone(),
            hint: r.hint.clone(),
        }
    }

    pub fn all(rules: &[RuleRow]) -> Vec<Rule> {
        rules.iter().map(Rule::new).collect()
    }
}

impl Instance {
    pub fn new(f: &InstanceFacts) -> Instance {
        let reg = f.registrations;
        Instance {
            domain: f.domain.to_owned(),
            title: "holdfast",
            version: f.version.clone(),
            source_url: "https://github.com/holdfast-social/holdfast",
            description: f.description,
            usage: Usage {
                users: UsageUsers {
                    active_month: f.users,
                },
            },
            thumbnail: Thumbnail {
                url: f.urls.missing_avatar(),
            },
            icon: Vec::new(),
            languages: vec!["en"],
            configuration: Configuration {
                urls: ConfigurationUrls {
                    streaming: f.urls.streaming(),
                },
                vapid: Vapid {
                    public_key: f.vapid_public_key.clone(),
                },
                accounts: AccountsConfig {
                    max_featured_tags: 0,
                    max_pinned_statuses: f.limits.pinned_statuses_max,
                },
                statuses: StatusesConfig::new(f.limits),
                media_attachments: MediaConfig::new(f.limits),
                polls: PollsConfig::new(f.limits),
                translation: Translation { enabled: false },
            },
            registrations: RegistrationsV2 {
                enabled: reg != Registrations::Closed,
                approval_required: reg == Registrations::Approval,
                message: None,
            },
            api_versions: ApiVersions { mastodon: 2 },
            contact: Contact {
                email: f.contact_email.to_owned(),
                account: None,
            },
            rules: Rule::all(f.rules),
        }
    }
}

// ------------------------------------------------------------------ v1

#[derive(Serialize)]
pub struct V1Instance {
    pub uri: String,
    pub title: &'static str,
    pub short_description: &'static str,
    pub description: &'static str,
    pub email: String,
    pub version: String,
    pub urls: V1Urls,
    pub stats: V1Stats,
    pub thumbnail: Option<String>,
    pub languages: Vec<&'static str>,
    pub registrations: bool,
    pub approval_required: bool,
    pub invites_enabled: bool,
    pub configuration: V1Configuration,
    pub contact_account: Option<Account>,
    pub rules: Vec<Rule>,
}

#[derive(Serialize)]
pub struct V1Urls {
    pub streaming_api: String,
}

#[derive(Serialize)]
pub struct V1Stats {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
}

#[derive(Serialize)]
pub struct V1Configuration {
    pub accounts: V1AccountsConfig,
    pub statuses: StatusesConfig,
    pub media_attachments: MediaConfig,
    pub polls: PollsConfig,
}

#[derive(Serialize)]
pub struct V1AccountsConfig {
    pub max_featured_tags: u32,
}

impl V1Instance {
    pub fn new(f: &InstanceFacts) -> V1Instance {
        let reg = f.registrations;
        V1Instance {
            uri: f.domain.to_owned(),
            title: "holdfast",
            short_description: f.description,
            description: f.description,
            email: f.contact_email.to_owned(),
            version: f.version.clone(),
            urls: V1Urls {
                streaming_api: f.urls.streaming(),
            },
            stats: V1Stats {
                user_count: f.users,
                status_count: f.statuses,
                domain_count: 0,
            },
            thumbnail: None,
            languages: vec!["en"],
            registrations: reg != Registrations::Closed,
            approval_required: reg == Registrations::Approval,
            invites_enabled: false,
            configuration: V1Configuration {
                accounts: V1AccountsConfig {
                    max_featured_tags: 0,
                },
                statuses: StatusesConfig::new(f.limits),
                media_attachments: MediaConfig::new(f.limits),
                polls: PollsConfig::new(f.limits),
            },
            contact_account: None,
            rules: Rule::all(f.rules),
        }
    }
}

// ------------------------------------------------------------------ texts

/// An operator's plain text as HTML: paragraphs at blank lines, line breaks kept.
pub fn text_html(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let lines: Vec<String> = p.lines().map(holdfast_service::text::escape).collect();
            let paragraph_html = lines.join("<br>");
            format!("<p>{paragraph_html}</p>")
        })
        .collect()
}

/// `content` is "" when the operator wrote none (Mastodon's empty form).
#[derive(Serialize)]
pub struct ExtendedDescription {
    /// When this node read the texts: holdfast keeps no edit history.
    pub updated_at: String,
    pub content: String,
}

impl ExtendedDescription {
    pub fn new(texts: &InstanceTexts) -> ExtendedDescription {
        ExtendedDescription {
            updated_at: iso8601(texts.loaded_at_ms),
            content: text_html(&texts.extended_description),
        }
    }
}

/// `content` is "" when the operator wrote none.
#[derive(Serialize)]
pub struct PrivacyPolicy {
    /// When this node read the texts: holdfast keeps no edit history.
    pub updated_at: String,
    pub content: String,
}

impl PrivacyPolicy {
    pub fn new(texts: &InstanceTexts) -> PrivacyPolicy {
        PrivacyPolicy {
            updated_at: iso8601(texts.loaded_at_ms),
            content: text_html(&texts.privacy_policy),
        }
    }
}

/// The one configured version of the terms (holdfast keeps no history of them).
#[derive(Serialize)]
pub struct TermsOfService {
    /// `YYYY-MM-DD`.
    pub effective_date: String,
    pub effective: bool,
    pub content: String,
    /// Always null: there is never a newer version.
    pub succeeded_by: Option<String>,
}

impl TermsOfService {
    /// `today_ms`: now, to tell whether the terms are in effect yet.
    pub fn new(texts: &InstanceTexts, today_ms: i64) -> TermsOfService {
        let effective_date = texts.terms_of_service_effective_date.trim();
        // ISO dates compare as strings; today's is the first 10 characters of an ISO time.
        let today = iso8601(today_ms);
        TermsOfService {
            effective_date: effective_date.to_owned(),
            effective: effective_date <= &today[..10],
            content: text_html(&texts.terms_of_service),
            succeeded_by: None,
        }
    }
}
