//! Rows the store hands out and the inputs it takes. Plain data, no behaviour:
//! the service decides what they mean, the API decides how they look.

pub type Id = i64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public = 0,
    Unlisted = 1,
    Private = 2,
    Direct = 3,
}

impl Visibility {
    pub fn from_i64(v: i64) -> Visibility {
        match v {
            0 => Visibility::Public,
            1 => Visibility::Unlisted,
            2 => Visibility::Private,
            _ => Visibility::Direct,
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }
}

#[derive(Clone, Debug)]
pub struct AccountRow {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    /// The bio as the user typed it; rendered to HTML by the service.
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub created_at_ms: i64,
    pub suspended: bool,
    pub approved: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at_ms: Option<i64>,
    pub default_visibility: Visibility,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    /// Media-store key of the avatar; None means the default picture.
    pub avatar_key: Option<String>,
    /// Media-store key of the header; None means the default picture.
    pub header_key: Option<String>,
    pub role: Role,
    /// Bumped by a trigger on every change to the row (migration 0024): the
    /// same version always renders the same JSON (`holdfast-api` `rendered`).
    pub version: i64,
}

#[derive(Clone, Debug)]
pub struct NewAccount {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub approved: bool,
    pub locale: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct AccountUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub default_visibility: Option<Visibility>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<String>,
}

/// What an operator sees in `holdfast user list`.
#[derive(Clone, Debug)]
pub struct AccountAdminRow {
    pub account: AccountRow,
    pub email: String,
}

#[derive(Clone, Debug)]
pub struct Credentials {
    pub account_id: Id,
    pub password_hash: String,
    /// Suspended or disabled: may not log in.
    pub suspended: bool,
    pub approved: bool,
}

#[derive(Clone, Debug)]
pub struct AppRow {
    pub id: Id,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
}

#[derive(Clone, Debug)]
pub struct NewApp {
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
}

/// A live (unrevoked) access token, found by the hash of its secret.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub id: Id,
    pub app: AppRow,
    /// None for an app-only token (client_credentials grant).
    pub account_id: Option<Id>,
    pub scopes: String,
    pub created_at_ms: i64,
    /// Suspended or disabled: its tokens do not work.
    pub account_suspended: bool,
    pub account_approved: bool,
    /// The auth epoch (migration 0026) read in the same statement: the
    /// token may be served from memory while the epoch still reads this.
    pub auth_epoch: i64,
}

#[derive(Clone, Debug)]
pub struct AuthCode {
    pub app_id: Id,
    pub account_id: Id,
    pub scopes: String,
    pub redirect_uri: String,
    /// PKCE (RFC 7636): the challenge the client sent with the authorization request.
    pub code_challenge: Option<String>,
    /// `S256` or `plain`; set exactly when `code_challenge` is.
    pub code_challenge_method: Option<String>,
}

/// A live log-in session of the authorize page, found by the hash of its cookie.
#[derive(Clone, Debug)]
pub struct SessionRow {
    pub account_id: Id,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct StatusRow {
    pub id: Id,
    pub account_id: Id,
    /// The source text as typed.
    pub text: String,
    /// Rendered, sanitized HTML.
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub in_reply_to_account_id: Option<Id>,
    pub reblog_of_id: Option<Id>,
    pub app_name: Option<String>,
    pub app_website: Option<String>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub created_at_ms: i64,
    /// When it was last edited; None if never.
    pub edited_at_ms: Option<i64>,
    /// Bumped by a trigger on every change to the row, its attachments and
    /// its mentions (migration 0024): the same version always renders the
    /// same JSON, apart from the viewer's flags and the poll.
    pub version: i64,
}

/// A status with everything needed to render it for one viewer, loaded in a
/// fixed number of queries however long the page.
#[derive(Clone, Debug)]
pub struct StatusBundle {
    pub status: StatusRow,
    pub account: AccountRow,
    pub mentions: Vec<AccountRow>,
    pub tags: Vec<TagRef>,
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    pub muted: bool,
    /// Attachments in the order the author gave them.
    pub media: Vec<MediaRow>,
    pub reblog: Option<Box<StatusBundle>>,
    /// On its author's profile (only ever true for the author's own statuses).
    pub pinned: bool,
    pub poll: Option<PollView>,
    /// The viewer's filters that match it in the context it is shown in;
    /// the store leaves this empty, the service fills it (`filters`).
    pub filtered: Vec<FilterMatch>,
}

#[derive(Clone, Debug)]
pub struct NewStatus {
    pub account_id: Id,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub in_reply_to: Option<Id>,
    pub app_id: Option<Id>,
    /// Accounts mentioned by name; each gets a mention notification.
    pub mentions: Vec<Id>,
    /// Lower-cased hashtag names.
    pub tags: Vec<String>,
    pub idempotency_key: Option<String>,
    /// Uploads to attach, in order: each must be the author's and unattached,
    /// or nothing is written (`StoreError::Rejected`).
    pub media_ids: Vec<Id>,
    pub poll: Option<NewPoll>,
}

impl NewStatus {
    /// A public status of `account_id` saying `text` (its HTML one
    /// paragraph) and nothing more: no reply, mention, tag, media, poll,
    /// language or Idempotency-Key (tests and tools start from it).
    pub fn plain(account_id: Id, text: &str) -> NewStatus {
        // The few characters HTML gives meaning to, escaped (the service's
        // `text::escape` is out of the store's reach), so a test's text is
        // its content's text too.
        let text_html = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        NewStatus {
            account_id,
            text: text.into(),
            content: format!("<p>{text_html}</p>"),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: Visibility::Public,
            language: None,
            in_reply_to: None,
            app_id: None,
            mentions: vec![],
            tags: vec![],
            idempotency_key: None,
            media_ids: vec![],
            poll: None,
        }
    }
}

/// Which of a new status' settings its author left unsaid, to be taken from
/// their preferences (`default_visibility`, `default_sensitive`,
/// `default_language`) by the post's own transaction, as the author's row is
/// at that moment: exact on every node, and the request reads nothing
/// before its write (bench/perf, issue 10: the author was read before every
/// post only for these). The fields they name in the `NewStatus` are
/// overwritten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AuthorDefaults {
    pub visibility: bool,
    pub sensitive: bool,
    pub language: bool,
}

impl AuthorDefaults {
    pub fn any(self) -> bool {
        self.visibility || self.sensitive || self.language
    }

    /// Writes the author's preferences into what this names.
    pub fn fill(
        self,
        new: &mut NewStatus,
        visibility: Visibility,
        sensitive: bool,
        language: Option<String>,
    ) {
        if self.visibility {
            new.visibility = visibility;
        }
        if self.sensitive {
            new.sensitive = sensitive;
        }
        if self.language {
            new.language = language;
        }
    }
}

/// The outcome of a follow: following at once, or a request to a locked account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowOutcome {
    Following,
    Requested,
}

/// Which replies a list's timeline shows (Mastodon's `replies_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepliesPolicy {
    /// Replies to anyone the list's owner follows.
    Followed,
    /// Replies to members of the list.
    List,
    /// No replies (but a member's replies to itself, its threads).
    None,
}

impl RepliesPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RepliesPolicy::Followed => "followed",
            RepliesPolicy::List => "list",
            RepliesPolicy::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<RepliesPolicy> {
        match s {
            "followed" => Some(RepliesPolicy::Followed),
            "list" => Some(RepliesPolicy::List),
            "none" => Some(RepliesPolicy::None),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    pub id: Id,
    pub title: String,
    pub replies_policy: RepliesPolicy,
    /// Members' posts stay out of the owner's home timeline.
    pub exclusive: bool,
}

#[derive(Clone, Debug)]
pub struct NewList {
    pub title: String,
    pub replies_policy: RepliesPolicy,
    pub exclusive: bool,
}

/// What `PUT /api/v1/lists/:id` changes; None keeps the field.
#[derive(Clone, Debug, Default)]
pub struct ListUpdate {
    pub title: Option<String>,
    pub replies_policy: Option<RepliesPolicy>,
    pub exclusive: Option<bool>,
}

/// How `GET /api/v1/directory` orders accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryOrder {
    /// Most recently posting first.
    Active,
    /// Newest accounts first.
    New,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuggestionSource {
    /// Followed by accounts the viewer follows.
    FriendsOfFriends,
    /// Among the most followed accounts here.
    MostFollowed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub account_id: Id,
    pub source: SuggestionSource,
}

/// One entry of an account's mutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Muted {
    pub account_id: Id,
    /// When the mute ends (ms since the epoch); None: until unmuted.
    pub expires_at_ms: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct Relationship {
    pub id: Id,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    /// The viewer's private note on the account ("" when none).
    pub note: String,
    /// The viewer features the account on its profile.
    pub endorsed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationType {
    Follow,
    FollowRequest,
    Mention,
    Favourite,
    Reblog,
    /// A followed account (followed with `notify`) posted.
    Status,
    /// A poll the account voted in or made has ended.
    Poll,
    /// A status the account reblogged was edited.
    Update,
    /// Someone filed a report (told to moderators and admins).
    AdminReport,
}

impl NotificationType {
    pub const ALL: [NotificationType; 9] = [
        NotificationType::Follow,
        NotificationType::FollowRequest,
        NotificationType::Mention,
        NotificationType::Favourite,
        NotificationType::Reblog,
        NotificationType::Status,
        NotificationType::Poll,
        NotificationType::Update,
        NotificationType::AdminReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Follow => "follow",
            NotificationType::FollowRequest => "follow_request",
            NotificationType::Mention => "mention",
            NotificationType::Favourite => "favourite",
            NotificationType::Reblog => "reblog",
            NotificationType::Status => "status",
            NotificationType::Poll => "poll",
            NotificationType::Update => "update",
            NotificationType::AdminReport => "admin.report",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationType> {
        NotificationType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Clone, Debug)]
pub struct NotificationRow {
    pub id: Id,
    pub kind: NotificationType,
    pub created_at_ms: i64,
    pub from_account_id: Id,
    pub status_id: Option<Id>,
    /// The report an `admin.report` notification is about.
    pub report_id: Option<Id>,
    /// Set when written, for the types Mastodon groups (see `groups`); None otherwise.
    pub group_key: Option<String>,
}

/// A page of notification groups: the notification that opened each group,
/// newest first, and, when the walk stopped at its scan bound, the id where
/// it stopped (the next page carries on from there, not from the last group).
#[derive(Clone, Debug, Default)]
pub struct NotificationGroupPage {
    pub rows: Vec<NotificationRow>,
    pub scan_stopped_at: Option<Id>,
}

/// One notification group summed up over the notifications up to a bound
/// (Mastodon's `NotificationGroup` data for `/api/v2/notifications`).
#[derive(Clone, Debug)]
pub struct NotificationGroupRow {
    pub group_key: String,
    /// Notifications in the group up to the bound.
    pub count: i64,
    pub most_recent_id: Id,
    pub most_recent_at_ms: i64,
    /// The oldest notification of the group at or after the range's start (`page_min_id`).
    pub oldest_in_range_id: Option<Id>,
    /// Who sent the newest notifications of the group, newest first.
    pub sample_account_ids: Vec<Id>,
}

#[derive(Clone, Debug)]
pub struct Marker {
    pub timeline: String,
    pub last_read_id: Id,
    pub version: i64,
    pub updated_at_ms: i64,
}

/// Where a page starts and how long it is. Results come newest first;
/// `min_id` asks for the page immediately newer than that id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub max_id: Option<Id>,
    pub since_id: Option<Id>,
    pub min_id: Option<Id>,
    pub limit: u32,
}

/// One entry of a page: the id the page is keyed on (for `Link` headers),
/// and the thing itself.
#[derive(Clone, Debug)]
pub struct Paged<T> {
    pub cursor: Id,
    pub item: T,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct AccountStatusesFilter {
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_media: bool,
    pub pinned: bool,
}

/// A tag as a status carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagRef {
    pub id: Id,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct TagRow {
    /// None for a name nobody has used yet (Mastodon renders its id as "").
    pub id: Option<Id>,
    pub name: String,
    /// Statuses using the tag per day, newest day first (for `history`).
    pub uses_last_week: i64,
    pub accounts_last_week: i64,
}

/// One uploaded media attachment. Its bytes live in the media store under
/// `file_key` (the re-encoded original) and `preview_key` (the small size).
#[derive(Clone, Debug, PartialEq)]
pub struct MediaRow {
    pub id: Id,
    pub account_id: Id,
    /// None until a status takes it.
    pub status_id: Option<Id>,
    /// Mastodon's `type`: "image" (the only kind holdfast makes today).
    pub kind: String,
    pub description: Option<String>,
    /// Focal point, each coordinate in -1.0..=1.0.
    pub focus: Option<(f64, f64)>,
    /// `{"original": {...}, "small": {...}}` as JSON text, made by the service.
    pub meta: String,
    pub blurhash: Option<String>,
    pub file_key: String,
    pub preview_key: String,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct NewMedia {
    pub account_id: Id,
    pub kind: String,
    pub description: Option<String>,
    pub focus: Option<(f64, f64)>,
    pub meta: String,
    pub blurhash: Option<String>,
    pub file_key: String,
    pub preview_key: String,
}

/// What `PUT /api/v1/media/:id` may change; None leaves a field as it is,
/// an empty description clears it.
#[derive(Clone, Debug, Default)]
pub struct MediaUpdate {
    pub description: Option<String>,
    pub focus: Option<(f64, f64)>,
    /// A new preview (from a `thumbnail`) and the meta that describes it.
    pub preview: Option<(String, String)>,
}

/// The two pictures of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}

/// How much the server is used, for nodeinfo.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub users: i64,
    /// Accounts that posted in the last 30 days / 180 days.
    pub active_month: i64,
    pub active_halfyear: i64,
    /// Statuses written here (reblogs not counted).
    pub local_posts: i64,
}

// ---- web push ----

/// A Web Push subscription as a client asks for it (one per access token).
#[derive(Clone, Debug)]
pub struct NewPushSubscription {
    pub token_id: Id,
    pub account_id: Id,
    pub endpoint: String,
    /// The browser's P-256 public key and auth secret, base64url as sent.
    pub key_p256dh: String,
    pub key_auth: String,
    pub alerts: PushAlerts,
}

/// Which notification types a subscription wants, and from whom.
#[derive(Clone, Debug, PartialEq)]
pub struct PushAlerts {
    /// Notification type names (`mention`, `follow`, ...), as Mastodon spells them.
    pub types: Vec<String>,
    /// `all`, `followed` (senders the user follows), `follower` (senders
    /// following the user) or `none`.
    pub policy: String,
}

#[derive(Clone, Debug)]
pub struct PushSubscriptionRow {
    pub id: Id,
    pub token_id: Id,
    pub account_id: Id,
    pub endpoint: String,
    pub key_p256dh: String,
    pub key_auth: String,
    pub alerts: PushAlerts,
}

/// The instance's VAPID key pair: PKCS#8 private key and uncompressed
/// public point, both base64url.
#[derive(Clone, Debug, PartialEq)]
pub struct VapidKeys {
    pub private_key: String,
    pub public_key: String,
}

/// One claimed delivery: a notification to send to one subscription.
#[derive(Clone, Debug)]
pub struct PushDelivery {
    pub id: Id,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub notification_id: Id,
    pub subscription: PushSubscriptionRow,
}

/// How a delivery attempt ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PushDeliveryEnd {
    /// Sent, or given up on: the row goes.
    Finished,
    /// Try again at this time (ms since the epoch).
    RetryAt(i64),
    /// The push service says the subscription no longer exists: it goes, with its queue.
    SubscriptionGone,
}

// ---- social (issue 14): conversations, followed and featured tags ----

/// A tag's use on one day (`day`: days since the epoch, UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagDay {
    pub tag_id: Id,
    pub day: i64,
    pub uses: i64,
    pub accounts: i64,
}

/// A tag on a profile, with the owner's public posts using it.
#[derive(Clone, Debug)]
pub struct FeaturedTagRow {
    pub id: Id,
    pub name: String,
    pub statuses_count: i64,
    pub last_status_at_ms: Option<i64>,
}

/// A direct conversation as one participant sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationRow {
    pub id: Id,
    /// The other participants, ascending (none when writing to oneself).
    pub participants: Vec<Id>,
    pub last_status_id: Id,
    pub unread: bool,
}

/// How one account follows another, kept on a request to a locked account
/// until it is authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowOptions {
    /// Show the account's reblogs in home.
    pub reblogs: bool,
    /// A `status` notification for each of its posts.
    pub notify: bool,
    /// Only posts in these ISO 639-1 languages (empty: all); None keeps what
    /// an existing follow has.
    pub languages: Option<Vec<String>>,
}

// ---- admin (moderation, issue 14) ----

/// What an account may do beyond using the server: moderators handle
/// reports and accounts; admins also the instance's blocks and announcements.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    #[default]
    User = 0,
    Moderator = 1,
    Admin = 2,
}

impl Role {
    pub fn from_i64(v: i64) -> Role {
        match v {
            1 => Role::Moderator,
            2 => Role::Admin,
            _ => Role::User,
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }

    /// Moderator or admin.
    pub fn is_staff(self) -> bool {
        self >= Role::Moderator
    }
}

/// An account as moderators see it: with its e-mail and every flag.
#[derive(Clone, Debug)]
pub struct AdminAccountRow {
    pub account: AccountRow,
    pub email: String,
    pub silenced: bool,
    pub sensitized: bool,
    pub disabled: bool,
    pub sign_up_ip: Option<String>,
}

/// `status` of the admin account list (v1's booleans map onto it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    Active,
    Pending,
    Disabled,
    Silenced,
    Suspended,
}

#[derive(Clone, Debug, Default)]
pub struct AdminAccountFilter {
    pub state: Option<AccountState>,
    /// Only moderators and admins.
    pub staff: bool,
    /// Prefixes, case-insensitive.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// The sign-up address, exactly.
    pub ip: Option<String>,
}

/// One change a moderator (or the CLI) makes to an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountChange {
    /// Suspending also ends every token and session.
    Suspended(bool),
    Silenced(bool),
    Sensitized(bool),
    /// Disabling also ends every token and session.
    Disabled(bool),
    Approved,
    Role(Role),
}

/// An entry for the audit log, written in the transaction of the change it records.
#[derive(Clone, Debug)]
pub struct NewAudit {
    /// None: the operator, through the CLI.
    pub actor: Option<Id>,
    /// What was done (`suspend`, `resolve_report`, `create_ip_block`, ...).
    pub action: String,
    /// `account`, `report`, `domain_block`, `ip_block`, `announcement`.
    pub target_type: &'static str,
    pub target_id: Option<Id>,
    /// What the target was called then (a username, a domain, an address).
    pub target_name: String,
    pub detail: String,
}

#[derive(Clone, Debug)]
pub struct AuditRow {
    pub id: Id,
    pub actor: Option<Id>,
    /// The actor's username now (None: the CLI, or an account deleted since).
    pub actor_username: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Id>,
    pub target_name: String,
    pub detail: String,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct NewReport {
    pub account_id: Id,
    pub target_account_id: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub rule_ids: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct ReportRow {
    pub id: Id,
    pub account_id: Id,
    pub target_account_id: Id,
    pub status_ids: Vec<Id>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub rule_ids: Vec<String>,
    pub assigned_account_id: Option<Id>,
    pub action_taken_at_ms: Option<i64>,
    pub action_taken_by_account_id: Option<Id>,
    pub resolution_note: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Clone, Debug, Default)]
pub struct ReportFilter {
    pub resolved: Option<bool>,
    pub account_id: Option<Id>,
    pub target_account_id: Option<Id>,
}

#[derive(Clone, Debug)]
pub enum ReportChange {
    Assign(Option<Id>),
    /// `by` None: the operator, through the CLI.
    Resolve {
        by: Option<Id>,
        note: String,
    },
    Reopen,
    Update {
        category: Option<String>,
        rule_ids: Option<Vec<String>>,
    },
}

/// An instance-level domain block (holdfast does not federate: it is kept
/// and listed for moderation apps, and blocks sign-ups with e-mail there).
#[derive(Clone, Debug)]
pub struct DomainBlockRow {
    pub id: Id,
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct DomainBlockInput {
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

#[derive(Clone, Debug)]
pub struct IpBlockRow {
    pub id: Id,
    /// CIDR, normalized by the service.
    pub ip: String,
    pub severity: String,
    pub comment: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct IpBlockInput {
    pub ip: String,
    pub severity: String,
    pub comment: String,
    pub expires_at_ms: Option<i64>,
}

/// The kinds of instance-wide block an admin keeps. Both are kept, listed,
/// changed and removed by one code path (`core/instance_blocks.rs`, the
/// service's `instance_block*` and the admin routes); only their columns and
/// their checks differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Domain,
    Ip,
}

impl BlockKind {
    /// `domain_block` or `ip_block`: the audit log's target type, and the
    /// stem of its actions (`create_domain_block`, ...).
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Domain => "domain_block",
            BlockKind::Ip => "ip_block",
        }
    }
}

/// A new or changed instance block, of either kind.
#[derive(Clone, Debug)]
pub enum BlockInput {
    Domain(DomainBlockInput),
    Ip(IpBlockInput),
}

impl BlockInput {
    pub fn kind(&self) -> BlockKind {
        match self {
            BlockInput::Domain(_) => BlockKind::Domain,
            BlockInput::Ip(_) => BlockKind::Ip,
        }
    }

    /// What the block is keyed by: the domain, or the address (CIDR).
    pub fn key(&self) -> &str {
        match self {
            BlockInput::Domain(b) => &b.domain,
            BlockInput::Ip(b) => &b.ip,
        }
    }

    pub fn severity(&self) -> &str {
        match self {
            BlockInput::Domain(b) => &b.severity,
            BlockInput::Ip(b) => &b.severity,
        }
    }
}

/// An instance block as stored, of either kind.
#[derive(Clone, Debug)]
pub enum BlockRow {
    Domain(DomainBlockRow),
    Ip(IpBlockRow),
}

impl BlockRow {
    pub fn id(&self) -> Id {
        match self {
            BlockRow::Domain(b) => b.id,
            BlockRow::Ip(b) => b.id,
        }
    }

    /// What the block is keyed by: the domain, or the address (CIDR).
    pub fn key(&self) -> &str {
        match self {
            BlockRow::Domain(b) => &b.domain,
            BlockRow::Ip(b) => &b.ip,
        }
    }

    pub fn as_domain(&self) -> Option<&DomainBlockRow> {
        match self {
            BlockRow::Domain(b) => Some(b),
            BlockRow::Ip(_) => None,
        }
    }

    pub fn as_ip(&self) -> Option<&IpBlockRow> {
        match self {
            BlockRow::Ip(b) => Some(b),
            BlockRow::Domain(_) => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AnnouncementInput {
    pub text: String,
    /// The text rendered to HTML by the service.
    pub content: String,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub all_day: bool,
    /// At creation only: false makes a draft. Later, `publish_announcement`.
    pub published: bool,
}

#[derive(Clone, Debug)]
pub struct AnnouncementRow {
    pub id: Id,
    pub text: String,
    pub content: String,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub all_day: bool,
    /// False for a draft, which only admins see (`publish_announcement`).
    pub published: bool,
    /// When it was (last) published; for a draft, when it was made.
    pub published_at_ms: i64,
    pub updated_at_ms: i64,
    /// Whether the viewer dismissed it.
    pub read: bool,
    /// (name, count, whether the viewer reacted so), most used first.
    pub reactions: Vec<(String, i64, bool)>,
}

// ---- web ----

/// A live log-in session, for the account's own settings page.
#[derive(Clone, Debug)]
pub struct WebSession {
    /// The SHA-256 of the cookie: names the session without being able to act as it.
    pub session_hash: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// An app that holds live tokens for an account.
#[derive(Clone, Debug)]
pub struct AuthorizedApp {
    pub app_id: Id,
    pub name: String,
    pub website: Option<String>,
    pub last_authorized_at_ms: i64,
    pub tokens: i64,
}

// ---- filters (filters, issue 14) ----

/// Where a filter applies, as Mastodon names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterContext {
    /// The home timeline and lists.
    Home,
    Notifications,
    /// The public and hashtag timelines (and search).
    Public,
    /// A status' context (ancestors and descendants).
    Thread,
    /// A profile's statuses.
    Account,
}

impl FilterContext {
    pub const ALL: [FilterContext; 5] = [
        FilterContext::Home,
        FilterContext::Notifications,
        FilterContext::Public,
        FilterContext::Thread,
        FilterContext::Account,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FilterContext::Home => "home",
            FilterContext::Notifications => "notifications",
            FilterContext::Public => "public",
            FilterContext::Thread => "thread",
            FilterContext::Account => "account",
        }
    }
    pub fn parse(s: &str) -> Option<FilterContext> {
        FilterContext::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What a matching filter does to a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterAction {
    /// Shown with a warning naming the filter.
    Warn,
    /// Not shown at all.
    Hide,
    /// Shown with its media hidden behind a warning.
    Blur,
}

impl FilterAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Warn => "warn",
            FilterAction::Hide => "hide",
            FilterAction::Blur => "blur",
        }
    }
    pub fn parse(s: &str) -> Option<FilterAction> {
        [FilterAction::Warn, FilterAction::Hide, FilterAction::Blur]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct FilterKeywordRow {
    pub id: Id,
    pub filter_id: Id,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FilterStatusRow {
    pub id: Id,
    pub filter_id: Id,
    pub status_id: Id,
}

/// A filter with its keywords and statuses (oldest first).
#[derive(Clone, Debug, PartialEq)]
pub struct FilterRow {
    pub id: Id,
    pub title: String,
    pub contexts: Vec<FilterContext>,
    pub action: FilterAction,
    /// Milliseconds since the epoch; None: never.
    pub expires_at_ms: Option<i64>,
    pub keywords: Vec<FilterKeywordRow>,
    pub statuses: Vec<FilterStatusRow>,
}

/// A keyword as given: the phrase and whether it matches whole words only.
#[derive(Clone, Debug, PartialEq)]
pub struct NewKeyword {
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Clone, Debug)]
pub struct NewFilter {
    pub title: String,
    pub contexts: Vec<FilterContext>,
    pub action: FilterAction,
    pub expires_at_ms: Option<i64>,
    pub keywords: Vec<NewKeyword>,
}

/// One change to a filter's keywords (`keywords_attributes[]`).
#[derive(Clone, Debug)]
pub enum KeywordChange {
    Add(NewKeyword),
    /// Changes the given parts of one of the filter's keywords.
    Edit {
        id: Id,
        keyword: Option<String>,
        whole_word: Option<bool>,
    },
    Remove(Id),
}

/// A filter change: None leaves a field as it is; `expires_at_ms:
/// Some(None)` makes it never expire.
#[derive(Clone, Debug, Default)]
pub struct FilterUpdate {
    pub title: Option<String>,
    pub contexts: Option<Vec<FilterContext>>,
    pub action: Option<FilterAction>,
    pub expires_at_ms: Option<Option<i64>>,
    pub keywords: Vec<KeywordChange>,
}

/// The per-account bounds a filter write keeps (from `Limits`).
#[derive(Clone, Copy, Debug)]
pub struct FilterBounds {
    pub filters_max: u32,
    pub keywords_max: u32,
    pub statuses_max: u32,
}

/// A filter that matched a status, for the status' `filtered`.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterMatch {
    /// The filter, without its keywords and statuses.
    pub filter: FilterRow,
    pub keyword_matches: Vec<String>,
    pub status_matches: Vec<Id>,
}

// ---- notification policies (filters, issue 14) ----

/// What happens to a notification from one kind of sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    Accept,
    /// Kept aside, in a notification request.
    Filter,
    Drop,
}

impl PolicyChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyChoice::Accept => "accept",
            PolicyChoice::Filter => "filter",
            PolicyChoice::Drop => "drop",
        }
    }
    pub fn parse(s: &str) -> Option<PolicyChoice> {
        [
            PolicyChoice::Accept,
            PolicyChoice::Filter,
            PolicyChoice::Drop,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// An account's notification policy (the defaults when it never set one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationPolicyRow {
    /// Senders the recipient does not follow.
    pub for_not_following: PolicyChoice,
    /// Senders who do not follow the recipient.
    pub for_not_followers: PolicyChoice,
    /// Accounts younger than 30 days.
    pub for_new_accounts: PolicyChoice,
    /// Direct mentions the recipient did not ask for (not a reply to its own,
    /// from someone it does not follow).
    pub for_private_mentions: PolicyChoice,
    /// Accounts moderators limited (silenced), unless the recipient follows them.
    pub for_limited_accounts: PolicyChoice,
}

impl Default for NotificationPolicyRow {
    /// Mastodon's defaults.
    fn default() -> Self {
        NotificationPolicyRow {
            for_not_following: PolicyChoice::Accept,
            for_not_followers: PolicyChoice::Accept,
            for_new_accounts: PolicyChoice::Accept,
            for_private_mentions: PolicyChoice::Filter,
            for_limited_accounts: PolicyChoice::Filter,
        }
    }
}

/// Filtered notifications waiting, for the policy's `summary`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingSummary {
    pub requests: i64,
    pub notifications: i64,
}

/// Filtered notifications from one sender, waiting for the recipient.
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationRequestRow {
    pub id: Id,
    pub from_account_id: Id,
    pub last_status_id: Option<Id>,
    pub notifications_count: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

// ---- posts: edits, pins, polls, scheduled statuses (issue 14) ----

/// A poll to attach to a status. It ends `expires_in_s` after the status is
/// published (for a scheduled status, after it is published, not scheduled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub expires_in_s: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A poll as one viewer sees it. Counts are those of every vote; hiding
/// them (`hide_totals` before the end) is the renderer's decision.
#[derive(Clone, Debug, PartialEq)]
pub struct PollView {
    pub id: Id,
    pub status_id: Id,
    pub account_id: Id,
    pub options: Vec<PollOptionRow>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub expires_at_ms: i64,
    /// Chosen options, summed over voters (a multiple-choice voter counts once per choice).
    pub votes_count: i64,
    pub voters_count: i64,
    /// The viewer's choices, by index (empty: has not voted, or anonymous).
    pub own_votes: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PollOptionRow {
    pub title: String,
    pub votes_count: i64,
}

/// What `PUT /api/v1/statuses/:id` sets, all prepared by the service
/// (rendered HTML, resolved mentions and tags). The media list replaces the
/// old one (uploads of the author, unattached or already on this status);
/// the poll replaces the old one (None removes it); votes are kept only if
/// the options and `multiple` did not change.
#[derive(Clone, Debug)]
pub struct StatusEdit {
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub mentions: Vec<Id>,
    pub tags: Vec<String>,
    pub media_ids: Vec<Id>,
    /// New descriptions and focal points of attachments among `media_ids`
    /// (Mastodon's `media_attributes[]`: attached media are changed only
    /// through an edit of their status); others' ids are ignored.
    pub media_attributes: Vec<(Id, MediaUpdate)>,
    pub poll: Option<NewPoll>,
}

/// One version of an edited status, oldest first in a history.
#[derive(Clone, Debug)]
pub struct StatusVersion {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at_ms: i64,
    /// Attachments of that version that still exist, in order.
    pub media: Vec<MediaRow>,
    pub poll_options: Option<Vec<String>>,
}

/// A status to publish at `scheduled_at_ms`, prepared as a post is
/// (`status.poll`'s clock starts at publication). Its uploads are reserved
/// (not swept as unattached) until it is published or cancelled.
#[derive(Clone, Debug)]
pub struct NewScheduledStatus {
    pub status: NewStatus,
    pub scheduled_at_ms: i64,
}

#[derive(Clone, Debug)]
pub struct ScheduledStatusRow {
    pub id: Id,
    pub account_id: Id,
    pub scheduled_at_ms: i64,
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    pub in_reply_to_id: Option<Id>,
    pub app_id: Option<Id>,
    pub idempotency_key: Option<String>,
    pub media_ids: Vec<Id>,
    /// The reserved uploads, in order.
    pub media: Vec<MediaRow>,
    pub poll: Option<NewPoll>,
}

/// How many scheduled statuses an account may keep (Mastodon: 300 in all,
/// 25 on any one day, a day being the 24 hours from midnight UTC).
#[derive(Clone, Copy, Debug)]
pub struct ScheduleBounds {
    pub total_max: u32,
    pub per_day_max: u32,
}

/// What one batch of a home fan-out job did (see `Store::run_fanout_batch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanoutBatch {
    /// The status being fanned out.
    pub status_id: Id,
    /// Feed rows written by this batch (a row already there is not counted).
    pub copied: u64,
    /// This was the job's last batch: the job is gone.
    pub finished: bool,
    /// The status was deleted before the job ran: nothing was copied.
    pub dropped: bool,
}

/// What one due job did (see `Store::run_due_job`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobDone {
    /// A scheduled status became status `status_id` of `account_id`.
    Published { account_id: Id, status_id: Id },
    /// A poll ended; these accounts (voters and the author) were notified.
    PollEnded { status_id: Id, notified: Vec<Id> },
    /// The job's target was gone or could no longer be done (a scheduled
    /// reply whose parent was deleted): dropped, with the reason.
    Dropped {
        kind: String,
        target_id: Id,
        why: String,
    },
}

// ---- api: collections (issue 14) ----

/// What a collection says about itself (Mastodon 4.6's featured
/// collections): the same fields whether made or edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionFields {
    pub name: String,
    pub description: String,
    pub language: Option<String>,
    /// Lower-cased, without `#`; None: no hashtag.
    pub tag_name: Option<String>,
    pub sensitive: bool,
    pub discoverable: bool,
}

/// A collection of accounts its owner recommends to others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionRow {
    pub id: Id,
    pub account_id: Id,
    pub fields: CollectionFields,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// One account in a collection (always accepted: every account is local).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionItemRow {
    pub id: Id,
    pub collection_id: Id,
    pub account_id: Id,
    pub created_at_ms: i64,
}

// ---- webui: server rules (issue 13) ----

/// A server rule as an admin writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRule {
    pub text: String,
    pub hint: String,
}

/// A server rule. Its id is stable (reports cite it); a deleted rule keeps
/// its row, with `deleted_at_ms`, for the reports that cite it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRow {
    pub id: Id,
    /// Rules are listed by priority (smallest first), then id.
    pub priority: i64,
    pub text: String,
    pub hint: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub deleted_at_ms: Option<i64>,
}

/// How many rules the table may hold.
#[derive(Clone, Copy, Debug)]
pub struct RuleBounds {
    /// Rules in force.
    pub live_max: u32,
    /// Rows, the deleted rules included.
    pub kept_max: u32,
}
