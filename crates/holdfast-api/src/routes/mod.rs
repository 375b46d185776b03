//! Every route in one place; handlers live in one file per resource.

// Declared first: its macro (`account_page_handler!`) is used by the handler files.
#[macro_use]
mod helpers;
mod accounts;
mod admin;
mod announcements;
mod collections;
mod conversations;
mod discovery;
mod emails;
mod embeds;
mod filters;
mod fixed;
mod instance;
mod lists;
mod media;
mod notification_requests;
mod notifications;
mod oauth;
mod ops;
mod personal;
mod polls;
mod push;
mod reports;
mod safety;
mod scheduled;
mod statuses;
mod tags;
mod timelines;
mod trends;
mod web;
mod well_known;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::error::ApiError;
use crate::AppState;

pub fn router(limits: &holdfast_config::Limits, state: &AppState) -> Router<AppState> {
    // Forms that carry credentials are small; a tighter body cap here means a
    // log-in or sign-up flood cannot make the server buffer large bodies.
    let credentials = Router::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize_form).post(oauth::authorize),
        )
        .route(
            "/oauth/authorize/",
            get(oauth::authorize_form).post(oauth::authorize),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route(
            "/oauth/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/api/v1/apps", post(oauth::create_app))
        .route(
            "/api/v1/accounts",
            get(accounts::index).post(accounts::sign_up),
        )
        .layer(DefaultBodyLimit::max(limits.credentials_body_max_bytes));
    // Routes that take pictures get the media body cap; everything else keeps the small one.
    let uploads = Router::new()
        .route("/api/v1/media", post(media::create))
        .route("/api/v2/media", post(media::create))
        // PUT may carry a `thumbnail`.
        .route(
            "/api/v1/media/{id}",
            get(media::show).put(media::update).delete(media::delete),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            axum::routing::patch(accounts::update_credentials),
        )
        // ---- api: the profile (issue 14); PATCH may carry pictures ----
        .route(
            "/api/v1/profile",
            get(accounts::profile).patch(accounts::update_profile),
        )
        .layer(DefaultBodyLimit::max(limits.media_upload_body_max_bytes))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_in_before_body,
        ));
    Router::new()
        .merge(credentials)
        .merge(uploads)
        .merge(web_pages(limits))
        // operators
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/status", get(ops::status_page))
        .route("/status.json", get(ops::status_json))
        // web
        .route("/", get(crate::web::timeline::landing))
        .route("/avatars/original/missing.png", get(web::missing_image))
        .route("/headers/original/missing.png", get(web::missing_image))
        // OAuth 2 (the credential forms are above)
        .route("/api/v1/apps/verify_credentials", get(oauth::verify_app))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::server_metadata),
        )
        // instance
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/v1/instance/", get(instance::v1))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v2/instance/", get(instance::v2))
        // streaming (SSE under the path, WebSocket at the root)
        .route("/api/v1/streaming", get(crate::streaming::websocket))
        .route("/api/v1/streaming/", get(crate::streaming::websocket))
        .route("/api/v1/streaming/{*path}", get(crate::streaming::sse))
        .route("/api/v1/instance/peers", get(instance::empty_list))
        .route("/api/v1/instance/activity", get(instance::empty_list))
        .route("/api/v1/instance/rules", get(instance::rules_list))
        .route("/api/v1/custom_emojis", get(instance::empty_list))
        .route(
            "/api/v1/instance/extended_description",
            get(instance::extended_description),
        )
        .route(
            "/api/v1/instance/privacy_policy",
            get(instance::privacy_policy),
        )
        .route(
            "/api/v1/instance/terms_of_service",
            get(instance::terms_of_service),
        )
        .route(
            "/api/v1/instance/terms_of_service/{date}",
            get(instance::terms_of_service_on),
        )
        // holdfast does not federate, so it blocks no domains and knows no peers
        .route("/api/v1/instance/domain_blocks", get(instance::empty_list))
        .route(
            "/api/v1/instance/translation_languages",
            get(instance::translation_languages),
        )
        // discovery: WebFinger, host-meta, NodeInfo, trends
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_index))
        .route("/nodeinfo/2.0", get(well_known::nodeinfo))
        .route("/api/v1/trends", get(trends::trending_tags))
        .route("/api/v1/trends/tags", get(trends::trending_tags))
        .route("/api/v1/trends/statuses", get(trends::trending_statuses))
        .route("/api/v1/trends/links", get(trends::trending_links))
        .route("/api/v1/announcements", get(announcements::list))
        .route(
            "/api/v1/announcements/{id}/dismiss",
            post(announcements::dismiss),
        )
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            axum::routing::put(announcements::add_reaction).delete(announcements::remove_reaction),
        )
        .route("/api/v1/preferences", get(accounts::preferences))
        // accounts
        .route(
            "/api/v1/accounts/verify_credentials",
            get(accounts::verify_credentials),
        )
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        .route(
            "/api/v1/accounts/relationships",
            get(accounts::relationships),
        )
        .route("/api/v1/accounts/{id}", get(accounts::show))
        .route(
            "/api/v1/accounts/{id}/statuses",
            get(timelines::account_statuses),
        )
        .route("/api/v1/accounts/{id}/followers", get(accounts::followers))
        .route("/api/v1/accounts/{id}/following", get(accounts::following))
        .route("/api/v1/accounts/{id}/follow", post(accounts::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(accounts::unfollow))
        .route("/api/v1/accounts/{id}/block", post(accounts::block))
        .route("/api/v1/accounts/{id}/unblock", post(accounts::unblock))
        .route("/api/v1/accounts/{id}/mute", post(accounts::mute))
        .route("/api/v1/accounts/{id}/unmute", post(accounts::unmute))
        // blocks, mutes, follow requests
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(safety::remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/lists", get(lists::containing))
        .route("/api/v1/accounts/search", get(discovery::search))
        .route(
            "/api/v1/accounts/familiar_followers",
            get(discovery::familiar_followers),
        )
        .route("/api/v1/directory", get(discovery::directory))
        .route("/api/v1/suggestions", get(discovery::suggestions_v1))
        .route("/api/v2/suggestions", get(discovery::suggestions_v2))
        .route(
            "/api/v1/suggestions/{id}",
            axum::routing::delete(conversations::dismiss_suggestion),
        )
        .route("/api/v1/accounts/{id}/note", post(personal::note))
        .route("/api/v1/accounts/{id}/pin", post(personal::pin))
        .route("/api/v1/accounts/{id}/unpin", post(personal::unpin))
        .route("/api/v1/endorsements", get(personal::endorsements))
        .route(
            "/api/v1/domain_blocks",
            get(personal::domain_blocks)
                .post(personal::block_domain)
                .delete(personal::unblock_domain),
        )
        .route("/api/v1/blocks", get(safety::blocks))
        .route("/api/v1/mutes", get(safety::mutes))
        .route("/api/v1/follow_requests", get(safety::follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(safety::authorize_follow_request),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            post(safety::reject_follow_request),
        )
        // media (uploads and /api/v1/media/{id} are above, under the media body cap)
        .route(
            "/api/v1/profile/avatar",
            axum::routing::delete(media::delete_avatar),
        )
        .route(
            "/api/v1/profile/header",
            axum::routing::delete(media::delete_header),
        )
        .route("/system/media/{key}", get(media::serve))
        // statuses
        .route(
            "/api/v1/statuses",
            get(statuses::index).post(statuses::create),
        )
        .route(
            "/api/v1/statuses/{id}",
            get(statuses::show)
                .delete(statuses::delete)
                .put(statuses::update),
        )
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route("/api/v1/statuses/{id}/favourite", post(statuses::favourite))
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(statuses::unfavourite),
        )
        .route("/api/v1/statuses/{id}/reblog", post(statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(statuses::bookmark))
        .route(
            "/api/v1/statuses/{id}/unbookmark",
            post(statuses::unbookmark),
        )
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(statuses::reblogged_by),
        )
        // editing, pins, conversation mutes, translation, quotes (posts)
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/pin", post(statuses::pin))
        .route("/api/v1/statuses/{id}/unpin", post(statuses::unpin))
        .route("/api/v1/statuses/{id}/mute", post(statuses::mute))
        .route("/api/v1/statuses/{id}/unmute", post(statuses::unmute))
        .route("/api/v1/statuses/{id}/translate", post(statuses::translate))
        .route("/api/v1/statuses/{id}/quotes", get(statuses::quotes))
        .route(
            "/api/v1/statuses/{id}/quotes/{quoting}/revoke",
            post(statuses::revoke_quote),
        )
        // polls and scheduled statuses (posts)
        .route("/api/v1/polls/{id}", get(polls::show))
        .route("/api/v1/polls/{id}/votes", post(polls::vote))
        .route("/api/v1/scheduled_statuses", get(scheduled::index))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(scheduled::show)
                .put(scheduled::update)
                .delete(scheduled::delete),
        )
        // timelines and lists
        .route("/api/v1/timelines/home", get(timelines::home))
        .route("/api/v1/timelines/public", get(timelines::public))
        .route("/api/v1/timelines/tag/{hashtag}", get(timelines::tag))
        .route("/api/v1/timelines/list/{id}", get(timelines::list))
        .route("/api/v1/lists", get(lists::index).post(lists::create))
        .route(
            "/api/v1/lists/{id}",
            get(lists::show).put(lists::update).delete(lists::delete),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(lists::members)
                .post(lists::add_members)
                .delete(lists::remove_members),
        )
        .route("/api/v1/conversations", get(conversations::index))
        // Mastodon.py asks for `/api/v1/conversations/`; Rails takes the slash.
        .route("/api/v1/conversations/", get(conversations::index))
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(conversations::remove),
        )
        .route("/api/v1/conversations/{id}/read", post(conversations::read))
        .route("/api/v1/tags/{name}", get(tags::show))
        .route("/api/v1/tags/{name}/follow", post(tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(tags::unfollow))
        .route("/api/v1/followed_tags", get(tags::followed))
        .route(
            "/api/v1/featured_tags",
            get(tags::featured).post(tags::feature),
        )
        .route("/api/v1/featured_tags/suggestions", get(tags::suggestions))
        .route(
            "/api/v1/featured_tags/{id}",
            axum::routing::delete(tags::unfeature),
        )
        .route("/api/v1/accounts/{id}/featured_tags", get(tags::of_account))
        .route("/api/v1/favourites", get(timelines::favourites))
        .route("/api/v1/bookmarks", get(timelines::bookmarks))
        .route("/api/v2/search", get(timelines::search))
        // notifications and markers
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route(
            "/api/v1/notifications/unread_count",
            get(notifications::unread_count),
        )
        .route("/api/v2/notifications", get(notifications::grouped))
        .route(
            "/api/v2/notifications/unread_count",
            get(notifications::unread_group_count),
        )
        .route("/api/v2/notifications/{key}", get(notifications::group))
        .route(
            "/api/v2/notifications/{key}/dismiss",
            post(notifications::dismiss_group),
        )
        .route(
            "/api/v2/notifications/{key}/accounts",
            get(notifications::group_accounts),
        )
        .route("/api/v1/notifications/{id}", get(notifications::show))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(notifications::dismiss),
        )
        .route(
            "/api/v1/markers",
            get(notifications::markers).post(notifications::set_markers),
        )
        .route(
            "/api/v1/push/subscription",
            get(push::show)
                .post(push::create)
                .put(push::update)
                .delete(push::delete),
        )
        // reports, the admin API, e-mail confirmation (admin, issue 14)
        .route("/api/v1/reports", post(reports::create))
        .route(
            "/api/v1/emails/confirmations",
            post(emails::resend_confirmation),
        )
        .route(
            "/api/v1/emails/check_confirmation",
            get(emails::check_confirmation),
        )
        .route("/api/v1/admin/accounts", get(admin::accounts_v1))
        .route("/api/v2/admin/accounts", get(admin::accounts_v2))
        .route(
            "/api/v1/admin/accounts/{id}",
            get(admin::account).delete(admin::delete_account),
        )
        .route("/api/v1/admin/accounts/{id}/action", post(admin::action))
        .route("/api/v1/admin/accounts/{id}/approve", post(admin::approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(admin::reject))
        .route("/api/v1/admin/accounts/{id}/enable", post(admin::enable))
        .route(
            "/api/v1/admin/accounts/{id}/unsilence",
            post(admin::unsilence),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsuspend",
            post(admin::unsuspend),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsensitive",
            post(admin::unsensitive),
        )
        .route("/api/v1/admin/reports", get(admin::reports))
        .route(
            "/api/v1/admin/reports/{id}",
            get(admin::report).put(admin::update_report),
        )
        .route(
            "/api/v1/admin/reports/{id}/assign_to_self",
            post(admin::assign_to_self),
        )
        .route("/api/v1/admin/reports/{id}/unassign", post(admin::unassign))
        .route("/api/v1/admin/reports/{id}/resolve", post(admin::resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(admin::reopen))
        .route(
            "/api/v1/admin/domain_blocks",
            get(admin::blocks::<admin::DomainBlocks>)
                .post(admin::create_block::<admin::DomainBlocks>),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(admin::block::<admin::DomainBlocks>)
                .put(admin::update_block::<admin::DomainBlocks>)
                .delete(admin::delete_block::<admin::DomainBlocks>),
        )
        .route(
            "/api/v1/admin/ip_blocks",
            get(admin::blocks::<admin::IpBlocks>).post(admin::create_block::<admin::IpBlocks>),
        )
        .route(
            "/api/v1/admin/ip_blocks/{id}",
            get(admin::block::<admin::IpBlocks>)
                .put(admin::update_block::<admin::IpBlocks>)
                .delete(admin::delete_block::<admin::IpBlocks>),
        )
        // filters (v2, and v1's view of their keywords)
        .route("/api/v2/filters", get(filters::index).post(filters::create))
        .route(
            "/api/v2/filters/{id}",
            get(filters::show)
                .put(filters::update)
                .delete(filters::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(filters::keywords).post(filters::add_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(filters::keyword)
                .put(filters::update_keyword)
                .delete(filters::delete_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(filters::statuses).post(filters::add_status),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(filters::status).delete(filters::delete_status),
        )
        .route(
            "/api/v1/filters",
            get(filters::v1_index).post(filters::v1_create),
        )
        .route(
            "/api/v1/filters/{id}",
            get(filters::v1_show)
                .put(filters::v1_update)
                .delete(filters::v1_delete),
        )
        // notification policies and requests
        .route(
            "/api/v2/notifications/policy",
            get(notification_requests::policy).patch(notification_requests::update_policy),
        )
        .route(
            "/api/v1/notifications/policy",
            get(notification_requests::v1_policy).put(notification_requests::v1_update_policy),
        )
        .route(
            "/api/v1/notifications/requests",
            get(notification_requests::requests),
        )
        .route(
            "/api/v1/notifications/requests/merged",
            get(notification_requests::merged),
        )
        .route(
            "/api/v1/notifications/requests/accept",
            post(notification_requests::accept_many),
        )
        .route(
            "/api/v1/notifications/requests/dismiss",
            post(notification_requests::dismiss_many),
        )
        .route(
            "/api/v1/notifications/requests/{id}",
            get(notification_requests::request),
        )
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            post(notification_requests::accept),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(notification_requests::dismiss),
        )
        // ---- stream: small documented endpoints (issue 14) ----
        .route("/health", get(fixed::health))
        .route(
            "/api/v1/accounts/{id}/identity_proofs",
            get(fixed::identity_proofs),
        )
        .route("/api/v1/accounts/{id}/endorse", post(personal::pin))
        .route("/api/v1/accounts/{id}/unendorse", post(personal::unpin))
        .route(
            "/api/v1/accounts/{id}/endorsements",
            get(personal::account_endorsements),
        )
        .route("/api/v1/annual_reports", get(fixed::annual_reports))
        .route("/api/v1/annual_reports/{year}", get(fixed::annual_report))
        .route(
            "/api/v1/annual_reports/{year}/state",
            get(fixed::annual_report_state),
        )
        .route(
            "/api/v1/annual_reports/{year}/generate",
            post(fixed::generate_annual_report),
        )
        .route(
            "/api/v1/annual_reports/{year}/read",
            post(fixed::read_annual_report),
        )
        .route(
            "/api/v1_alpha/async_refreshes/{id}",
            get(fixed::async_refresh),
        )
        .route("/api/v1/timelines/link", get(fixed::link_timeline))
        // ---- api: collections, feature by tag name, direct timeline, oEmbed, interaction policies (issue 14) ----
        .route("/api/v1/collections", post(collections::create))
        .route(
            "/api/v1/collections/{id}",
            get(collections::show)
                .patch(collections::update)
                .delete(collections::delete),
        )
        .route(
            "/api/v1/collections/{id}/items",
            post(collections::add_item),
        )
        .route(
            "/api/v1/collections/{id}/items/{item}",
            axum::routing::delete(collections::remove_item),
        )
        .route(
            "/api/v1/collections/{id}/items/{item}/revoke",
            post(collections::revoke_item),
        )
        .route(
            "/api/v1/accounts/{id}/collections",
            get(collections::of_account),
        )
        .route(
            "/api/v1/accounts/{id}/in_collections",
            get(collections::featuring),
        )
        .route("/api/v1/tags/{name}/feature", post(tags::feature_by_name))
        .route(
            "/api/v1/tags/{name}/unfeature",
            post(tags::unfeature_by_name),
        )
        .route("/api/v1/timelines/direct", get(timelines::direct))
        .route("/api/oembed", get(embeds::show))
        .route(
            "/api/v1/statuses/{id}/interaction_policy",
            axum::routing::put(statuses::interaction_policy),
        )
}

/// The web UI (`crate::web`): pages, and the forms they post (each with its CSRF token).
fn web_pages(limits: &holdfast_config::Limits) -> Router<AppState> {
    use crate::web::{
        assets, auth, instance_admin, lists, moderation, people, rules, settings, timeline,
    };
    // Log-in and sign-up forms are small, like the API's credential forms.
    let credentials = Router::new()
        .route("/auth/sign_in", get(auth::sign_in_form).post(auth::sign_in))
        .route("/auth/sign_up", get(auth::sign_up_form).post(auth::sign_up))
        .layer(DefaultBodyLimit::max(limits.credentials_body_max_bytes));
    // Posting may carry a picture.
    let uploads = Router::new()
        .route("/statuses", post(timeline::post))
        .route("/settings/profile", post(settings::save_profile))
        .layer(DefaultBodyLimit::max(limits.media_upload_body_max_bytes));
    Router::new()
        .merge(credentials)
        .merge(uploads)
        .route("/auth/sign_out", post(auth::sign_out))
        .route("/assets/{file}", get(assets::serve))
        .route("/home", get(timeline::home))
        .route("/tags/{name}", get(timeline::tag))
        .route("/@{username}", get(people::profile))
        .route("/@{username}/followers", get(people::followers))
        .route("/@{username}/following", get(people::following))
        .route("/@{username}/{id}", get(timeline::thread))
        .route("/statuses/{id}/{action}", post(timeline::act))
        .route("/accounts/{id}/{action}", post(people::act))
        .route("/follow_requests", get(people::follow_requests))
        .route(
            "/follow_requests/{id}/{answer}",
            post(people::answer_follow_request),
        )
        .route("/notifications", get(people::notifications))
        .route("/search", get(people::search))
        .route("/settings", get(settings::page))
        .route("/settings/password", post(settings::change_password))
        .route(
            "/settings/sessions/{hash}/revoke",
            post(settings::end_session),
        )
        .route("/settings/apps/{id}/revoke", post(settings::revoke_app))
        .route("/settings/delete", post(settings::delete_account))
        .route("/admin/reports", get(moderation::reports))
        .route(
            "/admin/reports/{id}/{action}",
            post(moderation::act_on_report),
        )
        .route("/admin/accounts", get(moderation::accounts))
        .route(
            "/admin/accounts/{id}/{action}",
            post(moderation::act_on_account),
        )
        .route("/admin/audit", get(moderation::audit))
        .route("/home/live", get(timeline::live))
        .route("/lists", get(lists::index).post(lists::create))
        .route("/lists/{id}", get(lists::show))
        .route("/lists/{id}/{action}", post(lists::act))
        .route("/polls/{id}/vote", post(timeline::vote))
        .route(
            "/@{username}/report",
            get(people::report_form).post(people::report),
        )
        .route(
            "/admin/announcements",
            get(instance_admin::announcements).post(instance_admin::create_announcement),
        )
        .route(
            "/admin/announcements/{id}/{action}",
            post(instance_admin::act_on_announcement),
        )
        .route(
            "/admin/domain_blocks",
            get(instance_admin::domain_blocks).post(instance_admin::create_domain_block),
        )
        .route(
            "/admin/domain_blocks/{id}/{action}",
            post(instance_admin::act_on_domain_block),
        )
        .route(
            "/admin/ip_blocks",
            get(instance_admin::ip_blocks).post(instance_admin::create_ip_block),
        )
        .route(
            "/admin/ip_blocks/{id}/{action}",
            post(instance_admin::act_on_ip_block),
        )
        .route("/admin/rules", get(rules::page).post(rules::create))
        .route("/admin/rules/{id}/{action}", post(rules::act))
}

/// Routes with the large media body cap answer a caller without a valid user
/// token before a byte of the body is read: an anonymous client must not make
/// the server read and parse megabytes only to be told 401. (Scopes are still
/// checked by each handler.)
async fn signed_in_before_body(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::extract::FromRequestParts;
    use axum::response::IntoResponse;
    let (mut parts, body) = request.into_parts();
    match crate::auth::Caller::from_request_parts(&mut parts, &state).await {
        Ok(crate::auth::Caller(Some(p))) if p.account_id.is_some() => {
            // The handler's own `Caller` reuses it: one token lookup per request.
            parts.extensions.insert(p);
            next.run(axum::extract::Request::from_parts(parts, body))
                .await
        }
        Ok(crate::auth::Caller(Some(_))) => ApiError::user_required().into_response(),
        Ok(crate::auth::Caller(None)) => ApiError::unauthorized().into_response(),
        Err(e) => e.into_response(),
    }
}
