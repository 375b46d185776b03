//! Account, CredentialAccount (with its `source` and `role`), the
//! avatar-only PartialAccountWithAvatar, Relationship and Preferences.

use holdfast_store::{AccountRow, Relationship as RelationshipRow, Role as StoreRole};
use serde::Serialize;

use super::{date_only, id, iso8601, Urls};

#[derive(Serialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    /// Local accounts only: the bare username.
    pub acct: String,
    pub url: Option<String>,
    pub uri: String,
    pub display_name: String,
    /// The bio as HTML.
    pub note: String,
    pub avatar: String,
    pub avatar_static: String,
    pub avatar_description: String,
    pub header: String,
    pub header_static: String,
    pub header_description: String,
    pub locked: bool,
    pub fields: Vec<Field>,
    pub emojis: Vec<CustomEmoji>,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub noindex: Option<bool>,
    /// Midnight of the day the account was made, as Mastodon rounds it.
    pub created_at: String,
    pub last_status_at: Option<String>,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub hide_collections: Option<bool>,
    pub roles: Option<Vec<AccountRole>>,
}

/// A profile field (holdfast has none yet; the list is always empty).
#[derive(Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub verified_at: Option<String>,
}

/// A custom emoji (holdfast has none yet; the lists are always empty).
#[derive(Serialize)]
pub struct CustomEmoji {
    pub shortcode: String,
    pub url: String,
    pub static_url: String,
    pub visible_in_picker: bool,
    pub category: Option<String>,
}

/// A role shown on a profile (moderators' and admins').
#[derive(Serialize)]
pub struct AccountRole {
    pub id: String,
    pub name: String,
    pub color: String,
}

impl Account {
    pub fn new(urls: &Urls, a: &AccountRow) -> Account {
        let url = urls.account(&a.username);
        let avatar = a
            .avatar_key
            .as_deref()
            .map_or_else(|| urls.missing_avatar(), |k| urls.media(k));
        let header = a
            .header_key
            .as_deref()
            .map_or_else(|| urls.missing_header(), |k| urls.media(k));
        Account {
            id: id(a.id),
            username: a.username.clone(),
            acct: a.username.clone(),
            url: Some(url.clone()),
            uri: url,
            display_name: a.display_name.clone(),
            note: urls.note_html(&a.note).to_string(),
            avatar_static: avatar.clone(),
            avatar,
            avatar_description: String::new(),
            header_static: header.clone(),
            header,
            header_description: String::new(),
            locked: a.locked,
            fields: Vec::new(),
            emojis: Vec::new(),
            bot: a.bot,
            group: false,
            discoverable: Some(a.discoverable),
            indexable: a.discoverable,
            noindex: Some(false),
            created_at: iso8601(a.created_at_ms - a.created_at_ms.rem_euclid(86_400_000)),
            last_status_at: a.last_status_at_ms.map(date_only),
            statuses_count: a.statuses_count,
            followers_count: a.followers_count,
            following_count: a.following_count,
            hide_collections: Some(false),
            roles: Some(AccountRole::shown(a.role)),
        }
    }
}

impl AccountRole {
    /// Staff roles are shown on profiles (highlighted, as Mastodon's are).
    pub fn shown(role: StoreRole) -> Vec<AccountRole> {
        if !role.is_staff() {
            return Vec::new();
        }
        let r = Role::of(role);
        vec![AccountRole {
            id: r.id,
            name: r.name,
            color: r.color,
        }]
    }
}

/// The caller's own account, with `source` (what they typed) for editing.
#[derive(Serialize)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
    pub role: Role,
}

#[derive(Serialize)]
pub struct Source {
    pub note: String,
    pub fields: Vec<Field>,
    pub privacy: &'static str,
    pub sensitive: bool,
    /// Mastodon sends `null` here when unset (the docs say "or empty string").
    pub language: Option<String>,
    pub follow_requests_count: i64,
    pub hide_collections: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: bool,
}

/// The caller's role (`-99`, Mastodon's everyone role, for users).
#[derive(Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub color: String,
    pub permissions: String,
    pub highlighted: bool,
}

impl CredentialAccount {
    pub fn new(urls: &Urls, a: &AccountRow) -> CredentialAccount {
        CredentialAccount {
            account: Account::new(urls, a),
            source: Source {
                note: a.note.clone(),
                fields: Vec::new(),
                privacy: a.default_visibility.as_str(),
                sensitive: a.default_sensitive,
                language: a.default_language.clone(),
                follow_requests_count: 0,
                hide_collections: Some(false),
                discoverable: Some(a.discoverable),
                indexable: a.discoverable,
            },
            role: Role::of(a.role),
        }
    }
}

impl Role {
    /// Mastodon's permission bits: administrator (1) covers everything; a
    /// moderator may view the audit log (4), manage reports (16) and users (1024).
    pub fn of(role: StoreRole) -> Role {
        let (id, name, permissions, highlighted) = match role {
            StoreRole::User => ("-99", "", "0", false),
            StoreRole::Moderator => ("1", "Moderator", "1044", true),
            StoreRole::Admin => ("2", "Admin", "1", true),
        };
        Role {
            id: id.into(),
            name: name.into(),
            color: String::new(),
            permissions: permissions.into(),
            highlighted,
        }
    }
}

/// Mastodon's `PartialAccountWithAvatar`: enough to draw an avatar.
#[derive(Serialize)]
pub struct PartialAccountWithAvatar {
    pub id: String,
    pub acct: String,
    pub url: String,
    pub avatar: String,
    pub avatar_static: String,
    pub avatar_description: String,
    pub locked: bool,
    pub bot: bool,
}

impl PartialAccountWithAvatar {
    pub fn new(urls: &Urls, a: &AccountRow) -> PartialAccountWithAvatar {
        let avatar = a
            .avatar_key
            .as_deref()
            .map_or_else(|| urls.missing_avatar(), |k| urls.media(k));
        PartialAccountWithAvatar {
            id: id(a.id),
            acct: a.username.clone(),
            url: urls.account(&a.username),
            avatar_static: avatar.clone(),
            avatar,
            avatar_description: String::new(),
            locked: a.locked,
            bot: a.bot,
        }
    }
}

#[derive(Serialize)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub muting_expires_at: Option<String>,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}

impl Relationship {
    pub fn new(r: &RelationshipRow) -> Relationship {
        Relationship {
            id: id(r.id),
            following: r.following,
            showing_reblogs: r.showing_reblogs,
            notifying: r.notifying,
            languages: None,
            followed_by: r.followed_by,
            blocking: r.blocking,
            blocked_by: r.blocked_by,
            muting: r.muting,
            muting_notifications: r.muting_notifications,
            // Mutes do not expire yet.
            muting_expires_at: None,
            requested: r.requested,
            requested_by: r.requested_by,
            domain_blocking: false,
            endorsed: r.endorsed,
            note: r.note.clone(),
        }
    }
}

/// `GET /api/v1/preferences`: the posting defaults; reading ones are Mastodon's defaults.
#[derive(Serialize)]
pub struct Preferences {
    #[serde(rename = "posting:default:visibility")]
    pub posting_default_visibility: &'static str,
    #[serde(rename = "posting:default:sensitive")]
    pub posting_default_sensitive: bool,
    #[serde(rename = "posting:default:language")]
    pub posting_default_language: Option<String>,
    #[serde(rename = "reading:expand:media")]
    pub reading_expand_media: &'static str,
    #[serde(rename = "reading:expand:spoilers")]
    pub reading_expand_spoilers: bool,
}

impl Preferences {
    pub fn new(a: &AccountRow) -> Preferences {
        Preferences {
            posting_default_visibility: a.default_visibility.as_str(),
            posting_default_sensitive: a.default_sensitive,
            posting_default_language: a.default_language.clone(),
            reading_expand_media: "default",
            reading_expand_spoilers: false,
        }
    }
}

/// An account in `GET /api/v1/mutes`: with when the mute ends.
#[derive(Serialize)]
pub struct MutedAccount {
    #[serde(flatten)]
    pub account: Account,
    /// Null for a mute without end.
    pub mute_expires_at: Option<String>,
}

impl MutedAccount {
    pub fn new(urls: &Urls, a: &AccountRow, expires_at_ms: Option<i64>) -> MutedAccount {
        MutedAccount {
            account: Account::new(urls, a),
            mute_expires_at: expires_at_ms.map(iso8601),
        }
    }
}

// ---- api: Profile (issue 14) ----

/// `GET/PATCH /api/v1/profile`: the caller's profile with what they typed
/// (Mastodon 4.6). Pictures are null when unset (unlike Account's). The
/// profile tabs are not settings here: they are shown, as Mastodon's default.
#[derive(Serialize)]
pub struct Profile {
    pub id: String,
    pub display_name: String,
    /// The bio as typed, not HTML.
    pub note: String,
    pub fields: Vec<Field>,
    pub avatar: Option<String>,
    pub avatar_static: Option<String>,
    pub avatar_description: String,
    pub header: Option<String>,
    pub header_static: Option<String>,
    pub header_description: String,
    pub locked: bool,
    pub bot: bool,
    pub hide_collections: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub show_media: bool,
    pub show_media_replies: bool,
    pub show_featured: bool,
    pub attribution_domains: Vec<String>,
}

impl Profile {
    pub fn new(urls: &Urls, a: &AccountRow) -> Profile {
        let avatar = a.avatar_key.as_deref().map(|k| urls.media(k));
        let header = a.header_key.as_deref().map(|k| urls.media(k));
        Profile {
            id: id(a.id),
            display_name: a.display_name.clone(),
            note: a.note.clone(),
            fields: Vec::new(),
            avatar_static: avatar.clone(),
            avatar,
            avatar_description: String::new(),
            header_static: header.clone(),
            header,
            header_description: String::new(),
            locked: a.locked,
            bot: a.bot,
            hide_collections: Some(false),
            discoverable: Some(a.discoverable),
            indexable: a.discoverable,
            show_media: true,
            show_media_replies: true,
            show_featured: true,
            attribution_domains: Vec::new(),
        }
    }
}
