//! Domain operations and their rules: who may do what, what is valid, what
//! a change touches. Knows nothing of HTTP or JSON (that is `holdfast-api`)
//! and nothing of SQL (that is `holdfast-store`).

pub mod accounts;
pub mod admin;
pub mod batch;
pub mod blurhash;
pub mod collections;
pub mod conversations;
pub mod discovery;
pub mod embeds;
pub mod events;
pub mod fanout;
pub mod filters;
pub mod follow_options;
pub mod imaging;
pub mod lists;
pub mod media;
pub mod moderation;
pub mod notification_groups;
pub mod notification_policies;
pub mod oauth;
pub mod personal;
pub mod posts;
pub mod push;
pub mod push_address;
pub mod push_crypto;
pub mod read_cache;
pub mod rendered;
pub mod rules;
pub mod safety;
pub mod scopes;
pub mod secrets;
pub mod statuses;
pub mod streams;
pub mod tags;
pub mod text;
pub mod threads;
pub mod token_cache;
pub mod trends;
pub mod user_lists;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use holdfast_config::Config;
use holdfast_store::{Id, MediaStore, Page, Store, StoreError};

pub use scopes::Scopes;

/// Every way an operation can fail, each mapping to one HTTP status at the edge.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400: the request is malformed (bad parameter syntax).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: does not exist, or the caller may not know it exists.
    #[error("{0}")]
    NotFound(String),
    /// 422: well-formed but invalid (too long, empty, taken).
    #[error("{0}")]
    Unprocessable(String),
    /// 422 with per-field details (Mastodon's `ValidationErrorFormatter`):
    /// every field that failed, each with its `ERR_*` codes.
    #[error("{message}")]
    Validation {
        message: String,
        details: Vec<FieldError>,
    },
    /// 503: try again later; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// An OAuth protocol error (RFC 6749 §5.2): which one, and why in words.
    #[error("{description}")]
    OAuth {
        error: OAuthError,
        description: String,
    },
    /// 500: a bug or a broken database; logged with detail, reported vaguely.
    #[error("{0}")]
    Internal(String),
}

/// The OAuth errors holdfast reports (RFC 6749 §4.1.2.1, §5.2). The
/// protocol names them; holdfast-api decides the HTTP status of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthError {
    /// The request is missing or repeats a parameter, or is otherwise malformed.
    InvalidRequest,
    /// The client is unknown or failed to authenticate.
    InvalidClient,
    /// The code, password or refresh is invalid, expired, or for another client.
    InvalidGrant,
    /// The scope is unknown, malformed, or beyond the application's.
    InvalidScope,
    /// The client may not do this (revoke another client's token).
    UnauthorizedClient,
    /// The resource owner (or the server, for a suspended account) refused.
    AccessDenied,
}

impl OAuthError {
    /// The protocol's name for it (the `error` field).
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::AccessDenied => "access_denied",
        }
    }
}

/// One failed check of one field: `field` as the client named it, `code`
/// without its `ERR_` prefix (`TAKEN`, `BLANK`, …), and Rails' wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub description: String,
}

impl ServiceError {
    pub fn not_found() -> Self {
        ServiceError::NotFound("Record not found".into())
    }
    pub fn forbidden() -> Self {
        ServiceError::Forbidden("This action is not allowed".into())
    }
    pub fn oauth(error: OAuthError, description: impl Into<String>) -> Self {
        ServiceError::OAuth {
            error,
            description: description.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::not_found(),
            StoreError::Conflict(what) => {
                ServiceError::Unprocessable(format!("Validation failed: {what} is already taken"))
            }
            StoreError::Unavailable(why) => ServiceError::Unavailable(why),
            StoreError::Internal(why) => ServiceError::Internal(why),
            StoreError::Rejected(why) => {
                ServiceError::Unprocessable(format!("Validation failed: {why}"))
            }
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Who is calling: the token's app, its scopes, and its account (None for an app-only token).
#[derive(Clone, Debug)]
pub struct Principal {
    pub token_id: Id,
    pub app_id: Id,
    pub app_name: String,
    pub app_website: Option<String>,
    /// What the app registered (for `GET /api/v1/apps/verify_credentials`).
    pub app_redirect_uris: Vec<String>,
    pub app_scopes: String,
    pub account_id: Option<Id>,
    pub scopes: Scopes,
}

/// A page of results and the cursors for the `Link` header.
#[derive(Debug)]
pub struct PageOf<T> {
    pub items: Vec<T>,
    /// `max_id` of the next (older) page, if this page had anything.
    pub next_max_id: Option<Id>,
    /// `min_id` of the previous (newer) page, if this page had anything.
    pub prev_min_id: Option<Id>,
}

impl<T> PageOf<T> {
    /// The store's page as it is, with its cursors.
    pub fn from_paged(paged: Vec<holdfast_store::Paged<T>>) -> PageOf<T> {
        let (next_max_id, prev_min_id) = (
            paged.last().map(|p| p.cursor),
            paged.first().map(|p| p.cursor),
        );
        PageOf {
            items: paged.into_iter().map(|p| p.item).collect(),
            next_max_id,
            prev_min_id,
        }
    }

    /// `items` made from the store's page, with that page's cursors.
    pub fn map_from<U>(paged: &[holdfast_store::Paged<U>], items: Vec<T>) -> PageOf<T> {
        PageOf {
            items,
            next_max_id: paged.last().map(|p| p.cursor),
            prev_min_id: paged.first().map(|p| p.cursor),
        }
    }
}

/// The domain layer, shared by every request.
#[derive(Clone)]
pub struct Service {
    /// Private: every use of the store goes through a service method, so the
    /// domain rules (visibility, validation) cannot be walked around.
    store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub passwords: secrets::PasswordPool,
    /// Where media bytes live (files on one node, PostgreSQL in a cluster).
    pub media: Arc<dyn MediaStore>,
    /// The bounded pool images are decoded on.
    pub decoder: media::DecodePool,
    /// `https://domain` (or `http://localhost:port` for a local instance): the base of every URL we render.
    pub base_url: Arc<str>,
    /// Live events for the streaming API (in process, this node).
    pub events: events::Hub,
    /// Web Push: the VAPID keys once loaded, delivery counts.
    pub push: Arc<push::PushState>,
    /// Account notes as HTML, rendered once per distinct text (bounded).
    pub rendered_notes: Arc<rendered::RenderedNotes>,
    /// Recent timeline pages, answered again while no database host answers.
    pub read_cache: Arc<read_cache::ReadCache>,
    /// Each account's active filters, compiled (bounded).
    pub filter_cache: Arc<filters::FilterCache>,
    /// The home fan-out workers' wake-up and counts (fanout, issue 10).
    pub fanout: Arc<fanout::FanoutState>,
    /// Bearer tokens proved at the current auth epoch (post, issue 10).
    pub tokens: Arc<token_cache::TokenCache>,
    /// Statuses and accounts the API rendered, kept by row version
    /// (`rendered_json_cache_max`): the API writes and reads them, and a
    /// home page's read takes them in place of rows (home, issue 10).
    pub kept_json: Arc<holdfast_store::KeptJson>,
}

impl Service {
    pub fn new(
        store: Arc<dyn Store>,
        media: Arc<dyn MediaStore>,
        config: Config,
        base_url: String,
    ) -> Service {
        let passwords = secrets::PasswordPool::new(
            config.limits.password_hash_concurrency,
            config.limits.password_hash_queue_max,
            Duration::from_millis(config.limits.password_hash_wait_ms),
        );
        let decoder = media::DecodePool::new(
            config.limits.media_decode_concurrency,
            Duration::from_millis(config.limits.media_decode_wait_ms),
        );
        let events = events::Hub::new(&config.limits);
        let rendered_notes = Arc::new(rendered::RenderedNotes::new(
            config.limits.rendered_notes_max,
        ));
        let read_cache = Arc::new(read_cache::ReadCache::new(
            config.limits.read_cache_entries_max,
            config.limits.read_cache_stale_max_s,
            config.limits.read_cache_tombstones_max,
            Duration::from_millis(config.limits.request_timeout_ms),
        ));
        // A status deleted or edited on any node (the event feed brings the
        // others' events) leaves this node's cached pages at once.
        let pages = Arc::downgrade(&read_cache);
        events.on_status_changed(Box::new(move |change| {
            if let Some(pages) = pages.upgrade() {
                pages.status_changed(change);
            }
        }));
        let filter_cache = Arc::new(filters::FilterCache::new(&config.limits));
        // A change made on another node drops this node's copy as soon as
        // its event arrives (the cache's lifetime bounds it otherwise).
        let cache = Arc::downgrade(&filter_cache);
        events.on_filters_changed(Box::new(move |account| {
            if let Some(cache) = cache.upgrade() {
                cache.forget(account);
            }
        }));
        let token_cache_max = config.limits.token_cache_max;
        let kept_json = Arc::new(holdfast_store::KeptJson::new(
            config.limits.rendered_json_cache_max,
        ));
        Service {
            kept_json,
            filter_cache,
            events,
            rendered_notes,
            read_cache,
            store,
            media,
            decoder,
            config: Arc::new(config),
            passwords,
            base_url: base_url.into(),
            push: Arc::default(),
            fanout: Arc::default(),
            tokens: Arc::new(token_cache::TokenCache::new(token_cache_max)),
        }
    }

    pub fn limits(&self) -> &holdfast_config::Limits {
        &self.config.limits
    }
}

/// Paging parameters as they arrive, before limits are applied.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageRequest {
    pub max_id: Option<Id>,
    pub since_id: Option<Id>,
    pub min_id: Option<Id>,
    pub limit: Option<u32>,
}

impl PageRequest {
    /// Applies the default and caps the limit (Mastodon clamps rather than
    /// refusing). A limit of 0 stays 0, an empty page, as in Mastodon.
    pub fn page(self, default: u32, max: u32) -> Page {
        let limit = self.limit.unwrap_or(default).min(max);
        Page {
            max_id: self.max_id,
            since_id: self.since_id,
            min_id: self.min_id,
            limit,
        }
    }
}
