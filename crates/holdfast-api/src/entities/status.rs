//! Status (with its Status::Mention, Status::Tag and application), the
//! deleted status with its source text, MediaAttachment, Context, Tag,
//! FeaturedTag, Search and Conversation.

use holdfast_service::conversations::ConversationView;
use holdfast_service::lists::SearchResults;
use holdfast_service::tags::TagView;
use holdfast_store::{AccountRow, FeaturedTagRow, MediaRow, StatusBundle, TagRef};
use serde::Serialize;
use serde_json::Value;

use super::{date_only, id, iso8601, Account, CustomEmoji, FilterResult, Poll, Urls};

/// A status as one viewer sees it: the part every viewer sees the same
/// (`StatusShared`, kept rendered between pages by `crate::rendered`), its
/// author, what it reblogs, and the viewer's own view (poll, flags, filters).
#[derive(Serialize)]
pub struct Status {
    #[serde(flatten)]
    pub shared: StatusShared,
    pub account: Account,
    pub reblog: Option<Box<Status>>,
    pub poll: Option<Poll>,
    /// The source text: only in the answer to a delete (for "delete and redraft").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub favourited: bool,
    pub reblogged: bool,
    pub muted: bool,
    pub bookmarked: bool,
    pub pinned: bool,
    /// The viewer's warn/blur filters that match it where it is shown
    /// (hidden statuses are not sent at all).
    pub filtered: Vec<FilterResult>,
}

/// The fields of a status that depend only on its row (and version,
/// migration 0024), its attachments, mentions and tags: the same for every
/// viewer.
#[derive(Serialize)]
pub struct StatusShared {
    pub id: String,
    pub uri: String,
    pub created_at: String,
    /// HTML, rendered once when the status was posted.
    pub content: String,
    pub visibility: &'static str,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<MediaAttachment>,
    /// The app that posted it (null for statuses made without one; the
    /// docs call it optional, and clients here expect the key).
    pub application: Option<StatusApplication>,
    pub mentions: Vec<Mention>,
    pub tags: Vec<StatusTag>,
    pub emojis: Vec<CustomEmoji>,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub replies_count: i64,
    pub url: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    /// Link previews are not made yet: always null.
    pub card: Option<Value>,
    pub language: Option<String>,
    pub edited_at: Option<String>,
}

#[derive(Serialize)]
pub struct StatusApplication {
    pub name: String,
    pub website: Option<String>,
}

/// `Status::Mention`.
#[derive(Serialize)]
pub struct Mention {
    pub id: String,
    pub username: String,
    pub url: String,
    pub acct: String,
}

/// `Status::Tag`, with the tag's `id` as in `GET /api/v1/tags/:name`.
#[derive(Serialize)]
pub struct StatusTag {
    pub id: String,
    pub name: String,
    pub url: String,
}

impl Status {
    pub fn new(urls: &Urls, b: &StatusBundle) -> Status {
        Status {
            shared: StatusShared::new(urls, b),
            account: Account::new(urls, &b.account),
            reblog: b.reblog.as_deref().map(|r| Box::new(Status::new(urls, r))),
            poll: b.poll.as_ref().map(Poll::new),
            text: None,
            favourited: b.favourited,
            reblogged: b.reblogged,
            muted: b.muted,
            bookmarked: b.bookmarked,
            pinned: b.pinned,
            filtered: b.filtered.iter().map(FilterResult::new).collect(),
        }
    }

    /// A deleted status, with its source text so a client can offer "delete and redraft".
    pub fn deleted(urls: &Urls, b: &StatusBundle) -> Status {
        Status {
            text: Some(b.status.text.clone()),
            ..Status::new(urls, b)
        }
    }

    pub fn list(urls: &Urls, bundles: &[StatusBundle]) -> Vec<Status> {
        bundles.iter().map(|b| Status::new(urls, b)).collect()
    }
}

impl StatusShared {
    pub fn new(urls: &Urls, b: &StatusBundle) -> StatusShared {
        let s = &b.status;
        let url = urls.status(&b.account.username, s.id);
        StatusShared {
            id: id(s.id),
            uri: url.clone(),
            created_at: iso8601(s.created_at_ms),
            content: s.content.clone(),
            visibility: s.visibility.as_str(),
            sensitive: s.sensitive,
            spoiler_text: s.spoiler_text.clone(),
            media_attachments: b
                .media
                .iter()
                .map(|m| MediaAttachment::new(urls, m))
                .collect(),
            application: s.app_name.as_ref().map(|name| StatusApplication {
                name: name.clone(),
                website: s.app_website.clone(),
            }),
            mentions: b.mentions.iter().map(|a| Mention::new(urls, a)).collect(),
            tags: b.tags.iter().map(|t| StatusTag::new(urls, t)).collect(),
            emojis: Vec::new(),
            reblogs_count: s.reblogs_count,
            favourites_count: s.favourites_count,
            replies_count: s.replies_count,
            url: Some(url),
            in_reply_to_id: s.in_reply_to_id.map(id),
            in_reply_to_account_id: s.in_reply_to_account_id.map(id),
            card: None,
            language: s.language.clone(),
            edited_at: s.edited_at_ms.map(iso8601),
        }
    }
}

impl Mention {
    fn new(urls: &Urls, a: &AccountRow) -> Mention {
        Mention {
            id: id(a.id),
            username: a.username.clone(),
            url: urls.account(&a.username),
            acct: a.username.clone(),
        }
    }
}

impl StatusTag {
    fn new(urls: &Urls, t: &TagRef) -> StatusTag {
        StatusTag {
            id: id(t.id),
            name: t.name.clone(),
            url: urls.tag(&t.name),
        }
    }
}

/// Mastodon's MediaAttachment. `meta` is what processing measured, plus `focus`.
#[derive(Serialize)]
pub struct MediaAttachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: Option<String>,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    /// Not in the docs, but Mastodon's serializer sends it (null for local media).
    pub preview_remote_url: Option<String>,
    pub meta: Option<Value>,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

#[derive(Serialize)]
struct Focus {
    x: f64,
    y: f64,
}

impl MediaAttachment {
    pub fn new(urls: &Urls, m: &MediaRow) -> MediaAttachment {
        // `meta` was written by our own processing; unreadable is a bug, shown as `{}`.
        let mut meta: Value =
            serde_json::from_str(&m.meta).unwrap_or_else(|_| Value::Object(Default::default()));
        if let (Some((x, y)), Value::Object(o)) = (m.focus, &mut meta) {
            if let Ok(focus) = serde_json::to_value(Focus { x, y }) {
                o.insert("focus".into(), focus);
            }
        }
        MediaAttachment {
            id: id(m.id),
            kind: m.kind.clone(),
            url: Some(urls.media(&m.file_key)),
            preview_url: Some(urls.media(&m.preview_key)),
            remote_url: None,
            preview_remote_url: None,
            meta: Some(meta),
            description: m.description.clone(),
            blurhash: m.blurhash.clone(),
        }
    }
}

/// A status' thread: what it replies to, and the replies.
#[derive(Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

/// A hashtag with its public use per day and whether the viewer follows it.
#[derive(Serialize)]
pub struct Tag {
    /// A name nobody has used yet has no id; Mastodon renders it as "".
    pub id: String,
    pub name: String,
    pub url: String,
    pub history: Vec<TagHistory>,
    pub following: bool,
    /// Optional: only the answers of `tags/:name/feature` and `unfeature` say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featuring: Option<bool>,
}

/// `Tag::history[]`: one day, numbers as strings (as Mastodon sends them).
#[derive(Serialize)]
pub struct TagHistory {
    pub day: String,
    pub uses: String,
    pub accounts: String,
}

impl Tag {
    pub fn new(urls: &Urls, t: &TagView) -> Tag {
        Tag {
            id: t.tag.id.map(id).unwrap_or_default(),
            name: t.tag.name.clone(),
            url: urls.tag(&t.tag.name),
            history: t
                .history
                .iter()
                .map(|d| TagHistory {
                    day: d.day_start_s.to_string(),
                    uses: d.uses.to_string(),
                    accounts: d.accounts.to_string(),
                })
                .collect(),
            following: t.following,
            featuring: t.featuring,
        }
    }

    pub fn list(urls: &Urls, tags: &[TagView]) -> Vec<Tag> {
        tags.iter().map(|t| Tag::new(urls, t)).collect()
    }
}

/// `FeaturedTag`: a tag on a profile, linking to the owner's posts with it.
#[derive(Serialize)]
pub struct FeaturedTag {
    pub id: String,
    pub name: String,
    pub url: String,
    pub statuses_count: String,
    pub last_status_at: Option<String>,
}

impl FeaturedTag {
    pub fn new(urls: &Urls, owner: &str, t: &FeaturedTagRow) -> FeaturedTag {
        FeaturedTag {
            id: id(t.id),
            name: t.name.clone(),
            url: format!("{}/tagged/{}", urls.account(owner), t.name),
            statuses_count: t.statuses_count.to_string(),
            last_status_at: t.last_status_at_ms.map(date_only),
        }
    }
}

/// `GET /api/v2/search`.
#[derive(Serialize)]
pub struct Search {
    pub accounts: Vec<Account>,
    pub statuses: Vec<Status>,
    pub hashtags: Vec<Tag>,
}

impl Search {
    /// `hashtags`: the results' tags as `Service::tag_views` renders them.
    pub fn new(urls: &Urls, r: &SearchResults, hashtags: &[TagView]) -> Search {
        Search {
            accounts: r.accounts.iter().map(|a| Account::new(urls, a)).collect(),
            statuses: Status::list(urls, &r.statuses),
            hashtags: Tag::list(urls, hashtags),
        }
    }
}

/// A direct conversation as one participant sees it (`GET /api/v1/conversations`,
/// and the `conversation` streaming event): the other participants and the
/// newest status.
#[derive(Serialize)]
pub struct Conversation {
    pub id: String,
    pub unread: bool,
    pub accounts: Vec<Account>,
    pub last_status: Option<Status>,
}

impl Conversation {
    pub fn new(urls: &Urls, c: &ConversationView) -> Conversation {
        Conversation {
            id: id(c.id),
            unread: c.unread,
            accounts: c.accounts.iter().map(|a| Account::new(urls, a)).collect(),
            last_status: c.last_status.as_ref().map(|b| Status::new(urls, b)),
        }
    }
}
