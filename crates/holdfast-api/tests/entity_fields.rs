//! Every entity holdfast renders, serialized, has exactly the fields the
//! Mastodon documentation lists for it (`mastodon_entity_fields.json`,
//! written by `scripts/mastodon_entity_fields.py` from the docs' `### \`field\``
//! headings), except the ones listed below with the reason. A misspelt
//! field, a field dropped by accident or one the docs do not know fails here.
//!
//! Nested fields use the docs' bracket form (`source[privacy]`); an object
//! is looked into only where the docs list fields inside it, so a nested
//! entity (a status' `account`) is checked as its own entity instead.

use std::collections::{BTreeMap, BTreeSet};

use holdfast_api::entities::*;
use holdfast_config::{InstanceTexts, Limits, Registrations};
use holdfast_service::conversations::ConversationView;
use holdfast_service::discovery::SuggestedAccount;
use holdfast_service::lists::{NotificationView, SearchResults};
use holdfast_service::notification_groups::{
    GroupPageData, GroupedNotifications, NotificationGroup as Group,
};
use holdfast_service::oauth::IssuedToken;
use holdfast_service::tags::{TagUse, TagView};
use holdfast_service::Scopes;
use holdfast_store::{
    AccountRow, FeaturedTagRow, FilterAction, FilterContext, FilterKeywordRow, FilterMatch,
    FilterRow, FilterStatusRow, ListRow, MediaRow, NewPoll, NotificationPolicyRow,
    NotificationRequestRow, NotificationRow, NotificationType, PendingSummary, PollOptionRow,
    PollView, Relationship as RelationshipRow, RepliesPolicy, ScheduledStatusRow, StatusBundle,
    StatusRow, StatusVersion, SuggestionSource, TagRef, TagRow, Visibility,
};
use serde::Serialize;
use serde_json::Value;

/// Documented fields holdfast does not send: (entity, field, why).
#[rustfmt::skip]
const NOT_SENT: &[(&str, &str, &str)] = &[
    ("Account", "moved", "optional; no account ever moves (no federation)"),
    ("Account", "memorial", "optional; memorial accounts do not exist here"),
    ("Account", "suspended", "optional; suspended accounts are 404, never rendered"),
    ("Account", "limited", "optional; a silenced account is shown without the flag to those who may see it"),
    ("Account", "show_media", "profile tab settings are not implemented"),
    ("Account", "show_media_replies", "profile tab settings are not implemented"),
    ("Account", "show_featured", "profile tab settings are not implemented"),
    ("Account", "feature_approval", "no per-account feature policy: a discoverable account may be added to collections (see collections.rs)"),
    ("CredentialAccount", "source[attribution_domains]", "author attribution is not implemented"),
    ("CredentialAccount", "source[quote_policy]", "quote posts are not implemented"),
    ("Status", "quotes_count", "quote posts are not implemented"),
    ("Status", "quote", "quote posts are not implemented"),
    ("Status", "quote_approval", "quote posts are not implemented"),
    ("Status", "tagged_collections", "statuses do not link to collections"),
    ("MediaAttachment", "text_url", "the docs mark it removed from Mastodon"),
    ("Notification", "report", "optional; moderators are not notified of reports (they read the queue)"),
    ("Notification", "event", "optional; no federation, so no severed relationships"),
    ("Notification", "moderation_warning", "optional; moderation is not implemented"),
    ("Notification", "fallback", "optional; every notification type we send is a known one"),
    ("Notification", "collection", "optional; no notification is sent about collections"),
    ("NotificationGroup", "report", "optional; moderators are not notified of reports (they read the queue)"),
    ("NotificationGroup", "event", "optional; no federation, so no severed relationships"),
    ("NotificationGroup", "moderation_warning", "optional; moderation is not implemented"),
    ("NotificationGroup", "fallback", "optional; every notification type we send is a known one"),
    ("Report", "collection_ids", "collections cannot be reported"),
    ("Admin_Account", "created_by_application_id", "optional; the app an account signed up with is not kept"),
    ("Admin_Account", "invited_by_account_id", "optional; holdfast has no invites"),
    ("Reaction", "url", "optional; only for custom emojis, and holdfast has none"),
    ("Reaction", "static_url", "optional; only for custom emojis, and holdfast has none"),
    ("Role", "collection_limit", "one bound for everyone (`collections_per_account_max`), not per role"),
    ("Instance", "wrapstodon", "annual reports are not implemented"),
    ("Instance", "thumbnail[description]", "no instance thumbnail is configured"),
    ("Instance", "thumbnail[blurhash]", "optional; no instance thumbnail is configured"),
    ("Instance", "thumbnail[versions]", "optional; no instance thumbnail is configured"),
    ("Instance", "thumbnail[versions][@1x]", "optional; no instance thumbnail is configured"),
    ("Instance", "thumbnail[versions][@2x]", "optional; no instance thumbnail is configured"),
    ("Instance", "configuration[urls][status]", "no status page is configured"),
    ("Instance", "configuration[urls][about]", "no about page yet"),
    ("Instance", "configuration[urls][privacy_policy]", "no privacy policy page yet"),
    ("Instance", "configuration[urls][terms_of_service]", "no terms of service page yet"),
    ("Instance", "configuration[accounts][max_display_name_length]", "newer than the Mastodon version we advertise"),
    ("Instance", "configuration[accounts][max_note_length]", "newer than the Mastodon version we advertise"),
    ("Instance", "configuration[accounts][max_avatar_description_length]", "newer than the Mastodon version we advertise"),
    ("Instance", "configuration[accounts][max_header_description_length]", "newer than the Mastodon version we advertise"),
    ("Instance", "configuration[accounts][max_profile_fields]", "profile fields are not implemented"),
    ("Instance", "configuration[accounts][profile_field_name_limit]", "profile fields are not implemented"),
    ("Instance", "configuration[accounts][profile_field_value_limit]", "profile fields are not implemented"),
    ("Instance", "configuration[limited_federation]", "no federation"),
    ("Instance", "configuration[timelines_access]", "newer than the Mastodon version we advertise; every timeline is open"),
    ("Instance", "configuration[timelines_access][live_feeds]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][live_feeds][local]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][live_feeds][remote]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][hashtag_feeds]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][hashtag_feeds][local]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][hashtag_feeds][remote]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][trending_link_feeds]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][trending_link_feeds][local]", "see configuration[timelines_access]"),
    ("Instance", "configuration[timelines_access][trending_link_feeds][remote]", "see configuration[timelines_access]"),
    ("Instance", "registrations[min_age]", "no minimum age is configured"),
    ("Instance", "registrations[reason_required]", "sign-up takes no reason"),
    ("Instance", "registrations[url]", "sign-up happens here, not elsewhere"),
    ("Rule", "translations", "rules are configured in one language: there are no translations"),
    ("StatusEdit", "quote", "optional; quote posts are not implemented"),
    ("StatusEdit", "poll.options[]", "the docs' dotted name for poll[options], sent inside `poll` (checked as a whole)"),
    ("StatusEdit", "poll.options[].title", "the docs' dotted name for each option's title, sent inside `poll`"),
    ("ScheduledStatus", "params[poll][options[]]", "the docs' name for params[poll][options], which is sent"),
];

/// Fields holdfast sends that the entity's docs do not list: (entity, field, why).
#[rustfmt::skip]
const EXTRA: &[(&str, &str, &str)] = &[
    ("Status::Tag", "id", "the tag's id, as Tag has it: clients match a status' tags to followed tags by id"),
    ("MediaAttachment", "preview_remote_url", "Mastodon's serializer sends it (null for local media)"),
    ("V1_Instance", "configuration[media_attachments][description_limit]", "as in v2; clients size the alt-text box with it"),
    ("Error", "details", "Mastodon's validation errors send per-field ERR_* codes (ValidationErrorFormatter)"),
    ("MediaAttachment", "meta[original]", "what processing measured, as in Mastodon's meta hash (the docs describe it in prose)"),
    ("MediaAttachment", "meta[small]", "the preview's size, as in Mastodon's meta hash (the docs describe it in prose)"),
    ("ScheduledStatus", "params[poll][options]", "the poll's options, which the docs head as params[poll][options[]]"),
];

fn documented() -> BTreeMap<String, BTreeSet<String>> {
    serde_json::from_str(include_str!("mastodon_entity_fields.json")).expect("the fixture is JSON")
}

/// The field paths `value` has, looked into as deep as `docs` lists fields.
fn paths(value: &Value, prefix: &str, docs: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let Value::Object(map) = value else { return };
    for (key, v) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}[{key}]")
        };
        let inner = format!("{path}[");
        let looked_into = v.is_object() && docs.iter().any(|d| d.starts_with(&inner));
        if looked_into {
            paths(v, &path, docs, out);
        }
        // A list of objects the docs describe field by field (`history[][day]`): its first item.
        let items = format!("{path}[]");
        if let (Value::Array(list), true) = (v, docs.iter().any(|d| d.starts_with(&items))) {
            if let Some(first) = list.first() {
                paths(first, &items, docs, out);
            }
        }
        // An object whose own heading the docs skip (`configuration[vapid]`) counts through its fields.
        if !looked_into || docs.contains(&path) {
            out.insert(path);
        }
    }
}

/// Checks one rendering of `entity` (merged with `also`'s docs, for the
/// entities the docs define as another plus fields).
fn check(entity: &str, also: &[&str], sample: impl Serialize) -> Vec<String> {
    let all = documented();
    let mut docs: BTreeSet<String> = all
        .get(entity)
        .unwrap_or_else(|| panic!("{entity} is not in the fixture"))
        .clone();
    for other in also {
        docs.extend(all[*other].iter().cloned());
    }
    let owners: Vec<&str> = std::iter::once(entity)
        .chain(also.iter().copied())
        .collect();
    let value = serde_json::to_value(&sample).expect("entities serialize");
    let mut sent = BTreeSet::new();
    paths(&value, "", &docs, &mut sent);
    let not_sent: BTreeSet<String> = NOT_SENT
        .iter()
        .filter(|(e, _, _)| owners.contains(e))
        .map(|(_, f, _)| f.to_string())
        .collect();
    let extra: BTreeSet<String> = EXTRA
        .iter()
        .filter(|(e, _, _)| owners.contains(e))
        .map(|(_, f, _)| f.to_string())
        .collect();
    let mut problems = Vec::new();
    for f in docs.difference(&sent) {
        if !not_sent.contains(f) {
            problems.push(format!("{entity}: documented field `{f}` is not sent (send it, or list it in NOT_SENT with the reason)"));
        }
    }
    for f in sent.difference(&docs) {
        if !extra.contains(f) {
            problems.push(format!("{entity}: sends `{f}`, which the docs do not list (misspelt? else list it in EXTRA with the reason)"));
        }
    }
    for f in not_sent.intersection(&sent) {
        problems.push(format!("{entity}: `{f}` is listed in NOT_SENT but is sent"));
    }
    for f in not_sent.difference(&docs) {
        problems.push(format!(
            "{entity}: `{f}` is listed in NOT_SENT but the docs do not list it"
        ));
    }
    problems
}

// ---------------------------------------------------------------- samples
// Every optional part is filled in, so fields skipped when absent appear.

fn urls() -> Urls {
    Urls::new(
        "https://example.test",
        std::sync::Arc::new(holdfast_service::rendered::RenderedNotes::new(8)),
    )
}

fn account_row(id: i64) -> AccountRow {
    AccountRow {
        id,
        username: format!("user{id}"),
        display_name: "A user".into(),
        note: "Hello #world".into(),
        locked: false,
        bot: false,
        discoverable: true,
        created_at_ms: 1_700_000_000_000,
        suspended: false,
        approved: true,
        followers_count: 1,
        following_count: 2,
        statuses_count: 3,
        last_status_at_ms: Some(1_700_000_000_000),
        default_visibility: Visibility::Public,
        default_sensitive: false,
        default_language: Some("en".into()),
        avatar_key: Some("avatar.png".into()),
        header_key: None,
        role: holdfast_store::Role::Moderator,
        version: 0,
    }
}

fn media_row() -> MediaRow {
    MediaRow {
        id: 7,
        account_id: 1,
        status_id: Some(10),
        kind: "image".into(),
        description: Some("a cat".into()),
        focus: Some((0.5, -0.5)),
        meta: r#"{"original":{"width":2,"height":1},"small":{"width":2,"height":1}}"#.into(),
        blurhash: Some("LEHV6nWB2yk8".into()),
        file_key: "f.png".into(),
        preview_key: "p.png".into(),
        created_at_ms: 1_700_000_000_000,
    }
}

fn filter_row() -> FilterRow {
    FilterRow {
        id: 4,
        title: "cats".into(),
        contexts: vec![FilterContext::Home, FilterContext::Public],
        action: FilterAction::Warn,
        expires_at_ms: Some(1_700_000_000_000),
        keywords: vec![FilterKeywordRow {
            id: 6,
            filter_id: 4,
            keyword: "cat".into(),
            whole_word: true,
        }],
        statuses: vec![FilterStatusRow {
            id: 7,
            filter_id: 4,
            status_id: 10,
        }],
    }
}

fn bundle(id: i64, reblog: Option<StatusBundle>) -> StatusBundle {
    StatusBundle {
        status: StatusRow {
            id,
            account_id: 1,
            text: "hi @user2 #tag".into(),
            content: "<p>hi</p>".into(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: Visibility::Public,
            language: Some("en".into()),
            in_reply_to_id: Some(9),
            in_reply_to_account_id: Some(2),
            reblog_of_id: reblog.as_ref().map(|r| r.status.id),
            app_name: Some("an app".into()),
            app_website: None,
            replies_count: 0,
            reblogs_count: 1,
            favourites_count: 2,
            created_at_ms: 1_700_000_000_000,
            edited_at_ms: Some(1_700_000_000_500),
            version: 0,
        },
        account: account_row(1),
        mentions: vec![account_row(2)],
        tags: vec![TagRef {
            id: 5,
            name: "tag".into(),
        }],
        favourited: true,
        reblogged: false,
        bookmarked: false,
        muted: false,
        media: vec![media_row()],
        reblog: reblog.map(Box::new),
        filtered: Vec::new(),
        pinned: false,
        poll: Some(poll_view()),
    }
}

fn poll_view() -> PollView {
    PollView {
        id: 30,
        status_id: 10,
        account_id: 1,
        options: vec![
            PollOptionRow {
                title: "yes".into(),
                votes_count: 2,
            },
            PollOptionRow {
                title: "no".into(),
                votes_count: 1,
            },
        ],
        multiple: true,
        hide_totals: false,
        expires_at_ms: 1_700_000_000_000,
        votes_count: 3,
        voters_count: 2,
        own_votes: vec![0],
    }
}

fn notification_view() -> NotificationView {
    NotificationView {
        row: NotificationRow {
            id: 20,
            kind: NotificationType::Mention,
            created_at_ms: 1_700_000_000_000,
            from_account_id: 1,
            status_id: Some(10),
            report_id: None,
            group_key: Some("ungrouped-20".into()),
        },
        account: account_row(1),
        status: Some(bundle(10, None)),
        report: None,
    }
}

fn grouped() -> GroupedNotifications {
    GroupedNotifications {
        groups: vec![Group {
            group_key: "favourite-10-1".into(),
            kind: NotificationType::Favourite,
            count: 2,
            most_recent_id: 21,
            page: Some(GroupPageData {
                min_id: 20,
                max_id: 21,
                latest_at_ms: 1_700_000_000_000,
            }),
            sample_account_ids: vec![1, 2],
            status_id: Some(10),
            report_id: None,
        }],
        accounts: vec![account_row(1)],
        partial_accounts: vec![account_row(2)],
        statuses: vec![bundle(10, None)],
        reports: vec![],
    }
}

fn instance_facts<'a>(
    limits: &'a Limits,
    urls: &'a Urls,
    rules: &'a [holdfast_store::RuleRow],
) -> InstanceFacts<'a> {
    InstanceFacts {
        domain: "example.test",
        registrations: Registrations::Open,
        contact_email: "admin@example.test",
        limits,
        urls,
        version: "4.3.0 (compatible; holdfast)".into(),
        description: "a test",
        users: 1,
        statuses: 2,
        vapid_public_key: "BPub".into(),
        rules,
    }
}

// ---------------------------------------------------------------- the check

#[test]
fn every_entity_has_the_documented_fields() {
    let u = urls();
    let limits = Limits::default();
    let texts = InstanceTexts {
        extended_description: "About us".into(),
        privacy_policy: "Private".into(),
        terms_of_service: "Be nice".into(),
        terms_of_service_effective_date: "2025-01-01".into(),
        rules: vec![],
        loaded_at_ms: 1_700_000_000_000,
    };
    let rules = vec![holdfast_store::RuleRow {
        id: 1,
        priority: 1,
        text: "be kind".into(),
        hint: "to everyone".into(),
        created_at_ms: 1_700_000_000_000,
        updated_at_ms: 1_700_000_000_000,
        deleted_at_ms: None,
    }];
    let facts = instance_facts(&limits, &u, &rules);
    let status = Status::new(&u, &bundle(10, None));
    let mut problems = Vec::new();
    problems.extend(check("Account", &[], Account::new(&u, &account_row(1))));
    problems.extend(check(
        "CredentialAccount",
        &["Account"],
        CredentialAccount::new(&u, &account_row(1)),
    ));
    problems.extend(check(
        "MutedAccount",
        &["Account"],
        MutedAccount::new(&u, &account_row(1), Some(1_700_000_000_000)),
    ));
    problems.extend(check(
        "PartialAccountWithAvatar",
        &[],
        PartialAccountWithAvatar::new(&u, &account_row(1)),
    ));
    problems.extend(check(
        "Field",
        &[],
        Field {
            name: "n".into(),
            value: "v".into(),
            verified_at: None,
        },
    ));
    problems.extend(check(
        "AccountRole",
        &[],
        AccountRole {
            id: "1".into(),
            name: "n".into(),
            color: String::new(),
        },
    ));
    problems.extend(check(
        "CustomEmoji",
        &[],
        CustomEmoji {
            shortcode: "s".into(),
            url: "u".into(),
            static_url: "u".into(),
            visible_in_picker: true,
            category: None,
        },
    ));
    problems.extend(check(
        "Role",
        &[],
        CredentialAccount::new(&u, &account_row(1)).role,
    ));
    let rel = RelationshipRow {
        id: 2,
        following: true,
        showing_reblogs: true,
        notifying: false,
        followed_by: false,
        blocking: false,
        blocked_by: false,
        muting: false,
        muting_notifications: false,
        requested: false,
        requested_by: false,
        endorsed: false,
        note: "a note".into(),
    };
    problems.extend(check("Relationship", &[], Relationship::new(&rel)));
    problems.extend(check("Preferences", &[], Preferences::new(&account_row(1))));
    // `text` is sent only in the answer to a delete: that rendering has every field.
    let reblog = bundle(11, Some(bundle(10, None)));
    problems.extend(check("Status", &[], Status::deleted(&u, &reblog)));
    problems.extend(check("Status::Mention", &[], &status.shared.mentions[0]));
    problems.extend(check("Status::Tag", &[], &status.shared.tags[0]));
    problems.extend(check(
        "MediaAttachment",
        &[],
        MediaAttachment::new(&u, &media_row()),
    ));
    problems.extend(check(
        "Context",
        &[],
        Context {
            ancestors: vec![],
            descendants: vec![],
        },
    ));
    let tag = TagRow {
        id: Some(5),
        name: "tag".into(),
        uses_last_week: 1,
        accounts_last_week: 1,
    };
    let tag = TagView {
        tag,
        history: vec![TagUse {
            day_start_s: 86_400,
            uses: 2,
            accounts: 1,
        }],
        following: true,
        featuring: Some(true),
    };
    problems.extend(check("Tag", &[], Tag::new(&u, &tag)));
    let results = SearchResults {
        accounts: vec![account_row(1)],
        statuses: vec![bundle(10, None)],
        hashtags: vec![tag.tag.clone()],
    };
    problems.extend(check(
        "Search",
        &[],
        Search::new(&u, &results, std::slice::from_ref(&tag)),
    ));
    problems.extend(check(
        "FeaturedTag",
        &[],
        FeaturedTag::new(
            &u,
            "user1",
            &FeaturedTagRow {
                id: 3,
                name: "tag".into(),
                statuses_count: 1,
                last_status_at_ms: Some(1),
            },
        ),
    ));
    problems.extend(check(
        "Notification",
        &[],
        Notification::new(&u, &notification_view()),
    ));
    let groups = GroupedNotificationsResults::new(&u, &grouped(), true);
    problems.extend(check(
        "NotificationGroup",
        &[],
        &groups.notification_groups[0],
    ));
    problems.extend(check("GroupedNotificationsResults", &[], &groups));
    problems.extend(check(
        "Marker",
        &[],
        Marker {
            last_read_id: "1".into(),
            version: 1,
            updated_at: iso8601(0),
        },
    ));
    let app = Application::new(
        1,
        "app",
        Some("https://app.test"),
        "read write",
        &["urn:ietf:wg:oauth:2.0:oob".into()],
        "BKey".into(),
    );
    problems.extend(check("Application", &[], &app));
    problems.extend(check(
        "CredentialApplication",
        &["Application"],
        CredentialApplication {
            application: app,
            client_id: "id".into(),
            client_secret: "secret".into(),
            client_secret_expires_at: 0,
        },
    ));
    let token = IssuedToken {
        access_token: "t".into(),
        scopes: Scopes::parse("read").expect("read is a scope"),
        created_at_s: 1,
    };
    problems.extend(check("Token", &[], Token::new(&token)));
    problems.extend(check(
        "Error",
        &[],
        Error {
            error: "Validation failed".into(),
            error_description: Some("why".into()),
            details: Some(BTreeMap::from([(
                "username".to_owned(),
                vec![ErrorDetail {
                    error: "ERR_TAKEN".into(),
                    description: "is taken".into(),
                }],
            )])),
        },
    ));
    problems.extend(check("Instance", &[], Instance::new(&facts)));
    problems.extend(check("V1_Instance", &[], V1Instance::new(&facts)));
    problems.extend(check("Rule", &[], &Rule::all(&rules)[0]));
    problems.extend(check(
        "ExtendedDescription",
        &[],
        ExtendedDescription::new(&texts),
    ));
    problems.extend(check("PrivacyPolicy", &[], PrivacyPolicy::new(&texts)));
    problems.extend(check(
        "TermsOfService",
        &[],
        TermsOfService::new(&texts, 1_700_000_000_000),
    ));
    let filter = filter_row();
    problems.extend(check("Filter", &[], Filter::new(&filter)));
    problems.extend(check(
        "FilterKeyword",
        &[],
        FilterKeyword::new(&filter.keywords[0]),
    ));
    problems.extend(check(
        "FilterStatus",
        &[],
        FilterStatus::new(&filter.statuses[0]),
    ));
    let hit = FilterMatch {
        filter: filter.clone(),
        keyword_matches: vec!["cat".into()],
        status_matches: vec![10],
    };
    problems.extend(check("FilterResult", &[], FilterResult::new(&hit)));
    problems.extend(check(
        "V1_Filter",
        &[],
        V1Filter::new(&holdfast_service::filters::V1Filter {
            keyword: filter.keywords[0].clone(),
            filter: filter.clone(),
        }),
    ));
    let policy = NotificationPolicyRow::default();
    let pending = PendingSummary::default();
    problems.extend(check(
        "NotificationPolicy",
        &[],
        NotificationPolicy::new(&policy, &pending),
    ));
    problems.extend(check(
        "V1_NotificationPolicy",
        &[],
        V1NotificationPolicy::new(&policy, &pending),
    ));
    problems.extend(check(
        "NotificationRequest",
        &[],
        NotificationRequest::new(
            &u,
            &holdfast_service::notification_policies::RequestView {
                row: NotificationRequestRow {
                    id: 5,
                    from_account_id: 1,
                    last_status_id: Some(10),
                    notifications_count: 2,
                    created_at_ms: 1_700_000_000_000,
                    updated_at_ms: 1_700_000_000_000,
                },
                account: account_row(1),
                last_status: Some(bundle(10, None)),
            },
        ),
    ));
    problems.extend(check(
        "List",
        &[],
        List::new(&ListRow {
            id: 3,
            title: "friends".into(),
            replies_policy: RepliesPolicy::List,
            exclusive: false,
        }),
    ));
    problems.extend(check(
        "Suggestion",
        &[],
        Suggestion::new(
            &u,
            &SuggestedAccount {
                account: account_row(2),
                source: SuggestionSource::FriendsOfFriends,
            },
        ),
    ));
    problems.extend(check(
        "FamiliarFollowers",
        &[],
        FamiliarFollowers::new(&u, 2, &[account_row(1)]),
    ));
    problems.extend(check(
        "Conversation",
        &[],
        Conversation::new(
            &u,
            &ConversationView {
                id: 1,
                unread: true,
                accounts: vec![account_row(2)],
                last_status: Some(bundle(10, None)),
            },
        ),
    ));
    problems.extend(check("Poll", &[], Poll::new(&poll_view())));
    let edited = bundle(10, None);
    let versions = [StatusVersion {
        content: "<p>hi</p>".into(),
        spoiler_text: String::new(),
        sensitive: false,
        created_at_ms: 1_700_000_000_000,
        media: vec![media_row()],
        poll_options: Some(vec!["yes".into(), "no".into()]),
    }];
    problems.extend(check(
        "StatusEdit",
        &[],
        &StatusEdit::list(&u, &edited, &versions)[0],
    ));
    problems.extend(check("StatusSource", &[], StatusSource::new(&edited)));
    let scheduled = ScheduledStatusRow {
        id: 40,
        account_id: 1,
        scheduled_at_ms: 1_700_000_000_000,
        text: "later".into(),
        spoiler_text: "cw".into(),
        sensitive: true,
        visibility: Visibility::Public,
        language: Some("en".into()),
        in_reply_to_id: Some(9),
        app_id: Some(3),
        idempotency_key: Some("k".into()),
        media_ids: vec![7],
        media: vec![media_row()],
        poll: Some(NewPoll {
            options: vec!["a".into(), "b".into()],
            expires_in_s: 600,
            multiple: false,
            hide_totals: false,
        }),
    };
    problems.extend(check(
        "ScheduledStatus",
        &[],
        ScheduledStatus::new(&u, &scheduled),
    ));
    // moderation (admin, issue 14)
    let admin_account = holdfast_store::AdminAccountRow {
        account: account_row(1),
        email: "a@example.test".into(),
        silenced: false,
        sensitized: false,
        disabled: false,
        sign_up_ip: Some("127.0.0.1".into()),
    };
    let report = holdfast_store::ReportRow {
        id: 5,
        account_id: 1,
        target_account_id: 2,
        status_ids: vec![10],
        comment: "spam".into(),
        category: "violation".into(),
        forwarded: false,
        rule_ids: vec!["1".into()],
        assigned_account_id: Some(1),
        action_taken_at_ms: Some(1_700_000_000_000),
        action_taken_by_account_id: Some(1),
        resolution_note: "done".into(),
        created_at_ms: 1_700_000_000_000,
        updated_at_ms: 1_700_000_000_000,
    };
    problems.extend(check(
        "Report",
        &[],
        Report::new(&u, &report, &account_row(2)),
    ));
    problems.extend(check(
        "Admin_Account",
        &[],
        AdminAccount::new(&u, &admin_account),
    ));
    problems.extend(check(
        "Admin_Ip",
        &[],
        &AdminAccount::new(&u, &admin_account).ips[0],
    ));
    let view = holdfast_service::moderation::ReportView {
        report: report.clone(),
        account: admin_account.clone(),
        target: admin_account.clone(),
        assigned: Some(admin_account.clone()),
        action_taken_by: Some(admin_account.clone()),
        statuses: vec![bundle(10, None)],
        rules: rules.clone(),
    };
    problems.extend(check("Admin_Report", &[], AdminReport::new(&u, &view)));
    problems.extend(check(
        "Admin_DomainBlock",
        &[],
        AdminDomainBlock::new(&holdfast_store::DomainBlockRow {
            id: 1,
            domain: "example.test".into(),
            severity: "suspend".into(),
            reject_media: true,
            reject_reports: true,
            private_comment: Some("p".into()),
            public_comment: Some("q".into()),
            obfuscate: false,
            created_at_ms: 1_700_000_000_000,
        }),
    ));
    problems.extend(check(
        "Admin_IpBlock",
        &[],
        AdminIpBlock::new(&holdfast_store::IpBlockRow {
            id: 1,
            ip: "10.0.0.0/8".into(),
            severity: "no_access".into(),
            comment: "c".into(),
            created_at_ms: 1_700_000_000_000,
            expires_at_ms: Some(1_800_000_000_000),
        }),
    ));
    let announcement = Announcement::new(&holdfast_store::AnnouncementRow {
        id: 1,
        text: "hi".into(),
        content: "<p>hi</p>".into(),
        starts_at_ms: Some(1_700_000_000_000),
        ends_at_ms: Some(1_800_000_000_000),
        all_day: false,
        published: true,
        published_at_ms: 1_700_000_000_000,
        updated_at_ms: 1_700_000_000_000,
        read: false,
        reactions: vec![("👍".into(), 2, true)],
    });
    problems.extend(check("Reaction", &[], &announcement.reactions[0]));
    problems.extend(check("Announcement", &[], announcement));
    problems.extend(collection_entities(&u));
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

// ---- api: Profile and collections (issue 14) ----
fn collection_entities(u: &Urls) -> Vec<String> {
    use holdfast_service::collections::{CollectionView, CollectionWithAccounts as WithAccounts};
    use holdfast_store::{CollectionFields, CollectionItemRow, CollectionRow};
    let mut problems = check("Profile", &[], Profile::new(u, &account_row(1)));
    let item = CollectionItemRow {
        id: 3,
        collection_id: 2,
        account_id: 4,
        created_at_ms: 1_700_000_000_000,
    };
    let view = CollectionView {
        collection: CollectionRow {
            id: 2,
            account_id: 1,
            fields: CollectionFields {
                name: "People".into(),
                description: "Worth following".into(),
                language: Some("en".into()),
                tag_name: Some("people".into()),
                sensitive: false,
                discoverable: true,
            },
            created_at_ms: 1_700_000_000_000,
            updated_at_ms: 1_700_000_000_000,
        },
        items: vec![item.clone()],
    };
    let collection = Collection::new(u, &view);
    problems.extend(check("ShallowTag", &[], &collection.tag));
    problems.extend(check("CollectionItem", &[], &collection.items[0]));
    problems.extend(check("Collection", &[], &collection));
    problems.extend(check(
        "WrappedCollection",
        &[],
        WrappedCollection::new(u, &view),
    ));
    problems.extend(check(
        "Collections",
        &[],
        Collections::new(u, std::slice::from_ref(&view)),
    ));
    problems.extend(check(
        "WrappedCollectionItem",
        &[],
        WrappedCollectionItem::new(&item),
    ));
    problems.extend(check(
        "CollectionWithAccounts",
        &[],
        CollectionWithAccounts::new(
            u,
            &WithAccounts {
                view,
                accounts: vec![account_row(1), account_row(4)],
            },
        ),
    ));
    problems
}

#[test]
fn every_exception_has_a_reason() {
    for (entity, field, why) in NOT_SENT.iter().chain(EXTRA) {
        assert!(!why.trim().is_empty(), "{entity}.{field} needs a reason");
    }
}

/// A page of statuses written from kept fragments (`rendered`, issue 10) is
/// byte for byte the serialized `Status` list: when rendered, when taken
/// from the kept fragments, and again after a row changed (a new version
/// renders afresh; the old fragment is not used).
#[test]
fn a_page_written_from_kept_fragments_is_the_serialized_status_list() {
    use holdfast_api::rendered::Rendered;
    let u = urls();
    let mut filtered = bundle(11, Some(bundle(10, None)));
    filtered.filtered = vec![FilterMatch {
        filter: filter_row(),
        keyword_matches: vec!["cat".into()],
        status_matches: vec![10],
    }];
    let mut page = vec![bundle(12, None), filtered];
    let rendered = Rendered::new(100);
    let expected = |page: &[StatusBundle]| serde_json::to_vec(&Status::list(&u, page)).unwrap();
    assert_eq!(
        String::from_utf8(rendered.statuses_json(&u, &page)).unwrap(),
        String::from_utf8(expected(&page)).unwrap(),
        "first render"
    );
    assert_eq!(
        rendered.statuses_json(&u, &page),
        expected(&page),
        "from the cache"
    );
    let (statuses, accounts) = rendered.counts();
    assert_eq!((statuses.hits, statuses.misses), (3, 3));
    assert!(accounts.hits >= 3, "{accounts:?}");
    // A favourite elsewhere and a new display name: new versions, new JSON.
    page[0].status.favourites_count += 1;
    page[0].status.version += 1;
    page[0].account.display_name = "Renamed".into();
    page[0].account.version += 1;
    page[0].favourited = false;
    let fresh = rendered.statuses_json(&u, &page);
    assert_eq!(fresh, expected(&page), "after a change");
    let text = String::from_utf8(fresh).unwrap();
    assert!(text.contains("\"favourites_count\":3") && text.contains("Renamed"));
    // Kept fragments of an old version are never used for it again.
    page[0].status.favourites_count -= 1;
    page[0].status.version += 1;
    assert_eq!(rendered.statuses_json(&u, &page), expected(&page));
}

/// A home page whose statuses came as kept fragments (`holdfast_store::kept`,
/// issue 10) is written as the same bytes as the same page read as rows, and
/// so is a page mixing both: the fragments carry the status and account, the
/// page carries the viewer's own part (flags, poll).
#[test]
fn a_page_of_kept_fragments_is_the_serialized_status_list() {
    use holdfast_api::rendered::Rendered;
    use holdfast_store::{KeptJson, KeptStatus, PageStatus};
    use std::sync::Arc;
    let u = urls();
    let kept = Arc::new(KeptJson::new(100));
    let rendered = Rendered::sharing(kept.clone());
    let mut page = vec![bundle(12, None), bundle(11, Some(bundle(10, None)))];
    page[0].bookmarked = true;
    page[0].poll = None;
    page[1].favourited = false;
    page[1].reblog.as_mut().unwrap().pinned = true;
    let expected = serde_json::to_vec(&Status::list(&u, &page)).unwrap();
    assert_eq!(
        rendered.statuses_json(&u, &page),
        expected,
        "rendered and kept"
    );
    fn as_kept(kept: &KeptJson, b: &StatusBundle) -> KeptStatus {
        KeptStatus {
            id: b.status.id,
            shared: kept.status(b.status.id, b.status.version).unwrap(),
            account: kept.account(b.account.id, b.account.version).unwrap(),
            reblog: b.reblog.as_deref().map(|r| Box::new(as_kept(kept, r))),
            poll: b.poll.clone(),
            favourited: b.favourited,
            reblogged: b.reblogged,
            bookmarked: b.bookmarked,
            muted: b.muted,
            pinned: b.pinned,
        }
    }
    let all_kept: Vec<PageStatus> = page
        .iter()
        .map(|b| PageStatus::Kept(as_kept(&kept, b)))
        .collect();
    assert_eq!(
        String::from_utf8(rendered.page_json(&u, &all_kept)).unwrap(),
        String::from_utf8(expected.clone()).unwrap()
    );
    let mixed = vec![
        PageStatus::Rows(page[0].clone()),
        PageStatus::Kept(as_kept(&kept, &page[1])),
    ];
    assert_eq!(rendered.page_json(&u, &mixed), expected);
}
